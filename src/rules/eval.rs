//! Evaluating compiled rules on one row: a pure function of the row, the
//! rules and the column binding, writing into a reusable [`Verdict`].
//!
//! Semantics (documented in RULES.md): cells are trimmed; text tests ignore
//! case; a comparison with an empty or unreadable value is false; rules are
//! evaluated in file order and all of them run, so that the reasons column
//! lists every rule that fired; caps apply after all rules; disqualification
//! outranks every stage.

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::derive::{self, Derived, Memo};
use super::expr::CmpOp;
use super::program::{list_value, Op, Then};
use super::trace::{NoTrace, Part, Seen, Trace, Tracer};
use super::value::{eq_folded, lower_into, read_number_in};
use super::{Compiled, Stage};
use crate::clean::date::{self, DateOrder};
use crate::input::{Bound, Record};

#[derive(Debug, Clone)]
pub enum Finder {
    /// An ASCII word, searched for ignoring ASCII case.
    Ascii(Box<AhoCorasick>, String),
    Folded(String),
}

/// A text value.
#[derive(Debug, Clone)]
pub enum TextX {
    Field(usize),
    /// The part after the last `@`.
    Domain(Box<TextX>),
    /// A literal, already trimmed and lowercased.
    Lit(String),
    /// A cleaned or derived value (`Compiled::derived`), computed once per
    /// row on first use.
    Derived(usize),
}

/// A number value.
#[derive(Debug, Clone)]
pub enum NumX {
    Lit(f64),
    Read(TextX),
    Length(TextX),
    Digits(TextX),
    Group(usize),
    Total,
    MarkCount,
    /// Days from the date in a text to `--as-of`, with the field's order
    /// for numeric dates (else the run's).
    DaysSince(TextX, Option<DateOrder>),
    /// A number read more than once per row, remembered (see `memo`).
    Memo(u32, Box<NumX>),
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    Const(bool),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Num(NumX, CmpOp, NumX),
    Text(TextX, CmpOp, TextX),
    Contains(TextX, Finder),
    StartsWith(TextX, String),
    EndsWith(TextX, String),
    Matches(TextX, Box<Regex>),
    InList(TextX, usize),
    Empty(TextX),
    Marked(u8),
    /// A condition that appears more than once, remembered for the row
    /// (see `memo`).
    Memo(u32, Box<Cond>),
    /// `Matches`, answered by pattern `.3` of the regular-expression set
    /// `.2` over the same value.
    MatchesIn(TextX, Box<Regex>, u32, u32),
    /// `Contains` with an ASCII word, answered by word `.3` of the word
    /// search `.2` over the same value.
    ContainsIn(TextX, Finder, u32, u32),
}

/// One row as the rules see it: a record whose fields are valid UTF-8,
/// and for each field slot of the rules, where its value comes from.
pub struct RowView<'a> {
    /// The bytes the record's fields lie in, as text (checked once per
    /// row).
    pub text: &'a str,
    /// Field `k` is `text[spans[2k]..spans[2k + 1]]`.
    pub spans: &'a [u32],
    pub binding: &'a [Bound],
    /// Values of slots bound to a part of a full name, worked out per row.
    pub names: &'a [String],
    /// Values that count as empty (`#N/A`, `-None-`, ...).
    pub placeholders: &'a [String],
    /// The row's derived values, computed on first use.
    pub memo: &'a Memo,
    /// Numbers are written with a decimal comma (a `;`-delimited file).
    pub decimal_comma: bool,
}

impl<'a> RowView<'a> {
    /// A view of `record`; `None` when its fields are not valid UTF-8.
    pub fn new(
        record: &'a Record,
        binding: &'a [Bound],
        names: &'a [String],
        placeholders: &'a [String],
        memo: &'a Memo,
    ) -> Option<Self> {
        let text = simdutf8::basic::from_utf8(record.bytes()).ok()?;
        Some(RowView {
            text,
            spans: record.spans(),
            binding,
            names,
            placeholders,
            memo,
            decimal_comma: false,
        })
    }

    /// A column's value, trimmed, with placeholders read as empty.
    pub fn cell(&self, c: usize) -> &'a str {
        let Some(span) = self.spans.get(2 * c..2 * c + 2) else {
            return "";
        };
        let v = trim(
            self.text
                .get(span[0] as usize..span[1] as usize)
                .unwrap_or(""),
        );
        if self.is_placeholder(v.as_bytes()) {
            return "";
        }
        v
    }

    /// Whether a (trimmed) value is one of the rules' placeholders.
    #[inline]
    fn is_placeholder(&self, v: &[u8]) -> bool {
        !v.is_empty()
            && self
                .placeholders
                .iter()
                .any(|p| p.as_bytes().eq_ignore_ascii_case(v))
    }

    /// The value of a field slot on this row: trimmed, placeholders empty,
    /// the first non-empty of several columns.
    #[inline]
    pub fn field(&self, slot: usize) -> &'a str {
        match self.memo.field_span(slot) {
            Some((s, e)) => self.text.get(s as usize..e as usize).unwrap_or(""),
            None => self.field_first(slot),
        }
    }

    /// [`RowView::field`] on the row's first read of `slot`: worked out
    /// and remembered (kept out of line, so that the remembered case
    /// inlines small).
    #[inline(never)]
    fn field_first(&self, slot: usize) -> &'a str {
        let v = self.field_uncached(slot);
        if matches!(
            self.binding.get(slot),
            Some(Bound::Column(_) | Bound::FirstOf(_))
        ) {
            let off = (v.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
            if v.is_empty() {
                self.memo.set_field_span(slot, (0, 0));
            } else if off <= self.text.len() && v.len() <= self.text.len() - off {
                self.memo
                    .set_field_span(slot, (off as u32, (off + v.len()) as u32));
            }
        }
        v
    }

    /// Works out the value of every slot bound to one column at once,
    /// for rows whose rules read most of their fields: one tight loop
    /// instead of a lookup, a trim and a memo entry at each field's first
    /// read (a third of the instructions those took on the reference
    /// rules). The values are those [`RowView::field`] gives.
    pub fn fill_fields(&self) {
        let bytes = self.text.as_bytes();
        for (slot, b) in self.binding.iter().enumerate() {
            let Bound::Column(c) = *b else {
                continue;
            };
            let (start, end) = match self.spans.get(2 * c..2 * c + 2) {
                Some(s) => (s[0] as usize, s[1] as usize),
                None => (0, 0),
            };
            let span = match bytes.get(start..end) {
                Some(v) if trimmed(v) => {
                    if self.is_placeholder(v) {
                        (0, 0)
                    } else {
                        (start, end)
                    }
                }
                // Whitespace at an end, or not ASCII there: the general way.
                Some(_) => {
                    self.field(slot);
                    continue;
                }
                None => (0, 0),
            };
            self.memo
                .set_field_span(slot, (span.0 as u32, span.1 as u32));
        }
    }

    fn field_uncached(&self, slot: usize) -> &'a str {
        match self.binding.get(slot) {
            None | Some(Bound::Missing) => "",
            Some(Bound::Column(c)) => self.cell(*c),
            Some(Bound::FirstOf(cols)) => cols
                .iter()
                .map(|&c| self.cell(c))
                .find(|v| !v.is_empty())
                .unwrap_or(""),
            Some(Bound::NamePart { .. }) => self.names.get(slot).map_or("", |n| n.as_str()),
        }
    }
}

