//! The job store on Amazon DynamoDB (feature `aws`): one table.
//!
//! Key: `pk` (string, partition) + `sk` (string, sort). Items:
//!
//! | item          | `pk`                 | `sk`                              |
//! |---------------|----------------------|-----------------------------------|
//! | job           | `job#<id>`           | `job`                             |
//! | audit entry   | `job#<id>`           | `t#<at ms>#<attempt>#<rank>#<rnd>` |
//! | client        | `client#<id>`        | `client` (SHA-256 of its token)   |
//! | upload intent | `upload#<job id>`    | `upload`                          |
//! | S3 event seen | `event#<sha256(key, etag)>` | `event`                    |
//! | worker        | `workers`            | `<worker id>`                     |
//!
//! Indexes (both project all attributes; only job items carry their keys):
//! - `by_status`: `job_status` + `created_at` — claiming takes the oldest
//!   `pending` job (and `running` ones whose lease expired); status filters;
//! - `by_client`: `job_client` + `created_at` — a client's jobs, newest first.
//!
//! Time to live: attribute `expires_at_ttl` (Unix seconds) on finished jobs,
//! audit entries, upload intents and event items, [`TableOptions::retention`]
//! after they were written.
//!
//! Every change of a job is a read (consistent) followed by one transaction
//! that writes the whole job item on condition that its revision `rev` is
//! still the one read, together with its audit entry: two workers racing for
//! a job cannot both win, and a renewal, completion or failure only lands
//! while the caller's lease token is the job's. Index queries are eventually
//! consistent, which only means a just-created job may be found a moment later.
//!
//! A write can land while its answer is lost (a dropped connection); a retry
//! then fails on the revision it changed. The SDK's idempotency token covers
//! its own retries of a `TransactWriteItems` on DynamoDB, but not the worker's
//! retry of the whole call (nor emulators), so the store recognises its own
//! writes: a claim by its lease token in `lease_owner`, a completion, failure
//! or release by the lease token it leaves in [`CLOSED_BY`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;

use super::{CreateOutcome, JobFilter, JobStore, JobStoreError};
use crate::ids::{duration_millis, hex, now_millis, random_bytes};
use crate::model::{
    Client as StudioClient, FailOutcome, Job, JobStatus, Lease, NewJob, OutputRecord, Transition,
    UploadIntent, WorkerRecord,
};

/// Index of jobs by status and creation time.
pub const STATUS_INDEX: &str = "by_status";
/// Index of jobs by client and creation time.
pub const CLIENT_INDEX: &str = "by_client";
/// The time-to-live attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at_ttl";
/// The attribute of a job item that holds the lease token of the change
/// that ended the lease (completion, failure, release). A retried change
/// whose first try landed but whose answer was lost (a dropped connection;
/// a retry the SDK's idempotency token does not cover, such as the worker's
/// own) finds its token there and succeeds, instead of reading the job's
/// new state as a lost lease. Only a retry does: the store remembers (in
/// memory) the leases whose last change failed with its outcome unknown.
pub const CLOSED_BY: &str = "closed_by";

type Item = HashMap<String, AttributeValue>;

/// Settings of a [`DynamoJobStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// How long finished jobs, their audit trail, upload intents and event
    /// records are kept (DynamoDB's TTL deletes them after that).
    pub retention: Duration,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// A [`JobStore`] in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoJobStore {
    client: Client,
    table: String,
    options: TableOptions,
    /// Lease tokens whose last change failed with the outcome of its write
    /// unknown (see [`CLOSED_BY`]); the oldest are forgotten first.
    in_doubt: Arc<Mutex<VecDeque<String>>>,
}

/// How many lease tokens [`DynamoJobStore`] keeps in doubt at most.
const MAX_IN_DOUBT: usize = 1024;

fn backend(e: impl std::fmt::Display) -> JobStoreError {
    JobStoreError::Backend(e.to_string())
}

fn sdk<E>(what: &str, e: SdkError<E, HttpResponse>) -> JobStoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    JobStoreError::Backend(format!("{what}: {}", crate::aws::sdk_error_text(&e)))
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s(item: &Item, name: &str) -> Result<String, JobStoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(JobStoreError::BadRecord(format!(
            "attribute {name} missing or not a string"
        ))),
    }
}

fn opt_s(item: &Item, name: &str) -> Result<Option<String>, JobStoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(JobStoreError::BadRecord(format!(
            "attribute {name} is not a string"
        ))),
    }
}

