//! Demosaic quality and speed on synthetic raw made from the Kodak 24 images.
//!
//! Each ground-truth PNG is converted sRGB → linear, sampled through a CFA
//! (every Bayer phase, and X-Trans), demosaiced, converted back to 8-bit sRGB
//! and compared: CPSNR with an 8-pixel border excluded, averaged over the images.
//!
//! Two colour set-ups:
//! - `linear`: the mosaic is linear sRGB itself.
//! - `5D2`: the image is first taken into Canon EOS 5D Mark II camera space
//!   (white-balanced: neutral stays neutral) and clipped to 0..1; the demosaiced
//!   result is taken back with the camera → sRGB matrix before comparing, which
//!   amplifies colour errors as a real pipeline does. The reference is the
//!   ground truth sent through the same round trip, so clipping is not counted.
//!
//! Run: `cargo run --release -p rawflow --example demosaic_quality [-- options]`
//! Options: `--images N` (first N images), `--speed` (also time a 24 MP
//! mosaic), `--speed-only`.
//! The corpus is found through env `RAWFLOW_CORPUS` (default: the Kodak images shipped in `testdata/`).

use std::path::PathBuf;
use std::time::Instant;

use rawflow::internals::cfa::{BayerPhase, Cfa};
use rawflow::internals::demosaic::{demosaic, quality, DemosaicMethod};
use rawflow::internals::image::RgbF32;

type M3 = [[f64; 3]; 3];

fn mul(a: &M3, b: &M3) -> M3 {
    let mut r = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            r[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    r
}

fn inverse(m: &M3) -> M3 {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let mut r = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let (a, b) = ((j + 1) % 3, (j + 2) % 3);
            let (c, d) = ((i + 1) % 3, (i + 2) % 3);
            r[i][j] = (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det;
        }
    }
    r
}

/// sRGB (linear) → white-balanced Canon 5D Mark II camera space.
fn srgb_to_cam() -> M3 {
    let srgb_to_xyz = [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ];
    let xyz_to_cam = [
        [0.4716, 0.0603, -0.0830],
        [-0.7798, 1.5474, 0.2480],
        [-0.1496, 0.1937, 0.6651],
    ];
    let mut m = mul(&xyz_to_cam, &srgb_to_xyz);
    for row in &mut m {
        let s: f64 = row.iter().sum();
        for v in row.iter_mut() {
            *v /= s;
        }
    }
    m
}

fn transform(img: &RgbF32, m: &M3, clip: bool) -> RgbF32 {
    let mut out = img.clone();
    for px in out.data.chunks_exact_mut(3) {
        let v = [px[0] as f64, px[1] as f64, px[2] as f64];
        for (i, o) in px.iter_mut().enumerate() {
            let x = (m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2]) as f32;
            *o = if clip { x.clamp(0.0, 1.0) } else { x };
        }
    }
    out
}

fn load_png(path: &PathBuf) -> Result<RgbF32, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut dec = png::Decoder::new(std::io::BufReader::new(file));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().map_err(|e| e.to_string())?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("png too large")?];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let ch = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = RgbF32::new(w, h);
    for i in 0..w * h {
        for c in 0..3 {
            let v = buf[i * ch + c.min(ch - 1)];
            img.data[i * 3 + c] = quality::srgb_to_linear(v as f32 / 255.0);
        }
    }
    Ok(img)
}

fn patterns() -> Vec<(String, Cfa)> {
    let mut v: Vec<(String, Cfa)> = BayerPhase::ALL
        .iter()
        .map(|p| (p.name().to_string(), Cfa::bayer(*p)))
        .collect();
    v.push(("X-Trans".into(), Cfa::xtrans()));
    v.push(("X-Tr+3,2".into(), Cfa::xtrans().shifted(3, 2)));
    v
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let n_images = args
        .iter()
        .position(|a| a == "--images")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(24usize);
    if !flag("--speed-only") {
        quality_table(n_images);
    }
    if flag("--speed") || flag("--speed-only") {
        speed();
    }
}

fn quality_table(n_images: usize) {
    let dir = rawflow_corpus::corpus_dir().join("groundtruth/kodak24");
    let mut images = Vec::new();
    for i in 1..=n_images {
        let p = dir.join(format!("kodim{i:02}.png"));
        match load_png(&p) {
            Ok(img) => images.push(img),
            Err(e) => {
                eprintln!("cannot load Kodak ground truth ({e}); set RAWFLOW_CORPUS");
                std::process::exit(1);
            }
        }
    }
    let to_cam = srgb_to_cam();
    let from_cam = inverse(&to_cam);
    let pats = patterns();
    for (mode, cam) in [
        ("linear sRGB mosaic", false),
        ("Canon 5D2 camera space", true),
    ] {
        println!(
            "\n{mode}: mean CPSNR (dB, sRGB 8-bit, 8 px border) over {} images",
            images.len()
        );
        print!("{:<10}", "method");
        for (name, _) in &pats {
            print!("{name:>10}");
        }
        println!("{:>10}", "Bayer avg");
        for method in DemosaicMethod::ALL {
            print!("{:<10}", method.name());
            let mut bayer_sum = 0.0;
            for (pi, (_, cfa)) in pats.iter().enumerate() {
                let mut sum = 0.0;
                for img in &images {
                    let (scene, reference) = if cam {
                        let s = transform(img, &to_cam, true);
                        let r = transform(&s, &from_cam, false);
                        (s, r)
                    } else {
                        (img.clone(), img.clone())
                    };
                    let mosaic = quality::mosaic_from_rgb(&scene, cfa);
                    let Ok(out) = demosaic(&mosaic, method) else {
                        eprintln!("demosaic failed");
                        std::process::exit(1);
                    };
                    let out = if cam {
                        transform(&out, &from_cam, false)
                    } else {
                        out
                    };
                    sum += quality::cpsnr_srgb8(&reference, &out, 8);
                }
                let mean = sum / images.len() as f64;
                if pi < 4 {
                    bayer_sum += mean;
                }
                print!("{mean:>10.2}");
            }
            println!("{:>10.2}", bayer_sum / 4.0);
        }
    }
}

fn speed() {
    let (w, h) = (6000usize, 4000usize);
    let mut truth = RgbF32::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            let fx = x as f32 / w as f32;
            let fy = y as f32 / h as f32;
            truth.data[i] = 0.5 + 0.4 * (fx * 40.0 + (fy * 7.0).sin()).sin();
            truth.data[i + 1] = 0.5 + 0.4 * ((fx * fx + fy * fy) * 900.0).sin();
            truth.data[i + 2] = 0.5 + 0.4 * (fy * 55.0).cos();
        }
    }
    println!(
        "\nspeed on a {w}x{h} mosaic, {} rayon threads (best of 3)",
        rayon::current_num_threads()
    );
    for (name, cfa) in [
        ("Bayer", Cfa::bayer(BayerPhase::Rggb)),
        ("X-Trans", Cfa::xtrans()),
    ] {
        let mosaic = quality::mosaic_from_rgb(&truth, &cfa);
        for method in DemosaicMethod::ALL {
            let mut best = f64::MAX;
            for _ in 0..3 {
                let t = Instant::now();
                let out = demosaic(&mosaic, method);
                let dt = t.elapsed().as_secs_f64();
                std::hint::black_box(&out);
                best = best.min(dt);
            }
            println!(
                "{name:<8} {:<9} {:7.1} ms  {:7.1} MP/s",
                method.name(),
                best * 1e3,
                (w * h) as f64 / best / 1e6
            );
        }
    }
}
