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
