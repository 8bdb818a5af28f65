//! Version priors: which documents are superseded versions of another document.
//!
//! Among live documents with an `updated` date and the same kind, title (compared whole,
//! normalized), department and region, all but those with the latest date are superseded.
//! Documents without a date are never marked.
//!
//! Versions span segments, so the flags change whenever any segment does. What is expensive
//! (decoding four string columns and normalizing every title: ~0.1 s at 100k documents) is
//! done once per segment, which is immutable, and kept: each segment's dated documents become
//! `(doc, group id, date)` triples with group ids shared across segments. After a commit only
//! the new (small) segment is decoded, and the flags come from two passes over integers (dates
//! as ranks).
//!
//! A group is the ids of its four strings, interned once per distinct column value: keying
//! groups by one joined `String` per distinct (kind, title, department, region), as at first,
//! cost 0.3 s of the start-up at 100k documents.

use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::DocId;

use super::{column_map, column_terms};
use crate::analysis::whole_key;
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
    /// Interned strings (kinds, title keys, departments, regions) → id: a segment's column
    /// values are looked up once per distinct value, not once per document.
    strings: FxHashMap<String, u32>,
    /// Group key (the ids of kind, title key, department, region) → group id.
    groups: FxHashMap<[u32; 4], u32>,
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
            self.strings.clear();
            self.groups.clear();
            self.segments.clear();
        }
        for seg in searcher.segment_readers() {
            if !self.segments.contains_key(&seg.segment_id()) {
                let v = segment_versions(seg, &mut self.strings, &mut self.groups);
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

/// Decode one segment's dated documents, giving new strings and groups the next ids.
fn segment_versions(
    seg: &tantivy::SegmentReader,
    strings: &mut FxHashMap<String, u32>,
    groups: &mut FxHashMap<[u32; 4], u32>,
) -> SegmentVersions {
    let mut out = SegmentVersions {
        docs: Vec::new(),
        dates: Vec::new(),
    };
    let column = |name: &str| seg.fast_fields().str(name).ok().flatten();
    let (Some(updated), Some(title)) = (column(names::UPDATED), column(names::TITLE_EXACT)) else {
        return out;
    };
    let dates = column_terms(&updated);
    // Per column, segment ordinal → interned id; `u32::MAX`: a title without a key.
    let mut intern = |key: &str| match strings.get(key) {
        Some(&id) => id,
        None => {
            let id = strings.len() as u32;
            strings.insert(key.to_owned(), id);
            id
        }
    };
    let title_ids: Vec<u32> = column_map(&title, |t| match whole_key(t) {
        k if k.is_empty() => u32::MAX,
        k => intern(&k),
    });
    let group_columns = [names::KIND, names::DEPARTMENT, names::REGION].map(|name| {
        let col = column(name)?;
        let ids: Vec<u32> = column_map(&col, &mut intern);
        Some((col, ids))
    });
    // A document's id in a column: that of its first value; that of "" when it has none.
    let none = intern("");
    let id = |c: &Option<(tantivy::columnar::StrColumn, Vec<u32>)>, doc: DocId| {
        c.as_ref()
            .and_then(|(col, ids)| ids.get(col.term_ords(doc).next()? as usize))
            .copied()
            .unwrap_or(none)
    };
    for doc in 0..seg.max_doc() {
        let Some(date) = updated.term_ords(doc).next().map(|o| o as u32) else {
            continue;
        };
        if dates.get(date as usize).is_none_or(|d| d.is_empty()) {
            continue;
        }
        let Some(&title) = title
            .term_ords(doc)
            .next()
            .and_then(|t| title_ids.get(t as usize))
            .filter(|&&t| t != u32::MAX)
        else {
            continue;
        };
        let key = [
            id(&group_columns[0], doc),
            title,
            id(&group_columns[1], doc),
            id(&group_columns[2], doc),
        ];
        let next = groups.len() as u32;
        let group = *groups.entry(key).or_insert(next);
        out.docs.push((doc, group, date));
    }
    out.dates = dates;
    out
}
