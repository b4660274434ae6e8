//! The job life cycle, once, as pure functions.
//!
//! Every move of a job is a function of the job as read (and, for a
//! worker, its [`Lease`]; always the time) that gives the next job and its
//! audit entry ([`Step`]), or a typed [`Refusal`]. Stores only read, call
//! one of these, and write the result on condition that the job is still
//! as read (see [`crate::job_store::JobBackend`]); the rules, the messages
//! and the lease-token format live here and nowhere else.
//!
//! | from | to | move | who |
//! |---|---|---|---|
//! | — | `awaiting_upload` | [`announce`] | the studio (`POST /v1/uploads`) |
//! | — or `awaiting_upload` | `pending` | [`record_upload`] | the object-created event |
//! | `pending` | `running` | [`take`] (attempt + 1, new lease) | a worker |
//! | `running`, lease expired, attempts left | `running` | [`take`] (attempt + 1, new lease) | another worker |
//! | `running`, lease expired, no attempts left | `failed` | [`take`] | any worker looking for work |
//! | `running` | `running` | [`renew`] (lease extended; no audit entry) | the lease holder |
//! | `running` | `completed` | [`complete`] | the lease holder |
//! | `running` | `pending` | [`fail`], retryable and attempts left | the lease holder |
//! | `running` | `failed` | [`fail`], permanent or attempts used | the lease holder |
//! | `running` | `pending` | [`release`] (attempt not counted) | the lease holder, told to stop |
//! | `awaiting_upload`, `pending` | `cancelled` | [`cancel`] | the studio |
//! | `failed` | `pending` | [`retry`] (attempts start again) | the studio |
//! | `awaiting_upload`, link expired [`UPLOAD_GRACE_MS`] ago | `upload_expired` | [`collect_upload`] | a worker's idle loop |
//!
//! Repeats are answered, not refused: a duplicate object-created event, a
//! second cancel, and a lease holder repeating its completion, failure or
//! release (a retry after a lost answer) get [`Next::Landed`], so a store
//! that could not tell whether its write landed may simply call again.

use crate::ids::{hex, random_bytes};
use crate::key::ObjectKey;
use crate::model::{
    FailOutcome, Job, JobStatus, Lease, NewJob, OutputRecord, Transition, UploadIntent,
};

/// How long after its upload link expired an announced job is collected:
/// an upload that started before the link expired may still be arriving.
pub const UPLOAD_GRACE_MS: i64 = 60 * 60 * 1000;

/// Attempts an announced job gets until its upload says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// Audit note of an announcement.
pub const ANNOUNCED: &str = "upload announced";
/// Audit note of a job recorded from its uploaded object.
pub const OBJECT_CREATED: &str = "object created";
/// Audit note of a claim that took over an expired lease.
pub const PREVIOUS_LEASE_EXPIRED: &str = "previous lease expired";
/// Audit note of a job failed because its last allowed attempt's lease expired.
pub const LAST_LEASE_EXPIRED: &str = "lease expired on the last allowed attempt";
/// The error of such a job.
pub const LAST_LEASE_EXPIRED_ERROR: &str =
    "the worker stopped (lease expired) on the last allowed attempt";
/// Audit note (and error) of a job cancelled by the studio.
pub const CANCELLED: &str = "cancelled by the studio";
/// Audit note of a failed job retried by the studio.
pub const RETRIED: &str = "retried by the studio";
/// Audit note (and error) of an announced job whose upload never came.
pub const UPLOAD_EXPIRED: &str = "the upload link expired before the file arrived";

/// The error of a retryable failure on the last allowed attempt.
pub fn gave_up(error: &str, attempts: u32) -> String {
    format!("{error} (gave up after {attempts} attempts)")
}

/// A new lease token for `worker_id`: `<worker id>/<16 hex digits>`, unique per claim.
pub fn lease_token(worker_id: &str) -> String {
    format!("{worker_id}/{}", hex(&random_bytes::<8>()))
}

/// A job's next state and the audit entry of the move (`None` for a lease
/// renewal, which is not a move). The entry's `seq` is 0: the store numbers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The job after the move.
    pub job: Job,
    /// Its audit entry.
    pub entry: Option<Transition>,
}

