//! The `rawloader` decoder.

use std::io::Cursor;

use super::convert::{fill_camera, float_to_u16};
use super::exif_read::{read_tiff_info, TiffInfo};
use super::sniff::sniff_format;
use super::Decoder;
use crate::cfa::Cfa;
use crate::error::{Error, Result};
use crate::raw::{BlackLevels, Orientation, RawImage, RawPixels, Rect};

/// Decodes with the `rawloader` crate (most TIFF-based RAW formats, DNG, CRW).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawloaderDecoder;

impl Decoder for RawloaderDecoder {
    fn name(&self) -> &'static str {
        "rawloader"
    }

    fn decode(&self, bytes: &[u8]) -> Result<RawImage> {
        let format = sniff_format(bytes);
        let info = read_tiff_info(bytes);
        let make = info.metadata.make.clone().unwrap_or_default();
        let model = info.metadata.model.clone().unwrap_or_default();
        if let Some(raw) = super::plain_dng::decode(bytes) {
            return convert(raw, format, info);
        }
        match super::ljpeg_dng::decode(bytes) {
            Some(Ok(raw)) => return convert(raw, format, info),
            Some(Err(super::ljpeg::LjpegError::Corrupt(reason))) => {
                return Err(Error::Corrupt {
                    make,
                    model,
                    format: format.to_string(),
                    reason,
                })
            }
            // What it does not handle, rawloader may.
            Some(Err(super::ljpeg::LjpegError::Unsupported(_))) | None => {}
        }
        let raw = rawloader::decode(&mut Cursor::new(bytes)).map_err(|e| {
            let reason = e.to_string();
            let unsupported = reason.contains("Couldn't find camera")
                || reason.contains("Couldn't find a decoder")
                || reason.contains("nsupported");
            if unsupported {
                Error::Unsupported {
                    make: make.clone(),
                    model: model.clone(),
                    format: format.to_string(),
                    reason,
                }
            } else {
                Error::Corrupt {
                    make: make.clone(),
                    model: model.clone(),
                    format: format.to_string(),
                    reason,
                }
            }
        })?;
        convert(raw, format, info)
    }
}

fn corrupt(raw: &rawloader::RawImage, format: &str, reason: impl Into<String>) -> Error {
    Error::Corrupt {
        make: raw.make.clone(),
        model: raw.model.clone(),
        format: format.to_string(),
        reason: reason.into(),
    }
}

fn convert(mut raw: rawloader::RawImage, format: &str, info: TiffInfo) -> Result<RawImage> {
    let TiffInfo {
        mut metadata,
        dual_illuminant,
    } = info;
    let (width, height, cpp) = (raw.width, raw.height, raw.cpp);
    if width == 0 || height == 0 || !(cpp == 1 || cpp == 3) {
        return Err(corrupt(
            &raw,
            format,
            format!("decoded image is {width}x{height} with {cpp} components per pixel"),
        ));
    }
    let expected = width.checked_mul(height).and_then(|n| n.checked_mul(cpp));
    let white_raw = f32::from(raw.whitelevels[0]);
    let (values, white) =
        match std::mem::replace(&mut raw.data, rawloader::RawImageData::Integer(Vec::new())) {
            rawloader::RawImageData::Integer(v) => (v, white_raw),
            rawloader::RawImageData::Float(v) => (float_to_u16(&v, white_raw).0, 65535.0),
        };
    if Some(values.len()) != expected {
        return Err(corrupt(
            &raw,
            format,
            format!(
                "decoder returned {} values for a {width}x{height}x{cpp} image",
                values.len()
            ),
        ));
    }
    if !(white > 0.0) {
        return Err(corrupt(&raw, format, "white level is 0"));
    }
    let cfa = if cpp == 3 {
        Cfa::from_name("RGGB", 2, 2)?
    } else {
        Cfa::from_name(&raw.cfa.name, raw.cfa.width, raw.cfa.height).map_err(|_| {
            Error::Unsupported {
                make: raw.make.clone(),
                model: raw.model.clone(),
                format: format.to_string(),
                reason: format!(
                    "colour filter pattern {:?} is not an RGB Bayer or X-Trans pattern",
                    raw.cfa.name
                ),
            }
        })?
    };
    let black = black_levels(&raw, &cfa, format == "DNG");
    let pixels = values;
    let pixels = if cpp == 3 {
        RawPixels::Rgb(pixels)
    } else {
        RawPixels::Mosaic(pixels)
    };

    let wb = [raw.wb_coeffs[0], raw.wb_coeffs[1], raw.wb_coeffs[2]];
    let as_shot_wb = wb.iter().all(|c| c.is_finite() && *c > 0.0).then_some(wb);
    let m = raw.xyz_to_cam;
    let xyz_to_cam = [m[0], m[1], m[2]];
    let has_matrix = xyz_to_cam.iter().flatten().all(|v| v.is_finite())
        && xyz_to_cam.iter().flatten().any(|v| *v != 0.0);

    let [top, right, bottom, left] = raw.crops;
    let active_area = if left.saturating_add(right) < width && top.saturating_add(bottom) < height {
        Rect {
            x: left,
            y: top,
            width: width - left - right,
            height: height - top - bottom,
        }
    } else {
        Rect {
            x: 0,
            y: 0,
            width,
            height,
        }
    };
    let orientation = match raw.orientation {
        rawloader::Orientation::HorizontalFlip => Orientation::FlipHorizontal,
        rawloader::Orientation::Rotate180 => Orientation::Rotate180,
        rawloader::Orientation::VerticalFlip => Orientation::FlipVertical,
        rawloader::Orientation::Transpose => Orientation::Transpose,
        rawloader::Orientation::Rotate90 => Orientation::Rotate90,
        rawloader::Orientation::Transverse => Orientation::Transverse,
        rawloader::Orientation::Rotate270 => Orientation::Rotate270,
        _ => Orientation::Normal,
    };
    fill_camera(&mut metadata, &raw.make, &raw.model);
    Ok(RawImage {
        width,
        height,
        pixels,
        cfa,
        black,
        white,
        as_shot_wb,
        xyz_to_cam: has_matrix.then_some(xyz_to_cam),
        // rawloader keeps one matrix (ColorMatrix2 when a DNG has two); the
        // pair comes from the file's own tags.
        dual_illuminant: if has_matrix { dual_illuminant } else { None },
        active_area,
        orientation,
        format: format.to_string(),
        metadata,
    })
}

/// rawloader reports four black levels: per 2×2 position for DNG (the file's
/// BlackLevel with BlackLevelRepeatDim 2×2), per colour (R, G, B, E) otherwise.
fn black_levels(raw: &rawloader::RawImage, cfa: &Cfa, dng: bool) -> BlackLevels {
    let b = raw.blacklevels.map(f32::from);
    if b.iter().all(|v| *v == b[0]) {
        return BlackLevels::uniform(b[0]);
    }
    if dng {
        return BlackLevels {
            width: 2,
            height: 2,
            levels: b.to_vec(),
        };
    }
    let mut levels = Vec::with_capacity(cfa.width() * cfa.height());
    for r in 0..cfa.height() {
        for c in 0..cfa.width() {
            levels.push(b[cfa.color_at(r, c).index()]);
        }
    }
    BlackLevels {
        width: cfa.width(),
        height: cfa.height(),
        levels,
    }
}
