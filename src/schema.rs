//! The tantivy schema: field-name consts and [`Fields`], resolved once.
//!
//! Text fields are jieba-analysed with positions (phrases work); kind, department, region and
//! audience are raw strings usable as exact filters and counted from fast columns; codes and
//! exact titles use a whole-value normalized tokenizer; the full [`crate::corpus::Document`] is
//! stored once, as JSON, in `doc`.

use crate::analysis::{CODE_TOKENIZER_NAME, TOKENIZER_NAME};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, SchemaBuilder, TextFieldIndexing,
    TextOptions, FAST, STORED, STRING,
};

/// Bump when the schema or the analysis chain changes meaning: the index is then rebuilt.
/// v4: article numbers are normalized to digits (第十二条 → 第12条).
/// v5: a `stamp` column (file size and modification time) lets a sync skip reading files.
/// v6: the stored `doc` JSON and body are text, not bytes (read with one copy, not per byte).
/// v7: `version_group` and `title_actions` columns, derived from each document when it is
/// indexed (see [`version_group`], [`title_actions`]); bump when either derivation changes.
pub const SCHEMA_VERSION: u32 = 7;

/// Field names (also the names accepted by field filters and `banshi.toml`).
#[allow(missing_docs)]
pub mod names {
    pub const ID: &str = "id";
    pub const PATH: &str = "path";
    pub const HASH: &str = "hash";
    pub const STAMP: &str = "stamp";
    pub const KIND: &str = "kind";
    pub const TITLE: &str = "title";
    pub const TITLE_EXACT: &str = "title_exact";
    pub const CODE: &str = "code";
    pub const BODY: &str = "body";
    pub const MATERIALS: &str = "materials";
    pub const LEGAL_BASIS: &str = "legal_basis";
    pub const TAGS: &str = "tags";
    pub const DEPARTMENT: &str = "department";
    pub const REGION: &str = "region";
    pub const AUDIENCE: &str = "audience";
    pub const TIME_LIMIT: &str = "time_limit_days";
    pub const UPDATED: &str = "updated";
    pub const DOC: &str = "doc";
    pub const BODY_RAW: &str = "body_raw";
    pub const VERSION_GROUP: &str = "version_group";
    pub const TITLE_ACTIONS: &str = "title_actions";
}

/// Every field handle, resolved once from the schema.
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
pub struct Fields {
    pub id: Field,
    pub path: Field,
    pub hash: Field,
    pub stamp: Field,
    pub kind: Field,
    pub title: Field,
    pub title_exact: Field,
    pub code: Field,
    pub body: Field,
    pub materials: Field,
    pub legal_basis: Field,
    pub tags: Field,
    pub department: Field,
    pub region: Field,
    pub audience: Field,
    pub time_limit: Field,
    pub updated: Field,
    pub doc: Field,
    /// The body text, stored apart from the `doc` JSON: decoding a long law body as a JSON
    /// string cost ~0.2 ms per hit. Stored as (unindexed) text, not bytes: tantivy reads a
    /// stored string with one bulk copy but a bytes value one byte at a time, which was 14 % of
    /// a query on the real corpus.
    pub body_raw: Field,
    /// Which documents are versions of one another (see [`version_group`]).
    pub version_group: Field,
    /// The action words of the title (see [`title_actions`]).
    pub title_actions: Field,
}

fn jieba_text() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

fn whole_text() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(CODE_TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::Basic),
    )
}

/// Build the schema.
pub fn build() -> Schema {
    use names::*;
    let mut b = SchemaBuilder::new();
    b.add_text_field(ID, STRING | STORED);
    b.add_text_field(PATH, STRING | STORED | FAST);
    b.add_u64_field(HASH, FAST);
    b.add_u64_field(STAMP, FAST);
    b.add_text_field(KIND, STRING | FAST);
    b.add_text_field(TITLE, jieba_text());
    b.add_text_field(TITLE_EXACT, whole_text().set_fast("raw"));
    b.add_text_field(CODE, whole_text());
    b.add_text_field(BODY, jieba_text());
    b.add_text_field(MATERIALS, jieba_text());
    b.add_text_field(LEGAL_BASIS, jieba_text());
    b.add_text_field(TAGS, jieba_text());
    b.add_text_field(DEPARTMENT, STRING | FAST);
    b.add_text_field(REGION, STRING | FAST);
    b.add_text_field(AUDIENCE, STRING | FAST);
    b.add_u64_field(
        TIME_LIMIT,
        NumericOptions::default().set_indexed().set_fast(),
    );
    b.add_text_field(UPDATED, STRING | FAST);
    b.add_text_field(DOC, STORED);
    b.add_text_field(BODY_RAW, STORED);
    b.add_u64_field(VERSION_GROUP, FAST);
    b.add_u64_field(TITLE_ACTIONS, FAST);
    b.build()
}

