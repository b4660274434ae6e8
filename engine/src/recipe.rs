//! Recipes: several renditions (size, format, quality) from one development.

use std::time::Instant;

use crate::encode::{
    encode_jpeg, encode_png8, encode_tiff16, srgb_icc_profile, Embed, Subsampling,
};
use crate::error::{Error, Result};
use crate::image::RgbF32;
use crate::metadata::Metadata;
use crate::pipeline::{develop_linear, DevelopOptions, Timings};
use crate::raw::RawImage;
use crate::stages::{resize, transfer};

/// An output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// 8-bit JPEG.
    Jpeg,
    /// 16-bit uncompressed TIFF.
    Tiff,
    /// 8-bit PNG.
    Png,
}

impl OutputFormat {
    /// The usual file extension, without a dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Tiff => "tif",
            Self::Png => "png",
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Tiff => "image/tiff",
            Self::Png => "image/png",
        }
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Ok(Self::Jpeg),
            "tiff" | "tif" => Ok(Self::Tiff),
            "png" => Ok(Self::Png),
            other => Err(Error::InvalidParameter(format!(
                "unknown output format {other:?} (use jpeg, tiff or png)"
            ))),
        }
    }
}

/// One output of a recipe.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    /// Name, used in output file names ("web", "full").
    pub name: String,
    /// Fit the long edge to this many pixels (never upscales); `None` keeps the full size.
    pub long_edge: Option<u32>,
    /// File format.
    pub format: OutputFormat,
    /// JPEG quality, 1–100 (ignored by the other formats).
    pub quality: u8,
}

/// A named list of renditions, all made from one decode and one demosaic.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// The recipe's name.
    pub name: String,
    /// Development settings shared by every rendition.
    pub develop: DevelopOptions,
    /// The outputs.
    pub renditions: Vec<Rendition>,
}

/// The names of the built-in recipes.
pub const BUILTIN_RECIPES: [&str; 3] = ["web", "full", "master"];

impl Recipe {
    /// A recipe with a single rendition named after its format.
    pub fn single(name: &str, long_edge: Option<u32>, format: OutputFormat, quality: u8) -> Self {
        Self {
            name: name.to_string(),
            develop: DevelopOptions::default(),
            renditions: vec![Rendition {
                name: name.to_string(),
                long_edge,
                format,
                quality,
            }],
        }
    }

    /// A built-in recipe: `web` (2048 px JPEG q85), `full` (full-size JPEG q92)
    /// or `master` (full-size 16-bit TIFF).
    pub fn builtin(name: &str) -> Option<Self> {
        match name {
            "web" => Some(Self::single("web", Some(2048), OutputFormat::Jpeg, 85)),
            "full" => Some(Self::single("full", None, OutputFormat::Jpeg, 92)),
            "master" => Some(Self::single("master", None, OutputFormat::Tiff, 100)),
            _ => None,
        }
    }
}

/// One encoded output.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The rendition's name.
    pub name: String,
    /// Its format.
    pub format: OutputFormat,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// The encoded file.
    pub bytes: Vec<u8>,
}

/// Resize, quantise and encode one rendition of a developed image.
pub fn render(
    linear: &RgbF32,
    rendition: &Rendition,
    metadata: &Metadata,
    timings: &mut Timings,
) -> Result<Rendered> {
    let mut clock = Instant::now();
    let sized = match rendition.long_edge {
        Some(edge) => resize::fit_long_edge(linear, edge)?,
        None => std::borrow::Cow::Borrowed(linear),
    };
    timings.lap("resize", &mut clock);
    let embed = Embed {
        icc_profile: Some(srgb_icc_profile()),
        metadata: Some(metadata),
    };
    let bytes = match rendition.format {
        OutputFormat::Jpeg => encode_jpeg(
            &transfer::to_srgb8(&sized),
            rendition.quality,
            Subsampling::S420,
            embed,
        )?,
        OutputFormat::Png => encode_png8(&transfer::to_srgb8(&sized), embed)?,
        OutputFormat::Tiff => encode_tiff16(&transfer::to_srgb16(&sized), embed)?,
    };
    timings.lap("encode", &mut clock);
    Ok(Rendered {
        name: rendition.name.clone(),
        format: rendition.format,
        width: sized.width,
        height: sized.height,
        bytes,
    })
}

/// Develop `raw` once and produce every rendition of `recipe`.
pub fn develop_recipe(
    raw: &RawImage,
    recipe: &Recipe,
    timings: &mut Timings,
) -> Result<Vec<Rendered>> {
    // The largest output size lets development use a reduced-resolution demosaic.
    let develop = DevelopOptions {
        target_long_edge: recipe.develop.target_long_edge.or(recipe
            .renditions
            .iter()
            .try_fold(0, |m, r| r.long_edge.map(|e| m.max(e)))),
        ..recipe.develop.clone()
    };
    let linear = develop_linear(raw, &develop, timings)?;
    recipe
        .renditions
        .iter()
        .map(|r| render(&linear, r, &raw.metadata, timings))
        .collect()
}
