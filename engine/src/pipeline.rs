//! The whole development: RAW → upright linear sRGB, ready for renditions.

use std::time::Instant;

use crate::demosaic::{
    demosaic, demosaic_area, demosaic_area_half, half_block_size, DemosaicMethod,
};
use crate::error::Result;
use crate::image::RgbF32;
use crate::raw::RawImage;
use crate::stages::levels::SensorData;
use crate::stages::{color, crop, exposure, levels, orient, white_balance};

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
    /// Demosaicing method.
    pub demosaic: DemosaicMethod,
    /// The largest output long edge the caller needs, if known. When it is at
    /// most half the sensor's long edge (a third for X-Trans) and the method is
    /// not [`DemosaicMethod::Best`] (full quality), development runs from a
    /// reduced-resolution demosaic ([`crate::demosaic::demosaic_half`]).
    pub target_long_edge: Option<u32>,
}

impl Default for DevelopOptions {
    fn default() -> Self {
        Self {
            white_balance: WhiteBalance::AsShot,
            exposure_ev: 0.0,
            demosaic: DemosaicMethod::default(),
            target_long_edge: None,
        }
    }
}

/// Seconds spent in each stage, in the order the stages ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings {
    /// (stage name, seconds) pairs.
    pub stages: Vec<(&'static str, f64)>,
}

impl Timings {
    /// Add the time since `start` to stage `name`, and restart the clock.
    pub fn lap(&mut self, name: &'static str, start: &mut Instant) {
        let now = Instant::now();
        let secs = now.duration_since(*start).as_secs_f64();
        match self.stages.iter_mut().find(|(n, _)| *n == name) {
            Some((_, s)) => *s += secs,
            None => self.stages.push((name, secs)),
        }
        *start = now;
    }

    /// Total seconds.
    pub fn total(&self) -> f64 {
        self.stages.iter().map(|(_, s)| s).sum()
    }
}

/// Develop `raw` to full-size, upright, linear sRGB with values in [0, 1]:
/// crop → levels → white balance and highlight clip → demosaic (the first
/// three fused for mosaics) → camera
/// matrix → exposure → orientation.
pub fn develop_linear(
    raw: &RawImage,
    options: &DevelopOptions,
    timings: &mut Timings,
) -> Result<RgbF32> {
    let mut clock = Instant::now();
    let area = crop::crop_to_active_area(raw)?;
    let mult = white_balance::multipliers(raw, options.white_balance)?;
    let reduced = match (options.target_long_edge, half_block_size(&area.cfa)) {
        (Some(edge), Some(k)) if options.demosaic != DemosaicMethod::Best => {
            let long = area.width().max(area.height());
            (edge as usize).saturating_mul(k) <= long
        }
        _ => false,
    };
    let half = if reduced && area.samples_per_pixel() == 1 {
        demosaic_area_half(&area, raw.white, mult)
    } else {
        None
    };
    let mut image = match half {
        Some(img) => img,
        None if area.samples_per_pixel() == 1 => {
            // Levels and white balance are fused into the demosaic tile loader.
            demosaic_area(&area, raw.white, mult, options.demosaic)?
        }
        None => {
            let mut data = levels::apply_levels(&area, raw.white);
            timings.lap("levels", &mut clock);
            white_balance::apply(&mut data, mult);
            timings.lap("white_balance", &mut clock);
            match data {
                SensorData::Mosaic(m) => demosaic(&m, options.demosaic)?,
                SensorData::Rgb(rgb) => rgb,
            }
        }
    };
    timings.lap("demosaic", &mut clock);
    color::apply_matrix(&mut image, &color::camera_to_srgb(raw.xyz_to_cam.as_ref()));
    exposure::apply_exposure(&mut image, options.exposure_ev);
    timings.lap("color", &mut clock);
    let image = orient::apply_orientation(image, raw.orientation);
    timings.lap("orient", &mut clock);
    Ok(image)
}
