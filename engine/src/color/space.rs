//! Output colour spaces: the linear Rec.2020 working space → an output space,
//! quantised to 8 or 16 bits, with the ICC profile to embed.
//!
//! The built-in matrix/TRC spaces (sRGB, Display P3, Adobe RGB (1998),
//! ProPhoto RGB) take a fast, exact path: one 3×3 matrix (working space → the
//! ICC D50 PCS → output space, Bradford-adapted exactly as Little CMS does
//! for matrix/shaper profiles), a clip to [0, 1], and a 65536-entry transfer
//! lookup table. For matrix/shaper profiles the perceptual, saturation and
//! relative colorimetric intents are the same transform, so the fast path
//! serves all three. Absolute colorimetric intent and user-supplied ICC
//! profiles go through Little CMS (`lcms2`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[cfg(feature = "lcms2")]
use lcms2::{Intent as LcmsIntent, PixelFormat, Profile, Transform};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::icc::{
    matrix_trc_profile, rgb_to_pcs_matrix, srgb_profile as srgb_icc_profile, Chromaticity,
    Primaries, Transfer, ADOBE_RGB_PRIMARIES, D50, D65, DISPLAY_P3_PRIMARIES, PROPHOTO_PRIMARIES,
    SRGB_PRIMARIES,
};
use super::matrix::{invert, multiply, Matrix3};
use super::transfer;
use crate::cpu::Isa;
use crate::error::{Error, Result};
use crate::image::{Rgb16, Rgb8, RgbF32};

/// The primaries of ITU-R BT.2020 (the working space, with a D65 white).
pub const REC2020_PRIMARIES: Primaries = Primaries {
    red: Chromaticity { x: 0.708, y: 0.292 },
    green: Chromaticity { x: 0.170, y: 0.797 },
    blue: Chromaticity { x: 0.131, y: 0.046 },
};

/// Luminance (Y) weights of linear Rec.2020 RGB.
pub const REC2020_LUMA: [f32; 3] = [0.2627, 0.6780, 0.0593];

/// An output colour space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ColorSpace {
    /// sRGB (IEC 61966-2-1).
    Srgb,
    /// Display P3 (P3 primaries, D65 white, sRGB curve).
    DisplayP3,
    /// Adobe RGB (1998) (gamma 563/256).
    AdobeRgb,
    /// ProPhoto RGB (ROMM, D50 white, gamma 1.8).
    ProPhoto,
    /// An ICC profile file given by the user (converted with Little CMS).
    Icc(PathBuf),
}

impl std::str::FromStr for ColorSpace {
    type Err = Error;

    /// `srgb`, `display-p3` (or `p3`), `adobe-rgb` (or `adobergb`),
    /// `prophoto`; anything ending in `.icc` / `.icm` is a profile file.
    fn from_str(s: &str) -> Result<Self> {
        let key: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        match key.as_str() {
            "srgb" => Ok(Self::Srgb),
            "displayp3" | "p3" => Ok(Self::DisplayP3),
            "adobergb" | "adobergb1998" => Ok(Self::AdobeRgb),
            "prophoto" | "prophotorgb" | "romm" => Ok(Self::ProPhoto),
            _ if key.ends_with(".icc") || key.ends_with(".icm") => {
                Ok(Self::Icc(PathBuf::from(s)))
            }
            _ => Err(Error::InvalidParameter(format!(
                "unknown colour space {s:?} (use srgb, display-p3, adobe-rgb, prophoto or an .icc/.icm file)"
            ))),
        }
    }
}

impl TryFrom<String> for ColorSpace {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ColorSpace> for String {
    fn from(c: ColorSpace) -> String {
        c.to_string()
    }
}

impl std::fmt::Display for ColorSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Srgb => f.write_str("srgb"),
            Self::DisplayP3 => f.write_str("display-p3"),
            Self::AdobeRgb => f.write_str("adobe-rgb"),
            Self::ProPhoto => f.write_str("prophoto"),
            Self::Icc(p) => write!(f, "{}", p.display()),
        }
    }
}

