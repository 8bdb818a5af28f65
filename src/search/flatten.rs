//! Boolean queries rewritten flat before they run: same documents, same scores, fewer scorers.
//!
//! A plan is built from parts: a word is a union over five fields, a word with a synonym is a
//! union of such unions, and each tier, filter and exclusion wraps the lot in one more
//! `BooleanQuery`. tantivy runs that shape as written: a union of unions advances and scores
//! every inner union for every document, and each one-clause wrapper adds a virtual call per
//! document. Only a union whose clauses are all term queries gets tantivy's specialized term
//! union (and block-max pruning). Over the generated 100k catalogue, 户口 (with its synonym
//! 户籍) took 0.60 ms to count and 1.20 ms to rank as nested unions, 0.20 and 0.52 ms flat.
//!
//! The rewrites keep both the matching documents and the scores (a `BooleanQuery` scores a
//! document with the sum of its matching clauses' scores, so a sum of sums is the same sum):
//! - a union (only `Should` clauses, at most one required) takes in the clauses of a union
//!   among its clauses;
//! - a conjunction (`Must` and `MustNot` clauses only) takes in the clauses of a conjunction
//!   among its `Must` clauses;
//! - a query of one clause, `Must` or a `Should` it requires, is that clause.
//!
//! Boosts are not looked through: tantivy's `BoostQuery` does not show its query, and the
//! plan only boosts leaves (terms and phrases) anyway. A boosted term is a [`BoostedTerm`],
//! which does show its term: [`Bits`] gathers a query built of terms from its terms' postings.

use tantivy::query::{BooleanQuery, BoostQuery, EnableScoring, Occur, Query, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{Score, Term};

/// `query` with its boolean structure flattened (see the module documentation), as a new
/// query: each leaf cloned once.
pub fn flatten(query: &dyn Query) -> Box<dyn Query> {
    Flat::of(query).into_query()
}

/// A query being flattened: a leaf, cloned once, or a boolean query's flattened clauses, not
/// yet built into a query, so that a parent taking them in moves them. Flattening by cloning
/// each level's clauses copied a tier's tree once per level, twice where a level was taken
/// in: a long question's passes made ~10k allocations, most of them terms copied and
/// dropped.
enum Flat {
    Leaf(Box<dyn Query>),
    Bool(Vec<(Occur, Flat)>, usize),
}

impl Flat {
    fn of(query: &dyn Query) -> Flat {
        let Some(b) = query.downcast_ref::<BooleanQuery>() else {
            return Flat::Leaf(query.box_clone());
        };
        let min_should = b.get_minimum_number_should_match();
        let mut clauses: Vec<(Occur, Flat)> = b
            .clauses()
            .iter()
            .map(|(o, q)| (*o, Flat::of(&**q)))
            .collect();
        if let [(occur, _)] = clauses.as_slice() {
            let only = match occur {
                Occur::Must => min_should == 0,
                Occur::Should => min_should <= 1,
                Occur::MustNot => false,
            };
            if only {
                return clauses.pop().expect("one clause").1;
            }
        }
        let union = is_union(&clauses, min_should);
        if union || is_conjunction(&clauses, min_should) {
            // A union takes in the unions among its clauses, a conjunction the conjunctions
            // among its `Must` clauses.
            let mut out = Vec::with_capacity(clauses.len());
            for (occur, c) in clauses {
                match c {
                    Flat::Bool(inner, m)
                        if occur != Occur::MustNot
                            && (if union {
                                is_union(&inner, m)
                            } else {
                                is_conjunction(&inner, m)
                            }) =>
                    {
                        out.extend(inner)
                    }
                    other => out.push((occur, other)),
                }
            }
            clauses = out;
        }
        Flat::Bool(clauses, min_should)
    }

    fn into_query(self) -> Box<dyn Query> {
        match self {
            Flat::Leaf(q) => q,
            Flat::Bool(clauses, min_should) => {
                Box::new(BooleanQuery::with_minimum_required_clauses(
                    clauses
                        .into_iter()
                        .map(|(o, c)| (o, c.into_query()))
                        .collect(),
                    min_should,
                ))
            }
        }
    }
}

/// Only `Should` clauses, of which at most one is required: a document matching any clause
/// matches (tantivy requires one `Should` clause when there is no `Must` clause), scored the
/// sum of its matching clauses' scores.
pub(super) fn is_union<T>(clauses: &[(Occur, T)], min_should: usize) -> bool {
    min_should <= 1 && !clauses.is_empty() && clauses.iter().all(|(o, _)| *o == Occur::Should)
}

/// `Must` and `MustNot` clauses, at least one `Must`: a document matching every `Must` clause
/// and no `MustNot` clause matches.
fn is_conjunction<T>(clauses: &[(Occur, T)], min_should: usize) -> bool {
    min_should == 0
        && clauses.iter().any(|(o, _)| *o == Occur::Must)
        && clauses.iter().all(|(o, _)| *o != Occur::Should)
}

/// A term with a boost: runs as tantivy's `BoostQuery` of a `TermQuery` (the same weight and
/// scorer, so a union of them still gets tantivy's term union), but its term can be read back
/// (see [`Bits`], [`boosted_terms`]). A filter's term ([`BoostedTerm::filter`]) runs as
/// the plain `TermQuery` without frequencies it replaced.
#[derive(Clone, Debug)]
pub(super) struct BoostedTerm {
    term: Term,
    boost: Score,
    /// Whether the term's frequencies are read (a filter's are not: each counts once).
    freqs: bool,
}

impl BoostedTerm {
    pub(super) fn new(term: Term, boost: Score) -> BoostedTerm {
        BoostedTerm {
            term,
            boost,
            freqs: true,
        }
    }

    /// A filter's term: `TermQuery::new(term, IndexRecordOption::Basic)`.
    pub(super) fn filter(term: Term) -> BoostedTerm {
        BoostedTerm {
            term,
            boost: 1.0,
            freqs: false,
        }
    }
}

impl Query for BoostedTerm {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        if self.freqs {
            let q = TermQuery::new(self.term.clone(), IndexRecordOption::WithFreqs);
            BoostQuery::new(Box::new(q), self.boost).weight(scoring)
        } else {
            TermQuery::new(self.term.clone(), IndexRecordOption::Basic).weight(scoring)
        }
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        visitor(&self.term, false);
    }
}

