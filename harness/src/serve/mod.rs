//! `rawflow serve`: the whole studio pipeline on one machine, no AWS.
//!
//! An HTTP API (axum) over a local object store and a SQLite job store, with
//! in-process workers running the engine. See `data_dir` for the data folder
//! layout and `api` / `objects` for the endpoints.

mod api;
mod auth;
pub mod data_dir;
mod error;
mod gallery;
mod objects;
mod state;
mod zip;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use rawflow_jobs::uploads::DEFAULT_MAX_ATTEMPTS;
use rawflow_jobs::{LinkSigner, LocalObjectStore, Processor, SqliteJobStore};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::worker_runtime::{
    default_worker_count, spawn_pool, DelayedProcessor, LimitedEngineProcessor, PoolConfig,
};
use data_dir::DataDir;
use state::AppState;

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

/// Options of `rawflow serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Data folder (created if missing): jobs.sqlite, objects/, scratch/, admin.token, link.key.
    #[arg(long)]
    pub data: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// In-process workers [default: max(1, vCPUs / engine threads)]; 0 runs the API only.
    #[arg(long)]
    pub workers: Option<usize>,
    /// How long download links stay valid.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub link_ttl: Duration,
    /// How long upload links stay valid.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub upload_ttl: Duration,
    /// The largest accepted upload, in bytes.
    #[arg(long, default_value_t = 1 << 30)]
    pub max_upload_bytes: u64,
    /// Attempts per job before it is failed.
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS)]
    pub max_attempts: u32,
    /// Origin put in front of signed links [default: http://<listen address>].
    #[arg(long)]
    pub public_url: Option<String>,
    /// Job lease in seconds (renewed every third of it while a job runs).
    #[arg(long, default_value_t = 30, hide = true)]
    pub lease_seconds: u64,
    /// How often idle workers look for jobs, in milliseconds.
    #[arg(long, default_value_t = 2000, hide = true)]
    pub poll_ms: u64,
    /// The largest RAW file a job will decode, in bytes.
    #[arg(long, default_value_t = 512 << 20)]
    pub max_raw_bytes: u64,
    /// The largest image a job will decode, in megapixels.
    #[arg(long, default_value_t = 200.0)]
    pub max_megapixels: f64,
    /// The longest one decode may take, in seconds.
    #[arg(long, default_value_t = 60)]
    pub max_decode_seconds: u64,
    /// Testing: wait this long before developing each job.
    #[arg(long, default_value_t = 0, hide = true)]
    pub job_delay_ms: u64,
}

/// A running server.
pub struct Server {
    /// `http://addr` (or `--public-url`).
    pub base_url: String,
    /// The admin token, when this start created it (print it once).
    pub new_admin_token: Option<String>,
    /// Number of workers started.
    pub workers: usize,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    worker_tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Stop accepting requests, let workers finish their current job, and wait.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Ok(Err(e)) = self.http.await {
            tracing::warn!(error = %e, "HTTP server stopped with an error");
        }
        for w in self.worker_tasks {
            let _ = w.await;
        }
    }
}

