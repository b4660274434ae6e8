//! Where demosaic tiles read their photosites from: an f32 [`Mosaic`], or the
//! raw u16 active area with levels, white balance and the highlight clip
//! applied as rows are read, so that no full-size f32 mosaic is built.

use super::curve::encode_row;
use crate::cfa::Cfa;
use crate::image::Mosaic;
use crate::stages::crop::ActiveArea;
use crate::stages::{levels, white_balance};

/// A readable mosaic of linear values (0 black, 1 white after white balance).
pub(crate) trait Source: Sync {
    /// Width in photosites.
    fn width(&self) -> usize;
    /// Height in photosites.
    fn height(&self) -> usize;
    /// The CFA relative to photosite (0, 0).
    fn cfa(&self) -> &Cfa;
    /// Linear values of row `y`, columns `x0..x0 + lin.len()` (inside the image),
    /// and, when `enc` is given, the same values on the square-root curve
    /// (see [`super::tile::Encoded`]).
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
            encode_row(lin, enc);
        }
    }
    fn at(&self, y: usize, x: usize) -> f32 {
        self.data[y * self.width + x]
    }
}

/// Largest repeat (in each direction) of the combined CFA and black-level pattern.
const MAX_PERIOD: usize = 12;

/// Values converted per block of [`RawSource::row`]: a multiple of every
/// pattern width up to [`MAX_PERIOD`] that divides 24, and of the vector width.
const LANES: usize = 24;

/// Levels, white balance and clip of one pattern position:
/// `(((min(v, top) - black) * scale).max(0) * gain).min(1)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Level {
    black: f32,
    scale: f32,
    gain: f32,
}

/// The levels of [`LANES`] consecutive positions of a row, as arrays (the
/// form the vectorised loop of [`levels_row`] reads).
#[derive(Clone, Debug)]
pub(crate) struct LevelBlock {
    black: [f32; LANES],
    scale: [f32; LANES],
    gain: [f32; LANES],
}

/// `lin[i]` = the levels of `raw[i]` (`block` repeating every [`LANES`]
/// values), in blocks the compiler vectorises, then `enc[i]` its square root
/// when given. `#[inline(always)]` so that each CPU-feature variant
/// made by `dispatched!` compiles its own copy.
#[inline(always)]
pub(crate) fn levels_row(
    raw: &[u16],
    block: &LevelBlock,
    top: f32,
    lin: &mut [f32],
    enc: Option<&mut [f32]>,
) {
    let LevelBlock { black, scale, gain } = block;
    let level = |r: u16, j: usize| {
        Level {
            black: black[j],
            scale: scale[j],
            gain: gain[j],
        }
        .apply(f32::from(r), top)
    };
    let n = raw.len().min(lin.len());
    let full = n - n % LANES;
    // Whole blocks as fixed-size arrays, so that each is a few whole vectors.
    for (o, r) in lin[..full]
        .chunks_exact_mut(LANES)
        .zip(raw[..full].chunks_exact(LANES))
    {
        let (Ok(o), Ok(r)) = (
            <&mut [f32; LANES]>::try_from(o),
            <&[u16; LANES]>::try_from(r),
        ) else {
            continue;
        };
        for j in 0..LANES {
            o[j] = level(r[j], j);
        }
    }
    for (j, (o, &r)) in lin[full..n].iter_mut().zip(&raw[full..n]).enumerate() {
        *o = level(r, j);
    }
    if let Some(enc) = enc {
        encode_row(&lin[..n], enc);
    }
}

/// The signature of [`levels_row`].
pub(crate) type LevelsFn = fn(&[u16], &LevelBlock, f32, &mut [f32], Option<&mut [f32]>);

crate::cpu::dispatched! {
    /// Levels (and the square-root curve) of a raw row for an instruction set.
    dispatch_levels -> LevelsFn;
    levels_portable(
        raw: &[u16],
        block: &LevelBlock,
        top: f32,
        lin: &mut [f32],
        enc: Option<&mut [f32]>,
    ) {
        levels_row(raw, block, top, lin, enc);
    }
    avx2 {
        levels_row(raw, block, top, lin, enc);
    }
}

/// The raw active area read through levels, white balance and the highlight
/// clip (and, for kernels that want it, the square-root curve), computed per value.
pub(crate) struct RawSource<'a> {
    area: &'a ActiveArea<'a>,
    ph: usize,
    pw: usize,
    /// Levels per pattern position (`ph * pw`, row-major).
    levels: Vec<Level>,
    /// The row kernel for the development's instruction set.
    levels_row: LevelsFn,
    /// When [`LANES`] is a multiple of the pattern width: the block of levels
    /// for each pattern row and starting column (`ph * pw`, row-major).
    blocks: Vec<LevelBlock>,
    /// Raw values above this read as this (the end of the range that maps
    /// below white).
    top: f32,
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

