//! The tile runner's last step for two-colour-period rows (Bayer) with NEON:
//! the aarch64 twin of [`super::finish_row`], bit for bit.
//!
//! Four pixels go through in registers: decode (or clamp), the recorded
//! samples selected in by a lane mask, the matrix and gain, and one `vst3q`
//! that interleaves R, G and B on the way out (the shuffles the AVX2 kernel
//! builds from permutes and blends). Each operation is the one the portable
//! code compiles to on aarch64 (`fmaxnm`/`fminnm` for `f32::max`/`min`,
//! compares for `f32::clamp`, separate multiplies and adds), so the results
//! are the same bits.

use std::arch::aarch64::{
    float32x4_t, float32x4x3_t, uint32x4_t, vabsq_f32, vaddq_f32, vandq_u32, vbslq_f32, vcgtq_f32,
    vcltq_f32, vcombine_f32, vdupq_n_f32, vld1_f32, vld1q_f32, vld1q_u32, vmaxnmq_f32, vminnmq_f32,
    vmulq_f32, vreinterpretq_f32_u32, vreinterpretq_u32_f32, vst3q_f32, vzip1_f32, vzip2_f32,
};

use super::{finish_row, Finish, Layout, RowIn};

/// `finish_row` on aarch64: four pixels at a time for Bayer rows, the
/// portable code for the rest of the row and for other patterns.
pub(crate) fn finish_row_neon(
    row: &RowIn<'_>,
    finish: Option<&Finish>,
    lin: &mut [Vec<f32>; 3],
    dst: &mut [f32],
) {
    let n = row.known.len();
    let body = if row.colors.len() == 2 && dst.len() >= 3 * n {
        // SAFETY: NEON is part of the aarch64 baseline (every aarch64 Linux
        // CPU has it; the target enables it), and `blocks` checks every read.
        unsafe { blocks(row, finish, n - n % 4, dst) }
    } else {
        0
    };
    if body < n {
        let period = row.colors.len().max(1);
        let (planes, layout) = match row.layout {
            Layout::Plain => (
                row.planes.map(|p| p.get(body..).unwrap_or(&[])),
                Layout::Plain,
            ),
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

/// Four values of a plane row from pixel `i`, or `None` when they would lie
/// outside it.
#[inline]
#[target_feature(enable = "neon")]
fn load4(p: &[f32], layout: Layout, i: usize) -> Option<float32x4_t> {
    match layout {
        Layout::Plain => {
            let v = p.get(i..i + 4)?;
            // SAFETY: `v` holds 4 values.
            Some(unsafe { vld1q_f32(v.as_ptr()) })
        }
        Layout::Split { half, x0 } => {
            // Even column first: two of its half, then two of the other from
            // the same index; odd column first: two of the odd half, then two
            // of the even one from the next index.
            let x = x0 + i;
            let k = x >> 1;
            let (a, b) = if x & 1 == 0 {
                (p.get(k..k + 2)?, p.get(half + k..half + k + 2)?)
            } else {
                (p.get(half + k..half + k + 2)?, p.get(k + 1..k + 3)?)
            };
            // SAFETY: `a` and `b` hold 2 values each.
            let (a, b) = unsafe { (vld1_f32(a.as_ptr()), vld1_f32(b.as_ptr())) };
            Some(vcombine_f32(vzip1_f32(a, b), vzip2_f32(a, b)))
        }
    }
}

/// Pixels from 0 in blocks of 4, up to `body` (a multiple of 4) or the first
/// block whose reads would leave a plane; returns the pixels done.
///
/// # Safety
/// NEON (the aarch64 baseline).
#[target_feature(enable = "neon")]
unsafe fn blocks(row: &RowIn<'_>, finish: Option<&Finish>, body: usize, dst: &mut [f32]) -> usize {
    // Which plane each lane's recorded sample belongs to (lanes alternate,
    // starting at the row's phase; blocks start at even pixels).
    let colour = |k: usize| row.colors.get((row.phase + k) % 2).copied().unwrap_or(3);
    let (c0, c1) = (colour(0), colour(1));
    let mask = |c: usize| -> uint32x4_t {
        let on = |hit: bool| if hit { u32::MAX } else { 0 };
        let (a, b) = (on(c0 == c), on(c1 == c));
        let lanes = [a, b, a, b];
        // SAFETY: `lanes` holds 4 values.
        unsafe { vld1q_u32(lanes.as_ptr()) }
    };
    let masks = [mask(0), mask(1), mask(2)];
    let m = finish.map(|f| f.matrix.map(|r| r.map(|v| vdupq_n_f32(v))));
    let gain = vdupq_n_f32(finish.map_or(1.0, |f| f.gain));
    let [pr, pg, pb] = row.planes;
    let mut x = 0;
    while x < body {
        let (Some(r), Some(g), Some(b), Some(known), Some(out)) = (
            load4(pr, row.layout, x),
            load4(pg, row.layout, x),
            load4(pb, row.layout, x),
            row.known.get(x..x + 4),
            dst.get_mut(3 * x..3 * x + 12),
        ) else {
            break;
        };
        // SAFETY: `known` holds 4 values.
        let known = unsafe { vld1q_f32(known.as_ptr()) };
        let r = plane(r, row.encoded, known, masks[0]);
        let g = plane(g, row.encoded, known, masks[1]);
        let b = plane(b, row.encoded, known, masks[2]);
        let (r, g, b) = match &m {
            None => (r, g, b),
            Some([mr, mg, mb]) => (
                channel(mr, r, g, b, gain),
                channel(mg, r, g, b, gain),
                channel(mb, r, g, b, gain),
            ),
        };
        // SAFETY: `out` holds the 12 values one `vst3q` writes.
        unsafe { vst3q_f32(out.as_mut_ptr(), float32x4x3_t(r, g, b)) };
        x += 4;
    }
    x
}

/// Four values of a plane, decoded (`encoded`) or clamped, with the
/// recorded samples selected where `mask` is set.
#[inline]
#[target_feature(enable = "neon")]
fn plane(v: float32x4_t, encoded: bool, known: float32x4_t, mask: uint32x4_t) -> float32x4_t {
    let zero = vdupq_n_f32(0.0);
    let one = vdupq_n_f32(1.0);
    let v = if encoded {
        // sqrt_decode: `v.max(0.0).min(1.0)` (NaN becomes 0), squared.
        let c = vminnmq_f32(vmaxnmq_f32(v, zero), one);
        vmulq_f32(c, c)
    } else {
        // f32::clamp: compares, so NaN and -0.0 stay as they are.
        let v = vbslq_f32(vcltq_f32(v, zero), zero, v);
        vbslq_f32(vcgtq_f32(v, one), one, v)
    };
    vbslq_f32(mask, known, v)
}

/// One output channel: `((w0 r + w1 g) + w2 b) · gain`, each step rounded as
/// in the portable code; a non-finite result becomes 0.
#[inline]
#[target_feature(enable = "neon")]
fn channel(
    w: &[float32x4_t; 3],
    r: float32x4_t,
    g: float32x4_t,
    b: float32x4_t,
    gain: float32x4_t,
) -> float32x4_t {
    let v = vmulq_f32(
        vaddq_f32(
            vaddq_f32(vmulq_f32(w[0], r), vmulq_f32(w[1], g)),
            vmulq_f32(w[2], b),
        ),
        gain,
    );
    // |v| < ∞ is false for ±∞ and NaN.
    let finite = vcltq_f32(vabsq_f32(v), vdupq_n_f32(f32::INFINITY));
    vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), finite))
}
