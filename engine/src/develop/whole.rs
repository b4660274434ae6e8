//! The reference path: the whole image in memory, RAW → upright linear
//! working-space RGB, ready for renditions.
//!
//! The working space is linear Rec.2020 (D65) in `f32`, unclipped: values may
//! exceed 1 until the tone curve or the output conversion deals with them.

use std::time::Instant;

use super::count_development;
use super::plan::{self, Demosaic};
use super::render::render_at;
use crate::color::calibration::camera_to_working;
use crate::color::{matrix as color, space as colorspace};
use crate::cpu::Isa;
use crate::demosaic::{demosaic_area, demosaic_area_reduced, demosaic_for};
use crate::error::Result;
use crate::image::RgbF32;
use crate::raw::RawImage;
use crate::recipe::{target_size, DevelopOptions, Recipe, Rendered, Timings};
use crate::stages::highlights::{self, HighlightMode};
use crate::stages::levels::SensorData;
use crate::stages::tone::apply_tone;
use crate::stages::{crop, exposure, levels, orient, user_crop, white_balance};

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
    let how = plan::demosaic(&area, options);
    let isa = Isa::for_choice(options.simd);
    let (mut image, mult) = if how != Demosaic::Separate {
        // Levels and white balance happen in the demosaic tile loader.
        let mult = white_balance::multipliers(raw, options.white_balance)?;
        let half = if how == Demosaic::Reduced {
            demosaic_area_reduced(&area, raw.white, mult, isa)
        } else {
            None
        };
        let image = match half {
            Some(img) => img,
            None => demosaic_area(&area, raw.white, mult, options.demosaic, isa)?,
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
            SensorData::Mosaic(m) => demosaic_for(&m, options.demosaic, isa)?,
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

/// [`super::develop`] always through the whole working image in memory.
pub(crate) fn develop_recipe_whole(
    raw: &RawImage,
    recipe: &Recipe,
    timings: &mut Timings,
) -> Result<Vec<Rendered>> {
    let working = develop_working(raw, &recipe.develop, timings)?;
    let isa = Isa::for_choice(recipe.develop.simd);
    recipe
        .renditions
        .iter()
        .map(|r| {
            let size = target_size(r, working.width, working.height);
            render_at(&working, r, &raw.metadata, size, isa, timings)
        })
        .collect()
}
