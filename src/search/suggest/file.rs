//! The suggester on disk, beside the index: `suggest.bin`, written after a build and read back
//! at the next start instead of building again.
//!
//! Building reads every title, pinyin and posting list of the snapshot: ~0.3 s of CPU at 100k
//! documents, most of a server's start-up on two cores. Reading the file back is a copy of a
//! few flat arrays. A file is only used for the snapshot it was built from: its header holds a
//! key made of every live segment's id and deletes (segments never change, so equal keys mean
//! equal titles), the dictionary fingerprint and [`FORMAT`]; any other file is ignored and
//! replaced after the next build.
//!
//! The file is written to a side name and renamed into place, so a crash leaves the old file
//! or the new one, never half of one; a trailing CRC-32 (as in Lucene's file footers) catches a file damaged later, and the
//! reader checks every index against the array it points into, so even a file that passes the
//! checksum cannot make a lookup go out of bounds.

use super::{Entry, Origin, Reading, Suggester, Syl, Texts, LETTERS};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The file's name inside the index folder.
pub const FILE_NAME: &str = "suggest.bin";

/// The layout and meaning of the file. Bump it whenever [`Suggester::build`] computes
/// something different from the same titles (normalization, readings, order), not only when
/// the layout changes: an old file would otherwise answer with the old rules.
/// 2: the letter lists hold `a`–`z` only (a pinyin query has no digits).
pub const FORMAT: u32 = 2;

const MAGIC: &[u8; 8] = b"bsuggest";

/// Which snapshot a suggester was built from (see the module docs).
pub type Key = [u8; 32];

/// Why a file was not used. Never an error to the caller: the suggester is built instead.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not a suggester file, or one of another [`FORMAT`].
    #[error("not a suggester file of format {FORMAT}")]
    Format,
    /// Built from another snapshot (the index changed since).
    #[error("built from another snapshot")]
    Stale,
    /// Damaged after it was written: the checksum or a consistency check failed.
    #[error("damaged: {0}")]
    Damaged(&'static str),
}

/// The key of `searcher`'s snapshot, for suggestions built with a dictionary of `fingerprint`.
pub fn snapshot_key(searcher: &tantivy::Searcher, fingerprint: &str) -> Key {
    let mut h = blake3::Hasher::new();
    h.update(&FORMAT.to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&[0]);
    h.update(fingerprint.as_bytes());
    h.update(&[0]);
    for s in searcher.segment_readers() {
        h.update(s.segment_id().uuid_string().as_bytes());
        h.update(&s.max_doc().to_le_bytes());
        h.update(&s.num_docs().to_le_bytes());
        h.update(&s.delete_opstamp().map_or(u64::MAX, |o| o).to_le_bytes());
    }
    *h.finalize().as_bytes()
}

/// The path of the file in the index folder `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Write `s`, built from the snapshot `key`, as the file in `dir` (see the module docs).
pub fn save(s: &Suggester, key: &Key, dir: &Path) -> Result<(), FileError> {
    let mut w = Writer(Vec::with_capacity(
        s.syls.len() * 24 + s.entries.len() * 128,
    ));
    w.0.extend_from_slice(MAGIC);
    w.0.extend_from_slice(&FORMAT.to_le_bytes());
    w.0.extend_from_slice(key);

    w.strs(s.titles.iter());
    w.strs(s.kinds.iter());
    w.strs(s.paths.iter());
    w.strs(s.entries.iter().map(|e| e.norm.as_str()));
    // Sorted by character, so that equal suggesters write equal files.
    let mut chars: Vec<(&char, &Vec<u32>)> = s.char_entries.iter().collect();
    chars.sort_unstable_by_key(|(c, _)| **c);
    w.u32s(&chars.iter().map(|(c, _)| **c as u32).collect::<Vec<_>>());
    w.lists(chars.iter().map(|(_, l)| l.as_slice()));
    // The characters' syllables; a skipped character has no readings and the flag 1 << 31.
    let mut bases: Vec<(&char, Option<&Syl>)> = s
        .by_char
        .iter()
        .map(|(c, y)| (c, y.map(|i| &s.table[i as usize])))
        .collect();
    bases.sort_unstable_by_key(|(c, _)| **c);
    let base =
        |f: fn(&Syl) -> u64| -> Vec<u64> { bases.iter().map(|(_, y)| y.map_or(0, f)).collect() };
    w.u32s(&bases.iter().map(|(c, _)| **c as u32).collect::<Vec<_>>());
    w.u64s(&base(|y| y.firsts));
    w.u64s(&base(|y| y.firsts_primary));
    w.u64s(&base(|y| y.seconds));
    w.u64s(&base(|y| y.after));
    w.u64s(&base(|y| {
        u64::from(y.from) | u64::from(y.n) << 32 | u64::from(y.n_primary) << 48
    }));
    w.bytes(
        &bases
            .iter()
            .map(|(_, y)| u8::from(y.is_some()))
            .collect::<Vec<_>>(),
    );
    let mut readings = Vec::with_capacity(s.readings.len() * 8);
    for r in &s.readings {
        readings.extend_from_slice(&r.bytes);
        readings.push(r.len);
    }
    w.bytes(&readings);
    w.lists(s.postings.iter().map(Vec::as_slice));
    w.lists(s.pair_postings.iter().map(Vec::as_slice));
    w.lists(s.pair_thirds.iter().map(Vec::as_slice));
    w.u32s(&s.by_norm);
    let sum = crc32fast::hash(&w.0);
    w.0.extend_from_slice(&sum.to_le_bytes());

    let to = path(dir);
    // One side file per write: two writers (a start's background save and shutdown's) never
    // share one.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = dir.join(format!("{FILE_NAME}.partial-{}-{n}", std::process::id()));
    let io = |source| FileError::Io {
        path: to.clone(),
        source,
    };
    // A failed write (a full disk) must not leave its half behind.
    std::fs::write(&partial, &w.0)
        .and_then(|()| std::fs::rename(&partial, &to))
        .map_err(|e| {
            std::fs::remove_file(&partial).ok();
            io(e)
        })?;
    remove_abandoned(dir);
    Ok(())
}

