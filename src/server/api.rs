//! Handlers of the JSON API. Thin: parse the request, call the library, shape the answer.
//! CPU-bound work (search, sync) runs on the blocking pool, never on the reactor threads.

use super::error::ApiError;
use super::{AppState, EngineTime};
use crate::corpus::{Document, Skip};
use crate::search::{SearchRequest, SearchResponse, MAX_QUERY_CHARS};
use crate::watch::WatchStatus;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use utoipa::{OpenApi, ToSchema};

/// Longest accepted document id, in bytes.
const MAX_ID_BYTES: usize = 512;
/// How long a search may wait for a free worker before it is turned away with 503.
/// Most suggestions per request.
const MAX_SUGGEST: usize = 20;

/// Query-string pairs, percent-decoded. Repeated keys (`kind=law&kind=guide`) are kept.
fn pairs(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, ApiError> {
    v.trim().parse().map_err(|_| {
        ApiError::BadRequest(format!("{name} must be a non-negative integer, got {v:?}"))
    })
}

/// Build a [`SearchRequest`] from the query string. Unknown parameters are ignored (portals add
/// their own tracking parameters); malformed values of known ones are a 400.
pub fn parse_search(raw: &Option<String>) -> Result<SearchRequest, ApiError> {
    let mut req = SearchRequest::default();
    let mut q = None;
    for (k, v) in pairs(raw) {
        // Filters accept repeats and comma lists alike: kind=law,guide.
        let list = || {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        match k.as_str() {
            "q" => q = Some(v.clone()),
            "kind" => req.kind.extend(list()),
            "department" => req.department.extend(list()),
            "region" => req.region.extend(list()),
            "audience" => req.audience.extend(list()),
            "max_days" => req.max_days = Some(number("max_days", &v)?),
            "limit" => req.limit = Some(number("limit", &v)?),
            "offset" => req.offset = Some(number("offset", &v)?),
            "facet_limit" => req.facet_limit = Some(number("facet_limit", &v)?),
            "highlight" => {
                req.highlight = Some(match v.as_str() {
                    "" | "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "highlight must be true or false, got {v:?}"
                        )))
                    }
                })
            }
            _ => {}
        }
    }
    req.q = q.ok_or_else(|| ApiError::BadRequest("missing parameter q".into()))?;
    Ok(req)
}

/// Ranked, highlighted hits with facet counts.
#[utoipa::path(
    get,
    path = "/api/search",
    params(
        ("q" = String, Query, description = "The query as typed (≤ 256 characters); staff syntax: \"phrase\", -exclude, title:, department:, region:, kind:, code:, audience:"),
        ("kind" = Option<Vec<String>>, Query, description = "law | guide | material | timeline | notice; repeatable"),
        ("department" = Option<Vec<String>>, Query, description = "实施主体; repeatable"),
        ("region" = Option<Vec<String>>, Query, description = "行政区划; repeatable"),
        ("audience" = Option<Vec<String>>, Query, description = "服务对象 (个人, 法人); repeatable"),
        ("max_days" = Option<u64>, Query, description = "Only items whose 承诺时限 is at most this many working days"),
        ("limit" = Option<usize>, Query, description = "Page size, 1..=100 (default 10)"),
        ("offset" = Option<usize>, Query, description = "Hits to skip, ≤ 10000"),
        ("highlight" = Option<bool>, Query, description = "Wrap matched words in <em> (default true)"),
        ("facet_limit" = Option<usize>, Query, description = "Values listed per facet, most matches first, 0..=1000 (default 100); facets_distinct says how many there are"),
    ),
    responses(
        (status = 200, description = "Results", body = SearchResponse),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
        (status = 503, description = "Overloaded or timed out", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let req = parse_search(&raw)?;
    let t0 = Instant::now();
    let generation = state.generation();
    if let Some(body) = state.cache.get(generation, &req) {
        let took = t0.elapsed().as_micros() as u64;
        return Ok(json_response(
            super::cache::answer_from(&body, took).into(),
            EngineTime(took, None),
        ));
    }
    // Backpressure: a bounded number of searches run at once; the rest wait briefly, then get
    // a 503 with Retry-After instead of piling up until everything times out.
    let permit =
        match tokio::time::timeout(state.queue_wait, state.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(ApiError::Unavailable("server is shutting down".into())),
            Err(_) => {
                return Err(ApiError::Unavailable(
                    "too many searches in flight; retry shortly".into(),
                ))
            }
        };
    let (body, took) = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let resp = state.searcher.search_with(&req, Some(&state.suggester()))?;
        state.metrics.observe_search(&resp.timings);
        let body =
            Bytes::from(serde_json::to_vec(&resp).map_err(|e| ApiError::Internal(e.to_string()))?);
        state.cache.put(generation, req, body.clone());
        Ok::<_, ApiError>((body, EngineTime(resp.took_us, Some(resp.timings))))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("search worker failed: {e}")))??;
    Ok(json_response(body, took))
}

