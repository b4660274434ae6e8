//! The horizontal Lanczos3 pass with NEON: the aarch64 twin of
//! [`super::resample_rows`], bit for bit.
//!
//! Each pair of taps of an output pixel covers six interleaved values
//! (R G B of the even tap, R G B of the odd one): one 4-lane and one 2-lane
//! load, against the pair's weights laid out the same way, so nothing is
//! read past the pair and no shuffle is needed. Four rows at a time share
//! each load of the weights and give four independent sums. Lane `l` sums
//! `x[l] · w[l]` over the pairs in order, with separate multiplies and adds,
//! exactly the portable kernel's arithmetic.

use std::arch::aarch64::{
    float32x2_t, float32x4_t, vadd_f32, vaddq_f32, vdup_n_f32, vdupq_n_f32, vld1_f32, vld1q_f32,
    vmul_f32, vmulq_f32, vst1_f32, vst1q_f32,
};

use super::{resample_pixel, Taps};

/// [`super::resample_rows`] on aarch64.
pub(crate) fn resample_rows_neon(taps: &Taps, src: &[f32], out: &mut [f32]) {
    let (sw, dw) = (3 * taps.src, 3 * taps.len());
    let rows = (src.len() / sw.max(1)).min(out.len() / dw.max(1));
    let mut r = 0;
    while r + 4 <= rows {
        let s = [0, 1, 2, 3].map(|k| &src[(r + k) * sw..][..sw]);
        let (_, rest) = out.split_at_mut(r * dw);
        let (o0, rest) = rest.split_at_mut(dw);
        let (o1, rest) = rest.split_at_mut(dw);
        let (o2, rest) = rest.split_at_mut(dw);
        // SAFETY: NEON is part of the aarch64 baseline.
        unsafe { block(taps, s, [o0, o1, o2, &mut rest[..dw]]) };
        r += 4;
    }
    while r < rows {
        // SAFETY: NEON is part of the aarch64 baseline.
        unsafe { block(taps, [&src[r * sw..][..sw]], [&mut out[r * dw..][..dw]]) };
        r += 1;
    }
}

/// `R` rows of [`resample_rows_neon`].
///
/// # Safety
/// NEON (the aarch64 baseline).
#[target_feature(enable = "neon")]
unsafe fn block<const R: usize>(taps: &Taps, src: [&[f32]; R], mut out: [&mut [f32]; R]) {
    let pairs = taps.taps / 2;
    let sw = 3 * taps.src;
    for j in 0..taps.len() {
        let base = 3 * taps.start[j];
        let (Some(lanes), true) = (
            taps.lanes.get(j * pairs..(j + 1) * pairs),
            base + 6 * pairs <= sw && src.iter().all(|s| s.len() >= sw),
        ) else {
            // A row shorter than the taps: the portable per-pixel code.
            for (s, o) in src.iter().zip(out.iter_mut()) {
                resample_pixel(taps, j, s, &mut o[3 * j..][..3]);
            }
            continue;
        };
        let mut lo: [float32x4_t; R] = [vdupq_n_f32(0.0); R];
        let mut hi: [float32x2_t; R] = [vdup_n_f32(0.0); R];
        for (p, w) in lanes.iter().enumerate() {
            // SAFETY: `w` is an `[f32; 8]` (lanes 0..6 read); every row holds
            // `sw` values and base + 6p + 6 <= base + 6 pairs <= sw.
            unsafe {
                let (wl, wh) = (vld1q_f32(w.as_ptr()), vld1_f32(w.as_ptr().add(4)));
                for ((l, h), s) in lo.iter_mut().zip(hi.iter_mut()).zip(&src) {
                    let x = s.as_ptr().add(base + 6 * p);
                    *l = vaddq_f32(*l, vmulq_f32(vld1q_f32(x), wl));
                    *h = vadd_f32(*h, vmul_f32(vld1_f32(x.add(4)), wh));
                }
            }
        }
        for ((l, h), o) in lo.iter().zip(&hi).zip(out.iter_mut()) {
            let mut v = [0.0f32; 6];
            // SAFETY: `v` holds 4 + 2 values.
            unsafe {
                vst1q_f32(v.as_mut_ptr(), *l);
                vst1_f32(v.as_mut_ptr().add(4), *h);
            }
            let px = &mut o[3 * j..][..3];
            px[0] = v[0] + v[3];
            px[1] = v[1] + v[4];
            px[2] = v[2] + v[5];
        }
    }
}
