//! A fast path for plain DNGs: one uncompressed strip of 16-bit little-endian
//! CFA samples (what DNG writers without compression, and the corpus
//! generator, produce).
//!
//! `rawloader` reads such files correctly but first copies the whole file
//! into a buffer of its own and builds its camera database (thousands of
//! entries parsed from TOML) on first use; for a 24 MP file that is most of
//! the decode time, spent on one thread. This reader takes the samples
//! straight from the mapped file, in parallel, and reads the handful of tags
//! `rawloader`'s DNG decoder reads, with the same rules — so it produces the
//! [`rawloader::RawImage`] that `rawloader` would (a test checks the two
//! agree), for [`super::rawloader_backend`] to convert. Anything it is not sure of (other
//! compressions, bit depths or byte orders, tags in unusual places, values
//! `rawloader` would reject) makes it step aside, and `rawloader` decodes
//! the file as before.

use rayon::prelude::*;

const NEW_SUBFILE_TYPE: u16 = 0x00FE;
const IMAGE_WIDTH: u16 = 0x0100;
const IMAGE_LENGTH: u16 = 0x0101;
const BITS_PER_SAMPLE: u16 = 0x0102;
const COMPRESSION: u16 = 0x0103;
const PHOTOMETRIC: u16 = 0x0106;
const MAKE: u16 = 0x010F;
const MODEL: u16 = 0x0110;
const STRIP_OFFSETS: u16 = 0x0111;
const ORIENTATION: u16 = 0x0112;
const SAMPLES_PER_PIXEL: u16 = 0x0115;
const SUB_IFDS: u16 = 0x014A;
const CFA_PATTERN: u16 = 0x828E;
const DNG_VERSION: u16 = 0xC612;
const BLACK_LEVEL: u16 = 0xC61A;
const WHITE_LEVEL: u16 = 0xC61D;
const COLOR_MATRIX_1: u16 = 0xC621;
const COLOR_MATRIX_2: u16 = 0xC622;
const AS_SHOT_NEUTRAL: u16 = 0xC628;
const ACTIVE_AREA: u16 = 0xC68D;
/// Tags that make `rawloader` read another IFD from inside this one.
const NESTING: [u16; 6] = [SUB_IFDS, 0x8769, 0x927C, 0xF000, 0x8290, 0xFE00];
/// `PhotometricInterpretation` of CFA data.
const CFA: u64 = 32803;

/// One directory entry.
#[derive(Clone, Copy)]
pub(super) struct Entry<'a> {
    pub(super) typ: u16,
    pub(super) count: usize,
    data: &'a [u8],
}

impl Entry<'_> {
    fn u16_at(&self, i: usize) -> Option<u16> {
        let b = self.data.get(i * 2..i * 2 + 2)?;
        Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
    }

    fn u32_at(&self, i: usize) -> Option<u32> {
        let b = self.data.get(i * 4..i * 4 + 4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// `rawloader`'s `get_u32`, or `None` where it would panic.
    pub(super) fn uint(&self, i: usize) -> Option<u64> {
        if i >= self.count {
            return None;
        }
        match self.typ {
            1 => self.data.get(i).map(|b| u64::from(*b)),
            3 | 8 => self.u16_at(i).map(u64::from),
            4 | 7 | 9 | 13 => self.u32_at(i).map(u64::from),
            _ => None,
        }
    }

    /// `rawloader`'s `get_f32`: rationals divided in f32, integers converted.
    fn float(&self, i: usize) -> Option<f32> {
        if i >= self.count {
            return None;
        }
        match self.typ {
            5 => Some(self.u32_at(2 * i)? as f32 / self.u32_at(2 * i + 1)? as f32),
            10 => Some(self.u32_at(2 * i)? as i32 as f32 / self.u32_at(2 * i + 1)? as i32 as f32),
            _ => self.uint(i).map(|v| v as u32 as f32),
        }
    }

    /// `rawloader`'s `get_str`: up to the first NUL, trimmed; `None` for
    /// text that is not UTF-8 (where it would panic).
    fn text(&self) -> Option<String> {
        let end = self
            .data
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.data.len());
        let s = std::str::from_utf8(self.data.get(..end)?).ok()?;
        Some(s.trim().to_string())
    }
}

