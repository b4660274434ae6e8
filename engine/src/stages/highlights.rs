//! Highlights: what happens to values at and above the white level.
//!
//! White balance multiplies red and blue by factors ≥ 1, so a photosite that
//! saturated in every channel would come out magenta (green stuck at 1.0, red
//! and blue above it). Clipping every channel at 1.0 *after* white balance,
//! with the multipliers normalised so that the smallest is 1.0, makes blown
//! areas neutral white instead.

/// Clip every value to at most 1.0.
#[inline]
pub fn clip_to_white(values: &mut [f32]) {
    for v in values {
        *v = v.min(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturated_after_white_balance_becomes_neutral() {
        // A photosite triple at white, after multipliers (2.0, 1.0, 1.5).
        let mut px = [2.0, 1.0, 1.5];
        clip_to_white(&mut px);
        assert_eq!(px, [1.0, 1.0, 1.0]);
    }
}
