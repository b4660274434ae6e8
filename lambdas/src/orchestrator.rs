//! The orchestrator: S3 `ObjectCreated` events → `pending` jobs → running
//! workers.
//!
//! For each record of the event, the RAW upload's job is recorded with the
//! worker's own job code ([`on_object_created`]); S3 delivers events at
//! least once, and a repeated event finds the job already recorded. Then
//! enough workers are made to run for the pending backlog:
//! `ceil(pending / jobs_per_worker)`, at most `max_workers` (see
//! [`FleetConfig::workers_for`]). Of the configured instances, running and
//! pending ones count; stopped ones are started; if more are wanted and one
//! is *stopping* (a worker that found no work and is shutting down), the
//! invocation fails with [`OrchestratorError::WorkerStopping`].
//!
//! Why no job is stranded: the job is recorded before any EC2 call, so it
//! is in the table whatever happens next. A failed invocation is retried by
//! Lambda's asynchronous invocation (twice, with back-off): the retry finds
//! the job already recorded (duplicate, no new job) and looks at the fleet
//! again — by then the stopping instance is stopped and is started. A worker
//! that is still running keeps claiming until no job is runnable, so it
//! takes the new job itself.

use std::sync::Arc;

use aws_lambda_events::s3::{S3Event, S3EventRecord};
use lambda_runtime::LambdaEvent;
use rawflow_jobs::aws::s3_event_key;
use rawflow_jobs::uploads::{on_object_created, EventOutcome, ObjectCreated};
use rawflow_jobs::{JobFilter, JobStatus, JobStore, JobStoreError};
use serde::Serialize;
use tracing::{info, warn};

use crate::config::FleetConfig;
use crate::fleet::{FleetError, InstanceState, WorkerFleet};

/// What the orchestrator needs (built once per Lambda instance).
#[derive(Clone)]
pub struct OrchestratorDeps {
    /// The job table.
    pub jobs: Arc<dyn JobStore>,
    /// The worker instances.
    pub fleet: Arc<dyn WorkerFleet>,
    /// Fleet sizing and job settings.
    pub config: FleetConfig,
    /// Only events from this bucket make jobs.
    pub raw_bucket: String,
}

/// What one invocation did (the function's result, also logged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrchestratorReport {
    /// Jobs recorded `pending` by this event.
    pub created: Vec<String>,
    /// Jobs the event had already recorded (a repeated delivery).
    pub duplicates: Vec<String>,
    /// Records that make no job, with the reason.
    pub ignored: Vec<String>,
    /// Pending jobs seen (counted up to what the largest fleet takes).
    pub pending: u64,
    /// Workers wanted for that backlog.
    pub wanted: u32,
    /// Instances already running or booting.
    pub active: Vec<String>,
    /// Instances this invocation started.
    pub started: Vec<String>,
}

