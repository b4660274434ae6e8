//! Development options: plain data (white balance, exposure, demosaic
//! method, highlights, tone, crop, orientation), and the per-stage timings a
//! development reports.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::cpu::Simd;
use crate::demosaic::DemosaicMethod;
use crate::raw::Orientation;
use crate::stages::highlights::HighlightMode;
use crate::stages::tone::Tone;
use crate::stages::user_crop::CropRect;
use crate::stages::white_balance::WhiteBalance;

/// Options for developing one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevelopOptions {
    /// White balance.
    pub white_balance: WhiteBalance,
    /// Exposure change in EV (stops).
    pub exposure_ev: f32,
    /// Demosaicing method.
    #[serde(with = "demosaic_name")]
    pub demosaic: DemosaicMethod,
    /// What happens to clipped highlights.
    pub highlights: HighlightMode,
    /// Tone and colour adjustments (neutral by default).
    pub tone: Tone,
    /// Crop of the stored image (from a sidecar; `None` = whole image).
    pub crop: Option<CropRect>,
    /// Orientation overriding the file's (from a sidecar).
    #[serde(skip)]
    pub orientation: Option<Orientation>,
    /// The largest output long edge the caller needs, if known. When it is at
    /// most half the sensor's long edge (a third for X-Trans) and the method is
    /// not [`DemosaicMethod::Best`] (full quality), development runs from a
    /// reduced-resolution demosaic ([`crate::demosaic::demosaic_reduced`]).
    /// `develop` sets it when every rendition is that
    /// small.
    pub target_long_edge: Option<u32>,
    /// Which kernels run: [`Simd::Auto`] (the CPU's fastest, unless the
    /// environment says `RAWFLOW_SIMD=portable`) or [`Simd::Portable`]. The
    /// pixels are the same either way. Not part of a recipe file.
    #[serde(skip)]
    pub simd: Simd,
}

impl Default for DevelopOptions {
    fn default() -> Self {
        Self {
            white_balance: WhiteBalance::AsShot,
            exposure_ev: 0.0,
            demosaic: DemosaicMethod::default(),
            highlights: HighlightMode::default(),
            tone: Tone::NEUTRAL,
            crop: None,
            orientation: None,
            target_long_edge: None,
            simd: Simd::Auto,
        }
    }
}

mod demosaic_name {
    use super::DemosaicMethod;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &DemosaicMethod, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(m.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DemosaicMethod, D::Error> {
        let name = String::deserialize(d)?;
        DemosaicMethod::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown demosaic method {name:?} (fast, best, bilinear)"
                ))
            })
    }
}

/// Seconds spent in each stage, in the order the stages ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings {
    /// (stage name, seconds) pairs.
    pub stages: Vec<(&'static str, f64)>,
}

impl Timings {
    /// Add the time since `start` to stage `name`, and restart the clock.
    pub fn lap(&mut self, name: &'static str, start: &mut Instant) {
        let now = Instant::now();
        let secs = now.duration_since(*start).as_secs_f64();
        match self.stages.iter_mut().find(|(n, _)| *n == name) {
            Some((_, s)) => *s += secs,
            None => self.stages.push((name, secs)),
        }
        *start = now;
    }

    /// Total seconds.
    pub fn total(&self) -> f64 {
        self.stages.iter().map(|(_, s)| s).sum()
    }
}
