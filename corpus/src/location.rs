//! Where the test images are.
//!
//! The repository ships the redistributable part of the test corpus in
//! `testdata/` (the Kodak ground truths and the CC0 / MIT / Apache RAW files,
//! see `testdata/README.md`). The full corpus, which adds files whose licences
//! do not allow shipping them, is used when env `RAWFLOW_CORPUS` points at it
//! (CI sets it). Both have the same layout: `groundtruth/kodak24/kodimNN.png`,
//! `groundtruth/mcmaster18/mcmNN.png`, `raw/<file>` with `raw/MANIFEST.tsv`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The redistributable test images shipped in the repository (`testdata/`).
pub fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// True when env `RAWFLOW_CORPUS` names a full test corpus to use instead of
/// the shipped subset.
pub fn full_corpus() -> bool {
    std::env::var_os("RAWFLOW_CORPUS").is_some_and(|v| !v.is_empty())
}

/// The test corpus directory: env `RAWFLOW_CORPUS` when set, else the
/// shipped subset ([`shipped_dir`]).
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("RAWFLOW_CORPUS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => shipped_dir(),
    }
}

/// Path of Kodak ground truth `n` (1..=24): `<corpus>/groundtruth/kodak24/kodimNN.png`
/// (shipped, so present in every clone).
pub fn kodak_path(n: usize) -> PathBuf {
    corpus_dir()
        .join("groundtruth/kodak24")
        .join(format!("kodim{n:02}.png"))
}

/// A file or folder of the corpus by its path relative to the corpus root, for
/// a test that needs it. `None` when it is not shipped and `RAWFLOW_CORPUS`
/// is unset: the test should then return (this prints, once per process and
/// `what`, that it was skipped and why). With `RAWFLOW_CORPUS` set a missing
/// file is a broken corpus, and this panics with the path.
pub fn corpus_file(relative: &str, what: &str) -> Option<PathBuf> {
    let path = corpus_dir().join(relative);
    if path.exists() {
        return Some(path);
    }
    if full_corpus() {
        panic!(
            "{what}: {} is missing from the corpus RAWFLOW_CORPUS names",
            path.display()
        );
    }
    note_skipped(
        what,
        &format!("{relative} is not redistributable, so not shipped in testdata/; set RAWFLOW_CORPUS to the full corpus to run it"),
    );
    None
}

/// Prints `skipped: {what} ({why})` to stderr, once per process for each `what`.
/// It writes to the stderr handle itself, not through `eprintln!`, so the test
/// harness does not capture the line and it shows in a normal `cargo test` run.
pub fn note_skipped(what: &str, why: &str) {
    static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let first = SEEN
        .lock()
        .map(|mut seen| seen.insert(what.to_owned()))
        .unwrap_or(true);
    if first {
        // Nothing to do if stderr is closed.
        let _ = writeln!(std::io::stderr(), "skipped: {what} ({why})");
    }
}
