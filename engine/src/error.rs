//! The one error type of the engine.

use std::path::PathBuf;

/// Everything that can go wrong while developing a RAW file.
///
/// Decoder failures name the decoder, and where it is known the camera make,
/// model and file format, so that a user can tell "unsupported camera" from
/// "damaged file".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or mapping a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file that could not be read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The decoder recognises the file but not the camera or mode in it.
    #[error("unsupported camera {make} {model} ({format}): {reason}")]
    Unsupported {
        /// Camera make as written in the file ("" when unknown).
        make: String,
        /// Camera model as written in the file ("" when unknown).
        model: String,
        /// File format, e.g. "DNG", "CR2", "unknown".
        format: String,
        /// What the decoder said.
        reason: String,
    },
    /// The file is damaged, truncated or not a RAW file at all.
    #[error("cannot decode {format} file{}: {reason}", camera_suffix(make, model))]
    Corrupt {
        /// Camera make when the header named one.
        make: String,
        /// Camera model when the header named one.
        model: String,
        /// File format, e.g. "DNG", "CRW", "unknown".
        format: String,
        /// What went wrong.
        reason: String,
    },
    /// A decoder panicked; the panic was caught at the decoder boundary.
    #[error("decoder {decoder} crashed on this {format} file: {message}")]
    DecoderPanic {
        /// Which decoder panicked.
        decoder: &'static str,
        /// File format guessed from the header.
        format: String,
        /// The panic message.
        message: String,
    },
    /// The file is larger than the configured limits allow.
    #[error("refused: {0}")]
    Limit(String),
    /// A parameter given by the caller is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Encoding an output image failed.
    #[error("{format} encoder failed: {reason}")]
    Encode {
        /// Output format.
        format: &'static str,
        /// What the encoder said.
        reason: String,
    },
}

fn camera_suffix(make: &str, model: &str) -> String {
    let cam = format!("{make} {model}");
    let cam = cam.trim();
    if cam.is_empty() {
        String::new()
    } else {
        format!(" from {cam}")
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
