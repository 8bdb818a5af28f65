//! Reliability: hostile HTTP, slow clients, connection floods, killed processes, a full disk,
//! unreadable and vanishing files. Everything here drives the real binary: crash tests kill
//! real processes with SIGKILL, the disk-full test writes to a real (tiny) tmpfs.

mod common;

use common::{
    bin, builtin_corpus, client, eventually, index_dir, run, stderr, stdout, tempdir, write, Server,
};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Send raw bytes as one HTTP/1.1 request and return (status, body). Raw, because a real
/// client library refuses to send the invalid bytes we want to try.
fn raw_request(base: &str, request_line_target: &[u8]) -> (u16, String) {
    let addr = base.strip_prefix("http://").unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(request_line_target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    s.write_all(&req).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn total(base: &Server, q: &str) -> Option<u64> {
    let r = client()
        .get(base.url("/api/search"))
        .query(&[("q", q), ("limit", "1")])
        .send()
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json::<Value>().ok()?["total"].as_u64()
}

#[test]
fn hostile_requests_get_4xx_never_5xx_and_the_server_lives() {
    let index = tempdir();
    let s = Server::start(&builtin_corpus(), index.path(), &["--no-watch"]);
    let brackets = "(".repeat(3000);
    let ors = "营业执照 OR ".repeat(200);
    let hundred_kb = format!("/api/search?q={}", "%E8%BA%AB".repeat(12_000));
    let sixty_kb = format!("/api/search?q={}", "%E8%BA%AB".repeat(6_500));
    let long_id = format!("/api/docs/{}", "a".repeat(5000));
    let mut targets: Vec<Vec<u8>> = vec![
        // Invalid UTF-8, percent-encoded and raw.
        b"/api/search?q=%FF%FE%FD".to_vec(),
        b"/api/search?q=%C0%AF%E4%B8".to_vec(),
        b"/api/suggest?q=%FF".to_vec(),
        b"/api/docs/%FF%FE".to_vec(),
        // Control characters and escapes.
        b"/api/search?q=%00%01%1B[31m%7F".to_vec(),
        b"/api/search?q=%0D%0AX-Injected:%201".to_vec(),
        b"/api/search?q=a&kind=%00".to_vec(),
        // Complexity: brackets, OR chains, quotes, field prefixes.
        format!("/api/search?q={brackets}").into_bytes(),
        format!("/api/search?q={}", ors.replace(' ', "%20")).into_bytes(),
        b"/api/search?q=%22%22%22%22%22%22".to_vec(),
        b"/api/search?q=title:title:title:code:".to_vec(),
        b"/api/search?q=-(-(-(-(-".to_vec(),
        // Numbers out of range.
        b"/api/search?q=a&limit=99999999999999999999999".to_vec(),
        b"/api/search?q=a&limit=-5".to_vec(),
        b"/api/search?q=a&offset=1e30".to_vec(),
        b"/api/search?q=a&offset=-1".to_vec(),
        b"/api/search?q=a&max_days=-1".to_vec(),
        b"/api/suggest?q=a&limit=99999999999999999999".to_vec(),
        // Sizes.
        hundred_kb.into_bytes(),
        sixty_kb.into_bytes(),
        long_id.into_bytes(),
        // Traversal-looking ids.
        b"/api/docs/..%2F..%2Fetc%2Fpasswd".to_vec(),
        b"/api/docs/../../etc/passwd".to_vec(),
        b"/api/docs/%00".to_vec(),
        b"/docs/..%2F..%2FCargo.toml".to_vec(),
        // Repeated and odd parameters.
        b"/api/search?q=a&q=b&limit=1&limit=2".to_vec(),
        b"/api/search?q&&&=&=".to_vec(),
        b"/api/search?%ZZ=%ZZ".to_vec(),
    ];
    targets.push(b"*".to_vec());
    for t in &targets {
        let (status, body) = raw_request(&s.base, t);
        let shown = String::from_utf8_lossy(&t[..t.len().min(60)]).into_owned();
        assert!(
            (200..500).contains(&status),
            "{shown}: status {status}, {body}"
        );
        // Past 64 KB a target is not a URI to hyper (`http::Uri`'s limit): it answers 414
        // itself, before our router, with an empty body. Below that every /api error is JSON.
        if t.starts_with(b"/api/") && status >= 400 && t.len() < 65_534 {
            let v: Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{shown}: {status} body not JSON ({e}): {body:?}"));
            assert!(v["error"]["code"].is_string(), "{shown}: {v}");
        }
        if t.starts_with(b"/api/docs/") && t.windows(2).any(|w| w == b"..") {
            assert!(!body.contains("root:"), "{shown} leaked a file");
        }
    }
    // A broken request line and a broken header are the connection's problem, answered 400.
    let addr = s.base.strip_prefix("http://").unwrap();
    for junk in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost t\r\n\r\n",
        b"NOT A REQUEST\r\n\r\n",
        // Raw (not percent-encoded) invalid UTF-8 in the target is not HTTP at all.
        b"GET /api/search?q=\xff\xfe\xe4\xb8 HTTP/1.1\r\nHost: t\r\n\r\n",
    ] {
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(junk).unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).ok();
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 4"),
            "{junk:?} → {text}"
        );
    }
    // Random bytes in the query, many times: never a 5xx.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..200 {
        let mut q = String::new();
        for _ in 0..(x % 40) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            q.push_str(&format!("%{:02X}", x as u8));
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (status, body) = raw_request(&s.base, format!("/api/search?q={q}").as_bytes());
        assert!((200..500).contains(&status), "q={q}: {status} {body}");
    }
    // Still alive and still right.
    let r = client().get(s.url("/health")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(total(&s, "营业执照").unwrap() > 0);
}

