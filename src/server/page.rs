//! The portal search page: the static app shipped inside the binary, and the server-rendered
//! document and not-found pages.
//!
//! The search app (`assets/index.html`, `app.js`, `app.css`) and the embeddable box
//! (`assets/embed.js`) are plain files compiled in with `include_str!`: no CDN, no build step,
//! they work offline. They talk to `/api/search` and `/api/suggest` only.
//!
//! [`render_doc`] turns a [`Document`] into a complete HTML page that reads without JavaScript,
//! with the words of the query highlighted by [`crate::search::snippet::highlight`]. Documents
//! are untrusted input: every value is HTML-escaped, and only `http`/`https` URLs become links.
//!
//! This module owns markup only. It must not know routes, status codes or the index: the
//! server maps its strings to responses.

use crate::analysis::Analyzer;
use crate::corpus::{Document, Kind};
use crate::search::query::{FieldName, ParsedQuery};
use crate::search::snippet::{escape_into, highlight};
use crate::search::MAX_QUERY_CHARS;
use std::collections::HashSet;

/// `GET /`: the search app's HTML shell; `app.js` renders the search from the URL.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// `GET /assets/app.js`: the search app (suggestions, results, facets, pagination, history).
pub const APP_JS: &str = include_str!("assets/app.js");
/// `GET /assets/app.css`: styles of the search app and of the document pages.
pub const APP_CSS: &str = include_str!("assets/app.css");
/// `GET /embed.js`: the self-contained search box other sites embed with one `<script>` tag.
pub const EMBED_JS: &str = include_str!("assets/embed.js");

/// Site name shown in headers and page titles.
const SITE_NAME: &str = "办事搜索";

/// Past this many bytes of a document, the rest is escaped without highlighting, so one huge
/// law cannot make a page slow (highlighting segments every line it marks).
const HIGHLIGHT_BUDGET_BYTES: usize = 256 * 1024;

/// The Chinese label of a kind.
fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Law => "法律法规",
        Kind::Guide => "办事指南",
        Kind::Material => "申请材料",
        Kind::Timeline => "办理时限",
        Kind::Notice => "通知公告",
    }
}

