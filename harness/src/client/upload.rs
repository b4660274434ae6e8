//! `rawflow upload --client ID [--recipe NAME] [--jobs N] [--wait] PATH...`
//!
//! Every RAW file under the paths is hashed (SHA-256) and compared with the
//! content hashes of the client's jobs on the server (the server computes
//! each upload's hash as it stores it), so a second run skips what was
//! already accepted: an interrupted run is resumed by running it again. The
//! rest is announced (`POST /v1/uploads`) and streamed to its signed link,
//! N files at a time, and the hash the server computed is checked against the
//! local one. A file whose transfer breaks is sent again, up to three times.
//! The local server takes single `PUT`s (no multipart): a file cut off
//! mid-transfer is sent again whole.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{mb, print_json, print_table, s, Api, ApiError, CliError, Conn};

/// Options of `rawflow upload`.
#[derive(clap::Args, Debug)]
#[command(after_help = super::EXIT_HELP)]
pub struct UploadArgs {
    /// The client the photos are for (an id from `rawflow clients list`).
    #[arg(long)]
    pub client: String,
    /// The recipe to develop with (`rawflow recipes` lists them).
    #[arg(long, default_value = "web")]
    pub recipe: String,
    /// Files sent at the same time.
    #[arg(long, short = 'j', default_value_t = 4)]
    pub jobs: usize,
    /// After uploading, show development progress until every job completed or failed
    /// (exit status 1 if any failed).
    #[arg(long)]
    pub wait: bool,
    /// RAW files, or folders searched recursively for RAW files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub conn: Conn,
}

/// What became of one file.
#[derive(Debug, Clone)]
enum Outcome {
    Uploaded { job_id: String, bytes: u64 },
    Skipped { job_id: String },
    Failed { error: String },
}

/// The name the server is given: the file's own name, with characters the
/// server does not accept (anything but ASCII letters, digits, space and
/// `._-+()`) replaced by `_`.
pub fn upload_filename(path: &Path) -> String {
    let name: String = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-+()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim().trim_start_matches('.').replace("..", "_");
    let name: String = name.chars().take(200).collect();
    let name = name.trim().to_string();
    if name.is_empty() {
        "upload.raw".into()
    } else {
        name
    }
}

/// SHA-256 (hex) of a file.
fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(rawflow_jobs::ids::hex(&h.finalize()))
}

/// Counts bytes read into the progress bar.
struct Counting<'a> {
    inner: File,
    bar: &'a ProgressBar,
    sent: u64,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent += n as u64;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn upload_one(
    api: &Api,
    args: &UploadArgs,
    path: &Path,
    size: u64,
    sha256: &str,
    bar: &ProgressBar,
) -> Result<(String, u64), String> {
    let filename = upload_filename(path);
    let mut last = String::new();
    for attempt in 1..=3 {
        let intent = api
            .post(
                "announce upload",
                "/v1/uploads",
                &json!({ "client_id": args.client, "filename": filename, "recipe": args.recipe }),
            )
            .map_err(|e| e.to_string());
        let intent = match intent {
            Ok(v) => v,
            Err(e) => {
                last = e;
                std::thread::sleep(Duration::from_millis(500 * attempt));
                continue;
            }
        };
        let job_id = s(&intent, "job_id");
        let url = s(&intent, "upload_url");
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut body = Counting {
            inner: file,
            bar,
            sent: 0,
        };
        match api.put_reader("upload", &url, size, &mut body) {
            Ok(v) => {
                let server_hash = s(&v, "sha256");
                if server_hash != sha256 {
                    return Err(format!(
                        "the server stored a different file (SHA-256 {server_hash}, local {sha256})"
                    ));
                }
                return Ok((job_id, size));
            }
            Err(e) => {
                bar.set_position(bar.position().saturating_sub(body.sent));
                let transient = e.is_transient();
                last = e.to_string();
                if !transient {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500 * attempt));
            }
        }
    }
    Err(last)
}

