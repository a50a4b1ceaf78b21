//! The edge-case corpus (`tests/corpus/`): small inputs that each hold one
//! kind of mess a real export has (an encoding, a delimiter, line endings,
//! title lines, a stray quote, ragged rows, oversized fields, a workbook,
//! a binary file, placeholders), each run through the real binary with the
//! built-in rules unless a case says otherwise.
//!
//! Each case checks where every row went (stage file, line, row, and for
//! rejects the kind and the raw record), what the summary says was
//! detected, and that every row is accounted for. Inputs in other
//! encodings are made here from a UTF-8 original, so the corpus holds no
//! opaque binaries.

mod common;

use std::path::Path;

use common::*;
use encoding_rs::WINDOWS_1252;
use serde_json::{json, Value};
use tempfile::tempdir;

fn corpus(name: &str) -> String {
    format!("tests/corpus/{name}")
}

fn corpus_text(name: &str) -> String {
    std::fs::read_to_string(root().join(corpus(name))).expect("corpus file")
}

/// Runs `leadsift run` and insists on exit status 0.
fn run_ok(case: &str, dir: &Path, args: &[&str]) -> Run {
    let r = run(dir, args);
    assert_eq!(r.code(), 0, "{case}: exit status; stderr:\n{}", r.stderr());
    r
}

/// The records of one output file, header first, as written (duplicate
/// header names kept, which a header -> value map would merge).
fn table(r: &Run, file: &str) -> Vec<Vec<String>> {
    let path = r.dir.join(file);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rdr.records()
        .map(|rec| rec.expect("record").iter().map(String::from).collect())
        .collect()
}

fn index_of(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column `{name}` in {header:?}"))
}

