//! The data folder of `rawflow serve`:
//!
//! ```text
//! DIR/jobs.sqlite    job store (SQLite, WAL)
//! DIR/objects/…      object store (raw/…, processed/…)
//! DIR/scratch/       workers' local copies of inputs
//! DIR/admin.token    SHA-256 (hex) of the admin token, mode 0600
//! DIR/link.key       32-byte HMAC secret for signed links, mode 0600
//! ```
//!
//! The admin token itself is printed once, when `admin.token` is created;
//! to get a new one, delete `admin.token` and start the server again.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rawflow_jobs::auth::{issue_token, ADMIN};
use rawflow_jobs::ids::{hex, parse_hex};
use rawflow_jobs::LinkSigner;

/// The paths of a data folder, and its secrets.
pub struct DataDir {
    /// The folder.
    pub root: PathBuf,
    /// SHA-256 of the admin token.
    pub admin_hash: [u8; 32],
    /// The admin token, only when it was created by this call.
    pub new_admin_token: Option<String>,
    /// The link-signing secret.
    pub link_key: [u8; 32],
}

impl DataDir {
    /// Create the folder layout and secrets if missing, and load them.
    pub fn prepare(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root.join("objects"))
            .with_context(|| format!("creating {}", root.display()))?;
        std::fs::create_dir_all(root.join("scratch"))?;
        let (admin_hash, new_admin_token) = admin_token(&root.join("admin.token"))?;
        let link_key = link_key(&root.join("link.key"))?;
        Ok(Self {
            root: root.to_path_buf(),
            admin_hash,
            new_admin_token,
            link_key,
        })
    }

    /// `DIR/jobs.sqlite`.
    pub fn jobs_db(&self) -> PathBuf {
        self.root.join("jobs.sqlite")
    }

    /// `DIR/objects`.
    pub fn objects(&self) -> PathBuf {
        self.root.join("objects")
    }

    /// `DIR/scratch`.
    pub fn scratch(&self) -> PathBuf {
        self.root.join("scratch")
    }
}

/// Write `bytes` to a new file readable only by its owner; `false` if it exists.
fn write_secret_file(path: &Path, bytes: &[u8]) -> anyhow::Result<bool> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(bytes)?;
            f.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

fn admin_token(path: &Path) -> anyhow::Result<([u8; 32], Option<String>)> {
    let issued = issue_token(ADMIN);
    if write_secret_file(path, format!("{}\n", hex(&issued.hash)).as_bytes())? {
        return Ok((issued.hash, Some(issued.token)));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match parse_hex::<32>(&text) {
        Some(hash) => Ok((hash, None)),
        None => bail!(
            "{} is damaged (expected the hex SHA-256 of the admin token); delete it to make a new token",
            path.display()
        ),
    }
}

fn link_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    let key = LinkSigner::generate_key();
    if write_secret_file(path, &key)? {
        return Ok(key);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(k) => Ok(k),
        Err(_) => bail!("{} must hold exactly 32 bytes", path.display()),
    }
}
