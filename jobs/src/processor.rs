//! What a worker runs on each job: the [`Processor`] trait.
//!
//! The engine-backed implementation lives with the `rawflow` binary, so this
//! crate stays free of the engine.

use std::path::Path;

use async_trait::async_trait;

/// One encoded output of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedOutput {
    /// Rendition name ("web", "full", …): a-z, 0-9, `-`, `_`.
    pub name: String,
    /// File extension without the dot ("jpg").
    pub extension: String,
    /// MIME type ("image/jpeg").
    pub content_type: String,
    /// The encoded file.
    pub bytes: Vec<u8>,
}

/// Everything a job produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessOutput {
    /// The outputs, in recipe order.
    pub outputs: Vec<RenderedOutput>,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
}

/// A failed job attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ProcessError {
    /// What went wrong, for the job record.
    pub reason: String,
    /// Whether another attempt could succeed (I/O trouble: yes; a corrupt
    /// or unsupported file: no).
    pub retryable: bool,
}

impl ProcessError {
    /// A failure worth retrying.
    pub fn retryable(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            retryable: true,
        }
    }

    /// A failure that no retry can fix.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            retryable: false,
        }
    }
}

/// Develops one RAW file with one recipe.
#[async_trait]
pub trait Processor: Send + Sync + 'static {
    /// Process the RAW file at `input` (a local scratch file) with `recipe`.
    async fn process(&self, input: &Path, recipe: &str) -> Result<ProcessOutput, ProcessError>;
}
