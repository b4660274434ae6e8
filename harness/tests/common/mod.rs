//! Helpers for the server tests: run the real `rawflow serve` binary on a
//! loopback port with a real data folder, and talk to it over HTTP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub mod webdriver;

#[path = "../../src/sample_dng.rs"]
mod sample_dng_impl;
pub use sample_dng_impl::sample_dng;

/// A `rawflow serve` child process.
pub struct ServerProc {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The admin token printed on first start.
    pub admin: Option<String>,
    /// Everything the server wrote to stderr (logs).
    pub log: Arc<Mutex<String>>,
}

impl ServerProc {
    /// Start `rawflow serve --data DATA --listen 127.0.0.1:0 EXTRA…` and wait
    /// until it listens.
    pub fn start(data: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rawflow"))
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RAWFLOW_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rawflow serve");
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("stderr");
        let log2 = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log2.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut admin = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("server did not start; log:\n{}", log.lock().unwrap()));
            if let Some(t) = line.strip_prefix("RAWFLOW_ADMIN_TOKEN=") {
                admin = Some(t.to_string());
            }
            if let Some(rest) = line.strip_prefix("rawflow: listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        Self {
            child,
            base,
            admin,
            log,
        }
    }

    /// SIGKILL the server and wait for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Wait (up to 5 s) until the log contains `needle`.
    pub fn log_contains(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port.
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("---- server log ----\n{}", self.log());
        }
    }
}

/// A small HTTP client.
pub struct Api {
    agent: ureq::Agent,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// An HTTP response, read whole.
pub struct Resp {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

fn read(mut r: ureq::http::Response<ureq::Body>) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap_or_default();
    Resp {
        status,
        headers,
        body,
    }
}

impl Api {
    pub fn new(base: &str) -> Self {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build(),
        );
        Self {
            agent,
            base: base.to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.agent.get(self.url(path));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        read(req.call().expect("GET"))
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        let mut req = self.agent.post(self.url(path));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        read(req.send_json(body).expect("POST"))
    }

    pub fn put(&self, url: &str, bytes: &[u8]) -> Resp {
        read(self.agent.put(self.url(url)).send(bytes).expect("PUT"))
    }

    /// Create a client: (id, token).
    pub fn create_client(&self, admin: &str, name: &str) -> (String, String) {
        let r = self.post("/v1/clients", Some(admin), json!({ "name": name }));
        assert_eq!(
            r.status,
            201,
            "create client: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        (
            v["client_id"].as_str().unwrap().to_string(),
            v["token"].as_str().unwrap().to_string(),
        )
    }

    /// Announce an upload: (job id, upload url).
    pub fn announce(
        &self,
        admin: &str,
        client: &str,
        filename: &str,
        recipe: &str,
    ) -> (String, String) {
        let r = self.post(
            "/v1/uploads",
            Some(admin),
            json!({ "client_id": client, "filename": filename, "recipe": recipe }),
        );
        assert_eq!(
            r.status,
            201,
            "announce: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        (
            v["job_id"].as_str().unwrap().to_string(),
            v["upload_url"].as_str().unwrap().to_string(),
        )
    }

    /// Announce and PUT: the job id.
    pub fn upload(&self, admin: &str, client: &str, filename: &str, bytes: &[u8]) -> String {
        let (job, url) = self.announce(admin, client, filename, "web");
        let r = self.put(&url, bytes);
        assert_eq!(r.status, 201, "PUT: {}", String::from_utf8_lossy(&r.body));
        job
    }

    /// Poll the job until its status is final; the job JSON.
    pub fn wait_final(&self, token: &str, job: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.get(&format!("/v1/jobs/{job}"), Some(token));
            assert_eq!(r.status, 200);
            let v = r.json();
            match v["status"].as_str() {
                Some("completed" | "failed" | "cancelled" | "upload_expired") => return v,
                _ if Instant::now() > deadline => panic!("job {job} not finished: {v}"),
                _ => std::thread::sleep(Duration::from_millis(25)),
            }
        }
    }
}

/// Send one raw HTTP/1.1 request (no client-side path normalisation) and
/// return the status code.
pub fn raw_request(addr: &str, method: &str, target: &str) -> u16 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Send request headers (and, when `chunked_body` is given, that many bytes
/// as one chunk) on a raw connection and return the status code.
pub fn raw_put(
    addr: &str,
    target: &str,
    content_length: Option<u64>,
    chunked_body: Option<usize>,
) -> u16 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!("PUT {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(n) = content_length {
        head.push_str(&format!("Content-Length: {n}\r\n"));
    }
    if chunked_body.is_some() {
        head.push_str("Transfer-Encoding: chunked\r\n");
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes());
    if let Some(n) = chunked_body {
        let _ = write!(s, "{n:x}\r\n");
        let _ = s.write_all(&vec![0u8; n]);
        let _ = s.write_all(b"\r\n0\r\n\r\n");
    }
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    String::from_utf8_lossy(&resp)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A fresh temporary data folder.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Path helper.
pub fn objects_root(data: &Path) -> PathBuf {
    data.join("objects")
}

/// SHA-256 hex.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    rawflow_jobs::ids::hex(&sha2::Sha256::digest(bytes))
}

/// The audit trail of every job in the data folder, read with the job store
/// the server uses: job id → [(from, to, attempt, worker)].
pub fn transitions(
    data: &Path,
    job_ids: &[String],
) -> Vec<(String, Vec<rawflow_jobs::Transition>)> {
    use rawflow_jobs::JobStore;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = rawflow_jobs::SqliteJobStore::open(data.join("jobs.sqlite")).unwrap();
        let mut out = Vec::new();
        for id in job_ids {
            out.push((id.clone(), store.transitions(id).await.unwrap()));
        }
        out
    })
}

/// Every file under `dir`, relative, sorted (including temporary ones).
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Decode a JPEG: (width, height).
pub fn decode_jpeg(bytes: &[u8]) -> (usize, usize) {
    let img = turbojpeg::decompress(bytes, turbojpeg::PixelFormat::RGB).expect("a valid JPEG");
    (img.width, img.height)
}

/// What a `rawflow` command did.
pub struct Run {
    /// Exit status (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Standard output as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Run the `rawflow` binary with `RAWFLOW_SERVER` and `RAWFLOW_TOKEN` set.
pub fn rawflow(server: &str, token: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rawflow"));
    cmd.args(args)
        .env("RAWFLOW_SERVER", server)
        .env_remove("RAWFLOW_TOKEN")
        .stdin(Stdio::null());
    if let Some(t) = token {
        cmd.env("RAWFLOW_TOKEN", t);
    }
    let out = cmd.output().expect("run rawflow");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
