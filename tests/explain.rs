//! `explain`, `test`, `init` and the static checks of `check`, on the real
//! binary: explanations of rows that take every branch, their agreement
//! with what `run` writes, examples passing and failing, starter files, and
//! each warning.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;
use tempfile::tempdir;

fn ok(args: &[&str]) -> (String, String) {
    let out = leadsift(args, None);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(out.status.code(), Some(0), "{args:?}\n{stdout}\n{stderr}");
    (stdout, stderr)
}

fn status(args: &[&str]) -> (i32, String, String) {
    let out = leadsift(args, None);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let mut all = vec!["explain", "--json"];
    all.extend_from_slice(args);
    let (stdout, _) = ok(&all);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn assert_has(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
}

/// Every signal of the default rules at once: engagement and intent over
/// their caps.
const CAPPED: &str = "Email,Job Title,Company,Company Size,Industry,Country,Lead Source,Visits,Demo Requested,Notes\nben@summitworks.com,Sales Director,Summit Works,220,Software,Canada,Trade Show,12,yes,Asked for pricing and a demo meeting\n";

#[test]
fn explain_shows_each_stage_with_rules_values_totals_and_stages() {
    let (text, _) = ok(&[
        "explain",
        "samples/webform.csv",
        "--row",
        "1",
        "--row",
        "9",
        "--row",
        "5",
    ]);
    assert_has(
        &text,
        &[
            "shown: the rules' verdict on each row on its own: duplicates, --exclude lists and --state are decided by `leadsift run`",
            // opportunity
            "samples/webform.csv row 1 (line 2): opportunity",
            "reasons: decision-maker +25 fit [authority]; company-50-plus +15 fit;",
            "  title           \"VP Sales\"  (column `Job Title`)",
            "  ✓ decision-maker +25 fit [authority]\n      ✓ seniority(title) in leaders   ← title: \"VP Sales\", seniority(title): \"vp\"",
            "      ✓ company_size >= 50   ← company_size: \"51-200\", number(company_size): 51",
            "  ✗ manager +10 fit\n      ✗ seniority(title) = \"manager\" and not title matches",
            "        · not title matches \"(?i)\\b(assistant|junior|jr)\\b\"   (not checked)",
            "  ✓ business-email +10 fit\n      ✓ business_email\n        ✓ email_ok and not free_mail(email) and not disposable_email(email)",
            "  fit            75 -> 75   (cap 100)",
            "marks: BANT (budget, authority, need, timeline)",
            "  ✓ opportunity:\n      ✓ fit >= 40 and (marked(budget, authority, need, timeline) or intent >= 20)\n        ✓ fit >= 40   ← fit: 75",
            "  · prospect: fit >= 40 and engagement >= 10   (not checked: a stage above holds)",
            // prospect
            "samples/webform.csv row 9 (line 10): prospect",
            "  ✗ opportunity:",
            "  ✓ prospect:\n      ✓ fit >= 40 and engagement >= 10",
            // lead
            "samples/webform.csv row 5 (line 6): lead",
            "  ✗ prospect:\n      ✗ fit >= 40 and engagement >= 10\n        ✗ fit >= 40   ← fit: 35\n        · engagement >= 10   (not checked)",
            "  ✓ lead: otherwise",
        ],
    );
    // Rows come in file order, whatever the order of --row.
    let (a, b) = (text.find("row 1 (").unwrap(), text.find("row 5 (").unwrap());
    assert!(a < b && b < text.find("row 9 (").unwrap());
}

#[test]
fn explain_shows_why_a_row_is_disqualified_or_rejected() {
    let (text, _) = ok(&["explain", "samples/webform.csv", "--row", "6", "--row", "4"]);
    assert_has(
        &text,
        &[
            "samples/webform.csv row 6 (line 7): disqualified by rule `competitor`: works for a competitor",
            "  ✓ competitor disqualify: works for a competitor\n      ✓ email_domain in competitors   ← email: \"mei.chen@qualifyhq.com\", email_domain: \"qualifyhq.com\"",
            "stages: not checked: a disqualified row takes no stage",
            "samples/webform.csv row 4 (line 5): rejected (unusable): no contact information: no valid email and no phone",
            "usable:\n  ✗ email_ok or phone_ok\n    ✗ email_ok\n      ✗ valid_email(email)   ← email: (empty)",
            "        ✗ digits(phone) >= 7   ← phone: (empty), digits(phone): 0",
            "rules: not evaluated: a row that is not usable is rejected first",
        ],
    );
    // A record that cannot be read as fields.
    let (text, _) = ok(&["explain", "samples/crm-export.csv", "--row", "9"]);
    assert_has(
        &text,
        &[
            "samples/crm-export.csv row 9 (line 10): rejected (too-many-fields): 16 fields where the header has 15",
            "raw: 00Q5f00001AaaA9,Liam,Wright,VP Engineering,",
            "no rule was evaluated",
        ],
    );
    // The same record kept with --long-rows keep, as run would.
    let (text, _) = ok(&[
        "explain",
        "samples/crm-export.csv",
        "--row",
        "9",
        "--long-rows",
        "keep",
    ]);
    assert_has(
        &text,
        &[
            "samples/crm-export.csv row 9 (line 10): lead",
            "kept 1 extra field(s) in the extra column",
        ],
    );
}

#[test]
fn explain_shows_totals_before_and_after_caps() {
    let t = tempdir().unwrap();
    let input = write(t.path(), "capped.csv", CAPPED.as_bytes());
    let (text, _) = ok(&["explain", &input, "--row", "1"]);
    assert_has(
        &text,
        &[
            "; engagement capped at 60 (was 70); intent capped at 40 (was 50)",
            "  engagement     70 -> 60   (capped, cap 60, floor 0)",
            "  intent         50 -> 40   (capped, cap 40)",
        ],
    );
    let doc = json(&[&input, "--row", "1"]);
    let groups = &doc["rows"][0]["groups"];
    assert_eq!(
        groups[1],
        serde_json::json!({"name": "engagement", "before_caps": 70, "after_caps": 60, "cap": 60, "floor": 0})
    );
    assert_eq!(
        groups[2],
        serde_json::json!({"name": "intent", "before_caps": 50, "after_caps": 40, "cap": 40, "floor": null})
    );
}

#[test]
fn explain_json_field_by_field() {
    let doc = json(&["samples/webform.csv", "--row", "1", "--row", "4"]);
    assert_eq!(doc["schema"], "leadsift.explain/1");
    assert_eq!(doc["rules"]["path"], "<built-in rules/default.toml>");
    assert_eq!(doc["rules"]["name"], "B2B default");
    assert!(doc["scope"].as_str().unwrap().contains("--exclude"));
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    assert_eq!(r["file"], "samples/webform.csv");
    assert_eq!((r["line"].as_u64(), r["row"].as_u64()), (Some(2), Some(1)));
    assert_eq!(r["stage"], "opportunity");
    assert!(r["reasons"]
        .as_str()
        .unwrap()
        .starts_with("decision-maker +25 fit [authority]"));
    assert_eq!(r["reject"], Value::Null);
    assert_eq!(r["disqualified_by"], Value::Null);
    assert_eq!(
        r["fields"][0],
        serde_json::json!({"field": "email", "columns": ["Email Address"], "name_part": null, "value": "ana.lima@northwind-software.com"})
    );
    assert_eq!(r["usable"]["text"], "email_ok or phone_ok");
    assert_eq!(r["usable"]["held"], true);
    assert_eq!(r["usable"]["parts"][1]["held"], Value::Null, "not checked");
    let rules = r["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 23);
    let dm = rules.iter().find(|x| x["id"] == "decision-maker").unwrap();
    assert_eq!(
        *dm,
        serde_json::json!({
            "id": "decision-maker",
            "label": "decision-maker +25 fit [authority]",
            "when": "seniority(title) in leaders",
            "fired": true,
            "points": {"fit": 25},
            "decay": null,
            "marks": ["authority"],
            "disqualify": null,
            "condition": {
                "text": "seniority(title) in leaders",
                "held": true,
                "values": [
                    {"name": "title", "value": "VP Sales"},
                    {"name": "seniority(title)", "value": "vp"}
                ],
                "parts": []
            }
        })
    );
    let comp = rules.iter().find(|x| x["id"] == "competitor").unwrap();
    assert_eq!(comp["fired"], false);
    assert_eq!(comp["disqualify"], "works for a competitor");
    let budget = rules.iter().find(|x| x["id"] == "budget-10k").unwrap();
    assert_eq!(
        budget["condition"]["values"],
        serde_json::json!([{"name": "budget", "value": "$25,000"}, {"name": "number(budget)", "value": 25000}])
    );
    let email = rules.iter().find(|x| x["id"] == "free-mail").unwrap();
    assert_eq!(
        email["condition"]["parts"][1]["values"][2],
        serde_json::json!({"name": "free_mail(email)", "value": false})
    );
    assert_eq!(r["groups"][0]["name"], "fit");
    assert_eq!(
        r["marks"],
        serde_json::json!(["budget", "authority", "need", "timeline"])
    );
    assert_eq!(r["bant"], "BANT");
    let stages = r["stages"].as_array().unwrap();
    assert_eq!(stages[0]["stage"], "opportunity");
    assert_eq!(stages[0]["checked"], true);
    assert_eq!(stages[0]["held"], true);
    assert_eq!(
        stages[0]["condition"]["parts"][1]["parts"][0]["values"],
        serde_json::json!([{"name": "marks", "value": "BANT"}])
    );
    assert_eq!(stages[1]["stage"], "prospect");
    assert_eq!(stages[1]["when"], "fit >= 40 and engagement >= 10");
    assert_eq!(stages[1]["checked"], false);
    assert_eq!(stages[1]["held"], Value::Null);

    let rejected = &rows[1];
    assert_eq!(rejected["stage"], "rejected");
    assert_eq!(rejected["reasons"], Value::Null);
    assert_eq!(
        rejected["reject"],
        serde_json::json!({"kind": "unusable", "reason": "no contact information: no valid email and no phone", "raw": null})
    );
    assert_eq!(rejected["usable"]["held"], false);
    assert_eq!(rejected["rules"], serde_json::json!([]));
    assert_eq!(rejected["stages"], serde_json::json!([]));
}

/// Every row of a run's stage files, explained: the same stage and the same
/// reasons (or reject kind and reason), row by row.
fn assert_explain_agrees_with_run(rules: &str, input: &str, extra: &[&str]) {
    let t = tempdir().unwrap();
    let mut args = vec!["-r", rules];
    args.extend_from_slice(extra);
    args.push(input);
    let r = run(t.path(), &args);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let mut want: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for f in &STAGE_FILES[..5] {
        for row in r.rows(f) {
            let n: u64 = row["leadsift_row"].parse().unwrap();
            let why = match row.get("leadsift_reasons") {
                Some(reasons) => reasons.clone(),
                None => format!(
                    "{}: {}",
                    row["leadsift_reject_kind"], row["leadsift_reject_reason"]
                ),
            };
            want.insert(n, (row["leadsift_stage"].clone(), why));
        }
    }
    assert!(!want.is_empty());
    let mut ex = vec!["-r", rules];
    ex.extend_from_slice(extra);
    ex.push(input);
    let numbers: Vec<String> = want.keys().map(|n| n.to_string()).collect();
    for n in &numbers {
        ex.push("--row");
        ex.push(n);
    }
    let doc = json(&ex);
    let got: BTreeMap<u64, (String, String)> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let why = match &x["reject"] {
                Value::Null => x["reasons"].as_str().unwrap().to_string(),
                j => format!(
                    "{}: {}",
                    j["kind"].as_str().unwrap(),
                    j["reason"].as_str().unwrap()
                ),
            };
            (
                x["row"].as_u64().unwrap(),
                (x["stage"].as_str().unwrap().to_string(), why),
            )
        })
        .collect();
    assert_eq!(got, want, "{input} with {rules}");
}

