//! Synthetic catalogues for growth benchmarks: a seeded generator of service-item records.
//!
//! [`Vocabulary::from_sources`] reads source corpora (the built-in `corpus/`, the real one when
//! present) through the ordinary loaders and keeps pools of titles, departments, regions,
//! materials, law names and body sentences. [`generate`] then writes JSONL catalogue files
//! (`OUT/REGION/DEPARTMENT/catalogue-NNNNN.jsonl`, [`GenConfig::per_file`] records each) whose
//! records mix the three field-name styles real catalogues use (事项名称 / item_name / sxmc),
//! the five kinds in fixed proportions, and body lengths per kind.
//!
//! Same seed and same sources ⇒ byte-identical output: pools are sorted, each file has its own
//! generator seeded from (seed, file number), so the first files of a large run equal a small
//! run's. This module must not read the clock or iterate hash maps; its output is an ordinary
//! corpus and it knows nothing about the index.

use crate::corpus::{self, CorpusError, FieldMap, Kind};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A source corpus could not be walked.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The sources gave too little text to generate from.
    #[error("sources {0} yield no titles or sentences to generate from")]
    EmptySources(String),
    /// The output folder exists and is not empty (stale files would mix into the corpus).
    #[error("output folder {0} is not empty")]
    OutNotEmpty(PathBuf),
    /// Writing the output failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// SplitMix64: small, fast, and good enough to pick words; no crate needed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 11) as u128 * n as u128) >> 53) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Words and sentences drawn from source corpora; every pool sorted and deduplicated.
#[derive(Debug, Default)]
pub struct Vocabulary {
    titles: Vec<String>,
    departments: Vec<String>,
    regions: Vec<String>,
    materials: Vec<String>,
    laws: Vec<String>,
    guide_sentences: Vec<String>,
    law_sentences: Vec<String>,
    addresses: Vec<String>,
}

/// Action words that end service-item titles; a title minus its action is an object.
const ACTIONS: &[&str] = &[
    "设立登记",
    "变更登记",
    "注销登记",
    "补领",
    "换领",
    "申领",
    "核发",
    "备案",
    "审批",
    "延续",
    "许可",
    "登记",
    "查询",
    "办理",
    "证明开具",
];

/// Kinds in the proportions of a city catalogue (after the built-in corpus's mix): mostly
/// guides, then material lists, notices, laws and time-limit tables.
const KIND_MIX: &[(Kind, u32)] = &[
    (Kind::Guide, 62),
    (Kind::Material, 12),
    (Kind::Notice, 10),
    (Kind::Law, 8),
    (Kind::Timeline, 8),
];

const ITEM_TYPES: &[&str] = &[
    "行政许可",
    "公共服务",
    "行政确认",
    "行政给付",
    "其他行政权力",
];

impl Vocabulary {
    /// Read every source corpus (missing ones are an error) through the ordinary loaders.
    pub fn from_sources(sources: &[PathBuf]) -> Result<Vocabulary, SynthError> {
        let mut v = Vocabulary::default();
        for src in sources {
            let map = FieldMap::load(src)?;
            let (files, _) = corpus::walk(src)?;
            for f in &files {
                let Ok((_, loaded)) = corpus::load_file(f, &map) else {
                    continue;
                };
                for d in loaded.docs {
                    v.add(d);
                }
            }
        }
        for pool in [
            &mut v.titles,
            &mut v.departments,
            &mut v.regions,
            &mut v.materials,
            &mut v.laws,
            &mut v.guide_sentences,
            &mut v.law_sentences,
            &mut v.addresses,
        ] {
            pool.sort_unstable();
            pool.dedup();
        }
        if v.titles.is_empty() || v.guide_sentences.is_empty() {
            let names: Vec<String> = sources.iter().map(|s| s.display().to_string()).collect();
            return Err(SynthError::EmptySources(names.join(", ")));
        }
        if v.law_sentences.is_empty() {
            v.law_sentences = v.guide_sentences.clone();
        }
        if v.laws.is_empty() {
            v.laws.push("《中华人民共和国行政许可法》".to_string());
        }
        if v.regions.is_empty() {
            v.regions.push("云川市".to_string());
        }
        if v.departments.is_empty() {
            v.departments.push("云川市政务服务管理局".to_string());
        }
        Ok(v)
    }

