//! In-process search latency over the shipped query mix (`benches/queries.txt`), per query,
//! with snippets and highlighting as the API returns them (limit 10 unless
//! `BANSHI_BENCH_LIMIT` says otherwise). No HTTP: this is the engine's own cost.
//!
//! `BANSHI_BENCH_INDEX=DIR cargo bench --bench latency` times an existing index (built with
//! `banshi index`, e.g. over a generated catalogue); without it, the built-in corpus is indexed
//! into a temp folder first. Each round runs every query once, after one unmeasured round;
//! prints p50/p90/p99/max over all timed searches and the slowest queries (with where their median
//! run's time went: plan, rank, count, hits, fallback). Then the same for
//! title suggestions (`/api/suggest`'s engine): every 1–4 character prefix of every query in
//! the mix, plus the pinyin queries as typed letter by letter. Nothing asserted.
//!
//! `BANSHI_BENCH_THREADS=N` searches a lone query's segments on N threads (default: one per
//! core, as the server does; 1 searches serially), to compare the two on a given machine.

use banshi::{config, Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: one short round.
    let rounds = if std::env::args().any(|a| a == "--bench") {
        env_num("BANSHI_BENCH_ROUNDS", 20)
    } else {
        1
    };
    let limit = env_num("BANSHI_BENCH_LIMIT", 10);
    let tmp = tempfile::tempdir().expect("temp folder");
    let dir = match std::env::var_os("BANSHI_BENCH_INDEX") {
        Some(d) => PathBuf::from(d),
        None => {
            let (idx, _) = BanshiIndex::open_or_create(tmp.path(), Analyzer::load_default())
                .expect("index opens");
            let mut syncer = Syncer::open(idx).expect("writer opens");
            let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
            syncer.full_sync(&corpus, &()).expect("sync runs");
            syncer.close().expect("merges finish");
            tmp.path().to_path_buf()
        }
    };
    let analyzer = Analyzer::load(config::dict_dir(None, &dir).as_deref()).expect("dictionary");
    let mut searcher = Searcher::new(BanshiIndex::open(&dir, analyzer).expect("index opens"))
        .expect("searcher opens");
    // The segment pool's threads (default: one per core, as the server runs); 1 is serial.
    let threads = std::env::var("BANSHI_BENCH_THREADS").ok();
    if let Some(n) = threads.as_deref().and_then(|v| v.parse().ok()) {
        searcher = searcher.with_segment_pool(n, banshi::search::POOL_MIN_DOCS);
    }
    let queries = banshi::loadgen::parse_queries(banshi::loadgen::DEFAULT_QUERIES);
    let run = |q: &str| {
        let mut req = SearchRequest::new(q);
        req.limit = Some(limit);
        let t0 = Instant::now();
        let resp = searcher.search(&req).expect("query runs");
        (t0.elapsed(), resp.total, resp.hits.len(), resp.timings)
    };
    for q in &queries {
        run(q);
    }
    let mut all: Vec<Duration> = Vec::new();
    // Per query: its median run (with where that run's time went), its p10 and p90 runs.
    type Row<'a> = (
        Duration,
        &'a str,
        u64,
        usize,
        banshi::search::Timings,
        [Duration; 2],
    );
    let mut per_query: Vec<Row> = Vec::new();
    for q in &queries {
        let mut mine = Vec::new();
        let mut found = (0, 0);
        for _ in 0..rounds {
            let (t, total, hits, timings) = run(q);
            mine.push((t, timings));
            found = (total, hits);
        }
        mine.sort_by_key(|m| m.0);
        let (median, timings) = mine[mine.len() / 2];
        let spread = [mine[mine.len() / 10].0, mine[(mine.len() - 1) * 9 / 10].0];
        per_query.push((median, q, found.0, found.1, timings, spread));
        all.extend(mine.into_iter().map(|m| m.0));
    }
    all.sort();
    let p = |q: f64| all[((all.len() as f64 * q).ceil() as usize).clamp(1, all.len()) - 1];
    let mean = all.iter().sum::<Duration>() / all.len() as u32;
    println!(
        "in-process search over {} ({} docs), {} queries x {rounds} rounds, limit {limit}, segment threads {}, snippets on: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}, mean {:?}",
        dir.display(),
        searcher.num_docs(),
        queries.len(),
        threads.as_deref().unwrap_or("default"),
        p(0.5),
        p(0.9),
        p(0.99),
        all.last().expect("at least one query"),
        mean
    );
    per_query.sort_by_key(|q| std::cmp::Reverse(q.0));
    // With where the median run's time went (`SearchResponse::timings`, µs).
    for (t, q, total, hits, p, [p10, p90]) in per_query.iter().take(8) {
        println!(
            "  slowest (median) {t:?} (p10 {p10:?}, p90 {p90:?})  {q}  ({total} matches, {hits} hits; plan {} rank {} count {} hits {} fallback {} µs)",
            p.plan_us, p.rank_us, p.count_us, p.hits_us, p.fallback_us
        );
    }

    let t0 = Instant::now();
    let suggester = banshi::search::suggest::Suggester::build(
        &searcher.tantivy_searcher(),
        searcher.index().fields(),
    );
    let built = t0.elapsed();
    let mut prefixes: Vec<String> = Vec::new();
    for q in &queries {
        let chars: Vec<char> = q.chars().collect();
        let longest = if q.is_ascii() {
            chars.len().min(12)
        } else {
            chars.len().min(4)
        };
        for n in 1..=longest {
            let p: String = chars[..n].iter().collect();
            if !prefixes.contains(&p) {
                prefixes.push(p);
            }
        }
    }
    let mut times: Vec<(Duration, &str)> = Vec::new();
    for p in &prefixes {
        suggester.suggest(p, 8);
    }
    for _ in 0..rounds {
        for p in &prefixes {
            let t0 = Instant::now();
            std::hint::black_box(suggester.suggest(p, 8));
            times.push((t0.elapsed(), p));
        }
    }
    times.sort();
    let p = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1].0;
    println!(
        "suggest over {} titles (built in {built:?}), {} prefixes x {rounds} rounds, limit 8: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        suggester.len(),
        prefixes.len(),
        p(0.5),
        p(0.9),
        p(0.99),
        times.last().expect("at least one prefix").0,
    );
    // Each prefix's median over the rounds, slowest first: what to look at next.
    let mut per: std::collections::HashMap<&str, Vec<Duration>> = Default::default();
    for (t, q) in &times {
        per.entry(q).or_default().push(*t);
    }
    let mut medians: Vec<(Duration, &str)> =
        per.iter().map(|(q, ts)| (ts[ts.len() / 2], *q)).collect();
    medians.sort_by(|a, b| b.cmp(a));
    let slow: Vec<String> = medians
        .iter()
        .take(8)
        .map(|(t, q)| format!("{q} {t:?}"))
        .collect();
    println!("  slowest prefixes (median): {}", slow.join(", "));
}
