//! From the raw rules file to the compiled form: names resolved to field
//! slots and list indexes, conditions typed, regular expressions built.
//!
//! Every problem is collected with its position; `compile` returns them all
//! or a [`Compiled`] that evaluation can trust (no name left unresolved, no
//! type mismatch left for run time).

use std::collections::{HashMap, HashSet};

use aho_corasick::AhoCorasick;
use regex::Regex;
use sha2::{Digest, Sha256};

use super::derive::{CleanFn, Derived, WriteKind, WRITABLE};
use super::diag::{suggest, Diagnostics, Reporter};
use super::eval::{Cond, Finder, NumX, TextX};
use super::example::{self, Example};
use super::expr::{self, CmpOp, Expr, Operand, TextOp};
use super::raw::{self, RawRules, Text};
use super::trace::Shape;
use super::{Origin, Stage};
use crate::clean::date::DateOrder;
use crate::dedup::spec::KEEP_NAMES;
use crate::dedup::{Criterion, DedupSpec, ExcludeBy, KeyFields, KeyKind, Order, KEY_KINDS};
use crate::input::aliases;

/// The BANT marks a rule can set, in the order of their bits.
pub const MARK_NAMES: [&str; 4] = ["budget", "authority", "need", "timeline"];

/// The `[usable]` condition of a rules file that has none.
pub const DEFAULT_USABLE: &str = "email is present or phone is present";
/// Values that count as empty unless `[clean] placeholders` says otherwise:
/// what CRMs and spreadsheets write into fields nobody filled in.
pub const DEFAULT_PLACEHOLDERS: &[&str] = &["Select", "-None-", "#N/A", "N/A", "null", "--"];
const DEFAULT_REASON: &str = "no contact information: no email and no phone";

/// A field the rules read: a named field found through aliases, or a column
/// named by its header text.
#[derive(Debug, Clone)]
pub struct FieldSlot {
    /// What the rules call it: `email`, or `` `No. of Employees` ``.
    pub label: String,
    /// Normalised header names that match, best first.
    pub aliases: Vec<String>,
    /// For a backtick column: the exact header text, matched first.
    pub exact: Option<String>,
    /// Whether every matching column is read, the first non-empty winning
    /// (email, phone), rather than only the first.
    pub multi: bool,
}

#[derive(Debug, Clone)]
pub struct ListDef {
    pub name: String,
    pub set: ListSet,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub cap: Option<i64>,
    pub floor: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub when: Cond,
    /// `when` as written, node for node (for explanations).
    pub shape: Shape,
    pub when_text: String,
    pub points: Vec<(usize, i64)>,
    pub marks: u8,
    pub disqualify: Option<String>,
    pub note: Option<String>,
    /// Points that halve every `half_life` days since a date.
    pub decay: Option<Decay>,
}

/// `decay = { since = "last_activity", half_life = 30 }`: a rule's points
/// times 0.5^(age / half_life), rounded; none when the date cannot be read,
/// all of them for a date after `--as-of`.
#[derive(Debug, Clone)]
pub struct Decay {
    pub slot: usize,
    pub field: String,
    pub half_life: i64,
    /// The field's declared order for numeric dates.
    pub order: Option<DateOrder>,
}

/// One axis of the grade: the group it reads and its grades, best first.
#[derive(Debug, Clone)]
pub struct Axis {
    pub group: usize,
    /// Grade name -> lowest total that earns it, best first.
    pub levels: Vec<(String, i64)>,
    /// The grade below the last threshold (`D`, `4`).
    pub below: String,
}

impl Axis {
    pub fn grade(&self, total: i64) -> &str {
        self.levels
            .iter()
            .find(|(_, min)| total >= *min)
            .map_or(self.below.as_str(), |(g, _)| g.as_str())
    }

    /// Every grade, best first.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.levels.iter().map(|(g, _)| g.as_str()).collect();
        v.push(&self.below);
        v
    }
}

/// `[grades]`: fit letters and engagement digits, written as `A1`.
#[derive(Debug, Clone)]
pub struct Grades {
    pub fit: Axis,
    pub engagement: Axis,
}

impl Grades {
    pub fn grade(&self, totals: &[i64]) -> String {
        format!(
            "{}{}",
            self.fit.grade(totals[self.fit.group]),
            self.engagement.grade(totals[self.engagement.group])
        )
    }
}

/// A list's entries, trimmed and lowercased, in a set with a fast hash.
pub type ListSet = HashSet<String, foldhash::fast::RandomState>;

