#![doc = include_str!("../../README.md")]
#![warn(missing_docs)]

pub mod cfa;
pub mod decode;
pub mod demosaic;
pub mod encode;
pub mod error;
pub mod image;
pub mod metadata;
pub mod pipeline;
pub mod raw;
pub mod recipe;
mod simd;
pub mod stages;
pub mod stream;
pub mod xmp;

pub use cfa::{BayerPhase, Cfa, CfaColor};
pub use decode::{
    decode_bytes, decode_bytes_with_limits, decode_file, decode_file_with_limits, Limits,
};
pub use demosaic::DemosaicMethod;
pub use error::{Error, Result};
pub use image::{Mosaic, Rgb16, Rgb8, RgbF32, RgbImage};
pub use metadata::{Gps, Metadata};
pub use pipeline::{
    develop_linear, develop_working, CropRect, DevelopOptions, Timings, WhiteBalance,
};
pub use raw::{Orientation, RawImage};
pub use recipe::{develop_recipe, MetadataPolicy, OutputFormat, Recipe, Rendered, Rendition};
pub use stages::colorspace::{ColorSpace, Intent};
