//! Benchmarks and side-by-side comparisons for the rawflow engine.
//!
//! * `benches/stages.rs`: criterion benches per stage, throughput in MP/s.
//! * `studio` (binary): the studio job — one decode, a full-size JPEG q90
//!   and a 2048-pixel JPEG q90 — timed per stage.
//! * `score-image` (binary): scores an 8/16-bit PNG or TIFF against a
//!   ground-truth PNG (for peers' TIFF outputs).
//! * `peers.sh`, `quality.sh`: the side-by-side tables in `RESULTS.md`.