/// What follows the last `@`, trimmed; `""` without one.
#[inline]
fn after_at(v: &str) -> &str {
    match memchr::memrchr(b'@', v.as_bytes()) {
        // `@` is ASCII: the byte after it starts a character.
        Some(i) => v[i + 1..].trim(),
        None => "",
    }
}

/// Where the rules that fire on lanes go: each row's verdict, and the
/// first rule that disqualifies it.
type Fired<'a> = (&'a mut [Verdict], &'a mut [Option<usize>; Compiled::LANES]);

/// Moves the lanes of `active` that are also in `lanes` to operation
/// `to`, where they rejoin the others (a jump taken by those rows).
#[inline]
fn divert(pending: &mut [u64], active: &mut u64, lanes: u64, to: u32) {
    let jump = *active & lanes;
    pending[to as usize] |= jump;
    *active &= !jump;
}

/// The lanes (bit indexes) set in `mask`, lowest first.
#[inline]
fn lanes_of(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let r = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(r)
    })
}

/// `str::trim`, without its character-by-character scan when the value
/// starts and ends with ASCII that is not whitespace (most values).
#[inline]
fn trim(v: &str) -> &str {
    if trimmed(v.as_bytes()) {
        v
    } else {
        v.trim()
    }
}

/// Whether `str::trim` would leave `v` as it is, known from its first and
/// last bytes alone: empty, or ASCII that is not whitespace at both ends.
#[inline]
fn trimmed(v: &[u8]) -> bool {
    let plain = |b: u8| b > b' ' && b < 0x80;
    match v {
        [] => true,
        [f, .., l] => plain(*f) && plain(*l),
        [f] => plain(*f),
    }
}

/// Reusable buffers, one per worker thread.
#[derive(Default)]
pub struct Scratch {
    a: String,
    b: String,
    /// Lanes waiting at each operation of the program (see
    /// [`Compiled::evaluate_many`]); all zero between runs.
    pending: Vec<u64>,
    /// The remembered conditions of the rows evaluated together: which
    /// lanes know each, and which of those hold it.
    known: Vec<u64>,
    held: Vec<u64>,
    /// Search caches of the regular-expression sets of plan `caches_for`.
    caches: Vec<regex_automata::meta::Cache>,
    caches_for: u64,
}

impl Scratch {
    /// The search caches of `plan`'s sets, made on first use.
    fn set_caches(&mut self, plan: &super::memo::Plan) -> &mut [regex_automata::meta::Cache] {
        if self.caches_for != plan.id {
            self.caches = plan.sets.iter().map(|s| s.create_cache()).collect();
            self.caches_for = plan.id;
        }
        &mut self.caches
    }
}

/// Where a row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not usable (the `[usable]` condition failed).
    Unusable,
    /// Disqualified by the rule at this index.
    Disqualified(usize),
    Staged(Stage),
}

/// The result of evaluating one row. Reused across rows.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub outcome: Outcome,
    /// Points per group, after caps.
    pub totals: Vec<i64>,
    /// Points per group, before caps.
    pub raw_totals: Vec<i64>,
    pub marks: u8,
    /// Indexes of the rules that fired, in file order.
    pub fired: Vec<usize>,
    /// Fired rules with `decay`: the rule and the age in days of its date
    /// (`None`: no readable date, so no points).
    pub decayed: Vec<(usize, Option<i64>)>,
}

impl Verdict {
    pub fn new(groups: usize) -> Self {
        Verdict {
            outcome: Outcome::Unusable,
            totals: vec![0; groups],
            raw_totals: vec![0; groups],
            marks: 0,
            fired: Vec::new(),
            decayed: Vec::new(),
        }
    }

    /// Ready for the next row: nothing fired, no points.
    pub fn clear(&mut self) {
        self.fired.clear();
        self.decayed.clear();
        self.marks = 0;
        self.totals.iter_mut().for_each(|t| *t = 0);
        self.raw_totals.iter_mut().for_each(|t| *t = 0);
    }

    pub fn stage(&self) -> Stage {
        match self.outcome {
            Outcome::Unusable => Stage::Rejected,
            Outcome::Disqualified(_) => Stage::Disqualified,
            Outcome::Staged(s) => s,
        }
    }
}

impl Compiled {
    /// Evaluates every rule on one row.
    pub fn evaluate(&self, row: &RowView, scratch: &mut Scratch, v: &mut Verdict) {
        self.evaluate_with(row, scratch, v, &mut NoTrace);
    }

