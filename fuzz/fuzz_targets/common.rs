//! The panic policy shared by the fuzz targets.
//!
//! libFuzzer's Rust glue aborts on every panic, even one that the engine
//! catches on purpose: a panic inside a third-party decoder (rawloader,
//! rawler) is caught at the decoder boundary and becomes an error, by design.
//! So the hook installed here aborts (a finding) only for a panic whose
//! location is in rawflow's own code (`engine/src`), caught or not, and
//! records any other; [`run`] aborts when a panic escapes the engine at all.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, Once};

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn ours(file: &str) -> bool {
    file.contains("engine/src/") || file.contains("fuzz_targets/")
}

/// Install the panic hook (once).
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // libFuzzer's hook: print, then abort.
        let abort = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if info.location().is_some_and(|l| ours(l.file())) {
                abort(info);
            }
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = Some(info.to_string());
            }
        }));
    });
}

/// Run one input; a panic that escapes is a finding (abort, with the panic).
pub fn run(f: impl FnOnce()) {
    init();
    if let Ok(mut last) = LAST_PANIC.lock() {
        *last = None;
    }
    if panic::catch_unwind(AssertUnwindSafe(f)).is_err() {
        let what = LAST_PANIC
            .lock()
            .ok()
            .and_then(|mut l| l.take())
            .unwrap_or_default();
        eprintln!("a panic escaped rawflow: {what}");
        std::process::abort();
    }
}