/// ICC rendering intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Intent {
    /// Perceptual (the default).
    #[default]
    Perceptual,
    /// Relative colorimetric.
    RelativeColorimetric,
    /// Saturation.
    Saturation,
    /// Absolute colorimetric (no white-point adaptation).
    AbsoluteColorimetric,
}

#[cfg(feature = "lcms2")]
impl Intent {
    fn lcms(self) -> LcmsIntent {
        match self {
            Self::Perceptual => LcmsIntent::Perceptual,
            Self::RelativeColorimetric => LcmsIntent::RelativeColorimetric,
            Self::Saturation => LcmsIntent::Saturation,
            Self::AbsoluteColorimetric => LcmsIntent::AbsoluteColorimetric,
        }
    }
}

/// The definition of a built-in matrix/TRC space.
struct Builtin {
    name: &'static str,
    primaries: Primaries,
    white: Chromaticity,
    transfer: Transfer,
}

fn builtin(space: &ColorSpace) -> Option<Builtin> {
    let (name, primaries, white, transfer) = match space {
        ColorSpace::Srgb => ("sRGB IEC61966-2.1", SRGB_PRIMARIES, D65, Transfer::SRGB),
        ColorSpace::DisplayP3 => ("Display P3", DISPLAY_P3_PRIMARIES, D65, Transfer::SRGB),
        ColorSpace::AdobeRgb => (
            "Adobe RGB (1998) compatible",
            ADOBE_RGB_PRIMARIES,
            D65,
            Transfer::Gamma(563.0 / 256.0),
        ),
        ColorSpace::ProPhoto => (
            "ProPhoto RGB compatible",
            PROPHOTO_PRIMARIES,
            D50,
            Transfer::Gamma(1.8),
        ),
        ColorSpace::Icc(_) => return None,
    };
    Some(Builtin {
        name,
        primaries,
        white,
        transfer,
    })
}

fn cached_profile(slot: &'static OnceLock<Vec<u8>>, b: &Builtin) -> &'static [u8] {
    slot.get_or_init(|| {
        matrix_trc_profile(b.name, &b.primaries, b.white, b.transfer).unwrap_or_default()
    })
}

/// The ICC profile of a built-in space (`None` for [`ColorSpace::Icc`]).
pub fn builtin_profile(space: &ColorSpace) -> Option<&'static [u8]> {
    static P3: OnceLock<Vec<u8>> = OnceLock::new();
    static ADOBE: OnceLock<Vec<u8>> = OnceLock::new();
    static PROPHOTO: OnceLock<Vec<u8>> = OnceLock::new();
    let b = builtin(space)?;
    Some(match space {
        ColorSpace::Srgb => srgb_icc_profile(),
        ColorSpace::DisplayP3 => cached_profile(&P3, &b),
        ColorSpace::AdobeRgb => cached_profile(&ADOBE, &b),
        _ => cached_profile(&PROPHOTO, &b),
    })
}

/// The ICC profile of the working space: linear Rec.2020 (gamma 1.0).
pub fn working_profile() -> &'static [u8] {
    static P: OnceLock<Vec<u8>> = OnceLock::new();
    P.get_or_init(|| {
        matrix_trc_profile(
            "rawflow linear Rec.2020",
            &REC2020_PRIMARIES,
            D65,
            Transfer::Gamma(1.0),
        )
        .unwrap_or_default()
    })
}

fn to_f32(m: [[f64; 3]; 3]) -> Matrix3 {
    m.map(|r| r.map(|v| v as f32))
}

