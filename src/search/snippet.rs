//! Snippets and highlights, sized in characters (not bytes: tantivy's generator counts bytes,
//! about 50 hanzi for 150), with `<em>` around whole matched words and everything else
//! HTML-escaped.
//!
//! The window is chosen by plain substring search of the query words over the original text,
//! so only the ~120 characters shown are segmented, whatever the document's size.

use crate::analysis::Analyzer;
use std::collections::HashSet;

/// Default snippet length in characters.
pub const SNIPPET_CHARS: usize = 120;

/// HTML-escape `s` into `out`.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Highlight every token of `text` whose normalized form is in `terms`.
pub fn highlight(analyzer: &Analyzer, text: &str, terms: &HashSet<String>) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    if !terms.is_empty() {
        for g in analyzer.groups(text) {
            for t in &g.tokens {
                if terms.contains(&t.text) {
                    ranges.push((t.from, t.to));
                }
            }
        }
    }
    ranges.sort_unstable();
    // Overlapping sub-word matches merge into one highlighted span.
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = String::with_capacity(text.len() + merged.len() * 9);
    let mut pos = 0;
    for (s, e) in merged {
        escape_into(&mut out, &text[pos..s]);
        out.push_str("<em>");
        escape_into(&mut out, &text[s..e]);
        out.push_str("</em>");
        pos = e;
    }
    escape_into(&mut out, &text[pos..]);
    out
}

/// A highlighted snippet of about `max_chars` characters from `body`.
pub fn snippet(
    analyzer: &Analyzer,
    body: &str,
    terms: &HashSet<String>,
    max_chars: usize,
) -> String {
    let body = body.trim();
    // Candidate windows start a little before each occurrence of a query word.
    let mut hits: Vec<(usize, &str, usize)> = Vec::new();
    // 第12条 is written 第十二条 in most laws: search both spellings.
    let spellings: Vec<(String, &str)> = terms
        .iter()
        .flat_map(|t| {
            crate::analysis::normalize::article_spellings(t)
                .into_iter()
                .map(move |s| (s, t.as_str()))
        })
        .collect();
    let all = terms
        .iter()
        .map(|t| (t.as_str(), t.as_str()))
        .chain(spellings.iter().map(|(s, t)| (s.as_str(), *t)));
    for (spelled, t) in all {
        if spelled.is_empty() {
            continue;
        }
        for (i, _) in body.match_indices(spelled).take(64) {
            hits.push((i, t, spelled.len()));
        }
    }
    hits.sort_unstable();
    let lead = max_chars / 6;
    let mut best: Option<(usize, usize)> = None; // (distinct words, window start byte)
    for (idx, &(start, _, _)) in hits.iter().enumerate() {
        let win_start = back_chars(body, start, lead);
        let win_end = forward_chars(body, win_start, max_chars);
        let mut distinct: HashSet<&str> = HashSet::new();
        for &(s, w, len) in &hits[idx..] {
            if s + len > win_end {
                break;
            }
            distinct.insert(w);
        }
        let score = distinct.len();
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, win_start));
        }
    }
    let start = best.map(|b| b.1).unwrap_or(0);
    // Start at a line start when one is near, so the snippet reads naturally.
    let start = match body[..start].rfind('\n') {
        Some(nl) if body[nl + 1..start].chars().count() <= lead => nl + 1,
        _ => start,
    };
    let end = forward_chars(body, start, max_chars);
    let window = &body[start..end];
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&highlight(analyzer, &window.replace('\n', " "), terms));
    if end < body.len() {
        out.push('…');
    }
    out
}

fn back_chars(s: &str, from: usize, n: usize) -> usize {
    s[..from]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

fn forward_chars(s: &str, from: usize, n: usize) -> usize {
    s[from..]
        .char_indices()
        .nth(n)
        .map(|(i, _)| from + i)
        .unwrap_or(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn analyzer() -> &'static Analyzer {
        static A: OnceLock<std::sync::Arc<Analyzer>> = OnceLock::new();
        A.get_or_init(Analyzer::load_default)
    }

    fn terms(ws: &[&str]) -> HashSet<String> {
        ws.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn highlights_whole_words_and_escapes_html() {
        let h = highlight(
            analyzer(),
            "<b>居民身份证</b>补领",
            &terms(&["身份证", "居民身份证", "补领"]),
        );
        assert_eq!(h, "&lt;b&gt;<em>居民身份证</em>&lt;/b&gt;<em>补领</em>");
    }

    #[test]
    fn snippet_is_counted_in_characters_and_centred_on_matches() {
        let body = format!(
            "{}申请营业执照需要提交材料{}",
            "前言".repeat(200),
            "后记".repeat(200)
        );
        let s = snippet(analyzer(), &body, &terms(&["营业执照"]), 60);
        assert!(s.contains("<em>营业执照</em>"), "{s}");
        let plain = s.replace("<em>", "").replace("</em>", "");
        let n = plain.chars().count();
        assert!((60..=62).contains(&n), "{n} chars: {s}");
        assert!(s.starts_with('…') && s.ends_with('…'));
    }

    #[test]
    fn snippet_finds_article_numbers_as_written() {
        let body = format!(
            "{}第十二条 下列事项可以设定行政许可{}",
            "前言".repeat(200),
            "后记".repeat(200)
        );
        let s = snippet(analyzer(), &body, &terms(&["第12条"]), 60);
        assert!(s.contains("<em>第十二条</em> 下列事项"), "{s}");
    }

    #[test]
    fn snippet_without_matches_is_the_start() {
        let s = snippet(analyzer(), "第一条 为了规范。", &terms(&["不存在"]), 120);
        assert_eq!(s, "第一条 为了规范。");
    }
}
