//! The Lambdas end to end against the AWS emulator (moto serves S3,
//! DynamoDB and EC2): upload link → PUT → S3 event → orchestrator (job
//! pending, worker instance started) → worker (in-process) → download link
//! → the output's bytes.
//!
//! Needs python3 (moto is installed into a venv by `scripts/moto`); set
//! `RAWFLOW_SKIP_AWS_TESTS=1` to skip.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rawflow_jobs::auth::{hash_token, issue_token};
use rawflow_jobs::aws::{
    create_table, dynamo_client, s3_client, DynamoJobStore, S3Config, S3ObjectStore,
};
use rawflow_jobs::{
    JobFilter, JobStatus, JobStore, ObjectStore, ProcessError, ProcessOutput, Processor,
    RenderedOutput, Worker, WorkerConfig, WorkerRecord, WorkerState,
};
use rawflow_lambdas::aws_sdk_ec2;
use rawflow_lambdas::aws_sdk_ec2::types::InstanceStateName;
use rawflow_lambdas::config::{DownloadConfig, FleetConfig, UploadConfig};
use rawflow_lambdas::download::{handle_download, DownloadDeps};
use rawflow_lambdas::fleet::Ec2Fleet;
use rawflow_lambdas::orchestrator::{
    handle_s3_event, handle_sweep, EventBridgeEvent, OrchestratorDeps, OrchestratorReport,
};
use rawflow_lambdas::upload::{handle_upload, UploadDeps};
use support::fault_proxy::{Fault, FaultProxy, Rule};
use support::moto::Moto;
use support::*;

const RAW: &str = "studio-raw";
const PROCESSED: &str = "studio-processed";
const TABLE: &str = "rawflow-jobs";

/// A stand-in for the engine: the "developed" output is the input reversed.
struct Reverse;

#[async_trait]
impl Processor for Reverse {
    async fn process(&self, input: &Path, recipe: &str) -> Result<ProcessOutput, ProcessError> {
        let mut bytes = tokio::fs::read(input)
            .await
            .map_err(|e| ProcessError::retryable(e.to_string()))?;
        bytes.reverse();
        Ok(ProcessOutput {
            outputs: vec![RenderedOutput {
                name: recipe.to_string(),
                extension: "jpg".into(),
                content_type: "image/jpeg".into(),
                bytes,
            }],
            timings: vec![("reverse".into(), 0.0)],
        })
    }
}

struct Studio {
    _moto: Moto,
    store: S3ObjectStore,
    jobs: Arc<DynamoJobStore>,
    ec2: aws_sdk_ec2::Client,
    admin_token: String,
}

async fn studio() -> Option<Studio> {
    let moto = Moto::start()?;
    let endpoint = moto.endpoint.clone();
    Some(studio_on(moto, &endpoint).await)
}

/// The studio's clients talk to `endpoint` (the emulator, or a fault proxy
/// in front of it).
async fn studio_on(moto: Moto, endpoint: &str) -> Studio {
    use rawflow_jobs::aws::aws_config;
    use rawflow_jobs::aws::aws_sdk_s3::config::Credentials;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
        .load()
        .await;
    let s3 = s3_client(&sdk);
    for b in [RAW, PROCESSED] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let ddb = dynamo_client(&sdk);
    create_table(&ddb, TABLE).await.unwrap();
    Studio {
        store: S3ObjectStore::new(s3, S3Config::new(RAW, PROCESSED)),
        jobs: Arc::new(DynamoJobStore::new(ddb, TABLE)),
        ec2: aws_sdk_ec2::Client::new(&sdk),
        admin_token: issue_token("admin").token,
        _moto: moto,
    }
}

impl Studio {
    fn upload_deps(&self, multipart_threshold: u64) -> UploadDeps {
        UploadDeps {
            jobs: self.jobs.clone(),
            store: self.store.clone(),
            config: UploadConfig {
                max_upload_bytes: 64 << 20,
                multipart_threshold,
                part_size: 5 << 20,
                link_ttl: Duration::from_secs(600),
                admin_token_sha256: hash_token(&self.admin_token),
                recipes: vec!["web".into()],
            },
        }
    }

    fn download_deps(&self) -> DownloadDeps {
        DownloadDeps {
            jobs: self.jobs.clone(),
            store: self.store.clone(),
            config: DownloadConfig {
                link_ttl: Duration::from_secs(900),
            },
        }
    }

    /// The orchestrator over this studio's table and `instances`.
    fn orchestrator(&self, instances: &[&str]) -> OrchestratorDeps {
        OrchestratorDeps {
            jobs: self.jobs.clone(),
            fleet: Arc::new(Ec2Fleet::new(self.ec2.clone())),
            config: FleetConfig {
                instance_ids: instances.iter().map(|s| s.to_string()).collect(),
                jobs_per_worker: 20,
                max_workers: u32::try_from(instances.len()).unwrap(),
                max_attempts: 3,
                stack: "rawflow".into(),
            },
            raw_bucket: RAW.into(),
        }
    }

