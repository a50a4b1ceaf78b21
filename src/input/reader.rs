//! The CSV record reader: csv-core's parser under a buffer that leadsift
//! controls, so that no record, however broken, costs more than itself.
//!
//! What it adds to a plain CSV parser:
//! - the physical line where each record starts (LF, CRLF and lone CR all
//!   end a line), and a count of the blank lines skipped;
//! - limits: a field over `max_field` bytes is rejected; a record still
//!   open after `max_quoted_lines` lines or `max_record` bytes is a quote
//!   that never closed. Its first line is rejected as `unterminated-quote`
//!   and reading resumes on the next line, so one stray `"` costs one row
//!   instead of swallowing the rest of the file (what csv-core alone does);
//! - the same recovery for a record that spans lines but does not have the
//!   header's number of fields, or that is still inside quotes when the
//!   file ends: both are the mark of a stray quote;
//! - a line longer than `max_record` with no line end is rejected as
//!   `record-too-large` and skipped without being held in memory.
//!
//! The buffer always holds the current record from its first byte, so a
//! record can be re-read from its second line. Memory is bounded by
//! `max_record` plus one read.

use std::io::{self, Read};

use csv_core::{ReadRecordResult, ReaderBuilder};

use super::record::{span_at, RecordSource, RejectKind, RAW_LIMIT, SPACER};
use super::Record;
use crate::output::MAYBE_RISKY;

/// Size limits of one record; see the module doc.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_field: usize,
    pub max_record: usize,
    pub max_quoted_lines: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_field: 256 * 1024,
            max_record: 1024 * 1024,
            max_quoted_lines: 1000,
        }
    }
}

const READ_SIZE: usize = 256 * 1024;

pub struct CsvReader<R> {
    inner: R,
    core: csv_core::Reader,
    /// The ends of the values csv-core writes back to back.
    core_ends: Vec<usize>,
    buf: Vec<u8>,
    /// First byte of the current record in `buf`.
    start: usize,
    /// Next byte to parse.
    pos: usize,
    /// End of the bytes read.
    end: usize,
    eof: bool,
    /// Bytes dropped from the front of `buf` so far.
    base: u64,
    /// Line number at `pos`.
    line: u64,
    /// Line where the current record starts.
    record_line: u64,
    /// Whether the byte before `pos` was a carriage return.
    prev_cr: bool,
    blank: u64,
    limits: Limits,
    width: Option<usize>,
    delimiter: u8,
    /// Whether simple one-line records are split without csv-core (see
    /// [`CsvReader::simple_line`]); off only to test that it changes
    /// nothing.
    fast: bool,
}

impl<R: Read> CsvReader<R> {
    pub fn new(inner: R, delimiter: u8, limits: Limits) -> Self {
        CsvReader {
            inner,
            core: ReaderBuilder::new().delimiter(delimiter).build(),
            core_ends: Vec::new(),
            buf: vec![0; READ_SIZE * 2],
            start: 0,
            pos: 0,
            end: 0,
            eof: false,
            base: 0,
            line: 1,
            record_line: 1,
            prev_cr: false,
            blank: 0,
            limits,
            width: None,
            delimiter,
            fast: true,
        }
    }

