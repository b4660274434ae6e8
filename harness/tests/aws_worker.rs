//! `rawflow worker` end to end against the AWS emulator: the real binary
//! over S3 + DynamoDB (moto, the real SDK over HTTP), jobs recorded through
//! the S3 object-created event path the Lambdas use. NEEDS THE ENGINE and
//! python3 (see `scripts/moto`); `RAWFLOW_SKIP_AWS_TESTS=1` skips.

#![cfg(feature = "aws")]

#[path = "../../jobs/tests/support/moto.rs"]
mod moto;
#[path = "../src/sample_dng.rs"]
mod sample_dng_impl;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use moto::Moto;
use rawflow_jobs::auth::issue_token;
use rawflow_jobs::aws::aws_sdk_s3::primitives::ByteStream;
use rawflow_jobs::aws::aws_sdk_s3::types::ServerSideEncryption;
use rawflow_jobs::aws::{create_table, dynamo_client, s3_client, DynamoJobStore};
use rawflow_jobs::ids::{new_client_id, now_millis};
use rawflow_jobs::uploads::{create_upload, on_object_created, EventOutcome, ObjectCreated};
use rawflow_jobs::{Client, Job, JobStatus, JobStore, LinkSigner, WorkerState};
use sample_dng_impl::sample_dng;

const RAW: &str = "studio-raw";
const PROCESSED: &str = "studio-processed";
const TABLE: &str = "rawflow";

/// An emulator with the buckets and the table, and a studio client.
struct Aws {
    moto: Moto,
    rt: tokio::runtime::Runtime,
    s3: rawflow_jobs::aws::aws_sdk_s3::Client,
    jobs: DynamoJobStore,
    client: String,
    scratch: tempfile::TempDir,
}

impl Aws {
    fn start() -> Option<Self> {
        let moto = Moto::start()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (s3, jobs, client) = rt.block_on(async {
            let sdk = moto.sdk_config().await;
            let s3 = s3_client(&sdk);
            for b in [RAW, PROCESSED] {
                s3.create_bucket().bucket(b).send().await.unwrap();
            }
            let ddb = dynamo_client(&sdk);
            create_table(&ddb, TABLE).await.unwrap();
            let jobs = DynamoJobStore::new(ddb, TABLE);
            let client = new_client_id();
            jobs.create_client(&Client {
                id: client.clone(),
                name: "Studio".into(),
                token_hash: issue_token(&client).hash,
                created_at: now_millis(),
            })
            .await
            .unwrap();
            (s3, jobs, client)
        });
        Some(Self {
            moto,
            rt,
            s3,
            jobs,
            client,
            scratch: tempfile::tempdir().unwrap(),
        })
    }

    /// Announce an upload, PUT the RAW into the bucket as a client would
    /// (with a presigned link), and deliver S3's object-created event twice.
    fn upload(&self, seed: u32) -> String {
        self.rt.block_on(async {
            let signer = LinkSigner::new([3; 32]);
            let ticket = create_upload(
                &self.jobs,
                &signer,
                &self.client,
                &format!("IMG_{seed:04}.DNG"),
                "web",
                Duration::from_secs(600),
            )
            .await
            .unwrap();
            let bytes = sample_dng(32, 32, seed);
            let size = bytes.len() as u64;
            let put = self
                .s3
                .put_object()
                .bucket(RAW)
                .key(ticket.key.as_str())
                .server_side_encryption(ServerSideEncryption::Aes256)
                .body(ByteStream::from(bytes))
                .send()
                .await
                .unwrap();
            let event = ObjectCreated {
                key: ticket.key.to_string(),
                size,
                sha256: put.e_tag().unwrap().trim_matches('"').to_string(),
            };
            let id = match on_object_created(&self.jobs, &event, 3).await.unwrap() {
                EventOutcome::Created(j) => j.id,
                other => panic!("{other:?}"),
            };
            assert!(matches!(
                on_object_created(&self.jobs, &event, 3).await.unwrap(),
                EventOutcome::Duplicate(_)
            ));
            id
        })
    }

    fn job(&self, id: &str) -> Job {
        self.rt
            .block_on(self.jobs.get_job(id))
            .unwrap()
            .unwrap_or_else(|| panic!("no job {id}"))
    }

