//! ICC profiles built in code: a general matrix/TRC display-profile builder and
//! the sRGB profile every sRGB output embeds.
//!
//! The profiles are ICC version 2.4 (the most widely understood version):
//! class `mntr`, data colour space `RGB `, PCS `XYZ ` with the D50 illuminant,
//! tags `desc`, `cprt`, `wtpt`, `rXYZ`/`gXYZ`/`bXYZ` (the primaries adapted to
//! D50 with the Bradford transform, as the ICC specification asks) and
//! `rTRC`/`gTRC`/`bTRC`, which share one `curv` element. A pure power law is
//! stored as a single gamma value (exact, tiny); a piecewise curve such as
//! sRGB's is sampled at [`SAMPLED_CURVE_POINTS`] points.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// A colour as CIE 1931 xy chromaticity coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chromaticity {
    /// x coordinate.
    pub x: f64,
    /// y coordinate (must be positive).
    pub y: f64,
}

/// The chromaticities of an RGB colour space's three primaries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Primaries {
    /// The red primary.
    pub red: Chromaticity,
    /// The green primary.
    pub green: Chromaticity,
    /// The blue primary.
    pub blue: Chromaticity,
}

/// CIE standard illuminant D65 (the white of sRGB, Display P3, Adobe RGB).
pub const D65: Chromaticity = Chromaticity {
    x: 0.3127,
    y: 0.3290,
};

/// CIE illuminant D50 (the white of ProPhoto RGB and of the ICC PCS).
pub const D50: Chromaticity = Chromaticity {
    x: 0.3457,
    y: 0.3585,
};

/// The primaries of sRGB / ITU-R BT.709.
pub const SRGB_PRIMARIES: Primaries = Primaries {
    red: Chromaticity { x: 0.64, y: 0.33 },
    green: Chromaticity { x: 0.30, y: 0.60 },
    blue: Chromaticity { x: 0.15, y: 0.06 },
};

/// The primaries of Display P3 (DCI-P3 primaries with a D65 white).
pub const DISPLAY_P3_PRIMARIES: Primaries = Primaries {
    red: Chromaticity { x: 0.680, y: 0.320 },
    green: Chromaticity { x: 0.265, y: 0.690 },
    blue: Chromaticity { x: 0.150, y: 0.060 },
};

/// The primaries of Adobe RGB (1998).
pub const ADOBE_RGB_PRIMARIES: Primaries = Primaries {
    red: Chromaticity { x: 0.64, y: 0.33 },
    green: Chromaticity { x: 0.21, y: 0.71 },
    blue: Chromaticity { x: 0.15, y: 0.06 },
};

/// The primaries of ProPhoto RGB (ROMM RGB), whose white is [`D50`].
pub const PROPHOTO_PRIMARIES: Primaries = Primaries {
    red: Chromaticity {
        x: 0.7347,
        y: 0.2653,
    },
    green: Chromaticity {
        x: 0.1596,
        y: 0.8404,
    },
    blue: Chromaticity {
        x: 0.0366,
        y: 0.0001,
    },
};

/// How encoded values in 0..=1 map to linear light in 0..=1 (the profile's TRC).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transfer {
    /// A pure power law, `linear = encoded^gamma`: 2.2 for Adobe RGB is
    /// `563.0 / 256.0`, ProPhoto uses 1.8. Stored as one 8.8 fixed-point gamma,
    /// so it is exact for multiples of 1/256.
    Gamma(f64),
    /// The piecewise curve of IEC 61966-2-1 (ICC parametric curve type 3):
    /// `linear = (a·v + b)^g` for `v >= d`, and `linear = c·v` below `d`.
    Parametric {
        /// Exponent.
        g: f64,
        /// Scale inside the power.
        a: f64,
        /// Offset inside the power.
        b: f64,
        /// Slope of the linear toe.
        c: f64,
        /// Encoded value where the toe ends.
        d: f64,
    },
}

impl Transfer {
    /// The sRGB transfer function (also used by Display P3).
    pub const SRGB: Transfer = Transfer::Parametric {
        g: 2.4,
        a: 1.0 / 1.055,
        b: 0.055 / 1.055,
        c: 1.0 / 12.92,
        d: 0.04045,
    };

