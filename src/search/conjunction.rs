//! Conjunctions of words, matched from posting blocks and scored term at a time.
//!
//! A tier requiring every word of a colloquial question (社保卡丢了怎么补办) is an intersection
//! of unions: each word is its five fields plus its synonyms and official forms, 5–35 terms.
//! tantivy runs it document at a time: the cheapest union leads, the others seek to its
//! documents, and each union answers a seek by scoring every posting of every one of its terms
//! in the next 4096-document window, matching the other words or not. Over the generated 100k
//! catalogue a long question's all-words tier that matched nothing still took 0.3–0.6 ms.
//!
//! Here the documents come first: the cheapest word's postings, block by block, into a bit
//! set; each further word's postings only in the blocks holding a document still in it
//! (skipped blocks are not decoded). Then each term is read once more in the same way and
//! scored only at those documents. Scores are summed in the order tantivy sums them (the terms
//! of a word in clause order; the words by cost, `left + right + (the rest)`; the optional
//! words after), with the same BM25 weights. tantivy's cost of a union depends on how far its
//! scorers have read (see `ConjunctionWeight::matches`); where that is known (segments of at
//! most 4096 documents, and larger ones whose terms all outlast a union's first window, as
//! at 100k documents) every score is tantivy's to the bit, elsewhere to the last bit of a
//! float sum (two questions of the mix on the real corpus: the same hits in the same order).
//!
//! The shape is read off the flattened query ([`Conjunction::read`]); any other shape runs as
//! tantivy's boolean query.

use super::flatten;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::InvertedIndexReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::{
    Bm25Weight, BooleanQuery, EmptyScorer, EnableScoring, Explanation, Occur, Query, Scorer, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TantivyError, Term, TERMINATED};

/// Score buffers, a score per document of the largest segment seen, kept between queries (see
/// `ConjunctionWeight::matches`): clearing a fresh buffer per query was a megabyte of memory
/// writes per 100k-document segment. At most [`KEEP_SCRATCH`] are kept, however many threads
/// search at once (a server runs each request on a thread of its own).
static SCRATCH: std::sync::Mutex<Vec<Vec<Score>>> = std::sync::Mutex::new(Vec::new());

/// Buffers kept: the searches that run at once on two cores, with room to spare.
const KEEP_SCRATCH: usize = 4;

/// Buffers for segments larger than this (16 MB of scores) are not kept.
const MAX_SCRATCH: usize = 4 << 20;

/// A score buffer of at least `len` entries, of any contents.
fn take_scratch(len: usize) -> Vec<Score> {
    let kept = SCRATCH.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut v = kept.unwrap_or_default();
    if v.len() < len {
        v.resize(len, 0.0);
    }
    v
}

fn give_back(v: Vec<Score>) {
    if v.len() <= MAX_SCRATCH {
        let mut kept = SCRATCH.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < KEEP_SCRATCH {
            kept.push(v);
        }
    }
}

/// The documents a tantivy union reads ahead (its `HORIZON`).
const UNION_WINDOW: DocId = 4096;

/// A word (or a filter): the boosted terms any of which matches it, in the union's clause
/// order, each with whether its frequencies are read.
type Word = Vec<(Term, Score, bool)>;

/// Every `required` word, none of the `excluded` queries; `optional` words add to the score.
#[derive(Debug)]
pub(super) struct Conjunction {
    required: Vec<Word>,
    optional: Vec<Word>,
    excluded: Vec<Box<dyn Query>>,
}

impl Clone for Conjunction {
    fn clone(&self) -> Self {
        Conjunction {
            required: self.required.clone(),
            optional: self.optional.clone(),
            excluded: self.excluded.iter().map(|q| q.box_clone()).collect(),
        }
    }
}