    /// [`Compiled::evaluate`], recording every condition evaluated and
    /// the values it read into `trace` (cleared first). The same code
    /// path as the run's, so the two cannot disagree.
    pub fn evaluate_traced(
        &self,
        row: &RowView,
        scratch: &mut Scratch,
        v: &mut Verdict,
        trace: &mut Trace,
    ) {
        trace.clear();
        self.evaluate_with(row, scratch, v, trace);
    }

    #[inline]
    fn evaluate_with<T: Tracer>(
        &self,
        row: &RowView,
        scratch: &mut Scratch,
        v: &mut Verdict,
        t: &mut T,
    ) {
        v.clear();
        let ev = Eval {
            rules: self,
            row,
            verdict: None,
        };
        // The flat program when nothing is traced (see `program`); the
        // tree of conditions as written when something is.
        let prog = &self.program;
        let flat = !T::ON && prog.rules.len() == self.rules.len();
        if let Some((usable, _, _)) = &self.usable {
            t.begin(Part::Usable);
            let ok = match prog.usable {
                Some((pc, end)) if flat => ev.run(pc, end, scratch, None),
                _ => ev.cond(usable, scratch, t),
            };
            if !ok {
                v.outcome = Outcome::Unusable;
                return;
            }
        }
        let mut disqualified = None;
        if flat {
            let (start, end) = prog.rules_code;
            ev.run(start, end, scratch, Some((v, &mut disqualified)));
        } else {
            for (i, rule) in self.rules.iter().enumerate() {
                t.begin(Part::Rule(i));
                if ev.cond(&rule.when, scratch, t) {
                    v.fired.push(i);
                    self.fire(i, row, v, &mut disqualified);
                }
            }
        }
        self.conclude(row, scratch, v, disqualified, t);
    }

    /// Rows evaluated together by [`Compiled::evaluate_many`].
    pub const LANES: usize = 64;

    /// [`Compiled::evaluate`] on each row of `rows` into the verdict of
    /// the same index, with the same results. The program runs once per
    /// [`Compiled::LANES`] rows, operation by operation over all of them
    /// (each row with its own memo): an operation's dispatch, and the
    /// branches of its test, repeat for the rows instead of changing at
    /// every operation, which is what a row-by-row walk of a program of
    /// hundreds of rules pays for.
    ///
    /// Each lane is one bit of a `u64`: `and`/`or` jumps move the lanes
    /// whose result decides to the jump's target, where they rejoin the
    /// lanes that went through (jumps only go forward).
    pub fn evaluate_many(&self, rows: &[RowView], scratch: &mut Scratch, out: &mut [Verdict]) {
        assert_eq!(rows.len(), out.len(), "one verdict per row");
        if self.program.rules.len() != self.rules.len() {
            for (row, v) in rows.iter().zip(out.iter_mut()) {
                self.evaluate(row, scratch, v);
            }
            return;
        }
        for (rows, out) in rows.chunks(Self::LANES).zip(out.chunks_mut(Self::LANES)) {
            self.evaluate_lanes(rows, scratch, out);
        }
    }

    fn evaluate_lanes(&self, rows: &[RowView], s: &mut Scratch, out: &mut [Verdict]) {
        let all = u64::MAX >> (64 - rows.len());
        out.iter_mut().for_each(Verdict::clear);
        let conds = self.memo.conds;
        for m in [&mut s.known, &mut s.held] {
            m.clear();
            m.resize(conds, 0);
        }
        let prog = &self.program;
        let usable = match (&self.usable, prog.usable) {
            (Some(_), Some((pc, end))) => self.run_lanes(rows, pc, end, all, s, None),
            _ => all,
        };
        let mut disqualified = [None; Self::LANES];
        let (start, end) = prog.rules_code;
        if usable != 0 {
            self.run_lanes(rows, start, end, usable, s, Some((out, &mut disqualified)));
        }
        // The stages, evaluated row by row, read some remembered
        // conditions: handed to the rows' memos, they are not worked out
        // again (a memo is only a cache: without this the answers would
        // be the same).
        for &id in &prog.stage_memos {
            let (known, held) = (s.known[id as usize], s.held[id as usize]);
            for r in lanes_of(known) {
                rows[r].memo.cond_store(id, held & (1 << r) != 0);
            }
        }
        for (r, (row, v)) in rows.iter().zip(out.iter_mut()).enumerate() {
            if usable & (1 << r) == 0 {
                v.outcome = Outcome::Unusable;
            } else {
                self.conclude(row, s, v, disqualified[r], &mut NoTrace);
            }
        }
    }

