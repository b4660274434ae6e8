//! In-memory sRGB images (8 and 16 bit) and PNG input/output.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};

/// An 8-bit sRGB image, RGB interleaved, row by row, no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrgbImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` samples.
    pub data: Vec<u8>,
}

/// A 16-bit sRGB image (full range 0..=65535 maps to 0..=1), RGB interleaved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrgbImage16 {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` samples.
    pub data: Vec<u16>,
}

fn check_dims(width: usize, height: usize, len: usize) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidImage(format!("empty image {width}x{height}")));
    }
    let want = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(3))
        .ok_or_else(|| Error::InvalidImage(format!("{width}x{height} overflows")))?;
    if want != len {
        return Err(Error::InvalidImage(format!(
            "{width}x{height} RGB needs {want} samples, got {len}"
        )));
    }
    Ok(())
}

impl SrgbImage {
    /// Wraps a buffer, checking that its length is `width * height * 3`.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self> {
        check_dims(width, height, data.len())?;
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// An image filled with one colour.
    pub fn filled(width: usize, height: usize, rgb: [u8; 3]) -> Self {
        let mut data = Vec::with_capacity(width * height * 3);
        for _ in 0..width * height {
            data.extend_from_slice(&rgb);
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// An image whose pixel at (x, y) is `f(x, y)`.
    pub fn from_fn(
        width: usize,
        height: usize,
        mut f: impl FnMut(usize, usize) -> [u8; 3],
    ) -> Self {
        let mut data = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            for x in 0..width {
                data.extend_from_slice(&f(x, y));
            }
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// The pixel at (x, y), or `None` outside the image.
    pub fn get(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y * self.width + x) * 3;
        let p = self.data.get(i..i + 3)?;
        Some([p[0], p[1], p[2]])
    }

    /// Sets the pixel at (x, y); ignored outside the image.
    pub fn set(&mut self, x: usize, y: usize, rgb: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = (y * self.width + x) * 3;
            if let Some(p) = self.data.get_mut(i..i + 3) {
                p.copy_from_slice(&rgb);
            }
        }
    }

    /// Fills the rectangle `[x0, x0+w) x [y0, y0+h)` (clipped to the image).
    pub fn fill_rect(&mut self, x0: usize, y0: usize, w: usize, h: usize, rgb: [u8; 3]) {
        for y in y0..(y0 + h).min(self.height) {
            for x in x0..(x0 + w).min(self.width) {
                self.set(x, y, rgb);
            }
        }
    }

    /// Copies `src` into this image with its top-left corner at (x0, y0), clipped.
    pub fn blit(&mut self, src: &SrgbImage, x0: usize, y0: usize) {
        for y in 0..src.height {
            for x in 0..src.width {
                if let Some(p) = src.get(x, y) {
                    self.set(x0 + x, y0 + y, p);
                }
            }
        }
    }

    /// Widens to 16 bits (v * 257, exact).
    pub fn to_16bit(&self) -> SrgbImage16 {
        SrgbImage16 {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| u16::from(v) * 257).collect(),
        }
    }

    /// Encodes as an 8-bit RGB PNG.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        encode_png(self.width, self.height, png::BitDepth::Eight, &self.data)
    }

    /// Writes an 8-bit RGB PNG file.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        write_file(path.as_ref(), &self.to_png()?)
    }
}

impl SrgbImage16 {
    /// Wraps a buffer, checking that its length is `width * height * 3`.
    pub fn new(width: usize, height: usize, data: Vec<u16>) -> Result<Self> {
        check_dims(width, height, data.len())?;
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Narrows to 8 bits with rounding (v * 255 / 65535).
    pub fn to_8bit(&self) -> SrgbImage {
        SrgbImage {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| narrow16(v)).collect(),
        }
    }

    /// Encodes as a 16-bit RGB PNG.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let bytes: Vec<u8> = self.data.iter().flat_map(|v| v.to_be_bytes()).collect();
        encode_png(self.width, self.height, png::BitDepth::Sixteen, &bytes)
    }
}

