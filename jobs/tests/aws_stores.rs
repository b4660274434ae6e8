//! The S3 object store and the DynamoDB job store against the AWS emulator
//! (moto over HTTP, the real SDK). Needs python3 (see `scripts/moto`).

#![cfg(feature = "aws")]

mod support;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use rawflow_jobs::auth::{issue_token, verify_token};
use rawflow_jobs::aws::aws_sdk_s3::types::ServerSideEncryption;
use rawflow_jobs::aws::{
    create_table, dynamo_client, s3_client, DynamoJobStore, S3Config, S3ObjectStore,
};
use rawflow_jobs::ids::{new_client_id, now_millis};
use rawflow_jobs::uploads::{create_upload, on_object_created, EventOutcome, ObjectCreated};
use rawflow_jobs::*;
use support::moto::Moto;

/// A plain HTTP/1.0 GET (what a browser does with a presigned link).
fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(conn, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut resp = Vec::new();
    conn.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, resp[split + 4..].to_vec())
}

async fn s3_store(moto: &Moto, config: S3Config) -> S3ObjectStore {
    let sdk = moto.sdk_config().await;
    let client = s3_client(&sdk);
    for b in [&config.raw_bucket, &config.processed_bucket] {
        client.create_bucket().bucket(b).send().await.unwrap();
    }
    S3ObjectStore::new(client, config)
}

async fn dynamo_store(moto: &Moto) -> DynamoJobStore {
    let sdk = moto.sdk_config().await;
    let client = dynamo_client(&sdk);
    create_table(&client, "rawflow-jobs").await.unwrap();
    assert!(matches!(
        create_table(&client, "rawflow-jobs").await,
        Err(JobStoreError::Duplicate(_))
    ));
    DynamoJobStore::new(client, "rawflow-jobs")
}

