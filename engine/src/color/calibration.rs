//! DNG dual-illuminant colour calibration.
//!
//! A DNG file may carry two colour matrices, `ColorMatrix1` and
//! `ColorMatrix2`, each measured under its own illuminant
//! (`CalibrationIlluminant1/2`, typically Standard light A ≈ 2856 K and
//! D65 ≈ 6504 K). The DNG specification ("Mapping Camera Color Space to CIE
//! XYZ Space") describes the camera under any other white by interpolating the
//! two matrices with a weight linear in *inverse* correlated colour
//! temperature between the two illuminants, clamped outside them
//! ([`interpolation_weight`], [`xyz_to_camera_at`]).
//!
//! Which white? For a Kelvin/tint request it is that light's chromaticity.
//! For a camera neutral (the as-shot neutral, or any multipliers) it is found
//! by iteration, as the DNG SDK does it: guess xy → colour temperature →
//! interpolated matrix → XYZ = matrix⁻¹ · neutral → xy → … until the guess
//! stops moving ([`neutral_to_xy`]).
//!
//! The interpolated matrix then serves both the white-balance multipliers of a
//! Kelvin or daylight request (`white_balance`) and camera → XYZ
//! ([`camera_to_srgb_for`]). As in the DNG specification, camera → XYZ maps the
//! camera neutral to the white's XYZ through the inverse of the interpolated
//! matrix and then adapts that white to D65 with the linear Bradford
//! transform, so a neutral stays exactly neutral. Files with a single matrix
//! keep the plain [`color::camera_to_srgb`] path.

use super::locus::xy_to_temperature;
use super::matrix::{self as color, Matrix3, SRGB_TO_XYZ};
pub use crate::raw::illuminant_temperature;
use crate::raw::{DualIlluminant, RawImage};

/// A 3×3 matrix in double precision, rows first.
use super::matrix::{invert_f64 as invert, multiply_f64 as mul, Matrix3d as M3};

/// xy of the D50 white point, where the DNG SDK starts its search.
const D50_XY: (f64, f64) = (0.3457, 0.3585);

/// The weight of `dual.low`'s matrix for a white of `temperature` kelvin:
/// 1 at or below the low illuminant's temperature, 0 at or above the high
/// one's, linear in 1/temperature between them (DNG specification).
pub fn interpolation_weight(dual: &DualIlluminant, temperature: f64) -> f64 {
    let t1 = f64::from(dual.low.temperature);
    let t2 = f64::from(dual.high.temperature);
    if !(temperature.is_finite() && temperature > 0.0) || t2 <= t1 {
        return 0.0;
    }
    if temperature <= t1 {
        return 1.0;
    }
    if temperature >= t2 {
        return 0.0;
    }
    ((1.0 / temperature - 1.0 / t2) / (1.0 / t1 - 1.0 / t2)).clamp(0.0, 1.0)
}

/// The XYZ → camera matrix for a white of chromaticity `xy`: the two
/// calibrations interpolated at its colour temperature.
pub fn xyz_to_camera_at(dual: &DualIlluminant, xy: (f64, f64)) -> Matrix3 {
    let g = interpolation_weight(dual, xy_to_temperature(xy)) as f32;
    let mut m = [[0.0f32; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = g * dual.low.xyz_to_cam[i][j] + (1.0 - g) * dual.high.xyz_to_cam[i][j];
        }
    }
    m
}

/// XYZ with Y = 1 of chromaticity `xy`.
pub fn xy_to_xyz((x, y): (f64, f64)) -> [f64; 3] {
    [x / y, 1.0, (1.0 - x - y) / y]
}

/// The chromaticity of the white that the camera records as `neutral`
/// (camera RGB of a neutral subject, any scale), found by the DNG SDK's
/// fixed-point iteration; `None` when the neutral is not positive or the
/// matrices cannot map it to a real colour.
pub fn neutral_to_xy(dual: &DualIlluminant, neutral: [f32; 3]) -> Option<(f64, f64)> {
    if neutral.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return None;
    }
    let n = neutral.map(f64::from);
    let mut last = D50_XY;
    const PASSES: usize = 30;
    for pass in 0..PASSES {
        let m = to_f64(&xyz_to_camera_at(dual, last));
        let xyz = mul_vec(&invert(&m)?, n);
        let mut next = xyz_to_xy(xyz)?;
        if (next.0 - last.0).abs() + (next.1 - last.1).abs() < 1e-7 {
            return Some(next);
        }
        if pass == PASSES - 1 {
            // Still moving: settle between the last two guesses.
            next = ((last.0 + next.0) / 2.0, (last.1 + next.1) / 2.0);
        }
        last = next;
    }
    Some(last)
}

