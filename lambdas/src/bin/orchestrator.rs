//! The orchestrator Lambda: S3 `ObjectCreated` → pending job → running
//! worker; EventBridge (a worker instance stopped, or the schedule) → the
//! same fleet check for whatever backlog the table holds.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use rawflow_lambdas::config::ProcessEnv;
use rawflow_lambdas::orchestrator::handle;
use rawflow_lambdas::wiring::{init_tracing, orchestrator_deps, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let sdk = sdk_config().await;
    let deps = orchestrator_deps(&sdk, &ProcessEnv)?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move { handle(event, deps).await },
    ))
    .await
}
