//! Dense terms' documents as bit sets, kept per segment.
//!
//! The passes that gather documents from posting blocks (the all-words conjunction's
//! matching, the count of totals and facets over a union of terms) decoded every posting of
//! every term they read, for every query. A colloquial question's words hold common terms
//! (补办, 办理 in bodies: a tenth to 95 % of a generated catalogue's documents), decoded again
//! by each query that names them. Segments are immutable, so a dense term's documents are
//! decoded once per segment into a bit set (`max_doc / 8` bytes) and OR'ed in afterwards:
//! what Lucene's query cache does for frequent filters, here for the common terms of
//! questions, which recur across different questions as well as the same one.
//!
//! Bit sets hold deleted documents too (as postings do); callers apply the alive set as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use tantivy::index::{InvertedIndexReader, SegmentId};
use tantivy::postings::TermInfo;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, SegmentReader, Term};

/// A term in at least one of this many of a segment's documents is kept as bits: its bit set
/// is then at most twice the size of its document list, and OR-ing it in is a word per 64
/// documents where decoding costs a few instructions per posting.
const DENSE_IN: u64 = 16;

/// At most this many terms are kept per segment (32 bytes per document: 3.2 MB over 100k
/// documents). The first dense terms asked for stay: the words questions share are
/// asked for early and often. A term past the cap is decoded, as before.
const MAX_KEPT: usize = 256;

/// The segments' kept bit sets (see [`DenseTerms`]).
pub type DenseCache = Arc<HashMap<SegmentId, Arc<DenseTerms>>>;

/// One segment's dense terms (see the module docs).
#[derive(Default)]
pub struct DenseTerms {
    kept: RwLock<HashMap<Term, Arc<[u64]>>>,
    /// Terms kept so far (read without the lock).
    count: AtomicUsize,
}