    /// Linear light for the encoded value `v` (both in 0..=1).
    pub fn to_linear(self, v: f64) -> f64 {
        let v = v.clamp(0.0, 1.0);
        let y = match self {
            Transfer::Gamma(g) => v.powf(g),
            Transfer::Parametric { g, a, b, c, d } => {
                if v >= d {
                    (a * v + b).max(0.0).powf(g)
                } else {
                    c * v
                }
            }
        };
        y.clamp(0.0, 1.0)
    }

    fn validate(self) -> Result<()> {
        let ok = match self {
            Transfer::Gamma(g) => g.is_finite() && g > 0.0 && g < 256.0,
            Transfer::Parametric { g, a, b, c, d } => {
                [g, a, b, c, d].iter().all(|v| v.is_finite()) && g > 0.0
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter(format!(
                "ICC transfer function out of range: {self:?}"
            )))
        }
    }
}

/// Number of points a sampled (`curv`) tone curve gets.
pub const SAMPLED_CURVE_POINTS: usize = 1024;

/// The ICC PCS illuminant (D50) as the ICC specification fixes it in XYZ.
const PCS_D50_XYZ: [f64; 3] = [0.9642, 1.0, 0.8249];

/// Bradford cone response matrix.
const BRADFORD: [[f64; 3]; 3] = [
    [0.8951, 0.2664, -0.1614],
    [-0.7502, 1.7135, 0.0367],
    [0.0389, -0.0685, 1.0296],
];

/// Maximum length of the profile description we store.
const MAX_NAME: usize = 128;

type Mat3 = [[f64; 3]; 3];

fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut r = [[0.0; 3]; 3];
    for (i, row) in r.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    r
}

fn mat_vec(a: &Mat3, v: [f64; 3]) -> [f64; 3] {
    let mut r = [0.0; 3];
    for (i, out) in r.iter_mut().enumerate() {
        *out = (0..3).map(|k| a[i][k] * v[k]).sum();
    }
    r
}

fn mat_inv(m: &Mat3) -> Option<Mat3> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if !det.is_finite() || det.abs() < 1e-12 {
        return None;
    }
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    Some([
        [
            c(1, 1, 2, 2) / det,
            -c(0, 1, 2, 2) / det,
            c(0, 1, 1, 2) / det,
        ],
        [
            -c(1, 0, 2, 2) / det,
            c(0, 0, 2, 2) / det,
            -c(0, 0, 1, 2) / det,
        ],
        [
            c(1, 0, 2, 1) / det,
            -c(0, 0, 2, 1) / det,
            c(0, 0, 1, 1) / det,
        ],
    ])
}

fn xy_to_xyz(c: Chromaticity) -> Result<[f64; 3]> {
    let valid =
        c.x.is_finite() && c.y.is_finite() && c.x >= 0.0 && c.y > 0.0 && c.x + c.y <= 1.0 + 1e-9;
    if !valid {
        return Err(Error::InvalidParameter(format!(
            "invalid chromaticity ({}, {})",
            c.x, c.y
        )));
    }
    Ok([c.x / c.y, 1.0, (1.0 - c.x - c.y) / c.y])
}

