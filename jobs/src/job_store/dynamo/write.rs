//! The conditional-write plumbing: consistent reads, conditional puts and
//! transactions, and [`DynamoJobStore::change`]'s loop.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::codec::{backend, entry_item, get_n, job_from_item, job_item, job_pk, n, s, Item};
use super::DynamoJobStore;
use crate::ids::now_millis;
use crate::job_store::{Changed, Decide, JobStoreError};
use crate::model::Job;
use crate::state::{Next, Refusal, Step};

/// How often a change reads again after losing a race before giving up.
const MAX_RACES: usize = 20;

/// An SDK failure of call `what`.
pub(super) fn sdk<E>(what: &str, e: SdkError<E, HttpResponse>) -> JobStoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    JobStoreError::Backend(format!("{what}: {}", crate::aws::sdk_error_text(&e)))
}

impl DynamoJobStore {
    /// The item with this key, read consistently.
    pub(super) async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, JobStoreError> {
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
    pub(super) async fn put_new(&self, item: Item) -> Result<bool, JobStoreError> {
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

    fn put(
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

    /// Write `step`'s job — new when `rev` is `None`, else on condition
    /// that its revision is still `rev` — with its audit entry, in one
    /// transaction; `false` if the condition failed.
    async fn write_step(&self, step: &Step, rev: Option<i64>) -> Result<bool, JobStoreError> {
        let retention = self.options.retention;
        let job = job_item(&step.job, rev.unwrap_or(0) + 1, retention)?;
        let mut items = vec![match rev {
            None => self.put(job, "attribute_not_exists(pk)", Item::new())?,
            Some(rev) => self.put(
                job,
                "rev = :rev",
                Item::from([(":rev".to_string(), n(rev))]),
            )?,
        }];
        if let Some(entry) = &step.entry {
            items.push(self.put(
                entry_item(entry, retention),
                "attribute_not_exists(pk)",
                Item::new(),
            )?);
        }
        self.transact(items).await
    }

    /// The job and its revision, read consistently.
    pub(super) async fn read_job_rev(&self, id: &str) -> Result<Option<(Job, i64)>, JobStoreError> {
        match self.get_item(&job_pk(id), "job").await? {
            None => Ok(None),
            Some(item) => Ok(Some((job_from_item(&item)?, get_n(&item, "rev")?))),
        }
    }

    /// [`crate::job_store::JobBackend::change`]: read, decide, write on the
    /// revision read; after a lost race read and decide again; after a
    /// write whose outcome is unknown (an error: the SDK's own retry may
    /// have failed on the revision its first try changed), read once more
    /// and let `decide` recognise the write.
    pub(super) async fn change_job<T>(
        &self,
        id: &str,
        mut decide: Decide<T>,
    ) -> Result<Changed<T>, JobStoreError> {
        let mut wrote = false;
        for _ in 0..MAX_RACES {
            let read = self.read_job_rev(id).await?;
            let (job, rev) = match read {
                Some((job, rev)) => (Some(job), Some(rev)),
                None => (None, None),
            };
            match decide(job.as_ref(), now_millis()) {
                Err(refusal) => return Ok(Changed::Refused { job, refusal }),
                Ok(Next::Landed(answer)) => {
                    return Ok(match job {
                        Some(job) => Changed::Done { job, wrote, answer },
                        None => Changed::Refused {
                            job: None,
                            refusal: Refusal::NotFound(id.to_string()),
                        },
                    })
                }
                Ok(Next::Write(step, answer)) => match self.write_step(&step, rev).await {
                    Ok(true) => {
                        return Ok(Changed::Done {
                            job: step.job,
                            wrote: true,
                            answer,
                        })
                    }
                    // Another change came first — or this very write landed
                    // and only its answer was lost: read again.
                    Ok(false) => wrote = true,
                    Err(e) => return self.recognise(id, &mut decide, e).await,
                },
            }
        }
        Err(JobStoreError::Backend(format!(
            "job {id} keeps changing under this store"
        )))
    }

    /// After a write failed with its outcome unknown: its result if a read
    /// shows it landed, else the error.
    async fn recognise<T>(
        &self,
        id: &str,
        decide: &mut Decide<T>,
        error: JobStoreError,
    ) -> Result<Changed<T>, JobStoreError> {
        if let Ok(Some((job, _))) = self.read_job_rev(id).await {
            if let Ok(Next::Landed(answer)) = decide(Some(&job), now_millis()) {
                return Ok(Changed::Done {
                    job,
                    wrote: true,
                    answer,
                });
            }
        }
        Err(error)
    }
}
