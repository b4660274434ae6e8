//! Exposure: scale linear light by 2^EV.

use rayon::prelude::*;

use crate::image::RgbF32;

/// The linear gain of `ev` stops.
pub fn gain(ev: f32) -> f32 {
    ev.exp2()
}

/// One value times `gain`, a non-finite result replaced with 0: the arithmetic
/// of [`apply_gain`], which the strip path's tile finisher calls per value too.
#[inline(always)]
pub(crate) fn scaled(v: f32, gain: f32) -> f32 {
    let x = v * gain;
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Multiply by 2^`ev`, keeping values above 1 (for a later tone curve) and
/// replacing non-finite values with 0.
pub fn apply_gain(image: &mut RgbF32, ev: f32) {
    let gain = gain(ev);
    image.data.par_chunks_mut(3 * 4096).for_each(|chunk| {
        for v in chunk {
            *v = scaled(*v, gain);
        }
    });
}
