//! The job store on Amazon DynamoDB (feature `aws`): one table.
//!
//! Key: `pk` (string, partition) + `sk` (string, sort). Items:
//!
//! | item          | `pk`                 | `sk`                              |
//! |---------------|----------------------|-----------------------------------|
//! | job           | `job#<id>`           | `job`                             |
//! | audit entry   | `job#<id>`           | `t#<at ms>#<attempt>#<rank>#<rnd>` |
//! | client        | `client#<id>`        | `client` (SHA-256 of its token)   |
//! | worker        | `workers`            | `<worker id>`                     |
//!
//! Indexes (both project all attributes; only job items carry their keys):
//! - `by_status`: `job_status` + `created_at` — claiming takes the oldest
//!   `pending` job (and `running` ones whose lease expired); status filters;
//! - `by_client`: `job_client` + `created_at` — a client's jobs, newest first.
//!
//! Time to live: attribute `expires_at_ttl` (Unix seconds) on finished jobs,
//! audit entries and worker records, [`TableOptions::retention`] after they
//! were written. An announced upload is its job (`awaiting_upload`, with
//! `upload_expires_at`); tables written by earlier versions may still hold
//! `upload#` and `event#` items, which nothing reads and TTL removes.
//!
//! Every change of a job is a consistent read followed by one transaction
//! that writes the whole job item — as [`crate::state`] decided from the
//! read — on condition that its revision `rev` is still the one read,
//! together with its audit entry: two workers racing for a job cannot both
//! win, and a renewal, completion or failure only lands while the caller's
//! lease token is the job's. Index queries are eventually consistent, which
//! only means a just-created job may be found a moment later.
//!
//! A write can land while its answer is lost (a dropped connection); a
//! retry then fails on the revision it changed. The store reads again and
//! the state recognises the write: a claim by its lease token in
//! `lease_owner`, a completion, failure or release by the lease token it
//! left in [`CLOSED_BY`] — in the same call, or when the caller retries.
//!
//! - `codec`: items ↔ records;
//! - `write`: consistent reads, conditional writes, the change loop;
//! - `schema`: [`create_table`].

mod codec;
mod schema;
mod write;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::Client;

use super::{Changed, Decide, JobBackend, JobFilter, JobStoreError};
use crate::model::{Client as StudioClient, Job, JobStatus, Transition, WorkerRecord};
use codec::{
    client_from_item, client_item, client_pk, job_from_item, job_pk, s, transition_from_item,
    worker_from_item, worker_item, Item,
};
pub use schema::create_table;
use write::sdk;

/// Index of jobs by status and creation time.
pub const STATUS_INDEX: &str = "by_status";
/// Index of jobs by client and creation time.
pub const CLIENT_INDEX: &str = "by_client";
/// The time-to-live attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at_ttl";
/// The attribute of a job item that holds [`Job::closed_by`]: the lease
/// token of the change that ended the lease (completion, failure, release),
/// by which a retried change whose first try landed is recognised.
pub const CLOSED_BY: &str = "closed_by";

/// How many of the oldest `pending` jobs a claim looks at.
const CLAIM_WINDOW: usize = 25;

/// Settings of a [`DynamoJobStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// How long finished jobs, their audit trail and worker records are
    /// kept (DynamoDB's TTL deletes them after that).
    pub retention: Duration,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// A [`crate::JobStore`] in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoJobStore {
    client: Client,
    table: String,
    options: TableOptions,
}

