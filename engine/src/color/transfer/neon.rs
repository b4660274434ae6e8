//! Linear RGB → colour matrix → 8-bit sRGB with NEON: the aarch64 twin of
//! [`super::matrix_to_srgb8`], bit for bit.
//!
//! Eight pixels at a time: two `vld3q` loads sort them into R, G and B, the
//! matrix and the table index are computed in registers (the operations the
//! portable code compiles to on aarch64), the table is read value by value
//! (NEON has no gather), and one `vst3` writes the 24 bytes back in R G B
//! order.

use std::arch::aarch64::{
    float32x4_t, int32x4_t, uint8x8x3_t, vaddq_f32, vcvtq_s32_f32, vdupq_n_f32, vdupq_n_s32,
    vld1_u8, vld3q_f32, vmaxnmq_f32, vmaxq_s32, vminnmq_f32, vminq_s32, vmulq_f32, vst1q_s32,
    vst3_u8,
};

use super::{lut8, matrix_to_srgb8, LUT8_STEPS};

/// `matrix_to_srgb8` on aarch64.
pub(crate) fn matrix_to_srgb8_neon(m: &[[f32; 3]; 3], src: &[f32], dst: &mut [u8]) {
    let pixels = src.len().min(dst.len()) / 3;
    let blocks = pixels / 8;
    // SAFETY: NEON is part of the aarch64 baseline (every aarch64 Linux CPU
    // has it; the target enables it).
    unsafe { run(m, &src[..24 * blocks], &mut dst[..24 * blocks]) };
    let done = 24 * blocks;
    matrix_to_srgb8(m, &src[done..], &mut dst[done..]);
}

/// Whole blocks of 8 pixels (`src` and `dst` hold a multiple of 24 values).
///
/// # Safety
/// NEON (the aarch64 baseline).
#[target_feature(enable = "neon")]
unsafe fn run(m: &[[f32; 3]; 3], src: &[f32], dst: &mut [u8]) {
    let lut = lut8();
    let rows = m.map(|row| row.map(|v| vdupq_n_f32(v)));
    for (s, d) in src.chunks_exact(24).zip(dst.chunks_exact_mut(24)) {
        // SAFETY: `s` holds 24 values, two `vld3q` loads of 12.
        let (a, b) = unsafe { (vld3q_f32(s.as_ptr()), vld3q_f32(s.as_ptr().add(12))) };
        let mut bytes = [[0u8; 8]; 3];
        for (c, row) in rows.iter().enumerate() {
            let lo = index(row, a.0, a.1, a.2);
            let hi = index(row, b.0, b.1, b.2);
            let mut idx = [0i32; 8];
            // SAFETY: `idx` holds 8 values.
            unsafe {
                vst1q_s32(idx.as_mut_ptr(), lo);
                vst1q_s32(idx.as_mut_ptr().add(4), hi);
            }
            for (o, &i) in bytes[c].iter_mut().zip(&idx) {
                // Indices are within 0..LUT8_STEPS (clamped in `index`).
                *o = lut.get(i as usize).copied().unwrap_or(0);
            }
        }
        // SAFETY: each `bytes[c]` holds 8 values; `d` holds the 24 one
        // `vst3` writes.
        unsafe {
            let planes = uint8x8x3_t(
                vld1_u8(bytes[0].as_ptr()),
                vld1_u8(bytes[1].as_ptr()),
                vld1_u8(bytes[2].as_ptr()),
            );
            vst3_u8(d.as_mut_ptr(), planes);
        }
    }
}

/// The table index of one output channel for four pixels:
/// `((m0 r + m1 g) + m2 b)`, then `index8`'s
/// `max(0).min(1) · (steps − 1) + 0.5`, truncated and clamped.
#[inline]
#[target_feature(enable = "neon")]
fn index(row: &[float32x4_t; 3], r: float32x4_t, g: float32x4_t, b: float32x4_t) -> int32x4_t {
    let v = vaddq_f32(
        vaddq_f32(vmulq_f32(row[0], r), vmulq_f32(row[1], g)),
        vmulq_f32(row[2], b),
    );
    let c = vminnmq_f32(vmaxnmq_f32(v, vdupq_n_f32(0.0)), vdupq_n_f32(1.0));
    let x = vaddq_f32(
        vmulq_f32(c, vdupq_n_f32((LUT8_STEPS - 1) as f32)),
        vdupq_n_f32(0.5),
    );
    let i = vcvtq_s32_f32(x);
    vminq_s32(
        vmaxq_s32(i, vdupq_n_s32(0)),
        vdupq_n_s32(LUT8_STEPS as i32 - 1),
    )
}
