//! Shared helpers for integration tests: fresh folders, the real binary, the shared corpus.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `banshi` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_banshi"))
}

/// Run the binary with `args`, returning its output (panics if it cannot start).
pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("banshi runs")
}

/// `banshi index --corpus CORPUS --index INDEX`, returning its output.
pub fn index_dir(corpus: &Path, index: &Path) -> Output {
    run(&[
        "index",
        "--corpus",
        corpus.to_str().expect("UTF-8 path"),
        "--index",
        index.to_str().expect("UTF-8 path"),
    ])
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The repository's built-in corpus.
pub fn builtin_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The shared real corpus (`BANSHI_SHARED_CORPUS`, default `../shared/corpus`), or `None`
/// with a message saying the test is skipped.
pub fn shared_corpus(test: &str) -> Option<PathBuf> {
    let p = std::env::var_os("BANSHI_SHARED_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED {test}: shared corpus not found at {} (set BANSHI_SHARED_CORPUS)",
            p.display()
        );
        None
    }
}

/// Write `contents` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, contents: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, contents).unwrap();
}

/// A temp folder that is removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("banshi-test")
        .tempdir()
        .unwrap()
}

/// A real `banshi serve` on an ephemeral port; killed (SIGTERM, then SIGKILL) on drop.
pub struct Server {
    /// The child process.
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Lines the server wrote to stderr, collected in the background.
    pub stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Start `banshi serve --corpus CORPUS --index INDEX --addr 127.0.0.1:0 EXTRA…` and wait
    /// (up to 60 s) for its `listening on http://ADDR` line.
    pub fn start(corpus: &Path, index: &Path, extra: &[&str]) -> Server {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let mut child = bin()
            .args(["serve", "--corpus"])
            .arg(corpus)
            .arg("--index")
            .arg(index)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("banshi serve starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            if let Some(Ok(line)) = lines.next() {
                tx.send(line).ok();
            }
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                child.kill().ok();
                panic!("server did not start; stderr: {:?}", stderr.lock().unwrap());
            }
        };
        let base = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server {
            child,
            base,
            stderr,
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Send SIGTERM and wait (up to 20 s) for a clean exit; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if std::time::Instant::now() > deadline {
                self.child.kill().ok();
                panic!("server did not exit after SIGTERM");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// A blocking HTTP client with a generous timeout.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Poll `f` every 20 ms until it returns `Some`, or panic after `secs` with `what`.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if std::time::Instant::now() > deadline {
            panic!("timed out after {secs} s waiting for: {what}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Every live document of `idx`'s latest commit, read from the store's raw bytes as search
/// hits are (`BanshiIndex::stored_hit`), equals tantivy's own decoding of it
/// (`BanshiIndex::stored_doc`), body included. Returns how many documents were compared.
#[allow(dead_code)]
pub fn raw_stored_documents_match(idx: &banshi::BanshiIndex) -> usize {
    let searcher = idx.tantivy().reader().unwrap().searcher();
    let mut compared = 0;
    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
        let store = seg.get_store_reader(10).unwrap();
        for doc in (0..seg.max_doc()).filter(|d| !seg.is_deleted(*d)) {
            let addr = tantivy::DocAddress::new(ord as u32, doc);
            let want = idx.stored_doc(&searcher, addr).expect("tantivy decodes it");
            let raw = idx.stored_hit(&store, doc).expect("its raw bytes read");
            let body = raw.body.text().expect("its body is UTF-8");
            assert_eq!(body, want.body, "document {doc} of segment {ord}");
            let want = banshi::corpus::HitDoc::from(want);
            assert_eq!(raw.doc, want, "document {doc} of segment {ord}");
            compared += 1;
        }
    }
    compared
}
