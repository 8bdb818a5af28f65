//! The HTTP API through a real `banshi serve` on an ephemeral port and a real HTTP client.

mod common;

use common::{builtin_corpus, client, tempdir, write, Server};
use reqwest::blocking::Response;
use serde_json::Value;
use std::collections::BTreeMap;

fn serve_builtin() -> (tempfile::TempDir, Server) {
    let index = tempdir();
    let server = Server::start(&builtin_corpus(), index.path(), &["--no-watch"]);
    (index, server)
}

fn get(s: &Server, path_and_query: &str) -> Response {
    client().get(s.url(path_and_query)).send().unwrap()
}

fn json(r: Response) -> Value {
    let status = r.status();
    let text = r.text().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"))
}

fn search(s: &Server, params: &[(&str, &str)]) -> Value {
    let r = client()
        .get(s.url("/api/search"))
        .query(params)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{params:?}");
    json(r)
}

fn top(v: &Value) -> &Value {
    &v["hits"][0]
}

#[test]
fn portal_queries_find_the_right_item_first() {
    let (_index, s) = serve_builtin();
    let table = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ranking.tsv"),
    )
    .unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (q, path) = (cols[0], cols[1]);
        let id = cols.get(3).copied().unwrap_or("").trim();
        n += 1;
        let v = search(&s, &[("q", q)]);
        let hit = top(&v);
        // `a|b`: either is a right answer (a time question is answered by the item's guide,
        // which states its 承诺时限, as well as by the time-limit table).
        let ok = if id.is_empty() {
            path.split('|')
                .any(|p| hit["path"] == p.split('#').next().unwrap())
        } else {
            id.split('|').any(|i| hit["id"] == i)
        };
        if !ok {
            failures.push(format!(
                "{q}: expected {path} {id}, got {} {} ({})",
                hit["path"], hit["id"], hit["title"]
            ));
        }
    }
    assert!(n >= 25, "only {n} judged queries");
    assert!(
        failures.is_empty(),
        "{} of {n} queries wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_response_is_timed() {
    let (_index, s) = serve_builtin();
    for path in [
        "/api/search?q=营业执照",
        "/api/suggest?q=yy",
        "/api/status",
        "/api/search",
        "/nope",
    ] {
        let r = get(&s, path);
        let timing = r
            .headers()
            .get("server-timing")
            .map(|v| v.to_str().unwrap().to_string());
        let timing = timing.unwrap_or_else(|| panic!("{path}: no Server-Timing"));
        assert!(timing.contains("total;dur="), "{path}: {timing}");
        let v = json(r);
        assert!(v["took_us"].is_u64(), "{path}: {v}");
    }
    let r = get(&s, "/api/search?q=营业执照");
    let timing = r.headers()["server-timing"].to_str().unwrap().to_string();
    assert!(timing.starts_with("search;dur="), "{timing}");
}

#[test]
fn highlights_wrap_whole_words_and_escape_html() {
    let corpus = tempdir();
    let index = tempdir();
    write(
        corpus.path(),
        "guides/a.md",
        "---\ntitle: 营业执照<script>alert(1)</script>办理\ncode: YC1\n---\n个体户申请营业执照 & 经营许可 <b>须知</b>。",
    );
    let s = Server::start(corpus.path(), index.path(), &["--no-watch"]);
    let v = search(&s, &[("q", "营业执照")]);
    let hit = top(&v);
    let title = hit["title_highlighted"].as_str().unwrap();
    assert!(title.contains("<em>营业执照</em>"), "{title}");
    assert!(
        title.contains("&lt;script&gt;") && !title.contains("<script>"),
        "{title}"
    );
    let snippet = hit["snippet"].as_str().unwrap();
    assert!(snippet.contains("<em>营业执照</em>"), "{snippet}");
    assert!(
        snippet.contains("&amp;") && snippet.contains("&lt;b&gt;"),
        "{snippet}"
    );
    // No half-words: 营业 alone is never wrapped inside 营业执照.
    assert!(!snippet.contains("<em>营业</em>执照"), "{snippet}");
    // Plain title stays raw for text insertion; highlight=false gives no tags.
    assert!(hit["title"].as_str().unwrap().contains("<script>"));
    let v = search(&s, &[("q", "营业执照"), ("highlight", "false")]);
    assert!(
        !top(&v)["snippet"].as_str().unwrap().contains("<em>"),
        "{v}"
    );
}

