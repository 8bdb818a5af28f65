//! The CLI end to end on the built-in corpus: `banshi index`, then `banshi search`.

mod common;

use common::{builtin_corpus, index_dir, run, stderr, stdout, tempdir};

#[test]
fn index_then_search_shows_highlighted_hits() {
    let index = tempdir();
    let idx = index.path().to_str().unwrap();
    let out = index_dir(&builtin_corpus(), index.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains("files seen") && summary.contains("documents"),
        "{summary}"
    );
    // _index.md is front matter only: skipped with its reason.
    assert!(
        stderr(&out).contains("guides/_index.md: no content"),
        "{}",
        stderr(&out)
    );
    // The suggestions are written beside the index, for the server's first start.
    let saved = index.path().join("suggest.bin");
    let written = std::fs::metadata(&saved)
        .expect("suggest.bin")
        .modified()
        .unwrap();

    let out = run(&["search", "营业执照", "--index", idx]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("[营业执照]"), "no highlight in:\n{text}");
    assert!(text.contains("results"), "{text}");
    // Read, not rewritten: the search saw the same snapshot.
    assert_eq!(
        std::fs::metadata(&saved).unwrap().modified().unwrap(),
        written
    );

    // A second run is incremental: nothing to re-index.
    let out = index_dir(&builtin_corpus(), index.path());
    assert!(
        stdout(&out).contains(" 0 added, 0 updated, 0 removed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn search_json_is_the_api_shape() {
    let index = tempdir();
    let idx = index.path().to_str().unwrap();
    assert!(index_dir(&builtin_corpus(), index.path()).status.success());
    let out = run(&[
        "search",
        "身份证",
        "--index",
        idx,
        "--json",
        "--limit",
        "3",
        "--kind",
        "guide",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert!(v["total"].as_u64().unwrap() >= 2, "{v}");
    assert!(v["took_us"].is_u64());
    // Where the time went: the phases add up to at most the whole.
    let phases: u64 = ["plan_us", "rank_us", "count_us", "hits_us", "fallback_us"]
        .iter()
        .map(|k| {
            v["timings"][k]
                .as_u64()
                .unwrap_or_else(|| panic!("{k} in {v}"))
        })
        .sum();
    assert!(phases <= v["took_us"].as_u64().unwrap(), "{v}");
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 3);
    for h in hits {
        for key in ["id", "path", "kind", "title", "score", "snippet"] {
            assert!(!h[key].is_null(), "{key} missing in {h}");
        }
        assert_eq!(h["kind"], "guide");
        assert!(!h["path"].as_str().unwrap().contains('\\'));
    }
}

#[test]
fn search_without_an_index_says_what_to_do() {
    let index = tempdir();
    let out = run(&[
        "search",
        "x",
        "--index",
        index.path().join("none").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("run `banshi index` first"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn search_into_a_closed_pipe_exits_quietly() {
    // `banshi search … | head -1`: the reader goes away; no panic, no error.
    let index = tempdir();
    let idx = index.path().to_str().unwrap();
    assert!(index_dir(&builtin_corpus(), index.path()).status.success());
    for json in [false, true] {
        let mut cmd = common::bin();
        cmd.args(["search", "登记", "--index", idx, "--limit", "50"]);
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before the search has printed anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "json={json}: {err}");
        assert!(!err.contains("panicked"), "json={json}: {err}");
    }
}

#[test]
fn an_index_from_another_schema_is_rebuilt_not_a_crash() {
    // An index as an older banshi left it: a schema without fields added since.
    let index = tempdir();
    let idx = index.path().to_str().unwrap();
    {
        let mut b = tantivy::schema::Schema::builder();
        b.add_text_field("path", tantivy::schema::STRING | tantivy::schema::STORED);
        let old = tantivy::Index::create_in_dir(index.path(), b.build()).unwrap();
        let mut w: tantivy::IndexWriter = old.writer_with_num_threads(1, 15_000_000).unwrap();
        w.commit().unwrap();
    }
    let out = run(&["search", "登记", "--index", idx]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("another version of banshi"), "{err}");
    let out = index_dir(&builtin_corpus(), index.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&["search", "登记", "--index", idx]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("results"));
}
