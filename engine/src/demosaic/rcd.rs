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

/// The signature of a tile kernel.
pub(crate) type TileFn = fn(&TileIn<'_>, &mut Scratch, &mut [Vec<f32>; 3]);

crate::cpu::dispatched! {
    /// The RCD tile kernel for an instruction set.
    dispatch_rcd -> TileFn;
    rcd_portable(tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        rcd_tile(tile, scratch, out);
    }
    avx2 {
        rcd_tile(tile, scratch, out);
    }
}

const EPS: f32 = 1e-5;
const EPS_SQ: f32 = 1e-10;

/// The RCD kernel, resolved for one instruction set.
pub(crate) struct Rcd(TileFn);

impl Rcd {
    /// RCD with the tile kernel for `isa`.
    pub(crate) fn new(isa: crate::cpu::Isa) -> Self {
        Self(dispatch_rcd(isa))
    }
}

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

impl Kernel for Rcd {
    fn border(&self) -> usize {
        12
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        (self.0)(tile, scratch, out);
    }

    fn split(&self) -> bool {
        true
    }
}

/// Where a plane stored in the split layout keeps its values: every row holds
/// its even columns, then its odd columns (`half` values each), so the sites
/// of one CFA colour class along a row — every second column — are contiguous,
/// and so are their neighbours at any offset.
#[derive(Clone, Copy)]
struct Split {
    /// Values per half row: `ceil(w / 2)`.
    half: usize,
}

impl Split {
    /// Values per row (both halves).
    #[inline(always)]
    fn stride(self) -> usize {
        2 * self.half
    }

    /// Index of tile position (`y`, `x`).
    #[inline(always)]
    fn at(self, y: usize, x: usize) -> usize {
        y * self.stride() + (x & 1) * self.half + (x >> 1)
    }

    /// The `n` values of the sites (`y`, `x`), (`y`, `x + 2`), … of `plane`.
    #[inline(always)]
    fn sites(self, plane: &[f32], y: usize, x: usize, n: usize) -> &[f32] {
        &plane[self.at(y, x)..][..n]
    }

    /// [`Split::sites`], writable.
    #[inline(always)]
    fn sites_mut(self, plane: &mut [f32], y: usize, x: usize, n: usize) -> &mut [f32] {
        &mut plane[self.at(y, x)..][..n]
    }

    /// `n` neighbours at (`dy`, `dx`) of the sites (`y`, `x`), (`y`, `x + 2`), ….
    #[inline(always)]
    fn near(self, plane: &[f32], (y, x, n): (usize, usize, usize), dy: isize, dx: isize) -> &[f32] {
        self.sites(
            plane,
            y.wrapping_add_signed(dy),
            x.wrapping_add_signed(dx),
            n,
        )
    }

    /// Row `y` of the row-major `src` (`w` values) into the split `dst`.
    #[inline(always)]
    fn split_row(self, src: &[f32], dst: &mut [f32], y: usize) {
        let row = &mut dst[y * self.stride()..][..self.stride()];
        let (even, odd) = row.split_at_mut(self.half);
        for ((pair, e), o) in src.chunks_exact(2).zip(even.iter_mut()).zip(odd.iter_mut()) {
            *e = pair[0];
            *o = pair[1];
        }
        if let [.., last] = src {
            if src.len() % 2 == 1 {
                even[self.half - 1] = *last;
                odd[self.half - 1] = 0.0;
            }
        }
    }
}

/// The first column at or after `s` with parity `parity`, and how many
/// columns of that parity lie in `s..e`.
#[inline(always)]
fn span(s: usize, e: usize, parity: usize) -> (usize, usize) {
    let x0 = s + ((s ^ parity) & 1);
    (x0, if e > x0 { (e - x0).div_ceil(2) } else { 0 })
}

/// `rows!(out, [a = slice_a, b = slice_b, ...], expr)`: `out[i] = expr` for
/// every `i` in `0..out.len()`, where `expr` sees the `i`-th value of every
/// input under its name. The loop is the body of its own function, so the
/// output is known not to alias the inputs and the compiler vectorises it
/// without run-time overlap checks (which it gives up on past a few inputs).
macro_rules! rows {
    ($out:expr, [$($name:ident = $src:expr),* $(,)?], $body:expr) => {{
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        fn kernel(o: &mut [f32], $($name: &[f32]),*) {
            let n = o.len();
            $(let $name = &$name[..n];)*
            for i in 0..n {
                $(let $name = $name[i];)*
                o[i] = $body;
            }
        }
        kernel($out, $($src),*)
    }};
}

/// The squared directional high-pass of RCD steps 1 and 3.1 over seven taps
/// along one direction (`-3..=3`): `((a3 - a1 - b1 + b3) - 3 (a2 + b2) + 6 m)²`.
#[inline(always)]
fn high_pass(out: &mut [f32], [t3, t2, t1, t0, u1, u2, u3]: [&[f32]; 7]) {
    rows!(
        out,
        [a3 = t3, a2 = t2, a1 = t1, m = t0, b1 = u1, b2 = u2, b3 = u3],
        sq((a3 - a1 - b1 + b3) - 3.0 * (a2 + b2) + 6.0 * m)
    );
}

/// The seven taps `-3..=3` of a high-pass.
const TAPS: [isize; 7] = [-3, -2, -1, 0, 1, 2, 3];

/// The RCD kernel body; `#[inline(always)]` so that every CPU-feature variant
/// made by `dispatched!` compiles its own copy.
///
/// Every plane is kept in the [`Split`] layout, so each step computes only the
/// sites that need it (green at red/blue, red/blue at green, …) in contiguous,
/// branch-free loops that the compiler vectorises. Red/blue sites ("colour
/// sites") are where `x + y` is even, green sites where it is odd. The
/// output planes stay split too: the tile runner's last step reads them so.
#[inline(always)]
pub(crate) fn rcd_tile(tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
    let (w, h) = (tile.w, tile.h);
    if w < 24 || h < 24 {
        return;
    }
    let g = Split {
        half: w.div_ceil(2),
    };
    let bufs = scratch.get(6, g.stride() * h);
    let [cs, vh, pq, t0, t1, tmp, ..] = bufs else {
        return;
    };
    // The output planes, in the split layout (see `Kernel::split`).
    let [rs, gs, bs] = out;
    for p in [&mut *rs, &mut *gs, &mut *bs] {
        if p.len() < g.stride() * h {
            p.resize(g.stride() * h, 0.0);
        }
    }
    for (y, src) in tile.data.chunks_exact(w).take(h).enumerate() {
        g.split_row(src, cs, y);
    }
    let c = &*cs;

    // Step 1: vertical/horizontal discrimination (at every site). t0 = squared
    // vertical high-pass, t1 = squared horizontal high-pass.
    for y in 3..h - 3 {
        for parity in 0..2 {
            let (x0, n) = span(3, w - 3, parity);
            let at = (y, x0, n);
            high_pass(g.sites_mut(t0, y, x0, n), TAPS.map(|d| g.near(c, at, d, 0)));
            high_pass(g.sites_mut(t1, y, x0, n), TAPS.map(|d| g.near(c, at, 0, d)));
        }
    }
    for y in 4..h - 4 {
        for parity in 0..2 {
            let (x0, n) = span(4, w - 4, parity);
            let at = (y, x0, n);
            rows!(
                g.sites_mut(vh, y, x0, n),
                [
                    a = g.near(t0, at, -1, 0),
                    b = g.near(t0, at, 0, 0),
                    d = g.near(t0, at, 1, 0),
                    hl = g.near(t1, at, 0, -1),
                    hm = g.near(t1, at, 0, 0),
                    hr = g.near(t1, at, 0, 1)
                ],
                {
                    let v = (a + b + d).max(EPS_SQ);
                    let hs = (hl + hm + hr).max(EPS_SQ);
                    v / (v + hs)
                }
            );
        }
    }

    // Step 2.1: low-pass filter at colour sites (into t0).
    for y in 1..h - 1 {
        let (x0, n) = span(1, w - 1, y & 1);
        let at = (y, x0, n);
        let r = |dy: isize, dx: isize| g.near(c, at, dy, dx);
        rows!(
            g.sites_mut(t0, y, x0, n),
            [
                ml = r(-1, -1),
                mm = r(-1, 0),
                mr = r(-1, 1),
                l = r(0, -1),
                m = r(0, 0),
                rt = r(0, 1),
                pl = r(1, -1),
                pm = r(1, 0),
                pr = r(1, 1),
            ],
            m + 0.5 * (mm + pm + l + rt) + 0.25 * (ml + mr + pl + pr)
        );
    }
    // Step 2.2: green at colour sites; the recorded green at green sites.
    // (Only rows and columns 5 or more from the edge are ever read.)
    for y in 5..h - 5 {
        let (x0, n) = span(5, w - 5, (y & 1) ^ 1);
        g.sites_mut(gs, y, x0, n)
            .copy_from_slice(g.sites(c, y, x0, n));
        let (x0, n) = span(5, w - 5, y & 1);
        let at = (y, x0, n);
        let cw = |dy: isize, dx: isize| g.near(c, at, dy, dx);
        let lw = |dy: isize, dx: isize| g.near(t0, at, dy, dx);
        let vw = |dy: isize, dx: isize| g.near(vh, at, dy, dx);
        rows!(
            g.sites_mut(gs, y, x0, n),
            [
                m4 = cw(-4, 0),
                m3 = cw(-3, 0),
                m2 = cw(-2, 0),
                m1 = cw(-1, 0),
                cv = cw(0, 0),
                p1 = cw(1, 0),
                p2 = cw(2, 0),
                p3 = cw(3, 0),
                p4 = cw(4, 0),
                w4 = cw(0, -4),
                w3 = cw(0, -3),
                w2 = cw(0, -2),
                w1 = cw(0, -1),
                e1 = cw(0, 1),
                e2 = cw(0, 2),
                e3 = cw(0, 3),
                e4 = cw(0, 4),
                lm2 = lw(-2, 0),
                lp2 = lw(2, 0),
                lw2 = lw(0, -2),
                l0 = lw(0, 0),
                le2 = lw(0, 2),
                vml = vw(-1, -1),
                vmr = vw(-1, 1),
                vpl = vw(1, -1),
                vpr = vw(1, 1),
                v0 = vw(0, 0),
            ],
            {
                let ng =
                    EPS + (m1 - p1).abs() + (cv - m2).abs() + (m1 - m3).abs() + (m2 - m4).abs();
                let sg =
                    EPS + (m1 - p1).abs() + (cv - p2).abs() + (p1 - p3).abs() + (p2 - p4).abs();
                let wg =
                    EPS + (w1 - e1).abs() + (cv - w2).abs() + (w1 - w3).abs() + (w2 - w4).abs();
                let eg =
                    EPS + (w1 - e1).abs() + (cv - e2).abs() + (e1 - e3).abs() + (e2 - e4).abs();
                let l2 = 2.0 * l0;
                let ne = m1 * l2 / (EPS + l0 + lm2);
                let se = p1 * l2 / (EPS + l0 + lp2);
                let we = w1 * l2 / (EPS + l0 + lw2);
                let ee = e1 * l2 / (EPS + l0 + le2);
                let v_est = (sg * ne + ng * se) / (ng + sg);
                let h_est = (wg * ee + eg * we) / (eg + wg);
                let nb = 0.25 * (vml + vmr + vpl + vpr);
                intp(refine(v0, nb), h_est, v_est)
            }
        );
    }

    // Step 3.1: diagonal discrimination at colour sites.
    for y in 3..h - 3 {
        let (x0, n) = span(3, w - 3, y & 1);
        let at = (y, x0, n);
        high_pass(g.sites_mut(t0, y, x0, n), TAPS.map(|d| g.near(c, at, d, d)));
        high_pass(
            g.sites_mut(t1, y, x0, n),
            TAPS.map(|d| g.near(c, at, d, -d)),
        );
    }
    for y in 4..h - 4 {
        let (x0, n) = span(4, w - 4, y & 1);
        let at = (y, x0, n);
        rows!(
            g.sites_mut(pq, y, x0, n),
            [
                am = g.near(t0, at, -1, -1),
                a0 = g.near(t0, at, 0, 0),
                ap = g.near(t0, at, 1, 1),
                bm = g.near(t1, at, -1, 1),
                b0 = g.near(t1, at, 0, 0),
                bp = g.near(t1, at, 1, -1)
            ],
            {
                let p = (am + a0 + ap).max(EPS_SQ);
                let q = (bm + b0 + bp).max(EPS_SQ);
                p / (p + q)
            }
        );
    }

    // Step 3.2: red at blue, blue at red; the recorded colour at its own site.
    for y in 8..h - 8 {
        let (x0, n) = span(8, w - 8, y & 1);
        let at = (y, x0, n);
        // Red rows (even) hold red at their colour sites, blue rows blue.
        let (known, estimated) = if y & 1 == 0 {
            (&mut *rs, &mut *bs)
        } else {
            (&mut *bs, &mut *rs)
        };
        g.sites_mut(known, y, x0, n)
            .copy_from_slice(g.sites(c, y, x0, n));
        let cw = |dy: isize, dx: isize| g.near(c, at, dy, dx);
        let gw = |dy: isize, dx: isize| g.near(gs, at, dy, dx);
        let pw = |dy: isize, dx: isize| g.near(pq, at, dy, dx);
        // d = +(w+1) diagonal, e = +(w-1) diagonal.
        rows!(
            g.sites_mut(estimated, y, x0, n),
            [
                md1 = cw(-1, -1),
                pd1 = cw(1, 1),
                md3 = cw(-3, -3),
                pd3 = cw(3, 3),
                me1 = cw(-1, 1),
                pe1 = cw(1, -1),
                me3 = cw(-3, 3),
                pe3 = cw(3, -3),
                gc = gw(0, 0),
                gnw2 = gw(-2, -2),
                gse2 = gw(2, 2),
                gne2 = gw(-2, 2),
                gsw2 = gw(2, -2),
                gnw1 = gw(-1, -1),
                gse1 = gw(1, 1),
                gne1 = gw(-1, 1),
                gsw1 = gw(1, -1),
                pml = pw(-1, -1),
                pmr = pw(-1, 1),
                ppl = pw(1, -1),
                ppr = pw(1, 1),
                p0 = pw(0, 0),
            ],
            {
                let d = refine(p0, 0.25 * (pml + pmr + ppl + ppr));
                let nwg = EPS + (md1 - pd1).abs() + (md1 - md3).abs() + (gc - gnw2).abs();
                let seg = EPS + (pd1 - md1).abs() + (pd1 - pd3).abs() + (gc - gse2).abs();
                let neg = EPS + (me1 - pe1).abs() + (me1 - me3).abs() + (gc - gne2).abs();
                let swg = EPS + (pe1 - me1).abs() + (pe1 - pe3).abs() + (gc - gsw2).abs();
                let (nwe, see) = (md1 - gnw1, pd1 - gse1);
                let (nee, swe) = (me1 - gne1, pe1 - gsw1);
                let p_est = (nwg * see + seg * nwe) / (nwg + seg);
                let q_est = (neg * swe + swg * nee) / (neg + swg);
                gc + intp(d, q_est, p_est)
            }
        );
    }

    // Step 4: red and blue at green sites (from the colour sites of the same
    // plane, so each row's results go through `tmp`).
    for y in 11..h - 11 {
        let (x0, n) = span(11, w - 11, (y & 1) ^ 1);
        let at = (y, x0, n);
        let gw = |dy: isize, dx: isize| g.near(gs, at, dy, dx);
        let vw = |dy: isize, dx: isize| g.near(vh, at, dy, dx);
        for plane in [&mut *rs, &mut *bs] {
            let p = &**plane;
            let pw = |dy: isize, dx: isize| g.near(p, at, dy, dx);
            rows!(
                &mut tmp[..n],
                [
                    gc = gw(0, 0),
                    gm2 = gw(-2, 0),
                    gp2 = gw(2, 0),
                    gw2 = gw(0, -2),
                    ge2 = gw(0, 2),
                    gm1 = gw(-1, 0),
                    gp1 = gw(1, 0),
                    gw1 = gw(0, -1),
                    ge1 = gw(0, 1),
                    vml = vw(-1, -1),
                    vmr = vw(-1, 1),
                    vpl = vw(1, -1),
                    vpr = vw(1, 1),
                    v0 = vw(0, 0),
                    pm3 = pw(-3, 0),
                    pm1 = pw(-1, 0),
                    pp1 = pw(1, 0),
                    pp3 = pw(3, 0),
                    pw1 = pw(0, -1),
                    pe1 = pw(0, 1),
                    pw3 = pw(0, -3),
                    pe3 = pw(0, 3),
                ],
                {
                    let d = refine(v0, 0.25 * (vml + vmr + vpl + vpr));
                    let ng = EPS + (gc - gm2).abs() + (pm1 - pp1).abs() + (pm1 - pm3).abs();
                    let sg = EPS + (gc - gp2).abs() + (pp1 - pm1).abs() + (pp1 - pp3).abs();
                    let wg = EPS + (gc - gw2).abs() + (pw1 - pe1).abs() + (pw1 - pw3).abs();
                    let eg = EPS + (gc - ge2).abs() + (pe1 - pw1).abs() + (pe1 - pe3).abs();
                    let (ne, se) = (pm1 - gm1, pp1 - gp1);
                    let (we, ee) = (pw1 - gw1, pe1 - ge1);
                    let v_est = (ng * se + sg * ne) / (ng + sg);
                    let h_est = (eg * we + wg * ee) / (eg + wg);
                    gc + intp(d, h_est, v_est)
                }
            );
            g.sites_mut(plane, y, x0, n).copy_from_slice(&tmp[..n]);
        }
    }
}

#[cfg(test)]
mod dispatch_tests {
    use super::*;

    #[test]
    fn dispatched_rcd_matches_the_portable_kernel() {
        let (w, h) = (61, 47);
        let data: Vec<f32> = (0..w * h)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        let colors = [0, 1, 1, 2];
        let tile = TileIn {
            data: &data,
            w,
            h,
            colors: &colors,
            period: 2,
        };
        let run = |f: TileFn| {
            let mut out: [Vec<f32>; 3] = [vec![0.0; w * h], vec![0.0; w * h], vec![0.0; w * h]];
            f(&tile, &mut Scratch::default(), &mut out);
            out
        };
        let a = run(dispatch_rcd(crate::cpu::Isa::detect()));
        let b = run(rcd_portable);
        for (pa, pb) in a.iter().zip(&b) {
            for (x, y) in pa.iter().zip(pb) {
                assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
            }
        }
    }
}
