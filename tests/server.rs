//! The HTTP API through a real `banshi serve` on an ephemeral port and a real HTTP client.

mod common;

use common::{builtin_corpus, client, eventually, tempdir, write, Server};
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
    // Computed answers say where the engine's time went, in the header and the body; a
    // cached one (the same request again) only times its lookup.
    let durations = |timing: &str| -> Vec<(String, f64)> {
        timing
            .split(", ")
            .map(|part| {
                let (name, dur) = part.split_once(";dur=").expect("name;dur=ms");
                (name.to_string(), dur.parse().expect("milliseconds"))
            })
            .collect()
    };
    for (path, fallback) in [
        ("/api/search?q=户口迁移", false),
        ("/api/search?q=sfz", true),
    ] {
        let r = get(&s, path);
        let timing = r.headers()["server-timing"].to_str().unwrap().to_string();
        let parts = durations(&timing);
        let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
        let mut want = vec!["plan", "rank", "count", "hits"];
        if fallback {
            want.push("fallback");
        }
        want.extend(["search", "total"]);
        assert_eq!(names, want, "{path}: {timing}");
        let search = parts[parts.len() - 2].1;
        let phases: f64 = parts[..parts.len() - 2].iter().map(|(_, d)| d).sum();
        assert!(phases <= search + 0.01, "{path}: {timing}");
        let v = json(r);
        let t = &v["timings"];
        let sum: u64 = ["plan_us", "rank_us", "count_us", "hits_us", "fallback_us"]
            .iter()
            .map(|k| t[k].as_u64().unwrap_or_else(|| panic!("{k} in {t}")))
            .sum();
        assert!(sum <= v["took_us"].as_u64().unwrap(), "{path}: {v}");
        assert_eq!(
            t["fallback_us"].as_u64().unwrap() > 0,
            fallback,
            "{path}: {t}"
        );
    }
    let r = get(&s, "/api/search?q=户口迁移");
    let timing = r.headers()["server-timing"].to_str().unwrap().to_string();
    assert!(timing.starts_with("search;dur="), "{timing}");
    assert!(!timing.contains("rank;"), "{timing}");
    assert_eq!(json(r)["cached"], true);
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

/// JSONL catalogue records titled 营业执照办理, one per department name.
fn records(departments: impl IntoIterator<Item = String>, from: usize) -> String {
    departments
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            format!(
                "{{\"item_id\":\"YY{:05}\",\"item_name\":\"营业执照办理{}\",\"department\":\"{d}\"}}\n",
                from + i,
                from + i
            )
        })
        .collect()
}

/// A catalogue with hundreds of departments: each facet lists the values with the most
/// matches (100 by default, `facet_limit` to change), `facets_distinct` says how many there
/// are, and counts still add up across segments (a second file lands in its own segment).
#[test]
fn facets_list_the_most_frequent_values_and_count_the_rest() {
    let corpus = tempdir();
    let index = tempdir();
    let unique = |r: std::ops::Range<usize>| r.map(|i| format!("部门{i:03}"));
    let busy = |n: usize| std::iter::repeat_n("热门局".to_string(), n);
    write(
        corpus.path(),
        "a.jsonl",
        records(unique(0..200).chain(busy(6)), 0),
    );
    let s = Server::start(corpus.path(), index.path(), &[]);
    write(
        corpus.path(),
        "b.jsonl",
        records(busy(4).chain(unique(200..250)), 1000),
    );
    let q = [("q", "营业执照办理")];
    let all = eventually(30, "the second file is searchable", || {
        let v = search(&s, &q);
        (v["total"] == 260).then_some(v)
    });
    let departments = all["facets"]["department"].as_object().unwrap();
    assert_eq!(departments.len(), 100, "{all}");
    assert_eq!(all["facets_distinct"]["department"], 251);
    assert_eq!(
        all["facets_distinct"]["kind"],
        all["facets"]["kind"].as_object().unwrap().len()
    );
    // 热门局's ten records, six in one segment and four in the other, make it the top value.
    assert_eq!(departments["热门局"], 10);
    // The rest are ties of one: the smallest names are listed.
    assert_eq!(departments["部门000"], 1);
    assert!(!departments.contains_key("部门249"));

    let few = search(&s, &[("q", "营业执照办理"), ("facet_limit", "2")]);
    let listed: BTreeMap<String, u64> =
        serde_json::from_value(few["facets"]["department"].clone()).unwrap();
    assert_eq!(
        listed,
        BTreeMap::from([("热门局".into(), 10), ("部门000".into(), 1)])
    );
    let none = search(&s, &[("q", "营业执照办理"), ("facet_limit", "0")]);
    assert!(none["facets"]["department"].as_object().unwrap().is_empty());
    assert_eq!(none["facets_distinct"]["department"], 251);
    for bad in ["1001", "-1", "x"] {
        let r = get(&s, &format!("/api/search?q=x&facet_limit={bad}"));
        assert_eq!(r.status(), 400, "facet_limit={bad}");
        assert!(json(r)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("facet_limit"));
    }
}