fn narrow16(v: u16) -> u8 {
    // Round-to-nearest of v * 255 / 65535; the result is at most 255.
    ((u32::from(v) * 255 + 32767) / 65535) as u8
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn encode_png(width: usize, height: usize, depth: png::BitDepth, bytes: &[u8]) -> Result<Vec<u8>> {
    let w = u32::try_from(width).map_err(|_| Error::InvalidImage("too wide for PNG".into()))?;
    let h = u32::try_from(height).map_err(|_| Error::InvalidImage("too tall for PNG".into()))?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(depth);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header()?;
        writer.write_image_data(bytes)?;
        writer.finish()?;
    }
    Ok(out)
}

/// Decoded PNG samples at their native depth, expanded to RGB.
enum Decoded {
    Eight(usize, usize, Vec<u8>),
    Sixteen(usize, usize, Vec<u16>),
}

fn decode_png(bytes: &[u8]) -> Result<Decoded> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info()?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::UnsupportedPng("image too large".into()))?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf)?;
    let width = info.width as usize;
    let height = info.height as usize;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(Error::UnsupportedPng("palette was not expanded".into()))
        }
    };
    let bytes_per_sample = match info.bit_depth {
        png::BitDepth::Eight => 1,
        png::BitDepth::Sixteen => 2,
        d => {
            return Err(Error::UnsupportedPng(format!(
                "bit depth {d:?} after expansion"
            )))
        }
    };
    let line = info.line_size;
    let mut samples: Vec<u16> = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        let row = buf
            .get(y * line..y * line + width * channels * bytes_per_sample)
            .ok_or_else(|| Error::UnsupportedPng("short image data".into()))?;
        for px in row.chunks_exact(channels * bytes_per_sample) {
            let sample = |c: usize| -> u16 {
                if bytes_per_sample == 2 {
                    u16::from_be_bytes([px[2 * c], px[2 * c + 1]])
                } else {
                    u16::from(px[c])
                }
            };
            if channels < 3 {
                let g = sample(0);
                samples.extend_from_slice(&[g, g, g]);
            } else {
                samples.extend_from_slice(&[sample(0), sample(1), sample(2)]);
            }
        }
    }
    if bytes_per_sample == 2 {
        Ok(Decoded::Sixteen(width, height, samples))
    } else {
        Ok(Decoded::Eight(
            width,
            height,
            samples.into_iter().map(|v| v as u8).collect(),
        ))
    }
}

/// Decodes a PNG held in memory as 8-bit sRGB (grey is replicated, alpha
/// dropped, 16-bit samples rounded to 8 bits).
pub fn png_to_srgb8(bytes: &[u8]) -> Result<SrgbImage> {
    match decode_png(bytes)? {
        Decoded::Eight(w, h, d) => SrgbImage::new(w, h, d),
        Decoded::Sixteen(w, h, d) => Ok(SrgbImage16::new(w, h, d)?.to_8bit()),
    }
}

/// Decodes a PNG held in memory as 16-bit sRGB (8-bit samples are widened exactly).
pub fn png_to_srgb16(bytes: &[u8]) -> Result<SrgbImage16> {
    match decode_png(bytes)? {
        Decoded::Eight(w, h, d) => Ok(SrgbImage::new(w, h, d)?.to_16bit()),
        Decoded::Sixteen(w, h, d) => SrgbImage16::new(w, h, d),
    }
}

/// Loads a PNG file as 8-bit sRGB (see [`png_to_srgb8`]).
pub fn load_png(path: impl AsRef<Path>) -> Result<SrgbImage> {
    png_to_srgb8(&read_file(path.as_ref())?)
}

/// Loads a PNG file as 16-bit sRGB (see [`png_to_srgb16`]).
pub fn load_png16(path: impl AsRef<Path>) -> Result<SrgbImage16> {
    png_to_srgb16(&read_file(path.as_ref())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_8_and_16() {
        let img = SrgbImage::from_fn(5, 3, |x, y| [x as u8 * 50, y as u8 * 100, 7]);
        let back = png_to_srgb8(&img.to_png().unwrap()).unwrap();
        assert_eq!(back, img);
        let img16 = img.to_16bit();
        let back16 = png_to_srgb16(&img16.to_png().unwrap()).unwrap();
        assert_eq!(back16, img16);
        assert_eq!(png_to_srgb8(&img16.to_png().unwrap()).unwrap(), img);
    }

    #[test]
    fn bad_buffers_are_rejected() {
        assert!(SrgbImage::new(2, 2, vec![0; 11]).is_err());
        assert!(SrgbImage::new(0, 2, vec![]).is_err());
        assert!(png_to_srgb8(b"not a png").is_err());
    }
}
