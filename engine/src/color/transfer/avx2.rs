//! Linear RGB → colour matrix → 8-bit sRGB with AVX2 gathers: the x86-64
//! twin of [`super::matrix_to_srgb8`], bit for bit.
//!
//! The portable code computes table indices in vectors but must then read
//! the table and store bytes one value at a time (a third of its time went
//! to moving indices out of vector registers). Here eight pixels go through
//! in registers: three loads are sorted into R, G and B by blends and
//! permutes, the table (widened to 32 bits) is read by gathers, and the
//! bytes are packed back to R G B order with one shuffle per 128-bit half.

use std::arch::x86_64::{
    __m256, __m256i, _mm256_add_ps, _mm256_blend_ps, _mm256_castsi256_si128, _mm256_cvttps_epi32,
    _mm256_extracti128_si256, _mm256_i32gather_epi32, _mm256_loadu_ps, _mm256_max_epi32,
    _mm256_max_ps, _mm256_min_epi32, _mm256_min_ps, _mm256_mul_ps, _mm256_or_si256,
    _mm256_permutevar8x32_ps, _mm256_set1_epi32, _mm256_set1_ps, _mm256_setr_epi32,
    _mm256_setr_epi8, _mm256_setzero_ps, _mm256_setzero_si256, _mm256_shuffle_epi8,
    _mm256_slli_epi32, _mm_storeu_si128,
};

use super::{lut8_wide, matrix_to_srgb8, LUT8_STEPS};

/// `matrix_to_srgb8` for CPUs with AVX2.
pub(crate) fn matrix_to_srgb8_avx2(m: &[[f32; 3]; 3], src: &[f32], dst: &mut [u8]) {
    // SAFETY: only returned by `dispatch_matrix_srgb8` for an `Isa` whose
    // `avx2()` is true, which `Isa::detect` sets after confirming AVX2.
    unsafe { inner(m, src, dst) }
}

#[target_feature(enable = "avx2")]
unsafe fn inner(m: &[[f32; 3]; 3], src: &[f32], dst: &mut [u8]) {
    let lut = lut8_wide();
    let pixels = src.len().min(dst.len()) / 3;
    // Blocks of 8 pixels whose two 16-byte stores (the second reaching 4
    // bytes past the block) stay inside `dst`.
    let mut blocks = pixels / 8;
    while blocks > 0 && blocks * 24 + 4 > dst.len() {
        blocks -= 1;
    }
    // After the blends, lane k of each vector holds pixel ORDER[k]'s value.
    let order_r = _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5);
    let order_g = _mm256_setr_epi32(1, 4, 7, 2, 5, 0, 3, 6);
    let order_b = _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7);
    let zero = _mm256_setzero_ps();
    let one = _mm256_set1_ps(1.0);
    let steps = _mm256_set1_ps((LUT8_STEPS - 1) as f32);
    let half = _mm256_set1_ps(0.5);
    let last = _mm256_set1_epi32(LUT8_STEPS as i32 - 1);
    let zero_i = _mm256_setzero_si256();
    // Per 128-bit half: bytes 0..=2 of each of its four 32-bit values (R, G,
    // B), then four bytes nobody reads.
    let pack = _mm256_setr_epi8(
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13,
        14, -1, -1, -1, -1,
    );
    let rows = m.map(|row| row.map(|v| _mm256_set1_ps(v)));
    for b in 0..blocks {
        // SAFETY: block `b` reads src[24b .. 24b + 24] (b < pixels / 8, so
        // inside `src`) and writes dst[24b .. 24b + 28] (inside `dst` by the
        // choice of `blocks`); the table holds LUT8_STEPS values and every
        // index is clamped to 0..LUT8_STEPS - 1.
        unsafe {
            let p = src.as_ptr().add(24 * b);
            // x: r0 g0 b0 r1 g1 b1 r2 g2 | y: b2 r3 g3 b3 r4 g4 b4 r5 |
            // z: g5 b5 r6 g6 b6 r7 g7 b7.
            let (x, y, z) = (
                _mm256_loadu_ps(p),
                _mm256_loadu_ps(p.add(8)),
                _mm256_loadu_ps(p.add(16)),
            );
            // R: lanes 0 3 6 of x, 1 4 7 of y, 2 5 of z.
            let r: __m256 = _mm256_permutevar8x32_ps(
                _mm256_blend_ps::<0b0010_0100>(_mm256_blend_ps::<0b1001_0010>(x, y), z),
                order_r,
            );
            // G: lanes 1 4 7 of x, 2 5 of y, 0 3 6 of z.
            let g: __m256 = _mm256_permutevar8x32_ps(
                _mm256_blend_ps::<0b0100_1001>(_mm256_blend_ps::<0b0010_0100>(x, y), z),
                order_g,
            );
            // B: lanes 2 5 of x, 0 3 6 of y, 1 4 7 of z.
            let bl: __m256 = _mm256_permutevar8x32_ps(
                _mm256_blend_ps::<0b1001_0010>(_mm256_blend_ps::<0b0100_1001>(x, y), z),
                order_b,
            );
            let channel = |row: &[__m256; 3]| -> __m256i {
                // ((m0 r + m1 g) + m2 b), each product rounded: the portable order.
                let v = _mm256_add_ps(
                    _mm256_add_ps(_mm256_mul_ps(row[0], r), _mm256_mul_ps(row[1], g)),
                    _mm256_mul_ps(row[2], bl),
                );
                // max(v, 0) gives 0 for NaN (the second operand), as `f32::max`.
                let x = _mm256_add_ps(
                    _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(v, zero), one), steps),
                    half,
                );
                let i = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvttps_epi32(x), zero_i), last);
                _mm256_i32gather_epi32::<4>(lut.as_ptr().cast::<i32>(), i)
            };
            let [cr, cg, cb] = [channel(&rows[0]), channel(&rows[1]), channel(&rows[2])];
            let rgb = _mm256_or_si256(
                _mm256_or_si256(cr, _mm256_slli_epi32::<8>(cg)),
                _mm256_slli_epi32::<16>(cb),
            );
            let packed = _mm256_shuffle_epi8(rgb, pack);
            let out = dst.as_mut_ptr().add(24 * b);
            _mm_storeu_si128(out.cast(), _mm256_castsi256_si128(packed));
            _mm_storeu_si128(out.add(12).cast(), _mm256_extracti128_si256::<1>(packed));
        }
    }
    let done = 24 * blocks;
    matrix_to_srgb8(m, &src[done..], &mut dst[done..]);
}
