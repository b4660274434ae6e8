//! Colorimetry shared by the synthesiser and the scorer: the sRGB transfer
//! curve, the sRGB → XYZ matrix and small 3×3 helpers.

/// A 3×3 matrix, row major.
pub type Mat3 = [[f64; 3]; 3];

/// Linear sRGB → CIE XYZ (D65), derived in full precision from the sRGB
/// primaries (0.64, 0.33), (0.30, 0.60), (0.15, 0.06) and white (0.3127, 0.3290)
/// of IEC 61966-2-1 (it rounds to the standard's four-decimal table).
/// A developer that wants to reproduce the ground truth exactly must use the
/// inverse of this matrix for XYZ → sRGB.
pub const SRGB_TO_XYZ: Mat3 = [
    [
        0.412_390_799_265_959_5,
        0.357_584_339_383_878,
        0.180_480_788_401_834_3,
    ],
    [
        0.212_639_005_871_510_4,
        0.715_168_678_767_755_9,
        0.072_192_315_360_733_7,
    ],
    [
        0.019_330_818_715_591_8,
        0.119_194_779_794_626,
        0.950_532_152_249_660_6,
    ],
];

/// XYZ of the D65 white point with Y = 1 (the row sums of [`SRGB_TO_XYZ`]).
pub const D65_WHITE_XYZ: [f64; 3] = [0.950_455_927_051_671_7, 1.0, 1.089_057_750_759_878_4];

/// The exact sRGB decoding curve (IEC 61966-2-1): encoded value in [0, 1] → linear.
pub fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.040_45 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// The exact sRGB encoding curve: linear in [0, 1] → encoded value.
pub fn linear_to_srgb(v: f64) -> f64 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// Linear values of the 256 8-bit sRGB codes.
pub fn srgb8_to_linear_table() -> [f64; 256] {
    let mut t = [0.0; 256];
    for (i, v) in t.iter_mut().enumerate() {
        *v = srgb_to_linear(i as f64 / 255.0);
    }
    t
}

/// `m · v`.
pub fn mul_vec(m: &Mat3, v: [f64; 3]) -> [f64; 3] {
    [
        m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
        m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
        m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
    ]
}

/// `a · b`.
pub fn mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut r = [[0.0; 3]; 3];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    r
}

/// The inverse of `m`, or `None` when it is (numerically) singular.
pub fn inverse(m: &Mat3) -> Option<Mat3> {
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let cof = [
        [c(1, 1, 2, 2), -c(1, 0, 2, 2), c(1, 0, 2, 1)],
        [-c(0, 1, 2, 2), c(0, 0, 2, 2), -c(0, 0, 2, 1)],
        [c(0, 1, 1, 2), -c(0, 0, 1, 2), c(0, 0, 1, 1)],
    ];
    let det = m[0][0] * cof[0][0] + m[0][1] * cof[0][1] + m[0][2] * cof[0][2];
    if !det.is_finite() || det.abs() < 1e-12 {
        return None;
    }
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            // Inverse = adjugate / det; adjugate is the transposed cofactor matrix.
            *v = cof[j][i] / det;
        }
    }
    Some(inv)
}

/// CIE 1931 xy of the Planckian (black-body) locus at `kelvin` (1667–25000 K),
/// from the cubic-spline fit of Kim et al. (2002).
pub fn planckian_xy(kelvin: f64) -> (f64, f64) {
    let t = kelvin.clamp(1667.0, 25000.0);
    let (t2, t3) = (t * t, t * t * t);
    let x = if t <= 4000.0 {
        -0.266_123_9e9 / t3 - 0.234_358_9e6 / t2 + 0.877_695_6e3 / t + 0.179_910
    } else {
        -3.025_846_9e9 / t3 + 2.107_037_9e6 / t2 + 0.222_634_7e3 / t + 0.240_390
    };
    let y = if t <= 2222.0 {
        -1.106_381_4 * x.powi(3) - 1.348_110_20 * x * x + 2.185_558_32 * x - 0.202_196_83
    } else if t <= 4000.0 {
        -0.954_947_6 * x.powi(3) - 1.374_185_93 * x * x + 2.091_370_15 * x - 0.167_488_67
    } else {
        3.081_758_0 * x.powi(3) - 5.873_386_70 * x * x + 3.751_129_97 * x - 0.370_014_83
    };
    (x, y)
}

/// XYZ with Y = 1 of chromaticity `(x, y)`.
pub fn xy_to_xyz((x, y): (f64, f64)) -> [f64; 3] {
    [x / y, 1.0, (1.0 - x - y) / y]
}

/// The linear Bradford chromatic adaptation (the one ICC and DNG use)
/// taking XYZ white `from` to XYZ white `to`.
pub fn bradford(from: [f64; 3], to: [f64; 3]) -> Mat3 {
    const B: Mat3 = [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ];
    let (s, d) = (mul_vec(&B, from), mul_vec(&B, to));
    let gain = [d[0] / s[0], d[1] / s[1], d[2] / s[2]];
    let scaled = [0, 1, 2].map(|k| B[k].map(|v| v * gain[k]));
    // B is a fixed, well-conditioned matrix: its inverse always exists.
    const IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    mul(&inverse(&B).unwrap_or(IDENTITY), &scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_round_trips_and_is_continuous() {
        for i in 0..=1000 {
            let v = i as f64 / 1000.0;
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 1e-12);
        }
        assert!((srgb_to_linear(0.040_45) - 0.040_45 / 12.92).abs() < 1e-15);
        assert!((srgb_to_linear(0.040_46) - srgb_to_linear(0.040_45)).abs() < 1e-5);
        assert_eq!(srgb_to_linear(1.0), 1.0);
    }

    #[test]
    fn white_is_row_sums_and_inverse_works() {
        let w = mul_vec(&SRGB_TO_XYZ, [1.0; 3]);
        for k in 0..3 {
            assert!((w[k] - D65_WHITE_XYZ[k]).abs() < 1e-12);
        }
        let inv = inverse(&SRGB_TO_XYZ).unwrap();
        let id = mul(&inv, &SRGB_TO_XYZ);
        for (i, row) in id.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(inverse(&[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]]).is_none());
    }

    #[test]
    fn planckian_locus_and_bradford() {
        // CIE illuminant A (0.4476, 0.4074) is a black body at 2856 K with the
        // old radiation constant (2848 K with today's): within 1e-3 here.
        // 4000 K ≈ (0.3805, 0.3768).
        let (x, y) = planckian_xy(2856.0);
        assert!(
            (x - 0.4476).abs() < 1e-3 && (y - 0.4074).abs() < 1e-3,
            "{x} {y}"
        );
        let (x, y) = planckian_xy(4000.0);
        assert!(
            (x - 0.3805).abs() < 5e-4 && (y - 0.3768).abs() < 5e-4,
            "{x} {y}"
        );
        let w = xy_to_xyz(planckian_xy(4000.0));
        let b = bradford(D65_WHITE_XYZ, w);
        let out = mul_vec(&b, D65_WHITE_XYZ);
        for k in 0..3 {
            assert!((out[k] - w[k]).abs() < 1e-12);
        }
        let id = bradford(w, w);
        for (i, row) in id.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
    }
}
