//! Output transfer: linear light → the sRGB curve, quantised to 8 or 16 bits.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "aarch64")]
mod neon;

use std::sync::OnceLock;

use rayon::prelude::*;

use crate::cpu::Isa;
use crate::image::{Rgb16, Rgb8, RgbF32};

/// The sRGB transfer function (IEC 61966-2-1) of a linear value in [0, 1].
#[inline]
pub fn srgb_encode(linear: f32) -> f32 {
    let v = linear.clamp(0.0, 1.0);
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// The inverse of [`srgb_encode`].
#[inline]
pub fn srgb_decode(encoded: f32) -> f32 {
    let v = encoded.clamp(0.0, 1.0);
    if v <= 0.040_45 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear values are looked up at this many steps (16 bits).
const LUT_STEPS: usize = 65536;

fn lut16() -> &'static [u16] {
    static LUT: OnceLock<Vec<u16>> = OnceLock::new();
    LUT.get_or_init(|| {
        (0..LUT_STEPS)
            .map(|i| (srgb_encode(i as f32 / (LUT_STEPS - 1) as f32) * 65535.0).round() as u16)
            .collect()
    })
}

/// Steps of the 8-bit table: 16 KiB, so lookups stay in the L1 cache; a
/// step moves the output by at most 0.2 of a level (at black, where the
/// curve is steepest).
pub(crate) const LUT8_STEPS: usize = 16384;

/// The linear → 8-bit sRGB table (`LUT8_STEPS` values).
pub(crate) fn lut8() -> &'static [u8] {
    static LUT: OnceLock<Vec<u8>> = OnceLock::new();
    LUT.get_or_init(|| {
        (0..LUT8_STEPS)
            .map(|i| (srgb_encode(i as f32 / (LUT8_STEPS - 1) as f32) * 255.0).round() as u8)
            .collect()
    })
}

/// [`lut8`] widened to 32-bit values, for gathers.
pub(crate) fn lut8_wide() -> &'static [u32; LUT8_STEPS] {
    static LUT: OnceLock<Box<[u32; LUT8_STEPS]>> = OnceLock::new();
    LUT.get_or_init(|| {
        let narrow = lut8();
        Box::new(std::array::from_fn(|i| {
            u32::from(narrow.get(i).copied().unwrap_or(0))
        }))
    })
}

#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` keeps NaN; this must not.
fn index8(v: f32) -> usize {
    // NaN becomes 0 (`max` returns the other operand); 32-bit conversions
    // keep the vectorised block loop cheap.
    let x = v.max(0.0).min(1.0) * (LUT8_STEPS - 1) as f32 + 0.5;
    // SAFETY: `x` is finite and within 0.5..=LUT8_STEPS - 0.5, so it fits an
    // i32. (The checked `as` conversion does not vectorise.)
    let i: i32 = unsafe { x.to_int_unchecked() };
    i.clamp(0, LUT8_STEPS as i32 - 1) as usize
}

#[inline]
fn index(v: f32) -> usize {
    // NaN clamps to 0 through the `as` conversion.
    (v.clamp(0.0, 1.0) * (LUT_STEPS - 1) as f32 + 0.5) as usize
}

