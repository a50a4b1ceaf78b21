//! Duplicates within a file and across files, survivorship, exclusion
//! lists: what ends up in which file, and why.

mod common;

use common::{assert_accounted, run, run_stdin, write};

const HEADER: &str = "First Name,Last Name,Email,Phone,Company,Job Title,Country,Notes\n";

/// Day one of a trade show.
fn day1() -> String {
    format!(
        "{HEADER}\
Ana,Lima,Ana@Acme.de,+49 30 1234567,Acme GmbH,CTO,Germany,wants pricing\n\
Bob,Stone,bob@initech.com,,Initech,Intern,USA,\n\
Ana,Lima, ana@acme.de ,,Acme,Engineer,Germany,\n\
Carl,Meyer,carl@globex.com,,Globex Inc.,VP Sales,USA,\n"
    )
}

/// Day two: Ana again by phone (written the German way), Carl by name and
/// company under another address, Dora twice in one file.
fn day2() -> String {
    format!(
        "{HEADER}\
 ana , LIMA ,ana.lima@gmail.com,030 1234567,ACME GmbH,CTO,Germany,\n\
Carl,Meyer,c.meyer@globex.com,,Globex,VP Sales,USA,demo please\n\
Dora,Ng,dora@hooli.com,,Hooli,Student,USA,\n\
Dora,Ng,DORA@hooli.com ,,Hooli,Director,USA,call me\n"
    )
}

fn by_email(r: &common::Run, file: &str) -> Vec<(String, String, String, String, String)> {
    r.rows(file)
        .into_iter()
        .map(|row| {
            (
                row["Email"].clone(),
                row["leadsift_match"].clone(),
                row["leadsift_key"].clone(),
                format!(
                    "{}:{}",
                    row["leadsift_kept_file"], row["leadsift_kept_line"]
                ),
                format!("{}:{}", row["leadsift_file"], row["leadsift_line"]),
            )
        })
        .collect()
}

#[test]
fn each_person_comes_out_once_in_the_best_record() {
    let t = tempfile::tempdir().unwrap();
    let a = write(t.path(), "day1.csv", day1().as_bytes());
    let b = write(t.path(), "day2.csv", day2().as_bytes());
    let r = run(&t.path().join("out"), &[&a, &b]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 8);
    let s = r.summary();
    assert_eq!(s["duplicates"], 4);
    assert_eq!(s["dedup"]["people"], 4);
    assert_eq!(s["files"][0]["duplicates"], 2);
    assert_eq!(s["files"][1]["duplicates"], 2);
    // Ana: the CTO asking for pricing (an opportunity) is kept; the
    // engineer row (same email in other case, spaces) and the day-two row
    // (same phone, 030 read as German) are dropped.
    assert_eq!(r.column("opportunities.csv", "Email"), ["Ana@Acme.de"]);
    assert_eq!(r.column("prospects.csv", "Email"), ["c.meyer@globex.com"]);
    assert_eq!(r.column("leads.csv", "Email"), ["bob@initech.com"]);
    // Dora: one record is a student (disqualified); a disqualification is
    // about the person, so it is kept over the director row.
    assert_eq!(r.column("disqualified.csv", "Email"), ["dora@hooli.com"]);
    let dups = by_email(&r, "duplicates.csv");
    let d1 = a.as_str();
    let d2 = b.as_str();
    let want = vec![
        (
            " ana@acme.de ".to_string(),
            "email".to_string(),
            "ana@acme.de".to_string(),
            format!("{d1}:2"),
            format!("{d1}:4"),
        ),
        (
            "carl@globex.com".into(),
            "name_company".into(),
            "carl meyer|globex".into(),
            format!("{d2}:3"),
            format!("{d1}:5"),
        ),
        (
            "ana.lima@gmail.com".into(),
            "phone".into(),
            "+49301234567".into(),
            format!("{d1}:2"),
            format!("{d2}:2"),
        ),
        (
            "DORA@hooli.com ".into(),
            "email".into(),
            "dora@hooli.com".into(),
            format!("{d2}:4"),
            format!("{d2}:5"),
        ),
    ];
    assert_eq!(dups, want);
    let reasons = r.column("duplicates.csv", "leadsift_reasons");
    assert!(
        reasons[0].contains("the kept row reaches opportunity, this one lead"),
        "{}",
        reasons[0]
    );
    assert!(reasons[3].contains("disqualification holds for the person"));
    assert_eq!(
        r.column("duplicates.csv", "leadsift_kept_row"),
        ["1", "2", "1", "3"]
    );
}

