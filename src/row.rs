//! One record in, one output row out: checks the record, evaluates the
//! rules on it and serialises the row for its stage file.
//!
//! Runs on worker threads; everything here is a pure function of the
//! record, the compiled rules and the run's fixed context, so the bytes
//! produced do not depend on which thread ran it.

use crate::dedup::{self, Change, Decision, Fact, KeyBuf, Plan};
use crate::exclude::Exclusions;
use crate::input::{Bound, Record, RAW_LIMIT};
use crate::output::{csv_to_jsonl, Format, JsonHeader, RowWriter, DUPLICATES};
use crate::rules::derive::{self, Memo, WriteKind};
use crate::rules::trace::Trace;
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
    /// The name is written as it is (see `output::plain_cell`).
    pub name_plain: bool,
    /// The output's input columns are this file's columns, in order.
    pub same_columns: bool,
}

/// Which pass over the input a worker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Evaluate and report each usable row's keys and rank; write nothing.
    Facts,
    /// `fill_empty`: report the values duplicates hold for their kept
    /// row's empty fields.
    Fill,
    /// Evaluate and write.
    Write,
    /// One-pass deduplication (see `pipeline`), before a batch's
    /// duplicates are known: evaluate and write every row as if it were
    /// kept, keep its verdict (see [`Stashed`]), where its record went
    /// ([`ChunkOut::marks`]) and its keys. [`Worker::retract`] then moves
    /// the rows that turn out to be duplicates.
    Keys,
}

/// What the run knows of earlier runs (`--state`).
#[derive(Debug, Clone, Copy)]
pub struct History {
    pub only_changed: bool,
    pub as_of: jiff::civil::Date,
}

/// What is fixed for the whole run.
#[derive(Clone)]
pub struct RunCtx<'a> {
    pub pass: Pass,
    /// Pass two of a deduplicating run: who is kept.
    pub plan: Option<&'a Plan>,
    /// One-pass deduplication: the decision of each row of the batch,
    /// taken in input order when the keys were observed.
    pub preset: Option<&'a Preset<'a>>,
    pub exclusions: Option<&'a Exclusions>,
    pub history: Option<History>,
    pub rules: &'a Compiled,
    pub sanitize: bool,
    /// Pad rows with too few fields instead of rejecting them.
    pub pad_short: bool,
    /// Keep rows with too many fields, their extra fields in a column of
    /// their own, instead of rejecting them.
    pub keep_long: bool,
    /// The reasons-column entry of each rule, rendered once, after the
    /// `; ` that joins it to an entry before it.
    pub labels: Vec<String>,
    /// Which of `labels` are written as they are (see
    /// `output::plain_cell`; the `; ` before each is plain too).
    pub labels_plain: Vec<bool>,
    /// The format rows are written in.
    pub format: Format,
    /// With JSON Lines: each output's keys.
    pub json: Vec<JsonHeader>,
    pub unusable_reason: String,
}

impl<'a> RunCtx<'a> {
    pub fn new(rules: &'a Compiled, sanitize: bool, pad_short: bool, keep_long: bool) -> Self {
        let labels = rules
            .rules
            .iter()
            .map(|r| format!("; {}", rule_label(rules, r)))
            .collect::<Vec<_>>();
        let labels_plain = labels
            .iter()
            .map(|l| crate::output::plain_cell(&l.as_bytes()[2..]))
            .collect();
        let unusable_reason = rules
            .usable
            .as_ref()
            .map_or_else(String::new, |u| u.2.clone());
        RunCtx {
            pass: Pass::Write,
            plan: None,
            preset: None,
            exclusions: None,
            history: None,
            rules,
            sanitize,
            pad_short,
            keep_long,
            labels,
            labels_plain,
            format: Format::Csv,
            json: Vec::new(),
            unusable_reason,
        }
    }
}

/// The rows of one batch that are duplicates, decided when its keys were
/// observed in input order, with what each one's reason names of its
/// person's kept row: all [`Worker::retract`] needs while later batches
/// are being observed. Every other row of the batch is kept.
#[derive(Debug, Default)]
pub struct Preset<'a> {
    /// Each dropped row's run position, decision and kept row, in order.
    pub dropped: Vec<(u64, Decision, Kept)>,
    /// The inputs' names.
    pub names: &'a [String],
}

impl Preset<'_> {
    /// The decision of the row at run position `global`, if it is dropped.
    pub fn get(&self, global: u64) -> Option<Decision> {
        self.find(global).map(|d| d.1)
    }

    /// The kept row of the dropped row at run position `global`.
    fn kept(&self, global: u64) -> Option<Kept> {
        self.find(global).map(|d| d.2)
    }

    fn find(&self, global: u64) -> Option<&(u64, Decision, Kept)> {
        let i = self.dropped.binary_search_by_key(&global, |d| d.0).ok()?;
        Some(&self.dropped[i])
    }
}

/// A person's kept row, as a dropped duplicate's reason names it.
#[derive(Debug, Clone, Copy)]
pub struct Kept {
    /// The input file's index, and the row's line and row number in it.
    pub file: usize,
    pub line: u64,
    pub row: u64,
    pub stage: Stage,
}