    fn trail(&self, id: &str) -> Vec<(Option<JobStatus>, JobStatus, u32, Option<String>)> {
        self.rt
            .block_on(self.jobs.transitions(id))
            .unwrap()
            .into_iter()
            .map(|t| (t.from, t.to, t.attempt, t.detail))
            .collect()
    }

    fn processed_keys(&self) -> Vec<String> {
        self.rt.block_on(async {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(PROCESSED)
                .send()
                .await
                .unwrap();
            let mut keys: Vec<String> = out
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string))
                .collect();
            keys.sort();
            keys
        })
    }

    /// HEAD: the object's server-side encryption; GET: its bytes.
    fn output(&self, key: &str) -> (Option<ServerSideEncryption>, Vec<u8>) {
        self.rt.block_on(async {
            let head = self
                .s3
                .head_object()
                .bucket(PROCESSED)
                .key(key)
                .send()
                .await
                .unwrap();
            let body = self
                .s3
                .get_object()
                .bucket(PROCESSED)
                .key(key)
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes()
                .to_vec();
            (head.server_side_encryption().cloned(), body)
        })
    }

    /// `rawflow worker --backend aws …` with the emulator's environment.
    fn worker(&self, id: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rawflow"));
        cmd.args(["worker", "--backend", "aws"])
            // Only the idle tests may stop "the machine": elsewhere it fails the worker.
            .args(if extra.contains(&"--shutdown-command") {
                &[][..]
            } else {
                &["--shutdown-command", "false"][..]
            })
            .args([
                "--raw-bucket",
                RAW,
                "--processed-bucket",
                PROCESSED,
                "--table",
                TABLE,
            ])
            .arg("--scratch")
            .arg(self.scratch.path())
            .args(["--worker-id", id, "--instance-type", "c7i.test"])
            .args(["--price-per-hour", "0.36", "--poll-ms", "100"])
            .args(extra)
            .envs(self.moto.env())
            .env_remove("AWS_PROFILE")
            .env("RAWFLOW_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// Wait for a child (killing it after `limit`), with its output.
fn finish(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let deadline = Instant::now() + limit;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("rawflow worker did not exit within {limit:?}");
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Poll `f` every 20 ms until it is true (panicking after `limit`).
fn wait_until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn jobs_done(out: &Output) -> u64 {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains(": stopping ("))
        .unwrap_or_else(|| panic!("no summary line:\n{}", text(out)));
    line.split(" after ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad summary line {line:?}"))
}

#[test]
fn two_workers_racing_over_50_jobs_develop_each_exactly_once() {
    let Some(aws) = Aws::start() else { return };
    let ids: Vec<String> = (0..50).map(|i| aws.upload(i)).collect();
    let a = aws.worker("w-a", &["--once"]).spawn().unwrap();
    let b = aws.worker("w-b", &["--once"]).spawn().unwrap();
    let (a, b) = (
        finish(a, Duration::from_secs(120)),
        finish(b, Duration::from_secs(120)),
    );
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    assert_eq!(
        jobs_done(&a) + jobs_done(&b),
        50,
        "{}\n{}",
        text(&a),
        text(&b)
    );
    let summary = String::from_utf8_lossy(&a.stdout);
    assert!(summary.contains("estimated cost $"), "{summary}");

    let mut expected_keys = Vec::new();
    for id in &ids {
        let job = aws.job(id);
        assert_eq!(job.status, JobStatus::Completed, "{job:?}");
        assert_eq!(job.attempts, 1, "{job:?}");
        assert!(
            matches!(job.worker_id.as_deref(), Some("w-a" | "w-b")),
            "{job:?}"
        );
        assert_eq!(job.instance_type.as_deref(), Some("c7i.test"));
        let stages: Vec<&str> = job.timings.iter().map(|(s, _)| s.as_str()).collect();
        for stage in ["fetch", "decode", "store"] {
            assert!(stages.contains(&stage), "{stages:?}");
        }
        let moves: Vec<(Option<JobStatus>, JobStatus)> =
            aws.trail(id).into_iter().map(|t| (t.0, t.1)).collect();
        assert_eq!(
            moves,
            [
                (None, JobStatus::AwaitingUpload),
                (Some(JobStatus::AwaitingUpload), JobStatus::Pending),
                (Some(JobStatus::Pending), JobStatus::Running),
                (Some(JobStatus::Running), JobStatus::Completed),
            ]
        );
        assert_eq!(job.outputs.len(), 1);
        let out = &job.outputs[0];
        assert_eq!(out.key, format!("processed/{}/{id}/web.jpg", aws.client));
        expected_keys.push(out.key.clone());
    }
    expected_keys.sort();
    assert_eq!(aws.processed_keys(), expected_keys);
    // Every output encrypted at rest, and the recorded hash is of its bytes.
    for id in ids.iter().take(5) {
        let job = aws.job(id);
        let (sse, bytes) = aws.output(&job.outputs[0].key);
        assert_eq!(sse, Some(ServerSideEncryption::Aes256));
        assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
        assert_eq!(
            rawflow_jobs::object_store::sha256_hex(&bytes),
            job.outputs[0].sha256
        );
    }
}

#[test]
fn a_worker_killed_mid_job_leaves_it_claimable_after_the_lease_and_it_completes_once() {
    let Some(aws) = Aws::start() else { return };
    let id = aws.upload(7);
    let mut first = aws
        .worker(
            "w-dies",
            &[
                "--lease-seconds",
                "3",
                "--job-delay-ms",
                "20000",
                "--max-jobs",
                "1",
            ],
        )
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(30), "the job to run", || {
        aws.job(&id).status == JobStatus::Running
    });
    first.kill().unwrap(); // SIGKILL
    let _ = first.wait();
    let held = aws.job(&id);
    assert_eq!((held.status, held.attempts), (JobStatus::Running, 1));
    assert!(aws.processed_keys().is_empty());
    let expires = held.lease_expires_at.unwrap();

    // While the dead worker's lease lasts, nobody can take the job.
    let early = finish(
        aws.worker("w-early", &["--once"]).spawn().unwrap(),
        Duration::from_secs(30),
    );
    assert!(early.status.success(), "{}", text(&early));
    let mut finisher = "w-early";
    if jobs_done(&early) == 0 {
        assert_eq!(aws.job(&id).status, JobStatus::Running);
        // After it, the next worker completes it, once.
        let left = expires - now_millis();
        if left > 0 {
            std::thread::sleep(Duration::from_millis(left as u64 + 50));
        }
        let second = finish(
            aws.worker("w-next", &["--once"]).spawn().unwrap(),
            Duration::from_secs(60),
        );
        assert!(second.status.success(), "{}", text(&second));
        assert_eq!(jobs_done(&second), 1, "{}", text(&second));
        finisher = "w-next";
    } else {
        // A slow machine: the first look came after the lease expired.
        let started = aws.job(&id).updated_at;
        assert!(started >= expires, "claimed before the lease expired");
    }
    let job = aws.job(&id);
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Completed, 2),
        "{job:?}"
    );
    assert_eq!(job.worker_id.as_deref(), Some(finisher));
    let moves: Vec<(Option<JobStatus>, JobStatus, u32)> = aws
        .trail(&id)
        .into_iter()
        .map(|t| (t.0, t.1, t.2))
        .collect();
    assert_eq!(
        moves,
        [
            (None, JobStatus::AwaitingUpload, 0),
            (Some(JobStatus::AwaitingUpload), JobStatus::Pending, 0),
            (Some(JobStatus::Pending), JobStatus::Running, 1),
            (Some(JobStatus::Running), JobStatus::Running, 2),
            (Some(JobStatus::Running), JobStatus::Completed, 2),
        ]
    );
    assert_eq!(
        aws.processed_keys(),
        [format!("processed/{}/{id}/web.jpg", aws.client)]
    );
}

