//! Title suggestions for the portal search box: what the user has typed so far → a few titles.
//!
//! Owns an in-memory snapshot of every live title, built once per index reload by
//! [`Suggester::build`]: deduplicated, pre-sorted by kind priority (guide > material >
//! timeline > notice > law), length and text, and with per title its normalized text and its
//! pinyin, one syllable per character. The pinyin keeps the two most common readings of a
//! polyphonic character (银行 is `yinhang`, 长期 is `changqi`) and spells ü as both `v` and `u`.
//!
//! A query and the titles are compared normalized (NFKC, lower case, 繁→简) on their letters
//! and digits only: spaces, brackets and emoji make no difference. A query matches a title in
//! one of six classes, best first:
//!
//! 1. the title starts with the text;
//! 2. the title's pinyin starts with the query, as full pinyin with a partial last syllable
//!    (`yingy`, `shenfenz`) or as initials (`yyzz`, `sfz`), every character read its most
//!    common way;
//! 3. the same, but only with a second reading (`yinhang`: 行 is `xing` first), which is
//!    often right (银行) and sometimes noise (诉讼费缴纳 as `sfz`, 缴 read `zhuo`);
//! 4. the title contains the text;
//! 5. and 6. the pinyin matches from a later character (`yingyezhizhao` →
//!    个体工商户营业执照), most common readings first.
//!
//! Pinyin matches only start and end at character boundaries (`ingye` matches nothing). A title
//! appears once, in its best class; within a class the pre-sorted order stands. A query costs
//! one pass over the titles, most of them rejected by a per-title bit set of characters, plus
//! one pass over the characters whose pinyin starts with the query's first two letters (a
//! posting list per letter pair; per letter for a one-letter query), stopping once the answer
//! is full; nothing is allocated per title.
//!
//! It must not touch the index after building (a snapshot is only as fresh as its last build)
//! and must not know HTTP.

use crate::analysis::whole_key;
use crate::corpus::Kind;
use crate::index::BanshiIndex;
use crate::schema::Fields;
use pinyin::ToPinyinMulti;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::time::{Duration, Instant};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, SegmentReader};

pub mod file;

/// Longest query considered, in characters (before and after normalization): a search box
/// never needs more, it bounds the work per keystroke, and the pinyin matcher tracks query
/// positions in a 128-bit set.
pub const MAX_SUGGEST_CHARS: usize = 64;

/// Readings kept per polyphonic character. The pinyin crate lists the common readings first;
/// later ones (literary, surnames: 身 juan, 体 cui) only add noise to initials.
const MAX_READINGS: usize = 2;

/// Match classes, best first (see the module docs); `NONE`: no match.
const PREFIX: u8 = 0;
const PINYIN_PREFIX: u8 = 1;
const PINYIN_PREFIX_OTHER: u8 = 2;
const INFIX: u8 = 3;
const PINYIN_INFIX: u8 = 4;
const PINYIN_INFIX_OTHER: u8 = 5;
const CLASSES: usize = 6;
const NONE: u8 = CLASSES as u8;

/// Letters and digits: the alphabet of pinyin queries, one bit each in a `u64` (see [`bit`]).
const LETTERS: usize = 36;

/// One suggestion: a title to show under the search box, with what the portal needs to label
/// it (its kind) and to link it (its path in the corpus).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suggestion {
    /// The title as written in the corpus (not normalized), for display.
    pub title: String,
    /// The document kind (`guide`, `law`, …), so the portal can label the suggestion.
    pub kind: String,
    /// The document's path relative to the corpus, so the portal can link it.
    pub path: String,
}

/// A deduplicated title, ready to match.
#[derive(Debug, PartialEq)]
struct Entry {
    /// [`match_key`] of the title.
    norm: String,
}

/// Strings kept in one buffer, each found by where it ends: the entries' titles, kinds and
/// paths, only read to answer. The file stores a column of strings in this very form, so a
/// read takes it whole: a `String` per title, kind and path was ~45 ms of the 1M suggester's
/// 160 ms read (450k allocations).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Texts {
    all: String,
    ends: Vec<u32>,
}

impl Texts {
    fn push(&mut self, s: &str) {
        self.all.push_str(s);
        self.ends
            .push(u32::try_from(self.all.len()).unwrap_or(u32::MAX));
    }

    /// The `i`th string.
    pub(super) fn get(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        &self.all[start..self.ends[i] as usize]
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &str> + Clone {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The strings of `all` ending at `ends`; `None` unless every end is at or after the one
    /// before it, within `all` and on a character boundary (a damaged file).
    pub(super) fn from_parts(all: String, ends: Vec<u32>) -> Option<Texts> {
        let mut last = 0;
        for &end in &ends {
            let end = end as usize;
            if end < last || !all.is_char_boundary(end) {
                return None;
            }
            last = end;
        }
        Some(Texts { all, ends })
    }
}

/// One reading of a character (`zhuang` is the longest), ASCII lower case, stored inline so
/// the pinyin matcher never follows a pointer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    bytes: [u8; 7],
    len: u8,
}

impl Reading {
    /// `r` as a reading, if it is 1 to 7 ASCII letters or digits.
    fn new(r: &str) -> Option<Reading> {
        let len = r.len();
        if !(1..=7).contains(&len) || !r.bytes().all(|b| bit(b) != 0) {
            return None;
        }
        let mut bytes = [0; 7];
        bytes[..len].copy_from_slice(r.as_bytes());
        Some(Reading {
            bytes,
            len: len as u8,
        })
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// One distinct character, as pinyin; a title's characters refer to it through [`Place`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Syl {
    /// One bit per first letter of a reading (see [`bit`]): the initials.
    firsts: u64,
    /// The same for the most common reading alone.
    firsts_primary: u64,
    /// The second letters of the readings (see [`Place::seconds`] for a title's character).
    seconds: u64,
    /// Every letter of the readings (see [`Place::after`] for a title's character).
    after: u64,
    /// The readings: `Suggester::readings[from..from + n]`, the spellings of the most common
    /// reading first (`n_primary` of them). None: the character never matches.
    from: u32,
    n: u16,
    n_primary: u16,
}

impl Syl {
    /// First letters, of the most common reading only or of all.
    fn firsts(&self, primary: bool) -> u64 {
        if primary {
            self.firsts_primary
        } else {
            self.firsts
        }
    }

