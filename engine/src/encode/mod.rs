//! Output encoders: JPEG, 16-bit TIFF and PNG, with embedded ICC profile and EXIF.
//!
//! Every encoder writes the ICC profile given in [`Embed::icc_profile`] (JPEG:
//! APP2 `ICC_PROFILE` segments; TIFF: tag 34675; PNG: `iCCP`) and, when
//! [`Embed::metadata`] is set, EXIF with Make, Model, Orientation = 1,
//! Software, DateTime and an EXIF sub-IFD with ExposureTime, FNumber,
//! ISO, DateTimeOriginal, FocalLength, LensModel and ColorSpace (1 = sRGB when
//! the profile is [`srgb_icc_profile`] or absent, 0xFFFF otherwise).
//!
//! ```
//! use rawflow::internals::encode::{encode_jpeg, srgb_icc_profile, Embed, Subsampling};
//! use rawflow::internals::image::Rgb8;
//! use rawflow::Metadata;
//!
//! let image = Rgb8::new(64, 48);
//! let meta = Metadata { make: Some("Canon".into()), ..Metadata::default() };
//! let embed = Embed { icc_profile: Some(srgb_icc_profile()), metadata: Some(&meta) };
//! let jpeg = encode_jpeg(&image, 90, Subsampling::S420, embed)?;
//! assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
//! # Ok::<(), rawflow::Error>(())
//! ```

mod exif;
mod jpeg;
mod jpeg_strips;
mod png;
mod tiff;

pub use jpeg_strips::StripJpeg;

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

/// Encode 8-bit RGB (normally sRGB) as baseline JPEG with libjpeg-turbo (the
/// `turbojpeg` feature) or the pure-Rust `jpeg-encoder`.
///
/// `quality` must be 1..=100 (else [`Error::InvalidParameter`]). With metadata
/// the file starts SOI, APP1 (EXIF), APP2 (ICC) and has no JFIF segment, as
/// EXIF prescribes; without metadata the JFIF APP0 is kept, followed by the
/// ICC segments. The ICC profile is split into 65519-byte APP2 chunks.
pub fn encode_jpeg(
    image: &Rgb8,
    quality: u8,
    subsampling: Subsampling,
    embed: Embed<'_>,
) -> Result<Vec<u8>> {
    jpeg::encode(image, quality, subsampling, embed)
}

/// Encode 16-bit RGB as an uncompressed little-endian TIFF (one IFD, pixel
/// data in strips of about 256 KiB). Fails for files over 4 GiB.
pub fn encode_tiff16(image: &Rgb16, embed: Embed<'_>) -> Result<Vec<u8>> {
    tiff::encode(image, embed)
}

/// Encode 8-bit RGB as PNG (fast deflate, `iCCP` and `eXIf` chunks).
pub fn encode_png8(image: &Rgb8, embed: Embed<'_>) -> Result<Vec<u8>> {
    png::encode(image, embed)
}

/// The ICC profile of sRGB (IEC 61966-2-1), to embed in sRGB outputs: an ICC
/// v2.4 matrix/TRC display profile built by `matrix_trc_profile` (about
/// 2.6 KB), created once per process.
pub fn srgb_icc_profile() -> &'static [u8] {
    crate::color::icc::srgb_profile()
}

/// The profile to embed: `None` for an absent or empty one.
fn profile_of<'a>(embed: &Embed<'a>) -> Option<&'a [u8]> {
    embed.icc_profile.filter(|p| !p.is_empty())
}

/// Reject empty images and buffers whose length does not match the size.
fn check_dims(width: usize, height: usize, len: usize, format: &str) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidParameter(format!(
            "cannot encode an empty {width}x{height} image as {format}"
        )));
    }
    let expected = width.checked_mul(height).and_then(|p| p.checked_mul(3));
    if expected != Some(len) {
        return Err(Error::InvalidParameter(format!(
            "{width}x{height} RGB image has {len} samples, expected {}",
            expected.map_or_else(|| "an impossible number".into(), |e| e.to_string())
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
