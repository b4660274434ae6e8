//! Synthesis of raw sensor values from an sRGB ground truth, and the DNG file
//! that carries them.
//!
//! # The physics (exact, so a correct developer reproduces the truth)
//!
//! For every pixel of the truth image:
//! 1. 8-bit sRGB → linear with the exact sRGB curve ([`srgb_to_linear`]).
//! 2. linear sRGB → XYZ (D65) with [`SRGB_TO_XYZ`].
//! 3. XYZ → camera native: `cam = ColorMatrix1 · XYZ`.
//! 4. The camera neutral is `n = ColorMatrix1 · XYZ(D65 white)`; the file's
//!    AsShotNeutral is `n / max(n)`.
//! 5. The raw value of a photosite of colour k is
//!    `black + (white − black) · cam_k / max(n) · headroom`, plus optional
//!    noise, rounded to the nearest integer and clamped to `[black, white]`.
//!    With headroom 1, sRGB white lands exactly on the white level in the
//!    channel with the largest neutral.
//!
//! With a [`SceneLight`] (a dual-illuminant camera under a light other than
//! D65), steps 2–4 follow the DNG colour model instead:
//! 2'. the scene's XYZ under the light is the truth's XYZ (D65) adapted to the
//!     light's white `w` (a black body of the given temperature) with the
//!     linear Bradford transform, the adaptation DNG and ICC rendering undo;
//! 3'. `cam = CM(T) · XYZ`, where `CM(T)` interpolates ColorMatrix1 (Standard
//!     light A, 2856 K) and ColorMatrix2 (D65, 6504 K) with a weight linear in
//!     1/T, clamped outside them, exactly as the DNG specification tells a
//!     reader to;
//! 4'. the camera neutral is `CM(T) · w`.
//!
//! A reader that finds `T` from the AsShotNeutral, interpolates the matrices
//! and adapts the white back to D65 reproduces the truth; one that uses the
//! D65 matrix alone does not.
//!
//! Only the CFA colour of each photosite is kept. The sensor image is stored
//! *un-rotated*: the truth is first transformed by the inverse of the
//! Orientation tag (see [`crate::orientation`]), so that developing the file
//! and then applying its Orientation gives back the truth's geometry. The CFA
//! pattern and the per-position black levels refer to the stored (sensor)
//! layout.

use crate::camera::{Camera, CANON_EOS_5D_MARK_II};
#[cfg(doc)]
use crate::color::srgb_to_linear;
use crate::color::{
    bradford, mul, mul_vec, planckian_xy, srgb8_to_linear_table, xy_to_xyz, Mat3, D65_WHITE_XYZ,
    SRGB_TO_XYZ,
};
use crate::error::{Error, Result};
use crate::image::SrgbImage;
use crate::noise::Rng;
use crate::orientation::{store_for_orientation, Orientation};
use crate::tiff::{tags, write_tiff, write_tiff_chunks, Ifd, Value};

/// The four 2×2 Bayer phases, named by their rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BayerPhase {
    /// R G / G B
    Rggb,
    /// B G / G R
    Bggr,
    /// G R / B G
    Grbg,
    /// G B / R G
    Gbrg,
}

impl BayerPhase {
    /// All four phases.
    pub const ALL: [BayerPhase; 4] = [Self::Rggb, Self::Bggr, Self::Grbg, Self::Gbrg];

    /// Row-major letters, e.g. "RGGB".
    pub fn name(self) -> &'static str {
        match self {
            Self::Rggb => "RGGB",
            Self::Bggr => "BGGR",
            Self::Grbg => "GRBG",
            Self::Gbrg => "GBRG",
        }
    }

    /// From a name such as "rggb" (case-insensitive).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }
}

/// The standard Fujifilm X-Trans 6×6 pattern, row by row.
pub const XTRANS_PATTERN: &str = "GGRGGBGGBGGRBRGRBGGGBGGRGGRGGBRBGBRG";

/// The colour filter array layout of the synthetic sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CfaLayout {
    /// A 2×2 Bayer pattern.
    Bayer(BayerPhase),
    /// The 6×6 X-Trans pattern [`XTRANS_PATTERN`].
    XTrans,
}

impl CfaLayout {
    /// (rows, columns) of the repeating pattern.
    pub fn dims(self) -> (usize, usize) {
        match self {
            Self::Bayer(_) => (2, 2),
            Self::XTrans => (6, 6),
        }
    }

