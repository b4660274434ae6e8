//! Small synthetic DNGs for the demo and the server tests, drawn by the
//! project's own corpus generator (`rawflow-corpus`): a colour chart through
//! a real camera matrix, with seeded noise so that every seed gives other bytes.

use rawflow_corpus::{scenes, write_dng, Noise, SynthParams};

/// Write a `width` × `height` DNG of a colour chart; `seed` changes the noise,
/// so that files with different seeds differ.
pub fn sample_dng(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let (w, h) = (width.max(16) as usize, height.max(16) as usize);
    let truth = scenes::color_chart(w, h);
    let params = SynthParams {
        noise: Some(Noise {
            seed: u64::from(seed),
            read_noise_dn: 2.0,
            shot_gain_dn: 0.5,
        }),
        ..SynthParams::default()
    };
    // The parameters are the generator's defaults plus noise, which it always accepts.
    write_dng(&truth, &params).unwrap_or_default()
}
