//! Fuzz target: the lossless-JPEG DNG reader. An input that starts with a
//! JPEG SOI marker is a lossless-JPEG stream, put as the one strip of a small
//! template DNG (so every mutation reaches the codec: headers, Huffman
//! tables, entropy-coded data, restart markers); any other input is a whole
//! file (seeded with tiled and striped lossless-JPEG DNGs). Either way it is
//! decoded within limits; findings as in `decode.rs` (panic policy:
//! `common.rs`).
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rawflow::{decode_bytes_with_limits, Limits};
use rawflow_corpus::{scenes, write_dng_as, DngLayout, LjpegLayout, SynthParams};

/// A 64×48 single-strip lossless-JPEG DNG, cut where its strip starts.
fn template() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        let truth = scenes::color_chart(64, 48);
        let dng = write_dng_as(
            &truth,
            &SynthParams::default(),
            &DngLayout::Ljpeg(LjpegLayout::STRIP),
        )
        .expect("template DNG");
        let at = dng
            .windows(2)
            .rposition(|w| w == [0xFF, 0xD8])
            .expect("the strip's SOI");
        dng[..at].to_vec()
    })
}

fuzz_target!(|data: &[u8]| {
    common::run(|| {
        let limits = Limits {
            max_file_bytes: 64 << 20,
            max_pixels: 50_000_000,
            max_decode_time: None,
        };
        let file;
        let bytes = if data.starts_with(&[0xFF, 0xD8]) {
            file = [template(), data].concat();
            &file[..]
        } else {
            data
        };
        if let Err(e) = decode_bytes_with_limits(bytes, &limits) {
            assert!(!e.to_string().is_empty());
        }
    });
});
