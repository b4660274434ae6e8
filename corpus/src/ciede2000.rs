//! CIELAB and the CIEDE2000 colour difference, implemented as written in
//! G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 Color-Difference Formula:
//! Implementation Notes, Supplementary Test Data, and Mathematical
//! Observations", Color Research & Application 30(1), 2005.

use crate::color::{mul_vec, D65_WHITE_XYZ, SRGB_TO_XYZ};

/// A CIELAB colour (L* in 0..=100).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lab {
    /// Lightness L*.
    pub l: f64,
    /// Green–red axis a*.
    pub a: f64,
    /// Blue–yellow axis b*.
    pub b: f64,
}

impl Lab {
    /// A Lab triple.
    pub const fn new(l: f64, a: f64, b: f64) -> Self {
        Self { l, a, b }
    }
}

const EPSILON: f64 = 216.0 / 24389.0;
const KAPPA: f64 = 24389.0 / 27.0;

fn lab_f(t: f64) -> f64 {
    if t > EPSILON {
        t.cbrt()
    } else {
        (KAPPA * t + 16.0) / 116.0
    }
}

/// CIE XYZ → CIELAB relative to the given reference white.
pub fn xyz_to_lab(xyz: [f64; 3], white: [f64; 3]) -> Lab {
    let fx = lab_f(xyz[0] / white[0]);
    let fy = lab_f(xyz[1] / white[1]);
    let fz = lab_f(xyz[2] / white[2]);
    Lab {
        l: 116.0 * fy - 16.0,
        a: 500.0 * (fx - fy),
        b: 200.0 * (fy - fz),
    }
}

/// Linear sRGB → CIELAB, with the sRGB D65 white as reference white (no
/// chromatic adaptation), so sRGB white is exactly L* = 100, a* = b* = 0.
pub fn linear_srgb_to_lab(rgb: [f64; 3]) -> Lab {
    xyz_to_lab(mul_vec(&SRGB_TO_XYZ, rgb), D65_WHITE_XYZ)
}

/// Hue angle in degrees in [0, 360); 0 when a = b = 0 (as the paper specifies).
fn hue_deg(b: f64, a: f64) -> f64 {
    if a == 0.0 && b == 0.0 {
        return 0.0;
    }
    let h = b.atan2(a).to_degrees();
    if h < 0.0 {
        h + 360.0
    } else {
        h
    }
}

/// CIEDE2000 colour difference ΔE₀₀ with the parametric factors kL = kC = kH = 1.
pub fn ciede2000(lab1: Lab, lab2: Lab) -> f64 {
    ciede2000_weighted(lab1, lab2, 1.0, 1.0, 1.0)
}