impl Conjunction {
    /// `query` as a conjunction of two or more words, when it is one: a boolean query (no
    /// minimum of `Should` clauses) whose `Must` clauses are each a union of boosted terms,
    /// whose `Should` clauses (ranking only) are too, beside any `MustNot` clauses. A single
    /// `Must` clause of that shape beside `MustNot` clauses is looked into (tantivy scores
    /// an intersection of one as that one).
    pub fn read(query: &dyn Query) -> Option<Conjunction> {
        let b = query.downcast_ref::<BooleanQuery>()?;
        if b.get_minimum_number_should_match() != 0 {
            return None;
        }
        let mut c = Conjunction {
            required: Vec::new(),
            optional: Vec::new(),
            excluded: Vec::new(),
        };
        let mut inner = None;
        for (occur, q) in b.clauses() {
            match occur {
                Occur::MustNot => c.excluded.push(q.box_clone()),
                Occur::Must => match flatten::boosted_terms(&**q) {
                    Some(w) => c.required.push(w),
                    // A second clause of another shape (a phrase beside the tier) is not
                    // read: dropping either would lose a requirement.
                    None if inner.is_some() => return None,
                    None => inner = Some(&**q),
                },
                Occur::Should => c.optional.push(flatten::boosted_terms(&**q)?),
            }
        }
        if let Some(inner) = inner {
            // Only as the one `Must` clause, without optional words beside it.
            if !c.required.is_empty() || !c.optional.is_empty() {
                return None;
            }
            let mut i = Conjunction::read(inner)?;
            i.excluded.append(&mut c.excluded);
            return Some(i);
        }
        // One word with optional words beside it is tantivy's required-optional scorer.
        (c.required.len() >= 2 || (c.required.len() == 1 && !c.optional.is_empty())).then_some(c)
    }
}

impl Query for Conjunction {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let stats = match scoring {
            EnableScoring::Enabled {
                statistics_provider,
                ..
            } => Some(statistics_provider),
            EnableScoring::Disabled { .. } => None,
        };
        let weigh = |words: &[Word]| -> tantivy::Result<Vec<Vec<WeightedTerm>>> {
            words
                .iter()
                .map(|w| {
                    w.iter()
                        .map(|(term, boost, freqs)| {
                            let bm25 = match stats {
                                Some(s) => {
                                    Some(Bm25Weight::for_terms(s, std::slice::from_ref(term))?)
                                }
                                None => None,
                            };
                            Ok(WeightedTerm {
                                term: term.clone(),
                                boost: *boost,
                                freqs: *freqs,
                                bm25,
                            })
                        })
                        .collect()
                })
                .collect()
        };
        Ok(Box::new(ConjunctionWeight {
            required: weigh(&self.required)?,
            optional: weigh(&self.optional)?,
            excluded: self
                .excluded
                .iter()
                .map(|q| q.weight(scoring))
                .collect::<tantivy::Result<_>>()?,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for (t, _, _) in self.required.iter().chain(&self.optional).flatten() {
            visitor(t, false);
        }
    }
}

/// A term with its boost, whether its frequencies are read (a filter's are not: tantivy then
/// scores each document as holding it once), and its BM25 weight over the whole index
/// (`None`: not scoring).
struct WeightedTerm {
    term: Term,
    boost: Score,
    freqs: bool,
    bm25: Option<Bm25Weight>,
}

struct ConjunctionWeight {
    required: Vec<Vec<WeightedTerm>>,
    optional: Vec<Vec<WeightedTerm>>,
    excluded: Vec<Box<dyn Weight>>,
}

/// A term's postings in one segment, with what scores them there.
struct SegmentTerm {
    inverted: std::sync::Arc<InvertedIndexReader>,
    info: tantivy::postings::TermInfo,
    bm25: Option<Bm25Weight>,
    fieldnorms: Option<FieldNormReader>,
    freqs: bool,
}

impl SegmentTerm {
    /// Its postings, with frequencies if `freqs` and the term's are read.
    fn postings(&self, freqs: bool) -> tantivy::Result<BlockSegmentPostings> {
        let option = if freqs && self.freqs {
            IndexRecordOption::WithFreqs
        } else {
            IndexRecordOption::Basic
        };
        Ok(self
            .inverted
            .read_block_postings_from_terminfo(&self.info, option)?)
    }
}

/// The terms of `word` present in `reader`'s segment, with the sum of their document
/// frequencies (tantivy's cost of the word before its scorers read anything).
fn segment_word(
    reader: &SegmentReader,
    word: &[WeightedTerm],
    boost: Score,
) -> tantivy::Result<(u64, Vec<SegmentTerm>)> {
    let mut cost = 0u64;
    let mut terms = Vec::with_capacity(word.len());
    for w in word {
        let field = w.term.field();
        let inverted = reader.inverted_index(field)?;
        let Some(info) = inverted.get_term_info(&w.term)? else {
            continue;
        };
        cost += u64::from(info.doc_freq);
        let fieldnorms = match w.bm25 {
            Some(_) => Some(
                reader
                    .fieldnorms_readers()
                    .get_field(field)?
                    .unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1)),
            ),
            None => None,
        };
        terms.push(SegmentTerm {
            inverted,
            info,
            // As tantivy's `BoostQuery` hands its boost to the term's scorer.
            bm25: w.bm25.as_ref().map(|b| b.boost_by(boost * w.boost)),
            fieldnorms,
            freqs: w.freqs,
        });
    }
    Ok((cost, terms))
}

