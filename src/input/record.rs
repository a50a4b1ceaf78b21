//! One record as read from any input (CSV text or a workbook sheet), and
//! the closed set of reasons a row can be rejected for.
//!
//! A record owns its buffers and is reused from row to row: reading into
//! it allocates only when a record is larger than any before it.

/// Why a row was rejected: a closed set, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// The rules' `[usable]` condition does not hold (by default: no email
    /// and no phone).
    Unusable,
    TooManyFields,
    TooFewFields,
    /// A quoted field that does not close where the row should end: the
    /// record's first line is rejected and reading resumes on the next.
    UnterminatedQuote,
    /// Bytes that are not valid in the file's encoding.
    InvalidEncoding,
    /// A field over `--max-field-bytes`.
    FieldTooLarge,
    /// A line over `--max-record-bytes` with no end in sight.
    RecordTooLarge,
}

impl RejectKind {
    pub const ALL: [RejectKind; 7] = [
        RejectKind::Unusable,
        RejectKind::TooManyFields,
        RejectKind::TooFewFields,
        RejectKind::UnterminatedQuote,
        RejectKind::InvalidEncoding,
        RejectKind::FieldTooLarge,
        RejectKind::RecordTooLarge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RejectKind::Unusable => "unusable",
            RejectKind::TooManyFields => "too-many-fields",
            RejectKind::TooFewFields => "too-few-fields",
            RejectKind::UnterminatedQuote => "unterminated-quote",
            RejectKind::InvalidEncoding => "invalid-encoding",
            RejectKind::FieldTooLarge => "field-too-large",
            RejectKind::RecordTooLarge => "record-too-large",
        }
    }

    /// Whether the record's fields cannot be trusted (and so are not
    /// copied into the input columns of `rejected.csv`).
    pub fn malformed(self) -> bool {
        self != RejectKind::Unusable
    }
}

/// Longest raw record kept in `rejected.csv`, in bytes.
pub const RAW_LIMIT: usize = 4096;

/// A record: its fields, where it starts, and what the reader found wrong
/// with it, if anything.
///
/// The fields are spans of `data`. A one-line record is read as its line
/// (one copy), each field a span of it, with a value whose quotes were
/// doubled unescaped after the line; other records hold their values one
/// byte ([`SPACER`]) apart. Either way no two values touch in
/// `data[..data_len]`, so checking it for UTF-8 checks every field on its
/// own (a character whose bytes two fields share is not valid).
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The bytes the fields are spans of; only `data[..data_len]` is
    /// meaningful.
    pub data: Vec<u8>,
    pub data_len: usize,
    /// Field `k` is `data[bounds[2k]..bounds[2k + 1]]`; only the first
    /// `2 * fields` count.
    pub bounds: Vec<u32>,
    pub fields: usize,
    /// Physical line (or sheet row) where the record starts, from 1.
    pub line: u64,
    /// Set by the reader when the record could not be read as fields.
    pub problem: Option<RejectKind>,
    pub message: String,
    /// For a problem record: its text as read, cut at [`RAW_LIMIT`].
    pub raw: Vec<u8>,
    /// `Some(d)` when `data[..line_len]` is the record's line as read, and
    /// that line is exactly what writing the fields back with delimiter
    /// `d` gives (quotes where the fields need them, and only there): the
    /// writer then copies the line instead of the fields. Each field that
    /// [`Record::maybe_risky`] marks is then a span of the line (its value
    /// past its opening quote, if quoted): where a sanitised cell's `'`
    /// goes.
    pub verbatim: Option<u8>,
    /// The length of the line at the start of `data` (meaningful when
    /// `verbatim` is set).
    pub line_len: usize,
    /// Bit `k` set when field `k`'s value starts with a byte that
    /// sanitising may defuse (meaningful when `verbatim` is set).
    pub maybe_risky: u64,
}

impl Record {
    pub fn clear(&mut self) {
        self.data_len = 0;
        self.fields = 0;
        self.line = 0;
        self.problem = None;
        self.message.clear();
        self.raw.clear();
        self.verbatim = None;
    }