    /// Where the readings are in `Suggester::readings`: the most common one's only, or all.
    fn readings(&self, primary: bool) -> Range<usize> {
        let n = if primary { self.n_primary } else { self.n };
        self.from as usize..self.from as usize + n as usize
    }
}

/// One character of a title: its character's syllable and what the rest of the title adds.
/// One per character of every title (a million at 100k documents), so it holds only the
/// context; the readings are the character's, shared: 12 bytes a character instead of the
/// 40 of a [`Syl`] each (~30 MB of arrays less at 100k documents).
#[derive(Debug, Clone, Copy)]
struct Place {
    /// The character's syllable, `Suggester::table[syl]`.
    syl: u32,
    /// Letters that can follow the first one in a match starting here: the second letter of a
    /// reading, or the first of the next character's (initials, one-letter readings). Letters
    /// `a`–`z` only, like everything a pinyin query is looked up by (see
    /// `Suggester::candidates`).
    seconds: u32,
    /// Every letter of the readings of this character and the rest of its title: a match
    /// starting here cannot use a letter outside it. Letters only.
    after: u32,
}

/// The letters `a`–`z` of a [`bit`] set: a pinyin query has no others.
fn letters_only(bits: u64) -> u32 {
    (bits & ((1 << 26) - 1)) as u32
}

/// Title suggestions over a snapshot of the index: build after each reload, then share (it is
/// immutable, `Send` and `Sync`) and query on every keystroke.
pub struct Suggester {
    /// Where this one came from (not part of what it answers).
    origin: Origin,
    /// Best first within a match class: kind priority, then shorter, then title text.
    entries: Vec<Entry>,
    /// Per entry, the title as written, its document's kind and path: what a suggestion shows.
    titles: Texts,
    kinds: Texts,
    paths: Texts,
    /// Per entry, [`char_bits`] of its `norm`: a title lacking a character of the query cannot
    /// contain it. Apart from `entries` so that a text pass reads 16 bytes per title, not 112.
    char_bits: Vec<u128>,
    /// Per character of the titles' `norm`, the entries containing it, ascending: a text
    /// match is looked for only among the titles having the key's rarest character (招: a few
    /// hundred titles, not all 42k at 100k documents).
    /// (std's SipHash map: looked up on every keystroke, it answered faster than an
    /// `FxHashMap`, 7.5 vs 9.5 µs median per suggestion over the mix on the real corpus.)
    char_entries: HashMap<char, Vec<u32>>,
    /// Every title's characters as pinyin, title after title.
    syls: Vec<Place>,
    /// The distinct characters' syllables, which `syls` refer to.
    table: Vec<Syl>,
    /// Per entry, its characters: `syls[from..to]` (apart from `entries`: the pinyin scan
    /// touches only these).
    spans: Vec<(u32, u32)>,
    /// The entry of each of `syls`.
    syl_entry: Vec<u32>,
    /// Per letter (see [`bit`]; `a`–`z` only): the positions in `syls` with a reading starting
    /// with it.
    postings: Vec<Vec<u32>>,
    /// Per pair of letters (`first * LETTERS + second`, `a`–`z`): the positions whose readings
    /// start with `first` and may continue with `second` (see [`Place::seconds`]). A query of
    /// two or more letters walks this much shorter list: `jiazhao` visits the ji…/jz…
    /// characters, not every j… one (4.5 ms → well under 1 ms at 100k titles).
    pair_postings: Vec<Vec<u32>>,
    /// Beside each entry of `pair_postings`: the letters (`a`–`z` bits of [`bit`]) a match
    /// starting there can have third, as full pinyin or as initials. A query of three or more
    /// letters skips the positions its third letter rules out without touching their
    /// syllables: `jiazhao` no longer checks every ji…/jz… character (8 ms → under 1 ms at
    /// 100k titles).
    pair_thirds: Vec<Vec<u32>>,
    /// Distinct characters' readings; shared by every title using the char.
    readings: Vec<Reading>,
    /// Per distinct character of the titles, its syllable in `table` (`None`: pinyin skips
    /// it). Kept for the file (see [`file`]): with it, `syls` and the per-entry columns are
    /// rebuilt from the titles in one cheap pass.
    by_char: FxHashMap<char, Option<u32>>,
    /// Entry indices sorted by `norm`: the titles starting with a key are one range of it, so
    /// a short prefix with many such titles (办, 营业) is answered by two binary searches
    /// instead of a pass over every title.
    by_norm: Vec<u32>,
}

/// Where a suggester came from: which snapshot, and whether it was built or read from the
/// index folder's file (see [`file`]), in how long. Reported in `/api/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin {
    /// The snapshot it was built from, if known ([`Suggester::build`] alone does not know).
    pub key: Option<file::Key>,
    /// Read from the file rather than built.
    pub loaded: bool,
    /// How long building or reading took.
    pub took: Duration,
}

impl PartialEq for Suggester {
    /// Equal suggestions: equal contents, wherever they came from.
    fn eq(&self, o: &Suggester) -> bool {
        self.entries == o.entries
            && self.titles == o.titles
            && self.kinds == o.kinds
            && self.paths == o.paths
            && self.char_bits == o.char_bits
            && self.char_entries == o.char_entries
            && self.syls.len() == o.syls.len()
            && self.syls.iter().zip(&o.syls).all(|(a, b)| {
                (a.seconds, a.after) == (b.seconds, b.after) && self.syl(a) == o.syl(b)
            })
            && self.spans == o.spans
            && self.syl_entry == o.syl_entry
            && self.postings == o.postings
            && self.pair_postings == o.pair_postings
            && self.pair_thirds == o.pair_thirds
            && self.readings == o.readings
            && self.by_char.len() == o.by_char.len()
            && self.by_char.iter().all(|(c, y)| {
                o.by_char.get(c).is_some_and(|z| {
                    y.map(|i| self.table[i as usize]) == z.map(|i| o.table[i as usize])
                })
            })
            && self.by_norm == o.by_norm
    }
}

impl std::fmt::Debug for Suggester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suggester")
            .field("titles", &self.entries.len())
            .field("syllables", &self.syls.len())
            .finish()
    }
}

impl Default for Suggester {
    /// The empty suggester, so that state holding one can derive `Default`.
    fn default() -> Self {
        Suggester::empty()
    }
}

/// A title being collected, before deduplication settles.
struct Candidate {
    title: String,
    kind: String,
    path: String,
    rank: u8,
    /// Length of the title, in characters.
    len: usize,
}

/// Syllables from which the suggester's posting lists are built on two threads: below, a
/// thread costs more than it saves (the built-in corpus has ~1,000).
const PARALLEL_SYLLABLES: usize = 50_000;

/// The suggester's letter and letter-pair posting lists, or a part of them (see
/// [`Suggester::posting_lists`]).
#[derive(Debug, PartialEq)]
struct PostingLists {
    postings: Vec<Vec<u32>>,
    pair_postings: Vec<Vec<u32>>,
    pair_thirds: Vec<Vec<u32>>,
}

impl PostingLists {
    fn new() -> PostingLists {
        PostingLists {
            postings: vec![Vec::new(); LETTERS],
            pair_postings: vec![Vec::new(); LETTERS * LETTERS],
            pair_thirds: vec![Vec::new(); LETTERS * LETTERS],
        }
    }

    /// Append `later`, built from positions after all of these: the lists stay ascending.
    fn append(&mut self, later: PostingLists) {
        for (mine, theirs) in [
            (&mut self.postings, later.postings),
            (&mut self.pair_postings, later.pair_postings),
            (&mut self.pair_thirds, later.pair_thirds),
        ] {
            for (m, mut t) in mine.iter_mut().zip(theirs) {
                m.append(&mut t);
            }
        }
    }
}

impl Suggester {
    /// The suggester of `snapshot` (a snapshot of `index`): read from the index folder's file
    /// if that was built from this very snapshot, else built, and written there so that the
    /// next start reads it (see [`file`]). A file that cannot be read or written is logged and
    /// built around: suggestions never depend on it.
    pub fn open(snapshot: &tantivy::Searcher, index: &BanshiIndex) -> Suggester {
        let s = Suggester::read_or_build(snapshot, index);
        s.save(index.dir());
        s
    }

