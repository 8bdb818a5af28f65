//! "At least k of these n clauses", led by the rarest clauses.
//!
//! A long question's all-but-one tier (documents having all of its words but one) was a union
//! of n conjunctions of n − 1 words: each conjunction leaps along its rarest word and seeks the
//! others, so the rarest word's postings were walked n − 1 times, each time seeking n − 2
//! unions of five fields. tantivy's own at-least-k disjunction advances every clause through a
//! heap instead, visiting every document having any word. Here, any document with k of the n
//! clauses has one of the n − k + 1 rarest (the "leaders"): only the leaders' documents are
//! candidates, and each candidate seeks the other clauses once. A document's score is the sum
//! of its matching clauses' scores, as in the conjunction it would have matched.

use std::collections::HashMap;
use std::sync::Arc;
use tantivy::index::SegmentId;
use tantivy::query::{BooleanQuery, EnableScoring, Explanation, Occur, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

/// Per segment, the documents (deleted ones too) having at least `k` of the clauses, as
/// bits: see [`AtLeast::with_candidates`].
pub(super) type Candidates = Arc<HashMap<SegmentId, Vec<u64>>>;

/// An [`AtLeast`]'s clauses, `k` and candidates (see [`AtLeast::candidates_of`]).
pub(super) type WithCandidates<'a> = (&'a [Box<dyn Query>], usize, &'a Candidates);

/// Documents matching at least `k` of `clauses`.
#[derive(Debug)]
pub struct AtLeast {
    clauses: Vec<Box<dyn Query>>,
    k: usize,
    candidates: Option<Candidates>,
}

impl AtLeast {
    /// At least `k` of `clauses` (`k` ≥ 1; with fewer clauses than `k`, nothing matches).
    pub fn new(clauses: Vec<Box<dyn Query>>, k: usize) -> AtLeast {
        AtLeast {
            clauses,
            k: k.max(1),
            candidates: None,
        }
    }

    /// Its clauses, `k` and candidates, when it has candidates.
    pub(super) fn candidates_of(query: &dyn Query) -> Option<WithCandidates<'_>> {
        let a = query.downcast_ref::<AtLeast>()?;
        Some((&a.clauses, a.k, a.candidates.as_ref()?))
    }

    /// The same, visiting only `candidates` in the segments it has them for: the documents
    /// known (from each clause's documents read as bits, [`bits_with`]) to have `k` of the
    /// clauses. The leaders' documents are otherwise each a candidate, sought in every other
    /// clause: a long question's all-but-one tier at 100k documents sought thousands to
    /// match 88 (父母退休以后在异地居住医保怎么报销) or 216, 0.5-0.6 ms per segment.
    pub(super) fn with_candidates(&self, candidates: Candidates) -> AtLeast {
        AtLeast {
            candidates: Some(candidates),
            ..self.clone()
        }
    }
}

