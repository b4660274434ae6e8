//! A full scratch disk is a clear job failure, not a crash: the real
//! `rawflow serve` with its scratch folder on a 1 MiB tmpfs (needs root to
//! mount; skipped with a message otherwise). NEEDS THE ENGINE.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{data_dir, sample_dng, Api, ServerProc};
use serde_json::json;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_scratch_disk_fails_the_job_clearly_and_the_server_keeps_working() {
    let dir = data_dir();
    let Some(_tmpfs) = Tmpfs::mount(&dir.path().join("scratch"), "1m") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    let srv = ServerProc::start(
        dir.path(),
        &["--workers", "1", "--max-attempts", "2", "--poll-ms", "50"],
    );
    let admin = srv.admin.clone().unwrap();
    let api = Api::new(&srv.base);
    let (client, token) = api.create_client(&admin, "Studio A");

    // ~3 MiB: does not fit on the 1 MiB scratch disk.
    let big = api.upload(&admin, &client, "BIG.dng", &sample_dng(1536, 1024, 1));
    let v = api.wait_final(&token, &big, Duration::from_secs(60));
    assert_eq!(v["status"], json!("failed"), "{v}");
    let reason = v["error"].as_str().unwrap_or("");
    assert!(
        reason.contains("No space left on device"),
        "the reason names the full disk: {v}"
    );
    assert_eq!(v["attempts"], json!(2), "{v}");

    // A small file still develops: the server did not crash, and the
    // failed attempt's scratch copy was removed.
    let small = api.upload(&admin, &client, "SMALL.dng", &sample_dng(64, 64, 2));
    let v = api.wait_final(&token, &small, Duration::from_secs(60));
    assert_eq!(v["status"], json!("completed"), "{v}");
    assert!(srv.log_contains("No space left on device"));
    eprintln!("disk full: job failed with {reason:?}");
}
