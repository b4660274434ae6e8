//! Directional LMMSE demosaicing (after Zhang & Wu, 2005) with median
//! refinement, for Bayer tiles.
//!
//! Works in a gamma-encoded space (sRGB curve), where colour differences are
//! perceptually more uniform:
//! 1. Horizontal and vertical green-minus-colour observations from
//!    Hamilton–Adams style 1-D interpolation.
//! 2. Each observation is low-pass filtered (9-tap Gaussian); signal and noise
//!    variances over a 9-sample window give a linear minimum mean square error
//!    estimate per direction, and the two directions are fused by inverse variance.
//! 3. Red/blue from colour differences, diagonally then orthogonally.
//! 4. Refinement: 3×3 medians of the colour differences, then the missing
//!    colours are rebuilt around the recorded samples.
//!
//! Tiles arrive RGGB-aligned (red at even row and column).

use super::curve::{curves, dispatch_lookup, LookupFn};
use super::tile::{Kernel, Scratch, TileIn};
use crate::cpu::Isa;

/// The first column at or after `s` in row `y` holding green (`green`) or
/// red/blue (`!green`) on an RGGB tile.
#[inline(always)]
fn first(s: usize, y: usize, green: bool) -> usize {
    s + ((s + y + green as usize) & 1)
}

/// The LMMSE kernel.
pub(crate) struct Lmmse {
    /// Median refinement passes.
    passes: usize,
    /// The tile kernel for the development's instruction set.
    tile: LmmseFn,
    /// The table lookups it calls.
    lookup: LookupFn,
}

impl Lmmse {
    /// The number of median refinement passes.
    pub(crate) fn passes(&self) -> usize {
        self.passes
    }

    /// LMMSE with two refinement passes, its kernels resolved for `isa`.
    pub(crate) fn new(isa: Isa) -> Self {
        Self {
            passes: 2,
            tile: dispatch_lmmse(isa),
            lookup: dispatch_lookup(isa),
        }
    }
}

/// Normalised 9-tap Gaussian (σ = 2), centre first.
const GAUSS: [f32; 5] = [
    0.204_164_6,
    0.180_173_8,
    0.123_831_5,
    0.066_282_6,
    0.027_630_7,
];

/// Median of nine values (exchange network).
#[inline(always)]
fn median9(mut p: [f32; 9]) -> f32 {
    #[inline(always)]
    fn s(p: &mut [f32; 9], a: usize, b: usize) {
        let (x, y) = (p[a], p[b]);
        p[a] = x.min(y);
        p[b] = x.max(y);
    }
    s(&mut p, 1, 2);
    s(&mut p, 4, 5);
    s(&mut p, 7, 8);
    s(&mut p, 0, 1);
    s(&mut p, 3, 4);
    s(&mut p, 6, 7);
    s(&mut p, 1, 2);
    s(&mut p, 4, 5);
    s(&mut p, 7, 8);
    s(&mut p, 0, 3);
    s(&mut p, 5, 8);
    s(&mut p, 4, 7);
    s(&mut p, 3, 6);
    s(&mut p, 1, 4);
    s(&mut p, 2, 5);
    s(&mut p, 4, 7);
    s(&mut p, 4, 2);
    s(&mut p, 6, 4);
    s(&mut p, 4, 2);
    p[4]
}

