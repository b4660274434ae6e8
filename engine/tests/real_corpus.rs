//! Every real RAW file of the test corpus either develops to a plausible
//! image (size and orientation right, not blank, not clipped) or fails with a
//! typed error; none panics. The shipped subset (`testdata/raw`) runs in every
//! clone; the files that may not be redistributed run with `RAWFLOW_CORPUS`.

use std::path::PathBuf;

fn corpus_raw_dir() -> PathBuf {
    if !rawflow_corpus::full_corpus() {
        rawflow_corpus::note_skipped(
            "the QuickTake, Blackmagic and Canon 6D files of the real corpus",
            "not redistributable, so not shipped in testdata/raw; set RAWFLOW_CORPUS to the full corpus to check them",
        );
    }
    rawflow_corpus::corpus_dir().join("raw")
}

#[test]
fn every_corpus_file_decodes_or_fails_cleanly() {
    let dir = corpus_raw_dir();
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

/// The files that are not shipped (licences): the QuickTake 100/150 decode at
/// their sizes, the Blackmagic lossy-JPEG CinemaDNG is refused with an error.
/// Runs with `RAWFLOW_CORPUS`; otherwise prints once that it was skipped.
#[test]
fn unshipped_corpus_files_decode_as_documented() {
    for (file, size) in [
        ("raw/apple-quicktake_100-image01_320x240.qtk", (320, 240)),
        ("raw/apple-quicktake_100-test100.qtk", (640, 480)),
        ("raw/apple-quicktake_150-test150.qtk", (640, 480)),
    ] {
        let Some(path) = rawflow_corpus::corpus_file(file, "QuickTake decode test") else {
            return;
        };
        let raw = rawflow::decode_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let a = raw.active_area;
        assert_eq!((a.width, a.height), size, "{}", path.display());
    }
    let file = "raw/blackmagic-pocket_cinema_camera_4k-lossyjpeg-cfa.dng";
    let Some(path) = rawflow_corpus::corpus_file(file, "Blackmagic refusal test") else {
        return;
    };
    let err = rawflow::decode_file(&path).expect_err("lossy-JPEG CinemaDNG is not supported");
    assert!(!err.to_string().is_empty());
}