/// Remove side files a crashed writer left behind. Only old ones: a young one may be
/// another process's write in progress (`banshi search` beside a server).
fn remove_abandoned(dir: &Path) {
    let prefix = format!("{FILE_NAME}.partial-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(600));
        if old && e.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::remove_file(e.path()).ok();
        }
    }
}

/// The suggester in `dir`'s file, if it was built from the snapshot `key` and is intact.
pub fn load(dir: &Path, key: &Key) -> Result<Suggester, FileError> {
    let at = path(dir);
    let io = |source| FileError::Io {
        path: at.clone(),
        source,
    };
    let file = std::fs::File::open(&at).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    parse(file, len, key).map_err(|e| match e {
        FileError::Io { source, .. } => io(source),
        e => e,
    })
}

/// The key the file in `dir` was built from, reading only its header: whether it needs
/// writing again.
pub fn saved_key(dir: &Path) -> Option<Key> {
    let mut head = [0u8; HEAD];
    std::fs::File::open(path(dir))
        .and_then(|mut f| f.read_exact(&mut head))
        .ok()?;
    (head[..8] == MAGIC[..] && head[8..12] == FORMAT.to_le_bytes())
        .then(|| head[12..].try_into().expect("32 bytes"))
}

/// Bytes before the first array: magic, format, key.
const HEAD: usize = 8 + 4 + 32;

