//! Configuration from the function's environment (set by the CloudFormation
//! template).

use std::time::Duration;

/// A missing or malformed environment variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// A variable does not parse.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// Look up variables (the process environment in `main`, a map in tests).
pub trait Env {
    /// The value of `name`, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_string())
            .filter(|v| !v.is_empty())
    }
}

fn required(env: &dyn Env, name: &'static str) -> Result<String, ConfigError> {
    env.var(name).ok_or(ConfigError::Missing(name))
}

fn number<T: std::str::FromStr>(
    env: &dyn Env,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match env.var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: e.to_string(),
        }),
    }
}

/// Where the data lives (every function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// `TABLE_NAME`: the DynamoDB job table.
    pub table: String,
    /// `RAW_BUCKET`.
    pub raw_bucket: String,
    /// `PROCESSED_BUCKET`.
    pub processed_bucket: String,
    /// `KMS_KEY_ID` (optional): SSE-KMS instead of SSE-S3.
    pub kms_key_id: Option<String>,
}

impl StorageConfig {
    /// From `TABLE_NAME`, `RAW_BUCKET`, `PROCESSED_BUCKET`, `KMS_KEY_ID`.
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table: required(env, "TABLE_NAME")?,
            raw_bucket: required(env, "RAW_BUCKET")?,
            processed_bucket: required(env, "PROCESSED_BUCKET")?,
            kms_key_id: env.var("KMS_KEY_ID"),
        })
    }
}

/// How the orchestrator sizes the worker fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetConfig {
    /// `WORKER_INSTANCE_IDS`: comma-separated EC2 instance ids, in the order
    /// they are started.
    pub instance_ids: Vec<String>,
    /// `JOBS_PER_WORKER` (default 20): backlog one worker is expected to take.
    pub jobs_per_worker: u32,
    /// `MAX_WORKERS` (default: all instances): never run more than this.
    pub max_workers: u32,
    /// `MAX_ATTEMPTS` (default 3): attempts a new job gets.
    pub max_attempts: u32,
    /// `STACK_NAME` (default `rawflow`): the `Stack` dimension of the
    /// fleet metrics.
    pub stack: String,
}

impl FleetConfig {
    /// From `WORKER_INSTANCE_IDS`, `JOBS_PER_WORKER`, `MAX_WORKERS`,
    /// `MAX_ATTEMPTS`, `STACK_NAME`.
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let instance_ids: Vec<String> = required(env, "WORKER_INSTANCE_IDS")?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if instance_ids.is_empty() {
            return Err(ConfigError::Invalid {
                name: "WORKER_INSTANCE_IDS",
                reason: "no instance id".into(),
            });
        }
        let all = u32::try_from(instance_ids.len()).unwrap_or(u32::MAX);
        let jobs_per_worker = number(env, "JOBS_PER_WORKER", 20u32)?.max(1);
        let max_workers = number(env, "MAX_WORKERS", all)?.clamp(1, all);
        let max_attempts = number(
            env,
            "MAX_ATTEMPTS",
            rawflow_jobs::uploads::DEFAULT_MAX_ATTEMPTS,
        )?
        .max(1);
        Ok(Self {
            instance_ids,
            jobs_per_worker,
            max_workers,
            max_attempts,
            stack: env.var("STACK_NAME").unwrap_or_else(|| "rawflow".into()),
        })
    }

    /// Workers wanted for a backlog of `pending` jobs:
    /// `ceil(pending / jobs_per_worker)`, at most `max_workers`.
    pub fn workers_for(&self, pending: u64) -> u32 {
        let per = u64::from(self.jobs_per_worker.max(1));
        let want = pending.div_ceil(per);
        u32::try_from(want)
            .unwrap_or(u32::MAX)
            .min(self.max_workers)
    }
}