/// A query built of terms by unions, conjunctions and exclusions, whose documents can be
/// gathered as bits from posting blocks without scorers (see [`Bits::read`]).
#[derive(Debug)]
pub(super) enum Bits {
    /// Every document holding one of the terms.
    Terms(Vec<Term>),
    /// Every document of one of these.
    Or(Vec<Bits>),
    /// Every document of all of `must` and none of `not`.
    And { must: Vec<Bits>, not: Vec<Bits> },
}

impl Bits {
    /// `query` as [`Bits`], when it is built of terms (`BoostedTerm`, `TermQuery`) by unions
    /// (`Should` clauses only), conjunctions and exclusions (`Must` and `MustNot`, no
    /// `Should`); `None` for any other shape (a phrase, a range, a minimum of matching
    /// clauses above one). Nested unions and one-clause wrappers read as they would
    /// flattened: the query need not go through [`flatten`] first.
    pub(super) fn of(query: &dyn Query) -> Option<Bits> {
        if let Some(t) = query.downcast_ref::<BoostedTerm>() {
            return Some(Bits::Terms(vec![t.term.clone()]));
        }
        if let Some(t) = query.downcast_ref::<TermQuery>() {
            return Some(Bits::Terms(vec![t.term().clone()]));
        }
        let b = query.downcast_ref::<BooleanQuery>()?;
        let (clauses, min_should) = (b.clauses(), b.get_minimum_number_should_match());
        if is_union(clauses, min_should) {
            // A union's terms read into one set; other clauses each into their own.
            let mut terms = Vec::new();
            let mut rest = Vec::new();
            for (_, q) in clauses {
                match Bits::of(&**q)? {
                    Bits::Terms(t) => terms.extend(t),
                    other => rest.push(other),
                }
            }
            if rest.is_empty() {
                return Some(Bits::Terms(terms));
            }
            if !terms.is_empty() {
                rest.push(Bits::Terms(terms));
            }
            return Some(Bits::Or(rest));
        }
        if !is_conjunction(clauses, min_should) {
            return None;
        }
        let (mut must, mut not) = (Vec::new(), Vec::new());
        for (occur, q) in clauses {
            let bits = Bits::of(&**q)?;
            match occur {
                Occur::MustNot => not.push(bits),
                _ => must.push(bits),
            }
        }
        if must.len() == 1 && not.is_empty() {
            return must.pop();
        }
        Some(Bits::And { must, not })
    }

