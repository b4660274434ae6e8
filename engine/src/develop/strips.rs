//! Developing a recipe in strips, without the whole image in memory.
//!
//! The upright output is cut into strips of [`STRIP_ROWS`] rows. Each strip,
//! on its own rayon task, is demosaiced from the raw area (the source
//! rectangle that orientation and crop map it to, read with its real
//! neighbours), converted to the working space with exposure and tone,
//! turned upright, and then
//! - compressed as one strip of every full-size JPEG rendition (joined with
//!   restart markers at the end, see [`StripJpeg`]), and
//! - resized horizontally (Lanczos3) to the width of every smaller rendition;
//!   their vertical pass runs once all strips are done (for a plain JPEG, in
//!   bands of output rows that are converted and compressed in parallel too).
//!
//! So the largest buffers are the raw data, the horizontally resized images
//! (a third of the full image's size for a 2048-pixel rendition of a 24 MP
//! one) and the compressed outputs, and the stages run while a strip is still
//! in cache. The result is the whole-image path's
//! ([`super::whole::develop_working`] then [`super::render::render`]): the
//! same pixels for a full-size JPEG and for a smaller plain JPEG, and the same
//! separable resize (horizontal pass, then vertical) for the others.
//!
//! Recipes this cannot serve (highlight modes other than clip, auto white
//! balance, RGB data, full-size renditions that are not plain JPEG) take the
//! whole-image path instead: [`super::plan`] decides.

use std::time::Instant;

use rayon::prelude::*;

use super::count_development;
use super::render::render_at;
use crate::color::calibration::camera_to_working;
use crate::color::space::OutputTransform;
use crate::cpu::Isa;
use crate::demosaic::{AreaDemosaic, RectBuffers};
use crate::encode::{Embed, StripJpeg, Subsampling};
use crate::error::{Error, Result};
use crate::image::RgbF32;
use crate::raw::RawImage;
use crate::recipe::{target_size, OutputFormat, Recipe, Rendered, Rendition, Timings};
use crate::stages::tone::apply_tone;
use crate::stages::{crop, exposure, orient, resize, user_crop, white_balance};

/// Output rows per strip: a multiple of every JPEG MCU height and of 2.
pub const STRIP_ROWS: usize = 64;

/// Per-thread buffers reused from strip to strip (fresh allocations of this
/// size would be new pages to fault in every time).
#[derive(Default)]
struct StripBuffers {
    rect: RectBuffers,
    image: RgbF32,
    rgb8: crate::image::Rgb8,
}

/// How one rendition is made.
pub(crate) enum Plan {
    /// Full size, JPEG, straight from the strips.
    Direct(StripJpeg, OutputTransform),
    /// Smaller: resized to this size, horizontally strip by strip; a plain
    /// JPEG (`Some`) is then resized vertically and compressed band by band
    /// in parallel, others go through [`render_at`].
    Resized((usize, usize), Option<(StripJpeg, OutputTransform)>),
}