#[test]
fn an_idle_worker_drains_and_runs_the_shutdown_command() {
    let Some(aws) = Aws::start() else { return };
    let flag = aws.scratch.path().join("shutdown-ran");
    let cmd = format!("touch '{}'", flag.display());
    let out = finish(
        aws.worker(
            "w-idle",
            &[
                "--idle-timeout",
                "1s",
                "--drain-grace",
                "100ms",
                "--shutdown-command",
                &cmd,
            ],
        )
        .spawn()
        .unwrap(),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(flag.exists(), "the shutdown command ran\n{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("stopping (Idle) after 0 job(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("estimated cost $"), "{stdout}");
    let workers = aws.rt.block_on(aws.jobs.list_workers()).unwrap();
    assert_eq!(workers.len(), 1);
    assert_eq!(workers[0].state, WorkerState::Stopped);
    assert_eq!(workers[0].instance_type, "c7i.test");
}

#[test]
fn a_job_arriving_while_the_worker_drains_is_developed_not_stranded() {
    let Some(aws) = Aws::start() else { return };
    let flag = aws.scratch.path().join("shutdown-ran");
    let cmd = format!("touch '{}'", flag.display());
    // A long grace makes the race deterministic: the job is recorded after
    // the worker said `draining` and before its last look.
    let child = aws
        .worker(
            "w-drain",
            &[
                "--idle-timeout",
                "1s",
                "--drain-grace",
                "3s",
                "--max-jobs",
                "1",
                "--shutdown-command",
                &cmd,
            ],
        )
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(20), "the worker to drain", || {
        aws.rt
            .block_on(aws.jobs.list_workers())
            .unwrap()
            .iter()
            .any(|w| w.state == WorkerState::Draining)
    });
    let id = aws.upload(11);
    let out = finish(child, Duration::from_secs(60));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !flag.exists(),
        "no shutdown with a job waiting\n{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a job arrived while draining"),
        "{}",
        text(&out)
    );
    let job = aws.job(&id);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(job.worker_id.as_deref(), Some("w-drain"));
}