/// Control characters as escapes, so that a row shows on one line.
fn visible(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '\t' => "\\t".to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Where every row went, one entry per row, the stage files in order:
/// `leads.csv 2/1 ana@x.com` (line/row, then the first `email` column),
/// and for rejects also the kind and the raw record:
/// `rejected.csv 3/2 too-few-fields - [bo@x.com,Bo]`. An empty email is
/// shown as `-`; line breaks and other control characters as escapes.
fn placement(r: &Run, email: &str) -> Vec<String> {
    let mut out = Vec::new();
    for file in STAGE_FILES {
        let t = table(r, file);
        let (header, rows) = t.split_first().expect("a header row");
        let at = |name: &str| index_of(header, name);
        let (e, line, row) = (at(email), at("leadsift_line"), at("leadsift_row"));
        for rec in rows {
            let shown = if rec[e].is_empty() { "-" } else { &rec[e] };
            let mut entry = format!("{file} {}/{} ", rec[line], rec[row]);
            if file == "rejected.csv" {
                let kind = &rec[at("leadsift_reject_kind")];
                let raw = &rec[at("leadsift_raw")];
                entry.push_str(&format!("{kind} {shown} [{raw}]"));
            } else {
                entry.push_str(shown);
            }
            out.push(visible(&entry));
        }
    }
    out
}

/// Compares two lists of rows and fails with both, one row a line, the
/// rows that differ marked with `!` and long ones cut for show.
fn assert_rows(case: &str, got: &[String], want: &[String]) {
    if got == want {
        return;
    }
    let show = |v: &[String], other: &[String]| {
        v.iter()
            .enumerate()
            .map(|(i, s)| {
                let mark = if other.get(i) == Some(s) { ' ' } else { '!' };
                let n = s.chars().count();
                if n > 160 {
                    let head: String = s.chars().take(80).collect();
                    let tail: String = s.chars().skip(n - 60).collect();
                    format!("{mark} {head}...{tail} ({n} characters)")
                } else {
                    format!("{mark} {s}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    panic!(
        "{case}: rows differ\nexpected:\n{}\ngot:\n{}",
        show(want, got),
        show(got, want)
    );
}

fn assert_placement(case: &str, r: &Run, email: &str, want: &[&str]) {
    let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    assert_rows(case, &placement(r, email), &want);
}

/// Checks keys of the first file's entry in summary.json; lists every
/// mismatch at once.
fn assert_detected(case: &str, r: &Run, want: &[(&str, Value)]) {
    let s = r.summary();
    let f = &s["files"][0];
    let wrong: Vec<String> = want
        .iter()
        .filter(|(k, v)| &f[*k] != v)
        .map(|(k, v)| format!("  {k}: {}, expected {v}", f[*k]))
        .collect();
    assert!(
        wrong.is_empty(),
        "{case}: summary.json:\n{}",
        wrong.join("\n")
    );
}

/// Reject counts in summary.json that are not zero.
fn rejects(r: &Run) -> Vec<(String, u64)> {
    let s = r.summary();
    s["rejects"]
        .as_object()
        .expect("rejects")
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn kinds(want: &[(&str, u64)]) -> Vec<(String, u64)> {
    want.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// The first `n` columns of every data row of an output file.
fn inputs(r: &Run, file: &str, n: usize) -> Vec<Vec<String>> {
    table(r, file)
        .into_iter()
        .skip(1)
        .map(|rec| rec[..n].to_vec())
        .collect()
}

/// The data rows of a CSV text, as the csv crate reads them.
fn parse(text: &str, delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("record").iter().map(String::from).collect())
        .collect()
}

// --- 1. Encodings ---------------------------------------------------------

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        let b = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        out.extend_from_slice(&b);
    }
    out
}

fn windows_1252(text: &str) -> Vec<u8> {
    let (bytes, _, lossy) = WINDOWS_1252.encode(text);
    assert!(!lossy, "the text has characters Windows-1252 lacks");
    bytes.into_owned()
}

#[test]
fn every_encoding_reads_as_the_same_utf8_text() {
    let text = corpus_text("encodings.csv");
    // Sanity: the original holds the characters each encoding must carry.
    for s in ["Müller", "François", "Zoë", "€", "’", "–"] {
        assert!(text.contains(s), "encodings.csv lost {s}");
    }
    let want_rows = parse(&text, b',');
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    // (case, the file's bytes, the `--encoding` named if any, and what the
    // summary must say: encoding, encoding_source, encoding_guessed)
    let detected = |e: &'static str, source: &'static str, guessed: bool| (e, source, guessed);
    let cases = [
        (
            "UTF-8",
            text.clone().into_bytes(),
            None,
            detected("UTF-8", "detected", true),
        ),
        (
            "UTF-8 with BOM",
            bom,
            None,
            detected("UTF-8", "byte-order mark", false),
        ),
        (
            "UTF-16LE with BOM",
            utf16(&text, false),
            None,
            detected("UTF-16LE", "byte-order mark", false),
        ),
        (
            "UTF-16BE with BOM",
            utf16(&text, true),
            None,
            detected("UTF-16BE", "byte-order mark", false),
        ),
        (
            "Windows-1252",
            windows_1252(&text),
            None,
            detected("windows-1252", "detected", true),
        ),
        (
            "Windows-1252 named with --encoding",
            windows_1252(&text),
            Some("windows-1252"),
            detected("windows-1252", "option", false),
        ),
    ];
    for (case, bytes, named, (encoding, source, guessed)) in cases {
        let t = tempdir().unwrap();
        let input = write(t.path(), "encodings.csv", &bytes);
        let mut args = Vec::new();
        if let Some(name) = named {
            args.extend(["--encoding", name]);
        }
        args.push(input.as_str());
        let r = run_ok(case, &t.path().join("out"), &args);
        assert_detected(
            case,
            &r,
            &[
                ("encoding", json!(encoding)),
                ("encoding_source", json!(source)),
                ("encoding_guessed", json!(guessed)),
                ("delimiter", json!(",")),
                ("line_endings", json!("lf")),
            ],
        );
        assert_placement(
            case,
            &r,
            "Email",
            &[
                "leads.csv 2/1 juergen.mueller@mueller-bau.example.de",
                "leads.csv 3/2 francois@lefevre.example.fr",
                "leads.csv 4/3 zoe.agren@agren.example.se",
            ],
        );
        assert_eq!(
            inputs(&r, "leads.csv", 5),
            want_rows,
            "{case}: names, cities and notes come out as the UTF-8 original"
        );
        assert_accounted(&r, 3);
    }
}

#[test]
fn a_named_encoding_wins_over_detection() {
    // A UTF-8 file read as Windows-1252 because the user said so: each
    // UTF-8 byte becomes a character of its own.
    let t = tempdir().unwrap();
    let r = run_ok(
        "UTF-8 read as Windows-1252",
        t.path(),
        &["--encoding", "windows-1252", &corpus("encodings.csv")],
    );
    assert_detected(
        "UTF-8 read as Windows-1252",
        &r,
        &[
            ("encoding", json!("windows-1252")),
            ("encoding_source", json!("option")),
            ("encoding_guessed", json!(false)),
        ],
    );
    assert_eq!(
        r.column("leads.csv", "Name"),
        ["JÃ¼rgen MÃ¼ller", "FranÃ§ois LefÃ¨vre", "ZoÃ« Ã…gren"]
    );
    assert_accounted(&r, 3);
}

#[test]
fn a_windows_1252_file_whose_first_accent_is_far_down_reads_right() {
    let case = "Windows-1252, first accent after 120 kB";
    let mut text = String::from("Email,Name,City\n");
    for i in 0..3000 {
        text.push_str(&format!("user{i}@acme.example.com,User {i},Berlin\n"));
    }
    text.push_str("juergen@mueller.example.de,Jürgen Müller,Köln\n");
    let t = tempdir().unwrap();
    let input = write(t.path(), "big.csv", &windows_1252(&text));
    let r = run_ok(case, &t.path().join("out"), &[&input]);
    assert_detected(case, &r, &[("encoding", json!("windows-1252"))]);
    assert_eq!(rejects(&r), kinds(&[]), "{case}");
    assert_eq!(
        r.column("leads.csv", "Name").last().map(String::as_str),
        Some("Jürgen Müller")
    );
    assert_accounted(&r, 3001);
}

// --- 2. Delimiters --------------------------------------------------------

#[test]
fn each_delimiter_is_detected_and_values_keep_the_others() {
    let want_rows = parse(&corpus_text("delimiter-comma.csv"), b',');
    // Each file's notes hold the other candidate delimiters.
    assert!(want_rows[0][3].contains(';') && want_rows[0][3].contains('|'));
    for (file, shown) in [
        ("delimiter-comma.csv", ","),
        ("delimiter-semicolon.csv", ";"),
        ("delimiter-tab.tsv", "tab"),
        ("delimiter-pipe.csv", "|"),
    ] {
        let t = tempdir().unwrap();
        let r = run_ok(file, t.path(), &[&corpus(file)]);
        assert_detected(
            file,
            &r,
            &[
                ("delimiter", json!(shown)),
                ("delimiter_guessed", json!(true)),
            ],
        );
        assert_placement(
            file,
            &r,
            "Email",
            &[
                "leads.csv 2/1 ana@acme.example.com",
                "leads.csv 3/2 bo@beta.example.com",
                "leads.csv 4/3 cy@gamma.example.com",
            ],
        );
        assert_eq!(inputs(&r, "leads.csv", 4), want_rows, "{file}: values");
        assert_accounted(&r, 3);
    }
}

#[test]
fn a_named_delimiter_wins_over_detection() {
    // Every line splits into two fields at `,` as well as at `;`: only the
    // user knows. Read at `;`, the email column is there.
    let case = "semicolon-ambiguous.csv with --delimiter ';'";
    let t = tempdir().unwrap();
    let r = run_ok(
        case,
        t.path(),
        &["--delimiter", ";", &corpus("semicolon-ambiguous.csv")],
    );
    assert_detected(
        case,
        &r,
        &[
            ("delimiter", json!(";")),
            ("delimiter_guessed", json!(false)),
        ],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 3/2 bo@beta.example.com",
        ],
    );
    assert_eq!(
        r.column("leads.csv", "Notes, comments"),
        ["called, no answer", "sent pricing, waiting"]
    );
    assert_accounted(&r, 2);
}

#[test]
fn a_semicolon_file_with_decimal_commas_keeps_its_amounts_whole() {
    let case = "semicolon-decimal-comma.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    assert_detected(
        case,
        &r,
        &[
            ("delimiter", json!(";")),
            ("delimiter_guessed", json!(true)),
        ],
    );
    assert_placement(
        case,
        &r,
        "E-Mail",
        &[
            "leads.csv 2/1 anna.schmidt@schmidt-it.example.de",
            "leads.csv 3/2 jonas.weber@weber-bau.example.de",
            "leads.csv 4/3 lea.fischer@fischer.example.at",
        ],
    );
    assert_eq!(
        r.column("leads.csv", "Budget"),
        ["1,5", "12,75", "2.500,00"]
    );
    assert_eq!(r.column("leads.csv", "Rabatt"), ["0,25", "2,5", "10"]);
    assert_eq!(r.summary()["files"][0]["columns"]["email"], "E-Mail");
    assert_accounted(&r, 3);
}

// --- 3. Line endings ------------------------------------------------------

#[test]
fn line_numbers_are_right_for_every_line_ending() {
    let cases = [
        ("line-endings-cr.csv", "cr", "two\rlines"),
        ("line-endings-crlf.csv", "crlf", "two\r\nlines"),
        ("line-endings-mixed.csv", "mixed", "two\r\nlines"),
    ];
    for (file, endings, note) in cases {
        let bytes = std::fs::read(root().join(corpus(file))).unwrap();
        let crs = bytes.iter().filter(|&&b| b == b'\r').count();
        assert!(crs >= 3, "{file}: its carriage returns were lost (git?)");
        let t = tempdir().unwrap();
        let r = run_ok(file, t.path(), &["--no-sanitize", &corpus(file)]);
        assert_detected(
            file,
            &r,
            &[
                ("line_endings", json!(endings)),
                ("header_line", json!(1)),
                ("blank_lines", json!(1)),
            ],
        );
        // Line 3 is the second line of Ana's note, line 5 is blank.
        let mut want = vec![
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 4/2 bo@beta.example.com",
            "leads.csv 6/3 cy@gamma.example.com",
        ];
        if endings == "mixed" {
            want.push("leads.csv 7/4 di@delta.example.com");
        }
        assert_placement(file, &r, "Email", &want);
        assert_eq!(r.column("leads.csv", "Notes")[0], note, "{file}: note");
        assert_eq!(r.column("leads.csv", "Notes")[2], "last", "{file}");
        assert_accounted(&r, want.len() as u64);
    }
}

// --- 4. Title lines above the header ---------------------------------------

#[test]
fn title_lines_above_the_header_are_skipped_and_counted() {
    let case = "preamble-salesforce.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    assert_detected(
        case,
        &r,
        &[
            ("preamble_lines", json!(1)),
            ("header_line", json!(3)),
            ("blank_lines", json!(1)),
        ],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 4/1 hanna.lindqvist@northbeam.example.com",
            "leads.csv 5/2 tomas.ferreira@gmail.com",
            "rejected.csv 6/3 unusable - []",
        ],
    );
    assert_eq!(r.column("rejected.csv", "FirstName"), ["Inès"]);
    assert_accounted(&r, 3);

    let case = "preamble-excel.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    // `Leads report,,,,`, a generated-on line and an empty row of commas.
    assert_detected(
        case,
        &r,
        &[
            // The `,,,,` line is an empty row: a blank line, not a title.
            ("preamble_lines", json!(2)),
            ("header_line", json!(4)),
            ("blank_lines", json!(1)),
        ],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 5/1 olivia.hart@brightwater.example.com",
            "leads.csv 6/2 ravi@saffron.example.in",
        ],
    );
    let header = &table(&r, "leads.csv")[0];
    assert_eq!(
        header[..5],
        ["Email", "First Name", "Last Name", "Company", "Job Title"]
    );
    assert_accounted(&r, 2);
}

