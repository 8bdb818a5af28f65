//! Analysis and query latency. `cargo bench --bench analysis`; figures go to BENCHMARKS.md.
//!
//! Uses the built-in corpus (always present) and, when `BANSHI_SHARED_CORPUS` or
//! `../shared/corpus` exists, the real public corpus for the index-wide query bench.

use banshi::{Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};

/// Queries of the kinds citizens and staff type: colloquial, exact code, phrase, filter.
const QUERIES: &[&str] = &[
    "营业执照怎么办",
    "身份证丢了",
    "行政许可",
    "\"婚姻登记\"",
    "第十二条",
    "社保卡 补办",
    "營業執照",
    "kind:law 安全生产",
];

fn corpus_dir() -> PathBuf {
    let shared = std::env::var_os("BANSHI_SHARED_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/corpus"));
    if shared.is_dir() {
        shared
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")
    }
}

fn law_text() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/laws");
    let mut text = String::new();
    for e in std::fs::read_dir(dir).expect("built-in corpus") {
        text.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap_or_default());
    }
    text
}

/// About 4 MB of the real laws' Markdown, one string per file as indexing sees them (the first
/// files in name order), when present: the text the indexing target is about.
fn real_law_texts() -> Option<Vec<String>> {
    let dir = corpus_dir().join("lawrefbook-laws");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .flatten()
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    let (mut texts, mut len) = (Vec::new(), 0);
    for f in files {
        if len > 4 << 20 {
            break;
        }
        let t = std::fs::read_to_string(f).unwrap_or_default();
        len += t.len();
        texts.push(t);
    }
    (!texts.is_empty()).then_some(texts)
}

/// Raw jieba search mode (the target's yardstick) beside our whole chain on the same text:
/// normalization, segmentation, grouping, stop words, and the tantivy token stream.
fn analysis(c: &mut Criterion) {
    use tantivy::tokenizer::{TokenStream, Tokenizer};
    let analyzer = Analyzer::load_default();
    let mut sets = vec![("builtin_laws", vec![law_text()])];
    if let Some(t) = real_law_texts() {
        sets.push(("real_laws", t));
    }
    for (name, texts) in &sets {
        let bytes: usize = texts.iter().map(String::len).sum();
        let each = |f: &dyn Fn(&str) -> usize| texts.iter().map(|t| f(t)).sum::<usize>();
        let mut g = c.benchmark_group(format!("analysis/{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function("raw_jieba_cut_for_search", |b| {
            b.iter(|| each(&|t| analyzer.jieba().cut_for_search(t, true).len()))
        });
        g.bench_function("normalize", |b| {
            b.iter(|| each(&|t| banshi::analysis::normalize::normalize(t).text.len()))
        });
        g.bench_function("groups", |b| b.iter(|| each(&|t| analyzer.groups(t).len())));
        g.bench_function("token_stream", |b| {
            let tok =
                std::cell::RefCell::new(banshi::analysis::JiebaTokenizer::new(analyzer.clone()));
            b.iter(|| {
                each(&|t| {
                    let mut tok = tok.borrow_mut();
                    let mut s = tok.token_stream(t);
                    let mut n = 0;
                    while s.advance() {
                        n += s.token().text.len();
                    }
                    n
                })
            })
        });
        g.finish();
    }
}

fn search(c: &mut Criterion) {
    let corpus = corpus_dir();
    let tmp = tempfile::tempdir().unwrap();
    let (idx, _) = BanshiIndex::open_or_create(tmp.path(), Analyzer::load_default()).unwrap();
    let mut syncer = Syncer::open(idx.clone()).unwrap();
    let report = syncer.full_sync(&corpus, &()).unwrap();
    eprintln!("bench corpus {}: {}", corpus.display(), report.summary());
    let searcher = Searcher::new(idx).unwrap();
    let mut g = c.benchmark_group("search");
    for q in QUERIES {
        let req = SearchRequest::new(q);
        g.bench_function(*q, |b| b.iter(|| searcher.search(&req).unwrap().total));
    }
    g.finish();
}

criterion_group!(benches, analysis, search);
criterion_main!(benches);