impl Fields {
    /// Resolve every field of `schema`.
    pub fn new(schema: &Schema) -> Fields {
        let f = |n: &str| schema.get_field(n).expect("field defined by schema::build");
        use names::*;
        Fields {
            id: f(ID),
            path: f(PATH),
            hash: f(HASH),
            stamp: f(STAMP),
            kind: f(KIND),
            title: f(TITLE),
            title_exact: f(TITLE_EXACT),
            code: f(CODE),
            body: f(BODY),
            materials: f(MATERIALS),
            legal_basis: f(LEGAL_BASIS),
            tags: f(TAGS),
            department: f(DEPARTMENT),
            region: f(REGION),
            audience: f(AUDIENCE),
            time_limit: f(TIME_LIMIT),
            updated: f(UPDATED),
            doc: f(DOC),
            body_raw: f(BODY_RAW),
            version_group: f(VERSION_GROUP),
            title_actions: f(TITLE_ACTIONS),
        }
    }
}

/// The group of documents that are versions of one another, for a document with a date:
/// the same kind, title (compared whole, normalized: `whole_key`), department and region.
/// `None` without a date or a title key (such documents are never superseded).
///
/// Derived when the document is indexed, so that a searcher reads one integer column per
/// segment: deriving it from the string columns when a snapshot is first searched cost ~0.4 s
/// of a 1M-document index's start-up (a million titles normalized, four columns decoded per
/// document). A 64-bit hash: two groups of a million would share a key with a probability
/// of about 3 × 10⁻⁸, and then the older of two unrelated documents would rank as an old
/// version. blake3, not a hasher of the standard library or of a crate free to change its
/// output between versions: the key is stored.
pub fn version_group(
    kind: &str,
    title: &str,
    department: &str,
    region: &str,
    updated: &str,
) -> Option<u64> {
    let key = crate::analysis::whole_key(title);
    if updated.is_empty() || key.is_empty() {
        return None;
    }
    let mut h = blake3::Hasher::new();
    for part in [kind, &key, department, region] {
        h.update(part.as_bytes());
        h.update(&[0xff]);
    }
    let bytes = h.finalize();
    let group = u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"));
    Some(group.max(1))
}

/// Action words that turn an item into a different item (营业执照 → 营业执照变更): a title
/// holding one the question does not ask for is damped. Stored per document as bits (see
/// [`title_actions`]): changing the list changes the index, so bump [`SCHEMA_VERSION`].
pub const ACTIONS: [&str; 10] = [
    "变更", "注销", "补领", "补办", "换领", "换证", "补证", "延续", "撤销", "迁移",
];

/// The bits of the [`ACTIONS`] `title` holds, as written (bit `i` for `ACTIONS[i]`). Derived
/// when the document is indexed, like [`version_group`]: per distinct title at start-up it
/// was ~50 ms of a 1M-document index's.
pub fn title_actions(title: &str) -> u64 {
    ACTIONS
        .iter()
        .enumerate()
        .filter(|(_, a)| title.contains(*a))
        .fold(0, |m, (i, _)| m | 1 << i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Versions are the same kind, normalized title, department and region, with a date;
    /// each part counts on its own (no two parts run together), and the key is stable: it is
    /// stored in indexes, so a change of hash fails here before it splits groups between old
    /// and new segments.
    #[test]
    fn version_groups_follow_kind_title_department_and_region() {
        let g = |kind, title, dept, region| version_group(kind, title, dept, region, "2024-01-01");
        let base = g("law", "中华人民共和国公司法", "人大", "全国");
        assert!(base.is_some());
        assert_eq!(g("law", "中華人民共和國公司法", "人大", "全国"), base);
        assert_eq!(g("law", "中华人民共和国 公司法（）", "人大", "全国"), base);
        assert_ne!(g("guide", "中华人民共和国公司法", "人大", "全国"), base);
        assert_ne!(g("law", "中华人民共和国公司法", "人大常委会", "全国"), base);
        assert_ne!(g("law", "中华人民共和国公司法", "人大", "上海"), base);
        assert_ne!(g("law", "中华人民共和国证券法", "人大", "全国"), base);
        assert_ne!(g("a", "b", "c", ""), g("a", "b", "", "c"));
        assert_eq!(version_group("law", "公司法", "", "", ""), None);
        assert_eq!(version_group("law", "（）", "", "", "2024-01-01"), None);
        assert_eq!(
            version_group("law", "公司法", "", "", "2024-01-01"),
            Some(STORED_KEY)
        );
    }

    /// `version_group("law", "公司法", "", "", "2024-01-01")` as indexes store it.
    const STORED_KEY: u64 = 8_457_072_879_903_557_602;

    #[test]
    fn title_actions_are_the_action_words_of_the_title() {
        assert_eq!(title_actions("营业执照办理"), 0);
        assert_eq!(title_actions("营业执照变更登记"), 1);
        assert_eq!(title_actions("居民身份证补领、换领"), 1 << 2 | 1 << 4);
    }
}