    /// [`Suggester::open`] without writing: the caller saves when it suits it (the server,
    /// after `listening on`).
    pub fn read_or_build(snapshot: &tantivy::Searcher, index: &BanshiIndex) -> Suggester {
        let t0 = Instant::now();
        let key = file::snapshot_key(snapshot, index.analyzer().fingerprint());
        match file::load(index.dir(), &key) {
            Ok(mut s) => {
                s.origin.took = t0.elapsed();
                tracing::debug!(
                    titles = s.len(),
                    elapsed_ms = s.origin.took.as_secs_f64() * 1e3,
                    "suggester read"
                );
                return s;
            }
            Err(file::FileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::info!(error = %e, "suggester file not used, building"),
        }
        Suggester::build_for(snapshot, index)
    }

    /// [`Suggester::build`], knowing which snapshot of `index` it is (so it can be saved).
    pub fn build_for(snapshot: &tantivy::Searcher, index: &BanshiIndex) -> Suggester {
        let mut s = Suggester::build(snapshot, index.fields());
        s.origin.key = Some(file::snapshot_key(snapshot, index.analyzer().fingerprint()));
        s
    }

    /// Write this suggester as the file in the index folder `dir`, unless it was read from
    /// there, the file already holds this snapshot's, or this one's snapshot is unknown. A
    /// failure is logged.
    pub fn save(&self, dir: &Path) {
        let Some(key) = self.origin.key.filter(|_| !self.origin.loaded) else {
            return;
        };
        if file::saved_key(dir) == Some(key) {
            return;
        }
        let t0 = Instant::now();
        match file::save(self, &key, dir) {
            Ok(()) => tracing::debug!(
                elapsed_ms = t0.elapsed().as_secs_f64() * 1e3,
                "suggester written"
            ),
            Err(e) => tracing::warn!(error = %e, "writing the suggester file failed"),
        }
    }

    /// Where this suggester came from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Build from the current index snapshot: called after each index reload, so it reads only
    /// fast columns (title, kind, path), never stored documents, and skips deleted documents.
    /// Titles equal on their normalized letters and digits are suggested once, under the best
    /// kind (then the first path). A segment whose columns cannot be read is left out (and
    /// logged) rather than failing the reload.
    pub fn build(searcher: &tantivy::Searcher, fields: &Fields) -> Suggester {
        let t0 = Instant::now();
        let schema = searcher.schema();
        let title_field = schema.get_field_name(fields.title_exact);
        let kind_field = schema.get_field_name(fields.kind);
        let path_field = schema.get_field_name(fields.path);

        let mut best: FxHashMap<String, Candidate> = FxHashMap::default();
        for segment in searcher.segment_readers() {
            let Some(titles) = str_column(segment, title_field) else {
                continue;
            };
            let title_terms = super::column_terms(&titles);
            let kinds = str_column(segment, kind_field);
            let kind_terms = kinds.as_ref().map(super::column_terms).unwrap_or_default();
            let kind_ranks: Vec<u8> = kind_terms.iter().map(|k| kind_rank(k)).collect();
            let paths = str_column(segment, path_field);
            let path_terms = paths.as_ref().map(super::column_terms).unwrap_or_default();
            // The segment's best document per distinct title, compared on ordinals (a
            // dictionary's ordinals sort like its terms): 100k documents share 42k titles, and
            // the titles are normalized and hashed once each, not once per document.
            // (rank, path ordinal, doc); a missing path (`None`) sorts first, like "".
            let mut by_title: Vec<Option<(u8, Option<u64>, DocId)>> = vec![None; title_terms.len()];
            for doc in segment.doc_ids_alive() {
                let Some(ord) = titles.term_ords(doc).next() else {
                    continue;
                };
                let first = |c: Option<&StrColumn>| c.and_then(|c| c.term_ords(doc).next());
                let rank = first(kinds.as_ref())
                    .and_then(|k| kind_ranks.get(k as usize).copied())
                    .unwrap_or(kind_rank(""));
                let found = (rank, first(paths.as_ref()), doc);
                if let Some(b) = by_title.get_mut(ord as usize) {
                    if b.is_none_or(|b| (found.0, found.1) < (b.0, b.1)) {
                        *b = Some(found);
                    }
                }
            }
            for (ord, found) in by_title.iter().enumerate() {
                let Some((rank, path, doc)) = *found else {
                    continue;
                };
                let title = &title_terms[ord];
                let norm = match_key(title);
                if norm.is_empty() {
                    continue;
                }
                let kind = value(kinds.as_ref(), &kind_terms, doc).unwrap_or("");
                let path = path
                    .and_then(|p| path_terms.get(p as usize))
                    .map_or("", String::as_str);
                let candidate = || Candidate {
                    title: title.to_string(),
                    kind: kind.to_string(),
                    path: path.to_string(),
                    rank,
                    len: title.chars().count(),
                };
                match best.get_mut(norm.as_str()) {
                    Some(c) => {
                        if (rank, path, title.as_str())
                            < (c.rank, c.path.as_str(), c.title.as_str())
                        {
                            *c = candidate();
                        }
                    }
                    None => {
                        best.insert(norm, candidate());
                    }
                }
            }
        }

        let mut list: Vec<(String, Candidate)> = best.into_iter().collect();
        // Titles are unique (equal titles have equal keys), so this order is total.
        list.sort_unstable_by(|(_, a), (_, b)| {
            (a.rank, a.len, &a.title).cmp(&(b.rank, b.len, &b.title))
        });

        let mut out = Suggester::empty();
        out.entries.reserve(list.len());
        for (norm, c) in list {
            out.titles.push(&c.title);
            out.kinds.push(&c.kind);
            out.paths.push(&c.path);
            out.push_entry(Entry { norm });
        }
        // The posting lists, the character lists and the key order are what is left (~170 ms
        // at 100k documents): with many syllables, a second thread builds the last third of
        // the posting lists and the rest, while this one builds the first two thirds. At
        // start-up the second core is otherwise idle by now.
        let n = out.syls.len();
        let this = &out;
        let cut = if n >= PARALLEL_SYLLABLES {
            n / 3 * 2
        } else {
            n
        };
        let rest = move || {
            let lists = this.posting_lists(cut..n);
            let mut by_norm: Vec<u32> = (0..this.entries.len() as u32).collect();
            // Keys are unique (deduplicated on): an unstable sort is deterministic.
            by_norm.sort_unstable_by(|&a, &b| {
                this.entries[a as usize]
                    .norm
                    .cmp(&this.entries[b as usize].norm)
            });
            (lists, this.char_lists(), by_norm)
        };
        let (mut lists, (later, char_entries, by_norm)) = if cut < n {
            std::thread::scope(|scope| {
                let other = scope.spawn(rest);
                let lists = this.posting_lists(0..cut);
                let rest = other
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e));
                (lists, rest)
            })
        } else {
            (this.posting_lists(0..cut), rest())
        };
        lists.append(later);
        out.postings = lists.postings;
        out.pair_postings = lists.pair_postings;
        out.pair_thirds = lists.pair_thirds;
        out.char_entries = char_entries;
        out.by_norm = by_norm;
        out.origin.took = t0.elapsed();
        tracing::debug!(
            titles = out.entries.len(),
            elapsed_ms = t0.elapsed().as_secs_f64() * 1e3,
            "suggester built"
        );
        out
    }

    /// Append `e` after the entries so far, with its syllables, span and character bits.
    /// `by_char` and `table` hold each character's syllable: computed on first sight by
    /// [`char_syl`] when building, read from the file when loading (so a load never asks the
    /// pinyin tables).
    fn push_entry(&mut self, e: Entry) {
        let syl_from = self.syls.len();
        for ch in e.norm.chars() {
            let id = *self.by_char.entry(ch).or_insert_with(|| {
                let syl = char_syl(ch, &mut self.readings)?;
                self.table.push(syl);
                Some(self.table.len() as u32 - 1)
            });
            if let Some(id) = id {
                let syl = &self.table[id as usize];
                self.syls.push(Place {
                    syl: id,
                    seconds: letters_only(syl.seconds),
                    after: letters_only(syl.after),
                });
            }
        }
        let syl_to = self.syls.len();
        // A character's own `after` is the letters of its readings (see [`char_syl`]).
        let mut after = 0;
        for p in (syl_from..syl_to).rev() {
            if p + 1 < syl_to {
                let next = letters_only(self.syl(&self.syls[p + 1]).firsts);
                self.syls[p].seconds |= next;
            }
            after |= self.syls[p].after;
            self.syls[p].after = after;
        }
        self.syl_entry.resize(
            syl_to,
            u32::try_from(self.entries.len()).unwrap_or(u32::MAX),
        );
        self.spans.push((syl_from as u32, syl_to as u32));
        self.char_bits.push(char_bits(&e.norm));
        self.entries.push(e);
    }

    /// Per character of the titles' keys, the entries containing it (see `char_entries`).
    fn char_lists(&self) -> HashMap<char, Vec<u32>> {
        let mut lists: HashMap<char, Vec<u32>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            for c in e.norm.chars() {
                let list = lists.entry(c).or_default();
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        lists
    }

    /// The letter and letter-pair lists (see `postings`, `pair_postings`, `pair_thirds`) of
    /// the positions `range` of `syls`.
    fn posting_lists(&self, range: Range<usize>) -> PostingLists {
        let mut out = PostingLists::new();
        let mut triples: Vec<[u8; 3]> = Vec::new();
        // Per letter pair of this position's triples, the third letters: a few entries,
        // gathered in one pass instead of one pass over the triples per pair.
        let mut thirds_by_pair: Vec<(usize, u64)> = Vec::new();
        for p in range {
            let place = &self.syls[p];
            let to = self.spans[self.syl_entry[p] as usize].1 as usize;
            self.triples(p, to, &mut triples);
            thirds_by_pair.clear();
            for t in &triples {
                let (Some(f), Some(s)) = (letter_index(t[0]), letter_index(t[1])) else {
                    continue;
                };
                let pair = f * LETTERS + s;
                match thirds_by_pair.iter_mut().find(|(k, _)| *k == pair) {
                    Some((_, m)) => *m |= bit(t[2]),
                    None => thirds_by_pair.push((pair, bit(t[2]))),
                }
            }
            let mut firsts = letters_only(self.syl(place).firsts);
            while firsts != 0 {
                let f = firsts.trailing_zeros() as usize;
                out.postings[f].push(p as u32);
                let mut seconds = place.seconds;
                while seconds != 0 {
                    let s = seconds.trailing_zeros() as usize;
                    let thirds = thirds_by_pair
                        .iter()
                        .find(|(k, _)| *k == f * LETTERS + s)
                        .map_or(0, |(_, m)| *m);
                    out.pair_postings[f * LETTERS + s].push(p as u32);
                    // Letters only: a query with a digit never walks these lists.
                    out.pair_thirds[f * LETTERS + s].push((thirds & ((1 << 26) - 1)) as u32);
                    seconds &= seconds - 1;
                }
                firsts &= firsts - 1;
            }
        }
        out
    }

    /// Every first three letters a pinyin match starting at `syls[p]` (its title ending at
    /// `to`) can have, into `out`: full pinyin (readings one after another) and initials, any
    /// reading. Each match of three or more letters begins with one of them.
    fn triples(&self, p: usize, to: usize, out: &mut Vec<[u8; 3]>) {
        out.clear();
        let readings = |k: usize| {
            let r = if k < to {
                self.syl(&self.syls[k]).readings(false)
            } else {
                0..0
            };
            self.readings[r].iter().map(Reading::as_bytes)
        };
        for r0 in readings(p) {
            match *r0 {
                [a, b, c, ..] => out.push([a, b, c]),
                [a, b] => out.extend(readings(p + 1).map(|r1| [a, b, r1[0]])),
                [a] => {
                    for r1 in readings(p + 1) {
                        match *r1 {
                            [b, c, ..] => out.push([a, b, c]),
                            [b] => out.extend(readings(p + 2).map(|r2| [a, b, r2[0]])),
                            [] => {}
                        }
                    }
                }
                [] => {}
            }
        }
        for r0 in readings(p) {
            for r1 in readings(p + 1) {
                out.extend(readings(p + 2).map(|r2| [r0[0], r1[0], r2[0]]));
            }
        }
    }

    /// An empty suggester: what the server holds before the first index snapshot is built;
    /// it suggests nothing.
    pub fn empty() -> Suggester {
        Suggester {
            origin: Origin::default(),
            entries: Vec::new(),
            titles: Texts::default(),
            kinds: Texts::default(),
            paths: Texts::default(),
            char_bits: Vec::new(),
            char_entries: HashMap::new(),
            syls: Vec::new(),
            table: Vec::new(),
            spans: Vec::new(),
            syl_entry: Vec::new(),
            postings: vec![Vec::new(); LETTERS],
            pair_postings: vec![Vec::new(); LETTERS * LETTERS],
            pair_thirds: vec![Vec::new(); LETTERS * LETTERS],
            readings: Vec::new(),
            by_char: FxHashMap::default(),
            by_norm: Vec::new(),
        }
    }

    /// Up to `limit` suggestions for what the user has typed so far, best first (see the module
    /// docs for the order). Any input is accepted: an empty or blank query, or one that matches
    /// nothing, gives an empty list; only the first [`MAX_SUGGEST_CHARS`] characters count.
    pub fn suggest(&self, q: &str, limit: usize) -> Vec<Suggestion> {
        if limit == 0 || self.entries.is_empty() {
            return Vec::new();
        }
        let key = query_key(q);
        if key.is_empty() {
            return Vec::new();
        }
        // Enough titles start with the key: they are the answer (the best class), in entry
        // order, and nothing else needs looking at.
        let lo = self
            .by_norm
            .partition_point(|&i| self.entries[i as usize].norm.as_str() < key.as_str());
        let n = self.by_norm[lo..]
            .partition_point(|&i| self.entries[i as usize].norm.starts_with(key.as_str()));
        if n >= limit {
            let mut best: Vec<u32> = self.by_norm[lo..lo + n].to_vec();
            best.sort_unstable();
            return best
                .iter()
                .take(limit)
                .map(|&i| self.suggestion(i as usize))
                .collect();
        }
        let mut class = vec![NONE; self.entries.len()];
        self.match_text(&key, &mut class);
        if key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            self.match_pinyin(key.as_bytes(), &mut class, limit);
        }

        // Entries are best first within a class: each class's first `limit` are its best.
        let mut found: [Vec<u32>; CLASSES] = Default::default();
        for (i, &c) in class.iter().enumerate() {
            if let Some(f) = found.get_mut(c as usize) {
                if f.len() < limit {
                    f.push(i as u32);
                }
            }
            if found[PREFIX as usize].len() >= limit {
                break;
            }
        }
        found
            .iter()
            .flatten()
            .take(limit)
            .map(|&i| self.suggestion(i as usize))
            .collect()
    }

    fn suggestion(&self, i: usize) -> Suggestion {
        Suggestion {
            title: self.titles.get(i).to_string(),
            kind: self.kinds.get(i).to_string(),
            path: self.paths.get(i).to_string(),
        }
    }

    /// What an all-letters query means in Chinese, read from the titles: the characters that a
    /// pinyin or initials match covers (`shenfenzheng`, `sfz` → 身份证; `yyzz` → 营业执照). Among
    /// the matches of the best reading class (most common readings first), the span found in
    /// the most titles wins, then the best-ranked title. None when the query is not pinyin of
    /// any title (or has fewer than two letters).
    pub fn pinyin_words(&self, q: &str) -> Option<String> {
        let key = query_key(q);
        let q = key.as_bytes();
        if q.len() < 2 || !q.iter().all(u8::is_ascii_lowercase) {
            return None;
        }
        for primary in [true, false] {
            // span → (titles, first entry): counted once per title.
            let mut spans: HashMap<String, (usize, usize)> = HashMap::new();
            let mut last: Option<(usize, String)> = None;
            for p in self.starts(q) {
                let e = self.syl_entry[p] as usize;
                let (from, to) = self.spans[e];
                let syls = &self.syls[p..to as usize];
                let n = if self.initials_match(q, syls, primary) {
                    Some(q.len())
                } else {
                    self.full_match_len(q, syls, primary)
                };
                let Some(n) = n else { continue };
                let span: String = self.entries[e]
                    .norm
                    .chars()
                    .skip(p - from as usize)
                    .take(n)
                    .collect();
                if last.as_ref() == Some(&(e, span.clone())) {
                    continue;
                }
                let slot = spans.entry(span.clone()).or_insert((0, e));
                slot.0 += 1;
                slot.1 = slot.1.min(e);
                last = Some((e, span));
            }
            if let Some((span, _)) = spans.into_iter().max_by(|a, b| {
                (a.1 .0, std::cmp::Reverse(a.1 .1)).cmp(&(b.1 .0, std::cmp::Reverse(b.1 .1)))
            }) {
                return Some(span);
            }
        }
        None
    }

    /// `text` with one character replaced so that it reads like the titles: 离昏登记 → 离婚登记,
    /// 身份正 → 身份证, 营业执找 → 营业执照. For each run of Chinese characters that no title
    /// contains, and each of its characters, the longest window (three characters or more)
    /// around the character that some title contains with a homophone (same pinyin) there is a
    /// candidate; the longer window wins, then the one more titles contain. At most one
    /// character per run is replaced. None if nothing is replaced. `text` is
    /// normalized text (see [`normalize_text`](crate::analysis::normalize::normalize_text)).
    pub fn correct(&self, text: &str) -> Option<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = chars.clone();
        let mut changed = false;
        let mut i = 0;
        while i < chars.len() {
            if !is_han(chars[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && is_han(chars[i]) {
                i += 1;
            }
            let run = &chars[start..i.min(start + MAX_CORRECT_RUN)];
            if run.len() < 2 || self.contains(run) {
                continue;
            }
            if let Some((at, c)) = self.best_substitution(run) {
                out[start + at] = c;
                changed = true;
            }
        }
        changed.then(|| out.into_iter().collect())
    }

    /// Does some title contain `window`?
    fn contains(&self, window: &[char]) -> bool {
        let w: String = window.iter().collect();
        let bits = char_bits(&w);
        self.entries_with(window.iter().copied()).iter().any(|&i| {
            self.char_bits[i as usize] & bits == bits && self.entries[i as usize].norm.contains(&w)
        })
    }

    /// The entries that may contain every one of `chars`: those of the rarest. Empty when a
    /// character is in no title (or `chars` is empty).
    fn entries_with(&self, chars: impl Iterator<Item = char>) -> &[u32] {
        let mut rarest: Option<&[u32]> = None;
        for c in chars {
            let list = self.char_entries.get(&c).map_or(&[][..], Vec::as_slice);
            if rarest.is_none_or(|r| list.len() < r.len()) {
                rarest = Some(list);
            }
        }
        rarest.unwrap_or(&[])
    }

    /// The best (position, character) to replace in `run` (see [`Suggester::correct`]).
    fn best_substitution(&self, run: &[char]) -> Option<(usize, char)> {
        // (window length, titles), position, character.
        let mut best: Option<((usize, usize), usize, char)> = None;
        for at in 0..run.len() {
            let reading = primary_reading(run[at]);
            // Windows around `at`, longest first; stop at the first length that matches.
            'len: for len in (3..=run.len().min(MAX_CORRECT_WINDOW)).rev() {
                let mut found: HashMap<char, usize> = HashMap::new();
                for a in at.saturating_sub(len - 1)..=at {
                    if a + len > run.len() {
                        break;
                    }
                    let window = &run[a..a + len];
                    if self.contains(window) {
                        // The characters around `at` are right as typed: not a typo here.
                        break 'len;
                    }
                    for c in self.fillers(window, at - a) {
                        *found.entry(c).or_default() += 1;
                    }
                }
                for (c, titles) in found {
                    if c == run[at] {
                        continue;
                    }
                    // Only homophones (the usual slip of a pinyin keyboard): other characters
                    // turned valid colloquial queries into other items (要办什么证 → 要带什么证).
                    if reading.is_none() || primary_reading(c) != reading {
                        continue;
                    }
                    let score = (len, titles);
                    if best.as_ref().is_none_or(|b| score > b.0) {
                        best = Some((score, at, c));
                    }
                }
                if best.as_ref().is_some_and(|b| b.1 == at) {
                    break;
                }
            }
        }
        best.map(|(_, at, c)| (at, c))
    }

    /// Characters that titles have where `window` has position `hole`, the rest equal.
    fn fillers(&self, window: &[char], hole: usize) -> Vec<char> {
        let rest: String = window
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != hole)
            .map(|(_, c)| *c)
            .collect();
        let bits = char_bits(&rest);
        let all: Vec<u32>;
        let candidates = if rest.is_empty() {
            all = (0..self.entries.len() as u32).collect();
            &all
        } else {
            self.entries_with(rest.chars())
        };
        let mut out = Vec::new();
        for &i in candidates {
            if self.char_bits[i as usize] & bits != bits {
                continue;
            }
            let t: Vec<char> = self.entries[i as usize].norm.chars().collect();
            if t.len() < window.len() {
                continue;
            }
            for w in t.windows(window.len()) {
                if w.iter()
                    .zip(window)
                    .enumerate()
                    .all(|(i, (a, b))| i == hole || a == b)
                    && is_han(w[hole])
                {
                    out.push(w[hole]);
                }
            }
        }
        out
    }

    /// Number of distinct titles, so callers can report what the suggester covers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is nothing to suggest (no index yet, or an empty one).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Classes [`PREFIX`] and [`INFIX`]: the normalized title starts with or contains `key`.
    fn match_text(&self, key: &str, class: &mut [u8]) {
        let bits = char_bits(key);
        for &i in self.entries_with(key.chars()) {
            let i = i as usize;
            if self.char_bits[i] & bits != bits {
                continue;
            }
            let norm = &self.entries[i].norm;
            if norm.starts_with(key) {
                class[i] = PREFIX;
            } else if norm.contains(key) {
                class[i] = INFIX;
            }
        }
    }

    /// The pinyin classes, for a query of ASCII letters and digits: tries each character whose
    /// pinyin can start the query, keeping each title's best class.
    ///
    /// Stops once `limit` titles are known to fill the answer: the postings run in entry
    /// order (best first), an entry's pinyin-prefix class is settled at its first character,
    /// and every text-prefix match is already known; later entries can only rank below those.
    /// A short prefix such as `she` matches early and no longer scans 100k titles.
    fn match_pinyin(&self, q: &[u8], class: &mut [u8], limit: usize) {
        // `q` is letters only here (see `candidates`), so these lose nothing.
        let second = q.get(1).map_or(0, |&b| letters_only(bit(b)));
        let letters = q.iter().fold(0, |m, &b| m | letters_only(bit(b)));
        let mut settled = class.iter().filter(|&&c| c == PREFIX).count();
        let mut current = usize::MAX;
        for p in self.starts(q) {
            let e = self.syl_entry[p] as usize;
            if e != current {
                if current != usize::MAX && class[current] == PINYIN_PREFIX {
                    settled += 1;
                }
                if settled >= limit {
                    break;
                }
                current = e;
            }
            let (from, to) = self.spans[e];
            let (best, other) = if p == from as usize {
                (PINYIN_PREFIX, PINYIN_PREFIX_OTHER)
            } else {
                (PINYIN_INFIX, PINYIN_INFIX_OTHER)
            };
            let syl = &self.syls[p];
            if class[e] <= best
                || (q.len() > 1 && syl.seconds & second == 0)
                || syl.after & letters != letters
            {
                continue;
            }
            let syls = &self.syls[p..to as usize];
            // All readings first: a miss (the common case) is then known in one pass.
            if self.pinyin_match(q, syls, false) {
                let c = if self.pinyin_match(q, syls, true) {
                    best
                } else {
                    other
                };
                class[e] = class[e].min(c);
            }
        }
    }

    /// The positions in `syls` where a pinyin match of `q` may start, in order, less those
    /// whose third letter cannot be `q`'s.
    fn starts<'a>(&'a self, q: &[u8]) -> impl Iterator<Item = usize> + 'a {
        let (list, thirds) = self.candidates(q);
        let third = q.get(2).map_or(0, |&b| bit(b) as u32);
        list.iter().enumerate().filter_map(move |(i, &p)| {
            let ruled_out = third != 0 && thirds.get(i).is_some_and(|&t| t & third == 0);
            (!ruled_out).then_some(p as usize)
        })
    }

    /// The positions in `syls` where a pinyin match of `q` may start, in order: by its first
    /// two letters when it has two, else by its first; with a pair list, its third letters
    /// (see [`Suggester::pair_thirds`]), else none.
    fn candidates(&self, q: &[u8]) -> (&[u32], &[u32]) {
        // Readings are letters only: a query with a digit (an item code, SH00…) is never
        // pinyin, and its first two letters would otherwise walk a long list for nothing.
        if !q.iter().all(u8::is_ascii_lowercase) {
            return (&[], &[]);
        }
        match (q.first().and_then(|&b| letter_index(b)), q.get(1)) {
            (Some(f), Some(&b)) => letter_index(b).map_or((&[], &[]), |s| {
                (
                    &self.pair_postings[f * LETTERS + s],
                    &self.pair_thirds[f * LETTERS + s],
                )
            }),
            (Some(f), None) => (&self.postings[f], &[]),
            (None, _) => (&[], &[]),
        }
    }

    /// Does pinyin query `q` match `syls` from its first character, as initials or as full
    /// pinyin, reading characters their most common way (`primary`) or any?
    fn pinyin_match(&self, q: &[u8], syls: &[Place], primary: bool) -> bool {
        self.initials_match(q, syls, primary) || self.full_match(q, syls, primary)
    }

    /// Do the initials of `syls` start with `q` (every character's first letter, in order)?
    fn initials_match(&self, q: &[u8], syls: &[Place], primary: bool) -> bool {
        q.len() <= syls.len()
            && q.iter()
                .zip(syls)
                .all(|(&b, s)| self.syl(s).firsts(primary) & bit(b) != 0)
    }

    /// The syllable of the character at `place`.
    fn syl(&self, place: &Place) -> &Syl {
        &self.table[place.syl as usize]
    }

    /// Is `q` the pinyin of `syls[0..k]` for some `k`, the last syllable possibly cut short?
    /// Tracks every query offset reachable after each character (readings of one character can
    /// be prefixes of each other: `xi`/`xian`), so it never backtracks.
    fn full_match(&self, q: &[u8], syls: &[Place], primary: bool) -> bool {
        self.full_match_len(q, syls, primary).is_some()
    }

    /// [`Suggester::full_match`], saying how many characters the match covers.
    fn full_match_len(&self, q: &[u8], syls: &[Place], primary: bool) -> Option<usize> {
        if q.is_empty() || q.len() >= 128 {
            return None;
        }
        let mut reach: u128 = 1;
        for (k, syl) in syls.iter().enumerate() {
            let mut next: u128 = 0;
            let mut bits = reach;
            while bits != 0 {
                let at = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let rest = &q[at..];
                for r in &self.readings[self.syl(syl).readings(primary)] {
                    let r = r.as_bytes();
                    if r.starts_with(rest) {
                        // The query ends inside (or exactly at the end of) this syllable.
                        return Some(k + 1);
                    }
                    if rest.starts_with(r) {
                        // at + r.len() < q.len() < 128.
                        next |= 1u128 << (at + r.len());
                    }
                }
            }
            if next == 0 {
                return None;
            }
            reach = next;
        }
        None
    }
}