    /// The program from `pc` to `end` on the lanes of `start` (one bit
    /// per row of `rows`); returns the lanes where it ends true. The rules
    /// that fire go into `fired` (the verdicts, and the first rule that
    /// disqualifies on each row).
    fn run_lanes(
        &self,
        rows: &[RowView],
        pc: u32,
        end: u32,
        start: u64,
        s: &mut Scratch,
        mut fired: Option<Fired>,
    ) -> u64 {
        let prog = &self.program;
        let mut pending = std::mem::take(&mut s.pending);
        if pending.len() <= prog.ops.len() {
            pending.resize(prog.ops.len() + 1, 0);
        }
        let (mut active, mut acc) = (start, 0u64);
        let fire = |lanes: u64, i: u32, fired: &mut Option<Fired>| {
            if let Some((vs, dq)) = fired.as_mut() {
                for r in lanes_of(lanes) {
                    self.fire_hot(i, &rows[r], &mut vs[r], &mut dq[r]);
                }
            }
        };
        for pc in pc..end {
            active |= std::mem::take(&mut pending[pc as usize]);
            if active == 0 {
                continue;
            }
            let op = prog.ops[pc as usize];
            match op {
                Op::Fire(i) => fire(acc & active, i, &mut fired),
                Op::Const(b) => acc = if b { acc | active } else { acc & !active },
                Op::Not => acc ^= active,
                Op::JumpIfFalse(to) => divert(&mut pending, &mut active, !acc, to),
                Op::JumpIfTrue(to) => divert(&mut pending, &mut active, acc, to),
                Op::MemoLoad(id, to) => {
                    let known = s.known[id as usize] & active;
                    acc = (acc & !known) | (s.held[id as usize] & known);
                    divert(&mut pending, &mut active, known, to);
                }
                Op::MemoStore(id) => {
                    let (known, held) = (&mut s.known[id as usize], &mut s.held[id as usize]);
                    *known |= active;
                    *held = (*held & !active) | (acc & active);
                }
                _ => {
                    // The test on each active lane. The loop is written out
                    // once for each kind of test, so that its kind is
                    // matched once for the lanes, not once a lane (in each
                    // arm `op`'s kind is known, and the inlined `test_op`
                    // keeps only that kind's code).
                    macro_rules! each_lane {
                        () => {{
                            let mut held = 0u64;
                            for r in lanes_of(active) {
                                let ev = Eval {
                                    rules: self,
                                    row: &rows[r],
                                    verdict: None,
                                };
                                held |= u64::from(ev.test_op(op, s)) << r;
                            }
                            held
                        }};
                    }
                    let held = match op {
                        Op::ListHit { .. } => each_lane!(),
                        Op::SetHit { .. } => each_lane!(),
                        Op::NumLit { .. } => each_lane!(),
                        Op::Leaf(_) => each_lane!(),
                        _ => each_lane!(),
                    };
                    acc = (acc & !active) | held;
                }
            }
            match prog.then[pc as usize] {
                Then::Next => {}
                Then::IfFalse(to) => divert(&mut pending, &mut active, !acc, to),
                Then::IfTrue(to) => divert(&mut pending, &mut active, acc, to),
                Then::Fire(i) => fire(acc & active, i, &mut fired),
            }
        }
        active |= std::mem::take(&mut pending[end as usize]);
        s.pending = pending;
        acc & active
    }

    /// Rule `i` fired on `row`: its points and marks into `v`, by the
    /// program's copy of them unless it decays or disqualifies.
    #[inline]
    fn fire_hot(&self, i: u32, row: &RowView, v: &mut Verdict, disqualified: &mut Option<usize>) {
        let hot = &self.program.rules[i as usize];
        v.fired.push(i as usize);
        if hot.special {
            self.fire(i as usize, row, v, disqualified);
        } else {
            let (a, n) = (hot.first as usize, hot.len as usize);
            for &(g, p) in &self.program.points[a..a + n] {
                v.raw_totals[g as usize] += p;
            }
            v.marks |= hot.marks;
        }
    }

    /// What follows the rules: caps, disqualification, the stage.
    fn conclude<T: Tracer>(
        &self,
        row: &RowView,
        scratch: &mut Scratch,
        v: &mut Verdict,
        disqualified: Option<usize>,
        t: &mut T,
    ) {
        for (g, group) in self.groups.iter().enumerate() {
            v.totals[g] = group.bound(v.raw_totals[g]);
        }
        if let Some(i) = disqualified {
            v.outcome = Outcome::Disqualified(i);
            return;
        }
        let ev = Eval {
            rules: self,
            row,
            verdict: Some(v),
        };
        let mut stage = Stage::Lead;
        for (i, candidate) in [Stage::Opportunity, Stage::Prospect]
            .into_iter()
            .enumerate()
        {
            if let Some(c) = &self.stages[i].0 {
                t.begin(Part::Stage(candidate));
                if ev.cond(c, scratch, t) {
                    stage = candidate;
                    break;
                }
            }
        }
        v.outcome = Outcome::Staged(stage);
    }

    /// What rule `i` firing does to the verdict: its points (decayed by
    /// their date's age, if it decays), its marks, and the first
    /// disqualifying rule.
    fn fire(&self, i: usize, row: &RowView, v: &mut Verdict, disqualified: &mut Option<usize>) {
        let rule = &self.rules[i];
        if let Some(d) = &rule.decay {
            let age = date::parse(row.field(d.slot), d.order.or(self.date_order))
                .map(|at| date::days_between(at, self.as_of));
            v.decayed.push((i, age));
            for &(g, p) in &rule.points {
                v.raw_totals[g] += decayed_points(p, age, d.half_life);
            }
        } else {
            for &(g, p) in &rule.points {
                v.raw_totals[g] += p;
            }
        }
        v.marks |= rule.marks;
        if rule.disqualify.is_some() && disqualified.is_none() {
            *disqualified = Some(i);
        }
    }

    /// Whether one condition holds on a row, with the groups and marks of a
    /// finished verdict (for stage conditions).
    pub fn holds(
        &self,
        cond: &Cond,
        row: &RowView,
        verdict: Option<&Verdict>,
        scratch: &mut Scratch,
    ) -> bool {
        Eval {
            rules: self,
            row,
            verdict,
        }
        .cond(cond, scratch, &mut NoTrace)
    }

    /// The derived value `i` (a cleaning call) of a row, computed on first
    /// use and shared with the rules through the row's memo.
    pub fn derived_value<'r>(&'r self, row: &'r RowView<'r>, i: usize) -> &'r str {
        Eval {
            rules: self,
            row,
            verdict: None,
        }
        .derived(i)
    }

    /// The text a field slot holds on a row (trimmed), for explanations.
    pub fn field_value<'r>(&self, row: &'r RowView, slot: usize) -> &'r str {
        row.field(slot)
    }
}

impl super::Group {
    /// A group's total with its cap and floor applied.
    pub fn bound(&self, raw: i64) -> i64 {
        let mut t = raw;
        if let Some(c) = self.cap {
            t = t.min(c);
        }
        if let Some(f) = self.floor {
            t = t.max(f);
        }
        t
    }
}

/// `points` halved every `half_life` days of `age`, rounded half away from
/// zero; all of them for a date in the future, none without a date.
pub fn decayed_points(points: i64, age: Option<i64>, half_life: i64) -> i64 {
    match age {
        None => 0,
        Some(a) if a <= 0 => points,
        Some(a) => (points as f64 * 0.5f64.powf(a as f64 / half_life as f64)).round() as i64,
    }
}

struct Eval<'e> {
    rules: &'e Compiled,
    row: &'e RowView<'e>,
    verdict: Option<&'e Verdict>,
}