#[test]
fn facet_counts_equal_filtered_totals_and_filters_work() {
    let (_index, s) = serve_builtin();
    let q = "登记";
    let all = search(&s, &[("q", q)]);
    let total = all["total"].as_u64().unwrap();
    assert!(total > 5, "{all}");
    for field in ["kind", "department", "region", "audience"] {
        let counts: BTreeMap<String, u64> =
            serde_json::from_value(all["facets"][field].clone()).unwrap();
        assert!(!counts.is_empty(), "{field} facet empty");
        for (value, count) in counts {
            let f = search(&s, &[("q", q), (field, &value), ("limit", "100")]);
            assert_eq!(f["total"].as_u64().unwrap(), count, "{field}={value}");
            for h in f["hits"].as_array().unwrap() {
                if field == "kind" {
                    assert_eq!(h["kind"], value.as_str());
                }
                if field == "department" {
                    assert_eq!(h["department"], value.as_str());
                }
            }
        }
    }
    // Two kinds: the union.
    let k = &all["facets"]["kind"];
    let (law, guide) = (
        k["law"].as_u64().unwrap_or(0),
        k["guide"].as_u64().unwrap_or(0),
    );
    let both = search(&s, &[("q", q), ("kind", "law"), ("kind", "guide")]);
    assert_eq!(both["total"].as_u64().unwrap(), law + guide);
    // max_days: every hit has a time limit within the bound, and the bound narrows.
    let fast = search(&s, &[("q", q), ("max_days", "1"), ("limit", "100")]);
    let n_fast = fast["total"].as_u64().unwrap();
    assert!(n_fast > 0 && n_fast < total, "{n_fast} of {total}");
    for h in fast["hits"].as_array().unwrap() {
        assert!(h["time_limit_days"].as_u64().unwrap() <= 1, "{h}");
    }
}

