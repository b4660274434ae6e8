//! Exposure: scale linear light by 2^EV.

use rayon::prelude::*;

use crate::image::RgbF32;

/// Multiply by 2^`ev` and clip every channel to [0, 1].
pub fn apply_exposure(image: &mut RgbF32, ev: f32) {
    let gain = ev.exp2();
    image.data.par_chunks_mut(3 * 4096).for_each(|chunk| {
        for v in chunk {
            *v = (*v * gain).clamp(0.0, 1.0);
        }
    });
}

/// The linear gain of `ev` stops.
pub fn gain(ev: f32) -> f32 {
    ev.exp2()
}

/// Multiply by 2^`ev`, keeping values above 1 (for a later tone curve) and
/// replacing non-finite values with 0.
pub fn apply_gain(image: &mut RgbF32, ev: f32) {
    let gain = gain(ev);
    image.data.par_chunks_mut(3 * 4096).for_each(|chunk| {
        for v in chunk {
            let x = *v * gain;
            *v = if x.is_finite() { x } else { 0.0 };
        }
    });
}
