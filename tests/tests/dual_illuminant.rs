//! DNG dual-illuminant colour: a ColorChecker lit by a 4000 K black body,
//! recorded by a camera with Adobe's Standard light A and D65 matrices for the
//! Canon EOS 5D Mark II, developed with the as-shot white balance. The DNG
//! interpolation of the two matrices must beat the D65 matrix alone (the
//! behaviour before dual-illuminant support), against the ground truth, and
//! keep greys neutral.

use rawflow::internals::color::{calibration, locus};
use rawflow::internals::develop::develop_linear;
use rawflow::RawImage;
use rawflow::{DevelopOptions, Timings, WhiteBalance};
use rawflow_corpus::ciede2000::linear_srgb_to_lab;
use rawflow_corpus::color::srgb_to_linear;
use rawflow_corpus::scenes::{color_checker, color_checker_patches};
use rawflow_corpus::score::{patch_delta_e, ScoreInput};
use rawflow_corpus::{SceneLight, SynthParams};

const W: usize = 384;
const H: usize = 256;

/// Linear sRGB from the engine, scored as is.
struct Linear {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl ScoreInput for Linear {
    fn dims(&self) -> (usize, usize) {
        (self.width, self.height)
    }
    fn encoded(&self, i: usize) -> f64 {
        rawflow_corpus::color::linear_to_srgb(self.linear(i))
    }
    fn linear(&self, i: usize) -> f64 {
        self.data.get(i).map_or(0.0, |v| f64::from(*v))
    }
}

fn develop(raw: &RawImage, wb: WhiteBalance) -> Linear {
    let options = DevelopOptions {
        white_balance: wb,
        ..DevelopOptions::default()
    };
    let img = develop_linear(raw, &options, &mut Timings::default()).expect("develop");
    Linear {
        width: img.width,
        height: img.height,
        data: img.data,
    }
}

/// Mean and max ΔE2000 over the 24 patches, and the largest chroma error
/// (a*, b* distance from the truth's) of the six greys.
fn score(img: &Linear) -> (f64, f64, f64) {
    let patches = color_checker_patches(W, H);
    let de = patch_delta_e(img, &patches, 4);
    assert_eq!(de.len(), 24);
    let mean = de.iter().map(|(_, d)| d).sum::<f64>() / de.len() as f64;
    let max = de.iter().map(|(_, d)| *d).fold(0.0, f64::max);
    // The bottom row of the chart: white to black.
    let mut grey_chroma = 0.0f64;
    for p in &patches[18..24] {
        let p = p.inset(4).expect("patch");
        let mut sum = [0.0; 3];
        for y in p.y..p.y + p.h {
            for x in p.x..p.x + p.w {
                for (c, s) in sum.iter_mut().enumerate() {
                    *s += img.linear((y * W + x) * 3 + c);
                }
            }
        }
        let n = (p.w * p.h) as f64;
        let lab = linear_srgb_to_lab(sum.map(|s| s / n));
        let truth = linear_srgb_to_lab(p.rgb.map(|v| srgb_to_linear(f64::from(v) / 255.0)));
        grey_chroma = grey_chroma.max((lab.a - truth.a).hypot(lab.b - truth.b));
    }
    (mean, max, grey_chroma)
}

fn dual_raw(kelvin: f64) -> RawImage {
    let params = SynthParams {
        light: Some(SceneLight::canon_5d_mark_ii(kelvin)),
        ..SynthParams::default()
    };
    let truth = color_checker(W, H);
    assert_eq!(
        rawflow_corpus::synth::clipped_samples(&truth, &params).expect("params"),
        0
    );
    let dng = rawflow_corpus::write_dng(&truth, &params).expect("dng");
    rawflow::decode_bytes(&dng).expect("decode")
}

#[test]
fn interpolated_matrices_beat_the_d65_matrix_under_4000k() {
    let raw = dual_raw(4000.0);
    let dual = raw.dual_illuminant.expect("both matrices are read");
    assert_eq!((dual.low.illuminant, dual.high.illuminant), (17, 21));
    let mut single = raw.clone();
    single.dual_illuminant = None;

    let (de_dual, max_dual, grey_dual) = score(&develop(&raw, WhiteBalance::AsShot));
    let (de_single, max_single, grey_single) = score(&develop(&single, WhiteBalance::AsShot));
    // For the record: the interpolated matrix through the single-matrix
    // path (white balance in camera space, no Bradford adaptation).
    let mut interpolated_only = single.clone();
    let as_shot = raw.as_shot_wb.expect("as-shot neutral");
    let white = calibration::neutral_to_xy(&dual, as_shot.map(|m| 1.0 / m)).expect("white");
    interpolated_only.xyz_to_cam = Some(calibration::xyz_to_camera_at(&dual, white));
    let (de_mid, max_mid, _) = score(&develop(&interpolated_only, WhiteBalance::AsShot));
    // And the D65 matrix alone through the DNG path (Bradford, no interpolation):
    // what the interpolation itself buys.
    let mut d65_bradford = raw.clone();
    let d65_twice = rawflow::internals::raw::CalibratedMatrix {
        illuminant: 17,
        temperature: 2856.0,
        ..dual.high
    };
    d65_bradford.dual_illuminant =
        rawflow::internals::raw::DualIlluminant::new(d65_twice, dual.high);
    let (de_d65_b, max_d65_b, _) = score(&develop(&d65_bradford, WhiteBalance::AsShot));
    assert!(de_dual < de_d65_b, "{de_dual} vs {de_d65_b}");
    println!(
        "4000 K, as shot: interpolated (DNG) mean ΔE2000 {de_dual:.3} (max {max_dual:.3}, grey chroma error {grey_dual:.3}); \
         D65 matrix only {de_single:.3} (max {max_single:.3}, grey {grey_single:.3}); \
         interpolated matrix without Bradford {de_mid:.3} (max {max_mid:.3}); \
         D65 matrix with Bradford {de_d65_b:.3} (max {max_d65_b:.3}); \
         white found at {:.0} K",
        locus::xy_to_temperature(white)
    );
    assert!((locus::xy_to_temperature(white) - 4000.0).abs() < 20.0);
    assert!(de_dual <= de_mid, "{de_dual} vs {de_mid}");
    assert!(de_dual < de_single, "{de_dual} vs {de_single}");
    assert!(de_dual < 0.5, "interpolated mean ΔE {de_dual}");
    assert!(grey_dual < 0.2, "greys stay neutral: {grey_dual}");

    // A Kelvin request goes through the interpolated matrix too.
    let kelvin = WhiteBalance::Kelvin {
        temperature: 4000.0,
        tint: 0.0,
    };
    let (de_k_dual, ..) = score(&develop(&raw, kelvin));
    let (de_k_single, ..) = score(&develop(&single, kelvin));
    println!(
        "4000 K, Kelvin 4000/0: interpolated {de_k_dual:.3}, D65 matrix only {de_k_single:.3}"
    );
    assert!(de_k_dual < de_k_single, "{de_k_dual} vs {de_k_single}");
}

#[test]
fn at_the_calibration_illuminants_the_interpolation_is_exact() {
    for kelvin in [2856.0, 6504.0] {
        let raw = dual_raw(kelvin);
        let (de, max, grey) = score(&develop(&raw, WhiteBalance::AsShot));
        println!("{kelvin} K: mean ΔE2000 {de:.3}, max {max:.3}, grey chroma error {grey:.3}");
        assert!(de < 0.5, "{kelvin} K: {de}");
        assert!(grey < 0.2, "{kelvin} K: grey {grey}");
    }
}

#[test]
fn single_matrix_files_have_no_pair() {
    let truth = color_checker(96, 64);
    let dng = rawflow_corpus::write_dng(&truth, &SynthParams::default()).expect("dng");
    let raw = rawflow::decode_bytes(&dng).expect("decode");
    assert!(raw.dual_illuminant.is_none());
    assert!(raw.xyz_to_cam.is_some());
}