/// The matrix from linear RGB with `src` primaries/white to linear RGB with
/// `dst` primaries/white, through the D50 PCS (Bradford), as an ICC CMM does.
pub fn rgb_to_rgb(
    src: (&Primaries, Chromaticity),
    dst: (&Primaries, Chromaticity),
) -> Result<Matrix3> {
    let s = to_f32(rgb_to_pcs_matrix(src.0, src.1)?);
    let d = to_f32(rgb_to_pcs_matrix(dst.0, dst.1)?);
    let d_inv = invert(&d).ok_or_else(|| Error::InvalidParameter("singular primaries".into()))?;
    Ok(multiply(&d_inv, &s))
}

/// Linear sRGB → the working space (linear Rec.2020).
pub fn srgb_to_working() -> Matrix3 {
    static M: OnceLock<Matrix3> = OnceLock::new();
    *M.get_or_init(|| {
        rgb_to_rgb((&SRGB_PRIMARIES, D65), (&REC2020_PRIMARIES, D65))
            .unwrap_or(super::matrix::IDENTITY)
    })
}

/// The working space → linear sRGB.
pub fn working_to_srgb() -> Matrix3 {
    static M: OnceLock<Matrix3> = OnceLock::new();
    *M.get_or_init(|| invert(&srgb_to_working()).unwrap_or(super::matrix::IDENTITY))
}

/// Encoded value (0..=1) for linear `v` under `t`.
fn encode(t: Transfer, v: f64) -> f64 {
    let v = v.clamp(0.0, 1.0);
    match t {
        Transfer::Gamma(g) => v.powf(1.0 / g),
        Transfer::Parametric { .. } if t == Transfer::SRGB => {
            f64::from(transfer::srgb_encode(v as f32))
        }
        Transfer::Parametric { g, a, b, c, d } => {
            if v < c * d {
                if c > 0.0 {
                    v / c
                } else {
                    0.0
                }
            } else {
                ((v.powf(1.0 / g) - b) / a).clamp(0.0, 1.0)
            }
        }
    }
}

const LUT_STEPS: usize = 65536;

/// A 16-bit lookup table linear → encoded for `t`.
fn lut16(t: Transfer) -> Vec<u16> {
    (0..LUT_STEPS)
        .map(|i| (encode(t, i as f64 / (LUT_STEPS - 1) as f64) * 65535.0).round() as u16)
        .collect()
}

fn gamma_lut(space: &ColorSpace) -> Option<&'static [u16]> {
    static ADOBE: OnceLock<Vec<u16>> = OnceLock::new();
    static PROPHOTO: OnceLock<Vec<u16>> = OnceLock::new();
    let b = builtin(space)?;
    match space {
        ColorSpace::AdobeRgb => Some(ADOBE.get_or_init(|| lut16(b.transfer))),
        ColorSpace::ProPhoto => Some(PROPHOTO.get_or_init(|| lut16(b.transfer))),
        _ => None,
    }
}

enum Kind {
    /// Matrix, then clip and the sRGB curve (the transfer module's LUTs).
    MatrixSrgbCurve(Matrix3),
    /// Matrix, then clip and a gamma LUT.
    MatrixLut(Matrix3, &'static [u16]),
    /// Little CMS from the working profile to `profile`.
    Lcms { intent: Intent },
}

/// A prepared conversion from the working space to one output space.
pub struct OutputTransform {
    kind: Kind,
    profile: Vec<u8>,
    /// Matrix + 8-bit sRGB curve, resolved for the development's instruction set.
    srgb8: transfer::MatrixSrgb8Fn,
}

impl std::fmt::Debug for OutputTransform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputTransform")
            .field("profile_bytes", &self.profile.len())
            .finish()
    }
}

/// The error of a conversion that needs Little CMS in a build without it.
#[cfg(not(feature = "lcms2"))]
fn no_lcms() -> Error {
    Error::InvalidParameter(
        "ICC profile conversions and the absolute colorimetric intent need rawflow's `lcms2` feature"
            .into(),
    )
}

/// Ok when Little CMS is built in (with the `lcms2` feature).
fn lcms_available() -> Result<()> {
    #[cfg(feature = "lcms2")]
    {
        Ok(())
    }
    #[cfg(not(feature = "lcms2"))]
    {
        Err(no_lcms())
    }
}

