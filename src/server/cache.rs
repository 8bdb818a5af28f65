//! A cache of search responses, like Elasticsearch's request cache or Solr's query result
//! cache: a portal's queries repeat (营业执照, 身份证, 社保 …), and a repeated query should cost a
//! lookup, not a search.
//!
//! Entries are keyed by the request *and* the index generation it was answered from, so a
//! commit (the watcher's, an admin sync's, or tantivy's own reload) makes every older entry
//! unreachable at once; they then age out of the LRU. The size is bounded in (estimated) bytes,
//! not entries: a page of 100 hits with snippets weighs as much as a hundred pages of one.

use crate::search::{SearchRequest, SearchResponse};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::{Arc, Mutex};

/// What a cached answer depends on besides the request: the searcher's generation and the
/// suggester's (the fallbacks read it).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub struct Generation {
    /// `tantivy::Searcher::generation().generation_id()`.
    pub searcher: u64,
    /// Bumped each time the suggester is rebuilt.
    pub suggester: u64,
}

type Key = (Generation, SearchRequest);

struct Inner {
    lru: lru::LruCache<Key, (Arc<SearchResponse>, usize)>,
    bytes: usize,
}

/// Bounded LRU of search responses; `capacity_bytes == 0` turns it off.
pub struct ResultCache {
    inner: Option<Mutex<Inner>>,
    capacity_bytes: usize,
    /// Exported in `/metrics` (see [`crate::server::metrics::Metrics::register_cache`]).
    pub(crate) hits: Counter,
    pub(crate) misses: Counter,
    pub(crate) bytes: Gauge,
}

impl ResultCache {
    /// A cache holding about `capacity_bytes` of responses (0: no cache).
    pub fn new(capacity_bytes: usize) -> ResultCache {
        ResultCache {
            inner: (capacity_bytes > 0).then(|| {
                Mutex::new(Inner {
                    lru: lru::LruCache::unbounded(),
                    bytes: 0,
                })
            }),
            capacity_bytes,
            hits: Counter::default(),
            misses: Counter::default(),
            bytes: Gauge::default(),
        }
    }

    /// Whether caching is on.
    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The cached response for `req` at `generation`, counted as a hit or a miss.
    pub fn get(&self, generation: Generation, req: &SearchRequest) -> Option<Arc<SearchResponse>> {
        let inner = self.inner.as_ref()?;
        // Cloning the request for the key costs less than a second map type keyed by borrow.
        let key = (generation, req.clone());
        let found = lock(inner).lru.get(&key).map(|(r, _)| r.clone());
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.inc();
        found
    }

    /// Remember `resp` for `req` at `generation`, evicting the least recently used entries
    /// past the byte budget. A response larger than the whole budget is not kept.
    pub fn put(&self, generation: Generation, req: SearchRequest, resp: Arc<SearchResponse>) {
        let Some(inner) = &self.inner else { return };
        let size = estimated_size(&req, &resp);
        if size > self.capacity_bytes {
            return;
        }
        let mut g = lock(inner);
        if let Some((_, old)) = g.lru.put((generation, req), (resp, size)) {
            g.bytes -= old;
        }
        g.bytes += size;
        while g.bytes > self.capacity_bytes {
            match g.lru.pop_lru() {
                Some((_, (_, s))) => g.bytes -= s,
                None => break,
            }
        }
        self.bytes.set(g.bytes as i64);
    }

    /// (hits, misses, entries, estimated bytes) for `/metrics` and `/api/status`.
    pub fn stats(&self) -> (u64, u64, usize, usize) {
        let (entries, bytes) = self
            .inner
            .as_ref()
            .map(|i| {
                let g = lock(i);
                (g.lru.len(), g.bytes)
            })
            .unwrap_or((0, 0));
        (self.hits.get(), self.misses.get(), entries, bytes)
    }
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    // A panic while holding the lock cannot leave the map half-updated in a way that matters.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Heap bytes of an entry, roughly: the strings that dominate it plus a fixed overhead.
fn estimated_size(req: &SearchRequest, resp: &SearchResponse) -> usize {
    let strings = |v: &[String]| v.iter().map(|s| s.len() + 24).sum::<usize>();
    let hits: usize = resp
        .hits
        .iter()
        .map(|h| {
            h.id.len()
                + h.path.len()
                + h.title.len()
                + h.title_highlighted.len()
                + h.snippet.len()
                + h.department.as_ref().map_or(0, |s| s.len())
                + h.region.as_ref().map_or(0, |s| s.len())
                + h.code.as_ref().map_or(0, |s| s.len())
                + 200
        })
        .sum();
    let facets: usize = [
        &resp.facets.kind,
        &resp.facets.department,
        &resp.facets.region,
        &resp.facets.audience,
    ]
    .iter()
    .map(|m| m.keys().map(|k| k.len() + 48).sum::<usize>())
    .sum();
    256 + req.q.len()
        + strings(&req.kind)
        + strings(&req.department)
        + strings(&req.region)
        + strings(&req.audience)
        + resp.query.len()
        + strings(&resp.suggestions)
        + hits
        + facets
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response weighing about `bytes` (its query string dominates the estimate).
    fn resp(bytes: usize) -> Arc<SearchResponse> {
        Arc::new(SearchResponse {
            query: "x".repeat(bytes),
            ..Default::default()
        })
    }

    const G1: Generation = Generation {
        searcher: 1,
        suggester: 1,
    };
    const G2: Generation = Generation {
        searcher: 2,
        suggester: 1,
    };

    #[test]
    fn hits_only_for_the_same_request_and_generation() {
        let c = ResultCache::new(1 << 20);
        let req = SearchRequest::new("营业执照");
        c.put(G1, req.clone(), resp(10));
        assert!(c.get(G1, &req).is_some());
        assert!(c.get(G2, &req).is_none(), "a commit must invalidate");
        let mut filtered = req.clone();
        filtered.kind = vec!["guide".into()];
        assert!(
            c.get(G1, &filtered).is_none(),
            "filters are part of the key"
        );
        assert_eq!(c.stats().0, 1);
        assert_eq!(c.stats().1, 2);
    }

    #[test]
    fn stays_within_its_byte_budget_evicting_the_least_recent() {
        let c = ResultCache::new(10_000);
        for i in 0..50 {
            c.put(G1, SearchRequest::new(&format!("q{i}")), resp(1_000));
        }
        let (_, _, entries, bytes) = c.stats();
        assert!(bytes <= 10_000, "{bytes}");
        assert!((1..50).contains(&entries), "{entries}");
        assert!(c.get(G1, &SearchRequest::new("q49")).is_some());
        assert!(c.get(G1, &SearchRequest::new("q0")).is_none());
        // Larger than the whole budget: not kept, nothing evicted for it.
        c.put(G1, SearchRequest::new("big"), resp(20_000));
        assert!(c.get(G1, &SearchRequest::new("big")).is_none());
        assert!(c.get(G1, &SearchRequest::new("q49")).is_some());
    }

    #[test]
    fn zero_capacity_is_off() {
        let c = ResultCache::new(0);
        c.put(G1, SearchRequest::new("a"), resp(1));
        assert!(!c.enabled());
        assert!(c.get(G1, &SearchRequest::new("a")).is_none());
    }
}
