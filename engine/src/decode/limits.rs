//! Limits checked before any large allocation: file size, claimed pixel
//! count, and decode time.
//!
//! A hostile file can claim 100,000 × 100,000 pixels in a few hundred bytes.
//! Before the real decode, the claimed dimensions are peeked from every TIFF
//! IFD of the file (IFD chain, SubIFDs, EXIF IFD) and from `rawloader`'s
//! metadata-only ("dummy") decode; a file over the limits is refused with
//! [`Error::Limit`] before the decoders allocate its pixels. Formats neither
//! peek understands are checked again after decoding.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use super::{decode_bytes, map_file};
use crate::error::{Error, Result};
use crate::raw::RawImage;

/// Limits on one decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest accepted file, in bytes.
    pub max_file_bytes: u64,
    /// The largest accepted image, in pixels (width × height).
    pub max_pixels: u64,
    /// The longest a decode may take; `None` decodes on the calling thread
    /// without a time limit.
    pub max_decode_time: Option<Duration>,
}

impl Default for Limits {
    /// 512 MiB, 200 megapixels, 60 seconds.
    fn default() -> Self {
        Self {
            max_file_bytes: 512 << 20,
            max_pixels: 200_000_000,
            max_decode_time: Some(Duration::from_secs(60)),
        }
    }
}

impl Limits {
    /// No limits at all (trusted input only).
    pub fn unlimited() -> Self {
        Self {
            max_file_bytes: u64::MAX,
            max_pixels: u64::MAX,
            max_decode_time: None,
        }
    }

    /// Refuse `bytes` when they are too large or claim too many pixels.
    /// Cheap: reads headers only; allocates nothing proportional to the
    /// claimed image size.
    pub fn check_before_decode(&self, bytes: &[u8]) -> Result<()> {
        self.check_file_size(bytes.len() as u64)?;
        if let Some((w, h)) = peek_tiff_dimensions(bytes) {
            self.check_pixels(w, h, "the file's TIFF directories claim")?;
        }
        if let Some((w, h)) = peek_rawloader_dimensions(bytes) {
            self.check_pixels(w, h, "the file's header claims")?;
        }
        if let Some((w, h)) = peek_quicktake_dimensions(bytes) {
            self.check_pixels(w, h, "the QuickTake header claims")?;
        }
        Ok(())
    }

    fn check_file_size(&self, len: u64) -> Result<()> {
        if len > self.max_file_bytes {
            return Err(Error::Limit(format!(
                "the file is {len} bytes; the limit is {} bytes",
                self.max_file_bytes
            )));
        }
        Ok(())
    }

    fn check_pixels(&self, width: u64, height: u64, what: &str) -> Result<()> {
        let pixels = width.saturating_mul(height);
        if pixels > self.max_pixels {
            return Err(Error::Limit(format!(
                "{what} {width}x{height} pixels ({:.1} MP); the limit is {:.1} MP",
                pixels as f64 / 1e6,
                self.max_pixels as f64 / 1e6
            )));
        }
        Ok(())
    }
}

/// [`super::decode_bytes`] within `limits`.
///
/// With a decode time limit the decode runs on its own thread over a copy of
/// `bytes`; on timeout [`Error::Limit`] is returned at once and the decoder
/// thread is left to finish in the background (a thread cannot be killed),
/// its result discarded. Callers that must reclaim a runaway decoder's CPU
/// run the decode in a child process.
///
/// ```
/// use rawflow::{decode_bytes_with_limits, Limits};
/// let err = decode_bytes_with_limits(b"not a raw file", &Limits::default()).unwrap_err();
/// assert!(!err.to_string().is_empty());
/// ```
pub fn decode_bytes_with_limits(bytes: &[u8], limits: &Limits) -> Result<RawImage> {
    limits.check_before_decode(bytes)?;
    let image = match limits.max_decode_time {
        None => decode_bytes(bytes)?,
        Some(limit) => {
            let owned: Arc<[u8]> = Arc::from(bytes);
            timed(limit, move || decode_bytes(&owned))?
        }
    };
    check_decoded(&image, limits)?;
    Ok(image)
}

