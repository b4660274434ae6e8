//! The handlers on AWS-shaped sample events, without AWS: the embedded
//! (SQLite) job store, a fake fleet, and an S3 client that only presigns.

mod support;

use std::sync::Arc;
use std::time::Duration;

use rawflow_jobs::auth::{hash_token, issue_token};
use rawflow_jobs::aws::aws_sdk_s3;
use rawflow_jobs::aws::{S3Config, S3ObjectStore};
use rawflow_jobs::{JobStatus, JobStore, SqliteJobStore, WorkerRecord, WorkerState};
use rawflow_lambdas::admin::{handle_admin, AdminDeps};
use rawflow_lambdas::config::{DownloadConfig, FleetConfig, UploadConfig};
use rawflow_lambdas::download::{handle_download, DownloadDeps};
use rawflow_lambdas::fleet::InstanceState;
use rawflow_lambdas::lambda_runtime::{Context, LambdaEvent};
use rawflow_lambdas::orchestrator::{
    handle, handle_s3_event, handle_sweep, EventBridgeEvent, OrchestratorDeps, OrchestratorError,
};
use rawflow_lambdas::upload::{handle_upload, UploadDeps};
use support::*;

const RAW: &str = "studio-raw";

fn sqlite() -> (tempfile::TempDir, Arc<SqliteJobStore>) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = SqliteJobStore::open(dir.path().join("jobs.db")).unwrap();
    (dir, Arc::new(jobs))
}

/// An S3 store whose client never connects (presigning is local).
fn offline_store() -> S3ObjectStore {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .endpoint_url("http://127.0.0.1:9")
        .force_path_style(true)
        .build();
    S3ObjectStore::new(
        aws_sdk_s3::Client::from_conf(conf),
        S3Config::new(RAW, "studio-processed"),
    )
}

fn fleet_config(ids: &[&str], per: u32, max: u32) -> FleetConfig {
    FleetConfig {
        instance_ids: ids.iter().map(|s| s.to_string()).collect(),
        jobs_per_worker: per,
        max_workers: max,
        max_attempts: 3,
        stack: "rawflow".into(),
    }
}

fn orchestrator(
    jobs: Arc<SqliteJobStore>,
    fleet: Arc<FakeFleet>,
    config: FleetConfig,
) -> OrchestratorDeps {
    OrchestratorDeps {
        jobs,
        fleet,
        config,
        raw_bucket: RAW.into(),
    }
}

#[test]
fn sample_events_decode() {
    let ev: rawflow_lambdas::aws_lambda_events::s3::S3Event =
        serde_json::from_value(fixture("s3-put.json")).unwrap();
    assert_eq!(ev.records.len(), 1);
    assert_eq!(
        ev.records[0].event_name.as_deref(),
        Some("ObjectCreated:Put")
    );
    let key = ev.records[0].s3.object.key.as_deref().unwrap();
    assert_eq!(
        rawflow_jobs::aws::s3_event_key(key).as_deref(),
        Some("raw/0011223344556677/ffeeddccbbaa998877665544/IMG 0001(1).DNG")
    );
    for f in ["apigw-v2-download.json", "apigw-v2-upload.json"] {
        let _: rawflow_lambdas::aws_lambda_events::apigw::ApiGatewayV2httpRequest =
            serde_json::from_value(fixture(f)).unwrap();
    }
}

