//! Where demosaic tiles read their photosites from: an f32 [`Mosaic`], or the
//! raw u16 active area with levels, white balance and the highlight clip fused
//! into per-position lookup tables, so that no full-size f32 mosaic is built.

use super::curve::{curves, lookup};
use crate::cfa::Cfa;
use crate::image::Mosaic;
use crate::stages::crop::ActiveArea;

/// A readable mosaic of linear values (0 black, 1 white after white balance).
pub(crate) trait Source: Sync {
    /// Width in photosites.
    fn width(&self) -> usize;
    /// Height in photosites.
    fn height(&self) -> usize;
    /// The CFA relative to photosite (0, 0).
    fn cfa(&self) -> &Cfa;
    /// Linear values of row `y`, columns `x0..x0 + lin.len()` (inside the image),
    /// and, when `enc` is given, the same values on the sRGB curve.
    fn row(&self, y: usize, x0: usize, lin: &mut [f32], enc: Option<&mut [f32]>);
    /// The linear value of photosite (`y`, `x`) inside the image.
    fn at(&self, y: usize, x: usize) -> f32;
}

impl Source for Mosaic {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn cfa(&self) -> &Cfa {
        &self.cfa
    }
    fn row(&self, y: usize, x0: usize, lin: &mut [f32], enc: Option<&mut [f32]>) {
        let start = y * self.width + x0;
        lin.copy_from_slice(&self.data[start..start + lin.len()]);
        if let Some(enc) = enc {
            let t = &curves().encode;
            for (e, v) in enc.iter_mut().zip(lin.iter()) {
                *e = lookup(t, *v);
            }
        }
    }
    fn at(&self, y: usize, x: usize) -> f32 {
        self.data[y * self.width + x]
    }
}

/// Largest repeat (in each direction) of the combined CFA and black-level pattern.
const MAX_PERIOD: usize = 12;

/// The raw active area read through lookup tables: u16 → linear (levels, white
/// balance, clip at white) and u16 → sRGB-encoded.
pub(crate) struct RawSource<'a> {
    area: &'a ActiveArea<'a>,
    ph: usize,
    pw: usize,
    /// Table index per pattern position (`ph * pw`, row-major).
    map: Vec<usize>,
    lin: Vec<Vec<f32>>,
    enc: Vec<Vec<f32>>,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b) * b
}

impl<'a> RawSource<'a> {
    /// Tables for `area` with white level `white` and multipliers `mult`; `None`
    /// for RGB data or patterns too large to tabulate. `encoded` also builds the
    /// sRGB-encoded tables.
    pub(crate) fn new(
        area: &'a ActiveArea<'a>,
        white: f32,
        mult: [f32; 3],
        encoded: bool,
    ) -> Option<Self> {
        if area.samples_per_pixel() != 1 {
            return None;
        }
        let cfa = &area.cfa;
        let black = &area.black;
        let ph = lcm(cfa.height().max(1), black.height.max(1));
        let pw = lcm(cfa.width().max(1), black.width.max(1));
        if ph > MAX_PERIOD || pw > MAX_PERIOD || !white.is_finite() {
            return None;
        }
        // Values above white all clip to 1.0, so the tables end at white.
        let len = (white.max(0.0).ceil() as usize + 1).clamp(2, 65536);
        let mut keys: Vec<(u32, u32)> = Vec::new();
        let mut map = Vec::with_capacity(ph * pw);
        let mut lin = Vec::new();
        let mut enc = Vec::new();
        let cv = curves();
        for y in 0..ph {
            for x in 0..pw {
                let b = black.at(y, x);
                let gain = mult[cfa.color_at(y, x).index()];
                let key = (b.to_bits(), gain.to_bits());
                let idx = match keys.iter().position(|k| *k == key) {
                    Some(i) => i,
                    None => {
                        keys.push(key);
                        let range = white - b;
                        let scale = if range > 0.0 { 1.0 / range } else { 0.0 };
                        // The same arithmetic as levels → white balance → clip.
                        let t: Vec<f32> = (0..len)
                            .map(|v| (((v as f32 - b) * scale).max(0.0) * gain).min(1.0))
                            .collect();
                        if encoded {
                            enc.push(t.iter().map(|&v| lookup(&cv.encode, v)).collect());
                        }
                        lin.push(t);
                        keys.len() - 1
                    }
                };
                map.push(idx);
            }
        }
        Some(Self {
            area,
            ph,
            pw,
            map,
            lin,
            enc,
        })
    }
}

impl Source for RawSource<'_> {
    fn width(&self) -> usize {
        self.area.width()
    }
    fn height(&self) -> usize {
        self.area.height()
    }
    fn cfa(&self) -> &Cfa {
        &self.area.cfa
    }
    fn row(&self, y: usize, x0: usize, lin: &mut [f32], enc: Option<&mut [f32]>) {
        let raw = &self.area.row(y)[x0..x0 + lin.len()];
        let rm = &self.map[(y % self.ph) * self.pw..][..self.pw];
        let start = x0 % self.pw;
        let convert = |tables: &[Vec<f32>], out: &mut [f32]| {
            let mut p = start;
            for (o, &v) in out.iter_mut().zip(raw) {
                let t = &tables[rm[p]];
                *o = t[(v as usize).min(t.len() - 1)];
                p += 1;
                if p == rm.len() {
                    p = 0;
                }
            }
        };
        convert(&self.lin, lin);
        if let Some(enc) = enc {
            if self.enc.len() == self.lin.len() {
                convert(&self.enc, enc);
            } else {
                let t = &curves().encode;
                for (e, v) in enc.iter_mut().zip(lin.iter()) {
                    *e = lookup(t, *v);
                }
            }
        }
    }
    fn at(&self, y: usize, x: usize) -> f32 {
        let t = &self.lin[self.map[(y % self.ph) * self.pw + x % self.pw]];
        let v = self.area.row(y)[x];
        t[(v as usize).min(t.len() - 1)]
    }
}

impl RawSource<'_> {
    /// Materialise the whole mosaic (for the paths that need one in memory).
    pub(crate) fn to_mosaic(&self) -> Mosaic {
        let (w, h) = (self.width(), self.height());
        let mut data = vec![0.0f32; w * h];
        for (y, row) in data.chunks_exact_mut(w.max(1)).enumerate() {
            self.row(y, 0, row, None);
        }
        Mosaic {
            width: w,
            height: h,
            cfa: self.area.cfa.clone(),
            data,
        }
    }
}