#[test]
fn pagination_is_stable_and_disjoint() {
    let (_index, s) = serve_builtin();
    let whole = search(&s, &[("q", "办理"), ("limit", "30")]);
    let ids = |v: &Value| -> Vec<String> {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = ids(&whole);
    assert_eq!(
        all.len(),
        30,
        "need 30 hits for this test: {}",
        whole["total"]
    );
    let mut paged = Vec::new();
    for page in 0..3 {
        let off = (page * 10).to_string();
        let v = search(&s, &[("q", "办理"), ("limit", "10"), ("offset", &off)]);
        assert_eq!(v["total"], whole["total"]);
        paged.extend(ids(&v));
    }
    assert_eq!(paged, all, "pages must concatenate to the long list");
    let unique: std::collections::HashSet<_> = paged.iter().collect();
    assert_eq!(unique.len(), 30);
    // Stable: the same request twice gives the same order.
    assert_eq!(ids(&search(&s, &[("q", "办理"), ("limit", "30")])), all);
}

#[test]
fn suggestions_for_prefixes_pinyin_and_initials() {
    let (_index, s) = serve_builtin();
    let titles = |q: &str| -> Vec<String> {
        let v = json(
            client()
                .get(s.url("/api/suggest"))
                .query(&[("q", q)])
                .send()
                .unwrap(),
        );
        v["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["title"].as_str().unwrap().to_string())
            .collect()
    };
    for (q, want) in [
        ("营业", "营业执照"),
        ("yingye", "营业执照"),
        ("yyzz", "营业执照"),
        ("sfz", "身份证"),
        ("jiehun", "结婚"),
        ("居民身", "居民身份证"),
    ] {
        let t = titles(q);
        assert!(!t.is_empty() && t.len() <= 10, "{q}: {t:?}");
        assert!(t.iter().take(3).any(|x| x.contains(want)), "{q}: {t:?}");
    }
    assert!(titles("zzzzqqqxx").is_empty());
}

#[test]
fn documents_by_id_and_404s() {
    let (_index, s) = serve_builtin();
    let v = json(get(&s, "/api/docs/YC0310000101"));
    assert_eq!(v["code"], "YC0310000101");
    assert!(v["materials"].as_array().unwrap().len() >= 3, "{v}");
    assert!(v["body"].as_str().unwrap().contains("个体工商户"));
    // Ids that are paths (contain `/`) work, raw or percent-encoded.
    let hit = search(&s, &[("q", "停水")]);
    let id = top(&hit)["id"].as_str().unwrap().to_string();
    assert!(id.contains('/'), "{id}");
    let enc: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    for p in [format!("/api/docs/{id}"), format!("/api/docs/{enc}")] {
        let r = get(&s, &p);
        assert_eq!(r.status(), 200, "{p}");
        assert_eq!(json(r)["id"], id.as_str());
    }
    for p in [
        "/api/docs/NOPE123",
        "/api/docs/../../etc/passwd",
        "/api/docs/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/api/docs/..%2FCargo.toml",
    ] {
        let r = get(&s, p);
        assert_eq!(r.status(), 404, "{p}");
        assert_eq!(json(r)["error"]["code"], "not_found", "{p}");
    }
}

#[test]
fn every_error_is_a_json_4xx() {
    let (_index, s) = serve_builtin();
    let long_q = "长".repeat(300);
    let long_url = format!("/api/search?q={}", "a".repeat(10_000));
    let cases: Vec<(String, u16)> = vec![
        ("/api/search".into(), 400),
        ("/api/search?q=".into(), 400),
        (format!("/api/search?q={long_q}"), 400),
        ("/api/search?q=a&limit=0".into(), 400),
        ("/api/search?q=a&limit=1000".into(), 400),
        ("/api/search?q=a&limit=-1".into(), 400),
        ("/api/search?q=a&offset=99999".into(), 400),
        ("/api/search?q=a&kind=spaceship".into(), 400),
        ("/api/search?q=a&max_days=soon".into(), 400),
        ("/api/search?q=a&highlight=maybe".into(), 400),
        ("/api/suggest".into(), 400),
        ("/api/suggest?q=a&limit=500".into(), 400),
        ("/api/nothing-here".into(), 404),
        (long_url, 414),
    ];
    for (path, status) in cases {
        let r = get(&s, &path);
        assert_eq!(
            r.status().as_u16(),
            status,
            "{}",
            &path[..path.len().min(80)]
        );
        let v = json(r);
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{v}"
        );
    }
    // Wrong method, oversized body, admin without/with a wrong token.
    let r = client().post(s.url("/api/search?q=a")).send().unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(json(r)["error"]["code"], "method_not_allowed");
    let r = client()
        .post(s.url("/api/search?q=a"))
        .body(vec![b'x'; 200_000])
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(json(r)["error"]["code"], "payload_too_large");
    let r = client().post(s.url("/api/reindex")).send().unwrap();
    assert_eq!(
        r.status(),
        404,
        "admin routes do not exist without --admin-token"
    );
    // An error body asked for with gzip is still readable (not mislabelled as compressed).
    let r = client()
        .get(s.url("/api/search?q=a&kind=bad"))
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.headers().get("content-encoding").is_none(),
        "{:?}",
        r.headers()
    );
    assert_eq!(json(r)["error"]["code"], "bad_request");
    // Malformed staff syntax degrades to text instead of failing.
    for q in [
        "\"营业执照",
        "title:",
        "(((",
        "-",
        "kind:spaceship 登记",
        "department:\"",
        "营业执照)",
    ] {
        let r = client()
            .get(s.url("/api/search"))
            .query(&[("q", q)])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{q}");
    }
}

#[test]
fn admin_reindex_needs_the_token() {
    let index = tempdir();
    let s = Server::start(
        &builtin_corpus(),
        index.path(),
        &["--no-watch", "--admin-token", "s3cret"],
    );
    let r = client().post(s.url("/api/reindex")).send().unwrap();
    assert_eq!(r.status(), 401);
    let r = client()
        .post(s.url("/api/reindex"))
        .bearer_auth("wrong")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client()
        .post(s.url("/api/reindex"))
        .bearer_auth("s3cret")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = json(r);
    assert_eq!(v["committed"], false, "nothing changed: {v}");
}

