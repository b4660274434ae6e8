//! Output sharpening: an unsharp mask applied after resizing.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::image::RgbF32;

/// Unsharp-mask settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sharpen {
    /// Strength: 0.5 adds half of the detail again.
    pub amount: f32,
    /// Gaussian radius (sigma) in pixels, 0.3–5.
    pub radius: f32,
    /// Differences smaller than this (linear units) are left alone, to spare noise.
    pub threshold: f32,
}

impl Default for Sharpen {
    fn default() -> Self {
        Self {
            amount: 0.5,
            radius: 0.8,
            threshold: 0.002,
        }
    }
}

fn kernel(sigma: f32) -> Vec<f32> {
    let r = (sigma * 3.0).ceil().max(1.0) as i32;
    let mut k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

/// Blur one channel-interleaved image with a separable Gaussian (edges clamp).
fn blur(image: &RgbF32, k: &[f32]) -> Vec<f32> {
    let (w, h) = (image.width, image.height);
    let r = (k.len() / 2) as isize;
    let mut tmp = vec![0.0f32; image.data.len()];
    tmp.par_chunks_mut(3 * w).enumerate().for_each(|(y, row)| {
        let src = &image.data[y * w * 3..(y + 1) * w * 3];
        for x in 0..w {
            let mut acc = [0.0f32; 3];
            for (i, kv) in k.iter().enumerate() {
                let sx = (x as isize + i as isize - r).clamp(0, w as isize - 1) as usize;
                for c in 0..3 {
                    acc[c] += kv * src[sx * 3 + c];
                }
            }
            row[x * 3..x * 3 + 3].copy_from_slice(&acc);
        }
    });
    let mut out = vec![0.0f32; image.data.len()];
    out.par_chunks_mut(3 * w).enumerate().for_each(|(y, row)| {
        for (i, kv) in k.iter().enumerate() {
            let sy = (y as isize + i as isize - r).clamp(0, h as isize - 1) as usize;
            let src = &tmp[sy * w * 3..(sy + 1) * w * 3];
            for (o, s) in row.iter_mut().zip(src) {
                *o += kv * s;
            }
        }
    });
    out
}

/// Sharpen `image` in place: `v + amount · (v − blur(v))` where the
/// difference exceeds `threshold`. Fails for out-of-range settings.
pub fn unsharp_mask(image: &mut RgbF32, s: &Sharpen) -> Result<()> {
    if !(0.0..=10.0).contains(&s.amount)
        || !(0.1..=50.0).contains(&s.radius)
        || !(0.0..=1.0).contains(&s.threshold)
    {
        return Err(Error::InvalidParameter(format!(
            "sharpening {s:?} out of range (amount 0–10, radius 0.1–50, threshold 0–1)"
        )));
    }
    if s.amount == 0.0 || image.width == 0 || image.height == 0 {
        return Ok(());
    }
    let blurred = blur(image, &kernel(s.radius));
    image
        .data
        .par_iter_mut()
        .zip(blurred.par_iter())
        .for_each(|(v, b)| {
            let d = *v - b;
            if d.abs() > s.threshold {
                *v = (*v + s.amount * d).max(0.0);
            }
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_stays_flat_and_edges_gain_contrast() {
        let mut flat = RgbF32 {
            width: 16,
            height: 8,
            data: vec![0.3; 16 * 8 * 3],
        };
        unsharp_mask(&mut flat, &Sharpen::default()).unwrap();
        assert!(flat.data.iter().all(|v| (v - 0.3).abs() < 1e-5));

        let mut edge = RgbF32::new(16, 4);
        for y in 0..4 {
            for x in 8..16 {
                for c in 0..3 {
                    edge.data[(y * 16 + x) * 3 + c] = 0.5;
                }
            }
        }
        unsharp_mask(
            &mut edge,
            &Sharpen {
                amount: 1.0,
                radius: 1.0,
                threshold: 0.0,
            },
        )
        .unwrap();
        assert!(edge.pixel(8, 1)[0] > 0.5, "bright side overshoots");
        assert!(edge.pixel(7, 1)[0] == 0.0, "dark side clamps at 0");
        assert!((edge.pixel(15, 1)[0] - 0.5).abs() < 1e-3);
    }

    #[test]
    fn threshold_spares_small_differences_and_bad_settings_fail() {
        let mut img = RgbF32 {
            width: 3,
            height: 1,
            data: vec![0.5, 0.5, 0.5, 0.501, 0.501, 0.501, 0.5, 0.5, 0.5],
        };
        let before = img.clone();
        unsharp_mask(
            &mut img,
            &Sharpen {
                amount: 1.0,
                radius: 1.0,
                threshold: 0.01,
            },
        )
        .unwrap();
        assert_eq!(img, before);
        assert!(unsharp_mask(
            &mut img,
            &Sharpen {
                amount: -1.0,
                ..Sharpen::default()
            }
        )
        .is_err());
    }
}
