//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;

use rawflow_jobs::gallery::SqliteGalleryStore;
use rawflow_jobs::{LinkSigner, LocalObjectStore, SqliteJobStore};
use tokio::sync::Notify;

/// Shared server state.
pub struct AppState {
    /// Objects (RAW inputs, outputs).
    pub objects: Arc<LocalObjectStore>,
    /// Jobs and clients.
    pub jobs: Arc<SqliteJobStore>,
    /// Share links, favourites, revoked clients.
    pub gallery: Arc<SqliteGalleryStore>,
    /// Signs upload and download links.
    pub signer: LinkSigner,
    /// SHA-256 of the admin token.
    pub admin_hash: [u8; 32],
    /// Wakes idle workers when a job is created.
    pub wake: Arc<Notify>,
    /// How long download links live.
    pub link_ttl: Duration,
    /// How long upload links live.
    pub upload_ttl: Duration,
    /// The largest accepted upload.
    pub max_upload_bytes: u64,
    /// Attempts per job.
    pub max_attempts: u32,
    /// `http://host:port`, prefixed to signed paths.
    pub public_url: String,
}