/// Develop every rendition of `recipe` in strips, each made as `plans`
/// says (the planner, [`super::plan::route`], chose this path).
pub(crate) fn develop_recipe(
    raw: &RawImage,
    recipe: &Recipe,
    plans: Vec<Plan>,
    timings: &mut Timings,
) -> Result<Vec<Rendered>> {
    let opts = &recipe.develop;
    let mut clock = Instant::now();
    let area = crop::crop_to_active_area(raw)?;
    let (cx, cy, cw, ch) = match opts.crop {
        Some(c) => user_crop::crop_pixels(area.width(), area.height(), c)?,
        None => (0, 0, area.width(), area.height()),
    };
    let orientation = opts.orientation.unwrap_or(raw.orientation);
    let (ow, oh) = if orientation.swaps_axes() {
        (ch, cw)
    } else {
        (cw, ch)
    };
    if plans.len() != recipe.renditions.len() {
        return Err(Error::InvalidParameter(
            "strip plans do not match the renditions".into(),
        ));
    }
    let mult = white_balance::multipliers(raw, opts.white_balance)?;
    let isa = Isa::for_choice(opts.simd);
    let dem = AreaDemosaic::new(&area, raw.white, mult, opts.demosaic, isa).ok_or_else(|| {
        Error::InvalidParameter("the strip path was planned for data it cannot tile".into())
    })?;
    count_development();

    let to_working = camera_to_working(raw, mult);
    let gain = exposure::gain(opts.exposure_ev);
    // One horizontally resized image per distinct rendition width.
    let mut widths: Vec<usize> = Vec::new();
    for p in &plans {
        if let Plan::Resized((w, _), _) = p {
            if !widths.contains(w) {
                widths.push(*w);
            }
        }
    }
    let mut narrow: Vec<RgbF32> = widths.iter().map(|&w| RgbF32::new(w, oh)).collect();
    let resamplers = widths
        .iter()
        .map(|&w| Ok(resize::RowResampler::new(ow, w)?.for_isa(isa)))
        .collect::<Result<Vec<_>>>()?;
    let strips = oh.div_ceil(STRIP_ROWS);
    // parts[strip][width index]: the rows of each narrow image a strip fills.
    let mut parts: Vec<Vec<&mut [f32]>> = (0..strips).map(|_| Vec::new()).collect();
    for img in &mut narrow {
        let chunk = STRIP_ROWS * img.width * 3;
        for (part, rows) in parts.iter_mut().zip(img.data.chunks_mut(chunk)) {
            part.push(rows);
        }
    }

    let encoded: Vec<Vec<Vec<u8>>> = parts
        .into_par_iter()
        .enumerate()
        .map_init(StripBuffers::default, |bufs, (i, narrow_parts)| {
            let r0 = i * STRIP_ROWS;
            let rows = STRIP_ROWS.min(oh - r0);
            // The stored rectangle that turns into output rows r0..r0 + rows.
            let (ax, ay) = orient::source_of(orientation, cw, ch, 0, r0);
            let (bx, by) = orient::source_of(orientation, cw, ch, ow - 1, r0 + rows - 1);
            let (x0, y0) = (ax.min(bx), ay.min(by));
            let (sw, sh) = (ax.abs_diff(bx) + 1, ay.abs_diff(by) + 1);
            let mut img = std::mem::take(&mut bufs.image);
            dem.rect_through(
                (cy + y0, sh),
                (cx + x0, sw),
                (&to_working, gain),
                &mut bufs.rect,
                &mut img,
            )?;
            apply_tone(&mut img, &opts.tone);
            let img = orient::apply_orientation(img, orientation);
            for (dst, rows) in narrow_parts.into_iter().zip(&resamplers) {
                rows.rows_into(&img, dst)?;
            }
            let strips = plans
                .iter()
                .filter_map(|p| match p {
                    Plan::Direct(jpeg, out) => Some((jpeg, out)),
                    Plan::Resized(..) => None,
                })
                .map(|(jpeg, out)| {
                    out.to_rgb8_into(&img, &mut bufs.rgb8)?;
                    jpeg.encode_strip(i, &bufs.rgb8)
                })
                .collect::<Result<Vec<_>>>();
            bufs.image = img;
            strips
        })
        .collect::<Result<_>>()?;
    timings.lap("develop strips", &mut clock);

    // per_rendition[k][strip]: the strips of the k-th full-size JPEG.
    let mut per_rendition: Vec<Vec<Vec<u8>>> = Vec::new();
    for strip in encoded {
        per_rendition.resize_with(strip.len(), Vec::new);
        for (list, bytes) in per_rendition.iter_mut().zip(strip) {
            list.push(bytes);
        }
    }
    let mut per_rendition = per_rendition.into_iter();
    let mut narrow: Vec<Option<RgbF32>> = narrow.into_iter().map(Some).collect();
    let mut rendered = Vec::with_capacity(plans.len());
    for (i, (rendition, p)) in recipe.renditions.iter().zip(&plans).enumerate() {
        match p {
            Plan::Direct(jpeg, out) => {
                let strips = per_rendition
                    .next()
                    .ok_or_else(|| Error::InvalidParameter("missing JPEG strips".into()))?;
                let meta = rendition.metadata_for(&raw.metadata);
                let bytes = jpeg.finish(
                    &strips,
                    Embed {
                        icc_profile: Some(out.profile()),
                        metadata: meta.as_ref(),
                    },
                )?;
                timings.lap("encode", &mut clock);
                rendered.push(Rendered {
                    name: rendition.name.clone(),
                    format: rendition.format,
                    width: ow,
                    height: oh,
                    bytes,
                    file_template: rendition.file_name.clone(),
                });
            }
            Plan::Resized(size, strips) => {
                let k = widths.iter().position(|w| *w == size.0);
                let img = k
                    .and_then(|k| narrow.get(k)?.as_ref())
                    .ok_or_else(|| Error::InvalidParameter("missing resized image".into()))?;
                match strips {
                    Some((jpeg, out)) => {
                        let meta = rendition.metadata_for(&raw.metadata);
                        let embed = Embed {
                            icc_profile: Some(out.profile()),
                            metadata: meta.as_ref(),
                        };
                        let bytes = resized_jpeg(img, *size, jpeg, out, embed, isa)?;
                        timings.lap("resize and encode", &mut clock);
                        rendered.push(Rendered {
                            name: rendition.name.clone(),
                            format: rendition.format,
                            width: size.0,
                            height: size.1,
                            bytes,
                            file_template: rendition.file_name.clone(),
                        });
                    }
                    None => {
                        // The vertical pass; the horizontal one ran on the strips.
                        let img = resize::resize_for(img, size.0, size.1, isa)?.into_owned();
                        timings.lap("resize", &mut clock);
                        rendered.push(render_at(
                            &img,
                            rendition,
                            &raw.metadata,
                            *size,
                            isa,
                            timings,
                        )?);
                        clock = Instant::now();
                    }
                }
                // Free the narrow image once no later rendition needs it.
                let later = plans[i + 1..]
                    .iter()
                    .any(|q| matches!(q, Plan::Resized((w, _), _) if *w == size.0));
                if let (false, Some(k)) = (later, k) {
                    narrow[k] = None;
                }
            }
        }
    }
    Ok(rendered)
}

