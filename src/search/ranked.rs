//! A tier's top documents, with its ranking-only clauses evaluated only where they can matter.
//!
//! A tier's bonus clauses (the phrase of the query's words, the official forms of colloquial
//! words) only add to the score of a document its required clauses matched. As `Should`
//! clauses beside the `Must` ones, tantivy evaluates them at every match: the phrase reads the
//! positions of every document holding its words, more than half of a two-word query's tier
//! at 100k documents (发票 办理: 22k matches). Here each bonus clause carries an upper bound of
//! its score (BM25 saturates: at most idf × (1 + k1) × boost), and a document whose score with
//! every bound added cannot pass the page's current threshold is counted but its bonuses are
//! not evaluated: the threshold rule is tantivy's (`TopNComputer`: a document at or below it
//! is dropped), so the page holds the same documents with the same scores as the eager query,
//! up to the order of a float sum.

use super::Priors;
use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{Query, Scorer, Weight};
use tantivy::{
    DocAddress, DocId, DocSet, Score, SeekDangerResult, SegmentReader, Term, TERMINATED,
};

/// A clause that only adds to the score, with an upper bound of what it adds.
pub(super) struct Bonus {
    pub query: Box<dyn Query>,
    pub bound: Score,
    /// What the clause is, where a scorer reading postings term at a time can bound its score
    /// at each document (see `conjunction::Cut`).
    pub shape: Option<Shape>,
}

/// A bonus clause's shape, each with its boost.
#[derive(Clone, Debug)]
pub(super) enum Shape {
    /// One term (frequencies read): its score at a document is its BM25 there.
    Term(Term, Score),
    /// A phrase's terms: it only matches a document holding every one of them, and tantivy
    /// counts a phrase (slop or not) no more often than one of its terms occurs, so its score
    /// there is at most its BM25 at the largest of their frequencies.
    Phrase(Vec<Term>, Score),
}

/// Largest bound first: once the big ones are decided, the rest can rarely lift a document
/// over the threshold, and the rest is not evaluated.
pub(super) fn order(bonus: &mut [Bonus]) {
    bonus.sort_by(|a, b| b.bound.total_cmp(&a.bound));
}

impl Clone for Bonus {
    fn clone(&self) -> Self {
        Bonus {
            query: self.query.box_clone(),
            bound: self.bound,
            shape: self.shape.clone(),
        }
    }
}

/// Top `offset + limit` documents by the priors' tweak of (score + bonuses), the page being
/// the last `limit` of them, and `companion` seeing every matching document (the tier's
/// documents, count or facets).
pub(super) struct Ranked<C> {
    pub limit: usize,
    pub offset: usize,
    pub priors: Priors,
    /// The bonus clauses' weights (built from the searcher: idf over every segment).
    pub bonus: Vec<(Arc<dyn Weight>, Score)>,
    pub companion: C,
}

impl Ranked<()> {
    /// The same ranking beside `companion`.
    pub fn with<D>(self, companion: D) -> Ranked<D> {
        Ranked {
            limit: self.limit,
            offset: self.offset,
            priors: self.priors,
            bonus: self.bonus,
            companion,
        }
    }
}

impl<C: Collector> Collector for Ranked<C> {
    type Fruit = (Vec<(Score, DocAddress)>, C::Fruit);
    type Child = RankedSegment<C::Child>;

