//! Property tests ("fuzzing" with a bounded budget, so CI runs them every time): whatever a
//! user types and whatever a corpus file holds, the query path and the loaders never panic,
//! and what they return stays well-formed. Case counts are set per test; raise them locally
//! with `PROPTEST_CASES=5000 cargo test --test fuzz`.

mod common;

use banshi::corpus::{load_bytes, FieldMap};
use banshi::search::query::ParsedQuery;
use banshi::search::suggest::Suggester;
use banshi::search::SearchError;
use banshi::{Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Characters people (and attackers) put into a search box: CJK, full-width forms, staff
/// syntax, quotes, controls, invisible characters, surrogate-range neighbours, emoji.
fn query_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select("营业执照身份证丢了怎么办补领公积金提取第十二条行政许可法社保卡户口迁移结婚登记離婚營業執照".chars().collect::<Vec<_>>()),
        3 => prop::sample::select("\"'()[]{}:-+*?~^!|&\\/ ,.;\t\n　：（）“”《》".chars().collect::<Vec<_>>()),
        2 => prop::char::range('a', 'z'),
        1 => prop::char::range('0', '9'),
        1 => prop::char::range('\u{0}', '\u{1f}'),
        1 => prop::sample::select(vec!['\u{200b}', '\u{feff}', '\u{202e}', '\u{ff21}', '\u{fffd}', '😀', '𠀀', '\u{e000}']),
        1 => any::<char>(),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec(query_char(), 0..300).prop_map(|v| v.into_iter().collect())
}

struct Fixture {
    searcher: Searcher,
    suggester: Suggester,
}

