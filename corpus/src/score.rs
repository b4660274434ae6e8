//! Image-quality scores of a developed image against its ground truth.

use std::sync::OnceLock;

use crate::ciede2000::{ciede2000, linear_srgb_to_lab};
use crate::color::{srgb8_to_linear_table, srgb_to_linear, SRGB_TO_XYZ};
use crate::error::{Error, Result};
use crate::image::{SrgbImage, SrgbImage16};
use crate::scenes::Patch;

/// CPSNR reported for identical images (and the ceiling for all results), so
/// that scores stay finite and serialisable.
pub const CPSNR_CAP_DB: f64 = 99.0;

/// Border excluded by default (demosaicing has no neighbours at the edges).
pub const DEFAULT_BORDER: usize = 8;

/// How close a developed image is to the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Colour PSNR over R, G and B together, in dB on the 8-bit scale (peak
    /// 255); capped at [`CPSNR_CAP_DB`].
    pub cpsnr_db: f64,
    /// Mean CIEDE2000 over pixels (CIELAB relative to the sRGB D65 white).
    pub delta_e2000_mean: f64,
    /// Largest per-pixel CIEDE2000.
    pub delta_e2000_max: f64,
    /// Mean linear luminance of the developed image divided by the truth's
    /// (1 = same exposure; 1 as well when both are black).
    pub exposure_ratio: f64,
}

/// Anything the scorer can read as an sRGB image.
pub trait ScoreInput {
    /// (width, height).
    fn dims(&self) -> (usize, usize);
    /// Sample `i` (pixel-major, RGB interleaved) scaled to [0, 1].
    fn encoded(&self, i: usize) -> f64;
    /// Sample `i` decoded to linear light.
    fn linear(&self, i: usize) -> f64;
}

fn lut8() -> &'static [f64; 256] {
    static T: OnceLock<[f64; 256]> = OnceLock::new();
    T.get_or_init(srgb8_to_linear_table)
}

fn lut16() -> &'static [f64] {
    static T: OnceLock<Vec<f64>> = OnceLock::new();
    T.get_or_init(|| {
        (0..=65535u32)
            .map(|v| srgb_to_linear(f64::from(v) / 65535.0))
            .collect()
    })
}

impl ScoreInput for SrgbImage {
    fn dims(&self) -> (usize, usize) {
        (self.width, self.height)
    }
    fn encoded(&self, i: usize) -> f64 {
        self.data.get(i).map_or(0.0, |&v| f64::from(v) / 255.0)
    }
    fn linear(&self, i: usize) -> f64 {
        self.data.get(i).map_or(0.0, |&v| lut8()[usize::from(v)])
    }
}

impl ScoreInput for SrgbImage16 {
    fn dims(&self) -> (usize, usize) {
        (self.width, self.height)
    }
    fn encoded(&self, i: usize) -> f64 {
        self.data.get(i).map_or(0.0, |&v| f64::from(v) / 65535.0)
    }
    fn linear(&self, i: usize) -> f64 {
        self.data
            .get(i)
            .and_then(|&v| lut16().get(usize::from(v)))
            .copied()
            .unwrap_or(0.0)
    }
}

fn check_buffer<I: ScoreInput + ?Sized>(img: &I, len: usize) -> Result<()> {
    let (w, h) = img.dims();
    if w.checked_mul(h).and_then(|n| n.checked_mul(3)) != Some(len) || len == 0 {
        return Err(Error::InvalidImage(format!(
            "{w}x{h} image with {len} samples"
        )));
    }
    Ok(())
}

/// Sums over a band of rows.
#[derive(Debug, Clone, Copy, Default)]
struct Partial {
    sq: f64,
    de_sum: f64,
    de_max: f64,
    y_dev: f64,
    y_truth: f64,
}

/// Rows per band; bands are summed in order, so results do not depend on
/// the number of threads.
const BAND_ROWS: usize = 32;

