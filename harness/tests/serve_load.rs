//! 200 uploads, 4 workers, real server: all complete, none developed twice.
//! NEEDS THE ENGINE.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{data_dir, files_under, sample_dng, transitions, Api, ServerProc};
use rawflow_jobs::JobStatus;

#[test]
fn two_hundred_uploads_with_four_workers_complete_once_each() {
    const JOBS: usize = 200;
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", "4", "--poll-ms", "200"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, token) = api.create_client(&admin, "Studio A");

    // Upload from 4 threads at once.
    let started = Instant::now();
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (api, admin, client) = (Api::new(&srv.base), admin.clone(), client.clone());
                s.spawn(move || {
                    (0..JOBS / 4)
                        .map(|i| {
                            let n = t * (JOBS / 4) + i;
                            let bytes = sample_dng(64, 64, n as u32);
                            api.upload(&admin, &client, &format!("IMG_{n:04}.dng"), &bytes)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), JOBS);
    let uploaded = started.elapsed();

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let list = api
            .get(
                &format!("/v1/jobs?client_id={client}&status=completed"),
                Some(&admin),
            )
            .json();
        let done = list["jobs"].as_array().map_or(0, Vec::len);
        if done == JOBS {
            break;
        }
        let failed = api.get("/v1/jobs?status=failed", Some(&admin)).json();
        assert_eq!(
            failed["jobs"].as_array().map_or(0, Vec::len),
            0,
            "failed jobs: {failed}"
        );
        assert!(Instant::now() < deadline, "only {done}/{JOBS} completed");
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "{JOBS} jobs: uploaded in {:.1} s, all completed after {:.1} s",
        uploaded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    // Each job: created once, claimed once, completed once.
    let mut workers = HashSet::new();
    for (id, trail) in transitions(dir.path(), &ids) {
        let moves: Vec<(Option<JobStatus>, JobStatus)> =
            trail.iter().map(|t| (t.from, t.to)).collect();
        assert_eq!(
            moves,
            [
                (None, JobStatus::AwaitingUpload),
                (Some(JobStatus::AwaitingUpload), JobStatus::Pending),
                (Some(JobStatus::Pending), JobStatus::Running),
                (Some(JobStatus::Running), JobStatus::Completed)
            ],
            "job {id}: {trail:#?}"
        );
        workers.insert(trail[2].worker_id.clone());
        let v = api.get(&format!("/v1/jobs/{id}"), Some(&token)).json();
        assert_eq!(v["attempts"], serde_json::json!(1));
        // The web rendition and the gallery's thumbnail.
        assert_eq!(v["outputs"].as_array().unwrap().len(), 2);
    }
    eprintln!("workers that ran jobs: {}", workers.len());
    // Two outputs per job on disk (web, thumb), nothing else.
    let outputs = files_under(&dir.path().join("objects/processed"));
    assert_eq!(
        outputs.len(),
        2 * JOBS,
        "{:?}",
        &outputs[..outputs.len().min(5)]
    );
    assert!(outputs
        .iter()
        .all(|f| f.ends_with("/web.jpg") || f.ends_with("/thumb.jpg")));
}
