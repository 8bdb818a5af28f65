//! `banshi bench`: an HTTP load generator for any search endpoint.
//!
//! Keep-alive connections (one pooled client shared by `concurrency` workers), a fixed
//! duration after a warm-up, and exact latency percentiles from every recorded request (a
//! sorted vector: a run of a few hundred thousand requests fits easily). The URL is a template,
//! so the same run can time banshi, another deployment, or another engine.

pub mod freshness;

use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The query mix shipped with banshi (one per line, `#` comments).
pub const DEFAULT_QUERIES: &str = include_str!("../benches/queries.txt");

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// URL template: `{q}` is replaced by the percent-encoded query; without `{q}`,
    /// `/api/search?q=QUERY` is appended.
    pub url: String,
    /// Queries, used round-robin from a per-worker offset.
    pub queries: Vec<String>,
    /// Concurrent connections.
    pub concurrency: usize,
    /// Measured time.
    pub duration: Duration,
    /// Unmeasured time first (connections, caches).
    pub warmup: Duration,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// Measured requests (successful or not).
    pub requests: u64,
    /// Non-2xx answers and transport failures.
    pub errors: u64,
    /// Requests per second over the measured time.
    pub qps: f64,
    /// Latency percentiles, microseconds.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Slowest request.
    pub max_us: u64,
    /// Concurrency used.
    pub concurrency: usize,
    /// Measured seconds.
    pub seconds: f64,
}

impl LoadReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} requests in {:.1} s at concurrency {}: {:.0} QPS; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors",
            self.requests,
            self.seconds,
            self.concurrency,
            self.qps,
            self.p50_us as f64 / 1000.0,
            self.p90_us as f64 / 1000.0,
            self.p99_us as f64 / 1000.0,
            self.max_us as f64 / 1000.0,
            self.errors
        )
    }
}

/// Parse a query file: one query per line; blank lines and `#` comments skipped.
pub fn parse_queries(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn url_for(template: &str, q: &str) -> String {
    let enc: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    if template.contains("{q}") {
        template.replace("{q}", &enc)
    } else {
        format!("{}/api/search?q={enc}", template.trim_end_matches('/'))
    }
}

/// Errors of the load generator.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Nothing to send.
    #[error("the query list is empty")]
    NoQueries,
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// `--freshness` was not given a folder.
    #[error("{0} is not a folder (give the corpus folder the server watches)")]
    NotADir(PathBuf),
    /// `--freshness` needs a banshi-shaped search answer (`hits` with `path`) at the URL.
    #[error("{0} does not answer like banshi's /api/search (is the server running there?)")]
    NotSearchable(String),
    /// A test file could not be written into the corpus.
    #[error("writing {0}: {1}")]
    Write(PathBuf, std::io::Error),
}

/// The `p` quantile of sorted latencies (nearest rank), 0 when there are none.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        0
    } else {
        sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
    }
}

/// Run the load and measure it.
pub async fn run(cfg: LoadConfig) -> Result<LoadReport, LoadError> {
    if cfg.queries.is_empty() {
        return Err(LoadError::NoQueries);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(cfg.concurrency.max(1))
        .timeout(Duration::from_secs(30))
        .build()?;
    let urls: Arc<Vec<String>> =
        Arc::new(cfg.queries.iter().map(|q| url_for(&cfg.url, q)).collect());
    let start = Instant::now();
    let measure_from = start + cfg.warmup;
    let end = measure_from + cfg.duration;
    let mut tasks = Vec::new();
    for w in 0..cfg.concurrency.max(1) {
        let client = client.clone();
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut i = w * 7919;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let url = &urls[i % urls.len()];
                i += 1;
                let ok = match client.get(url).send().await {
                    Ok(r) => {
                        let good = r.status().is_success();
                        // Read the body: the request is not done until it has arrived.
                        r.bytes().await.is_ok() && good
                    }
                    Err(_) => false,
                };
                if t0 >= measure_from {
                    lat.push(t0.elapsed().as_micros() as u64);
                    if !ok {
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((lat, e)) = t.await {
            all.extend(lat);
            errors += e;
        }
    }
    all.sort_unstable();
    let pct = |p: f64| percentile(&all, p);
    let seconds = cfg.duration.as_secs_f64();
    Ok(LoadReport {
        requests: all.len() as u64,
        errors,
        qps: all.len() as f64 / seconds.max(1e-9),
        p50_us: pct(0.50),
        p90_us: pct(0.90),
        p99_us: pct(0.99),
        max_us: all.last().copied().unwrap_or(0),
        concurrency: cfg.concurrency,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_template_and_default_path() {
        assert_eq!(
            url_for("http://h:1/", "营业 执照"),
            "http://h:1/api/search?q=%E8%90%A5%E4%B8%9A+%E6%89%A7%E7%85%A7"
        );
        assert_eq!(
            url_for("http://h/s?term={q}&x=1", "a&b"),
            "http://h/s?term=a%26b&x=1"
        );
    }

    #[test]
    fn shipped_mix_is_large_and_clean() {
        let q = parse_queries(DEFAULT_QUERIES);
        assert!(q.len() >= 200, "{}", q.len());
        assert!(q.iter().all(|l| !l.starts_with('#') && !l.is_empty()));
    }
}