/// The suggester in the `len` bytes of `from`. Read as a stream, through one small buffer:
/// reading the whole file into memory first cost as much again as the suggester's own
/// arrays (page faults of a 30 MB buffer at 100k documents). Nothing read is used before
/// the checksum at the end matched.
fn parse(mut from: impl Read, len: u64, key: &Key) -> Result<Suggester, FileError> {
    let mut head = [0u8; HEAD];
    if len < (HEAD + 4) as u64 || from.read_exact(&mut head).is_err() {
        return Err(FileError::Format);
    }
    if &head[..8] != MAGIC || head[8..12] != FORMAT.to_le_bytes() {
        return Err(FileError::Format);
    }
    if head[12..] != key[..] {
        return Err(FileError::Stale);
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head);
    let mut r = Reader {
        from,
        left: len - (HEAD + 4) as u64,
        crc,
        buf: vec![0; CHUNK],
    };
    let titles = r.texts()?;
    let kinds = r.texts()?;
    let paths = r.texts()?;
    let norms = r.strs()?;
    let n = titles.len();
    if kinds.len() != n || paths.len() != n || norms.len() != n {
        return Err(FileError::Damaged("entry columns differ in length"));
    }
    let entries: Vec<Entry> = norms.into_iter().map(|norm| Entry { norm }).collect();
    let chars = r.u32s()?;
    let char_lists = r.lists()?;
    if chars.len() != char_lists.len() {
        return Err(FileError::Damaged("character columns differ in length"));
    }
    let mut char_entries = HashMap::with_capacity(chars.len());
    for (c, list) in chars.into_iter().zip(char_lists) {
        let c = char::from_u32(c).ok_or(FileError::Damaged("not a character"))?;
        within(&list, n)?;
        char_entries.insert(c, list);
    }

    let base_chars = r.u32s()?;
    let firsts = r.u64s()?;
    let firsts_primary = r.u64s()?;
    let seconds = r.u64s()?;
    let after = r.u64s()?;
    let places = r.u64s()?;
    let present = r.bytes()?;
    let raw = r.bytes()?;
    let k = base_chars.len();
    if [
        firsts.len(),
        firsts_primary.len(),
        seconds.len(),
        after.len(),
        places.len(),
        present.len(),
    ]
    .iter()
    .any(|&l| l != k)
        || raw.len() % 8 != 0
    {
        return Err(FileError::Damaged("syllable columns differ in length"));
    }
    let readings: Vec<Reading> = raw
        .chunks_exact(8)
        .map(|c| Reading {
            bytes: c[..7].try_into().expect("7 bytes"),
            len: c[7].min(7),
        })
        .collect();
    let mut by_char = FxHashMap::default();
    by_char.reserve(k);
    let mut table = Vec::with_capacity(k);
    for i in 0..k {
        let c = char::from_u32(base_chars[i]).ok_or(FileError::Damaged("not a character"))?;
        let place = places[i];
        let syl = (present[i] != 0).then_some(Syl {
            firsts: firsts[i],
            firsts_primary: firsts_primary[i],
            seconds: seconds[i],
            after: after[i],
            from: place as u32,
            n: (place >> 32) as u16,
            n_primary: (place >> 48) as u16,
        });
        if let Some(y) = syl {
            if y.n_primary > y.n || y.from as usize + y.n as usize > readings.len() {
                return Err(FileError::Damaged("reading out of range"));
            }
        }
        by_char.insert(
            c,
            syl.map(|y| {
                table.push(y);
                table.len() as u32 - 1
            }),
        );
    }

    let postings = r.lists()?;
    let pair_postings = r.lists()?;
    let pair_thirds = r.lists()?;
    let by_norm = r.u32s()?;
    r.finish()?;
    if postings.len() != LETTERS
        || pair_postings.len() != LETTERS * LETTERS
        || pair_thirds.len() != LETTERS * LETTERS
        || pair_postings
            .iter()
            .zip(&pair_thirds)
            .any(|(p, t)| p.len() != t.len())
    {
        return Err(FileError::Damaged("posting lists"));
    }
    if by_norm.len() != n {
        return Err(FileError::Damaged("key order"));
    }
    within(&by_norm, n)?;

    let mut s = Suggester::empty();
    s.readings = readings;
    s.by_char = by_char;
    s.table = table;
    s.entries.reserve(n);
    // The syllables, spans and character bits, exactly as the build made them: every
    // character's syllable comes from the file (a character missing there, possible only in a
    // crafted file, is read from the pinyin tables like in a build).
    for e in entries {
        s.push_entry(e);
    }
    s.titles = titles;
    s.kinds = kinds;
    s.paths = paths;
    for list in postings.iter().chain(&pair_postings) {
        within(list, s.syls.len())?;
    }
    s.char_entries = char_entries;
    s.postings = postings;
    s.pair_postings = pair_postings;
    s.pair_thirds = pair_thirds;
    s.by_norm = by_norm;
    s.origin = Origin {
        key: Some(*key),
        loaded: true,
        ..Origin::default()
    };
    Ok(s)
}

/// Every index in `list` is below `len`.
fn within(list: &[u32], len: usize) -> Result<(), FileError> {
    match list.iter().max() {
        Some(&max) if max as usize >= len => Err(FileError::Damaged("index out of range")),
        _ => Ok(()),
    }
}

/// Little-endian arrays, each after its length.
struct Writer(Vec<u8>);

impl Writer {
    fn len(&mut self, n: usize) {
        self.0.extend_from_slice(&(n as u64).to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }
    fn u32s(&mut self, v: &[u32]) {
        self.len(v.len());
        self.0.extend(v.iter().flat_map(|x| x.to_le_bytes()));
    }
    fn u64s(&mut self, v: &[u64]) {
        self.len(v.len());
        self.0.extend(v.iter().flat_map(|x| x.to_le_bytes()));
    }
    /// Strings as one byte string and the end of each.
    fn strs<'a>(&mut self, v: impl Iterator<Item = &'a str> + Clone) {
        let ends: Vec<u32> = v
            .clone()
            .scan(0u32, |end, s| {
                *end += s.len() as u32;
                Some(*end)
            })
            .collect();
        self.u32s(&ends);
        self.len(ends.last().map_or(0, |&e| e as usize));
        for s in v {
            self.0.extend_from_slice(s.as_bytes());
        }
    }
    /// Lists as their lengths and then all their items.
    fn lists<'a>(&mut self, v: impl Iterator<Item = &'a [u32]> + Clone) {
        let lens: Vec<u32> = v.clone().map(|l| l.len() as u32).collect();
        self.u32s(&lens);
        self.len(lens.iter().map(|&l| l as usize).sum());
        for l in v {
            self.0.extend(l.iter().flat_map(|x| x.to_le_bytes()));
        }
    }
}

