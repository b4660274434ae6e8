//! Highlights: what happens to values at and above the white level.
//!
//! White balance multiplies red and blue by factors ≥ 1, so a photosite that
//! saturated in every channel would come out magenta (green stuck at 1.0, red
//! and blue above it). Three modes:
//!
//! * [`HighlightMode::Clip`]: clip every channel at 1.0 *after* white balance
//!   (multipliers normalised so that the smallest is 1.0): blown areas become
//!   neutral white. The default.
//! * [`HighlightMode::Blend`]: keep the unclipped data; in a pixel where some
//!   channel reached its clip level, raise the clipped channels to the
//!   pixel's largest value, so the highlight turns neutral but keeps the
//!   brightness the unclipped channels measured (no magenta, smooth roll-off
//!   with a tone curve).
//! * [`HighlightMode::Reconstruct`]: propagate colour from unclipped
//!   neighbours: the channel ratios of unclipped pixels are averaged on a
//!   coarse grid (empty cells filled from their neighbours), and the clipped
//!   channels of a pixel are rebuilt from its unclipped channels with those
//!   ratios (never lowered). Fully clipped pixels become neutral.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::levels::SensorData;
use crate::image::RgbF32;

/// How clipped highlights are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HighlightMode {
    /// Clip at white after white balance (neutral, loses detail).
    #[default]
    Clip,
    /// Blend clipped channels to neutral at the measured brightness.
    Blend,
    /// Rebuild clipped channels from unclipped ones and nearby colour.
    Reconstruct,
}

/// White-balance gains without the clip (for [`HighlightMode::Blend`] and
/// [`HighlightMode::Reconstruct`]).
pub fn apply_gains_unclipped(data: &mut SensorData, mult: [f32; 3]) {
    match data {
        SensorData::Mosaic(m) => {
            let (width, cfa) = (m.width.max(1), m.cfa.clone());
            m.data
                .par_chunks_mut(width)
                .enumerate()
                .for_each(|(y, row)| {
                    for (x, v) in row.iter_mut().enumerate() {
                        *v *= mult[cfa.color_at(y, x).index()];
                    }
                });
        }
        SensorData::Rgb(img) => {
            img.data.par_chunks_mut(3).for_each(|px| {
                for (v, g) in px.iter_mut().zip(mult) {
                    *v *= g;
                }
            });
        }
    }
}

/// Fraction of a channel's clip level above which it counts as clipped.
const CLIP_FRACTION: f32 = 0.985;
/// Grid cell size for colour propagation.
const CELL: usize = 16;

/// Recover highlights of white-balanced camera RGB whose channel `c` clips at
/// `mult[c]` (the white level times its gain). Does nothing for `Clip`.
pub fn recover(image: &mut RgbF32, mult: [f32; 3], mode: HighlightMode) {
    let limit = mult.map(|m| m * CLIP_FRACTION);
    match mode {
        HighlightMode::Clip => {}
        HighlightMode::Blend => image.data.par_chunks_mut(3).for_each(|px| {
            if px.iter().zip(limit).any(|(v, l)| *v >= l) {
                let max = px.iter().copied().fold(0.0f32, f32::max);
                for (v, l) in px.iter_mut().zip(limit) {
                    if *v >= l {
                        *v = max;
                    }
                }
            }
        }),
        HighlightMode::Reconstruct => reconstruct(image, limit),
    }
}