#[tokio::test]
async fn s3_event_records_the_job_once_and_starts_the_stopped_worker() {
    let (_d, jobs) = sqlite();
    let fleet = Arc::new(FakeFleet::new(&[("i-worker1", InstanceState::Stopped)]));
    let deps = orchestrator(
        jobs.clone(),
        fleet.clone(),
        fleet_config(&["i-worker1"], 20, 1),
    );
    let (client, _) = new_client(jobs.as_ref()).await;
    // A space in the file name: S3 sends it as `+`.
    let (job_id, key) = announce(jobs.as_ref(), &client, "My Photo (1).DNG").await;

    let report = handle_s3_event(s3_put_event(RAW, &key, 1024, "\"0123abcd\""), &deps)
        .await
        .unwrap();
    assert_eq!(report.created, [job_id.clone()]);
    assert_eq!(report.started, ["i-worker1"]);
    let job = jobs.get_job(&job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!(
        (job.input_bytes, job.input_sha256.as_str()),
        (1024, "0123abcd")
    );
    assert_eq!(job.filename, "My Photo (1).DNG");

    // At-least-once delivery: the same event again makes no job and, the
    // worker booting, starts nothing.
    let again = handle_s3_event(s3_put_event(RAW, &key, 1024, "0123abcd"), &deps)
        .await
        .unwrap();
    assert_eq!(again.duplicates, [job_id]);
    assert!(again.created.is_empty() && again.started.is_empty());
    assert_eq!(again.active, ["i-worker1"]);
    assert_eq!(fleet.started.lock().unwrap().len(), 1);
}

fn eventbridge(detail_type: &str, detail: serde_json::Value) -> EventBridgeEvent {
    serde_json::from_value(serde_json::json!({
        "version": "0", "id": "e1", "source": "aws.ec2", "account": "123456789012",
        "time": "2026-12-03T18:00:00Z", "region": "us-east-1", "resources": [],
        "detail-type": detail_type, "detail": detail,
    }))
    .unwrap()
}

#[tokio::test]
async fn a_stopping_worker_leaves_the_job_to_the_state_change_sweep() {
    let (_d, jobs) = sqlite();
    let fleet = Arc::new(FakeFleet::new(&[("i-w", InstanceState::Stopping)]));
    let deps = orchestrator(jobs.clone(), fleet.clone(), fleet_config(&["i-w"], 20, 1));
    let (client, _) = new_client(jobs.as_ref()).await;
    let (job_id, key) = announce(jobs.as_ref(), &client, "A.DNG").await;
    let report = handle_s3_event(s3_put_event(RAW, &key, 5, "e"), &deps)
        .await
        .unwrap();
    // Recorded before the EC2 call; the instance cannot be started yet.
    assert_eq!(report.created, [job_id.clone()]);
    assert_eq!(report.stopping, ["i-w"]);
    assert!(report.started.is_empty());
    assert_eq!(
        jobs.get_job(&job_id).await.unwrap().unwrap().status,
        JobStatus::Pending
    );
    // EC2 reports it stopped: the state-change rule's sweep starts it.
    fleet.set("i-w", InstanceState::Stopped);
    let stopped = eventbridge(
        "EC2 Instance State-change Notification",
        serde_json::json!({"instance-id": "i-w", "state": "stopped"}),
    );
    let report = handle_sweep(&stopped, &deps).await.unwrap();
    assert_eq!(
        (report.pending, report.started.clone()),
        (1, vec!["i-w".to_string()])
    );
    // Another instance's state change is none of its business.
    let other = eventbridge(
        "EC2 Instance State-change Notification",
        serde_json::json!({"instance-id": "i-other", "state": "stopped"}),
    );
    let report = handle_sweep(&other, &deps).await.unwrap();
    assert_eq!(report.ignored.len(), 1);
}

#[tokio::test]
async fn a_running_instance_whose_worker_is_draining_counts_as_stopping() {
    let (_d, jobs) = sqlite();
    let fleet = Arc::new(FakeFleet::new(&[
        ("i-1", InstanceState::Running),
        ("i-2", InstanceState::Stopped),
    ]));
    let deps = orchestrator(
        jobs.clone(),
        fleet.clone(),
        fleet_config(&["i-1", "i-2"], 20, 2),
    );
    let now = rawflow_jobs::ids::now_millis();
    jobs.put_worker(&WorkerRecord {
        id: "i-1".into(),
        instance_type: "c7i.large".into(),
        state: WorkerState::Draining,
        started_at: now - 1000,
        updated_at: now,
        jobs_done: 0,
    })
    .await
    .unwrap();
    let (client, _) = new_client(jobs.as_ref()).await;
    let (_, key) = announce(jobs.as_ref(), &client, "A.DNG").await;
    let report = handle_s3_event(s3_put_event(RAW, &key, 5, "e"), &deps)
        .await
        .unwrap();
    // i-1 looks running but is on its way down: i-2 is started instead.
    assert!(report.active.is_empty(), "{report:?}");
    assert_eq!(report.started, ["i-2"]);
}

#[tokio::test]
async fn the_schedule_and_unknown_events_through_the_one_entry_point() {
    let (_d, jobs) = sqlite();
    let fleet = Arc::new(FakeFleet::new(&[("i-w", InstanceState::Stopped)]));
    let deps = orchestrator(jobs.clone(), fleet.clone(), fleet_config(&["i-w"], 20, 1));
    let scheduled = serde_json::json!({
        "version": "0", "id": "s1", "source": "aws.events", "account": "123456789012",
        "time": "2026-12-03T18:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/rawflow-sweep"],
        "detail-type": "Scheduled Event", "detail": {},
    });
    let ev = || LambdaEvent::new(scheduled.clone(), Context::default());
    // Nothing pending: nothing started.
    let report = handle(ev(), &deps).await.unwrap();
    assert!(report.started.is_empty() && report.pending == 0);
    // A job nobody started a worker for (a lost event): the schedule does.
    let (client, _) = new_client(jobs.as_ref()).await;
    pending_job(jobs.as_ref(), &client).await;
    let report = handle(ev(), &deps).await.unwrap();
    assert_eq!(report.started, ["i-w"]);
    // S3 events go through the same entry point.
    let (_, key) = announce(jobs.as_ref(), &client, "B.DNG").await;
    let s3 = serde_json::to_value(s3_put_event(RAW, &key, 5, "e").payload).unwrap();
    let report = handle(LambdaEvent::new(s3, Context::default()), &deps)
        .await
        .unwrap();
    assert_eq!(report.created.len(), 1);
    let bad = handle(
        LambdaEvent::new(serde_json::json!({"hello": 1}), Context::default()),
        &deps,
    )
    .await;
    assert!(
        matches!(bad, Err(OrchestratorError::BadEvent(_))),
        "{bad:?}"
    );
}

