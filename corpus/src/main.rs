//! `rawflow-corpus`: writes synthetic DNGs with known ground truth, and scores
//! developed images against their truth.

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rawflow_corpus::camera::camera_by_name;
use rawflow_corpus::score::{score_any, DEFAULT_BORDER};
use rawflow_corpus::*;

type AnyResult<T> = std::result::Result<T, Box<dyn StdError>>;

#[derive(Parser)]
#[command(
    name = "rawflow-corpus",
    version,
    about = "Synthetic RAW (DNG) test files with known ground truth, and scores"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write DNGs for the Kodak 24 ground truths (and the procedural scenes).
    Kodak {
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Directory holding kodim01.png..kodim24.png
        /// [default: $RAWFLOW_CORPUS/groundtruth/kodak24].
        #[arg(long)]
        kodak_dir: Option<PathBuf>,
        /// Only these image numbers (e.g. --only 1,5,23).
        #[arg(long, value_delimiter = ',')]
        only: Vec<usize>,
        /// Skip the procedural scenes.
        #[arg(long)]
        no_scenes: bool,
        /// Skip the Kodak images (procedural scenes only).
        #[arg(long)]
        no_kodak: bool,
        #[command(flatten)]
        synth: SynthArgs,
    },
    /// Write a DNG for every PNG ground truth in a directory, named after it
    /// (NAME.png → NAME.dng), e.g. the McMaster 18.
    Truths {
        /// Directory of ground-truth PNGs.
        #[arg(long)]
        dir: PathBuf,
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        synth: SynthArgs,
    },
    /// Write one procedural scene as a DNG (and its truth as PNG).
    Scene {
        /// checker | chart | zoneplate | saturated | huesweep | kodak (a
        /// composite of the Kodak ground truths, photographic content)
        name: String,
        /// Output DNG.
        #[arg(long)]
        out: PathBuf,
        /// Size as WIDTHxHEIGHT.
        #[arg(long, default_value = "768x512")]
        size: String,
        /// Also write the ground truth here (PNG).
        #[arg(long)]
        truth: Option<PathBuf>,
        #[command(flatten)]
        synth: SynthArgs,
    },
    /// Write the 1536x1024 demo DNG (colour chart, hue sweep, zone plate,
    /// saturated edges); needs no corpus files.
    Sample {
        /// Output DNG.
        #[arg(long)]
        out: PathBuf,
        /// Also write the ground truth here (PNG).
        #[arg(long)]
        truth: Option<PathBuf>,
        #[command(flatten)]
        synth: SynthArgs,
    },
    /// Score a developed PNG (8 or 16 bit) against its ground-truth PNG.
    Score {
        /// Developed image.
        developed: PathBuf,
        /// Ground truth.
        truth: PathBuf,
        /// Pixels excluded on every side.
        #[arg(long, default_value_t = DEFAULT_BORDER)]
        border: usize,
    },
}

#[derive(Args, Clone)]
struct SynthArgs {
    /// CFA: rggb | bggr | grbg | gbrg | xtrans.
    #[arg(long, default_value = "rggb")]
    phase: String,
    /// Significant bits: 12, 14 or 16.
    #[arg(long, default_value_t = 14)]
    bits: u8,
    /// Black level: one value, or four (per 2x2 position, row major) separated by commas.
    #[arg(long, value_delimiter = ',', default_value = "512")]
    black: Vec<u16>,
    /// White level [default: 2^bits - 1].
    #[arg(long)]
    white: Option<u16>,
    /// canon-5d2 | nikon-d700 | sony-a7m3 | fuji-xt2 [default: canon-5d2, fuji-xt2 for xtrans].
    #[arg(long)]
    camera: Option<String>,
    /// EXIF orientation tag 1..8 (the truth is stored un-rotated accordingly).
    #[arg(long, default_value_t = 1)]
    orientation: u16,
    /// Exposure scale (1 = sRGB white at the white level).
    #[arg(long, default_value_t = 1.0)]
    headroom: f64,
    /// Read-noise standard deviation in DN (enables noise).
    #[arg(long)]
    noise_read: Option<f64>,
    /// Shot-noise gain in DN per electron (enables noise).
    #[arg(long)]
    noise_gain: Option<f64>,
    /// Noise seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Light the scene with a black body of this many kelvin and write a
    /// dual-illuminant DNG (ColorMatrix1 Standard light A, ColorMatrix2 D65);
    /// only for --camera canon-5d2.
    #[arg(long, value_name = "K")]
    light_kelvin: Option<f64>,
    /// How the samples are stored: none (one uncompressed 16-bit strip),
    /// ljpeg-tiles (lossless JPEG in 256x256 tiles, as DNG converters write)
    /// or ljpeg-strip (the whole image as one lossless JPEG, the CR2/NEF
    /// layout), or ljpeg:KEY=VALUE,... over ljpeg-strip with tile=WxH,
    /// strip-rows=N, components=1..4, rows-per-line=1|2, predictor=1..7,
    /// restart=LINES.
    #[arg(long, default_value = "none")]
    compression: String,
}

