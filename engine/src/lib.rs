#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

// The engine stacks in layers, each importing only from the ones above it
// in this list (checked by `tests/layers.rs`):
// error, cpu → cfa, metadata → image → raw → decode → color → encode →
// stages → demosaic → recipe → develop.
//
// Every module lives in the hidden `internals` module (for benches, tests
// and the tools in this workspace); the crate's public face is the short
// list of re-exports below.

/// The engine's modules, for its benches, tests and tools. Not part of the
/// public API: anything here may change in any release.
#[doc(hidden)]
#[path = "."]
pub mod internals {
    #[path = "cfa.rs"]
    pub mod cfa;
    #[path = "color/mod.rs"]
    pub mod color;
    #[path = "cpu.rs"]
    pub mod cpu;
    #[path = "decode/mod.rs"]
    pub mod decode;
    #[path = "demosaic/mod.rs"]
    pub mod demosaic;
    #[path = "develop/mod.rs"]
    pub mod develop;
    #[path = "encode/mod.rs"]
    pub mod encode;
    #[path = "error.rs"]
    pub mod error;
    #[path = "image.rs"]
    pub mod image;
    #[path = "metadata.rs"]
    pub mod metadata;
    #[path = "raw.rs"]
    pub mod raw;
    #[path = "recipe/mod.rs"]
    pub mod recipe;
    #[path = "stages/mod.rs"]
    pub mod stages;
}

use internals::{
    cfa, color, cpu, decode, demosaic, develop, encode, error, image, metadata, raw, recipe, stages,
};

pub use color::space::{ColorSpace, Intent};
pub use cpu::{cpu_features, kernels, Kernels, Simd};
pub use decode::{
    decode_bytes, decode_bytes_with_limits, decode_file, decode_file_with_limits, Limits,
};
pub use demosaic::DemosaicMethod;
pub use develop::develop;
pub use error::{Error, Result};
pub use metadata::{Gps, Metadata};
pub use raw::{Orientation, RawImage};
pub use recipe::xmp::{sidecar_path, Sidecar};
pub use recipe::{
    DevelopOptions, MetadataPolicy, OutputFormat, Recipe, Rendered, Rendition, Timings,
    BUILTIN_RECIPES,
};
pub use stages::highlights::HighlightMode;
pub use stages::sharpen::Sharpen;
pub use stages::tone::Tone;
pub use stages::user_crop::CropRect;
pub use stages::watermark::{Position, Watermark};
pub use stages::white_balance::WhiteBalance;
