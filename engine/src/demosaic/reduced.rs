//! Reduced-resolution demosaicing for small outputs: every block of
//! photosites (2×2 for Bayer, 3×3 for X-Trans) becomes one pixel holding, per
//! colour, a weighted mean of the photosites around the block's centre; the
//! output is half (a third for X-Trans) the size.

use rayon::prelude::*;

use super::source::Source;
use crate::error::{Error, Result};
use crate::image::{Mosaic, RgbF32};

/// The block size for `cfa`: 2 for Bayer, 3 for X-Trans; `None` otherwise.
pub(crate) fn block_size(cfa: &crate::cfa::Cfa) -> Option<usize> {
    if cfa.bayer_phase().is_some() {
        Some(2)
    } else if cfa.is_xtrans() {
        Some(3)
    } else {
        None
    }
}

/// Tent weights of the window offsets −1..=k around a block of `k`: 1 at the
/// block centre, falling to 0 at `k` pixels from it.
fn tent(k: usize) -> Vec<f32> {
    let centre = (k as f32 - 1.0) / 2.0;
    (0..k + 2)
        .map(|i| (1.0 - (i as f32 - 1.0 - centre).abs() / k as f32).max(0.0))
        .collect()
}

/// Reduced-resolution demosaic of any source; `None` for unsupported patterns
/// or images smaller than one block.
///
/// Each output pixel is, per colour, the tent-weighted mean of that colour's
/// photosites in the block and the ring of photosites around it, all centred
/// on the block's centre: every colour is estimated at the same point (a
/// plain per-block mean would put red and blue half a photosite away from
/// green), and the tent keeps the result from aliasing.
pub(crate) fn half<S: Source>(src: &S) -> Option<RgbF32> {
    let cfa = src.cfa();
    let k = block_size(cfa)?;
    let (w, h) = (src.width(), src.height());
    let (ow, oh) = (w / k, h / k);
    if ow == 0 || oh == 0 {
        return None;
    }
    if k == 2 {
        return Some(half_bayer(src));
    }
    half_generic(src, k)
}

/// [`half`] for any pattern with blocks of `k`, tap by tap (the reference
/// for [`half_bayer`]).
fn half_generic<S: Source>(src: &S, k: usize) -> Option<RgbF32> {
    let cfa = src.cfa();
    let (w, h) = (src.width(), src.height());
    let (ow, oh) = (w / k, h / k);
    if ow == 0 || oh == 0 {
        return None;
    }
    let (ph, pw) = (cfa.height().max(1), cfa.width().max(1));
    let weights = tent(k);
    // Blocks repeat their CFA phase every `ny` × `nx` blocks. Per phase, the
    // window's (row, column, colour, weight) and each colour's 1 / Σweight,
    // for blocks whose window lies inside the image.
    let (ny, nx) = (lcm(ph, k) / k, lcm(pw, k) / k);
    let mut layouts = Vec::with_capacity(ny * nx);
    for by in 0..ny {
        for bx in 0..nx {
            let mut taps = Vec::with_capacity((k + 2) * (k + 2));
            let mut wsum = [0.0f32; 3];
            for (i, wy) in weights.iter().enumerate() {
                for (j, wx) in weights.iter().enumerate() {
                    // Window position i, j is photosite (by*k + i − 1, bx*k + j − 1)
                    // of the pattern, taken modulo its period.
                    let y = (by * k + i + ph - 1) % ph;
                    let x = (bx * k + j + pw - 1) % pw;
                    let c = cfa.color_at(y, x).index();
                    taps.push((i, j, c, wy * wx));
                    wsum[c] += wy * wx;
                }
            }
            if wsum.contains(&0.0) {
                return None;
            }
            layouts.push((taps, wsum.map(|s| 1.0 / s)));
        }
    }
    let mut out = RgbF32::new(ow, oh);
    out.data
        .par_chunks_mut(ow * 3)
        .enumerate()
        .for_each(|(oy, orow)| {
            // Rows oy*k − 1 ..= oy*k + k of the source, where they exist.
            let mut rows: Vec<Option<(usize, Vec<f32>)>> = Vec::with_capacity(k + 2);
            for i in 0..k + 2 {
                let y = (oy * k + i).checked_sub(1).filter(|y| *y < h);
                rows.push(y.map(|y| {
                    let mut r = vec![0.0f32; w];
                    src.row(y, 0, &mut r, None);
                    (y, r)
                }));
            }
            let rows: Vec<Option<(usize, &[f32])>> = rows
                .iter()
                .map(|r| r.as_ref().map(|(y, v)| (*y, v.as_slice())))
                .collect();
            let full: Option<Vec<&[f32]>> = rows.iter().map(|r| r.map(|(_, v)| v)).collect();
            let phase_row = &layouts[(oy % ny) * nx..][..nx];
            for (ox, px) in orow.chunks_exact_mut(3).enumerate() {
                let x0 = ox * k;
                match &full {
                    // Inside the image: the phase's precomputed taps.
                    Some(full) if x0 >= 1 && x0 + k < w => {
                        let (taps, inv) = &phase_row[ox % nx];
                        let mut sum = [0.0f32; 3];
                        for &(i, j, c, wt) in taps {
                            sum[c] += wt * full[i][x0 + j - 1];
                        }
                        for c in 0..3 {
                            px[c] = sum[c] * inv[c];
                        }
                    }
                    // At the edges: the taps that exist, renormalised.
                    _ => edge_pixel(cfa, &rows, &weights, x0, w, px),
                }
            }
        });
    Some(out)
}

