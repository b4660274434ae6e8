//! Shared by the Lambda tests: AWS-shaped sample events, a fake fleet, a
//! tiny HTTP client and a store setup.

#![allow(dead_code)]

#[path = "../../../jobs/tests/support/fault_proxy.rs"]
pub mod fault_proxy;
#[path = "../../../jobs/tests/support/moto.rs"]
pub mod moto;

use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rawflow_jobs::auth::issue_token;
use rawflow_jobs::ids::{new_client_id, now_millis};
use rawflow_jobs::uploads::{create_upload, on_object_created, EventOutcome, ObjectCreated};
use rawflow_jobs::{Client, JobStore, LinkSigner, OutputRecord};
use rawflow_lambdas::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use rawflow_lambdas::aws_lambda_events::s3::S3Event;
use rawflow_lambdas::fleet::{FleetError, InstanceState, WorkerFleet, WorkerInstance};
use rawflow_lambdas::lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

/// A fixture's JSON (compiled in, so that other crates' tests can use this
/// module too).
pub fn fixture(name: &str) -> Value {
    let text = match name {
        "s3-put.json" => include_str!("../fixtures/s3-put.json"),
        "apigw-v2-download.json" => include_str!("../fixtures/apigw-v2-download.json"),
        "apigw-v2-upload.json" => include_str!("../fixtures/apigw-v2-upload.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

/// S3 encodes keys in events like a form: `+` for space, `%XX` otherwise.
pub fn s3_encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The sample S3 Put event for `key` in `bucket`.
pub fn s3_put_event(bucket: &str, key: &str, size: u64, etag: &str) -> LambdaEvent<S3Event> {
    let mut v = fixture("s3-put.json");
    let rec = &mut v["Records"][0];
    rec["s3"]["bucket"]["name"] = bucket.into();
    rec["s3"]["bucket"]["arn"] = format!("arn:aws:s3:::{bucket}").into();
    rec["s3"]["object"]["key"] = s3_encode_key(key).into();
    rec["s3"]["object"]["size"] = size.into();
    rec["s3"]["object"]["eTag"] = etag.into();
    LambdaEvent::new(serde_json::from_value(v).unwrap(), Context::default())
}

/// The sample download request for `job_id`, with `token` and a query.
pub fn download_event(
    job_id: &str,
    token: Option<&str>,
    query: &[(&str, &str)],
) -> LambdaEvent<ApiGatewayV2httpRequest> {
    let mut v = fixture("apigw-v2-download.json");
    let path = format!("/jobs/{job_id}/download");
    v["rawPath"] = path.clone().into();
    v["requestContext"]["http"]["path"] = path.into();
    v["pathParameters"]["job_id"] = job_id.into();
    set_token(&mut v, token);
    let mut q = serde_json::Map::new();
    for (k, val) in query {
        q.insert((*k).into(), (*val).into());
    }
    v["rawQueryString"] = query
        .iter()
        .map(|(k, val)| format!("{k}={val}"))
        .collect::<Vec<_>>()
        .join("&")
        .into();
    v["queryStringParameters"] = Value::Object(q);
    LambdaEvent::new(serde_json::from_value(v).unwrap(), Context::default())
}

/// The sample upload request with `body` (sent base64-encoded, as API
/// Gateway does for some content types) at `path`.
pub fn upload_event(
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> LambdaEvent<ApiGatewayV2httpRequest> {
    use base64::Engine as _;
    let mut v = fixture("apigw-v2-upload.json");
    v["rawPath"] = path.into();
    v["requestContext"]["http"]["path"] = path.into();
    set_token(&mut v, token);
    v["body"] = base64::engine::general_purpose::STANDARD
        .encode(body.to_string())
        .into();
    LambdaEvent::new(serde_json::from_value(v).unwrap(), Context::default())
}

/// An admin API request: `method` on `path` (with `?query`), `token`, and a
/// JSON `body` (sent as plain text).
pub fn admin_event(
    method: &str,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> LambdaEvent<ApiGatewayV2httpRequest> {
    let mut v = fixture("apigw-v2-upload.json");
    let (path, q) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    v["rawPath"] = path.into();
    v["routeKey"] = format!("{method} {path}").into();
    v["requestContext"]["http"]["path"] = path.into();
    v["requestContext"]["http"]["method"] = method.into();
    v["requestContext"]["routeKey"] = format!("{method} {path}").into();
    v["rawQueryString"] = q.into();
    let mut params = serde_json::Map::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, val) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(k.into(), val.into());
    }
    v["queryStringParameters"] = Value::Object(params);
    set_token(&mut v, token);
    match body {
        Some(b) => {
            v["body"] = b.to_string().into();
            v["isBase64Encoded"] = false.into();
        }
        None => {
            v.as_object_mut().unwrap().remove("body");
            v["isBase64Encoded"] = false.into();
        }
    }
    LambdaEvent::new(serde_json::from_value(v).unwrap(), Context::default())
}

fn set_token(v: &mut Value, token: Option<&str>) {
    let headers = v["headers"].as_object_mut().unwrap();
    match token {
        Some(t) => {
            headers.insert("authorization".into(), format!("Bearer {t}").into());
        }
        None => {
            headers.remove("authorization");
        }
    }
}

/// The JSON body of a response.
pub fn body_json(r: &rawflow_lambdas::aws_lambda_events::apigw::ApiGatewayV2httpResponse) -> Value {
    use rawflow_lambdas::aws_lambda_events::encodings::Body;
    match &r.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("no text body: {other:?}"),
    }
}

/// A fleet in memory: starting a stopped instance makes it `pending`.
pub struct FakeFleet {
    pub instances: Mutex<Vec<(String, InstanceState)>>,
    pub started: Mutex<Vec<String>>,
}

impl FakeFleet {
    pub fn new(instances: &[(&str, InstanceState)]) -> Self {
        Self {
            instances: Mutex::new(
                instances
                    .iter()
                    .map(|(id, s)| ((*id).to_string(), s.clone()))
                    .collect(),
            ),
            started: Mutex::new(Vec::new()),
        }
    }

    pub fn set(&self, id: &str, state: InstanceState) {
        for (i, s) in self.instances.lock().unwrap().iter_mut() {
            if i == id {
                *s = state.clone();
            }
        }
    }
}

#[async_trait]
impl WorkerFleet for FakeFleet {
    async fn describe(&self, ids: &[String]) -> Result<Vec<WorkerInstance>, FleetError> {
        Ok(self
            .instances
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(id, s)| WorkerInstance::new(id.clone(), s.clone()))
            .collect())
    }

    async fn start(&self, ids: &[String]) -> Result<(), FleetError> {
        for id in ids {
            let mut all = self.instances.lock().unwrap();
            let Some((_, s)) = all.iter_mut().find(|(i, _)| i == id) else {
                return Err(FleetError {
                    operation: "StartInstances",
                    message: format!("unknown {id}"),
                });
            };
            if *s != InstanceState::Stopped {
                return Err(FleetError {
                    operation: "StartInstances",
                    message: format!("{id} is not stopped"),
                });
            }
            *s = InstanceState::Pending;
            self.started.lock().unwrap().push(id.clone());
        }
        Ok(())
    }
}

/// A new client; its id and bearer token.
pub async fn new_client(jobs: &dyn JobStore) -> (String, String) {
    let id = new_client_id();
    let token = issue_token(&id);
    jobs.create_client(&Client {
        id: id.clone(),
        name: "Client".into(),
        token_hash: token.hash,
        created_at: now_millis(),
    })
    .await
    .unwrap();
    (id, token.token)
}

/// Announce an upload of `filename` for `client`; the RAW key.
pub async fn announce(jobs: &dyn JobStore, client: &str, filename: &str) -> (String, String) {
    let t = create_upload(
        jobs,
        &LinkSigner::new([1; 32]),
        client,
        filename,
        "web",
        Duration::from_secs(600),
    )
    .await
    .unwrap();
    (t.job_id, t.key.to_string())
}

/// A `pending` job of `client` (announced and its object created).
pub async fn pending_job(jobs: &dyn JobStore, client: &str) -> String {
    let (_, key) = announce(jobs, client, "A.DNG").await;
    let ev = ObjectCreated {
        key,
        size: 10,
        sha256: "ab".repeat(16),
    };
    match on_object_created(jobs, &ev, 3).await.unwrap() {
        EventOutcome::Created(j) => j.id,
        other => panic!("{other:?}"),
    }
}

/// A `completed` job of `client` whose `web` output is at its key (not
/// stored anywhere).
pub async fn completed_job(jobs: &dyn JobStore, client: &str) -> String {
    let id = pending_job(jobs, client).await;
    let (job, lease) = jobs
        .claim("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, id);
    let out = OutputRecord {
        name: "web".into(),
        key: format!("processed/{client}/{id}/web.jpg"),
        bytes: 3,
        sha256: "00".repeat(32),
        content_type: "image/jpeg".into(),
    };
    assert!(jobs.complete(&lease, &[out], &[]).await.unwrap());
    id
}

/// A plain HTTP/1.0 request to an `http://` URL: status, headers (lower-case
/// names) and body.
pub fn http(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\n");
    let mut has_length = false;
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("host") {
            continue;
        }
        has_length |= k.eq_ignore_ascii_case("content-length");
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_length {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    conn.write_all(req.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut resp = Vec::new();
    conn.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let hdrs = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, hdrs, resp[split + 4..].to_vec())
}
