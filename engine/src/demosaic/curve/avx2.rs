//! Interpolated table lookups with AVX2 gathers: the x86-64 twin of
//! [`super::lookup_row`], giving bit-identical results
//! (LMMSE's sRGB encode and decode).

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_cvtepi32_ps, _mm256_cvttps_epi32, _mm256_i32gather_ps,
    _mm256_loadu_ps, _mm256_max_ps, _mm256_min_epi32, _mm256_min_ps, _mm256_mul_ps,
    _mm256_set1_epi32, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps, _mm256_sub_ps,
};

use super::{lookup, Table, LAST};

/// `dst[i] = lookup(table, src[i])` for `i < min(src.len(), dst.len())`,
/// eight at a time.
pub(crate) fn lookup_row_avx2(table: &Table, src: &[f32], dst: &mut [f32]) {
    // SAFETY: only returned by `dispatch_lookup` for an `Isa` whose `avx2()`
    // is true, which `Isa::detect` sets after confirming AVX2 at run time.
    unsafe { lookup_row_inner(table, src, dst) }
}

#[target_feature(enable = "avx2")]
unsafe fn lookup_row_inner(table: &Table, src: &[f32], dst: &mut [f32]) {
    let n = src.len().min(dst.len());
    let body = n - n % 8;
    let zero = _mm256_setzero_ps();
    let one = _mm256_set1_ps(1.0);
    let last = _mm256_set1_ps(LAST);
    let last_i = _mm256_set1_epi32(LAST as i32);
    let base = table.as_ptr();
    for (s, d) in src[..body]
        .chunks_exact(8)
        .zip(dst[..body].chunks_exact_mut(8))
    {
        // SAFETY: `s` and `d` hold 8 values each (unaligned loads/stores);
        // every index is clamped to 0..=LAST, and the table has LAST + 2
        // entries, so both gathers (at i and i + 1) stay inside it.
        unsafe {
            let v: __m256 = _mm256_loadu_ps(s.as_ptr());
            // max/min return the second operand for NaN: NaN reads as 0,
            // as in `lookup`.
            let f = _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(v, zero), one), last);
            let i = _mm256_min_epi32(_mm256_cvttps_epi32(f), last_i);
            let a = _mm256_i32gather_ps::<4>(base, i);
            let b = _mm256_i32gather_ps::<4>(base.add(1), i);
            let t = _mm256_sub_ps(f, _mm256_cvtepi32_ps(i));
            let r = _mm256_add_ps(a, _mm256_mul_ps(_mm256_sub_ps(b, a), t));
            _mm256_storeu_ps(d.as_mut_ptr(), r);
        }
    }
    for (d, &s) in dst[body..n].iter_mut().zip(&src[body..n]) {
        *d = lookup(table, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_match_the_scalar_lookup() {
        if !crate::cpu::Isa::detect().avx2() {
            return;
        }
        let table: Table = std::array::from_fn(|i| (i as f32).sqrt() * 0.01 + 0.5);
        let src: Vec<f32> = (0..1004)
            .map(|i| (i as f32 * 0.001_37) - 0.2)
            .chain([f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1.0, 0.0])
            .collect();
        let mut a = vec![0.0; src.len()];
        let mut b = vec![0.0; src.len()];
        lookup_row_avx2(&table, &src, &mut a);
        super::super::lookup_row(&table, &src, &mut b);
        assert_eq!(a, b);
    }
}
