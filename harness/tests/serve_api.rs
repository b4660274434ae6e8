//! The HTTP API of `rawflow serve` against the real binary: authentication,
//! validation, signed links, idempotent uploads, limits. None of these needs
//! a working develop (they use `--workers 0` or a corrupt input).

mod common;

use std::time::Duration;

use common::{data_dir, raw_request, sample_dng, Api, ServerProc};
use serde_json::json;

#[test]
fn admin_token_is_printed_once_stored_hashed_and_files_are_private() {
    let dir = data_dir();
    let first = ServerProc::start(dir.path(), &["--workers", "0"]);
    let admin = first
        .admin
        .clone()
        .expect("admin token printed on first start");
    drop(first);
    let stored = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
    assert!(
        !stored.contains(&admin),
        "the token itself must not be stored"
    );
    assert_eq!(stored.trim(), common::sha256(admin.as_bytes()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["admin.token", "link.key"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
    assert_eq!(
        std::fs::read(dir.path().join("link.key")).unwrap().len(),
        32
    );
    assert!(dir.path().join("jobs.sqlite").exists());
    assert!(dir.path().join("scratch").is_dir());

    let second = ServerProc::start(dir.path(), &["--workers", "0"]);
    assert!(second.admin.is_none(), "the token is printed only once");
    let api = Api::new(&second.base);
    assert_eq!(api.get("/healthz", None).status, 200);
    api.create_client(&admin, "still works after a restart");
}

#[test]
fn authentication_refusals() {
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "0"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let body = json!({ "name": "x" });
    // Missing, malformed, wrong: 401.
    assert_eq!(api.post("/v1/clients", None, body.clone()).status, 401);
    assert_eq!(
        api.post("/v1/clients", Some("nonsense"), body.clone())
            .status,
        401
    );
    let mut tampered = admin.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        api.post("/v1/clients", Some(&tampered), body.clone())
            .status,
        401
    );
    let (client, token) = api.create_client(&admin, "Studio A");
    let fake_client = format!("rf_{client}_{}", "A".repeat(43));
    assert_eq!(
        api.get("/v1/jobs/0123456789abcdef01234567", Some(&fake_client))
            .status,
        401
    );
    assert_eq!(
        api.get("/v1/jobs/0123456789abcdef01234567", None).status,
        401
    );
    // A client is not the admin.
    assert_eq!(
        api.post("/v1/clients", Some(&token), body.clone()).status,
        403
    );
    // A client lists only its own jobs (none yet).
    let own = api.get("/v1/jobs", Some(&token));
    assert_eq!(own.status, 200);
    assert_eq!(own.json()["jobs"], json!([]));
    // Bad bodies: 400.
    assert_eq!(api.post("/v1/clients", Some(&admin), json!({})).status, 400);
    assert_eq!(
        api.post("/v1/clients", Some(&admin), json!({ "name": "" }))
            .status,
        400
    );
    assert!(srv.log_contains("request refused"), "refusals are logged");
}

#[test]
fn uploads_are_validated_and_idempotent() {
    let dir = data_dir();
    let srv = ServerProc::start(
        dir.path(),
        &["--workers", "0", "--max-upload-bytes", "100000"],
    );
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, token) = api.create_client(&admin, "Studio A");
    let up = |filename: &str, recipe: Option<&str>| {
        let mut b = json!({ "client_id": client, "filename": filename });
        if let Some(r) = recipe {
            b["recipe"] = json!(r);
        }
        api.post("/v1/uploads", Some(&admin), b)
    };
    assert_eq!(
        up("IMG_0001.CR2", Some("sepia")).status,
        400,
        "unknown recipe"
    );
    for bad in [
        "../IMG.CR2",
        "/etc/passwd",
        "a/b.CR2",
        "a\\b.CR2",
        "..",
        "",
        &"a".repeat(300),
    ] {
        assert_eq!(up(bad, None).status, 400, "filename {bad:?}");
    }
    let r = api.post(
        "/v1/uploads",
        Some(&admin),
        json!({ "client_id": "0000000000000000", "filename": "a.dng" }),
    );
    assert_eq!(r.status, 400, "unknown client");
    assert_eq!(
        api.post(
            "/v1/uploads",
            Some(&token),
            json!({ "client_id": client, "filename": "a.dng" })
        )
        .status,
        403
    );

    // Default recipe is web; the upload URL carries an expiry and a signature.
    let r = up("IMG_0001.dng", None);
    assert_eq!(r.status, 201);
    let v = r.json();
    let job = v["job_id"].as_str().unwrap().to_string();
    let url = v["upload_url"].as_str().unwrap().to_string();
    assert!(url.contains(&format!(
        "/v1/objects/raw/{client}/{job}/IMG_0001.dng?expires="
    )));
    assert!(v["expires_at"].as_str().unwrap().ends_with('Z'));
    // Before the PUT the job is announced: it reads awaiting_upload.
    let before = api.get(&format!("/v1/jobs/{job}"), Some(&admin));
    assert_eq!(before.status, 200);
    assert_eq!(before.json()["status"], "awaiting_upload");

    // Tampered links: 403, and nothing is stored.
    let bytes = sample_dng(64, 64, 7);
    let tampered_sig = format!("{}x", &url[..url.len() - 1]);
    assert_eq!(api.put(&tampered_sig, &bytes).status, 403);
    let other_name = url.replace("IMG_0001.dng", "IMG_0002.dng");
    assert_eq!(api.put(&other_name, &bytes).status, 403);
    let later = {
        let (head, tail) = url.split_once("expires=").unwrap();
        let (exp, rest) = tail.split_once('&').unwrap();
        format!(
            "{head}expires={}&{rest}",
            exp.parse::<u64>().unwrap() + 1000
        )
    };
    assert_eq!(api.put(&later, &bytes).status, 403);
    let unsigned = url.split_once('?').unwrap().0.to_string();
    assert_eq!(api.put(&unsigned, &bytes).status, 403);
    // A PUT link is not a GET link.
    assert_eq!(api.get(&url, None).status, 403);

    // Too large: 413, nothing stored, no job.
    // (Raw requests: the server answers before reading the body.)
    let (big_job, big_url) = api.announce(&admin, &client, "big.dng", "web");
    let target = big_url.strip_prefix(&srv.base).unwrap();
    assert_eq!(
        common::raw_put(&srv.addr(), target, Some(200_000), None),
        413,
        "declared size"
    );
    assert_eq!(
        common::raw_put(&srv.addr(), target, None, Some(100_001)),
        413,
        "streamed size"
    );
    // A refused upload lands nothing: the job still awaits its file.
    let big = api.get(&format!("/v1/jobs/{big_job}"), Some(&admin));
    assert_eq!(big.status, 200);
    assert_eq!(big.json()["status"], "awaiting_upload");
    assert!(!dir
        .path()
        .join(format!("objects/raw/{client}/{big_job}/big.dng"))
        .exists());

    // The upload makes one pending job; the same PUT again makes none.
    let r = api.put(&url, &bytes);
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["sha256"], json!(common::sha256(&bytes)));
    assert_eq!(
        api.put(&url, &bytes).status,
        201,
        "a retried PUT of the same file is fine"
    );
    assert_eq!(
        api.put(&url, b"other bytes").status,
        409,
        "a used link cannot replace the file"
    );
    let list = api
        .get(&format!("/v1/jobs?client_id={client}"), Some(&admin))
        .json();
    // The uploaded job is pending; the refused big one still awaits its file.
    let jobs: Vec<_> = list["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["job_id"] != json!(big_job))
        .collect();
    assert_eq!(jobs.len(), 1, "{list}");
    assert_eq!(jobs[0]["job_id"], json!(job));
    assert_eq!(jobs[0]["status"], json!("pending"));
    assert_eq!(jobs[0]["recipe"], json!("web"));
    let stored = std::fs::read(
        dir.path()
            .join(format!("objects/raw/{client}/{job}/IMG_0001.dng")),
    )
    .unwrap();
    assert_eq!(stored, bytes);
    assert_eq!(
        api.get("/v1/jobs?status=pending", Some(&admin)).json()["jobs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get("/v1/jobs?status=completed", Some(&admin)).json()["jobs"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(api.get("/v1/jobs?status=bogus", Some(&admin)).status, 400);
}

#[test]
fn jobs_of_other_clients_are_invisible_and_unfinished_jobs_cannot_be_downloaded() {
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "0"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (a, a_token) = api.create_client(&admin, "Studio A");
    let (_b, b_token) = api.create_client(&admin, "Studio B");
    let job = api.upload(&admin, &a, "IMG_0001.dng", &sample_dng(64, 64, 1));

    let mine = api.get(&format!("/v1/jobs/{job}"), Some(&a_token));
    assert_eq!(mine.status, 200);
    let v = mine.json();
    assert_eq!(
        (v["job_id"].as_str(), v["client_id"].as_str()),
        (Some(job.as_str()), Some(a.as_str()))
    );
    assert_eq!(v["status"], json!("pending"));
    assert!(v["outputs"].as_array().unwrap().is_empty());
    assert_eq!(
        api.get(&format!("/v1/jobs/{job}"), Some(&admin)).status,
        200
    );

    // Another client: 404, exactly as for a job that does not exist.
    let theirs = api.get(&format!("/v1/jobs/{job}"), Some(&b_token));
    let missing = api.get("/v1/jobs/0123456789abcdef01234567", Some(&b_token));
    assert_eq!((theirs.status, missing.status), (404, 404));
    assert_eq!(theirs.body, missing.body);
    assert_eq!(
        api.get(&format!("/v1/jobs/{job}/download"), Some(&b_token))
            .status,
        404
    );
    assert_eq!(
        api.get("/v1/jobs/not-an-id/download", Some(&b_token))
            .status,
        404
    );
    // Missing token: 401 before anything else.
    assert_eq!(
        api.get(&format!("/v1/jobs/{job}/download"), None).status,
        401
    );
    // Not completed (no workers): 409.
    assert_eq!(
        api.get(&format!("/v1/jobs/{job}/download"), Some(&a_token))
            .status,
        409
    );
}

#[test]
fn path_traversal_and_absolute_keys_are_refused() {
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "0"]);
    let addr = srv.addr();
    for target in [
        "/v1/objects/../jobs.sqlite?expires=9999999999&sig=x",
        "/v1/objects/raw/../../link.key?expires=9999999999&sig=x",
        "/v1/objects/..%2F..%2Flink.key?expires=9999999999&sig=x",
        "/v1/objects/%2Fetc%2Fpasswd?expires=9999999999&sig=x",
        "/v1/objects//etc/passwd?expires=9999999999&sig=x",
        "/v1/objects/raw/a%5Cb?expires=9999999999&sig=x",
        "/v1/objects/raw/a%00b?expires=9999999999&sig=x",
    ] {
        for method in ["GET", "PUT"] {
            let status = raw_request(&addr, method, target);
            assert!(
                status == 400 || status == 404,
                "{method} {target}: {status}"
            );
        }
    }
}

#[test]
fn expired_upload_links_are_refused() {
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "0", "--upload-ttl", "1s"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, _) = api.create_client(&admin, "Studio A");
    let (_, url) = api.announce(&admin, &client, "late.dng", "web");
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(api.put(&url, &sample_dng(64, 64, 1)).status, 403);
    assert!(srv.log_contains("link expired"));
}

