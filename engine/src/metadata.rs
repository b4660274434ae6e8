//! Capture metadata carried from the RAW file into the outputs' EXIF.

/// A positive rational number as EXIF stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rational {
    /// Numerator.
    pub num: u32,
    /// Denominator (never 0 in a valid value).
    pub den: u32,
}

impl Rational {
    /// The value as a float (0 when the denominator is 0).
    pub fn as_f64(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            f64::from(self.num) / f64::from(self.den)
        }
    }
}

/// What the camera recorded about the capture. Every field is optional: a RAW
/// file may lack any of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// Camera make, e.g. "Canon".
    pub make: Option<String>,
    /// Camera model, e.g. "Canon EOS 5D Mark II".
    pub model: Option<String>,
    /// Lens model.
    pub lens: Option<String>,
    /// Capture time in EXIF form, "YYYY:MM:DD HH:MM:SS".
    pub capture_date: Option<String>,
    /// Exposure time in seconds.
    pub exposure_time: Option<Rational>,
    /// Aperture as an f-number.
    pub f_number: Option<Rational>,
    /// ISO speed.
    pub iso: Option<u32>,
    /// Focal length in millimetres.
    pub focal_length: Option<Rational>,
    /// Creator / photographer (EXIF Artist).
    pub artist: Option<String>,
    /// Copyright notice (EXIF Copyright).
    pub copyright: Option<String>,
    /// Where the photo was taken.
    pub gps: Option<Gps>,
}

/// A GPS position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gps {
    /// Latitude in degrees, north positive.
    pub latitude: f64,
    /// Longitude in degrees, east positive.
    pub longitude: f64,
}
