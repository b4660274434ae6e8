//! Resize: fit the long edge to a size, in linear light, with Lanczos3.
//!
//! A separable resampler of its own: weights computed once per size pair,
//! a horizontal pass over rows (which the strip path runs on each strip while
//! it is in cache) and a vertical pass of weighted sums of whole rows, any
//! band of output rows on its own. The horizontal kernel reads two taps of
//! interleaved RGB per 8-lane vector (R G B R G B and two unused lanes)
//! against weights laid out the same way; its AVX2 twin does so for four rows
//! at a time, sharing each load of the weights. `fast_image_resize`, used
//! before, recomputed its weights on every call (two `sin` per tap, and the
//! strip path calls it per strip) and ran at about one multiply-add per cycle
//! on `F32x3`; its generic code was also most of the engine's compile time.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "aarch64")]
mod neon;

use std::borrow::Cow;

use rayon::prelude::*;

use crate::cpu::Isa;
use crate::error::{Error, Result};
use crate::image::RgbF32;

/// The Lanczos3 kernel, `sinc(x) · sinc(x / 3)` for |x| < 3.
fn lanczos3(x: f64) -> f64 {
    let sinc = |x: f64| {
        if x == 0.0 {
            1.0
        } else {
            let x = x * std::f64::consts::PI;
            x.sin() / x
        }
    };
    if x.abs() < 3.0 {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

/// The weights of a one-dimensional Lanczos3 resampling from `src` samples
/// to `dst`: output `j` is `Σ weight(j, k) · input(start(j) + k)` over
/// `k < taps`.
#[derive(Debug, Clone)]
pub(crate) struct Taps {
    /// Input samples.
    src: usize,
    /// Weights per output sample: even (zero-padded), so taps come in pairs.
    taps: usize,
    /// The first input sample of each output sample.
    start: Vec<usize>,
    /// `taps` weights per output sample, summing to 1.
    weights: Vec<f32>,
    /// The weights of each pair of taps spread over 8 lanes as
    /// `[a, a, a, b, b, b, 0, 0]`, for the interleaved-RGB row kernel.
    lanes: Vec<[f32; 8]>,
}

impl Taps {
    /// Lanczos3 from `src` to `dst` samples (both at least 1), pixel centres
    /// at `i + 0.5`; when shrinking, the kernel is stretched by the scale.
    pub(crate) fn lanczos3(src: usize, dst: usize) -> Self {
        let scale = src as f64 / dst.max(1) as f64;
        let stretch = scale.max(1.0);
        let support = 3.0 * stretch;
        let mut spans = Vec::with_capacity(dst);
        let mut taps = 0;
        for j in 0..dst {
            let centre = (j as f64 + 0.5) * scale;
            let lo = ((centre - support).floor().max(0.0) as usize).min(src.saturating_sub(1));
            let hi = ((centre + support).ceil() as usize).clamp(lo + 1, src.max(lo + 1));
            taps = taps.max(hi - lo);
            spans.push((centre, lo, hi));
        }
        let taps = taps.next_multiple_of(2);
        let mut start = Vec::with_capacity(dst);
        let mut weights = vec![0.0f32; dst * taps];
        for ((centre, lo, hi), w) in spans.into_iter().zip(weights.chunks_exact_mut(taps.max(1))) {
            // Start early enough that every tap lies inside the row (the
            // row kernels handle the last pixels, whose vectors would read
            // past it, one tap at a time).
            let s = lo.min(src.saturating_sub(taps));
            let raw: Vec<f64> = (lo..hi)
                .map(|i| lanczos3((i as f64 + 0.5 - centre) / stretch))
                .collect();
            let sum: f64 = raw.iter().sum();
            for (i, r) in (lo..hi).zip(raw) {
                if let Some(slot) = w.get_mut(i - s) {
                    *slot = if sum != 0.0 { (r / sum) as f32 } else { 0.0 };
                }
            }
            if sum == 0.0 {
                if let Some(slot) = w.get_mut(lo - s) {
                    *slot = 1.0;
                }
            }
            start.push(s);
        }
        let lanes = weights
            .chunks_exact(2)
            .map(|p| [p[0], p[0], p[0], p[1], p[1], p[1], 0.0, 0.0])
            .collect();
        Self {
            src,
            taps,
            start,
            weights,
            lanes,
        }
    }

    /// [`Taps::lanczos3`], refusing an empty side (`what` is resized: "rows"
    /// or "columns").
    fn checked(src: usize, dst: usize, what: &str) -> Result<Self> {
        if src == 0 || dst == 0 {
            return Err(Error::InvalidParameter(format!(
                "resize of {what} from {src} to {dst} pixels"
            )));
        }
        Ok(Self::lanczos3(src, dst))
    }

    /// Output samples.
    fn len(&self) -> usize {
        self.start.len()
    }
}

/// Output pixel `j` of one row of interleaved RGB: the portable kernel, and
/// the reference its AVX2 twin must match bit for bit. Lane `l` of an 8-lane
/// accumulator sums `x[l] · w[l]` over the pairs of taps in order (lanes 0–2
/// the even taps' R G B, 3–5 the odd taps'), then `R = acc[0] + acc[3]` and
/// so on.
#[inline(always)]
fn resample_pixel(taps: &Taps, j: usize, src: &[f32], o: &mut [f32]) {
    let pairs = taps.taps / 2;
    let base = 3 * taps.start[j];
    let lanes = &taps.lanes[j * pairs..][..pairs];
    let mut acc = [0.0f32; 8];
    if let Some(px) = src.get(base..base + 6 * pairs) {
        for (x, w) in px.chunks_exact(6).zip(lanes) {
            for l in 0..6 {
                acc[l] += x[l] * w[l];
            }
        }
    } else {
        for (p, w) in lanes.iter().enumerate() {
            for l in 0..6 {
                // Taps past the end of a tiny row have zero weight.
                if let Some(x) = src.get(base + 6 * p + l) {
                    acc[l] += x * w[l];
                }
            }
        }
    }
    o[0] = acc[0] + acc[3];
    o[1] = acc[1] + acc[4];
    o[2] = acc[2] + acc[5];
}

/// Whole rows of interleaved RGB (`3 · src` values each) resampled into the
/// rows of `out` (`3 · taps.len()` values each): the portable kernel.
pub(crate) fn resample_rows(taps: &Taps, src: &[f32], out: &mut [f32]) {
    let (sw, dw) = (3 * taps.src, 3 * taps.len());
    for (s, o) in src.chunks_exact(sw).zip(out.chunks_exact_mut(dw)) {
        for (j, px) in o.chunks_exact_mut(3).enumerate() {
            resample_pixel(taps, j, s, px);
        }
    }
}

/// `out[i] += weight · src[i]`. `#[inline(always)]` so that each CPU-feature
/// variant made by `dispatched!` compiles its own copy.
#[inline(always)]
pub(crate) fn add_weighted(weight: f32, src: &[f32], out: &mut [f32]) {
    for (o, &s) in out.iter_mut().zip(src) {
        *o += weight * s;
    }
}

/// The signature of [`add_weighted`].
pub(crate) type AddWeightedFn = fn(f32, &[f32], &mut [f32]);

crate::cpu::dispatched! {
    /// One weighted row of the vertical Lanczos3 pass for an instruction set.
    dispatch_add_weighted -> AddWeightedFn;
    add_weighted_portable(weight: f32, src: &[f32], out: &mut [f32]) {
        add_weighted(weight, src, out);
    }
    avx2 {
        add_weighted(weight, src, out);
    }
}

/// The signature of [`resample_rows`].
pub(crate) type ResampleRowsFn = fn(&Taps, &[f32], &mut [f32]);

/// Rows of the horizontal Lanczos3 pass for `isa`: the hand-written AVX2 or
/// NEON kernel, or their portable twin.
pub(crate) fn dispatch_resample_rows(isa: Isa) -> ResampleRowsFn {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        return avx2::resample_rows;
    }
    #[cfg(target_arch = "aarch64")]
    if isa.neon() {
        return neon::resample_rows_neon;
    }
    let _ = isa;
    resample_rows
}

/// The size that fits `(width, height)` into a long edge of `long_edge`, never larger than the input.
pub fn fitted_size(width: usize, height: usize, long_edge: u32) -> (usize, usize) {
    let long = width.max(height);
    let target = long_edge as usize;
    if target == 0 || target >= long {
        return (width, height);
    }
    let scale = target as f64 / long as f64;
    let fit = |v: usize| ((v as f64 * scale).round() as usize).max(1);
    if width >= height {
        (target, fit(height))
    } else {
        (fit(width), target)
    }
}

/// Scale `image` down so that its long edge is `long_edge` pixels; an image
/// already that small or smaller is returned as it is.
pub fn fit_long_edge(image: &RgbF32, long_edge: u32) -> Result<Cow<'_, RgbF32>> {
    let (w, h) = fitted_size(image.width, image.height, long_edge);
    resize_to(image, w, h)
}

