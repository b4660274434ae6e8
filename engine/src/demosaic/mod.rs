//! Demosaicing: from one colour per photosite to three per pixel.
//!
//! Input is a [`Mosaic`] after levels and white balance (0.0 black, 1.0 white,
//! each channel already scaled so that a neutral grey has equal values);
//! output is camera-space RGB of the same size, with every recorded sample
//! kept unchanged and all values in 0..=1.
//!
//! Methods by pattern:
//!
//! | method | Bayer (any phase) | X-Trans (any shift) |
//! |---|---|---|
//! | [`DemosaicMethod::Bilinear`] | bilinear | 3×3 neighbourhood mean |
//! | [`DemosaicMethod::Fast`] | RCD (ratio corrected), square-root encoded | Markesteijn-class, one pass (4 directions) + colour-difference median |
//! | [`DemosaicMethod::Best`] | directional LMMSE + median refinement and RCD, mixed per pixel by colour-difference activity | Markesteijn-class, three passes (8 candidates) + colour-difference median |
//!
//! Images smaller than a few CFA periods use a simple nearest-samples method.
//! Work runs on the caller's rayon pool, in row strips.
//!
//! ```
//! use rawflow::internals::demosaic::{demosaic, DemosaicMethod};
//! use rawflow::internals::cfa::{BayerPhase, Cfa};
//! use rawflow::internals::image::Mosaic;
//!
//! let mosaic = Mosaic {
//!     width: 16,
//!     height: 16,
//!     cfa: Cfa::bayer(BayerPhase::Rggb),
//!     data: vec![0.5; 256],
//! };
//! let rgb = demosaic(&mosaic, DemosaicMethod::Fast).unwrap();
//! assert!(rgb.pixel(7, 7).iter().all(|v| (v - 0.5).abs() < 1e-5));
//! ```

mod blend;
mod curve;
mod finish;
mod lmmse;
mod markesteijn;
pub mod quality;
mod rcd;
mod reduced;
mod simple;
mod source;
mod tile;

use crate::cpu::Isa;
use crate::error::{Error, Result};
use crate::image::{Mosaic, RgbF32};
use crate::stages::crop::ActiveArea;
use source::{RawSource, Source};

pub use reduced::demosaic_reduced;

/// Which demosaicing algorithm to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DemosaicMethod {
    /// Bilinear interpolation: the simplest correct method, a reference only.
    Bilinear,
    /// The default: a fast, directional, high-quality method (RCD on Bayer).
    #[default]
    Fast,
    /// The best quality this engine has, at a higher cost (on Bayer: LMMSE
    /// and RCD mixed per pixel by which leaves less false colour).
    Best,
}

impl DemosaicMethod {
    /// All methods.
    pub const ALL: [DemosaicMethod; 3] = [Self::Bilinear, Self::Fast, Self::Best];

    /// A short lower-case name ("bilinear", "fast", "best").
    pub fn name(self) -> &'static str {
        match self {
            Self::Bilinear => "bilinear",
            Self::Fast => "fast",
            Self::Best => "best",
        }
    }
}

/// Demosaic `mosaic` with `method` (the kernels of `Isa::process`).
///
/// Fails only when the mosaic's data does not match its size.
pub fn demosaic(mosaic: &Mosaic, method: DemosaicMethod) -> Result<RgbF32> {
    demosaic_for(mosaic, method, Isa::process())
}

/// [`demosaic`] with the kernels of `isa`.
pub(crate) fn demosaic_for(mosaic: &Mosaic, method: DemosaicMethod, isa: Isa) -> Result<RgbF32> {
    let expected = mosaic.width.checked_mul(mosaic.height);
    if expected != Some(mosaic.data.len()) {
        return Err(Error::InvalidParameter(format!(
            "mosaic of {}x{} has {} values",
            mosaic.width,
            mosaic.height,
            mosaic.data.len()
        )));
    }
    Ok(run_source(mosaic, method, isa))
}

