//! Index: the tantivy index on disk, its version stamp, and the sync of a corpus into it.
//!
//! Owns opening/creating the index with our tokenizers registered, detecting a schema or
//! dictionary change (then rebuilding instead of mixing analyses), and the commit payload that
//! records which files were skipped and why. Writes go through one [`sync::Syncer`], the only
//! owner of the `IndexWriter`.

pub mod sync;

use crate::analysis::{
    Analyzer, JiebaTokenizer, WholeTokenizer, CODE_TOKENIZER_NAME, TOKENIZER_NAME,
};
use crate::corpus::{CorpusError, Skip};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::directory::MmapDirectory;
use tantivy::{DocAddress, Index};

/// Errors of the index layer.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Another process (or writer) holds the index.
    #[error(
        "index {0} is locked by another process (is `banshi serve` or `banshi index` running?)"
    )]
    Locked(PathBuf),
    /// The index was written with another schema (an older or newer banshi).
    #[error(
        "index {0} was written by another version of banshi: run `banshi index` (or `banshi serve`) to rebuild it"
    )]
    Outdated(PathBuf),
    /// The corpus could not be walked.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// File-system trouble with the index folder.
    #[error("index folder {path}: {source}")]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// tantivy failed (disk full, corrupt files …).
    #[error("index error: {0}{hint}", hint = disk_full_hint(.0))]
    Tantivy(tantivy::TantivyError),
}

// Not `#[from]`: that would also make it the error's `source`, and `{:#}` printing would say
// everything twice.
impl From<tantivy::TantivyError> for IndexError {
    fn from(e: tantivy::TantivyError) -> Self {
        IndexError::Tantivy(e)
    }
}

/// Operators meet ENOSPC as a tantivy "internal error": say what it means and what is safe.
fn disk_full_hint(e: &tantivy::TantivyError) -> &'static str {
    if e.to_string().contains("No space left on device") {
        " — the disk is full; the index is unchanged at its last commit: free space and run again"
    } else {
        ""
    }
}

/// The first document of `docs` not deleted in `seg`.
fn first_alive(
    seg: &tantivy::SegmentReader,
    docs: &mut impl tantivy::DocSet,
) -> Option<tantivy::DocId> {
    let mut doc = docs.doc();
    while doc != tantivy::TERMINATED && seg.is_deleted(doc) {
        doc = docs.advance();
    }
    (doc != tantivy::TERMINATED).then_some(doc)
}

/// An I/O error of reading an index file, as the tantivy error it is.
fn io_error(e: std::io::Error) -> IndexError {
    IndexError::Tantivy(e.into())
}

/// What the index knows of one corpus file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileState {
    /// Content hash (`sync::content_hash`).
    pub hash: u64,
    /// Size and modification time when it was read (`sync::file_stamp`); 0 if unknown.
    pub stamp: u64,
}

/// What each commit records besides the documents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Payload {
    /// Schema version that wrote the index.
    pub schema: u32,
    /// Analyzer fingerprint that wrote the index.
    pub analyzer: String,
    /// Files (and records) skipped at the last sync, with reasons.
    #[serde(default)]
    pub skipped: Vec<Skip>,
    /// Unix time of the commit, in milliseconds.
    #[serde(default)]
    pub committed_at_ms: u64,
    /// Files whose stamp changed while their content did not (copied, restored, touched):
    /// path → (stamp now, content hash). Their documents keep the old stamp; this lets the next
    /// sync trust the new one instead of reading and hashing the file on every start-up.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub restamped: BTreeMap<String, (u64, u64)>,
}

/// The opened index with its fields and analyzer.
#[derive(Clone)]
pub struct BanshiIndex {
    index: Index,
    fields: Fields,
    analyzer: Arc<Analyzer>,
    dir: PathBuf,
}

/// Files tantivy writes in an index folder; a rebuild removes exactly these.
fn is_tantivy_file(name: &str) -> bool {
    name == "meta.json"
        || name == ".managed.json"
        || name.ends_with(".lock")
        || [
            ".idx",
            ".pos",
            ".term",
            ".store",
            ".fast",
            ".fieldnorm",
            ".del",
            ".tmp",
        ]
        .iter()
        .any(|e| name.ends_with(e))
}

