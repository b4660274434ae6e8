//! The decoded, not yet developed, sensor image.

use crate::cfa::Cfa;
use crate::metadata::Metadata;

/// EXIF orientation: how the stored pixels must be turned to display upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Orientation {
    /// 1: as stored.
    #[default]
    Normal,
    /// 2: mirrored left-right.
    FlipHorizontal,
    /// 3: turned 180°.
    Rotate180,
    /// 4: mirrored top-bottom.
    FlipVertical,
    /// 5: mirrored along the main diagonal.
    Transpose,
    /// 6: turn 90° clockwise to display.
    Rotate90,
    /// 7: mirrored along the anti-diagonal.
    Transverse,
    /// 8: turn 90° counter-clockwise (270° clockwise) to display.
    Rotate270,
}

impl Orientation {
    /// From the EXIF/TIFF Orientation tag value; unknown values mean `Normal`.
    pub fn from_exif(value: u16) -> Self {
        match value {
            2 => Self::FlipHorizontal,
            3 => Self::Rotate180,
            4 => Self::FlipVertical,
            5 => Self::Transpose,
            6 => Self::Rotate90,
            7 => Self::Transverse,
            8 => Self::Rotate270,
            _ => Self::Normal,
        }
    }

    /// The EXIF/TIFF Orientation tag value.
    pub fn to_exif(self) -> u16 {
        match self {
            Self::Normal => 1,
            Self::FlipHorizontal => 2,
            Self::Rotate180 => 3,
            Self::FlipVertical => 4,
            Self::Transpose => 5,
            Self::Rotate90 => 6,
            Self::Transverse => 7,
            Self::Rotate270 => 8,
        }
    }

    /// True when applying it swaps width and height.
    pub fn swaps_axes(self) -> bool {
        matches!(
            self,
            Self::Transpose | Self::Rotate90 | Self::Transverse | Self::Rotate270
        )
    }
}

/// A rectangle in photosite coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
}

/// Per-photosite black levels, repeating over a small tile (1×1 when the
/// file has one level, 2×2 or the CFA's size when it has one per position).
#[derive(Debug, Clone, PartialEq)]
pub struct BlackLevels {
    /// Width of the repeating tile.
    pub width: usize,
    /// Height of the repeating tile.
    pub height: usize,
    /// Row-major levels in raw units.
    pub levels: Vec<f32>,
}

impl BlackLevels {
    /// One level everywhere.
    pub fn uniform(level: f32) -> Self {
        Self {
            width: 1,
            height: 1,
            levels: vec![level],
        }
    }

    /// The level at photosite (`row`, `col`) of the full image.
    #[inline]
    pub fn at(&self, row: usize, col: usize) -> f32 {
        self.levels
            .get((row % self.height.max(1)) * self.width + col % self.width.max(1))
            .copied()
            .unwrap_or(0.0)
    }

    /// The same levels seen from an origin moved by (`dx`, `dy`).
    pub fn shifted(&self, dx: usize, dy: usize) -> Self {
        let mut levels = Vec::with_capacity(self.levels.len());
        for r in 0..self.height {
            for c in 0..self.width {
                levels.push(self.at(r + dy, c + dx));
            }
        }
        Self {
            width: self.width,
            height: self.height,
            levels,
        }
    }
}

/// A colour matrix calibrated under one illuminant (DNG `ColorMatrixN` with
/// `CalibrationIlluminantN`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibratedMatrix {
    /// The EXIF/DNG LightSource code of the calibration illuminant
    /// (17 = Standard light A, 21 = D65, …).
    pub illuminant: u16,
    /// The illuminant's correlated colour temperature in kelvin.
    pub temperature: f32,
    /// XYZ → camera matrix under that illuminant, rows R, G, B, mapping to
    /// the values as stored: for a DNG, `AnalogBalance · CameraCalibrationN ·
    /// ColorMatrixN` (the interpolation of two such products equals the DNG
    /// specification's separate interpolation when the two CameraCalibration
    /// matrices are equal or absent, as they usually are).
    pub xyz_to_cam: [[f32; 3]; 3],
}

impl CalibratedMatrix {
    /// A calibration from a LightSource code and a row-major 3×3 matrix;
    /// `None` when the illuminant has no known colour temperature or the
    /// matrix is not finite or is all zero.
    pub fn new(illuminant: u16, xyz_to_cam: [[f32; 3]; 3]) -> Option<Self> {
        let temperature = illuminant_temperature(illuminant)?;
        let flat = xyz_to_cam.iter().flatten();
        let usable = flat.clone().all(|v| v.is_finite()) && flat.clone().any(|v| *v != 0.0);
        usable.then_some(Self {
            illuminant,
            temperature,
            xyz_to_cam,
        })
    }
}

