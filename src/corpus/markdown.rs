//! Markdown: optional YAML front matter, title from it or the first `# ` heading.

use super::{infer_kind, strip_html_comments, Document, LoadCtx};
use serde_json::Value;

/// Split `---\n…\n---` front matter from the rest.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("---")?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

pub(super) fn load(ctx: &LoadCtx, text: &str) -> Result<Document, String> {
    let text = text.trim_start_matches('\u{FEFF}');
    let mut doc = Document::new(ctx.rel, ctx.folder_kind.unwrap_or(super::Kind::Notice));
    let mut kind = None;
    let body = match split_front_matter(text) {
        Some((fm, body)) => {
            let value: Value = if fm.trim().is_empty() {
                Value::Object(Default::default())
            } else {
                serde_yaml_ng::from_str(fm).map_err(|e| format!("malformed front matter: {e}"))?
            };
            let Value::Object(map) = value else {
                return Err("malformed front matter: not a key/value mapping".to_string());
            };
            kind = ctx.map.apply(&mut doc, &map);
            // Identity: the record's own id, else its item code, else the path.
            if doc.id == ctx.rel {
                if let Some(code) = &doc.code {
                    doc.id = code.clone();
                }
            }
            body
        }
        None if text.starts_with("---")
            && text.lines().next().map(str::trim_end) == Some("---") =>
        {
            return Err("malformed front matter: no closing ---".to_string())
        }
        None => text,
    };
    let body = strip_html_comments(body);
    // Unknown front-matter keys (e.g. Hugo's `bookCollapseSection`) are not content.
    let has_fields = doc.code.is_some()
        || !doc.materials.is_empty()
        || !doc.legal_basis.is_empty()
        || doc.time_limit_days.is_some()
        || doc.department.is_some();
    if body.trim().is_empty() && !has_fields {
        return Err("no content (front matter only)".to_string());
    }
    let mut lines = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix("# ") {
            if doc.title.is_empty() {
                doc.title = h.trim().to_string();
                continue;
            }
        }
        lines.push(plain_line(line));
    }
    let md_body = lines.join("\n");
    doc.body = if doc.body.is_empty() {
        md_body
    } else {
        format!("{md_body}\n{}", doc.body)
    };
    doc.kind = kind.unwrap_or_else(|| infer_kind(ctx, &doc.title, &doc.body, false));
    Ok(doc)
}

/// Markdown markup that is not text: heading marks, emphasis, list bullets.
fn plain_line(line: &str) -> String {
    let t = line.trim_start();
    let t = t.trim_start_matches('#').trim_start();
    let t = t
        .strip_prefix("- ")
        .or_else(|| t.strip_prefix("* "))
        .or_else(|| t.strip_prefix("> "))
        .unwrap_or(t);
    t.replace("**", "").replace('`', "")
}

#[cfg(test)]
mod tests {
    use crate::corpus::{load_bytes, FieldMap, Kind};

    fn load(rel: &str, s: &str) -> Result<crate::corpus::Document, String> {
        load_bytes(rel, s.as_bytes(), &FieldMap::default()).map(|mut l| l.docs.remove(0))
    }

    #[test]
    fn front_matter_fills_fields() {
        let d = load(
            "guides/a.md",
            "---\ntitle: 结婚登记\ncode: YC0100000001\ntime_limit_days: 0\nmaterials:\n  - 身份证\n  - 户口簿\n---\n## 办理流程\n现场办理。\n",
        )
        .unwrap();
        assert_eq!(d.title, "结婚登记");
        assert_eq!(d.id, "YC0100000001");
        assert_eq!(d.code.as_deref(), Some("YC0100000001"));
        assert_eq!(d.time_limit_days, Some(0));
        assert_eq!(d.materials, ["身份证", "户口簿"]);
        assert_eq!(d.kind, Kind::Guide);
        assert_eq!(d.body, "办理流程\n现场办理。");
    }

    #[test]
    fn title_from_heading_then_file_name() {
        let d = load("x/a.md", "# 中华人民共和国行政许可法\n2003年8月27日通过\n<!-- INFO END -->\n## 第一章 总则\n第一条 为了规范。\n第二条 本法所称。").unwrap();
        assert_eq!(d.title, "中华人民共和国行政许可法");
        assert!(!d.body.contains("INFO END"));
        assert_eq!(d.kind, Kind::Law);
        let d = load("x/名字.md", "正文而已").unwrap();
        assert_eq!(d.title, "名字");
    }

    #[test]
    fn bad_front_matter_and_empty_index_are_skipped() {
        assert!(load("a.md", "---\ntitle: [unclosed\n---\nbody")
            .unwrap_err()
            .starts_with("malformed front matter"));
        assert!(load("a.md", "---\ntitle: x\nbody")
            .unwrap_err()
            .contains("no closing"));
        assert_eq!(
            load("_index.md", "---\nbookCollapseSection: true\n---\n").unwrap_err(),
            "no content (front matter only)"
        );
    }
}
