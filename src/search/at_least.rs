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

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

/// Documents matching at least `k` of `clauses`.
#[derive(Debug)]
pub struct AtLeast {
    clauses: Vec<Box<dyn Query>>,
    k: usize,
}

impl AtLeast {
    /// At least `k` of `clauses` (`k` ≥ 1; with fewer clauses than `k`, nothing matches).
    pub fn new(clauses: Vec<Box<dyn Query>>, k: usize) -> AtLeast {
        AtLeast {
            clauses,
            k: k.max(1),
        }
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
        }
    }
}

impl Query for AtLeast {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self
            .clauses
            .iter()
            .map(|q| q.weight(scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(AtLeastWeight { weights, k: self.k }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for q in &self.clauses {
            q.query_terms(visitor);
        }
    }
}

struct AtLeastWeight {
    weights: Vec<Box<dyn Weight>>,
    k: usize,
}

impl Weight for AtLeastWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut clauses = self
            .weights
            .iter()
            .map(|w| w.scorer(reader, boost))
            .collect::<tantivy::Result<Vec<_>>>()?;
        // Rarest first: the leaders are the first n - k + 1.
        clauses.sort_by_key(|s| s.cost());
        let leaders = (clauses.len() + 1).saturating_sub(self.k);
        let mut scorer = AtLeastScorer {
            clauses,
            leaders,
            k: self.k,
            doc: 0,
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

struct AtLeastScorer {
    /// Rarest first; `clauses[..leaders]` propose candidates.
    clauses: Vec<Box<dyn Scorer>>,
    leaders: usize,
    k: usize,
    doc: DocId,
}

impl AtLeastScorer {
    /// From the leaders' current positions, the first candidate having `k` clauses: the
    /// leaders on it count, the others are sought to it.
    fn settle(&mut self) -> DocId {
        loop {
            let candidate = self.clauses[..self.leaders]
                .iter()
                .map(|c| c.doc())
                .min()
                .unwrap_or(TERMINATED);
            if candidate == TERMINATED {
                return TERMINATED;
            }
            let mut have = 0;
            let n = self.clauses.len();
            for (i, c) in self.clauses.iter_mut().enumerate() {
                // Not enough clauses left to reach k.
                if have + (n - i) < self.k {
                    break;
                }
                let mut d = c.doc();
                if i >= self.leaders && d < candidate {
                    d = c.seek(candidate);
                }
                have += usize::from(d == candidate);
            }
            if have >= self.k {
                return candidate;
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
        for c in &mut self.clauses[..self.leaders] {
            if c.doc() == current {
                c.advance();
            }
        }
        self.doc = self.settle();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for c in &mut self.clauses[..self.leaders] {
            if c.doc() < target {
                c.seek(target);
            }
        }
        self.doc = self.settle();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.clauses[..self.leaders]
            .iter()
            .map(|c| c.size_hint())
            .fold(0u32, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        self.clauses[..self.leaders].iter().map(|c| c.cost()).sum()
    }
}

impl Scorer for AtLeastScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        self.clauses
            .iter_mut()
            .filter(|c| c.doc() == doc)
            .map(|c| c.score())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{doc, Index};

    /// Every k of every word set, over documents having every subset of six words (some
    /// repeated, so scores differ): the documents with at least k of the words, each scored
    /// as the sum of its matching words, as the plain disjunction scores it.
    #[test]
    fn matches_exactly_the_documents_having_k_clauses_scored_as_their_sum() {
        let mut b = Schema::builder();
        let f = b.add_text_field("t", TEXT);
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
                w.add_document(doc!(f => text)).unwrap();
                have.push(mask);
            }
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let term = |word: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, word),
                IndexRecordOption::WithFreqs,
            ))
        };
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
        // Word sets: the first n words, and a set with a word no document has.
        for set in [
            &words[..3],
            &words[..4],
            &words[..6],
            &["aa", "zz", "cc", "dd"][..],
        ] {
            let clauses = || set.iter().map(|w| term(w)).collect::<Vec<_>>();
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
            }
        }
        assert!(checked > 500, "{checked}");
    }
}