    /// The pattern as letters, row by row ("RGGB", or the 36 X-Trans letters).
    pub fn name(self) -> &'static str {
        match self {
            Self::Bayer(p) => p.name(),
            Self::XTrans => XTRANS_PATTERN,
        }
    }

    /// The DNG CFAPattern bytes (0 = R, 1 = G, 2 = B), row by row.
    pub fn pattern(self) -> Vec<u8> {
        self.name()
            .bytes()
            .map(|c| match c {
                b'R' => 0,
                b'G' => 1,
                _ => 2,
            })
            .collect()
    }

    /// The colour index (0 R, 1 G, 2 B) of the photosite at (x, y).
    pub fn color_at(self, x: usize, y: usize) -> usize {
        let (rows, cols) = self.dims();
        let name = self.name().as_bytes();
        match name.get((y % rows) * cols + x % cols) {
            Some(b'R') => 0,
            Some(b'G') => 1,
            _ => 2,
        }
    }
}

/// Black levels: one for the whole sensor, or one per position in the 2×2
/// block (row major: (0,0), (1,0), (0,1), (1,1) as (x, y)), written with
/// BlackLevelRepeatDim = 2, 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlackLevels {
    /// One level everywhere.
    Uniform(u16),
    /// Per 2×2 position, row major.
    PerPosition([u16; 4]),
}

impl BlackLevels {
    /// The black level of the photosite at (x, y).
    pub fn at(self, x: usize, y: usize) -> u16 {
        match self {
            Self::Uniform(b) => b,
            Self::PerPosition(b) => b[(y & 1) * 2 + (x & 1)],
        }
    }

    fn max(self) -> u16 {
        match self {
            Self::Uniform(b) => b,
            Self::PerPosition(b) => b.into_iter().max().unwrap_or(0),
        }
    }
}

/// Sensor noise, in raw units (DN) above black: each photosite gets Gaussian
/// noise of variance `read_noise_dn² + shot_gain_dn · signal`, a Gaussian
/// approximation of read noise plus Poisson shot noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// Seed of the generator; the same seed gives the same file.
    pub seed: u64,
    /// Standard deviation of the signal-independent read noise, in DN.
    pub read_noise_dn: f64,
    /// DN per photo-electron (the shot-noise variance is this times the signal).
    pub shot_gain_dn: f64,
}

/// Capture metadata written as EXIF tags (for metadata pass-through tests).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureInfo {
    /// DateTimeOriginal, "YYYY:MM:DD HH:MM:SS" (also written as DateTime).
    pub date_time_original: String,
    /// ExposureTime in seconds, as numerator/denominator.
    pub exposure_time: (u32, u32),
    /// FNumber as numerator/denominator.
    pub f_number: (u32, u32),
    /// ISO speed.
    pub iso: u16,
    /// FocalLength in mm, as numerator/denominator.
    pub focal_length: (u32, u32),
    /// LensModel, if any.
    pub lens_model: Option<String>,
}

impl Default for CaptureInfo {
    fn default() -> Self {
        Self {
            date_time_original: "2024:06:01 12:34:56".into(),
            exposure_time: (1, 125),
            f_number: (56, 10),
            iso: 200,
            focal_length: (50, 1),
            lens_model: Some("Synthetic 50mm F1.4".into()),
        }
    }
}

/// Colour temperature of CIE Standard light A (CalibrationIlluminant 17), in kelvin.
pub const STD_A_KELVIN: f64 = 2856.0;
/// Colour temperature of CIE D65 (CalibrationIlluminant 21), in kelvin.
pub const D65_KELVIN: f64 = 6504.0;

/// A scene lit by a black body of `kelvin`, recorded by a camera with two
/// calibrations: the file gets ColorMatrix1 = `matrix_a_1e4` under Standard
/// light A and ColorMatrix2 = the camera's own (D65) matrix under D65.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SceneLight {
    /// Colour temperature of the light in kelvin (1667–25000).
    pub kelvin: f64,
    /// The camera's XYZ → camera matrix under Standard light A, × 10000,
    /// e.g. [`crate::camera::CANON_EOS_5D_MARK_II_STD_A_1E4`].
    pub matrix_a_1e4: [i32; 9],
}