/// The camera neutral (camera RGB of a neutral subject, largest component 1)
/// under light of chromaticity `xy`, through the interpolated matrix.
pub fn xy_to_neutral(dual: &DualIlluminant, xy: (f64, f64)) -> Option<[f32; 3]> {
    let m = to_f64(&xyz_to_camera_at(dual, xy));
    let n = mul_vec(&m, xy_to_xyz(xy));
    let max = n.iter().copied().fold(f64::MIN, f64::max);
    (n.iter().all(|v| v.is_finite() && *v > 0.0) && max > 0.0).then(|| n.map(|v| (v / max) as f32))
}

/// The linear Bradford chromatic adaptation taking XYZ white `from` to XYZ
/// white `to` (either scale; `from` maps exactly onto `to`).
pub fn bradford(from: [f64; 3], to: [f64; 3]) -> Option<M3> {
    const B: M3 = [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ];
    let (s, d) = (mul_vec(&B, from), mul_vec(&B, to));
    if s.iter().any(|v| v.abs() < 1e-12) {
        return None;
    }
    let mut scaled = B;
    for (k, row) in scaled.iter_mut().enumerate() {
        for v in row.iter_mut() {
            *v *= d[k] / s[k];
        }
    }
    Some(mul(&invert(&B)?, &scaled))
}

/// The matrix taking white-balanced camera RGB to linear sRGB when the
/// white balance made `neutral` (camera RGB, any scale) neutral: camera →
/// XYZ through the matrix interpolated for that white, then Bradford from
/// that white to D65, scaled so that camera (1, 1, 1) becomes sRGB (1, 1, 1).
/// `None` when the neutral or the matrices are unusable.
pub fn dual_camera_to_srgb(dual: &DualIlluminant, neutral: [f32; 3]) -> Option<Matrix3> {
    let xy = neutral_to_xy(dual, neutral)?;
    let m = to_f64(&xyz_to_camera_at(dual, xy));
    let cam_to_xyz = invert(&m)?;
    let n = neutral.map(f64::from);
    let white = mul_vec(&cam_to_xyz, n);
    if !(white[1] > 0.0) {
        return None;
    }
    let srgb_to_xyz = to_f64(&SRGB_TO_XYZ);
    let d65 = mul_vec(&srgb_to_xyz, [1.0; 3]);
    let adapt = bradford(white, d65)?;
    // Undo the white balance (multipliers ∝ 1/neutral), camera → XYZ, adapt, → sRGB.
    let mut unbalance = [[0.0; 3]; 3];
    for (k, row) in unbalance.iter_mut().enumerate() {
        row[k] = n[k];
    }
    let t = mul(
        &invert(&srgb_to_xyz)?,
        &mul(&adapt, &mul(&cam_to_xyz, &unbalance)),
    );
    // The neutral now lands on D65 at some level; make that level 1.
    let level = t.iter().map(|r| r.iter().sum::<f64>()).sum::<f64>() / 3.0;
    if !(level.is_finite() && level > 0.0) {
        return None;
    }
    let out = t.map(|r| r.map(|v| (v / level) as f32));
    out.iter().flatten().all(|v| v.is_finite()).then_some(out)
}

/// The matrix taking camera RGB balanced with multipliers `mult` to linear
/// sRGB: the dual-illuminant path ([`dual_camera_to_srgb`]) when `raw` has two
/// calibrations, otherwise exactly [`color::camera_to_srgb`] of its one matrix.
pub fn camera_to_srgb_for(raw: &RawImage, mult: [f32; 3]) -> Matrix3 {
    let single = || color::camera_to_srgb(raw.xyz_to_cam.as_ref());
    let Some(dual) = raw.dual_illuminant.as_ref() else {
        return single();
    };
    if mult.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return single();
    }
    dual_camera_to_srgb(dual, mult.map(|m| 1.0 / m)).unwrap_or_else(single)
}

fn to_f64(m: &Matrix3) -> M3 {
    m.map(|r| r.map(f64::from))
}

fn mul_vec(m: &M3, v: [f64; 3]) -> [f64; 3] {
    m.map(|r| r[0] * v[0] + r[1] * v[1] + r[2] * v[2])
}

fn xyz_to_xy(xyz: [f64; 3]) -> Option<(f64, f64)> {
    let sum = xyz[0] + xyz[1] + xyz[2];
    let xy = (xyz[0] / sum, xyz[1] / sum);
    (sum.is_finite() && sum > 0.0 && xy.0 > 0.0 && xy.1 > 0.0 && xy.0 + xy.1 < 1.0).then_some(xy)
}

