//! Reading capture metadata (EXIF) from TIFF-based RAW files.

use exif::{In, Tag, Value};

use super::limits::{tiff_type_size, Reader};
use crate::metadata::{Metadata, Rational};
use crate::raw::{CalibratedMatrix, DualIlluminant};

/// What the TIFF structure of a RAW file says beyond the sensor data.
#[derive(Debug, Clone, Default)]
pub struct TiffInfo {
    /// Capture metadata.
    pub metadata: Metadata,
    /// DNG ColorMatrix1/2 with CalibrationIlluminant1/2, when IFD0 has both
    /// usable (see [`read_dual_illuminant`]).
    pub dual_illuminant: Option<DualIlluminant>,
}

/// Capture metadata and colour calibrations from the TIFF/EXIF structure of
/// `bytes`; empty when the file is not TIFF-based or has none. Never fails.
pub fn read_tiff_info(bytes: &[u8]) -> TiffInfo {
    // `exif` takes its input by value: hand it only the part it reads.
    let part = bytes.get(..metadata_extent(bytes)).unwrap_or(bytes);
    let Ok(exif) = exif::Reader::new().read_raw(part.to_vec()) else {
        return TiffInfo::default();
    };
    TiffInfo {
        metadata: metadata(&exif),
        dual_illuminant: read_dual_illuminant(&exif),
    }
}

/// How much of `bytes` the `exif` crate reads: up to the end of the last IFD
/// table or entry value reachable from IFD0 through the IFD chain and the
/// EXIF, GPS and interoperability pointers (the sensor data, which no entry
/// holds as a value, usually lies beyond). Copying a whole 48 MB RAW file to
/// read a few kilobytes of tags took a fifth of a decode's page faults. The
/// whole length for anything unexpected (not plain TIFF, a value past the end,
/// too many IFDs).
fn metadata_extent(bytes: &[u8]) -> usize {
    tiff_extent(bytes)
        .filter(|&end| end <= bytes.len())
        .unwrap_or(bytes.len())
}

fn tiff_extent(bytes: &[u8]) -> Option<usize> {
    let le = match bytes.get(..4)? {
        b"II*\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let r = Reader { bytes, le };
    let mut end = 8u64;
    let mut queue = vec![r.u32(4)?];
    let mut seen = Vec::new();
    while let Some(offset) = queue.pop() {
        if offset == 0 || seen.contains(&offset) {
            continue;
        }
        if seen.len() >= 64 {
            return None;
        }
        seen.push(offset);
        let at = usize::try_from(offset).ok()?;
        let count = usize::from(r.u16(at)?);
        let next = at.checked_add(2 + count * 12)?;
        end = end.max(next as u64 + 4);
        for e in (at + 2..next).step_by(12) {
            let (tag, typ, n) = (r.u16(e)?, r.u16(e + 2)?, r.u32(e + 4)?);
            let size = u64::from(n) * tiff_type_size(typ);
            if size > 4 {
                end = end.max(u64::from(r.u32(e + 8)?) + size);
            }
            // EXIF, GPS and interoperability IFDs.
            if matches!(tag, 0x8769 | 0x8825 | 0xA005) {
                queue.push(r.u32(e + 8)?);
            }
        }
        queue.push(r.u32(next)?);
    }
    usize::try_from(end).ok()
}

/// DNG tags of IFD0.
const COLOR_MATRIX_1: u16 = 0xC621;
const COLOR_MATRIX_2: u16 = 0xC622;
const CAMERA_CALIBRATION_1: u16 = 0xC623;
const CAMERA_CALIBRATION_2: u16 = 0xC624;
const ANALOG_BALANCE: u16 = 0xC627;
const CALIBRATION_ILLUMINANT_1: u16 = 0xC65A;
const CALIBRATION_ILLUMINANT_2: u16 = 0xC65B;
const CAMERA_CALIBRATION_SIGNATURE: u16 = 0xC6F3;
const PROFILE_CALIBRATION_SIGNATURE: u16 = 0xC6F4;

/// ColorMatrix1/2 with CalibrationIlluminant1/2 from IFD0, when both are
/// present, 3×3 (three colour planes), finite, and for two illuminants of
/// known, different colour temperature. A file with one matrix, an unknown
/// illuminant (0, or 255 "other") or anything malformed gives `None`.
///
/// Each matrix is returned as the DNG specification's `AB · CC · CM`: the
/// AnalogBalance gains (already applied to the stored values) and the
/// CameraCalibration matrix of that illuminant, when present and valid, times
/// the ColorMatrix. A CameraCalibration is ignored when its signature differs
/// from the profile's, as the specification asks.
pub fn read_dual_illuminant(exif: &exif::Exif) -> Option<DualIlluminant> {
    let field = |tag: u16| exif.get_field(Tag(exif::Context::Tiff, tag), In::PRIMARY);
    let numbers = |tag: u16| -> Option<Vec<f64>> {
        match &field(tag)?.value {
            Value::SRational(v) => v
                .iter()
                .map(|r| (r.denom != 0).then(|| r.to_f64()))
                .collect(),
            Value::Rational(v) => v
                .iter()
                .map(|r| (r.denom != 0).then(|| r.to_f64()))
                .collect(),
            _ => None,
        }
    };
    let matrix = |tag: u16| -> Option<[[f64; 3]; 3]> {
        let [a, b, c, d, e, f, g, h, i] = <[f64; 9]>::try_from(numbers(tag)?).ok()?;
        let m = [[a, b, c], [d, e, f], [g, h, i]];
        m.iter().flatten().all(|v| v.is_finite()).then_some(m)
    };
    let text = |tag: u16| -> Option<Vec<u8>> {
        match &field(tag)?.value {
            Value::Ascii(parts) => Some(parts.concat()),
            _ => None,
        }
    };
    let use_calibration = match (
        text(CAMERA_CALIBRATION_SIGNATURE),
        text(PROFILE_CALIBRATION_SIGNATURE),
    ) {
        (Some(camera), Some(profile)) => camera == profile,
        _ => true,
    };
    let analog_balance = numbers(ANALOG_BALANCE)
        .and_then(|v| <[f64; 3]>::try_from(v).ok())
        .filter(|ab| ab.iter().all(|v| v.is_finite() && *v > 0.0))
        .unwrap_or([1.0; 3]);
    let calibrated = |cm_tag: u16, cc_tag: u16| -> Option<[[f32; 3]; 3]> {
        let cm = matrix(cm_tag)?;
        let cc = use_calibration.then(|| matrix(cc_tag)).flatten();
        let mut out = [[0.0f32; 3]; 3];
        for (i, row) in out.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let cc_cm = match &cc {
                    Some(cc) => (0..3).map(|k| cc[i][k] * cm[k][j]).sum::<f64>(),
                    None => cm[i][j],
                };
                *v = (analog_balance[i] * cc_cm) as f32;
            }
        }
        Some(out)
    };
    let illuminant =
        |tag: u16| -> Option<u16> { u16::try_from(field(tag)?.value.get_uint(0)?).ok() };
    let first = CalibratedMatrix::new(
        illuminant(CALIBRATION_ILLUMINANT_1)?,
        calibrated(COLOR_MATRIX_1, CAMERA_CALIBRATION_1)?,
    )?;
    let second = CalibratedMatrix::new(
        illuminant(CALIBRATION_ILLUMINANT_2)?,
        calibrated(COLOR_MATRIX_2, CAMERA_CALIBRATION_2)?,
    )?;
    DualIlluminant::new(first, second)
}

