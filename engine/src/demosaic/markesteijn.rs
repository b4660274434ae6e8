//! X-Trans demosaicing after Frank Markesteijn's method (as described for
//! dcraw and LibRaw): directional green, colour differences, refinement
//! passes, and a per-pixel choice among the directions by homogeneity.
//!
//! Works on gamma-encoded values (the sRGB curve):
//! 1. The range of the greens around every red/blue photosite (its 3×3
//!    neighbourhood) bounds every green estimate there.
//! 2. Green at red/blue photosites in four directions (horizontal,
//!    vertical, both diagonals), from the nearest greens on either side.
//! 3. Red and blue everywhere, per direction, from the colour differences
//!    (X − G) of the same-colour photosites of the 3×3 neighbourhood.
//! 4. With three passes, two refinements: green at red/blue photosites
//!    again, now from the colour differences (G − X) of its two greens along
//!    the direction (X being the photosite's own colour as estimated there),
//!    then step 3 again. The first-pass images stay as four more
//!    candidates: eight in all.
//! 5. For every candidate a derivative along its direction in a luma/chroma
//!    space (YPbPr); a pixel is homogeneous where the derivative is within
//!    8× the smallest of all candidates. Homogeneity counts are summed over
//!    3×3, then 5×5; with eight candidates the weaker of each direction's
//!    pair is dropped; the most homogeneous candidates are averaged.
//! 6. Red and blue where they were not recorded once more: green plus the 3×3 median of the colour difference (R − G,
//!    B − G), which removes most of the remaining false colour.
//!
//! Each step loops over one photosite phase at a time (every sixth pixel of
//! a row), so its taps are constant offsets and the loops carry no branches.
//! Tiles arrive aligned to the 6×6 period.

use super::curve::curves;
use super::tile::{Kernel, Scratch, TileIn};

const PERIOD: usize = 6;
/// Direction steps as (dy, dx): horizontal, vertical, down-right, down-left.
const DIRS: [(isize, isize); 4] = [(0, 1), (1, 0), (1, 1), (1, -1)];
/// Farthest green along any direction from a red or blue photosite.
const MAX_REACH: usize = 2;

/// The taps of one photosite phase.
#[derive(Clone, Default)]
struct Site {
    /// Own colour index (0 R, 1 G, 2 B).
    color: usize,
    /// Per direction: distances to the nearest green forward and backward
    /// (red/blue photosites only).
    green: [(usize, usize); 4],
    /// Per colour: offsets (dy, dx) of that colour's photosites in the 3×3
    /// neighbourhood (empty for the own colour).
    taps: [Vec<(isize, isize)>; 3],
}

/// The Markesteijn-class X-Trans kernel with one or three passes.
pub(crate) struct Markesteijn {
    sites: Vec<Site>,
    passes: usize,
}

impl Markesteijn {
    /// For a tile colour table of one 6×6 period; `passes` 1 (four
    /// candidates) or 3 (eight).
    pub fn new(colors: &[usize], passes: usize) -> Self {
        let p = PERIOD as isize;
        let color = |y: isize, x: isize| {
            colors
                .get((y.rem_euclid(p) * p + x.rem_euclid(p)) as usize)
                .copied()
                .unwrap_or(1)
        };
        let mut sites = Vec::with_capacity(PERIOD * PERIOD);
        for y in 0..p {
            for x in 0..p {
                let own = color(y, x);
                let mut green = [(0, 0); 4];
                if own != 1 {
                    for (g, &(dy, dx)) in green.iter_mut().zip(&DIRS) {
                        let find = |sign: isize| {
                            (1..=MAX_REACH as isize)
                                .find(|&k| color(y + sign * k * dy, x + sign * k * dx) == 1)
                                .unwrap_or(1) as usize
                        };
                        *g = (find(1), find(-1));
                    }
                }
                let mut taps: [Vec<(isize, isize)>; 3] = Default::default();
                for (c, t) in taps.iter_mut().enumerate() {
                    if c == own {
                        continue;
                    }
                    for dy in -1..=1 {
                        for dx in -1..=1 {
                            if color(y + dy, x + dx) == c {
                                t.push((dy, dx));
                            }
                        }
                    }
                }
                sites.push(Site {
                    color: own,
                    green,
                    taps,
                });
            }
        }
        Self {
            sites,
            passes: if passes > 1 { 3 } else { 1 },
        }
    }