/// `query` (an [`AtLeast`], or a boolean query whose first clause is one, the others
/// optional words: the all-but-one tier) with that clause visiting only the candidates
/// `candidates(k)` gives for its `k`, and the optional words as one [`Sought`] union; `None`
/// when it is neither or `candidates` gives none. A tantivy union asked about a document
/// scores every posting of its terms in the next 4,096 documents: for a few hundred
/// candidates spread over a segment, the optional words' whole postings (外地户口的孩子在本市上小学
/// 需要准备什么材料: 216 matches at 100k documents, a quarter of its time in those unions).
pub(super) fn with_candidates(
    query: &dyn Query,
    candidates: impl FnOnce(usize) -> Option<Candidates>,
) -> Option<Box<dyn Query>> {
    if let Some(a) = query.downcast_ref::<AtLeast>() {
        return Some(Box::new(a.with_candidates(candidates(a.k)?)));
    }
    let b = query.downcast_ref::<BooleanQuery>()?;
    let (first, rest) = b.clauses().split_first()?;
    let a = first.1.downcast_ref::<AtLeast>()?;
    if first.0 != Occur::Must
        || b.get_minimum_number_should_match() > 1
        || rest.iter().any(|(o, _)| *o != Occur::Should)
    {
        return None;
    }
    let mut clauses = vec![(
        Occur::Must,
        Box::new(a.with_candidates(candidates(a.k)?)) as Box<dyn Query>,
    )];
    if !rest.is_empty() {
        let optional = rest.iter().map(|(_, q)| q.box_clone()).collect();
        clauses.push((Occur::Should, Box::new(Sought { clauses: optional })));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

impl Sought {
    /// The clauses of `query` when it is a [`Sought`] union.
    pub(super) fn clauses_of(query: &dyn Query) -> Option<&[Box<dyn Query>]> {
        query.downcast_ref::<Sought>().map(|s| s.clauses.as_slice())
    }
}

/// A union of `clauses` sought clause by clause ([`SoughtUnion`], each clause that is a union
/// of its own too), scored as tantivy scores the union of the same clauses: each clause's
/// matching parts summed in order, then the clauses in order.
#[derive(Debug)]
pub(super) struct Sought {
    clauses: Vec<Box<dyn Query>>,
}

impl Clone for Sought {
    fn clone(&self) -> Self {
        Sought {
            clauses: self.clauses.iter().map(|q| q.box_clone()).collect(),
        }
    }
}

impl Query for Sought {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let clauses = clause_weights(&self.clauses, scoring)?;
        Ok(Box::new(SoughtWeight { clauses }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in &self.clauses {
            q.query_terms(visitor);
        }
    }
}

/// [`clause_weight`] of each of `clauses`.
fn clause_weights(
    clauses: &[Box<dyn Query>],
    scoring: EnableScoring<'_>,
) -> tantivy::Result<Vec<Clause>> {
    clauses
        .iter()
        .map(|q| clause_weight(&**q, scoring))
        .collect()
}

/// `q`'s weight, and its parts' when it is a union (sought part by part).
fn clause_weight(q: &dyn Query, scoring: EnableScoring<'_>) -> tantivy::Result<Clause> {
    let parts = match q.downcast_ref::<BooleanQuery>() {
        Some(b) if super::flatten::is_union(b.clauses(), b.get_minimum_number_should_match()) => {
            Some(
                b.clauses()
                    .iter()
                    .map(|(_, c)| c.weight(scoring))
                    .collect::<tantivy::Result<Vec<_>>>()?,
            )
        }
        _ => None,
    };
    Ok(Clause {
        whole: q.weight(scoring)?,
        parts,
    })
}

impl Clause {
    /// A scorer seeking part by part where the clause is a union.
    fn sought(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match &self.parts {
            Some(parts) => Box::new(SoughtUnion::new(
                parts
                    .iter()
                    .map(|w| w.scorer(reader, boost))
                    .collect::<tantivy::Result<Vec<_>>>()?,
            )),
            None => self.whole.scorer(reader, boost)?,
        })
    }
}

struct SoughtWeight {
    clauses: Vec<Clause>,
}

impl Weight for SoughtWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(SoughtUnion::new(
            self.clauses
                .iter()
                .map(|c| c.sought(reader, boost))
                .collect::<tantivy::Result<Vec<_>>>()?,
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} matches no clause"
            )));
        }
        Ok(Explanation::new(
            "sum of the matching clauses",
            scorer.score(),
        ))
    }
}

/// `query` as the set of an exclusion (`Occur::MustNot`). tantivy's `Exclude` asks its set
/// about documents behind the set's position, which `PhraseScorer::seek_danger` asserts never
/// happens (a debug build panicked on `营业 -"身份证 补办"`); this scorer only ever seeks its
/// clauses forward and answers such a question itself.
pub fn as_exclusion(query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(AtLeast::new(vec![query], 1))
}

impl Clone for AtLeast {
    fn clone(&self) -> Self {
        AtLeast {
            clauses: self.clauses.iter().map(|q| q.box_clone()).collect(),
            k: self.k,
            candidates: self.candidates.clone(),
        }
    }
}

