//! Every real RAW file of the shared corpus either develops to a plausible
//! image (size and orientation right, not blank, not clipped) or fails with a
//! typed error; none panics.

use std::path::PathBuf;

fn corpus_raw_dir() -> Option<PathBuf> {
    let root = std::env::var_os("RAWFLOW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let dir = root.join("raw");
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var_os("RAWFLOW_ALLOW_MISSING_CORPUS").is_some() {
        None
    } else {
        panic!("real corpus not found at {} (set RAWFLOW_CORPUS, or RAWFLOW_ALLOW_MISSING_CORPUS=1 to skip)", dir.display());
    }
}

#[test]
fn every_corpus_file_decodes_or_fails_cleanly() {
    let Some(dir) = corpus_raw_dir() else { return };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "tsv" && e != "md"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the corpus files in {}",
        dir.display()
    );
    for file in files {
        match rawflow::decode_file(&file) {
            Ok(raw) => {
                let a = raw.active_area;
                assert!(
                    a.width >= 16 && a.height >= 16,
                    "{}: tiny active area {a:?}",
                    file.display()
                );
                assert!(raw.white > 0.0);
                let linear = rawflow::internals::develop::develop_linear(
                    &raw,
                    &rawflow::DevelopOptions::default(),
                    &mut rawflow::Timings::default(),
                )
                .unwrap_or_else(|e| {
                    panic!("{}: decoded but failed to develop: {e}", file.display())
                });
                let (w, h) = if raw.orientation.swaps_axes() {
                    (a.height, a.width)
                } else {
                    (a.width, a.height)
                };
                assert_eq!(
                    (linear.width, linear.height),
                    (w, h),
                    "{}: developed size",
                    file.display()
                );
                let srgb = rawflow::internals::color::transfer::to_srgb8(&linear);
                let n = srgb.data.len() as f64;
                let mean = srgb.data.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
                let sd = (srgb
                    .data
                    .iter()
                    .map(|v| (f64::from(*v) - mean).powi(2))
                    .sum::<f64>()
                    / n)
                    .sqrt();
                let clipped = srgb.data.iter().filter(|v| **v == 255).count() as f64 / n;
                println!(
                    "decoded {}: {} {}x{} cfa {}; developed {}x{}, mean {mean:.0}, sd {sd:.0}, clipped {:.1} %",
                    file.display(),
                    raw.format,
                    a.width,
                    a.height,
                    raw.cfa.name(),
                    linear.width,
                    linear.height,
                    clipped * 100.0
                );
                assert!(
                    sd > 8.0 && (10.0..245.0).contains(&mean),
                    "{}: blank-looking image (mean {mean}, sd {sd})",
                    file.display()
                );
                assert!(
                    clipped < 0.25,
                    "{}: {:.1} % of samples clipped",
                    file.display(),
                    clipped * 100.0
                );
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.is_empty());
                println!("refused {}: {msg}", file.display());
            }
        }
    }
}
