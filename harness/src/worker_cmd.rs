//! `rawflow worker`: a standalone worker process — on AWS, the EC2 instance
//! that develops uploads and stops itself when idle.
//!
//! It runs the same [`Worker`] (claim → fetch → develop → store → complete)
//! and the same [`EngineProcessor`] as `rawflow serve`, over S3 + DynamoDB
//! (`--backend aws`) or over a `rawflow serve` data folder (`--backend local`).
//!
//! Life cycle:
//! 1. records itself `active` in the job store, then claims and runs jobs;
//! 2. when no job came for `--idle-timeout`, records itself `draining`, waits
//!    `--drain-grace` (index propagation, and the orchestrator's view), and
//!    looks for jobs one last time: if one is there it records itself
//!    `active` again and works; otherwise it records itself `stopped`, logs
//!    its uptime and estimated cost, and runs `--shutdown-command` (default
//!    `shutdown -h now`; the instance's shutdown behaviour is *stop*, so no
//!    EC2 API is needed);
//! 3. on SIGTERM or SIGINT (an instance stop, a spot interruption) it hands
//!    the running job back (`pending`, the attempt not counted) and exits.
//!
//! `--once` works until no job can be claimed and exits; `--max-jobs N`
//! exits after N jobs. Neither runs the shutdown command.
//!
//! Deployment (EC2): instance-initiated shutdown behaviour *stop*; the
//! scratch folder on the EBS volume; credentials from the instance role,
//! which needs `s3:GetObject` on the RAW bucket, `s3:PutObject` and
//! `s3:AbortMultipartUpload` on the processed bucket (plus
//! `kms:GenerateDataKey` / `kms:Decrypt` with `--kms-key-id`), and
//! `dynamodb:GetItem`, `PutItem`, `UpdateItem`, `Query` and
//! `TransactWriteItems` on the table and its indexes
//! (`rawflow_jobs::aws::create_table` makes the table). Run it as a service
//! (systemd `Restart=on-failure`) with `RAWFLOW_*` variables for the flags.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rawflow_jobs::ids::now_millis;
use rawflow_jobs::worker::JobOutcome;
use rawflow_jobs::{
    JobStore, LocalObjectStore, ObjectStore, Processor, SqliteJobStore, Worker, WorkerConfig,
    WorkerRecord, WorkerState,
};
use tokio::sync::{watch, Notify};
use tracing::{info, warn};

use crate::worker_runtime::{DelayedProcessor, EngineProcessor};

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

/// Where jobs and objects live.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// S3 buckets and a DynamoDB table.
    Aws,
    /// A `rawflow serve` data folder (SQLite + local files).
    Local,
}

