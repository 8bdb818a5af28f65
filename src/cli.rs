//! Command-line interface: clap definitions only.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// banshi (办事): search for Chinese government service catalogues.
#[derive(Debug, Parser)]
#[command(name = "banshi", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand that touches the index shares.
#[derive(Debug, Args, Clone)]
pub struct IndexArgs {
    /// The index folder.
    #[arg(long, env = "BANSHI_INDEX", default_value = "index")]
    pub index: PathBuf,
    /// Folder with dictionary overrides (user.dict, synonyms.txt, stopwords.txt, colloquial.txt);
    /// default: INDEX/dict if it exists, else the shipped dictionaries.
    #[arg(long, env = "BANSHI_DICT")]
    pub dict: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build or update the index from a corpus folder (incremental, by content hash).
    Index {
        /// The corpus folder.
        #[arg(long, env = "BANSHI_CORPUS", default_value = "corpus")]
        corpus: PathBuf,
        #[command(flatten)]
        index: IndexArgs,
    },
    /// Sync the index with the corpus, then serve the HTTP API and search page (and keep
    /// watching the corpus for changes).
    Serve {
        /// The corpus folder.
        #[arg(long, env = "BANSHI_CORPUS", default_value = "corpus")]
        corpus: PathBuf,
        #[command(flatten)]
        index: IndexArgs,
        /// Listen address; `127.0.0.1:0` picks a free port.
        #[arg(long, env = "BANSHI_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Do not watch the corpus for changes.
        #[arg(long)]
        no_watch: bool,
        /// Poll the corpus every N milliseconds instead of using OS events (network shares).
        #[arg(long, value_name = "MS")]
        poll_interval: Option<u64>,
        /// Enables admin endpoints (POST /api/reindex) for `Authorization: Bearer TOKEN`.
        #[arg(long, env = "BANSHI_ADMIN_TOKEN")]
        admin_token: Option<String>,
        /// Origin allowed to call the API from a browser (the embeddable search box); repeatable.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Per-request time limit in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
        /// Close a connection whose request head takes longer than this (slow or idle clients).
        #[arg(long, default_value_t = 10_000, value_name = "MS")]
        header_timeout_ms: u64,
        /// Connections served at once; more wait in the accept backlog.
        #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
        max_connections: u64,
        /// Searches run at once (default: twice the cores); more wait, see --queue-wait-ms.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        max_searches: Option<u64>,
        /// How long a search waits for a free slot before it is answered 503 + Retry-After.
        #[arg(long, default_value_t = 2_000, value_name = "MS")]
        queue_wait_ms: u64,
        /// Memory for cached search responses, in MiB (0 turns the cache off). A repeated
        /// query on the same index generation is answered from it; any commit invalidates.
        #[arg(long, default_value_t = 64, value_name = "MIB")]
        cache_mb: u64,
    },
    /// Load-test a search endpoint over HTTP: QPS and latency percentiles.
    Bench {
        /// Base URL of a banshi server, or a URL template with `{q}` for any engine.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Query file, one per line (default: the shipped mix, benches/queries.txt).
        #[arg(long)]
        queries: Option<PathBuf>,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 10.0, value_parser = seconds)]
        duration: f64,
        /// Unmeasured warm-up seconds.
        #[arg(long, default_value_t = 1.0, value_parser = seconds)]
        warmup: f64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Measure watcher freshness instead of load: save test files into this corpus folder
        /// (the one the server at --url watches), time each save until search finds it, then
        /// remove them.
        #[arg(long, value_name = "CORPUS_DIR")]
        freshness: Option<PathBuf>,
        /// With --freshness: number of saves.
        #[arg(long, default_value_t = 20, requires = "freshness")]
        saves: usize,
        /// With --freshness: seconds between a save being found and the next save.
        #[arg(long, default_value_t = 0.3, requires = "freshness", value_parser = seconds)]
        gap: f64,
        /// With --freshness: seconds after which a save not found counts as an error.
        #[arg(long, default_value_t = 10.0, requires = "freshness", value_parser = seconds)]
        timeout: f64,
    },
    /// Generate a synthetic catalogue (JSONL service items) for growth benchmarks; the same
    /// seed and sources give byte-identical files.
    Gen {
        /// Number of documents.
        #[arg(long)]
        docs: u64,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output folder (created; must be absent or empty).
        #[arg(long)]
        out: PathBuf,
        /// Corpus to draw titles, names and sentences from; repeatable (default: `corpus` and,
        /// when present, `BANSHI_SHARED_CORPUS` or `../shared/corpus`).
        #[arg(long = "source", value_name = "DIR")]
        sources: Vec<PathBuf>,
        /// Records per JSONL file.
        #[arg(long, default_value_t = 1000)]
        per_file: u64,
    },
    /// Search the index from the terminal.
    Search {
        /// The query, as a citizen or staff member would type it.
        query: String,
        #[command(flatten)]
        index: IndexArgs,
        /// Number of hits.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Hits to skip.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Only these kinds (law, guide, material, timeline, notice); repeatable.
        #[arg(long)]
        kind: Vec<String>,
        /// Only this department; repeatable.
        #[arg(long)]
        department: Vec<String>,
        /// Print the JSON object the HTTP API returns.
        #[arg(long)]
        json: bool,
    },
}

/// A number of seconds: finite and not negative (a `Duration` cannot hold anything else).
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1e9).contains(&v) => Ok(v),
        Ok(_) => Err(format!("{s} is not a number of seconds between 0 and 1e9")),
        Err(e) => Err(e.to_string()),
    }
}