// --- 5. A stray quote -----------------------------------------------------

#[test]
fn a_stray_quote_costs_exactly_one_row() {
    let case = "stray-quote.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 5/3 cy@gamma.example.com",
            "leads.csv 6/4 di@delta.example.com",
            "leads.csv 8/5 ed@eps.example.com",
            "rejected.csv 4/2 unterminated-quote - [bo@beta.example.com,\"Bo,Beta,wants a 27 inch screen]",
        ],
    );
    // The quoted notes on either side are still one field each.
    assert_eq!(
        r.column("leads.csv", "Notes"),
        ["two\nlines", "ok", "multi\nline note", "last"]
    );
    assert_eq!(rejects(&r), kinds(&[("unterminated-quote", 1)]));
    assert_accounted(&r, 5);
}

#[test]
fn a_stray_quote_in_the_last_column_costs_exactly_one_row() {
    let case = "stray-quote-last-column.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 4/3 cy@gamma.example.com",
            "leads.csv 5/4 di@delta.example.com",
            "leads.csv 7/5 ed@eps.example.com",
            "rejected.csv 3/2 unterminated-quote - [bo@beta.example.com,Bo,Beta,\"wants a 27 inch screen]",
        ],
    );
    assert_accounted(&r, 5);
}

// --- 6. Ragged rows -------------------------------------------------------