/// Why Little CMS refuses `bytes` as a profile, if it does.
fn check_icc(bytes: &[u8]) -> Result<std::result::Result<(), String>> {
    lcms_available()?;
    #[cfg(feature = "lcms2")]
    {
        Ok(Profile::new_icc(bytes)
            .map(|_| ())
            .map_err(|e| e.to_string()))
    }
    #[cfg(not(feature = "lcms2"))]
    {
        let _ = bytes;
        Err(no_lcms())
    }
}

fn read_icc(path: &Path) -> Result<Vec<u8>> {
    lcms_available()?;
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Check that Little CMS accepts it before any pixel work.
    check_icc(&bytes)?.map_err(|e| {
        Error::InvalidParameter(format!("{}: not a usable ICC profile: {e}", path.display()))
    })?;
    Ok(bytes)
}

impl OutputTransform {
    /// Prepare the conversion to `space` with `intent` (reads and checks an
    /// ICC file for [`ColorSpace::Icc`]).
    pub fn new(space: &ColorSpace, intent: Intent) -> Result<Self> {
        let Some(b) = builtin(space) else {
            let ColorSpace::Icc(path) = space else {
                return Err(Error::InvalidParameter("unknown colour space".into()));
            };
            return Ok(Self {
                kind: Kind::Lcms { intent },
                profile: read_icc(path)?,
                srgb8: transfer::dispatch_matrix_srgb8(Isa::process()),
            });
        };
        let profile = builtin_profile(space).unwrap_or_default().to_vec();
        if intent == Intent::AbsoluteColorimetric {
            lcms_available()?;
            return Ok(Self {
                kind: Kind::Lcms { intent },
                profile,
                srgb8: transfer::dispatch_matrix_srgb8(Isa::process()),
            });
        }
        let m = rgb_to_rgb((&REC2020_PRIMARIES, D65), (&b.primaries, b.white))?;
        let kind = match gamma_lut(space) {
            Some(lut) => Kind::MatrixLut(m, lut),
            None => Kind::MatrixSrgbCurve(m),
        };
        Ok(Self {
            kind,
            profile,
            srgb8: transfer::dispatch_matrix_srgb8(Isa::process()),
        })
    }

    /// Prepare the conversion to an ICC profile given as bytes (always Little CMS).
    pub fn from_icc(profile: Vec<u8>, intent: Intent) -> Result<Self> {
        check_icc(&profile)?
            .map_err(|e| Error::InvalidParameter(format!("not a usable ICC profile: {e}")))?;
        Ok(Self {
            kind: Kind::Lcms { intent },
            profile,
            srgb8: transfer::dispatch_matrix_srgb8(Isa::process()),
        })
    }

    /// The same conversion with the kernels of `isa` (the constructors take
    /// those of [`Isa::process`]).
    pub(crate) fn for_isa(self, isa: Isa) -> Self {
        Self {
            srgb8: transfer::dispatch_matrix_srgb8(isa),
            ..self
        }
    }

    /// The ICC profile to embed in the output.
    pub fn profile(&self) -> &[u8] {
        &self.profile
    }

    /// True when the conversion goes through Little CMS.
    pub fn uses_lcms(&self) -> bool {
        matches!(self.kind, Kind::Lcms { .. })
    }

    /// Convert a working-space image to 16-bit output values.
    pub fn to_rgb16(&self, image: &RgbF32) -> Result<Rgb16> {
        let data = match &self.kind {
            Kind::MatrixSrgbCurve(m) => {
                let lut = transfer::Srgb16Lut::get();
                map_pixels(image, |p| {
                    let [r, g, b] = mul(m, p);
                    [lut.of(r), lut.of(g), lut.of(b)]
                })
            }
            Kind::MatrixLut(m, lut) => map_pixels(image, |p| {
                let [r, g, b] = mul(m, p);
                [lut_at(lut, r), lut_at(lut, g), lut_at(lut, b)]
            }),
            Kind::Lcms { intent } => self.lcms16(image, *intent)?,
        };
        Ok(Rgb16 {
            width: image.width,
            height: image.height,
            data,
        })
    }

