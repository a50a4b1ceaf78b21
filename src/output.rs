//! Output files: the column layout, spreadsheet-safe cells, and files that
//! appear whole or not at all.
//!
//! Every output is written to a temporary file in the output directory and
//! renamed over its target only after a checked flush and sync, so a run
//! that fails leaves the previous outputs as they were. `summary.json` is
//! renamed last: its presence with a new timestamp marks a complete run.

use std::borrow::Cow;
use std::fs;
use std::io::{BufWriter, IoSlice, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::Error;
use crate::rules::{Compiled, Stage};

/// Prefix of temporary files in the output directory.
pub const TEMP_PREFIX: &str = ".leadsift-tmp-";

/// How many times a rename over a target is tried, 200 ms apart.
const RENAME_TRIES: u32 = 5;

/// A file written under a temporary name and renamed into place on commit.
pub struct AtomicFile {
    target: PathBuf,
    out: BufWriter<NamedTempFile>,
    /// Synced to disk before the rename (not with `--no-sync`).
    sync: bool,
}

impl AtomicFile {
    pub fn create(dir: &Path, name: &str) -> Result<AtomicFile, Error> {
        let target = dir.join(name);
        let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
        let suffix = format!("-{name}");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(&suffix);
        // Temporary files are private (0600) by default, and the rename
        // would keep that: outputs are made as any new file is (0666 less
        // the umask), so that a CRM import running as another user can
        // read them.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(dir).map_err(|e| {
            Error::Output(
                target.display().to_string(),
                format!("cannot create a temporary file: {e}"),
            )
        })?;
        Ok(AtomicFile {
            target,
            // Small: a worker's chunk of rows (usually larger) goes to the
            // file as it is instead of being copied into the buffer first.
            out: BufWriter::with_capacity(64 * 1024, tmp),
            sync: true,
        })
    }

    /// Renamed into place without syncing it first (`--no-sync`): a
    /// failed run still leaves the previous file, but a power cut or a
    /// system crash soon after the run may leave this one incomplete.
    pub fn without_sync(mut self) -> Self {
        self.sync = false;
        self
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.out.write_all(bytes).map_err(|e| self.error(e))
    }

    /// Writes `pieces` in order: into the buffer when they fit in it,
    /// else straight to the file in vectored writes (`writev`), as
    /// `write_all` of one large slice would, instead of copying them into
    /// the buffer 64 KiB at a time.
    pub fn write_pieces(&mut self, pieces: &[&[u8]]) -> Result<(), Error> {
        let len: usize = pieces.iter().map(|p| p.len()).sum();
        if len <= self.out.capacity() - self.out.buffer().len() {
            for p in pieces {
                self.write_all(p)?;
            }
            return Ok(());
        }
        self.out.flush().map_err(|e| self.error(e))?;
        let mut slices: Vec<IoSlice> = pieces.iter().map(|p| IoSlice::new(p)).collect();
        let mut left = &mut slices[..];
        while !left.is_empty() {
            match self.out.get_mut().as_file_mut().write_vectored(left) {
                Ok(0) => {
                    let e = std::io::Error::from(std::io::ErrorKind::WriteZero);
                    return Err(self.error(e));
                }
                Ok(n) => IoSlice::advance_slices(&mut left, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(e)),
            }
        }
        Ok(())
    }

    /// Flushes, syncs and renames over the target.
    pub fn commit(self) -> Result<(), Error> {
        self.synced()?.persist()
    }

    /// Flushes and (unless [`AtomicFile::without_sync`]) syncs: what must
    /// be on disk before the rename. A run's stage files take this step
    /// together (see [`StageFiles::commit`]).
    fn synced(self) -> Result<Synced, Error> {
        let target = self.target;
        let err = |e: std::io::Error| {
            Error::Output(target.display().to_string(), format!("cannot write: {e}"))
        };
        let tmp = self.out.into_inner().map_err(|e| err(e.into_error()))?;
        if self.sync {
            tmp.as_file().sync_all().map_err(err)?;
        }
        Ok(Synced { target, tmp })
    }

    /// Another handle on the temporary file, for syncing it in the
    /// background while it is written.
    fn handle(&self) -> std::io::Result<fs::File> {
        self.out.get_ref().as_file().try_clone()
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::Output(
            self.target.display().to_string(),
            format!("cannot write: {e}"),
        )
    }
}

/// Removes the temporary files that a run killed outright (SIGKILL, a power
/// cut) left in `dir`: those whose process is gone. Temporary names carry
/// the writing process's id (`.leadsift-tmp-<pid>-...`); where processes
/// cannot be looked up (no `/proc`), a file older than a day counts as
/// left behind. Returns how many were removed.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let own = std::process::id();
    let proc_fs = Path::new("/proc/self").exists();
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let stale = match pid {
            Some(p) if p == own => false,
            Some(p) if proc_fs => !Path::new("/proc").join(p.to_string()).exists(),
            _ => e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 24 * 3600),
        };
        if stale && fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Prefixes a cell that a spreadsheet would run as a formula with `'`
/// (OWASP's advice): one that starts, after leading spaces, with `=`, `+`,
/// `-`, `@`, tab, carriage return or line feed, unless the whole value is a
/// plain decimal number such as `-12.5`.
pub fn sanitize(value: &[u8]) -> Cow<'_, [u8]> {
    if !risky(value) || is_plain_number(value) {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len() + 1);
    out.push(b'\'');
    out.extend_from_slice(value);
    Cow::Owned(out)
}

