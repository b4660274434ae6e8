//! `best` on Bayer: LMMSE and RCD run on the same tile and are mixed per pixel
//! by how much high-frequency colour each leaves around it.
//!
//! LMMSE leans on the correlation between the channels and wins where it
//! holds (most photographs: +5 dB over RCD on the Kodak set); RCD's
//! ratio-corrected directional estimates degrade more gracefully on
//! saturated, weakly correlated colour (the McMaster set), where LMMSE's
//! colour-difference model and its median refinement leave false colour.
//! A demosaicing error shows up as high-frequency structure in the colour
//! differences (zippers, false colour), so:
//!
//! 1. Both candidates are taken to the square-root curve (RCD's own working
//!    space) and their colour differences √R − √G and √B − √G formed.
//! 2. A candidate's *activity* at a pixel is the sum of the absolute steps of
//!    both differences to the right and below, totalled over the
//!    (2·[`RADIUS`] + 1)² window around the pixel.
//! 3. The candidates are mixed with weights proportional to the other's
//!    activity to the power [`POWER`]: `w_lmmse = a_rcd⁴ / ((BIAS·a_lmmse)⁴ + a_rcd⁴)`.
//!    LMMSE's median refinement smooths its own colour differences, so its
//!    activity understates its error: it is counted [`BIAS`] times.
//!
//! The three constants are round, generic choices (a 5×5 window, a fourth
//! power that makes the mix decisive where the candidates differ, a factor
//! of 2 for the median's smoothing); none is fitted per image. The mix runs
//! in linear light. On the synthetic 5D Mark II sets the blend scores above
//! both of its inputs on both sets.

use super::curve::{dispatch_lookup, encode_row, sqrt_decode, sqrt_encode};
use super::lmmse::{dispatch_lmmse, Lmmse};
use super::rcd::dispatch_rcd;
use super::tile::{Kernel, Scratch, TileIn};
use crate::cpu::Isa;

/// Radius of the window over which colour-difference activity is totalled.
pub(crate) const RADIUS: usize = 2;
/// How many times LMMSE's activity is counted (its median passes smooth it).
const BIAS: f32 = 2.0;
/// The power of the activities in the weights (fixed at 4: two squarings).
const POWER: u32 = 4;

/// The blended kernel, resolved for one instruction set.
pub(crate) struct Blend {
    lmmse: Lmmse,
    isa: Isa,
    blend: BlendFn,
}

impl Blend {
    /// The blend with its kernels resolved for `isa`.
    pub(crate) fn new(isa: Isa) -> Self {
        Self {
            lmmse: Lmmse::new(isa),
            isa,
            blend: dispatch_blend(isa),
        }
    }
}

impl Kernel for Blend {
    fn border(&self) -> usize {
        // LMMSE needs the widest halo (RCD's is 12); the window and the
        // one-pixel steps come on top.
        self.lmmse.border() + RADIUS + 1
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        let valid = self.lmmse.border();
        (self.blend)(self.isa, (self.lmmse.passes(), valid), tile, scratch, out);
    }
}