/// One output pixel of a block at the image's edge (column `x0`), from the
/// window rows that exist.
fn edge_pixel(
    cfa: &crate::cfa::Cfa,
    rows: &[Option<(usize, &[f32])>],
    weights: &[f32],
    x0: usize,
    w: usize,
    px: &mut [f32],
) {
    let (ph, pw) = (cfa.height().max(1), cfa.width().max(1));
    let mut sum = [0.0f32; 3];
    let mut wsum = [0.0f32; 3];
    for (row, wy) in rows.iter().zip(weights) {
        let Some((y, r)) = row else { continue };
        for (j, wx) in weights.iter().enumerate() {
            let Some(x) = (x0 + j).checked_sub(1).filter(|x| *x < w) else {
                continue;
            };
            let c = cfa.color_at(y % ph, x % pw).index();
            sum[c] += wy * wx * r[x];
            wsum[c] += wy * wx;
        }
    }
    for (c, p) in px.iter_mut().enumerate().take(3) {
        *p = if wsum[c] > 0.0 { sum[c] / wsum[c] } else { 0.0 };
    }
}

/// Output rows per parallel task of [`half_bayer`]: its source rows are read
/// (levels and white balance) once, plus the two the window adds.
const BAND: usize = 16;

/// [`half`] for Bayer patterns, separably: the tent weights of the 4×4
/// window are ¼ ¾ ¾ ¼ in each direction, so each of the four photosite
/// classes (row parity × column parity) of a block is a 2×2 weighted sum
/// whose weights add up to 1; red and blue are their class, green the mean of
/// its two. Rows are first combined per parity (contiguous, vectorised
/// loops), then columns. Blocks on the image's edge take [`edge_pixel`].
fn half_bayer<S: Source>(src: &S) -> RgbF32 {
    let cfa = src.cfa();
    let (w, h) = (src.width(), src.height());
    let (ow, oh) = (w / 2, h / 2);
    // Blocks start at even rows and columns: the classes (even row, even
    // column), (even, odd), (odd, even), (odd, odd) have the same colours in
    // every block, one red, two green, one blue.
    let colours = [(0, 0), (0, 1), (1, 0), (1, 1)].map(|(y, x)| cfa.color_at(y, x).index());
    let find = |c: usize, skip: usize| (0..4).filter(|&i| colours[i] == c).nth(skip).unwrap_or(0);
    let (red, blue, greens) = (find(0, 0), find(2, 0), [find(1, 0), find(1, 1)]);
    let weights = tent(2);
    // The tent's weights next to the block (¾) and one photosite beyond (¼).
    let (near, far) = (weights[1], weights[0]);
    let mut out = RgbF32::new(ow, oh);
    out.data
        .par_chunks_mut(ow * 3 * BAND)
        .enumerate()
        .for_each_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(buf, even, odd): &mut (Vec<f32>, Vec<f32>, Vec<f32>), (band, chunk)| {
                let oy0 = band * BAND;
                let rows = chunk.len() / (ow * 3);
                // Source rows y_first..=y_last, where the window rows exist.
                let y_first = (2 * oy0).saturating_sub(1);
                let y_last = (2 * (oy0 + rows - 1) + 2).min(h - 1);
                buf.resize((y_last - y_first + 1) * w, 0.0);
                for (i, r) in buf.chunks_exact_mut(w).enumerate() {
                    src.row(y_first + i, 0, r, None);
                }
                let row = |y: usize| -> Option<&[f32]> {
                    let i = y.checked_sub(y_first).filter(|_| y < h)?;
                    buf.get(i * w..(i + 1) * w)
                };
                even.resize(w, 0.0);
                odd.resize(w, 0.0);
                for (r, orow) in chunk.chunks_exact_mut(ow * 3).enumerate() {
                    let oy = oy0 + r;
                    let y = 2 * oy;
                    let window =
                        [y.wrapping_sub(1), y, y + 1, y + 2].map(|yy| row(yy).map(|v| (yy, v)));
                    let edge =
                        |x0: usize, px: &mut [f32]| edge_pixel(cfa, &window, &weights, x0, w, px);
                    let (Some((_, up)), Some((_, r0)), Some((_, r1)), Some((_, r2))) =
                        (window[0], window[1], window[2], window[3])
                    else {
                        for (ox, px) in orow.chunks_exact_mut(3).enumerate() {
                            edge(2 * ox, px);
                        }
                        continue;
                    };
                    // Rows of the block's parity (y, y + 2) and of the other
                    // parity (y - 1, y + 1), each with its weights.
                    for (((e, o), (&a, &b)), (&c, &d)) in even
                        .iter_mut()
                        .zip(odd.iter_mut())
                        .zip(r0.iter().zip(r2))
                        .zip(up.iter().zip(r1))
                    {
                        *e = near * a + far * b;
                        *o = far * c + near * d;
                    }
                    for (ox, px) in orow.chunks_exact_mut(3).enumerate() {
                        let x = 2 * ox;
                        if x == 0 || x + 2 >= w {
                            edge(x, px);
                            continue;
                        }
                        // Per row class, the columns of the block's parity
                        // (x, x + 2) and of the other (x - 1, x + 1).
                        let class = [
                            near * even[x] + far * even[x + 2],
                            far * even[x - 1] + near * even[x + 1],
                            near * odd[x] + far * odd[x + 2],
                            far * odd[x - 1] + near * odd[x + 1],
                        ];
                        px[0] = class[red];
                        px[1] = 0.5 * (class[greens[0]] + class[greens[1]]);
                        px[2] = class[blue];
                    }
                }
            },
        );
    out
}

