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
pub const SCHEMA_VERSION: u32 = 6;

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
        }
    }
}
