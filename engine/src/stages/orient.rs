//! Orientation: turn the pixels upright as the EXIF Orientation tag says.

use crate::image::RgbImage;
use crate::raw::Orientation;

/// Return the image turned so that it displays upright without an Orientation tag.
pub fn apply_orientation<T: Copy + Default + Send + Sync>(
    image: RgbImage<T>,
    orientation: Orientation,
) -> RgbImage<T> {
    if orientation == Orientation::Normal {
        return image;
    }
    let (w, h) = (image.width, image.height);
    let (ow, oh) = if orientation.swaps_axes() {
        (h, w)
    } else {
        (w, h)
    };
    let mut out = RgbImage::new(ow, oh);
    // For each output pixel (x, y), find the source pixel.
    for y in 0..oh {
        for x in 0..ow {
            let (sx, sy) = source_of(orientation, w, h, x, y);
            let s = (sy * w + sx) * 3;
            let d = (y * ow + x) * 3;
            out.data[d..d + 3].copy_from_slice(&image.data[s..s + 3]);
        }
    }
    out
}

/// The stored pixel (x, y) shown at upright position (`x`, `y`) of an image
/// stored `w` × `h` with `orientation`.
#[inline]
pub fn source_of(
    orientation: Orientation,
    w: usize,
    h: usize,
    x: usize,
    y: usize,
) -> (usize, usize) {
    match orientation {
        Orientation::Normal => (x, y),
        Orientation::FlipHorizontal => (w - 1 - x, y),
        Orientation::Rotate180 => (w - 1 - x, h - 1 - y),
        Orientation::FlipVertical => (x, h - 1 - y),
        Orientation::Transpose => (y, x),
        Orientation::Rotate90 => (y, h - 1 - x),
        Orientation::Transverse => (w - 1 - y, h - 1 - x),
        Orientation::Rotate270 => (w - 1 - y, x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 image whose pixel values are their index.
    fn sample() -> RgbImage<u8> {
        RgbImage {
            width: 3,
            height: 2,
            data: (0..6).flat_map(|i| [i, i, i]).collect(),
        }
    }

    fn values(img: &RgbImage<u8>) -> Vec<u8> {
        img.data.chunks(3).map(|p| p[0]).collect()
    }

    #[test]
    fn rotate90_turns_clockwise() {
        // 0 1 2      3 0
        // 3 4 5  ->  4 1
        //            5 2
        let out = apply_orientation(sample(), Orientation::Rotate90);
        assert_eq!((out.width, out.height), (2, 3));
        assert_eq!(values(&out), vec![3, 0, 4, 1, 5, 2]);
    }

    #[test]
    fn rotate270_turns_counter_clockwise() {
        let out = apply_orientation(sample(), Orientation::Rotate270);
        assert_eq!(values(&out), vec![2, 5, 1, 4, 0, 3]);
    }

    #[test]
    fn rotate180_and_flips() {
        assert_eq!(
            values(&apply_orientation(sample(), Orientation::Rotate180)),
            vec![5, 4, 3, 2, 1, 0]
        );
        assert_eq!(
            values(&apply_orientation(sample(), Orientation::FlipHorizontal)),
            vec![2, 1, 0, 5, 4, 3]
        );
        assert_eq!(
            values(&apply_orientation(sample(), Orientation::FlipVertical)),
            vec![3, 4, 5, 0, 1, 2]
        );
        assert_eq!(
            values(&apply_orientation(sample(), Orientation::Transpose)),
            vec![0, 3, 1, 4, 2, 5]
        );
        assert_eq!(
            values(&apply_orientation(sample(), Orientation::Transverse)),
            vec![5, 2, 4, 1, 3, 0]
        );
    }
}
