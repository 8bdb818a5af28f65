//! Facet counts: value → number of matching documents, from string fast columns decoded once
//! per segment.

use crate::schema::names;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The facet fields, in the order [`FacetCounts`] reports them.
pub const FIELDS: [&str; 4] = [
    names::KIND,
    names::DEPARTMENT,
    names::REGION,
    names::AUDIENCE,
];

/// One facet field of one segment, decoded once: each document's value ordinals as a plain
/// array and the values by ordinal.
///
/// Counting through tantivy's columns decodes an optional index, a blockwise-linear block and
/// a zstd dictionary block per query; with 97 % of 100k documents matching a colloquial query
/// that was a fifth of its time. Segments are immutable, so this is built once per segment
/// (4–8 bytes per document and field) and shared by every query.
#[derive(Debug)]
struct FacetColumn {
    /// Shared, so a query's counts name values without copying them (a catalogue may have
    /// 100k distinct departments).
    values: Vec<Arc<str>>,
    ords: Ords,
}

/// Value ordinals per document.
#[derive(Debug)]
enum Ords {
    /// At most one value per document (kind, department, region): `ords[doc]`, [`NO_VALUE`]
    /// when none. One load per document: counting stayed the top of a 100k-document query
    /// profile (12 % of the mix) with the general layout below.
    Single(Vec<u32>),
    /// Any number of values out of at most 64 (audience: 个人, 法人): a bit per value ordinal.
    /// One load per document; the general layout below made audience the costliest field.
    Mask(Vec<u64>),
    /// Any number of values, CSR: `ords[starts[doc]..starts[doc + 1]]`.
    Multi { starts: Vec<u32>, ords: Vec<u32> },
}

/// Fields with fewer values than this are counted in small arrays on the stack (see
/// [`Ords::count`]).
const FEW: usize = 8;

/// A document without a value, in [`Ords::Single`].
pub const NO_VALUE: u32 = u32::MAX;

impl FacetColumn {
    fn load(segment: &SegmentReader, field: &str) -> FacetColumn {
        let max_doc = segment.max_doc() as usize;
        let Ok(Some(col)) = segment.fast_fields().str(field) else {
            // No value for any document: `count` skips documents past the end.
            return FacetColumn {
                values: Vec::new(),
                ords: Ords::Single(Vec::new()),
            };
        };
        let values: Vec<Arc<str>> = super::column_terms(&col)
            .into_iter()
            .map(Arc::from)
            .collect();
        let mut starts = Vec::with_capacity(max_doc + 1);
        let mut ords = Vec::with_capacity(max_doc);
        starts.push(0);
        for doc in 0..segment.max_doc() {
            let mut last = None;
            // A multi-valued field (audience) may repeat a value: count each document once.
            for ord in col.term_ords(doc) {
                if last != Some(ord) && (ord as usize) < values.len() {
                    ords.push(ord as u32);
                }
                last = Some(ord);
            }
            starts.push(ords.len() as u32);
        }
        let ords = Ords::from_csr(starts, ords, values.len());
        FacetColumn { values, ords }
    }
}

impl Ords {
    /// The cheapest layout for documents' value ordinals given as CSR (`ords[starts[doc]..
    /// starts[doc + 1]]`, each ordinal below `values`).
    fn from_csr(starts: Vec<u32>, ords: Vec<u32>, values: usize) -> Ords {
        if starts.windows(2).all(|w| w[1] - w[0] <= 1) {
            let mut single = vec![NO_VALUE; starts.len().saturating_sub(1)];
            for (doc, w) in starts.windows(2).enumerate() {
                if w[1] > w[0] {
                    single[doc] = ords[w[0] as usize];
                }
            }
            Ords::Single(single)
        } else if values <= 64 {
            let masks = starts
                .windows(2)
                .map(|w| {
                    ords[w[0] as usize..w[1] as usize]
                        .iter()
                        .fold(0u64, |m, &o| m | 1 << o)
                })
                .collect();
            Ords::Mask(masks)
        } else {
            Ords::Multi { starts, ords }
        }
    }