/// The correlated colour temperature in kelvin of an EXIF/DNG LightSource
/// code (the `CalibrationIlluminant` values); `None` for 0 (unknown), 255
/// (other, described by a separate tag) and undefined codes.
///
/// The CIE illuminants use their own temperatures (A 2856 K, D50 5003 K, D55
/// 5503 K, D65 6504 K, D75 7504 K, B 4874 K, C 6774 K); the fluorescent
/// classes use the middle of their EXIF 2.3 ranges; the weather and flash
/// entries use the usual nominal values.
pub fn illuminant_temperature(code: u16) -> Option<f32> {
    Some(match code {
        1 => 5500.0,  // Daylight
        2 => 4150.0,  // Fluorescent (as cool white)
        3 => 2856.0,  // Tungsten (incandescent, as Standard light A)
        4 => 5500.0,  // Flash
        9 => 5500.0,  // Fine weather
        10 => 6500.0, // Cloudy weather
        11 => 7500.0, // Shade
        12 => 6400.0, // Daylight fluorescent, D 5700–7100 K
        13 => 5050.0, // Day white fluorescent, N 4600–5500 K
        14 => 4150.0, // Cool white fluorescent, W 3800–4500 K
        15 => 3525.0, // White fluorescent, WW 3250–3800 K
        16 => 2925.0, // Warm white fluorescent, L 2600–3250 K
        17 => 2856.0, // Standard light A
        18 => 4874.0, // Standard light B
        19 => 6774.0, // Standard light C
        20 => 5503.0, // D55
        21 => 6504.0, // D65
        22 => 7504.0, // D75
        23 => 5003.0, // D50
        24 => 3200.0, // ISO studio tungsten
        _ => return None,
    })
}

/// Two calibrations of one camera under two illuminants of different colour
/// temperature (the DNG dual-illuminant model).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DualIlluminant {
    /// The calibration under the lower colour temperature (usually Standard light A).
    pub low: CalibratedMatrix,
    /// The calibration under the higher colour temperature (usually D65).
    pub high: CalibratedMatrix,
}

impl DualIlluminant {
    /// The pair in either order; `None` when both illuminants have the same
    /// colour temperature (there is nothing to interpolate between).
    pub fn new(a: CalibratedMatrix, b: CalibratedMatrix) -> Option<Self> {
        let (low, high) = if a.temperature <= b.temperature {
            (a, b)
        } else {
            (b, a)
        };
        (high.temperature - low.temperature > 1.0).then_some(Self { low, high })
    }
}

/// The photosite values of a RAW file.
#[derive(Debug, Clone)]
pub enum RawPixels {
    /// One value per photosite (a CFA mosaic).
    Mosaic(Vec<u16>),
    /// Three values per pixel, already demosaiced ("linear raw" DNG).
    Rgb(Vec<u16>),
}

/// A decoded RAW file: sensor data plus what is needed to develop it.
#[derive(Debug, Clone)]
pub struct RawImage {
    /// Full sensor width in photosites (before cropping to `active_area`).
    pub width: usize,
    /// Full sensor height in photosites.
    pub height: usize,
    /// The values, row-major.
    pub pixels: RawPixels,
    /// Colour filter pattern relative to photosite (0, 0) of the full sensor.
    pub cfa: Cfa,
    /// Black levels relative to photosite (0, 0) of the full sensor.
    pub black: BlackLevels,
    /// White (saturation) level in raw units.
    pub white: f32,
    /// As-shot white balance multipliers for R, G, B (larger means more gain), if recorded.
    pub as_shot_wb: Option<[f32; 3]>,
    /// XYZ (D65) → camera matrix, rows R, G, B, if known.
    pub xyz_to_cam: Option<[[f32; 3]; 3]>,
    /// The file's two colour matrices with their calibration illuminants
    /// (DNG ColorMatrix1/2 and CalibrationIlluminant1/2), when it has two
    /// usable ones: colour then follows the white balance through the DNG
    /// interpolation of the colour calibration instead of using
    /// `xyz_to_cam` alone.
    pub dual_illuminant: Option<DualIlluminant>,
    /// The area of the sensor that holds the image.
    pub active_area: Rect,
    /// How to turn the image to display it upright.
    pub orientation: Orientation,
    /// File format the decoder saw, e.g. "DNG".
    pub format: String,
    /// Capture metadata.
    pub metadata: Metadata,
}

impl RawImage {
    /// Megapixels of the active area.
    pub fn megapixels(&self) -> f64 {
        (self.active_area.width * self.active_area.height) as f64 / 1e6
    }
}
