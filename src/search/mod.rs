//! Search: a request → ranked, highlighted hits with facet counts.
//!
//! Owns query understanding (syntax, segmentation, synonyms, colloquial phrases), the tiered
//! ranking (exact code/title/id first, then documents matching every word, then partial
//! matches, so a page is never empty when some words match), filters, facets, snippets and
//! stored-document lookup. Used by the CLI and the HTTP server alike; it must not know HTTP.

mod at_least;
mod conjunction;
mod dense;
mod docs;
pub mod facet;
mod flatten;
mod pool;
pub mod query;
mod ranked;
pub mod snippet;
pub mod suggest;
mod terms;
mod versions;
mod within;

use crate::analysis::{whole_key, Analyzer};
use crate::corpus::{Document, HitDoc, Kind};
use crate::index::{BanshiIndex, StoredHit};
use crate::schema::{names, ACTIONS};
use query::{FieldName, ParsedQuery};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::EnableScoring;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::store::StoreReader;
use tantivy::{DocAddress, IndexReader, ReloadPolicy, SegmentReader, Term};

/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Largest page.
pub const MAX_LIMIT: usize = 100;
/// Deepest offset.
pub const MAX_OFFSET: usize = 10_000;
/// Values listed per facet unless the request says otherwise (Meilisearch's default too).
pub const DEFAULT_FACET_VALUES: usize = 100;
/// Most values a request may ask to list per facet.
pub const MAX_FACET_VALUES: usize = 1_000;
/// At most this many words of a query are searched (complexity bound).
const MAX_GROUPS: usize = 24;

/// Below this many documents a query's passes are too short for the segment pool to pay.
pub const POOL_MIN_DOCS: u64 = 50_000;

/// Decompressed blocks each segment's store reader keeps (tantivy's default for its own).
const DOC_STORE_BLOCKS: usize = 100;

/// Errors of the search layer: the user's request, or the engine.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The request is invalid (the caller's fault: a 4xx).
    #[error("{0}")]
    BadRequest(String),
    /// The engine failed (our fault: a 5xx).
    #[error("search failed: {0}")]
    Engine(#[from] tantivy::TantivyError),
}

/// A search request, as the API and the CLI take it. Hashable: it is the server's cache key.
#[derive(Debug, Clone, Default, Deserialize, Hash, PartialEq, Eq)]
pub struct SearchRequest {
    /// The query as typed.
    pub q: String,
    /// Kinds to keep (any of).
    #[serde(default)]
    pub kind: Vec<String>,
    /// Departments to keep (any of).
    #[serde(default)]
    pub department: Vec<String>,
    /// Regions to keep (any of).
    #[serde(default)]
    pub region: Vec<String>,
    /// Audiences to keep (any of).
    #[serde(default)]
    pub audience: Vec<String>,
    /// Keep items whose 承诺时限 is at most this many working days.
    #[serde(default)]
    pub max_days: Option<u64>,
    /// Page size (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Hits to skip.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Highlight snippets and titles (default true).
    #[serde(default)]
    pub highlight: Option<bool>,
    /// Values listed per facet, those with the most matches (default
    /// [`DEFAULT_FACET_VALUES`], at most [`MAX_FACET_VALUES`]).
    #[serde(default)]
    pub facet_limit: Option<usize>,
}

impl SearchRequest {
    /// A plain query with defaults.
    pub fn new(q: &str) -> Self {
        SearchRequest {
            q: q.to_string(),
            ..Default::default()
        }
    }

    fn validate(&self) -> Result<(usize, usize), SearchError> {
        let n = self.q.chars().count();
        if self.q.trim().is_empty() {
            return Err(SearchError::BadRequest("q must not be empty".into()));
        }
        if n > MAX_QUERY_CHARS {
            return Err(SearchError::BadRequest(format!(
                "q is {n} characters; at most {MAX_QUERY_CHARS} are allowed"
            )));
        }
        let limit = self.limit.unwrap_or(10);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(SearchError::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = self.offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(SearchError::BadRequest(format!(
                "offset must be at most {MAX_OFFSET}"
            )));
        }
        if self.facet_limit.is_some_and(|n| n > MAX_FACET_VALUES) {
            return Err(SearchError::BadRequest(format!(
                "facet_limit must be at most {MAX_FACET_VALUES}"
            )));
        }
        for k in &self.kind {
            if Kind::parse(k).is_none() {
                return Err(SearchError::BadRequest(format!(
                    "unknown kind {k:?}; expected one of law, guide, material, timeline, notice"
                )));
            }
        }
        Ok((limit, offset))
    }
}

/// One hit.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hit {
    /// Document id.
    pub id: String,
    /// Path relative to the corpus.
    pub path: String,
    /// Kind.
    pub kind: Kind,
    /// Title.
    pub title: String,
    /// Title with `<em>` around matched words, HTML-escaped.
    pub title_highlighted: String,
    /// 实施主体.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// 行政区划.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// 事项编码.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// 承诺时限.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limit_days: Option<u32>,
    /// Version date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// Relevance score within its tier.
    pub score: f32,
    /// Highlighted snippet (~120 characters).
    pub snippet: String,
    /// True when the corpus holds a newer version of this document: same kind, title,
    /// department and region, a later `updated` date (公司法 2018 beside 公司法 2023). Such
    /// versions rank below the current one. Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub superseded: bool,
}

/// Facet counts over the whole result set, each under the other filters: per field, the
/// `facet_limit` values with the most matches.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Facets {
    /// kind → count.
    pub kind: BTreeMap<String, u64>,
    /// department → count.
    pub department: BTreeMap<String, u64>,
    /// region → count.
    pub region: BTreeMap<String, u64>,
    /// audience → count.
    pub audience: BTreeMap<String, u64>,
}

/// How many distinct values of each facet field the result set has, listed in `facets` or
/// not: more than `facets` lists means the list was cut at `facet_limit`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FacetSizes {
    #[allow(missing_docs)]
    pub kind: u64,
    #[allow(missing_docs)]
    pub department: u64,
    #[allow(missing_docs)]
    pub region: u64,
    #[allow(missing_docs)]
    pub audience: u64,
}

/// Where the engine's time for an answer went, in microseconds (`took_us` is about their sum):
/// what a benchmark run needs to see what bounds a query. A cached answer keeps the timings
/// of the search that computed it; its `took_us` is the lookup's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Timings {
    /// Parsing and planning the query: segmentation, synonyms, colloquial phrases.
    pub plan_us: u64,
    /// Walking the tiers for the page's documents (scoring, ranking-only clauses, priors).
    pub rank_us: u64,
    /// The total and facets over every match, when the walk did not count them itself.
    pub count_us: u64,
    /// The hits: stored documents read, snippets and highlights.
    pub hits_us: u64,
    /// The fallback for a query matching nothing on all its words: its other reading (pinyin,
    /// one character corrected) searched, and "did you mean" suggestions. 0 when none ran.
    pub fallback_us: u64,
}

impl Timings {
    /// (name, µs) of each phase in order, the fallback only when one ran: what
    /// `Server-Timing`, `/metrics` and `banshi search` report.
    pub fn phases(&self) -> Vec<(&'static str, u64)> {
        let mut out = vec![
            ("plan", self.plan_us),
            ("rank", self.rank_us),
            ("count", self.count_us),
            ("hits", self.hits_us),
        ];
        if self.fallback_us > 0 {
            out.push(("fallback", self.fallback_us));
        }
        out
    }
}

/// A search answer: the JSON object of `banshi search --json` and `GET /api/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// The query as given.
    pub query: String,
    /// Number of matching documents.
    pub total: u64,
    /// Time spent in the engine, microseconds.
    pub took_us: u64,
    /// Where that time went.
    #[serde(default)]
    pub timings: Timings,
    /// Offset of the first hit.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
    /// The page of hits.
    pub hits: Vec<Hit>,
    /// Facet counts.
    pub facets: Facets,
    /// Distinct values per facet field, listed in `facets` or not: more than `facets` lists
    /// means the list was cut at `facet_limit`.
    #[serde(default)]
    pub facets_distinct: FacetSizes,
    /// What was searched instead, when the query as typed matched nothing well: the Chinese
    /// a pinyin or initials query stands for (`sfz` → 身份证), or the query with one wrong
    /// character corrected (离昏登记 → 离婚登记). Its hits rank after any the query found as
    /// typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreted_as: Option<String>,
    /// "Did you mean": other queries to try, best first, when the query as typed matched no
    /// document on all its words (empty otherwise).
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// True when the server answered from its result cache (the same request on the same
    /// index generation was searched before); `took_us` is then the lookup's time. Absent
    /// when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

/// Searches one index; cheap to share (`Arc`) across threads.
pub struct Searcher {
    index: BanshiIndex,
    reader: IndexReader,
    /// Per segment, per document: which [`ACTIONS`] its title contains (bit i = ACTIONS[i]).
    /// Computed once per segment so ranking never decodes titles per query.
    title_actions: std::sync::Mutex<HashMap<tantivy::index::SegmentId, Arc<Vec<u16>>>>,
    /// Which documents are superseded versions, with what it keeps per segment to answer
    /// that again cheaply after a commit.
    versions: std::sync::Mutex<versions::Versions>,
    /// Per segment, its facet columns decoded for counting (see [`facet::SegmentFacets`]).
    facets: std::sync::Mutex<HashMap<tantivy::index::SegmentId, Arc<facet::SegmentFacets>>>,
    /// Per segment, a reader of its stored documents whose raw bytes hits are read from (see
    /// [`BanshiIndex::stored_hit`]), with its own cache of decompressed blocks; `None` if it
    /// could not be opened (hits are then decoded through tantivy).
    stores: std::sync::Mutex<HashMap<tantivy::index::SegmentId, Arc<Option<StoreReader>>>>,
    /// Per segment, its dense terms' documents as bit sets, kept as queries first read them
    /// (see [`dense`]); `None`: every posting decoded each time (to test that they agree).
    dense: Option<std::sync::Mutex<HashMap<tantivy::index::SegmentId, Arc<dense::DenseTerms>>>>,
    /// Threads of the pool that searches the segments of one query on several cores (see
    /// [`Searcher::run`]); below 2, none.
    pool_threads: usize,
    /// The pool, started when a query first needs it (a small index never does); `None` when
    /// `pool_threads` < 2 or the threads could not start.
    segment_pool: std::sync::OnceLock<Option<pool::Pool>>,
    /// The pool serves only indexes of at least this many documents (see [`Searcher::run`]).
    pool_min_docs: u64,
    /// Searches running now: a query gets the segment pool only when it runs alone.
    in_flight: AtomicUsize,
    /// A tier's conjunction rules out documents that cannot reach the page in a segment
    /// where it matches more than this many (see `conjunction::Cut`); `None`: never, and the
    /// phrase bonus is asked in every tier (see `plan`), only to measure and test both.
    prune: Option<usize>,
}

/// A pool for [`Searcher::run`] searching on `threads` threads, the caller's among them, or
/// none for one thread.
fn segment_pool(threads: usize) -> Option<pool::Pool> {
    if threads < 2 {
        return None;
    }
    pool::Pool::new(threads - 1)
        .map_err(|e| tracing::warn!(error = %e, "no segment search pool; searching serially"))
        .ok()
}

/// Per segment, per word of a plan, the word's documents as bits (see `Searcher::word_bits`).
type WordBits = Arc<Vec<Vec<Vec<u64>>>>;

