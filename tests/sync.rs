//! Incremental sync through the library, over real files in a temp folder.

mod common;

use banshi::{Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};
use common::{tempdir, write};
use std::path::Path;

fn ids(searcher: &Searcher, q: &str) -> Vec<String> {
    sorted_hits(searcher, q, |h| h.id)
}

/// `pick` of each of the first 100 hits for `q` on the latest commit, sorted.
fn sorted_hits(
    searcher: &Searcher,
    q: &str,
    pick: fn(banshi::search::Hit) -> String,
) -> Vec<String> {
    searcher.reload().unwrap();
    let mut r = SearchRequest::new(q);
    r.limit = Some(100);
    let mut v: Vec<String> = searcher
        .search(&r)
        .unwrap()
        .hits
        .into_iter()
        .map(pick)
        .collect();
    v.sort();
    v
}

fn open(index: &Path) -> (Syncer, Searcher) {
    let (idx, _) = BanshiIndex::open_or_create(index, Analyzer::load_default()).unwrap();
    (
        Syncer::open(idx.clone()).unwrap(),
        Searcher::new(idx).unwrap(),
    )
}

#[test]
fn add_modify_delete_touch_exactly_the_right_documents() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/结婚.md",
        "---\ntitle: 结婚登记\ncode: YC1\n---\n婚姻登记处办理结婚登记。",
    );
    write(c, "guides/items.jsonl", "{\"事项名称\":\"离婚登记\",\"事项编码\":\"YC2\"}\n{\"事项名称\":\"补领结婚证\",\"事项编码\":\"YC3\"}\n");
    let (mut syncer, searcher) = open(index.path());
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!(
        (r.added, r.updated, r.removed, r.docs),
        (2, 0, 0, 3),
        "{r:?}"
    );
    assert_eq!(ids(&searcher, "登记"), ["YC1", "YC2"]);

    // Unchanged files are not re-indexed and nothing is committed.
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!(
        (r.added, r.updated, r.unchanged, r.committed),
        (0, 0, 2, false),
        "{r:?}"
    );

    // Modify one record file: its documents are replaced, the other file's stay.
    write(
        c,
        "guides/items.jsonl",
        "{\"事项名称\":\"离婚登记\",\"事项编码\":\"YC2\"}\n",
    );
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!((r.updated, r.docs), (1, 2), "{r:?}");
    assert_eq!(ids(&searcher, "补领"), Vec::<String>::new());

    // Add and delete.
    write(
        c,
        "laws/条例.md",
        "# 云川市婚姻登记条例\n第一条 为了规范婚姻登记。\n第二条 本条例适用于本市。",
    );
    std::fs::remove_file(c.join("guides/结婚.md")).unwrap();
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!((r.added, r.removed, r.docs), (1, 1, 2), "{r:?}");
    assert_eq!(ids(&searcher, "婚姻登记"), ["laws/条例.md"]);
}

#[test]
fn a_file_that_breaks_keeps_its_previous_version_and_is_reported() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/a.json",
        r#"{"title":"社会保障卡申领","code":"YC9"}"#,
    );
    let (mut syncer, searcher) = open(index.path());
    syncer.full_sync(c, &()).unwrap();
    write(c, "guides/a.json", r#"{"title": "社会保障卡申领", "#);
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!(r.skipped.len(), 1, "{r:?}");
    assert_eq!(r.skipped[0].path, "guides/a.json");
    assert!(
        r.skipped[0].reason.starts_with("malformed JSON"),
        "{:?}",
        r.skipped[0]
    );
    assert_eq!(ids(&searcher, "社会保障卡"), ["YC9"]);
    // The skip list survives in the commit payload for /api/status.
    assert_eq!(searcher.index().payload().skipped, r.skipped);
}

