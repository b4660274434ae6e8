//! The job system on AWS (feature `aws`): S3 for objects, DynamoDB for jobs.
//!
//! Configuration comes from the standard AWS chain (`aws-config` defaults:
//! environment, profile, SSO, instance role…); `AWS_ENDPOINT_URL` points
//! every client at an emulator instead (the tests use moto), in which case
//! S3 is addressed path-style (`http://host/bucket/key`).
//!
//! For the Lambdas:
//! - an S3 object-created event becomes a job through
//!   [`crate::uploads::on_object_created`] on a [`DynamoJobStore`], with
//!   [`crate::uploads::ObjectCreated`] `{ key, size, sha256: <the event's
//!   eTag> }` (the key URL-decoded: [`s3_event_key`]); it is idempotent, so
//!   S3's at-least-once delivery makes one job;
//! - download links: [`S3ObjectStore::presign_get`]; upload links:
//!   [`crate::uploads::create_upload`] (records the intent) then
//!   [`S3ObjectStore::presign_put`] on its key;
//! - tokens: [`crate::JobStore::get_client`] and [`crate::auth::verify_token`]
//!   (client records, with hashed tokens, live in the same table);
//! - whether to start a worker: [`crate::JobStore::list_workers`] — start one
//!   when none is [`crate::WorkerState::Active`].

pub use aws_config;
pub use aws_sdk_dynamodb;
pub use aws_sdk_s3;

pub use crate::job_store::dynamo::{create_table, DynamoJobStore, TableOptions};
pub use crate::object_store::s3::{
    content_type_for, Encryption, PresignedLink, S3Config, S3ObjectStore,
};

/// Load the AWS configuration from the standard chain (and
/// `AWS_ENDPOINT_URL`, `AWS_REGION`, …).
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

/// An S3 client; path-style addressing when an endpoint is configured
/// (emulators, which serve every bucket from one host).
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config);
    if config.endpoint_url().is_some() {
        builder = builder.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// A DynamoDB client.
pub fn dynamo_client(config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// The object key of an S3 event record (`Records[].s3.object.key`), which
/// S3 sends URL-encoded with `+` for spaces; `None` if it does not decode
/// to UTF-8.
pub fn s3_event_key(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = char::from(*bytes.get(i + 1)?).to_digit(16)?;
                let lo = char::from(*bytes.get(i + 2)?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::s3_event_key;

    #[test]
    fn event_keys_decode() {
        assert_eq!(
            s3_event_key("raw/ab/cd/My+Photo%281%29.DNG").as_deref(),
            Some("raw/ab/cd/My Photo(1).DNG")
        );
        assert_eq!(s3_event_key("a%2"), None);
        assert_eq!(s3_event_key("a%zz"), None);
        assert_eq!(s3_event_key("%ff%fe"), None);
    }
}
