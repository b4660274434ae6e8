//! Simple, pattern-generic methods: bilinear interpolation (any CFA) and the
//! fallback for images too small for the tiled kernels.

use super::tile::{Kernel, Scratch, TileIn};
use crate::image::{Mosaic, RgbF32};

/// Bilinear interpolation for any CFA: each missing colour is the mean of the
/// photosites of that colour in the 3×3 neighbourhood (5×5 when the 3×3 has
/// none). On Bayer this is exactly classic bilinear demosaicing.
pub(crate) struct Bilinear {
    /// Per CFA phase (`period * period`) and colour: the neighbour offsets to average.
    taps: Vec<[Vec<(isize, isize)>; 3]>,
}

impl Bilinear {
    /// Taps for a tile colour table of `period` × `period`.
    pub fn new(colors: &[usize], period: usize) -> Self {
        let color = |y: isize, x: isize| {
            let p = period as isize;
            colors[(y.rem_euclid(p) * p + x.rem_euclid(p)) as usize]
        };
        let mut taps = Vec::with_capacity(period * period);
        for py in 0..period as isize {
            for px in 0..period as isize {
                let mut t: [Vec<(isize, isize)>; 3] = Default::default();
                for (c, tc) in t.iter_mut().enumerate() {
                    if color(py, px) == c {
                        continue;
                    }
                    for r in 1..=2isize {
                        for dy in -r..=r {
                            for dx in -r..=r {
                                if color(py + dy, px + dx) == c {
                                    tc.push((dy, dx));
                                }
                            }
                        }
                        if !tc.is_empty() {
                            break;
                        }
                    }
                }
                taps.push(t);
            }
        }
        Self { taps }
    }
}

impl Kernel for Bilinear {
    fn border(&self) -> usize {
        2
    }

    fn run(&self, tile: &TileIn<'_>, _scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        let (w, h) = (tile.w, tile.h);
        let d = tile.data;
        let [or, og, ob] = out;
        for y in 2..h - 2 {
            for x in 2..w - 2 {
                let i = y * w + x;
                let taps = &self.taps[(y % tile.period) * tile.period + x % tile.period];
                let own = tile.color(y, x);
                let mut v = [0.0f32; 3];
                for (c, vc) in v.iter_mut().enumerate() {
                    if c == own {
                        *vc = d[i];
                        continue;
                    }
                    let t = &taps[c];
                    let mut s = 0.0;
                    for &(dy, dx) in t {
                        let j = (i as isize + dy * w as isize + dx) as usize;
                        s += d[j];
                    }
                    *vc = if t.is_empty() {
                        d[i]
                    } else {
                        s / t.len() as f32
                    };
                }
                or[i] = v[0];
                og[i] = v[1];
                ob[i] = v[2];
            }
        }
    }
}

/// Demosaic a mosaic of any size and pattern without tiling: each missing colour
/// is the mean of the nearest ring of photosites holding it (the photosite's own
/// value when the image has none). Meant for tiny images.
pub(crate) fn tiny(m: &Mosaic) -> RgbF32 {
    let (w, h) = (m.width, m.height);
    let mut out = RgbF32::new(w, h);
    let reach = w.max(h);
    for y in 0..h {
        for x in 0..w {
            let own = m.cfa.color_at(y, x).index();
            let v0 = m.data[y * w + x];
            let o = (y * w + x) * 3;
            for c in 0..3 {
                out.data[o + c] = v0;
                if c == own {
                    continue;
                }
                for r in 1..=reach {
                    let (mut s, mut n) = (0.0f32, 0u32);
                    for sy in y.saturating_sub(r)..(y + r + 1).min(h) {
                        for sx in x.saturating_sub(r)..(x + r + 1).min(w) {
                            if m.cfa.color_at(sy, sx).index() == c {
                                s += m.data[sy * w + sx];
                                n += 1;
                            }
                        }
                    }
                    if n > 0 {
                        out.data[o + c] = s / n as f32;
                        break;
                    }
                }
            }
        }
    }
    out
}