#[test]
fn every_bad_file_is_skipped_with_a_reason_and_good_ones_stay() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/good.md",
        "---\ntitle: 居住证办理\n---\n居住证由公安机关签发。",
    );
    let (gbk, _, _) = encoding_rs::GBK.encode("停水通知\n青山区明日停水。");
    write(c, "notices/gbk.txt", gbk);
    let mut u16 = vec![0xFF, 0xFE];
    for u in "停电通知\n江北区停电。".encode_utf16() {
        u16.extend_from_slice(&u.to_le_bytes());
    }
    write(c, "notices/utf16.txt", u16);
    write(c, "notices/bin.txt", [0u8, 159, 146, 150, 0, 1, 2]);
    write(c, "notices/empty.txt", "");
    write(c, "guides/bad-fm.md", "---\ntitle: [oops\n---\n正文");
    write(c, "guides/bad.json", "{\"title\":");
    write(c, "guides/deep.json", "[".repeat(50_000));
    write(
        c,
        "guides/_index.md",
        "---\nbookCollapseSection: true\n---\n",
    );
    write(c, "guides/x.xml", "<a/>");
    #[cfg(unix)]
    std::os::unix::fs::symlink(c.join("guides"), c.join("guides/loop")).unwrap();
    let (mut syncer, searcher) = open(index.path());
    let r = syncer.full_sync(c, &()).unwrap();
    let reason = |p: &str| {
        r.skipped
            .iter()
            .find(|s| s.path == p)
            .map(|s| s.reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("notices/bin.txt").contains("binary"), "{r:?}");
    assert_eq!(reason("notices/empty.txt"), "empty file");
    assert!(reason("guides/bad-fm.md").contains("front matter"));
    assert!(reason("guides/bad.json").contains("malformed JSON"));
    assert!(reason("guides/deep.json").contains("malformed JSON"));
    assert!(reason("guides/_index.md").contains("no content"));
    assert!(reason("guides/x.xml").contains("unsupported"));
    #[cfg(unix)]
    assert!(
        r.skipped.iter().any(|s| s.reason.contains("symlink loop")),
        "{:?}",
        r.skipped
    );
    assert_eq!(ids(&searcher, "居住证"), ["guides/good.md"]);
    assert_eq!(ids(&searcher, "停水"), ["notices/gbk.txt"]);
    assert_eq!(ids(&searcher, "停电"), ["notices/utf16.txt"]);
}

#[test]
fn a_writer_dropped_before_commit_leaves_the_old_index() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(c, "a.md", "# 护照申领\n出入境管理局受理。");
    {
        let (mut syncer, _) = open(index.path());
        syncer.full_sync(c, &()).unwrap();
    }
    // A crashed writer: documents added, no commit. The lock is released with it.
    {
        let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
        let w: tantivy::IndexWriter = idx.tantivy().writer(50_000_000).unwrap();
        w.delete_all_documents().unwrap();
        let mut d = tantivy::TantivyDocument::new();
        d.add_text(idx.fields().title, "不该出现");
        w.add_document(d).unwrap();
        drop(w);
    }
    let (_, searcher) = open(index.path());
    assert_eq!(ids(&searcher, "护照"), ["a.md"]);
    assert!(ids(&searcher, "不该出现").is_empty());
}

#[test]
fn a_second_writer_gets_a_clear_locked_error() {
    let index = tempdir();
    let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
    let _first = Syncer::open(idx.clone()).unwrap();
    let err = Syncer::open(idx).err().expect("second writer must fail");
    assert!(err.to_string().contains("locked"), "{err}");
}

#[test]
fn a_changed_dictionary_triggers_a_rebuild() {
    let corpus = tempdir();
    let index = tempdir();
    write(corpus.path(), "a.md", "# 云川特色词条\n正文");
    {
        let (mut syncer, _) = open(index.path());
        syncer.full_sync(corpus.path(), &()).unwrap();
    }
    let dict = tempdir();
    write(dict.path(), "user.dict", "云川特色词条 50000 n\n");
    let analyzer = Analyzer::load(Some(dict.path())).unwrap();
    let (idx, rebuilt) = BanshiIndex::open_or_create(index.path(), analyzer.clone()).unwrap();
    assert!(rebuilt, "a different dictionary must rebuild the index");
    let (_, again) = BanshiIndex::open_or_create(index.path(), analyzer).unwrap();
    assert!(!again, "the same dictionary must not");
    drop(idx);
}

