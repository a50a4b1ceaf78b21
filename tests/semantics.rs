//! Rule semantics as data: every `tests/cases/*.toml` holds a rules text and
//! cases (a row of header -> value, the expected stage, and optionally the
//! rules that fire and the points per group). One failure names the file and
//! the case.

use std::collections::BTreeMap;

use leadsift::input;
use leadsift::rules::{compile, Origin, RowView, Scratch, Verdict};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    rules: String,
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    row: BTreeMap<String, String>,
    stage: String,
    fired: Option<Vec<String>>,
    points: Option<BTreeMap<String, i64>>,
    bant: Option<String>,
}

#[test]
fn rule_semantics_cases() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let cf: CaseFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let rules = compile(Origin::Builtin, &cf.rules)
            .unwrap_or_else(|d| panic!("{}: rules do not compile:\n{d}", path.display()));
        for case in &cf.cases {
            let headers: Vec<String> = case.row.keys().cloned().collect();
            let mut record = input::Record::default();
            for v in case.row.values() {
                record.push_field(v.as_bytes());
            }
            let binding = input::bind(&headers, &rules);
            let memo = leadsift::rules::derive::Memo::new(rules.derived.len());
            let view = RowView::new(&record, &binding, &[], &rules.placeholders, &memo).unwrap();
            let mut v = Verdict::new(rules.groups.len());
            rules.evaluate(&view, &mut Scratch::default(), &mut v);
            let mut problems = Vec::new();
            if v.stage().name() != case.stage {
                problems.push(format!(
                    "stage {} (expected {})",
                    v.stage().name(),
                    case.stage
                ));
            }
            let fired: Vec<String> = v.fired.iter().map(|&i| rules.rules[i].id.clone()).collect();
            if let Some(want) = &case.fired {
                if &fired != want {
                    problems.push(format!("fired {fired:?} (expected {want:?})"));
                }
            }
            if let Some(points) = &case.points {
                for (g, want) in points {
                    let i = rules
                        .groups
                        .iter()
                        .position(|x| &x.name == g)
                        .unwrap_or_else(|| panic!("no group {g}"));
                    if v.totals[i] != *want {
                        problems.push(format!("{g} {} (expected {want})", v.totals[i]));
                    }
                }
            }
            if let Some(want) = &case.bant {
                let got: String = ['B', 'A', 'N', 'T']
                    .iter()
                    .enumerate()
                    .map(|(i, c)| if v.marks & (1 << i) != 0 { *c } else { '-' })
                    .collect();
                if &got != want {
                    problems.push(format!("bant {got} (expected {want})"));
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{} / {}: {} (fired {fired:?})",
                    path.file_name().unwrap().to_string_lossy(),
                    case.name,
                    problems.join("; ")
                ));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 30, "only {checked} cases found");
}
