//! Hostile files: at least 500 deterministic mutations (truncations, bit
//! flips, byte runs, huge claimed dimensions, wrong offsets, splices) of the
//! real corpus files and of small synthetic DNGs, each decoded within
//! [`Limits`] and developed.
//!
//! The files run in a child process (this test binary, re-run on the
//! `mutation_child` test) under `ulimit -v` so that memory stays bounded, and
//! the parent kills the child when one file takes longer than the per-file
//! limit: a hang or an abort is found and named, never waited on. The test
//! passes only when no file hangs, crashes the process, exceeds memory, or
//! panics outside the decoder guard, and every failure is a typed
//! [`rawflow::Error`] with a message.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rawflow::internals::develop::develop_linear;
use rawflow::{decode_bytes_with_limits, Limits};
use rawflow::{DemosaicMethod, DevelopOptions, Timings};
use rawflow_corpus::{
    scenes, synthesize, write_dng, BayerPhase, CfaLayout, DngLayout, LjpegLayout, Noise,
    Orientation, SynthParams,
};

/// Set in the child: the folder of mutated files.
const CHILD_DIR: &str = "RAWFLOW_MUTATION_DIR";
/// Set in the child: the first file index to run.
const CHILD_START: &str = "RAWFLOW_MUTATION_START";
/// How many mutated files.
const FILES: usize = 720;
/// The longest one file may take (decode + develop) before it counts as a hang.
const PER_FILE: Duration = Duration::from_secs(20);
/// Address-space limit of the child, in KiB (ulimit -v).
const MEMORY_KIB: u64 = 6 << 20;
/// Pixels allowed by the limits in this test.
const MAX_PIXELS: u64 = 40_000_000;
/// Larger images are decoded but not developed (keeps the test fast; the
/// develop stages do not depend on the file beyond its decoded image).
const MAX_DEVELOP_PIXELS: usize = 6_000_000;

/// SplitMix64: a small deterministic PRNG.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn corpus_dir() -> PathBuf {
    rawflow_corpus::corpus_dir()
}

/// The seed files: every real RAW of the corpus plus synthetic DNGs.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let raw_dir = corpus_dir().join("raw");
    match std::fs::read_dir(&raw_dir) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && !matches!(
                            p.extension().and_then(|e| e.to_str()),
                            Some("md" | "tsv" | "txt")
                        )
                })
                .collect();
            paths.sort();
            for p in paths {
                let bytes = std::fs::read(&p).expect("read corpus file");
                out.push((p.file_name().unwrap().to_string_lossy().into_owned(), bytes));
            }
        }
        Err(e) => panic!("the corpus folder {} ({e})", raw_dir.display()),
    }
    let truth = scenes::color_chart(96, 64);
    let variants = [
        SynthParams::default(),
        SynthParams {
            cfa: CfaLayout::Bayer(BayerPhase::Gbrg),
            orientation: Orientation::Rotate90Cw,
            ..SynthParams::default()
        },
        SynthParams {
            cfa: CfaLayout::XTrans,
            bits: 12,
            ..SynthParams::default()
        },
        SynthParams {
            bits: 16,
            ..SynthParams::default()
        },
    ];
    for (i, p) in variants.iter().enumerate() {
        let dng = write_dng(&truth, p).expect("synthetic DNG");
        out.push((format!("synthetic-{i}.dng"), dng));
    }
    // Lossless-JPEG DNGs: tiles as DNG converters write them, one strip as
    // CR2/NEF, and the rarer codings (restart markers, four components,
    // predictor 6, several strips, two rows per JPEG line).
    let noisy = SynthParams {
        noise: Some(Noise {
            seed: 3,
            read_noise_dn: 6.0,
            shot_gain_dn: 0.8,
        }),
        ..SynthParams::default()
    };
    let raw = synthesize(&truth, &noisy).expect("synthesize");
    let layouts = [
        (
            "tiled",
            LjpegLayout {
                tile: Some((32, 32)),
                ..LjpegLayout::TILED
            },
        ),
        ("strip", LjpegLayout::STRIP),
        (
            "restarts",
            LjpegLayout {
                restart_lines: 4,
                components: 4,
                predictor: 6,
                ..LjpegLayout::STRIP
            },
        ),
        (
            "strips",
            LjpegLayout {
                rows_per_strip: Some(16),
                rows_per_line: 2,
                components: 1,
                predictor: 7,
                ..LjpegLayout::STRIP
            },
        ),
    ];
    for (name, layout) in layouts {
        let dng = rawflow_corpus::encode_dng_as(&raw, &noisy, &DngLayout::Ljpeg(layout))
            .expect("lossless-JPEG DNG");
        out.push((format!("synthetic-ljpeg-{name}.dng"), dng));
    }
    out
}

