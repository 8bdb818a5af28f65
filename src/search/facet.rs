//! Facet counts: value → number of matching documents, read from a string fast column.

use std::collections::{BTreeMap, HashMap};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Counts the values of one string fast field over the matching documents.
pub struct StrCounts {
    field: &'static str,
}

impl StrCounts {
    /// Count `field`'s values.
    pub fn new(field: &'static str) -> Self {
        StrCounts { field }
    }
}

/// Per-segment counter: one slot per term ordinal, resolved to strings at harvest.
pub struct StrCountsSegment {
    column: Option<StrColumn>,
    counts: Vec<u64>,
}

impl Collector for StrCounts {
    type Fruit = BTreeMap<String, u64>;
    type Child = StrCountsSegment;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<StrCountsSegment> {
        let column = segment.fast_fields().str(self.field)?;
        let n = column.as_ref().map(|c| c.num_terms()).unwrap_or(0);
        Ok(StrCountsSegment {
            column,
            counts: vec![0; n],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<BTreeMap<String, u64>>,
    ) -> tantivy::Result<BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for f in fruits {
            for (k, v) in f {
                *out.entry(k).or_insert(0) += v;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for StrCountsSegment {
    type Fruit = BTreeMap<String, u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(c) = &self.column {
            // A multi-valued field (audience) may repeat a value: count each document once.
            let mut last = None;
            for ord in c.term_ords(doc) {
                if last != Some(ord) {
                    self.counts[ord as usize] += 1;
                }
                last = Some(ord);
            }
        }
    }

    fn harvest(self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let Some(c) = self.column else { return out };
        // One pass over the dictionary for all counted values (a lookup per value would
        // decompress a block each).
        let ords: Vec<u64> = (0..self.counts.len() as u64)
            .filter(|&o| self.counts[o as usize] > 0)
            .collect();
        let mut counts = ords.iter().map(|&o| self.counts[o as usize]);
        let _ = c.dictionary().sorted_ords_to_term_cb(&ords, |bytes| {
            let n = counts.next().unwrap_or(0);
            if let Ok(value) = std::str::from_utf8(bytes) {
                out.insert(value.to_string(), n);
            }
        });
        out
    }
}

/// Every distinct value of a string fast field across the index (to resolve partial filter
/// values such as `department:公安`).
pub fn all_values(searcher: &tantivy::Searcher, field: &str) -> Vec<String> {
    let mut seen: HashMap<String, ()> = HashMap::new();
    for seg in searcher.segment_readers() {
        if let Ok(Some(c)) = seg.fast_fields().str(field) {
            if let Ok(mut values) = c.dictionary().stream() {
                while values.advance() {
                    if let Ok(v) = std::str::from_utf8(values.key()) {
                        seen.insert(v.to_string(), ());
                    }
                }
            }
        }
    }
    let mut v: Vec<String> = seen.into_keys().collect();
    v.sort();
    v
}
