//! The studio job: decode one RAW once, write a full-size JPEG q90 and a
//! 2048-pixel JPEG q90.
//!
//! Usage: `studio IN.dng OUTDIR [fast|best|bilinear] [full|web|both]`
//! Prints per-stage seconds on stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use rawflow::{decode_file, DemosaicMethod, DevelopOptions, Timings};
use rawflow::{develop as develop_recipe, OutputFormat, Recipe, Rendition};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(outdir)) = (args.first(), args.get(1)) else {
        eprintln!("usage: studio IN.dng OUTDIR [fast|best|bilinear] [full|web|both]");
        return ExitCode::from(2);
    };
    let method = match args.get(2).map(String::as_str) {
        None | Some("fast") => DemosaicMethod::Fast,
        Some("best") => DemosaicMethod::Best,
        Some("bilinear") => DemosaicMethod::Bilinear,
        Some(other) => {
            eprintln!("unknown method {other}");
            return ExitCode::from(2);
        }
    };
    let job = args.get(3).map(String::as_str).unwrap_or("both");
    let jpeg = |name: &str, long_edge| Rendition::new(name, long_edge, OutputFormat::Jpeg, 90);
    let renditions = match job {
        "full" => vec![jpeg("full", None)],
        "web" => vec![jpeg("web", Some(2048))],
        _ => vec![jpeg("full", None), jpeg("web", Some(2048))],
    };
    let recipe = Recipe {
        name: "studio".into(),
        develop: DevelopOptions {
            demosaic: method,
            ..DevelopOptions::default()
        },
        renditions,
    };
    let start = Instant::now();
    let mut timings = Timings::default();
    let mut clock = Instant::now();
    let result = decode_file(input).and_then(|raw| {
        timings.lap("decode", &mut clock);
        if std::env::var_os("STUDIO_MEM").is_some() {
            eprintln!("after decode: {}", memory());
        }
        develop_recipe(&raw, &recipe, &mut timings)
    });
    let rendered = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("studio: {e}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var_os("STUDIO_MEM").is_some() {
        eprintln!("after develop: {}", memory());
    }
    let outdir = PathBuf::from(outdir);
    if let Err(e) = std::fs::create_dir_all(&outdir) {
        eprintln!("studio: {e}");
        return ExitCode::FAILURE;
    }
    for r in &rendered {
        let path = outdir.join(format!("{}.{}", r.name, r.format.extension()));
        if let Err(e) = std::fs::write(&path, &r.bytes) {
            eprintln!("studio: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let stages: Vec<String> = timings
        .stages
        .iter()
        .map(|(n, s)| format!("{n} {s:.3}"))
        .collect();
    eprintln!(
        "total {:.3} s: {}",
        start.elapsed().as_secs_f64(),
        stages.join(", ")
    );
    ExitCode::SUCCESS
}

/// Peak and current resident memory, from /proc (Linux; empty elsewhere).
fn memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}
