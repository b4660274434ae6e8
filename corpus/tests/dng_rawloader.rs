//! The DNGs decode with rawloader 0.37 and carry exactly the intended
//! parameters and samples; an ideal developer reproduces the truth.

use std::io::Cursor;

use rawflow_corpus::color::{inverse, linear_to_srgb, mul_vec, SRGB_TO_XYZ};
use rawflow_corpus::orientation::{orient_for_display, store_for_orientation};
use rawflow_corpus::synth::{mosaic, XTRANS_PATTERN};
use rawflow_corpus::*;

fn decode(bytes: &[u8]) -> rawloader::RawImage {
    rawloader::decode(&mut Cursor::new(bytes)).expect("rawloader decodes the DNG")
}

fn samples(img: &rawloader::RawImage) -> Vec<u16> {
    match &img.data {
        rawloader::RawImageData::Integer(d) => d.clone(),
        rawloader::RawImageData::Float(_) => panic!("expected integer data"),
    }
}

fn rl_orientation(o: Orientation) -> rawloader::Orientation {
    use rawloader::Orientation as R;
    match o {
        Orientation::Normal => R::Normal,
        Orientation::FlipHorizontal => R::HorizontalFlip,
        Orientation::Rotate180 => R::Rotate180,
        Orientation::FlipVertical => R::VerticalFlip,
        Orientation::Transpose => R::Transpose,
        Orientation::Rotate90Cw => R::Rotate90,
        Orientation::Transverse => R::Transverse,
        Orientation::Rotate270Cw => R::Rotate270,
    }
}

/// Checks every parameter rawloader exposes, and the samples.
fn check(truth: &SrgbImage, p: &SynthParams) -> rawloader::RawImage {
    let dng = write_dng(truth, p).unwrap();
    let raw = decode(&dng);
    let (sw, sh) = if p.orientation.swaps_axes() {
        (truth.height, truth.width)
    } else {
        (truth.width, truth.height)
    };
    assert_eq!((raw.width, raw.height, raw.cpp), (sw, sh, 1));
    assert_eq!(raw.cfa.name, p.cfa.name());
    let want_black = match p.black {
        BlackLevels::Uniform(b) => [b; 4],
        BlackLevels::PerPosition(b) => b,
    };
    assert_eq!(raw.blacklevels, want_black);
    assert_eq!(raw.whitelevels, [p.white_level(); 4]);
    let n = p.as_shot_neutral();
    for (k, nk) in n.iter().enumerate() {
        let want = 1.0 / nk;
        assert!(
            (f64::from(raw.wb_coeffs[k]) - want).abs() < 1e-5 * want,
            "wb {k}"
        );
    }
    let cm = p.camera.color_matrix();
    for (i, row) in cm.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            assert!((f64::from(raw.xyz_to_cam[i][j]) - v).abs() < 1e-6);
        }
    }
    assert_eq!(raw.orientation, rl_orientation(p.orientation));
    assert_eq!(raw.make, p.camera.make);
    let want = synthesize(truth, p).unwrap();
    assert_eq!(samples(&raw), want.data);
    raw
}

fn truth() -> SrgbImage {
    scenes::color_chart(48, 36)
}

#[test]
fn all_bayer_phases_and_bit_depths() {
    for phase in BayerPhase::ALL {
        for bits in [12u8, 14, 16] {
            let p = SynthParams {
                cfa: CfaLayout::Bayer(phase),
                bits,
                black: BlackLevels::Uniform(if bits == 12 { 128 } else { 1024 }),
                ..SynthParams::default()
            };
            let raw = check(&truth(), &p);
            assert_eq!(raw.whitelevels[0], ((1u32 << bits) - 1) as u16);
            // The CFA colour rawloader reports matches ours everywhere.
            for (y, x) in [(0, 0), (0, 1), (1, 0), (1, 1), (7, 4)] {
                assert_eq!(raw.cfa.color_at(y, x), p.cfa.color_at(x, y));
            }
        }
    }
}

#[test]
fn xtrans_with_fuji_matrix() {
    let p = SynthParams {
        cfa: CfaLayout::XTrans,
        camera: FUJIFILM_X_T2,
        black: BlackLevels::Uniform(1024),
        ..SynthParams::default()
    };
    let raw = check(&truth(), &p);
    assert_eq!((raw.cfa.width, raw.cfa.height), (6, 6));
    assert_eq!(raw.cfa.name, XTRANS_PATTERN);
    for y in 0..12 {
        for x in 0..12 {
            assert_eq!(raw.cfa.color_at(y, x), p.cfa.color_at(x, y));
        }
    }
}

