//! The corpus watcher: file-system events → debounced batches of paths → one sync per batch.
//!
//! Owns a notify watcher (inotify/FSEvents/…, or a [`notify::PollWatcher`] for network shares
//! where native events do not arrive) and one worker thread. Events are treated as *hints*,
//! as rust-analyzer's `vfs-notify` does: the worker only remembers which relative paths were
//! touched, waits until the queue has been quiet for the debounce time (or a burst has run for
//! [`MAX_BATCH_LATENCY`]), then looks at the disk and hands the whole set to
//! [`Syncer::sync_paths`] — one commit per batch, so `git checkout` of a thousand files is a
//! handful of commits, not a thousand. Renames need no pairing: the old path no longer exists
//! (its documents are removed), the new one does (it is indexed). A folder that is now on disk
//! is expanded to its files; a path that is gone also takes every indexed document under it,
//! so a deleted or moved folder's documents follow it. An event-queue overflow or a watcher
//! error triggers a [`Syncer::full_sync`] instead.
//!
//! It must not parse files or write the index itself: the shared [`Syncer`] does both, and
//! keeps the previous version of a file that stops parsing.
//!
//! ```no_run
//! # use std::sync::{Arc, Mutex};
//! # fn demo(syncer: Arc<Mutex<banshi::Syncer>>) -> Result<(), banshi::watch::WatchError> {
//! use banshi::watch::{spawn, WatchConfig};
//! let handle = spawn(WatchConfig::new("corpus"), syncer, |report| {
//!     println!("{}", report.summary()); // reload searchers here
//! })?;
//! println!("{}", handle.status().state); // "watching"
//! handle.stop();
//! # Ok(()) }
//! ```

use crate::corpus::{self, is_ignored_name, rel_path};
use crate::index::sync::{SyncReport, Syncer};
use crate::index::IndexError;
use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecursiveMode, Watcher};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Quiet time before a changed file is read: long enough for an editor's save or a copy to
/// finish, short enough that a change is searchable at once.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(100);

/// Longest a batch waits during a continuous burst (rsync, checkout) before the paths that are
/// already quiet are synced, so a long burst still shows progress.
pub const MAX_BATCH_LATENCY: Duration = Duration::from_secs(1);

/// How many recent errors [`WatchStatus::recent_errors`] keeps.
pub const RECENT_ERRORS: usize = 20;

/// Most events handled before the worker looks at its deadlines again.
const MAX_DRAIN: usize = 100_000;

/// First wait before retrying a failed sync; it doubles up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Longest wait between retries of a failed sync (a broken `banshi.toml`, a full disk).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// What to watch and how.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// The corpus folder (canonicalized once by [`spawn`], so symlinked temp dirs work).
    pub root: PathBuf,
    /// Quiet time before a batch is synced (default [`DEFAULT_DEBOUNCE`]).
    pub debounce: Duration,
    /// `Some(interval)` polls the tree with notify's `PollWatcher` instead of native events:
    /// for network shares (NFS, SMB) and containers' bind mounts, where no events arrive.
    pub poll_interval: Option<Duration>,
}

impl WatchConfig {
    /// Native events on `root` with the default debounce.
    pub fn new(root: impl Into<PathBuf>) -> WatchConfig {
        WatchConfig {
            root: root.into(),
            debounce: DEFAULT_DEBOUNCE,
            poll_interval: None,
        }
    }

    /// Use another quiet time.
    pub fn with_debounce(mut self, debounce: Duration) -> WatchConfig {
        self.debounce = debounce;
        self
    }

    /// Poll every `interval` instead of relying on native events.
    pub fn with_poll_interval(mut self, interval: Duration) -> WatchConfig {
        self.poll_interval = Some(interval);
        self
    }
}