#[test]
fn ragged_rows_are_rejected_by_default() {
    let case = "ragged.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 5/4 di@delta.example.com",
            "rejected.csv 3/2 too-few-fields - [bo@beta.example.com,Bo,Beta]",
            "rejected.csv 4/3 too-many-fields - [cy@gamma.example.com,Cy,Gamma,ok,surplus,\"more, here\"]",
            "rejected.csv 6/5 too-few-fields - [,Ed]",
        ],
    );
    assert_eq!(
        r.column("rejected.csv", "leadsift_reject_reason"),
        [
            "3 fields where the header has 4",
            "6 fields where the header has 4",
            "2 fields where the header has 4",
        ]
    );
    assert_eq!(
        rejects(&r),
        kinds(&[("too-many-fields", 1), ("too-few-fields", 2)])
    );
    assert_accounted(&r, 5);
}

#[test]
fn short_rows_can_be_padded() {
    let case = "ragged.csv with --short-rows pad";
    let t = tempdir().unwrap();
    let r = run_ok(
        case,
        t.path(),
        &["--short-rows", "pad", &corpus("ragged.csv")],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 3/2 bo@beta.example.com",
            "leads.csv 5/4 di@delta.example.com",
            "rejected.csv 4/3 too-many-fields - [cy@gamma.example.com,Cy,Gamma,ok,surplus,\"more, here\"]",
            // Padded, then judged: no contact.
            "rejected.csv 6/5 unusable - []",
        ],
    );
    let bo = &r.rows("leads.csv")[1];
    assert_eq!((bo["Company"].as_str(), bo["Notes"].as_str()), ("Beta", ""));
    assert_eq!(
        bo["leadsift_reasons"],
        "business-email +10 fit; padded 1 missing field(s)"
    );
    let ed = &r.rows("rejected.csv")[1];
    assert_eq!(ed["Name"], "Ed");
    assert!(
        ed["leadsift_reject_reason"].ends_with("; padded 2 missing field(s)"),
        "{}",
        ed["leadsift_reject_reason"]
    );
    assert_accounted(&r, 5);
}

#[test]
fn long_rows_can_be_kept_with_their_extra_fields() {
    let case = "ragged.csv with --long-rows keep";
    let t = tempdir().unwrap();
    let r = run_ok(
        case,
        t.path(),
        &["--long-rows", "keep", &corpus("ragged.csv")],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 4/3 cy@gamma.example.com",
            "leads.csv 5/4 di@delta.example.com",
            "rejected.csv 3/2 too-few-fields - [bo@beta.example.com,Bo,Beta]",
            "rejected.csv 6/5 too-few-fields - [,Ed]",
        ],
    );
    let header = &table(&r, "leads.csv")[0];
    assert_eq!(header.last().map(String::as_str), Some("leadsift_extra"));
    assert_eq!(
        r.column("leads.csv", "leadsift_extra"),
        ["", "surplus,\"more, here\"", ""]
    );
    let cy = &r.rows("leads.csv")[1];
    assert_eq!(cy["Notes"], "ok");
    assert_eq!(
        cy["leadsift_reasons"],
        "business-email +10 fit; kept 2 extra field(s) in the extra column"
    );
    assert_accounted(&r, 5);
}

