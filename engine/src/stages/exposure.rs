//! Exposure: scale linear light by 2^EV, then clip to the displayable range.

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