    /// Upload `bytes` for `client` and deliver S3's event (key URL-encoded)
    /// to the orchestrator twice; the job id and both reports.
    async fn upload_and_notify(
        &self,
        deps: &OrchestratorDeps,
        client: &str,
        filename: &str,
        bytes: &[u8],
    ) -> (String, OrchestratorReport, OrchestratorReport) {
        let (job_id, key) = self.upload(client, filename, bytes).await;
        let head = self
            .store
            .client()
            .head_object()
            .bucket(RAW)
            .key(&key)
            .send()
            .await
            .unwrap();
        let etag = head.e_tag().unwrap().to_string();
        let event = || s3_put_event(RAW, &key, bytes.len() as u64, &etag);
        let first = handle_s3_event(event(), deps).await.unwrap();
        let second = handle_s3_event(event(), deps).await.unwrap();
        (job_id, first, second)
    }

    /// A worker instance, launched then stopped (as the stack leaves it).
    async fn stopped_worker_instance(&self) -> String {
        let run = self
            .ec2
            .run_instances()
            .image_id("ami-12c6146b")
            .instance_type(aws_sdk_ec2::types::InstanceType::from("c7i.large"))
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .unwrap();
        let id = run.instances()[0].instance_id().unwrap().to_string();
        self.ec2
            .stop_instances()
            .instance_ids(&id)
            .send()
            .await
            .unwrap();
        assert_eq!(self.instance_state(&id).await, InstanceStateName::Stopped);
        id
    }

    async fn instance_state(&self, id: &str) -> InstanceStateName {
        let out = self
            .ec2
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .unwrap();
        out.reservations()[0].instances()[0]
            .state()
            .unwrap()
            .name()
            .unwrap()
            .clone()
    }