/// [`decode_file`](super::decode_file) within `limits`: the size is checked
/// before the file is mapped, the headers before decoding.
pub fn decode_file_with_limits(path: impl AsRef<Path>, limits: &Limits) -> Result<RawImage> {
    let path = path.as_ref();
    let len = std::fs::metadata(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    limits.check_file_size(len)?;
    let map = map_file(path)?;
    limits.check_before_decode(&map)?;
    let image = match limits.max_decode_time {
        None => decode_bytes(&map)?,
        Some(limit) => {
            let map = Arc::new(map);
            timed(limit, move || decode_bytes(&map))?
        }
    };
    check_decoded(&image, limits)?;
    Ok(image)
}

/// The decoded image must fit too (for formats the peeks do not read).
fn check_decoded(image: &RawImage, limits: &Limits) -> Result<()> {
    limits.check_pixels(
        image.width as u64,
        image.height as u64,
        "the decoded image has",
    )
}

/// Run `work` on its own thread; give up waiting after `limit`.
fn timed<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("rawflow-decode".into())
        .spawn(move || {
            let _ = tx.send(work());
        });
    if let Err(e) = spawned {
        return Err(Error::Limit(format!("cannot start a decode thread: {e}")));
    }
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Limit(format!(
            "decoding took longer than {:.1} s",
            limit.as_secs_f64()
        ))),
        // The decoder thread died without sending: only a panic that
        // escaped the guards can do that.
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::DecoderPanic {
            decoder: "decode thread",
            format: "unknown".into(),
            message: "the decode thread ended without a result".into(),
        }),
    }
}

/// The dimensions `rawloader` reads from the headers without decoding the
/// pixels; `None` when it does not know the file (or fails on it).
fn peek_rawloader_dimensions(bytes: &[u8]) -> Option<(u64, u64)> {
    let mut cursor = std::io::Cursor::new(bytes);
    // rawloader catches its own panics too; this guard is for safety.
    let dummy = catch_unwind(AssertUnwindSafe(|| rawloader::decode_dummy(&mut cursor))).ok()?;
    let image = dummy.ok()?;
    Some((image.width as u64, image.height as u64))
}

/// The dimensions in the header of an Apple QuickTake file (`qktk`, `qktn`),
/// which neither the TIFF peek nor `rawloader` reads and `rawler` allocates
/// for before decoding: height and width as big-endian 16-bit numbers at
/// offset 544 (so up to 65535 × 65535 pixels claimed in a few hundred bytes).
fn peek_quicktake_dimensions(bytes: &[u8]) -> Option<(u64, u64)> {
    if !matches!(bytes.get(..4)?, b"qktk" | b"qktn") {
        return None;
    }
    let r = Reader { bytes, le: false };
    let (h, w) = (u64::from(r.u16(544)?), u64::from(r.u16(546)?));
    Some((w.max(h), w.min(h)))
}

/// The most IFDs visited by [`peek_tiff_dimensions`].
const MAX_IFDS: usize = 256;

