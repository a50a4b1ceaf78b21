//! One record in, one output row out: checks the record, evaluates the
//! rules on it and serialises the row for its stage file.
//!
//! Runs on worker threads; everything here is a pure function of the
//! record, the compiled rules and the run's fixed context, so the bytes
//! produced do not depend on which thread ran it.

use crate::input::{Bound, Record, RAW_LIMIT};
use crate::output::sanitize;
use crate::rules::derive::{self, Memo, WriteKind};
use crate::rules::{Compiled, Outcome, RowView, Scratch, Stage, Verdict};

pub use crate::input::RejectKind;

/// What is fixed for one input file during a run.
pub struct FileCtx {
    pub name: String,
    /// Number of columns of its header row.
    pub width: usize,
    /// For each output input-column, the column of this file, if it has it.
    pub out_to_in: Vec<Option<usize>>,
    pub binding: Vec<Bound>,
    /// Whether some field is a part of a full name (worked out per row).
    pub name_parts: bool,
    /// For each input column, the cleaning `[clean] write` asks for.
    pub clean_cols: Vec<Option<WriteKind>>,
    /// The encoding the file was read in, for messages.
    pub encoding: String,
    /// Numbers are read with a decimal comma (the file's delimiter is `;`).
    pub decimal_comma: bool,
}

/// What is fixed for the whole run.
pub struct RunCtx<'a> {
    pub rules: &'a Compiled,
    pub sanitize: bool,
    /// Pad rows with too few fields instead of rejecting them.
    pub pad_short: bool,
    /// Keep rows with too many fields, their extra fields in a column of
    /// their own, instead of rejecting them.
    pub keep_long: bool,
    /// The reasons-column entry of each rule, rendered once.
    pub labels: Vec<String>,
    pub unusable_reason: String,
}

impl<'a> RunCtx<'a> {
    pub fn new(rules: &'a Compiled, sanitize: bool, pad_short: bool, keep_long: bool) -> Self {
        let labels = rules.rules.iter().map(|r| rule_label(rules, r)).collect();
        let unusable_reason = rules
            .usable
            .as_ref()
            .map_or_else(String::new, |u| u.2.clone());
        RunCtx {
            rules,
            sanitize,
            pad_short,
            keep_long,
            labels,
            unusable_reason,
        }
    }
}

/// `decision-maker +25 fit [authority]`, `competitor disqualify: competitor`.
pub fn rule_label(rules: &Compiled, r: &crate::rules::Rule) -> String {
    let mut s = r.id.clone();
    for &(g, p) in &r.points {
        s.push_str(&format!(" {p:+} {}", rules.groups[g].name));
    }
    let marks: Vec<&str> = crate::rules::MARK_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| r.marks & (1 << i) != 0)
        .map(|(_, m)| *m)
        .collect();
    if !marks.is_empty() {
        s.push_str(&format!(" [{}]", marks.join(",")));
    }
    if let Some(d) = &r.disqualify {
        s.push_str(&format!(" disqualify: {d}"));
    }
    s
}

/// The output of a run of consecutive records: serialised rows per stage
/// file and the counts the summary needs.
pub struct ChunkOut {
    pub bytes: [Vec<u8>; 5],
    pub stages: [u64; 5],
    pub rejects: [u64; RejectKind::ALL.len()],
    pub hits: Vec<u64>,
    pub disqualified_by: Vec<u64>,
}

impl ChunkOut {
    pub fn new(rules: usize) -> Self {
        ChunkOut {
            bytes: Default::default(),
            stages: [0; 5],
            rejects: [0; RejectKind::ALL.len()],
            hits: vec![0; rules],
            disqualified_by: vec![0; rules],
        }
    }
}

/// Per-thread buffers reused from row to row.
pub struct Worker {
    scratch: Scratch,
    verdict: Verdict,
    writers: Vec<csv::Writer<Vec<u8>>>,
    text: String,
    cell: Vec<u8>,
    names: Vec<String>,
    extra: String,
    memo: Memo,
}

impl Worker {
    pub fn new(rules: &Compiled) -> Self {
        Worker {
            scratch: Scratch::default(),
            verdict: Verdict::new(rules.groups.len()),
            writers: (0..5).map(|_| new_writer()).collect(),
            text: String::new(),
            cell: Vec::new(),
            names: vec![String::new(); rules.slots.len()],
            extra: String::new(),
            memo: Memo::new(rules.derived.len()),
        }
    }

    /// Moves what the writers hold into `out`.
    pub fn drain_into(&mut self, out: &mut ChunkOut) {
        for (i, w) in self.writers.iter_mut().enumerate() {
            let full = std::mem::replace(w, new_writer());
            if let Ok(bytes) = full.into_inner() {
                out.bytes[i] = bytes;
            }
        }
    }