/// A bit per document of a segment.
struct Bits {
    words: Vec<u64>,
}

impl Bits {
    fn new(max_doc: DocId) -> Bits {
        Bits {
            words: vec![0; (max_doc as usize).div_ceil(64)],
        }
    }

    fn remove(&mut self, doc: DocId) {
        if let Some(w) = self.words.get_mut(doc as usize / 64) {
            *w &= !(1 << (doc % 64));
        }
    }

    #[inline]
    fn contains(&self, doc: DocId) -> bool {
        self.words
            .get(doc as usize / 64)
            .is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }

    /// The first set bit at or after `doc`.
    fn next(&self, doc: DocId) -> Option<DocId> {
        let mut i = doc as usize / 64;
        let mut w = *self.words.get(i)? & (u64::MAX << (doc % 64));
        loop {
            if w != 0 {
                return Some(i as DocId * 64 + w.trailing_zeros());
            }
            i += 1;
            w = *self.words.get(i)?;
        }
    }

    fn docs(&self) -> Vec<DocId> {
        let mut out = Vec::new();
        for (i, &w) in self.words.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                out.push(i as DocId * 64 + w.trailing_zeros());
                w &= w - 1;
            }
        }
        out
    }
}

/// Each block of `postings` holding a document of `within` (every block when `None`), as
/// its documents and their frequencies (`None` when not read), each document once.
fn for_each_block(
    postings: &mut BlockSegmentPostings,
    within: Option<&Bits>,
    mut f: impl FnMut(&[DocId], Option<&[u32]>),
) {
    // Documents up to `done` were handed over: a seek past the last block may land on it
    // again.
    let mut done: Option<DocId> = None;
    loop {
        let from = done.map_or(0, |d| d + 1);
        let target = match within {
            Some(bits) => match bits.next(from) {
                Some(t) => t,
                None => return,
            },
            None => from,
        };
        postings.seek(target);
        let docs = postings.docs();
        let start = match done {
            Some(d) => docs.partition_point(|&x| x <= d),
            None => 0,
        };
        if start >= docs.len() || docs[start] == TERMINATED {
            return;
        }
        let end = docs.partition_point(|&x| x != TERMINATED);
        let freqs = postings.freqs();
        let freqs = (freqs.len() >= end).then(|| &freqs[start..end]);
        f(&docs[start..end], freqs);
        done = Some(docs[end - 1]);
        if end < docs.len() {
            return;
        }
    }
}