impl Query for AtLeast {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let clauses = clause_weights(&self.clauses, scoring)?;
        Ok(Box::new(AtLeastWeight {
            clauses,
            k: self.k,
            candidates: self.candidates.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in &self.clauses {
            q.query_terms(visitor);
        }
    }
}

/// One clause: its own weight, and for a union its clauses' weights (see [`SoughtUnion`]).
struct Clause {
    whole: Box<dyn Weight>,
    parts: Option<Vec<Box<dyn Weight>>>,
}

struct AtLeastWeight {
    clauses: Vec<Clause>,
    k: usize,
    candidates: Option<Candidates>,
}

impl Weight for AtLeastWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        // The clauses only sought (all but the leaders) are unions sought clause by clause.
        let mut clauses = self
            .clauses
            .iter()
            .enumerate()
            .map(|(i, c)| Ok((i, c.sought(reader, boost)?)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        // Rarest first: the leaders are the first n - k + 1.
        clauses.sort_by_key(|(_, s)| s.cost());
        let leaders = (clauses.len() + 1).saturating_sub(self.k);
        // The leaders are walked document by document, which tantivy's own union does best.
        for (i, scorer) in clauses.iter_mut().take(leaders) {
            if self.clauses[*i].parts.is_some() {
                *scorer = self.clauses[*i].whole.scorer(reader, boost)?;
            }
        }
        let candidates = self
            .candidates
            .as_ref()
            .and_then(|c| c.get(&reader.segment_id()))
            .cloned();
        let mut scorer = AtLeastScorer {
            clauses: clauses.into_iter().map(|(_, s)| s).collect(),
            leaders,
            k: self.k,
            doc: 0,
            candidates,
            next: 0,
        };
        scorer.doc = if scorer.clauses.len() < scorer.k || leaders == 0 {
            TERMINATED
        } else {
            scorer.settle()
        };
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.doc() < doc {
            scorer.seek(doc);
        }
        if scorer.doc() != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match at least {} clauses",
                self.k
            )));
        }
        Ok(Explanation::new_with_string(
            format!("sum of the matching clauses (at least {})", self.k),
            scorer.score(),
        ))
    }
}

/// The first document any of `scorers` is on.
fn first_doc(scorers: &[Box<dyn Scorer>]) -> DocId {
    scorers.iter().map(|s| s.doc()).min().unwrap_or(TERMINATED)
}

/// The sum of the scores of those of `scorers` on `doc`: a union's score, and the score of a
/// document matching at least k clauses.
fn score_on(scorers: &mut [Box<dyn Scorer>], doc: DocId) -> Score {
    scorers
        .iter_mut()
        .filter(|s| s.doc() == doc)
        .map(|s| s.score())
        .sum()
}

/// `scorers`' size hints added up (a union's).
fn size_hints(scorers: &[Box<dyn Scorer>]) -> u32 {
    scorers
        .iter()
        .map(|s| s.size_hint())
        .fold(0u32, u32::saturating_add)
}

/// `scorers`' costs added up (a union's).
fn costs(scorers: &[Box<dyn Scorer>]) -> u64 {
    scorers.iter().map(|s| s.cost()).sum()
}

/// A union that answers a seek by seeking each of its clauses. tantivy's union buffers a
/// window of 4,096 documents: a seek past the window decodes every clause's documents in the
/// next one, so a union only ever sought to candidates (a word's five fields and synonyms,
/// in the all-but-one tier) cost as much as walking it whole. Seeking a term's postings skips
/// whole blocks instead. The score is the sum of the matching clauses', as the union's.
///
/// Each clause's document is kept beside it, and exhausted clauses are dropped (a word's
/// union has many: a field or synonym without the term in this segment is an empty scorer),
/// so a seek that moves nothing makes no call: the calls to clauses' `doc` were a quarter of
/// a long question's all-but-one pass at 100k documents.
struct SoughtUnion {
    parts: Vec<Box<dyn Scorer>>,
    /// `parts[i].doc()`.
    docs: Vec<DocId>,
    doc: DocId,
}