fn band<A: ScoreInput, B: ScoreInput>(
    dev: &A,
    truth: &B,
    w: usize,
    border: usize,
    rows: std::ops::Range<usize>,
) -> Partial {
    let wy = SRGB_TO_XYZ[1];
    let mut p = Partial::default();
    for y in rows {
        for x in border..w - border {
            let i = (y * w + x) * 3;
            let mut ld = [0.0; 3];
            let mut lt = [0.0; 3];
            for c in 0..3 {
                let d = (dev.encoded(i + c) - truth.encoded(i + c)) * 255.0;
                p.sq += d * d;
                ld[c] = dev.linear(i + c);
                lt[c] = truth.linear(i + c);
            }
            let de = if ld == lt {
                0.0
            } else {
                ciede2000(linear_srgb_to_lab(ld), linear_srgb_to_lab(lt))
            };
            p.de_sum += de;
            p.de_max = p.de_max.max(de);
            p.y_dev += wy[0] * ld[0] + wy[1] * ld[1] + wy[2] * ld[2];
            p.y_truth += wy[0] * lt[0] + wy[1] * lt[1] + wy[2] * lt[2];
        }
    }
    p
}

/// Scores `developed` against `truth`, ignoring `border` pixels on each side.
/// Inputs may be 8- or 16-bit; CPSNR is always on the 8-bit scale. Work is
/// spread over the available cores; the result does not depend on their number.
pub fn score_any<A: ScoreInput + Sync, B: ScoreInput + Sync>(
    developed: &A,
    truth: &B,
    border: usize,
) -> Result<Score> {
    let (w, h) = truth.dims();
    let (dw, dh) = developed.dims();
    if (w, h) != (dw, dh) {
        return Err(Error::SizeMismatch(dw, dh, w, h));
    }
    if w <= 2 * border || h <= 2 * border {
        return Err(Error::EmptyRegion {
            border,
            width: w,
            height: h,
        });
    }
    let bands: Vec<std::ops::Range<usize>> = (border..h - border)
        .step_by(BAND_ROWS)
        .map(|y0| y0..(y0 + BAND_ROWS).min(h - border))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(bands.len());
    let mut partials = vec![Partial::default(); bands.len()];
    if threads <= 1 {
        for (p, rows) in partials.iter_mut().zip(&bands) {
            *p = band(developed, truth, w, border, rows.clone());
        }
    } else {
        std::thread::scope(|scope| {
            for (t, chunk) in partials
                .chunks_mut(bands.len().div_ceil(threads))
                .enumerate()
            {
                let first = t * bands.len().div_ceil(threads);
                let bands = &bands;
                scope.spawn(move || {
                    for (k, p) in chunk.iter_mut().enumerate() {
                        if let Some(rows) = bands.get(first + k) {
                            *p = band(developed, truth, w, border, rows.clone());
                        }
                    }
                });
            }
        });
    }
    let mut total = Partial::default();
    for p in &partials {
        total.sq += p.sq;
        total.de_sum += p.de_sum;
        total.de_max = total.de_max.max(p.de_max);
        total.y_dev += p.y_dev;
        total.y_truth += p.y_truth;
    }
    let n = ((w - 2 * border) * (h - 2 * border)) as f64;
    let mse = total.sq / (3.0 * n);
    let cpsnr_db = if mse == 0.0 {
        CPSNR_CAP_DB
    } else {
        (10.0 * (255.0 * 255.0 / mse).log10()).min(CPSNR_CAP_DB)
    };
    let exposure_ratio = if total.y_truth > 0.0 {
        total.y_dev / total.y_truth
    } else if total.y_dev == 0.0 {
        1.0
    } else {
        f64::INFINITY
    };
    Ok(Score {
        cpsnr_db,
        delta_e2000_mean: total.de_sum / n,
        delta_e2000_max: total.de_max,
        exposure_ratio,
    })
}

/// Scores an 8-bit developed image against the truth (see [`score_any`]).
pub fn score(developed: &SrgbImage, truth: &SrgbImage, border: usize) -> Result<Score> {
    check_buffer(developed, developed.data.len())?;
    check_buffer(truth, truth.data.len())?;
    score_any(developed, truth, border)
}

/// Scores a 16-bit developed image (e.g. a TIFF output) against the truth.
pub fn score16(developed: &SrgbImage16, truth: &SrgbImage, border: usize) -> Result<Score> {
    check_buffer(developed, developed.data.len())?;
    check_buffer(truth, truth.data.len())?;
    score_any(developed, truth, border)
}

