//! Recording how a row was decided, for `leadsift explain` and `leadsift
//! test`, and the source form of each compiled condition that such a
//! record is read against.
//!
//! Evaluation (`eval`) is generic over a [`Tracer`]. The run uses
//! [`NoTrace`], whose methods are empty and inline away: the production
//! path allocates nothing and branches on nothing for tracing. Explanations
//! use [`Trace`], which builds one [`Step`] per condition node evaluated
//! (whether it held, the values it read, the steps of its parts). Parts
//! skipped by short-circuiting (`a or b` when `a` holds) have no step, so
//! a trace says exactly what the run looked at.
//!
//! A [`Shape`] is a compiled condition's source form, node for node, built
//! once at compile time: it lets a trace (and the static checks) be printed
//! as the rules file wrote it, with `[define]` names kept.
//!
//! Adding a value kind to the condition language (a `NumX` or `TextX`
//! variant) needs one arm in its `label` here; `eval` records its value.

use super::eval::{NumX, TextX};
use super::value::format_number;
use super::{Compiled, Stage};

/// Which condition of the rules a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Usable,
    /// The rule at this index of `Compiled::rules`.
    Rule(usize),
    Stage(Stage),
}

/// A value a condition read, as it read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Text, trimmed, placeholders empty.
    Text(String),
    /// The result of a test function such as `free_mail(email)`.
    Test(bool),
    /// A number; `None` when none could be read.
    Number(Option<f64>),
    /// The BANT marks set so far (bits as in `MARK_NAMES`).
    Marks(u8),
}

/// What evaluation reports while it decides a row. Every method has to be
/// cheap to call with nothing to do: see [`NoTrace`].
pub trait Tracer {
    /// Whether anything is recorded: work done only for the record (such
    /// as reading the inputs of a value already computed) is skipped at
    /// compile time when not.
    const ON: bool;
    /// The evaluation of `part`'s condition starts.
    fn begin(&mut self, part: Part);
    /// A condition node is entered.
    fn enter(&mut self);
    /// The node entered last is left, and whether it held.
    fn leave(&mut self, held: bool);
    /// The current node read a value: its name and what it was. Called
    /// lazily, so that a tracer that records nothing builds nothing.
    fn value(&mut self, what: impl FnOnce() -> (String, Seen));
}

/// The tracer of the run: records nothing, costs nothing.
pub struct NoTrace;

impl Tracer for NoTrace {
    const ON: bool = false;
    #[inline(always)]
    fn begin(&mut self, _: Part) {}
    #[inline(always)]
    fn enter(&mut self) {}
    #[inline(always)]
    fn leave(&mut self, _: bool) {}
    #[inline(always)]
    fn value(&mut self, _: impl FnOnce() -> (String, Seen)) {}
}

/// One condition node as evaluated on one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    pub held: bool,
    /// The values the node itself read, in order, each once.
    pub values: Vec<(String, Seen)>,
    /// The steps of the node's parts that were evaluated, in order: a
    /// prefix of its parts.
    pub parts: Vec<Step>,
}

impl Step {
    /// The values of this step and all its parts, in order, each name once.
    pub fn all_values(&self) -> Vec<(String, Seen)> {
        let mut out: Vec<(String, Seen)> = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<(String, Seen)>) {
        for (n, v) in &self.values {
            if !out.iter().any(|(m, _)| m == n) {
                out.push((n.clone(), v.clone()));
            }
        }
        for p in &self.parts {
            p.collect(out);
        }
    }
}

/// The record of one row's evaluation: a step tree per condition
/// evaluated, in the order the run evaluated them.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub parts: Vec<(Part, Step)>,
    current: Option<Part>,
    stack: Vec<Step>,
}

impl Trace {
    pub fn clear(&mut self) {
        self.parts.clear();
        self.current = None;
        self.stack.clear();
    }

    /// The step tree of `part`, if its condition was evaluated.
    pub fn step(&self, part: Part) -> Option<&Step> {
        self.parts.iter().find(|(p, _)| *p == part).map(|(_, s)| s)
    }
}

