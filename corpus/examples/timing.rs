//! Times DNG synthesis and scoring for a 768x512 image (Kodak size).
//! Run: `cargo run -p rawflow-corpus --release --example timing`.

use std::time::Instant;

use rawflow_corpus::*;

fn main() -> Result<()> {
    let truth = scenes::color_chart(768, 512);
    let configs = [
        ("RGGB 14-bit", SynthParams::default()),
        (
            "X-Trans 14-bit",
            SynthParams {
                cfa: CfaLayout::XTrans,
                camera: FUJIFILM_X_T2,
                ..SynthParams::default()
            },
        ),
        (
            "RGGB + noise",
            SynthParams {
                noise: Some(Noise {
                    seed: 1,
                    read_noise_dn: 3.0,
                    shot_gain_dn: 0.4,
                }),
                ..SynthParams::default()
            },
        ),
    ];
    for (name, p) in &configs {
        let runs = 20;
        let t = Instant::now();
        let mut bytes = 0;
        for _ in 0..runs {
            bytes = write_dng(&truth, p)?.len();
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
        println!("write_dng 768x512 {name}: {ms:.2} ms ({bytes} bytes)");
    }
    // A developed image that differs everywhere (so every pixel needs a ΔE).
    let mut dev = scenes::hue_sweep(768, 512);
    dev.data.iter_mut().for_each(|v| *v = v.saturating_add(3));
    let t = Instant::now();
    let s = score(&dev, &truth, 8)?;
    println!(
        "score 768x512: {:.2} ms ({s:?})",
        t.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