/// Set the bit of each document of `postings` (only in the blocks holding one of `within`).
fn set_bits(postings: &mut BlockSegmentPostings, within: Option<&Bits>, words: &mut [u64]) {
    for_each_block(postings, within, |docs, _| {
        for &d in docs {
            if let Some(w) = words.get_mut(d as usize / 64) {
                *w |= 1 << (d % 64);
            }
        }
    });
}

impl ConjunctionWeight {
    /// The matching documents of a segment, ascending, and their scores (empty when not
    /// scoring).
    fn matches(
        &self,
        reader: &SegmentReader,
        boost: Score,
    ) -> tantivy::Result<(Vec<DocId>, Vec<Score>)> {
        let max_doc = reader.max_doc();
        let mut required = Vec::with_capacity(self.required.len());
        for w in &self.required {
            let (cost, terms) = segment_word(reader, w, boost)?;
            if terms.is_empty() {
                return Ok(Default::default());
            }
            required.push((cost, terms));
        }
        // tantivy's intersection order: by cost, ties in clause order. A union's cost is
        // that of its terms' scorers not yet exhausted, and it has read its first 4096
        // documents when the intersection sorts: in a segment that small, every union counts
        // 0 (a word of one term is a plain term scorer and counts its documents).
        if max_doc <= UNION_WINDOW {
            for (cost, terms) in &mut required {
                if terms.len() > 1 {
                    *cost = 0;
                }
            }
        }
        required.sort_by_key(|(cost, _)| *cost);

        // The documents: the cheapest word whole, then each other word where it can still
        // match.
        let mut all = Bits::new(max_doc);
        let mut word = Bits::new(max_doc);
        for (i, (_, terms)) in required.iter().enumerate() {
            if i == 0 {
                for t in terms {
                    set_bits(&mut t.postings(false)?, None, &mut all.words);
                }
            } else {
                word.words.fill(0);
                for t in terms {
                    set_bits(&mut t.postings(false)?, Some(&all), &mut word.words);
                }
                for (a, w) in all.words.iter_mut().zip(&word.words) {
                    *a &= w;
                }
            }
        }
        if let Some(alive) = reader.alive_bitset() {
            for doc in all.docs() {
                if !alive.is_alive(doc) {
                    all.remove(doc);
                }
            }
        }
        for ex in &self.excluded {
            let mut s = ex.scorer(reader, 1.0)?;
            let mut doc = s.doc();
            while doc != TERMINATED {
                all.remove(doc);
                doc = s.advance();
            }
        }
        let docs = all.docs();
        let scoring = required
            .first()
            .and_then(|(_, t)| t.first())
            .is_some_and(|t| t.bm25.is_some());
        if docs.is_empty() || !scoring {
            return Ok((docs, Vec::new()));
        }

        // The scores, summed as tantivy sums them. A word's scores by document: a kept
        // buffer, only ever read where the word was just scored (the matching documents), so
        // never cleared whole; the sums by rank among the matching documents.
        let mut acc = take_scratch(max_doc as usize);
        let mut left = vec![0.0 as Score; docs.len()];
        let mut rest = vec![0.0 as Score; docs.len()];
        let scored = (|| -> tantivy::Result<()> {
            for (i, (_, terms)) in required.iter().enumerate() {
                score_word(terms, &all, &docs, &mut acc)?;
                let sums = if i < 2 { &mut left } else { &mut rest };
                for (s, &d) in sums.iter_mut().zip(&docs) {
                    *s = if i == 0 {
                        acc[d as usize]
                    } else {
                        *s + acc[d as usize]
                    };
                }
            }
            if required.len() > 2 {
                left.iter_mut().zip(&rest).for_each(|(l, r)| *l += r);
            }
            if !self.optional.is_empty() {
                // The optional words' union, added to a document they match.
                let opt = &mut rest;
                opt.fill(0.0);
                for w in &self.optional {
                    let (_, terms) = segment_word(reader, w, boost)?;
                    score_word(&terms, &all, &docs, &mut acc)?;
                    for (o, &d) in opt.iter_mut().zip(&docs) {
                        *o += acc[d as usize];
                    }
                }
                left.iter_mut().zip(opt.iter()).for_each(|(l, o)| *l += o);
            }
            Ok(())
        })();
        give_back(acc);
        scored?;
        Ok((docs, left))
    }
}

