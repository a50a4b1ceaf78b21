//! Reading the dialect of a CSV text from its first bytes: the delimiter,
//! the line endings, and how many title lines stand above the header row.
//!
//! - Delimiter: each of `,` `;` tab `|` splits the sample into records
//!   (quotes respected); the one whose records most often have the same
//!   number of fields, two or more, wins; on a tie, the one giving more
//!   fields, then the order above. With no winner, `,`.
//! - Preamble: the header is the first record (of the first
//!   [`MAX_PREAMBLE`] + 1) with more than half as many non-empty fields as
//!   the file's usual record has fields; the records above it are title or
//!   preamble lines (`Exported from ... on ...`, or `Leads report,,,,`),
//!   skipped and counted. Header detection works on records, so it serves
//!   workbooks too.

use super::reader::{CsvReader, Limits};
use super::record::{Record, RecordSource};

/// The most title lines skipped above a header.
pub const MAX_PREAMBLE: usize = 20;

pub const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The shape of records under one delimiter: (fields, non-empty fields).
fn shapes(sample: &[u8], delimiter: u8, complete: bool) -> Vec<(usize, usize)> {
    let mut r = CsvReader::new(sample, delimiter, Limits::default());
    let mut rec = Record::default();
    let mut out = Vec::new();
    while let Ok(true) = r.next_record(&mut rec) {
        let non_empty = rec.iter().filter(|f| !f.trim_ascii().is_empty()).count();
        out.push((rec.len(), non_empty));
    }
    if !complete && out.len() > 1 {
        // The last record may be cut by the end of the sample.
        out.pop();
    }
    out
}

/// The most common field count (the larger on a tie) and how many records
/// have it.
fn mode(counts: impl Iterator<Item = usize>) -> (usize, usize) {
    let mut tally: std::collections::BTreeMap<usize, usize> = Default::default();
    for c in counts {
        *tally.entry(c).or_default() += 1;
    }
    tally
        .into_iter()
        .max_by_key(|&(fields, n)| (n, fields))
        .unwrap_or((0, 0))
}

/// The delimiter of a CSV sample; `complete` when the sample is the whole
/// file.
pub fn delimiter(sample: &[u8], complete: bool) -> u8 {
    let mut best = (b',', 0.0f64, 0usize);
    for d in CANDIDATES {
        let s = shapes(sample, d, complete);
        let (fields, n) = mode(s.iter().map(|x| x.0));
        if fields < 2 || s.is_empty() {
            continue;
        }
        let share = n as f64 / s.len() as f64;
        // Shares within a few percent are a tie, decided by field count.
        let better = share > best.1 + 0.05 || (share >= best.1 - 0.05 && fields > best.2);
        if better {
            best = (d, share, fields);
        }
    }
    best.0
}

/// How many leading records are preamble, from the shapes (fields,
/// non-empty fields) of the first records.
pub fn preamble(shapes: &[(usize, usize)]) -> usize {
    if shapes.len() < 2 {
        return 0;
    }
    let (usual, _) = mode(shapes.iter().map(|s| s.0));
    shapes
        .iter()
        .take(MAX_PREAMBLE + 1)
        .position(|&(_, non_empty)| non_empty * 2 > usual)
        .unwrap_or(0)
}

/// Preamble records of a CSV sample under a delimiter.
pub fn csv_preamble(sample: &[u8], delimiter: u8, complete: bool) -> usize {
    preamble(&shapes(sample, delimiter, complete))
}

/// `lf`, `crlf`, `cr`, `mixed`, or `none` (a single line).
pub fn line_endings(sample: &[u8]) -> &'static str {
    let crlf = memchr::memmem::find_iter(sample, b"\r\n").count();
    let lf = memchr::memchr_iter(b'\n', sample).count() - crlf;
    let cr = memchr::memchr_iter(b'\r', sample).count() - crlf;
    match (lf > 0, crlf > 0, cr > 0) {
        (false, false, false) => "none",
        (true, false, false) => "lf",
        (false, true, false) => "crlf",
        (false, false, true) => "cr",
        _ => "mixed",
    }
}

/// How a delimiter is shown to people.
pub fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        b' ' => "space".into(),
        _ => (d as char).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_found() {
        assert_eq!(delimiter(b"a,b,c\n1,2,3\n", true), b',');
        assert_eq!(
            delimiter(b"Name;Email;Budget\nAna;a@x.de;1,5\nBo;b@x.de;2,5\n", true),
            b';'
        );
        assert_eq!(delimiter(b"a\tb\tc\n1\t2\t3\n", true), b'\t');
        assert_eq!(delimiter(b"a|b\n1|2\n", true), b'|');
        // Semicolons inside notes do not win over commas.
        assert_eq!(
            delimiter(
                b"email,note\na@x.com,\"call; later\"\nb@x.com,ok; fine\n",
                true
            ),
            b','
        );
        // One column: the default.
        assert_eq!(delimiter(b"email\na@x.com\n", true), b',');
    }

    #[test]
    fn title_lines_above_the_header_are_preamble() {
        let s = b"Exported from Salesforce on 2026-01-01\n\nEmail,Name,Company\na@x.com,A,X\nb@y.com,B,Y\n";
        assert_eq!(csv_preamble(s, b',', true), 1);
        let s = b"Leads report,,\nEmail,Name,Company\na@x.com,A,X\n";
        assert_eq!(csv_preamble(s, b',', true), 1);
        let s = b"Email,Name,Company\na@x.com,,\nb@x.com,,\n";
        assert_eq!(csv_preamble(s, b',', true), 0);
    }

    #[test]
    fn line_endings_are_named() {
        assert_eq!(line_endings(b"a\nb\n"), "lf");
        assert_eq!(line_endings(b"a\r\nb\r\n"), "crlf");
        assert_eq!(line_endings(b"a\rb\r"), "cr");
        assert_eq!(line_endings(b"a\r\nb\n"), "mixed");
    }
}