    /// Add the values of `docs` to `counts` (one slot per value ordinal).
    fn count(&self, docs: &[DocId], counts: &mut [u64]) {
        match self {
            // A field of few values (kind): neighbouring documents mostly share a value, and
            // each increment of one counter waited for the last. Four counters per value, one
            // per document of a group of four, are independent; the last slot takes documents
            // without a value.
            Ords::Single(ords) if counts.len() < FEW => {
                let mut lanes = [[0u32; FEW]; 4];
                let slot = |d: DocId| {
                    ords.get(d as usize)
                        .map_or(FEW - 1, |&o| (o as usize).min(FEW - 1))
                };
                let mut groups = docs.chunks_exact(4);
                for g in &mut groups {
                    for (lane, &d) in lanes.iter_mut().zip(g) {
                        lane[slot(d)] += 1;
                    }
                }
                for &d in groups.remainder() {
                    lanes[0][slot(d)] += 1;
                }
                for (v, c) in counts.iter_mut().enumerate() {
                    *c += lanes.iter().map(|l| u64::from(l[v])).sum::<u64>();
                }
            }
            Ords::Single(ords) => {
                for &d in docs {
                    if let Some(c) = ords
                        .get(d as usize)
                        .and_then(|&o| counts.get_mut(o as usize))
                    {
                        *c += 1;
                    }
                }
            }
            // Few values (individuals, legal persons): a branch-free add per value, where
            // walking the set bits mispredicted on every document.
            Ords::Mask(masks) if counts.len() < FEW => {
                let mut per = [0u32; FEW];
                for &d in docs {
                    let m = masks.get(d as usize).copied().unwrap_or(0);
                    for (v, c) in per.iter_mut().enumerate() {
                        *c += ((m >> v) & 1) as u32;
                    }
                }
                for (c, p) in counts.iter_mut().zip(per) {
                    *c += u64::from(p);
                }
            }
            Ords::Mask(masks) => {
                for &d in docs {
                    let mut m = masks.get(d as usize).copied().unwrap_or(0);
                    while m != 0 {
                        if let Some(c) = counts.get_mut(m.trailing_zeros() as usize) {
                            *c += 1;
                        }
                        m &= m - 1;
                    }
                }
            }
            Ords::Multi { starts, ords } => {
                for &d in docs {
                    let d = d as usize;
                    for &o in &ords[starts[d] as usize..starts[d + 1] as usize] {
                        counts[o as usize] += 1;
                    }
                }
            }
        }
    }
}

/// Every facet field of one segment (see [`FacetColumn`]).
#[derive(Debug)]
pub struct SegmentFacets {
    columns: [FacetColumn; 4],
}

impl SegmentFacets {
    /// Decode `segment`'s facet columns.
    pub fn load(segment: &SegmentReader) -> SegmentFacets {
        SegmentFacets {
            columns: FIELDS.map(|f| FacetColumn::load(segment, f)),
        }
    }

    /// Each document's kind as an ordinal into the returned values ([`NO_VALUE`] when it has
    /// none), for ranking priors: a plain array load per document, where tantivy's column
    /// decodes its index for each (a fifth of a broad query's ranking pass at 100k documents).
    pub fn kinds(&self) -> Option<(&[u32], &[Arc<str>])> {
        let kind = &self.columns[0];
        match &kind.ords {
            Ords::Single(ords) => Some((ords, &kind.values)),
            _ => None,
        }
    }
}

/// Per segment id, its decoded facets (see `Searcher::segment_facets`).
pub type FacetCache = Arc<HashMap<tantivy::index::SegmentId, Arc<SegmentFacets>>>;

/// Counts the matching documents and, for the chosen [`FIELDS`], each value's documents: all
/// of a query's facets in one pass.
#[derive(Clone)]
pub struct FacetCounts {
    segments: FacetCache,
    which: [bool; 4],
}

impl FacetCounts {
    /// Count the fields of [`FIELDS`] whose flag in `which` is set, using `segments` (segments
    /// missing from it are decoded on the fly).
    pub fn new(segments: FacetCache, which: [bool; 4]) -> Self {
        FacetCounts { segments, which }
    }

    /// The same counts over the documents `docs` instead of a query's matches: for a few
    /// documents already found, without searching again.
    pub fn count_docs(
        &self,
        searcher: &tantivy::Searcher,
        docs: &[tantivy::DocAddress],
    ) -> tantivy::Result<FacetFruit> {
        let mut fruits = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            // Most segments hold none of a few documents: no counter (one slot per value of
            // each field) for them.
            let mut mine = docs
                .iter()
                .filter(|d| d.segment_ord as usize == ord)
                .peekable();
            if mine.peek().is_none() {
                continue;
            }
            let mut child = self.for_segment(ord as SegmentOrdinal, segment)?;
            for d in mine {
                child.collect(d.doc_id, 0.0);
            }
            fruits.push(child.harvest());
        }
        self.merge_fruits(fruits)
    }
}

/// The answer: matching documents, and value → count per field of [`FIELDS`] (empty for the
/// fields not asked for).
pub type FacetFruit = (u64, [Counts; 4]);

/// Value → number of matching documents, every value that matched, sorted by value (a
/// segment's value ordinals are in value order, so a segment's counts come out sorted and
/// segments merge without hashing: hashing 100k department names per query was most of a
/// broad query's time on such a catalogue).
pub type Counts = Vec<(Arc<str>, u64)>;