/// Why an invocation failed (Lambda then retries it).
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// The job store failed.
    #[error(transparent)]
    Store(#[from] JobStoreError),
    /// EC2 failed.
    #[error(transparent)]
    Fleet(#[from] FleetError),
    /// A worker is wanted but the instance is stopping; retry later.
    #[error("worker instance(s) {0:?} stopping; retry once stopped")]
    WorkerStopping(Vec<String>),
}

impl From<OrchestratorError> for lambda_runtime::Diagnostic {
    fn from(e: OrchestratorError) -> Self {
        let error_type = match &e {
            OrchestratorError::Store(_) => "JobStoreError",
            OrchestratorError::Fleet(_) => "Ec2Error",
            OrchestratorError::WorkerStopping(_) => "WorkerStopping",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_string(),
            error_message: e.to_string(),
        }
    }
}

/// The `ObjectCreated` part of a record, or why it is ignored.
fn object_created(record: &S3EventRecord, raw_bucket: &str) -> Result<ObjectCreated, String> {
    let name = record.event_name.as_deref().unwrap_or_default();
    if !name.starts_with("ObjectCreated:") {
        return Err(format!("event {name:?} is not an object creation"));
    }
    if let Some(bucket) = record.s3.bucket.name.as_deref() {
        if bucket != raw_bucket {
            return Err(format!("bucket {bucket} is not the RAW bucket"));
        }
    }
    let encoded = record.s3.object.key.as_deref().unwrap_or_default();
    let key = s3_event_key(encoded).ok_or_else(|| format!("undecodable key {encoded:?}"))?;
    let size = record
        .s3
        .object
        .size
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(0);
    let etag = record
        .s3
        .object
        .e_tag
        .as_deref()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    Ok(ObjectCreated {
        key,
        size,
        sha256: etag,
    })
}

/// Handle an S3 event: record jobs, then make sure workers run.
pub async fn handle_s3_event(
    event: LambdaEvent<S3Event>,
    deps: &OrchestratorDeps,
) -> Result<OrchestratorReport, OrchestratorError> {
    let mut report = OrchestratorReport::default();
    for record in &event.payload.records {
        let created = match object_created(record, &deps.raw_bucket) {
            Ok(c) => c,
            Err(reason) => {
                info!(%reason, "ignored record");
                report.ignored.push(reason);
                continue;
            }
        };
        match on_object_created(deps.jobs.as_ref(), &created, deps.config.max_attempts).await? {
            EventOutcome::Created(job) => {
                info!(job = %job.id, key = %created.key, "job pending");
                report.created.push(job.id);
            }
            EventOutcome::Duplicate(job) => {
                info!(job = %job.id, "repeated event");
                report.duplicates.push(job.id);
            }
            EventOutcome::Ignored(reason) => {
                info!(%reason, "ignored record");
                report.ignored.push(reason);
            }
        }
    }
    ensure_workers(deps, &mut report).await?;
    Ok(report)
}

/// Pending jobs, counted up to `cap`; an expired lease counts as one.
async fn pending_backlog(jobs: &dyn JobStore, cap: u64) -> Result<u64, JobStoreError> {
    let limit = u32::try_from(cap.max(1)).unwrap_or(u32::MAX);
    let pending = jobs
        .list_jobs(&JobFilter {
            status: Some(JobStatus::Pending),
            client_id: None,
            limit: Some(limit),
        })
        .await?
        .len();
    let pending = u64::try_from(pending).unwrap_or(u64::MAX);
    if pending == 0 && jobs.has_runnable_jobs().await? {
        return Ok(1);
    }
    Ok(pending)
}

/// Start as many stopped workers as the backlog needs.
pub async fn ensure_workers(
    deps: &OrchestratorDeps,
    report: &mut OrchestratorReport,
) -> Result<(), OrchestratorError> {
    let cfg = &deps.config;
    let cap = u64::from(cfg.jobs_per_worker) * u64::from(cfg.max_workers);
    report.pending = pending_backlog(deps.jobs.as_ref(), cap).await?;
    report.wanted = cfg.workers_for(report.pending);
    if report.wanted == 0 {
        return Ok(());
    }
    let states = deps.fleet.states(&cfg.instance_ids).await?;
    report.active = states
        .iter()
        .filter(|(_, s)| s.is_active())
        .map(|(id, _)| id.clone())
        .collect();
    let wanted = usize::try_from(report.wanted).unwrap_or(usize::MAX);
    let missing = wanted.saturating_sub(report.active.len());
    if missing == 0 {
        return Ok(());
    }
    let to_start: Vec<String> = states
        .iter()
        .filter(|(_, s)| *s == InstanceState::Stopped)
        .map(|(id, _)| id.clone())
        .take(missing)
        .collect();
    if !to_start.is_empty() {
        deps.fleet.start(&to_start).await?;
        info!(instances = ?to_start, pending = report.pending, "started workers");
        report.started = to_start;
    }
    if report.started.len() < missing {
        let stopping: Vec<String> = states
            .iter()
            .filter(|(_, s)| *s == InstanceState::Stopping)
            .map(|(id, _)| id.clone())
            .collect();
        if !stopping.is_empty() {
            warn!(instances = ?stopping, "wanted workers are stopping; failing for a retry");
            return Err(OrchestratorError::WorkerStopping(stopping));
        }
        warn!(
            wanted = report.wanted,
            active = report.active.len(),
            started = report.started.len(),
            "no more worker instances can be started"
        );
    }
    Ok(())
}
