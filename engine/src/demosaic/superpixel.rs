//! Reduced-resolution demosaicing for small outputs: every block of
//! photosites (2×2 for Bayer, 3×3 for X-Trans) becomes one pixel holding the
//! mean of each colour's samples in the block. No interpolation, so no
//! demosaicing artefacts; the output is half (a third for X-Trans) the size.

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

/// Per block phase: (dy, dx, colour) of every photosite, and 1/count per colour.
type Layout = (Vec<(usize, usize, usize)>, [f32; 3]);

fn layouts(cfa: &crate::cfa::Cfa, k: usize) -> Option<(usize, usize, Vec<Layout>)> {
    // Blocks repeat with the CFA period divided by its gcd with k... simply use
    // lcm(period, k) / k phases in each direction.
    let lcm = |a: usize, b: usize| {
        let (mut x, mut y) = (a, b);
        while y != 0 {
            (x, y) = (y, x % y);
        }
        a / x * b
    };
    let ny = lcm(cfa.height(), k) / k;
    let nx = lcm(cfa.width(), k) / k;
    let mut out = Vec::with_capacity(ny * nx);
    for py in 0..ny {
        for px in 0..nx {
            let mut sites = Vec::with_capacity(k * k);
            let mut count = [0usize; 3];
            for dy in 0..k {
                for dx in 0..k {
                    let c = cfa.color_at(py * k + dy, px * k + dx).index();
                    sites.push((dy, dx, c));
                    count[c] += 1;
                }
            }
            if count.contains(&0) {
                return None;
            }
            out.push((sites, count.map(|n| 1.0 / n as f32)));
        }
    }
    Some((ny, nx, out))
}

/// Reduced-resolution demosaic of any source; `None` for unsupported patterns
/// or images smaller than one block.
pub(crate) fn half<S: Source>(src: &S) -> Option<RgbF32> {
    let cfa = src.cfa();
    let k = block_size(cfa)?;
    let (ny, nx, lay) = layouts(cfa, k)?;
    let (w, h) = (src.width(), src.height());
    let (ow, oh) = (w / k, h / k);
    if ow == 0 || oh == 0 {
        return None;
    }
    let mut out = RgbF32::new(ow, oh);
    out.data
        .par_chunks_mut(ow * 3)
        .enumerate()
        .for_each(|(oy, orow)| {
            let mut rows = vec![0.0f32; k * ow * k];
            for (dy, r) in rows.chunks_exact_mut(ow * k).enumerate() {
                src.row(oy * k + dy, 0, r, None);
            }
            let phase_row = &lay[(oy % ny) * nx..][..nx];
            for (ox, px) in orow.chunks_exact_mut(3).enumerate() {
                let (sites, inv) = &phase_row[ox % nx];
                let mut sum = [0.0f32; 3];
                for &(dy, dx, c) in sites {
                    sum[c] += rows[dy * ow * k + ox * k + dx];
                }
                for c in 0..3 {
                    px[c] = sum[c] * inv[c];
                }
            }
        });
    Some(out)
}

/// Demosaic `mosaic` at reduced resolution: each 2×2 block (Bayer) or 3×3
/// block (X-Trans) becomes one pixel with the mean of each colour's samples.
///
/// Fails when the data does not match the size, for other CFA patterns, or
/// for images smaller than one block.
///
/// ```
/// use rawflow::demosaic::demosaic_half;
/// use rawflow::{BayerPhase, Cfa, Mosaic};
///
/// let mosaic = Mosaic {
///     width: 8,
///     height: 6,
///     cfa: Cfa::bayer(BayerPhase::Rggb),
///     data: vec![0.25; 48],
/// };
/// let rgb = demosaic_half(&mosaic).unwrap();
/// assert_eq!((rgb.width, rgb.height), (4, 3));
/// assert_eq!(rgb.pixel(1, 1), [0.25; 3]);
/// ```
pub fn demosaic_half(mosaic: &Mosaic) -> Result<RgbF32> {
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
        let (w, h) = (6, 4);
        let cfa = Cfa::bayer(BayerPhase::Rggb);
        let data = (0..w * h)
            .map(|i| match ((i / w) % 2, (i % w) % 2) {
                (0, 0) => 0.8,
                (0, 1) => 0.2,
                (1, 0) => 0.4,
                _ => 0.6,
            })
            .collect();
        let out = demosaic_half(&Mosaic {
            width: w,
            height: h,
            cfa,
            data,
        })
        .unwrap();
        assert_eq!((out.width, out.height), (3, 2));
        for px in out.data.chunks_exact(3) {
            assert!((px[0] - 0.8).abs() < 1e-6);
            assert!((px[1] - 0.3).abs() < 1e-6);
            assert!((px[2] - 0.6).abs() < 1e-6);
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
        let out = demosaic_half(&m).unwrap();
        assert_eq!((out.width, out.height), (4, 3));
        assert!(out.data.iter().all(|v| (v - 0.5).abs() < 1e-6));
        let bad = Mosaic {
            width: 2,
            height: 2,
            cfa,
            data: vec![0.5; 3],
        };
        assert!(demosaic_half(&bad).is_err());
    }
}