// --- 7. Blank lines -------------------------------------------------------

#[test]
fn blank_lines_and_lines_of_spaces_are_counted_not_rows() {
    let case = "blank-lines.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    // Two before the header, one after it, a line of spaces, a line of a
    // tab and an empty one between the rows, an empty one and one of
    // spaces at the end.
    assert_detected(
        case,
        &r,
        &[
            ("header_line", json!(3)),
            ("blank_lines", json!(8)),
            ("preamble_lines", json!(0)),
        ],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 5/1 ana@acme.example.com",
            "leads.csv 9/2 bo@beta.example.com",
        ],
    );
    assert_accounted(&r, 2);
}

// --- 8. Duplicate and empty header names -----------------------------------

#[test]
fn duplicate_and_empty_headers_keep_their_columns_and_the_leftmost_is_read() {
    let case = "duplicate-headers.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    assert_detected(
        case,
        &r,
        &[
            (
                "header_problems",
                json!([
                    "header `Email` appears in columns 1, 4: both are kept; a field bound to it reads column 1 first",
                    "header `Name` appears in columns 2, 6: both are kept; a field bound to it reads column 2 first",
                    "column 3 has no header name",
                ]),
            ),
            ("columns", json!({
                "email": ["Email", "Email"],
                "first_name": "Name (first part)",
                "last_name": "Name (last part)",
                "company": "Company",
            })),
        ],
    );
    // The first Email column is the one shown; Ana's is in the second.
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 -",
            "leads.csv 3/2 bo.berg@gmail.com",
            "leads.csv 5/4 di@delta.example.com",
            "disqualified.csv 4/3 cy@gamma.example.com",
            "rejected.csv 6/5 unusable - []",
        ],
    );
    let leads = table(&r, "leads.csv");
    assert_eq!(
        leads[0][..6],
        ["Email", "Name", "", "Email", "Company", "Name"]
    );
    // Ana: the first Email column is empty, the second holds her address,
    // and the row is usable.
    assert_eq!(
        leads[1][..6],
        [
            "",
            "Ana Lima",
            "x",
            "ana.lima@northwind.example.com",
            "Northwind",
            ""
        ]
    );
    let reasons = r.column("leads.csv", "leadsift_reasons");
    assert_eq!(
        reasons,
        [
            "business-email +10 fit",
            // Bo: both columns hold an address; the first (free mail) wins.
            "free-mail -10 fit",
            // Di: `Test Account` in the second Name column is not read.
            "business-email +10 fit",
        ]
    );
    // Cy: `Test Account` in the first Name column is.
    assert!(
        r.column("disqualified.csv", "leadsift_reasons")[0]
            .starts_with("test-entry disqualify: test entry"),
        "{:?}",
        r.column("disqualified.csv", "leadsift_reasons")
    );
    assert_accounted(&r, 5);
}

// --- 9. Oversized fields and records ----------------------------------------

#[test]
fn an_oversized_field_rejects_its_row_and_reading_goes_on() {
    let case = "oversized.csv with --max-field-bytes 100";
    let t = tempdir().unwrap();
    let r = run_ok(
        case,
        t.path(),
        &["--max-field-bytes", "100", &corpus("oversized.csv")],
    );
    let bo = format!("bo@beta.example.com,Bo,{}", "x".repeat(200));
    let cy = format!("cy@gamma.example.com,Cy,{}", "y".repeat(600));
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 5/4 di@delta.example.com",
            &format!("rejected.csv 3/2 field-too-large - [{bo}]"),
            &format!("rejected.csv 4/3 field-too-large - [{cy}]"),
        ],
    );
    assert_eq!(
        r.column("rejected.csv", "leadsift_reject_reason")[0],
        "field 3 is larger than the limit of 100 bytes (--max-field-bytes)"
    );
    assert_eq!(rejects(&r), kinds(&[("field-too-large", 2)]));
    assert_accounted(&r, 4);
}

#[test]
fn an_endless_line_is_rejected_and_skipped_to_its_end() {
    let case = "a 700 kB line and a last line with no line end, --max-record-bytes 2000";
    let t = tempdir().unwrap();
    let long = format!("bo@beta.example.com,Bo,{}", "x".repeat(700_000));
    let last = format!("di@delta.example.com,Di,{}", "z".repeat(3000));
    let text = format!(
        "Email,Name,Notes\nana@acme.example.com,Ana,short\n{long}\ncy@gamma.example.com,Cy,fine\n{last}"
    );
    let input = write(t.path(), "long.csv", text.as_bytes());
    let r = run_ok(
        case,
        &t.path().join("out"),
        &["--max-record-bytes", "2000", &input],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 4/3 cy@gamma.example.com",
            // The raw record is cut at 4096 bytes.
            &format!("rejected.csv 3/2 record-too-large - [{}]", &long[..4096]),
            &format!("rejected.csv 5/4 record-too-large - [{last}]"),
        ],
    );
    assert_eq!(
        r.column("rejected.csv", "leadsift_reject_reason")[0],
        "the line is longer than the limit of 2000 bytes (--max-record-bytes); it was skipped to its end"
    );
    assert_eq!(rejects(&r), kinds(&[("record-too-large", 2)]));
    assert_accounted(&r, 4);
}