fn lcm(a: usize, b: usize) -> usize {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    a / x * b
}

/// Demosaic `mosaic` at reduced resolution: each 2×2 block (Bayer) or 3×3
/// block (X-Trans) becomes one pixel with, per colour, the tent-weighted mean
/// of the samples in and around the block, centred on the block.
///
/// Fails when the data does not match the size, for other CFA patterns, or
/// for images smaller than one block.
///
/// ```
/// use rawflow::internals::demosaic::demosaic_reduced;
/// use rawflow::internals::cfa::{BayerPhase, Cfa};
/// use rawflow::internals::image::Mosaic;
///
/// let mosaic = Mosaic {
///     width: 8,
///     height: 6,
///     cfa: Cfa::bayer(BayerPhase::Rggb),
///     data: vec![0.25; 48],
/// };
/// let rgb = demosaic_reduced(&mosaic).unwrap();
/// assert_eq!((rgb.width, rgb.height), (4, 3));
/// assert_eq!(rgb.pixel(1, 1), [0.25; 3]);
/// ```
pub fn demosaic_reduced(mosaic: &Mosaic) -> Result<RgbF32> {
    if mosaic.width.checked_mul(mosaic.height) != Some(mosaic.data.len()) {
        return Err(Error::InvalidParameter(format!(
            "mosaic of {}x{} has {} values",
            mosaic.width,
            mosaic.height,
            mosaic.data.len()
        )));
    }
    half(mosaic).ok_or_else(|| {
        Error::InvalidParameter(format!(
            "no reduced-resolution demosaic for a {}x{} mosaic with this CFA",
            mosaic.width, mosaic.height
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfa::{BayerPhase, Cfa};

    #[test]
    fn bayer_blocks_average_their_greens() {
        // RGGB: R=0.8, G=0.2 and 0.4, B=0.6 in every block.
        let (w, h) = (12, 8);
        let cfa = Cfa::bayer(BayerPhase::Rggb);
        let data = (0..w * h)
            .map(|i| match ((i / w) % 2, (i % w) % 2) {
                (0, 0) => 0.8,
                (0, 1) => 0.2,
                (1, 0) => 0.4,
                _ => 0.6,
            })
            .collect();
        let out = demosaic_reduced(&Mosaic {
            width: w,
            height: h,
            cfa,
            data,
        })
        .unwrap();
        assert_eq!((out.width, out.height), (6, 4));
        for (i, px) in out.data.chunks_exact(3).enumerate() {
            assert!((px[0] - 0.8).abs() < 1e-6);
            assert!((px[2] - 0.6).abs() < 1e-6);
            // Away from the edges both greens weigh the same.
            let (x, y) = (i % 6, i / 6);
            if (1..5).contains(&x) && (1..3).contains(&y) {
                assert!((px[1] - 0.3).abs() < 1e-6, "{px:?}");
            }
        }
    }

    /// The separable Bayer path gives the tap-by-tap one's pixels (to
    /// rounding) in every phase, edges and odd sizes included.
    #[test]
    fn bayer_fast_path_matches_the_generic_one() {
        for phase in [
            BayerPhase::Rggb,
            BayerPhase::Bggr,
            BayerPhase::Grbg,
            BayerPhase::Gbrg,
        ] {
            for (w, h) in [(12, 8), (13, 9), (31, 70), (4, 4), (5, 3)] {
                let m = Mosaic {
                    width: w,
                    height: h,
                    cfa: Cfa::bayer(phase),
                    data: (0..w * h)
                        .map(|i| ((i * 7919 + i / w * 31) % 1000) as f32 / 1000.0)
                        .collect(),
                };
                let fast = half_bayer(&m);
                let slow = half_generic(&m, 2).unwrap();
                assert_eq!((fast.width, fast.height), (slow.width, slow.height));
                for (a, b) in fast.data.iter().zip(&slow.data) {
                    assert!((a - b).abs() < 1e-5, "{phase:?} {w}x{h}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn xtrans_flat_field_stays_flat_and_bad_sizes_fail() {
        let cfa = Cfa::xtrans();
        let m = Mosaic {
            width: 12,
            height: 9,
            cfa: cfa.clone(),
            data: vec![0.5; 108],
        };
        let out = demosaic_reduced(&m).unwrap();
        assert_eq!((out.width, out.height), (4, 3));
        assert!(out.data.iter().all(|v| (v - 0.5).abs() < 1e-6));
        let bad = Mosaic {
            width: 2,
            height: 2,
            cfa,
            data: vec![0.5; 3],
        };
        assert!(demosaic_reduced(&bad).is_err());
    }
}
