//! `rawflow jobs` (list) and `rawflow fetch` (download developed photos).

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{mb, print_json, print_table, s, Api, CliError, Conn};

/// Options of `rawflow jobs`.
#[derive(clap::Args, Debug)]
#[command(after_help = super::EXIT_HELP)]
pub struct JobsArgs {
    /// Only this client's jobs (with a client's token: always its own).
    #[arg(long)]
    pub client: Option<String>,
    /// Only jobs in this status: awaiting_upload, pending, running, completed,
    /// failed, cancelled or upload_expired.
    #[arg(long)]
    pub status: Option<String>,
    /// Only the photos the client marked as favourites in the gallery.
    #[arg(long)]
    pub favourites: bool,
    /// At most this many jobs, newest first.
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
    #[command(flatten)]
    pub conn: Conn,
}

fn list(
    api: &Api,
    client: Option<&str>,
    status: Option<&str>,
    limit: u32,
) -> Result<Vec<Value>, CliError> {
    let mut q = format!("/v1/jobs?limit={limit}");
    if let Some(c) = client {
        if !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CliError::Usage(format!("{c:?} is not a client id")));
        }
        q.push_str(&format!("&client_id={c}"));
    }
    if let Some(st) = status {
        const STATUSES: [&str; 7] = [
            "awaiting_upload",
            "pending",
            "running",
            "completed",
            "failed",
            "cancelled",
            "upload_expired",
        ];
        if !STATUSES.contains(&st) {
            return Err(CliError::Usage(format!(
                "unknown status {st:?} (use {})",
                STATUSES.join(", ")
            )));
        }
        q.push_str(&format!("&status={st}"));
    }
    let v = api.get("list jobs", &q)?;
    Ok(v["jobs"].as_array().cloned().unwrap_or_default())
}

fn total_seconds(job: &Value) -> f64 {
    job["timings"]
        .as_object()
        .map(|t| t.values().filter_map(Value::as_f64).sum())
        .unwrap_or(0.0)
}

/// Run `rawflow jobs`.
pub fn run_jobs(args: JobsArgs) -> Result<(), CliError> {
    let api = args.conn.api()?;
    let mut jobs = list(
        &api,
        args.client.as_deref(),
        args.status.as_deref(),
        args.limit,
    )?;
    let favs: HashSet<String> = {
        let q = match &args.client {
            Some(c) => format!("/v1/favourites?client_id={c}"),
            None => "/v1/favourites".to_string(),
        };
        api.get("list favourites", &q)?["favourites"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|f| s(f, "job_id"))
            .collect()
    };
    if args.favourites {
        jobs.retain(|j| favs.contains(&s(j, "job_id")));
    }
    for j in &mut jobs {
        let id = s(j, "job_id");
        j["favourite"] = json!(favs.contains(&id));
    }
    if args.conn.json {
        print_json(&json!({ "jobs": jobs }));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            let secs = total_seconds(j);
            vec![
                s(j, "job_id"),
                s(j, "client_id"),
                s(j, "filename"),
                s(j, "status"),
                s(j, "attempts"),
                if secs > 0.0 {
                    format!("{secs:.2}s")
                } else {
                    String::new()
                },
                if j["favourite"].as_bool() == Some(true) {
                    "★".into()
                } else {
                    String::new()
                },
                s(j, "error"),
            ]
        })
        .collect();
    print_table(
        &[
            "JOB", "CLIENT", "FILE", "STATUS", "ATTEMPTS", "TIME", "FAV", "ERROR",
        ],
        &rows,
    );
    Ok(())
}

/// Options of `rawflow fetch`.
#[derive(clap::Args, Debug)]
#[command(after_help = super::EXIT_HELP)]
pub struct FetchArgs {
    /// Jobs to fetch [default: every completed job the token may see].
    pub jobs: Vec<String>,
    /// Folder to write into (created if missing).
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// Only these renditions (e.g. `--rendition web`); repeatable [default: all].
    #[arg(long)]
    pub rendition: Vec<String>,
    #[command(flatten)]
    pub conn: Conn,
}

