//! Develop one RAW to an 8-bit PNG with a given method, for the quality table.
//!
//! Usage: `develop-png IN.dng OUT.png fast|best|bilinear|half`
//! (`half` = the reduced-resolution path, output at half size).

use std::process::ExitCode;

use rawflow::{decode_file, DemosaicMethod, DevelopOptions, Timings};
use rawflow::{develop as develop_recipe, OutputFormat, Recipe, Rendition};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(output), Some(method)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: develop-png IN.dng OUT.png fast|best|bilinear|half");
        return ExitCode::from(2);
    };
    let result = decode_file(input).and_then(|raw| {
        let long = raw.active_area.width.max(raw.active_area.height) as u32;
        let (demosaic, long_edge) = match method.as_str() {
            "best" => (DemosaicMethod::Best, None),
            "bilinear" => (DemosaicMethod::Bilinear, None),
            "half" => (DemosaicMethod::Fast, Some(long / 2)),
            _ => (DemosaicMethod::Fast, None),
        };
        let recipe = Recipe {
            name: "quality".into(),
            develop: DevelopOptions {
                demosaic,
                target_long_edge: long_edge,
                ..DevelopOptions::default()
            },
            renditions: vec![Rendition::new("out", long_edge, OutputFormat::Png, 100)],
        };
        develop_recipe(&raw, &recipe, &mut Timings::default())
    });
    match result {
        Ok(r) => match r.first().map(|r| std::fs::write(output, &r.bytes)) {
            Some(Ok(())) => ExitCode::SUCCESS,
            Some(Err(e)) => {
                eprintln!("develop-png: {output}: {e}");
                ExitCode::FAILURE
            }
            None => ExitCode::FAILURE,
        },
        Err(e) => {
            eprintln!("develop-png: {e}");
            ExitCode::FAILURE
        }
    }
}
