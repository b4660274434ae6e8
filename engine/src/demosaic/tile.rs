//! Tiled, parallel execution of demosaic kernels.
//!
//! The mosaic is cut into row strips (one rayon task each) and every strip into
//! column tiles. Each tile is copied, with a halo, into a buffer whose origin is
//! aligned to the CFA period so that kernels see one fixed phase (for Bayer, red
//! at even rows and columns). Pixels outside the image are filled by mirroring
//! and, where the mirrored photosite has the wrong colour (X-Trans), by the
//! nearest photosite of the right colour, so kernels never special-case borders.

use rayon::prelude::*;

use super::curve::sqrt_encode;
use super::finish::{Finish, FinishFn, Layout, RowIn};
use super::source::Source;
use crate::cfa::Cfa;
use crate::image::RgbF32;

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
    nested: Option<Box<Scratch>>,
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

    /// [`Scratch::get`], and a second, independent scratch for the kernels
    /// a combining kernel runs inside it.
    pub fn with_nested(&mut self, n: usize, len: usize) -> (&mut [Vec<f32>], &mut Scratch) {
        let nested = self.nested.get_or_insert_with(Box::default);
        if self.bufs.len() < n {
            self.bufs.resize_with(n, Vec::new);
        }
        for b in &mut self.bufs[..n] {
            b.resize(len, 0.0);
        }
        (&mut self.bufs[..n], nested)
    }
}

/// A demosaic algorithm that works on one padded tile.
pub(crate) trait Kernel: Sync {
    /// The halo (in pixels, on every side) the kernel needs around its output.
    fn border(&self) -> usize;
    /// Demosaic `tile` into `out` (three planes of `tile.w * tile.h`), at least for
    /// every pixel `border()` or more away from the tile edges.
    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]);
    /// True when the kernel works on square-root-encoded input and output
    /// values ([`Encoded`]).
    fn encoded(&self) -> bool {
        false
    }
    /// True when the kernel leaves its planes in the split layout (each row's
    /// even columns, then its odd ones: [`super::finish::Layout::Split`]),
    /// `2 * ceil(w / 2)` values per row.
    fn split(&self) -> bool {
        false
    }
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
fn padded_value<S: Source>(m: &S, y: isize, x: isize) -> f32 {
    let (w, h) = (m.width(), m.height());
    if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
        return m.at(y as usize, x as usize);
    }
    let cfa = m.cfa();
    let ph = cfa.height() as isize;
    let pw = cfa.width() as isize;
    let want = cfa.color_at(y.rem_euclid(ph) as usize, x.rem_euclid(pw) as usize);
    let ry = reflect(y, h);
    let rx = reflect(x, w);
    if cfa.color_at(ry, rx) == want {
        return m.at(ry, rx);
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
                if cfa.color_at(sy, sx) == want {
                    let dist = dy * dy + dx * dx;
                    if best.is_none_or(|(bd, _)| dist < bd) {
                        best = Some((dist, m.at(sy, sx)));
                    }
                }
            }
        }
        if let Some((_, v)) = best {
            return v;
        }
    }
    m.at(ry, rx)
}

/// Fill `buf` (`tw` × `th`) with the photosites whose top-left is image (`oy`, `ox`),
/// and `enc` (when given) with the same values on the square-root curve.
fn fill_tile<S: Source>(
    m: &S,
    oy: isize,
    ox: isize,
    tw: usize,
    th: usize,
    buf: &mut [f32],
    mut enc: Option<&mut [f32]>,
) {
    let (w, h) = (m.width() as isize, m.height() as isize);
    for ty in 0..th {
        let row = &mut buf[ty * tw..(ty + 1) * tw];
        let mut erow = enc.as_deref_mut().map(|e| &mut e[ty * tw..(ty + 1) * tw]);
        let sy = oy + ty as isize;
        let (in0, in1) = if sy >= 0 && sy < h {
            // Read the part of the row that lies inside the image in one go.
            let in0 = (-ox).clamp(0, tw as isize) as usize;
            let in1 = ((w - ox).clamp(0, tw as isize) as usize).max(in0);
            if in1 > in0 {
                let x0 = (ox + in0 as isize) as usize;
                m.row(
                    sy as usize,
                    x0,
                    &mut row[in0..in1],
                    erow.as_deref_mut().map(|e| &mut e[in0..in1]),
                );
            }
            (in0, in1)
        } else {
            (0, 0)
        };
        for tx in (0..in0).chain(in1..tw) {
            let v = padded_value(m, sy, ox + tx as isize);
            row[tx] = v;
            if let Some(e) = erow.as_deref_mut() {
                e[tx] = sqrt_encode(v);
            }
        }
    }
}

/// Runs the inner kernel on the square-root-encoded tile ([`super::curve::sqrt_encode`]);
/// the tile runner decodes its output (colour differences and ratios behave
/// better on perceptually even values).
pub(crate) struct Encoded<K>(pub K);

impl<K: Kernel> Kernel for Encoded<K> {
    fn border(&self) -> usize {
        self.0.border()
    }

