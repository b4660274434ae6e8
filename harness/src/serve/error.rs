//! API errors: each becomes a status and a JSON body `{"error": "..."}`, and
//! each refusal is logged.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// A refused or failed request.
#[derive(Debug)]
pub enum ApiError {
    /// 400.
    BadRequest(String),
    /// 401: missing or wrong token.
    Unauthorized,
    /// 403: tampered or expired link.
    Forbidden(String),
    /// 404 (also for other clients' jobs: existence is never revealed).
    NotFound,
    /// 409.
    Conflict(String),
    /// 409 for a job that has no outputs yet: the body also carries its `status`.
    NotReady {
        /// What is said.
        message: String,
        /// The job's status.
        status: rawflow_jobs::JobStatus,
    },
    /// 413.
    TooLarge(u64),
    /// 500 (the details go to the log, not to the caller).
    Internal(String),
}

impl ApiError {
    /// A 500 from any error.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "missing or invalid token".into()),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            Self::NotFound => (StatusCode::NOT_FOUND, "not found".into()),
            Self::Conflict(m) | Self::NotReady { message: m, .. } => {
                (StatusCode::CONFLICT, m.clone())
            }
            Self::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than {limit} bytes"),
            ),
            Self::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
            }
        };
        if status.is_client_error() {
            tracing::warn!(status = status.as_u16(), reason = %message, "request refused");
        }
        let mut body = serde_json::json!({ "error": message });
        if let Self::NotReady { status: job, .. } = &self {
            body["status"] = serde_json::json!(job);
        }
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