/// The linear → 8-bit sRGB lookup of [`to_srgb8`], for callers that
/// convert pixel by pixel.
#[derive(Clone, Copy)]
pub(crate) struct Srgb8Lut(&'static [u8]);

impl Srgb8Lut {
    pub(crate) fn get() -> Self {
        Self(lut8())
    }

    /// One linear value → 8-bit sRGB.
    #[inline(always)]
    pub(crate) fn of(self, v: f32) -> u8 {
        self.0.get(index8(v)).copied().unwrap_or(0)
    }
}

/// Pixels per block of [`matrix_to_srgb8`].
const BLOCK: usize = 256;

/// Interleaved RGB through matrix `m`, then the 8-bit sRGB curve: `dst` gets
/// one byte per value of `src` (whole pixels; a partial pixel at the end is
/// left alone). The same values as `Srgb8Lut::of(m · p)` per pixel.
///
/// Works in blocks: first every table index of a block (matrix, clamp, scale:
/// plain arithmetic the compiler vectorises), then the table reads.
/// `#[inline(always)]` so that the kernels of `dispatch_matrix_srgb8`
/// compile their own copy.
#[inline(always)]
pub(crate) fn matrix_to_srgb8(m: &[[f32; 3]; 3], src: &[f32], dst: &mut [u8]) {
    let lut: &[u8; LUT8_STEPS] = match lut8().try_into() {
        Ok(t) => t,
        Err(_) => return,
    };
    let mut idx = [[0u16; BLOCK]; 3];
    for (s, d) in src.chunks(3 * BLOCK).zip(dst.chunks_mut(3 * BLOCK)) {
        let n = s.len().min(d.len()) / 3;
        let [ir, ig, ib] = &mut idx;
        for (((p, r), g), b) in s
            .chunks_exact(3)
            .zip(ir.iter_mut())
            .zip(ig.iter_mut())
            .zip(ib.iter_mut())
        {
            let px = [p[0], p[1], p[2]];
            let [vr, vg, vb] = m.map(|row| row[0] * px[0] + row[1] * px[1] + row[2] * px[2]);
            *r = index8(vr) as u16;
            *g = index8(vg) as u16;
            *b = index8(vb) as u16;
        }
        for (((o, &r), &g), &b) in d[..3 * n]
            .chunks_exact_mut(3)
            .zip(ir.iter())
            .zip(ig.iter())
            .zip(ib.iter())
        {
            o[0] = lut[usize::from(r).min(LUT8_STEPS - 1)];
            o[1] = lut[usize::from(g).min(LUT8_STEPS - 1)];
            o[2] = lut[usize::from(b).min(LUT8_STEPS - 1)];
        }
    }
}

/// The signature of [`matrix_to_srgb8`].
pub(crate) type MatrixSrgb8Fn = fn(&[[f32; 3]; 3], &[f32], &mut [u8]);

/// Matrix + 8-bit sRGB curve for `isa`: the hand-written AVX2 or NEON
/// kernel, or the portable one (their twin).
pub(crate) fn dispatch_matrix_srgb8(isa: Isa) -> MatrixSrgb8Fn {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        return avx2::matrix_to_srgb8_avx2;
    }
    #[cfg(target_arch = "aarch64")]
    if isa.neon() {
        return neon::matrix_to_srgb8_neon;
    }
    let _ = isa;
    matrix_to_srgb8
}

