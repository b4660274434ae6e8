//! Who is calling: the admin or a client, from `Authorization: Bearer …`.

use axum::http::{header, HeaderMap};
use rawflow_jobs::auth::{token_principal, verify_token, ADMIN};
use rawflow_jobs::JobStore;

use super::error::ApiError;
use super::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The studio's admin.
    Admin,
    /// A client, by id.
    Client(String),
}

impl Principal {
    /// Whether this caller may see the jobs of `client_id`.
    pub fn may_see(&self, client_id: &str) -> bool {
        match self {
            Self::Admin => true,
            Self::Client(c) => c == client_id,
        }
    }
}

/// Authenticate the request, or 401.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthorized)?;
    let principal = token_principal(token).ok_or(ApiError::Unauthorized)?;
    if principal == ADMIN {
        return if verify_token(token, &state.admin_hash) {
            Ok(Principal::Admin)
        } else {
            Err(ApiError::Unauthorized)
        };
    }
    let client = state
        .jobs
        .get_client(principal)
        .await
        .map_err(ApiError::internal)?;
    match client {
        Some(c) if verify_token(token, &c.token_hash) => {
            // A revoked client's token no longer works.
            match state.gallery.client_revoked_at(&c.id).await {
                Ok(None) => Ok(Principal::Client(c.id)),
                Ok(Some(_)) => Err(ApiError::Unauthorized),
                Err(e) => Err(ApiError::internal(e)),
            }
        }
        _ => Err(ApiError::Unauthorized),
    }
}

/// Authenticate and require the admin: 401 for a missing or wrong token,
/// 403 for a valid client token.
pub async fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match authenticate(state, headers).await? {
        Principal::Admin => Ok(()),
        Principal::Client(_) => Err(ApiError::Forbidden("admin token required".into())),
    }
}