#[test]
fn per_position_black_and_custom_white() {
    let p = SynthParams {
        black: BlackLevels::PerPosition([510, 514, 506, 520]),
        white: Some(15000),
        camera: NIKON_D700,
        ..SynthParams::default()
    };
    let raw = check(&truth(), &p);
    // Black (RGB 0,0,0) photosites sit exactly on their position's black.
    let black = SrgbImage::filled(4, 4, [0, 0, 0]);
    let m = mosaic(&black, &p).unwrap();
    assert_eq!(&m.data[0..2], &[510, 514]);
    assert_eq!(&m.data[4..6], &[506, 520]);
    assert_eq!(raw.whitelevels, [15000; 4]);
}

#[test]
fn every_orientation_is_stored_unrotated() {
    // Asymmetric truth: a gradient in x, a different one in y.
    let truth = SrgbImage::from_fn(20, 12, |x, y| [(x * 12) as u8, (y * 20) as u8, 90]);
    for o in Orientation::ALL {
        let p = SynthParams {
            orientation: o,
            camera: SONY_ILCE_7M3,
            ..SynthParams::default()
        };
        check(&truth, &p);
        let stored = store_for_orientation(&truth, o);
        assert_eq!(orient_for_display(&stored, o), truth);
    }
}

#[test]
fn white_hits_the_white_level_in_the_largest_neutral_channel() {
    let p = SynthParams::default();
    let n = p.as_shot_neutral();
    let top = (0..3).max_by(|&a, &b| n[a].total_cmp(&n[b])).unwrap();
    let white = SrgbImage::filled(2, 2, [255, 255, 255]);
    let m = mosaic(&white, &p).unwrap();
    // RGGB: index 0 R, 1 and 2 G, 3 B.
    let site = [0usize, 1, 3][top];
    assert_eq!(m.data[site], p.white_level());
    // Headroom 0.5 halves the signal above black.
    let half = mosaic(
        &white,
        &SynthParams {
            headroom: 0.5,
            ..p.clone()
        },
    )
    .unwrap();
    let want = 512.0 + (f64::from(p.white_level()) - 512.0) / 2.0;
    assert!((f64::from(half.data[site]) - want).abs() <= 0.5);
}

