//! `banshi bench`, the shipped load and freshness tool, against a real server on a real port.
//! No figure is asserted (speed lives in BENCHMARKS.md): these check that the tool measures
//! what it says, counts failures as errors and exits non-zero on them, and leaves the corpus
//! as it found it.

mod common;

use common::{builtin_corpus, run, stderr, stdout, tempdir, write, Server};
use serde_json::Value;
use std::path::Path;

fn report(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("JSON report ({e}); stderr: {}", stderr(out)))
}

fn num(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn bench(args: &[&str]) -> (std::process::Output, Value) {
    let mut all = vec!["bench", "--json"];
    all.extend_from_slice(args);
    let out = run(&all);
    let v = report(&out);
    (out, v)
}

#[test]
fn load_runs_report_latency_and_count_failures_as_errors() {
    let index = tempdir();
    let s = Server::start(&builtin_corpus(), index.path(), &["--no-watch"]);
    let common = ["--concurrency", "4", "--duration", "1", "--warmup", "0.2"];

    // The shipped mix against banshi's search.
    let (out, v) = bench(&[&["--url", s.base.as_str()][..], &common].concat());
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(num(&v, "requests") > 0, "{v}");
    assert_eq!(num(&v, "errors"), 0, "{v}");
    let (p50, p90, p99, max) = (
        num(&v, "p50_us"),
        num(&v, "p90_us"),
        num(&v, "p99_us"),
        num(&v, "max_us"),
    );
    assert!(0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= max, "{v}");
    assert_eq!(num(&v, "concurrency"), 4);

    // A URL template times any endpoint: here the suggester, with a query file.
    let dir = tempdir();
    write(dir.path(), "q.txt", "# prefixes\nyy\n营业\n\nsfz\n");
    let q = dir.path().join("q.txt");
    let url = format!("{}/api/suggest?q={{q}}", s.base);
    let (out, v) = bench(
        &[
            &["--url", url.as_str(), "--queries", q.to_str().unwrap()][..],
            &common,
        ]
        .concat(),
    );
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(num(&v, "requests") > 0 && num(&v, "errors") == 0, "{v}");

    // Every answer a 404: all of them are errors, and the exit code says so.
    let url = format!("{}/api/nothing-here?q={{q}}", s.base);
    let (out, v) = bench(&[&["--url", url.as_str()][..], &common].concat());
    assert!(!out.status.success());
    assert!(num(&v, "requests") > 0, "{v}");
    assert_eq!(num(&v, "errors"), num(&v, "requests"), "{v}");
}

/// The test files a freshness run writes (there should be none left).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("banshi-fresh-"))
        .collect()
}

#[test]
fn freshness_runs_time_saves_until_searchable_and_clean_up() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/a.md",
        "---\ntitle: 结婚登记\n---\n婚姻登记处办理。",
    );
    let s = Server::start(c, index.path(), &[]);
    let dir = c.to_str().unwrap();

    let (out, v) = bench(&[
        "--url",
        &s.base,
        "--freshness",
        dir,
        "--saves",
        "3",
        "--gap",
        "0.05",
    ]);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert_eq!(num(&v, "saves"), 3, "{v}");
    assert_eq!(num(&v, "errors"), 0, "{v}");
    let (p50, max) = (num(&v, "p50_us"), num(&v, "max_us"));
    assert!(0 < p50 && p50 <= max && max < 10_000_000, "{v}");
    assert!(num(&v, "cleanup_us") > 0, "{v}");
    assert!(leftovers(c).is_empty(), "{:?}", leftovers(c));
    // The index followed the removal: only the original document is left.
    let status: Value = common::client()
        .get(s.url("/api/status"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(status["documents"].as_u64(), Some(1), "{status}");

    // A server that does not watch never finds the saves: errors, a failing exit code, and
    // the files are still removed.
    let index2 = tempdir();
    let s2 = Server::start(c, index2.path(), &["--no-watch"]);
    let (out, v) = bench(&[
        "--url",
        &s2.base,
        "--freshness",
        dir,
        "--saves",
        "1",
        "--timeout",
        "0.5",
    ]);
    assert!(!out.status.success());
    assert!(num(&v, "errors") >= 1, "{v}");
    assert!(leftovers(c).is_empty(), "{:?}", leftovers(c));
}

#[test]
fn freshness_needs_a_folder_a_server_and_sane_numbers() {
    // Nothing listens on port 9: a clear error before the first save (not a timeout per
    // save), and nothing written.
    let corpus = tempdir();
    let dir = corpus.path().to_str().unwrap();
    let out = run(&[
        "bench",
        "--url",
        "http://127.0.0.1:9",
        "--freshness",
        dir,
        "--saves",
        "3",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not answer like banshi"),
        "{}",
        stderr(&out)
    );
    assert!(leftovers(corpus.path()).is_empty());

    let out = run(&[
        "bench",
        "--freshness",
        "/nonexistent/banshi",
        "--saves",
        "1",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not a folder"), "{}", stderr(&out));
    let out = run(&["bench", "--duration=-1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("seconds"), "{}", stderr(&out));
    // Freshness options without --freshness are a mistake, not silently ignored.
    let out = run(&["bench", "--saves", "3"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--freshness"), "{}", stderr(&out));
}

/// `benches/growth.sh`, the chain behind BENCHMARKS.md's per-size table, end to end on the
/// built-in corpus with short runs: every row is printed, every load run is error-free, the
/// index it builds is where it says, and the corpus is left as it was (freshness writes into a
/// copy). The rows that run `cargo bench` (the in-process mix, the yardstick) are left out
/// here: they would build a second profile.
#[test]
fn the_growth_script_prints_every_row_of_the_table() {
    let work = tempdir();
    let before: Vec<_> = walkdir::WalkDir::new(builtin_corpus())
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    let out = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/growth.sh"))
        .arg("builtin")
        .env("BANSHI_BIN", env!("CARGO_BIN_EXE_banshi"))
        .env("BANSHI_GROWTH_DIR", work.path())
        .env("GROWTH_SECS", "1")
        .env("GROWTH_SAVES", "3")
        .env("GROWTH_LATENCY", "0")
        .output()
        .expect("bash runs");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for row in [
        "index build:",
        "index size on disk:",
        "start-up (4 spawns):",
        "RSS after start:",
        "HTTP c=1, cache off:",
        "HTTP c=8, cache off:",
        "HTTP c=64, cache off:",
        "suggest c=8:",
        "RSS after load:",
        "HTTP c=64, cache on:",
        "freshness (3 saves):",
        "watcher syncs (freshness):",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row:?} row in:\n{text}"));
        if row.starts_with("HTTP") || row.starts_with("suggest") || row.starts_with("fresh") {
            assert!(
                line.ends_with(" 0 errors") || line.contains("; 0 errors;"),
                "{line}"
            );
        }
    }
    // The freshness server logged its watcher's syncs: one per save at least.
    let syncs = text
        .lines()
        .find(|l| l.starts_with("watcher syncs (freshness):"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<u32>().ok());
    assert!(syncs.is_some_and(|n| n >= 3), "{text}");
    assert!(text.contains("85 documents"), "{text}");
    assert!(text.matches(" ms").count() >= 4, "{text}");
    assert!(work.path().join("index-builtin/meta.json").exists());
    let after: Vec<_> = walkdir::WalkDir::new(builtin_corpus())
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    assert_eq!(before, after, "the corpus changed");
}