    pub fn len(&self) -> usize {
        self.fields
    }

    pub fn is_empty(&self) -> bool {
        self.fields == 0
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.fields {
            return None;
        }
        let (s, e) = (self.bounds[2 * i], self.bounds[2 * i + 1]);
        self.data.get(s as usize..e as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.fields).filter_map(move |i| self.get(i))
    }

    /// The fields' spans (see [`Record::bounds`]).
    pub fn spans(&self) -> &[u32] {
        &self.bounds[..2 * self.fields]
    }

    /// The bytes every field lies in (see [`Record`]).
    pub fn bytes(&self) -> &[u8] {
        &self.data[..self.data_len]
    }

    /// Appends a field after the bytes held so far, one byte
    /// ([`SPACER`]) after them, so that the bytes checked for UTF-8 are
    /// valid only when each field is. Spans are `u32`: a CSV record is
    /// rejected past `--max-record-bytes` (at most 1 GiB) long before, and
    /// a sheet row (at most 16,384 cells of 32,767 characters) stays
    /// under 4 GiB.
    pub fn push_field(&mut self, field: &[u8]) {
        self.verbatim = None;
        let start = self.data_len + usize::from(self.data_len > 0);
        let end = start + field.len();
        if self.data.len() < end {
            self.data.resize(end.max(self.data.len() * 2), 0);
        }
        if start > self.data_len {
            self.data[self.data_len] = SPACER;
        }
        self.data[start..end].copy_from_slice(field);
        if self.bounds.len() < 2 * self.fields + 2 {
            self.bounds.resize(2 * self.fields + 16, 0);
        }
        self.bounds[2 * self.fields] = span_at(start);
        self.bounds[2 * self.fields + 1] = span_at(end);
        self.data_len = end;
        self.fields += 1;
    }

    /// Marks the record as one the reader could not read, keeping its raw
    /// text (cut) and no fields.
    pub fn set_problem(&mut self, kind: RejectKind, message: String, raw: &[u8]) {
        self.verbatim = None;
        self.data_len = 0;
        self.fields = 0;
        self.problem = Some(kind);
        self.message = message;
        self.raw.clear();
        self.raw.extend_from_slice(&raw[..raw.len().min(RAW_LIMIT)]);
    }

    /// Whether every field is empty or blank: a blank line.
    pub fn is_blank(&self) -> bool {
        self.problem.is_none()
            && self
                .iter()
                .all(|f| f.iter().all(|b| b.is_ascii_whitespace()))
    }
}

/// The byte between values held apart (ASCII, so that each value's bytes
/// stay as valid or invalid UTF-8 as they are on their own).
pub const SPACER: u8 = b'\n';

/// A position in a record's bytes, as a span bound: records stay under
/// 4 GiB (see [`Record::push_field`]).
#[inline]
pub fn span_at(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

/// Where records come from: a CSV text stream or a workbook sheet.
pub trait RecordSource: Send {
    /// Reads the next record into `rec`; `false` at the end of the input.
    /// Blank lines are skipped (and counted), never returned.
    fn next_record(&mut self, rec: &mut Record) -> std::io::Result<bool>;
    /// Bytes of the input consumed so far (for progress), if known.
    fn position(&self) -> u64;
    /// Blank lines skipped so far.
    fn blank_lines(&self) -> u64;
    /// Tells the reader how many fields a row should have, once the header
    /// is known.
    fn set_width(&mut self, width: usize);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_push_and_read_back() {
        let mut r = Record::default();
        for f in ["a", "", "ccc"] {
            r.push_field(f.as_bytes());
        }
        let got: Vec<&[u8]> = r.iter().collect();
        assert_eq!(got, [&b"a"[..], b"", b"ccc"]);
        assert!(!r.is_blank());
        r.clear();
        r.push_field(b"  ");
        assert!(r.is_blank());
    }
}