/// A server-rendered page for one document.
///
/// `q` is the query the reader came from: its words are highlighted in the title, materials,
/// legal basis and body, and the back link returns to `/?q=…`. Every value of `doc` is
/// HTML-escaped; `url` becomes a link only when it is `http`/`https`; absent or blank optional
/// fields are left out.
pub fn render_doc(doc: &Document, q: Option<&str>, analyzer: &Analyzer) -> String {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let terms = q.map(|q| query_terms(analyzer, q)).unwrap_or_default();
    let mut hl = Highlighter {
        analyzer,
        terms: &terms,
        budget: HIGHLIGHT_BUDGET_BYTES,
    };

    let mut out = String::with_capacity(4096 + doc.body.len() * 2);
    let title = if doc.title.trim().is_empty() {
        doc.id.as_str()
    } else {
        doc.title.as_str()
    };
    head(&mut out, title, q);

    out.push_str("<main id=\"main\" class=\"doc\">\n<nav class=\"back\" aria-label=\"返回\">");
    match q {
        Some(q) => {
            out.push_str("<a href=\"/?q=");
            escape_into(&mut out, &encode_component(q));
            out.push_str("\">← 返回“");
            escape_into(&mut out, q);
            out.push_str("”的搜索结果</a>");
        }
        None => out.push_str("<a href=\"/\">← 返回搜索</a>"),
    }
    out.push_str("</nav>\n<article>\n<header class=\"doc-header\">\n<h1 class=\"doc-title\">");
    out.push_str(&hl.mark(title));
    out.push_str("</h1>\n<p class=\"doc-badges\"><span class=\"badge badge-kind kind-");
    out.push_str(doc.kind.as_str());
    out.push_str("\">");
    out.push_str(kind_label(doc.kind));
    out.push_str("</span>");
    if let Some(d) = doc.time_limit_days {
        out.push_str(" <span class=\"badge badge-days\">");
        out.push_str(&days_badge(d));
        out.push_str("</span>");
    }
    out.push_str("</p>\n</header>\n");

    // Key facts, in the order a citizen asks them.
    let mut facts = String::new();
    fact(&mut facts, "code", "事项编码", doc.code.as_deref());
    fact(&mut facts, "kind", "事项类型", Some(kind_label(doc.kind)));
    fact(
        &mut facts,
        "department",
        "实施主体",
        doc.department.as_deref(),
    );
    fact(&mut facts, "region", "行政区划", doc.region.as_deref());
    let audience = join_nonblank(&doc.audience, "、");
    fact(&mut facts, "audience", "服务对象", Some(&audience));
    let limit = doc.time_limit_days.map(days_text);
    fact(&mut facts, "time-limit", "承诺时限", limit.as_deref());
    let statutory = doc.statutory_limit_days.map(days_text);
    fact(
        &mut facts,
        "statutory-limit",
        "法定时限",
        statutory.as_deref(),
    );
    fact(&mut facts, "fee", "收费标准", doc.fee.as_deref());
    fact(&mut facts, "phone", "咨询电话", doc.phone.as_deref());
    fact(&mut facts, "address", "办理地点", doc.address.as_deref());
    if let Some(url) = doc.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        facts.push_str("<div class=\"fact fact-url\"><dt>官方链接</dt><dd>");
        if let Some(url) = safe_url(url) {
            facts.push_str("<a href=\"");
            escape_into(&mut facts, url);
            facts.push_str("\" rel=\"noopener noreferrer external\">");
            escape_into(&mut facts, url);
            facts.push_str("</a>");
        } else {
            escape_into(&mut facts, url);
        }
        facts.push_str("</dd></div>\n");
    }
    fact(&mut facts, "updated", "更新日期", doc.updated.as_deref());
    let tags = join_nonblank(&doc.tags, "、");
    fact(&mut facts, "tags", "关键词", Some(&tags));
    if !facts.is_empty() {
        out.push_str("<section class=\"doc-facts\" aria-labelledby=\"facts-h\">\n");
        out.push_str("<h2 id=\"facts-h\" class=\"visually-hidden\">基本信息</h2>\n<dl>\n");
        out.push_str(&facts);
        out.push_str("</dl>\n</section>\n");
    }

    list_section(
        &mut out,
        &mut hl,
        "materials",
        "申请材料",
        "ol",
        &doc.materials,
    );
    list_section(
        &mut out,
        &mut hl,
        "legal-basis",
        "办理依据",
        "ul",
        &doc.legal_basis,
    );

    if !doc.body.trim().is_empty() {
        out.push_str("<section class=\"doc-body\" aria-labelledby=\"body-h\">\n");
        out.push_str("<h2 id=\"body-h\">详细内容</h2>\n");
        body_html(&mut out, &mut hl, &doc.body, title);
        out.push_str("</section>\n");
    }
    out.push_str("</article>\n</main>\n");
    foot(&mut out);
    out
}

/// A 404 page for a document id that does not exist, with a search box.
pub fn render_not_found(id: &str) -> String {
    let mut out = String::with_capacity(2048);
    head(&mut out, "未找到该事项", None);
    out.push_str("<main id=\"main\" class=\"doc not-found\">\n<h1>未找到该事项</h1>\n");
    out.push_str("<p>没有编号为“<code class=\"doc-id\">");
    escape_into(&mut out, id);
    out.push_str(
        "</code>”的事项。它可能已被删除或更名，请尝试搜索。</p>\n\
         <p><a href=\"/\">← 返回搜索首页</a></p>\n</main>\n",
    );
    foot(&mut out);
    out
}