impl std::fmt::Debug for DenseTerms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DenseTerms({} kept)", self.count.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
thread_local! {
    /// Bit sets OR'ed in from the cache on this thread, for tests to see it used.
    pub(super) static USED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl DenseTerms {
    /// An empty cache for `_segment` (built lazily, see [`DenseTerms::or_into`]).
    pub fn new(_segment: &SegmentReader) -> DenseTerms {
        DenseTerms::default()
    }

    /// When `term` (found in `inverted` as `info`) is dense in its segment of `max_doc`
    /// documents: set the bit of each document holding it in `words` (a bit per document of
    /// the segment), from its kept bit set, decoding and keeping it the first time; true.
    /// Otherwise false, `words` untouched: the caller decodes a sparse term's postings as
    /// it needs them.
    pub fn or_into(
        &self,
        inverted: &InvertedIndexReader,
        term: &Term,
        info: &TermInfo,
        max_doc: DocId,
        words: &mut [u64],
    ) -> std::io::Result<bool> {
        if u64::from(info.doc_freq) * DENSE_IN < u64::from(max_doc) {
            return Ok(false);
        }
        let found = self
            .kept
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(term)
            .cloned();
        let bits = match found {
            Some(bits) => {
                #[cfg(test)]
                USED.with(|c| c.set(c.get() + 1));
                bits
            }
            // Full: the caller decodes what it needs, as without a cache.
            None if self.count.load(Ordering::Relaxed) >= MAX_KEPT => return Ok(false),
            None => {
                let mut own = vec![0u64; words.len()];
                set_all(inverted, info, &mut own)?;
                let own: Arc<[u64]> = own.into();
                let mut kept = self.kept.write().unwrap_or_else(|e| e.into_inner());
                if kept.len() < MAX_KEPT {
                    kept.insert(term.clone(), Arc::clone(&own));
                    self.count.store(kept.len(), Ordering::Relaxed);
                }
                own
            }
        };
        words.iter_mut().zip(bits.iter()).for_each(|(w, b)| *w |= b);
        Ok(true)
    }
}

/// Set the bit of each document holding `term` (found in `inverted` as `info`) in `words`, a
/// bit per document of its segment of `max_doc` documents: from its kept bits when `dense`
/// keeps them, else decoded.
pub fn set_term(
    dense: Option<&DenseTerms>,
    inverted: &InvertedIndexReader,
    term: &Term,
    info: &TermInfo,
    max_doc: DocId,
    words: &mut [u64],
) -> std::io::Result<()> {
    if let Some(d) = dense {
        if d.or_into(inverted, term, info, max_doc, words)? {
            return Ok(());
        }
    }
    set_all(inverted, info, words)
}

/// Set the bit of every document of the postings `info` points to in `inverted`.
pub fn set_all(
    inverted: &InvertedIndexReader,
    info: &TermInfo,
    words: &mut [u64],
) -> std::io::Result<()> {
    let mut block = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    while !block.docs().is_empty() {
        for &doc in block.docs() {
            if let Some(w) = words.get_mut(doc as usize / 64) {
                *w |= 1 << (doc % 64);
            }
        }
        block.advance();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, STRING};
    use tantivy::{doc, Index, IndexWriter};

    /// A dense term's bits, kept or not, are its postings; a sparse term is left to the
    /// caller; a deleted document stays in (callers apply the alive set); at most
    /// [`MAX_KEPT`] terms are kept, and terms past the cap are left to the caller.
    #[test]
    fn kept_bits_equal_the_postings() {
        let mut schema = Schema::builder();
        let f = schema.add_text_field("f", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut w: IndexWriter = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let n = 1000u32;
        for d in 0..n {
            let mut doc = tantivy::TantivyDocument::default();
            // "common" everywhere but every third document; "rare" in two; "c{k}" dense
            // terms for the cap.
            if d % 3 != 0 {
                doc.add_text(f, "common");
            }
            if d == 7 || d == 900 {
                doc.add_text(f, "rare");
            }
            for k in 0..(MAX_KEPT as u32 + 10) {
                if d % 8 == k % 8 {
                    doc.add_text(f, format!("c{k}"));
                }
            }
            w.add_document(doc).expect("add");
        }
        w.add_document(doc!(f => "common")).expect("add");
        w.commit().expect("commit");
        w.delete_term(Term::from_field_text(f, "common"));
        w.commit().expect("commit");
        let reader = index.reader().expect("reader");
        let searcher = reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        let seg = &searcher.segment_readers()[0];
        let inverted = seg.inverted_index(f).expect("inverted");
        let cache = DenseTerms::new(seg);
        let max_doc = seg.max_doc();
        let len = (max_doc as usize).div_ceil(64);
        let bits_of = |term: &str| -> (bool, Vec<u64>) {
            let t = Term::from_field_text(f, term);
            let info = inverted.get_term_info(&t).expect("read").expect("term");
            let mut words = vec![0u64; len];
            let dense = cache
                .or_into(&inverted, &t, &info, max_doc, &mut words)
                .expect("read");
            (dense, words)
        };
        let expected = |pred: &dyn Fn(u32) -> bool| -> Vec<u64> {
            let mut words = vec![0u64; len];
            for d in (0..max_doc).filter(|&d| pred(d)) {
                words[d as usize / 64] |= 1 << (d % 64);
            }
            words
        };
        let common = expected(&|d| d == n || d % 3 != 0);
        USED.with(|c| c.set(0));
        for _ in 0..3 {
            assert_eq!(bits_of("common"), (true, common.clone()));
        }
        assert_eq!(USED.with(|c| c.get()), 2, "kept after the first read");
        assert_eq!(bits_of("rare"), (false, vec![0u64; len]));
        // "common" and the first 255 of these fill the cache; the rest are left to the
        // caller, and the kept ones still answer.
        for k in 0..(MAX_KEPT as u32 + 10) {
            let want = expected(&|d| d < n && d % 8 == k % 8);
            let got = bits_of(&format!("c{k}"));
            if (k as usize) < MAX_KEPT - 1 {
                assert_eq!(got, (true, want), "c{k}");
            } else {
                assert_eq!(got, (false, vec![0u64; len]), "c{k}");
            }
        }
        assert_eq!(cache.count.load(Ordering::Relaxed), MAX_KEPT);
        USED.with(|c| c.set(0));
        assert_eq!(bits_of("c3"), (true, expected(&|d| d < n && d % 8 == 3)));
        assert_eq!(USED.with(|c| c.get()), 1);
    }
}