/// What a move asks of the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Next<T> {
    /// Write this step (conditionally on the job as read); the caller's answer is `T`.
    Write(Step, T),
    /// Nothing to write: the move was made before (a repeat); the answer is `T`.
    Landed(T),
}

/// Why a move is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// There is no such job.
    #[error("no job {0}")]
    NotFound(String),
    /// A job with this id exists already.
    #[error("job {0} exists already")]
    Exists(String),
    /// The job id is taken by a job for other content.
    #[error("job {0} exists for other content")]
    OtherContent(String),
    /// The move does not start from the job's status.
    #[error("job {id} is {status}: it cannot be {action}")]
    WrongStatus {
        /// The job.
        id: String,
        /// Its status.
        status: JobStatus,
        /// The refused move, as a past participle ("cancelled").
        action: &'static str,
    },
    /// The caller's lease is not the job's any more.
    #[error("the lease on job {0} was lost")]
    LeaseLost(String),
    /// Another worker holds a live lease on the job.
    #[error("job {0} is leased to another worker")]
    LeaseHeld(String),
    /// The announced upload's link has not expired (with its grace) yet.
    #[error("the upload of job {0} may still arrive")]
    UploadMayArrive(String),
    /// The upload does not match the announcement (client or key).
    #[error("{0} does not match the announced upload")]
    NotAnnounced(String),
}

fn wrong(job: &Job, action: &'static str) -> Refusal {
    Refusal::WrongStatus {
        id: job.id.clone(),
        status: job.status,
        action,
    }
}

/// The job, or [`Refusal::NotFound`].
pub fn found<'a>(job: Option<&'a Job>, id: &str) -> Result<&'a Job, Refusal> {
    job.ok_or_else(|| Refusal::NotFound(id.to_string()))
}

fn entry(job: &Job, from: Option<JobStatus>, at: i64, detail: Option<String>) -> Transition {
    Transition {
        seq: 0,
        job_id: job.id.clone(),
        from,
        to: job.status,
        attempt: job.attempts,
        worker_id: job.worker_id.clone(),
        at,
        detail,
    }
}

/// `new` entered its status from `from`'s at `now`, with its audit entry.
fn moved(from: &Job, mut new: Job, now: i64, detail: Option<String>) -> Step {
    new.updated_at = now;
    new.finished_at = new.status.is_finished().then_some(now);
    let entry = entry(&new, Some(from.status), now, detail);
    Step {
        job: new,
        entry: Some(entry),
    }
}

/// `step`, made by the studio or a collector rather than a worker.
fn not_by_a_worker(mut step: Step) -> Step {
    if let Some(e) = step.entry.as_mut() {
        e.worker_id = None;
    }
    step
}

/// A job that did not exist before, entering its first status at `now`.
fn born(job: Job, now: i64, detail: &str) -> Step {
    let entry = entry(&job, None, now, Some(detail.to_string()));
    Step {
        job,
        entry: Some(entry),
    }
}

fn blank(id: &str, client_id: &str, status: JobStatus, now: i64) -> Job {
    Job {
        id: id.to_string(),
        client_id: client_id.to_string(),
        input_key: String::new(),
        input_sha256: String::new(),
        input_bytes: 0,
        filename: String::new(),
        recipe: String::new(),
        status,
        attempts: 0,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        lease_owner: None,
        lease_expires_at: None,
        worker_id: None,
        instance_type: None,
        timings: Vec::new(),
        outputs: Vec::new(),
        error: None,
        created_at: now,
        updated_at: now,
        started_at: None,
        finished_at: None,
        upload_expires_at: None,
        closed_by: None,
    }
}

/// The studio announced an upload: the job exists, `awaiting_upload`,
/// from now on (its input key is where the upload goes). The same
/// announcement again is a repeat; another one for the id is refused.
pub fn announce(
    current: Option<&Job>,
    intent: &UploadIntent,
    now: i64,
) -> Result<Next<()>, Refusal> {
    if let Some(job) = current {
        if intent_of(job).as_ref() == Some(intent) {
            return Ok(Next::Landed(()));
        }
        return Err(Refusal::Exists(job.id.clone()));
    }
    let key = ObjectKey::raw_input(&intent.client_id, &intent.job_id, &intent.filename)
        .map_err(|e| Refusal::NotAnnounced(e.to_string()))?;
    let mut job = blank(
        &intent.job_id,
        &intent.client_id,
        JobStatus::AwaitingUpload,
        intent.created_at,
    );
    job.input_key = key.to_string();
    job.filename = intent.filename.clone();
    job.recipe = intent.recipe.clone();
    job.updated_at = now;
    job.upload_expires_at = Some(intent.expires_at);
    Ok(Next::Write(born(job, now, ANNOUNCED), ()))
}

