//! Every real RAW file of the shared corpus either decodes to a sane image or
//! fails with a typed error; none panics.

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
                println!(
                    "decoded {}: {} {}x{} cfa {}",
                    file.display(),
                    raw.format,
                    a.width,
                    a.height,
                    raw.cfa.name()
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