fn reconstruct(image: &mut RgbF32, limit: [f32; 3]) {
    let (w, h) = (image.width, image.height);
    if w == 0 || h == 0 {
        return;
    }
    let (gw, gh) = (w.div_ceil(CELL), h.div_ceil(CELL));
    // Per cell: summed R, G, B of bright unclipped pixels.
    let mut sums = vec![[0.0f64; 3]; gw * gh];
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            let Some(p) = image.data.get(i..i + 3) else {
                continue;
            };
            let clipped = p.iter().zip(limit).any(|(v, l)| *v >= l);
            let bright = p.iter().copied().fold(0.0f32, f32::max) > 0.05;
            if !clipped && bright && p.iter().all(|v| *v > 0.0) {
                let s = &mut sums[(y / CELL) * gw + x / CELL];
                for c in 0..3 {
                    s[c] += f64::from(p[c]);
                }
            }
        }
    }
    // Ratios R/G and B/G per cell; fill empty cells from neighbours.
    let mut ratio: Vec<Option<[f32; 3]>> = sums
        .iter()
        .map(|s| (s[1] > 0.0).then(|| [(s[0] / s[1]) as f32, 1.0, (s[2] / s[1]) as f32]))
        .collect();
    for _ in 0..(gw.max(gh)) {
        if ratio.iter().all(Option::is_some) {
            break;
        }
        let prev = ratio.clone();
        for gy in 0..gh {
            for gx in 0..gw {
                if prev[gy * gw + gx].is_some() {
                    continue;
                }
                let mut acc = [0.0f32; 3];
                let mut n = 0.0;
                for (dx, dy) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                    let (nx, ny) = (gx as i64 + dx, gy as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= gw as i64 || ny >= gh as i64 {
                        continue;
                    }
                    if let Some(r) = prev[ny as usize * gw + nx as usize] {
                        for c in 0..3 {
                            acc[c] += r[c];
                        }
                        n += 1.0;
                    }
                }
                if n > 0.0 {
                    ratio[gy * gw + gx] = Some(acc.map(|v| v / n));
                }
            }
        }
    }
    let w3 = 3 * w;
    image
        .data
        .par_chunks_mut(w3)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, p) in row.chunks_exact_mut(3).enumerate() {
                let clipped = [0, 1, 2].map(|c| p[c] >= limit[c]);
                if !clipped.iter().any(|c| *c) {
                    continue;
                }
                let max = p.iter().copied().fold(0.0f32, f32::max);
                let r = ratio
                    .get((y / CELL) * gw + x / CELL)
                    .copied()
                    .flatten()
                    .unwrap_or([1.0; 3]);
                // Green-equivalent brightness from the unclipped channels.
                let (mut g, mut n) = (0.0f32, 0.0f32);
                for c in 0..3 {
                    if !clipped[c] && r[c] > 1e-6 {
                        g += p[c] / r[c];
                        n += 1.0;
                    }
                }
                if n == 0.0 {
                    p.fill(max);
                    continue;
                }
                let g = g / n;
                for c in 0..3 {
                    if clipped[c] {
                        p[c] = p[c].max(g * r[c]);
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturated_after_white_balance_becomes_neutral() {
        // A photosite triple at white, white-balanced by (2.0, 1.0, 1.5).
        let px = [2.0, 1.0, 1.5].map(|g| super::super::white_balance::balance_clipped(1.0, g));
        assert_eq!(px, [1.0, 1.0, 1.0]);
    }

    fn sky(mode: HighlightMode) -> RgbF32 {
        // A blue-ish sky (ratios 0.5 : 1 : 1.6 of green) whose brightness rises
        // past the clip level of blue (1.5) and green (1.0) towards the right.
        let mult = [2.0, 1.0, 1.5];
        let (w, h) = (64, 16);
        let mut img = RgbF32::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let g = 0.3 + x as f32 * 0.03;
                let p = [0.5 * g, g, 1.6 * g];
                for c in 0..3 {
                    img.data[(y * w + x) * 3 + c] = p[c].min(mult[c]);
                }
            }
        }
        recover(&mut img, mult, mode);
        img
    }

    #[test]
    fn blend_never_goes_magenta() {
        let img = sky(HighlightMode::Blend);
        for p in img.data.chunks_exact(3) {
            // Magenta = green well below both red and blue.
            assert!(!(p[1] < p[0] * 0.95 && p[1] < p[2] * 0.95), "{p:?}");
        }
    }

    #[test]
    fn reconstruct_keeps_the_sky_blue() {
        let img = sky(HighlightMode::Reconstruct);
        // Where blue and green are clipped but red is not (x ≈ 40: g = 1.5).
        let p = img.pixel(40, 8);
        assert!(p[2] > p[1] && p[1] > p[0], "still blue: {p:?}");
        let ratio = p[2] / p[1];
        assert!((ratio - 1.6).abs() < 0.1, "hue kept: {p:?}");
    }
}
