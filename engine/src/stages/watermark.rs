//! Watermarks: a PNG or a line of text (drawn with a tiny built-in 5×7 bitmap
//! font) blended over the image at a position, opacity and scale.
//!
//! Blending happens on linear working-space RGB: `out = (1 − a)·image + a·mark`
//! with `a` = the mark's alpha × opacity.

use std::path::PathBuf;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::color::space::srgb_to_working;
use crate::color::transfer::srgb_decode;
use crate::error::{Error, Result};
use crate::image::RgbF32;

/// Where the mark goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    /// Top-left corner.
    TopLeft,
    /// Top edge, centred.
    Top,
    /// Top-right corner.
    TopRight,
    /// Left edge, centred.
    Left,
    /// The centre.
    Center,
    /// Right edge, centred.
    Right,
    /// Bottom-left corner.
    BottomLeft,
    /// Bottom edge, centred.
    Bottom,
    /// Bottom-right corner (the default).
    #[default]
    BottomRight,
}

/// A watermark: `text` or `image` (a PNG file; takes precedence when both are set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Watermark {
    /// Text to draw (A–Z, 0–9 and common punctuation; lower case is drawn upper case).
    pub text: Option<String>,
    /// A PNG to draw (its alpha channel is respected).
    pub image: Option<PathBuf>,
    /// Placement.
    pub position: Position,
    /// 0 (invisible) to 1 (opaque).
    pub opacity: f32,
    /// Width of the mark as a fraction of the image width (0–1).
    pub scale: f32,
    /// Gap to the image edges as a fraction of the short edge.
    pub margin: f32,
    /// Text colour, 8-bit sRGB.
    pub color: [u8; 3],
}

impl Default for Watermark {
    fn default() -> Self {
        Self {
            text: None,
            image: None,
            position: Position::BottomRight,
            opacity: 0.5,
            scale: 0.25,
            margin: 0.03,
            color: [255, 255, 255],
        }
    }
}

/// A mark ready to blend: linear working-space RGB plus alpha per pixel.
#[derive(Debug, Clone)]
pub struct Mark {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// RGBA, linear working space, alpha 0–1.
    pub rgba: Vec<[f32; 4]>,
}

/// Glyph rows, 5 bits each (bit 4 = leftmost column), 7 rows.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ' ' => [0; 7],
        '.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        ',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        '-' => [0, 0, 0, 0x1F, 0, 0, 0],
        '_' => [0, 0, 0, 0, 0, 0, 0x1F],
        ':' => [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        '/' => [0x01, 0x02, 0x02, 0x04, 0x08, 0x08, 0x10],
        '!' => [0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04],
        '?' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
        '\'' => [0x04, 0x04, 0x08, 0, 0, 0, 0],
        '&' => [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D],
        '@' => [0x0E, 0x11, 0x17, 0x15, 0x17, 0x10, 0x0E],
        '©' => [0x0E, 0x11, 0x17, 0x15, 0x17, 0x11, 0x0E],
        _ => [0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F],
    }
}

/// The text as a 1-bit bitmap: (width, height, coverage per pixel).
pub fn text_bitmap(text: &str) -> (usize, usize, Vec<bool>) {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    if chars.is_empty() {
        return (0, 0, Vec::new());
    }
    let w = chars.len() * 6 - 1;
    let mut bits = vec![false; w * 7];
    for (i, c) in chars.iter().enumerate() {
        for (row, pattern) in glyph(*c).iter().enumerate() {
            for col in 0..5 {
                if pattern & (0x10 >> col) != 0 {
                    bits[row * w + i * 6 + col] = true;
                }
            }
        }
    }
    (w, 7, bits)
}

fn decode_png_rgba(bytes: &[u8]) -> Result<(usize, usize, Vec<[u8; 4]>)> {
    let err = |e: &dyn std::fmt::Display| Error::InvalidParameter(format!("watermark PNG: {e}"));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| err(&e))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| err(&"image too large"))?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(|e| err(&e))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(err(&"palette not expanded")),
    };
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = buf
            .get(y * info.line_size..y * info.line_size + w * channels)
            .ok_or_else(|| err(&"truncated"))?;
        for px in row.chunks_exact(channels) {
            out.push(match px {
                [g] => [*g, *g, *g, 255],
                [g, a] => [*g, *g, *g, *a],
                [r, g, b] => [*r, *g, *b, 255],
                [r, g, b, a] => [*r, *g, *b, *a],
                _ => [0; 4],
            });
        }
    }
    Ok((w, h, out))
}

fn to_working(rgb: [u8; 3]) -> [f32; 3] {
    let lin = rgb.map(|v| srgb_decode(f32::from(v) / 255.0));
    let m = srgb_to_working();
    [0, 1, 2].map(|i| m[i][0] * lin[0] + m[i][1] * lin[1] + m[i][2] * lin[2])
}

