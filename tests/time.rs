//! Dates in rules: `days_since`, declared and command-line date orders,
//! `--as-of` replay, decaying points, and the fit/engagement grade.

mod common;

use common::*;
use tempfile::tempdir;

const RULES: &str = r#"
[usable]
when = "true"

[groups]
fit = {}
engagement = {}

[dates]
fields = { created = "dmy" }

[[rule]]
id = "recent"
when = "days_since(last_activity) <= 30"
engagement = 10

[[rule]]
id = "active"
when = "last_activity is present"
engagement = 20
decay = { since = "last_activity", half_life = 30 }

[[rule]]
id = "customer-for-a-year"
when = "days_since(created) > 365"
fit = 50

[grades]
fit = { group = "fit", A = 50, B = 20 }
engagement = { group = "engagement", 1 = 25, 2 = 10 }

[stages]
prospect = "engagement >= 25"
"#;

const INPUT: &str = "\
Email,Last Activity,Created
a@x.io,2025-08-15T10:00:00.000+0000,14/08/2024
b@x.io,\"15 Jul, 2025 00:03:00\",01/02/2025
c@x.io,07/01/2025,
d@x.io,,
";

struct Fixture {
    _t: tempfile::TempDir,
    rules: String,
    input: String,
    root: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let t = tempdir().unwrap();
    let rules = write(t.path(), "time.toml", RULES.as_bytes());
    let input = write(t.path(), "leads.csv", INPUT.as_bytes());
    let root = t.path().to_path_buf();
    Fixture {
        _t: t,
        rules,
        input,
        root,
    }
}

/// Every row (all land in leads.csv or prospects.csv), by email.
fn by_email(
    r: &Run,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    ["leads.csv", "prospects.csv"]
        .iter()
        .flat_map(|f| r.rows(f))
        .map(|row| (row["Email"].clone(), row))
        .collect()
}

