//! Storage and job-store faults on AWS: the real worker over the real SDK
//! clients of S3 and DynamoDB, talking to the emulator (moto) through a
//! fault-injecting proxy (`support/fault_proxy.rs`) that answers chosen
//! requests with AWS errors (500 / 503 / throttling), drops connections, loses
//! answers to requests that took effect, or cuts bodies short.
//!
//! Transient faults are retried (by the SDK, then by the worker's
//! `RetryPolicy`) and the job completes exactly once; persistent faults end
//! in a clear failure (storage: the job fails with the cause after its
//! attempts; job store: the job is left to its lease and completed later);
//! no job is lost and no partial output is ever visible. Needs python3 (see
//! `scripts/moto`); `RAWFLOW_SKIP_AWS_TESTS=1` skips.

#![cfg(feature = "aws")]

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rawflow_jobs::auth::issue_token;
use rawflow_jobs::aws::aws_config::{self, BehaviorVersion, Region, SdkConfig};
use rawflow_jobs::aws::aws_sdk_s3::config::Credentials;
use rawflow_jobs::aws::{
    aws_sdk_dynamodb, aws_sdk_s3, create_table, DynamoJobStore, S3Config, S3ObjectStore,
};
use rawflow_jobs::ids::{new_client_id, now_millis};
use rawflow_jobs::uploads::{create_upload, on_object_created, EventOutcome, ObjectCreated};
use rawflow_jobs::worker::JobOutcome;
use rawflow_jobs::*;
use support::fault_proxy::{Fault, FaultProxy, Rule};
use support::moto::Moto;
use tokio::sync::Notify;

const RAW: &str = "studio-raw";
const PROCESSED: &str = "studio-processed";
const TABLE: &str = "rawflow-jobs";

/// The worker's retries: 3 tries, 2 ms then 4 ms apart.
const FAST: RetryPolicy = RetryPolicy {
    attempts: 3,
    first_delay: Duration::from_millis(2),
    max_delay: Duration::from_millis(20),
};

/// The SDK's retries: 3 attempts in all, backoff from 2 ms, and a retry
/// partition of its own without a retry quota (the SDK's token buckets are
/// shared by every client of a process: tests running side by side must not
/// drain each other's).
fn sdk_retry() -> (aws_config::retry::RetryConfig, String) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    (
        aws_config::retry::RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(2))
            .with_max_backoff(Duration::from_millis(20)),
        format!("fault-test-{}", NEXT.fetch_add(1, Ordering::SeqCst)),
    )
}

async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
        .retry_config(sdk_retry().0)
        .load()
        .await
}

/// S3 and DynamoDB clients for `endpoint` with the test retry settings.
async fn clients(endpoint: &str) -> (aws_sdk_s3::Client, aws_sdk_dynamodb::Client) {
    let sdk = sdk_config(endpoint).await;
    let (_, partition) = sdk_retry();
    let s3 = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .retry_partition(
            aws_sdk_s3::config::retry::RetryPartition::custom(format!("{partition}-s3"))
                .token_bucket(aws_sdk_s3::config::retry::TokenBucket::unlimited())
                .build(),
        )
        .build();
    let ddb = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .retry_partition(
            aws_sdk_dynamodb::config::retry::RetryPartition::custom(format!("{partition}-ddb"))
                .token_bucket(aws_sdk_dynamodb::config::retry::TokenBucket::unlimited())
                .build(),
        )
        .build();
    (
        aws_sdk_s3::Client::from_conf(s3),
        aws_sdk_dynamodb::Client::from_conf(ddb),
    )
}

/// Copies the input as one "copy" output; an input starting with `bad`
/// fails for good (not a RAW file).
struct CopyProcessor;

#[async_trait]
impl Processor for CopyProcessor {
    async fn process(&self, input: &Path, _recipe: &str) -> Result<ProcessOutput, ProcessError> {
        let bytes = tokio::fs::read(input)
            .await
            .map_err(|e| ProcessError::retryable(e.to_string()))?;
        if bytes.starts_with(b"bad") {
            return Err(ProcessError::permanent("not a RAW file"));
        }
        Ok(ProcessOutput {
            outputs: vec![RenderedOutput {
                name: "copy".into(),
                extension: "bin".into(),
                content_type: "application/octet-stream".into(),
                bytes,
            }],
            timings: vec![("copy".into(), 0.0)],
        })
    }
}

type AwsWorker = Worker<S3ObjectStore, DynamoJobStore, CopyProcessor>;

/// The emulator, the proxy in front of it, stores through the proxy (for
/// the worker) and straight to the emulator (to set up and to check).
struct Env {
    proxy: FaultProxy,
    objects: Arc<S3ObjectStore>,
    jobs: Arc<DynamoJobStore>,
    direct_objects: S3ObjectStore,
    direct_jobs: DynamoJobStore,
    client: String,
    scratch: tempfile::TempDir,
    _moto: Moto,
}

