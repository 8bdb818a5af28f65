//! The jieba tokenizer for tantivy, and the position scheme that keeps phrase queries working.
//!
//! jieba's search mode emits, for each word of the default segmentation, its dictionary
//! sub-words first and the word itself last (居民, 身份, 身份证, 居民身份证). Giving each token its own
//! position would break phrases; so every token of one word shares that word's position (a
//! "group"), and positions count words. A phrase query analysed the same way matches when its
//! words are whole words or dictionary sub-words of the document's words: "身份证丢失" matches
//! 居民身份证丢失的 indexed as {居民, 身份, 身份证, 居民身份证}@0 丢失@1. Known limit: a phrase
//! ending in a character that is no token of its own (the 法 of "许可法" inside 行政许可法) does
//! not match as a phrase; the same words unquoted do.

use super::normalize::normalize;
use super::Analyzer;
use std::sync::Arc;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// One analysed token: normalized text and its span in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AToken {
    /// Normalized token text (what is indexed).
    pub text: String,
    /// Original byte offsets.
    pub from: usize,
    /// Original byte end offset.
    pub to: usize,
}

/// All tokens of one word at one position; the last token is the word itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGroup {
    /// Word position (counts kept words).
    pub position: usize,
    /// Sub-words first, the whole word last.
    pub tokens: Vec<AToken>,
}

impl TokenGroup {
    /// The whole word.
    pub fn base(&self) -> &str {
        &self.tokens.last().expect("a group is never empty").text
    }
    /// Sub-words of the whole word (search-mode grams), possibly empty.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.tokens[..self.tokens.len() - 1]
            .iter()
            .map(|t| t.text.as_str())
    }
}

fn is_wordlike(s: &str) -> bool {
    s.chars().any(|c| c.is_alphanumeric())
}

/// A word's span (start, end) and the spans of the sub-words it absorbed.
type PendingGroup = (usize, usize, Vec<(usize, usize)>);

/// Segment `text` into groups (see the module docs).
pub(super) fn analyze(analyzer: &Analyzer, text: &str) -> Vec<TokenGroup> {
    let norm = normalize(text);
    let raw = analyzer.jieba().cut_for_search(&norm.text, true);
    // Spans (normalized byte offsets) of pending groups; merge trailing groups that the next
    // token covers: that token is their word.
    let mut groups: Vec<PendingGroup> = Vec::with_capacity(raw.len());
    for t in &raw {
        let (s, e) = (t.byte_start, t.byte_end);
        let mut members = Vec::new();
        while let Some(last) = groups.last() {
            if last.0 >= s && last.1 <= e {
                let (_, _, m) = groups.pop().expect("checked");
                let mut m = m;
                m.append(&mut members);
                members = m;
            } else {
                break;
            }
        }
        members.push((s, e));
        groups.push((s, e, members));
    }
    if norm.text.contains('第') {
        groups = merge_articles(&norm.text, groups);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (_, _, members) in groups {
        let (bs, be) = *members.last().expect("non-empty");
        let base = &norm.text[bs..be];
        if !is_wordlike(base) || analyzer.is_stopword(base) {
            continue;
        }
        let tokens = members
            .into_iter()
            .filter_map(|(s, e)| {
                let w = &norm.text[s..e];
                if (s, e) != (bs, be) && (!is_wordlike(w) || analyzer.is_stopword(w)) {
                    return None;
                }
                Some(AToken {
                    text: w.to_string(),
                    from: norm.original_start(s),
                    to: norm.original_end(e),
                })
            })
            .collect();
        out.push(TokenGroup {
            position: out.len(),
            tokens,
        });
    }
    out
}

/// 第 + digits + unit (第12条, normalized from 第十二条) as one word whose parts are the three
/// pieces jieba cut it into: a query for 第12条 then matches that article, not every 第, 12
/// and 条 of the document, and highlights it whole.
fn merge_articles(text: &str, groups: Vec<PendingGroup>) -> Vec<PendingGroup> {
    let word = |g: &PendingGroup| &text[g.0..g.1];
    let is_ref = |g: &[PendingGroup]| {
        word(&g[0]) == "第"
            && g[1].0 == g[0].1
            && word(&g[1]).bytes().all(|b| b.is_ascii_digit())
            && g[2].0 == g[1].1
            && super::normalize::is_article_unit_str(word(&g[2]))
    };
    let mut out: Vec<PendingGroup> = Vec::with_capacity(groups.len());
    let mut groups = groups.into_iter();
    let mut window: Vec<PendingGroup> = Vec::with_capacity(3);
    loop {
        while window.len() < 3 {
            match groups.next() {
                Some(g) => window.push(g),
                None => break,
            }
        }
        if window.is_empty() {
            return out;
        }
        if window.len() == 3 && is_ref(&window) {
            let (from, to) = (window[0].0, window[2].1);
            let mut members: Vec<(usize, usize)> = window.drain(..).flat_map(|g| g.2).collect();
            members.push((from, to));
            out.push((from, to, members));
        } else {
            out.push(window.remove(0));
        }
    }
}

/// tantivy tokenizer over the shared [`Analyzer`]; cloning it clones an `Arc`.
#[derive(Clone)]
pub struct JiebaTokenizer {
    analyzer: Arc<Analyzer>,
    buf: Vec<Token>,
}

impl JiebaTokenizer {
    /// A tokenizer over `analyzer`.
    pub fn new(analyzer: Arc<Analyzer>) -> Self {
        JiebaTokenizer {
            analyzer,
            buf: Vec::new(),
        }
    }
}

/// Token stream over a prepared buffer.
pub struct JiebaTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = JiebaTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JiebaTokenStream<'a> {
        self.buf.clear();
        for g in analyze(&self.analyzer, text) {
            for t in g.tokens {
                self.buf.push(Token {
                    offset_from: t.from,
                    offset_to: t.to,
                    position: g.position,
                    text: t.text,
                    position_length: 1,
                });
            }
        }
        JiebaTokenStream {
            tokens: &mut self.buf,
            next: 0,
        }
    }
}