fn opt_n(item: &Item, name: &str) -> Result<Option<i64>, JobStoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| {
            JobStoreError::BadRecord(format!("attribute {name} is not an integer: {v:?}"))
        }),
        Some(_) => Err(JobStoreError::BadRecord(format!(
            "attribute {name} is not a number"
        ))),
    }
}

fn get_n(item: &Item, name: &str) -> Result<i64, JobStoreError> {
    opt_n(item, name)?.ok_or_else(|| JobStoreError::BadRecord(format!("attribute {name} missing")))
}

fn get_u32(item: &Item, name: &str) -> Result<u32, JobStoreError> {
    u32::try_from(get_n(item, name)?)
        .map_err(|_| JobStoreError::BadRecord(format!("attribute {name} out of range")))
}

fn job_pk(id: &str) -> String {
    format!("job#{id}")
}

/// The rank of a transition among those of one attempt made in the same
/// millisecond: the claim comes before its outcome.
fn rank(to: JobStatus) -> u8 {
    match to {
        JobStatus::Running => 1,
        JobStatus::Pending | JobStatus::Completed | JobStatus::Failed => 2,
    }
}

/// An audit entry to write with a job change.
struct Entry {
    from: Option<JobStatus>,
    to: JobStatus,
    attempt: u32,
    worker_id: Option<String>,
    detail: Option<String>,
}

/// `job` moved out of Running to `to` at `now` — lease cleared, finished
/// unless it goes back to Pending — and the audit entry of the move.
fn leave_running(
    job: &Job,
    to: JobStatus,
    now: i64,
    (attempt, worker_id): (u32, Option<String>),
    detail: Option<String>,
) -> (Job, Entry) {
    let mut new = job.clone();
    new.status = to;
    new.lease_owner = None;
    new.lease_expires_at = None;
    new.updated_at = now;
    new.finished_at = (to != JobStatus::Pending).then_some(now);
    let entry = Entry {
        from: Some(JobStatus::Running),
        to,
        attempt,
        worker_id,
        detail,
    };
    (new, entry)
}

impl DynamoJobStore {
    /// A store over an existing table (see [`create_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            options: TableOptions::default(),
            in_doubt: Arc::default(),
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

    fn ttl_from(&self, at_ms: i64) -> AttributeValue {
        let secs = at_ms / 1000 + i64::try_from(self.options.retention.as_secs()).unwrap_or(0);
        n(secs)
    }

