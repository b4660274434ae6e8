//! The horizontal Lanczos3 pass with AVX2: the x86-64 twin of
//! [`super::resample_rows`], bit for bit.

use super::{resample_pixel, Taps};

/// [`resample_rows_avx2`] behind a safe signature, for the resolver.
pub(crate) fn resample_rows(taps: &Taps, src: &[f32], out: &mut [f32]) {
    // SAFETY: only returned by `dispatch_resample_rows` for an `Isa` whose
    // `avx2()` is true, which `Isa::detect` sets after confirming AVX2.
    unsafe { resample_rows_avx2(taps, src, out) }
}

/// [`super::resample_rows`] with AVX2: four rows at a time share each load of the
/// weights (which would otherwise stream from L2 for every row) and give four
/// independent sums that hide the adds' latency. One unaligned 8-value load
/// per pair of taps covers two pixels and two values beyond (weight 0); the
/// last pixels of a row, where those would lie past its end, go through the
/// portable per-pixel code. Multiplies and adds are separate instructions (no
/// FMA), in the portable kernel's order: the same bits.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn resample_rows_avx2(taps: &Taps, src: &[f32], out: &mut [f32]) {
    let (sw, dw) = (3 * taps.src, 3 * taps.len());
    let rows = (src.len() / sw.max(1)).min(out.len() / dw.max(1));
    let mut r = 0;
    while r + 4 <= rows {
        let s = [0, 1, 2, 3].map(|k| &src[(r + k) * sw..][..sw]);
        let (_, rest) = out.split_at_mut(r * dw);
        let (o0, rest) = rest.split_at_mut(dw);
        let (o1, rest) = rest.split_at_mut(dw);
        let (o2, rest) = rest.split_at_mut(dw);
        block_avx2(taps, s, [o0, o1, o2, &mut rest[..dw]]);
        r += 4;
    }
    while r < rows {
        block_avx2(taps, [&src[r * sw..][..sw]], [&mut out[r * dw..][..dw]]);
        r += 1;
    }
}

/// `R` rows of [`resample_rows_avx2`].
#[target_feature(enable = "avx2")]
unsafe fn block_avx2<const R: usize>(taps: &Taps, src: [&[f32]; R], mut out: [&mut [f32]; R]) {
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };
    let pairs = taps.taps / 2;
    let sw = 3 * taps.src;
    for j in 0..taps.len() {
        let base = 3 * taps.start[j];
        if base + 6 * pairs + 2 > sw || src.iter().any(|s| s.len() < sw) {
            for (s, o) in src.iter().zip(out.iter_mut()) {
                resample_pixel(taps, j, s, &mut o[3 * j..][..3]);
            }
            continue;
        }
        let lanes = &taps.lanes[j * pairs..][..pairs];
        let mut acc: [__m256; R] = [_mm256_setzero_ps(); R];
        for (p, w) in lanes.iter().enumerate() {
            // SAFETY: `w` is an `[f32; 8]`; every row holds `sw` values and
            // base + 6p + 8 <= base + 6 pairs + 2 <= sw, so the 8 values read
            // at each `x` lie inside it.
            let w = _mm256_loadu_ps(w.as_ptr());
            for (a, s) in acc.iter_mut().zip(&src) {
                let x = _mm256_loadu_ps(s.as_ptr().add(base + 6 * p));
                *a = _mm256_add_ps(*a, _mm256_mul_ps(x, w));
            }
        }
        for (a, o) in acc.iter().zip(out.iter_mut()) {
            let mut v = [0.0f32; 8];
            // SAFETY: `v` holds 8 values.
            _mm256_storeu_ps(v.as_mut_ptr(), *a);
            let px = &mut o[3 * j..][..3];
            px[0] = v[0] + v[3];
            px[1] = v[1] + v[4];
            px[2] = v[2] + v[5];
        }
    }
}
