//! `summary.html`: the report as one self-contained page, charts included.
//!
//! The page needs nothing but itself: the style is inline, the charts are
//! inline SVG drawn here (no script), fonts are the system's, and no
//! address of another site appears in it, so it opens from a file, from a
//! mail attachment or on a machine without network, and prints.
//!
//! The markup is also well-formed XML (every element closed, void ones as
//! `<br/>`, attributes quoted, only XML's own entities), so tests can read
//! it with an XML parser. `<svg>` has no `xmlns`: HTML puts it in the SVG
//! namespace by itself. All text is escaped by [`esc`].

use super::{Bar, Block, Chart, Doc, Inline, Section, Span, Table};

pub fn render(doc: &Doc) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"color-scheme\" content=\"light\"/>\n",
    );
    out.push_str(&format!(
        "<title>{}: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&doc.title),
        esc(&doc.subject)
    ));
    header(&mut out, doc);
    out.push_str("<main>\n");
    for s in &doc.sections {
        section(&mut out, s);
    }
    out.push_str(
        "</main>\n<footer>The same numbers, for scripts, are in <code>summary.json</code>; \
         the rows are in the CSV files beside this page.</footer>\n</body>\n</html>\n",
    );
    out
}

fn header(out: &mut String, doc: &Doc) {
    out.push_str(&format!(
        "<header>\n<h1>{} <span class=\"subject\">{}</span></h1>\n",
        esc(&doc.title),
        esc(&doc.subject)
    ));
    for a in &doc.alerts {
        out.push_str(&format!(
            "<p class=\"alert bad\" role=\"alert\">{}</p>\n",
            inline(a)
        ));
    }
    out.push_str("<div class=\"figures\">\n");
    for f in &doc.figures {
        out.push_str(&format!(
            "<div class=\"figure b-{}\"><span class=\"n\">{}</span><span class=\"l\">{}</span><span class=\"s\">{}</span></div>\n",
            esc(f.class),
            super::count(f.value),
            esc(f.label),
            esc(&f.share)
        ));
    }
    out.push_str("</div>\n<dl class=\"facts\">\n");
    for (label, value) in &doc.facts {
        out.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            esc(label),
            inline(value)
        ));
    }
    out.push_str("</dl>\n<nav>");
    for (i, s) in doc.sections.iter().enumerate() {
        if i > 0 {
            out.push_str(" · ");
        }
        out.push_str(&format!("<a href=\"#{}\">{}</a>", esc(s.id), esc(s.title)));
    }
    out.push_str("</nav>\n</header>\n");
}

fn section(out: &mut String, s: &Section) {
    out.push_str(&format!(
        "<section id=\"{}\">\n<h2>{}</h2>\n",
        esc(s.id),
        esc(s.title)
    ));
    for b in &s.blocks {
        match b {
            Block::Para(i) => out.push_str(&format!("<p>{}</p>\n", inline(i))),
            Block::Heading(i) => out.push_str(&format!("<h3>{}</h3>\n", inline(i))),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    out.push_str(&format!("<li>{}</li>\n", inline(i)));
                }
                out.push_str("</ul>\n");
            }
            Block::Alert(i) => {
                out.push_str(&format!("<p class=\"alert warn\">{}</p>\n", inline(i)))
            }
            Block::Table(t) => table(out, t),
            Block::Chart(c) => chart(out, c),
        }
    }
    out.push_str("</section>\n");
}

