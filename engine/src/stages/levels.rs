//! Levels: raw sensor values → linear values with black at 0.0 and white at 1.0.

use rayon::prelude::*;

use super::crop::ActiveArea;
use crate::image::{Mosaic, RgbF32};

/// Sensor data after levels: a mosaic, or RGB for linear (already demosaiced) raw files.
#[derive(Debug, Clone)]
pub enum SensorData {
    /// One value per photosite.
    Mosaic(Mosaic),
    /// Three values per pixel.
    Rgb(RgbF32),
}

impl SensorData {
    /// The values, row-major (interleaved for RGB).
    pub fn values_mut(&mut self) -> &mut [f32] {
        match self {
            Self::Mosaic(m) => &mut m.data,
            Self::Rgb(i) => &mut i.data,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        match self {
            Self::Mosaic(m) => m.width,
            Self::Rgb(i) => i.width,
        }
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        match self {
            Self::Mosaic(m) => m.height,
            Self::Rgb(i) => i.height,
        }
    }
}

/// The levels of one photosite position: its black level and the scale that
/// maps the white level to 1.0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Level {
    /// Black level (raw units).
    pub black: f32,
    /// `1 / (white - black)`, or 0 when white is not above black.
    pub scale: f32,
}

impl Level {
    /// The levels of a photosite with black level `black`, for white level `white`.
    pub(crate) fn new(black: f32, white: f32) -> Self {
        let range = white - black;
        Self {
            black,
            scale: if range > 0.0 { 1.0 / range } else { 0.0 },
        }
    }

    /// `v` with black at 0.0 and white at 1.0; values below black become 0.0,
    /// values above white are kept. The arithmetic of [`apply_levels`], which
    /// the strip path's tile loader calls per value too.
    #[inline(always)]
    pub(crate) fn apply(self, v: f32) -> f32 {
        ((v - self.black) * self.scale).max(0.0)
    }
}

/// Subtract the black level of each photosite and scale so that the white level
/// becomes 1.0. Values below black become 0.0; values above white are kept
/// (the highlight stage decides what to do with them).
pub fn apply_levels(area: &ActiveArea<'_>, white: f32) -> SensorData {
    let (width, height, spp) = (area.width(), area.height(), area.samples_per_pixel());
    let mut data = vec![0.0f32; width * height * spp];
    data.par_chunks_mut(width * spp)
        .enumerate()
        .for_each(|(y, out)| {
            let row = area.row(y);
            // Precompute one period of black and scale for this row.
            let period = area.black.width.max(1);
            let mut level = [Level::default(); 16];
            for (p, l) in level.iter_mut().enumerate().take(period.min(16)) {
                *l = Level::new(area.black.at(y, p), white);
            }
            for (x, (o, v)) in out
                .chunks_exact_mut(spp)
                .zip(row.chunks_exact(spp))
                .enumerate()
            {
                let p = x % period.min(16);
                for (o, v) in o.iter_mut().zip(v) {
                    *o = level[p].apply(f32::from(*v));
                }
            }
        });
    if spp == 3 {
        SensorData::Rgb(RgbF32 {
            width,
            height,
            data,
        })
    } else {
        SensorData::Mosaic(Mosaic {
            width,
            height,
            cfa: area.cfa.clone(),
            data,
        })
    }
}