impl Level {
    /// [`levels::Level::apply`] then [`white_balance::balance_clipped`]: the
    /// two stages' arithmetic, fused (`min(v, top)` changes nothing after the
    /// clip: it keeps the range of raw values that map below white).
    #[inline(always)]
    fn apply(self, v: f32, top: f32) -> f32 {
        let level = levels::Level {
            black: self.black,
            scale: self.scale,
        };
        white_balance::balance_clipped(level.apply(v.min(top)), self.gain)
    }
}

impl<'a> RawSource<'a> {
    /// Levels for `area` with white level `white` and multipliers `mult`;
    /// `None` for RGB data or patterns too large to handle. Rows are read
    /// with the kernel for `isa`.
    pub(crate) fn new(
        area: &'a ActiveArea<'a>,
        white: f32,
        mult: [f32; 3],
        isa: crate::cpu::Isa,
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
        // Values above white all clip to 1.0: the range ends at white.
        let top = ((white.max(0.0).ceil() as usize).clamp(1, 65535)) as f32;
        let mut levels = Vec::with_capacity(ph * pw);
        for y in 0..ph {
            for x in 0..pw {
                let level = levels::Level::new(black.at(y, x), white);
                levels.push(Level {
                    black: level.black,
                    scale: level.scale,
                    gain: mult[cfa.color_at(y, x).index()],
                });
            }
        }
        let mut blocks = Vec::new();
        if LANES % pw == 0 {
            for y in 0..ph {
                let row = &levels[y * pw..][..pw];
                for start in 0..pw {
                    let pick = |f: fn(&Level) -> f32| -> [f32; LANES] {
                        std::array::from_fn(|j| f(&row[(start + j) % pw]))
                    };
                    blocks.push(LevelBlock {
                        black: pick(|l| l.black),
                        scale: pick(|l| l.scale),
                        gain: pick(|l| l.gain),
                    });
                }
            }
        }
        Some(Self {
            area,
            ph,
            pw,
            levels,
            levels_row: dispatch_levels(isa),
            blocks,
            top,
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
        let rl = &self.levels[(y % self.ph) * self.pw..][..self.pw];
        if let Some(block) = self.blocks.get((y % self.ph) * self.pw + x0 % self.pw) {
            // The pattern repeats within a block: one block of parameters,
            // starting at the row's phase, serves every block.
            (self.levels_row)(raw, block, self.top, lin, enc);
            return;
        }
        let mut p = x0 % self.pw;
        for (o, &v) in lin.iter_mut().zip(raw) {
            *o = rl[p].apply(f32::from(v), self.top);
            p += 1;
            if p == self.pw {
                p = 0;
            }
        }
        if let Some(enc) = enc {
            encode_row(lin, enc);
        }
    }
    fn at(&self, y: usize, x: usize) -> f32 {
        let l = self.levels[(y % self.ph) * self.pw + x % self.pw];
        l.apply(f32::from(self.area.row(y)[x]), self.top)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorised block loop, in its portable and dispatched copies, gives
    /// `Level::apply` (and its square root) for every value, the sensor's
    /// clip and a partial last block included.
    #[test]
    fn level_blocks_match_per_value_levels() {
        let levels: Vec<Level> = (0..LANES)
            .map(|j| Level {
                black: 500.0 + j as f32,
                scale: 1.0 / (15000.0 - j as f32),
                gain: 1.0 + (j % 3) as f32 * 0.7,
            })
            .collect();
        let block = LevelBlock {
            black: std::array::from_fn(|j| levels[j].black),
            scale: std::array::from_fn(|j| levels[j].scale),
            gain: std::array::from_fn(|j| levels[j].gain),
        };
        let top = 15001.0;
        let raw: Vec<u16> = (0..LANES * 7 + 5)
            .map(|i| ((i * 7919) % 17000) as u16)
            .chain([0, 499, 65535])
            .collect();
        let want: Vec<f32> = raw
            .iter()
            .enumerate()
            .map(|(i, &r)| levels[i % LANES].apply(f32::from(r), top))
            .collect();
        for f in [dispatch_levels(crate::cpu::Isa::detect()), levels_portable] {
            let mut lin = vec![0.0; raw.len()];
            let mut enc = vec![0.0; raw.len()];
            f(&raw, &block, top, &mut lin, Some(&mut enc));
            assert_eq!(lin, want);
            let roots: Vec<f32> = want
                .iter()
                .map(|&v| crate::demosaic::curve::sqrt_encode(v))
                .collect();
            assert_eq!(enc, roots);
            let mut alone = vec![0.0; raw.len()];
            f(&raw, &block, top, &mut alone, None);
            assert_eq!(alone, want);
        }
    }
}