    fn run(&self, tile: &TileIn<'_>, scratch: &mut Scratch, out: &mut [Vec<f32>; 3]) {
        self.0.run(tile, scratch, out);
    }

    fn encoded(&self) -> bool {
        true
    }

    fn split(&self) -> bool {
        self.0.split()
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

/// Per-task buffers of [`run_rect`], reused from one call to the next.
#[derive(Default)]
pub(crate) struct TileBufs {
    input: Vec<f32>,
    enc: Vec<f32>,
    scratch: Scratch,
    planes: [Vec<f32>; 3],
    lin: [Vec<f32>; 3],
}

/// Run `kernel` over the whole mosaic, its rows finished by `finish_row`.
/// The caller guarantees a square CFA period and an image of at least one
/// period in each direction.
pub(crate) fn run<S: Source, K: Kernel + ?Sized>(
    m: &S,
    kernel: &K,
    finish_row: FinishFn,
) -> RgbF32 {
    let (w, h) = (m.width(), m.height());
    let mut out = RgbF32::new(w, h);
    if w == 0 || h == 0 {
        return out;
    }
    out.data
        .par_chunks_mut(STRIP_ROWS * w * 3)
        .enumerate()
        .for_each_init(TileBufs::default, |bufs, (si, chunk)| {
            let rows = chunk.len() / (w * 3);
            run_rect(
                m,
                kernel,
                finish_row,
                (si * STRIP_ROWS, rows),
                (0, w),
                None,
                chunk,
                bufs,
            );
        });
    out
}

/// Run `kernel` over rows `y0..y0 + rows` and columns `x0..x0 + cols` of the
/// mosaic (`(y0, rows)`, `(x0, cols)`, inside the image), writing row-major RGB
/// into `out` (`rows * cols * 3` values), through `finish` when given. Pixels
/// near the rectangle's edges read their real neighbours, so the result equals
/// the same rectangle of [`run`]'s output (then `finish`). Single-threaded:
/// callers parallelise over rectangles. `finish_row` is the row finisher
/// resolved for the development's instruction set.
pub(crate) fn run_rect<S: Source, K: Kernel + ?Sized>(
    m: &S,
    kernel: &K,
    finish_row: FinishFn,
    (y0, rows): (usize, usize),
    (x0, cols): (usize, usize),
    finish: Option<&Finish>,
    out: &mut [f32],
    bufs: &mut TileBufs,
) {
    let cfa = m.cfa();
    let period = cfa.width();
    let (ay, ax) = anchor(cfa);
    let colors = phase_colors(cfa);
    let encoded = kernel.encoded();
    let split = kernel.split();
    let b = kernel.border();
    // Offset of the tile origin before the first output pixel: at least the halo,
    // plus whatever aligns the origin on the anchor phase.
    let lead = |p0: usize, a: usize| -> usize {
        b + ((p0 as isize - b as isize - a as isize).rem_euclid(period as isize) as usize)
    };
    let TileBufs {
        input,
        enc,
        scratch,
        planes,
        lin,
    } = bufs;
    let mut ty0 = y0;
    while ty0 < y0 + rows {
        let trows = STRIP_ROWS.min(y0 + rows - ty0);
        let by = lead(ty0, ay);
        let th = by + trows + b;
        let mut tx0 = x0;
        while tx0 < x0 + cols {
            let tcols = TILE_COLS.min(x0 + cols - tx0);
            let bx = lead(tx0, ax);
            let tw = bx + tcols + b;
            input.resize(tw * th, 0.0);
            if encoded {
                enc.resize(tw * th, 0.0);
            }
            fill_tile(
                m,
                ty0 as isize - by as isize,
                tx0 as isize - bx as isize,
                tw,
                th,
                input,
                encoded.then_some(&mut enc[..]),
            );
            // Split planes: both halves of every row, an odd width rounded up.
            let half = tw.div_ceil(2);
            let stride = if split { 2 * half } else { tw };
            for p in planes.iter_mut() {
                p.resize(stride * th, 0.0);
            }
            let tile = TileIn {
                data: if encoded { enc } else { input },
                w: tw,
                h: th,
                colors: &colors,
                period,
            };
            kernel.run(&tile, scratch, planes);
            for r in 0..trows {
                let src = (by + r) * tw + bx;
                let o = ((ty0 - y0 + r) * cols + (tx0 - x0)) * 3;
                let (row_planes, layout) = if split {
                    let at = (by + r) * stride;
                    (
                        [0, 1, 2].map(|c| &planes[c][at..at + stride]),
                        Layout::Split { half, x0: bx },
                    )
                } else {
                    (
                        [0, 1, 2].map(|c| &planes[c][src..src + tcols]),
                        Layout::Plain,
                    )
                };
                let row = RowIn {
                    planes: row_planes,
                    layout,
                    known: &input[src..src + tcols],
                    colors: &colors[((by + r) % period) * period..][..period],
                    phase: bx % period,
                    encoded,
                };
                finish_row(&row, finish, lin, &mut out[o..o + tcols * 3]);
            }
            tx0 += tcols;
        }
        ty0 += trows;
    }
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