    fn add(&mut self, d: corpus::Document) {
        let short = |s: &str, max: usize| (2..=max).contains(&s.chars().count());
        match d.kind {
            Kind::Law => {
                if short(&d.title, 40) {
                    self.laws.push(format!("《{}》", d.title));
                }
            }
            Kind::Notice => {}
            _ => {
                if short(&d.title, 40) {
                    self.titles.push(d.title.clone());
                }
            }
        }
        self.departments
            .extend(d.department.clone().filter(|s| short(s, 30)));
        self.regions.extend(d.region.filter(|s| short(s, 20)));
        self.addresses.extend(d.address.filter(|s| short(s, 40)));
        self.materials
            .extend(d.materials.iter().filter(|s| short(s, 60)).cloned());
        for basis in d.legal_basis.iter().chain(std::iter::once(&d.body)) {
            self.laws.extend(law_names(basis));
        }
        // Catalogue-like documents (a department, materials or a time limit) give guide prose;
        // everything else (laws, cases, interpretations) gives legal prose.
        let catalogue = d.kind != Kind::Law
            && (d.department.is_some() || !d.materials.is_empty() || d.time_limit_days.is_some());
        let pool = if catalogue {
            &mut self.guide_sentences
        } else {
            &mut self.law_sentences
        };
        pool.extend(sentences(&d.body));
    }

    /// Pool sizes, for the generator's summary line.
    pub fn summary(&self) -> String {
        format!(
            "{} titles, {} departments, {} regions, {} materials, {} law names, {} guide and {} law sentences",
            self.titles.len(),
            self.departments.len(),
            self.regions.len(),
            self.materials.len(),
            self.laws.len(),
            self.guide_sentences.len(),
            self.law_sentences.len()
        )
    }
}

/// How the names of laws, regulations and rules end.
const LAW_ENDINGS: &[&str] = &[
    "法", "条例", "规定", "办法", "决定", "解释", "细则", "规则", "意见", "法典",
];

/// `《…》` names of laws (2–30 characters) in a text.
fn law_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('《') {
        let after = &rest[start + '《'.len_utf8()..];
        let Some(end) = after.find('》') else { break };
        let name = &after[..end];
        if (2..=30).contains(&name.chars().count())
            && !name.contains(['《', '\n'])
            && LAW_ENDINGS.iter().any(|e| name.ends_with(e))
        {
            out.push(format!("《{name}》"));
        }
        rest = &after[end..];
    }
    out
}

/// Sentences of a body without their end mark: 8–160 characters, list and heading marks
/// stripped; table rows, `key：value` lines of unknown record keys and lines that are mostly
/// ASCII left out.
fn sentences(body: &str) -> Vec<String> {
    body.split(['。', '！', '？', '\n'])
        .map(|s| {
            let s = s.trim().trim_start_matches(['#', '-', '*', '>', ' ', '　']);
            let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let s = match s[digits..].chars().next() {
                Some(c) if digits > 0 && ".、．)）".contains(c) => &s[digits + c.len_utf8()..],
                _ => s,
            };
            strip_article(s.trim()).trim_end_matches(['；', ';', '，', ',', '：', ':', ' '])
        })
        .filter(|s| {
            let n = s.chars().count();
            let key = s.split_once('：').map(|(k, _)| k);
            (8..=160).contains(&n)
                && !s.contains('|')
                && !key.is_some_and(|k| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                && s.chars().filter(|c| !c.is_ascii()).count() * 2 > n
        })
        .map(str::to_string)
        .collect()
}

/// A sentence without its leading article number (第十二条), which the generator renumbers.
fn strip_article(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('第') {
        if let Some(i) = rest.find('条') {
            let num = &rest[..i];
            if !num.is_empty()
                && num
                    .chars()
                    .all(|c| "零一二三四五六七八九十百千".contains(c))
            {
                return rest[i + '条'.len_utf8()..].trim_start_matches([' ', '　']);
            }
        }
    }
    s
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Number of records.
    pub docs: u64,
    /// The seed; same seed and same sources ⇒ same bytes.
    pub seed: u64,
    /// Records per JSONL file.
    pub per_file: u64,
}

/// What a run wrote.
#[derive(Debug, Clone, Default)]
pub struct GenReport {
    /// Records written.
    pub docs: u64,
    /// Files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
}

impl GenReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} documents in {} files, {:.1} MB",
            self.docs,
            self.files,
            self.bytes as f64 / 1_048_576.0
        )
    }
}

/// The built-in corpus and, when present, the shared real corpus (`BANSHI_SHARED_CORPUS`,
/// else `../shared/corpus`).
pub fn default_sources() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("corpus")];
    let shared = std::env::var_os("BANSHI_SHARED_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/corpus"));
    if shared.is_dir() {
        out.push(shared);
    }
    out
}