#[test]
fn on_a_tie_the_more_complete_then_the_first_row_is_kept() {
    let t = tempfile::tempdir().unwrap();
    let f = write(
        t.path(),
        "in.csv",
        format!(
            "{HEADER}\
Eve,Park,eve@umbrella.com,,,,,\n\
Eve,Park,eve@umbrella.com,,Umbrella,,USA,\n\
Eve,Park,EVE@umbrella.com,,Umbrella,,USA,\n"
        )
        .as_bytes(),
    );
    let r = run(&t.path().join("out"), &[&f]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 3);
    assert_eq!(r.column("leads.csv", "leadsift_line"), ["3"]);
    assert_eq!(r.column("duplicates.csv", "leadsift_line"), ["2", "4"]);
    // `keep = ["last"]`: the latest row wins whatever it holds.
    let rules = write(
        t.path(),
        "last.toml",
        b"version = 1\n[usable]\nwhen = \"valid_email(email)\"\n[dedup]\nkeys = [\"email\"]\nkeep = [\"last\"]\n",
    );
    let r = run(&t.path().join("out2"), &["-r", &rules, &f]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(r.column("leads.csv", "leadsift_line"), ["4"]);
    assert_eq!(
        r.column("duplicates.csv", "leadsift_reasons"),
        [
            "same email as the kept row; the kept row comes later",
            "same email as the kept row; the kept row comes later"
        ]
    );
}

#[test]
fn keys_and_their_order_come_from_the_rules() {
    let t = tempfile::tempdir().unwrap();
    let a = write(t.path(), "day1.csv", day1().as_bytes());
    let b = write(t.path(), "day2.csv", day2().as_bytes());
    // Email only: Ana's day-two row (another address) and Carl's are new
    // people; the case-and-space variants still match.
    let rules = write(
        t.path(),
        "email.toml",
        b"version = 1\n[usable]\nwhen = \"valid_email(email)\"\n[dedup]\nkeys = [\"email\"]\n",
    );
    let r = run(&t.path().join("out"), &["-r", &rules, &a, &b]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 8);
    assert_eq!(r.summary()["duplicates"], 2);
    assert_eq!(
        r.column("duplicates.csv", "leadsift_match"),
        ["email", "email"]
    );
    // No keys: deduplication is off, nothing is dropped.
    let off = write(
        t.path(),
        "off.toml",
        b"version = 1\n[usable]\nwhen = \"valid_email(email)\"\n[dedup]\nkeys = []\n",
    );
    let r = run(&t.path().join("out2"), &["-r", &off, &a, &b]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 8);
    assert_eq!(r.summary()["duplicates"], 0);
    assert!(r.summary()["dedup"].is_null());
}

#[test]
fn canonical_gmail_addresses_match_only_when_asked() {
    let t = tempfile::tempdir().unwrap();
    let f = write(
        t.path(),
        "in.csv",
        b"email,company\nana.lima+expo@gmail.com,Acme\nanalima@googlemail.com,Acme\nana.lima@gmx.de,Acme\nanalima@gmx.de,Acme\n",
    );
    let plain = write(
        t.path(),
        "plain.toml",
        b"version = 1\n[usable]\nwhen = \"valid_email(email)\"\n[dedup]\nkeys = [\"email\"]\n",
    );
    let r = run(&t.path().join("a"), &["-r", &plain, &f]);
    assert_eq!(r.summary()["duplicates"], 0, "{}", r.stderr());
    let canon = write(
        t.path(),
        "canon.toml",
        b"version = 1\n[usable]\nwhen = \"valid_email(email)\"\n[dedup]\nkeys = [\"email\"]\ncanonical_email = true\n",
    );
    let r = run(&t.path().join("b"), &["-r", &canon, &f]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 4);
    // gmail ignores dots and +tags; gmx.de does not.
    assert_eq!(
        r.column("duplicates.csv", "email"),
        ["analima@googlemail.com"]
    );
    assert_eq!(
        r.column("duplicates.csv", "leadsift_key"),
        ["analima@gmail.com"]
    );
}

#[test]
fn the_same_bytes_for_any_number_of_threads_and_from_standard_input() {
    let t = tempfile::tempdir().unwrap();
    let mut text = String::from(HEADER);
    for i in 0..9_000u32 {
        // Every person three times: by email in another case, by phone.
        let p = i % 3_000;
        let email = if i % 3 == 1 {
            format!("Person{p}@Example.COM")
        } else {
            format!("person{p}@example.com")
        };
        let title = ["CTO", "Engineer", "Director"][(i % 3) as usize];
        text.push_str(&format!(
            "P{p},Q{p},{email},+1 415 555 {:04},Co{p},{title},USA,\n",
            p % 3_000
        ));
    }
    let f = write(t.path(), "big.csv", text.as_bytes());
    let one = t.path().join("one");
    let two = t.path().join("two");
    let r1 = run(&one, &["-j", "1", &f]);
    let r2 = run(&two, &["-j", "2", &f]);
    assert_eq!(r2.code(), 0, "{}", r2.stderr());
    assert_eq!(r1.code(), 0, "{}", r1.stderr());
    assert_accounted(&r1, 9_000);
    assert_eq!(r1.summary()["duplicates"], 6_000);
    for name in common::STAGE_FILES {
        assert_eq!(
            std::fs::read(one.join(name)).unwrap(),
            std::fs::read(two.join(name)).unwrap(),
            "{name}"
        );
    }
    // Standard input is read twice through a temporary copy.
    let three = t.path().join("three");
    let r3 = run_stdin(&three, &["-j", "2", "-"], Some(text.as_bytes()));
    assert_eq!(r3.code(), 0, "{}", r3.stderr());
    assert_accounted(&r3, 9_000);
    assert_eq!(
        r3.column("duplicates.csv", "leadsift_line"),
        r1.column("duplicates.csv", "leadsift_line")
    );
    let left: Vec<_> = std::fs::read_dir(&three)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".leadsift-tmp"))
        .collect();
    assert!(left.is_empty(), "temporary copy left behind: {left:?}");
}