/// A plain JPEG rendition of `narrow` (horizontally resized already) at
/// `(w, h)`: bands of [`STRIP_ROWS`] output rows resized vertically, clipped,
/// converted and compressed in parallel, then joined — the same pixels as
/// [`resize::resize_to`] and one JPEG of the whole, without the resized
/// image in memory.
fn resized_jpeg(
    narrow: &RgbF32,
    (w, h): (usize, usize),
    jpeg: &StripJpeg,
    out: &OutputTransform,
    embed: Embed<'_>,
    isa: Isa,
) -> Result<Vec<u8>> {
    let columns = resize::ColumnResampler::new(narrow.height, h)?.for_isa(isa);
    let strips = (0..h.div_ceil(STRIP_ROWS))
        .into_par_iter()
        .map_init(
            || (RgbF32::default(), crate::image::Rgb8::default()),
            |(img, rgb8), i| {
                let r0 = i * STRIP_ROWS;
                let rows = STRIP_ROWS.min(h - r0);
                img.width = w;
                img.height = rows;
                img.data.resize(w * rows * 3, 0.0);
                columns.rows_into(narrow, r0, &mut img.data)?;
                resize::clip(&mut img.data);
                out.to_rgb8_into(img, rgb8)?;
                jpeg.encode_strip(i, rgb8)
            },
        )
        .collect::<Result<Vec<_>>>()?;
    jpeg.finish(&strips, embed)
}