/// The signature of the LMMSE tile kernel (with its refinement passes).
pub(crate) type LmmseFn = fn(usize, LookupFn, &TileIn<'_>, &mut Scratch, &mut [Vec<f32>; 3]);

crate::cpu::dispatched! {
    /// The LMMSE tile kernel for an instruction set.
    dispatch_lmmse -> LmmseFn;
    lmmse_portable(
        passes: usize,
        lookup_row: LookupFn,
        tile: &TileIn<'_>,
        scratch: &mut Scratch,
        out: &mut [Vec<f32>; 3],
    ) {
        lmmse_tile(passes, lookup_row, tile, scratch, out);
    }
    avx2 {
        lmmse_tile(passes, lookup_row, tile, scratch, out);
    }
}

impl Kernel for Lmmse {
    fn border(&self) -> usize {
        13 + self.passes
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        (self.tile)(self.passes, self.lookup, tile, scratch, out);
    }
}

/// The LMMSE kernel body with `passes` median refinements; `#[inline(always)]`
/// so that every CPU-feature variant made by `dispatched!` compiles its own copy.
#[inline(always)]
pub(crate) fn lmmse_tile(
    passes: usize,
    lookup_row: LookupFn,
    tile: &TileIn<'_>,
    scratch: &mut Scratch,
    out: &mut [Vec<f32>; 3],
) {
    let (w, h) = (tile.w, tile.h);
    let cv = curves();
    let bufs = scratch.get(5, w * h);
    let [a, dh, dv, fh, fv, ..] = bufs else {
        return;
    };
    let [rr, gg, bb] = out;

    // Gamma-encode the mosaic.
    lookup_row(&cv.encode, tile.data, a);

    // 1. Directional green-minus-colour observations: the estimate of the
    // other colour at a green site, minus it at a red/blue one (a sign of ±1,
    // exact), row by row.
    let signs: Vec<f32> = (0..w + 1)
        .map(|i| if i % 2 == 1 { 1.0 } else { -1.0 })
        .collect();
    for y in 2..h - 2 {
        let n = w - 4;
        let at = |dy: usize, dx: usize| &a[(y + dy - 2) * w + dx..][..n];
        observations(
            &mut dh[y * w + 2..][..n],
            &mut dv[y * w + 2..][..n],
            &signs[y & 1..][..n],
            [at(2, 0), at(2, 1), at(2, 2), at(2, 3), at(2, 4)],
            [at(0, 2), at(1, 2), at(3, 2), at(4, 2)],
        );
    }
    // 2a. Gaussian low-pass of each observation along its own direction.
    for y in 6..h - 6 {
        let n = w - 12;
        let horizontal: [&[f32]; 9] = std::array::from_fn(|k| &dh[y * w + 2 + k..][..n]);
        let vertical: [&[f32]; 9] = std::array::from_fn(|k| &dv[(y + k - 4) * w + 6..][..n]);
        gauss9(&mut fh[y * w + 6..][..n], horizontal);
        gauss9(&mut fv[y * w + 6..][..n], vertical);
    }
    // 2b. LMMSE estimate of green at red/blue sites.
    gg[..].copy_from_slice(&a[..]);
    for y in 10..h - 10 {
        for x in (first(10, y, false)..w - 10).step_by(2) {
            let i = y * w + x;
            let (xh, vh) = lmmse_1d(&dh[..], &fh[..], i, 1);
            let (xv, vv) = lmmse_1d(&dv[..], &fv[..], i, w);
            let d = (xh * vv + xv * vh) / (vh + vv);
            gg[i] = a[i] + d;
        }
    }

    // 3. Colour differences X - G: known at the X sites, then diagonally at
    // the opposite colour's sites, then orthogonally at green sites.
    // dh holds R - G, dv holds B - G.
    let (drg, dbg) = (dh, dv);
    for y in 10..h - 10 {
        for x in (first(10, y, false)..w - 10).step_by(2) {
            let i = y * w + x;
            let d = a[i] - gg[i];
            if y & 1 == 0 {
                drg[i] = d;
            } else {
                dbg[i] = d;
            }
        }
    }
    for y in 12..h - 12 {
        for x in (first(12, y, false)..w - 12).step_by(2) {
            let i = y * w + x;
            let plane = if y & 1 == 0 { &mut *dbg } else { &mut *drg };
            plane[i] = weighted4(plane, gg, i, [w + 1, w - 1]);
        }
    }
    for y in 13..h - 13 {
        for x in (first(13, y, true)..w - 13).step_by(2) {
            let i = y * w + x;
            for plane in [&mut *drg, &mut *dbg] {
                plane[i] = weighted4(plane, gg, i, [w, 1]);
            }
        }
    }

    // 4. Median refinement of the colour differences.
    let mut lo = 13;
    for _ in 0..passes {
        lo += 1;
        for (src, dst) in [(&*drg, &mut *fh), (&*dbg, &mut *fv)] {
            let n = w - 2 * lo;
            for y in lo..h - lo {
                // The 3×3 neighbours of row y's pixels lo..w - lo, as rows.
                let at = |dy: usize, dx: usize| &src[(y + dy - 1) * w + lo + dx - 1..][..n];
                median_row(
                    &mut dst[y * w + lo..][..n],
                    [
                        at(0, 0),
                        at(0, 1),
                        at(0, 2),
                        at(1, 0),
                        at(1, 1),
                        at(1, 2),
                        at(2, 0),
                        at(2, 1),
                        at(2, 2),
                    ],
                );
            }
        }
        // Rebuild around the recorded samples: at red sites green = R - (R-G),
        // at blue sites green = B - (B-G), at green sites nothing moves; then
        // the refreshed differences are those implied by the new values.
        for y in lo..h - lo {
            for x in lo..w - lo {
                let i = y * w + x;
                let (r, b) = (fh[i], fv[i]);
                match ((y & 1), (x & 1)) {
                    (0, 0) => {
                        let g = a[i] - r;
                        drg[i] = r;
                        dbg[i] = b;
                        gg[i] = g;
                    }
                    (1, 1) => {
                        let g = a[i] - b;
                        drg[i] = r;
                        dbg[i] = b;
                        gg[i] = g;
                    }
                    _ => {
                        drg[i] = r;
                        dbg[i] = b;
                    }
                }
            }
        }
    }

    // 5. Back to linear light: G + (R − G), G + (B − G) and G, each through
    // the table a row of lookups at a time (G into the free `fh`, which then
    // becomes the green plane).
    for (d, &g) in drg.iter_mut().zip(gg.iter()) {
        *d = g + *d;
    }
    for (d, &g) in dbg.iter_mut().zip(gg.iter()) {
        *d = g + *d;
    }
    lookup_row(&cv.decode, drg, rr);
    lookup_row(&cv.decode, dbg, bb);
    lookup_row(&cv.decode, gg, fh);
    std::mem::swap(gg, fh);
}

/// Step 1 for one row: `dh[i]`, `dv[i]` = `sign[i]` × (centre − the
/// horizontal / vertical estimate from the neighbours at ±1 and ±2). A loop
/// over whole rows, in a function of its own so that the compiler vectorises it.
#[inline(always)]
fn observations(
    dh: &mut [f32],
    dv: &mut [f32],
    sign: &[f32],
    [l2, l1, c, r1, r2]: [&[f32]; 5],
    [u2, u1, d1, d2]: [&[f32]; 4],
) {
    let n = dh.len().min(dv.len());
    let (sign, l2, l1, c, r1, r2) = (&sign[..n], &l2[..n], &l1[..n], &c[..n], &r1[..n], &r2[..n]);
    let (u2, u1, d1, d2) = (&u2[..n], &u1[..n], &d1[..n], &d2[..n]);
    for i in 0..n {
        let cc = c[i];
        let eh = 0.5 * (l1[i] + r1[i]) + 0.25 * (2.0 * cc - l2[i] - r2[i]);
        let ev = 0.5 * (u1[i] + d1[i]) + 0.25 * (2.0 * cc - u2[i] - d2[i]);
        dh[i] = sign[i] * (cc - eh);
        dv[i] = sign[i] * (cc - ev);
    }
}

/// `out[i]` = the 9-tap Gaussian of the taps' `i`-th values (`taps[4]` the
/// centre), summed centre first, then the pairs outwards.
#[inline(always)]
fn gauss9(out: &mut [f32], taps: [&[f32]; 9]) {
    let n = out.len();
    let [m4, m3, m2, m1, c, p1, p2, p3, p4] = taps.map(|t| &t[..n]);
    for i in 0..n {
        let mut s = GAUSS[0] * c[i];
        s += GAUSS[1] * (m1[i] + p1[i]);
        s += GAUSS[2] * (m2[i] + p2[i]);
        s += GAUSS[3] * (m3[i] + p3[i]);
        s += GAUSS[4] * (m4[i] + p4[i]);
        out[i] = s;
    }
}

/// `out[i]` = the median of the nine inputs' `i`-th values: a loop over
/// whole rows, in a function of its own so that the compiler vectorises the
/// exchange network across pixels.
#[inline(always)]
fn median_row(out: &mut [f32], rows: [&[f32]; 9]) {
    let n = out.len();
    let [a, b, c, d, e, f, g, h, k] = rows.map(|r| &r[..n]);
    for i in 0..n {
        out[i] = median9([a[i], b[i], c[i], d[i], e[i], f[i], g[i], h[i], k[i]]);
    }
}

/// The LMMSE estimate of one directional observation at `i` from the 9
/// samples spaced `step` apart: (estimate, its error variance).
#[inline(always)]
fn lmmse_1d(obs: &[f32], low: &[f32], i: usize, step: usize) -> (f32, f32) {
    let mut mu = 0.0;
    for k in 0..9 {
        mu += low[i + k * step - 4 * step];
    }
    mu /= 9.0;
    let (mut vx, mut vn) = (1e-7f32, 1e-7f32);
    for k in 0..9 {
        let j = i + k * step - 4 * step;
        let s = low[j] - mu;
        vx += s * s;
        let n = obs[j] - low[j];
        vn += n * n;
    }
    let x = (obs[i] * vx + low[i] * vn) / (vx + vn);
    (x, vx * vn / (vx + vn))
}

/// The colour difference at `i` from its four neighbours at `i ± steps[0]` and
/// `i ± steps[1]`, each weighted by the inverse of the gradients towards it.
#[inline(always)]
fn weighted4(diff: &[f32], g: &[f32], i: usize, steps: [usize; 2]) -> f32 {
    let gi = g[i];
    let (mut s, mut n) = (0.0f32, 0.0f32);
    for st in steps {
        for (k, far) in [(i - st, i - 2 * st), (i + st, i + 2 * st)] {
            let opp = 2 * i - k;
            let wt = 1.0
                / (1e-3 + (gi - g[k]).abs() + (g[k] - g[far]).abs() + (diff[k] - diff[opp]).abs());
            s += wt * diff[k];
            n += wt;
        }
    }
    s / n
}