/// The RGB→XYZ matrix (columns: the XYZ of each primary) for the given primaries
/// and white, with Y of white = 1, then adapted from `white` to the ICC D50
/// illuminant with the Bradford transform. Its columns are what the `rXYZ`,
/// `gXYZ` and `bXYZ` tags hold.
pub fn rgb_to_pcs_matrix(primaries: &Primaries, white: Chromaticity) -> Result<[[f64; 3]; 3]> {
    let r = xy_to_xyz(primaries.red)?;
    let g = xy_to_xyz(primaries.green)?;
    let b = xy_to_xyz(primaries.blue)?;
    let w = xy_to_xyz(white)?;
    let p: Mat3 = [[r[0], g[0], b[0]], [r[1], g[1], b[1]], [r[2], g[2], b[2]]];
    let singular = || Error::InvalidParameter("primaries are collinear".into());
    let p_inv = mat_inv(&p).ok_or_else(singular)?;
    let s = mat_vec(&p_inv, w);
    let m: Mat3 = [
        [p[0][0] * s[0], p[0][1] * s[1], p[0][2] * s[2]],
        [p[1][0] * s[0], p[1][1] * s[1], p[1][2] * s[2]],
        [p[2][0] * s[0], p[2][1] * s[1], p[2][2] * s[2]],
    ];
    let cone_src = mat_vec(&BRADFORD, w);
    let cone_dst = mat_vec(&BRADFORD, PCS_D50_XYZ);
    if cone_src.iter().any(|v| v.abs() < 1e-12) {
        return Err(Error::InvalidParameter("degenerate white point".into()));
    }
    let scale: Mat3 = [
        [cone_dst[0] / cone_src[0], 0.0, 0.0],
        [0.0, cone_dst[1] / cone_src[1], 0.0],
        [0.0, 0.0, cone_dst[2] / cone_src[2]],
    ];
    let b_inv = mat_inv(&BRADFORD).ok_or_else(singular)?;
    let adapt = mat_mul(&b_inv, &mat_mul(&scale, &BRADFORD));
    let out = mat_mul(&adapt, &m);
    if out.iter().flatten().all(|v| v.is_finite()) {
        Ok(out)
    } else {
        Err(singular())
    }
}

fn s15f16(v: f64) -> [u8; 4] {
    let fixed = (v * 65536.0)
        .round()
        .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
    fixed.to_be_bytes()
}

fn xyz_tag(xyz: [f64; 3]) -> Vec<u8> {
    let mut t = Vec::with_capacity(20);
    t.extend_from_slice(b"XYZ \0\0\0\0");
    for v in xyz {
        t.extend_from_slice(&s15f16(v));
    }
    t
}

/// Printable ASCII only, at most [`MAX_NAME`] bytes.
fn clean_text(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .take(MAX_NAME)
        .collect();
    if out.trim().is_empty() {
        out = "RGB".into();
    }
    out
}

/// ICC v2 textDescriptionType.
fn desc_tag(text: &str) -> Vec<u8> {
    let mut t = Vec::with_capacity(text.len() + 100);
    t.extend_from_slice(b"desc\0\0\0\0");
    t.extend_from_slice(&(text.len() as u32 + 1).to_be_bytes());
    t.extend_from_slice(text.as_bytes());
    t.push(0);
    t.extend_from_slice(&[0; 4]); // Unicode language code
    t.extend_from_slice(&[0; 4]); // Unicode count
    t.extend_from_slice(&[0; 2]); // ScriptCode code
    t.push(0); // ScriptCode count
    t.extend_from_slice(&[0; 67]); // ScriptCode string
    t
}

/// ICC v2 textType.
fn text_tag(text: &str) -> Vec<u8> {
    let mut t = Vec::with_capacity(text.len() + 9);
    t.extend_from_slice(b"text\0\0\0\0");
    t.extend_from_slice(text.as_bytes());
    t.push(0);
    t
}

fn curv_tag(transfer: Transfer) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"curv\0\0\0\0");
    match transfer {
        Transfer::Gamma(g) => {
            t.extend_from_slice(&1u32.to_be_bytes());
            let fixed = (g * 256.0).round().clamp(1.0, 65535.0) as u16;
            t.extend_from_slice(&fixed.to_be_bytes());
        }
        Transfer::Parametric { .. } => {
            let n = SAMPLED_CURVE_POINTS;
            t.extend_from_slice(&(n as u32).to_be_bytes());
            for i in 0..n {
                let v = transfer.to_linear(i as f64 / (n - 1) as f64);
                let q = (v * 65535.0).round() as u16;
                t.extend_from_slice(&q.to_be_bytes());
            }
        }
    }
    t
}

