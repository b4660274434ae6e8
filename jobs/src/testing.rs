//! What tests share (feature `testing`): job fixtures, and the conformance
//! suite every [`JobStore`] must pass.
//!
//! The suite is a list of scenarios ([`SCENARIOS`]), each run by
//! [`run_scenario`] on a fresh, empty store; [`run_all`] runs them all and
//! says which one failed. The SQLite store runs it in
//! `jobs/tests/conformance.rs`, the DynamoDB store (on the moto emulator)
//! in `jobs/tests/aws_conformance.rs`.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::auth::issue_token;
use crate::ids::{new_client_id, new_job_id, now_millis};
use crate::job_store::{CreateOutcome, JobFilter, JobStore, JobStoreError};
use crate::link::LinkSigner;
use crate::model::{
    Client, FailOutcome, Job, JobStatus, OutputRecord, Transition, UploadIntent, WorkerRecord,
    WorkerState,
};
use crate::object_store::{ObjectStore, PutMode};
use crate::processor::{ProcessError, ProcessOutput, Processor, RenderedOutput};
use crate::state::{self, Refusal};
use crate::uploads::{create_upload, on_object_created, EventOutcome, ObjectCreated, UploadTicket};

/// A store as the suite gets it.
pub type Store = Arc<dyn JobStore>;

/// Record a new client; its id and bearer token.
pub async fn client(store: &dyn JobStore) -> (String, String) {
    let id = new_client_id();
    let token = issue_token(&id);
    store
        .create_client(&Client {
            id: id.clone(),
            name: "studio".into(),
            token_hash: token.hash,
            created_at: now_millis(),
        })
        .await
        .expect("recording a client");
    (id, token.token)
}

/// Announce an upload of `filename` for `client` (recipe `web`, a link of a minute).
pub async fn announce(store: &dyn JobStore, client: &str, filename: &str) -> UploadTicket {
    create_upload(
        store,
        &LinkSigner::new([7; 32]),
        client,
        filename,
        "web",
        Duration::from_secs(60),
    )
    .await
    .expect("announcing an upload")
}

/// The object-created event of an announced upload, for content `sha256`.
pub fn landed(ticket: &UploadTicket, sha256: &str) -> ObjectCreated {
    ObjectCreated {
        key: ticket.key.to_string(),
        size: 1234,
        sha256: sha256.to_string(),
    }
}

/// Announce an upload and deliver its object-created event (content
/// `sha256`, 3 attempts): the `pending` job's id.
pub async fn pending_job(store: &dyn JobStore, client: &str, sha256: &str) -> String {
    let ticket = announce(store, client, "IMG_1.DNG").await;
    match on_object_created(store, &landed(&ticket, sha256), 3)
        .await
        .expect("recording the upload")
    {
        EventOutcome::Created(job) => job.id,
        other => panic!("the upload made no job: {other:?}"),
    }
}

/// Announce, store `bytes` in `objects` and record the upload (3 attempts):
/// the `pending` job's id. What an upload through `rawflow serve` does.
pub async fn upload<O: ObjectStore + ?Sized>(
    store: &dyn JobStore,
    objects: &O,
    client: &str,
    bytes: &[u8],
) -> String {
    let ticket = announce(store, client, "IMG_1.DNG").await;
    let meta = objects
        .put_bytes(&ticket.key, bytes, PutMode::CreateNew)
        .await
        .expect("storing the upload");
    let event = ObjectCreated {
        key: ticket.key.to_string(),
        size: meta.size,
        sha256: meta.sha256.or(meta.etag).unwrap_or_default(),
    };
    match on_object_created(store, &event, 3)
        .await
        .expect("recording the upload")
    {
        EventOutcome::Created(job) => job.id,
        other => panic!("the upload made no job: {other:?}"),
    }
}

/// The moves of an audit trail: (from, to, attempt).
pub fn moves(trail: &[Transition]) -> Vec<(Option<JobStatus>, JobStatus, u32)> {
    trail.iter().map(|t| (t.from, t.to, t.attempt)).collect()
}

/// The job, which must exist.
pub async fn job(store: &dyn JobStore, id: &str) -> Job {
    store
        .get_job(id)
        .await
        .expect("reading a job")
        .unwrap_or_else(|| panic!("no job {id}"))
}

