//! The client gallery and the studio page, and the JSON routes behind them:
//!
//! | request | who | answer |
//! |---|---|---|
//! | `GET /v1/clients` | admin | `{"clients": [...]}` |
//! | `POST /v1/clients/{id}/revoke` | admin | the client's token and links stop working |
//! | `GET /v1/clients/{id}/shares` | admin | `{"shares": [...]}` with their `gallery_url` |
//! | `POST /v1/clients/{id}/shares {"expires_in"?: "30d"}` | admin | 201 a new share link |
//! | `POST /v1/shares/{id}/revoke` | admin | that link stops working |
//! | `GET /v1/favourites?client_id=` | admin, or a client (its own) | `{"favourites": [...]}` |
//! | `GET /g/{token}` | the share link | the gallery page (403 page when expired or revoked) |
//! | `GET /g/{token}/photos/{job}/{rendition}[?download=1]` | the share link | one rendition |
//! | `GET /g/{token}/all.zip` | the share link | every rendition, one ZIP streamed as it is written |
//! | `PUT` / `DELETE /g/{token}/favourites/{job}` | the share link | 204 |
//! | `GET /studio` | anyone (the page asks for the admin token and calls the API) | the studio page |
//! | `GET /assets/{file}` | anyone | the pages' script and style sheets |
//!
//! Pages are rendered by minijinja with HTML auto-escaping and sent with a
//! strict Content-Security-Policy: no inline script or style, nothing from
//! other origins; the share token travels only in the path and
//! `Referrer-Policy: no-referrer` keeps it from leaking to other sites.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use rawflow_jobs::gallery::{check_share, share_token, Share, ShareError};
use rawflow_jobs::ids::{is_valid_id, rfc3339_millis, rfc3339_secs};
use rawflow_jobs::names::file_stem;
use rawflow_jobs::{Job, JobFilter, JobStatus, JobStore, ObjectKey, ObjectStore, OutputRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::auth::{authenticate, require_admin, Principal};
use super::error::ApiError;
use super::state::AppState;
use super::zip::{write_zip, ZipEntry};

type Shared = State<Arc<AppState>>;

/// How long a share link lives unless the studio says otherwise.
pub const DEFAULT_SHARE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// The rendition the gallery shows as a thumbnail (made in every serve development).
pub const THUMB_RENDITION: &str = crate::worker_runtime::THUMB_RENDITION;

/// The routes of this module (merged into the server's router).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/clients/{id}/revoke", post(revoke_client))
        .route(
            "/v1/clients/{id}/shares",
            get(list_shares).post(create_share),
        )
        .route("/v1/shares/{id}/revoke", post(revoke_share))
        .route("/v1/favourites", get(list_favourites))
        .route("/g/{token}", get(gallery_page))
        .route("/g/{token}/", get(gallery_page))
        .route("/g/{token}/photos/{job}/{rendition}", get(gallery_photo))
        .route("/g/{token}/all.zip", get(gallery_zip))
        .route(
            "/g/{token}/favourites/{job}",
            put(favourite_on).delete(favourite_off),
        )
        .route("/studio", get(studio_page))
        .route("/assets/{file}", get(asset))
}

/// A request path fit for the log: a share token (`/g/<token>/…`) is
/// replaced by its share id, which names the link without granting access.
pub fn redact_path(path: &str) -> String {
    match path.strip_prefix("/g/") {
        Some(rest) => {
            let (token, tail) = rest.split_once('/').unwrap_or((rest, ""));
            let id = token.split('.').next().unwrap_or("");
            let id: String = id
                .chars()
                .filter(char::is_ascii_hexdigit)
                .take(32)
                .collect();
            if tail.is_empty() && !rest.ends_with('/') {
                format!("/g/{id}.…")
            } else {
                format!("/g/{id}.…/{tail}")
            }
        }
        None => path.to_string(),
    }
}

// ---------------------------------------------------------------- JSON API

/// `GET /v1/clients` (admin): every client, oldest first.
pub async fn list_clients(
    State(state): Shared,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    require_admin(&state, &headers).await?;
    let clients = state
        .gallery
        .list_clients()
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({
        "clients": clients.iter().map(|c| json!({
            "client_id": c.id,
            "name": c.name,
            "created_at": rfc3339_millis(c.created_at),
            "revoked_at": c.revoked_at.map(rfc3339_millis),
        })).collect::<Vec<_>>()
    })))
}