/// Rules ready to evaluate.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub origin: Origin,
    pub sha256: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub slots: Vec<FieldSlot>,
    pub lists: Vec<ListDef>,
    pub defines: Vec<(String, String)>,
    pub groups: Vec<Group>,
    pub rules: Vec<Rule>,
    pub usable: Option<(Cond, String, String)>,
    /// The field slots the `[usable]` condition reads: a file needs a
    /// column for at least one of them.
    pub usable_slots: Vec<usize>,
    /// Values read as empty, compared ignoring ASCII case.
    pub placeholders: Vec<String>,
    /// The distinct cleaning calls of the rules, by index.
    pub derived: Vec<Derived>,
    /// `[clean] phone_region`: the region of phone numbers written without
    /// `+` when the row's country does not tell.
    pub phone_region: Option<String>,
    /// `[clean] write`: field slots whose columns get cleaned values.
    pub clean_write: Vec<(usize, WriteKind)>,
    /// The `country` slot, when something reads phone numbers or writes
    /// them back (for their region).
    pub country_slot: Option<usize>,
    /// Opportunity then prospect; `None` where the rules give no condition.
    pub stages: [(Option<Cond>, String); 2],
    /// `[usable]` and the stage conditions as written, node for node.
    pub usable_shape: Option<Shape>,
    pub stage_shapes: [Option<Shape>; 2],
    /// What keys are made of (see `dedup`).
    pub key_fields: KeyFields,
    /// The `source` field (trade show, web, referral, ...), counted per
    /// stage in the summary.
    pub source_slot: usize,
    /// The order of numeric dates in fields `[dates]` does not name: the
    /// rules' `[dates] order`, replaced by `--date-order`.
    pub date_order: Option<DateOrder>,
    /// The date `days_since` and `decay` count from: today, or `--as-of`.
    pub as_of: jiff::civil::Date,
    pub grades: Option<Grades>,
    /// `[dedup]` and `[exclude]`.
    pub dedup: DedupSpec,
    /// `[[example]]`s, run by `leadsift test`.
    pub examples: Vec<Example>,
    pub warnings: Diagnostics,
    /// Work the conditions share on a row (see `memo`).
    pub memo: super::memo::Plan,
    /// The planned conditions as one flat program (see `program`).
    pub program: super::program::Program,
}

/// Opportunity then prospect: each condition (if any) and its text.
type StageConds = [(Option<Cond>, String); 2];

/// Names a condition can use in one place of the file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Rule,
    Stage,
}

/// A compiled operand: text, a number, or a condition.
enum Val {
    Text(TextX, bool),
    Num(NumX),
    Bool(Cond),
}

struct Ctx<'r, 's> {
    rep: &'r mut Reporter<'s>,
    raw: &'r RawRules,
    slots: Vec<FieldSlot>,
    slot_index: HashMap<String, usize>,
    declared: HashMap<String, Vec<String>>,
    lists: Vec<ListDef>,
    defines: HashMap<String, (Cond, Shape)>,
    groups: Vec<Group>,
    derived: Vec<Derived>,
    /// `[dates] fields`: a field's order for numeric dates.
    date_orders: HashMap<String, DateOrder>,
    /// Where the current condition starts in the file, and whether offsets
    /// inside it map one to one.
    base: (usize, bool),
    context: String,
}

/// Compiles a rules text. `Err` holds every error (and the warnings).
pub fn compile(origin: Origin, text: &str) -> Result<Compiled, Diagnostics> {
    let mut rep = Reporter::new(&origin.display(), text);
    let raw = raw::read(text, &mut rep);
    let sha256 = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut cx = Ctx {
        rep: &mut rep,
        raw: &raw,
        slots: Vec::new(),
        slot_index: HashMap::new(),
        declared: HashMap::new(),
        lists: Vec::new(),
        defines: HashMap::new(),
        groups: Vec::new(),
        derived: Vec::new(),
        date_orders: HashMap::new(),
        base: (0, false),
        context: String::new(),
    };
    cx.fields();
    cx.lists(&origin);
    cx.groups();
    let date_order = cx.dates();
    let defines = cx.defines();
    let (usable, usable_shape) = cx.usable().unzip();
    let rules = cx.rules();
    let (stages, stage_shapes) = cx.stages();
    let (phone_region, clean_write) = cx.clean();
    let key_fields = cx.key_fields();
    // Always read, for the summary's stage-by-source table.
    let source_slot = cx.field_slot("source");
    let dedup = cx.dedup_spec();
    let grades = cx.grades();
    let known = example::Known {
        slots: &cx.slots,
        declared: &cx.declared,
        groups: &cx.groups,
        rules: &rules,
    };
    let examples = example::compile(&raw.examples, &known, cx.rep);
    let needs_country = cx.derived.iter().any(|d| d.func.needs_region())
        || clean_write.iter().any(|(_, k)| *k == WriteKind::Phone);
    let country_slot = needs_country.then(|| cx.field_slot("country"));
    let derived = std::mem::take(&mut cx.derived);
    for l in &cx.lists {
        if !l.used {
            let at = raw
                .lists
                .iter()
                .find(|r| r.name.value == l.name)
                .map_or(0, |r| r.name.span.start);
            cx.rep.warn(
                at,
                Some(&format!("list `{}`", l.name)),
                "defined but never used",
            );
        }
    }
    let (slots, lists, groups) = (cx.slots, cx.lists, cx.groups);
    let mut usable_slots = Vec::new();
    if let Some((c, _, _)) = &usable {
        c.slots(&derived, &mut usable_slots);
    }
    let mut seen = HashSet::new();
    usable_slots.retain(|s| seen.insert(*s));
    let placeholders = match &raw.clean.placeholders {
        Some(list) => list.iter().map(|t| t.value.trim().to_string()).collect(),
        None => DEFAULT_PLACEHOLDERS.iter().map(|s| s.to_string()).collect(),
    };
    let mut compiled = Compiled {
        origin,
        sha256,
        name: raw.name.as_ref().map(|t| t.value.clone()),
        description: raw.description.as_ref().map(|t| t.value.clone()),
        slots,
        lists,
        defines,
        groups,
        rules,
        usable,
        usable_slots,
        placeholders,
        derived,
        phone_region,
        clean_write,
        country_slot,
        stages,
        usable_shape,
        stage_shapes,
        key_fields,
        source_slot,
        date_order,
        as_of: jiff::ZonedDateTime::now().date(),
        grades,
        dedup,
        examples,
        warnings: Diagnostics::default(),
        memo: super::memo::Plan::default(),
        program: super::program::Program::default(),
    };
    if rep.out.errors() == 0 {
        super::lint::check(&compiled, &raw, &mut rep);
    }
    let mut diags = std::mem::take(&mut rep.out);
    diags.items.sort_by_key(|d| (d.line, d.column));
    if diags.errors() > 0 {
        return Err(diags);
    }
    compiled.warnings = diags;
    super::memo::plan(&mut compiled);
    Ok(compiled)
}

