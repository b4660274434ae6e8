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
            let mut black = [0.0f32; 16];
            let mut scale = [0.0f32; 16];
            for p in 0..period.min(16) {
                black[p] = area.black.at(y, p);
                let range = white - black[p];
                scale[p] = if range > 0.0 { 1.0 / range } else { 0.0 };
            }
            for (x, (o, v)) in out
                .chunks_exact_mut(spp)
                .zip(row.chunks_exact(spp))
                .enumerate()
            {
                let p = x % period.min(16);
                for (o, v) in o.iter_mut().zip(v) {
                    *o = ((f32::from(*v) - black[p]) * scale[p]).max(0.0);
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
