//! Sync: make the index match a corpus folder, incrementally.
//!
//! Each file's content hash and stamp (size and modification time) are stored with its
//! documents (fast columns). A full sync trusts an unchanged stamp without reading the file;
//! otherwise it reads and hashes the file and re-indexes it only if the hash changed. A file
//! whose stamp changed but whose content did not (a copy, a restore) is remembered with its new
//! stamp in the commit payload, so it is read once, not on every start-up. Documents of deleted
//! files are removed. All changes land in one commit, with the skip list and those stamps as
//! its payload: a crash before the commit leaves the previous commit intact, and the next sync
//! redoes the work.

use super::{BanshiIndex, FileState, IndexError};
use crate::corpus::{self, CorpusFile, Document, FieldMap, Skip};
use crate::schema::SCHEMA_VERSION;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};
use tantivy::{IndexWriter, TantivyDocument, Term};

/// Writer heap for all threads together.
const WRITER_HEAP: usize = 256 * 1024 * 1024;

/// What a sync did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SyncReport {
    /// Files found under the corpus root.
    pub files_seen: usize,
    /// Files new to the index.
    pub added: usize,
    /// Files whose content changed.
    pub updated: usize,
    /// Files no longer on disk.
    pub removed: usize,
    /// Files unchanged since the last sync.
    pub unchanged: usize,
    /// Files and records not indexed, with reasons.
    pub skipped: Vec<Skip>,
    /// Documents in the index after the sync.
    pub docs: u64,
    /// Bytes read from the corpus.
    pub bytes_read: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Whether a commit was made.
    pub committed: bool,
}

impl SyncReport {
    /// The one-line summary the CLI prints.
    pub fn summary(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        format!(
            "{} files seen: {} added, {} updated, {} removed, {} unchanged, {} skipped; {} documents; {:.2} s, {:.1} MB/s",
            self.files_seen,
            self.added,
            self.updated,
            self.removed,
            self.unchanged,
            self.skipped.len(),
            self.docs,
            secs,
            self.bytes_read as f64 / 1_048_576.0 / secs.max(1e-6)
        )
    }
}

/// The one owner of the index writer.
pub struct Syncer {
    index: BanshiIndex,
    writer: IndexWriter,
    /// Skips by file path (the file's own skip and its records' skips).
    skipped: BTreeMap<String, Vec<Skip>>,
    /// See [`super::Payload::restamped`]; kept in every commit's payload.
    restamped: Restamped,
}

/// Observer of sync progress (a progress bar on a terminal).
pub trait Progress {
    /// Total number of files, once known.
    fn start(&self, _files: u64) {}
    /// One more file handled.
    fn inc(&self) {}
}

impl Progress for () {}

