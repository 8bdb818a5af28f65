//! The shipped dictionaries (compiled in with `include_str!`) and their on-disk overrides.

use super::{normalize::normalize_text, AnalysisError};
use std::collections::BTreeMap;
use std::path::Path;

const USER_DICT: &str = include_str!("dict/user.dict");
const SYNONYMS: &str = include_str!("dict/synonyms.txt");
const STOPWORDS: &str = include_str!("dict/stopwords.txt");
const COLLOQUIAL: &str = include_str!("dict/colloquial.txt");

/// The text of each dictionary file.
#[derive(Debug, Clone)]
pub struct DictFiles {
    /// jieba user dictionary: `word [freq] [tag]` per line.
    pub user: String,
    /// Synonym groups: comma-separated, one group per line, canonical term first.
    pub synonyms: String,
    /// Stop words, one per line.
    pub stopwords: String,
    /// `colloquial => official1,official2` per line.
    pub colloquial: String,
}

impl DictFiles {
    /// The dictionaries shipped inside the binary.
    pub fn shipped() -> DictFiles {
        DictFiles {
            user: USER_DICT.to_string(),
            synonyms: SYNONYMS.to_string(),
            stopwords: STOPWORDS.to_string(),
            colloquial: COLLOQUIAL.to_string(),
        }
    }

    /// The shipped dictionaries, each replaced by the same-named file in `dir` where present.
    pub fn with_overrides(dir: &Path) -> Result<DictFiles, AnalysisError> {
        let mut files = DictFiles::shipped();
        for (name, slot) in [
            ("user.dict", &mut files.user),
            ("synonyms.txt", &mut files.synonyms),
            ("stopwords.txt", &mut files.stopwords),
            ("colloquial.txt", &mut files.colloquial),
        ] {
            let path = dir.join(name);
            if path.is_file() {
                *slot = std::fs::read_to_string(&path).map_err(|source| AnalysisError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
            }
        }
        Ok(files)
    }

    /// Content hash of all four files.
    pub fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        for part in [
            &self.user,
            &self.synonyms,
            &self.stopwords,
            &self.colloquial,
        ] {
            h.update(part.as_bytes());
            h.update(b"\0");
        }
        h.finalize().to_hex()[..16].to_string()
    }
}

/// Parse a jieba user dictionary; malformed frequencies are ignored rather than fatal.
pub(super) fn user_words(text: &str) -> Vec<(String, Option<usize>, Option<String>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let mut parts = line.split_whitespace();
            let word = normalize_text(parts.next()?);
            let freq = parts.next().and_then(|f| f.parse().ok());
            let tag = parts.next().map(str::to_string);
            Some((word, freq, tag))
        })
        .collect()
}

/// Term → alternatives, for synonym groups and colloquial mappings. Keys and values are
/// normalized text.
///
/// Ordered: a query's expansions are taken in key order, and their order is the order of
/// the query's clauses and so of its float sums. In a hash map's order, which differs from
/// one process to the next, the same query scored its top hit 252.30424 in one run and
/// 252.30428 in the next (and could swap equal-scored hits).
#[derive(Debug, Default, Clone)]
pub struct Synonyms {
    map: BTreeMap<String, Vec<String>>,
}

impl Synonyms {
    /// Groups: every member maps to every other member of its line.
    pub fn parse_groups(text: &str) -> Synonyms {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in content_lines(text) {
            let group: Vec<String> = split_terms(line);
            for t in &group {
                let entry = map.entry(t.clone()).or_default();
                for o in &group {
                    if o != t && !entry.contains(o) {
                        entry.push(o.clone());
                    }
                }
            }
        }
        Synonyms { map }
    }

    /// One-way mapping: `from => to1,to2`.
    pub fn parse_mapping(text: &str) -> Synonyms {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in content_lines(text) {
            if let Some((from, to)) = line.split_once("=>") {
                let from = normalize_text(from.trim());
                if !from.is_empty() {
                    map.entry(from).or_default().extend(split_terms(to));
                }
            }
        }
        Synonyms { map }
    }

    /// Alternatives of `term` (normalized), empty if none.
    pub fn of(&self, term: &str) -> &[String] {
        self.map.get(term).map(Vec::as_slice).unwrap_or(&[])
    }

    /// All keys (for phrase matching over a query), in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// Number of terms with alternatives.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no mapping is loaded.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

fn content_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn split_terms(s: &str) -> Vec<String> {
    s.split([',', '，', '、'])
        .map(|t| normalize_text(t.trim()))
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_symmetric_and_mappings_one_way() {
        let s = Synonyms::parse_groups("# c\n居民身份证,身份证\n社会保险，社保\n");
        assert_eq!(s.of("身份证"), ["居民身份证"]);
        assert_eq!(s.of("居民身份证"), ["身份证"]);
        assert_eq!(s.of("社保"), ["社会保险"]);
        let m = Synonyms::parse_mapping("丢了 => 补领,补办\n");
        assert_eq!(m.of("丢了"), ["补领", "补办"]);
        assert!(m.of("补领").is_empty());
    }

    /// Issue #6: editing any of the four files changes the fingerprint, so the index is
    /// re-analysed with it.
    #[test]
    fn every_dictionary_file_counts_in_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let base = DictFiles::with_overrides(dir.path()).unwrap().fingerprint();
        assert_eq!(base, DictFiles::shipped().fingerprint());
        let mut seen = vec![base];
        for name in [
            "user.dict",
            "synonyms.txt",
            "stopwords.txt",
            "colloquial.txt",
        ] {
            std::fs::write(dir.path().join(name), "改过 => 的词\n").unwrap();
            let f = DictFiles::with_overrides(dir.path()).unwrap().fingerprint();
            assert!(!seen.contains(&f), "{name} does not change the fingerprint");
            seen.push(f);
        }
    }

    /// The shipped colloquial mapping's keys come in one order, whatever the instance (a hash
    /// map's differs per instance and process).
    #[test]
    fn keys_come_in_order() {
        let files = DictFiles::shipped();
        let m = Synonyms::parse_mapping(&files.colloquial);
        let keys: Vec<&str> = m.keys().collect();
        assert!(keys.len() > 20, "{} keys", keys.len());
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    }

    #[test]
    fn user_dict_lines_parse_with_optional_columns() {
        let w = user_words("营业执照 20000 n\n一件事一次办\n\n# x\n");
        assert_eq!(w.len(), 2);
        assert_eq!(w[0], ("营业执照".into(), Some(20000), Some("n".into())));
        assert_eq!(w[1].1, None);
    }
}
