//! Corpus: files on disk → [`Document`]s.
//!
//! Owns walking a corpus folder, decoding bytes (UTF-8, UTF-16, GB18030), the loaders by format
//! and the mapping of real catalogues' field names onto our schema. A bad file becomes a
//! [`Skip`] naming the file and the reason; it never aborts a walk. It must not know about the
//! index: documents carry everything the index needs.

mod decode;
mod fields;
mod html;
mod json;
mod markdown;
mod text;

pub use fields::{FieldMap, MAPPING_FILE};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files larger than this are skipped with a reason rather than read.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// What a document is; drives filters and ranking priors.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// 法律法规: laws, regulations, rules.
    Law,
    /// 办事指南: a service item's guide.
    Guide,
    /// 申请材料: a list of application materials.
    Material,
    /// 办理时限: time limits.
    Timeline,
    /// 通知公告: notices.
    Notice,
}

impl Kind {
    /// All kinds, in display order.
    pub const ALL: [Kind; 5] = [
        Kind::Guide,
        Kind::Material,
        Kind::Timeline,
        Kind::Law,
        Kind::Notice,
    ];

    /// The stable lower-case name used in the API and the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Law => "law",
            Kind::Guide => "guide",
            Kind::Material => "material",
            Kind::Timeline => "timeline",
            Kind::Notice => "notice",
        }
    }

    /// Parse an English or Chinese kind or folder name.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s.trim().to_lowercase().as_str() {
            "law" | "laws" | "法律法规" | "法规" | "法律" => Kind::Law,
            "guide" | "guides" | "办事指南" | "指南" => Kind::Guide,
            "material" | "materials" | "申请材料" | "材料" => Kind::Material,
            "timeline" | "timelines" | "办理时限" | "时限" => Kind::Timeline,
            "notice" | "notices" | "通知公告" | "通知" | "公告" => Kind::Notice,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One searchable document: a file, or one record of a catalogue file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    /// Stable identity: the record's id or code, else the relative path (`#N` per record).
    pub id: String,
    /// Path relative to the corpus root, `/`-separated.
    pub path: String,
    /// Document kind.
    pub kind: Kind,
    /// Title (事项名称).
    pub title: String,
    /// Main text.
    pub body: String,
    /// 实施主体.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// 行政区划.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// 事项编码.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// 办理依据.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legal_basis: Vec<String>,
    /// 申请材料.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<String>,
    /// 承诺时限, working days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_days: Option<u32>,
    /// 法定时限, working days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statutory_limit_days: Option<u32>,
    /// 收费标准.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    /// 咨询电话.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// 办理地点.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Link to the official page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Date of the version (YYYY-MM-DD when known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// 服务对象: 个人 / 法人.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// Free keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Keys of the source record that map to no schema field, kept (they are also in `body`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// What a search hit shows of a stored document: read from its stored JSON without the
/// fields a hit never shows (legal basis, contacts, address, link, audience, tags, extra),
/// which are skipped unread instead of each copied into a string of its own.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HitDoc {
    /// [`Document::id`].
    pub id: String,
    /// [`Document::path`].
    pub path: String,
    /// [`Document::kind`].
    pub kind: Kind,
    /// [`Document::title`].
    pub title: String,
    /// [`Document::department`].
    #[serde(default)]
    pub department: Option<String>,
    /// [`Document::region`].
    #[serde(default)]
    pub region: Option<String>,
    /// [`Document::code`].
    #[serde(default)]
    pub code: Option<String>,
    /// [`Document::materials`], shown in place of a blank body.
    #[serde(default)]
    pub materials: Vec<String>,
    /// [`Document::time_limit_days`].
    #[serde(default)]
    pub time_limit_days: Option<u32>,
    /// [`Document::updated`].
    #[serde(default)]
    pub updated: Option<String>,
}

impl From<Document> for HitDoc {
    fn from(d: Document) -> HitDoc {
        HitDoc {
            id: d.id,
            path: d.path,
            kind: d.kind,
            title: d.title,
            department: d.department,
            region: d.region,
            code: d.code,
            materials: d.materials,
            time_limit_days: d.time_limit_days,
            updated: d.updated,
        }
    }
}

