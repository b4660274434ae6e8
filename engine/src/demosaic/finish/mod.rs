//! The last step of the tile runner: a kernel's output planes become
//! interleaved RGB pixels.
//!
//! For one output row: the planes are decoded to linear light (kernels that
//! work on square-root-encoded values) or clamped to 0..=1, every recorded photosite
//! gets its recorded value back, and the pixels are written interleaved,
//! optionally through a colour matrix and a gain (the strip path folds the
//! camera → working-space conversion and the exposure in here, saving a pass
//! over the image). Each step is a plain loop over contiguous slices, so the
//! compiler vectorises it; `dispatch_finish` compiles the whole row function
//! once per CPU feature level.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "aarch64")]
mod neon;

use super::curve::decode_row;
use crate::color::matrix::{channel, Matrix3};
use crate::cpu::Isa;
use crate::stages::exposure::scaled;

/// A colour matrix and a gain applied to every demosaiced pixel: each output
/// channel is `(m[c][0] * r + m[c][1] * g + m[c][2] * b) * gain`, and a
/// non-finite result becomes 0 — the same arithmetic, in the same order, as
/// [`crate::color::matrix::apply_matrix`] followed by
/// [`crate::stages::exposure::apply_gain`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Finish {
    /// Camera RGB → output RGB.
    pub matrix: Matrix3,
    /// Linear gain after the matrix (2^EV).
    pub gain: f32,
}

/// How a kernel laid out its planes' rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `planes[c][i]` is pixel `i` of the row.
    Plain,
    /// Each plane row holds its even columns, then its odd columns (`half`
    /// values each; see RCD), and pixel `i` of the row is column `x0 + i`.
    Split {
        /// Values per half row.
        half: usize,
        /// The tile column of the row's first pixel.
        x0: usize,
    },
}

/// One output row as the kernel left it.
pub(crate) struct RowIn<'a> {
    /// The kernel's R, G and B values for the row's pixels (laid out as
    /// `layout` says).
    pub planes: [&'a [f32]; 3],
    /// How `planes` are laid out.
    pub layout: Layout,
    /// The recorded (linear) photosite values of the same pixels.
    pub known: &'a [f32],
    /// Colour index of each position of one CFA period along this row.
    pub colors: &'a [usize],
    /// Position in that period of the row's first pixel.
    pub phase: usize,
    /// True when the planes hold square-root-encoded values.
    pub encoded: bool,
}

/// The signature of the dispatched row function.
pub(crate) type FinishFn = fn(&RowIn<'_>, Option<&Finish>, &mut [Vec<f32>; 3], &mut [f32]);

/// Write `row` into `dst` (`3 * row.known.len()` values), using `lin` as
/// scratch. `#[inline(always)]` so that every CPU-feature variant in
/// `dispatched!` compiles its own copy.
#[inline(always)]
pub(crate) fn finish_row(
    row: &RowIn<'_>,
    finish: Option<&Finish>,
    lin: &mut [Vec<f32>; 3],
    dst: &mut [f32],
) {
    let n = row.known.len();
    for (l, p) in lin.iter_mut().zip(row.planes) {
        l.resize(n, 0.0);
        let p = match row.layout {
            Layout::Plain => &p[..n],
            Layout::Split { half, x0 } => {
                // Back to plain order (into `dst`, which is overwritten below).
                let plain = &mut dst[..n];
                for (i, v) in plain.iter_mut().enumerate() {
                    let x = x0 + i;
                    *v = p[(x & 1) * half + (x >> 1)];
                }
                &*plain
            }
        };
        if row.encoded {
            decode_row(p, &mut l[..n]);
        } else {
            clamp(p, &mut l[..n]);
        }
    }
    // The recorded sample is kept exactly.
    let period = row.colors.len();
    for k in 0..period.min(n) {
        let c = row.colors[(row.phase + k) % period];
        let plane = &mut lin[c][..n];
        for x in (k..n).step_by(period) {
            plane[x] = row.known[x];
        }
    }
    let [r, g, b] = lin;
    match finish {
        None => interleave(&r[..n], &g[..n], &b[..n], &mut dst[..3 * n]),
        Some(f) => transform(&r[..n], &g[..n], &b[..n], f, &mut dst[..3 * n]),
    }
}

#[inline(always)]
fn clamp(src: &[f32], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s.clamp(0.0, 1.0);
    }
}

#[inline(always)]
fn interleave(r: &[f32], g: &[f32], b: &[f32], dst: &mut [f32]) {
    for (((px, &r), &g), &b) in dst.chunks_exact_mut(3).zip(r).zip(g).zip(b) {
        px[0] = r;
        px[1] = g;
        px[2] = b;
    }
}

#[inline(always)]
fn transform(r: &[f32], g: &[f32], b: &[f32], f: &Finish, dst: &mut [f32]) {
    let [m0, m1, m2] = f.matrix;
    let gain = f.gain;
    let out = |m: &[f32; 3], r: f32, g: f32, b: f32| scaled(channel(m, r, g, b), gain);
    for (((px, &r), &g), &b) in dst.chunks_exact_mut(3).zip(r).zip(g).zip(b) {
        px[0] = out(&m0, r, g, b);
        px[1] = out(&m1, r, g, b);
        px[2] = out(&m2, r, g, b);
    }
}

/// The portable tile-row finisher (what the per-ISA ones are tested against).
pub(crate) fn finish_portable(
    row: &RowIn<'_>,
    finish: Option<&Finish>,
    lin: &mut [Vec<f32>; 3],
    dst: &mut [f32],
) {
    finish_row(row, finish, lin, dst);
}

