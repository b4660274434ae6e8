//! Colour maths, no pixels of a development of its own: 3×3 matrices
//! ([`matrix`]), the illuminant locus ([`locus`]), DNG dual-illuminant
//! calibration ([`calibration`]), ICC profiles ([`icc`]), colour spaces and
//! the output transform ([`space`]), and transfer curves ([`transfer`]).

pub mod calibration;
pub mod icc;
pub mod locus;
pub mod matrix;
pub mod space;
pub mod transfer;