/// The announcement a job was made from, if it was announced.
pub fn intent_of(job: &Job) -> Option<UploadIntent> {
    Some(UploadIntent {
        job_id: job.id.clone(),
        client_id: job.client_id.clone(),
        filename: job.filename.clone(),
        recipe: job.recipe.clone(),
        created_at: job.created_at,
        expires_at: job.upload_expires_at?,
    })
}

/// The input object landed (the object-created event, at least once):
/// an announced job becomes `pending` with its input; without an
/// announcement the job is recorded `pending` from `new` alone. The same
/// content again is a repeat ([`Next::Landed`], answer: the job as it is).
pub fn record_upload(current: Option<&Job>, new: &NewJob, now: i64) -> Result<Next<()>, Refusal> {
    let fill = |job: &mut Job| {
        job.input_key = new.input_key.clone();
        job.input_sha256 = new.input_sha256.clone();
        job.input_bytes = new.input_bytes;
        job.max_attempts = new.max_attempts.max(1);
    };
    match current {
        None => {
            let mut job = blank(&new.id, &new.client_id, JobStatus::Pending, now);
            fill(&mut job);
            job.filename = new.filename.clone();
            job.recipe = new.recipe.clone();
            Ok(Next::Write(born(job, now, OBJECT_CREATED), ()))
        }
        Some(job) if job.status == JobStatus::AwaitingUpload => {
            if job.client_id != new.client_id || job.input_key != new.input_key {
                return Err(Refusal::NotAnnounced(new.input_key.clone()));
            }
            let mut next = job.clone();
            next.status = JobStatus::Pending;
            fill(&mut next);
            Ok(Next::Write(
                moved(job, next, now, Some(OBJECT_CREATED.to_string())),
                (),
            ))
        }
        Some(job) if job.input_key == new.input_key && job.input_sha256 == new.input_sha256 => {
            Ok(Next::Landed(()))
        }
        Some(job) if matches!(job.status, JobStatus::Cancelled | JobStatus::UploadExpired) => {
            Err(wrong(job, "given its upload"))
        }
        Some(job) => Err(Refusal::OtherContent(job.id.clone())),
    }
}

/// Who is claiming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    /// The worker.
    pub worker_id: String,
    /// The machine it runs on, if it says.
    pub instance_type: Option<String>,
    /// The lease token this claim would hold ([`lease_token`]).
    pub token: String,
}

impl Claimant {
    /// A claimant with a fresh lease token.
    pub fn new(worker_id: &str, instance_type: Option<&str>) -> Self {
        Self {
            worker_id: worker_id.to_string(),
            instance_type: instance_type.map(str::to_string),
            token: lease_token(worker_id),
        }
    }

    fn lease(&self, job: &Job) -> Lease {
        Lease {
            job_id: job.id.clone(),
            token: self.token.clone(),
            worker_id: self.worker_id.clone(),
            attempt: job.attempts,
        }
    }
}

fn lease_expired(job: &Job, now: i64) -> bool {
    job.status == JobStatus::Running && job.lease_expires_at.is_some_and(|t| t < now)
}

/// Whether [`take`] would move the job now: it is `pending`, or `running`
/// with an expired lease.
pub fn is_runnable(job: &Job, now: i64) -> bool {
    job.status == JobStatus::Pending || lease_expired(job, now)
}

