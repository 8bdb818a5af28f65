//! The watcher through the real server: files changed on disk show up in `/api/search` and
//! `/api/status` while the server keeps answering.

mod common;

use common::{client, eventually, tempdir, write, Server};
use serde_json::Value;

fn ids(s: &Server, q: &str) -> Option<Vec<String>> {
    let r = client()
        .get(s.url("/api/search"))
        .query(&[("q", q), ("limit", "100")])
        .send()
        .ok()?;
    assert_eq!(r.status(), 200, "search {q}");
    let v: Value = r.json().ok()?;
    let mut ids: Vec<String> = v["hits"]
        .as_array()?
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    Some(ids)
}

/// GET `path` and parse JSON; `None` while the server cannot answer.
fn get_json(s: &Server, path: &str) -> Option<Value> {
    client().get(s.url(path)).send().ok()?.json().ok()
}

/// Wait until `/api/suggest?q=PREFIX` does (or does not) offer `title`. Suggestions are rebuilt
/// in the background after a watcher commit, so they follow search, not with it.
fn wait_suggested(s: &Server, prefix: &str, title: &str, offered: bool) {
    eventually(
        20,
        &format!("suggest {prefix} offers {title}: {offered}"),
        || {
            let v = get_json(s, &format!("/api/suggest?q={prefix}"))?;
            let has = v["suggestions"]
                .as_array()?
                .iter()
                .any(|x| x["title"] == title);
            (has == offered).then_some(())
        },
    );
}

fn wait_ids(s: &Server, q: &str, want: &[&str]) {
    eventually(20, &format!("{q} → {want:?}"), || {
        let got = ids(s, q)?;
        (got == want).then_some(())
    });
}

