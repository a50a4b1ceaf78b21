//! Reports for people: `summary.md` and `summary.html`, written beside
//! `summary.json`, and the short summary on stderr.
//!
//! The two files are laid out from one [`Doc`]: the section functions at
//! the bottom of this file turn a [`Summary`] into headings, tables, notes
//! and chart data, and [`markdown`] and [`html`] only typeset that, so the
//! two always hold the same facts. A new section (a grade grid, say) is
//! one function returning a [`Section`], added to the list in
//! [`Doc::new`]; both files get it. The terminal summary is shorter and
//! has its own layout in [`terminal`].
//!
//! Everything here is pure: a summary and the time of writing in, text
//! out. Text that comes from users (file names, headers, sources, rule ids
//! and reasons, gate messages) is carried as it is and escaped by the
//! renderer that writes it, never here.

pub mod html;
pub mod markdown;
mod sections;
pub mod terminal;

use crate::output::DUPLICATES_FILE;
use crate::rules::Stage;
use crate::summary::{GateResult, Summary};
use sections::{
    by_file, by_source, dedup, disqualified, facts, figures, funnel, gates, grades, inputs,
    rejects, rules, scores, state, subject,
};

/// The report files, written before `summary.json` (which stays last).
pub const FILES: [&str; 2] = ["summary.md", "summary.html"];

/// A run of inline text.
pub type Inline = Vec<Span>;

/// One piece of inline text and how it is shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    Text(String),
    /// A name as written in a file: a path, a header, a rule id.
    Code(String),
    Strong(String),
    /// A verdict: passed (green) ...
    Good(String),
    /// ... failed (red) ...
    Bad(String),
    /// ... or worth a look (amber).
    Warn(String),
    /// A label with the colour key of a chart series (`class`).
    Key(&'static str, String),
}

/// Text as it is.
pub fn text(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

/// A name as written in a file; an empty one is shown as `(empty)`.
pub fn code(s: impl Into<String>) -> Span {
    let s = s.into();
    if s.is_empty() {
        Span::Text("(empty)".into())
    } else {
        Span::Code(s)
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub head: Vec<String>,
    /// Right-aligned (numeric) columns.
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<Inline>>,
    /// A totals row, set apart.
    pub foot: Option<Vec<Inline>>,
}

impl Table {
    /// A table whose columns are numeric where `head` names end in `#`
    /// (the mark is dropped).
    fn new<S: AsRef<str>>(head: &[S]) -> Table {
        Table {
            head: head
                .iter()
                .map(|h| h.as_ref().trim_end_matches('#').to_string())
                .collect(),
            numeric: head.iter().map(|h| h.as_ref().ends_with('#')).collect(),
            rows: Vec::new(),
            foot: None,
        }
    }

    fn row(&mut self, cells: Vec<Inline>) {
        self.rows.push(cells);
    }
}

/// One bar of a bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: u64,
    /// Shown at the end of the bar: `4 · 33.3%`.
    pub note: String,
    /// Colour class: a stage, `hit`, `never` or `every`.
    pub class: &'static str,
}

/// Chart data; the HTML report draws it, the Markdown one shows the table
/// that comes with it instead.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Horizontal bars, each as long as `value / max`.
    Bars {
        title: String,
        bars: Vec<Bar>,
        max: u64,
    },
    /// Horizontal bars split into `series` (colour classes, also the
    /// legend), one row per label.
    Stacked {
        title: String,
        series: Vec<&'static str>,
        rows: Vec<(String, Vec<u64>)>,
    },
    /// Vertical bars over ranges, left to right.
    Histogram {
        title: String,
        bins: Vec<(String, u64)>,
    },
}

#[derive(Debug, Clone)]
pub enum Block {
    Para(Inline),
    /// A sub-heading inside a section.
    Heading(Inline),
    List(Vec<Inline>),
    /// Something to notice: a failed gate, a rule that never fired.
    Alert(Inline),
    Table(Table),
    Chart(Chart),
}

#[derive(Debug, Clone)]
pub struct Section {
    /// Anchor in the HTML page.
    pub id: &'static str,
    pub title: &'static str,
    pub blocks: Vec<Block>,
}