#[test]
fn explain_agrees_with_the_reasons_column_of_run() {
    assert_explain_agrees_with_run("rules/default.toml", "samples/webform.csv", &[]);
    assert_explain_agrees_with_run("rules/default.toml", "samples/crm-export.csv", &[]);
    assert_explain_agrees_with_run(
        "rules/default.toml",
        "samples/crm-export.csv",
        &["--long-rows", "keep"],
    );
    // Windows-1252, `;` and decimal commas, a title line, a stray quote.
    assert_explain_agrees_with_run("rules/default.toml", "samples/messe-leads.csv", &[]);
    assert_explain_agrees_with_run("rules/trade-show.toml", "samples/badge-scans.csv", &[]);
}

#[test]
fn explain_match_selects_rows_by_field_or_header() {
    let doc = json(&[
        "samples/webform.csv",
        "--match",
        "email=MEI.CHEN@qualifyhq.com",
    ]);
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["row"], 6);
    let doc = json(&[
        "samples/webform.csv",
        "--match",
        "Demo Requested=YES",
        "--match",
        "country=united states",
    ]);
    let rows: Vec<u64> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [1, 8]);
    // An empty value finds rows where the field is empty.
    let doc = json(&["samples/webform.csv", "--match", "email="]);
    assert_eq!(doc["rows"][0]["row"], 4);

    let (code, _, err) = status(&[
        "explain",
        "samples/webform.csv",
        "--match",
        "email=nobody@x.io",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no row of samples/webform.csv has email=nobody@x.io"),
        "{err}"
    );
    let (code, _, err) = status(&["explain", "samples/webform.csv", "--match", "titel=VP"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`titel` is neither a field the rules read"),
        "{err}"
    );
    let (code, _, err) = status(&["explain", "samples/webform.csv", "--row", "99"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("samples/webform.csv has 12 data row(s); no row 99"),
        "{err}"
    );
    let (code, _, err) = status(&["explain", "samples/webform.csv"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = status(&[
        "explain",
        "samples/webform.csv",
        "--row",
        "1",
        "--match",
        "a=b",
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_shipped_rules_pass_their_examples() {
    for rules in ["rules/default.toml", "rules/trade-show.toml"] {
        let (out, _) = ok(&["test", "--rules", rules]);
        assert!(
            out.contains(" failed\n") && out.contains(", 0 failed"),
            "{out}"
        );
        assert!(!out.contains("FAILED"), "{out}");
    }
    let (out, _) = ok(&["test"]);
    assert!(
        out.contains("<built-in rules/default.toml>: 10 example(s), 10 passed, 0 failed"),
        "{out}"
    );
    let (out, _) = ok(&["check", "--rules", "rules/trade-show.toml"]);
    assert!(
        out.contains("examples: 5 (run them with `leadsift test`)"),
        "{out}"
    );
}

const SMALL: &str = r#"
[groups]
fit = { cap = 40 }

[[rule]]
id = "vp"
when = 'title contains "vp"'
fit = 30
marks = ["authority"]

[[rule]]
id = "big"
when = "company_size >= 100"
fit = 20

[[rule]]
id = "rival"
when = 'email ends with "@rival.io"'
disqualify = "works for a rival"

[stages]
prospect = "fit >= 40"
"#;

#[test]
fn test_reports_failures_with_expected_actual_and_the_explanation() {
    let t = tempdir().unwrap();
    let pass = format!(
        "{SMALL}{}",
        r#"
[[example]]
name = "big vp"
row = { email = "a@b.io", title = "VP Sales", company_size = 500 }
stage = "prospect"
points = { fit = 40 }
marks = ["authority"]
fired = ["vp", "big"]

[[example]]
name = "rival"
row = { email = "x@rival.io", title = "VP" }
disqualify = "works for a rival"
"#
    );
    let p = write(t.path(), "pass.toml", pass.as_bytes());
    let (out, _) = ok(&["test", "-r", &p]);
    assert!(out.contains("ok      big vp\nok      rival\n"), "{out}");
    assert!(
        out.ends_with("pass.toml: 2 example(s), 2 passed, 0 failed\n"),
        "{out}"
    );

    let fail = format!(
        "{SMALL}{}",
        r#"
[[example]]
name = "small vp"
row = { email = "a@b.io", title = "VP Sales", company_size = 10 }
stage = "prospect"
points = { fit = 40 }
marks = ["authority", "budget"]
fired = ["vp", "big"]

[[example]]
name = "not a rival"
row = { email = "x@b.io" }
disqualify = "rival"

[[example]]
name = "fine"
row = { phone = "555 0101" }
stage = "lead"
"#
    );
    let p = write(t.path(), "fail.toml", fail.as_bytes());
    let (code, out, err) = status(&["test", "-r", &p]);
    assert_eq!(code, 1, "{out}{err}");
    assert_has(
        &out,
        &[
            "FAILED  small vp (",
            "fail.toml:25)\n",
            "    stage: expected prospect, got lead\n",
            "    points fit: expected 40, got 30\n",
            "    marks: expected budget, authority, got authority\n",
            "    fired: expected vp, big, got vp (missing: big; not expected: none)\n",
            "    | reasons: vp +30 fit [authority]\n",
            "    |   ✗ big +20 fit\n    |       ✗ company_size >= 100   ← company_size: \"10\", number(company_size): 10\n",
            "FAILED  not a rival (",
            "    stage: expected disqualified, got lead\n",
            "    disqualify: expected \"works for a rival\" (rule `rival`), got no disqualification\n",
            "ok      fine\n",
            "fail.toml: 3 example(s), 1 passed, 2 failed\n",
        ],
    );

    let none = write(t.path(), "none.toml", SMALL.as_bytes());
    let (out, _) = ok(&["test", "-r", &none]);
    assert!(
        out.contains("none.toml: no examples ([[example]] tables); nothing to test"),
        "{out}"
    );

    let bad = format!(
        "{SMALL}\n[[example]]\nname = \"x\"\nrow = {{ titel = \"VP\" }}\nstage = \"lead\"\n"
    );
    let p = write(t.path(), "bad.toml", bad.as_bytes());
    let (code, _, err) = status(&["test", "-r", &p]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.toml:26:9: example `x`: row: no field of the rules reads `titel`; did you mean `title`?"), "{err}");
}

#[test]
fn init_writes_a_starter_file_that_runs_and_never_overwrites() {
    let t = tempdir().unwrap();
    let dir = t.path();
    let file = dir.join("leadsift.toml");
    let f = file.to_str().unwrap();
    let (out, _) = ok(&["init", f]);
    assert!(
        out.contains("wrote leadsift.toml") || out.contains("leadsift.toml (b2b rules)"),
        "{out}"
    );
    assert!(out.contains("lists/competitors.txt"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# Written by `leadsift init --profile b2b`"),
        "{text}"
    );
    assert!(text.contains("[[example]]"));
    assert!(dir.join("lists/competitors.txt").is_file());

    // A second init refuses and leaves the file as it was.
    std::fs::write(&file, "# mine\n").unwrap();
    let (code, _, err) = status(&["init", f]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("already exists; leadsift init never overwrites a file"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "# mine\n");

    // The written files work from an empty directory: check, test, run.
    let show = dir.join("show.toml");
    let s = show.to_str().unwrap();
    ok(&["init", "--profile", "trade-show", s]);
    let (out, _) = ok(&["check", "--strict", "-r", s]);
    assert!(out.contains("examples: 5"), "{out}");
    let (out, _) = ok(&["test", "-r", s]);
    assert!(out.contains("5 passed, 0 failed"), "{out}");
    let r = run(&dir.join("out"), &["-r", s, "samples/badge-scans.csv"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(
        r.column("opportunities.csv", "Email"),
        ["karen.mueller@silverpath.de"]
    );
    let b2b = dir.join("sub/b2b.toml");
    std::fs::create_dir(dir.join("sub")).unwrap();
    ok(&["init", "--profile", "b2b", b2b.to_str().unwrap()]);
    let r = run(
        &dir.join("out2"),
        &["-r", b2b.to_str().unwrap(), "samples/webform.csv"],
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(r.column("disqualified.csv", "Email Address").len(), 3);
}

/// `check` output and status for a rules text.
fn check(dir: &std::path::Path, text: &str, strict: bool) -> (i32, String) {
    let p = write(dir, "rules.toml", text.as_bytes());
    let mut args = vec!["check", "-r", &p];
    if strict {
        args.push("--strict");
    }
    let (code, _, err) = status(&args);
    (code, err)
}

#[test]
fn static_checks_warn_and_strict_fails() {
    let t = tempdir().unwrap();
    let text = r#"
[lists]
unused = ["x"]
bosses = ["ceo"]

[groups]
fit = { cap = 50 }
engagement = {}

[[rule]]
id = "vp"
when = 'title contains "vp"'
fit = 30
engagement = 5

[[rule]]
id = "ceo"
when = "seniority(title) in bosses"
fit = 10

[[rule]]
id = "phone"
when = 'phone_e164(phone) starts with "0049" or 1 = 1'
fit = 5

[stages]
opportunity = "fit >= 60"
prospect = "fit >= 30"
"#;
    let (code, err) = check(t.path(), text, false);
    assert_eq!(code, 0, "{err}");
    assert_has(
        &err,
        &[
            "rules.toml:3:1: warning: list `unused`: defined but never used",
            "rules.toml:14:1: warning: rule `vp`: group `engagement` gets points here, but no stage condition reads `engagement` (nor `total`) and [grades] does not",
            "rules.toml:18:9: warning: rule `ceo`: `seniority(title) in bosses` can never hold: seniority(title) is one of c-level, director, individual, intern, manager, vp, never an entry of list `bosses`; the rule never fires",
            "rules.toml:23:9: warning: rule `phone`: `phone_e164(phone) starts with \"0049\"` can never hold: phone_e164(phone) is a number in E.164 form",
            "rules.toml:23:49: warning: rule `phone`: `1 = 1` always holds: it compares two constants",
            "rules.toml:27:16: warning: stage `opportunity`: `fit >= 60` can never hold: fit is between 0 and 45 (its rules give 0 to 45 points, cap 50); no row can reach the stage",
        ],
    );
    let (code, err) = check(t.path(), text, true);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("leadsift: 6 warning(s) in"), "{err}");
    // Warnings do not stop a run.
    let o = tempdir().unwrap();
    let p = t.path().join("rules.toml");
    let r = run(
        o.path(),
        &["-r", p.to_str().unwrap(), "samples/webform.csv"],
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert!(r.stderr().contains("can never hold"), "{}", r.stderr());
    // A stage below one that always holds, a mark no rule sets.
    let (code, err) = check(
        t.path(),
        "[[rule]]\nid = \"a\"\nwhen = 'title contains \"vp\"'\nfit = 10\nmarks = [\"authority\"]\n[stages]\nopportunity = \"fit >= 0 or marked(budget)\"\nprospect = \"fit >= 5\"\n",
        true,
    );
    assert_eq!(code, 1);
    assert_has(
        &err,
        &[
            "rules.toml:7:28: warning: stage `opportunity`: `marked(budget)` can never hold: no rule sets the mark budget",
            "rules.toml:8:1: warning: stage `prospect`: no row can reach it: the condition of `opportunity` always holds",
        ],
    );
    // The shipped rules are clean.
    for r in ["rules/default.toml", "rules/trade-show.toml"] {
        let (_, err) = ok(&["check", "--strict", "-r", r]);
        assert!(err.is_empty(), "{r}: {err}");
    }
}

#[test]
fn new_subcommands_have_examples_in_their_help() {
    for cmd in ["explain", "test", "init"] {
        let (out, _) = ok(&[cmd, "--help"]);
        assert!(out.contains("Examples:\n  leadsift "), "{cmd}: {out}");
    }
}

/// The first ```toml and ```text blocks after `heading` in RULES.md.
fn rules_md_blocks(heading: &str) -> (String, String) {
    let doc = std::fs::read_to_string(root().join("RULES.md")).unwrap();
    let at = doc.find(heading).unwrap_or_else(|| panic!("{heading}"));
    let block = |kind: &str| {
        let start = at + doc[at..].find(kind).unwrap() + kind.len();
        let end = start + doc[start..].find("```").unwrap();
        doc[start..end].to_string()
    };
    (block("```toml\n"), block("```text\n"))
}

#[test]
fn the_examples_section_of_rules_md_is_what_test_does() {
    let (toml, failure) = rules_md_blocks("## Examples");
    let t = tempdir().unwrap();
    let p = write(t.path(), "rules.toml", toml.as_bytes());
    let (out, _) = ok(&["test", "-r", &p]);
    assert!(out.ends_with("3 example(s), 3 passed, 0 failed\n"), "{out}");
    // The failure shown is the first example without its company size.
    let broken = toml.replace(", company_size = \"1,200\"", "");
    let p = write(t.path(), "rules.toml", broken.as_bytes());
    let (code, out, _) = status(&["test", "-r", &p]);
    assert_eq!(code, 1);
    let dir = format!("{}/", t.path().display());
    let out = out.replace(&dir, "");
    for line in failure.lines().filter(|l| l.trim() != "...") {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn the_static_checks_section_of_rules_md_is_what_check_prints() {
    let (toml, warnings) = rules_md_blocks("## Static checks");
    let t = tempdir().unwrap();
    write(t.path(), "rules.toml", toml.as_bytes());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leadsift"))
        .args(["check", "--rules", "rules.toml"])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), warnings);
}

#[test]
fn explain_counts_days_from_as_of_like_run_and_shows_decay() {
    let t = tempdir().unwrap();
    let rules = r#"
[[rule]]
id = "recent-activity"
when = "last_activity is present"
engagement = 20
decay = { since = "last_activity", half_life = 30 }

[[rule]]
id = "stale"
when = "days_since(created) > 90"
fit = -5

[stages]
prospect = "engagement >= 10"

[[example]]
name = "active a month ago"
row = { email = "a@b.io", last_activity = "2026-10-24", created = "2026-01-01" }
stage = "prospect"
points = { engagement = 10, fit = -5 }
"#;
    let r = write(t.path(), "rules.toml", rules.as_bytes());
    let input = write(
        t.path(),
        "in.csv",
        b"email,last_activity,created\na@b.io,2026-10-24,2026-01-01\nc@d.io,,2026-11-01\n",
    );
    let as_of = ["--as-of", "2026-11-23"];
    assert_explain_agrees_with_run(&r, &input, &as_of);
    let doc = json(&["-r", &r, &input, "--row", "1", "--as-of", "2026-11-23"]);
    let rule = &doc["rows"][0]["rules"][0];
    assert_eq!(
        rule["label"],
        "recent-activity +10 engagement (decay: 20 halved every 30 days, 30 day(s) since last_activity)"
    );
    assert_eq!(
        rule["decay"],
        serde_json::json!({"since": "last_activity", "half_life": 30, "days": 30})
    );
    assert_eq!(
        doc["rows"][0]["rules"][1]["condition"]["values"],
        serde_json::json!([{"name": "created", "value": "2026-01-01"}, {"name": "days_since(created)", "value": 326}])
    );
    let (out, _) = ok(&["test", "-r", &r, "--as-of", "2026-11-23"]);
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    let (code, out, _) = status(&["test", "-r", &r, "--as-of", "2027-06-01"]);
    assert_eq!(code, 1, "{out}");
}
