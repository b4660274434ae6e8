//! `rawflow develop`: the batch command line.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rawflow::{DemosaicMethod, RawImage, Timings, WhiteBalance};
use rawflow::{OutputFormat, Recipe};

/// File extensions searched for when an input is a folder (compared case-insensitively).
pub const RAW_EXTENSIONS: &[&str] = &[
    "3fr", "ari", "arw", "cr2", "cr3", "crw", "dcr", "dng", "erf", "gpr", "iiq", "kdc", "mef",
    "mos", "mrw", "nef", "nrw", "orf", "pef", "qtk", "raf", "rw2", "rwl", "sr2", "srf", "srw",
    "x3f",
];

#[derive(Args, Debug)]
#[command(
    after_help = "Exit status: 0 when every file was developed, 1 when any failed, 2 for bad usage.\n\
Examples:\n  rawflow develop IMG_0001.CR2 -o out\n  rawflow develop shoot/ -o web --size 2048 --quality 85\n  rawflow develop *.DNG -o masters --format tiff"
)]
pub struct DevelopArgs {
    /// RAW files, or folders searched recursively for RAW files (by extension).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output folder (created if missing). Each input becomes OUTDIR/<stem>.<ext>.
    #[arg(short, long, visible_alias = "out", value_name = "OUTDIR")]
    output: PathBuf,
    /// Fit the long edge to N pixels (never upscales). Default: full size.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    size: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jpeg)]
    format: Format,
    /// JPEG quality, 1–100.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Worker threads (default: one per vCPU).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Demosaicing: fast (high quality, the default), best (slower, highest quality) or bilinear (reference).
    #[arg(long, value_enum, default_value_t = Demosaic::Fast)]
    demosaic: Demosaic,
    /// Exposure change in EV (stops), e.g. 0.5 or -1.
    #[arg(
        long,
        default_value_t = 0.0,
        allow_hyphen_values = true,
        value_name = "EV"
    )]
    exposure: f32,
    /// White balance: as-shot, auto, daylight, a temperature "5500K" or "5500K/+10"
    /// (with tint), or three multipliers "R,G,B" (e.g. 2.1,1,1.4).
    #[arg(long, default_value = "as-shot", value_parser = parse_wb, value_name = "WB")]
    wb: WhiteBalance,
    /// Recipe: a built-in name (web, full, master, proof) or a TOML file. Each
    /// rendition is written to OUTDIR/<stem>/<rendition>.<ext> unless its
    /// file_name template says otherwise; --size/--format/--quality are ignored.
    #[arg(long, value_name = "NAME|FILE")]
    recipe: Option<String>,
    /// Do not apply XMP sidecars (IMG_0001.xmp or IMG_0001.CR2.xmp).
    #[arg(long)]
    no_sidecar: bool,
    /// Print nothing but failures and the summary (no progress bar).
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Jpeg,
    Tiff,
    Png,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Demosaic {
    Fast,
    Best,
    Bilinear,
}

fn parse_wb(s: &str) -> Result<WhiteBalance, String> {
    if let Some(k) = s.strip_suffix('K').or_else(|| s.strip_suffix('k')) {
        // "5500K" or "5500K/+10" style is handled below; plain kelvin here.
        if let Ok(t) = k.trim().parse::<f32>() {
            return Ok(WhiteBalance::Kelvin {
                temperature: t,
                tint: 0.0,
            });
        }
    }
    if let Some((k, tint)) = s.split_once("K/").or_else(|| s.split_once("k/")) {
        if let (Ok(t), Ok(tint)) = (k.trim().parse::<f32>(), tint.trim().parse::<f32>()) {
            return Ok(WhiteBalance::Kelvin {
                temperature: t,
                tint,
            });
        }
    }
    match s {
        "as-shot" | "asshot" | "camera" => Ok(WhiteBalance::AsShot),
        "auto" => Ok(WhiteBalance::Auto),
        "daylight" | "d65" => Ok(WhiteBalance::Daylight),
        _ => {
            let parts: Vec<f32> = s
                .split(',')
                .map(|p| p.trim().parse::<f32>())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{s:?}: {e}"))?;
            match parts.as_slice() {
                [r, g, b] if [r, g, b].iter().all(|v| v.is_finite() && **v > 0.0) => {
                    Ok(WhiteBalance::Multipliers([*r, *g, *b]))
                }
                _ => Err(format!(
                    "{s:?}: expected as-shot, auto, daylight, 5500K[/tint] or three positive numbers R,G,B"
                )),
            }
        }
    }
}

