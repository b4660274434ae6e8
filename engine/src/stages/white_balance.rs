//! White balance: per-channel multipliers so that a neutral subject has equal R, G, B.

use rayon::prelude::*;

use super::highlights::clip_to_white;
use super::levels::SensorData;
use crate::error::{Error, Result};
use crate::pipeline::WhiteBalance;
use crate::raw::RawImage;

/// XYZ of the D65 white point (Y = 1).
pub const D65_XYZ: [f32; 3] = [0.950_47, 1.0, 1.088_83];

/// The R, G, B multipliers for `wb`, normalised so that the smallest is 1.0
/// (so that no channel clips before the others do).
pub fn multipliers(raw: &RawImage, wb: WhiteBalance) -> Result<[f32; 3]> {
    let m = match wb {
        WhiteBalance::AsShot => match raw.as_shot_wb {
            Some(m) => m,
            None => daylight(raw),
        },
        WhiteBalance::Daylight => daylight(raw),
        WhiteBalance::Multipliers(m) => m,
    };
    normalise(m)
}

/// Multipliers that make D65 light neutral, from the camera matrix (1, 1, 1 without one).
pub fn daylight(raw: &RawImage) -> [f32; 3] {
    let Some(m) = raw.xyz_to_cam else {
        return [1.0; 3];
    };
    let mut out = [1.0f32; 3];
    for (o, row) in out.iter_mut().zip(m) {
        let neutral: f32 = row.iter().zip(D65_XYZ).map(|(a, b)| a * b).sum();
        *o = if neutral > 1e-6 { 1.0 / neutral } else { 1.0 };
    }
    out
}

fn normalise(m: [f32; 3]) -> Result<[f32; 3]> {
    if m.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return Err(Error::InvalidParameter(format!(
            "white balance multipliers {m:?} must be positive"
        )));
    }
    let min = m.iter().copied().fold(f32::INFINITY, f32::min);
    Ok(m.map(|v| v / min))
}

/// Multiply each value by its channel's multiplier, then clip at white
/// (see [`super::highlights`]).
pub fn apply(data: &mut SensorData, mult: [f32; 3]) {
    match data {
        SensorData::Mosaic(m) => {
            let (width, cfa) = (m.width, m.cfa.clone());
            m.data
                .par_chunks_mut(width.max(1))
                .enumerate()
                .for_each(|(y, row)| {
                    let period = cfa.width();
                    let gains: Vec<f32> = (0..period)
                        .map(|x| mult[cfa.color_at(y, x).index()])
                        .collect();
                    for (row, gain) in row
                        .chunks_mut(period)
                        .flat_map(|c| c.iter_mut().zip(gains.iter()))
                    {
                        *row *= gain;
                    }
                    clip_to_white(row);
                });
        }
        SensorData::Rgb(img) => {
            img.data
                .par_chunks_mut(3 * img.width.max(1))
                .for_each(|row| {
                    for px in row.chunks_exact_mut(3) {
                        for (v, g) in px.iter_mut().zip(mult) {
                            *v *= g;
                        }
                    }
                    clip_to_white(row);
                });
        }
    }
}