/// Thousands of broken files: `/api/status` lists the first 1,000 skips by path, with their
/// reasons, and counts them all.
#[test]
fn status_lists_a_thousand_skips_and_counts_them_all() {
    let corpus = tempdir();
    let index = tempdir();
    for i in 0..1_005 {
        write(corpus.path(), &format!("bad/{i:04}.json"), "{broken");
    }
    write(corpus.path(), "ok.md", "# 好文件\n\n内容\n");
    let s = Server::start(corpus.path(), index.path(), &["--no-watch"]);
    let status = json(get(&s, "/api/status"));
    assert_eq!(status["skipped_total"], 1_005, "{status}");
    let skipped = status["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1_000);
    assert_eq!(skipped[0]["path"], "bad/0000.json");
    assert_eq!(skipped[999]["path"], "bad/0999.json");
    assert!(skipped[0]["reason"]
        .as_str()
        .unwrap()
        .contains("malformed JSON"));
    assert_eq!(status["documents"], 1);
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
    // Invented methods: answered, and counted under one label, not a series each.
    for m in ["BANSHI1", "BANSHI2", "BANSHI3"] {
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let r = client().request(method, s.url("/health")).send().unwrap();
        assert!(r.status().is_client_error(), "{m}: {}", r.status());
    }
    let r = get(&s, "/metrics");
    assert_eq!(r.status(), 200);
    let text = r.text().unwrap();
    let samples = parse_prometheus(&text);
    assert!(!text.contains("BANSHI1"), "{text}");
    let others: f64 = samples
        .iter()
        .filter(|(n, l, _)| n == "banshi_http_requests_total" && l.contains("method=\"other\""))
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(others, 3.0, "{text}");
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
    // The same query three times: one miss, two answers from the cache.
    let metric = |name: &str| {
        samples
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, v)| *v)
            .unwrap_or_else(|| panic!("no {name}: {text}"))
    };
    assert_eq!(metric("banshi_search_cache_misses_total"), 1.0, "{text}");
    assert_eq!(metric("banshi_search_cache_hits_total"), 2.0, "{text}");
    assert!(metric("banshi_search_cache_bytes") > 0.0, "{text}");
    // Every search the engine computed is timed by phase: the first 结婚 (the cache answered
    // the other two) and qzxv, which no document has, so it also ran the fallback.
    search(&s, &[("q", "qzxv")]);
    let text = get(&s, "/metrics").text().unwrap();
    let samples = parse_prometheus(&text);
    let phase_count = |phase: &str| -> f64 {
        samples
            .iter()
            .filter(|(n, l, _)| {
                n == "banshi_search_phase_duration_seconds_count"
                    && l.contains(&format!("phase=\"{phase}\""))
            })
            .map(|(_, _, v)| v)
            .sum()
    };
    for phase in ["plan", "rank", "count", "hits"] {
        assert_eq!(phase_count(phase), 2.0, "{phase}: {text}");
    }
    assert_eq!(phase_count("fallback"), 1.0, "{text}");
}

