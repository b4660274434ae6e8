//! The tile runner's last step for two-colour-period rows (Bayer) with AVX2:
//! the x86-64 twin of [`super::finish_row`], bit for bit.
//!
//! The portable code makes three passes over a row (decode each plane, put
//! the recorded samples back one every other pixel, then matrix and
//! interleave, whose stride-3 stores the compiler does one value at a time).
//! Here eight pixels go through in registers: decode, a blend with the
//! recorded samples, the matrix and gain, and the interleave by permutes and
//! blends into three stores.

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_and_ps, _mm256_blend_ps, _mm256_blendv_ps, _mm256_castsi256_ps,
    _mm256_cmp_ps, _mm256_loadu_ps, _mm256_max_ps, _mm256_min_ps, _mm256_mul_ps,
    _mm256_permutevar8x32_ps, _mm256_set1_epi32, _mm256_set1_ps, _mm256_set_m128,
    _mm256_setr_epi32, _mm256_setr_ps, _mm256_setzero_ps, _mm256_storeu_ps, _mm_loadu_ps,
    _mm_unpackhi_ps, _mm_unpacklo_ps, _CMP_LT_OQ,
};

use super::{finish_row, Finish, Layout, RowIn};

/// `finish_row` for CPUs with AVX2 and FMA (the portable code compiled for
/// them where this kernel does not apply).
pub(crate) fn finish_row_avx2(
    row: &RowIn<'_>,
    finish: Option<&Finish>,
    lin: &mut [Vec<f32>; 3],
    dst: &mut [f32],
) {
    // SAFETY: only returned by `dispatch_finish` for an `Isa` whose `avx2()`
    // is true, which `Isa::detect` sets after confirming AVX2 and FMA.
    unsafe { inner(row, finish, lin, dst) }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn inner(
    row: &RowIn<'_>,
    finish: Option<&Finish>,
    lin: &mut [Vec<f32>; 3],
    dst: &mut [f32],
) {
    let n = row.known.len();
    let [pr, pg, pb] = row.planes;
    let mut body = if row.colors.len() == 2 && dst.len() >= 3 * n {
        n - n % 8
    } else {
        0
    };
    // Every plane must hold what the blocks read: up to pixel `body` (plain),
    // or 4 values of each half per block, the odd-first ones reaching one
    // index further (split).
    let fits = |body: usize| {
        let need = match row.layout {
            Layout::Plain => body,
            Layout::Split { half, x0 } => {
                let last = (x0 + body.max(8) - 8) >> 1;
                if last + 5 > half {
                    usize::MAX
                } else {
                    2 * half
                }
            }
        };
        [pr, pg, pb].iter().all(|p| p.len() >= need)
    };
    while body > 0 && !fits(body) {
        body -= 8;
    }
    if body > 0 {
        // SAFETY: `fits(body)` holds and x + 8 <= body <= n for every block.
        unsafe { blocks(row, finish, body, dst) };
    }
    if body < n {
        let period = row.colors.len().max(1);
        let (planes, layout) = match row.layout {
            Layout::Plain => ([&pr[body..], &pg[body..], &pb[body..]], Layout::Plain),
            Layout::Split { half, x0 } => (
                row.planes,
                Layout::Split {
                    half,
                    x0: x0 + body,
                },
            ),
        };
        let rest = RowIn {
            planes,
            layout,
            known: &row.known[body..],
            colors: row.colors,
            phase: (row.phase + body) % period,
            encoded: row.encoded,
        };
        finish_row(&rest, finish, lin, &mut dst[3 * body..]);
    }
}

/// Pixels `0..body` (a multiple of 8) of a period-2 row.
///
/// # Safety
/// AVX2 and FMA; every plane holds what the blocks read (`inner`'s `fits`),
/// `known` at least `body` values and `dst` at least `3 · body`.
#[target_feature(enable = "avx2,fma")]
unsafe fn blocks(row: &RowIn<'_>, finish: Option<&Finish>, body: usize, dst: &mut [f32]) {
    // Which plane each lane's recorded sample belongs to (lanes alternate,
    // starting at the row's phase).
    let colour = |k: usize| row.colors.get((row.phase + k) % 2).copied().unwrap_or(3);
    let (c0, c1) = (colour(0), colour(1));
    let mask = |c: usize| {
        let on = |hit: bool| if hit { f32::from_bits(u32::MAX) } else { 0.0 };
        let (a, b) = (on(c0 == c), on(c1 == c));
        _mm256_setr_ps(a, b, a, b, a, b, a, b)
    };
    let masks = [mask(0), mask(1), mask(2)];
    let m = finish.map(|f| f.matrix.map(|r| r.map(|v| _mm256_set1_ps(v))));
    let gain = _mm256_set1_ps(finish.map_or(1.0, |f| f.gain));
    let order_r = _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5);
    let order_g = _mm256_setr_epi32(5, 0, 3, 6, 1, 4, 7, 2);
    let order_b = _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7);
    for x in (0..body).step_by(8) {
        // SAFETY: see the function's contract; x + 8 <= body.
        unsafe {
            let known = _mm256_loadu_ps(row.known.as_ptr().add(x));
            let [pr, pg, pb] = row.planes;
            let r = plane(load8(pr, row.layout, x), row.encoded, known, masks[0]);
            let g = plane(load8(pg, row.layout, x), row.encoded, known, masks[1]);
            let b = plane(load8(pb, row.layout, x), row.encoded, known, masks[2]);
            let (r, g, b) = match &m {
                None => (r, g, b),
                Some([mr, mg, mb]) => (
                    channel(mr, r, g, b, gain),
                    channel(mg, r, g, b, gain),
                    channel(mb, r, g, b, gain),
                ),
            };
            // Lane k of vr holds pixel ORDER_R[k]'s R, and so on, so that each
            // output vector is a blend of the three.
            let vr = _mm256_permutevar8x32_ps(r, order_r);
            let vg = _mm256_permutevar8x32_ps(g, order_g);
            let vb = _mm256_permutevar8x32_ps(b, order_b);
            // r0 g0 b0 r1 g1 b1 r2 g2 | b2 r3 g3 b3 r4 g4 b4 r5 | g5 b5 r6 g6 b6 r7 g7 b7
            let o0 = _mm256_blend_ps::<0b0010_0100>(_mm256_blend_ps::<0b1001_0010>(vr, vg), vb);
            let o1 = _mm256_blend_ps::<0b0100_1001>(_mm256_blend_ps::<0b0010_0100>(vr, vg), vb);
            let o2 = _mm256_blend_ps::<0b1001_0010>(_mm256_blend_ps::<0b0100_1001>(vr, vg), vb);
            let out = dst.as_mut_ptr().add(3 * x);
            _mm256_storeu_ps(out, o0);
            _mm256_storeu_ps(out.add(8), o1);
            _mm256_storeu_ps(out.add(16), o2);
        }
    }
}