/// A worker looks at a job for work: a `pending` job, or a `running` one
/// whose lease expired with attempts left, is claimed (answer: the lease);
/// a `running` one whose lease expired on its last allowed attempt is
/// failed (answer: `None`).
pub fn take(
    job: &Job,
    who: &Claimant,
    ttl_ms: i64,
    now: i64,
) -> Result<Next<Option<Lease>>, Refusal> {
    if job.status == JobStatus::Running && job.lease_owner.as_deref() == Some(who.token.as_str()) {
        return Ok(Next::Landed(Some(who.lease(job))));
    }
    let expired = lease_expired(job, now);
    if expired && job.attempts >= job.max_attempts {
        let mut next = job.clone();
        next.status = JobStatus::Failed;
        next.lease_owner = None;
        next.lease_expires_at = None;
        next.error = Some(LAST_LEASE_EXPIRED_ERROR.to_string());
        return Ok(Next::Write(
            moved(job, next, now, Some(LAST_LEASE_EXPIRED.to_string())),
            None,
        ));
    }
    if job.status == JobStatus::Running && !expired {
        return Err(Refusal::LeaseHeld(job.id.clone()));
    }
    if job.status != JobStatus::Pending && !expired {
        return Err(wrong(job, "claimed"));
    }
    let mut next = job.clone();
    next.status = JobStatus::Running;
    next.attempts = job.attempts.saturating_add(1);
    next.lease_owner = Some(who.token.clone());
    next.lease_expires_at = Some(now.saturating_add(ttl_ms));
    next.worker_id = Some(who.worker_id.clone());
    next.instance_type = who.instance_type.clone();
    next.started_at = Some(job.started_at.unwrap_or(now));
    next.closed_by = None;
    let lease = who.lease(&next);
    let detail = expired.then(|| PREVIOUS_LEASE_EXPIRED.to_string());
    Ok(Next::Write(moved(job, next, now, detail), Some(lease)))
}

/// The lease holder's job, or why not: a repeat of the move that ended this
/// lease (`done` says which status it left) is [`Next::Landed`].
fn held<'a, T>(
    job: &'a Job,
    lease: &Lease,
    landed: impl FnOnce(JobStatus) -> Option<T>,
) -> Result<Result<&'a Job, T>, Refusal> {
    if job.status == JobStatus::Running && job.lease_owner.as_deref() == Some(lease.token.as_str())
    {
        return Ok(Ok(job));
    }
    if job.status != JobStatus::Running && job.closed_by.as_deref() == Some(lease.token.as_str()) {
        if let Some(t) = landed(job.status) {
            return Ok(Err(t));
        }
    }
    Err(Refusal::LeaseLost(job.id.clone()))
}

/// `job` leaves `running` by its lease holder for `to`.
fn close(job: &Job, lease: &Lease, to: JobStatus) -> Job {
    let mut next = job.clone();
    next.status = to;
    next.lease_owner = None;
    next.lease_expires_at = None;
    next.closed_by = Some(lease.token.clone());
    next.worker_id = Some(lease.worker_id.clone());
    next
}

/// The lease holder extends its lease to `now + ttl_ms`.
pub fn renew(job: &Job, lease: &Lease, ttl_ms: i64, now: i64) -> Result<Next<()>, Refusal> {
    let job = match held(job, lease, |_| None::<()>)? {
        Ok(job) => job,
        Err(()) => return Err(Refusal::LeaseLost(job.id.clone())),
    };
    let mut next = job.clone();
    next.lease_expires_at = Some(now.saturating_add(ttl_ms));
    next.updated_at = now;
    Ok(Next::Write(
        Step {
            job: next,
            entry: None,
        },
        (),
    ))
}

/// The lease holder stored every output: `completed`.
pub fn complete(
    job: &Job,
    lease: &Lease,
    outputs: &[OutputRecord],
    timings: &[(String, f64)],
    now: i64,
) -> Result<Next<()>, Refusal> {
    let job = match held(job, lease, |s| (s == JobStatus::Completed).then_some(()))? {
        Ok(job) => job,
        Err(()) => return Ok(Next::Landed(())),
    };
    let mut next = close(job, lease, JobStatus::Completed);
    next.outputs = outputs.to_vec();
    next.timings = timings.to_vec();
    next.error = None;
    Ok(Next::Write(moved(job, next, now, None), ()))
}