/// Longest run of Chinese characters [`Suggester::correct`] looks at, and longest window.
const MAX_CORRECT_RUN: usize = 10;
const MAX_CORRECT_WINDOW: usize = 5;

/// A CJK unified ideograph.
fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

/// The most common reading of a Chinese character, without tone.
fn primary_reading(c: char) -> Option<&'static str> {
    use pinyin::ToPinyin;
    c.to_pinyin().map(|p| p.plain())
}

/// The normalized query: at most [`MAX_SUGGEST_CHARS`] characters in, and out (NFKC can expand).
fn query_key(q: &str) -> String {
    let q = match q.char_indices().nth(MAX_SUGGEST_CHARS) {
        Some((end, _)) => &q[..end],
        None => q,
    };
    let mut key = match_key(q);
    if let Some((end, _)) = key.char_indices().nth(MAX_SUGGEST_CHARS) {
        key.truncate(end);
    }
    key
}

/// What queries and titles are compared on: normalized (NFKC, lower case, 繁→简) and
/// letters and digits only, so spaces, brackets, dots and emoji typed or not make no difference
/// (`身份证(换领)` finds 居民身份证（换领）).
/// It is the exact-title field's key ([`whole_key`]).
fn match_key(text: &str) -> String {
    whole_key(text)
}

