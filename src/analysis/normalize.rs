//! Text normalization applied before segmentation, on documents and queries alike.
//!
//! Owns: NFKC (full-width → half-width), Latin lower-case, traditional → simplified Chinese,
//! odd spaces folded to ' ', zero-width and private-use characters removed. It keeps a map from
//! every normalized byte back to the original text, so token offsets — and therefore highlights —
//! point at the characters the user sees, even where normalization changed byte lengths.
//! It must not segment or drop words: that is the tokenizer's job.

use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;
use zhconv::{get_builtin_converter, Variant, ZhConverter};

/// Normalized text plus the way back to the original offsets.
#[derive(Debug, Default)]
pub struct Normalized {
    /// The normalized text that the segmenter sees.
    pub text: String,
    /// For each normalized byte offset that starts a char (and `text.len()`), the original offset
    /// of the char it came from.
    start_map: Vec<u32>,
    /// For each normalized byte offset that ends a char, the original offset just past the char
    /// it came from.
    end_map: Vec<u32>,
}

impl Normalized {
    /// Original byte offset of the char that starts at normalized offset `b`.
    pub fn original_start(&self, b: usize) -> usize {
        self.start_map[b] as usize
    }
    /// Original byte offset just past the char that ends at normalized offset `b`.
    pub fn original_end(&self, b: usize) -> usize {
        self.end_map[b] as usize
    }
}

fn converter() -> &'static ZhConverter {
    static CONV: OnceLock<&'static ZhConverter> = OnceLock::new();
    CONV.get_or_init(|| get_builtin_converter(Variant::ZhCN))
}

/// Chars removed outright: they split words visually nowhere but break segmentation.
fn is_dropped(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    ) || ('\u{E000}'..='\u{F8FF}').contains(&c)
        || (c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
}

/// Normalize `input` (see the module docs).
pub fn normalize(input: &str) -> Normalized {
    // Pass 1: per-char folding, building (normalized char, original span).
    let mut stage = String::with_capacity(input.len());
    let mut spans: Vec<(u32, u32)> = Vec::with_capacity(input.len() / 2);
    let mut push = |stage: &mut String, c: char, o: usize, l: usize| {
        stage.push(c);
        for _ in 0..c.len_utf8() {
            spans.push((o as u32, (o + l) as u32));
        }
    };
    for (o, c) in input.char_indices() {
        let l = c.len_utf8();
        if c.is_ascii() {
            push(&mut stage, c.to_ascii_lowercase(), o, l);
        } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c) {
            // CJK unified ideographs are NFKC-stable and caseless: the hot path.
            push(&mut stage, c, o, l);
        } else if is_dropped(c) {
        } else if c.is_whitespace() {
            push(&mut stage, ' ', o, l);
        } else {
            for n in std::iter::once(c).nfkc() {
                for lc in n.to_lowercase() {
                    push(&mut stage, lc, o, l);
                }
            }
        }
    }
    // Pass 2: traditional → simplified, phrase-aware, keeping the spans.
    let mut out = Normalized {
        text: String::with_capacity(stage.len()),
        start_map: Vec::with_capacity(stage.len() + 1),
        end_map: Vec::with_capacity(stage.len() + 1),
    };
    let emit = |out: &mut Normalized, s: &str, from: u32, to: u32| {
        for c in s.chars() {
            out.text.push(c);
            for _ in 0..c.len_utf8() {
                out.start_map.push(from);
                out.end_map.push(to);
            }
        }
    };
    let mut last = 0;
    let has_non_ascii = !stage.is_ascii();
    if has_non_ascii {
        for (s, e, to) in converter().search(&stage) {
            copy_span(&mut out, &stage, &spans, last, s);
            let from = spans[s].0;
            let end = spans[e - 1].1;
            emit(&mut out, to, from, end);
            last = e;
        }
    }
    copy_span(&mut out, &stage, &spans, last, stage.len());
    // Offsets are looked up at a char start (start_map[b]) and at a char end (end_map[b-1]);
    // shift end_map so that end_map[b] answers for "the char ending at b".
    out.end_map.insert(0, 0);
    out.start_map.push(input.len() as u32);
    out
}

fn copy_span(out: &mut Normalized, stage: &str, spans: &[(u32, u32)], from: usize, to: usize) {
    out.text.push_str(&stage[from..to]);
    out.start_map.extend(spans[from..to].iter().map(|s| s.0));
    out.end_map.extend(spans[from..to].iter().map(|s| s.1));
}

/// Normalize and return only the text (queries, dictionary entries, suggestions).
pub fn normalize_text(input: &str) -> String {
    normalize(input).text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: &str) {
        assert_eq!(normalize(input).text, expect, "normalizing {input:?}");
    }

    #[test]
    fn folds_width_case_and_script() {
        check("ＡＢＣ１２３", "abc123");
        check("營業執照", "营业执照");
        check("居民身份證", "居民身份证");
        check("SH00SH2312009001", "sh00sh2312009001");
    }

    #[test]
    fn removes_invisible_and_folds_spaces() {
        check("营业\u{200B}执照", "营业执照");
        check("第一章\u{3000}总则", "第一章 总则");
        check("a\u{E003}b", "ab");
    }

    #[test]
    fn maps_offsets_back_to_the_original() {
        let input = "ＡＢ營業\u{200B}執照x";
        let n = normalize(input);
        assert_eq!(n.text, "ab营业执照x");
        let b = n.text.find("营业").unwrap();
        let e = n.text.find('x').unwrap();
        assert_eq!(
            &input[n.original_start(b)..n.original_end(e)],
            "營業\u{200B}執照"
        );
        assert_eq!(n.original_start(n.text.len()), input.len());
    }
}