impl Ctx<'_, '_> {
    fn err(&mut self, at: usize, msg: impl Into<String>) {
        let ctx = (!self.context.is_empty()).then_some(self.context.as_str());
        let ctx = ctx.map(str::to_string);
        self.rep.error(at, ctx.as_deref(), msg);
    }

    /// An error at an offset inside the condition being compiled.
    fn err_in(&mut self, offset: usize, msg: impl Into<String>) {
        let at = if self.base.1 {
            self.base.0 + offset
        } else {
            self.base.0
        };
        self.err(at, msg);
    }

    fn fields(&mut self) {
        for (name, aliases) in &self.raw.fields {
            if !is_identifier(&name.value) {
                self.rep.error(
                    name.span.start,
                    Some("[fields]"),
                    format!(
                        "`{}` is not a usable field name: use letters, digits and `_`",
                        name.value
                    ),
                );
                continue;
            }
            let norm = aliases
                .iter()
                .map(|a| aliases::normalise(&a.value))
                .collect();
            self.declared.insert(name.value.clone(), norm);
        }
    }

    fn lists(&mut self, origin: &Origin) {
        for l in &self.raw.lists {
            let ctx = format!("list `{}`", l.name.value);
            let mut set: ListSet = l
                .entries
                .iter()
                .map(|e| e.value.trim().to_lowercase())
                .collect();
            if let Some(file) = &l.file {
                match origin.read_list(&file.value) {
                    Ok(text) => set.extend(
                        text.lines()
                            .map(|x| x.trim())
                            .filter(|x| !x.is_empty() && !x.starts_with('#'))
                            .map(str::to_lowercase),
                    ),
                    Err(e) => self.rep.error(file.span.start, Some(&ctx), e),
                }
            }
            self.lists.push(ListDef {
                name: l.name.value.clone(),
                set,
                used: false,
            });
        }
    }

    fn groups(&mut self) {
        match &self.raw.groups {
            None => {
                for name in ["fit", "engagement"] {
                    self.groups.push(Group {
                        name: name.into(),
                        cap: None,
                        floor: None,
                    });
                }
            }
            Some(gs) => {
                for g in gs {
                    if self.groups.iter().any(|x| x.name == g.name.value) {
                        self.rep.error(
                            g.name.span.start,
                            None,
                            format!("group `{}` is declared twice", g.name.value),
                        );
                    }
                    if let (Some(c), Some(f)) = (g.cap, g.floor) {
                        if f > c {
                            self.rep.error(
                                g.name.span.start,
                                None,
                                format!("group `{}`: floor {f} is above cap {c}", g.name.value),
                            );
                        }
                    }
                    self.groups.push(Group {
                        name: g.name.value.clone(),
                        cap: g.cap,
                        floor: g.floor,
                    });
                }
            }
        }
    }