#[test]
fn repeated_searches_are_answered_from_the_cache_unless_it_is_off() {
    let (_index, s) = serve_builtin();
    let params = [("q", "营业执照"), ("kind", "guide"), ("limit", "5")];
    let first = search(&s, &params);
    assert!(first.get("cached").is_none(), "{first}");
    let second = search(&s, &params);
    assert_eq!(second["cached"], true, "{second}");
    for field in ["hits", "total", "facets", "suggestions", "query", "limit"] {
        assert_eq!(first[field], second[field], "{field} differs when cached");
    }
    // Another page, filter or highlight setting is another entry.
    for other in [
        vec![
            ("q", "营业执照"),
            ("kind", "guide"),
            ("limit", "5"),
            ("offset", "5"),
        ],
        vec![("q", "营业执照"), ("kind", "law"), ("limit", "5")],
        vec![
            ("q", "营业执照"),
            ("kind", "guide"),
            ("limit", "5"),
            ("highlight", "false"),
        ],
    ] {
        let v = search(&s, &other);
        assert!(
            v.get("cached").is_none(),
            "{other:?} answered from another entry"
        );
    }
    // /api/status tells an operator how the cache does: one hit, four misses so far.
    let status = json(get(&s, "/api/status"));
    let cache = &status["cache"];
    assert_eq!(cache["enabled"], true, "{status}");
    assert_eq!(
        (&cache["hits"], &cache["misses"]),
        (&1.into(), &4.into()),
        "{cache}"
    );
    assert_eq!(cache["entries"], 4, "{cache}");
    assert!(cache["bytes"].as_u64().unwrap() > 0, "{cache}");
    assert!(
        cache["bytes"].as_u64() <= cache["capacity_bytes"].as_u64(),
        "{cache}"
    );

    let index = tempdir();
    let off = Server::start(
        &builtin_corpus(),
        index.path(),
        &["--no-watch", "--cache-mb", "0"],
    );
    for _ in 0..2 {
        let v = search(&off, &params);
        assert!(v.get("cached").is_none(), "cache is off: {v}");
        assert_eq!(v["hits"], first["hits"]);
    }
    let status = json(get(&off, "/api/status"));
    assert_eq!(status["cache"]["enabled"], false, "{status}");
    assert_eq!(status["cache"]["entries"], 0, "{status}");
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

fn titles(v: &Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_string())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Issue #6: a query that finds nothing on all its words says what to try instead; one that
/// finds something says nothing. The field is part of the OpenAPI description.
#[test]
fn weak_results_carry_did_you_mean_suggestions() {
    let (_index, s) = serve_builtin();
    let v = search(&s, &[("q", "离昏登记")]);
    assert_eq!(
        strings(&v["suggestions"]).first().map(String::as_str),
        Some("离婚登记"),
        "{v}"
    );
    let v = search(&s, &[("q", "shenfenz")]);
    let sug = strings(&v["suggestions"]);
    assert!(sug.iter().any(|t| t.contains("身份证")), "{sug:?}");
    for q in ["营业执照", "YC0310000101", "身份证丢了"] {
        let v = search(&s, &[("q", q)]);
        assert_eq!(v["suggestions"], serde_json::json!([]), "{q}: {v}");
        assert!(v.get("interpreted_as").is_none(), "{q}: {v}");
    }
    let v = search(&s, &[("q", "xqzvk")]);
    assert_eq!(v["total"], 0);
    assert_eq!(v["suggestions"], serde_json::json!([]), "{v}");
    let api = json(get(&s, "/api/openapi.json"));
    let props = &api["components"]["schemas"]["SearchResponse"]["properties"];
    assert!(props["suggestions"].is_object(), "{props}");
    assert!(props["interpreted_as"].is_object(), "{props}");
}

/// Issue #6: full pinyin and initials that match nothing as text search the Chinese words
/// they spell, and say so; ASCII queries that match as typed are left alone.
#[test]
fn pinyin_and_initials_search_the_words_they_spell() {
    let (_index, s) = serve_builtin();
    for (q, means, top) in [
        ("shenfenzheng", "身份证", "身份证"),
        ("sfz", "身份证", "身份证"),
        ("yyzz", "营业执照", "营业执照"),
        ("yingyezhizhao", "营业执照", "营业执照"),
        ("jiehundengji", "结婚登记", "结婚登记"),
    ] {
        let v = search(&s, &[("q", q)]);
        assert_eq!(v["interpreted_as"], means, "{q}: {v}");
        assert!(v["total"].as_u64().unwrap() > 0, "{q}: {v}");
        let t = titles(&v);
        assert!(t[0].contains(top), "{q}: {t:?}");
        assert!(
            top_html(&v).contains("<em>"),
            "{q}: highlights the words searched: {v}"
        );
    }
    // An item code is found as typed, not read as pinyin.
    let v = search(&s, &[("q", "YC0310000101")]);
    assert_eq!(top(&v)["id"], "YC0310000101");
    assert!(v.get("interpreted_as").is_none(), "{v}");
}

fn top_html(v: &Value) -> String {
    format!("{}{}", top(v)["title_highlighted"], top(v)["snippet"])
}

/// Issue #6: one wrong or homophone character still finds the item, through the corrected
/// query.
#[test]
fn one_wrong_character_still_finds_the_item() {
    let (_index, s) = serve_builtin();
    for (q, fixed, want) in [
        ("离昏登记", "离婚登记", "离婚"),
        ("营业执找", "营业执照", "营业执照"),
        ("身份正补领", "身份证补领", "身份证补领"),
        ("户口签移", "户口迁移", "户口迁移"),
    ] {
        let v = search(&s, &[("q", q)]);
        assert_eq!(v["interpreted_as"], fixed, "{q}: {v}");
        let t = titles(&v);
        assert!(t[0].contains(want), "{q}: {t:?}");
    }
}

/// Issue #6: an item code glued to its label or inside a sentence finds the item first.
#[test]
fn item_codes_inside_text_find_the_item_first() {
    let (_index, s) = serve_builtin();
    for (q, want) in [
        ("事项编码YC0610000102", "guides/公积金提取-租房.md"),
        ("事项编码：yc0610000102", "guides/公积金提取-租房.md"),
    ] {
        let v = search(&s, &[("q", q)]);
        assert_eq!(top(&v)["path"], want, "{q}: {v}");
    }
}

/// Issue #6: a time question about an item (多久能办好, 几天能办完, 多久到账) finds the item's
/// guide, which states its 承诺时限, before the time-limit tables and before other items whose
/// text happens to say 办好.
#[test]
fn time_questions_find_the_items_guide_first() {
    let (_index, s) = serve_builtin();
    for (q, want) in [
        ("营业执照多久能办好", "guides/个体工商户营业执照.md"),
        ("户口迁移几天能办完", "guides/户口迁移.md"),
        ("失业金多久到账", "guides/失业保险金申领.md"),
        ("社保卡多久能拿到", "guides/社会保障卡申领.md"),
    ] {
        let v = search(&s, &[("q", q)]);
        assert_eq!(top(&v)["path"], want, "{q}: {:?}", titles(&v));
    }
    // Asking for the table itself still finds the table.
    let v = search(&s, &[("q", "不动产登记办理时限")]);
    assert_eq!(top(&v)["kind"], "timeline", "{:?}", titles(&v));
}

/// Issue #6: in a materials question the subject decides, not the generic 材料/准备 a wrong
/// list matches on.
#[test]
fn materials_questions_rank_the_subject_first() {
    let (_index, s) = serve_builtin();
    for (q, want) in [
        ("离婚需要带什么材料", "离婚"),
        ("低保申请要准备哪些材料", "最低生活保障"),
        ("结婚登记需要什么材料", "结婚登记需要准备的材料"),
    ] {
        let v = search(&s, &[("q", q)]);
        let t = titles(&v);
        assert!(t[0].contains(want), "{q}: {t:?}");
    }
    // 开饭店 has no 准备 or 材料 of its own: the marriage list matched only those.
    let t = titles(&search(&s, &[("q", "开饭店需要准备哪些材料")]));
    assert!(!t[0].contains("结婚"), "{t:?}");
}

/// A temp corpus for the features the built-in one lacks (ASCII words, article numbers, law
/// versions).
fn serve_laws() -> (tempfile::TempDir, tempfile::TempDir, Server) {
    let corpus = tempdir();
    let index = tempdir();
    write(
        corpus.path(),
        "guides/etc.md",
        "---\ntitle: ETC办理\n---\n办理ETC电子不停车收费，需持C1驾驶证。",
    );
    write(
        corpus.path(),
        "laws/行政许可法.md",
        "# 中华人民共和国行政许可法\n\n第一条 为了规范行政许可的设定和实施，制定本法。\n\n\
         第十一条 设定行政许可，应当遵循经济和社会发展规律。\n\n\
         第十二条 下列事项可以设定行政许可：直接涉及国家安全的特定活动。\n\n\
         第一百零三条 本法自2004年7月1日起施行。\n",
    );
    write(
        corpus.path(),
        "laws/其他法.md",
        "# 中华人民共和国其他法\n\n第1条 其他事项依照本法第12条的规定执行。\n\n第2条 其他。\n",
    );
    for (date, text) in [
        (
            "2018-10-26",
            "第一条 旧版公司注册资本实缴。\n\n第二条 公司。",
        ),
        (
            "2023-12-29",
            "第一条 新版公司注册资本认缴期限五年。\n\n第二条 公司。",
        ),
    ] {
        write(
            corpus.path(),
            &format!("laws/公司法({date}).md"),
            format!("# 中华人民共和国公司法\n\n{text}\n"),
        );
    }
    let s = Server::start(corpus.path(), index.path(), &["--no-watch"]);
    (corpus, index, s)
}

/// ASCII words that occur in documents are searched as typed, never reinterpreted as pinyin.
#[test]
fn ascii_words_that_match_are_not_reinterpreted() {
    let (_c, _i, s) = serve_laws();
    for q in ["ETC", "etc", "C1"] {
        let v = search(&s, &[("q", q)]);
        assert_eq!(top(&v)["title"], "ETC办理", "{q}: {v}");
        assert!(v.get("interpreted_as").is_none(), "{q}: {v}");
        assert_eq!(v["suggestions"], serde_json::json!([]), "{q}: {v}");
    }
}

/// Issue #6: 第十二条 and 第12条 are the same words, typed either way and written either way;
/// the snippet shows the article asked for.
#[test]
fn article_numbers_match_in_chinese_and_arabic_numerals() {
    let (_c, _i, s) = serve_laws();
    for q in [
        "行政许可法第十二条",
        "行政许可法 第12条",
        "行政许可法第12条",
    ] {
        let v = search(&s, &[("q", q)]);
        assert_eq!(top(&v)["title"], "中华人民共和国行政许可法", "{q}: {v}");
        let snip = top(&v)["snippet"].as_str().unwrap();
        assert!(snip.contains("<em>第十二条</em> 下列事项"), "{q}: {snip}");
        assert!(!snip.contains("<em>第</em>"), "{q}: {snip}");
    }
    let v = search(&s, &[("q", "\"第103条\"")]);
    assert_eq!(titles(&v), ["中华人民共和国行政许可法"], "{v}");
    // Written 第十二条 in one law and 第12条 in the other: either spelling finds both.
    for q in ["\"第十二条\"", "\"第12条\""] {
        let v = search(&s, &[("q", q)]);
        assert_eq!(v["total"], 2, "{q}: {v}");
    }
}

/// Issue #6: of two versions of a law (same title, dates in the file names), the current one
/// ranks first and the older one is marked.
#[test]
fn the_current_version_of_a_law_ranks_first_and_old_ones_are_marked() {
    let (_c, _i, s) = serve_laws();
    for q in ["公司法", "公司注册资本", "中华人民共和国公司法"] {
        let v = search(&s, &[("q", q)]);
        let hits = v["hits"].as_array().unwrap();
        assert!(hits.len() >= 2, "{q}: {v}");
        assert_eq!(hits[0]["updated"], "2023-12-29", "{q}: {v}");
        assert!(hits[0].get("superseded").is_none(), "{q}: {v}");
        assert_eq!(hits[1]["updated"], "2018-10-26", "{q}: {v}");
        assert_eq!(hits[1]["superseded"], true, "{q}: {v}");
    }
    // The older text is still found on its own words, marked.
    let v = search(&s, &[("q", "实缴")]);
    assert_eq!(top(&v)["superseded"], true, "{v}");
    // A law without other versions is not marked.
    let v = search(&s, &[("q", "行政许可法")]);
    assert!(top(&v).get("superseded").is_none(), "{v}");
}

/// Issue #6: a national law typed without 中华人民共和国 (道路运输条例) is its whole title: it
/// ranks before a provincial regulation of the same name that repeats the words more often.
#[test]
fn a_national_law_named_without_its_prefix_ranks_first() {
    let corpus = tempdir();
    let index = tempdir();
    write(
        corpus.path(),
        "laws/道路运输条例.md",
        "# 中华人民共和国道路运输条例\n\n第一条 为了维护道路运输市场秩序，制定本条例。\n",
    );
    write(
        corpus.path(),
        "laws/广东省道路运输条例.md",
        "# 广东省道路运输条例\n\n第一条 根据《中华人民共和国道路运输条例》，制定本条例。\n\n\
         第二条 本省道路运输条例的实施，依照道路运输条例和本条例执行。\n",
    );
    let s = Server::start(corpus.path(), index.path(), &["--no-watch"]);
    let v = search(&s, &[("q", "道路运输条例")]);
    assert_eq!(titles(&v)[0], "中华人民共和国道路运输条例", "{v}");
}

/// Issue #6: the dictionaries are read from `--dict DIR` (or INDEX/dict) at start-up; a
/// changed user dictionary or stop word list re-analyses the index, and synonyms and
/// colloquial phrases take effect without rebuilding the binary.
#[test]
fn dictionaries_are_editable_without_rebuilding() {
    let corpus = tempdir();
    let index = tempdir();
    write(
        corpus.path(),
        "guides/a.md",
        "---\ntitle: 云川通办卡申领\n---\n云川通办卡是本市的市民卡。",
    );
    let dict = index.path().join("dict");
    std::fs::create_dir_all(&dict).unwrap();
    // Shipped dictionaries: 城市一卡通 means nothing here.
    let mut s = Server::start(corpus.path(), index.path(), &["--no-watch"]);
    assert_eq!(search(&s, &[("q", "城市一卡通")])["total"], 0);
    s.terminate();
    drop(s);
    write(&dict, "synonyms.txt", "云川通办卡,城市一卡通\n");
    write(&dict, "colloquial.txt", "办张卡 => 云川通办卡\n");
    write(
        &dict,
        "user.dict",
        "云川通办卡 50000 n\n城市一卡通 50000 n\n",
    );
    let s = Server::start(corpus.path(), index.path(), &["--no-watch"]);
    let v = search(&s, &[("q", "城市一卡通")]);
    assert_eq!(top(&v)["title"], "云川通办卡申领", "{v}");
    let v = search(&s, &[("q", "我想办张卡")]);
    assert_eq!(top(&v)["title"], "云川通办卡申领", "{v}");
    // The user dictionary keeps the word whole: highlighted as one word.
    assert!(
        top(&v)["title_highlighted"]
            .as_str()
            .unwrap()
            .contains("<em>云川通办卡</em>"),
        "{v}"
    );
}