    /// Candidate images (4 or 8).
    fn candidates(&self) -> usize {
        if self.passes > 1 {
            8
        } else {
            4
        }
    }

    fn site(&self, py: usize, px: usize) -> &Site {
        &self.sites[(py % PERIOD) * PERIOD + px % PERIOD]
    }
}

/// The first column ≥ `from` with `x % PERIOD == phase`.
#[inline(always)]
fn first(from: usize, phase: usize) -> usize {
    from + (phase + PERIOD - from % PERIOD) % PERIOD
}

impl Kernel for Markesteijn {
    fn border(&self) -> usize {
        if self.passes > 1 {
            14
        } else {
            8
        }
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        dispatch_markesteijn(crate::cpu::Isa::process())(self, tile, scratch, out);
    }
}

/// The signature of the X-Trans Markesteijn tile kernel.
pub(crate) type MarkesteijnFn = fn(&Markesteijn, &TileIn<'_>, &mut Scratch, &mut [Vec<f32>; 3]);

crate::cpu::dispatched! {
    /// The X-Trans Markesteijn tile kernel for an instruction set.
    dispatch_markesteijn -> MarkesteijnFn;
    markesteijn_portable(
        kernel: &Markesteijn,
        tile: &TileIn<'_>,
        scratch: &mut Scratch,
        out: &mut [Vec<f32>; 3],
    ) {
        markesteijn_tile(kernel, tile, scratch, out);
    }
    avx2 {
        markesteijn_tile(kernel, tile, scratch, out);
    }
}

/// The whole kernel on one tile (see the module documentation).
#[inline(always)]
pub(crate) fn markesteijn_tile(
    k: &Markesteijn,
    tile: &TileIn<'_>,
    scratch: &mut Scratch,
    out: &mut [Vec<f32>; 3],
) {
    let (w, h) = (tile.w, tile.h);
    let n = w * h;
    let nc = k.candidates();
    let cv = curves();
    // The result (encoded); a, gmin, gmax; 3 planes per candidate; a
    // derivative and a homogeneity plane per candidate.
    let bufs = scratch.get(6 + 5 * nc, n);
    let (fin, rest) = bufs.split_at_mut(3);
    let (head, rest) = rest.split_at_mut(3);
    let (rgb, rest) = rest.split_at_mut(3 * nc);
    let (drv, homo) = rest.split_at_mut(nc);
    let [a, gmin, gmax] = head else {
        return;
    };
    let lookup = super::curve::dispatch_lookup(crate::cpu::Isa::process());
    lookup(&cv.encode, tile.data, a);

    // 1. Green range around red/blue photosites.
    let mut m = 1;
    for y in m..h - m {
        for px in 0..PERIOD {
            let s = k.site(y, px);
            if s.color == 1 {
                continue;
            }
            let offs: Vec<isize> = s.taps[1]
                .iter()
                .map(|&(dy, dx)| dy * w as isize + dx)
                .collect();
            let mut x = first(m, px);
            while x < w - m {
                let i = y * w + x;
                let (mut lo, mut hi) = (f32::MAX, f32::MIN);
                for &o in &offs {
                    let v = a[(i as isize + o) as usize];
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                gmin[i] = lo;
                gmax[i] = hi;
                x += PERIOD;
            }
        }
    }

    // 2. + 3. First pass, four directions.
    m = MAX_REACH;
    for d in 0..4 {
        let Some((r, g, b)) = planes(rgb, d) else {
            return;
        };
        green_first(k, a, gmin, gmax, g, w, h, m, d);
        red_blue(k, a, g, r, b, w, h, m + 1);
    }
    let mut mm = m + 1;
    // 4. Refinements into candidates 4..8.
    if nc == 8 {
        let (first4, second4) = rgb.split_at_mut(12);
        for (dst, src) in second4.iter_mut().zip(first4.iter()) {
            dst.copy_from_slice(src);
        }
        for _ in 1..k.passes {
            for d in 0..4 {
                let Some((r, g, b)) = planes(rgb, d + 4) else {
                    return;
                };
                green_refine(k, a, gmin, gmax, [&*r, &*b], g, w, h, mm + MAX_REACH, d);
                red_blue(k, a, g, r, b, w, h, mm + MAX_REACH + 1);
            }
            mm += MAX_REACH + 1;
        }
    }

    // 5. Derivatives, homogeneity, choice.
    mm += 1;
    for c in 0..nc {
        let (dy, dx) = DIRS[c % 4];
        let step = dy * w as isize + dx;
        let (r, g, b) = (&rgb[3 * c], &rgb[3 * c + 1], &rgb[3 * c + 2]);
        let dr = &mut drv[c];
        let ypbpr = |j: usize| {
            let (r, g, b) = (r[j], g[j], b[j]);
            let y = 0.2627 * r + 0.678 * g + 0.0593 * b;
            (y, (b - y) * 0.56433, (r - y) * 0.67815)
        };
        for y in mm..h - mm {
            for x in mm..w - mm {
                let i = y * w + x;
                let (l0, u0, v0) = ypbpr(i);
                let (l1, u1, v1) = ypbpr((i as isize + step) as usize);
                let (l2, u2, v2) = ypbpr((i as isize - step) as usize);
                let dl = 2.0 * l0 - l1 - l2;
                let du = 2.0 * u0 - u1 - u2;
                let dv = 2.0 * v0 - v1 - v2;
                dr[i] = dl * dl + du * du + dv * dv;
            }
        }
    }
    mm += 1;
    for y in mm..h - mm {
        for x in mm..w - mm {
            let i = y * w + x;
            let tr = 8.0 * drv[..nc].iter().map(|p| p[i]).fold(f32::MAX, f32::min);
            for c in 0..nc {
                let p = &drv[c];
                let mut cnt = 0.0;
                for j in [
                    i - w - 1,
                    i - w,
                    i - w + 1,
                    i - 1,
                    i,
                    i + 1,
                    i + w - 1,
                    i + w,
                    i + w + 1,
                ] {
                    if p[j] <= tr {
                        cnt += 1.0;
                    }
                }
                homo[c][i] = cnt;
            }
        }
    }
    mm += 2;
    let [fr, fg, fb] = fin else {
        return;
    };
    for y in mm..h - mm {
        for x in mm..w - mm {
            let i = y * w + x;
            let mut hm = [0.0f32; 8];
            for (c, v) in hm[..nc].iter_mut().enumerate() {
                let p = &homo[c];
                for r in 0..5 {
                    let at = i + r * w - 2 * w - 2;
                    *v += p[at] + p[at + 1] + p[at + 2] + p[at + 3] + p[at + 4];
                }
            }
            if nc == 8 {
                for d in 0..4 {
                    if hm[d] > hm[d + 4] {
                        hm[d + 4] = 0.0;
                    } else if hm[d] < hm[d + 4] {
                        hm[d] = 0.0;
                    }
                }
            }
            let max = hm.iter().copied().fold(0.0, f32::max);
            let thr = max - max / 8.0;
            let (mut s, mut cnt) = ([0.0f32; 3], 0.0);
            for c in 0..nc {
                if hm[c] >= thr {
                    s[0] += rgb[3 * c][i];
                    s[1] += rgb[3 * c + 1][i];
                    s[2] += rgb[3 * c + 2][i];
                    cnt += 1.0;
                }
            }
            fr[i] = s[0] / cnt;
            fg[i] = s[1] / cnt;
            fb[i] = s[2] / cnt;
        }
    }
    // 6. Red and blue where they were not recorded again, as green plus
    // the 3×3 median of the colour difference.
    {
        mm += 1;
        let [dr, db] = &mut drv[..2] else {
            return;
        };
        for y in mm - 1..h - mm + 1 {
            for x in mm - 1..w - mm + 1 {
                let i = y * w + x;
                dr[i] = fr[i] - fg[i];
                db[i] = fb[i] - fg[i];
            }
        }
        for y in mm..h - mm {
            for x in mm..w - mm {
                let i = y * w + x;
                let own = k.site(y, x).color;
                for (c, diff, plane) in [(0usize, &*dr, &mut *fr), (2, &*db, &mut *fb)] {
                    if c != own {
                        plane[i] = fg[i] + median3x3(diff, i, w);
                    }
                }
            }
        }
    }
    for (o, f) in out.iter_mut().zip([&*fr, &*fg, &*fb]) {
        for y in mm..h - mm {
            let row = y * w + mm..y * w + w - mm;
            lookup(&cv.decode, &f[row.clone()], &mut o[row]);
        }
    }
}

/// The median of the 3×3 neighbourhood of `i` in `p` (row length `w`).
#[inline(always)]
fn median3x3(p: &[f32], i: usize, w: usize) -> f32 {
    let mut v = [
        p[i - w - 1],
        p[i - w],
        p[i - w + 1],
        p[i - 1],
        p[i],
        p[i + 1],
        p[i + w - 1],
        p[i + w],
        p[i + w + 1],
    ];
    // A 19-exchange median network for nine values.
    let mut sort = |a: usize, b: usize| {
        let (x, y) = (v[a], v[b]);
        v[a] = x.min(y);
        v[b] = x.max(y);
    };
    for (a, b) in [
        (1, 2),
        (4, 5),
        (7, 8),
        (0, 1),
        (3, 4),
        (6, 7),
        (1, 2),
        (4, 5),
        (7, 8),
        (0, 3),
        (5, 8),
        (4, 7),
        (3, 6),
        (1, 4),
        (2, 5),
        (4, 7),
        (4, 2),
        (6, 4),
        (4, 2),
    ] {
        sort(a, b);
    }
    v[4]
}

/// The red, green and blue planes of candidate `c`.
fn planes(rgb: &mut [Vec<f32>], c: usize) -> Option<(&mut [f32], &mut [f32], &mut [f32])> {
    match rgb.get_mut(3 * c..3 * c + 3)? {
        [r, g, b] => Some((r, g, b)),
        _ => None,
    }
}

/// Green in direction `d` from the nearest greens on either side, clamped
/// to the range around the photosite; greens copied. Rows and columns
/// `m..len - m`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn green_first(
    k: &Markesteijn,
    a: &[f32],
    gmin: &[f32],
    gmax: &[f32],
    g: &mut [f32],
    w: usize,
    h: usize,
    m: usize,
    d: usize,
) {
    let (dy, dx) = DIRS[d];
    let step = dy * w as isize + dx;
    for y in m..h - m {
        g[y * w + m..y * w + w - m].copy_from_slice(&a[y * w + m..y * w + w - m]);
        for px in 0..PERIOD {
            let s = k.site(y, px);
            if s.color == 1 {
                continue;
            }
            let (k1, k2) = s.green[d];
            let (f, b) = (k1 as isize * step, -(k2 as isize) * step);
            let (wf, wb) = (k2 as f32 / (k1 + k2) as f32, k1 as f32 / (k1 + k2) as f32);
            let mut x = first(m, px);
            while x < w - m {
                let i = y * w + x;
                let est = wf * a[(i as isize + f) as usize] + wb * a[(i as isize + b) as usize];
                g[i] = est.max(gmin[i]).min(gmax[i]);
                x += PERIOD;
            }
        }
    }
}

/// Green in direction `d` again, from the colour differences (G − X) at the
/// two greens along `d`, X being the photosite's own colour as estimated
/// there (`rb` = the candidate's red and blue planes).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn green_refine(
    k: &Markesteijn,
    a: &[f32],
    gmin: &[f32],
    gmax: &[f32],
    rb: [&[f32]; 2],
    g: &mut [f32],
    w: usize,
    h: usize,
    m: usize,
    d: usize,
) {
    let (dy, dx) = DIRS[d];
    let step = dy * w as isize + dx;
    for y in m..h - m {
        for px in 0..PERIOD {
            let s = k.site(y, px);
            if s.color == 1 {
                continue;
            }
            let own = rb[s.color / 2];
            let (k1, k2) = s.green[d];
            let (f, b) = (k1 as isize * step, -(k2 as isize) * step);
            let (wf, wb) = (k2 as f32 / (k1 + k2) as f32, k1 as f32 / (k1 + k2) as f32);
            let mut x = first(m, px);
            while x < w - m {
                let i = y * w + x;
                let (jf, jb) = ((i as isize + f) as usize, (i as isize + b) as usize);
                let est = a[i] + wf * (g[jf] - own[jf]) + wb * (g[jb] - own[jb]);
                g[i] = est.max(gmin[i]).min(gmax[i]);
                x += PERIOD;
            }
        }
    }
}

