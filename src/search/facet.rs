//! Facet counts: value → number of matching documents, from string fast columns decoded once
//! per segment.

use super::dense::DenseTerms;
use super::flatten;
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
    /// Each value's documents per [`WINDOW`] of the segment (deleted ones too), window by
    /// window: `windows[w * values.len() + v]`. Empty for fields of more than
    /// [`WINDOW_VALUES`] values. A window where most documents match is counted as these
    /// counts minus its documents that do not match (see [`FacetCountsSegment::flush`]).
    windows: Vec<u16>,
    /// Each value's documents as bits, value by value: `bits[v * words..(v + 1) * words]`,
    /// `words` a u64 per 64 documents of the segment. Empty for fields of more than
    /// [`BITS_VALUES`] values. A pass that has its matches as bits counts a value by
    /// AND-ing and popcounting (see [`FacetCountsSegment::collect_bits`]).
    bits: Vec<u64>,
}

/// Fields with more values keep no bits per value (a bit per document and value: 64 values
/// cost as much as the ordinals of [`Ords::Single`] twice over).
const BITS_VALUES: usize = 64;

/// Documents per window of [`FacetColumn::windows`].
const WINDOW: u32 = 4096;

/// Fields with more values keep no window counts (two bytes per value and window: a
/// department per 4 documents would cost as much as the ordinals themselves).
const WINDOW_VALUES: usize = 1024;

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
                windows: Vec::new(),
                bits: Vec::new(),
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
        let windows = ords.window_counts(values.len(), segment.max_doc());
        let bits = ords.value_bits(values.len(), segment.max_doc());
        FacetColumn {
            values,
            ords,
            windows,
            bits,
        }
    }

    /// Whether counting `n` documents given as `words` words of bits costs less from the
    /// value bits (a word per value and 64 documents) than document by document. A word's
    /// AND and popcount cost about a quarter of a document's count: over the mix at 100k
    /// documents the count phase took 13.7, 11.7, 10.7 and 10.6 ms with the bits used up to
    /// 1, 2, 4 and 8 words per document, no less beyond.
    fn counts_bits(&self, n: u64, words: usize) -> bool {
        !self.bits.is_empty() && (self.values.len() * words) as u64 <= 4 * n
    }

    /// Add each value's documents among `matched` (bits, a word per 64 documents) to
    /// `counts`, from the value bits.
    fn count_bits(&self, matched: &[u64], counts: &mut [u64]) {
        let words = matched.len();
        for (v, c) in counts.iter_mut().enumerate() {
            let Some(value) = self.bits.get(v * words..(v + 1) * words) else {
                break;
            };
            *c += matched
                .iter()
                .zip(value)
                .map(|(m, b)| u64::from((m & b).count_ones()))
                .sum::<u64>();
        }
    }
}

impl Ords {
    /// Each value's documents per [`WINDOW`] of `max_doc` documents, for layouts of at most
    /// [`WINDOW_VALUES`] values counted without the lists (see [`FacetColumn::windows`]).
    fn window_counts(&self, values: usize, max_doc: u32) -> Vec<u16> {
        if values == 0 || values > WINDOW_VALUES || matches!(self, Ords::Multi { .. }) {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(max_doc.div_ceil(WINDOW) as usize * values);
        let mut counts = vec![0u64; values];
        let mut docs: Vec<DocId> = Vec::with_capacity(WINDOW as usize);
        for start in (0..max_doc).step_by(WINDOW as usize) {
            docs.clear();
            docs.extend(start..max_doc.min(start + WINDOW));
            counts.fill(0);
            self.count(&docs, &mut counts);
            // At most WINDOW (4,096) documents per window: a u16 holds it.
            out.extend(counts.iter().map(|&c| c as u16));
        }
        out
    }

    /// Each value's documents as bits (see [`FacetColumn::bits`]), for layouts of at most
    /// [`BITS_VALUES`] values.
    fn value_bits(&self, values: usize, max_doc: u32) -> Vec<u64> {
        let words = (max_doc as usize).div_ceil(64);
        if values == 0 || values > BITS_VALUES {
            return Vec::new();
        }
        let mut bits = vec![0u64; values * words];
        let mut set = |v: usize, doc: usize| {
            if let Some(w) = bits.get_mut(v * words + doc / 64) {
                *w |= 1 << (doc % 64);
            }
        };
        match self {
            Ords::Single(ords) => {
                for (doc, &o) in ords.iter().enumerate() {
                    if (o as usize) < values {
                        set(o as usize, doc);
                    }
                }
            }
            Ords::Mask(masks) => {
                for (doc, &m) in masks.iter().enumerate() {
                    let mut m = m;
                    while m != 0 {
                        set(m.trailing_zeros() as usize, doc);
                        m &= m - 1;
                    }
                }
            }
            // More than 64 values (see `from_csr`): never here.
            Ords::Multi { .. } => return Vec::new(),
        }
        bits
    }

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
    max_doc: u32,
}

impl SegmentFacets {
    /// Decode `segment`'s facet columns.
    pub fn load(segment: &SegmentReader) -> SegmentFacets {
        SegmentFacets {
            columns: FIELDS.map(|f| FacetColumn::load(segment, f)),
            max_doc: segment.max_doc(),
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
            // In document order, as a search hands them over (the documents come by score).
            let mut mine: Vec<DocId> = mine.map(|d| d.doc_id).collect();
            mine.sort_unstable();
            for d in mine {
                child.collect(d, 0.0);
            }
            fruits.push(child.harvest());
        }
        self.merge_fruits(fruits)
    }