/// Demosaic the raw active area directly: levels (black and `white`), white
/// balance `mult` and the clip at white are applied while tiles are read, so
/// no full-size intermediate mosaic is built. The result equals
/// [`crate::stages::levels::apply_levels`] → [`crate::stages::white_balance::apply`]
/// → [`demosaic`] up to rounding.
///
/// Fails when the area holds RGB (linear) data. Kernels are those of `isa`.
pub(crate) fn demosaic_area(
    area: &ActiveArea<'_>,
    white: f32,
    mult: [f32; 3],
    method: DemosaicMethod,
    isa: Isa,
) -> Result<RgbF32> {
    if area.samples_per_pixel() != 1 {
        return Err(Error::InvalidParameter(
            "demosaic_area needs mosaic (CFA) data".into(),
        ));
    }
    match RawSource::new(area, white, mult, isa) {
        Some(src) if takes_tiled_path(&area.cfa, src.width(), src.height()) => {
            Ok(run_source(&src, method, isa))
        }
        Some(src) => Ok(run_source(&src.to_mosaic(), method, isa)),
        None => {
            let mut data = crate::stages::levels::apply_levels(area, white);
            crate::stages::white_balance::apply(&mut data, mult);
            match data {
                crate::stages::levels::SensorData::Mosaic(m) => Ok(run_source(&m, method, isa)),
                crate::stages::levels::SensorData::Rgb(rgb) => Ok(rgb),
            }
        }
    }
}

/// Reduced-resolution demosaic of the raw active area (see [`demosaic_reduced`]),
/// with levels, white balance and the clip at white fused as in
/// [`demosaic_area`]. `None` for RGB data, unsupported patterns or tiny images.
pub(crate) fn demosaic_area_reduced(
    area: &ActiveArea<'_>,
    white: f32,
    mult: [f32; 3],
    isa: Isa,
) -> Option<RgbF32> {
    let src = RawSource::new(area, white, mult, isa)?;
    reduced::half(&src)
}

/// The block size of [`demosaic_reduced`] for `cfa` (2 for Bayer, 3 for X-Trans),
/// `None` when it has no reduced path.
pub fn reduced_block_size(cfa: &crate::cfa::Cfa) -> Option<usize> {
    reduced::block_size(cfa)
}

/// True when `AreaDemosaic::new` serves `area` with white level `white`:
/// mosaic data whose pattern the tile runner handles.
pub fn tiles_area(area: &ActiveArea<'_>, white: f32) -> bool {
    RawSource::new(area, white, [1.0; 3], Isa::PORTABLE)
        .is_some_and(|s| takes_tiled_path(&area.cfa, s.width(), s.height()))
}

/// True when the tiled kernels can run (square period, a few periods of data).
fn takes_tiled_path(cfa: &crate::cfa::Cfa, width: usize, height: usize) -> bool {
    let period = cfa.width();
    cfa.height() == period && width >= 4 * period.max(2) && height >= 4 * period.max(2)
}

/// Demosaic any source (an in-memory mosaic needs to be one for the tiny path).
fn run_source<S: Source + AsMosaic>(src: &S, method: DemosaicMethod, isa: Isa) -> RgbF32 {
    let cfa = src.cfa();
    if !takes_tiled_path(cfa, src.width(), src.height()) {
        return match src.as_mosaic() {
            Some(m) => simple::tiny(m),
            None => simple::tiny(&src.materialise()),
        };
    }
    tile::run(
        src,
        &*kernel_for(cfa, method, isa),
        finish::dispatch_finish(isa),
    )
}

/// The tiled kernel that runs `method` on `cfa` with the kernels of `isa`
/// (the caller has checked [`takes_tiled_path`]).
fn kernel_for(cfa: &crate::cfa::Cfa, method: DemosaicMethod, isa: Isa) -> Box<dyn tile::Kernel> {
    let colors = tile::phase_colors(cfa);
    let period = cfa.width();
    let bilinear = || -> Box<dyn tile::Kernel> { Box::new(simple::Bilinear::new(&colors, period)) };
    if cfa.bayer_phase().is_some() {
        match method {
            DemosaicMethod::Bilinear => bilinear(),
            DemosaicMethod::Fast => Box::new(tile::Encoded(rcd::Rcd::new(isa))),
            DemosaicMethod::Best => Box::new(blend::Blend::new(isa)),
        }
    } else if cfa.is_xtrans() {
        match method {
            DemosaicMethod::Bilinear => bilinear(),
            DemosaicMethod::Fast => Box::new(markesteijn::Markesteijn::new(&colors, 1)),
            DemosaicMethod::Best => Box::new(markesteijn::Markesteijn::new(&colors, 3)),
        }
    } else {
        bilinear()
    }
}

/// Demosaicing of the raw active area one rectangle at a time (levels, white
/// balance and the clip fused as in `demosaic_area`), for pipelines that
/// develop in strips instead of holding the whole image.
pub struct AreaDemosaic<'a> {
    src: RawSource<'a>,
    kernel: Box<dyn tile::Kernel>,
    finish_row: finish::FinishFn,
}