#[test]
fn slow_and_idle_clients_are_cut_off_and_others_still_served() {
    let index = tempdir();
    let s = Server::start(
        &builtin_corpus(),
        index.path(),
        &[
            "--no-watch",
            "--header-timeout-ms",
            "700",
            "--max-connections",
            "8",
        ],
    );
    let addr = s.base.strip_prefix("http://").unwrap().to_string();
    // Fill every connection slot with slowloris clients trickling a header byte by byte.
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut c = TcpStream::connect(&addr).unwrap();
        c.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            .unwrap();
        slow.push(c);
    }
    let trickle = std::thread::spawn(move || {
        let started = Instant::now();
        let mut cut = vec![None; slow.len()];
        while started.elapsed() < Duration::from_secs(10) && cut.iter().any(Option::is_none) {
            for (i, c) in slow.iter_mut().enumerate() {
                if cut[i].is_none() && c.write_all(b"a").is_err() {
                    cut[i] = Some(started.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        cut
    });
    // A normal client gets through once the server has shed the slow ones.
    let t = Instant::now();
    let r = client().get(s.url("/api/search?q=社保卡")).send().unwrap();
    assert_eq!(r.status(), 200);
    let waited = t.elapsed();
    let cut = trickle.join().unwrap();
    for (i, c) in cut.iter().enumerate() {
        let c = c.unwrap_or_else(|| panic!("slow client {i} was never cut off"));
        assert!(
            c < Duration::from_secs(5),
            "slow client {i} held on for {c:?}"
        );
    }
    assert!(
        waited < Duration::from_secs(8),
        "normal client waited {waited:?}"
    );
    // An idle keep-alive connection is closed too; a silent one as well.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let t = Instant::now();
    let closed = loop {
        match idle.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(_) => break false,
        }
    };
    assert!(closed, "idle keep-alive connection was not closed");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn a_flood_of_connections_gets_answers_or_503_with_retry_after() {
    let index = tempdir();
    // One search at a time and a short queue: the flood must overflow it. Without the
    // response cache: the flood asks four questions, and once their answers were cached the
    // rest of it never reached the queue (a CI run saw all 300 answered, none shed).
    let s = Server::start(
        &builtin_corpus(),
        index.path(),
        &[
            "--no-watch",
            "--max-searches",
            "1",
            "--queue-wait-ms",
            "5",
            "--cache-mb",
            "0",
        ],
    );
    let n = 300;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let queries = [
        "营业执照怎么办",
        "身份证丢了",
        "公积金提取需要什么材料",
        "社保",
    ];
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let url = s.url("/api/search");
            let b = barrier.clone();
            let q = queries[i % queries.len()];
            std::thread::spawn(move || {
                // One client each: 300 separate TCP connections at once.
                let c = client();
                b.wait();
                let r = c.get(url).query(&[("q", q)]).send().expect("connected");
                let status = r.status().as_u16();
                let retry = r.headers().contains_key("retry-after");
                let body: Value = r.json().expect("JSON body");
                (status, retry, body)
            })
        })
        .collect();
    let mut ok = 0;
    let mut shed = 0;
    for h in handles {
        let (status, retry, body) = h.join().expect("client thread");
        match status {
            200 => {
                ok += 1;
                assert!(body["hits"].is_array());
            }
            503 => {
                shed += 1;
                assert!(retry, "503 without Retry-After");
                assert_eq!(body["error"]["code"], "unavailable", "{body}");
            }
            other => panic!("status {other}: {body}"),
        }
    }
    eprintln!("{n} concurrent connections: {ok} answered, {shed} shed with 503");
    assert_eq!(ok + shed, n);
    assert!(ok > 0 && shed > 0, "{ok} ok, {shed} shed");
    // And it recovers at once.
    assert!(total(&s, "营业执照").unwrap() > 0);
    let metrics = client()
        .get(s.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(metrics.contains("status=\"503\""), "503s are counted");
}

/// `n` Markdown documents of a few KB each, from the built-in corpus text, each carrying the
/// marker word `zzmarker` so a search counts them.
fn synthetic_corpus(root: &Path, n: usize) {
    let mut text = String::new();
    for e in walkdir::WalkDir::new(builtin_corpus()) {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "md") {
            text.push_str(
                &std::fs::read_to_string(e.path())
                    .unwrap()
                    .replace("---", ""),
            );
        }
    }
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    for i in 0..n {
        let start = (i * 7919) % (chars.len() - 1500);
        let body: String = chars[start..start + 1500].iter().collect();
        write(
            root,
            &format!("gen/{:02}/{i:05}.md", i % 50),
            format!("---\ntitle: 压力测试文档{i}\n---\nzzmarker {body}"),
        );
    }
}

fn index_count(index: &Path) -> Option<u64> {
    let out = run(&[
        "search",
        "zzmarker",
        "--index",
        index.to_str().unwrap(),
        "--json",
        "--limit",
        "1",
    ]);
    if !out.status.success() {
        panic!("index does not open after a crash: {}", stderr(&out));
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["total"].as_u64()
}

#[test]
fn kill_9_during_index_leaves_the_last_commit_and_the_next_run_completes() {
    let corpus = tempdir();
    let index = tempdir();
    let idx = index.path().join("idx");
    let c = corpus.path();
    synthetic_corpus(c, 100);
    let first = index_dir(c, &idx);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(index_count(&idx), Some(100));
    synthetic_corpus(c, 2000);
    // Kill at several points of the long run; each time the index must open at a commit.
    let mut seen = Vec::new();
    for delay_ms in [150u64, 600, 1500] {
        let mut child = bin()
            .args(["index", "--corpus"])
            .arg(c)
            .arg("--index")
            .arg(&idx)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let finished_first = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        let n = index_count(&idx);
        assert!(
            n == Some(100) || n == Some(2000),
            "after SIGKILL at {delay_ms} ms the index holds {n:?} markers: not a commit"
        );
        seen.push((delay_ms, n, finished_first));
    }
    eprintln!("(delay ms, documents after SIGKILL, had finished): {seen:?}");
    assert!(
        seen.iter().any(|(_, n, _)| *n == Some(100)),
        "no kill landed mid-run: {seen:?}"
    );
    let done = index_dir(c, &idx);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(index_count(&idx), Some(2000));
}

#[test]
fn kill_9_during_a_watcher_reindex_loses_nothing_after_restart() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/a.md",
        "---\ntitle: 居住证办理\n---\nzzmarker 居住证。",
    );
    let mut s = Server::start(c, index.path(), &[]);
    assert_eq!(total(&s, "zzmarker"), Some(1));
    // A burst the watcher is busy with when the process dies.
    let writer = {
        let root = c.to_path_buf();
        std::thread::spawn(move || synthetic_corpus(&root, 1500))
    };
    eventually(30, "the watcher starts committing the burst", || {
        total(&s, "zzmarker").filter(|n| *n > 1)
    });
    s.child.kill().unwrap(); // SIGKILL, mid-burst
    s.child.wait().unwrap();
    writer.join().unwrap();
    let s = Server::start(c, index.path(), &[]);
    let n = eventually(60, "all 1,501 documents after restart", || {
        total(&s, "zzmarker").filter(|n| *n == 1501)
    });
    assert_eq!(n, 1501);
    let status: Value = client()
        .get(s.url("/api/status"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        status["skipped"].as_array().map(Vec::len),
        Some(0),
        "{status}"
    );
}

#[test]
fn a_full_disk_fails_clearly_and_keeps_the_old_index() {
    // A real tmpfs of 24 MB in a private mount namespace (no root needed: a user namespace).
    if !mount_namespace_available("a_full_disk_fails_clearly") {
        return;
    }
    let corpus = tempdir();
    let more = tempdir();
    let mnt = tempdir();
    write(
        corpus.path(),
        "guides/a.md",
        "---\ntitle: 居住证办理\n---\nzzmarker 居住证由公安机关签发。",
    );
    synthetic_corpus(more.path(), 1500);
    write(
        more.path(),
        "guides/a.md",
        "---\ntitle: 居住证办理\n---\nzzmarker",
    );
    let script = r#"
set -u
mount -t tmpfs -o size=24m tmpfs "$MNT" || exit 90
"$BANSHI" index --corpus "$SMALL" --index "$MNT/idx" || exit 91
echo "FIRST_OK"
# Leave ~300 KB free, so the next index run cannot write its segments.
head -c $(( $(df --output=avail -B1 "$MNT" | tail -1) - 300000 )) /dev/zero > "$MNT/filler" 2>/dev/null
"$BANSHI" index --corpus "$BIG" --index "$MNT/idx"
echo "FULL_RC=$?"
echo "<<<"
"$BANSHI" search zzmarker --index "$MNT/idx" --json --limit 1
echo "SEARCH_RC=$?"
echo ">>>"
rm "$MNT/filler"
"$BANSHI" index --corpus "$BIG" --index "$MNT/idx"
echo "AGAIN_RC=$?"
echo "<<<"
"$BANSHI" search zzmarker --index "$MNT/idx" --json --limit 1
echo ">>>"
"#;
    let out = std::process::Command::new("unshare")
        .args(["-Urm", "sh", "-c", script])
        .env("MNT", mnt.path())
        .env("BANSHI", env!("CARGO_BIN_EXE_banshi"))
        .env("SMALL", corpus.path())
        .env("BIG", more.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(o.contains("FIRST_OK"), "stdout: {o}\nstderr: {e}");
    assert!(
        o.lines()
            .any(|l| l.starts_with("FULL_RC=") && l != "FULL_RC=0"),
        "indexing onto a full disk must fail: {o}\n{e}"
    );
    assert!(
        e.to_lowercase().contains("no space left"),
        "the error must say the disk is full: {e}"
    );
    // The old index still answers, with the old document.
    let blocks: Vec<Value> = o
        .split("<<<")
        .skip(1)
        .filter_map(|b| b.split("SEARCH_RC").next()?.split(">>>").next())
        .map(|j| serde_json::from_str(j.trim()).unwrap_or_else(|_| panic!("not JSON: {j}")))
        .collect();
    assert_eq!(blocks.len(), 2, "{o}");
    let v = &blocks[0];
    assert_eq!(v["total"], 1, "{v}");
    assert!(o.contains("SEARCH_RC=0"), "{o}");
    // With space again, the same run completes.
    assert!(o.contains("AGAIN_RC=0"), "{o}\n{e}");
    assert_eq!(blocks[1]["total"], 1501, "{}", blocks[1]);
}

#[test]
fn huge_unreadable_and_vanishing_files_are_skipped_with_reasons() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(c, "guides/good.md", "---\ntitle: 居住证办理\n---\n居住证。");
    // 50 MB: sparse, so the test does not write 50 MB; the limit is checked before reading.
    let big = std::fs::File::create(c.join("guides/huge.txt")).unwrap();
    big.set_len(50 * 1024 * 1024).unwrap();
    write(c, "guides/secret.md", "---\ntitle: 机密\n---\n不可读。");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            c.join("guides/secret.md"),
            std::fs::Permissions::from_mode(0o000),
        )
        .unwrap();
    }
    let idx = index.path().join("idx");
    let mut cmd = bin();
    // Root reads anything: run as `nobody` so the permission bits mean something.
    #[cfg(unix)]
    let as_nobody = unsafe_is_root() && has_setpriv();
    #[cfg(not(unix))]
    let as_nobody = false;
    if as_nobody {
        for p in [c, index.path()] {
            make_world_accessible(p);
        }
        cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_banshi"));
    }
    let out = cmd
        .args(["index", "--corpus"])
        .arg(c)
        .arg("--index")
        .arg(&idx)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("guides/huge.txt") && err.contains("too large: 50.0 MB"),
        "{err}"
    );
    if as_nobody || !unsafe_is_root() {
        assert!(
            err.contains("guides/secret.md") && err.to_lowercase().contains("permission denied"),
            "{err}"
        );
    } else {
        eprintln!("NOTE: root, and `nobody` cannot run the binary: permission bits not tested");
    }
    let hits = run(&[
        "search",
        "居住证",
        "--index",
        idx.to_str().unwrap(),
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&hits.stdout).unwrap();
    assert_eq!(v["hits"][0]["path"], "guides/good.md", "{v}");

    // Files deleted while the index run reads them: no failure, nothing phantom afterwards.
    let corpus = tempdir();
    let c = corpus.path().to_path_buf();
    synthetic_corpus(&c, 1500);
    let idx2 = index.path().join("idx2");
    let child = bin()
        .args(["index", "--corpus"])
        .arg(&c)
        .arg("--index")
        .arg(&idx2)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut removed = 0;
    for i in (0..1500).step_by(3) {
        std::fs::remove_file(c.join(format!("gen/{:02}/{i:05}.md", i % 50))).unwrap();
        removed += 1;
        // Spread over the run, so deletions land before, during and after each file's read.
        std::thread::sleep(Duration::from_millis(4));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let n = index_count(&idx2).unwrap();
    assert!(n <= 1500, "{n}");
    // The next run matches the folder exactly.
    let again = index_dir(&c, &idx2);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stderr(&again).contains("skipped"), "{}", stderr(&again));
    assert_eq!(index_count(&idx2), Some(1500 - removed));
}

