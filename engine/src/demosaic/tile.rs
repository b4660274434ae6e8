//! Tiled, parallel execution of demosaic kernels.
//!
//! The mosaic is cut into row strips (one rayon task each) and every strip into
//! column tiles. Each tile is copied, with a halo, into a buffer whose origin is
//! aligned to the CFA period so that kernels see one fixed phase (for Bayer, red
//! at even rows and columns). Pixels outside the image are filled by mirroring
//! and, where the mirrored photosite has the wrong colour (X-Trans), by the
//! nearest photosite of the right colour, so kernels never special-case borders.

use rayon::prelude::*;

use crate::cfa::Cfa;
use crate::image::{Mosaic, RgbF32};

/// Output rows per parallel task.
const STRIP_ROWS: usize = 64;
/// Output columns per tile inside a strip.
const TILE_COLS: usize = 448;

/// One padded, phase-aligned input tile.
pub(crate) struct TileIn<'a> {
    /// Row-major values, `w * h` of them.
    pub data: &'a [f32],
    /// Tile width including the halo.
    pub w: usize,
    /// Tile height including the halo.
    pub h: usize,
    /// Colour indices of one CFA period as seen from the tile origin.
    pub colors: &'a [usize],
    /// CFA period (2 for Bayer, 6 for X-Trans).
    pub period: usize,
}

impl TileIn<'_> {
    /// Colour index (0 R, 1 G, 2 B) of tile position (`y`, `x`).
    #[inline]
    pub fn color(&self, y: usize, x: usize) -> usize {
        self.colors[(y % self.period) * self.period + x % self.period]
    }
}

/// Reusable per-task buffers for kernels.
#[derive(Default)]
pub(crate) struct Scratch {
    bufs: Vec<Vec<f32>>,
    /// A transformed copy of the tile input, for kernel wrappers.
    pub input: Vec<f32>,
}

impl Scratch {
    /// `n` buffers of `len` values each (contents unspecified).
    pub fn get(&mut self, n: usize, len: usize) -> &mut [Vec<f32>] {
        if self.bufs.len() < n {
            self.bufs.resize_with(n, Vec::new);
        }
        for b in &mut self.bufs[..n] {
            b.resize(len, 0.0);
        }
        &mut self.bufs[..n]
    }
}

/// A demosaic algorithm that works on one padded tile.
pub(crate) trait Kernel: Sync {
    /// The halo (in pixels, on every side) the kernel needs around its output.
    fn border(&self) -> usize;
    /// Demosaic `tile` into `out` (three planes of `tile.w * tile.h`), at least for
    /// every pixel `border()` or more away from the tile edges.
    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]);
}

/// Mirror `i` into `0..n` (without repeating the edge sample), for `n >= 1`.
fn reflect(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let p = 2 * (n as isize - 1);
    let m = i.rem_euclid(p);
    let r = if m >= n as isize { p - m } else { m };
    r as usize
}

/// The value used for a photosite at (`y`, `x`), which may lie outside the image.
fn padded_value(m: &Mosaic, y: isize, x: isize) -> f32 {
    let (w, h) = (m.width, m.height);
    if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
        return m.data[y as usize * w + x as usize];
    }
    let ph = m.cfa.height() as isize;
    let pw = m.cfa.width() as isize;
    let want = m
        .cfa
        .color_at(y.rem_euclid(ph) as usize, x.rem_euclid(pw) as usize);
    let ry = reflect(y, h);
    let rx = reflect(x, w);
    if m.cfa.color_at(ry, rx) == want {
        return m.data[ry * w + rx];
    }
    // Mirroring broke the pattern (X-Trans): take the nearest photosite of the
    // wanted colour.
    let reach = ph.max(pw);
    for d in 1..=reach {
        let mut best: Option<(isize, f32)> = None;
        for dy in -d..=d {
            for dx in -d..=d {
                if dy.abs() != d && dx.abs() != d {
                    continue;
                }
                let (sy, sx) = (ry as isize + dy, rx as isize + dx);
                if sy < 0 || sx < 0 || sy as usize >= h || sx as usize >= w {
                    continue;
                }
                let (sy, sx) = (sy as usize, sx as usize);
                if m.cfa.color_at(sy, sx) == want {
                    let dist = dy * dy + dx * dx;
                    if best.is_none_or(|(bd, _)| dist < bd) {
                        best = Some((dist, m.data[sy * w + sx]));
                    }
                }
            }
        }
        if let Some((_, v)) = best {
            return v;
        }
    }
    m.data[ry * w + rx]
}