/// Write `cfg.docs` records under `out` (created; must be absent or empty).
pub fn generate(vocab: &Vocabulary, cfg: &GenConfig, out: &Path) -> Result<GenReport, SynthError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Io { path, source }
    };
    if out.is_dir() && std::fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(SynthError::OutNotEmpty(out.to_path_buf()));
    }
    let per_file = cfg.per_file.max(1);
    let mut report = GenReport::default();
    let mut seq = 0u64;
    while seq < cfg.docs {
        let file_no = seq / per_file;
        let mut rng = Rng::new(cfg.seed ^ file_no.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let region_i = rng.below(vocab.regions.len());
        let dept_i = rng.below(vocab.departments.len());
        let style = Style::ALL[rng.below(Style::ALL.len())];
        let dir = out
            .join(folder_name(&vocab.regions[region_i]))
            .join(folder_name(&vocab.departments[dept_i]));
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut text = String::new();
        let end = (seq + per_file).min(cfg.docs);
        for n in seq..end {
            let rec = record(vocab, &mut rng, n, region_i, dept_i, style);
            text.push_str(&Value::Object(rec).to_string());
            text.push('\n');
        }
        let path = dir.join(format!("catalogue-{file_no:05}.jsonl"));
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(io(&path))?;
        report.docs += end - seq;
        report.files += 1;
        report.bytes += text.len() as u64;
        seq = end;
    }
    Ok(report)
}

fn folder_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == '.' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The field-name habits of real catalogues: Chinese, English, pinyin initials.
#[derive(Debug, Clone, Copy)]
enum Style {
    Chinese,
    English,
    Pinyin,
}

impl Style {
    const ALL: [Style; 3] = [Style::Chinese, Style::English, Style::Pinyin];

    /// Key for each field, in the order id, title, kind, department, region, audience,
    /// time limit, statutory limit, legal basis, materials, fee, phone, address, body.
    fn keys(self) -> [&'static str; 14] {
        match self {
            Style::Chinese => [
                "事项编码",
                "事项名称",
                "文档类型",
                "实施主体",
                "行政区划",
                "服务对象",
                "承诺时限",
                "法定时限",
                "办理依据",
                "申请材料",
                "收费标准",
                "咨询电话",
                "办理地点",
                "办理流程",
            ],
            Style::English => [
                "item_code",
                "item_name",
                "kind",
                "department_name",
                "region",
                "role",
                "time_limit",
                "statutory_limit",
                "legal_basis",
                "materials",
                "fee",
                "phone",
                "address",
                "description",
            ],
            Style::Pinyin => [
                "sxbm", "sxmc", "kind", "sszt", "xzqh", "fwdx", "cnsx", "fdsx", "bljy", "sqcl",
                "sfbz", "zxdh", "bldd", "blcx",
            ],
        }
    }
}

fn pick_kind(rng: &mut Rng) -> Kind {
    let total: u32 = KIND_MIX.iter().map(|(_, w)| w).sum();
    let mut r = rng.below(total as usize) as u32;
    for (k, w) in KIND_MIX {
        if r < *w {
            return *k;
        }
        r -= w;
    }
    Kind::Guide
}

/// A service-item title: a real one, or a real object with another action.
fn title(vocab: &Vocabulary, rng: &mut Rng) -> String {
    let t = rng.pick(&vocab.titles).clone();
    if rng.chance(0.6) {
        return t;
    }
    let object = ACTIONS
        .iter()
        .find_map(|a| t.strip_suffix(a))
        .filter(|o| o.chars().count() >= 2)
        .unwrap_or(&t);
    format!("{object}{}", rng.pick(ACTIONS))
}

/// `n` sentences from `pool`, each closed with 。.
fn prose(pool: &[String], rng: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for _ in 0..n {
        let sentence: &String = rng.pick(pool);
        s.push_str(sentence);
        s.push('。');
    }
    s
}

/// Templates that name the item, as real guides do again and again.
const ITEM_SENTENCES: &[&str] = &[
    "申请办理{}的，应当向实施机关提交申请材料",
    "{}实行网上办理，申请人可通过政务服务网或“云川办事”APP提交申请",
    "办理{}不收取任何费用，材料齐全、符合法定形式的当场受理",
    "{}可以委托他人代为办理，代办人须携带本人身份证件和委托书",
    "对{}的办理结果有异议的，可以依法申请行政复议或者提起行政诉讼",
    "{}已纳入“一网通办”，全程网办，无需到现场",
];