    fn for_segment(
        &self,
        segment_ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let mut bonus = Vec::with_capacity(self.bonus.len());
        // Each bonus with the sum of its own and the later ones' bounds.
        let mut rest: Score = self.bonus.iter().map(|(_, b)| b).sum();
        for (w, bound) in &self.bonus {
            bonus.push(Pending::new(Arc::clone(w), rest));
            rest -= bound;
        }
        Ok(RankedSegment {
            max_factor: self.priors.max_factor(),
            top: TopN::new(self.offset + self.limit),
            factor: Box::new(self.priors.factor(reader)),
            bonus,
            reader: reader.clone(),
            failed: None,
            companion: self.companion.for_segment(segment_ord, reader)?,
            segment_ord,
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<Self::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<Self::Fruit> {
        let mut top = Vec::new();
        let mut companions = Vec::with_capacity(fruits.len());
        for fruit in fruits {
            let (t, c) = fruit?;
            top.extend(t);
            companions.push(c);
        }
        top.sort_unstable_by(best_first);
        let page = top.into_iter().skip(self.offset).take(self.limit).collect();
        Ok((page, self.companion.merge_fruits(companions)?))
    }
}

/// A bonus clause's scorer in one segment, asked about one document at a time with
/// `seek_danger`: a phrase's `seek` to a document holding its words but not the phrase reads
/// on, through the positions of every later document holding them, to the next match (for
/// 办理社保 at 100k documents, most of the positions of the tier), where `seek_danger` checks
/// only the document asked about.
struct Pending {
    /// The clause's weight, and its scorer once a document has been asked about: a phrase's
    /// scorer, made up front, read positions up to its first match in the segment, and a
    /// colloquial question's official forms are a dozen or two clauses per tier, of which a
    /// cut tier may ask few (社保卡丢了怎么补办 at 100k documents: 23, 85-90 µs per segment to
    /// make up front).
    weight: Arc<dyn Weight>,
    scorer: Option<Box<dyn Scorer>>,
    /// No match before this document: most documents are decided without calling the scorer.
    next: DocId,
    /// The document the scorer was last found on (valid to score), or `TERMINATED`. After a
    /// miss the scorer is in tantivy's "danger" state and is only ever asked `seek_danger`
    /// again, for a later document.
    at: DocId,
    /// The most this bonus and the ones after it can add.
    rest: Score,
}

impl Pending {
    fn new(weight: Arc<dyn Weight>, rest: Score) -> Pending {
        Pending {
            weight,
            scorer: None,
            next: 0,
            at: TERMINATED,
            rest,
        }
    }

    /// Whether the clause matches `doc`; documents are asked about in increasing order. The
    /// first question makes the scorer, around `doc` (`Weight::scorer_danger`).
    fn matches(&mut self, doc: DocId, reader: &SegmentReader) -> tantivy::Result<bool> {
        if doc < self.next {
            return Ok(false);
        }
        let found = match &mut self.scorer {
            None => {
                let (found, scorer) = self.weight.scorer_danger(reader, doc, 1.0)?;
                self.scorer = Some(scorer);
                found
            }
            Some(_) if self.at == doc => return Ok(true),
            Some(scorer) => scorer.seek_danger(doc),
        };
        Ok(match found {
            SeekDangerResult::Found => {
                self.at = doc;
                true
            }
            SeekDangerResult::SeekLowerBound(bound) => {
                self.next = bound;
                self.at = TERMINATED;
                false
            }
        })
    }

    /// The clause's score at the document [`Self::matches`] last found.
    fn score(&mut self) -> Score {
        self.scorer.as_mut().map_or(0.0, |s| s.score())
    }
}

/// One segment of [`Ranked`].
pub(super) struct RankedSegment<S> {
    top: TopN,
    /// The priors' factor per document (see `Priors::factor`).
    factor: Box<dyn Fn(DocId) -> Score + Send + Sync>,
    /// No document's factor is larger.
    max_factor: Score,
    bonus: Vec<Pending>,
    reader: SegmentReader,
    /// A bonus scorer that could not be made: the segment's fruit is this error.
    failed: Option<tantivy::TantivyError>,
    companion: S,
    segment_ord: u32,
}

impl<S: SegmentCollector> SegmentCollector for RankedSegment<S> {
    type Fruit = tantivy::Result<(Vec<(Score, DocAddress)>, S::Fruit)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.companion.collect(doc, score);
        // −∞: a document its scorer ruled out of the page (see `conjunction::Cut`), counted
        // but not ranked.
        if self.top.n == 0 || score == Score::NEG_INFINITY || self.failed.is_some() {
            return;
        }
        // Bounds are sums of BM25 maxima; the margin covers the float rounding of the
        // scorers' own sums.
        let most = |score: Score, rest: Score| (score + rest) * 1.0001 + 1e-4;
        if let Some(t) = self.top.threshold {
            let rest = self.bonus.first().map_or(0.0, |b| b.rest);
            if most(score, rest) * self.max_factor <= t {
                return;
            }
        }
        let f = (self.factor)(doc);
        let mut score = score;
        for b in &mut self.bonus {
            if let Some(t) = self.top.threshold {
                if most(score, b.rest) * f <= t {
                    return;
                }
            }
            match b.matches(doc, &self.reader) {
                Ok(true) => score += b.score(),
                Ok(false) => {}
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            }
        }
        self.top.push(score * f, doc);
    }

    fn harvest(self) -> Self::Fruit {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let ord = self.segment_ord;
        let top = self
            .top
            .into_sorted()
            .into_iter()
            .map(|(s, d)| (s, DocAddress::new(ord, d)))
            .collect();
        Ok((top, self.companion.harvest()))
    }
}

/// The best `n` of documents pushed in ascending order, ties to the lower id: tantivy's
/// `TopNComputer` (a buffer of 2n cut back to n at its n-th best, whose score becomes the
/// threshold), whose threshold [`RankedSegment`] reads before scoring a document's bonuses.
struct TopN {
    n: usize,
    buf: Vec<(Score, DocId)>,
    threshold: Option<Score>,
}

impl TopN {
    fn new(n: usize) -> TopN {
        TopN {
            n,
            buf: Vec::with_capacity(2 * n.max(1)),
            threshold: None,
        }
    }

    fn push(&mut self, score: Score, doc: DocId) {
        if self.threshold.is_some_and(|t| score <= t) {
            return;
        }
        if self.buf.len() == self.buf.capacity() {
            self.threshold = Some(self.cut());
        }
        self.buf.push((score, doc));
    }

    /// Keep the best `n`; the score of the best one dropped.
    fn cut(&mut self) -> Score {
        let n = self.n;
        let (_, nth, _) = self.buf.select_nth_unstable_by(n, best_first);
        let t = nth.0;
        self.buf.truncate(n);
        t
    }

    fn into_sorted(mut self) -> Vec<(Score, DocId)> {
        if self.buf.len() > self.n {
            self.cut();
        }
        self.buf.sort_unstable_by(best_first);
        self.buf
    }
}

/// Higher score first, ties to the lower document (a segment's id or an address).
fn best_first<D: Ord>(a: &(Score, D), b: &(Score, D)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, BoostQuery, EnableScoring, Occur, PhraseQuery, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{doc, Index, IndexWriter, Term};

    /// `base`'s page through [`Ranked`], with `bonus` (and its bound) as its one bonus clause,
    /// or none; and the count of `base`'s documents.
    fn ranked_page(
        searcher: &tantivy::Searcher,
        base: &dyn Query,
        bonus: Option<(&dyn Query, Score)>,
        limit: usize,
        offset: usize,
    ) -> (Vec<(Score, DocAddress)>, usize) {
        let scoring = EnableScoring::enabled_from_searcher(searcher);
        let ranked = Ranked {
            limit,
            offset,
            priors: super::super::Priors::for_query("", &[]),
            bonus: bonus
                .map(|(q, bound)| (q.weight(scoring).expect("weight").into(), bound))
                .into_iter()
                .collect(),
            companion: Count,
        };
        searcher.search(base, &ranked).expect("ranked")
    }

    /// For each `(limit, offset)` of `pages`: `base`'s page through [`Ranked`] with `bonus` as
    /// its bonus clause equals the eager query's (`base` required, `bonus` optional) in its
    /// documents and, up to float rounding, their scores, and counts `count` documents; where
    /// `decided(offset)`, the page without the bonus differs (the bonus decides it).
    fn assert_pages_equal_eager(
        searcher: &tantivy::Searcher,
        base: &dyn Query,
        (bonus, bound): (&dyn Query, Score),
        pages: &[(usize, usize)],
        count: usize,
        decided: impl Fn(usize) -> bool,
    ) {
        let eager = BooleanQuery::new(vec![
            (Occur::Must, base.box_clone()),
            (Occur::Should, bonus.box_clone()),
        ]);
        let addrs = |v: &[(Score, DocAddress)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
        for &(limit, offset) in pages {
            let top = TopDocs::with_limit(limit)
                .and_offset(offset)
                .order_by_score();
            let want = searcher.search(&eager, &top).expect("eager");
            let (got, n) = ranked_page(searcher, base, Some((bonus, bound)), limit, offset);
            assert_eq!(n, count);
            assert_eq!(addrs(&got), addrs(&want), "limit {limit} offset {offset}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g.0 - w.0).abs() < 1e-3, "{g:?} {w:?}");
            }
            if decided(offset) {
                let (without, _) = ranked_page(searcher, base, None, limit, offset);
                assert_ne!(
                    addrs(&without),
                    addrs(&want),
                    "limit {limit} offset {offset}"
                );
            }
        }
    }

    /// In each of two segments, documents matching only the required word come first and set
    /// the threshold; after them come documents scoring lower on that word whose bonus word
    /// (boosted, as the plan's are) lifts them onto the page. The required word's boost is
    /// chosen so that the first documents score their base plus 70 % of the bonus's bound: a
    /// bound short by more than 30 % (a boost left out, say) drops the later documents.
    #[test]
    fn pages_equal_the_eager_query() {
        let mut s = Schema::builder();
        let f = s.add_text_field("f", TEXT);
        let index = Index::create_in_ram(s.build());
        let mut w: IndexWriter = index.writer(15_000_000).expect("writer");
        for part in 0..2 {
            for i in 0..60 {
                w.add_document(doc!(f => format!("a a a x{i} p{part}")))
                    .expect("add");
            }
            for i in 0..8 {
                // Many b: their bonus near its bound (BM25 saturates towards it).
                w.add_document(doc!(f => format!("a {} y{i} p{part}", "b ".repeat(30))))
                    .expect("add");
            }
            for i in 0..100 {
                w.add_document(doc!(f => format!("z{i}"))).expect("add");
            }
            w.commit().expect("commit");
        }
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let term = |t: &str| Term::from_field_text(f, t);
        let query = |t: &str, boost: Score| -> Box<dyn Query> {
            let q = TermQuery::new(term(t), IndexRecordOption::WithFreqs);
            Box::new(BoostQuery::new(Box::new(q), boost))
        };
        let best = |q: &dyn Query| {
            let top = TopDocs::with_limit(1).order_by_score();
            searcher.search(q, &top).expect("search")[0].0
        };
        // Unboosted: the first documents' score, and the later ones' on `a` alone.
        let first = best(&*query("a", 1.0));
        let both = BooleanQuery::new(vec![
            (Occur::Must, query("a", 1.0)),
            (Occur::Must, query("b", 1.0)),
        ]);
        let later = best(&both) - best(&*query("b", 1.0));
        assert!(first > later, "{first} {later}");
        let bound = 3.0 * super::super::bm25_bound(&searcher, &[term("b")]);
        let k = 0.7 * bound / (first - later);
        let (base, b) = (query("a", k), query("b", 3.0));
        // The bonus documents are the page's head: the bonus decides it.
        assert_pages_equal_eager(
            &searcher,
            &*base,
            (&*b, bound),
            &[(1, 0), (3, 0), (10, 0), (5, 5), (20, 0), (10, 130)],
            136,
            |offset| offset < 16,
        );
    }

    /// A phrase bonus, asked about documents holding both its words but not the phrase (where
    /// its scorer is left in tantivy's "danger" state) right before and after ones holding it:
    /// the page equals the eager query's, and without the bonus it would not.
    #[test]
    fn phrase_bonuses_asked_one_document_at_a_time() {
        let mut s = Schema::builder();
        let f = s.add_text_field("f", TEXT);
        let index = Index::create_in_ram(s.build());
        let mut w: IndexWriter = index.writer(15_000_000).expect("writer");
        for i in 0..300 {
            let text = match i % 6 {
                // The phrase, in longer documents (lower scores on `a` alone), one of them
                // right after a document with both words but not the phrase.
                0 | 4 => format!("a b {}", "z ".repeat(i % 7)),
                // Both words, not the phrase; denser in `a`.
                1 | 2 => format!("b q a a {}", "y ".repeat(i % 3)),
                3 => format!("a x b a{i}"),
                _ => format!("a c{i}"),
            };
            w.add_document(doc!(f => text)).expect("add");
        }
        w.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let term = |t: &str| Term::from_field_text(f, t);
        let a: Box<dyn Query> = Box::new(TermQuery::new(term("a"), IndexRecordOption::WithFreqs));
        let phrase = || -> Box<dyn Query> {
            let q = PhraseQuery::new(vec![term("a"), term("b")]);
            Box::new(BoostQuery::new(Box::new(q), 2.0))
        };
        let bound = 2.0 * super::super::bm25_bound(&searcher, &[term("a"), term("b")]);
        assert_pages_equal_eager(
            &searcher,
            &*a,
            (&*phrase(), bound),
            &[
                (1, 0),
                (10, 0),
                (10, 5),
                (30, 0),
                (70, 0),
                (20, 100),
                (100, 250),
            ],
            300,
            |offset| offset == 0,
        );
    }
}