async fn env() -> Option<Env> {
    let moto = Moto::start()?;
    let proxy = FaultProxy::start(&moto.endpoint).await;
    let (s3, ddb) = clients(&moto.endpoint).await;
    for b in [RAW, PROCESSED] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    create_table(&ddb, TABLE).await.unwrap();
    let direct_objects = S3ObjectStore::new(s3, S3Config::new(RAW, PROCESSED));
    let direct_jobs = DynamoJobStore::new(ddb, TABLE);
    let (s3, ddb) = clients(&proxy.endpoint).await;
    let client = new_client_id();
    direct_jobs
        .create_client(&Client {
            id: client.clone(),
            name: "studio".into(),
            token_hash: issue_token(&client).hash,
            created_at: now_millis(),
        })
        .await
        .unwrap();
    Some(Env {
        objects: Arc::new(S3ObjectStore::new(s3, S3Config::new(RAW, PROCESSED))),
        jobs: Arc::new(DynamoJobStore::new(ddb, TABLE)),
        proxy,
        direct_objects,
        direct_jobs,
        client,
        scratch: tempfile::tempdir().unwrap(),
        _moto: moto,
    })
}

/// Bytes that stand for a RAW file (64 KiB, not all alike).
fn raw_bytes(seed: u32) -> Vec<u8> {
    (0..64 * 1024u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

impl Env {
    /// Put a RAW into the RAW bucket and record its job (the S3 event path).
    async fn upload(&self, bytes: &[u8]) -> String {
        let ticket = create_upload(
            &self.direct_jobs,
            &LinkSigner::new([7; 32]),
            &self.client,
            "IMG_1.DNG",
            "web",
            Duration::from_secs(600),
        )
        .await
        .unwrap();
        let key = ticket.key;
        let meta = self
            .direct_objects
            .put_bytes(&key, bytes, PutMode::CreateNew)
            .await
            .unwrap();
        let event = ObjectCreated {
            key: key.to_string(),
            size: meta.size,
            sha256: meta.sha256.unwrap(),
        };
        match on_object_created(&self.direct_jobs, &event, 3)
            .await
            .unwrap()
        {
            EventOutcome::Created(j) => j.id,
            other => panic!("{other:?}"),
        }
    }

    fn worker(&self, id: &str, lease: Duration) -> AwsWorker {
        Worker::new(
            Arc::clone(&self.objects),
            Arc::clone(&self.jobs),
            Arc::new(CopyProcessor),
            WorkerConfig {
                worker_id: id.into(),
                lease_ttl: lease,
                poll_interval: Duration::from_millis(100),
                scratch_dir: self.scratch.path().to_path_buf(),
            },
            Arc::new(Notify::new()),
        )
        .with_retry(FAST)
    }

    async fn job(&self, id: &str) -> Job {
        self.direct_jobs.get_job(id).await.unwrap().unwrap()
    }

    /// How many times the job entered `status` (its audit trail).
    async fn entered(&self, id: &str, status: JobStatus) -> usize {
        self.direct_jobs
            .transitions(id)
            .await
            .unwrap()
            .iter()
            .filter(|t| t.to == status)
            .count()
    }

    /// The objects under the job's output prefix, each checked whole.
    async fn outputs(&self, job: &Job, expected: &[u8]) -> usize {
        let prefix = format!("processed/{}/{}/", job.client_id, job.id);
        let listed = self.direct_objects.list(&prefix).await.unwrap();
        for meta in &listed {
            let bytes = self.direct_objects.get_bytes(&meta.key).await.unwrap();
            assert_eq!(bytes, expected, "partial output {}", meta.key);
        }
        listed.len()
    }

    /// The RAW input is still where it was uploaded, unchanged.
    async fn assert_input_kept(&self, job: &Job, expected: &[u8]) {
        let key = ObjectKey::new(&job.input_key).unwrap();
        assert_eq!(self.direct_objects.get_bytes(&key).await.unwrap(), expected);
    }

    fn report(&self, test: &str) {
        let log = self.proxy.log();
        eprintln!(
            "{test}: {} faults injected, {} requests forwarded",
            log.len(),
            self.proxy.forwarded()
        );
        for f in &log {
            eprintln!("  {:?} <- {}", f.fault, f.request);
        }
    }
}

/// Every call of a job meets a fault, and some calls several: S3 GET and
/// PUT beyond the SDK's own attempts (so the worker's retry steps in), a
/// body cut short, DynamoDB claim and completion throttled, a read and an
/// index query failing. The job completes once, with its output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_s3_and_dynamodb_faults_are_retried_and_the_job_completes_once() {
    let Some(e) = env().await else { return };
    let input = raw_bytes(1);
    let id = e.upload(&input).await;
    let get = |f| Rule::s3("GET", &format!("/{RAW}/")).fault(f);
    let put = |f| Rule::s3("PUT", &format!("/{PROCESSED}/")).fault(f);
    // The fetch: three failed SDK attempts, then a body cut short.
    e.proxy.add(get(Fault::InternalError));
    e.proxy.add(get(Fault::Throttle));
    e.proxy.add(get(Fault::DropRequest));
    e.proxy.add(get(Fault::TruncateBody));
    // The store: three failed SDK attempts (one of which landed).
    e.proxy.add(put(Fault::Unavailable));
    e.proxy.add(put(Fault::DropResponse));
    e.proxy.add(put(Fault::InternalError));
    // The claim: its index query, its read and its write.
    e.proxy.add(Rule::dynamo("Query").fault(Fault::Throttle));
    e.proxy
        .add(Rule::dynamo("GetItem").fault(Fault::Unavailable));
    e.proxy.add(
        Rule::dynamo("TransactWriteItems")
            .body_contains("lease_owner")
            .fault(Fault::InternalError),
    );
    // The completion: throttled twice.
    e.proxy.add(
        Rule::dynamo("TransactWriteItems")
            .body_contains("\"completed\"")
            .fault(Fault::Throttle)
            .times(2),
    );

    let w = e.worker("w1", Duration::from_secs(30));
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Completed(id.clone()))
    );
    e.report("transient");
    assert_eq!(e.proxy.pending(), 0, "every planned fault was injected");
    assert_eq!(e.proxy.injected(), 12);

    let job = e.job(&id).await;
    assert_eq!((job.status, job.attempts), (JobStatus::Completed, 1));
    assert_eq!(e.entered(&id, JobStatus::Completed).await, 1);
    assert_eq!(e.entered(&id, JobStatus::Running).await, 1);
    assert_eq!(job.outputs.len(), 1);
    let out = ObjectKey::new(&job.outputs[0].key).unwrap();
    assert_eq!(e.direct_objects.get_bytes(&out).await.unwrap(), input);
    assert_eq!(e.outputs(&job, &input).await, 1);
    assert!(w.run_once().await.unwrap().is_none(), "nothing left to do");
}

