//! Object storage: the [`ObjectStore`] trait and its local-folder implementation.

pub mod local;
#[cfg(feature = "aws")]
pub mod s3;

use std::path::Path;
use std::time::SystemTime;

use async_trait::async_trait;
use tokio::io::AsyncRead;

use crate::key::{KeyError, ObjectKey};

/// A boxed, streaming reader of an object's bytes.
pub type ObjectReader = Box<dyn AsyncRead + Send + Unpin>;

/// What a store knows about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Its key.
    pub key: ObjectKey,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 (lower-case hex) when the call computed it (writes and
    /// full reads do; `head` and `list` do not).
    pub sha256: Option<String>,
    /// Last modification, when known.
    pub modified: Option<SystemTime>,
    /// The store's entity tag (S3's ETag, without quotes), when it has one.
    pub etag: Option<String>,
}

impl ObjectMeta {
    /// Whether these are the bytes recorded as `fingerprint`: their SHA-256
    /// (hex), or — for jobs recorded from S3 events, which carry no hash —
    /// the store's etag. A SHA-256 is 64 hex digits and an S3 etag is an MD5
    /// (32 digits, optionally `-<parts>`), so the two cannot be confused.
    pub fn has_content(&self, fingerprint: &str) -> bool {
        let fingerprint = fingerprint.trim_matches('"');
        if self.sha256.as_deref() == Some(fingerprint) {
            return true;
        }
        match &self.etag {
            Some(etag) => !fingerprint.is_empty() && etag.trim_matches('"') == fingerprint,
            None => false,
        }
    }
}

/// Whether a write may replace an existing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    /// Replace atomically.
    Overwrite,
    /// Fail with [`StoreError::AlreadyExists`] when the key exists.
    CreateNew,
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key is not valid.
    #[error("invalid key: {0}")]
    InvalidKey(#[from] KeyError),
    /// No object has this key.
    #[error("no object {0}")]
    NotFound(String),
    /// A [`PutMode::CreateNew`] write found the key taken. The bytes that
    /// were offered had this size and hash.
    #[error("object {key} already exists")]
    AlreadyExists {
        /// The key.
        key: String,
        /// Size of the refused bytes.
        size: u64,
        /// SHA-256 of the refused bytes.
        sha256: String,
    },
    /// Reading the source of a write failed (the write was abandoned).
    #[error("reading the source failed: {0}")]
    Source(#[source] std::io::Error),
    /// The store itself failed.
    #[error("storage error on {key}: {source}")]
    Io {
        /// The key (or prefix) involved.
        key: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// A store of immutable-ish objects addressed by [`ObjectKey`].
///
/// Writes are atomic: an object is visible under its key only once all of
/// its bytes are stored.
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// Stream `reader` into `key`, computing size and SHA-256 on the way.
    async fn put_reader(
        &self,
        key: &ObjectKey,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        mode: PutMode,
    ) -> Result<ObjectMeta, StoreError>;

    /// Open `key` for streaming.
    async fn get_reader(&self, key: &ObjectKey) -> Result<(ObjectMeta, ObjectReader), StoreError>;

    /// Size and modification time of `key`, or `None`.
    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StoreError>;

    /// Delete `key`; `false` when it did not exist.
    async fn delete(&self, key: &ObjectKey) -> Result<bool, StoreError>;

    /// Every object whose key starts with `prefix`, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError>;

    /// Store `bytes` under `key`.
    async fn put_bytes(
        &self,
        key: &ObjectKey,
        bytes: &[u8],
        mode: PutMode,
    ) -> Result<ObjectMeta, StoreError> {
        let mut reader = bytes;
        self.put_reader(key, &mut reader, mode).await
    }

    /// Store the file at `src` under `key`.
    async fn put_file(
        &self,
        key: &ObjectKey,
        src: &Path,
        mode: PutMode,
    ) -> Result<ObjectMeta, StoreError> {
        let mut file = tokio::fs::File::open(src)
            .await
            .map_err(StoreError::Source)?;
        self.put_reader(key, &mut file, mode).await
    }

    /// Copy `key` into the local file `dest` (created or truncated),
    /// computing its SHA-256 on the way; the returned meta has `sha256` set.
    async fn get_to_file(&self, key: &ObjectKey, dest: &Path) -> Result<ObjectMeta, StoreError> {
        let (meta, mut reader) = self.get_reader(key).await?;
        let io = |source| StoreError::Io {
            key: key.to_string(),
            source,
        };
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let (size, sha256) = hashing_copy(&mut reader, &mut file)
            .await
            .map_err(|e| match e {
                CopyError::Read(e) | CopyError::Write(e) => io(e),
            })?;
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(io)?;
        Ok(ObjectMeta {
            size,
            sha256: Some(sha256),
            ..meta
        })
    }

    /// Read a whole (small) object into memory.
    async fn get_bytes(&self, key: &ObjectKey) -> Result<Vec<u8>, StoreError> {
        let (_, mut reader) = self.get_reader(key).await?;
        let mut buf = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut buf)
            .await
            .map_err(|source| StoreError::Io {
                key: key.to_string(),
                source,
            })?;
        Ok(buf)
    }
}

/// Which side of a copy failed.
#[derive(Debug)]
pub(crate) enum CopyError {
    Read(std::io::Error),
    Write(std::io::Error),
}

/// Copy `reader` to `writer` in 64 KiB chunks, returning size and SHA-256 (hex).
pub(crate) async fn hashing_copy(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    writer: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
) -> Result<(u64, String), CopyError> {
    use sha2::{Digest, Sha256};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf).await.map_err(CopyError::Read)?;
        if n == 0 {
            break;
        }
        let chunk = buf.get(..n).unwrap_or_default();
        hasher.update(chunk);
        writer.write_all(chunk).await.map_err(CopyError::Write)?;
        size += n as u64;
    }
    Ok((size, crate::ids::hex(&hasher.finalize())))
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::ids::hex(&Sha256::digest(bytes))
}