/// One IFD's entries (the last of repeated tags wins, as in a map).
pub(super) struct Ifd<'a> {
    entries: Vec<(u16, Entry<'a>)>,
}

impl<'a> Ifd<'a> {
    /// Parse the little-endian IFD at `at`; `None` when it is malformed or
    /// its tags are out of order.
    fn parse(bytes: &'a [u8], at: usize) -> Option<Self> {
        let count = usize::from(u16::from_le_bytes(
            bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
        ));
        if count > 4000 {
            return None;
        }
        let mut entries = Vec::with_capacity(count);
        let mut last_tag = 0u16;
        for k in 0..count {
            let e = at + 2 + k * 12;
            let raw = bytes.get(e..e + 12)?;
            let word = |o: usize| u16::from_le_bytes([raw[o], raw[o + 1]]);
            let tag = word(0);
            if tag < last_tag {
                return None;
            }
            last_tag = tag;
            let typ = match word(2) {
                0 | 14.. => 1,
                t => t,
            };
            let count = u32::from_le_bytes(raw[4..8].try_into().ok()?) as usize;
            let size = count.checked_mul(super::limits::tiff_type_size(typ) as usize)?;
            let data = if size <= 4 {
                &raw[8..8 + size]
            } else {
                let off = u32::from_le_bytes(raw[8..12].try_into().ok()?) as usize;
                bytes.get(off..off.checked_add(size)?)?
            };
            entries.push((tag, Entry { typ, count, data }));
        }
        Some(Self { entries })
    }

    pub(super) fn get(&self, tag: u16) -> Option<Entry<'a>> {
        self.entries
            .iter()
            .rev()
            .find(|(t, _)| *t == tag)
            .map(|(_, e)| *e)
    }

    fn has_nested(&self) -> bool {
        self.entries.iter().any(|(t, _)| NESTING.contains(t))
    }

    /// The IFD `rawloader` would take the raw image from, if it is this one.
    fn is_raw_candidate(&self) -> bool {
        let Some(c) = self.get(COMPRESSION).and_then(|e| e.uint(0)) else {
            return false;
        };
        let subsampled = match self.get(NEW_SUBFILE_TYPE) {
            Some(e) => match e.uint(0) {
                Some(v) => v & 1 != 0,
                // rawloader would panic reading it: let it decide.
                None => return false,
            },
            None => false,
        };
        !subsampled && matches!(c, 1 | 7 | 0x884c)
    }
}

/// Decode `bytes` when it is a plain DNG this path fully understands.
pub(crate) fn decode(bytes: &[u8]) -> Option<rawloader::RawImage> {
    let dng = parse(bytes)?;
    let (width, height) = (dng.image.width, dng.image.height);
    let uint = |tag| dng.raw.get(tag).and_then(|e| e.uint(0));
    if uint(COMPRESSION)? != 1 || uint(BITS_PER_SAMPLE)? != 16 {
        return None;
    }
    let offset = uint(STRIP_OFFSETS)? as usize;
    let len = width.checked_mul(height)?.checked_mul(2)?;
    let src = bytes.get(offset..offset.checked_add(len)?)?;
    let mut data = vec![0u16; width * height];
    data.par_chunks_mut(width)
        .zip(src.par_chunks(2 * width))
        .for_each(|(out, row)| {
            for (o, b) in out.iter_mut().zip(row.chunks_exact(2)) {
                *o = u16::from_le_bytes([b[0], b[1]]);
            }
        });
    Some(dng.with_samples(data))
}

/// A CFA DNG's raw IFD and everything `rawloader` reads from the file
/// besides the samples: what the plain and the lossless-JPEG paths share.
pub(super) struct Parsed<'a> {
    /// The IFD holding the raw image.
    pub(super) raw: Ifd<'a>,
    /// The image `rawloader` would return, with no samples yet.
    pub(super) image: rawloader::RawImage,
}

impl Parsed<'_> {
    /// The image with its samples (`width × height`, row by row).
    pub(super) fn with_samples(mut self, data: Vec<u16>) -> rawloader::RawImage {
        self.image.data = rawloader::RawImageData::Integer(data);
        self.image
    }
}