/// Expand files and folders into the list of RAW files to develop, sorted.
pub fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| format!("{}: {e}", input.display()))?;
        if meta.is_dir() {
            walk(input, &mut files).map_err(|e| format!("{}: {e}", input.display()))?;
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if is_raw(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_raw(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| RAW_EXTENSIONS.iter().any(|r| r.eq_ignore_ascii_case(e)))
}

/// Give each input a distinct output stem ("IMG_1", "IMG_1-2", …).
fn output_stems(files: &[PathBuf]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    files
        .iter()
        .map(|f| {
            let stem = f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "image".into());
            let n = seen.entry(stem.to_lowercase()).or_insert(0);
            *n += 1;
            if *n == 1 {
                stem
            } else {
                format!("{stem}-{n}")
            }
        })
        .collect()
}

/// Write `bytes` to `path` through a temporary name in the same folder, so that
/// a partial file never appears under the final name.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

struct Outcome {
    megapixels: f64,
}

/// Apply the XMP sidecar of `input` (if any) to a copy of `recipe`; warnings
/// go to `warn`.
fn with_sidecar(input: &Path, recipe: &Recipe, warn: &dyn Fn(String)) -> Result<Recipe, String> {
    let mut recipe = recipe.clone();
    if let Some(path) = rawflow::sidecar_path(input) {
        let sidecar = rawflow::Sidecar::read(&path).map_err(|e| e.to_string())?;
        for w in sidecar.apply(&mut recipe.develop) {
            warn(format!("{}: {w}", path.display()));
        }
    }
    Ok(recipe)
}

/// Decode `input` and read its sidecar: the part of a file's work that runs
/// ahead of the development of the previous file.
fn prepare(
    input: &Path,
    recipe: &Recipe,
    layout: Layout,
    warn: &dyn Fn(String),
) -> Result<(RawImage, Recipe), String> {
    let recipe = match layout.sidecars {
        true => with_sidecar(input, recipe, warn)?,
        false => recipe.clone(),
    };
    let raw = rawflow::decode_file(input).map_err(|e| e.to_string())?;
    Ok((raw, recipe))
}

