//! Prometheus metrics (OpenMetrics text at `/metrics`), via the `prometheus-client` crate.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 50 µs … ~1.6 s: query latencies live in the sub-millisecond range.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    phases: Family<PhaseLabels, Histogram, fn() -> Histogram>,
    documents: Gauge,
    index_bytes: Gauge,
    reindex_runs: Counter,
    reindex_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Register every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("banshi");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let phases: Family<PhaseLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        let documents = Gauge::default();
        let index_bytes = Gauge::default();
        let reindex_runs = Counter::default();
        let reindex_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "search_phase_duration_seconds",
            "Engine time of computed searches (not cache hits) by phase: plan, rank, count, hits, fallback (only when one ran)",
            phases.clone(),
        );
        registry.register("documents", "Documents in the index", documents.clone());
        registry.register(
            "index_size_bytes",
            "Size of the index folder",
            index_bytes.clone(),
        );
        registry.register(
            "reindex_runs",
            "Syncs that changed the index (start-up, watcher, admin)",
            reindex_runs.clone(),
        );
        registry.register(
            "reindex_duration_seconds",
            "Duration of index syncs",
            reindex_seconds.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            phases,
            documents,
            index_bytes,
            reindex_runs,
            reindex_seconds,
        }
    }

    /// Count one finished request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Where one computed search's engine time went (see `search::Timings`).
    pub fn observe_search(&self, t: &crate::search::Timings) {
        for (phase, us) in t.phases() {
            self.phases
                .get_or_create(&PhaseLabels { phase })
                .observe(us as f64 / 1e6);
        }
    }

    /// Export the search cache's counters (hit ratio = hits / (hits + misses)).
    pub fn register_cache(&mut self, cache: &super::cache::ResultCache) {
        self.registry.register(
            "search_cache_hits",
            "Searches answered from the response cache",
            cache.hits.clone(),
        );
        self.registry.register(
            "search_cache_misses",
            "Searches the response cache could not answer (cache on only)",
            cache.misses.clone(),
        );
        self.registry.register(
            "search_cache_bytes",
            "Estimated memory held by cached search responses",
            cache.bytes.clone(),
        );
    }

    /// Count one sync.
    pub fn observe_reindex(&self, elapsed: Duration) {
        self.reindex_runs.inc();
        self.reindex_seconds.observe(elapsed.as_secs_f64());
    }

    /// The text exposition, with the gauges set to the given current values.
    pub fn render(&self, documents: u64, index_bytes: u64) -> String {
        self.documents.set(documents as i64);
        self.index_bytes.set(index_bytes as i64);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