#[test]
fn sigterm_hands_the_running_job_back() {
    let Some(aws) = Aws::start() else { return };
    let id = aws.upload(21);
    let child = aws
        .worker(
            "w-term",
            &["--lease-seconds", "60", "--job-delay-ms", "30000"],
        )
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(30), "the job to run", || {
        aws.job(&id).status == JobStatus::Running
    });
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = finish(child, Duration::from_secs(20));
    assert!(out.status.success(), "{}", text(&out));
    assert!(sent.elapsed() < Duration::from_secs(10), "exits promptly");
    let job = aws.job(&id);
    assert_eq!(
        (job.status, job.attempts, job.lease_owner.clone()),
        (JobStatus::Pending, 0, None),
        "{job:?}"
    );
    let last = aws.trail(&id).pop().unwrap();
    assert_eq!(
        (last.0, last.1),
        (Some(JobStatus::Running), JobStatus::Pending)
    );
    assert!(last.3.unwrap_or_default().contains("released"));
    assert!(aws.processed_keys().is_empty());
    let workers = aws.rt.block_on(aws.jobs.list_workers()).unwrap();
    assert_eq!(workers[0].state, WorkerState::Stopped);

    // Another worker takes it at once (no 60 s lease to wait out): attempt 1.
    let next = finish(
        aws.worker("w-after", &["--once"]).spawn().unwrap(),
        Duration::from_secs(60),
    );
    assert!(next.status.success(), "{}", text(&next));
    let job = aws.job(&id);
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Completed, 1),
        "{job:?}"
    );
}

#[test]
fn the_worker_runs_on_a_serve_data_folder_too() {
    // No emulator: --backend local, SQLite + files, the same worker code.
    use rawflow_jobs::{LocalObjectStore, ObjectStore, PutMode, SqliteJobStore};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = rt.block_on(async {
        let objects = LocalObjectStore::open(data.join("objects")).unwrap();
        let jobs = SqliteJobStore::open(data.join("jobs.sqlite")).unwrap();
        let client = new_client_id();
        jobs.create_client(&Client {
            id: client.clone(),
            name: "S".into(),
            token_hash: issue_token(&client).hash,
            created_at: now_millis(),
        })
        .await
        .unwrap();
        let t = create_upload(
            &jobs,
            &LinkSigner::new([1; 32]),
            &client,
            "A.DNG",
            "web",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        let meta = objects
            .put_bytes(&t.key, &sample_dng(32, 32, 1), PutMode::CreateNew)
            .await
            .unwrap();
        let ev = ObjectCreated {
            key: t.key.to_string(),
            size: meta.size,
            sha256: meta.sha256.unwrap(),
        };
        on_object_created(&jobs, &ev, 3).await.unwrap();
        t.job_id
    });
    let out = finish(
        Command::new(env!("CARGO_BIN_EXE_rawflow"))
            .args([
                "worker",
                "--backend",
                "local",
                "--once",
                "--instance-type",
                "laptop",
            ])
            .arg("--data")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", text(&out));
    let job = rt.block_on(async {
        SqliteJobStore::open(data.join("jobs.sqlite"))
            .unwrap()
            .get_job(&id)
            .await
            .unwrap()
            .unwrap()
    });
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(job.instance_type.as_deref(), Some("laptop"));
    assert!(Path::new(&data.join("objects").join(&job.outputs[0].key)).is_file());
}