    /// The documents in `segment` as bits (a word per 64 documents, deleted ones included),
    /// dense terms from `dense` (see `dense`), the others decoded; terms looked up through
    /// `infos`.
    pub(super) fn read_segment(
        &self,
        segment: &tantivy::SegmentReader,
        dense: Option<&super::dense::DenseTerms>,
        infos: &super::terms::TermInfos,
    ) -> tantivy::Result<Vec<u64>> {
        let max_doc = segment.max_doc();
        self.read(
            (max_doc as usize).div_ceil(64),
            &mut |term: &Term, bits: &mut [u64]| {
                let (inverted, info) = infos.get(segment, term)?;
                if let Some(info) = info {
                    super::dense::set_term(dense, &inverted, term, &info, max_doc, bits)?;
                }
                Ok(())
            },
        )
    }

    /// The documents as bits, `words` words of 64 documents (deleted ones included);
    /// `read` sets the bits of one term's documents.
    pub(super) fn read(
        &self,
        words: usize,
        read: &mut dyn FnMut(&Term, &mut [u64]) -> tantivy::Result<()>,
    ) -> tantivy::Result<Vec<u64>> {
        let mut bits = vec![0u64; words];
        match self {
            Bits::Terms(terms) => {
                for t in terms {
                    read(t, &mut bits)?;
                }
            }
            Bits::Or(all) => {
                for b in all {
                    let own = b.read(words, read)?;
                    bits.iter_mut().zip(&own).for_each(|(a, b)| *a |= b);
                }
            }
            Bits::And { must, not } => {
                for (i, b) in must.iter().enumerate() {
                    let own = b.read(words, read)?;
                    if i == 0 {
                        bits = own;
                    } else {
                        bits.iter_mut().zip(&own).for_each(|(a, b)| *a &= b);
                    }
                }
                for b in not {
                    let own = b.read(words, read)?;
                    bits.iter_mut().zip(&own).for_each(|(a, b)| *a &= !b);
                }
            }
        }
        Ok(bits)
    }
}

