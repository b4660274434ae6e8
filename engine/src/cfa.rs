//! Colour filter arrays: which colour each photosite records.

use crate::error::{Error, Result};

/// The colour a photosite records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CfaColor {
    /// Red filter.
    Red = 0,
    /// Green filter.
    Green = 1,
    /// Blue filter.
    Blue = 2,
}

impl CfaColor {
    /// The channel index: 0 red, 1 green, 2 blue.
    pub fn index(self) -> usize {
        self as usize
    }

    fn from_char(c: char) -> Option<Self> {
        match c {
            'R' | 'r' => Some(Self::Red),
            'G' | 'g' => Some(Self::Green),
            'B' | 'b' => Some(Self::Blue),
            _ => None,
        }
    }
}

/// The four phases of a 2×2 Bayer pattern, named by their first two rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BayerPhase {
    /// R G / G B
    Rggb,
    /// B G / G R
    Bggr,
    /// G R / B G
    Grbg,
    /// G B / R G
    Gbrg,
}

impl BayerPhase {
    /// All four phases.
    pub const ALL: [BayerPhase; 4] = [Self::Rggb, Self::Bggr, Self::Grbg, Self::Gbrg];

    /// The pattern as four letters, row by row ("RGGB").
    pub fn name(self) -> &'static str {
        match self {
            Self::Rggb => "RGGB",
            Self::Bggr => "BGGR",
            Self::Grbg => "GRBG",
            Self::Gbrg => "GBRG",
        }
    }
}

/// A repeating colour filter pattern of up to 16×16 photosites
/// (2×2 for Bayer, 6×6 for Fujifilm X-Trans).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cfa {
    width: usize,
    height: usize,
    colors: Vec<CfaColor>,
}

/// The standard X-Trans layout, as Fujifilm cameras report it (top-left origin).
pub const XTRANS_PATTERN: &str = "GGRGGBGGBGGRBRGRBGGGBGGRGGRGGBRBGBRG";

impl Cfa {
    /// A 2×2 Bayer pattern.
    pub fn bayer(phase: BayerPhase) -> Self {
        // The names are valid by construction.
        Self::from_name(phase.name(), 2, 2).unwrap_or_else(|_| unreachable!())
    }

    /// The standard 6×6 X-Trans pattern.
    pub fn xtrans() -> Self {
        Self::from_name(XTRANS_PATTERN, 6, 6).unwrap_or_else(|_| unreachable!())
    }

    /// A pattern from its colours written row by row ("RGGB"), `width` × `height` in size.
    pub fn from_name(name: &str, width: usize, height: usize) -> Result<Self> {
        if width == 0
            || height == 0
            || width > 16
            || height > 16
            || name.chars().count() != width * height
        {
            return Err(Error::InvalidParameter(format!(
                "CFA pattern {name:?} is not {width}x{height}"
            )));
        }
        let colors = name
            .chars()
            .map(CfaColor::from_char)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Error::InvalidParameter(format!(
                    "CFA pattern {name:?} has colours other than R, G, B"
                ))
            })?;
        Ok(Self {
            width,
            height,
            colors,
        })
    }

    /// Width of the repeating tile.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height of the repeating tile.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The colour at image position (`row`, `col`).
    #[inline]
    pub fn color_at(&self, row: usize, col: usize) -> CfaColor {
        self.colors[(row % self.height) * self.width + col % self.width]
    }

    /// The pattern seen from an origin moved `dx` columns right and `dy` rows down
    /// (what a crop to an active area does).
    pub fn shifted(&self, dx: usize, dy: usize) -> Self {
        let mut colors = Vec::with_capacity(self.colors.len());
        for r in 0..self.height {
            for c in 0..self.width {
                colors.push(self.color_at(r + dy, c + dx));
            }
        }
        Self {
            width: self.width,
            height: self.height,
            colors,
        }
    }

    /// The Bayer phase when this is a 2×2 pattern with two diagonal greens.
    pub fn bayer_phase(&self) -> Option<BayerPhase> {
        if self.width != 2 || self.height != 2 {
            return None;
        }
        BayerPhase::ALL
            .into_iter()
            .find(|p| Self::bayer(*p).colors == self.colors)
    }

    /// True for a 6×6 X-Trans style pattern.
    pub fn is_xtrans(&self) -> bool {
        self.width == 6 && self.height == 6
    }

    /// The pattern written row by row, e.g. "RGGB".
    pub fn name(&self) -> String {
        self.colors
            .iter()
            .map(|c| match c {
                CfaColor::Red => 'R',
                CfaColor::Green => 'G',
                CfaColor::Blue => 'B',
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_rggb_by_one_gives_the_other_phases() {
        let rggb = Cfa::bayer(BayerPhase::Rggb);
        assert_eq!(rggb.shifted(1, 0).bayer_phase(), Some(BayerPhase::Grbg));
        assert_eq!(rggb.shifted(0, 1).bayer_phase(), Some(BayerPhase::Gbrg));
        assert_eq!(rggb.shifted(1, 1).bayer_phase(), Some(BayerPhase::Bggr));
        assert_eq!(rggb.shifted(2, 2), rggb);
    }

    #[test]
    fn xtrans_has_more_green_than_bayer() {
        let x = Cfa::xtrans();
        let greens = (0..6)
            .flat_map(|r| (0..6).map(move |c| (r, c)))
            .filter(|&(r, c)| x.color_at(r, c) == CfaColor::Green)
            .count();
        assert_eq!(greens, 20);
        assert!(x.is_xtrans());
        assert_eq!(x.bayer_phase(), None);
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(Cfa::from_name("RGGX", 2, 2).is_err());
        assert!(Cfa::from_name("RGG", 2, 2).is_err());
    }
}