impl Kept {
    pub fn of(plan: &Plan, cluster: u32) -> Kept {
        let b = plan.index.best(cluster);
        let (file, row) = plan.locate(b.row);
        Kept {
            file,
            line: b.line,
            row,
            stage: b.stage,
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

/// Output `i`'s rows as JSON Lines, when the run writes them.
fn to_jsonl(run: &RunCtx, i: usize, bytes: &mut Vec<u8>) {
    if let Some(head) = run.json.get(i) {
        if !bytes.is_empty() {
            *bytes = csv_to_jsonl(bytes, head);
        }
    }
}

/// Removes the ranges `holes` (in order, not overlapping) from `bytes`.
fn cut_out<'h>(bytes: &mut Vec<u8>, holes: impl Iterator<Item = &'h Mark>) {
    // Bytes before the first hole stay where they are.
    let (mut to, mut from) = (None, 0);
    for h in holes {
        to = Some(match to {
            None => h.start,
            Some(at) => {
                bytes.copy_within(from..h.start, at);
                at + (h.start - from)
            }
        });
        from = h.end;
    }
    if let Some(at) = to {
        let len = bytes.len();
        bytes.copy_within(from..len, at);
        bytes.truncate(at + (len - from));
    }
}

/// Counts a row in the grade grid (takes the count back with `back`).
fn count_grade(rules: &Compiled, totals: &[i64], out: &mut ChunkOut, back: bool) {
    let Some(g) = &rules.grades else { return };
    let at = |a: &crate::rules::Axis, t: i64| {
        a.levels
            .iter()
            .position(|(_, min)| t >= *min)
            .unwrap_or(a.levels.len())
    };
    if out.grades.is_empty() {
        out.grades = vec![vec![0; g.engagement.levels.len() + 1]; g.fit.levels.len() + 1];
    }
    let (f, e) = (
        at(&g.fit, totals[g.fit.group]),
        at(&g.engagement, totals[g.engagement.group]),
    );
    bump(&mut out.grades[f][e], back);
}

/// Adds one to a count, or takes one back.
fn bump(n: &mut u64, back: bool) {
    if back {
        *n -= 1;
    } else {
        *n += 1;
    }
}

/// The reasons entry of a fired rule with `decay`: its points on this row
/// and why: `recent-visit +10 engagement (decay: 20 halved every 30 days,
/// 30 days since last_activity)`.
pub fn decayed_label(rules: &Compiled, i: usize, age: Option<i64>) -> String {
    let r = &rules.rules[i];
    let Some(d) = &r.decay else {
        return rule_label(rules, r);
    };
    let mut s = r.id.clone();
    for &(g, p) in &r.points {
        let got = crate::rules::decayed_points(p, age, d.half_life);
        s.push_str(&format!(" {got:+} {}", rules.groups[g].name));
    }
    let full: Vec<String> = r.points.iter().map(|(_, p)| p.to_string()).collect();
    let why = match age {
        None => format!("no date read in {}", d.field),
        Some(a) if a < 0 => format!("{} is {} day(s) after the run's date", d.field, -a),
        Some(a) => format!("{a} day(s) since {}", d.field),
    };
    s.push_str(&format!(
        " (decay: {} halved every {} days, {why})",
        full.join("/"),
        d.half_life
    ));
    let rest = rule_label(rules, r);
    // Marks and disqualification, as in the plain label.
    if let Some(at) = rest.find(" [").or_else(|| rest.find(" disqualify:")) {
        s.push_str(&rest[at..]);
    }
    s
}

/// The output of a run of consecutive records: serialised rows per stage
/// file and the counts the summary needs.
pub struct ChunkOut {
    /// The five stage files, then duplicates.
    pub bytes: [Vec<u8>; 6],
    pub stages: [u64; 5],
    pub duplicates: u64,
    /// Pass one: the usable rows' keys and ranks, in order.
    pub facts: Vec<Fact>,
    /// The fill pass: (fill key, value, line) offered by duplicates.
    pub fills: Vec<(u64, String, u64)>,
    /// With `--state`: each key of each usable row, with its person's
    /// stage and score.
    pub seen: Vec<Seen>,
    /// Rows excluded by each `--exclude` list.
    pub excluded: Vec<u64>,
    pub changes: Changes,
    pub rejects: [u64; RejectKind::ALL.len()],
    pub hits: Vec<u64>,
    /// Rows whose rule hits were counted (the coverage denominator).
    pub evaluated: u64,
    pub disqualified_by: Vec<u64>,
    /// Rows per `source` value (as first spelt, keyed lowercased): the
    /// five stages, then duplicates. Rows that could not be read count
    /// under [`NOT_READ`].
    pub sources: SourceCounts,
    /// Kept lead, prospect and opportunity rows by total score.
    pub scores: ScoreCounts,
    /// With `[grades]`: kept lead, prospect and opportunity rows per fit
    /// grade (row) and engagement grade (column), best first.
    pub grades: Vec<Vec<u64>>,
    /// The line and reason of the chunk's first malformed row (for
    /// `--strict`).
    pub first_malformed: Option<(u64, String)>,
    /// The keys pass: where each row's record went in
    /// [`ChunkOut::bytes`], so that a row found to be a duplicate can be
    /// taken back out. After [`Worker::retract`]: the records taken out,
    /// in order, which [`ChunkOut::pieces`] skips.
    pub marks: Vec<Mark>,
}

/// A handed-on chunk's buffers, empty, kept for the next chunk: its
/// output bytes (a few hundred kilobytes), facts and marks.
#[derive(Debug, Default)]
pub struct ChunkBuffers {
    bytes: [Vec<u8>; 6],
    facts: Vec<Fact>,
    marks: Vec<Mark>,
}

/// Where one row's record is in a chunk's output: `bytes[out][start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub out: u8,
    pub start: usize,
    pub end: usize,
}

/// The `source` label of rows that could not be read into fields.
pub const NOT_READ: &str = "(not read)";
/// The `source` label of rows with no source.
pub const NO_SOURCE: &str = "(none)";

/// Entries of [`SourceCounts`]'s cache of exact spellings.
const SPELLINGS: usize = 64;

/// Rows per total score. Scores from [`ScoreCounts::LOW`] up to
/// [`ScoreCounts::LOW`] + [`ScoreCounts::SPAN`] are counted in an array (an
/// add is an index, where a map's was a search), the rest in a map.
#[derive(Debug, Clone, Default)]
pub struct ScoreCounts {
    /// Rows per score from `LOW`, made on the first add.
    near: Vec<u64>,
    far: std::collections::BTreeMap<i64, u64>,
}

impl ScoreCounts {
    pub const LOW: i64 = -256;
    pub const SPAN: usize = 1024;

    fn slot(score: i64) -> Option<usize> {
        usize::try_from(score.wrapping_sub(Self::LOW))
            .ok()
            .filter(|&i| i < Self::SPAN)
    }

    /// Counts one row with `score`.
    pub fn add(&mut self, score: i64) {
        match Self::slot(score) {
            Some(i) => {
                if self.near.is_empty() {
                    self.near = vec![0; Self::SPAN];
                }
                self.near[i] += 1;
            }
            None => *self.far.entry(score).or_default() += 1,
        }
    }

    /// Takes back one row counted with [`ScoreCounts::add`].
    pub fn take_back(&mut self, score: i64) {
        match Self::slot(score) {
            Some(i) => {
                if let Some(n) = self.near.get_mut(i) {
                    *n = n.saturating_sub(1);
                }
            }
            None => {
                if let Some(n) = self.far.get_mut(&score) {
                    *n -= 1;
                    if *n == 0 {
                        self.far.remove(&score);
                    }
                }
            }
        }
    }

    /// The scores with rows, and how many, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        let near = self.near.iter().enumerate().filter(|(_, n)| **n > 0);
        near.map(|(i, n)| (Self::LOW + i as i64, *n))
            .chain(self.far.iter().map(|(s, n)| (*s, *n)))
    }
}

/// Stage counts per source value, in order of first appearance.
#[derive(Debug, Clone, Default)]
pub struct SourceCounts {
    index: std::collections::HashMap<String, usize, foldhash::fast::RandomState>,
    pub rows: Vec<(String, [u64; 6])>,
    /// The lowercase value being looked up.
    lower: String,
    /// Spellings met, each with its row (see [`SourceCounts::row_of`]).
    spellings: Vec<Option<(Box<str>, usize)>>,
}

impl SourceCounts {
    /// Counts one row with source `value` in column `stage` (0-4 the
    /// stages, 5 duplicates).
    pub fn count(&mut self, value: &str, stage: usize) {
        let value = if value.is_empty() { NO_SOURCE } else { value };
        self.add(value, stage, 1);
    }

    /// Adds another chunk's counts, keeping the first spelling seen.
    pub fn merge(&mut self, other: &SourceCounts) {
        for (v, counts) in &other.rows {
            for (stage, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                self.add(v, stage, n);
            }
        }
    }

    /// Takes back one row counted with [`SourceCounts::count`].
    pub fn take_back(&mut self, value: &str, stage: usize) {
        let value = if value.is_empty() { NO_SOURCE } else { value };
        let i = self.row_of(value);
        self.rows[i].1[stage] -= 1;
    }

    /// Adds `n` rows to `value`'s column `stage`, grouping values ignoring
    /// case under the first spelling seen.
    fn add(&mut self, value: &str, stage: usize, n: u64) {
        let i = self.row_of(value);
        self.rows[i].1[stage] += n;
    }