/// Whether `unshare -Urm` works here (a private tmpfs needs a user + mount namespace);
/// says the test is skipped when not.
fn mount_namespace_available(test: &str) -> bool {
    let ok = std::process::Command::new("unshare")
        .args(["-Urm", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED {test}: cannot create a mount namespace here");
    }
    ok
}

fn unsafe_is_root() -> bool {
    // `id -u` instead of libc: no unsafe code and no extra crate for one question.
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `setpriv` exists and `nobody` may run the test binary (a checkout under a 0700 home
/// folder would not let it).
fn has_setpriv() -> bool {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_banshi"))
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Let `nobody` traverse to and write into `p` (temp folders are 0700).
#[cfg(unix)]
fn make_world_accessible(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut dir = Some(p);
    while let Some(d) = dir {
        if d == Path::new("/") {
            break;
        }
        let mode = std::fs::metadata(d).unwrap().permissions().mode();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o755)).ok();
        dir = d.parent();
    }
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    for e in walkdir::WalkDir::new(p).min_depth(1) {
        let e = e.unwrap();
        let mode = e.metadata().unwrap().permissions().mode();
        if mode & 0o777 == 0 {
            continue; // the deliberately unreadable file
        }
        let want = if e.file_type().is_dir() { 0o777 } else { 0o644 };
        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(want)).unwrap();
    }
}

#[test]
fn a_second_writer_process_gets_index_locked_and_changes_nothing() {
    let corpus = tempdir();
    let index = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/a.md",
        "---\ntitle: 居住证办理\n---\nzzmarker 居住证。",
    );
    let s = Server::start(c, index.path(), &["--no-watch"]);
    let other = tempdir();
    synthetic_corpus(other.path(), 20);
    let out = index_dir(other.path(), index.path());
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is locked by another process"),
        "{}",
        stderr(&out)
    );
    // Readers are not writers: the CLI can still search the served index.
    assert_eq!(index_count(index.path()), Some(1));
    assert_eq!(total(&s, "zzmarker"), Some(1));
}

