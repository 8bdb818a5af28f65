//! The `banshi` binary: parse arguments, start logging, dispatch. All logic is in the library.

mod cli;

use anyhow::Context;
use banshi::search::suggest::Suggester;
use banshi::{config, Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};
use clap::Parser;
use cli::{Cli, Command, IndexArgs};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BANSHI_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn analyzer(args: &IndexArgs) -> anyhow::Result<std::sync::Arc<Analyzer>> {
    let dir = config::dict_dir(args.dict.as_deref(), &args.index);
    Ok(Analyzer::load(dir.as_deref())?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Index { corpus, index } => {
            let (idx, rebuilt) = BanshiIndex::open_or_create(&index.index, analyzer(&index)?)?;
            if rebuilt {
                eprintln!(
                    "schema or dictionary changed: rebuilding {}",
                    index.index.display()
                );
            }
            let mut syncer = Syncer::open(idx.clone())?;
            let bar = Bar::new();
            let report = syncer.full_sync(&corpus, &bar)?;
            bar.0.finish_and_clear();
            syncer.close()?;
            // Written beside the index, so that the server's first start reads the
            // suggestions instead of building them.
            let snapshot = idx.tantivy().reader()?.searcher();
            Suggester::open(&snapshot, &idx);
            for s in &report.skipped {
                eprintln!("skipped {}: {}", s.path, s.reason);
            }
            println!("{}", report.summary());
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            corpus,
            index,
            addr,
            no_watch,
            poll_interval,
            admin_token,
            cors_origins,
            timeout_ms,
            header_timeout_ms,
            max_connections,
            max_searches,
            queue_wait_ms,
            cache_mb,
        } => {
            let cfg = banshi::server::ServeConfig {
                corpus,
                index: index.index,
                dict: index.dict,
                addr,
                watch: !no_watch,
                poll_interval: poll_interval.map(std::time::Duration::from_millis),
                admin_token,
                cors_origins,
                request_timeout: std::time::Duration::from_millis(timeout_ms),
                limits: banshi::server::listen::ConnLimits {
                    header_timeout: std::time::Duration::from_millis(header_timeout_ms),
                    max_connections: max_connections as usize,
                },
                max_searches: max_searches.map(|n| n as usize),
                queue_wait: std::time::Duration::from_millis(queue_wait_ms),
                cache_bytes: (cache_mb as usize).saturating_mul(1 << 20),
            };
            tokio::runtime::Runtime::new()?.block_on(banshi::server::run(cfg))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            url,
            queries,
            concurrency,
            duration,
            warmup,
            json,
            freshness,
            saves,
            gap,
            timeout,
        } => {
            if let Some(dir) = freshness {
                let cfg = banshi::loadgen::freshness::FreshConfig {
                    url,
                    dir,
                    saves,
                    gap: std::time::Duration::from_secs_f64(gap),
                    timeout: std::time::Duration::from_secs_f64(timeout),
                };
                let report = tokio::runtime::Runtime::new()?
                    .block_on(banshi::loadgen::freshness::run(cfg))?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    println!("{}", report.summary());
                }
                return Ok(if report.errors > 0 {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                });
            }
            let text = match queries {
                Some(p) => std::fs::read_to_string(&p)
                    .with_context(|| format!("reading {}", p.display()))?,
                None => banshi::loadgen::DEFAULT_QUERIES.to_string(),
            };
            let cfg = banshi::loadgen::LoadConfig {
                url,
                queries: banshi::loadgen::parse_queries(&text),
                concurrency,
                duration: std::time::Duration::from_secs_f64(duration),
                warmup: std::time::Duration::from_secs_f64(warmup),
            };
            let report = tokio::runtime::Runtime::new()?.block_on(banshi::loadgen::run(cfg))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}", report.summary());
            }
            Ok(if report.errors > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Gen {
            docs,
            seed,
            out,
            sources,
            per_file,
        } => {
            let sources = if sources.is_empty() {
                banshi::synth::default_sources()
            } else {
                sources
            };
            let started = std::time::Instant::now();
            let vocab = banshi::synth::Vocabulary::from_sources(&sources)?;
            let cfg = banshi::synth::GenConfig {
                docs,
                seed,
                per_file,
            };
            let report = banshi::synth::generate(&vocab, &cfg, &out)?;
            let names: Vec<String> = sources.iter().map(|s| s.display().to_string()).collect();
            println!(
                "{} in {}; seed {seed}, sources {} ({}); {:.1} s",
                report.summary(),
                out.display(),
                names.join(", "),
                vocab.summary(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            query,
            index,
            limit,
            offset,
            kind,
            department,
            json,
        } => {
            if !index.index.join("meta.json").exists() {
                anyhow::bail!(
                    "no index at {}; run `banshi index` first",
                    index.index.display()
                );
            }
            let idx = BanshiIndex::open(&index.index, analyzer(&index)?)?;
            let searcher = Searcher::new(idx)?;
            let req = SearchRequest {
                q: query,
                kind,
                department,
                limit: Some(limit),
                offset: Some(offset),
                ..Default::default()
            };
            // The same fallbacks as the API (pinyin, typo correction, "did you mean").
            let suggester = Suggester::open(&searcher.tantivy_searcher(), searcher.index());
            let resp = searcher
                .search_with(&req, Some(&suggester))
                .context("search failed")?;
            let mut out = std::io::stdout().lock();
            let printed = if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&resp)?)
            } else {
                print_hits(&mut out, &resp, std::io::stdout().is_terminal())
            };
            match printed.and_then(|()| out.flush()) {
                // `banshi search … | head`: the reader has what it wanted; not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
                r => {
                    r?;
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

/// A progress bar on a terminal; hidden otherwise.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new() -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::new(0)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}")
                .expect("valid template"),
        );
        Bar(bar)
    }
}

impl banshi::index::sync::Progress for Bar {
    fn start(&self, files: u64) {
        self.0.set_length(files);
    }
    fn inc(&self) {
        self.0.inc(1);
    }
}

/// `<em>` → colour on a terminal, brackets otherwise; HTML entities undone.
fn terminal_text(html: &str, colour: bool) -> String {
    let (on, off) = if colour {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    html.replace("<em>", on)
        .replace("</em>", off)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn print_hits(
    out: &mut impl Write,
    resp: &banshi::SearchResponse,
    colour: bool,
) -> std::io::Result<()> {
    let phases: Vec<String> = resp
        .timings
        .phases()
        .into_iter()
        .map(|(name, us)| format!("{name} {us}"))
        .collect();
    let phases = phases.join(", ");
    writeln!(
        out,
        "{} results ({} µs: {phases})",
        resp.total, resp.took_us
    )?;
    for (i, h) in resp.hits.iter().enumerate() {
        let mut meta = vec![h.kind.as_str().to_string(), h.path.clone()];
        meta.extend(h.code.clone());
        meta.extend(h.department.clone());
        if let Some(d) = h.time_limit_days {
            meta.push(format!("{d} 个工作日"));
        }
        writeln!(
            out,
            "\n{:>2}. {}  ({:.2})",
            resp.offset + i + 1,
            terminal_text(&h.title_highlighted, colour),
            h.score
        )?;
        writeln!(out, "    {}", meta.join(" · "))?;
        writeln!(out, "    {}", terminal_text(&h.snippet, colour))?;
    }
    Ok(())
}
