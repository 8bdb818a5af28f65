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