#[test]
fn noise_is_seeded_and_sized() {
    let grey = SrgbImage::filled(64, 64, [128, 128, 128]);
    let noisy = |seed| SynthParams {
        noise: Some(Noise {
            seed,
            read_noise_dn: 4.0,
            shot_gain_dn: 0.5,
        }),
        ..SynthParams::default()
    };
    let a = synthesize(&grey, &noisy(1)).unwrap();
    let b = synthesize(&grey, &noisy(1)).unwrap();
    let c = synthesize(&grey, &noisy(2)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let clean = synthesize(&grey, &SynthParams::default()).unwrap();
    // Green photosites (RGGB (1,0)) : measured spread vs the model.
    let mut diffs = Vec::new();
    let mut signal = 0.0;
    for y in 0..64 {
        for x in 0..64 {
            if (x + y) % 2 == 1 {
                let i = y * 64 + x;
                diffs.push(f64::from(a.data[i]) - f64::from(clean.data[i]));
                signal = f64::from(clean.data[i]) - 512.0;
            }
        }
    }
    let var = diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64;
    let want = 16.0 + 0.5 * signal;
    assert!(
        (var / want - 1.0).abs() < 0.15,
        "variance {var}, model {want}"
    );
}

/// Develops a raw whose truth is constant over every CFA tile, the way a
/// correct developer would (DNG colour model), using only what rawloader read.
fn ideal_develop(raw: &rawloader::RawImage, tile: usize) -> SrgbImage {
    let data = samples(raw);
    let cm = [0, 1, 2].map(|i| raw.xyz_to_cam[i].map(f64::from));
    let cam_to_xyz = inverse(&cm).unwrap();
    let neutral = [0, 1, 2].map(|k| 1.0 / f64::from(raw.wb_coeffs[k]));
    // Scale so that the camera neutral maps to Y = 1.
    let y_neutral = mul_vec(&cam_to_xyz, neutral)[1];
    let xyz_to_srgb = inverse(&SRGB_TO_XYZ).unwrap();
    let (w, h) = (raw.width / tile, raw.height / tile);
    SrgbImage::from_fn(w, h, |bx, by| {
        let mut sum = [0.0; 3];
        let mut cnt = [0.0; 3];
        for y in by * tile..(by + 1) * tile {
            for x in bx * tile..(bx + 1) * tile {
                let c = raw.cfa.color_at(y, x);
                let pos = (y % 2) * 2 + x % 2;
                let black = f64::from(raw.blacklevels[pos]);
                let white = f64::from(raw.whitelevels[0]);
                sum[c] += (f64::from(data[y * raw.width + x]) - black) / (white - black);
                cnt[c] += 1.0;
            }
        }
        let cam = [0, 1, 2].map(|k| sum[k] / cnt[k]);
        let xyz = mul_vec(&cam_to_xyz, cam).map(|v| v / y_neutral);
        mul_vec(&xyz_to_srgb, xyz)
            .map(|v| (linear_to_srgb(v.clamp(0.0, 1.0)) * 255.0).round() as u8)
    })
}

fn upscale(img: &SrgbImage, f: usize) -> SrgbImage {
    SrgbImage::from_fn(img.width * f, img.height * f, |x, y| {
        img.get(x / f, y / f).unwrap()
    })
}

#[test]
fn ideal_developer_reproduces_the_truth() {
    let small = scenes::color_chart(60, 40);
    for (cfa, camera, tile) in [
        (CfaLayout::Bayer(BayerPhase::Gbrg), CANON_EOS_5D_MARK_II, 2),
        (CfaLayout::Bayer(BayerPhase::Rggb), NIKON_D700, 2),
        (CfaLayout::XTrans, FUJIFILM_X_T2, 6),
    ] {
        let p = SynthParams {
            cfa,
            camera,
            black: BlackLevels::PerPosition([1000, 1004, 996, 1002]),
            ..SynthParams::default()
        };
        assert_eq!(synth::clipped_samples(&small, &p).unwrap(), 0);
        let raw = decode(&write_dng(&upscale(&small, tile), &p).unwrap());
        let dev = ideal_develop(&raw, tile);
        let s = score(&dev, &small, 0).unwrap();
        // 14-bit quantisation only: at most one code off on a few samples.
        assert!(s.cpsnr_db > 55.0, "{cfa:?}: {s:?}");
        assert!(s.delta_e2000_mean < 0.05, "{cfa:?}: {s:?}");
        assert!((s.exposure_ratio - 1.0).abs() < 1e-3, "{cfa:?}: {s:?}");
        let max_diff = dev
            .data
            .iter()
            .zip(&small.data)
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(max_diff <= Some(1), "{cfa:?}: max diff {max_diff:?}");
    }
}

#[test]
fn procedural_scenes_are_inside_every_camera_range() {
    for camera in [
        CANON_EOS_5D_MARK_II,
        NIKON_D700,
        SONY_ILCE_7M3,
        FUJIFILM_X_T2,
    ] {
        let p = SynthParams {
            camera,
            ..SynthParams::default()
        };
        for name in scenes::SCENE_NAMES {
            let img = scenes::scene_by_name(name, 96, 64).unwrap();
            assert_eq!(
                synth::clipped_samples(&img, &p).unwrap(),
                0,
                "{name} {}",
                camera.model
            );
        }
        let sample = scenes::sample_scene();
        assert_eq!(
            synth::clipped_samples(&sample, &p).unwrap(),
            0,
            "sample {}",
            camera.model
        );
    }
}

#[test]
fn invalid_params_are_errors() {
    let img = truth();
    let bad = [
        SynthParams {
            bits: 10,
            ..SynthParams::default()
        },
        SynthParams {
            black: BlackLevels::Uniform(20000),
            ..SynthParams::default()
        },
        SynthParams {
            white: Some(20000),
            ..SynthParams::default()
        },
        SynthParams {
            headroom: f64::NAN,
            ..SynthParams::default()
        },
    ];
    for p in bad {
        assert!(write_dng(&img, &p).is_err(), "{p:?}");
    }
}

#[test]
fn exif_metadata_reads_back_with_kamadak_exif() {
    let p = SynthParams {
        orientation: Orientation::Rotate270Cw,
        camera: NIKON_D700,
        ..SynthParams::default()
    };
    let dng = write_dng(&truth(), &p).unwrap();
    let exif = exif::Reader::new()
        .read_raw(dng)
        .expect("kamadak-exif parses the DNG's TIFF structure");
    let field = |tag| {
        exif.get_field(tag, exif::In::PRIMARY)
            .unwrap_or_else(|| panic!("missing {tag}"))
    };
    let ascii = |tag| match &field(tag).value {
        exif::Value::Ascii(v) => String::from_utf8(v[0].clone()).unwrap(),
        v => panic!("{tag}: {v:?}"),
    };
    let rational = |tag| match &field(tag).value {
        exif::Value::Rational(v) => (v[0].num, v[0].denom),
        v => panic!("{tag}: {v:?}"),
    };
    assert_eq!(ascii(exif::Tag::Make), "NIKON CORPORATION");
    assert_eq!(ascii(exif::Tag::Model), "NIKON D700");
    assert_eq!(
        ascii(exif::Tag::DateTimeOriginal),
        p.capture.date_time_original
    );
    assert_eq!(ascii(exif::Tag::LensModel), "Synthetic 50mm F1.4");
    assert_eq!(rational(exif::Tag::ExposureTime), p.capture.exposure_time);
    assert_eq!(rational(exif::Tag::FNumber), p.capture.f_number);
    assert_eq!(rational(exif::Tag::FocalLength), p.capture.focal_length);
    assert_eq!(
        field(exif::Tag::PhotographicSensitivity).value.get_uint(0),
        Some(u32::from(p.capture.iso))
    );
    assert_eq!(field(exif::Tag::Orientation).value.get_uint(0), Some(8));
}