/// Fill `buf` (`tw` × `th`) with the photosites whose top-left is image (`oy`, `ox`).
fn fill_tile(m: &Mosaic, oy: isize, ox: isize, tw: usize, th: usize, buf: &mut [f32]) {
    let (w, h) = (m.width as isize, m.height as isize);
    for (ty, row) in buf.chunks_exact_mut(tw).take(th).enumerate() {
        let sy = oy + ty as isize;
        if sy >= 0 && sy < h {
            // Copy the part of the row that lies inside the image in one go.
            let in0 = (-ox).clamp(0, tw as isize) as usize;
            let in1 = (w - ox).clamp(0, tw as isize) as usize;
            if in1 > in0 {
                let src0 = (sy * w + ox + in0 as isize) as usize;
                row[in0..in1].copy_from_slice(&m.data[src0..src0 + (in1 - in0)]);
            }
            for tx in (0..in0).chain(in1.max(in0)..tw) {
                row[tx] = padded_value(m, sy, ox + tx as isize);
            }
        } else {
            for (tx, v) in row.iter_mut().enumerate() {
                *v = padded_value(m, sy, ox + tx as isize);
            }
        }
    }
}

/// Where the kernel-visible phase starts: the position in the CFA period that
/// becomes tile (0, 0). Bayer tiles start on red; others on the pattern origin.
fn anchor(cfa: &Cfa) -> (usize, usize) {
    if cfa.bayer_phase().is_some() {
        for r in 0..2 {
            for c in 0..2 {
                if cfa.color_at(r, c) == crate::cfa::CfaColor::Red {
                    return (r, c);
                }
            }
        }
    }
    (0, 0)
}

/// The colour indices of one CFA period as kernels see it (row-major,
/// `period * period`): Bayer patterns always appear as RGGB.
pub(crate) fn phase_colors(cfa: &Cfa) -> Vec<usize> {
    let period = cfa.width();
    let (ay, ax) = anchor(cfa);
    (0..period * period)
        .map(|i| cfa.color_at(i / period + ay, i % period + ax).index())
        .collect()
}

/// Run `kernel` over the whole mosaic. The caller guarantees a square CFA period
/// and an image of at least one period in each direction.
pub(crate) fn run<K: Kernel>(m: &Mosaic, kernel: &K) -> RgbF32 {
    let (w, h) = (m.width, m.height);
    let mut out = RgbF32::new(w, h);
    if w == 0 || h == 0 {
        return out;
    }
    let period = m.cfa.width();
    let (ay, ax) = anchor(&m.cfa);
    let colors = phase_colors(&m.cfa);
    let b = kernel.border();
    // Offset of the tile origin before the first output pixel: at least the halo,
    // plus whatever aligns the origin on the anchor phase.
    let lead = |p0: usize, a: usize| -> usize {
        b + ((p0 as isize - b as isize - a as isize).rem_euclid(period as isize) as usize)
    };

    out.data
        .par_chunks_mut(STRIP_ROWS * w * 3)
        .enumerate()
        .for_each(|(si, chunk)| {
            let y0 = si * STRIP_ROWS;
            let rows = chunk.len() / (w * 3);
            let mut input = Vec::new();
            let mut scratch = Scratch::default();
            let mut planes: [Vec<f32>; 3] = Default::default();
            let by = lead(y0, ay);
            let th = by + rows + b;
            let mut x0 = 0;
            while x0 < w {
                let cols = TILE_COLS.min(w - x0);
                let bx = lead(x0, ax);
                let tw = bx + cols + b;
                input.resize(tw * th, 0.0);
                fill_tile(
                    m,
                    y0 as isize - by as isize,
                    x0 as isize - bx as isize,
                    tw,
                    th,
                    &mut input,
                );
                for p in &mut planes {
                    p.resize(tw * th, 0.0);
                }
                let tile = TileIn {
                    data: &input,
                    w: tw,
                    h: th,
                    colors: &colors,
                    period,
                };
                kernel.run(&tile, &mut scratch, &mut planes);
                for r in 0..rows {
                    let src = (by + r) * tw + bx;
                    let dst = &mut chunk[(r * w + x0) * 3..(r * w + x0 + cols) * 3];
                    let known = &input[src..src + cols];
                    let [pr, pg, pb] = &planes;
                    for (c, px) in dst.chunks_exact_mut(3).enumerate() {
                        px[0] = pr[src + c].clamp(0.0, 1.0);
                        px[1] = pg[src + c].clamp(0.0, 1.0);
                        px[2] = pb[src + c].clamp(0.0, 1.0);
                        // The recorded sample is kept exactly.
                        px[tile.color(by + r, bx + c)] = known[c];
                    }
                }
                x0 += cols;
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_mirrors_without_repeating_the_edge() {
        assert_eq!(reflect(-1, 5), 1);
        assert_eq!(reflect(-2, 5), 2);
        assert_eq!(reflect(5, 5), 3);
        assert_eq!(reflect(6, 5), 2);
        assert_eq!(reflect(-7, 2), 1);
        assert_eq!(reflect(3, 1), 0);
        for i in -20..20 {
            assert!(reflect(i, 3) < 3);
        }
    }
}