async fn known_client(state: &AppState, id: &str) -> Result<(), ApiError> {
    if !is_valid_id(id) {
        return Err(ApiError::NotFound);
    }
    match state
        .jobs
        .get_client(id)
        .await
        .map_err(ApiError::internal)?
    {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound),
    }
}

/// `POST /v1/clients/{id}/revoke` (admin).
pub async fn revoke_client(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&state, &headers).await?;
    known_client(&state, &id).await?;
    state
        .gallery
        .revoke_client(&id)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(client = %id, "client revoked");
    Ok(Json(json!({ "client_id": id, "revoked": true })))
}

fn share_json(state: &AppState, share: &Share) -> Result<Value, ApiError> {
    let token = share_token(&state.signer, share).map_err(ApiError::internal)?;
    Ok(json!({
        "share_id": share.id,
        "client_id": share.client_id,
        "gallery_url": format!("{}/g/{token}", state.public_url),
        "created_at": rfc3339_millis(share.created_at),
        "expires_at": rfc3339_secs(share.expires_at),
        "revoked_at": share.revoked_at.map(rfc3339_millis),
        "expired": share.expires_at < rawflow_jobs::ids::now_secs(),
    }))
}

/// `GET /v1/clients/{id}/shares` (admin), newest first.
pub async fn list_shares(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&state, &headers).await?;
    known_client(&state, &id).await?;
    let shares = state
        .gallery
        .list_shares(&id)
        .await
        .map_err(ApiError::internal)?;
    let shares = shares
        .iter()
        .map(|s| share_json(&state, s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "shares": shares })))
}

/// Body of `POST /v1/clients/{id}/shares`.
#[derive(Deserialize, Default)]
pub struct NewShare {
    /// A duration such as `30d` or `12h` (default 30 days).
    expires_in: Option<String>,
}

/// `POST /v1/clients/{id}/shares` (admin) → 201 `{"share_id", "gallery_url", "expires_at", …}`.
pub async fn create_share(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Option<Json<NewShare>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&state, &headers).await?;
    known_client(&state, &id).await?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let ttl = match body.expires_in.as_deref().filter(|s| !s.is_empty()) {
        None => DEFAULT_SHARE_TTL,
        Some(s) => humantime::parse_duration(s)
            .map_err(|e| ApiError::BadRequest(format!("expires_in {s:?}: {e}")))?,
    };
    if ttl.as_secs() == 0 || ttl > Duration::from_secs(10 * 365 * 24 * 3600) {
        return Err(ApiError::BadRequest(
            "expires_in must be between 1 second and 10 years".into(),
        ));
    }
    let share = state
        .gallery
        .create_share(&id, ttl)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(client = %id, share = %share.id, "share link created");
    Ok((StatusCode::CREATED, Json(share_json(&state, &share)?)))
}

/// `POST /v1/shares/{id}/revoke` (admin).
pub async fn revoke_share(
    State(state): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&state, &headers).await?;
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound);
    }
    if !state
        .gallery
        .revoke_share(&id)
        .await
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::NotFound);
    }
    tracing::info!(share = %id, "share link revoked");
    Ok(Json(json!({ "share_id": id, "revoked": true })))
}

/// Query of `GET /v1/favourites`.
#[derive(Deserialize)]
pub struct FavQuery {
    client_id: Option<String>,
}

/// `GET /v1/favourites?client_id=` (admin: any or all clients; a client: its own).
pub async fn list_favourites(
    State(state): Shared,
    headers: HeaderMap,
    Query(q): Query<FavQuery>,
) -> Result<Json<Value>, ApiError> {
    let who = authenticate(&state, &headers).await?;
    let client = match (&who, q.client_id.filter(|c| !c.is_empty())) {
        (Principal::Admin, c) => c,
        (Principal::Client(me), None) => Some(me.clone()),
        (Principal::Client(me), Some(c)) if &c == me => Some(c),
        (Principal::Client(_), Some(_)) => return Err(ApiError::NotFound),
    };
    let favs = state
        .gallery
        .favourites(client.as_deref())
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({
        "favourites": favs.iter().map(|(c, j)| json!({ "client_id": c, "job_id": j })).collect::<Vec<_>>()
    })))
}

