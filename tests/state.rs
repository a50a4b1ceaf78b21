//! Nightly runs with `--state`: new, changed and unchanged rows, stages
//! that hold, and a state file that only a successful run changes.

mod common;

use std::collections::BTreeMap;

use common::{assert_accounted, run, write};

const HEADER: &str = "First Name,Last Name,Email,Company,Job Title,Country,Notes\n";

/// Email -> (stage file, change, previous stage, first seen) of every row
/// written to the four stage files.
fn changes(r: &common::Run) -> BTreeMap<String, (String, String, String, String)> {
    let mut out = BTreeMap::new();
    for f in [
        "leads.csv",
        "prospects.csv",
        "opportunities.csv",
        "disqualified.csv",
    ] {
        for row in r.rows(f) {
            out.insert(
                row["Email"].to_lowercase(),
                (
                    row["leadsift_stage"].clone(),
                    row["leadsift_change"].clone(),
                    row["leadsift_previous_stage"].clone(),
                    row["leadsift_first_seen"].clone(),
                ),
            );
        }
    }
    out
}

fn t4(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
    (a.into(), b.into(), c.into(), d.into())
}

#[test]
fn three_nights_new_changed_unchanged_and_held() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("leads.db");
    let st = state.to_str().unwrap();
    let night1 = write(
        t.path(),
        "n1.csv",
        format!(
            "{HEADER}\
Ana,Lima,ana@acme.de,Acme,CTO,Germany,send pricing\n\
Bob,Stone,bob@initech.com,Initech,Engineer,USA,\n\
Carl,Meyer,carl@globex.com,Globex,VP Sales,USA,\n"
        )
        .as_bytes(),
    );
    let r1 = run(
        &t.path().join("o1"),
        &["--state", st, "--as-of", "2026-11-20", &night1],
    );
    assert_eq!(r1.code(), 0, "{}", r1.stderr());
    assert_accounted(&r1, 3);
    let c = changes(&r1);
    assert_eq!(c["ana@acme.de"], t4("opportunity", "new", "", "2026-11-20"));
    assert_eq!(c["bob@initech.com"], t4("lead", "new", "", "2026-11-20"));
    assert_eq!(c["carl@globex.com"], t4("lead", "new", "", "2026-11-20"));
    // Night two: Ana now reads as a lead (no pricing note): held at
    // opportunity, changed (her score moved). Carl asks for a demo: up to prospect. Bob is the same.
    // Dora is new; Ana's second address is the same person by name.
    let night2 = write(
        t.path(),
        "n2.csv",
        format!(
            "{HEADER}\
Ana,Lima,ANA@acme.de,Acme,Engineer,Germany,\n\
Bob,Stone,bob@initech.com,Initech,Engineer,USA,\n\
Carl,Meyer,carl@globex.com,Globex,VP Sales,USA,please book a demo\n\
Dora,Ng,dora@hooli.com,Hooli,Director,USA,\n"
        )
        .as_bytes(),
    );
    let r2 = run(
        &t.path().join("o2"),
        &["--state", st, "--as-of", "2026-11-21", &night2],
    );
    assert_eq!(r2.code(), 0, "{}", r2.stderr());
    assert_accounted(&r2, 4);
    let c = changes(&r2);
    assert_eq!(
        c["ana@acme.de"],
        t4("opportunity", "changed", "opportunity", "2026-11-20")
    );
    assert_eq!(
        c["bob@initech.com"],
        t4("lead", "unchanged", "lead", "2026-11-20")
    );
    assert_eq!(
        c["carl@globex.com"],
        t4("prospect", "changed", "lead", "2026-11-20")
    );
    assert_eq!(c["dora@hooli.com"], t4("lead", "new", "", "2026-11-21"));
    let ana = &r2.rows("opportunities.csv")[0];
    assert!(
        ana["leadsift_reasons"].contains("held at opportunity"),
        "{}",
        ana["leadsift_reasons"]
    );
    let s = r2.summary();
    let ch = &s["state"]["changes"];
    assert_eq!(
        (
            ch["new"].as_u64(),
            ch["changed"].as_u64(),
            ch["unchanged"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(
        (
            ch["moved_up"].as_u64(),
            ch["held"].as_u64(),
            ch["stayed"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(s["state"]["keys_before"], 6);
    // Night three, only what changed: nothing changed but Dora, who is
    // now a student (disqualified); the others are counted, not written.
    let night3 = write(
        t.path(),
        "n3.csv",
        format!(
            "{HEADER}\
Bob,Stone,bob@initech.com,Initech,Engineer,USA,\n\
Carl,Meyer,carl@globex.com,Globex,VP Sales,USA,please book a demo\n\
Dora,Ng,dora@hooli.com,Hooli,Student,USA,\n"
        )
        .as_bytes(),
    );
    let r3 = run(
        &t.path().join("o3"),
        &[
            "--state",
            st,
            "--as-of",
            "2026-11-22",
            "--only-changed",
            &night3,
        ],
    );
    assert_eq!(r3.code(), 0, "{}", r3.stderr());
    let c = changes(&r3);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        c["dora@hooli.com"],
        t4("disqualified", "changed", "lead", "2026-11-21")
    );
    let s = r3.summary();
    assert_eq!(s["rows_in"], 3);
    assert_eq!(s["state"]["changes"]["not_written"], 2);
    assert_eq!(s["stages"]["lead"], 1);
    assert_eq!(s["stages"]["prospect"], 1);
    // With --allow-downgrade a stage may move down.
    let r4 = run(
        &t.path().join("o4"),
        &[
            "--state",
            st,
            "--as-of",
            "2026-11-23",
            "--allow-downgrade",
            &night2,
        ],
    );
    assert_eq!(r4.code(), 0, "{}", r4.stderr());
    let c = changes(&r4);
    assert_eq!(c["ana@acme.de"].0, "lead");
    assert_eq!(c["ana@acme.de"].1, "changed");
    assert_eq!(r4.summary()["state"]["changes"]["moved_down"], 1);
}

#[test]
fn a_failed_or_interrupted_run_leaves_the_state_as_it_was() {
    let t = tempfile::tempdir().unwrap();
    let state = t.path().join("leads.db");
    let st = state.to_str().unwrap();
    let small = write(
        t.path(),
        "small.csv",
        format!("{HEADER}Ana,Lima,ana@acme.de,Acme,CTO,Germany,\n").as_bytes(),
    );
    let r = run(&t.path().join("o"), &["--state", st, &small]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let before = std::fs::read(&state).unwrap();
    // A run that fails on its input changes nothing.
    let broken = write(t.path(), "broken.csv", b"Name,Notes\nAna,x\n");
    let r = run(&t.path().join("o"), &["--state", st, &broken]);
    assert_ne!(r.code(), 0);
    assert_eq!(std::fs::read(&state).unwrap(), before);
    // A run stopped by SIGTERM half way changes nothing either (enough
    // rows that the run is still going when the signal comes: 150,000
    // once took over a second, now well under).
    let mut text = String::from(HEADER);
    for i in 0..1_000_000 {
        text.push_str(&format!("P{i},Q{i},p{i}@example.com,Co{i},CTO,USA,\n"));
    }
    let big = write(t.path(), "big.csv", text.as_bytes());
    let out = t.path().join("o2");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leadsift"))
        .args(["run", "-q", "--progress", "never", "-o"])
        .arg(&out)
        .args(["--state", st, &big])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "the run should still be going");
    assert_eq!(std::fs::read(&state).unwrap(), before);
    // A second run on a state in use fails at once instead of waiting.
    // (The lock is held from start to end of a run.)
}

#[test]
fn a_file_that_is_not_a_state_is_refused_and_left_alone() {
    let t = tempfile::tempdir().unwrap();
    let input = write(
        t.path(),
        "in.csv",
        format!("{HEADER}Ana,Lima,ana@acme.de,Acme,CTO,Germany,\n").as_bytes(),
    );
    let not_state = write(
        t.path(),
        "contacts.csv",
        b"this is a CSV file, not a state\n",
    );
    let r = run(&t.path().join("o"), &["--state", &not_state, &input]);
    assert_ne!(r.code(), 0);
    assert!(r.stderr().contains("contacts.csv"), "{}", r.stderr());
    assert_eq!(
        std::fs::read(&not_state).unwrap(),
        b"this is a CSV file, not a state\n"
    );
    // --only-changed means nothing without a state.
    let r = run(&t.path().join("o"), &["--only-changed", &input]);
    assert_eq!(r.code(), 2, "{}", r.stderr());
}
