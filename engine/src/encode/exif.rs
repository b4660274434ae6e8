//! A small EXIF writer: little-endian TIFF IFDs holding the capture metadata.
//!
//! [`Ifd`] is a generic IFD builder that the TIFF encoder reuses for its own
//! image directory; [`exif_tiff`] produces the complete TIFF structure that a
//! JPEG APP1 segment (after `Exif\0\0`) or a PNG `eXIf` chunk carries.

use crate::error::{Error, Result};
use crate::metadata::{Metadata, Rational};

/// TIFF header for little-endian ("II", 42), without the IFD0 offset.
pub(crate) const TIFF_MAGIC_LE: [u8; 4] = *b"II*\0";

/// Longest string value written (bytes, before the terminating NUL).
pub(crate) const MAX_STRING: usize = 128;

/// TIFF / EXIF tag numbers used by the encoders.
pub(crate) mod tag {
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
    pub const X_RESOLUTION: u16 = 0x011A;
    pub const Y_RESOLUTION: u16 = 0x011B;
    pub const PLANAR_CONFIG: u16 = 0x011C;
    pub const RESOLUTION_UNIT: u16 = 0x0128;
    pub const SOFTWARE: u16 = 0x0131;
    pub const DATE_TIME: u16 = 0x0132;
    pub const YCBCR_POSITIONING: u16 = 0x0213;
    pub const EXPOSURE_TIME: u16 = 0x829A;
    pub const F_NUMBER: u16 = 0x829D;
    pub const EXIF_IFD: u16 = 0x8769;
    pub const ISO_SPEED_RATINGS: u16 = 0x8827;
    pub const SENSITIVITY_TYPE: u16 = 0x8830;
    pub const ISO_SPEED: u16 = 0x8833;
    pub const INTER_COLOR_PROFILE: u16 = 0x8773;
    pub const EXIF_VERSION: u16 = 0x9000;
    pub const DATE_TIME_ORIGINAL: u16 = 0x9003;
    pub const COMPONENTS_CONFIGURATION: u16 = 0x9101;
    pub const FOCAL_LENGTH: u16 = 0x920A;
    pub const FLASHPIX_VERSION: u16 = 0xA000;
    pub const COLOR_SPACE: u16 = 0xA001;
    pub const PIXEL_X_DIMENSION: u16 = 0xA002;
    pub const PIXEL_Y_DIMENSION: u16 = 0xA003;
    pub const LENS_MODEL: u16 = 0xA434;
    pub const ARTIST: u16 = 0x013B;
    pub const COPYRIGHT: u16 = 0x8298;
    pub const GPS_IFD: u16 = 0x8825;
    pub const GPS_VERSION_ID: u16 = 0x0000;
    pub const GPS_LATITUDE_REF: u16 = 0x0001;
    pub const GPS_LATITUDE: u16 = 0x0002;
    pub const GPS_LONGITUDE_REF: u16 = 0x0003;
    pub const GPS_LONGITUDE: u16 = 0x0004;
}

/// TIFF field types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum FieldType {
    Byte = 1,
    Ascii = 2,
    Short = 3,
    Long = 4,
    Rational = 5,
    Undefined = 7,
}

/// One IFD entry with its value already encoded little-endian.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    tag: u16,
    typ: FieldType,
    count: u32,
    data: Vec<u8>,
}

impl Entry {
    /// An ASCII value (NUL appended).
    pub(crate) fn ascii(tag: u16, s: &str) -> Entry {
        let mut data = Vec::with_capacity(s.len() + 1);
        data.extend_from_slice(s.as_bytes());
        data.push(0);
        Entry {
            tag,
            typ: FieldType::Ascii,
            count: data.len() as u32,
            data,
        }
    }

    /// One SHORT.
    pub(crate) fn short(tag: u16, v: u16) -> Entry {
        Self::shorts(tag, &[v])
    }