    /// `value`'s row, added if it has none. A spelling seen before is
    /// found in a small direct-mapped cache of exact spellings, without
    /// lowercasing and hashing it (a file has a handful of source
    /// spellings, mostly).
    fn row_of(&mut self, value: &str) -> usize {
        let b = value.as_bytes();
        let slot = match (b.first(), b.last()) {
            (Some(&f), Some(&l)) => {
                (b.len() * 31 + usize::from(f) * 7 + usize::from(l)) % SPELLINGS
            }
            _ => 0,
        };
        if let Some(Some((spelt, i))) = self.spellings.get(slot) {
            if **spelt == *value {
                return *i;
            }
        }
        let i = self.row_of_any(value);
        if self.spellings.is_empty() {
            self.spellings = vec![None; SPELLINGS];
        }
        self.spellings[slot] = Some((value.into(), i));
        i
    }

    /// [`SourceCounts::row_of`] by the lowercase value.
    fn row_of_any(&mut self, value: &str) -> usize {
        let key = if value.is_ascii() {
            crate::rules::value::lower_into(value, &mut self.lower)
        } else {
            self.lower = value.to_lowercase();
            self.lower.as_str()
        };
        match self.index.get(key) {
            Some(&i) => i,
            None => {
                self.rows.push((value.to_string(), [0; 6]));
                self.index.insert(key.to_string(), self.rows.len() - 1);
                self.rows.len() - 1
            }
        }
    }
}

impl ChunkOut {
    pub fn new(rules: usize) -> Self {
        ChunkOut {
            bytes: Default::default(),
            stages: [0; 5],
            duplicates: 0,
            facts: Vec::new(),
            fills: Vec::new(),
            seen: Vec::new(),
            excluded: Vec::new(),
            changes: Changes::default(),
            rejects: [0; RejectKind::ALL.len()],
            hits: vec![0; rules],
            evaluated: 0,
            disqualified_by: vec![0; rules],
            sources: SourceCounts::default(),
            scores: Default::default(),
            first_malformed: None,
            grades: Vec::new(),
            marks: Vec::new(),
        }
    }

    /// A fresh chunk that fills the buffers of `spare` (see
    /// [`ChunkOut::into_spare`]); everything else starts as in
    /// [`ChunkOut::new`].
    pub fn with_spare(rules: usize, spare: ChunkBuffers) -> Self {
        ChunkOut {
            bytes: spare.bytes,
            facts: spare.facts,
            marks: spare.marks,
            ..ChunkOut::new(rules)
        }
    }

    /// The chunk's largest buffers, emptied, for another chunk to fill.
    pub fn into_spare(self) -> ChunkBuffers {
        let mut spare = ChunkBuffers {
            bytes: self.bytes,
            facts: self.facts,
            marks: self.marks,
        };
        spare.bytes.iter_mut().for_each(Vec::clear);
        spare.facts.clear();
        spare.marks.clear();
        spare
    }

    /// Output `i`'s bytes, without the records [`Worker::retract`] took
    /// out, as consecutive pieces.
    pub fn pieces(&self, i: usize) -> impl Iterator<Item = &[u8]> {
        let bytes = &self.bytes[i][..];
        let mut holes = self.marks.iter().filter(move |h| usize::from(h.out) == i);
        let mut from = 0;
        std::iter::from_fn(move || loop {
            if from > bytes.len() {
                return None;
            }
            let (piece, next) = match holes.next() {
                Some(h) => (&bytes[from..h.start], h.end),
                None => (&bytes[from..], bytes.len() + 1),
            };
            from = next;
            if !piece.is_empty() {
                return Some(piece);
            }
        })
    }

    /// Counts a row placed at `stage` (with the exclusion list that
    /// disqualified it, if one did), or takes the count back (`back`).
    #[allow(clippy::too_many_arguments)]
    fn tally(
        &mut self,
        rules: &Compiled,
        v: &Verdict,
        excluded: Option<usize>,
        stage: Stage,
        score: i64,
        source: &str,
        back: bool,
    ) {
        bump(&mut self.evaluated, back);
        for &i in &v.fired {
            bump(&mut self.hits[i], back);
        }
        if let Some(list) = excluded {
            bump(&mut self.excluded[list], back);
        } else if let Outcome::Disqualified(i) = v.outcome {
            bump(&mut self.disqualified_by[i], back);
        }
        self.tally_stage(rules, &v.totals, stage, score, source, back);
    }

    /// The part of [`ChunkOut::tally`] that any row placed at `stage`
    /// counts, written or not: the stage, the source, the score and the
    /// grade.
    fn tally_stage(
        &mut self,
        rules: &Compiled,
        totals: &[i64],
        stage: Stage,
        score: i64,
        source: &str,
        back: bool,
    ) {
        bump(&mut self.stages[stage.index()], back);
        if back {
            self.sources.take_back(source, stage.index());
        } else {
            self.sources.count(source, stage.index());
        }
        if stage != Stage::Disqualified {
            if back {
                self.scores.take_back(score);
            } else {
                self.scores.add(score);
            }
            count_grade(rules, totals, self, back);
        }
    }
}

/// One key as this run leaves it, for the state file.
#[derive(Debug, Clone)]
pub struct Seen {
    pub hash: u64,
    pub kind: &'static str,
    pub key: String,
    pub stage: Stage,
    pub score: i64,
    pub first_seen: Option<jiff::civil::Date>,
}

/// Kept rows against the last run.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, PartialEq, Eq)]
pub struct Changes {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Unchanged rows not written (`--only-changed`).
    pub not_written: u64,
    pub moved_up: u64,
    /// Moved down the ladder (with `--allow-downgrade`).
    pub moved_down: u64,
    /// Would have moved down; written at their earlier stage.
    pub held: u64,
    pub stayed: u64,
}

impl Changes {
    pub fn add(&mut self, o: &Changes) {
        self.new += o.new;
        self.changed += o.changed;
        self.unchanged += o.unchanged;
        self.not_written += o.not_written;
        self.moved_up += o.moved_up;
        self.moved_down += o.moved_down;
        self.held += o.held;
        self.stayed += o.stayed;
    }
}

/// How one row was decided, as a tracing worker records it (for `explain`
/// and `test`): from the very code that writes the row.
#[derive(Debug, Default)]
pub struct Decided {
    /// For a rejected row: its kind, the reason and the raw text, as
    /// written to `rejected.csv`.
    pub reject: Option<(RejectKind, String, String)>,
    /// The evaluation, when the record could be read as fields.
    pub verdict: Option<Verdict>,
    pub trace: Trace,
    /// The value of each field slot as the rules saw it.
    pub fields: Vec<String>,
    /// The reasons column as written to the stage file.
    pub reasons: String,
}

/// A row's verdict, kept by the keys pass of one-pass deduplication for
/// [`Worker::retract`], in case the row turns out to be a duplicate.
pub struct Stashed {
    valid: bool,
    verdict: Verdict,
}

impl Stashed {
    pub fn new(rules: &Compiled) -> Self {
        Stashed {
            valid: false,
            verdict: Verdict::new(rules.groups.len()),
        }
    }
}

/// Per-thread buffers reused from row to row.
pub struct Worker {
    scratch: Scratch,
    verdict: Verdict,
    writers: Vec<RowWriter>,
    /// The reasons column being built.
    text: String,
    /// What reading the row noted (padding, extra fields), for its reasons.
    note: String,
    names: Vec<String>,
    extra: String,
    memo: Memo,
    keys: KeyBuf,
    /// Only for `explain` and `test`: where the rows' decisions go.
    decided: Option<Box<Decided>>,
    lanes: Lanes,
}

