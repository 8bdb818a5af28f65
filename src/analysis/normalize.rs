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
    /// Normalized text whose offsets stay normalized offsets: `normalize_text` without the
    /// maps, for the index's token stream (the index stores positions, not offsets).
    pub fn without_offsets(input: &str) -> Normalized {
        Normalized {
            text: normalize_text(input),
            start_map: Vec::new(),
            end_map: Vec::new(),
        }
    }

    /// Empty, with room for `bytes` bytes of text and their maps (and the end's entry).
    fn with_capacity(bytes: usize) -> Normalized {
        Normalized {
            text: String::with_capacity(bytes),
            start_map: Vec::with_capacity(bytes + 1),
            end_map: Vec::with_capacity(bytes + 1),
        }
    }

    /// Original byte offset of the char that starts at normalized offset `b` (`b` itself
    /// without offset maps).
    pub fn original_start(&self, b: usize) -> usize {
        if self.start_map.is_empty() {
            return b;
        }
        self.start_map[b] as usize
    }
    /// Original byte offset just past the char that ends at normalized offset `b` (`b` itself
    /// without offset maps).
    pub fn original_end(&self, b: usize) -> usize {
        if self.end_map.is_empty() {
            return b;
        }
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

/// The characters `c` becomes before traditional → simplified: lower case, NFKC, spaces
/// folded, invisible ones dropped.
fn fold_char(c: char, mut push: impl FnMut(char)) {
    if c.is_ascii() {
        push(c.to_ascii_lowercase());
    } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c) {
        // CJK unified ideographs are NFKC-stable and caseless: the hot path.
        push(c);
    } else if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        // Full-width ASCII (，；（）：！？ and full-width letters and digits): NFKC gives the
        // ASCII character 0xFEE0 below. With the block below, this is most of the other
        // characters of Chinese text, and the general path costs an NFKC iterator each.
        push(char::from((c as u32 - 0xFEE0) as u8).to_ascii_lowercase());
    } else if ('\u{3001}'..='\u{3035}').contains(&c) || ('\u{2018}'..='\u{201D}').contains(&c) {
        // 、。《》「」【】 and curly quotes: NFKC-stable and caseless.
        push(c);
    } else if is_dropped(c) {
    } else if c.is_whitespace() {
        push(' ');
    } else {
        for n in std::iter::once(c).nfkc() {
            for lc in n.to_lowercase() {
                push(lc);
            }
        }
    }
}

/// Normalize `input` (see the module docs).
pub fn normalize(input: &str) -> Normalized {
    // Pass 1: per-char folding, each normalized byte with the original char it came from.
    let mut folded = Normalized::with_capacity(input.len());
    for (o, c) in input.char_indices() {
        let (from, to) = (o as u32, (o + c.len_utf8()) as u32);
        fold_char(c, |n| push_mapped(&mut folded, n, from, to));
    }
    // Pass 2: traditional → simplified, phrase-aware, keeping the spans. Most text has
    // nothing to convert and keeps pass 1's maps (a snippet is normalized for every hit).
    let found: Vec<_> = if folded.text.is_ascii() {
        Vec::new()
    } else {
        converter().search(&folded.text).collect()
    };
    let mut out = if found.is_empty() {
        folded
    } else {
        let mut out = Normalized::with_capacity(folded.text.len());
        let mut last = 0;
        for (s, e, to) in found {
            copy_normalized(&mut out, &folded, last, s);
            let (from, end) = (folded.start_map[s], folded.end_map[e - 1]);
            to.chars().for_each(|c| push_mapped(&mut out, c, from, end));
            last = e;
        }
        copy_normalized(&mut out, &folded, last, folded.text.len());
        out
    };
    if has_cn_article(&out.text) {
        out = arabic_articles(out);
    }
    // Offsets are looked up at a char start (start_map[b]) and at a char end (end_map[b-1]);
    // shift end_map so that end_map[b] answers for "the char ending at b".
    out.end_map.insert(0, 0);
    out.start_map.push(input.len() as u32);
    out
}