/// The matrix from white-balanced (by `mult`) camera RGB to the working
/// space (linear Rec.2020).
pub fn camera_to_working(raw: &RawImage, mult: [f32; 3]) -> Matrix3 {
    color::multiply(
        &super::space::srgb_to_working(),
        &camera_to_srgb_for(raw, mult),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::locus::planckian_xy;
    use crate::raw::CalibratedMatrix;

    /// Canon EOS 5D Mark II, Adobe DNG Converter ColorMatrix1 (Standard light A)
    /// and ColorMatrix2 (D65), as the corpus crate writes them.
    fn canon() -> DualIlluminant {
        let m = |v: [f32; 9]| [[v[0], v[1], v[2]], [v[3], v[4], v[5]], [v[6], v[7], v[8]]];
        let a = CalibratedMatrix::new(
            17,
            m([
                0.5309, -0.0229, -0.0336, -0.6241, 1.3265, 0.3337, -0.0817, 0.1215, 0.6664,
            ]),
        )
        .unwrap();
        let d65 = CalibratedMatrix::new(
            21,
            m([
                0.4716, 0.0603, -0.0830, -0.7798, 1.5474, 0.2480, -0.1496, 0.1937, 0.6651,
            ]),
        )
        .unwrap();
        DualIlluminant::new(d65, a).unwrap()
    }

    #[test]
    fn temperatures_of_known_chromaticities() {
        for (xy, k) in [
            ((0.44757, 0.40745), 2856.0), // A
            ((0.31271, 0.32902), 6504.0), // D65
            ((0.34567, 0.35850), 5003.0), // D50
        ] {
            let t = xy_to_temperature(xy);
            assert!((t - k).abs() < 15.0, "{xy:?}: {t} K, expected {k}");
        }
        for k in [2000.0, 3000.0, 4000.0, 5500.0, 9000.0] {
            let t = xy_to_temperature(planckian_xy(k));
            assert!((t - k).abs() / k < 1e-4, "{k} → {t}");
        }
        let (x, y) = planckian_xy(4000.0);
        assert!(
            (x - 0.3805).abs() < 5e-4 && (y - 0.3768).abs() < 5e-4,
            "{x} {y}"
        );
    }

    #[test]
    fn weights_are_linear_in_inverse_temperature_and_clamped() {
        let d = canon();
        assert_eq!(d.low.illuminant, 17);
        assert_eq!(interpolation_weight(&d, 2000.0), 1.0);
        assert_eq!(interpolation_weight(&d, 2856.0), 1.0);
        assert_eq!(interpolation_weight(&d, 6504.0), 0.0);
        assert_eq!(interpolation_weight(&d, 12000.0), 0.0);
        let mid = 2.0 / (1.0 / 2856.0 + 1.0 / 6504.0);
        assert!((interpolation_weight(&d, mid) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn neutral_iteration_finds_the_white_back() {
        let d = canon();
        for k in [2600.0, 3200.0, 4000.0, 5000.0, 6504.0, 8000.0] {
            let xy = planckian_xy(k);
            let n = xy_to_neutral(&d, xy).unwrap();
            let back = neutral_to_xy(&d, n).unwrap();
            assert!(
                (back.0 - xy.0).abs() < 2e-5 && (back.1 - xy.1).abs() < 2e-5,
                "{k} K: {xy:?} → {back:?}"
            );
        }
        assert_eq!(neutral_to_xy(&d, [0.0, 1.0, 1.0]), None);
        assert_eq!(neutral_to_xy(&d, [f32::NAN, 1.0, 1.0]), None);
    }

    #[test]
    fn dual_matrix_keeps_neutrals_neutral() {
        let d = canon();
        for k in [2856.0, 4000.0, 6504.0] {
            let n = xy_to_neutral(&d, planckian_xy(k)).unwrap();
            let m = dual_camera_to_srgb(&d, n).unwrap();
            for row in m {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{k}: {m:?}");
            }
        }
    }

    #[test]
    fn at_d65_the_dual_path_equals_the_single_matrix_path() {
        let d = canon();
        let n = xy_to_neutral(&d, planckian_xy(6504.0)).unwrap();
        // The D65 neutral of the D65 matrix itself.
        let d65 = (0.312_71, 0.329_02);
        let n65 = {
            let m = to_f64(&d.high.xyz_to_cam);
            let v = mul_vec(&m, xy_to_xyz(d65));
            let max = v.iter().copied().fold(f64::MIN, f64::max);
            v.map(|x| (x / max) as f32)
        };
        let dual = dual_camera_to_srgb(&d, n65).unwrap();
        let single = color::camera_to_srgb(Some(&d.high.xyz_to_cam));
        for (a, b) in dual.iter().flatten().zip(single.iter().flatten()) {
            assert!((a - b).abs() < 2e-3, "{dual:?}\n{single:?}");
        }
        assert!(n.iter().all(|v| *v > 0.0));
    }

    #[test]
    fn unknown_illuminants_and_equal_temperatures_are_refused() {
        let m = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert!(CalibratedMatrix::new(0, m).is_none());
        assert!(CalibratedMatrix::new(255, m).is_none());
        assert!(CalibratedMatrix::new(21, [[0.0; 3]; 3]).is_none());
        let a = CalibratedMatrix::new(21, m).unwrap();
        let b = CalibratedMatrix::new(21, m).unwrap();
        assert!(DualIlluminant::new(a, b).is_none());
    }
}
