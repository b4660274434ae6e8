//! The fleet's health as CloudWatch metrics, for the alarms: the sweep
//! computes them ([`fleet_metrics`]) and writes them to its log in the
//! CloudWatch embedded metric format ([`emf_line`]), which Lambda's log
//! group turns into metrics without any CloudWatch API call (so the
//! orchestrator's role needs no `cloudwatch:PutMetricData`).

use serde::Serialize;

use crate::fleet::{FleetError, InstanceState, WorkerFleet};
use rawflow_jobs::{JobFilter, JobStatus, JobStore, JobStoreError};

/// The metric namespace of the template's alarms is `rawflow/<stack>`
/// (`STACK_NAME`), with the dimension `Component` = this.
pub const COMPONENT: &str = "fleet";

/// Pending jobs looked at for the oldest one's age (newest first: with a
/// larger backlog the age is a lower bound, and the backlog alarm fires
/// anyway).
const PENDING_SCAN: u32 = 1000;

/// What the alarms watch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FleetMetrics {
    /// Jobs waiting (up to [`PENDING_SCAN`]).
    pub pending_jobs: u64,
    /// Seconds since the oldest of them was recorded (0 with none).
    pub oldest_pending_age_seconds: f64,
    /// Worker instances EC2 reports `pending` or `running`.
    pub running_workers: u64,
    /// Of those, the longest time one has run with no job of its own:
    /// seconds since the later of its start and its worker's last record
    /// (0 while it runs a job). A worker goes idle and powers off after its
    /// idle timeout; a large value is an instance running far longer than
    /// its work.
    pub longest_idle_worker_seconds: f64,
}

/// Why the metrics could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The job store failed.
    #[error(transparent)]
    Store(#[from] JobStoreError),
    /// EC2 failed.
    #[error(transparent)]
    Fleet(#[from] FleetError),
}

/// The metrics at `now` (ms since the epoch) for the instances `ids`.
pub async fn fleet_metrics(
    jobs: &dyn JobStore,
    fleet: &dyn WorkerFleet,
    ids: &[String],
    now: i64,
) -> Result<FleetMetrics, MetricsError> {
    let pending = jobs
        .list_jobs(&JobFilter {
            status: Some(JobStatus::Pending),
            client_id: None,
            limit: Some(PENDING_SCAN),
        })
        .await?;
    let oldest = pending.iter().map(|j| j.created_at).min();
    let running_jobs = jobs
        .list_jobs(&JobFilter {
            status: Some(JobStatus::Running),
            client_id: None,
            limit: Some(PENDING_SCAN),
        })
        .await?;
    let instances = fleet.describe(ids).await?;
    let workers = jobs.list_workers().await?;
    let mut running = 0u64;
    let mut longest_idle = 0f64;
    for i in &instances {
        if !matches!(i.state, InstanceState::Pending | InstanceState::Running) {
            continue;
        }
        running += 1;
        if running_jobs
            .iter()
            .any(|j| j.worker_id.as_deref() == Some(i.id.as_str()))
        {
            continue;
        }
        let last_record = workers
            .iter()
            .filter(|w| w.id == i.id)
            .map(|w| w.updated_at)
            .max();
        let since = match (i.launched_at, last_record) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(since) = since {
            longest_idle = longest_idle.max(seconds(now.saturating_sub(since)));
        }
    }
    Ok(FleetMetrics {
        pending_jobs: u64::try_from(pending.len()).unwrap_or(u64::MAX),
        oldest_pending_age_seconds: oldest.map_or(0.0, |t| seconds(now.saturating_sub(t))),
        running_workers: running,
        longest_idle_worker_seconds: longest_idle,
    })
}

fn seconds(ms: i64) -> f64 {
    // Whole milliseconds: exact in f64 far beyond any age here.
    ms.max(0) as f64 / 1000.0
}

/// One log line in the embedded metric format: the two alarmed metrics
/// (the others as plain fields) in the
/// namespace `rawflow/<stack>`, dimension `Component` = [`COMPONENT`], at
/// `now` (ms).
pub fn emf_line(m: &FleetMetrics, stack: &str, now: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": now,
            "CloudWatchMetrics": [{
                "Namespace": format!("rawflow/{stack}"),
                "Dimensions": [["Component"]],
                // Only what an alarm watches: each custom metric costs
                // $0.30 a month. The other values stay log fields.
                "Metrics": [
                    {"Name": "OldestPendingJobAge", "Unit": "Seconds"},
                    {"Name": "LongestIdleWorker", "Unit": "Seconds"},
                ],
            }],
        },
        "Component": COMPONENT,
        "PendingJobs": m.pending_jobs,
        "OldestPendingJobAge": m.oldest_pending_age_seconds,
        "RunningWorkers": m.running_workers,
        "LongestIdleWorker": m.longest_idle_worker_seconds,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_names_every_metric_it_declares() {
        let m = FleetMetrics {
            pending_jobs: 3,
            oldest_pending_age_seconds: 12.5,
            running_workers: 1,
            longest_idle_worker_seconds: 0.0,
        };
        let v: serde_json::Value = serde_json::from_str(&emf_line(&m, "rawflow", 1_000)).unwrap();
        let declared = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        for d in declared {
            let name = d["Name"].as_str().unwrap();
            assert!(v[name].is_number(), "{name} has a value");
        }
        assert_eq!(v["OldestPendingJobAge"], 12.5);
        assert_eq!(v["Component"], "fleet");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "rawflow/rawflow"
        );
    }
}
