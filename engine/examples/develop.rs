//! Develop a RAW file with a recipe and write every rendition.
//!
//! ```sh
//! cargo run -p rawflow --example develop                 # a DNG generated on the fly
//! cargo run -p rawflow --example develop -- IMG.DNG web  # a file and a built-in recipe
//! ```
//!
//! Without arguments it writes a synthetic colour-chart DNG (made by the
//! workspace's `rawflow-corpus`) into a temporary folder, develops it with the
//! `web` and `full` recipes and checks the outputs decode as JPEGs.

use std::path::PathBuf;

use rawflow::{decode_file_with_limits, develop, Limits, OutputFormat, Recipe, Timings};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let (input, recipes) = match args.next() {
        Some(path) => (
            PathBuf::from(path),
            vec![args.next().unwrap_or("web".into())],
        ),
        None => {
            let chart = rawflow_corpus::scenes::color_chart(3000, 2000);
            let dng = rawflow_corpus::write_dng(&chart, &rawflow_corpus::SynthParams::default())?;
            let path = dir.path().join("chart.dng");
            std::fs::write(&path, dng)?;
            (path, vec!["web".into(), "full".into()])
        }
    };
    let raw = decode_file_with_limits(&input, &Limits::default())?;
    println!(
        "{}: {} {}, {}×{}",
        input.display(),
        raw.metadata.make.as_deref().unwrap_or("?"),
        raw.metadata.model.as_deref().unwrap_or("?"),
        raw.width,
        raw.height
    );
    let stem = input.file_stem().and_then(|s| s.to_str()).unwrap_or("raw");
    for name in recipes {
        let recipe = Recipe::load(&name)?;
        let mut timings = Timings::default();
        for out in develop(&raw, &recipe, &mut timings)? {
            let path = dir.path().join(out.file_name(stem, &recipe.name)?);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &out.bytes)?;
            if out.format == OutputFormat::Jpeg && out.bytes.get(..2) != Some(&[0xFF, 0xD8]) {
                return Err(format!("{}: not a JPEG", path.display()).into());
            }
            println!(
                "  {name}/{}: {}×{} {:?}, {} bytes",
                out.name,
                out.width,
                out.height,
                out.format,
                out.bytes.len()
            );
        }
        println!("  {name}: {:.3} s", timings.total());
    }
    Ok(())
}