impl<'e> Eval<'e> {
    fn cond<T: Tracer>(&self, c: &Cond, s: &mut Scratch, t: &mut T) -> bool {
        t.enter();
        let held = self.test(c, s, t);
        t.leave(held);
        held
    }

    /// Rule `i` fires when its condition `held` and the run collects
    /// firings (`fired`): into the verdict, by the program's copy of its
    /// points and marks unless it decays or disqualifies.
    #[inline]
    fn fire_if(&self, held: bool, i: u32, fired: &mut Option<(&mut Verdict, &mut Option<usize>)>) {
        if let (true, Some((v, disqualified))) = (held, fired.as_mut()) {
            self.rules.fire_hot(i, self.row, v, disqualified);
        }
    }

    /// Runs the program from `pc` to `end` (see `program`); the rules that
    /// fire on the way go into `fired` (the verdict, and the first rule
    /// that disqualifies).
    fn run(
        &self,
        mut pc: u32,
        end: u32,
        s: &mut Scratch,
        mut fired: Option<(&mut Verdict, &mut Option<usize>)>,
    ) -> bool {
        let prog = &self.rules.program;
        let memo = self.row.memo;
        let mut acc = false;
        while pc < end {
            match prog.ops[pc as usize] {
                Op::Fire(i) => self.fire_if(acc, i, &mut fired),
                Op::Const(b) => acc = b,
                Op::Not => acc = !acc,
                Op::JumpIfFalse(to) => {
                    if !acc {
                        pc = to;
                        continue;
                    }
                }
                Op::JumpIfTrue(to) => {
                    if acc {
                        pc = to;
                        continue;
                    }
                }
                Op::MemoLoad(id, to) => {
                    if let Some(known) = memo.cond_known(id) {
                        acc = known;
                        pc = to;
                        continue;
                    }
                }
                Op::MemoStore(id) => memo.cond_store(id, acc),
                op => acc = self.test_op(op, s),
            }
            pc = match prog.then[pc as usize] {
                Then::IfFalse(to) if !acc => to,
                Then::IfTrue(to) if acc => to,
                Then::Fire(i) => {
                    self.fire_if(acc, i, &mut fired);
                    pc + 1
                }
                _ => pc + 1,
            };
        }
        acc
    }

    /// The answer of an operation that tests the row (not a jump, `not`,
    /// a constant, a memo load or store, or a firing).
    #[inline(always)]
    fn test_op(&self, op: Op, s: &mut Scratch) -> bool {
        let prog = &self.rules.program;
        let memo = self.row.memo;
        let leaf = |i: u32, s: &mut Scratch| self.leaf(&prog.leaves[i as usize], s, &mut NoTrace);
        match op {
            Op::Empty { slot } => self.row.field(slot as usize).is_empty(),
            Op::Present { slot } => !self.row.field(slot as usize).is_empty(),
            Op::TextIs { slot, text, eq } => {
                let x = self.row.field(slot as usize);
                !x.is_empty() && eq_folded(x, &prog.texts[text as usize]) == eq
            }
            Op::Affix { slot, text, start } => {
                let x = self.row.field(slot as usize);
                !x.is_empty() && prefix_folded(x, &prog.texts[text as usize], &mut s.a, start)
            }
            Op::WordHit {
                group,
                word,
                leaf: l,
            } => match memo.found_known(group, word) {
                Some(hit) => hit,
                None => leaf(l, s),
            },
            Op::Leaf(l) => leaf(l, s),
            Op::SetHit { set, pat, leaf: l } => match memo.set_known(set, pat) {
                Some(hit) => hit,
                None => leaf(l, s),
            },
            Op::ListHit {
                group,
                bit,
                leaf: l,
            } => match self.list_bits(group) {
                Some(bits) => bits & (1 << bit) != 0,
                None => leaf(l, s),
            },
            Op::NumLit {
                num,
                op,
                lit,
                leaf: l,
            } => match memo.num_known(num) {
                Some(Some(x)) => x.partial_cmp(&lit).is_some_and(|o| op.holds(o)),
                Some(None) => false,
                None => leaf(l, s),
            },
            Op::Fire(_)
            | Op::Const(_)
            | Op::Not
            | Op::JumpIfFalse(_)
            | Op::JumpIfTrue(_)
            | Op::MemoLoad(..)
            | Op::MemoStore(_) => unreachable!("not a test: {op:?}"),
        }
    }

    /// The combinators and remembered conditions here, the tests of
    /// values in [`Eval::leaf`]: this function, entered for every node of
    /// every condition, stays small (a short prologue, a small frame).
    fn test<T: Tracer>(&self, c: &Cond, s: &mut Scratch, t: &mut T) -> bool {
        match c {
            Cond::Const(b) => *b,
            Cond::And(items) => items.iter().all(|i| self.cond(i, s, t)),
            Cond::Or(items) => items.iter().any(|i| self.cond(i, s, t)),
            Cond::Not(inner) => !self.cond(inner, s, t),
            Cond::Memo(id, inner) => {
                if T::ON {
                    return self.test(inner, s, t);
                }
                self.row.memo.cond(*id, || self.test(inner, s, t))
            }
            _ => self.leaf(c, s, t),
        }
    }