    /// Several SHORTs.
    pub(crate) fn shorts(tag: u16, v: &[u16]) -> Entry {
        Entry {
            tag,
            typ: FieldType::Short,
            count: v.len() as u32,
            data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// One LONG.
    pub(crate) fn long(tag: u16, v: u32) -> Entry {
        Self::longs(tag, &[v])
    }

    /// Several LONGs.
    pub(crate) fn longs(tag: u16, v: &[u32]) -> Entry {
        Entry {
            tag,
            typ: FieldType::Long,
            count: v.len() as u32,
            data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// One RATIONAL.
    pub(crate) fn rational(tag: u16, r: Rational) -> Entry {
        let mut data = Vec::with_capacity(8);
        data.extend_from_slice(&r.num.to_le_bytes());
        data.extend_from_slice(&r.den.to_le_bytes());
        Entry {
            tag,
            typ: FieldType::Rational,
            count: 1,
            data,
        }
    }

    /// Several BYTEs.
    pub(crate) fn bytes(tag: u16, bytes: &[u8]) -> Entry {
        Entry {
            tag,
            typ: FieldType::Byte,
            count: bytes.len() as u32,
            data: bytes.to_vec(),
        }
    }

    /// Several RATIONALs.
    pub(crate) fn rationals(tag: u16, rs: &[Rational]) -> Entry {
        Entry {
            tag,
            typ: FieldType::Rational,
            count: rs.len() as u32,
            data: rs
                .iter()
                .flat_map(|r| r.num.to_le_bytes().into_iter().chain(r.den.to_le_bytes()))
                .collect(),
        }
    }

    /// Opaque bytes (UNDEFINED).
    pub(crate) fn undefined(tag: u16, bytes: &[u8]) -> Entry {
        Entry {
            tag,
            typ: FieldType::Undefined,
            count: bytes.len() as u32,
            data: bytes.to_vec(),
        }
    }

    /// Bytes the value needs outside the IFD (0 when it fits in 4), padded to even.
    fn external_len(&self) -> usize {
        if self.data.len() <= 4 {
            0
        } else {
            self.data.len() + (self.data.len() & 1)
        }
    }
}

/// An image file directory under construction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ifd {
    entries: Vec<Entry>,
}

impl Ifd {
    /// Add an entry, replacing any entry with the same tag.
    pub(crate) fn set(&mut self, e: Entry) {
        match self.entries.iter_mut().find(|x| x.tag == e.tag) {
            Some(slot) => *slot = e,
            None => self.entries.push(e),
        }
    }

    /// Total bytes this IFD occupies when written: the directory plus its
    /// out-of-line values. Always even.
    pub(crate) fn len(&self) -> usize {
        2 + 12 * self.entries.len()
            + 4
            + self.entries.iter().map(Entry::external_len).sum::<usize>()
    }

    /// Append this IFD to `out`, which must already hold every byte of the TIFF
    /// stream before it (offsets are relative to the start of `out`, where the
    /// TIFF header is). `next` is the offset of the next IFD (0 for none).
    pub(crate) fn write(&self, out: &mut Vec<u8>, next: u32) -> Result<()> {
        let start = out.len();
        if start % 2 != 0 {
            return Err(encode_err("IFD at an odd offset"));
        }
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| e.tag);
        let count = u16::try_from(entries.len()).map_err(|_| encode_err("too many IFD entries"))?;
        let mut value_at = start + 2 + 12 * entries.len() + 4;
        out.extend_from_slice(&count.to_le_bytes());
        for e in &entries {
            out.extend_from_slice(&e.tag.to_le_bytes());
            out.extend_from_slice(&(e.typ as u16).to_le_bytes());
            out.extend_from_slice(&e.count.to_le_bytes());
            if e.data.len() <= 4 {
                let mut inline = [0u8; 4];
                inline[..e.data.len()].copy_from_slice(&e.data);
                out.extend_from_slice(&inline);
            } else {
                out.extend_from_slice(&offset_u32(value_at)?.to_le_bytes());
                value_at += e.external_len();
            }
        }
        out.extend_from_slice(&next.to_le_bytes());
        for e in entries.iter().filter(|e| e.data.len() > 4) {
            out.extend_from_slice(&e.data);
            if e.data.len() % 2 != 0 {
                out.push(0);
            }
        }
        debug_assert_eq!(out.len() - start, self.len());
        Ok(())
    }
}

/// A file offset as TIFF's 32-bit LONG.
pub(crate) fn offset_u32(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| encode_err("file larger than 4 GiB (classic TIFF limit)"))
}

fn encode_err(reason: &str) -> Error {
    Error::Encode {
        format: "EXIF",
        reason: reason.into(),
    }
}

/// EXIF ColorSpace value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColorSpace {
    /// 1: sRGB.
    Srgb,
    /// 0xFFFF: anything else (the embedded ICC profile says what).
    Uncalibrated,
}