// ------------------------------------------------------------------ pages

static TEMPLATES: OnceLock<minijinja::Environment<'static>> = OnceLock::new();

fn templates() -> &'static minijinja::Environment<'static> {
    TEMPLATES.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // `.html` templates are auto-escaped by minijinja's default callback.
        for (name, text) in [
            ("base.html", include_str!("templates/base.html")),
            ("gallery.html", include_str!("templates/gallery.html")),
            ("denied.html", include_str!("templates/denied.html")),
            ("studio.html", include_str!("templates/studio.html")),
        ] {
            if let Err(e) = env.add_template(name, text) {
                tracing::error!(template = name, error = %e, "template does not parse");
            }
        }
        env
    })
}

const CSP: &str = "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn secure_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

fn render(status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    let html = templates().get_template(name).and_then(|t| t.render(ctx));
    let mut resp = match html {
        Ok(html) => (status, html).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    };
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secure_headers(&mut resp);
    resp
}

/// The friendly page for a refused share link (403).
fn denied(why: ShareError) -> Response {
    tracing::warn!(reason = %why, "share link refused");
    let (title, text) = match why {
        ShareError::Expired => (
            "This gallery link has expired",
            "The link you followed was valid for a limited time only.",
        ),
        ShareError::Revoked => (
            "This gallery link has been withdrawn",
            "The studio has withdrawn the link you followed.",
        ),
        ShareError::Invalid | ShareError::BadSignature => (
            "This gallery link is not valid",
            "The link may have been cut short or mistyped.",
        ),
    };
    render(
        StatusCode::FORBIDDEN,
        "denied.html",
        minijinja::context! { title => title, text => text },
    )
}

/// A share link checked: the share, or the response to send.
async fn open_share(state: &AppState, token: &str) -> Result<Share, Response> {
    match check_share(&state.signer, &state.gallery, token).await {
        Ok(Ok(share)) => Ok(share),
        Ok(Err(why)) => Err(denied(why)),
        Err(e) => Err(ApiError::internal(e).into_response()),
    }
}

/// One photo on the page.
#[derive(Serialize)]
struct Photo {
    job_id: String,
    filename: String,
    title: String,
    thumb_url: String,
    view_url: String,
    favourite: bool,
    downloads: Vec<Download>,
}

/// One rendition's download link.
#[derive(Serialize)]
struct Download {
    name: String,
    url: String,
    size: String,
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / 1_048_576.0)
    } else {
        format!("{} KB", n.div_ceil(1024))
    }
}

fn is_image(o: &OutputRecord) -> bool {
    o.content_type == "image/jpeg" || o.content_type == "image/png"
}

/// The rendition shown large in the lightbox: `web` if there is one, else the
/// largest browser image other than the thumbnail.
fn view_rendition(job: &Job) -> Option<&OutputRecord> {
    job.outputs
        .iter()
        .find(|o| o.name == "web" && is_image(o))
        .or_else(|| {
            job.outputs
                .iter()
                .filter(|o| o.name != THUMB_RENDITION && is_image(o))
                .max_by_key(|o| o.bytes)
        })
        .or_else(|| job.outputs.iter().find(|o| o.name == THUMB_RENDITION))
}

/// The client's completed jobs, oldest first (the order of the shoot).
async fn client_photos(state: &AppState, client_id: &str) -> Result<Vec<Job>, ApiError> {
    let mut jobs = state
        .jobs
        .list_jobs(&JobFilter {
            status: Some(JobStatus::Completed),
            client_id: Some(client_id.to_string()),
            limit: Some(10_000),
        })
        .await
        .map_err(ApiError::internal)?;
    jobs.retain(|j| j.client_id == client_id && j.status == JobStatus::Completed);
    jobs.sort_by(|a, b| {
        a.filename
            .cmp(&b.filename)
            .then(a.created_at.cmp(&b.created_at))
    });
    Ok(jobs)
}

