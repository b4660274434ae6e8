//! Shared fixtures for the encoder tests.

pub(crate) use super::exif::tests::{assert_exif_matches, full_metadata};
use crate::image::{Rgb16, Rgb8};

/// A smooth synthetic image: gradients and a slow sine, no hard edges.
pub(crate) fn smooth_rgb8(width: usize, height: usize) -> Rgb8 {
    let mut img = Rgb8::new(width, height);
    let (w, h) = ((width.max(2) - 1) as f64, (height.max(2) - 1) as f64);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f64 / w, y as f64 / h);
            let i = (y * width + x) * 3;
            img.data[i] = (fx * 255.0).round() as u8;
            img.data[i + 1] = (fy * 255.0).round() as u8;
            img.data[i + 2] = (127.5 + 100.0 * ((fx + fy) * 3.0).sin()).round() as u8;
        }
    }
    img
}

/// A 16-bit image using the full range, with distinct values per channel.
pub(crate) fn ramp_rgb16(width: usize, height: usize) -> Rgb16 {
    let mut img = Rgb16::new(width, height);
    for (i, v) in img.data.iter_mut().enumerate() {
        *v = (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u16;
    }
    img
}

/// A fake but well-formed-looking non-sRGB profile of `len` bytes.
pub(crate) fn big_profile(len: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    p[..4].copy_from_slice(&(len as u32).to_be_bytes());
    p
}

/// Read EXIF back from any container with kamadak-exif.
pub(crate) fn read_exif(bytes: &[u8]) -> exif::Exif {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .expect("kamadak-exif reads the EXIF back")
}

/// Peak signal-to-noise ratio of 8-bit data in dB.
pub(crate) fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

/// The sizes every encoder must handle.
pub(crate) const ODD_SIZES: [(usize, usize); 4] = [(1, 1), (33, 17), (17, 33), (2, 1)];

/// Writes one file per format into `$RAWFLOW_SAMPLE_DIR` for inspection with
/// external tools (e.g. `exiftool -validate -warning -a`).
#[test]
#[ignore]
fn write_samples() {
    use super::{encode_jpeg, encode_png8, encode_tiff16, srgb_icc_profile, Embed, Subsampling};
    let Ok(dir) = std::env::var("RAWFLOW_SAMPLE_DIR") else {
        panic!("set RAWFLOW_SAMPLE_DIR");
    };
    let dir = std::path::Path::new(&dir);
    let meta = full_metadata();
    let embed = Embed {
        icc_profile: Some(srgb_icc_profile()),
        metadata: Some(&meta),
    };
    let img = smooth_rgb8(120, 80);
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).expect("write");
    write(
        "sample.jpg",
        encode_jpeg(&img, 90, Subsampling::S420, embed).expect("jpeg"),
    );
    write("sample.png", encode_png8(&img, embed).expect("png"));
    write(
        "sample.tif",
        encode_tiff16(&ramp_rgb16(120, 80), embed).expect("tiff"),
    );
    write("sample.icc", srgb_icc_profile().to_vec());
}

/// Timing of 24-megapixel TIFF16 and PNG8 encodes; run with
/// `cargo test --release -p rawflow --lib tiff_png_6000x4000 -- --ignored --nocapture`.
#[test]
#[ignore]
fn tiff_png_6000x4000_timing() {
    use super::{encode_png8, encode_tiff16, srgb_icc_profile, Embed};
    let meta = full_metadata();
    let embed = Embed {
        icc_profile: Some(srgb_icc_profile()),
        metadata: Some(&meta),
    };
    let img8 = smooth_rgb8(6000, 4000);
    let img16 = ramp_rgb16(6000, 4000);
    let runs = 3;
    let t = std::time::Instant::now();
    let mut len = 0;
    for _ in 0..runs {
        len = encode_tiff16(&img16, embed).expect("tiff").len();
    }
    println!(
        "6000x4000 RGB16 TIFF: {:?} per image, {len} bytes",
        t.elapsed() / runs
    );
    let t = std::time::Instant::now();
    for _ in 0..runs {
        len = encode_png8(&img8, embed).expect("png").len();
    }
    println!(
        "6000x4000 RGB8 PNG (smooth): {:?} per image, {len} bytes",
        t.elapsed() / runs
    );
}
