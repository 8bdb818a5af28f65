//! Analysis: text → tokens, the same way for documents and queries.
//!
//! Owns the one jieba dictionary of the process (default dictionary plus our shipped
//! service-catalogue dictionary), the stop words, the synonym groups and the colloquial
//! phrase map. Everything is loaded once into an [`Analyzer`] held behind an `Arc`; the tantivy
//! tokenizer ([`JiebaTokenizer`]) only clones that `Arc`, never the dictionary.
//! It must not know about fields, files or queries' syntax.

mod dict;
mod jieba;
pub mod normalize;
mod whole;

pub use dict::{DictFiles, Synonyms};
pub use jieba::{JiebaTokenizer, TokenGroup};
pub use whole::{whole_key, WholeTokenizer};

use jieba_rs::Jieba;
use rustc_hash::FxHashSet;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// Name under which [`JiebaTokenizer`] is registered in the tantivy index.
pub const TOKENIZER_NAME: &str = "banshi_jieba";
/// Name of the whole-value, lower-cased tokenizer used for codes and ids.
pub const CODE_TOKENIZER_NAME: &str = "banshi_code";

/// Errors of the analysis layer: dictionaries that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A dictionary override file could not be read.
    #[error("cannot read dictionary {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A dictionary file is malformed.
    #[error("bad dictionary {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The shared, immutable analysis state of a process.
