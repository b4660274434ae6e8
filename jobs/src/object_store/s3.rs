//! Amazon S3 as an object store (feature `aws`).
//!
//! Two buckets: keys under `raw/` live in the RAW bucket, every other key in
//! the processed bucket; the S3 object key is the rawflow key itself
//! (`raw/<client>/<job>/<file>`, `processed/<client>/<job>/<rendition>.<ext>`).
//!
//! - Every write asks for server-side encryption: SSE-S3 (`AES256`) or, when
//!   a KMS key id is configured, SSE-KMS with that key.
//! - Objects up to the multipart threshold (8 MiB) go up in one `PutObject`;
//!   larger ones as a multipart upload (8 MiB parts, aborted on any error),
//!   so that memory stays bounded by one part. S3 makes an object visible
//!   only when its upload completes, so writes are atomic.
//! - [`PutMode::CreateNew`] is a conditional write (`If-None-Match: *`).
//! - Reads stream ([`ObjectStore::get_to_file`] copies the RAW to the
//!   worker's scratch folder, where the engine maps it).
//! - [`S3ObjectStore::presign_get`] / [`S3ObjectStore::presign_put`] make
//!   presigned links (for the Lambdas).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use aws_sdk_s3::Client;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{ObjectMeta, ObjectReader, ObjectStore, PutMode, StoreError};
use crate::key::{validate_prefix, ObjectKey};

/// Objects larger than this go up as multipart uploads.
pub const MULTIPART_THRESHOLD: usize = 8 * 1024 * 1024;
/// The smallest part S3 accepts (all parts but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// How objects are encrypted at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3 (`AES256`).
    Aes256,
    /// SSE-KMS with this key id or ARN.
    Kms(String),
}

/// Where and how an [`S3ObjectStore`] stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Bucket of `raw/…` keys.
    pub raw_bucket: String,
    /// Bucket of every other key (`processed/…`).
    pub processed_bucket: String,
    /// Encryption of every write.
    pub encryption: Encryption,
    /// Objects larger than this are uploaded in parts.
    pub multipart_threshold: usize,
    /// Size of each part (at least [`MIN_PART_SIZE`]).
    pub part_size: usize,
}

impl S3Config {
    /// SSE-S3, 8 MiB threshold and parts.
    pub fn new(raw_bucket: impl Into<String>, processed_bucket: impl Into<String>) -> Self {
        Self {
            raw_bucket: raw_bucket.into(),
            processed_bucket: processed_bucket.into(),
            encryption: Encryption::Aes256,
            multipart_threshold: MULTIPART_THRESHOLD,
            part_size: MULTIPART_THRESHOLD,
        }
    }

    /// Use SSE-KMS with `key_id` when it is `Some`.
    pub fn with_kms_key(mut self, key_id: Option<String>) -> Self {
        if let Some(k) = key_id.filter(|k| !k.is_empty()) {
            self.encryption = Encryption::Kms(k);
        }
        self
    }
}

/// A presigned request: send it with exactly these headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedLink {
    /// The URL (carries the signature).
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Headers the request must carry (they are signed).
    pub headers: Vec<(String, String)>,
}

/// Objects in two S3 buckets.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    config: S3Config,
}

fn io_error(key: &str, message: String) -> StoreError {
    StoreError::Io {
        key: key.to_string(),
        source: std::io::Error::other(message),
    }
}

fn sdk_error<E>(key: &str, e: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    io_error(key, crate::aws::sdk_error_text(&e))
}

fn status_of<E, R: HasStatus>(e: &SdkError<E, R>) -> Option<u16> {
    e.raw_response().map(HasStatus::status_code)
}

/// The HTTP status of a raw response (kept generic over the SDK's type).
trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// A MIME type from a key's extension (what browsers get on download).
pub fn content_type_for(key: &str) -> &'static str {
    let ext = key
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "tif" | "tiff" => "image/tiff",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// Read until `buf` is full or the reader ends; the number of bytes read.
async fn fill(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    buf: &mut [u8],
) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        let got = reader.read(rest).await?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(n)
}

