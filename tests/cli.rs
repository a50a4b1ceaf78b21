//! Integration tests: the real binary on the samples and on small fixtures,
//! checking which rows land in which file, why, and how the run exits.

mod common;

use common::*;
use tempfile::tempdir;

fn emails(run: &Run, file: &str, column: &str) -> Vec<String> {
    run.column(file, column)
}

#[test]
fn webform_sample_rows_land_in_the_right_files() {
    let t = tempdir().unwrap();
    let r = run(t.path(), &["samples/webform.csv"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let col = "Email Address";
    assert_eq!(
        emails(&r, "opportunities.csv", col),
        [
            "ana.lima@northwind-software.com",
            "priya@helixhealth.co.uk",
            "sam.patel@atlasfin.com",
            "ben.walker@summitworks.com"
        ]
    );
    assert_eq!(
        emails(&r, "prospects.csv", col),
        ["claire.dubois@lumen-logic.fr"]
    );
    assert_eq!(
        emails(&r, "leads.csv", col),
        ["lars@brightforge.dk", "ivy@outlook.com"]
    );
    assert_eq!(
        emails(&r, "disqualified.csv", col),
        [
            "tom.becker@gmail.com",
            "mei.chen@qualifyhq.com",
            "jo.ortiz@mailinator.com"
        ]
    );
    assert_accounted(&r, 12);

    let opp = &r.rows("opportunities.csv")[0];
    assert_eq!(opp["leadsift_stage"], "opportunity");
    assert_eq!(opp["leadsift_fit"], "75");
    assert_eq!(opp["leadsift_bant"], "BANT");
    assert!(
        opp["leadsift_reasons"]
            .starts_with("decision-maker +25 fit [authority]; company-50-plus +15 fit"),
        "{}",
        opp["leadsift_reasons"]
    );
    assert_eq!(opp["leadsift_file"], "samples/webform.csv");
    assert_eq!(
        (opp["leadsift_line"].as_str(), opp["leadsift_row"].as_str()),
        ("2", "1")
    );
    // Input columns come first, unchanged and in input order.
    assert_eq!(opp["Budget"], "$25,000");

    let disq = r.rows("disqualified.csv");
    assert!(
        disq[1]["leadsift_reasons"].starts_with("competitor disqualify: works for a competitor")
    );
    assert_eq!(disq[1]["leadsift_stage"], "disqualified");

    let rej = r.rows("rejected.csv");
    assert_eq!(rej.len(), 2);
    assert_eq!(rej[0]["leadsift_reject_kind"], "unusable");
    assert_eq!(
        rej[0]["leadsift_reject_reason"],
        "no contact information: no valid email and no phone"
    );
    assert_eq!(rej[0]["leadsift_line"], "5");
    // A formula typed into a web form is defused.
    assert_eq!(
        rej[1]["Email Address"],
        "'=HYPERLINK(\"http://evil.example\";\"click\")"
    );

    let s = r.summary();
    assert_eq!(s["schema"], "leadsift.summary/1");
    assert_eq!(s["rejects"]["unusable"], 2);
    assert_eq!(s["files"][0]["rows"], 12);
    assert_eq!(s["files"][0]["columns"]["email"], "Email Address");
    assert_eq!(s["files"][0]["columns"]["need"], "What do you need?");
    assert!(s["rules"]["sha256"].as_str().unwrap().len() == 64);
    let hits = s["rule_hits"].as_array().unwrap();
    let competitor = hits.iter().find(|h| h["id"] == "competitor").unwrap();
    assert_eq!(competitor["hits"], 1);
    // The human summary on stderr shows the funnel.
    assert!(r.stderr().contains("opportunity"), "{}", r.stderr());
    assert!(r.stderr().contains("rejected by reason"), "{}", r.stderr());
}

#[test]
fn crm_export_with_bom_and_a_ragged_row() {
    let t = tempdir().unwrap();
    let r = run(t.path(), &["samples/crm-export.csv"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 9);
    // The byte-order mark is not part of the first header.
    let header = std::fs::read_to_string(t.path().join("leads.csv")).unwrap();
    assert!(header.starts_with("Id,FirstName,"), "{header}");
    let rej = r.rows("rejected.csv");
    let ragged = rej
        .iter()
        .find(|x| x["leadsift_reject_kind"] == "too-many-fields")
        .expect("ragged row rejected");
    assert_eq!(
        ragged["leadsift_reject_reason"],
        "16 fields where the header has 15"
    );
    assert_eq!(ragged["leadsift_line"], "10");
    assert!(ragged["leadsift_raw"].contains("liam@quantumgrid.co.uk"));
    assert_eq!(
        r.column("disqualified.csv", "Email"),
        ["daniel.kim@orbitanalytics.com", "test@example.com"]
    );
    assert_eq!(
        r.column("prospects.csv", "Email"),
        ["noah.young@cedarmill.com"]
    );
    let phone = &r.rows("opportunities.csv")[0]["Phone"];
    assert_eq!(
        phone, "'+49 30 1234567",
        "phone numbers starting with + are defused"
    );
}

#[test]
fn badge_scans_with_trade_show_rules() {
    let t = tempdir().unwrap();
    let r = run(
        t.path(),
        &["-r", "rules/trade-show.toml", "samples/badge-scans.csv"],
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 8);
    assert_eq!(
        r.column("opportunities.csv", "Email"),
        ["karen.mueller@silverpath.de"]
    );
    assert_eq!(
        r.column("disqualified.csv", "leadsift_reasons")[0]
            .split(';')
            .next()
            .unwrap(),
        "swag-only disqualify: only came for the giveaways"
    );
    assert_eq!(
        r.column("rejected.csv", "leadsift_reject_reason"),
        ["badge scan without email or phone"]
    );
    assert_eq!(r.summary()["rules"]["path"], "rules/trade-show.toml");
}

#[test]
fn every_sample_and_rules_file_is_exercised() {
    let mut rules: Vec<String> = std::fs::read_dir(root().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        ["default.toml", "trade-show.toml"],
        "a new rules file needs a test of its own here"
    );
    for r in &rules {
        let path = format!("rules/{r}");
        let out = leadsift(&["check", "--rules", &path], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
    }
    let mut samples: Vec<String> = std::fs::read_dir(root().join("samples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    samples.sort();
    assert_eq!(
        samples,
        [
            "badge-scans.csv",
            "crm-export.csv",
            "messe-leads.csv",
            "webform.csv"
        ],
        "a new sample needs a test of its own here"
    );
    for s in &samples {
        for rules in ["rules/default.toml", "rules/trade-show.toml"] {
            let t = tempdir().unwrap();
            let r = run(t.path(), &["-r", rules, &format!("samples/{s}")]);
            assert_eq!(r.code(), 0, "{s} with {rules}: {}", r.stderr());
            let lines = r.summary()["rows_in"].as_u64().unwrap();
            assert_accounted(&r, lines);
        }
    }
}

#[test]
fn builtin_rules_are_the_shipped_default_file() {
    let a = tempdir().unwrap();
    let b = tempdir().unwrap();
    let ra = run(a.path(), &["samples/webform.csv"]);
    let rb = run(
        b.path(),
        &["-r", "rules/default.toml", "samples/webform.csv"],
    );
    assert_eq!(
        ra.summary()["rules"]["sha256"],
        rb.summary()["rules"]["sha256"]
    );
    for f in STAGE_FILES {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

/// A deterministic messy file: quoted commas and newlines, empty contacts,
/// ragged rows, formulas.
fn messy(rows: usize) -> Vec<u8> {
    let mut s = String::from(
        "email,phone,company,title,company_size,industry,country,notes,demo_requested\n",
    );
    let titles = [
        "CEO",
        "Sales Intern",
        "VP Marketing",
        "Engineer",
        "Head of IT",
        "",
        "Student",
    ];
    let domains = [
        "gmail.com",
        "acme.io",
        "mailinator.com",
        "qualifyhq.com",
        "northwind.de",
    ];
    let mut x: u64 = 42;
    for i in 0..rows {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (x >> 33) as usize;
        let email = if r.is_multiple_of(17) {
            String::new()
        } else {
            format!("user{i}@{}", domains[r % domains.len()])
        };
        let phone = if r.is_multiple_of(3) {
            "+1 555 0100".to_string()
        } else {
            String::new()
        };
        let notes = match r % 5 {
            0 => "\"asked for pricing, twice\"".to_string(),
            1 => "\"line one\nline two\"".to_string(),
            2 => "=1+1".to_string(),
            _ => String::new(),
        };
        let extra = if r.is_multiple_of(97) { ",surplus" } else { "" };
        s.push_str(&format!(
            "{email},{phone},Co {i},{},{},software,US,{notes},{}{extra}\n",
            titles[r % titles.len()],
            r % 500,
            if r.is_multiple_of(2) { "yes" } else { "no" }
        ));
    }
    s.into_bytes()
}

#[test]
fn outputs_are_identical_for_any_number_of_jobs() {
    let t = tempdir().unwrap();
    let input = write(t.path(), "messy.csv", &messy(40_000));
    let one = t.path().join("one");
    let two = t.path().join("two");
    // More threads than cores: batches finish out of order more often,
    // and more threads hand them on in turn.
    let five = t.path().join("five");
    let r1 = run(&one, &["-j", "1", &input]);
    let r2 = run(&two, &["-j", "2", &input]);
    let r5 = run(&five, &["-j", "5", &input]);
    assert_eq!(
        (r1.code(), r2.code(), r5.code()),
        (0, 0, 0),
        "{} {} {}",
        r1.stderr(),
        r2.stderr(),
        r5.stderr()
    );
    assert_accounted(&r1, 40_000);
    for f in STAGE_FILES {
        let a = std::fs::read(one.join(f)).unwrap();
        for (n, dir) in [(2, &two), (5, &five)] {
            let b = std::fs::read(dir.join(f)).unwrap();
            assert!(a == b, "{f} differs between --jobs 1 and --jobs {n}");
        }
    }
    assert_eq!(r1.summary()["stages"], r5.summary()["stages"]);
    assert!(r1.summary()["stages"]["rejected"].as_u64().unwrap() > 0);
}

#[test]
fn no_sync_writes_the_same_files_and_replaces_the_last_run() {
    let t = tempdir().unwrap();
    let input = write(t.path(), "messy.csv", &messy(5_000));
    let synced = t.path().join("synced");
    let unsynced = t.path().join("unsynced");
    // A run before, whose outputs the --no-sync run replaces.
    let old = write(t.path(), "old.csv", b"Email\nold@acme.io\n");
    assert_eq!(run(&unsynced, &[&old]).code(), 0);
    let a = run(&synced, &[&input]);
    let b = run(&unsynced, &["--no-sync", &input]);
    assert_eq!(
        (a.code(), b.code()),
        (0, 0),
        "{} {}",
        a.stderr(),
        b.stderr()
    );
    assert_accounted(&b, 5_000);
    for f in STAGE_FILES {
        let x = std::fs::read(synced.join(f)).unwrap();
        let y = std::fs::read(unsynced.join(f)).unwrap();
        assert!(x == y, "{f} differs with --no-sync");
    }
    let left = temp_files(&unsynced);
    assert!(left.is_empty(), "temporary files left: {left:?}");
    assert_eq!(b.summary()["rows_in"], 5_000);
    // A state must only record outputs that are on disk.
    let state = t.path().join("state.db");
    let s = state.to_str().unwrap();
    let c = run(&unsynced, &["--no-sync", "--state", s, &input]);
    assert_eq!(c.code(), 2, "{}", c.stderr());
    assert!(
        c.stderr().contains("--no-sync") && c.stderr().contains("--state"),
        "{}",
        c.stderr()
    );
    assert!(!state.exists(), "no state is created");
}

#[test]
fn standard_input_and_json_summary() {
    let t = tempdir().unwrap();
    let csv = b"Email,Job Title\nceo@acme.io,CEO\n,Intern\n";
    let r = run_stdin(t.path(), &["--json", "-q", "-"], Some(csv));
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(r.stderr(), "", "--quiet prints nothing on stderr");
    let s: serde_json::Value =
        serde_json::from_str(&r.stdout()).expect("stdout is the summary JSON");
    assert_eq!(s["rows_in"], 2);
    assert_eq!(s["files"][0]["path"], "<stdin>");
    assert_eq!(r.column("rejected.csv", "leadsift_file"), ["<stdin>"]);
}

#[test]
fn several_inputs_share_one_layout() {
    let t = tempdir().unwrap();
    let a = write(t.path(), "a.csv", b"Email,Company\na@acme.io,Acme\n");
    let b = write(
        t.path(),
        "b.csv",
        b"Company,Phone,Email\nBeta,+1 555 0100,b@beta.io\n",
    );
    let r = run(&t.path().join("out"), &[&a, &b]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let rows = r.rows("leads.csv");
    assert_eq!(rows.len(), 2);
    let header = std::fs::read_to_string(t.path().join("out/leads.csv")).unwrap();
    assert!(
        header.starts_with("Email,Company,Phone,leadsift_stage"),
        "{header}"
    );
    assert_eq!(
        (rows[1]["Email"].as_str(), rows[1]["Phone"].as_str()),
        ("b@beta.io", "'+1 555 0100")
    );
    assert_eq!(rows[0]["Phone"], "");
    let s = r.summary();
    assert_eq!(
        (
            s["files"][0]["rows"].as_u64(),
            s["files"][1]["rows"].as_u64()
        ),
        (Some(1), Some(1))
    );
}

#[test]
fn appended_columns_never_clash_with_input_columns() {
    let t = tempdir().unwrap();
    let input = write(
        t.path(),
        "in.csv",
        b"email,leadsift_stage,Score\na@acme.io,old,7\n",
    );
    let r = run(&t.path().join("out"), &[&input]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let row = &r.rows("leads.csv")[0];
    assert_eq!(row["leadsift_stage"], "old");
    assert_eq!(row["leadsift_stage_2"], "lead");
    assert_eq!(row["Score"], "7");
}

#[test]
fn invalid_bytes_in_a_utf8_file_reject_their_row_and_the_rest_goes_on() {
    let t = tempdir().unwrap();
    let input = write(
        t.path(),
        "in.csv",
        "email,company\nzoe@acme.io,Zoë Café\nana@acme.io,Åström Søn\n"
            .bytes()
            .chain(*b"a@acme.io,M\xfcller GmbH\nb@beta.io,Beta\n")
            .collect::<Vec<u8>>()
            .as_slice(),
    );
    let r = run(&t.path().join("out"), &[&input]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 4);
    assert_eq!(r.summary()["files"][0]["encoding"], "UTF-8");
    let rej = r.rows("rejected.csv");
    assert_eq!(rej[0]["leadsift_reject_kind"], "invalid-encoding");
    assert_eq!(
        rej[0]["leadsift_reject_reason"],
        "field 2 holds bytes that are not valid UTF-8; if the file is in another encoding, name it with --encoding"
    );
    assert_eq!(rej[0]["leadsift_raw"], "a@acme.io,M\\xFCller GmbH");
    assert_eq!(
        r.column("leads.csv", "email"),
        ["zoe@acme.io", "ana@acme.io", "b@beta.io"]
    );
}

#[test]
fn a_character_split_between_two_fields_rejects_its_row() {
    // `é` is C3 A9: here the delimiter falls between its two bytes, so
    // neither field is valid UTF-8 (though the two side by side would be).
    // Once on a one-line row, once on a row whose note spans two lines,
    // once between the last field of a row kept with a field too many and
    // the extra one.
    let t = tempdir().unwrap();
    let text = b"\xEF\xBB\xBFemail,company,note\n\
        ok@acme.io,Caf\xC3\xA9,fine\n\
        a@acme.io,Jos\xC3,\xA9\n\
        b@acme.io,M\xC3,\"\xA9 two\nlines\"\n\
        c@acme.io,x,Jos\xC3,\xA9\n";
    let input = write(t.path(), "in.csv", text);
    let r = run(&t.path().join("out"), &["--long-rows", "keep", &input]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 4);
    assert_eq!(r.column("leads.csv", "email"), ["ok@acme.io"]);
    let rej = r.rows("rejected.csv");
    assert_eq!(rej.len(), 3);
    for (row, (line, field)) in rej.iter().zip([("3", 2), ("4", 2), ("6", 3)]) {
        assert_eq!(row["leadsift_reject_kind"], "invalid-encoding");
        assert_eq!(row["leadsift_line"], line);
        let reason = format!("field {field} holds bytes that are not valid UTF-8");
        assert!(
            row["leadsift_reject_reason"].starts_with(&reason),
            "{row:?}"
        );
    }
}

#[test]
fn a_latin1_file_is_read_as_latin1() {
    let t = tempdir().unwrap();
    let input = write(
        t.path(),
        "in.csv",
        b"email,company\na@acme.io,M\xfcller GmbH\nb@beta.io,Beta\n",
    );
    let r = run(&t.path().join("out"), &[&input]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 2);
    assert_eq!(r.column("leads.csv", "company"), ["Müller GmbH", "Beta"]);
    let f = &r.summary()["files"][0];
    assert_eq!(f["encoding"], "windows-1252");
    assert_eq!(f["encoding_guessed"], true);
}

#[test]
fn no_sanitize_writes_cells_exactly() {
    let t = tempdir().unwrap();
    let input = write(
        t.path(),
        "in.csv",
        b"email,phone,notes\na@acme.io,+49 30 123,=SUM(A1)\n",
    );
    let r = run(&t.path().join("out"), &["--no-sanitize", &input]);
    let row = &r.rows("leads.csv")[0];
    assert_eq!(
        (row["phone"].as_str(), row["notes"].as_str()),
        ("+49 30 123", "=SUM(A1)")
    );
}

#[test]
fn exit_status_for_missing_input_is_1() {
    let t = tempdir().unwrap();
    let r = run(&t.path().join("out"), &["no/such/file.csv"]);
    assert_eq!(r.code(), 1);
    assert!(
        r.stderr()
            .starts_with("leadsift: no/such/file.csv: cannot open:"),
        "{}",
        r.stderr()
    );
    assert!(!t.path().join("out/summary.json").exists());
}

#[test]
fn exit_status_for_a_directory_input_is_1() {
    let t = tempdir().unwrap();
    let r = run(&t.path().join("out"), &["samples"]);
    assert_eq!(r.code(), 1);
    assert!(
        r.stderr().contains("samples: is a directory"),
        "{}",
        r.stderr()
    );
}

#[test]
fn exit_status_for_an_unwritable_output_is_1() {
    let t = tempdir().unwrap();
    let blocker = write(t.path(), "file", b"not a directory");
    let r = run(std::path::Path::new(&blocker), &["samples/webform.csv"]);
    assert_eq!(r.code(), 1);
    assert!(
        r.stderr().contains("cannot create the output directory"),
        "{}",
        r.stderr()
    );
}

#[test]
fn exit_status_for_usage_errors_is_2() {
    let out = leadsift(&["run"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("required"));
    let out = leadsift(&["run", "--jobs", "0", "x.csv"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = leadsift(&["frobnicate"], None);
    assert_eq!(out.status.code(), Some(2));
    // Records are held under 4 GiB: the record limit is at most 1 GiB.
    let out = leadsift(&["run", "--max-record-bytes", "2000000000", "x.csv"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the largest allowed is 1073741824"));
    let out = leadsift(&["--help"], None);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_broken_rules_file_is_reported_at_once_with_positions_and_nothing_runs() {
    let t = tempdir().unwrap();
    let rules = write(
        t.path(),
        "bad.toml",
        b"[lists]\nfree = [\"gmail.com\"]\n\n[[rule]]\nid = \"a\"\nwhen = 'titel matches \"x\"'\nfit = 5\n\n[[rule]]\nid = \"a\"\nwhen = 'title matches \"(oops\"'\nfit = 1\n\n[[rule]]\nid = \"b\"\nwhen = \"email_domain in fre\"\nfitt = 2\n\n[stages]\nprospect = 'fit >= \"40\"'\n",
    );
    let out = leadsift(&["check", "--rules", &rules], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = [
        ":6:9: rule `a`: unknown field `titel`; did you mean `title`?",
        ":10:6: rule `a`: duplicate rule id (first used on line 5)",
        ":11:23: rule `a`: bad regular expression",
        ":16:25: rule `b`: unknown list `fre`; did you mean `free`?",
        ":17:1: rule `b`: unknown key `fitt`",
        ":20:20: stage `prospect`: a number compared with text",
        "6 error(s) in",
    ];
    for w in want {
        assert!(err.contains(w), "missing {w:?} in:\n{err}");
    }
    let out_dir = t.path().join("out");
    let r = run(&out_dir, &["-r", &rules, "samples/webform.csv"]);
    assert_eq!(r.code(), 2);
    assert!(!out_dir.exists(), "a run with broken rules writes nothing");
}

#[test]
fn toml_syntax_errors_have_positions() {
    let t = tempdir().unwrap();
    let rules = write(
        t.path(),
        "bad.toml",
        b"[[rule]]\nid = \"a\nwhen = \"true\"\n",
    );
    let out = leadsift(&["check", "--rules", &rules], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:2:"), "{err}");
    assert!(err.contains("TOML syntax"), "{err}");
}

#[test]
fn check_describes_the_builtin_rules() {
    let out = leadsift(&["check"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "<built-in rules/default.toml>: valid",
        "groups (3):",
        "decision-maker +25 fit [authority]",
        "opportunity  fit >= 40",
        "lead         otherwise",
        "duplicates: same person by email, phone, name_company; kept by disqualified, stage, complete, first",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn an_input_inside_the_output_directory_is_never_overwritten() {
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let input = write(&out, "leads.csv", b"email\na@acme.io\n");
    let r = run(&out, &[&input]);
    assert_eq!(r.code(), 2);
    assert!(
        r.stderr().contains("this input is one of the output files"),
        "{}",
        r.stderr()
    );
    assert_eq!(std::fs::read(&input).unwrap(), b"email\na@acme.io\n");
}

#[test]
fn a_failed_run_leaves_previous_outputs_and_no_temporary_files() {
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    let first = run(&out, &["samples/webform.csv"]);
    assert_eq!(first.code(), 0);
    let before: Vec<Vec<u8>> = STAGE_FILES
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    let second = run(&out, &["samples/crm-export.csv", "missing.csv"]);
    assert_eq!(second.code(), 1);
    let after: Vec<Vec<u8>> = STAGE_FILES
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    assert!(before == after, "previous outputs are untouched");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".leadsift-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn every_output_file_has_its_header_even_when_empty() {
    let t = tempdir().unwrap();
    let input = write(t.path(), "in.csv", b"email\n");
    let r = run(&t.path().join("out"), &[&input]);
    assert_eq!(r.code(), 0);
    for f in STAGE_FILES {
        let text = std::fs::read_to_string(t.path().join("out").join(f)).unwrap();
        assert!(text.starts_with("email,leadsift_stage,"), "{f}: {text}");
        assert_eq!(text.lines().count(), 1, "{f}");
    }
    assert_accounted(&r, 0);
}

#[test]
fn the_layout_example_in_rules_md_is_valid() {
    let doc = std::fs::read_to_string(root().join("RULES.md")).unwrap();
    let start = doc.find("```toml\n").expect("a toml example") + 8;
    let end = start + doc[start..].find("```").unwrap();
    let t = tempdir().unwrap();
    std::fs::create_dir(t.path().join("lists")).unwrap();
    std::fs::copy(
        root().join("rules/lists/free_mail.txt"),
        t.path().join("lists/free_mail.txt"),
    )
    .unwrap();
    let rules = write(t.path(), "example.toml", &doc.as_bytes()[start..end]);
    let out = leadsift(&["check", "--rules", &rules], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn german_trade_show_export_in_windows_1252_with_semicolons() {
    let t = tempdir().unwrap();
    let r = run(t.path(), &["samples/messe-leads.csv"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 7);
    // The summary wraps what was detected to fit 80 columns.
    let flat = r.stderr().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "samples/messe-leads.csv: csv, windows-1252 (guessed), delimiter ; (guessed), crlf, 1 title line skipped, 1 blank line"
        ),
        "{}",
        r.stderr()
    );
    let f = &r.summary()["files"][0];
    assert_eq!(f["encoding"], "windows-1252");
    assert_eq!(f["encoding_guessed"], true);
    assert_eq!(f["delimiter"], ";");
    assert_eq!(f["line_endings"], "crlf");
    assert_eq!(f["preamble_lines"], 1);
    assert_eq!(f["header_line"], 3);
    assert_eq!(f["blank_lines"], 1);
    assert_eq!(f["columns"]["company_size"], "Mitarbeiter");
    // Decoded: the outputs are UTF-8.
    assert_eq!(r.column("prospects.csv", "Nachname"), ["Weiß"]);
    assert_eq!(
        r.column("leads.csv", "Nachname"),
        ["Schäfer", "Bianchi", "Moreau", "Vogel"]
    );
    let leads = r.rows("leads.csv");
    // `Leiterin Einkauf` is a director; `#N/A` is no email, the phone
    // makes the row usable; `Praktikantin` is an intern.
    assert!(leads[0]["leadsift_reasons"].starts_with("decision-maker +25 fit [authority]"));
    assert_eq!(leads[1]["E-Mail"], "#N/A");
    assert!(leads[2]["leadsift_reasons"].starts_with("junior-title -15 fit"));
    let rej = r.rows("rejected.csv");
    assert_eq!(rej[0]["leadsift_reject_kind"], "unterminated-quote");
    assert_eq!(
        (
            rej[0]["leadsift_line"].as_str(),
            rej[0]["leadsift_row"].as_str()
        ),
        ("8", "5")
    );
    assert!(rej[0]["leadsift_raw"].starts_with("Thomas;Krämer;"));
    // The row after the stray quote is read as a row of its own.
    assert_eq!(leads[3]["leadsift_line"], "9");
    assert_eq!(rej[1]["leadsift_reject_kind"], "unusable");
}

#[test]
fn clean_write_puts_cleaned_values_in_the_stage_files_only() {
    let t = tempdir().unwrap();
    let rules = write(
        t.path(),
        "r.toml",
        b"[clean]\nphone_region = \"DE\"\nwrite = [\"email\", \"phone\", \"first_name\", \"last_name\", \"country\"]\n",
    );
    let input = write(
        t.path(),
        "in.csv",
        "First Name,Last Name,Email,Phone,Country\n\
         JOHN,MCDONALD, John.McDonald@Example.COM ,030 1234567,Deutschland\n\
         ana,lima,not an email,12,Atlantis\n\
         ,,,,\n"
            .as_bytes(),
    );
    let r = run(
        &t.path().join("out"),
        &["-r", &rules, "--no-sanitize", &input],
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    // A row of empty fields is a blank line, as spreadsheets write one.
    assert_accounted(&r, 2);
    assert_eq!(r.summary()["files"][0]["blank_lines"], 1);
    let leads = r.rows("leads.csv");
    assert_eq!(leads[0]["First Name"], "John");
    assert_eq!(leads[0]["Last Name"], "McDonald");
    assert_eq!(leads[0]["Email"], "john.mcdonald@example.com");
    assert_eq!(leads[0]["Phone"], "+49301234567");
    assert_eq!(leads[0]["Country"], "DE");
    // What cannot be cleaned is kept as read.
    assert_eq!(leads[1]["First Name"], "Ana");
    assert_eq!(leads[1]["Email"], "not an email");
    assert_eq!(leads[1]["Phone"], "12");
    assert_eq!(leads[1]["Country"], "Atlantis");
}

#[test]
fn clean_section_errors_have_positions() {
    let t = tempdir().unwrap();
    let rules = write(
        t.path(),
        "bad.toml",
        b"[clean]\nphone_region = \"Germany\"\nwrite = [\"title\"]\n\n[[rule]]\nid = \"a\"\nwhen = 'seniority(\"CEO\") = \"c-level\"'\nfit = 1\n",
    );
    let out = leadsift(&["check", "--rules", &rules], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "bad.toml:2:16: [clean]: phone_region `Germany` is not an ISO 3166 country code"
        ),
        "{err}"
    );
    assert!(
        err.contains("bad.toml:3:10: [clean]: write: `title` cannot be written back"),
        "{err}"
    );
    assert!(
        err.contains("rule `a`: `seniority` takes one field, such as `seniority(title)`"),
        "{err}"
    );
}

#[test]
fn numbers_in_a_semicolon_file_are_read_with_a_decimal_comma() {
    let t = tempdir().unwrap();
    let eu = write(
        t.path(),
        "eu.csv",
        "E-Mail;Budget\nana@acme.de;30.000 €\nbo@acme.de;9.999,99\n".as_bytes(),
    );
    let us = write(
        t.path(),
        "us.csv",
        b"Email,Budget\ncy@acme.com,30.000\ndi@acme.com,\"$30,000\"\n",
    );
    let r = run(&t.path().join("eu"), &[&eu]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    // budget-10k marks the B of BANT at 10000 or more.
    assert_eq!(r.column("leads.csv", "leadsift_bant"), ["B---", "----"]);
    let r = run(&t.path().join("us"), &[&us]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(r.column("leads.csv", "leadsift_bant"), ["----", "B---"]);
}

#[test]
fn sigterm_during_a_run_leaves_the_previous_outputs_and_no_temporary_files() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    let small = write(t.path(), "small.csv", b"email\nana@acme.io\n");
    assert_eq!(run(&out, &[&small]).code(), 0);
    let before: Vec<Vec<u8>> = STAGE_FILES
        .iter()
        .chain(["summary.json"].iter())
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();

    let data = messy(40_000);
    let half = data.len() / 2;
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadsift"))
        .args([
            "run",
            "--progress",
            "never",
            "-o",
            out.to_str().unwrap(),
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&data[..half]).unwrap();
    stdin.flush().unwrap();
    // The run is now waiting for the rest of its input: the signal is
    // certain to arrive mid-run.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(std::time::Duration::from_millis(100));
    stdin.write_all(&data[half..]).unwrap();
    drop(stdin);
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    let after: Vec<Vec<u8>> = STAGE_FILES
        .iter()
        .chain(["summary.json"].iter())
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    assert!(before == after, "the previous outputs changed");
    let temps = temp_files(&out);
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn temporary_files_of_a_killed_run_are_removed_by_the_next() {
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // No process has this id (above Linux's pid_max).
    let stale = out.join(".leadsift-tmp-4999999-abc-leads.csv");
    std::fs::write(&stale, b"half a file").unwrap();
    let input = write(t.path(), "in.csv", b"email\nana@acme.io\n");
    let r = run(&out, &[&input]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert!(!stale.exists());
    assert!(
        r.stderr().contains("removed 1 temporary file(s) left in"),
        "{}",
        r.stderr()
    );
}

/// A full disk: a 64 KiB tmpfs, mounted where the test runs as root (CI
/// does). Elsewhere the test says why it did not run.
#[test]
fn a_full_disk_fails_the_run_and_keeps_the_previous_outputs() {
    use std::process::Command;
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        eprintln!("skipped: mounting a small filesystem needs root");
        return;
    }
    let t = tempdir().unwrap();
    let mnt = t.path().join("small");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=64k",
            "tmpfs",
            mnt.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(mounted.success(), "mount -t tmpfs failed");
    let out = mnt.join("out");
    let small = write(t.path(), "small.csv", b"email\nana@acme.io\n");
    let first = run(&out, &[&small]);
    let big = write(t.path(), "big.csv", &messy(5_000));
    let second = run(&out, &[&big]);
    let before_ok = first.code() == 0;
    let leads = std::fs::read_to_string(out.join("leads.csv")).unwrap_or_default();
    let temps = temp_files(&out);
    let _ = Command::new("umount").arg(&mnt).status();
    assert!(before_ok, "{}", first.stderr());
    assert_eq!(second.code(), 1, "{}", second.stderr());
    assert!(
        second.stderr().contains("No space left on device"),
        "{}",
        second.stderr()
    );
    assert!(leads.contains("ana@acme.io"), "previous leads.csv: {leads}");
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn owasp_payloads_are_written_as_the_golden_file_says() {
    let golden: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/owasp/golden.json")).unwrap(),
    )
    .unwrap();
    let t = tempdir().unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["email", "notes"]).unwrap();
    for (i, g) in golden.iter().enumerate() {
        let payload = g["payload"].as_str().unwrap();
        w.write_record([format!("user{i}@acme.io").as_str(), payload])
            .unwrap();
    }
    let input = write(t.path(), "in.csv", &w.into_inner().unwrap());
    let r = run(&t.path().join("out"), &[&input]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, golden.len() as u64);
    let written = r.column("leads.csv", "notes");
    let mut wrong = Vec::new();
    for (g, got) in golden.iter().zip(&written) {
        if g["written"].as_str().unwrap() != got {
            wrong.push(format!(
                "{:?} written as {got:?}, expected {:?}",
                g["payload"], g["written"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let raw = run(&t.path().join("raw"), &["--no-sanitize", &input]);
    let payloads: Vec<&str> = golden
        .iter()
        .map(|g| g["payload"].as_str().unwrap())
        .collect();
    assert_eq!(raw.column("leads.csv", "notes"), payloads);
}

#[cfg(unix)]
#[test]
fn outputs_get_the_permissions_of_any_new_file_not_private_ones() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    let input = write(t.path(), "in.csv", b"email\na@acme.io\n");
    let r = run(&out, &[&input]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    // A file made the ordinary way, under the same umask.
    let plain = t.path().join("plain");
    std::fs::write(&plain, b"x").unwrap();
    let want = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
    for f in STAGE_FILES.iter().chain(&["summary.json"]) {
        let mode = std::fs::metadata(out.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, want, "{f}: {mode:o}, a new file gets {want:o}");
    }
}
