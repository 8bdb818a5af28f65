//! Version priors: which documents are superseded versions of another document.
//!
//! Among live documents with an `updated` date and the same kind, title (compared whole,
//! normalized), department and region, all but those with the latest date are superseded.
//! Documents without a date are never marked.
//!
//! Versions span segments, so the flags change whenever any segment does. A document's group
//! is derived when it is indexed (`schema::version_group`, a column: deriving it here from
//! four string columns, normalizing every title, cost ~0.4 s of a 1M-document start-up). Each
//! segment, which is immutable, is read once and kept: its dated documents become
//! `(doc, group id, date)` triples with group ids shared across segments. After a commit only
//! the new (small) segment is read, and the flags come from two passes over integers (dates
//! as ranks).

use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::DocId;

use super::column_terms;
use crate::schema::names;

/// The segments of a searcher and how many deletions each has.
type SegmentsKey = Vec<(SegmentId, u32)>;

/// Per segment, per document: whether it is a superseded version.
pub(crate) type SegmentFlags = Arc<HashMap<SegmentId, Arc<Vec<bool>>>>;

/// One segment's dated documents.
struct SegmentVersions {
    /// `(doc, group, date ordinal)`, for every document with a date and a title, deleted or not
    /// (deletions change without the segment changing; they are applied when flags are built).
    docs: Vec<(DocId, u32, u32)>,
    /// The segment's distinct dates, by ordinal.
    dates: Vec<String>,
}

/// The per-segment state kept between commits, and the flags of the last set of segments.
#[derive(Default)]
pub(crate) struct Versions {
    /// Group key (`schema::version_group`) → group id.
    groups: FxHashMap<u64, u32>,
    segments: HashMap<SegmentId, SegmentVersions>,
    last: Option<(SegmentsKey, SegmentFlags)>,
}

impl Versions {
    /// The flags for the segments of `searcher`, decoding only segments not seen before.
    pub(crate) fn flags(&mut self, searcher: &tantivy::Searcher) -> SegmentFlags {
        let key: SegmentsKey = searcher
            .segment_readers()
            .iter()
            .map(|s| (s.segment_id(), s.num_deleted_docs()))
            .collect();
        if let Some((k, flags)) = &self.last {
            if *k == key {
                return flags.clone();
            }
        }
        self.segments
            .retain(|id, _| key.iter().any(|(live, _)| live == id));
        // Group ids of merged-away segments stay in the map; start over when they outnumber
        // the live ones, so the map stays proportional to the index.
        let entries: usize = self.segments.values().map(|s| s.docs.len()).sum();
        if self.groups.len() > 2 * entries + 4096 {
            self.groups.clear();
            self.segments.clear();
        }
        for seg in searcher.segment_readers() {
            if !self.segments.contains_key(&seg.segment_id()) {
                let v = segment_versions(seg, &mut self.groups);
                self.segments.insert(seg.segment_id(), v);
            }
        }
        let segments: Vec<(&tantivy::SegmentReader, &SegmentVersions)> = searcher
            .segment_readers()
            .iter()
            .filter_map(|seg| Some((seg, self.segments.get(&seg.segment_id())?)))
            .collect();
        // Dates compared as ranks among the live segments' distinct dates (a binary search
        // per segment's distinct date): the two passes below then compare integers.
        // Comparing the date strings themselves made every commit's flags cost ~75 ms at 1M
        // documents, on the watcher's path to a save being searchable.
        let mut all: Vec<&str> = segments
            .iter()
            .flat_map(|(_, v)| v.dates.iter().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        // Rank 0 is no date (never stored: undated documents are not kept).
        let ranks: Vec<Vec<u32>> = segments
            .iter()
            .map(|(_, v)| {
                v.dates
                    .iter()
                    .map(|d| all.binary_search(&d.as_str()).map_or(0, |i| i as u32 + 1))
                    .collect()
            })
            .collect();
        let rank = |ranks: &[u32], date: u32| ranks.get(date as usize).copied().unwrap_or(0);
        let mut newest: Vec<u32> = vec![0; self.groups.len()];
        for ((seg, v), ranks) in segments.iter().zip(&ranks) {
            for &(doc, group, date) in &v.docs {
                if seg.is_deleted(doc) {
                    continue;
                }
                let date = rank(ranks, date);
                if let Some(n) = newest.get_mut(group as usize) {
                    *n = (*n).max(date);
                }
            }
        }
        let mut flags = HashMap::new();
        for ((seg, v), ranks) in segments.iter().zip(&ranks) {
            let mut old = vec![false; seg.max_doc() as usize];
            for &(doc, group, date) in &v.docs {
                let date = rank(ranks, date);
                if newest.get(group as usize).is_some_and(|&n| date < n) && !seg.is_deleted(doc) {
                    old[doc as usize] = true;
                }
            }
            flags.insert(seg.segment_id(), Arc::new(old));
        }
        let flags: SegmentFlags = Arc::new(flags);
        self.last = Some((key, flags.clone()));
        flags
    }
}

/// Read one segment's dated documents, giving new groups the next ids.
fn segment_versions(
    seg: &tantivy::SegmentReader,
    groups: &mut FxHashMap<u64, u32>,
) -> SegmentVersions {
    let mut out = SegmentVersions {
        docs: Vec::new(),
        dates: Vec::new(),
    };
    let (Ok(Some(updated)), Ok(group)) = (
        seg.fast_fields().str(names::UPDATED),
        seg.fast_fields().u64(names::VERSION_GROUP),
    ) else {
        return out;
    };
    for doc in 0..seg.max_doc() {
        // Documents without a date or a title key have no group (see `schema::version_group`).
        let Some(key) = group.first(doc) else {
            continue;
        };
        let Some(date) = updated.term_ords(doc).next() else {
            continue;
        };
        let next = groups.len() as u32;
        let group = *groups.entry(key).or_insert(next);
        out.docs.push((doc, group, date as u32));
    }
    out.dates = column_terms(&updated);
    out
}