/// Scale `image` to exactly `w` × `h` pixels (returned as it is when it
/// already has that size): the horizontal pass, then the vertical one, then
/// values clipped to 0..=1.
pub fn resize_to(image: &RgbF32, w: usize, h: usize) -> Result<Cow<'_, RgbF32>> {
    resize_for(image, w, h, Isa::process())
}

/// [`resize_to`] with the kernels of `isa`.
pub(crate) fn resize_for(image: &RgbF32, w: usize, h: usize, isa: Isa) -> Result<Cow<'_, RgbF32>> {
    if (w, h) == (image.width, image.height) {
        return Ok(Cow::Borrowed(image));
    }
    check(image, w, h)?;
    let narrow = if w == image.width {
        Cow::Borrowed(image)
    } else {
        let rows = RowResampler::new(image.width, w)?.for_isa(isa);
        let mut narrow = RgbF32::new(w, image.height);
        // Bands of rows in parallel.
        const BAND: usize = 16;
        narrow
            .data
            .par_chunks_mut(w * 3 * BAND)
            .zip(image.data.par_chunks(image.width * 3 * BAND))
            .for_each(|(o, s)| rows.rows(s, o));
        Cow::Owned(narrow)
    };
    let mut out = if h == image.height {
        narrow.into_owned()
    } else {
        vertical(&narrow, h, isa)?
    };
    clip(&mut out.data);
    Ok(Cow::Owned(out))
}