/// Parse a little-endian CFA DNG (one sample per pixel) the way `rawloader`
/// would, as far as this module can be sure of doing so; `None` otherwise.
pub(super) fn parse(bytes: &[u8]) -> Option<Parsed<'_>> {
    if bytes.get(..4)? != b"II*\0" {
        return None;
    }
    let ifd0_at = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?) as usize;
    let ifd0 = Ifd::parse(bytes, ifd0_at)?;
    ifd0.get(DNG_VERSION)?;
    // The raw IFD: IFD0 itself, or the first of its SubIFDs that qualifies
    // (the order rawloader searches in, when IFD0's tags are sorted, since
    // SubIFDs come before the EXIF and maker-note pointers).
    let raw = if ifd0.is_raw_candidate() {
        Ifd::parse(bytes, ifd0_at)?
    } else {
        let subs = ifd0.get(SUB_IFDS)?;
        if subs.typ != 4 && subs.typ != 13 {
            return None;
        }
        let mut found = None;
        for i in 0..subs.count {
            let sub = Ifd::parse(bytes, subs.u32_at(i)? as usize)?;
            if sub.is_raw_candidate() {
                found = Some(sub);
                break;
            }
        }
        found?
    };
    let raw_ref = &raw;
    // rawloader looks tags up in the raw IFD, then in the IFDs nested in it:
    // an optional tag missing here may only be taken as absent when nothing
    // is nested.
    let optional = |tag| match raw_ref.get(tag) {
        Some(e) => Some(Some(e)),
        None if raw_ref.has_nested() => None,
        None => Some(None),
    };
    let uint = |tag| raw_ref.get(tag).and_then(|e| e.uint(0));
    let (width, height) = (uint(IMAGE_WIDTH)? as usize, uint(IMAGE_LENGTH)? as usize);
    if uint(SAMPLES_PER_PIXEL)? != 1 || uint(PHOTOMETRIC)? != CFA || width == 0 || height == 0 {
        return None;
    }

    let cfa_entry = raw.get(CFA_PATTERN)?;
    if cfa_entry.count != 4 && cfa_entry.count != 36 {
        return None;
    }
    let cfa: String = (0..cfa_entry.count)
        .map(|i| {
            cfa_entry.uint(i).map(|v| match v as u32 {
                0 => 'R',
                1 => 'G',
                2 => 'B',
                _ => 'U',
            })
        })
        .collect::<Option<_>>()?;
    let blacklevels = match optional(BLACK_LEVEL)? {
        Some(e) if e.count < 4 => [e.float(0)? as u16; 4],
        Some(e) => [
            e.float(0)? as u16,
            e.float(1)? as u16,
            e.float(2)? as u16,
            e.float(3)? as u16,
        ],
        None => [0; 4],
    };
    let whitelevel = uint(WHITE_LEVEL)? as u32 as u16;
    let crops = match optional(ACTIVE_AREA)? {
        Some(e) => {
            let v = |i| e.uint(i).map(|v| v as u32 as usize);
            [
                v(0)?,
                width.checked_sub(v(3)?)?,
                height.checked_sub(v(2)?)?,
                v(1)?,
            ]
        }
        None => [0; 4],
    };

    // Root-level tags: rawloader finds them in IFD0 first; when IFD0 lacks
    // one, it could come from anywhere, so step aside.
    let make = ifd0.get(MAKE)?.text()?;
    let model = ifd0.get(MODEL)?.text()?;
    let orientation = ifd0.get(ORIENTATION)?.uint(0)? as u16;
    let neutral = ifd0.get(AS_SHOT_NEUTRAL)?;
    let wb_coeffs = [
        1.0 / neutral.float(0)?,
        1.0 / neutral.float(1)?,
        1.0 / neutral.float(2)?,
        f32::NAN,
    ];
    let matrix = ifd0.get(COLOR_MATRIX_2).or(ifd0.get(COLOR_MATRIX_1))?;
    if matrix.count > 12 {
        return None;
    }
    let mut xyz_to_cam = [[0.0f32; 3]; 4];
    for i in 0..matrix.count {
        *xyz_to_cam.get_mut(i / 3)?.get_mut(i % 3)? = matrix.float(i)?;
    }
    let image = rawloader::RawImage {
        make: make.clone(),
        model: model.clone(),
        clean_make: make,
        clean_model: model,
        width,
        height,
        cpp: 1,
        wb_coeffs,
        whitelevels: [whitelevel; 4],
        blacklevels,
        xyz_to_cam,
        cfa: rawloader::CFA::new(&cfa),
        crops,
        blackareas: Vec::new(),
        orientation: rawloader::Orientation::from_u16(orientation),
        data: rawloader::RawImageData::Integer(Vec::new()),
    };
    Some(Parsed { raw, image })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rawflow_corpus::{
        scenes, write_dng, BayerPhase, BlackLevels, CfaLayout, Orientation, SynthParams,
    };

    /// Every field the conversion reads, as text (bit patterns for floats,
    /// so NaN compares equal to NaN), and the samples. (The "clean" camera
    /// names come from rawloader's database and are not used.)
    fn fields(r: &rawloader::RawImage) -> (String, Vec<u16>) {
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        let data = match &r.data {
            rawloader::RawImageData::Integer(v) => v.clone(),
            rawloader::RawImageData::Float(_) => Vec::new(),
        };
        let text = format!(
            "{} {} {}x{}x{} wb {:?} white {:?} black {:?} m {:?} cfa {} {}x{} crops {:?} {:?}",
            r.make,
            r.model,
            r.width,
            r.height,
            r.cpp,
            bits(&r.wb_coeffs),
            r.whitelevels,
            r.blacklevels,
            r.xyz_to_cam.iter().map(|row| bits(row)).collect::<Vec<_>>(),
            r.cfa.name,
            r.cfa.width,
            r.cfa.height,
            r.crops,
            r.orientation,
        );
        (text, data)
    }

    #[test]
    fn plain_dngs_decode_exactly_as_rawloader_decodes_them() {
        let truth = scenes::color_chart(37, 29);
        let mut cases = Vec::new();
        for phase in [
            BayerPhase::Rggb,
            BayerPhase::Bggr,
            BayerPhase::Grbg,
            BayerPhase::Gbrg,
        ] {
            cases.push(SynthParams {
                cfa: CfaLayout::Bayer(phase),
                ..SynthParams::default()
            });
        }
        cases.push(SynthParams {
            cfa: CfaLayout::XTrans,
            camera: rawflow_corpus::FUJIFILM_X_T2,
            ..SynthParams::default()
        });
        cases.push(SynthParams {
            bits: 12,
            black: BlackLevels::PerPosition([250, 260, 270, 280]),
            orientation: Orientation::Rotate90Cw,
            camera: rawflow_corpus::NIKON_D700,
            ..SynthParams::default()
        });
        cases.push(SynthParams {
            bits: 16,
            black: BlackLevels::Uniform(0),
            orientation: Orientation::Transverse,
            camera: rawflow_corpus::SONY_ILCE_7M3,
            light: Some(rawflow_corpus::SceneLight::canon_5d_mark_ii(3200.0)),
            ..SynthParams::default()
        });
        for params in &cases {
            let dng = write_dng(&truth, params).expect("synthetic DNG");
            let fast = decode(&dng).expect("takes the fast path");
            let slow = rawloader::decode(&mut std::io::Cursor::new(&dng)).expect("rawloader");
            let (fast, slow) = (fields(&fast), fields(&slow));
            assert_eq!(fast.0, slow.0, "{params:?}");
            assert!(fast.1 == slow.1, "samples differ: {params:?}");
        }
    }

    #[test]
    fn anything_else_is_left_to_rawloader() {
        let truth = scenes::color_chart(37, 29);
        let dng = write_dng(&truth, &SynthParams::default()).expect("synthetic DNG");
        // Not TIFF, big-endian, cut short, and an unsorted IFD0.
        assert!(decode(b"not a raw file").is_none());
        let mut be = dng.clone();
        be[..4].copy_from_slice(b"MM\0*");
        assert!(decode(&be).is_none());
        assert!(decode(&dng[..dng.len() - 1]).is_none());
        let mut unsorted = dng.clone();
        let ifd0 = u32::from_le_bytes([dng[4], dng[5], dng[6], dng[7]]) as usize;
        // Swap the first two entries' tags.
        let (a, b) = (ifd0 + 2, ifd0 + 14);
        let ta = [unsorted[a], unsorted[a + 1]];
        unsorted.copy_within(b..b + 2, a);
        unsorted[b..b + 2].copy_from_slice(&ta);
        assert!(decode(&unsorted).is_none());
        // The same file decodes through the fast path.
        assert!(decode(&dng).is_some());
    }
}
