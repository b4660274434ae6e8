//! The `rawler` decoder: formats `rawloader` lacks (Canon CR3, compressed
//! Fujifilm RAF, JPEG-XL and deflate DNG, linear DNG, Kodak KDC, Apple QuickTake…).

use rawler::decoders::RawDecodeParams;
use rawler::imgop::xyz::Illuminant;
use rawler::rawsource::RawSource;

use super::convert::{fill_camera, float_to_u16};
use super::exif_read::{read_tiff_info, TiffInfo};
use super::sniff::sniff_format;
use super::Decoder;
use crate::cfa::Cfa;
use crate::error::{Error, Result};
use crate::raw::{
    BlackLevels, CalibratedMatrix, DualIlluminant, Orientation, RawImage, RawPixels, Rect,
};

/// Decodes with the `rawler` crate (dnglab's decoder).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawlerDecoder;

impl Decoder for RawlerDecoder {
    fn name(&self) -> &'static str {
        "rawler"
    }

    fn decode(&self, bytes: &[u8]) -> Result<RawImage> {
        let format = sniff_format(bytes);
        let info = read_tiff_info(bytes);
        let metadata = &info.metadata;
        // rawler allocates each TIFF entry's claimed size before reading it:
        // refuse impossible counts first (a damaged count would otherwise be
        // a multi-gigabyte allocation).
        if let Err(reason) = super::limits::check_tiff_entries(bytes) {
            return Err(Error::Corrupt {
                make: metadata.make.clone().unwrap_or_default(),
                model: metadata.model.clone().unwrap_or_default(),
                format: format.to_string(),
                reason,
            });
        }
        let source = RawSource::new_from_slice(bytes);
        let raw = rawler::decode(&source, &RawDecodeParams::default()).map_err(|e| {
            let reason = e.to_string();
            let make = metadata.make.clone().unwrap_or_default();
            let model = metadata.model.clone().unwrap_or_default();
            if reason.contains("No decoder found")
                || reason.contains("nsupported")
                || reason.contains("not supported")
            {
                Error::Unsupported {
                    make,
                    model,
                    format: format.to_string(),
                    reason,
                }
            } else {
                Error::Corrupt {
                    make,
                    model,
                    format: format.to_string(),
                    reason,
                }
            }
        })?;
        convert(raw, format, info)
    }
}

