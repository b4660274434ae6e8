//! A minimal little-endian classic-TIFF writer: IFDs with typed entries,
//! an optional EXIF sub-IFD and one uncompressed strip of image data.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// A typed TIFF field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// BYTE (1).
    Byte(Vec<u8>),
    /// ASCII (2); the terminating NUL is added on write.
    Ascii(String),
    /// SHORT (3).
    Short(Vec<u16>),
    /// LONG (4).
    Long(Vec<u32>),
    /// RATIONAL (5): numerator, denominator.
    Rational(Vec<(u32, u32)>),
    /// SRATIONAL (10): numerator, denominator.
    SRational(Vec<(i32, i32)>),
}

impl Value {
    fn type_code(&self) -> u16 {
        match self {
            Value::Byte(_) => 1,
            Value::Ascii(_) => 2,
            Value::Short(_) => 3,
            Value::Long(_) => 4,
            Value::Rational(_) => 5,
            Value::SRational(_) => 10,
        }
    }

    fn count(&self) -> usize {
        match self {
            Value::Byte(v) => v.len(),
            Value::Ascii(s) => s.len() + 1,
            Value::Short(v) => v.len(),
            Value::Long(v) => v.len(),
            Value::Rational(v) => v.len(),
            Value::SRational(v) => v.len(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Value::Byte(v) => out.extend_from_slice(v),
            Value::Ascii(s) => {
                out.extend_from_slice(s.as_bytes());
                out.push(0);
            }
            Value::Short(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Value::Long(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Value::Rational(v) => v.iter().for_each(|(n, d)| {
                out.extend_from_slice(&n.to_le_bytes());
                out.extend_from_slice(&d.to_le_bytes());
            }),
            Value::SRational(v) => v.iter().for_each(|(n, d)| {
                out.extend_from_slice(&n.to_le_bytes());
                out.extend_from_slice(&d.to_le_bytes());
            }),
        }
        out
    }
}

/// One image file directory: entries kept sorted by tag, as TIFF requires.
#[derive(Debug, Clone, Default)]
pub struct Ifd {
    entries: BTreeMap<u16, Value>,
}

impl Ifd {
    /// An empty IFD.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) a tag.
    pub fn set(&mut self, tag: u16, value: Value) {
        self.entries.insert(tag, value);
    }

    /// Removes a tag if present.
    pub fn remove(&mut self, tag: u16) {
        self.entries.remove(&tag);
    }

    /// Whether the IFD has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes taken by this IFD and its out-of-line values.
    fn encoded_len(&self) -> usize {
        let mut len = 2 + 12 * self.entries.len() + 4;
        for v in self.entries.values() {
            let n = v.bytes().len();
            if n > 4 {
                len += n + (n & 1);
            }
        }
        len
    }

    /// Appends the IFD (entries, next-IFD offset 0, then out-of-line values)
    /// to `out`, which must currently be `base` bytes long.
    fn encode(&self, out: &mut Vec<u8>, base: usize) -> Result<()> {
        let count = u16::try_from(self.entries.len())
            .map_err(|_| Error::InvalidParams("too many TIFF tags".into()))?;
        out.extend_from_slice(&count.to_le_bytes());
        let mut extra: Vec<u8> = Vec::new();
        let extra_base = base + 2 + 12 * self.entries.len() + 4;
        for (tag, v) in &self.entries {
            let bytes = v.bytes();
            let cnt = u32::try_from(v.count()).map_err(|_| Error::TooLarge(bytes.len() as u64))?;
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&v.type_code().to_le_bytes());
            out.extend_from_slice(&cnt.to_le_bytes());
            if bytes.len() <= 4 {
                let mut inline = [0u8; 4];
                inline[..bytes.len()].copy_from_slice(&bytes);
                out.extend_from_slice(&inline);
            } else {
                let off = to_u32(extra_base + extra.len())?;
                out.extend_from_slice(&off.to_le_bytes());
                extra.extend_from_slice(&bytes);
                if bytes.len() & 1 == 1 {
                    extra.push(0);
                }
            }
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&extra);
        Ok(())
    }
}

fn to_u32(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::TooLarge(v as u64))
}

fn align(v: usize, to: usize) -> usize {
    v.div_ceil(to) * to
}

/// Tag numbers used by the writer.
pub mod tags {
    #![allow(missing_docs)]
    pub const NEW_SUBFILE_TYPE: u16 = 0x00FE;
    pub const IMAGE_WIDTH: u16 = 0x0100;
    pub const IMAGE_LENGTH: u16 = 0x0101;
    pub const BITS_PER_SAMPLE: u16 = 0x0102;
    pub const COMPRESSION: u16 = 0x0103;
    pub const PHOTOMETRIC: u16 = 0x0106;
    pub const MAKE: u16 = 0x010F;
    pub const MODEL: u16 = 0x0110;
    pub const STRIP_OFFSETS: u16 = 0x0111;
    pub const ORIENTATION: u16 = 0x0112;
    pub const SAMPLES_PER_PIXEL: u16 = 0x0115;
    pub const ROWS_PER_STRIP: u16 = 0x0116;
    pub const STRIP_BYTE_COUNTS: u16 = 0x0117;
    pub const PLANAR_CONFIGURATION: u16 = 0x011C;
    /// TileWidth.
    pub const TILE_WIDTH: u16 = 0x0142;
    /// TileLength.
    pub const TILE_LENGTH: u16 = 0x0143;
    /// TileOffsets.
    pub const TILE_OFFSETS: u16 = 0x0144;
    /// TileByteCounts.
    pub const TILE_BYTE_COUNTS: u16 = 0x0145;
    pub const SOFTWARE: u16 = 0x0131;
    pub const DATE_TIME: u16 = 0x0132;
    pub const CFA_REPEAT_PATTERN_DIM: u16 = 0x828D;
    pub const CFA_PATTERN: u16 = 0x828E;
    pub const EXPOSURE_TIME: u16 = 0x829A;
    pub const F_NUMBER: u16 = 0x829D;
    pub const EXIF_IFD: u16 = 0x8769;
    pub const ISO_SPEED: u16 = 0x8827;
    pub const EXIF_VERSION: u16 = 0x9000;
    pub const DATE_TIME_ORIGINAL: u16 = 0x9003;
    pub const FOCAL_LENGTH: u16 = 0x920A;
    pub const LENS_MODEL: u16 = 0xA434;
    pub const DNG_VERSION: u16 = 0xC612;
    pub const DNG_BACKWARD_VERSION: u16 = 0xC613;
    pub const UNIQUE_CAMERA_MODEL: u16 = 0xC614;
    pub const CFA_PLANE_COLOR: u16 = 0xC616;
    pub const CFA_LAYOUT: u16 = 0xC617;
    pub const BLACK_LEVEL_REPEAT_DIM: u16 = 0xC619;
    pub const BLACK_LEVEL: u16 = 0xC61A;
    pub const WHITE_LEVEL: u16 = 0xC61D;
    pub const DEFAULT_CROP_ORIGIN: u16 = 0xC61F;
    pub const DEFAULT_CROP_SIZE: u16 = 0xC620;
    pub const COLOR_MATRIX_1: u16 = 0xC621;
    pub const COLOR_MATRIX_2: u16 = 0xC622;
    pub const AS_SHOT_NEUTRAL: u16 = 0xC628;
    pub const CALIBRATION_ILLUMINANT_1: u16 = 0xC65A;
    pub const CALIBRATION_ILLUMINANT_2: u16 = 0xC65B;
    pub const ACTIVE_AREA: u16 = 0xC68D;
}

/// Writes a TIFF: header, `ifd0` (with StripOffsets/StripByteCounts pointing
/// at `strip`), the optional EXIF IFD (linked from `ifd0` through tag 0x8769),
/// then the strip itself.
pub fn write_tiff(ifd0: Ifd, exif: Option<Ifd>, strip: &[u8]) -> Result<Vec<u8>> {
    write_tiff_chunks(
        ifd0,
        exif,
        &[strip],
        tags::STRIP_OFFSETS,
        tags::STRIP_BYTE_COUNTS,
    )
}

/// Writes a TIFF whose image data is several chunks (strips or tiles):
/// `offsets_tag` and `counts_tag` (StripOffsets/StripByteCounts or
/// TileOffsets/TileByteCounts) in `ifd0` point at `chunks`, which follow the
/// IFDs in order.
pub fn write_tiff_chunks(
    mut ifd0: Ifd,
    exif: Option<Ifd>,
    chunks: &[&[u8]],
    offsets_tag: u16,
    counts_tag: u16,
) -> Result<Vec<u8>> {
    // Pointer values do not change the layout (their count does not
    // change): set placeholders, lay out, then fill in.
    ifd0.set(offsets_tag, Value::Long(vec![0; chunks.len()]));
    let counts = chunks
        .iter()
        .map(|c| to_u32(c.len()))
        .collect::<Result<Vec<_>>>()?;
    ifd0.set(counts_tag, Value::Long(counts));
    if exif.is_some() {
        ifd0.set(tags::EXIF_IFD, Value::Long(vec![0]));
    }
    let ifd0_off = 8;
    let exif_off = align(ifd0_off + ifd0.encoded_len(), 4);
    let exif_len = exif.as_ref().map_or(0, Ifd::encoded_len);
    let data_off = align(exif_off + exif_len, 16);
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut at = data_off;
    for c in chunks {
        offsets.push(to_u32(at)?);
        at += c.len();
    }
    let total = at;
    to_u32(total)?;
    ifd0.set(offsets_tag, Value::Long(offsets));
    if exif.is_some() {
        ifd0.set(tags::EXIF_IFD, Value::Long(vec![to_u32(exif_off)?]));
    }

    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"II");
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&(ifd0_off as u32).to_le_bytes());
    ifd0.encode(&mut out, ifd0_off)?;
    out.resize(exif_off, 0);
    if let Some(exif) = &exif {
        exif.encode(&mut out, exif_off)?;
    }
    out.resize(data_off, 0);
    for c in chunks {
        out.extend_from_slice(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], o: usize) -> u16 {
        u16::from_le_bytes([b[o], b[o + 1]])
    }
    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
    }

    #[test]
    fn layout_is_consistent() {
        let mut ifd = Ifd::new();
        ifd.set(tags::MODEL, Value::Ascii("Model X".into()));
        ifd.set(tags::IMAGE_WIDTH, Value::Long(vec![2]));
        let mut exif = Ifd::new();
        exif.set(tags::ISO_SPEED, Value::Short(vec![100]));
        let strip = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let file = write_tiff(ifd, Some(exif), &strip).unwrap();
        assert_eq!(&file[0..4], b"II*\0");
        let ifd0 = u32_at(&file, 4) as usize;
        let n = u16_at(&file, ifd0) as usize;
        let mut last_tag = 0;
        let mut strip_off = None;
        let mut exif_off = None;
        for i in 0..n {
            let e = ifd0 + 2 + 12 * i;
            let tag = u16_at(&file, e);
            assert!(tag > last_tag, "tags sorted");
            last_tag = tag;
            match tag {
                tags::STRIP_OFFSETS => strip_off = Some(u32_at(&file, e + 8) as usize),
                tags::EXIF_IFD => exif_off = Some(u32_at(&file, e + 8) as usize),
                tags::MODEL => {
                    let off = u32_at(&file, e + 8) as usize;
                    assert_eq!(&file[off..off + 8], b"Model X\0");
                }
                _ => {}
            }
        }
        let s = strip_off.unwrap();
        assert_eq!(&file[s..s + 8], &strip);
        let x = exif_off.unwrap();
        assert_eq!(u16_at(&file, x), 1);
        assert_eq!(u16_at(&file, x + 2), tags::ISO_SPEED);
        assert_eq!(u16_at(&file, x + 10), 100);
    }
}
