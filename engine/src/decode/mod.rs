//! Decoding RAW files into a [`RawImage`].
//!
//! Decoders sit behind the [`Decoder`] trait so that a second decoder can serve
//! the formats the first lacks. Every decoder call runs inside
//! [`std::panic::catch_unwind`]: a decoder that panics on a hostile file
//! becomes [`Error::DecoderPanic`], never a crash.

mod convert;
mod exif_read;
mod limits;
mod ljpeg;
mod ljpeg_dng;
mod plain_dng;
#[cfg(feature = "rawler")]
mod rawler_backend;
mod rawloader_backend;
mod sniff;

use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

pub use limits::{decode_bytes_with_limits, decode_file_with_limits, peek_tiff_dimensions, Limits};
#[cfg(feature = "rawler")]
pub use rawler_backend::RawlerDecoder;
pub use rawloader_backend::RawloaderDecoder;
pub use sniff::sniff_format;

use crate::error::{Error, Result};
use crate::raw::RawImage;

/// A RAW decoder.
pub trait Decoder: Send + Sync {
    /// A short name for messages, e.g. "rawloader".
    fn name(&self) -> &'static str;
    /// Decode a whole file held in memory.
    fn decode(&self, bytes: &[u8]) -> Result<RawImage>;
}

/// The decoders tried in order: the first that does not call the file
/// unsupported wins (rawler only with the `rawler` feature).
fn decoders() -> &'static [&'static dyn Decoder] {
    static RAWLOADER: RawloaderDecoder = RawloaderDecoder;
    #[cfg(feature = "rawler")]
    static RAWLER: RawlerDecoder = RawlerDecoder;
    static LIST: &[&dyn Decoder] = &[
        &RAWLOADER,
        #[cfg(feature = "rawler")]
        &RAWLER,
    ];
    LIST
}

/// Decode `bytes` with `decoder`, turning a panic into [`Error::DecoderPanic`].
pub fn decode_guarded(decoder: &dyn Decoder, bytes: &[u8]) -> Result<RawImage> {
    match catch_unwind(AssertUnwindSafe(|| decoder.decode(bytes))) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic without a message".to_string());
            Err(Error::DecoderPanic {
                decoder: decoder.name(),
                format: sniff_format(bytes).to_string(),
                message,
            })
        }
    }
}

/// Decode a RAW file held in memory with the first decoder that supports it.
///
/// When every decoder fails, the most telling error is returned: a decoder
/// that recognised the file and named what is wrong beats one that crashed,
/// which beats one that did not recognise the format at all.
pub fn decode_bytes(bytes: &[u8]) -> Result<RawImage> {
    let mut best: Option<Error> = None;
    for decoder in decoders() {
        match decode_guarded(*decoder, bytes) {
            Ok(image) => return Ok(image),
            Err(e) => {
                if best.as_ref().is_none_or(|b| rank(&e) > rank(b)) {
                    best = Some(e);
                }
            }
        }
    }
    Err(best.unwrap_or_else(|| Error::Unsupported {
        make: String::new(),
        model: String::new(),
        format: sniff_format(bytes).to_string(),
        reason: "no decoder available".into(),
    }))
}

/// How much an error says about the file (higher says more).
fn rank(e: &Error) -> u8 {
    match e {
        Error::Unsupported { reason, .. }
            if reason.contains("find a decoder") || reason.contains("No decoder found") =>
        {
            0
        }
        Error::DecoderPanic { .. } => 1,
        Error::Corrupt { reason, .. } if reason.contains("panic") => 1,
        Error::Unsupported { .. } => 2,
        _ => 3,
    }
}

/// Map the file at `path` into memory and decode it.
pub fn decode_file(path: impl AsRef<Path>) -> Result<RawImage> {
    decode_bytes(&map_file(path.as_ref())?)
}

/// Map the file at `path` into memory (refusing an empty file).
fn map_file(path: &Path) -> Result<memmap2::Mmap> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Err(Error::Corrupt {
            make: String::new(),
            model: String::new(),
            format: "unknown".into(),
            reason: "the file is empty".into(),
        });
    }
    // SAFETY: the map is read-only and lives only as long as the decode that
    // uses it. If another process truncates the file meanwhile, reads may
    // fault (SIGBUS); that is the documented trade-off of mapping, and the job
    // system only maps files in its own scratch or storage folders, which
    // nothing else writes.
    unsafe { memmap2::Mmap::map(&file) }.map_err(io)
}