/// The lease holder's attempt failed: back to `pending` when `retryable`
/// and attempts remain (the retry rule), else `failed` with the error.
pub fn fail(
    job: &Job,
    lease: &Lease,
    error: &str,
    retryable: bool,
    timings: &[(String, f64)],
    now: i64,
) -> Result<Next<FailOutcome>, Refusal> {
    let job = match held(job, lease, |s| match s {
        JobStatus::Pending => Some(FailOutcome::Retry),
        JobStatus::Failed => Some(FailOutcome::Failed),
        _ => None,
    })? {
        Ok(job) => job,
        Err(outcome) => return Ok(Next::Landed(outcome)),
    };
    let retry = retryable && job.attempts < job.max_attempts;
    let (to, message, outcome) = if retry {
        (JobStatus::Pending, error.to_string(), FailOutcome::Retry)
    } else if retryable {
        (
            JobStatus::Failed,
            gave_up(error, job.attempts),
            FailOutcome::Failed,
        )
    } else {
        (JobStatus::Failed, error.to_string(), FailOutcome::Failed)
    };
    let mut next = close(job, lease, to);
    next.error = Some(message.clone());
    next.timings = timings.to_vec();
    Ok(Next::Write(moved(job, next, now, Some(message)), outcome))
}

/// The lease holder hands the job back (it was told to stop): `pending`,
/// the attempt not counted.
pub fn release(job: &Job, lease: &Lease, reason: &str, now: i64) -> Result<Next<()>, Refusal> {
    let job = match held(job, lease, |s| (s == JobStatus::Pending).then_some(()))? {
        Ok(job) => job,
        Err(()) => return Ok(Next::Landed(())),
    };
    let mut next = close(job, lease, JobStatus::Pending);
    next.attempts = job.attempts.saturating_sub(1);
    let mut step = moved(job, next, now, Some(reason.to_string()));
    if let Some(e) = step.entry.as_mut() {
        // The entry names the attempt that was handed back.
        e.attempt = job.attempts;
    }
    Ok(Next::Write(step, ()))
}

/// The studio cancels a job no worker has taken (`awaiting_upload` or
/// `pending`). Cancelling a cancelled job again is a repeat.
pub fn cancel(job: &Job, now: i64) -> Result<Next<()>, Refusal> {
    match job.status {
        JobStatus::Cancelled => Ok(Next::Landed(())),
        JobStatus::AwaitingUpload | JobStatus::Pending => {
            let mut next = job.clone();
            next.status = JobStatus::Cancelled;
            next.error = Some(CANCELLED.to_string());
            Ok(Next::Write(
                not_by_a_worker(moved(job, next, now, Some(CANCELLED.to_string()))),
                (),
            ))
        }
        _ => Err(wrong(job, "cancelled")),
    }
}

/// The studio retries a `failed` job: `pending`, with all its attempts again.
pub fn retry(job: &Job, now: i64) -> Result<Next<()>, Refusal> {
    if job.status != JobStatus::Failed {
        return Err(wrong(job, "retried"));
    }
    let mut next = job.clone();
    next.status = JobStatus::Pending;
    next.attempts = 0;
    next.error = None;
    next.closed_by = None;
    Ok(Next::Write(
        not_by_a_worker(moved(job, next, now, Some(RETRIED.to_string()))),
        (),
    ))
}

