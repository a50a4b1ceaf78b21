//! leadsift with `benches/reference.toml` against the reference semantics
//! of the peer benchmark (../shared/bench/RULES.md), row by row: the stage
//! of every row, and fit, engagement and score (= fit + engagement + bant)
//! of every row that reaches a stage.
//!
//! Self-contained, so that CI needs nothing beside the repository: the
//! rows come from a seeded generator after `gen_leads.py`
//! (`reference/gen.rs`), the expected values from a port of the reference
//! peer `stdlib_run.py` (`reference/oracle.rs`). Where the benchmark's
//! own folder and python3 are present, an ignored test also runs the real
//! generator, reference and checker on 20,000 rows.

mod common;
#[path = "reference/gen.rs"]
mod gen;
#[path = "reference/many.rs"]
mod many;
#[path = "reference/oracle.rs"]
mod oracle;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use common::{assert_accounted, run, write, Run};
use oracle::{Expect, Oracle};

const ROWS: usize = 5000;
const SEED: u64 = 20_250_815;
const RULES: &str = "benches/reference.toml";

/// leadsift's files and the reference stage each one stands for
/// (duplicates and disqualified rows are the reference's `rejected`).
const FILES: [(&str, &str); 6] = [
    ("leads.csv", "lead"),
    ("prospects.csv", "prospect"),
    ("opportunities.csv", "opportunity"),
    ("disqualified.csv", "rejected"),
    ("rejected.csv", "rejected"),
    ("duplicates.csv", "rejected"),
];

/// What leadsift wrote for one input row.
#[derive(Debug)]
struct Got {
    file: &'static str,
    stage: &'static str,
    /// fit, engagement and score, in stage files only.
    points: Option<(i64, i64, i64)>,
    cells: Vec<String>,
}

/// A cell as read, without the apostrophe that guards a formula-like
/// value (as `verify_leadsift.py` reads it).
fn unguard(cell: &str) -> &str {
    let rest = cell.trim_start_matches(['\'', ' ']);
    let guarded = cell.len() > 1
        && cell.starts_with('\'')
        && rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']);
    if guarded {
        &cell[1..]
    } else {
        cell
    }
}

fn number(row: &BTreeMap<String, String>, col: &str, file: &str) -> i64 {
    let v = row
        .get(col)
        .unwrap_or_else(|| panic!("{file} has no column {col}"));
    v.parse()
        .unwrap_or_else(|_| panic!("{file}: {col} = {v:?} is not an integer"))
}

/// Every output row by its input row number (`leadsift_row`, from 1).
fn outputs(r: &Run) -> BTreeMap<usize, Got> {
    let mut by_row = BTreeMap::new();
    for (file, stage) in FILES {
        for row in r.rows(file) {
            let n: usize = row["leadsift_row"].parse().expect("leadsift_row");
            let points = (stage != "rejected").then(|| {
                let fit = number(&row, "leadsift_fit", file);
                let eng = number(&row, "leadsift_engagement", file);
                let bant = number(&row, "leadsift_bant_points", file);
                (fit, eng, fit + eng + bant)
            });
            let cells = gen::COLUMNS
                .iter()
                .map(|c| unguard(&row[*c]).to_string())
                .collect();
            let got = Got {
                file,
                stage,
                points,
                cells,
            };
            if let Some(before) = by_row.insert(n, got) {
                panic!("row {n} written twice: in {} and {file}", before.file);
            }
        }
    }
    by_row
}

/// A difference between the reference and leadsift on one row, or `None`.
fn compare(want: &Expect, got: &Got, input: &[String]) -> Option<String> {
    if got.cells != input {
        return Some(format!(
            "input cells differ:\n    input    {input:?}\n    leadsift {:?}",
            got.cells
        ));
    }
    let points = (want.fit, want.engagement, want.score);
    let same = want.stage == got.stage && (got.stage == "rejected" || got.points == Some(points));
    (!same).then(|| {
        format!(
            "reference {} (fit {}, engagement {}, score {}); leadsift {} in {} {}",
            want.stage,
            want.fit,
            want.engagement,
            want.score,
            got.stage,
            got.file,
            got.points.map_or(String::new(), |(f, e, s)| format!(
                "(fit {f}, engagement {e}, score {s})"
            )),
        )
    })
}