fn table(out: &mut String, t: &Table) {
    let class = |i: usize| {
        if t.numeric.get(i).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    out.push_str("<div class=\"table\"><table>\n<thead><tr>");
    for (i, h) in t.head.iter().enumerate() {
        out.push_str(&format!("<th{}>{}</th>", class(i), esc(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let row = |out: &mut String, cells: &[Inline]| {
        out.push_str("<tr>");
        for (i, c) in cells.iter().enumerate() {
            out.push_str(&format!("<td{}>{}</td>", class(i), inline(c)));
        }
        out.push_str("</tr>\n");
    };
    for r in &t.rows {
        row(out, r);
    }
    out.push_str("</tbody>\n");
    if let Some(f) = &t.foot {
        out.push_str("<tfoot>\n");
        row(out, f);
        out.push_str("</tfoot>\n");
    }
    out.push_str("</table></div>\n");
}

/// Whether `s` has a word so long that it may be broken anywhere (a URL,
/// a deep path). Only such text gets `overflow-wrap: anywhere`: on all
/// text it would let tables squeeze columns down to a letter.
fn has_long_word(s: &str) -> bool {
    s.split_whitespace().any(|w| w.chars().count() > 24)
}

fn inline(spans: &Inline) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(t) if has_long_word(t) => format!("<span class=\"long\">{}</span>", esc(t)),
            Span::Text(t) => esc(t),
            Span::Code(t) if has_long_word(t) => format!("<code class=\"long\">{}</code>", esc(t)),
            Span::Code(t) => format!("<code>{}</code>", esc(t)),
            Span::Strong(t) => format!("<strong>{}</strong>", esc(t)),
            Span::Good(t) => format!("<span class=\"good\">{}</span>", esc(t)),
            Span::Bad(t) => format!("<strong class=\"bad\">{}</strong>", esc(t)),
            Span::Warn(t) => format!("<strong class=\"warn\">{}</strong>", esc(t)),
            Span::Key(class, t) => {
                format!(
                    "<span class=\"key\"><span class=\"swatch c-{}\"></span>{}</span>",
                    esc(class),
                    esc(t)
                )
            }
        })
        .collect()
}

/// Text for HTML: `<>&"'` as entities, control characters (which neither
/// HTML nor XML allow) as U+FFFD, and the `:` of `://` as `&#58;`, so that
/// a URL in a source or file name is shown but is not a reference in the
/// file.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ':' if rest.starts_with("//") => out.push_str("&#58;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Width of the charts' coordinate space; they scale to the page.
const W: f64 = 880.0;
/// Height of one bar's row.
const ROW: f64 = 26.0;
/// Room for the number at the end of a bar.
const NOTE_W: f64 = 120.0;
/// Longest label drawn; longer ones are cut with `…` (the whole label is
/// in the bar's tooltip and in the table below the chart).
const LABEL_CHARS: usize = 32;

fn chart(out: &mut String, c: &Chart) {
    match c {
        Chart::Bars { title, bars, max } => bar_chart(out, title, bars, *max),
        Chart::Stacked {
            title,
            series,
            rows,
        } => stacked_chart(out, title, series, rows),
        Chart::Histogram { title, bins } => histogram(out, title, bins),
    }
}

/// A label cut to [`LABEL_CHARS`].
fn cut(s: &str) -> String {
    if s.chars().count() <= LABEL_CHARS {
        s.to_string()
    } else {
        let head: String = s.chars().take(LABEL_CHARS - 1).collect();
        format!("{head}…")
    }
}

/// Width of the label column: about 7 units a character at 13 px.
fn label_width<'a>(labels: impl Iterator<Item = &'a str>) -> f64 {
    let chars = labels
        .map(|l| l.chars().count().min(LABEL_CHARS))
        .max()
        .unwrap_or(0);
    (chars as f64 * 7.6 + 14.0).max(90.0)
}

fn svg_open(out: &mut String, title: &str, height: f64) {
    out.push_str(&format!(
        "<figure><svg class=\"chart\" viewBox=\"0 0 {W} {height}\" width=\"{W}\" height=\"{height}\" role=\"img\"><title>{}</title>\n",
        esc(title)
    ));
}

fn svg_close(out: &mut String, title: &str) {
    out.push_str(&format!(
        "</svg><figcaption>{}</figcaption></figure>\n",
        esc(title)
    ));
}

fn bar_chart(out: &mut String, title: &str, bars: &[Bar], max: u64) {
    let lw = label_width(bars.iter().map(|b| b.label.as_str()));
    let area = W - lw - NOTE_W;
    let height = bars.len() as f64 * ROW + 8.0;
    svg_open(out, title, height);
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + i as f64 * ROW;
        let len = if max == 0 {
            0.0
        } else {
            area * b.value as f64 / max as f64
        };
        out.push_str(&format!(
            "<g><title>{}: {}</title><text class=\"label{}\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            esc(&b.label),
            esc(&b.note),
            if matches!(b.class, "never" | "every") {
                " flag"
            } else {
                ""
            },
            lw - 8.0,
            y + 17.0,
            esc(&cut(&b.label))
        ));
        if len > 0.0 {
            out.push_str(&format!(
                "<rect class=\"c-{}\" x=\"{lw:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"18\" rx=\"2\"/>",
                esc(b.class),
                y + 4.0,
                len.max(1.5)
            ));
        }
        out.push_str(&format!(
            "<text class=\"note\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>\n",
            lw + len + 6.0,
            y + 17.0,
            esc(&b.note)
        ));
    }
    svg_close(out, title);
}