fn check(image: &RgbF32, w: usize, h: usize) -> Result<()> {
    if w == 0 || h == 0 || image.width == 0 || image.height == 0 {
        return Err(Error::InvalidParameter(format!(
            "resize from {}x{} to {w}x{h}",
            image.width, image.height
        )));
    }
    if image.data.len() != image.width * image.height * 3 {
        return Err(Error::InvalidParameter(
            "resize of a malformed image".into(),
        ));
    }
    Ok(())
}

/// The vertical pass: `image` (already at its final width) to `h` rows, rows
/// in parallel.
fn vertical(image: &RgbF32, h: usize, isa: Isa) -> Result<RgbF32> {
    let columns = ColumnResampler::new(image.height, h)?.for_isa(isa);
    let row_len = image.width * 3;
    let mut out = RgbF32::new(image.width, h);
    out.data
        .par_chunks_mut(row_len.max(1))
        .enumerate()
        .for_each(|(j, o)| columns.row(image, j, o));
    Ok(out)
}

/// Clip every value to 0..=1 (the last step of [`resize_to`]).
pub fn clip(values: &mut [f32]) {
    for v in values {
        *v = v.clamp(0.0, 1.0);
    }
}

/// The vertical pass from one height to another, weights computed once:
/// each output row is a weighted sum of input rows, so any band of output
/// rows can be made on its own (the strip path encodes bands in parallel).
#[derive(Debug, Clone)]
pub struct ColumnResampler {
    taps: Taps,
    src_height: usize,
    add: AddWeightedFn,
}

impl ColumnResampler {
    /// Lanczos3 from `src_height` to `dst_height` rows (the kernels of
    /// [`Isa::process`]).
    pub fn new(src_height: usize, dst_height: usize) -> Result<Self> {
        Ok(Self {
            taps: Taps::checked(src_height, dst_height, "columns")?,
            src_height,
            add: dispatch_add_weighted(Isa::process()),
        })
    }

    /// The same pass with the kernels of `isa`.
    pub(crate) fn for_isa(self, isa: Isa) -> Self {
        Self {
            add: dispatch_add_weighted(isa),
            ..self
        }
    }

