//! The rawflow job system, shared by the embedded server (`rawflow serve`),
//! the EC2 worker and the AWS Lambdas.
//!
//! It knows nothing of the RAW engine (jobs are run through a [`Processor`]),
//! of HTTP servers, or — in its public traits — of SQLite:
//!
//! - [`ObjectStore`]: where RAW inputs and developed outputs live
//!   ([`LocalObjectStore`]; S3 in [`aws`]). Writes are atomic.
//! - [`state`]: the job life cycle — every move of a job, as pure functions.
//! - [`JobStore`]: job records with leases, retries and an audit trail
//!   ([`SqliteJobStore`] behind the default `sqlite` feature; DynamoDB in
//!   [`aws`]); a store implements [`JobBackend`] (read, and write on
//!   condition of what was read) and gets the life cycle from [`state`].
//! - [`Worker`]: the claim → fetch → process → store → complete loop.
//! - [`uploads`]: job creation — upload intents, and the object-created
//!   event that records a job exactly once.
//! - [`auth`] and [`link`]: bearer tokens and HMAC-signed, expiring links.
//! - [`views`]: the JSON every API answers with for jobs and clients.
//! - `gallery` (with `sqlite`): client share links, favourites, revoked clients.
//! - [`aws`] (feature `aws`, not default): the same traits on S3
//!   ([`aws::S3ObjectStore`]) and DynamoDB ([`aws::DynamoJobStore`]).
//! - `testing` (feature `testing`): job fixtures and the conformance suite
//!   every job store passes.

pub mod auth;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "sqlite")]
pub mod gallery;
pub mod ids;
pub mod job_store;
pub mod key;
pub mod link;
pub mod model;
pub mod names;
pub mod object_store;
pub mod processor;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod uploads;
pub mod views;
pub mod worker;

#[cfg(feature = "sqlite")]
pub use job_store::sqlite::SqliteJobStore;
pub use job_store::{Changed, CreateOutcome, JobBackend, JobFilter, JobStore, JobStoreError};
pub use key::{KeyError, ObjectKey};
pub use link::{LinkError, LinkSigner};
pub use model::{
    Client, FailOutcome, Job, JobStatus, Lease, NewJob, OutputRecord, Transition, UploadIntent,
    WorkerRecord, WorkerState,
};
pub use object_store::local::LocalObjectStore;
pub use object_store::{ObjectMeta, ObjectStore, PutMode, StoreError};
pub use processor::{ProcessError, ProcessOutput, Processor, RenderedOutput};
pub use worker::{RetryPolicy, Worker, WorkerConfig};