    /// Convert a working-space image to 8-bit output values.
    pub fn to_rgb8(&self, image: &RgbF32) -> Result<Rgb8> {
        let mut out = Rgb8::new(0, 0);
        self.to_rgb8_into(image, &mut out)?;
        Ok(out)
    }

    /// [`Self::to_rgb8`] into `out`, reusing its allocation.
    pub fn to_rgb8_into(&self, image: &RgbF32, out: &mut Rgb8) -> Result<()> {
        out.width = image.width;
        out.height = image.height;
        let data = match &self.kind {
            Kind::MatrixSrgbCurve(m) => {
                let convert = self.srgb8;
                out.data.resize(image.data.len(), 0);
                out.data
                    .par_chunks_mut(3 * 4096)
                    .zip(image.data.par_chunks(3 * 4096))
                    .for_each(|(o, i)| convert(m, i, o));
                return Ok(());
            }
            Kind::MatrixLut(m, lut) => map_pixels(image, |p| {
                let to8 = |v| ((u32::from(lut_at(lut, v)) * 255 + 32767) / 65535) as u8;
                let [r, g, b] = mul(m, p);
                [to8(r), to8(g), to8(b)]
            }),
            Kind::Lcms { intent } => self.lcms8(image, *intent)?,
        };
        out.data = data;
        Ok(())
    }

    #[cfg(feature = "lcms2")]
    fn lcms_input(image: &RgbF32) -> Vec<[f32; 3]> {
        image
            .data
            .chunks_exact(3)
            .map(|p| {
                [p[0], p[1], p[2]].map(|v| {
                    if v.is_finite() {
                        v.clamp(0.0, 1.0)
                    } else {
                        0.0
                    }
                })
            })
            .collect()
    }

    #[cfg(not(feature = "lcms2"))]
    fn lcms16(&self, _: &RgbF32, _: Intent) -> Result<Vec<u16>> {
        Err(no_lcms())
    }

    #[cfg(not(feature = "lcms2"))]
    fn lcms8(&self, _: &RgbF32, _: Intent) -> Result<Vec<u8>> {
        Err(no_lcms())
    }

    #[cfg(feature = "lcms2")]
    fn lcms_profiles(&self) -> Result<(Profile, Profile)> {
        let src = Profile::new_icc(working_profile()).map_err(lcms_err)?;
        let dst = Profile::new_icc(&self.profile).map_err(lcms_err)?;
        Ok((src, dst))
    }

    #[cfg(feature = "lcms2")]
    fn lcms16(&self, image: &RgbF32, intent: Intent) -> Result<Vec<u16>> {
        let (src, dst) = self.lcms_profiles()?;
        let t: Transform<[f32; 3], [u16; 3]> = Transform::new(
            &src,
            PixelFormat::RGB_FLT,
            &dst,
            PixelFormat::RGB_16,
            intent.lcms(),
        )
        .map_err(lcms_err)?;
        let input = Self::lcms_input(image);
        let mut out = vec![[0u16; 3]; input.len()];
        t.transform_pixels(&input, &mut out);
        Ok(out.into_iter().flatten().collect())
    }

    #[cfg(feature = "lcms2")]
    fn lcms8(&self, image: &RgbF32, intent: Intent) -> Result<Vec<u8>> {
        let (src, dst) = self.lcms_profiles()?;
        let t: Transform<[f32; 3], [u8; 3]> = Transform::new(
            &src,
            PixelFormat::RGB_FLT,
            &dst,
            PixelFormat::RGB_8,
            intent.lcms(),
        )
        .map_err(lcms_err)?;
        let input = Self::lcms_input(image);
        let mut out = vec![[0u8; 3]; input.len()];
        t.transform_pixels(&input, &mut out);
        Ok(out.into_iter().flatten().collect())
    }
}