    #[inline(never)]
    fn leaf<T: Tracer>(&self, c: &Cond, s: &mut Scratch, t: &mut T) -> bool {
        match c {
            Cond::Const(_) | Cond::And(_) | Cond::Or(_) | Cond::Not(_) | Cond::Memo(..) => {
                self.test(c, s, t)
            }
            Cond::Num(a, op, b) => match (self.num(a, t), self.num(b, t)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| op.holds(o)),
                _ => false,
            },
            Cond::Text(a, op, b) => {
                let (x, y) = (self.text(a, t), self.text(b, t));
                if x.is_empty() || y.is_empty() {
                    return false;
                }
                match (op, b) {
                    (CmpOp::Eq, TextX::Lit(l)) => eq_folded(x, l),
                    (CmpOp::Ne, TextX::Lit(l)) => !eq_folded(x, l),
                    _ => {
                        let xl = lower_into(x, &mut s.a);
                        let yl = lower_into(y, &mut s.b);
                        op.holds(xl.cmp(yl))
                    }
                }
            }
            Cond::Contains(x, f) => {
                let x = self.text(x, t);
                match f {
                    Finder::Ascii(ac, _) => ac.is_match(x),
                    Finder::Folded(n) => lower_into(x, &mut s.a).contains(n.as_str()),
                }
            }
            Cond::StartsWith(x, p) => {
                let x = self.text(x, t);
                !x.is_empty() && prefix_folded(x, p, &mut s.a, true)
            }
            Cond::EndsWith(x, p) => {
                let x = self.text(x, t);
                !x.is_empty() && prefix_folded(x, p, &mut s.a, false)
            }
            Cond::Matches(x, re) => re.is_match(self.text(x, t)),
            Cond::InList(x, l) => {
                let set = &self.rules.lists[*l].set;
                if !T::ON {
                    if let Some(hit) = self.in_list_lowered(x, set) {
                        return hit;
                    }
                }
                let x = self.text(x, t);
                !x.is_empty() && set.contains(lower_into(x, &mut s.a))
            }
            Cond::MatchesIn(x, re, g, i) => {
                let text = self.text(x, t);
                if T::ON {
                    return re.is_match(text);
                }
                let plan = &self.rules.memo;
                let caches = s.set_caches(plan);
                self.row
                    .memo
                    .set_match(*g, *i, text, &plan.sets, caches)
                    .unwrap_or_else(|| re.is_match(text))
            }
            Cond::ContainsIn(x, f, g, i) => {
                let text = self.text(x, t);
                if !T::ON {
                    let finders = &self.rules.memo.finders;
                    if let Some(hit) = self.row.memo.found(*g, *i, text, finders) {
                        return hit;
                    }
                }
                match f {
                    Finder::Ascii(ac, _) => ac.is_match(text),
                    Finder::Folded(n) => lower_into(text, &mut s.a).contains(n.as_str()),
                }
            }
            Cond::Empty(x) => self.text(x, t).is_empty(),
            Cond::Marked(bits) => {
                let marks = self.verdict.map_or(0, |v| v.marks);
                t.value(|| ("marks".into(), Seen::Marks(marks)));
                self.verdict.is_some() && marks & bits == *bits
            }
        }
    }

    /// Which lists of list group `g` hold the row's value (a bit each),
    /// looked up on the row's first ask (an ASCII value in place, another
    /// through its lowercase copy); `None` for a value of the second kind
    /// where the memo keeps no lowercase values.
    fn list_bits(&self, g: u32) -> Option<u64> {
        let memo = self.row.memo;
        if let Some(bits) = memo.list_bits(g) {
            return Some(bits);
        }
        let lg = self.rules.program.lists.get(g as usize)?;
        let v = self.row.field(lg.slot);
        let v = if lg.domain { after_at(v) } else { v };
        let bits = if v.is_empty() {
            0
        } else if let Some(bits) = lg.entries.get_ascii(v) {
            bits
        } else {
            self.lowered(lg.slot, lg.domain, |l| lg.entries.get_lower(l))?
        };
        memo.set_list_bits(g, bits);
        Some(bits)
    }

    /// `InList` on a field or an email domain, through the row's
    /// lowercase copy of the field; `None` where the memo keeps none.
    fn in_list_lowered(&self, x: &TextX, set: &super::compile::ListSet) -> Option<bool> {
        let (slot, domain) = list_value(x)?;
        self.lowered(slot, domain, |v| !v.is_empty() && set.contains(v))
    }

    /// `f` of the row's lowercase value of field slot `slot` (of the part
    /// after its last `@` with `domain`); `None` where the memo keeps no
    /// lowercase values.
    fn lowered<R>(&self, slot: usize, domain: bool, f: impl FnOnce(&str) -> R) -> Option<R> {
        let memo = self.row.memo;
        if !memo.lowers(slot) {
            return None;
        }
        Some(memo.with_lowered(
            slot,
            || self.row.field(slot),
            |l| f(if domain { after_at(l) } else { l }),
        ))
    }

    fn text<'a, T: Tracer>(&'a self, x: &'a TextX, t: &mut T) -> &'a str {
        let v = match x {
            TextX::Field(slot) => self.row.field(*slot),
            TextX::Domain(inner) => after_at(self.text(inner, t)),
            TextX::Lit(s) => return s,
            TextX::Derived(i) => {
                if T::ON {
                    self.trace_inputs(*i, t);
                }
                self.derived(*i)
            }
        };
        t.value(|| {
            let seen = match x {
                TextX::Derived(i) if self.rules.derived[*i].func.is_test() => {
                    Seen::Test(!v.is_empty())
                }
                _ => Seen::Text(v.to_string()),
            };
            (x.label(self.rules), seen)
        });
        v
    }

    /// Records what a derived value is computed from: its field (or the
    /// cleaned value it reads) and, for phone numbers, the country.
    fn trace_inputs<T: Tracer>(&self, i: usize, t: &mut T) {
        let d = &self.rules.derived[i];
        match d.input {
            Some(j) => {
                self.text(&TextX::Derived(j), t);
            }
            None => {
                self.text(&TextX::Field(d.slot), t);
            }
        }
        if let Some(c) = d.country_slot {
            self.text(&TextX::Field(c), t);
        }
    }

    /// A derived value of the row, computed on first use.
    fn derived(&self, i: usize) -> &'e str {
        self.row.memo.get_or(i, |out| {
            let d = &self.rules.derived[i];
            let x = match d.input {
                Some(j) => self.derived(j),
                None => self.row.field(d.slot),
            };
            let country = d.country_slot.map_or("", |s| self.row.field(s));
            let region = derive::region(country, self.rules.phone_region.as_deref());
            d.func.apply_into(x, region, out)
        })
    }

    fn num<T: Tracer>(&self, n: &NumX, t: &mut T) -> Option<f64> {
        let v = match n {
            NumX::Lit(x) => return Some(*x),
            NumX::Memo(id, inner) => {
                return if T::ON {
                    self.num(inner, t)
                } else {
                    self.row.memo.num(*id, || self.num(inner, t))
                };
            }
            NumX::Read(x) => read_number_in(self.text(x, t), self.row.decimal_comma),
            NumX::Length(x) => Some(self.text(x, t).chars().count() as f64),
            NumX::Digits(x) => {
                Some(self.text(x, t).bytes().filter(u8::is_ascii_digit).count() as f64)
            }
            NumX::Group(g) => self.verdict.map(|v| v.totals[*g] as f64),
            NumX::Total => self.verdict.map(|v| v.totals.iter().sum::<i64>() as f64),
            NumX::MarkCount => self.verdict.map(|v| f64::from(v.marks.count_ones())),
            NumX::DaysSince(x, order) => {
                let d = date::parse(self.text(x, t), order.or(self.rules.date_order));
                d.map(|d| date::days_between(d, self.rules.as_of) as f64)
            }
        };
        t.value(|| (n.label(self.rules), Seen::Number(v)));
        v
    }
}