/// Reusable per-thread buffers of [`AreaDemosaic::rect`].
#[derive(Default)]
pub struct RectBuffers(tile::TileBufs);

impl<'a> AreaDemosaic<'a> {
    /// Prepare `method` over `area`; `None` when the area holds RGB data, its
    /// pattern cannot be tabulated, or it is too small for the tiled kernels
    /// (use [`demosaic_area`] then). Its kernels are resolved here, for `isa`.
    pub(crate) fn new(
        area: &'a ActiveArea<'a>,
        white: f32,
        mult: [f32; 3],
        method: DemosaicMethod,
        isa: Isa,
    ) -> Option<Self> {
        let src = RawSource::new(area, white, mult, isa)?;
        if !takes_tiled_path(&area.cfa, src.width(), src.height()) {
            return None;
        }
        let kernel = kernel_for(&area.cfa, method, isa);
        Some(Self {
            src,
            kernel,
            finish_row: finish::dispatch_finish(isa),
        })
    }

    /// Camera RGB of rows `y0..y0 + rows`, columns `x0..x0 + cols` of the area:
    /// exactly that rectangle of [`demosaic_area`]'s result. Fails when the
    /// rectangle is empty or leaves the area.
    pub fn rect(
        &self,
        (y0, rows): (usize, usize),
        (x0, cols): (usize, usize),
        bufs: &mut RectBuffers,
    ) -> Result<RgbF32> {
        let mut out = RgbF32::new(0, 0);
        self.rect_finished((y0, rows), (x0, cols), None, bufs, &mut out)?;
        Ok(out)
    }

    /// [`Self::rect`] into `out` (resized to the rectangle; its allocation is
    /// reused), with every pixel then multiplied by `matrix` and by `gain` in
    /// the same pass (a non-finite result becomes 0): the same values as
    /// [`crate::color::matrix::apply_matrix`] and
    /// [`crate::stages::exposure::apply_gain`] (with `gain = 2^ev`) give.
    pub fn rect_through(
        &self,
        (y0, rows): (usize, usize),
        (x0, cols): (usize, usize),
        (matrix, gain): (&crate::color::matrix::Matrix3, f32),
        bufs: &mut RectBuffers,
        out: &mut RgbF32,
    ) -> Result<()> {
        let finish = finish::Finish {
            matrix: *matrix,
            gain,
        };
        self.rect_finished((y0, rows), (x0, cols), Some(&finish), bufs, out)
    }

    fn rect_finished(
        &self,
        (y0, rows): (usize, usize),
        (x0, cols): (usize, usize),
        finish: Option<&finish::Finish>,
        bufs: &mut RectBuffers,
        out: &mut RgbF32,
    ) -> Result<()> {
        let inside = |p0: usize, n: usize, limit: usize| {
            n > 0 && p0.checked_add(n).is_some_and(|e| e <= limit)
        };
        if !inside(y0, rows, self.src.height()) || !inside(x0, cols, self.src.width()) {
            return Err(Error::InvalidParameter(format!(
                "rectangle {cols}x{rows} at ({x0}, {y0}) is not inside the {}x{} area",
                self.src.width(),
                self.src.height()
            )));
        }
        // Every value is written below: growing the buffer needs no zeroing
        // beyond what `resize` does for new capacity.
        out.width = cols;
        out.height = rows;
        out.data.resize(cols * rows * 3, 0.0);
        tile::run_rect(
            &self.src,
            &*self.kernel,
            self.finish_row,
            (y0, rows),
            (x0, cols),
            finish,
            &mut out.data,
            &mut bufs.0,
        );
        Ok(())
    }
}

/// Access to an in-memory mosaic, or a way to build one.
trait AsMosaic {
    fn as_mosaic(&self) -> Option<&Mosaic>;
    fn materialise(&self) -> Mosaic;
}

impl AsMosaic for Mosaic {
    fn as_mosaic(&self) -> Option<&Mosaic> {
        Some(self)
    }
    fn materialise(&self) -> Mosaic {
        self.clone()
    }
}

impl AsMosaic for RawSource<'_> {
    fn as_mosaic(&self) -> Option<&Mosaic> {
        None
    }
    fn materialise(&self) -> Mosaic {
        self.to_mosaic()
    }
}

#[cfg(test)]
mod tests;
