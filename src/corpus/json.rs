//! JSON (one object or an array of objects) and JSONL (one object per line): catalogue
//! records, each one document. A bad line of a JSONL file skips that line only.

use super::{infer_kind, Document, LoadCtx, Loaded, Skip};
use serde_json::Value;
use std::collections::HashMap;

/// The documents of one file as its records load, with an index of their ids: a record
/// repeating an earlier id is merged or renamed (see [`push_record`]), and a catalogue file
/// holds thousands of records, so looking the id up by scanning the documents so far made
/// loading quadratic in the file's records.
#[derive(Default)]
struct Records {
    out: Loaded,
    /// Document id → its index in `out.docs` (the first document with that id).
    ids: HashMap<String, usize>,
}

pub(super) fn load_json(ctx: &LoadCtx, text: &str) -> Result<Loaded, String> {
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{FEFF}'))
        .map_err(|e| format!("malformed JSON: {e}"))?;
    let records: Vec<Value> = match value {
        Value::Array(a) => a,
        obj @ Value::Object(_) => vec![obj],
        _ => return Err("JSON is neither an object nor an array of objects".to_string()),
    };
    let multi = records.len() > 1;
    let mut out = Records::default();
    for (i, r) in records.into_iter().enumerate() {
        push_record(ctx, r, i + 1, multi, &format!("#{}", i + 1), &mut out);
    }
    Ok(out.out)
}

pub(super) fn load_jsonl(ctx: &LoadCtx, text: &str) -> Result<Loaded, String> {
    let mut out = Records::default();
    let mut n = 0;
    for (lineno, line) in text.trim_start_matches('\u{FEFF}').lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        n += 1;
        match serde_json::from_str::<Value>(line) {
            Ok(v) => push_record(ctx, v, n, true, &format!(":{}", lineno + 1), &mut out),
            Err(e) => out.out.skips.push(Skip {
                path: format!("{}:{}", ctx.rel, lineno + 1),
                reason: format!("malformed JSON line: {e}"),
            }),
        }
    }
    Ok(out.out)
}

fn push_record(ctx: &LoadCtx, v: Value, n: usize, multi: bool, loc: &str, records: &mut Records) {
    let out = &mut records.out;
    let Value::Object(map) = v else {
        out.skips.push(Skip {
            path: format!("{}{loc}", ctx.rel),
            reason: "record is not a JSON object".to_string(),
        });
        return;
    };
    let default_id = if multi {
        format!("{}#{n}", ctx.rel)
    } else {
        ctx.rel.to_string()
    };
    let mut doc = Document::new(ctx.rel, super::Kind::Guide);
    doc.id = String::new();
    let kind = ctx.map.apply(&mut doc, &map);
    if doc.id.is_empty() {
        doc.id = doc.code.clone().unwrap_or(default_id);
    }
    if doc.title.is_empty() {
        out.skips.push(Skip {
            path: format!("{}{loc}", ctx.rel),
            reason: "record has no title".to_string(),
        });
        return;
    }
    doc.kind = kind.unwrap_or_else(|| infer_kind(ctx, &doc.title, &doc.body, true));
    // The same record listed once per audience (a real catalogue habit): one document, both
    // audiences. A different record reusing an id gets a distinct one.
    if let Some(&i) = records.ids.get(&doc.id) {
        let prev = &mut out.docs[i];
        if prev.title == doc.title {
            for a in doc.audience {
                if !prev.audience.contains(&a) {
                    prev.audience.push(a);
                }
            }
            return;
        }
        doc.id = format!("{}#{n}", doc.id);
    }
    records.ids.entry(doc.id.clone()).or_insert(out.docs.len());
    out.docs.push(doc);
}

#[cfg(test)]
mod tests {
    use crate::corpus::{load_bytes, FieldMap, Kind};

    fn load(rel: &str, s: &str) -> Result<crate::corpus::Loaded, String> {
        load_bytes(rel, s.as_bytes(), &FieldMap::default())
    }

    #[test]
    fn array_records_get_ids_from_code_or_position() {
        let l = load(
            "guides/items.json",
            r#"[{"事项名称":"结婚登记","事项编码":"YC01"},{"item_name":"离婚登记"}]"#,
        )
        .unwrap();
        assert_eq!(l.docs.len(), 2);
        assert_eq!(l.docs[0].id, "YC01");
        assert_eq!(l.docs[1].id, "guides/items.json#2");
        assert_eq!(l.docs[1].kind, Kind::Guide);
    }

    #[test]
    fn jsonl_bad_line_skips_only_that_line() {
        let l = load(
            "x/a.jsonl",
            "{\"title\":\"一\"}\n{broken\n{\"title\":\"三\"}\n",
        )
        .unwrap();
        assert_eq!(l.docs.len(), 2);
        assert_eq!(l.skips.len(), 1);
        assert_eq!(l.skips[0].path, "x/a.jsonl:2");
    }

    #[test]
    fn duplicate_records_merge_audiences() {
        let l = load(
            "x/a.jsonl",
            "{\"item_id\":\"A1\",\"item_name\":\"审批\",\"role\":\"个人\"}\n{\"item_id\":\"A1\",\"item_name\":\"审批\",\"role\":\"法人\"}\n",
        )
        .unwrap();
        assert_eq!(l.docs.len(), 1);
        assert_eq!(l.docs[0].audience, ["个人", "法人"]);
    }

    /// A record reusing an id under another title is another document; a later record with
    /// the first title still merges into the first document, in a file of thousands.
    #[test]
    fn reused_ids_rename_or_merge_among_many_records() {
        let mut text = String::new();
        for i in 0..3_000 {
            text.push_str(&format!(
                "{{\"item_id\":\"B{i}\",\"item_name\":\"事项{i}\"}}\n"
            ));
        }
        text.push_str("{\"item_id\":\"B7\",\"item_name\":\"另一事项\"}\n");
        text.push_str("{\"item_id\":\"B7\",\"item_name\":\"事项7\",\"role\":\"法人\"}\n");
        let l = load("x/many.jsonl", &text).unwrap();
        assert_eq!(l.docs.len(), 3_001);
        assert_eq!(l.docs[7].id, "B7");
        assert_eq!(l.docs[7].audience, ["法人"]);
        assert_eq!(l.docs[3_000].id, "B7#3001");
        assert_eq!(l.docs[3_000].title, "另一事项");
    }

    #[test]
    fn malformed_and_deeply_nested_json_are_errors_not_crashes() {
        assert!(load("a.json", "{\"title\": ")
            .unwrap_err()
            .starts_with("malformed JSON"));
        let deep = "[".repeat(100_000);
        assert!(load("a.json", &deep)
            .unwrap_err()
            .starts_with("malformed JSON"));
    }
}