impl ColorSpace {
    /// sRGB when there is no profile (outputs are sRGB by convention) or the
    /// profile is the engine's sRGB profile; uncalibrated otherwise.
    pub(crate) fn for_profile(profile: Option<&[u8]>) -> ColorSpace {
        match profile {
            Some(p) if !p.is_empty() && !crate::color::icc::is_srgb(p) => ColorSpace::Uncalibrated,
            _ => ColorSpace::Srgb,
        }
    }

    fn value(self) -> u16 {
        match self {
            ColorSpace::Srgb => 1,
            ColorSpace::Uncalibrated => 0xFFFF,
        }
    }
}

/// The file format the EXIF goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// JPEG-compressed YCbCr: adds YCbCrPositioning and ComponentsConfiguration,
    /// which EXIF requires for such files, and PixelX/YDimension.
    Jpeg,
    /// PNG (compressed data): adds PixelX/YDimension.
    Png,
    /// Uncompressed TIFF: the image IFD itself holds the dimensions.
    Tiff,
}

/// What the container the EXIF goes into needs besides the capture metadata.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExifContext {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Where the EXIF goes.
    pub container: Container,
    /// ColorSpace tag value.
    pub color_space: ColorSpace,
}

/// Printable text for an ASCII field: control characters (NUL included)
/// removed, surrounding blanks trimmed, cut to [`MAX_STRING`] bytes at a
/// character boundary. `None` when nothing is left. Non-ASCII characters are
/// kept as UTF-8, as common EXIF readers expect.
pub(crate) fn clean_string(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(MAX_STRING));
    for c in s.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_STRING {
            break;
        }
        out.push(c);
    }
    let trimmed = out.trim();
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.to_string())
    }
}

/// An EXIF date "YYYY:MM:DD HH:MM:SS" from `s`, which may also use ISO 8601
/// separators ("YYYY-MM-DDTHH:MM:SS", anything after the seconds ignored).
/// `None` when `s` is not such a date.
pub(crate) fn exif_date(s: &str) -> Option<String> {
    let b = s.trim().as_bytes();
    let b = b.get(..19)?;
    let mut out = [0u8; 19];
    for (i, (&c, o)) in b.iter().zip(out.iter_mut()).enumerate() {
        *o = match i {
            4 | 7 if c == b':' || c == b'-' => b':',
            13 | 16 if c == b':' => b':',
            10 if c == b' ' || c == b'T' => b' ',
            4 | 7 | 10 | 13 | 16 => return None,
            _ if c.is_ascii_digit() => c,
            _ => return None,
        };
    }
    String::from_utf8(out.to_vec()).ok()
}

/// The `Software` value every output carries.
pub(crate) fn software() -> String {
    format!("rawflow {}", env!("CARGO_PKG_VERSION"))
}

/// IFD0 entries describing the capture (Make, Model, Orientation = 1,
/// Software, DateTime) for `meta`.
pub(crate) fn ifd0_capture_entries(ifd: &mut Ifd, meta: &Metadata) {
    if let Some(make) = meta.make.as_deref().and_then(clean_string) {
        ifd.set(Entry::ascii(tag::MAKE, &make));
    }
    if let Some(model) = meta.model.as_deref().and_then(clean_string) {
        ifd.set(Entry::ascii(tag::MODEL, &model));
    }
    ifd.set(Entry::short(tag::ORIENTATION, 1));
    ifd.set(Entry::ascii(tag::SOFTWARE, &software()));
    if let Some(date) = meta.capture_date.as_deref().and_then(exif_date) {
        ifd.set(Entry::ascii(tag::DATE_TIME, &date));
    }
    if let Some(artist) = meta.artist.as_deref().and_then(clean_string) {
        ifd.set(Entry::ascii(tag::ARTIST, &artist));
    }
    if let Some(c) = meta.copyright.as_deref().and_then(clean_string) {
        ifd.set(Entry::ascii(tag::COPYRIGHT, &c));
    }
}