impl BanshiIndex {
    /// Open the index in `dir`, creating it (and the folder) if needed. If it was written by
    /// another schema version or dictionary, it is rebuilt empty: the next sync re-indexes
    /// everything. Returns whether that happened.
    pub fn open_or_create(
        dir: &Path,
        analyzer: Arc<Analyzer>,
    ) -> Result<(BanshiIndex, bool), IndexError> {
        let io = |source| IndexError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut rebuilt = false;
        if dir.join("meta.json").exists() {
            let stale = match Self::open_dir(dir, analyzer.clone()) {
                Ok(idx) => {
                    let p = idx.payload();
                    !(p.schema == SCHEMA_VERSION && p.analyzer == analyzer.fingerprint())
                }
                Err(IndexError::Outdated(_)) => true,
                Err(IndexError::Tantivy(e)) => {
                    tracing::warn!(error = %e, "index unreadable, rebuilding");
                    true
                }
                Err(e) => return Err(e),
            };
            if !stale {
                return Ok((Self::open_dir(dir, analyzer)?, false));
            }
            tracing::info!(dir = %dir.display(), "schema or dictionary changed: rebuilding the index");
            for entry in std::fs::read_dir(dir).map_err(io)? {
                let entry = entry.map_err(io)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_tantivy_file(&name) {
                    std::fs::remove_file(entry.path()).map_err(io)?;
                }
            }
            rebuilt = true;
        }
        let mmap = MmapDirectory::open(dir).map_err(|e| IndexError::Tantivy(e.into()))?;
        let index = Index::create(mmap, schema::build(), Default::default())?;
        let idx = Self::wrap(index, dir, analyzer);
        // Stamp the empty index at once, so that it is recognised as ours on the next open.
        let mut writer: tantivy::IndexWriter = idx.index.writer_with_num_threads(1, 15_000_000)?;
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(
            &serde_json::to_string(&idx.fresh_payload(Vec::new())).expect("payload serializes"),
        );
        commit.commit()?;
        drop(writer);
        Ok((idx, rebuilt))
    }

    /// Open an existing index (for searching).
    pub fn open(dir: &Path, analyzer: Arc<Analyzer>) -> Result<BanshiIndex, IndexError> {
        Self::open_dir(dir, analyzer)
    }

    fn open_dir(dir: &Path, analyzer: Arc<Analyzer>) -> Result<BanshiIndex, IndexError> {
        let index = Index::open_in_dir(dir)?;
        // Checked before anything resolves fields: an index from another schema version
        // (a field added since, say) must be rebuilt, not crash the field lookup.
        if index.schema() != schema::build() {
            return Err(IndexError::Outdated(dir.to_path_buf()));
        }
        Ok(Self::wrap(index, dir, analyzer))
    }

    fn wrap(index: Index, dir: &Path, analyzer: Arc<Analyzer>) -> BanshiIndex {
        index
            .tokenizers()
            .register(TOKENIZER_NAME, JiebaTokenizer::new(analyzer.clone()));
        index
            .tokenizers()
            .register(CODE_TOKENIZER_NAME, WholeTokenizer::default());
        let fields = Fields::new(&index.schema());
        BanshiIndex {
            index,
            fields,
            analyzer,
            dir: dir.to_path_buf(),
        }
    }