impl Watermark {
    fn check(&self) -> Result<()> {
        let ok = (0.0..=1.0).contains(&self.opacity)
            && self.scale > 0.0
            && self.scale <= 1.0
            && (0.0..0.5).contains(&self.margin);
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter(format!(
                "watermark opacity {} (0–1), scale {} (0–1] or margin {} (0–0.5) out of range",
                self.opacity, self.scale, self.margin
            )))
        }
    }

    /// The mark scaled for an image `image_width` pixels wide.
    pub fn mark(&self, image_width: usize) -> Result<Mark> {
        self.check()?;
        let target_w = ((image_width as f32 * self.scale).round() as usize).max(1);
        // Source: (w, h, rgba8 per pixel).
        let (sw, sh, src): (usize, usize, Vec<[u8; 4]>) = if let Some(path) = &self.image {
            let bytes = std::fs::read(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            decode_png_rgba(&bytes)?
        } else if let Some(text) = &self.text {
            let (w, h, bits) = text_bitmap(text);
            let [r, g, b] = self.color;
            let px = bits
                .iter()
                .map(|on| [r, g, b, if *on { 255 } else { 0 }])
                .collect();
            (w, h, px)
        } else {
            return Err(Error::InvalidParameter(
                "a watermark needs text or an image".into(),
            ));
        };
        if sw == 0 || sh == 0 {
            return Ok(Mark {
                width: 0,
                height: 0,
                rgba: Vec::new(),
            });
        }
        let target_h = ((target_w as f64 * sh as f64 / sw as f64).round() as usize).max(1);
        let mut rgba = Vec::with_capacity(target_w * target_h);
        for y in 0..target_h {
            let sy = (y * sh / target_h).min(sh - 1);
            for x in 0..target_w {
                let sx = (x * sw / target_w).min(sw - 1);
                let p = src.get(sy * sw + sx).copied().unwrap_or([0; 4]);
                let c = to_working([p[0], p[1], p[2]]);
                rgba.push([c[0], c[1], c[2], f32::from(p[3]) / 255.0]);
            }
        }
        Ok(Mark {
            width: target_w,
            height: target_h,
            rgba,
        })
    }

    /// Top-left corner of a `mw`×`mh` mark in a `w`×`h` image (may be negative-free clamped).
    pub fn origin(&self, w: usize, h: usize, mw: usize, mh: usize) -> (usize, usize) {
        let m = (w.min(h) as f32 * self.margin).round() as usize;
        let left = m;
        let right = w.saturating_sub(mw + m);
        let hcenter = w.saturating_sub(mw) / 2;
        let top = m;
        let bottom = h.saturating_sub(mh + m);
        let vcenter = h.saturating_sub(mh) / 2;
        match self.position {
            Position::TopLeft => (left, top),
            Position::Top => (hcenter, top),
            Position::TopRight => (right, top),
            Position::Left => (left, vcenter),
            Position::Center => (hcenter, vcenter),
            Position::Right => (right, vcenter),
            Position::BottomLeft => (left, bottom),
            Position::Bottom => (hcenter, bottom),
            Position::BottomRight => (right, bottom),
        }
    }

    /// Blend the watermark into `image` (linear working space).
    pub fn apply(&self, image: &mut RgbF32) -> Result<()> {
        let mark = self.mark(image.width)?;
        let (x0, y0) = self.origin(image.width, image.height, mark.width, mark.height);
        let (w, h) = (image.width, image.height);
        let opacity = self.opacity;
        image
            .data
            .par_chunks_mut(3 * w.max(1))
            .enumerate()
            .for_each(|(y, row)| {
                if y < y0 || y >= y0 + mark.height || y >= h {
                    return;
                }
                let my = y - y0;
                for mx in 0..mark.width {
                    let x = x0 + mx;
                    let (Some(px), Some(m)) = (
                        row.get_mut(x * 3..x * 3 + 3),
                        mark.rgba.get(my * mark.width + mx),
                    ) else {
                        continue;
                    };
                    let a = m[3] * opacity;
                    if a <= 0.0 {
                        continue;
                    }
                    for (v, c) in px.iter_mut().zip(&m[..3]) {
                        *v = *v * (1.0 - a) + c * a;
                    }
                }
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_renders_known_glyphs() {
        let (w, h, bits) = text_bitmap("I");
        assert_eq!((w, h), (5, 7));
        assert!(bits[2] && !bits[0], "top of I is 01110");
        assert_eq!(text_bitmap("AB").0, 11);
    }

    #[test]
    fn positions_land_in_the_right_corner() {
        let wm = Watermark {
            margin: 0.0,
            ..Watermark::default()
        };
        assert_eq!(wm.origin(100, 50, 10, 5), (90, 45));
        let tl = Watermark {
            position: Position::TopLeft,
            margin: 0.1,
            ..wm.clone()
        };
        assert_eq!(tl.origin(100, 50, 10, 5), (5, 5));
        let c = Watermark {
            position: Position::Center,
            ..wm
        };
        assert_eq!(c.origin(100, 50, 10, 5), (45, 22));
    }

    #[test]
    fn bad_settings_fail() {
        let wm = Watermark {
            text: Some("X".into()),
            opacity: 2.0,
            ..Watermark::default()
        };
        assert!(wm.mark(100).is_err());
        let none = Watermark::default();
        assert!(none.mark(100).is_err());
    }
}
