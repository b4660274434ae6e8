//! Rendering: one rendition (resize, sharpen, watermark, output colour
//! space, encode) of a developed working-space image.

use std::time::Instant;

use crate::color::space::OutputTransform;
use crate::cpu::Isa;
use crate::encode::{encode_jpeg, encode_png8, encode_tiff16, Embed, Subsampling};
use crate::error::Result;
use crate::image::RgbF32;
use crate::metadata::Metadata;
use crate::recipe::{target_size, OutputFormat, Rendered, Rendition, Timings};
use crate::stages::resize;
use crate::stages::sharpen::unsharp_mask;

/// Resize, sharpen, watermark, convert and encode one rendition of a
/// developed working-space image.
pub fn render(
    working: &RgbF32,
    rendition: &Rendition,
    metadata: &Metadata,
    timings: &mut Timings,
) -> Result<Rendered> {
    let size = target_size(rendition, working.width, working.height);
    render_at(working, rendition, metadata, size, Isa::process(), timings)
}

/// [`render`] at an explicit output `size` (width, height).
pub(crate) fn render_at(
    working: &RgbF32,
    rendition: &Rendition,
    metadata: &Metadata,
    (width, height): (usize, usize),
    isa: Isa,
    timings: &mut Timings,
) -> Result<Rendered> {
    let mut clock = Instant::now();
    let mut img = resize::resize_for(working, width, height, isa)?;
    timings.lap("resize", &mut clock);
    if let Some(s) = &rendition.sharpen {
        unsharp_mask(img.to_mut(), s)?;
    }
    if let Some(w) = &rendition.watermark {
        w.apply(img.to_mut())?;
    }
    timings.lap("finish", &mut clock);
    let out = OutputTransform::new(&rendition.color_space, rendition.intent)?.for_isa(isa);
    let meta = rendition.metadata_for(metadata);
    let embed = Embed {
        icc_profile: Some(out.profile()),
        metadata: meta.as_ref(),
    };
    let bytes = match rendition.format {
        OutputFormat::Jpeg => encode_jpeg(
            &out.to_rgb8(&img)?,
            rendition.quality,
            Subsampling::S420,
            embed,
        )?,
        OutputFormat::Png => encode_png8(&out.to_rgb8(&img)?, embed)?,
        OutputFormat::Tiff => encode_tiff16(&out.to_rgb16(&img)?, embed)?,
    };
    timings.lap("encode", &mut clock);
    Ok(Rendered {
        name: rendition.name.clone(),
        format: rendition.format,
        width: img.width,
        height: img.height,
        bytes,
        file_template: rendition.file_name.clone(),
    })
}
