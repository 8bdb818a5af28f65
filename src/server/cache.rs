//! A cache of search responses, like Elasticsearch's request cache or Solr's query result
//! cache: a portal's queries repeat (营业执照, 身份证, 社保 …), and a repeated query should cost a
//! lookup, not a search.
//!
//! Entries are keyed by the request *and* the index generation it was answered from, so a
//! commit (the watcher's, an admin sync's, or tantivy's own reload) makes every older entry
//! unreachable at once; they then age out of the LRU. The size is bounded in bytes, not
//! entries: a page of 100 hits with snippets weighs as much as a hundred pages of one.
//!
//! What is kept is the serialized JSON, not the response: a hit then costs a copy of a few KB
//! with `cached` and `took_us` spliced in (see [`answer_from`]), where cloning and serializing
//! the response again cost most of a cached request.

use crate::search::SearchRequest;
use axum::body::Bytes;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::Mutex;

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
    lru: lru::LruCache<Key, (Bytes, usize)>,
    bytes: usize,
}

/// The cache's state as `/api/status` reports it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CacheStatus {
    /// False when the server runs with `--cache-mb 0`.
    pub enabled: bool,
    /// The byte budget (`--cache-mb`).
    pub capacity_bytes: usize,
    /// Responses held.
    pub entries: usize,
    /// Estimated heap bytes of those responses.
    pub bytes: usize,
    /// Searches answered from the cache since start.
    pub hits: u64,
    /// Searches that missed it (and were run).
    pub misses: u64,
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

    /// The cached response for `req` at `generation`, counted as a hit or a miss.
    pub fn get(&self, generation: Generation, req: &SearchRequest) -> Option<Bytes> {
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

    /// Remember the serialized response `body` for `req` at `generation`, evicting the least
    /// recently used entries past the byte budget. One larger than the whole budget is not
    /// kept.
    pub fn put(&self, generation: Generation, req: SearchRequest, body: Bytes) {
        let Some(inner) = &self.inner else { return };
        let size = estimated_size(&req, &body);
        if size > self.capacity_bytes {
            return;
        }
        let mut g = lock(inner);
        if let Some((_, old)) = g.lru.put((generation, req), (body, size)) {
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

    /// What `/api/status` reports of the cache, so an operator can size `--cache-mb` from the
    /// hit rate and the bytes in use. (`/metrics` reads the counters themselves.)
    pub fn status(&self) -> CacheStatus {
        let (entries, bytes) = self
            .inner
            .as_ref()
            .map(|i| {
                let g = lock(i);
                (g.lru.len(), g.bytes)
            })
            .unwrap_or((0, 0));
        CacheStatus {
            enabled: self.inner.is_some(),
            capacity_bytes: self.capacity_bytes,
            entries,
            bytes,
            hits: self.hits.get(),
            misses: self.misses.get(),
        }
    }
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    // A panic while holding the lock cannot leave the map half-updated in a way that matters.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Heap bytes of an entry, roughly: the body, the request's strings and a fixed overhead.
fn estimated_size(req: &SearchRequest, body: &[u8]) -> usize {
    let strings = |v: &[String]| v.iter().map(|s| s.len() + 24).sum::<usize>();
    256 + body.len()
        + req.q.len()
        + strings(&req.kind)
        + strings(&req.department)
        + strings(&req.region)
        + strings(&req.audience)
}

/// The JSON answer for a cache hit: the stored `body` with `"cached":true` first and its
/// `took_us` replaced by this lookup's. The first `,"took_us":` is the field itself: only the
/// query string comes before it, and inside a JSON string every `"` is escaped.
pub fn answer_from(body: &[u8], took_us: u64) -> Vec<u8> {
    const KEY: &[u8] = b",\"took_us\":";
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(b"{\"cached\":true,");
    let rest = body.strip_prefix(b"{").unwrap_or(body);
    match memchr::memmem::find(rest, KEY) {
        Some(at) => {
            let digits = rest[at + KEY.len()..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            out.extend_from_slice(&rest[..at + KEY.len()]);
            out.extend_from_slice(took_us.to_string().as_bytes());
            out.extend_from_slice(&rest[at + KEY.len() + digits..]);
        }
        None => out.extend_from_slice(rest),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of `bytes` bytes.
    fn body(bytes: usize) -> Bytes {
        Bytes::from(vec![b'x'; bytes])
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
        c.put(G1, req.clone(), body(10));
        assert!(c.get(G1, &req).is_some());
        assert!(c.get(G2, &req).is_none(), "a commit must invalidate");
        let mut filtered = req.clone();
        filtered.kind = vec!["guide".into()];
        assert!(
            c.get(G1, &filtered).is_none(),
            "filters are part of the key"
        );
        assert_eq!((c.status().hits, c.status().misses), (1, 2));
    }

    #[test]
    fn stays_within_its_byte_budget_evicting_the_least_recent() {
        let c = ResultCache::new(10_000);
        for i in 0..50 {
            c.put(G1, SearchRequest::new(&format!("q{i}")), body(1_000));
        }
        let CacheStatus { entries, bytes, .. } = c.status();
        assert!(bytes <= 10_000, "{bytes}");
        assert!((1..50).contains(&entries), "{entries}");
        assert!(c.get(G1, &SearchRequest::new("q49")).is_some());
        assert!(c.get(G1, &SearchRequest::new("q0")).is_none());
        // Larger than the whole budget: not kept, nothing evicted for it.
        c.put(G1, SearchRequest::new("big"), body(20_000));
        assert!(c.get(G1, &SearchRequest::new("big")).is_none());
        assert!(c.get(G1, &SearchRequest::new("q49")).is_some());
    }

    #[test]
    fn a_cached_answer_is_the_stored_json_marked_cached_with_a_new_time() {
        let resp = crate::search::SearchResponse {
            query: "\",\"took_us\":1 营业执照".into(),
            total: 3,
            took_us: 4321,
            suggestions: vec!["a".into()],
            ..Default::default()
        };
        let stored = serde_json::to_vec(&resp).unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&answer_from(&stored, 7)).unwrap();
        let mut expected = serde_json::to_value(&resp).unwrap();
        expected["took_us"] = 7.into();
        expected["cached"] = true.into();
        assert_eq!(answer, expected);
    }

    #[test]
    fn zero_capacity_is_off() {
        let c = ResultCache::new(0);
        c.put(G1, SearchRequest::new("a"), body(1));
        assert!(!c.status().enabled);
        assert!(c.get(G1, &SearchRequest::new("a")).is_none());
    }
}
