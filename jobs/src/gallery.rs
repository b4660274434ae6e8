//! Client galleries: share links, favourites and client revocation.
//!
//! A share link is a capability: `/g/<token>` with the token
//! `<share id>.<expires>.<signature>`, the signature an HMAC-SHA256 (the
//! [`LinkSigner`] of the object links) over the share id, its client and the
//! expiry. It is checked in constant time, then against its record: a link
//! whose share was revoked, whose client was revoked, or that is past its
//! expiry is refused. Each client may hold any number of links; revoking one
//! leaves the others working.
//!
//! [`SqliteGalleryStore`] keeps the records in the job store's SQLite file,
//! in tables of its own (`shares`, `favourites`, `revoked_clients`).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use crate::ids::{hex, now_millis, now_secs, random_bytes};
use crate::job_store::JobStoreError;
use crate::key::ObjectKey;
use crate::link::{LinkError, LinkSigner};

/// The HMAC "method" of share links (never valid for an object request).
const SHARE_METHOD: &str = "SHARE";

/// A share link's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Share id (hex).
    pub id: String,
    /// The client whose photos it shows.
    pub client_id: String,
    /// When it was made, ms since the epoch.
    pub created_at: i64,
    /// When it expires, Unix seconds.
    pub expires_at: u64,
    /// When it was revoked, ms since the epoch.
    pub revoked_at: Option<i64>,
}

/// A client as listed for the studio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    /// Client id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// When its access was revoked, ms since the epoch.
    pub revoked_at: Option<i64>,
}

/// Why a share link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// Not of the form `<id>.<expires>.<sig>`, or no such share.
    #[error("this link is not valid")]
    Invalid,
    /// The signature does not match.
    #[error("this link is not valid")]
    BadSignature,
    /// Past its expiry.
    #[error("this link has expired")]
    Expired,
    /// The studio revoked the link or the client.
    #[error("this link has been withdrawn")]
    Revoked,
}

/// The signature of a share link.
fn share_signature(signer: &LinkSigner, share: &Share) -> Result<String, JobStoreError> {
    let key = share_key(&share.client_id, &share.id)?;
    Ok(signer.sign(SHARE_METHOD, &key, share.expires_at))
}

fn share_key(client_id: &str, share_id: &str) -> Result<ObjectKey, JobStoreError> {
    ObjectKey::new(&format!("shares/{client_id}/{share_id}"))
        .map_err(|e| JobStoreError::BadRecord(format!("share key: {e}")))
}

/// The token of a share link (`<id>.<expires>.<sig>`), for `/g/<token>`.
pub fn share_token(signer: &LinkSigner, share: &Share) -> Result<String, JobStoreError> {
    Ok(format!(
        "{}.{}.{}",
        share.id,
        share.expires_at,
        share_signature(signer, share)?
    ))
}

/// Split a token into (share id, expiry, signature), or `None` if malformed.
pub fn parse_share_token(token: &str) -> Option<(&str, u64, &str)> {
    let mut parts = token.splitn(3, '.');
    let id = parts.next()?;
    let expires = parts.next()?.parse().ok()?;
    let sig = parts.next()?;
    let id_ok = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let sig_ok = !sig.is_empty()
        && sig.len() <= 64
        && sig
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && sig_ok).then_some((id, expires, sig))
}