/// The largest width × height claimed by any IFD of a TIFF-based file
/// (ImageWidth / ImageLength of IFD0 and its chain, SubIFDs and the EXIF
/// IFD); `None` when `bytes` is not TIFF or claims no dimensions.
pub fn peek_tiff_dimensions(bytes: &[u8]) -> Option<(u64, u64)> {
    let le = match bytes.get(..4)? {
        b"II*\0" | b"IIRO" | b"IIU\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let r = Reader { bytes, le };
    let mut queue = vec![u64::from(r.u32(4)?)];
    let mut seen = Vec::new();
    let mut best: Option<(u64, u64)> = None;
    while let Some(offset) = queue.pop() {
        if offset == 0 || seen.contains(&offset) || seen.len() >= MAX_IFDS {
            continue;
        }
        seen.push(offset);
        let Ok(at) = usize::try_from(offset) else {
            continue;
        };
        let Some(count) = r.u16(at) else { continue };
        let (mut w, mut h) = (None, None);
        for i in 0..usize::from(count) {
            let e = at + 2 + i * 12;
            let (Some(tag), Some(typ), Some(n)) = (r.u16(e), r.u16(e + 2), r.u32(e + 4)) else {
                break;
            };
            let value = match typ {
                3 => r.u16(e + 8).map(u64::from),
                4 | 13 => r.u32(e + 8).map(u64::from),
                _ => None,
            };
            match tag {
                0x0100 => w = value,
                0x0101 => h = value,
                // SubIFDs: one offset inline, or an array of offsets.
                0x014A => {
                    let n = n.min(64) as usize;
                    if n == 1 {
                        queue.extend(value);
                    } else if let Some(array) = r.u32(e + 8) {
                        for k in 0..n {
                            queue.extend(r.u32(array as usize + k * 4).map(u64::from));
                        }
                    }
                }
                0x8769 => queue.extend(value),
                _ => {}
            }
        }
        if let (Some(w), Some(h)) = (w, h) {
            if best.is_none_or(|(bw, bh)| w.saturating_mul(h) > bw.saturating_mul(bh)) {
                best = Some((w, h));
            }
        }
        if let Some(next) = r.u32(at + 2 + usize::from(count) * 12) {
            queue.push(u64::from(next));
        }
    }
    best
}

/// Bytes per value of a TIFF field type (unknown types count as 1).
pub(crate) fn tiff_type_size(typ: u16) -> u64 {
    match typ {
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16..=18 => 8,
        _ => 1,
    }
}

/// Check that no entry of the standard IFDs of a TIFF-based file (IFD0 and
/// its chain, SubIFDs, EXIF, GPS, ICC and interoperability IFDs) claims more
/// data than the whole file holds.
///
/// Some decoders allocate `count × size` bytes for an entry before reading
/// it, so a damaged count of 2³² becomes a multi-gigabyte allocation (an
/// abort when memory is limited). Such a file is corrupt by definition: the
/// data of an entry lives in the file. Files that are not TIFF pass.
///
/// Sub-IFDs are followed wherever `rawler` follows them too: a pointer of
/// 0 is the file's header read as an IFD (found by fuzzing: an EXIF pointer
/// of 0 made rawler allocate 4 GB for an "entry" of the header), and a
/// pointer of an unknown type is the first byte of its value.
#[cfg_attr(not(feature = "rawler"), allow(dead_code))] // the guard in front of rawler
pub(crate) fn check_tiff_entries(bytes: &[u8]) -> std::result::Result<(), String> {
    let le = match bytes.get(..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return Ok(()),
    };
    let r = Reader { bytes, le };
    // The magic numbers rawler accepts: TIFF, Panasonic, Olympus (two).
    if !matches!(r.u16(2), Some(42 | 85 | 21330 | 20306)) {
        return Ok(());
    }
    let len = bytes.len() as u64;
    let Some(first) = r.u32(4).filter(|&o| o != 0) else {
        return Ok(());
    };
    let mut queue = vec![u64::from(first)];
    let mut seen = Vec::new();
    while let Some(offset) = queue.pop() {
        if seen.contains(&offset) || seen.len() >= MAX_IFDS {
            continue;
        }
        seen.push(offset);
        let Ok(at) = usize::try_from(offset) else {
            continue;
        };
        let Some(count) = r.u16(at) else { continue };
        for i in 0..usize::from(count) {
            let e = at + 2 + i * 12;
            let (Some(tag), Some(typ), Some(n)) = (r.u16(e), r.u16(e + 2), r.u32(e + 4)) else {
                break;
            };
            let size = u64::from(n).saturating_mul(tiff_type_size(typ));
            if size > len {
                return Err(format!(
                    "TIFF tag 0x{tag:04X} claims {n} values ({size} bytes) in a file of {len} bytes"
                ));
            }
            if matches!(tag, 0x014A | 0x8769 | 0x8825 | 0x8773 | 0xA005 | 0x82D0) {
                sub_ifd_offsets(&r, e, typ, n, &mut queue);
            }
        }
        if let Some(next) = r.u32(at + 2 + usize::from(count) * 12).filter(|&o| o != 0) {
            queue.push(u64::from(next));
        }
    }
    Ok(())
}

/// The IFD offsets a sub-IFD entry at `e` (type `typ`, `n` values) points
/// to: the 32-bit value field itself, its LONG / IFD values (at most 64),
/// and as rawler reads it, the position of the value for the UNDEFINED type
/// and the first byte of the value for unknown types.
#[cfg_attr(not(feature = "rawler"), allow(dead_code))] // the guard in front of rawler
fn sub_ifd_offsets(r: &Reader<'_>, e: usize, typ: u16, n: u32, queue: &mut Vec<u64>) {
    let field = e + 8;
    // Where the value is: in the entry when it fits in 4 bytes (by rawler's
    // sizes, which count unknown types as bytes), else at the field's offset.
    let at = |size: u64| {
        if u64::from(n).saturating_mul(size) <= 4 {
            Some(field)
        } else {
            r.u32(field).and_then(|o| usize::try_from(o).ok())
        }
    };
    queue.extend(r.u32(field).map(u64::from));
    if matches!(typ, 4 | 13) {
        if let Some(array) = at(4) {
            for k in 0..(n.min(64) as usize) {
                queue.extend(r.u32(array + k * 4).map(u64::from));
            }
        }
    }
    let rawler_size = match typ {
        3 | 8 => 2,
        4 | 9 | 11 => 4,
        5 | 10 | 12 => 8,
        _ => 1,
    };
    match (typ, at(rawler_size)) {
        (7, Some(data)) => queue.push(data as u64),
        (0 | 13.., Some(data)) if n >= 1 => {
            queue.extend(r.bytes.get(data).map(|&b| u64::from(b)));
        }
        _ => {}
    }
}

/// Endian-aware reads that return `None` past the end.
pub(crate) struct Reader<'a> {
    /// The file.
    pub bytes: &'a [u8],
    /// True for little-endian ("II") files.
    pub le: bool,
}