impl SoughtUnion {
    fn new(parts: Vec<Box<dyn Scorer>>) -> SoughtUnion {
        let parts: Vec<Box<dyn Scorer>> = parts
            .into_iter()
            .filter(|p| p.doc() != TERMINATED)
            .collect();
        let docs = parts.iter().map(|p| p.doc()).collect();
        let mut u = SoughtUnion {
            parts,
            docs,
            doc: 0,
        };
        u.settle();
        u
    }

    /// The smallest clause document; exhausted clauses go (in order: the score's sum keeps
    /// its order).
    fn settle(&mut self) -> DocId {
        if self.docs.contains(&TERMINATED) {
            let mut i = 0;
            self.parts.retain(|_| {
                i += 1;
                self.docs[i - 1] != TERMINATED
            });
            self.docs.retain(|d| *d != TERMINATED);
        }
        self.doc = self.docs.iter().copied().min().unwrap_or(TERMINATED);
        self.doc
    }
}

impl DocSet for SoughtUnion {
    fn advance(&mut self) -> DocId {
        let current = self.doc;
        for (p, d) in self.parts.iter_mut().zip(&mut self.docs) {
            if *d == current {
                *d = p.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for (p, d) in self.parts.iter_mut().zip(&mut self.docs) {
            if *d < target {
                *d = p.seek(target);
            }
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        size_hints(&self.parts)
    }

    fn cost(&self) -> u64 {
        costs(&self.parts)
    }
}

impl Scorer for SoughtUnion {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        self.parts
            .iter_mut()
            .zip(&self.docs)
            .filter(|(_, d)| **d == doc)
            .map(|(p, _)| p.score())
            .sum()
    }
}

struct AtLeastScorer {
    /// Rarest first; `clauses[..leaders]` propose candidates, unless `candidates` do.
    clauses: Vec<Box<dyn Scorer>>,
    leaders: usize,
    k: usize,
    doc: DocId,
    /// The segment's documents known to have `k` clauses (see [`AtLeast::with_candidates`]):
    /// then every clause is sought to each of them, from `next` on.
    candidates: Option<Vec<u64>>,
    next: DocId,
}

/// The first document at or after `from` set in `bits`, or `TERMINATED`.
fn next_set(bits: &[u64], from: DocId) -> DocId {
    let mut i = from as usize / 64;
    let Some(&first) = bits.get(i) else {
        return TERMINATED;
    };
    let mut w = first & (u64::MAX << (from % 64));
    loop {
        if w != 0 {
            return i as DocId * 64 + w.trailing_zeros();
        }
        i += 1;
        match bits.get(i) {
            Some(&next) => w = next,
            None => return TERMINATED,
        }
    }
}

impl AtLeastScorer {
    /// From the leaders' current positions (or `next`, with candidates), the first candidate
    /// having `k` clauses: the leaders on it count, the others are sought to it.
    fn settle(&mut self) -> DocId {
        loop {
            let candidate = match &self.candidates {
                Some(bits) => next_set(bits, self.next),
                None => first_doc(&self.clauses[..self.leaders]),
            };
            if candidate == TERMINATED {
                return TERMINATED;
            }
            let seek_from = if self.candidates.is_some() {
                0
            } else {
                self.leaders
            };
            let mut have = 0;
            let n = self.clauses.len();
            for (i, c) in self.clauses.iter_mut().enumerate() {
                // Not enough clauses left to reach k.
                if have + (n - i) < self.k {
                    break;
                }
                let mut d = c.doc();
                if i >= seek_from && d < candidate {
                    d = c.seek(candidate);
                }
                have += usize::from(d == candidate);
            }
            if have >= self.k {
                return candidate;
            }
            if self.candidates.is_some() {
                self.next = candidate + 1;
                continue;
            }
            for c in &mut self.clauses[..self.leaders] {
                if c.doc() == candidate {
                    c.advance();
                }
            }
        }
    }
}

impl DocSet for AtLeastScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        let current = self.doc;
        if self.candidates.is_some() {
            self.next = current + 1;
        } else {
            for c in &mut self.clauses[..self.leaders] {
                if c.doc() == current {
                    c.advance();
                }
            }
        }
        self.doc = self.settle();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        if self.candidates.is_some() {
            self.next = target;
        } else {
            for c in &mut self.clauses[..self.leaders] {
                if c.doc() < target {
                    c.seek(target);
                }
            }
        }
        self.doc = self.settle();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        size_hints(&self.clauses[..self.leaders])
    }

