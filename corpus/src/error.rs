//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while making or scoring test images.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A PNG could not be decoded.
    #[error("PNG decode error: {0}")]
    PngDecode(#[from] png::DecodingError),
    /// A PNG could not be encoded.
    #[error("PNG encode error: {0}")]
    PngEncode(#[from] png::EncodingError),
    /// The PNG decoded but its layout is not one we handle.
    #[error("unsupported PNG: {0}")]
    UnsupportedPng(String),
    /// Pixel buffer and dimensions disagree, or the image is empty.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// Synthesis parameters are out of range or inconsistent.
    #[error("invalid synthesis parameters: {0}")]
    InvalidParams(String),
    /// Two images that must have the same size do not.
    #[error("image sizes differ: {0}x{1} vs {2}x{3}")]
    SizeMismatch(usize, usize, usize, usize),
    /// The excluded border leaves no pixel to compare.
    #[error("a border of {border} px leaves no pixels in a {width}x{height} image")]
    EmptyRegion {
        /// Border width in pixels.
        border: usize,
        /// Image width.
        width: usize,
        /// Image height.
        height: usize,
    },
    /// The file would not fit in a classic (32-bit offset) TIFF.
    #[error("image too large for a classic TIFF/DNG ({0} bytes)")]
    TooLarge(u64),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
