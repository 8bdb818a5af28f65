//! Judged evaluation (issue #6): graded queries against the built-in corpus
//! (`tests/data/eval_builtin.tsv`) and the real public corpus (`tests/data/eval_real.tsv`), run
//! in-process through `Searcher::search`, scored with nDCG@10, MRR and recall@10 per group and
//! overall, and held above the floors below.
//!
//! `cargo test --test eval -- --nocapture` prints the tables and the worst queries with what the
//! engine put first (`BANSHI_EVAL_WORST=N` shows N of them, default 15).
//!
//! Metrics, per query, then averaged over the queries of a group (and over all queries):
//! - nDCG@10: gain 2^grade − 1, discount log2(rank + 1); the ideal ranking is the judgments
//!   sorted by grade.
//! - MRR: 1 / rank of the first hit carrying the query's best judged grade (the answer, grade 2,
//!   for nearly every query), 0 when it is not in the top 10.
//! - R@10: the share of judged documents (grade ≥ 1) in the top 10.
//!
//! Hits with equal scores count as their expected value over every order of the tie (see
//! [`metrics`]), so the figures do not depend on how the index happened to be split into segments.
//!
//! The data is checked before anything is scored: every judged path or id must name exactly one
//! document of the index, so a typo in a data file fails the test instead of lowering a score.

mod common;

use banshi::search::suggest::Suggester;
use banshi::{Analyzer, BanshiIndex, SearchRequest, Searcher, Syncer};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

/// Query groups, in table order.
const GROUPS: &[&str] = &[
    "official",
    "versions",
    "colloquial",
    "materials",
    "time",
    "code",
    "legal",
    "traditional",
    "pinyin",
    "typo",
    "long",
    "mixed",
];

/// (group, nDCG@10, MRR, R@10) floors: the values measured at the merge of the quality
/// features (pinyin/initials, typo correction, article numbers, law versions; 2026-11-26)
/// minus about 0.03, rounded down, so a real regression fails; raise them when ranking
/// improves. Before those features (0f04f93) pinyin scored 0 and overall was 0.840/0.829/0.870.
/// Raised for materials, time, code and overall after the second ranking round (codes inside
/// text, intent words, time priors; measured 0.938/0.944/0.954 overall).
const BUILTIN_FLOORS: &[(&str, f64, f64, f64)] = &[
    ("official", 0.94, 0.97, 0.95),
    ("colloquial", 0.92, 0.95, 0.90),
    ("materials", 0.92, 0.89, 0.97),
    ("time", 0.92, 0.97, 0.93),
    ("code", 0.97, 0.97, 0.97),
    ("legal", 0.96, 0.97, 0.97),
    ("traditional", 0.94, 0.97, 0.94),
    ("pinyin", 0.74, 0.75, 0.75),
    ("typo", 0.85, 0.85, 0.89),
    ("long", 0.80, 0.71, 0.91),
    ("mixed", 0.94, 0.93, 0.97),
    ("overall", 0.90, 0.91, 0.92),
];

/// Floors for the real corpus, same rules (before the features: overall 0.752/0.707/0.815;
/// after the second ranking round 0.857/0.825/0.920). `materials` MRR (0.843) stays at its
/// old floor: 办护照需要什么材料 now shows the passport guide (grade 1) above 护照法.
/// `mixed` recall fell from 0.972 to 0.931 by design: an old version of a law (公司法 2018 for
/// "2023年公司法") now ranks below the current one and other laws.
const REAL_FLOORS: &[(&str, f64, f64, f64)] = &[
    ("official", 0.93, 0.94, 0.91),
    ("versions", 0.97, 0.97, 0.97),
    ("colloquial", 0.41, 0.30, 0.58),
    ("materials", 0.86, 0.84, 0.92),
    ("time", 0.66, 0.52, 0.97),
    ("code", 0.97, 0.97, 0.97),
    ("legal", 0.97, 0.97, 0.97),
    ("traditional", 0.97, 0.97, 0.97),
    ("pinyin", 0.81, 0.75, 0.97),
    ("typo", 0.83, 0.78, 0.97),
    ("long", 0.47, 0.46, 0.54),
    ("mixed", 0.89, 0.90, 0.90),
    ("overall", 0.82, 0.79, 0.89),
];

/// Rank cut-off of every metric.
const K: usize = 10;