async fn sse_of(store: &S3ObjectStore, key: &str) -> Option<ServerSideEncryption> {
    store
        .client()
        .head_object()
        .bucket(store.bucket_for(key))
        .key(key)
        .send()
        .await
        .unwrap()
        .server_side_encryption()
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_put_get_multipart_encryption_and_presigned_links() {
    let Some(moto) = Moto::start() else { return };
    let mut config = S3Config::new("studio-raw", "studio-processed");
    config.multipart_threshold = 6 * 1024 * 1024;
    config.part_size = 5 * 1024 * 1024;
    let store = s3_store(&moto, config).await;

    // Small object: one PUT, encrypted, in the RAW bucket, content type by extension.
    let raw = ObjectKey::new("raw/00aa/11bb/IMG_1.DNG").unwrap();
    let meta = store
        .put_bytes(&raw, b"raw bytes", PutMode::CreateNew)
        .await
        .unwrap();
    assert_eq!(meta.size, 9);
    assert_eq!(
        meta.sha256.as_deref(),
        Some(object_store::sha256_hex(b"raw bytes").as_str())
    );
    assert!(meta.has_content(meta.etag.as_deref().unwrap()));
    assert_eq!(
        sse_of(&store, raw.as_str()).await,
        Some(ServerSideEncryption::Aes256)
    );
    let listed_raw = store
        .client()
        .list_objects_v2()
        .bucket("studio-raw")
        .send()
        .await
        .unwrap();
    assert_eq!(listed_raw.contents().len(), 1);

    // CreateNew refuses to replace, with the refused bytes' hash.
    match store.put_bytes(&raw, b"other", PutMode::CreateNew).await {
        Err(StoreError::AlreadyExists { size, sha256, .. }) => {
            assert_eq!(size, 5);
            assert_eq!(sha256, object_store::sha256_hex(b"other"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.get_bytes(&raw).await.unwrap(), b"raw bytes");

    // Large object: multipart (3 parts), encrypted, byte-exact, in the processed bucket.
    let big: Vec<u8> = (0..11 * 1024 * 1024 + 123)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let out = ObjectKey::new("processed/00aa/11bb/full.tif").unwrap();
    let meta = store
        .put_bytes(&out, &big, PutMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(meta.size, big.len() as u64);
    assert!(
        meta.etag.as_deref().unwrap().ends_with("-3"),
        "multipart etag: {:?}",
        meta.etag
    );
    assert_eq!(
        sse_of(&store, out.as_str()).await,
        Some(ServerSideEncryption::Aes256)
    );
    let head = store
        .client()
        .head_object()
        .bucket("studio-processed")
        .key(out.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/tiff"));

    // Streamed to a file with its hash (how the worker fetches a RAW).
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("copy");
    let got = store.get_to_file(&out, &dest).await.unwrap();
    assert_eq!(
        got.sha256.as_deref(),
        Some(object_store::sha256_hex(&big).as_str())
    );
    assert!(got.has_content(meta.etag.as_deref().unwrap()));
    assert_eq!(std::fs::read(&dest).unwrap(), big);

    // Listing, heads, missing keys, deletes.
    let listed: Vec<String> = store
        .list("processed/00aa/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key.to_string())
        .collect();
    assert_eq!(listed, ["processed/00aa/11bb/full.tif"]);
    assert_eq!(store.list("").await.unwrap().len(), 2);
    let missing = ObjectKey::new("processed/00aa/11bb/none.jpg").unwrap();
    assert!(store.head(&missing).await.unwrap().is_none());
    assert!(matches!(
        store.get_reader(&missing).await.err(),
        Some(StoreError::NotFound(_))
    ));

    // Presigned GET: a plain HTTP client gets the bytes; a tampered link does not.
    let url = store
        .presign_get(&raw, Duration::from_secs(60), Some("IMG 1.DNG"))
        .await
        .unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let (status, body) = http_get(&url);
    assert_eq!((status, body.as_slice()), (200, &b"raw bytes"[..]));
    let put = store
        .presign_put(&raw, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(put.method, "PUT");
    assert!(put
        .headers
        .iter()
        .any(|(k, v)| k == "x-amz-server-side-encryption" && v == "AES256"));

    assert!(store.delete(&raw).await.unwrap());
    assert!(!store.delete(&raw).await.unwrap());
}

async fn studio_client(jobs: &DynamoJobStore) -> (String, String) {
    let id = new_client_id();
    let token = issue_token(&id);
    let client = Client {
        id: id.clone(),
        name: "Studio".into(),
        token_hash: token.hash,
        created_at: now_millis(),
    };
    jobs.create_client(&client).await.unwrap();
    assert!(matches!(
        jobs.create_client(&client).await,
        Err(JobStoreError::Duplicate(_))
    ));
    (id, token.token)
}

async fn new_job(jobs: &DynamoJobStore, client: &str, etag: &str) -> String {
    let signer = LinkSigner::new([7; 32]);
    let t = create_upload(
        jobs,
        &signer,
        client,
        "IMG_1.DNG",
        "web",
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let event = ObjectCreated {
        key: t.key.to_string(),
        size: 1234,
        sha256: etag.into(),
    };
    let id = match on_object_created(jobs, &event, 3).await.unwrap() {
        EventOutcome::Created(j) => j.id,
        other => panic!("{other:?}"),
    };
    // S3 delivers events at least once: the second delivery makes no job.
    match on_object_created(jobs, &event, 3).await.unwrap() {
        EventOutcome::Duplicate(j) => assert_eq!(j.id, id),
        other => panic!("{other:?}"),
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_jobs_clients_claims_release_and_audit_trail() {
    let Some(moto) = Moto::start() else { return };
    let jobs = dynamo_store(&moto).await;
    let (client, token) = studio_client(&jobs).await;
    let stored = jobs.get_client(&client).await.unwrap().unwrap();
    assert!(verify_token(&token, &stored.token_hash));
    assert!(jobs.get_client("ffff").await.unwrap().is_none());

    assert!(!jobs.has_runnable_jobs().await.unwrap());
    let id = new_job(&jobs, &client, "0123456789abcdef0123456789abcdef").await;
    assert!(jobs.has_runnable_jobs().await.unwrap());
    let ttl = Duration::from_secs(30);

    // Claim records worker and instance type; nobody else can claim it.
    let (job, lease) = jobs
        .claim_on("w1", Some("c7i.large"), ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (job.id.as_str(), job.status, job.attempts),
        (id.as_str(), JobStatus::Running, 1)
    );
    assert_eq!(job.instance_type.as_deref(), Some("c7i.large"));
    assert!(jobs.claim("w2", ttl).await.unwrap().is_none());
    assert!(!jobs.has_runnable_jobs().await.unwrap());
    assert!(jobs.renew(&lease, ttl).await.unwrap());

    // Released (a stopping worker): pending again, the attempt not counted.
    assert!(jobs.release(&lease, "stopping").await.unwrap());
    assert!(!jobs.release(&lease, "stopping").await.unwrap());
    assert!(!jobs.renew(&lease, ttl).await.unwrap());
    let j = jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!(
        (j.status, j.attempts, j.lease_owner.clone()),
        (JobStatus::Pending, 0, None)
    );

    // Claimed again and completed; a stale lease can do nothing.
    let (_, lease2) = jobs.claim("w2", ttl).await.unwrap().unwrap();
    assert_eq!(lease2.attempt, 1);
    let outputs = vec![OutputRecord {
        name: "web".into(),
        key: format!("processed/{client}/{id}/web.jpg"),
        bytes: 10,
        sha256: "00".repeat(32),
        content_type: "image/jpeg".into(),
    }];
    assert!(!jobs.complete(&lease, &outputs, &[]).await.unwrap());
    assert_eq!(
        jobs.fail(&lease, "x", true, &[]).await.unwrap(),
        FailOutcome::LeaseLost
    );
    let timings = vec![("fetch".to_string(), 0.5), ("decode".to_string(), 1.25)];
    assert!(jobs.complete(&lease2, &outputs, &timings).await.unwrap());
    let j = jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Completed);
    assert_eq!(j.outputs, outputs);
    assert_eq!(j.timings, timings);
    assert_eq!(j.worker_id.as_deref(), Some("w2"));
    assert!(j.finished_at.is_some());

    let trail: Vec<(Option<JobStatus>, JobStatus, u32, Option<String>)> = jobs
        .transitions(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.from, t.to, t.attempt, t.worker_id))
        .collect();
    use JobStatus::*;
    assert_eq!(
        trail,
        [
            (None, Pending, 0, None),
            (Some(Pending), Running, 1, Some("w1".into())),
            (Some(Running), Pending, 1, Some("w1".into())),
            (Some(Pending), Running, 1, Some("w2".into())),
            (Some(Running), Completed, 1, Some("w2".into())),
        ]
    );

    // Failures: retry, then give up.
    let id2 = new_job(&jobs, &client, "fedcba9876543210fedcba9876543210").await;
    for attempt in 1..=3 {
        let (_, l) = jobs.claim("w3", ttl).await.unwrap().unwrap();
        assert_eq!(l.attempt, attempt);
        let expect = if attempt < 3 {
            FailOutcome::Retry
        } else {
            FailOutcome::Failed
        };
        assert_eq!(jobs.fail(&l, "disk full", true, &[]).await.unwrap(), expect);
    }
    let j2 = jobs.get_job(&id2).await.unwrap().unwrap();
    assert_eq!(j2.status, Failed);
    assert!(j2.error.unwrap().contains("gave up after 3 attempts"));

    // Listing by client and by status, newest first.
    let all = jobs
        .list_jobs(&JobFilter {
            client_id: Some(client.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        [id2.clone(), id.clone()]
    );
    let done = jobs
        .list_jobs(&JobFilter {
            status: Some(Completed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(
        jobs.list_jobs(&JobFilter::default()).await.unwrap().len(),
        2
    );
    let one = jobs
        .list_jobs(&JobFilter {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);

    // Worker records.
    let mut w = WorkerRecord {
        id: "i-0abc-123".into(),
        instance_type: "c7i.large".into(),
        state: WorkerState::Active,
        started_at: now_millis(),
        updated_at: now_millis(),
        jobs_done: 0,
    };
    jobs.put_worker(&w).await.unwrap();
    w.state = WorkerState::Draining;
    w.jobs_done = 2;
    jobs.put_worker(&w).await.unwrap();
    assert_eq!(jobs.list_workers().await.unwrap(), [w]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_expired_leases_are_reclaimed_and_exhausted_ones_failed() {
    let Some(moto) = Moto::start() else { return };
    let jobs = dynamo_store(&moto).await;
    let (client, _) = studio_client(&jobs).await;
    let signer = LinkSigner::new([7; 32]);
    let t = create_upload(
        &jobs,
        &signer,
        &client,
        "A.DNG",
        "web",
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let id = t.job_id.clone();
    jobs.create_job(&NewJob {
        id: id.clone(),
        client_id: client.clone(),
        input_key: t.key.to_string(),
        input_sha256: "ab".repeat(32),
        input_bytes: 1,
        filename: "A.DNG".into(),
        recipe: "web".into(),
        max_attempts: 2,
    })
    .await
    .unwrap();
    let short = Duration::from_millis(200);
    let (_, first) = jobs.claim("dies-1", short).await.unwrap().unwrap();
    assert!(jobs.claim("w", short).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(jobs.has_runnable_jobs().await.unwrap());
    let (j, second) = jobs.claim("dies-2", short).await.unwrap().unwrap();
    assert_eq!(j.attempts, 2);
    assert!(!jobs.renew(&first, short).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The last allowed attempt expired: failed on the way, nothing to claim.
    assert!(jobs.claim("w", short).await.unwrap().is_none());
    let j = jobs.get_job(&id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Failed);
    assert!(!jobs.complete(&second, &[], &[]).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_racing_claims_take_each_job_once() {
    let Some(moto) = Moto::start() else { return };
    let jobs = Arc::new(dynamo_store(&moto).await);
    let (client, _) = studio_client(&jobs).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(new_job(&jobs, &client, &format!("{i:032x}")).await);
    }
    let mut tasks = Vec::new();
    for w in 0..3 {
        let jobs = Arc::clone(&jobs);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some((job, lease)) = jobs
                .claim(&format!("w{w}"), Duration::from_secs(30))
                .await
                .unwrap()
            {
                assert!(jobs.complete(&lease, &[], &[]).await.unwrap());
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
}