impl SynthArgs {
    fn layout(&self) -> AnyResult<DngLayout> {
        Ok(match self.compression.as_str() {
            "none" => DngLayout::Uncompressed,
            "ljpeg-tiles" => DngLayout::Ljpeg(LjpegLayout::TILED),
            "ljpeg-strip" => DngLayout::Ljpeg(LjpegLayout::STRIP),
            other => match other.strip_prefix("ljpeg:") {
                Some(spec) => DngLayout::Ljpeg(parse_ljpeg(spec)?),
                None => {
                    return Err(format!(
                        "unknown --compression {other}; one of none, ljpeg-tiles, ljpeg-strip, \
                         ljpeg:KEY=VALUE,..."
                    )
                    .into())
                }
            },
        })
    }

    fn params(&self) -> AnyResult<SynthParams> {
        let cfa = if self.phase.eq_ignore_ascii_case("xtrans") {
            CfaLayout::XTrans
        } else {
            CfaLayout::Bayer(
                BayerPhase::from_name(&self.phase)
                    .ok_or_else(|| format!("unknown --phase {}", self.phase))?,
            )
        };
        let camera_name = match (&self.camera, cfa) {
            (Some(c), _) => c.as_str(),
            (None, CfaLayout::XTrans) => "fuji-xt2",
            (None, _) => "canon-5d2",
        };
        let camera =
            camera_by_name(camera_name).ok_or_else(|| format!("unknown --camera {camera_name}"))?;
        let black = match self.black.as_slice() {
            [b] => BlackLevels::Uniform(*b),
            [a, b, c, d] => BlackLevels::PerPosition([*a, *b, *c, *d]),
            _ => return Err("--black takes one value or four".into()),
        };
        let orientation = Orientation::from_tag(self.orientation)
            .ok_or_else(|| format!("--orientation must be 1..8, not {}", self.orientation))?;
        let noise = match (self.noise_read, self.noise_gain) {
            (None, None) => None,
            (r, g) => Some(Noise {
                seed: self.seed,
                read_noise_dn: r.unwrap_or(0.0),
                shot_gain_dn: g.unwrap_or(0.0),
            }),
        };
        let light = match self.light_kelvin {
            None => None,
            Some(k) if camera == CANON_EOS_5D_MARK_II => Some(SceneLight::canon_5d_mark_ii(k)),
            Some(_) => return Err("--light-kelvin needs --camera canon-5d2 (the camera with a Standard light A matrix here)".into()),
        };
        let p = SynthParams {
            light,
            cfa,
            bits: self.bits,
            black,
            white: self.white,
            camera,
            orientation,
            noise,
            headroom: self.headroom,
            capture: CaptureInfo::default(),
        };
        p.validate()?;
        Ok(p)
    }
}

fn write(path: &Path, bytes: &[u8]) -> AnyResult<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// `tile=WxH,strip-rows=N,components=N,rows-per-line=N,predictor=N,restart=N`
/// over the single-strip layout.
fn parse_ljpeg(spec: &str) -> AnyResult<LjpegLayout> {
    let mut l = LjpegLayout::STRIP;
    for item in spec.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("expected KEY=VALUE in --compression, got {item}"))?;
        let n = || v.parse::<usize>().map_err(|e| format!("{k}={v}: {e}"));
        match k {
            "tile" => l.tile = Some(parse_size(v)?),
            "strip-rows" => l.rows_per_strip = Some(n()?),
            "components" => l.components = n()?,
            "rows-per-line" => l.rows_per_line = n()?,
            "predictor" => l.predictor = u8::try_from(n()?)?,
            "restart" => l.restart_lines = n()?,
            _ => return Err(format!("unknown lossless-JPEG setting {k}").into()),
        }
    }
    Ok(l)
}

fn parse_size(s: &str) -> AnyResult<(usize, usize)> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or("size must be WIDTHxHEIGHT")?;
    let (w, h): (usize, usize) = (w.trim().parse()?, h.trim().parse()?);
    if w == 0 || h == 0 || w > 20_000 || h > 20_000 {
        return Err(format!("size {w}x{h} out of range").into());
    }
    Ok((w, h))
}

fn describe(p: &SynthParams) -> String {
    format!(
        "cfa={} bits={} black={:?} white={} camera={} orientation={} headroom={} noise={:?}",
        match p.cfa {
            CfaLayout::XTrans => "XTRANS",
            c => c.name(),
        },
        p.bits,
        p.black,
        p.white_level(),
        p.camera.unique_model,
        p.orientation.tag(),
        p.headroom,
        p.noise
    )
}