/// Hits fetched per query: past K, so ties across the cut-off are seen.
const FETCH: usize = 30;

#[test]
fn eval_builtin_corpus() {
    evaluate(
        "builtin",
        &common::builtin_corpus(),
        "eval_builtin.tsv",
        BUILTIN_FLOORS,
    );
}

#[test]
fn eval_real_corpus() {
    let Some(corpus) = common::shared_corpus("eval_real_corpus") else {
        return;
    };
    evaluate("real", &corpus, "eval_real.tsv", REAL_FLOORS);
}

/// One judged query as written in the data file.
#[derive(Debug)]
struct Judged {
    line: usize,
    group: String,
    query: String,
    /// (target, grade): a corpus-relative path or a document id.
    targets: Vec<(String, u8)>,
}

/// The scores of one query, with what the engine returned.
struct Scored<'a> {
    judged: &'a Judged,
    ndcg: f64,
    rr: f64,
    recall: f64,
    /// Top hits as (id, title, grade).
    top: Vec<(String, String, u8)>,
    /// Each judged target with its grade and position (0-based) among the fetched hits.
    ranks: Vec<(String, u8, Option<usize>)>,
}

fn evaluate(name: &str, corpus: &Path, data: &str, floors: &[(&str, f64, f64, f64)]) {
    let data_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(data);
    let text = std::fs::read_to_string(&data_path).expect("eval data file is readable");
    let judged = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", data_path.display()));
    check_floor_table(&judged, floors);

    let t0 = Instant::now();
    let index = common::tempdir();
    let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
    let mut syncer = Syncer::open(idx.clone()).unwrap();
    let report = syncer.full_sync(corpus, &()).unwrap();
    let searcher = Searcher::new(idx).unwrap();
    // The same fallbacks as the API and the CLI (pinyin, typo correction).
    let suggester = Suggester::build(&searcher.tantivy_searcher(), searcher.index().fields());
    let index_secs = t0.elapsed().as_secs_f64();

    // Resolve every target to the one document it names; collect all problems before failing.
    let mut problems = Vec::new();
    let resolved: Vec<HashMap<String, (String, u8)>> = judged
        .iter()
        .map(|j| {
            let mut by_id: HashMap<String, (String, u8)> = HashMap::new();
            for (target, grade) in &j.targets {
                match resolve(&searcher, target) {
                    Ok(id) => {
                        if let Some((other, _)) = by_id.insert(id.clone(), (target.clone(), *grade))
                        {
                            problems.push(format!(
                                "line {}: {target} and {other} name the same document {id}",
                                j.line
                            ));
                        }
                    }
                    Err(e) => problems.push(format!("line {}: {target}: {e}", j.line)),
                }
            }
            by_id
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{}: bad judged targets for the {name} index ({} documents):\n{}",
        data_path.display(),
        report.docs,
        problems.join("\n")
    );

    let t1 = Instant::now();
    let scored: Vec<Scored> = judged
        .iter()
        .zip(&resolved)
        .map(|(j, grades)| score(&searcher, &suggester, j, grades))
        .collect();
    let query_secs = t1.elapsed().as_secs_f64();

    let table = summarize(&scored);
    let mut out = format!(
        "\neval {name}: {} queries over {} documents (index {index_secs:.1} s, queries {query_secs:.2} s)\n",
        scored.len(),
        report.docs
    );
    out.push_str(&render_table(&table));
    out.push_str(&render_worst(&scored));
    eprintln!("{out}");

    let mut failures = Vec::new();
    for (group, ndcg, mrr, recall) in floors {
        let Some(m) = table.iter().find(|r| r.group == *group) else {
            continue;
        };
        for (metric, got, floor) in [
            ("nDCG@10", m.ndcg, *ndcg),
            ("MRR", m.mrr, *mrr),
            ("R@10", m.recall, *recall),
        ] {
            if got + 1e-9 < floor {
                failures.push(format!("{group} {metric} {got:.3} < floor {floor:.3}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "eval {name} fell under its floors:\n{}",
        failures.join("\n")
    );
}

/// Parse the tab-separated data: `#` comments, a header, then `group query judgments [note]`.
fn parse(text: &str) -> Result<Vec<Judged>, String> {
    let mut rows = Vec::new();
    let mut header = false;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if !header {
            if cols != ["group", "query", "judgments", "note"] {
                return Err(format!(
                    "line {line_no}: expected the header group<TAB>query<TAB>judgments<TAB>note"
                ));
            }
            header = true;
            continue;
        }
        if !(3..=4).contains(&cols.len()) {
            return Err(format!(
                "line {line_no}: {} columns; expected group, query, judgments and an optional note",
                cols.len()
            ));
        }
        let (group, query) = (cols[0].trim(), cols[1].trim());
        if !GROUPS.contains(&group) {
            return Err(format!(
                "line {line_no}: unknown group {group:?}; expected one of {GROUPS:?}"
            ));
        }
        if query.is_empty() {
            return Err(format!("line {line_no}: empty query"));
        }
        if let Some(first) = seen.insert(query, line_no) {
            return Err(format!(
                "line {line_no}: query {query:?} already judged on line {first}"
            ));
        }
        let mut targets: Vec<(String, u8)> = Vec::new();
        for item in cols[2].split_whitespace() {
            let (target, grade) = item
                .rsplit_once('=')
                .ok_or_else(|| format!("line {line_no}: {item:?} is not target=grade"))?;
            let grade: u8 = match grade {
                "1" => 1,
                "2" => 2,
                _ => {
                    return Err(format!(
                        "line {line_no}: grade {grade:?} of {target}; grades are 1 or 2"
                    ))
                }
            };
            if targets.iter().any(|(t, _)| t == target) {
                return Err(format!("line {line_no}: {target} judged twice"));
            }
            targets.push((target.to_string(), grade));
        }
        if targets.is_empty() {
            return Err(format!("line {line_no}: no judgments"));
        }
        rows.push(Judged {
            line: line_no,
            group: group.to_string(),
            query: query.to_string(),
            targets,
        });
    }
    if rows.is_empty() {
        return Err("no judged queries".to_string());
    }
    Ok(rows)
}

/// Every group in the data has a floor, and every floor names a group or `overall`.
fn check_floor_table(judged: &[Judged], floors: &[(&str, f64, f64, f64)]) {
    for j in judged {
        assert!(
            floors.iter().any(|f| f.0 == j.group),
            "group {} (line {}) has no floor in the table",
            j.group,
            j.line
        );
    }
    for (group, ..) in floors {
        assert!(
            *group == "overall" || judged.iter().any(|j| j.group == *group),
            "floor for group {group}, which has no queries"
        );
    }
}

/// The id of the one document `target` names: a document id, else the path of a file that
/// holds exactly one document.
fn resolve(searcher: &Searcher, target: &str) -> Result<String, String> {
    let idx = searcher.index();
    let fields = idx.fields();
    let s = searcher.tantivy_searcher();
    let lookup = |field: tantivy::schema::Field, value: &str| {
        let q = TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        );
        s.search(&q, &(TopDocs::with_limit(1).order_by_score(), Count))
            .expect("term lookup")
    };
    let (top, n) = lookup(fields.id, target);
    if n == 1 {
        return Ok(idx.stored_doc(&s, top[0].1).expect("stored document").id);
    }
    if n > 1 {
        return Err(format!("{n} documents share this id"));
    }
    let (top, n) = lookup(fields.path, target);
    match n {
        0 => Err("no document has this id or path".to_string()),
        1 => Ok(idx.stored_doc(&s, top[0].1).expect("stored document").id),
        n => Err(format!(
            "the file holds {n} documents; judge a record by its id"
        )),
    }
}

fn score<'a>(
    searcher: &Searcher,
    suggester: &Suggester,
    j: &'a Judged,
    grades: &HashMap<String, (String, u8)>,
) -> Scored<'a> {
    let mut req = SearchRequest::new(&j.query);
    // Past the cut-off too, so a run of tied scores that crosses it is seen whole.
    req.limit = Some(FETCH);
    // Snippets do not change the ranking; skipping them keeps the run short.
    req.highlight = Some(false);
    let hits = searcher
        .search_with(&req, Some(suggester))
        .unwrap_or_else(|e| panic!("line {}: {:?}: {e}", j.line, j.query))
        .hits;
    let grade_of = |id: &str| grades.get(id).map_or(0, |(_, g)| *g);
    let ranked: Vec<(f32, u8)> = hits.iter().map(|h| (h.score, grade_of(&h.id))).collect();
    let mut ideal: Vec<u8> = grades.values().map(|(_, g)| *g).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let (ndcg, rr, recall) = metrics(&ranked, &ideal);

    let mut ranks: Vec<(String, u8, Option<usize>)> = grades
        .iter()
        .map(|(id, (target, g))| (target.clone(), *g, hits.iter().position(|h| &h.id == id)))
        .collect();
    ranks.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Scored {
        judged: j,
        ndcg,
        rr,
        recall,
        top: hits
            .iter()
            .take(K)
            .map(|h| (h.id.clone(), h.title.clone(), grade_of(&h.id)))
            .collect(),
        ranks,
    }
}

/// nDCG@K, reciprocal rank and recall@K of one ranking, given as (score, grade) per hit, against
/// the judged grades sorted best first.
///
/// Hits with equal scores come back in index order, which changes between index builds (the
/// versions of one law, the sub-items of one catalogue item share a title and tie). So each
/// metric is its expected value over every order of each run of tied hits (McSherry and
/// Najork, ECIR 2008): the figures do not move between runs, and breaking a tie the right way
/// is a real gain.
fn metrics(ranked: &[(f32, u8)], ideal: &[u8]) -> (f64, f64, f64) {
    let discount = |p: usize| 1.0 / ((p + 2) as f64).log2();
    let best = ideal[0];
    let mut dcg = 0.0;
    let mut found = 0.0;
    let mut rr = None;
    let mut start = 0;
    while start < ranked.len().min(K) {
        let len = ranked[start..]
            .iter()
            .take_while(|(s, _)| *s == ranked[start].0)
            .count();
        let run = &ranked[start..start + len];
        let n = len as f64;
        let mean_gain = run.iter().map(|(_, g)| gain(*g)).sum::<f64>() / n;
        let relevant = run.iter().filter(|(_, g)| *g > 0).count() as f64;
        for p in start..(start + len).min(K) {
            dcg += mean_gain * discount(p);
            found += relevant / n;
        }
        let m = run.iter().filter(|(_, g)| *g == best).count();
        if rr.is_none() && m > 0 {
            // The first of m best hits among `len` tied ones sits at offset x with probability
            // C(len-x-1, m-1) / C(len, m).
            let e = (0..=len - m)
                .filter(|x| start + x < K)
                .map(|x| choose(len - x - 1, m - 1) / choose(len, m) / (start + x + 1) as f64)
                .sum();
            rr = Some(e);
        }
        start += len;
    }
    let idcg: f64 = ideal
        .iter()
        .take(K)
        .enumerate()
        .map(|(p, g)| gain(*g) * discount(p))
        .sum();
    (dcg / idcg, rr.unwrap_or(0.0), found / ideal.len() as f64)
}

fn choose(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
}

fn gain(grade: u8) -> f64 {
    f64::from((1u32 << grade) - 1)
}

/// Mean metrics of one group (or `overall`).
struct Row {
    group: String,
    n: usize,
    ndcg: f64,
    mrr: f64,
    recall: f64,
}

fn summarize(scored: &[Scored]) -> Vec<Row> {
    let mean = |group: &str, rows: Vec<&Scored>| {
        let n = rows.len() as f64;
        Row {
            group: group.to_string(),
            n: rows.len(),
            ndcg: rows.iter().map(|s| s.ndcg).sum::<f64>() / n,
            mrr: rows.iter().map(|s| s.rr).sum::<f64>() / n,
            recall: rows.iter().map(|s| s.recall).sum::<f64>() / n,
        }
    };
    let mut table: Vec<Row> = GROUPS
        .iter()
        .filter_map(|g| {
            let rows: Vec<&Scored> = scored.iter().filter(|s| s.judged.group == *g).collect();
            (!rows.is_empty()).then(|| mean(g, rows))
        })
        .collect();
    table.push(mean("overall", scored.iter().collect()));
    table
}

fn render_table(table: &[Row]) -> String {
    let mut out = format!(
        "{:<12} {:>4} {:>8} {:>6} {:>6}\n",
        "group", "n", "nDCG@10", "MRR", "R@10"
    );
    for r in table {
        let _ = writeln!(
            out,
            "{:<12} {:>4} {:>8.3} {:>6.3} {:>6.3}",
            r.group, r.n, r.ndcg, r.mrr, r.recall
        );
    }
    out
}

/// The queries without hits in one line, then the lowest-nDCG queries among the others, with
/// the top three hits and where each judged target landed.
fn render_worst(scored: &[Scored]) -> String {
    let n = std::env::var("BANSHI_EVAL_WORST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let mut out = String::new();
    let empty: Vec<&str> = scored
        .iter()
        .filter(|s| s.top.is_empty())
        .map(|s| s.judged.query.as_str())
        .collect();
    if !empty.is_empty() {
        let _ = writeln!(out, "no hits ({}): {}", empty.len(), empty.join(", "));
    }
    let mut worst: Vec<&Scored> = scored
        .iter()
        .filter(|s| !s.top.is_empty() && s.ndcg < 1.0)
        .collect();
    worst.sort_by(|a, b| {
        a.ndcg
            .total_cmp(&b.ndcg)
            .then(a.judged.line.cmp(&b.judged.line))
    });
    let _ = writeln!(
        out,
        "worst {} of {} imperfect queries with hits:",
        n.min(worst.len()),
        worst.len()
    );
    for s in worst.into_iter().take(n) {
        let j = s.judged;
        let _ = writeln!(
            out,
            "  {:.3} [{}] {} (line {})",
            s.ndcg, j.group, j.query, j.line
        );
        for (i, (id, title, g)) in s.top.iter().take(3).enumerate() {
            let _ = writeln!(out, "      {}. {title} [{id}] grade {g}", i + 1);
        }
        let ranks: Vec<String> = s
            .ranks
            .iter()
            .map(|(t, g, r)| match r {
                Some(r) => format!("{t}={g}@{}", r + 1),
                None => format!("{t}={g}@-"),
            })
            .collect();
        let _ = writeln!(out, "      judged: {}", ranks.join(" "));
    }
    out
}

#[test]
fn parse_rejects_bad_rows() {
    let head = "# c\ngroup\tquery\tjudgments\tnote\n";
    assert!(parse(&format!("{head}official\t结婚\tguides/a.md=2\t\n")).is_ok());
    for (row, why) in [
        ("offical\t结婚\tguides/a.md=2\t", "unknown group"),
        ("official\t结婚\tguides/a.md=3\t", "grades are 1 or 2"),
        ("official\t结婚\tguides/a.md\t", "not target=grade"),
        ("official\t结婚\t\t", "no judgments"),
        ("official\t结婚\ta=2 a=1\t", "judged twice"),
        ("official\t结婚\ta=2\nofficial\t结婚\tb=2", "already judged"),
    ] {
        let e = parse(&format!("{head}{row}\n")).unwrap_err();
        assert!(e.contains(why), "{row:?}: {e}");
    }
    assert!(parse("official\t结婚\ta=2\n")
        .unwrap_err()
        .contains("header"));
}

#[test]
fn metrics_count_ties_as_their_expected_value() {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // Perfect order.
    let (ndcg, rr, recall) = metrics(&[(3.0, 2), (2.0, 1), (1.0, 0)], &[2, 1]);
    assert!(close(ndcg, 1.0) && close(rr, 1.0) && close(recall, 1.0));
    // The answer second: RR 1/2, and nDCG below 1.
    let (ndcg, rr, _) = metrics(&[(3.0, 0), (2.0, 2)], &[2]);
    assert!(close(rr, 0.5) && close(ndcg, 1.0 / 3f64.log2()));
    // The answer tied with one other hit at the top: half the time first, half second.
    let (ndcg, rr, _) = metrics(&[(3.0, 0), (3.0, 2)], &[2]);
    assert!(close(rr, 0.75), "{rr}");
    assert!(close(ndcg, 0.5 + 0.5 / 3f64.log2()), "{ndcg}");
    // Two answers among four tied hits: the first answer is at offset 0 with p 1/2, 1 with p
    // 1/3, 2 with p 1/6.
    let (_, rr, _) = metrics(&[(1.0, 2), (1.0, 0), (1.0, 2), (1.0, 0)], &[2, 2]);
    assert!(close(rr, 0.5 + 1.0 / 6.0 + 1.0 / 18.0), "{rr}");
    // A tie crossing the cut-off: 12 tied hits, one relevant, 10 of 12 places inside.
    let mut ranked = vec![(1.0, 0); 12];
    ranked[11].1 = 1;
    let (_, _, recall) = metrics(&ranked, &[1]);
    assert!(close(recall, 10.0 / 12.0), "{recall}");
    // Nothing found.
    assert_eq!(metrics(&[], &[2]), (0.0, 0.0, 0.0));
}
