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

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

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

/// A short description of a failed SDK call, for logs and for the reason a
/// job failed: a service's answer as `Code: message (HTTP status)`, any other
/// failure (connection, timeout, unreadable answer) as its chain of causes.
///
/// (The SDK's own `DisplayErrorContext` appends a debug dump of the whole
/// error, raw HTTP answer and headers included: kilobytes of noise in a
/// job's reason.)
pub fn sdk_error_text<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = match e {
        SdkError::ServiceError(_) => e.code(),
        _ => None,
    };
    let mut text = match code {
        Some(code) => match e.message().filter(|m| !m.is_empty()) {
            Some(message) => format!("{code}: {message}"),
            None => code.to_string(),
        },
        None => error_chain(e),
    };
    if let Some(status) = status {
        text.push_str(&format!(" (HTTP {status})"));
    }
    text
}

/// `error: its source: its source…`, leaving out a cause whose text its
/// parent already shows.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !line.is_empty() && !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
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
    use super::{s3_event_key, sdk_error_text};
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::error::{ConnectorError, ErrorMetadata, SdkError};
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::primitives::SdkBody;

    #[test]
    fn sdk_errors_are_described_briefly() {
        let body = "<Error><Code>InternalError</Code><Message>Try again.</Message></Error>";
        let raw = HttpResponse::new(500.try_into().unwrap(), SdkBody::from(body));
        let e: SdkError<GetObjectError, HttpResponse> = SdkError::service_error(
            GetObjectError::generic(
                ErrorMetadata::builder()
                    .code("InternalError")
                    .message("Try again.")
                    .build(),
            ),
            raw,
        );
        assert_eq!(sdk_error_text(&e), "InternalError: Try again. (HTTP 500)");

        let dropped = std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection closed before message completed",
        );
        let e: SdkError<GetObjectError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(dropped)));
        let text = sdk_error_text(&e);
        assert!(text.starts_with("dispatch failure"), "{text}");
        assert!(
            text.ends_with("connection closed before message completed"),
            "{text}"
        );
        assert!(!text.contains("DispatchFailure"), "no debug dump: {text}");
    }

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
