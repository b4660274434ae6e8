//! Tone: black point, contrast, a filmic base look that rolls highlights off,
//! saturation and vibrance — all on linear working-space RGB.
//!
//! The curve works on each pixel's largest channel and scales all three by
//! the same factor, so hues do not shift as highlights roll off.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::color::space::REC2020_LUMA;
use crate::image::RgbF32;

/// Tone settings. The default is neutral (no change at all).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tone {
    /// Apply the filmic base look: a gentle contrast and a highlight shoulder
    /// that reaches white only at +2.5 EV over the clip point.
    pub base_look: bool,
    /// Contrast around middle grey (0.18): 1.0 leaves it, 1.2 is punchier.
    pub contrast: f32,
    /// Saturation: 1.0 leaves it, 0.0 is monochrome.
    pub saturation: f32,
    /// Vibrance: saturation that boosts muted colours more than vivid ones (0 = none).
    pub vibrance: f32,
    /// Linear value that becomes black (0 = none, e.g. 0.005).
    pub black_point: f32,
}

impl Default for Tone {
    fn default() -> Self {
        Self::NEUTRAL
    }
}

impl Tone {
    /// No change.
    pub const NEUTRAL: Tone = Tone {
        base_look: false,
        contrast: 1.0,
        saturation: 1.0,
        vibrance: 0.0,
        black_point: 0.0,
    };

    /// The default look of the built-in `web`, `full` and `proof` recipes.
    pub const BASE_LOOK: Tone = Tone {
        base_look: true,
        contrast: 1.1,
        saturation: 1.0,
        vibrance: 0.15,
        black_point: 0.002,
    };

    /// True when applying would change nothing.
    pub fn is_neutral(&self) -> bool {
        !self.base_look
            && self.contrast == 1.0
            && self.saturation == 1.0
            && self.vibrance == 0.0
            && self.black_point == 0.0
    }
}

/// Where the shoulder starts (linear, display-referred).
const KNEE: f32 = 0.6;
/// The scene value that maps to white (2.5 EV above 1.0).
const WHITE: f32 = 5.657;

/// The filmic shoulder: identity below `KNEE`, then a smooth roll-off
/// reaching 1.0 at `WHITE` (continuous in value and slope at the knee).
#[inline]
pub fn shoulder(x: f32) -> f32 {
    if x <= KNEE {
        return x;
    }
    if x >= WHITE {
        return 1.0;
    }
    // Rational curve y = K + (1-K)·t·(1+t/w²)/(1+t), t = (x-K)/(1-K),
    // w = (WHITE-K)/(1-K): slope 1 at the knee, y(WHITE) = 1.
    let t = (x - KNEE) / (1.0 - KNEE);
    let w = (WHITE - KNEE) / (1.0 - KNEE);
    KNEE + (1.0 - KNEE) * t * (1.0 + t / (w * w)) / (1.0 + t)
}

/// Contrast around 0.18 as a power law in log space, blended back to
/// identity above 1 so it does not push highlights past the shoulder.
#[inline]
fn contrast_curve(x: f32, c: f32) -> f32 {
    if c == 1.0 || x <= 0.0 {
        return x;
    }
    0.18 * (x / 0.18).powf(c)
}

/// Apply `tone` in place.
pub fn apply_tone(image: &mut RgbF32, tone: &Tone) {
    if tone.is_neutral() {
        return;
    }
    let t = *tone;
    let bp = t.black_point.clamp(0.0, 0.5);
    image.data.par_chunks_mut(3 * 4096).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(3) {
            let mut p = [px[0], px[1], px[2]].map(|v| if v.is_finite() { v } else { 0.0 });
            if bp > 0.0 {
                p = p.map(|v| (v - bp) / (1.0 - bp));
            }
            // Saturation and vibrance around luminance.
            let y = p[0] * REC2020_LUMA[0] + p[1] * REC2020_LUMA[1] + p[2] * REC2020_LUMA[2];
            let mut s = t.saturation;
            if t.vibrance != 0.0 {
                let max = p[0].max(p[1]).max(p[2]);
                let min = p[0].min(p[1]).min(p[2]);
                let sat = if max > 1e-6 {
                    ((max - min) / max).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                s *= 1.0 + t.vibrance * (1.0 - sat);
            }
            if s != 1.0 {
                p = p.map(|v| y + s * (v - y));
            }
            // Contrast and shoulder on the largest channel, applied as one gain.
            let norm = p[0].max(p[1]).max(p[2]);
            if norm > 1e-9 {
                let mut n = contrast_curve(norm, t.contrast);
                if t.base_look {
                    n = shoulder(n);
                }
                let gain = n / norm;
                p = p.map(|v| v * gain);
            }
            px.copy_from_slice(&p.map(|v| v.max(0.0)));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shoulder_is_continuous_monotonic_and_reaches_white() {
        let mut last = 0.0;
        for i in 0..=1000 {
            let x = i as f32 * 0.007;
            let y = shoulder(x);
            assert!(y >= last - 1e-6, "not monotonic at {x}");
            assert!(y <= 1.0);
            last = y;
        }
        assert!((shoulder(KNEE + 1e-4) - (KNEE + 1e-4)).abs() < 1e-3);
        assert_eq!(shoulder(WHITE), 1.0);
        assert!(shoulder(1.0) < 1.0, "1.0 must not clip: {}", shoulder(1.0));
        assert!(shoulder(2.0) > shoulder(1.0));
    }

    #[test]
    fn neutral_changes_nothing_and_grey_stays_grey() {
        let mut img = RgbF32 {
            width: 2,
            height: 1,
            data: vec![0.1, 0.2, 0.3, 0.5, 0.5, 0.5],
        };
        let before = img.clone();
        apply_tone(&mut img, &Tone::NEUTRAL);
        assert_eq!(img, before);
        apply_tone(&mut img, &Tone::BASE_LOOK);
        let g = &img.data[3..6];
        assert!((g[0] - g[1]).abs() < 1e-6 && (g[1] - g[2]).abs() < 1e-6);
    }

    #[test]
    fn saturation_zero_is_grey() {
        let mut img = RgbF32 {
            width: 1,
            height: 1,
            data: vec![0.8, 0.2, 0.1],
        };
        apply_tone(
            &mut img,
            &Tone {
                saturation: 0.0,
                ..Tone::NEUTRAL
            },
        );
        assert!(
            (img.data[0] - img.data[1]).abs() < 1e-6 && (img.data[1] - img.data[2]).abs() < 1e-6
        );
    }

    #[test]
    fn vibrance_boosts_muted_more_than_vivid() {
        let muted = [0.30, 0.25, 0.22];
        let vivid = [0.60, 0.05, 0.02];
        let chroma = |p: &[f32]| p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2]);
        let mut img = RgbF32 {
            width: 2,
            height: 1,
            data: [muted, vivid].concat(),
        };
        apply_tone(
            &mut img,
            &Tone {
                vibrance: 0.5,
                ..Tone::NEUTRAL
            },
        );
        let gm = chroma(&img.data[0..3]) / chroma(&muted);
        let gv = chroma(&img.data[3..6]) / chroma(&vivid);
        assert!(gm > gv && gv >= 1.0, "{gm} {gv}");
    }
}
