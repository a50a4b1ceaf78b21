//! `summary.md`: the report as GitHub-flavoured Markdown, readable as
//! plain text too.
//!
//! Charts are left out: each comes with a table that holds its numbers.
//! Text from users shows as written: Markdown punctuation gets a
//! backslash, a `|` cannot end a table cell, and a line break becomes
//! `<br>` instead of ending the table row.

use super::{Block, Doc, Inline, Span, Table};

pub fn render(doc: &Doc) -> String {
    let mut out = format!("# {}\n\n", doc.title);
    out.push_str(&headline(doc));
    for a in &doc.alerts {
        out.push_str(&format!("> {}\n>\n", inline(a, false)));
    }
    if !doc.alerts.is_empty() {
        out.truncate(out.len() - 2);
        out.push('\n');
    }
    for (label, value) in &doc.facts {
        out.push_str(&format!("- **{label}:** {}\n", inline(value, false)));
    }
    for s in &doc.sections {
        out.push_str(&format!("\n## {}\n", s.title));
        for b in &s.blocks {
            block(&mut out, b);
        }
    }
    out
}

/// `**1,234 rows in:** opportunity 34 (2.8%) · prospect ...`
fn headline(doc: &Doc) -> String {
    let mut parts = Vec::new();
    let mut total = String::new();
    for f in &doc.figures {
        if f.share.is_empty() {
            total = format!("**{} {}:** ", super::count(f.value), f.label);
        } else {
            parts.push(format!(
                "{} {} ({})",
                f.label,
                super::count(f.value),
                f.share
            ));
        }
    }
    format!("{total}{}\n\n", parts.join(" · "))
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Para(i) => out.push_str(&format!("\n{}\n", inline(i, false))),
        Block::Heading(i) => out.push_str(&format!("\n### {}\n", inline(i, false))),
        Block::List(items) => {
            out.push('\n');
            for i in items {
                out.push_str(&format!("- {}\n", inline(i, false)));
            }
        }
        Block::Alert(i) => out.push_str(&format!("\n> {}\n", inline(i, false))),
        Block::Table(t) => table(out, t),
        // Its numbers are in the table beside it.
        Block::Chart(_) => {}
    }
}

fn table(out: &mut String, t: &Table) {
    out.push('\n');
    let head: Vec<String> = t.head.iter().map(|h| escape_text(h)).collect();
    out.push_str(&format!("| {} |\n", head.join(" | ")));
    let rule: Vec<&str> = t
        .numeric
        .iter()
        .map(|n| if *n { "---:" } else { "---" })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for row in t.rows.iter().chain(&t.foot) {
        let cells: Vec<String> = row.iter().map(|c| inline(c, true)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
}

fn inline(spans: &Inline, in_table: bool) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(t) | Span::Good(t) | Span::Key(_, t) => escape_text(t),
            Span::Code(t) => escape_code(t, in_table),
            Span::Strong(t) | Span::Bad(t) | Span::Warn(t) => format!("**{}**", escape_text(t)),
        })
        .collect()
}

/// Text shown as written: Markdown punctuation that could start markup
/// gets a backslash (`_` only where it could start emphasis, so that
/// `first_name` stays readable), line breaks become `<br>`, other control
/// characters a space.
pub fn escape_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\r' | '\n' => {
                out.push_str("<br>");
                if c == '\r' && chars.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
            }
            c if c.is_control() => out.push(' '),
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '_' => {
                let word = |j: Option<usize>| {
                    j.and_then(|j| chars.get(j))
                        .is_some_and(|c| c.is_alphanumeric())
                };
                if !(word(i.checked_sub(1)) && word(Some(i + 1))) {
                    out.push('\\');
                }
                out.push('_');
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A code span holding `s` exactly; text with control characters (a line
/// break cannot be in a code span in a table) is escaped as text instead.
pub fn escape_code(s: &str, in_table: bool) -> String {
    if s.chars().any(char::is_control) {
        return escape_text(s);
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // One space each side is stripped when both are there: pad so that
    // spaces and backticks at the ends survive.
    let pad = if s.starts_with([' ', '`']) || s.ends_with([' ', '`']) {
        " "
    } else {
        ""
    };
    let body = if in_table {
        s.replace('|', "\\|")
    } else {
        s.to_string()
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_cannot_break_a_table_or_start_markup() {
        assert_eq!(escape_text("a|b"), "a\\|b");
        assert_eq!(
            escape_text("line 1\nline 2\r\nline 3"),
            "line 1<br>line 2<br>line 3"
        );
        assert_eq!(escape_text("<b>*x*</b>"), "\\<b\\>\\*x\\*\\</b\\>");
        assert_eq!(escape_text("first_name"), "first_name");
        assert_eq!(escape_text("_x_"), "\\_x\\_");
        assert_eq!(escape_text("[a](b) & $5"), "\\[a\\](b) \\& \\$5");
        assert_eq!(escape_text("tab\there"), "tab here");
    }

    #[test]
    fn code_spans_hold_their_text_exactly() {
        assert_eq!(escape_code("Email", false), "`Email`");
        assert_eq!(escape_code("a`b", false), "``a`b``");
        assert_eq!(escape_code("`x", false), "`` `x ``");
        assert_eq!(escape_code(" Email ", false), "`  Email  `");
        assert_eq!(escape_code("a|b", true), "`a\\|b`");
        assert_eq!(escape_code("a|b", false), "`a|b`");
        assert_eq!(escape_code("two\nlines", true), "two<br>lines");
    }

    #[test]
    fn a_source_with_a_pipe_or_a_line_break_keeps_the_table_shape() {
        use crate::summary::{Counts, SourceSummary};
        let mut s = crate::report::tests::sample();
        s.sources.push(SourceSummary {
            source: "a|b\nc".into(),
            rows: 1,
            stages: Counts::default(),
            duplicates: 0,
        });
        s.output_dir = "out|dir".into();
        let md = render(&Doc::new(&s, "now"));
        let table: Vec<&str> = md
            .lines()
            .skip_while(|l| !l.starts_with("| source |"))
            .take_while(|l| l.starts_with('|'))
            .collect();
        let cells = |l: &str| l.replace("\\|", "").matches('|').count();
        assert_eq!(table.len(), 3, "{md}");
        assert_eq!(cells(table[2]), cells(table[0]), "{}", table[2]);
        assert!(table[2].starts_with("| a\\|b<br>c | 1 |"), "{}", table[2]);
        // Outside a table a code span keeps its `|` as it is.
        assert!(md.contains("- **outputs:** `out|dir`"), "{md}");
    }
}