/// Persistent storage faults: a RAW that cannot be fetched (every
/// connection dropped) and an output that cannot be stored (S3 keeps
/// answering 500). Each job fails after its attempts with a reason that
/// names the cause; its input stays in place and no output appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_s3_faults_fail_the_job_with_the_cause_and_lose_nothing() {
    let Some(e) = env().await else { return };
    let w = e.worker("w1", Duration::from_secs(30));
    let mut outcomes = Vec::new();

    let fetch_input = raw_bytes(2);
    let fetch_id = e.upload(&fetch_input).await;
    e.proxy.add(
        Rule::s3("GET", &format!("/{RAW}/"))
            .fault(Fault::DropRequest)
            .always(),
    );
    while let Some(o) = w.run_once().await.unwrap() {
        outcomes.push(o);
    }
    // 3 attempts of the job × 3 tries of the worker × 3 SDK attempts.
    assert_eq!(e.proxy.injected(), 27);
    e.proxy.clear();

    let store_input = raw_bytes(3);
    let store_id = e.upload(&store_input).await;
    e.proxy.add(
        Rule::s3("PUT", &format!("/{PROCESSED}/"))
            .fault(Fault::InternalError)
            .always(),
    );
    while let Some(o) = w.run_once().await.unwrap() {
        outcomes.push(o);
    }
    e.report("persistent storage");
    assert_eq!(e.proxy.injected(), 54);
    e.proxy.clear();

    use JobOutcome::*;
    assert_eq!(
        outcomes,
        [
            Retrying(fetch_id.clone()),
            Retrying(fetch_id.clone()),
            Failed(fetch_id.clone()),
            Retrying(store_id.clone()),
            Retrying(store_id.clone()),
            Failed(store_id.clone()),
        ]
    );
    for (id, input, cause) in [
        (
            &fetch_id,
            &fetch_input,
            ["fetching the input", "dispatch failure"],
        ),
        (
            &store_id,
            &store_input,
            ["storing processed/", "InternalError"],
        ),
    ] {
        let job = e.job(id).await;
        assert_eq!((job.status, job.attempts), (JobStatus::Failed, 3));
        let reason = job.error.clone().unwrap();
        eprintln!("job {id} failed: {reason}");
        for needle in cause.iter().chain(&["gave up after 3 attempts"]) {
            assert!(reason.contains(needle), "{needle:?} not in {reason:?}");
        }
        assert!(job.outputs.is_empty());
        assert_eq!(e.outputs(&job, input).await, 0, "no output for {id}");
        assert_eq!(e.entered(id, JobStatus::Completed).await, 0);
        e.assert_input_kept(&job, input).await;
    }
}