/// `acc[doc]`: the word's score at each document of `docs` (`bits` as a list): its terms'
/// BM25 scores summed in clause order (tantivy's union adds a term's score as it finds it
/// matching).
fn score_word(
    terms: &[SegmentTerm],
    bits: &Bits,
    docs: &[DocId],
    acc: &mut [Score],
) -> tantivy::Result<()> {
    docs.iter().for_each(|&d| acc[d as usize] = 0.0);
    for t in terms {
        let (Some(bm25), Some(norms)) = (&t.bm25, &t.fieldnorms) else {
            continue;
        };
        let mut p = t.postings(true)?;
        let mut add = |d: DocId, f: u32| {
            if bits.contains(d) {
                acc[d as usize] += bm25.score(norms.fieldnorm_id(d), f);
            }
        };
        for_each_block(&mut p, Some(bits), |ds, fs| match fs.filter(|_| t.freqs) {
            Some(fs) => ds.iter().zip(fs).for_each(|(&d, &f)| add(d, f)),
            // tantivy's postings answer 1 where frequencies are not read.
            None => ds.iter().for_each(|&d| add(d, 1)),
        });
    }
    Ok(())
}

impl Weight for ConjunctionWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let (docs, scores) = self.matches(reader, boost)?;
        if docs.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        Ok(Box::new(Scored {
            docs,
            scores,
            at: 0,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut s = self.scorer(reader, 1.0)?;
        if s.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new(
            "every word (scored term at a time)",
            s.score(),
        ))
    }
}

/// Documents with precomputed scores.
struct Scored {
    docs: Vec<DocId>,
    scores: Vec<Score>,
    at: usize,
}

impl DocSet for Scored {
    fn advance(&mut self) -> DocId {
        self.at += 1;
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() < target {
            self.at += self.docs[self.at..].partition_point(|&d| d < target);
        }
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at.min(self.docs.len())) as u32
    }
}

impl Scorer for Scored {
    fn score(&mut self) -> Score {
        self.scores.get(self.at).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::flatten::{flatten, BoostedTerm};
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::TermQuery;
    use tantivy::schema::{Field, Schema, STRING, TEXT};
    use tantivy::{DocAddress, Index, IndexWriter};

    /// A seeded generator of numbers below its argument (a linear congruential generator).
    fn seeded(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        }
    }

    /// Three segments of documents drawing words `w0`–`w7` into three fields at random
    /// (seeded), rare words `r0`–`r4` now and then, some deleted; `w7` only in the last
    /// segment. The first segment is larger
    /// than a tantivy union's window (which orders the words differently, see
    /// `ConjunctionWeight::matches`).
    fn corpus() -> (tantivy::Searcher, [Field; 3], Field, Field) {
        let mut s = Schema::builder();
        let fields = [
            s.add_text_field("a", TEXT),
            s.add_text_field("b", TEXT),
            s.add_text_field("c", TEXT),
        ];
        let id = s.add_text_field("id", STRING);
        let kind = s.add_text_field("kind", STRING);
        let index = Index::create_in_ram(s.build());
        let mut w: IndexWriter = index.writer(15_000_000).expect("writer");
        let mut next = seeded(0x2545_f491);
        for (part, docs) in [4500, 500, 500].into_iter().enumerate() {
            for i in 0..docs {
                let vocab = if part == 2 { 8 } else { 7 };
                let mut d = tantivy::TantivyDocument::default();
                d.add_text(id, format!("{part}-{i}"));
                d.add_text(kind, ["k0", "k1", "k2"][next(3) as usize]);
                for f in fields {
                    let len = next(12);
                    let mut text: Vec<String> =
                        (0..len).map(|_| format!("w{}", next(vocab))).collect();
                    if next(40) == 0 {
                        text.push(format!("r{}", next(5)));
                    }
                    text.extend((0..next(20)).map(|_| "filler".to_string()));
                    d.add_text(f, text.join(" "));
                }
                w.add_document(d).expect("add");
            }
            w.commit().expect("commit");
        }
        for i in (0..500).step_by(7) {
            w.delete_term(Term::from_field_text(id, &format!("1-{i}")));
        }
        w.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        (searcher, fields, id, kind)
    }