/// Open the data folder, bind, and start the API and the workers.
pub async fn start(args: &ServeArgs) -> anyhow::Result<Server> {
    let data = DataDir::prepare(&args.data)?;
    let objects = Arc::new(LocalObjectStore::open(data.objects())?);
    // Only this process writes here: leftovers are from a crash.
    let stale = objects.remove_stale_temp_files()?;
    if stale > 0 {
        tracing::info!(count = stale, "removed unfinished writes left by a crash");
    }
    clear_folder(&data.scratch())?;
    let jobs = Arc::new(
        SqliteJobStore::open(data.jobs_db())
            .with_context(|| format!("opening {}", data.jobs_db().display()))?,
    );
    let gallery = Arc::new(
        rawflow_jobs::gallery::SqliteGalleryStore::open(data.jobs_db())
            .with_context(|| format!("opening {}", data.jobs_db().display()))?,
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let base_url = args
        .public_url
        .clone()
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("http://{addr}"));
    let wake = Arc::new(Notify::new());
    let state = Arc::new(AppState {
        objects: Arc::clone(&objects),
        jobs: Arc::clone(&jobs),
        gallery,
        signer: LinkSigner::new(data.link_key),
        admin_hash: data.admin_hash,
        wake: Arc::clone(&wake),
        link_ttl: args.link_ttl,
        upload_ttl: args.upload_ttl,
        max_upload_bytes: args.max_upload_bytes,
        max_attempts: args.max_attempts.max(1),
        public_url: base_url.clone(),
    });
    let (shutdown, rx) = watch::channel(false);
    let mut http_rx = rx.clone();
    let app = router(state);
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    let engine = LimitedEngineProcessor {
        limits: rawflow::Limits {
            max_file_bytes: args.max_raw_bytes,
            max_pixels: (args.max_megapixels.max(0.0) * 1e6) as u64,
            max_decode_time: Some(Duration::from_secs(args.max_decode_seconds.max(1))),
        },
        // The client gallery's thumbnails come from the same development.
        thumbnail: true,
    };
    let processor: Arc<dyn Processor> = if args.job_delay_ms > 0 {
        Arc::new(DelayedProcessor {
            inner: engine,
            delay: Duration::from_millis(args.job_delay_ms),
        })
    } else {
        Arc::new(engine)
    };
    let workers = args.workers.unwrap_or_else(default_worker_count);
    let pool = PoolConfig {
        workers,
        lease: Duration::from_secs(args.lease_seconds.max(1)),
        poll_interval: Duration::from_millis(args.poll_ms.max(10)),
        scratch_dir: data.scratch(),
        name_prefix: format!("serve-{}", std::process::id()),
    };
    let worker_tasks = spawn_pool(objects, jobs, processor, wake, &pool, &rx);
    tracing::info!(%addr, workers, data = %args.data.display(), "rawflow serve started");
    Ok(Server {
        base_url,
        new_admin_token: data.new_admin_token,
        workers,
        shutdown,
        http,
        worker_tasks,
    })
}

fn clear_folder(dir: &std::path::Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The largest JSON request body.
pub(crate) const MAX_JSON_BYTES: usize = 64 * 1024;

/// The routes.
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route(
            "/v1/clients",
            post(api::create_client).get(gallery::list_clients),
        )
        .merge(gallery::routes())
        .route("/v1/uploads", post(api::create_upload_link))
        .route("/v1/jobs", get(api::list_jobs))
        .route("/v1/jobs/{id}", get(api::get_job))
        .route("/v1/jobs/{id}/download", get(api::download_link))
        .route("/v1/jobs/{id}/cancel", post(api::cancel_job))
        .route("/v1/jobs/{id}/retry", post(api::retry_job))
        .route(
            "/v1/objects/{*key}",
            put(objects::put_object).get(objects::get_object),
        )
        // JSON bodies are small; uploads stream through `Body`, which this does not limit.
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Log every request (never the query: it holds link signatures; nor a
/// gallery's share token, which is in its path).
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = gallery::redact_path(req.uri().path());
    let start = Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        %method,
        %path,
        status = resp.status().as_u16(),
        ms = start.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

/// Log to stderr; `RAWFLOW_LOG` = error | warn | info (default) | debug | trace.
pub fn init_tracing() {
    let level = match std::env::var("RAWFLOW_LOG")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "error" => tracing::Level::ERROR,
        "warn" => tracing::Level::WARN,
        "debug" => tracing::Level::DEBUG,
        "trace" => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .try_init();
}

/// `rawflow serve`: run until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let server = start(&args).await?;
        if let Some(token) = &server.new_admin_token {
            println!(
                "rawflow: the admin token, shown only this once (if lost, delete {} and restart to get a new one):",
                args.data.join("admin.token").display()
            );
            println!("RAWFLOW_ADMIN_TOKEN={token}");
        }
        println!("rawflow: listening on {} with {} worker(s)", server.base_url, server.workers);
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        wait_for_stop_signal().await;
        tracing::info!("stopping");
        server.shutdown().await;
        Ok(())
    })
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