#[test]
fn a_record_over_the_limit_shows_only_its_own_text() {
    let case = "oversized.csv with --max-record-bytes 500";
    let t = tempdir().unwrap();
    let r = run_ok(
        case,
        t.path(),
        &["--max-record-bytes", "500", &corpus("oversized.csv")],
    );
    let cy = format!("cy@gamma.example.com,Cy,{}", "y".repeat(600));
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 ana@acme.example.com",
            "leads.csv 3/2 bo@beta.example.com",
            "leads.csv 5/4 di@delta.example.com",
            &format!("rejected.csv 4/3 record-too-large - [{cy}]"),
        ],
    );
    assert_accounted(&r, 4);
}

#[test]
fn many_records_over_the_limit_are_all_rejected() {
    let case = "2000 rows of 640 bytes, --max-record-bytes 500";
    let t = tempdir().unwrap();
    let mut text = String::from("Email,Name,Notes\n");
    for i in 0..2000 {
        text.push_str(&format!("r{i}@acme.example.com,N,{}\n", "z".repeat(600)));
    }
    let input = write(t.path(), "many.csv", text.as_bytes());
    let r = run_ok(
        case,
        &t.path().join("out"),
        &["--max-record-bytes", "500", &input],
    );
    assert_eq!(rejects(&r), kinds(&[("record-too-large", 2000)]));
    assert_accounted(&r, 2000);
}

// --- 10. Workbooks --------------------------------------------------------

fn workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let leads = book.add_worksheet();
    leads.set_name("Leads").unwrap();
    leads.write_string(0, 0, "Leads report Q1").unwrap();
    let header = [
        "Email",
        "Name",
        "Employees",
        "Revenue",
        "Signed up",
        "Newsletter",
    ];
    for (c, h) in header.iter().enumerate() {
        leads.write_string(1, c as u16, *h).unwrap();
    }
    let day = ExcelDateTime::from_ymd(2026, 3, 1).unwrap();
    leads.write_string(2, 0, "ana@acme.example.com").unwrap();
    leads.write_string(2, 1, "Ana Lima").unwrap();
    leads.write_number(2, 2, 250).unwrap();
    leads.write_number(2, 3, 1234.5).unwrap();
    leads.write_datetime_with_format(2, 4, &day, &date).unwrap();
    leads.write_boolean(2, 5, true).unwrap();
    // Row 4 (index 3) stays empty.
    let day = ExcelDateTime::from_ymd(2026, 3, 15).unwrap();
    leads.write_string(4, 0, "bo@beta.example.com").unwrap();
    leads.write_string(4, 1, "Bo Berg").unwrap();
    leads.write_number(4, 2, 12).unwrap();
    leads.write_number(4, 3, 0.25).unwrap();
    leads.write_datetime_with_format(4, 4, &day, &date).unwrap();
    leads.write_boolean(4, 5, false).unwrap();
    let other = book.add_worksheet();
    other.set_name("Webinar").unwrap();
    other.write_string(0, 0, "E-Mail").unwrap();
    other.write_string(0, 1, "Company").unwrap();
    other.write_string(1, 0, "cy@gamma.example.com").unwrap();
    other.write_string(1, 1, "Gamma").unwrap();
    book.save(path).unwrap();
}

#[test]
fn a_workbook_reads_like_its_csv_export() {
    let t = tempdir().unwrap();
    let path = t.path().join("leads.xlsx");
    workbook(&path);
    let input = path.to_str().unwrap();

    let case = "leads.xlsx, first sheet";
    let r = run_ok(case, &t.path().join("out"), &[input]);
    assert_detected(
        case,
        &r,
        &[
            ("format", json!("xlsx")),
            ("sheet", json!("Leads")),
            ("preamble_lines", json!(1)),
            ("header_line", json!(2)),
            ("blank_lines", json!(1)),
        ],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 3/1 ana@acme.example.com",
            "leads.csv 5/2 bo@beta.example.com",
        ],
    );
    assert_eq!(
        inputs(&r, "leads.csv", 6),
        [
            [
                "ana@acme.example.com",
                "Ana Lima",
                "250",
                "1234.5",
                "2026-03-01",
                "TRUE"
            ],
            [
                "bo@beta.example.com",
                "Bo Berg",
                "12",
                "0.25",
                "2026-03-15",
                "FALSE"
            ],
        ]
    );
    // 250 employees is read as a number by the rules.
    assert!(
        r.column("leads.csv", "leadsift_reasons")[0].contains("company-50-plus +15 fit"),
        "{:?}",
        r.column("leads.csv", "leadsift_reasons")
    );
    assert_accounted(&r, 2);

    let case = "leads.xlsx --sheet Webinar";
    let r = run_ok(case, &t.path().join("out2"), &["--sheet", "Webinar", input]);
    assert_detected(
        case,
        &r,
        &[
            ("format", json!("xlsx")),
            ("sheet", json!("Webinar")),
            ("preamble_lines", json!(0)),
            ("header_line", json!(1)),
        ],
    );
    assert_placement(case, &r, "E-Mail", &["leads.csv 2/1 cy@gamma.example.com"]);
    assert_accounted(&r, 1);

    let out = t.path().join("out3");
    let r = run(&out, &["--sheet", "Contacts", input]);
    assert_eq!(r.code(), 1, "an unknown sheet: {}", r.stderr());
    assert!(
        r.stderr()
            .contains("has no sheet named `Contacts`; its sheets are: Leads, Webinar"),
        "{}",
        r.stderr()
    );
    assert!(!out.join("summary.json").exists());
}

