//! A local folder as an object store.
//!
//! A key `a/b/c` is the file `ROOT/a/b/c`. A write goes to a temporary file
//! `.rf-tmp-…` in the same folder, is fsynced, then renamed (or hard-linked,
//! for [`PutMode::CreateNew`], which refuses to replace) onto its final name,
//! and the folder is fsynced: an object is either absent or complete.
//! Names starting with `.` are never keys, so temporary files never show up.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::AsyncRead;

use super::{hashing_copy, CopyError, ObjectMeta, ObjectReader, ObjectStore, PutMode, StoreError};
use crate::ids::{hex, random_bytes};
use crate::key::{validate_prefix, ObjectKey};

const TEMP_PREFIX: &str = ".rf-tmp-";

/// Objects as files under a root folder.
#[derive(Debug, Clone)]
pub struct LocalObjectStore {
    root: PathBuf,
}

impl LocalObjectStore {
    /// A store rooted at `root` (created if missing).
    pub fn open(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file behind `key` (which need not exist).
    pub fn path_of(&self, key: &ObjectKey) -> PathBuf {
        let mut p = self.root.clone();
        for seg in key.segments() {
            p.push(seg);
        }
        p
    }

    /// Delete temporary files left by writes that never finished (a crash).
    /// Only call this when no write is in progress.
    pub fn remove_stale_temp_files(&self) -> std::io::Result<usize> {
        fn walk(dir: &Path, removed: &mut usize) -> std::io::Result<()> {
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let ty = entry.file_type()?;
                let name = entry.file_name();
                if ty.is_dir() {
                    walk(&entry.path(), removed)?;
                } else if name.to_string_lossy().starts_with(TEMP_PREFIX) {
                    std::fs::remove_file(entry.path())?;
                    *removed += 1;
                }
            }
            Ok(())
        }
        let mut removed = 0;
        walk(&self.root, &mut removed)?;
        Ok(removed)
    }
}

fn io_err(key: &ObjectKey) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        key: key.to_string(),
        source,
    }
}

async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
        .await
        .map_err(std::io::Error::other)?
}

#[async_trait]
impl ObjectStore for LocalObjectStore {
    async fn put_reader(
        &self,
        key: &ObjectKey,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        mode: PutMode,
    ) -> Result<ObjectMeta, StoreError> {
        let path = self.path_of(key);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&dir).await.map_err(io_err(key))?;
        let tmp = dir.join(format!("{TEMP_PREFIX}{}", hex(&random_bytes::<8>())));
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .await
            .map_err(io_err(key))?;
        let copied = hashing_copy(reader, &mut file).await;
        let finish = async {
            let (size, sha256) = copied.map_err(|e| match e {
                CopyError::Read(e) => StoreError::Source(e),
                CopyError::Write(e) => io_err(key)(e),
            })?;
            tokio::io::AsyncWriteExt::flush(&mut file)
                .await
                .map_err(io_err(key))?;
            file.sync_all().await.map_err(io_err(key))?;
            drop(file);
            match mode {
                PutMode::Overwrite => tokio::fs::rename(&tmp, &path).await.map_err(io_err(key))?,
                PutMode::CreateNew => match tokio::fs::hard_link(&tmp, &path).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Err(StoreError::AlreadyExists {
                            key: key.to_string(),
                            size,
                            sha256,
                        })
                    }
                    Err(e) => return Err(io_err(key)(e)),
                },
            }
            sync_dir(&dir).await.map_err(io_err(key))?;
            Ok((size, sha256))
        }
        .await;
        // After a rename the temporary name is gone; otherwise remove it.
        if mode == PutMode::CreateNew || finish.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        let (size, sha256) = finish?;
        Ok(ObjectMeta {
            key: key.clone(),
            size,
            sha256: Some(sha256),
            modified: Some(std::time::SystemTime::now()),
            etag: None,
        })
    }

    async fn get_reader(&self, key: &ObjectKey) -> Result<(ObjectMeta, ObjectReader), StoreError> {
        let path = self.path_of(key);
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(key.to_string()))
            }
            Err(e) => return Err(io_err(key)(e)),
        };
        let md = file.metadata().await.map_err(io_err(key))?;
        if !md.is_file() {
            return Err(StoreError::NotFound(key.to_string()));
        }
        let meta = ObjectMeta {
            key: key.clone(),
            size: md.len(),
            sha256: None,
            modified: md.modified().ok(),
            etag: None,
        };
        Ok((meta, Box::new(file)))
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StoreError> {
        match tokio::fs::metadata(self.path_of(key)).await {
            Ok(md) if md.is_file() => Ok(Some(ObjectMeta {
                key: key.clone(),
                size: md.len(),
                sha256: None,
                modified: md.modified().ok(),
                etag: None,
            })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(key)(e)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<bool, StoreError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(key)(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        validate_prefix(prefix)?;
        let root = self.root.clone();
        let prefix_owned = prefix.to_string();
        // Walk only the deepest folder the prefix fully names.
        let base = match prefix.rfind('/') {
            Some(i) => prefix.get(..i).unwrap_or(""),
            None => "",
        }
        .to_string();
        let result = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<ObjectMeta>> {
            let mut out = Vec::new();
            let mut start = root.clone();
            if !base.is_empty() {
                for seg in base.split('/') {
                    start.push(seg);
                }
            }
            let mut stack = vec![(start, base)];
            while let Some((dir, rel)) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => continue,
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let entry = entry?;
                    let Ok(name) = entry.file_name().into_string() else {
                        continue;
                    };
                    if name.starts_with('.') {
                        continue;
                    }
                    let child = if rel.is_empty() {
                        name
                    } else {
                        format!("{rel}/{name}")
                    };
                    let ty = entry.file_type()?;
                    if ty.is_dir() {
                        stack.push((entry.path(), child));
                    } else if ty.is_file() && child.starts_with(&prefix_owned) {
                        if let Ok(key) = ObjectKey::new(&child) {
                            let md = entry.metadata()?;
                            out.push(ObjectMeta {
                                key,
                                size: md.len(),
                                sha256: None,
                                modified: md.modified().ok(),
                                etag: None,
                            });
                        }
                    }
                }
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Io {
            key: prefix.to_string(),
            source: std::io::Error::other(e),
        })?;
        result.map_err(|source| StoreError::Io {
            key: prefix.to_string(),
            source,
        })
    }
}
