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

/// `n` values of `r` starting at column `s + d`: the neighbour `d` columns
/// away of every column in `s..s + n`. Slicing once per row up front lets the
/// compiler drop bounds checks and vectorise the loops, which index `0..n`.
#[inline(always)]
fn win(r: &[f32], s: usize, d: isize, n: usize) -> &[f32] {
    &r[s.wrapping_add_signed(d)..][..n]
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

/// A mask value: all bits set (picks the first operand of [`pick`]).
const ALL: f32 = f32::from_bits(u32::MAX);

/// `a` where `mask` has all bits set, `b` where it is 0: a bitwise select,
/// exact for every value and branch-free, so loops using it vectorise.
#[inline(always)]
fn pick(mask: f32, a: f32, b: f32) -> f32 {
    let m = mask.to_bits();
    f32::from_bits((a.to_bits() & m) | (b.to_bits() & !m))
}

/// The `n` values of an alternating [`ALL`], 0, [`ALL`], … row (`mask`,
/// `n + 1` long) that are [`ALL`] at every second column from `x0`, for a
/// row segment starting at column `s`.
#[inline(always)]
fn every_other(mask: &[f32], s: usize, x0: usize, n: usize) -> &[f32] {
    &mask[(x0 - s) & 1..][..n]
}

/// `dst[i] = src[i]` where `mask[i]` is [`ALL`]: a select over every column
/// (not a strided loop), so that it vectorises.
#[inline(always)]
fn merge(src: &[f32], mask: &[f32], dst: &mut [f32]) {
    let n = dst.len();
    let (src, mask) = (&src[..n], &mask[..n]);
    for i in 0..n {
        dst[i] = pick(mask[i], src[i], dst[i]);
    }
}

/// The RCD kernel body; `#[inline(always)]` so that every CPU-feature variant
/// in [`crate::simd`] compiles its own copy.
///
/// The estimates of steps 2–4 are needed at every second column only; they
/// are computed for whole rows (contiguous, branch-free loops that the
/// compiler vectorises) and then copied to the columns that need them.
#[inline(always)]
pub(crate) fn rcd_tile(tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
    let (w, h) = (tile.w, tile.h);
    if w < 24 || h < 24 {
        return;
    }
    let c = tile.data;
    let bufs = scratch.get(5, (w * h).max(2 * w + 1));
    let [vh, pq, t0, t1, tmp, ..] = bufs else {
        return;
    };
    let (tmp, mask) = tmp.split_at_mut(w);
    let mask = &mut mask[..w + 1];
    for (i, m) in mask.iter_mut().enumerate() {
        *m = if i % 2 == 0 { ALL } else { 0.0 };
    }
    let mask = &*mask;
    let [rr, gg, bb] = out;

    // Step 1: vertical/horizontal discrimination. t0 = squared vertical
    // high-pass, t1 = squared horizontal high-pass.
    for y in 3..h - 3 {
        let n = w - 6;
        let taps = [-3isize, -2, -1, 0, 1, 2, 3];
        let vertical = taps.map(|d| win(row(c, y.wrapping_add_signed(d), w), 3, 0, n));
        high_pass(&mut t0[y * w + 3..][..n], vertical);
        let horizontal = taps.map(|d| win(row(c, y, w), 3, d, n));
        high_pass(&mut t1[y * w + 3..][..n], horizontal);
    }
    for y in 4..h - 4 {
        let n = w - 8;
        let t = |dy: usize| win(row(t0, y + dy - 1, w), 4, 0, n);
        let hz = |d: isize| win(row(t1, y, w), 4, d, n);
        rows!(
            &mut vh[y * w + 4..][..n],
            [
                a = t(0),
                b = t(1),
                d = t(2),
                hl = hz(-1),
                hm = hz(0),
                hr = hz(1)
            ],
            {
                let v = (a + b + d).max(EPS_SQ);
                let hs = (hl + hm + hr).max(EPS_SQ);
                v / (v + hs)
            }
        );
    }

    // Step 2.1: low-pass filter (needed at red/blue sites; computed everywhere).
    for y in 1..h - 1 {
        let n = w - 2;
        let r = |dy: isize, dx: isize| win(row(c, y.wrapping_add_signed(dy), w), 1, dx, n);
        rows!(
            &mut t0[y * w + 1..][..n],
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
    // Step 2.2: green at red/blue sites; the recorded green elsewhere. (Only
    // rows and columns 5 or more from the edge are ever read.)
    for y in 5..h - 5 {
        let (s, n) = (5, w - 10);
        let cw = |dy: isize, dx: isize| win(row(c, y.wrapping_add_signed(dy), w), s, dx, n);
        let lw = |dy: isize, dx: isize| win(row(t0, y.wrapping_add_signed(dy), w), s, dx, n);
        let vw = |dy: isize, dx: isize| win(row(vh, y.wrapping_add_signed(dy), w), s, dx, n);
        rows!(
            &mut gg[y * w + s..][..n],
            [
                want = every_other(mask, s, first(s, y, false), n),
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
                pick(want, intp(refine(v0, nb), h_est, v_est), cv)
            }
        );
    }

    // Step 3.1: diagonal discrimination (needed at red/blue sites; computed
    // everywhere).
    for y in 3..h - 3 {
        let n = w - 6;
        let r = |dy: isize, dx: isize| win(row(c, y.wrapping_add_signed(dy), w), 3, dx, n);
        let taps = [-3isize, -2, -1, 0, 1, 2, 3];
        high_pass(&mut t0[y * w + 3..][..n], taps.map(|d| r(d, d)));
        high_pass(&mut t1[y * w + 3..][..n], taps.map(|d| r(d, -d)));
    }
    for y in 4..h - 4 {
        let n = w - 8;
        let a = |d: isize| win(row(t0, y.wrapping_add_signed(d), w), 4, d, n);
        let b = |d: isize| win(row(t1, y.wrapping_add_signed(d), w), 4, -d, n);
        rows!(
            &mut pq[y * w + 4..][..n],
            [
                am = a(-1),
                a0 = a(0),
                ap = a(1),
                bm = b(-1),
                b0 = b(0),
                bp = b(1)
            ],
            {
                let p = (am + a0 + ap).max(EPS_SQ);
                let q = (bm + b0 + bp).max(EPS_SQ);
                p / (p + q)
            }
        );
    }

    // Step 3.2: red at blue, blue at red. The known colour goes straight in.
    rr[..].copy_from_slice(c);
    bb[..].copy_from_slice(c);
    for y in 8..h - 8 {
        let (s, n) = (8, w - 16);
        let cw = |dy: isize, dx: isize| win(row(c, y.wrapping_add_signed(dy), w), s, dx, n);
        let gw = |dy: isize, dx: isize| win(row(gg, y.wrapping_add_signed(dy), w), s, dx, n);
        let pw = |dy: isize, dx: isize| win(row(pq, y.wrapping_add_signed(dy), w), s, dx, n);
        // d = +(w+1) diagonal, e = +(w-1) diagonal.
        let dst: &mut Vec<f32> = if y & 1 == 0 { &mut *bb } else { &mut *rr };
        rows!(
            &mut dst[y * w + s..][..n],
            [
                want = every_other(mask, s, first(s, y, false), n),
                c0 = cw(0, 0),
                md1 = cw(-1, -1),
                pd1 = cw(1, 1),
                md3 = cw(-3, -3),
                pd3 = cw(3, 3),
                me1 = cw(-1, 1),
                pe1 = cw(1, -1),
                me3 = cw(-3, 3),
                pe3 = cw(3, -3),
                g = gw(0, 0),
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
                let nwg = EPS + (md1 - pd1).abs() + (md1 - md3).abs() + (g - gnw2).abs();
                let seg = EPS + (pd1 - md1).abs() + (pd1 - pd3).abs() + (g - gse2).abs();
                let neg = EPS + (me1 - pe1).abs() + (me1 - me3).abs() + (g - gne2).abs();
                let swg = EPS + (pe1 - me1).abs() + (pe1 - pe3).abs() + (g - gsw2).abs();
                let (nwe, see) = (md1 - gnw1, pd1 - gse1);
                let (nee, swe) = (me1 - gne1, pe1 - gsw1);
                let p_est = (nwg * see + seg * nwe) / (nwg + seg);
                let q_est = (neg * swe + swg * nee) / (neg + swg);
                pick(want, g + intp(d, q_est, p_est), c0)
            }
        );
    }

    // Step 4: red and blue at green sites (these read only red/blue sites of
    // the plane, so each row's results go through `tmp`).
    for y in 11..h - 11 {
        let (s, n) = (11, w - 22);
        let gw = |dy: isize, dx: isize| win(row(gg, y.wrapping_add_signed(dy), w), s, dx, n);
        let vw = |dy: isize, dx: isize| win(row(vh, y.wrapping_add_signed(dy), w), s, dx, n);
        for plane in [&mut *rr, &mut *bb] {
            let p = &**plane;
            let pw = |dy: isize, dx: isize| win(row(p, y.wrapping_add_signed(dy), w), s, dx, n);
            rows!(
                &mut tmp[..n],
                [
                    g = gw(0, 0),
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
                    let ng = EPS + (g - gm2).abs() + (pm1 - pp1).abs() + (pm1 - pm3).abs();
                    let sg = EPS + (g - gp2).abs() + (pp1 - pm1).abs() + (pp1 - pp3).abs();
                    let wg = EPS + (g - gw2).abs() + (pw1 - pe1).abs() + (pw1 - pw3).abs();
                    let eg = EPS + (g - ge2).abs() + (pe1 - pw1).abs() + (pe1 - pe3).abs();
                    let (ne, se) = (pm1 - gm1, pp1 - gp1);
                    let (we, ee) = (pw1 - gw1, pe1 - ge1);
                    let v_est = (ng * se + sg * ne) / (ng + sg);
                    let h_est = (eg * we + wg * ee) / (eg + wg);
                    g + intp(d, h_est, v_est)
                }
            );
            merge(
                &tmp[..n],
                every_other(mask, s, first(s, y, true), n),
                &mut plane[y * w + s..][..n],
            );
        }
    }
}
