//! The rawflow AWS Lambdas: the serverless half of the studio.
//!
//! - [`orchestrator`]: an S3 `ObjectCreated` event for a RAW upload records
//!   its job `pending` (idempotently, with the same job code as the worker:
//!   [`rawflow_jobs::uploads::on_object_created`] on the DynamoDB store),
//!   then makes sure enough EC2 workers run ([`fleet::WorkerFleet`]).
//! - [`upload`]: the studio's admin asks for an upload link (presigned `PUT`,
//!   or a multipart upload with presigned part URLs for large files). RAW
//!   bytes never pass through API Gateway (its payload limit is 10 MB).
//! - [`download`]: a client gets a short-lived presigned `GET` of a completed
//!   job's output.
//!
//! - [`admin`]: the studio's admin API (clients, jobs, a client's job
//!   status) with the requests and answers of `rawflow serve`.
//! - [`metrics`]: the fleet's health (backlog age, idle workers) as
//!   CloudWatch metrics for the template's alarms.
//!
//! Every handler is a plain `async fn` taking its event and its
//! dependencies; the binaries in `src/bin/` only wire ([`wiring`]).

pub mod admin;
pub mod config;
pub mod download;
pub mod fleet;
pub mod http;
pub mod metrics;
pub mod orchestrator;
pub mod upload;
pub mod wiring;

pub use aws_lambda_events;
pub use aws_sdk_ec2;
pub use lambda_runtime;
