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

use super::normalize::{normalize, Normalized};
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

/// Does `s` contain a letter or digit (a word, not punctuation or spaces)?
fn is_wordlike(s: &str) -> bool {
    s.chars().any(super::normalize::is_alnum)
}

/// A word being built: its span (start, end) in the normalized text, and where its sub-words
/// are in the flat list of spans: `parts[first..own]` (the word's own span is `parts[own]`,
/// unless the word was merged from pieces, see [`merge_articles`]).
#[derive(Clone, Copy)]
struct PendingGroup {
    start: usize,
    end: usize,
    first: usize,
    own: usize,
}

/// Segment normalized text and hand each kept token to `emit(position, text, from, to)`,
/// sub-words of a word first and the word itself last (see the module docs); offsets are
/// original bytes when `norm` has its offset maps, else normalized ones. Indexing runs this
/// over every document, so it allocates per text, never per token.
pub(super) fn for_each_token(
    analyzer: &Analyzer,
    norm: &Normalized,
    mut emit: impl FnMut(usize, &str, usize, usize),
) {
    walk(analyzer, &norm.text, |position, w, s, e| {
        emit(position, w, norm.original_start(s), norm.original_end(e))
    })
}

/// [`for_each_token`] over text already normalized, offsets in `text`: a highlighter
/// normalizes a snippet once and segments only the clauses holding a query word.
pub(super) fn walk(
    analyzer: &Analyzer,
    text: &str,
    mut emit: impl FnMut(usize, &str, usize, usize),
) {
    let raw = analyzer.jieba().cut_for_search(text, true);
    // Every token's span in order, and the pending words over them. A token covering the
    // trailing words is their word: they become its sub-words. Their spans already sit at the
    // end of `parts`, in order, so absorbing them moves nothing.
    let mut parts: Vec<(usize, usize)> = Vec::with_capacity(raw.len());
    let mut groups: Vec<PendingGroup> = Vec::with_capacity(raw.len());
    for t in &raw {
        let (s, e) = (t.byte_start, t.byte_end);
        let mut first = parts.len();
        while let Some(last) = groups.last() {
            if last.start >= s && last.end <= e {
                first = last.first;
                groups.pop();
            } else {
                break;
            }
        }
        groups.push(PendingGroup {
            start: s,
            end: e,
            first,
            own: parts.len(),
        });
        parts.push((s, e));
    }
    if text.contains('第') {
        merge_articles(text, &mut groups);
    }
    let keep = |w: &str| is_wordlike(w) && !analyzer.is_stopword(w);
    let mut position = 0;
    for g in groups {
        let base = &text[g.start..g.end];
        if !keep(base) {
            continue;
        }
        for &(s, e) in &parts[g.first..g.own] {
            let w = &text[s..e];
            if (s, e) == (g.start, g.end) || keep(w) {
                emit(position, w, s, e);
            }
        }
        emit(position, base, g.start, g.end);
        position += 1;
    }
}

/// Segment `text` into groups (see the module docs).
pub(super) fn analyze(analyzer: &Analyzer, text: &str) -> Vec<TokenGroup> {
    let mut out: Vec<TokenGroup> = Vec::new();
    for_each_token(analyzer, &normalize(text), |position, w, from, to| {
        if out.len() == position {
            out.push(TokenGroup {
                position,
                tokens: Vec::with_capacity(1),
            });
        }
        out[position].tokens.push(AToken {
            text: w.to_string(),
            from,
            to,
        });
    });
    out
}

/// 第 + digits + unit (第12条, normalized from 第十二条) as one word whose parts are the three
/// pieces jieba cut it into: a query for 第12条 then matches that article, not every 第, 12
/// and 条 of the document, and highlights it whole.
/// In place: laws hold thousands of groups and a few references.
fn merge_articles(text: &str, groups: &mut Vec<PendingGroup>) {
    let word = |g: &PendingGroup| &text[g.start..g.end];
    let is_ref = |g: &[PendingGroup]| {
        word(&g[0]) == "第"
            && g[1].start == g[0].end
            && word(&g[1]).bytes().all(|b| b.is_ascii_digit())
            && g[2].start == g[1].end
            && super::normalize::is_article_unit_str(word(&g[2]))
    };
    let (mut read, mut write) = (0, 0);
    while read < groups.len() {
        if read + 3 <= groups.len() && is_ref(&groups[read..read + 3]) {
            // The three words, each with its sub-words, are the parts; the reference is the
            // word. Their spans are contiguous in the flat list.
            groups[write] = PendingGroup {
                start: groups[read].start,
                end: groups[read + 2].end,
                first: groups[read].first,
                own: groups[read + 2].own + 1,
            };
            read += 3;
        } else {
            groups[write] = groups[read];
            read += 1;
        }
        write += 1;
    }
    groups.truncate(write);
}