    /// Reads more input, keeping the current record; `false` at the end.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.pos -= self.start;
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_SIZE {
            self.buf.resize(self.end + READ_SIZE, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Moves `pos` over `n` bytes, counting the line ends among them.
    fn advance(&mut self, n: usize) {
        let s = &self.buf[self.pos..self.pos + n];
        if let Some(&last) = s.last() {
            let mut lines = memchr::memchr_iter(b'\n', s).count() as u64;
            for i in memchr::memchr_iter(b'\r', s) {
                if s.get(i + 1) != Some(&b'\n') {
                    lines += 1;
                }
            }
            if self.prev_cr && s[0] == b'\n' {
                lines -= 1;
            }
            self.line += lines;
            self.prev_cr = last == b'\r';
        }
        self.pos += n;
    }

    /// Skips the line ends before a record, counting blank lines; `false`
    /// at the end of the input.
    fn skip_blank_lines(&mut self) -> io::Result<bool> {
        loop {
            while self.pos < self.end && matches!(self.buf[self.pos], b'\r' | b'\n') {
                let before = self.line;
                self.advance(1);
                self.blank += self.line - before;
            }
            self.start = self.pos;
            if self.pos < self.end {
                return Ok(true);
            }
            if !self.fill()? {
                return Ok(false);
            }
        }
    }

    fn read_one(&mut self, rec: &mut Record) -> io::Result<bool> {
        rec.clear();
        if !self.skip_blank_lines()? {
            return Ok(false);
        }
        rec.line = self.line;
        self.record_line = self.line;
        // Small to start: a batch holds thousands of records, and each
        // grows only as far as the largest record it has held.
        if rec.data.len() < 256 {
            rec.data.resize(256, 0);
        }
        if rec.bounds.len() < 64 {
            rec.bounds.resize(64, 0);
        }
        if self.fast {
            if let Some(n) = self.simple_line(rec) {
                // One line (not empty: blank lines were skipped) and its
                // first line-end byte: one line to count, none inside to
                // recover from.
                self.prev_cr = self.buf[self.pos + n - 1] == b'\r';
                self.line += 1;
                self.pos += n;
                return Ok(self.check_sizes(rec));
            }
        }
        // csv-core writes the values back to back, with their ends.
        let ends = &mut self.core_ends;
        if ends.len() < 32 {
            ends.resize(32, 0);
        }
        let (mut nout, mut nends) = (0, 0);
        loop {
            let (res, nin, o, e) = self.core.read_record(
                &self.buf[self.pos..self.end],
                &mut rec.data[nout..],
                &mut self.core_ends[nends..],
            );
            self.advance(nin);
            nout += o;
            nends += e;
            match res {
                ReadRecordResult::InputEmpty => {
                    if self.over_limits() {
                        return self.too_long(rec);
                    }
                    self.fill()?;
                }
                ReadRecordResult::OutputFull => {
                    let n = rec.data.len() * 2;
                    rec.data.resize(n, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = self.core_ends.len() * 2;
                    self.core_ends.resize(n, 0);
                }
                ReadRecordResult::Record => {
                    apart(rec, nout, &self.core_ends[..nends]);
                    return Ok(self.finish(rec));
                }
                ReadRecordResult::End => return Ok(false),
            }
        }
    }

    /// Reads the record at `pos` when it is one whole line in the buffer
    /// whose quotes, if any, each open a field and close right before a
    /// delimiter or the line's end (`""` inside standing for `"`), into
    /// `rec`, with the fields csv-core would give; returns the bytes it
    /// takes (the line and its first line-end byte). `None` for anything
    /// else (a quote that closes elsewhere, a line that ends beyond the
    /// buffer or not at all), which csv-core reads. The line is copied
    /// into the record once, and each field is its span there (a value
    /// with doubled quotes is unescaped after the line): about a fifth of
    /// csv-core's instructions on the reference rows, since the ends of
    /// fields are found a word at a time (memchr past 32 bytes) instead
    /// of by a state machine taking byte after byte, and no value is
    /// copied on its own.
    fn simple_line(&self, rec: &mut Record) -> Option<usize> {
        let rest = &self.buf[self.pos..self.end];
        let eol = memchr::memchr2(b'\n', b'\r', rest)?;
        let line = &rest[..eol];
        // (16 spare bytes: a short field is written as a 16-byte move.)
        if rec.data.len() < line.len() + 16 {
            rec.data.resize(line.len() + 16, 0);
        }
        rec.data[..line.len()].copy_from_slice(line);
        let d = self.delimiter;
        // Unescaped values go after the line.
        let (mut out, mut nf, mut i) = (line.len(), 0, 0);
        // Whether the line is its fields written back (see
        // `Record::verbatim`): every quoted value holds the delimiter or a
        // quote, and no unquoted one holds a quote (none holds a line
        // break or the delimiter: they end the line or the field). A value
        // unescaped after the line is not a span of it: when it may need
        // a `'`, whose place is in the line, the line is not kept.
        let mut verbatim = true;
        let quote_from =
            |at: usize| memchr::memchr(b'"', &line[at..]).map_or(usize::MAX, |q| at + q);
        // Where the delimiters are, for the unquoted values' ends: one bit
        // a byte, found 16 bytes at a time, so that each value's end is
        // the next bit set rather than a search of its own.
        let delims = Delimiters::of(line, d);
        let mut next_quote = quote_from(0);
        let mut risky = 0u64;
        let mut room = rec.bounds.len() / 2;
        loop {
            if nf == room {
                room = (nf * 2).max(32);
                rec.bounds.resize(2 * room, 0);
            }
            if line.get(i) == Some(&b'"') {
                i += 1;
                let value_start = i;
                let q = memchr::memchr(b'"', &line[i..])?;
                i += q + 1;
                let (start, end) = if line.get(i) != Some(&b'"') {
                    (value_start, value_start + q)
                } else {
                    // Doubled quotes: the value unescaped after the line.
                    let from = out;
                    let mut seg = value_start;
                    loop {
                        // `line[seg..i]` ends with the first of two quotes.
                        append(&mut rec.data, &mut out, &line[seg..i]);
                        seg = i + 1;
                        let q = memchr::memchr(b'"', &line[seg..])?;
                        i = seg + q + 1;
                        if line.get(i) != Some(&b'"') {
                            break;
                        }
                    }
                    append(&mut rec.data, &mut out, &line[seg..i - 1]);
                    verbatim = verbatim && !MAYBE_RISKY[line[value_start] as usize];
                    (from, out)
                };
                let doubled = start != value_start;
                verbatim = verbatim
                    && nf < 64
                    && (doubled || memchr::memchr(d, &line[value_start..i - 1]).is_some());
                // The first byte of the value (a quote when it is empty or
                // starts with a doubled one: not risky).
                risky |= u64::from(MAYBE_RISKY[line[value_start] as usize]).wrapping_shl(nf as u32);
                rec.bounds[2 * nf] = span_at(start);
                rec.bounds[2 * nf + 1] = span_at(end);
                nf += 1;
                match line.get(i) {
                    None => break,
                    Some(&b) if b == d => i += 1,
                    Some(_) => return None,
                }
                if verbatim {
                    next_quote = quote_from(i);
                }
            } else {
                let n = match &delims {
                    Some(m) => m.next(i, line.len()),
                    None => find_byte(line, i, d),
                } - i;
                rec.bounds[2 * nf] = span_at(i);
                rec.bounds[2 * nf + 1] = span_at(i + n);
                verbatim = verbatim && next_quote >= i + n && nf < 64;
                // (`rest[i]` is the delimiter or the line end when the
                // value is empty: not risky. Past 63 fields the line is
                // not kept, and the bits do not matter.)
                risky |= u64::from(MAYBE_RISKY[rest[i] as usize]).wrapping_shl(nf as u32);
                nf += 1;
                if i + n == line.len() {
                    break;
                }
                i += n + 1;
            }
        }
        rec.data_len = out;
        rec.fields = nf;
        if verbatim {
            rec.verbatim = Some(d);
            rec.line_len = line.len();
            rec.maybe_risky = risky;
        }
        Some(eol + 1)
    }

    fn over_limits(&self) -> bool {
        self.pos - self.start > self.limits.max_record
            || self.line - self.record_line > self.limits.max_quoted_lines
    }

    /// Checks a complete record; recovers from a stray quote.
    fn finish(&mut self, rec: &mut Record) -> bool {
        if self.has_line_end_inside() {
            let open_quote_at_end = self.eof
                && self.pos == self.end
                && memchr::memchr_iter(b'"', &self.buf[self.start..self.pos]).count() % 2 == 1;
            let wrong_width = self.width.is_some_and(|w| w != rec.fields);
            let bytes = trim_line_end(&self.buf[self.start..self.pos]);
            if open_quote_at_end
                || !quotes_well_formed(bytes, self.delimiter)
                || (wrong_width && self.a_later_line_is_a_row())
            {
                self.resume_after_first_line(rec);
                return true;
            }
        }
        self.check_sizes(rec)
    }

    /// Rejects a record over `max_record` bytes or with a field over
    /// `max_field`.
    fn check_sizes(&mut self, rec: &mut Record) -> bool {
        if self.pos - self.start > self.limits.max_record {
            let raw = self.buf[self.start..self.pos.min(self.start + RAW_LIMIT)].to_vec();
            let msg = format!(
                "the record is larger than the limit of {} bytes (--max-record-bytes)",
                self.limits.max_record
            );
            rec.set_problem(RejectKind::RecordTooLarge, msg, trim_line_end(&raw));
            return true;
        }
        // No field is longer than the record's text.
        if self.pos - self.start <= self.limits.max_field {
            return true;
        }
        if let Some(i) =
            (0..rec.fields).find(|&i| rec.get(i).is_some_and(|f| f.len() > self.limits.max_field))
        {
            let raw = self.buf[self.start..self.pos].to_vec();
            let msg = format!(
                "field {} is larger than the limit of {} bytes (--max-field-bytes)",
                i + 1,
                self.limits.max_field
            );
            rec.set_problem(RejectKind::FieldTooLarge, msg, trim_line_end(&raw));
        }
        true
    }

    /// Whether a line after the first of the current record has, split
    /// naively at the delimiter, exactly the header's number of fields: the
    /// mark of rows swallowed by a stray quote, rather than a record with a
    /// multi-line note and a field too many or too few.
    fn a_later_line_is_a_row(&self) -> bool {
        let Some(width) = self.width else {
            return false;
        };
        let s = trim_line_end(&self.buf[self.start..self.pos]);
        s.split(|&b| b == b'\n' || b == b'\r')
            .skip(1)
            .filter(|line| !line.is_empty())
            .any(|line| memchr::memchr_iter(self.delimiter, line).count() + 1 == width)
    }

    /// Whether a line end lies inside the record (not just at its end).
    fn has_line_end_inside(&self) -> bool {
        let s = trim_line_end(&self.buf[self.start..self.pos]);
        memchr::memchr2(b'\n', b'\r', s).is_some()
    }

    /// Rejects the record's first line as an unterminated quote and moves
    /// back to the start of its second line.
    fn resume_after_first_line(&mut self, rec: &mut Record) {
        let s = &self.buf[self.start..self.pos];
        let Some(cut) = memchr::memchr2(b'\n', b'\r', s) else {
            return;
        };
        let next = if s[cut] == b'\r' && s.get(cut + 1) == Some(&b'\n') {
            cut + 2
        } else {
            cut + 1
        };
        let first_line = s[..cut].to_vec();
        let msg = "a quoted field opened on this line does not close where the row ends; the next line is read as a new row".to_string();
        rec.set_problem(RejectKind::UnterminatedQuote, msg, &first_line);
        self.core.reset();
        self.pos = self.start + next;
        self.line = rec.line + 1;
        self.prev_cr = false;
        self.start = self.pos;
    }

    /// A record over the limits: a quote left open (the record spans lines)
    /// or one endless line.
    fn too_long(&mut self, rec: &mut Record) -> io::Result<bool> {
        if memchr::memchr2(b'\n', b'\r', &self.buf[self.start..self.pos]).is_some() {
            self.resume_after_first_line(rec);
            return Ok(true);
        }
        let raw = self.buf[self.start..self.start + RAW_LIMIT.min(self.pos - self.start)].to_vec();
        let msg = format!(
            "the line is longer than the limit of {} bytes (--max-record-bytes); it was skipped to its end",
            self.limits.max_record
        );
        rec.set_problem(RejectKind::RecordTooLarge, msg, &raw);
        self.core.reset();
        loop {
            let rest = &self.buf[self.pos..self.end];
            if let Some(i) = memchr::memchr2(b'\n', b'\r', rest) {
                self.advance(i + 1);
                break;
            }
            let n = rest.len();
            self.pos += n;
            self.start = self.pos;
            if !self.fill()? {
                break;
            }
        }
        self.start = self.pos;
        Ok(true)
    }
}

/// Puts `bytes` at `data[*at..]` (growing `data` if need be) and moves
/// `at` past them.
fn append(data: &mut Vec<u8>, at: &mut usize, bytes: &[u8]) {
    let end = *at + bytes.len();
    if data.len() < end {
        data.resize(end.max(data.len() * 2), 0);
    }
    data[*at..end].copy_from_slice(bytes);
    *at = end;
}

/// Takes the `ends.len()` values that csv-core wrote back to back into
/// `rec.data[..len]` (value `k` ending at `ends[k]`) apart, one byte
/// between each two, and sets the record's spans: a character whose bytes
/// two values share is then not valid UTF-8 in the bytes checked (as in a
/// line read as it is, see `Record`).
fn apart(rec: &mut Record, len: usize, ends: &[usize]) {
    let n = ends.len();
    if rec.data.len() < len + n {
        rec.data.resize(len + n, 0);
    }
    if rec.bounds.len() < 2 * n {
        rec.bounds.resize(2 * n, 0);
    }
    // From the last value, each moved right by its place.
    for k in (0..n).rev() {
        let start = if k == 0 { 0 } else { ends[k - 1] };
        let end = ends[k];
        rec.data.copy_within(start..end, start + k);
        if k > 0 {
            rec.data[start + k - 1] = SPACER;
        }
        rec.bounds[2 * k] = span_at(start + k);
        rec.bounds[2 * k + 1] = span_at(end + k);
    }
    rec.data_len = len + n.saturating_sub(1);
    rec.fields = n;
}

/// The longest line whose delimiters [`Delimiters`] marks (a longer one
/// is searched value by value with [`find_byte`]).
const MARKED: usize = 512;

/// Bit `i % 64` of word `i / 64` set: byte `i` of a line is the
/// delimiter; no bit past the line's end.
struct Delimiters([u64; MARKED / 64]);

impl Delimiters {
    /// The delimiters of `line`; `None` past [`MARKED`] bytes.
    #[inline]
    fn of(line: &[u8], d: u8) -> Option<Delimiters> {
        if line.len() > MARKED {
            return None;
        }
        let mut words = [0u64; MARKED / 64];
        let (blocks, tail) = line.as_chunks::<16>();
        for (k, b) in blocks.iter().enumerate() {
            words[k / 4] |= u64::from(mask16(b, d)) << (16 * (k % 4));
        }
        if !tail.is_empty() {
            // Padded with a byte that is not the delimiter.
            let mut last = [!d; 16];
            last[..tail.len()].copy_from_slice(tail);
            let k = blocks.len();
            words[k / 4] |= u64::from(mask16(&last, d)) << (16 * (k % 4));
        }
        Some(Delimiters(words))
    }

    /// The first delimiter at or after `from`, or `len` (the line's
    /// length) when there is none.
    #[inline]
    fn next(&self, from: usize, len: usize) -> usize {
        let mut k = from / 64;
        let mut w = self.0.get(k).map_or(0, |w| w & (!0u64 << (from % 64)));
        loop {
            if w != 0 {
                return k * 64 + w.trailing_zeros() as usize;
            }
            k += 1;
            match self.0.get(k) {
                Some(&next) if k * 64 < len => w = next,
                _ => return len,
            }
        }
    }
}

/// Bit `i` set: `b[i] == d`. SSE2 (every x86-64 has it) through
/// `safe_arch`; elsewhere eight bytes at a time.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn mask16(b: &[u8; 16], d: u8) -> u16 {
    use safe_arch::{cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i};
    let eq = cmp_eq_mask_i8_m128i(
        load_unaligned_m128i(b),
        safe_arch::set_splat_i8_m128i(d as i8),
    );
    move_mask_i8_m128i(eq) as u16
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
fn mask16(b: &[u8; 16], d: u8) -> u16 {
    mask16_words(b, d)
}

/// [`mask16`] a word at a time: a byte of `w ^ repeated(d)` is zero
/// exactly where `(x & 0x7f) + 0x7f` and `x` both leave its top bit
/// clear; the top bits are then gathered into one byte by a multiply.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn mask16_words(b: &[u8; 16], d: u8) -> u16 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOWS: u64 = ONES * 0x7f;
    let one = |w: u64| {
        let x = w ^ (ONES * u64::from(d));
        let zero = !(((x & LOWS) + LOWS) | x | LOWS);
        ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u16
    };
    let (lo, hi) = b.split_at(8);
    let word = |h: &[u8]| u64::from_le_bytes(h.try_into().unwrap_or_default());
    one(word(lo)) | one(word(hi)) << 8
}

/// The position of the first `b` in `hay` from `from` on, or `hay.len()`:
/// the first 32 bytes a word at a time (a zero byte of `word ^
/// repeated(b)`; the lowest one found is exact), the rest with memchr.
#[inline]
fn find_byte(hay: &[u8], from: usize, b: u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(b);
    let mut i = from;
    for _ in 0..4 {
        let Some(word) = hay.get(i..).and_then(|r| r.first_chunk::<8>()) else {
            let tail = hay.get(i..).unwrap_or_default();
            return tail
                .iter()
                .position(|&c| c == b)
                .map_or(hay.len(), |k| i + k);
        };
        let x = u64::from_le_bytes(*word) ^ pattern;
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let tail = hay.get(i..).unwrap_or_default();
    memchr::memchr(b, tail).map_or(hay.len(), |k| i + k)
}

/// Whether every quoted field of a record closes right before a delimiter
/// or the end of the record. csv-core reads `"a" b` as `a b`; leadsift
/// takes such a closing quote, in a record that spans lines, as the
/// opening quote of a later field that a stray quote paired with.
fn quotes_well_formed(record: &[u8], delimiter: u8) -> bool {
    let mut i = 0;
    while i < record.len() {
        if record[i] == b'"' {
            // A quoted field: find its closing quote.
            i += 1;
            loop {
                match memchr::memchr(b'"', &record[i..]) {
                    None => return false,
                    Some(q) if record.get(i + q + 1) == Some(&b'"') => i += q + 2,
                    Some(q) => {
                        i += q + 1;
                        break;
                    }
                }
            }
            match record.get(i) {
                None => return true,
                Some(&b) if b == delimiter => i += 1,
                Some(_) => return false,
            }
        } else {
            // An unquoted field: quotes inside it are literal.
            match memchr::memchr(delimiter, &record[i..]) {
                Some(d) => i += d + 1,
                None => return true,
            }
        }
    }
    true
}

fn trim_line_end(s: &[u8]) -> &[u8] {
    let mut e = s.len();
    while e > 0 && matches!(s[e - 1], b'\r' | b'\n') {
        e -= 1;
    }
    &s[..e]
}

impl<R: Read + Send> RecordSource for CsvReader<R> {
    fn next_record(&mut self, rec: &mut Record) -> io::Result<bool> {
        loop {
            if !self.read_one(rec)? {
                return Ok(false);
            }
            if !rec.is_blank() {
                return Ok(true);
            }
            // A line of spaces only, or of empty fields only (`,,,,`, as
            // spreadsheets write an empty row), is a blank line too.
            self.blank += 1;
        }
    }

    fn position(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn blank_lines(&self) -> u64 {
        self.blank
    }

    fn set_width(&mut self, width: usize) {
        self.width = Some(width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, fields or `!kind`) of every record.
    fn read(text: &[u8], width: Option<usize>, limits: Limits) -> (Vec<(u64, String)>, u64) {
        let mut r = CsvReader::new(text, b',', limits);
        if let Some(w) = width {
            r.set_width(w);
        }
        let mut out = Vec::new();
        let mut rec = Record::default();
        while r.next_record(&mut rec).unwrap() {
            let shown = match rec.problem {
                Some(k) => format!("!{} {}", k.name(), String::from_utf8_lossy(&rec.raw)),
                None => rec
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect::<Vec<_>>()
                    .join("|"),
            };
            out.push((rec.line, shown));
        }
        (out, r.blank_lines())
    }

    fn lines(text: &str, width: Option<usize>) -> Vec<(u64, String)> {
        read(text.as_bytes(), width, Limits::default()).0
    }

    fn rows(v: &[(u64, &str)]) -> Vec<(u64, String)> {
        v.iter().map(|(l, s)| (*l, s.to_string())).collect()
    }

    #[test]
    fn line_numbers_for_every_line_ending() {
        let want = rows(&[(1, "a|b"), (2, "c|d"), (3, "e|f")]);
        assert_eq!(lines("a,b\nc,d\ne,f\n", None), want);
        assert_eq!(lines("a,b\r\nc,d\r\ne,f", None), want);
        assert_eq!(lines("a,b\rc,d\re,f\r", None), want);
    }

    #[test]
    fn blank_lines_are_skipped_and_counted() {
        let (got, blank) = read(b"a,b\n\n\r\nc,d\n   \n,\ne,f\n\n", None, Limits::default());
        assert_eq!(got, rows(&[(1, "a|b"), (4, "c|d"), (7, "e|f")]));
        assert_eq!(blank, 5);
    }

    #[test]
    fn quoted_fields_span_lines_and_keep_line_numbers() {
        let got = lines("h1,h2\n\"multi\nline\",x\ny,z\n", Some(2));
        assert_eq!(got, rows(&[(1, "h1|h2"), (2, "multi\nline|x"), (4, "y|z")]));
    }

    #[test]
    fn a_stray_quote_costs_one_row() {
        let text = "a,b,c\n1,\"oops,3\n4,5,6\n7,8,9\n";
        let got = lines(text, Some(3));
        assert_eq!(
            got,
            rows(&[
                (1, "a|b|c"),
                (2, "!unterminated-quote 1,\"oops,3"),
                (3, "4|5|6"),
                (4, "7|8|9"),
            ])
        );
    }

    #[test]
    fn a_multi_line_note_in_a_row_with_a_field_too_many_stays_one_row() {
        let got = lines(
            "a,b,c,d\n1,2,3,\"line one\nline two\",extra\n4,5,6,7\n",
            Some(4),
        );
        assert_eq!(
            got,
            rows(&[
                (1, "a|b|c|d"),
                (2, "1|2|3|line one\nline two|extra"),
                (4, "4|5|6|7")
            ])
        );
    }

    #[test]
    fn a_stray_quote_paired_with_a_later_note_costs_one_row() {
        let text = "e,n\nbo,\"wants a 27 inch screen\ncy,ok\ndi,\"multi\nline note\"\ned,last\n";
        assert_eq!(
            lines(text, Some(2)),
            rows(&[
                (1, "e|n"),
                (2, "!unterminated-quote bo,\"wants a 27 inch screen"),
                (3, "cy|ok"),
                (4, "di|multi\nline note"),
                (6, "ed|last"),
            ])
        );
    }

    #[test]
    fn quoting_is_well_formed_when_quotes_close_before_a_delimiter() {
        assert!(quotes_well_formed(b"a,\"b\nc\",d", b','));
        assert!(quotes_well_formed(b"a,\"say \"\"hi\"\"\",d", b','));
        assert!(quotes_well_formed(b"a,27\" screen,d", b','));
        assert!(!quotes_well_formed(b"a,\"x\ny,\"z", b','));
        assert!(!quotes_well_formed(b"a,\"open", b','));
    }

    #[test]
    fn a_quote_open_at_the_end_of_the_file_costs_one_row() {
        let got = lines("a,b\n1,\"x\n2,y\n", Some(2));
        assert_eq!(
            got,
            rows(&[(1, "a|b"), (2, "!unterminated-quote 1,\"x"), (3, "2|y")])
        );
    }

    #[test]
    fn a_quote_open_past_the_line_limit_costs_one_row() {
        let mut text = String::from("a,b\n1,\"open\n");
        for i in 0..50 {
            text.push_str(&format!("{i},v\n"));
        }
        let limits = Limits {
            max_quoted_lines: 10,
            ..Limits::default()
        };
        let (got, _) = read(text.as_bytes(), None, limits);
        assert_eq!(got.len(), 52);
        assert_eq!(got[1], (2, "!unterminated-quote 1,\"open".to_string()));
        assert_eq!(got[2], (3, "0|v".to_string()));
        assert_eq!(got[51], (52, "49|v".to_string()));
    }

    #[test]
    fn oversized_fields_and_lines_are_rejected_in_bounded_memory() {
        let limits = Limits {
            max_field: 10,
            max_record: 100,
            max_quoted_lines: 1000,
        };
        let long = "x".repeat(20);
        let huge = "y".repeat(100_000);
        let text = format!("a,b\n{long},1\n{huge},2\nok,3\n");
        let (got, _) = read(text.as_bytes(), Some(2), limits);
        assert_eq!(got[1].1, format!("!field-too-large {long},1"));
        assert!(
            got[2].1.starts_with("!record-too-large yyy"),
            "{}",
            got[2].1
        );
        assert_eq!(got[2].0, 3);
        assert_eq!(got[3], (4, "ok|3".to_string()));
    }

    /// Hands out its bytes a few at a time, so that records cross reads.
    struct Trickle<'a>(&'a [u8], usize);

    impl io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Every record as read: line, fields or problem, message and raw.
    fn everything(text: &[u8], fast: bool, step: usize, limits: Limits) -> (Vec<String>, u64) {
        let mut r = CsvReader::new(Trickle(text, step), b',', limits);
        r.fast = fast;
        r.set_width(3);
        let mut out = Vec::new();
        let mut rec = Record::default();
        while r.next_record(&mut rec).unwrap() {
            out.push(format!(
                "{} {:?} {:?} {:?} {:?}",
                rec.line,
                rec.iter().collect::<Vec<_>>(),
                rec.problem,
                rec.message,
                rec.raw
            ));
        }
        (out, r.blank_lines())
    }

    /// A record written back field by field, and as its line when the
    /// reader kept it (`None` when it did not), sanitised or not.
    fn written_back(rec: &Record, sanitize: bool) -> (Vec<u8>, Option<Vec<u8>>) {
        use crate::output::{RowWriter, Verbatim};
        // Cell by cell, the reference; the record's spans in one call must
        // give the same.
        let mut each = RowWriter::new(b',');
        for f in rec.iter() {
            each.write_cell(f, sanitize);
        }
        each.end_record();
        let mut fields = RowWriter::new(b',');
        fields.write_fields(&rec.data, rec.spans(), sanitize);
        fields.end_record();
        let each = each.take();
        assert_eq!(each, fields.take(), "{:?}", String::from_utf8_lossy(&each));
        let line = rec.verbatim.map(|d| {
            assert_eq!(d, b',');
            let mut w = RowWriter::new(b',');
            let v = Verbatim {
                data: &rec.data,
                line_len: rec.line_len,
                spans: rec.spans(),
                maybe_risky: rec.maybe_risky,
            };
            w.write_verbatim(v, sanitize);
            w.end_record();
            w.take()
        });
        (each, line)
    }

    #[test]
    fn a_line_kept_to_copy_is_what_writing_its_fields_gives() {
        // Random lines over the bytes that decide quoting and sanitising:
        // a line the reader keeps (`Record::verbatim`) must write back as
        // its fields would, sanitised or not, byte for byte.
        let alphabet = b"ab ,,\"\"=+-@1.\t\xc3\xa9";
        let mut rng = crate::testing::Rng::new(0x9e37_79b9_7f4a_7c15);
        let mut next = || rng.next();
        let (mut kept, mut risky_kept) = (0, 0);
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .chain([b'\n'])
                .collect();
            let mut r = CsvReader::new(&text[..], b',', Limits::default());
            let mut rec = Record::default();
            while r.next_record(&mut rec).unwrap() {
                for sanitize in [false, true] {
                    let (fields, line) = written_back(&rec, sanitize);
                    if let Some(line) = line {
                        assert_eq!(line, fields, "{:?}", String::from_utf8_lossy(&text));
                        kept += 1;
                        risky_kept += usize::from(sanitize && rec.maybe_risky != 0);
                    }
                }
            }
        }
        assert!(kept > 5_000 && risky_kept > 1_000, "{kept} {risky_kept}");
        // Which lines are kept: quotes only where a value needs them.
        for (line, keep) in [
            ("a,b,c\n", true),
            ("a,\"b,c\",\"say \"\"hi\"\"\"\n", true),
            ("+49 30 1,=SUM(A1),\" -1,2\"\n", true),
            ("\"a\",b\n", false),
            ("a,\"\",b\n", false),
            // A value with doubled quotes is unescaped after the line: one
            // that may need a `'` (whose place is in the line) is not kept.
            ("a,\"=\"\"x\"\"\"\n", false),
            ("a,\"x \"\"=\"\"\"\n", true),
            ("a\"b,c\n", false),
            ("\"multi\nline\",b\n", false),
        ] {
            let mut r = CsvReader::new(line.as_bytes(), b',', Limits::default());
            let mut rec = Record::default();
            assert!(r.next_record(&mut rec).unwrap());
            assert_eq!(rec.verbatim.is_some(), keep, "{line:?}");
            let (fields, copy) = written_back(&rec, true);
            if let Some(copy) = copy {
                assert_eq!(copy, fields, "{line:?}");
            }
        }
    }

    #[test]
    fn simple_lines_read_as_csv_core_reads_them() {
        // Random text over the bytes that matter to CSV, read with and
        // without the one-line fast path, in reads of several sizes.
        let short_fields = b"ab ,,,\"\"\"\r\n\n\xc3\xa9x";
        // Fields of 8 to 40 bytes and more, around the word scan's limits.
        let long_fields = b"abcdefghijklmnopqrstuvwxyz0123456789 ,\"\n\xc3\xa9";
        let mut rng = crate::testing::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut next = || rng.next();
        let limits = Limits {
            max_field: 12,
            max_record: 40,
            max_quoted_lines: 3,
        };
        let mut fast_records = 0;
        for case in 0..6000 {
            let alphabet: &[u8] = if case % 3 == 2 {
                // Lines past the 512 bytes whose delimiters are marked in
                // one pass: few line ends.
                b"abcdefghij ,,,\xc3\xa9"
            } else if case % 2 == 0 {
                short_fields
            } else {
                long_fields
            };
            let len = (next() % if case % 3 == 2 { 1400 } else { 160 }) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            for (step, lim) in [(1, limits), (7, limits), (4096, Limits::default())] {
                let slow = everything(&text, false, step, lim);
                let fast = everything(&text, true, step, lim);
                assert_eq!(
                    fast,
                    slow,
                    "case {case}: {:?}",
                    String::from_utf8_lossy(&text)
                );
                fast_records += fast.0.len();
            }
        }
        assert!(fast_records > 10_000, "{fast_records} records compared");
        // And the shapes of real exports.
        let text = b"a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\r\n\"\",,\"\"\"\"\n1,2\" inch,3\n\"a\"b,c,d\n\"open,2,3\n4,5,6\n\"multi\nline\",2,3\nlast,no,end";
        for step in [1, 3, 4096] {
            assert_eq!(
                everything(text, true, step, Limits::default()),
                everything(text, false, step, Limits::default())
            );
        }
    }

    #[test]
    fn find_byte_finds_the_first_one() {
        // Bytes next to `,` in value (`+`, `-`), with the high bit, zero
        // and 0xFF: where a word-at-a-time search could misfire.
        let alphabet = [b',', b'-', b'+', b'a', 0x80, 0xAC, 0x00, 0xFF];
        let mut rng = crate::testing::Rng::new(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let len = (rng.next() % 80) as usize;
            let hay: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect();
            let from = (rng.next() % (len as u64 + 1)) as usize;
            let want = hay[from..]
                .iter()
                .position(|&c| c == b',')
                .map_or(len, |k| from + k);
            assert_eq!(find_byte(&hay, from, b','), want, "{hay:?} from {from}");
        }
    }

    #[test]
    fn delimiter_masks_find_every_delimiter() {
        // Delimiters `,` `;` tab `|`, and bytes a word-at-a-time test could
        // mistake for them (high bit, zero, 0xFF, neighbours).
        let alphabet = [
            b',', b';', b'\t', b'|', b'-', b'+', b'a', 0x80, 0xAC, 0x00, 0xFF,
        ];
        let mut rng = crate::testing::Rng::new(0x2545_f491_4f6c_dd1d);
        for round in 0..20_000 {
            let d = [b',', b';', b'\t', b'|', 0x00, 0xFF][round % 6];
            let mut block = [0u8; 16];
            block.fill_with(|| alphabet[(rng.next() % alphabet.len() as u64) as usize]);
            let want = (0..16).fold(0u16, |m, i| m | u16::from(block[i] == d) << i);
            assert_eq!(mask16(&block, d), want, "{block:?} {d}");
            assert_eq!(mask16_words(&block, d), want, "{block:?} {d}");
            let len = (rng.next() % (MARKED as u64 + 40)) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect();
            let Some(marks) = Delimiters::of(&line, d) else {
                assert!(len > MARKED);
                continue;
            };
            for from in 0..=len {
                let want = line[from..]
                    .iter()
                    .position(|&c| c == d)
                    .map_or(len, |k| from + k);
                assert_eq!(marks.next(from, len), want, "{line:?} {d} from {from}");
            }
        }
    }

    #[test]
    fn records_across_read_boundaries() {
        let mut text = String::from("id,note\n");
        for i in 0..20_000 {
            text.push_str(&format!("{i},\"note, with\r\nbreak {i}\"\r\n"));
        }
        let got = lines(&text, Some(2));
        assert_eq!(got.len(), 20_001);
        assert_eq!(
            got[20_000],
            (40_000, "19999|note, with\r\nbreak 19999".to_string())
        );
    }
}
