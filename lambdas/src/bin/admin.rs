//! The admin Lambda: clients and jobs, with `rawflow serve`'s API.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use rawflow_lambdas::admin::handle_admin;
use rawflow_lambdas::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use rawflow_lambdas::config::ProcessEnv;
use rawflow_lambdas::wiring::{admin_deps, init_tracing, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let sdk = sdk_config().await;
    let deps = admin_deps(&sdk, &ProcessEnv)?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            handle_admin(event, deps).await
        },
    ))
    .await
}
