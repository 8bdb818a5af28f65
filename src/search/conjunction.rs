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
//! A tier's conjunction can also rule out the documents that cannot reach the page ([`Cut`]):
//! with the rare terms read first and every bonus clause bounded at each document, the common
//! terms are then read only for the few documents left, and the collector never looks at the
//! others' bonuses.
//!
//! An all-but-one tier whose documents are known from its words' bits (see
//! `at_least::AtLeast::with_candidates`) runs here too: those documents are the matches, each
//! word is scored where it is, and the words are summed in the order `AtLeast` sums them.
//!
//! A conjunction inside an any-word tier's union (an unknown compound's parts, all required)
//! runs here too, under the tier's cut, the union's other terms bounded as bonuses
//! ([`with_inner_cut`]); the union around it stays tantivy's.
//!
//! The shape is read off the flattened query ([`Conjunction::read`]); any other shape runs as
//! tantivy's boolean query.

use super::at_least::{self, Candidates};
use super::dense::{set_all, DenseCache};
use super::ranked::Shape;
use super::terms::TermInfos;
use super::{flatten, Priors};
use std::sync::atomic::{AtomicU32, Ordering};
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

#[cfg(test)]
thread_local! {
    /// Documents ruled out of pages on this thread (see [`Cut`]), for tests to see it work.
    pub(super) static RULED_OUT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
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
    cut: Option<Cut>,
    /// Dense terms' kept bits, per segment (see [`super::dense`]).
    dense: Option<DenseCache>,
    /// At least this many of `required` instead of all, with each segment's documents that
    /// have them (an all-but-one tier, `at_least::AtLeast::with_candidates`).
    at_least: Option<(usize, Candidates)>,
    /// Its terms' BM25 weights as the search weighed them already (see [`term_bm25`]).
    weights: Option<TermWeights>,
    /// Per segment, its documents (deleted ones too), when the search knows them already:
    /// an all-words tier's, from the words' bits that the tier check read.
    known: Option<Candidates>,
    /// Its terms' entries per segment as the search read them (see [`super::terms`]).
    infos: TermInfos,
}

/// Single terms' BM25 weights, each computed once per search.
#[derive(Clone)]
pub(super) struct TermWeights(pub std::sync::Arc<rustc_hash::FxHashMap<Term, Bm25Weight>>);

impl std::fmt::Debug for TermWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TermWeights({} terms)", self.0.len())
    }
}

/// A single term's BM25 weight: `Bm25Weight::for_terms` of the one term without its
/// explanation (three strings and a list allocated per weight, and cloned per segment, for an
/// explanation nothing asks for), the same weight and length table to the bit.
pub(super) fn term_bm25(
    stats: &dyn tantivy::query::Bm25StatisticsProvider,
    term: &Term,
) -> tantivy::Result<Bm25Weight> {
    let total_num_docs = stats.total_num_docs()?;
    // As `Bm25Weight::for_terms` averages.
    let average_fieldnorm =
        stats.total_num_tokens(term.field())? as Score / total_num_docs as Score;
    Ok(Bm25Weight::for_one_term_without_explain(
        stats.doc_freq(term)?,
        total_num_docs,
        average_fieldnorm,
    ))
}

impl Clone for Conjunction {
    fn clone(&self) -> Self {
        Conjunction {
            required: self.required.clone(),
            optional: self.optional.clone(),
            excluded: self.excluded.iter().map(|q| q.box_clone()).collect(),
            cut: self.cut.clone(),
            dense: self.dense.clone(),
            weights: self.weights.clone(),
            known: self.known.clone(),
            at_least: self.at_least.clone(),
            infos: self.infos.clone(),
        }
    }
}

/// What the page wants of a tier, so that its scorer can rule out documents that cannot reach
/// it before the collector looks at their bonus clauses (`ranked::Ranked`). The collector's
/// own bound is each bonus's largest score anywhere, and the tier's bonuses (the phrase in
/// three fields, the official forms of colloquial words in five) bound hundreds of points
/// where the page's threshold is tens to a couple of hundred: at 100k documents it evaluated
/// every bonus of every one of 社保卡丢了怎么补办's 24k matches. Here each bonus is bounded at each
/// document from the postings of its terms there (see [`Shape`]): a document whose score with
/// those bounds added, times its priors' factor, stays below the `n`-th best of the segment's
/// scores without bonuses (each a lower bound of a final score) cannot be on the page. It is
/// handed to the collector with a score of −∞: counted, never ranked. The page is the same,
/// to the bit: every other document's score is untouched.
#[derive(Clone, Debug)]
pub(super) struct Cut {
    /// Documents the page takes from the tier: its offset plus its limit.
    pub n: usize,
    /// Segments where the tier matches at most this many documents are left alone
    /// ([`CUT_MIN_DOCS`]).
    pub min_docs: usize,
    pub priors: Priors,
    /// The tier's bonus clauses: their shapes where known, and their bounds anywhere.
    pub bonus: Vec<(Option<Shape>, Score)>,
    /// Whether a conjunction of one word (beside optional ones) is looked at too: yes for a
    /// tier whose documents all match its one word (营业执照 材料: 材料 only ranks), no for an
    /// any-word tier, whose one word is every word's terms and whose documents match a word
    /// or two: there the page's threshold stays below the common terms' bounds, and looking
    /// cost up to 0.5 ms at 100k documents for nothing.
    pub one_word: bool,
}

impl Conjunction {
    /// Every word of `required`, nothing else beside them yet.
    fn of(required: Vec<Word>) -> Conjunction {
        Conjunction {
            required,
            optional: Vec::new(),
            excluded: Vec::new(),
            cut: None,
            dense: None,
            weights: None,
            known: None,
            at_least: None,
            infos: TermInfos::default(),
        }
    }