impl TokenStream for JiebaTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn analyzer() -> Arc<Analyzer> {
        static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
        A.get_or_init(Analyzer::load_default).clone()
    }

    /// Every token as (position, text, original slice).
    fn tokens(text: &str) -> Vec<(usize, String, String)> {
        let mut tok = JiebaTokenizer::new(analyzer());
        let mut s = tok.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            let t = s.token();
            out.push((
                t.position,
                t.text.clone(),
                text[t.offset_from..t.offset_to].to_string(),
            ));
        }
        out
    }

    fn has(tokens: &[(usize, String, String)], word: &str) -> bool {
        tokens.iter().any(|t| t.1 == word)
    }

    #[test]
    fn search_mode_sub_words_share_the_word_position() {
        let t = tokens("中华人民共和国行政许可法");
        for w in ["行政", "许可", "行政许可", "中华人民共和国", "法"] {
            assert!(has(&t, w), "{w} missing from {t:?}");
        }
        let pos = |w: &str| t.iter().find(|x| x.1 == w).unwrap().0;
        assert_eq!(pos("行政"), pos("行政许可"));
        assert_eq!(pos("许可"), pos("行政许可"));
        assert_eq!(pos("法"), pos("行政许可") + 1);
    }

    #[test]
    fn offsets_slice_back_to_the_token_text() {
        for text in [
            "居民身份证丢失的，请到户籍派出所补领。",
            "ＳＨ００号 營業執照 a\u{200B}b 第１２条",
        ] {
            for (_, norm, orig) in tokens(text) {
                assert_eq!(
                    crate::analysis::normalize::normalize_text(&orig),
                    norm,
                    "in {text}"
                );
            }
        }
    }

    #[test]
    fn normalizes_width_case_and_traditional() {
        let t = tokens("營業執照 ＡＢＣ");
        assert!(has(&t, "营业执照"), "{t:?}");
        assert!(has(&t, "abc"), "{t:?}");
        assert_eq!(t.iter().find(|x| x.1 == "营业执照").unwrap().2, "營業執照");
    }

    #[test]
    fn drops_stop_words_and_punctuation() {
        let t = tokens("居民身份证丢失的，怎么办？");
        assert!(!has(&t, "的"), "{t:?}");
        assert!(!has(&t, "，"), "{t:?}");
        assert!(!has(&t, "？"), "{t:?}");
        assert!(has(&t, "丢失"));
    }

    #[test]
    fn user_dictionary_words_stay_whole() {
        for w in ["一件事一次办", "不动产登记", "住房公积金", "承诺时限"] {
            let t = tokens(&format!("关于{w}的说明"));
            assert!(has(&t, w), "{w} not kept whole: {t:?}");
        }
    }

    #[test]
    fn article_references_are_one_word_however_written() {
        for text in ["依照第十二条规定", "依照第12条规定", "依照第１２条规定"]
        {
            let t = tokens(text);
            assert!(has(&t, "第12条"), "{text}: {t:?}");
            let pos = |w: &str| t.iter().find(|x| x.1 == w).unwrap().0;
            assert_eq!(pos("12"), pos("第12条"), "{text}: {t:?}");
            let whole = t.iter().find(|x| x.1 == "第12条").unwrap();
            assert!(
                whole.2.starts_with('第') && whole.2.ends_with('条'),
                "{t:?}"
            );
        }
    }

    #[test]
    fn item_codes_stay_whole() {
        let t = tokens("事项编码SH00SH2312009001");
        assert!(has(&t, "sh00sh2312009001"), "{t:?}");
    }
}