/// Whether `v` is written as it is into a CSV or TSV cell, sanitised or
/// not: no comma, tab, quote or line break in it (the bytes that need
/// quotes under either delimiter), and no first byte that sanitising may
/// defuse. For [`RowWriter::write_plain`].
pub fn plain_cell(v: &[u8]) -> bool {
    v.first().is_none_or(|&b| !MAYBE_RISKY[b as usize])
        && !v
            .iter()
            .any(|&b| matches!(b, b',' | b'\t' | b'"' | b'\r' | b'\n'))
}

/// A record as read, for [`RowWriter::write_verbatim`]: its line,
/// `data[..line_len]`, and its fields, field `k` being
/// `data[spans[2k]..spans[2k + 1]]` (a span of the line when its bit is
/// set in `maybe_risky`).
#[derive(Debug, Clone, Copy)]
pub struct Verbatim<'a> {
    pub data: &'a [u8],
    pub line_len: usize,
    pub spans: &'a [u32],
    pub maybe_risky: u64,
}

/// The first bytes of a value that [`risky`] may find risky: those that
/// start a formula, and the space it looks past.
pub const MAYBE_RISKY: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = starts_formula(b as u8) || b as u8 == b' ';
        b += 1;
    }
    t
};

/// Whether a spreadsheet reads a value that starts with `b` as a formula.
const fn starts_formula(b: u8) -> bool {
    matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n')
}

/// Whether a spreadsheet could read `value` as a formula: its first
/// character other than a space starts one.
fn risky(value: &[u8]) -> bool {
    let first = value.iter().position(|&b| b != b' ');
    first.is_some_and(|i| starts_formula(value[i]))
}

fn is_plain_number(v: &[u8]) -> bool {
    // Trimmed as `str::trim` trims: ASCII text without decoding it.
    let s = if v.is_ascii() {
        let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r');
        let from = v.iter().position(|b| !space(b)).unwrap_or(v.len());
        let to = v.iter().rposition(|b| !space(b)).map_or(from, |i| i + 1);
        &v[from..to]
    } else {
        match std::str::from_utf8(v) {
            Ok(s) => s.trim().as_bytes(),
            Err(_) => return false,
        }
    };
    let body = match s.first() {
        Some(b'-' | b'+') => &s[1..],
        _ => s,
    };
    let (int, frac) = match memchr::memchr(b'.', body) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    !int.is_empty()
        && int.iter().all(u8::is_ascii_digit)
        && frac.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
}

/// The columns of the output files: every input column (the union over all
/// inputs, in order of first appearance), then leadsift's own.
#[derive(Debug, Clone)]
pub struct Layout {
    pub input: Vec<String>,
    pub stage_extra: Vec<String>,
    pub rejected_extra: Vec<String>,
    pub duplicate_extra: Vec<String>,
    /// leadsift's columns that hold numbers (group totals, lines, rows).
    pub numeric: std::collections::HashSet<String>,
}

/// The file dropped duplicates go to.
pub const DUPLICATES_FILE: &str = "duplicates.csv";
/// Index of the duplicates file among the run's outputs (after the five
/// stage files).
pub const DUPLICATES: usize = 5;

impl Layout {
    /// `extra`: stage files get a column for the extra fields of rows
    /// kept with `--long-rows keep`.
    /// `state`: stage files get the change since the last run.
    pub fn new(input: Vec<String>, rules: &Compiled, extra: bool, state: bool) -> Layout {
        let mut taken: std::collections::HashSet<String> = input.iter().cloned().collect();
        let mut name = |base: &str| {
            let mut n = format!("leadsift_{base}");
            let mut k = 2;
            while taken.contains(&n) {
                n = format!("leadsift_{base}_{k}");
                k += 1;
            }
            taken.insert(n.clone());
            n
        };
        let mut stage_extra = vec![name("stage")];
        let mut numeric = std::collections::HashSet::new();
        for g in &rules.groups {
            stage_extra.push(name(&g.name));
            numeric.insert(stage_extra[stage_extra.len() - 1].clone());
        }
        if rules.grades.is_some() {
            stage_extra.push(name("grade"));
        }
        for base in ["bant", "reasons", "file", "line", "row"] {
            stage_extra.push(name(base));
        }
        let n = stage_extra.len();
        numeric.insert(stage_extra[n - 2].clone());
        numeric.insert(stage_extra[n - 1].clone());
        let rejected_extra = vec![
            stage_extra[0].clone(),
            name("reject_kind"),
            name("reject_reason"),
            stage_extra[n - 3].clone(),
            stage_extra[n - 2].clone(),
            stage_extra[n - 1].clone(),
            name("raw"),
        ];
        let (kept_line, kept_row) = (name("kept_line"), name("kept_row"));
        numeric.insert(kept_line.clone());
        numeric.insert(kept_row.clone());
        let duplicate_extra = vec![
            stage_extra[0].clone(),
            name("match"),
            name("key"),
            name("kept_file"),
            kept_line,
            kept_row,
            stage_extra[n - 4].clone(),
            stage_extra[n - 3].clone(),
            stage_extra[n - 2].clone(),
            stage_extra[n - 1].clone(),
        ];
        if extra {
            stage_extra.push(name("extra"));
        }
        if state {
            stage_extra.push(name("change"));
            stage_extra.push(name("previous_stage"));
            stage_extra.push(name("first_seen"));
        }
        Layout {
            input,
            stage_extra,
            rejected_extra,
            duplicate_extra,
            numeric,
        }
    }

    /// The keys of output `i`'s JSON objects: its header, with a repeated
    /// name given a suffix (`Email_2`) so no key is lost; leadsift's
    /// number columns (group totals, lines, rows) marked numeric.
    pub fn json_header(&self, i: usize) -> JsonHeader {
        let mut seen = std::collections::HashSet::new();
        let mut keys = Vec::new();
        for h in self.header(i) {
            let mut k = h.to_string();
            let mut n = 2;
            while !seen.insert(k.clone()) {
                k = format!("{h}_{n}");
                n += 1;
            }
            keys.push(k);
        }
        let numeric = self
            .header(i)
            .iter()
            .enumerate()
            .map(|(c, h)| c >= self.input.len() && self.numeric.contains(*h))
            .collect();
        JsonHeader { keys, numeric }
    }