#[test]
fn exclusion_lists_hold_back_customers_by_email_phone_and_domain() {
    let t = tempfile::tempdir().unwrap();
    let a = write(t.path(), "day1.csv", day1().as_bytes());
    let customers = write(
        t.path(),
        "customers.csv",
        b"Account,Email Address,Website\nInitech,BOB@initech.com,\nGlobex,,https://www.globex.com/about\n",
    );
    let r = run(&t.path().join("out"), &["--exclude", &customers, &a]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 4);
    let rows = r.rows("disqualified.csv");
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["Email"].as_str(), r["leadsift_reasons"].as_str()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "bob@initech.com");
    assert!(
        got[0].1.starts_with(&format!(
            "excluded: email bob@initech.com is on {customers} line 2"
        )),
        "{}",
        got[0].1
    );
    assert_eq!(got[1].0, "carl@globex.com");
    assert!(
        got[1].1.starts_with(&format!(
            "excluded: domain globex.com is on {customers} line 3"
        )),
        "{}",
        got[1].1
    );
    let s = r.summary();
    assert_eq!(s["exclusions"][0]["excluded_rows"], 2);
    assert_eq!(s["exclusions"][0]["rows"], 2);
    assert_eq!(s["exclusions"][0]["unused_rows"], 0);
    // Matching by email only: the domain entry no longer holds Carl back.
    let rules = write(
        t.path(),
        "r.toml",
        b"version = 1\n[usable]\nwhen = \"valid_email(email)\"\n[exclude]\nby = [\"email\"]\n",
    );
    let r = run(
        &t.path().join("out2"),
        &["-r", &rules, "--exclude", &customers, &a],
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_eq!(r.column("disqualified.csv", "Email"), ["bob@initech.com"]);
}

#[test]
fn an_exclusion_list_without_a_column_to_match_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let a = write(t.path(), "day1.csv", day1().as_bytes());
    let bad = write(t.path(), "list.csv", b"Name,Notes\nAna,vip\n");
    let r = run(&t.path().join("out"), &["--exclude", &bad, &a]);
    assert_ne!(r.code(), 0);
    assert!(r.stderr().contains("list.csv"), "{}", r.stderr());
    assert!(!t.path().join("out").join("summary.json").exists());
}

