//! The illuminant locus: correlated colour temperature ↔ chromaticity, and
//! the CIE 1931 xy ↔ CIE 1960 uv conversions they are measured in.

/// CIE 1931 xy of a correlated colour temperature: the CIE daylight locus
/// from 4000 K, the Planckian locus (Kim et al. cubic fit) below.
pub fn cct_to_xy(kelvin: f64) -> (f64, f64) {
    let t = kelvin.clamp(1667.0, 25000.0);
    if t >= 4000.0 {
        let x = if t <= 7000.0 {
            -4.6070e9 / t.powi(3) + 2.9678e6 / t.powi(2) + 0.09911e3 / t + 0.244063
        } else {
            -2.0064e9 / t.powi(3) + 1.9018e6 / t.powi(2) + 0.24748e3 / t + 0.237040
        };
        (x, -3.0 * x * x + 2.870 * x - 0.275)
    } else {
        let x =
            -0.266_123_9e9 / t.powi(3) - 0.234_358_9e6 / t.powi(2) + 0.877_695_6e3 / t + 0.179910;
        let y = if t <= 2222.0 {
            -1.106_381_4 * x.powi(3) - 1.348_110_20 * x * x + 2.185_558_32 * x - 0.202_196_83
        } else {
            -0.954_947_6 * x.powi(3) - 1.374_185_93 * x * x + 2.091_370_15 * x - 0.167_488_67
        };
        (x, y)
    }
}

/// CIE 1931 xy → CIE 1960 uv.
pub fn xy_to_uv((x, y): (f64, f64)) -> (f64, f64) {
    let d = -2.0 * x + 12.0 * y + 3.0;
    (4.0 * x / d, 6.0 * y / d)
}

/// CIE 1960 uv → CIE 1931 xy.
pub fn uv_to_xy((u, v): (f64, f64)) -> (f64, f64) {
    let d = 2.0 * u - 8.0 * v + 4.0;
    (3.0 * u / d, 2.0 * v / d)
}

/// xy of the illuminant `kelvin` moved off the locus by `tint`: positive
/// tint assumes greener light (above the locus in CIE 1960 uv), which renders
/// the image more magenta, as in Lightroom; 3000 tint units = 1 Δuv.
pub fn kelvin_tint_xy(kelvin: f64, tint: f64) -> (f64, f64) {
    let p = xy_to_uv(cct_to_xy(kelvin));
    if tint == 0.0 {
        return uv_to_xy(p);
    }
    let a = xy_to_uv(cct_to_xy(kelvin * 0.99));
    let b = xy_to_uv(cct_to_xy(kelvin * 1.01));
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-12);
    // Normal pointing towards green (above the locus): rotate the tangent.
    let (mut nx, mut ny) = (-dy / len, dx / len);
    if ny < 0.0 {
        nx = -nx;
        ny = -ny;
    }
    let d = tint / 3000.0;
    uv_to_xy((p.0 + nx * d, p.1 + ny * d))
}

/// CIE 1960 (u, v) of the Planckian (black-body) locus at `kelvin`, from
/// Krystek's rational approximation (1985; valid 1000–15000 K, error below
/// 1e-4 in u and v).
pub fn planckian_uv(kelvin: f64) -> (f64, f64) {
    let t = kelvin.clamp(1000.0, 15000.0);
    let u = (0.860_117_757 + 1.541_182_54e-4 * t + 1.286_412_12e-7 * t * t)
        / (1.0 + 8.424_202_35e-4 * t + 7.081_451_63e-7 * t * t);
    let v = (0.317_398_726 + 4.228_062_45e-5 * t + 4.204_816_91e-8 * t * t)
        / (1.0 - 2.897_418_16e-5 * t + 1.614_560_53e-7 * t * t);
    (u, v)
}

/// CIE 1931 xy of the Planckian locus at `kelvin` (see [`planckian_uv`]).
pub fn planckian_xy(kelvin: f64) -> (f64, f64) {
    uv_to_xy(planckian_uv(kelvin))
}

/// The correlated colour temperature of chromaticity `xy`: the temperature
/// of the nearest point of the Planckian locus in CIE 1960 uv, searched in
/// mireds between 1000 K and 15000 K (so the result is clamped to that range).
pub fn xy_to_temperature(xy: (f64, f64)) -> f64 {
    let (u0, v0) = xy_to_uv(xy);
    let dist = |mired: f64| {
        let (u, v) = planckian_uv(1e6 / mired);
        (u - u0).powi(2) + (v - v0).powi(2)
    };
    let (lo_m, hi_m) = (1e6 / 15000.0, 1e6 / 1000.0);
    // Coarse scan, one mired apart, then golden-section refinement around the best.
    let mut best = lo_m;
    let mut best_d = f64::INFINITY;
    let mut m = lo_m;
    while m <= hi_m {
        let d = dist(m);
        if d < best_d {
            best_d = d;
            best = m;
        }
        m += 1.0;
    }
    let (mut a, mut b) = ((best - 1.0).max(lo_m), (best + 1.0).min(hi_m));
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..60 {
        let c = b - g * (b - a);
        let d = a + g * (b - a);
        if dist(c) < dist(d) {
            b = d;
        } else {
            a = c;
        }
    }
    1e6 / ((a + b) / 2.0)
}