    /// Output rows `first..` of `image` (of the source height), as many as
    /// `out` holds whole rows of `image.width` pixels, without clipping.
    pub fn rows_into(&self, image: &RgbF32, first: usize, out: &mut [f32]) -> Result<()> {
        let row_len = image.width * 3;
        let rows = out.len() / row_len.max(1);
        if image.height != self.src_height
            || row_len == 0
            || out.len() % row_len != 0
            || first + rows > self.taps.len()
        {
            return Err(Error::InvalidParameter(format!(
                "rows {first}..{} of a resize from {} to {} rows, from a {}x{} image",
                first + rows,
                self.src_height,
                self.taps.len(),
                image.width,
                image.height
            )));
        }
        for (k, o) in out.chunks_exact_mut(row_len).enumerate() {
            self.row(image, first + k, o);
        }
        Ok(())
    }

    /// Output row `j` into `o`.
    fn row(&self, image: &RgbF32, j: usize, o: &mut [f32]) {
        let add = self.add;
        let row_len = o.len();
        // Written before it is read: adding into fresh zero pages would fault
        // each of them twice (zero page, then copy on write, with a TLB flush
        // on every CPU).
        if self.src_height == self.taps.len() {
            // Same height: the rows as they are (as `resize_to` skips the pass).
            if let Some(src) = image.data.get(j * row_len..(j + 1) * row_len) {
                o.copy_from_slice(src);
            }
            return;
        }
        o.fill(0.0);
        let (taps, s) = (self.taps.taps, self.taps.start[j]);
        for (k, &wk) in self.taps.weights[j * taps..][..taps].iter().enumerate() {
            if let Some(src) = image.data.get((s + k) * row_len..(s + k + 1) * row_len) {
                if wk != 0.0 {
                    add(wk, src, o);
                }
            }
        }
    }
}

/// The horizontal pass from one width to another, weights computed once: the
/// strip path resamples every strip with it.
#[derive(Debug, Clone)]
pub struct RowResampler {
    taps: Taps,
    src_width: usize,
    kernel: ResampleRowsFn,
}

impl RowResampler {
    /// The whole rows of `src` into the rows of `out`.
    fn rows(&self, src: &[f32], out: &mut [f32]) {
        (self.kernel)(&self.taps, src, out);
    }

    /// Lanczos3 from `src_width` to `dst_width` pixels per row (the kernels
    /// of [`Isa::process`]).
    pub fn new(src_width: usize, dst_width: usize) -> Result<Self> {
        Ok(Self {
            taps: Taps::checked(src_width, dst_width, "rows")?,
            src_width,
            kernel: dispatch_resample_rows(Isa::process()),
        })
    }

    /// The same pass with the kernels of `isa`.
    pub(crate) fn for_isa(self, isa: Isa) -> Self {
        Self {
            kernel: dispatch_resample_rows(isa),
            ..self
        }
    }