    /// Processes one record: rejects it with its kind, or evaluates it.
    pub fn process(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        record: &mut Record,
        row: u64,
        out: &mut ChunkOut,
    ) {
        let line = record.line;
        if let Some(kind) = record.problem {
            let raw = escape_raw(&record.raw);
            let reason = std::mem::take(&mut record.message);
            self.reject(run, file, record, kind, &reason, line, row, &raw, out);
            return;
        }
        self.text.clear();
        self.extra.clear();
        if record.len() > file.width && run.keep_long {
            self.extra = raw_text(record, file.width);
            let n = record.len() - file.width;
            self.text = format!("kept {n} extra field(s) in the extra column");
            record.fields = file.width;
            record.data_len = record.ends[file.width - 1];
        } else if record.len() < file.width && run.pad_short {
            let n = file.width - record.len();
            while record.len() < file.width {
                record.push_field(b"");
            }
            self.text = format!("padded {n} missing field(s)");
        }
        let count_problem = if record.len() > file.width {
            Some(RejectKind::TooManyFields)
        } else if record.len() < file.width {
            Some(RejectKind::TooFewFields)
        } else {
            None
        };
        if let Some(kind) = count_problem {
            let reason = format!(
                "{} fields where the header has {}",
                record.len(),
                file.width
            );
            let raw = raw_text(record, 0);
            self.reject(run, file, record, kind, &reason, line, row, &raw, out);
            return;
        }
        // The one UTF-8 check of the row: rules read the text it gives.
        let record: &Record = record;
        let text = match std::str::from_utf8(record.bytes()) {
            Ok(t) => t,
            Err(_) => {
                let field = record
                    .iter()
                    .position(|f| std::str::from_utf8(f).is_err())
                    .map_or(0, |i| i + 1);
                let reason = format!(
                    "field {field} holds bytes that are not valid {}; if the file is in another encoding, name it with --encoding",
                    file.encoding
                );
                let raw = raw_text(record, 0);
                let kind = RejectKind::InvalidEncoding;
                self.reject(run, file, record, kind, &reason, line, row, &raw, out);
                return;
            }
        };
        self.evaluate(run, file, record, text, line, row, out);
    }

    fn evaluate(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        rec: &Record,
        text: &str,
        line: u64,
        row: u64,
        out: &mut ChunkOut,
    ) {
        let placeholders = &run.rules.placeholders;
        self.memo.reset();
        if file.name_parts {
            let view = row_view(file, rec, text, &[], placeholders, &self.memo);
            fill_name_parts(&mut self.names, file, &view);
        }
        let view = row_view(file, rec, text, &self.names, placeholders, &self.memo);
        let note = std::mem::take(&mut self.text);
        run.rules
            .evaluate(&view, &mut self.scratch, &mut self.verdict);
        let v = &self.verdict;
        if v.outcome == Outcome::Unusable {
            let reason = if note.is_empty() {
                run.unusable_reason.clone()
            } else {
                format!("{}; {note}", run.unusable_reason)
            };
            self.reject(
                run,
                file,
                rec,
                RejectKind::Unusable,
                &reason,
                line,
                row,
                "",
                out,
            );
            return;
        }
        for &i in &v.fired {
            out.hits[i] += 1;
        }
        if let Outcome::Disqualified(i) = v.outcome {
            out.disqualified_by[i] += 1;
        }
        let stage = v.stage();
        out.stages[stage.index()] += 1;
        self.text.clear();
        for (n, &i) in v.fired.iter().enumerate() {
            if n > 0 {
                self.text.push_str("; ");
            }
            self.text.push_str(&run.labels[i]);
        }
        if !note.is_empty() {
            if !self.text.is_empty() {
                self.text.push_str("; ");
            }
            self.text.push_str(&note);
        }
        for (g, group) in run.rules.groups.iter().enumerate() {
            if v.totals[g] != v.raw_totals[g] {
                let bound = if v.raw_totals[g] > v.totals[g] {
                    "capped"
                } else {
                    "floored"
                };
                self.text.push_str(&format!(
                    "; {} {bound} at {} (was {})",
                    group.name, v.totals[g], v.raw_totals[g]
                ));
            }
        }
        let w = &mut self.writers[stage.index()];
        if run.rules.clean_write.is_empty() {
            write_inputs(w, &mut self.cell, run.sanitize, file, rec);
        } else {
            write_cleaned_inputs(w, &mut self.cell, run, file, rec, &view);
        }
        let _ = w.write_field(stage.name());
        for t in &v.totals {
            let _ = w.write_field(t.to_string());
        }
        let bant: String = ['B', 'A', 'N', 'T']
            .iter()
            .enumerate()
            .map(|(i, c)| if v.marks & (1 << i) != 0 { *c } else { '-' })
            .collect();
        let _ = w.write_field(bant);
        write_cell(w, &mut self.cell, run.sanitize, self.text.as_bytes());
        write_cell(w, &mut self.cell, run.sanitize, file.name.as_bytes());
        let _ = w.write_field(line.to_string());
        let _ = w.write_field(row.to_string());
        if run.keep_long {
            write_cell(w, &mut self.cell, run.sanitize, self.extra.as_bytes());
        }
        let _ = w.write_record(None::<&[u8]>);
    }