fn convert(mut raw: rawler::RawImage, format: &str, info: TiffInfo) -> Result<RawImage> {
    let TiffInfo {
        mut metadata,
        dual_illuminant,
    } = info;
    // Take the samples instead of copying them (24 MP is 48 MB).
    let data = std::mem::replace(&mut raw.data, rawler::RawImageData::Integer(Vec::new()));
    let corrupt = |reason: String| Error::Corrupt {
        make: raw.make.clone(),
        model: raw.model.clone(),
        format: format.to_string(),
        reason,
    };
    let (width, height, cpp) = (raw.width, raw.height, raw.cpp);
    if width == 0 || height == 0 || !(cpp == 1 || cpp == 3) {
        return Err(corrupt(format!(
            "decoded image is {width}x{height} with {cpp} components per pixel"
        )));
    }
    let white_raw = raw.whitelevel.0.first().copied().unwrap_or(0) as f32;
    let (values, white, black_scale) = match data {
        rawler::RawImageData::Integer(v) => (v, white_raw, 1.0),
        rawler::RawImageData::Float(v) => {
            let (values, scale) = float_to_u16(&v, white_raw);
            (values, 65535.0, scale)
        }
    };
    let expected = width.checked_mul(height).and_then(|n| n.checked_mul(cpp));
    if Some(values.len()) != expected {
        return Err(corrupt(format!(
            "decoder returned {} values for a {width}x{height}x{cpp} image",
            values.len()
        )));
    }
    if !(white > 0.0) {
        return Err(corrupt("white level is 0".into()));
    }
    let cfa = if cpp == 3 {
        Cfa::from_name("RGGB", 2, 2)?
    } else {
        let name = &raw.camera.cfa.name;
        Cfa::from_name(name, raw.camera.cfa.width, raw.camera.cfa.height).map_err(|_| {
            Error::Unsupported {
                make: raw.make.clone(),
                model: raw.model.clone(),
                format: format.to_string(),
                reason: format!(
                    "colour filter pattern {name:?} is not an RGB Bayer or X-Trans pattern"
                ),
            }
        })?
    };
    let bl = &raw.blacklevel;
    let levels: Vec<f32> = bl
        .levels
        .iter()
        .map(|r| {
            if r.d == 0 {
                0.0
            } else {
                r.n as f32 / r.d as f32 * black_scale
            }
        })
        .collect();
    let black = if levels.is_empty() || levels.iter().all(|v| *v == levels[0]) {
        BlackLevels::uniform(levels.first().copied().unwrap_or(0.0))
    } else if bl.cpp == 1
        && bl.width * bl.height == levels.len()
        && bl.width <= 16
        && bl.height <= 16
    {
        BlackLevels {
            width: bl.width,
            height: bl.height,
            levels,
        }
    } else {
        // One level per colour plane (linear raw): use their mean.
        BlackLevels::uniform(levels.iter().sum::<f32>() / levels.len() as f32)
    };
    let wb = [raw.wb_coeffs[0], raw.wb_coeffs[1], raw.wb_coeffs[2]];
    let as_shot_wb =
        (wb.iter().all(|c| c.is_finite() && *c > 0.0) && wb != [1.0, 1.0, 1.0]).then_some(wb);
    let xyz_to_cam = color_matrix(&raw);
    // The file's own pair (DNG tags) first, else the pair rawler knows for
    // the camera (its database has Standard light A and D65 matrices for many).
    let dual_illuminant = xyz_to_cam
        .and(dual_illuminant)
        .or_else(|| xyz_to_cam.and_then(|_| dual_from_rawler(&raw)));
    let area = raw.crop_area.or(raw.active_area);
    let active_area = match area {
        Some(r) if r.d.w > 0 && r.d.h > 0 && r.p.x + r.d.w <= width && r.p.y + r.d.h <= height => {
            Rect {
                x: r.p.x,
                y: r.p.y,
                width: r.d.w,
                height: r.d.h,
            }
        }
        _ => Rect {
            x: 0,
            y: 0,
            width,
            height,
        },
    };
    let orientation = match raw.orientation {
        rawler::Orientation::HorizontalFlip => Orientation::FlipHorizontal,
        rawler::Orientation::Rotate180 => Orientation::Rotate180,
        rawler::Orientation::VerticalFlip => Orientation::FlipVertical,
        rawler::Orientation::Transpose => Orientation::Transpose,
        rawler::Orientation::Rotate90 => Orientation::Rotate90,
        rawler::Orientation::Transverse => Orientation::Transverse,
        rawler::Orientation::Rotate270 => Orientation::Rotate270,
        _ => Orientation::Normal,
    };
    fill_camera(&mut metadata, &raw.make, &raw.model);
    let pixels = if cpp == 3 {
        RawPixels::Rgb(values)
    } else {
        RawPixels::Mosaic(values)
    };
    Ok(RawImage {
        width,
        height,
        pixels,
        cfa,
        black,
        white,
        as_shot_wb,
        xyz_to_cam,
        dual_illuminant,
        active_area,
        orientation,
        format: format.to_string(),
        metadata,
    })
}

/// The XYZ → camera matrix, preferring the D65 one of a dual-illuminant file.
fn color_matrix(raw: &rawler::RawImage) -> Option<[[f32; 3]; 3]> {
    let flat = raw
        .color_matrix
        .get(&Illuminant::D65)
        .or_else(|| raw.color_matrix.get(&Illuminant::Daylight))
        .or_else(|| raw.color_matrix.values().next())?;
    matrix3(flat)
}

/// The calibrations of the lowest and the highest colour temperature among
/// rawler's matrices, when there are two usable ones.
fn dual_from_rawler(raw: &rawler::RawImage) -> Option<DualIlluminant> {
    let mut calibrations: Vec<CalibratedMatrix> = raw
        .color_matrix
        .iter()
        .filter_map(|(illuminant, flat)| {
            CalibratedMatrix::new(u16::from(*illuminant), matrix3(flat)?)
        })
        .collect();
    calibrations.sort_by(|a, b| {
        a.temperature
            .total_cmp(&b.temperature)
            .then(a.illuminant.cmp(&b.illuminant))
    });
    DualIlluminant::new(*calibrations.first()?, *calibrations.last()?)
}

/// A row-major 3×3 matrix from the first nine values of `flat`, if finite and not all zero.
fn matrix3(flat: &[f32]) -> Option<[[f32; 3]; 3]> {
    let m = [
        [*flat.first()?, *flat.get(1)?, *flat.get(2)?],
        [*flat.get(3)?, *flat.get(4)?, *flat.get(5)?],
        [*flat.get(6)?, *flat.get(7)?, *flat.get(8)?],
    ];
    (m.iter().flatten().all(|v| v.is_finite()) && m.iter().flatten().any(|v| *v != 0.0))
        .then_some(m)
}
