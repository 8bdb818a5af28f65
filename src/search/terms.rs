//! A search's term dictionary lookups, each made once per segment.
//!
//! One search looks each of its terms up in every segment's dictionary several times: for its
//! document frequency (the plan's bounds and weights), for the words' bits (the tier checks
//! and the count), and again for each tier the conjunction executor runs. Each lookup takes
//! the segment's inverted index from tantivy's map (a lock and a hash) and walks its term
//! dictionary: 6 % of 社保卡丢了怎么补办's samples at 100k documents, on both cores. Segments
//! are immutable, so the first lookup's answer holds for the whole search.

use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};
use tantivy::index::{InvertedIndexReader, SegmentId};
use tantivy::postings::TermInfo;
use tantivy::schema::Field;
use tantivy::{SegmentReader, Term};

/// Per segment of one searcher snapshot: its inverted indexes and its terms' entries, as
/// read so far. Cheap to clone (shared); each segment has its own lock, so the segment
/// pool's threads, each on its own segment, never wait for each other. The default knows no
/// segment: it looks every term up in place (tests, passes outside a search).
#[derive(Clone, Default)]
pub(super) struct TermInfos(Arc<FxHashMap<SegmentId, Mutex<Segment>>>);

#[derive(Default)]
pub(super) struct Segment {
    inverted: FxHashMap<Field, Arc<InvertedIndexReader>>,
    infos: FxHashMap<Term, Option<TermInfo>>,
}

impl std::fmt::Debug for TermInfos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TermInfos({} segments)", self.0.len())
    }
}

impl TermInfos {
    /// Empty, for the segments of `searcher`.
    pub fn new(searcher: &tantivy::Searcher) -> TermInfos {
        TermInfos(Arc::new(
            searcher
                .segment_readers()
                .iter()
                .map(|s| (s.segment_id(), Mutex::default()))
                .collect(),
        ))
    }

    /// `term`'s inverted index in `reader`'s segment and its entry there (`None`: no document
    /// of the segment holds it). A segment of another snapshot is looked up in place.
    pub fn get(
        &self,
        reader: &SegmentReader,
        term: &Term,
    ) -> tantivy::Result<(Arc<InvertedIndexReader>, Option<TermInfo>)> {
        let Some(segment) = self.0.get(&reader.segment_id()) else {
            let inverted = reader.inverted_index(term.field())?;
            let info = inverted.get_term_info(term)?;
            return Ok((inverted, info));
        };
        let mut seg = segment.lock().unwrap_or_else(|e| e.into_inner());
        let inverted = match seg.inverted.get(&term.field()) {
            Some(i) => Arc::clone(i),
            None => {
                let i = reader.inverted_index(term.field())?;
                seg.inverted.insert(term.field(), Arc::clone(&i));
                i
            }
        };
        if let Some(info) = seg.infos.get(term) {
            return Ok((inverted, info.clone()));
        }
        let info = inverted.get_term_info(term)?;
        seg.infos.insert(term.clone(), info.clone());
        Ok((inverted, info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{doc, Index, IndexWriter};

    /// Every lookup, first and cached, answers as the segment's own dictionary does, for terms
    /// present in one segment, both or neither, in two fields; a segment of another snapshot
    /// is looked up in place.
    #[test]
    fn lookups_answer_as_the_segments_dictionary() {
        let mut s = Schema::builder();
        let (a, b) = (s.add_text_field("a", TEXT), s.add_text_field("b", TEXT));
        let index = Index::create_in_ram(s.build());
        let mut w: IndexWriter = index.writer(15_000_000).expect("writer");
        w.add_document(doc!(a => "x y", b => "y")).expect("add");
        w.add_document(doc!(a => "x x z")).expect("add");
        w.commit().expect("commit");
        w.add_document(doc!(a => "y", b => "z w")).expect("add");
        w.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let infos = TermInfos::new(&searcher);
        let terms: Vec<Term> = ["x", "y", "z", "w", "absent"]
            .iter()
            .flat_map(|t| [Term::from_field_text(a, t), Term::from_field_text(b, t)])
            .collect();
        let mut found = 0;
        for _ in 0..2 {
            for seg in searcher.segment_readers() {
                for t in &terms {
                    let want = seg.inverted_index(t.field()).unwrap().get_term_info(t);
                    let (inverted, got) = infos.get(seg, t).expect("lookup");
                    assert_eq!(got, want.unwrap(), "{t:?}");
                    let own = seg.inverted_index(t.field()).unwrap();
                    assert_eq!(inverted.terms().num_terms(), own.terms().num_terms());
                    found += usize::from(got.is_some());
                }
            }
        }
        // Per pass: a:x, a:y, a:z, b:y in the first segment; a:y, b:z, b:w in the second.
        assert_eq!(found, 2 * 7);

        w.add_document(doc!(a => "v")).expect("add");
        w.commit().expect("commit");
        let later = index.reader().expect("reader").searcher();
        let old: Vec<_> = searcher
            .segment_readers()
            .iter()
            .map(|s| s.segment_id())
            .collect();
        let new = later
            .segment_readers()
            .iter()
            .find(|s| !old.contains(&s.segment_id()))
            .expect("a new segment");
        let v = Term::from_field_text(a, "v");
        assert_eq!(
            infos.get(new, &v).expect("lookup").1.map(|i| i.doc_freq),
            Some(1)
        );
        let in_place = TermInfos::default().get(new, &v).expect("lookup");
        assert_eq!(in_place.1.map(|i| i.doc_freq), Some(1));
    }
}