#[test]
fn a_full_disk_under_the_watcher_is_reported_and_healed_when_space_returns() {
    use std::io::BufRead;
    if !mount_namespace_available("a_full_disk_under_the_watcher") {
        return;
    }
    let corpus = tempdir();
    let more = tempdir();
    let mnt = tempdir();
    let ctrl = tempdir();
    let c = corpus.path();
    write(
        c,
        "guides/a.md",
        "---\ntitle: 居住证办理\n---\nzzmarker 居住证。",
    );
    synthetic_corpus(more.path(), 1500);
    // The index lives on a tmpfs only this script's mount namespace sees; the network is
    // shared, so the test talks to the server directly. Files in CTRL sequence the steps.
    let script = r#"
mount -t tmpfs -o size=24m tmpfs "$MNT" || exit 90
"$BANSHI" serve --corpus "$CORPUS" --index "$MNT/idx" --addr 127.0.0.1:0 &
pid=$!
until [ -e "$CTRL/fill" ]; do sleep 0.05; done
head -c $(( $(df --output=avail -B1 "$MNT" | tail -1) - 300000 )) /dev/zero > "$MNT/filler" 2>/dev/null
touch "$CTRL/filled"
until [ -e "$CTRL/free" ]; do sleep 0.05; done
rm "$MNT/filler"
until [ -e "$CTRL/stop" ]; do sleep 0.05; done
kill -TERM $pid
wait $pid
echo "SERVE_RC=$?"
"#;
    let mut child = std::process::Command::new("unshare")
        .args(["-Urm", "sh", "-c", script])
        .env("MNT", mnt.path())
        .env("CTRL", ctrl.path())
        .env("BANSHI", env!("CARGO_BIN_EXE_banshi"))
        .env("CORPUS", c)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Stop<'a>(&'a Path, std::process::Child);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            std::fs::write(self.0.join("free"), "").ok();
            std::fs::write(self.0.join("stop"), "").ok();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && matches!(self.1.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            self.1.kill().ok();
        }
    }
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut guard = Stop(ctrl.path(), child);
    let first = lines.next().expect("server output").unwrap();
    let base = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected {first:?}"))
        .to_string();
    let get = |path: &str| -> Option<Value> {
        client()
            .get(format!("{base}{path}"))
            .send()
            .ok()?
            .json()
            .ok()
    };
    let count = || get("/api/search?q=zzmarker&limit=1").and_then(|v| v["total"].as_u64());
    assert_eq!(count(), Some(1));
    std::fs::write(ctrl.path().join("fill"), "").unwrap();
    eventually(20, "the disk to be filled", || {
        ctrl.path().join("filled").exists().then_some(())
    });
    // A burst that cannot be committed.
    let out = std::process::Command::new("cp")
        .arg("-r")
        .arg(more.path().join("gen"))
        .arg(c)
        .output()
        .unwrap();
    assert!(out.status.success());
    let status = eventually(60, "the watcher to report the full disk", || {
        let s = get("/api/status")?;
        let errs = s["watcher"]["recent_errors"].as_array()?.clone();
        errs.iter()
            .any(|e| e.as_str().is_some_and(|e| e.contains("No space left")))
            .then_some(s)
    });
    eprintln!("status while full: {}", status["watcher"]);
    // Still serving the last commit.
    assert_eq!(count(), Some(1));
    assert_eq!(
        client()
            .get(format!("{base}/health"))
            .send()
            .unwrap()
            .status(),
        200
    );
    // Space returns: the watcher's retry commits everything, nothing lost.
    std::fs::write(ctrl.path().join("free"), "").unwrap();
    eventually(90, "all 1,501 documents once space is back", || {
        count().filter(|n| *n == 1501)
    });
    std::fs::write(ctrl.path().join("stop"), "").unwrap();
    let rc = lines
        .map_while(Result::ok)
        .find(|l| l.starts_with("SERVE_RC="))
        .unwrap_or_default();
    assert_eq!(rc, "SERVE_RC=0", "graceful exit after the episode");
    guard.1.wait().ok();
}