#[test]
fn phrase_queries_work_over_overlapping_search_mode_tokens() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/a.md",
        "---\ntitle: 补领\ncode: A\n---\n居民身份证丢失的，请到派出所补领。",
    );
    write(
        c,
        "guides/b.md",
        "---\ntitle: 换领\ncode: B\n---\n丢失的证件不是居民身份证，而是驾驶证。",
    );
    write(
        c,
        "guides/c.md",
        "---\ntitle: 许可\ncode: C\n---\n依照中华人民共和国行政许可法办理。",
    );
    let (mut syncer, searcher) = open(index.path());
    syncer.full_sync(c, &()).unwrap();
    // The whole phrase, and phrases that start or end inside a search-mode word.
    assert_eq!(ids(&searcher, "\"居民身份证丢失的\""), ["A"]);
    assert_eq!(ids(&searcher, "\"身份证丢失\""), ["A"]);
    assert_eq!(ids(&searcher, "\"行政许可法\""), ["C"]);
    // Unquoted, a sub-word query finds the law name (as a phrase 许可法 does not: see jieba.rs).
    assert_eq!(ids(&searcher, "许可法"), ["C"]);
    // Same words in another order are not the phrase.
    assert_eq!(ids(&searcher, "\"丢失的居民身份证\""), Vec::<String>::new());
}

/// A full sync finds all `files` unchanged without reading any of them.
#[track_caller]
fn assert_nothing_read(syncer: &mut Syncer, corpus: &Path, files: usize) {
    let r = syncer.full_sync(corpus, &()).unwrap();
    assert_eq!((r.unchanged, r.bytes_read), (files, 0), "{r:?}");
}

/// Set a file's modification time (as a copy or a restore would).
fn set_mtime(path: &Path, t: std::time::SystemTime) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(t).unwrap();
}

#[test]
fn unchanged_files_are_not_read_again_but_edits_are_seen() {
    use std::time::{Duration, SystemTime};
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    let age = |rel: &str, secs: u64| {
        set_mtime(&c.join(rel), SystemTime::now() - Duration::from_secs(secs))
    };
    write(c, "guides/a.md", "---\ntitle: 居住证办理\n---\n居住证甲。");
    write(c, "guides/b.md", "---\ntitle: 护照申领\n---\n护照乙。");
    age("guides/a.md", 3600);
    age("guides/b.md", 3600);
    let (mut syncer, searcher) = open(index.path());
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!(r.added, 2);
    // Start-up case: nothing changed, nothing is read.
    assert_nothing_read(&mut syncer, c, 2);
    // A same-size edit with a new modification time is read and indexed.
    write(c, "guides/a.md", "---\ntitle: 居住证办理\n---\n居住证丙。");
    age("guides/a.md", 1800);
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!((r.updated, r.unchanged), (1, 1), "{r:?}");
    assert!(r.bytes_read > 0);
    assert_eq!(ids(&searcher, "居住证丙"), ["guides/a.md"]);
    // A file written just now is not trusted by its stamp (the clock is coarse): it is
    // hashed again on the next sync, so a second same-size write in the same tick is seen.
    write(c, "guides/c.md", "---\ntitle: 结婚登记\n---\n结婚丁。");
    syncer.full_sync(c, &()).unwrap();
    write(c, "guides/c.md", "---\ntitle: 结婚登记\n---\n结婚戊。");
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!(r.updated, 1, "{r:?}");
    assert_eq!(ids(&searcher, "结婚戊"), ["guides/c.md"]);
}

/// Files copied or restored with new modification times but the same content (a fresh
/// checkout, a backup) are read once, and then trusted by their new stamp: otherwise every
/// start-up would read the whole corpus again. The new stamps survive a reopen (they are in
/// the commit), and an edit after that is still seen.
#[test]
fn touched_but_unchanged_files_are_read_once_then_trusted_again() {
    use std::time::{Duration, SystemTime};
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    let now = SystemTime::now();
    let age = |rel: &str, secs: u64| set_mtime(&c.join(rel), now - Duration::from_secs(secs));
    write(c, "guides/a.md", "---\ntitle: 居住证办理\n---\n居住证甲。");
    write(c, "guides/b.md", "---\ntitle: 护照申领\n---\n护照乙。");
    age("guides/a.md", 7200);
    age("guides/b.md", 7200);
    {
        let (mut syncer, _) = open(index.path());
        assert_eq!(syncer.full_sync(c, &()).unwrap().added, 2);
        // Both touched: read and hashed once, found unchanged.
        age("guides/a.md", 3600);
        age("guides/b.md", 3600);
        let r = syncer.full_sync(c, &()).unwrap();
        assert_eq!((r.unchanged, r.updated), (2, 0), "{r:?}");
        assert!(r.bytes_read > 0, "{r:?}");
        assert_nothing_read(&mut syncer, c, 2);
        syncer.close().unwrap();
    }
    // After a restart too.
    let (mut syncer, searcher) = open(index.path());
    assert_nothing_read(&mut syncer, c, 2);
    // An edit after the restamp is read and indexed; the other file stays trusted.
    write(c, "guides/a.md", "---\ntitle: 居住证办理\n---\n居住证丙。");
    age("guides/a.md", 1800);
    let r = syncer.full_sync(c, &()).unwrap();
    assert_eq!((r.updated, r.unchanged), (1, 1), "{r:?}");
    assert_eq!(ids(&searcher, "居住证丙"), ["guides/a.md"]);
    assert_nothing_read(&mut syncer, c, 2);
    // Touched back to the stamp its documents carry: trusted without a read as well.
    age("guides/b.md", 7200);
    assert_nothing_read(&mut syncer, c, 2);
}

