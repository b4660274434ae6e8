//! Measuring demosaic quality against a known full-colour image.
//!
//! Used by the tests and by `examples/demosaic_quality.rs`: take a ground-truth
//! image, sample it through a CFA ([`mosaic_from_rgb`]), demosaic, and compare
//! ([`cpsnr_srgb8`]).
//!
//! ```
//! use rawflow::internals::demosaic::{demosaic, quality, DemosaicMethod};
//! use rawflow::internals::cfa::{BayerPhase, Cfa};
//! use rawflow::internals::image::RgbF32;
//!
//! let mut truth = RgbF32::new(32, 32);
//! for (i, v) in truth.data.iter_mut().enumerate() {
//!     *v = 0.25 + 0.5 * ((i % 3) as f32) / 2.0;
//! }
//! let mosaic = quality::mosaic_from_rgb(&truth, &Cfa::bayer(BayerPhase::Rggb));
//! let out = demosaic(&mosaic, DemosaicMethod::Bilinear).unwrap();
//! assert!(quality::cpsnr_srgb8(&truth, &out, 8) > 60.0);
//! ```

use crate::cfa::Cfa;
use crate::image::{Mosaic, RgbF32};

/// The sRGB transfer function's inverse: encoded value (0..1) to linear light.
pub fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// The sRGB transfer function: linear light (0..1) to encoded value, clipped to 0..1.
pub fn linear_to_srgb(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// Sample a full-colour image through `cfa` (pattern origin at the top-left pixel).
pub fn mosaic_from_rgb(rgb: &RgbF32, cfa: &Cfa) -> Mosaic {
    let mut data = Vec::with_capacity(rgb.width * rgb.height);
    for y in 0..rgb.height {
        for x in 0..rgb.width {
            let c = cfa.color_at(y, x).index();
            data.push(rgb.data[(y * rgb.width + x) * 3 + c].clamp(0.0, 1.0));
        }
    }
    Mosaic {
        width: rgb.width,
        height: rgb.height,
        cfa: cfa.clone(),
        data,
    }
}

/// Colour PSNR in dB between two linear images after encoding both to 8-bit
/// sRGB, excluding `border` pixels on every side. Identical images give
/// `f64::INFINITY`; images of different sizes (or nothing left inside the
/// border) give `f64::NAN`.
pub fn cpsnr_srgb8(truth: &RgbF32, test: &RgbF32, border: usize) -> f64 {
    if truth.width != test.width || truth.height != test.height {
        return f64::NAN;
    }
    let (w, h) = (truth.width, truth.height);
    if w <= 2 * border || h <= 2 * border {
        return f64::NAN;
    }
    let q = |v: f32| (linear_to_srgb(v) * 255.0).round() as f64;
    let mut se = 0.0f64;
    let mut n = 0usize;
    for y in border..h - border {
        let a = &truth.data[(y * w + border) * 3..(y * w + w - border) * 3];
        let b = &test.data[(y * w + border) * 3..(y * w + w - border) * 3];
        for (&u, &v) in a.iter().zip(b) {
            let d = q(u) - q(v);
            se += d * d;
            n += 1;
        }
    }
    if se == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 * n as f64 / se).log10()
}