    /// Every row of `image` (of the source width) resampled into `out`
    /// (`dst_width · image.height · 3` values), without clipping, on the
    /// calling thread.
    pub fn rows_into(&self, image: &RgbF32, out: &mut [f32]) -> Result<()> {
        let dst = self.taps.len() * 3;
        if image.width != self.src_width || out.len() != dst * image.height {
            return Err(Error::InvalidParameter(format!(
                "resize of {}x{} rows into {} values (expected width {}, {} values)",
                image.width,
                image.height,
                out.len(),
                self.src_width,
                dst * image.height
            )));
        }
        self.rows(&image.data, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On aarch64 the NEON twin is the kernel dispatched.
    #[cfg(target_arch = "aarch64")]
    #[test]
    fn neon_resize_is_dispatched_on_aarch64() {
        let isa = crate::cpu::Isa::detect();
        assert!(isa.neon());
        assert_eq!(
            dispatch_resample_rows(isa) as usize,
            neon::resample_rows_neon as ResampleRowsFn as usize
        );
    }

    #[test]
    fn never_upscales_and_keeps_aspect() {
        assert_eq!(fitted_size(6000, 4000, 2048), (2048, 1365));
        assert_eq!(fitted_size(4000, 6000, 2048), (1365, 2048));
        assert_eq!(fitted_size(800, 600, 2048), (800, 600));
    }

    #[test]
    fn weights_sum_to_one_and_stay_inside_the_input() {
        for (src, dst) in [
            (6000, 2048),
            (4000, 1365),
            (10, 3),
            (3, 1),
            (7, 7),
            (5, 9),
            (1, 1),
        ] {
            let t = Taps::lanczos3(src, dst);
            assert_eq!(t.len(), dst);
            assert_eq!(t.taps % 2, 0);
            for j in 0..dst {
                let w = &t.weights[j * t.taps..][..t.taps];
                let sum: f32 = w.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{src}->{dst} #{j}: {sum}");
                for (k, &x) in w.iter().enumerate() {
                    assert!(
                        x == 0.0 || t.start[j] + k < src,
                        "{src}->{dst} #{j} tap {k}"
                    );
                }
            }
        }
        // Halving: output 0 is centred between inputs 0 and 1.
        let t = Taps::lanczos3(8, 4);
        let w = &t.weights[..t.taps];
        let at = |i: usize| w[i - t.start[0]];
        assert!((at(0) - at(1)).abs() < 1e-6);
    }

    /// The portable kernel, the AVX2 one (blocks of four rows and single
    /// rows) and a plain tap-by-tap sum agree, on rows long enough for the
    /// vectors and on tiny ones.
    #[test]
    fn row_kernels_agree_with_the_plain_sum() {
        for (src, dst, height) in [
            (6000, 2048, 6),
            (613, 97, 9),
            (20, 7, 4),
            (4, 3, 5),
            (2, 1, 3),
        ] {
            let t = Taps::lanczos3(src, dst);
            let rows: Vec<f32> = (0..src * 3 * height)
                .map(|i| ((i * 37) % 101) as f32 / 100.0)
                .collect();
            let mut plain = vec![0.0f32; dst * 3 * height];
            for (row, out) in rows
                .chunks_exact(src * 3)
                .zip(plain.chunks_exact_mut(dst * 3))
            {
                for j in 0..dst {
                    for k in 0..t.taps {
                        let w = t.weights[j * t.taps + k];
                        for c in 0..3 {
                            if let Some(x) = row.get(3 * (t.start[j] + k) + c) {
                                out[3 * j + c] += w * x;
                            }
                        }
                    }
                }
            }
            let mut a = vec![0.0f32; dst * 3 * height];
            let mut b = vec![0.0f32; dst * 3 * height];
            resample_rows(&t, &rows, &mut a);
            dispatch_resample_rows(crate::cpu::Isa::detect())(&t, &rows, &mut b);
            assert_eq!(a, b, "{src}->{dst}");
            for (x, y) in a.iter().zip(&plain) {
                assert!((x - y).abs() < 1e-5, "{src}->{dst}: {x} vs {y}");
            }
        }
    }

    /// A fine sine pattern shrunk 3× comes out flat (no aliasing), and a
    /// slow ramp keeps its values.
    #[test]
    fn shrinking_filters_detail_and_keeps_ramps() {
        let (w, h) = (300, 60);
        let mut img = RgbF32::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let fine = 0.5 + 0.4 * (x as f32 * 2.0 * std::f32::consts::PI / 2.5).sin();
                let ramp = x as f32 / w as f32;
                img.data[(y * w + x) * 3] = fine;
                img.data[(y * w + x) * 3 + 1] = ramp;
                img.data[(y * w + x) * 3 + 2] = 0.3;
            }
        }
        let out = resize_to(&img, 100, 20).unwrap();
        for y in 0..20 {
            for x in 5..95 {
                let p = &out.data[(y * 100 + x) * 3..][..3];
                assert!((p[0] - 0.5).abs() < 0.03, "fine detail at {x}: {}", p[0]);
                assert!(
                    (p[1] - (x as f32 + 0.5) / 100.0).abs() < 0.01,
                    "ramp at {x}: {}",
                    p[1]
                );
                assert!((p[2] - 0.3).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn flat_grey_stays_grey() {
        let img = RgbF32 {
            width: 64,
            height: 32,
            data: vec![0.25; 64 * 32 * 3],
        };
        let out = fit_long_edge(&img, 16).unwrap();
        assert_eq!((out.width, out.height), (16, 8));
        assert!(out.data.iter().all(|v| (v - 0.25).abs() < 1e-4));
    }
}
