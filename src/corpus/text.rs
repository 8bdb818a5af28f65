//! Plain text: the first non-empty line is the title.

use super::{infer_kind, Document, LoadCtx};

pub(super) fn load(ctx: &LoadCtx, text: &str) -> Result<Document, String> {
    let text = text.trim_start_matches('\u{FEFF}');
    let mut doc = Document::new(ctx.rel, super::Kind::Notice);
    let mut lines = text.lines();
    for line in lines.by_ref() {
        if !line.trim().is_empty() {
            doc.title = line.trim().to_string();
            break;
        }
    }
    if doc.title.is_empty() {
        return Err("no text (only blank lines)".to_string());
    }
    doc.body = lines.collect::<Vec<_>>().join("\n");
    doc.kind = infer_kind(ctx, &doc.title, &doc.body, false);
    Ok(doc)
}