fn legend(out: &mut String, series: &[&str], x0: f64) {
    let mut x = x0;
    for name in series {
        out.push_str(&format!(
            "<rect class=\"c-{}\" x=\"{x:.1}\" y=\"6\" width=\"12\" height=\"12\" rx=\"2\"/>\
             <text class=\"legend\" x=\"{:.1}\" y=\"16\">{}</text>\n",
            esc(name),
            x + 16.0,
            esc(name)
        ));
        x += 16.0 + name.chars().count() as f64 * 7.0 + 18.0;
    }
}

fn stacked_chart(out: &mut String, title: &str, series: &[&str], rows: &[(String, Vec<u64>)]) {
    let lw = label_width(rows.iter().map(|r| r.0.as_str()));
    let area = W - lw - NOTE_W;
    let max = rows
        .iter()
        .map(|r| r.1.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    let top = 30.0;
    let height = top + rows.len() as f64 * ROW + 8.0;
    svg_open(out, title, height);
    legend(out, series, lw);
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = top + 4.0 + i as f64 * ROW;
        let total: u64 = values.iter().sum();
        out.push_str(&format!(
            "<g><title>{}: {} rows</title><text class=\"label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            esc(label),
            super::count(total),
            lw - 8.0,
            y + 17.0,
            esc(&cut(label))
        ));
        let mut x = lw;
        for (name, v) in series.iter().zip(values) {
            if *v == 0 || max == 0 {
                continue;
            }
            let w = area * *v as f64 / max as f64;
            out.push_str(&format!(
                "<rect class=\"c-{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"18\"><title>{}: {} {}</title></rect>",
                esc(name),
                y + 4.0,
                esc(label),
                super::count(*v),
                esc(name)
            ));
            let digits = super::count(*v);
            if w >= digits.len() as f64 * 7.0 + 8.0 {
                out.push_str(&format!(
                    "<text class=\"in\" x=\"{:.1}\" y=\"{:.1}\">{digits}</text>",
                    x + w / 2.0,
                    y + 17.0
                ));
            }
            x += w;
        }
        out.push_str(&format!(
            "<text class=\"note\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>\n",
            x + 6.0,
            y + 17.0,
            super::count(total)
        ));
    }
    svg_close(out, title);
}

fn histogram(out: &mut String, title: &str, bins: &[(String, u64)]) {
    let (left, right, top, bottom) = (56.0, 16.0, 24.0, 48.0);
    let height = 260.0;
    let (pw, ph) = (W - left - right, height - top - bottom);
    let max = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let slot = pw / bins.len().max(1) as f64;
    svg_open(out, title, height);
    let base = top + ph;
    out.push_str(&format!(
        "<line class=\"axis\" x1=\"{left}\" y1=\"{base}\" x2=\"{:.1}\" y2=\"{base}\"/>\
         <line class=\"grid\" x1=\"{left}\" y1=\"{top}\" x2=\"{:.1}\" y2=\"{top}\"/>\
         <text class=\"label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>\
         <text class=\"label\" x=\"{:.1}\" y=\"{:.1}\">0</text>\
         <text class=\"axis-title\" x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\">rows</text>\
         <text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\">total score</text>\n",
        W - right,
        W - right,
        left - 8.0,
        top + 4.0,
        super::count(max),
        left - 8.0,
        base + 4.0,
        top + ph / 2.0,
        top + ph / 2.0,
        left + pw / 2.0,
        height - 6.0,
    ));
    for (i, (label, n)) in bins.iter().enumerate() {
        let x = left + i as f64 * slot;
        let h = ph * *n as f64 / max as f64;
        out.push_str(&format!(
            "<g><title>{}: {} rows</title>",
            esc(label),
            super::count(*n)
        ));
        if *n > 0 {
            out.push_str(&format!(
                "<rect class=\"c-hit\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" rx=\"2\"/>\
                 <text class=\"count\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x + slot * 0.1,
                base - h,
                slot * 0.8,
                x + slot / 2.0,
                base - h - 5.0,
                super::count(*n)
            ));
        }
        out.push_str(&format!(
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>\n",
            x + slot / 2.0,
            base + 16.0,
            esc(label)
        ));
    }
    svg_close(out, title);
}