    /// The header of output `i`: a stage file, or [`DUPLICATES`].
    pub fn header(&self, i: usize) -> Vec<&str> {
        let extra = if i == DUPLICATES {
            &self.duplicate_extra
        } else if i == Stage::Rejected.index() {
            &self.rejected_extra
        } else {
            &self.stage_extra
        };
        self.input.iter().chain(extra).map(String::as_str).collect()
    }
}

/// The format of the stage files (`--out-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Csv,
    /// Tab-separated, quoted as the csv crate quotes (a field holding a
    /// tab, a quote or a line break is quoted), so it reads back exactly.
    Tsv,
    /// One JSON object per line, keyed by the header.
    Jsonl,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
        }
    }

    /// A writer for rows of this format (JSON Lines are written as CSV
    /// first, then turned into JSON per chunk: see [`csv_to_jsonl`]).
    pub fn writer(self) -> RowWriter {
        RowWriter::new(if self == Format::Tsv { b'\t' } else { b',' })
    }
}

/// Rows written as CSV (or TSV) into memory, quoted exactly as the csv
/// crate's writer quotes them (`QuoteStyle::Necessary`: a field is quoted
/// when it holds the delimiter, a quote, `\r` or `\n`, and quotes inside
/// are doubled), without its per-field state machine: the workers write
/// every output row through one of these.
#[derive(Debug, Clone)]
pub struct RowWriter {
    buf: Vec<u8>,
    delimiter: u8,
    /// Whether the current record has a field yet.
    started: bool,
    /// Where the current record starts in `buf`.
    record_start: usize,
    /// The bytes that make a field need quotes.
    special: [bool; 256],
    /// The delimiter is not a letter, a digit or `-` (see
    /// [`RowWriter::write_word`]).
    words_plain: bool,
}

impl RowWriter {
    pub fn new(delimiter: u8) -> Self {
        let mut special = [false; 256];
        for b in [delimiter, b'"', b'\r', b'\n'] {
            special[b as usize] = true;
        }
        RowWriter {
            buf: Vec::new(),
            delimiter,
            started: false,
            record_start: 0,
            special,
            words_plain: !(delimiter.is_ascii_alphanumeric() || delimiter == b'-'),
        }
    }

    /// The delimiter it writes.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Appends one field to the current record.
    #[inline]
    pub fn write_field(&mut self, v: impl AsRef<[u8]>) {
        self.write_prefixed(b"", v.as_ref());
    }

    /// Appends a field whose value is `prefix` then `v`, where `prefix`
    /// holds nothing that needs quotes.
    #[inline]
    fn write_prefixed(&mut self, prefix: &[u8], v: &[u8]) {
        if self.started {
            self.buf.push(self.delimiter);
        }
        self.started = true;
        if !self.needs_quotes(v) {
            self.buf.extend_from_slice(prefix);
            self.buf.extend_from_slice(v);
            return;
        }
        self.buf.reserve(prefix.len() + v.len() + 2);
        self.buf.push(b'"');
        self.buf.extend_from_slice(prefix);
        for part in v.split_inclusive(|&b| b == b'"') {
            self.buf.extend_from_slice(part);
            if part.last() == Some(&b'"') {
                self.buf.push(b'"');
            }
        }
        self.buf.push(b'"');
    }

    /// Appends an input cell: as [`sanitize`] gives it when `sanitize_cells`
    /// (without copying it first), else as it is.
    pub fn write_cell(&mut self, v: &[u8], sanitize_cells: bool) {
        if sanitize_cells && risky(v) && !is_plain_number(v) {
            self.write_prefixed(b"'", v);
        } else {
            self.write_prefixed(b"", v);
        }
    }

    /// Appends the fields of a record, field `k` being
    /// `data[spans[2k]..spans[2k + 1]]`, each sanitised first when
    /// `sanitize_cells` (see [`sanitize`]). The fields lie back to back,
    /// or apart in their line (a value unescaped after the line goes back
    /// before the next). `data` is searched for bytes that need quotes
    /// from one such byte to the next, not field by field: a field that
    /// ends before the next one is copied as it is. `data` may go on past
    /// the fields (a record's spare buffer): a short field is then copied
    /// as a fixed 16-byte move (the bytes past it cut off again), not a
    /// call.
    pub fn write_fields(&mut self, data: &[u8], spans: &[u32], sanitize_cells: bool) {
        let len = spans
            .iter()
            .skip(1)
            .step_by(2)
            .max()
            .map_or(0, |&e| e as usize);
        let bytes = data.get(..len).unwrap_or_default();
        self.buf.reserve(len + spans.len() / 2 + 16);
        let d = self.delimiter;
        // A record with a carriage return (rare) is checked field by field.
        let cr = memchr::memchr(b'\r', bytes).is_some();
        let special_from = |at: usize| {
            if cr {
                return at;
            }
            let rest = bytes.get(at..).unwrap_or_default();
            memchr::memchr3(d, b'"', b'\n', rest).map_or(usize::MAX, |i| at + i)
        };
        // `next`: the first such byte from `from` on.
        let mut from = 0;
        let mut next = special_from(0);
        for span in spans.chunks_exact(2) {
            let (start, end) = (span[0] as usize, span[1] as usize);
            let v = bytes.get(start..end).unwrap_or_default();
            // What was found lies before this field (between fields, in a
            // line), or the field lies before where the search started:
            // look again from its start.
            if next < start || start < from {
                next = special_from(start);
                from = start;
            }
            if next < end {
                self.write_cell(v, sanitize_cells);
                next = special_from(end);
                from = end;
            } else if sanitize_cells && risky(v) {
                self.write_cell(v, true);
            } else {
                if self.started {
                    self.buf.push(d);
                }
                self.started = true;
                match data.get(start..).and_then(|r| r.first_chunk::<16>()) {
                    Some(block) if v.len() <= 16 => {
                        let at = self.buf.len();
                        self.buf.extend_from_slice(block);
                        self.buf.truncate(at + v.len());
                    }
                    _ => self.buf.extend_from_slice(v),
                }
            }
        }
    }

