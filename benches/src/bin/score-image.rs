//! Score a developed image (8/16-bit PNG, or 8/16-bit RGB TIFF as written by
//! dcraw and dcraw_emu) against a ground-truth PNG.
//!
//! Usage: `score-image DEVELOPED TRUTH.png [BORDER]`; prints
//! `CPSNR_DB DELTA_E2000_MEAN` on one line.

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use rawflow_corpus::{load_png, load_png16, score, score16, SrgbImage, SrgbImage16};
use tiff::decoder::{Decoder, DecodingResult};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

enum Developed {
    Eight(SrgbImage),
    Sixteen(SrgbImage16),
}

fn load_tiff(path: &str) -> AnyResult<Developed> {
    let mut dec = Decoder::new(BufReader::new(File::open(path)?))?;
    let (w, h) = dec.dimensions()?;
    let (w, h) = (w as usize, h as usize);
    match dec.read_image()? {
        DecodingResult::U8(v) => Ok(Developed::Eight(SrgbImage::new(w, h, v)?)),
        DecodingResult::U16(v) => Ok(Developed::Sixteen(SrgbImage16::new(w, h, v)?)),
        _ => Err("unsupported TIFF sample format".into()),
    }
}

fn to_linear(v: u8) -> f64 {
    let e = f64::from(v) / 255.0;
    if e <= 0.04045 {
        e / 12.92
    } else {
        ((e + 0.055) / 1.055).powf(2.4)
    }
}

fn to_srgb(l: f64) -> u8 {
    let l = l.clamp(0.0, 1.0);
    let e = if l <= 0.003_130_8 {
        l * 12.92
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    };
    (e * 255.0).round() as u8
}

/// Box-average `k`×`k` blocks in linear light, to `w`×`h` pixels.
fn downscale(t: &SrgbImage, k: usize, w: usize, h: usize) -> AnyResult<SrgbImage> {
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0.0;
                for dy in 0..k {
                    for dx in 0..k {
                        let i = ((y * k + dy) * t.width + x * k + dx) * 3 + c;
                        sum += to_linear(*t.data.get(i).ok_or("truth too small")?);
                    }
                }
                data.push(to_srgb(sum / (k * k) as f64));
            }
        }
    }
    Ok(SrgbImage::new(w, h, data)?)
}

fn run(args: &[String]) -> AnyResult<()> {
    let (Some(dev), Some(truth)) = (args.first(), args.get(1)) else {
        return Err("usage: score-image DEVELOPED TRUTH.png [BORDER]".into());
    };
    let border = match args.get(2) {
        Some(b) => b.parse()?,
        None => rawflow_corpus::score::DEFAULT_BORDER,
    };
    let truth = load_png(truth)?;
    let lower = dev.to_ascii_lowercase();
    let developed = if lower.ends_with(".tif") || lower.ends_with(".tiff") {
        load_tiff(dev)?
    } else {
        Developed::Sixteen(load_png16(dev)?)
    };
    let (dw, dh) = match &developed {
        Developed::Eight(d) => (d.width, d.height),
        Developed::Sixteen(d) => (d.width, d.height),
    };
    // An output with a border trimmed off (RawTherapee leaves out 4 pixels on
    // every side) is scored against the same centre of the truth.
    let margin = truth.width.saturating_sub(dw) / 2;
    let (truth, border) = if dw > 0
        && margin > 0
        && margin <= 16
        && truth.width == dw + 2 * margin
        && truth.height == dh + 2 * margin
    {
        (
            centre(&truth, margin, dw, dh)?,
            border.saturating_sub(margin),
        )
    } else {
        (truth, border)
    };
    // A reduced-resolution output is scored against the truth downscaled to it.
    let truth = if dw > 0 && (dw, dh) != (truth.width, truth.height) && truth.width / dw >= 2 {
        downscale(&truth, truth.width / dw, dw, dh)?
    } else {
        truth
    };
    let s = match &developed {
        Developed::Eight(d) => score(d, &truth, border)?,
        Developed::Sixteen(d) => score16(d, &truth, border)?,
    };
    println!("{:.2} {:.3}", s.cpsnr_db, s.delta_e2000_mean);
    Ok(())
}

/// The `w` × `h` pixels of `t` that start `m` pixels in from its top-left.
fn centre(t: &SrgbImage, m: usize, w: usize, h: usize) -> AnyResult<SrgbImage> {
    let mut data = Vec::with_capacity(w * h * 3);
    for y in m..m + h {
        let start = (y * t.width + m) * 3;
        data.extend_from_slice(t.data.get(start..start + w * 3).ok_or("truth too small")?);
    }
    Ok(SrgbImage::new(w, h, data)?)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("score-image: {e}");
            ExitCode::FAILURE
        }
    }
}
