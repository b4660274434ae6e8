//! Curves for kernels that work on perceptually even values: the sRGB curve
//! as fast lookup tables (LMMSE, X-Trans), and the square root, which needs
//! no table at all (RCD).

#[cfg(target_arch = "x86_64")]
mod avx2;

use std::sync::OnceLock;

use crate::cpu::Isa;

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

/// Table lookups of a whole row: `dst[i] = lookup(table, src[i])`.
pub(crate) type LookupFn = fn(&Table, &[f32], &mut [f32]);

/// The portable row of [`lookup`]s (the twin of the AVX2 gathers in
/// `avx2.rs`).
pub(crate) fn lookup_row(table: &Table, src: &[f32], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = lookup(table, s);
    }
}

/// Interpolated table lookups of a row for `isa`: AVX2 gathers, or the
/// portable loop.
pub(crate) fn dispatch_lookup(isa: Isa) -> LookupFn {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        return avx2::lookup_row_avx2;
    }
    // An aarch64 twin slots in here as `neon::lookup_row_neon`.
    let _ = isa;
    lookup_row
}

/// The square-root curve of [`Encoded`] kernels: `sqrt(v)` for `v` clamped
/// to 0..=1 (NaN reads as 0). It is close to the sRGB curve where it matters
/// (on the Kodak set RCD scores within 0.05 dB of the sRGB-encoded run) and,
/// unlike the table, is one vector instruction.
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` keeps NaN; this must not.
pub(crate) fn sqrt_encode(v: f32) -> f32 {
    v.max(0.0).min(1.0).sqrt()
}

/// The inverse of [`sqrt_encode`]: `v²` for `v` clamped to 0..=1 (NaN reads as 0).
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` keeps NaN; this must not.
pub(crate) fn sqrt_decode(v: f32) -> f32 {
    let c = v.max(0.0).min(1.0);
    c * c
}

/// `dst[i] = sqrt_encode(src[i])`, a loop the compiler vectorises.
#[inline(always)]
pub(crate) fn encode_row(src: &[f32], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = sqrt_encode(s);
    }
}

/// `dst[i] = sqrt_decode(src[i])`, a loop the compiler vectorises.
#[inline(always)]
pub(crate) fn decode_row(src: &[f32], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = sqrt_decode(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_root_curve_round_trips_and_clamps() {
        for i in 0..=1000 {
            let v = i as f32 / 1000.0;
            assert!((sqrt_decode(sqrt_encode(v)) - v).abs() < 1e-6, "{v}");
        }
        for (v, e) in [
            (-0.5, 0.0),
            (2.0, 1.0),
            (f32::NAN, 0.0),
            (f32::INFINITY, 1.0),
        ] {
            assert_eq!(sqrt_encode(v), e, "{v}");
            assert_eq!(sqrt_decode(v), e, "{v}");
        }
    }
}