fn title_text(r: &Map<String, Value>, key: &str) -> String {
    r.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Guide prose: one or two sentences naming the item, then `n` sentences, most from guides,
/// some from laws (requirements quoted from the legal basis).
fn guide_prose(vocab: &Vocabulary, rng: &mut Rng, title: &str, n: usize) -> String {
    let mut s = String::new();
    for _ in 0..rng.range(1, 2) {
        s.push_str(&rng.pick(ITEM_SENTENCES).replace("{}", title));
        s.push('。');
    }
    for _ in 0..n {
        let pool = if rng.chance(0.75) {
            &vocab.guide_sentences
        } else {
            &vocab.law_sentences
        };
        let sentence: &String = rng.pick(pool);
        s.push_str(sentence);
        s.push('。');
    }
    s
}

/// 1–999 in Chinese numerals (第十二条).
fn chinese_number(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (h, t, u) = (n / 100 % 10, n / 10 % 10, n % 10);
    let mut s = String::new();
    if h > 0 {
        s.push_str(D[h]);
        s.push('百');
    }
    if t > 0 {
        if h > 0 || t > 1 {
            s.push_str(D[t]);
        }
        s.push('十');
    } else if h > 0 && u > 0 {
        s.push('零');
    }
    if u > 0 {
        s.push_str(D[u]);
    }
    s
}

fn days_value(rng: &mut Rng, days: u32) -> Value {
    match (days, rng.below(3)) {
        (0, 0) => json!("即办"),
        (d, 1) => json!(format!("{d}个工作日")),
        (d, _) => json!(d),
    }
}

fn record(
    vocab: &Vocabulary,
    rng: &mut Rng,
    n: u64,
    region_i: usize,
    dept_i: usize,
    style: Style,
) -> Map<String, Value> {
    let [k_code, k_title, k_kind, k_dept, k_region, k_aud, k_limit, k_stat, k_basis, k_mat, k_fee, k_phone, k_addr, k_body] =
        style.keys();
    let kind = pick_kind(rng);
    let region = &vocab.regions[region_i];
    let mut r = Map::new();
    r.insert(
        k_code.into(),
        json!(format!("SY{:02}{:03}{n:08}", region_i % 100, dept_i % 1000)),
    );
    r.insert(k_kind.into(), json!(kind.as_str()));
    r.insert(k_dept.into(), json!(vocab.departments[dept_i]));
    r.insert(k_region.into(), json!(region));
    r.insert(
        k_aud.into(),
        json!(match rng.below(20) {
            0..=11 => "个人",
            12..=16 => "法人",
            _ => "个人,法人",
        }),
    );
    let basis: Vec<&String> = (0..rng.range(1, 3))
        .map(|_| rng.pick(&vocab.laws))
        .collect();
    let body = match kind {
        Kind::Law => {
            let name = rng.pick(&vocab.laws);
            r.insert(
                k_title.into(),
                json!(name.trim_start_matches('《').trim_end_matches('》')),
            );
            let mut body = String::new();
            for a in 1..=rng.range(10, 90) {
                body.push_str(&format!("第{}条　", chinese_number(a)));
                let k = rng.range(1, 3);
                body.push_str(&prose(&vocab.law_sentences, rng, k));
                body.push('\n');
            }
            body
        }
        Kind::Notice => {
            let t = title(vocab, rng);
            let verb = rng.pick(&["调整", "优化", "推行", "启用新版", "暂停办理"]);
            let what = rng.pick(&["通知", "公告", "通告"]);
            r.insert(k_title.into(), json!(format!("关于{t}{verb}的{what}")));
            let k = rng.range(4, 14);
            guide_prose(vocab, rng, &t, k)
        }
        _ => {
            let t = title(vocab, rng);
            let days = *rng.pick(&[0u32, 0, 1, 3, 5, 5, 7, 10, 15, 20, 30]);
            let statutory = days + *rng.pick(&[0u32, 5, 10, 15, 20]);
            r.insert(k_limit.into(), days_value(rng, days));
            r.insert(k_stat.into(), days_value(rng, statutory.max(1)));
            r.insert(k_basis.into(), json!(basis));
            let (title, sentences, items) = match kind {
                Kind::Material => (format!("{t}申请材料"), rng.range(1, 4), rng.range(3, 10)),
                Kind::Timeline => (format!("{t}办理时限"), rng.range(2, 6), rng.range(1, 3)),
                _ => (t, rng.range(5, 20), rng.range(1, 6)),
            };
            r.insert(k_title.into(), json!(title));
            let materials: Vec<&String> = (0..items).map(|_| rng.pick(&vocab.materials)).collect();
            if !materials.is_empty() {
                r.insert(k_mat.into(), json!(materials));
            }
            if rng.chance(0.7) {
                r.insert(
                    k_fee.into(),
                    json!(if rng.chance(0.8) {
                        "不收费".to_string()
                    } else {
                        format!("工本费{}元", rng.range(1, 20) * 5)
                    }),
                );
            }
            if rng.chance(0.8) {
                r.insert(
                    k_phone.into(),
                    json!(format!("0871-6{:07}", rng.below(10_000_000))),
                );
            }
            if !vocab.addresses.is_empty() && rng.chance(0.6) {
                r.insert(k_addr.into(), json!(rng.pick(&vocab.addresses)));
            }
            if matches!(style, Style::Chinese) {
                r.insert("事项类型".into(), json!(rng.pick(ITEM_TYPES)));
                r.insert(
                    "是否网办".into(),
                    json!(if rng.chance(0.7) { "是" } else { "否" }),
                );
            }
            guide_prose(vocab, rng, &title_text(&r, k_title), sentences)
        }
    };
    r.insert(k_body.into(), json!(body));
    r.insert(
        "url".into(),
        json!(format!(
            "https://zwfw.example.gov.cn/item/{}",
            r[k_code].as_str().unwrap_or_default()
        )),
    );
    r.insert(
        "updated".into(),
        json!(format!(
            "20{}-{:02}-{:02}",
            rng.range(18, 25),
            rng.range(1, 12),
            rng.range(1, 28)
        )),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Analyzer, BanshiIndex, Syncer};

    fn builtin() -> Vec<PathBuf> {
        vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")]
    }

    /// blake3 over every file's relative path and bytes, in walk order.
    fn tree_hash(root: &Path) -> String {
        let mut h = blake3::Hasher::new();
        for f in corpus::walk(root).unwrap().0 {
            h.update(f.rel.as_bytes());
            h.update(&std::fs::read(&f.abs).unwrap());
        }
        h.finalize().to_hex().to_string()
    }

    #[test]
    fn same_seed_same_bytes_and_the_output_indexes_without_skips() {
        let vocab = Vocabulary::from_sources(&builtin()).unwrap();
        let cfg = GenConfig {
            docs: 2_500,
            seed: 7,
            per_file: 1_000,
        };
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let report = generate(&vocab, &cfg, a.path()).unwrap();
        assert_eq!((report.docs, report.files), (2_500, 3));
        // A second vocabulary read, so nothing is shared between the runs.
        let again = Vocabulary::from_sources(&builtin()).unwrap();
        generate(&again, &cfg, b.path()).unwrap();
        assert_eq!(tree_hash(a.path()), tree_hash(b.path()));
        generate(&vocab, &GenConfig { seed: 8, ..cfg }, c.path()).unwrap();
        assert_ne!(tree_hash(a.path()), tree_hash(c.path()));

        let index = tempfile::tempdir().unwrap();
        let (idx, _) = BanshiIndex::open_or_create(index.path(), Analyzer::load_default()).unwrap();
        let mut syncer = Syncer::open(idx).unwrap();
        let sync = syncer.full_sync(a.path(), &()).unwrap();
        assert!(sync.skipped.is_empty(), "{:?}", sync.skipped);
        assert_eq!(sync.docs, 2_500);
    }

    #[test]
    fn refuses_a_non_empty_output_folder() {
        let vocab = Vocabulary::from_sources(&builtin()).unwrap();
        let out = tempfile::tempdir().unwrap();
        std::fs::write(out.path().join("x.md"), "x").unwrap();
        let cfg = GenConfig {
            docs: 1,
            seed: 1,
            per_file: 1,
        };
        assert!(matches!(
            generate(&vocab, &cfg, out.path()),
            Err(SynthError::OutNotEmpty(_))
        ));
    }

    #[test]
    fn chinese_numerals() {
        let got: Vec<String> = [1, 10, 12, 20, 35, 100, 105, 110, 999]
            .iter()
            .map(|&n| chinese_number(n))
            .collect();
        assert_eq!(
            got,
            [
                "一",
                "十",
                "十二",
                "二十",
                "三十五",
                "一百",
                "一百零五",
                "一百一十",
                "九百九十九"
            ]
        );
    }

    #[test]
    fn sentences_and_law_names() {
        assert_eq!(
            sentences("## 办理流程\n1. 申请人携带身份证到窗口办理。2019年起也可以通过网上预约；！太短了\n|表格|不要|\nsubitem_name：某某事项的子项名称\n第十二条　国家建立食品安全全程追溯制度"),
            [
                "申请人携带身份证到窗口办理",
                "2019年起也可以通过网上预约",
                "国家建立食品安全全程追溯制度"
            ]
        );
        assert_eq!(
            law_names("依据《中华人民共和国民法典》和《婚姻登记条例》第三条，填写《申请书》"),
            ["《中华人民共和国民法典》", "《婚姻登记条例》"]
        );
    }
}