    /// `query` as a conjunction of words (two or more, or one beside optional words or
    /// exclusions), when it is one: a boolean query (no minimum of `Should` clauses) whose
    /// `Must` clauses are each a union of boosted terms, whose `Should` clauses (ranking only)
    /// are too, beside any `MustNot` clauses. A single `Must` clause of that shape beside
    /// `MustNot` clauses is looked into (tantivy scores an intersection of one as that one).
    pub fn read(query: &dyn Query) -> Option<Conjunction> {
        if let Some((words, k, candidates)) = at_least::AtLeast::candidates_of(query) {
            let required = words
                .iter()
                .map(|w| flatten::boosted_terms(&**w))
                .collect::<Option<_>>()?;
            return Some(Conjunction {
                at_least: Some((k, candidates.clone())),
                ..Conjunction::of(required)
            });
        }
        let b = query.downcast_ref::<BooleanQuery>()?;
        if b.get_minimum_number_should_match() != 0 {
            return None;
        }
        let mut c = Conjunction::of(Vec::new());
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
                Occur::Should => match at_least::Sought::clauses_of(&**q) {
                    // Optional words sought term by term: the same words.
                    Some(words) => {
                        for w in words {
                            c.optional.push(flatten::boosted_terms(&**w)?);
                        }
                    }
                    None => c.optional.push(flatten::boosted_terms(&**q)?),
                },
            }
        }
        // At least k of the words, the documents known per segment: the one `Must` clause.
        if let Some(inner) = inner.filter(|q| at_least::AtLeast::candidates_of(*q).is_some()) {
            if !c.required.is_empty() {
                return None;
            }
            let mut words = Conjunction::read(inner)?;
            words.optional = c.optional;
            words.excluded = c.excluded;
            return Some(words);
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
        // One word is read when something beside it runs slower in tantivy: optional words
        // (its required-optional scorer) or exclusions (营业执照 -注销: its exclusion scorer
        // seeks the excluded words' union at every match; 身份证 -补领 ranked in 0.75 ms at
        // 100k documents there, 0.48 ms here). Alone, it is tantivy's union.
        let beside = !c.optional.is_empty() || !c.excluded.is_empty();
        (c.required.len() >= 2 || (c.required.len() == 1 && beside)).then_some(c)
    }

    /// Rule out documents that cannot reach the page (see [`Cut`]) when scoring.
    pub fn with_cut(mut self, cut: Cut) -> Conjunction {
        self.cut = Some(cut);
        self
    }

    /// Match dense terms from their kept bits (see [`super::dense`]), when given.
    pub fn with_dense(mut self, dense: Option<DenseCache>) -> Conjunction {
        self.dense = dense;
        self
    }

    /// Take `known` (per segment: exactly the documents holding every required word, deleted
    /// ones too) as its documents instead of gathering them from the words' postings.
    pub fn with_known(mut self, known: Candidates) -> Conjunction {
        self.known = Some(known);
        self
    }

    /// Look its terms up through `infos` (see [`super::terms`]).
    pub fn with_infos(mut self, infos: TermInfos) -> Conjunction {
        self.infos = infos;
        self
    }

    /// Weigh its terms with `weights` where they hold them (see [`term_bm25`]).
    pub fn with_weights(mut self, weights: TermWeights) -> Conjunction {
        self.weights = Some(weights);
        self
    }

    /// Its single terms: its words' and its cut's bonus terms.
    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        let bonus = self
            .cut
            .iter()
            .flat_map(|c| &c.bonus)
            .filter_map(|(shape, _)| match shape {
                Some(Shape::Term(term, _)) => Some(term),
                _ => None,
            });
        self.required
            .iter()
            .chain(&self.optional)
            .flatten()
            .map(|(t, _, _)| t)
            .chain(bonus)
    }
}