/// Options of `rawflow worker`.
#[derive(clap::Args, Debug, Clone)]
pub struct WorkerArgs {
    /// Where jobs and objects live.
    #[arg(long, value_enum, env = "RAWFLOW_BACKEND", default_value = "aws")]
    pub backend: Backend,
    /// `--backend local`: the `rawflow serve` data folder.
    #[arg(long, env = "RAWFLOW_DATA")]
    pub data: Option<PathBuf>,
    /// `--backend aws`: the bucket of uploaded RAW files (`raw/…` keys).
    #[arg(long, env = "RAWFLOW_RAW_BUCKET")]
    pub raw_bucket: Option<String>,
    /// `--backend aws`: the bucket of developed outputs (`processed/…` keys).
    #[arg(long, env = "RAWFLOW_PROCESSED_BUCKET")]
    pub processed_bucket: Option<String>,
    /// `--backend aws`: the DynamoDB table.
    #[arg(long, env = "RAWFLOW_TABLE")]
    pub table: Option<String>,
    /// `--backend aws`: encrypt outputs with this KMS key (default: SSE-S3, AES256).
    #[arg(long, env = "RAWFLOW_KMS_KEY_ID")]
    pub kms_key_id: Option<String>,
    /// Scratch folder for RAW copies (put it on the instance's EBS volume)
    /// [default: /var/tmp/rawflow-scratch, or DATA/scratch with --backend local].
    #[arg(long, env = "RAWFLOW_SCRATCH")]
    pub scratch: Option<PathBuf>,
    /// Stop after this long without work.
    #[arg(long, env = "RAWFLOW_IDLE_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Between recording `draining` and the last look for jobs.
    #[arg(long, env = "RAWFLOW_DRAIN_GRACE", default_value = "2s", value_parser = parse_duration)]
    pub drain_grace: Duration,
    /// Exit after this many jobs.
    #[arg(long, env = "RAWFLOW_MAX_JOBS")]
    pub max_jobs: Option<u64>,
    /// Work until no job can be claimed, then exit (no idle wait, no shutdown).
    #[arg(long)]
    pub once: bool,
    /// Run (with `sh -c`) when stopping for idleness.
    #[arg(
        long,
        env = "RAWFLOW_SHUTDOWN_COMMAND",
        default_value = "shutdown -h now"
    )]
    pub shutdown_command: String,
    /// A development running longer than this fails its job (permanently) and the
    /// worker goes on, so a hung file cannot keep the worker busy for ever [default: no limit].
    #[arg(long, env = "RAWFLOW_JOB_TIME_LIMIT", value_parser = parse_duration)]
    pub job_time_limit: Option<Duration>,
    /// Job lease in seconds (renewed every third of it while a job runs).
    #[arg(long, env = "RAWFLOW_LEASE_SECONDS", default_value_t = 60)]
    pub lease_seconds: u64,
    /// How often to look for jobs when idle, in milliseconds.
    #[arg(long, env = "RAWFLOW_POLL_MS", default_value_t = 2000)]
    pub poll_ms: u64,
    /// The instance's price per hour in USD, for the cost estimate logged at exit.
    #[arg(long, env = "RAWFLOW_PRICE_PER_HOUR")]
    pub price_per_hour: Option<f64>,
    /// The machine type recorded on every job (e.g. the EC2 instance type).
    #[arg(long, env = "RAWFLOW_INSTANCE_TYPE", default_value = "unknown")]
    pub instance_type: String,
    /// This worker's id [default: <hostname>-<pid>].
    #[arg(long, env = "RAWFLOW_WORKER_ID")]
    pub worker_id: Option<String>,
    /// Testing: wait this long before developing each job.
    #[arg(long, default_value_t = 0, hide = true)]
    pub job_delay_ms: u64,
}

/// Why the worker stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Idle past the timeout: run the shutdown command.
    Idle,
    /// SIGTERM / SIGINT.
    Signal,
    /// `--once` and nothing left.
    QueueEmpty,
    /// `--max-jobs` reached.
    MaxJobs,
}

type Stores = (Arc<dyn ObjectStore>, Arc<dyn JobStore>, PathBuf);

fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}

/// A folder name from a worker id.
fn folder_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn open_stores(args: &WorkerArgs) -> anyhow::Result<Stores> {
    match args.backend {
        Backend::Local => {
            let Some(data) = &args.data else {
                bail!("--backend local needs --data DIR (a rawflow serve data folder)");
            };
            let objects = LocalObjectStore::open(data.join("objects"))
                .with_context(|| format!("opening {}", data.join("objects").display()))?;
            let jobs = SqliteJobStore::open(data.join("jobs.sqlite"))
                .with_context(|| format!("opening {}", data.join("jobs.sqlite").display()))?;
            let scratch = args.scratch.clone().unwrap_or_else(|| data.join("scratch"));
            Ok((Arc::new(objects), Arc::new(jobs), scratch))
        }
        Backend::Aws => open_aws(args).await,
    }
}

