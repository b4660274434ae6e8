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
        crate::simd::dispatch_rcd()(tile, scratch, out);
    }
}

/// Row `y` (length `w`) of `buf`.
#[inline(always)]
fn row(buf: &[f32], y: usize, w: usize) -> &[f32] {
    &buf[y * w..(y + 1) * w]
}

/// The RCD kernel body; `#[inline(always)]` so that every CPU-feature variant
/// in [`crate::simd`] compiles its own copy.
#[inline(always)]
pub(crate) fn rcd_tile(tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
    let (w, h) = (tile.w, tile.h);
    if w < 24 || h < 24 {
        return;
    }
    let c = tile.data;
    let bufs = scratch.get(5, w * h);
    let [vh, pq, t0, t1, tmp, ..] = bufs else {
        return;
    };
    let tmp = &mut tmp[..w];
    let [rr, gg, bb] = out;

    // Step 1: vertical/horizontal discrimination. t0 = squared vertical
    // high-pass, t1 = squared horizontal high-pass.
    for y in 3..h - 3 {
        let (cm3, cm2, cm1) = (row(c, y - 3, w), row(c, y - 2, w), row(c, y - 1, w));
        let (c0, cp1, cp2, cp3) = (
            row(c, y, w),
            row(c, y + 1, w),
            row(c, y + 2, w),
            row(c, y + 3, w),
        );
        let t0r = &mut t0[y * w..(y + 1) * w];
        let rows = [cm3, cm2, cm1, c0, cp1, cp2, cp3].map(|r| &r[3..w - 3]);
        crate::simd::highpass::vertical_wide(rows, &mut t0r[3..w - 3]);
        let t1r = &mut t1[y * w..(y + 1) * w];
        for x in 3..w - 3 {
            t1r[x] = sq((c0[x - 3] - c0[x - 1] - c0[x + 1] + c0[x + 3])
                - 3.0 * (c0[x - 2] + c0[x + 2])
                + 6.0 * c0[x]);
        }
    }
    for y in 4..h - 4 {
        let (a, b, d) = (row(t0, y - 1, w), row(t0, y, w), row(t0, y + 1, w));
        let hr = row(t1, y, w);
        let out = &mut vh[y * w..(y + 1) * w];
        for x in 4..w - 4 {
            let v = (a[x] + b[x] + d[x]).max(EPS_SQ);
            let hs = (hr[x - 1] + hr[x] + hr[x + 1]).max(EPS_SQ);
            out[x] = v / (v + hs);
        }
    }

    // Step 2.1: low-pass filter (needed at red/blue sites; computed everywhere).
    for y in 1..h - 1 {
        let (cm, c0, cp) = (row(c, y - 1, w), row(c, y, w), row(c, y + 1, w));
        let out = &mut t0[y * w..(y + 1) * w];
        for x in 1..w - 1 {
            out[x] = c0[x]
                + 0.5 * (cm[x] + cp[x] + c0[x - 1] + c0[x + 1])
                + 0.25 * (cm[x - 1] + cm[x + 1] + cp[x - 1] + cp[x + 1]);
        }
    }
    // Step 2.2: green.
    gg[..].copy_from_slice(c);
    for y in 5..h - 5 {
        let x0 = first(5, y, false);
        let (cm4, cm3, cm2, cm1) = (
            row(c, y - 4, w),
            row(c, y - 3, w),
            row(c, y - 2, w),
            row(c, y - 1, w),
        );
        let (c0, cp1, cp2, cp3, cp4) = (
            row(c, y, w),
            row(c, y + 1, w),
            row(c, y + 2, w),
            row(c, y + 3, w),
            row(c, y + 4, w),
        );
        let (lm2, l0, lp2) = (row(t0, y - 2, w), row(t0, y, w), row(t0, y + 2, w));
        let (vm, v0, vp) = (row(vh, y - 1, w), row(vh, y, w), row(vh, y + 1, w));
        let g = &mut gg[y * w..(y + 1) * w];
        for x in (x0..w - 5).step_by(2) {
            let cv = c0[x];
            let ng = EPS
                + (cm1[x] - cp1[x]).abs()
                + (cv - cm2[x]).abs()
                + (cm1[x] - cm3[x]).abs()
                + (cm2[x] - cm4[x]).abs();
            let sg = EPS
                + (cm1[x] - cp1[x]).abs()
                + (cv - cp2[x]).abs()
                + (cp1[x] - cp3[x]).abs()
                + (cp2[x] - cp4[x]).abs();
            let wg = EPS
                + (c0[x - 1] - c0[x + 1]).abs()
                + (cv - c0[x - 2]).abs()
                + (c0[x - 1] - c0[x - 3]).abs()
                + (c0[x - 2] - c0[x - 4]).abs();
            let eg = EPS
                + (c0[x - 1] - c0[x + 1]).abs()
                + (cv - c0[x + 2]).abs()
                + (c0[x + 1] - c0[x + 3]).abs()
                + (c0[x + 2] - c0[x + 4]).abs();
            let l2 = 2.0 * l0[x];
            let ne = cm1[x] * l2 / (EPS + l0[x] + lm2[x]);
            let se = cp1[x] * l2 / (EPS + l0[x] + lp2[x]);
            let we = c0[x - 1] * l2 / (EPS + l0[x] + l0[x - 2]);
            let ee = c0[x + 1] * l2 / (EPS + l0[x] + l0[x + 2]);
            let v_est = (sg * ne + ng * se) / (ng + sg);
            let h_est = (wg * ee + eg * we) / (eg + wg);
            let nb = 0.25 * (vm[x - 1] + vm[x + 1] + vp[x - 1] + vp[x + 1]);
            let d = refine(v0[x], nb);
            g[x] = intp(d, h_est, v_est);
        }
    }

    // Step 3.1: diagonal discrimination (needed at red/blue sites; computed
    // everywhere).
    for y in 3..h - 3 {
        let (cm3, cm2, cm1) = (row(c, y - 3, w), row(c, y - 2, w), row(c, y - 1, w));
        let (c0, cp1, cp2, cp3) = (
            row(c, y, w),
            row(c, y + 1, w),
            row(c, y + 2, w),
            row(c, y + 3, w),
        );
        let t0r = &mut t0[y * w..(y + 1) * w];
        for x in 3..w - 3 {
            t0r[x] = sq((cm3[x - 3] - cm1[x - 1] - cp1[x + 1] + cp3[x + 3])
                - 3.0 * (cm2[x - 2] + cp2[x + 2])
                + 6.0 * c0[x]);
        }
        let t1r = &mut t1[y * w..(y + 1) * w];
        for x in 3..w - 3 {
            t1r[x] = sq((cm3[x + 3] - cm1[x + 1] - cp1[x - 1] + cp3[x - 3])
                - 3.0 * (cm2[x + 2] + cp2[x - 2])
                + 6.0 * c0[x]);
        }
    }
    for y in 4..h - 4 {
        let (am, a0, ap) = (row(t0, y - 1, w), row(t0, y, w), row(t0, y + 1, w));
        let (bm, b0, bp) = (row(t1, y - 1, w), row(t1, y, w), row(t1, y + 1, w));
        let out = &mut pq[y * w..(y + 1) * w];
        for x in 4..w - 4 {
            let p = (am[x - 1] + a0[x] + ap[x + 1]).max(EPS_SQ);
            let q = (bm[x + 1] + b0[x] + bp[x - 1]).max(EPS_SQ);
            out[x] = p / (p + q);
        }
    }

    // Step 3.2: red at blue, blue at red. The known colour goes straight in.
    rr[..].copy_from_slice(c);
    bb[..].copy_from_slice(c);
    for y in 8..h - 8 {
        let x0 = first(8, y, false);
        let (cm3, cm1, cp1, cp3) = (
            row(c, y - 3, w),
            row(c, y - 1, w),
            row(c, y + 1, w),
            row(c, y + 3, w),
        );
        let (gm2, gm1, g0, gp1, gp2) = (
            row(gg, y - 2, w),
            row(gg, y - 1, w),
            row(gg, y, w),
            row(gg, y + 1, w),
            row(gg, y + 2, w),
        );
        let (pm, p0, pp) = (row(pq, y - 1, w), row(pq, y, w), row(pq, y + 1, w));
        let dst: &mut Vec<f32> = if y & 1 == 0 { &mut *bb } else { &mut *rr };
        let dst = &mut dst[y * w..(y + 1) * w];
        for x in (x0..w - 8).step_by(2) {
            let nb = 0.25 * (pm[x - 1] + pm[x + 1] + pp[x - 1] + pp[x + 1]);
            let d = refine(p0[x], nb);
            let g = g0[x];
            // d = +(w+1) diagonal, e = +(w-1) diagonal.
            let (c_md1, c_pd1, c_md3, c_pd3) = (cm1[x - 1], cp1[x + 1], cm3[x - 3], cp3[x + 3]);
            let (c_me1, c_pe1, c_me3, c_pe3) = (cm1[x + 1], cp1[x - 1], cm3[x + 3], cp3[x - 3]);
            let nwg = EPS + (c_md1 - c_pd1).abs() + (c_md1 - c_md3).abs() + (g - gm2[x - 2]).abs();
            let seg = EPS + (c_pd1 - c_md1).abs() + (c_pd1 - c_pd3).abs() + (g - gp2[x + 2]).abs();
            let neg = EPS + (c_me1 - c_pe1).abs() + (c_me1 - c_me3).abs() + (g - gm2[x + 2]).abs();
            let swg = EPS + (c_pe1 - c_me1).abs() + (c_pe1 - c_pe3).abs() + (g - gp2[x - 2]).abs();
            let nwe = c_md1 - gm1[x - 1];
            let see = c_pd1 - gp1[x + 1];
            let nee = c_me1 - gm1[x + 1];
            let swe = c_pe1 - gp1[x - 1];
            let p_est = (nwg * see + seg * nwe) / (nwg + seg);
            let q_est = (neg * swe + swg * nee) / (neg + swg);
            dst[x] = g + intp(d, q_est, p_est);
        }
    }

    // Step 4: red and blue at green sites (these read only red/blue sites of
    // the plane, so each row's results go through `tmp`).
    for y in 11..h - 11 {
        let x0 = first(11, y, true);
        let (gm2, gm1, g0, gp1, gp2) = (
            row(gg, y - 2, w),
            row(gg, y - 1, w),
            row(gg, y, w),
            row(gg, y + 1, w),
            row(gg, y + 2, w),
        );
        let (vm, v0, vp) = (row(vh, y - 1, w), row(vh, y, w), row(vh, y + 1, w));
        for plane in [&mut *rr, &mut *bb] {
            {
                let p = &**plane;
                let (pm3, pm1, p0, pp1, pp3) = (
                    row(p, y - 3, w),
                    row(p, y - 1, w),
                    row(p, y, w),
                    row(p, y + 1, w),
                    row(p, y + 3, w),
                );
                for x in (x0..w - 11).step_by(2) {
                    let nb = 0.25 * (vm[x - 1] + vm[x + 1] + vp[x - 1] + vp[x + 1]);
                    let d = refine(v0[x], nb);
                    let g = g0[x];
                    let ng = EPS
                        + (g - gm2[x]).abs()
                        + (pm1[x] - pp1[x]).abs()
                        + (pm1[x] - pm3[x]).abs();
                    let sg = EPS
                        + (g - gp2[x]).abs()
                        + (pp1[x] - pm1[x]).abs()
                        + (pp1[x] - pp3[x]).abs();
                    let wg = EPS
                        + (g - g0[x - 2]).abs()
                        + (p0[x - 1] - p0[x + 1]).abs()
                        + (p0[x - 1] - p0[x - 3]).abs();
                    let eg = EPS
                        + (g - g0[x + 2]).abs()
                        + (p0[x + 1] - p0[x - 1]).abs()
                        + (p0[x + 1] - p0[x + 3]).abs();
                    let ne = pm1[x] - gm1[x];
                    let se = pp1[x] - gp1[x];
                    let we = p0[x - 1] - g0[x - 1];
                    let ee = p0[x + 1] - g0[x + 1];
                    let v_est = (ng * se + sg * ne) / (ng + sg);
                    let h_est = (eg * we + wg * ee) / (eg + wg);
                    tmp[x] = g + intp(d, h_est, v_est);
                }
            }
            let dst = &mut plane[y * w..(y + 1) * w];
            for x in (x0..w - 11).step_by(2) {
                dst[x] = tmp[x];
            }
        }
    }
}
