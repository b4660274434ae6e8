//! The S3 object store against the AWS emulator (moto over HTTP, the real
//! SDK). Needs python3 (see `scripts/moto`). The DynamoDB job store runs the
//! conformance suite in `aws_conformance.rs`.

#![cfg(feature = "aws")]

mod support;

use std::io::{Read, Write};
use std::time::Duration;

use rawflow_jobs::aws::aws_sdk_s3::types::ServerSideEncryption;
use rawflow_jobs::aws::{s3_client, S3Config, S3ObjectStore};
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
