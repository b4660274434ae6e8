//! Reading capture metadata (EXIF) from TIFF-based RAW files.

use exif::{In, Tag, Value};

use crate::metadata::{Metadata, Rational};

/// Capture metadata from the TIFF/EXIF structure of `bytes`; empty when the
/// file is not TIFF-based or has none. Never fails.
pub fn read_metadata(bytes: &[u8]) -> Metadata {
    let Ok(exif) = exif::Reader::new().read_raw(bytes.to_vec()) else {
        return Metadata::default();
    };
    let text = |tag: Tag| -> Option<String> {
        let field = exif.get_field(tag, In::PRIMARY)?;
        match &field.value {
            Value::Ascii(parts) => {
                let s: String = parts
                    .iter()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ");
                let s = s
                    .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                    .to_string();
                (!s.is_empty()).then_some(s)
            }
            _ => None,
        }
    };
    let rational = |tag: Tag| -> Option<Rational> {
        match &exif.get_field(tag, In::PRIMARY)?.value {
            Value::Rational(v) => v.first().filter(|r| r.denom != 0).map(|r| Rational {
                num: r.num,
                den: r.denom,
            }),
            _ => None,
        }
    };
    let iso = exif
        .get_field(Tag::PhotographicSensitivity, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0));
    Metadata {
        make: text(Tag::Make),
        model: text(Tag::Model),
        lens: text(Tag::LensModel),
        capture_date: text(Tag::DateTimeOriginal).or_else(|| text(Tag::DateTime)),
        exposure_time: rational(Tag::ExposureTime),
        f_number: rational(Tag::FNumber),
        iso,
        focal_length: rational(Tag::FocalLength),
        artist: text(Tag::Artist),
        copyright: text(Tag::Copyright),
        gps: gps(&exif),
    }
}

/// Signed degrees from a GPS degrees/minutes/seconds field and its N/S/E/W reference.
fn gps(exif: &exif::Exif) -> Option<crate::metadata::Gps> {
    let coord = |tag: Tag, reference: Tag, negative: u8| -> Option<f64> {
        let Value::Rational(v) = &exif.get_field(tag, In::PRIMARY)?.value else {
            return None;
        };
        let part = |i: usize| v.get(i).filter(|r| r.denom != 0).map(|r| r.to_f64());
        let deg = part(0)? + part(1).unwrap_or(0.0) / 60.0 + part(2).unwrap_or(0.0) / 3600.0;
        let sign = match &exif.get_field(reference, In::PRIMARY)?.value {
            Value::Ascii(p) if p.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * deg)
    };
    Some(crate::metadata::Gps {
        latitude: coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?,
        longitude: coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?,
    })
}