/// A processor that copies its input as one rendition named after the
/// recipe (`<recipe>.bin`), optionally waiting first or failing.
#[derive(Debug, Default)]
pub struct CopyProcessor {
    /// Wait this long before answering.
    pub delay: Duration,
    /// Fail with this instead of copying.
    pub fail: Option<ProcessError>,
    /// Calls so far.
    pub calls: AtomicUsize,
}

impl CopyProcessor {
    /// Copies at once.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Processor for CopyProcessor {
    async fn process(&self, input: &Path, recipe: &str) -> Result<ProcessOutput, ProcessError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if let Some(e) = &self.fail {
            return Err(e.clone());
        }
        let bytes = tokio::fs::read(input)
            .await
            .map_err(|e| ProcessError::retryable(e.to_string()))?;
        Ok(ProcessOutput {
            outputs: vec![RenderedOutput {
                name: recipe.to_string(),
                extension: "bin".into(),
                content_type: "application/octet-stream".into(),
                bytes,
            }],
            timings: vec![("copy".into(), 0.0)],
        })
    }
}

/// The scenarios of the conformance suite, by name.
pub const SCENARIOS: &[&str] = &[
    "announced_job_awaits_its_upload",
    "duplicate_events_make_one_job",
    "racing_claims_have_one_winner",
    "expired_lease_is_claimed_again",
    "attempts_run_out",
    "lost_answers_are_recognised",
    "release_on_shutdown",
    "listing_by_status_and_client",
    "expired_upload_intents_are_collected",
    "studio_cancels_and_retries",
    "completion_records_outputs_and_trail",
    "clients_and_worker_records",
];

/// Run every scenario, each on a fresh store from `fresh`; the number run.
/// A failure panics with the scenario's name.
pub async fn run_all<F, Fut>(fresh: F) -> usize
where
    F: Fn() -> Fut,
    Fut: Future<Output = Store>,
{
    for name in SCENARIOS {
        eprintln!("conformance: {name}");
        let store = fresh().await;
        let run = tokio::spawn(run_scenario(name, store));
        if let Err(e) = run.await {
            panic!("conformance scenario {name} failed: {e}");
        }
    }
    SCENARIOS.len()
}

/// Run one scenario of [`SCENARIOS`] on `store` (empty); panics on a failure.
pub async fn run_scenario(name: &str, store: Store) {
    match name {
        "announced_job_awaits_its_upload" => announced_job_awaits_its_upload(store).await,
        "duplicate_events_make_one_job" => duplicate_events_make_one_job(store).await,
        "racing_claims_have_one_winner" => racing_claims_have_one_winner(store).await,
        "expired_lease_is_claimed_again" => expired_lease_is_claimed_again(store).await,
        "attempts_run_out" => attempts_run_out(store).await,
        "lost_answers_are_recognised" => lost_answers_are_recognised(store).await,
        "release_on_shutdown" => release_on_shutdown(store).await,
        "listing_by_status_and_client" => listing_by_status_and_client(store).await,
        "expired_upload_intents_are_collected" => expired_upload_intents_are_collected(store).await,
        "studio_cancels_and_retries" => studio_cancels_and_retries(store).await,
        "completion_records_outputs_and_trail" => completion_records_outputs_and_trail(store).await,
        "clients_and_worker_records" => clients_and_worker_records(store).await,
        other => panic!("no conformance scenario {other:?}"),
    }
}

const TTL: Duration = Duration::from_secs(30);

fn sha(n: u32) -> String {
    format!("{n:064x}")
}

use JobStatus::{AwaitingUpload, Cancelled, Completed, Failed, Pending, Running, UploadExpired};

