//! The HTTP server: `banshi serve`.
//!
//! One [`Searcher`] shared by all requests (reloaded after every commit), searches on the
//! blocking pool behind a semaphore, the watcher beside it. Layers, outermost first: timing and
//! metrics (adds `Server-Timing`, fills `took_us` in error bodies), URL/body size bounds and the
//! per-request timeout, CORS for configured origins, compression.

pub mod api;
pub mod cache;
pub mod error;
pub mod listen;
pub mod metrics;
pub mod page;

use crate::analysis::Analyzer;
use crate::index::sync::{SyncReport, Syncer};
use crate::index::{BanshiIndex, IndexError};
use crate::search::suggest::{file, Suggester};
use crate::search::{SearchError, Searcher};
use crate::watch::{self, WatchConfig, WatchHandle, WatchStatus};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use error::ApiError;
use metrics::Metrics;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Longest accepted URL (path and query), in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A dictionary override could not be loaded.
    #[error(transparent)]
    Analysis(#[from] crate::analysis::AnalysisError),
    /// Opening or syncing the index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The searcher could not be created.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The watcher could not start.
    #[error(transparent)]
    Watch(#[from] watch::WatchError),
    /// Any other I/O failure while serving.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Everything `banshi serve` is told.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The corpus folder.
    pub corpus: PathBuf,
    /// The index folder.
    pub index: PathBuf,
    /// Dictionary override folder.
    pub dict: Option<PathBuf>,
    /// Listen address; port 0 picks a free one.
    pub addr: String,
    /// Watch the corpus for changes.
    pub watch: bool,
    /// Poll instead of inotify (network shares).
    pub poll_interval: Option<Duration>,
    /// Token for admin endpoints; none disables them.
    pub admin_token: Option<String>,
    /// Origins allowed to call the API from a browser (the embeddable box).
    pub cors_origins: Vec<String>,
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Header timeout and connection cap (see [`listen`]).
    pub limits: listen::ConnLimits,
    /// Searches run at once; `None`: twice the cores.
    pub max_searches: Option<usize>,
    /// How long a search may wait for a slot before it gets 503 + Retry-After.
    pub queue_wait: Duration,
    /// Budget of the search response cache (see [`cache`]); 0 turns it off.
    pub cache_bytes: usize,
}

/// Marker the search handler puts on its response, for `Server-Timing`: engine time, and
/// where it went when this request computed the answer (not for a cache hit).
#[derive(Debug, Clone, Copy)]
pub struct EngineTime(pub u64, pub Option<crate::search::Timings>);

/// See [`AppState::after_watch_sync`].
#[derive(Default)]
struct RebuildState {
    running: bool,
    again: bool,
}

/// State shared by all handlers.
pub struct AppState {
    /// The one searcher.
    pub searcher: Arc<Searcher>,
    /// The suggester, and the searcher generation it was built from.
    suggester: RwLock<(u64, Arc<Suggester>)>,
    /// Bumped after every suggester swap: part of the cache key.
    suggester_generation: AtomicU64,
    /// Whether a background suggester build runs, and whether another commit came meanwhile.
    suggest_rebuild: Mutex<RebuildState>,
    /// The background write of `suggest.bin` after a start or full sync built the suggester;
    /// shutdown waits for it, so that exiting never leaves a half-written side file.
    suggest_save: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Recent search responses.
    pub cache: cache::ResultCache,
    /// Indexed files of one searcher generation, for `/api/status`: counting them reads every
    /// document's path (0.12 s at a million documents), so once per snapshot.
    pub(crate) indexed_files: Mutex<Option<(u64, usize)>>,
    syncer: Arc<Mutex<Syncer>>,
    watcher: Mutex<Option<WatchHandle>>,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Bounds concurrent searches to what the cores can run.
    pub permits: Arc<Semaphore>,
    /// How long a search waits for a permit before it is answered 503.
    pub queue_wait: Duration,
    /// The corpus folder.
    pub corpus: PathBuf,
    /// Admin token, if admin endpoints are on.
    pub admin_token: Option<String>,
    /// Start time.
    pub started: Instant,
}

impl AppState {
    /// The current suggester (swapped after every commit).
    pub fn suggester(&self) -> Arc<Suggester> {
        self.suggester
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// What a search answered now depends on besides its request (the cache key's other half).
    /// Read *before* searching: a reload in between then files the newer answer under the
    /// older generation, which no later request asks for.
    pub fn generation(&self) -> cache::Generation {
        cache::Generation {
            suggester: self.suggester_generation.load(Ordering::Acquire),
            searcher: self.searcher.generation(),
        }
    }

    /// The watcher's state, if it runs.
    pub fn watch_status(&self) -> Option<WatchStatus> {
        self.watcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|w| w.status())
    }

    /// After a commit: make it visible and rebuild what derives from it, before returning.
    pub fn after_sync(&self, report: &SyncReport) {
        self.metrics.observe_reindex(report.elapsed);
        if report.committed {
            self.refresh();
        }
    }

    /// After a watcher's commit: make it visible and warm the searcher now, and rebuild the
    /// suggestions in the background. The suggester takes ~0.6 s to build at 100k documents;
    /// built here it held up the watcher's next sync, so a save right after another waited
    /// for suggestions before its search results appeared.
    pub fn after_watch_sync(self: &Arc<Self>, report: &SyncReport) {
        self.metrics.observe_reindex(report.elapsed);
        if !report.committed {
            return;
        }
        self.reload();
        self.searcher.warm();
        {
            let mut r = self
                .suggest_rebuild
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if r.running {
                // The running build may have read the snapshot before this commit.
                r.again = true;
                return;
            }
            r.running = true;
        }
        let st = Arc::clone(self);
        std::thread::spawn(move || {
            lower_priority();
            loop {
                // A panicking build must not leave `running` set: no build would start again.
                let build = std::panic::AssertUnwindSafe(|| st.rebuild_suggester(false));
                if std::panic::catch_unwind(build).is_err() {
                    tracing::error!("building the suggester panicked; the previous one stays");
                }
                let mut r = st.suggest_rebuild.lock().unwrap_or_else(|e| e.into_inner());
                if !std::mem::take(&mut r.again) {
                    r.running = false;
                    break;
                }
            }
        });
    }

    /// Make the latest commit visible and rebuild what derives from it: the suggestions, and
    /// (on a second core, meanwhile) the searcher's per-snapshot state.
    pub fn refresh(&self) {
        self.reload();
        std::thread::scope(|s| {
            s.spawn(|| self.searcher.warm());
            self.rebuild_suggester(true);
        });
    }

    /// Make the latest commit visible to searches (a failure is logged: the previous
    /// snapshot keeps answering).
    fn reload(&self) {
        if let Err(e) = self.searcher.reload() {
            tracing::error!(error = %e, "reloading the searcher failed");
        }
    }

    /// Build suggestions from the current snapshot and swap them in, unless a build from a
    /// newer snapshot (a background one and a foreground one can overlap) got there first.
    /// `persist`: read them from the index folder's file if it holds this snapshot's, and
    /// write it otherwise (start-up, full syncs). The watcher's many small commits do not
    /// write it (tens of MB each time); shutting down does, once.
    fn rebuild_suggester(&self, persist: bool) {
        let snapshot = self.searcher.tantivy_searcher();
        let generation = snapshot.generation().generation_id();
        let index = self.searcher.index();
        let fresh = Arc::new(if persist {
            Suggester::read_or_build(&snapshot, index)
        } else {
            Suggester::build_for(&snapshot, index)
        });
        if persist && !fresh.origin().loaded {
            // Written off the start-up path: 0.1-0.2 s at 100k documents.
            let (s, dir) = (fresh.clone(), index.dir().to_path_buf());
            let writing = std::thread::spawn(move || s.save(&dir));
            let mut slot = self.suggest_save.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(earlier) = slot.replace(writing) {
                earlier.join().ok();
            }
        }
        let mut current = self.suggester.write().unwrap_or_else(|e| e.into_inner());
        if generation >= current.0 {
            *current = (generation, fresh);
            self.suggester_generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// At shutdown: leave the suggestions of the index's last commit in its folder, so that
    /// the next start reads them instead of building them. The last commit can be newer than
    /// the suggestions served (a background rebuild still running, a merge finished since):
    /// then they are built once more here.
    fn persist_suggester(&self) {
        let writing = self
            .suggest_save
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(w) = writing {
            w.join().ok();
        }
        self.reload();
        let snapshot = self.searcher.tantivy_searcher();
        let index = self.searcher.index();
        let key = file::snapshot_key(&snapshot, index.analyzer().fingerprint());
        let current = self.suggester();
        if current.origin().key == Some(key) {
            current.save(index.dir());
        } else if file::saved_key(index.dir()) != Some(key) {
            Suggester::build_for(&snapshot, index).save(index.dir());
        }
    }

    /// Sync the whole corpus now (admin endpoint).
    pub fn full_sync(&self) -> Result<SyncReport, IndexError> {
        let report = {
            let mut syncer = self.syncer.lock().unwrap_or_else(|e| e.into_inner());
            syncer.full_sync(&self.corpus, &())?
        };
        self.after_sync(&report);
        Ok(report)
    }
}

/// The router, with every layer. Public so tests and embedders can mount it.
pub fn router(state: Arc<AppState>, cors_origins: &[String], timeout: Duration) -> Router {
    let api = Router::new()
        .route("/api/search", get(api::search))
        .route("/api/docs/{*id}", get(api::doc))
        .route("/api/suggest", get(api::suggest))
        .route("/api/status", get(api::status))
        .route("/api/openapi.json", get(api::openapi))
        .route("/health", get(api::health))
        .route("/metrics", get(api::metrics))
        .route("/", get(|| async { Html(page::INDEX_HTML) }))
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", page::APP_JS) }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", page::APP_CSS) }),
        )
        .route(
            "/embed.js",
            get(|| async { asset("text/javascript; charset=utf-8", page::EMBED_JS) }),
        )
        .route("/docs/{*id}", get(doc_page))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed });
    // Admin routes exist only when a token is configured: anonymous callers cannot even find them.
    let api = if state.admin_token.is_some() {
        api.route("/api/reindex", post(api::reindex))
    } else {
        api
    };
    let mut app = api
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(timeout, bounds));
    if !cors_origins.is_empty() {
        let origins: Vec<HeaderValue> =
            cors_origins.iter().filter_map(|o| o.parse().ok()).collect();
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET])
                .expose_headers([header::HeaderName::from_static("server-timing")]),
        );
    }
    app.layer(middleware::from_fn_with_state(state.clone(), timing))
        .with_state(state)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The server-rendered document page (readable without JavaScript).
