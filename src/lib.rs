//! banshi (办事): full-text search for Chinese government service catalogues.
//!
//! Data flows through the modules in order: [`corpus`] turns files into documents,
//! [`analysis`] turns text into jieba tokens, [`index`] syncs documents into a tantivy index on
//! disk, and [`search`] answers queries over it. See `ARCHITECTURE.md`.
#![warn(missing_docs)]

pub mod analysis;
pub mod config;
pub mod corpus;
pub mod index;
pub mod loadgen;
pub mod schema;
pub mod search;
pub mod server;
pub mod synth;
pub mod watch;

pub use analysis::Analyzer;
pub use corpus::{Document, Kind};
pub use index::{sync::Syncer, BanshiIndex, IndexError};
pub use search::{SearchRequest, SearchResponse, Searcher};
