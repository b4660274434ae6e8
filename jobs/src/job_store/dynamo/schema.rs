//! The table: keys, the two indexes and time to live ([`create_table`]).

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use super::codec::backend;
use super::write::sdk;
use super::{CLIENT_INDEX, STATUS_INDEX, TTL_ATTRIBUTE};
use crate::job_store::JobStoreError;

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