/// A safe local file name: `<stem>-<rendition>.<ext>` of ASCII letters,
/// digits and `._-+()`.
fn local_name(job: &Value, output: &Value) -> String {
    let filename = s(job, "filename");
    let stem = filename
        .rsplit_once('.')
        .map_or(filename.as_str(), |(a, _)| a);
    let ct = s(output, "content_type");
    let ext = match ct.as_str() {
        "image/jpeg" => "jpg",
        "image/tiff" => "tif",
        "image/png" => "png",
        _ => "bin",
    };
    let name = format!("{stem}-{}.{ext}", s(output, "name"));
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-+()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim_start_matches('.').replace("..", "_");
    if clean.is_empty() {
        "photo.bin".into()
    } else {
        clean
    }
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
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

/// A writer that hashes what goes through.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

enum Fetched {
    Downloaded(u64),
    Present,
}

fn fetch_one(api: &Api, job: &Value, output: &Value, target: &Path) -> Result<Fetched, String> {
    let want_sha = s(output, "sha256");
    let want_bytes = output["bytes"].as_u64().unwrap_or(0);
    if let Ok(meta) = std::fs::metadata(target) {
        if meta.len() == want_bytes && sha256_of(target).ok().as_deref() == Some(want_sha.as_str())
        {
            return Ok(Fetched::Present);
        }
    }
    let link = api
        .get(
            "download link",
            &format!(
                "/v1/jobs/{}/download?rendition={}",
                s(job, "job_id"),
                s(output, "name")
            ),
        )
        .map_err(|e| e.to_string())?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.part", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut w = Hashing {
            inner: BufWriter::new(file),
            hash: Sha256::new(),
        };
        let n = api
            .download("download", &s(&link, "url"), &mut w)
            .map_err(|e| e.to_string())?;
        w.flush().map_err(|e| e.to_string())?;
        let got = rawflow_jobs::ids::hex(&w.hash.finalize());
        let file = w.inner.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        if !want_sha.is_empty() && got != want_sha {
            return Err(format!(
                "checksum mismatch (got {got}, expected {want_sha})"
            ));
        }
        std::fs::rename(&tmp, target).map_err(|e| format!("{}: {e}", target.display()))?;
        Ok(Fetched::Downloaded(n))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Run `rawflow fetch`.
pub fn run_fetch(args: FetchArgs) -> Result<(), CliError> {
    let api = args.conn.api()?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::Io(format!("{}: {e}", args.out.display())))?;
    let jobs: Vec<Value> = if args.jobs.is_empty() {
        list(&api, None, Some("completed"), 10_000)?
    } else {
        args.jobs
            .iter()
            .map(|id| {
                if !id.bytes().all(|b| b.is_ascii_alphanumeric()) || id.is_empty() {
                    return Err(CliError::Usage(format!("{id:?} is not a job id")));
                }
                Ok(api.get("job", &format!("/v1/jobs/{id}"))?)
            })
            .collect::<Result<_, _>>()?
    };
    let mut used: HashSet<String> = HashSet::new();
    let (mut downloaded, mut present, mut failed, mut bytes) = (0usize, 0usize, 0usize, 0u64);
    let mut results = Vec::new();
    for job in &jobs {
        if s(job, "status") != "completed" {
            eprintln!(
                "{}: {} is {}, skipped",
                s(job, "job_id"),
                s(job, "filename"),
                s(job, "status")
            );
            continue;
        }
        for output in job["outputs"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let rendition = s(output, "name");
            if !args.rendition.is_empty() && !args.rendition.contains(&rendition) {
                continue;
            }
            let mut name = local_name(job, output);
            if !used.insert(name.to_ascii_lowercase()) {
                let id = s(job, "job_id");
                let short = id.get(..8).unwrap_or(&id);
                name = match name.rsplit_once('.') {
                    Some((a, b)) => format!("{a}-{short}.{b}"),
                    None => format!("{name}-{short}"),
                };
                used.insert(name.to_ascii_lowercase());
            }
            let target = args.out.join(&name);
            match fetch_one(&api, job, output, &target) {
                Ok(Fetched::Downloaded(n)) => {
                    downloaded += 1;
                    bytes += n;
                    results.push(json!({ "job_id": job["job_id"], "rendition": rendition, "file": target, "status": "downloaded", "bytes": n }));
                }
                Ok(Fetched::Present) => {
                    present += 1;
                    results.push(json!({ "job_id": job["job_id"], "rendition": rendition, "file": target, "status": "present" }));
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("{}: {e}", target.display());
                    results.push(json!({ "job_id": job["job_id"], "rendition": rendition, "file": target, "status": "failed", "error": e }));
                }
            }
        }
    }
    if args.conn.json {
        print_json(
            &json!({ "downloaded": downloaded, "present": present, "failed": failed, "bytes": bytes, "files": results }),
        );
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| vec![s(r, "status"), s(r, "rendition"), s(r, "file")])
            .collect();
        print_table(&["STATUS", "RENDITION", "FILE"], &rows);
        eprintln!(
            "{downloaded} downloaded ({}), {present} already present, {failed} failed",
            mb(bytes)
        );
    }
    if failed > 0 {
        return Err(CliError::Failed(format!("{failed} download(s) failed")));
    }
    Ok(())
}
