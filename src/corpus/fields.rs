//! Field names of real catalogues → our schema, and record values → [`Document`] fields.
//!
//! Built-in aliases cover the common Chinese, English and pinyin-initial names (事项名称 /
//! item_name / sxmc …); a `banshi.toml` in the corpus root adds its own under `[fields]`.
//! Keys that map to nothing are kept, in `extra` and in the body text, never dropped.

use super::{clean_inline, CorpusError, Document};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The mapping file read from the corpus root.
pub const MAPPING_FILE: &str = "banshi.toml";

/// A schema field that a record key can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Id,
    Title,
    Kind,
    Body,
    Department,
    Region,
    Code,
    LegalBasis,
    Materials,
    TimeLimit,
    StatutoryLimit,
    Fee,
    Phone,
    Address,
    Url,
    Updated,
    Audience,
    Tags,
}

impl Target {
    fn parse(name: &str) -> Option<Target> {
        Some(match name {
            "id" => Target::Id,
            "title" => Target::Title,
            "kind" => Target::Kind,
            "body" => Target::Body,
            "department" => Target::Department,
            "region" => Target::Region,
            "code" => Target::Code,
            "legal_basis" => Target::LegalBasis,
            "materials" => Target::Materials,
            "time_limit_days" => Target::TimeLimit,
            "statutory_limit_days" => Target::StatutoryLimit,
            "fee" => Target::Fee,
            "phone" => Target::Phone,
            "address" => Target::Address,
            "url" => Target::Url,
            "updated" => Target::Updated,
            "audience" => Target::Audience,
            "tags" => Target::Tags,
            _ => return None,
        })
    }
}

const ALIASES: &[(Target, &[&str])] = &[
    (Target::Id, &["id", "item_id", "事项id", "doc_id"]),
    (
        Target::Title,
        &[
            "title",
            "name",
            "item_name",
            "事项名称",
            "sxmc",
            "标题",
            "名称",
            "事项标题",
        ],
    ),
    (Target::Kind, &["kind", "doc_kind", "文档类型"]),
    (
        Target::Body,
        &[
            "body",
            "content",
            "text",
            "description",
            "办理流程",
            "正文",
            "内容",
            "事项描述",
            "办事指南",
            "blcx",
        ],
    ),
    (
        Target::Department,
        &[
            "department",
            "department_name",
            "dept",
            "实施主体",
            "实施机构",
            "部门",
            "办理部门",
            "受理部门",
            "sszt",
            "ssjg",
        ],
    ),
    (
        Target::Region,
        &["region", "area", "行政区划", "区划", "地区", "xzqh"],
    ),
    (
        Target::Code,
        &[
            "code",
            "item_code",
            "事项编码",
            "职权编码",
            "实施编码",
            "基本编码",
            "sxbm",
        ],
    ),
    (
        Target::LegalBasis,
        &[
            "legal_basis",
            "basis",
            "办理依据",
            "依据",
            "设定依据",
            "实施依据",
            "bljy",
            "sdyj",
        ],
    ),
    (
        Target::Materials,
        &["materials", "申请材料", "材料", "所需材料", "sqcl"],
    ),
    (
        Target::TimeLimit,
        &[
            "time_limit_days",
            "time_limit",
            "承诺时限",
            "承诺办结时限",
            "cnsx",
        ],
    ),
    (
        Target::StatutoryLimit,
        &[
            "statutory_limit_days",
            "statutory_limit",
            "法定时限",
            "法定办结时限",
            "fdsx",
        ],
    ),
    (
        Target::Fee,
        &["fee", "收费标准", "收费", "是否收费", "sfbz"],
    ),
    (
        Target::Phone,
        &["phone", "tel", "咨询电话", "联系电话", "咨询方式", "zxdh"],
    ),
    (
        Target::Address,
        &["address", "办理地点", "地址", "受理地点", "bldd"],
    ),
    (Target::Url, &["url", "guide_url", "link", "链接", "网址"]),
    (
        Target::Updated,
        &[
            "updated",
            "date",
            "update_time",
            "更新时间",
            "更新日期",
            "发布日期",
            "发布时间",
        ],
    ),
    (Target::Audience, &["audience", "role", "服务对象", "fwdx"]),
    (Target::Tags, &["tags", "keywords", "标签", "关键词"]),
];