/// Shared, cloneable status for `/api/status` and `/metrics`: a snapshot, taken under a lock.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WatchStatus {
    /// [`WatchStatus::WATCHING`], [`POLLING`](WatchStatus::POLLING),
    /// [`RESCANNING`](WatchStatus::RESCANNING), [`ERROR`](WatchStatus::ERROR) (the last sync
    /// failed; it is retried) or [`STOPPED`](WatchStatus::STOPPED).
    pub state: String,
    /// Changed paths waiting to be synced (including a batch being synced).
    pub pending: usize,
    /// When the last sync finished successfully, unix milliseconds.
    pub last_sync_ms: Option<u64>,
    /// Syncs run by the watcher (batches and full rescans, failed ones included).
    pub syncs: u64,
    /// Wall time spent in those syncs, seconds (for an average in `/metrics`).
    pub sync_seconds_total: f64,
    /// Syncs that committed (changed the index or its skip list).
    pub commits: u64,
    /// The last [`RECENT_ERRORS`] errors, oldest first.
    pub recent_errors: Vec<String>,
}

impl WatchStatus {
    /// Native file-system events are being watched.
    pub const WATCHING: &'static str = "watching";
    /// The tree is being polled (`poll_interval` set).
    pub const POLLING: &'static str = "polling";
    /// A full sync is running after a queue overflow, a watcher error or a request.
    pub const RESCANNING: &'static str = "rescanning";
    /// The last sync failed; it will be retried.
    pub const ERROR: &'static str = "error";
    /// The watcher was stopped.
    pub const STOPPED: &'static str = "stopped";

    fn new(state: &str) -> WatchStatus {
        WatchStatus {
            state: state.to_string(),
            pending: 0,
            last_sync_ms: None,
            syncs: 0,
            sync_seconds_total: 0.0,
            commits: 0,
            recent_errors: Vec::new(),
        }
    }

    fn push_error(&mut self, message: String) {
        if self.recent_errors.len() >= RECENT_ERRORS {
            self.recent_errors.remove(0);
        }
        self.recent_errors.push(message);
    }
}

/// Errors starting the watcher. Once running, errors are recorded in [`WatchStatus`] instead.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The corpus folder is missing or not a folder (the user's configuration).
    #[error("corpus folder {path}: {source}")]
    Root {
        /// The folder as configured.
        path: PathBuf,
        /// Why it cannot be watched.
        source: std::io::Error,
    },
    /// The OS refused the watch (inotify limits, permissions).
    #[error("cannot watch {path}: {source}")]
    Notify {
        /// The folder.
        path: PathBuf,
        /// notify's error.
        source: notify::Error,
    },
    /// The worker thread could not be started.
    #[error("cannot start the watcher thread: {0}")]
    Thread(std::io::Error),
}

/// A cloneable view of a watcher's status that outlives [`WatchHandle::stop`]: keep it in
/// server state for `/api/status` while the handle itself is kept for shutdown.
#[derive(Clone, Debug)]
pub struct WatchStatusReader(Arc<Mutex<WatchStatus>>);

impl WatchStatusReader {
    /// A snapshot of the current status.
    pub fn status(&self) -> WatchStatus {
        lock(&self.0).clone()
    }
}

/// A running watcher. Dropping it stops it, as [`WatchHandle::stop`] does.
pub struct WatchHandle {
    tx: Sender<Msg>,
    stop: Arc<AtomicBool>,
    watcher: Arc<Mutex<Option<Box<dyn Watcher + Send>>>>,
    thread: Option<JoinHandle<()>>,
    status: Arc<Mutex<WatchStatus>>,
    root: PathBuf,
}