/// A JSON body already serialized, with the engine time for `Server-Timing`.
fn json_response(body: Bytes, took: EngineTime) -> Response {
    let mut out = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    out.extensions_mut().insert(took);
    out
}

/// The whole stored document.
#[utoipa::path(
    get,
    path = "/api/docs/{id}",
    params(("id" = String, Path, description = "Document id (may contain `/`; looked up as a term, never as a file path)")),
    responses(
        (status = 200, description = "The document", body = DocResponse),
        (status = 404, description = "No such document", body = ErrorBody),
    )
)]
pub async fn doc(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<DocResponse>, ApiError> {
    // axum's own rejection is plain text; ours is the JSON error every client expects.
    let Path(id) = id.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let t0 = Instant::now();
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(ApiError::BadRequest(format!(
            "id must be 1..={MAX_ID_BYTES} bytes"
        )));
    }
    let searcher = state.searcher.clone();
    let lookup = id.clone();
    let doc = tokio::task::spawn_blocking(move || searcher.doc(&lookup))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    match doc {
        Some(doc) => Ok(Json(DocResponse {
            doc,
            took_us: t0.elapsed().as_micros() as u64,
        })),
        None => Err(ApiError::NotFound(format!("no document with id {id:?}"))),
    }
}

/// `GET /api/docs/{id}` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocResponse {
    /// The stored document.
    #[serde(flatten)]
    pub doc: Document,
    /// Time spent, microseconds.
    pub took_us: u64,
}

/// One title completion.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestItem {
    /// The title to complete to.
    pub title: String,
    /// Kind of the document.
    pub kind: String,
    /// Path of the document.
    pub path: String,
}

/// `GET /api/suggest` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestResponse {
    /// The input.
    pub query: String,
    /// Completions, best first.
    pub suggestions: Vec<SuggestItem>,
    /// Time spent, microseconds.
    pub took_us: u64,
}

/// Title completions while typing: Chinese prefix, full pinyin, pinyin initials.
#[utoipa::path(
    get,
    path = "/api/suggest",
    params(
        ("q" = String, Query, description = "What has been typed so far"),
        ("limit" = Option<usize>, Query, description = "At most this many (default 10, ≤ 20)"),
    ),
    responses(
        (status = 200, description = "Completions", body = SuggestResponse),
        (status = 400, description = "Invalid parameter", body = ErrorBody),
    )
)]
pub async fn suggest(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SuggestResponse>, ApiError> {
    let t0 = Instant::now();
    let mut q = None;
    let mut limit = 10;
    for (k, v) in pairs(&raw) {
        match k.as_str() {
            "q" => q = Some(v),
            "limit" => limit = number("limit", &v)?,
            _ => {}
        }
    }
    let q = q.ok_or_else(|| ApiError::BadRequest("missing parameter q".into()))?;
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::BadRequest(format!(
            "q must be at most {MAX_QUERY_CHARS} characters"
        )));
    }
    if limit == 0 || limit > MAX_SUGGEST {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_SUGGEST}"
        )));
    }
    // A scan of precomputed keys, well under a millisecond: no need for the blocking pool.
    let suggester = state.suggester();
    let suggestions = suggester
        .suggest(&q, limit)
        .into_iter()
        .map(|s| SuggestItem {
            title: s.title,
            kind: s.kind,
            path: s.path,
        })
        .collect();
    Ok(Json(SuggestResponse {
        query: q,
        suggestions,
        took_us: t0.elapsed().as_micros() as u64,
    }))
}

/// `GET /api/status` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    /// banshi version.
    pub version: String,
    /// Documents searchable now.
    pub documents: u64,
    /// Corpus files with at least one indexed document.
    pub files: usize,
    /// Bytes on disk of the index folder.
    pub index_size_bytes: u64,
    /// Unix time (ms) of the last commit.
    pub last_commit_ms: u64,
    /// The corpus folder served.
    pub corpus: String,
    /// Seconds since start.
    pub uptime_s: u64,
    /// The watcher, when running.
    #[schema(value_type = Option<Object>)]
    pub watcher: Option<WatchStatus>,
    /// Files and records not indexed, with reasons: the first 1,000 by path.
    pub skipped: Vec<Skip>,
    /// How many files and records are not indexed in all (`skipped` lists at most 1,000).
    pub skipped_total: usize,
    /// The search response cache.
    pub cache: super::cache::CacheStatus,
    /// The title suggestions.
    pub suggester: SuggesterStatus,
    /// Time spent, microseconds.
    pub took_us: u64,
}