impl Reader<'_> {
    pub(crate) fn u16(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at.checked_add(2)?)?;
        let b = [*b.first()?, *b.get(1)?];
        Some(if self.le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    pub(crate) fn u32(&self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at.checked_add(4)?)?;
        let b = [*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?];
        Some(if self.le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF whose IFD0 claims `w` × `h` and nothing else.
    fn tiff_claiming(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"II*\0".to_vec();
        b.extend(8u32.to_le_bytes());
        b.extend(2u16.to_le_bytes());
        for (tag, v) in [(0x0100u16, w), (0x0101, h)] {
            b.extend(tag.to_le_bytes());
            b.extend(4u16.to_le_bytes());
            b.extend(1u32.to_le_bytes());
            b.extend(v.to_le_bytes());
        }
        b.extend(0u32.to_le_bytes());
        b
    }

    #[test]
    fn huge_claimed_dimensions_are_refused_before_decoding() {
        let bytes = tiff_claiming(100_000, 100_000);
        assert_eq!(peek_tiff_dimensions(&bytes), Some((100_000, 100_000)));
        let err = decode_bytes_with_limits(&bytes, &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::Limit(_)), "{err}");
        assert!(err.to_string().contains("100000x100000"), "{err}");
    }

    /// An Apple QuickTake 100 header claiming `w` × `h`, and a little data.
    fn quicktake_claiming(w: u16, h: u16) -> Vec<u8> {
        let mut b = b"qktk".to_vec();
        b.resize(544, 0);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.resize(2048, 0x5a);
        b
    }

    /// Found by fuzzing (`fuzz/`, target `decode`): a 14 KB QuickTake file
    /// claiming 60645 × 28783 pixels made rawler allocate 3.5 GB before
    /// decoding (an abort where memory is limited).
    #[test]
    fn huge_quicktake_dimensions_are_refused_before_decoding() {
        let bytes = quicktake_claiming(60645, 28783);
        assert_eq!(peek_quicktake_dimensions(&bytes), Some((60645, 28783)));
        let err = decode_bytes_with_limits(&bytes, &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::Limit(_)), "{err}");
        assert!(err.to_string().contains("60645x28783"), "{err}");
        // Portrait headers are turned by the decoder: the same pixel count.
        let turned = quicktake_claiming(28783, 60645);
        assert_eq!(peek_quicktake_dimensions(&turned), Some((60645, 28783)));
        // A real QuickTake 100 size passes the peek.
        let small = quicktake_claiming(640, 480);
        assert!(Limits::default().check_before_decode(&small).is_ok());
        assert_eq!(peek_quicktake_dimensions(b"qktk"), None);
    }

    #[test]
    fn file_size_limit() {
        let limits = Limits {
            max_file_bytes: 10,
            ..Limits::default()
        };
        let err = decode_bytes_with_limits(&[0u8; 11], &limits).unwrap_err();
        assert!(matches!(err, Error::Limit(_)), "{err}");
    }

    #[test]
    fn ifd_loops_and_garbage_end() {
        // IFD0 points to itself as the next IFD.
        let mut b = b"MM\0*".to_vec();
        b.extend(8u32.to_be_bytes());
        b.extend(0u16.to_be_bytes());
        b.extend(8u32.to_be_bytes());
        assert_eq!(peek_tiff_dimensions(&b), None);
        assert_eq!(peek_tiff_dimensions(b"II*\0\xff\xff\xff\xff"), None);
        assert_eq!(peek_tiff_dimensions(b""), None);
    }

    #[test]
    fn an_entry_claiming_more_than_the_file_is_refused() {
        let mut b = tiff_claiming(64, 64);
        assert!(check_tiff_entries(&b).is_ok());
        // ImageWidth as 2^32 - 1 LONGs.
        b[8 + 2 + 4..8 + 2 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = check_tiff_entries(&b).unwrap_err();
        assert!(err.contains("0x0100"), "{err}");
        assert!(check_tiff_entries(b"not a tiff").is_ok());
    }

    /// Found by fuzzing (`fuzz/`, target `decode`): an EXIF pointer of 0
    /// makes rawler read the file's header as an IFD, whose "entries" claim
    /// gigabytes (it allocated 4 GB before reading one).
    #[test]
    fn a_sub_ifd_pointer_of_zero_is_checked_as_rawler_reads_it() {
        let mut b = b"II*\0".to_vec();
        b.extend(8u32.to_le_bytes());
        b.extend(2u16.to_le_bytes());
        // ImageWidth = 0xFFFFFFF0: in the header-as-IFD, the count of an
        // entry of unknown type (one byte each): 4 GB.
        for (tag, value) in [(0x0100u16, 0xFFFF_FFF0u32), (0x8769, 0)] {
            b.extend(tag.to_le_bytes());
            b.extend(4u16.to_le_bytes());
            b.extend(1u32.to_le_bytes());
            b.extend(value.to_le_bytes());
        }
        b.extend(0u32.to_le_bytes());
        let err = check_tiff_entries(&b).unwrap_err();
        assert!(err.contains("in a file of 38 bytes"), "{err}");
        let err = crate::decode::decode_bytes(&b).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");

        // A pointer past the end leads nowhere, unless its type is unknown:
        // rawler then takes the first byte of the value (0 here) instead.
        let mut past_end = b.clone();
        past_end[30..34].copy_from_slice(&0x100u32.to_le_bytes());
        assert!(check_tiff_entries(&past_end).is_ok());
        let mut unknown = past_end.clone();
        unknown[24..26].copy_from_slice(&0u16.to_le_bytes());
        assert!(check_tiff_entries(&unknown).is_err());

        // Other magic numbers rawler accepts are checked too.
        let mut olympus = b.clone();
        olympus[2..4].copy_from_slice(b"RS");
        assert!(check_tiff_entries(&olympus).is_err());
    }

    #[test]
    fn a_slow_decode_hits_the_time_limit() {
        let err = timed(Duration::from_millis(20), || {
            std::thread::sleep(Duration::from_millis(500));
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, Error::Limit(_)), "{err}");
    }
}