/// The rows of a group evaluated together ([`Compiled::evaluate_many`])
/// before each is processed on its own: a memo, name parts and verdict per
/// lane.
struct Lanes {
    memos: Vec<Memo>,
    names: Vec<Vec<String>>,
    verdicts: Vec<Verdict>,
    /// The keys pass: each usable lane's key hashes.
    keys: Vec<[u64; 3]>,
    /// The lane of each record of the group whose verdict is ready.
    lane_of: [Option<u8>; Compiled::LANES],
}

impl Lanes {
    fn new(rules: &Compiled) -> Self {
        let n = Compiled::LANES;
        Lanes {
            memos: (0..n).map(|_| Memo::for_rules(rules)).collect(),
            names: vec![vec![String::new(); rules.slots.len()]; n],
            verdicts: vec![Verdict::new(rules.groups.len()); n],
            keys: vec![[0; 3]; n],
            lane_of: [None; Compiled::LANES],
        }
    }
}

impl Worker {
    pub fn new(run: &RunCtx) -> Self {
        let rules = run.rules;
        Worker {
            scratch: Scratch::default(),
            verdict: Verdict::new(rules.groups.len()),
            writers: (0..6).map(|_| run.format.writer()).collect(),
            text: String::new(),
            note: String::new(),
            names: vec![String::new(); rules.slots.len()],
            extra: String::new(),
            memo: Memo::for_rules(rules),
            keys: KeyBuf::default(),
            decided: None,
            lanes: Lanes::new(rules),
        }
    }

    /// A worker that records how each row it processes is decided; see
    /// [`Worker::take_decided`].
    pub fn tracing(run: &RunCtx) -> Self {
        Worker {
            decided: Some(Box::default()),
            ..Worker::new(run)
        }
    }

    /// How the last row was decided, for a tracing worker.
    pub fn take_decided(&mut self) -> Option<Decided> {
        let d = self.decided.as_mut()?;
        Some(std::mem::take(&mut **d))
    }

    /// Moves what the writers hold into `out`, as JSON Lines when the run
    /// writes them (after [`Worker::retract`], in the keys pass); the
    /// writers go on in `out`'s empty buffers (see [`ChunkOut::with_spare`]).
    pub fn drain_into(&mut self, run: &RunCtx, out: &mut ChunkOut) {
        for (i, w) in self.writers.iter_mut().enumerate() {
            out.bytes[i] = w.take_into(std::mem::take(&mut out.bytes[i]));
            if run.pass != Pass::Keys {
                to_jsonl(run, i, &mut out.bytes[i]);
            }
        }
    }

    /// Where the row just processed went: the writer that grew since
    /// `before` (each row writes one record).
    fn mark(&self, before: &[usize; 6]) -> Mark {
        let grew = self
            .writers
            .iter()
            .zip(before)
            .position(|(w, &b)| w.written() != b);
        match grew {
            Some(i) => Mark {
                out: i as u8,
                start: before[i],
                end: self.writers[i].written(),
            },
            None => Mark {
                out: u8::MAX,
                start: 0,
                end: 0,
            },
        }
    }

    /// One-pass deduplication, once a batch's keys have been observed:
    /// takes the rows that turned out to be duplicates back out of what
    /// the keys pass wrote of the chunk `records` (rows `row..`, run
    /// positions `global..`, verdicts in `stash`) into `out`, writes them
    /// as duplicates instead and moves their counts. `run` is the writing
    /// pass with the batch's decisions preset. Only the duplicates are
    /// read again.
    #[allow(clippy::too_many_arguments)]
    pub fn retract(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        records: &[Record],
        row: u64,
        global: u64,
        stash: &mut [Stashed],
        out: &mut ChunkOut,
    ) {
        let dropped = run.preset.map_or(&[][..], |p| &p.dropped[..]);
        let from = dropped.partition_point(|d| d.0 < global);
        let end = global + records.len() as u64;
        let mut holes = std::mem::take(&mut out.marks);
        let mut n = 0;
        for &(g, ..) in dropped[from..].iter().take_while(|d| d.0 < end) {
            let i = (g - global) as usize;
            let r = row + i as u64;
            self.process_lane(run, file, &records[i], r, g, out, stash.get_mut(i), None);
            holes[n] = holes[i];
            n += 1;
        }
        holes.truncate(n);
        let spare = std::mem::take(&mut out.bytes[DUPLICATES]);
        out.bytes[DUPLICATES] = self.writers[DUPLICATES].take_into(spare);
        out.facts.clear();
        if run.json.is_empty() {
            // The writer skips the holes: no bytes move.
            out.marks = holes;
            return;
        }
        for (i, bytes) in out.bytes.iter_mut().enumerate() {
            cut_out(bytes, holes.iter().filter(|h| usize::from(h.out) == i));
            to_jsonl(run, i, bytes);
        }
    }

    /// Processes one record: rejects it with its kind, or evaluates it.
    /// The record is left as it was read (a padded or cut copy is
    /// evaluated), for a later pass or [`Worker::retract`].
    pub fn process(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        record: &Record,
        row: u64,
        global: u64,
        out: &mut ChunkOut,
    ) {
        self.process_lane(run, file, record, row, global, out, None, None);
    }

    /// [`Worker::process`] on each record of `records` (rows
    /// `row..`, run positions `global..`, stashes in `stash` when given),
    /// with the rows that the rules evaluate evaluated together, a group
    /// of [`Compiled::LANES`] at a time. The same results, row by row.
    pub fn process_all(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        records: &mut [Record],
        row: u64,
        global: u64,
        out: &mut ChunkOut,
        mut stash: Option<&mut [Stashed]>,
    ) {
        let mut at = 0;
        while at < records.len() {
            let n = Compiled::LANES.min(records.len() - at);
            let group = &records[at..at + n];
            let mut stashes = stash.as_deref_mut().map(|s| &mut s[at..at + n]);
            let texts = self.evaluate_group(run, file, group, stashes.as_deref());
            for (k, rec) in group.iter().enumerate() {
                let s = stashes.as_deref_mut().and_then(|s| s.get_mut(k));
                let (r, g) = (row + (at + k) as u64, global + (at + k) as u64);
                let lane = self.lanes.lane_of[k].take().zip(texts[k]);
                if run.pass == Pass::Keys {
                    let before = std::array::from_fn(|i| self.writers[i].written());
                    self.process_lane(run, file, rec, r, g, out, s, lane);
                    out.marks.push(self.mark(&before));
                } else {
                    self.process_lane(run, file, rec, r, g, out, s, lane);
                }
            }
            at += n;
        }
    }