/// Whether `x`, lowercased, starts (or ends) with `p` (lowercase).
fn prefix_folded(x: &str, p: &str, buf: &mut String, start: bool) -> bool {
    let (xb, pb) = (x.as_bytes(), p.as_bytes());
    if p.is_ascii() && xb.len() >= pb.len() {
        let part = if start {
            &xb[..pb.len()]
        } else {
            &xb[xb.len() - pb.len()..]
        };
        // ASCII bytes are whole characters, each lowercased on its own:
        // the rest of `x` cannot change how its lowercase starts or ends.
        if part.is_ascii() {
            return part.eq_ignore_ascii_case(pb);
        }
    }
    let l = lower_into(x, buf);
    if start {
        l.starts_with(p)
    } else {
        l.ends_with(p)
    }
}

impl TextX {
    fn slots(&self, d: &[Derived], out: &mut Vec<usize>) {
        match self {
            TextX::Field(s) => out.push(*s),
            TextX::Domain(inner) => inner.slots(d, out),
            TextX::Lit(_) => {}
            TextX::Derived(i) => {
                if let Some(x) = d.get(*i) {
                    out.push(x.slot);
                }
            }
        }
    }
}

impl NumX {
    fn slots(&self, d: &[Derived], out: &mut Vec<usize>) {
        match self {
            NumX::Read(t) | NumX::Length(t) | NumX::Digits(t) | NumX::DaysSince(t, _) => {
                t.slots(d, out)
            }
            NumX::Memo(_, inner) => inner.slots(d, out),
            _ => {}
        }
    }
}

impl Cond {
    /// The field slots a condition reads, in order, with repeats.
    pub fn slots(&self, d: &[Derived], out: &mut Vec<usize>) {
        match self {
            Cond::Const(_) | Cond::Marked(_) => {}
            Cond::And(items) | Cond::Or(items) => items.iter().for_each(|i| i.slots(d, out)),
            Cond::Not(inner) | Cond::Memo(_, inner) => inner.slots(d, out),
            Cond::Num(a, _, b) => {
                a.slots(d, out);
                b.slots(d, out);
            }
            Cond::Text(a, _, b) => {
                a.slots(d, out);
                b.slots(d, out);
            }
            Cond::Contains(t, _)
            | Cond::StartsWith(t, _)
            | Cond::EndsWith(t, _)
            | Cond::Matches(t, _)
            | Cond::MatchesIn(t, _, _, _)
            | Cond::ContainsIn(t, _, _, _)
            | Cond::InList(t, _)
            | Cond::Empty(t) => t.slots(d, out),
        }
    }
}

#[cfg(test)]
mod decay_tests {
    use super::decayed_points;

    #[test]
    fn points_halve_every_half_life() {
        assert_eq!(decayed_points(20, Some(0), 30), 20);
        assert_eq!(decayed_points(20, Some(-4), 30), 20);
        assert_eq!(decayed_points(20, Some(30), 30), 10);
        assert_eq!(decayed_points(20, Some(60), 30), 5);
        assert_eq!(decayed_points(20, Some(15), 30), 14);
        assert_eq!(decayed_points(-10, Some(30), 30), -5);
        assert_eq!(decayed_points(20, Some(3650), 30), 0);
        assert_eq!(decayed_points(20, None, 30), 0);
    }
}

#[cfg(test)]
mod prefix_tests {
    use super::prefix_folded;

    #[test]
    fn prefix_folded_agrees_with_lowercase_then_compare() {
        let values = [
            "",
            "a",
            "GmbH",
            "Acme GmbH",
            "Müller GmbH",
            "GMBH Ärger",
            "x.DE",
            "straße.de",
            "\u{212a}elvin.de",
            "ÉCOLE",
            "école",
            "ΣΑΣ",
            "İstanbul.de",
            "gmbh",
        ];
        let affixes = ["gmbh", ".de", "é", "k", "école", "i̇stanbul", "", "ς"];
        let mut buf = String::new();
        for x in values {
            for p in affixes {
                // leadsift lowercases character by character (`lower_into`).
                let l: String = x.chars().flat_map(char::to_lowercase).collect();
                assert_eq!(
                    prefix_folded(x, p, &mut buf, true),
                    l.starts_with(p),
                    "{x:?} starts {p:?}"
                );
                assert_eq!(
                    prefix_folded(x, p, &mut buf, false),
                    l.ends_with(p),
                    "{x:?} ends {p:?}"
                );
            }
        }
    }
}

#[cfg(test)]
mod trim_tests {
    use super::trim;

    #[test]
    fn trim_agrees_with_str_trim() {
        for v in [
            "",
            "a",
            " a",
            "a ",
            " a ",
            "ab",
            "\u{a0}x",
            "x\u{a0}",
            "é",
            " é ",
            "\u{1}a\u{1}",
            "\ta b\n",
            "José",
            "日本",
            "\u{3000}x\u{3000}",
            "a\u{7f}",
        ] {
            assert_eq!(trim(v), v.trim(), "{v:?}");
        }
    }
}

