//! The orchestrator: S3 `ObjectCreated` events → `pending` jobs → running
//! workers; and the sweep ([`handle_sweep`]) that EC2's state-change events
//! and a schedule run.
//!
//! For each record of an S3 event, the RAW upload's job is recorded with the
//! worker's own job code ([`on_object_created`]); S3 delivers events at
//! least once, and a repeated event finds the job already recorded. Then
//! [`ensure_workers`] makes enough workers run for the backlog:
//! `ceil(pending / jobs_per_worker)`, at most `max_workers` (see
//! [`FleetConfig::workers_for`]).
//!
//! The backlog is read from the `by_status` index, which DynamoDB keeps
//! *eventually* consistent: a job recorded a few milliseconds earlier may be
//! missing from it. So the jobs this very event left `pending` (created now,
//! or by an earlier delivery) are a floor under the count: the invocation
//! that records a job starts capacity for it whatever the index shows.
//!
//! Of the configured instances, `pending` ones count as active (booting), and
//! `running` ones too unless their worker has recorded itself `draining` or
//! `stopped` since the instance was started: such a worker found no work and
//! is powering off, so it counts as *stopping*, like an instance EC2 already
//! reports `stopping`. Stopped instances are started.
//!
//! Why no job is stranded: the job is recorded before any EC2 call, so it is
//! in the table whatever happens next. If the worker that should take it is
//! stopping, nothing can be started now (EC2 refuses to start a stopping
//! instance); EventBridge invokes [`handle_sweep`] when the instance reaches
//! `stopped` (state-change rule), and again every few minutes (schedule), and
//! the sweep starts it for the backlog it finds. A failed invocation (store or
//! EC2 error) is retried by Lambda's asynchronous invocation, then goes to
//! the failure destination, which raises an alarm.

use std::sync::Arc;

use aws_lambda_events::s3::{S3Event, S3EventRecord};
use lambda_runtime::LambdaEvent;
use rawflow_jobs::aws::s3_event_key;
use rawflow_jobs::ids::now_millis;
use rawflow_jobs::uploads::{on_object_created, EventOutcome, ObjectCreated};
use rawflow_jobs::{JobFilter, JobStatus, JobStore, JobStoreError, WorkerRecord, WorkerState};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::config::FleetConfig;
use crate::fleet::{FleetError, InstanceState, WorkerFleet, WorkerInstance};
use crate::metrics::{emf_line, fleet_metrics, FleetMetrics};

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
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
    /// Instances wanted but stopping (EC2 `stopping`, or their worker
    /// recorded `draining`/`stopped`): the state-change rule's sweep starts
    /// them once stopped.
    pub stopping: Vec<String>,
    /// The fleet's health (sweeps only), also logged as CloudWatch metrics.
    pub metrics: Option<FleetMetrics>,
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
    /// The event is neither an S3 event nor an EventBridge event.
    #[error("unrecognised event: {0}")]
    BadEvent(String),
}

impl From<OrchestratorError> for lambda_runtime::Diagnostic {
    fn from(e: OrchestratorError) -> Self {
        let error_type = match &e {
            OrchestratorError::Store(_) => "JobStoreError",
            OrchestratorError::Fleet(_) => "Ec2Error",
            OrchestratorError::BadEvent(_) => "BadEvent",
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
    // Jobs of this event that are pending: a floor under the backlog.
    let mut pending_here: u64 = 0;
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
                pending_here += 1;
            }
            EventOutcome::Duplicate(job) => {
                info!(job = %job.id, "repeated event");
                if job.status == JobStatus::Pending {
                    pending_here += 1;
                }
                report.duplicates.push(job.id);
            }
            EventOutcome::Ignored(reason) => {
                info!(%reason, "ignored record");
                report.ignored.push(reason);
            }
        }
    }
    ensure_workers(deps, pending_here, &mut report).await?;
    Ok(report)
}

/// An EventBridge event (the fields the orchestrator reads).
#[derive(Debug, Clone, Deserialize)]
pub struct EventBridgeEvent {
    /// `aws.ec2`, `aws.events`, …
    #[serde(default)]
    pub source: String,
    /// `EC2 Instance State-change Notification`, `Scheduled Event`, …
    #[serde(rename = "detail-type", default)]
    pub detail_type: String,
    /// The event's detail (`instance-id` and `state` for EC2).
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// What invokes the orchestrator.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// S3 `ObjectCreated` on the RAW bucket.
    S3(S3Event),
    /// EventBridge: an EC2 state change or the schedule.
    EventBridge(EventBridgeEvent),
}

impl Trigger {
    /// Tell the event kinds apart: S3 events carry `Records`, EventBridge
    /// events `detail-type`.
    pub fn from_json(v: serde_json::Value) -> Result<Self, OrchestratorError> {
        if v.get("Records").is_some() {
            return serde_json::from_value(v)
                .map(Self::S3)
                .map_err(|e| OrchestratorError::BadEvent(format!("S3 event: {e}")));
        }
        if v.get("detail-type").is_some() {
            return serde_json::from_value(v)
                .map(Self::EventBridge)
                .map_err(|e| OrchestratorError::BadEvent(format!("EventBridge event: {e}")));
        }
        Err(OrchestratorError::BadEvent(
            "neither Records nor detail-type".into(),
        ))
    }
}

/// Run the orchestrator on any of its triggers.
pub async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &OrchestratorDeps,
) -> Result<OrchestratorReport, OrchestratorError> {
    let (payload, context) = (event.payload, event.context);
    match Trigger::from_json(payload)? {
        Trigger::S3(s3) => handle_s3_event(LambdaEvent::new(s3, context), deps).await,
        Trigger::EventBridge(eb) => handle_sweep(&eb, deps).await,
    }
}

