//! The download Lambda: client token → completed, owned job → presigned GET (≤ 15 min).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use rawflow_lambdas::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use rawflow_lambdas::config::ProcessEnv;
use rawflow_lambdas::download::handle_download;
use rawflow_lambdas::wiring::{download_deps, init_tracing, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let sdk = sdk_config().await;
    let deps = download_deps(&sdk, &ProcessEnv)?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            handle_download(event, deps).await
        },
    ))
    .await
}
