//! Properties of reading messy CSV, checked with the real binary on
//! generated files: nothing is lost or counted twice, every broken row is
//! rejected with the right kind and line, and with `--no-sanitize` every
//! good row's values come back exactly. Plus: sanitising is idempotent.
//!
//! The generated files are messy on purpose: fields with delimiters,
//! quotes, line breaks, spaces and non-ASCII text; rows with a field too
//! few or too many; rows with a byte that is not UTF-8; blank lines and
//! lines of spaces between them; LF, CRLF or CR line endings; `,` `;` tab
//! or `|` between fields.
//!
//! Two choices keep the properties sound, i.e. true of a correct reader:
//! - The delimiter is named with `--delimiter` and the encoding with
//!   `--encoding utf-8`. Detection is a guess from the content: a small
//!   file whose fields hold `;` and `|` as often as `,` has no one right
//!   delimiter, and a file with few non-ASCII letters and some invalid
//!   bytes may rightly be read as Windows-1252 (where every byte is
//!   valid). The corpus tests (`tests/corpus.rs`) cover detection.
//! - Ragged rows hold no line breaks. A row with a line break inside a
//!   quoted field and a field too many is indistinguishable from a stray
//!   quote that swallowed a line, and the reader treats it as the latter
//!   by design (`src/input/reader.rs`).

mod common;

use std::fmt;

use common::*;
use proptest::prelude::*;
use proptest::sample::select;
use tempfile::tempdir;

/// How a generated record is built, and so what the reader must make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The header's number of fields, valid UTF-8.
    Normal,
    /// One field fewer than the header.
    Short,
    /// One field more than the header.
    Long,
    /// The header's number of fields, one of which holds an invalid byte.
    BadByte,
}

#[derive(Clone)]
struct Row {
    shape: Shape,
    fields: Vec<Vec<u8>>,
    /// Whether the email field holds an address the built-in rules accept.
    email_ok: bool,
    /// Blank lines (empty, or spaces) written before the record.
    blank_before: Vec<&'static str>,
}

/// Fields as text, invalid bytes shown as `\xNN`.
impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|b| {
                b.utf8_chunks()
                    .map(|c| format!("{}{}", c.valid(), c.invalid().escape_ascii()))
                    .collect()
            })
            .collect();
        write!(f, "{:?} {fields:?}", self.shape)
    }
}

#[derive(Clone)]
struct Messy {
    headers: Vec<String>,
    delimiter: u8,
    ending: &'static str,
    rows: Vec<Row>,
    blank_top: Vec<&'static str>,
    /// Blank lines after the last record; only when it has a line end.
    blank_end: Vec<&'static str>,
    final_line_end: bool,
}

/// The file as text with line ends and tabs visible, for failure reports.
impl fmt::Debug for Messy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (bytes, _) = serialise(self);
        let text: String = bytes
            .utf8_chunks()
            .map(|c| format!("{}{}", c.valid(), c.invalid().escape_ascii()))
            .collect::<String>()
            .replace('\r', "\\r")
            .replace('\n', "\\n\n")
            .replace('\t', "\\t");
        writeln!(f, "delimiter {:?}, records:", self.delimiter as char)?;
        for (i, r) in self.rows.iter().enumerate() {
            writeln!(
                f,
                "  row {}: {:?}, email ok: {}",
                i + 1,
                r.shape,
                r.email_ok
            )?;
        }
        write!(f, "file:\n{text}")
    }
}

fn line_end_terminator(ending: &str) -> csv::Terminator {
    match ending {
        "\r\n" => csv::Terminator::CRLF,
        "\r" => csv::Terminator::Any(b'\r'),
        _ => csv::Terminator::Any(b'\n'),
    }
}

