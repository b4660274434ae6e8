//! Resize: fit the long edge to a size, in linear light, with Lanczos3.
//!
//! Kept in a module of its own: the generic `fast_image_resize` code it
//! instantiates dominates the engine's compile time.

use std::borrow::Cow;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{Filter, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::{Error, Result};
use crate::image::RgbF32;

/// Table steps per unit of the Lanczos3 kernel's argument.
const KERNEL_STEPS: usize = 4096;

/// The Lanczos3 kernel, `sinc(x) · sinc(x / 3)` for |x| < 3, read from a table
/// with linear interpolation (error below 1e-7). `fast_image_resize` evaluates
/// the kernel afresh for every call, and the strip path resizes every strip:
/// with two `sin` per tap that was 5 % of a studio job.
fn lanczos3(x: f64) -> f64 {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let sinc = |x: f64| {
            if x == 0.0 {
                1.0
            } else {
                let x = x * std::f64::consts::PI;
                x.sin() / x
            }
        };
        (0..=3 * KERNEL_STEPS + 1)
            .map(|i| {
                let x = i as f64 / KERNEL_STEPS as f64;
                if x < 3.0 {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            })
            .collect()
    });
    let f = x.abs() * KERNEL_STEPS as f64;
    if !(f < (3 * KERNEL_STEPS) as f64) {
        return 0.0;
    }
    let i = f as usize;
    match (table.get(i), table.get(i + 1)) {
        (Some(a), Some(b)) => a + (b - a) * (f - i as f64),
        _ => 0.0,
    }
}

/// Lanczos3 convolution with the tabulated kernel.
fn options() -> Result<ResizeOptions> {
    let filter = Filter::new("Lanczos3 (tabulated)", lanczos3, 3.0)
        .map_err(|e| Error::InvalidParameter(format!("resize filter: {e}")))?;
    Ok(ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Custom(filter))))
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
/// already has that size).
pub fn resize_to(image: &RgbF32, w: usize, h: usize) -> Result<Cow<'_, RgbF32>> {
    if (w, h) == (image.width, image.height) {
        return Ok(Cow::Borrowed(image));
    }
    let err = |e: &dyn std::fmt::Display| Error::InvalidParameter(format!("resize failed: {e}"));
    let bytes: &[u8] = as_bytes(&image.data);
    let src = ImageRef::new(
        image.width as u32,
        image.height as u32,
        bytes,
        PixelType::F32x3,
    )
    .map_err(|e| err(&e))?;
    let mut out = RgbF32::new(w, h);
    let mut dst = Image::from_slice_u8(
        w as u32,
        h as u32,
        as_bytes_mut(&mut out.data),
        PixelType::F32x3,
    )
    .map_err(|e| err(&e))?;
    Resizer::new()
        .resize(&src, &mut dst, &options()?)
        .map_err(|e| err(&e))?;
    for v in &mut out.data {
        *v = v.clamp(0.0, 1.0);
    }
    Ok(Cow::Owned(out))
}

/// Resize `image` horizontally to `width` (Lanczos3, no vertical pass, no
/// clipping) into `out` (`width * image.height * 3` values): the first pass of
/// [`resize_to`], for images produced a strip at a time.
pub fn resize_rows_into(image: &RgbF32, width: usize, out: &mut [f32]) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| Error::InvalidParameter(format!("resize failed: {e}"));
    if out.len() != width * image.height * 3 {
        return Err(Error::InvalidParameter(format!(
            "resize of {} rows to width {width} into {} values",
            image.height,
            out.len()
        )));
    }
    let src = ImageRef::new(
        image.width as u32,
        image.height as u32,
        as_bytes(&image.data),
        PixelType::F32x3,
    )
    .map_err(|e| err(&e))?;
    let mut dst = Image::from_slice_u8(
        width as u32,
        image.height as u32,
        as_bytes_mut(out),
        PixelType::F32x3,
    )
    .map_err(|e| err(&e))?;
    Resizer::new()
        .resize(&src, &mut dst, &options()?)
        .map_err(|e| err(&e))
}

fn as_bytes_mut(values: &mut [f32]) -> &mut [u8] {
    // SAFETY: as in `as_bytes`; every bit pattern written through the byte
    // view is also a valid f32, and the borrow is exclusive.
    unsafe {
        std::slice::from_raw_parts_mut(
            values.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(values),
        )
    }
}

fn as_bytes(values: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding and every bit pattern is a valid u8; the
    // slice covers exactly the same memory with alignment 1.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_upscales_and_keeps_aspect() {
        assert_eq!(fitted_size(6000, 4000, 2048), (2048, 1365));
        assert_eq!(fitted_size(4000, 6000, 2048), (1365, 2048));
        assert_eq!(fitted_size(800, 600, 2048), (800, 600));
    }

    #[test]
    fn tabulated_kernel_matches_lanczos3() {
        let exact = |x: f64| {
            let sinc = |x: f64| {
                if x == 0.0 {
                    1.0
                } else {
                    (x * std::f64::consts::PI).sin() / (x * std::f64::consts::PI)
                }
            };
            if (-3.0..3.0).contains(&x) {
                sinc(x) * sinc(x / 3.0)
            } else {
                0.0
            }
        };
        for i in -3100..=3100 {
            let x = i as f64 * 0.000_97;
            assert!((lanczos3(x) - exact(x)).abs() < 1e-7, "{x}");
        }
        assert_eq!(lanczos3(f64::NAN), 0.0);
        assert_eq!(lanczos3(7.0), 0.0);
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