impl std::fmt::Debug for WatchHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchHandle")
            .field("root", &self.root)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl WatchHandle {
    /// A snapshot of the current status.
    pub fn status(&self) -> WatchStatus {
        lock(&self.status).clone()
    }

    /// A cloneable status view that stays valid after the handle is stopped.
    pub fn status_reader(&self) -> WatchStatusReader {
        WatchStatusReader(self.status.clone())
    }

    /// The canonical corpus folder being watched; event paths are made relative to it.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Ask for a full sync on the watcher thread, exactly as after an event-queue overflow
    /// (an admin's "reindex", or a corpus replaced behind a poller's back).
    pub fn rescan(&self) {
        let ev = Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        // The worker is gone only after stop; nothing to rescan then.
        let _ = self.tx.send(Msg::Event(Ok(ev), Instant::now()));
    }

    /// Stop watching: drop the notify watcher, let a sync in progress finish (its commit is
    /// atomic), and end the worker thread. Paths still waiting are dropped, not synced: a
    /// startup `full_sync` picks them up next time. Do not call it while holding the syncer
    /// lock: it waits for the worker, which may be waiting for that lock.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Dropping the watcher ends notify's thread, so no more events are sent.
        drop(lock(&self.watcher).take());
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            // Stopping from `on_sync` (the worker itself) must not join its own thread.
            if t.thread().id() != std::thread::current().id() && t.join().is_err() {
                tracing::error!("watcher thread panicked");
            }
        }
        lock(&self.status).state = WatchStatus::STOPPED.to_string();
    }
}