/// Check a share token against its record (signature in constant time,
/// then expiry, then revocation of the share or its client).
pub async fn check_share(
    signer: &LinkSigner,
    store: &SqliteGalleryStore,
    token: &str,
) -> Result<Result<Share, ShareError>, JobStoreError> {
    let Some((id, expires, sig)) = parse_share_token(token) else {
        return Ok(Err(ShareError::Invalid));
    };
    let Some(share) = store.get_share(id).await? else {
        return Ok(Err(ShareError::Invalid));
    };
    let key = share_key(&share.client_id, &share.id)?;
    match signer.verify(SHARE_METHOD, &key, expires, sig, now_secs()) {
        Err(LinkError::BadSignature) => return Ok(Err(ShareError::BadSignature)),
        Err(LinkError::Expired) => return Ok(Err(ShareError::Expired)),
        Ok(()) => {}
    }
    if expires != share.expires_at {
        return Ok(Err(ShareError::BadSignature));
    }
    if share.revoked_at.is_some() || store.client_revoked_at(&share.client_id).await?.is_some() {
        return Ok(Err(ShareError::Revoked));
    }
    Ok(Ok(share))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS shares (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX IF NOT EXISTS shares_by_client ON shares(client_id, created_at);
CREATE TABLE IF NOT EXISTS favourites (
    client_id   TEXT NOT NULL,
    job_id      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (client_id, job_id)
);
CREATE TABLE IF NOT EXISTS revoked_clients (
    client_id   TEXT PRIMARY KEY,
    at          INTEGER NOT NULL
);
";

fn backend(e: impl std::fmt::Display) -> JobStoreError {
    JobStoreError::Backend(e.to_string())
}

/// Share links, favourites and client revocations in a SQLite file (the job
/// store's file: its own tables, its own connection; it reads the job store's
/// `clients` table to list clients).
#[derive(Debug, Clone)]
pub struct SqliteGalleryStore {
    conn: Arc<Mutex<Connection>>,
}

fn share_from_row(r: &rusqlite::Row<'_>) -> Result<Share, rusqlite::Error> {
    Ok(Share {
        id: r.get(0)?,
        client_id: r.get(1)?,
        created_at: r.get(2)?,
        expires_at: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        revoked_at: r.get(4)?,
    })
}

impl SqliteGalleryStore {
    /// Open the database at `path` (the job store's file) and create the tables.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JobStoreError> {
        let conn = Connection::open(path.as_ref()).map_err(backend)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(backend)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn call<T, F>(&self, f: F) -> Result<T, JobStoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| JobStoreError::Backend("connection lock poisoned".into()))?;
            f(&mut guard).map_err(backend)
        })
        .await
        .map_err(backend)?
    }

    /// Make a new share link for `client_id`, valid for `ttl`.
    pub async fn create_share(
        &self,
        client_id: &str,
        ttl: Duration,
    ) -> Result<Share, JobStoreError> {
        let share = Share {
            id: hex(&random_bytes::<16>()),
            client_id: client_id.to_string(),
            created_at: now_millis(),
            expires_at: now_secs().saturating_add(ttl.as_secs().max(1)),
            revoked_at: None,
        };
        let s = share.clone();
        self.call(move |c| {
            c.execute(
                "INSERT INTO shares (id, client_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    s.id,
                    s.client_id,
                    s.created_at,
                    i64::try_from(s.expires_at).unwrap_or(i64::MAX)
                ],
            )
        })
        .await?;
        Ok(share)
    }

    /// A share by id.
    pub async fn get_share(&self, id: &str) -> Result<Option<Share>, JobStoreError> {
        let id = id.to_string();
        self.call(move |c| {
            c.query_row(
                "SELECT id, client_id, created_at, expires_at, revoked_at FROM shares WHERE id = ?1",
                [id],
                share_from_row,
            )
            .optional()
        })
        .await
    }

    /// A client's shares, newest first.
    pub async fn list_shares(&self, client_id: &str) -> Result<Vec<Share>, JobStoreError> {
        let client_id = client_id.to_string();
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, client_id, created_at, expires_at, revoked_at FROM shares \
                 WHERE client_id = ?1 ORDER BY created_at DESC, id",
            )?;
            let rows = stmt.query_map([client_id], share_from_row)?;
            rows.collect()
        })
        .await
    }

    /// Revoke a share; `false` if there is no such share.
    pub async fn revoke_share(&self, id: &str) -> Result<bool, JobStoreError> {
        let id = id.to_string();
        let n = self
            .call(move |c| {
                c.execute(
                    "UPDATE shares SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                    params![id, now_millis()],
                )
            })
            .await?;
        Ok(n > 0)
    }

    /// Mark or unmark a job as a favourite of its client.
    pub async fn set_favourite(
        &self,
        client_id: &str,
        job_id: &str,
        favourite: bool,
    ) -> Result<(), JobStoreError> {
        let (client_id, job_id) = (client_id.to_string(), job_id.to_string());
        self.call(move |c| {
            if favourite {
                c.execute(
                    "INSERT OR IGNORE INTO favourites (client_id, job_id, at) VALUES (?1, ?2, ?3)",
                    params![client_id, job_id, now_millis()],
                )
            } else {
                c.execute(
                    "DELETE FROM favourites WHERE client_id = ?1 AND job_id = ?2",
                    params![client_id, job_id],
                )
            }
        })
        .await?;
        Ok(())
    }

    /// The favourite jobs as (client id, job id), of one client or of all.
    pub async fn favourites(
        &self,
        client_id: Option<&str>,
    ) -> Result<Vec<(String, String)>, JobStoreError> {
        let client_id = client_id.map(str::to_string);
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT client_id, job_id FROM favourites \
                 WHERE ?1 IS NULL OR client_id = ?1 ORDER BY at, job_id",
            )?;
            let rows = stmt.query_map([client_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    /// Revoke a client: its token and every share link stop working.
    pub async fn revoke_client(&self, client_id: &str) -> Result<(), JobStoreError> {
        let client_id = client_id.to_string();
        self.call(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO revoked_clients (client_id, at) VALUES (?1, ?2)",
                params![client_id, now_millis()],
            )
        })
        .await?;
        Ok(())
    }

    /// When the client was revoked, if it was.
    pub async fn client_revoked_at(&self, client_id: &str) -> Result<Option<i64>, JobStoreError> {
        let client_id = client_id.to_string();
        self.call(move |c| {
            c.query_row(
                "SELECT at FROM revoked_clients WHERE client_id = ?1",
                [client_id],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    /// Every client (from the job store's `clients` table), oldest first.
    pub async fn list_clients(&self) -> Result<Vec<ClientSummary>, JobStoreError> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT c.id, c.name, c.created_at, r.at FROM clients c \
                 LEFT JOIN revoked_clients r ON r.client_id = c.id ORDER BY c.created_at, c.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ClientSummary {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                    revoked_at: r.get(3)?,
                })
            })?;
            rows.collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job_store::JobStore;
    use crate::model::Client;
    use crate::SqliteJobStore;

    #[tokio::test]
    async fn share_links_sign_expire_and_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("jobs.sqlite");
        let jobs = SqliteJobStore::open(&db).unwrap();
        jobs.create_client(&Client {
            id: "00ff00ff00ff00ff".into(),
            name: "<b>x</b>".into(),
            token_hash: [0; 32],
            created_at: 1,
        })
        .await
        .unwrap();
        let store = SqliteGalleryStore::open(&db).unwrap();
        let signer = LinkSigner::new([3; 32]);
        let share = store
            .create_share("00ff00ff00ff00ff", Duration::from_secs(3600))
            .await
            .unwrap();
        let token = share_token(&signer, &share).unwrap();
        let ok = check_share(&signer, &store, &token).await.unwrap();
        assert_eq!(ok.as_ref().map(|s| s.id.clone()), Ok(share.id.clone()));

        // Tampered expiry, signature, id; another key.
        let (id, exp, sig) = parse_share_token(&token).unwrap();
        let longer = format!("{id}.{}.{sig}", exp + 1000);
        assert_eq!(
            check_share(&signer, &store, &longer).await.unwrap(),
            Err(ShareError::BadSignature)
        );
        let other = LinkSigner::new([4; 32]);
        assert_eq!(
            check_share(&other, &store, &token).await.unwrap(),
            Err(ShareError::BadSignature)
        );
        assert_eq!(
            check_share(&signer, &store, "nonsense").await.unwrap(),
            Err(ShareError::Invalid)
        );

        // Expired.
        let old = Share {
            expires_at: 10,
            ..share.clone()
        };
        let expired = share_token(&signer, &old).unwrap();
        assert_eq!(
            check_share(&signer, &store, &expired).await.unwrap(),
            Err(ShareError::Expired)
        );

        // A second link survives the first's revocation; the client's revocation ends both.
        let second = store
            .create_share("00ff00ff00ff00ff", Duration::from_secs(3600))
            .await
            .unwrap();
        let second_token = share_token(&signer, &second).unwrap();
        assert!(store.revoke_share(&share.id).await.unwrap());
        assert_eq!(
            check_share(&signer, &store, &token).await.unwrap(),
            Err(ShareError::Revoked)
        );
        assert!(check_share(&signer, &store, &second_token)
            .await
            .unwrap()
            .is_ok());
        store.revoke_client("00ff00ff00ff00ff").await.unwrap();
        assert_eq!(
            check_share(&signer, &store, &second_token).await.unwrap(),
            Err(ShareError::Revoked)
        );
        let clients = store.list_clients().await.unwrap();
        assert_eq!(clients.len(), 1);
        assert!(clients[0].revoked_at.is_some());
        assert_eq!(
            store.list_shares("00ff00ff00ff00ff").await.unwrap().len(),
            2
        );
    }

    #[tokio::test]
    async fn favourites_persist() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("jobs.sqlite");
        let _jobs = SqliteJobStore::open(&db).unwrap();
        let store = SqliteGalleryStore::open(&db).unwrap();
        store.set_favourite("c1", "j1", true).await.unwrap();
        store.set_favourite("c1", "j1", true).await.unwrap();
        store.set_favourite("c2", "j2", true).await.unwrap();
        store.set_favourite("c2", "j3", true).await.unwrap();
        store.set_favourite("c2", "j3", false).await.unwrap();
        drop(store);
        let store = SqliteGalleryStore::open(&db).unwrap();
        assert_eq!(
            store.favourites(Some("c1")).await.unwrap(),
            vec![("c1".to_string(), "j1".to_string())]
        );
        assert_eq!(store.favourites(None).await.unwrap().len(), 2);
    }
}