impl Tracer for Trace {
    const ON: bool = true;
    fn begin(&mut self, part: Part) {
        self.current = Some(part);
        self.stack.clear();
    }

    fn enter(&mut self) {
        self.stack.push(Step::default());
    }

    fn leave(&mut self, held: bool) {
        let Some(mut step) = self.stack.pop() else {
            return;
        };
        step.held = held;
        match self.stack.last_mut() {
            Some(parent) => parent.parts.push(step),
            None => {
                if let Some(part) = self.current {
                    self.parts.push((part, step));
                }
            }
        }
    }

    fn value(&mut self, what: impl FnOnce() -> (String, Seen)) {
        if let Some(step) = self.stack.last_mut() {
            let (name, seen) = what();
            if !step.values.iter().any(|(n, _)| *n == name) {
                step.values.push((name, seen));
            }
        }
    }
}

/// How a [`Shape`] stands for the compiled condition node it mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeKind {
    /// One node; its parts mirror the node's parts (`and`, `or`, `not`).
    Node,
    /// One test as written (`x not in list`, `free_mail(email)`), whatever
    /// nodes it compiled to: shown on one line with every value it read.
    Leaf,
    /// A `[define]` used by name: a line of its own for the same node as
    /// its one part, the definition.
    Alias,
}

/// The source form of a compiled condition, node for node.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub text: String,
    /// Byte offset in the condition text where the node starts.
    pub at: usize,
    pub kind: ShapeKind,
    pub parts: Vec<Shape>,
}

impl Shape {
    pub fn leaf(text: String, at: usize) -> Shape {
        Shape {
            text,
            at,
            kind: ShapeKind::Leaf,
            parts: Vec::new(),
        }
    }

    pub fn node(text: String, at: usize, parts: Vec<Shape>) -> Shape {
        Shape {
            text,
            at,
            kind: ShapeKind::Node,
            parts,
        }
    }

    /// The shape of a `[define]` named `name` where it is used.
    pub fn alias(name: &str, at: usize, definition: Shape) -> Shape {
        Shape {
            text: name.to_string(),
            at,
            kind: ShapeKind::Alias,
            parts: vec![definition],
        }
    }
}

impl TextX {
    /// How explanations name the value: `title`, `seniority(title)`,
    /// `email_domain`.
    pub fn label(&self, rules: &Compiled) -> String {
        match self {
            TextX::Field(slot) => slot_label(rules, *slot),
            TextX::Domain(inner) => match &**inner {
                TextX::Field(s) if slot_label(rules, *s) == "email" => "email_domain".into(),
                other => format!("domain({})", other.label(rules)),
            },
            TextX::Lit(s) => format!("\"{s}\""),
            TextX::Derived(i) => derived_label(rules, *i),
        }
    }
}

impl NumX {
    /// How explanations name the value: `fit`, `number(budget)`,
    /// `digits(phone)`.
    pub fn label(&self, rules: &Compiled) -> String {
        match self {
            NumX::Lit(x) => format_number(*x),
            NumX::Read(t) => format!("number({})", t.label(rules)),
            NumX::Length(t) => format!("length({})", t.label(rules)),
            NumX::Digits(t) => format!("digits({})", t.label(rules)),
            NumX::Group(g) => rules
                .groups
                .get(*g)
                .map_or_else(|| format!("group {g}"), |x| x.name.clone()),
            NumX::Total => "total".into(),
            NumX::MarkCount => "marks()".into(),
            NumX::DaysSince(t, _) => format!("days_since({})", t.label(rules)),
            NumX::Memo(_, inner) => inner.label(rules),
        }
    }
}

pub fn slot_label(rules: &Compiled, slot: usize) -> String {
    rules
        .slots
        .get(slot)
        .map_or_else(|| format!("field {slot}"), |s| s.label.clone())
}

