//! The planner: how one development runs, decided once, before any pixel.
//!
//! | the recipe and the file | route | runs in |
//! |---|---|---|
//! | highlights other than clip, auto white balance, or RGB (not mosaic) data | [`Route::Whole`] with separate levels, white balance and demosaic passes ([`Demosaic::Separate`]) | [`super::whole`] |
//! | every rendition at most ½ (Bayer) or ⅓ (X-Trans) of the cropped long edge, method not `best` | [`Route::Reduced`]: one output pixel per 2×2 (3×3) block ([`Demosaic::Reduced`]) | [`super::whole`] |
//! | every full-size rendition a plain JPEG (no sharpening, no watermark), the pattern tileable | [`Route::Strips`] | [`super::strips`] |
//! | anything else (full-size PNG or TIFF, sharpening or a watermark at full size) | [`Route::Whole`], levels and white balance fused into the demosaic loader ([`Demosaic::Fused`]) | [`super::whole`] |
//!
//! [`develop_working`](super::develop_working) (no recipe) takes the whole
//! path; it reduces when [`DevelopOptions::target_long_edge`] allows.

use super::strips::{self, Plan};
use crate::cpu::Isa;
use crate::demosaic::{reduced_block_size, tiles_area, DemosaicMethod};
use crate::error::Result;
use crate::raw::RawImage;
use crate::recipe::{target_size, DevelopOptions, Recipe};
use crate::stages::crop::{self, ActiveArea};
use crate::stages::highlights::HighlightMode;
use crate::stages::user_crop;
use crate::stages::white_balance::WhiteBalance;

/// How a recipe is developed.
pub(crate) enum Route {
    /// The whole path at reduced resolution, for renditions of at most this long edge.
    Reduced(u32),
    /// The strip path, with how each rendition is made.
    Strips(Vec<Plan>),
    /// The whole image in memory.
    Whole,
}

/// How the whole path demosaics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Demosaic {
    /// Levels, white balance (with highlight handling) and demosaic as separate passes.
    Separate,
    /// Levels and white balance inside the demosaic's tile loader.
    Fused,
    /// As fused, one output pixel per CFA block (falls back to fused when the
    /// image is too small for it).
    Reduced,
}

/// True when levels and white balance can run inside the demosaic loader:
/// mosaic data, a plain clip and a white balance known before the pixels are
/// read. The strip path needs the same.
fn fusable(area: &ActiveArea<'_>, options: &DevelopOptions) -> bool {
    area.samples_per_pixel() == 1
        && options.highlights == HighlightMode::Clip
        && !matches!(options.white_balance, WhiteBalance::Auto)
}

/// True when renditions of long edge `edge` can come from a reduced demosaic
/// of an image whose long edge is `long`.
fn reduces(area: &ActiveArea<'_>, options: &DevelopOptions, edge: usize, long: usize) -> bool {
    match reduced_block_size(&area.cfa) {
        Some(k) if options.demosaic != DemosaicMethod::Best => edge.saturating_mul(k) <= long,
        _ => false,
    }
}

/// How [`super::whole::develop_working`] demosaics `area`.
pub(crate) fn demosaic(area: &ActiveArea<'_>, options: &DevelopOptions) -> Demosaic {
    if !fusable(area, options) {
        return Demosaic::Separate;
    }
    let long = area.width().max(area.height());
    match options.target_long_edge {
        Some(edge) if reduces(area, options, edge as usize, long) => Demosaic::Reduced,
        _ => Demosaic::Fused,
    }
}

/// The route of `recipe` on `raw`.
/// The strip path's kernels are resolved here, for `isa`.
pub(crate) fn route(raw: &RawImage, recipe: &Recipe, isa: Isa) -> Result<Route> {
    let opts = &recipe.develop;
    let area = crop::crop_to_active_area(raw)?;
    if !fusable(&area, opts) {
        return Ok(Route::Whole);
    }
    // The upright, cropped output size.
    let (mut w, mut h) = (area.width(), area.height());
    if let Some(c) = opts.crop {
        (_, _, w, h) = user_crop::crop_pixels(w, h, c)?;
    }
    if opts.orientation.unwrap_or(raw.orientation).swaps_axes() {
        (w, h) = (h, w);
    }
    if opts.target_long_edge.is_none() {
        let needed = recipe
            .renditions
            .iter()
            .map(|r| {
                let (tw, th) = target_size(r, w, h);
                tw.max(th)
            })
            .max()
            .unwrap_or(0);
        if needed > 0 && reduces(&area, opts, needed, w.max(h)) {
            if let Ok(edge) = u32::try_from(needed) {
                return Ok(Route::Reduced(edge));
            }
        }
    } else {
        // The caller chose the resolution: the whole path honours it.
        return Ok(Route::Whole);
    }
    if !tiles_area(&area, raw.white) {
        return Ok(Route::Whole);
    }
    Ok(match strips::plan(&recipe.renditions, (w, h), isa) {
        Some(plans) => Route::Strips(plans),
        None => Route::Whole,
    })
}
