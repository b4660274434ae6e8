//! Kodak ground truths from the shared corpus become valid DNGs.

use std::io::Cursor;

use rawflow_corpus::*;

/// Loads kodim`n` (the Kodak ground truths ship in `testdata/`).
fn kodak(n: usize) -> Option<SrgbImage> {
    let path = kodak_path(n);
    match load_png(&path) {
        Ok(img) => Some(img),
        Err(e) => panic!("Kodak ground truth {} ({e})", path.display()),
    }
}

#[test]
fn kodak_dngs_decode_and_barely_clip() {
    for (n, params) in [
        (23, SynthParams::default()),
        (
            4, // a portrait image, stored rotated for Orientation 8
            SynthParams {
                orientation: Orientation::Rotate270Cw,
                cfa: CfaLayout::XTrans,
                camera: FUJIFILM_X_T2,
                ..SynthParams::default()
            },
        ),
    ] {
        let Some(truth) = kodak(n) else { return };
        let dng = write_dng(&truth, &params).unwrap();
        let raw = rawloader::decode(&mut Cursor::new(&dng)).unwrap();
        let (w, h) = if params.orientation.swaps_axes() {
            (truth.height, truth.width)
        } else {
            (truth.width, truth.height)
        };
        assert_eq!((raw.width, raw.height), (w, h));
        // A natural image is almost entirely inside the camera's range.
        let clipped = synth::clipped_samples(&truth, &params).unwrap();
        assert!(
            clipped * 1000 < truth.data.len(),
            "kodim{n:02}: {clipped} clipped"
        );
    }
}
