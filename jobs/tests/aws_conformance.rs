//! The conformance suite (`rawflow_jobs::testing`) on the DynamoDB store,
//! against the AWS emulator (moto over HTTP, the real SDK), each scenario on
//! a fresh table. Needs python3 (see `scripts/moto`).

#![cfg(feature = "aws")]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rawflow_jobs::aws::{create_table, dynamo_client, DynamoJobStore};
use rawflow_jobs::testing::{run_all, Store, SCENARIOS};
use rawflow_jobs::JobStoreError;
use support::moto::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_store_passes_the_conformance_suite() {
    let Some(moto) = Moto::start() else { return };
    let client = dynamo_client(&moto.sdk_config().await);
    let made = AtomicUsize::new(0);
    let ran = run_all(|| {
        let client = client.clone();
        let table = format!("jobs-{}", made.fetch_add(1, Ordering::SeqCst));
        async move {
            create_table(&client, &table).await.unwrap();
            Arc::new(DynamoJobStore::new(client, table)) as Store
        }
    })
    .await;
    assert_eq!(ran, SCENARIOS.len());
    assert!(matches!(
        create_table(&client, "jobs-0").await,
        Err(JobStoreError::Duplicate(_))
    ));
}