/// One index of the built-in corpus for all cases. A static is never dropped, so a temp folder
/// held here was left in /tmp by every run; the index lives in Cargo's per-target temp folder
/// instead, under a fixed name cleared at the start of each run.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-index");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (idx, _) = BanshiIndex::open_or_create(&dir, Analyzer::load_default()).unwrap();
        Syncer::open(idx.clone())
            .unwrap()
            .full_sync(&common::builtin_corpus(), &())
            .unwrap();
        let searcher = Searcher::new(idx).unwrap();
        let suggester = Suggester::build(&searcher.tantivy_searcher(), searcher.index().fields());
        Fixture {
            searcher,
            suggester,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The parser takes anything.
    #[test]
    fn parser_never_panics(q in query()) {
        let p = ParsedQuery::parse(&q);
        let _ = p.is_empty();
    }

    /// The analyzer's tokens point at real character boundaries of the input, in order.
    #[test]
    fn analyzer_offsets_are_char_boundaries(q in query()) {
        let a = Analyzer::load_default();
        let mut last = 0;
        for g in a.groups(&q) {
            prop_assert!(g.position >= last);
            last = g.position;
            for t in &g.tokens {
                prop_assert!(t.from <= t.to && t.to <= q.len(), "{t:?} in {q:?}");
                prop_assert!(q.is_char_boundary(t.from) && q.is_char_boundary(t.to));
                prop_assert!(!t.text.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// A search is answered or refused as the caller's fault — never an engine error, never a
    /// panic — with the fallbacks (pinyin, typo correction, suggestions) on, and hits are
    /// well-formed.
    #[test]
    fn search_answers_or_refuses_any_query(
        q in query(),
        limit in prop::option::of(0usize..200),
        offset in prop::option::of(0usize..2000),
        kind in prop::option::of(prop::sample::select(vec!["guide", "law", "x", ""])),
    ) {
        let f = fixture();
        let mut req = SearchRequest::new(&q);
        req.limit = limit;
        req.offset = offset;
        req.kind = kind.map(|k| vec![k.to_string()]).unwrap_or_default();
        match f.searcher.search_with(&req, Some(&f.suggester)) {
            Ok(r) => {
                prop_assert!(r.hits.len() <= limit.unwrap_or(10));
                for h in &r.hits {
                    prop_assert!(!h.id.is_empty() && !h.path.is_empty());
                    prop_assert!(h.score.is_finite());
                }
            }
            Err(SearchError::BadRequest(m)) => prop_assert!(!m.is_empty()),
            Err(e) => prop_assert!(false, "engine error for {q:?}: {e}"),
        }
    }
}

/// Every file of the built-in corpus, for mutation.
fn corpus_files() -> &'static Vec<(String, Vec<u8>)> {
    static F: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    F.get_or_init(|| {
        let root = common::builtin_corpus();
        walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(&root).unwrap();
                let rel = rel.to_string_lossy().replace('\\', "/");
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let junk = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..16),
        prop::sample::select(vec![
            b"---\n".to_vec(),
            b"{".to_vec(),
            b"\"".to_vec(),
            b"[[[[[[[[".to_vec(),
            b"<script>".to_vec(),
            b"\xef\xbb\xbf".to_vec(),
            b"\xff\xfe".to_vec(),
            b"\0".to_vec(),
            "第一百二十三条".as_bytes().to_vec(),
        ]),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), junk).prop_map(|(i, j)| Mutation::Insert(i, j)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match m {
        Mutation::Flip(i, b) if !bytes.is_empty() => {
            let n = bytes.len();
            bytes[i % n] ^= b | 1;
        }
        Mutation::Flip(..) => {}
        Mutation::Truncate(i) => bytes.truncate(at(*i, bytes.len())),
        Mutation::Insert(i, j) => {
            let p = at(*i, bytes.len());
            bytes.splice(p..p, j.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let p = at(*i, bytes.len());
            let end = (p + n).min(bytes.len());
            bytes.drain(p..end);
        }
    }
}

fn check_loaded(rel: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(loaded) = load_bytes(rel, bytes, &FieldMap::default()) {
        for d in &loaded.docs {
            prop_assert!(!d.id.is_empty(), "{rel}: empty id");
            prop_assert_eq!(&d.path, rel);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Real corpus files, damaged: each loader loads them or refuses them with a reason.
    #[test]
    fn loaders_survive_damaged_real_files(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let files = corpus_files();
        let (rel, bytes) = &files[which.index(files.len())];
        let mut b = bytes.clone();
        for m in &muts {
            apply(&mut b, m);
        }
        check_loaded(rel, &b)?;
    }

    /// Arbitrary bytes under every supported extension.
    #[test]
    fn loaders_survive_arbitrary_bytes(
        ext in prop::sample::select(vec!["md", "markdown", "txt", "html", "htm", "json", "jsonl"]),
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        check_loaded(&format!("guides/x.{ext}"), &bytes)?;
    }

    /// Structured-looking JSON with odd shapes: nesting, wrong types, huge numbers.
    #[test]
    fn json_loader_survives_odd_shapes(
        depth in 0usize..300,
        title in query(),
        n in any::<i64>(),
        f in any::<f64>(),
    ) {
        let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let doc = serde_json::json!({
            "title": title,
            "code": n,
            "承诺时限": f.to_string(),
            "法定时限": n,
            "materials": [title.clone(), n, null, {"x": []}],
        });
        let mut text = doc.to_string();
        text.insert_str(text.len() - 1, &format!(",\"deep\":{nested}"));
        check_loaded("guides/x.json", text.as_bytes())?;
        check_loaded("guides/x.jsonl", format!("{text}\n{text}\n{nested}\n").as_bytes())?;
    }
}

/// The total and the facets do not depend on the page: on a first page they may be counted
/// during the walk through the tiers (the last tier's pass, plus the earlier tiers' few hits
/// by address), on any other page by a pass of their own. Over the whole benchmark query mix,
/// unfiltered and filtered by kind, both ways agree.
#[test]
fn totals_and_facets_are_the_same_on_every_page() {
    let f = fixture();
    let mix = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/queries.txt"),
    )
    .unwrap();
    let mut compared = 0;
    let mut with_facets = 0;
    for q in mix.lines().map(str::trim) {
        if q.is_empty() || q.starts_with('#') {
            continue;
        }
        for kind in [None, Some("guide")] {
            let page = |offset: usize| {
                let mut req = SearchRequest::new(q);
                req.limit = Some(5);
                req.offset = Some(offset);
                req.kind = kind.map(|k| vec![k.to_string()]).unwrap_or_default();
                let r = f.searcher.search_with(&req, Some(&f.suggester)).unwrap();
                (r.total, serde_json::to_string(&r.facets).unwrap())
            };
            let first = page(0);
            assert_eq!(first, page(1), "{q} kind={kind:?}");
            compared += 1;
            with_facets += usize::from(first.0 > 0);
        }
    }
    assert!(
        compared >= 400 && with_facets >= 200,
        "{compared} compared, {with_facets} with matches"
    );
}