/// `<!doctype>` through the site header with a plain search form (works without JavaScript).
fn head(out: &mut String, title: &str, q: Option<&str>) {
    out.push_str(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
    );
    escape_into(out, title);
    out.push_str(" · ");
    out.push_str(SITE_NAME);
    out.push_str(
        "</title>\n<link rel=\"stylesheet\" href=\"/assets/app.css\">\n</head>\n<body>\n\
         <a class=\"skip-link\" href=\"#main\">跳到正文</a>\n\
         <header class=\"site-header\">\n<div class=\"site-header-inner\">\n\
         <a class=\"brand\" href=\"/\">",
    );
    out.push_str(SITE_NAME);
    out.push_str(
        "</a>\n<form class=\"search-form\" role=\"search\" action=\"/\" method=\"get\">\n\
         <label for=\"doc-q\" class=\"visually-hidden\">搜索办事事项</label>\n\
         <input id=\"doc-q\" name=\"q\" type=\"search\" maxlength=\"256\" \
         placeholder=\"输入事项名称、关键词或事项编码\" value=\"",
    );
    escape_into(out, q.unwrap_or(""));
    out.push_str("\">\n<button type=\"submit\">搜索</button>\n</form>\n</div>\n</header>\n");
}

fn foot(out: &mut String) {
    out.push_str(
        "<footer class=\"site-footer\"><p>内容以各实施部门发布的最新版本为准。</p></footer>\n\
         </body>\n</html>\n",
    );
}

/// One `<dt>/<dd>` pair, left out when the value is absent or blank.
fn fact(out: &mut String, class: &str, label: &str, value: Option<&str>) {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return;
    };
    out.push_str("<div class=\"fact fact-");
    out.push_str(class);
    out.push_str("\"><dt>");
    out.push_str(label);
    out.push_str("</dt><dd>");
    escape_into(out, value);
    out.push_str("</dd></div>\n");
}

/// A titled list of highlighted items (materials, legal basis); nothing when all are blank.
fn list_section(
    out: &mut String,
    hl: &mut Highlighter,
    class: &str,
    label: &str,
    tag: &str,
    items: &[String],
) {
    let items: Vec<&str> = items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return;
    }
    out.push_str(&format!(
        "<section class=\"doc-{class}\" aria-labelledby=\"{class}-h\">\n\
         <h2 id=\"{class}-h\">{label}</h2>\n<{tag}>\n"
    ));
    for item in items {
        out.push_str("<li>");
        out.push_str(&hl.mark(item));
        out.push_str("</li>\n");
    }
    out.push_str(&format!("</{tag}>\n</section>\n"));
}

/// The body: one paragraph per line; Markdown headings (`## …`) and bullet lines (`- …`)
/// keep their structure. A first line (or heading) that repeats the title is dropped.
fn body_html(out: &mut String, hl: &mut Highlighter, body: &str, title: &str) {
    let mut in_list = false;
    let mut first = true;
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let heading = heading_text(line);
        if first {
            first = false;
            let text = heading.map_or(line, |(_, h)| h);
            if text == title.trim() {
                continue;
            }
        }
        let bullet = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("* "))
            .or_else(|| line.strip_prefix("• "))
            .map(str::trim);
        if bullet.is_none() && in_list {
            out.push_str("</ul>\n");
            in_list = false;
        }
        if let Some((level, text)) = heading {
            let tag = if level <= 2 { "h3" } else { "h4" };
            out.push_str(&format!("<{tag}>{}</{tag}>\n", hl.mark(text)));
        } else if let Some(item) = bullet {
            if !in_list {
                out.push_str("<ul>\n");
                in_list = true;
            }
            out.push_str("<li>");
            out.push_str(&hl.mark(item));
            out.push_str("</li>\n");
        } else {
            out.push_str("<p>");
            out.push_str(&hl.mark(line));
            out.push_str("</p>\n");
        }
    }
    if in_list {
        out.push_str("</ul>\n");
    }
}