#[test]
fn edits_on_disk_are_searchable_without_restart() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/a.md",
        "---\ntitle: 结婚登记\ncode: YC1\n---\n婚姻登记处办理。",
    );
    let s = Server::start(c, index.path(), &[]);
    wait_ids(&s, "结婚登记", &["YC1"]);
    // The file count is kept per snapshot: it must follow commits.
    let files = || get_json(&s, "/api/status").map(|v| v["files"].clone());
    assert_eq!(files(), Some(Value::from(1)));

    // Create.
    write(
        c,
        "guides/b.md",
        "---\ntitle: 离婚登记\ncode: YC2\n---\n婚姻登记处办理离婚。",
    );
    wait_ids(&s, "离婚", &["YC2"]);
    assert_eq!(files(), Some(Value::from(2)));
    wait_suggested(&s, "离婚", "离婚登记", true);
    // Repeated, it comes from the cache; the edit below must still show (a commit
    // invalidates the cache). Polled: the suggester is swapped in after search sees the
    // commit, and a swap also changes the cache key, so the first repeat may miss.
    eventually(20, "a repeated search answered from the cache", || {
        let again: Value = client()
            .get(s.url("/api/search"))
            .query(&[("q", "离婚"), ("limit", "100")])
            .send()
            .ok()?
            .json()
            .ok()?;
        assert_eq!(again["total"], 1, "{again}");
        (again["cached"] == true).then_some(())
    });
    // Modify.
    write(
        c,
        "guides/b.md",
        "---\ntitle: 补领结婚证\ncode: YC2\n---\n遗失补领。",
    );
    wait_ids(&s, "离婚", &[]);
    wait_ids(&s, "补领", &["YC2"]);
    wait_suggested(&s, "离婚", "离婚登记", false);
    wait_suggested(&s, "补领", "补领结婚证", true);
    // Atomic save: write a temp file, rename over.
    write(c, "guides/.a.md.swp", "junk");
    write(
        c,
        "guides/a.md.tmp",
        "---\ntitle: 结婚登记（新）\ncode: YC1\n---\n新版本：预约办理。",
    );
    std::fs::rename(c.join("guides/a.md.tmp"), c.join("guides/a.md")).unwrap();
    wait_ids(&s, "预约", &["YC1"]);
    // Rename.
    std::fs::rename(c.join("guides/b.md"), c.join("guides/c.md")).unwrap();
    let st = eventually(20, "rename reflected", || {
        let v: Value = get_json(&s, "/api/docs/YC2")?;
        (v["path"] == "guides/c.md").then_some(v)
    });
    assert_eq!(st["title"], "补领结婚证");
    // Delete.
    std::fs::remove_file(c.join("guides/c.md")).unwrap();
    wait_ids(&s, "补领", &[]);
    assert_eq!(files(), Some(Value::from(1)));
    // A broken file keeps its previous version and is reported until fixed.
    write(c, "guides/a.md", "---\ntitle: [broken\n---\n");
    let st = eventually(20, "skip reported in /api/status", || {
        let v: Value = get_json(&s, "/api/status")?;
        let skipped = v["skipped"].as_array()?;
        skipped
            .iter()
            .any(|k| k["path"] == "guides/a.md")
            .then_some(v)
    });
    assert!(st["watcher"]["state"].is_string(), "{st}");
    assert_eq!(
        ids(&s, "预约").unwrap(),
        ["YC1"],
        "previous version stays searchable"
    );
    write(
        c,
        "guides/a.md",
        "---\ntitle: 结婚登记\ncode: YC1\n---\n修好了。",
    );
    eventually(20, "skip cleared", || {
        let v: Value = get_json(&s, "/api/status")?;
        v["skipped"].as_array()?.is_empty().then_some(())
    });
    // The re-index runs are counted in /metrics.
    let m = client()
        .get(s.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let runs: f64 = m
        .lines()
        .find(|l| l.starts_with("banshi_reindex_runs_total"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap();
    assert!(runs >= 5.0, "{m}");
}

#[test]
fn a_burst_is_coalesced_and_searches_never_fail_meanwhile() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path().to_path_buf();
    write(&c, "guides/seed.md", "---\ntitle: 起点说明\n---\n起点。");
    let s = Server::start(&c, index.path(), &[]);
    let base = s.base.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let searcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut ok, mut bad) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match client().get(format!("{base}/api/search?q=批量事项")).send() {
                    Ok(r) if r.status() == 200 => ok += 1,
                    _ => bad += 1,
                }
            }
            (ok, bad)
        })
    };
    for i in 0..1000 {
        write(
            &c,
            &format!("bulk/d{}/item{i}.md", i % 10),
            format!("---\ntitle: 批量事项{i}\n---\n批量事项正文{i}。"),
        );
    }
    let total = eventually(60, "all 1000 burst files searchable", || {
        let v: Value = get_json(&s, "/api/search?q=批量事项")?;
        let t = v["total"].as_u64()?;
        (t == 1000).then_some(t)
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, bad) = searcher.join().unwrap();
    assert_eq!(total, 1000);
    assert_eq!(
        bad, 0,
        "{ok} searches succeeded, {bad} failed during the burst"
    );
    assert!(ok > 10, "only {ok} searches ran during the burst");
    let st: Value = get_json(&s, "/api/status").unwrap();
    let commits = st["watcher"]["commits"].as_u64().unwrap();
    assert!(commits < 50, "1000 files took {commits} commits: {st}");
    // A folder deleted: all its documents follow.
    std::fs::remove_dir_all(c.join("bulk/d3")).unwrap();
    eventually(30, "folder removal reflected", || {
        let v: Value = get_json(&s, "/api/search?q=批量事项")?;
        (v["total"].as_u64()? == 900).then_some(())
    });
}

#[test]
fn changes_while_stopped_are_picked_up_at_start() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/a.md",
        "---\ntitle: 结婚登记\ncode: YC1\n---\n办理。",
    );
    write(
        c,
        "guides/b.md",
        "---\ntitle: 离婚登记\ncode: YC2\n---\n办理。",
    );
    let mut s = Server::start(c, index.path(), &[]);
    wait_ids(&s, "登记", &["YC1", "YC2"]);
    assert!(s.terminate().success());
    std::fs::remove_file(c.join("guides/b.md")).unwrap();
    write(
        c,
        "guides/c.md",
        "---\ntitle: 出生登记\ncode: YC3\n---\n办理。",
    );
    let s = Server::start(c, index.path(), &["--no-watch"]);
    assert_eq!(ids(&s, "登记").unwrap(), ["YC1", "YC3"]);
}