    /// Appends a field that [`plain_cell`] found plain, as it is (under
    /// a delimiter other than a comma or a tab, as any field).
    #[inline]
    pub fn write_plain(&mut self, v: &[u8]) {
        debug_assert!(plain_cell(v));
        if !matches!(self.delimiter, b',' | b'\t') {
            return self.write_prefixed(b"", v);
        }
        if self.started {
            self.buf.push(self.delimiter);
        }
        self.started = true;
        self.buf.extend_from_slice(v);
    }

    /// Appends the fields of a record as the line they were read from,
    /// which is what [`RowWriter::write_fields`] would write for them (see
    /// `Record::verbatim`): one copy, with a `'` put before each value
    /// that sanitising defuses. Only the fields whose bit is set in
    /// `maybe_risky` (their value starts with a byte in [`MAYBE_RISKY`])
    /// are looked at.
    pub fn write_verbatim(&mut self, v: Verbatim, sanitize_cells: bool) {
        if self.started {
            self.buf.push(self.delimiter);
        }
        self.started = true;
        let line = v.data.get(..v.line_len).unwrap_or_default();
        let mut from = 0;
        let mut bits = if sanitize_cells { v.maybe_risky } else { 0 };
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let (start, end) = (v.spans[2 * k] as usize, v.spans[2 * k + 1] as usize);
            let value = line.get(start..end).unwrap_or_default();
            if risky(value) && !is_plain_number(value) {
                self.buf
                    .extend_from_slice(line.get(from..start).unwrap_or_default());
                self.buf.push(b'\'');
                from = start;
            }
        }
        self.buf
            .extend_from_slice(line.get(from..).unwrap_or_default());
    }

    /// Whether `v` holds the delimiter, a quote or a line break: eight
    /// bytes at a time (a zero byte of `word ^ repeated(b)` is a `b`), the
    /// tail byte by byte.
    #[inline]
    fn needs_quotes(&self, v: &[u8]) -> bool {
        if v.len() >= 32 {
            // Long values (the reasons column) go to memchr's vector search.
            return memchr::memchr3(self.delimiter, b'"', b'\n', v).is_some()
                || memchr::memchr(b'\r', v).is_some();
        }
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let has_zero = |y: u64| y.wrapping_sub(ONES) & !y & HIGHS;
        let (words, tail) = v.as_chunks::<8>();
        for w in words {
            let x = u64::from_le_bytes(*w);
            let found = has_zero(x ^ (ONES * u64::from(self.delimiter)))
                | has_zero(x ^ (ONES * u64::from(b'"')))
                | has_zero(x ^ (ONES * u64::from(b'\n')))
                | has_zero(x ^ (ONES * u64::from(b'\r')));
            if found != 0 {
                return true;
            }
        }
        tail.iter().any(|&b| self.special[b as usize])
    }

    /// Appends an integer field.
    #[inline]
    pub fn write_int(&mut self, n: impl itoa::Integer) {
        let mut b = itoa::Buffer::new();
        self.write_word(b.format(n).as_bytes());
    }

    /// Appends a field of ASCII letters, digits and `-` (a stage's name,
    /// a number): such a field needs quotes only under a delimiter that is
    /// one of those bytes, so it is copied without looking for any.
    #[inline]
    pub fn write_word(&mut self, v: &[u8]) {
        debug_assert!(v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-'));
        if !self.words_plain {
            return self.write_prefixed(b"", v);
        }
        if self.started {
            self.buf.push(self.delimiter);
        }
        self.started = true;
        self.buf.extend_from_slice(v);
    }

    /// Ends the current record (a record of one empty field is written as
    /// `""`, so that it is not read back as a blank line).
    #[inline]
    pub fn end_record(&mut self) {
        if self.buf.len() == self.record_start {
            self.buf.extend_from_slice(b"\"\"");
        }
        self.buf.push(b'\n');
        self.started = false;
        self.record_start = self.buf.len();
    }

    /// How many bytes the writer holds (where the next record starts).
    pub fn written(&self) -> usize {
        self.buf.len()
    }

    /// The bytes written so far; the writer starts empty again, with room
    /// for a quarter more (chunks vary in size: growing a buffer copies
    /// all it holds).
    pub fn take(&mut self) -> Vec<u8> {
        self.take_into(Vec::new())
    }

    /// [`RowWriter::take`], going on in `spare` (emptied): a buffer a
    /// chunk handed on gave back, so that no buffer is allocated on one
    /// thread and freed on another for every chunk.
    pub fn take_into(&mut self, mut spare: Vec<u8>) -> Vec<u8> {
        let cap = self.buf.len() + self.buf.len() / 4;
        spare.clear();
        spare.reserve(cap);
        self.record_start = 0;
        std::mem::replace(&mut self.buf, spare)
    }

    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

/// A flushed (and synced) temporary file, to be renamed over its target.
struct Synced {
    target: PathBuf,
    tmp: NamedTempFile,
}

impl Synced {
    fn persist(self) -> Result<(), Error> {
        let Synced { target, mut tmp } = self;
        // A target another program holds open cannot be replaced on some
        // systems: retry briefly, then fail naming it. The old file is never
        // deleted first, and the temporary one goes when `tmp` is dropped.
        let mut attempt = 1;
        loop {
            match tmp.persist(&target) {
                Ok(_) => return Ok(()),
                Err(e) if attempt == RENAME_TRIES => {
                    return Err(Error::Output(
                        target.display().to_string(),
                        format!(
                            "cannot replace it (is it open in another program?): {}",
                            e.error
                        ),
                    ))
                }
                Err(e) => {
                    tmp = e.file;
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            }
        }
    }
}

/// The names of a run's data files: the five stage files, then the
/// duplicates file, with the format's extension.
pub fn output_names(format: Format) -> [String; 6] {
    let s = Stage::ALL.map(|s| s.file_name());
    let named = |n: &str| match format {
        Format::Csv => n.to_string(),
        f => format!("{}.{}", n.trim_end_matches(".csv"), f.extension()),
    };
    [
        named(s[0]),
        named(s[1]),
        named(s[2]),
        named(s[3]),
        named(s[4]),
        named(DUPLICATES_FILE),
    ]
}

/// How a run's data files are written.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    pub format: Format,
    /// Defuse spreadsheet formulas in cells (CSV and TSV only).
    pub sanitize: bool,
    /// Start CSV and TSV files with a UTF-8 byte-order mark (`--bom`).
    pub bom: bool,
    /// The output (index as in [`output_names`]) also streamed to standard
    /// output (`--stdout STAGE`).
    pub stdout: Option<usize>,
    /// `--dry-run`: no file is created.
    pub dry_run: bool,
    /// `--no-sync`: files are renamed into place without being synced to
    /// disk first.
    pub no_sync: bool,
}

/// Where one output goes.
enum Sink {
    File(AtomicFile),
    /// `--dry-run`: counted, not kept.
    Discard,
}

/// Bytes written to a stage file between two background syncs. At 32 MiB
/// the syncs before the renames still had up to 32 MiB a file to write
/// (40 ms at a million rows, the run's cores idle); at 8 MiB they take
/// 10 ms, and the run 5% less time at `-j2` (4 MiB was no quicker).
const SYNC_EVERY: u64 = 8 * 1024 * 1024;

/// Syncs the stage files to disk on a thread of its own while they are
/// being written, so that the sync before each rename (which the run must
/// wait for) only has the last few megabytes left to write: at a million
/// rows that wait was a tenth of the run. Best effort: a sync asked for
/// while two are waiting is skipped; a failed one fails the commit.
struct Syncer {
    tx: Option<std::sync::mpsc::SyncSender<(usize, fs::File)>>,
    thread: Option<std::thread::JoinHandle<Option<(usize, std::io::Error)>>>,
}

impl Syncer {
    fn new() -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, fs::File)>(2);
        let thread = std::thread::Builder::new()
            .name("leadsift-sync".into())
            .spawn(move || {
                let mut failed = None;
                for (i, f) in rx {
                    if failed.is_none() {
                        if let Err(e) = f.sync_data() {
                            failed = Some((i, e));
                        }
                    }
                }
                failed
            })
            .ok();
        Syncer {
            tx: thread.as_ref().map(|_| tx),
            thread,
        }
    }

    /// Queues a sync of output `i` unless the queue is full.
    fn queue(&self, i: usize, f: &AtomicFile) {
        if let (Some(tx), Ok(h)) = (&self.tx, f.handle()) {
            let _ = tx.try_send((i, h));
        }
    }

    /// Waits for the queued syncs; the first that failed, with its output.
    fn finish(mut self) -> Option<(usize, std::io::Error)> {
        drop(self.tx.take());
        self.thread.take().and_then(|t| t.join().ok().flatten())
    }
}