/// A 128-bit summary of the characters of `s`: if a title's bits do not cover a query's, the
/// title cannot contain the query. Lower-case letters and digits have a bit each (the low 36,
/// see [`bit`]), so a Latin query (`i`, `scfi`) is never let through by a Chinese character
/// that hashes alike; every other character gets one of the 92 others by hash.
fn char_bits(s: &str) -> u128 {
    s.chars().fold(0, |bits, c| {
        let b = u8::try_from(c).map_or(0, bit);
        bits | if b != 0 {
            u128::from(b)
        } else {
            1u128 << (LETTERS as u32 + ((c as u32).wrapping_mul(0x9E37_79B1) >> 25) % 92)
        }
    })
}

/// The index of an ASCII letter or digit in a letter set (see [`bit`]).
fn letter_index(b: u8) -> Option<usize> {
    match bit(b) {
        0 => None,
        m => Some(m.trailing_zeros() as usize),
    }
}

/// The bit of an ASCII letter or digit in a `u64` letter set; 0 for anything else.
fn bit(b: u8) -> u64 {
    match b {
        b'a'..=b'z' => 1 << (b - b'a'),
        b'0'..=b'9' => 1 << (26 + b - b'0'),
        _ => 0,
    }
}

/// Kind priority for suggestions: citizens typing in a portal box want service items first.
fn kind_rank(kind: &str) -> u8 {
    match Kind::parse(kind) {
        Some(Kind::Guide) => 0,
        Some(Kind::Material) => 1,
        Some(Kind::Timeline) => 2,
        Some(Kind::Notice) => 3,
        Some(Kind::Law) => 4,
        None => 5,
    }
}

