//! What the report shows of a [`Summary`]: the headline and the facts of
//! the run, then one function per section, as blocks for
//! [`super::markdown`] and [`super::html`] to lay out.
//!
//! A section that may have nothing to show (no gates, no dedup) returns an
//! `Option`; [`Doc::new`](super::Doc::new) lists them in order.

use super::{
    code, count, funnel_rows, measure, pct, plural, sha_prefix, text, Bar, Block, Chart, Figure,
    Inline, Section, Span, Table,
};
use crate::output::DUPLICATES_FILE;
use crate::summary::{Counts, FileSummary, Summary};

/// Stage columns of the by-source and by-file tables, in funnel order.
const STAGE_SERIES: [&str; 6] = [
    "opportunity",
    "prospect",
    "lead",
    "disqualified",
    "rejected",
    "duplicates",
];

fn stage_values(c: &Counts, duplicates: u64) -> Vec<u64> {
    vec![
        c.opportunity,
        c.prospect,
        c.lead,
        c.disqualified,
        c.rejected,
        duplicates,
    ]
}

pub(super) fn subject(s: &Summary) -> String {
    let first = s.files.first().map_or("no input", |f| {
        let name = f.path.rsplit(['/', '\\']).next().unwrap_or(&f.path);
        if name.is_empty() {
            &f.path
        } else {
            name
        }
    });
    match s.files.len() {
        0 | 1 => first.to_string(),
        n => format!(
            "{first} and {}",
            plural(n as u64 - 1, "more file", "more files")
        ),
    }
}

pub(super) fn figures(s: &Summary) -> Vec<Figure> {
    let mut out = vec![Figure {
        label: "rows in",
        value: s.rows_in,
        share: String::new(),
        class: "total",
    }];
    for (name, n, _, _) in funnel_rows(s) {
        out.push(Figure {
            label: name,
            value: n,
            share: pct(n, s.rows_in),
            class: name,
        });
    }
    out
}

pub(super) fn facts(s: &Summary, written: &str) -> Vec<(&'static str, Inline)> {
    let mut rules = vec![code(&s.rules.path)];
    if let Some(name) = &s.rules.name {
        rules.push(text(format!(" ({name})")));
    }
    rules.push(text(", sha256 "));
    rules.push(code(sha_prefix(&s.rules.sha256)));
    let mut inputs = Vec::new();
    for (i, f) in s.files.iter().enumerate() {
        if i > 0 {
            inputs.push(text(", "));
        }
        inputs.push(code(&f.path));
    }
    let threads = plural(s.jobs as u64, "thread", "threads");
    vec![
        ("inputs", inputs),
        ("rules", rules),
        ("written", vec![text(written)]),
        (
            "took",
            vec![text(format!("{:.2} s on {threads}", s.elapsed_seconds))],
        ),
        ("outputs", vec![code(&s.output_dir)]),
        (
            "leadsift",
            vec![text(format!("version {}", s.leadsift_version))],
        ),
    ]
}

pub(super) fn funnel(s: &Summary) -> Section {
    let mut bars = Vec::new();
    let mut t = Table::new(&["stage", "rows#", "share#", "file", "what it means"]);
    for (name, n, file, meaning) in funnel_rows(s) {
        bars.push(Bar {
            label: name.into(),
            value: n,
            note: format!("{} · {}", count(n), pct(n, s.rows_in)),
            class: name,
        });
        t.row(vec![
            vec![Span::Key(name, name.into())],
            vec![text(count(n))],
            vec![text(pct(n, s.rows_in))],
            vec![code(file)],
            vec![text(meaning)],
        ]);
    }
    t.foot = Some(vec![
        vec![Span::Strong("rows in".into())],
        vec![Span::Strong(count(s.rows_in))],
        vec![text("100.0%")],
        vec![],
        vec![text("every data row read, each in exactly one file")],
    ]);
    Section {
        id: "funnel",
        title: "Funnel",
        blocks: vec![
            Block::Chart(Chart::Bars {
                title: "Rows per stage".into(),
                bars,
                max: s.rows_in,
            }),
            Block::Table(t),
        ],
    }
}

