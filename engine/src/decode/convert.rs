//! Conversions both decoder back ends need when they build a [`RawImage`](crate::raw::RawImage).

use crate::metadata::Metadata;

/// Float samples (white at `white`, or at 1.0 when `white` ≤ 1) rescaled to
/// 16 bits. Returns the samples and the scale applied, for the black levels.
pub fn float_to_u16(values: &[f32], white: f32) -> (Vec<u16>, f32) {
    let scale = 65535.0 / if white > 1.0 { white } else { 1.0 };
    (
        values
            .iter()
            .map(|x| (x * scale).clamp(0.0, 65535.0) as u16)
            .collect(),
        scale,
    )
}

/// Fill make and model from the decoder when the file's EXIF lacked them.
pub fn fill_camera(metadata: &mut Metadata, make: &str, model: &str) {
    if metadata.make.is_none() && !make.is_empty() {
        metadata.make = Some(make.to_string());
    }
    if metadata.model.is_none() && !model.is_empty() {
        metadata.model = Some(model.to_string());
    }
}