/// The stage files of one run and the duplicates file, and standard output
/// when a stage is streamed there.
pub struct StageFiles {
    sinks: Vec<Sink>,
    /// Bytes written to each sink since its last background sync, and how
    /// many make one due ([`SYNC_EVERY`]; less in tests).
    unsynced: Vec<u64>,
    sync_every: u64,
    syncer: Option<Syncer>,
    stdout: Option<(usize, Option<BufWriter<std::io::Stdout>>)>,
    /// Whoever reads standard output closed it before the run ended.
    pub stdout_closed: bool,
    /// For JSON Lines: each output's header and which columns hold numbers.
    json: Vec<JsonHeader>,
}

/// The keys of one output's JSON objects.
#[derive(Debug, Clone)]
pub struct JsonHeader {
    pub keys: Vec<String>,
    pub numeric: Vec<bool>,
}

impl StageFiles {
    pub fn create(dir: &Path, layout: &Layout, opts: &OutputOptions) -> Result<StageFiles, Error> {
        if !opts.dry_run {
            fs::create_dir_all(dir).map_err(|e| {
                Error::Output(
                    dir.display().to_string(),
                    format!("cannot create the output directory: {e}"),
                )
            })?;
        }
        let json: Vec<JsonHeader> = (0..6).map(|i| layout.json_header(i)).collect();
        let mut sinks = Vec::new();
        let mut stdout = None;
        for (i, file_name) in output_names(opts.format).into_iter().enumerate() {
            let head = header_bytes(layout, i, opts);
            if opts.stdout == Some(i) {
                let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
                let ok = out.write_all(&head);
                stdout = Some((i, ok.is_ok().then_some(out)));
            }
            if opts.dry_run {
                sinks.push(Sink::Discard);
                continue;
            }
            let mut f = AtomicFile::create(dir, &file_name)?;
            if opts.no_sync {
                f = f.without_sync();
            }
            if opts.bom {
                f.write_all(b"\xEF\xBB\xBF")?;
            }
            f.write_all(&head)?;
            sinks.push(Sink::File(f));
        }
        if !opts.dry_run {
            forget_cached(output_names(opts.format).iter().map(|n| dir.join(n)));
        }
        let stdout_closed = matches!(stdout, Some((_, None)));
        Ok(StageFiles {
            unsynced: vec![0; sinks.len()],
            sync_every: if opts.no_sync { u64::MAX } else { SYNC_EVERY },
            syncer: None,
            sinks,
            stdout,
            stdout_closed,
            json,
        })
    }

