//! The records of the job system.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a job is in its life (the moves between them: [`crate::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Announced (an upload link was made); the RAW file has not arrived.
    AwaitingUpload,
    /// Waiting for a worker.
    Pending,
    /// Claimed by a worker holding a lease.
    Running,
    /// All outputs stored.
    Completed,
    /// Gave up: a permanent error, or too many failed attempts.
    Failed,
    /// Cancelled by the studio before a worker took it.
    Cancelled,
    /// Its upload link expired before the RAW file arrived.
    UploadExpired,
}

impl JobStatus {
    /// Every status, in life-cycle order.
    pub const ALL: [JobStatus; 7] = [
        Self::AwaitingUpload,
        Self::Pending,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
        Self::UploadExpired,
    ];

    /// The lower-case name used in storage and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingUpload => "awaiting_upload",
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::UploadExpired => "upload_expired",
        }
    }

    /// Whether no move leaves this status except the studio's retry
    /// (completed, failed, cancelled, upload expired).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Cancelled | Self::UploadExpired
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|st| st.as_str()).collect();
                format!("unknown status {s:?} (use {})", names.join(", "))
            })
    }
}

/// A studio client (a photographer or customer with their own token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Id (hex).
    pub id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the client's bearer token.
    pub token_hash: [u8; 32],
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

/// An upload the admin has announced; the object-created event turns it into a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadIntent {
    /// The job id reserved for the upload.
    pub job_id: String,
    /// The owning client.
    pub client_id: String,
    /// The file name the client gave.
    pub filename: String,
    /// The recipe to develop with.
    pub recipe: String,
    /// When the intent was made, ms since the epoch.
    pub created_at: i64,
    /// When its upload link expires, ms since the epoch.
    pub expires_at: i64,
}

/// What the object-created event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Job id (from the key).
    pub id: String,
    /// Owning client (from the key).
    pub client_id: String,
    /// The RAW input's key.
    pub input_key: String,
    /// SHA-256 of the input, lower-case hex (or the store's etag).
    pub input_sha256: String,
    /// Size of the input in bytes.
    pub input_bytes: u64,
    /// The client's file name.
    pub filename: String,
    /// Recipe name.
    pub recipe: String,
    /// Attempts before the job is failed.
    pub max_attempts: u32,
}

/// One stored output of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// Rendition name.
    pub name: String,
    /// Object key.
    pub key: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// MIME type.
    pub content_type: String,
}

/// A job record.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Job id.
    pub id: String,
    /// Owning client.
    pub client_id: String,
    /// The RAW input's key.
    pub input_key: String,
    /// SHA-256 of the input (hex).
    pub input_sha256: String,
    /// Input size in bytes.
    pub input_bytes: u64,
    /// The client's file name.
    pub filename: String,
    /// Recipe name.
    pub recipe: String,
    /// Status.
    pub status: JobStatus,
    /// Attempts made so far (claims).
    pub attempts: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// The current lease's token, while running.
    pub lease_owner: Option<String>,
    /// When the current lease expires, ms since the epoch.
    pub lease_expires_at: Option<i64>,
    /// The worker that ran (or runs) the last attempt.
    pub worker_id: Option<String>,
    /// The machine type that worker ran on (e.g. an EC2 instance type), when
    /// it said (see [`crate::JobStore::claim_on`]).
    pub instance_type: Option<String>,
    /// Seconds per stage of the last attempt, in order.
    pub timings: Vec<(String, f64)>,
    /// Stored outputs (set on completion).
    pub outputs: Vec<OutputRecord>,
    /// The last error.
    pub error: Option<String>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
    /// First claim, ms since the epoch.
    pub started_at: Option<i64>,
    /// When it reached a finished status (see [`JobStatus::is_finished`]), ms since the epoch.
    pub finished_at: Option<i64>,
    /// While the job awaits its upload (and after, for the record): when
    /// the upload link expires, ms since the epoch; `None` for a job
    /// recorded without an announced upload.
    pub upload_expires_at: Option<i64>,
    /// The token of the lease whose holder last moved the job out of
    /// `running` (completion, failure, release): a repeated call with that
    /// lease — a retry after a lost answer — is recognised as done. Cleared
    /// by the next claim.
    pub closed_by: Option<String>,
}

/// Proof that a worker holds a job: conditional updates check the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job_id: String,
    /// Unique per claim.
    pub token: String,
    /// The worker holding it.
    pub worker_id: String,
    /// The attempt number this lease belongs to.
    pub attempt: u32,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// The job went back to `pending` for another attempt.
    Retry,
    /// The job is `failed` for good.
    Failed,
    /// The lease had been lost: nothing was written.
    LeaseLost,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Order of the entry (increasing).
    pub seq: i64,
    /// The job.
    pub job_id: String,
    /// The status before (`None` on creation).
    pub from: Option<JobStatus>,
    /// The status after.
    pub to: JobStatus,
    /// The attempt number at the time.
    pub attempt: u32,
    /// The worker that made the change, if any.
    pub worker_id: Option<String>,
    /// When, ms since the epoch.
    pub at: i64,
    /// A note (error, "lease expired", …).
    pub detail: Option<String>,
}

/// What a worker process is doing, as recorded in the job store (see
/// [`crate::JobStore::put_worker`]). Whoever starts workers (the AWS
/// orchestrator) reads it: after recording a job, start a worker unless one is
/// [`WorkerState::Active`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerState {
    /// Working, or idle and still looking for jobs.
    Active,
    /// Idle past its timeout and about to stop: it looks for jobs one last
    /// time before stopping, and a job recorded after that look is not seen.
    Draining,
    /// Stopped (or stopping).
    Stopped,
}

impl WorkerState {
    /// The lower-case name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Draining => "draining",
            Self::Stopped => "stopped",
        }
    }
}

impl FromStr for WorkerState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "active" => Ok(Self::Active),
            "draining" => Ok(Self::Draining),
            "stopped" => Ok(Self::Stopped),
            other => Err(format!("unknown worker state {other:?}")),
        }
    }
}

/// A worker process's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRecord {
    /// The worker id (as in leases and jobs).
    pub id: String,
    /// Machine type ("unknown" when not configured).
    pub instance_type: String,
    /// What it is doing.
    pub state: WorkerState,
    /// When the process started, ms since the epoch.
    pub started_at: i64,
    /// When the record was written, ms since the epoch.
    pub updated_at: i64,
    /// Jobs it has finished (completed or failed) so far.
    pub jobs_done: u64,
}