    async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, JobStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk("GetItem", e))?;
        Ok(out.item)
    }

    /// Put `item` on condition that no item has its key; `false` if one has.
    async fn put_new(&self, item: Item) -> Result<bool, JobStoreError> {
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk("PutItem", e)),
        }
    }

    fn job_item(
        &self,
        job: &Job,
        rev: i64,
        closed_by: Option<&str>,
    ) -> Result<Item, JobStoreError> {
        let mut item = Item::new();
        item.insert("pk".into(), s(job_pk(&job.id)));
        item.insert("sk".into(), s("job"));
        item.insert("id".into(), s(&job.id));
        item.insert("client_id".into(), s(&job.client_id));
        item.insert("job_client".into(), s(&job.client_id));
        item.insert("input_key".into(), s(&job.input_key));
        item.insert("input_sha256".into(), s(&job.input_sha256));
        item.insert("input_bytes".into(), n(job.input_bytes));
        item.insert("filename".into(), s(&job.filename));
        item.insert("recipe".into(), s(&job.recipe));
        item.insert("job_status".into(), s(job.status.as_str()));
        item.insert("attempts".into(), n(job.attempts));
        item.insert("max_attempts".into(), n(job.max_attempts));
        let mut opt_str = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                item.insert(name.into(), s(v));
            }
        };
        opt_str("lease_owner", &job.lease_owner);
        opt_str("worker_id", &job.worker_id);
        opt_str("instance_type", &job.instance_type);
        opt_str("error", &job.error);
        let mut opt_num = |name: &str, v: Option<i64>| {
            if let Some(v) = v {
                item.insert(name.into(), n(v));
            }
        };
        opt_num("lease_expires", job.lease_expires_at);
        opt_num("started_at", job.started_at);
        opt_num("finished_at", job.finished_at);
        item.insert(
            "timings".into(),
            s(serde_json::to_string(&job.timings).map_err(backend)?),
        );
        item.insert(
            "outputs".into(),
            s(serde_json::to_string(&job.outputs).map_err(backend)?),
        );
        item.insert("created_at".into(), n(job.created_at));
        item.insert("updated_at".into(), n(job.updated_at));
        item.insert("rev".into(), n(rev));
        if let Some(token) = closed_by {
            item.insert(CLOSED_BY.into(), s(token));
        }
        if let Some(done) = job.finished_at {
            item.insert(TTL_ATTRIBUTE.into(), self.ttl_from(done));
        }
        Ok(item)
    }

    fn entry_item(&self, job_id: &str, e: &Entry, at: i64) -> Item {
        let sk = format!(
            "t#{at:013}#{:05}#{}#{}",
            e.attempt,
            rank(e.to),
            hex(&random_bytes::<3>())
        );
        let mut item = Item::new();
        item.insert("pk".into(), s(job_pk(job_id)));
        item.insert("sk".into(), s(sk));
        item.insert("job_id".into(), s(job_id));
        if let Some(f) = e.from {
            item.insert("from_status".into(), s(f.as_str()));
        }
        item.insert("to_status".into(), s(e.to.as_str()));
        item.insert("attempt".into(), n(e.attempt));
        if let Some(w) = &e.worker_id {
            item.insert("worker_id".into(), s(w));
        }
        item.insert("at".into(), n(at));
        if let Some(d) = &e.detail {
            item.insert("detail".into(), s(d));
        }
        item.insert(TTL_ATTRIBUTE.into(), self.ttl_from(at));
        item
    }

    fn put_item(
        &self,
        item: Item,
        condition: &str,
        values: Item,
    ) -> Result<TransactWriteItem, JobStoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Write `items` in one transaction; `false` if a condition failed (or
    /// another transaction on the same items was in flight).
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<bool, JobStoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    let lost_race = c.cancellation_reasons().iter().any(|r| {
                        matches!(
                            r.code(),
                            Some("ConditionalCheckFailed" | "TransactionConflict")
                        )
                    });
                    if lost_race {
                        Ok(false)
                    } else {
                        Err(sdk("TransactWriteItems", e))
                    }
                }
                _ => Err(sdk("TransactWriteItems", e)),
            },
        }
    }

    /// Replace the job item read at revision `rev` by `job`, with its audit
    /// entry; `false` if the item changed since it was read. `closed_by`:
    /// the lease token of the change that ends a lease (see [`CLOSED_BY`]).
    async fn write_job(
        &self,
        job: &Job,
        rev: i64,
        entry: Option<Entry>,
        closed_by: Option<&str>,
    ) -> Result<bool, JobStoreError> {
        let mut values = Item::new();
        values.insert(":rev".into(), n(rev));
        let mut items = vec![self.put_item(
            self.job_item(job, rev + 1, closed_by)?,
            "rev = :rev",
            values,
        )?];
        if let Some(e) = entry {
            items.push(self.put_item(
                self.entry_item(&job.id, &e, job.updated_at),
                "attribute_not_exists(pk)",
                Item::new(),
            )?);
        }
        self.transact(items).await
    }

    /// The job and its revision, read consistently.
    async fn read_job(&self, id: &str) -> Result<Option<(Job, i64)>, JobStoreError> {
        Ok(self.read_job_closed(id).await?.map(|(j, rev, _)| (j, rev)))
    }

    /// The job, its revision and its [`CLOSED_BY`] token, read consistently.
    async fn read_job_closed(
        &self,
        id: &str,
    ) -> Result<Option<(Job, i64, Option<String>)>, JobStoreError> {
        match self.get_item(&job_pk(id), "job").await? {
            None => Ok(None),
            Some(item) => Ok(Some((
                job_from_item(&item)?,
                get_n(&item, "rev")?,
                opt_s(&item, CLOSED_BY)?,
            ))),
        }
    }

    fn in_doubt(&self) -> MutexGuard<'_, VecDeque<String>> {
        self.in_doubt
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Remember that a write under `token` may have landed unseen.
    fn doubt(&self, token: &str) {
        let mut set = self.in_doubt();
        if !set.iter().any(|t| t == token) {
            if set.len() >= MAX_IN_DOUBT {
                set.pop_front();
            }
            set.push_back(token.to_string());
        }
    }

    /// Whether a write under `token` may have landed unseen (forgetting it).
    fn take_doubt(&self, token: &str) -> bool {
        let mut set = self.in_doubt();
        match set.iter().position(|t| t == token) {
            Some(i) => set.remove(i).is_some(),
            None => false,
        }
    }

    /// Apply `change` to the job held under `lease` until it lands or the
    /// lease is gone; `change` gets the job as read and returns the new job
    /// and its audit entry. `None`: the lease was lost.
    ///
    /// A change that landed but whose answer was lost is recognised by the
    /// lease token it left in [`CLOSED_BY`] — in this call (the SDK's retry
    /// failed on the revision the landed write changed) or in the next call
    /// with this lease after one that failed with its write's outcome unknown
    /// (the caller retries) — and `landed` makes the result from the job as
    /// it is (`None` if the lease ended otherwise). A separate call with a
    /// lease that ended says it is lost, as with every store.
    async fn change_leased<T>(
        &self,
        lease: &Lease,
        mut change: impl FnMut(&Job, i64) -> (Job, Entry, T) + Send,
        landed: impl Fn(&Job) -> Option<T> + Send,
    ) -> Result<Option<T>, JobStoreError> {
        let token = lease.token.as_str();
        let mut wrote = self.take_doubt(token);
        for _ in 0..20 {
            let read = match self.read_job_closed(&lease.job_id).await {
                Ok(read) => read,
                Err(e) => {
                    if wrote {
                        self.doubt(token);
                    }
                    return Err(e);
                }
            };
            let Some((job, rev, closed_by)) = read else {
                return Ok(None);
            };
            if job.status != JobStatus::Running || job.lease_owner.as_deref() != Some(token) {
                if wrote && job.status != JobStatus::Running && closed_by.as_deref() == Some(token)
                {
                    return Ok(landed(&job));
                }
                return Ok(None);
            }
            let (new, entry, result) = change(&job, now_millis());
            match self.write_job(&new, rev, Some(entry), Some(token)).await {
                Ok(true) => return Ok(Some(result)),
                // A renewal (or a racing claim) changed the item, or this
                // very write landed and only its answer was lost: read again.
                Ok(false) => wrote = true,
                Err(e) => {
                    self.doubt(token);
                    return Err(e);
                }
            }
        }
        Err(JobStoreError::Backend(format!(
            "job {} keeps changing under this worker",
            lease.job_id
        )))
    }

    /// Query one status on the status index, oldest first, filtering with
    /// `filter` (an expression over `:now`); at most `limit` items.
    async fn query_status(
        &self,
        status: JobStatus,
        ascending: bool,
        lease_expired_before: Option<i64>,
        client: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Job>, JobStoreError> {
        self.query_jobs(limit, |start| {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(STATUS_INDEX)
                .key_condition_expression("job_status = :s")
                .expression_attribute_values(":s", s(status.as_str()))
                .scan_index_forward(ascending)
                .set_exclusive_start_key(start);
            let mut filters = Vec::new();
            if let Some(now) = lease_expired_before {
                filters.push("lease_expires < :now");
                q = q.expression_attribute_values(":now", n(now));
            }
            if let Some(c) = client {
                filters.push("job_client = :c");
                q = q.expression_attribute_values(":c", s(c));
            }
            if !filters.is_empty() {
                q = q.filter_expression(filters.join(" AND "));
            }
            q
        })
        .await
    }

    async fn query_client(
        &self,
        client: &str,
        status: Option<JobStatus>,
        limit: Option<usize>,
    ) -> Result<Vec<Job>, JobStoreError> {
        self.query_jobs(limit, |start| {
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
    async fn query_jobs(
        &self,
        limit: Option<usize>,
        build: impl Fn(Option<Item>) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Job>, JobStoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = build(start.take());
            if let Some(l) = limit {
                q = q.limit(i32::try_from(l.clamp(1, 1000)).unwrap_or(1000));
            }
            let page = q.send().await.map_err(|e| sdk("Query", e))?;
            for item in page.items() {
                out.push(job_from_item(item)?);
            }
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Fail a running job whose lease expired on its last allowed attempt.
    async fn fail_exhausted(&self, job: &Job, rev: i64, now: i64) -> Result<bool, JobStoreError> {
        let (mut new, entry) = leave_running(
            job,
            JobStatus::Failed,
            now,
            (job.attempts, job.worker_id.clone()),
            Some("lease expired on the last allowed attempt".into()),
        );
        new.error = Some("the worker stopped (lease expired) on the last allowed attempt".into());
        self.write_job(&new, rev, Some(entry), None).await
    }
}

fn job_from_item(item: &Item) -> Result<Job, JobStoreError> {
    let id = get_s(item, "id")?;
    let bad = |what: &str, e: String| JobStoreError::BadRecord(format!("job {id}: {what}: {e}"));
    let status: JobStatus = get_s(item, "job_status")?
        .parse()
        .map_err(|e| bad("status", e))?;
    let timings: Vec<(String, f64)> = serde_json::from_str(&get_s(item, "timings")?)
        .map_err(|e| bad("timings", e.to_string()))?;
    let outputs: Vec<OutputRecord> = serde_json::from_str(&get_s(item, "outputs")?)
        .map_err(|e| bad("outputs", e.to_string()))?;
    Ok(Job {
        client_id: get_s(item, "client_id")?,
        input_key: get_s(item, "input_key")?,
        input_sha256: get_s(item, "input_sha256")?,
        input_bytes: u64::try_from(get_n(item, "input_bytes")?).unwrap_or(0),
        filename: get_s(item, "filename")?,
        recipe: get_s(item, "recipe")?,
        status,
        attempts: get_u32(item, "attempts")?,
        max_attempts: get_u32(item, "max_attempts")?,
        lease_owner: opt_s(item, "lease_owner")?,
        lease_expires_at: opt_n(item, "lease_expires")?,
        worker_id: opt_s(item, "worker_id")?,
        instance_type: opt_s(item, "instance_type")?,
        timings,
        outputs,
        error: opt_s(item, "error")?,
        created_at: get_n(item, "created_at")?,
        updated_at: get_n(item, "updated_at")?,
        started_at: opt_n(item, "started_at")?,
        finished_at: opt_n(item, "finished_at")?,
        id,
    })
}

fn worker_from_item(item: &Item) -> Result<WorkerRecord, JobStoreError> {
    Ok(WorkerRecord {
        id: get_s(item, "sk")?,
        instance_type: get_s(item, "instance_type")?,
        state: get_s(item, "worker_state")?
            .parse()
            .map_err(JobStoreError::BadRecord)?,
        started_at: get_n(item, "started_at")?,
        updated_at: get_n(item, "updated_at")?,
        jobs_done: u64::try_from(get_n(item, "jobs_done")?).unwrap_or(0),
    })
}

/// The id of the S3-event item that makes job creation idempotent on
/// (input key, content fingerprint).
fn event_pk(input_key: &str, fingerprint: &str) -> String {
    let digest = crate::object_store::sha256_hex(format!("{input_key}\n{fingerprint}").as_bytes());
    format!("event#{digest}")
}

#[async_trait]
impl JobStore for DynamoJobStore {
    async fn create_client(&self, client: &StudioClient) -> Result<(), JobStoreError> {
        let mut item = Item::new();
        item.insert("pk".into(), s(format!("client#{}", client.id)));
        item.insert("sk".into(), s("client"));
        item.insert("id".into(), s(&client.id));
        item.insert("name".into(), s(&client.name));
        item.insert("token_hash".into(), s(hex(&client.token_hash)));
        item.insert("created_at".into(), n(client.created_at));
        if self.put_new(item).await? {
            Ok(())
        } else {
            Err(JobStoreError::Duplicate(format!("client {}", client.id)))
        }
    }

    async fn get_client(&self, id: &str) -> Result<Option<StudioClient>, JobStoreError> {
        let Some(item) = self.get_item(&format!("client#{id}"), "client").await? else {
            return Ok(None);
        };
        let id = get_s(&item, "id")?;
        let token_hash =
            crate::ids::parse_hex::<32>(&get_s(&item, "token_hash")?).ok_or_else(|| {
                JobStoreError::BadRecord(format!("client {id}: token hash is not 32 bytes"))
            })?;
        Ok(Some(StudioClient {
            name: get_s(&item, "name")?,
            token_hash,
            created_at: get_n(&item, "created_at")?,
            id,
        }))
    }

    async fn put_upload(&self, intent: &UploadIntent) -> Result<(), JobStoreError> {
        let mut item = Item::new();
        item.insert("pk".into(), s(format!("upload#{}", intent.job_id)));
        item.insert("sk".into(), s("upload"));
        item.insert("job_id".into(), s(&intent.job_id));
        item.insert("client_id".into(), s(&intent.client_id));
        item.insert("filename".into(), s(&intent.filename));
        item.insert("recipe".into(), s(&intent.recipe));
        item.insert("created_at".into(), n(intent.created_at));
        item.insert("expires_at".into(), n(intent.expires_at));
        item.insert(TTL_ATTRIBUTE.into(), self.ttl_from(intent.expires_at));
        if self.put_new(item).await? {
            Ok(())
        } else {
            Err(JobStoreError::Duplicate(format!(
                "upload {}",
                intent.job_id
            )))
        }
    }

    async fn get_upload(&self, job_id: &str) -> Result<Option<UploadIntent>, JobStoreError> {
        let Some(item) = self.get_item(&format!("upload#{job_id}"), "upload").await? else {
            return Ok(None);
        };
        Ok(Some(UploadIntent {
            job_id: get_s(&item, "job_id")?,
            client_id: get_s(&item, "client_id")?,
            filename: get_s(&item, "filename")?,
            recipe: get_s(&item, "recipe")?,
            created_at: get_n(&item, "created_at")?,
            expires_at: get_n(&item, "expires_at")?,
        }))
    }

    async fn create_job(&self, new: &NewJob) -> Result<CreateOutcome, JobStoreError> {
        let now = now_millis();
        let job = Job {
            id: new.id.clone(),
            client_id: new.client_id.clone(),
            input_key: new.input_key.clone(),
            input_sha256: new.input_sha256.clone(),
            input_bytes: new.input_bytes,
            filename: new.filename.clone(),
            recipe: new.recipe.clone(),
            status: JobStatus::Pending,
            attempts: 0,
            max_attempts: new.max_attempts.max(1),
            lease_owner: None,
            lease_expires_at: None,
            worker_id: None,
            instance_type: None,
            timings: Vec::new(),
            outputs: Vec::new(),
            error: None,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
        };
        let event = event_pk(&new.input_key, &new.input_sha256);
        let mut event_item = Item::new();
        event_item.insert("pk".into(), s(&event));
        event_item.insert("sk".into(), s("event"));
        event_item.insert("job_id".into(), s(&new.id));
        event_item.insert(TTL_ATTRIBUTE.into(), self.ttl_from(now));
        let entry = Entry {
            from: None,
            to: JobStatus::Pending,
            attempt: 0,
            worker_id: None,
            detail: Some("object created".into()),
        };
        let items = vec![
            self.put_item(
                self.job_item(&job, 1, None)?,
                "attribute_not_exists(pk)",
                Item::new(),
            )?,
            self.put_item(event_item, "attribute_not_exists(pk)", Item::new())?,
            self.put_item(
                self.entry_item(&job.id, &entry, now),
                "attribute_not_exists(pk)",
                Item::new(),
            )?,
        ];
        if self.transact(items).await? {
            return Ok(CreateOutcome::Created(job));
        }
        // Seen before: the job with this id, or the one this event made.
        if let Some((existing, _)) = self.read_job(&new.id).await? {
            return Ok(
                if existing.input_key == new.input_key && existing.input_sha256 == new.input_sha256
                {
                    CreateOutcome::Existing(existing)
                } else {
                    CreateOutcome::Conflict(existing)
                },
            );
        }
        if let Some(item) = self.get_item(&event, "event").await? {
            let id = get_s(&item, "job_id")?;
            if let Some((existing, _)) = self.read_job(&id).await? {
                return Ok(CreateOutcome::Existing(existing));
            }
        }
        Err(JobStoreError::Backend(format!(
            "recording job {} failed on a condition, but no job or event record exists",
            new.id
        )))
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>, JobStoreError> {
        Ok(self.read_job(id).await?.map(|(j, _)| j))
    }

    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, JobStoreError> {
        let limit = filter.limit.map(|l| l as usize);
        let mut jobs = match (&filter.client_id, filter.status) {
            (Some(c), status) => self.query_client(c, status, limit).await?,
            (None, Some(st)) => self.query_status(st, false, None, None, limit).await?,
            (None, None) => {
                let mut all = Vec::new();
                for st in [
                    JobStatus::Pending,
                    JobStatus::Running,
                    JobStatus::Completed,
                    JobStatus::Failed,
                ] {
                    all.extend(self.query_status(st, false, None, None, limit).await?);
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

    async fn claim_on(
        &self,
        worker_id: &str,
        instance_type: Option<&str>,
        ttl: Duration,
    ) -> Result<Option<(Job, Lease)>, JobStoreError> {
        let now = now_millis();
        let mut candidates = self
            .query_status(JobStatus::Pending, true, None, None, Some(25))
            .await?;
        candidates.extend(
            self.query_status(JobStatus::Running, true, Some(now), None, None)
                .await?,
        );
        candidates.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        for candidate in candidates {
            // The index may lag: decide on a consistent read.
            let Some((job, rev)) = self.read_job(&candidate.id).await? else {
                continue;
            };
            let now = now_millis();
            let expired =
                job.status == JobStatus::Running && job.lease_expires_at.is_some_and(|t| t < now);
            if expired && job.attempts >= job.max_attempts {
                self.fail_exhausted(&job, rev, now).await?;
                continue;
            }
            if job.status != JobStatus::Pending && !expired {
                continue;
            }
            let token = format!("{worker_id}/{}", hex(&random_bytes::<8>()));
            let mut claimed = job.clone();
            claimed.status = JobStatus::Running;
            claimed.attempts = job.attempts.saturating_add(1);
            claimed.lease_owner = Some(token.clone());
            claimed.lease_expires_at = Some(now.saturating_add(duration_millis(ttl)));
            claimed.worker_id = Some(worker_id.to_string());
            claimed.instance_type = instance_type.map(str::to_string);
            claimed.started_at = Some(job.started_at.unwrap_or(now));
            claimed.updated_at = now;
            let entry = Entry {
                from: Some(job.status),
                to: JobStatus::Running,
                attempt: claimed.attempts,
                worker_id: Some(worker_id.to_string()),
                detail: expired.then(|| "previous lease expired".to_string()),
            };
            let written = self.write_job(&claimed, rev, Some(entry), None).await;
            if !matches!(written, Ok(true)) {
                // Lost the race, or the answer to a claim that landed was
                // lost (the SDK's retry then fails on the revision, or gives
                // up): the lease token tells.
                let mine = match self.read_job(&claimed.id).await {
                    Ok(Some((now, _))) => now.lease_owner.as_deref() == Some(token.as_str()),
                    Ok(None) | Err(_) => false,
                };
                if !mine {
                    written?;
                    // Another worker won this one: try the next.
                    continue;
                }
            }
            let lease = Lease {
                job_id: claimed.id.clone(),
                token,
                worker_id: worker_id.to_string(),
                attempt: claimed.attempts,
            };
            return Ok(Some((claimed, lease)));
        }
        Ok(None)
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, JobStoreError> {
        let now = now_millis();
        match self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(job_pk(&lease.job_id)))
            .key("sk", s("job"))
            .update_expression("SET lease_expires = :e, updated_at = :now, rev = rev + :one")
            .condition_expression("job_status = :running AND lease_owner = :tok")
            .expression_attribute_values(":e", n(now.saturating_add(duration_millis(ttl))))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":running", s(JobStatus::Running.as_str()))
            .expression_attribute_values(":tok", s(&lease.token))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk("UpdateItem", e)),
        }
    }

    async fn complete(
        &self,
        lease: &Lease,
        outputs: &[OutputRecord],
        timings: &[(String, f64)],
    ) -> Result<bool, JobStoreError> {
        let done = self
            .change_leased(
                lease,
                |job, now| {
                    let (mut new, entry) = leave_running(
                        job,
                        JobStatus::Completed,
                        now,
                        (lease.attempt, Some(lease.worker_id.clone())),
                        None,
                    );
                    new.outputs = outputs.to_vec();
                    new.timings = timings.to_vec();
                    new.error = None;
                    (new, entry, ())
                },
                |job| (job.status == JobStatus::Completed).then_some(()),
            )
            .await?;
        Ok(done.is_some())
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retryable: bool,
        timings: &[(String, f64)],
    ) -> Result<FailOutcome, JobStoreError> {
        let outcome = self
            .change_leased(
                lease,
                |job, now| {
                    let retry = retryable && job.attempts < job.max_attempts;
                    let (to, message) = if retry {
                        (JobStatus::Pending, error.to_string())
                    } else if retryable {
                        (
                            JobStatus::Failed,
                            format!("{error} (gave up after {} attempts)", job.attempts),
                        )
                    } else {
                        (JobStatus::Failed, error.to_string())
                    };
                    let (mut new, entry) = leave_running(
                        job,
                        to,
                        now,
                        (lease.attempt, Some(lease.worker_id.clone())),
                        Some(message.clone()),
                    );
                    new.error = Some(message);
                    new.timings = timings.to_vec();
                    let outcome = if retry {
                        FailOutcome::Retry
                    } else {
                        FailOutcome::Failed
                    };
                    (new, entry, outcome)
                },
                |job| match job.status {
                    JobStatus::Pending => Some(FailOutcome::Retry),
                    JobStatus::Failed => Some(FailOutcome::Failed),
                    JobStatus::Running | JobStatus::Completed => None,
                },
            )
            .await?;
        Ok(outcome.unwrap_or(FailOutcome::LeaseLost))
    }

    async fn release(&self, lease: &Lease, reason: &str) -> Result<bool, JobStoreError> {
        let done = self
            .change_leased(
                lease,
                |job, now| {
                    let (mut new, entry) = leave_running(
                        job,
                        JobStatus::Pending,
                        now,
                        (lease.attempt, Some(lease.worker_id.clone())),
                        Some(reason.to_string()),
                    );
                    new.attempts = job.attempts.saturating_sub(1);
                    (new, entry, ())
                },
                |job| (job.status == JobStatus::Pending).then_some(()),
            )
            .await?;
        Ok(done.is_some())
    }

    async fn has_runnable_jobs(&self) -> Result<bool, JobStoreError> {
        if !self
            .query_status(JobStatus::Pending, true, None, None, Some(1))
            .await?
            .is_empty()
        {
            return Ok(true);
        }
        Ok(!self
            .query_status(JobStatus::Running, true, Some(now_millis()), None, Some(1))
            .await?
            .is_empty())
    }

    async fn transitions(&self, job_id: &str) -> Result<Vec<Transition>, JobStoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :t)")
                .expression_attribute_values(":pk", s(job_pk(job_id)))
                .expression_attribute_values(":t", s("t#"))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk("Query", e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        let mut out = Vec::with_capacity(items.len());
        for (seq, item) in (1i64..).zip(items.iter()) {
            let from = opt_s(item, "from_status")?
                .map(|f| f.parse::<JobStatus>().map_err(JobStoreError::BadRecord))
                .transpose()?;
            out.push(Transition {
                seq,
                job_id: get_s(item, "job_id")?,
                from,
                to: get_s(item, "to_status")?
                    .parse()
                    .map_err(JobStoreError::BadRecord)?,
                attempt: get_u32(item, "attempt")?,
                worker_id: opt_s(item, "worker_id")?,
                at: get_n(item, "at")?,
                detail: opt_s(item, "detail")?,
            });
        }
        Ok(out)
    }

    async fn put_worker(&self, worker: &WorkerRecord) -> Result<(), JobStoreError> {
        let mut item = Item::new();
        item.insert("pk".into(), s("workers"));
        item.insert("sk".into(), s(&worker.id));
        item.insert("instance_type".into(), s(&worker.instance_type));
        item.insert("worker_state".into(), s(worker.state.as_str()));
        item.insert("started_at".into(), n(worker.started_at));
        item.insert("updated_at".into(), n(worker.updated_at));
        item.insert("jobs_done".into(), n(worker.jobs_done));
        item.insert(TTL_ATTRIBUTE.into(), self.ttl_from(worker.updated_at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk("PutItem", e))?;
        Ok(())
    }

    async fn list_workers(&self) -> Result<Vec<WorkerRecord>, JobStoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s("workers"))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk("Query", e))?;
            for item in page.items() {
                out.push(worker_from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }
}

fn attr(name: &str, ty: ScalarAttributeType) -> Result<AttributeDefinition, JobStoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()
        .map_err(backend)
}

fn key(name: &str, ty: KeyType) -> Result<KeySchemaElement, JobStoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(ty)
        .build()
        .map_err(backend)
}

fn index(name: &str, hash: &str) -> Result<GlobalSecondaryIndex, JobStoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash)?)
        .key_schema(key("created_at", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(backend)
}

/// Create the table `table` with its two indexes (on-demand billing), wait
/// until it is active, and turn on TTL on [`TTL_ATTRIBUTE`]. For tests and
/// first deployments (the layout is in the module docs).
/// An existing table of that name is an error ([`JobStoreError::Duplicate`]).
pub async fn create_table(client: &Client, table: &str) -> Result<(), JobStoreError> {
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S)?)
        .attribute_definitions(attr("sk", ScalarAttributeType::S)?)
        .attribute_definitions(attr("job_status", ScalarAttributeType::S)?)
        .attribute_definitions(attr("job_client", ScalarAttributeType::S)?)
        .attribute_definitions(attr("created_at", ScalarAttributeType::N)?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(index(STATUS_INDEX, "job_status")?)
        .global_secondary_indexes(index(CLIENT_INDEX, "job_client")?)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Err(JobStoreError::Duplicate(format!("table {table}")));
        }
        Err(e) => return Err(sdk("CreateTable", e)),
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| sdk("DescribeTable", e))?;
        let status = out.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(JobStoreError::Backend(format!(
                "table {table} not active after 5 minutes"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(backend)?,
        )
        .send()
        .await
        .map_err(|e| sdk("UpdateTimeToLive", e))?;
    Ok(())
}
