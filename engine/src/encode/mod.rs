//! Output encoders: JPEG, 16-bit TIFF and PNG, with embedded ICC profile and EXIF.

use crate::error::{Error, Result};
use crate::image::{Rgb16, Rgb8};
use crate::metadata::Metadata;

/// What to embed in an output file besides the pixels.
#[derive(Debug, Clone, Copy, Default)]
pub struct Embed<'a> {
    /// ICC profile describing the pixels' colour space.
    pub icc_profile: Option<&'a [u8]>,
    /// Capture metadata to write as EXIF (Orientation is always written as 1,
    /// because the engine has already turned the pixels upright).
    pub metadata: Option<&'a Metadata>,
}

/// JPEG chroma subsampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subsampling {
    /// 4:2:0, half-resolution chroma both ways (the default; smallest files).
    #[default]
    S420,
    /// 4:2:2, half-resolution chroma horizontally.
    S422,
    /// 4:4:4, full-resolution chroma.
    S444,
}

/// Encode 8-bit sRGB as JPEG at `quality` (1–100).
pub fn encode_jpeg(
    image: &Rgb8,
    quality: u8,
    subsampling: Subsampling,
    embed: Embed<'_>,
) -> Result<Vec<u8>> {
    let _ = (image, quality, subsampling, embed);
    Err(Error::Encode {
        format: "JPEG",
        reason: "not implemented yet".into(),
    })
}

/// Encode 16-bit RGB as an uncompressed TIFF.
pub fn encode_tiff16(image: &Rgb16, embed: Embed<'_>) -> Result<Vec<u8>> {
    let _ = (image, embed);
    Err(Error::Encode {
        format: "TIFF",
        reason: "not implemented yet".into(),
    })
}

/// Encode 8-bit RGB as PNG.
pub fn encode_png8(image: &Rgb8, embed: Embed<'_>) -> Result<Vec<u8>> {
    let _ = (image, embed);
    Err(Error::Encode {
        format: "PNG",
        reason: "not implemented yet".into(),
    })
}

/// The ICC profile of sRGB (IEC 61966-2-1), to embed in sRGB outputs.
pub fn srgb_icc_profile() -> &'static [u8] {
    &[]
}
