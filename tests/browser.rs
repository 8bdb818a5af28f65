//! Real-browser end-to-end test of the portal page: headless Chromium, driven by
//! `tests/browser/page.spec.mjs` (playwright-core), against a real `banshi serve` on the
//! built-in corpus. The script types into the search box, picks a suggestion with the
//! keyboard, applies a facet, pages, opens a document and goes back, checks the empty state,
//! the document page without JavaScript and a 375 px mobile screen.
//!
//! Needs `/usr/bin/chromium` (Debian `chromium`), `node` and
//! `tests/browser/node_modules/playwright-core` (`cd tests/browser && npm ci`). Where one is
//! missing the test prints `SKIPPED browser test: …` and passes, unless
//! `BANSHI_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs them), where it fails.
//!
//! Screenshots (results, document, mobile, and one per failed step) are written to
//! `target/browser-artifacts/`; CI keeps that folder as build artifacts.

mod common;

use common::{builtin_corpus, tempdir, Server};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole script normally takes 10–20 s; this only stops a hung browser.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/browser-artifacts/` (under `CARGO_TARGET_DIR` when that is set).
fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                manifest_dir().join(t)
            }
        })
        .unwrap_or_else(|| manifest_dir().join("target"));
    target.join("browser-artifacts")
}

/// What is missing to run the browser test, if anything.
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!(
            "{CHROMIUM} not found (install Debian's browser: apt-get install chromium)"
        ));
    }
    let node_ok = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node_ok {
        missing.push("node not found on PATH (install Node.js 20+)".to_string());
    }
    let pw = manifest_dir().join("tests/browser/node_modules/playwright-core");
    if !pw.join("package.json").exists() {
        missing.push(format!(
            "{} not found (run: cd tests/browser && npm ci)",
            pw.display()
        ));
    }
    missing
}

/// Read a child pipe to the end in the background.
fn collect(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        pipe.read_to_end(&mut buf).ok();
        String::from_utf8_lossy(&buf).into_owned()
    })
}

#[test]
fn portal_page_in_a_real_browser() {
    let missing = missing_prerequisites();
    if !missing.is_empty() {
        let what = missing.join("; ");
        if std::env::var("BANSHI_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("browser test cannot run and BANSHI_REQUIRE_BROWSER=1: {what}");
        }
        eprintln!("SKIPPED browser test: {what}");
        return;
    }

    let index = tempdir();
    let server = Server::start(&builtin_corpus(), index.path(), &["--no-watch"]);
    let shots = artifacts_dir();
    std::fs::create_dir_all(&shots).expect("create target/browser-artifacts");

    let started = Instant::now();
    let mut child = Command::new("node")
        .arg(manifest_dir().join("tests/browser/page.spec.mjs"))
        .arg(&server.base)
        .arg(&shots)
        .current_dir(manifest_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let out = collect(child.stdout.take().unwrap());
    let err = collect(child.stderr.take().unwrap());
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for node") {
            break Some(s);
        }
        if started.elapsed() > SCRIPT_TIMEOUT {
            // Killing node closes its pipe to Chromium, which then exits too.
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    let took = started.elapsed();
    let report = format!(
        "--- page.spec.mjs stdout ---\n{out}\n--- page.spec.mjs stderr ---\n{err}\n\
         --- banshi serve stderr (last 30 lines) ---\n{}\n--- screenshots in {} ---",
        {
            let lines = server.stderr.lock().unwrap();
            lines[lines.len().saturating_sub(30)..].join("\n")
        },
        shots.display()
    );
    match status {
        None => panic!(
            "the browser script did not finish within {} s\n{report}",
            SCRIPT_TIMEOUT.as_secs()
        ),
        Some(s) if !s.success() => panic!("the browser script failed ({s})\n{report}"),
        Some(_) => {
            print!("{out}");
            eprint!("{err}");
            println!("browser test took {:.1} s", took.as_secs_f64());
        }
    }
}