    /// One segment's counts over the documents of `query` (see [`flatten::Bits`]), gathered
    /// into a bit set from its terms' posting blocks (dense terms from `dense`, see
    /// [`DenseTerms`]), without scorers; merged as this collector's fruits. A colloquial
    /// question at 100k documents is a union of 20–100 terms matching 15–98k documents;
    /// tantivy's union scorer advances each term document by document through virtual
    /// calls, where a posting block decodes 128 documents at once: the pass of most slow
    /// questions took half the time.
    pub(super) fn count_bits_of(
        &self,
        ord: SegmentOrdinal,
        segment: &SegmentReader,
        query: &flatten::Bits,
        dense: Option<&DenseTerms>,
        infos: &super::terms::TermInfos,
    ) -> tantivy::Result<<FacetCountsSegment as SegmentCollector>::Fruit> {
        // A bit per document, set without tantivy's `BitSet`, which counts as it sets (a
        // dependency from one document to the next).
        let bits = query.read_segment(segment, dense, infos)?;
        self.count_matched(ord, segment, bits)
    }

    /// One segment's counts over the documents set in `bits` (a bit per document of the
    /// segment; deleted ones are dropped here).
    pub(super) fn count_matched(
        &self,
        ord: SegmentOrdinal,
        segment: &SegmentReader,
        mut bits: Vec<u64>,
    ) -> tantivy::Result<<FacetCountsSegment as SegmentCollector>::Fruit> {
        if let Some(alive) = segment.alive_bitset() {
            for (i, word) in bits.iter_mut().enumerate() {
                let mut set = *word;
                while set != 0 {
                    let at = set.trailing_zeros();
                    set &= set - 1;
                    if !alive.is_alive(i as DocId * 64 + at) {
                        *word &= !(1 << at);
                    }
                }
            }
        }
        let mut child = self.for_segment(ord, segment)?;
        child.collect_bits(&bits);
        Ok(child.harvest())
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
///
/// Documents are gathered a [`WINDOW`] at a time: four columns per document cost more than a
/// column per block (户口's ranking pass over 61k matches at 100k documents: 1.81 ms one by
/// one, 1.40 ms in blocks of 64), and a window where most documents match is counted from
/// the few that do not (see [`Self::flush`]).
pub struct FacetCountsSegment {
    facets: Arc<SegmentFacets>,
    which: [bool; 4],
    docs: u64,
    counts: [Vec<u64>; 4],
    /// The matching documents of window `window` collected so far (in document order when
    /// a search hands them over; sorted before counting otherwise).
    pending: Vec<DocId>,
    window: u32,
    /// The window's documents that do not match, and their counts (scratch, kept zeroed).
    missing: Vec<DocId>,
    missing_counts: Vec<u64>,
}

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
        Ok(FacetCountsSegment::new(facets, self.which))
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

impl FacetCountsSegment {
    /// A counter of the fields flagged in `which` over `facets`' segment.
    fn new(facets: Arc<SegmentFacets>, which: [bool; 4]) -> FacetCountsSegment {
        let counts = std::array::from_fn(|i| {
            if which[i] {
                vec![0; facets.columns[i].values.len()]
            } else {
                Vec::new()
            }
        });
        FacetCountsSegment {
            facets,
            which,
            docs: 0,
            counts,
            pending: Vec::new(),
            window: 0,
            missing: Vec::new(),
            missing_counts: Vec::new(),
        }
    }

    /// Count the gathered documents of the current window. Where they are most of the window,
    /// each field whose window counts are kept is counted as the window's counts minus the
    /// counts of the window's other documents: a colloquial query matching 98 % of a
    /// catalogue counts 2 % of it. Either way the result is exactly the gathered documents'
    /// counts, whatever was counted of the window before.
    fn flush(&mut self) {
        let n = self.pending.len();
        if n == 0 {
            return;
        }
        self.docs += n as u64;
        if !self.pending.is_sorted() {
            self.pending.sort_unstable();
        }
        let start = self.window * WINDOW;
        let len = (self.facets.max_doc.saturating_sub(start)).min(WINDOW) as usize;
        self.missing.clear();
        for (i, col) in self.facets.columns.iter().enumerate() {
            if !self.which[i] {
                continue;
            }
            let values = col.values.len();
            // The window's counts cost a slot per value, its other documents one each.
            let from_window = !col.windows.is_empty() && len.saturating_sub(n) + values < n / 2;
            if !from_window {
                col.ords.count(&self.pending, &mut self.counts[i]);
                continue;
            }
            if self.missing.is_empty() && len > n {
                // The window's documents as bits; the unset ones are missing.
                let mut bits = [0u64; WINDOW as usize / 64];
                for &d in &self.pending {
                    let at = d - start;
                    bits[at as usize / 64] |= 1 << (at % 64);
                }
                for (i, &word) in bits.iter().enumerate().take(len.div_ceil(64)) {
                    let mut free = !word;
                    while free != 0 {
                        let at = i as u32 * 64 + free.trailing_zeros();
                        if at as usize >= len {
                            break;
                        }
                        self.missing.push(start + at);
                        free &= free - 1;
                    }
                }
            }
            self.missing_counts.resize(values, 0);
            let missing = &mut self.missing_counts[..values];
            col.ords.count(&self.missing, missing);
            let at = self.window as usize * values;
            for ((c, &w), m) in self.counts[i]
                .iter_mut()
                .zip(&col.windows[at..at + values])
                .zip(missing.iter_mut())
            {
                *c += u64::from(w) - *m;
                *m = 0;
            }
        }
        self.pending.clear();
    }

    /// Count the documents set in `matched` (a bit per document of the segment, deleted ones
    /// cleared), as collecting them one by one would: fields with value bits by popcount
    /// where that is cheaper (see [`FacetColumn::counts_bits`]), the others document by
    /// document.
    pub fn collect_bits(&mut self, matched: &[u64]) {
        let n: u64 = matched.iter().map(|w| u64::from(w.count_ones())).sum();
        let mut by_doc = self.which;
        for (i, col) in self.facets.columns.iter().enumerate() {
            if self.which[i] && col.counts_bits(n, matched.len()) {
                col.count_bits(matched, &mut self.counts[i]);
                by_doc[i] = false;
            }
        }
        if !by_doc.contains(&true) {
            self.docs += n;
            return;
        }
        // The other fields from the documents, in blocks (which count the documents too).
        let all = std::mem::replace(&mut self.which, by_doc);
        let mut buffer = Vec::with_capacity(4 * 64);
        for (i, &word) in matched.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                buffer.push(i as DocId * 64 + word.trailing_zeros());
                word &= word - 1;
            }
            if buffer.len() >= 3 * 64 {
                self.collect_block(&buffer);
                buffer.clear();
            }
        }
        self.collect_block(&buffer);
        self.flush();
        self.which = all;
    }