    /// Evaluates together the records of `group` that processing them
    /// would evaluate: read without problems, as wide as the header,
    /// valid UTF-8, and not answered by a stashed verdict. Returns the
    /// text of each record it evaluated (checked once: processing the
    /// record reads it from here).
    fn evaluate_group<'r>(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        group: &'r [Record],
        stash: Option<&[Stashed]>,
    ) -> [Option<&'r str>; Compiled::LANES] {
        let lanes = &mut self.lanes;
        lanes.lane_of = [None; Compiled::LANES];
        let evaluates = match run.pass {
            Pass::Keys => stash.is_some(),
            _ => true,
        };
        let mut texts: [Option<&str>; Compiled::LANES] = [None; Compiled::LANES];
        if !evaluates || self.decided.is_some() {
            return texts;
        }
        let mut n = 0;
        for (k, rec) in group.iter().enumerate() {
            let stashed = stash.is_some_and(|s| s[k].valid) && run.pass != Pass::Keys;
            if rec.problem.is_some() || rec.len() != file.width || stashed {
                continue;
            }
            let Ok(text) = simdutf8::basic::from_utf8(rec.bytes()) else {
                continue;
            };
            texts[k] = Some(text);
            lanes.lane_of[k] = Some(n as u8);
            lanes.memos[n].reset();
            n += 1;
        }
        if n == 0 {
            return texts;
        }
        let placeholders = &run.rules.placeholders;
        if file.name_parts {
            for (k, rec) in group.iter().enumerate() {
                if let (Some(text), Some(j)) = (texts[k], lanes.lane_of[k]) {
                    let j = j as usize;
                    let view = row_view(file, rec, text, &[], placeholders, &lanes.memos[j]);
                    fill_name_parts(&mut lanes.names[j], file, &view);
                }
            }
        }
        let views: Vec<RowView> = group
            .iter()
            .zip(&texts)
            .zip(&lanes.lane_of)
            .filter_map(|((rec, text), j)| {
                let (text, j) = ((*text)?, (*j)? as usize);
                let (names, memo) = (&lanes.names[j], &lanes.memos[j]);
                Some(row_view(file, rec, text, names, placeholders, memo))
            })
            .collect();
        for v in &views {
            v.fill_fields();
        }
        let out = &mut lanes.verdicts[..n];
        run.rules.evaluate_many(&views, &mut self.scratch, out);
        // The keys pass works out the group's keys in a loop of their
        // own: with the writing in the same loop, the code of a row no
        // longer fits the instruction cache.
        let (rules, spec) = (run.rules, &run.rules.dedup);
        if run.pass == Pass::Keys && spec.enabled() {
            for (j, v) in views.iter().enumerate() {
                if lanes.verdicts[j].outcome != Outcome::Unusable {
                    self.keys.compute(rules, v, spec);
                    lanes.keys[j] = self.keys.hash;
                }
            }
        }
        texts
    }

    /// [`Worker::process`], for one-pass deduplication and rows evaluated
    /// together: the keys pass writes the row and leaves its verdict in
    /// `stash`, and [`Worker::retract`] takes it from there, should the
    /// row be a duplicate, instead of evaluating the row again; a row
    /// evaluated with its group has its verdict in lane `lane`, with its
    /// text.
    #[allow(clippy::too_many_arguments)]
    fn process_lane(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        record: &Record,
        row: u64,
        global: u64,
        out: &mut ChunkOut,
        mut stash: Option<&mut Stashed>,
        lane: Option<(u8, &str)>,
    ) {
        if run.pass == Pass::Keys {
            if let Some(s) = stash.as_deref_mut() {
                s.valid = false;
            }
        }
        self.process_record(run, file, record, row, global, out, stash, lane);
    }

    #[allow(clippy::too_many_arguments)]
    fn process_record(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        record: &Record,
        row: u64,
        global: u64,
        out: &mut ChunkOut,
        stash: Option<&mut Stashed>,
        lane: Option<(u8, &str)>,
    ) {
        if out.excluded.is_empty() {
            if let Some(x) = run.exclusions {
                out.excluded = vec![0; x.lists.len()];
            }
        }
        let line = record.line;
        if let Some(kind) = record.problem {
            let raw = escape_raw(&record.raw);
            let reason = record.message.clone();
            self.reject(
                run, file, record, kind, &reason, line, row, &raw, NOT_READ, out,
            );
            return;
        }
        self.note.clear();
        self.extra.clear();
        // A row cut to the header's width or padded to it is a copy (the
        // record stays as read for a later pass).
        let fitted;
        let record = if record.len() > file.width && run.keep_long {
            self.extra = raw_text(record, file.width);
            let n = record.len() - file.width;
            self.note = format!("kept {n} extra field(s) in the extra column");
            // The first fields alone (held apart, see `Record`): the
            // bytes checked for UTF-8 are theirs.
            let mut copy = Record {
                line: record.line,
                ..Record::default()
            };
            for f in record.iter().take(file.width) {
                copy.push_field(f);
            }
            fitted = copy;
            &fitted
        } else if record.len() < file.width && run.pad_short {
            let n = file.width - record.len();
            let mut copy = record.clone();
            while copy.len() < file.width {
                copy.push_field(b"");
            }
            self.note = format!("padded {n} missing field(s)");
            fitted = copy;
            &fitted
        } else {
            record
        };
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
            self.reject(
                run, file, record, kind, &reason, line, row, &raw, NOT_READ, out,
            );
            return;
        }
        // The row's UTF-8 check (SIMD), unless its group's evaluation
        // checked it: rules read the text it gives.
        let text = match lane {
            Some((_, text)) => Ok(text),
            None => simdutf8::basic::from_utf8(record.bytes()),
        };
        let lane = lane.map(|(j, _)| j);
        let text = match text {
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
                self.reject(
                    run, file, record, kind, &reason, line, row, &raw, NOT_READ, out,
                );
                return;
            }
        };
        self.evaluate(run, file, record, text, line, row, global, out, stash, lane);
    }

    fn evaluate(
        &mut self,
        run: &RunCtx,
        file: &FileCtx,
        rec: &Record,
        text: &str,
        line: u64,
        row: u64,
        global: u64,
        out: &mut ChunkOut,
        mut stash: Option<&mut Stashed>,
        lane: Option<u8>,
    ) {
        let placeholders = &run.rules.placeholders;
        // A row evaluated with its group: its lane's memo and name parts,
        // and its verdict, ready.
        let lane = lane.map(usize::from);
        let (names, memo) = match lane {
            Some(j) => (&self.lanes.names[j], &self.lanes.memos[j]),
            None => {
                self.memo.reset();
                if file.name_parts {
                    let view = row_view(file, rec, text, &[], placeholders, &self.memo);
                    fill_name_parts(&mut self.names, file, &view);
                }
                (&self.names, &self.memo)
            }
        };
        let view = row_view(file, rec, text, names, placeholders, memo);
        let note = std::mem::take(&mut self.note);
        match self.decided.as_deref_mut() {
            None => match stash.as_deref_mut() {
                Some(s) if s.valid => {
                    std::mem::swap(&mut self.verdict, &mut s.verdict);
                    s.valid = false;
                }
                _ => match lane {
                    Some(j) => std::mem::swap(&mut self.verdict, &mut self.lanes.verdicts[j]),
                    None => run
                        .rules
                        .evaluate(&view, &mut self.scratch, &mut self.verdict),
                },
            },
            Some(d) => {
                let (s, v) = (&mut self.scratch, &mut self.verdict);
                run.rules.evaluate_traced(&view, s, v, &mut d.trace);
                d.verdict = Some(v.clone());
                d.fields = (0..run.rules.slots.len())
                    .map(|s| view.field(s).to_string())
                    .collect();
            }
        }
        let v = &self.verdict;
        let rules = run.rules;
        if v.outcome == Outcome::Unusable {
            let source = view.field(rules.source_slot).to_string();
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
                &source,
                out,
            );
            return;
        }
        let excluded = run.exclusions.and_then(|x| x.check(rules, &view));
        let today = if excluded.is_some() {
            Stage::Disqualified
        } else {
            v.stage()
        };
        let score: i64 = v.totals.iter().sum();
        let spec = &rules.dedup;
        let preset = run.preset.and_then(|p| p.get(global));
        // The keys pass has a group's keys from their own loop. Writing
        // after a first pass that noted each row's person works out only
        // a duplicate's keys (below), unless the state file wants them.
        let noted = match run.plan {
            Some(p) if run.pass == Pass::Write && run.history.is_none() && preset.is_none() => {
                p.index.rows_noted()
            }
            _ => false,
        };
        match lane {
            Some(j) if run.pass == Pass::Keys => self.keys.hash = self.lanes.keys[j],
            _ if noted => self.keys.clear(),
            _ if spec.enabled() => self.keys.compute(rules, &view, spec),
            _ => {}
        }
        if run.pass == Pass::Keys {
            out.facts.push(Fact {
                line,
                row: global,
                keys: self.keys.hash,
                rank: spec.rank(false, 0, 0),
                stage: Stage::Lead,
                score: 0,
                empty: 0,
            });
        }
        if run.pass == Pass::Facts {
            if spec.enabled() {
                let mut complete = 0;
                let mut empty = 0u64;
                for s in 0..rules.slots.len() {
                    if view.field(s).is_empty() {
                        if s < 64 {
                            empty |= 1 << s;
                        }
                    } else {
                        complete += 1;
                    }
                }
                let disq = today == Stage::Disqualified;
                out.facts.push(Fact {
                    line,
                    row: global,
                    keys: self.keys.hash,
                    rank: spec.rank(disq, dedup::ladder(today), complete),
                    stage: today,
                    score,
                    empty,
                });
            }
            return;
        }
        if run.pass == Pass::Fill {
            if let Some(plan) = run.plan {
                if let Decision::Drop { cluster, .. } = plan.index.decide(global, &self.keys.hash) {
                    let want = plan.index.best(cluster).empty;
                    for s in 0..rules.slots.len().min(64) {
                        if want & (1 << s) != 0 && fillable(file, s) {
                            let v = view.field(s);
                            if !v.is_empty() {
                                out.fills
                                    .push((dedup::fill_key(cluster, s), v.to_string(), line));
                            }
                        }
                    }
                }
            }
            return;
        }
        let mut cluster = None;
        let decision = match (preset, run.preset, run.plan) {
            (Some(d), _, _) => Some(d),
            (None, Some(_), _) => Some(Decision::Keep { cluster: None }),
            (None, None, Some(plan)) if noted => {
                Some(plan.index.decide_noted(global).unwrap_or_else(|| {
                    self.keys.compute(rules, &view, spec);
                    plan.index.decide(global, &self.keys.hash)
                }))
            }
            (None, None, Some(plan)) => Some(plan.index.decide(global, &self.keys.hash)),
            (None, None, None) => None,
        };
        if let Some(decision) = decision {
            match decision {
                Decision::Keep { cluster: c } => cluster = c,
                Decision::Drop { cluster, key, .. } => {
                    let (kept, names) = match (run.plan, run.preset) {
                        (Some(plan), _) => {
                            self.note_seen(run, plan, Some(cluster), out);
                            (Some(Kept::of(plan, cluster)), &plan.names[..])
                        }
                        (None, Some(p)) => (p.kept(global), p.names),
                        (None, None) => (None, &[][..]),
                    };
                    let Some(kept) = kept else {
                        unreachable!("a dropped row's kept row is known")
                    };
                    let found = Found {
                        key,
                        line,
                        row,
                        own: today,
                    };
                    duplicate(
                        &mut self.writers[DUPLICATES],
                        &mut self.text,
                        &self.keys,
                        run,
                        file,
                        rec,
                        &view,
                        names,
                        &kept,
                        &found,
                    );
                    let source = view.field(rules.source_slot);
                    if run.preset.is_some() {
                        // The keys pass counted the row as kept.
                        let list = excluded.as_ref().map(|hit| hit.list);
                        let v = &self.verdict;
                        out.tally(rules, v, list, today, score, source, true);
                    }
                    out.duplicates += 1;
                    out.sources.count(source, DUPLICATES);
                    return;
                }
            }
        }
        let standing = run.plan.map(|p| {
            let st = p.standing(cluster, today, score);
            self.note_seen(run, p, cluster, out);
            st
        });
        let stage = standing.map_or(today, |s| s.stage);
        if let (Some(h), Some(st)) = (run.history, standing) {
            let c = &mut out.changes;
            match st.change {
                Change::New => c.new += 1,
                Change::Changed => c.changed += 1,
                Change::Unchanged => c.unchanged += 1,
            }
            if let Some(p) = st.prior {
                let (was, now) = (dedup::ladder(p.stage), dedup::ladder(st.today));
                if st.held {
                    c.held += 1;
                } else if now > was {
                    c.moved_up += 1;
                } else if now < was && now > 0 {
                    c.moved_down += 1;
                } else {
                    c.stayed += 1;
                }
            }
            if h.only_changed && st.change == Change::Unchanged {
                c.not_written += 1;
                let (totals, source) = (&self.verdict.totals, view.field(rules.source_slot));
                out.tally_stage(rules, totals, stage, score, source, false);
                return;
            }
        }
        let v = &self.verdict;
        let list = excluded.as_ref().map(|hit| hit.list);
        let source = view.field(rules.source_slot);
        out.tally(rules, v, list, stage, score, source, false);
        let excluded = match (&excluded, run.exclusions) {
            (Some(hit), Some(x)) => Some(hit.reason(x)),
            _ => None,
        };
        let mut plain = reasons(run, v, excluded.as_deref(), &note, &mut self.text);
        if let Some(st) = standing.filter(|s| s.held) {
            plain = false;
            if !self.text.is_empty() {
                self.text.push_str("; ");
            }
            self.text.push_str(&format!(
                "held at {}: a {} since an earlier run, a {} on today's data (--allow-downgrade lets it move down)",
                st.stage.name(),
                st.stage.name(),
                st.today.name()
            ));
        }
        let filled = match (run.plan, cluster) {
            (Some(p), Some(c)) if spec.fill_empty => fills_for(p, c, file, rules.slots.len()),
            _ => Vec::new(),
        };
        for (n, (slot, f)) in filled.iter().enumerate() {
            plain = false;
            self.text
                .push_str(if self.text.is_empty() { "" } else { "; " });
            if n == 0 {
                self.text.push_str("filled from duplicates: ");
            }
            let p = run.plan.map_or("", |p| p.names[f.file].as_str());
            self.text.push_str(&format!(
                "{} from {p} line {}",
                rules.slots[*slot].label, f.line
            ));
        }
        if let Some(d) = self.decided.as_deref_mut() {
            d.reasons.clone_from(&self.text);
        }
        let w = &mut self.writers[stage.index()];
        if filled.is_empty() && run.rules.clean_write.is_empty() {
            write_inputs(w, run.sanitize, file, rec);
        } else {
            write_cleaned_inputs(w, run, file, rec, &view, &filled);
        }
        w.write_word(stage.name().as_bytes());
        for t in &v.totals {
            w.write_int(*t);
        }
        if let Some(g) = &rules.grades {
            w.write_field(g.grade(&v.totals));
        }
        let mut bant = *b"----";
        for (i, c) in b"BANT".iter().enumerate() {
            if v.marks & (1 << i) != 0 {
                bant[i] = *c;
            }
        }
        w.write_word(&bant);
        if plain {
            w.write_plain(self.text.as_bytes());
        } else {
            w.write_cell(self.text.as_bytes(), run.sanitize);
        }
        write_name(w, file, run.sanitize);
        w.write_int(line);
        w.write_int(row);
        if run.keep_long {
            w.write_cell(self.extra.as_bytes(), run.sanitize);
        }
        if let (Some(h), Some(st)) = (run.history, standing) {
            w.write_field(st.change.name());
            w.write_field(st.prior.map_or("", |p| p.stage.name()));
            let first = st.prior.map_or(h.as_of, |p| p.first_seen);
            w.write_field(first.to_string());
        }
        w.end_record();
        // Kept for `retract`, should the row turn out to be a duplicate.
        if let (Pass::Keys, Some(s)) = (run.pass, stash) {
            std::mem::swap(&mut self.verdict, &mut s.verdict);
            s.valid = true;
        }
    }

    /// With `--state`: records the row's keys as seen, with its person's
    /// stage and score as written.
    fn note_seen(&self, run: &RunCtx, plan: &Plan, cluster: Option<u32>, out: &mut ChunkOut) {
        if run.history.is_none() {
            return;
        }
        let Some(c) = cluster else { return };
        let best = plan.index.best(c);
        let st = plan.standing(Some(c), best.stage, best.score);
        let first_seen = st.prior.map(|p| p.first_seen);
        for (i, kind) in run.rules.dedup.keys.iter().enumerate() {
            if self.keys.hash[i] != 0 {
                out.seen.push(Seen {
                    hash: self.keys.hash[i],
                    kind: kind.name(),
                    key: self.keys.text[i].clone(),
                    stage: st.stage,
                    score: best.score,
                    first_seen,
                });
            }
        }
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
        source: &str,
        out: &mut ChunkOut,
    ) {
        if kind.malformed() && out.first_malformed.is_none() {
            out.first_malformed = Some((line, format!("{}: {reason}", kind.name())));
        }
        if run.pass == Pass::Facts {
            return;
        }
        if let Some(d) = self.decided.as_deref_mut() {
            d.reject = Some((kind, reason.to_string(), raw.to_string()));
        }
        out.stages[Stage::Rejected.index()] += 1;
        out.rejects[kind as usize] += 1;
        let malformed = kind.malformed();
        let source = if malformed { NOT_READ } else { source };
        out.sources.count(source, Stage::Rejected.index());
        let w = &mut self.writers[Stage::Rejected.index()];
        if malformed {
            for _ in &file.out_to_in {
                w.write_field(b"");
            }
        } else {
            write_inputs(w, run.sanitize, file, rec);
        }
        w.write_field(Stage::Rejected.name());
        w.write_field(kind.name());
        w.write_cell(reason.as_bytes(), run.sanitize);
        write_name(w, file, run.sanitize);
        w.write_int(line);
        w.write_int(row);
        w.write_cell(raw.as_bytes(), run.sanitize);
        w.end_record();
    }
}