/// The signature of the blended tile kernel: the instruction set its two
/// inner kernels run with, (LMMSE's median passes, the margin where LMMSE's
/// output is valid), the tile, scratch and the output planes.
pub(crate) type BlendFn = fn(Isa, (usize, usize), &TileIn<'_>, &mut Scratch, &mut [Vec<f32>; 3]);

crate::cpu::dispatched! {
    /// The blended tile kernel for an instruction set.
    dispatch_blend -> BlendFn;
    blend_portable(
        isa: Isa,
        lmmse: (usize, usize),
        tile: &TileIn<'_>,
        scratch: &mut Scratch,
        out: &mut [Vec<f32>; 3],
    ) {
        blend_tile(isa, lmmse, tile, scratch, out);
    }
    avx2 {
        blend_tile(isa, lmmse, tile, scratch, out);
    }
}

/// The blended kernel body: LMMSE (`passes` median refinements; its output
/// valid `valid` pixels from the tile edges) and RCD on `tile`, both resolved
/// for `isa`, mixed into `out` (plain layout, linear light), valid
/// `valid + RADIUS + 1` pixels from the edges. `#[inline(always)]` so that
/// every CPU-feature variant made by `dispatched!` compiles its own copy of
/// the mixing loops.
#[inline(always)]
pub(crate) fn blend_tile(
    isa: Isa,
    (passes, valid): (usize, usize),
    tile: &TileIn<'_>,
    scratch: &mut Scratch,
    out: &mut [Vec<f32>; 3],
) {
    let (w, h) = (tile.w, tile.h);
    let v = valid;
    if w < 2 * (v + RADIUS + 2) || h < 2 * (v + RADIUS + 2) {
        return;
    }
    let half = w.div_ceil(2);
    let stride = 2 * half;
    let (own, inner) = scratch.with_nested(12, stride * h);
    let [enc, rr, rg, rb, dlr, dlb, drr, drb, al, ar, hl, hr, ..] = own else {
        return;
    };
    // RCD on the square-root-encoded tile (its planes stay encoded and split).
    encode_row(tile.data, &mut enc[..w * h]);
    let enc_tile = TileIn {
        data: &enc[..w * h],
        w,
        h,
        colors: tile.colors,
        period: tile.period,
    };
    let mut rcd = [std::mem::take(rr), std::mem::take(rg), std::mem::take(rb)];
    dispatch_rcd(isa)(&enc_tile, inner, &mut rcd);
    // LMMSE into `out` (plain, linear).
    dispatch_lmmse(isa)(passes, dispatch_lookup(isa), tile, inner, out);

    // 1. Colour differences of both candidates on the square-root curve, rows
    // and columns v..w - v (RCD's rows back in plain order through `enc`).
    let n = w - 2 * v;
    for y in v..h - v {
        let row = y * w + v..y * w + w - v;
        let plain = &mut enc[..3 * n];
        for (c, plane) in rcd.iter().enumerate() {
            let base = y * stride;
            for (k, o) in plain[c * n..(c + 1) * n].iter_mut().enumerate() {
                let x = v + k;
                *o = plane[base + (x & 1) * half + (x >> 1)];
            }
        }
        let (pr, rest) = plain.split_at(n);
        let (pg, pb) = rest.split_at(n);
        differences(
            [
                &out[0][row.clone()],
                &out[1][row.clone()],
                &out[2][row.clone()],
            ],
            true,
            [&mut dlr[row.clone()], &mut dlb[row.clone()]],
        );
        differences(
            [pr, pg, pb],
            false,
            [&mut drr[row.clone()], &mut drb[row.clone()]],
        );
    }
    // 2. Activity (steps right and below), rows v..h - v - 1, columns
    // v..w - v - 1, then its horizontal window sums.
    let m = n - 1;
    for y in v..h - v - 1 {
        let at = |dy: usize, dx: usize| (y + dy) * w + v + dx..(y + dy) * w + v + dx + m;
        for (act, [dr, db]) in [(&mut *al, [&*dlr, &*dlb]), (&mut *ar, [&*drr, &*drb])] {
            activity(
                &mut act[at(0, 0)],
                [
                    &dr[at(0, 0)],
                    &dr[at(0, 1)],
                    &dr[at(1, 0)],
                    &db[at(0, 0)],
                    &db[at(0, 1)],
                    &db[at(1, 0)],
                ],
            );
        }
        let k = m - 2 * RADIUS;
        let s = y * w + v;
        for (sum, act) in [(&mut *hl, &*al), (&mut *hr, &*ar)] {
            window5(
                &mut sum[s + RADIUS..s + RADIUS + k],
                std::array::from_fn(|d| &act[s + d..s + d + k]),
            );
        }
    }
    // 3. Vertical window sums, weights and the mix in linear light, rows and
    // columns v + RADIUS.. up to one step and the radius from the far edge.
    let x0 = v + RADIUS;
    let k = m - 2 * RADIUS;
    for y in v + RADIUS..h - v - 1 - RADIUS {
        let row = |d: usize| (y + d - RADIUS) * w + x0..(y + d - RADIUS) * w + x0 + k;
        let sl: [&[f32]; 5] = std::array::from_fn(|d| &hl[row(d)]);
        let sr: [&[f32]; 5] = std::array::from_fn(|d| &hr[row(d)]);
        // The LMMSE weight of every pixel of the row, into `enc`.
        weights(&mut enc[..k], sl, sr);
        let i0 = y * w + x0;
        let base = y * stride;
        for (c, plane) in rcd.iter().enumerate() {
            let o = &mut out[c][i0..i0 + k];
            for (j, (o, &wl)) in o.iter_mut().zip(enc[..k].iter()).enumerate() {
                let x = x0 + j;
                let e = plane[base + (x & 1) * half + (x >> 1)];
                let r = sqrt_decode(e);
                *o = wl * *o + (1.0 - wl) * r;
            }
        }
    }
    let [a, b, c] = rcd;
    *rr = a;
    *rg = b;
    *rb = c;
}

/// `d[0] = √R − √G`, `d[1] = √B − √G` of one row of a candidate (`linear`:
/// the planes are in linear light and are taken to the square-root curve;
/// otherwise they are on it already).
#[inline(always)]
fn differences([r, g, b]: [&[f32]; 3], linear: bool, [dr, db]: [&mut [f32]; 2]) {
    let n = dr.len().min(db.len());
    let (r, g, b) = (&r[..n], &g[..n], &b[..n]);
    let enc = |x: f32| {
        if linear {
            sqrt_encode(x)
        } else {
            x
        }
    };
    for i in 0..n {
        let gg = enc(g[i]);
        dr[i] = enc(r[i]) - gg;
        db[i] = enc(b[i]) - gg;
    }
}

/// `out[i]` = |step right| + |step below| of both colour differences:
/// inputs `[r, r right, r below, b, b right, b below]`.
#[inline(always)]
fn activity(out: &mut [f32], [r, rx, ry, b, bx, by]: [&[f32]; 6]) {
    let n = out.len();
    let (r, rx, ry, b, bx, by) = (&r[..n], &rx[..n], &ry[..n], &b[..n], &bx[..n], &by[..n]);
    for i in 0..n {
        out[i] = (rx[i] - r[i]).abs()
            + (ry[i] - r[i]).abs()
            + (bx[i] - b[i]).abs()
            + (by[i] - b[i]).abs();
    }
}

/// `out[i]` = the sum of the five inputs' `i`-th values.
#[inline(always)]
fn window5(out: &mut [f32], t: [&[f32]; 5]) {
    let n = out.len();
    let [a, b, c, d, e] = t.map(|s| &s[..n]);
    for i in 0..n {
        out[i] = a[i] + b[i] + c[i] + d[i] + e[i];
    }
}

/// `out[i]` = LMMSE's weight from the horizontal window sums of five rows of
/// each candidate's activity (see the module documentation).
#[inline(always)]
fn weights(out: &mut [f32], l: [&[f32]; 5], r: [&[f32]; 5]) {
    let n = out.len();
    let l = l.map(|s| &s[..n]);
    let r = r.map(|s| &s[..n]);
    const _: () = assert!(POWER == 4);
    for i in 0..n {
        let sl = BIAS * (l[0][i] + l[1][i] + l[2][i] + l[3][i] + l[4][i]) + 1e-6;
        let sr = r[0][i] + r[1][i] + r[2][i] + r[3][i] + r[4][i] + 1e-6;
        let (ql, qr) = (sl * sl, sr * sr);
        let (ql, qr) = (ql * ql, qr * qr);
        out[i] = qr / (ql + qr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfa::{BayerPhase, Cfa};
    use crate::demosaic::{demosaic, DemosaicMethod};
    use crate::image::Mosaic;

    /// A tile with structure in every channel: sharp edges and noise-like texture.
    fn tile_data(w: usize, h: usize) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let base = if (x / 7 + y / 5) % 2 == 0 { 0.2 } else { 0.7 };
                base + ((i * 7919) % 1000) as f32 / 4000.0
            })
            .collect()
    }

    #[test]
    fn dispatched_blend_matches_the_portable_kernel() {
        let (w, h) = (83, 71);
        let data = tile_data(w, h);
        let colors = [0, 1, 1, 2];
        let tile = TileIn {
            data: &data,
            w,
            h,
            colors: &colors,
            period: 2,
        };
        let kernel = Blend::new(Isa::detect());
        let valid = kernel.lmmse.border();
        let run = |isa: Isa| {
            let mut out: [Vec<f32>; 3] = [vec![0.0; w * h], vec![0.0; w * h], vec![0.0; w * h]];
            let lmmse = (kernel.lmmse.passes(), valid);
            dispatch_blend(isa)(isa, lmmse, &tile, &mut Scratch::default(), &mut out);
            out
        };
        let a = run(Isa::detect());
        let b = run(Isa::PORTABLE);
        let border = kernel.border();
        for (pa, pb) in a.iter().zip(&b) {
            for y in border..h - border {
                for x in border..w - border {
                    let (p, q) = (pa[y * w + x], pb[y * w + x]);
                    assert!((p - q).abs() <= 1e-6, "({x}, {y}): {p} vs {q}");
                }
            }
        }
    }

    #[test]
    fn weights_stay_between_zero_and_one() {
        let l = [[1.0f32, 1.0, 5.0, 1e6, 0.0]; 5];
        let r = [[1.0f32, 5.0, 1.0, 0.0, 1e6]; 5];
        let mut out = [f32::NAN; 5];
        weights(
            &mut out,
            l.each_ref().map(|a| &a[..]),
            r.each_ref().map(|a| &a[..]),
        );
        for v in out {
            assert!((0.0..=1.0).contains(&v), "{v}");
        }
        // Equal activity: LMMSE's counts double, so RCD gets 16/17.
        assert!((out[0] - 1.0 / 17.0).abs() < 1e-6, "{}", out[0]);
        // Far more activity in RCD: LMMSE's result.
        assert!(out[4] > 0.999 && out[3] < 0.001, "{out:?}");
    }

    #[test]
    fn hostile_sample_values_give_bounded_results_elsewhere() {
        let (w, h) = (90, 70);
        let non_finite = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        let out_of_range = [-3.0, 1e30, f32::MIN_POSITIVE, 7.5];
        for (hostile, finite_only) in [(&non_finite[..], false), (&out_of_range[..], true)] {
            for phase in BayerPhase::ALL {
                let mut data = tile_data(w, h);
                let mut bad = vec![false; w * h];
                for (k, i) in (0..w * h).step_by(37).enumerate() {
                    data[i] = hostile[k % hostile.len()];
                    bad[i] = true;
                }
                let m = Mosaic {
                    width: w,
                    height: h,
                    cfa: Cfa::bayer(phase),
                    data,
                };
                for method in DemosaicMethod::ALL {
                    let out = match demosaic(&m, method) {
                        Ok(o) => o,
                        Err(e) => panic!("{method:?}: {e}"),
                    };
                    // NaN and infinities spread to the neighbours every method
                    // interpolates from (the pipeline's levels stage never lets them
                    // through); finite values out of range must stay finite.
                    if !finite_only {
                        continue;
                    }
                    for (i, px) in out.data.chunks_exact(3).enumerate() {
                        if bad[i] {
                            continue;
                        }
                        for v in px {
                            assert!(v.is_finite(), "{method:?} {phase:?} pixel {i}: {v}");
                        }
                    }
                }
            }
        }
    }
}
