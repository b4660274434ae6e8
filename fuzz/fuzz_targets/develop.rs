//! Fuzz target: any bytes → decode within limits → `develop_linear` (bilinear
//! demosaic). Images over 4 MP are decoded but not developed, to keep each
//! run short. Findings as in `decode.rs` (panic policy: `common.rs`).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use rawflow::{decode_bytes_with_limits, Limits};
use rawflow::internals::develop::develop_linear;
use rawflow::{DemosaicMethod, DevelopOptions, Timings};

fuzz_target!(|data: &[u8]| {
    common::run(|| {
        let limits = Limits {
            max_file_bytes: 64 << 20,
            max_pixels: 50_000_000,
            max_decode_time: None,
        };
        let Ok(raw) = decode_bytes_with_limits(data, &limits) else {
            return;
        };
        if raw.width.saturating_mul(raw.height) > 4_000_000 {
            return;
        }
        let options = DevelopOptions {
            demosaic: DemosaicMethod::Bilinear,
            ..DevelopOptions::default()
        };
        if let Err(e) = develop_linear(&raw, &options, &mut Timings::default()) {
            assert!(!e.to_string().is_empty());
        }
    });
});