/// Collect an announced job whose upload link expired more than
/// [`UPLOAD_GRACE_MS`] ago: `upload_expired`.
pub fn collect_upload(job: &Job, now: i64) -> Result<Next<()>, Refusal> {
    if job.status != JobStatus::AwaitingUpload {
        return Err(wrong(job, "collected"));
    }
    let due = job
        .upload_expires_at
        .is_none_or(|t| t.saturating_add(UPLOAD_GRACE_MS) < now);
    if !due {
        return Err(Refusal::UploadMayArrive(job.id.clone()));
    }
    let mut next = job.clone();
    next.status = JobStatus::UploadExpired;
    next.error = Some(UPLOAD_EXPIRED.to_string());
    Ok(Next::Write(
        not_by_a_worker(moved(job, next, now, Some(UPLOAD_EXPIRED.to_string()))),
        (),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_000_000;

    fn intent() -> UploadIntent {
        UploadIntent {
            job_id: "0a".into(),
            client_id: "0c".into(),
            filename: "A.DNG".into(),
            recipe: "web".into(),
            created_at: T0,
            expires_at: T0 + 60_000,
        }
    }

    fn write<T>(n: Result<Next<T>, Refusal>) -> (Job, Option<Transition>, T) {
        match n {
            Ok(Next::Write(step, t)) => (step.job, step.entry, t),
            Ok(Next::Landed(_)) => panic!("landed"),
            Err(r) => panic!("refused: {r}"),
        }
    }

    fn landed<T: std::fmt::Debug>(n: Result<Next<T>, Refusal>) -> T {
        match n {
            Ok(Next::Landed(t)) => t,
            other => panic!("not landed: {:?}", other.map(|_| ())),
        }
    }

    fn new_job() -> NewJob {
        NewJob {
            id: "0a".into(),
            client_id: "0c".into(),
            input_key: "raw/0c/0a/A.DNG".into(),
            input_sha256: "ab".into(),
            input_bytes: 3,
            filename: "A.DNG".into(),
            recipe: "web".into(),
            max_attempts: 2,
        }
    }

    fn pending() -> Job {
        let (announced, ..) = write(announce(None, &intent(), T0));
        write(record_upload(Some(&announced), &new_job(), T0 + 1)).0
    }

    #[test]
    fn announced_jobs_await_their_upload_then_become_pending_once() {
        let (job, entry, ()) = write(announce(None, &intent(), T0));
        assert_eq!(job.status, JobStatus::AwaitingUpload);
        assert_eq!(job.input_key, "raw/0c/0a/A.DNG");
        assert_eq!(intent_of(&job), Some(intent()));
        assert_eq!(
            entry.map(|e| (e.from, e.to)),
            Some((None, JobStatus::AwaitingUpload))
        );
        landed(announce(Some(&job), &intent(), T0));
        let other = UploadIntent {
            filename: "B.DNG".into(),
            ..intent()
        };
        assert_eq!(
            announce(Some(&job), &other, T0),
            Err(Refusal::Exists("0a".into()))
        );
        assert!(!is_runnable(&job, T0));

        let (p, entry, ()) = write(record_upload(Some(&job), &new_job(), T0 + 1));
        assert_eq!(
            (p.status, p.max_attempts, p.input_bytes),
            (JobStatus::Pending, 2, 3)
        );
        assert_eq!(entry.map(|e| e.from), Some(Some(JobStatus::AwaitingUpload)));
        landed(record_upload(Some(&p), &new_job(), T0 + 2));
        let other = NewJob {
            input_sha256: "cd".into(),
            ..new_job()
        };
        assert_eq!(
            record_upload(Some(&p), &other, T0 + 2),
            Err(Refusal::OtherContent("0a".into()))
        );
        let stray = NewJob {
            input_key: "raw/0c/0a/B.DNG".into(),
            ..new_job()
        };
        assert!(matches!(
            record_upload(Some(&job), &stray, T0),
            Err(Refusal::NotAnnounced(_))
        ));
    }

    #[test]
    fn claims_leases_and_the_retry_rule() {
        let job = pending();
        let w1 = Claimant::new("w1", Some("m7"));
        assert!(w1.token.starts_with("w1/") && w1.token.len() == 3 + 16);
        let (running, entry, lease) = write(take(&job, &w1, 100, T0));
        let lease = lease.unwrap();
        assert_eq!((running.attempts, lease.attempt), (1, 1));
        assert_eq!(entry.unwrap().detail, None);
        // Held: another worker is refused; a repeat of the claim has landed.
        let w2 = Claimant::new("w2", None);
        assert_eq!(
            take(&running, &w2, 100, T0 + 50),
            Err(Refusal::LeaseHeld("0a".into()))
        );
        assert_eq!(
            landed(take(&running, &w1, 100, T0 + 50)),
            Some(lease.clone())
        );
        // Expired: taken over, attempt 2 (the last).
        let (again, entry, lease2) = write(take(&running, &w2, 100, T0 + 101));
        let lease2 = lease2.unwrap();
        assert_eq!(
            entry.unwrap().detail.as_deref(),
            Some(PREVIOUS_LEASE_EXPIRED)
        );
        assert_eq!(
            renew(&again, &lease, 100, T0 + 102),
            Err(Refusal::LeaseLost("0a".into()))
        );
        // A retryable failure on the last attempt fails the job for good.
        let (failed, _, outcome) = write(fail(&again, &lease2, "disk", true, &[], T0 + 150));
        assert_eq!(outcome, FailOutcome::Failed);
        assert_eq!(
            failed.error.as_deref(),
            Some("disk (gave up after 2 attempts)")
        );
        assert_eq!(
            landed(fail(&failed, &lease2, "disk", true, &[], T0 + 151)),
            FailOutcome::Failed
        );
        // Exhausted leases are failed by whoever looks.
        let (dead, _, none) = write(take(&again, &w1, 100, T0 + 300));
        assert_eq!((dead.status, none), (JobStatus::Failed, None));
        assert_eq!(dead.error.as_deref(), Some(LAST_LEASE_EXPIRED_ERROR));
    }

    #[test]
    fn completion_release_and_repeats() {
        let job = pending();
        let w = Claimant::new("w", None);
        let (running, _, lease) = write(take(&job, &w, 100, T0));
        let lease = lease.unwrap();
        let (renewed, entry, ()) = write(renew(&running, &lease, 500, T0 + 10));
        assert_eq!((renewed.lease_expires_at, entry), (Some(T0 + 510), None));
        let (released, entry, ()) = write(release(&renewed, &lease, "stop", T0 + 20));
        assert_eq!(
            (released.status, released.attempts),
            (JobStatus::Pending, 0)
        );
        assert_eq!(entry.map(|e| e.attempt), Some(1));
        landed(release(&released, &lease, "stop", T0 + 21));
        assert_eq!(
            complete(&released, &lease, &[], &[], T0),
            Err(Refusal::LeaseLost("0a".into()))
        );
        let (running, _, lease) = write(take(&released, &w, 100, T0 + 30));
        let lease = lease.unwrap();
        assert_eq!(running.closed_by, None);
        let (done, _, ()) = write(complete(
            &running,
            &lease,
            &[],
            &[("x".into(), 1.0)],
            T0 + 40,
        ));
        assert_eq!(
            (done.status, done.finished_at),
            (JobStatus::Completed, Some(T0 + 40))
        );
        landed(complete(&done, &lease, &[], &[], T0 + 41));
        assert!(matches!(
            cancel(&done, T0),
            Err(Refusal::WrongStatus { .. })
        ));
    }

    #[test]
    fn the_studio_cancels_and_retries() {
        let (announced, ..) = write(announce(None, &intent(), T0));
        let (c, ..) = write(cancel(&announced, T0 + 1));
        assert_eq!(c.status, JobStatus::Cancelled);
        landed(cancel(&c, T0 + 2));
        assert!(matches!(
            record_upload(Some(&c), &new_job(), T0),
            Err(Refusal::WrongStatus { .. })
        ));
        assert!(matches!(retry(&c, T0), Err(Refusal::WrongStatus { .. })));

        let job = pending();
        let w = Claimant::new("w", None);
        let (running, _, lease) = write(take(&job, &w, 100, T0));
        assert!(matches!(
            cancel(&running, T0),
            Err(Refusal::WrongStatus { .. })
        ));
        let (failed, ..) = write(fail(&running, &lease.unwrap(), "bad", false, &[], T0 + 1));
        let (again, entry, ()) = write(retry(&failed, T0 + 2));
        assert_eq!(
            (again.status, again.attempts, again.error),
            (JobStatus::Pending, 0, None)
        );
        assert_eq!(entry.unwrap().detail.as_deref(), Some(RETRIED));
        assert_eq!(again.finished_at, None);
    }

    #[test]
    fn expired_announcements_are_collected_after_the_grace() {
        let (job, ..) = write(announce(None, &intent(), T0));
        let expires = T0 + 60_000;
        assert_eq!(
            collect_upload(&job, expires + 1),
            Err(Refusal::UploadMayArrive("0a".into()))
        );
        let (gone, ..) = write(collect_upload(&job, expires + UPLOAD_GRACE_MS + 1));
        assert_eq!(gone.status, JobStatus::UploadExpired);
        assert!(gone.status.is_finished());
        assert!(matches!(
            collect_upload(&pending(), i64::MAX),
            Err(Refusal::WrongStatus { .. })
        ));
    }
}