#[test]
fn status_health_openapi_and_metrics() {
    let corpus = tempdir();
    let index = tempdir();
    write(
        corpus.path(),
        "guides/a.md",
        "---\ntitle: 结婚登记\n---\n婚姻登记处。",
    );
    write(corpus.path(), "guides/bad.json", "{\"title\": ");
    let s = Server::start(corpus.path(), index.path(), &["--no-watch"]);
    assert_eq!(get(&s, "/health").status(), 200);
    let st = json(get(&s, "/api/status"));
    assert_eq!(st["documents"], 1, "{st}");
    assert_eq!(st["files"], 1, "{st}");
    assert!(st["index_size_bytes"].as_u64().unwrap() > 0);
    assert!(st["last_commit_ms"].as_u64().unwrap() > 1_700_000_000_000);
    let skipped = st["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{st}");
    assert_eq!(skipped[0]["path"], "guides/bad.json");
    assert!(
        skipped[0]["reason"].as_str().unwrap().contains("JSON"),
        "{st}"
    );

    let api = json(get(&s, "/api/openapi.json"));
    assert!(api["openapi"].as_str().unwrap().starts_with("3."), "{api}");
    for p in [
        "/api/search",
        "/api/docs/{id}",
        "/api/suggest",
        "/api/status",
        "/health",
        "/metrics",
    ] {
        assert!(api["paths"][p].is_object(), "openapi lacks {p}");
    }
    assert!(api["components"]["schemas"]["SearchResponse"].is_object());

    for _ in 0..3 {
        search(&s, &[("q", "结婚")]);
    }
    let r = get(&s, "/metrics");
    assert_eq!(r.status(), 200);
    let text = r.text().unwrap();
    let samples = parse_prometheus(&text);
    let searches: f64 = samples
        .iter()
        .filter(|(n, l, _)| {
            n == "banshi_http_requests_total"
                && l.contains("route=\"/api/search\"")
                && l.contains("status=\"200\"")
        })
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(searches, 3.0, "{text}");
    assert!(
        samples
            .iter()
            .any(|(n, _, v)| n == "banshi_documents" && *v == 1.0),
        "{text}"
    );
    assert!(
        samples
            .iter()
            .any(|(n, _, _)| n == "banshi_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        samples
            .iter()
            .any(|(n, _, v)| n == "banshi_reindex_runs_total" && *v >= 1.0),
        "{text}"
    );
}

/// A strict-enough parser of the Prometheus/OpenMetrics text format: every line is a comment
/// (`# HELP|TYPE|UNIT|EOF`) or `name{labels} value`; panics on anything else.
fn parse_prometheus(text: &str) -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(c) = line.strip_prefix("# ") {
            let kw = c.split(' ').next().unwrap();
            assert!(
                ["HELP", "TYPE", "UNIT", "EOF"].contains(&kw),
                "bad comment {line:?}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => {
                assert!(rest.ends_with('}'), "bad labels {line:?}");
                (n, rest.to_string())
            }
            None => (series, String::new()),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name {name:?}"
        );
        out.push((name.to_string(), labels, value));
    }
    assert!(!out.is_empty());
    out
}

#[test]
fn large_responses_are_compressed() {
    let (_index, s) = serve_builtin();
    let r = client()
        .get(s.url("/api/search?q=登记&limit=50"))
        .header("accept-encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let (_index, mut s) = serve_builtin();
    assert_eq!(get(&s, "/health").status(), 200);
    let status = s.terminate();
    assert!(status.success(), "{status:?}");
    let log = s.stderr.clone();
    common::eventually(5, "the shutdown message", || {
        log.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("shut down cleanly"))
            .then_some(())
    });
}

#[test]
fn cors_only_for_configured_origins() {
    let index = tempdir();
    let s = Server::start(
        &builtin_corpus(),
        index.path(),
        &["--no-watch", "--cors-origin", "https://portal.example"],
    );
    let allowed = client()
        .get(s.url("/api/suggest?q=yy"))
        .header("origin", "https://portal.example")
        .send()
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://portal.example"
    );
    let other = client()
        .get(s.url("/api/suggest?q=yy"))
        .header("origin", "https://evil.example")
        .send()
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // Without --cors-origin: no CORS headers at all.
    let (_i, plain) = serve_builtin();
    let r = client()
        .get(plain.url("/api/suggest?q=yy"))
        .header("origin", "https://portal.example")
        .send()
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}