// --- 11. No contact column --------------------------------------------------

#[test]
fn a_file_without_a_contact_column_is_refused_with_the_fix() {
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    let r = run(&out, &[&corpus("no-contact-column.csv")]);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let err = r.stderr();
    for want in [
        "tests/corpus/no-contact-column.csv: no column for any field a usable row needs (email, phone)",
        "the headers are: `Kontakt`, `Firma`, `Stadt`",
        "[fields]\n  email = [\"Kontakt\"]",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    assert_no_outputs(&out);
}

fn assert_no_outputs(out: &Path) {
    let files: Vec<String> = std::fs::read_dir(out)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(files.is_empty(), "outputs written: {files:?}");
}

// --- 12. What is not a CSV file --------------------------------------------

#[test]
fn binary_empty_and_directory_inputs_fail_with_what_they_are() {
    let t = tempdir().unwrap();
    let gzip = write(
        t.path(),
        "export.csv",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00",
    );
    let nul = write(
        t.path(),
        "nul.csv",
        b"Email,Name\na@acme.example.com,A\0B\n",
    );
    let pdf = write(
        t.path(),
        "report.csv",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    );
    let empty = write(t.path(), "empty.csv", b"");
    let dir = t.path().join("folder.csv");
    std::fs::create_dir(&dir).unwrap();
    let dir = dir.to_str().unwrap().to_string();
    let cases = [
        (
            &gzip,
            "is not a CSV file or a workbook: it looks like a gzip-compressed file: decompress it first (gunzip)",
        ),
        (
            &nul,
            "is not a CSV file or a workbook: it looks like binary data (it holds NUL bytes)",
        ),
        (
            &pdf,
            "is not a CSV file or a workbook: it looks like a PDF document",
        ),
        (&"/dev/null".to_string(), "is empty: no header row"),
        (&empty, "is empty: no header row"),
        (&dir, "is a directory, not a CSV file"),
    ];
    for (input, want) in cases {
        let out = t.path().join("out");
        let r = run(&out, &[input]);
        assert_eq!(r.code(), 1, "{input}: {}", r.stderr());
        let line = format!("leadsift: {input}: {want}\n");
        assert_eq!(r.stderr(), line, "{input}");
        assert_no_outputs(&out);
    }
}

// --- 13. Placeholders -----------------------------------------------------

#[test]
fn placeholders_count_as_empty_and_are_written_as_read() {
    let case = "placeholders.csv";
    let t = tempdir().unwrap();
    let r = run_ok(case, t.path(), &[&corpus(case)]);
    // `-None-` and `--` start with `-`: the spreadsheet-safety quote.
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 #N/A",
            "leads.csv 7/6 flo@zeta.example.com",
            "rejected.csv 3/2 unusable #N/A []",
            "rejected.csv 4/3 unusable '-None- []",
            "rejected.csv 5/4 unusable Select []",
            "rejected.csv 6/5 unusable N/A []",
            "rejected.csv 8/7 unusable NULL []",
            "rejected.csv 9/8 unusable  #N/A  []",
            "rejected.csv 10/9 unusable TBD []",
        ],
    );
    assert_eq!(
        r.column("rejected.csv", "Phone"),
        ["", "#N/A", "'--", "null", "'-none-", "", ""]
    );
    // Flo's company is `-None-`: no company.
    assert_eq!(
        r.column("leads.csv", "leadsift_reasons")[1],
        "business-email +10 fit; no-company -10 fit"
    );
    assert_accounted(&r, 9);
}