/// Merge two sorted [`Counts`], adding the counts of a value present in both.
fn merge_counts(a: Counts, b: Counts) -> Counts {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match x.0.cmp(&y.0) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Greater => b.next(),
                std::cmp::Ordering::Equal => {
                    let (v, n) = a.next().expect("peeked");
                    let (_, m) = b.next().expect("peeked");
                    Some((v, n + m))
                }
            },
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
    out
}

/// The `n` values of `counts` with the most documents (ties: the smaller value first), and how
/// many values matched in all. A response lists only these: a province's catalogue has
/// thousands of departments, and listing all of them made a broad query's answer megabytes.
pub fn top(mut counts: Counts, n: usize) -> (BTreeMap<String, u64>, u64) {
    let distinct = counts.len() as u64;
    let order =
        |a: &(Arc<str>, u64), b: &(Arc<str>, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0));
    if counts.len() > n {
        if n > 0 {
            counts.select_nth_unstable_by(n - 1, order);
        }
        counts.truncate(n);
    }
    let top = counts
        .into_iter()
        .map(|(v, c)| (v.to_string(), c))
        .collect();
    (top, distinct)
}

/// Per-segment counter: one slot per value ordinal, resolved to strings at harvest.
pub struct FacetCountsSegment {
    facets: Arc<SegmentFacets>,
    which: [bool; 4],
    docs: u64,
    counts: [Vec<u64>; 4],
    /// Documents collected one at a time (a scored pass), counted a block at a time.
    pending: Vec<DocId>,
}

/// Documents [`FacetCountsSegment`] gathers before counting them (tantivy's block size).
const PENDING: usize = 64;