/// The upload function's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadConfig {
    /// `MAX_UPLOAD_BYTES` (default 2 GiB): larger files are refused.
    pub max_upload_bytes: u64,
    /// `MULTIPART_THRESHOLD_BYTES` (default 100 MiB): larger files get a
    /// multipart upload.
    pub multipart_threshold: u64,
    /// `PART_SIZE_BYTES` (default 64 MiB, at least 5 MiB).
    pub part_size: u64,
    /// `UPLOAD_LINK_TTL_SECS` (default 3600): how long upload links live.
    pub link_ttl: Duration,
    /// `ADMIN_TOKEN_SHA256`: hex SHA-256 of the studio's admin token.
    pub admin_token_sha256: [u8; 32],
    /// `RECIPES` (default `web,full`): recipes the workers know.
    pub recipes: Vec<String>,
}

/// The smallest part S3 accepts (all but the last).
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// S3's limit on parts per upload.
pub const MAX_PARTS: u64 = 10_000;

impl UploadConfig {
    /// From the variables named on the fields.
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let admin_token_sha256 = admin_hash(env)?;
        let recipes = env
            .var("RECIPES")
            .unwrap_or_else(|| "web,full".into())
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        Ok(Self {
            max_upload_bytes: number(env, "MAX_UPLOAD_BYTES", 2u64 << 30)?,
            multipart_threshold: number(env, "MULTIPART_THRESHOLD_BYTES", 100u64 << 20)?,
            part_size: number(env, "PART_SIZE_BYTES", 64u64 << 20)?.max(MIN_PART_BYTES),
            link_ttl: Duration::from_secs(number(env, "UPLOAD_LINK_TTL_SECS", 3600u64)?.max(60)),
            admin_token_sha256,
            recipes,
        })
    }
}

/// The admin function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// `ADMIN_TOKEN_SHA256`: hex SHA-256 of the studio's admin token.
    pub admin_token_sha256: [u8; 32],
}

fn admin_hash(env: &dyn Env) -> Result<[u8; 32], ConfigError> {
    let hash = required(env, "ADMIN_TOKEN_SHA256")?;
    rawflow_jobs::ids::parse_hex::<32>(hash.trim()).ok_or(ConfigError::Invalid {
        name: "ADMIN_TOKEN_SHA256",
        reason: "not 64 hex digits".into(),
    })
}

impl AdminConfig {
    /// From `ADMIN_TOKEN_SHA256`.
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(Self {
            admin_token_sha256: admin_hash(env)?,
        })
    }
}

/// Download links never live longer than this.
pub const MAX_DOWNLOAD_TTL: Duration = Duration::from_secs(15 * 60);

/// The download function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadConfig {
    /// `DOWNLOAD_LINK_TTL_SECS` (default and maximum 900).
    pub link_ttl: Duration,
}

impl DownloadConfig {
    /// From `DOWNLOAD_LINK_TTL_SECS`, capped at [`MAX_DOWNLOAD_TTL`].
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        let secs = number(env, "DOWNLOAD_LINK_TTL_SECS", MAX_DOWNLOAD_TTL.as_secs())?;
        Ok(Self {
            link_ttl: Duration::from_secs(secs.clamp(1, MAX_DOWNLOAD_TTL.as_secs())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_sizing() {
        let env = [
            ("WORKER_INSTANCE_IDS", "i-1, i-2,i-3"),
            ("JOBS_PER_WORKER", "10"),
            ("MAX_WORKERS", "2"),
        ];
        let f = FleetConfig::from_env(&env).unwrap();
        assert_eq!(f.instance_ids, ["i-1", "i-2", "i-3"]);
        assert_eq!(
            [0, 1, 10, 11, 25].map(|p| f.workers_for(p)),
            [0, 1, 1, 2, 2]
        );
        assert!(FleetConfig::from_env(&[("WORKER_INSTANCE_IDS", " , ")]).is_err());
        assert!(
            FleetConfig::from_env(&[("WORKER_INSTANCE_IDS", "i-1"), ("MAX_WORKERS", "x")]).is_err()
        );
    }

    #[test]
    fn download_ttl_is_capped() {
        let d = DownloadConfig::from_env(&[("DOWNLOAD_LINK_TTL_SECS", "86400")]).unwrap();
        assert_eq!(d.link_ttl, MAX_DOWNLOAD_TTL);
        let d = DownloadConfig::from_env(&[("X", "")]).unwrap();
        assert_eq!(d.link_ttl, MAX_DOWNLOAD_TTL);
    }
}