#[cfg(test)]
mod lanes_tests {
    use super::{RowView, Scratch, Verdict};
    use crate::input::{bind, Record};
    use crate::rules::derive::Memo;
    use crate::rules::{compile, Compiled, Origin};

    /// Values worked out all at once are the values each field's first
    /// read gives: cells with spaces, tabs, non-breaking spaces and
    /// non-ASCII letters at their ends, placeholders in any case, empty
    /// cells, and slots bound to several columns or to none.
    #[test]
    fn fields_filled_at_once_read_as_fields_read_one_by_one() {
        let text = r#"
version = 1
[fields]
title = ["title", "role"]
size = ["size"]
[clean]
placeholders = ["n/a", "-"]
"#;
        let rules = compile(Origin::Builtin, text).unwrap_or_else(|d| panic!("{d}"));
        let headers: Vec<String> = ["email", "title", "role", "size", "company"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        let binding = bind(&headers, &rules);
        let cells = [
            "",
            " ",
            "a",
            "Acme",
            " Acme",
            "Acme\t",
            "\u{a0}Acme\u{a0}",
            "Zürich",
            "é",
            "N/A",
            "n/a",
            " n/a ",
            "-",
            "--",
            "x@acme.io",
        ];
        let names = vec![String::new(); rules.slots.len()];
        let mut checked = 0;
        for i in 0..cells.len() * cells.len() {
            let mut r = Record::default();
            for c in 0..headers.len() {
                r.push_field(cells[(i + c * (i / cells.len() + 1)) % cells.len()].as_bytes());
            }
            let (filled, lazy) = (Memo::for_rules(&rules), Memo::for_rules(&rules));
            let a = RowView::new(&r, &binding, &names, &rules.placeholders, &filled).unwrap();
            let b = RowView::new(&r, &binding, &names, &rules.placeholders, &lazy).unwrap();
            a.fill_fields();
            for slot in 0..rules.slots.len() {
                assert_eq!(a.field(slot), b.field(slot), "slot {slot} of {r:?}");
                checked += 1;
            }
        }
        assert!(checked > 1000);
    }

    /// Rows evaluated together give each row the verdict it gets alone:
    /// with remembered conditions the stages read too, rules that
    /// disqualify or decay, jumps over `and`/`or`, and a last group that
    /// is not full.
    #[test]
    fn rows_evaluated_together_agree_with_rows_one_by_one() {
        let text = r#"
version = 1
[fields]
title = ["title"]
seen = ["seen"]
size = ["size"]
[define]
senior = 'title matches "(?i)\b(vp|head|chief)\b"'
big = "number(size) >= 50"
[usable]
when = "email is present or title is present"
[groups]
fit = { cap = 40 }
[[rule]]
id = "senior"
when = "senior and not (title contains 'intern')"
fit = 20
marks = ["authority"]
[[rule]]
id = "big-or-senior"
when = "big or senior or email ends with '.de'"
fit = 15
[[rule]]
id = "recent"
when = "seen is present"
fit = 10
decay = { since = "seen", half_life = 30 }
[[rule]]
id = "test"
when = "email starts with 'test' and not big"
disqualify = "test entry"
[stages]
opportunity = "senior and marked(authority) and big"
prospect = "fit >= 30 or (big and senior)"
"#;
        let mut rules = compile(Origin::Builtin, text).unwrap_or_else(|d| panic!("{d}"));
        rules.as_of = jiff::civil::date(2025, 8, 15);
        assert!(
            !rules.program.stage_memos.is_empty(),
            "stages read a remembered condition"
        );
        let headers: Vec<String> = ["email", "title", "seen", "size"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        let binding = bind(&headers, &rules);
        let titles = [
            "VP Sales",
            "Head of IT",
            "intern",
            "",
            "Chief VP intern",
            "analyst",
        ];
        let emails = ["a@x.de", "test@y.com", "", "b@z.com", "test@q.de"];
        let seen = ["2025-08-01", "", "2024-01-01", "junk"];
        let sizes = ["10", "50", "500", "", "n/a", "49"];
        let records: Vec<Record> = (0..150)
            .map(|i| {
                let mut r = Record::default();
                r.push_field(emails[i % emails.len()].as_bytes());
                r.push_field(titles[i % titles.len()].as_bytes());
                r.push_field(seen[i % seen.len()].as_bytes());
                r.push_field(sizes[i / 3 % sizes.len()].as_bytes());
                r
            })
            .collect();
        let names = vec![String::new(); rules.slots.len()];
        let groups = rules.groups.len();
        let mut memos: Vec<Memo> = (0..Compiled::LANES)
            .map(|_| Memo::for_rules(&rules))
            .collect();
        let mut scratch = Scratch::default();
        let mut together = Vec::new();
        for recs in records.chunks(Compiled::LANES) {
            memos.iter_mut().for_each(Memo::reset);
            let views: Vec<RowView> = recs
                .iter()
                .zip(&memos)
                .map(|(r, m)| RowView::new(r, &binding, &names, &rules.placeholders, m).unwrap())
                .collect();
            let mut out = vec![Verdict::new(groups); recs.len()];
            rules.evaluate_many(&views, &mut scratch, &mut out);
            together.extend(out);
        }
        let mut outcomes = std::collections::HashSet::new();
        for (i, rec) in records.iter().enumerate() {
            let memo = Memo::for_rules(&rules);
            let view = RowView::new(rec, &binding, &names, &rules.placeholders, &memo).unwrap();
            let mut alone = Verdict::new(groups);
            rules.evaluate(&view, &mut scratch, &mut alone);
            assert_eq!(
                format!("{:?}", together[i]),
                format!("{alone:?}"),
                "row {i}"
            );
            outcomes.insert(format!("{:?}", alone.outcome));
        }
        assert!(outcomes.len() >= 4, "every kind of outcome: {outcomes:?}");
    }
}