/// Record key → schema field.
#[derive(Debug, Clone)]
pub struct FieldMap {
    map: HashMap<String, Target>,
}

impl Default for FieldMap {
    fn default() -> Self {
        let mut map = HashMap::new();
        for (t, names) in ALIASES {
            for n in *names {
                map.insert(n.to_lowercase(), *t);
            }
        }
        FieldMap { map }
    }
}

#[derive(serde::Deserialize)]
struct MappingFile {
    #[serde(default)]
    fields: HashMap<String, String>,
}

impl FieldMap {
    /// Built-in aliases plus the corpus root's `banshi.toml`, if any.
    pub fn load(root: &Path) -> Result<FieldMap, CorpusError> {
        let mut fm = FieldMap::default();
        let path = root.join(MAPPING_FILE);
        if !path.is_file() {
            return Ok(fm);
        }
        let err = |message: String| CorpusError::Mapping {
            file: MAPPING_FILE.to_string(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
        fm.extend_from_toml(&text).map_err(err)?;
        Ok(fm)
    }

    /// Add `[fields] "source key" = "schema_field"` entries.
    pub fn extend_from_toml(&mut self, text: &str) -> Result<(), String> {
        let file: MappingFile = toml::from_str(text).map_err(|e| e.to_string())?;
        for (k, v) in file.fields {
            let t = Target::parse(v.trim())
                .ok_or_else(|| format!("unknown schema field {v:?} for key {k:?}"))?;
            self.map.insert(k.trim().to_lowercase(), t);
        }
        Ok(())
    }

    fn target(&self, key: &str) -> Option<Target> {
        self.map.get(&key.trim().to_lowercase()).copied()
    }

    /// Fill `doc` from a record's key/value pairs. Returns an explicit kind if the record gave
    /// a valid one. Unknown keys go to `extra` and are appended to the body.
    pub fn apply(
        &self,
        doc: &mut Document,
        record: &serde_json::Map<String, Value>,
    ) -> Option<super::Kind> {
        let mut kind = None;
        let mut body_parts: Vec<String> = Vec::new();
        for (key, value) in record {
            let Some(target) = self.target(key) else {
                let v = flatten(value);
                if !v.is_empty() {
                    body_parts.push(format!("{key}：{v}"));
                    doc.extra.insert(key.clone(), v);
                }
                continue;
            };
            match target {
                Target::Id => set(&mut doc.id, value),
                Target::Title => {
                    if doc.title.is_empty() {
                        set(&mut doc.title, value)
                    }
                }
                Target::Kind => kind = scalar(value).and_then(|s| super::Kind::parse(&s)),
                Target::Body => {
                    let v = flatten(value);
                    if !v.is_empty() {
                        body_parts.insert(0, v);
                    }
                }
                Target::Department => doc.department = scalar(value),
                Target::Region => doc.region = scalar(value),
                Target::Code => {
                    if doc.code.is_none() {
                        doc.code = scalar(value).map(|c| c.trim().to_string())
                    }
                }
                Target::LegalBasis => doc.legal_basis = list(value),
                Target::Materials => doc.materials = list(value),
                Target::TimeLimit => doc.time_limit_days = days(value),
                Target::StatutoryLimit => doc.statutory_limit_days = days(value),
                Target::Fee => doc.fee = scalar(value),
                Target::Phone => doc.phone = scalar(value),
                Target::Address => doc.address = scalar(value),
                Target::Url => doc.url = scalar(value),
                Target::Updated => {
                    doc.updated = scalar(value).map(|d| d.chars().take(10).collect())
                }
                Target::Audience => {
                    doc.audience = list(value).iter().flat_map(|s| split_list(s)).collect();
                }
                Target::Tags => doc.tags = list(value).iter().flat_map(|s| split_list(s)).collect(),
            }
        }
        if !body_parts.is_empty() {
            if !doc.body.is_empty() {
                body_parts.insert(0, std::mem::take(&mut doc.body));
            }
            doc.body = body_parts.join("\n");
        }
        kind
    }
}

fn set(slot: &mut String, v: &Value) {
    if let Some(s) = scalar(v) {
        *slot = s;
    }
}

/// A scalar as a trimmed, non-empty string.
fn scalar(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => clean_inline(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => a.iter().filter_map(scalar).collect::<Vec<_>>().join("、"),
        Value::Null | Value::Object(_) => return None,
    };
    let s = s.trim().trim_matches('"').trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// A list from an array, or from a string with one item per line / `；`.
fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| scalar(x).or_else(|| Some(flatten(x)).filter(|s| !s.is_empty())))
            .collect(),
        Value::String(s) => s
            .split(['\n', '；', ';'])
            .map(clean_inline)
            .map(|l| {
                l.trim_start_matches(|c: char| c.is_ascii_digit() || "、.．)）".contains(c))
                    .trim()
                    .to_string()
            })
            .filter(|l| !l.is_empty())
            .collect(),
        other => scalar(other).into_iter().collect(),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split([',', '，', '、', '/', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Working days from `5`, `"5"`, `"5个工作日"`, `"即办"` (0).
pub fn days(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().map(|d| d.min(u32::MAX as u64) as u32),
        Value::String(s) => {
            if s.contains("即办") || s.contains("当场") || s.contains("立即") {
                return Some(0);
            }
            let digits: String = s
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit())
                .collect();
            digits.parse().ok()
        }
        _ => None,
    }
}

/// Any value as text: objects as `key：value` lines.
fn flatten(v: &Value) -> String {
    match v {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}：{}", flatten(v)))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(a) => a
            .iter()
            .map(flatten)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Kind;
    use serde_json::json;

    #[test]
    fn aliases_and_unknown_keys() {
        let rec = json!({"事项名称": "结婚登记", "实施主体": "民政局", "承诺时限": "5个工作日", "是否网办": "是",
                         "申请材料": ["身份证", "户口簿"], "role": "个人,法人"});
        let mut d = Document::new("a.json", Kind::Guide);
        FieldMap::default().apply(&mut d, rec.as_object().unwrap());
        assert_eq!(d.title, "结婚登记");
        assert_eq!(d.department.as_deref(), Some("民政局"));
        assert_eq!(d.time_limit_days, Some(5));
        assert_eq!(d.materials, ["身份证", "户口簿"]);
        assert_eq!(d.audience, ["个人", "法人"]);
        assert_eq!(d.extra.get("是否网办").map(String::as_str), Some("是"));
        assert!(d.body.contains("是否网办：是"));
    }

    #[test]
    fn mapping_file_adds_keys_and_rejects_unknown_targets() {
        let mut m = FieldMap::default();
        m.extend_from_toml("[fields]\n\"办件名\" = \"title\"\n")
            .unwrap();
        let mut d = Document::new("a.json", Kind::Guide);
        m.apply(&mut d, json!({"办件名": "社保卡申领"}).as_object().unwrap());
        assert_eq!(d.title, "社保卡申领");
        assert!(m.extend_from_toml("[fields]\nx = \"nope\"\n").is_err());
    }

    #[test]
    fn days_parse() {
        assert_eq!(days(&json!("即办")), Some(0));
        assert_eq!(days(&json!("承诺15个工作日")), Some(15));
        assert_eq!(days(&json!(3)), Some(3));
        assert_eq!(days(&json!("无")), None);
    }
}