impl SceneLight {
    /// The Canon EOS 5D Mark II's two Adobe matrices, under a black body of `kelvin`.
    pub fn canon_5d_mark_ii(kelvin: f64) -> Self {
        Self {
            kelvin,
            matrix_a_1e4: crate::camera::CANON_EOS_5D_MARK_II_STD_A_1E4,
        }
    }

    /// XYZ (Y = 1) of the light's white.
    pub fn white_xyz(&self) -> [f64; 3] {
        xy_to_xyz(planckian_xy(self.kelvin))
    }

    /// The weight of ColorMatrix1 (Standard light A) at the light's temperature.
    pub fn weight_a(&self) -> f64 {
        let t = self.kelvin;
        if t <= STD_A_KELVIN {
            1.0
        } else if t >= D65_KELVIN {
            0.0
        } else {
            (1.0 / t - 1.0 / D65_KELVIN) / (1.0 / STD_A_KELVIN - 1.0 / D65_KELVIN)
        }
    }
}

/// Everything that defines a synthetic raw file besides its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthParams {
    /// Colour filter array.
    pub cfa: CfaLayout,
    /// Significant bits of the raw values: 12, 14 or 16 (samples are always
    /// stored in 16-bit containers).
    pub bits: u8,
    /// Black level(s).
    pub black: BlackLevels,
    /// White (saturation) level; `None` means `2^bits − 1`.
    pub white: Option<u16>,
    /// Camera names and ColorMatrix1 (XYZ D65 → camera).
    pub camera: Camera,
    /// Orientation tag; the truth is stored un-rotated accordingly.
    pub orientation: Orientation,
    /// Optional seeded noise.
    pub noise: Option<Noise>,
    /// Exposure scale: 1.0 puts sRGB white at the white level in the channel
    /// with the largest neutral; below 1 leaves headroom (underexposes).
    pub headroom: f64,
    /// EXIF capture metadata.
    pub capture: CaptureInfo,
    /// A light other than D65 and a dual-illuminant file (`None`: D65 light,
    /// ColorMatrix1 = the camera's matrix under D65 only).
    pub light: Option<SceneLight>,
}

impl Default for SynthParams {
    /// RGGB, 14 bits, black 512, white 16383, Canon EOS 5D Mark II matrix,
    /// Orientation 1, no noise, headroom 1.
    fn default() -> Self {
        Self {
            cfa: CfaLayout::Bayer(BayerPhase::Rggb),
            bits: 14,
            black: BlackLevels::Uniform(512),
            white: None,
            camera: CANON_EOS_5D_MARK_II,
            orientation: Orientation::Normal,
            noise: None,
            headroom: 1.0,
            capture: CaptureInfo::default(),
            light: None,
        }
    }
}

impl SynthParams {
    /// The white level written to the file.
    pub fn white_level(&self) -> u16 {
        self.white
            .unwrap_or_else(|| ((1u32 << u32::from(self.bits.min(16))) - 1) as u16)
    }

    /// The XYZ → camera matrix of the capture: the camera's (D65) matrix, or
    /// with a [`SceneLight`] the interpolation of the A and D65 matrices at
    /// the light's temperature.
    pub fn capture_matrix(&self) -> Mat3 {
        let d65 = self.camera.color_matrix();
        let Some(light) = self.light else {
            return d65;
        };
        let a = Camera {
            color_matrix_1e4: light.matrix_a_1e4,
            ..self.camera
        }
        .color_matrix();
        let g = light.weight_a();
        let mut m = [[0.0; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = g * a[i][j] + (1.0 - g) * d65[i][j];
            }
        }
        m
    }

    /// XYZ of the light's white (Y = 1): D65, or the [`SceneLight`]'s.
    pub fn white_xyz(&self) -> [f64; 3] {
        self.light.map_or(D65_WHITE_XYZ, |l| l.white_xyz())
    }

    /// The camera neutral `capture matrix · XYZ(white)`, not normalised.
    pub fn camera_neutral(&self) -> [f64; 3] {
        mul_vec(&self.capture_matrix(), self.white_xyz())
    }

    /// AsShotNeutral: the camera neutral divided by its largest component.
    pub fn as_shot_neutral(&self) -> [f64; 3] {
        let n = self.camera_neutral();
        let m = n[0].max(n[1]).max(n[2]);
        [n[0] / m, n[1] / m, n[2] / m]
    }