impl Syncer {
    /// Take the index writer. Fails with [`IndexError::Locked`] if another process holds it.
    pub fn open(index: BanshiIndex) -> Result<Syncer, IndexError> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        let writer = match index
            .tantivy()
            .writer_with_num_threads(threads, WRITER_HEAP)
        {
            Ok(w) => w,
            Err(tantivy::TantivyError::LockFailure(_, _)) => {
                return Err(IndexError::Locked(index.dir().to_path_buf()))
            }
            Err(e) => return Err(e.into()),
        };
        let (skipped, restamped) = committed_state(&index);
        Ok(Syncer {
            index,
            writer,
            skipped,
            restamped,
        })
    }

    /// The index being written.
    pub fn index(&self) -> &BanshiIndex {
        &self.index
    }

    /// Current skip list.
    pub fn skipped(&self) -> Vec<Skip> {
        self.skipped.values().flatten().cloned().collect()
    }

    /// Sync the whole corpus folder (see the module docs) and commit.
    pub fn full_sync(
        &mut self,
        root: &Path,
        progress: &dyn Progress,
    ) -> Result<SyncReport, IndexError> {
        let t0 = Instant::now();
        let map = FieldMap::load(root)?;
        let (files, walk_skips) = corpus::walk(root)?;
        progress.start(files.len() as u64);
        let known = self.known_hashes()?;
        let mut report = SyncReport {
            files_seen: files.len(),
            ..Default::default()
        };
        let mut previous = std::mem::take(&mut self.skipped);
        // Rebuilt from the files seen: entries of deleted files go.
        let restamped = std::mem::take(&mut self.restamped);
        for s in walk_skips {
            self.skipped.entry(s.path.clone()).or_default().push(s);
        }
        let mut seen = std::collections::HashSet::with_capacity(files.len());
        for f in &files {
            seen.insert(f.rel.as_str());
            let unchanged_before = report.unchanged;
            let k = known.get(&f.rel).copied();
            if let Some(&r) = restamped.get(&f.rel) {
                self.restamped.insert(f.rel.clone(), r);
            }
            if let Err(e) = self.sync_file(f, &map, k, true, &mut report) {
                return Err(self.abandon(e));
            }
            if report.unchanged > unchanged_before {
                // Unchanged file: its record-level skips still stand.
                if let Some(s) = previous.remove(&f.rel) {
                    self.skipped.insert(f.rel.clone(), s);
                }
            }
            progress.inc();
        }
        for path in known.keys() {
            if !seen.contains(path.as_str()) {
                self.writer
                    .delete_term(Term::from_field_text(self.index.fields().path, path));
                report.removed += 1;
            }
        }
        self.finish(report, t0).map_err(|e| self.abandon(e))
    }

    /// Sync just these relative paths (created, changed or deleted files) and commit.
    pub fn sync_paths(&mut self, root: &Path, rels: &[String]) -> Result<SyncReport, IndexError> {
        let t0 = Instant::now();
        let map = FieldMap::load(root)?;
        // Each path is looked up alone: a batch names a few files of a possibly huge index.
        let searcher = self.committed()?;
        let mut report = SyncReport::default();
        for rel in rels {
            // A failed lookup after earlier files of the batch went to the writer must not
            // leave them for the next commit: abandon the batch like any failed sync.
            let known = match self.index.file_state(&searcher, rel) {
                Ok(k) => k,
                Err(e) => return Err(self.abandon(e)),
            };
            let abs = root.join(rel);
            // An entry that exists but cannot be read as a file (a dangling link, say) is
            // synced too, so it is reported as skipped with its reason instead of vanishing.
            let present = abs.is_file() || (abs.symlink_metadata().is_ok() && !abs.is_dir());
            if present {
                report.files_seen += 1;
                let f = CorpusFile {
                    rel: rel.clone(),
                    abs,
                };
                // An event says the file changed: read it, whatever its stamp says.
                if let Err(e) = self.sync_file(&f, &map, known, false, &mut report) {
                    return Err(self.abandon(e));
                }
            } else {
                self.skipped.remove(rel);
                self.restamped.remove(rel);
                if known.is_some() {
                    self.writer
                        .delete_term(Term::from_field_text(self.index.fields().path, rel));
                    report.removed += 1;
                }
            }
        }
        self.finish(report, t0).map_err(|e| self.abandon(e))
    }

    /// `add_document` only says "an index writer was killed"; the cause (ENOSPC, say) is in
    /// the worker threads, which `prepare_commit` joins and reports. Nothing is committed here:
    /// a prepared commit, should one come back, is aborted.
    fn why_writer_died(&mut self, e: tantivy::TantivyError) -> IndexError {
        match self.writer.prepare_commit() {
            Err(cause) => cause.into(),
            Ok(prepared) => {
                prepared.abort().ok();
                e.into()
            }
        }
    }

    /// A sync failed half-way (disk full, I/O error): drop its uncommitted changes and get a
    /// working writer back, so the next sync — after the operator frees space — starts clean.
    /// The index on disk never saw any of it: only a commit publishes segments.
    fn abandon(&mut self, e: IndexError) -> IndexError {
        tracing::error!(error = %e, "sync failed; rolling back to the last commit");
        if let Err(r) = self.writer.rollback() {
            tracing::error!(error = %r, "rollback failed; syncs fail until restart");
        }
        (self.skipped, self.restamped) = committed_state(&self.index);
        e
    }

    /// The index as of the last commit (what the files' known states are read from). A
    /// reader of its own, reloaded by nobody: the default one would start watching the
    /// index folder for every sync.
    pub fn committed(&self) -> Result<tantivy::Searcher, IndexError> {
        let reader = self
            .index
            .tantivy()
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()?;
        Ok(reader.searcher())
    }

    fn known_hashes(&self) -> Result<HashMap<String, FileState>, IndexError> {
        self.index.file_states(&self.committed()?)
    }

    fn sync_file(
        &mut self,
        f: &CorpusFile,
        map: &FieldMap,
        known: Option<FileState>,
        trust_stamp: bool,
        report: &mut SyncReport,
    ) -> Result<(), IndexError> {
        // Same size and modification time as when it was indexed, or as when it was last
        // found unchanged: unchanged, without reading it (as git's index does). A full sync at
        // start-up then costs a `stat` per file.
        let stamp = file_stamp(&f.abs);
        let restamp = self.restamped.get(&f.rel).copied();
        if trust_stamp
            && stamp != 0
            && known.is_some_and(|k| k.stamp == stamp || restamp == Some((stamp, k.hash)))
        {
            report.unchanged += 1;
            return Ok(());
        }
        let bytes = match corpus::read_limited(&f.abs) {
            Ok(b) => b,
            Err(reason) => {
                self.skip_file(f, reason);
                return Ok(());
            }
        };
        report.bytes_read += bytes.len() as u64;
        let hash = content_hash(&bytes);
        if let Some(k) = known.filter(|k| k.hash == hash) {
            report.unchanged += 1;
            // New stamp, same content: remember the stamp, or every later sync reads it again.
            if stamp != 0 && stamp != k.stamp {
                self.restamped.insert(f.rel.clone(), (stamp, hash));
            } else {
                self.restamped.remove(&f.rel);
            }
            // A file whose records were skipped keeps those skips; one that loaded cleanly has none.
            return Ok(());
        }
        match corpus::load_bytes(&f.rel, &bytes, map) {
            Ok(loaded) => {
                self.skipped.remove(&f.rel);
                // The new documents carry the new stamp.
                self.restamped.remove(&f.rel);
                if !loaded.skips.is_empty() {
                    self.skipped.insert(f.rel.clone(), loaded.skips);
                }
                let path_term = Term::from_field_text(self.index.fields().path, &f.rel);
                self.writer.delete_term(path_term);
                for d in loaded.docs {
                    // Fails only when the writer died (disk full, I/O error): stop the sync.
                    if let Err(e) = self.writer.add_document(self.to_tantivy(d, hash, stamp)) {
                        return Err(self.why_writer_died(e));
                    }
                }
                if known.is_some() {
                    report.updated += 1;
                } else {
                    report.added += 1;
                }
            }
            // The previous version, if any, stays searchable until the file is fixed.
            Err(reason) => self.skip_file(f, reason),
        }
        Ok(())
    }

    fn skip_file(&mut self, f: &CorpusFile, reason: String) {
        tracing::debug!(path = %f.rel, %reason, "skipped");
        self.skipped.insert(
            f.rel.clone(),
            vec![Skip {
                path: f.rel.clone(),
                reason,
            }],
        );
    }

    fn finish(&mut self, mut report: SyncReport, t0: Instant) -> Result<SyncReport, IndexError> {
        let mut payload = self.index.fresh_payload(self.skipped());
        payload.restamped = self.restamped.clone();
        let changed = report.added + report.updated + report.removed > 0;
        let prev = self.index.payload();
        if changed
            || prev.skipped != payload.skipped
            || prev.restamped != payload.restamped
            || prev.schema != SCHEMA_VERSION
        {
            let mut commit = self.writer.prepare_commit()?;
            commit.set_payload(&serde_json::to_string(&payload).expect("payload serializes"));
            commit.commit()?;
            report.committed = true;
        }
        report.skipped = payload.skipped;
        let reader = self.index.tantivy().reader()?;
        report.docs = reader.searcher().num_docs();
        report.elapsed = t0.elapsed();
        Ok(report)
    }

    /// Wait for background merges (before the process exits).
    pub fn close(self) -> Result<(), IndexError> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }

    /// Takes the document by value: its body goes to the index without a copy of the whole
    /// document for the stored JSON (see below).
    fn to_tantivy(&self, mut d: Document, hash: u64, stamp: u64) -> TantivyDocument {
        let f = self.index.fields();
        let mut doc = TantivyDocument::new();
        doc.add_text(f.id, &d.id);
        doc.add_text(f.path, &d.path);
        doc.add_u64(f.hash, hash);
        doc.add_u64(f.stamp, stamp);
        doc.add_text(f.kind, d.kind.as_str());
        doc.add_text(f.title, &d.title);
        doc.add_text(f.title_exact, &d.title);
        if let Some(c) = &d.code {
            doc.add_text(f.code, c);
        }
        doc.add_text(f.body, &d.body);
        for m in &d.materials {
            doc.add_text(f.materials, m);
        }
        for l in &d.legal_basis {
            doc.add_text(f.legal_basis, l);
        }
        for t in &d.tags {
            doc.add_text(f.tags, t);
        }
        if let Some(v) = &d.department {
            doc.add_text(f.department, v);
        }
        if let Some(v) = &d.region {
            doc.add_text(f.region, v);
        }
        for a in &d.audience {
            doc.add_text(f.audience, a);
        }
        if let Some(t) = d.time_limit_days {
            doc.add_u64(f.time_limit, t as u64);
        }
        if let Some(u) = &d.updated {
            doc.add_text(f.updated, u);
        }
        let group = crate::schema::version_group(
            d.kind.as_str(),
            &d.title,
            d.department.as_deref().unwrap_or(""),
            d.region.as_deref().unwrap_or(""),
            d.updated.as_deref().unwrap_or(""),
        );
        if let Some(g) = group {
            doc.add_u64(f.version_group, g);
        }
        doc.add_u64(f.title_actions, crate::schema::title_actions(&d.title));
        // The body goes in its own stored field (see `Fields::body_raw`), the rest as JSON.
        let body = std::mem::take(&mut d.body);
        doc.add_text(
            f.doc,
            serde_json::to_string(&d).expect("document serializes"),
        );
        doc.add_text(f.body_raw, body);
        doc
    }
}