/// `GET /g/{token}`: the gallery.
pub async fn gallery_page(State(state): Shared, Path(token): Path<String>) -> Response {
    let share = match open_share(&state, &token).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let result = async {
        let client = state
            .jobs
            .get_client(&share.client_id)
            .await
            .map_err(ApiError::internal)?
            .ok_or(ApiError::NotFound)?;
        let jobs = client_photos(&state, &share.client_id).await?;
        let favs: HashSet<String> = state
            .gallery
            .favourites(Some(&share.client_id))
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|(_, j)| j)
            .collect();
        let base = format!("/g/{token}");
        let photos: Vec<Photo> = jobs
            .iter()
            .filter_map(|job| {
                let view = view_rendition(job)?;
                let thumb = job
                    .outputs
                    .iter()
                    .find(|o| o.name == THUMB_RENDITION)
                    .unwrap_or(view);
                Some(Photo {
                    job_id: job.id.clone(),
                    filename: job.filename.clone(),
                    title: file_stem(&job.filename).to_string(),
                    thumb_url: format!("{base}/photos/{}/{}", job.id, thumb.name),
                    view_url: format!("{base}/photos/{}/{}", job.id, view.name),
                    favourite: favs.contains(&job.id),
                    downloads: job
                        .outputs
                        .iter()
                        .filter(|o| o.name != THUMB_RENDITION)
                        .map(|o| Download {
                            name: o.name.clone(),
                            url: format!("{base}/photos/{}/{}?download=1", job.id, o.name),
                            size: human_bytes(o.bytes),
                        })
                        .collect(),
                })
            })
            .collect();
        let total: u64 = jobs
            .iter()
            .flat_map(|j| j.outputs.iter())
            .filter(|o| o.name != THUMB_RENDITION)
            .map(|o| o.bytes)
            .sum();
        let expires = rfc3339_secs(share.expires_at);
        Ok::<_, ApiError>(render(
            StatusCode::OK,
            "gallery.html",
            minijinja::context! {
                client_name => client.name,
                photos => photos,
                zip_url => format!("{base}/all.zip"),
                zip_size => human_bytes(total),
                expires_date => expires.get(..10).unwrap_or(&expires).to_string(),
                expires_iso => expires,
            },
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Query of a photo request.
#[derive(Deserialize)]
pub struct PhotoQuery {
    download: Option<String>,
}

/// An ASCII file name for a download: `<stem>-<rendition>.<ext>`.
fn download_name(job: &Job, out: &OutputRecord) -> String {
    let ext = out.key.rsplit('.').next().unwrap_or("bin");
    let name = format!("{}-{}.{ext}", file_stem(&job.filename), out.name);
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-+()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `GET /g/{token}/photos/{job}/{rendition}`: one rendition of one of the client's photos.
pub async fn gallery_photo(
    State(state): Shared,
    Path((token, job_id, rendition)): Path<(String, String, String)>,
    Query(q): Query<PhotoQuery>,
) -> Response {
    let share = match open_share(&state, &token).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let result = async {
        if !is_valid_id(&job_id) {
            return Err(ApiError::NotFound);
        }
        let job = state
            .jobs
            .get_job(&job_id)
            .await
            .map_err(ApiError::internal)?
            .filter(|j| j.client_id == share.client_id && j.status == JobStatus::Completed)
            .ok_or(ApiError::NotFound)?;
        let out = job
            .outputs
            .iter()
            .find(|o| o.name == rendition)
            .ok_or(ApiError::NotFound)?;
        let key = ObjectKey::new(&out.key).map_err(ApiError::internal)?;
        let (meta, reader) = state.objects.get_reader(&key).await.map_err(|e| match e {
            rawflow_jobs::StoreError::NotFound(_) => ApiError::NotFound,
            e => ApiError::internal(e),
        })?;
        let mut resp = Body::from_stream(tokio_util::io::ReaderStream::new(reader)).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&out.content_type).map_err(ApiError::internal)?,
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
        let disposition = if q.download.is_some() {
            "attachment"
        } else {
            "inline"
        };
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!(
                "{disposition}; filename=\"{}\"",
                download_name(&job, out)
            ))
            .map_err(ApiError::internal)?,
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=600"),
        );
        secure_headers(&mut resp);
        Ok::<_, ApiError>(resp)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /g/{token}/all.zip`: every rendition of every photo, streamed.
pub async fn gallery_zip(State(state): Shared, Path(token): Path<String>) -> Response {
    let share = match open_share(&state, &token).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let result = async {
        let client = state
            .jobs
            .get_client(&share.client_id)
            .await
            .map_err(ApiError::internal)?
            .ok_or(ApiError::NotFound)?;
        let jobs = client_photos(&state, &share.client_id).await?;
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut plan = Vec::new();
        for job in &jobs {
            for out in job.outputs.iter().filter(|o| o.name != THUMB_RENDITION) {
                let mut name = download_name(job, out);
                let n = names.entry(name.to_ascii_lowercase()).or_insert(0);
                *n += 1;
                if *n > 1 {
                    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, "bin"));
                    name = format!("{stem}-{n}.{ext}");
                }
                plan.push((name, out.key.clone()));
            }
        }
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        // Each entry is opened only when the archive is ready for it.
        let (entry_tx, entry_rx) = tokio::sync::mpsc::channel(1);
        let objects = Arc::clone(&state.objects);
        tokio::spawn(async move {
            for (name, key) in plan {
                let reader: rawflow_jobs::object_store::ObjectReader = match ObjectKey::new(&key) {
                    Ok(k) => match objects.get_reader(&k).await {
                        Ok((_, r)) => r,
                        Err(e) => Box::new(FailingReader(e.to_string())),
                    },
                    Err(e) => Box::new(FailingReader(e.to_string())),
                };
                if entry_tx.send(ZipEntry { name, reader }).await.is_err() {
                    return;
                }
            }
        });
        tokio::spawn(write_zip(entry_rx, tx));
        let stream = tokio_stream_from(rx);
        let mut resp = Body::from_stream(stream).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/zip"),
        );
        let label: String = client
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let label = label.trim_matches('-');
        let label = if label.is_empty() { "photos" } else { label };
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!("attachment; filename=\"{label}.zip\""))
                .map_err(ApiError::internal)?,
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        secure_headers(&mut resp);
        tracing::info!(client = %share.client_id, "ZIP download started");
        Ok::<_, ApiError>(resp)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A reader that fails at once (an entry that could not be opened: the
/// archive stops with that error instead of silently leaving it out).
struct FailingReader(String);

impl tokio::io::AsyncRead for FailingReader {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Err(std::io::Error::other(self.0.clone())))
    }
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn set_favourite(state: &AppState, token: &str, job_id: &str, on: bool) -> Response {
    let share = match open_share(state, token).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let result = async {
        if !is_valid_id(job_id) {
            return Err(ApiError::NotFound);
        }
        state
            .jobs
            .get_job(job_id)
            .await
            .map_err(ApiError::internal)?
            .filter(|j| j.client_id == share.client_id)
            .ok_or(ApiError::NotFound)?;
        state
            .gallery
            .set_favourite(&share.client_id, job_id, on)
            .await
            .map_err(ApiError::internal)?;
        tracing::info!(client = %share.client_id, job = %job_id, favourite = on, "favourite set");
        Ok::<_, ApiError>(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `PUT /g/{token}/favourites/{job}`.
pub async fn favourite_on(
    State(state): Shared,
    Path((token, job)): Path<(String, String)>,
) -> Response {
    set_favourite(&state, &token, &job, true).await
}

/// `DELETE /g/{token}/favourites/{job}`.
pub async fn favourite_off(
    State(state): Shared,
    Path((token, job)): Path<(String, String)>,
) -> Response {
    set_favourite(&state, &token, &job, false).await
}

/// `GET /studio`: the studio page (it asks for the admin token and keeps it
/// in the tab's sessionStorage; data comes from the JSON API).
pub async fn studio_page() -> Response {
    render(StatusCode::OK, "studio.html", minijinja::context! {})
}

/// `GET /assets/{file}`: the pages' scripts and styles, compiled in.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, ty): (&'static str, &'static str) = match file.as_str() {
        "gallery.js" => (
            include_str!("assets/gallery.js"),
            "text/javascript; charset=utf-8",
        ),
        "studio.js" => (
            include_str!("assets/studio.js"),
            "text/javascript; charset=utf-8",
        ),
        "site.css" => (include_str!("assets/site.css"), "text/css; charset=utf-8"),
        _ => return ApiError::NotFound.into_response(),
    };
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    secure_headers(&mut resp);
    resp
}