/// Degrees as EXIF degrees/minutes/seconds rationals.
fn dms(deg: f64) -> [Rational; 3] {
    let d = deg.abs();
    let whole = d.floor();
    let min = ((d - whole) * 60.0).floor();
    let sec = ((d - whole) * 60.0 - min) * 60.0;
    [
        Rational {
            num: whole as u32,
            den: 1,
        },
        Rational {
            num: min as u32,
            den: 1,
        },
        Rational {
            num: (sec * 10000.0).round() as u32,
            den: 10000,
        },
    ]
}

/// The GPS IFD for `gps` (`None` for impossible coordinates).
pub(crate) fn gps_ifd(gps: &crate::metadata::Gps) -> Option<Ifd> {
    let ok = gps.latitude.is_finite()
        && gps.longitude.is_finite()
        && gps.latitude.abs() <= 90.0
        && gps.longitude.abs() <= 180.0;
    if !ok {
        return None;
    }
    let mut ifd = Ifd::default();
    ifd.set(Entry::bytes(tag::GPS_VERSION_ID, &[2, 3, 0, 0]));
    ifd.set(Entry::ascii(
        tag::GPS_LATITUDE_REF,
        if gps.latitude >= 0.0 { "N" } else { "S" },
    ));
    ifd.set(Entry::rationals(tag::GPS_LATITUDE, &dms(gps.latitude)));
    ifd.set(Entry::ascii(
        tag::GPS_LONGITUDE_REF,
        if gps.longitude >= 0.0 { "E" } else { "W" },
    ));
    ifd.set(Entry::rationals(tag::GPS_LONGITUDE, &dms(gps.longitude)));
    Some(ifd)
}

fn valid_rational(r: Option<Rational>) -> Option<Rational> {
    r.filter(|r| r.den != 0)
}

/// The EXIF sub-IFD for `meta`.
pub(crate) fn exif_ifd(meta: &Metadata, ctx: &ExifContext) -> Ifd {
    let mut ifd = Ifd::default();
    ifd.set(Entry::undefined(tag::EXIF_VERSION, b"0232"));
    ifd.set(Entry::undefined(tag::FLASHPIX_VERSION, b"0100"));
    ifd.set(Entry::short(tag::COLOR_SPACE, ctx.color_space.value()));
    if ctx.container != Container::Tiff {
        ifd.set(Entry::long(tag::PIXEL_X_DIMENSION, ctx.width));
        ifd.set(Entry::long(tag::PIXEL_Y_DIMENSION, ctx.height));
    }
    if ctx.container == Container::Jpeg {
        ifd.set(Entry::undefined(
            tag::COMPONENTS_CONFIGURATION,
            &[1, 2, 3, 0],
        ));
    }
    if let Some(r) = valid_rational(meta.exposure_time) {
        ifd.set(Entry::rational(tag::EXPOSURE_TIME, r));
    }
    if let Some(r) = valid_rational(meta.f_number) {
        ifd.set(Entry::rational(tag::F_NUMBER, r));
    }
    if let Some(iso) = meta.iso {
        ifd.set(Entry::short(
            tag::ISO_SPEED_RATINGS,
            u16::try_from(iso).unwrap_or(u16::MAX),
        ));
        if iso > u32::from(u16::MAX) {
            // EXIF 2.3: values that do not fit a SHORT go to ISOSpeed.
            ifd.set(Entry::short(tag::SENSITIVITY_TYPE, 3));
            ifd.set(Entry::long(tag::ISO_SPEED, iso));
        }
    }
    if let Some(date) = meta.capture_date.as_deref().and_then(exif_date) {
        ifd.set(Entry::ascii(tag::DATE_TIME_ORIGINAL, &date));
    }
    if let Some(r) = valid_rational(meta.focal_length) {
        ifd.set(Entry::rational(tag::FOCAL_LENGTH, r));
    }
    if let Some(lens) = meta.lens.as_deref().and_then(clean_string) {
        ifd.set(Entry::ascii(tag::LENS_MODEL, &lens));
    }
    ifd
}

