//! Demosaicing: from one colour per photosite to three per pixel.
//!
//! Input is a [`Mosaic`] after levels and white balance (0.0 black, 1.0 white,
//! each channel already scaled so that a neutral grey has equal values);
//! output is camera-space RGB of the same size.

use crate::error::{Error, Result};
use crate::image::{Mosaic, RgbF32};

/// Which demosaicing algorithm to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DemosaicMethod {
    /// Bilinear interpolation: the simplest correct method, a reference only.
    Bilinear,
    /// The default: a fast, directional, high-quality method.
    #[default]
    Fast,
    /// The best quality this engine has, at a higher cost.
    Best,
}

/// Demosaic `mosaic` with `method`.
pub fn demosaic(mosaic: &Mosaic, method: DemosaicMethod) -> Result<RgbF32> {
    let _ = method;
    if mosaic.data.len() != mosaic.width * mosaic.height {
        return Err(Error::InvalidParameter(
            "mosaic size does not match its data".into(),
        ));
    }
    Err(Error::InvalidParameter(
        "demosaic not implemented yet".into(),
    ))
}