pub(super) fn gates(s: &Summary) -> Option<Section> {
    if s.gates.is_empty() {
        return None;
    }
    let mut t = Table::new(&["gate", "result", "measured#", "limit#", "message"]);
    for g in &s.gates {
        let result = if g.passed {
            Span::Good("passed".into())
        } else {
            Span::Bad(format!("FAILED (exit {})", g.exit_status))
        };
        t.row(vec![
            vec![code(&g.gate)],
            vec![result],
            vec![text(measure(g.actual, g.unit))],
            vec![text(measure(g.limit, g.unit))],
            vec![text(&g.message)],
        ]);
    }
    let failed = s.gates.iter().filter(|g| !g.passed).count() as u64;
    let verdict = if failed == 0 {
        vec![Span::Good("Every gate held.".into())]
    } else {
        vec![Span::Bad(format!(
            "{} of {} failed.",
            count(failed),
            plural(s.gates.len() as u64, "gate", "gates")
        ))]
    };
    Some(Section {
        id: "gates",
        title: "Gates",
        blocks: vec![Block::Para(verdict), Block::Table(t)],
    })
}

/// One row of a stage breakdown: a source or a file.
struct Share<'a> {
    /// As shown in the table.
    label: Inline,
    /// As shown in the chart.
    name: &'a str,
    rows: u64,
    stages: &'a Counts,
    duplicates: u64,
}

/// A stage breakdown table, with a stacked bar chart when `chart` names
/// one.
fn breakdown(first: &'static str, rows: &[Share], chart: Option<&str>) -> Vec<Block> {
    let mut t = Table::new(&[
        first,
        "rows#",
        "opportunity#",
        "prospect#",
        "lead#",
        "disqualified#",
        "rejected#",
        "duplicates#",
    ]);
    for r in rows {
        let mut cells = vec![r.label.clone(), vec![text(count(r.rows))]];
        let stages = stage_values(r.stages, r.duplicates);
        cells.extend(stages.into_iter().map(|v| vec![text(count(v))]));
        t.row(cells);
    }
    let mut blocks = Vec::new();
    if let Some(title) = chart {
        blocks.push(Block::Chart(Chart::Stacked {
            title: title.into(),
            series: STAGE_SERIES.to_vec(),
            rows: rows
                .iter()
                .map(|r| (r.name.to_string(), stage_values(r.stages, r.duplicates)))
                .collect(),
        }));
    }
    blocks.push(Block::Table(t));
    blocks
}

pub(super) fn by_source(s: &Summary) -> Option<Section> {
    if s.sources.is_empty() {
        return None;
    }
    let rows: Vec<_> = s
        .sources
        .iter()
        .map(|x| Share {
            label: vec![text(&x.source)],
            name: &x.source,
            rows: x.rows,
            stages: &x.stages,
            duplicates: x.duplicates,
        })
        .collect();
    let mut blocks = vec![Block::Para(vec![text(
        "Rows per value of the source field (grouped ignoring case, most rows first): \
         (none) is an empty source, (not read) rows that could not be read.",
    )])];
    blocks.extend(breakdown("source", &rows, Some("Stages by source")));
    Some(Section {
        id: "sources",
        title: "Stages by source",
        blocks,
    })
}

pub(super) fn by_file(s: &Summary) -> Section {
    let rows: Vec<_> = s
        .files
        .iter()
        .map(|f| Share {
            label: vec![code(&f.path)],
            name: &f.path,
            rows: f.rows,
            stages: &f.stages,
            duplicates: f.duplicates,
        })
        .collect();
    let chart = (s.files.len() > 1).then_some("Stages by input file");
    let blocks = if rows.is_empty() {
        vec![Block::Para(vec![text("No input was read.")])]
    } else {
        breakdown("file", &rows, chart)
    };
    Section {
        id: "files",
        title: "Stages by input file",
        blocks,
    }
}

/// What a reject kind means, for people.
fn reject_meaning(kind: &str, unusable_reason: &str) -> String {
    match kind {
        "unusable" if !unusable_reason.is_empty() => unusable_reason.to_string(),
        "unusable" => "the rules' usable condition fails".into(),
        "too-many-fields" => "more fields than the header".into(),
        "too-few-fields" => "fewer fields than the header".into(),
        "unterminated-quote" => "a quoted field that does not close (a stray quote)".into(),
        "invalid-encoding" => "bytes that are not text in the file's encoding".into(),
        "field-too-large" => "a field over --max-field-bytes".into(),
        "record-too-large" => "a record over --max-record-bytes".into(),
        _ => String::new(),
    }
}