/// `## 办理条件` → `(2, "办理条件")`.
fn heading_text(line: &str) -> Option<(usize, &str)> {
    let level = line.bytes().take_while(|&b| b == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = line[level..].strip_prefix(' ')?.trim();
    (!rest.is_empty()).then_some((level, rest))
}

/// Highlights query words in text until its byte budget is spent, then only escapes.
struct Highlighter<'a> {
    analyzer: &'a Analyzer,
    terms: &'a HashSet<String>,
    budget: usize,
}

impl Highlighter<'_> {
    /// `text` HTML-escaped, with `<em>` around the query's words.
    fn mark(&mut self, text: &str) -> String {
        if self.terms.is_empty() || text.len() > self.budget {
            self.budget = 0;
            let mut out = String::with_capacity(text.len());
            escape_into(&mut out, text);
            return out;
        }
        self.budget -= text.len();
        highlight(self.analyzer, text, self.terms)
    }
}

/// The normalized words to highlight for `q`: its words, phrases and `title:` values, their
/// synonyms, and the official words of colloquial phrases it contains (as the search does).
fn query_terms(analyzer: &Analyzer, q: &str) -> HashSet<String> {
    let q: String = q.chars().take(MAX_QUERY_CHARS).collect();
    let parsed = ParsedQuery::parse(&q);
    let mut texts = vec![parsed.text];
    texts.extend(parsed.phrases);
    texts.extend(
        parsed
            .fields
            .into_iter()
            .filter(|(f, _)| *f == FieldName::Title)
            .map(|(_, v)| v),
    );
    let mut terms = HashSet::new();
    for text in &texts {
        for word in analyzer.words(text) {
            terms.extend(analyzer.synonyms().of(&word).iter().cloned());
            terms.insert(word);
        }
        let norm = crate::analysis::normalize::normalize_text(text);
        for key in analyzer.colloquial().keys() {
            if norm.contains(key) {
                for official in analyzer.colloquial().of(key) {
                    terms.extend(analyzer.synonyms().of(official).iter().cloned());
                    terms.insert(official.clone());
                }
            }
        }
    }
    terms
}

/// `http(s)://host…` as given, else `None` (no `javascript:`, `data:`, relative or odd URLs).
fn safe_url(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once(':')?;
    let web = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let host = rest.strip_prefix("//")?;
    let ok = web
        && !host.is_empty()
        && !host.starts_with('/')
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(url)
}

/// `承诺时限 N 个工作日`, or `即办` for 0.
fn days_badge(days: u32) -> String {
    if days == 0 {
        "即办".to_string()
    } else {
        format!("承诺时限 {days} 个工作日")
    }
}

/// `N 个工作日`, or `即办` for 0.
fn days_text(days: u32) -> String {
    if days == 0 {
        "即办".to_string()
    } else {
        format!("{days} 个工作日")
    }
}