async fn announced_job_awaits_its_upload(store: Store) {
    let s = &*store;
    let (client, _) = client(s).await;
    let ticket = announce(s, &client, "A.DNG").await;
    let j = job(s, &ticket.job_id).await;
    assert_eq!(
        (j.status, j.client_id.as_str()),
        (AwaitingUpload, client.as_str())
    );
    assert_eq!(j.input_key, ticket.key.to_string());
    let intent = s.get_upload(&ticket.job_id).await.unwrap().unwrap();
    assert_eq!(
        (intent.filename.as_str(), intent.recipe.as_str()),
        ("A.DNG", "web")
    );
    // Not work yet.
    assert!(!s.has_runnable_jobs().await.unwrap());
    assert!(s.claim("w", TTL).await.unwrap().is_none());
    let awaiting = s
        .list_jobs(&JobFilter {
            status: Some(AwaitingUpload),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(awaiting.len(), 1);
    // The same announcement again is a repeat; another for the id is refused.
    s.put_upload(&intent).await.unwrap();
    let other = UploadIntent {
        filename: "B.DNG".into(),
        ..intent.clone()
    };
    assert!(matches!(
        s.put_upload(&other).await,
        Err(JobStoreError::Duplicate(_))
    ));
    // The object lands: pending, with the attempts the event gave.
    let event = landed(&ticket, &sha(1));
    let EventOutcome::Created(j) = on_object_created(s, &event, 4).await.unwrap() else {
        panic!("no job made");
    };
    assert_eq!(
        (j.status, j.max_attempts, j.input_bytes),
        (Pending, 4, 1234)
    );
    assert!(s.has_runnable_jobs().await.unwrap());
    assert_eq!(
        moves(&s.transitions(&j.id).await.unwrap()),
        [
            (None, AwaitingUpload, 0),
            (Some(AwaitingUpload), Pending, 0)
        ]
    );
    assert_eq!(s.get_upload(&j.id).await.unwrap(), Some(intent));
}

async fn duplicate_events_make_one_job(store: Store) {
    let s = &*store;
    let (client, _) = client(s).await;
    let ticket = announce(s, &client, "A.DNG").await;
    let event = landed(&ticket, &sha(1));
    let first = on_object_created(s, &event, 3).await.unwrap();
    assert!(matches!(first, EventOutcome::Created(_)), "{first:?}");
    for _ in 0..2 {
        match on_object_created(s, &event, 3).await.unwrap() {
            EventOutcome::Duplicate(j) => assert_eq!(j.id, ticket.job_id),
            other => panic!("{other:?}"),
        }
    }
    // Other content under the same key, an unannounced key: no job.
    let other = landed(&ticket, &sha(2));
    assert!(matches!(
        on_object_created(s, &other, 3).await.unwrap(),
        EventOutcome::Ignored(_)
    ));
    let unknown = ObjectCreated {
        key: format!("raw/{client}/{}/A.DNG", new_job_id()),
        ..event.clone()
    };
    assert!(matches!(
        on_object_created(s, &unknown, 3).await.unwrap(),
        EventOutcome::Ignored(_)
    ));
    // A job recorded without an announcement, twice.
    let direct = crate::model::NewJob {
        id: new_job_id(),
        client_id: client.clone(),
        input_key: format!("raw/{client}/direct/B.DNG"),
        input_sha256: sha(3),
        input_bytes: 1,
        filename: "B.DNG".into(),
        recipe: "web".into(),
        max_attempts: 2,
    };
    assert!(matches!(
        s.create_job(&direct).await.unwrap(),
        CreateOutcome::Created(_)
    ));
    assert!(matches!(
        s.create_job(&direct).await.unwrap(),
        CreateOutcome::Existing(_)
    ));
    let all = s.list_jobs(&JobFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let trail = s.transitions(&ticket.job_id).await.unwrap();
    assert_eq!(trail.iter().filter(|t| t.to == Pending).count(), 1);
}

async fn racing_claims_have_one_winner(store: Store) {
    let (client, _) = client(&*store).await;
    // One job, four claimers at once: one wins.
    let one = pending_job(&*store, &client, &sha(100)).await;
    let mut racers = Vec::new();
    for w in 0..4 {
        let store = Arc::clone(&store);
        racers.push(tokio::spawn(async move {
            store.claim(&format!("r{w}"), TTL).await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    for r in racers {
        if let Some((job, lease)) = r.await.unwrap() {
            winners.push((job, lease));
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner");
    let (won, lease) = winners.remove(0);
    assert_eq!((won.id.as_str(), won.attempts), (one.as_str(), 1));
    assert!(store.complete(&lease, &[], &[]).await.unwrap());
    // Many jobs, three workers: each job once.
    let mut ids = Vec::new();
    for i in 0..9 {
        ids.push(pending_job(&*store, &client, &sha(i)).await);
    }
    let mut tasks = Vec::new();
    for w in 0..3 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some((job, lease)) = store.claim(&format!("w{w}"), TTL).await.unwrap() {
                assert!(store.complete(&lease, &[], &[]).await.unwrap());
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut done = Vec::new();
    for t in tasks {
        done.extend(t.await.unwrap());
    }
    done.sort();
    ids.sort();
    assert_eq!(done, ids, "each job claimed exactly once");
    for id in &ids {
        let trail = store.transitions(id).await.unwrap();
        assert_eq!(trail.iter().filter(|t| t.to == Running).count(), 1);
    }
}

async fn expired_lease_is_claimed_again(store: Store) {
    let s = &*store;
    let (client, _) = client(s).await;
    let id = pending_job(s, &client, &sha(1)).await;
    // Long enough that the checks below run while it is held, on a slow emulator too.
    let short = Duration::from_millis(2000);
    let (_, first) = s.claim("dies", short).await.unwrap().unwrap();
    assert!(
        s.claim("w2", TTL).await.unwrap().is_none(),
        "lease still held"
    );
    assert!(!s.has_runnable_jobs().await.unwrap());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(s.has_runnable_jobs().await.unwrap());
    let (j, second) = s.claim("w2", TTL).await.unwrap().unwrap();
    assert_eq!(
        (j.id.as_str(), j.attempts, second.attempt),
        (id.as_str(), 2, 2)
    );
    // The first worker wakes up: every move under its lease is refused.
    assert!(!s.renew(&first, TTL).await.unwrap());
    assert!(!s.complete(&first, &[], &[]).await.unwrap());
    assert_eq!(
        s.fail(&first, "late", false, &[]).await.unwrap(),
        FailOutcome::LeaseLost
    );
    assert!(!s.release(&first, "late").await.unwrap());
    assert!(s.renew(&second, TTL).await.unwrap());
    assert!(s.complete(&second, &[], &[]).await.unwrap());
    let trail = s.transitions(&id).await.unwrap();
    assert_eq!(
        moves(&trail)[2..],
        [
            (Some(Pending), Running, 1),
            (Some(Running), Running, 2),
            (Some(Running), Completed, 2)
        ]
    );
    assert_eq!(
        trail[3].detail.as_deref(),
        Some(state::PREVIOUS_LEASE_EXPIRED)
    );
}

async fn attempts_run_out(store: Store) {
    let s = &*store;
    let (client, _) = client(s).await;
    // Retryable failures: pending twice, then failed for good.
    let flaky = pending_job(s, &client, &sha(1)).await;
    for attempt in 1..=3 {
        let (_, lease) = s.claim("w", TTL).await.unwrap().unwrap();
        assert_eq!(lease.attempt, attempt);
        let expect = if attempt < 3 {
            FailOutcome::Retry
        } else {
            FailOutcome::Failed
        };
        assert_eq!(
            s.fail(&lease, "disk hiccup", true, &[]).await.unwrap(),
            expect
        );
    }
    let j = job(s, &flaky).await;
    assert_eq!((j.status, j.attempts), (Failed, 3));
    assert_eq!(
        j.error.as_deref(),
        Some(state::gave_up("disk hiccup", 3).as_str())
    );
    assert!(j.finished_at.is_some());
    // A permanent failure fails at once.
    let bad = pending_job(s, &client, &sha(2)).await;
    let (_, lease) = s.claim("w", TTL).await.unwrap().unwrap();
    assert_eq!(
        s.fail(&lease, "corrupt", false, &[]).await.unwrap(),
        FailOutcome::Failed
    );
    let j = job(s, &bad).await;
    assert_eq!(
        (j.status, j.attempts, j.error.as_deref()),
        (Failed, 1, Some("corrupt"))
    );
    // A worker that dies on the last attempt: failed by the next claim.
    let dying = pending_job(s, &client, &sha(3)).await;
    for _ in 0..3 {
        assert!(s
            .claim("dying", Duration::from_millis(300))
            .await
            .unwrap()
            .is_some());
        tokio::time::sleep(Duration::from_millis(450)).await;
    }
    assert!(s.claim("w", TTL).await.unwrap().is_none());
    let j = job(s, &dying).await;
    assert_eq!((j.status, j.attempts), (Failed, 3));
    assert_eq!(j.error.as_deref(), Some(state::LAST_LEASE_EXPIRED_ERROR));
    assert!(!s.has_runnable_jobs().await.unwrap());
}

async fn lost_answers_are_recognised(store: Store) {
    // A caller that lost an answer calls again with the same lease: the
    // same answer, and one move in the trail.
    let s = &*store;
    let (client, _) = client(s).await;
    let done = pending_job(s, &client, &sha(1)).await;
    let (_, lease) = s.claim("w", TTL).await.unwrap().unwrap();
    let timings = vec![("copy".to_string(), 0.5)];
    assert!(s.complete(&lease, &[], &timings).await.unwrap());
    assert!(s.complete(&lease, &[], &timings).await.unwrap(), "repeat");
    let trail = s.transitions(&done).await.unwrap();
    assert_eq!(trail.iter().filter(|t| t.to == Completed).count(), 1);

    let retried = pending_job(s, &client, &sha(2)).await;
    let (_, lease) = s.claim("w", TTL).await.unwrap().unwrap();
    assert_eq!(
        s.fail(&lease, "hiccup", true, &[]).await.unwrap(),
        FailOutcome::Retry
    );
    assert_eq!(
        s.fail(&lease, "hiccup", true, &[]).await.unwrap(),
        FailOutcome::Retry
    );
    assert_eq!(job(s, &retried).await.attempts, 1);
    // Once another worker holds the job, the old lease's repeat is lost.
    let (_, next) = s.claim("w2", TTL).await.unwrap().unwrap();
    assert_eq!(
        s.fail(&lease, "hiccup", true, &[]).await.unwrap(),
        FailOutcome::LeaseLost
    );
    assert!(s.release(&next, "stop").await.unwrap());
    assert!(s.release(&next, "stop").await.unwrap(), "repeat");
    let trail = s.transitions(&retried).await.unwrap();
    assert_eq!(
        moves(&trail)[2..],
        [
            (Some(Pending), Running, 1),
            (Some(Running), Pending, 1),
            (Some(Pending), Running, 2),
            (Some(Running), Pending, 2),
        ]
    );
}

async fn release_on_shutdown(store: Store) {
    let s = &*store;
    let (client, _) = client(s).await;
    let id = pending_job(s, &client, &sha(1)).await;
    let (j, lease) = s
        .claim_on("w1", Some("m7.large"), TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.instance_type.as_deref(), Some("m7.large"));
    assert!(!s.has_runnable_jobs().await.unwrap());
    assert!(s.release(&lease, "stopping").await.unwrap());
    assert!(!s.renew(&lease, TTL).await.unwrap());
    let j = job(s, &id).await;
    assert_eq!((j.status, j.attempts, j.lease_owner), (Pending, 0, None));
    assert!(s.has_runnable_jobs().await.unwrap());
    let (_, again) = s.claim("w2", TTL).await.unwrap().unwrap();
    assert_eq!(again.attempt, 1);
    let trail = s.transitions(&id).await.unwrap();
    assert_eq!(
        moves(&trail)[2..],
        [
            (Some(Pending), Running, 1),
            (Some(Running), Pending, 1),
            (Some(Pending), Running, 1)
        ]
    );
    assert_eq!(trail[3].detail.as_deref(), Some("stopping"));
    assert_eq!(trail[3].worker_id.as_deref(), Some("w1"));
}

/// The ids of the jobs `filter` lists.
async fn list(
    s: &dyn JobStore,
    status: Option<JobStatus>,
    client_id: Option<&String>,
    limit: Option<u32>,
) -> Vec<String> {
    let filter = JobFilter {
        status,
        client_id: client_id.cloned(),
        limit,
    };
    let jobs = s.list_jobs(&filter).await.expect("listing jobs");
    jobs.into_iter().map(|j| j.id).collect()
}

async fn listing_by_status_and_client(store: Store) {
    let s = &*store;
    let (a, _) = client(s).await;
    let (b, _) = client(s).await;
    let a1 = pending_job(s, &a, &sha(1)).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let b1 = pending_job(s, &b, &sha(2)).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let a2 = pending_job(s, &a, &sha(3)).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let a3 = announce(s, &a, "C.DNG").await.job_id;
    let (claimed, lease) = s.claim("w", TTL).await.unwrap().unwrap();
    assert_eq!(claimed.id, a1, "the oldest pending job first");
    assert!(s.complete(&lease, &[], &[]).await.unwrap());
    assert_eq!(
        list(s, None, Some(&a), None).await,
        [a3.clone(), a2.clone(), a1.clone()]
    );
    assert_eq!(list(s, None, Some(&b), None).await, [b1.clone()]);
    assert_eq!(list(s, Some(Completed), None, None).await, [a1.clone()]);
    assert_eq!(
        list(s, Some(Pending), None, None).await,
        [a2.clone(), b1.clone()]
    );
    assert_eq!(list(s, Some(Pending), Some(&a), None).await, [a2.clone()]);
    assert_eq!(
        list(s, Some(AwaitingUpload), None, None).await,
        [a3.clone()]
    );
    assert_eq!(list(s, None, None, None).await.len(), 4);
    assert_eq!(list(s, None, None, Some(2)).await, [a3, a2]);
    assert!(list(s, Some(Failed), None, None).await.is_empty());
}

async fn expired_upload_intents_are_collected(store: Store) {
    let s = &*store;
    let (client, _) = client(s).await;
    let now = now_millis();
    let stale = UploadIntent {
        job_id: new_job_id(),
        client_id: client.clone(),
        filename: "OLD.DNG".into(),
        recipe: "web".into(),
        created_at: now - 2 * state::UPLOAD_GRACE_MS,
        expires_at: now - state::UPLOAD_GRACE_MS - 1000,
    };
    s.put_upload(&stale).await.unwrap();
    // Expired, but within the grace: the upload may still be arriving.
    let recent = UploadIntent {
        job_id: new_job_id(),
        expires_at: now - 1000,
        filename: "NEW.DNG".into(),
        ..stale.clone()
    };
    s.put_upload(&recent).await.unwrap();
    let fresh = announce(s, &client, "A.DNG").await;
    let collected = s.collect_expired_uploads().await.unwrap();
    assert_eq!(
        collected.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        [stale.job_id.as_str()]
    );
    let j = job(s, &stale.job_id).await;
    assert_eq!(
        (j.status, j.error.as_deref()),
        (UploadExpired, Some(state::UPLOAD_EXPIRED))
    );
    assert!(j.finished_at.is_some());
    assert!(s.collect_expired_uploads().await.unwrap().is_empty());
    assert_eq!(job(s, &recent.job_id).await.status, AwaitingUpload);
    assert_eq!(job(s, &fresh.job_id).await.status, AwaitingUpload);
    // The file arriving after all is not recorded.
    let key = crate::key::ObjectKey::raw_input(&client, &stale.job_id, "OLD.DNG").unwrap();
    let late = ObjectCreated {
        key: key.to_string(),
        size: 1,
        sha256: sha(1),
    };
    assert!(matches!(
        on_object_created(s, &late, 3).await.unwrap(),
        EventOutcome::Ignored(_)
    ));
    assert_eq!(
        moves(&s.transitions(&stale.job_id).await.unwrap()),
        [
            (None, AwaitingUpload, 0),
            (Some(AwaitingUpload), UploadExpired, 0)
        ]
    );
}

async fn studio_cancels_and_retries(store: Store) {
    let s = &*store;
    let (client, _) = client(s).await;
    // Cancel an announced job and a pending one; a worker never sees them.
    let announced = announce(s, &client, "A.DNG").await;
    let cancelled = s.cancel(&announced.job_id).await.unwrap();
    assert_eq!(cancelled.status, Cancelled);
    assert_eq!(
        s.cancel(&announced.job_id).await.unwrap().status,
        Cancelled,
        "repeat"
    );
    assert!(matches!(
        on_object_created(s, &landed(&announced, &sha(9)), 3)
            .await
            .unwrap(),
        EventOutcome::Ignored(_)
    ));
    let pending = pending_job(s, &client, &sha(1)).await;
    assert_eq!(s.cancel(&pending).await.unwrap().status, Cancelled);
    assert!(s.claim("w", TTL).await.unwrap().is_none());
    let trail = s.transitions(&pending).await.unwrap();
    assert_eq!(
        trail.last().map(|t| (t.to, t.detail.as_deref())),
        Some((Cancelled, Some(state::CANCELLED)))
    );
    // A running job cannot be cancelled; a failed one can be retried, once.
    let doomed = pending_job(s, &client, &sha(2)).await;
    let (_, lease) = s.claim("w", TTL).await.unwrap().unwrap();
    assert!(matches!(
        s.cancel(&doomed).await,
        Err(JobStoreError::Refused(Refusal::WrongStatus {
            status: Running,
            ..
        }))
    ));
    assert!(matches!(
        s.retry(&doomed).await,
        Err(JobStoreError::Refused(Refusal::WrongStatus { .. }))
    ));
    assert_eq!(
        s.fail(&lease, "corrupt", false, &[]).await.unwrap(),
        FailOutcome::Failed
    );
    let again = s.retry(&doomed).await.unwrap();
    assert_eq!(
        (again.status, again.attempts, again.error),
        (Pending, 0, None)
    );
    assert!(matches!(
        s.retry(&doomed).await,
        Err(JobStoreError::Refused(_))
    ));
    let (j, lease) = s.claim("w", TTL).await.unwrap().unwrap();
    assert_eq!((j.id.as_str(), lease.attempt), (doomed.as_str(), 1));
    assert!(s.complete(&lease, &[], &[]).await.unwrap());
    assert!(matches!(
        s.cancel(&new_job_id()).await,
        Err(JobStoreError::Refused(Refusal::NotFound(_)))
    ));
    let trail = s.transitions(&doomed).await.unwrap();
    assert_eq!(
        moves(&trail)[2..],
        [
            (Some(Pending), Running, 1),
            (Some(Running), Failed, 1),
            (Some(Failed), Pending, 0),
            (Some(Pending), Running, 1),
            (Some(Running), Completed, 1),
        ]
    );
    assert_eq!(trail[4].worker_id, None, "the studio's move");
}

async fn completion_records_outputs_and_trail(store: Store) {
    let s = &*store;
    let (client, _) = client(s).await;
    let id = pending_job(s, &client, &sha(1)).await;
    let (j, lease) = s
        .claim_on("w1", Some("c7i.large"), TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (j.status, j.attempts, j.worker_id.as_deref()),
        (Running, 1, Some("w1"))
    );
    assert!(j
        .lease_owner
        .as_deref()
        .is_some_and(|t| t.starts_with("w1/")));
    assert!(s.renew(&lease, TTL).await.unwrap());
    let outputs = vec![OutputRecord {
        name: "web".into(),
        key: format!("processed/{client}/{id}/web.jpg"),
        bytes: 10,
        sha256: "00".repeat(32),
        content_type: "image/jpeg".into(),
    }];
    let timings = vec![("fetch".to_string(), 0.5), ("decode".to_string(), 1.25)];
    assert!(s.complete(&lease, &outputs, &timings).await.unwrap());
    assert!(!s.renew(&lease, TTL).await.unwrap());
    let j = job(s, &id).await;
    assert_eq!(j.status, Completed);
    assert_eq!((j.outputs, j.timings), (outputs, timings));
    assert_eq!(j.instance_type.as_deref(), Some("c7i.large"));
    assert!(j.finished_at.is_some() && j.started_at.is_some() && j.lease_owner.is_none());
    let trail = s.transitions(&id).await.unwrap();
    assert_eq!(
        trail
            .iter()
            .map(|t| (t.from, t.to, t.attempt, t.worker_id.clone()))
            .collect::<Vec<_>>(),
        [
            (None, AwaitingUpload, 0, None),
            (Some(AwaitingUpload), Pending, 0, None),
            (Some(Pending), Running, 1, Some("w1".into())),
            (Some(Running), Completed, 1, Some("w1".into())),
        ]
    );
    assert!(trail
        .windows(2)
        .all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at));
    assert!(s.claim("w2", TTL).await.unwrap().is_none());
}

async fn clients_and_worker_records(store: Store) {
    let s = &*store;
    assert!(s.list_workers().await.unwrap().is_empty());
    let mut w = WorkerRecord {
        id: "i-0abc-123".into(),
        instance_type: "c7i.large".into(),
        state: WorkerState::Active,
        started_at: now_millis(),
        updated_at: now_millis(),
        jobs_done: 0,
    };
    s.put_worker(&w).await.unwrap();
    w.state = WorkerState::Draining;
    w.jobs_done = 2;
    s.put_worker(&w).await.unwrap();
    let other = WorkerRecord {
        id: "i-0def-456".into(),
        state: WorkerState::Stopped,
        ..w.clone()
    };
    s.put_worker(&other).await.unwrap();
    assert_eq!(s.list_workers().await.unwrap(), [w, other]);
    let (client, _) = client(s).await;
    let c = s.get_client(&client).await.unwrap().unwrap();
    assert!(matches!(
        s.create_client(&c).await,
        Err(JobStoreError::Duplicate(_))
    ));
    assert!(s.get_client("ffff").await.unwrap().is_none());
}