/// The linear → 16-bit sRGB lookup of [`to_srgb16`].
#[derive(Clone, Copy)]
pub(crate) struct Srgb16Lut(&'static [u16]);

impl Srgb16Lut {
    pub(crate) fn get() -> Self {
        Self(lut16())
    }

    /// One linear value → 16-bit sRGB.
    #[inline(always)]
    pub(crate) fn of(self, v: f32) -> u16 {
        self.0.get(index(v)).copied().unwrap_or(0)
    }
}

/// Linear RGB → 8-bit sRGB.
pub fn to_srgb8(image: &RgbF32) -> Rgb8 {
    let lut = Srgb8Lut::get();
    let mut data = vec![0u8; image.data.len()];
    data.par_chunks_mut(3 * 4096)
        .zip(image.data.par_chunks(3 * 4096))
        .for_each(|(o, i)| {
            for (o, v) in o.iter_mut().zip(i) {
                *o = lut.of(*v);
            }
        });
    Rgb8 {
        width: image.width,
        height: image.height,
        data,
    }
}

/// Linear RGB → 16-bit sRGB.
pub fn to_srgb16(image: &RgbF32) -> Rgb16 {
    let lut = lut16();
    let mut data = vec![0u16; image.data.len()];
    data.par_chunks_mut(3 * 4096)
        .zip(image.data.par_chunks(3 * 4096))
        .for_each(|(o, i)| {
            for (o, v) in o.iter_mut().zip(i) {
                *o = lut[index(*v).min(LUT_STEPS - 1)];
            }
        });
    Rgb16 {
        width: image.width,
        height: image.height,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On aarch64 the NEON twin is the kernel dispatched.
    #[cfg(target_arch = "aarch64")]
    #[test]
    fn neon_srgb8_is_dispatched_on_aarch64() {
        let isa = crate::cpu::Isa::detect();
        assert!(isa.neon());
        assert_eq!(
            dispatch_matrix_srgb8(isa) as usize,
            neon::matrix_to_srgb8_neon as MatrixSrgb8Fn as usize
        );
    }

    /// The dispatched 8-bit sRGB kernel and the portable one give the same
    /// bytes with NaN, infinities, signed zeros and out-of-range values at
    /// every position of a vector block.
    #[test]
    fn dispatched_srgb8_matches_the_portable_kernel_on_special_values() {
        let m = [[1.6, -0.4, -0.2], [-0.3, 1.5, -0.2], [0.0, -0.5, 1.5]];
        let special = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            0.0,
            1.0,
            1.5,
            -2.0,
        ];
        let src: Vec<f32> = (0..3 * 67)
            .map(|i| {
                if i % 5 == 0 {
                    special[(i / 5) % special.len()]
                } else {
                    ((i * 53) % 1103) as f32 / 1000.0
                }
            })
            .collect();
        for start in 0..3 {
            let s = &src[3 * start..];
            let mut a = vec![0u8; s.len()];
            let mut b = vec![0u8; s.len()];
            dispatch_matrix_srgb8(crate::cpu::Isa::detect())(&m, s, &mut a);
            matrix_to_srgb8(&m, s, &mut b);
            assert_eq!(a, b, "from pixel {start}");
        }
    }

    #[test]
    fn block_conversion_matches_pixel_by_pixel() {
        let m = [[1.6, -0.4, -0.2], [-0.3, 1.5, -0.2], [0.0, -0.5, 1.5]];
        let mut src: Vec<f32> = (0..3 * 700)
            .map(|i| ((i * 37) % 1201) as f32 / 1000.0 - 0.05)
            .collect();
        src.extend([f32::NAN, 2.0, -1.0]);
        let lut = Srgb8Lut::get();
        let want: Vec<u8> = src
            .chunks_exact(3)
            .flat_map(|p| m.map(|row| lut.of(row[0] * p[0] + row[1] * p[1] + row[2] * p[2])))
            .collect();
        // Every length, so that the vector blocks and the tail both run.
        for len in (0..=40).chain([src.len() - 3, src.len()]) {
            let len = len / 3 * 3;
            for f in [
                dispatch_matrix_srgb8(crate::cpu::Isa::detect()),
                matrix_to_srgb8,
            ] {
                let mut got = vec![0u8; len];
                f(&m, &src[..len], &mut got);
                assert_eq!(got, want[..len], "{len} values");
            }
        }
    }

    #[test]
    fn curve_round_trips_and_hits_known_points() {
        for i in 0..=255 {
            let e = i as f32 / 255.0;
            assert!((srgb_encode(srgb_decode(e)) - e).abs() < 1e-5);
        }
        assert!((srgb_encode(0.18) - 0.4614).abs() < 1e-3);
        assert!((srgb_encode(1.0) - 1.0).abs() < 1e-6);
        assert_eq!(srgb_encode(-1.0), 0.0);
    }

    #[test]
    fn quantised_outputs_match_the_curve() {
        let img = RgbF32 {
            width: 3,
            height: 1,
            data: vec![0.0, 0.18, 1.0, 0.5, f32::NAN, 2.0, 0.001, 0.01, 0.1],
        };
        let out8 = to_srgb8(&img);
        let want: Vec<u8> = img
            .data
            .iter()
            .map(|v| (srgb_encode(if v.is_nan() { 0.0 } else { *v }) * 255.0).round() as u8)
            .collect();
        for (a, b) in out8.data.iter().zip(&want) {
            assert!(a.abs_diff(*b) <= 1, "{:?} vs {:?}", out8.data, want);
        }
        assert_eq!(to_srgb16(&img).data[2], 65535);
    }
}