fn system_time(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

fn clean_etag(e: Option<&str>) -> Option<String> {
    e.map(|e| e.trim_matches('"').to_string())
}

impl S3ObjectStore {
    /// A store using `client` (see [`crate::aws::s3_client`]).
    pub fn new(client: Client, mut config: S3Config) -> Self {
        config.part_size = config.part_size.max(MIN_PART_SIZE);
        config.multipart_threshold = config.multipart_threshold.max(1);
        Self { client, config }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The configuration.
    pub fn config(&self) -> &S3Config {
        &self.config
    }

    /// The bucket holding `key` (or keys starting with it).
    pub fn bucket_for(&self, key: &str) -> &str {
        if key == "raw" || key.starts_with("raw/") {
            &self.config.raw_bucket
        } else {
            &self.config.processed_bucket
        }
    }

    /// A presigned `GET` of `key`, valid for `ttl` (at most 7 days). With
    /// `download_name`, browsers save the file under that name.
    pub async fn presign_get(
        &self,
        key: &ObjectKey,
        ttl: Duration,
        download_name: Option<&str>,
    ) -> Result<String, StoreError> {
        let cfg = PresigningConfig::expires_in(ttl)
            .map_err(|e| io_error(key.as_str(), format!("presigning: {e}")))?;
        let mut req = self
            .client
            .get_object()
            .bucket(self.bucket_for(key.as_str()))
            .key(key.as_str());
        if let Some(name) = download_name {
            // Only characters that need no quoting in a header parameter.
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            req = req.response_content_disposition(format!("attachment; filename=\"{safe}\""));
        }
        let signed = req
            .presigned(cfg)
            .await
            .map_err(|e| sdk_error(key.as_str(), e))?;
        Ok(signed.uri().to_string())
    }

    /// A presigned `PUT` of `key` (an upload link), valid for `ttl`. The
    /// request must carry the returned headers (server-side encryption).
    pub async fn presign_put(
        &self,
        key: &ObjectKey,
        ttl: Duration,
    ) -> Result<PresignedLink, StoreError> {
        let cfg = PresigningConfig::expires_in(ttl)
            .map_err(|e| io_error(key.as_str(), format!("presigning: {e}")))?;
        let req = self
            .client
            .put_object()
            .bucket(self.bucket_for(key.as_str()))
            .key(key.as_str());
        let req = match &self.config.encryption {
            Encryption::Aes256 => req.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms(id) => req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(id),
        };
        let signed = req
            .presigned(cfg)
            .await
            .map_err(|e| sdk_error(key.as_str(), e))?;
        Ok(PresignedLink {
            url: signed.uri().to_string(),
            method: signed.method().to_string(),
            headers: signed
                .headers()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    fn sse_put(
        &self,
        req: aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder,
    ) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        match &self.config.encryption {
            Encryption::Aes256 => req.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms(id) => req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(id),
        }
    }

    /// Refuse a [`PutMode::CreateNew`] write when the key is taken.
    async fn check_absent(
        &self,
        key: &ObjectKey,
        size: u64,
        sha256: &str,
    ) -> Result<(), StoreError> {
        if self.head(key).await?.is_some() {
            return Err(StoreError::AlreadyExists {
                key: key.to_string(),
                size,
                sha256: sha256.to_string(),
            });
        }
        Ok(())
    }

    async fn put_single(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        sha256: &str,
        mode: PutMode,
    ) -> Result<Option<String>, StoreError> {
        let size = bytes.len() as u64;
        let mut req = self
            .sse_put(self.client.put_object())
            .bucket(self.bucket_for(key.as_str()))
            .key(key.as_str())
            .content_type(content_type_for(key.as_str()))
            .metadata("sha256", sha256)
            .body(ByteStream::from(bytes));
        if mode == PutMode::CreateNew {
            req = req.if_none_match("*");
        }
        match req.send().await {
            Ok(out) => Ok(clean_etag(out.e_tag())),
            Err(e) if mode == PutMode::CreateNew && matches!(status_of(&e), Some(412 | 409)) => {
                Err(StoreError::AlreadyExists {
                    key: key.to_string(),
                    size,
                    sha256: sha256.to_string(),
                })
            }
            Err(e) => Err(sdk_error(key.as_str(), e)),
        }
    }

    /// Upload `first` and then the rest of `reader` as a multipart upload.
    async fn put_multipart(
        &self,
        key: &ObjectKey,
        first: Vec<u8>,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        mode: PutMode,
    ) -> Result<(u64, String, Option<String>), StoreError> {
        let bucket = self.bucket_for(key.as_str()).to_string();
        let create = self
            .client
            .create_multipart_upload()
            .bucket(&bucket)
            .key(key.as_str())
            .content_type(content_type_for(key.as_str()));
        let create = match &self.config.encryption {
            Encryption::Aes256 => create.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms(id) => create
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(id),
        };
        let upload = create
            .send()
            .await
            .map_err(|e| sdk_error(key.as_str(), e))?;
        let Some(upload_id) = upload.upload_id().map(str::to_string) else {
            return Err(io_error(
                key.as_str(),
                "S3 returned no multipart upload id".into(),
            ));
        };
        let result = self
            .upload_parts(key, &bucket, &upload_id, first, reader, mode)
            .await;
        if result.is_err() {
            // Leave no parts behind (they cost storage and never show as objects).
            if let Err(e) = self
                .client
                .abort_multipart_upload()
                .bucket(&bucket)
                .key(key.as_str())
                .upload_id(&upload_id)
                .send()
                .await
            {
                tracing::warn!(key = %key, error = %crate::aws::sdk_error_text(&e), "could not abort a multipart upload");
            }
        }
        result
    }

    async fn upload_parts(
        &self,
        key: &ObjectKey,
        bucket: &str,
        upload_id: &str,
        first: Vec<u8>,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        mode: PutMode,
    ) -> Result<(u64, String, Option<String>), StoreError> {
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut parts = Vec::new();
        let mut chunk = first;
        let mut number: i32 = 1;
        loop {
            hasher.update(&chunk);
            size += chunk.len() as u64;
            let part = self
                .client
                .upload_part()
                .bucket(bucket)
                .key(key.as_str())
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(chunk))
                .send()
                .await
                .map_err(|e| sdk_error(key.as_str(), e))?;
            parts.push(
                CompletedPart::builder()
                    .set_e_tag(part.e_tag().map(str::to_string))
                    .part_number(number)
                    .build(),
            );
            let mut next = vec![0u8; self.config.part_size];
            let n = fill(reader, &mut next).await.map_err(StoreError::Source)?;
            if n == 0 {
                break;
            }
            next.truncate(n);
            chunk = next;
            number = number
                .checked_add(1)
                .filter(|n| *n <= 10_000)
                .ok_or_else(|| io_error(key.as_str(), "more than 10000 parts".into()))?;
        }
        let sha256 = crate::ids::hex(&hasher.finalize());
        if mode == PutMode::CreateNew {
            self.check_absent(key, size, &sha256).await?;
        }
        let mut complete = self
            .client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            );
        if mode == PutMode::CreateNew {
            complete = complete.if_none_match("*");
        }
        match complete.send().await {
            Ok(out) => Ok((size, sha256, clean_etag(out.e_tag()))),
            Err(e) if mode == PutMode::CreateNew && matches!(status_of(&e), Some(412 | 409)) => {
                Err(StoreError::AlreadyExists {
                    key: key.to_string(),
                    size,
                    sha256,
                })
            }
            Err(e) => Err(sdk_error(key.as_str(), e)),
        }
    }
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put_reader(
        &self,
        key: &ObjectKey,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        mode: PutMode,
    ) -> Result<ObjectMeta, StoreError> {
        // Read up to one byte past the threshold to learn which way to go.
        let mut first = vec![0u8; self.config.multipart_threshold.saturating_add(1)];
        let n = fill(reader, &mut first).await.map_err(StoreError::Source)?;
        first.truncate(n);
        let (size, sha256, etag) = if n <= self.config.multipart_threshold {
            let sha256 = super::sha256_hex(&first);
            if mode == PutMode::CreateNew {
                self.check_absent(key, n as u64, &sha256).await?;
            }
            let etag = self.put_single(key, first, &sha256, mode).await?;
            (n as u64, sha256, etag)
        } else {
            // Parts of `part_size`: split what was read, stream the rest.
            let part = self.config.part_size;
            if first.len() > part {
                let rest = first.split_off(part);
                let mut chained = (&rest[..]).chain(reader);
                self.put_multipart(key, first, &mut chained, mode).await?
            } else {
                self.put_multipart(key, first, reader, mode).await?
            }
        };
        Ok(ObjectMeta {
            key: key.clone(),
            size,
            sha256: Some(sha256),
            modified: Some(SystemTime::now()),
            etag,
        })
    }

    async fn get_reader(&self, key: &ObjectKey) -> Result<(ObjectMeta, ObjectReader), StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(self.bucket_for(key.as_str()))
            .key(key.as_str())
            .send()
            .await
        {
            Ok(o) => o,
            Err(e)
                if e.as_service_error().is_some_and(|s| s.is_no_such_key())
                    || status_of(&e) == Some(404) =>
            {
                return Err(StoreError::NotFound(key.to_string()))
            }
            Err(e) => return Err(sdk_error(key.as_str(), e)),
        };
        let meta = ObjectMeta {
            key: key.clone(),
            size: out
                .content_length()
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            sha256: None,
            modified: system_time(out.last_modified()),
            etag: clean_etag(out.e_tag()),
        };
        Ok((meta, Box::new(out.body.into_async_read())))
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(self.bucket_for(key.as_str()))
            .key(key.as_str())
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectMeta {
                key: key.clone(),
                size: out
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                sha256: None,
                modified: system_time(out.last_modified()),
                etag: clean_etag(out.e_tag()),
            })),
            Err(e)
                if e.as_service_error().is_some_and(|s| s.is_not_found())
                    || status_of(&e) == Some(404) =>
            {
                Ok(None)
            }
            Err(e) => Err(sdk_error(key.as_str(), e)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<bool, StoreError> {
        // S3 deletes succeed whether or not the key existed: look first.
        if self.head(key).await?.is_none() {
            return Ok(false);
        }
        self.client
            .delete_object()
            .bucket(self.bucket_for(key.as_str()))
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(key.as_str(), e))?;
        Ok(true)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        validate_prefix(prefix)?;
        let mut buckets = vec![self.bucket_for(prefix).to_string()];
        if prefix.is_empty() && self.config.raw_bucket != self.config.processed_bucket {
            buckets.push(self.config.raw_bucket.clone());
        }
        let mut out = Vec::new();
        for bucket in buckets {
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(prefix)
                    .set_continuation_token(token.take())
                    .send()
                    .await
                    .map_err(|e| sdk_error(prefix, e))?;
                for obj in page.contents() {
                    let Some(Ok(key)) = obj.key().map(ObjectKey::new) else {
                        continue;
                    };
                    let in_bucket = self.bucket_for(key.as_str()) == bucket;
                    if in_bucket {
                        out.push(ObjectMeta {
                            key,
                            size: obj.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                            sha256: None,
                            modified: system_time(obj.last_modified()),
                            etag: clean_etag(obj.e_tag()),
                        });
                    }
                }
                match page.next_continuation_token() {
                    Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                    _ => break,
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}