#[cfg(feature = "lcms2")]
fn lcms_err(e: lcms2::Error) -> Error {
    Error::InvalidParameter(format!("Little CMS: {e}"))
}

#[inline]
fn mul(m: &Matrix3, p: [f32; 3]) -> [f32; 3] {
    [
        m[0][0] * p[0] + m[0][1] * p[1] + m[0][2] * p[2],
        m[1][0] * p[0] + m[1][1] * p[1] + m[1][2] * p[2],
        m[2][0] * p[0] + m[2][1] * p[1] + m[2][2] * p[2],
    ]
}

#[inline]
fn lut_at(lut: &[u16], v: f32) -> u16 {
    let i = (v.clamp(0.0, 1.0) * (LUT_STEPS - 1) as f32 + 0.5) as usize;
    lut.get(i.min(LUT_STEPS - 1)).copied().unwrap_or(0)
}

/// `f` of every pixel of `image`, in parallel chunks, without an
/// intermediate image.
#[inline(always)]
fn map_pixels<T: Copy + Default + Send>(
    image: &RgbF32,
    f: impl Fn([f32; 3]) -> [T; 3] + Sync,
) -> Vec<T> {
    let mut out = vec![T::default(); image.data.len()];
    out.par_chunks_mut(3 * 4096)
        .zip(image.data.par_chunks(3 * 4096))
        .for_each(|(o, i)| {
            for (o, px) in o.chunks_exact_mut(3).zip(i.chunks_exact(3)) {
                let [a, b, c] = f([px[0], px[1], px[2]]);
                o[0] = a;
                o[1] = b;
                o[2] = c;
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print() {
        for s in [
            ColorSpace::Srgb,
            ColorSpace::DisplayP3,
            ColorSpace::AdobeRgb,
            ColorSpace::ProPhoto,
        ] {
            assert_eq!(s.to_string().parse::<ColorSpace>().unwrap(), s);
        }
        assert_eq!(
            "my.icc".parse::<ColorSpace>().unwrap(),
            ColorSpace::Icc("my.icc".into())
        );
        assert!("cmyk".parse::<ColorSpace>().is_err());
    }

    #[test]
    fn working_round_trips_to_srgb() {
        let m = multiply(&working_to_srgb(), &srgb_to_working());
        for (i, row) in m.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn fast_path_matches_lcms_for_every_builtin() {
        let mut img = RgbF32::new(64, 1);
        for (i, v) in img.data.iter_mut().enumerate() {
            *v = ((i * 37) % 101) as f32 / 100.0;
        }
        let img = {
            let mut w = img.clone();
            crate::color::matrix::apply_matrix(&mut w, &srgb_to_working());
            w
        };
        for space in [
            ColorSpace::Srgb,
            ColorSpace::DisplayP3,
            ColorSpace::AdobeRgb,
            ColorSpace::ProPhoto,
        ] {
            let fast = OutputTransform::new(&space, Intent::RelativeColorimetric).unwrap();
            assert!(!fast.uses_lcms());
            let slow =
                OutputTransform::from_icc(fast.profile().to_vec(), Intent::RelativeColorimetric)
                    .unwrap();
            let a = fast.to_rgb16(&img).unwrap();
            let b = slow.to_rgb16(&img).unwrap();
            let worst = a
                .data
                .iter()
                .zip(&b.data)
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap();
            assert!(worst <= 200, "{space}: worst 16-bit difference {worst}");
        }
    }

    #[test]
    fn missing_icc_file_is_an_error() {
        let e = OutputTransform::new(
            &ColorSpace::Icc("/nonexistent/x.icc".into()),
            Intent::Perceptual,
        );
        assert!(e.is_err());
    }
}