/// One record as CSV, quoted where it must be, with its line end.
fn record(m: &Messy, fields: &[Vec<u8>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(m.delimiter)
        .terminator(line_end_terminator(m.ending))
        .from_writer(Vec::new());
    w.write_record(fields).expect("write to memory");
    w.into_inner().expect("flush to memory")
}

/// The file, and the physical line each record starts on.
fn serialise(m: &Messy) -> (Vec<u8>, Vec<u64>) {
    let mut out = Vec::new();
    let blank = |out: &mut Vec<u8>, lines: &[&str]| {
        for l in lines {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(m.ending.as_bytes());
        }
    };
    blank(&mut out, &m.blank_top);
    let header: Vec<Vec<u8>> = m.headers.iter().map(|h| h.clone().into_bytes()).collect();
    out.extend(record(m, &header));
    let mut starts = Vec::new();
    for r in &m.rows {
        blank(&mut out, &r.blank_before);
        starts.push(line_at(&out));
        out.extend(record(m, &r.fields));
    }
    if m.final_line_end {
        blank(&mut out, &m.blank_end);
    } else if !m.rows.is_empty() {
        out.truncate(out.len() - m.ending.len());
    }
    (out, starts)
}

/// The line the next byte after `bytes` is on: LF, CRLF and a lone CR
/// each end a line.
fn line_at(bytes: &[u8]) -> u64 {
    let mut line = 1;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
    }
    line
}

/// What the run must make of a row: `None` for a stage file, or the reject
/// kind.
fn expected_reject(r: &Row) -> Option<&'static str> {
    match r.shape {
        Shape::Short => Some("too-few-fields"),
        Shape::Long => Some("too-many-fields"),
        Shape::BadByte => Some("invalid-encoding"),
        Shape::Normal if r.email_ok => None,
        Shape::Normal => Some("unusable"),
    }
}

// --- Generators -------------------------------------------------------------

fn text(line_breaks: bool) -> BoxedStrategy<String> {
    let mut pieces = vec![
        "Zoë",
        "Müller",
        "François",
        "São Paulo",
        "日本",
        "😀",
        ",",
        ";",
        "\t",
        "|",
        "\"",
        " ",
        "  ",
        "'",
        "=SUM(A1)",
        "-",
        "+49 30 1234567",
        "#N/A",
        "-12.5",
        "x@y",
    ];
    if line_breaks {
        pieces.extend(["\n", "\r\n"]);
    }
    let piece = prop_oneof![
        2 => select(pieces).prop_map(String::from),
        1 => "[a-zA-Z0-9 .]{0,8}",
    ];
    proptest::collection::vec(piece, 0..4)
        .prop_map(|v| v.concat())
        .boxed()
}

/// An email field and whether the built-in rules accept it.
fn email() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        3 => (0u32..1000).prop_map(|n| (format!("lead{n}@example.com"), true)),
        1 => (0u32..1000).prop_map(|n| (format!("  lead{n}@example.org "), true)),
        1 => Just((String::new(), false)),
        1 => Just(("#N/A".to_string(), false)),
        1 => Just(("call me, maybe".to_string(), false)),
    ]
}

fn blank_lines() -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        3 => Just(Vec::new()),
        1 => proptest::collection::vec(select(vec!["", "   "]), 1..3),
    ]
}

