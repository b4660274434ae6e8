//! Runtime CPU-feature dispatch for the hottest kernels, chosen once per
//! process.
//!
//! Most kernel bodies are one generic `#[inline(always)]` function written as
//! plain loops over contiguous slices that the compiler vectorises; the
//! variants made by `dispatched!` differ only in the target features they are
//! compiled for (on x86_64 an AVX2+FMA copy is picked when the CPU has both;
//! elsewhere, and on aarch64 where NEON is baseline, the portable copy runs).
//! Where the compiler does poorly (stride-3 RGB, table reads, two-tap
//! vectors) there are hand-written AVX2 kernels: the Bayer tile finish
//! (`finish`), the 8-bit sRGB conversion (`srgb8`), table lookups by
//! gathers (`gather`, for LMMSE's sRGB curve) and the horizontal resize
//! (beside its twin in [`crate::stages::resize`]). Every dispatched kernel has
//! its portable twin and a test that both give the same bits. (`wide` was
//! tried first: it picks its instruction set when the crate is compiled, so
//! inside these AVX2 functions its 8-lane type still ran as two SSE halves.)

#[cfg(target_arch = "x86_64")]
mod finish;
#[cfg(target_arch = "x86_64")]
mod gather;
#[cfg(target_arch = "x86_64")]
mod srgb8;

use std::sync::OnceLock;

use crate::demosaic::tile_api::{
    finish_row, levels_row, lmmse_tile, lookup_row, rcd_tile, Finish, FinishFn, LevelBlock,
    LookupFn, RowIn, Scratch, TileIn,
};
use crate::stages::resize::Taps;