/// The tile-row finisher for `isa`: the hand-written AVX2 or NEON kernel, or
/// the portable one.
pub(crate) fn dispatch_finish(isa: Isa) -> FinishFn {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        return avx2::finish_row_avx2;
    }
    #[cfg(target_arch = "aarch64")]
    if isa.neon() {
        return neon::finish_row_neon;
    }
    let _ = isa;
    finish_portable
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On aarch64 the NEON twin is the kernel dispatched (its twin tests
    /// below then compare it with the portable code bit for bit).
    #[cfg(target_arch = "aarch64")]
    #[test]
    fn neon_finish_is_dispatched_on_aarch64() {
        let isa = crate::cpu::Isa::detect();
        assert!(isa.neon());
        assert_eq!(
            dispatch_finish(isa) as usize,
            neon::finish_row_neon as FinishFn as usize
        );
        assert_eq!(
            dispatch_finish(crate::cpu::Isa::PORTABLE) as usize,
            finish_portable as FinishFn as usize
        );
    }

    fn run(f: FinishFn, encoded: bool, finish: Option<&Finish>) -> Vec<f32> {
        run_row(f, encoded, finish, &[1, 0, 1, 2, 1, 1], 4, 203, None)
    }

    /// A row of `n` pixels through `f`; with `split = Some(x0)` the planes
    /// are handed over in the split layout, the row starting at column `x0`
    /// of a wider tile row (whose other columns hold junk).
    fn run_row(
        f: FinishFn,
        encoded: bool,
        finish: Option<&Finish>,
        colors: &[usize],
        phase: usize,
        n: usize,
        split: Option<usize>,
    ) -> Vec<f32> {
        let plane = |k: usize| -> Vec<f32> {
            (0..n)
                .map(|i| match (i * 7 + k) % 61 {
                    0 => f32::NAN,
                    1 => f32::INFINITY,
                    _ => ((i * 37 + k * 101) % 113) as f32 / 100.0 - 0.05,
                })
                .collect()
        };
        let (pr, pg, pb) = (plane(0), plane(1), plane(2));
        let known: Vec<f32> = (0..n).map(|i| (i % 7) as f32 / 7.0).collect();
        let (planes, layout) = match split {
            None => ([pr, pg, pb], Layout::Plain),
            Some(x0) => {
                let width = x0 + n + 12;
                let half = width.div_ceil(2);
                let to_split = |p: &[f32]| {
                    let mut out = vec![9.0; 2 * half];
                    for (i, &v) in p.iter().enumerate() {
                        let x = x0 + i;
                        out[(x & 1) * half + (x >> 1)] = v;
                    }
                    out
                };
                (
                    [to_split(&pr), to_split(&pg), to_split(&pb)],
                    Layout::Split { half, x0 },
                )
            }
        };
        let [pr, pg, pb] = &planes;
        let row = RowIn {
            planes: [pr, pg, pb],
            layout,
            known: &known,
            colors,
            phase,
            encoded,
        };
        let mut out = vec![0.0; 3 * n];
        f(&row, finish, &mut Default::default(), &mut out);
        out
    }

    #[test]
    fn dispatched_and_portable_rows_agree_and_keep_the_samples() {
        let finish = Finish {
            matrix: [[1.6, -0.4, -0.2], [-0.3, 1.5, -0.2], [0.0, -0.5, 1.5]],
            gain: 1.7,
        };
        for encoded in [false, true] {
            for fin in [None, Some(&finish)] {
                let a = run(dispatch_finish(crate::cpu::Isa::detect()), encoded, fin);
                let b = run(finish_portable, encoded, fin);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&b), "encoded {encoded}, finish {fin:?}");
                if fin.is_none() {
                    // Pixel 0 is at phase 4: green (index 1) keeps its sample.
                    assert_eq!(a[1], 0.0);
                    // Pixel 5 is at phase 3: blue keeps 5/7.
                    assert_eq!(a[5 * 3 + 2], 5.0 / 7.0);
                    assert!(a.iter().all(|v| v.is_nan() || (0.0..=1.0).contains(v)));
                }
            }
        }
    }

    /// Bayer rows (period 2, both phases, lengths around the vector width),
    /// plain or split (starting at an even or an odd column): the AVX2 kernel
    /// and the portable one give the plain portable result's bits.
    #[test]
    fn dispatched_and_portable_bayer_rows_agree() {
        let finish = Finish {
            matrix: [[1.6, -0.4, -0.2], [-0.3, 1.5, -0.2], [0.0, -0.5, 1.5]],
            gain: 1.7,
        };
        for colors in [[0, 1], [1, 2], [1, 0], [2, 1]] {
            for phase in [0, 1] {
                for n in [1, 7, 8, 9, 16, 203, 448] {
                    for encoded in [false, true] {
                        for fin in [None, Some(&finish)] {
                            let what = format!("{colors:?} phase {phase} n {n} {encoded} {fin:?}");
                            let bits =
                                |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                            let plain =
                                run_row(finish_portable, encoded, fin, &colors, phase, n, None);
                            for split in [None, Some(12), Some(13)] {
                                for f in
                                    [dispatch_finish(crate::cpu::Isa::detect()), finish_portable]
                                {
                                    let got = run_row(f, encoded, fin, &colors, phase, n, split);
                                    assert_eq!(bits(&got), bits(&plain), "{what} split {split:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