/// The complete little-endian TIFF structure with IFD0 and the EXIF sub-IFD,
/// as carried by a JPEG APP1 segment (after `Exif\0\0`) or a PNG `eXIf` chunk.
pub(crate) fn exif_tiff(meta: &Metadata, ctx: &ExifContext) -> Result<Vec<u8>> {
    let mut ifd0 = Ifd::default();
    ifd0_capture_entries(&mut ifd0, meta);
    ifd0.set(Entry::rational(
        tag::X_RESOLUTION,
        Rational { num: 72, den: 1 },
    ));
    ifd0.set(Entry::rational(
        tag::Y_RESOLUTION,
        Rational { num: 72, den: 1 },
    ));
    ifd0.set(Entry::short(tag::RESOLUTION_UNIT, 2));
    if ctx.container == Container::Jpeg {
        ifd0.set(Entry::short(tag::YCBCR_POSITIONING, 1));
    }
    ifd0.set(Entry::long(tag::EXIF_IFD, 0));
    let gps = meta.gps.as_ref().and_then(gps_ifd);
    if gps.is_some() {
        ifd0.set(Entry::long(tag::GPS_IFD, 0));
    }
    let exif = exif_ifd(meta, ctx);

    let ifd0_at = 8;
    let exif_at = ifd0_at + ifd0.len();
    let gps_at = exif_at + exif.len();
    ifd0.set(Entry::long(tag::EXIF_IFD, offset_u32(exif_at)?));
    if gps.is_some() {
        ifd0.set(Entry::long(tag::GPS_IFD, offset_u32(gps_at)?));
    }
    let mut out = Vec::with_capacity(gps_at + gps.as_ref().map_or(0, Ifd::len));
    out.extend_from_slice(&TIFF_MAGIC_LE);
    out.extend_from_slice(&offset_u32(ifd0_at)?.to_le_bytes());
    ifd0.write(&mut out, 0)?;
    exif.write(&mut out, 0)?;
    if let Some(g) = gps {
        g.write(&mut out, 0)?;
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Metadata with every field set.
    pub(crate) fn full_metadata() -> Metadata {
        Metadata {
            make: Some("Canon".into()),
            model: Some("Canon EOS 5D Mark II".into()),
            lens: Some("EF24-70mm f/2.8L USM".into()),
            capture_date: Some("2021:06:05 14:03:59".into()),
            exposure_time: Some(Rational { num: 1, den: 250 }),
            f_number: Some(Rational { num: 28, den: 10 }),
            iso: Some(400),
            focal_length: Some(Rational { num: 50, den: 1 }),
            artist: Some("Ada Lovelace".into()),
            copyright: Some("(c) 2021 Studio".into()),
            gps: Some(crate::metadata::Gps {
                latitude: 48.8584,
                longitude: -2.2945,
            }),
        }
    }

    fn field(e: &exif::Exif, t: exif::Tag) -> &exif::Value {
        &e.get_field(t, exif::In::PRIMARY)
            .unwrap_or_else(|| panic!("missing {t}"))
            .value
    }

    fn ascii(e: &exif::Exif, t: exif::Tag) -> String {
        match field(e, t) {
            exif::Value::Ascii(v) => v
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
            other => panic!("{t} is not ASCII: {other:?}"),
        }
    }

    fn rational(e: &exif::Exif, t: exif::Tag) -> (u32, u32) {
        match field(e, t) {
            exif::Value::Rational(v) => (v[0].num, v[0].denom),
            other => panic!("{t} is not RATIONAL: {other:?}"),
        }
    }

    fn uint(e: &exif::Exif, t: exif::Tag) -> u32 {
        field(e, t)
            .get_uint(0)
            .unwrap_or_else(|| panic!("{t} is not an integer"))
    }

    /// Check that `e` (read back with kamadak-exif) carries `meta` exactly.
    pub(crate) fn assert_exif_matches(e: &exif::Exif, meta: &Metadata, color_space: u32) {
        use exif::Tag;
        assert_eq!(uint(e, Tag::Orientation), 1);
        assert_eq!(ascii(e, Tag::Software), software());
        assert_eq!(Some(ascii(e, Tag::Make)), meta.make);
        assert_eq!(Some(ascii(e, Tag::Model)), meta.model);
        assert_eq!(Some(ascii(e, Tag::LensModel)), meta.lens);
        assert_eq!(Some(ascii(e, Tag::DateTime)), meta.capture_date);
        assert_eq!(Some(ascii(e, Tag::DateTimeOriginal)), meta.capture_date);
        let r = |r: Option<Rational>| r.map(|r| (r.num, r.den));
        assert_eq!(Some(rational(e, Tag::ExposureTime)), r(meta.exposure_time));
        assert_eq!(Some(rational(e, Tag::FNumber)), r(meta.f_number));
        assert_eq!(Some(rational(e, Tag::FocalLength)), r(meta.focal_length));
        assert_eq!(Some(uint(e, Tag::PhotographicSensitivity)), meta.iso);
        assert_eq!(uint(e, Tag::ColorSpace), color_space);
    }

    fn ctx() -> ExifContext {
        ExifContext {
            width: 640,
            height: 480,
            container: Container::Jpeg,
            color_space: ColorSpace::Srgb,
        }
    }

    fn parse(tiff: &[u8]) -> exif::Exif {
        exif::Reader::new()
            .read_raw(tiff.to_vec())
            .expect("kamadak-exif parses our EXIF")
    }

    #[test]
    fn full_metadata_round_trips() {
        let meta = full_metadata();
        let e = parse(&exif_tiff(&meta, &ctx()).expect("ok"));
        assert_exif_matches(&e, &meta, 1);
        assert_eq!(uint(&e, exif::Tag::PixelXDimension), 640);
        assert_eq!(uint(&e, exif::Tag::PixelYDimension), 480);
        assert_eq!(uint(&e, exif::Tag::YCbCrPositioning), 1);
    }

    #[test]
    fn empty_metadata_still_has_orientation_and_software() {
        let e = parse(&exif_tiff(&Metadata::default(), &ctx()).expect("ok"));
        assert_eq!(uint(&e, exif::Tag::Orientation), 1);
        assert_eq!(ascii(&e, exif::Tag::Software), software());
        assert!(e.get_field(exif::Tag::Make, exif::In::PRIMARY).is_none());
        assert!(e
            .get_field(exif::Tag::ExposureTime, exif::In::PRIMARY)
            .is_none());
    }

    #[test]
    fn absurd_strings_are_cleaned() {
        let meta = Metadata {
            make: Some(format!("Ca\0non{}", "x".repeat(1_000_000))),
            model: Some("\0\0\0".into()),
            lens: Some("é".repeat(500)),
            capture_date: Some("not a date at all, not at all".into()),
            exposure_time: Some(Rational { num: 1, den: 0 }),
            iso: Some(1_000_000),
            ..Metadata::default()
        };
        let tiff = exif_tiff(&meta, &ctx()).expect("ok");
        assert!(tiff.len() < 2000, "EXIF stays small: {}", tiff.len());
        let e = parse(&tiff);
        let make = ascii(&e, exif::Tag::Make);
        assert!(make.starts_with("Canonxxx") && make.len() == MAX_STRING);
        assert!(e.get_field(exif::Tag::Model, exif::In::PRIMARY).is_none());
        let lens = ascii(&e, exif::Tag::LensModel);
        assert!(lens.len() <= MAX_STRING && lens.chars().all(|c| c == 'é'));
        assert!(e
            .get_field(exif::Tag::DateTime, exif::In::PRIMARY)
            .is_none());
        assert!(e
            .get_field(exif::Tag::ExposureTime, exif::In::PRIMARY)
            .is_none());
        assert_eq!(uint(&e, exif::Tag::PhotographicSensitivity), 65535);
        assert_eq!(uint(&e, exif::Tag::ISOSpeed), 1_000_000);
    }

    #[test]
    fn dates_are_normalised_or_dropped() {
        assert_eq!(
            exif_date("2021-06-05T14:03:59Z").as_deref(),
            Some("2021:06:05 14:03:59")
        );
        assert_eq!(
            exif_date(" 2021:06:05 14:03:59 ").as_deref(),
            Some("2021:06:05 14:03:59")
        );
        assert_eq!(exif_date("2021:06:05"), None);
        assert_eq!(exif_date("2021:06:05 14-03-59"), None);
        assert_eq!(exif_date("ééééééééééééééééééééé"), None);
    }

    #[test]
    fn colour_space_follows_profile() {
        assert_eq!(ColorSpace::for_profile(None), ColorSpace::Srgb);
        assert_eq!(
            ColorSpace::for_profile(Some(crate::color::icc::srgb_profile())),
            ColorSpace::Srgb
        );
        assert_eq!(
            ColorSpace::for_profile(Some(&[1, 2, 3])),
            ColorSpace::Uncalibrated
        );
    }
}