/// How each rendition is made, or `None` when one of them needs the whole image.
pub(crate) fn plan(
    renditions: &[Rendition],
    (ow, oh): (usize, usize),
    isa: Isa,
) -> Option<Vec<Plan>> {
    renditions
        .iter()
        .map(|r| {
            let size = target_size(r, ow, oh);
            let plain =
                r.format == OutputFormat::Jpeg && r.sharpen.is_none() && r.watermark.is_none();
            let strips = || -> Option<(StripJpeg, OutputTransform)> {
                let jpeg = StripJpeg::new(size.0, size.1, STRIP_ROWS, r.quality, Subsampling::S420)
                    .ok()?;
                let out = OutputTransform::new(&r.color_space, r.intent)
                    .ok()?
                    .for_isa(isa);
                Some((jpeg, out))
            };
            match (size != (ow, oh), plain) {
                (true, true) => Some(Plan::Resized(size, strips())),
                (true, false) => Some(Plan::Resized(size, None)),
                (false, true) => strips().map(|(jpeg, out)| Plan::Direct(jpeg, out)),
                (false, false) => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod equivalence {
    use super::*;
    use crate::demosaic::DemosaicMethod;
    use crate::develop::developments_on_this_thread;
    use crate::develop::plan::{route, Route};
    use crate::develop::whole::develop_recipe_whole;
    use crate::raw::Orientation;
    use crate::stages::highlights::HighlightMode;
    use crate::stages::user_crop::CropRect;

    /// The strip path's renditions, `None` when the planner picks another route.
    fn streamed(raw: &RawImage, recipe: &Recipe) -> Option<Vec<Rendered>> {
        match route(raw, recipe, Isa::process()).expect("plans") {
            Route::Strips(plans) => {
                Some(develop_recipe(raw, recipe, plans, &mut Timings::default()).expect("streams"))
            }
            Route::Reduced(_) | Route::Whole => None,
        }
    }
    use rawflow_corpus::{scenes, write_dng, CfaLayout, SynthParams};

    fn decode_jpeg(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let mut d = zune_jpeg::JpegDecoder::new(zune_core::bytestream::ZCursor::new(bytes));
        let pixels = d.decode().expect("zune-jpeg decodes the JPEG");
        let info = d.info().expect("info");
        (usize::from(info.width), usize::from(info.height), pixels)
    }

    fn raw(cfa: CfaLayout, w: usize, h: usize) -> RawImage {
        let truth = scenes::color_chart(w, h);
        // Bayer files carry two calibrations (interpolated colour matrices).
        let light = matches!(cfa, CfaLayout::Bayer(_))
            .then(|| rawflow_corpus::SceneLight::canon_5d_mark_ii(4000.0));
        let dng = write_dng(
            &truth,
            &SynthParams {
                cfa,
                light,
                ..SynthParams::default()
            },
        )
        .expect("synthetic DNG");
        crate::decode::decode_bytes(&dng).expect("decodes")
    }

    fn recipe(orientation: Orientation, crop: Option<CropRect>, method: DemosaicMethod) -> Recipe {
        let mut r = Recipe::single("full", None, OutputFormat::Jpeg, 90);
        r.develop.orientation = Some(orientation);
        r.develop.crop = crop;
        r.develop.demosaic = method;
        r.develop.exposure_ev = 0.3;
        r.develop.tone = crate::stages::tone::Tone::BASE_LOOK;
        r.renditions
            .push(Rendition::new("small", Some(90), OutputFormat::Jpeg, 90));
        r
    }

    /// Every orientation, with and without a crop, Bayer and X-Trans, odd
    /// sizes: the full-size JPEG has exactly the whole-image path's pixels and
    /// the small one exactly its pixels too.
    #[test]
    fn strips_match_the_whole_image_path() {
        let crop = CropRect {
            top: 0.1,
            left: 0.05,
            bottom: 0.93,
            right: 0.8,
        };
        let cases = [
            (
                CfaLayout::Bayer(rawflow_corpus::BayerPhase::Gbrg),
                DemosaicMethod::Fast,
            ),
            (
                CfaLayout::Bayer(rawflow_corpus::BayerPhase::Rggb),
                DemosaicMethod::Best,
            ),
            (CfaLayout::XTrans, DemosaicMethod::Fast),
            (CfaLayout::XTrans, DemosaicMethod::Best),
        ];
        for (cfa, method) in cases {
            let raw = raw(cfa, 203, 157);
            assert_eq!(
                raw.dual_illuminant.is_some(),
                matches!(cfa, CfaLayout::Bayer(_))
            );
            for orientation in [
                Orientation::Normal,
                Orientation::Rotate90,
                Orientation::Rotate180,
                Orientation::Rotate270,
                Orientation::Transpose,
                Orientation::Transverse,
                Orientation::FlipHorizontal,
                Orientation::FlipVertical,
            ] {
                for crop in [None, Some(crop)] {
                    let what = format!("{cfa:?} {method:?} {orientation:?} crop {crop:?}");
                    let recipe = recipe(orientation, crop, method);
                    let before = developments_on_this_thread();
                    let streamed = streamed(&raw, &recipe).expect("takes the strip path");
                    assert_eq!(developments_on_this_thread(), before + 1, "{what}");
                    let whole = develop_recipe_whole(&raw, &recipe, &mut Timings::default())
                        .expect("develops");
                    let (a, b) = (
                        decode_jpeg(&streamed[0].bytes),
                        decode_jpeg(&whole[0].bytes),
                    );
                    assert_eq!((a.0, a.1), (b.0, b.1), "{what}");
                    assert!(a.2 == b.2, "{what}: full-size pixels differ");
                    let (a, b) = (
                        decode_jpeg(&streamed[1].bytes),
                        decode_jpeg(&whole[1].bytes),
                    );
                    assert_eq!((a.0, a.1), (b.0, b.1), "{what}");
                    assert!(a.2 == b.2, "{what}: small rendition's pixels differ");
                }
            }
        }
    }

    /// The API switch: the portable kernels give the same files as the
    /// CPU's fastest, on the strip path and on the whole-image path.
    #[test]
    fn the_portable_kernels_give_the_same_files() {
        let raw = raw(CfaLayout::Bayer(rawflow_corpus::BayerPhase::Rggb), 203, 157);
        for method in [DemosaicMethod::Fast, DemosaicMethod::Best] {
            let mut r = recipe(Orientation::Rotate90, None, method);
            r.renditions
                .push(Rendition::new("png", Some(120), OutputFormat::Png, 90));
            let develop = |r: &Recipe| {
                let strips = crate::develop::develop(&raw, r, &mut Timings::default()).unwrap();
                let whole = develop_recipe_whole(&raw, r, &mut Timings::default()).unwrap();
                (strips, whole)
            };
            let auto = develop(&r);
            r.develop.simd = crate::cpu::Simd::Portable;
            let portable = develop(&r);
            for (a, b) in auto
                .0
                .iter()
                .chain(&auto.1)
                .zip(portable.0.iter().chain(&portable.1))
            {
                assert!(a.bytes == b.bytes, "{method:?} {}", a.name);
            }
        }
    }

    #[test]
    fn recipes_needing_the_whole_image_are_declined() {
        let raw = raw(CfaLayout::Bayer(rawflow_corpus::BayerPhase::Rggb), 120, 80);
        let mut r = Recipe::single("tiff", None, OutputFormat::Tiff, 90);
        assert!(streamed(&raw, &r).is_none());
        r = Recipe::single("hl", None, OutputFormat::Jpeg, 90);
        r.develop.highlights = HighlightMode::Reconstruct;
        assert!(streamed(&raw, &r).is_none());
        // Small enough to reduce unless the method asks for full quality.
        r = Recipe::single("ok", Some(60), OutputFormat::Png, 90);
        assert!(matches!(
            route(&raw, &r, Isa::process()).unwrap(),
            Route::Reduced(60)
        ));
        r.develop.demosaic = DemosaicMethod::Best;
        assert!(streamed(&raw, &r).is_some());
    }
}
