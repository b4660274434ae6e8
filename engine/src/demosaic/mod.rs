//! Demosaicing: from one colour per photosite to three per pixel.
//!
//! Input is a [`Mosaic`] after levels and white balance (0.0 black, 1.0 white,
//! each channel already scaled so that a neutral grey has equal values);
//! output is camera-space RGB of the same size, with every recorded sample
//! kept unchanged and all values in 0..=1.
//!
//! Methods by pattern:
//!
//! | method | Bayer (any phase) | X-Trans (any shift) |
//! |---|---|---|
//! | [`DemosaicMethod::Bilinear`] | bilinear | 3×3 neighbourhood mean |
//! | [`DemosaicMethod::Fast`] | RCD (ratio corrected), gamma-encoded | directional, homogeneity-directed |
//! | [`DemosaicMethod::Best`] | directional LMMSE + median refinement | as `Fast` |
//!
//! Images smaller than a few CFA periods use a simple nearest-samples method.
//! Work runs on the caller's rayon pool, in row strips.
//!
//! ```
//! use rawflow::demosaic::{demosaic, DemosaicMethod};
//! use rawflow::{BayerPhase, Cfa, Mosaic};
//!
//! let mosaic = Mosaic {
//!     width: 16,
//!     height: 16,
//!     cfa: Cfa::bayer(BayerPhase::Rggb),
//!     data: vec![0.5; 256],
//! };
//! let rgb = demosaic(&mosaic, DemosaicMethod::Fast).unwrap();
//! assert!(rgb.pixel(7, 7).iter().all(|v| (v - 0.5).abs() < 1e-5));
//! ```

mod curve;
mod lmmse;
pub mod quality;
mod rcd;
mod simple;
mod tile;
mod xtrans;

use crate::error::{Error, Result};
use crate::image::{Mosaic, RgbF32};

/// Which demosaicing algorithm to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DemosaicMethod {
    /// Bilinear interpolation: the simplest correct method, a reference only.
    Bilinear,
    /// The default: a fast, directional, high-quality method (RCD on Bayer).
    #[default]
    Fast,
    /// The best quality this engine has, at a higher cost (LMMSE on Bayer).
    Best,
}

impl DemosaicMethod {
    /// All methods.
    pub const ALL: [DemosaicMethod; 3] = [Self::Bilinear, Self::Fast, Self::Best];

    /// A short lower-case name ("bilinear", "fast", "best").
    pub fn name(self) -> &'static str {
        match self {
            Self::Bilinear => "bilinear",
            Self::Fast => "fast",
            Self::Best => "best",
        }
    }
}

/// Demosaic `mosaic` with `method`.
///
/// Fails only when the mosaic's data does not match its size.
pub fn demosaic(mosaic: &Mosaic, method: DemosaicMethod) -> Result<RgbF32> {
    let expected = mosaic.width.checked_mul(mosaic.height);
    if expected != Some(mosaic.data.len()) {
        return Err(Error::InvalidParameter(format!(
            "mosaic of {}x{} has {} values",
            mosaic.width,
            mosaic.height,
            mosaic.data.len()
        )));
    }
    let cfa = &mosaic.cfa;
    let period = cfa.width();
    let square = cfa.height() == period;
    // Kernels need a few whole periods of real data; smaller images (and odd
    // patterns that are not square) take the simple path.
    if !square || mosaic.width < 4 * period.max(2) || mosaic.height < 4 * period.max(2) {
        return Ok(simple::tiny(mosaic));
    }
    let colors = tile::phase_colors(cfa);
    let bilinear = || tile::run(mosaic, &simple::Bilinear::new(&colors, period));
    let out = if cfa.bayer_phase().is_some() {
        match method {
            DemosaicMethod::Bilinear => bilinear(),
            DemosaicMethod::Fast => tile::run(mosaic, &curve::Encoded(rcd::Rcd)),
            DemosaicMethod::Best => tile::run(mosaic, &lmmse::Lmmse::default()),
        }
    } else if cfa.is_xtrans() {
        match method {
            DemosaicMethod::Bilinear => bilinear(),
            DemosaicMethod::Fast | DemosaicMethod::Best => {
                tile::run(mosaic, &xtrans::Directional::new(&colors))
            }
        }
    } else {
        bilinear()
    };
    Ok(out)
}

#[cfg(test)]
mod tests;
