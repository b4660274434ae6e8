//! Tests for every method on every pattern phase.

use std::path::PathBuf;

use super::quality::{cpsnr_srgb8, mosaic_from_rgb, srgb_to_linear};
use super::{demosaic, demosaic_area, demosaic_area_reduced, demosaic_reduced, DemosaicMethod};
use crate::cfa::{BayerPhase, Cfa};
use crate::image::{Mosaic, RgbF32};

/// Every Bayer phase and a few X-Trans shifts.
fn all_patterns() -> Vec<Cfa> {
    let mut v: Vec<Cfa> = BayerPhase::ALL.iter().map(|p| Cfa::bayer(*p)).collect();
    v.push(Cfa::xtrans());
    v.push(Cfa::xtrans().shifted(1, 4));
    v
}

/// A procedural test scene: smooth colour gradients, hard edges, a diagonal
/// line pattern and a small zone plate, in linear light.
fn scene(w: usize, h: usize) -> RgbF32 {
    let mut img = RgbF32::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
            let mut rgb = [
                0.2 + 0.6 * fx,
                0.3 + 0.4 * (fy * 3.0).sin().abs(),
                0.6 - 0.4 * fx * fy,
            ];
            // A saturated disc.
            let (dx, dy) = (fx - 0.3, fy - 0.35);
            if dx * dx + dy * dy < 0.03 {
                rgb = [0.85, 0.08, 0.05];
            }
            // A square with a hard edge.
            if fx > 0.6 && fx < 0.9 && fy > 0.15 && fy < 0.45 {
                rgb = [0.05, 0.2, 0.7];
            }
            // Slanted stripes, coarse enough to be resolvable.
            if fy > 0.6 {
                let s = ((x as f32 + 0.4 * y as f32) * 0.35).sin();
                let v = 0.15 + 0.7 * (0.5 + 0.5 * s);
                rgb = [v, v, v * 0.9];
            }
            let o = (y * w + x) * 3;
            img.data[o..o + 3].copy_from_slice(&rgb);
        }
    }
    img
}

fn run(m: &Mosaic, method: DemosaicMethod) -> RgbF32 {
    match demosaic(m, method) {
        Ok(out) => out,
        Err(e) => panic!("demosaic failed: {e}"),
    }
}

/// Floors in dB on [`scene`] at 96×80 (measured values minus a margin).
fn scene_floor(method: DemosaicMethod, xtrans: bool) -> f64 {
    match (method, xtrans) {
        (DemosaicMethod::Bilinear, false) => 26.0,
        (DemosaicMethod::Fast, false) => 31.3,
        (DemosaicMethod::Best, false) => 27.8,
        (DemosaicMethod::Bilinear, true) => 26.3,
        (_, true) => 27.0,
    }
}

#[test]
fn every_method_and_phase_meets_its_floor_on_a_procedural_scene() {
    let truth = scene(96, 80);
    for cfa in all_patterns() {
        let m = mosaic_from_rgb(&truth, &cfa);
        for method in DemosaicMethod::ALL {
            let out = run(&m, method);
            let q = cpsnr_srgb8(&truth, &out, 8);
            let floor = scene_floor(method, cfa.is_xtrans());
            println!("scene {} {}: {q:.2} dB", cfa.name(), method.name());
            assert!(
                q >= floor,
                "{} on {}: {q:.2} dB < {floor}",
                method.name(),
                cfa.name()
            );
        }
    }
}

/// The Kodak ground truths (shipped in `testdata/`, or `RAWFLOW_CORPUS`'s).
fn corpus_dir() -> Option<PathBuf> {
    Some(rawflow_corpus::corpus_dir().join("groundtruth/kodak24"))
}