    /// Checks that the parameters describe a writable, meaningful file.
    pub fn validate(&self) -> Result<()> {
        if ![12, 14, 16].contains(&self.bits) {
            return Err(Error::InvalidParams(format!(
                "bits must be 12, 14 or 16, not {}",
                self.bits
            )));
        }
        let max_code = (1u32 << u32::from(self.bits)) - 1;
        let white = self.white_level();
        if u32::from(white) > max_code {
            return Err(Error::InvalidParams(format!(
                "white level {white} exceeds {}-bit range",
                self.bits
            )));
        }
        if self.black.max() >= white {
            return Err(Error::InvalidParams(format!(
                "black level {} must be below white level {white}",
                self.black.max()
            )));
        }
        if !(self.headroom.is_finite() && self.headroom > 0.0) {
            return Err(Error::InvalidParams(format!(
                "headroom must be > 0, not {}",
                self.headroom
            )));
        }
        let n = self.camera_neutral();
        if n.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(Error::InvalidParams(format!(
                "camera neutral {n:?} must be positive in every channel"
            )));
        }
        if let Some(light) = self.light {
            if !(light.kelvin.is_finite() && (1667.0..=25000.0).contains(&light.kelvin)) {
                return Err(Error::InvalidParams(format!(
                    "scene light must be 1667–25000 K, not {}",
                    light.kelvin
                )));
            }
        }
        if let Some(noise) = self.noise {
            let ok = |v: f64| v.is_finite() && v >= 0.0;
            if !ok(noise.read_noise_dn) || !ok(noise.shot_gain_dn) {
                return Err(Error::InvalidParams(
                    "noise parameters must be finite and >= 0".into(),
                ));
            }
        }
        Ok(())
    }

    /// Rows of `capture matrix · adaptation · SRGB_TO_XYZ / max(n) · headroom`:
    /// linear sRGB → raw fraction of (white − black) per CFA colour.
    fn linear_to_raw_fraction(&self) -> [[f64; 3]; 3] {
        let n = self.camera_neutral();
        let m = n[0].max(n[1]).max(n[2]);
        let scene = match self.light {
            None => SRGB_TO_XYZ,
            Some(l) => mul(&bradford(D65_WHITE_XYZ, l.white_xyz()), &SRGB_TO_XYZ),
        };
        let a = mul(&self.capture_matrix(), &scene);
        a.map(|row| row.map(|v| v / m * self.headroom))
    }
}

/// A synthetic sensor image in stored (sensor) geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMosaic {
    /// Width in photosites.
    pub width: usize,
    /// Height in photosites.
    pub height: usize,
    /// One value per photosite, row by row.
    pub data: Vec<u16>,
}

/// Mosaics an image that is *already in sensor geometry* (no orientation
/// handling) following the module's physics.
pub fn mosaic(stored: &SrgbImage, params: &SynthParams) -> Result<RawMosaic> {
    params.validate()?;
    let (w, h) = (stored.width, stored.height);
    if w == 0 || h == 0 || stored.data.len() != w * h * 3 {
        return Err(Error::InvalidImage(format!("bad {w}x{h} image buffer")));
    }
    let lut = srgb8_to_linear_table();
    let frac = params.linear_to_raw_fraction();
    let white = f64::from(params.white_level());
    let (rows, cols) = params.cfa.dims();
    let colors: Vec<usize> = (0..rows * cols)
        .map(|i| params.cfa.color_at(i % cols, i / cols))
        .collect();
    let mut rng = params.noise.map(|n| (n, Rng::new(n.seed)));
    let mut data = Vec::with_capacity(w * h);
    for (y, row) in stored.data.chunks_exact(w * 3).enumerate() {
        let pattern_row = &colors[(y % rows) * cols..(y % rows + 1) * cols];
        for (x, px) in row.chunks_exact(3).enumerate() {
            let c = pattern_row[x % cols];
            let k = &frac[c];
            let lin = [
                lut[px[0] as usize],
                lut[px[1] as usize],
                lut[px[2] as usize],
            ];
            let black = f64::from(params.black.at(x, y));
            let mut signal = (white - black) * (k[0] * lin[0] + k[1] * lin[1] + k[2] * lin[2]);
            if let Some((n, rng)) = rng.as_mut() {
                let var = n.read_noise_dn * n.read_noise_dn + n.shot_gain_dn * signal.max(0.0);
                signal += var.sqrt() * rng.gaussian();
            }
            let v = (black + signal).round().clamp(black, white);
            data.push(v as u16);
        }
    }
    Ok(RawMosaic {
        width: w,
        height: h,
        data,
    })
}

