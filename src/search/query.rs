//! Query syntax for staff on top of plain text for a portal box.
//!
//! `"phrase"`, `-exclude`, `title:` `department:` `region:` `kind:` `code:` `audience:`. Anything
//! malformed (a lone quote, `title:` with nothing, brackets) degrades to plain text: parsing
//! never fails.

/// A field named in `field:value` syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    /// Words in the title.
    Title,
    /// Department (exact, or every department containing the value).
    Department,
    /// Region (exact, or every region containing the value).
    Region,
    /// Kind (`law`, `guide`, … or Chinese names).
    Kind,
    /// Item code, whole.
    Code,
    /// 个人 / 法人.
    Audience,
}

impl FieldName {
    fn parse(s: &str) -> Option<FieldName> {
        Some(match s.to_ascii_lowercase().as_str() {
            "title" | "标题" => FieldName::Title,
            "department" | "dept" | "部门" => FieldName::Department,
            "region" | "地区" => FieldName::Region,
            "kind" | "类型" => FieldName::Kind,
            "code" | "编码" => FieldName::Code,
            "audience" | "对象" => FieldName::Audience,
            _ => return None,
        })
    }
}

/// A parsed query.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Plain words, as typed (space-joined).
    pub text: String,
    /// Quoted phrases.
    pub phrases: Vec<String>,
    /// Words or phrases that must not occur.
    pub excludes: Vec<String>,
    /// `field:value` restrictions.
    pub fields: Vec<(FieldName, String)>,
}

impl ParsedQuery {
    /// Parse `q` (see the module docs).
    pub fn parse(q: &str) -> ParsedQuery {
        let mut out = ParsedQuery::default();
        let mut text: Vec<String> = Vec::new();
        let chars: Vec<char> = q
            .chars()
            .map(|c| if c == '“' || c == '”' { '"' } else { c })
            .collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            let negated = c == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace();
            let start = if negated { i + 1 } else { i };
            if chars[start] == '"' {
                if let Some(len) = chars[start + 1..].iter().position(|&c| c == '"') {
                    let phrase: String = chars[start + 1..start + 1 + len].iter().collect();
                    i = start + len + 2;
                    if phrase.trim().is_empty() {
                        continue;
                    }
                    if negated {
                        out.excludes.push(phrase);
                    } else {
                        out.phrases.push(phrase);
                    }
                    continue;
                }
                // A lone quote: plain text without it.
                i = start + 1;
                continue;
            }
            let end = chars[start..]
                .iter()
                .position(|c| c.is_whitespace())
                .map(|p| start + p)
                .unwrap_or(chars.len());
            let word: String = chars[start..end].iter().collect();
            i = end;
            if negated {
                out.excludes.push(word);
                continue;
            }
            if let Some((f, v)) = word.split_once([':', '：']) {
                if let Some(field) = FieldName::parse(f) {
                    let v = v.trim_matches('"');
                    if !v.is_empty() {
                        out.fields.push((field, v.to_string()));
                    }
                    continue;
                }
            }
            text.push(word.replace('"', ""));
        }
        out.text = text.join(" ");
        out
    }

    /// True when nothing searchable was given.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && self.phrases.is_empty() && self.fields.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        q: &str,
        text: &str,
        phrases: &[&str],
        excludes: &[&str],
        fields: &[(FieldName, &str)],
    ) {
        let p = ParsedQuery::parse(q);
        assert_eq!(p.text, text, "text of {q:?}");
        assert_eq!(p.phrases, phrases, "phrases of {q:?}");
        assert_eq!(p.excludes, excludes, "excludes of {q:?}");
        let f: Vec<(FieldName, String)> = fields.iter().map(|(f, v)| (*f, v.to_string())).collect();
        assert_eq!(p.fields, f, "fields of {q:?}");
    }

    #[test]
    fn syntax() {
        check("营业执照 怎么办", "营业执照 怎么办", &[], &[], &[]);
        check(
            "\"居民身份证丢失\" 补领",
            "补领",
            &["居民身份证丢失"],
            &[],
            &[],
        );
        check("登记 -离婚", "登记", &[], &["离婚"], &[]);
        check(
            "title:结婚 kind:guide",
            "",
            &[],
            &[],
            &[(FieldName::Title, "结婚"), (FieldName::Kind, "guide")],
        );
        check(
            "department：公安 身份证",
            "身份证",
            &[],
            &[],
            &[(FieldName::Department, "公安")],
        );
        check("-\"不动产 抵押\" 登记", "登记", &[], &["不动产 抵押"], &[]);
    }

    #[test]
    fn malformed_syntax_degrades_to_text() {
        check("\"营业执照", "营业执照", &[], &[], &[]);
        check("title: 营业执照", "营业执照", &[], &[], &[]);
        check("((营业执照]]", "((营业执照]]", &[], &[], &[]);
        check("foo:bar", "foo:bar", &[], &[], &[]);
        check("- \"\" -", "- -", &[], &[], &[]);
    }
}