/// Red and blue at every pixel of rows and columns `m..len - m` from the
/// colour differences of the 3×3 neighbourhood against `g`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn red_blue(
    k: &Markesteijn,
    a: &[f32],
    g: &[f32],
    r: &mut [f32],
    b: &mut [f32],
    w: usize,
    h: usize,
    m: usize,
) {
    let wi = w as isize;
    for y in m..h - m {
        for px in 0..PERIOD {
            let s = k.site(y, px);
            for (c, plane) in [(0usize, &mut *r), (2, &mut *b)] {
                let mut x = first(m, px);
                if s.color == c {
                    while x < w - m {
                        let i = y * w + x;
                        plane[i] = a[i];
                        x += PERIOD;
                    }
                    continue;
                }
                let offs: Vec<isize> = s.taps[c].iter().map(|&(ty, tx)| ty * wi + tx).collect();
                let inv = 1.0 / offs.len().max(1) as f32;
                while x < w - m {
                    let i = y * w + x;
                    let mut sum = 0.0;
                    for &o in &offs {
                        let j = (i as isize + o) as usize;
                        sum += a[j] - g[j];
                    }
                    plane[i] = g[i] + sum * inv;
                    x += PERIOD;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dispatched kernel (AVX2+FMA where the CPU has it) gives the
    /// portable kernel's bits, with one pass and with three.
    #[test]
    fn dispatched_markesteijn_matches_the_portable_kernel() {
        let (w, h) = (67, 53);
        let data: Vec<f32> = (0..w * h)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        let colors: Vec<usize> = super::super::tile::phase_colors(&crate::cfa::Cfa::xtrans());
        let tile = TileIn {
            data: &data,
            w,
            h,
            colors: &colors,
            period: PERIOD,
        };
        for passes in [1, 3] {
            let k = Markesteijn::new(&colors, passes);
            let run = |f: MarkesteijnFn| {
                let mut out: [Vec<f32>; 3] = [vec![0.0; w * h], vec![0.0; w * h], vec![0.0; w * h]];
                f(&k, &tile, &mut Scratch::default(), &mut out);
                out
            };
            let a = run(dispatch_markesteijn(crate::cpu::Isa::detect()));
            let b = run(markesteijn_portable);
            assert!(a == b, "{passes} passes: the dispatched kernel differs");
        }
    }
}