fn metadata(exif: &exif::Exif) -> Metadata {
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
        gps: gps(exif),
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

#[cfg(test)]
mod tests {
    use super::*;
    use rawflow_corpus::tiff::{write_tiff, Ifd, Value as T};

    const CM_A: [i32; 9] = [5309, -229, -336, -6241, 13265, 3337, -817, 1215, 6664];
    const CM_D65: [i32; 9] = [4716, 603, -830, -7798, 15474, 2480, -1496, 1937, 6651];

    fn srational(m: &[i32]) -> T {
        T::SRational(m.iter().map(|&v| (v, 10_000)).collect())
    }

    /// A TIFF whose IFD0 holds `entries` (and a 1-byte strip).
    fn parse(entries: &[(u16, T)]) -> exif::Exif {
        let mut ifd = Ifd::new();
        ifd.set(0x0100, T::Long(vec![1]));
        ifd.set(0x0101, T::Long(vec![1]));
        for (tag, value) in entries {
            ifd.set(*tag, value.clone());
        }
        let bytes = write_tiff(ifd, None, &[0]).unwrap();
        exif::Reader::new().read_raw(bytes).unwrap()
    }

    fn dual_tags() -> Vec<(u16, T)> {
        vec![
            (COLOR_MATRIX_1, srational(&CM_A)),
            (CALIBRATION_ILLUMINANT_1, T::Short(vec![17])),
            (COLOR_MATRIX_2, srational(&CM_D65)),
            (CALIBRATION_ILLUMINANT_2, T::Short(vec![21])),
        ]
    }

    #[test]
    fn reads_both_matrices_with_their_illuminants() {
        let d = read_dual_illuminant(&parse(&dual_tags())).unwrap();
        assert_eq!((d.low.illuminant, d.high.illuminant), (17, 21));
        assert_eq!((d.low.temperature, d.high.temperature), (2856.0, 6504.0));
        assert!((d.low.xyz_to_cam[1][1] - 1.3265).abs() < 1e-6);
        assert!((d.high.xyz_to_cam[0][2] + 0.0830).abs() < 1e-6);
    }

    #[test]
    fn applies_analog_balance_and_camera_calibration() {
        let mut tags = dual_tags();
        tags.push((ANALOG_BALANCE, T::Rational(vec![(2, 1), (1, 1), (3, 2)])));
        let cc = [9000, 0, 0, 0, 10_000, 0, 0, 0, 11_000];
        tags.push((CAMERA_CALIBRATION_1, srational(&cc)));
        tags.push((CAMERA_CALIBRATION_2, srational(&cc)));
        let d = read_dual_illuminant(&parse(&tags)).unwrap();
        // Row i is scaled by AB[i] · CC[i][i].
        assert!((d.high.xyz_to_cam[0][0] - 2.0 * 0.9 * 0.4716).abs() < 1e-6);
        assert!((d.high.xyz_to_cam[1][1] - 1.5474).abs() < 1e-6);
        assert!((d.low.xyz_to_cam[2][2] - 1.5 * 1.1 * 0.6664).abs() < 1e-6);
        // Different signatures: the calibration is ignored, the balance kept.
        tags.push((CAMERA_CALIBRATION_SIGNATURE, T::Ascii("com.adobe".into())));
        tags.push((PROFILE_CALIBRATION_SIGNATURE, T::Ascii("other".into())));
        let d = read_dual_illuminant(&parse(&tags)).unwrap();
        assert!((d.high.xyz_to_cam[0][0] - 2.0 * 0.4716).abs() < 1e-6);
    }

    #[test]
    fn one_matrix_unknown_illuminants_and_bad_shapes_give_none() {
        let mut one = dual_tags();
        one.truncate(2);
        assert!(read_dual_illuminant(&parse(&one)).is_none());
        let mut unknown = dual_tags();
        unknown[1] = (CALIBRATION_ILLUMINANT_1, T::Short(vec![0]));
        assert!(read_dual_illuminant(&parse(&unknown)).is_none());
        let mut same = dual_tags();
        same[1] = (CALIBRATION_ILLUMINANT_1, T::Short(vec![21]));
        assert!(read_dual_illuminant(&parse(&same)).is_none());
        let mut four_colour = dual_tags();
        four_colour[0] = (COLOR_MATRIX_1, srational(&[10_000; 12]));
        assert!(read_dual_illuminant(&parse(&four_colour)).is_none());
        let mut zero_den = dual_tags();
        zero_den[2] = (COLOR_MATRIX_2, T::SRational(vec![(1, 0); 9]));
        assert!(read_dual_illuminant(&parse(&zero_den)).is_none());
        // Garbage is not TIFF at all: no metadata, no pair, no panic.
        let info = read_tiff_info(b"not a tiff");
        assert!(info.dual_illuminant.is_none());
    }

    /// The whole file given to `exif`, as before the extent was computed.
    fn read_whole(bytes: &[u8]) -> TiffInfo {
        let Ok(exif) = exif::Reader::new().read_raw(bytes.to_vec()) else {
            return TiffInfo::default();
        };
        TiffInfo {
            metadata: metadata(&exif),
            dual_illuminant: read_dual_illuminant(&exif),
        }
    }

    fn assert_same_as_whole(bytes: &[u8], what: &str) {
        let (a, b) = (read_tiff_info(bytes), read_whole(bytes));
        assert_eq!(a.metadata, b.metadata, "{what}");
        assert_eq!(a.dual_illuminant, b.dual_illuminant, "{what}");
    }

    /// Reading only the metadata's extent finds what reading the whole file
    /// finds: a synthetic dual-illuminant DNG (whose sensor data the extent
    /// leaves out), every real file of the corpus, and truncations.
    #[test]
    fn the_metadata_extent_reads_what_the_whole_file_gives() {
        let truth = rawflow_corpus::scenes::color_chart(64, 48);
        let dng = rawflow_corpus::write_dng(
            &truth,
            &rawflow_corpus::SynthParams {
                light: Some(rawflow_corpus::SceneLight::canon_5d_mark_ii(4000.0)),
                ..Default::default()
            },
        )
        .expect("synthetic DNG");
        assert!(metadata_extent(&dng) < dng.len() / 2);
        assert!(read_tiff_info(&dng).dual_illuminant.is_some());
        assert_same_as_whole(&dng, "synthetic DNG");
        for cut in [10, 100, 300, dng.len() / 2] {
            assert_same_as_whole(&dng[..cut], &format!("DNG cut at {cut}"));
        }
        let root = rawflow_corpus::corpus_dir();
        let Ok(dir) = std::fs::read_dir(root.join("raw")) else {
            return;
        };
        for entry in dir.flatten() {
            let path = entry.path();
            if let Ok(bytes) = std::fs::read(&path) {
                assert_same_as_whole(&bytes, &path.display().to_string());
            }
        }
    }
}