/// Version marks are kept per segment between commits (see `search::versions`); they must
/// still follow every commit: a newer version in a later segment supersedes an older one, and
/// deleting it makes the older one current again.
#[test]
fn version_marks_follow_commits_across_segments() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    let law = |date: &str, text: &str| {
        write(
            c,
            &format!("laws/公司法({date}).md"),
            format!("# 中华人民共和国公司法\n\n第一条 {text}公司注册资本。\n"),
        );
    };
    let (mut syncer, searcher) = open(index.path());
    // (updated, superseded) of every hit for 公司注册资本, by date.
    let marks = |searcher: &Searcher| {
        searcher.reload().unwrap();
        let mut v: Vec<(String, bool)> = searcher
            .search(&SearchRequest::new("公司注册资本"))
            .unwrap()
            .hits
            .into_iter()
            .map(|h| (h.updated.unwrap_or_default(), h.superseded))
            .collect();
        v.sort();
        v
    };
    let sync = |syncer: &mut Syncer| assert!(syncer.full_sync(c, &()).unwrap().committed);
    let owned = |v: &[(&str, bool)]| -> Vec<(String, bool)> {
        v.iter().map(|(d, s)| (d.to_string(), *s)).collect()
    };

    law("2018-10-26", "旧版");
    sync(&mut syncer);
    assert_eq!(marks(&searcher), owned(&[("2018-10-26", false)]));

    // In one commit with other files, so in a segment of several documents (one per indexing
    // thread): deleting the newer version later leaves its segment alive with a deletion,
    // the case the state kept per segment must notice.
    law("2023-12-29", "新版");
    write(
        c,
        "laws/其他法(2030-01-01).md",
        "# 中华人民共和国其他法\n\n第一条 公司注册资本。\n",
    );
    for i in 0..16 {
        write(
            c,
            &format!("guides/{i}.md"),
            format!("# 事项{i}\n\n办理。\n"),
        );
    }
    sync(&mut syncer);
    assert_eq!(
        marks(&searcher),
        owned(&[
            ("2018-10-26", true),
            ("2023-12-29", false),
            ("2030-01-01", false)
        ])
    );

    law("2021-01-01", "中间版");
    sync(&mut syncer);
    assert_eq!(
        marks(&searcher),
        owned(&[
            ("2018-10-26", true),
            ("2021-01-01", true),
            ("2023-12-29", false),
            ("2030-01-01", false)
        ])
    );

    std::fs::remove_file(c.join("laws/公司法(2023-12-29).md")).unwrap();
    sync(&mut syncer);
    assert_eq!(
        marks(&searcher),
        owned(&[
            ("2018-10-26", true),
            ("2021-01-01", false),
            ("2030-01-01", false)
        ])
    );
}

