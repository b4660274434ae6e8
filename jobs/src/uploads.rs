//! Job creation: upload intents and the object-created event.
//!
//! 1. The admin announces an upload ([`create_upload`]): the job is
//!    recorded `awaiting_upload` with its client, file name and recipe, and
//!    a signed, expiring PUT link for `raw/<client>/<job>/<filename>` is made.
//! 2. When the object is stored, the store's object-created event (local PUT
//!    handler here, an S3 notification in AWS) calls [`on_object_created`],
//!    which makes the job `pending` — once, however often the event comes.
//! 3. An announcement whose upload never comes is collected
//!    ([`crate::JobStore::collect_expired_uploads`], from the worker loop).

use std::time::Duration;

use crate::ids::{new_job_id, now_millis, now_secs};
use crate::job_store::{CreateOutcome, JobStore, JobStoreError};
use crate::key::{KeyError, ObjectKey};
use crate::link::LinkSigner;
use crate::model::{Job, NewJob, UploadIntent};
use crate::names::{validate_filename, validate_rendition_name, NameError};

pub use crate::state::DEFAULT_MAX_ATTEMPTS;

/// An announced upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTicket {
    /// The job id the upload will become.
    pub job_id: String,
    /// Where the RAW file goes.
    pub key: ObjectKey,
    /// Signed path-and-query for `PUT` (prefix it with the server's origin).
    pub upload_path: String,
    /// When the link expires, Unix seconds.
    pub expires_at: u64,
}

/// Why an upload could not be announced.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No client has this id.
    #[error("unknown client {0}")]
    UnknownClient(String),
    /// The file name or recipe name is not acceptable.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// The key could not be formed.
    #[error(transparent)]
    InvalidKey(#[from] KeyError),
    /// The job store failed.
    #[error(transparent)]
    Store(#[from] JobStoreError),
}

/// Announce an upload for `client_id` (see the module docs). The caller
/// checks that `recipe` names a recipe its processors know.
pub async fn create_upload<J: JobStore + ?Sized>(
    jobs: &J,
    signer: &LinkSigner,
    client_id: &str,
    filename: &str,
    recipe: &str,
    ttl: Duration,
) -> Result<UploadTicket, UploadError> {
    validate_filename(filename)?;
    validate_rendition_name(recipe)?;
    if !crate::ids::is_valid_id(client_id) || jobs.get_client(client_id).await?.is_none() {
        return Err(UploadError::UnknownClient(client_id.to_string()));
    }
    let job_id = new_job_id();
    let key = ObjectKey::raw_input(client_id, &job_id, filename)?;
    let expires_at = now_secs().saturating_add(ttl.as_secs().max(1));
    jobs.put_upload(&UploadIntent {
        job_id: job_id.clone(),
        client_id: client_id.to_string(),
        filename: filename.to_string(),
        recipe: recipe.to_string(),
        created_at: now_millis(),
        expires_at: i64::try_from(expires_at.saturating_mul(1000)).unwrap_or(i64::MAX),
    })
    .await?;
    let upload_path = signer.signed_path("PUT", &key, expires_at);
    Ok(UploadTicket {
        job_id,
        key,
        upload_path,
        expires_at,
    })
}

/// An object was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 (hex) or, from S3, its etag.
    pub sha256: String,
}

/// What an object-created event did.
#[derive(Debug, Clone, PartialEq)]
pub enum EventOutcome {
    /// A new `pending` job.
    Created(Job),
    /// The event was seen before; this is its job.
    Duplicate(Job),
    /// Not a job's input (other key shape, no upload intent, or the job
    /// exists for other content).
    Ignored(String),
}

/// Handle an object-created event: record the job of a RAW upload, idempotently.
pub async fn on_object_created<J: JobStore + ?Sized>(
    jobs: &J,
    event: &ObjectCreated,
    max_attempts: u32,
) -> Result<EventOutcome, JobStoreError> {
    let Ok(key) = ObjectKey::new(&event.key) else {
        return Ok(EventOutcome::Ignored(format!(
            "invalid key {:?}",
            event.key
        )));
    };
    let Ok(parts) = key.parse_raw_input() else {
        return Ok(EventOutcome::Ignored(format!("{key} is not a RAW upload")));
    };
    let Some(intent) = jobs.get_upload(parts.job_id).await? else {
        return Ok(EventOutcome::Ignored(format!(
            "no upload was announced for {key}"
        )));
    };
    if intent.client_id != parts.client_id || intent.filename != parts.filename {
        return Ok(EventOutcome::Ignored(format!(
            "{key} does not match the announced upload"
        )));
    }
    let new = NewJob {
        id: intent.job_id,
        client_id: intent.client_id,
        input_key: key.to_string(),
        input_sha256: event.sha256.clone(),
        input_bytes: event.size,
        filename: intent.filename,
        recipe: intent.recipe,
        max_attempts,
    };
    Ok(match jobs.create_job(&new).await? {
        CreateOutcome::Created(job) => EventOutcome::Created(job),
        CreateOutcome::Existing(job) => EventOutcome::Duplicate(job),
        CreateOutcome::Conflict(job) => {
            EventOutcome::Ignored(format!("job {} already exists for other content", job.id))
        }
        CreateOutcome::Closed(job) => EventOutcome::Ignored(format!(
            "job {} is {}: its upload is no longer expected",
            job.id, job.status
        )),
    })
}
