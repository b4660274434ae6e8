//! A private AWS emulator (moto, server mode) for one test: started through
//! `scripts/moto start` on a free loopback port, stopped when dropped.
//!
//! If the emulator cannot be started the test fails, unless
//! `RAWFLOW_SKIP_AWS_TESTS=1`, in which case [`Moto::start`] returns `None`
//! and the test returns early.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// A running moto server.
pub struct Moto {
    pid: u32,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/moto")
}

impl Moto {
    /// Start a server (installing moto into its venv first if needed).
    pub fn start() -> Option<Self> {
        if std::env::var("RAWFLOW_SKIP_AWS_TESTS").as_deref() == Ok("1") {
            eprintln!("RAWFLOW_SKIP_AWS_TESTS=1: skipping a test that needs the AWS emulator");
            return None;
        }
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .output()
            .unwrap_or_else(|e| panic!("running scripts/moto: {e} (set RAWFLOW_SKIP_AWS_TESTS=1 to skip the AWS tests)"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "scripts/moto start failed (python3 with venv and pip needed; set RAWFLOW_SKIP_AWS_TESTS=1 to skip the AWS tests):\n{}\n{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pid = None;
        let mut endpoint = None;
        for line in stdout.lines() {
            if let Some(p) = line.strip_prefix("RAWFLOW_MOTO_PID=") {
                pid = p.trim().parse().ok();
            }
            if let Some(e) = line.strip_prefix("AWS_ENDPOINT_URL=") {
                endpoint = Some(e.trim().to_string());
            }
        }
        match (pid, endpoint) {
            (Some(pid), Some(endpoint)) => Some(Self { pid, endpoint }),
            _ => panic!("scripts/moto start printed no endpoint:\n{stdout}"),
        }
    }

    /// The environment a process needs to use this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// An SDK configuration for this emulator (no process environment used).
    pub async fn sdk_config(&self) -> rawflow_jobs::aws::aws_config::SdkConfig {
        use rawflow_jobs::aws::aws_config;
        use rawflow_jobs::aws::aws_sdk_s3::config::Credentials;
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}