/// `dispatched!(dispatcher -> FnType; portable(args) { body } avx2 { body })`:
/// the portable function, an AVX2+FMA copy of the second body (x86_64 only),
/// and a dispatcher that picks one on first use.
macro_rules! dispatched {
    (
        $(#[$meta:meta])*
        $dispatch:ident -> $fnty:ty;
        $portable:ident($($arg:ident: $ty:ty),* $(,)?) $body:block
        avx2 $avx2_body:block
    ) => {
        /// The portable variant (also what tests compare the dispatched one with).
        pub(crate) fn $portable($($arg: $ty),*) $body

        $(#[$meta])*
        pub(crate) fn $dispatch() -> $fnty {
            static F: OnceLock<$fnty> = OnceLock::new();
            *F.get_or_init(|| {
                #[cfg(target_arch = "x86_64")]
                {
                    #[target_feature(enable = "avx2,fma")]
                    fn avx2_inner($($arg: $ty),*) $avx2_body
                    fn avx2($($arg: $ty),*) {
                        // SAFETY: only returned after `has_avx2` confirmed
                        // AVX2 and FMA at run time.
                        unsafe { avx2_inner($($arg),*) }
                    }
                    if has_avx2() {
                        return avx2 as $fnty;
                    }
                }
                $portable as $fnty
            })
        }
    };
}

/// The signature of a tile kernel.
pub(crate) type TileFn = fn(&TileIn<'_>, &mut Scratch, &mut [Vec<f32>; 3]);

dispatched! {
    /// The RCD tile kernel for this CPU (chosen on first use).
    dispatch_rcd -> TileFn;
    rcd_portable(tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        rcd_tile(tile, scratch, out);
    }
    avx2 {
        rcd_tile(tile, scratch, out);
    }
}

/// The signature of the LMMSE tile kernel (with its refinement passes).
pub(crate) type LmmseFn = fn(usize, &TileIn<'_>, &mut Scratch, &mut [Vec<f32>; 3]);

dispatched! {
    /// The LMMSE tile kernel for this CPU (chosen on first use).
    dispatch_lmmse -> LmmseFn;
    lmmse_portable(
        passes: usize,
        tile: &TileIn<'_>,
        scratch: &mut Scratch,
        out: &mut [Vec<f32>; 3],
    ) {
        lmmse_tile(passes, tile, scratch, out);
    }
    avx2 {
        lmmse_tile(passes, tile, scratch, out);
    }
}

/// The portable tile-row finisher (what the AVX2 one is tested against).
pub(crate) fn finish_portable(
    row: &RowIn<'_>,
    finish: Option<&Finish>,
    lin: &mut [Vec<f32>; 3],
    dst: &mut [f32],
) {
    finish_row(row, finish, lin, dst);
}

/// The tile-row finisher (see [`crate::demosaic`]'s tile runner) for this
/// CPU: the hand-written AVX2 kernel, or the portable one.
pub(crate) fn dispatch_finish() -> FinishFn {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        return finish::finish_row_avx2;
    }
    finish_portable
}

/// The signature of [`crate::demosaic::tile_api::levels_row`].
pub(crate) type LevelsFn = fn(&[u16], &LevelBlock, f32, &mut [f32], Option<&mut [f32]>);

dispatched! {
    /// Levels (and the square-root curve) of a raw row for this CPU.
    dispatch_levels -> LevelsFn;
    levels_portable(
        raw: &[u16],
        block: &LevelBlock,
        top: f32,
        lin: &mut [f32],
        enc: Option<&mut [f32]>,
    ) {
        levels_row(raw, block, top, lin, enc);
    }
    avx2 {
        levels_row(raw, block, top, lin, enc);
    }
}

/// The signature of [`crate::stages::transfer::matrix_to_srgb8`].
pub(crate) type MatrixSrgb8Fn = fn(&[[f32; 3]; 3], &[f32], &mut [u8]);

/// Matrix + 8-bit sRGB curve for this CPU: the hand-written AVX2 kernel, or
/// the portable one (its twin).
pub(crate) fn dispatch_matrix_srgb8() -> MatrixSrgb8Fn {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        return srgb8::matrix_to_srgb8_avx2;
    }
    crate::stages::transfer::matrix_to_srgb8
}

/// The signature of [`crate::stages::resize::resample_rows`].
pub(crate) type ResampleRowsFn = fn(&Taps, &[f32], &mut [f32]);

/// Rows of the horizontal Lanczos3 pass for this CPU: the hand-written AVX2
/// kernel, or its portable twin.
pub(crate) fn dispatch_resample_rows() -> ResampleRowsFn {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        fn avx2(taps: &Taps, src: &[f32], out: &mut [f32]) {
            // SAFETY: only returned after `has_avx2` confirmed AVX2.
            unsafe { crate::stages::resize::resample_rows_avx2(taps, src, out) }
        }
        return avx2;
    }
    crate::stages::resize::resample_rows
}

/// The signature of [`crate::stages::resize::add_weighted`].
pub(crate) type AddWeightedFn = fn(f32, &[f32], &mut [f32]);

dispatched! {
    /// One weighted row of the vertical Lanczos3 pass for this CPU.
    dispatch_add_weighted -> AddWeightedFn;
    add_weighted_portable(weight: f32, src: &[f32], out: &mut [f32]) {
        crate::stages::resize::add_weighted(weight, src, out);
    }
    avx2 {
        crate::stages::resize::add_weighted(weight, src, out);
    }
}

/// Interpolated table lookups of a row (see `curve::lookup`) for this CPU:
/// AVX2 gathers, or the portable loop.
pub(crate) fn dispatch_lookup() -> LookupFn {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        return gather::lookup_row_avx2;
    }
    lookup_row
}

/// True when the AVX2+FMA variants may run on this CPU.
pub(crate) fn has_avx2() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatched_rcd_matches_the_portable_kernel() {
        let (w, h) = (61, 47);
        let data: Vec<f32> = (0..w * h)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        let colors = [0, 1, 1, 2];
        let tile = TileIn {
            data: &data,
            w,
            h,
            colors: &colors,
            period: 2,
        };
        let run = |f: TileFn| {
            let mut out: [Vec<f32>; 3] = [vec![0.0; w * h], vec![0.0; w * h], vec![0.0; w * h]];
            f(&tile, &mut Scratch::default(), &mut out);
            out
        };
        let a = run(dispatch_rcd());
        let b = run(rcd_portable);
        for (pa, pb) in a.iter().zip(&b) {
            for (x, y) in pa.iter().zip(pb) {
                assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
            }
        }
    }
}
