//! The sRGB curve as fast lookup tables, for kernels that work gamma-encoded.

use std::sync::OnceLock;

/// Table entries: small enough to stay in the L1 cache; with linear
/// interpolation the error stays below 2e-5 (decode: below 1e-7).
const LUT_SIZE: usize = 4096;

/// One table: `LUT_SIZE + 1` entries (the last repeats the end point, so
/// interpolation may read one past any index). A fixed size lets the compiler
/// see that lookups stay inside.
pub(crate) type Table = [f32; LUT_SIZE + 1];

/// Lookup tables for the sRGB curve and its inverse on 0..=1.
pub(crate) struct Curves {
    pub encode: Box<Table>,
    pub decode: Box<Table>,
}

pub(crate) fn curves() -> &'static Curves {
    static C: OnceLock<Curves> = OnceLock::new();
    C.get_or_init(|| {
        let n = LUT_SIZE;
        let x = |i: usize| i as f32 / (n - 1) as f32;
        Curves {
            encode: Box::new(std::array::from_fn(|i| {
                super::quality::linear_to_srgb(x(i.min(n - 1)))
            })),
            decode: Box::new(std::array::from_fn(|i| {
                super::quality::srgb_to_linear(x(i.min(n - 1)))
            })),
        }
    })
}

/// The largest table index, as a float.
pub(crate) const LAST: f32 = (LUT_SIZE - 1) as f32;

/// Linearly interpolated table lookup for `v` in 0..=1 (clamped; NaN reads as 0).
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` keeps NaN; this must not.
pub(crate) fn lookup(t: &Table, v: f32) -> f32 {
    // NaN becomes 0 (`max` returns the other operand).
    let f = v.max(0.0).min(1.0) * LAST;
    // `f` is at most LUT_SIZE - 1; the `min` only tells the compiler so.
    let i = (f as usize).min(LUT_SIZE - 1);
    let a = t[i];
    let b = t[i + 1];
    a + (b - a) * (f - i as f32)
}

/// Runs the inner kernel on the gamma-encoded tile; the tile runner decodes
/// its output (colour differences and ratios behave better on perceptually
/// even values).
pub(crate) struct Encoded<K>(pub K);

impl<K: super::tile::Kernel> super::tile::Kernel for Encoded<K> {
    fn border(&self) -> usize {
        self.0.border()
    }

    fn run(
        &self,
        tile: &super::tile::TileIn<'_>,
        scratch: &mut super::tile::Scratch,
        out: &mut [Vec<f32>; 3],
    ) {
        self.0.run(tile, scratch, out);
    }

    fn encoded(&self) -> bool {
        true
    }
}
