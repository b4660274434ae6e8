//! The development stages, each a small module with a typed input and output.
//!
//! In order: [`crop`] (sensor → active area), [`levels`] (raw units → 0..1),
//! [`white_balance`] (with [`highlights`] clipping or recovery), demosaic (in
//! [`crate::demosaic`]), [`color`] (camera → linear working space; [`calibration`] for files with
//! two colour matrices),
//! [`exposure`], [`tone`], [`user_crop`], [`orient`]; then per rendition
//! [`resize`], [`sharpen`], [`watermark`] and [`colorspace`] (working space →
//! output space; [`transfer`] holds the sRGB curve).

pub mod calibration;
pub mod color;
pub mod colorspace;
pub mod crop;
pub mod exposure;
pub mod highlights;
pub mod levels;
pub mod orient;
pub mod resize;
pub mod sharpen;
pub mod tone;
pub mod transfer;
pub mod user_crop;
pub mod watermark;
pub mod white_balance;