/// The sweep: EventBridge's EC2 state-change rule (a worker instance
/// `stopped`) and its schedule. Starts workers for whatever backlog the
/// table holds, exactly as after an upload (with no floor: this invocation
/// created no job). A state change of an instance that is not a worker is
/// ignored.
pub async fn handle_sweep(
    event: &EventBridgeEvent,
    deps: &OrchestratorDeps,
) -> Result<OrchestratorReport, OrchestratorError> {
    let mut report = OrchestratorReport::default();
    if let Some(id) = event.detail.get("instance-id").and_then(|v| v.as_str()) {
        if !deps.config.instance_ids.iter().any(|w| w == id) {
            report
                .ignored
                .push(format!("instance {id} is not a worker"));
            return Ok(report);
        }
    }
    info!(source = %event.source, detail_type = %event.detail_type, "sweep");
    ensure_workers(deps, 0, &mut report).await?;
    let now = now_millis();
    match fleet_metrics(
        deps.jobs.as_ref(),
        deps.fleet.as_ref(),
        &deps.config.instance_ids,
        now,
    )
    .await
    {
        Ok(m) => {
            // Stdout is the function's log: CloudWatch reads the metrics out of it.
            println!("{}", emf_line(&m, &deps.config.stack, now));
            report.metrics = Some(m);
        }
        Err(e) => warn!(error = %e, "fleet metrics not computed"),
    }
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

/// How the orchestrator sees one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Booting or working.
    Active,
    /// Powering off: cannot be started until stopped.
    Stopping,
    /// Can be started.
    Startable,
    /// Terminated or unknown: ignored.
    Gone,
}

/// `instance`'s role, given the worker records: a running instance whose
/// worker recorded `draining` or `stopped` *since the instance was started*
/// is stopping (an older record is the previous run's).
fn role(instance: &WorkerInstance, workers: &[WorkerRecord]) -> Role {
    match instance.state {
        InstanceState::Pending => Role::Active,
        InstanceState::Running => {
            let going = workers.iter().any(|w| {
                w.id == instance.id
                    && matches!(w.state, WorkerState::Draining | WorkerState::Stopped)
                    && instance.launched_at.is_none_or(|t| w.updated_at >= t)
            });
            if going {
                Role::Stopping
            } else {
                Role::Active
            }
        }
        InstanceState::Stopping => Role::Stopping,
        InstanceState::Stopped => Role::Startable,
        _ => Role::Gone,
    }
}

/// Record the workers of the instances just started `active` (booting), so
/// that their previous run's `draining`/`stopped` record does not make them
/// look stopping until the worker writes its own (EC2's `LaunchTime` says
/// the same on AWS; this also holds where it is not kept, as in emulators).
/// A failure is only logged: the instance is started either way.
async fn mark_booting(jobs: &dyn JobStore, started: &[String], workers: &[WorkerRecord]) {
    let now = now_millis();
    for id in started {
        let record = match workers.iter().find(|w| w.id == *id) {
            Some(w) if w.state == WorkerState::Active => continue,
            Some(w) => WorkerRecord {
                state: WorkerState::Active,
                updated_at: now,
                ..w.clone()
            },
            None => continue,
        };
        if let Err(e) = jobs.put_worker(&record).await {
            warn!(instance = %id, error = %e, "could not mark the started worker active");
        }
    }
}

/// Start as many stopped workers as the backlog needs. `floor`: pending jobs
/// the caller knows of (it just recorded them), whatever the index shows.
pub async fn ensure_workers(
    deps: &OrchestratorDeps,
    floor: u64,
    report: &mut OrchestratorReport,
) -> Result<(), OrchestratorError> {
    let cfg = &deps.config;
    let cap = u64::from(cfg.jobs_per_worker) * u64::from(cfg.max_workers);
    report.pending = pending_backlog(deps.jobs.as_ref(), cap).await?.max(floor);
    report.wanted = cfg.workers_for(report.pending);
    if report.wanted == 0 {
        return Ok(());
    }
    let instances = deps.fleet.describe(&cfg.instance_ids).await?;
    let workers = deps.jobs.list_workers().await?;
    let roles: Vec<(&WorkerInstance, Role)> =
        instances.iter().map(|i| (i, role(i, &workers))).collect();
    let with = |r: Role| -> Vec<String> {
        roles
            .iter()
            .filter(|(_, x)| *x == r)
            .map(|(i, _)| i.id.clone())
            .collect()
    };
    report.active = with(Role::Active);
    let wanted = usize::try_from(report.wanted).unwrap_or(usize::MAX);
    let missing = wanted.saturating_sub(report.active.len());
    if missing == 0 {
        return Ok(());
    }
    let to_start: Vec<String> = with(Role::Startable).into_iter().take(missing).collect();
    if !to_start.is_empty() {
        deps.fleet.start(&to_start).await?;
        info!(instances = ?to_start, pending = report.pending, "started workers");
        mark_booting(deps.jobs.as_ref(), &to_start, &workers).await;
        report.started = to_start;
    }
    if report.started.len() < missing {
        report.stopping = with(Role::Stopping);
        if report.stopping.is_empty() {
            warn!(
                wanted = report.wanted,
                active = report.active.len(),
                started = report.started.len(),
                "no more worker instances can be started"
            );
        } else {
            info!(instances = ?report.stopping, "wanted workers are stopping: the state-change sweep starts them once stopped");
        }
    }
    Ok(())
}