/// Start watching `cfg.root` recursively.
///
/// `syncer` is shared with the server, which may run a startup `full_sync` before calling
/// this; changes made between that sync and this call are only seen by the next event on the
/// same path (or a [`WatchHandle::rescan`]), so start the watcher first when that matters.
/// `on_sync` runs on the watcher thread, outside the syncer lock, after every sync that
/// committed: reload searchers and rebuild suggestions there. A panic in it is caught and
/// recorded.
pub fn spawn(
    cfg: WatchConfig,
    syncer: Arc<Mutex<Syncer>>,
    on_sync: impl Fn(&SyncReport) + Send + Sync + 'static,
) -> Result<WatchHandle, WatchError> {
    let root_err = |source| WatchError::Root {
        path: cfg.root.clone(),
        source,
    };
    let root = cfg.root.canonicalize().map_err(root_err)?;
    if !root.is_dir() {
        return Err(root_err(std::io::Error::other("not a folder")));
    }
    // Never react to our own index writes, should the index live inside the corpus.
    let index_rel = lock(&syncer)
        .index()
        .dir()
        .canonicalize()
        .ok()
        .and_then(|ix| rel_path(&root, &ix));

    let (tx, rx) = mpsc::channel();
    let events = tx.clone();
    let handler = move |res: notify::Result<Event>| {
        // The receiver is gone only while stopping.
        let _ = events.send(Msg::Event(res, Instant::now()));
    };
    let notify_err = |source| WatchError::Notify {
        path: root.clone(),
        source,
    };
    let (mut watcher, base_state): (Box<dyn Watcher + Send>, &'static str) = match cfg.poll_interval
    {
        Some(interval) => (
            Box::new(
                notify::PollWatcher::new(
                    handler,
                    notify::Config::default().with_poll_interval(interval),
                )
                .map_err(notify_err)?,
            ),
            WatchStatus::POLLING,
        ),
        None => (
            Box::new(
                notify::RecommendedWatcher::new(handler, notify::Config::default())
                    .map_err(notify_err)?,
            ),
            WatchStatus::WATCHING,
        ),
    };
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .map_err(notify_err)?;

    let watcher: Arc<Mutex<Option<Box<dyn Watcher + Send>>>> = Arc::new(Mutex::new(Some(watcher)));
    let status = Arc::new(Mutex::new(WatchStatus::new(base_state)));
    let stop = Arc::new(AtomicBool::new(false));
    let worker = Worker {
        watcher: watcher.clone(),
        root: root.clone(),
        debounce: cfg.debounce,
        base_state,
        index_rel,
        syncer,
        on_sync,
        status: status.clone(),
        stop: stop.clone(),
        pending: HashMap::new(),
        rescan: false,
        first_event: None,
        last_event: None,
        not_before: None,
        retry_delay: FIRST_RETRY_DELAY,
    };
    let thread = std::thread::Builder::new()
        .name("banshi-watch".to_string())
        .spawn(move || worker.run(rx))
        .map_err(WatchError::Thread)?;
    tracing::info!(root = %root.display(), mode = base_state, debounce_ms = cfg.debounce.as_millis() as u64, "watching corpus");
    Ok(WatchHandle {
        tx,
        stop,
        watcher,
        thread: Some(thread),
        status,
        root,
    })
}

/// What the worker thread receives.
enum Msg {
    /// A notify event (or error), stamped when notify delivered it.
    Event(notify::Result<Event>, Instant),
    /// Stop after the current sync.
    Stop,
}

/// What one sync covers.
enum Job {
    /// `full_sync` of the whole root.
    Full,
    /// `sync_paths` of these relative paths (files, folders, or paths now gone).
    Paths(Vec<String>),
}

/// The worker thread: coalesces paths, runs syncs, keeps the status.
struct Worker<F> {
    /// The notify watcher, to re-watch folders that moved in (see `expand`).
    watcher: Arc<Mutex<Option<Box<dyn Watcher + Send>>>>,
    root: PathBuf,
    debounce: Duration,
    base_state: &'static str,
    index_rel: Option<String>,
    syncer: Arc<Mutex<Syncer>>,
    on_sync: F,
    status: Arc<Mutex<WatchStatus>>,
    stop: Arc<AtomicBool>,
    /// Relative path → when it last changed.
    pending: HashMap<String, Instant>,
    /// A full sync is due (overflow, watcher error, request, failed full sync).
    rescan: bool,
    /// Start of the current batch (for [`MAX_BATCH_LATENCY`]).
    first_event: Option<Instant>,
    /// Latest change queued (for the debounce).
    last_event: Option<Instant>,
    /// After a failed sync, nothing is retried before this.
    not_before: Option<Instant>,
    retry_delay: Duration,
}

impl<F: Fn(&SyncReport)> Worker<F> {
    fn run(mut self, rx: Receiver<Msg>) {
        loop {
            let msg = match self.deadline() {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
            };
            match msg {
                Ok(Msg::Event(res, at)) => {
                    self.on_event(res, at);
                    // Take everything already queued before deciding: events that piled up
                    // during a sync are already "quiet" by their stamps, and must join one
                    // batch rather than each trigger a sync of its own.
                    if !self.drain(&rx) {
                        break;
                    }
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let now = Instant::now();
            if self.deadline().is_some_and(|d| d <= now) {
                self.flush(now);
            }
        }
        if !self.pending.is_empty() || self.rescan {
            tracing::info!(
                pending = self.pending.len(),
                rescan = self.rescan,
                "watcher stopped with changes pending; the next full sync picks them up"
            );
        }
        let mut st = lock(&self.status);
        st.state = WatchStatus::STOPPED.to_string();
        st.pending = self.pending.len();
    }

    /// Handle the events already waiting in the channel (up to a bound, so a flood cannot
    /// starve the syncs). False when the watcher is stopping.
    fn drain(&mut self, rx: &Receiver<Msg>) -> bool {
        for _ in 0..MAX_DRAIN {
            match rx.try_recv() {
                Ok(Msg::Event(res, at)) => self.on_event(res, at),
                Ok(Msg::Stop) | Err(TryRecvError::Disconnected) => return false,
                Err(TryRecvError::Empty) => break,
            }
        }
        true
    }

    /// When the next sync is due, if anything is queued.
    fn deadline(&self) -> Option<Instant> {
        if self.pending.is_empty() && !self.rescan {
            return None;
        }
        let (first, last) = (self.first_event?, self.last_event?);
        let due = (last + self.debounce).min(first + MAX_BATCH_LATENCY);
        Some(self.not_before.map_or(due, |nb| due.max(nb)))
    }

    fn on_event(&mut self, res: notify::Result<Event>, at: Instant) {
        let mut queued = false;
        match res {
            Err(e) => {
                tracing::warn!(error = %e, "watcher error; rescanning the corpus");
                lock(&self.status).push_error(format!("watcher: {e}"));
                self.rescan = true;
                queued = true;
            }
            Ok(ev) => {
                if ev.need_rescan() {
                    tracing::warn!("file-system events were lost; rescanning the corpus");
                    self.rescan = true;
                    queued = true;
                }
                // Opens and reads (our own sync's included) change nothing; a close after
                // writing does, and restarts the file's quiet time.
                let read_only = matches!(ev.kind, EventKind::Access(a)
                    if a != AccessKind::Close(AccessMode::Write));
                if !read_only {
                    for p in &ev.paths {
                        queued |= self.queue_path(p, &ev.kind, at);
                    }
                }
            }
        }
        if queued {
            self.last_event = Some(self.last_event.map_or(at, |l| l.max(at)));
            self.first_event.get_or_insert(at);
            lock(&self.status).pending = self.pending.len();
        }
    }

    /// Remember a changed path; false when it is not ours to index.
    fn queue_path(&mut self, abs: &Path, kind: &EventKind, at: Instant) -> bool {
        if abs == self.root {
            // The root itself was removed or moved: only a full sync can say what is left.
            let gone = matches!(
                kind,
                EventKind::Remove(_) | EventKind::Modify(notify::event::ModifyKind::Name(_))
            );
            self.rescan |= gone;
            return gone;
        }
        let Some(rel) = rel_path(&self.root, abs) else {
            return false;
        };
        // The same rule as `corpus::walk`: an ignored name anywhere hides the path.
        if rel.split('/').any(is_ignored_name) {
            return false;
        }
        if let Some(ix) = &self.index_rel {
            if rel == *ix
                || rel
                    .strip_prefix(ix.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            {
                return false;
            }
        }
        self.pending.insert(rel, at);
        true
    }

    /// Sync what is due: a full rescan, else every quiet path.
    fn flush(&mut self, now: Instant) {
        if self.rescan {
            // The full sync covers every pending path too.
            self.rescan = false;
            self.pending.clear();
            self.first_event = None;
            self.last_event = None;
            self.run_job(Job::Full);
            return;
        }
        let all_quiet = self.last_event.is_some_and(|l| l + self.debounce <= now);
        let batch: Vec<String> = if all_quiet {
            self.pending.drain().map(|(p, _)| p).collect()
        } else {
            // A long burst: take the files already quiet, leave those still being written.
            let quiet: Vec<String> = self
                .pending
                .iter()
                .filter(|(_, &at)| at + self.debounce <= now)
                .map(|(p, _)| p.clone())
                .collect();
            for p in &quiet {
                self.pending.remove(p);
            }
            quiet
        };
        if self.pending.is_empty() {
            self.first_event = None;
            self.last_event = None;
        } else {
            self.first_event = Some(now);
        }
        if !batch.is_empty() {
            self.run_job(Job::Paths(batch));
        }
    }

    fn run_job(&mut self, job: Job) {
        let full = matches!(job, Job::Full);
        {
            let mut st = lock(&self.status);
            st.pending = self.pending.len()
                + match &job {
                    Job::Full => 0,
                    Job::Paths(b) => b.len(),
                };
            if full {
                st.state = WatchStatus::RESCANNING.to_string();
            }
        }
        let t0 = Instant::now();
        let result = {
            let mut syncer = lock(&self.syncer);
            match &job {
                Job::Full => syncer.full_sync(&self.root, &()),
                Job::Paths(batch) => self
                    .expand(&syncer, batch)
                    .and_then(|rels| syncer.sync_paths(&self.root, &rels)),
            }
        };
        let elapsed = t0.elapsed();
        let mut st = lock(&self.status);
        st.syncs += 1;
        st.sync_seconds_total += elapsed.as_secs_f64();
        st.pending = self.pending.len();
        match result {
            Ok(report) => {
                st.last_sync_ms = Some(unix_ms());
                st.state = self.base_state.to_string();
                if report.committed {
                    st.commits += 1;
                }
                drop(st);
                self.not_before = None;
                self.retry_delay = FIRST_RETRY_DELAY;
                let paths = match &job {
                    Job::Full => report.files_seen,
                    Job::Paths(b) => b.len(),
                };
                tracing::info!(
                    full,
                    paths,
                    added = report.added,
                    updated = report.updated,
                    removed = report.removed,
                    skipped = report.skipped.len(),
                    committed = report.committed,
                    elapsed_ms = elapsed.as_millis() as u64,
                    "watcher sync"
                );
                if report.committed {
                    let hook = std::panic::AssertUnwindSafe(|| (self.on_sync)(&report));
                    if std::panic::catch_unwind(hook).is_err() {
                        tracing::error!("on_sync callback panicked");
                        lock(&self.status).push_error("on_sync callback panicked".to_string());
                    }
                }
            }
            Err(e) => {
                let what = if full { "full sync" } else { "sync" };
                tracing::error!(error = %e, retry_in_s = self.retry_delay.as_secs(), "watcher {what} failed");
                st.push_error(format!("{what}: {e}"));
                st.state = WatchStatus::ERROR.to_string();
                // Keep the work and retry later, with a growing delay.
                let now = Instant::now();
                match job {
                    Job::Full => self.rescan = true,
                    Job::Paths(batch) => self.pending.extend(batch.into_iter().map(|p| (p, now))),
                }
                st.pending = self.pending.len();
                self.first_event.get_or_insert(now);
                self.last_event = Some(now);
                self.not_before = Some(now + self.retry_delay);
                self.retry_delay = (self.retry_delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }

    /// Changed paths → the files to hand to `sync_paths`: a folder becomes its files, and a
    /// folder or path that is gone (or replaced) also brings every indexed file under it.
    /// Paths still pending (not yet quiet) are left out.
    fn expand(&self, syncer: &Syncer, batch: &[String]) -> Result<Vec<String>, IndexError> {
        let mut out = BTreeSet::new();
        // One snapshot per batch, opened at the first folder or gone path (a checkout may
        // delete thousands of files at once).
        let mut committed: Option<tantivy::Searcher> = None;
        for rel in batch {
            let abs = self.root.join(rel);
            match std::fs::metadata(&abs) {
                Ok(m) if m.is_file() => {
                    out.insert(rel.clone());
                    continue;
                }
                Ok(m) if m.is_dir() => {
                    // A folder that moved in keeps inotify watches registered under its old
                    // path, so events inside it would arrive under a path that no longer
                    // exists. Watching it again re-registers the subtree under its new path.
                    if let Some(w) = lock(&self.watcher).as_mut() {
                        if let Err(e) = w.watch(&abs, RecursiveMode::Recursive) {
                            tracing::debug!(path = %rel, error = %e, "re-watch failed");
                        }
                    }
                    match corpus::walk(&abs) {
                        Ok((files, skips)) => {
                            out.extend(files.into_iter().map(|f| format!("{rel}/{}", f.rel)));
                            for s in skips {
                                tracing::debug!(path = %format!("{rel}/{}", s.path), reason = %s.reason, "not walked");
                            }
                        }
                        Err(e) => tracing::debug!(path = %rel, error = %e, "folder vanished"),
                    }
                }
                // Gone (or unreadable, which sync_paths treats alike): remove it.
                _ => {
                    out.insert(rel.clone());
                }
            }
            let searcher = match &committed {
                Some(s) => s,
                None => committed.insert(syncer.committed()?),
            };
            out.extend(syncer.index().paths_under(searcher, rel)?);
        }
        // Files still being written (changed within the debounce) wait for their own batch,
        // even when a folder's expansion found them.
        Ok(out
            .into_iter()
            .filter(|p| !self.pending.contains_key(p))
            .collect())
    }
}

/// Lock, recovering from a panic elsewhere: the syncer commits atomically, so its last commit
/// is intact, and a status snapshot is always consistent enough to show.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Analyzer, BanshiIndex};

    fn deadline_wait(what: &str, mut ok: impl FnMut() -> bool) {
        let end = Instant::now() + Duration::from_secs(20);
        while !ok() {
            assert!(Instant::now() < end, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn watcher_errors_are_recorded_and_trigger_a_rescan() {
        let corpus = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
        let syncer = Arc::new(Mutex::new(Syncer::open(idx).unwrap()));
        // A poller that never polls: only our injected messages arrive.
        let cfg = WatchConfig::new(corpus.path()).with_poll_interval(Duration::from_secs(3600));
        let handle = spawn(cfg, syncer.clone(), |_| {}).unwrap();
        assert_eq!(handle.status().state, WatchStatus::POLLING);
        std::fs::write(corpus.path().join("a.md"), "# 结婚登记\n婚姻登记处。").unwrap();
        for i in 0..25 {
            let e = notify::Error::generic(&format!("boom {i}"));
            handle.tx.send(Msg::Event(Err(e), Instant::now())).unwrap();
        }
        deadline_wait("a rescan", || {
            let s = handle.status();
            s.syncs >= 1 && s.state == WatchStatus::POLLING
        });
        let s = handle.status();
        assert_eq!(s.recent_errors.len(), RECENT_ERRORS);
        assert_eq!(s.recent_errors.last().unwrap(), "watcher: boom 24");
        assert_eq!(s.commits, 1, "{s:?}");
        let reader = handle.status_reader();
        handle.stop();
        assert_eq!(reader.status().state, WatchStatus::STOPPED);
        let r = lock(&syncer)
            .sync_paths(corpus.path(), &["a.md".into()])
            .unwrap();
        assert_eq!((r.unchanged, r.docs), (1, 1), "{r:?}");
    }

    #[test]
    fn ignored_names_and_the_index_folder_are_not_queued() {
        let corpus = tempfile::tempdir().unwrap();
        let root = corpus.path().canonicalize().unwrap();
        let (idx, _) =
            BanshiIndex::open_or_create(&root.join("index"), Analyzer::load_default()).unwrap();
        let syncer = Arc::new(Mutex::new(Syncer::open(idx).unwrap()));
        let mut w = Worker {
            root: root.clone(),
            debounce: DEFAULT_DEBOUNCE,
            base_state: WatchStatus::WATCHING,
            index_rel: Some("index".into()),
            syncer,
            watcher: Arc::new(Mutex::new(None)),
            on_sync: |_: &SyncReport| {},
            status: Arc::new(Mutex::new(WatchStatus::new(WatchStatus::WATCHING))),
            stop: Arc::new(AtomicBool::new(false)),
            pending: HashMap::new(),
            rescan: false,
            first_event: None,
            last_event: None,
            not_before: None,
            retry_delay: FIRST_RETRY_DELAY,
        };
        let kind = EventKind::Create(notify::event::CreateKind::File);
        let now = Instant::now();
        for (p, queued) in [
            ("guides/a.md", true),
            ("guides/.a.md.swp", false),
            (".git/index", false),
            ("guides/a.md~", false),
            ("index/meta.json", false),
            ("indexes/a.md", true),
        ] {
            assert_eq!(w.queue_path(&root.join(p), &kind, now), queued, "{p}");
        }
        // Our own reads do not count as changes.
        let read = Event::new(EventKind::Access(AccessKind::Open(AccessMode::Any)))
            .add_path(root.join("x.md"));
        w.on_event(Ok(read), now);
        assert_eq!(w.pending.len(), 2);
        assert!(!w.rescan);
        w.on_event(
            Ok(
                Event::new(EventKind::Remove(notify::event::RemoveKind::Folder))
                    .add_path(root.clone()),
            ),
            now,
        );
        assert!(w.rescan);
    }
}