/// The terms, boosts and whether frequencies are read, of `query` in clause order, when it is
/// a boosted term or a flat union of them: the shape of a word or a filter in a plan, which
/// [`super::conjunction`] scores itself. Nested unions are refused: their sums are grouped
/// differently.
pub(super) fn boosted_terms(query: &dyn Query) -> Option<Vec<(Term, Score, bool)>> {
    let read = |q: &dyn Query| {
        q.downcast_ref::<BoostedTerm>()
            .map(|t| (t.term.clone(), t.boost, t.freqs))
    };
    if let Some(t) = read(query) {
        return Some(vec![t]);
    }
    let b = query.downcast_ref::<BooleanQuery>()?;
    if !is_union(b.clauses(), b.get_minimum_number_should_match()) {
        return None;
    }
    b.clauses().iter().map(|(_, q)| read(&**q)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BoostQuery, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{doc, DocAddress, Index, Term};

    fn term(f: tantivy::schema::Field, w: &str, boost: f32) -> Box<dyn Query> {
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(f, w),
                IndexRecordOption::WithFreqs,
            )),
            boost,
        ))
    }

    fn shape(q: &dyn Query) -> String {
        match q.downcast_ref::<BooleanQuery>() {
            Some(b) => {
                let inner: Vec<String> = b
                    .clauses()
                    .iter()
                    .map(|(o, c)| {
                        let o = match o {
                            Occur::Must => "+",
                            Occur::Should => "",
                            Occur::MustNot => "-",
                        };
                        format!("{o}{}", shape(&**c))
                    })
                    .collect();
                format!("({})", inner.join(" "))
            }
            None => "t".into(),
        }
    }

    #[test]
    fn nested_unions_and_wrappers_come_out_flat() {
        let mut s = Schema::builder();
        let f = s.add_text_field("f", TEXT);
        let t = |w: &str| term(f, w, 1.0);
        let union = |qs: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                qs.into_iter().map(|q| (Occur::Should, q)).collect(),
            ))
        };
        let must = |q: Box<dyn Query>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![(Occur::Must, q)]))
        };
        let nested = must(must(union(vec![
            union(vec![t("a"), t("b")]),
            union(vec![t("c"), t("d")]),
        ])));
        assert_eq!(shape(&*flatten(&*nested)), "(t t t t)");

        // A conjunction keeps its own structure; the unions inside it are flattened.
        let conj: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (
                Occur::Must,
                union(vec![t("a"), union(vec![t("b"), t("c")])]),
            ),
            (Occur::Must, must(t("d"))),
            (Occur::MustNot, union(vec![t("e"), t("f")])),
            (Occur::Should, t("g")),
        ]));
        assert_eq!(shape(&*flatten(&*conj)), "(+(t t t) +t -(t t) t)");

        // Conjunctions of conjunctions join; a union requiring two clauses stays as it is.
        let and: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, t("a")),
                    (Occur::MustNot, t("b")),
                ])),
            ),
            (Occur::Must, t("c")),
        ]));
        assert_eq!(shape(&*flatten(&*and)), "(+t -t +t)");
        let two: Box<dyn Query> = Box::new(BooleanQuery::with_minimum_required_clauses(
            vec![
                (Occur::Should, union(vec![t("a"), t("b")])),
                (Occur::Should, t("c")),
                (Occur::Should, t("d")),
            ],
            2,
        ));
        assert_eq!(shape(&*flatten(&*two)), "((t t) t t)");
        // A lone exclusion is not its clause.
        let not: Box<dyn Query> = Box::new(BooleanQuery::new(vec![(Occur::MustNot, t("a"))]));
        assert_eq!(shape(&*flatten(&*not)), "(-t)");
    }

    /// Unions (of unions) of terms, boosted or not, are read as their terms; anything else
    /// (a conjunction, an exclusion, a union requiring two clauses, a phrase) is not. A
    /// boosted term scores as tantivy's boosted term query.
    /// Queries built of terms by unions, conjunctions and exclusions gather as bits exactly
    /// the documents tantivy matches; other shapes are refused; a boosted term scores as
    /// tantivy's boosted term query.
    #[test]
    fn term_shaped_queries_gather_the_documents_tantivy_matches() {
        let mut s = Schema::builder();
        let f = s.add_text_field("f", TEXT);
        let index = Index::create_in_ram(s.build());
        let mut w: tantivy::IndexWriter = index.writer(15_000_000).expect("writer");
        for text in ["a b", "a a c", "b d", "c", "a d", "b c d", "e"] {
            w.add_document(doc!(f => text)).expect("add");
        }
        w.commit().expect("commit");
        let key = |w: &str| Term::from_field_text(f, w);
        let boosted = |w: &str| -> Box<dyn Query> { Box::new(BoostedTerm::new(key(w), 2.5)) };
        let plain = |w: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(key(w), IndexRecordOption::Basic))
        };
        let of = |occur: Occur, qs: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                qs.into_iter().map(|q| (occur, q)).collect(),
            ))
        };
        let searcher = index.reader().expect("reader").searcher();
        let seg = &searcher.segment_readers()[0];
        let words = (seg.max_doc() as usize).div_ceil(64);
        let mut read = |t: &Term, bits: &mut [u64]| -> tantivy::Result<()> {
            let inverted = seg.inverted_index(t.field())?;
            if let Some(info) = inverted.get_term_info(t)? {
                super::super::dense::set_all(&inverted, &info, bits)?;
            }
            Ok(())
        };
        let shaped: Vec<Box<dyn Query>> = vec![
            boosted("d"),
            of(
                Occur::Should,
                vec![
                    boosted("a"),
                    of(Occur::Should, vec![plain("b"), boosted("c")]),
                ],
            ),
            of(Occur::Must, vec![boosted("a"), boosted("b")]),
            Box::new(BooleanQuery::new(vec![
                (
                    Occur::Must,
                    of(Occur::Should, vec![boosted("a"), boosted("d")]),
                ),
                (Occur::MustNot, boosted("c")),
            ])),
            of(
                Occur::Should,
                vec![
                    boosted("e"),
                    of(Occur::Must, vec![plain("b"), boosted("d")]),
                ],
            ),
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, boosted("d")),
                (
                    Occur::Must,
                    of(Occur::Should, vec![boosted("a"), boosted("c")]),
                ),
                (
                    Occur::MustNot,
                    of(Occur::Must, vec![boosted("b"), boosted("c")]),
                ),
            ])),
        ];
        for q in &shaped {
            let bits = Bits::of(&**q)
                .expect("term-shaped")
                .read(words, &mut read)
                .expect("read");
            let got: Vec<u32> = (0..seg.max_doc())
                .filter(|&d| bits[d as usize / 64] >> (d % 64) & 1 == 1)
                .collect();
            let mut want: Vec<u32> = searcher
                .search(&**q, &tantivy::collector::DocSetCollector)
                .expect("search")
                .into_iter()
                .map(|a| a.doc_id)
                .collect();
            want.sort_unstable();
            assert!(!want.is_empty(), "{q:?}");
            assert_eq!(got, want, "{q:?}");
        }
        let refused: Vec<Box<dyn Query>> = vec![
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, boosted("a")),
                (Occur::MustNot, boosted("b")),
            ])),
            Box::new(BooleanQuery::with_minimum_required_clauses(
                vec![(Occur::Should, boosted("a")), (Occur::Should, boosted("b"))],
                2,
            )),
            of(
                Occur::Should,
                vec![
                    boosted("a"),
                    Box::new(tantivy::query::PhraseQuery::new(vec![key("a"), key("b")])),
                ],
            ),
            Box::new(BooleanQuery::new(vec![])),
        ];
        for q in refused {
            assert!(Bits::of(&*q).is_none(), "{q:?}");
        }
        let top = TopDocs::with_limit(10).order_by_score();
        for x in ["a", "b", "c"] {
            let ours = searcher.search(&*boosted(x), &top).expect("ours");
            let theirs = searcher.search(&*term(f, x, 2.5), &top).expect("theirs");
            assert!(!ours.is_empty());
            assert_eq!(ours, theirs, "{x}");
        }
    }

    #[test]
    fn flat_queries_match_and_score_as_the_nested_ones() {
        let mut s = Schema::builder();
        let title = s.add_text_field("title", TEXT);
        let body = s.add_text_field("body", TEXT);
        let index = Index::create_in_ram(s.build());
        let mut w: tantivy::IndexWriter = index.writer(15_000_000).expect("writer");
        let words = ["a", "b", "c", "d", "e"];
        for i in 0..200u32 {
            // Deterministic, uneven mixes of words and lengths across both fields.
            let pick = |k: u32| words[((i * 7 + k * 3) % 5) as usize];
            let t: Vec<&str> = (0..1 + i % 3).map(pick).collect();
            let b: Vec<&str> = (0..2 + i % 7).map(|k| pick(k + 11)).collect();
            w.add_document(doc!(title => t.join(" "), body => b.join(" ")))
                .expect("add");
        }
        w.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let word = |x: &str, weight: f32| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, term(title, x, 4.0 * weight)),
                (Occur::Should, term(body, x, weight)),
            ]))
        };
        let alts = |xs: &[(&str, f32)]| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                xs.iter()
                    .map(|(x, b)| (Occur::Should, word(x, *b)))
                    .collect(),
            ))
        };
        let queries: Vec<Box<dyn Query>> = vec![
            Box::new(BooleanQuery::new(vec![(
                Occur::Must,
                alts(&[("a", 1.0), ("b", 0.8)]),
            )])),
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, alts(&[("a", 1.0), ("c", 0.5)])),
                (Occur::Must, alts(&[("d", 1.0)])),
                (Occur::MustNot, word("e", 1.0)),
                (Occur::Should, word("b", 0.6)),
            ])),
        ];
        for q in queries {
            let flat = flatten(&*q);
            assert_ne!(shape(&*q), shape(&*flat), "the test query is flattened");
            let count = |q: &dyn Query| searcher.search(q, &Count).expect("count");
            assert!(count(&*q) > 0);
            assert_eq!(count(&*q), count(&*flat));
            let top = |q: &dyn Query| -> Vec<(f32, DocAddress)> {
                searcher
                    .search(q, &TopDocs::with_limit(300).order_by_score())
                    .expect("top")
            };
            let (a, b) = (top(&*q), top(&*flat));
            assert_eq!(a.len(), b.len());
            let mut a: Vec<(DocAddress, f32)> = a.into_iter().map(|(s, d)| (d, s)).collect();
            let mut b: Vec<(DocAddress, f32)> = b.into_iter().map(|(s, d)| (d, s)).collect();
            a.sort_by_key(|x| x.0);
            b.sort_by_key(|x| x.0);
            for ((da, sa), (db, sb)) in a.iter().zip(&b) {
                assert_eq!(da, db);
                assert!((sa - sb).abs() <= 1e-5 * sa.abs().max(1.0), "{sa} vs {sb}");
            }
        }
    }
}
