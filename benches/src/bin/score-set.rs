//! Score rawflow on a folder of ground-truth PNGs in one process: each image
//! is written as a synthetic DNG (Canon EOS 5D Mark II matrix, 14-bit, black
//! 512, no noise), developed full size and scored (sRGB CPSNR, border 8, and
//! mean CIEDE2000).
//!
//! Usage: `score-set DIR xtrans|rggb fast|best|bilinear [-v]`; prints the
//! mean `CPSNR_DB DELTA_E2000_MEAN IMAGES` (with `-v`, every image first).

use std::process::ExitCode;

use rawflow::{decode_bytes, DemosaicMethod, DevelopOptions, Timings};
use rawflow::{develop as develop_recipe, OutputFormat, Recipe, Rendition};
use rawflow_corpus::{load_png, png_to_srgb8, score, BayerPhase, CfaLayout, SynthParams};
use rayon::prelude::*;

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn one(path: &std::path::Path, cfa: CfaLayout, method: DemosaicMethod) -> AnyResult<(f64, f64)> {
    let truth = load_png(path)?;
    let params = SynthParams {
        cfa,
        ..SynthParams::default()
    };
    let dng = rawflow_corpus::write_dng(&truth, &params)?;
    let raw = decode_bytes(&dng)?;
    let recipe = Recipe {
        name: "quality".into(),
        develop: DevelopOptions {
            demosaic: method,
            ..DevelopOptions::default()
        },
        renditions: vec![Rendition::new("out", None, OutputFormat::Png, 100)],
    };
    let out = develop_recipe(&raw, &recipe, &mut Timings::default())?;
    let first = out.first().ok_or("no rendition")?;
    let s = score(&png_to_srgb8(&first.bytes)?, &truth, 8)?;
    Ok((s.cpsnr_db, s.delta_e2000_mean))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(cfa), Some(method)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: score-set DIR xtrans|rggb fast|best|bilinear [-v]");
        return ExitCode::from(2);
    };
    let verbose = args.iter().any(|a| a == "-v");
    let cfa = match cfa.as_str() {
        "xtrans" => CfaLayout::XTrans,
        p => match BayerPhase::from_name(p) {
            Some(p) => CfaLayout::Bayer(p),
            None => {
                eprintln!("score-set: unknown CFA {p}");
                return ExitCode::from(2);
            }
        },
    };
    let method = match method.as_str() {
        "best" => DemosaicMethod::Best,
        "bilinear" => DemosaicMethod::Bilinear,
        _ => DemosaicMethod::Fast,
    };
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(d) => d
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .collect(),
        Err(e) => {
            eprintln!("score-set: {dir}: {e}");
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    let scores: Vec<_> = files.par_iter().map(|p| one(p, cfa, method)).collect();
    let (mut sp, mut se, mut n) = (0.0, 0.0, 0usize);
    for (p, s) in files.iter().zip(scores) {
        match s {
            Ok((c, e)) => {
                if verbose {
                    println!("{} {c:.3} {e:.3}", p.display());
                }
                sp += c;
                se += e;
                n += 1;
            }
            Err(e) => {
                eprintln!("score-set: {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let n_f = n.max(1) as f64;
    println!("{:.3} {:.3} {n}", sp / n_f, se / n_f);
    ExitCode::SUCCESS
}