#[test]
fn days_since_decay_and_grades_from_as_of() {
    let f = fixture();
    let out = f.root.join("out");
    let r = run(&out, &["-r", &f.rules, &f.input, "--as-of", "2025-08-15"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 4);
    let rows = by_email(&r);

    // Active today: recent +10, decay gives all 20; created 366 days ago.
    let a = &rows["a@x.io"];
    assert_eq!(a["leadsift_stage"], "prospect");
    assert_eq!(a["leadsift_engagement"], "30");
    assert_eq!(a["leadsift_fit"], "50");
    assert_eq!(a["leadsift_grade"], "A1");
    assert!(
        a["leadsift_reasons"].contains(
            "active +20 engagement (decay: 20 halved every 30 days, 0 day(s) since last_activity)"
        ),
        "{}",
        a["leadsift_reasons"]
    );

    // Zoho's form, 31 days old: not recent; 20 * 0.5^(31/30) = 9.8 -> 10.
    let b = &rows["b@x.io"];
    assert_eq!(b["leadsift_engagement"], "10");
    assert_eq!(
        b["leadsift_fit"], "0",
        "01/02/2025 is the 1st of February: 195 days"
    );
    assert_eq!(b["leadsift_grade"], "C2");
    assert!(!b["leadsift_reasons"].contains("recent"));
    assert!(b["leadsift_reasons"].contains(
        "active +10 engagement (decay: 20 halved every 30 days, 31 day(s) since last_activity)"
    ));

    // 07/01/2025 in a field with no declared order is not read: no guess.
    let c = &rows["c@x.io"];
    assert_eq!(c["leadsift_engagement"], "0");
    assert!(
        c["leadsift_reasons"].contains(
            "active +0 engagement (decay: 20 halved every 30 days, no date read in last_activity)"
        ),
        "{}",
        c["leadsift_reasons"]
    );
    assert_eq!(c["leadsift_grade"], "C3");

    let d = &rows["d@x.io"];
    assert_eq!(d["leadsift_reasons"], "");
    assert_eq!(d["leadsift_grade"], "C3");

    let g = &r.summary()["grades"];
    assert_eq!(g["fit"], serde_json::json!(["A", "B", "C"]));
    assert_eq!(g["engagement"], serde_json::json!(["1", "2", "3"]));
    assert_eq!(
        g["rows"],
        serde_json::json!([[1, 0, 0], [0, 0, 0], [0, 1, 2]])
    );
}

#[test]
fn date_order_from_the_command_line_reads_numeric_dates() {
    let f = fixture();
    let out = f.root.join("out");
    let r = run(
        &out,
        &[
            "-r",
            &f.rules,
            &f.input,
            "--as-of",
            "2025-08-15",
            "--date-order",
            "mdy",
        ],
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let rows = by_email(&r);
    // 07/01/2025 month first: the 1st of July, 45 days: 20 * 0.5^1.5 = 7.
    assert_eq!(rows["c@x.io"]["leadsift_engagement"], "7");
    // created keeps its declared day-first order.
    assert_eq!(rows["a@x.io"]["leadsift_fit"], "50");
    let r = run(
        &out,
        &["-r", &f.rules, &f.input, "--date-order", "sideways"],
    );
    assert_eq!(r.code(), 2);
}

#[test]
fn as_of_replays_a_night_exactly() {
    let f = fixture();
    let one = f.root.join("one");
    let two = f.root.join("two");
    let later = f.root.join("later");
    for dir in [&one, &two] {
        let r = run(
            dir,
            &["-r", &f.rules, &f.input, "--as-of", "2025-08-15", "-j", "2"],
        );
        assert_eq!(r.code(), 0);
    }
    let r = run(&later, &["-r", &f.rules, &f.input, "--as-of", "2025-10-15"]);
    assert_eq!(r.code(), 0);
    for file in ["leads.csv", "prospects.csv"] {
        let a = std::fs::read(one.join(file)).unwrap();
        let b = std::fs::read(two.join(file)).unwrap();
        assert_eq!(a, b, "{file}: the same night twice");
    }
    // Two months on, the activity has aged: nobody is a prospect any more.
    let rows = by_email(&r);
    assert_eq!(rows["a@x.io"]["leadsift_stage"], "lead");
    assert_eq!(
        rows["a@x.io"]["leadsift_engagement"], "5",
        "20 * 0.5^(61/30)"
    );
    assert!(rows["a@x.io"]["leadsift_reasons"].contains("61 day(s) since last_activity"));
}

#[test]
fn date_and_grade_mistakes_are_rules_errors() {
    let t = tempdir().unwrap();
    let input = write(t.path(), "in.csv", INPUT.as_bytes());
    let cases = [
        ("[dates]\norder = \"dym\"\n", "`dym` is not a date order"),
        ("[dates]\nfields = { birthday = \"dmy\" }\n", "unknown field `birthday`"),
        (
            "[[rule]]\nid = \"x\"\nwhen = \"true\"\nfit = 5\ndecay = { since = \"last_activity\", half_life = 0 }\n",
            "`half_life` is a number of days above 0",
        ),
        (
            "[[rule]]\nid = \"x\"\nwhen = \"true\"\nfit = 5\ndecay = { half_life = 30 }\n",
            "`decay` needs `since`",
        ),
        (
            "[grades]\nfit = { group = \"fit\", A = 50 }\n",
            "give both axes",
        ),
        (
            "[grades]\nfit = { group = \"fit\", A = 20, B = 50 }\nengagement = { group = \"engagement\", 1 = 10 }\n",
            "`B` = 50 must be below `A` = 20",
        ),
        (
            "[grades]\nfit = { group = \"size\", A = 20 }\nengagement = { group = \"engagement\", 1 = 10 }\n",
            "unknown group `size`",
        ),
    ];
    for (text, msg) in cases {
        let rules = write(t.path(), "bad.toml", text.as_bytes());
        let r = run(&t.path().join("out"), &["-r", &rules, &input]);
        assert_eq!(r.code(), 2, "{text}");
        assert!(r.stderr().contains(msg), "{text}: {}", r.stderr());
    }
}

#[test]
fn the_grade_grid_is_in_the_reports() {
    let f = fixture();
    let out = f.root.join("out");
    let r = run(&out, &["-r", &f.rules, &f.input, "--as-of", "2025-08-15"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("## Grades"), "{md}");
    assert!(
        md.contains("| fit / engagement | 1 | 2 | 3 | all |"),
        "{md}"
    );
    assert!(md.contains("| `A` | 1 | 0 | 0 | 1 |"), "{md}");
    assert!(md.contains("| `C` | 0 | 1 | 2 | 3 |"), "{md}");
    let html = std::fs::read_to_string(out.join("summary.html")).unwrap();
    assert!(html.contains("Grades"));
}