fn develop_one(
    raw: &RawImage,
    recipe: &Recipe,
    outdir: &Path,
    stem: &str,
    layout: Layout,
) -> Result<Outcome, String> {
    let mut timings = Timings::default();
    let rendered = rawflow::develop(raw, recipe, &mut timings).map_err(|e| e.to_string())?;
    for r in &rendered {
        let path = if layout.templates {
            outdir.join(r.file_name(stem, &recipe.name).map_err(|e| e.to_string())?)
        } else {
            outdir.join(format!("{stem}.{}", r.format.extension()))
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        write_atomically(&path, &r.bytes)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(Outcome {
        megapixels: raw.megapixels(),
    })
}

/// How outputs are laid out and whether sidecars apply.
#[derive(Clone, Copy)]
struct Layout {
    /// Use each rendition's file-name template (with --recipe).
    templates: bool,
    /// Apply XMP sidecars.
    sidecars: bool,
}

/// Run `rawflow develop`.
pub fn run(args: DevelopArgs) -> ExitCode {
    let files = match collect_inputs(&args.inputs) {
        Ok(f) if f.is_empty() => {
            eprintln!(
                "error: no RAW files found in the inputs (extensions: {})",
                RAW_EXTENSIONS.join(", ")
            );
            return ExitCode::from(2);
        }
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.output) {
        eprintln!("error: cannot create {}: {e}", args.output.display());
        return ExitCode::from(2);
    }
    let threads = args.threads.map(usize::from).unwrap_or(0);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start threads: {e}");
            return ExitCode::from(2);
        }
    };
    let format = match args.format {
        Format::Jpeg => OutputFormat::Jpeg,
        Format::Tiff => OutputFormat::Tiff,
        Format::Png => OutputFormat::Png,
    };
    let mut recipe = match &args.recipe {
        Some(name) => match Recipe::load(name) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: recipe {name}: {e}");
                return ExitCode::from(2);
            }
        },
        None => Recipe::single("output", args.size, format, args.quality),
    };
    if args.exposure != 0.0 {
        recipe.develop.exposure_ev = args.exposure;
    }
    if args.recipe.is_none() || args.wb != WhiteBalance::AsShot {
        recipe.develop.white_balance = args.wb;
    }
    recipe.develop.demosaic = match args.demosaic {
        Demosaic::Fast => DemosaicMethod::Fast,
        Demosaic::Best => DemosaicMethod::Best,
        Demosaic::Bilinear => DemosaicMethod::Bilinear,
    };
    let layout = Layout {
        templates: args.recipe.is_some(),
        sidecars: !args.no_sidecar,
    };

    let stems = output_stems(&files);
    let bar = if !args.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} files, {elapsed} elapsed, ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    let mut failed = 0usize;
    let mut megapixels = 0.0f64;
    // One file is developed at a time, with every worker thread, while the
    // next one is read and decoded on the same pool (its decode fills the
    // cores the development leaves idle, e.g. a lossless-JPEG strip decoded
    // on one thread). The rendezvous channel bounds memory: at most two
    // decoded RAW images exist at once, the one being developed and the next
    // (decoding, or decoded and waiting).
    let warn = |w: String| bar.suspend(|| eprintln!("warning: {w}"));
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(0);
        let (files, recipe, pool, warn) = (&files, &recipe, &pool, &warn);
        scope.spawn(move || {
            for file in files {
                let prepared = pool.install(|| prepare(file, recipe, layout, warn));
                if tx.send(prepared).is_err() {
                    break;
                }
            }
        });
        for ((file, stem), prepared) in files.iter().zip(&stems).zip(rx) {
            let result = prepared.and_then(|(raw, recipe)| {
                pool.install(|| develop_one(&raw, &recipe, &args.output, stem, layout))
            });
            match result {
                Ok(o) => megapixels += o.megapixels,
                Err(reason) => {
                    failed += 1;
                    bar.suspend(|| eprintln!("failed: {}: {reason}", file.display()));
                }
            }
            bar.inc(1);
        }
    });
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let rate = |n: f64| if secs > 0.0 { n / secs } else { 0.0 };
    eprintln!(
        "{} files, {} developed, {} failed, {:.2} s, {:.1} files/min, {:.1} MP/s",
        files.len(),
        files.len() - failed,
        failed,
        secs,
        rate(60.0 * (files.len() - failed) as f64),
        rate(megapixels)
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_stems_get_suffixes() {
        let files = vec![
            PathBuf::from("a/IMG_1.CR2"),
            PathBuf::from("b/IMG_1.dng"),
            PathBuf::from("c/IMG_2.NEF"),
        ];
        assert_eq!(output_stems(&files), vec!["IMG_1", "IMG_1-2", "IMG_2"]);
    }

    #[test]
    fn white_balance_parses() {
        assert_eq!(parse_wb("as-shot"), Ok(WhiteBalance::AsShot));
        assert_eq!(
            parse_wb("2,1,1.5"),
            Ok(WhiteBalance::Multipliers([2.0, 1.0, 1.5]))
        );
        assert!(parse_wb("2,1").is_err());
        assert!(parse_wb("-1,1,1").is_err());
    }

    #[test]
    fn raw_extensions_are_case_insensitive() {
        assert!(is_raw(Path::new("x/IMG.CR2")));
        assert!(is_raw(Path::new("x/img.dng")));
        assert!(!is_raw(Path::new("x/img.jpg")));
    }
}