    /// The tantivy index.
    pub fn tantivy(&self) -> &Index {
        &self.index
    }
    /// Field handles.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }
    /// The analyzer the index was opened with.
    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }
    /// The index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A payload for a commit made now by this schema and analyzer.
    pub fn fresh_payload(&self, skipped: Vec<Skip>) -> Payload {
        Payload {
            schema: SCHEMA_VERSION,
            analyzer: self.analyzer.fingerprint().to_string(),
            skipped,
            committed_at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            restamped: BTreeMap::new(),
        }
    }

    /// The payload of the last commit (default if none yet).
    pub fn payload(&self) -> Payload {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default()
    }

    /// Bytes of the index files on disk.
    pub fn size_bytes(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok()?.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// path → content hash of every indexed file, read from fast columns.
    pub fn file_hashes(
        &self,
        searcher: &tantivy::Searcher,
    ) -> Result<HashMap<String, u64>, IndexError> {
        Ok(self
            .file_states(searcher)?
            .into_iter()
            .map(|(p, s)| (p, s.hash))
            .collect())
    }

    /// path → content hash and size/mtime stamp of every indexed file, from fast columns.
    /// The path dictionary is streamed once per segment: one `ord_to_str` per document
    /// decompresses a dictionary block each time, which dominated start-up at 100k files.
    pub fn file_states(
        &self,
        searcher: &tantivy::Searcher,
    ) -> Result<HashMap<String, FileState>, IndexError> {
        let mut out = HashMap::new();
        for seg in searcher.segment_readers() {
            let ff = seg.fast_fields();
            let (Some(paths), Ok(hashes)) =
                (ff.str(schema::names::PATH)?, ff.u64(schema::names::HASH))
            else {
                continue;
            };
            let stamps = ff.u64(schema::names::STAMP).ok();
            let mut names = vec![String::new(); paths.num_terms()];
            let mut stream = paths.dictionary().stream().map_err(io_error)?;
            while stream.advance() {
                if let Some(slot) = names.get_mut(stream.term_ord() as usize) {
                    *slot = String::from_utf8_lossy(stream.key()).into_owned();
                }
            }
            for doc in seg.doc_ids_alive() {
                let Some(ord) = paths.term_ords(doc).next() else {
                    continue;
                };
                let (Some(name), Some(hash)) = (names.get(ord as usize), hashes.first(doc)) else {
                    continue;
                };
                let stamp = stamps.as_ref().and_then(|s| s.first(doc)).unwrap_or(0);
                out.insert(name.clone(), FileState { hash, stamp });
            }
        }
        Ok(out)
    }

    /// What the index knows of the one file `rel`, looked up in the path postings: a watcher
    /// batch names a few files, and building [`BanshiIndex::file_states`] for it read every
    /// document's path, 0.15–0.2 s per save at a million documents.
    pub fn file_state(
        &self,
        searcher: &tantivy::Searcher,
        rel: &str,
    ) -> Result<Option<FileState>, IndexError> {
        let term = tantivy::Term::from_field_text(self.fields.path, rel);
        for seg in searcher.segment_readers() {
            let Some(mut docs) = seg
                .inverted_index(self.fields.path)?
                .read_postings(&term, tantivy::schema::IndexRecordOption::Basic)
                .map_err(io_error)?
            else {
                continue;
            };
            // A file's documents carry the same hash and stamp: the first live one answers.
            let Some(doc) = first_alive(seg, &mut docs) else {
                continue;
            };
            let ff = seg.fast_fields();
            let Some(hash) = ff.u64(schema::names::HASH)?.first(doc) else {
                continue;
            };
            let stamp = ff
                .u64(schema::names::STAMP)
                .ok()
                .and_then(|s| s.first(doc))
                .unwrap_or(0);
            return Ok(Some(FileState { hash, stamp }));
        }
        Ok(None)
    }

    /// Every indexed file under the folder `prefix` (relative, `/`-separated), sorted: a range
    /// of the path term dictionary, not a pass over every document.
    pub fn paths_under(
        &self,
        searcher: &tantivy::Searcher,
        prefix: &str,
    ) -> Result<Vec<String>, IndexError> {
        let from = format!("{}/", prefix.trim_end_matches('/'));
        // Just past every path starting with `from`: its last byte ('/') plus one.
        let mut to = from.clone().into_bytes();
        *to.last_mut().expect("ends with '/'") += 1;
        let mut out = std::collections::BTreeSet::new();
        for seg in searcher.segment_readers() {
            let inverted = seg.inverted_index(self.fields.path)?;
            let mut terms = inverted
                .terms()
                .range()
                .ge(from.as_bytes())
                .lt(&to)
                .into_stream()
                .map_err(io_error)?;
            while terms.advance() {
                // Paths whose documents are all deleted (an updated or removed file) are gone.
                let mut docs = inverted
                    .read_postings_from_terminfo(
                        terms.value(),
                        tantivy::schema::IndexRecordOption::Basic,
                    )
                    .map_err(io_error)?;
                if first_alive(seg, &mut docs).is_some() {
                    out.insert(String::from_utf8_lossy(terms.key()).into_owned());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The stored document `doc` of the segment whose store is `store`, read from its raw
    /// stored bytes: the document without its body, and the body still as bytes. tantivy's own
    /// decoding checks and copies every stored string, and a hit on a law did that to its
    /// whole body (often tens of KB) to show 120 characters of it: a third of a query's time
    /// on the real corpus went to checking UTF-8 alone. `None` if the bytes are not laid out
    /// as expected; [`Self::stored_doc`] then decodes it the usual way.
    pub fn stored_hit(
        &self,
        store: &tantivy::store::StoreReader,
        doc: tantivy::DocId,
    ) -> Option<StoredHit> {
        let bytes = store.get_document_bytes(doc).ok()?;
        let mut json = None;
        let mut body = None;
        for (field, range) in stored_texts(&bytes)? {
            if field == self.fields.doc.field_id() {
                json = Some(range);
            } else if field == self.fields.body_raw.field_id() {
                body = Some(range);
            }
        }
        let doc: crate::corpus::HitDoc = serde_json::from_slice(&bytes[json?]).ok()?;
        Some(StoredHit {
            doc,
            body: StoredBody { bytes, range: body },
        })
    }

    /// Decode the stored document at `addr`.
    pub fn stored_doc(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
    ) -> Option<crate::corpus::Document> {
        use tantivy::schema::Value;
        let d: tantivy::TantivyDocument = searcher.doc(addr).ok()?;
        let json = d.get_first(self.fields.doc)?.as_str()?;
        let mut doc: crate::corpus::Document = serde_json::from_str(json).ok()?;
        if let Some(body) = d.get_first(self.fields.body_raw).and_then(|v| v.as_str()) {
            doc.body = body.to_string();
        }
        Some(doc)
    }
}

/// A stored document read for a hit (see [`BanshiIndex::stored_hit`]).
pub struct StoredHit {
    /// What the hit shows of the document.
    pub doc: crate::corpus::HitDoc,
    /// Its body.
    pub body: StoredBody,
}

/// A stored body as the store holds it: a slice of the store's cached block, not a copy.
pub struct StoredBody {
    bytes: tantivy::directory::OwnedBytes,
    range: Option<std::ops::Range<usize>>,
}

impl StoredBody {
    /// The body checked as UTF-8: empty if the document has none, `None` if it is not UTF-8.
    /// Checked with SIMD: the standard library's check of the real corpus's hits made their
    /// queries 1.7-2.2x slower.
    pub fn text(&self) -> Option<&str> {
        match &self.range {
            Some(r) => simdutf8::basic::from_utf8(&self.bytes[r.clone()]).ok(),
            None => Some(""),
        }
    }
}

/// tantivy's type code of a stored text value.
const TEXT_CODE: u8 = 0;

/// The text values of a stored document's bytes as (field id, byte range), in tantivy's
/// layout: a vint count, then per value a little-endian `u32` field id, a type code, a vint
/// length and the bytes. `None` at anything else: a value of another type, a length past the
/// end, bytes left over. Our stored fields are all text.
fn stored_texts(bytes: &[u8]) -> Option<Vec<(u32, std::ops::Range<usize>)>> {
    let mut at = 0;
    let n = vint(bytes, &mut at)?;
    let mut out = Vec::with_capacity(n.min(16) as usize);
    for _ in 0..n {
        let field = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        if *bytes.get(at)? != TEXT_CODE {
            return None;
        }
        at += 1;
        let len = usize::try_from(vint(bytes, &mut at)?).ok()?;
        let end = at.checked_add(len).filter(|&e| e <= bytes.len())?;
        out.push((field, at..end));
        at = end;
    }
    (at == bytes.len()).then_some(out)
}

/// tantivy's vint at `*at` (seven bits a byte, least significant first, the last byte marked
/// by its high bit), moving `*at` past it.
fn vint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 != 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tantivy's vint of `v` (see [`vint`]).
    fn vint_bytes(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b | 0x80);
                return out;
            }
            out.push(b);
        }
    }

    /// A stored document's bytes holding `values` as text.
    fn stored(values: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = vint_bytes(values.len() as u64);
        for (field, text) in values {
            out.extend(field.to_le_bytes());
            out.push(TEXT_CODE);
            out.extend(vint_bytes(text.len() as u64));
            out.extend(*text);
        }
        out
    }

    /// Lengths of one, two and three vint bytes read back; every truncation, a value of
    /// another type and trailing bytes are refused, never read past the end.
    #[test]
    fn stored_texts_read_the_layout_and_refuse_anything_else() {
        let long = "法".repeat(7_000);
        let values: [(u32, &[u8]); 3] = [(0, b"id-1"), (17, &[b'x'; 200]), (18, long.as_bytes())];
        let bytes = stored(&values);
        let got = stored_texts(&bytes).expect("parses");
        assert_eq!(got.len(), 3);
        for ((field, range), (want_field, want)) in got.into_iter().zip(values) {
            assert_eq!((field, &bytes[range]), (want_field, want));
        }
        for cut in 0..bytes.len() {
            assert_eq!(stored_texts(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(stored_texts(&longer), None);
        let mut other_type = stored(&[(0, b"id-1")]);
        other_type[5] = 1;
        assert_eq!(stored_texts(&other_type), None);
        assert_eq!(stored_texts(&[0xff; 12]), None);
        assert_eq!(stored_texts(&[0x7f; 12]), None);
        assert_eq!(stored_texts(&stored(&[])), Some(Vec::new()));
    }
}