/// The pinyin syllable of a (normalized) character, adding its readings to `readings`:
/// ASCII letters and digits stand for themselves; Chinese characters get up to
/// [`MAX_READINGS`] readings; other letters and digits get none (they match no pinyin);
/// anything else (punctuation, which [`match_key`] already drops) is skipped (`None`).
/// `seconds` covers the readings only: the next character's part is added per title.
fn char_syl(c: char, readings: &mut Vec<Reading>) -> Option<Syl> {
    let from = readings.len();
    let add = |readings: &mut Vec<Reading>, r: String| {
        if let Some(r) = Reading::new(&r) {
            if !readings[from..].contains(&r) {
                readings.push(r);
            }
        }
    };
    let mut n_primary = 0;
    if c.is_ascii_alphanumeric() {
        add(readings, c.to_ascii_lowercase().to_string());
    } else if let Some(multi) = c.to_pinyin_multi() {
        let mut plains: Vec<&str> = Vec::with_capacity(MAX_READINGS);
        for p in multi {
            let plain = p.plain();
            if !plains.contains(&plain) {
                if plains.len() == MAX_READINGS {
                    break;
                }
                plains.push(plain);
            }
        }
        for (i, plain) in plains.into_iter().enumerate() {
            if i == 1 {
                n_primary = readings.len() - from;
            }
            if plain.contains('ü') {
                // Keyboards have no ü: people type lv (绿) or lu.
                add(readings, plain.replace('ü', "v"));
                add(readings, plain.replace('ü', "u"));
            } else {
                add(readings, plain.to_string());
            }
        }
    } else if !c.is_alphanumeric() {
        return None;
    }
    let n = readings.len() - from;
    if n_primary == 0 {
        n_primary = n;
    }
    let mine = &readings[from..];
    let firsts_of = |rs: &[Reading]| rs.iter().fold(0, |m, r| m | bit(r.bytes[0]));
    Some(Syl {
        firsts: firsts_of(mine),
        firsts_primary: firsts_of(&mine[..n_primary]),
        seconds: mine.iter().fold(0, |m, r| m | bit(r.bytes[1])),
        // Filled in with the rest of the title's letters by `Suggester::push_entry`.
        after: mine
            .iter()
            .fold(0, |m, r| r.as_bytes().iter().fold(m, |m, &b| m | bit(b))),
        from: from as u32,
        // A character has at most MAX_READINGS readings, two spellings each.
        n: n as u16,
        n_primary: n_primary as u16,
    })
}

/// A string fast column of `segment`, if the field has one there.
fn str_column(segment: &SegmentReader, field: &str) -> Option<StrColumn> {
    match segment.fast_fields().str(field) {
        Ok(column) => column,
        Err(e) => {
            tracing::warn!(field, error = %e, "suggester: cannot read fast column; segment left out");
            None
        }
    }
}