impl Document {
    /// An empty document of `kind` at `path`.
    pub fn new(path: &str, kind: Kind) -> Document {
        Document {
            id: path.to_string(),
            path: path.to_string(),
            kind,
            title: String::new(),
            body: String::new(),
            department: None,
            region: None,
            code: None,
            legal_basis: Vec::new(),
            materials: Vec::new(),
            time_limit_days: None,
            statutory_limit_days: None,
            fee: None,
            phone: None,
            address: None,
            url: None,
            updated: None,
            audience: Vec::new(),
            tags: Vec::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// Why a file (or one record of it) was not indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Skip {
    /// Relative path, with `:LINE` or `#N` for one record of a multi-record file.
    pub path: String,
    /// Human-readable reason.
    pub reason: String,
}

/// Errors of the corpus layer. Each names its file: the reason a file is skipped.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The corpus root itself is missing or not a folder.
    #[error("corpus folder {0} does not exist or is not a folder")]
    NoRoot(PathBuf),
    /// The mapping file is malformed.
    #[error("bad {file}: {message}")]
    Mapping {
        /// The mapping file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// A file found under the corpus root.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Relative, `/`-separated path.
    pub rel: String,
    /// Absolute path.
    pub abs: PathBuf,
}

/// Extensions that have a loader.
pub const EXTENSIONS: [&str; 7] = ["md", "markdown", "txt", "html", "htm", "json", "jsonl"];

/// Temp, swap, hidden and backup files that editors and sync tools leave around.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('~')
        || name.ends_with('~')
        || name.starts_with(".#")
        || [".swp", ".swx", ".tmp", ".part", ".crdownload", ".bak"]
            .iter()
            .any(|s| name.ends_with(s))
        || name == MAPPING_FILE
}

/// Relative `/`-separated path of `abs` under `root`.
pub fn rel_path(root: &Path, abs: &Path) -> Option<String> {
    let rel = abs.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

/// Walk `root`: every candidate file, plus a skip for each entry that cannot be walked
/// (symlink loops, unreadable folders). Hidden and temp files are passed over silently.
pub fn walk(root: &Path) -> Result<(Vec<CorpusFile>, Vec<Skip>), CorpusError> {
    if !root.is_dir() {
        return Err(CorpusError::NoRoot(root.to_path_buf()));
    }
    let mut files = Vec::new();
    let mut skips = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_ignored_name(&e.file_name().to_string_lossy()));
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                if let Some(rel) = rel_path(root, e.path()) {
                    files.push(CorpusFile {
                        rel,
                        abs: e.path().to_path_buf(),
                    });
                }
            }
            Ok(_) => {}
            Err(err) => {
                let path = err
                    .path()
                    .and_then(|p| rel_path(root, p))
                    .unwrap_or_else(|| root.display().to_string());
                let reason = if err.loop_ancestor().is_some() {
                    "symlink loop".to_string()
                } else {
                    format!(
                        "cannot read: {}",
                        err.io_error()
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| err.to_string())
                    )
                };
                skips.push(Skip { path, reason });
            }
        }
    }
    Ok((files, skips))
}

/// The outcome of loading one file.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Documents of the file (several for catalogue files).
    pub docs: Vec<Document>,
    /// Records of the file that were skipped while the rest loaded.
    pub skips: Vec<Skip>,
}

/// Load the documents of one file whose bytes were already read.
///
/// `Err` carries the reason the whole file is skipped.
pub fn load_bytes(rel: &str, bytes: &[u8], map: &FieldMap) -> Result<Loaded, String> {
    let ext = rel
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !EXTENSIONS.contains(&ext.as_str()) {
        return Err(if ext.is_empty() {
            "unsupported file type (no extension)".to_string()
        } else {
            format!("unsupported file type .{ext}")
        });
    }
    if bytes.is_empty() {
        return Err("empty file".to_string());
    }
    let text = decode::decode(bytes)?;
    let folder_kind = rel.split_once('/').and_then(|(top, _)| Kind::parse(top));
    let ctx = LoadCtx {
        rel,
        folder_kind,
        map,
    };
    let mut loaded = match ext.as_str() {
        "md" | "markdown" => Loaded {
            docs: vec![markdown::load(&ctx, &text)?],
            skips: vec![],
        },
        "txt" => Loaded {
            docs: vec![text::load(&ctx, &text)?],
            skips: vec![],
        },
        "html" | "htm" => Loaded {
            docs: vec![html::load(&ctx, &text)?],
            skips: vec![],
        },
        "json" => json::load_json(&ctx, &text)?,
        _ => json::load_jsonl(&ctx, &text)?,
    };
    for d in &mut loaded.docs {
        finish(&ctx, d);
    }
    if loaded.docs.is_empty() && loaded.skips.is_empty() {
        return Err("no documents in file".to_string());
    }
    Ok(loaded)
}

/// Read and load one file from disk, enforcing the size limit.
pub fn load_file(file: &CorpusFile, map: &FieldMap) -> Result<(Vec<u8>, Loaded), String> {
    let bytes = read_limited(&file.abs)?;
    let loaded = load_bytes(&file.rel, &bytes, map)?;
    Ok((bytes, loaded))
}

/// Read a file, refusing files over [`MAX_FILE_BYTES`] before reading them.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "too large: {:.1} MB (limit {} MB)",
            meta.len() as f64 / 1048576.0,
            MAX_FILE_BYTES / 1048576
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}

