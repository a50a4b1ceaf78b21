//! The nightly job's and the CI script's interface: gates and their exit
//! statuses, dry runs, strict runs, streaming a stage to stdout, output
//! formats, the byte-order mark, completions, the man page and --version.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::*;
use tempfile::tempdir;

const WEBFORM: &str = "samples/webform.csv";

/// A small export: three good rows, one with too many fields (line 4),
/// one with no contact data, and a duplicate of the first by email.
const MESSY: &str = "\
First Name,Last Name,Email,Company,Title,Lead Source
Ana,Lima,ana@northwind.io,Northwind,VP Sales,Webinar
Ben,Ode,ben@acme.io,Acme,Engineer,Web
Cy,Roe,cy@initech.io,Initech,CTO,Web,extra
Dee,Park,,Globex,Analyst,Referral
Ana,Lima,ANA@northwind.io,Northwind,VP Sales,Webinar
";

fn gate_run(args: &[&str]) -> (Run, tempfile::TempDir) {
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    let mut all = vec![WEBFORM, "-q"];
    all.extend_from_slice(args);
    let r = run(&out, &all);
    (r, t)
}

#[test]
fn each_gate_fails_with_its_own_status_after_writing_everything() {
    // webform.csv: 12 rows, 2 rejected, 4 opportunities, 0 duplicates.
    let cases: [(&[&str], i32, &str); 5] = [
        (&["--min-rows", "13"], 3, "--min-rows 13: FAILED (12 rows read: 1 row(s) short of the limit; exit status 3)"),
        (&["--max-rejected", "1"], 4, "--max-rejected 1: FAILED (2 rows rejected: 1 row(s) over the limit; exit status 4)"),
        (&["--max-rejected", "10%"], 4, "--max-rejected 10%: FAILED (2 rows rejected, 16.67% of 12: 6.67 percentage point(s) over the limit; exit status 4)"),
        (&["--min-stage", "opportunity=5"], 6, "--min-stage opportunity=5: FAILED (4 opportunity rows: 1 row(s) short of the limit; exit status 6)"),
        (&["--min-stage", "prospects=10%"], 6, "--min-stage prospect=10%: FAILED (1 prospect rows, 8.33% of 12: 1.67 percentage point(s) short of the limit; exit status 6)"),
    ];
    for (args, status, message) in cases {
        let (r, _t) = gate_run(args);
        assert_eq!(r.code(), status, "{args:?}: {}", r.stderr());
        assert!(
            r.stderr().contains(&format!("leadsift: {message}")),
            "{args:?}: {}",
            r.stderr()
        );
        // Outputs and the summary are written before the gate fails.
        assert_accounted(&r, 12);
        let gates = r.summary()["gates"].clone();
        assert_eq!(gates[0]["passed"], false, "{gates}");
        assert_eq!(gates[0]["exit_status"], status, "{gates}");
        assert_eq!(gates[0]["message"], message, "{gates}");
    }
}

