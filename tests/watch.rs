//! The live watcher through the library: real files in temp folders, real notify events, a
//! real index; every expectation is awaited by bounded polling, never a fixed sleep.

mod common;

use banshi::watch::{spawn, WatchConfig, WatchHandle, WatchStatus};
use banshi::{Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};
use common::{tempdir, write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A corpus, its index, the shared syncer, a searcher reloaded by `on_sync`, and the watcher.
struct Live {
    corpus: tempfile::TempDir,
    _index: tempfile::TempDir,
    syncer: Arc<Mutex<Syncer>>,
    searcher: Arc<Searcher>,
    on_sync_calls: Arc<AtomicU64>,
    watch: Option<WatchHandle>,
}

impl Live {
    /// Index whatever `setup` writes, then start watching (natively, or polling every `poll`).
    fn start(setup: impl FnOnce(&Path), poll: Option<Duration>) -> Live {
        let corpus = tempdir();
        let index = tempdir();
        setup(corpus.path());
        let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
        let mut syncer = Syncer::open(idx.clone()).unwrap();
        syncer.full_sync(corpus.path(), &()).unwrap();
        let syncer = Arc::new(Mutex::new(syncer));
        let searcher = Arc::new(Searcher::new(idx).unwrap());
        searcher.reload().unwrap();
        let on_sync_calls = Arc::new(AtomicU64::new(0));
        let (s, calls) = (searcher.clone(), on_sync_calls.clone());
        let mut cfg = WatchConfig::new(corpus.path());
        cfg.poll_interval = poll;
        let watch = spawn(cfg, syncer.clone(), move |report| {
            assert!(report.committed);
            s.reload().unwrap();
            calls.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        Live {
            corpus,
            _index: index,
            syncer,
            searcher,
            on_sync_calls,
            watch: Some(watch),
        }
    }

    fn root(&self) -> &Path {
        self.corpus.path()
    }

    fn status(&self) -> WatchStatus {
        self.watch.as_ref().unwrap().status()
    }

    /// Sorted paths of the hits for `q` (no reload here: `on_sync` must have done it).
    fn paths(&self, q: &str) -> Vec<String> {
        let mut r = SearchRequest::new(q);
        r.limit = Some(100);
        let mut v: Vec<String> = self
            .searcher
            .search(&r)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.path)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Wait until the hits for `q` are exactly `expected` paths.
    fn wait_paths(&self, q: &str, expected: &[&str]) {
        let mut last = Vec::new();
        let ok = poll(|| {
            last = self.paths(q);
            last == expected
        });
        assert!(
            ok,
            "{q:?}: expected {expected:?}, still {last:?}; {:?}",
            self.status()
        );
    }

    fn skipped(&self) -> Vec<(String, String)> {
        self.syncer
            .lock()
            .unwrap()
            .skipped()
            .into_iter()
            .map(|s| (s.path, s.reason))
            .collect()
    }

    /// Stop the watcher; its sync counters must match the `on_sync` calls.
    fn stop(mut self) -> WatchStatus {
        let watch = self.watch.take().unwrap();
        let reader = watch.status_reader();
        watch.stop();
        let after = reader.status();
        assert_eq!(after.state, "stopped");
        assert_eq!(
            self.on_sync_calls.load(Ordering::SeqCst),
            after.commits,
            "on_sync runs once per commit: {after:?}"
        );
        assert!(after.recent_errors.is_empty(), "{after:?}");
        after
    }
}

/// Poll `ok` every 20 ms for up to 20 s.
fn poll(mut ok: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if ok() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const MARRIAGE: &str = "# 结婚登记\n\n婚姻登记处办理结婚登记，需要身份证。";

#[test]
fn create_modify_delete_follow_the_disk() {
    let live = Live::start(|c| write(c, "guides/结婚.md", MARRIAGE), None);
    let c = live.root().to_path_buf();
    assert_eq!(live.status().state, "watching");
    assert_eq!(live.paths("结婚"), ["guides/结婚.md"]);

    write(&c, "guides/离婚.md", "# 离婚登记\n\n协议离婚需要双方到场。");
    live.wait_paths("离婚", &["guides/离婚.md"]);

    write(
        &c,
        "guides/离婚.md",
        "# 离婚登记\n\n冷静期三十日，期满后申请发给离婚证。",
    );
    live.wait_paths("冷静期", &["guides/离婚.md"]);
    assert_eq!(live.paths("协议"), Vec::<String>::new());

    std::fs::remove_file(c.join("guides/离婚.md")).unwrap();
    live.wait_paths("离婚", &[]);
    assert_eq!(live.paths("结婚"), ["guides/结婚.md"]);
    let s = live.status();
    assert!(s.last_sync_ms.is_some() && s.syncs >= 3 && s.sync_seconds_total > 0.0);
    live.stop();
}

#[test]
fn rename_and_editor_atomic_save_keep_one_copy() {
    let live = Live::start(|c| write(c, "guides/结婚.md", MARRIAGE), None);
    let c = live.root().to_path_buf();

    std::fs::rename(c.join("guides/结婚.md"), c.join("guides/结婚登记.md")).unwrap();
    live.wait_paths("结婚", &["guides/结婚登记.md"]);

    // An editor's save: write a temp file, then rename it over the original.
    write(
        &c,
        "guides/.结婚登记.md.swp",
        "# 结婚登记\n\n编辑中的临时内容：彩礼。",
    );
    write(
        &c,
        "guides/结婚登记.md.tmp",
        "# 结婚登记\n\n新版：全国通办，无需户口簿。",
    );
    std::fs::rename(
        c.join("guides/结婚登记.md.tmp"),
        c.join("guides/结婚登记.md"),
    )
    .unwrap();
    live.wait_paths("全国通办", &["guides/结婚登记.md"]);
    assert_eq!(live.paths("结婚"), ["guides/结婚登记.md"]);
    // The swap file was never indexed, nor reported.
    assert_eq!(live.paths("彩礼"), Vec::<String>::new());
    assert!(live.skipped().is_empty(), "{:?}", live.skipped());
    live.stop();
}

#[test]
fn folders_moved_or_deleted_take_their_documents_along() {
    let live = Live::start(
        |c| {
            for i in 0..3 {
                write(
                    c,
                    &format!("户籍/迁入{i}.md"),
                    format!("# 户口迁入{i}\n\n落户需要材料{i}。"),
                );
            }
            write(c, "其他/结婚.md", MARRIAGE);
        },
        None,
    );
    let c = live.root().to_path_buf();
    assert_eq!(live.paths("迁入").len(), 3);

    // Move within the corpus: new paths, old ones gone.
    std::fs::create_dir_all(c.join("公安")).unwrap();
    std::fs::rename(c.join("户籍"), c.join("公安/户籍")).unwrap();
    live.wait_paths(
        "迁入",
        &[
            "公安/户籍/迁入0.md",
            "公安/户籍/迁入1.md",
            "公安/户籍/迁入2.md",
        ],
    );

    // A file added inside the moved folder is still seen (the watch followed the move).
    write(&c, "公安/户籍/迁出.md", "# 户口迁出\n\n迁出证明。");
    live.wait_paths("迁出", &["公安/户籍/迁出.md"]);

    // Move out of the corpus: gone; and back in, under another name: back.
    let outside = tempdir();
    std::fs::rename(c.join("公安"), outside.path().join("公安")).unwrap();
    live.wait_paths("户口", &[]);
    std::fs::rename(outside.path().join("公安"), c.join("公安局")).unwrap();
    live.wait_paths(
        "迁入",
        &[
            "公安局/户籍/迁入0.md",
            "公安局/户籍/迁入1.md",
            "公安局/户籍/迁入2.md",
        ],
    );

    // Delete the folder tree.
    std::fs::remove_dir_all(c.join("公安局")).unwrap();
    live.wait_paths("户口", &[]);
    assert_eq!(live.paths("结婚"), ["其他/结婚.md"]);
    live.stop();
}

#[test]
fn a_burst_of_a_thousand_files_is_a_few_commits_and_searches_keep_working() {
    let live = Live::start(|c| write(c, "guides/结婚.md", MARRIAGE), None);
    let c = live.root().to_path_buf();

    let done = Arc::new(AtomicBool::new(false));
    let searches = {
        let (searcher, done) = (live.searcher.clone(), done.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !done.load(Ordering::SeqCst) {
                let r = searcher.search(&SearchRequest::new("公积金 提取"));
                assert!(r.is_ok(), "search during the burst failed: {r:?}");
                n += 1;
            }
            n
        })
    };

    let t0 = Instant::now();
    for i in 0..1000 {
        write(
            &c,
            &format!("公积金/{:02}/提取{i:04}.md", i / 100),
            format!("# 住房公积金提取{i}\n\n编号{i:04}的公积金提取办事指南。"),
        );
        // Paced so the burst outlasts the 1 s batch latency, like an rsync over a network.
        if i % 2 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let wrote = t0.elapsed();
    let mut total = 0;
    let ok = poll(|| {
        total = live
            .searcher
            .search(&SearchRequest::new("公积金提取"))
            .unwrap()
            .total;
        total == 1000
    });
    done.store(true, Ordering::SeqCst);
    let n = searches.join().unwrap();
    assert!(ok, "only {total} of 1000 searchable; {:?}", live.status());
    let s = live.status();
    eprintln!(
        "burst: wrote 1000 files in {wrote:?}, searchable after {:?}; {} commits, {} syncs, {:.2} s syncing, {n} concurrent searches",
        t0.elapsed(),
        s.commits,
        s.syncs,
        s.sync_seconds_total
    );
    assert!(n > 0);
    assert!(s.commits < 50, "a burst must be batched: {s:?}");
    assert!(poll(|| live.status().pending == 0), "{:?}", live.status());
    assert_eq!(live.paths("结婚"), ["guides/结婚.md"]);

    // Deleting the whole tree is batched too, and leaves nothing behind.
    let before = s.commits;
    std::fs::remove_dir_all(c.join("公积金")).unwrap();
    live.wait_paths("公积金", &[]);
    let s = live.status();
    assert!(s.commits - before < 20, "{s:?}");
    live.stop();
}

#[test]
fn a_broken_file_keeps_its_previous_version_and_is_reported() {
    let live = Live::start(
        |c| {
            write(
                c,
                "catalogue/items.json",
                r#"[{"事项名称":"结婚登记","事项编码":"YC1"},{"事项名称":"离婚登记","事项编码":"YC2"}]"#,
            )
        },
        None,
    );
    let c = live.root().to_path_buf();
    assert_eq!(live.paths("登记"), ["catalogue/items.json"]);

    // Half-written JSON: the old records stay searchable, the skip says why.
    write(
        &c,
        "catalogue/items.json",
        r#"[{"事项名称":"结婚登记","事项编码":"YC1"},{"事项名称":"#,
    );
    assert!(
        poll(|| live
            .skipped()
            .iter()
            .any(|(p, r)| p == "catalogue/items.json" && r.contains("malformed JSON"))),
        "{:?}",
        live.skipped()
    );
    assert_eq!(live.paths("离婚登记"), ["catalogue/items.json"]);

    // Fixed: the new content replaces the old, and the skip is gone.
    write(
        &c,
        "catalogue/items.json",
        r#"[{"事项名称":"结婚登记","事项编码":"YC1"},{"事项名称":"补领结婚证","事项编码":"YC3"}]"#,
    );
    live.wait_paths("补领", &["catalogue/items.json"]);
    live.wait_paths("离婚", &[]);
    assert!(live.skipped().is_empty(), "{:?}", live.skipped());
    live.stop();
}

#[test]
fn binary_files_are_skipped_and_gbk_files_decoded() {
    let live = Live::start(|_| {}, None);
    let c = live.root().to_path_buf();
    let mut binary = b"\x89PNG\r\n\x1a\n".to_vec();
    binary.extend((0..=255u8).cycle().take(4096));
    write(&c, "notices/扫描件.md", &binary);
    write(&c, "notices/照片.png", &binary);
    let (gbk, _, _) = encoding_rs::GBK.encode("停水通知\n\n各位居民：明日停水检修管道。");
    write(&c, "notices/停水通知.txt", &gbk);

    live.wait_paths("停水", &["notices/停水通知.txt"]);
    let mut skipped = Vec::new();
    assert!(
        poll(|| {
            skipped = live.skipped();
            skipped.len() == 2
        }),
        "{skipped:?}"
    );
    skipped.sort();
    assert_eq!(skipped[0].0, "notices/扫描件.md");
    assert!(skipped[0].1.contains("binary"), "{skipped:?}");
    assert_eq!(
        skipped[1],
        (
            "notices/照片.png".to_string(),
            "unsupported file type .png".to_string()
        )
    );

    // Deleting a skipped file clears its skip.
    std::fs::remove_file(c.join("notices/照片.png")).unwrap();
    assert!(poll(|| live.skipped().len() == 1), "{:?}", live.skipped());
    live.stop();
}

#[test]
fn polling_sees_changes_and_rescan_finds_what_events_missed() {
    // Polling: for network shares without native events.
    let live = Live::start(|_| {}, Some(Duration::from_millis(50)));
    let c = live.root().to_path_buf();
    assert_eq!(live.status().state, "polling");
    write(&c, "guides/结婚.md", MARRIAGE);
    live.wait_paths("结婚", &["guides/结婚.md"]);
    std::fs::remove_file(c.join("guides/结婚.md")).unwrap();
    live.wait_paths("结婚", &[]);
    live.stop();

    // A poller that will not poll within the test: only a rescan can find the new file.
    let live = Live::start(|_| {}, Some(Duration::from_secs(3600)));
    let c = live.root().to_path_buf();
    write(&c, "guides/结婚.md", MARRIAGE);
    let syncs = live.status().syncs;
    assert_eq!(syncs, 0);
    live.watch.as_ref().unwrap().rescan();
    live.wait_paths("结婚", &["guides/结婚.md"]);
    assert_eq!(live.status().state, "polling");
    live.stop();
}

#[test]
fn a_missing_root_is_an_error_up_front() {
    let dir = tempdir();
    let index = tempdir();
    let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
    let syncer = Arc::new(Mutex::new(Syncer::open(idx).unwrap()));
    let err = spawn(WatchConfig::new(dir.path().join("nowhere")), syncer, |_| {}).unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
}