    /// A word as the plan builds one: its terms in every field, boosted, then its synonyms'.
    fn word(fields: &[Field; 3], words: &[(&str, Score)]) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (w, weight) in words {
            for (f, boost) in fields.iter().zip([4.0, 1.5, 1.0]) {
                let t = Term::from_field_text(*f, w);
                clauses.push((Occur::Should, Box::new(BoostedTerm::new(t, boost * weight))));
            }
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Every matching document with its score's bits, in document order.
    fn all_scored(searcher: &tantivy::Searcher, q: &dyn Query) -> Vec<(DocAddress, u32)> {
        let n = searcher.search(q, &Count).expect("count");
        let top = TopDocs::with_limit(n.max(1)).order_by_score();
        let mut v: Vec<(DocAddress, u32)> = searcher
            .search(q, &top)
            .expect("top")
            .into_iter()
            .map(|(s, a)| (a, s.to_bits()))
            .collect();
        v.sort();
        v
    }

    /// `query` is read as a [`Conjunction`], which matches the documents tantivy's query
    /// matches, with the same scores: to the bit if `exact`, else within a float rounding
    /// (one part in a million); how many documents, and how many scores differ in their last bits.
    fn assert_scored_as_tantivy(
        searcher: &tantivy::Searcher,
        q: &dyn Query,
        exact: bool,
    ) -> (usize, usize) {
        let c = Conjunction::read(q).expect("a conjunction of words");
        let want = all_scored(searcher, q);
        let got = all_scored(searcher, &c);
        assert_eq!(got.len(), want.len(), "{q:?}");
        let mut differ = Vec::new();
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0, "{q:?}");
            if g.1 != w.1 {
                let (a, b) = (f32::from_bits(g.1), f32::from_bits(w.1));
                assert!((a - b).abs() <= 1e-6 * b.abs(), "{g:?} {w:?}: {q:?}");
                differ.push((g, w));
            }
        }
        assert!(
            !exact || differ.is_empty(),
            "{} of {} differ, first {:?}: {q:?}",
            differ.len(),
            want.len(),
            &differ[..differ.len().min(3)]
        );
        assert_eq!(searcher.search(&c, &Count).expect("count"), want.len());
        (want.len(), differ.len())
    }

    /// Conjunctions of two to four words (with synonyms, a term repeated, optional words,
    /// exclusions, filters, a word absent from two segments, over deleted documents) and one
    /// word with optional words match the same documents as tantivy's boolean query with the
    /// same scores to the bit. Summing the words in another order, dropping the exclusions,
    /// or reading a filter's frequencies fails it.
    #[test]
    fn scores_equal_tantivys_to_the_bit() {
        let (searcher, f, id, kind) = corpus();
        let filter_on = |field: Field, values: &[&str]| -> (Occur, Box<dyn Query>) {
            let terms: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|v| {
                    let t = Term::from_field_text(field, v);
                    (
                        Occur::Should,
                        Box::new(BoostedTerm::filter(t)) as Box<dyn Query>,
                    )
                })
                .collect();
            (Occur::Must, Box::new(BooleanQuery::new(terms)))
        };
        let filter = |values: &[&str]| filter_on(kind, values);
        let w = |words: &[(&str, Score)]| word(&f, words);
        let must = |q: Box<dyn Query>| (Occur::Must, q);
        let should = |q: Box<dyn Query>| (Occur::Should, q);
        let not = |t: &str| -> (Occur, Box<dyn Query>) {
            let t = Term::from_field_text(f[0], t);
            (
                Occur::MustNot,
                Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
            )
        };
        let excluded_ids = || -> (Occur, Box<dyn Query>) {
            let t = Term::from_field_text(id, "0-3");
            (
                Occur::MustNot,
                Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
            )
        };
        let queries: Vec<Vec<(Occur, Box<dyn Query>)>> = vec![
            vec![must(w(&[("w0", 1.0)])), must(w(&[("w1", 1.0)]))],
            vec![
                must(w(&[("w2", 1.0), ("w3", 0.8)])),
                must(w(&[("w1", 1.0)])),
                must(w(&[("w0", 1.0), ("w0", 0.6)])),
            ],
            vec![
                must(w(&[("w4", 1.0)])),
                must(w(&[("w5", 1.0), ("w6", 0.9)])),
                must(w(&[("w1", 1.0), ("w2", 0.5)])),
                must(w(&[("w3", 1.0)])),
                not("w6"),
                excluded_ids(),
            ],
            vec![
                must(w(&[("w7", 1.0)])),
                must(w(&[("w0", 1.0)])),
                should(w(&[("w1", 1.0)])),
                should(w(&[("w2", 1.0)])),
            ],
            // Filters: one value, two values, a text field's word (counted once).
            vec![must(w(&[("w0", 1.0), ("w4", 0.8)])), filter(&["k1"])],
            vec![must(w(&[("w0", 1.0)])), filter_on(f[1], &["w2"])],
            vec![
                must(w(&[("w1", 1.0)])),
                must(w(&[("w3", 1.0)])),
                filter(&["k0", "k2"]),
            ],
            // One word, optional words beside it.
            vec![must(w(&[("w5", 1.0)])), should(w(&[("w6", 1.0)]))],
        ];
        let mut checked = 0;
        for clauses in queries {
            let q = flatten(Box::new(BooleanQuery::new(clauses)));
            // As the tier walk builds it: the tier inside, exclusions beside.
            let nested: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                (Occur::Must, q.box_clone()),
                not("w5"),
            ]));
            for q in [q, flatten(nested)] {
                let (n, _) = assert_scored_as_tantivy(&searcher, &*q, true);
                assert!(n > 5, "{n} matches of {q:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 16);
    }

    /// 300 seeded random conjunctions (two to five words of one to three synonyms over
    /// `w0`–`w8` and the rare words, terms repeated, up to two optional words and two exclusions, a filter now
    /// and then) match tantivy's documents, including none, with its scores within a float
    /// rounding and nearly all to the bit.
    #[test]
    fn random_conjunctions_score_as_tantivys() {
        let (searcher, f, _, kind) = corpus();
        let mut next = seeded(0x9e37_79b9);
        let random_word = |next: &mut dyn FnMut(u64) -> u64| {
            let syns: Vec<(String, Score)> = (0..1 + next(3))
                .map(|i| {
                    // Mostly common words; rare ones, and `w8`, which no document holds.
                    let w = match next(10) {
                        0 | 1 => format!("r{}", next(5)),
                        2 => "w8".to_string(),
                        _ => format!("w{}", next(8)),
                    };
                    (w, if i == 0 { 1.0 } else { 0.8 })
                })
                .collect();
            let syns: Vec<(&str, Score)> = syns.iter().map(|(w, b)| (w.as_str(), *b)).collect();
            word(&f, &syns)
        };
        let (mut matched, mut empty, mut scores, mut inexact) = (0, 0, 0, 0);
        for _ in 0..300 {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for _ in 0..2 + next(4) {
                clauses.push((Occur::Must, random_word(&mut next)));
            }
            for _ in 0..next(3) {
                clauses.push((Occur::Should, random_word(&mut next)));
            }
            for _ in 0..next(3) {
                let t = Term::from_field_text(f[next(3) as usize], &format!("w{}", next(8)));
                let q = TermQuery::new(t, IndexRecordOption::Basic);
                clauses.push((Occur::MustNot, Box::new(q)));
            }
            if next(3) == 0 {
                let t = Term::from_field_text(kind, &format!("k{}", next(3)));
                clauses.push((Occur::Must, Box::new(BoostedTerm::filter(t))));
            }
            let q = flatten(Box::new(BooleanQuery::new(clauses)));
            let (n, differ) = assert_scored_as_tantivy(&searcher, &*q, false);
            match n {
                0 => empty += 1,
                _ => matched += 1,
            }
            scores += n;
            inexact += differ;
        }
        // Both kinds were tried; nearly every score is tantivy's to the bit (those that are
        // not: a rare synonym's postings ending in a union's first window, see `matches`).
        assert!(
            matched > 100 && empty > 10,
            "{matched} matched, {empty} empty"
        );
        assert!(
            inexact * 1000 < scores,
            "{inexact} of {scores} scores inexact"
        );
    }

    /// Only conjunctions of two or more words are read; other shapes run as tantivy's.
    #[test]
    fn reads_only_conjunctions_of_words() {
        let (_, f, _, _) = corpus();
        let w = |t: &str| word(&f, &[(t, 1.0)]);
        let bq =
            |c: Vec<(Occur, Box<dyn Query>)>| -> Box<dyn Query> { Box::new(BooleanQuery::new(c)) };
        let plain: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(f[0], "w1"),
            IndexRecordOption::WithFreqs,
        ));
        let two = || vec![(Occur::Must, w("w0")), (Occur::Must, w("w1"))];
        let optional = || vec![(Occur::Must, w("w0")), (Occur::Should, w("w1"))];
        assert!(Conjunction::read(&*bq(two())).is_some());
        assert!(Conjunction::read(&*bq(optional())).is_some());
        let refused: Vec<Box<dyn Query>> = vec![
            // One word (beside an exclusion), a union, a term.
            bq(vec![(Occur::Must, w("w0")), (Occur::MustNot, w("w1"))]),
            bq(vec![(Occur::Should, w("w0")), (Occur::Should, w("w1"))]),
            w("w0"),
            // A clause that is not boosted terms.
            bq(vec![
                (Occur::Must, w("w0")),
                (Occur::Must, plain.box_clone()),
            ]),
            bq(vec![
                (Occur::Must, w("w0")),
                (Occur::Must, w("w1")),
                (Occur::Should, plain.box_clone()),
            ]),
            // A minimum of `Should` clauses.
            Box::new(BooleanQuery::with_minimum_required_clauses(
                two()
                    .into_iter()
                    .chain([(Occur::Should, w("w2"))])
                    .collect(),
                1,
            )),
            // A nested word union (its sums are grouped differently).
            bq(vec![
                (Occur::Must, w("w0")),
                (Occur::Must, bq(vec![(Occur::Should, w("w1"))])),
            ]),
            // An inner conjunction beside another word.
            bq(vec![(Occur::Must, bq(two())), (Occur::Must, w("w2"))]),
            // A tier with optional words beside a clause of another shape, in either order.
            bq(vec![
                (Occur::Must, plain.box_clone()),
                (Occur::Must, bq(optional())),
            ]),
            bq(vec![
                (Occur::Must, bq(optional())),
                (Occur::Must, plain.box_clone()),
            ]),
        ];
        for q in refused {
            assert!(Conjunction::read(&*q).is_none(), "{q:?}");
        }
    }
}