/// tantivy tokenizer over the shared [`Analyzer`]; cloning it clones an `Arc`. Its tokens'
/// offsets are in the normalized text (see `token_stream`).
#[derive(Clone)]
pub struct JiebaTokenizer {
    analyzer: Arc<Analyzer>,
    /// Tokens of the last text; their `String`s are reused for the next one.
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
    tokens: &'a mut [Token],
    next: usize,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = JiebaTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JiebaTokenStream<'a> {
        let mut n = 0;
        let buf = &mut self.buf;
        // Offsets in the normalized text: the index stores positions, not offsets, and
        // highlights take theirs from `Analyzer::for_each_token`. Skipping the offset maps
        // saved ~5 % of indexing time.
        let norm = Normalized::without_offsets(text);
        for_each_token(&self.analyzer, &norm, |position, w, from, to| {
            if n == buf.len() {
                buf.push(Token::default());
            }
            let t = &mut buf[n];
            t.text.clear();
            t.text.push_str(w);
            t.offset_from = from;
            t.offset_to = to;
            t.position = position;
            t.position_length = 1;
            n += 1;
        });
        JiebaTokenStream {
            tokens: &mut self.buf[..n],
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

    /// Every token of the index's stream as (position, text, slice of the normalized text).
    fn tokens(text: &str) -> Vec<(usize, String, String)> {
        let norm = crate::analysis::normalize::normalize_text(text);
        let mut tok = JiebaTokenizer::new(analyzer());
        let mut s = tok.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            let t = s.token();
            out.push((
                t.position,
                t.text.clone(),
                norm[t.offset_from..t.offset_to].to_string(),
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

    /// The index's tokens slice the normalized text; the groups' (queries, highlights) slice
    /// the original.
    #[test]
    fn offsets_slice_back_to_the_token_text() {
        for text in [
            "居民身份证丢失的，请到户籍派出所补领。",
            "ＳＨ００号 營業執照 a\u{200B}b 第１２条",
        ] {
            let streamed = tokens(text);
            assert!(streamed.len() > 4, "{streamed:?}");
            for (_, token, slice) in streamed {
                assert_eq!(token, slice, "in {text}");
            }
            for g in analyzer().groups(text) {
                for t in g.tokens {
                    assert_eq!(
                        crate::analysis::normalize::normalize_text(&text[t.from..t.to]),
                        t.text,
                        "in {text}"
                    );
                }
            }
        }
    }

    #[test]
    fn normalizes_width_case_and_traditional() {
        let t = tokens("營業執照 ＡＢＣ");
        assert!(has(&t, "营业执照"), "{t:?}");
        assert!(has(&t, "abc"), "{t:?}");
        // Highlights (the groups) point at the characters as written.
        let text = "營業執照 ＡＢＣ";
        let g = analyzer().groups(text);
        let t = g[0].tokens.last().unwrap();
        assert_eq!(
            (t.text.as_str(), &text[t.from..t.to]),
            ("营业执照", "營業執照")
        );
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

    /// The index (token stream) and queries and highlights (groups) take their tokens from one
    /// walk through two different sinks; they must see the same tokens at the same positions
    /// (offsets differ: normalized in the stream, original in the groups).
    #[test]
    fn token_stream_and_groups_agree() {
        let text = "居民身份证丢失的，请依照第十二条规定到户籍派出所补领。營業執照 ＳＨ００号";
        let flat: Vec<(usize, String)> = analyzer()
            .groups(text)
            .into_iter()
            .flat_map(|g| g.tokens.into_iter().map(move |t| (g.position, t.text)))
            .collect();
        let mut tok = JiebaTokenizer::new(analyzer());
        // Twice: the second text reuses the first one's token buffer.
        for _ in 0..2 {
            let mut s = tok.token_stream(text);
            let mut streamed = Vec::new();
            while s.advance() {
                let t = s.token();
                streamed.push((t.position, t.text.clone()));
            }
            assert_eq!(streamed, flat);
        }
        assert!(flat.iter().any(|t| t.1 == "第12条"), "{flat:?}");
        assert!(flat.len() > 10, "{flat:?}");
    }

    #[test]
    fn item_codes_stay_whole() {
        let t = tokens("事项编码SH00SH2312009001");
        assert!(has(&t, "sh00sh2312009001"), "{t:?}");
    }
}
