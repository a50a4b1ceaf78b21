//! The human form of an explanation: one block per row, conditions as
//! indented trees, `✓` held, `✗` failed, `·` not evaluated, and after
//! `←` the values each test read.

use std::fmt::Write;

use super::{show_value, Condition, RowExplanation};

/// Appends the explanation of one row to `out`.
pub fn row(x: &RowExplanation, out: &mut String) {
    header(x, out);
    body(x, out);
}

/// The explanation without its first line (where the row is and where it
/// went).
pub fn body(x: &RowExplanation, out: &mut String) {
    if let Some(r) = &x.reasons {
        let _ = writeln!(out, "reasons: {r}");
    }
    if let Some(r) = &x.reject {
        if let Some(raw) = &r.raw {
            let _ = writeln!(out, "raw: {raw}");
            let _ = writeln!(
                out,
                "the record cannot be read as the header's columns: no rule was evaluated"
            );
            return;
        }
    }
    if !x.fields.is_empty() {
        fields(x, out);
    }
    if let Some(u) = &x.usable {
        out.push_str("usable:\n");
        condition(u, 1, out);
    }
    if x.reject.is_some() {
        out.push_str("rules: not evaluated: a row that is not usable is rejected first\n");
        return;
    }
    let fired = x.rules.iter().filter(|r| r.fired).count();
    let _ = writeln!(out, "rules ({fired} of {} fired):", x.rules.len());
    for r in &x.rules {
        let mark = if r.fired { "✓" } else { "✗" };
        let _ = writeln!(out, "  {mark} {}", r.label);
        condition(&r.condition, 3, out);
    }
    totals(x, out);
    stages(x, out);
}

fn header(x: &RowExplanation, out: &mut String) {
    let _ = write!(out, "{} row {} (line {}): ", x.file, x.row, x.line);
    match (&x.reject, &x.disqualified_by) {
        (Some(r), _) => {
            let _ = writeln!(out, "rejected ({}): {}", r.kind, r.reason);
        }
        (None, Some(d)) => {
            let _ = writeln!(out, "disqualified by rule `{}`: {}", d.rule, d.reason);
        }
        (None, None) => {
            let _ = writeln!(out, "{}", x.stage);
        }
    }
}

fn fields(x: &RowExplanation, out: &mut String) {
    out.push_str("fields the rules read:\n");
    let width = x.fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
    for f in &x.fields {
        let value = show_value(&serde_json::Value::String(f.value.clone()));
        let from = match (f.columns.as_slice(), f.name_part) {
            ([], _) => "no column".to_string(),
            ([c], Some(part)) => format!("{part} name in `{c}`"),
            ([c], None) => format!("column `{c}`"),
            (cs, _) => format!("first non-empty of `{}`", cs.join("`, `")),
        };
        let _ = writeln!(out, "  {:<width$}  {value}  ({from})", f.field);
    }
}

fn totals(x: &RowExplanation, out: &mut String) {
    if x.groups.is_empty() {
        return;
    }
    out.push_str("totals (before caps -> after caps):\n");
    let width = x.groups.iter().map(|g| g.name.len()).max().unwrap_or(0);
    for g in &x.groups {
        let mut limits = Vec::new();
        match g.before_caps.cmp(&g.after_caps) {
            std::cmp::Ordering::Greater => limits.push("capped".to_string()),
            std::cmp::Ordering::Less => limits.push("floored".to_string()),
            std::cmp::Ordering::Equal => {}
        }
        if let Some(c) = g.cap {
            limits.push(format!("cap {c}"));
        }
        if let Some(f) = g.floor {
            limits.push(format!("floor {f}"));
        }
        let limits = if limits.is_empty() {
            String::new()
        } else {
            format!("   ({})", limits.join(", "))
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {:>5} -> {}{limits}",
            g.name, g.before_caps, g.after_caps
        );
    }
    let marks = if x.marks.is_empty() {
        "none".to_string()
    } else {
        x.marks.join(", ")
    };
    let _ = writeln!(out, "marks: {} ({marks})", x.bant);
}

fn stages(x: &RowExplanation, out: &mut String) {
    if x.disqualified_by.is_some() {
        out.push_str("stages: not checked: a disqualified row takes no stage\n");
        return;
    }
    out.push_str("stages (checked from the top; lead is the fallback):\n");
    let mut reached = false;
    for s in &x.stages {
        match (&s.condition, s.checked) {
            (None, _) => {
                let _ = writeln!(out, "  · {}: no condition: never reached", s.stage);
            }
            (Some(c), true) => {
                let mark = if s.held == Some(true) { "✓" } else { "✗" };
                let _ = writeln!(out, "  {mark} {}:", s.stage);
                condition(c, 3, out);
                reached |= s.held == Some(true);
            }
            (Some(c), false) => {
                let _ = writeln!(
                    out,
                    "  · {}: {}   (not checked: a stage above holds)",
                    s.stage, c.text
                );
            }
        }
    }
    let mark = if reached { "·" } else { "✓" };
    let _ = writeln!(out, "  {mark} lead: otherwise");
}

/// A condition tree, one line per part.
pub fn condition(c: &Condition, depth: usize, out: &mut String) {
    let mark = match c.held {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "·",
    };
    let _ = write!(out, "{:indent$}{mark} {}", "", c.text, indent = depth * 2);
    if c.held.is_none() {
        out.push_str("   (not checked)");
    } else if !c.values.is_empty() {
        out.push_str("   ← ");
        for (i, v) in c.values.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let value = match (&v.value, v.name.as_str()) {
                (serde_json::Value::String(m), "marks") => m.clone(),
                (other, _) => show_value(other),
            };
            let _ = write!(out, "{}: {value}", v.name);
        }
    }
    out.push('\n');
    if c.held.is_some() {
        for p in &c.parts {
            condition(p, depth + 1, out);
        }
    }
}