#[test]
fn agrees_with_the_reference_row_by_row() {
    let rows = gen::rows(ROWS, SEED);
    let mut oracle = Oracle::new();
    let want: Vec<Expect> = rows.iter().map(|r| oracle.row(r)).collect();

    let t = tempfile::tempdir().expect("tempdir");
    let input = write(t.path(), "leads.csv", &gen::to_csv(&rows));
    let r = run(&t.path().join("out"), &["-q", "-r", RULES, &input]);
    assert_eq!(r.code(), 0, "leadsift failed:\n{}", r.stderr());
    assert_accounted(&r, ROWS as u64);

    let got = outputs(&r);
    let missing: Vec<usize> = (1..=ROWS).filter(|n| !got.contains_key(n)).collect();
    assert!(missing.is_empty(), "rows never written: {missing:?}");
    assert_eq!(got.len(), ROWS, "rows written beyond the input's");

    let mut report = String::new();
    let mut differ = 0;
    for (i, (w, row)) in want.iter().zip(&rows).enumerate() {
        if let Some(d) = compare(w, &got[&(i + 1)], row) {
            differ += 1;
            if differ <= 10 {
                let _ = writeln!(report, "row {} (line {}): {d}\n    {row:?}", i + 1, i + 2);
            }
        }
    }
    assert!(
        differ == 0,
        "{differ} of {ROWS} rows differ from the reference; the first:\n{report}"
    );

    // Every stage is reached, so that the comparison covers each of them.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for w in &want {
        *counts.entry(w.stage).or_default() += 1;
    }
    let duplicates = r.rows("duplicates.csv").len();
    for stage in ["lead", "prospect", "opportunity", "rejected"] {
        assert!(
            counts.get(stage).copied().unwrap_or(0) >= 20,
            "too few {stage} rows for a meaningful comparison: {counts:?}"
        );
    }
    assert!(duplicates >= 50, "too few duplicates: {duplicates}");
}

/// The generator is deterministic and carries the benchmark's mess.
/// The run's evaluation (the evaluation plan and the flat program: shared
/// numbers, regex sets, word searches, list groups, jumps) gives every row
/// of generated leads the verdict of the traced evaluation behind
/// `explain`, which reads every condition as written, on the 250 rules of
/// the rules benchmark (nine kinds of condition on top of the reference).
#[test]
fn the_run_evaluates_250_rules_as_written() {
    use leadsift::input::{bind, Record};
    use leadsift::rules::derive::Memo;
    use leadsift::rules::trace::Trace;
    use leadsift::rules::{compile, Compiled, Origin, RowView, Scratch, Verdict};

    let all: Vec<usize> = (0..many::EXTRA).collect();
    let mut rules = compile(Origin::Builtin, &many::rules_text(&all))
        .unwrap_or_else(|d| panic!("the 250 rules compile:\n{d}"));
    rules.as_of = jiff::civil::date(2025, 8, 15);
    let headers: Vec<String> = gen::COLUMNS.iter().map(|c| c.to_string()).collect();
    let binding = bind(&headers, &rules);
    let names = vec![String::new(); rules.slots.len()];
    let groups = rules.groups.len();
    // One memo for every row, as a worker keeps it.
    let mut memo = Memo::for_rules(&rules);
    let (mut scratch, mut trace) = (Scratch::default(), Trace::default());
    let mut fired = vec![0u32; rules.rules.len()];
    let rows = gen::rows(2000, SEED);
    let records: Vec<Record> = rows
        .iter()
        .map(|row| {
            let mut rec = Record::default();
            row.iter().for_each(|f| rec.push_field(f.as_bytes()));
            rec
        })
        .collect();
    // And rows evaluated together, each with its own memo, as a run's
    // workers do (the last group is not full).
    let mut memos: Vec<Memo> = (0..Compiled::LANES)
        .map(|_| Memo::for_rules(&rules))
        .collect();
    let mut lanes = Vec::new();
    for recs in records.chunks(Compiled::LANES) {
        memos.iter_mut().for_each(Memo::reset);
        let views: Vec<RowView> = recs
            .iter()
            .zip(&memos)
            .map(|(rec, memo)| {
                RowView::new(rec, &binding, &names, &rules.placeholders, memo).unwrap()
            })
            .collect();
        let mut out = vec![Verdict::new(groups); recs.len()];
        rules.evaluate_many(&views, &mut scratch, &mut out);
        lanes.extend(out);
    }
    for (i, (row, rec)) in rows.iter().zip(&records).enumerate() {
        memo.reset();
        let view = RowView::new(rec, &binding, &names, &rules.placeholders, &memo).unwrap();
        let mut run = Verdict::new(groups);
        rules.evaluate(&view, &mut scratch, &mut run);
        let plain = Memo::new(rules.derived.len());
        let view = RowView::new(rec, &binding, &names, &rules.placeholders, &plain).unwrap();
        let mut traced = Verdict::new(groups);
        rules.evaluate_traced(&view, &mut scratch, &mut traced, &mut trace);
        assert_eq!(
            format!("{run:?}"),
            format!("{traced:?}"),
            "row {i}: {row:?}"
        );
        assert_eq!(
            format!("{:?}", lanes[i]),
            format!("{traced:?}"),
            "row {i} evaluated with others: {row:?}"
        );
        run.fired.iter().for_each(|&r| fired[r] += 1);
    }
    // Nearly every rule fires on some row, so the comparison covers them.
    let live = fired.iter().filter(|&&n| n > 0).count();
    assert!(
        live * 10 >= fired.len() * 8,
        "{live} of {} rules fired",
        fired.len()
    );
}