#[test]
fn bad_files_dropped_in_while_serving_are_reported_not_fatal() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/good.md",
        "---\ntitle: 结婚登记\ncode: YC1\n---\n办理。",
    );
    let s = Server::start(c, index.path(), &[]);
    write(c, "guides/bad.json", "{\"title\": \"半截");
    write(c, "guides/blob.md", [0u8, 159, 146, 150, 0, 1, 2, 3, 0, 0]);
    // GBK text is decoded, not skipped.
    let (gbk, _, _) = encoding_rs::GBK.encode("停水通知\n青山区明日停水。");
    write(c, "notices/gbk.txt", &*gbk);
    // Unreadable: a link to nowhere (as root, permission bits would not stop a read).
    std::os::unix::fs::symlink(c.join("missing-target.md"), c.join("guides/dangling.md")).unwrap();
    let st = eventually(20, "bad files reported", || {
        let v: Value = get_json(&s, "/api/status")?;
        let paths: Vec<String> = v["skipped"]
            .as_array()?
            .iter()
            .map(|k| k["path"].as_str().unwrap().to_string())
            .collect();
        (paths.contains(&"guides/bad.json".to_string())
            && paths.contains(&"guides/blob.md".to_string())
            && paths.contains(&"guides/dangling.md".to_string()))
        .then_some(v)
    });
    eventually(20, "GBK notice searchable", || {
        ids(&s, "停水").filter(|i| i.len() == 1).map(|_| ())
    });
    assert_eq!(
        client().get(s.url("/health")).send().unwrap().status(),
        200,
        "{st}"
    );
    assert_eq!(ids(&s, "结婚登记").unwrap(), ["YC1"]);
    // Every skip says why.
    let v: Value = get_json(&s, "/api/status").unwrap();
    for k in v["skipped"].as_array().unwrap() {
        assert!(!k["reason"].as_str().unwrap().is_empty(), "{k}");
    }
}

/// Every answer of `/api/suggest` for `prefixes`, as JSON.
fn suggestions(s: &Server, prefixes: &[&str]) -> Vec<Value> {
    prefixes
        .iter()
        .map(|p| get_json(s, &format!("/api/suggest?q={p}")).unwrap()["suggestions"].clone())
        .collect()
}

fn suggester_loaded(s: &Server) -> bool {
    let v = get_json(s, "/api/status").unwrap();
    v["suggester"]["loaded_from_file"].as_bool().unwrap()
}

/// Suggestions are written beside the index and read back at the next start instead of
/// being built (issue 5: start-up at 100k documents), including those of a watcher's commit
/// (written at shutdown); a damaged or stale file is built around and answers the same.
#[test]
fn suggestions_are_read_back_at_start_and_never_stale() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(c, "guides/a.md", "---\ntitle: 结婚登记\n---\n办理。");
    write(c, "guides/b.md", "---\ntitle: 绿色通道申请\n---\n办理。");
    let prefixes = ["结", "jiehun", "jh", "lv", "csdj", "出生", "登记", "x"];

    let mut s = Server::start(c, index.path(), &[]);
    assert!(!suggester_loaded(&s), "a new index has no file to read");
    write(c, "guides/c.md", "---\ntitle: 出生登记\n---\n办理。");
    wait_suggested(&s, "csdj", "出生登记", true);
    let want = suggestions(&s, &prefixes);
    assert!(s.terminate().success());
    let file = index.path().join("suggest.bin");
    assert!(file.exists(), "shutdown writes the suggestions");

    let mut s = Server::start(c, index.path(), &["--no-watch"]);
    assert!(suggester_loaded(&s), "the same index: read, not built");
    assert_eq!(suggestions(&s, &prefixes), want);
    assert!(s.terminate().success());

    // Damaged in the middle: refused, built, same answers.
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&file, bytes).unwrap();
    let mut s = Server::start(c, index.path(), &["--no-watch"]);
    assert!(!suggester_loaded(&s), "a damaged file is not read");
    assert_eq!(suggestions(&s, &prefixes), want);
    assert!(s.terminate().success());

    // Changed while stopped: the start's sync commits, the file is stale and not used.
    std::fs::remove_file(c.join("guides/a.md")).unwrap();
    let s = Server::start(c, index.path(), &["--no-watch"]);
    assert!(!suggester_loaded(&s), "a stale file is not read");
    let v = get_json(&s, "/api/suggest?q=jh").unwrap();
    assert_eq!(v["suggestions"].as_array().unwrap().len(), 0, "{v}");
    assert_ne!(suggestions(&s, &prefixes), want);
}