/// The sensor image for a display-oriented truth: stores it un-rotated for
/// `params.orientation`, then mosaics it.
pub fn synthesize(truth: &SrgbImage, params: &SynthParams) -> Result<RawMosaic> {
    if params.orientation == Orientation::Normal {
        return mosaic(truth, params);
    }
    let stored = store_for_orientation(truth, params.orientation);
    mosaic(&stored, params)
}

fn rational(v: f64, den: u32) -> (u32, u32) {
    (
        (v * f64::from(den)).round().clamp(0.0, f64::from(u32::MAX)) as u32,
        den,
    )
}

fn to_u32(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::TooLarge(v as u64))
}

/// Serialises a sensor image as a DNG with `params`' metadata.
pub fn encode_dng(raw: &RawMosaic, params: &SynthParams) -> Result<Vec<u8>> {
    encode_dng_as(raw, params, &DngLayout::Uncompressed)
}

/// [`write_dng`] with the image data stored as `layout` says.
pub fn write_dng_as(
    truth: &SrgbImage,
    params: &SynthParams,
    layout: &DngLayout,
) -> Result<Vec<u8>> {
    encode_dng_as(&synthesize(truth, params)?, params, layout)
}

/// How a DNG stores its CFA samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DngLayout {
    /// One strip of 16-bit little-endian samples (Compression 1).
    Uncompressed,
    /// Lossless JPEG (Compression 7), in tiles or in strips.
    Ljpeg(LjpegLayout),
}

/// A lossless-JPEG DNG layout (Compression 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LjpegLayout {
    /// Tiles of this width and height (padded at the edges by repeating the
    /// last column and row); `None` for strips of the full width.
    pub tile: Option<(usize, usize)>,
    /// Rows per strip when not tiled (`None`: one strip for the image).
    pub rows_per_strip: Option<usize>,
    /// Interleaved components per JPEG line (1–4): 2 is the "two halves of
    /// the row side by side" coding DNG converters write for CFA data.
    pub components: usize,
    /// Chunk rows per JPEG line: 1, or 2 to code two rows as one line (the
    /// frame twice as wide and half as high, as some cameras write).
    pub rows_per_line: usize,
    /// Predictor selection value, 1–7.
    pub predictor: u8,
    /// A restart marker every this many JPEG lines (0: none).
    pub restart_lines: usize,
}

impl LjpegLayout {
    /// 256×256 tiles, two components, predictor 1: as DNG converters write.
    pub const TILED: Self = Self {
        tile: Some((256, 256)),
        rows_per_strip: None,
        components: 2,
        rows_per_line: 1,
        predictor: 1,
        restart_lines: 0,
    };
    /// The whole image as one lossless JPEG of two components (the layout of
    /// CR2 and lossless NEF).
    pub const STRIP: Self = Self {
        tile: None,
        rows_per_strip: None,
        components: 2,
        rows_per_line: 1,
        predictor: 1,
        restart_lines: 0,
    };
}

/// One chunk of `data` (`w` samples per row): columns `x0..x0 + cw`, rows
/// `y0..y0 + ch`, with columns and rows past the image repeating the last.
fn chunk(data: &[u16], w: usize, h: usize, x0: usize, y0: usize, cw: usize, ch: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(cw * ch);
    for y in y0..y0 + ch {
        let row = &data[y.min(h - 1) * w..(y.min(h - 1) + 1) * w];
        for x in x0..x0 + cw {
            out.push(row[x.min(w - 1)]);
        }
    }
    out
}

