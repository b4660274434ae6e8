//! X-Trans demosaicing: directional, homogeneity-directed (Markesteijn-class,
//! one pass).
//!
//! Works gamma-encoded (sRGB curve):
//! 1. Green at red/blue sites in four directions (horizontal, vertical, both
//!    diagonals) from the nearest greens on either side, clamped to the range
//!    of the greens around the site.
//! 2. For each direction, red and blue everywhere from colour differences
//!    (X − G) of the same-colour photosites in the 3×3 neighbourhood.
//! 3. For each direction, a derivative along that direction in a luma/chroma
//!    space; a pixel is homogeneous in a direction where the derivative is
//!    within 8× the smallest one.
//! 4. Homogeneity counts are summed over 5×5 and the most homogeneous
//!    directions are averaged.
//!
//! Tiles arrive aligned to the 6×6 period.

use super::curve::{curves, lookup};
use super::tile::{Kernel, Scratch, TileIn};

const PERIOD: usize = 6;
/// Direction steps as (dy, dx): horizontal, vertical, down-right, down-left.
const DIRS: [(isize, isize); 4] = [(0, 1), (1, 0), (1, 1), (1, -1)];

/// Per-phase interpolation taps.
struct Phase {
    /// Own colour index.
    color: usize,
    /// Per direction: distances to the nearest green forward and backward
    /// (0 at green sites).
    green: [(isize, isize); 4],
    /// Per colour: offsets (dy, dx) of that colour's photosites in the 3×3
    /// neighbourhood (empty for the own colour).
    taps: [Vec<(isize, isize)>; 3],
}

/// The directional X-Trans kernel.
pub(crate) struct Directional {
    phases: Vec<Phase>,
}

