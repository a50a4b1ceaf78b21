//! `leadsift test`: runs the `[[example]]`s of a rules file through the
//! run's own row code and reports each failure with what was expected,
//! what came out, and the explanation of the row.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::cli::TestArgs;
use crate::error::{Error, EXIT_OK, EXIT_RUNTIME};
use crate::explain::{self, mark_names, Origin, RowExplanation};
use crate::input::{self, FileInfo, Record};
use crate::row::{Decided, RunCtx};
use crate::rules::example::Example;
use crate::rules::{self, Compiled, Outcome, Stage};

pub fn execute(args: TestArgs) -> Result<u8, Error> {
    let mut rules = rules::load(args.rules.as_deref())?;
    if !rules.warnings.items.is_empty() {
        eprintln!("{}", rules.warnings);
    }
    super::explain::set_dates(&mut rules, &args.dates)?;
    let origin = rules.origin.display();
    let mut out = String::new();
    let n = rules.examples.len();
    if n == 0 {
        let _ = writeln!(
            out,
            "{origin}: no examples ([[example]] tables); nothing to test"
        );
        return print(&out).map(|_| EXIT_OK);
    }
    let run = RunCtx::new(&rules, false, false, false);
    let mut failed = 0;
    for ex in &rules.examples {
        let (decided, x) = run_example(&rules, &run, ex);
        let problems = check(&rules, ex, &decided);
        if problems.is_empty() {
            let _ = writeln!(out, "ok      {}", ex.name);
            continue;
        }
        failed += 1;
        let _ = writeln!(out, "FAILED  {} ({origin}:{})", ex.name, ex.line);
        for p in &problems {
            let _ = writeln!(out, "    {p}");
        }
        let mut body = String::new();
        explain::text::body(&x, &mut body);
        for line in body.lines() {
            let _ = writeln!(out, "    | {line}");
        }
    }
    let _ = writeln!(
        out,
        "{origin}: {n} example(s), {} passed, {failed} failed",
        n - failed
    );
    print(&out)?;
    Ok(if failed > 0 { EXIT_RUNTIME } else { EXIT_OK })
}

fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Output("<stdout>".into(), e.to_string()))
        }
        _ => Ok(()),
    }
}

/// Runs an example's row as a one-row input whose headers are the
/// example's keys.
pub fn run_example(rules: &Compiled, run: &RunCtx, ex: &Example) -> (Decided, RowExplanation) {
    let headers: Vec<String> = ex.row.iter().map(|(h, _)| h.clone()).collect();
    let binding = input::bind(&headers, rules);
    let name = format!("example `{}`", ex.name);
    let file = explain::file_ctx(&name, &headers, &binding, &FileInfo::default());
    let mut rec = Record::default();
    for (_, v) in &ex.row {
        rec.push_field(v.as_bytes());
    }
    rec.line = ex.line as u64;
    let decided = explain::decide(run, &file, &mut rec, 1);
    let at = Origin {
        file: &name,
        line: rec.line,
        row: 1,
        headers: &headers,
        binding: &binding,
    };
    let x = explain::explain(rules, &decided, &at);
    (decided, x)
}

/// What differs from what the example expects; empty when it passes.
pub fn check(rules: &Compiled, ex: &Example, d: &Decided) -> Vec<String> {
    let mut problems = Vec::new();
    let outcome = d.verdict.as_ref().map(|v| v.outcome);
    let stage = match (&d.reject, outcome) {
        (None, Some(o)) => match o {
            Outcome::Unusable => Stage::Rejected,
            Outcome::Disqualified(_) => Stage::Disqualified,
            Outcome::Staged(s) => s,
        },
        _ => Stage::Rejected,
    };
    let why = match (&d.reject, outcome) {
        (Some((kind, reason, _)), _) => format!(" ({}: {reason})", kind.name()),
        (None, Some(Outcome::Disqualified(i))) => format!(" by rule `{}`", rules.rules[i].id),
        _ => String::new(),
    };
    if stage != ex.stage {
        problems.push(format!(
            "stage: expected {}, got {}{why}",
            ex.stage.name(),
            stage.name()
        ));
    }
    if let Some(want) = ex.disqualify {
        let r = &rules.rules[want];
        let reason = r.disqualify.as_deref().unwrap_or_default();
        match outcome {
            Some(Outcome::Disqualified(got)) if got == want => {}
            Some(Outcome::Disqualified(got)) => problems.push(format!(
                "disqualify: expected \"{reason}\" (rule `{}`), got \"{}\" (rule `{}`)",
                r.id,
                rules.rules[got].disqualify.as_deref().unwrap_or_default(),
                rules.rules[got].id
            )),
            _ => problems.push(format!(
                "disqualify: expected \"{reason}\" (rule `{}`), got no disqualification",
                r.id
            )),
        }
    }
    let v = d.verdict.as_ref();
    for &(g, want) in &ex.points {
        let got = v.map_or(0, |v| v.totals[g]);
        if got != want {
            let before = v.map_or(0, |v| v.raw_totals[g]);
            let before = if before != got {
                format!(" ({before} before caps)")
            } else {
                String::new()
            };
            problems.push(format!(
                "points {}: expected {want}, got {got}{before}",
                rules.groups[g].name
            ));
        }
    }
    if let Some(want) = ex.marks {
        let got = v.map_or(0, |v| v.marks);
        if got != want {
            let names = |b| {
                let n = mark_names(b);
                if n.is_empty() {
                    "none".to_string()
                } else {
                    n.join(", ")
                }
            };
            problems.push(format!(
                "marks: expected {}, got {}",
                names(want),
                names(got)
            ));
        }
    }
    if let Some(want) = &ex.fired {
        let got: Vec<usize> = v.map_or_else(Vec::new, |v| v.fired.clone());
        if *want != got {
            let ids = |list: Vec<usize>| -> String {
                let ids: Vec<&str> = list.iter().map(|&i| rules.rules[i].id.as_str()).collect();
                if ids.is_empty() {
                    "none".into()
                } else {
                    ids.join(", ")
                }
            };
            let missing = want.iter().filter(|i| !got.contains(i)).copied().collect();
            let extra = got.iter().filter(|i| !want.contains(i)).copied().collect();
            problems.push(format!(
                "fired: expected {}, got {} (missing: {}; not expected: {})",
                ids(want.clone()),
                ids(got.clone()),
                ids(missing),
                ids(extra)
            ));
        }
    }
    problems
}