/// Serialises a sensor image as a DNG with `params`' metadata, its samples
/// stored as `layout` says.
pub fn encode_dng_as(raw: &RawMosaic, params: &SynthParams, layout: &DngLayout) -> Result<Vec<u8>> {
    params.validate()?;
    let (w, h) = (to_u32(raw.width)?, to_u32(raw.height)?);
    let (rows, cols) = params.cfa.dims();
    let cam = &params.camera;
    let mut ifd = Ifd::new();
    ifd.set(tags::NEW_SUBFILE_TYPE, Value::Long(vec![0]));
    ifd.set(tags::IMAGE_WIDTH, Value::Long(vec![w]));
    ifd.set(tags::IMAGE_LENGTH, Value::Long(vec![h]));
    let (bits, compression) = match layout {
        DngLayout::Uncompressed => (16, 1),
        DngLayout::Ljpeg(_) => (u16::from(params.bits), 7),
    };
    ifd.set(tags::BITS_PER_SAMPLE, Value::Short(vec![bits]));
    ifd.set(tags::COMPRESSION, Value::Short(vec![compression]));
    ifd.set(tags::PHOTOMETRIC, Value::Short(vec![32803]));
    ifd.set(tags::MAKE, Value::Ascii(cam.make.into()));
    ifd.set(tags::MODEL, Value::Ascii(cam.model.into()));
    ifd.set(
        tags::ORIENTATION,
        Value::Short(vec![params.orientation.tag()]),
    );
    ifd.set(tags::SAMPLES_PER_PIXEL, Value::Short(vec![1]));
    ifd.set(tags::ROWS_PER_STRIP, Value::Long(vec![h]));
    ifd.set(tags::PLANAR_CONFIGURATION, Value::Short(vec![1]));
    ifd.set(
        tags::SOFTWARE,
        Value::Ascii(concat!("rawflow-corpus ", env!("CARGO_PKG_VERSION")).into()),
    );
    ifd.set(
        tags::DATE_TIME,
        Value::Ascii(params.capture.date_time_original.clone()),
    );
    ifd.set(
        tags::CFA_REPEAT_PATTERN_DIM,
        Value::Short(vec![rows as u16, cols as u16]),
    );
    ifd.set(tags::CFA_PATTERN, Value::Byte(params.cfa.pattern()));
    ifd.set(tags::DNG_VERSION, Value::Byte(vec![1, 4, 0, 0]));
    ifd.set(tags::DNG_BACKWARD_VERSION, Value::Byte(vec![1, 1, 0, 0]));
    ifd.set(
        tags::UNIQUE_CAMERA_MODEL,
        Value::Ascii(cam.unique_model.into()),
    );
    ifd.set(tags::CFA_PLANE_COLOR, Value::Byte(vec![0, 1, 2]));
    ifd.set(tags::CFA_LAYOUT, Value::Short(vec![1]));
    match params.black {
        BlackLevels::Uniform(b) => {
            ifd.set(tags::BLACK_LEVEL_REPEAT_DIM, Value::Short(vec![1, 1]));
            ifd.set(tags::BLACK_LEVEL, Value::Short(vec![b]));
        }
        BlackLevels::PerPosition(b) => {
            ifd.set(tags::BLACK_LEVEL_REPEAT_DIM, Value::Short(vec![2, 2]));
            ifd.set(tags::BLACK_LEVEL, Value::Short(b.to_vec()));
        }
    }
    ifd.set(tags::WHITE_LEVEL, Value::Short(vec![params.white_level()]));
    ifd.set(tags::DEFAULT_CROP_ORIGIN, Value::Long(vec![0, 0]));
    ifd.set(tags::DEFAULT_CROP_SIZE, Value::Long(vec![w, h]));
    let matrix = |m: &[i32; 9]| Value::SRational(m.iter().map(|&v| (v, 10_000)).collect());
    match params.light {
        None => {
            ifd.set(tags::COLOR_MATRIX_1, matrix(&cam.color_matrix_1e4));
            ifd.set(tags::CALIBRATION_ILLUMINANT_1, Value::Short(vec![21]));
        }
        Some(light) => {
            ifd.set(tags::COLOR_MATRIX_1, matrix(&light.matrix_a_1e4));
            ifd.set(tags::CALIBRATION_ILLUMINANT_1, Value::Short(vec![17]));
            ifd.set(tags::COLOR_MATRIX_2, matrix(&cam.color_matrix_1e4));
            ifd.set(tags::CALIBRATION_ILLUMINANT_2, Value::Short(vec![21]));
        }
    }
    ifd.set(
        tags::AS_SHOT_NEUTRAL,
        Value::Rational(
            params
                .as_shot_neutral()
                .iter()
                .map(|&v| rational(v, 1_000_000_000))
                .collect(),
        ),
    );
    ifd.set(tags::ACTIVE_AREA, Value::Long(vec![0, 0, h, w]));

    let cap = &params.capture;
    let mut exif = Ifd::new();
    exif.set(
        tags::EXPOSURE_TIME,
        Value::Rational(vec![cap.exposure_time]),
    );
    exif.set(tags::F_NUMBER, Value::Rational(vec![cap.f_number]));
    exif.set(tags::ISO_SPEED, Value::Short(vec![cap.iso]));
    exif.set(tags::EXIF_VERSION, Value::Byte(b"0231".to_vec()));
    exif.set(
        tags::DATE_TIME_ORIGINAL,
        Value::Ascii(cap.date_time_original.clone()),
    );
    exif.set(tags::FOCAL_LENGTH, Value::Rational(vec![cap.focal_length]));
    if let Some(lens) = &cap.lens_model {
        exif.set(tags::LENS_MODEL, Value::Ascii(lens.clone()));
    }

    let l = match layout {
        DngLayout::Uncompressed => {
            let strip: Vec<u8> = raw.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            return write_tiff(ifd, Some(exif), &strip);
        }
        DngLayout::Ljpeg(l) => l,
    };
    let (rw, rh) = (raw.width, raw.height);
    let (tw, th) = match l.tile {
        Some((tw, th)) => (tw, th),
        None => (rw, l.rows_per_strip.unwrap_or(rh).clamp(1, rh)),
    };
    let bad = |m: String| Error::InvalidParams(m);
    if tw == 0 || th == 0 || l.rows_per_line == 0 || l.components == 0 {
        return Err(bad(format!("lossless JPEG layout {l:?}")));
    }
    let line_len = tw * l.rows_per_line;
    if line_len % l.components != 0 || th % l.rows_per_line != 0 && l.tile.is_some() {
        return Err(bad(format!("{tw}x{th} chunks cannot be coded as {l:?}")));
    }
    let jpeg = crate::ljpeg::LjpegParams {
        precision: params.bits,
        components: l.components,
        predictor: l.predictor,
        restart_lines: l.restart_lines,
    };
    let mut chunks = Vec::new();
    for y0 in (0..rh).step_by(th) {
        for x0 in (0..rw).step_by(tw) {
            // Strips end with the image; tiles are padded.
            let ch = if l.tile.is_some() {
                th
            } else {
                th.min(rh - y0)
            };
            if ch % l.rows_per_line != 0 {
                return Err(bad(format!(
                    "a strip of {ch} rows cannot be coded as {l:?}"
                )));
            }
            let samples = chunk(&raw.data, rw, rh, x0, y0, tw, ch);
            chunks.push(crate::ljpeg::encode(
                &samples,
                line_len,
                ch / l.rows_per_line,
                &jpeg,
            )?);
        }
    }
    let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
    if l.tile.is_some() {
        ifd.set(tags::TILE_WIDTH, Value::Long(vec![to_u32(tw)?]));
        ifd.set(tags::TILE_LENGTH, Value::Long(vec![to_u32(th)?]));
        ifd.remove(tags::ROWS_PER_STRIP);
        write_tiff_chunks(
            ifd,
            Some(exif),
            &refs,
            tags::TILE_OFFSETS,
            tags::TILE_BYTE_COUNTS,
        )
    } else {
        ifd.set(tags::ROWS_PER_STRIP, Value::Long(vec![to_u32(th)?]));
        write_tiff_chunks(
            ifd,
            Some(exif),
            &refs,
            tags::STRIP_OFFSETS,
            tags::STRIP_BYTE_COUNTS,
        )
    }
}

/// Makes a DNG whose correct development (then applying its Orientation) is
/// `truth`.
pub fn write_dng(truth: &SrgbImage, params: &SynthParams) -> Result<Vec<u8>> {
    encode_dng(&synthesize(truth, params)?, params)
}

/// How many colour samples of `truth` fall outside the camera's raw range
/// (negative, or above white) and are therefore clipped; 0 means a perfect
/// developer can reproduce the truth up to quantisation.
pub fn clipped_samples(truth: &SrgbImage, params: &SynthParams) -> Result<usize> {
    params.validate()?;
    let lut = srgb8_to_linear_table();
    let frac = params.linear_to_raw_fraction();
    let mut clipped = 0;
    for px in truth.data.chunks_exact(3) {
        let lin = [
            lut[px[0] as usize],
            lut[px[1] as usize],
            lut[px[2] as usize],
        ];
        for k in &frac {
            let f = k[0] * lin[0] + k[1] * lin[1] + k[2] * lin[2];
            if !(-1e-9..=1.0 + 1e-9).contains(&f) {
                clipped += 1;
            }
        }
    }
    Ok(clipped)
}