    fn reject(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        rec: &Record,
        kind: RejectKind,
        reason: &str,
        line: u64,
        row: u64,
        raw: &str,
        out: &mut ChunkOut,
    ) {
        out.stages[Stage::Rejected.index()] += 1;
        out.rejects[kind as usize] += 1;
        let w = &mut self.writers[Stage::Rejected.index()];
        let malformed = kind.malformed();
        if malformed {
            for _ in &file.out_to_in {
                let _ = w.write_field(b"");
            }
        } else {
            write_inputs(w, &mut self.cell, run.sanitize, file, rec);
        }
        let _ = w.write_field(Stage::Rejected.name());
        let _ = w.write_field(kind.name());
        write_cell(w, &mut self.cell, run.sanitize, reason.as_bytes());
        write_cell(w, &mut self.cell, run.sanitize, file.name.as_bytes());
        let _ = w.write_field(line.to_string());
        let _ = w.write_field(row.to_string());
        write_cell(w, &mut self.cell, run.sanitize, raw.as_bytes());
        let _ = w.write_record(None::<&[u8]>);
    }
}

fn new_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().from_writer(Vec::new())
}

/// Fields `from..` of a record joined with `,` (quoted as CSV where they
/// need it), invalid bytes written as `\xNN`, cut at [`RAW_LIMIT`] bytes.
fn raw_text(rec: &Record, from: usize) -> String {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    let _ = w.write_record(rec.iter().skip(from));
    let bytes = w.into_inner().unwrap_or_default();
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    escape_raw(body)
}

/// Raw bytes as text: invalid UTF-8 written as `\xNN`, cut at
/// [`RAW_LIMIT`] bytes with a mark.
fn escape_raw(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02X}"));
        }
        if s.len() > RAW_LIMIT {
            break;
        }
    }
    if s.len() > RAW_LIMIT {
        let mut cut = RAW_LIMIT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("…[cut]");
    }
    s
}

fn write_inputs(
    w: &mut csv::Writer<Vec<u8>>,
    cell: &mut Vec<u8>,
    sanitize_cells: bool,
    file: &FileCtx,
    rec: &Record,
) {
    for col in &file.out_to_in {
        let v = col.and_then(|c| rec.get(c)).unwrap_or(b"");
        write_cell(w, cell, sanitize_cells, v);
    }
}

/// The rules' view of a row whose text was checked once.
fn row_view<'a>(
    file: &'a FileCtx,
    rec: &'a Record,
    text: &'a str,
    names: &'a [String],
    placeholders: &'a [String],
    memo: &'a Memo,
) -> RowView<'a> {
    RowView {
        text,
        ends: &rec.ends[..rec.fields],
        binding: &file.binding,
        names,
        placeholders,
        memo,
        decimal_comma: file.decimal_comma,
    }
}

/// Works out the slots bound to parts of a full name.
fn fill_name_parts(names: &mut [String], file: &FileCtx, view: &RowView) {
    for (slot, b) in file.binding.iter().enumerate() {
        if let Bound::NamePart { column, first } = b {
            let (f, l) = crate::clean::name::split_full_name(view.cell(*column));
            names[slot] = if *first { f } else { l };
        }
    }
}

/// The input columns with `[clean] write` applied: cleaned values where
/// they can be cleaned, the rest as read.
fn write_cleaned_inputs(
    w: &mut csv::Writer<Vec<u8>>,
    cell: &mut Vec<u8>,
    run: &RunCtx,
    file: &FileCtx,
    rec: &Record,
    view: &RowView,
) {
    let rules = run.rules;
    let region = || {
        let country = rules.country_slot.map_or("", |s| view.field(s));
        derive::region(country, rules.phone_region.as_deref())
    };
    for col in &file.out_to_in {
        let v = col.and_then(|c| rec.get(c)).unwrap_or(b"");
        let kind = col.and_then(|c| file.clean_cols.get(c).copied().flatten());
        let cleaned = kind.and_then(|k| {
            let text = std::str::from_utf8(v).ok()?;
            let region = if k == WriteKind::Phone {
                region()
            } else {
                None
            };
            k.clean(text, region)
        });
        match cleaned {
            Some(c) => write_cell(w, cell, run.sanitize, c.as_bytes()),
            None => write_cell(w, cell, run.sanitize, v),
        }
    }
}

fn write_cell(w: &mut csv::Writer<Vec<u8>>, cell: &mut Vec<u8>, sanitize_cells: bool, v: &[u8]) {
    if sanitize_cells {
        let s = sanitize(v);
        cell.clear();
        cell.extend_from_slice(&s);
        let _ = w.write_field(&cell[..]);
    } else {
        let _ = w.write_field(v);
    }
}