/// `seniority(title)`: the call a derived value stands for.
pub fn derived_label(rules: &Compiled, i: usize) -> String {
    match rules.derived.get(i) {
        Some(d) => format!("{}({})", d.func.name(), slot_label(rules, d.slot)),
        None => format!("derived {i}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{bind, Record};
    use crate::rules::derive::Memo;
    use crate::rules::{compile, Origin, RowView, Scratch, Verdict};

    const RULES: &str = r#"
[define]
senior = 'seniority(title) in leaders'
[lists]
leaders = ["vp", "c-level"]
[[rule]]
id = "a"
when = 'senior and budget >= 1000'
fit = 50
[[rule]]
id = "b"
when = 'email is empty or title contains "vp"'
fit = 1
[stages]
prospect = "fit >= 40"
"#;

    /// Evaluates one row both ways: the verdicts must be the same.
    fn traced(row: &[(&str, &str)]) -> (Verdict, Trace) {
        let rules = compile(Origin::Builtin, RULES).unwrap_or_else(|d| panic!("{d}"));
        let headers: Vec<String> = row.iter().map(|(h, _)| h.to_string()).collect();
        let mut rec = Record::default();
        for (_, v) in row {
            rec.push_field(v.as_bytes());
        }
        let binding = bind(&headers, &rules);
        let (m1, m2) = (
            Memo::new(rules.derived.len()),
            Memo::new(rules.derived.len()),
        );
        let groups = rules.groups.len();
        let (mut plain, mut v) = (Verdict::new(groups), Verdict::new(groups));
        let view = RowView::new(&rec, &binding, &[], &rules.placeholders, &m1).unwrap();
        rules.evaluate(&view, &mut Scratch::default(), &mut plain);
        let view = RowView::new(&rec, &binding, &[], &rules.placeholders, &m2).unwrap();
        let mut t = Trace::default();
        rules.evaluate_traced(&view, &mut Scratch::default(), &mut v, &mut t);
        assert_eq!(format!("{plain:?}"), format!("{v:?}"));
        (v, t)
    }

    #[test]
    fn a_trace_holds_what_was_evaluated_and_read() {
        let (v, t) = traced(&[
            ("email", "a@b.io"),
            ("title", "VP Sales"),
            ("budget", "$5,000"),
        ]);
        assert_eq!(v.fired, [0, 1]);
        let a = t.step(Part::Rule(0)).unwrap();
        assert!(a.held);
        assert_eq!(a.parts.len(), 2);
        let senior = &a.parts[0].all_values();
        assert_eq!(
            senior,
            &[
                ("title".to_string(), Seen::Text("VP Sales".into())),
                ("seniority(title)".to_string(), Seen::Text("vp".into()))
            ]
        );
        assert_eq!(
            a.parts[1].values,
            [
                ("budget".to_string(), Seen::Text("$5,000".into())),
                ("number(budget)".to_string(), Seen::Number(Some(5000.0)))
            ]
        );
        // An `or` goes on past a part that fails.
        let b = t.step(Part::Rule(1)).unwrap();
        assert_eq!(b.parts.len(), 2);
        assert!(!b.parts[0].held && b.parts[1].held);
        let stage = t.step(Part::Stage(Stage::Prospect)).unwrap();
        assert_eq!(
            stage.values,
            [("fit".to_string(), Seen::Number(Some(51.0)))]
        );
        assert!(
            t.step(Part::Stage(Stage::Opportunity)).is_none(),
            "no condition"
        );
    }

    #[test]
    fn an_and_stops_at_the_first_part_that_fails() {
        let (v, t) = traced(&[("email", ""), ("title", "Engineer"), ("phone", "1")]);
        assert_eq!(v.fired, [1]);
        let a = t.step(Part::Rule(0)).unwrap();
        assert_eq!(a.parts.len(), 1, "budget is never read");
        assert!(!a.held);
        let b = t.step(Part::Rule(1)).unwrap();
        assert_eq!(b.parts.len(), 1, "title is never read");
        assert!(t.step(Part::Usable).unwrap().held);
    }
}