    fn cost(&self) -> u64 {
        costs(&self.clauses[..self.leaders])
    }
}

impl Scorer for AtLeastScorer {
    fn score(&mut self) -> Score {
        score_on(&mut self.clauses, self.doc)
    }
}

/// Whether some document is in at least `k` of `words` (each a word's documents as bits, a
/// u64 per 64 documents), for `k` of all of them or all but one; other `k` answer true
/// (unknown).
pub(super) fn any_with(words: &[Vec<u64>], k: usize) -> bool {
    let n = words.len();
    let len = words.iter().map(Vec::len).min().unwrap_or(0);
    if k == 0 || k + 1 < n || n == 0 {
        return true;
    }
    if k > n {
        return false;
    }
    // For all but one: the ANDs of the words after each j, per 64 documents.
    let mut after = vec![!0u64; n + 1];
    for i in 0..len {
        if k == n {
            if words.iter().fold(!0u64, |a, w| a & w[i]) != 0 {
                return true;
            }
            continue;
        }
        for j in (0..n).rev() {
            after[j] = after[j + 1] & words[j][i];
        }
        // Missing at most word j: the words before it and after it.
        let mut before = !0u64;
        for (j, w) in words.iter().enumerate() {
            if before & after[j + 1] != 0 {
                return true;
            }
            before &= w[i];
        }
    }
    false
}

