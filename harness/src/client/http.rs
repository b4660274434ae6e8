//! A small blocking HTTP client of the rawflow API (ureq): bearer token,
//! JSON in and out, typed errors.

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No connection, a timeout, a cut body.
    #[error("{url}: {reason}")]
    Transport {
        /// The request.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("{what}: HTTP {status}: {message}")]
    Status {
        /// What was asked.
        what: String,
        /// The status.
        status: u16,
        /// The server's `error` field, or the body.
        message: String,
    },
    /// The answer was not the JSON expected.
    #[error("{what}: unexpected answer: {reason}")]
    Bad {
        /// What was asked.
        what: String,
        /// Why it did not fit.
        reason: String,
    },
}

impl ApiError {
    /// Whether trying again may help (transport trouble or a 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::Bad { .. } => false,
        }
    }
}

/// The API at one server with one token.
#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    base: String,
    auth: String,
}

impl Api {
    /// A client of `base` (`http://host:port`) with `token`.
    pub fn new(base: &str, token: &str) -> Self {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(Duration::from_secs(10)))
                .timeout_recv_response(Some(Duration::from_secs(120)))
                .timeout_recv_body(Some(Duration::from_secs(120)))
                .timeout_send_body(Some(Duration::from_secs(120)))
                .build(),
        );
        Self {
            agent,
            base: base.trim_end_matches('/').to_string(),
            auth: format!("Bearer {token}"),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn json_of(
        what: &str,
        url: &str,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, ApiError> {
        let mut resp = resp.map_err(|e| ApiError::Transport {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| ApiError::Transport {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|e| {
                if (200..300).contains(&status) {
                    ApiError::Bad {
                        what: what.to_string(),
                        reason: e.to_string(),
                    }
                } else {
                    ApiError::Status {
                        what: what.to_string(),
                        status,
                        message: text.chars().take(200).collect(),
                    }
                }
            })?
        };
        if !(200..300).contains(&status) {
            return Err(ApiError::Status {
                what: what.to_string(),
                status,
                message: body["error"].as_str().unwrap_or("").to_string(),
            });
        }
        Ok(body)
    }

    /// `GET path` → JSON.
    pub fn get(&self, what: &str, path: &str) -> Result<Value, ApiError> {
        let url = self.url(path);
        let resp = self
            .agent
            .get(&url)
            .header("Authorization", &self.auth)
            .call();
        Self::json_of(what, &url, resp)
    }

    /// `POST path` with a JSON body → JSON.
    pub fn post(&self, what: &str, path: &str, body: &Value) -> Result<Value, ApiError> {
        let url = self.url(path);
        let resp = self
            .agent
            .post(&url)
            .header("Authorization", &self.auth)
            .send_json(body);
        Self::json_of(what, &url, resp)
    }

    /// `PUT url` streaming `body` (a signed link: no token) → JSON.
    pub fn put_reader(
        &self,
        what: &str,
        url: &str,
        len: u64,
        body: &mut dyn Read,
    ) -> Result<Value, ApiError> {
        let url = self.url(url);
        let resp = self
            .agent
            .put(&url)
            .header("Content-Length", len.to_string())
            .header("Content-Type", "application/octet-stream")
            .send(ureq::SendBody::from_reader(body));
        Self::json_of(what, &url, resp)
    }

    /// `GET url` (a signed link: no token), streaming the body into `out`;
    /// the number of bytes written.
    pub fn download(
        &self,
        what: &str,
        url: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, ApiError> {
        let url = self.url(url);
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| ApiError::Transport {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or(text);
            return Err(ApiError::Status {
                what: what.to_string(),
                status,
                message,
            });
        }
        let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        std::io::copy(&mut reader, out).map_err(|e| ApiError::Transport {
            url,
            reason: e.to_string(),
        })
    }
}