impl Directional {
    /// For a tile colour table of one 6×6 period.
    pub fn new(colors: &[usize]) -> Self {
        let p = PERIOD as isize;
        let color = |y: isize, x: isize| colors[(y.rem_euclid(p) * p + x.rem_euclid(p)) as usize];
        let mut phases = Vec::with_capacity(PERIOD * PERIOD);
        for y in 0..p {
            for x in 0..p {
                let own = color(y, x);
                let mut green = [(0, 0); 4];
                if own != 1 {
                    for (g, &(dy, dx)) in green.iter_mut().zip(&DIRS) {
                        let find = |sign: isize| {
                            (1..=p)
                                .find(|&k| color(y + sign * k * dy, x + sign * k * dx) == 1)
                                .unwrap_or(1)
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
                phases.push(Phase {
                    color: own,
                    green,
                    taps,
                });
            }
        }
        Self { phases }
    }
}

/// Green range tolerance: the estimate may exceed the neighbouring greens by this much.
const CLAMP_SLACK: f32 = 0.0;

impl Kernel for Directional {
    fn border(&self) -> usize {
        8
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        let (w, h) = (tile.w, tile.h);
        let wi = w as isize;
        let cv = curves();
        let bufs = scratch.get(1 + 12 + 8, w * h);
        let (a, rest) = bufs.split_at_mut(1);
        let a = &mut a[0];
        let (rgb, rest) = rest.split_at_mut(12);
        let (drv, homo) = rest.split_at_mut(4);
        let phase = |y: usize, x: usize| &self.phases[(y % PERIOD) * PERIOD + x % PERIOD];

        for (o, &v) in a.iter_mut().zip(tile.data) {
            *o = lookup(&cv.encode, v);
        }

        for (d, &(dy, dx)) in DIRS.iter().enumerate() {
            let step = dy * wi + dx;
            let (planes, _) = rgb.split_at_mut(3 * d + 3);
            let [.., pr, pg, pb] = planes else {
                return;
            };
            // 1. Green in direction d.
            pg[..].copy_from_slice(&a[..]);
            for y in 2..h - 2 {
                for x in 2..w - 2 {
                    let ph = phase(y, x);
                    if ph.color == 1 {
                        continue;
                    }
                    let i = (y * w + x) as isize;
                    let (k1, k2) = ph.green[d];
                    let f = a[(i + k1 * step) as usize];
                    let b = a[(i - k2 * step) as usize];
                    let est = (k2 as f32 * f + k1 as f32 * b) / (k1 + k2) as f32;
                    let (mut lo, mut hi) = (f32::MAX, f32::MIN);
                    for &(ty, tx) in &ph.taps[1] {
                        let v = a[(i + ty * wi + tx) as usize];
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                    pg[i as usize] = est.clamp(lo - CLAMP_SLACK, hi + CLAMP_SLACK);
                }
            }
            // 2. Red and blue from colour differences.
            for y in 3..h - 3 {
                for x in 3..w - 3 {
                    let ph = phase(y, x);
                    let i = y * w + x;
                    let g = pg[i];
                    for (c, plane) in [(0usize, &mut *pr), (2, &mut *pb)] {
                        if ph.color == c {
                            plane[i] = a[i];
                            continue;
                        }
                        let t = &ph.taps[c];
                        let mut s = 0.0;
                        for &(ty, tx) in t {
                            let j = (i as isize + ty * wi + tx) as usize;
                            s += a[j] - pg[j];
                        }
                        plane[i] = g + s / t.len().max(1) as f32;
                    }
                }
            }
            // 3. Derivative along d in a luma/chroma space.
            let dr = &mut drv[d];
            let lab = |j: usize| {
                let (r, g, b) = (pr[j], pg[j], pb[j]);
                let l = 0.299 * r + 0.587 * g + 0.114 * b;
                (l, b - l, r - l)
            };
            for y in 4..h - 4 {
                for x in 4..w - 4 {
                    let i = y * w + x;
                    let (l0, u0, v0) = lab(i);
                    let (l1, u1, v1) = lab((i as isize + step) as usize);
                    let (l2, u2, v2) = lab((i as isize - step) as usize);
                    let dl = 2.0 * l0 - l1 - l2;
                    let du = 2.0 * u0 - u1 - u2;
                    let dv = 2.0 * v0 - v1 - v2;
                    dr[i] = dl * dl + du * du + dv * dv;
                }
            }
        }

        // 4. Homogeneity maps.
        for y in 5..h - 5 {
            for x in 5..w - 5 {
                let i = y * w + x;
                let tr = 8.0 * drv.iter().map(|p| p[i]).fold(f32::MAX, f32::min);
                for d in 0..4 {
                    let p = &drv[d];
                    let mut n = 0.0;
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
                            n += 1.0;
                        }
                    }
                    homo[d][i] = n;
                }
            }
        }
        // 5. Average the most homogeneous directions.
        let [or, og, ob] = out;
        for y in 7..h - 7 {
            for x in 7..w - 7 {
                let i = y * w + x;
                let mut hm = [0.0f32; 4];
                for (d, v) in hm.iter_mut().enumerate() {
                    let p = &homo[d];
                    for r in 0..5 {
                        let row = i + r * w - 2 * w - 2;
                        *v += p[row] + p[row + 1] + p[row + 2] + p[row + 3] + p[row + 4];
                    }
                }
                let max = hm.iter().copied().fold(0.0, f32::max);
                let thr = max - max / 8.0;
                let (mut s, mut n) = ([0.0f32; 3], 0.0);
                for d in 0..4 {
                    if hm[d] >= thr {
                        s[0] += rgb[3 * d][i];
                        s[1] += rgb[3 * d + 1][i];
                        s[2] += rgb[3 * d + 2][i];
                        n += 1.0;
                    }
                }
                or[i] = lookup(&cv.decode, s[0] / n);
                og[i] = lookup(&cv.decode, s[1] / n);
                ob[i] = lookup(&cv.decode, s[2] / n);
            }
        }
    }
}