/// What loaders need to know about the file at hand.
pub(crate) struct LoadCtx<'a> {
    pub rel: &'a str,
    pub folder_kind: Option<Kind>,
    pub map: &'a FieldMap,
}

impl LoadCtx<'_> {
    /// File name without extension.
    pub fn stem(&self) -> &str {
        let name = self.rel.rsplit('/').next().unwrap_or(self.rel);
        name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name)
    }
}

/// Defaults every loader shares: kind inference, date from the file name, clean-up.
fn finish(ctx: &LoadCtx, d: &mut Document) {
    d.title = clean_inline(&d.title);
    if d.title.is_empty() {
        d.title = ctx.stem().to_string();
    }
    if d.updated.is_none() {
        d.updated = date_in_name(ctx.stem());
    }
    d.body = clean_block(&d.body);
}

/// Infer a kind from the text when neither the record nor the folder says.
pub(crate) fn infer_kind(ctx: &LoadCtx, title: &str, body: &str, record: bool) -> Kind {
    if let Some(k) = ctx.folder_kind {
        return k;
    }
    let articles = body.lines().filter(|l| is_article_start(l)).take(2).count();
    if articles >= 2 {
        return Kind::Law;
    }
    if record {
        return Kind::Guide;
    }
    let t = title.trim_end_matches(|c: char| !c.is_alphanumeric());
    if ["通知", "公告", "通告", "意见", "函"]
        .iter()
        .any(|s| t.ends_with(s))
    {
        return Kind::Notice;
    }
    if [
        "法",
        "条例",
        "规定",
        "办法",
        "决定",
        "解释",
        "规则",
        "细则",
        "批复",
        "修正案",
    ]
    .iter()
    .any(|s| t.ends_with(s))
    {
        return Kind::Law;
    }
    if title.contains("材料") {
        return Kind::Material;
    }
    if title.contains("时限") {
        return Kind::Timeline;
    }
    if title.contains("指南") {
        return Kind::Guide;
    }
    Kind::Notice
}

/// `第…条` at the start of a line, as in laws.
pub fn is_article_start(line: &str) -> bool {
    let l = line.trim_start();
    let Some(rest) = l.strip_prefix('第') else {
        return false;
    };
    for (n, c) in rest.chars().enumerate() {
        if c == '条' {
            return n > 0;
        }
        if !(c.is_ascii_digit() || "零一二三四五六七八九十百千〇两".contains(c)) || n > 8
        {
            return false;
        }
    }
    false
}

/// `名称(2019-04-23)` → `2019-04-23`.
fn date_in_name(stem: &str) -> Option<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"(\d{4})[-_.年](\d{1,2})[-_.月](\d{1,2})").expect("valid regex")
    });
    let c = re.captures(stem)?;
    Some(format!("{}-{:0>2}-{:0>2}", &c[1], &c[2], &c[3]))
}