pub(super) fn rejects(s: &Summary) -> Section {
    let mut t = Table::new(&["kind", "reason", "rows#", "share of rows in#"]);
    for (kind, v) in &s.rejects {
        let n = v.as_u64().unwrap_or(0);
        if n > 0 {
            t.row(vec![
                vec![code(kind)],
                vec![text(reject_meaning(kind, &s.unusable_reason))],
                vec![text(count(n))],
                vec![text(pct(n, s.rows_in))],
            ]);
        }
    }
    let block = if t.rows.is_empty() {
        Block::Para(vec![text("No rows were rejected.")])
    } else {
        Block::Table(t)
    };
    Section {
        id: "rejects",
        title: "Rejected rows by reason",
        blocks: vec![block],
    }
}

pub(super) fn disqualified(s: &Summary) -> Section {
    let mut t = Table::new(&["rule or list", "reason", "rows#", "share of rows in#"]);
    for d in s.disqualified.iter().filter(|d| d.rows > 0) {
        t.row(vec![
            vec![code(&d.rule)],
            vec![text(&d.reason)],
            vec![text(count(d.rows))],
            vec![text(pct(d.rows, s.rows_in))],
        ]);
    }
    for x in s.exclusions.iter().filter(|x| x.excluded_rows > 0) {
        t.row(vec![
            vec![text("--exclude "), code(&x.list.path)],
            vec![text("on an exclusion list")],
            vec![text(count(x.excluded_rows))],
            vec![text(pct(x.excluded_rows, s.rows_in))],
        ]);
    }
    let mut blocks = vec![if t.rows.is_empty() {
        Block::Para(vec![text("No rows were disqualified.")])
    } else {
        Block::Table(t)
    }];
    if !s.exclusions.is_empty() {
        let mut lists = Table::new(&[
            "exclusion list",
            "rows#",
            "entries#",
            "rows with nothing to match#",
            "rows excluded#",
        ]);
        for x in &s.exclusions {
            lists.row(vec![
                vec![code(&x.list.path)],
                vec![text(count(x.list.rows))],
                vec![text(count(x.list.entries))],
                vec![text(count(x.list.unused_rows))],
                vec![text(count(x.excluded_rows))],
            ]);
        }
        blocks.push(Block::Heading(vec![text("Exclusion lists")]));
        blocks.push(Block::Table(lists));
    }
    Section {
        id: "disqualified",
        title: "Disqualified rows by reason",
        blocks,
    }
}

pub(super) fn scores(s: &Summary) -> Section {
    let d = &s.scores;
    let (Some(min), Some(max), Some(mean)) = (d.min, d.max, d.mean) else {
        return Section {
            id: "scores",
            title: "Score distribution",
            blocks: vec![Block::Para(vec![text(
                "No lead, prospect or opportunity rows were scored.",
            )])],
        };
    };
    let range = |from: i64, to: i64| {
        if from == to {
            from.to_string()
        } else {
            format!("{from} to {to}")
        }
    };
    let mut t = Table::new(&["total score", "rows#", "share#"]);
    for b in &d.buckets {
        t.row(vec![
            vec![text(range(b.from, b.to))],
            vec![text(count(b.rows))],
            vec![text(pct(b.rows, d.rows))],
        ]);
    }
    let summary = format!(
        "Total score (the sum of the score groups) of the {}: lowest {min}, mean {mean:.2}, highest {max}.",
        plural(d.rows, "lead, prospect or opportunity row", "lead, prospect and opportunity rows")
    );
    Section {
        id: "scores",
        title: "Score distribution",
        blocks: vec![
            Block::Para(vec![text(summary)]),
            Block::Chart(Chart::Histogram {
                title: "Rows per total score".into(),
                bins: d
                    .buckets
                    .iter()
                    .map(|b| (range(b.from, b.to), b.rows))
                    .collect(),
            }),
            Block::Table(t),
        ],
    }
}

