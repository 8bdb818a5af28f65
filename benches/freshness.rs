//! Watcher freshness: time from a file saved in the corpus to its document being searchable.
//! `cargo bench --bench freshness` prints p50/p90/p99/max over 100 saves into the built-in
//! corpus copied to a temp folder. Figures go to BENCHMARKS.md; nothing here is asserted.

use banshi::watch::{self, WatchConfig};
use banshi::{Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dst = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a short round.
    let rounds = if std::env::args().any(|a| a == "--bench") {
        100
    } else {
        3
    };
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"),
        corpus.path(),
    );
    let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
    let syncer = Arc::new(Mutex::new(Syncer::open(idx.clone()).unwrap()));
    syncer
        .lock()
        .unwrap()
        .full_sync(corpus.path(), &())
        .unwrap();
    let searcher = Arc::new(Searcher::new(idx).unwrap());
    let s2 = searcher.clone();
    let handle = watch::spawn(WatchConfig::new(corpus.path()), syncer, move |_| {
        s2.reload().ok();
    })
    .unwrap();
    let mut lat = Vec::new();
    for i in 0..rounds {
        let word = format!("新鲜度测试{i}号");
        let t0 = Instant::now();
        std::fs::write(
            corpus.path().join(format!("guides/fresh{i}.md")),
            format!("---\ntitle: {word}\n---\n{word}正文。"),
        )
        .unwrap();
        loop {
            let mut r = SearchRequest::new(&word);
            r.limit = Some(1);
            if searcher
                .search(&r)
                .unwrap()
                .hits
                .first()
                .is_some_and(|h| h.title == word)
            {
                break;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                panic!("{word} not searchable after 10 s");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        lat.push(t0.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    handle.stop();
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1];
    println!(
        "freshness over {} saves: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        lat.len(),
        p(0.5),
        p(0.9),
        p(0.99),
        lat.last().unwrap()
    );
}
