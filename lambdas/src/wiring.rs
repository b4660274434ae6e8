//! What the binaries' `main`s share: logging, and the SDK clients built
//! once per Lambda instance from the environment.

use std::sync::Arc;

use rawflow_jobs::aws::{
    dynamo_client, load_config, s3_client, DynamoJobStore, S3Config, S3ObjectStore,
};

use crate::admin::AdminDeps;
use crate::config::{
    AdminConfig, ConfigError, DownloadConfig, Env, FleetConfig, StorageConfig, UploadConfig,
};
use crate::download::DownloadDeps;
use crate::fleet::Ec2Fleet;
use crate::orchestrator::OrchestratorDeps;
use crate::upload::UploadDeps;

/// JSON logs to stdout (CloudWatch), level from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .try_init();
}

/// The S3 store and the DynamoDB job store of `storage`.
pub fn stores(
    sdk: &rawflow_jobs::aws::aws_config::SdkConfig,
    storage: &StorageConfig,
) -> (S3ObjectStore, DynamoJobStore) {
    let objects = S3ObjectStore::new(
        s3_client(sdk),
        S3Config::new(&storage.raw_bucket, &storage.processed_bucket)
            .with_kms_key(storage.kms_key_id.clone()),
    );
    let jobs = DynamoJobStore::new(dynamo_client(sdk), &storage.table);
    (objects, jobs)
}

/// The orchestrator's dependencies from `sdk` and `env`.
pub fn orchestrator_deps(
    sdk: &rawflow_jobs::aws::aws_config::SdkConfig,
    env: &dyn Env,
) -> Result<OrchestratorDeps, ConfigError> {
    let storage = StorageConfig::from_env(env)?;
    let (_, jobs) = stores(sdk, &storage);
    Ok(OrchestratorDeps {
        jobs: Arc::new(jobs),
        fleet: Arc::new(Ec2Fleet::new(aws_sdk_ec2::Client::new(sdk))),
        config: FleetConfig::from_env(env)?,
        raw_bucket: storage.raw_bucket,
    })
}

/// The upload function's dependencies from `sdk` and `env`.
pub fn upload_deps(
    sdk: &rawflow_jobs::aws::aws_config::SdkConfig,
    env: &dyn Env,
) -> Result<UploadDeps, ConfigError> {
    let storage = StorageConfig::from_env(env)?;
    let (store, jobs) = stores(sdk, &storage);
    Ok(UploadDeps {
        jobs: Arc::new(jobs),
        store,
        config: UploadConfig::from_env(env)?,
    })
}

/// The download function's dependencies from `sdk` and `env`.
pub fn download_deps(
    sdk: &rawflow_jobs::aws::aws_config::SdkConfig,
    env: &dyn Env,
) -> Result<DownloadDeps, ConfigError> {
    let storage = StorageConfig::from_env(env)?;
    let (store, jobs) = stores(sdk, &storage);
    Ok(DownloadDeps {
        jobs: Arc::new(jobs),
        store,
        config: DownloadConfig::from_env(env)?,
    })
}

/// The admin function's dependencies from `sdk` and `env`.
pub fn admin_deps(
    sdk: &rawflow_jobs::aws::aws_config::SdkConfig,
    env: &dyn Env,
) -> Result<AdminDeps, ConfigError> {
    let storage = StorageConfig::from_env(env)?;
    let (_, jobs) = stores(sdk, &storage);
    Ok(AdminDeps {
        jobs: Arc::new(jobs),
        admin_token_sha256: AdminConfig::from_env(env)?.admin_token_sha256,
    })
}

/// The SDK configuration from the standard chain (the function's role).
pub async fn sdk_config() -> rawflow_jobs::aws::aws_config::SdkConfig {
    load_config().await
}