#[tokio::test]
async fn the_backlog_decides_how_many_workers_start() {
    let (_d, jobs) = sqlite();
    let ids = ["i-1", "i-2", "i-3", "i-4"];
    let fleet = Arc::new(FakeFleet::new(&[
        ("i-1", InstanceState::Running),
        ("i-2", InstanceState::Stopped),
        ("i-3", InstanceState::Stopped),
        ("i-4", InstanceState::Stopped),
    ]));
    let deps = orchestrator(jobs.clone(), fleet.clone(), fleet_config(&ids, 2, 3));
    let (client, _) = new_client(jobs.as_ref()).await;
    for _ in 0..4 {
        pending_job(jobs.as_ref(), &client).await;
    }
    // 4 pending + this one = 5 → ceil(5/2) = 3 workers; one runs: start 2.
    let (_, key) = announce(jobs.as_ref(), &client, "B.DNG").await;
    let report = handle_s3_event(s3_put_event(RAW, &key, 5, "e"), &deps)
        .await
        .unwrap();
    assert_eq!((report.pending, report.wanted), (5, 3));
    assert_eq!(report.started, ["i-2", "i-3"]);
    // More backlog, but MAX_WORKERS = 3 are up: nothing more.
    for _ in 0..6 {
        pending_job(jobs.as_ref(), &client).await;
    }
    let (_, key) = announce(jobs.as_ref(), &client, "C.DNG").await;
    let report = handle_s3_event(s3_put_event(RAW, &key, 5, "e"), &deps)
        .await
        .unwrap();
    assert_eq!(report.wanted, 3);
    assert!(report.started.is_empty());
    assert_eq!(fleet.started.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn records_that_are_not_uploads_are_ignored() {
    let (_d, jobs) = sqlite();
    let fleet = Arc::new(FakeFleet::new(&[("i-w", InstanceState::Stopped)]));
    let deps = orchestrator(jobs.clone(), fleet.clone(), fleet_config(&["i-w"], 20, 1));
    let (client, _) = new_client(jobs.as_ref()).await;
    let (_, key) = announce(jobs.as_ref(), &client, "A.DNG").await;
    let other_bucket = handle_s3_event(s3_put_event("elsewhere", &key, 5, "e"), &deps)
        .await
        .unwrap();
    let unannounced = handle_s3_event(
        s3_put_event(RAW, &format!("raw/{client}/abcdef/x.DNG"), 5, "e"),
        &deps,
    )
    .await
    .unwrap();
    let not_raw = handle_s3_event(s3_put_event(RAW, "notes/readme.txt", 5, "e"), &deps)
        .await
        .unwrap();
    let mut removed = s3_put_event(RAW, &key, 5, "e");
    removed.payload.records[0].event_name = Some("ObjectRemoved:Delete".into());
    let removed = handle_s3_event(removed, &deps).await.unwrap();
    for r in [other_bucket, unannounced, not_raw, removed] {
        assert!(r.created.is_empty(), "{r:?}");
        assert_eq!(r.ignored.len(), 1, "{r:?}");
        assert!(r.started.is_empty(), "no backlog, no worker: {r:?}");
    }
}

fn download_deps(jobs: Arc<SqliteJobStore>, ttl_secs: u64) -> DownloadDeps {
    DownloadDeps {
        jobs,
        store: offline_store(),
        config: DownloadConfig {
            link_ttl: Duration::from_secs(ttl_secs),
        },
    }
}

#[tokio::test]
async fn download_answers_by_token_owner_and_status() {
    let (_d, jobs) = sqlite();
    // A configured TTL above 15 minutes is still capped.
    let deps = download_deps(jobs.clone(), 3600);
    let (alice, alice_token) = new_client(jobs.as_ref()).await;
    let (_bob, bob_token) = new_client(jobs.as_ref()).await;
    let done = completed_job(jobs.as_ref(), &alice).await;
    let waiting = pending_job(jobs.as_ref(), &alice).await;

    let status =
        |r: &rawflow_lambdas::aws_lambda_events::apigw::ApiGatewayV2httpResponse| r.status_code;
    let r = handle_download(download_event(&done, Some(&alice_token), &[]), &deps)
        .await
        .unwrap();
    assert_eq!(status(&r), 200);
    let body = body_json(&r);
    let url = body["url"].as_str().unwrap();
    assert!(
        url.contains(&format!(
            "/studio-processed/processed/{alice}/{done}/web.jpg?"
        )),
        "{url}"
    );
    assert!(url.contains("X-Amz-Expires=900"), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert_eq!(body["content_type"], "image/jpeg");

    let r = handle_download(
        download_event(
            &done,
            Some(&alice_token),
            &[("redirect", "1"), ("output", "web")],
        ),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(status(&r), 302);
    assert!(r.headers["location"]
        .to_str()
        .unwrap()
        .contains("X-Amz-Signature="));

    let cases = [
        (done.as_str(), Some(bob_token.as_str()), 404),
        (waiting.as_str(), Some(alice_token.as_str()), 409),
        ("0123456789abcdef01234567", Some(alice_token.as_str()), 404),
        ("../../etc", Some(alice_token.as_str()), 404),
        (done.as_str(), None, 401),
        (done.as_str(), Some("rf_nobody"), 401),
    ];
    for (job, token, want) in cases {
        let r = handle_download(download_event(job, token, &[]), &deps)
            .await
            .unwrap();
        assert_eq!(status(&r), want, "{job} {token:?}");
    }
    // A forged token for Alice, an unknown client, the admin: 401.
    let forged = issue_token(&alice).token;
    let stranger = issue_token("0000000000000000").token;
    let admin = issue_token("admin").token;
    for t in [forged, stranger, admin] {
        let r = handle_download(download_event(&done, Some(&t), &[]), &deps)
            .await
            .unwrap();
        assert_eq!(status(&r), 401);
    }
    // An output that does not exist.
    let r = handle_download(
        download_event(&done, Some(&alice_token), &[("output", "full")]),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(status(&r), 404);
}

#[tokio::test]
async fn upload_links_need_the_admin_token_and_respect_the_limit() {
    let (_d, jobs) = sqlite();
    let admin = issue_token("admin");
    let deps = UploadDeps {
        jobs: jobs.clone(),
        store: offline_store(),
        config: UploadConfig {
            max_upload_bytes: 1 << 20,
            multipart_threshold: 1 << 30,
            part_size: 5 << 20,
            link_ttl: Duration::from_secs(600),
            admin_token_sha256: hash_token(&admin.token),
            recipes: vec!["web".into()],
        },
    };
    let (client, client_token) = new_client(jobs.as_ref()).await;
    let ask = |size: u64, recipe: &str, client: &str| serde_json::json!({"client_id": client, "filename": "IMG 1.DNG", "recipe": recipe, "size": size});
    let r = handle_upload(
        upload_event("/uploads", Some(&admin.token), &ask(4096, "web", &client)),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 201, "{:?}", r.body);
    let body = body_json(&r);
    let job_id = body["job_id"].as_str().unwrap();
    assert_eq!(body["kind"], "single");
    assert_eq!(body["key"], format!("raw/{client}/{job_id}/IMG 1.DNG"));
    let url = body["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "http://127.0.0.1:9/{RAW}/raw/{client}/{job_id}/IMG%201.DNG?"
        )),
        "{url}"
    );
    // The length and the encryption are part of what was signed.
    let headers: Vec<(String, String)> = serde_json::from_value(body["headers"].clone()).unwrap();
    assert!(
        headers.contains(&("content-length".into(), "4096".into())),
        "{headers:?}"
    );
    assert!(headers.contains(&("x-amz-server-side-encryption".into(), "AES256".into())));
    assert!(
        url.contains("content-length"),
        "signed headers include the length: {url}"
    );
    // The intent is recorded: the object-created event will make the job.
    assert!(jobs.get_upload(job_id).await.unwrap().is_some());

    let cases = [
        (
            Some(admin.token.as_str()),
            ask(2 << 20, "web", &client),
            413,
        ),
        (Some(admin.token.as_str()), ask(0, "web", &client), 400),
        (Some(admin.token.as_str()), ask(10, "sepia", &client), 400),
        (
            Some(admin.token.as_str()),
            ask(10, "web", "0000000000000000"),
            404,
        ),
        (
            Some(admin.token.as_str()),
            serde_json::json!({"nope": 1}),
            400,
        ),
        (Some(client_token.as_str()), ask(10, "web", &client), 403),
        (None, ask(10, "web", &client), 401),
    ];
    for (token, body, want) in cases {
        let r = handle_upload(upload_event("/uploads", token, &body), &deps)
            .await
            .unwrap();
        assert_eq!(r.status_code, want, "{body} {:?}", r.body);
    }
    let forged_admin = issue_token("admin").token;
    let r = handle_upload(
        upload_event("/uploads", Some(&forged_admin), &ask(10, "web", &client)),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 401);

    // The multipart complete step: unknown uploads and wrong methods.
    let complete =
        serde_json::json!({"upload_id": "x", "parts": [{"part_number": 1, "etag": "e"}]});
    let r = handle_upload(
        upload_event(
            "/uploads/0123456789abcdef01234567/complete",
            Some(&admin.token),
            &complete,
        ),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 404);
    let mut get = upload_event("/uploads", Some(&admin.token), &ask(10, "web", &client));
    get.payload.request_context.http.method = rawflow_lambdas::aws_lambda_events::http::Method::GET;
    let r = handle_upload(get, &deps).await.unwrap();
    assert_eq!(r.status_code, 405);
}

#[tokio::test]
async fn admin_api_creates_clients_and_shows_jobs_like_rawflow_serve() {
    let (_d, jobs) = sqlite();
    let admin = issue_token("admin").token;
    let deps = AdminDeps {
        jobs: jobs.clone(),
        admin_token_sha256: hash_token(&admin),
    };
    // A client created from outside, through the admin route.
    let r = handle_admin(
        admin_event(
            "POST",
            "/v1/clients",
            Some(&admin),
            Some(&serde_json::json!({"name": "Alice Studio"})),
        ),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 201, "{:?}", r.body);
    let alice = body_json(&r);
    let alice_id = alice["client_id"].as_str().unwrap().to_string();
    let alice_token = alice["token"].as_str().unwrap().to_string();
    assert_eq!(alice["name"], "Alice Studio");
    let stored = jobs.get_client(&alice_id).await.unwrap().unwrap();
    assert_eq!(stored.token_hash, hash_token(&alice_token), "stored hashed");
    let r = handle_admin(
        admin_event(
            "POST",
            "/v1/clients",
            Some(&admin),
            Some(&serde_json::json!({"name": ""})),
        ),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 400);
    // Only the admin creates clients or lists jobs.
    for (method, path) in [("POST", "/v1/clients"), ("GET", "/v1/jobs")] {
        let body = serde_json::json!({"name": "Mallory"});
        let r = handle_admin(
            admin_event(method, path, Some(&alice_token), Some(&body)),
            &deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status_code, 401, "{method} {path}");
        let r = handle_admin(admin_event(method, path, None, Some(&body)), &deps)
            .await
            .unwrap();
        assert_eq!(r.status_code, 401, "{method} {path}");
    }
    let (bob_id, bob_token) = new_client(jobs.as_ref()).await;
    let job = pending_job(jobs.as_ref(), &alice_id).await;
    pending_job(jobs.as_ref(), &bob_id).await;

    // The admin lists jobs (filters as rawflow serve's) and inspects one.
    let r = handle_admin(
        admin_event(
            "GET",
            &format!("/v1/jobs?status=pending&client_id={alice_id}"),
            Some(&admin),
            None,
        ),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 200);
    let listed = body_json(&r);
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["jobs"][0],
        rawflow_jobs::views::job_json(&jobs.get_job(&job).await.unwrap().unwrap())
    );
    let r = handle_admin(
        admin_event("GET", "/v1/jobs?status=bogus", Some(&admin), None),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 400);
    // The status route: the job's client sees it, another client gets 404.
    for (token, want) in [(&admin, 200), (&alice_token, 200), (&bob_token, 404)] {
        let r = handle_admin(
            admin_event("GET", &format!("/v1/jobs/{job}"), Some(token), None),
            &deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status_code, want);
        if want == 200 {
            assert_eq!(body_json(&r)["status"], "pending");
        }
    }
    let r = handle_admin(
        admin_event("GET", "/v1/jobs/../../x", Some(&admin), None),
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(r.status_code, 404);
}
