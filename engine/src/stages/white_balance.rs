//! White balance: per-channel multipliers so that a neutral subject has equal R, G, B.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::levels::SensorData;
use crate::color::calibration;
use crate::color::locus::kelvin_tint_xy;
use crate::error::{Error, Result};
use crate::raw::RawImage;

/// Which white balance to develop with.
///
/// In a recipe (TOML): `"as-shot"`, `"auto"`, `"daylight"`,
/// `{ kelvin = 5500, tint = 10 }` or `{ multipliers = [2.0, 1.0, 1.5] }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "WbRepr", into = "WbRepr")]
pub enum WhiteBalance {
    /// The camera's as-shot multipliers (daylight when the file has none).
    #[default]
    AsShot,
    /// Daylight (D65) derived from the camera matrix.
    Daylight,
    /// Explicit R, G, B multipliers.
    Multipliers([f32; 3]),
    /// Grey world over the photosites that are not clipped.
    Auto,
    /// A correlated colour temperature in kelvin and a tint of the light to
    /// neutralise (positive renders magenta, as in Lightroom; ±150 ≈ ±0.05
    /// Δuv), through the camera matrix.
    Kelvin {
        /// Colour temperature in kelvin (1667–25000).
        temperature: f32,
        /// Tint.
        tint: f32,
    },
}

/// XYZ of the D65 white point (Y = 1).
pub const D65_XYZ: [f32; 3] = [0.950_47, 1.0, 1.088_83];

/// The R, G, B multipliers for `wb`, normalised so that the smallest is 1.0
/// (so that no channel clips before the others do). [`WhiteBalance::Auto`]
/// needs the sensor data: here it falls back to as shot; use [`multipliers_for`].
pub fn multipliers(raw: &RawImage, wb: WhiteBalance) -> Result<[f32; 3]> {
    let m = match wb {
        WhiteBalance::Auto => return multipliers(raw, WhiteBalance::AsShot),
        WhiteBalance::Kelvin { temperature, tint } => kelvin(raw, temperature, tint)?,
        WhiteBalance::AsShot => match raw.as_shot_wb {
            Some(m) => m,
            None => daylight(raw),
        },
        WhiteBalance::Daylight => daylight(raw),
        WhiteBalance::Multipliers(m) => m,
    };
    normalise(m)
}

/// Like [`multipliers`], with [`WhiteBalance::Auto`] computed from `data`
/// (levels applied, white balance not yet).
pub fn multipliers_for(raw: &RawImage, data: &SensorData, wb: WhiteBalance) -> Result<[f32; 3]> {
    match wb {
        WhiteBalance::Auto => match auto(data) {
            Some(m) => normalise(m),
            None => multipliers(raw, WhiteBalance::AsShot),
        },
        other => multipliers(raw, other),
    }
}

/// Values at or above this (after levels) count as clipped for auto white balance.
const AUTO_CLIP: f32 = 0.95;

/// Grey-world multipliers over non-clipped, non-black photosites (`None`
/// when a channel has no usable photosite).
pub fn auto(data: &SensorData) -> Option<[f32; 3]> {
    let mut sum = [0.0f64; 3];
    let mut n = [0u64; 3];
    match data {
        SensorData::Mosaic(m) => {
            for (y, row) in m.data.chunks(m.width.max(1)).enumerate() {
                for (x, v) in row.iter().enumerate() {
                    if *v < AUTO_CLIP && *v > 0.002 {
                        let c = m.cfa.color_at(y, x).index();
                        sum[c] += f64::from(*v);
                        n[c] += 1;
                    }
                }
            }
        }
        SensorData::Rgb(img) => {
            for px in img.data.chunks_exact(3) {
                if px.iter().all(|v| *v < AUTO_CLIP && *v > 0.002) {
                    for c in 0..3 {
                        sum[c] += f64::from(px[c]);
                        n[c] += 1;
                    }
                }
            }
        }
    }
    if n.iter().any(|v| *v == 0) {
        return None;
    }
    let mean = [0, 1, 2].map(|c| sum[c] / n[c] as f64);
    if mean.iter().any(|m| *m <= 0.0) {
        return None;
    }
    Some([0, 1, 2].map(|c| (mean[1] / mean[c]) as f32))
}

/// The XYZ → camera matrix for light of chromaticity `xy`: interpolated
/// between the file's two calibrations when it has two
/// ([`calibration::xyz_to_camera_at`]), else its one matrix.
fn matrix_for_white(raw: &RawImage, xy: (f64, f64)) -> Option<[[f32; 3]; 3]> {
    match &raw.dual_illuminant {
        Some(dual) => Some(calibration::xyz_to_camera_at(dual, xy)),
        None => raw.xyz_to_cam,
    }
}