/// The reasons column of a row the rules placed, into `out`: the
/// exclusion that disqualified it, every rule that fired (with its decayed
/// points), the reader's
/// note (padding, extra fields), and the totals a cap or floor changed.
/// (`Worker::evaluate` adds what only a whole run knows: a stage held by
/// `--state`, fields filled from duplicates.)
pub fn reasons(
    run: &RunCtx,
    v: &Verdict,
    excluded: Option<&str>,
    note: &str,
    out: &mut String,
) -> bool {
    out.clear();
    // Whether `out` is written as it is (see `output::plain_cell`): each
    // rule's entry is known to be; anything else is looked at.
    let mut plain = true;
    if let Some(x) = excluded {
        out.push_str(x);
        plain = false;
    }
    for &i in &v.fired {
        match v.decayed.iter().find(|(r, _)| *r == i) {
            Some(&(_, age)) => {
                if !out.is_empty() {
                    out.push_str("; ");
                }
                out.push_str(&decayed_label(run.rules, i, age));
                plain = false;
            }
            None => {
                let joined = run.labels[i].as_str();
                out.push_str(if out.is_empty() { &joined[2..] } else { joined });
                plain &= run.labels_plain[i];
            }
        }
    }
    if !note.is_empty() {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(note);
        plain = false;
    }
    for (g, group) in run.rules.groups.iter().enumerate() {
        if v.totals[g] != v.raw_totals[g] {
            let bound = if v.raw_totals[g] > v.totals[g] {
                "capped"
            } else {
                "floored"
            };
            out.push_str(&format!(
                "; {} {bound} at {} (was {})",
                group.name, v.totals[g], v.raw_totals[g]
            ));
            plain = false;
        }
    }
    plain
}