fn join_nonblank(items: &[String], sep: &str) -> String {
    items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

/// Percent-encode everything but RFC 3986 unreserved characters (like `encodeURIComponent`,
/// which also keeps `!'()*`; those are encoded here, which is equally valid).
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, OnceLock};

    fn analyzer() -> &'static Analyzer {
        static A: OnceLock<Arc<Analyzer>> = OnceLock::new();
        A.get_or_init(Analyzer::load_default)
    }

    fn full_doc() -> Document {
        crate::corpus::example_document()
    }

    #[test]
    fn escapes_script_everywhere() {
        let mut d = Document::new("notices/x.md", Kind::Notice);
        d.title = "<script>alert('t')</script>标题".into();
        d.body = "第一行<script>alert(1)</script>\n<img src=x onerror=alert(2)>".into();
        d.materials = vec!["<script>m()</script>".into()];
        d.legal_basis = vec!["<b onmouseover=x>依据</b>".into()];
        d.department = Some("\"><script>d()</script>".into());
        d.fee = Some("<iframe>".into());
        for q in [None, Some("标题 第一行")] {
            let html = render_doc(&d, q, analyzer());
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<img"), "{html}");
            assert!(!html.contains("<b "), "{html}");
            assert!(!html.contains("<iframe"), "{html}");
            assert!(html.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;"));
            assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(
                html.contains("<li>&lt;script&gt;m()&lt;/script&gt;</li>"),
                "{html}"
            );
            assert!(html.contains("&quot;&gt;&lt;script&gt;d()&lt;/script&gt;"));
        }
    }

    #[test]
    fn escapes_the_query_in_the_back_link_and_search_box() {
        let d = full_doc();
        let html = render_doc(&d, Some("\"><script>x</script>"), analyzer());
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("href=\"/?q=%22%3E%3Cscript%3Ex%3C%2Fscript%3E\""));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
    }

    #[test]
    fn highlights_query_words() {
        let d = full_doc();
        let html = render_doc(&d, Some("身份证 补领"), analyzer());
        assert!(
            html.contains("<h1 class=\"doc-title\"><em>居民身份证补领</em></h1>"),
            "{html}"
        );
        assert!(
            html.contains("<p><em>居民身份证</em>丢失的，应当申请<em>补领</em>。</p>"),
            "{html}"
        );
        assert!(html.contains("<li>急需用证的可申请临时<em>身份证</em></li>"));
        // Metadata is escaped, never marked.
        assert!(html.contains("<dd>云川市公安局</dd>"));
        assert!(
            html.contains("《中华人民共和国<em>居民身份证</em>法》"),
            "{html}"
        );
        assert!(html.contains("href=\"/?q=%E8%BA%AB%E4%BB%BD%E8%AF%81%20%E8%A1%A5%E9%A2%86\""));
        // Without a query nothing is marked and the back link goes home.
        let plain = render_doc(&d, None, analyzer());
        assert!(!plain.contains("<em>"), "{plain}");
        assert!(plain.contains("<a href=\"/\">← 返回搜索</a>"));
        assert!(plain.contains("<h1 class=\"doc-title\">居民身份证补领</h1>"));
    }

    #[test]
    fn renders_every_field() {
        let html = render_doc(&full_doc(), None, analyzer());
        for want in [
            "<html lang=\"zh-CN\">",
            "<title>居民身份证补领 · 办事搜索</title>",
            "<dt>事项编码</dt><dd>YC0110000102</dd>",
            "<dt>事项类型</dt><dd>办事指南</dd>",
            "<dt>实施主体</dt><dd>云川市公安局</dd>",
            "<dt>行政区划</dt><dd>云川市</dd>",
            "<dt>服务对象</dt><dd>个人</dd>",
            "<dt>承诺时限</dt><dd>15 个工作日</dd>",
            "<dt>法定时限</dt><dd>60 个工作日</dd>",
            "<dt>收费标准</dt><dd>40元</dd>",
            "<dt>咨询电话</dt><dd>0871-64110110</dd>",
            "<dt>办理地点</dt><dd>户籍所在地派出所</dd>",
            "<dt>更新日期</dt><dd>2024-01-10</dd>",
            "<a href=\"https://zwfw.example.gov.cn/item/YC0110000102?a=1&amp;b=2\"",
            "<span class=\"badge badge-days\">承诺时限 15 个工作日</span>",
            "<ol>\n<li>居民户口簿</li>\n<li>本人现场采集相片</li>\n</ol>",
            "<ul>\n<li>《中华人民共和国居民身份证法》</li>\n</ul>",
            "<h3>办理条件</h3>",
            "<p>居民身份证丢失的，应当申请补领。</p>",
            "<ul>\n<li>急需用证的可申请临时身份证</li>\n<li>外省户籍可跨省通办</li>\n</ul>\n<p>其他说明。</p>",
        ] {
            assert!(html.contains(want), "missing {want:?} in\n{html}");
        }
        // The body's leading `# title` repeats the h1.
        assert!(!html.contains("<h3>居民身份证补领</h3>"), "{html}");
        // So does a plain first line (loaders strip the `#`); later repeats stay.
        let mut d = full_doc();
        d.body = "居民身份证补领\n正文。\n居民身份证补领".into();
        let html = render_doc(&d, None, analyzer());
        assert!(
            html.contains("<h2 id=\"body-h\">详细内容</h2>\n<p>正文。</p>\n<p>居民身份证补领</p>"),
            "{html}"
        );
    }

    #[test]
    fn zero_days_is_immediate() {
        let mut d = full_doc();
        d.time_limit_days = Some(0);
        d.statutory_limit_days = Some(0);
        let html = render_doc(&d, None, analyzer());
        assert!(html.contains("<span class=\"badge badge-days\">即办</span>"));
        assert!(html.contains("<dt>承诺时限</dt><dd>即办</dd>"));
        assert!(html.contains("<dt>法定时限</dt><dd>即办</dd>"));
    }

    #[test]
    fn only_web_urls_are_links() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//evil.example/x",
            "http:/x",
            "https://exa mple.com",
            "vbscript:msgbox",
        ] {
            let mut d = full_doc();
            d.url = Some(bad.into());
            let html = render_doc(&d, None, analyzer());
            assert!(!html.contains("rel=\"noopener"), "{bad} linked:\n{html}");
            assert!(!html.contains("href=\"javascript"), "{bad}");
            assert!(!html.contains("<script"), "{bad}");
            assert!(
                html.contains("<dt>官方链接</dt>"),
                "{bad} not shown as text"
            );
        }
        for good in ["http://a.example/", "HTTPS://a.example/p?x=1"] {
            assert_eq!(safe_url(good), Some(good));
        }
    }

    #[test]
    fn missing_optional_fields_are_omitted() {
        let mut d = Document::new("notices/通知.txt", Kind::Notice);
        d.title = "关于调整办公时间的通知".into();
        d.body = "自即日起调整。".into();
        d.fee = Some("   ".into());
        d.audience = vec![" ".into()];
        let html = render_doc(&d, None, analyzer());
        for absent in [
            "<dt>事项编码",
            "<dt>实施主体",
            "<dt>行政区划",
            "<dt>服务对象",
            "<dt>承诺时限",
            "<dt>法定时限",
            "<dt>收费标准",
            "<dt>咨询电话",
            "<dt>办理地点",
            "<dt>官方链接",
            "<dt>更新日期",
            "<dt>关键词",
            ">申请材料</h2>",
            ">办理依据</h2>",
            "badge-days",
            "<dd></dd>",
            "<ol>",
        ] {
            assert!(!html.contains(absent), "{absent:?} present in\n{html}");
        }
        assert!(html.contains("<dt>事项类型</dt><dd>通知公告</dd>"));
        assert!(html.contains("<p>自即日起调整。</p>"));
    }

    #[test]
    fn not_found_escapes_the_id() {
        let html = render_not_found("a/<script>x</script>");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("a/&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(html.contains("未找到该事项"));
    }

    #[test]
    fn assets_are_shipped() {
        assert!(INDEX_HTML.contains("id=\"q\""));
        assert!(INDEX_HTML.contains("/assets/app.js"));
        assert!(INDEX_HTML.contains("/assets/app.css"));
        assert!(APP_JS.contains("/api/search"));
        assert!(EMBED_JS.contains("currentScript"));
        assert!(!APP_CSS.is_empty());
    }

    #[test]
    fn encodes_components_like_the_browser() {
        assert_eq!(
            encode_component("a b/c?&=营"),
            "a%20b%2Fc%3F%26%3D%E8%90%A5"
        );
        assert_eq!(encode_component("A-z_0.9~"), "A-z_0.9~");
    }
}
