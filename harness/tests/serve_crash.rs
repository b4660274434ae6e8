//! Crash recovery: the real `rawflow serve` killed with SIGKILL in the middle
//! of a job, then started again on the same data folder. NEEDS THE ENGINE.

mod common;

use std::time::{Duration, Instant};

use common::{
    data_dir, decode_jpeg, files_under, sample_dng, sha256, transitions, Api, ServerProc,
};
use rawflow_jobs::JobStatus;
use serde_json::json;

#[test]
fn a_job_interrupted_by_sigkill_completes_exactly_once_after_restart() {
    let dir = data_dir();
    let lease = ["--lease-seconds", "2", "--poll-ms", "100", "--workers", "1"];
    let mut first = ServerProc::start(
        dir.path(),
        &[&lease[..], &["--job-delay-ms", "5000"]].concat(),
    );
    let admin = first.admin.clone().unwrap();
    let api = Api::new(&first.base);
    let (client, token) = api.create_client(&admin, "Studio A");
    let job = api.upload(&admin, &client, "IMG_0001.dng", &sample_dng(64, 64, 9));

    // Wait until a worker holds it, then kill the server mid-job.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = api.get(&format!("/v1/jobs/{job}"), Some(&token)).json();
        if v["status"] == json!("running") {
            break;
        }
        assert!(Instant::now() < deadline, "never running: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    first.kill();
    let processed = dir.path().join("objects/processed");
    let visible: Vec<String> = files_under(&processed)
        .into_iter()
        .filter(|f| !f.rsplit('/').next().unwrap_or("").starts_with('.'))
        .collect();
    assert!(
        visible.is_empty(),
        "outputs visible before completion: {visible:?}"
    );

    // Start again: the lease expires, another attempt completes the job.
    let second = ServerProc::start(dir.path(), &lease);
    assert!(second.admin.is_none());
    let api = Api::new(&second.base);
    let v = api.wait_final(&token, &job, Duration::from_secs(60));
    assert_eq!(v["status"], json!("completed"), "{v}");
    assert_eq!(v["attempts"], json!(2), "{v}");

    let trail = &transitions(dir.path(), std::slice::from_ref(&job))[0].1;
    let moves: Vec<(Option<JobStatus>, JobStatus, u32)> =
        trail.iter().map(|t| (t.from, t.to, t.attempt)).collect();
    assert_eq!(
        moves,
        [
            (None, JobStatus::AwaitingUpload, 0),
            (Some(JobStatus::AwaitingUpload), JobStatus::Pending, 0),
            (Some(JobStatus::Pending), JobStatus::Running, 1),
            (Some(JobStatus::Running), JobStatus::Running, 2),
            (Some(JobStatus::Running), JobStatus::Completed, 2),
        ],
        "{trail:#?}"
    );

    // Exactly the recipe's output and the gallery's thumbnail, complete,
    // matching the record; no leftovers.
    let files = files_under(&processed);
    assert_eq!(
        files,
        [
            format!("{client}/{job}/thumb.jpg"),
            format!("{client}/{job}/web.jpg")
        ],
        "{files:?}"
    );
    let bytes = std::fs::read(processed.join(&files[1])).unwrap();
    assert_eq!(sha256(&bytes), v["outputs"][0]["sha256"].as_str().unwrap());
    assert_eq!(decode_jpeg(&bytes), (64, 64));
    let url = api
        .get(&format!("/v1/jobs/{job}/download"), Some(&token))
        .json()["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api.get(&url, None).body, bytes);
    assert!(
        files_under(&dir.path().join("scratch")).is_empty(),
        "scratch copies cleaned"
    );
}

/// Every output file visible under `processed/` is complete: a whole JPEG.
fn assert_visible_outputs_complete(processed: &std::path::Path) -> usize {
    let mut n = 0;
    for f in files_under(processed) {
        if f.rsplit('/').next().unwrap_or("").starts_with('.') {
            continue; // an unfinished write's temporary file: never a key
        }
        let bytes = std::fs::read(processed.join(&f)).unwrap();
        assert!(bytes.ends_with(&[0xFF, 0xD9]), "{f} is truncated");
        decode_jpeg(&bytes);
        n += 1;
    }
    n
}

#[test]
fn repeated_sigkills_while_jobs_run_never_expose_partial_outputs_or_double_completions() {
    const JOBS: usize = 12;
    let dir = data_dir();
    // Each job waits 100 ms before developing, so that kills land mid-job.
    let args = [
        "--lease-seconds",
        "1",
        "--poll-ms",
        "100",
        "--workers",
        "1",
        "--max-attempts",
        "20",
        "--job-delay-ms",
        "100",
    ];
    let mut srv = ServerProc::start(dir.path(), &args);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, token) = api.create_client(&admin, "Studio A");
    let mut ids = Vec::new();
    for n in 0..JOBS {
        let (job, url) = api.announce(&admin, &client, &format!("IMG_{n:04}.dng"), "full");
        assert_eq!(api.put(&url, &sample_dng(1024, 768, n as u32)).status, 201);
        ids.push(job);
    }
    let processed = dir.path().join("objects/processed");
    // Kill at staggered moments while the jobs run, checking the outputs each time.
    for round in 0..6u64 {
        std::thread::sleep(Duration::from_millis(120 + 70 * round));
        srv.kill();
        assert_visible_outputs_complete(&processed);
        srv = ServerProc::start(dir.path(), &args);
    }
    let api = Api::new(&srv.base);
    for id in &ids {
        let v = api.wait_final(&token, id, Duration::from_secs(120));
        assert_eq!(v["status"], json!("completed"), "{v}");
    }
    // Each job: its web rendition and the gallery's thumbnail.
    assert_eq!(assert_visible_outputs_complete(&processed), 2 * JOBS);
    let mut interrupted = 0;
    for (id, trail) in transitions(dir.path(), &ids) {
        let completions = trail
            .iter()
            .filter(|t| t.to == JobStatus::Completed)
            .count();
        assert_eq!(completions, 1, "job {id}: {trail:#?}");
        assert_eq!(trail.last().map(|t| t.to), Some(JobStatus::Completed));
        if trail.iter().filter(|t| t.to == JobStatus::Running).count() > 1 {
            interrupted += 1;
        }
    }
    eprintln!("{interrupted} of {JOBS} jobs were interrupted by a kill and redone");
    assert!(
        interrupted >= 1,
        "no kill landed mid-job: the test proved nothing"
    );
}

/// SplitMix64, for reproducible kill moments.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn sigkills_at_random_points_lose_no_job() {
    const GOOD: usize = 10;
    const CORRUPT: usize = 3;
    const KILLS: usize = 12;
    let dir = data_dir();
    let args = [
        "--lease-seconds",
        "1",
        "--poll-ms",
        "50",
        "--workers",
        "2",
        "--max-attempts",
        "30",
    ];
    let mut srv = ServerProc::start(dir.path(), &args);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, token) = api.create_client(&admin, "Studio A");
    let mut ids = Vec::new();
    for n in 0..GOOD + CORRUPT {
        let (job, url) = api.announce(&admin, &client, &format!("IMG_{n:04}.dng"), "full");
        let bytes = if n < GOOD {
            sample_dng(768, 512, n as u32)
        } else {
            b"II*\0 not really a RAW file".repeat(n)
        };
        assert_eq!(api.put(&url, &bytes).status, 201);
        ids.push(job);
    }
    let processed = dir.path().join("objects/processed");
    // Kill at pseudo-random moments (seeded): anywhere from the claim to the
    // output writes and the completion record.
    let mut seed = 0xC0FF_EE00_D15E_A5E5u64;
    let mut kills = 0;
    for _ in 0..KILLS {
        let wait = 30 + splitmix(&mut seed) % 700;
        std::thread::sleep(Duration::from_millis(wait));
        srv.kill();
        kills += 1;
        assert_visible_outputs_complete(&processed);
        srv = ServerProc::start(dir.path(), &args);
    }
    let api = Api::new(&srv.base);
    let mut lost = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let v = api.wait_final(&token, id, Duration::from_secs(180));
        let want = if n < GOOD { "completed" } else { "failed" };
        if v["status"] != json!(want) {
            lost.push(format!("{id}: {v}"));
        }
        if want == "failed" && v["error"].as_str().unwrap_or("").is_empty() {
            lost.push(format!("{id} failed without a reason: {v}"));
        }
    }
    assert_eq!(assert_visible_outputs_complete(&processed), 2 * GOOD);
    let mut interrupted = 0;
    for (id, trail) in transitions(dir.path(), &ids) {
        let finals = trail
            .iter()
            .filter(|t| matches!(t.to, JobStatus::Completed | JobStatus::Failed))
            .count();
        if finals != 1 {
            lost.push(format!("{id} reached a final state {finals} times"));
        }
        if trail.iter().filter(|t| t.to == JobStatus::Running).count() > 1 {
            interrupted += 1;
        }
    }
    eprintln!(
        "random SIGKILLs: {kills} kills injected, {interrupted} of {} jobs interrupted and redone, {} jobs lost",
        ids.len(),
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "lost or doubled jobs:\n{}",
        lost.join("\n")
    );
}