/// The first value of `doc` in `column` (its terms given), if any.
fn value<'t>(column: Option<&StrColumn>, terms: &'t [String], doc: DocId) -> Option<&'t str> {
    let ord = column?.term_ords(doc).next()?;
    terms.get(ord as usize).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Analyzer, BanshiIndex, Searcher, Syncer};
    use std::sync::OnceLock;
    use tempfile::TempDir;

    /// A temp corpus and index, synced through the crate's real pipeline.
    struct Fixture {
        // Fields drop in order: the index handles before their folders.
        syncer: Syncer,
        searcher: Searcher,
        corpus: TempDir,
        _index: TempDir,
    }

    impl Fixture {
        fn new() -> Fixture {
            let corpus = tempfile::tempdir().unwrap();
            let index = tempfile::tempdir().unwrap();
            let (idx, _) =
                BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
            Fixture {
                syncer: Syncer::open(idx.clone()).unwrap(),
                searcher: Searcher::new(idx).unwrap(),
                corpus,
                _index: index,
            }
        }

        fn write(&self, rel: &str, title: &str, kind: &str) {
            let p = self.corpus.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("---\ntitle: {title}\nkind: {kind}\n---\n正文")).unwrap();
        }

        fn remove(&self, rel: &str) {
            std::fs::remove_file(self.corpus.path().join(rel)).unwrap();
        }

        fn sync_and_build(&mut self) -> Suggester {
            self.syncer.full_sync(self.corpus.path(), &()).unwrap();
            self.searcher.reload().unwrap();
            Suggester::build(
                &self.searcher.tantivy_searcher(),
                self.searcher.index().fields(),
            )
        }
    }

    /// The shared suggester; its index and folders are gone once it is built.
    fn suggester() -> &'static Suggester {
        static S: OnceLock<Suggester> = OnceLock::new();
        S.get_or_init(|| {
            let mut f = Fixture::new();
            for (rel, title, kind) in [
                ("guides/a.md", "营业执照办理指南", "guide"),
                // Same title as a law, at a path sorting first: deduplication keeps the guide.
                ("guides/0.md", "营业执照办理指南", "law"),
                ("laws/b.md", "营业执照条例", "law"),
                // Same title and kind: deduplication keeps the path sorting first.
                ("laws/a.md", "营业执照条例", "law"),
                ("guides/z.md", "身份证挂失", "guide"),
                ("notices/c.md", "營業時間調整通知", "notice"),
                ("guides/d.md", "个体工商户营业执照办理", "guide"),
                ("guides/e.md", "身份证挂失", "guide"),
                ("materials/f.md", "身份证复印件", "material"),
                ("guides/g.md", "居民身份证换领", "guide"),
                ("guides/h.md", "银行开户许可", "guide"),
                ("guides/i.md", "长期居住证明", "guide"),
                ("notices/j.md", "ICP备案通知", "notice"),
                ("guides/k.md", "绿色通道（律师）", "guide"),
                ("laws/l.md", "产品质量法", "law"),
                // 缴 is read jiao, rarely zhuo: as `sfz` it ranks below common readings.
                ("guides/m.md", "诉讼费缴纳", "guide"),
                // Its one-letter last syllable (额 e) starts a match with nothing after it.
                ("guides/n.md", "退还多缴税额", "guide"),
            ] {
                f.write(rel, title, kind);
            }
            f.sync_and_build()
        })
    }

    #[track_caller]
    fn check(q: &str, expect: &[&str]) {
        let got: Vec<String> = suggester()
            .suggest(q, 10)
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(got, expect, "suggestions for {q:?}");
    }

    /// A short list is the head of a long one: stopping the pinyin scan early once the answer
    /// is full must not change which titles come first.
    /// The third-letter filter may only skip positions where no match starts: every full
    /// pinyin and initials spelling of up to three characters from every position of the
    /// built-in corpus's titles keeps its position, with its third letter allowed.
    #[test]
    fn the_third_letter_filter_keeps_every_match_start() {
        let index = tempfile::tempdir().unwrap();
        let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
        let mut syncer = Syncer::open(idx.clone()).unwrap();
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        syncer.full_sync(&corpus, &()).unwrap();
        let searcher = Searcher::new(idx).unwrap();
        searcher.reload().unwrap();
        let s = Suggester::build(&searcher.tantivy_searcher(), searcher.index().fields());
        assert!(s.len() > 50, "{}", s.len());
        let mut checked = 0;
        for &(from, to) in &s.spans {
            let (from, to) = (from as usize, to as usize);
            for p in from..to {
                let readings = |k: usize| -> Vec<Vec<u8>> {
                    if k >= to {
                        return Vec::new();
                    }
                    s.readings[s.syl(&s.syls[k]).readings(false)]
                        .iter()
                        .map(|r| r.as_bytes().to_vec())
                        .collect()
                };
                let mut spellings: Vec<Vec<u8>> = Vec::new();
                for r0 in readings(p) {
                    for r1 in readings(p + 1) {
                        for r2 in readings(p + 2) {
                            spellings.push([r0.clone(), r1.clone(), r2.clone()].concat());
                            spellings.push(vec![r0[0], r1[0], r2[0]]);
                        }
                        spellings.push([r0.clone(), r1].concat());
                    }
                    spellings.push(r0);
                }
                for spelling in spellings {
                    if !spelling.iter().all(u8::is_ascii_lowercase) {
                        continue;
                    }
                    for len in 3..=spelling.len() {
                        let q = &spelling[..len];
                        assert!(s.pinyin_match(q, &s.syls[p..to], false));
                        let (list, thirds) = s.candidates(q);
                        let i = list.binary_search(&(p as u32)).unwrap_or_else(|_| {
                            panic!("{} at {p} not listed", String::from_utf8_lossy(q))
                        });
                        assert!(
                            thirds[i] & bit(q[2]) as u32 != 0,
                            "{} at {p} filtered out",
                            String::from_utf8_lossy(q)
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn a_limited_answer_is_the_head_of_the_full_one() {
        let s = suggester();
        for q in [
            "y", "yy", "yin", "ying", "yingye", "s", "sh", "she", "shen", "sfz", "j", "ju", "ch",
            "chang", "zh", "l", "lv", "t", "tui", "c", "ch", "yh", "营", "身份", "icp",
        ] {
            let all: Vec<String> = s.suggest(q, 100).into_iter().map(|x| x.title).collect();
            for limit in 1..=4 {
                let head: Vec<String> = s.suggest(q, limit).into_iter().map(|x| x.title).collect();
                let want: Vec<String> = all.iter().take(limit).cloned().collect();
                assert_eq!(head, want, "{q:?} limit {limit}");
            }
        }
    }

    /// Titles containing 营业: prefix class first (guide, notice, then the shorter law: kind
    /// beats length), then the infix one even though it is a guide.
    const YINGYE: [&str; 4] = [
        "营业执照办理指南",
        "營業時間調整通知",
        "营业执照条例",
        "个体工商户营业执照办理",
    ];

    #[test]
    fn chinese_prefix_ranks_above_infix_then_kind_then_length() {
        check("营业", &YINGYE);
        check("营业执照", &[YINGYE[0], YINGYE[2], YINGYE[3]]);
        // Infix only: guides (shorter first), then the law.
        check("执照", &[YINGYE[0], YINGYE[3], YINGYE[2]]);
        check("工商户", &[YINGYE[3]]);
        check("身份证(换领)", &["居民身份证换领"]);
        check("通道·律师", &["绿色通道（律师）"]);
        check("营 业 执 照", &[YINGYE[0], YINGYE[2], YINGYE[3]]);
        check("许可证", &[]);
    }

    #[test]
    fn traditional_full_width_and_case_fold() {
        check("營業", &YINGYE);
        check("时间调整", &["營業時間調整通知"]);
        check("ＩＣＰ备案", &["ICP备案通知"]);
        check("icp", &["ICP备案通知"]);
    }

    #[test]
    fn full_pinyin_with_partial_last_syllable() {
        check("yingye", &YINGYE);
        check("yingy", &YINGYE);
        check("YingYe", &YINGYE);
        check("ying ye", &YINGYE);
        check("yingyezhizhao", &[YINGYE[0], YINGYE[2], YINGYE[3]]);
        check(
            "shenfenz",
            &["身份证挂失", "身份证复印件", "居民身份证换领"],
        );
        check("gongshanghu", &[YINGYE[3]]);
        // Punctuation is ignored; ü is typed v or u.
        check("lvseto", &["绿色通道（律师）"]);
        check("luseto", &["绿色通道（律师）"]);
        check("tongdaolvshi", &["绿色通道（律师）"]);
    }

    #[test]
    fn pinyin_matches_only_at_character_boundaries() {
        check("ingye", &[]);
        check("hizhao", &[]);
        check("yingyezhizhaox", &[]);
        check("zhizhao", &[YINGYE[0], YINGYE[3], YINGYE[2]]);
    }

    #[test]
    fn initials() {
        check("yyzz", &[YINGYE[0], YINGYE[2], YINGYE[3]]);
        // 诉讼费缴纳 is shorter, but matches only with a rare reading (缴 zhuo).
        let sfz = ["身份证挂失", "身份证复印件", "居民身份证换领", "诉讼费缴纳"];
        check("sfz", &sfz);
        check("SFZ", &sfz);
        check("jmsfzhl", &["居民身份证换领"]);
        check("icpba", &["ICP备案通知"]);
        check("e", &["退还多缴税额"]);
        // A pinyin prefix ranks above a text infix, whatever the kinds.
        check("cp", &["产品质量法", "ICP备案通知"]);
    }

    #[test]
    fn pinyin_and_initials_read_as_the_chinese_they_match() {
        let s = suggester();
        assert_eq!(s.pinyin_words("shenfenzheng").as_deref(), Some("身份证"));
        assert_eq!(s.pinyin_words("sfz").as_deref(), Some("身份证"));
        assert_eq!(s.pinyin_words("yyzz").as_deref(), Some("营业执照"));
        assert_eq!(s.pinyin_words("yingyezhizhao").as_deref(), Some("营业执照"));
        assert_eq!(s.pinyin_words("yinhang").as_deref(), Some("银行"));
        assert_eq!(s.pinyin_words("zzzzqqq"), None);
        assert_eq!(s.pinyin_words("s"), None);
        assert_eq!(s.pinyin_words("icp1"), None);
    }

    #[test]
    fn one_wrong_character_is_corrected_from_the_titles() {
        let s = suggester();
        let c = |t: &str| s.correct(t);
        assert_eq!(c("营业执找").as_deref(), Some("营业执照"));
        assert_eq!(c("身份正挂失").as_deref(), Some("身份证挂失"));
        assert_eq!(c("身份正").as_deref(), Some("身份证"));
        // Only the wrong run changes.
        assert_eq!(c("icp 身份正").as_deref(), Some("icp 身份证"));
        // Right as typed, or nothing close: no correction.
        assert_eq!(c("营业执照"), None);
        assert_eq!(c("结婚"), None);
        assert_eq!(c("天气预报"), None);
        // Not a homophone: not a typo we correct.
        assert_eq!(c("身份卡"), None);
        assert_eq!(c("身份证挂号"), None);
    }

    #[test]
    fn polyphonic_characters_match_their_common_readings() {
        check("yinhang", &["银行开户许可"]);
        check("yh", &["银行开户许可"]);
        check("changqi", &["长期居住证明"]);
        check("zhangqi", &["长期居住证明"]);
        check("cqjz", &["长期居住证明"]);
    }

    #[test]
    fn deduplicates_keeping_the_best_kind_and_reports_kind_and_path() {
        let s = suggester();
        assert_eq!(s.len(), 14);
        assert!(!s.is_empty());
        assert_eq!(
            s.suggest("营业执照办理指南", 10),
            [Suggestion {
                title: "营业执照办理指南".into(),
                kind: "guide".into(),
                path: "guides/a.md".into(),
            }]
        );
        for (q, path) in [("营业执照条例", "laws/a.md"), ("身份证挂失", "guides/e.md")] {
            let got = s.suggest(q, 10);
            assert_eq!(got.len(), 1, "{q}: {got:?}");
            assert_eq!(got[0].path, path, "{q}");
        }
        assert_eq!(
            s.suggest("營業時間", 10),
            [Suggestion {
                title: "營業時間調整通知".into(),
                kind: "notice".into(),
                path: "notices/c.md".into(),
            }]
        );
    }

    /// The posting lists are built in two parts on large indexes: any split, appended, must
    /// equal the lists built in one go.
    #[test]
    fn posting_lists_built_in_parts_equal_the_whole() {
        let s = suggester();
        let n = s.syls.len();
        let whole = s.posting_lists(0..n);
        assert!(whole.pair_postings.iter().any(|l| l.len() > 1));
        for cut in [0, 1, n / 3, n / 2, n / 3 * 2, n - 1, n] {
            let mut parts = s.posting_lists(0..cut);
            parts.append(s.posting_lists(cut..n));
            assert!(parts == whole, "split at {cut} of {n}");
        }
    }

    #[test]
    fn limit_is_respected() {
        let s = suggester();
        let titles =
            |q, n| -> Vec<String> { s.suggest(q, n).into_iter().map(|x| x.title).collect() };
        assert_eq!(titles("营业", 2), YINGYE[..2]);
        assert_eq!(titles("yingye", 3), YINGYE[..3]);
        assert_eq!(titles("营业", 1), YINGYE[..1]);
        assert_eq!(titles("营业", 0), Vec::<String>::new());
        assert_eq!(titles("营业", usize::MAX), YINGYE);
    }

    #[test]
    fn empty_and_blank_queries_suggest_nothing() {
        for q in ["", " ", "\t\n", "\u{3000}", "\u{200B}", " \u{FEFF} "] {
            check(q, &[]);
        }
        let e = Suggester::empty();
        assert!(e.is_empty());
        assert_eq!(e.len(), 0);
        assert_eq!(e.suggest("营业", 10), []);
    }

    #[test]
    fn garbage_never_panics_and_matches_nothing() {
        let long_pinyin = "y".repeat(MAX_SUGGEST_CHARS);
        let many_a = "a".repeat(100_000);
        let many_ying = "营".repeat(10_000);
        let expanding = "\u{FDFA}".repeat(MAX_SUGGEST_CHARS); // NFKC: 18 chars each
        let tail = format!("{}{}", YINGYE[0], "x".repeat(200));
        for q in [
            "😀",
            "\u{0}\u{1}\u{7F}",
            "\u{FFFF}\u{10FFFF}",
            "\u{301}\u{301}\u{301}",
            "（）【】",
            "%_*?[",
            "ü",
            long_pinyin.as_str(),
            many_a.as_str(),
            many_ying.as_str(),
            expanding.as_str(),
            tail.as_str(),
        ] {
            check(q, &[]);
        }
        // Symbols are ignored, like spaces.
        check("😀营业", &YINGYE);
        // Only the first MAX_SUGGEST_CHARS characters count: what follows is never seen.
        let capped = format!("营业{}yyy", " ".repeat(MAX_SUGGEST_CHARS));
        check(&capped, &YINGYE);
    }

    #[test]
    fn deleted_and_updated_documents_are_not_suggested_after_rebuild() {
        let mut f = Fixture::new();
        f.write("guides/a.md", "结婚登记", "guide");
        f.write("guides/b.md", "离婚登记", "guide");
        let s = f.sync_and_build();
        let titles = |s: &Suggester, q| -> Vec<String> {
            s.suggest(q, 10).into_iter().map(|x| x.title).collect()
        };
        // Same kind and length: code point order (离 U+79BB < 结 U+7ED3).
        assert_eq!(titles(&s, "dengji"), ["离婚登记", "结婚登记"]);

        f.write("guides/a.md", "结婚证补领", "guide");
        f.remove("guides/b.md");
        // The old snapshot is unchanged until rebuilt.
        assert_eq!(titles(&s, "jh"), ["结婚登记"]);
        let s = f.sync_and_build();
        assert_eq!(s.len(), 1);
        assert_eq!(titles(&s, "jh"), ["结婚证补领"]);
        assert_eq!(titles(&s, "dengji"), Vec::<String>::new());
        assert_eq!(titles(&s, "离婚"), Vec::<String>::new());
    }

    /// A segment that keeps live documents also keeps its deleted ones until a merge: the
    /// sync test above cannot pin this (its writer spreads documents over threads, and tantivy
    /// drops segments whose documents are all deleted), so one writer thread makes it certain.
    #[test]
    fn deleted_documents_in_a_live_segment_are_skipped() {
        use tantivy::{TantivyDocument, Term};
        let dir = tempfile::tempdir().unwrap();
        let (idx, _) = BanshiIndex::open_or_create(dir.path(), Analyzer::load_default()).unwrap();
        let f = *idx.fields();
        let mut writer: tantivy::IndexWriter = idx
            .tantivy()
            .writer_with_num_threads(1, 15_000_000)
            .unwrap();
        for (id, title) in [("1", "结婚登记"), ("2", "离婚登记"), ("3", "婚姻状况证明")]
        {
            let mut doc = TantivyDocument::new();
            doc.add_text(f.id, id);
            doc.add_text(f.path, format!("guides/{id}.md"));
            doc.add_text(f.kind, "guide");
            doc.add_text(f.title_exact, title);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        writer.delete_term(Term::from_field_text(f.id, "2"));
        writer.commit().unwrap();
        drop(writer);

        let searcher = Searcher::new(idx).unwrap();
        searcher.reload().unwrap();
        let ts = searcher.tantivy_searcher();
        assert_eq!(ts.segment_readers().len(), 1);
        assert_eq!(ts.segment_readers()[0].num_deleted_docs(), 1);
        let s = Suggester::build(&ts, searcher.index().fields());
        assert_eq!(s.len(), 2);
        let titles: Vec<String> = s.suggest("hun", 10).into_iter().map(|x| x.title).collect();
        assert_eq!(titles, ["婚姻状况证明", "结婚登记"]);
    }

    /// Every prefix of every title (as typed and as pinyin initials/full pinyin of the first
    /// characters), answered by `s`: what the file must reproduce.
    fn answers(s: &Suggester, titles: &[String]) -> Vec<Vec<Suggestion>> {
        let mut qs: Vec<String> = ["sfz", "yyzz", "yingye", "jiehun", "lv", "icp", "shen", "z"]
            .map(String::from)
            .to_vec();
        for t in titles.iter().take(300) {
            for k in 1..=t.chars().count().min(4) {
                qs.push(t.chars().take(k).collect());
            }
        }
        qs.iter().map(|q| s.suggest(q, 10)).collect()
    }

    /// The file round trip: the second open of a snapshot reads what the first built and
    /// wrote, equal in every array and in every answer; a new commit is built afresh.
    #[test]
    fn the_file_reads_back_what_was_built_for_the_same_snapshot_only() {
        let mut f = Fixture::new();
        let builtin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        f.syncer.full_sync(&builtin, &()).unwrap();
        f.searcher.reload().unwrap();
        let index = f.searcher.index().clone();
        let snap = f.searcher.tantivy_searcher();

        let built = Suggester::open(&snap, &index);
        assert!(!built.origin().loaded);
        assert!(file::path(index.dir()).exists());
        assert!(built.len() > 50, "{built:?}");
        let read = Suggester::open(&snap, &index);
        assert!(read.origin().loaded);
        assert!(read == built, "the file did not read back equal");
        let titles: Vec<String> = built.titles.iter().map(str::to_string).collect();
        assert_eq!(answers(&read, &titles), answers(&built, &titles));
        assert!(answers(&read, &titles).iter().any(|a| !a.is_empty()));

        // A commit since: the file is stale, the new title is suggested.
        f.write("guides/new.md", "渔船登记证书核发", "guide");
        f.syncer.full_sync(f.corpus.path(), &()).unwrap();
        f.searcher.reload().unwrap();
        let after = Suggester::open(&f.searcher.tantivy_searcher(), &index);
        assert!(!after.origin().loaded);
        assert_eq!(after.suggest("ycdj", 1)[0].title, "渔船登记证书核发");
        assert_eq!(file::saved_key(index.dir()), after.origin().key);
    }

    /// A truncated, bit-flipped, foreign or crafted file is refused with a reason, never
    /// used and never a panic.
    #[test]
    fn a_damaged_or_crafted_file_is_refused() {
        let mut f = Fixture::new();
        for (i, t) in [
            "营业执照办理",
            "绿色通道（律师）",
            "长期居住证明",
            "ICP备案😀",
        ]
        .iter()
        .enumerate()
        {
            f.write(&format!("guides/{i}.md"), t, "guide");
        }
        f.syncer.full_sync(f.corpus.path(), &()).unwrap();
        f.searcher.reload().unwrap();
        let index = f.searcher.index().clone();
        let snap = f.searcher.tantivy_searcher();
        let good = Suggester::open(&snap, &index);
        let key = good.origin().key.unwrap();
        let at = file::path(index.dir());
        let bytes = std::fs::read(&at).unwrap();
        assert!(file::load(index.dir(), &key).is_ok());

        let refused = |b: &[u8]| {
            std::fs::write(&at, b).unwrap();
            file::load(index.dir(), &key).err()
        };
        for len in (0..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
            assert!(refused(&bytes[..len]).is_some(), "truncated to {len}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            let e = refused(&b).unwrap_or_else(|| panic!("byte {i} flipped, file used"));
            match i {
                0..12 => assert!(matches!(e, file::FileError::Format), "{i}: {e}"),
                12..44 => assert!(matches!(e, file::FileError::Stale), "{i}: {e}"),
                _ => assert!(matches!(e, file::FileError::Damaged(_)), "{i}: {e}"),
            }
        }

        // Checksums right, contents wrong: the consistency checks refuse them.
        let crafted = |change: fn(&mut Suggester)| {
            let mut s = Suggester::build_for(&snap, &index);
            change(&mut s);
            file::save(&s, &key, index.dir()).unwrap();
            file::load(index.dir(), &key).err()
        };
        let n = good.len() as u32;
        assert!(crafted(|_| {}).is_none(), "an honest file must load");
        for change in [
            (|s: &mut Suggester| s.by_norm[0] = s.entries.len() as u32) as fn(&mut Suggester),
            |s| s.by_norm.pop().map(drop).unwrap_or(()),
            |s| s.postings.iter_mut().for_each(|l| l.push(u32::MAX)),
            |s| s.pair_thirds[0].push(1),
            |s| s.char_entries.values_mut().for_each(|l| l.push(999)),
            |s| {
                for y in &mut s.table {
                    y.from = 1000;
                }
            },
            |s| {
                for y in &mut s.table {
                    y.n_primary = y.n + 1;
                }
            },
        ] {
            let e = crafted(change);
            assert!(
                matches!(e, Some(file::FileError::Damaged(_))),
                "{e:?} ({n} titles)"
            );
        }

        // The titles' column (its ends follow the 44-byte header and their count) with its
        // first end past the text or its first two ends out of order, the checksum made right
        // again: refused, not sliced.
        let with_crc = |mut b: Vec<u8>| {
            let n = b.len() - 4;
            let sum = crc32fast::hash(&b[..n]);
            b[n..].copy_from_slice(&sum.to_le_bytes());
            b
        };
        let ends = 44 + 8;
        let mut past = bytes.clone();
        past[ends..ends + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut swapped = bytes.clone();
        let (first, second) = swapped[ends..ends + 8].split_at_mut(4);
        first.swap_with_slice(second);
        for b in [past, swapped] {
            let e = refused(&with_crc(b));
            assert!(matches!(e, Some(file::FileError::Damaged(_))), "{e:?}");
        }
    }

    /// A crashed writer's side file goes at the next save once it is old; a young one (another
    /// process writing now) stays.
    #[test]
    fn abandoned_side_files_are_removed_once_old() {
        let mut f = Fixture::new();
        f.write("guides/a.md", "结婚登记", "guide");
        f.syncer.full_sync(f.corpus.path(), &()).unwrap();
        f.searcher.reload().unwrap();
        let index = f.searcher.index().clone();
        let dir = index.dir();
        let old = dir.join("suggest.bin.partial-1");
        let young = dir.join("suggest.bin.partial-2");
        for p in [&old, &young] {
            std::fs::write(p, b"half a file").unwrap();
        }
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        Suggester::open(&f.searcher.tantivy_searcher(), &index);
        assert!(file::path(dir).exists());
        assert!(!old.exists(), "an old side file stays");
        assert!(young.exists(), "a young side file was removed");
    }
}