async fn doc_page(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(params): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let searcher = state.searcher.clone();
    let lookup = id.clone();
    let found = tokio::task::spawn_blocking(move || searcher.doc(&lookup)).await;
    match found {
        Ok(Ok(Some(doc))) => {
            let analyzer: &Analyzer = state.searcher.index().analyzer();
            Html(page::render_doc(
                &doc,
                params.get("q").map(String::as_str),
                analyzer,
            ))
            .into_response()
        }
        Ok(Ok(None)) => (
            axum::http::StatusCode::NOT_FOUND,
            Html(page::render_not_found(&id)),
        )
            .into_response(),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// URL and body bounds, and the per-request timeout.
async fn bounds(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::UriTooLong(MAX_URI_BYTES).into_response();
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return ApiError::PayloadTooLarge(MAX_BODY_BYTES).into_response();
    }
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout(timeout.as_millis() as u64).into_response(),
    }
}

/// The metrics label of a request method. HTTP allows any token as a method, and each label
/// value is a series the process keeps forever: a client inventing methods must not grow the
/// metrics without bound (routes are bounded already: the matched pattern or `unmatched`).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Times every request: `Server-Timing`, `took_us` in error bodies, and the metrics.
async fn timing(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(req.method());
    let mut resp = next.run(req).await;
    let elapsed = t0.elapsed();
    if let Some(err) = resp.extensions_mut().remove::<ApiError>() {
        let (status, _) = err.status_and_code();
        let mut fresh = (status, Json(err.body(elapsed.as_micros() as u64))).into_response();
        for (k, v) in resp.headers() {
            // The new body is plain JSON: drop the old body's framing and encoding.
            if k != header::CONTENT_LENGTH
                && k != header::CONTENT_TYPE
                && k != header::CONTENT_ENCODING
            {
                fresh.headers_mut().insert(k.clone(), v.clone());
            }
        }
        if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
            fresh
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp = fresh;
    }
    let mut timing = format!("total;dur={:.3}", elapsed.as_secs_f64() * 1000.0);
    if let Some(EngineTime(us, phases)) = resp.extensions().get::<EngineTime>() {
        let ms = |us: u64| us as f64 / 1000.0;
        timing = format!("search;dur={:.3}, {timing}", ms(*us));
        if let Some(t) = phases {
            let phases: Vec<String> = t
                .phases()
                .into_iter()
                .map(|(name, us)| format!("{name};dur={:.3}", ms(us)))
                .collect();
            timing = format!("{}, {timing}", phases.join(", "));
        }
    }
    if let Ok(v) = HeaderValue::from_str(&timing) {
        resp.headers_mut().insert("server-timing", v);
    }
    state
        .metrics
        .observe_request(&route, method, resp.status().as_u16(), elapsed);
    resp
}