#[test]
fn placeholders_decide_presence_and_a_rules_file_can_replace_them() {
    // With a `[usable]` that only asks for any value, the placeholder list
    // alone decides.
    let case = "placeholders.csv, rules-presence.toml";
    let t = tempdir().unwrap();
    let r = run_ok(
        case,
        t.path(),
        &[
            "--no-sanitize",
            "-r",
            &corpus("rules-presence.toml"),
            &corpus("placeholders.csv"),
        ],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 #N/A",
            "leads.csv 7/6 flo@zeta.example.com",
            "leads.csv 10/9 TBD",
            "rejected.csv 3/2 unusable #N/A []",
            "rejected.csv 4/3 unusable -None- []",
            "rejected.csv 5/4 unusable Select []",
            "rejected.csv 6/5 unusable N/A []",
            "rejected.csv 8/7 unusable NULL []",
            "rejected.csv 9/8 unusable  #N/A  []",
        ],
    );
    assert_accounted(&r, 9);

    let case = "placeholders.csv, rules-placeholders-tbd.toml";
    let t = tempdir().unwrap();
    let r = run_ok(
        case,
        t.path(),
        &[
            "--no-sanitize",
            "-r",
            &corpus("rules-placeholders-tbd.toml"),
            &corpus("placeholders.csv"),
        ],
    );
    assert_placement(
        case,
        &r,
        "Email",
        &[
            "leads.csv 2/1 #N/A",
            "leads.csv 3/2 #N/A",
            "leads.csv 4/3 -None-",
            "leads.csv 5/4 Select",
            "leads.csv 6/5 N/A",
            "leads.csv 7/6 flo@zeta.example.com",
            "leads.csv 8/7 NULL",
            "leads.csv 9/8  #N/A ",
            "rejected.csv 10/9 unusable TBD []",
        ],
    );
    assert_accounted(&r, 9);
}

// --- 14. The vendor exports in other encodings and dialects ------------------

/// Every input column and leadsift column of every row of every output
/// file, but the file name (which differs between variants).
fn outcome(r: &Run) -> Vec<(&'static str, Vec<Vec<String>>)> {
    STAGE_FILES
        .iter()
        .map(|f| {
            let t = table(r, f);
            let skip = index_of(&t[0], "leadsift_file");
            let rows = t
                .into_iter()
                .map(|mut rec| {
                    rec.remove(skip);
                    rec
                })
                .collect();
            (*f, rows)
        })
        .collect()
}

/// The values of the column the summary says email is read from (the
/// first, when several), per output file.
fn emails(r: &Run) -> Vec<(&'static str, Vec<String>)> {
    let s = r.summary();
    let col = match &s["files"][0]["columns"]["email"] {
        Value::Array(a) => a[0].as_str().unwrap().to_string(),
        v => v.as_str().expect("an email column").to_string(),
    };
    STAGE_FILES
        .iter()
        .map(|f| {
            let t = table(r, f);
            let i = index_of(&t[0], &col);
            (*f, t[1..].iter().map(|rec| rec[i].clone()).collect())
        })
        .collect()
}

fn redelimit(text: &str, delimiter: u8) -> Vec<u8> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    for rec in rdr.records() {
        w.write_record(&rec.expect("fixture record")).unwrap();
    }
    w.into_inner().unwrap()
}

#[test]
fn vendor_exports_qualify_the_same_in_any_encoding_and_delimiter() {
    let mut fixtures: Vec<String> = std::fs::read_dir(root().join("tests/exports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 9, "{fixtures:?}");
    let mut wrong = Vec::new();
    for fixture in &fixtures {
        let bytes = std::fs::read(root().join("tests/exports").join(fixture)).unwrap();
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let text = std::str::from_utf8(body).expect("fixtures are UTF-8");
        let t = tempdir().unwrap();
        let original = run_ok(
            fixture,
            &t.path().join("original"),
            &[&format!("tests/exports/{fixture}")],
        );
        let (want_stages, want_emails, want_rows) = (
            original.summary()["stages"].clone(),
            emails(&original),
            outcome(&original),
        );
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(body);
        let variants: [(&str, Vec<u8>, &str); 5] = [
            ("UTF-8 with BOM", with_bom, ","),
            ("UTF-16LE with BOM", utf16(text, false), ","),
            ("Windows-1252", windows_1252(text), ","),
            ("`;`-delimited", redelimit(text, b';'), ";"),
            ("tab-delimited", redelimit(text, b'\t'), "tab"),
        ];
        for (variant, bytes, delimiter) in variants {
            let case = format!("{fixture} as {variant}");
            let input = write(t.path(), fixture, &bytes);
            let out = t.path().join(variant.replace(['`', ';', ' '], "_"));
            let r = run(&out, &[&input]);
            if r.code() != 0 {
                wrong.push(format!("{case}: exit {}: {}", r.code(), r.stderr()));
                continue;
            }
            let got = r.summary();
            if got["files"][0]["delimiter"] != delimiter {
                wrong.push(format!(
                    "{case}: delimiter {}, expected {delimiter:?}",
                    got["files"][0]["delimiter"]
                ));
            }
            if got["stages"] != want_stages {
                wrong.push(format!(
                    "{case}: stages {}, original {want_stages}",
                    got["stages"]
                ));
            }
            for ((file, got), (_, want)) in emails(&r).iter().zip(&want_emails) {
                if got != want {
                    wrong.push(format!("{case}: {file}: emails {got:?}, original {want:?}"));
                }
            }
            for ((file, got), (_, want)) in outcome(&r).iter().zip(&want_rows) {
                if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i))
                {
                    wrong.push(format!(
                        "{case}: {file}: record {i} is {:?}, original {:?}",
                        got.get(i),
                        want.get(i)
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