/// A document with all but one of the query's words ranks above one with a single word, even
/// a single word in its title many times over; with every word, it ranks first. (The
/// all-but-one tier is searched as one conjunction per word left out.)
#[test]
fn all_but_one_word_ranks_between_all_words_and_one() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    for (name, title, body) in [
        ("all", "事项甲", "营业执照 食品 许可"),
        ("two-a", "事项乙", "营业执照 食品"),
        ("two-b", "事项丙", "食品 许可"),
        ("one", "许可", "许可 许可 许可 许可 许可 许可 许可 许可"),
    ] {
        write(
            c,
            &format!("guides/{name}.md"),
            format!("---\ntitle: {title}\ncode: {name}\n---\n{body}"),
        );
    }
    let (mut syncer, searcher) = open(index.path());
    syncer.full_sync(c, &()).unwrap();
    let order = |searcher: &Searcher| -> Vec<String> {
        searcher.reload().unwrap();
        searcher
            .search(&SearchRequest::new("营业执照 食品 许可"))
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    let got = order(&searcher);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], "all", "{got:?}");
    assert_eq!(got[3], "one", "{got:?}");
    // Without a document having every word, the near misses still lead.
    std::fs::remove_file(c.join("guides/all.md")).unwrap();
    syncer.full_sync(c, &()).unwrap();
    let got = order(&searcher);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2], "one", "{got:?}");
}

/// A query running alone searches the index's segments on several threads at once, and
/// renders half its page's hits on another; its answer must be exactly the serial one: hits
/// (snippets and highlights too), scores, order, total and facets, for every query of the
/// benchmark mix, on an index of several segments.
#[test]
fn segments_searched_in_parallel_answer_like_one_thread() {
    let corpus = tempdir();
    let index = tempdir();
    let (files, _) = banshi::corpus::walk(&common::builtin_corpus()).unwrap();
    let (mut syncer, _) = open(index.path());
    // Three commits, so three segments at least (merges need more).
    for part in files.chunks(files.len().div_ceil(3)) {
        for f in part {
            write(corpus.path(), &f.rel, std::fs::read(&f.abs).unwrap());
        }
        assert!(syncer.full_sync(corpus.path(), &()).unwrap().committed);
    }
    let idx = syncer.index().clone();
    let parallel = Searcher::new(idx.clone()).unwrap().with_segment_pool(2, 0);
    let serial = Searcher::new(idx).unwrap().with_segment_pool(1, 0);
    assert!(parallel.tantivy_searcher().segment_readers().len() >= 3);
    let answer = |s: &Searcher, q: &str, filter: bool| {
        let mut r = SearchRequest::new(q);
        r.limit = Some(20);
        if filter {
            r.kind = vec!["guide".into()];
        }
        let mut v = serde_json::to_value(s.search(&r).unwrap()).unwrap();
        v["took_us"] = 0.into();
        v["timings"] = serde_json::Value::Null;
        v
    };
    let mut compared = 0;
    for q in banshi::loadgen::parse_queries(banshi::loadgen::DEFAULT_QUERIES) {
        for filter in [false, true] {
            let a = answer(&parallel, &q, filter);
            assert_eq!(a, answer(&serial, &q, filter), "{q}");
            compared += (a["total"].as_u64().unwrap() > 0) as usize;
        }
    }
    assert!(compared > 200, "only {compared} answers had hits");
}

/// `-"phrase"` removes exactly the documents having the phrase. (tantivy's exclusion asks a
/// phrase about documents behind it, which a debug build's assertion turned into a panic.)
#[test]
fn excluding_a_phrase_removes_exactly_its_documents() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(c, "a.md", "# 营业场所\n\n营业场所的居民身份证补办事项。\n");
    write(
        c,
        "b.md",
        "# 关于营业的说明\n\n营业的说明：身份证，另行补办。\n",
    );
    write(c, "c.md", "# 营业执照\n\n营业执照办理。\n");
    let (mut syncer, searcher) = open(index.path());
    assert!(syncer.full_sync(c, &()).unwrap().committed);
    let paths = |q: &str| sorted_hits(&searcher, q, |h| h.path);
    assert_eq!(paths("营业"), ["a.md", "b.md", "c.md"]);
    assert_eq!(paths("营业 -\"身份证 补办\""), ["b.md", "c.md"]);
    // 的 is a stop word: it takes no position, so 营业的说明 has the phrase.
    assert_eq!(paths("营业 -\"营业 说明\""), ["a.md", "c.md"]);
    assert_eq!(paths("营业 -\"不动产 抵押\""), ["a.md", "b.md", "c.md"]);
}