/// The page's style: system fonts, light colours, tables that read well
/// on screen and paper. No `<` or `&` in it (it must stay XML text).
const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
html { background: #ffffff; }
body { margin: 0 auto; max-width: 1000px; padding: 24px 28px 40px; color: var(--fg); background: #ffffff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
h1 { font-size: 26px; margin: 0 0 12px; font-weight: 650; }
h1 .subject { color: var(--muted); font-weight: 400; font-size: 20px; margin-left: 8px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p { margin: 8px 0; }
code { font-family: ui-monospace, "SF Mono", "Cascadia Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 0.88em; background: var(--bg-soft); border: 1px solid #e4e8ec; border-radius: 4px; padding: 0 4px; }
.long { overflow-wrap: anywhere; }
.key { white-space: nowrap; }
.alert { margin: 10px 0; padding: 10px 14px; border-radius: 6px; border-left: 5px solid; }
.alert.bad { background: #ffebe9; border-color: #cf222e; font-size: 16px; }
.alert.warn { background: #fff8c5; border-color: #bf8700; }
.bad { color: #cf222e; }
.warn { color: #9a6700; }
.good { color: #1a7f37; font-weight: 600; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; }
.figure { flex: 1 1 110px; border: 1px solid var(--line); border-top: 5px solid var(--muted); border-radius: 6px;
  padding: 8px 12px; background: #ffffff; }
.figure .n { display: block; font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.2; }
.figure .l { display: block; color: var(--muted); font-size: 13px; }
.figure .s { display: block; font-size: 13px; font-variant-numeric: tabular-nums; }
.b-total { border-top-color: #1f2328; }
.b-opportunity { border-top-color: #1a7f37; }
.b-prospect { border-top-color: #0969da; }
.b-lead { border-top-color: #6e7781; }
.b-disqualified { border-top-color: #bf8700; }
.b-rejected { border-top-color: #cf222e; }
.b-duplicates { border-top-color: #8250df; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
nav { margin: 14px 0 0; font-size: 14px; }
nav a { color: #0969da; text-decoration: none; }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0 4px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { border-top: 2px solid var(--fg); font-weight: 600; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 7px; vertical-align: -1px; }
figure { margin: 12px 0; }
figcaption { color: var(--muted); font-size: 13px; }
svg.chart { display: block; width: 100%; max-width: 880px; height: auto; font-family: inherit; }
svg.chart text { font-size: 13px; fill: #1f2328; }
svg.chart text.label { text-anchor: end; }
svg.chart text.flag { fill: #9a6700; font-weight: 600; }
svg.chart text.note { fill: #59636e; font-variant-numeric: tabular-nums; }
svg.chart text.in { text-anchor: middle; fill: #ffffff; font-size: 12px; font-weight: 600; }
svg.chart text.count { text-anchor: middle; font-size: 12px; }
svg.chart text.tick { text-anchor: middle; font-size: 11px; fill: #59636e; }
svg.chart text.axis-title { text-anchor: middle; font-size: 12px; fill: #59636e; }
svg.chart line.axis { stroke: #59636e; stroke-width: 1; }
svg.chart line.grid { stroke: #d1d9e0; stroke-dasharray: 3 3; }
.c-opportunity { fill: #1a7f37; background: #1a7f37; }
.c-prospect { fill: #0969da; background: #0969da; }
.c-lead { fill: #6e7781; background: #6e7781; }
.c-disqualified { fill: #bf8700; background: #bf8700; }
.c-rejected { fill: #cf222e; background: #cf222e; }
.c-duplicates { fill: #8250df; background: #8250df; }
.c-hit { fill: #0969da; background: #0969da; }
.c-every { fill: #bf8700; background: #bf8700; }
.c-never { fill: #bf8700; background: #bf8700; }
footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, .alert, .figures, tr { break-inside: avoid; }
  .figure { flex-basis: 70px; padding: 4px 8px; }
  .figure .n { font-size: 20px; }
  .table { overflow: visible; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_and_never_a_reference() {
        assert_eq!(
            esc("<b>\"A&B's\"</b>"),
            "&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;"
        );
        assert_eq!(esc("https://evil.example/x"), "https&#58;//evil.example/x");
        assert_eq!(esc("a:b"), "a:b");
        assert_eq!(esc("nul\0bell\x07"), "nul\u{fffd}bell\u{fffd}");
    }

    #[test]
    fn a_failed_gate_is_shown_first_and_in_red() {
        let mut s = crate::report::tests::sample();
        s.gates.push(crate::summary::GateResult {
            gate: "--max-rejected 1%".into(),
            actual: 3.2,
            limit: 1.0,
            unit: "percent",
            passed: false,
            exit_status: 3,
            message: "3.2% of rows <rejected>".into(),
        });
        let page = render(&Doc::new(&s, "now"));
        let alert = page.find("class=\"alert bad\"").expect("alert");
        assert!(alert < page.find("class=\"figures\"").expect("figures"));
        assert!(page.contains("<strong class=\"bad\">FAILED</strong>"));
        assert!(page.contains("3.2% of rows &lt;rejected&gt;"));
        assert!(!page.contains("http"));
    }
}
