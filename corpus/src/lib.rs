//! Synthetic RAW test corpus with known ground truth, and a scorer.
//!
//! * [`image`]: 8/16-bit sRGB images and PNG I/O ([`load_png`]).
//! * [`scenes`]: procedural ground truths (colour charts, zone plate, ...).
//! * [`synth`]: the physics from sRGB truth to raw values, and the DNG writer
//!   ([`write_dng`]); [`camera`] holds real cameras' colour matrices.
//! * [`score`]: CPSNR, CIEDE2000 and exposure ratio of a developed image.
//!
//! This crate deliberately does not depend on the `rawflow` engine, so that
//! it stays an independent ground truth.
//!
//! ```
//! use rawflow_corpus::*;
//!
//! # fn main() -> rawflow_corpus::Result<()> {
//! let truth = scenes::color_chart(96, 64);
//! let params = SynthParams {
//!     cfa: CfaLayout::Bayer(BayerPhase::Gbrg),
//!     black: BlackLevels::PerPosition([512, 514, 510, 512]),
//!     orientation: Orientation::Rotate90Cw,
//!     ..SynthParams::default()
//! };
//! let dng: Vec<u8> = write_dng(&truth, &params)?;
//! assert!(dng.starts_with(b"II*\0"));
//! // ... develop `dng` with the engine, then:
//! let developed = truth.clone();
//! let s = score(&developed, &truth, score::DEFAULT_BORDER)?;
//! assert_eq!(s.cpsnr_db, score::CPSNR_CAP_DB);
//! # Ok(())
//! # }
//! ```

pub mod camera;
pub mod ciede2000;
pub mod color;
pub mod error;
pub mod image;
pub mod ljpeg;
pub mod location;
pub mod noise;
pub mod orientation;
pub mod scenes;
pub mod score;
pub mod synth;
pub mod tiff;

pub use camera::{
    Camera, CANON_EOS_5D_MARK_II, CANON_EOS_5D_MARK_II_STD_A_1E4, FUJIFILM_X_T2, NIKON_D700,
    SONY_ILCE_7M3,
};
pub use ciede2000::{ciede2000, Lab};
pub use error::{Error, Result};
pub use image::{load_png, load_png16, png_to_srgb16, png_to_srgb8, SrgbImage, SrgbImage16};
pub use location::{corpus_dir, corpus_file, full_corpus, kodak_path, note_skipped, shipped_dir};
pub use orientation::Orientation;
pub use score::{score, score16, score_any, Score};
pub use synth::{
    encode_dng_as, synthesize, write_dng, write_dng_as, BayerPhase, BlackLevels, CaptureInfo,
    CfaLayout, DngLayout, LjpegLayout, Noise, RawMosaic, SceneLight, SynthParams,
};

/// A `width × height` composite of the Kodak ground truths (`kodak_path`),
/// tiled row by row in order and cut at the edges: photographic content for
/// benchmarks (JPEG encoding time depends on content).
pub fn kodak_composite(width: usize, height: usize) -> Result<SrgbImage> {
    let images = (1..=24)
        .map(|n| load_png(kodak_path(n)))
        .collect::<Result<Vec<_>>>()?;
    let mut out = SrgbImage::filled(width, height, [0, 0, 0]);
    let (mut x, mut y, mut row_h, mut k) = (0, 0, 0, 0);
    while y < height {
        let img = &images[k % images.len()];
        out.blit(img, x, y);
        row_h = row_h.max(img.height);
        x += img.width;
        k += 1;
        if x >= width {
            x = 0;
            y += row_h;
            row_h = 0;
        }
    }
    Ok(out)
}