/// A watcher batch looks files up one by one (`file_state`) and folders by a range of the path
/// dictionary (`paths_under`) instead of reading every document's path: both must agree with
/// the full pass (`file_states`) through adds, edits in other segments and deletions.
#[test]
fn single_file_and_folder_lookups_agree_with_the_full_pass() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(c, "a.md", "---\ntitle: 结婚登记\n---\n正文。");
    write(c, "dir/b.md", "---\ntitle: 离婚登记\n---\n正文。");
    write(c, "dir/sub/c.md", "---\ntitle: 出生登记\n---\n正文。");
    write(c, "dirx/d.md", "---\ntitle: 死亡登记\n---\n正文。");
    write(c, "dir.md", "---\ntitle: 户口登记\n---\n正文。");
    write(
        c,
        "dir/items.jsonl",
        "{\"事项名称\":\"补领结婚证\"}\n{\"事项名称\":\"补领离婚证\"}\n",
    );
    let (mut syncer, _) = open(index.path());
    syncer.full_sync(c, &()).unwrap();
    let check = |syncer: &Syncer, under_dir: &[&str]| {
        let snap = syncer.committed().unwrap();
        let idx = syncer.index();
        let all = idx.file_states(&snap).unwrap();
        for (rel, state) in &all {
            assert_eq!(idx.file_state(&snap, rel).unwrap(), Some(*state), "{rel}");
        }
        assert_eq!(idx.file_state(&snap, "missing.md").unwrap(), None);
        assert_eq!(idx.file_state(&snap, "dir").unwrap(), None);
        assert_eq!(idx.paths_under(&snap, "dir").unwrap(), under_dir);
        assert_eq!(idx.paths_under(&snap, "dir/").unwrap(), under_dir);
        let mut every: Vec<String> = all
            .keys()
            .filter(|k| k.starts_with("dir/"))
            .cloned()
            .collect();
        every.sort();
        assert_eq!(every, under_dir);
        all
    };
    let before = check(&syncer, &["dir/b.md", "dir/items.jsonl", "dir/sub/c.md"]);

    // An edit (a new segment; the old documents deleted) and a deletion, by path.
    write(c, "dir/b.md", "---\ntitle: 离婚登记\n---\n新的正文。");
    std::fs::remove_file(c.join("dir/sub/c.md")).unwrap();
    let r = syncer
        .sync_paths(c, &["dir/b.md".into(), "dir/sub/c.md".into()])
        .unwrap();
    assert_eq!((r.updated, r.removed), (1, 1), "{r:?}");
    let after = check(&syncer, &["dir/b.md", "dir/items.jsonl"]);
    assert_ne!(after["dir/b.md"], before["dir/b.md"]);
    assert_eq!(after["a.md"], before["a.md"]);

    // Deleting a file that is not indexed changes nothing and commits nothing.
    let r = syncer.sync_paths(c, &["never.md".into()]).unwrap();
    assert_eq!((r.removed, r.committed), (0, false), "{r:?}");
}

/// Hits read documents from the store's raw bytes: for the built-in corpus, a body long
/// enough for a three-byte length, a record without a body and a traditional-script title,
/// every document reads the same as through tantivy's decoding, and the long one's snippet
/// shows its match from deep inside it.
#[test]
fn raw_stored_documents_read_like_tantivys_decoding() {
    let index = tempdir();
    let (mut syncer, _) = open(index.path());
    syncer.full_sync(&common::builtin_corpus(), &()).unwrap();
    assert!(common::raw_stored_documents_match(syncer.index()) > 50);

    let corpus = tempdir();
    let c = corpus.path();
    let long = format!("{}第九十九条 罕见词语在最后。", "条文内容，".repeat(8_000));
    write(c, "laws/长法.md", format!("# 长法\n\n{long}"));
    write(
        c,
        "items.jsonl",
        "{\"事项名称\":\"營業執照補領\",\"事项编码\":\"YC9\",\"申请材料\":[\"身份证\"]}\n",
    );
    let index = tempdir();
    let (mut syncer, searcher) = open(index.path());
    syncer.full_sync(c, &()).unwrap();
    assert_eq!(common::raw_stored_documents_match(syncer.index()), 2);
    searcher.reload().unwrap();
    let hit = searcher
        .search(&SearchRequest::new("罕见词语"))
        .unwrap()
        .hits
        .remove(0);
    assert!(
        hit.snippet.contains("<em>罕见词语</em>在最后"),
        "{}",
        hit.snippet
    );
    let hit = searcher
        .search(&SearchRequest::new("YC9"))
        .unwrap()
        .hits
        .remove(0);
    assert!(hit.snippet.contains("身份证"), "{}", hit.snippet);
}
