//! The real public corpus in `../shared/corpus` (override with BANSHI_SHARED_CORPUS): every
//! file is indexed or skipped with a reason, and real queries find the right laws.

mod common;

use banshi::{Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};

#[test]
fn real_corpus_indexes_every_file_or_says_why() {
    let Some(corpus) = common::shared_corpus("real_corpus_indexes_every_file_or_says_why") else {
        return;
    };
    let index = common::tempdir();
    let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
    let mut syncer = Syncer::open(idx.clone()).unwrap();
    let r = syncer.full_sync(&corpus, &()).unwrap();
    eprintln!("{}", r.summary());
    // Every file is accounted for: indexed (added) or skipped with a reason.
    let file_skips = r.skipped.iter().filter(|s| !s.path.contains(':')).count();
    assert_eq!(r.added + file_skips, r.files_seen, "{:?}", r.skipped);
    assert!(r.skipped.iter().all(|s| !s.reason.is_empty()));
    // The Hugo `_index.md` files (front matter only) and the GBK XML files are among the skipped.
    assert!(r
        .skipped
        .iter()
        .any(|s| s.path.ends_with("_index.md") && s.reason.contains("no content")));
    assert!(r
        .skipped
        .iter()
        .any(|s| s.path.ends_with(".xml") && s.reason.contains("unsupported")));
    // Measured 4,977 documents (2026-11); a floor, not an exact count, so corpus updates do not break it.
    assert!(r.docs > 4500, "{} documents", r.docs);

    // Hits read documents from the store's raw bytes; every real document reads the same
    // as through tantivy (long laws have three-byte lengths, the catalogue items no body).
    assert_eq!(common::raw_stored_documents_match(&idx) as u64, r.docs);

    let searcher = Searcher::new(idx).unwrap();
    let first = |q: &str| {
        searcher
            .search(&SearchRequest::new(q))
            .unwrap()
            .hits
            .into_iter()
            .next()
            .unwrap()
    };
    let hit = first("行政许可法");
    assert!(hit.title.contains("行政许可法"), "{hit:?}");
    let top = searcher.search(&SearchRequest::new("行政许可")).unwrap();
    assert!(
        top.hits
            .iter()
            .any(|h| h.title == "中华人民共和国行政许可法"),
        "{:?}",
        top.hits
    );
    // A Shanghai catalogue item by its code.
    let hit = first("SH00SH2312025006");
    assert_eq!(hit.code.as_deref(), Some("SH00SH2312025006"), "{hit:?}");
    // The GBK-free notice with CRLF line endings.
    let hit = first("个人所得税纳税信用建设");
    assert!(hit.path.starts_with("govdoc-cn-sample/"), "{hit:?}");
}