#[test]
fn generated_rows_are_messy_and_repeatable() {
    let rows = gen::rows(ROWS, SEED);
    assert_eq!(rows, gen::rows(ROWS, SEED), "same seed, same rows");
    assert_ne!(rows, gen::rows(ROWS, SEED + 1), "another seed, other rows");
    let any = |col: usize, f: &dyn Fn(&str) -> bool| rows.iter().any(|r| f(&r[col]));
    assert!(any(2, &|e| e.starts_with(' ')), "padded emails");
    assert!(any(2, &|e| e.contains(" at ")), "invalid emails");
    assert!(any(2, &|e| e.ends_with("@MAILINATOR.COM")
        || e.contains("@mailinator.com")));
    assert!(any(6, &|s| s == "10,000+") && any(6, &|s| s == "approx 40"));
    for b in [
        "TBD",
        "€15.000",
        "10-20k",
        "$ 25,000",
        "25k",
        "25000.00",
        "$25,000",
    ] {
        assert!(any(10, &|x| x == b), "budget {b}");
    }
    assert!(any(15, &|d| d.contains('/')), "US dates");
    assert!(any(13, &|v| v == "3.5") && any(13, &|v| v == "many"));
    assert!(any(16, &|n| n.contains('\n')) && any(16, &|n| n.contains('"')));
    assert!(any(0, &|n| !n.is_ascii()) && any(1, &|n| !n.is_ascii()));
}

/// `../shared/bench` beside the repository, or `BENCH_DIR`.
fn bench_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("../shared/bench"));
    dir.join("gen_leads.py").is_file().then_some(dir)
}

fn python(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new("python3")
        .args(args)
        .output()
        .expect("python3 runs")
}

/// The real generator, reference peer and checker of the benchmark, on
/// 20,000 rows: `cargo test --test reference -- --ignored`.
#[test]
#[ignore = "needs ../shared/bench (or BENCH_DIR) and python3"]
fn agrees_with_the_real_reference_peer() {
    let Some(bench) = bench_dir() else {
        eprintln!("skipped: no ../shared/bench/gen_leads.py (set BENCH_DIR)");
        return;
    };
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: no python3");
        return;
    }
    let t = tempfile::tempdir().expect("tempdir");
    let (csv, refd, ours) = (
        t.path().join("leads.csv"),
        t.path().join("ref"),
        t.path().join("ours"),
    );
    let step = |what: &str, o: std::process::Output| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{what} failed:\n{text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        text
    };
    step(
        "gen_leads.py",
        python(&[
            bench.join("gen_leads.py").as_os_str(),
            "20000".as_ref(),
            csv.as_os_str(),
        ]),
    );
    step(
        "stdlib_run.py",
        python(&[
            bench.join("peers/stdlib_run.py").as_os_str(),
            csv.as_os_str(),
            refd.as_os_str(),
        ]),
    );
    let r = run(&ours, &["-q", "-r", RULES, csv.to_str().expect("utf-8")]);
    assert_eq!(r.code(), 0, "leadsift failed:\n{}", r.stderr());
    assert_accounted(&r, 20_000);
    let report = step(
        "verify_leadsift.py",
        python(&[
            bench.join("verify_leadsift.py").as_os_str(),
            refd.as_os_str(),
            ours.as_os_str(),
        ]),
    );
    eprintln!("{report}");
}