/// Append `c`, every byte of it mapped to the original span `from..to`.
fn push_mapped(out: &mut Normalized, c: char, from: u32, to: u32) {
    out.text.push(c);
    for _ in 0..c.len_utf8() {
        out.start_map.push(from);
        out.end_map.push(to);
    }
}

/// Whether a 第 is followed by a Chinese numeral: only then may [`arabic_articles`] change
/// anything (a law's text holds many 第, few of them before a numeral in a given snippet).
fn has_cn_article(text: &str) -> bool {
    text.match_indices('第').any(|(at, _)| {
        text[at + '第'.len_utf8()..]
            .chars()
            .next()
            .is_some_and(is_cn_digit)
    })
}

/// Chinese numerals a structural reference may use (第十二条, 第一百零三条, 第〇三条).
fn is_cn_digit(c: char) -> bool {
    matches!(
        c,
        '零' | '〇'
            | '一'
            | '二'
            | '两'
            | '三'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
            | '十'
            | '百'
            | '千'
    )
}

/// Units that close a structural reference: 第X条, 章, 节, 款, 项, 编, 目, 部分.
fn is_article_unit(c: char) -> bool {
    matches!(
        c,
        '条' | '章' | '节' | '款' | '项' | '编' | '目' | '部' | '次' | '届'
    )
}

/// Is `w` a unit closing a structural reference (条, 章, 节 …)?
pub(super) fn is_article_unit_str(w: &str) -> bool {
    let mut c = w.chars();
    matches!((c.next(), c.next()), (Some(u), None) if is_article_unit(u))
}

/// The value of a Chinese numeral (一百零三 → 103, 十二 → 12, 二〇二三 → 2023), if it is one.
pub fn cn_number(s: &str) -> Option<u64> {
    let digit = |c: char| -> Option<u64> {
        Some(match c {
            '零' | '〇' => 0,
            '一' => 1,
            '二' | '两' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '七' => 7,
            '八' => 8,
            '九' => 9,
            _ => return None,
        })
    };
    if s.is_empty() || s.chars().count() > 12 {
        return None;
    }
    if !s.chars().any(|c| matches!(c, '十' | '百' | '千')) {
        // Digit by digit: 二〇二三.
        return s.chars().try_fold(0u64, |n, c| Some(n * 10 + digit(c)?));
    }
    let (mut total, mut pending) = (0u64, None::<u64>);
    for c in s.chars() {
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            _ => {
                pending = Some(digit(c)?);
                continue;
            }
        };
        // 十二: a bare 十 means 一十.
        total += pending.take().unwrap_or(1) * unit;
    }
    Some(total + pending.unwrap_or(0))
}