fn kodak(
    out: &Path,
    kodak_dir: Option<PathBuf>,
    only: &[usize],
    scenes_too: bool,
    kodak_too: bool,
    params: &SynthParams,
    layout: &DngLayout,
) -> AnyResult<()> {
    fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut manifest = String::from("dng\ttruth\tclipped_samples\tparams\n");
    let desc = describe(params);
    if kodak_too {
        let dir = kodak_dir.unwrap_or_else(|| corpus_dir().join("groundtruth/kodak24"));
        let numbers: Vec<usize> = if only.is_empty() {
            (1..=24).collect()
        } else {
            only.to_vec()
        };
        for n in numbers {
            let src = dir.join(format!("kodim{n:02}.png"));
            let truth = load_png(&src).map_err(|e| {
                format!("{e} (set RAWFLOW_CORPUS or --kodak-dir to the Kodak ground truths)")
            })?;
            let name = format!("kodim{n:02}.dng");
            write(&out.join(&name), &write_dng_as(&truth, params, layout)?)?;
            let clipped = synth::clipped_samples(&truth, params)?;
            let truth_path = fs::canonicalize(&src).unwrap_or(src);
            writeln!(
                manifest,
                "{name}\t{}\t{clipped}\t{desc}",
                truth_path.display()
            )?;
            eprintln!("wrote {name}");
        }
    }
    if scenes_too {
        for scene in scenes::SCENE_NAMES {
            let truth = scenes::scene_by_name(scene, 768, 512).ok_or("unknown scene")?;
            let name = format!("{scene}.dng");
            write(&out.join(&name), &write_dng_as(&truth, params, layout)?)?;
            let truth_name = format!("{scene}.png");
            truth.save_png(out.join(&truth_name))?;
            let clipped = synth::clipped_samples(&truth, params)?;
            writeln!(manifest, "{name}\t{truth_name}\t{clipped}\t{desc}")?;
            eprintln!("wrote {name} and {truth_name}");
        }
    }
    write(&out.join("manifest.tsv"), manifest.as_bytes())
}

/// Write OUT/NAME.dng for every DIR/NAME.png, and a manifest.
fn truths(dir: &Path, out: &Path, params: &SynthParams) -> AnyResult<()> {
    let mut pngs: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
        .collect();
    pngs.sort();
    if pngs.is_empty() {
        return Err(format!("no PNG files in {}", dir.display()).into());
    }
    fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let mut manifest = String::from("dng\ttruth\tclipped_samples\tparams\n");
    let desc = describe(params);
    for src in pngs {
        let stem = src
            .file_stem()
            .ok_or_else(|| format!("no file name in {}", src.display()))?
            .to_string_lossy()
            .into_owned();
        let truth = load_png(&src)?;
        let name = format!("{stem}.dng");
        write(&out.join(&name), &write_dng(&truth, params)?)?;
        let clipped = synth::clipped_samples(&truth, params)?;
        writeln!(manifest, "{name}\t{}\t{clipped}\t{desc}", src.display())?;
        eprintln!("wrote {name}");
    }
    write(&out.join("manifest.tsv"), manifest.as_bytes())
}

fn run(cli: Cli) -> AnyResult<()> {
    match cli.cmd {
        Cmd::Kodak {
            out,
            kodak_dir,
            only,
            no_scenes,
            no_kodak,
            synth,
        } => kodak(
            &out,
            kodak_dir,
            &only,
            !no_scenes,
            !no_kodak,
            &synth.params()?,
            &synth.layout()?,
        ),
        Cmd::Truths { dir, out, synth } => truths(&dir, &out, &synth.params()?),
        Cmd::Scene {
            name,
            out,
            size,
            truth,
            synth,
        } => {
            let (w, h) = parse_size(&size)?;
            let img = if name == "kodak" {
                kodak_composite(w, h)?
            } else {
                scenes::scene_by_name(&name, w, h).ok_or_else(|| {
                    format!(
                        "unknown scene {name}; one of {}",
                        scenes::SCENE_NAMES.join(", ")
                    )
                })?
            };
            write(
                &out,
                &write_dng_as(&img, &synth.params()?, &synth.layout()?)?,
            )?;
            if let Some(t) = truth {
                write(&t, &img.to_png()?)?;
            }
            Ok(())
        }
        Cmd::Sample { out, truth, synth } => {
            let img = scenes::sample_scene();
            write(
                &out,
                &write_dng_as(&img, &synth.params()?, &synth.layout()?)?,
            )?;
            if let Some(t) = truth {
                write(&t, &img.to_png()?)?;
            }
            Ok(())
        }
        Cmd::Score {
            developed,
            truth,
            border,
        } => {
            let dev = load_png16(&developed)?;
            let truth = load_png(&truth)?;
            let s = score_any(&dev, &truth, border)?;
            println!("cpsnr_db={:.3}", s.cpsnr_db);
            println!("delta_e2000_mean={:.4}", s.delta_e2000_mean);
            println!("delta_e2000_max={:.4}", s.delta_e2000_max);
            println!("exposure_ratio={:.5}", s.exposure_ratio);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rawflow-corpus: {e}");
            ExitCode::FAILURE
        }
    }
}
