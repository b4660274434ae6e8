//! The upload Lambda: admin token → presigned PUT (or multipart) into the RAW bucket.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use rawflow_lambdas::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use rawflow_lambdas::config::ProcessEnv;
use rawflow_lambdas::upload::handle_upload;
use rawflow_lambdas::wiring::{init_tracing, sdk_config, upload_deps};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let sdk = sdk_config().await;
    let deps = upload_deps(&sdk, &ProcessEnv)?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            handle_upload(event, deps).await
        },
    ))
    .await
}
