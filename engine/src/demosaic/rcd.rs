//! Ratio Corrected Demosaicing (RCD, after Luis Sanz Rodríguez) for Bayer tiles.
//!
//! 1. Vertical/horizontal discrimination from squared directional high-pass
//!    responses of the raw data.
//! 2. Green at red/blue: four one-sided estimates corrected by the ratio of a
//!    low-pass filtered mosaic, weighted by gradients, blended by direction.
//! 3. Red at blue and blue at red: diagonal colour differences, blended by a
//!    diagonal discrimination.
//! 4. Red and blue at green: vertical/horizontal colour differences.
//!
//! Tiles arrive RGGB-aligned (red at even row and column).

use super::tile::{Kernel, Scratch, TileIn};

const EPS: f32 = 1e-5;
const EPS_SQ: f32 = 1e-10;

/// The RCD kernel.
pub(crate) struct Rcd;

#[inline(always)]
fn sq(v: f32) -> f32 {
    v * v
}

/// `a * (b - c) + c`: `b` with weight `a`, `c` with weight `1 - a`.
#[inline(always)]
fn intp(a: f32, b: f32, c: f32) -> f32 {
    a * (b - c) + c
}

/// The refined direction weight: the neighbourhood's when it is more decided.
#[inline(always)]
fn refine(central: f32, neighbourhood: f32) -> f32 {
    if (0.5 - central).abs() < (0.5 - neighbourhood).abs() {
        neighbourhood
    } else {
        central
    }
}

/// The first column at or after `s` in row `y` holding green (`green`) or
/// red/blue (`!green`) on an RGGB tile.
#[inline(always)]
pub(crate) fn first(s: usize, y: usize, green: bool) -> usize {
    s + ((s + y + green as usize) & 1)
}