    /// The JSON keys of output `i`.
    pub fn json_header(&self, i: usize) -> &JsonHeader {
        &self.json[i]
    }

    /// Appends the rows in `pieces` (in order, each piece whole rows) to
    /// output `i`, and to standard output when it is streamed there. A
    /// closed standard output ends the streaming quietly; the file still
    /// gets every row. The file gets the pieces in one vectored write when
    /// they are more than its buffer holds (not copied into it first).
    pub fn write_pieces(&mut self, i: usize, pieces: &[&[u8]]) -> Result<(), Error> {
        let len: usize = pieces.iter().map(|p| p.len()).sum();
        if len == 0 {
            return Ok(());
        }
        if let Some((s, out)) = &mut self.stdout {
            if *s == i {
                if let Some(w) = out {
                    if let Err(e) = pieces.iter().try_for_each(|p| w.write_all(p)) {
                        if e.kind() != std::io::ErrorKind::BrokenPipe {
                            return Err(Error::Output("<stdout>".into(), e.to_string()));
                        }
                        *out = None;
                        self.stdout_closed = true;
                    }
                }
            }
        }
        match &mut self.sinks[i] {
            Sink::File(f) => {
                f.write_pieces(pieces)?;
                self.unsynced[i] += len as u64;
                if self.unsynced[i] >= self.sync_every {
                    self.unsynced[i] = 0;
                    self.syncer.get_or_insert_with(Syncer::new).queue(i, f);
                }
                Ok(())
            }
            Sink::Discard => Ok(()),
        }
    }

    /// Flushes standard output, then renames every file into place.
    pub fn commit(mut self) -> Result<(), Error> {
        self.flush_stdout()?;
        if let Some((i, e)) = self.syncer.take().and_then(Syncer::finish) {
            if let Some(Sink::File(f)) = self.sinks.get(i) {
                return Err(f.error(e));
            }
        }
        let files: Vec<std::sync::Mutex<Option<AtomicFile>>> = self
            .sinks
            .into_iter()
            .filter_map(|s| match s {
                Sink::File(f) => Some(std::sync::Mutex::new(Some(f))),
                Sink::Discard => None,
            })
            .collect();
        let sync = |slot: &std::sync::Mutex<Option<AtomicFile>>| {
            let f = slot.lock().ok().and_then(|mut f| f.take());
            f.expect("each file is synced once").synced()
        };
        // Every file is synced before any is renamed, so that a failed
        // sync leaves all of the last run's outputs in place. The syncs run
        // at once, each on a thread of its own: one after another, each
        // waited for its last writes and a journal commit while the cores
        // idled (a fifth of a second at a million rows).
        let synced: Vec<Result<Synced, Error>> = std::thread::scope(|scope| {
            let started: Vec<_> = files
                .iter()
                .map(|slot| {
                    let builder = std::thread::Builder::new().name("leadsift-sync".into());
                    builder.spawn_scoped(scope, || sync(slot)).map_err(|_| slot)
                })
                .collect();
            started
                .into_iter()
                .map(|s| match s {
                    Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    // No thread to be had: synced here, in turn.
                    Err(slot) => sync(slot),
                })
                .collect()
        });
        for f in synced.into_iter().collect::<Result<Vec<_>, _>>()? {
            f.persist()?;
        }
        Ok(())
    }

    /// Flushes what is streamed to standard output.
    pub fn flush_stdout(&mut self) -> Result<(), Error> {
        if let Some((_, Some(w))) = &mut self.stdout {
            if let Err(e) = w.flush() {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(Error::Output("<stdout>".into(), e.to_string()));
                }
                self.stdout_closed = true;
            }
            if self.stdout_closed {
                self.stdout = None;
            }
        }
        Ok(())
    }
}