impl DynamoJobStore {
    /// A store over an existing table (see [`create_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            options: TableOptions::default(),
        }
    }

    /// Change the settings.
    pub fn with_options(mut self, options: TableOptions) -> Self {
        self.options = options;
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Jobs of one status on the status index (oldest first when
    /// `ascending`), optionally of one client; at most `limit`.
    async fn query_status(
        &self,
        status: JobStatus,
        ascending: bool,
        client: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Job>, JobStoreError> {
        self.query_jobs_with(limit, |start| {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(STATUS_INDEX)
                .key_condition_expression("job_status = :s")
                .expression_attribute_values(":s", s(status.as_str()))
                .scan_index_forward(ascending)
                .set_exclusive_start_key(start);
            if let Some(c) = client {
                q = q
                    .filter_expression("job_client = :c")
                    .expression_attribute_values(":c", s(c));
            }
            q
        })
        .await
    }

    /// A client's jobs on the client index, newest first, optionally of one status.
    async fn query_client(
        &self,
        client: &str,
        status: Option<JobStatus>,
        limit: Option<usize>,
    ) -> Result<Vec<Job>, JobStoreError> {
        self.query_jobs_with(limit, |start| {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(CLIENT_INDEX)
                .key_condition_expression("job_client = :c")
                .expression_attribute_values(":c", s(client))
                .scan_index_forward(false)
                .set_exclusive_start_key(start);
            if let Some(st) = status {
                q = q
                    .filter_expression("job_status = :s")
                    .expression_attribute_values(":s", s(st.as_str()));
            }
            q
        })
        .await
    }

    /// Run the query `build` makes for each page (given the page's start key),
    /// collecting jobs until the pages end or `limit` jobs are read.
    async fn query_jobs_with(
        &self,
        limit: Option<usize>,
        build: impl Fn(Option<Item>) -> QueryFluentBuilder,
    ) -> Result<Vec<Job>, JobStoreError> {
        let mut out = Vec::new();
        self.pages(
            |start| {
                let q = build(start);
                match limit {
                    Some(l) => q.limit(i32::try_from(l.clamp(1, 1000)).unwrap_or(1000)),
                    None => q,
                }
            },
            |item| {
                out.push(job_from_item(item)?);
                Ok(limit.is_some_and(|l| out.len() >= l))
            },
        )
        .await?;
        Ok(out)
    }

    /// Run the query `build` makes for each page, handing each item to
    /// `each` until the pages end or `each` answers `true` (enough).
    async fn pages(
        &self,
        build: impl Fn(Option<Item>) -> QueryFluentBuilder,
        mut each: impl FnMut(&Item) -> Result<bool, JobStoreError>,
    ) -> Result<(), JobStoreError> {
        let mut start: Option<Item> = None;
        loop {
            let page = build(start.take())
                .send()
                .await
                .map_err(|e| sdk("Query", e))?;
            for item in page.items() {
                if each(item)? {
                    return Ok(());
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(()),
            }
        }
    }

    /// Every item of partition `pk` whose sort key begins with `prefix`, read consistently.
    async fn partition(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, JobStoreError> {
        let mut items = Vec::new();
        self.pages(
            |start| {
                let q = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .expression_attribute_values(":pk", s(pk))
                    .consistent_read(true)
                    .set_exclusive_start_key(start);
                if prefix.is_empty() {
                    q.key_condition_expression("pk = :pk")
                } else {
                    q.key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                        .expression_attribute_values(":p", s(prefix))
                }
            },
            |item| {
                items.push(item.clone());
                Ok(false)
            },
        )
        .await?;
        Ok(items)
    }
}

#[async_trait]
impl JobBackend for DynamoJobStore {
    async fn change<T: Send + 'static>(
        &self,
        id: &str,
        decide: Decide<T>,
    ) -> Result<Changed<T>, JobStoreError> {
        self.change_job(id, decide).await
    }

    async fn read_job(&self, id: &str) -> Result<Option<Job>, JobStoreError> {
        Ok(self.read_job_rev(id).await?.map(|(job, _)| job))
    }

    async fn query_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, JobStoreError> {
        let limit = filter.limit.map(|l| l as usize);
        let mut jobs = match (&filter.client_id, filter.status) {
            (Some(c), status) => self.query_client(c, status, limit).await?,
            (None, Some(st)) => self.query_status(st, false, None, limit).await?,
            (None, None) => {
                let mut all = Vec::new();
                for st in JobStatus::ALL {
                    all.extend(self.query_status(st, false, None, limit).await?);
                }
                all
            }
        };
        jobs.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        if let Some(l) = limit {
            jobs.truncate(l);
        }
        Ok(jobs)
    }

    async fn claim_candidates(&self) -> Result<Vec<Job>, JobStoreError> {
        let mut candidates = self
            .query_status(JobStatus::Pending, true, None, Some(CLAIM_WINDOW))
            .await?;
        candidates.extend(
            self.query_status(JobStatus::Running, true, None, None)
                .await?,
        );
        Ok(candidates)
    }

    async fn read_transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError> {
        let items = self.partition(&job_pk(job_id), "t#").await?;
        (1i64..)
            .zip(items.iter())
            .map(|(seq, item)| transition_from_item(item, seq))
            .collect()
    }

    async fn insert_client(&self, client: &StudioClient) -> Result<(), JobStoreError> {
        if self.put_new(client_item(client)).await? {
            Ok(())
        } else {
            Err(JobStoreError::Duplicate(format!("client {}", client.id)))
        }
    }

    async fn read_client(&self, id: &str) -> Result<Option<StudioClient>, JobStoreError> {
        self.get_item(&client_pk(id), "client")
            .await?
            .as_ref()
            .map(client_from_item)
            .transpose()
    }

    async fn upsert_worker(&self, worker: &WorkerRecord) -> Result<(), JobStoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(worker_item(worker, self.options.retention)))
            .send()
            .await
            .map_err(|e| sdk("PutItem", e))?;
        Ok(())
    }

    async fn read_workers(&self) -> Result<Vec<WorkerRecord>, JobStoreError> {
        self.partition("workers", "")
            .await?
            .iter()
            .map(worker_from_item)
            .collect()
    }
}
