//! Running jobs with the engine: the engine-backed [`Processor`] and the
//! in-process worker pool shared by `rawflow serve` (and later `rawflow worker`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rawflow_jobs::{
    JobStore, ObjectStore, ProcessError, ProcessOutput, Processor, RenderedOutput, Worker,
    WorkerConfig,
};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// Develops with the `rawflow` engine: decode (the file is memory-mapped
/// from the scratch copy) within the default [`rawflow::Limits`], then every
/// rendition of a built-in recipe.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineProcessor;

/// [`EngineProcessor`] with explicit decode limits (file size, megapixels,
/// decode time): a file over them fails its job at once, before any large
/// allocation, with the limit named in the reason.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitedEngineProcessor {
    /// The limits.
    pub limits: rawflow::Limits,
    /// Also make the gallery's `thumb` rendition (see [`with_thumbnail`]).
    pub thumbnail: bool,
}

/// The name of the small rendition every studio job also makes (the client
/// gallery's thumbnails).
pub const THUMB_RENDITION: &str = "thumb";
/// The long edge of that rendition, in pixels (sharp on high-density
/// screens at the gallery's ~300 px tiles).
pub const THUMB_LONG_EDGE: u32 = 640;

/// `recipe` plus a `thumb` rendition (640 px JPEG q80, sRGB), made in the
/// same development, unless it has one.
pub fn with_thumbnail(mut recipe: rawflow::Recipe) -> rawflow::Recipe {
    if !recipe.renditions.iter().any(|r| r.name == THUMB_RENDITION) {
        let mut thumb = rawflow::Rendition::new(
            THUMB_RENDITION,
            Some(THUMB_LONG_EDGE),
            rawflow::OutputFormat::Jpeg,
            80,
        );
        thumb.metadata = rawflow::MetadataPolicy::StripAll;
        recipe.renditions.push(thumb);
    }
    recipe
}

/// Whether another attempt could fix this engine error.
fn retryable(e: &rawflow::Error) -> bool {
    // I/O trouble may pass; a damaged or unsupported file, a bad parameter
    // or an encoder failure will fail the same way every time.
    matches!(e, rawflow::Error::Io { .. })
}

#[async_trait]
impl Processor for EngineProcessor {
    async fn process(&self, input: &Path, recipe: &str) -> Result<ProcessOutput, ProcessError> {
        develop(input, recipe, rawflow::Limits::default(), false).await
    }
}

#[async_trait]
impl Processor for LimitedEngineProcessor {
    async fn process(&self, input: &Path, recipe: &str) -> Result<ProcessOutput, ProcessError> {
        develop(input, recipe, self.limits, self.thumbnail).await
    }
}

async fn develop(
    input: &Path,
    recipe: &str,
    limits: rawflow::Limits,
    thumbnail: bool,
) -> Result<ProcessOutput, ProcessError> {
    {
        let recipe = rawflow::Recipe::builtin(recipe)
            .ok_or_else(|| ProcessError::permanent(format!("unknown recipe {recipe:?}")))?;
        let recipe = if thumbnail {
            with_thumbnail(recipe)
        } else {
            recipe
        };
        let input = input.to_path_buf();
        let result = tokio::task::spawn_blocking(move || {
            let mut timings = rawflow::Timings::default();
            let mut clock = Instant::now();
            let raw = rawflow::decode_file_with_limits(&input, &limits)?;
            timings.lap("decode", &mut clock);
            let rendered = rawflow::develop(&raw, &recipe, &mut timings)?;
            Ok::<_, rawflow::Error>((rendered, timings))
        })
        .await
        .map_err(|e| ProcessError::retryable(format!("the develop task died: {e}")))?;
        let (rendered, timings) = result.map_err(|e| ProcessError {
            retryable: retryable(&e),
            reason: e.to_string(),
        })?;
        Ok(ProcessOutput {
            outputs: rendered
                .into_iter()
                .map(|r| RenderedOutput {
                    name: r.name,
                    extension: r.format.extension().to_string(),
                    content_type: r.format.content_type().to_string(),
                    bytes: r.bytes,
                })
                .collect(),
            timings: timings
                .stages
                .into_iter()
                .map(|(n, s)| (n.to_string(), s))
                .collect(),
        })
    }
}

/// Waits before handing the job to the inner processor (testing crash
/// recovery: a job that is "in the middle" long enough to kill the server).
pub struct DelayedProcessor<P> {
    /// The real processor.
    pub inner: P,
    /// The wait.
    pub delay: Duration,
}

#[async_trait]
impl<P: Processor> Processor for DelayedProcessor<P> {
    async fn process(&self, input: &Path, recipe: &str) -> Result<ProcessOutput, ProcessError> {
        tokio::time::sleep(self.delay).await;
        self.inner.process(input, recipe).await
    }
}

/// Workers to run by default: max(1, vCPUs / threads one develop uses). The
/// engine spreads one develop over every core (rayon), so on 2 vCPUs: 1.
pub fn default_worker_count() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_job = rayon::current_num_threads().max(1);
    (cpus / per_job).max(1)
}

/// Settings of an in-process worker pool.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Number of workers.
    pub workers: usize,
    /// Lease length.
    pub lease: Duration,
    /// Poll interval when idle.
    pub poll_interval: Duration,
    /// Scratch folder.
    pub scratch_dir: PathBuf,
    /// Worker names are `<prefix>-<n>`.
    pub name_prefix: String,
}

/// Start `config.workers` workers on the current runtime.
pub fn spawn_pool<O, J, P>(
    objects: Arc<O>,
    jobs: Arc<J>,
    processor: Arc<P>,
    wake: Arc<Notify>,
    config: &PoolConfig,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>>
where
    O: ObjectStore + ?Sized,
    J: JobStore + ?Sized,
    P: Processor + ?Sized,
{
    (0..config.workers)
        .map(|n| {
            let worker = Worker::new(
                Arc::clone(&objects),
                Arc::clone(&jobs),
                Arc::clone(&processor),
                WorkerConfig {
                    worker_id: format!("{}-{n}", config.name_prefix),
                    lease_ttl: config.lease,
                    poll_interval: config.poll_interval,
                    scratch_dir: config.scratch_dir.clone(),
                },
                Arc::clone(&wake),
            );
            let rx = shutdown.clone();
            tokio::spawn(async move { worker.run(rx).await })
        })
        .collect()
}
