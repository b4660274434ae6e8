//! Score rawflow's demosaic methods on whole ground-truth sets in one process:
//! each image becomes a synthetic DNG in memory (`rawflow-corpus`'s default
//! parameters, as `benches/quality.sh` writes them: Canon EOS 5D Mark II
//! matrix, RGGB, 14-bit, black 512, no noise), is developed full-size to an
//! 8-bit PNG and scored against its truth (sRGB CPSNR with an 8-pixel border,
//! mean CIEDE2000) — the same numbers as the quality table, without files.
//!
//! Usage: `quality-sets [--per-image] [METHOD...] [-- SET...]`
//! METHOD: fast | best | bilinear (default: fast best);
//! SET: kodak24 | mcmaster18 (default: both), under
//! `$RAWFLOW_CORPUS/groundtruth`.

use std::process::ExitCode;

use rawflow::{decode_bytes, DemosaicMethod, DevelopOptions, Timings};
use rawflow::{develop as develop_recipe, OutputFormat, Recipe, Rendition};
use rawflow_corpus::{corpus_dir, load_png, png_to_srgb8, score, write_dng, SynthParams};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

/// (CPSNR dB, mean ΔE2000) of `dng` developed with `method` against `truth`.
fn develop_and_score(
    dng: &[u8],
    truth: &rawflow_corpus::SrgbImage,
    method: DemosaicMethod,
) -> AnyResult<(f64, f64)> {
    let raw = decode_bytes(dng)?;
    let recipe = Recipe {
        name: "quality".into(),
        develop: DevelopOptions {
            demosaic: method,
            ..DevelopOptions::default()
        },
        renditions: vec![Rendition::new("out", None, OutputFormat::Png, 100)],
    };
    let out = develop_recipe(&raw, &recipe, &mut Timings::default())?;
    let png = out.first().ok_or("no rendition")?;
    let developed = png_to_srgb8(&png.bytes)?;
    let s = score(&developed, truth, 8)?;
    Ok((s.cpsnr_db, s.delta_e2000_mean))
}

fn run() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let per_image = args.iter().any(|a| a == "--per-image");
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let mut methods = Vec::new();
    for a in args[..split].iter().filter(|a| !a.starts_with("--")) {
        methods.push(match a.as_str() {
            "fast" => DemosaicMethod::Fast,
            "best" => DemosaicMethod::Best,
            "bilinear" => DemosaicMethod::Bilinear,
            other => return Err(format!("unknown method {other}").into()),
        });
    }
    if methods.is_empty() {
        methods = vec![DemosaicMethod::Fast, DemosaicMethod::Best];
    }
    let mut sets: Vec<String> = args.get(split + 1..).unwrap_or(&[]).to_vec();
    if sets.is_empty() {
        sets = vec!["kodak24".into(), "mcmaster18".into()];
    }
    let params = SynthParams::default();
    for set in &sets {
        let dir = corpus_dir().join("groundtruth").join(set);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e} (set RAWFLOW_CORPUS)", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "png"))
            .collect();
        names.sort();
        let mut images = Vec::new();
        for p in &names {
            let truth = load_png(p)?;
            let dng = write_dng(&truth, &params)?;
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
            images.push((stem.unwrap_or_default(), truth, dng));
        }
        let mut table: Vec<Vec<(f64, f64)>> = Vec::new();
        for &m in &methods {
            let mut col = Vec::new();
            for (_, truth, dng) in &images {
                col.push(develop_and_score(dng, truth, m)?);
            }
            table.push(col);
        }
        if per_image {
            for (i, (name, _, _)) in images.iter().enumerate() {
                print!("{set:<11} {name:<8}");
                for col in &table {
                    print!("  {:6.2} {:5.2}", col[i].0, col[i].1);
                }
                println!();
            }
        }
        print!("{set:<11} {:<8}", "mean");
        for (m, col) in methods.iter().zip(&table) {
            let n = col.len() as f64;
            let p: f64 = col.iter().map(|v| v.0).sum::<f64>() / n;
            let e: f64 = col.iter().map(|v| v.1).sum::<f64>() / n;
            print!("  {:6.2} {:5.2} ({})", p, e, m.name());
        }
        println!();
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quality-sets: {e}");
            ExitCode::FAILURE
        }
    }
}