#[test]
fn dedup_settings_are_checked() {
    let t = tempfile::tempdir().unwrap();
    let rules = write(
        t.path(),
        "bad.toml",
        b"version = 1\n[dedup]\nkeys = [\"email\", \"fax\"]\nkeep = [\"first\", \"stage\"]\nfill = true\n",
    );
    let out = common::leadsift(&["check", "-r", &rules], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown key `fax`; keys are: email, phone, name_company"),
        "{err}"
    );
    assert!(err.contains("`stage` comes after `first`"), "{err}");
    assert!(err.contains("unknown key `fill`"), "{err}");
}

#[test]
fn fill_empty_takes_missing_values_from_duplicates_and_never_overwrites() {
    let t = tempfile::tempdir().unwrap();
    // Day one has Carl's phone; his kept row (day two) does not.
    let d1 = day1().replace("carl@globex.com,,", "carl@globex.com,+1 415 555 0100,");
    let a = write(t.path(), "day1.csv", d1.as_bytes());
    let b = write(t.path(), "day2.csv", day2().as_bytes());
    let mut text = std::fs::read_to_string(common::root().join("rules/default.toml")).unwrap();
    text.push_str("\n[dedup]\nfill_empty = true\n");
    // The rules' list files are found beside the rules file.
    let dir = tempfile::tempdir_in(common::root().join("rules")).unwrap();
    std::fs::create_dir(dir.path().join("lists")).unwrap();
    for l in ["competitors.txt", "free_mail.txt", "disposable.txt"] {
        std::fs::copy(
            common::root().join("rules/lists").join(l),
            dir.path().join("lists").join(l),
        )
        .unwrap();
    }
    let rules = dir.path().join("fill.toml");
    std::fs::write(&rules, text).unwrap();
    let r = run(
        &t.path().join("out"),
        &["-r", rules.to_str().unwrap(), &a, &b],
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 8);
    // Carl's kept row (day two) has no phone: day one's is filled in.
    let carl = &r.rows("prospects.csv")[0];
    assert_eq!(carl["Email"], "c.meyer@globex.com");
    assert_eq!(carl["Phone"], "'+1 415 555 0100");
    assert!(
        carl["leadsift_reasons"]
            .ends_with(&format!("filled from duplicates: phone from {a} line 5")),
        "{}",
        carl["leadsift_reasons"]
    );
    // Dora's kept (disqualified) row gets the note; its own title stays.
    let dora = &r.rows("disqualified.csv")[0];
    assert_eq!(dora["Notes"], "call me");
    assert_eq!(dora["Job Title"], "Student");
    // Ana's kept row has everything: nothing is overwritten.
    let ana = &r.rows("opportunities.csv")[0];
    assert_eq!(ana["Notes"], "wants pricing");
    assert!(!ana["leadsift_reasons"].contains("filled"));
    // The duplicates still hold their own values.
    assert_eq!(r.rows("duplicates.csv").len(), 4);
}

#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_once_and_copied_for_the_second_pass() {
    let t = tempfile::tempdir().unwrap();
    let fifo = t.path().join("leads.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::fs::write(&fifo, b"email\na@acme.io\nA@acme.io\nb@acme.io\n").unwrap();
        })
    };
    let r = run(&t.path().join("out"), &[fifo.to_str().unwrap()]);
    writer.join().unwrap();
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r, 3);
    assert_eq!(r.column("duplicates.csv", "email"), ["A@acme.io"]);
}

/// Keeping the first row of one key is decided batch by batch in a single
/// pass; it must give the bytes the two-pass run gives. Rules matching on
/// email alone run in one pass; adding `phone` (which no row has here)
/// forces two passes without changing who is whose duplicate.
#[test]
fn one_pass_first_kept_agrees_with_two_passes() {
    one_pass_agrees(&[]);
}

#[test]
fn one_pass_agrees_with_two_passes_in_json_lines_with_grades() {
    one_pass_agrees(&["--out-format", "jsonl"]);
}

