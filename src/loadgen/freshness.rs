//! `banshi bench --freshness DIR`: how long a save in a served corpus takes to be searchable.
//!
//! End to end, against a running server that watches `DIR`: write a small Markdown file with a
//! word no other document has, poll the search URL every few milliseconds until a hit's `path`
//! is that file, and time save → found. The files are removed afterwards and the run waits
//! until the last is gone from search too, so a measurement leaves the corpus and the index as
//! it found them. This is the figure the freshness target is about: the watcher's quiet period,
//! the batch sync, the commit and the reader reload, as a client sees them, with whatever else
//! the server does after a commit competing for the cores.

use super::{percentile, url_for, LoadError};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often a pending save is looked for. Small against the figures measured (~100+ ms),
/// large enough that polling does not load the server.
const POLL: Duration = Duration::from_millis(5);

/// What to run.
#[derive(Debug, Clone)]
pub struct FreshConfig {
    /// Base URL of a banshi server (or a template with `{q}` for a banshi-shaped endpoint).
    pub url: String,
    /// The corpus folder the server watches; test files are written at its top level.
    pub dir: PathBuf,
    /// Number of saves.
    pub saves: usize,
    /// Pause after a save was found, before the next one.
    pub gap: Duration,
    /// A save not found within this long counts as an error.
    pub timeout: Duration,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct FreshReport {
    /// Saves made.
    pub saves: u64,
    /// Saves not found in search within the timeout (or searches that failed).
    pub errors: u64,
    /// Save → searchable, over the saves found: percentiles in microseconds.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Slowest save found.
    pub max_us: u64,
    /// Removal of every test file → the last one gone from search (0 if it never went).
    pub cleanup_us: u64,
}

impl FreshReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} saves: save → searchable p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} errors; files removed → gone from search in {:.1} ms",
            self.saves,
            self.p50_us as f64 / 1000.0,
            self.p90_us as f64 / 1000.0,
            self.p99_us as f64 / 1000.0,
            self.max_us as f64 / 1000.0,
            self.errors,
            self.cleanup_us as f64 / 1000.0,
        )
    }
}

/// Is a hit whose `path` is `name` among the search results for `word`? `None` when the search
/// itself failed (transport error, non-2xx, not a banshi-shaped answer).
async fn found(client: &reqwest::Client, url: &str, name: &str) -> Option<bool> {
    let r = client.get(url).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    let v: serde_json::Value = r.json().await.ok()?;
    let hits = v.get("hits")?.as_array()?;
    Some(
        hits.iter()
            .any(|h| h.get("path").and_then(|p| p.as_str()) == Some(name)),
    )
}

/// Poll until `found(...) == want` or `timeout`; the time it took, or `None`.
async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    name: &str,
    want: bool,
    since: Instant,
    timeout: Duration,
) -> Option<Duration> {
    loop {
        if found(client, url, name).await == Some(want) {
            return Some(since.elapsed());
        }
        if since.elapsed() >= timeout {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Run the saves and measure them.
pub async fn run(cfg: FreshConfig) -> Result<FreshReport, LoadError> {
    if !cfg.dir.is_dir() {
        return Err(LoadError::NotADir(cfg.dir.clone()));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    // A wrong URL would otherwise cost the whole timeout on every save: ask once first.
    let probe = url_for(&cfg.url, "banshi");
    if found(&client, &probe, "").await.is_none() {
        return Err(LoadError::NotSearchable(probe));
    }
    // A run id keeps repeated runs (or a leftover of a killed one) apart.
    let run = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_micros())
            .unwrap_or(0)
    );
    let mut written: Vec<(PathBuf, String, String)> = Vec::new();
    let mut lat = Vec::new();
    let mut errors = 0u64;
    let mut result = Ok(());
    for i in 0..cfg.saves {
        let name = format!("banshi-fresh-{run}-{i}.md");
        // Digits inside Chinese text: one token each, shared by no other document.
        let word = format!("新鲜度测试{run}号{i}");
        let path = cfg.dir.join(&name);
        let t0 = Instant::now();
        if let Err(e) = std::fs::write(&path, format!("---\ntitle: {word}\n---\n{word}正文。\n"))
        {
            result = Err(LoadError::Write(path, e));
            break;
        }
        let url = url_for(&cfg.url, &word);
        written.push((path, url.clone(), name.clone()));
        match wait_for(&client, &url, &name, true, t0, cfg.timeout).await {
            Some(d) => lat.push(d.as_micros() as u64),
            None => errors += 1,
        }
        tokio::time::sleep(cfg.gap).await;
    }
    // Leave the corpus as it was, and wait for the index to follow.
    let t0 = Instant::now();
    for (path, _, _) in &written {
        std::fs::remove_file(path).ok();
    }
    let mut cleanup_us = 0;
    if let Some((_, url, name)) = written.last() {
        if let Some(d) = wait_for(&client, url, name, false, t0, cfg.timeout).await {
            cleanup_us = d.as_micros() as u64;
        } else {
            errors += 1;
        }
    }
    result?;
    lat.sort_unstable();
    Ok(FreshReport {
        saves: written.len() as u64,
        errors,
        p50_us: percentile(&lat, 0.50),
        p90_us: percentile(&lat, 0.90),
        p99_us: percentile(&lat, 0.99),
        max_us: lat.last().copied().unwrap_or(0),
        cleanup_us,
    })
}