/// The Chinese numeral laws write for `n` (12 → 十二, 103 → 一百零三, 110 → 一百一十), for
/// n < 10 000.
pub fn cn_numeral(n: u64) -> Option<String> {
    const D: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    if n == 0 || n >= 10_000 {
        return (n == 0).then(|| "零".to_string());
    }
    let mut out = String::new();
    let mut zero = false;
    for (unit, name) in [
        (1000, Some('千')),
        (100, Some('百')),
        (10, Some('十')),
        (1, None),
    ] {
        let d = (n / unit % 10) as usize;
        if d == 0 {
            zero = !out.is_empty();
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        // 十二, not 一十二, at the start.
        if !(unit == 10 && d == 1 && out.is_empty()) {
            out.push(D[d]);
        }
        if let Some(u) = name {
            out.push(u);
        }
    }
    Some(out)
}

/// 第十二条 → 第12条 (and 章, 节, 款, 项 …), keeping the offset maps: the digits map to the
/// whole original numeral, so a highlight of 第12条 wraps 第十二条 as written. Documents and
/// queries both pass here, so 第十二条 and 第12条 are the same words to the index.
fn arabic_articles(n: Normalized) -> Normalized {
    let chars: Vec<(usize, char)> = n.text.char_indices().collect();
    let mut out = Normalized::with_capacity(n.text.len());
    let mut i = 0;
    let mut copied = 0; // bytes of n.text already in out
    while i < chars.len() {
        if chars[i].1 == '第' {
            let mut j = i + 1;
            while j < chars.len() && is_cn_digit(chars[j].1) {
                j += 1;
            }
            if j > i + 1 && j < chars.len() && is_article_unit(chars[j].1) {
                let (from, to) = (chars[i + 1].0, chars[j].0);
                if let Some(v) = cn_number(&n.text[from..to]) {
                    copy_normalized(&mut out, &n, copied, from);
                    let (o_from, o_to) = (n.start_map[from], n.end_map[to - 1]);
                    for c in v.to_string().chars() {
                        out.text.push(c);
                        out.start_map.push(o_from);
                        out.end_map.push(o_to);
                    }
                    copied = to;
                    i = j;
                    continue;
                }
            }
        }
        i += 1;
    }
    copy_normalized(&mut out, &n, copied, n.text.len());
    out
}

/// Copy normalized bytes `from..to` of `n` with their maps (before the final shift of the maps).
fn copy_normalized(out: &mut Normalized, n: &Normalized, from: usize, to: usize) {
    out.text.push_str(&n.text[from..to]);
    out.start_map.extend_from_slice(&n.start_map[from..to]);
    out.end_map.extend_from_slice(&n.end_map[from..to]);
}

/// The other spellings of a structural reference as written in documents: 第12条 →
/// [第十二条]. Empty for anything else. Snippets search the original text with these.
pub fn article_spellings(word: &str) -> Vec<String> {
    let Some(rest) = word.strip_prefix('第') else {
        return Vec::new();
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let unit = &rest[digits.len()..];
    if digits.is_empty() || unit.chars().count() != 1 || !unit.chars().all(is_article_unit) {
        return Vec::new();
    }
    match digits.parse().ok().and_then(cn_numeral) {
        Some(cn) => vec![format!("第{cn}{unit}")],
        None => Vec::new(),
    }
}

/// `char::is_alphanumeric`, with CJK ideographs (most of every text) answered before the
/// Unicode property tables are consulted: keying 42k titles spent 4 % of its time there.
/// Chinese punctuation (、。《》「」【】, dashes, curly quotes, ellipses), most of a text's
/// non-word tokens, is answered before them too.
pub fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || ('\u{4E00}'..='\u{9FFF}').contains(&c)
        || (!c.is_ascii() && !is_cjk_punctuation(c) && c.is_alphanumeric())
}

/// General punctuation U+2010–U+2027 and the CJK punctuation U+3001–U+3003, U+3008–U+3020:
/// none of them is a letter or digit (〇 U+3007 and the Hangzhou numerals after U+3020 are).
fn is_cjk_punctuation(c: char) -> bool {
    matches!(c, '\u{2010}'..='\u{2027}' | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3020}')
}

/// Normalize and return only the text (queries, dictionary entries, suggestions).
pub fn normalize_text(input: &str) -> String {
    // The same steps without the offset maps (a title or a query needs none): the suggester
    // keys every title this way on each index reload.
    let mut stage = String::with_capacity(input.len());
    for c in input.chars() {
        fold_char(c, |n| stage.push(n));
    }
    if stage.is_ascii() {
        return stage;
    }
    let mut out = String::with_capacity(stage.len());
    let mut last = 0;
    for (s, e, to) in converter().search(&stage) {
        out.push_str(&stage[last..s]);
        out.push_str(to);
        last = e;
    }
    out.push_str(&stage[last..]);
    if has_cn_article(&out) {
        out = arabic_articles_text(&out);
    }
    out
}

/// [`arabic_articles`] on text alone.
fn arabic_articles_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in text.match_indices('第') {
        if at < copied {
            continue;
        }
        let from = at + '第'.len_utf8();
        let digits = text[from..]
            .find(|c: char| !is_cn_digit(c))
            .map_or(text.len(), |n| from + n);
        let closed = text[digits..].chars().next().is_some_and(is_article_unit);
        if digits > from && closed {
            if let Some(v) = cn_number(&text[from..digits]) {
                out.push_str(&text[copied..from]);
                out.push_str(&v.to_string());
                copied = digits;
            }
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast paths of `fold_char` for punctuation and full-width forms give exactly what
    /// the general path (drop, fold spaces, NFKC, lower case) gives, for every character.
    #[test]
    fn fast_paths_equal_the_general_fold() {
        fn general(c: char) -> String {
            if is_dropped(c) {
                String::new()
            } else if c.is_whitespace() {
                " ".into()
            } else {
                std::iter::once(c)
                    .nfkc()
                    .flat_map(char::to_lowercase)
                    .collect()
            }
        }
        let mut checked = 0;
        for c in ('\u{2000}'..='\u{206F}')
            .chain('\u{3000}'..='\u{303F}')
            .chain('\u{FF00}'..='\u{FFEF}')
        {
            let mut fast = String::new();
            fold_char(c, |n| fast.push(n));
            assert_eq!(fast, general(c), "U+{:04X}", c as u32);
            checked += 1;
        }
        assert!(checked > 400);
    }

    /// `is_alnum`'s shortcuts answer what `char::is_alphanumeric` answers, for every character.
    #[test]
    fn is_alnum_is_is_alphanumeric() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(is_alnum(c), c.is_alphanumeric(), "U+{:04X}", c as u32);
        }
    }

    /// `normalize_text` skips the offset maps but must give exactly `normalize`'s text: the
    /// suggester keys titles with one and the index sees the other.
    #[test]
    fn text_only_normalization_equals_the_full_one() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let mut lines: Vec<String> = [
            "營業執照 ＡＢＣ１２３",
            "依照第十二条",
            "第一百零三条、第二十章第三节第一款 第十 第十二 第第十条 第二〇二三条第",
            "a\u{200B}b\u{3000}c\u{E000}d",
            "Ⅻ ㈱ ﬁ 𝐀",
            "ALL CAPS ascii",
            "",
        ]
        .map(String::from)
        .to_vec();
        for e in walkdir::WalkDir::new(&dir).into_iter().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            lines.extend(text.lines().map(String::from));
        }
        assert!(
            lines.len() > 500,
            "built-in corpus missing: {}",
            lines.len()
        );
        for l in &lines {
            assert_eq!(normalize_text(l), normalize(l).text, "{l:?}");
        }
    }

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
        check("第一章\u{3000}总则", "第1章 总则");
        check("a\u{E003}b", "ab");
    }

    #[test]
    fn article_numbers_become_digits_both_ways() {
        check("第十二条", "第12条");
        check("行政许可法第一百零三条规定", "行政许可法第103条规定");
        check("第12条", "第12条");
        check("第二十章 第三节 第一款", "第20章 第3节 第1款");
        check("第一千零一条", "第1001条");
        check("第两百条", "第200条");
        // Not a structural reference: left alone.
        check("第一", "第一");
        check("十二条", "十二条");
        check("第十二个", "第十二个");
        for (n, cn) in [
            (12, "十二"),
            (103, "一百零三"),
            (110, "一百一十"),
            (10, "十"),
            (2005, "二千零五"),
        ] {
            assert_eq!(cn_numeral(n).as_deref(), Some(cn));
            assert_eq!(cn_number(cn), Some(n));
        }
        assert_eq!(article_spellings("第12条"), ["第十二条"]);
        assert!(article_spellings("第12").is_empty());
        assert!(article_spellings("营业").is_empty());
        // Offsets: the digits map back to the whole numeral.
        let input = "见第十二条。";
        let n = normalize(input);
        let b = n.text.find("12").unwrap();
        let e = n.text.find('条').unwrap() + '条'.len_utf8();
        assert_eq!(&input[n.original_start(b)..n.original_end(e)], "十二条");
        assert_eq!(n.original_start(n.text.len()), input.len());
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
