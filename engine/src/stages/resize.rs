//! Resize: fit the long edge to a size, in linear light, with Lanczos3.
//!
//! Kept in a module of its own: the generic `fast_image_resize` code it
//! instantiates dominates the engine's compile time.

use std::borrow::Cow;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::{Error, Result};
use crate::image::RgbF32;

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
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
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
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
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