/// Asks the kernel, on a thread of its own, to drop from its page cache
/// the pages of the last run's stage files that this run will replace:
/// the rename that replaces a file frees its pages there and then, and
/// for a large file (150 MB of leads) that took about 0.1 s at the end of
/// the run. Dropped now, while the run works, the rename only frees the
/// file's blocks. The files themselves are untouched (a failed run leaves
/// them as they were); reading one meanwhile reads it from disk.
fn forget_cached(paths: impl Iterator<Item = PathBuf>) {
    #[cfg(target_os = "linux")]
    {
        let paths: Vec<PathBuf> = paths.collect();
        std::thread::spawn(move || {
            for p in paths {
                if let Ok(f) = fs::File::open(&p) {
                    let advice = rustix::fs::Advice::DontNeed;
                    let _ = rustix::fs::fadvise(&f, 0, None, advice);
                }
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    drop(paths);
}

/// The header line of output `i` in the run's format (empty for JSON
/// Lines, whose objects carry their keys).
fn header_bytes(layout: &Layout, i: usize, opts: &OutputOptions) -> Vec<u8> {
    if opts.format == Format::Jsonl {
        return Vec::new();
    }
    let mut w = opts.format.writer();
    for h in layout.header(i) {
        let cell = if opts.sanitize {
            sanitize(h.as_bytes())
        } else {
            Cow::Borrowed(h.as_bytes())
        };
        w.write_field(cell);
    }
    w.end_record();
    w.into_inner()
}

/// Turns rows written as CSV into JSON Lines: one object per row, keyed by
/// `head`; numeric columns become numbers (or `null` when empty), every
/// other cell a string. A row with more cells than keys (`--long-rows keep`
/// never makes one) keeps the rest under `_extra_N`.
pub fn csv_to_jsonl(rows: &[u8], head: &JsonHeader) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 2);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(rows);
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).unwrap_or(false) {
        let mut obj = serde_json::Map::with_capacity(rec.len());
        for (c, cell) in rec.iter().enumerate() {
            let text = String::from_utf8_lossy(cell);
            let key = head
                .keys
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("_extra_{}", c + 1));
            let numeric = head.numeric.get(c).copied().unwrap_or(false);
            let value = if numeric {
                if text.is_empty() {
                    serde_json::Value::Null
                } else if let Ok(n) = text.parse::<i64>() {
                    n.into()
                } else {
                    text.into_owned().into()
                }
            } else {
                text.into_owned().into()
            };
            obj.insert(key, value);
        }
        if serde_json::to_writer(&mut out, &obj).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        String::from_utf8(sanitize(v.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn a_plain_cell_is_written_as_write_cell_writes_it() {
        // Random values over the bytes that decide quoting and
        // sanitising: where `plain_cell` says so, writing as it is gives
        // what `write_cell` gives, under a comma or a tab, sanitised or not.
        let alphabet = b"ab ;,\t\"'=+-@1.\r\n\xc3\xa9";
        let mut rng = crate::testing::Rng::new(0x51_7cc1_b727_220a);
        let mut plain = 0;
        for _ in 0..20_000 {
            let len = (rng.next() % 12) as usize;
            let v: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect();
            if !plain_cell(&v) {
                continue;
            }
            plain += 1;
            for delimiter in [b',', b'\t'] {
                for sanitize in [false, true] {
                    let (mut a, mut b) = (RowWriter::new(delimiter), RowWriter::new(delimiter));
                    for w in [&mut a, &mut b] {
                        w.write_field("x");
                    }
                    a.write_plain(&v);
                    b.write_cell(&v, sanitize);
                    assert_eq!(a.take(), b.take(), "{:?}", String::from_utf8_lossy(&v));
                }
            }
        }
        assert!(plain > 1_000, "{plain} plain values");
        assert!(plain_cell(
            b"F1-authority +25 fit; B1-budget +5 bant_points [budget]"
        ));
        for v in [
            &b"=1"[..],
            b"-5 fit",
            b"a,b",
            b"a\tb",
            b"say \"hi\"",
            b"two\nlines",
        ] {
            assert!(!plain_cell(v), "{v:?}");
        }
    }

    #[test]
    fn formulas_are_defused_numbers_are_not() {
        assert_eq!(s("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(s("  @SUM(A1)"), "'  @SUM(A1)");
        assert_eq!(s("+49 30 1234567"), "'+49 30 1234567");
        assert_eq!(s("-12.5"), "-12.5");
        assert_eq!(s("+12"), "+12");
        assert_eq!(s("\tx"), "'\tx");
        assert_eq!(s("Acme"), "Acme");
        assert_eq!(s(""), "");
        assert_eq!(s("-"), "'-");
    }

    /// The check on text decoded and trimmed by `str::trim`, as it was
    /// before ASCII values skipped the decoding.
    fn is_plain_number_text(v: &[u8]) -> bool {
        let s = match std::str::from_utf8(v) {
            Ok(s) => s.trim(),
            Err(_) => return false,
        };
        let body = s.strip_prefix(['-', '+']).unwrap_or(s);
        let mut parts = body.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        let frac = parts.next();
        !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Plain numbers in ASCII are told as the general check tells them.
    #[test]
    fn ascii_numbers_told_as_any_text() {
        const BYTES: &[u8] = b"01-+. \t\x0B\x0Ca";
        let mut rng = crate::testing::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut plain = 0;
        for _ in 0..100_000 {
            let seed = rng.next();
            let len = (seed % 7) as usize;
            let v: Vec<u8> = (0..len)
                .map(|k| BYTES[((seed >> (8 + 5 * k)) % BYTES.len() as u64) as usize])
                .collect();
            assert_eq!(is_plain_number(&v), is_plain_number_text(&v), "{v:?}");
            plain += usize::from(is_plain_number(&v));
        }
        assert!(plain > 100, "too few numbers drawn: {plain}");
    }

    #[test]
    fn sanitising_twice_changes_nothing_more() {
        for v in ["=1+1", "@x", "-", "+1 (555)", "plain"] {
            assert_eq!(s(&s(v)), s(v));
        }
    }
}

#[cfg(test)]
mod sync_tests {
    use super::*;
    use crate::rules::{compile, Origin};

    /// Files synced in the background while written hold every byte, in
    /// order, once committed; nothing is left behind.
    #[test]
    fn files_synced_while_written_are_whole() {
        let dir = tempfile::tempdir().unwrap();
        let rules = compile(Origin::Builtin, "").unwrap();
        let layout = Layout::new(vec!["Email".into()], &rules, false, false);
        let opts = OutputOptions::default();
        let mut files = StageFiles::create(dir.path(), &layout, &opts).unwrap();
        files.sync_every = 100;
        let mut expected = vec![Vec::new(); 6];
        for n in 0..500 {
            let row = format!("person{n}@acme.io\n");
            files.write_pieces(n % 2, &[row.as_bytes()]).unwrap();
            expected[n % 2].extend_from_slice(row.as_bytes());
        }
        assert!(files.syncer.is_some(), "no background sync was asked for");
        files.commit().unwrap();
        for (i, name) in output_names(Format::Csv).iter().enumerate().take(2) {
            let text = fs::read(dir.path().join(name)).unwrap();
            assert!(text.ends_with(&expected[i]), "{name} lost rows");
            assert_eq!(
                text.len() - expected[i].len(),
                header_bytes(&layout, i, &opts).len()
            );
        }
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }
}

#[cfg(test)]
mod write_fields_tests {
    use super::*;

    /// A record written in one go is written as field by field would.
    #[test]
    fn whole_records_write_as_their_fields_do() {
        let values = [
            "",
            "a",
            "Acme, Inc.",
            "say \"hi\"",
            "=1+2",
            "  -3",
            "-3",
            "+49 30 1",
            "@x",
            "two\nlines",
            "cr\r",
            "José",
            "1;2",
            "\tx",
            "x ",
            "'y",
            "sixteen bytes ok",
            "seventeen bytes!!",
            "a value well past the sixteen bytes copied in one move",
        ];
        let mut seed = 7u64;
        for delimiter in [b',', b';', b'\t'] {
            for sanitize_cells in [false, true] {
                for n in 0..1200 {
                    // Records held three ways: values back to back; apart,
                    // with bytes between them (a line's delimiters and
                    // quotes); and apart with some values after the rest
                    // (unescaped after their line).
                    let (apart, moved) = (n % 3 > 0, n % 3 == 2);
                    let gaps: [&[u8]; 4] = [b",", b"\",\"", b";", b"\t\""];
                    let mut bytes = Vec::new();
                    let mut values_in_order = Vec::new();
                    let mut spans: Vec<u32> = Vec::new();
                    let mut later = Vec::new();
                    for k in 0..(n / 3 % 7) {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                        let v = values[(seed >> 33) as usize % values.len()].as_bytes();
                        values_in_order.push(v);
                        if moved && (seed >> 20).is_multiple_of(3) {
                            later.push((k, v));
                            spans.extend([0, 0]);
                        } else {
                            spans.push(bytes.len() as u32);
                            bytes.extend_from_slice(v);
                            spans.push(bytes.len() as u32);
                        }
                        if apart {
                            bytes.extend_from_slice(gaps[(seed >> 40) as usize % gaps.len()]);
                        }
                    }
                    for (k, v) in later {
                        spans[2 * k] = bytes.len() as u32;
                        bytes.extend_from_slice(v);
                        spans[2 * k + 1] = bytes.len() as u32;
                    }
                    // Every other record with spare bytes after it, as a
                    // record's buffer has: they must not show.
                    let mut data = bytes.clone();
                    if n % 2 == 0 {
                        data.extend_from_slice(b"<spare bytes, \"never\" written>");
                    }
                    let mut one = RowWriter::new(delimiter);
                    one.write_field("first");
                    one.write_fields(&data, &spans, sanitize_cells);
                    one.end_record();
                    let mut each = RowWriter::new(delimiter);
                    each.write_field("first");
                    for v in values_in_order {
                        if sanitize_cells {
                            each.write_field(sanitize(v));
                        } else {
                            each.write_field(v);
                        }
                    }
                    each.end_record();
                    assert_eq!(
                        String::from_utf8_lossy(&one.take()),
                        String::from_utf8_lossy(&each.take()),
                        "{spans:?} {:?}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn names_follow_the_format() {
        assert_eq!(output_names(Format::Csv)[0], "leads.csv");
        assert_eq!(output_names(Format::Tsv)[5], "duplicates.tsv");
        assert_eq!(output_names(Format::Jsonl)[2], "opportunities.jsonl");
    }

    #[test]
    fn csv_rows_become_json_objects() {
        let head = JsonHeader {
            keys: vec!["Email".into(), "Notes".into(), "leadsift_fit".into()],
            numeric: vec![false, false, true],
        };
        let rows = b"a@x.io,\"one, \"\"two\"\"\nthree\",40\nb@y.io,,\n";
        let out = String::from_utf8(csv_to_jsonl(rows, &head)).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"Email":"a@x.io","Notes":"one, \"two\"\nthree","leadsift_fit":40}"#
        );
        assert_eq!(
            lines[1],
            r#"{"Email":"b@y.io","Notes":"","leadsift_fit":null}"#
        );
    }

    #[test]
    fn words_and_numbers_are_written_as_any_field_would_be() {
        for delimiter in [b',', b'\t', b';', b'-', b'1', b'e'] {
            let mut fast = RowWriter::new(delimiter);
            let mut any = RowWriter::new(delimiter);
            for word in ["lead", "opportunity", "B-N-", "----", "-15", "0", "120"] {
                fast.write_word(word.as_bytes());
                any.write_field(word);
            }
            fast.write_int(-40i64);
            any.write_field("-40");
            fast.end_record();
            any.end_record();
            assert_eq!(fast.take(), any.take(), "delimiter {:?}", delimiter as char);
        }
    }

    #[test]
    fn row_writer_quotes_exactly_as_the_csv_crate_does() {
        // Every special byte at every position of fields up to 39 bytes
        // long and a few longer: each scan must find each one.
        let mut fields: Vec<Vec<u8>> = vec![Vec::new(), b"plain".to_vec()];
        for len in (1..40).chain([64, 100]) {
            for pos in 0..len {
                for special in [b',', b'"', b'\n', b'\r', b';', 0x80, 0xff] {
                    let mut f = vec![b'a'; len];
                    f[pos] = special;
                    fields.push(f);
                }
            }
        }
        for delimiter in [b',', b';', b'\t'] {
            let mut ours = RowWriter::new(delimiter);
            let mut theirs = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            for f in &fields {
                ours.write_field(f);
                ours.end_record();
                theirs.write_record([f]).unwrap();
            }
            assert_eq!(ours.into_inner(), theirs.into_inner().unwrap());
        }
    }
}
