//! Pixel buffers passed between pipeline stages.

use crate::cfa::Cfa;

/// A single-channel mosaic straight off the sensor after levels: one value per
/// photosite, normalised so that black is 0.0 and the white level is 1.0.
#[derive(Debug, Clone)]
pub struct Mosaic {
    /// Width in photosites.
    pub width: usize,
    /// Height in photosites.
    pub height: usize,
    /// The colour filter pattern, relative to the top-left photosite of `data`.
    pub cfa: Cfa,
    /// Row-major values, `width * height` of them.
    pub data: Vec<f32>,
}

/// An interleaved three-channel image (R, G, B per pixel, rows top to bottom).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RgbImage<T> {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` samples.
    pub data: Vec<T>,
}

/// Linear-light floating point RGB (the working format between demosaic and output).
pub type RgbF32 = RgbImage<f32>;
/// 8-bit output RGB.
pub type Rgb8 = RgbImage<u8>;
/// 16-bit output RGB.
pub type Rgb16 = RgbImage<u16>;

impl<T: Copy + Default> RgbImage<T> {
    /// A black image of the given size.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![T::default(); width * height * 3],
        }
    }

    /// The three samples of pixel (`x`, `y`).
    #[inline]
    pub fn pixel(&self, x: usize, y: usize) -> [T; 3] {
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Number of pixels.
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }
}