/// Path → (stamp, content hash); see [`super::Payload::restamped`].
type Restamped = BTreeMap<String, (u64, u64)>;

/// The skips by file and the restamped files of the last commit's payload.
fn committed_state(index: &BanshiIndex) -> (BTreeMap<String, Vec<Skip>>, Restamped) {
    let payload = index.payload();
    let mut skipped: BTreeMap<String, Vec<Skip>> = BTreeMap::new();
    for s in payload.skipped {
        skipped
            .entry(file_of(&s.path).to_string())
            .or_default()
            .push(s);
    }
    (skipped, payload.restamped)
}

/// The file part of a skip path (`a.jsonl:3` → `a.jsonl`).
fn file_of(path: &str) -> &str {
    match path.rsplit_once(':') {
        Some((f, line)) if line.chars().all(|c| c.is_ascii_digit()) => f,
        _ => path,
    }
}

/// Size and modification time of a file as one number; 0 when unknown (never trusted).
///
/// A file modified less than a second ago also gets 0 ("racily clean", as git calls it): the
/// kernel's file clock is coarse, so a second same-size write within the same tick would
/// otherwise keep the stamp and be missed. Such a file is simply hashed again next time.
pub fn file_stamp(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    let Some(mtime) = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
    else {
        return 0;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    if now.saturating_sub(mtime) < Duration::from_secs(1) {
        return 0;
    }
    let mut h = blake3::Hasher::new();
    h.update(&meta.len().to_le_bytes());
    h.update(&mtime.as_nanos().to_le_bytes());
    let v = u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"));
    v.max(1)
}

/// Content hash stored per file.
pub fn content_hash(bytes: &[u8]) -> u64 {
    let h = blake3::hash(bytes);
    u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"))
}