fn row(width: usize, email_at: usize, line_breaks: bool) -> impl Strategy<Value = Row> {
    let shape = prop_oneof![
        6 => Just(Shape::Normal),
        1 => Just(Shape::Short),
        1 => Just(Shape::Long),
        1 => Just(Shape::BadByte),
    ];
    let bad = select(vec![
        b"\xFF".to_vec(),
        b"\xFE".to_vec(),
        b"\x80".to_vec(),
        b"\xC3x".to_vec(),
    ]);
    (
        shape,
        email(),
        proptest::collection::vec(text(line_breaks), width + 1),
        bad,
        0..width,
        any::<bool>(),
        blank_lines(),
    )
        .prop_map(
            move |(shape, (email, email_ok), mut texts, bad, bad_at, bad_first, blank_before)| {
                texts[email_at] = email;
                if shape != Shape::Long {
                    texts.pop();
                }
                if matches!(shape, Shape::Short | Shape::Long) {
                    // See the module doc: ragged rows stay on one line.
                    for t in &mut texts {
                        *t = t.replace(['\r', '\n'], " ");
                    }
                }
                if shape == Shape::Short {
                    texts.pop();
                }
                // A record of blank fields only (`,,`, as spreadsheets
                // write an empty row) is a blank line, not a record.
                if texts.iter().all(|t| t.trim_ascii().is_empty()) {
                    let i = if texts.len() > 1 {
                        (email_at + 1) % texts.len()
                    } else {
                        0
                    };
                    texts[i] = "x".into();
                }
                let mut fields: Vec<Vec<u8>> = texts.into_iter().map(String::into_bytes).collect();
                if shape == Shape::BadByte {
                    let f = &mut fields[bad_at];
                    if bad_first {
                        f.splice(0..0, bad);
                    } else {
                        f.extend(bad);
                    }
                }
                Row {
                    shape,
                    fields,
                    email_ok,
                    blank_before,
                }
            },
        )
}

fn messy() -> impl Strategy<Value = Messy> {
    let layout = (
        2usize..=6,
        select(vec![b',', b';', b'\t', b'|']),
        select(vec!["\n", "\r\n", "\r"]),
    );
    layout
        .prop_flat_map(|(width, delimiter, ending)| {
            // CR-only files: no line breaks inside fields (a lone CR in a
            // quoted field would be a line end of another kind).
            let line_breaks = ending != "\r";
            (0..width).prop_flat_map(move |email_at| {
                let headers: Vec<String> = (0..width)
                    .map(|i| {
                        if i == email_at {
                            "email".to_string()
                        } else {
                            format!("c{i}")
                        }
                    })
                    .collect();
                (
                    Just(headers),
                    Just(delimiter),
                    Just(ending),
                    proptest::collection::vec(row(width, email_at, line_breaks), 0..=40),
                    blank_lines(),
                    blank_lines(),
                    any::<bool>(),
                )
            })
        })
        .prop_map(
            |(headers, delimiter, ending, rows, blank_top, blank_end, final_line_end)| Messy {
                headers,
                delimiter,
                ending,
                rows,
                blank_top,
                blank_end,
                final_line_end,
            },
        )
}

// --- Running ----------------------------------------------------------------

fn run_messy(m: &Messy, extra: &[&str]) -> (tempfile::TempDir, Run) {
    let t = tempdir().unwrap();
    let (bytes, _) = serialise(m);
    let input = write(t.path(), "messy.csv", &bytes);
    let delimiter = match m.delimiter {
        b'\t' => "tab".to_string(),
        d => (d as char).to_string(),
    };
    let mut args = vec!["--delimiter", &delimiter, "--encoding", "utf-8"];
    args.extend_from_slice(extra);
    args.push(&input);
    let r = run(&t.path().join("out"), &args);
    (t, r)
}

