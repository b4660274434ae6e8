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
    }
}