/// The fit/engagement grid, when the rules grade rows.
pub(super) fn grades(s: &Summary) -> Option<Section> {
    let g = s.grades.as_ref()?;
    let mut head = vec![format!("{} / {}", g.fit_group, g.engagement_group)];
    head.extend(g.engagement.iter().map(|e| format!("{e}#")));
    head.push("all#".to_string());
    let mut t = Table::new(&head);
    let total: u64 = g.rows.iter().flatten().sum();
    for (f, row) in g.fit.iter().zip(&g.rows) {
        let mut cells = vec![vec![code(f)]];
        cells.extend(row.iter().map(|n| vec![text(count(*n))]));
        cells.push(vec![text(count(row.iter().sum()))]);
        t.row(cells);
    }
    let intro = format!(
        "Lead, prospect and opportunity rows by grade: fit letters from the {} group (rows, best first), engagement digits from the {} group (columns, best first); {} graded.",
        g.fit_group,
        g.engagement_group,
        plural(total, "row", "rows")
    );
    Some(Section {
        id: "grades",
        title: "Grades",
        blocks: vec![Block::Para(vec![text(intro)]), Block::Table(t)],
    })
}

pub(super) fn rules(s: &Summary) -> Section {
    let scored = s.coverage.rows_scored;
    let never = &s.coverage.never_fired;
    let every = &s.coverage.fired_on_every_row;
    let mut hits: Vec<_> = s.rule_hits.iter().collect();
    // Most hits first; ties in file order (stable sort).
    hits.sort_by_key(|h| std::cmp::Reverse(h.hits));
    let mut bars = Vec::new();
    let mut t = Table::new(&["rule", "rows it fired on#", "share of scored rows#", "note"]);
    for h in &hits {
        let (class, note) = if never.contains(&h.id) {
            ("never", vec![Span::Warn("never fired".into())])
        } else if every.contains(&h.id) {
            ("every", vec![Span::Warn("fired on every row".into())])
        } else {
            ("hit", vec![])
        };
        bars.push(Bar {
            label: h.id.clone(),
            value: h.hits,
            note: format!("{} · {}", count(h.hits), pct(h.hits, scored)),
            class,
        });
        t.row(vec![
            vec![code(&h.id)],
            vec![text(count(h.hits))],
            vec![text(pct(h.hits, scored))],
            note,
        ]);
    }
    let mut blocks = vec![Block::Para(vec![text(format!(
        "{} scored: kept rows that were not rejected{}. A rule that never fires, or fires \
         on every row, usually has a mistake: a misspelt field or value, or a condition \
         that cannot fail.",
        plural(scored, "row", "rows"),
        if s.state.as_ref().is_some_and(|st| st.only_changed) {
            " and not left out by --only-changed"
        } else {
            ""
        }
    ))])];
    for (ids, what) in [(never, "Never fired"), (every, "Fired on every scored row")] {
        if !ids.is_empty() {
            let mut line = vec![Span::Warn(what.into()), text(": ")];
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    line.push(text(", "));
                }
                line.push(code(id));
            }
            line.push(text(" (likely a mistake in the rules)"));
            blocks.push(Block::Alert(line));
        }
    }
    if !hits.is_empty() {
        blocks.push(Block::Chart(Chart::Bars {
            title: "Rows each rule fired on".into(),
            bars,
            max: scored.max(hits[0].hits),
        }));
        blocks.push(Block::Table(t));
    }
    Section {
        id: "rules",
        title: "Rule hits and coverage",
        blocks,
    }
}

fn yes_no(b: bool) -> Span {
    text(if b { "yes" } else { "no" })
}

/// A two-column table of facts.
fn facts_table(head: [&'static str; 2], rows: Vec<(&'static str, Inline)>) -> Block {
    let mut t = Table::new(&head);
    for (k, v) in rows {
        t.row(vec![vec![text(k)], v]);
    }
    Block::Table(t)
}

pub(super) fn dedup(s: &Summary) -> Option<Section> {
    let d = s.dedup.as_ref()?;
    let names = |v: &[&str]| vec![text(v.join(", "))];
    Some(Section {
        id: "dedup",
        title: "Duplicates",
        blocks: vec![facts_table(
            ["setting", "value"],
            vec![
                ("matched by", names(&d.keys)),
                ("row kept", names(&d.keep)),
                (
                    "gmail dots and +tags ignored",
                    vec![yes_no(d.canonical_email)],
                ),
                ("distinct people", vec![text(count(d.people))]),
                ("distinct keys", vec![text(count(d.distinct_keys))]),
                (
                    "rows dropped as duplicates",
                    vec![
                        text(count(s.duplicates)),
                        text(" in "),
                        code(DUPLICATES_FILE),
                    ],
                ),
            ],
        )],
    })
}