    fn push(&mut self, doc: DocId) {
        let window = doc / WINDOW;
        if window != self.window {
            self.flush();
            self.window = window;
        }
        self.pending.push(doc);
    }
}

impl SegmentCollector for FacetCountsSegment {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.push(doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        // Most blocks lie within the current window: one pass that vectorizes, then a copy.
        if docs.iter().all(|&d| d / WINDOW == self.window) {
            self.pending.extend_from_slice(docs);
        } else {
            for &d in docs {
                self.push(d);
            }
        }
    }

    fn harvest(mut self) -> FacetFruit {
        self.flush();
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

    /// A segment of `max_doc` documents whose four fields have the values `per_doc(field,
    /// doc)` out of `values[field]`, in the layout `Ords::from_csr` picks.
    fn segment(
        max_doc: u32,
        values: [usize; 4],
        per_doc: impl Fn(usize, u32) -> Vec<u32>,
    ) -> (Arc<SegmentFacets>, [Vec<Vec<u32>>; 4]) {
        let lists: [Vec<Vec<u32>>; 4] =
            std::array::from_fn(|f| (0..max_doc).map(|d| per_doc(f, d)).collect());
        let columns = std::array::from_fn(|f| {
            let (starts, ords) = csr(&lists[f]);
            let ords = Ords::from_csr(starts, ords, values[f]);
            FacetColumn {
                values: (0..values[f])
                    .map(|v| Arc::from(format!("v{v:04}").as_str()))
                    .collect(),
                windows: ords.window_counts(values[f], max_doc),
                bits: ords.value_bits(values[f], max_doc),
                ords,
            }
        });
        (Arc::new(SegmentFacets { columns, max_doc }), lists)
    }

    fn counter(facets: &Arc<SegmentFacets>) -> FacetCountsSegment {
        FacetCountsSegment::new(facets.clone(), [true; 4])
    }

    /// What a plain loop over the lists counts for `docs`.
    fn expected(lists: &[Vec<Vec<u32>>; 4], docs: &[DocId]) -> FacetFruit {
        let mut maps: [Counts; 4] = Default::default();
        for (f, list) in lists.iter().enumerate() {
            let mut m: BTreeMap<u32, u64> = BTreeMap::new();
            for &d in docs {
                for &v in &list[d as usize] {
                    *m.entry(v).or_default() += 1;
                }
            }
            maps[f] = m
                .into_iter()
                .map(|(v, n)| (Arc::from(format!("v{v:04}").as_str()), n))
                .collect();
        }
        (docs.len() as u64, maps)
    }

    /// Documents handed over one by one, in blocks of 64 (tantivy's) or out of order count
    /// what the lists count, however densely they fill each window: a window mostly matched
    /// is counted from its unmatched documents (two and a half windows here, the last one
    /// short), and a field of too many values, or of many values per document, directly.
    #[test]
    fn windows_count_like_the_lists_at_any_density() {
        let max_doc = WINDOW * 2 + WINDOW / 2;
        let values = [5, 60, WINDOW_VALUES + 1, 2];
        let (facets, lists) = segment(max_doc, values, |f, d| {
            let h = (d as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            match f {
                // A document without a kind now and then.
                0 if d % 11 == 0 => vec![],
                3 => (0..2).filter(|v| (h >> v) & 1 == 1).collect(),
                _ => vec![(h % values[f] as u64) as u32],
            }
        });
        assert!(matches!(facets.columns[3].ords, Ords::Mask(_)));
        assert!(facets.columns[2].windows.is_empty());
        // Every n-th document left out (dense), or every n-th kept (sparse), per window.
        let sets: Vec<Vec<DocId>> = vec![
            (0..max_doc).collect(),
            (0..max_doc).filter(|d| d % 50 != 7).collect(),
            (0..max_doc).filter(|d| d % 4 != 0).collect(),
            (0..max_doc).filter(|d| d % 2 == 0).collect(),
            (0..max_doc).filter(|d| d % 97 == 3).collect(),
            (0..max_doc).filter(|d| *d < WINDOW || d % 3 == 0).collect(),
            vec![max_doc - 1],
            vec![],
        ];
        for docs in &sets {
            let want = expected(&lists, docs);
            let mut one = counter(&facets);
            for &d in docs {
                one.collect(d, 0.0);
            }
            assert_eq!(one.harvest(), want, "{} documents one by one", docs.len());
            let mut blocks = counter(&facets);
            for b in docs.chunks(64) {
                blocks.collect_block(b);
            }
            assert_eq!(blocks.harvest(), want, "{} documents in blocks", docs.len());
            // Scrambled: blocks mixing windows in any order (a block's ends may share a
            // window its middle leaves).
            let mut shuffled = docs.clone();
            shuffled.sort_by_key(|&d| (d.wrapping_mul(2_654_435_761) >> 7, d));
            let mut unordered = counter(&facets);
            for &d in &shuffled {
                unordered.collect(d, 0.0);
            }
            assert_eq!(
                unordered.harvest(),
                want,
                "{} documents unordered",
                docs.len()
            );
            let mut unordered_blocks = counter(&facets);
            for b in shuffled.chunks(64) {
                unordered_blocks.collect_block(b);
            }
            assert_eq!(
                unordered_blocks.harvest(),
                want,
                "{} documents unordered, in blocks",
                docs.len()
            );
            let mut bits = counter(&facets);
            bits.collect_bits(&as_bits(max_doc, docs));
            assert_eq!(bits.harvest(), want, "{} documents as bits", docs.len());
        }
    }

    fn as_bits(max_doc: u32, docs: &[DocId]) -> Vec<u64> {
        let mut bits = vec![0u64; (max_doc as usize).div_ceil(64)];
        for &d in docs {
            bits[d as usize / 64] |= 1 << (d % 64);
        }
        bits
    }

    /// Dense sets given as bits are counted from the value bits, sparse ones document by
    /// document: with the value bits off by one document, a dense set's counts are wrong
    /// and a sparse set's are not.
    #[test]
    fn dense_bits_are_counted_from_the_value_bits() {
        let max_doc = WINDOW * 2;
        let (facets, lists) = segment(max_doc, [5, 60, 5, 2], |f, d| vec![d % [5, 60, 5, 2][f]]);
        let mut off = Arc::try_unwrap(facets).expect("one owner");
        for col in &mut off.columns {
            assert!(!col.bits.is_empty());
            // Document 3 given value 0 as well.
            col.bits[0] |= 1 << 3;
        }
        let off = Arc::new(off);
        let count = |docs: &[DocId]| {
            let mut c = counter(&off);
            c.collect_bits(&as_bits(max_doc, docs));
            c.harvest()
        };
        let dense: Vec<DocId> = (0..max_doc).filter(|d| d % 40 != 1).collect();
        let sparse: Vec<DocId> = (0..max_doc).filter(|d| d % 400 == 3).collect();
        assert!(dense.contains(&3) && sparse.contains(&3));
        assert_ne!(count(&dense), expected(&lists, &dense));
        assert_eq!(count(&sparse), expected(&lists, &sparse));
    }

    /// A block whose ends lie in the current window but whose middle does not (no search hands
    /// over such a block, but a counter must not miscount it): counted like the lists.
    #[test]
    fn a_block_leaving_its_window_in_the_middle_counts_like_the_lists() {
        let max_doc = WINDOW * 2;
        let (facets, lists) = segment(max_doc, [5, 60, 5, 2], |f, d| vec![d % [5, 60, 5, 2][f]]);
        let mut c = counter(&facets);
        let first: Vec<DocId> = (0..WINDOW).filter(|&d| d != 10).collect();
        for b in first.chunks(64) {
            c.collect_block(b);
        }
        c.collect_block(&[WINDOW, WINDOW + 1]);
        c.collect_block(&[WINDOW + 2, 10, WINDOW + 3]);
        let rest: Vec<DocId> = (WINDOW + 4..max_doc).collect();
        for b in rest.chunks(64) {
            c.collect_block(b);
        }
        let all: Vec<DocId> = (0..max_doc).collect();
        assert_eq!(c.harvest(), expected(&lists, &all));
    }

    /// The dense sets above are really counted from the window counts: with those off by one,
    /// a dense set's counts are wrong and a sparse set's are not.
    #[test]
    fn dense_windows_are_counted_from_the_window_counts() {
        let max_doc = WINDOW * 2;
        let (facets, lists) = segment(max_doc, [5, 60, 5, 2], |f, d| vec![d % [5, 60, 5, 2][f]]);
        let mut off = Arc::try_unwrap(facets).expect("one owner");
        for col in &mut off.columns {
            for w in &mut col.windows {
                *w += 1;
            }
        }
        let off = Arc::new(off);
        let count = |docs: &[DocId]| {
            let mut c = counter(&off);
            c.collect_block(docs);
            c.harvest()
        };
        let dense: Vec<DocId> = (0..max_doc).filter(|d| d % 40 != 1).collect();
        let sparse: Vec<DocId> = (0..max_doc).filter(|d| d % 3 == 1).collect();
        assert_ne!(count(&dense), expected(&lists, &dense));
        assert_eq!(count(&sparse), expected(&lists, &sparse));
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