/// Positions of the 12-byte IFD entries of a TIFF file (IFD0 chain and SubIFDs).
fn ifd_entries(b: &[u8]) -> Vec<(u16, usize, bool)> {
    let le = match b.get(..4) {
        Some(b"II*\0") => true,
        Some(b"MM\0*") => false,
        _ => return Vec::new(),
    };
    let u16_at = |o: usize| {
        b.get(o..o + 2).map(|x| {
            if le {
                u16::from_le_bytes([x[0], x[1]])
            } else {
                u16::from_be_bytes([x[0], x[1]])
            }
        })
    };
    let u32_at = |o: usize| {
        b.get(o..o + 4).map(|x| {
            let a = [x[0], x[1], x[2], x[3]];
            if le {
                u32::from_le_bytes(a)
            } else {
                u32::from_be_bytes(a)
            }
        })
    };
    let mut out = Vec::new();
    let mut queue = vec![u32_at(4).unwrap_or(0) as usize];
    let mut seen = Vec::new();
    while let Some(at) = queue.pop() {
        if at == 0 || seen.contains(&at) || seen.len() > 32 {
            continue;
        }
        seen.push(at);
        let Some(n) = u16_at(at) else { continue };
        for i in 0..n as usize {
            let e = at + 2 + i * 12;
            let Some(tag) = u16_at(e) else { break };
            out.push((tag, e, le));
            if tag == 0x014A {
                if let Some(v) = u32_at(e + 8) {
                    queue.push(v as usize);
                }
            }
        }
        if let Some(next) = u32_at(at + 2 + n as usize * 12) {
            queue.push(next as usize);
        }
    }
    out
}

fn put_u32(b: &mut [u8], at: usize, v: u32, le: bool) {
    let bytes = if le { v.to_le_bytes() } else { v.to_be_bytes() };
    if let Some(slot) = b.get_mut(at..at + 4) {
        slot.copy_from_slice(&bytes);
    }
}

/// One mutation of `src`: (kind, bytes).
fn mutate(src: &[u8], rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let mut b = src.to_vec();
    let entries = ifd_entries(src);
    match rng.below(8) {
        0 => {
            // Truncation, biased towards the headers.
            let cut = if rng.below(2) == 0 {
                rng.below(b.len().min(4096))
            } else {
                rng.below(b.len())
            };
            b.truncate(cut);
            ("truncate", b)
        }
        1 | 2 => {
            let flips = 1 + rng.below(32);
            for _ in 0..flips {
                // Half the flips land in the first 64 KiB (headers, tables).
                let span = if rng.below(2) == 0 {
                    b.len().min(65536)
                } else {
                    b.len()
                };
                let i = rng.below(span);
                if let Some(x) = b.get_mut(i) {
                    *x ^= 1 << rng.below(8);
                }
            }
            ("bit flips", b)
        }
        3 => {
            let at = rng.below(b.len().min(65536));
            let len = 1 + rng.below(64);
            let fill = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)];
            for x in b.iter_mut().skip(at).take(len) {
                *x = fill;
            }
            ("byte run", b)
        }
        4 if !entries.is_empty() => {
            // Huge claimed dimensions on every width/height entry.
            let huge = [100_000u32, 65_535, 1 << 20, u32::MAX][rng.below(4)];
            for &(tag, e, le) in &entries {
                if tag == 0x0100 || tag == 0x0101 {
                    // Make it a LONG so the whole value counts.
                    let typ = if le {
                        4u16.to_le_bytes()
                    } else {
                        4u16.to_be_bytes()
                    };
                    if let Some(slot) = b.get_mut(e + 2..e + 4) {
                        slot.copy_from_slice(&typ);
                    }
                    put_u32(&mut b, e + 8, huge, le);
                }
            }
            ("huge dimensions", b)
        }
        5 if !entries.is_empty() => {
            // A wrong offset or count in a random entry.
            let (_, e, le) = entries[rng.below(entries.len())];
            let v = match rng.below(4) {
                0 => u32::MAX,
                1 => src.len() as u32,
                2 => rng.next() as u32,
                _ => 0,
            };
            put_u32(&mut b, e + if rng.below(2) == 0 { 8 } else { 4 }, v, le);
            ("wrong offset", b)
        }
        6 => {
            // Splice: copy a chunk of the file over another place.
            let len = 1 + rng.below(4096);
            let from = rng.below(b.len());
            let to = rng.below(b.len());
            let chunk: Vec<u8> = b.iter().skip(from).take(len).copied().collect();
            for (i, x) in chunk.into_iter().enumerate() {
                if let Some(slot) = b.get_mut(to + i) {
                    *slot = x;
                }
            }
            ("splice", b)
        }
        _ => {
            // Random bytes over the header.
            for x in b.iter_mut().take(16 + rng.below(512)) {
                if rng.below(4) == 0 {
                    *x = rng.next() as u8;
                }
            }
            ("header noise", b)
        }
    }
}