fn one_pass_agrees(opts: &[&str]) {
    let t = tempfile::tempdir().unwrap();
    let mut csv = String::from("First Name,Email,Company,Title\n");
    // Enough rows for several batches and chunks; every 7th row repeats
    // an earlier address in other case; some rows are broken or unusable.
    for i in 0..40_000u32 {
        match i % 97 {
            5 => csv.push_str(&format!("N{i},,Co {i},CTO\n")),
            6 => csv.push_str(&format!("N{i},x{i}@co.io,Co,CTO,extra\n")),
            _ if i % 7 == 3 => {
                csv.push_str(&format!("N{i},P{}@Firm{}.IO,Firm,VP Sales\n", i / 3, i / 3))
            }
            _ => csv.push_str(&format!("N{i},p{i}@firm{i}.io,Firm {i},Engineer\n")),
        }
    }
    let a = write(t.path(), "a.csv", csv.as_bytes());
    let b = write(
        t.path(),
        "b.csv",
        csv.lines()
            .take(5_000)
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
    );
    // Points, a disqualifying rule and grades: their counts in the
    // summary must leave out the duplicates.
    let rules = r#"
[groups]
fit = {}
engagement = {}

[[rule]]
id = "senior"
when = "title matches '(?i)vp|cto'"
fit = 30

[[rule]]
id = "firm"
when = "company contains 'Firm'"
engagement = 15

[[rule]]
id = "odd"
when = "first_name ends with '3'"
disqualify = "odd name"

[[rule]]
id = "one"
when = "first_name ends with '1'"
engagement = 20

[grades]
fit = { group = "fit", A = 30 }
engagement = { group = "engagement", 1 = 15 }

[stages]
opportunity = "fit >= 30 and engagement >= 35"
prospect = "fit >= 30 and engagement >= 15"

[fields]
title = ["title"]
"#;
    let one = write(
        t.path(),
        "one.toml",
        format!("{rules}\n[dedup]\nkeys = [\"email\"]\nkeep = [\"first\"]\n").as_bytes(),
    );
    let two = write(
        t.path(),
        "two.toml",
        format!("{rules}\n[dedup]\nkeys = [\"email\", \"phone\"]\nkeep = [\"first\"]\n").as_bytes(),
    );
    let r1 = run(
        &t.path().join("one"),
        &[&["-r", &one, "-j", "2"][..], opts, &[&a, &b]].concat(),
    );
    let r2 = run(
        &t.path().join("two"),
        &[&["-r", &two, "-j", "2"][..], opts, &[&a, &b]].concat(),
    );
    assert_eq!(r1.code(), 0, "{}", r1.stderr());
    assert_eq!(r2.code(), 0, "{}", r2.stderr());
    let json = opts.contains(&"jsonl");
    if !json {
        assert_accounted(&r1, 40_000 + 4_999);
    }
    assert!(r1.summary()["duplicates"].as_u64().unwrap() > 5_000);
    for f in common::STAGE_FILES {
        let f = if json {
            f.replace(".csv", ".jsonl")
        } else {
            f.into()
        };
        let x = std::fs::read(t.path().join("one").join(&f)).unwrap();
        let y = std::fs::read(t.path().join("two").join(&f)).unwrap();
        assert!(x == y, "{f} differs between one and two passes");
    }
    assert_eq!(
        r1.summary()["dedup"]["people"],
        r2.summary()["dedup"]["people"]
    );
    // One pass writes each row as kept first and takes the duplicates
    // back out: the summary's counts must not remember them.
    for k in [
        "rows_in",
        "stages",
        "duplicates",
        "files",
        "rejects",
        "disqualified",
        "rule_hits",
        "coverage",
        "sources",
        "scores",
        "grades",
    ] {
        assert_eq!(r1.summary()[k], r2.summary()[k], "summary {k}");
    }
    for (stage, n) in r1.summary()["stages"].as_object().unwrap() {
        assert!(
            n.as_u64().unwrap() > 0,
            "no {stage} row: the rules test too little"
        );
    }
    if json {
        return;
    }
    // Duplicates in the second file point back into the first.
    let dup = r1.rows("duplicates.csv");
    assert!(dup.iter().any(
        |d| d["leadsift_file"].ends_with("b.csv") && d["leadsift_kept_file"].ends_with("a.csv")
    ));
}