/// Every output row as (row number, line, stage file, reject kind).
fn placed(r: &Run) -> Vec<(u64, u64, &'static str, String)> {
    let mut out = Vec::new();
    for file in STAGE_FILES {
        for row in r.rows(file) {
            let n = |k: &str| row[k].parse::<u64>().expect("a number");
            let kind = row.get("leadsift_reject_kind").cloned().unwrap_or_default();
            out.push((n("leadsift_row"), n("leadsift_line"), file, kind));
        }
    }
    out.sort();
    out
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        max_shrink_iters: 512,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_record_is_accounted_for_with_its_line_and_kind(m in messy()) {
        let (_t, r) = run_messy(&m, &[]);
        prop_assert_eq!(r.code(), 0, "stderr: {}", r.stderr());
        let (_, starts) = serialise(&m);
        let n = m.rows.len() as u64;
        let s = r.summary();
        prop_assert_eq!(s["rows_in"].as_u64(), Some(n), "rows_in");
        let stages: u64 = ["lead", "prospect", "opportunity", "disqualified", "rejected"]
            .iter()
            .map(|k| s["stages"][k].as_u64().unwrap_or(0))
            .sum::<u64>()
            + s["duplicates"].as_u64().unwrap_or(0);
        prop_assert_eq!(stages, n, "the stage counts and duplicates add up to rows_in");
        let blank = m.blank_top.len()
            + m.rows.iter().map(|r| r.blank_before.len()).sum::<usize>()
            + if m.final_line_end { m.blank_end.len() } else { 0 };
        prop_assert_eq!(s["files"][0]["blank_lines"].as_u64(), Some(blank as u64), "blank_lines");
        for kind in ["unusable", "too-many-fields", "too-few-fields", "invalid-encoding"] {
            let want = m.rows.iter().filter(|r| expected_reject(r) == Some(kind)).count();
            prop_assert_eq!(s["rejects"][kind].as_u64(), Some(want as u64), "rejects.{}", kind);
        }
        // Row by row: each record once, on its line, in the right file.
        let want: Vec<(u64, u64, bool, String)> = m
            .rows
            .iter()
            .zip(&starts)
            .enumerate()
            .map(|(i, (row, &line))| {
                let kind = expected_reject(row).unwrap_or_default().to_string();
                (i as u64 + 1, line, kind.is_empty(), kind)
            })
            .collect();
        let got: Vec<(u64, u64, bool, String)> = placed(&r)
            .into_iter()
            .map(|(row, line, file, kind)| (row, line, file != "rejected.csv", kind))
            .collect();
        prop_assert_eq!(got, want, "(row, line, in a stage file, reject kind) of every record");
    }

    #[test]
    fn without_sanitising_every_good_row_comes_back_exactly(m in messy()) {
        let (_t, r) = run_messy(&m, &["--no-sanitize"]);
        prop_assert_eq!(r.code(), 0, "stderr: {}", r.stderr());
        let width = m.headers.len();
        let mut back = std::collections::BTreeMap::new();
        for file in STAGE_FILES {
            let mut rdr = csv::Reader::from_path(r.dir.join(file)).expect("output file");
            let header = rdr.headers().expect("header").clone();
            prop_assert_eq!(&header.iter().take(width).collect::<Vec<_>>(), &m.headers);
            let at = header.iter().position(|h| h == "leadsift_row").expect("leadsift_row");
            for rec in rdr.records() {
                let rec = rec.expect("record");
                let values: Vec<String> = rec.iter().take(width).map(String::from).collect();
                back.insert(rec[at].parse::<usize>().expect("row number"), values);
            }
        }
        for (i, row) in m.rows.iter().enumerate() {
            if row.shape != Shape::Normal {
                continue;
            }
            let want: Vec<String> = row
                .fields
                .iter()
                .map(|f| String::from_utf8(f.clone()).expect("normal rows are UTF-8"))
                .collect();
            prop_assert_eq!(back.get(&(i + 1)), Some(&want), "row {}", i + 1);
        }
    }
}

proptest! {
    #[test]
    fn sanitising_is_idempotent(
        s in prop_oneof![any::<String>(), "[ =+@'\\-\\t\\r\\n0-9.a]{0,8}"],
    ) {
        let once = leadsift::output::sanitize(s.as_bytes()).into_owned();
        let twice = leadsift::output::sanitize(&once).into_owned();
        prop_assert_eq!(
            String::from_utf8_lossy(&twice),
            String::from_utf8_lossy(&once),
            "sanitize({:?})",
            s
        );
    }

    #[test]
    fn sanitising_bytes_is_idempotent(b in proptest::collection::vec(any::<u8>(), 0..12)) {
        let once = leadsift::output::sanitize(&b).into_owned();
        let twice = leadsift::output::sanitize(&once).into_owned();
        prop_assert_eq!(twice, once);
    }
}