/// Persistent job-store faults: the completion cannot be recorded
/// (DynamoDB keeps answering 500). The worker reports the error and leaves
/// the job to its lease (the whole output is already stored); once DynamoDB
/// is back, but throttling the first claims, another worker backs off,
/// reclaims the job when the lease has expired, and completes it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_dynamodb_faults_leave_the_job_to_its_lease_and_it_completes_once() {
    let Some(e) = env().await else { return };
    let input = raw_bytes(4);
    let id = e.upload(&input).await;
    e.proxy.add(
        Rule::dynamo("TransactWriteItems")
            .body_contains("\"completed\"")
            .fault(Fault::InternalError)
            .always(),
    );
    // Renewed every third of it while the job runs: ample on a loaded machine.
    let lease = Duration::from_secs(4);
    let w1 = e.worker("w1", lease);
    let err = w1.run_once().await.unwrap_err();
    assert!(
        err.to_string().contains("InternalServerError"),
        "the cause is named: {err}"
    );
    // 3 tries of the worker × 3 SDK attempts.
    assert_eq!(e.proxy.injected(), 9);
    let job = e.job(&id).await;
    assert_eq!((job.status, job.attempts), (JobStatus::Running, 1));
    assert_eq!(e.outputs(&job, &input).await, 1, "the output is whole");

    e.proxy.clear();
    // Claims fail twice over (3 SDK attempts each), then once more.
    e.proxy
        .add(Rule::dynamo("Query").fault(Fault::Throttle).times(7));
    let w2 = Arc::new(e.worker("w2", Duration::from_secs(30)));
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn({
        let w2 = Arc::clone(&w2);
        async move { w2.run(rx).await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while e.job(&id).await.status != JobStatus::Completed {
        assert!(tokio::time::Instant::now() < deadline, "job not completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    task.await.unwrap();
    e.report("persistent job store");
    assert_eq!(e.proxy.pending(), 0);
    assert_eq!(e.proxy.injected(), 16);

    let job = e.job(&id).await;
    assert_eq!((job.status, job.attempts), (JobStatus::Completed, 2));
    assert_eq!(job.worker_id.as_deref(), Some("w2"));
    assert_eq!(e.entered(&id, JobStatus::Completed).await, 1);
    let out = ObjectKey::new(&job.outputs[0].key).unwrap();
    assert_eq!(e.direct_objects.get_bytes(&out).await.unwrap(), input);
}

/// DynamoDB applied a write but its answer was lost (the connection
/// dropped): the SDK's retry then fails on the job's revision, and the
/// worker's own retry finds the job changed. The store recognises its own
/// write by the lease token: the claim is taken (not left behind with a
/// lease nobody holds), the completion and the failure are reported as such
/// (not as a lost lease).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_to_dynamodb_writes_that_landed_are_recognised() {
    let Some(e) = env().await else { return };
    let input = raw_bytes(5);
    let id = e.upload(&input).await;
    e.proxy.add(
        Rule::dynamo("TransactWriteItems")
            .body_contains("lease_owner")
            .fault(Fault::DropResponse),
    );
    // Every SDK attempt of the first completion call: the worker retries.
    e.proxy.add(
        Rule::dynamo("TransactWriteItems")
            .body_contains("\"completed\"")
            .fault(Fault::DropResponse)
            .times(3),
    );
    let w = e.worker("w1", Duration::from_secs(30));
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Completed(id.clone()))
    );
    let job = e.job(&id).await;
    assert_eq!((job.status, job.attempts), (JobStatus::Completed, 1));
    assert_eq!(e.entered(&id, JobStatus::Running).await, 1);
    assert_eq!(e.entered(&id, JobStatus::Completed).await, 1);
    assert_eq!(e.outputs(&job, &input).await, 1);

    let bad = b"bad input".to_vec();
    let bad_id = e.upload(&bad).await;
    e.proxy.add(
        Rule::dynamo("TransactWriteItems")
            .body_contains("\"failed\"")
            .fault(Fault::DropResponse),
    );
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(JobOutcome::Failed(bad_id.clone()))
    );
    e.report("lost answers");
    assert_eq!(e.proxy.pending(), 0);
    assert_eq!(e.proxy.injected(), 5);
    let job = e.job(&bad_id).await;
    assert_eq!((job.status, job.attempts), (JobStatus::Failed, 1));
    assert_eq!(job.error.as_deref(), Some("not a RAW file"));
    assert_eq!(e.entered(&bad_id, JobStatus::Failed).await, 1);
}