/// The report: facts about the run, what needs attention first, and the
/// sections.
#[derive(Debug, Clone)]
pub struct Doc {
    pub title: String,
    /// What the run read: `webform.csv`, `a.csv and 2 more files`.
    pub subject: String,
    /// The headline: rows in and the count of each stage.
    pub figures: Vec<Figure>,
    pub facts: Vec<(&'static str, Inline)>,
    /// Failed gates: shown above everything else.
    pub alerts: Vec<Inline>,
    pub sections: Vec<Section>,
}

/// One number of the headline.
#[derive(Debug, Clone)]
pub struct Figure {
    pub label: &'static str,
    pub value: u64,
    /// Its share of the rows read, empty for the rows read themselves.
    pub share: String,
    pub class: &'static str,
}

impl Doc {
    /// The report of `s`, written at `written` (a date and time).
    pub fn new(s: &Summary, written: &str) -> Doc {
        let sections = [
            Some(funnel(s)),
            gates(s),
            by_source(s),
            Some(by_file(s)),
            Some(rejects(s)),
            Some(disqualified(s)),
            Some(scores(s)),
            grades(s),
            Some(rules(s)),
            dedup(s),
            state(s),
            Some(inputs(s)),
        ];
        Doc {
            title: "leadsift report".into(),
            subject: subject(s),
            figures: figures(s),
            facts: facts(s, written),
            alerts: s
                .gates
                .iter()
                .filter(|g| !g.passed)
                .map(gate_line)
                .collect(),
            sections: sections.into_iter().flatten().collect(),
        }
    }
}

/// The stages in funnel order (best first), then duplicates, as (name,
/// which is also the colour class; rows; the file they are in; what it
/// means).
pub fn funnel_rows(s: &Summary) -> [(&'static str, u64, &'static str, &'static str); 6] {
    let st = |stage: Stage| s.stages.get(stage);
    [
        (
            "opportunity",
            st(Stage::Opportunity),
            Stage::Opportunity.file_name(),
            "qualified and ready to talk about buying",
        ),
        (
            "prospect",
            st(Stage::Prospect),
            Stage::Prospect.file_name(),
            "qualified: fits the customer profile and shows interest",
        ),
        (
            "lead",
            st(Stage::Lead),
            Stage::Lead.file_name(),
            "contact known, not yet qualified",
        ),
        (
            "disqualified",
            st(Stage::Disqualified),
            Stage::Disqualified.file_name(),
            "ruled out by a rule or an exclusion list",
        ),
        (
            "rejected",
            st(Stage::Rejected),
            Stage::Rejected.file_name(),
            "cannot be used: no contact or a broken record",
        ),
        (
            "duplicates",
            s.duplicates,
            DUPLICATES_FILE,
            "the same person as a row kept",
        ),
    ]
}

/// `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `33.3%` of `total`; `0.0%` of nothing.
pub fn pct(n: u64, total: u64) -> String {
    if total == 0 {
        return "0.0%".into();
    }
    format!("{:.1}%", n as f64 * 100.0 / total as f64)
}

/// A gate's measure in its unit: `16.7%`, `1,200 rows`.
pub fn measure(v: f64, unit: &str) -> String {
    let num = if v.fract() == 0.0 && v.abs() < 1e15 {
        count(v.abs() as u64)
    } else {
        format!("{:.1}", v.abs())
    };
    let num = if v < 0.0 { format!("-{num}") } else { num };
    match unit {
        "percent" => format!("{num}%"),
        "" => num,
        u => format!("{num} {u}"),
    }
}

/// A failed gate as one line: `FAILED --max-rejected 5%: message (exit 3)`.
pub fn gate_line(g: &GateResult) -> Inline {
    vec![
        Span::Bad("FAILED".into()),
        text(" "),
        code(&g.gate),
        text(format!(": {} (exit status {})", g.message, g.exit_status)),
    ]
}

/// The first 12 hex digits of the rules' sha256, enough to tell versions
/// apart.
pub fn sha_prefix(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A summary of the built-in rules with a few counts, for the
    /// renderers' tests.
    pub(crate) fn sample() -> Summary {
        let rules = crate::rules::load(None).expect("built-in rules");
        let mut s = Summary::new(&rules, std::path::Path::new("/tmp/out"), 2);
        s.rows_in = 1_234;
        s.stages.opportunity = 34;
        s.stages.prospect = 100;
        s.stages.lead = 900;
        s.stages.disqualified = 150;
        s.stages.rejected = 40;
        s.duplicates = 10;
        s.elapsed_seconds = 0.5;
        s
    }

    #[test]
    fn counts_are_grouped_in_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(12_345_678), "12,345,678");
    }

    #[test]
    fn measures_show_their_unit() {
        assert_eq!(measure(5.0, "percent"), "5%");
        assert_eq!(measure(16.666, "percent"), "16.7%");
        assert_eq!(measure(1200.0, "rows"), "1,200 rows");
        assert_eq!(pct(1, 3), "33.3%");
        assert_eq!(pct(0, 0), "0.0%");
    }

    #[test]
    fn failed_gates_come_first_and_every_gate_has_a_row() {
        let mut s = sample();
        s.gates.push(GateResult {
            gate: "--min-rows 10".into(),
            actual: 1234.0,
            limit: 10.0,
            unit: "rows",
            passed: true,
            exit_status: 3,
            message: "1,234 rows read".into(),
        });
        s.gates.push(GateResult {
            gate: "--max-rejected 1%".into(),
            actual: 3.2,
            limit: 1.0,
            unit: "percent",
            passed: false,
            exit_status: 3,
            message: "3.2% rejected".into(),
        });
        let doc = Doc::new(&s, "2026-01-01 00:00");
        assert_eq!(doc.alerts.len(), 1);
        assert_eq!(doc.alerts[0][0], Span::Bad("FAILED".into()));
        let gates = doc.sections.iter().find(|x| x.id == "gates").unwrap();
        let Block::Table(t) = &gates.blocks[1] else {
            panic!("gates table")
        };
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1][2], vec![text("3.2%")]);
    }
}