    fn defines(&mut self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, text) in &self.raw.defines {
            self.context = format!("define `{}`", name.value);
            if let Some(c) = self.condition(text, Scope::Rule) {
                self.defines.insert(name.value.clone(), c);
            }
            out.push((name.value.clone(), text.value.clone()));
        }
        self.context.clear();
        out
    }

    fn usable(&mut self) -> Option<((Cond, String, String), Shape)> {
        let Some((when, reason)) = self.raw.usable.as_ref() else {
            // Without a [usable] section a row needs an email or a phone.
            let (email, phone) = (self.field_slot("email"), self.field_slot("phone"));
            let present = |s| Cond::Not(Box::new(Cond::Empty(TextX::Field(s))));
            let shape = Shape::node(
                DEFAULT_USABLE.into(),
                0,
                vec![
                    Shape::leaf("email is present".into(), 0),
                    Shape::leaf("phone is present".into(), 20),
                ],
            );
            return Some((
                (
                    Cond::Or(vec![present(email), present(phone)]),
                    DEFAULT_USABLE.into(),
                    DEFAULT_REASON.into(),
                ),
                shape,
            ));
        };
        self.context = "[usable]".into();
        let c = self.condition(when, Scope::Rule);
        self.context.clear();
        let reason = reason.as_ref().map_or("not usable", |r| r.value.as_str());
        let (c, shape) = c?;
        Some(((c, when.value.clone(), reason.to_string()), shape))
    }

    fn rules(&mut self) -> Vec<Rule> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for r in &self.raw.rules {
            self.context = format!("rule `{}`", r.id.value);
            if let Some(first) = seen.insert(r.id.value.clone(), r.id.span.start) {
                let (line, _) = self.rep.position(first);
                self.err(
                    r.id.span.start,
                    format!("duplicate rule id (first used on line {line})"),
                );
            }
            let mut points = Vec::new();
            for (g, p) in &r.points {
                match self.groups.iter().position(|x| x.name == g.value) {
                    Some(i) => points.push((i, *p)),
                    None => {
                        let names: Vec<&str> =
                            self.groups.iter().map(|g| g.name.as_str()).collect();
                        let hint = suggest(&g.value, names.iter().copied())
                            .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
                        self.err(g.span.start, format!("unknown key `{}`: not a rule key nor a score group (groups: {}){hint}", g.value, names.join(", ")));
                    }
                }
            }
            let marks = self.marks(&r.marks);
            let when = r.when.as_ref().and_then(|w| self.condition(w, Scope::Rule));
            let decay = r
                .decay
                .as_ref()
                .and_then(|d| self.decay(d, points.is_empty()));
            if points.is_empty() && marks == 0 && r.disqualify.is_none() {
                self.rep.warn(
                    r.id.span.start,
                    Some(&self.context.clone()),
                    "gives no points, marks nor disqualification",
                );
            }
            if let Some((when, shape)) = when {
                out.push(Rule {
                    id: r.id.value.clone(),
                    when,
                    shape,
                    when_text: r.when.as_ref().map(|w| w.value.clone()).unwrap_or_default(),
                    points,
                    marks,
                    disqualify: r.disqualify.as_ref().map(|d| d.value.clone()),
                    note: r.note.as_ref().map(|n| n.value.clone()),
                    decay,
                });
            }
        }
        self.context.clear();
        out
    }

    /// A rule's `decay`: a known date field and a positive half-life.
    fn decay(&mut self, d: &raw::RawDecay, no_points: bool) -> Option<Decay> {
        let Some(since) = &d.since else {
            self.err(d.span.start, "`decay` needs `since`, the date field the points age from, such as since = \"last_activity\"");
            return None;
        };
        let field = since.value.trim().to_string();
        if !self.declared.contains_key(&field) && aliases::builtin(&field).is_none() {
            self.err(
                since.span.start,
                format!("`decay` since `{field}`: unknown field; name a field such as last_activity or declare it under [fields]"),
            );
            return None;
        }
        let half_life = match d.half_life {
            Some((n, _)) if n > 0 => n,
            Some((_, at)) => {
                self.err(at, "`half_life` is a number of days above 0");
                return None;
            }
            None => {
                self.err(
                    d.span.start,
                    "`decay` needs `half_life`, the days after which the points are halved",
                );
                return None;
            }
        };
        if no_points {
            self.rep.warn(
                d.span.start,
                Some(&self.context.clone()),
                "`decay` has no points to reduce",
            );
        }
        Some(Decay {
            slot: self.field_slot(&field),
            order: self.date_orders.get(&field).copied(),
            field,
            half_life,
        })
    }

    /// `[dates]`: the default order and each field's.
    fn dates(&mut self) -> Option<DateOrder> {
        let raw = &self.raw.dates;
        let order_of = |t: &Text, rep: &mut Reporter| {
            let o = DateOrder::from_name(&t.value);
            if o.is_none() {
                rep.error(
                    t.span.start,
                    Some("[dates]"),
                    format!("`{}` is not a date order; write dmy (31/12/2025), mdy (12/31/2025) or ymd (25/12/31)", t.value),
                );
            }
            o
        };
        let default = raw.order.as_ref().and_then(|t| order_of(t, self.rep));
        for (f, o) in &raw.fields {
            if let Some(o) = order_of(o, self.rep) {
                if !self.declared.contains_key(&f.value) && aliases::builtin(&f.value).is_none() {
                    self.rep.error(
                        f.span.start,
                        Some("[dates] fields"),
                        format!("unknown field `{}`; name a field such as last_activity or created, or declare it under [fields]", f.value),
                    );
                }
                self.date_orders.insert(f.value.clone(), o);
            }
        }
        default
    }

    /// `[grades]`: both axes, each a known group with falling thresholds.
    fn grades(&mut self) -> Option<Grades> {
        let raw = &self.raw.grades;
        let span = raw.span.clone()?;
        let ctx = Some("[grades]");
        let (Some(fit), Some(eng)) = (&raw.fit, &raw.engagement) else {
            self.rep.error(
                span.start,
                ctx,
                "give both axes: fit = { group = \"fit\", A = 60, B = 40, C = 20 } and engagement = { group = \"engagement\", 1 = 40, 2 = 20, 3 = 10 }",
            );
            return None;
        };
        let fit = self.axis(fit, "fit");
        let engagement = self.axis(eng, "engagement");
        Some(Grades {
            fit: fit?,
            engagement: engagement?,
        })
    }

    fn axis(&mut self, a: &raw::RawAxis, name: &str) -> Option<Axis> {
        let ctx = format!("[grades] {name}");
        let group = match &a.group {
            None => {
                self.rep.error(
                    a.span.start,
                    Some(&ctx),
                    "needs `group`, the score group it grades",
                );
                None
            }
            Some(g) => {
                let i = self.groups.iter().position(|x| x.name == g.value);
                if i.is_none() {
                    let names: Vec<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
                    self.rep.error(
                        g.span.start,
                        Some(&ctx),
                        format!(
                            "unknown group `{}`; groups are {}",
                            g.value,
                            names.join(", ")
                        ),
                    );
                }
                i
            }
        };
        if a.thresholds.is_empty() {
            self.rep.error(
                a.span.start,
                Some(&ctx),
                "needs at least one grade and its lowest total, such as A = 60",
            );
            return None;
        }
        let mut levels: Vec<(String, i64)> = Vec::new();
        for (g, min) in &a.thresholds {
            if let Some((prev, pmin)) = levels.last() {
                if *min >= *pmin {
                    self.rep.error(
                        g.span.start,
                        Some(&ctx),
                        format!("`{}` = {min} must be below `{prev}` = {pmin}: list grades best first, each threshold lower", g.value),
                    );
                }
            }
            levels.push((g.value.clone(), *min));
        }
        let last = &levels[levels.len() - 1].0;
        let below = match last.chars().collect::<Vec<_>>()[..] {
            [c] if c.is_ascii_alphanumeric() && c != 'z' && c != 'Z' && c != '9' => {
                char::from(c as u8 + 1).to_string()
            }
            _ => {
                self.rep.error(
                    a.span.start,
                    Some(&ctx),
                    format!("the last grade `{last}` must be one letter or digit, so that the grade below it is the next one (C then D, 3 then 4)"),
                );
                return None;
            }
        };
        Some(Axis {
            group: group?,
            levels,
            below,
        })
    }

    fn marks(&mut self, names: &[Text]) -> u8 {
        let mut bits = 0;
        for m in names {
            match MARK_NAMES.iter().position(|n| *n == m.value) {
                Some(i) => bits |= 1 << i,
                None => self.err(
                    m.span.start,
                    format!(
                        "unknown mark `{}`; marks are {}",
                        m.value,
                        MARK_NAMES.join(", ")
                    ),
                ),
            }
        }
        bits
    }

    fn stages(&mut self) -> (StageConds, [Option<Shape>; 2]) {
        let mut out = [(None, String::new()), (None, String::new())];
        let mut shapes = [None, None];
        for (name, text) in &self.raw.stages {
            self.context = format!("stage `{}`", name.value);
            let slot = match name.value.as_str() {
                "opportunity" => 0,
                "prospect" => 1,
                "lead" => {
                    self.err(
                        name.span.start,
                        "`lead` is the fallback stage and takes no condition",
                    );
                    continue;
                }
                other => {
                    self.err(name.span.start, format!("unknown stage `{other}`; the stages with conditions are opportunity and prospect"));
                    continue;
                }
            };
            let (c, shape) = self.condition(text, Scope::Stage).unzip();
            out[slot] = (c, text.value.clone());
            shapes[slot] = shape;
        }
        self.context.clear();
        (out, shapes)
    }

    /// Parses and compiles one condition string from the file.
    fn condition(&mut self, text: &Text, scope: Scope) -> Option<(Cond, Shape)> {
        self.base = self.rep.string_origin(&text.span, &text.value);
        let ast = match expr::parse(&text.value) {
            Ok(a) => a,
            Err(e) => {
                self.err_in(e.at, e.message);
                return None;
            }
        };
        let before = self.rep.out.errors();
        let c = self.cond(&ast, scope);
        (self.rep.out.errors() == before).then_some(c)
    }

    /// A condition and its shape (see `trace`), node for node.
    fn cond(&mut self, e: &Expr, scope: Scope) -> (Cond, Shape) {
        let (text, at) = (e.to_string(), e.at());
        match e {
            Expr::And(items) | Expr::Or(items) => {
                let (conds, shapes) = items.iter().map(|i| self.cond(i, scope)).unzip();
                let c = if matches!(e, Expr::And(_)) {
                    Cond::And(conds)
                } else {
                    Cond::Or(conds)
                };
                (c, Shape::node(text, at, shapes))
            }
            Expr::Not(inner) => {
                let (c, shape) = self.cond(inner, scope);
                (Cond::Not(Box::new(c)), Shape::node(text, at, vec![shape]))
            }
            Expr::Bare(Operand::Name(n, _)) if self.names_define(n, scope) => {
                let (c, shape) = self.defines[n].clone();
                (c, Shape::alias(n, at, shape))
            }
            _ => (self.test(e, scope), Shape::leaf(text, at)),
        }
    }

    /// Whether `n` names a `[define]` here (group names and `total` come
    /// first, as in `name`).
    fn names_define(&self, n: &str, scope: Scope) -> bool {
        self.defines.contains_key(n)
            && !self.groups.iter().any(|g| g.name == n)
            && !(n == "total" && scope == Scope::Stage)
    }

    /// A condition that is one test as written: a comparison, a text or
    /// list test, or an operand standing alone.
    fn test(&mut self, e: &Expr, scope: Scope) -> Cond {
        match e {
            Expr::And(_) | Expr::Or(_) | Expr::Not(_) => self.cond(e, scope).0,
            Expr::Cmp(l, op, r) => self.compare(l, *op, r, scope),
            Expr::Text(l, op, pat, at) => {
                let t = self.text_operand(l, scope, "a text test");
                self.text_test(t, *op, pat, *at)
            }
            Expr::In(l, list, at, negated) => {
                let t = self.text_operand(l, scope, "`in`");
                let c = match self.lists.iter().position(|x| x.name == *list) {
                    Some(i) => {
                        self.lists[i].used = true;
                        Cond::InList(t, i)
                    }
                    None => {
                        let names: Vec<String> =
                            self.lists.iter().map(|l| l.name.clone()).collect();
                        let hint = suggest(list, names.iter().map(String::as_str))
                            .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
                        self.err_in(*at, format!("unknown list `{list}`{hint}"));
                        Cond::Const(false)
                    }
                };
                if *negated {
                    Cond::Not(Box::new(c))
                } else {
                    c
                }
            }
            Expr::Empty(l, present) => {
                let t = self.text_operand(l, scope, "`is empty`");
                let c = Cond::Empty(t);
                if *present {
                    Cond::Not(Box::new(c))
                } else {
                    c
                }
            }
            Expr::Bare(op) => match self.operand(op, scope) {
                Val::Bool(c) => c,
                Val::Text(TextX::Field(_), _) => {
                    let name = op_name(op);
                    self.err_in(op.at(), format!("`{name}` is a field, not a condition; did you mean `{name} is present`?"));
                    Cond::Const(false)
                }
                _ => {
                    self.err_in(op.at(), "a value is not a condition: compare it (`>= 10`, `= \"yes\"`) or test it (`is present`)");
                    Cond::Const(false)
                }
            },
        }
    }

    fn compare(&mut self, l: &Operand, op: CmpOp, r: &Operand, scope: Scope) -> Cond {
        let (lv, rv) = (self.operand(l, scope), self.operand(r, scope));
        match (lv, rv) {
            (Val::Bool(_), _) | (_, Val::Bool(_)) => {
                self.err_in(
                    l.at(),
                    "a condition cannot be compared; combine conditions with `and`, `or`, `not`",
                );
                Cond::Const(false)
            }
            (Val::Num(a), Val::Num(b)) => Cond::Num(a, op, b),
            (Val::Num(_), Val::Text(_, true)) | (Val::Text(_, true), Val::Num(_)) => {
                let at = if matches!(r, Operand::Str(..)) {
                    r.at()
                } else {
                    l.at()
                };
                self.err_in(
                    at,
                    "a number compared with text: write the number without quotes",
                );
                Cond::Const(false)
            }
            (Val::Num(a), Val::Text(t, false)) => Cond::Num(a, op, NumX::Read(t)),
            (Val::Text(t, false), Val::Num(b)) => Cond::Num(NumX::Read(t), op, b),
            (Val::Text(a, _), Val::Text(b, _)) => Cond::Text(a, op, b),
        }
    }

    fn text_test(&mut self, t: TextX, op: TextOp, pat: &str, at: usize) -> Cond {
        match op {
            TextOp::Matches => match Regex::new(pat) {
                Ok(re) => Cond::Matches(t, Box::new(re)),
                Err(e) => {
                    let msg = e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or("invalid")
                        .trim()
                        .trim_start_matches("error: ")
                        .to_string();
                    self.err_in(at, format!("bad regular expression: {msg}"));
                    Cond::Const(false)
                }
            },
            TextOp::Contains => {
                let lower = pat.to_lowercase();
                let finder = if lower.is_ascii() {
                    match AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build([&lower])
                    {
                        Ok(ac) => Finder::Ascii(Box::new(ac), lower.clone()),
                        Err(_) => Finder::Folded(lower),
                    }
                } else {
                    Finder::Folded(lower)
                };
                Cond::Contains(t, finder)
            }
            TextOp::StartsWith => Cond::StartsWith(t, pat.to_lowercase()),
            TextOp::EndsWith => Cond::EndsWith(t, pat.to_lowercase()),
        }
    }

    fn text_operand(&mut self, op: &Operand, scope: Scope, what: &str) -> TextX {
        match self.operand(op, scope) {
            Val::Text(t, _) => t,
            _ => {
                self.err_in(
                    op.at(),
                    format!("{what} needs text on its left, such as a field"),
                );
                TextX::Lit(String::new())
            }
        }
    }

    fn operand(&mut self, op: &Operand, scope: Scope) -> Val {
        match op {
            Operand::Str(s, _) => Val::Text(TextX::Lit(s.trim().to_lowercase()), true),
            Operand::Num(n, _) => Val::Num(NumX::Lit(*n)),
            Operand::Column(c, _) => Val::Text(TextX::Field(self.column_slot(c)), false),
            Operand::Name(n, at) => self.name(n, *at, scope),
            Operand::Call(f, args, at) => self.call(f, args, *at, scope),
        }
    }

    fn name(&mut self, n: &str, at: usize, scope: Scope) -> Val {
        if let Some(i) = self.groups.iter().position(|g| g.name == n) {
            if scope == Scope::Stage {
                return Val::Num(NumX::Group(i));
            }
            self.err_in(
                at,
                format!("group `{n}` is only known once every rule has run: use it in [stages]"),
            );
            return Val::Num(NumX::Lit(0.0));
        }
        if n == "total" && scope == Scope::Stage {
            return Val::Num(NumX::Total);
        }
        if let Some((c, _)) = self.defines.get(n) {
            return Val::Bool(c.clone());
        }
        if self.raw.defines.iter().any(|(d, _)| d.value == n) {
            self.err_in(at, format!("`{n}` is defined later in [define] (or has an error); a definition can only use the ones above it"));
            return Val::Bool(Cond::Const(false));
        }
        match n {
            "true" => return Val::Bool(Cond::Const(true)),
            "false" => return Val::Bool(Cond::Const(false)),
            "email_domain" => {
                return Val::Text(
                    TextX::Domain(Box::new(TextX::Field(self.field_slot("email")))),
                    false,
                )
            }
            _ => {}
        }
        if self.declared.contains_key(n) || aliases::builtin(n).is_some() {
            return Val::Text(TextX::Field(self.field_slot(n)), false);
        }
        let mut known: Vec<String> = aliases::BUILTIN
            .iter()
            .map(|(f, _)| f.to_string())
            .collect();
        known.extend(self.declared.keys().cloned());
        known.extend(self.raw.defines.iter().map(|(d, _)| d.value.clone()));
        known.push("email_domain".into());
        if scope == Scope::Stage {
            known.extend(self.groups.iter().map(|g| g.name.clone()));
        }
        let hint = match suggest(n, known.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? "),
            None => String::new(),
        };
        self.err_in(at, format!("unknown field `{n}`; {hint}declare it under [fields] or name a column in backticks: `{n}`"));
        Val::Text(TextX::Lit(String::new()), false)
    }

    fn call(&mut self, f: &str, args: &[Operand], at: usize, scope: Scope) -> Val {
        let one_text = |cx: &mut Self| -> TextX {
            if args.len() != 1 {
                cx.err_in(at, format!("`{f}` takes one value"));
                return TextX::Lit(String::new());
            }
            cx.text_operand(&args[0], scope, &format!("`{f}`"))
        };
        if let Some(func) = CleanFn::from_name(f) {
            return self.clean_call(func, args, at, scope);
        }
        match f {
            "domain" => Val::Text(TextX::Domain(Box::new(one_text(self))), false),
            "length" => Val::Num(NumX::Length(one_text(self))),
            "digits" => Val::Num(NumX::Digits(one_text(self))),
            "number" => Val::Num(NumX::Read(one_text(self))),
            "days_since" => {
                let t = one_text(self);
                let order = match &t {
                    TextX::Field(slot) => self.date_orders.get(&self.slots[*slot].label).copied(),
                    _ => None,
                };
                Val::Num(NumX::DaysSince(t, order))
            }
            "marks" if args.is_empty() => Val::Num(NumX::MarkCount),
            "marked" => {
                if args.is_empty() {
                    self.err_in(at, "`marked` needs at least one mark: marked(budget, authority, need, timeline)");
                }
                let mut bits = 0u8;
                for a in args {
                    match a {
                        Operand::Name(m, _) if MARK_NAMES.contains(&m.as_str()) => {
                            bits |= 1 << MARK_NAMES.iter().position(|x| x == m).unwrap_or(0);
                        }
                        other => self.err_in(
                            other.at(),
                            format!("`marked` takes mark names: {}", MARK_NAMES.join(", ")),
                        ),
                    }
                }
                if scope == Scope::Rule {
                    self.err_in(
                        at,
                        "marks are only known once every rule has run: use `marked` in [stages]",
                    );
                }
                Val::Bool(Cond::Marked(bits))
            }
            _ => {
                let mut known = vec![
                    "domain",
                    "length",
                    "digits",
                    "number",
                    "days_since",
                    "marked",
                    "marks",
                ];
                known.extend(CleanFn::ALL.iter().map(|c| c.name()));
                let hint = suggest(f, known.iter().copied())
                    .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
                self.err_in(
                    at,
                    format!(
                        "unknown function `{f}`{hint}; functions are {}",
                        known.join(", ")
                    ),
                );
                Val::Text(TextX::Lit(String::new()), false)
            }
        }
    }

    /// A cleaning call: its argument must be a field, so that its value can
    /// be computed once per row and shared by every rule that asks.
    fn clean_call(&mut self, func: CleanFn, args: &[Operand], at: usize, scope: Scope) -> Val {
        let slot = match args {
            [arg @ (Operand::Name(..) | Operand::Column(..))] => match self.operand(arg, scope) {
                Val::Text(TextX::Field(slot), _) => Some(slot),
                _ => None,
            },
            _ => None,
        };
        let Some(slot) = slot else {
            self.err_in(
                at,
                format!(
                    "`{}` takes one field, such as `{}({})`",
                    func.name(),
                    func.name(),
                    func.example_field()
                ),
            );
            return Val::Text(TextX::Lit(String::new()), false);
        };
        let i = self.derive(func, slot);
        if func.is_test() {
            Val::Bool(Cond::Not(Box::new(Cond::Empty(TextX::Derived(i)))))
        } else {
            Val::Text(TextX::Derived(i), false)
        }
    }

    /// The index of a derived value, registered once per distinct call.
    fn derive(&mut self, func: CleanFn, slot: usize) -> usize {
        let input = func
            .reads_clean_email()
            .then(|| self.derive(CleanFn::CleanEmail, slot));
        let country_slot = func.needs_region().then(|| self.field_slot("country"));
        let d = Derived {
            func,
            slot,
            country_slot,
            input,
        };
        match self.derived.iter().position(|x| *x == d) {
            Some(i) => i,
            None => {
                self.derived.push(d);
                self.derived.len() - 1
            }
        }
    }

    /// The `[clean]` section: the phone region and the fields written back.
    fn clean(&mut self) -> (Option<String>, Vec<(usize, WriteKind)>) {
        let region = self.raw.clean.phone_region.clone().and_then(|r| {
            let code = r.value.trim().to_ascii_uppercase();
            if code.len() == 2 && crate::clean::country::iso2(&code) == Some(code.as_str()) {
                Some(code)
            } else {
                self.rep.error(
                    r.span.start,
                    Some("[clean]"),
                    format!(
                        "phone_region `{}` is not an ISO 3166 country code such as `DE` or `US`",
                        r.value
                    ),
                );
                None
            }
        });
        let mut write = Vec::new();
        for f in self.raw.clean.write.clone() {
            match WriteKind::for_field(&f.value) {
                Some(k) => {
                    let slot = self.field_slot(&f.value);
                    write.push((slot, k));
                }
                None => self.rep.error(
                    f.span.start,
                    Some("[clean]"),
                    format!(
                        "write: `{}` cannot be written back; the fields that can are {}",
                        f.value,
                        WRITABLE.join(", ")
                    ),
                ),
            }
        }
        (region, write)
    }

    /// Registers the fields and cleaning calls that keys read.
    fn key_fields(&mut self) -> KeyFields {
        let email = self.field_slot("email");
        let phone = self.field_slot("phone");
        let company = self.field_slot("company");
        KeyFields {
            email: self.derive(CleanFn::CleanEmail, email),
            email_valid: self.derive(CleanFn::ValidEmail, email),
            phone: self.derive(CleanFn::PhoneE164, phone),
            phone_valid: self.derive(CleanFn::ValidPhone, phone),
            company: self.derive(CleanFn::CompanyKey, company),
            first_name: self.field_slot("first_name"),
            last_name: self.field_slot("last_name"),
        }
    }

    /// `[dedup]` and `[exclude]`, with their defaults.
    fn dedup_spec(&mut self) -> DedupSpec {
        let raw = &self.raw.dedup;
        let mut spec = DedupSpec::default();
        let ctx = Some("[dedup]");
        if let Some(keys) = &raw.keys {
            spec.keys.clear();
            for k in keys {
                match KeyKind::from_name(k.value.trim()) {
                    Some(kind) if spec.keys.contains(&kind) => self.rep.error(
                        k.span.start,
                        ctx,
                        format!("key `{}` is listed twice", k.value),
                    ),
                    Some(kind) => spec.keys.push(kind),
                    None => {
                        let names: Vec<&str> = KEY_KINDS.iter().map(|k| k.name()).collect();
                        self.rep.error(
                            k.span.start,
                            ctx,
                            format!("unknown key `{}`; keys are: {}", k.value, names.join(", ")),
                        )
                    }
                }
            }
        }
        if let Some(keep) = &raw.keep {
            spec.keep.clear();
            let mut order: Option<&Text> = None;
            for k in keep {
                let name = k.value.trim();
                if let Some(o) = order {
                    self.rep.error(
                        k.span.start,
                        ctx,
                        format!(
                            "`{name}` comes after `{}`, which already decides every tie; put `first` or `last` at the end",
                            o.value
                        ),
                    );
                    continue;
                }
                let c = match name {
                    "disqualified" => Criterion::Disqualified,
                    "stage" => Criterion::Stage,
                    "complete" => Criterion::Complete,
                    "first" | "last" => {
                        spec.order = if name == "first" {
                            Order::First
                        } else {
                            Order::Last
                        };
                        order = Some(k);
                        continue;
                    }
                    _ => {
                        self.rep.error(
                            k.span.start,
                            ctx,
                            format!(
                                "unknown criterion `{name}` in keep; criteria are: {}",
                                KEEP_NAMES.join(", ")
                            ),
                        );
                        continue;
                    }
                };
                if spec.keep.contains(&c) {
                    self.rep
                        .error(k.span.start, ctx, format!("`{name}` is listed twice"));
                } else {
                    spec.keep.push(c);
                }
            }
        }
        spec.canonical_email = raw.canonical_email.unwrap_or(false);
        spec.fill_empty = raw.fill_empty.unwrap_or(false);
        if let Some(by) = &self.raw.exclude.by {
            spec.exclude_by.clear();
            for b in by {
                match ExcludeBy::ALL
                    .into_iter()
                    .find(|x| x.name() == b.value.trim())
                {
                    Some(x) if !spec.exclude_by.contains(&x) => spec.exclude_by.push(x),
                    Some(_) => {}
                    None => self.rep.error(
                        b.span.start,
                        Some("[exclude]"),
                        format!(
                            "unknown match `{}`; lists can be matched by: email, phone, domain",
                            b.value
                        ),
                    ),
                }
            }
        }
        spec
    }

    fn field_slot(&mut self, name: &str) -> usize {
        let key = format!("field:{name}");
        if let Some(&i) = self.slot_index.get(&key) {
            return i;
        }
        let mut list: Vec<String> = self.declared.get(name).cloned().unwrap_or_default();
        list.push(aliases::normalise(name));
        if let Some(b) = aliases::builtin(name) {
            list.extend(b.iter().map(|a| aliases::normalise(a)));
        }
        let mut seen = HashSet::new();
        list.retain(|a| seen.insert(a.clone()));
        self.push_slot(
            key,
            FieldSlot {
                label: name.to_string(),
                aliases: list,
                exact: None,
                multi: aliases::MULTI.contains(&name),
            },
        )
    }

    fn column_slot(&mut self, header: &str) -> usize {
        let key = format!("column:{header}");
        if let Some(&i) = self.slot_index.get(&key) {
            return i;
        }
        let slot = FieldSlot {
            label: format!("`{header}`"),
            aliases: vec![aliases::normalise(header)],
            exact: Some(header.to_string()),
            multi: false,
        };
        self.push_slot(key, slot)
    }

    fn push_slot(&mut self, key: String, slot: FieldSlot) -> usize {
        self.slots.push(slot);
        self.slot_index.insert(key, self.slots.len() - 1);
        self.slots.len() - 1
    }
}

fn op_name(op: &Operand) -> String {
    match op {
        Operand::Name(n, _) => n.clone(),
        Operand::Column(c, _) => format!("`{c}`"),
        _ => "value".into(),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

impl Compiled {
    pub fn stage_condition(&self, stage: Stage) -> Option<(&Cond, &str)> {
        let i = match stage {
            Stage::Opportunity => 0,
            Stage::Prospect => 1,
            _ => return None,
        };
        self.stages[i]
            .0
            .as_ref()
            .map(|c| (c, self.stages[i].1.as_str()))
    }
}