#[test]
fn a_corrupt_file_fails_at_once_with_the_reason() {
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "1"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, token) = api.create_client(&admin, "Studio A");
    let job = api.upload(
        &admin,
        &client,
        "broken.CR2",
        b"this is not a RAW file at all",
    );
    let v = api.wait_final(&token, &job, Duration::from_secs(30));
    assert_eq!(v["status"], json!("failed"), "{v}");
    assert_eq!(
        v["attempts"],
        json!(1),
        "a corrupt file is not retried: {v}"
    );
    assert!(!v["error"].as_str().unwrap_or("").is_empty(), "{v}");
    assert_eq!(
        api.get(&format!("/v1/jobs/{job}/download"), Some(&token))
            .status,
        409
    );
}

#[test]
fn announced_jobs_are_visible_and_the_studio_cancels_and_retries() {
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "0"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, token) = api.create_client(&admin, "Studio");
    // From the announcement on, the job is there: awaiting its upload.
    let (job, url) = api.announce(&admin, &client, "A.DNG", "web");
    for who in [&admin, &token] {
        let r = api.get(&format!("/v1/jobs/{job}"), Some(who));
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["status"], json!("awaiting_upload"));
    }
    let r = api.get(&format!("/v1/jobs/{job}/download"), Some(&token));
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (409, json!("awaiting_upload"))
    );
    let listed = api
        .get("/v1/jobs?status=awaiting_upload", Some(&admin))
        .json();
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 1);
    // Cancelled before the file came: the upload is refused.
    assert_eq!(
        api.post(&format!("/v1/jobs/{job}/cancel"), Some(&token), json!({}))
            .status,
        403
    );
    let r = api.post(&format!("/v1/jobs/{job}/cancel"), Some(&admin), json!({}));
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("cancelled"))
    );
    assert_eq!(api.put(&url, b"late bytes").status, 409);
    assert_eq!(
        api.post(&format!("/v1/jobs/{job}/retry"), Some(&admin), json!({}))
            .status,
        409
    );
    let missing = "0123456789abcdef01234567";
    assert_eq!(
        api.post(
            &format!("/v1/jobs/{missing}/cancel"),
            Some(&admin),
            json!({})
        )
        .status,
        404
    );
    // A pending job is cancelled too; nothing runs it.
    let pending = api.upload(&admin, &client, "B.DNG", b"bytes");
    let r = api.get(&format!("/v1/jobs/{pending}"), Some(&token));
    assert_eq!(r.json()["status"], json!("pending"));
    let r = api.post(
        &format!("/v1/jobs/{pending}/cancel"),
        Some(&admin),
        json!({}),
    );
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("cancelled"))
    );
    drop(srv);

    // With a worker: a corrupt file fails; retried, it runs (and fails) again.
    let srv = ServerProc::start(dir.path(), &["--workers", "1"]);
    let api = Api::new(&srv.base);
    let bad = api.upload(&admin, &client, "C.DNG", b"not a raw file");
    let v = api.wait_final(&token, &bad, Duration::from_secs(60));
    assert_eq!(
        (v["status"].clone(), v["attempts"].clone()),
        (json!("failed"), json!(1))
    );
    let r = api.post(&format!("/v1/jobs/{bad}/retry"), Some(&admin), json!({}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["attempts"], json!(0));
    let v = api.wait_final(&token, &bad, Duration::from_secs(60));
    assert_eq!(v["status"], json!("failed"), "{v}");
}