/// `query` (a tier whose documents need only some of its words: an any-word tier) with the
/// one conjunction of words inside it (an unknown compound such as 身份证过期, whose parts
/// must all match) run here under `cut`, when every other scoring clause of the query is a
/// term: those terms become bonuses the cut bounds by document. The conjunction's documents
/// that cannot reach the page score −∞, which every sum above them keeps: the collector counts
/// them and ranks none (a document matching no other clause is bounded by the conjunction's
/// own terms, one matching others by theirs too). tantivy scored every such document from an
/// intersection of unions of dense terms, each seek rescoring a window of the next 4,096
/// documents: 身份证过期了怎么换's any-word tier, 20k matches at 100k documents, took 1.2 ms.
/// `prepare` gives the conjunction what the search keeps for it (dense terms, weights);
/// `bound` is a term's score bound anywhere, before its boost.
pub(super) fn with_inner_cut(
    query: &dyn Query,
    cut: &Cut,
    bound: &dyn Fn(&Term) -> Score,
    prepare: &dyn Fn(Conjunction) -> tantivy::Result<Conjunction>,
) -> tantivy::Result<Option<Box<dyn Query>>> {
    /// A conjunction found, with whether every document it matches matches the whole
    /// query but for the exclusions on its way (each query above it a union, or one
    /// requiring only it), and those exclusions.
    struct Inner<'q> {
        query: &'q dyn Query,
        conjunction: Conjunction,
        matches_all: bool,
        excluded: Vec<&'q dyn Query>,
    }
    // The scoring terms outside the conjunction, and the conjunction.
    fn walk<'q>(
        q: &'q dyn Query,
        matches_all: bool,
        excluded: &[&'q dyn Query],
        terms: &mut Vec<(Term, Score)>,
        inner: &mut Vec<Inner<'q>>,
    ) -> bool {
        if let Some(b) = q.downcast_ref::<BooleanQuery>() {
            if let Some(conjunction) = Conjunction::read(q).filter(|c| c.required.len() >= 2) {
                inner.push(Inner {
                    query: q,
                    conjunction,
                    matches_all,
                    excluded: excluded.to_vec(),
                });
                return true;
            }
            let musts = musts(b);
            let mut below = excluded.to_vec();
            below.extend(
                b.clauses()
                    .iter()
                    .filter(|(o, _)| *o == Occur::MustNot)
                    .map(|(_, c)| &**c),
            );
            return b.clauses().iter().all(|(o, c)| {
                let all = matches_all
                    && match o {
                        Occur::Must => musts == 1,
                        Occur::Should => musts == 0 && b.get_minimum_number_should_match() <= 1,
                        Occur::MustNot => return true,
                    };
                walk(&**c, all, &below, terms, inner)
            });
        }
        match flatten::boosted_terms(q).as_deref() {
            // Terms whose frequencies are read (a filter's term scores otherwise).
            Some([(t, boost, true)]) => {
                terms.push((t.clone(), *boost));
                true
            }
            _ => false,
        }
    }
    fn replace(q: &dyn Query, inner: &dyn Query, with: &Conjunction) -> Box<dyn Query> {
        if std::ptr::addr_eq(q, inner) {
            return Box::new(with.clone());
        }
        match q.downcast_ref::<BooleanQuery>() {
            Some(b) => Box::new(BooleanQuery::with_minimum_required_clauses(
                b.clauses()
                    .iter()
                    .map(|(o, c)| (*o, replace(&**c, inner, with)))
                    .collect(),
                b.get_minimum_number_should_match(),
            )),
            None => q.box_clone(),
        }
    }
    /// How many clauses `b` requires.
    fn musts(b: &BooleanQuery) -> usize {
        b.clauses()
            .iter()
            .filter(|(o, _)| *o == Occur::Must)
            .count()
    }
    /// Whether a query below the root (exclusions aside) requires two clauses or more: a
    /// flat union of terms, the common any-word tier, has none and is not walked.
    fn nests(q: &dyn Query, root: bool) -> bool {
        let Some(b) = q.downcast_ref::<BooleanQuery>() else {
            return false;
        };
        (!root && musts(b) >= 2)
            || b.clauses()
                .iter()
                .any(|(o, c)| *o != Occur::MustNot && nests(&**c, false))
    }
    if !nests(query, true) {
        return Ok(None);
    }
    let (mut terms, mut inner) = (Vec::new(), Vec::new());
    if !walk(query, true, &[], &mut terms, &mut inner) {
        return Ok(None);
    }
    // Its documents' scores set the cut's threshold: each must be a match of the query.
    let Ok(
        [Inner {
            query: conj,
            conjunction: mut c,
            matches_all: true,
            excluded,
        }],
    ) = <[Inner; 1]>::try_from(inner)
    else {
        return Ok(None);
    };
    c.excluded.extend(excluded.iter().map(|q| q.box_clone()));
    let mut cut = cut.clone();
    cut.bonus.extend(
        terms
            .into_iter()
            .map(|(t, boost)| (boost * bound(&t), t, boost))
            .map(|(b, t, boost)| (Some(Shape::Term(t, boost)), b)),
    );
    let c = prepare(c.with_cut(cut))?;
    Ok(Some(replace(query, conj, &c)))
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
        let weight_of = |s: &dyn tantivy::query::Bm25StatisticsProvider, term: &Term| match self
            .weights
            .as_ref()
            .and_then(|w| w.0.get(term))
        {
            Some(w) => Ok(w.clone()),
            None => term_bm25(s, term),
        };
        let weigh = |words: &[Word]| -> tantivy::Result<Vec<Vec<WeightedTerm>>> {
            words
                .iter()
                .map(|w| {
                    w.iter()
                        .map(|(term, boost, freqs)| {
                            let bm25 = match stats {
                                Some(s) => Some(weight_of(s, term)?),
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
        let cut = match (&self.cut, stats) {
            (Some(cut), Some(stats)) if self.required.len() >= 2 || cut.one_word => {
                Some(CutWeight::new(cut, stats, &|t| weight_of(stats, t))?)
            }
            _ => None,
        };
        Ok(Box::new(ConjunctionWeight {
            cut,
            at_least: self.at_least.clone(),
            required: weigh(&self.required)?,
            optional: weigh(&self.optional)?,
            excluded: self
                .excluded
                .iter()
                .map(|q| q.weight(scoring))
                .collect::<tantivy::Result<_>>()?,
            dense: self.dense.clone(),
            known: self.known.clone(),
            infos: self.infos.clone(),
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

/// [`Cut`] with its bonuses weighted over the whole index.
struct CutWeight {
    n: usize,
    min_docs: usize,
    priors: Priors,
    /// The bonuses, largest bound first (`ranked::order`).
    bonus: Vec<CutBonus>,
    /// The largest threshold a segment has found so far (the bits of a non-negative `f32`,
    /// which order as the numbers do): `n` documents of that segment score at least that
    /// much, so a document of any segment scoring less cannot reach the page either. The
    /// segments of a query are searched at once on two cores; one that finds many good
    /// documents early rules out more of the other's (社保卡 办理 at 100k documents: 83
    /// documents open in one segment, 3,380 in the other by its own threshold).
    shared: AtomicU32,
}

/// A bonus clause, weighted as it scores, with its bound anywhere.
enum CutBonus {
    Term(WeightedTerm, Score),
    /// A phrase's terms, and its weight (every term's idf, boosted).
    Phrase(Vec<Term>, Bm25Weight, Score),
    Other(Score),
}

impl CutWeight {
    fn new(
        cut: &Cut,
        stats: &dyn tantivy::query::Bm25StatisticsProvider,
        weight_of: &dyn Fn(&Term) -> tantivy::Result<Bm25Weight>,
    ) -> tantivy::Result<Self> {
        let bonus = cut
            .bonus
            .iter()
            .map(|(shape, bound)| {
                Ok(match shape {
                    Some(Shape::Term(term, boost)) => CutBonus::Term(
                        WeightedTerm {
                            term: term.clone(),
                            boost: *boost,
                            freqs: true,
                            bm25: Some(weight_of(term)?),
                        },
                        *bound,
                    ),
                    Some(Shape::Phrase(terms, boost)) => CutBonus::Phrase(
                        terms.clone(),
                        Bm25Weight::for_terms(stats, terms)?.boost_by(*boost),
                        *bound,
                    ),
                    None => CutBonus::Other(*bound),
                })
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(CutWeight {
            n: cut.n,
            min_docs: cut.min_docs,
            priors: cut.priors.clone(),
            bonus,
            shared: AtomicU32::new(0),
        })
    }

    /// The documents of `docs` (indexes into it) that may reach the segment's best `n`, the
    /// others ruled out (see [`Cut`]); `None` when there are too few to rule any out. `words`:
    /// the scored words' terms, `all`: `docs` as bits. `acc` is a buffer indexed by document,
    /// of any contents.
    ///
    /// Only rare terms are read (at most [`RARE_IN`]th of the segment's documents: a word's
    /// title and tags, the rarer synonyms): a document's score with only those is at most its
    /// score, and with every other term's largest score added at least. A bonus's bound is a
    /// term's score if the term is rare, a phrase's at the largest frequency of its terms
    /// where it holds them all if they are all rare, its bound anywhere where it holds its
    /// rare terms if some are, else its bound anywhere. The common terms (the body's, read in
    /// almost every block) are then read only for the documents left.
    fn open(
        &self,
        reader: &SegmentReader,
        words: &[&[SegmentTerm]],
        all: &Bits,
        docs: &[DocId],
        acc: &mut [Score],
        infos: &TermInfos,
    ) -> tantivy::Result<Option<Vec<usize>>> {
        if self.n == 0 || docs.len() <= self.n.max(self.min_docs) {
            return Ok(None);
        }
        let max_doc = reader.max_doc();
        let rare = |df: u32| u64::from(df) * RARE_IN <= u64::from(max_doc);
        // Added to every document: the common terms' and the unread bonuses' bounds.
        let mut anywhere: Score = 0.0;
        let mut rare_terms = Vec::new();
        // The common terms that may still be read (see below), with their bounds.
        let mut common = Vec::new();
        for t in words.iter().flat_map(|w| w.iter()) {
            if rare(t.info.doc_freq) {
                rare_terms.push(t);
            } else if let Some(b) = &t.bm25 {
                anywhere += b.max_score();
                if u64::from(t.info.doc_freq) * MODERATE_IN <= u64::from(max_doc) {
                    common.push((t, b.max_score()));
                }
            }
        }
        common.sort_by(|a, b| b.1.total_cmp(&a.1));
        common.truncate(MAX_MORE_READ);
        // The bonuses: their bounds anywhere added now, those bounded by document for later.
        let mut reads = Vec::new();
        for b in &self.bonus {
            match b {
                CutBonus::Other(bound) => anywhere += bound,
                CutBonus::Term(t, bound) => {
                    let (_, terms) = segment_word(reader, std::slice::from_ref(t), 1.0, infos)?;
                    match terms.into_iter().next() {
                        None => {}
                        Some(term) if rare(term.info.doc_freq) => reads.push(Read::Term(term)),
                        Some(_) => anywhere += bound,
                    }
                }
                CutBonus::Phrase(terms, bm25, bound) => {
                    let mut found = Vec::with_capacity(terms.len());
                    for term in terms {
                        match infos.get(reader, term)? {
                            (inverted, Some(info)) => found.push((inverted, info)),
                            (_, None) => break,
                        }
                    }
                    if found.len() < terms.len() {
                        // Some term is in no document: the phrase in none.
                        continue;
                    }
                    found.retain(|(_, info)| rare(info.doc_freq));
                    if found.is_empty() {
                        anywhere += bound;
                        continue;
                    }
                    let norms = reader
                        .fieldnorms_readers()
                        .get_field(terms[0].field())?
                        .unwrap_or_else(|| FieldNormReader::constant(max_doc, 1));
                    // Its score at the largest frequency where it holds every term, else its
                    // bound where it holds the rare ones.
                    let bm25 = (found.len() == terms.len()).then(|| bm25.clone());
                    reads.push(Read::Phrase(found, bm25, norms, *bound));
                }
            }
        }

        score_word(rare_terms, all, docs, acc)?;
        let mut scores: Vec<Score> = docs.iter().map(|&d| acc[d as usize]).collect();
        // Factors only where needed: a document without a term read scores 0 here.
        let factor = self.priors.factor(reader);
        let max_factor = self.priors.max_factor();
        let mut more = common.into_iter();
        let threshold = loop {
            let mut low: Vec<Score> = (0..docs.len())
                .filter(|&i| scores[i] > 0.0)
                .map(|i| scores[i] * factor(docs[i]))
                .collect();
            // The `n`-th best final score is at least the `n`-th best of these (none when
            // fewer documents have a term read), and at least another segment's threshold.
            // Every score is finite and not negative (BM25 sums times positive factors).
            let own = (low.len() >= self.n).then(|| {
                *low.select_nth_unstable_by(self.n - 1, |a, b| b.total_cmp(a))
                    .1
            });
            let shared = match own {
                Some(t) => self.shared.fetch_max(t.to_bits(), Ordering::Relaxed),
                None => self.shared.load(Ordering::Relaxed),
            };
            let threshold =
                Some(own.unwrap_or(0.0).max(Score::from_bits(shared))).filter(|&t| t > 0.0);
            // The bonuses read by document only add: when the rest leaves many documents
            // open, reading them costs more than ruling out the others saves (a common
            // term's blocks are read for the few left as for all).
            if let Some(threshold) = threshold {
                let open = scores
                    .iter()
                    .filter(|&&s| ((s + anywhere) * 1.0001 + 1e-4) * max_factor >= threshold)
                    .count();
                if open * MOST_OPEN <= docs.len() {
                    break threshold;
                }
            }
            // Read the common term with the largest bound too, if one is left that is not
            // in most documents: it both raises the threshold (the documents holding it
            // score more) and lowers what every document may still add. app办理社保: 办理
            // in nearly every body, but in a sixth of the titles, where it bounds 15 of the
            // 37 points no document was read for, above the page's threshold of 30.
            let Some((t, bound)) = more.next() else {
                return Ok(None);
            };
            score_word([t], all, docs, acc)?;
            scores
                .iter_mut()
                .zip(docs)
                .for_each(|(s, &d)| *s += acc[d as usize]);
            anywhere -= bound;
        };
        // As `ranked`'s bound: a margin for the float rounding of the scorers' sums; the
        // document's own factor only where the largest one leaves it open.
        let reaches = |high: Score, i: usize| {
            let high = high * 1.0001 + 1e-4;
            high * max_factor >= threshold && high * factor(docs[i]) >= threshold
        };

        // The bonuses' bounds by document.
        let mut extra = take_scratch(max_doc as usize);
        docs.iter().for_each(|&d| extra[d as usize] = 0.0);
        let bounded = (|| -> tantivy::Result<()> {
            for r in &reads {
                match r {
                    Read::Term(term) => add_scores(term, all, &mut extra)?,
                    Read::Phrase(found, bm25, norms, bound) => {
                        let has = largest_freqs(found, all, docs, acc)?;
                        for d in has.docs() {
                            extra[d as usize] += match bm25 {
                                Some(w) => w.score(norms.fieldnorm_id(d), acc[d as usize] as u32),
                                None => *bound,
                            };
                        }
                    }
                }
            }
            Ok(())
        })();
        let high: Vec<Score> = docs
            .iter()
            .zip(&scores)
            .map(|(&d, s)| s + anywhere + extra[d as usize])
            .collect();
        give_back(extra);
        bounded?;

        let open = (0..docs.len()).filter(|&i| reaches(high[i], i)).collect();
        Ok(Some(open))
    }
}

/// A bonus bounded by document in a segment (see [`CutWeight::open`]).
enum Read {
    Term(SegmentTerm),
    /// A phrase's rare terms; its weight when they are all of its terms; the fieldnorms of
    /// its field; its bound anywhere.
    Phrase(
        Vec<(
            std::sync::Arc<InvertedIndexReader>,
            tantivy::postings::TermInfo,
        )>,
        Option<Bm25Weight>,
        FieldNormReader,
        Score,
    ),
}

/// A tier's [`Cut`] looks at a segment's matches only when there are more than this many:
/// below, reading the rare terms and the bonuses twice costs about what ruling documents out
/// saves. At 8,000 (before common terms were read and thresholds shared), two-word questions
/// matching 1-7k documents per segment at 100k were 0.1 ms slower, those matching 9-15k
/// 0.2-0.4 ms faster; at 4,000 since, 怎么申请低保 (5.4k per segment) is 25-30 % faster, the
/// mix's sum at 100k 0-2 % (at 10k 2 % slower); at 2,000, 孩子上户口需要什么 (3.7k, a
/// 35-term word) 25 % slower.
pub(super) const CUT_MIN_DOCS: usize = 4000;

/// [`CutWeight::open`] rules documents out only when it can rule out all but one in this
/// many without reading a bonus by document.
const MOST_OPEN: usize = 4;

/// A term in at most one of this many of a segment's documents is rare (see [`CutWeight::open`]).
const RARE_IN: u64 = 16;

/// A common term in at most one of this many of a segment's documents may be read after the
/// rare ones, when they leave too many documents open (see [`CutWeight::open`]).
const MODERATE_IN: u64 = 4;

/// At most this many common terms are read that way.
const MAX_MORE_READ: usize = 3;

/// The documents of `within` (`docs` as a list) holding every one of `terms` (postings
/// found in a segment), and at each of them `acc[doc]` the largest of the terms' frequencies
/// there. Rarest term first: the others are read only in the blocks holding a document that
/// has every term read before.
fn largest_freqs(
    terms: &[(
        std::sync::Arc<InvertedIndexReader>,
        tantivy::postings::TermInfo,
    )],
    within: &Bits,
    docs: &[DocId],
    acc: &mut [Score],
) -> tantivy::Result<Bits> {
    let mut order: Vec<usize> = (0..terms.len()).collect();
    order.sort_by_key(|&i| terms[i].1.doc_freq);
    docs.iter().for_each(|&d| acc[d as usize] = 0.0);
    let mut next = Bits {
        words: vec![0; within.words.len()],
    };
    let mut has = Bits {
        words: within.words.clone(),
    };
    for i in order {
        let (inverted, info) = &terms[i];
        let mut p =
            inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
        next.words.fill(0);
        for_each_block(&mut p, Some(&has), |ds, fs| {
            for (j, &d) in ds.iter().enumerate() {
                if has.contains(d) {
                    next.words[d as usize / 64] |= 1 << (d % 64);
                    let a = &mut acc[d as usize];
                    *a = a.max(fs.map_or(1, |fs| fs[j]) as Score);
                }
            }
        });
        std::mem::swap(&mut has, &mut next);
    }
    Ok(has)
}

struct ConjunctionWeight {
    /// Documents ruled out of the page (scoring only).
    cut: Option<CutWeight>,
    /// See [`Conjunction::at_least`].
    at_least: Option<(usize, Candidates)>,
    required: Vec<Vec<WeightedTerm>>,
    optional: Vec<Vec<WeightedTerm>>,
    excluded: Vec<Box<dyn Weight>>,
    dense: Option<DenseCache>,
    /// See [`Conjunction::known`].
    known: Option<Candidates>,
    /// See [`Conjunction::infos`].
    infos: TermInfos,
}

/// A term's postings in one segment, with what scores them there.
struct SegmentTerm {
    term: Term,
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
    infos: &TermInfos,
) -> tantivy::Result<(u64, Vec<SegmentTerm>)> {
    let mut cost = 0u64;
    let mut terms = Vec::with_capacity(word.len());
    for w in word {
        let field = w.term.field();
        let (inverted, Some(info)) = infos.get(reader, &w.term)? else {
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
            term: w.term.clone(),
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

    /// The bits of `docs`.
    fn of(max_doc: DocId, docs: &[DocId]) -> Bits {
        let mut b = Bits::new(max_doc);
        for &d in docs {
            b.words[d as usize / 64] |= 1 << (d % 64);
        }
        b
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

/// Set the bit of each document of `postings` in the blocks holding one of `within`.
fn set_bits(postings: &mut BlockSegmentPostings, within: &Bits, words: &mut [u64]) {
    for_each_block(postings, Some(within), |docs, _| {
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
            let (cost, terms) = segment_word(reader, w, boost, &self.infos)?;
            if terms.is_empty() && self.at_least.is_none() {
                return Ok(Default::default());
            }
            required.push((cost, terms));
        }
        // At least k words: the documents known, each word scored where it is and summed
        // in `AtLeast`'s order (by cost, ties in clause order, as its scorer sorts them).
        let at_least = self
            .at_least
            .as_ref()
            .map(
                |(k, candidates)| match candidates.get(&reader.segment_id()) {
                    Some(bits) => Ok(bits.clone()),
                    // Not given for this segment: from the words' documents.
                    None => {
                        let words = required
                            .iter()
                            .map(|(_, terms)| {
                                let mut bits = vec![0u64; (max_doc as usize).div_ceil(64)];
                                for t in terms {
                                    set_all(&t.inverted, &t.info, &mut bits)?;
                                }
                                Ok(bits)
                            })
                            .collect::<std::io::Result<Vec<_>>>()?;
                        Ok(at_least::bits_with(&words, *k)
                            .unwrap_or_else(|| vec![0; (max_doc as usize).div_ceil(64)]))
                    }
                },
            )
            .transpose()
            .map_err(|e: std::io::Error| TantivyError::from(e))?;
        // tantivy's intersection order: by cost, ties in clause order. A union's cost is
        // that of its terms' scorers not yet exhausted, and it has read its first 4096
        // documents when the intersection sorts: in a segment that small, every union counts
        // 0 (a word of one term is a plain term scorer and counts its documents).
        if max_doc <= UNION_WINDOW && at_least.is_none() {
            for (cost, terms) in &mut required {
                if terms.len() > 1 {
                    *cost = 0;
                }
            }
        }
        required.sort_by_key(|(cost, _)| *cost);

        // The documents: the cheapest word whole, then each other word where it can still
        // match.
        // A dense term's documents come from its kept bits: all of them, which the
        // intersection below trims as it would the blocks.
        let dense = self
            .dense
            .as_ref()
            .and_then(|d| d.get(&reader.segment_id()))
            .map(|d| &**d);
        let kept = |t: &SegmentTerm, words: &mut [u64]| -> std::io::Result<bool> {
            match dense {
                Some(d) => d.or_into(&t.inverted, &t.term, &t.info, max_doc, words),
                None => Ok(false),
            }
        };
        let mut all = Bits::new(max_doc);
        let mut word = Bits::new(max_doc);
        // The documents known: at least k words' (above), or every word's.
        let known = match (at_least, &self.known) {
            (Some(bits), _) => Some(bits),
            (None, Some(k)) => k.get(&reader.segment_id()).cloned(),
            (None, None) => None,
        };
        let gather = known.is_none();
        if let Some(bits) = known {
            all.words.iter_mut().zip(bits).for_each(|(a, b)| *a = b);
        }
        for (i, (_, terms)) in required.iter().enumerate() {
            if !gather {
                break;
            }
            if i == 0 {
                for t in terms {
                    let words = &mut all.words;
                    super::dense::set_term(dense, &t.inverted, &t.term, &t.info, max_doc, words)?;
                }
            } else {
                word.words.fill(0);
                for t in terms {
                    if !kept(t, &mut word.words)? {
                        set_bits(&mut t.postings(false)?, &all, &mut word.words);
                    }
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
            .iter()
            .find_map(|(_, t)| t.first())
            .is_some_and(|t| t.bm25.is_some());
        if docs.is_empty() || !scoring {
            return Ok((docs, Vec::new()));
        }

        let mut optional = Vec::with_capacity(self.optional.len());
        for w in &self.optional {
            optional.push(segment_word(reader, w, boost, &self.infos)?.1);
        }

        // The scores, summed as tantivy sums them. A word's scores by document: a kept
        // buffer, only ever read where the word was just scored (the matching documents), so
        // never cleared whole; the sums by rank among the matching documents.
        let mut acc = take_scratch(max_doc as usize);
        let scored = (|| -> tantivy::Result<Vec<Score>> {
            // The documents that can reach the page (indexes into `docs`), when a cut says.
            let open = match &self.cut {
                Some(cut) => {
                    let words: Vec<&[SegmentTerm]> = required
                        .iter()
                        .map(|(_, t)| t.as_slice())
                        .chain(optional.iter().map(Vec::as_slice))
                        .collect();
                    cut.open(reader, &words, &all, &docs, &mut acc, &self.infos)?
                }
                None => None,
            };
            #[cfg(test)]
            if let Some(open) = &open {
                RULED_OUT.with(|c| c.set(c.get() + docs.len() - open.len()));
            }
            let kept: Vec<DocId>;
            let (bits, scored_docs) = match &open {
                Some(open) => {
                    kept = open.iter().map(|&i| docs[i]).collect();
                    (&Bits::of(max_doc, &kept), &kept)
                }
                None => (&all, &docs),
            };
            let mut left = vec![0.0 as Score; scored_docs.len()];
            let mut rest = vec![0.0 as Score; scored_docs.len()];
            for (i, (_, terms)) in required.iter().enumerate() {
                score_word(terms, bits, scored_docs, &mut acc)?;
                // At least k: one sum, word after word (a word a document lacks adds 0).
                let sums = if i < 2 || self.at_least.is_some() {
                    &mut left
                } else {
                    &mut rest
                };
                for (s, &d) in sums.iter_mut().zip(scored_docs) {
                    *s = if i == 0 {
                        acc[d as usize]
                    } else {
                        *s + acc[d as usize]
                    };
                }
            }
            if required.len() > 2 && self.at_least.is_none() {
                left.iter_mut().zip(&rest).for_each(|(l, r)| *l += r);
            }
            if !optional.is_empty() {
                // The optional words' union, added to a document they match.
                let opt = &mut rest;
                opt.fill(0.0);
                for terms in &optional {
                    score_word(terms, bits, scored_docs, &mut acc)?;
                    for (o, &d) in opt.iter_mut().zip(scored_docs) {
                        *o += acc[d as usize];
                    }
                }
                left.iter_mut().zip(opt.iter()).for_each(|(l, o)| *l += o);
            }
            Ok(match open {
                // The others are ruled out: −∞.
                Some(open) => {
                    let mut all_scores = vec![Score::NEG_INFINITY; docs.len()];
                    for (&i, s) in open.iter().zip(left) {
                        all_scores[i] = s;
                    }
                    all_scores
                }
                None => left,
            })
        })();
        give_back(acc);
        Ok((docs, scored?))
    }
}

/// `acc[doc]`: the word's score at each document of `docs` (`bits` as a list): its terms'
/// BM25 scores summed in clause order (tantivy's union adds a term's score as it finds it
/// matching).
fn score_word<'a>(
    terms: impl IntoIterator<Item = &'a SegmentTerm>,
    bits: &Bits,
    docs: &[DocId],
    acc: &mut [Score],
) -> tantivy::Result<()> {
    docs.iter().for_each(|&d| acc[d as usize] = 0.0);
    for t in terms {
        add_scores(t, bits, acc)?;
    }
    Ok(())
}

/// Documents of a posting block.
const BLOCK: usize = 128;

/// `acc[doc] +=` the term's BM25 score at each document of `bits` holding it.
fn add_scores(t: &SegmentTerm, bits: &Bits, acc: &mut [Score]) -> tantivy::Result<()> {
    let (Some(bm25), Some(norms)) = (&t.bm25, &t.fieldnorms) else {
        return Ok(());
    };
    let mut p = t.postings(true)?;
    // A block's documents in `bits` gathered first without a branch, then scored: testing
    // each posting's bit and scoring it in one loop mispredicted about every other posting
    // of a common term.
    let mut kept = [(0 as DocId, 0u32); BLOCK];
    let mut add = |ds: &[DocId], fs: Option<&[u32]>| {
        for (at, chunk) in ds.chunks(BLOCK).enumerate() {
            let mut n = 0;
            for (i, &d) in chunk.iter().enumerate() {
                // tantivy's postings answer 1 where frequencies are not read.
                kept[n] = (d, fs.map_or(1, |fs| fs[at * BLOCK + i]));
                n += usize::from(bits.contains(d));
            }
            for &(d, f) in &kept[..n] {
                acc[d as usize] += bm25.score(norms.fieldnorm_id(d), f);
            }
        }
    };
    for_each_block(&mut p, Some(bits), |ds, fs| add(ds, fs.filter(|_| t.freqs)));
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

    /// The matches straight from their lists: a collector walking tens of thousands of them
    /// (most ruled out by a [`Cut`], counted all the same) paid two virtual calls per
    /// document through the boxed scorer.
    fn for_each(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        let (docs, scores) = self.matches(reader, 1.0)?;
        if scores.is_empty() {
            // Not scoring: every document scores 0, as `Scored` answers.
            docs.iter().for_each(|&d| callback(d, 0.0));
        } else {
            docs.iter().zip(&scores).for_each(|(&d, &s)| callback(d, s));
        }
        Ok(())
    }

    fn for_each_no_score(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(&[DocId]),
    ) -> tantivy::Result<()> {
        let (docs, _) = self.matches(reader, 1.0)?;
        if !docs.is_empty() {
            callback(&docs);
        }
        Ok(())
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
pub(super) mod tests {
    use super::*;
    use crate::search::flatten::{flatten, BoostedTerm};
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::TermQuery;
    use tantivy::schema::{Field, Schema, STRING, TEXT};
    use tantivy::{doc, DocAddress, Index, IndexWriter};

    /// A conjunction ruling out documents by its bonuses' bounds at each document (see
    /// [`Cut`]) gives the pages the full conjunction gives, where the bonuses decide them.
    /// Short documents scoring high on the two words come first on the words alone; longer
    /// ones (all of one length, each word once) score lower, and some are lifted above the
    /// short ones by a bonus phrase held four times, others by a bonus word held three times
    /// (boosts set from the scores so that they are, and so that the phrase's score at one
    /// occurrence would not): a bound short of either (the phrase's at one occurrence, the
    /// word's left out) rules them out and fails the test.
    #[test]
    fn cut_pages_equal_the_full_pages_where_bonuses_decide() {
        use crate::search::ranked::{Ranked, Shape};
        use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery};
        let (index, f, mut w) = one_text_field();
        let long = |head: &str| {
            let n = head.split(' ').count();
            format!("{head} {}", "z ".repeat(64 - n))
        };
        for i in 0..3000 {
            // Every bonus and required word in fewer than one in 16 documents: rare.
            w.add_document(doc!(f => format!("y{} z", i % 50)))
                .expect("add");
            let text = match i % 200 {
                0 | 3 => "a a a q b b".to_string(),
                1 => long("a b d e d e d e d e"),
                2 => long("a b c c c"),
                _ if i % 30 == 20 => long("a b"),
                _ => continue,
            };
            w.add_document(doc!(f => text)).expect("add");
        }
        // The phrase once, at the same length.
        w.add_document(doc!(f => long("a b d e"))).expect("add");
        w.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let term = |t: &str| Term::from_field_text(f, t);
        let scores = |q: &dyn Query| -> Vec<Score> {
            let top = TopDocs::with_limit(500).order_by_score();
            let v = searcher.search(q, &top).expect("search");
            v.into_iter().map(|(s, _)| s).collect()
        };
        let both = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(BoostedTerm::new(term("a"), 1.0)) as Box<dyn Query>,
            ),
            (Occur::Must, Box::new(BoostedTerm::new(term("b"), 1.0))),
        ]);
        let words = scores(&both);
        let (short, long_score) = (words[0], words[words.len() - 1]);
        let gap = short - long_score;
        let de = || PhraseQuery::new_with_offset_and_slop(vec![(0, term("d")), (1, term("e"))], 2);
        let phrase = scores(&de());
        let (four, once) = (phrase[0], phrase[phrase.len() - 1]);
        let c = scores(&BoostedTerm::new(term("c"), 1.0))[0];
        // The phrase's documents first, then the bonus word's, then the short ones.
        let (boost_p, boost_c) = (1.3 * gap / four, 1.2 * gap / c);
        assert!(
            gap > 0.0 && boost_p * once < 0.9 * gap,
            "{short} {long_score} {four} {once}"
        );
        let bonus = [
            (
                Box::new(BoostQuery::new(Box::new(de()), boost_p)) as Box<dyn Query>,
                boost_p * crate::search::bm25_bound(&searcher, &[term("d"), term("e")]),
                Shape::Phrase(vec![term("d"), term("e")], boost_p),
            ),
            (
                Box::new(BoostedTerm::new(term("c"), boost_c)),
                boost_c * crate::search::bm25_bound(&searcher, &[term("c")]),
                Shape::Term(term("c"), boost_c),
            ),
        ];
        let priors = crate::search::Priors::for_query("", &[]);
        let scoring = EnableScoring::enabled_from_searcher(&searcher);
        let page = |limit: usize, offset: usize, cut: bool, with_bonus: bool| {
            let mut q = Conjunction::of(vec![
                vec![(term("a"), 1.0, true)],
                vec![(term("b"), 1.0, true)],
            ]);
            if cut {
                q = q.with_cut(Cut {
                    n: limit + offset,
                    min_docs: 0,
                    priors: priors.clone(),
                    bonus: bonus
                        .iter()
                        .map(|(_, b, s)| (Some(s.clone()), *b))
                        .collect(),
                    one_word: false,
                });
            }
            let ranked = Ranked {
                limit,
                offset,
                priors: priors.clone(),
                bonus: bonus
                    .iter()
                    .filter(|_| with_bonus)
                    .map(|(q, b, _)| (q.weight(scoring).expect("weight").into(), *b))
                    .collect(),
                companion: Count,
            };
            RULED_OUT.with(|c| c.set(0));
            let (top, count) = searcher.search(&q, &ranked).expect("search");
            (top, count, RULED_OUT.with(|c| c.get()))
        };
        let mut ruled_out = 0;
        for (limit, offset) in [(3, 0), (10, 0), (15, 0), (10, 10), (5, 20), (20, 40)] {
            let (want, count, none) = page(limit, offset, false, true);
            let (got, cut_count, out) = page(limit, offset, true, true);
            assert_eq!((none, cut_count), (0, count));
            assert_eq!(got, want, "limit {limit} offset {offset}");
            let (without, _, _) = page(limit, offset, false, false);
            assert_ne!(without, want, "the bonuses decide the page");
            ruled_out += out;
        }
        assert!(ruled_out >= 100, "{ruled_out} ruled out");
    }

    /// A conjunction of one word (the all-words tier of 营业执照 材料, where 材料 only ranks) is
    /// cut when its tier says so. Its rare term alone leaves every document open (a common
    /// term, boosted as a title is, bounds more than the page's threshold), so the cut reads
    /// that term too: the same pages, most documents ruled out. Without the second read, or
    /// without `one_word`, nothing is ruled out and the test fails.
    #[test]
    fn a_one_word_cut_reads_a_common_term_where_the_rare_ones_leave_too_much_open() {
        let (index, f, mut w) = one_text_field();
        let docs = 4000;
        for i in 0..docs {
            // c in every document (its bound is tiny), m in one in 7 (above the rare line,
            // below the moderate one), r in one in 50 (rare); lengths vary.
            let mut text = String::from("c");
            if i % 7 == 0 {
                text.push_str(" m");
            }
            if i % 50 == 1 {
                text.push_str(" r");
            }
            text.push_str(&" z".repeat(i % 5));
            w.add_document(doc!(f => text)).expect("add");
        }
        w.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let term = |t: &str| Term::from_field_text(f, t);
        let page = |limit: usize, offset: usize, cut: Option<bool>| {
            let mut q = Conjunction::of(vec![vec![
                (term("c"), 1.0, true),
                (term("m"), 8.0, true),
                (term("r"), 1.0, true),
            ]]);
            if let Some(one_word) = cut {
                q = q.with_cut(plain_cut(limit + offset, one_word));
            }
            let ranked = plain_ranked(limit, offset);
            RULED_OUT.with(|c| c.set(0));
            let (top, count) = searcher.search(&q, &ranked).expect("search");
            (top, count, RULED_OUT.with(|c| c.get()))
        };
        for (limit, offset) in [(10, 0), (3, 0), (10, 10), (20, 40)] {
            let (want, count, _) = page(limit, offset, None);
            assert_eq!((want.len(), count), (limit, docs));
            let (not_asked, not_asked_count, none) = page(limit, offset, Some(false));
            assert_eq!((&not_asked, not_asked_count, none), (&want, count, 0));
            let (got, got_count, out) = page(limit, offset, Some(true));
            assert_eq!(
                (&got, got_count),
                (&want, count),
                "limit {limit} offset {offset}"
            );
            assert!(
                out * 2 > docs,
                "limit {limit} offset {offset}: {out} ruled out"
            );
        }
    }

    /// A segment whose own documents set no threshold (too few hold a rare term) rules out
    /// documents by another segment's, once that one has been searched with the same
    /// weight: the same page, and the weak segment's documents ruled out only then. Without
    /// the shared threshold the test fails.
    #[test]
    fn a_segment_rules_out_by_the_threshold_another_found() {
        use tantivy::collector::Collector;
        let (index, f, mut w) = one_text_field();
        // Two segments of the words a and b: 30 documents holding the rare r in the strong
        // one, 5 (fewer than the page) in the weak one.
        for (plain, rare) in [(1000, 30), (1000, 5)] {
            for i in 0..plain + rare {
                let text = if i < rare { "a r b" } else { "a b" };
                w.add_document(doc!(f => text)).expect("add");
            }
            w.commit().expect("commit");
        }
        let searcher = index.reader().expect("reader").searcher();
        let readers = searcher.segment_readers();
        assert_eq!(readers.len(), 2);
        let weak = usize::from(readers[0].num_docs() > readers[1].num_docs());
        let strong = 1 - weak;
        let term = |t: &str| Term::from_field_text(f, t);
        let (limit, offset) = (10, 0);
        let query = |cut: bool| {
            let q = Conjunction::of(vec![
                vec![(term("a"), 1.0, true), (term("r"), 5.0, true)],
                vec![(term("b"), 1.0, true)],
            ]);
            if !cut {
                return q;
            }
            q.with_cut(plain_cut(limit + offset, false))
        };
        let ranked = plain_ranked(limit, offset);
        let (want, count) = searcher.search(&query(false), &ranked).expect("search");
        let scoring = EnableScoring::enabled_from_searcher(&searcher);
        let weight = query(true).weight(scoring).expect("weight");
        let run = |ord: usize| {
            RULED_OUT.with(|c| c.set(0));
            let fruit = ranked
                .collect_segment(&*weight, ord as u32, &readers[ord])
                .expect("collect");
            (fruit, RULED_OUT.with(|c| c.get()))
        };
        let (_, alone) = run(weak);
        let (strong_fruit, strong_out) = run(strong);
        let (weak_fruit, weak_out) = run(weak);
        assert_eq!((alone, strong_out > 900), (0, true), "{strong_out}");
        assert!(
            weak_out > 900,
            "{weak_out} ruled out by the strong segment's threshold"
        );
        let mut fruits = vec![strong_fruit, weak_fruit];
        if weak < strong {
            fruits.swap(0, 1);
        }
        let (got, got_count) = ranked.merge_fruits(fruits).expect("merge");
        assert_eq!((got, got_count), (want, count));
    }

    /// An any-word union holding a conjunction of words (an unknown compound's parts) runs
    /// the conjunction here under the tier's cut, every other word a bonus to its bounds: the
    /// same page and count as tantivy's, documents ruled out, the exclusion above applied. A
    /// conjunction that is one of two required clauses is left alone: its documents need not
    /// match the query, so their scores cannot set the page's threshold.
    #[test]
    fn a_union_holding_a_conjunction_cuts_it_to_the_same_page() {
        let (searcher, fields, _, _) = corpus();
        let conj = || -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, word(&fields, &[("w0", 1.0), ("r1", 3.0)])),
                (Occur::Must, word(&fields, &[("w1", 1.0), ("r2", 3.0)])),
            ]))
        };
        let union: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (Occur::Should, conj()),
            (Occur::Should, word(&fields, &[("r3", 4.0)])),
            (Occur::Should, word(&fields, &[("w5", 0.2)])),
        ]));
        let not_w6 = BoostedTerm::filter(Term::from_field_text(fields[2], "w6"));
        let query = flatten::flatten(&BooleanQuery::new(vec![
            (Occur::Must, union),
            (Occur::MustNot, Box::new(not_w6)),
        ]));
        let bound = |t: &Term| term_bm25(&searcher, t).expect("weight").max_score();
        for (limit, offset) in [(10, 0), (5, 20)] {
            let ranked = plain_ranked(limit, offset);
            let want = searcher.search(&*query, &ranked).expect("search");
            let cut = plain_cut(limit + offset, false);
            let rewritten = with_inner_cut(&*query, &cut, &bound, &Ok)
                .expect("rewrite")
                .expect("a conjunction inside a union");
            RULED_OUT.with(|c| c.set(0));
            let got = searcher.search(&*rewritten, &ranked).expect("search");
            let ruled_out = RULED_OUT.with(|c| c.get());
            assert_eq!(got, want, "page {limit} at {offset}");
            assert!(ruled_out > 100, "{ruled_out} ruled out");
        }
        // An all-words tier whose first word is the compound or its parts.
        let compound: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (Occur::Should, word(&fields, &[("w0w1", 1.0)])),
            (Occur::Should, conj()),
        ]));
        let both = flatten::flatten(&BooleanQuery::new(vec![
            (Occur::Must, compound),
            (Occur::Must, word(&fields, &[("w5", 1.0)])),
        ]));
        let cut = plain_cut(10, false);
        assert!(with_inner_cut(&*both, &cut, &bound, &Ok)
            .expect("rewrite")
            .is_none());
    }

    /// A conjunction given its documents (the words' bits a search read already) matches and
    /// scores exactly as one gathering them, with and without a cut and an exclusion; given
    /// fewer documents, it matches fewer (it reads nothing else).
    #[test]
    fn known_documents_stand_in_for_the_words() {
        let (searcher, fields, _, _) = corpus();
        let words = [
            word(&fields, &[("w0", 1.0), ("r1", 2.0)]),
            word(&fields, &[("w1", 1.0)]),
            word(&fields, &[("w2", 0.5), ("r2", 1.0)]),
        ];
        let not_w6 = BoostedTerm::filter(Term::from_field_text(fields[2], "w6"));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            words.iter().map(|w| (Occur::Must, w.box_clone())).collect();
        clauses.push((Occur::MustNot, Box::new(not_w6)));
        let query = flatten::flatten(&BooleanQuery::new(clauses));
        // Each word's documents as the tier check reads them, then every word's.
        let known = |drop: Option<DocAddress>| -> Candidates {
            let per_segment = searcher
                .segment_readers()
                .iter()
                .enumerate()
                .map(|(ord, seg)| {
                    let bits: Vec<Vec<u64>> = words
                        .iter()
                        .map(|w| {
                            let b = flatten::Bits::of(&**w).expect("terms");
                            b.read_segment(seg, None, &TermInfos::default())
                                .expect("bits")
                        })
                        .collect();
                    let mut all = at_least::bits_with(&bits, bits.len()).expect("all words");
                    if let Some(d) = drop.filter(|d| d.segment_ord as usize == ord) {
                        all[d.doc_id as usize / 64] &= !(1 << (d.doc_id % 64));
                    }
                    (seg.segment_id(), all)
                })
                .collect();
            std::sync::Arc::new(per_segment)
        };
        let c = Conjunction::read(&*query).expect("a conjunction of words");
        let want = all_scored(&searcher, &c);
        assert!(want.len() > 100, "{} documents", want.len());
        assert_eq!(
            all_scored(&searcher, &c.clone().with_known(known(None))),
            want
        );
        let fewer = all_scored(&searcher, &c.clone().with_known(known(Some(want[0].0))));
        assert_eq!(fewer, want[1..]);
        for (limit, offset) in [(10, 0), (5, 20)] {
            let ranked = plain_ranked(limit, offset);
            let cut = plain_cut(limit + offset, false);
            let page = searcher
                .search(&c.clone().with_cut(cut.clone()), &ranked)
                .expect("search");
            let with_known = c.clone().with_cut(cut).with_known(known(None));
            assert_eq!(searcher.search(&with_known, &ranked).expect("search"), page);
        }
    }

    /// A cut of the page's `n` documents, without priors or bonuses, looking at any segment.
    fn plain_cut(n: usize, one_word: bool) -> Cut {
        Cut {
            n,
            min_docs: 0,
            priors: crate::search::Priors::for_query("", &[]),
            bonus: Vec::new(),
            one_word,
        }
    }

    /// A page without priors or bonuses, beside the count.
    fn plain_ranked(limit: usize, offset: usize) -> crate::search::ranked::Ranked<Count> {
        crate::search::ranked::Ranked {
            limit,
            offset,
            priors: crate::search::Priors::for_query("", &[]),
            bonus: Vec::new(),
            companion: Count,
        }
    }

    /// A single term's weight without its explanation scores as tantivy's own weight of
    /// the term, to the bit, at every length and for the first frequencies, in every field.
    #[test]
    fn term_weights_score_as_tantivys() {
        let (searcher, fields, _, _) = corpus();
        let mut compared = 0;
        for f in fields {
            for w in ["w0", "w3", "w7", "r1", "absent"] {
                let t = Term::from_field_text(f, w);
                let ours = term_bm25(&searcher, &t).expect("weight");
                let theirs =
                    Bm25Weight::for_terms(&searcher, std::slice::from_ref(&t)).expect("weight");
                assert_eq!(ours.max_score().to_bits(), theirs.max_score().to_bits());
                for norm in 0..=255u8 {
                    for tf in 1..6 {
                        let (a, b) = (ours.score(norm, tf), theirs.score(norm, tf));
                        assert_eq!(a.to_bits(), b.to_bits(), "{w} {norm} {tf}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 10_000);
    }

    /// An index in memory with one text field `f`, and its writer.
    fn one_text_field() -> (Index, Field, IndexWriter) {
        let mut s = Schema::builder();
        let f = s.add_text_field("f", TEXT);
        let index = Index::create_in_ram(s.build());
        let w: IndexWriter = index.writer(15_000_000).expect("writer");
        (index, f, w)
    }

    /// A seeded generator of numbers below its argument (a linear congruential generator).
    pub(in crate::search) fn seeded(mut seed: u64) -> impl FnMut(u64) -> u64 {
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
    pub(in crate::search) fn corpus() -> (tantivy::Searcher, [Field; 3], Field, Field) {
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
    pub(in crate::search) fn word(fields: &[Field; 3], words: &[(&str, Score)]) -> Box<dyn Query> {
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
    pub(in crate::search) fn all_scored(
        searcher: &tantivy::Searcher,
        q: &dyn Query,
    ) -> Vec<(DocAddress, u32)> {
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
            let q = flatten(&BooleanQuery::new(clauses));
            // As the tier walk builds it: the tier inside, exclusions beside.
            let nested: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                (Occur::Must, q.box_clone()),
                not("w5"),
            ]));
            for q in [q, flatten(&*nested)] {
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
    /// rounding and nearly all to the bit; 100 single words beside exclusions, every score to the
    /// bit.
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
            let q = flatten(&BooleanQuery::new(clauses));
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

        // One word beside one to three exclusions (营业执照 -注销), which tantivy runs as its
        // exclusion scorer over the word's union: the same documents, every score to the bit.
        let (mut matched, mut scores) = (0, 0);
        for _ in 0..100 {
            let mut clauses = vec![(Occur::Must, random_word(&mut next))];
            for _ in 0..1 + next(3) {
                let t = Term::from_field_text(f[next(3) as usize], &format!("w{}", next(8)));
                let q = TermQuery::new(t, IndexRecordOption::Basic);
                clauses.push((Occur::MustNot, Box::new(q)));
            }
            let (n, _) = assert_scored_as_tantivy(&searcher, &BooleanQuery::new(clauses), true);
            matched += usize::from(n > 0);
            scores += n;
        }
        assert!(
            matched > 50 && scores > 10_000,
            "{matched} matched, {scores} scores"
        );
    }

    /// Only conjunctions of two or more words, or of one beside optional words or exclusions,
    /// are read; other shapes run as tantivy's.
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
        let excluded = vec![(Occur::Must, w("w0")), (Occur::MustNot, w("w1"))];
        assert!(Conjunction::read(&*bq(excluded)).is_some());
        let refused: Vec<Box<dyn Query>> = vec![
            // One word alone, a union, a term.
            bq(vec![(Occur::Must, w("w0"))]),
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
