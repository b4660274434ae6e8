//! Fuzz target: any bytes → `rawflow::decode_bytes_with_limits`. Every input
//! must end in `Ok` or a typed error; a panic in rawflow's own code or one
//! escaping the decoder guard, an abort, a hang or a runaway allocation is a
//! finding (see `common.rs` for the panic policy).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use rawflow::{decode_bytes_with_limits, Limits};

fuzz_target!(|data: &[u8]| {
    common::run(|| {
        let limits = Limits {
            max_file_bytes: 64 << 20,
            max_pixels: 50_000_000,
            // In-line decode: libFuzzer's own -timeout finds hangs.
            max_decode_time: None,
        };
        if let Err(e) = decode_bytes_with_limits(data, &limits) {
            assert!(!e.to_string().is_empty());
        }
    });
});