/// Pixels `i .. i + 8` of a plane row laid out as `layout` says.
///
/// # Safety
/// AVX2; the values read lie inside `p` (see `inner`'s `fits`).
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn load8(p: &[f32], layout: Layout, i: usize) -> __m256 {
    // SAFETY: the caller's contract.
    unsafe {
        match layout {
            Layout::Plain => _mm256_loadu_ps(p.as_ptr().add(i)),
            Layout::Split { half, x0 } => {
                // Even column first: its half, then the other from the same
                // index; odd column first: the odd half, then the even one
                // from the next index.
                let x = x0 + i;
                let k = x >> 1;
                let (a, b) = if x & 1 == 0 {
                    (p.as_ptr().add(k), p.as_ptr().add(half + k))
                } else {
                    (p.as_ptr().add(half + k), p.as_ptr().add(k + 1))
                };
                let (a, b) = (_mm_loadu_ps(a), _mm_loadu_ps(b));
                _mm256_set_m128(_mm_unpackhi_ps(a, b), _mm_unpacklo_ps(a, b))
            }
        }
    }
}

/// Eight values of a plane, decoded (`encoded`) or clamped, with the
/// recorded samples blended in where `mask` is set.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn plane(v: __m256, encoded: bool, known: __m256, mask: __m256) -> __m256 {
    let zero = _mm256_setzero_ps();
    let one = _mm256_set1_ps(1.0);
    let v = if encoded {
        // sqrt_decode: max(v, 0) gives 0 for NaN, then min, square.
        let c = _mm256_min_ps(_mm256_max_ps(v, zero), one);
        _mm256_mul_ps(c, c)
    } else {
        // f32::clamp, which keeps NaN (max/min return their second operand
        // for NaN).
        _mm256_min_ps(one, _mm256_max_ps(zero, v))
    };
    _mm256_blendv_ps(v, known, mask)
}

/// One output channel: `((w0 r + w1 g) + w2 b) · gain`, each step rounded as
/// in the portable code; a non-finite result becomes 0.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn channel(w: &[__m256; 3], r: __m256, g: __m256, b: __m256, gain: __m256) -> __m256 {
    let v = _mm256_mul_ps(
        _mm256_add_ps(
            _mm256_add_ps(_mm256_mul_ps(w[0], r), _mm256_mul_ps(w[1], g)),
            _mm256_mul_ps(w[2], b),
        ),
        gain,
    );
    let abs = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(i32::MAX)));
    let finite = _mm256_cmp_ps::<_CMP_LT_OQ>(abs, _mm256_set1_ps(f32::INFINITY));
    _mm256_and_ps(v, finite)
}
