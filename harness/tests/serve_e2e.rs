//! The whole pipeline through the real `rawflow serve` binary: upload →
//! develop with the engine → signed download. NEEDS THE ENGINE (demosaic and
//! JPEG encoder): these fail until the engine work is merged.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{data_dir, decode_jpeg, sample_dng, sha256, Api, ServerProc};
use serde_json::json;

#[test]
fn upload_develop_and_download_a_jpeg() {
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "1"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (a, a_token) = api.create_client(&admin, "Studio A");
    let (_b, b_token) = api.create_client(&admin, "Studio B");
    let job = api.upload(&admin, &a, "IMG_0001.dng", &sample_dng(64, 64, 3));

    let v = api.wait_final(&a_token, &job, Duration::from_secs(60));
    assert_eq!(v["status"], json!("completed"), "{v}");
    assert_eq!(v["attempts"], json!(1));
    let outputs = v["outputs"].as_array().unwrap();
    // The recipe's rendition, then the gallery's thumbnail from the same development.
    assert_eq!(outputs.len(), 2, "{v}");
    assert_eq!(outputs[0]["name"], json!("web"));
    assert_eq!(outputs[1]["name"], json!("thumb"));
    for stage in ["fetch", "decode", "demosaic", "encode", "store"] {
        assert!(v["timings"][stage].is_number(), "no {stage} timing: {v}");
    }

    // The link: the owner only (another client sees nothing).
    assert_eq!(
        api.get(&format!("/v1/jobs/{job}/download"), Some(&b_token))
            .status,
        404
    );
    assert_eq!(
        api.get(
            &format!("/v1/jobs/{job}/download?rendition=full"),
            Some(&a_token)
        )
        .status,
        404
    );
    let r = api.get(
        &format!("/v1/jobs/{job}/download?rendition=web"),
        Some(&a_token),
    );
    assert_eq!(r.status, 200);
    let link = r.json();
    let url = link["url"].as_str().unwrap().to_string();
    assert!(link["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(url.contains(&format!("/v1/objects/processed/{a}/{job}/web.jpg?expires=")));
    assert_eq!(
        api.get(&format!("/v1/jobs/{job}/download"), Some(&a_token))
            .status,
        200,
        "one rendition: name optional"
    );

    // Following it: the bytes of the rendition, a valid JPEG, as an attachment.
    let d = api.get(&url, None);
    assert_eq!(d.status, 200);
    assert_eq!(d.header("content-type"), "image/jpeg");
    assert_eq!(
        d.header("content-disposition"),
        "attachment; filename=\"IMG_0001-web.jpg\""
    );
    assert_eq!(sha256(&d.body), outputs[0]["sha256"].as_str().unwrap());
    assert_eq!(d.body.len() as u64, outputs[0]["bytes"].as_u64().unwrap());
    let on_disk = std::fs::read(
        dir.path()
            .join(format!("objects/processed/{a}/{job}/web.jpg")),
    )
    .unwrap();
    assert_eq!(d.body, on_disk);
    assert_eq!(decode_jpeg(&d.body), (64, 64));

    // Tampered links: 403.
    let flip_last = format!(
        "{}{}",
        &url[..url.len() - 1],
        if url.ends_with('A') { 'B' } else { 'A' }
    );
    assert_eq!(api.get(&flip_last, None).status, 403, "signature changed");
    assert_eq!(
        api.get(&url.replace("web.jpg", "web.jpeg"), None).status,
        403,
        "key changed"
    );
    let raw_key = url.replace(
        &format!("processed/{a}/{job}/web.jpg"),
        &format!("raw/{a}/{job}/IMG_0001.dng"),
    );
    assert_eq!(api.get(&raw_key, None).status, 403, "another object");
    let (head, tail) = url.split_once("expires=").unwrap();
    let (exp, rest) = tail.split_once('&').unwrap();
    let later = format!(
        "{head}expires={}&{rest}",
        exp.parse::<u64>().unwrap() + 3600
    );
    assert_eq!(api.get(&later, None).status, 403, "expiry extended");
    assert_eq!(
        api.put(&url, b"overwrite?").status,
        403,
        "a GET link is not a PUT link"
    );
}

#[test]
fn expired_download_links_are_refused() {
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "1", "--link-ttl", "1s"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (a, a_token) = api.create_client(&admin, "Studio A");
    let job = api.upload(&admin, &a, "IMG_0002.dng", &sample_dng(64, 64, 4));
    let v = api.wait_final(&a_token, &job, Duration::from_secs(60));
    assert_eq!(v["status"], json!("completed"), "{v}");
    let url = api
        .get(&format!("/v1/jobs/{job}/download"), Some(&a_token))
        .json()["url"]
        .as_str()
        .unwrap()
        .to_string();
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(api.get(&url, None).status, 403);
    assert!(srv.log_contains("link expired"));
}

#[test]
fn the_demo_runs_end_to_end() {
    let out = Command::new(env!("CARGO_BIN_EXE_rawflow"))
        .arg("demo")
        .env_remove("RAWFLOW_ADMIN_TOKEN")
        .output()
        .expect("run rawflow demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rawflow demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "server up",
        "client created",
        "uploaded",
        "job completed",
        "downloaded",
    ] {
        assert!(stdout.contains(step), "no {step:?} step in:\n{stdout}");
    }
}