/// The documents in at least `k` of `words` (each a word's documents as bits), for `k` of
/// all of them or all but one; `None` for other `k`.
pub(super) fn bits_with(words: &[Vec<u64>], k: usize) -> Option<Vec<u64>> {
    let n = words.len();
    if n == 0 || k == 0 || k > n || k + 1 < n {
        return None;
    }
    let len = words.iter().map(Vec::len).min().unwrap_or(0);
    let mut out = vec![0u64; len];
    let mut after = vec![!0u64; n + 1];
    for (i, o) in out.iter_mut().enumerate() {
        for j in (0..n).rev() {
            after[j] = after[j + 1] & words[j][i];
        }
        if k == n {
            *o = after[0];
            continue;
        }
        // Missing at most word j: the words before it and after it.
        let mut before = !0u64;
        for (j, w) in words.iter().enumerate() {
            *o |= before & after[j + 1];
            before &= w[i];
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `any_with` answers as counting each document's words would, for all and all but one
    /// of 1–6 words of random sparse and dense bits, and for the document in the last word.
    #[test]
    fn any_with_agrees_with_counting() {
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut found = [0usize; 2];
        for round in 0..400 {
            let n = 1 + round % 6;
            let len = 1 + round % 3;
            let words: Vec<Vec<u64>> = (0..n)
                .map(|_| {
                    (0..len)
                        .map(|_| match round % 3 {
                            0 => next() & next() & next(),
                            1 => next() | next(),
                            _ => 1u64 << (next() % 64),
                        })
                        .collect()
                })
                .collect();
            for k in [n, n - 1] {
                let want = (0..len * 64).any(|d| {
                    let have = words
                        .iter()
                        .filter(|w| w[d / 64] >> (d % 64) & 1 == 1)
                        .count();
                    have >= k.max(1)
                });
                assert_eq!(any_with(&words, k), want || k == 0, "{n} words, k {k}");
                found[usize::from(want)] += 1;
            }
        }
        assert!(found[0] > 50 && found[1] > 50, "{found:?}");
    }
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, Occur};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{doc, Index};

    /// Every k of every word set, over documents having every subset of six words (some
    /// repeated, so scores differ): the documents with at least k of the words, each scored
    /// as the sum of its matching words, as the plain disjunction scores it.
    #[test]
    fn matches_exactly_the_documents_having_k_clauses_scored_as_their_sum() {
        let mut b = Schema::builder();
        let f = b.add_text_field("t", TEXT);
        // The first documents' text again: its postings end early (see the unions below).
        let u = b.add_text_field("u", TEXT);
        let index = Index::create_in_ram(b.build());
        let words = ["aa", "bb", "cc", "dd", "ee", "ff"];
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut have: Vec<u32> = Vec::new();
        for mask in 0u32..64 {
            for copy in 0..3 {
                // Every seventh document has a rare word, to lead an intersection.
                let mut text = String::from(if have.len().is_multiple_of(7) {
                    "qq"
                } else {
                    "x"
                });
                for (i, word) in words.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        text.push(' ');
                        text.push_str(&[*word].repeat(1 + (copy + i) % 3).join(" "));
                    }
                }
                if have.len() < 20 {
                    w.add_document(doc!(f => text.clone(), u => text)).unwrap();
                } else {
                    w.add_document(doc!(f => text)).unwrap();
                }
                have.push(mask);
            }
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        // A boosted term (as plans build them) scores as tantivy's term query; a union of
        // them can be read as a conjunction's word.
        let term_in = |field, word: &str| -> Box<dyn Query> {
            Box::new(super::super::flatten::BoostedTerm::new(
                Term::from_field_text(field, word),
                1.0,
            ))
        };
        let term = |word: &str| term_in(f, word);
        let top = |q: &dyn Query| -> Vec<(u32, Score)> {
            let mut v: Vec<(u32, Score)> = searcher
                .search(q, &TopDocs::with_limit(1000).order_by_score())
                .unwrap()
                .into_iter()
                .map(|(s, a)| (a.doc_id, s))
                .collect();
            v.sort_by_key(|x| x.0);
            v
        };
        let mut checked = 0;
        let mut sought_checked = 0;
        // Word sets: the first n words, and a set with a word no document has; each word as
        // a term, and as a union (the term twice, so both parts score; in the field only the
        // first documents have, a part exhausted early; and a word no document has, an empty
        // part), which the scorer seeks clause by clause when it does not lead.
        let sets: [&[&str]; 4] = [
            &words[..3],
            &words[..4],
            &words[..6],
            &["aa", "zz", "cc", "dd"][..],
        ];
        for (set, unions) in sets.iter().flat_map(|s| [(*s, false), (*s, true)]) {
            let clauses = || {
                set.iter()
                    .map(|w| {
                        if unions {
                            Box::new(BooleanQuery::new(vec![
                                (Occur::Should, term(w)),
                                (Occur::Should, term_in(u, w)),
                                (Occur::Should, term("zz")),
                                (Occur::Should, term(w)),
                            ])) as Box<dyn Query>
                        } else {
                            term(w)
                        }
                    })
                    .collect::<Vec<_>>()
            };
            let any =
                BooleanQuery::new(clauses().into_iter().map(|q| (Occur::Should, q)).collect());
            let any_scores = top(&any);
            for k in 1..=set.len() + 1 {
                let got = top(&AtLeast::new(clauses(), k));
                let want: Vec<u32> = (0..have.len() as u32)
                    .filter(|&d| {
                        let n = set
                            .iter()
                            .filter(|w| {
                                words
                                    .iter()
                                    .position(|x| x == *w)
                                    .is_some_and(|i| have[d as usize] & (1 << i) != 0)
                            })
                            .count();
                        n >= k
                    })
                    .collect();
                assert_eq!(
                    got.iter().map(|x| x.0).collect::<Vec<_>>(),
                    want,
                    "{set:?} k={k}"
                );
                // Inside a conjunction led by the rare word: reached by `seek`.
                let both = BooleanQuery::new(vec![
                    (
                        Occur::Must,
                        Box::new(AtLeast::new(clauses(), k)) as Box<dyn Query>,
                    ),
                    (Occur::Must, term("qq")),
                ]);
                let rare: Vec<u32> = want.iter().copied().filter(|d| d % 7 == 0).collect();
                assert!(k > 3 || !rare.is_empty(), "{set:?} k={k}");
                assert_eq!(
                    top(&both).iter().map(|x| x.0).collect::<Vec<_>>(),
                    rare,
                    "{set:?} k={k}"
                );
                for (d, s) in &got {
                    let (_, sum) = any_scores.iter().find(|x| x.0 == *d).unwrap();
                    assert!(
                        (s - sum).abs() < 1e-4,
                        "{set:?} k={k} doc {d}: {s} vs {sum}"
                    );
                }
                checked += got.len();
                // Visiting only the candidates the words' bits give (all of them, or all but
                // one): the same documents with the same scores, alone and as a tier beside
                // optional words (sought clause by clause instead of tantivy's union).
                let word_bits: Vec<Vec<u64>> = set
                    .iter()
                    .map(|w| {
                        let mut bits = vec![0u64; have.len().div_ceil(64)];
                        for d in 0..have.len() {
                            let i = words.iter().position(|x| x == w);
                            if i.is_some_and(|i| have[d] & (1 << i) != 0) {
                                bits[d / 64] |= 1 << (d % 64);
                            }
                        }
                        bits
                    })
                    .collect();
                let Some(bits) = bits_with(&word_bits, k) else {
                    assert!(k + 1 < set.len() || k > set.len(), "{set:?} k={k}");
                    continue;
                };
                let from_bits: Vec<u32> = (0..have.len() as u32)
                    .filter(|&d| bits[d as usize / 64] >> (d % 64) & 1 == 1)
                    .collect();
                assert_eq!(from_bits, want, "{set:?} k={k}");
                let segment = searcher.segment_readers()[0].segment_id();
                let candidates: Candidates = Arc::new([(segment, bits)].into_iter().collect());
                let alone = AtLeast::new(clauses(), k).with_candidates(candidates.clone());
                assert_eq!(top(&alone), got, "{set:?} k={k}");
                // Read as a conjunction of at least k words (term at a time; the words are
                // terms or unions of them): the same again, to the bit.
                let as_conjunction = |q: &dyn Query| {
                    super::super::conjunction::Conjunction::read(q).expect("words of terms")
                };
                assert_eq!(top(&as_conjunction(&alone)), got, "{set:?} k={k}");
                // Without candidates for the segment, from the words' own documents.
                let none = AtLeast::new(clauses(), k).with_candidates(Default::default());
                assert_eq!(top(&as_conjunction(&none)), got, "{set:?} k={k}");
                let optional = || -> Vec<(Occur, Box<dyn Query>)> {
                    vec![
                        (
                            Occur::Should,
                            Box::new(BooleanQuery::new(vec![
                                (Occur::Should, term("x")),
                                (Occur::Should, term_in(u, "x")),
                            ])),
                        ),
                        (Occur::Should, term("qq")),
                        (
                            Occur::Should,
                            Box::new(BooleanQuery::new(vec![
                                (Occur::Should, term_in(u, "aa")),
                                (Occur::Should, term("ee")),
                                (Occur::Should, term("bb")),
                            ])),
                        ),
                    ]
                };
                let mut tier = vec![(
                    Occur::Must,
                    Box::new(AtLeast::new(clauses(), k)) as Box<dyn Query>,
                )];
                tier.extend(optional());
                let tier = BooleanQuery::new(tier);
                let sought =
                    with_candidates(&tier, |asked| (asked == k).then(|| candidates.clone()))
                        .expect("a tier of that shape");
                let (want_tier, got_tier) = (top(&tier), top(&*sought));
                assert_eq!(got_tier, want_tier, "{set:?} k={k}");
                assert_eq!(top(&as_conjunction(&*sought)), want_tier, "{set:?} k={k}");
                assert_eq!(want_tier.len(), want.len());
                sought_checked += got_tier.len();
            }
        }
        assert!(checked > 500, "{checked}");
        assert!(sought_checked > 200, "{sought_checked}");
    }
}