/// Whether a field slot has a column of its own in this file to fill.
fn fillable(file: &FileCtx, slot: usize) -> bool {
    matches!(
        file.binding.get(slot),
        Some(Bound::Column(_) | Bound::FirstOf(_))
    )
}

/// The fills found for a kept row's empty fields, by slot.
fn fills_for<'p>(
    plan: &'p Plan,
    cluster: u32,
    file: &FileCtx,
    slots: usize,
) -> Vec<(usize, &'p dedup::Fill)> {
    let empty = plan.index.best(cluster).empty;
    (0..slots.min(64))
        .filter(|&s| empty & (1 << s) != 0 && fillable(file, s))
        .filter_map(|s| plan.fills.get(&dedup::fill_key(cluster, s)).map(|f| (s, f)))
        .collect()
}

/// A dropped duplicate: the key it shares with its person's kept row,
/// and where the duplicate is.
struct Found {
    key: Option<usize>,
    line: u64,
    row: u64,
    own: Stage,
}

/// Writes a dropped duplicate with the key it matched and the row it
/// was merged into.
fn duplicate(
    w: &mut RowWriter,
    text: &mut String,
    keys: &KeyBuf,
    run: &RunCtx,
    file: &FileCtx,
    rec: &Record,
    view: &RowView,
    names: &[String],
    kept: &Kept,
    found: &Found,
) {
    let Found {
        key,
        line,
        row,
        own,
    } = *found;
    let spec = &run.rules.dedup;
    let b = kept;
    let (kind, value) = match key {
        Some(i) => (spec.keys[i].name(), keys.text[i].as_str()),
        None => {
            let i = (0..3).find(|&i| keys.hash[i] != 0).unwrap_or(0);
            ("linked", keys.text[i].as_str())
        }
    };
    text.clear();
    match key {
        Some(i) => text.push_str(&format!(
            "same {} as the kept row",
            spec.keys[i].name()
        )),
        None => text.push_str(
            "the same person as the kept row through other rows (no key in common with it directly)",
        ),
    }
    let why = if b.stage == Stage::Disqualified
        && own != Stage::Disqualified
        && spec.keep.contains(&dedup::Criterion::Disqualified)
    {
        "the kept row is disqualified, and a disqualification holds for the person".to_string()
    } else if dedup::ladder(b.stage) != dedup::ladder(own)
        && spec.keep.contains(&dedup::Criterion::Stage)
    {
        format!(
            "the kept row reaches {}, this one {}",
            b.stage.name(),
            own.name()
        )
    } else {
        let complete = (0..run.rules.slots.len())
            .filter(|&s| !view.field(s).is_empty())
            .count();
        match spec.order {
            dedup::Order::First if spec.keep.contains(&dedup::Criterion::Complete) => format!(
                "the kept row is as good or more complete (this one has {complete} fields filled) or comes first"
            ),
            dedup::Order::Last if spec.keep.contains(&dedup::Criterion::Complete) => format!(
                "the kept row is as good or more complete (this one has {complete} fields filled) or comes later"
            ),
            dedup::Order::First => "the kept row comes first".to_string(),
            dedup::Order::Last => "the kept row comes later".to_string(),
        }
    };
    text.push_str("; ");
    text.push_str(&why);
    if run.rules.clean_write.is_empty() {
        write_inputs(w, run.sanitize, file, rec);
    } else {
        write_cleaned_inputs(w, run, file, rec, view, &[]);
    }
    w.write_field("duplicate");
    w.write_field(kind);
    w.write_cell(value.as_bytes(), run.sanitize);
    w.write_cell(names[b.file].as_bytes(), run.sanitize);
    w.write_int(b.line);
    w.write_int(b.row);
    w.write_cell(text.as_bytes(), run.sanitize);
    write_name(w, file, run.sanitize);
    w.write_int(line);
    w.write_int(row);
    w.end_record();
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

fn write_inputs(w: &mut RowWriter, sanitize_cells: bool, file: &FileCtx, rec: &Record) {
    // The usual case: the output's input columns are the file's, in its
    // order, and the row has all of them.
    let spans = rec.spans();
    if file.same_columns && rec.fields == file.out_to_in.len() {
        if rec.verbatim == Some(w.delimiter()) {
            let v = crate::output::Verbatim {
                data: &rec.data,
                line_len: rec.line_len,
                spans,
                maybe_risky: rec.maybe_risky,
            };
            w.write_verbatim(v, sanitize_cells);
        } else {
            w.write_fields(&rec.data, spans, sanitize_cells);
        }
        return;
    }
    for col in &file.out_to_in {
        let v = col.and_then(|c| rec.get(c)).unwrap_or(b"");
        w.write_cell(v, sanitize_cells);
    }
}

/// The input's name, in the column that names each row's file.
fn write_name(w: &mut RowWriter, file: &FileCtx, sanitize: bool) {
    if file.name_plain {
        w.write_plain(file.name.as_bytes());
    } else {
        w.write_cell(file.name.as_bytes(), sanitize);
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
        spans: rec.spans(),
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

/// The input columns with `[clean] write` applied (cleaned values where
/// they can be cleaned, the rest as read) and, for a kept row, its empty
/// fields filled from its duplicates (into the field's first column).
fn write_cleaned_inputs(
    w: &mut RowWriter,
    run: &RunCtx,
    file: &FileCtx,
    rec: &Record,
    view: &RowView,
    filled: &[(usize, &dedup::Fill)],
) {
    let rules = run.rules;
    let region = || {
        let country = rules.country_slot.map_or("", |s| view.field(s));
        derive::region(country, rules.phone_region.as_deref())
    };
    let fill = |col: usize| {
        filled.iter().find_map(|(slot, f)| {
            let first = match file.binding.get(*slot) {
                Some(Bound::Column(c)) => Some(*c),
                Some(Bound::FirstOf(cs)) => cs.first().copied(),
                _ => None,
            };
            (first == Some(col)).then_some(f.value.as_str())
        })
    };
    for col in &file.out_to_in {
        if let Some(f) = col.and_then(fill) {
            w.write_cell(f.as_bytes(), run.sanitize);
            continue;
        }
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
            Some(c) => w.write_cell(c.as_bytes(), run.sanitize),
            None => w.write_cell(v, run.sanitize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(out: u8, start: usize, end: usize) -> Mark {
        Mark { out, start, end }
    }

    #[test]
    fn score_counts_agree_with_a_map_near_and_far() {
        use std::collections::BTreeMap;
        let mut counts = ScoreCounts::default();
        let mut want: BTreeMap<i64, u64> = BTreeMap::new();
        let mut rng = crate::testing::Rng::new(7);
        let mut added = Vec::new();
        for step in 0..20_000 {
            // Both ends of the array, outside it on both sides, and far.
            let score = match rng.next() % 5 {
                0 => ScoreCounts::LOW + (rng.next() % 3) as i64 - 1,
                1 => ScoreCounts::LOW + ScoreCounts::SPAN as i64 - 2 + (rng.next() % 3) as i64,
                2 => (rng.next() % 2_000_000) as i64 - 1_000_000,
                _ => (rng.next() % 200) as i64 - 60,
            };
            if step % 3 == 2 && !added.is_empty() {
                let s = added.swap_remove((rng.next() % added.len() as u64) as usize);
                counts.take_back(s);
                let n = want.get_mut(&s).unwrap();
                *n -= 1;
                if *n == 0 {
                    want.remove(&s);
                }
            } else {
                counts.add(score);
                added.push(score);
                *want.entry(score).or_default() += 1;
            }
        }
        let got: BTreeMap<i64, u64> = counts.iter().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sources_group_spellings_ignoring_case() {
        let mut s = SourceCounts::default();
        for i in 0..40 {
            s.count(&format!("Source {i}"), 0);
        }
        s.count("SOURCE 3", 1);
        s.count("source 30", 2);
        s.count("Source 30", 2);
        assert_eq!(s.rows.len(), 40);
        assert_eq!(s.rows[3], ("Source 3".to_string(), [1, 1, 0, 0, 0, 0]));
        assert_eq!(s.rows[30], ("Source 30".to_string(), [1, 0, 2, 0, 0, 0]));
        // Spellings that share a cache entry take turns in it.
        for v in ["Abc", "Acc", "Abc", "ABC", "Acc"] {
            s.count(v, 4);
        }
        assert_eq!(s.rows[40], ("Abc".to_string(), [0, 0, 0, 0, 3, 0]));
        assert_eq!(s.rows[41], ("Acc".to_string(), [0, 0, 0, 0, 2, 0]));
    }

    #[test]
    fn a_chunk_on_spare_buffers_starts_empty_and_keeps_their_room() {
        let mut used = ChunkOut::new(2);
        used.bytes[0] = vec![b'x'; 1000];
        used.bytes[5] = vec![b'y'; 10];
        used.marks.push(mark(0, 0, 2));
        used.stages[1] = 3;
        used.hits[1] = 4;
        used.duplicates = 5;
        let fresh = ChunkOut::with_spare(2, used.into_spare());
        assert!(fresh.bytes.iter().all(Vec::is_empty));
        assert!(fresh.bytes[0].capacity() >= 1000);
        assert!(fresh.marks.is_empty() && fresh.facts.is_empty());
        assert_eq!((fresh.stages, fresh.duplicates), ([0; 5], 0));
        assert_eq!(fresh.hits, [0, 0]);
    }

    /// Three records in output 1 ("a\n", "bb\n", "c\n") and one in
    /// output 0; taking records out, by moving bytes (JSON Lines) or by
    /// skipping them (the writer), leaves the same bytes.
    #[test]
    fn retracted_records_are_left_out() {
        let rows = b"a\nbb\nc\n";
        let cases: [(&[Mark], &[u8]); 5] = [
            (&[], b"a\nbb\nc\n"),
            (&[mark(1, 0, 2)], b"bb\nc\n"),
            (&[mark(1, 2, 5)], b"a\nc\n"),
            (&[mark(0, 0, 2), mark(1, 5, 7)], b"a\nbb\n"),
            (&[mark(1, 0, 2), mark(1, 2, 5), mark(1, 5, 7)], b""),
        ];
        for (holes, want) in cases {
            let mut out = ChunkOut::new(0);
            out.bytes[0] = b"x\n".to_vec();
            out.bytes[1] = rows.to_vec();
            out.marks = holes.to_vec();
            let skipped: Vec<u8> = out.pieces(1).flatten().copied().collect();
            assert_eq!(skipped, want, "{holes:?}");
            let mut moved = rows.to_vec();
            cut_out(&mut moved, holes.iter().filter(|h| h.out == 1));
            assert_eq!(moved, want, "{holes:?}");
            let zero: Vec<u8> = out.pieces(0).flatten().copied().collect();
            let kept = if holes.iter().any(|h| h.out == 0) {
                &b""[..]
            } else {
                b"x\n"
            };
            assert_eq!(zero, kept);
        }
    }
}
