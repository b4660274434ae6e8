//! EXIF/TIFF orientation: how stored pixels are turned for display, and the
//! inverse used when *writing* a file.
//!
//! The Orientation tag tells a viewer how to transform the stored image to
//! display it upright. To produce a file whose *developed and oriented* image
//! equals a ground-truth image, the synthesiser stores the truth transformed by
//! the inverse operation ([`store_for_orientation`]). Example: Orientation 6
//! means "rotate 90° clockwise to display", so the truth is stored rotated 90°
//! counter-clockwise.

use crate::image::{SrgbImage, SrgbImage16};

/// The eight EXIF orientations (tag values 1..=8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal = 1,
    /// 2: mirror left–right to display.
    FlipHorizontal = 2,
    /// 3: rotate 180° to display.
    Rotate180 = 3,
    /// 4: mirror top–bottom to display.
    FlipVertical = 4,
    /// 5: transpose (mirror across the main diagonal) to display.
    Transpose = 5,
    /// 6: rotate 90° clockwise to display.
    Rotate90Cw = 6,
    /// 7: transverse (mirror across the anti-diagonal) to display.
    Transverse = 7,
    /// 8: rotate 90° counter-clockwise (270° clockwise) to display.
    Rotate270Cw = 8,
}

impl Orientation {
    /// All eight orientations in tag order.
    pub const ALL: [Orientation; 8] = [
        Self::Normal,
        Self::FlipHorizontal,
        Self::Rotate180,
        Self::FlipVertical,
        Self::Transpose,
        Self::Rotate90Cw,
        Self::Transverse,
        Self::Rotate270Cw,
    ];

    /// From a tag value; `None` outside 1..=8.
    pub fn from_tag(v: u16) -> Option<Self> {
        Self::ALL.get(usize::from(v).checked_sub(1)?).copied()
    }

    /// The tag value 1..=8.
    pub fn tag(self) -> u16 {
        self as u16
    }

    /// Whether width and height swap.
    pub fn swaps_axes(self) -> bool {
        matches!(
            self,
            Self::Transpose | Self::Rotate90Cw | Self::Transverse | Self::Rotate270Cw
        )
    }

    /// The orientation that undoes this one.
    pub fn inverse(self) -> Self {
        match self {
            Self::Rotate90Cw => Self::Rotate270Cw,
            Self::Rotate270Cw => Self::Rotate90Cw,
            o => o,
        }
    }

    /// For a displayed pixel (x, y) of the oriented image, the stored pixel it
    /// comes from; `w`, `h` are the *stored* dimensions.
    pub fn source_of(self, x: usize, y: usize, w: usize, h: usize) -> (usize, usize) {
        match self {
            Self::Normal => (x, y),
            Self::FlipHorizontal => (w - 1 - x, y),
            Self::Rotate180 => (w - 1 - x, h - 1 - y),
            Self::FlipVertical => (x, h - 1 - y),
            Self::Transpose => (y, x),
            Self::Rotate90Cw => (y, h - 1 - x),
            Self::Transverse => (w - 1 - y, h - 1 - x),
            Self::Rotate270Cw => (w - 1 - y, x),
        }
    }
}

fn orient_samples<T: Copy>(
    w: usize,
    h: usize,
    data: &[T],
    o: Orientation,
) -> (usize, usize, Vec<T>) {
    let (ow, oh) = if o.swaps_axes() { (h, w) } else { (w, h) };
    let mut out = Vec::with_capacity(data.len());
    for y in 0..oh {
        for x in 0..ow {
            let (sx, sy) = o.source_of(x, y, w, h);
            let i = (sy * w + sx) * 3;
            if let Some(px) = data.get(i..i + 3) {
                out.extend_from_slice(px);
            }
        }
    }
    (ow, oh, out)
}

/// Applies an orientation as a viewer does: stored image → displayed image.
pub fn orient_for_display(img: &SrgbImage, o: Orientation) -> SrgbImage {
    let (width, height, data) = orient_samples(img.width, img.height, &img.data, o);
    SrgbImage {
        width,
        height,
        data,
    }
}

/// [`orient_for_display`] for 16-bit images.
pub fn orient_for_display16(img: &SrgbImage16, o: Orientation) -> SrgbImage16 {
    let (width, height, data) = orient_samples(img.width, img.height, &img.data, o);
    SrgbImage16 {
        width,
        height,
        data,
    }
}

/// What a file with Orientation `o` must store so that displaying it gives
/// back `display`: the inverse transform (e.g. for 6, rotate 90° CCW).
pub fn store_for_orientation(display: &SrgbImage, o: Orientation) -> SrgbImage {
    orient_for_display(display, o.inverse())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asym() -> SrgbImage {
        // 3 wide, 2 tall, every pixel distinct.
        SrgbImage::from_fn(3, 2, |x, y| [(y * 3 + x) as u8, 0, 0])
    }

    fn ids(img: &SrgbImage) -> Vec<u8> {
        img.data.chunks(3).map(|p| p[0]).collect()
    }

    #[test]
    fn display_transforms_match_exif() {
        // Stored:  0 1 2
        //          3 4 5
        let s = asym();
        let d = |o| orient_for_display(&s, o);
        assert_eq!(ids(&d(Orientation::Normal)), [0, 1, 2, 3, 4, 5]);
        assert_eq!(ids(&d(Orientation::FlipHorizontal)), [2, 1, 0, 5, 4, 3]);
        assert_eq!(ids(&d(Orientation::Rotate180)), [5, 4, 3, 2, 1, 0]);
        assert_eq!(ids(&d(Orientation::FlipVertical)), [3, 4, 5, 0, 1, 2]);
        // Rotated 90° CW: 3 0 / 4 1 / 5 2.
        let r = d(Orientation::Rotate90Cw);
        assert_eq!((r.width, r.height), (2, 3));
        assert_eq!(ids(&r), [3, 0, 4, 1, 5, 2]);
        // Rotated 90° CCW: 2 5 / 1 4 / 0 3.
        assert_eq!(ids(&d(Orientation::Rotate270Cw)), [2, 5, 1, 4, 0, 3]);
        assert_eq!(ids(&d(Orientation::Transpose)), [0, 3, 1, 4, 2, 5]);
        assert_eq!(ids(&d(Orientation::Transverse)), [5, 2, 4, 1, 3, 0]);
    }

    #[test]
    fn store_then_display_is_identity() {
        let truth = asym();
        for o in Orientation::ALL {
            let stored = store_for_orientation(&truth, o);
            assert_eq!(orient_for_display(&stored, o), truth, "{o:?}");
        }
        // Orientation 6 stores the truth rotated 90° CCW.
        let stored = store_for_orientation(&truth, Orientation::Rotate90Cw);
        assert_eq!(ids(&stored), [2, 5, 1, 4, 0, 3]);
    }

    #[test]
    fn tags() {
        for v in 1..=8u16 {
            assert_eq!(Orientation::from_tag(v).map(|o| o.tag()), Some(v));
        }
        assert_eq!(Orientation::from_tag(0), None);
        assert_eq!(Orientation::from_tag(9), None);
    }
}
