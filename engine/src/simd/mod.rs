//! Runtime CPU-feature dispatch for the hottest kernels, chosen once per
//! process.
//!
//! Every kernel body is one generic `#[inline(always)]` function written as
//! plain loops over contiguous slices that the compiler vectorises; the
//! variants below differ only in the target features they are compiled for
//! (on x86_64 an AVX2+FMA copy is picked when the CPU has both; elsewhere,
//! and on aarch64 where NEON is baseline, the portable copy runs). The one
//! hand-written kernel, the table lookup with AVX2 gathers (`gather`), has
//! the portable loop as its scalar twin. Tests check that every dispatched
//! variant gives the portable one's results. (`wide` was tried first: it
//! picks its instruction set when the crate is compiled, so inside these
//! AVX2 functions its 8-lane type still ran as two SSE halves.)

#[cfg(target_arch = "x86_64")]
mod gather;

use std::sync::OnceLock;

use crate::demosaic::tile_api::{
    finish_row, lookup_row, rcd_tile, Finish, FinishFn, LookupFn, RowIn, Scratch, TileIn,
};

/// The signature of a tile kernel.
pub(crate) type TileFn = fn(&TileIn<'_>, &mut Scratch, &mut [Vec<f32>; 3]);

fn rcd_portable(tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
    rcd_tile(tile, scratch, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn rcd_avx2_inner(tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
    rcd_tile(tile, scratch, out);
}

#[cfg(target_arch = "x86_64")]
fn rcd_avx2(tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
    // SAFETY: this function is only selected by `dispatch_rcd` after
    // `is_x86_feature_detected!` confirmed AVX2 and FMA at run time.
    unsafe { rcd_avx2_inner(tile, scratch, out) }
}

/// The portable tile-row finisher (see [`crate::demosaic`]'s tile runner).
pub(crate) fn finish_portable(
    row: &RowIn<'_>,
    finish: Option<&Finish>,
    lin: &mut [Vec<f32>; 3],
    dst: &mut [f32],
) {
    finish_row(row, finish, lin, dst, lookup_row);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn finish_avx2_inner(
    row: &RowIn<'_>,
    finish: Option<&Finish>,
    lin: &mut [Vec<f32>; 3],
    dst: &mut [f32],
) {
    finish_row(row, finish, lin, dst, gather::lookup_row_avx2);
}

#[cfg(target_arch = "x86_64")]
fn finish_avx2(row: &RowIn<'_>, finish: Option<&Finish>, lin: &mut [Vec<f32>; 3], dst: &mut [f32]) {
    // SAFETY: only selected by `dispatch_finish` after `has_avx2` confirmed
    // AVX2 and FMA at run time.
    unsafe { finish_avx2_inner(row, finish, lin, dst) }
}

/// The tile-row finisher for this CPU (chosen on first use).
pub(crate) fn dispatch_finish() -> FinishFn {
    static F: OnceLock<FinishFn> = OnceLock::new();
    *F.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            return finish_avx2 as FinishFn;
        }
        finish_portable as FinishFn
    })
}

/// The signature of [`crate::stages::transfer::matrix_to_srgb8`].
pub(crate) type MatrixSrgb8Fn = fn(&[[f32; 3]; 3], &[f32], &mut [u8]);

pub(crate) fn matrix_srgb8_portable(m: &[[f32; 3]; 3], src: &[f32], dst: &mut [u8]) {
    crate::stages::transfer::matrix_to_srgb8(m, src, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn matrix_srgb8_avx2_inner(m: &[[f32; 3]; 3], src: &[f32], dst: &mut [u8]) {
    crate::stages::transfer::matrix_to_srgb8(m, src, dst);
}

#[cfg(target_arch = "x86_64")]
fn matrix_srgb8_avx2(m: &[[f32; 3]; 3], src: &[f32], dst: &mut [u8]) {
    // SAFETY: only selected by `dispatch_matrix_srgb8` after `has_avx2`
    // confirmed AVX2 and FMA at run time.
    unsafe { matrix_srgb8_avx2_inner(m, src, dst) }
}

/// Matrix + 8-bit sRGB curve for this CPU (chosen on first use).
pub(crate) fn dispatch_matrix_srgb8() -> MatrixSrgb8Fn {
    static F: OnceLock<MatrixSrgb8Fn> = OnceLock::new();
    *F.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            return matrix_srgb8_avx2 as MatrixSrgb8Fn;
        }
        matrix_srgb8_portable as MatrixSrgb8Fn
    })
}

/// Interpolated table lookups of a row (see `curve::lookup`) for this CPU.
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

/// The RCD tile kernel for this CPU (chosen on first use).
pub(crate) fn dispatch_rcd() -> TileFn {
    static F: OnceLock<TileFn> = OnceLock::new();
    *F.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            return rcd_avx2 as TileFn;
        }
        rcd_portable as TileFn
    })
}

/// The portable RCD kernel, for tests comparing it with the dispatched one.
#[cfg(test)]
pub(crate) fn rcd_scalar() -> TileFn {
    rcd_portable as TileFn
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
        let b = run(rcd_scalar());
        for (pa, pb) in a.iter().zip(&b) {
            for (x, y) in pa.iter().zip(pb) {
                assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
            }
        }
    }
}