    /// Ask the upload function for a link and PUT `bytes` to it.
    async fn upload(&self, client: &str, filename: &str, bytes: &[u8]) -> (String, String) {
        let ask = serde_json::json!({
            "client_id": client, "filename": filename, "recipe": "web", "size": bytes.len(),
        });
        let r = handle_upload(
            upload_event("/uploads", Some(&self.admin_token), &ask),
            &self.upload_deps(100 << 20),
        )
        .await
        .unwrap();
        assert_eq!(r.status_code, 201, "{:?}", r.body);
        let body = body_json(&r);
        let headers: Vec<(String, String)> =
            serde_json::from_value(body["headers"].clone()).unwrap();
        let (status, _, resp) = http("PUT", body["url"].as_str().unwrap(), &headers, bytes);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
        (
            body["job_id"].as_str().unwrap().to_string(),
            body["key"].as_str().unwrap().to_string(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_event_worker_download_end_to_end() {
    let Some(studio) = studio().await else { return };
    let instance = studio.stopped_worker_instance().await;
    let (alice, alice_token) = new_client(studio.jobs.as_ref()).await;
    let (_bob, bob_token) = new_client(studio.jobs.as_ref()).await;

    // The studio uploads Alice's RAW straight to S3 with a presigned PUT.
    let raw: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (job_id, key) = studio.upload(&alice, "Shoot 1.DNG", &raw).await;
    let head = studio
        .store
        .client()
        .head_object()
        .bucket(RAW)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(raw.len() as i64));
    assert_eq!(
        head.server_side_encryption(),
        Some(&rawflow_jobs::aws::aws_sdk_s3::types::ServerSideEncryption::Aes256)
    );

    // S3's event reaches the orchestrator: job pending, worker started.
    let deps = OrchestratorDeps {
        jobs: studio.jobs.clone(),
        fleet: Arc::new(Ec2Fleet::new(studio.ec2.clone())),
        config: FleetConfig {
            instance_ids: vec![instance.clone()],
            jobs_per_worker: 20,
            max_workers: 1,
            max_attempts: 3,
            stack: "rawflow".into(),
        },
        raw_bucket: RAW.into(),
    };
    let etag = head.e_tag().unwrap().to_string();
    let event = || s3_put_event(RAW, &key, raw.len() as u64, &etag);
    let report = handle_s3_event(event(), &deps).await.unwrap();
    assert_eq!(report.created, [job_id.clone()]);
    assert_eq!(report.started, [instance.clone()]);
    let job = studio.jobs.get_job(&job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!(job.filename, "Shoot 1.DNG");
    assert!(matches!(
        studio.instance_state(&instance).await,
        InstanceStateName::Running | InstanceStateName::Pending
    ));
    // A repeated delivery: no second job, nothing more to start.
    let again = handle_s3_event(event(), &deps).await.unwrap();
    assert_eq!(again.duplicates, [job_id.clone()]);
    assert!(again.started.is_empty());

    // Not developed yet: 409.
    let download = studio.download_deps();
    let r = handle_download(download_event(&job_id, Some(&alice_token), &[]), &download)
        .await
        .unwrap();
    assert_eq!(r.status_code, 409);

    // The worker develops it (the jobs crate's worker loop, in-process).
    let scratch = tempfile::tempdir().unwrap();
    let worker = Worker::new(
        Arc::new(studio.store.clone()),
        studio.jobs.clone(),
        Arc::new(Reverse),
        WorkerConfig {
            worker_id: instance.clone(),
            lease_ttl: Duration::from_secs(60),
            poll_interval: Duration::from_millis(100),
            scratch_dir: scratch.path().to_path_buf(),
        },
        Arc::new(tokio::sync::Notify::new()),
    );
    assert!(worker.run_once().await.unwrap().is_some());
    let job = studio.jobs.get_job(&job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);

    // Alice gets a link that fetches the output from S3; Bob gets 404.
    let r = handle_download(download_event(&job_id, Some(&alice_token), &[]), &download)
        .await
        .unwrap();
    assert_eq!(r.status_code, 200);
    let url = body_json(&r)["url"].as_str().unwrap().to_string();
    let (status, _, got) = http("GET", &url, &[], b"");
    assert_eq!(status, 200);
    let mut want = raw.clone();
    want.reverse();
    assert_eq!(got, want);
    let r = handle_download(
        download_event(&job_id, Some(&alice_token), &[("redirect", "1")]),
        &download,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 302);
    let r = handle_download(download_event(&job_id, Some(&bob_token), &[]), &download)
        .await
        .unwrap();
    assert_eq!(r.status_code, 404);
    let r = handle_download(download_event(&job_id, None, &[]), &download)
        .await
        .unwrap();
    assert_eq!(r.status_code, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_upload_in_presigned_parts() {
    let Some(studio) = studio().await else { return };
    let (client, _) = new_client(studio.jobs.as_ref()).await;
    let size: usize = (5 << 20) + 12_345;
    let bytes: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    let deps = studio.upload_deps(5 << 20);
    let ask = serde_json::json!({
        "client_id": client, "filename": "BIG.DNG", "recipe": "web", "size": size,
    });
    let r = handle_upload(
        upload_event("/uploads", Some(&studio.admin_token), &ask),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 201, "{:?}", r.body);
    let body = body_json(&r);
    assert_eq!(body["kind"], "multipart");
    let parts = body["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    let mut done = Vec::new();
    let mut offset = 0usize;
    for p in parts {
        let len = p["size"].as_u64().unwrap() as usize;
        let (status, headers, resp) = http(
            "PUT",
            p["url"].as_str().unwrap(),
            &[],
            &bytes[offset..offset + len],
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
        offset += len;
        let etag = headers.iter().find(|(k, _)| k == "etag").unwrap().1.clone();
        done.push(serde_json::json!({"part_number": p["part_number"], "etag": etag}));
    }
    assert_eq!(offset, size);
    let job_id = body["job_id"].as_str().unwrap();
    let complete = serde_json::json!({"upload_id": body["upload_id"], "parts": done});
    let r = handle_upload(
        upload_event(
            &format!("/uploads/{job_id}/complete"),
            Some(&studio.admin_token),
            &complete,
        ),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 200, "{:?}", r.body);
    let key = body["key"].as_str().unwrap();
    let got = studio
        .store
        .get_bytes(&rawflow_jobs::ObjectKey::new(key).unwrap())
        .await
        .unwrap();
    assert!(got == bytes, "multipart object differs");
}

fn ec2_stopped(instance: &str) -> EventBridgeEvent {
    serde_json::from_value(serde_json::json!({
        "version": "0", "id": "e1", "source": "aws.ec2", "account": "123456789012",
        "time": "2026-12-03T18:00:00Z", "region": "us-east-1",
        "resources": [format!("arn:aws:ec2:us-east-1:123456789012:instance/{instance}")],
        "detail-type": "EC2 Instance State-change Notification",
        "detail": {"instance-id": instance, "state": "stopped"},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_starts_the_worker_even_when_the_index_lags() {
    let Some(moto) = Moto::start() else { return };
    // Every query of the by_status index answers as an index that has not
    // caught up: no item. Everything else reaches the emulator.
    let proxy = FaultProxy::start(&moto.endpoint).await;
    let studio = studio_on(moto, &proxy.endpoint).await;
    proxy.add(
        Rule::dynamo("Query")
            .body_contains("by_status")
            .fault(Fault::EmptyQuery)
            .always(),
    );
    let instance = studio.stopped_worker_instance().await;
    let deps = studio.orchestrator(&[&instance]);
    let (alice, _) = new_client(studio.jobs.as_ref()).await;
    let (job_id, first, again) = studio
        .upload_and_notify(&deps, &alice, "Lag 1.DNG", b"raw bytes")
        .await;
    // The index shows no pending job…
    let listed = studio
        .jobs
        .list_jobs(&JobFilter {
            status: Some(JobStatus::Pending),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert!(listed.is_empty(), "the index lags");
    assert!(proxy.injected() >= 2, "{:?}", proxy.log());
    // …but the invocation that recorded the job started a worker for it.
    assert_eq!(first.created, [job_id.clone()]);
    assert_eq!((first.pending, first.wanted), (1, 1));
    assert_eq!(first.started, [instance.clone()]);
    assert_eq!(
        studio.jobs.get_job(&job_id).await.unwrap().unwrap().status,
        JobStatus::Pending
    );
    // The repeated delivery: one job, and the booting instance counts.
    assert_eq!(again.duplicates, [job_id]);
    assert!(again.created.is_empty() && again.started.is_empty());
    assert_eq!(again.active, [instance.clone()]);
    assert!(matches!(
        studio.instance_state(&instance).await,
        InstanceStateName::Running | InstanceStateName::Pending
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_recorded_while_the_worker_shuts_down_is_started_by_the_state_change_sweep() {
    let Some(studio) = studio().await else { return };
    let instance = studio.stopped_worker_instance().await;
    let deps = studio.orchestrator(&[&instance]);
    studio
        .ec2
        .start_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    // The worker found no work: it recorded itself stopped and runs its
    // shutdown command; EC2 still reports the instance running.
    let now = rawflow_jobs::ids::now_millis();
    let record = WorkerRecord {
        id: instance.clone(),
        instance_type: "c7i.large".into(),
        state: WorkerState::Stopped,
        started_at: now - 60_000,
        updated_at: now,
        jobs_done: 1,
    };
    studio.jobs.put_worker(&record).await.unwrap();
    assert_eq!(
        studio.instance_state(&instance).await,
        InstanceStateName::Running
    );

    let (alice, _) = new_client(studio.jobs.as_ref()).await;
    let (job_id, first, again) = studio
        .upload_and_notify(&deps, &alice, "Late.DNG", b"late raw")
        .await;
    assert_eq!(first.created, [job_id.clone()]);
    // Running, but its worker is going: stopping, nothing to start yet.
    for r in [&first, &again] {
        assert!(r.active.is_empty() && r.started.is_empty(), "{r:?}");
        assert_eq!(r.stopping, [instance.clone()]);
    }
    // The schedule, while it still shuts down: the same answer.
    let scheduled: EventBridgeEvent = serde_json::from_value(serde_json::json!({
        "source": "aws.events", "detail-type": "Scheduled Event", "detail": {},
    }))
    .unwrap();
    let r = handle_sweep(&scheduled, &deps).await.unwrap();
    assert_eq!(r.stopping, [instance.clone()]);
    // The sweep's metrics for the alarms: one job waiting, one instance up
    // with no job of its own since its worker's last record.
    let m = r.metrics.clone().unwrap();
    assert_eq!((m.pending_jobs, m.running_workers), (1, 1));
    assert!(m.oldest_pending_age_seconds >= 0.0 && m.oldest_pending_age_seconds < 120.0);
    assert!(m.longest_idle_worker_seconds < 120.0, "{m:?}");

    // The instance reaches stopped: EventBridge's state-change rule runs the
    // sweep, which starts it for the job.
    studio
        .ec2
        .stop_instances()
        .instance_ids(&instance)
        .send()
        .await
        .unwrap();
    let r = handle_sweep(&ec2_stopped(&instance), &deps).await.unwrap();
    assert_eq!((r.pending, r.started.clone()), (1, vec![instance.clone()]));
    assert!(matches!(
        studio.instance_state(&instance).await,
        InstanceStateName::Running | InstanceStateName::Pending
    ));
    // The previous run's "stopped" record no longer makes it look stopping.
    let workers = studio.jobs.list_workers().await.unwrap();
    assert_eq!(workers[0].state, WorkerState::Active);
    let r = handle_sweep(&scheduled, &deps).await.unwrap();
    assert_eq!(r.active, [instance.clone()]);
    assert!(r.started.is_empty() && r.stopping.is_empty());
    assert_eq!(
        studio.jobs.get_job(&job_id).await.unwrap().unwrap().status,
        JobStatus::Pending
    );
}