impl Kernel for Rcd {
    fn border(&self) -> usize {
        12
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        let (w, h) = (tile.w, tile.h);
        let c = tile.data;
        let bufs = scratch.get(4, w * h);
        let [vh, pq, t0, t1, ..] = bufs else {
            return;
        };
        let [rr, gg, bb] = out;
        let (w2, w3, w4) = (2 * w, 3 * w, 4 * w);

        // Step 1: vertical/horizontal discrimination. t0 = squared vertical
        // high-pass, t1 = squared horizontal high-pass.
        for y in 3..h - 3 {
            for x in 3..w - 3 {
                let i = y * w + x;
                t0[i] = sq((c[i - w3] - c[i - w] - c[i + w] + c[i + w3])
                    - 3.0 * (c[i - w2] + c[i + w2])
                    + 6.0 * c[i]);
                t1[i] = sq((c[i - 3] - c[i - 1] - c[i + 1] + c[i + 3])
                    - 3.0 * (c[i - 2] + c[i + 2])
                    + 6.0 * c[i]);
            }
        }
        for y in 4..h - 4 {
            for x in 4..w - 4 {
                let i = y * w + x;
                let v = (t0[i - w] + t0[i] + t0[i + w]).max(EPS_SQ);
                let hs = (t1[i - 1] + t1[i] + t1[i + 1]).max(EPS_SQ);
                vh[i] = v / (v + hs);
            }
        }

        // Step 2.1: low-pass filter, needed at red/blue sites (t0).
        for y in 1..h - 1 {
            let x0 = first(1, y, false);
            for x in (x0..w - 1).step_by(2) {
                let i = y * w + x;
                t0[i] = c[i]
                    + 0.5 * (c[i - w] + c[i + w] + c[i - 1] + c[i + 1])
                    + 0.25 * (c[i - w - 1] + c[i - w + 1] + c[i + w - 1] + c[i + w + 1]);
            }
        }
        // Step 2.2: green.
        gg[..].copy_from_slice(c);
        for y in 5..h - 5 {
            let x0 = first(5, y, false);
            for x in (x0..w - 5).step_by(2) {
                let i = y * w + x;
                let lpf = &*t0;
                let cv = c[i];
                let ng = EPS
                    + (c[i - w] - c[i + w]).abs()
                    + (cv - c[i - w2]).abs()
                    + (c[i - w] - c[i - w3]).abs()
                    + (c[i - w2] - c[i - w4]).abs();
                let sg = EPS
                    + (c[i - w] - c[i + w]).abs()
                    + (cv - c[i + w2]).abs()
                    + (c[i + w] - c[i + w3]).abs()
                    + (c[i + w2] - c[i + w4]).abs();
                let wg = EPS
                    + (c[i - 1] - c[i + 1]).abs()
                    + (cv - c[i - 2]).abs()
                    + (c[i - 1] - c[i - 3]).abs()
                    + (c[i - 2] - c[i - 4]).abs();
                let eg = EPS
                    + (c[i - 1] - c[i + 1]).abs()
                    + (cv - c[i + 2]).abs()
                    + (c[i + 1] - c[i + 3]).abs()
                    + (c[i + 2] - c[i + 4]).abs();
                let l2 = 2.0 * lpf[i];
                let ne = c[i - w] * l2 / (EPS + lpf[i] + lpf[i - w2]);
                let se = c[i + w] * l2 / (EPS + lpf[i] + lpf[i + w2]);
                let we = c[i - 1] * l2 / (EPS + lpf[i] + lpf[i - 2]);
                let ee = c[i + 1] * l2 / (EPS + lpf[i] + lpf[i + 2]);
                let v_est = (sg * ne + ng * se) / (ng + sg);
                let h_est = (wg * ee + eg * we) / (eg + wg);
                let nb = 0.25 * (vh[i - w - 1] + vh[i - w + 1] + vh[i + w - 1] + vh[i + w + 1]);
                let d = refine(vh[i], nb);
                gg[i] = intp(d, h_est, v_est);
            }
        }

        // Step 3.1: diagonal discrimination at red/blue sites.
        for y in 3..h - 3 {
            let x0 = first(3, y, false);
            for x in (x0..w - 3).step_by(2) {
                let i = y * w + x;
                let (d1, d2, d3) = (w + 1, 2 * (w + 1), 3 * (w + 1));
                let (e1, e2, e3) = (w - 1, 2 * (w - 1), 3 * (w - 1));
                t0[i] = sq((c[i - d3] - c[i - d1] - c[i + d1] + c[i + d3])
                    - 3.0 * (c[i - d2] + c[i + d2])
                    + 6.0 * c[i]);
                t1[i] = sq((c[i - e3] - c[i - e1] - c[i + e1] + c[i + e3])
                    - 3.0 * (c[i - e2] + c[i + e2])
                    + 6.0 * c[i]);
            }
        }
        for y in 4..h - 4 {
            let x0 = first(4, y, false);
            for x in (x0..w - 4).step_by(2) {
                let i = y * w + x;
                let p = (t0[i - w - 1] + t0[i] + t0[i + w + 1]).max(EPS_SQ);
                let q = (t1[i - w + 1] + t1[i] + t1[i + w - 1]).max(EPS_SQ);
                pq[i] = p / (p + q);
            }
        }

        // Step 3.2: red at blue, blue at red. The known colour goes straight in.
        rr[..].copy_from_slice(c);
        bb[..].copy_from_slice(c);
        for y in 8..h - 8 {
            let x0 = first(8, y, false);
            let dst: &mut Vec<f32> = if y & 1 == 0 { &mut *bb } else { &mut *rr };
            for x in (x0..w - 8).step_by(2) {
                let i = y * w + x;
                let (d1, d2, d3) = (w + 1, 2 * (w + 1), 3 * (w + 1));
                let (e1, e2, e3) = (w - 1, 2 * (w - 1), 3 * (w - 1));
                let nb = 0.25 * (pq[i - w - 1] + pq[i - w + 1] + pq[i + w - 1] + pq[i + w + 1]);
                let d = refine(pq[i], nb);
                let g = gg[i];
                let nwg = EPS
                    + (c[i - d1] - c[i + d1]).abs()
                    + (c[i - d1] - c[i - d3]).abs()
                    + (g - gg[i - d2]).abs();
                let seg = EPS
                    + (c[i + d1] - c[i - d1]).abs()
                    + (c[i + d1] - c[i + d3]).abs()
                    + (g - gg[i + d2]).abs();
                let neg = EPS
                    + (c[i - e1] - c[i + e1]).abs()
                    + (c[i - e1] - c[i - e3]).abs()
                    + (g - gg[i - e2]).abs();
                let swg = EPS
                    + (c[i + e1] - c[i - e1]).abs()
                    + (c[i + e1] - c[i + e3]).abs()
                    + (g - gg[i + e2]).abs();
                let nwe = c[i - d1] - gg[i - d1];
                let see = c[i + d1] - gg[i + d1];
                let nee = c[i - e1] - gg[i - e1];
                let swe = c[i + e1] - gg[i + e1];
                let p_est = (nwg * see + seg * nwe) / (nwg + seg);
                let q_est = (neg * swe + swg * nee) / (neg + swg);
                dst[i] = g + intp(d, q_est, p_est);
            }
        }

        // Step 4: red and blue at green sites.
        for y in 11..h - 11 {
            let x0 = first(11, y, true);
            for x in (x0..w - 11).step_by(2) {
                let i = y * w + x;
                let nb = 0.25 * (vh[i - w - 1] + vh[i - w + 1] + vh[i + w - 1] + vh[i + w + 1]);
                let d = refine(vh[i], nb);
                let g = gg[i];
                for plane in [&mut *rr, &mut *bb] {
                    let p = &*plane;
                    let ng = EPS
                        + (g - gg[i - w2]).abs()
                        + (p[i - w] - p[i + w]).abs()
                        + (p[i - w] - p[i - w3]).abs();
                    let sg = EPS
                        + (g - gg[i + w2]).abs()
                        + (p[i + w] - p[i - w]).abs()
                        + (p[i + w] - p[i + w3]).abs();
                    let wg = EPS
                        + (g - gg[i - 2]).abs()
                        + (p[i - 1] - p[i + 1]).abs()
                        + (p[i - 1] - p[i - 3]).abs();
                    let eg = EPS
                        + (g - gg[i + 2]).abs()
                        + (p[i + 1] - p[i - 1]).abs()
                        + (p[i + 1] - p[i + 3]).abs();
                    let ne = p[i - w] - gg[i - w];
                    let se = p[i + w] - gg[i + w];
                    let we = p[i - 1] - gg[i - 1];
                    let ee = p[i + 1] - gg[i + 1];
                    let v_est = (ng * se + sg * ne) / (ng + sg);
                    let h_est = (eg * we + wg * ee) / (eg + wg);
                    plane[i] = g + intp(d, h_est, v_est);
                }
            }
        }
    }
}