/// The client's jobs: content hash → (job id, status).
fn jobs_by_hash(api: &Api, client: &str) -> Result<HashMap<String, (String, String)>, ApiError> {
    let v = api.get(
        "list the client's jobs",
        &format!("/v1/jobs?client_id={client}&limit=10000"),
    )?;
    Ok(v["jobs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        // Jobs whose RAW file landed (an announced upload that never
        // arrived, was cancelled or expired does not count).
        .filter(|j| {
            s(j, "client_id") == client
                && !s(j, "input_sha256").is_empty()
                && !matches!(
                    s(j, "status").as_str(),
                    "awaiting_upload" | "cancelled" | "upload_expired"
                )
        })
        .map(|j| (s(j, "input_sha256"), (s(j, "job_id"), s(j, "status"))))
        .collect())
}

/// Run `rawflow upload`.
pub fn run(args: UploadArgs) -> Result<(), CliError> {
    let api = args.conn.api()?;
    if args.client.is_empty() || !args.client.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CliError::Usage(format!(
            "{:?} is not a client id",
            args.client
        )));
    }
    let files = crate::develop::collect_inputs(&args.paths).map_err(CliError::Usage)?;
    if files.is_empty() {
        return Err(CliError::Usage(format!(
            "no RAW files found (extensions: {})",
            crate::develop::RAW_EXTENSIONS.join(", ")
        )));
    }
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()))
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::Io(e.to_string()))?;
    let known = jobs_by_hash(&api, &args.client)?;
    let total: u64 = sizes.iter().sum();
    let bar = progress_bar(total, &format!("uploading {} files", files.len()));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; files.len()]);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.clamp(1, 64) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let (Some(path), Some(&size)) = (files.get(i), sizes.get(i)) else {
                    break;
                };
                let outcome = match hash_file(path) {
                    Err(e) => Outcome::Failed {
                        error: format!("reading: {e}"),
                    },
                    Ok(hash) => match known.get(&hash) {
                        Some((job_id, _)) => {
                            bar.set_length(bar.length().unwrap_or(0).saturating_sub(size));
                            Outcome::Skipped {
                                job_id: job_id.clone(),
                            }
                        }
                        None => match upload_one(&api, &args, path, size, &hash, &bar) {
                            Ok((job_id, bytes)) => Outcome::Uploaded { job_id, bytes },
                            Err(error) => {
                                bar.set_length(bar.length().unwrap_or(0).saturating_sub(size));
                                bar.suspend(|| eprintln!("{}: {error}", path.display()));
                                Outcome::Failed { error }
                            }
                        },
                    },
                };
                if let Ok(mut r) = results.lock() {
                    if let Some(slot) = r.get_mut(i) {
                        *slot = Some(outcome);
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64().max(1e-6);
    let results = results.into_inner().unwrap_or_default();

    let (mut uploaded, mut skipped, mut failed, mut bytes) = (0usize, 0usize, 0usize, 0u64);
    let mut entries = Vec::new();
    let mut job_ids = Vec::new();
    for (path, outcome) in files.iter().zip(&results) {
        let file = path.display().to_string();
        match outcome {
            Some(Outcome::Uploaded { job_id, bytes: b }) => {
                uploaded += 1;
                bytes += b;
                job_ids.push(job_id.clone());
                entries.push(
                    json!({ "file": file, "status": "uploaded", "job_id": job_id, "bytes": b }),
                );
            }
            Some(Outcome::Skipped { job_id }) => {
                skipped += 1;
                job_ids.push(job_id.clone());
                entries.push(json!({ "file": file, "status": "skipped", "job_id": job_id }));
            }
            Some(Outcome::Failed { error }) => {
                failed += 1;
                entries.push(json!({ "file": file, "status": "failed", "error": error }));
            }
            None => {
                failed += 1;
                entries.push(json!({ "file": file, "status": "failed", "error": "not attempted" }));
            }
        }
    }
    let summary = json!({
        "files": files.len(),
        "uploaded": uploaded,
        "skipped": skipped,
        "failed": failed,
        "bytes": bytes,
        "seconds": elapsed,
        "mb_per_s": bytes as f64 / 1e6 / elapsed,
        "files_per_s": uploaded as f64 / elapsed,
        "results": entries,
    });
    if !args.conn.json {
        eprintln!(
            "uploaded {uploaded} file(s), {} in {elapsed:.1} s ({:.1} MB/s, {:.1} files/s); \
             {skipped} already uploaded; {failed} failed",
            mb(bytes),
            bytes as f64 / 1e6 / elapsed,
            uploaded as f64 / elapsed
        );
    }
    let developed = if args.wait && !job_ids.is_empty() {
        Some(wait_for_jobs(&api, &args.client, &job_ids, args.conn.json)?)
    } else {
        None
    };
    if args.conn.json {
        let mut out = summary;
        if let Some(d) = &developed {
            out["jobs"] = json!(d);
        }
        print_json(&out);
    }
    if failed > 0 {
        return Err(CliError::Failed(format!(
            "{failed} of {} file(s) were not accepted",
            files.len()
        )));
    }
    if let Some(d) = developed {
        let bad = d.iter().filter(|j| s(j, "status") != "completed").count();
        if bad > 0 {
            return Err(CliError::Failed(format!("{bad} job(s) did not complete")));
        }
    }
    Ok(())
}

/// Whether a job status is final (nothing more will happen without the studio).
fn is_final(status: &str) -> bool {
    matches!(
        status,
        "completed" | "failed" | "cancelled" | "upload_expired"
    )
}

/// Poll the client's jobs until every one of `ids` completed or failed;
/// their final records.
fn wait_for_jobs(
    api: &Api,
    client: &str,
    ids: &[String],
    quiet: bool,
) -> Result<Vec<Value>, CliError> {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(Some(ids.len() as u64), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("developing [{bar:30}] {pos}/{len} {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b
    };
    let mut errors = 0u32;
    loop {
        let v = match api.get(
            "list the client's jobs",
            &format!("/v1/jobs?client_id={client}&limit=10000"),
        ) {
            Ok(v) => {
                errors = 0;
                v
            }
            Err(e) if e.is_transient() && errors < 10 => {
                errors += 1;
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let by_id: HashMap<String, &Value> = v["jobs"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|j| (s(j, "job_id"), j))
            .collect();
        let mine: Vec<Value> = ids
            .iter()
            .map(|id| {
                by_id.get(id).map_or_else(
                    || json!({ "job_id": id, "status": "pending" }),
                    |j| (*j).clone(),
                )
            })
            .collect();
        let done = mine.iter().filter(|j| is_final(&s(j, "status"))).count();
        let failed = mine
            .iter()
            .filter(|j| is_final(&s(j, "status")) && s(j, "status") != "completed")
            .count();
        bar.set_position(done as u64);
        bar.set_message(if failed > 0 {
            format!("({failed} failed)")
        } else {
            String::new()
        });
        if done == ids.len() {
            bar.finish_and_clear();
            if !quiet {
                let rows: Vec<Vec<String>> = mine
                    .iter()
                    .filter(|j| s(j, "status") != "completed")
                    .map(|j| {
                        vec![
                            s(j, "job_id"),
                            s(j, "filename"),
                            s(j, "status"),
                            s(j, "error"),
                        ]
                    })
                    .collect();
                eprintln!(
                    "developed: {} completed, {failed} failed",
                    ids.len() - failed
                );
                if !rows.is_empty() {
                    print_table(&["JOB", "FILE", "STATUS", "ERROR"], &rows);
                }
            }
            return Ok(mine);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