pub struct Analyzer {
    /// Built on a thread of its own (see [`Analyzer::jieba`]).
    jieba: OnceLock<Jieba>,
    /// The thread building `jieba`, until someone first needs it.
    building: Mutex<Option<std::thread::JoinHandle<Jieba>>>,
    /// The user dictionary's text, to build `jieba` here if that thread could not.
    user: String,
    /// FxHash: indexing looks up every word whose first character a stop word shares (在, 是,
    /// 和 …), and SipHash was 1 % of indexing.
    stopwords: FxHashSet<String>,
    /// A bit per first character of a stop word (by code point mod 4096): most tokens are
    /// told apart by one bit test instead of hashing, on every token indexed.
    stop_first: Box<[u64; 64]>,
    synonyms: Synonyms,
    colloquial: Synonyms,
    fingerprint: String,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("stopwords", &self.stopwords.len())
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Analyzer {
    /// Load the analyzer from the shipped dictionaries.
    pub fn load_default() -> Arc<Analyzer> {
        Arc::new(Self::from_files(&DictFiles::shipped()))
    }

    /// Load the analyzer, taking each dictionary from `dir` where a file of that name exists
    /// there (`user.dict`, `synonyms.txt`, `stopwords.txt`, `colloquial.txt`), else the shipped one.
    pub fn load(dir: Option<&Path>) -> Result<Arc<Analyzer>, AnalysisError> {
        let files = match dir {
            Some(d) => DictFiles::with_overrides(d)?,
            None => DictFiles::shipped(),
        };
        Ok(Arc::new(Self::from_files(&files)))
    }

    fn from_files(files: &DictFiles) -> Analyzer {
        // Building jieba's trie of ~350k words is the largest part of start-up (~40 % of
        // `banshi serve` on an existing index). Nothing before the first segmentation needs it
        // (opening the index, the reconcile sync of unchanged files, the suggester), so it is
        // built meanwhile.
        let user = files.user.clone();
        let building = std::thread::Builder::new()
            .name("jieba-dict".into())
            .spawn(move || build_jieba(&user))
            .ok();
        let user = files.user.clone();
        let stopwords = files
            .stopwords
            .lines()
            .map(|l| normalize::normalize_text(l.trim()))
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect::<FxHashSet<String>>();
        let mut stop_first = Box::new([0u64; 64]);
        for w in &stopwords {
            if let Some(c) = w.chars().next() {
                let (word, bit) = stop_bit(c);
                stop_first[word] |= bit;
            }
        }
        Analyzer {
            jieba: OnceLock::new(),
            building: Mutex::new(building),
            user,
            stopwords,
            stop_first,
            synonyms: Synonyms::parse_groups(&files.synonyms),
            colloquial: Synonyms::parse_mapping(&files.colloquial),
            fingerprint: files.fingerprint(),
        }
    }

    /// The segmenter, waiting for it to be built if that is still under way.
    pub fn jieba(&self) -> &Jieba {
        self.jieba.get_or_init(|| {
            let handle = self
                .building
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            handle
                .and_then(|h| h.join().ok())
                .unwrap_or_else(|| build_jieba(&self.user))
        })
    }

    /// Is `word` (normalized) a stop word?
    pub fn is_stopword(&self, word: &str) -> bool {
        let Some(c) = word.chars().next() else {
            return false;
        };
        let (w, bit) = stop_bit(c);
        self.stop_first[w] & bit != 0 && self.stopwords.contains(word)
    }

    /// Synonym groups for query expansion.
    pub fn synonyms(&self) -> &Synonyms {
        &self.synonyms
    }

    /// Colloquial → official phrase map for query understanding.
    pub fn colloquial(&self) -> &Synonyms {
        &self.colloquial
    }

    /// A hash of every dictionary's content: part of the index version stamp, so a changed
    /// dictionary triggers re-analysis instead of a silent mismatch.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Segment `text` into position groups (see [`TokenGroup`]).
    pub fn groups(&self, text: &str) -> Vec<TokenGroup> {
        jieba::analyze(self, text)
    }

    /// Every token of `text` as `emit(position, token, from, to)`, offsets in `text`: the
    /// tokens of [`Analyzer::groups`] without building the groups.
    pub fn for_each_token(&self, text: &str, emit: impl FnMut(usize, &str, usize, usize)) {
        jieba::for_each_token(self, &normalize::normalize(text), emit)
    }

    /// [`Analyzer::for_each_token`] over text already normalized (by
    /// [`normalize::normalize`]), offsets in `norm`.
    pub fn for_each_normalized_token(
        &self,
        norm: &str,
        emit: impl FnMut(usize, &str, usize, usize),
    ) {
        jieba::walk(self, norm, emit)
    }

    /// The base (longest) words of `text`, in order: what a query means.
    pub fn words(&self, text: &str) -> Vec<String> {
        self.groups(text)
            .into_iter()
            .map(|g| g.base().to_string())
            .collect()
    }
}

/// Where a stop word's first character sits in `Analyzer::stop_first`: a 4096-bit set (64
/// words of 64 bits) indexed by the character's code modulo 4096.
fn stop_bit(c: char) -> (usize, u64) {
    let b = c as usize % 4096;
    (b / 64, 1 << (b % 64))
}

/// jieba's default dictionary plus the user words.
fn build_jieba(user: &str) -> Jieba {
    let mut jieba = Jieba::new();
    for (word, freq, tag) in dict::user_words(user) {
        jieba.add_word(&word, freq, tag.as_deref());
    }
    jieba
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dictionary is built on its own thread: callers racing for it right after loading
    /// all wait for the one build and segment alike.
    #[test]
    fn segmenting_right_after_load_waits_for_the_dictionary() {
        let a = Analyzer::load(None).unwrap();
        let words: Vec<Vec<String>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| a.words("个体工商户营业执照")))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(words[0], ["个体工商户", "营业执照"]);
        assert!(words.iter().all(|w| *w == words[0]), "{words:?}");
    }

    /// Issue #6: question words carry no topic; they must not become words a document has to
    /// match (营业执照怎么办 is the query 营业执照).
    #[test]
    fn question_words_are_not_query_words() {
        let a = Analyzer::load_default();
        let mut bad = Vec::new();
        for (q, words) in [
            ("营业执照怎么办", &["营业执照"][..]),
            ("身份证在哪里办", &["身份证"]),
            ("如何办理护照", &["办理", "护照"]),
            ("结婚登记需要什么材料", &["结婚登记", "材料"]),
            ("社保卡要什么材料吗", &["社保卡", "材料"]),
            ("怎么补办驾驶证", &["补办", "驾驶证"]),
            ("护照去哪办", &["护照"]),
            ("公积金怎样提取呢", &["公积金", "提取"]),
        ] {
            let got = a.words(q);
            if got != words {
                bad.push(format!("{q}: {got:?}, want {words:?}"));
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    }
}
