//! The documents a tier matched, kept as bit sets so later tiers exclude them cheaply.
//!
//! Each tier of a plan excludes the documents of the tiers before it. Excluding them by their
//! queries evaluated those queries again for every candidate of the later tier: the any-word
//! tier of a long question, with most of the catalogue as candidates, seeked the all-words
//! conjunction (unions of five fields per word) at each one, which was the largest part of
//! such a question's time. A tier's pass collects its documents instead (a bit per document of
//! each segment, 12.5 KB per 100k documents), and a later tier excludes a bit set.

use std::collections::HashMap;
use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::query::{
    BitSetDocSet, ConstScorer, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentOrdinal, SegmentReader};

/// Documents per segment, as a query matching exactly them (with a constant score).
#[derive(Clone, Default)]
pub struct Docs {
    sets: Arc<HashMap<SegmentId, BitSet>>,
}

impl std::fmt::Debug for Docs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Docs({} documents)", self.len())
    }
}

impl Docs {
    /// How many documents.
    pub fn len(&self) -> u64 {
        self.sets.values().map(|s| s.len() as u64).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// These documents and `other`'s.
    pub fn union(&self, other: Docs) -> Docs {
        if self.sets.is_empty() {
            return other;
        }
        let mut sets: HashMap<SegmentId, BitSet> = (*self.sets).clone();
        let other = Arc::try_unwrap(other.sets).unwrap_or_else(|shared| (*shared).clone());
        for (id, set) in other {
            match sets.get_mut(&id) {
                Some(mine) => {
                    for doc in BitSetDocs::new(set) {
                        mine.insert(doc);
                    }
                }
                None => {
                    sets.insert(id, set);
                }
            }
        }
        Docs {
            sets: Arc::new(sets),
        }
    }
}

/// The documents of a bit set, in order.
struct BitSetDocs(BitSetDocSet);

impl BitSetDocs {
    fn new(set: BitSet) -> BitSetDocs {
        BitSetDocs(BitSetDocSet::from(set))
    }
}

impl Iterator for BitSetDocs {
    type Item = DocId;
    fn next(&mut self) -> Option<DocId> {
        let doc = self.0.doc();
        if doc == tantivy::TERMINATED {
            return None;
        }
        self.0.advance();
        Some(doc)
    }
}

impl Query for Docs {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for Docs {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.sets.get(&reader.segment_id()) {
            Some(set) => Box::new(ConstScorer::new(BitSetDocSet::from(set.clone()), boost)),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let hit = self
            .sets
            .get(&reader.segment_id())
            .is_some_and(|s| doc < s.max_value() && s.contains(doc));
        if hit {
            Ok(Explanation::new("Docs", 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} is not in the set"
            )))
        }
    }
}

/// Collects the matching documents as [`Docs`].
pub struct DocsCollector;

/// One segment's matches.
pub struct DocsSegment {
    id: SegmentId,
    set: BitSet,
}

impl Collector for DocsCollector {
    type Fruit = Docs;
    type Child = DocsSegment;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<DocsSegment> {
        Ok(DocsSegment {
            id: segment.segment_id(),
            set: BitSet::with_max_value(segment.max_doc()),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Docs>) -> tantivy::Result<Docs> {
        Ok(fruits
            .into_iter()
            .fold(Docs::default(), |all, one| all.union(one)))
    }
}

impl SegmentCollector for DocsSegment {
    type Fruit = Docs;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.set.insert(doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for &doc in docs {
            self.set.insert(doc);
        }
    }

    fn harvest(self) -> Docs {
        let mut sets = HashMap::new();
        if self.set.len() > 0 {
            sets.insert(self.id, self.set);
        }
        Docs {
            sets: Arc::new(sets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::Count;
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{doc, Index, IndexWriter, Term};

    #[test]
    fn collected_documents_exclude_exactly_themselves_across_segments() {
        let mut s = Schema::builder();
        let f = s.add_text_field("f", TEXT);
        let index = Index::create_in_ram(s.build());
        let mut w: IndexWriter = index.writer(15_000_000).expect("writer");
        // Two commits: two segments.
        for part in 0..2 {
            for i in 0..300u32 {
                let text = match i % 3 {
                    0 => "a b",
                    1 => "a",
                    _ => "b",
                };
                w.add_document(doc!(f => format!("{text} p{part}")))
                    .expect("add");
            }
            w.commit().expect("commit");
        }
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let term = |t: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, t),
                IndexRecordOption::Basic,
            ))
        };
        let first = searcher
            .search(&*term("a"), &DocsCollector)
            .expect("collect");
        assert_eq!(first.len(), 400);
        assert_eq!(searcher.search(&first, &Count).expect("count"), 400);
        let rest = BooleanQuery::new(vec![
            (Occur::Must, term("b")),
            (Occur::MustNot, Box::new(first.clone())),
        ]);
        // b without a: 100 per segment.
        let second = searcher.search(&rest, &DocsCollector).expect("collect");
        assert_eq!(second.len(), 200);
        let both = first.union(second);
        assert_eq!(both.len(), 600);
        assert_eq!(searcher.search(&both, &Count).expect("count"), 600);
        assert!(Docs::default().is_empty());
    }
}
