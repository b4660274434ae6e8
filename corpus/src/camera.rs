//! Camera colour characterisations used to synthesise raw values.

use crate::color::Mat3;

/// A camera: names written into the DNG and its ColorMatrix1
/// (XYZ (D65) → camera native), in units of 1/10000 as Adobe publishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Camera {
    /// TIFF Make.
    pub make: &'static str,
    /// TIFF Model.
    pub model: &'static str,
    /// DNG UniqueCameraModel.
    pub unique_model: &'static str,
    /// ColorMatrix1 for CalibrationIlluminant1 = D65, row major, × 10000.
    pub color_matrix_1e4: [i32; 9],
}

impl Camera {
    /// ColorMatrix1 as floating point (exactly the rational values written).
    pub fn color_matrix(&self) -> Mat3 {
        let m = &self.color_matrix_1e4;
        let v = |i: usize| f64::from(m[i]) / 10_000.0;
        [[v(0), v(1), v(2)], [v(3), v(4), v(5)], [v(6), v(7), v(8)]]
    }
}

/// Canon EOS 5D Mark II (Bayer).
pub const CANON_EOS_5D_MARK_II: Camera = Camera {
    make: "Canon",
    model: "Canon EOS 5D Mark II",
    unique_model: "Canon EOS 5D Mark II",
    color_matrix_1e4: [4716, 603, -830, -7798, 15474, 2480, -1496, 1937, 6651],
};

/// The Canon EOS 5D Mark II's XYZ → camera matrix under CIE Standard light A
/// (Adobe DNG Converter's ColorMatrix1, CalibrationIlluminant1 = 17), × 10000.
/// Its ColorMatrix2 (D65) is [`CANON_EOS_5D_MARK_II`]'s matrix (the values
/// dcraw and LibRaw also carry). Source of these numbers: the "A" entry of
/// `data/cameras/canon/5dmk2.toml` in dnglab's camera database (rawler 0.8),
/// which lists Adobe's published DNG matrices for this camera.
pub const CANON_EOS_5D_MARK_II_STD_A_1E4: [i32; 9] =
    [5309, -229, -336, -6241, 13265, 3337, -817, 1215, 6664];

/// Nikon D700 (Bayer).
pub const NIKON_D700: Camera = Camera {
    make: "NIKON CORPORATION",
    model: "NIKON D700",
    unique_model: "Nikon D700",
    color_matrix_1e4: [8139, -2171, -663, -8747, 16541, 2295, -1925, 2008, 8093],
};

/// Sony α7 III (ILCE-7M3, Bayer).
pub const SONY_ILCE_7M3: Camera = Camera {
    make: "SONY",
    model: "ILCE-7M3",
    unique_model: "Sony ILCE-7M3",
    color_matrix_1e4: [7374, -2389, -551, -5435, 13162, 2519, -1006, 1795, 6552],
};

/// Fujifilm X-T2 (X-Trans III), standing in for the X-Trans bodies
/// (X-T3-like response) in X-Trans tests.
pub const FUJIFILM_X_T2: Camera = Camera {
    make: "FUJIFILM",
    model: "X-T2",
    unique_model: "Fujifilm X-T2",
    color_matrix_1e4: [11434, -4948, -1210, -3746, 12042, 1903, -666, 1479, 5235],
};

/// Every bundled camera.
pub const ALL_CAMERAS: [Camera; 4] = [
    CANON_EOS_5D_MARK_II,
    NIKON_D700,
    SONY_ILCE_7M3,
    FUJIFILM_X_T2,
];

/// A bundled camera by short name: `canon-5d2`, `nikon-d700`, `sony-a7m3`, `fuji-xt2`.
pub fn camera_by_name(name: &str) -> Option<Camera> {
    match name.to_ascii_lowercase().as_str() {
        "canon-5d2" | "canon-eos-5d-mark-ii" => Some(CANON_EOS_5D_MARK_II),
        "nikon-d700" => Some(NIKON_D700),
        "sony-a7m3" | "sony-ilce-7m3" => Some(SONY_ILCE_7M3),
        "fuji-xt2" | "fuji-xt3" | "fujifilm-x-t2" => Some(FUJIFILM_X_T2),
        _ => None,
    }
}