/// Run the calling thread at a lower CPU priority (nice +10): for background rebuilds that
/// would otherwise take a core from searches and from the watcher's next save (at a million
/// documents a suggester build is 1.3 s of CPU after every watcher commit). Linux only; a
/// no-op elsewhere or when refused.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread, no memory passed. On Linux the nice value
    // is per thread, and `gettid` names this one.
    unsafe {
        let tid = libc::gettid();
        let now = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
        if now < 10 {
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
        }
    }
}

/// Open, sync, bind, print `listening on http://ADDR`, watch, serve until SIGINT/SIGTERM.
pub async fn run(cfg: ServeConfig) -> Result<(), ServeError> {
    let dict = crate::config::dict_dir(cfg.dict.as_deref(), &cfg.index);
    let analyzer = Analyzer::load(dict.as_deref())?;
    let (index, rebuilt) = BanshiIndex::open_or_create(&cfg.index, analyzer)?;
    if rebuilt {
        tracing::warn!(index = %cfg.index.display(), "schema or dictionary changed: rebuilding");
    }
    let syncer = Syncer::open(index.clone())?;
    let syncer = Arc::new(Mutex::new(syncer));
    let searcher = Arc::new(Searcher::new(index)?);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let cache = cache::ResultCache::new(cfg.cache_bytes);
    let mut metrics = Metrics::new();
    metrics.register_cache(&cache);
    let state = Arc::new(AppState {
        searcher,
        suggester: RwLock::new((0, Arc::new(Suggester::empty()))),
        suggester_generation: AtomicU64::new(0),
        suggest_rebuild: Mutex::default(),
        suggest_save: Mutex::default(),
        cache,
        indexed_files: Mutex::default(),
        syncer: syncer.clone(),
        watcher: Mutex::new(None),
        metrics,
        permits: Arc::new(Semaphore::new(cfg.max_searches.unwrap_or(cores * 2).max(1))),
        queue_wait: cfg.queue_wait,
        corpus: cfg.corpus.clone(),
        admin_token: cfg.admin_token.clone(),
        started: Instant::now(),
    });
    // Bind before the (possibly long) first sync, so a taken port fails fast.
    let listener = tokio::net::TcpListener::bind(&cfg.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: cfg.addr.clone(),
            source,
        })?;
    let addr: SocketAddr = listener.local_addr()?;

    // Watch first, then reconcile with the folder: changes made while we were down are picked
    // up by the sync, and changes made during it by the watcher.
    if cfg.watch {
        let st = state.clone();
        let mut wc = WatchConfig::new(cfg.corpus.clone());
        wc.poll_interval = cfg.poll_interval;
        let handle = watch::spawn(wc, syncer.clone(), move |report| {
            st.after_watch_sync(report)
        })?;
        *state.watcher.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }
    let st = state.clone();
    let report = tokio::task::spawn_blocking(move || st.full_sync())
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    eprintln!("{}", report.summary());
    for s in &report.skipped {
        tracing::info!(path = %s.path, reason = %s.reason, "skipped");
    }
    // A committing sync already refreshed (after_sync); otherwise build suggestions for the
    // existing index once here.
    if !report.committed {
        state.refresh();
    }

    let app = router(state.clone(), &cfg.cors_origins, cfg.request_timeout);
    let shutdown = shutdown_signal();
    // The dictionary was built beside the steps above (see `Analyzer::jieba`); the first
    // query after `listening on` must not wait for it.
    state.searcher.index().analyzer().jieba();
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    listen::serve(listener, app, cfg.limits, shutdown).await?;
    // In-flight requests are done. Stop the watcher (it finishes any sync it is in: commits are
    // atomic), then release the writer.
    let handle = state
        .watcher
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(h) = handle {
        tokio::task::spawn_blocking(move || h.stop()).await.ok();
    }
    let st = state.clone();
    tokio::task::spawn_blocking(move || st.persist_suggester())
        .await
        .ok();
    eprintln!("shut down cleanly");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed *now*, not when the future is
/// first polled: a SIGTERM sent right after `listening on` is printed must not meet the default
/// action (an unclean kill), as it could while the accept loop had not yet polled this.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await.ok();
    }
}

#[cfg(test)]
mod tests {
    /// The background rebuild thread really runs niced, and the rest of the process does not.
    #[cfg(target_os = "linux")]
    #[test]
    fn lower_priority_applies_to_the_calling_thread_only() {
        // SAFETY: plain syscalls reading this thread's and the process's nice values.
        let nice =
            || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let before = nice();
        let inside = std::thread::spawn(move || {
            super::lower_priority();
            nice()
        })
        .join()
        .unwrap();
        assert!(inside >= 10, "nice inside: {inside}");
        assert_eq!(nice(), before, "the calling test thread is untouched");
    }
}