/// A `size`×`size` crop of a Kodak image at (`x0`, `y0`), in linear light.
fn kodak_crop(dir: &std::path::Path, n: usize, x0: usize, y0: usize, size: usize) -> RgbF32 {
    let path = dir.join(format!("kodim{n:02}.png"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut dec = png::Decoder::new(std::io::BufReader::new(file));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().unwrap_or_else(|e| panic!("{e}"));
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{e}"));
    let ch = info.color_type.samples();
    let w = info.width as usize;
    let mut img = RgbF32::new(size, size);
    for y in 0..size {
        for x in 0..size {
            for c in 0..3 {
                let v = buf[((y0 + y) * w + x0 + x) * ch + c.min(ch - 1)];
                img.data[(y * size + x) * 3 + c] = srgb_to_linear(v as f32 / 255.0);
            }
        }
    }
    img
}

/// Floors in dB on the Kodak crops below (mean over the crops).
fn kodak_floor(method: DemosaicMethod, xtrans: bool) -> f64 {
    match (method, xtrans) {
        (DemosaicMethod::Bilinear, false) => 29.0,
        (DemosaicMethod::Fast, false) => 36.5,
        (DemosaicMethod::Best, false) => 40.0,
        (DemosaicMethod::Bilinear, true) => 28.0,
        (_, true) => 34.3,
    }
}

#[test]
fn every_method_and_phase_meets_its_floor_on_kodak_crops() {
    let Some(dir) = corpus_dir() else {
        return;
    };
    // Fence (8), lighthouse fence (19), parrots (23): texture, edges, saturated colour.
    let crops = [
        kodak_crop(&dir, 8, 300, 200, 128),
        kodak_crop(&dir, 19, 250, 300, 128),
        kodak_crop(&dir, 23, 300, 150, 128),
    ];
    for cfa in all_patterns() {
        for method in DemosaicMethod::ALL {
            let mut sum = 0.0;
            for truth in &crops {
                let out = run(&mosaic_from_rgb(truth, &cfa), method);
                sum += cpsnr_srgb8(truth, &out, 8);
            }
            let q = sum / crops.len() as f64;
            let floor = kodak_floor(method, cfa.is_xtrans());
            println!("kodak {} {}: {q:.2} dB", cfa.name(), method.name());
            assert!(
                q >= floor,
                "{} on {}: {q:.2} dB < {floor}",
                method.name(),
                cfa.name()
            );
        }
    }
}

#[test]
fn better_methods_beat_bilinear_on_kodak_crops() {
    let Some(dir) = corpus_dir() else {
        return;
    };
    let truth = kodak_crop(&dir, 19, 250, 300, 128);
    for cfa in [Cfa::bayer(BayerPhase::Gbrg), Cfa::xtrans().shifted(2, 5)] {
        let m = mosaic_from_rgb(&truth, &cfa);
        let q = |method| cpsnr_srgb8(&truth, &run(&m, method), 8);
        let bl = q(DemosaicMethod::Bilinear);
        let fast = q(DemosaicMethod::Fast);
        let best = q(DemosaicMethod::Best);
        assert!(
            fast > bl + 1.0,
            "{}: fast {fast:.2} vs bilinear {bl:.2}",
            cfa.name()
        );
        assert!(
            best > bl + 1.0,
            "{}: best {best:.2} vs bilinear {bl:.2}",
            cfa.name()
        );
    }
}

#[test]
fn flat_fields_stay_flat() {
    for cfa in all_patterns() {
        for &v in &[0.0f32, 0.18, 1.0] {
            let m = Mosaic {
                width: 61,
                height: 47,
                cfa: cfa.clone(),
                data: vec![v; 61 * 47],
            };
            for method in DemosaicMethod::ALL {
                let out = run(&m, method);
                for (i, &o) in out.data.iter().enumerate() {
                    assert!(
                        (o - v).abs() < 1e-5,
                        "{} {} value {v}: sample {i} is {o}",
                        cfa.name(),
                        method.name()
                    );
                }
            }
        }
    }
}

#[test]
fn constant_saturated_colours_are_reproduced() {
    for cfa in all_patterns() {
        for colour in [
            [1.0f32, 0.0, 0.0],
            [0.9, 0.2, 0.05],
            [0.02, 0.1, 0.95],
            [0.0, 1.0, 1.0],
        ] {
            let mut truth = RgbF32::new(40, 37);
            for px in truth.data.chunks_exact_mut(3) {
                px.copy_from_slice(&colour);
            }
            let m = mosaic_from_rgb(&truth, &cfa);
            for method in DemosaicMethod::ALL {
                let out = run(&m, method);
                for (i, px) in out.data.chunks_exact(3).enumerate() {
                    for c in 0..3 {
                        assert!(
                            (px[c] - colour[c]).abs() < 1e-4,
                            "{} {} {colour:?}: pixel {i} is {px:?}",
                            cfa.name(),
                            method.name()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn recorded_samples_are_kept() {
    let truth = scene(50, 43);
    for cfa in all_patterns() {
        let m = mosaic_from_rgb(&truth, &cfa);
        for method in DemosaicMethod::ALL {
            let out = run(&m, method);
            for y in 0..m.height {
                for x in 0..m.width {
                    let c = cfa.color_at(y, x).index();
                    assert_eq!(out.data[(y * m.width + x) * 3 + c], m.data[y * m.width + x]);
                }
            }
        }
    }
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let mut sizes = vec![(1, 1), (2, 3), (5, 7), (1, 9), (9, 1), (3, 2)];
    for w in [6, 7, 8, 11, 13, 24, 25, 26, 31] {
        for h in [6, 9, 12, 23, 25, 27] {
            sizes.push((w, h));
        }
    }
    for cfa in all_patterns() {
        for &(w, h) in &sizes {
            let truth = scene(w, h);
            let m = mosaic_from_rgb(&truth, &cfa);
            for method in DemosaicMethod::ALL {
                let out = run(&m, method);
                assert_eq!((out.width, out.height), (w, h));
                assert!(out
                    .data
                    .iter()
                    .all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
            }
        }
    }
}

#[test]
fn wide_images_cross_tiles_without_seams() {
    // Wider and taller than one tile/strip: a smooth image must stay smooth.
    let (w, h) = (1000, 150);
    let mut truth = RgbF32::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let o = (y * w + x) * 3;
            truth.data[o] = 0.3 + 0.2 * x as f32 / w as f32;
            truth.data[o + 1] = 0.4;
            truth.data[o + 2] = 0.5 - 0.2 * y as f32 / h as f32;
        }
    }
    for cfa in [Cfa::bayer(BayerPhase::Bggr), Cfa::xtrans().shifted(5, 1)] {
        let m = mosaic_from_rgb(&truth, &cfa);
        for method in DemosaicMethod::ALL {
            let out = run(&m, method);
            let q = cpsnr_srgb8(&truth, &out, 2);
            assert!(q > 45.0, "{} {}: {q:.2} dB", cfa.name(), method.name());
        }
    }
}

#[test]
fn xtrans_every_shift_is_correct() {
    let truth = scene(96, 80);
    for dy in 0..6 {
        for dx in 0..6 {
            let cfa = Cfa::xtrans().shifted(dx, dy);
            let m = mosaic_from_rgb(&truth, &cfa);
            for method in DemosaicMethod::ALL {
                let out = run(&m, method);
                let q = cpsnr_srgb8(&truth, &out, 8);
                let floor = scene_floor(method, true) - 1.0;
                println!("shift {dx},{dy} {}: {q:.2} dB", method.name());
                assert!(q >= floor, "shift {dx},{dy} {}: {q:.2} dB", method.name());
            }
        }
    }
}

#[test]
fn mismatched_data_is_an_error() {
    let m = Mosaic {
        width: 10,
        height: 10,
        cfa: Cfa::bayer(BayerPhase::Rggb),
        data: vec![0.0; 99],
    };
    assert!(demosaic(&m, DemosaicMethod::Fast).is_err());
    let m = Mosaic {
        width: usize::MAX,
        height: 2,
        cfa: Cfa::bayer(BayerPhase::Rggb),
        data: vec![],
    };
    assert!(demosaic(&m, DemosaicMethod::Best).is_err());
}

#[test]
fn fused_raw_source_matches_levels_white_balance_then_demosaic() {
    use crate::raw::{BlackLevels, RawImage, RawPixels, Rect};
    use crate::stages::{crop, levels, white_balance};
    let (w, h) = (70, 52);
    let pixels: Vec<u16> = (0..w * h)
        .map(|i| (((i * 7919) % 16000) as u16).saturating_add(400))
        .collect();
    for cfa in all_patterns() {
        let raw = RawImage {
            width: w,
            height: h,
            pixels: RawPixels::Mosaic(pixels.clone()),
            cfa: cfa.clone(),
            black: BlackLevels {
                width: 2,
                height: 2,
                levels: vec![512.0, 510.0, 514.0, 512.0],
            },
            white: 15000.0,
            as_shot_wb: Some([2.0, 1.0, 1.5]),
            xyz_to_cam: None,
            dual_illuminant: None,
            active_area: Rect {
                x: 1,
                y: 2,
                width: w - 3,
                height: h - 4,
            },
            orientation: Default::default(),
            format: "test".into(),
            metadata: Default::default(),
        };
        let area = crop::crop_to_active_area(&raw).unwrap();
        let mult = [2.0, 1.0, 1.5];
        let mut data = levels::apply_levels(&area, raw.white);
        white_balance::apply(&mut data, mult);
        let levels::SensorData::Mosaic(m) = data else {
            panic!("mosaic expected")
        };
        for method in DemosaicMethod::ALL {
            let a = demosaic(&m, method).unwrap();
            let b =
                demosaic_area(&area, raw.white, mult, method, crate::cpu::Isa::process()).unwrap();
            assert_eq!((a.width, a.height), (b.width, b.height));
            let worst = a
                .data
                .iter()
                .zip(&b.data)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "{} {:?}: {worst}", method.name(), cfa.name());
        }
        let half =
            demosaic_area_reduced(&area, raw.white, mult, crate::cpu::Isa::process()).unwrap();
        let want = demosaic_reduced(&m).unwrap();
        assert_eq!((half.width, half.height), (want.width, want.height));
        assert!(half
            .data
            .iter()
            .zip(&want.data)
            .all(|(a, b)| (a - b).abs() < 1e-5));
    }
}
