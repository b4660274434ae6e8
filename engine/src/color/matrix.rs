//! Colour: white-balanced camera RGB → linear sRGB through the camera matrix.
//!
//! The file's matrix maps XYZ (D65) to camera RGB. Chained with sRGB → XYZ it
//! maps sRGB to camera RGB; each row is scaled to sum to 1 so that sRGB white
//! maps to camera (1, 1, 1), which is what white balance makes of a neutral.
//! The inverse of that matrix then takes white-balanced camera RGB to sRGB and
//! keeps neutrals neutral whatever white balance was chosen.

use rayon::prelude::*;

use crate::image::RgbF32;

/// A 3×3 matrix, rows first.
pub type Matrix3 = [[f32; 3]; 3];

/// Linear sRGB (D65) → XYZ (IEC 61966-2-1).
pub const SRGB_TO_XYZ: Matrix3 = [
    [0.412_456_4, 0.357_576_1, 0.180_437_5],
    [0.212_672_9, 0.715_152_2, 0.072_175_0],
    [0.019_333_9, 0.119_192, 0.950_304_1],
];

/// The identity matrix.
pub const IDENTITY: Matrix3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

/// A 3×3 matrix in double precision, for calculations that iterate or chain.
pub(crate) type Matrix3d = [[f64; 3]; 3];

/// `a · b` in double precision.
pub(crate) fn multiply_f64(a: &Matrix3d, b: &Matrix3d) -> Matrix3d {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

/// The inverse of `m` in double precision, or `None` when it is singular.
pub(crate) fn invert_f64(m: &Matrix3d) -> Option<Matrix3d> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    Some([
        [
            (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det,
            (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det,
            (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det,
        ],
        [
            (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det,
            (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det,
            (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det,
        ],
        [
            (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det,
            (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det,
            (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det,
        ],
    ])
}

/// `a · b` (computed in double precision).
pub fn multiply(a: &Matrix3, b: &Matrix3) -> Matrix3 {
    let wide = |m: &Matrix3| m.map(|r| r.map(f64::from));
    multiply_f64(&wide(a), &wide(b)).map(|r| r.map(|v| v as f32))
}

/// The inverse of `m`, or `None` when it is singular.
pub fn invert(m: &Matrix3) -> Option<Matrix3> {
    invert_f64(&m.map(|r| r.map(f64::from))).map(|inv| inv.map(|r| r.map(|v| v as f32)))
}

/// The matrix taking white-balanced camera RGB to linear sRGB, from the file's
/// XYZ → camera matrix (identity when the file has none or it is unusable).
pub fn camera_to_srgb(xyz_to_cam: Option<&Matrix3>) -> Matrix3 {
    let Some(xyz_to_cam) = xyz_to_cam else {
        return IDENTITY;
    };
    let mut srgb_to_cam = multiply(xyz_to_cam, &SRGB_TO_XYZ);
    for row in &mut srgb_to_cam {
        let sum: f32 = row.iter().sum();
        if sum.abs() < 1e-6 || !sum.is_finite() {
            return IDENTITY;
        }
        for v in row.iter_mut() {
            *v /= sum;
        }
    }
    invert(&srgb_to_cam).unwrap_or(IDENTITY)
}

/// One output channel of a matrix row applied to (`r`, `g`, `b`), summed
/// left to right: the arithmetic of [`apply_matrix`], which the strip path's
/// tile finisher calls per pixel too.
#[inline(always)]
pub(crate) fn channel(row: &[f32; 3], r: f32, g: f32, b: f32) -> f32 {
    row[0] * r + row[1] * g + row[2] * b
}

/// Multiply every pixel by `m`.
pub fn apply_matrix(image: &mut RgbF32, m: &Matrix3) {
    image.data.par_chunks_mut(3 * 4096).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(3) {
            let [r, g, b] = [px[0], px[1], px[2]];
            for (o, row) in px.iter_mut().zip(m) {
                *o = channel(row, r, g, b);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANON_5D2: Matrix3 = [
        [0.4716, 0.0603, -0.0830],
        [-0.7798, 1.5474, 0.2480],
        [-0.1496, 0.1937, 0.6651],
    ];

    #[test]
    fn neutral_stays_neutral() {
        let m = camera_to_srgb(Some(&CANON_5D2));
        for row in m {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{m:?}");
        }
    }

    #[test]
    fn inverse_round_trips() {
        let inv = invert(&CANON_5D2).unwrap();
        let id = multiply(&CANON_5D2, &inv);
        for (i, row) in id.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn singular_matrices_fall_back_to_identity() {
        assert_eq!(camera_to_srgb(Some(&[[1.0, 1.0, 1.0]; 3])), IDENTITY);
        assert_eq!(camera_to_srgb(Some(&[[0.0; 3]; 3])), IDENTITY);
    }
}
