//! The whole development: RAW → upright linear working-space RGB, ready for renditions.
//!
//! The working space is linear Rec.2020 (D65) in `f32`, unclipped: values may
//! exceed 1 until the tone curve or the output conversion deals with them.

use std::cell::Cell;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::demosaic::{
    demosaic, demosaic_area, demosaic_area_half, half_block_size, DemosaicMethod,
};
use crate::error::Result;
use crate::image::RgbF32;
use crate::raw::{Orientation, RawImage};
use crate::stages::highlights::{self, HighlightMode};
use crate::stages::levels::SensorData;
use crate::stages::tone::{apply_tone, Tone};
use crate::stages::{color, colorspace, crop, exposure, levels, orient, user_crop, white_balance};

/// Which white balance to develop with.
///
/// In a recipe (TOML): `"as-shot"`, `"auto"`, `"daylight"`,
/// `{ kelvin = 5500, tint = 10 }` or `{ multipliers = [2.0, 1.0, 1.5] }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "white_balance::WbRepr", into = "white_balance::WbRepr")]
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

/// A crop as fractions (0–1) of the image *as stored* (before orientation),
/// like Lightroom's `crs:Crop*` fields.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropRect {
    /// Top edge.
    pub top: f32,
    /// Left edge.
    pub left: f32,
    /// Bottom edge.
    pub bottom: f32,
    /// Right edge.
    pub right: f32,
}

/// Options for developing one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevelopOptions {
    /// White balance.
    pub white_balance: WhiteBalance,
    /// Exposure change in EV (stops).
    pub exposure_ev: f32,
    /// Demosaicing method.
    #[serde(with = "demosaic_name")]
    pub demosaic: DemosaicMethod,
    /// What happens to clipped highlights.
    pub highlights: HighlightMode,
    /// Tone and colour adjustments (neutral by default).
    pub tone: Tone,
    /// Crop of the stored image (from a sidecar; `None` = whole image).
    pub crop: Option<CropRect>,
    /// Orientation overriding the file's (from a sidecar).
    #[serde(skip)]
    pub orientation: Option<Orientation>,
    /// The largest output long edge the caller needs, if known. When it is at
    /// most half the sensor's long edge (a third for X-Trans) and the method is
    /// not [`DemosaicMethod::Best`] (full quality), development runs from a
    /// reduced-resolution demosaic ([`crate::demosaic::demosaic_half`]).
    /// [`crate::recipe::develop_recipe`] sets it when every rendition is that
    /// small.
    pub target_long_edge: Option<u32>,
}

impl Default for DevelopOptions {
    fn default() -> Self {
        Self {
            white_balance: WhiteBalance::AsShot,
            exposure_ev: 0.0,
            demosaic: DemosaicMethod::default(),
            highlights: HighlightMode::default(),
            tone: Tone::NEUTRAL,
            crop: None,
            orientation: None,
            target_long_edge: None,
        }
    }
}

mod demosaic_name {
    use super::DemosaicMethod;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &DemosaicMethod, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(m.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DemosaicMethod, D::Error> {
        let name = String::deserialize(d)?;
        DemosaicMethod::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown demosaic method {name:?} (fast, best, bilinear)"
                ))
            })
    }
}

thread_local! {
    static DEVELOPMENTS: Cell<usize> = const { Cell::new(0) };
}

/// How many decodes-to-linear (levels + demosaic) this thread has run: a
/// hook for tests that check one development serves every rendition.
pub fn developments_on_this_thread() -> usize {
    DEVELOPMENTS.with(Cell::get)
}

/// Count one development on this thread (see [`developments_on_this_thread`]).
pub(crate) fn count_development() {
    DEVELOPMENTS.with(|c| c.set(c.get() + 1));
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

/// Develop `raw` to full-size, upright, linear **working-space** (Rec.2020)
/// RGB, unclipped: crop → levels → white balance and highlights → demosaic →
/// camera matrix → exposure → tone → user crop → orientation.
pub fn develop_working(
    raw: &RawImage,
    options: &DevelopOptions,
    timings: &mut Timings,
) -> Result<RgbF32> {
    count_development();
    let mut clock = Instant::now();
    let area = crop::crop_to_active_area(raw)?;
    // Mosaics with a plain clip and a white balance known up front take the
    // fused path: levels and white balance happen in the demosaic tile loader.
    let fused = area.samples_per_pixel() == 1
        && options.highlights == HighlightMode::Clip
        && !matches!(options.white_balance, WhiteBalance::Auto);
    let (mut image, mult) = if fused {
        let mult = white_balance::multipliers(raw, options.white_balance)?;
        let reduced = match (options.target_long_edge, half_block_size(&area.cfa)) {
            (Some(edge), Some(k)) if options.demosaic != DemosaicMethod::Best => {
                let long = area.width().max(area.height());
                (edge as usize).saturating_mul(k) <= long
            }
            _ => false,
        };
        let half = if reduced {
            demosaic_area_half(&area, raw.white, mult)
        } else {
            None
        };
        let image = match half {
            Some(img) => img,
            None => demosaic_area(&area, raw.white, mult, options.demosaic)?,
        };
        (image, mult)
    } else {
        let mut data = levels::apply_levels(&area, raw.white);
        timings.lap("levels", &mut clock);
        let mult = white_balance::multipliers_for(raw, &data, options.white_balance)?;
        if options.highlights == HighlightMode::Clip {
            white_balance::apply(&mut data, mult);
        } else {
            highlights::apply_gains_unclipped(&mut data, mult);
        }
        timings.lap("white_balance", &mut clock);
        let image = match data {
            SensorData::Mosaic(m) => demosaic(&m, options.demosaic)?,
            SensorData::Rgb(rgb) => rgb,
        };
        (image, mult)
    };
    timings.lap("demosaic", &mut clock);
    highlights::recover(&mut image, mult, options.highlights);
    timings.lap("highlights", &mut clock);
    color::apply_matrix(&mut image, &camera_to_working(raw, mult));
    exposure::apply_gain(&mut image, options.exposure_ev);
    apply_tone(&mut image, &options.tone);
    timings.lap("color", &mut clock);
    let image = match options.crop {
        Some(c) => user_crop::crop_fraction(&image, c)?,
        None => image,
    };
    let image = orient::apply_orientation(image, options.orientation.unwrap_or(raw.orientation));
    timings.lap("orient", &mut clock);
    Ok(image)
}

/// The matrix from white-balanced (by `mult`) camera RGB to the working space.
pub(crate) fn camera_to_working(raw: &RawImage, mult: [f32; 3]) -> color::Matrix3 {
    color::multiply(
        &colorspace::srgb_to_working(),
        &crate::stages::calibration::camera_to_srgb_for(raw, mult),
    )
}

/// Develop `raw` to full-size, upright, linear sRGB with values in [0, 1]
/// (the working-space result of [`develop_working`] converted and clipped).
pub fn develop_linear(
    raw: &RawImage,
    options: &DevelopOptions,
    timings: &mut Timings,
) -> Result<RgbF32> {
    let mut image = develop_working(raw, options, timings)?;
    let mut clock = Instant::now();
    color::apply_matrix(&mut image, &colorspace::working_to_srgb());
    for v in &mut image.data {
        *v = if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    timings.lap("color", &mut clock);
    Ok(image)
}