#[cfg(feature = "aws")]
async fn open_aws(args: &WorkerArgs) -> anyhow::Result<Stores> {
    use rawflow_jobs::aws::{
        dynamo_client, load_config, s3_client, DynamoJobStore, S3Config, S3ObjectStore,
    };
    let (Some(raw), Some(processed), Some(table)) =
        (&args.raw_bucket, &args.processed_bucket, &args.table)
    else {
        bail!("--backend aws needs --raw-bucket, --processed-bucket and --table (or RAWFLOW_RAW_BUCKET, RAWFLOW_PROCESSED_BUCKET, RAWFLOW_TABLE)");
    };
    let sdk = load_config().await;
    let objects = S3ObjectStore::new(
        s3_client(&sdk),
        S3Config::new(raw, processed).with_kms_key(args.kms_key_id.clone()),
    );
    let jobs = DynamoJobStore::new(dynamo_client(&sdk), table);
    let scratch = args
        .scratch
        .clone()
        .unwrap_or_else(|| PathBuf::from("/var/tmp/rawflow-scratch"));
    Ok((Arc::new(objects), Arc::new(jobs), scratch))
}

#[cfg(not(feature = "aws"))]
async fn open_aws(_args: &WorkerArgs) -> anyhow::Result<Stores> {
    bail!(
        "this rawflow was built without the `aws` feature: use --backend local, or build the \
         AWS worker with `cargo build --release -p rawflow-harness --features aws`"
    )
}

/// Remove leftovers of a previous run (only this worker's folder).
fn prepare_scratch(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Everything the loop needs.
struct Ctx {
    worker: Worker<dyn ObjectStore, dyn JobStore, dyn Processor>,
    jobs: Arc<dyn JobStore>,
    record: WorkerRecord,
}

impl Ctx {
    async fn set_state(&mut self, state: WorkerState) {
        self.record.state = state;
        self.record.updated_at = now_millis();
        if let Err(e) = self.jobs.put_worker(&self.record).await {
            warn!(error = %e, state = state.as_str(), "could not record the worker's state");
        }
    }
}

/// Sleep for `d` unless `stop` turns true first; `true` if stopped.
async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    let stopped = tokio::select! {
        _ = tokio::time::sleep(d) => false,
        r = stop.wait_for(|s| *s) => r.is_ok(),
    };
    stopped || *stop.borrow()
}

async fn work(ctx: &mut Ctx, args: &WorkerArgs, stop: &mut watch::Receiver<bool>) -> Exit {
    let poll = Duration::from_millis(args.poll_ms.max(10));
    let mut idle_since = Instant::now();
    ctx.set_state(WorkerState::Active).await;
    loop {
        if *stop.borrow() {
            return Exit::Signal;
        }
        if args.max_jobs.is_some_and(|m| ctx.record.jobs_done >= m) {
            return Exit::MaxJobs;
        }
        match ctx.worker.run_once_interruptible(stop).await {
            Ok(Some(JobOutcome::Released(_))) => return Exit::Signal,
            Ok(Some(_)) => {
                ctx.record.jobs_done += 1;
                ctx.set_state(WorkerState::Active).await;
                idle_since = Instant::now();
                continue;
            }
            Ok(None) => {
                if args.once {
                    return Exit::QueueEmpty;
                }
            }
            Err(e) => warn!(error = %e, "job store error"),
        }
        if idle_since.elapsed() >= args.idle_timeout {
            info!(idle = ?idle_since.elapsed(), "idle: draining");
            ctx.set_state(WorkerState::Draining).await;
            if sleep_or_stop(args.drain_grace, stop).await {
                return Exit::Signal;
            }
            match ctx.jobs.has_runnable_jobs().await {
                Ok(false) => return Exit::Idle,
                Ok(true) => {
                    info!("a job arrived while draining: back to work");
                    ctx.set_state(WorkerState::Active).await;
                    idle_since = Instant::now();
                    continue;
                }
                Err(e) => {
                    // Not knowing is no reason to strand a job: stay up, try again.
                    warn!(error = %e, "could not look for jobs while draining");
                    ctx.set_state(WorkerState::Active).await;
                }
            }
        }
        let left = args.idle_timeout.saturating_sub(idle_since.elapsed());
        if sleep_or_stop(poll.min(left.max(Duration::from_millis(10))), stop).await {
            return Exit::Signal;
        }
    }
}

