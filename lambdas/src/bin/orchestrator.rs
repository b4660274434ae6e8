//! The orchestrator Lambda: S3 `ObjectCreated` → pending job → running worker.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use rawflow_lambdas::aws_lambda_events::s3::S3Event;
use rawflow_lambdas::config::ProcessEnv;
use rawflow_lambdas::orchestrator::handle_s3_event;
use rawflow_lambdas::wiring::{init_tracing, orchestrator_deps, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let sdk = sdk_config().await;
    let deps = orchestrator_deps(&sdk, &ProcessEnv)?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        handle_s3_event(event, deps).await
    }))
    .await
}
