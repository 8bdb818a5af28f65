//! Snippets and highlights, sized in characters (not bytes: tantivy's generator counts bytes,
//! about 50 hanzi for 150), with `<em>` around whole matched words and everything else
//! HTML-escaped.
//!
//! The window is chosen by plain substring search of the query words over the original text,
//! so only the ~120 characters shown are segmented, whatever the document's size.

use crate::analysis::normalize::normalize;
use crate::analysis::Analyzer;
use memchr::memmem::Finder;
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

/// Characters that end a clause for [`highlight`], as normalization leaves them (full-width
/// punctuation becomes ASCII): Chinese punctuation and line ends. None of them is in a token
/// (jieba cuts at every character outside words), so segmenting clause by clause gives the
/// tokens segmenting the whole text gives.
const CLAUSE_ENDS: &[char] = &['。', '、', ',', ';', ':', '!', '?', '\n'];

/// A finder per query word (SIMD substring search), for [`highlight_with`].
fn word_finders(terms: &HashSet<String>) -> Vec<Finder<'static>> {
    terms
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| Finder::new(t.as_bytes()).into_owned())
        .collect()
}

/// Highlight every token of `text` whose normalized form is in `terms`.
pub fn highlight(analyzer: &Analyzer, text: &str, terms: &HashSet<String>) -> String {
    highlight_with(analyzer, text, terms, &word_finders(terms))
}

/// [`highlight`] with the words' finders built once for many texts.
///
/// The text is normalized once and only the clauses (text between Chinese punctuation,
/// which no token spans) holding a query word are segmented: segmentation was most of a
/// snippet's cost, and a snippet window holds many clauses, few of them with a match.
/// Normalizing each clause on its own, asking it for each word and normalizing a matching
/// clause again to segment it cost the 100k mix's hits phase 9-11 % more than this.
fn highlight_with(
    analyzer: &Analyzer,
    text: &str,
    terms: &HashSet<String>,
    finders: &[Finder<'_>],
) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    if !finders.is_empty() {
        let norm = normalize(text);
        let t = norm.text.as_str();
        // Where the words occur; a word never spans a clause end.
        let mut found: Vec<(usize, usize)> = finders
            .iter()
            .flat_map(|f| f.find_iter(t.as_bytes()).map(|s| (s, s + f.needle().len())))
            .collect();
        found.sort_unstable();
        // The end of the last clause segmented: each clause is segmented once, however many
        // words it holds.
        let mut done = 0;
        for (start, end) in found {
            if start < done {
                continue;
            }
            let from = t[..start].rfind(CLAUSE_ENDS).map_or(0, |at| {
                at + t[at..].chars().next().map_or(1, char::len_utf8)
            });
            let to = t[end..].find(CLAUSE_ENDS).map_or(t.len(), |at| end + at);
            analyzer.for_each_normalized_token(&t[from..to], |_, token, s, e| {
                if terms.contains(token) {
                    ranges.push((norm.original_start(from + s), norm.original_end(from + e)));
                }
            });
            done = to;
        }
    }
    render(text, ranges)
}

