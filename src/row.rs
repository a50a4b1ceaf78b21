//! One record in, one output row out: checks the record, evaluates the
//! rules on it and serialises the row for its stage file.
//!
//! Runs on worker threads; everything here is a pure function of the
//! record, the compiled rules and the run's fixed context, so the bytes
//! produced do not depend on which thread ran it.

use csv::{ByteRecord, StringRecord};

use crate::output::sanitize;
use crate::rules::{Compiled, Outcome, RowView, Scratch, Stage, Verdict};

/// Why a row was rejected: a closed set, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// The rules' `[usable]` condition does not hold (by default: no email
    /// and no phone).
    Unusable,
    TooManyFields,
    TooFewFields,
    InvalidUtf8,
}

impl RejectKind {
    pub const ALL: [RejectKind; 4] = [
        RejectKind::Unusable,
        RejectKind::TooManyFields,
        RejectKind::TooFewFields,
        RejectKind::InvalidUtf8,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RejectKind::Unusable => "unusable",
            RejectKind::TooManyFields => "too-many-fields",
            RejectKind::TooFewFields => "too-few-fields",
            RejectKind::InvalidUtf8 => "invalid-utf8",
        }
    }
}

/// What is fixed for one input file during a run.
pub struct FileCtx {
    pub name: String,
    /// Number of columns of its header row.
    pub width: usize,
    /// For each output input-column, the column of this file, if it has it.
    pub out_to_in: Vec<Option<usize>>,
    pub binding: Vec<Option<usize>>,
}

/// What is fixed for the whole run.
pub struct RunCtx<'a> {
    pub rules: &'a Compiled,
    pub sanitize: bool,
    /// The reasons-column entry of each rule, rendered once.
    pub labels: Vec<String>,
    pub unusable_reason: String,
}

impl<'a> RunCtx<'a> {
    pub fn new(rules: &'a Compiled, sanitize: bool) -> Self {
        let labels = rules.rules.iter().map(|r| rule_label(rules, r)).collect();
        let unusable_reason = rules
            .usable
            .as_ref()
            .map_or_else(String::new, |u| u.2.clone());
        RunCtx {
            rules,
            sanitize,
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
    pub rejects: [u64; 4],
    pub hits: Vec<u64>,
    pub disqualified_by: Vec<u64>,
}

impl ChunkOut {
    pub fn new(rules: usize) -> Self {
        ChunkOut {
            bytes: Default::default(),
            stages: [0; 5],
            rejects: [0; 4],
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
}

impl Worker {
    pub fn new(rules: &Compiled) -> Self {
        Worker {
            scratch: Scratch::default(),
            verdict: Verdict::new(rules.groups.len()),
            writers: (0..5).map(|_| new_writer()).collect(),
            text: String::new(),
            cell: Vec::new(),
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

    /// Processes one record; `record` is taken and given back, so that the
    /// batch keeps its allocations.
    pub fn process(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        record: &mut ByteRecord,
        row: u64,
        out: &mut ChunkOut,
    ) {
        let line = record.position().map_or(0, |p| p.line());
        let kind = if record.len() > file.width {
            Some(RejectKind::TooManyFields)
        } else if record.len() < file.width {
            Some(RejectKind::TooFewFields)
        } else {
            None
        };
        if let Some(kind) = kind {
            let reason = format!(
                "{} fields where the header has {}",
                record.len(),
                file.width
            );
            self.reject(run, file, record, kind, &reason, line, row, out);
            return;
        }
        let bytes = std::mem::take(record);
        match StringRecord::from_byte_record(bytes) {
            Ok(rec) => {
                self.evaluate(run, file, &rec, line, row, out);
                *record = rec.into_byte_record();
            }
            Err(e) => {
                let bad = e.into_byte_record();
                let field = bad
                    .iter()
                    .position(|f| std::str::from_utf8(f).is_err())
                    .map_or(0, |i| i + 1);
                let reason = format!("field {field} is not valid UTF-8");
                self.reject(
                    run,
                    file,
                    &bad,
                    RejectKind::InvalidUtf8,
                    &reason,
                    line,
                    row,
                    out,
                );
                *record = bad;
            }
        }
    }

    fn evaluate(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        rec: &StringRecord,
        line: u64,
        row: u64,
        out: &mut ChunkOut,
    ) {
        let view = RowView {
            record: rec,
            columns: &file.binding,
        };
        run.rules
            .evaluate(&view, &mut self.scratch, &mut self.verdict);
        let v = &self.verdict;
        if v.outcome == Outcome::Unusable {
            let reason = run.unusable_reason.clone();
            self.reject(
                run,
                file,
                rec.as_byte_record(),
                RejectKind::Unusable,
                &reason,
                line,
                row,
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
        write_inputs(w, &mut self.cell, run.sanitize, file, rec.as_byte_record());
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
        let _ = w.write_record(None::<&[u8]>);
    }

    fn reject(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        rec: &ByteRecord,
        kind: RejectKind,
        reason: &str,
        line: u64,
        row: u64,
        out: &mut ChunkOut,
    ) {
        out.stages[Stage::Rejected.index()] += 1;
        out.rejects[kind as usize] += 1;
        let w = &mut self.writers[Stage::Rejected.index()];
        let malformed = kind != RejectKind::Unusable;
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
        let raw = if malformed {
            raw_text(rec)
        } else {
            String::new()
        };
        write_cell(w, &mut self.cell, run.sanitize, raw.as_bytes());
        let _ = w.write_record(None::<&[u8]>);
    }
}

fn new_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().from_writer(Vec::new())
}

/// Longest raw record kept in `rejected.csv`, in bytes.
pub const RAW_LIMIT: usize = 4096;

/// The fields of a malformed record joined with `,`, invalid bytes written
/// as `\xNN`, cut at [`RAW_LIMIT`] bytes.
fn raw_text(rec: &ByteRecord) -> String {
    let mut s = String::new();
    for (i, f) in rec.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        for chunk in f.utf8_chunks() {
            s.push_str(chunk.valid());
            for b in chunk.invalid() {
                s.push_str(&format!("\\x{b:02X}"));
            }
        }
        if s.len() > RAW_LIMIT {
            let mut cut = RAW_LIMIT;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push_str("…[cut]");
            break;
        }
    }
    s
}

fn write_inputs(
    w: &mut csv::Writer<Vec<u8>>,
    cell: &mut Vec<u8>,
    sanitize_cells: bool,
    file: &FileCtx,
    rec: &ByteRecord,
) {
    for col in &file.out_to_in {
        let v = col.and_then(|c| rec.get(c)).unwrap_or(b"");
        write_cell(w, cell, sanitize_cells, v);
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