pub(super) fn state(s: &Summary) -> Option<Section> {
    let st = s.state.as_ref()?;
    let c = &st.changes;
    let n = |v: u64| vec![text(count(v))];
    Some(Section {
        id: "state",
        title: "Compared with earlier runs",
        blocks: vec![
            facts_table(
                ["state", "value"],
                vec![
                    ("state file", vec![code(&st.path)]),
                    ("as of", vec![text(&st.as_of)]),
                    ("keys remembered before", n(st.keys_before)),
                    ("keys written", n(st.keys_written)),
                    ("only changed rows written", vec![yes_no(st.only_changed)]),
                    ("stages may move down", vec![yes_no(st.allow_downgrade)]),
                ],
            ),
            Block::Heading(vec![text("Changes")]),
            facts_table(
                ["change", "rows#"],
                vec![
                    ("new people", n(c.new)),
                    ("changed", n(c.changed)),
                    ("unchanged", n(c.unchanged)),
                    ("unchanged, not written", n(c.not_written)),
                    ("moved up a stage", n(c.moved_up)),
                    ("moved down a stage", n(c.moved_down)),
                    ("held at their earlier stage", n(c.held)),
                    ("stayed at their stage", n(c.stayed)),
                ],
            ),
        ],
    })
}

pub(super) fn inputs(s: &Summary) -> Section {
    let mut blocks = Vec::new();
    for f in &s.files {
        blocks.push(Block::Heading(vec![code(&f.path)]));
        blocks.extend(detected(f));
    }
    Section {
        id: "inputs",
        title: "What was read",
        blocks,
    }
}

/// How a file was read and which of its columns the rules use.
fn detected(f: &FileSummary) -> Vec<Block> {
    let i = &f.input;
    let guessed = |g: bool| if g { " (guessed)" } else { "" };
    let mut rows = vec![("format", vec![text(&i.format)])];
    if let Some(sheet) = &i.sheet {
        rows.push(("sheet", vec![code(sheet)]));
    }
    if let Some(e) = &i.encoding {
        let how = i
            .encoding_source
            .map_or(String::new(), |src| format!(", {src}"));
        rows.push((
            "encoding",
            vec![text(format!("{e}{how}{}", guessed(i.encoding_guessed)))],
        ));
    }
    if let Some(d) = &i.delimiter {
        rows.push((
            "delimiter",
            vec![code(d), text(guessed(i.delimiter_guessed))],
        ));
    }
    if let Some(l) = i.line_endings {
        rows.push(("line endings", vec![text(l)]));
    }
    rows.push(("header", vec![text(format!("line {}", i.header_line))]));
    rows.push(("title lines skipped", vec![text(count(i.preamble_lines))]));
    rows.push(("blank lines", vec![text(count(i.blank_lines))]));
    rows.push((
        "looks like",
        vec![text(
            i.profile
                .map_or("no known export".into(), |p| format!("{p} export")),
        )],
    ));
    rows.push(("data rows", vec![text(count(f.rows))]));
    let mut blocks = vec![facts_table(["detected", "value"], rows)];
    for p in &i.header_problems {
        blocks.push(Block::Alert(vec![
            Span::Warn("Header problem".into()),
            text(": "),
            text(p),
        ]));
    }
    let mut cols = Table::new(&["field", "read from column"]);
    for (field, shown) in &f.columns {
        let mut cell = Vec::new();
        match shown {
            serde_json::Value::Array(list) => {
                for (n, c) in list.iter().enumerate() {
                    if n > 0 {
                        cell.push(text(", "));
                    }
                    cell.push(code(c.as_str().unwrap_or_default()));
                }
                cell.push(text(" (first non-empty)"));
            }
            v => cell.push(code(v.as_str().unwrap_or_default())),
        }
        cols.row(vec![vec![code(field)], cell]);
    }
    if !cols.rows.is_empty() {
        blocks.push(Block::Table(cols));
    }
    for (what, list) in [
        ("Fields without a column", &f.missing_fields),
        (
            "Columns no rule reads (still copied to the outputs)",
            &f.unmapped_columns,
        ),
    ] {
        let mut line = vec![Span::Strong(what.into()), text(": ")];
        if list.is_empty() {
            line.push(text("none"));
        }
        for (n, c) in list.iter().enumerate() {
            if n > 0 {
                line.push(text(", "));
            }
            line.push(code(c));
        }
        blocks.push(Block::Para(line));
    }
    blocks
}