/// `text` escaped for HTML with the byte spans `ranges` (any order) wrapped in `<em>`.
fn render(text: &str, mut ranges: Vec<(usize, usize)>) -> String {
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

/// Occurrences of one word kept per document: enough to find the densest window, and a
/// common word in a 100 KB law stops costing anything after that.
const MAX_OCCURRENCES_PER_WORD: usize = 64;

/// Finds snippet windows for one query: built once per search (a SIMD substring finder per
/// query word and per other spelling of it), then asked for each hit's snippet.
///
/// Windows are compared in character offsets computed once per occurrence, so a long law
/// costs a few vectorized scans, not a character walk per candidate window.
pub struct Snippets<'a> {
    terms: &'a HashSet<String>,
    /// Per spelling: which word it spells (an index into the words), its finder and its length
    /// in characters.
    finders: Vec<(usize, Finder<'static>, usize)>,
    /// A finder per word, for highlighting (normalized text: one spelling each).
    words: Vec<Finder<'static>>,
}

impl<'a> Snippets<'a> {
    /// Prepare snippets for the (normalized) query words `terms`. 第12条 is written 第十二条 in
    /// most laws, so both spellings are searched.
    pub fn new(terms: &'a HashSet<String>) -> Snippets<'a> {
        let mut finders = Vec::new();
        for (w, t) in terms.iter().filter(|t| !t.is_empty()).enumerate() {
            for spelled in
                std::iter::once(t.clone()).chain(crate::analysis::normalize::article_spellings(t))
            {
                let n = spelled.chars().count();
                finders.push((w, Finder::new(spelled.as_bytes()).into_owned(), n));
            }
        }
        Snippets {
            terms,
            finders,
            words: word_finders(terms),
        }
    }

    /// [`highlight`] of `text` with this query's words.
    pub fn highlight(&self, analyzer: &Analyzer, text: &str) -> String {
        highlight_with(analyzer, text, self.terms, &self.words)
    }

    /// A highlighted snippet of about `max_chars` characters from `body`: the window with the
    /// most distinct query words, starting a little before the first of them (or at a line
    /// start close by).
    pub fn snippet(&self, analyzer: &Analyzer, body: &str, max_chars: usize) -> String {
        let body = body.trim();
        let lead = max_chars / 6;
        let start = self.best_window(body, lead, max_chars);
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
        out.push_str(&self.highlight(analyzer, &window.replace('\n', " ")));
        if end < body.len() {
            out.push('…');
        }
        out
    }

    /// Byte offset where the best window starts (0 when no word occurs).
    fn best_window(&self, body: &str, lead: usize, max_chars: usize) -> usize {
        // (start byte, start char, end char, word) of each occurrence.
        let mut hits: Vec<(usize, usize, usize, usize)> = Vec::new();
        // Occurrences per word (up to the cap): how rare each word is in this body.
        let mut found = vec![0u32; self.finders.iter().map(|f| f.0 + 1).max().unwrap_or(0)];
        for (word, finder, len) in &self.finders {
            for s in finder
                .find_iter(body.as_bytes())
                .take(MAX_OCCURRENCES_PER_WORD)
            {
                hits.push((s, 0, *len, *word));
                found[*word] += 1;
            }
        }
        hits.sort_unstable();
        // Character offsets in one walk over the text up to the last occurrence.
        let (mut at_byte, mut at_char) = (0usize, 0usize);
        for h in &mut hits {
            at_char += char_count(&body.as_bytes()[at_byte..h.0]);
            at_byte = h.0;
            (h.1, h.2) = (at_char, at_char + h.2);
        }
        // The most distinct words; among as many, the rarest in this body: a law whose every
        // chapter heading holds 章名 shows the one chapter that also holds 29998 (the first
        // chapters would tie on one word, and the rare word's neighbours may lie past the
        // occurrence cap).
        let mut best: Option<(u32, f32, usize)> = None; // (distinct words, rarity, hit)
        for (i, &(_, c, _, _)) in hits.iter().enumerate() {
            let win_start = c.saturating_sub(lead);
            let win_end = win_start + max_chars;
            let mut distinct = 0u64;
            let mut rarity = 0.0f32;
            for &(_, _, e, w) in &hits[i..] {
                if e > win_end {
                    break;
                }
                let bit = 1 << (w % 64);
                if distinct & bit == 0 {
                    distinct |= bit;
                    rarity += 1.0 / found[w] as f32;
                }
            }
            let (n, r) = (distinct.count_ones(), rarity);
            if best.is_none_or(|(b, br, _)| n > b || (n == b && r > br)) {
                best = Some((n, r, i));
            }
        }
        match best {
            Some((_, _, i)) => back_chars(body, hits[i].0, lead),
            None => 0,
        }
    }
}

/// Characters in a valid UTF-8 slice: the bytes that don't continue a character. Counted
/// in a byte per chunk of 255: a `usize` per byte kept the compiler to four bytes a step,
/// and this count over long laws was most of a snippet's time.
fn char_count(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u8, |n, &b| n + u8::from((b as i8) >= -0x40)) as usize
        })
        .sum()
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

    /// Counting characters a chunk at a time gives `chars().count()` for text of one- to
    /// four-byte characters, across chunk ends and at every length up to a few chunks.
    #[test]
    fn char_count_counts_characters() {
        let text = "a法é😀，b第十二条\n".repeat(60);
        for end in (0..=text.len()).filter(|&e| text.is_char_boundary(e)) {
            assert_eq!(
                char_count(&text.as_bytes()[..end]),
                text[..end].chars().count()
            );
        }
        assert!(text.len() > 3 * 255);
    }

    /// Highlighting clause by clause marks exactly what segmenting the whole text marks, over
    /// every file of the built-in corpus in 200-character windows, with query words taken from
    /// the text itself (every fifth word and its parts) plus traditional-script and article
    /// spellings.
    #[test]
    fn clause_by_clause_highlighting_equals_whole_text_highlighting() {
        fn whole(analyzer: &Analyzer, text: &str, terms: &HashSet<String>) -> Vec<(usize, usize)> {
            analyzer
                .groups(text)
                .iter()
                .flat_map(|g| g.tokens.iter())
                .filter(|t| terms.contains(&t.text))
                .map(|t| (t.from, t.to))
                .collect()
        }
        fn marked(html: &str) -> usize {
            html.matches("<em>").count()
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let mut windows = 0;
        let mut highlighted = 0;
        for entry in walkdir::WalkDir::new(&root) {
            let entry = entry.unwrap();
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let chars: Vec<char> = text.chars().collect();
            for window in chars.chunks(200) {
                let window: String = window.iter().collect();
                let mut t: HashSet<String> = analyzer()
                    .groups(&window)
                    .iter()
                    .step_by(5)
                    .flat_map(|g| g.tokens.iter().map(|t| t.text.clone()))
                    .collect();
                t.extend(terms(&["营业执照", "身份证", "第12条", "办理"]));
                let new = highlight(analyzer(), &window, &t);
                let reference = render(&window, whole(analyzer(), &window, &t));
                assert_eq!(new, reference, "{window}");
                windows += 1;
                highlighted += marked(&new);
            }
        }
        // The comparison ran over real text and marked plenty.
        assert!(
            windows > 200 && highlighted > 1000,
            "{windows} windows, {highlighted} marks"
        );
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
        let t = terms(&["营业执照"]);
        let s = Snippets::new(&t).snippet(analyzer(), &body, 60);
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
        let t = terms(&["第12条"]);
        let s = Snippets::new(&t).snippet(analyzer(), &body, 60);
        assert!(s.contains("<em>第十二条</em> 下列事项"), "{s}");
    }

    #[test]
    fn snippet_prefers_the_window_with_more_distinct_words() {
        let body = format!(
            "{}营业执照{}个体工商户营业执照的申请材料{}",
            "前言".repeat(100),
            "中段".repeat(100),
            "后记".repeat(100)
        );
        let t = terms(&["营业执照", "申请材料"]);
        let s = Snippets::new(&t).snippet(analyzer(), &body, 40);
        assert!(s.contains("<em>申请材料</em>"), "{s}");
        assert!(s.contains("个体工商户<em>营业执照</em>"), "{s}");
    }

    /// Every window holds one query word: the one holding the word found once wins over the
    /// first of many holding the word found everywhere.
    #[test]
    fn snippet_prefers_the_window_with_the_rarer_word() {
        let body: String = (0..300)
            .map(|i| {
                format!(
                    "第{i}章 章名 内容{}。\n",
                    if i == 250 { "，营业执照" } else { "" }
                )
            })
            .collect();
        let t = terms(&["章名", "营业执照"]);
        let s = Snippets::new(&t).snippet(analyzer(), &body, 30);
        assert!(s.contains("<em>营业执照</em>"), "{s}");
    }

    #[test]
    fn snippet_without_matches_is_the_start() {
        let t = terms(&["不存在"]);
        let s = Snippets::new(&t).snippet(analyzer(), "第一条 为了规范。", 120);
        assert_eq!(s, "第一条 为了规范。");
    }
}
