//! HTML: visible text only (no tags, scripts, styles, comments); title from the first `<h1>`, else `<title>` (which often carries a site suffix).

use super::{infer_kind, Document, LoadCtx};
use scraper::{Html, Node, Selector};

const INVISIBLE: [&str; 7] = [
    "script", "style", "noscript", "template", "head", "svg", "iframe",
];
const BLOCK: [&str; 16] = [
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "table", "ul", "ol",
];

pub(super) fn load(ctx: &LoadCtx, text: &str) -> Result<Document, String> {
    let html = Html::parse_document(text);
    let mut doc = Document::new(ctx.rel, super::Kind::Notice);
    for sel in ["h1", "title"] {
        let s = Selector::parse(sel).expect("valid selector");
        if let Some(el) = html.select(&s).next() {
            let t: String = el.text().collect();
            if !t.trim().is_empty() {
                doc.title = t.trim().to_string();
                break;
            }
        }
    }
    let mut out = String::new();
    visible_text(html.tree.root(), &mut out);
    doc.body = out;
    if doc.body.trim().is_empty() && doc.title.is_empty() {
        return Err("no visible text".to_string());
    }
    doc.kind = infer_kind(ctx, &doc.title, &doc.body, false);
    Ok(doc)
}

fn visible_text(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    match node.value() {
        Node::Text(t) => out.push_str(t),
        Node::Element(e) => {
            let name = e.name();
            if INVISIBLE.contains(&name) {
                return;
            }
            let block = BLOCK.contains(&name);
            if block {
                out.push('\n');
            }
            for c in node.children() {
                visible_text(c, out);
            }
            if block {
                out.push('\n');
            }
        }
        _ => {
            for c in node.children() {
                visible_text(c, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::corpus::{load_bytes, FieldMap};

    #[test]
    fn visible_text_only() {
        let html = "<html><head><title>停电通知</title><style>p{color:red}</style></head><body>\
            <h1>关于停电的通知</h1><!-- 注释 --><script>var x='脚本';</script><p>青山区&nbsp;明日停电&amp;检修</p></body></html>";
        let d = load_bytes("notices/a.html", html.as_bytes(), &FieldMap::default())
            .unwrap()
            .docs
            .remove(0);
        assert_eq!(d.title, "关于停电的通知");
        assert!(d.body.contains("青山区"), "{}", d.body);
        assert!(d.body.contains("明日停电&检修"), "{}", d.body);
        for bad in ["脚本", "color", "注释", "<p>"] {
            assert!(!d.body.contains(bad), "{bad} in {}", d.body);
        }
    }
}