/// What the child reported for one file.
#[derive(Debug)]
enum Outcome {
    Developed,
    Refused(String, String),
    Panicked(String),
}

#[test]
fn mutated_files_never_crash_hang_or_exhaust_memory() {
    if std::env::var_os(CHILD_DIR).is_some() {
        return;
    }
    let seeds = seeds();
    let dir = tempfile::tempdir().unwrap();
    if std::env::var_os("RAWFLOW_MUTATION_KEEP").is_some() {
        eprintln!("keeping the mutated files in {}", dir.path().display());
    }
    let mut rng = Rng(0x5EED_0F_BAD_F11E5);
    let mut kinds = Vec::with_capacity(FILES);
    // Synthetic seeds are cheap: weight them; every real file gets its share.
    let synthetic: Vec<usize> = (0..seeds.len())
        .filter(|&i| seeds[i].0.starts_with("synthetic"))
        .collect();
    for n in 0..FILES {
        let s = if n % 3 != 0 && !synthetic.is_empty() {
            synthetic[rng.below(synthetic.len())]
        } else {
            (n / 3) % seeds.len()
        };
        let (kind, bytes) = mutate(&seeds[s].1, &mut rng);
        std::fs::write(dir.path().join(format!("{n:04}.raw")), &bytes).unwrap();
        kinds.push(format!("{} ({kind}, {} bytes)", seeds[s].0, bytes.len()));
    }

    if std::env::var_os("RAWFLOW_MUTATION_KEEP").is_some() {
        // Leave the files for reproducing (RAWFLOW_MUTATION_DIR/START on the child).
        let _ = std::fs::create_dir_all("/tmp/rawflow-mutations");
        for n in 0..FILES {
            let name = format!("{n:04}.raw");
            let _ = std::fs::copy(
                dir.path().join(&name),
                Path::new("/tmp/rawflow-mutations").join(&name),
            );
        }
    }
    let started = Instant::now();
    let mut outcomes: Vec<Option<Outcome>> = (0..FILES).map(|_| None).collect();
    let mut failures: Vec<String> = Vec::new();
    let mut next = 0;
    let mut children = 0;
    let mut ours = Vec::new();
    while next < FILES {
        children += 1;
        let (stopped_at, why) = run_child(dir.path(), next, &mut outcomes, &mut ours);
        match why {
            None => break,
            Some(why) => {
                failures.push(format!(
                    "file {stopped_at:04} = {}: {why}",
                    kinds[stopped_at]
                ));
                next = stopped_at + 1;
            }
        }
    }

    for (i, m) in ours {
        failures.push(format!(
            "file {i:04} = {}: panic in rawflow's own code (caught or not): {m}",
            kinds[i]
        ));
    }
    let mut developed = 0;
    let mut refused = std::collections::BTreeMap::<String, usize>::new();
    for (i, o) in outcomes.iter().enumerate() {
        match o {
            Some(Outcome::Developed) => developed += 1,
            Some(Outcome::Refused(variant, message)) => {
                *refused.entry(variant.clone()).or_default() += 1;
                if message.trim().is_empty() {
                    failures.push(format!(
                        "file {i:04} = {}: error without a message",
                        kinds[i]
                    ));
                }
            }
            Some(Outcome::Panicked(m)) => {
                failures.push(format!("file {i:04} = {}: panic escaped: {m}", kinds[i]))
            }
            None => {}
        }
    }
    eprintln!(
        "mutations: {FILES} files from {} seeds in {:.1} s over {children} child process(es): \
         {developed} developed, refused {refused:?}, {} failures",
        seeds.len(),
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    let answered = outcomes.iter().filter(|o| o.is_some()).count();
    assert_eq!(answered, FILES, "every file must be answered");
}

/// Run the child from file `start`; returns where it stopped and why (None
/// when it finished every file).
fn run_child(
    dir: &Path,
    start: usize,
    outcomes: &mut [Option<Outcome>],
    ours: &mut Vec<(usize, String)>,
) -> (usize, Option<String>) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(&exe)
        .args([
            "mutation_child",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_START, start.to_string())
        .env("RAYON_NUM_THREADS", "2")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let err_tail = std::thread::spawn(move || {
        let mut tail = std::collections::VecDeque::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tail.len() == 8 {
                tail.pop_front();
            }
            tail.push_back(line);
        }
        tail.into_iter().collect::<Vec<_>>().join(" | ")
    });
    let mut current = start;
    let mut deadline = Instant::now() + PER_FILE * 3; // start-up
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let Some(rest) = line.strip_prefix("@@") else {
                    continue;
                };
                let (tag, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                let (idx, msg) = rest.split_once(' ').unwrap_or((rest, ""));
                let idx: usize = idx.parse().unwrap_or(current);
                match tag {
                    "BEGIN" => {
                        current = idx;
                        deadline = Instant::now() + PER_FILE;
                    }
                    "OK" => outcomes[idx] = Some(Outcome::Developed),
                    "ERR" => {
                        let (variant, message) = msg.split_once('|').unwrap_or((msg, ""));
                        outcomes[idx] =
                            Some(Outcome::Refused(variant.to_string(), message.to_string()));
                    }
                    "PANIC" => outcomes[idx] = Some(Outcome::Panicked(msg.to_string())),
                    "OURPANIC" => ours.push((current, rest.to_string())),
                    "DONE" => {
                        let _ = child.wait();
                        return (FILES, None);
                    }
                    _ => {}
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return (
                    current,
                    Some(format!("hang: no answer within {} s", PER_FILE.as_secs())),
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().ok();
                let tail = err_tail.join().unwrap_or_default();
                if outcomes[current].is_some() && current + 1 >= FILES {
                    return (FILES, None);
                }
                return (
                    current,
                    Some(format!("the process died ({status:?}): {tail}")),
                );
            }
        }
    }
}

