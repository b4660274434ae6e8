//! The development stages, one file per operation holding its parameters,
//! its whole-image function and the row kernel the fused paths call.
//!
//! In order: [`crop`] (sensor → active area), [`levels`] (raw units → 0..1),
//! [`white_balance`] (with [`highlights`] clipping or recovery), demosaic (a
//! layer of its own, above this one), the camera matrix (colour maths in
//! `color`), [`exposure`], [`tone`], [`user_crop`], [`orient`]; then per
//! rendition [`resize`], [`sharpen`], [`watermark`] and the output transform
//! (`color::space`).

pub mod crop;
pub mod exposure;
pub mod highlights;
pub mod levels;
pub mod orient;
pub mod resize;
pub mod sharpen;
pub mod tone;
pub mod user_crop;
pub mod watermark;
pub mod white_balance;