/// Where the current title suggestions came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggesterStatus {
    /// Distinct titles suggested.
    pub titles: usize,
    /// Read from the index folder's `suggest.bin` instead of built (it held this snapshot's).
    pub loaded_from_file: bool,
    /// Milliseconds the build or the read took.
    pub took_ms: f64,
}

/// Skips listed by `/api/status`. A corpus can skip many: a catalogue whose records lack a
/// title skips each record, and 20,000 broken files made a 1.8 MB status answer; the count
/// stays exact in `skipped_total`, and `banshi index` prints every skip.
pub const MAX_STATUS_SKIPS: usize = 1_000;

/// Index and watcher state, and the skipped files with their reasons.
#[utoipa::path(get, path = "/api/status", responses((status = 200, description = "Status", body = StatusResponse)))]
pub async fn status(State(state): State<Arc<AppState>>) -> Result<Json<StatusResponse>, ApiError> {
    let t0 = Instant::now();
    let st = state.clone();
    let (documents, files, size, payload) = tokio::task::spawn_blocking(move || {
        let idx = st.searcher.index();
        let snapshot = st.searcher.tantivy_searcher();
        let generation = snapshot.generation().generation_id();
        let mut counted = st.indexed_files.lock().unwrap_or_else(|e| e.into_inner());
        let files = match *counted {
            Some((g, n)) if g == generation => n,
            _ => {
                let n = idx.file_hashes(&snapshot).map(|h| h.len()).unwrap_or(0);
                *counted = Some((generation, n));
                n
            }
        };
        drop(counted);
        (
            st.searcher.num_docs(),
            files,
            idx.size_bytes(),
            idx.payload(),
        )
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(StatusResponse {
        version: env!("CARGO_PKG_VERSION").to_string(),
        documents,
        files,
        index_size_bytes: size,
        last_commit_ms: payload.committed_at_ms,
        corpus: state.corpus.display().to_string(),
        uptime_s: state.started.elapsed().as_secs(),
        watcher: state.watch_status(),
        skipped_total: payload.skipped.len(),
        skipped: {
            let mut skipped = payload.skipped;
            skipped.truncate(MAX_STATUS_SKIPS);
            skipped
        },
        cache: state.cache.status(),
        suggester: {
            let s = state.suggester();
            SuggesterStatus {
                titles: s.len(),
                loaded_from_file: s.origin().loaded,
                took_ms: s.origin().took.as_secs_f64() * 1e3,
            }
        },
        took_us: t0.elapsed().as_micros() as u64,
    }))
}

/// Liveness: 200 while serving.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "Serving")))]
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "took_us": 0 }))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let st = state.clone();
    let text = tokio::task::spawn_blocking(move || {
        let idx = st.searcher.index();
        st.metrics.render(st.searcher.num_docs(), idx.size_bytes())
    })
    .await
    .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `POST /api/reindex` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReindexResponse {
    /// One-line summary.
    pub summary: String,
    /// Whether anything changed.
    pub committed: bool,
    /// Time spent, microseconds.
    pub took_us: u64,
}

/// Re-sync the whole corpus now (needs `--admin-token`).
#[utoipa::path(
    post,
    path = "/api/reindex",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Synced", body = ReindexResponse),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 404, description = "Admin endpoints are off (no --admin-token)", body = ErrorBody),
    )
)]
pub async fn reindex(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<ReindexResponse>, ApiError> {
    let t0 = Instant::now();
    let Some(token) = state.admin_token.as_deref() else {
        return Err(ApiError::NotFound("no such route".into()));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        return Err(ApiError::Unauthorized);
    }
    let st = state.clone();
    let report = tokio::task::spawn_blocking(move || st.full_sync())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Unavailable(format!("sync failed: {e}")))?;
    Ok(Json(ReindexResponse {
        summary: report.summary(),
        committed: report.committed,
        took_us: t0.elapsed().as_micros() as u64,
    }))
}

/// Compare secrets without leaking their common prefix length through timing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The error body every 4xx/5xx carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Code and message.
    #[schema(value_type = Object, example = json!({"code": "bad_request", "message": "missing parameter q"}))]
    pub error: serde_json::Value,
    /// Time spent, microseconds.
    pub took_us: u64,
}

/// The OpenAPI description, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "banshi",
        description = "Search API for Chinese government service catalogues"
    ),
    paths(search, doc, suggest, status, health, metrics, reindex),
    components(schemas(
        SearchResponse,
        DocResponse,
        SuggestResponse,
        SuggestItem,
        StatusResponse,
        ReindexResponse,
        ErrorBody,
        Skip,
        super::cache::CacheStatus
    ))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
