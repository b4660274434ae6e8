//! API Gateway HTTP API (payload v2) helpers: responses, bearer tokens and
//! authentication against hashed tokens.
//!
//! Tokens are checked in the function, not by a Lambda authorizer: the
//! token scheme is the local server's ([`rawflow_jobs::auth`],
//! `rf_<principal>_<secret>`, only the SHA-256 stored), the principal in the
//! token makes the lookup one `GetItem` on the job table (client records
//! live there), and the handler needs the principal anyway to check job
//! ownership. An authorizer would add a second function, a second IAM role
//! with read access to the table and a cache whose TTL would delay token
//! revocation, for no gain here. The admin token's hash comes from the
//! function's environment (`ADMIN_TOKEN_SHA256`, a NoEcho stack parameter).

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::header::{
    HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, LOCATION,
};
use rawflow_jobs::auth::{token_principal, verify_token, ADMIN};
use rawflow_jobs::{JobStore, JobStoreError};
use serde::Serialize;

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: u16, body: &T) -> ApiGatewayV2httpResponse {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    let mut r = ApiGatewayV2httpResponse {
        status_code: i64::from(status),
        body: Some(Body::Text(text)),
        ..Default::default()
    };
    r.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `{"error": message}` with `status`.
pub fn error(status: u16, message: &str) -> ApiGatewayV2httpResponse {
    json(status, &serde_json::json!({ "error": message }))
}

/// A `302 Found` to `url` (no body).
pub fn redirect(url: &str) -> ApiGatewayV2httpResponse {
    let mut r = ApiGatewayV2httpResponse {
        status_code: 302,
        ..Default::default()
    };
    if let Ok(v) = HeaderValue::from_str(url) {
        r.headers.insert(LOCATION, v);
    }
    r.headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The bearer token of a request (`Authorization: Bearer <token>`).
pub fn bearer(req: &ApiGatewayV2httpRequest) -> Option<&str> {
    let value = req.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// A query-string parameter.
pub fn query<'a>(req: &'a ApiGatewayV2httpRequest, name: &str) -> Option<&'a str> {
    req.query_string_parameters.first(name)
}

/// A path parameter (`{job_id}` in the route).
pub fn path_param<'a>(req: &'a ApiGatewayV2httpRequest, name: &str) -> Option<&'a str> {
    req.path_parameters.get(name).map(String::as_str)
}

/// The request body as text (API Gateway may base64-encode it).
pub fn body_text(req: &ApiGatewayV2httpRequest) -> Option<String> {
    use base64::Engine as _;
    let body = req.body.as_deref()?;
    if req.is_base64_encoded {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .ok()?;
        String::from_utf8(bytes).ok()
    } else {
        Some(body.to_string())
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The studio's admin.
    Admin,
    /// A client, by id.
    Client(String),
}

/// Why a request is not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token, a malformed one, or a wrong one (all answered 401).
    #[error("missing or invalid token")]
    Unauthorized,
    /// The job store failed (answered 500).
    #[error(transparent)]
    Store(#[from] JobStoreError),
}

/// Authenticate the request's bearer token: the admin's (its hash is
/// `admin_hash`, if this function accepts the admin) or a client's (its
/// hash is in the client record).
pub async fn authenticate(
    req: &ApiGatewayV2httpRequest,
    jobs: &dyn JobStore,
    admin_hash: Option<&[u8; 32]>,
) -> Result<Principal, AuthError> {
    let token = bearer(req).ok_or(AuthError::Unauthorized)?;
    let principal = token_principal(token).ok_or(AuthError::Unauthorized)?;
    if principal == ADMIN {
        return match admin_hash {
            Some(h) if verify_token(token, h) => Ok(Principal::Admin),
            _ => Err(AuthError::Unauthorized),
        };
    }
    let client = jobs
        .get_client(principal)
        .await?
        .ok_or(AuthError::Unauthorized)?;
    if verify_token(token, &client.token_hash) {
        Ok(Principal::Client(client.id))
    } else {
        Err(AuthError::Unauthorized)
    }
}

/// The response for an authentication failure.
pub fn auth_error_response(e: &AuthError) -> ApiGatewayV2httpResponse {
    match e {
        AuthError::Unauthorized => error(401, "missing or invalid token"),
        AuthError::Store(err) => {
            tracing::error!(error = %err, "job store failed during authentication");
            error(500, "internal error")
        }
    }
}