/// For each patch: the CIEDE2000 between the patch's nominal colour and the
/// mean *linear* colour of the developed image inside the patch shrunk by
/// `margin`. Patches that vanish after the inset or fall outside are skipped.
pub fn patch_delta_e<I: ScoreInput>(
    developed: &I,
    patches: &[Patch],
    margin: usize,
) -> Vec<(&'static str, f64)> {
    let (w, h) = developed.dims();
    let lut = lut8();
    patches
        .iter()
        .filter_map(|p| {
            let p = p.inset(margin)?;
            if p.x + p.w > w || p.y + p.h > h {
                return None;
            }
            let mut sum = [0.0; 3];
            for y in p.y..p.y + p.h {
                for x in p.x..p.x + p.w {
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += developed.linear((y * w + x) * 3 + c);
                    }
                }
            }
            let n = (p.w * p.h) as f64;
            let mean = sum.map(|s| s / n);
            let truth = p.rgb.map(|v| lut[usize::from(v)]);
            Some((
                p.name,
                ciede2000(linear_srgb_to_lab(mean), linear_srgb_to_lab(truth)),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_image() -> SrgbImage {
        SrgbImage::from_fn(40, 30, |x, y| {
            [(x * 6) as u8, (y * 8) as u8, ((x + y) * 3) as u8]
        })
    }

    #[test]
    fn identical_images_hit_the_cap() {
        let img = test_image();
        let s = score(&img, &img, 8).unwrap();
        assert_eq!(s.cpsnr_db, CPSNR_CAP_DB);
        assert_eq!(s.delta_e2000_mean, 0.0);
        assert_eq!(s.exposure_ratio, 1.0);
        let s16 = score16(&img.to_16bit(), &img, 8).unwrap();
        assert_eq!(s16.cpsnr_db, CPSNR_CAP_DB);
        assert!(s16.delta_e2000_mean < 1e-9);
    }

    #[test]
    fn perturbed_image_scores_sanely() {
        let truth = test_image();
        // +1 on every red sample inside the scored region: MSE = 1/3.
        let mut dev = truth.clone();
        for px in dev.data.chunks_exact_mut(3) {
            px[0] = px[0].saturating_add(1);
        }
        let s = score(&dev, &truth, 0).unwrap();
        let saturated = truth.data.chunks(3).filter(|p| p[0] == 255).count();
        assert_eq!(saturated, 0);
        let want = 10.0 * (255.0f64 * 255.0 * 3.0).log10();
        assert!((s.cpsnr_db - want).abs() < 1e-9, "{}", s.cpsnr_db);
        assert!(
            s.delta_e2000_mean > 0.0 && s.delta_e2000_mean < 1.0,
            "{s:?}"
        );
        assert!(s.exposure_ratio > 1.0 && s.exposure_ratio < 1.02, "{s:?}");

        // Darker by a stop in linear light.
        let dark = SrgbImage {
            data: truth
                .data
                .iter()
                .map(|&v| {
                    let l = srgb_to_linear(f64::from(v) / 255.0) * 0.5;
                    (crate::color::linear_to_srgb(l) * 255.0).round() as u8
                })
                .collect(),
            ..truth.clone()
        };
        let s = score(&dark, &truth, 2).unwrap();
        assert!((s.exposure_ratio - 0.5).abs() < 0.01, "{s:?}");
        assert!(s.cpsnr_db < 30.0 && s.delta_e2000_mean > 3.0, "{s:?}");
    }

    #[test]
    fn size_and_border_errors() {
        let a = test_image();
        let b = SrgbImage::filled(10, 10, [0, 0, 0]);
        assert!(matches!(score(&a, &b, 0), Err(Error::SizeMismatch(..))));
        assert!(matches!(score(&b, &b, 5), Err(Error::EmptyRegion { .. })));
        let broken = SrgbImage {
            width: 10,
            height: 10,
            data: vec![0; 5],
        };
        assert!(score(&broken, &b, 0).is_err());
    }

    #[test]
    fn patch_scores() {
        let patches = crate::scenes::color_checker_patches(120, 80);
        let chart = crate::scenes::color_checker(120, 80);
        let des = patch_delta_e(&chart, &patches, 2);
        assert_eq!(des.len(), 24);
        assert!(des.iter().all(|(_, d)| *d < 1e-9));
    }
}
