//! Crop: the full sensor → its active area, as a view (no copy).

use crate::cfa::Cfa;
use crate::error::{Error, Result};
use crate::raw::{BlackLevels, RawImage, RawPixels, Rect};

/// The active area of a [`RawImage`], with the CFA and black-level patterns
/// moved so that they start at the area's top-left photosite.
#[derive(Debug, Clone)]
pub struct ActiveArea<'a> {
    raw: &'a RawImage,
    area: Rect,
    samples_per_pixel: usize,
    /// Colour filter pattern relative to the area's top-left photosite.
    pub cfa: Cfa,
    /// Black levels relative to the area's top-left photosite.
    pub black: BlackLevels,
}

impl<'a> ActiveArea<'a> {
    /// Width of the area in photosites.
    pub fn width(&self) -> usize {
        self.area.width
    }

    /// Height of the area in photosites.
    pub fn height(&self) -> usize {
        self.area.height
    }

    /// Samples per photosite: 1 for a mosaic, 3 for linear (already RGB) raw data.
    pub fn samples_per_pixel(&self) -> usize {
        self.samples_per_pixel
    }

    /// The raw image this area belongs to.
    pub fn raw(&self) -> &'a RawImage {
        self.raw
    }

    /// Row `y` of the area (`width * samples_per_pixel` values).
    #[inline]
    pub fn row(&self, y: usize) -> &'a [u16] {
        let values = match &self.raw.pixels {
            RawPixels::Mosaic(v) | RawPixels::Rgb(v) => v,
        };
        let spp = self.samples_per_pixel;
        let start = ((self.area.y + y) * self.raw.width + self.area.x) * spp;
        &values[start..start + self.area.width * spp]
    }
}

/// Find and check the active area of `raw`.
pub fn crop_to_active_area(raw: &RawImage) -> Result<ActiveArea<'_>> {
    let area = raw.active_area;
    let (len, spp) = match &raw.pixels {
        RawPixels::Mosaic(v) => (v.len(), 1),
        RawPixels::Rgb(v) => (v.len(), 3),
    };
    let fits = area.width > 0
        && area.height > 0
        && area
            .x
            .checked_add(area.width)
            .is_some_and(|r| r <= raw.width)
        && area
            .y
            .checked_add(area.height)
            .is_some_and(|b| b <= raw.height)
        && raw
            .width
            .checked_mul(raw.height)
            .and_then(|n| n.checked_mul(spp))
            == Some(len);
    if !fits {
        return Err(Error::Corrupt {
            make: raw.metadata.make.clone().unwrap_or_default(),
            model: raw.metadata.model.clone().unwrap_or_default(),
            format: raw.format.clone(),
            reason: format!(
                "active area {area:?} does not fit the {}x{} sensor data",
                raw.width, raw.height
            ),
        });
    }
    Ok(ActiveArea {
        raw,
        area,
        samples_per_pixel: spp,
        cfa: raw.cfa.shifted(area.x, area.y),
        black: raw.black.shifted(area.x, area.y),
    })
}