/// One-line clean-up: odd spaces and invisible chars, collapsed whitespace.
pub(crate) fn clean_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in strip_invisible(s).split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Multi-line clean-up: invisible chars removed, CRLF → LF, blank-line runs collapsed.
pub(crate) fn clean_block(s: &str) -> String {
    let s = strip_invisible(s);
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

/// `s` without zero-width characters and private-use code points.
fn strip_invisible(s: &str) -> String {
    let invisible = |c: char| {
        matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
            || ('\u{E000}'..='\u{F8FF}').contains(&c)
    };
    // Every such character is three UTF-8 bytes led by 0xE2, 0xEE or 0xEF: jump between those
    // leads and copy the runs between, instead of re-encoding every character of every
    // document (2.4 % of indexing time, on the thread that feeds the writers).
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for at in memchr::memchr3_iter(0xE2, 0xEE, 0xEF, s.as_bytes()) {
        // A lead byte always starts a character.
        if let Some(c) = s[at..].chars().next().filter(|&c| invisible(c)) {
            out.push_str(&s[copied..at]);
            copied = at + c.len_utf8();
        }
    }
    out.push_str(&s[copied..]);
    out
}

/// Remove `<!-- … -->` comments (an unclosed one runs to the end).
pub(crate) fn strip_html_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        match rest[i..].find("-->") {
            Some(j) => rest = &rest[i + j + 3..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A document with every field set, for tests of what reads or shows documents.
#[cfg(test)]
pub(crate) fn example_document() -> Document {
    let mut d = Document::new("guides/居民身份证补领.md", Kind::Guide);
    d.id = "YC0110000102".into();
    d.title = "居民身份证补领".into();
    d.body = "# 居民身份证补领\n\n## 办理条件\n\n居民身份证丢失的，应当申请补领。\n\n\
              - 急需用证的可申请临时身份证\n- 外省户籍可跨省通办\n其他说明。"
        .into();
    d.department = Some("云川市公安局".into());
    d.region = Some("云川市".into());
    d.code = Some("YC0110000102".into());
    d.legal_basis = vec!["《中华人民共和国居民身份证法》".into()];
    d.materials = vec!["居民户口簿".into(), "本人现场采集相片".into()];
    d.time_limit_days = Some(15);
    d.statutory_limit_days = Some(60);
    d.fee = Some("40元".into());
    d.phone = Some("0871-64110110".into());
    d.address = Some("户籍所在地派出所".into());
    d.url = Some("https://zwfw.example.gov.cn/item/YC0110000102?a=1&b=2".into());
    d.updated = Some("2024-01-10".into());
    d.audience = vec!["个人".into()];
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hit read from a stored document's JSON holds what the document holds, field by
    /// field: a field renamed or added to `Document` and not to `HitDoc` fails here.
    #[test]
    fn hit_docs_read_stored_documents_as_they_are() {
        let d = example_document();
        let json = serde_json::to_string(&d).unwrap();
        let read: HitDoc = serde_json::from_str(&json).unwrap();
        let want = HitDoc::from(d);
        assert_eq!(read, want);
        assert_eq!(read.materials, ["居民户口簿", "本人现场采集相片"]);
        assert_eq!(read.updated.as_deref(), Some("2024-01-10"));
    }

    #[test]
    fn strip_invisible_removes_exactly_the_invisible_characters() {
        let gone = [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{E000}', '\u{F8FF}',
        ];
        let stays = [
            '\u{200A}',
            '\u{200E}',
            '\u{205F}',
            '\u{2061}',
            '\u{2026}',
            '\u{D7FF}',
            '\u{F900}',
            '\u{FEFE}',
            '\u{FF0C}',
            '\u{E0000}',
            '营',
            'a',
        ];
        let mut text = String::new();
        let mut want = String::new();
        for (i, c) in gone.iter().chain(&stays).enumerate() {
            text.push(*c);
            text.push(stays[i % stays.len()]);
            if !gone.contains(c) {
                want.push(*c);
            }
            want.push(stays[i % stays.len()]);
        }
        assert_eq!(strip_invisible(&text), want);
        assert_eq!(strip_invisible("营业\u{200B}执照，ＡＢ"), "营业执照，ＡＢ");
        assert_eq!(strip_invisible(""), "");
    }

    fn load(rel: &str, bytes: &[u8]) -> Result<Loaded, String> {
        load_bytes(rel, bytes, &FieldMap::default())
    }

    #[test]
    fn articles_are_recognised() {
        assert!(is_article_start("第十二条 为了"));
        assert!(is_article_start("第12条　为了"));
        assert!(!is_article_start("第一章 总则"));
        assert!(!is_article_start("第条"));
    }

    #[test]
    fn date_in_file_name_fills_updated() {
        let l = load(
            "laws/公司法(2023-12-29).md",
            "# 中华人民共和国公司法\n\n第一条 为了规范公司。\n第二条 本法所称公司。".as_bytes(),
        )
        .unwrap();
        let d = &l.docs[0];
        assert_eq!(d.updated.as_deref(), Some("2023-12-29"));
        assert_eq!(d.kind, Kind::Law);
        assert_eq!(d.title, "中华人民共和国公司法");
    }

    #[test]
    fn unsupported_and_empty_files_have_reasons() {
        assert_eq!(
            load("a/LICENSE", b"x").unwrap_err(),
            "unsupported file type (no extension)"
        );
        assert_eq!(
            load("a/b.xml", b"x").unwrap_err(),
            "unsupported file type .xml"
        );
        assert_eq!(load("a/b.txt", b"").unwrap_err(), "empty file");
    }

    #[test]
    fn kind_from_text_when_no_folder_says() {
        let l = load(
            "x/关于加强个人所得税纳税信用建设的通知.txt",
            "关于加强个人所得税纳税信用建设的通知\n各省发展改革委：".as_bytes(),
        )
        .unwrap();
        assert_eq!(l.docs[0].kind, Kind::Notice);
        let l = load("法律法规/a.txt", "标题\n正文".as_bytes()).unwrap();
        assert_eq!(l.docs[0].kind, Kind::Law);
    }

    #[test]
    fn comments_are_stripped() {
        assert_eq!(strip_html_comments("a<!-- INFO END -->b<!-- x"), "ab");
    }

    #[test]
    fn ignored_names() {
        for n in [
            ".hidden.md",
            "a.md~",
            ".a.md.swp",
            "x.tmp",
            "~$a.md",
            "banshi.toml",
        ] {
            assert!(is_ignored_name(n), "{n}");
        }
        assert!(!is_ignored_name("营业执照.md"));
    }
}
