//! The studio's command-line client of the HTTP API: `rawflow clients`,
//! `rawflow upload`, `rawflow jobs` and `rawflow fetch`.
//!
//! Every command takes `--server URL` (or `RAWFLOW_SERVER`), the token from
//! `--token` or `RAWFLOW_TOKEN`, prints a table (or JSON with `--json`) on
//! stdout and messages on stderr, and exits with a status scripts can test:
//! [`EXIT_OK`], [`EXIT_FAILED`], [`EXIT_USAGE`] or [`EXIT_SERVER`].

pub mod clients;
mod http;
pub mod jobs;
pub mod upload;

use std::process::ExitCode;

pub use http::{Api, ApiError};

/// Every item succeeded.
pub const EXIT_OK: u8 = 0;
/// Some item failed (an upload refused, a job failed, a download failed).
pub const EXIT_FAILED: u8 = 1;
/// Bad usage (arguments, a missing token, no input files).
pub const EXIT_USAGE: u8 = 2;
/// The server could not be reached, refused the token, or answered with an error.
pub const EXIT_SERVER: u8 = 3;

/// The text shown after every client command's `--help`.
pub const EXIT_HELP: &str = "Exit status: 0 everything succeeded; 1 some item failed \
(an upload, a job, a download); 2 bad usage or no token; 3 the server could not be reached, \
refused the token or answered with an error.";

/// Options every client command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct Conn {
    /// The server's address.
    #[arg(
        long,
        global = true,
        env = "RAWFLOW_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// The bearer token (the studio's admin token, or a client's token for
    /// `jobs` and `fetch`); better passed in RAWFLOW_TOKEN than on the command line.
    #[arg(long, global = true, env = "RAWFLOW_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Conn {
    /// The API client, or a usage error when no token was given.
    pub fn api(&self) -> Result<Api, CliError> {
        let token = self
            .token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| CliError::Usage("no token: set RAWFLOW_TOKEN or pass --token".into()))?;
        Ok(Api::new(&self.server, token.trim()))
    }
}

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage: exit 2.
    #[error("{0}")]
    Usage(String),
    /// The server failed or refused: exit 3.
    #[error(transparent)]
    Server(#[from] ApiError),
    /// Some items failed (already reported): exit 1.
    #[error("{0}")]
    Failed(String),
    /// A local file could not be read or written: exit 1.
    #[error("{0}")]
    Io(String),
}

/// Map a command's result to its exit status, printing the error.
pub fn exit(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                CliError::Usage(_) => EXIT_USAGE,
                CliError::Server(_) => EXIT_SERVER,
                CliError::Failed(_) | CliError::Io(_) => EXIT_FAILED,
            })
        }
    }
}

/// Print rows as a table with a header, columns padded to their widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Print a JSON value, pretty.
pub fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// A string field of a JSON object ("" when missing).
pub fn s(v: &serde_json::Value, field: &str) -> String {
    match &v[field] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Megabytes with one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
