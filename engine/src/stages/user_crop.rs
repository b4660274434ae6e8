//! User crop: keep a rectangle given as fractions of the image.

use crate::error::{Error, Result};
use crate::image::RgbF32;
use serde::{Deserialize, Serialize};

/// A crop as fractions (0–1) of the image *as stored* (before orientation),
/// like Lightroom's `crs:Crop*` fields.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropRect {
    /// Top edge.
    pub top: f32,
    /// Left edge.
    pub left: f32,
    /// Bottom edge.
    pub bottom: f32,
    /// Right edge.
    pub right: f32,
}

/// The pixel rectangle (x, y, width, height) of `c` in a `w`×`h` image.
pub fn crop_pixels(w: usize, h: usize, c: CropRect) -> Result<(usize, usize, usize, usize)> {
    let vals = [c.top, c.left, c.bottom, c.right];
    if vals
        .iter()
        .any(|v| !v.is_finite() || !(0.0..=1.0).contains(v))
        || c.bottom <= c.top
        || c.right <= c.left
    {
        return Err(Error::InvalidParameter(format!(
            "crop {c:?} is not a rectangle inside 0–1"
        )));
    }
    let x0 = (c.left * w as f32).round() as usize;
    let x1 = ((c.right * w as f32).round() as usize).min(w);
    let y0 = (c.top * h as f32).round() as usize;
    let y1 = ((c.bottom * h as f32).round() as usize).min(h);
    if x1 <= x0 || y1 <= y0 {
        return Err(Error::InvalidParameter(format!(
            "crop {c:?} leaves no pixels"
        )));
    }
    Ok((x0, y0, x1 - x0, y1 - y0))
}

/// `image` cropped to `c`.
pub fn crop_fraction(image: &RgbF32, c: CropRect) -> Result<RgbF32> {
    let (x, y, w, h) = crop_pixels(image.width, image.height, c)?;
    let mut data = Vec::with_capacity(w * h * 3);
    for row in y..y + h {
        let start = (row * image.width + x) * 3;
        let src = image
            .data
            .get(start..start + w * 3)
            .ok_or_else(|| Error::InvalidParameter("crop outside the image".into()))?;
        data.extend_from_slice(src);
    }
    Ok(RgbF32 {
        width: w,
        height: h,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_the_right_rectangle() {
        let mut img = RgbF32::new(10, 4);
        for (i, v) in img.data.iter_mut().enumerate() {
            *v = (i / 3) as f32;
        }
        let c = CropRect {
            top: 0.25,
            left: 0.2,
            bottom: 0.75,
            right: 0.5,
        };
        let out = crop_fraction(&img, c).unwrap();
        assert_eq!((out.width, out.height), (3, 2));
        assert_eq!(out.pixel(0, 0)[0], 12.0);
        assert!(crop_fraction(
            &img,
            CropRect {
                top: 0.5,
                left: 0.0,
                bottom: 0.4,
                right: 1.0
            }
        )
        .is_err());
    }
}