/// The child: decode and develop every file from `CHILD_START`, reporting each.
#[test]
fn mutation_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let start: usize = std::env::var(CHILD_START)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Keep stderr short: decoders' own panic messages are expected. A panic
    // in rawflow's own code is a finding even when the decoder guard catches
    // it: report it.
    std::panic::set_hook(Box::new(|info| {
        if let Some(l) = info.location().filter(|l| l.file().contains("engine/src")) {
            let msg = info.to_string().replace('\n', " ");
            println!("@@OURPANIC {}:{} {msg}", l.file(), l.line());
        }
    }));

    let limits = Limits {
        max_pixels: MAX_PIXELS,
        max_decode_time: Some(PER_FILE / 2),
        ..Limits::default()
    };
    let options = DevelopOptions {
        demosaic: DemosaicMethod::Bilinear,
        ..DevelopOptions::default()
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for n in start..FILES {
        let path = Path::new(&dir).join(format!("{n:04}.raw"));
        let bytes = std::fs::read(&path).unwrap_or_default();
        let _ = writeln!(out, "@@BEGIN {n}");
        let _ = out.flush();
        let result = std::panic::catch_unwind(|| {
            let raw = decode_bytes_with_limits(&bytes, &limits)?;
            if raw.width.saturating_mul(raw.height) > MAX_DEVELOP_PIXELS {
                return Ok(());
            }
            develop_linear(&raw, &options, &mut Timings::default())?;
            // X-Trans files also through both X-Trans kernels (one and three passes).
            if raw.cfa.is_xtrans() {
                for demosaic in [DemosaicMethod::Fast, DemosaicMethod::Best] {
                    let options = DevelopOptions {
                        demosaic,
                        ..options.clone()
                    };
                    develop_linear(&raw, &options, &mut Timings::default())?;
                }
            }
            Ok::<(), rawflow::Error>(())
        });
        let line = match result {
            Ok(Ok(())) => format!("@@OK {n}"),
            Ok(Err(e)) => {
                let variant = format!("{e:?}");
                let variant = variant
                    .split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or("")
                    .to_string();
                format!("@@ERR {n} {variant}|{}", e.to_string().replace('\n', " "))
            }
            Err(p) => {
                let m = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("@@PANIC {n} {}", m.replace('\n', " "))
            }
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    let _ = writeln!(out, "@@DONE 0");
    let _ = out.flush();
}
