//! Excel and OpenDocument workbooks (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`,
//! `.ods`), read with calamine: one sheet becomes records, each cell the
//! text a CSV export of it would hold.
//!
//! Cell text: whole numbers without `.0` (`42`, not `42.0`), other numbers
//! in their shortest exact form; dates as ISO dates (`2026-03-01`), with
//! the time when it is not midnight (`2026-03-01 14:30:00`); booleans as
//! `TRUE`/`FALSE`; error cells as Excel shows them (`#N/A`). A row's line
//! is its row number in the sheet. Empty rows are blank lines.

use std::io::{Cursor, Read, Seek};
use std::path::Path;

use calamine::{open_workbook_auto, open_workbook_auto_from_rs, Data, Range, Reader, Sheets};

use super::record::{Record, RecordSource};

/// The file name endings read as workbooks.
pub const EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Whether the first bytes are a zip (xlsx, ods) or OLE (xls) container.
pub fn has_workbook_magic(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
        || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

/// One sheet of a workbook, read row by row.
pub struct SheetReader {
    range: Range<Data>,
    row: usize,
    first_line: u64,
    blank: u64,
    text: String,
    /// The header's width, once known.
    width: Option<usize>,
}

/// Opens a workbook from a file, or from bytes (standard input).
pub fn open(
    path: Option<&Path>,
    bytes: Vec<u8>,
    sheet: Option<&str>,
) -> Result<(SheetReader, String), String> {
    match path {
        Some(p) => read_sheet(
            open_workbook_auto(p).map_err(|e| format!("cannot read the workbook: {e}"))?,
            sheet,
        ),
        None => read_sheet(
            open_workbook_auto_from_rs(Cursor::new(bytes))
                .map_err(|e| format!("cannot read the workbook: {e}"))?,
            sheet,
        ),
    }
}

fn read_sheet<RS: Read + Seek>(
    mut book: Sheets<RS>,
    sheet: Option<&str>,
) -> Result<(SheetReader, String), String> {
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "has no sheet named `{s}`; its sheets are: {}",
                    names.join(", ")
                )
            })?,
        None => names.first().cloned().ok_or("the workbook has no sheets")?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| format!("cannot read sheet `{name}`: {e}"))?;
    let first_line = range.start().map_or(1, |(r, _)| u64::from(r) + 1);
    Ok((
        SheetReader {
            range,
            row: 0,
            first_line,
            blank: 0,
            text: String::new(),
            width: None,
        },
        name,
    ))
}

/// The text a CSV export holds for a cell.
pub fn cell_text(cell: &Data, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    let _ = match cell {
        Data::Empty => Ok(()),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
            out.push_str(s);
            Ok(())
        }
        Data::Int(i) => write!(out, "{i}"),
        Data::Float(f) => write_number(out, *f),
        Data::Bool(b) => write!(out, "{}", if *b { "TRUE" } else { "FALSE" }),
        Data::Error(e) => write!(out, "{e}"),
        Data::DateTime(dt) => match dt.as_datetime().filter(|_| dt.is_datetime()) {
            Some(d) => {
                // Shown as `2026-03-01 14:30:00`; a date alone at midnight.
                let shown = d.to_string();
                out.push_str(shown.strip_suffix(" 00:00:00").unwrap_or(&shown));
                Ok(())
            }
            None => write_number(out, dt.as_f64()),
        },
    };
}

fn write_number(out: &mut String, f: f64) -> std::fmt::Result {
    use std::fmt::Write;
    if f.fract() == 0.0 && f.abs() < 1e15 {
        write!(out, "{}", f as i64)
    } else {
        write!(out, "{f}")
    }
}

impl RecordSource for SheetReader {
    fn next_record(&mut self, rec: &mut Record) -> std::io::Result<bool> {
        let (height, width) = self.range.get_size();
        while self.row < height {
            rec.clear();
            rec.line = self.first_line + self.row as u64;
            for col in 0..width {
                match self.range.get((self.row, col)) {
                    Some(cell) => cell_text(cell, &mut self.text),
                    None => self.text.clear(),
                }
                rec.push_field(self.text.as_bytes());
            }
            self.row += 1;
            if rec.is_blank() {
                self.blank += 1;
                continue;
            }
            if let Some(w) = self.width {
                fit_width(rec, w);
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn position(&self) -> u64 {
        0
    }

    fn blank_lines(&self) -> u64 {
        self.blank
    }

    fn set_width(&mut self, width: usize) {
        self.width = Some(width);
    }
}

/// Drops empty trailing fields beyond `width`, so that a sheet whose used
/// range is wider than its header does not make every row too long.
pub fn fit_width(rec: &mut Record, width: usize) {
    while rec.fields > width && rec.get(rec.fields - 1).is_some_and(|f| f.is_empty()) {
        // (Empty: the bytes the fields lie in stay as they are.)
        rec.fields -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_like_a_csv_export() {
        let mut s = String::new();
        let cases = [
            (Data::Float(42.0), "42"),
            (Data::Float(2.5), "2.5"),
            (Data::Int(7), "7"),
            (Data::Bool(true), "TRUE"),
            (Data::String("Ana".into()), "Ana"),
            (Data::Error(calamine::CellErrorType::NA), "#N/A"),
            (Data::Empty, ""),
        ];
        for (cell, want) in cases {
            cell_text(&cell, &mut s);
            assert_eq!(s, want);
        }
    }
}