/// Ask `stop` to turn true on SIGTERM or SIGINT.
fn watch_signals(stop: watch::Sender<bool>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        info!("stop signal received");
        let _ = stop.send(true);
    });
}

/// The uptime and cost line logged at exit.
fn cost_summary(uptime: Duration, price_per_hour: Option<f64>) -> String {
    let hours = uptime.as_secs_f64() / 3600.0;
    match price_per_hour {
        Some(p) => format!(
            "uptime {:.1} s, estimated cost ${:.6} at ${p}/h",
            uptime.as_secs_f64(),
            hours * p
        ),
        None => format!(
            "uptime {:.1} s (no --price-per-hour: cost not estimated)",
            uptime.as_secs_f64()
        ),
    }
}

/// `rawflow worker`.
pub fn run(args: WorkerArgs) -> anyhow::Result<()> {
    crate::serve::init_tracing();
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let exit = rt.block_on(async {
        let (stop_tx, mut stop) = watch::channel(false);
        watch_signals(stop_tx);
        let (objects, jobs, scratch_root) = open_stores(&args).await?;
        let worker_id = args.worker_id.clone().unwrap_or_else(default_worker_id);
        let scratch = scratch_root.join(folder_name(&worker_id));
        prepare_scratch(&scratch)?;
        let processor: Arc<dyn Processor> = if args.job_delay_ms > 0 {
            Arc::new(DelayedProcessor {
                inner: EngineProcessor,
                delay: Duration::from_millis(args.job_delay_ms),
            })
        } else {
            Arc::new(EngineProcessor)
        };
        let worker = Worker::new(
            objects,
            Arc::clone(&jobs),
            processor,
            WorkerConfig {
                worker_id: worker_id.clone(),
                lease_ttl: Duration::from_secs(args.lease_seconds.max(1)),
                poll_interval: Duration::from_millis(args.poll_ms.max(10)),
                scratch_dir: scratch.clone(),
            },
            Arc::new(Notify::new()),
        )
        .with_instance_type(args.instance_type.clone());
        let worker = match args.job_time_limit {
            Some(limit) => worker.with_job_time_limit(limit),
            None => worker,
        };
        let now = now_millis();
        let mut ctx = Ctx {
            worker,
            jobs,
            record: WorkerRecord {
                id: worker_id.clone(),
                instance_type: args.instance_type.clone(),
                state: WorkerState::Active,
                started_at: now,
                updated_at: now,
                jobs_done: 0,
            },
        };
        info!(worker = %worker_id, instance_type = %args.instance_type, backend = ?args.backend, "rawflow worker started");
        let exit = work(&mut ctx, &args, &mut stop).await;
        ctx.set_state(WorkerState::Stopped).await;
        let _ = std::fs::remove_dir(&scratch);
        let summary = format!(
            "rawflow worker {worker_id}: stopping ({exit:?}) after {} job(s); {}",
            ctx.record.jobs_done,
            cost_summary(started.elapsed(), args.price_per_hour)
        );
        info!("{summary}");
        println!("{summary}");
        Ok::<_, anyhow::Error>(exit)
    })?;
    // Let no task (a develop still running after a signal) hold the exit up.
    rt.shutdown_timeout(Duration::from_millis(100));
    if exit == Exit::Idle {
        info!(command = %args.shutdown_command, "idle: running the shutdown command");
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&args.shutdown_command)
            .status()
            .with_context(|| format!("running {:?}", args.shutdown_command))?;
        if !status.success() {
            bail!(
                "the shutdown command {:?} failed: {status}",
                args.shutdown_command
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_uptime_times_price() {
        let s = cost_summary(Duration::from_secs(1800), Some(0.2));
        assert!(s.contains("$0.100000"), "{s}");
        assert!(cost_summary(Duration::from_secs(1), None).contains("not estimated"));
        assert_eq!(folder_name("ip-10-0-0-1/12:3"), "ip-10-0-0-1_12_3");
    }
}
