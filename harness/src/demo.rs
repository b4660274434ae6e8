//! `rawflow demo`: the README's first command. Starts `rawflow serve`
//! in-process on a loopback port, then walks one RAW file through the API as
//! the studio would — create a client, announce an upload, PUT the file, wait
//! for the job, get a signed link, download — printing each step.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::sample_dng::sample_dng;
use crate::serve::{self, ServeArgs};

/// Options of `rawflow demo`.
#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// RAW file to develop [default: a small synthetic DNG].
    #[arg(long)]
    pub raw: Option<PathBuf>,
    /// Data folder [default: a temporary folder, removed afterwards].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Recipe: web, full or master.
    #[arg(long, default_value = "web")]
    pub recipe: String,
    /// The admin token, when `--data` already has one.
    #[arg(long, env = "RAWFLOW_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Save the downloaded output here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// In-process workers [default: as `rawflow serve`].
    #[arg(long)]
    pub workers: Option<usize>,
}

/// Run the demo; an error (non-zero exit) if any step fails.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    if std::env::var_os("RAWFLOW_LOG").is_some() {
        serve::init_tracing();
    }
    let temp = match &args.data {
        Some(_) => None,
        None => Some(std::env::temp_dir().join(format!(
            "rawflow-demo-{}-{}",
            std::process::id(),
            rawflow_jobs::ids::hex(&rawflow_jobs::ids::random_bytes::<4>())
        ))),
    };
    let data = args
        .data
        .clone()
        .or_else(|| temp.clone())
        .context("no data folder")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(demo(args, data));
    if let Some(t) = temp {
        let _ = std::fs::remove_dir_all(t);
    }
    result
}

async fn demo(args: DemoArgs, data: PathBuf) -> anyhow::Result<()> {
    let clock = Instant::now();
    let server = serve::start(&ServeArgs {
        data: data.clone(),
        listen: "127.0.0.1:0".parse()?,
        workers: args.workers,
        link_ttl: Duration::from_secs(15 * 60),
        upload_ttl: Duration::from_secs(3600),
        max_upload_bytes: 1 << 30,
        max_attempts: 3,
        public_url: None,
        lease_seconds: 30,
        poll_ms: 2000,
        max_raw_bytes: 512 << 20,
        max_megapixels: 200.0,
        max_decode_seconds: 60,
        job_delay_ms: 0,
    })
    .await?;
    step(
        &clock,
        &format!(
            "server up at {} (data {}, {} worker(s))",
            server.base_url,
            data.display(),
            server.workers
        ),
    );
    let admin = server.new_admin_token.clone().or(args.admin_token.clone());
    let base = server.base_url.clone();
    let flow = tokio::task::spawn_blocking(move || {
        let admin = admin.context(
            "the data folder already has an admin token: pass it with --admin-token or RAWFLOW_ADMIN_TOKEN",
        )?;
        walk_through(&clock, &base, &admin, &args, &data)
    })
    .await;
    server.shutdown().await;
    flow.context("the demo client crashed")?
}

fn step(clock: &Instant, what: &str) {
    println!(
        "[{:>7.1} ms] {what}",
        clock.elapsed().as_secs_f64() * 1000.0
    );
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build(),
    )
}

fn json_of(resp: &mut ureq::http::Response<ureq::Body>, what: &str) -> anyhow::Result<Value> {
    let status = resp.status();
    let body: Value = resp
        .body_mut()
        .read_json()
        .with_context(|| format!("{what}: HTTP {status} without JSON"))?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {}", body["error"]);
    }
    Ok(body)
}

fn str_of<'a>(v: &'a Value, field: &str) -> anyhow::Result<&'a str> {
    v[field]
        .as_str()
        .with_context(|| format!("the response has no {field:?}: {v}"))
}

fn walk_through(
    clock: &Instant,
    base: &str,
    admin: &str,
    args: &DemoArgs,
    data: &std::path::Path,
) -> anyhow::Result<()> {
    let http = agent();
    let admin_auth = format!("Bearer {admin}");

    let raw = match &args.raw {
        Some(p) => p.clone(),
        None => {
            let p = data.join("demo-sample.dng");
            std::fs::write(&p, sample_dng(384, 256, 1))?;
            step(
                clock,
                &format!(
                    "no --raw given: wrote a 384x256 synthetic DNG to {}",
                    p.display()
                ),
            );
            p
        }
    };
    let filename = crate::client::upload::upload_filename(&raw);

    let mut r = http
        .post(format!("{base}/v1/clients"))
        .header("Authorization", &admin_auth)
        .send_json(json!({ "name": "demo studio" }))?;
    let client = json_of(&mut r, "create client")?;
    let client_id = str_of(&client, "client_id")?.to_string();
    let client_auth = format!("Bearer {}", str_of(&client, "token")?);
    step(
        clock,
        &format!("client created: {client_id} (its token is shown once)"),
    );

    let mut r = http
        .post(format!("{base}/v1/uploads"))
        .header("Authorization", &admin_auth)
        .send_json(
            json!({ "client_id": client_id, "filename": filename, "recipe": args.recipe }),
        )?;
    let upload = json_of(&mut r, "announce upload")?;
    let job_id = str_of(&upload, "job_id")?.to_string();
    step(
        clock,
        &format!(
            "upload announced: job {job_id}, recipe {}, link expires {}",
            args.recipe,
            str_of(&upload, "expires_at")?
        ),
    );

    let file = std::fs::File::open(&raw).with_context(|| format!("opening {}", raw.display()))?;
    let size = file.metadata()?.len();
    let mut r = http.put(str_of(&upload, "upload_url")?).send(&file)?;
    let put = json_of(&mut r, "upload")?;
    step(
        clock,
        &format!(
            "uploaded {filename}: {size} bytes, sha256 {}",
            str_of(&put, "sha256")?
        ),
    );

    let deadline = Instant::now() + Duration::from_secs(600);
    let job = loop {
        let mut r = http
            .get(format!("{base}/v1/jobs/{job_id}"))
            .header("Authorization", &client_auth)
            .call()?;
        let job = json_of(&mut r, "job status")?;
        match str_of(&job, "status")? {
            "completed" => break job,
            "failed" => bail!("the job failed: {}", job["error"]),
            _ if Instant::now() > deadline => bail!("the job did not finish in 10 minutes"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let timings = job["timings"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} {:.1} ms", v.as_f64().unwrap_or(0.0) * 1000.0))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    step(clock, &format!("job completed: {timings}"));

    let mut r = http
        .get(format!("{base}/v1/jobs/{job_id}/download"))
        .header("Authorization", &client_auth)
        .call()?;
    let link = json_of(&mut r, "download link")?;
    step(
        clock,
        &format!(
            "signed download link issued, expires {}",
            str_of(&link, "expires_at")?
        ),
    );

    let mut r = http.get(str_of(&link, "url")?).call()?;
    if !r.status().is_success() {
        bail!("download: HTTP {}", r.status());
    }
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (ctype, disposition) = (header("content-type"), header("content-disposition"));
    let bytes = r.body_mut().with_config().limit(4 << 30).read_to_vec()?;
    let sha = {
        use sha2::Digest;
        rawflow_jobs::ids::hex(&sha2::Sha256::digest(&bytes))
    };
    if sha != str_of(&link, "sha256")? {
        bail!("the download does not match the job's output hash");
    }
    step(
        clock,
        &format!(
            "downloaded {} bytes ({ctype}; {disposition}); sha256 matches the job record",
            bytes.len()
        ),
    );
    if let Some(out) = &args.out {
        std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
        step(clock, &format!("saved to {}", out.display()));
    }
    Ok(())
}