/// Build an ICC v2.4 matrix/TRC display profile.
///
/// * `name` — the profile description (`desc`), e.g. "Display P3"; reduced to
///   printable ASCII and at most 128 characters.
/// * `primaries`, `white` — the colour space's chromaticities; the colorants
///   are stored adapted from `white` to D50 with the Bradford transform, and
///   `wtpt` holds `white` itself (XYZ with Y = 1), as v2 display profiles do.
/// * `transfer` — the tone curve shared by the three channels.
///
/// Fails with [`Error::InvalidParameter`] for impossible chromaticities
/// (y ≤ 0, collinear primaries) or a non-finite / non-positive gamma.
///
/// ```
/// use rawflow::internals::color::icc::{matrix_trc_profile, Transfer, ADOBE_RGB_PRIMARIES, D65};
/// let adobe = matrix_trc_profile(
///     "Adobe RGB (1998) compatible",
///     &ADOBE_RGB_PRIMARIES,
///     D65,
///     Transfer::Gamma(563.0 / 256.0),
/// )?;
/// assert_eq!(&adobe[36..40], b"acsp");
/// # Ok::<(), rawflow::Error>(())
/// ```
pub fn matrix_trc_profile(
    name: &str,
    primaries: &Primaries,
    white: Chromaticity,
    transfer: Transfer,
) -> Result<Vec<u8>> {
    transfer.validate()?;
    let m = rgb_to_pcs_matrix(primaries, white)?;
    let white_xyz = xy_to_xyz(white)?;
    let column = |j: usize| [m[0][j], m[1][j], m[2][j]];

    let curve = curv_tag(transfer);
    // (signature, data); data `None` means "same element as the previous tag".
    let tags: [(&[u8; 4], Option<Vec<u8>>); 9] = [
        (b"desc", Some(desc_tag(&clean_text(name)))),
        (b"cprt", Some(text_tag("No copyright, use freely"))),
        (b"wtpt", Some(xyz_tag(white_xyz))),
        (b"rXYZ", Some(xyz_tag(column(0)))),
        (b"gXYZ", Some(xyz_tag(column(1)))),
        (b"bXYZ", Some(xyz_tag(column(2)))),
        (b"rTRC", Some(curve)),
        (b"gTRC", None),
        (b"bTRC", None),
    ];

    let header_len = 128;
    let table_len = 4 + 12 * tags.len();
    let mut data = Vec::new();
    let mut table = Vec::with_capacity(table_len);
    table.extend_from_slice(&(tags.len() as u32).to_be_bytes());
    let mut last = (0u32, 0u32);
    for (sig, element) in &tags {
        if let Some(bytes) = element {
            let offset = (header_len + table_len + data.len()) as u32;
            data.extend_from_slice(bytes);
            while data.len() % 4 != 0 {
                data.push(0);
            }
            last = (offset, bytes.len() as u32);
        }
        table.extend_from_slice(*sig);
        table.extend_from_slice(&last.0.to_be_bytes());
        table.extend_from_slice(&last.1.to_be_bytes());
    }

    let size = header_len + table_len + data.len();
    let mut p = Vec::with_capacity(size);
    p.extend_from_slice(&(size as u32).to_be_bytes()); // 0: profile size
    p.extend_from_slice(&[0; 4]); // 4: preferred CMM
    p.extend_from_slice(&[0x02, 0x40, 0x00, 0x00]); // 8: version 2.4.0
    p.extend_from_slice(b"mntr"); // 12: device class
    p.extend_from_slice(b"RGB "); // 16: data colour space
    p.extend_from_slice(b"XYZ "); // 20: PCS
    for v in [2025u16, 1, 1, 0, 0, 0] {
        p.extend_from_slice(&v.to_be_bytes()); // 24: creation date (fixed: reproducible output)
    }
    p.extend_from_slice(b"acsp"); // 36: file signature
    p.extend_from_slice(&[0; 4]); // 40: primary platform
    p.extend_from_slice(&[0; 4]); // 44: flags
    p.extend_from_slice(&[0; 4]); // 48: device manufacturer
    p.extend_from_slice(&[0; 4]); // 52: device model
    p.extend_from_slice(&[0; 8]); // 56: device attributes
    p.extend_from_slice(&[0; 4]); // 64: rendering intent (perceptual)
    for v in PCS_D50_XYZ {
        p.extend_from_slice(&s15f16(v)); // 68: PCS illuminant
    }
    p.extend_from_slice(&[0; 4]); // 80: creator
    p.extend_from_slice(&[0; 16]); // 84: profile ID (unused in v2)
    p.extend_from_slice(&[0; 28]); // 100: reserved
    debug_assert_eq!(p.len(), header_len);
    p.extend_from_slice(&table);
    p.extend_from_slice(&data);
    debug_assert_eq!(p.len(), size);
    Ok(p)
}