/// Bytes [`Reader`] reads at a time.
const CHUNK: usize = 64 * 1024;

/// The other side of [`Writer`], over a stream of the file's body (`left` bytes before the
/// checksum); every read checks the bytes are there and goes into the checksum.
struct Reader<R> {
    from: R,
    left: u64,
    crc: crc32fast::Hasher,
    buf: Vec<u8>,
}

impl<R: Read> Reader<R> {
    /// Read `n` bytes, `buf.len()` at most at a time, passing each piece to `each`.
    fn chunks(&mut self, n: usize, mut each: impl FnMut(&[u8])) -> Result<(), FileError> {
        if n as u64 > self.left {
            return Err(FileError::Damaged("truncated"));
        }
        self.left -= n as u64;
        let mut rest = n;
        while rest > 0 {
            let k = rest.min(self.buf.len());
            let piece = &mut self.buf[..k];
            self.from
                .read_exact(piece)
                .map_err(|source| FileError::Io {
                    path: PathBuf::new(),
                    source,
                })?;
            self.crc.update(piece);
            each(piece);
            rest -= k;
        }
        Ok(())
    }
    /// The next array's length in bytes, for items of `width` bytes. Checked against what is
    /// left, so that a damaged length cannot ask for a huge allocation.
    fn len(&mut self, width: usize) -> Result<usize, FileError> {
        let mut raw = [0u8; 8];
        self.chunks(8, |b| raw.copy_from_slice(b))?;
        match usize::try_from(u64::from_le_bytes(raw))
            .ok()
            .and_then(|n| n.checked_mul(width))
        {
            Some(bytes) if bytes as u64 <= self.left => Ok(bytes),
            _ => Err(FileError::Damaged("length out of range")),
        }
    }
    fn bytes(&mut self) -> Result<Vec<u8>, FileError> {
        let n = self.len(1)?;
        let mut out = Vec::with_capacity(n);
        self.chunks(n, |b| out.extend_from_slice(b))?;
        Ok(out)
    }
    /// An array of `W`-byte little-endian numbers. `W` divides [`CHUNK`], so no number
    /// straddles two pieces.
    fn numbers<T, const W: usize>(
        &mut self,
        decode: fn([u8; W]) -> T,
    ) -> Result<Vec<T>, FileError> {
        let n = self.len(W)?;
        let mut out = Vec::with_capacity(n / W);
        self.chunks(n, |b| {
            out.extend(
                b.chunks_exact(W)
                    .map(|c| decode(c.try_into().expect("W bytes"))),
            )
        })?;
        Ok(out)
    }
    fn u32s(&mut self) -> Result<Vec<u32>, FileError> {
        self.numbers(u32::from_le_bytes)
    }
    fn u64s(&mut self) -> Result<Vec<u64>, FileError> {
        self.numbers(u64::from_le_bytes)
    }
    /// A column of strings as stored: one buffer and the end of each.
    fn texts(&mut self) -> Result<Texts, FileError> {
        let ends = self.u32s()?;
        let all = self.bytes()?;
        let all = String::from_utf8(all).map_err(|_| FileError::Damaged("not UTF-8"))?;
        Texts::from_parts(all, ends).ok_or(FileError::Damaged("string out of range"))
    }
    fn strs(&mut self) -> Result<Vec<String>, FileError> {
        Ok(self.texts()?.iter().map(str::to_string).collect())
    }
    fn lists(&mut self) -> Result<Vec<Vec<u32>>, FileError> {
        let lens = self.u32s()?;
        let total = self.len(4)? / 4;
        if lens.iter().map(|&l| l as u64).sum::<u64>() != total as u64 {
            return Err(FileError::Damaged("list lengths"));
        }
        let mut out = Vec::with_capacity(lens.len());
        for l in lens {
            let mut list = Vec::with_capacity(l as usize);
            self.chunks(l as usize * 4, |b| {
                list.extend(
                    b.chunks_exact(4)
                        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))),
                )
            })?;
            out.push(list);
        }
        Ok(out)
    }
    /// Everything was read, and the checksum after it matches.
    fn finish(mut self) -> Result<(), FileError> {
        if self.left != 0 {
            return Err(FileError::Damaged("trailing bytes"));
        }
        let mut sum = [0u8; 4];
        self.from
            .read_exact(&mut sum)
            .map_err(|_| FileError::Damaged("truncated"))?;
        if self.crc.finalize().to_le_bytes() != sum {
            return Err(FileError::Damaged("checksum mismatch"));
        }
        Ok(())
    }
}
