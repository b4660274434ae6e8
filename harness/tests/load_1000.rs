//! Load, run by hand (release build recommended):
//!
//! ```text
//! RAWFLOW_LOAD_JOBS=1000 RAWFLOW_LOAD_WORKERS=2 \
//!   cargo test -p rawflow-harness --test load_1000 -- --ignored --nocapture
//! ```
//!
//! N small uploads (default 1,000 DNGs of 64×64) through the real
//! `rawflow serve` on loopback from 4 upload threads, with several workers.
//! All must complete exactly once; prints the throughput and the p50 / p99
//! time from upload (job created by the PUT) to completed, from the job
//! store's audit trail (ms timestamps).

mod common;

use std::time::{Duration, Instant};

use common::{data_dir, sample_dng, transitions, Api, ServerProc};
use rawflow_jobs::JobStatus;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
#[ignore = "load test: run by hand with --ignored --nocapture"]
fn a_thousand_uploads_complete_once_each() {
    let jobs = env_usize("RAWFLOW_LOAD_JOBS", 1000);
    let workers = env_usize("RAWFLOW_LOAD_WORKERS", 2).to_string();
    let size = env_usize("RAWFLOW_LOAD_SIZE", 64) as u32;
    let dir = data_dir();
    let srv = ServerProc::start(dir.path(), &["--workers", &workers, "--poll-ms", "200"]);
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, _token) = api.create_client(&admin, "Load");
    let files: Vec<Vec<u8>> = (0..16).map(|n| sample_dng(size, size, n)).collect();

    let started = Instant::now();
    let threads = 4;
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (api, admin, client, files) =
                    (Api::new(&srv.base), admin.clone(), client.clone(), &files);
                s.spawn(move || {
                    (t..jobs)
                        .step_by(threads)
                        .map(|n| {
                            let name = format!("IMG_{n:05}.dng");
                            api.upload(&admin, &client, &name, &files[n % files.len()])
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
    let uploaded = started.elapsed();

    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let list = api
            .get(
                &format!("/v1/jobs?client_id={client}&status=completed&limit=10000"),
                Some(&admin),
            )
            .json();
        let done = list["jobs"].as_array().map_or(0, Vec::len);
        if done == jobs {
            break;
        }
        let failed = api.get("/v1/jobs?status=failed", Some(&admin)).json();
        assert_eq!(failed["jobs"].as_array().map_or(0, Vec::len), 0, "{failed}");
        assert!(Instant::now() < deadline, "only {done}/{jobs} completed");
        std::thread::sleep(Duration::from_millis(200));
    }
    let all_done = started.elapsed();

    let mut latencies = Vec::with_capacity(jobs);
    let (mut first_created, mut last_completed) = (i64::MAX, i64::MIN);
    for (id, trail) in transitions(dir.path(), &ids) {
        // The PUT makes the announced job pending.
        let created = trail
            .iter()
            .find(|t| t.to == JobStatus::Pending)
            .map(|t| t.at);
        let completed: Vec<i64> = trail
            .iter()
            .filter(|t| t.to == JobStatus::Completed)
            .map(|t| t.at)
            .collect();
        assert_eq!(
            completed.len(),
            1,
            "job {id} completed {} times",
            completed.len()
        );
        let (Some(c), Some(&d)) = (created, completed.first()) else {
            panic!("job {id}: no creation");
        };
        first_created = first_created.min(c);
        last_completed = last_completed.max(d);
        latencies.push((d - c) as f64 / 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let span = (last_completed - first_created) as f64 / 1000.0;
    println!(
        "load: {jobs} uploads of {size}x{size} DNGs, {workers} workers: uploaded in {:.1} s, \
         all completed after {:.1} s; throughput {:.1} jobs/s (first upload to last completion {:.1} s); \
         upload→completed p50 {:.3} s, p99 {:.3} s, max {:.3} s",
        uploaded.as_secs_f64(),
        all_done.as_secs_f64(),
        jobs as f64 / span.max(1e-3),
        span,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
    );
}