/// Multipliers that make light of `temperature` kelvin and `tint` neutral,
/// through the camera matrix (the one interpolated for that light when the
/// file has two).
pub fn kelvin(raw: &RawImage, temperature: f32, tint: f32) -> Result<[f32; 3]> {
    if !temperature.is_finite() || !(1000.0..=50000.0).contains(&temperature) || !tint.is_finite() {
        return Err(Error::InvalidParameter(format!(
            "white balance {temperature} K / tint {tint} out of range (1000–50000 K)"
        )));
    }
    let (x, y) = kelvin_tint_xy(f64::from(temperature), f64::from(tint));
    let Some(m) = matrix_for_white(raw, (x, y)) else {
        return Err(Error::InvalidParameter(
            "Kelvin white balance needs the camera's colour matrix, which this file lacks".into(),
        ));
    };
    let xyz = [x / y, 1.0, (1.0 - x - y) / y].map(|v| v as f32);
    let mut out = [1.0f32; 3];
    for (o, row) in out.iter_mut().zip(m) {
        let neutral: f32 = row.iter().zip(xyz).map(|(a, b)| a * b).sum();
        if !(neutral > 1e-6) {
            return Err(Error::InvalidParameter(format!(
                "{temperature} K is outside what this camera matrix can balance"
            )));
        }
        *o = 1.0 / neutral;
    }
    Ok(out)
}

/// How a white balance is written in a recipe.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WbRepr {
    /// "as-shot", "auto", "daylight".
    Name(String),
    /// `{ kelvin = 5500, tint = 0 }`.
    Kelvin {
        /// Temperature.
        kelvin: f32,
        /// Tint.
        #[serde(default)]
        tint: f32,
    },
    /// `{ multipliers = [r, g, b] }`.
    Multipliers {
        /// R, G, B.
        multipliers: [f32; 3],
    },
}

impl TryFrom<WbRepr> for WhiteBalance {
    type Error = String;
    fn try_from(r: WbRepr) -> std::result::Result<Self, String> {
        Ok(match r {
            WbRepr::Name(n) => match n.to_ascii_lowercase().as_str() {
                "as-shot" | "asshot" | "camera" => WhiteBalance::AsShot,
                "auto" => WhiteBalance::Auto,
                "daylight" | "d65" => WhiteBalance::Daylight,
                other => return Err(format!("unknown white balance {other:?} (as-shot, auto, daylight, {{ kelvin, tint }} or {{ multipliers }})")),
            },
            WbRepr::Kelvin { kelvin, tint } => WhiteBalance::Kelvin { temperature: kelvin, tint },
            WbRepr::Multipliers { multipliers } => WhiteBalance::Multipliers(multipliers),
        })
    }
}

impl From<WhiteBalance> for WbRepr {
    fn from(w: WhiteBalance) -> Self {
        match w {
            WhiteBalance::AsShot => WbRepr::Name("as-shot".into()),
            WhiteBalance::Auto => WbRepr::Name("auto".into()),
            WhiteBalance::Daylight => WbRepr::Name("daylight".into()),
            WhiteBalance::Kelvin { temperature, tint } => WbRepr::Kelvin {
                kelvin: temperature,
                tint,
            },
            WhiteBalance::Multipliers(m) => WbRepr::Multipliers { multipliers: m },
        }
    }
}

/// Multipliers that make D65 light neutral, from the camera matrix (the one
/// interpolated for D65 when the file has two; 1, 1, 1 without any).
pub fn daylight(raw: &RawImage) -> [f32; 3] {
    let d65 = f64::from(D65_XYZ[0] + D65_XYZ[1] + D65_XYZ[2]);
    let xy = (f64::from(D65_XYZ[0]) / d65, f64::from(D65_XYZ[1]) / d65);
    let Some(m) = matrix_for_white(raw, xy) else {
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

/// One value times its channel's multiplier, clipped at white: the arithmetic
/// of [`apply`], which the strip path's tile loader calls per value too.
#[inline(always)]
pub(crate) fn balance_clipped(v: f32, gain: f32) -> f32 {
    (v * gain).min(1.0)
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
                        *row = balance_clipped(*row, *gain);
                    }
                });
        }
        SensorData::Rgb(img) => {
            img.data
                .par_chunks_mut(3 * img.width.max(1))
                .for_each(|row| {
                    for px in row.chunks_exact_mut(3) {
                        for (v, g) in px.iter_mut().zip(mult) {
                            *v = balance_clipped(*v, g);
                        }
                    }
                });
        }
    }
}

#[cfg(test)]
mod kelvin_tests {
    use super::*;
    use crate::color::locus::cct_to_xy;

    #[test]
    fn loci_hit_known_points() {
        let (x, y) = cct_to_xy(6504.0);
        assert!(
            (x - 0.3127).abs() < 0.001 && (y - 0.3291).abs() < 0.001,
            "{x} {y}"
        );
        let (x, y) = cct_to_xy(2856.0); // illuminant A
        assert!(
            (x - 0.4476).abs() < 0.002 && (y - 0.4074).abs() < 0.002,
            "{x} {y}"
        );
        let (x, y) = cct_to_xy(5003.0); // D50
        assert!(
            (x - 0.3457).abs() < 0.001 && (y - 0.3585).abs() < 0.001,
            "{x} {y}"
        );
    }

    #[test]
    fn positive_tint_assumes_greener_light() {
        let (_, y0) = kelvin_tint_xy(5500.0, 0.0);
        let (_, y1) = kelvin_tint_xy(5500.0, 30.0);
        assert!(y1 > y0, "greener light raises y: {y0} {y1}");
    }
}
