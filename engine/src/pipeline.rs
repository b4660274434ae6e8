//! The whole development: RAW → linear sRGB → output pixels.

use crate::demosaic::DemosaicMethod;

/// Which white balance to develop with.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum WhiteBalance {
    /// The camera's as-shot multipliers (daylight when the file has none).
    #[default]
    AsShot,
    /// Daylight (D65) derived from the camera matrix.
    Daylight,
    /// Explicit R, G, B multipliers.
    Multipliers([f32; 3]),
}

/// Options for developing one image.
#[derive(Debug, Clone, PartialEq)]
pub struct DevelopOptions {
    /// White balance.
    pub white_balance: WhiteBalance,
    /// Exposure change in EV (stops).
    pub exposure_ev: f32,
    /// Fit the long edge to this many pixels (never upscales).
    pub long_edge: Option<u32>,
    /// Demosaicing method.
    pub demosaic: DemosaicMethod,
}

impl Default for DevelopOptions {
    fn default() -> Self {
        Self {
            white_balance: WhiteBalance::AsShot,
            exposure_ev: 0.0,
            long_edge: None,
            demosaic: DemosaicMethod::default(),
        }
    }
}
