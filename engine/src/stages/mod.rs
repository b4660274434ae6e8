//! The development stages, each a small module with a typed input and output.
//!
//! In order: [`crop`] (sensor → active area), [`levels`] (raw units → 0..1),
//! [`white_balance`] (with [`highlights`] clipping), demosaic (in
//! [`crate::demosaic`]), [`color`] (camera → linear sRGB), [`exposure`],
//! [`orient`], [`resize`] and [`transfer`] (linear → sRGB 8/16 bit).

pub mod color;
pub mod crop;
pub mod exposure;
pub mod highlights;
pub mod levels;
pub mod orient;
pub mod resize;
pub mod transfer;
pub mod white_balance;