impl Collector for FacetCounts {
    type Fruit = FacetFruit;
    type Child = FacetCountsSegment;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FacetCountsSegment> {
        let facets = match self.segments.get(&segment.segment_id()) {
            Some(f) => f.clone(),
            None => Arc::new(SegmentFacets::load(segment)),
        };
        let counts = std::array::from_fn(|i| {
            if self.which[i] {
                vec![0; facets.columns[i].values.len()]
            } else {
                Vec::new()
            }
        });
        Ok(FacetCountsSegment {
            facets,
            which: self.which,
            docs: 0,
            counts,
            pending: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetFruit>) -> tantivy::Result<FacetFruit> {
        let mut out: FacetFruit = Default::default();
        for (docs, maps) in fruits {
            out.0 += docs;
            for (into, from) in out.1.iter_mut().zip(maps) {
                *into = merge_counts(std::mem::take(into), from);
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for FacetCountsSegment {
    type Fruit = FacetFruit;

    /// Gathered into blocks: a query that ranks hands documents over one by one, and four
    /// columns per document cost more than a column per block (户口's ranking pass over 61k
    /// matches at 100k documents: 1.81 ms, 1.40 ms in blocks).
    fn collect(&mut self, doc: DocId, _score: Score) {
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(PENDING);
        }
        self.pending.push(doc);
        if self.pending.len() == PENDING {
            let block = std::mem::take(&mut self.pending);
            self.collect_block(&block);
            self.pending = block;
            self.pending.clear();
        }
    }

    /// Field by field over the block (tantivy passes blocks when nothing needs a score): one
    /// column at a time stays in cache.
    fn collect_block(&mut self, docs: &[DocId]) {
        self.docs += docs.len() as u64;
        for (i, col) in self.facets.columns.iter().enumerate() {
            if self.which[i] {
                col.ords.count(docs, &mut self.counts[i]);
            }
        }
    }

    fn harvest(mut self) -> FacetFruit {
        let rest = std::mem::take(&mut self.pending);
        self.collect_block(&rest);
        let mut maps: [Counts; 4] = Default::default();
        for (i, counts) in self.counts.iter().enumerate() {
            let values = &self.facets.columns[i].values;
            maps[i] = counts
                .iter()
                .zip(values)
                .filter(|(&n, _)| n > 0)
                .map(|(&n, v)| (v.clone(), n))
                .collect();
        }
        (self.docs, maps)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents' values as CSR, from a list per document.
    fn csr(per_doc: &[Vec<u32>]) -> (Vec<u32>, Vec<u32>) {
        let mut starts = vec![0];
        let mut ords = Vec::new();
        for values in per_doc {
            ords.extend(values);
            starts.push(ords.len() as u32);
        }
        (starts, ords)
    }

    fn counts(pairs: &[(&str, u64)]) -> Counts {
        pairs.iter().map(|&(v, n)| (Arc::from(v), n)).collect()
    }

    /// Merging sorted counts adds what a map would add and stays sorted; `top` keeps the most
    /// frequent values, the smaller value first among ties, and counts every value.
    #[test]
    fn merged_counts_add_up_and_top_picks_the_most_frequent() {
        let mut a = counts(&[("乙", 2), ("丙", 1), ("甲", 5)]);
        a.sort();
        let b = counts(&[("丁", 3), ("乙", 4)]);
        let c = counts(&[("乙", 1), ("戊", 7)]);
        let mut merged = merge_counts(merge_counts(a.clone(), b.clone()), c.clone());
        let mut expected: BTreeMap<Arc<str>, u64> = BTreeMap::new();
        for (v, n) in a.into_iter().chain(b).chain(c) {
            *expected.entry(v).or_default() += n;
        }
        assert_eq!(merged, expected.clone().into_iter().collect::<Counts>());
        assert!(merged.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(merge_counts(Vec::new(), merged.clone()), merged);

        merged.push((Arc::from("己"), 5));
        let (two, distinct) = top(merged.clone(), 2);
        assert_eq!(distinct, 6);
        assert_eq!(two, BTreeMap::from([("戊".into(), 7), ("乙".into(), 7)]));
        let (three, _) = top(merged.clone(), 3);
        // 甲 and 己 tie at 5: the smaller value stays.
        assert!(three.contains_key("己") != three.contains_key("甲"));
        assert!(three.contains_key(std::cmp::min("己", "甲")));
        assert_eq!(top(merged.clone(), 0), (BTreeMap::new(), 6));
        assert_eq!(top(merged, 100).0.len(), 6);
    }

    /// Every layout counts what a plain loop over the lists counts, for any set of documents:
    /// one value or none (single), several of few values (bit masks), several of many (CSR).
    #[test]
    fn documents_collected_one_by_one_count_like_a_block() {
        // 150 documents (not a whole number of blocks), values cycling through 3 per field.
        let n = 150u32;
        let column = |k: u32| FacetColumn {
            values: (0..3)
                .map(|v| Arc::from(format!("v{v}").as_str()))
                .collect(),
            ords: Ords::Single((0..n).map(|d| (d / k) % 3).collect()),
        };
        let facets = Arc::new(SegmentFacets {
            columns: [column(1), column(2), column(5), column(7)],
        });
        let child = || FacetCountsSegment {
            facets: facets.clone(),
            which: [true; 4],
            docs: 0,
            counts: std::array::from_fn(|_| vec![0; 3]),
            pending: Vec::new(),
        };
        let docs: Vec<DocId> = (0..n).collect();
        let mut one_by_one = child();
        for &d in &docs {
            one_by_one.collect(d, 1.0);
        }
        let mut block = child();
        block.collect_block(&docs);
        let (a, b) = (one_by_one.harvest(), block.harvest());
        assert_eq!(a.0, 150);
        assert_eq!(a, b);
        // Field 0 cycles per document: 50 of each value.
        assert_eq!(a.1[0], counts(&[("v0", 50), ("v1", 50), ("v2", 50)]));
    }

    #[test]
    fn every_layout_counts_like_the_lists() {
        type Values = fn(u32) -> Vec<u32>;
        // Few and many values of each layout: few take their own paths.
        let cases: [(usize, Values); 5] = [
            (5, |d| if d % 3 == 0 { vec![] } else { vec![d % 5] }),
            (50, |d| if d % 3 == 0 { vec![] } else { vec![d % 50] }),
            (2, |d| (0..2).filter(|v| (d >> v) & 1 == 1).collect()),
            (20, |d| vec![d % 20, (d * 3 + 1) % 20]),
            (100, |d| vec![d % 100, (d * 7 + 1) % 100, 99]),
        ];
        let mut kinds = Vec::new();
        for (values, make) in cases {
            let per_doc: Vec<Vec<u32>> = (0..300).map(make).collect();
            let (starts, ords) = csr(&per_doc);
            let layout = Ords::from_csr(starts, ords, values);
            kinds.push(match layout {
                Ords::Single(_) => "single",
                Ords::Mask(_) => "mask",
                Ords::Multi { .. } => "csr",
            });
            for docs in [
                (0..300).collect::<Vec<u32>>(),
                (0..300).step_by(7).collect(),
                vec![299],
                vec![],
            ] {
                let mut expected = vec![0u64; values];
                for &d in &docs {
                    for &v in &per_doc[d as usize] {
                        expected[v as usize] += 1;
                    }
                }
                let mut got = vec![0u64; values];
                layout.count(&docs, &mut got);
                assert_eq!(got, expected, "{values} values, {} docs", docs.len());
            }
        }
        assert_eq!(kinds, ["single", "single", "mask", "mask", "csr"]);
    }
}
