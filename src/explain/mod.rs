//! Explanations of how rows were decided: what `leadsift explain` prints
//! (as text, or as JSON under schema `leadsift.explain/1`) and what
//! `leadsift test` shows for a failing example.
//!
//! An explanation is built from a [`Decided`], which a tracing
//! [`Worker`] records while it processes the row with the run's own code:
//! the stage, the reasons column and the trace all come from that one
//! evaluation, so an explanation cannot disagree with the outputs of
//! `run`. What only a whole run decides (duplicates, `--exclude` lists,
//! `--state`) is not part of it; [`SCOPE`] says so wherever it is shown.
//!
//! The field names of the serialised structs are the JSON schema,
//! documented in the README: change them only with a new schema version.

pub mod text;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::input::{Bound, FileInfo, Record};
use crate::row::{decayed_label, rule_label, ChunkOut, Decided, FileCtx, RunCtx, Worker};
use crate::rules::trace::{Part, Seen, Shape, ShapeKind, Step};
use crate::rules::value::format_number;
use crate::rules::{Compiled, Outcome, Stage, MARK_NAMES};

pub const SCHEMA: &str = "leadsift.explain/1";

/// What an explanation covers, and what it does not.
pub const SCOPE: &str = "the rules' verdict on each row on its own: duplicates, --exclude lists and --state are decided by `leadsift run` over whole inputs and are not applied here";

/// The document `explain --json` prints.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub schema: &'static str,
    pub rules: RulesRef,
    pub scope: &'static str,
    pub rows: &'a [RowExplanation],
}

#[derive(Debug, Serialize)]
pub struct RulesRef {
    pub path: String,
    pub name: Option<String>,
}

impl RulesRef {
    pub fn new(rules: &Compiled) -> Self {
        RulesRef {
            path: rules.origin.display(),
            name: rules.name.clone(),
        }
    }
}

/// How one row was decided.
#[derive(Debug, Serialize)]
pub struct RowExplanation {
    pub file: String,
    pub line: u64,
    pub row: u64,
    /// `lead`, `prospect`, `opportunity`, `disqualified` or `rejected`.
    pub stage: &'static str,
    /// The `leadsift_reasons` column as `run` writes it; `null` for a
    /// rejected row.
    pub reasons: Option<String>,
    pub reject: Option<Reject>,
    pub disqualified_by: Option<Disqualifier>,
    /// Every field the rules read, as they read it; empty when the record
    /// could not be read as fields.
    pub fields: Vec<FieldValue>,
    /// The `[usable]` condition; `null` when it was not evaluated.
    pub usable: Option<Condition>,
    /// Every rule in file order; empty when no rule was evaluated.
    pub rules: Vec<RuleTrace>,
    pub groups: Vec<GroupTotal>,
    pub marks: Vec<&'static str>,
    pub bant: String,
    /// Opportunity, then prospect; lead is the fallback.
    pub stages: Vec<StageTrace>,
}

