//! Whole-value tokenizer for codes and exact titles: one token, the normalized text with
//! spaces removed, so `SH00SH2312009001`, `sh00sh2312009001` and full-width forms all match.

use super::normalize::{is_alnum, normalize_text};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// See the module docs.
#[derive(Clone, Default)]
pub struct WholeTokenizer {
    token: Token,
}

/// At most one token.
pub struct WholeStream<'a> {
    token: &'a mut Token,
    done: bool,
}

/// The key a whole value is indexed and looked up under.
pub fn whole_key(text: &str) -> String {
    let mut key = normalize_text(text);
    key.retain(is_alnum);
    key
}

impl Tokenizer for WholeTokenizer {
    type TokenStream<'a> = WholeStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WholeStream<'a> {
        self.token.reset();
        self.token.text = whole_key(text);
        self.token.offset_to = text.len();
        self.token.position = 0;
        let done = self.token.text.is_empty();
        WholeStream {
            token: &mut self.token,
            done,
        }
    }
}

impl TokenStream for WholeStream<'_> {
    fn advance(&mut self) -> bool {
        let more = !self.done;
        self.done = true;
        more
    }
    fn token(&self) -> &Token {
        self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}