/// The ICC profile of sRGB (IEC 61966-2-1), built once and cached.
pub(crate) fn srgb_profile() -> &'static [u8] {
    static PROFILE: OnceLock<Vec<u8>> = OnceLock::new();
    PROFILE.get_or_init(|| {
        // The inputs are constants known to be valid; an error here is impossible,
        // but fall back to "no profile" rather than panic.
        matrix_trc_profile("sRGB IEC61966-2.1", &SRGB_PRIMARIES, D65, Transfer::SRGB)
            .unwrap_or_default()
    })
}

/// Whether `profile` is the engine's own sRGB profile.
pub(crate) fn is_srgb(profile: &[u8]) -> bool {
    profile == srgb_profile()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lcms2::{Intent, PixelFormat, Profile, Transform};

    fn be_u32(p: &[u8], at: usize) -> u32 {
        u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
    }

    fn grid() -> Vec<[u8; 3]> {
        let steps: Vec<u8> = (0..=255u16).step_by(15).map(|v| v as u8).collect();
        let mut out = Vec::new();
        for &r in &steps {
            for &g in &steps {
                for &b in &steps {
                    out.push([r, g, b]);
                }
            }
        }
        // All grey levels and all single-channel ramps too.
        for v in 0..=255u8 {
            out.extend([[v, v, v], [v, 0, 0], [0, v, 0], [0, 0, v]]);
        }
        out
    }

    fn max_diff(a: &[[u8; 3]], b: &[[u8; 3]]) -> u8 {
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn srgb_header_is_well_formed() {
        let p = srgb_profile();
        assert!(p.len() > 128);
        assert_eq!(be_u32(p, 0) as usize, p.len());
        assert_eq!(p.len() % 4, 0);
        assert_eq!(&p[8..12], &[2, 0x40, 0, 0]);
        assert_eq!(&p[12..16], b"mntr");
        assert_eq!(&p[16..20], b"RGB ");
        assert_eq!(&p[20..24], b"XYZ ");
        assert_eq!(&p[36..40], b"acsp");
        assert_eq!(
            &p[68..80],
            &[0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D]
        );
        // Every tag lies inside the profile and starts 4-aligned.
        let n = be_u32(p, 128) as usize;
        assert_eq!(n, 9);
        for i in 0..n {
            let e = 132 + 12 * i;
            let (off, len) = (be_u32(p, e + 4) as usize, be_u32(p, e + 8) as usize);
            assert_eq!(off % 4, 0);
            assert!(off + len <= p.len());
        }
        assert!(is_srgb(p));
    }

    #[test]
    fn srgb_colorants_match_published_d50_values() {
        let m = rgb_to_pcs_matrix(&SRGB_PRIMARIES, D65).expect("valid");
        // The D50-adapted sRGB colorants as published with the ICC sRGB profiles.
        let expected = [
            [0.4361, 0.3851, 0.1431],
            [0.2225, 0.7169, 0.0606],
            [0.0139, 0.0971, 0.7141],
        ];
        for i in 0..3 {
            for j in 0..3 {
                assert!(
                    (m[i][j] - expected[i][j]).abs() < 2e-4,
                    "{i},{j}: {}",
                    m[i][j]
                );
            }
        }
        // White maps to D50.
        for (i, d50) in PCS_D50_XYZ.iter().enumerate() {
            let sum: f64 = m[i].iter().sum();
            assert!((sum - d50).abs() < 1e-6);
        }
    }

    #[test]
    fn srgb_profile_is_identity_against_lcms_srgb() {
        let ours = Profile::new_icc(srgb_profile()).expect("lcms2 opens our profile");
        let theirs = Profile::new_srgb();
        let input = grid();
        for (from, to) in [(&ours, &theirs), (&theirs, &ours)] {
            let t = Transform::new(
                from,
                PixelFormat::RGB_8,
                to,
                PixelFormat::RGB_8,
                Intent::RelativeColorimetric,
            )
            .expect("transform");
            let mut out = vec![[0u8; 3]; input.len()];
            t.transform_pixels(&input, &mut out);
            let d = max_diff(&input, &out);
            println!("max difference {d}/255");
            assert!(d <= 1, "max difference {d}/255");
        }
    }

    fn lcms_gamma_profile(primaries: &Primaries, white: Chromaticity, gamma: f64) -> Profile {
        let xyy = |c: Chromaticity| lcms2::CIExyY {
            x: c.x,
            y: c.y,
            Y: 1.0,
        };
        let prim = lcms2::CIExyYTRIPLE {
            Red: xyy(primaries.red),
            Green: xyy(primaries.green),
            Blue: xyy(primaries.blue),
        };
        let curve = lcms2::ToneCurve::new(gamma);
        Profile::new_rgb(&xyy(white), &prim, &[&curve, &curve, &curve]).expect("lcms profile")
    }

    #[test]
    fn gamma_profiles_match_lcms_built_equivalents() {
        let cases = [
            ("Adobe RGB", ADOBE_RGB_PRIMARIES, D65, 563.0 / 256.0),
            ("ProPhoto", PROPHOTO_PRIMARIES, D50, 1.8),
        ];
        let input = grid();
        for (name, prim, white, gamma) in cases {
            let bytes =
                matrix_trc_profile(name, &prim, white, Transfer::Gamma(gamma)).expect("build");
            assert_eq!(be_u32(&bytes, 0) as usize, bytes.len());
            let ours = Profile::new_icc(&bytes).expect("lcms2 opens it");
            let theirs = lcms_gamma_profile(&prim, white, gamma);
            let t = Transform::new(
                &ours,
                PixelFormat::RGB_8,
                &theirs,
                PixelFormat::RGB_8,
                Intent::RelativeColorimetric,
            )
            .expect("transform");
            let mut out = vec![[0u8; 3]; input.len()];
            t.transform_pixels(&input, &mut out);
            let d = max_diff(&input, &out);
            assert!(d <= 1, "{name}: max difference {d}/255");
        }
    }

    #[test]
    fn display_p3_opens_and_differs_from_srgb() {
        let p3 = matrix_trc_profile("Display P3", &DISPLAY_P3_PRIMARIES, D65, Transfer::SRGB)
            .expect("build");
        let ours = Profile::new_icc(&p3).expect("opens");
        let srgb = Profile::new_srgb();
        let t = Transform::new(
            &ours,
            PixelFormat::RGB_8,
            &srgb,
            PixelFormat::RGB_8,
            Intent::RelativeColorimetric,
        )
        .expect("transform");
        let input = [[255u8, 255, 255], [128, 128, 128], [0, 255, 0]];
        let mut out = [[0u8; 3]; 3];
        t.transform_pixels(&input, &mut out);
        assert!(
            max_diff(&input[..2], &out[..2]) <= 1,
            "white and grey stay neutral"
        );
        assert!(
            out[2][1] == 255 && out[2][0] == 0 && out[2][2] == 0,
            "P3 green is out of sRGB gamut: {:?}",
            out[2]
        );
        assert!(!is_srgb(&p3));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let bad_white = Chromaticity { x: 0.3, y: 0.0 };
        assert!(matrix_trc_profile("x", &SRGB_PRIMARIES, bad_white, Transfer::SRGB).is_err());
        let collinear = Primaries {
            red: Chromaticity { x: 0.1, y: 0.1 },
            green: Chromaticity { x: 0.2, y: 0.2 },
            blue: Chromaticity { x: 0.3, y: 0.3 },
        };
        assert!(matrix_trc_profile("x", &collinear, D65, Transfer::SRGB).is_err());
        assert!(matrix_trc_profile("x", &SRGB_PRIMARIES, D65, Transfer::Gamma(f64::NAN)).is_err());
        assert!(matrix_trc_profile("x", &SRGB_PRIMARIES, D65, Transfer::Gamma(-1.0)).is_err());
        // Absurd names are cleaned, not rejected.
        let p = matrix_trc_profile(&"\0é".repeat(10_000), &SRGB_PRIMARIES, D65, Transfer::SRGB)
            .expect("ok");
        assert!(Profile::new_icc(&p).is_ok());
    }
}