#[derive(Debug, Serialize)]
pub struct Reject {
    /// One of the reject kinds of `rejected.csv` (`unusable`,
    /// `too-many-fields`, ...).
    pub kind: &'static str,
    pub reason: String,
    /// The record as read, for a record that could not be read as fields.
    pub raw: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Disqualifier {
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct FieldValue {
    pub field: String,
    /// The headers of the columns it reads, in order (the first non-empty
    /// wins); empty when the file has none.
    pub columns: Vec<String>,
    /// `first` or `last` when the value is that part of a full name.
    pub name_part: Option<&'static str>,
    pub value: String,
}

/// One condition, or part of one, as evaluated.
#[derive(Debug, Serialize)]
pub struct Condition {
    /// The condition as written (a `[define]` by its name).
    pub text: String,
    /// Whether it held; `null` when it was not evaluated (an `and` stops
    /// at the first part that fails, an `or` at the first that holds).
    pub held: Option<bool>,
    /// The values it read: fields (trimmed, placeholders empty), derived
    /// values such as `seniority(title)`, numbers read, group totals.
    pub values: Vec<NamedValue>,
    pub parts: Vec<Condition>,
}

#[derive(Debug, Serialize)]
pub struct NamedValue {
    pub name: String,
    /// Text, a number (`null` when none could be read), `true`/`false`
    /// for a test, or the BANT marks as `B-N-`.
    pub value: Value,
}

#[derive(Debug, Serialize)]
pub struct RuleTrace {
    pub id: String,
    /// The rule as the reasons column names it on this row (with its
    /// decayed points, for a rule with `decay` that fired).
    pub label: String,
    pub when: String,
    pub fired: bool,
    /// Points per group the rule gives when it fires, as written.
    pub points: Map<String, Value>,
    /// For a rule with `decay`: the date field, the half-life, and the
    /// days since the date on this row (`null` when no date was read or
    /// the rule did not fire).
    pub decay: Option<DecayTrace>,
    pub marks: Vec<&'static str>,
    pub disqualify: Option<String>,
    pub condition: Condition,
}

#[derive(Debug, Serialize)]
pub struct DecayTrace {
    pub since: String,
    pub half_life: i64,
    pub days: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct GroupTotal {
    pub name: String,
    pub before_caps: i64,
    pub after_caps: i64,
    pub cap: Option<i64>,
    pub floor: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct StageTrace {
    pub stage: &'static str,
    /// The condition as written; `null` when the rules give none (the
    /// stage is never reached).
    pub when: Option<String>,
    /// Whether the run evaluated it (not for a rejected or disqualified
    /// row, nor for prospect once opportunity holds).
    pub checked: bool,
    pub held: Option<bool>,
    pub condition: Option<Condition>,
}

/// Where a row comes from, for its explanation.
pub struct Origin<'a> {
    pub file: &'a str,
    pub line: u64,
    pub row: u64,
    pub headers: &'a [String],
    pub binding: &'a [Bound],
}

/// Runs one record through a tracing worker, the way `run` would with
/// no duplicates, exclusions or state.
pub fn decide(run: &RunCtx, file: &FileCtx, record: &mut Record, row: u64) -> Decided {
    let mut worker = Worker::tracing(run);
    let mut out = ChunkOut::new(run.rules.rules.len());
    worker.process(run, file, record, row, row.saturating_sub(1), &mut out);
    worker.take_decided().unwrap_or_default()
}

/// The context of one input for [`decide`], as the pipeline makes it:
/// every column an output column.
pub fn file_ctx(name: &str, headers: &[String], binding: &[Bound], info: &FileInfo) -> FileCtx {
    FileCtx {
        name: name.to_string(),
        width: headers.len(),
        out_to_in: (0..headers.len()).map(Some).collect(),
        binding: binding.to_vec(),
        name_parts: binding.iter().any(|b| matches!(b, Bound::NamePart { .. })),
        clean_cols: vec![None; headers.len()],
        encoding: info.encoding.clone().unwrap_or_else(|| "UTF-8".into()),
        decimal_comma: info.delimiter.as_deref() == Some(";"),
        same_columns: true,
        name_plain: crate::output::plain_cell(name.as_bytes()),
    }
}

/// The explanation of a decided row.
pub fn explain(rules: &Compiled, d: &Decided, at: &Origin) -> RowExplanation {
    let mut x = RowExplanation {
        file: at.file.to_string(),
        line: at.line,
        row: at.row,
        stage: Stage::Rejected.name(),
        reasons: None,
        reject: d.reject.as_ref().map(|(kind, reason, raw)| Reject {
            kind: kind.name(),
            reason: reason.clone(),
            raw: kind.malformed().then(|| raw.clone()),
        }),
        disqualified_by: None,
        fields: Vec::new(),
        usable: None,
        rules: Vec::new(),
        groups: Vec::new(),
        marks: Vec::new(),
        bant: "----".into(),
        stages: Vec::new(),
    };
    let Some(v) = &d.verdict else {
        return x;
    };
    x.fields = fields(rules, d, at);
    x.usable = rules
        .usable_shape
        .as_ref()
        .map(|s| condition(s, d.trace.step(Part::Usable)));
    if v.outcome == Outcome::Unusable {
        return x;
    }
    x.stage = v.stage().name();
    x.reasons = Some(d.reasons.clone());
    if let Outcome::Disqualified(i) = v.outcome {
        let r = &rules.rules[i];
        x.disqualified_by = Some(Disqualifier {
            rule: r.id.clone(),
            reason: r.disqualify.clone().unwrap_or_default(),
        });
    }
    x.rules = rules
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleTrace {
            id: r.id.clone(),
            label: match v.decayed.iter().find(|(x, _)| *x == i) {
                Some(&(_, age)) => decayed_label(rules, i, age),
                None => rule_label(rules, r),
            },
            decay: r.decay.as_ref().map(|d| DecayTrace {
                since: d.field.clone(),
                half_life: d.half_life,
                days: v
                    .decayed
                    .iter()
                    .find(|(x, _)| *x == i)
                    .and_then(|(_, age)| *age),
            }),
            when: r.when_text.clone(),
            fired: v.fired.contains(&i),
            points: r
                .points
                .iter()
                .map(|&(g, p)| (rules.groups[g].name.clone(), Value::from(p)))
                .collect(),
            marks: mark_names(r.marks),
            disqualify: r.disqualify.clone(),
            condition: condition(&r.shape, d.trace.step(Part::Rule(i))),
        })
        .collect();
    x.groups = rules
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| GroupTotal {
            name: group.name.clone(),
            before_caps: v.raw_totals[g],
            after_caps: v.totals[g],
            cap: group.cap,
            floor: group.floor,
        })
        .collect();
    x.marks = mark_names(v.marks);
    x.bant = bant(v.marks);
    x.stages = [Stage::Opportunity, Stage::Prospect]
        .into_iter()
        .enumerate()
        .map(|(i, stage)| {
            let step = d.trace.step(Part::Stage(stage));
            StageTrace {
                stage: stage.name(),
                when: rules.stage_condition(stage).map(|(_, t)| t.to_string()),
                checked: step.is_some(),
                held: step.map(|s| s.held),
                condition: rules.stage_shapes[i].as_ref().map(|s| condition(s, step)),
            }
        })
        .collect();
    x
}

fn fields(rules: &Compiled, d: &Decided, at: &Origin) -> Vec<FieldValue> {
    let header = |c: usize| at.headers.get(c).cloned().unwrap_or_default();
    rules
        .slots
        .iter()
        .enumerate()
        .map(|(s, slot)| {
            let bound = at.binding.get(s).unwrap_or(&Bound::Missing);
            let name_part = match bound {
                Bound::NamePart { first, .. } => Some(if *first { "first" } else { "last" }),
                _ => None,
            };
            FieldValue {
                field: slot.label.clone(),
                columns: bound.columns().into_iter().map(header).collect(),
                name_part,
                value: d.fields.get(s).cloned().unwrap_or_default(),
            }
        })
        .collect()
}

/// A condition's shape read against its step (if it was evaluated).
fn condition(shape: &Shape, step: Option<&Step>) -> Condition {
    let held = step.map(|s| s.held);
    match shape.kind {
        ShapeKind::Leaf => Condition {
            text: shape.text.clone(),
            held,
            values: step.map_or_else(Vec::new, |s| named(s.all_values())),
            parts: Vec::new(),
        },
        ShapeKind::Node => Condition {
            text: shape.text.clone(),
            held,
            values: step.map_or_else(Vec::new, |s| named(s.values.clone())),
            parts: shape
                .parts
                .iter()
                .enumerate()
                .map(|(i, p)| condition(p, step.and_then(|s| s.parts.get(i))))
                .collect(),
        },
        ShapeKind::Alias => Condition {
            text: shape.text.clone(),
            held,
            values: Vec::new(),
            parts: shape.parts.iter().map(|p| condition(p, step)).collect(),
        },
    }
}

fn named(values: Vec<(String, Seen)>) -> Vec<NamedValue> {
    values
        .into_iter()
        .map(|(name, seen)| NamedValue {
            name,
            value: match seen {
                Seen::Text(t) => Value::String(t),
                Seen::Test(b) => Value::Bool(b),
                Seen::Number(Some(n)) => {
                    serde_json::Number::from_f64(n).map_or(Value::Null, |n| match n.as_f64() {
                        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Value::from(f as i64),
                        _ => Value::Number(n),
                    })
                }
                Seen::Number(None) => Value::Null,
                Seen::Marks(m) => Value::String(bant(m)),
            },
        })
        .collect()
}

pub fn mark_names(bits: u8) -> Vec<&'static str> {
    MARK_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, m)| *m)
        .collect()
}

/// `B-N-`: the marks as the `leadsift_bant` column writes them.
pub fn bant(bits: u8) -> String {
    ['B', 'A', 'N', 'T']
        .iter()
        .enumerate()
        .map(|(i, c)| if bits & (1 << i) != 0 { *c } else { '-' })
        .collect()
}

/// A value as the text explanation shows it.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Null => "no number".into(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), format_number),
        other => other.to_string(),
    }
}