#[test]
fn gates_that_hold_exit_zero_and_are_reported() {
    let (r, _t) = gate_run(&[
        "--min-rows",
        "12",
        "--max-rejected",
        "2",
        "--max-duplicates",
        "0%",
        "--min-stage",
        "opportunity=4",
    ]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let gates = r.summary()["gates"].as_array().unwrap().clone();
    assert_eq!(gates.len(), 4);
    assert!(gates.iter().all(|g| g["passed"] == true), "{gates:?}");
    assert_eq!(gates[1]["gate"], "--max-rejected 2");
    assert_eq!(gates[1]["actual"], 2.0);
    assert_eq!(gates[2]["unit"], "percent");
}

#[test]
fn duplicates_gate_and_the_lowest_failed_status_wins() {
    let t = tempdir().unwrap();
    let input = write(t.path(), "messy.csv", MESSY.as_bytes());
    let out = t.path().join("out");
    let r = run(&out, &[&input, "-q", "--max-duplicates", "10%"]);
    assert_eq!(r.code(), 5, "{}", r.stderr());
    assert!(r.stderr().contains(
        "--max-duplicates 10%: FAILED (1 duplicate rows, 20% of 5: 10 percentage point(s) over the limit; exit status 5)"
    ));
    // Two gates fail: 4 (rejected) ranks before 5 (duplicates).
    let r = run(
        &out,
        &[&input, "-q", "--max-duplicates", "0", "--max-rejected", "0"],
    );
    assert_eq!(r.code(), 4, "{}", r.stderr());
    assert!(r.stderr().contains("--max-duplicates 0: FAILED"));
    assert!(r.stderr().contains("--max-rejected 0: FAILED"));
}

#[test]
fn bad_gate_options_are_usage_errors() {
    let t = tempdir().unwrap();
    for (args, msg) in [
        (
            &["--max-rejected", "lots"][..],
            "--max-rejected lots: give a number of rows",
        ),
        (&["--max-duplicates", "150%"][..], "between 0% and 100%"),
        (&["--min-stage", "hot=1"][..], "unknown stage `hot`"),
        (&["--min-stage", "lead"][..], "write STAGE=N or STAGE=P%"),
    ] {
        let mut all = vec![WEBFORM];
        all.extend_from_slice(args);
        let r = run(&t.path().join("out"), &all);
        assert_eq!(r.code(), 2, "{args:?}");
        assert!(r.stderr().contains(msg), "{args:?}: {}", r.stderr());
        assert!(
            !t.path().join("out").exists(),
            "nothing written on a usage error"
        );
    }
}

#[test]
fn dry_run_writes_nothing_but_reports_and_gates() {
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    let state = t.path().join("state.db");
    let st = state.to_str().unwrap();
    let r = run(
        &out,
        &[
            WEBFORM,
            "--dry-run",
            "--json",
            "--state",
            st,
            "--max-rejected",
            "0",
        ],
    );
    assert_eq!(r.code(), 4, "{}", r.stderr());
    assert!(!out.exists(), "a dry run creates no output directory");
    assert!(!state.exists(), "a dry run creates no state file");
    let s: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    assert_eq!(s["rows_in"], 12);
    assert_eq!(s["stages"]["opportunity"], 4);
    assert_eq!(s["state"]["changes"]["new"], 10);
    assert!(
        r.stderr().contains("dry run: nothing was written"),
        "{}",
        r.stderr()
    );
    assert!(
        r.stderr().contains("--max-rejected 0: FAILED"),
        "the summary shows the gate"
    );
    assert!(!r.stderr().contains("outputs in"));

    // Into an existing directory: it is left byte for byte as it was.
    let r = run(&out, &[WEBFORM]);
    assert_eq!(r.code(), 0);
    let before = snapshot(&out);
    let r = run(&out, &["samples/crm-export.csv", "--dry-run"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(snapshot(&out), before);
    assert!(temp_files(&out).is_empty());
}

fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn strict_stops_at_the_first_malformed_row_and_writes_nothing() {
    let t = tempdir().unwrap();
    let input = write(t.path(), "messy.csv", MESSY.as_bytes());
    let out = t.path().join("out");
    // A previous good run's outputs stay as they were.
    let good = run(&out, &[WEBFORM]);
    assert_eq!(good.code(), 0);
    let before = snapshot(&out);
    for jobs in ["1", "2"] {
        let r = run(&out, &[&input, "--strict", "-j", jobs]);
        assert_eq!(r.code(), 1, "{}", r.stderr());
        assert!(
            r.stderr().contains(&format!(
                "{input}:4: too-many-fields: 7 fields where the header has 6 (--strict stops at the first malformed row; nothing was written)"
            )),
            "{}",
            r.stderr()
        );
        assert_eq!(snapshot(&out), before);
    }
    // A row without contact data is not malformed: strict lets it through
    // to rejected.csv, and pads short rows when asked to.
    let ok = MESSY.replace(",extra", "");
    let input = write(t.path(), "ok.csv", ok.as_bytes());
    let r = run(&out, &[&input, "--strict"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(
        r.column("rejected.csv", "leadsift_reject_kind"),
        ["unusable"]
    );
}

/// Runs leadsift with stdout piped and returns (status, stdout bytes).
fn stream(dir: &std::path::Path, args: &[&str]) -> (i32, Vec<u8>, String) {
    let d = dir.to_str().unwrap();
    let mut all = vec!["run", "--progress", "never", "-q", "-o", d];
    all.extend_from_slice(args);
    let out = leadsift(&all, None);
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn stdout_streams_one_stage_and_every_file_is_still_written() {
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    let (code, bytes, err) = stream(&out, &[WEBFORM, "--stdout", "opportunity"]);
    assert_eq!(code, 0, "{err}");
    let file = std::fs::read(out.join("opportunities.csv")).unwrap();
    assert_eq!(bytes, file, "stdout carries the stage file's bytes");
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    assert_eq!(rdr.records().count(), 4);
    assert_accounted(
        &Run {
            out: leadsift(&["--version"], None),
            dir: out.clone(),
        },
        12,
    );
    // The plural (the file's name) works too; duplicates can be streamed.
    let (code, bytes, _) = stream(&out, &["samples/crm-export.csv", "--stdout", "duplicates"]);
    assert_eq!(code, 0);
    assert_eq!(bytes, std::fs::read(out.join("duplicates.csv")).unwrap());
    let (code, _, err) = stream(&out, &[WEBFORM, "--stdout", "leads", "--json"]);
    assert_eq!(code, 2, "--stdout and --json both want stdout");
    assert!(err.contains("cannot be used with"), "{err}");
}

/// One-pass deduplication takes duplicates back out of the rows it has
/// written: the stream, like the file, must leave them out.
#[test]
fn stdout_of_one_pass_dedup_leaves_the_duplicates_out() {
    let t = tempdir().unwrap();
    let mut csv = String::from("Email,Company,Title\n");
    for i in 0..20_000 {
        // Every fifth row repeats an earlier address in other case.
        match i % 5 {
            4 => csv.push_str(&format!("P{}@FIRM.IO,Firm,VP Sales\n", i - 3)),
            _ => csv.push_str(&format!("p{i}@firm.io,Firm,VP Sales\n")),
        }
    }
    let input = write(t.path(), "leads.csv", csv.as_bytes());
    let rules = write(
        t.path(),
        "one.toml",
        b"[dedup]\nkeys = [\"email\"]\nkeep = [\"first\"]\n",
    );
    let out = t.path().join("out");
    let (code, bytes, err) = stream(&out, &["-r", &rules, &input, "--stdout", "lead"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(bytes, std::fs::read(out.join("leads.csv")).unwrap());
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.lines().count(), 1 + 16_000, "header and the kept rows");
    assert!(!text.contains("@FIRM.IO"), "a duplicate was streamed");
    let dups = std::fs::read_to_string(out.join("duplicates.csv")).unwrap();
    assert_eq!(dups.lines().count(), 1 + 4_000);
}

#[test]
fn a_closed_pipe_ends_the_stream_quietly_and_loses_no_row() {
    let t = tempdir().unwrap();
    // Enough rows that the stream outlasts the reader.
    let mut big = String::from("Email,Company,Title\n");
    for i in 0..60_000 {
        big.push_str(&format!("p{i}@firm{i}.io,Firm {i},VP Sales\n"));
    }
    let input = write(t.path(), "big.csv", big.as_bytes());
    let out = t.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadsift"))
        .args(["run", "--progress", "never", "-q", "-o"])
        .arg(&out)
        .args([&input, "--stdout", "lead"])
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe is closed here, with most rows still to come.
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "", "a closed pipe is not an error");
    assert!(first.starts_with(b"Email,Company,Title,leadsift_stage"));
    let r = Run {
        out: leadsift(&["--version"], None),
        dir: out,
    };
    assert_accounted(&r, 60_000);
}

#[test]
fn tsv_and_jsonl_outputs_read_back_exactly() {
    let t = tempdir().unwrap();
    let csv_dir = t.path().join("csv");
    let r = run(&csv_dir, &[WEBFORM]);
    assert_eq!(r.code(), 0);
    let want = r.rows("prospects.csv");

    let tsv_dir = t.path().join("tsv");
    let r = run(&tsv_dir, &[WEBFORM, "--out-format", "tsv"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert!(!tsv_dir.join("prospects.csv").exists());
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(tsv_dir.join("prospects.tsv"))
        .unwrap();
    let head = rdr.headers().unwrap().clone();
    let got: Vec<std::collections::BTreeMap<String, String>> = rdr
        .records()
        .map(|r| {
            head.iter()
                .map(String::from)
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect();
    assert_eq!(got, want);
    for f in [
        "leads",
        "opportunities",
        "disqualified",
        "rejected",
        "duplicates",
    ] {
        assert!(tsv_dir.join(format!("{f}.tsv")).exists(), "{f}.tsv");
    }

    let jl_dir = t.path().join("jsonl");
    let r = run(&jl_dir, &[WEBFORM, "--out-format", "jsonl"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let text = std::fs::read_to_string(jl_dir.join("prospects.jsonl")).unwrap();
    let objs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), want.len());
    for (o, w) in objs.iter().zip(&want) {
        assert_eq!(o["Email Address"], w["Email Address"].as_str());
        assert_eq!(o["leadsift_stage"], "prospect");
        // Leadsift's numbers are numbers; input cells stay text.
        let fit: i64 = w["leadsift_fit"].parse().unwrap();
        assert_eq!(o["leadsift_fit"], fit);
        assert_eq!(
            o["leadsift_row"].as_u64().map(|n| n.to_string()),
            Some(w["leadsift_row"].clone())
        );
        assert!(o["Phone Number"].is_string());
    }
    let rejected = std::fs::read_to_string(jl_dir.join("rejected.jsonl")).unwrap();
    assert_eq!(rejected.lines().count(), 2);
    let all: usize = [
        "leads",
        "prospects",
        "opportunities",
        "disqualified",
        "rejected",
        "duplicates",
    ]
    .iter()
    .map(|f| {
        std::fs::read_to_string(jl_dir.join(format!("{f}.jsonl")))
            .unwrap()
            .lines()
            .count()
    })
    .sum();
    assert_eq!(all, 12, "every row in the JSON Lines files");
}

#[test]
fn jsonl_keeps_formulas_as_read_and_repeated_headers_apart() {
    let t = tempdir().unwrap();
    let input = write(
        t.path(),
        "f.csv",
        b"Email,Notes,Notes\nana@acme.io,=HYPERLINK(\"x\"),second\n",
    );
    let out = t.path().join("out");
    let (code, bytes, err) = stream(&out, &[&input, "--out-format", "jsonl", "--stdout", "lead"]);
    assert_eq!(code, 0, "{err}");
    let o: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(o["Notes"], "=HYPERLINK(\"x\")");
    assert_eq!(o["Notes_2"], "second");
}

#[test]
fn bom_starts_csv_and_tsv_files_only() {
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    let r = run(&out, &[WEBFORM, "--bom"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    for f in STAGE_FILES {
        let b = std::fs::read(out.join(f)).unwrap();
        assert!(b.starts_with(b"\xEF\xBB\xBFTimestamp,"), "{f}");
    }
    let r = run(&out, &[WEBFORM, "--bom", "--out-format", "tsv"]);
    assert_eq!(r.code(), 0);
    assert!(std::fs::read(out.join("leads.tsv"))
        .unwrap()
        .starts_with(b"\xEF\xBB\xBFTimestamp\t"));
    let r = run(&out, &[WEBFORM, "--bom", "--out-format", "jsonl"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("--bom is for CSV and TSV files"));
    // Streamed to stdout, no BOM: it would end up inside a pipeline.
    let (code, bytes, _) = stream(&out, &[WEBFORM, "--bom", "--stdout", "lead"]);
    assert_eq!(code, 0);
    assert!(bytes.starts_with(b"Timestamp,"));
}

#[test]
fn completions_and_man_page_are_generated_from_the_options() {
    for (shell, marker) in [
        ("bash", "_leadsift()"),
        ("zsh", "#compdef leadsift"),
        ("fish", "complete -c leadsift"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = leadsift(&["completions", shell], None);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{shell}");
        assert!(
            text.contains("max-rejected"),
            "{shell} completes run's options"
        );
    }
    let out = leadsift(&["completions", "tcsh"], None);
    assert_eq!(out.status.code(), Some(2));

    let out = leadsift(&["man"], None);
    assert_eq!(out.status.code(), Some(0));
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(man.starts_with(".ie \\n(.g .ds Aq"), "roff: {}", &man[..80]);
    assert!(man.contains(".TH leadsift 1"));
    assert!(man.contains(".SH \"LEADSIFT RUN\""));
    assert!(man.contains("max\\-rejected"));
    assert!(man.contains("LEADSIFT_RULES"));
    assert!(man.contains("Exit status"));
}

#[test]
fn version_and_help_serve_a_script_writer() {
    let out = leadsift(&["--version"], None);
    let v = String::from_utf8(out.stdout).unwrap();
    assert!(
        v.starts_with(&format!("leadsift {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let out = leadsift(&["run", "--help"], None);
    let help = String::from_utf8(out.stdout).unwrap();
    for want in [
        "Examples:",
        "[env: LEADSIFT_RULES=]",
        "[env: LEADSIFT_OUT=]",
        "--max-rejected <N|P%>",
        "--dry-run",
        "--stdout <STAGE>",
        "Exit status",
    ] {
        assert!(help.contains(want), "run --help lacks {want}");
    }
    for sub in ["check", "completions", "man"] {
        let out = leadsift(&[sub, "--help"], None);
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Examples:"), "{sub} --help");
    }
}