#[cfg(test)]
thread_local! {
    /// Tiers skipped as provably empty on this thread (see [`Tier::need`]), for tests.
    static SKIPPED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Tiers are checked for documents matching enough words before they run (see
/// [`Tier::need`]) for plans of at least this many words. Two-word questions too: the
/// words' bits cost about what the count pass then saves by reusing them (the mix's
/// per-query medians at 100k: sum -3 %, p99 -5 % against checking from three words).
const MIN_WORDS_CHECKED: usize = 2;

/// Fewer hits than this are rendered on the calling thread alone (see `Searcher::execute`).
const MIN_SPLIT_HITS: usize = 4;

/// What rendering a page's hits reads (stored documents, snippets, highlights), owned so that
/// a lone query can render half its page on the segment pool.
#[derive(Clone)]
struct HitRenderer {
    index: BanshiIndex,
    searcher: tantivy::Searcher,
    stores: Arc<HashMap<tantivy::index::SegmentId, Arc<Option<StoreReader>>>>,
    superseded: SegmentFlags,
    /// The query's words to highlight (none when highlighting is off).
    terms: Arc<HashSet<String>>,
    highlight: bool,
}

impl HitRenderer {
    /// The hits of `addrs`, in order (a document that cannot be read is left out).
    fn hits(&self, addrs: &[(f32, DocAddress)]) -> Vec<Hit> {
        let snippets = snippet::Snippets::new(&self.terms);
        let mut hits = Vec::with_capacity(addrs.len());
        for &(score, addr) in addrs {
            let seg = self
                .searcher
                .segment_readers()
                .get(addr.segment_ord as usize);
            let store = seg
                .and_then(|seg| self.stores.get(&seg.segment_id()))
                .and_then(|s| s.as_ref().as_ref());
            // The raw stored bytes, whose body is checked but not copied; tantivy's decoding
            // when they cannot be read so (or the body is not UTF-8, and the hit is skipped).
            let raw = store.and_then(|s| self.index.stored_hit(s, addr.doc_id));
            let from_raw = raw.and_then(|StoredHit { doc, body }| {
                let text = body.text()?;
                Some(self.hit(doc, text, score, &snippets))
            });
            let mut hit = match from_raw {
                Some(hit) => hit,
                None => {
                    let Some(mut d) = self.index.stored_doc(&self.searcher, addr) else {
                        continue;
                    };
                    let body = std::mem::take(&mut d.body);
                    self.hit(d.into(), &body, score, &snippets)
                }
            };
            hit.superseded = seg
                .and_then(|seg| self.superseded.get(&seg.segment_id()))
                .is_some_and(|o| o.get(addr.doc_id as usize) == Some(&true));
            hits.push(hit);
        }
        hits
    }

    /// `d`'s hit, its snippet from `body` (its materials when the body is blank).
    fn hit(&self, d: HitDoc, body: &str, score: f32, snippets: &snippet::Snippets) -> Hit {
        let a = self.index.analyzer();
        let materials;
        let body_source = if body.trim().is_empty() {
            materials = d.materials.join("；");
            &materials
        } else {
            body
        };
        let snip = snippets.snippet(a, body_source, snippet::SNIPPET_CHARS);
        let title_highlighted = if self.highlight {
            snippets.highlight(a, &d.title)
        } else {
            let mut t = String::new();
            snippet::escape_into(&mut t, &d.title);
            t
        };
        Hit {
            id: d.id,
            path: d.path,
            kind: d.kind,
            title: d.title,
            title_highlighted,
            department: d.department,
            region: d.region,
            code: d.code,
            time_limit_days: d.time_limit_days,
            updated: d.updated,
            score,
            snippet: snip,
            superseded: false,
        }
    }
}

/// A task run on every segment of a search, by [`Searcher::map_segments`].
type SegmentTask<R> = Arc<dyn Fn(u32, &SegmentReader) -> tantivy::Result<R> + Send + Sync>;

/// Counts a search as running while it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(n: &'a AtomicUsize) -> InFlight<'a> {
        n.fetch_add(1, Ordering::Relaxed);
        InFlight(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A per-segment value for every segment of `searcher`, from `cache`, building missing ones
/// with `build` and forgetting those of segments gone (merged away). Segments are immutable,
/// so a value is built once per segment, not per query.
fn per_segment<T>(
    cache: &std::sync::Mutex<HashMap<tantivy::index::SegmentId, Arc<T>>>,
    searcher: &tantivy::Searcher,
    build: impl Fn(&tantivy::SegmentReader) -> T,
) -> Arc<HashMap<tantivy::index::SegmentId, Arc<T>>> {
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    let live: HashSet<tantivy::index::SegmentId> = searcher
        .segment_readers()
        .iter()
        .map(|s| s.segment_id())
        .collect();
    cache.retain(|id, _| live.contains(id));
    for seg in searcher.segment_readers() {
        cache
            .entry(seg.segment_id())
            .or_insert_with(|| Arc::new(build(seg)));
    }
    Arc::new(cache.clone())
}

/// Every term of a string fast column, indexed by ordinal. One stream over the dictionary:
/// `ord_to_str` per ordinal decompresses a whole dictionary block each time (~0.4 s per
/// commit at 100k documents where the version priors did that for four columns).
pub(crate) fn column_terms(column: &tantivy::columnar::StrColumn) -> Vec<String> {
    column_map(column, str::to_owned)
}

/// `f` of every term of a string column, by ordinal, reading the dictionary as one stream and
/// without an owned copy of each term (see [`column_terms`]).
pub(crate) fn column_map<T: Default + Clone>(
    column: &tantivy::columnar::StrColumn,
    mut f: impl FnMut(&str) -> T,
) -> Vec<T> {
    let mut out = vec![T::default(); column.num_terms()];
    match column.dictionary().stream() {
        Ok(mut s) => {
            while s.advance() {
                if let Some(slot) = out.get_mut(s.term_ord() as usize) {
                    *slot = f(&String::from_utf8_lossy(s.key()));
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read a fast column's dictionary"),
    }
    out
}

use versions::SegmentFlags;

/// Score factor of a superseded version: the current one ranks first, the old one stays
/// findable right after it.
const SUPERSEDED: f32 = 0.5;

/// One tier of a plan: what its documents match, and clauses that only rank them, scored
/// where they can change the page (see [`ranked`]).
struct Tier {
    query: Box<dyn Query>,
    bonus: Vec<ranked::Bonus>,
    /// A document of this tier matches at least this many of the plan's `words` (see
    /// `Searcher::execute`, which skips a tier no document can match); `None` when not known.
    need: Option<usize>,
}

impl Tier {
    fn new(query: Box<dyn Query>) -> Tier {
        Tier {
            query,
            bonus: Vec::new(),
            need: None,
        }
    }
}

/// The query for one request, split into tiers.
struct Plan {
    /// Exact code/id/title matches, then all-words, then any-word.
    tiers: Vec<Tier>,
    /// The union of the tiers (for totals and facets), before filters.
    matches: Box<dyn Query>,
    /// Restrictions every hit must satisfy except facet filters.
    common: Vec<(Occur, Box<dyn Query>)>,
    /// Words to highlight.
    highlight: HashSet<String>,
    /// Multiplicative ranking priors.
    priors: Priors,
    /// How many leading tiers are strong matches (exact, all words): when they find nothing,
    /// the query as typed is probably not what was meant, and fallbacks run.
    strong: usize,
    /// How many leading tiers look up exact keys (code, id, whole title): the few documents
    /// sharing one key, searched without the segment pool (see [`Searcher::run`]).
    exact_tiers: usize,
    /// The words a document of the all-words tier matches every one of (see [`Tier::need`]).
    words: Vec<Box<dyn Query>>,
    /// The clauses of `matches` besides `words` (the exact tier, official forms), when
    /// `matches` is their union (not after a fallback).
    rest: Option<Vec<Box<dyn Query>>>,
    /// Whether the tiers together match exactly `matches`, so a walk through every tier has
    /// seen every match once (tiers exclude their predecessors). Not after a fallback: only
    /// its strong tiers join, while `matches` takes all of its matches.
    tiers_cover: bool,
}

impl Plan {
    /// Add `alt`'s strong tiers after this plan's strong tiers (a query understood another
    /// way ranks after the query as typed, before its partial matches).
    fn with_fallback(mut self, alt: Plan) -> Plan {
        let n = alt.strong.min(alt.tiers.len());
        let at = self.strong.min(self.tiers.len());
        self.rest = None;
        for (i, mut t) in alt.tiers.into_iter().take(n).enumerate() {
            // Its words are the alternative's, not this plan's.
            t.need = None;
            self.tiers.insert(at + i, t);
        }
        self.strong = at + n;
        self.matches = Box::new(BooleanQuery::new(vec![
            (Occur::Should, self.matches),
            (Occur::Should, alt.matches),
        ]));
        self.highlight.extend(alt.highlight);
        self.priors = alt.priors;
        self.tiers_cover = false;
        self
    }
}

/// Most "did you mean" suggestions in a response.
const MAX_SUGGESTIONS: usize = 5;

/// Ranking priors from what the question asks for, applied as score factors (so they reorder
/// near-ties at any BM25 scale without swamping it). Citizens typing a bare item name want the
/// service guide, not a material list or the law behind it; "需要什么材料" wants the material
/// list, "多久" the time limits, "通知" a notice. And an item name without an action word
/// (营业执照怎么办) wants the new application, not its 变更/注销/补领.
#[derive(Debug, Clone)]
struct Priors {
    /// Factor per kind, indexed like [`Kind::ALL`].
    kind: [f32; 5],
    /// Bits of [`ACTIONS`] the question did not ask for; a title with one is damped.
    unasked: u16,
    /// Title action masks per segment (see `Searcher::action_masks`).
    masks: Arc<HashMap<tantivy::index::SegmentId, Arc<Vec<u16>>>>,
    /// Superseded versions per segment (see `Searcher::superseded`).
    superseded: SegmentFlags,
    /// Decoded facet columns per segment, for the kinds (see `Searcher::segment_facets`).
    facets: facet::FacetCache,
}

impl Priors {
    fn for_query(norm: &str, words: &[String]) -> Priors {
        let has = |keys: &[&str]| keys.iter().any(|k| norm.contains(k));
        let materials = has(&[
            "材料",
            "带什么",
            "需要什么",
            "准备什么",
            "要什么",
            "提交什么",
            "清单",
        ]);
        let time = has(&[
            "多久",
            "多长时间",
            "几天",
            "几个工作日",
            "时限",
            "多少天",
            "什么时候能",
        ]);
        // 时限 names the time-limit table itself; 多久 asks about one item, whose guide states it.
        let table = has(&["时限", "时间表", "一览表"]);
        // Whole words only: 公告期 (a legal term) is not a request for a 公告.
        let notice = words.iter().any(|w| {
            ["通知", "公告", "放假", "停水", "停电", "调整", "通告"].contains(&w.as_str())
        });
        let law = has(&["条例", "办法", "规定", "法规", "细则", "法律"])
            || norm.ends_with('法')
            || crate::corpus::is_article_start(norm.split_whitespace().last().unwrap_or(""));
        let mut kind = [1.0f32; 5];
        for (i, k) in Kind::ALL.iter().enumerate() {
            kind[i] = match k {
                Kind::Guide => 1.0,
                Kind::Material if materials => 1.5,
                Kind::Timeline if table => 1.6,
                Kind::Timeline if time => 1.0,
                Kind::Notice if notice => 1.5,
                Kind::Law if law => 1.4,
                Kind::Law => 0.8,
                _ => 0.72,
            };
        }
        let mut unasked = 0u16;
        for (i, a) in ACTIONS.iter().enumerate() {
            if !norm.contains(a) && !words.iter().any(|w| w.contains(a)) {
                unasked |= 1 << i;
            }
        }
        Priors {
            kind,
            unasked,
            masks: Arc::new(HashMap::new()),
            superseded: Arc::new(HashMap::new()),
            facets: Arc::new(HashMap::new()),
        }
    }

    /// The largest [`Self::factor`] of any document: the kind's, the others only damp.
    fn max_factor(&self) -> f32 {
        self.kind.iter().copied().fold(1.0, f32::max)
    }

    /// The per-document factor of the score, from the kind and title columns of a segment,
    /// decoded once per segment (see [`facet::SegmentFacets::kinds`] and
    /// `Searcher::action_masks`): it runs for every matching document.
    fn factor(&self, seg: &tantivy::SegmentReader) -> impl Fn(tantivy::DocId) -> f32 {
        let id = seg.segment_id();
        let facets = self
            .facets
            .get(&id)
            .cloned()
            .unwrap_or_else(|| Arc::new(facet::SegmentFacets::load(seg)));
        // kind ord → factor, computed once per segment.
        let by_ord: Vec<f32> = facets
            .kinds()
            .map(|(_, values)| values)
            .unwrap_or_default()
            .iter()
            .map(|k| {
                Kind::parse(k)
                    .and_then(|k| Kind::ALL.iter().position(|x| *x == k))
                    .map_or(1.0, |i| self.kind[i])
            })
            .collect();
        let unasked = self.unasked;
        let masks = self.masks.get(&id).cloned();
        let old = self.superseded.get(&id).cloned();
        move |doc| {
            let mut f = 1.0;
            if let Some((ords, _)) = facets.kinds() {
                if let Some(&ord) = ords.get(doc as usize) {
                    f *= by_ord.get(ord as usize).copied().unwrap_or(1.0);
                }
            }
            if let Some(m) = masks.as_ref().and_then(|m| m.get(doc as usize)) {
                if m & unasked != 0 {
                    f *= 0.85;
                }
            }
            if old
                .as_ref()
                .is_some_and(|o| o.get(doc as usize) == Some(&true))
            {
                f *= SUPERSEDED;
            }
            f
        }
    }
}

/// Structural references (第12条, 第3章) in normalized text.
fn article_refs(norm: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in norm.match_indices('第') {
        let rest = &norm[i + '第'.len_utf8()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Some(unit) = rest[digits..].chars().next() {
            let word = format!("第{}{unit}", &rest[..digits]);
            if digits > 0 && !crate::analysis::normalize::article_spellings(&word).is_empty() {
                out.push(word);
            }
        }
    }
    out
}

/// The prefix of national laws' titles, often left out when typed.
const NATIONAL: &str = "中华人民共和国";

/// How the titles of laws and regulations end.
const LAW_TITLE_ENDINGS: [&str; 5] = ["法", "条例", "规定", "办法", "细则"];

/// Code-shaped runs inside a query (事项编码YC0610000102 → yc0610000102, 职权编码210430049000 →
/// 210430049000): maximal runs of ASCII letters and digits, in normalized (lower-case) text, of
/// at least [`MIN_CODE_CHARS`] characters with a digit in them. Item codes and ids are glued to a
/// label or written inside a sentence; each run is tried as a whole code or id.
fn code_tokens(norm: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for run in norm.split(|c: char| !c.is_ascii_alphanumeric()) {
        if run.len() >= MIN_CODE_CHARS
            && run.bytes().any(|b| b.is_ascii_digit())
            && !out.iter().any(|o| o == run)
        {
            out.push(run.to_string());
        }
    }
    out
}

/// Shortest code-shaped run (see [`code_tokens`]): item codes are 10+ characters, 职权编码 12
/// digits; shorter runs are years, article numbers or phone numbers.
const MIN_CODE_CHARS: usize = 8;

/// Words that say what kind of answer a question wants (材料, 多久) or how it ends (办好, 拿到),
/// not what it is about. Beside a subject word they only rank: 离婚需要带什么材料 wants the
/// divorce item even where its page never says 材料, not 结婚登记材料清单 for matching 材料.
/// The kind priors ([`Priors`]) carry the intent itself.
const INTENT_WORDS: [&str; 14] = [
    "材料",
    "准备",
    "多久",
    "几天",
    "多长时间",
    "多少天",
    "办好",
    "办完",
    "拿到",
    "能拿到",
    "到账",
    "批",
    "能批",
    "下来",
];

fn is_intent_word(word: &str) -> bool {
    INTENT_WORDS.contains(&word)
}

/// The fields a phrase is looked for in, and their boosts.
const PHRASE_FIELDS: [(&str, f32); 3] = [
    (names::TITLE, 2.0),
    (names::MATERIALS, 1.0),
    (names::BODY, 1.0),
];

/// The most a BM25 clause over `terms` (one term, or a phrase's) scores in any document: its
/// weight, idf × (1 + k1), which the term-frequency factor only approaches. Infinite (never
/// skip) when the statistics cannot be read.
fn bm25_bound(stats: &dyn tantivy::query::Bm25StatisticsProvider, terms: &[Term]) -> f32 {
    let weight = match terms {
        [term] => conjunction::term_bm25(stats, term),
        _ => tantivy::query::Bm25Weight::for_terms(stats, terms),
    };
    weight.map_or(f32::INFINITY, |w| w.max_score())
}

/// One search's BM25 statistics, each read from the index once. A question's terms are
/// weighed again and again: for its plan's bounds, for each tier's weight and each tier's
/// ranking-only clauses, each time summing a term's document frequency over the segments (a
/// term-dictionary lookup per segment): for a colloquial question at 100k documents the
/// weights of one tier took 90 µs, as long as planning it.
struct Stats<'a> {
    searcher: &'a tantivy::Searcher,
    /// Its terms' entries per segment, read once (see [`terms`]).
    infos: terms::TermInfos,
    doc_freq: RefCell<FxHashMap<Term, u64>>,
    tokens: RefCell<FxHashMap<Field, u64>>,
    /// Single terms' weights (a length table each, computed from the statistics).
    weights: RefCell<FxHashMap<Term, tantivy::query::Bm25Weight>>,
}

impl<'a> Stats<'a> {
    fn new(searcher: &'a tantivy::Searcher) -> Stats<'a> {
        Stats {
            searcher,
            infos: terms::TermInfos::new(searcher),
            doc_freq: Default::default(),
            tokens: Default::default(),
            weights: Default::default(),
        }
    }

    /// `term`'s BM25 weight (see [`conjunction::term_bm25`]), computed once.
    fn term_weight(&self, term: &Term) -> tantivy::Result<tantivy::query::Bm25Weight> {
        if let Some(w) = self.weights.borrow().get(term) {
            return Ok(w.clone());
        }
        let w = conjunction::term_bm25(self, term)?;
        self.weights.borrow_mut().insert(term.clone(), w.clone());
        Ok(w)
    }

    /// The most a BM25 clause over `terms` scores anywhere (see [`bm25_bound`]).
    fn bound(&self, terms: &[Term]) -> f32 {
        match terms {
            [term] => self
                .term_weight(term)
                .map_or(f32::INFINITY, |w| w.max_score()),
            _ => bm25_bound(self, terms),
        }
    }

    /// The weights of `terms` for a conjunction to run with.
    fn weights_of<'t>(
        &self,
        terms: impl Iterator<Item = &'t Term>,
    ) -> tantivy::Result<conjunction::TermWeights> {
        let mut out = FxHashMap::default();
        for t in terms {
            if !out.contains_key(t) {
                out.insert(t.clone(), self.term_weight(t)?);
            }
        }
        Ok(conjunction::TermWeights(Arc::new(out)))
    }

    /// Scoring with these statistics (the same figures as the searcher's own).
    fn scoring(&self) -> EnableScoring<'_> {
        EnableScoring::enabled_from_statistics_provider(self, self.searcher)
    }
}

impl tantivy::query::Bm25StatisticsProvider for Stats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        if let Some(&n) = self.tokens.borrow().get(&field) {
            return Ok(n);
        }
        let n = self.searcher.total_num_tokens(field)?;
        self.tokens.borrow_mut().insert(field, n);
        Ok(n)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searcher.total_num_docs()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        if let Some(&n) = self.doc_freq.borrow().get(term) {
            return Ok(n);
        }
        // As `tantivy::Searcher::doc_freq` sums it, each segment's entry kept for the passes
        // that read the term's postings there.
        let mut n = 0;
        for seg in self.searcher.segment_readers() {
            n += self
                .infos
                .get(seg, term)?
                .1
                .map_or(0, |i| u64::from(i.doc_freq));
        }
        self.doc_freq.borrow_mut().insert(term.clone(), n);
        Ok(n)
    }
}

const TEXT_FIELDS: [(&str, f32); 5] = [
    (names::TITLE, 4.0),
    (names::TAGS, 1.5),
    (names::MATERIALS, 1.2),
    (names::LEGAL_BASIS, 1.0),
    (names::BODY, 1.0),
];

impl Searcher {
    /// A searcher that picks up every commit of `index` shortly after it lands.
    pub fn new(index: BanshiIndex) -> Result<Searcher, SearchError> {
        let reader = index
            .tantivy()
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Searcher {
            index,
            reader,
            title_actions: Default::default(),
            versions: Default::default(),
            facets: Default::default(),
            stores: Default::default(),
            dense: Some(Default::default()),
            pool_threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            segment_pool: std::sync::OnceLock::new(),
            pool_min_docs: POOL_MIN_DOCS,
            in_flight: AtomicUsize::new(0),
            prune: Some(conjunction::CUT_MIN_DOCS),
        })
    }

    /// Search a lone query's segments on `threads` threads when the index holds at least
    /// `min_docs` documents (the default is one thread per core, at most 8, from
    /// [`POOL_MIN_DOCS`]; 1 thread searches every query serially), and render its hits on
    /// two at any size. See [`Searcher::run`].
    pub fn with_segment_pool(mut self, threads: usize, min_docs: u64) -> Searcher {
        self.pool_threads = threads;
        self.segment_pool = std::sync::OnceLock::new();
        self.pool_min_docs = min_docs;
        self
    }

    /// Without ruling documents out of a page before their bonus clauses are looked at (see
    /// `conjunction::Cut`), with the phrase bonus asked in every tier, not only the
    /// all-words tier (see `plan`), and without skipping tiers that cannot match (see
    /// [`Tier::need`]): the same pages, slower. For measuring and testing them.
    #[doc(hidden)]
    pub fn without_pruning(mut self) -> Searcher {
        self.prune = None;
        self
    }

    /// Without keeping dense terms' documents as bit sets (see [`dense`]): every posting
    /// decoded for every query, as before the cache. For measuring and testing it.
    #[doc(hidden)]
    pub fn without_dense_terms(mut self) -> Searcher {
        self.dense = None;
        self
    }

    /// Run `query` through `collector`. A query running alone searches its segments on all
    /// cores at once: a large index has a few big segments, and at 100k documents this cut the
    /// slowest questions' latency by about a third. Under concurrent load the cores are busy
    /// with other queries anyway, and handing segments to the pool only adds overhead (~10 %
    /// fewer queries per second at 64 connections when every query used it), so then each
    /// query searches its segments on its own thread. Handing segments over costs tens of
    /// microseconds per pass, several passes per query: on the real corpus's 5k documents that
    /// raised the mix's median from 0.65 to 1.0 ms, hence [`POOL_MIN_DOCS`].
    ///
    /// `few` says the query matches few documents (an exact-key lookup): handing its segments
    /// to the pool costs more than searching them (~45 µs against ~12 µs at 100k documents).
    ///
    /// The pool is our own ([`pool`]): the calling thread searches the first segment and any
    /// other no worker has started, and workers stay awake briefly between a query's passes.
    /// With tantivy's executor the caller slept while a rayon pool took every segment, and
    /// the same query's runs swung between parallel and serial speed on a 2-core VM (the
    /// mix's mean at 100k fell from 0.67 to 0.56 ms with this pool).
    fn run<C: Collector + 'static>(
        &self,
        stats: &Stats,
        query: &dyn Query,
        collector: C,
        few: bool,
    ) -> tantivy::Result<C::Fruit> {
        self.run_cut(stats, query, collector, few, None, None)
    }

    /// [`Self::run`], a conjunction ruling out documents that cannot reach the page by `cut`;
    /// `known`, the documents holding every word of an all-words tier (a superset of its
    /// matches), given to its conjunction or, for a tier tantivy runs, to its terms (see
    /// [`within`]).
    fn run_cut<C: Collector + 'static>(
        &self,
        stats: &Stats,
        query: &dyn Query,
        collector: C,
        few: bool,
        cut: Option<conjunction::Cut>,
        known: Option<at_least::Candidates>,
    ) -> tantivy::Result<C::Fruit> {
        let searcher = stats.searcher;
        let scoring = if collector.requires_scoring() {
            stats.scoring()
        } else {
            EnableScoring::disabled_from_searcher(searcher)
        };
        let mut query = flatten::flatten(query);
        let scores = collector.requires_scoring();
        // The search's dense terms, and the weights the plan's bounds and the earlier tiers
        // weighed.
        let prepare = |c: conjunction::Conjunction| -> tantivy::Result<conjunction::Conjunction> {
            let c = c
                .with_dense(self.dense(searcher))
                .with_infos(stats.infos.clone());
            Ok(if scores {
                let weights = stats.weights_of(c.terms())?;
                c.with_weights(weights)
            } else {
                c
            })
        };
        if let Some(mut c) = conjunction::Conjunction::read(&*query) {
            if let Some(known) = known {
                c = c.with_known(known);
            }
            query = Box::new(prepare(match cut {
                Some(cut) => c.with_cut(cut),
                None => c,
            })?);
        } else if let Some(known) = known {
            // An all-words tier of nested words (an unknown compound's parts): tantivy's, its
            // terms read at the documents holding every word.
            query = within::within(&*query, &known);
        } else if let Some(cut) = cut.filter(|_| scores) {
            // A union holding a conjunction (an any-word tier with an unknown compound's
            // parts): that conjunction runs here, under the cut.
            let bound = |t: &Term| stats.bound(std::slice::from_ref(t));
            let inner = conjunction::with_inner_cut(&*query, &cut, &bound, &prepare)?;
            if let Some(q) = inner {
                query = q;
            }
        }
        // tantivy's `Searcher::search`, segment by segment.
        let weight: Arc<dyn tantivy::query::Weight> = Arc::from(query.weight(scoring)?);
        let collector = Arc::new(collector);
        let c = Arc::clone(&collector);
        let fruits = self.map_segments(
            searcher,
            few,
            Arc::new(move |ord, reader| c.collect_segment(&*weight, ord, reader)),
        )?;
        collector.merge_fruits(fruits)
    }

    /// `task` on every segment of `searcher`, results in segment order: on the segment pool
    /// when the query runs alone on a large index and is not `few` (see [`Self::run`]), else
    /// on this thread.
    fn map_segments<R: Send + 'static>(
        &self,
        searcher: &tantivy::Searcher,
        few: bool,
        task: SegmentTask<R>,
    ) -> tantivy::Result<Vec<R>> {
        let readers = searcher.segment_readers();
        let pool = (!few && readers.len() > 1 && searcher.num_docs() >= self.pool_min_docs)
            .then(|| self.lone_pool())
            .flatten();
        let Some(pool) = pool else {
            return (0u32..)
                .zip(readers)
                .map(|(ord, reader)| task(ord, reader))
                .collect();
        };
        let tasks = (0u32..)
            .zip(readers)
            .map(|(ord, reader)| {
                let (task, reader) = (Arc::clone(&task), reader.clone());
                Box::new(move || task(ord, &reader))
                    as Box<dyn FnOnce() -> tantivy::Result<R> + Send>
            })
            .collect();
        let panicked = || {
            Err(tantivy::TantivyError::InternalError(
                "a segment's search panicked".to_string(),
            ))
        };
        pool.run(tasks, panicked).into_iter().collect()
    }

    /// `counter`'s totals and facets over `query`'s documents: gathered as bits from posting
    /// blocks where the query is built of terms (see `flatten::Bits` and
    /// `FacetCounts::count_bits_of`; a question's union of words, a filter beside it, an
    /// unknown compound's parts all required), else through its scorers.
    fn count(
        &self,
        stats: &Stats,
        query: &dyn Query,
        counter: facet::FacetCounts,
        dense: &Option<dense::DenseCache>,
    ) -> tantivy::Result<facet::FacetFruit> {
        let Some(bits) = flatten::Bits::of(query) else {
            return self.run(stats, query, counter, false);
        };
        let (bits, c, dense) = (Arc::new(bits), counter.clone(), dense.clone());
        let infos = stats.infos.clone();
        let fruits = self.map_segments(
            stats.searcher,
            false,
            Arc::new(move |ord, seg| {
                let kept = dense.as_ref().and_then(|d| d.get(&seg.segment_id()));
                c.count_bits_of(ord, seg, &bits, kept.map(|k| &**k), &infos)
            }),
        )?;
        counter.merge_fruits(fruits)
    }

    /// Each word's documents (deleted ones too) as bits, per segment, per word: what a tier
    /// whose documents must match some number of the words can be checked against before
    /// it runs (see [`Tier::need`]); `None` when a word is not built of terms.
    fn word_bits(
        &self,
        stats: &Stats,
        words: &[Box<dyn Query>],
        dense: &Option<dense::DenseCache>,
    ) -> tantivy::Result<Option<WordBits>> {
        let Some(words) = words
            .iter()
            .map(|w| flatten::Bits::of(&**w))
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(None);
        };
        let (words, dense, infos) = (Arc::new(words), dense.clone(), stats.infos.clone());
        let per_segment = self.map_segments(
            stats.searcher,
            false,
            Arc::new(move |_, seg| {
                let kept = dense.as_ref().and_then(|d| d.get(&seg.segment_id()));
                words
                    .iter()
                    .map(|w| w.read_segment(seg, kept.map(|k| &**k), &infos))
                    .collect::<tantivy::Result<Vec<_>>>()
            }),
        )?;
        Ok(Some(Arc::new(per_segment)))
    }

    /// The segment pool, when this query runs alone (see [`Self::run`]).
    fn lone_pool(&self) -> Option<&pool::Pool> {
        if self.pool_threads < 2 || self.in_flight.load(Ordering::Relaxed) > 1 {
            return None;
        }
        self.segment_pool
            .get_or_init(|| segment_pool(self.pool_threads))
            .as_ref()
    }

    /// The index searched.
    pub fn index(&self) -> &BanshiIndex {
        &self.index
    }

    /// Make the latest commit visible now (tests, after a sync in-process).
    pub fn reload(&self) -> Result<(), SearchError> {
        Ok(self.reader.reload()?)
    }

    /// Compute what queries derive from the current snapshot (title action masks, version
    /// priors, facet columns), so the first query after a commit does not pay for it: at 100k
    /// documents that was a few hundred milliseconds.
    pub fn warm(&self) {
        let searcher = self.tantivy_searcher();
        self.action_masks(&searcher);
        self.superseded(&searcher);
        self.segment_facets(&searcher);
        self.stores(&searcher);
    }

    /// Identifies the index snapshot searches currently see; changes with every reload.
    pub fn generation(&self) -> u64 {
        self.reader.searcher().generation().generation_id()
    }

    /// Number of documents visible.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The current tantivy searcher.
    pub fn tantivy_searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// The action-word masks of every segment of `searcher`, computing missing ones.
    fn action_masks(
        &self,
        searcher: &tantivy::Searcher,
    ) -> Arc<HashMap<tantivy::index::SegmentId, Arc<Vec<u16>>>> {
        per_segment(&self.title_actions, searcher, |seg| {
            // Derived when indexed (see `schema::title_actions`); a u16 per document here,
            // read for every match.
            let mut masks = vec![0u16; seg.max_doc() as usize];
            if let Ok(col) = seg.fast_fields().u64(names::TITLE_ACTIONS) {
                for (doc, slot) in masks.iter_mut().enumerate() {
                    *slot = col.first(doc as u32).unwrap_or(0) as u16;
                }
            }
            masks
        })
    }

    /// The decoded facet columns of every segment of `searcher`, decoding missing ones.
    fn segment_facets(&self, searcher: &tantivy::Searcher) -> facet::FacetCache {
        per_segment(&self.facets, searcher, facet::SegmentFacets::load)
    }

    /// The dense-term caches of every segment of `searcher` (see [`dense`]), when kept.
    fn dense(&self, searcher: &tantivy::Searcher) -> Option<dense::DenseCache> {
        let cache = self.dense.as_ref()?;
        Some(per_segment(cache, searcher, dense::DenseTerms::new))
    }

    /// The stored-document readers of every segment of `searcher`, opening missing ones.
    fn stores(
        &self,
        searcher: &tantivy::Searcher,
    ) -> Arc<HashMap<tantivy::index::SegmentId, Arc<Option<StoreReader>>>> {
        per_segment(&self.stores, searcher, |seg| {
            seg.get_store_reader(DOC_STORE_BLOCKS)
                .map_err(|e| tracing::warn!(error = %e, "opening a segment's store failed"))
                .ok()
        })
    }

    /// Which documents of `searcher` are superseded versions (see [`versions`]).
    fn superseded(&self, searcher: &tantivy::Searcher) -> SegmentFlags {
        self.versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .flags(searcher)
    }

    fn analyzer(&self) -> &Analyzer {
        self.index.analyzer()
    }

    fn field(&self, name: &str) -> Field {
        self.index
            .tantivy()
            .schema()
            .get_field(name)
            .expect("schema field")
    }

    /// Run a search, without the fallbacks that need title suggestions (see
    /// [`Searcher::search_with`]).
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, SearchError> {
        self.search_with(req, None)
    }

    /// Run a search. When the query as typed finds no document on all its words and
    /// `suggester` (built from this index) is given, two fallbacks run: a query of ASCII letters
    /// is read as pinyin or initials of title words (`shenfenzheng`, `sfz` → 身份证), and a
    /// query with one wrong character is corrected from the titles (营业执找 → 营业执照); what
    /// was searched is reported in `interpreted_as`, and `suggestions` lists queries to try.
    /// Queries that find something the normal way never pay for this.
    pub fn search_with(
        &self,
        req: &SearchRequest,
        suggester: Option<&suggest::Suggester>,
    ) -> Result<SearchResponse, SearchError> {
        let t0 = Instant::now();
        let (limit, offset) = req.validate()?;
        let _running = InFlight::enter(&self.in_flight);
        let searcher = self.reader.searcher();
        let parsed = ParsedQuery::parse(&req.q);
        let stats = Stats::new(&searcher);
        let plan = self.plan(&stats, &parsed);
        let plan_us = t0.elapsed().as_micros() as u64;
        let (mut resp, strong) = self.execute(&stats, req, plan, limit, offset)?;
        let mut timings = Timings {
            plan_us,
            ..resp.timings
        };
        let text = parsed.text.trim();
        if let Some(sug) = suggester.filter(|_| strong == 0 && !text.is_empty()) {
            let t1 = Instant::now();
            let norm = crate::analysis::normalize::normalize_text(text);
            let alt = if norm.chars().all(|c| c.is_ascii_lowercase() || c == ' ') {
                sug.pinyin_words(&norm)
            } else {
                sug.correct(&norm)
            };
            let mut suggestions: Vec<String> = Vec::new();
            if let Some(alt) = alt.filter(|a| *a != norm) {
                let alt_parsed = ParsedQuery {
                    text: alt.clone(),
                    ..parsed.clone()
                };
                let plan = self
                    .plan(&stats, &parsed)
                    .with_fallback(self.plan(&stats, &alt_parsed));
                let (second, strong) = self.execute(&stats, req, plan, limit, offset)?;
                if strong > 0 {
                    resp = second;
                    resp.interpreted_as = Some(alt.clone());
                }
                suggestions.push(alt);
            }
            for s in sug.suggest(text, MAX_SUGGESTIONS) {
                suggestions.push(s.title);
            }
            let mut seen = HashSet::new();
            suggestions.retain(|s| *s != req.q && seen.insert(s.clone()));
            suggestions.truncate(MAX_SUGGESTIONS);
            resp.suggestions = suggestions;
            timings.fallback_us = t1.elapsed().as_micros() as u64;
        }
        resp.timings = timings;
        resp.took_us = t0.elapsed().as_micros() as u64;
        Ok(resp)
    }

    /// Run `plan`; also returns how many documents its strong tiers matched.
    fn execute(
        &self,
        stats: &Stats,
        req: &SearchRequest,
        mut plan: Plan,
        limit: usize,
        offset: usize,
    ) -> Result<(SearchResponse, u64), SearchError> {
        let t0 = Instant::now();
        let searcher = stats.searcher;
        plan.priors.masks = self.action_masks(searcher);
        plan.priors.superseded = self.superseded(searcher);
        let segment_facets = self.segment_facets(searcher);
        let dense = self.dense(searcher);
        plan.priors.facets = segment_facets.clone();
        let filters = self.filters(req);

        let with = |base: &dyn Query, skip: Option<&str>| -> Box<dyn Query> {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, base.box_clone())];
            clauses.extend(plan.common.iter().map(|(o, q)| (*o, q.box_clone())));
            for (name, q) in &filters {
                if Some(*name) != skip {
                    clauses.push((Occur::Must, q.box_clone()));
                }
            }
            Box::new(BooleanQuery::new(clauses))
        };

        // A conjunction's cut only where a segment is large enough for it to look (weighing
        // its bonuses again per tier is wasted on a small index).
        let prune = self.prune.filter(|&min| {
            searcher
                .segment_readers()
                .iter()
                .any(|s| s.num_docs() as usize > min)
        });
        let filtered: [bool; 4] = facet::FIELDS.map(|name| filters.iter().any(|(n, _)| *n == name));
        // The total and the facets not filtered on; see the pass after the walk.
        let counter = facet::FacetCounts::new(segment_facets.clone(), filtered.map(|f| !f));
        let mut walked: Option<facet::FacetFruit> = None;

        // Hits: walk the tiers, taking the page's share from each.
        let mut hits_addr: Vec<(f32, DocAddress)> = Vec::new();
        let mut total = 0u64;
        let mut strong = 0u64;
        // The plan's words' documents per segment, when a tier may be provably empty.
        let mut word_bits: Option<Option<WordBits>> = None;
        // The documents of the tiers walked so far, which later tiers exclude (see [`docs`]).
        let mut previous = docs::Docs::default();
        for (i, tier) in plan.tiers.iter().enumerate() {
            let need = (offset + limit).saturating_sub(total as usize);
            let skip = offset.saturating_sub(total as usize);
            if need == 0 || hits_addr.len() >= limit {
                // The page is full: the total comes from the facet pass below.
                break;
            }
            // A tier whose documents match `at_least` of the words is empty when no
            // document of any segment does (deleted ones and filters aside: a superset), and
            // is skipped before its weights and bonuses are built: a long question's
            // all-words and all-but-one tiers often match nothing, and building and running
            // them cost 0.3-0.9 ms of a 1.5 ms question at 100k documents. The words' bits
            // then also give the count pass its matches (below). Both checks come before
            // anything is built for the tier: the all-but-one tier's candidates, computed
            // first, cost a long question 45 µs for a tier then skipped.
            if let Some(at_least) = tier.need {
                if word_bits.is_none()
                    && plan.words.len() >= MIN_WORDS_CHECKED
                    && self.prune.is_some()
                {
                    word_bits = Some(self.word_bits(stats, &plan.words, &dense)?);
                }
                if let Some(Some(bits)) = &word_bits {
                    if !bits.iter().any(|seg| at_least::any_with(seg, at_least)) {
                        #[cfg(test)]
                        SKIPPED.with(|c| c.set(c.get() + 1));
                        continue;
                    }
                }
            }
            let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, tier.query.box_clone())];
            // The all-but-one tier visits only the documents the words' bits say have
            // enough of them (see `at_least::AtLeast::with_candidates`); an all-words tier
            // that is nothing but its words takes its documents from those bits too (see
            // `conjunction::Conjunction::with_known`) instead of reading its words again.
            let mut known = None;
            if let (Some(Some(bits)), Some(k)) = (&word_bits, tier.need) {
                let candidates = |k: usize| {
                    let per_segment = searcher
                        .segment_readers()
                        .iter()
                        .zip(bits.iter())
                        .map(|(r, words)| Some((r.segment_id(), at_least::bits_with(words, k)?)))
                        .collect::<Option<HashMap<_, _>>>()?;
                    Some(Arc::new(per_segment))
                };
                if k < plan.words.len() {
                    if let Some(q) = at_least::with_candidates(&*tier.query, candidates) {
                        clauses[0].1 = q;
                    }
                } else if filters.is_empty() && plan.common.is_empty() {
                    known = candidates(k);
                }
            }
            if !previous.is_empty() {
                clauses.push((Occur::MustNot, Box::new(previous.clone())));
            }
            let q = with(&BooleanQuery::new(clauses), None);
            let scoring = stats.scoring();
            let mut bonus = Vec::with_capacity(tier.bonus.len());
            for b in &tier.bonus {
                bonus.push((flatten::flatten(&*b.query).weight(scoring)?.into(), b.bound));
            }
            let ranked = ranked::Ranked {
                limit: limit - hits_addr.len(),
                offset: skip,
                priors: plan.priors.clone(),
                bonus,
                companion: (),
            };
            let cut = prune.map(|min_docs| conjunction::Cut {
                n: ranked.offset + ranked.limit,
                min_docs,
                priors: plan.priors.clone(),
                bonus: tier
                    .bonus
                    .iter()
                    .map(|b| (b.shape.clone(), b.bound))
                    .collect(),
                // The all-words and all-but-one tiers know their words; an any-word tier not.
                one_word: tier.need.is_some(),
            });
            // The last tier of a first page, when the earlier tiers found fewer documents than
            // the page holds (so every one of them is in `hits_addr`): this tier's pass also
            // counts the facets, and the earlier documents are counted from their addresses,
            // which saves a second pass over every match. Long questions reach this tier with
            // the earlier ones empty; at 100k documents that pass was 4-5 ms of 16-20.
            let last = i + 1 == plan.tiers.len();
            let few = i < plan.exact_tiers;
            let count =
                if plan.tiers_cover && last && offset == 0 && hits_addr.len() as u64 == total {
                    let (top, fruit) =
                        self.run_cut(stats, &*q, ranked.with(counter.clone()), few, cut, known)?;
                    let earlier: Vec<DocAddress> = hits_addr.iter().map(|(_, a)| *a).collect();
                    let earlier = counter.count_docs(searcher, &earlier)?;
                    let count = fruit.0 as usize;
                    walked = Some(counter.merge_fruits(vec![earlier, fruit])?);
                    hits_addr.extend(top);
                    count
                } else if last {
                    let (top, count) =
                        self.run_cut(stats, &*q, ranked.with(Count), few, cut, known)?;
                    hits_addr.extend(top);
                    count
                } else {
                    let (top, docs) = self.run_cut(
                        stats,
                        &*q,
                        ranked.with(docs::DocsCollector),
                        few,
                        cut,
                        known,
                    )?;
                    hits_addr.extend(top);
                    let count = docs.len() as usize;
                    previous = previous.union(docs);
                    count
                };
            total += count as u64;
            if i < plan.strong {
                strong += count as u64;
            }
        }

        let rank_us = t0.elapsed().as_micros() as u64;
        let t1 = Instant::now();
        // Total and facets: each facet is counted over the whole result set under the *other*
        // filters. Facets whose field is not filtered share one pass with the total; each
        // filtered field needs a pass of its own.
        let mut facets = Facets::default();
        // The matches are the words' documents, which a tier's check read, and the rest's.
        let from_words = match (&word_bits, &plan.rest) {
            (Some(Some(words)), Some(rest)) if filters.is_empty() && plan.common.is_empty() => rest
                .iter()
                .map(|q| flatten::Bits::of(&**q))
                .collect::<Option<Vec<_>>>()
                .map(|rest| (Arc::clone(words), rest)),
            _ => None,
        };
        let (count, mut counted) = match (walked, from_words) {
            (Some(fruit), _) => fruit,
            (None, Some((words, rest))) => {
                let (c, dense, rest) = (counter.clone(), dense.clone(), Arc::new(rest));
                let infos = stats.infos.clone();
                let fruits = self.map_segments(
                    searcher,
                    false,
                    Arc::new(move |ord, seg| {
                        let kept = dense.as_ref().and_then(|d| d.get(&seg.segment_id()));
                        let mut bits = vec![0u64; (seg.max_doc() as usize).div_ceil(64)];
                        for w in &words[ord as usize] {
                            bits.iter_mut().zip(w).for_each(|(a, b)| *a |= b);
                        }
                        for r in rest.iter() {
                            let own = r.read_segment(seg, kept.map(|k| &**k), &infos)?;
                            bits.iter_mut().zip(&own).for_each(|(a, b)| *a |= b);
                        }
                        c.count_matched(ord, seg, bits)
                    }),
                )?;
                counter.merge_fruits(fruits)?
            }
            (None, None) => self.count(stats, &*with(&*plan.matches, None), counter, &dense)?,
        };
        total = count;
        for (i, name) in facet::FIELDS.iter().enumerate() {
            if filtered[i] {
                let mut only = [false; 4];
                only[i] = true;
                let (_, mut own) = self.count(
                    stats,
                    &*with(&*plan.matches, Some(name)),
                    facet::FacetCounts::new(segment_facets.clone(), only),
                    &dense,
                )?;
                counted[i] = std::mem::take(&mut own[i]);
            }
        }
        let n = req.facet_limit.unwrap_or(DEFAULT_FACET_VALUES);
        let [kind, department, region, audience] = counted.map(|c| facet::top(c, n));
        let facets_distinct = FacetSizes {
            kind: kind.1,
            department: department.1,
            region: region.1,
            audience: audience.1,
        };
        facets.kind = kind.0;
        facets.department = department.0;
        facets.region = region.0;
        facets.audience = audience.0;

        let count_us = t1.elapsed().as_micros() as u64;
        let t2 = Instant::now();
        let highlight = req.highlight.unwrap_or(true);
        let render = HitRenderer {
            index: self.index.clone(),
            searcher: searcher.clone(),
            stores: if hits_addr.is_empty() {
                Default::default()
            } else {
                self.stores(searcher)
            },
            superseded: plan.priors.superseded.clone(),
            terms: Arc::new(if highlight {
                std::mem::take(&mut plan.highlight)
            } else {
                HashSet::new()
            }),
            highlight,
        };
        let hits = match self.lone_pool() {
            // A lone query's hits on two cores too, on an index of any size: reading and
            // highlighting ten hits was a quarter of the mix's time at 100k documents, and
            // more of it on the real corpus's long laws (there the pool's worker is mostly
            // asleep, and waking it still pays: the mix's mean 257 → 229-233 µs).
            Some(pool) if hits_addr.len() >= MIN_SPLIT_HITS => {
                let half = hits_addr.len().div_ceil(2);
                let later = hits_addr.split_off(half);
                type Task = Box<dyn FnOnce() -> Option<Vec<Hit>> + Send>;
                let tasks: Vec<Task> = [hits_addr, later]
                    .into_iter()
                    .map(|part| {
                        let render = render.clone();
                        Box::new(move || Some(render.hits(&part))) as Task
                    })
                    .collect();
                // A half that panicked answers an engine error (a 5xx), never half a page.
                let halves: Option<Vec<Vec<Hit>>> = pool.run(tasks, || None).into_iter().collect();
                halves
                    .ok_or_else(|| {
                        tantivy::TantivyError::InternalError("rendering hits panicked".into())
                    })?
                    .concat()
            }
            _ => render.hits(&hits_addr),
        };
        Ok((
            SearchResponse {
                query: req.q.clone(),
                total,
                took_us: t0.elapsed().as_micros() as u64,
                timings: Timings {
                    rank_us,
                    count_us,
                    hits_us: t2.elapsed().as_micros() as u64,
                    ..Default::default()
                },
                offset,
                limit,
                hits,
                facets,
                facets_distinct,
                interpreted_as: None,
                suggestions: Vec::new(),
                cached: false,
            },
            strong,
        ))
    }

    /// Filters by facet field name (so facets can leave their own out).
    fn filters(&self, req: &SearchRequest) -> Vec<(&'static str, Box<dyn Query>)> {
        let mut out: Vec<(&'static str, Box<dyn Query>)> = Vec::new();
        let kinds: Vec<String> = req
            .kind
            .iter()
            .filter_map(|k| Kind::parse(k))
            .map(|k| k.as_str().to_string())
            .collect();
        for (name, values) in [
            (names::KIND, &kinds),
            (names::DEPARTMENT, &req.department),
            (names::REGION, &req.region),
            (names::AUDIENCE, &req.audience),
        ] {
            let values: Vec<&String> = values.iter().filter(|v| !v.trim().is_empty()).collect();
            if values.is_empty() {
                continue;
            }
            let f = self.field(name);
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .into_iter()
                .map(|v| {
                    let t = Term::from_field_text(f, v.trim());
                    (
                        Occur::Should,
                        Box::new(flatten::BoostedTerm::filter(t)) as Box<dyn Query>,
                    )
                })
                .collect();
            out.push((name, Box::new(BooleanQuery::new(any))));
        }
        if let Some(max) = req.max_days {
            let f = self.field(names::TIME_LIMIT);
            out.push((
                names::TIME_LIMIT,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_u64(f, 0)),
                    Bound::Included(Term::from_field_u64(f, max)),
                )),
            ));
        }
        out
    }

    /// A word matched in any text field, weighted by field.
    fn word_query(&self, word: &str, weight: f32) -> Box<dyn Query> {
        let clauses = TEXT_FIELDS
            .iter()
            .map(|(name, w)| (Occur::Should, self.field_word(name, word, w * weight).0))
            .collect();
        Box::new(BooleanQuery::new(clauses))
    }

    /// `word` in the field `name`, boosted; and its term.
    fn field_word(&self, name: &str, word: &str, boost: f32) -> (Box<dyn Query>, Term) {
        let t = Term::from_field_text(self.field(name), word);
        (Box::new(flatten::BoostedTerm::new(t.clone(), boost)), t)
    }

    /// `words` as a phrase in the field `name`, boosted; and its terms.
    fn field_phrase(
        &self,
        name: &str,
        words: &[(usize, String)],
        slop: u32,
        boost: f32,
    ) -> (Box<dyn Query>, Vec<Term>) {
        let f = self.field(name);
        let terms: Vec<(usize, Term)> = words
            .iter()
            .map(|(p, t)| (*p, Term::from_field_text(f, t)))
            .collect();
        let plain = terms.iter().map(|(_, t)| t.clone()).collect();
        let pq = PhraseQuery::new_with_offset_and_slop(terms, slop);
        (Box::new(BoostQuery::new(Box::new(pq), boost)), plain)
    }

    fn known(&self, stats: &Stats, word: &str) -> bool {
        use tantivy::query::Bm25StatisticsProvider;
        [names::TITLE, names::BODY].iter().any(|n| {
            stats
                .doc_freq(&Term::from_field_text(self.field(n), word))
                .unwrap_or(0)
                > 0
        })
    }

    /// A phrase over title and body; a one-word phrase is a word query.
    fn phrase_query(&self, words: &[(usize, String)], slop: u32, weight: f32) -> Box<dyn Query> {
        if words.len() < 2 {
            return match words.first() {
                Some((_, w)) => self.word_query(w, weight),
                None => Box::new(BooleanQuery::new(vec![])),
            };
        }
        let clauses = PHRASE_FIELDS
            .iter()
            .map(|(n, w)| {
                (
                    Occur::Should,
                    self.field_phrase(n, words, slop, w * weight).0,
                )
            })
            .collect();
        Box::new(BooleanQuery::new(clauses))
    }

    /// [`Self::word_query`] as ranking-only clauses, one per field (so that the largest
    /// bounds, the title's, are decided first), each with the most it can add: BM25's
    /// saturation (idf × (1 + k1)) times the boost.
    fn word_bonus(&self, stats: &Stats, word: &str, weight: f32) -> Vec<ranked::Bonus> {
        TEXT_FIELDS
            .iter()
            .map(|(name, w)| {
                let (query, t) = self.field_word(name, word, w * weight);
                ranked::Bonus {
                    query,
                    bound: w * weight * stats.bound(std::slice::from_ref(&t)),
                    shape: Some(ranked::Shape::Term(t, w * weight)),
                }
            })
            .collect()
    }

    /// [`Self::phrase_query`] of two or more words as ranking-only clauses, one per field,
    /// each with the most it can add: once the title's (the largest bound) is decided, the
    /// page's threshold can rule out the body's, the costly one (it reads the positions of
    /// every document holding the words).
    fn phrase_bonus(
        &self,
        stats: &Stats,
        words: &[(usize, String)],
        slop: u32,
        weight: f32,
    ) -> Vec<ranked::Bonus> {
        PHRASE_FIELDS
            .iter()
            .map(|(n, w)| {
                let (query, terms) = self.field_phrase(n, words, slop, w * weight);
                ranked::Bonus {
                    query,
                    bound: w * weight * stats.bound(&terms),
                    shape: Some(ranked::Shape::Phrase(terms, w * weight)),
                }
            })
            .collect()
    }

    fn plan(&self, stats: &Stats, parsed: &ParsedQuery) -> Plan {
        let searcher = stats.searcher;
        let a = self.analyzer();
        let mut highlight = HashSet::new();
        let mut common: Vec<(Occur, Box<dyn Query>)> = Vec::new();

        for p in &parsed.phrases {
            let words: Vec<(usize, String)> = a
                .groups(p)
                .into_iter()
                .map(|g| (g.position, g.base().to_string()))
                .collect();
            highlight.extend(words.iter().map(|w| w.1.clone()));
            if !words.is_empty() {
                common.push((Occur::Must, self.phrase_query(&words, 0, 1.0)));
            }
        }
        for e in &parsed.excludes {
            let words: Vec<(usize, String)> = a
                .groups(e)
                .into_iter()
                .map(|g| (g.position, g.base().to_string()))
                .collect();
            if !words.is_empty() {
                let phrase = self.phrase_query(&words, 0, 1.0);
                common.push((Occur::MustNot, at_least::as_exclusion(phrase)));
            }
        }
        for (field, value) in &parsed.fields {
            if let Some(q) = self.field_query(searcher, *field, value, &mut highlight) {
                common.push((Occur::Must, q));
            }
        }

        let text = parsed.text.trim();
        let groups: Vec<_> = a.groups(text).into_iter().take(MAX_GROUPS).collect();
        // Colloquial phrases (丢了 → 补领, 补办) add the official words as alternatives.
        let norm = crate::analysis::normalize::normalize_text(text);
        // 第12条 (also typed 第十二条: normalized to digits) is highlighted whole.
        highlight.extend(article_refs(&norm));
        let mut expansions: Vec<String> = Vec::new();
        // word of a colloquial phrase → the official words that satisfy it.
        let mut colloquial_words: std::collections::HashMap<String, Vec<(usize, String)>> =
            Default::default();
        for key in a.colloquial().keys() {
            if norm.contains(key) {
                let official = a.colloquial().of(key);
                expansions.extend(official.iter().cloned());
                for w in a.words(key) {
                    colloquial_words
                        .entry(w)
                        .or_default()
                        .extend(official.iter().cloned().enumerate());
                }
            }
        }
        let mut group_queries: Vec<Box<dyn Query>> = Vec::new();
        // Words saying what kind of answer is wanted (材料, 多久 …), when the query also names its
        // subject: they rank, but a document need not contain them.
        let mut optional: Vec<Box<dyn Query>> = Vec::new();
        let has_subject = groups.iter().any(|g| !is_intent_word(g.base()));
        let mut seq: Vec<(usize, String)> = Vec::new();
        for g in &groups {
            let base = g.base().to_string();
            highlight.insert(base.clone());
            let mut alts: Vec<Box<dyn Query>> = vec![self.word_query(&base, 1.0)];
            for s in a.synonyms().of(&base) {
                highlight.insert(s.clone());
                alts.push(self.word_query(s, 0.8));
            }
            let parts: Vec<&str> = g.parts().collect();
            if !self.known(stats, &base) && !parts.is_empty() {
                // A word the index has never seen (an unknown compound such as 驾照到期): all
                // of its parts stand in, each with its own synonyms (驾照 → 驾驶证).
                let mut all_parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for p in parts {
                    let p: &str = p;
                    highlight.insert(p.to_string());
                    let mut part_alts: Vec<(Occur, Box<dyn Query>)> =
                        vec![(Occur::Should, self.word_query(p, 0.5))];
                    for syn in a.synonyms().of(p) {
                        highlight.insert(syn.clone());
                        part_alts.push((Occur::Should, self.word_query(syn, 0.4)));
                    }
                    for (i, e) in colloquial_words.get(p).into_iter().flatten() {
                        part_alts.push((
                            Occur::Should,
                            self.word_query(e, if *i == 0 { 0.45 } else { 0.25 }),
                        ));
                    }
                    all_parts.push((Occur::Must, Box::new(BooleanQuery::new(part_alts))));
                }
                alts.push(Box::new(BooleanQuery::new(all_parts)));
            }
            // The first official form is the primary meaning (开饭店 → 食品经营许可证 before 营业执照).
            for (i, e) in colloquial_words.get(&base).into_iter().flatten() {
                alts.push(self.word_query(e, if *i == 0 { 0.9 } else { 0.5 }));
            }
            let q: Box<dyn Query> = if alts.len() == 1 {
                alts.pop().expect("one")
            } else {
                Box::new(BooleanQuery::new(
                    alts.into_iter().map(|q| (Occur::Should, q)).collect(),
                ))
            };
            if has_subject && is_intent_word(&base) {
                optional.push(q);
            } else {
                group_queries.push(q);
            }
            seq.push((g.position, base));
        }
        for e in &expansions {
            highlight.insert(e.clone());
            for s in a.synonyms().of(e) {
                highlight.insert(s.clone());
            }
        }

        let mut tiers: Vec<Tier> = Vec::new();
        let mut union: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // The union's clauses other than the words.
        let mut rest: Vec<Box<dyn Query>> = Vec::new();
        if !text.is_empty() {
            let key = whole_key(text);
            let mut exact: Vec<(Occur, Box<dyn Query>)> = vec![
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.field(names::CODE), &key),
                        IndexRecordOption::Basic,
                    )),
                ),
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.field(names::ID), text),
                        IndexRecordOption::Basic,
                    )),
                ),
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.field(names::TITLE_EXACT), &key),
                        IndexRecordOption::Basic,
                    )),
                ),
            ];
            // A national law typed without its 中华人民共和国 prefix (行政复议法, 道路运输条例) is
            // still its whole title: it ranks before 实施条例 and provincial namesakes.
            if LAW_TITLE_ENDINGS.iter().any(|e| key.ends_with(e)) && !key.starts_with(NATIONAL) {
                exact.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(
                            self.field(names::TITLE_EXACT),
                            &format!("{NATIONAL}{key}"),
                        ),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
            // Codes glued to a label or inside text (事项编码YC0610000102): each code-shaped run
            // as a whole code, or an id as typed or upper-cased (ids keep their case).
            for run in code_tokens(&norm).into_iter().filter(|r| *r != key) {
                let mut terms = vec![Term::from_field_text(self.field(names::CODE), &run)];
                for id in [run.to_uppercase(), run] {
                    terms.push(Term::from_field_text(self.field(names::ID), &id));
                }
                exact.extend(terms.into_iter().map(|t| {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                    )
                }));
            }
            let exact: Box<dyn Query> = Box::new(BooleanQuery::new(exact));
            tiers.push(Tier::new(exact.box_clone()));
            rest.push(exact.box_clone());
            union.push((Occur::Should, exact));
        }
        if !group_queries.is_empty() {
            // Ranking signals: the phrase of the words and the official forms only rank,
            // scored lazily (see [`ranked`]); the optional words have no bound of their own
            // and stay in the query.
            //
            // The phrase holds every word itself (each in the same field), so a document
            // holding it matches the all-words tier, and later tiers exclude that tier's
            // documents: there it can never add anything, and asking it about every document
            // near the page's threshold cost a long question at 100k documents up to a quarter
            // of its time. It ranks the all-words tier only (later tiers too with
            // `without_pruning`, to test that this changes nothing).
            let mut phrase = Vec::new();
            if seq.len() >= 2 {
                phrase = self.phrase_bonus(stats, &seq, 2, 1.5);
            }
            let mut forms: Vec<ranked::Bonus> = Vec::new();
            for e in &expansions {
                forms.extend(self.word_bonus(stats, e, 0.6));
            }
            // The all-words tier's; then the phrase the later tiers ask, and theirs.
            let mut bonus: Vec<ranked::Bonus> = forms.iter().chain(&phrase).cloned().collect();
            if self.prune.is_some() {
                phrase.clear();
            }
            let mut near: Vec<ranked::Bonus> =
                forms.into_iter().chain(phrase.iter().cloned()).collect();
            ranked::order(&mut bonus);
            ranked::order(&mut near);
            ranked::order(&mut phrase);
            let boosts: Vec<(Occur, Box<dyn Query>)> = optional
                .iter()
                .map(|q| (Occur::Should, q.box_clone()))
                .collect();
            let mut all_tier: Vec<(Occur, Box<dyn Query>)> = group_queries
                .iter()
                .map(|q| (Occur::Must, q.box_clone()))
                .collect();
            all_tier.extend(boosts.iter().map(|(o, q)| (*o, q.box_clone())));
            tiers.push(Tier {
                query: Box::new(BooleanQuery::new(all_tier)),
                bonus: bonus.clone(),
                need: Some(group_queries.len()),
            });
            if group_queries.len() >= 3 {
                // All but one word: a near-miss ranks above documents matching one word.
                // Led by the two rarest words (see `at_least`): the union of n conjunctions
                // of n - 1 words it replaces walked the rarest word n - 1 times, 10-15 ms of a
                // 20 ms eight-word question at 100k documents.
                // Its clauses flat (a word's fields and synonyms one union of terms): the
                // scorer is opaque to `flatten` (see `Searcher::run`).
                let most: Box<dyn Query> = Box::new(at_least::AtLeast::new(
                    group_queries
                        .iter()
                        .map(|q| flatten::flatten(&**q))
                        .collect(),
                    group_queries.len() - 1,
                ));
                let mut tier: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, most)];
                tier.extend(boosts.iter().map(|(o, q)| (*o, q.box_clone())));
                tiers.push(Tier {
                    query: Box::new(BooleanQuery::new(tier)),
                    bonus: near,
                    need: Some(group_queries.len() - 1),
                });
            }
            if group_queries.len() > 1 || !expansions.is_empty() {
                // Some word or an official form of a colloquial phrase must match; the other
                // signals (phrase, optional words) only rank.
                let mut some: Vec<(Occur, Box<dyn Query>)> = group_queries
                    .iter()
                    .map(|q| (Occur::Should, q.box_clone()))
                    .collect();
                some.extend(
                    expansions
                        .iter()
                        .map(|e| (Occur::Should, self.word_query(e, 0.6))),
                );
                let mut any: Vec<(Occur, Box<dyn Query>)> =
                    vec![(Occur::Must, Box::new(BooleanQuery::new(some)))];
                any.extend(optional.iter().map(|q| (Occur::Should, q.box_clone())));
                tiers.push(Tier {
                    query: Box::new(BooleanQuery::new(any)),
                    bonus: phrase,
                    need: None,
                });
            }
            for q in &group_queries {
                union.push((Occur::Should, q.box_clone()));
            }
            for e in &expansions {
                rest.push(self.word_query(e, 1.0));
                union.push((Occur::Should, self.word_query(e, 1.0)));
            }
        }
        let matches: Box<dyn Query> = if union.is_empty() {
            if common.iter().any(|(o, _)| *o == Occur::Must) {
                tiers.push(Tier::new(Box::new(AllQuery)));
                Box::new(AllQuery)
            } else {
                Box::new(BooleanQuery::new(vec![]))
            }
        } else {
            Box::new(BooleanQuery::new(union))
        };
        let mut asked: Vec<String> = seq.iter().map(|(_, w)| w.clone()).collect();
        asked.extend(expansions.iter().cloned());
        // Exact, then all words; without words (only filters and phrases) everything is strong.
        let strong = if group_queries.is_empty() {
            tiers.len()
        } else {
            usize::from(!text.is_empty()) + 1
        };
        Plan {
            strong,
            tiers,
            matches,
            common,
            words: group_queries,
            rest: Some(rest),
            highlight,
            priors: Priors::for_query(&norm, &asked),
            tiers_cover: true,
            exact_tiers: usize::from(!text.is_empty()),
        }
    }

    fn field_query(
        &self,
        searcher: &tantivy::Searcher,
        field: FieldName,
        value: &str,
        highlight: &mut HashSet<String>,
    ) -> Option<Box<dyn Query>> {
        let a = self.analyzer();
        let exact_values = |name: &str| -> Box<dyn Query> {
            let f = self.field(name);
            let all = facet::all_values(searcher, name);
            let mut picked: Vec<&String> = all.iter().filter(|v| *v == value).collect();
            if picked.is_empty() {
                picked = all.iter().filter(|v| v.contains(value)).collect();
            }
            let clauses = picked
                .into_iter()
                .map(|v| {
                    let t = Term::from_field_text(f, v);
                    (
                        Occur::Should,
                        Box::new(flatten::BoostedTerm::filter(t)) as Box<dyn Query>,
                    )
                })
                .collect();
            Box::new(BooleanQuery::new(clauses))
        };
        Some(match field {
            FieldName::Title => {
                let f = self.field(names::TITLE);
                let words = a.words(value);
                if words.is_empty() {
                    return None;
                }
                highlight.extend(words.iter().cloned());
                Box::new(BooleanQuery::new(
                    words
                        .iter()
                        .map(|w| {
                            (
                                Occur::Must,
                                Box::new(TermQuery::new(
                                    Term::from_field_text(f, w),
                                    IndexRecordOption::WithFreqs,
                                )) as Box<dyn Query>,
                            )
                        })
                        .collect(),
                ))
            }
            FieldName::Code => Box::new(TermQuery::new(
                Term::from_field_text(self.field(names::CODE), &whole_key(value)),
                IndexRecordOption::Basic,
            )),
            FieldName::Kind => {
                let k = Kind::parse(value)?;
                let t = Term::from_field_text(self.field(names::KIND), k.as_str());
                Box::new(flatten::BoostedTerm::filter(t))
            }
            FieldName::Department => exact_values(names::DEPARTMENT),
            FieldName::Region => exact_values(names::REGION),
            FieldName::Audience => exact_values(names::AUDIENCE),
        })
    }

    /// The stored document with this id, looked up as a term (never as a path).
    pub fn doc(&self, id: &str) -> Result<Option<Document>, SearchError> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(
            Term::from_field_text(self.field(names::ID), id),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
        Ok(top
            .first()
            .and_then(|(_, addr)| self.index.stored_doc(&searcher, *addr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in corpus's files copied under `to`; the files (as found in the built-in
    /// corpus, with their paths relative to it).
    fn copy_builtin(to: &std::path::Path) -> Vec<crate::corpus::CorpusFile> {
        let builtin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let (files, _) = crate::corpus::walk(&builtin).expect("built-in corpus");
        for f in &files {
            let dest = to.join(&f.rel);
            std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&f.abs, dest).expect("copy");
        }
        files
    }

    /// A plan's matches gathered as bits (alone, and beside a filter) count (documents and
    /// every facet) exactly as the query does, in segments with deleted documents too.
    /// A search's statistics answer what the searcher answers, asked once or again, for
    /// terms of every text field (the cache is keyed by the whole term, field included).
    #[test]
    fn query_stats_answer_as_the_searcher() {
        use tantivy::query::Bm25StatisticsProvider;
        let dir = tempfile::tempdir().expect("temp folder");
        let corpus = tempfile::tempdir().expect("temp folder");
        copy_builtin(corpus.path());
        let analyzer = Analyzer::load_default();
        let (idx, _) = BanshiIndex::open_or_create(dir.path(), analyzer.clone()).expect("index");
        let mut syncer = crate::Syncer::open(idx).expect("writer");
        syncer.full_sync(corpus.path(), &()).expect("sync");
        drop(syncer);
        let s = Searcher::new(BanshiIndex::open(dir.path(), analyzer).expect("open"))
            .expect("searcher");
        let searcher = s.tantivy_searcher();
        let stats = Stats::new(&searcher);
        let mut seen = HashSet::new();
        for _ in 0..2 {
            for (name, _) in TEXT_FIELDS {
                let field = s.field(name);
                assert_eq!(
                    stats.total_num_tokens(field).unwrap(),
                    searcher.total_num_tokens(field).unwrap()
                );
                for word in ["营业执照", "身份证", "办理", "材料", "不存在的词"] {
                    let term = Term::from_field_text(field, word);
                    let df = searcher.doc_freq(&term).unwrap();
                    assert_eq!(stats.doc_freq(&term).unwrap(), df, "{name} {word}");
                    seen.insert(df);
                }
            }
        }
        assert_eq!(
            stats.total_num_docs().unwrap(),
            searcher.total_num_docs().unwrap()
        );
        // The words' frequencies differ between fields: a cache keyed by the text alone fails.
        assert!(seen.len() > 5, "{seen:?}");
    }

    #[test]
    fn term_unions_count_as_their_queries() {
        let dir = tempfile::tempdir().expect("temp folder");
        let analyzer = Analyzer::load_default();
        let corpus = tempfile::tempdir().expect("temp folder");
        let files = copy_builtin(corpus.path());
        let (idx, _) = BanshiIndex::open_or_create(dir.path(), analyzer.clone()).expect("index");
        let mut syncer = crate::Syncer::open(idx).expect("writer");
        syncer.full_sync(corpus.path(), &()).expect("sync");
        // Rewrite a few files: their old documents stay behind as deleted ones.
        let changed: Vec<String> = files.iter().step_by(5).map(|f| f.rel.clone()).collect();
        for rel in &changed {
            let p = corpus.path().join(rel);
            let mut text = std::fs::read(&p).expect("read");
            text.extend_from_slice(b"\n");
            std::fs::write(&p, text).expect("write");
        }
        syncer.sync_paths(corpus.path(), &changed).expect("sync");
        drop(syncer);
        let s = Searcher::new(BanshiIndex::open(dir.path(), analyzer).expect("open"))
            .expect("searcher");
        let searcher = s.tantivy_searcher();
        assert!(
            searcher
                .segment_readers()
                .iter()
                .any(|r| r.num_deleted_docs() > 0),
            "no deleted documents to skip"
        );
        let counter = facet::FacetCounts::new(s.segment_facets(&searcher), [true; 4]);
        let kept: Vec<dense::DenseTerms> = searcher
            .segment_readers()
            .iter()
            .map(dense::DenseTerms::new)
            .collect();
        dense::USED.with(|c| c.set(0));
        let mut unions = 0;
        for q in [
            "营业执照",
            "营业执照 材料",
            "身份证丢了怎么补办",
            "社保卡丢了怎么补办",
            "开饭店需要什么",
            "公积金提取",
            "醫療保險",
            // Found by its code alone (the code field), not by a word.
            "YC0310000101",
            "户口迁移 落户",
            "驾照到期",
            "\"营业执照\" 办理",
        ] {
            let plan = s.plan(&Stats::new(&searcher), &ParsedQuery::parse(q));
            // The matches, and the matches of guides only (a filter beside them).
            let guides: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                (Occur::Must, plan.matches.box_clone()),
                (
                    Occur::Must,
                    Box::new(flatten::BoostedTerm::filter(Term::from_field_text(
                        s.field(names::KIND),
                        "guide",
                    ))),
                ),
            ]));
            for query in [plan.matches.box_clone(), guides] {
                let want = s
                    .run(&Stats::new(&searcher), &*query, counter.clone(), false)
                    .expect("query pass");
                let Some(bits) = flatten::Bits::of(&*query) else {
                    continue;
                };
                unions += 1;
                // Decoding every posting, and twice with dense terms' bits (kept, reused).
                for kept in [None, Some(&kept), Some(&kept)] {
                    let fruits = (0u32..)
                        .zip(searcher.segment_readers())
                        .map(|(ord, seg)| {
                            let dense = kept.map(|k| &k[ord as usize]);
                            counter.count_bits_of(ord, seg, &bits, dense, &Default::default())
                        })
                        .collect::<tantivy::Result<Vec<_>>>()
                        .expect("bits pass");
                    let got = counter.merge_fruits(fruits).expect("merged");
                    assert!(want.0 > 0, "{q}: nothing matched");
                    assert_eq!(got, want, "{q}");
                }
            }
        }
        assert!(unions >= 20, "only {unions} plans were built of terms");
        assert!(
            dense::USED.with(|c| c.get()) > 0,
            "no dense term's bits reused"
        );
    }

    /// Lazily scored bonuses (see [`ranked`]) give the page the eager query gives, for real
    /// plans (their priors, field boosts and bounds): the tier's clauses as `Must`, its
    /// bonuses as `Should`, ranked by tantivy's `TopDocs`. Short pages make the threshold, and
    /// so the skipping, start early. The corpus: the built-in one, and documents whose rank the
    /// phrase decides; the test checks that some pages do depend on the bonuses. (How far a
    /// bound may be off before a page changes is `ranked`'s own test: here a bound cut to
    /// zero still passes.)
    #[test]
    fn lazy_bonuses_rank_as_the_eager_query() {
        let dir = tempfile::tempdir().expect("temp folder");
        let analyzer = Analyzer::load_default();
        let corpus = tempfile::tempdir().expect("temp folder");
        copy_builtin(&corpus.path().join("builtin"));
        let write = |rel: String, text: String| {
            let p = corpus.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        for i in 0..40 {
            write(
                format!("a/{i:02}.md"),
                format!("# 发票说明{i}\n\n发票 相关 事项 的 说明 和 要求。本 窗口 负责 办理。\n"),
            );
        }
        for i in 0..6 {
            write(
                format!("z/{i}.md"),
                format!(
                    "# 窗口通知{i}\n\n发票办理，发票办理，发票办理，营业执照材料，营业执照材料。\n"
                ),
            );
        }
        let (idx, _) = BanshiIndex::open_or_create(dir.path(), analyzer.clone()).expect("index");
        let mut syncer = crate::Syncer::open(idx).expect("writer");
        syncer.full_sync(corpus.path(), &()).expect("sync");
        syncer.close().expect("merges");
        let s = Searcher::new(BanshiIndex::open(dir.path(), analyzer).expect("open"))
            .expect("searcher");
        let searcher = s.tantivy_searcher();
        let mut compared = 0;
        let mut decided = 0;
        for q in [
            "营业执照 材料",
            "身份证丢了怎么补办",
            "社保卡丢了怎么补办",
            "营业执照怎么办",
            "开饭店需要什么",
            "发票 办理",
            "居民身份证 换领",
            "公积金提取需要什么材料",
        ] {
            let mut plan = s.plan(&Stats::new(&searcher), &ParsedQuery::parse(q));
            plan.priors.masks = s.action_masks(&searcher);
            plan.priors.superseded = s.superseded(&searcher);
            plan.priors.facets = s.segment_facets(&searcher);
            for tier in plan.tiers.iter().filter(|t| !t.bonus.is_empty()) {
                for limit in [1, 3, 10] {
                    let mut eager = vec![(Occur::Must, tier.query.box_clone())];
                    eager.extend(
                        tier.bonus
                            .iter()
                            .map(|b| (Occur::Should, b.query.box_clone())),
                    );
                    let priors = plan.priors.clone();
                    let top = TopDocs::with_limit(limit).tweak_score(
                        move |seg: &tantivy::SegmentReader| {
                            let f = priors.factor(seg);
                            move |doc, score: f32| score * f(doc)
                        },
                    );
                    let (want, count) = searcher
                        .search(&BooleanQuery::new(eager), &(top, Count))
                        .expect("eager");
                    let scoring = EnableScoring::enabled_from_searcher(&searcher);
                    let lazy = ranked::Ranked {
                        limit,
                        offset: 0,
                        priors: plan.priors.clone(),
                        bonus: tier
                            .bonus
                            .iter()
                            .map(|b| (b.query.weight(scoring).expect("weight").into(), b.bound))
                            .collect(),
                        companion: Count,
                    };
                    let (got, lazy_count) = searcher.search(&*tier.query, &lazy).expect("lazy");
                    let plain = ranked::Ranked {
                        limit,
                        offset: 0,
                        priors: plan.priors.clone(),
                        bonus: Vec::new(),
                        companion: Count,
                    };
                    let (without, _) = searcher.search(&*tier.query, &plain).expect("plain");
                    assert_eq!(lazy_count, count, "{q}");
                    let docs = |v: &[(f32, DocAddress)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
                    assert_eq!(docs(&got), docs(&want), "{q}, limit {limit}");
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            (g.0 - w.0).abs() <= 1e-4 * w.0.abs().max(1.0),
                            "{q}: {g:?} {w:?}"
                        );
                    }
                    compared += usize::from(!want.is_empty());
                    decided += usize::from(docs(&without) != docs(&want));
                }
            }
        }
        assert!(compared >= 15, "only {compared} pages compared");
        assert!(decided >= 2, "only {decided} pages depend on the bonuses");
    }

    /// Ruling documents out of a page before their bonuses are looked at (see
    /// `conjunction::Cut`), asking the phrase only in the all-words tier, and reading dense
    /// terms from kept bit sets (see [`dense`]) change no answer: over a generated catalogue,
    /// every query of the benchmark mix, pages of 1, 3 and 10 at offsets 0 and 10, filtered
    /// by kind or not, answers exactly as without them (hits, scores, order, total, facets);
    /// and documents were ruled out, and kept bits used.
    #[test]
    fn pages_with_documents_ruled_out_equal_the_full_pages() {
        let builtin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let corpus = tempfile::tempdir().expect("temp folder");
        let vocab = crate::synth::Vocabulary::from_sources(&[builtin]).expect("vocabulary");
        let cfg = crate::synth::GenConfig {
            docs: 3000,
            seed: 11,
            per_file: 1000,
        };
        crate::synth::generate(&vocab, &cfg, &corpus.path().join("gen")).expect("generate");
        copy_builtin(&corpus.path().join("builtin"));
        let dir = tempfile::tempdir().expect("temp folder");
        let analyzer = Analyzer::load_default();
        let (idx, _) = BanshiIndex::open_or_create(dir.path(), analyzer).expect("index");
        let mut syncer = crate::Syncer::open(idx).expect("writer");
        syncer.full_sync(corpus.path(), &()).expect("sync");
        let idx = syncer.index().clone();
        // Serial: the count of documents ruled out is kept per thread. Segments of any size.
        let mut pruned = Searcher::new(idx.clone())
            .expect("searcher")
            .with_segment_pool(1, 0);
        pruned.prune = Some(0);
        let full = Searcher::new(idx)
            .expect("searcher")
            .with_segment_pool(1, 0)
            .without_pruning()
            .without_dense_terms();
        let answer = |s: &Searcher, q: &str, limit: usize, offset: usize, filter: bool| {
            let mut r = SearchRequest::new(q);
            r.limit = Some(limit);
            r.offset = Some(offset);
            if filter {
                r.kind = vec!["guide".into()];
            }
            let mut v = serde_json::to_value(s.search(&r).expect("search")).expect("json");
            v["took_us"] = 0.into();
            v["timings"] = serde_json::Value::Null;
            v
        };
        conjunction::RULED_OUT.with(|c| c.set(0));
        dense::USED.with(|c| c.set(0));
        SKIPPED.with(|c| c.set(0));
        let mut compared = 0;
        for q in crate::loadgen::parse_queries(crate::loadgen::DEFAULT_QUERIES) {
            for (limit, offset) in [(1, 0), (3, 0), (10, 0), (10, 10)] {
                for filter in [false, true] {
                    let want = answer(&full, &q, limit, offset, filter);
                    let got = answer(&pruned, &q, limit, offset, filter);
                    assert_eq!(got, want, "{q}: limit {limit} offset {offset}");
                    compared += usize::from(want["hits"].as_array().is_some_and(|h| !h.is_empty()));
                }
            }
        }
        let ruled_out = conjunction::RULED_OUT.with(|c| c.get());
        let kept = dense::USED.with(|c| c.get());
        assert!(compared > 800, "only {compared} pages had hits");
        assert!(ruled_out > 10_000, "only {ruled_out} documents ruled out");
        assert!(kept > 1000, "dense terms' kept bits used only {kept} times");
        let skipped = SKIPPED.with(|c| c.get());
        assert!(skipped > 50, "only {skipped} empty tiers skipped");
    }

    #[test]
    fn code_shaped_runs_are_found_inside_text() {
        for (norm, want) in [
            ("事项编码yc0610000102", &["yc0610000102"][..]),
            ("职权编码210430049000的事项", &["210430049000"]),
            ("yc0110000102 和 yc0110000102", &["yc0110000102"]),
            // Too short, or no digit: not a code.
            ("2023年公司法", &[]),
            ("第12条", &[]),
            ("etc办理 shenfenzheng", &[]),
        ] {
            assert_eq!(code_tokens(norm), want, "{norm}");
        }
    }
}