/// CIEDE2000 with explicit parametric weights kL, kC, kH.
pub fn ciede2000_weighted(lab1: Lab, lab2: Lab, kl: f64, kc: f64, kh: f64) -> f64 {
    const POW25_7: f64 = 6_103_515_625.0; // 25^7
                                          // Step 1: C'ᵢ, h'ᵢ.
    let c1 = lab1.a.hypot(lab1.b);
    let c2 = lab2.a.hypot(lab2.b);
    let c_bar = (c1 + c2) / 2.0;
    let c_bar7 = c_bar.powi(7);
    let g = 0.5 * (1.0 - (c_bar7 / (c_bar7 + POW25_7)).sqrt());
    let a1p = (1.0 + g) * lab1.a;
    let a2p = (1.0 + g) * lab2.a;
    let c1p = a1p.hypot(lab1.b);
    let c2p = a2p.hypot(lab2.b);
    let h1p = hue_deg(lab1.b, a1p);
    let h2p = hue_deg(lab2.b, a2p);

    // Step 2: ΔL', ΔC', ΔH'.
    let dlp = lab2.l - lab1.l;
    let dcp = c2p - c1p;
    let cp_product = c1p * c2p;
    let dhp = if cp_product == 0.0 {
        0.0
    } else {
        let d = h2p - h1p;
        if d > 180.0 {
            d - 360.0
        } else if d < -180.0 {
            d + 360.0
        } else {
            d
        }
    };
    let dhp_big = 2.0 * cp_product.sqrt() * (dhp.to_radians() / 2.0).sin();

    // Step 3: weighting functions.
    let lp_bar = (lab1.l + lab2.l) / 2.0;
    let cp_bar = (c1p + c2p) / 2.0;
    let hp_bar = if cp_product == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * (hp_bar - 30.0).to_radians().cos()
        + 0.24 * (2.0 * hp_bar).to_radians().cos()
        + 0.32 * (3.0 * hp_bar + 6.0).to_radians().cos()
        - 0.20 * (4.0 * hp_bar - 63.0).to_radians().cos();
    let d_theta = 30.0 * (-((hp_bar - 275.0) / 25.0).powi(2)).exp();
    let cp_bar7 = cp_bar.powi(7);
    let rc = 2.0 * (cp_bar7 / (cp_bar7 + POW25_7)).sqrt();
    let lp50 = (lp_bar - 50.0).powi(2);
    let sl = 1.0 + 0.015 * lp50 / (20.0 + lp50).sqrt();
    let sc = 1.0 + 0.045 * cp_bar;
    let sh = 1.0 + 0.015 * cp_bar * t;
    let rt = -(2.0 * d_theta).to_radians().sin() * rc;

    let tl = dlp / (kl * sl);
    let tc = dcp / (kc * sc);
    let th = dhp_big / (kh * sh);
    (tl * tl + tc * tc + th * th + rt * tc * th).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test data of Sharma, Wu & Dalal (2005): L1 a1 b1, L2 a2 b2, ΔE00.
    const SHARMA: [[f64; 7]; 35] = [
        [50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425],
        [50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615],
        [50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412],
        [
            50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000,
        ],
        [
            50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000,
        ],
        [
            50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000,
        ],
        [50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669],
        [50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195],
        [50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461],
        [50.0000, -0.0010, 2.4900, 50.0000, 0.0012, -2.4900, 4.7461],
        [50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065],
        [50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492],
        [50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977],
        [50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030],
        [50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535],
        [50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000],
        [50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000],
        [50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000],
        [50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000],
        [
            60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644,
        ],
        [
            63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630,
        ],
        [61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731],
        [35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645],
        [
            22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373,
        ],
        [36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146],
        [90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441],
        [90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381],
        [6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377],
        [2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082],
    ];

    #[test]
    fn sharma_reference_pairs() {
        for (i, r) in SHARMA.iter().enumerate() {
            let a = Lab::new(r[0], r[1], r[2]);
            let b = Lab::new(r[3], r[4], r[5]);
            let d = ciede2000(a, b);
            let d_rev = ciede2000(b, a);
            // The table gives four decimals.
            assert!((d - r[6]).abs() < 5e-5, "pair {}: {d} vs {}", i + 1, r[6]);
            assert!(
                (d_rev - r[6]).abs() < 5e-5,
                "pair {} reversed: {d_rev}",
                i + 1
            );
        }
    }

    #[test]
    fn identical_colours_have_zero_difference() {
        let c = Lab::new(40.0, 12.0, -7.0);
        assert_eq!(ciede2000(c, c), 0.0);
    }

    #[test]
    fn srgb_lab_anchors() {
        let white = linear_srgb_to_lab([1.0; 3]);
        assert!((white.l - 100.0).abs() < 1e-9 && white.a.abs() < 1e-9 && white.b.abs() < 1e-9);
        let red = linear_srgb_to_lab([1.0, 0.0, 0.0]);
        // Well-known sRGB red: L* 53.24, a* 80.09, b* 67.20.
        assert!((red.l - 53.24).abs() < 0.02, "{red:?}");
        assert!((red.a - 80.09).abs() < 0.05, "{red:?}");
        assert!((red.b - 67.20).abs() < 0.05, "{red:?}");
    }
}
