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

fn analysis(c: &mut Criterion) {
    let analyzer = Analyzer::load_default();
    let text = law_text();
    let mut g = c.benchmark_group("analysis");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("groups_builtin_laws", |b| {
        b.iter(|| analyzer.groups(&text).len())
    });
    g.finish();
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
