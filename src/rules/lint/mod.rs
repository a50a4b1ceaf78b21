//! Static checks of compiled rules: warnings for what no row can ever do.
//!
//! - a stage no row can reach (a threshold above what its group's rules
//!   can add up to, or above its cap; a mark no rule sets; a stage below
//!   one that always holds);
//! - a test that can never hold: a derived value compared with something
//!   it never is (`seniority(title) = "ceo"`, `phone_e164(phone) starts
//!   with "0049"`), an empty list, two constants compared;
//! - points given to a group that no stage condition reads;
//!
//! (A list defined but never used is found by `compile`.) Each check
//! over-approximates what rows can do (every rule may fire, any value may
//! come): a warning is always right, but not every dead condition is found.
//! Warnings never stop a run; `check --strict` fails on them.

mod values;

use super::diag::Reporter;
use super::eval::{Cond, Finder, NumX, TextX};
use super::expr::CmpOp;
use super::raw::{RawRules, Text};
use super::trace::{Shape, ShapeKind};
use super::value::read_number;
use super::Compiled;
use values::{negate, possible, Domain, Interval, Probe};

/// Adds every warning about `r` to `rep`.
pub fn check(r: &Compiled, raw: &RawRules, rep: &mut Reporter) {
    let cx = Facts::new(r);
    if let (Some((c, _, _)), Some(shape), Some((when, _))) =
        (&r.usable, &r.usable_shape, &raw.usable)
    {
        cx.report(c, shape, when, "[usable]", "every row is rejected", rep);
    }
    for rule in &r.rules {
        let raw_rule = raw.rules.iter().find(|x| x.id.value == rule.id);
        let Some(when) = raw_rule.and_then(|x| x.when.as_ref()) else {
            continue;
        };
        let ctx = format!("rule `{}`", rule.id);
        cx.report(
            &rule.when,
            &rule.shape,
            when,
            &ctx,
            "the rule never fires",
            rep,
        );
    }
    let mut always = None;
    for (i, name) in ["opportunity", "prospect"].into_iter().enumerate() {
        let (Some(c), Some(shape)) = (&r.stages[i].0, &r.stage_shapes[i]) else {
            continue;
        };
        let Some((key, text)) = raw.stages.iter().find(|(k, _)| k.value == name) else {
            continue;
        };
        let ctx = format!("stage `{name}`");
        if let Some(above) = always {
            rep.warn(
                key.span.start,
                Some(&ctx),
                format!("no row can reach it: the condition of `{above}` always holds"),
            );
            continue;
        }
        let can = cx.report(c, shape, text, &ctx, "no row can reach the stage", rep);
        if !can.fail {
            always = Some(name);
        }
    }
    unread_groups(r, raw, rep);
}

/// Whether a condition can hold on some row, and whether it can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Can {
    hold: bool,
    fail: bool,
}

const EITHER: Can = Can {
    hold: true,
    fail: true,
};

impl Can {
    fn constant(b: bool) -> Can {
        Can { hold: b, fail: !b }
    }
}

/// Where a `[define]` is used, and its name.
type Via<'s> = Option<(usize, &'s str)>;

/// A test found dead or constant: where, and why.
struct Note {
    at: usize,
    text: String,
    /// The `[define]` it is part of, when it is.
    define: Option<String>,
    why: String,
    /// `true`: it always holds (two constants); else it never holds.
    always: bool,
}

/// What the rules allow, worked out once.
struct Facts<'a> {
    r: &'a Compiled,
    /// Per group: the lowest and highest total after caps, and the raw
    /// sums of negative and positive points, from rules that do not
    /// disqualify (when one fires, no stage is checked).
    groups: Vec<(i64, i64, i64, i64)>,
    /// The marks some rule sets.
    marks: u8,
}

impl<'a> Facts<'a> {
    fn new(r: &'a Compiled) -> Self {
        let groups = r
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let (mut neg, mut pos) = (0i64, 0i64);
                for rule in r.rules.iter().filter(|x| x.disqualify.is_none()) {
                    for &(rg, p) in &rule.points {
                        if rg == g {
                            if p < 0 {
                                neg += p;
                            } else {
                                pos += p;
                            }
                        }
                    }
                }
                (group.bound(neg), group.bound(pos), neg, pos)
            })
            .collect();
        let marks = r.rules.iter().fold(0, |m, x| m | x.marks);
        Facts { r, groups, marks }
    }

    /// Warns about the dead and constant tests of one condition; returns
    /// what the whole can do.
    fn report(
        &self,
        c: &Cond,
        shape: &Shape,
        text: &Text,
        ctx: &str,
        consequence: &str,
        rep: &mut Reporter,
    ) -> Can {
        let mut notes = Vec::new();
        let can = self.cond(c, shape, None, &mut notes);
        let (start, exact) = rep.string_origin(&text.span, &text.value);
        let mut seen = Vec::new();
        for n in notes {
            if seen.contains(&(n.at, n.text.clone())) {
                continue;
            }
            seen.push((n.at, n.text.clone()));
            let at = if exact { start + n.at } else { start };
            let what = match &n.define {
                Some(d) => format!("`{}` (in `{d}`)", n.text),
                None => format!("`{}`", n.text),
            };
            let msg = if n.always {
                format!("{what} always holds: {}", n.why)
            } else if !can.hold {
                format!("{what} can never hold: {}; {consequence}", n.why)
            } else {
                format!("{what} can never hold: {}", n.why)
            };
            rep.warn(at, Some(ctx), msg);
        }
        can
    }

    /// `via`: inside a `[define]`, where it is used and its name (the
    /// define's own offsets are in another text).
    fn cond(&self, c: &Cond, shape: &Shape, via: Via, notes: &mut Vec<Note>) -> Can {
        let mut shape = shape;
        let mut via = via;
        while shape.kind == ShapeKind::Alias {
            via = via.or(Some((shape.at, &shape.text)));
            match shape.parts.first() {
                Some(s) => shape = s,
                None => break,
            }
        }
        let part = |i: usize| match shape.kind {
            ShapeKind::Node => shape.parts.get(i).unwrap_or(shape),
            _ => shape,
        };
        match c {
            Cond::And(items) => {
                let cans: Vec<Can> = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.cond(x, part(i), via, notes))
                    .collect();
                Can {
                    hold: cans.iter().all(|c| c.hold),
                    fail: cans.iter().any(|c| c.fail),
                }
            }
            Cond::Or(items) => {
                let cans: Vec<Can> = items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.cond(x, part(i), via, notes))
                    .collect();
                Can {
                    hold: cans.iter().any(|c| c.hold),
                    fail: cans.iter().all(|c| c.fail),
                }
            }
            Cond::Not(inner) => {
                let k = self.cond(inner, part(0), via, notes);
                Can {
                    hold: k.fail,
                    fail: k.hold,
                }
            }
            leaf => {
                let (can, why) = self.leaf(leaf);
                if let Some(why) = why {
                    notes.push(Note {
                        at: via.map_or(shape.at, |v| v.0),
                        text: shape.text.clone(),
                        define: via.map(|v| v.1.to_string()),
                        always: can.hold && !can.fail,
                        why,
                    });
                }
                can
            }
        }
    }

    /// What one test can do, and why when it is dead or constant.
    fn leaf(&self, c: &Cond) -> (Can, Option<String>) {
        let dead = |why: String| (Can::constant(false), Some(why));
        match c {
            Cond::Const(false) => dead("`false` never holds".into()),
            Cond::Const(true) => (Can::constant(true), None),
            Cond::Num(a, op, b) => self.compare(a, *op, b),
            Cond::Text(TextX::Lit(x), op, TextX::Lit(y)) => {
                let holds = !x.is_empty() && !y.is_empty() && op.holds(x.cmp(y));
                (Can::constant(holds), Some(constants()))
            }
            Cond::Text(a, CmpOp::Eq, TextX::Lit(l)) | Cond::Text(TextX::Lit(l), CmpOp::Eq, a) => {
                self.values(a, |d| d.allows(&Probe::Is(l)), &format!("\"{l}\""))
            }
            Cond::InList(t, l) => {
                let list = &self.r.lists[*l];
                if list.set.is_empty() {
                    return dead(format!("list `{}` is empty", list.name));
                }
                if let TextX::Lit(x) = t {
                    let holds = !x.is_empty() && list.set.contains(x);
                    return (Can::constant(holds), Some(constants()));
                }
                let what = format!("an entry of list `{}`", list.name);
                self.values(
                    t,
                    |d| list.set.iter().any(|e| d.allows(&Probe::Is(e))),
                    &what,
                )
            }
            Cond::StartsWith(t, p) => {
                let what = format!("starting with \"{p}\"");
                self.values(t, |d| d.allows(&Probe::Starts(p)), &what)
            }
            Cond::EndsWith(t, p) => {
                let what = format!("ending with \"{p}\"");
                self.values(t, |d| d.allows(&Probe::Ends(p)), &what)
            }
            Cond::Contains(t, Finder::Folded(p)) => {
                let what = format!("containing \"{p}\"");
                self.values(t, |d| d.allows(&Probe::Contains(p)), &what)
            }
            Cond::Matches(t, re) => {
                let what = format!("matching \"{}\"", re.as_str());
                self.values(t, |d| d.allows(&Probe::Matches(re)), &what)
            }
            Cond::Empty(TextX::Lit(x)) => (Can::constant(x.is_empty()), Some(constants())),
            Cond::Marked(bits) => {
                let missing = bits & !self.marks;
                if missing == 0 {
                    return (EITHER, None);
                }
                let names = crate::rules::MARK_NAMES
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| missing & (1 << i) != 0)
                    .map(|(_, m)| *m)
                    .collect::<Vec<_>>()
                    .join(", ");
                dead(format!("no rule sets the mark {names}"))
            }
            _ => (EITHER, None),
        }
    }

    /// A test on a derived value with a closed set of values: dead when no
    /// value of the set passes `ok`.
    fn values(&self, t: &TextX, ok: impl Fn(&Domain) -> bool, what: &str) -> (Can, Option<String>) {
        let TextX::Derived(i) = t else {
            return (EITHER, None);
        };
        let Some(d) = self.r.derived.get(*i) else {
            return (EITHER, None);
        };
        let Some(domain) = Domain::of(d.func) else {
            return (EITHER, None);
        };
        if ok(&domain) {
            return (EITHER, None);
        }
        let label = super::trace::derived_label(self.r, *i);
        let why = format!("{label} is {}, never {what}", domain.describe());
        (Can::constant(false), Some(why))
    }

    fn compare(&self, a: &NumX, op: CmpOp, b: &NumX) -> (Can, Option<String>) {
        let (x, y) = (self.interval(a), self.interval(b));
        if x.never || y.never {
            let side = if x.never { a } else { b };
            let why = format!("{} is never a number", side.label(self.r));
            return (Can::constant(false), Some(why));
        }
        let hold = possible(op, &x, &y);
        let fail = x.maybe_none || y.maybe_none || possible(negate(op), &x, &y);
        let can = Can { hold, fail };
        if x.is_exact() && y.is_exact() {
            return (can, Some(constants()));
        }
        if hold {
            return (can, None);
        }
        let why = [(a, &x), (b, &y)]
            .iter()
            .filter_map(|(n, iv)| self.describe(n, iv))
            .collect::<Vec<_>>()
            .join("; ");
        (can, Some(why))
    }

    fn interval(&self, n: &NumX) -> Interval {
        match n {
            NumX::Lit(x) => Interval::exact(*x),
            NumX::Read(TextX::Lit(s)) => match read_number(s) {
                Some(x) => Interval::exact(x),
                None => Interval {
                    never: true,
                    ..Interval::ANY
                },
            },
            NumX::Length(TextX::Lit(s)) => Interval::exact(s.chars().count() as f64),
            NumX::Digits(TextX::Lit(s)) => {
                Interval::exact(s.bytes().filter(u8::is_ascii_digit).count() as f64)
            }
            NumX::Length(_) | NumX::Digits(_) => Interval {
                lo: 0.0,
                maybe_none: false,
                ..Interval::ANY
            },
            NumX::Group(g) => {
                let (lo, hi, _, _) = self.groups[*g];
                Interval::between(lo as f64, hi as f64)
            }
            NumX::Total => {
                let lo: i64 = self.groups.iter().map(|g| g.0).sum();
                let hi: i64 = self.groups.iter().map(|g| g.1).sum();
                Interval::between(lo as f64, hi as f64)
            }
            NumX::MarkCount => Interval::between(0.0, f64::from(self.marks.count_ones())),
            _ => Interval::ANY,
        }
    }

    /// Why a value is confined to its interval, for messages.
    fn describe(&self, n: &NumX, iv: &Interval) -> Option<String> {
        let range = format!(
            "between {} and {}",
            super::value::format_number(iv.lo),
            super::value::format_number(iv.hi)
        );
        match n {
            NumX::Group(g) => {
                let group = &self.r.groups[*g];
                let (_, _, neg, pos) = self.groups[*g];
                let mut limits = Vec::new();
                if let Some(c) = group.cap {
                    limits.push(format!("cap {c}"));
                }
                if let Some(f) = group.floor {
                    limits.push(format!("floor {f}"));
                }
                let limits = if limits.is_empty() {
                    String::new()
                } else {
                    format!(", {}", limits.join(", "))
                };
                Some(format!(
                    "{} is {range} (its rules give {neg} to {pos} points{limits})",
                    group.name
                ))
            }
            NumX::Total => Some(format!("total is {range} (the sum of the groups)")),
            NumX::MarkCount => Some(format!("marks() is {range} (marks some rule sets)")),
            NumX::Length(_) | NumX::Digits(_) => {
                Some(format!("{} is never negative", n.label(self.r)))
            }
            _ => None,
        }
    }
}

fn constants() -> String {
    "it compares two constants".into()
}

/// Warns about groups that get points but that no stage condition reads.
fn unread_groups(r: &Compiled, raw: &RawRules, rep: &mut Reporter) {
    let mut read = vec![false; r.groups.len()];
    let mut total = false;
    for c in r.stages.iter().filter_map(|(c, _)| c.as_ref()) {
        groups_read(c, &mut read, &mut total);
    }
    if let Some(g) = &r.grades {
        read[g.fit.group] = true;
        read[g.engagement.group] = true;
    }
    if total {
        return;
    }
    for (g, group) in r.groups.iter().enumerate() {
        if read[g] {
            continue;
        }
        let givers: Vec<&super::Rule> = r
            .rules
            .iter()
            .filter(|x| x.points.iter().any(|&(rg, p)| rg == g && p != 0))
            .collect();
        let Some(first) = givers.first() else {
            continue;
        };
        let at = raw
            .rules
            .iter()
            .find(|x| x.id.value == first.id)
            .and_then(|x| x.points.iter().find(|(k, _)| k.value == group.name))
            .map_or(0, |(k, _)| k.span.start);
        let others = match givers.len() - 1 {
            0 => String::new(),
            n => format!(" (and from {n} other rule(s))"),
        };
        rep.warn(
            at,
            Some(&format!("rule `{}`", first.id)),
            format!(
                "group `{}` gets points here{others}, but no stage condition reads `{}` (nor `total`) and [grades] does not: they change no stage, only the leadsift_{} column",
                group.name, group.name, group.name
            ),
        );
    }
}

fn groups_read(c: &Cond, read: &mut [bool], total: &mut bool) {
    let mut num = |n: &NumX| match n {
        NumX::Group(g) => read[*g] = true,
        NumX::Total => *total = true,
        _ => {}
    };
    match c {
        Cond::And(items) | Cond::Or(items) => {
            for i in items {
                groups_read(i, read, total);
            }
        }
        Cond::Not(inner) => groups_read(inner, read, total),
        Cond::Num(a, _, b) => {
            num(a);
            num(b);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{compile, Origin};

    fn warnings(rules: &str) -> Vec<String> {
        let c = compile(Origin::Builtin, rules).unwrap_or_else(|d| panic!("{d}"));
        c.warnings
            .items
            .iter()
            .map(|d| {
                let ctx = d.context.as_deref().unwrap_or("");
                format!("{}:{}: {ctx}: {}", d.line, d.column, d.message)
            })
            .collect()
    }

    #[test]
    fn the_shipped_rules_have_no_warnings() {
        assert_eq!(warnings(crate::rules::DEFAULT_RULES), Vec::<String>::new());
        assert_eq!(
            warnings(crate::rules::TRADE_SHOW_RULES),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unreachable_stages() {
        let w = warnings(
            r#"
[groups]
fit = { cap = 50 }
engagement = {}
[[rule]]
id = "vp"
when = 'title contains "vp"'
fit = 30
engagement = 20
[[rule]]
id = "rival"
when = 'email ends with "@rival.io"'
fit = 100
disqualify = "rival"
[stages]
opportunity = "engagement >= 10 and fit >= 60"
prospect = "marked(budget) or engagement > 20"
"#,
        );
        assert_eq!(w.len(), 3, "{w:#?}");
        assert!(w[0].starts_with("16:37: stage `opportunity`: `fit >= 60` can never hold: fit is between 0 and 30 (its rules give 0 to 30 points, cap 50); no row can reach the stage"), "{w:#?}");
        assert!(w[1].starts_with("17:13: stage `prospect`: `marked(budget)` can never hold: no rule sets the mark budget"), "{w:#?}");
        assert!(w[2].starts_with("17:31: stage `prospect`: `engagement > 20` can never hold: engagement is between 0 and 20 (its rules give 0 to 20 points); no row can reach the stage"), "{w:#?}");
    }

    #[test]
    fn dead_tests_and_constants() {
        let w = warnings(
            r#"
[lists]
bosses = ["ceo", "chief"]
[define]
boss = 'seniority(title) in bosses'
[[rule]]
id = "a"
when = 'seniority(title) = "ceo" or boss'
fit = 1
[[rule]]
id = "b"
when = 'phone_e164(phone) starts with "0049" and 5 > 3'
fit = 1
[[rule]]
id = "c"
when = 'country_code(country) = "germany" or department(title) = "sales"'
fit = 1
[stages]
prospect = "fit >= 1"
"#,
        );
        let all = w.join("\n");
        for want in [
            "8:9: rule `a`: `seniority(title) = \"ceo\"` can never hold: seniority(title) is one of c-level, director, individual, intern, manager, vp, never \"ceo\"; the rule never fires",
            "8:37: rule `a`: `seniority(title) in bosses` (in `boss`) can never hold: seniority(title) is one of c-level, director, individual, intern, manager, vp, never an entry of list `bosses`; the rule never fires",
            "12:9: rule `b`: `phone_e164(phone) starts with \"0049\"` can never hold: phone_e164(phone) is a number in E.164 form",
            "12:50: rule `b`: `5 > 3` always holds: it compares two constants",
            "16:9: rule `c`: `country_code(country) = \"germany\"` can never hold",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
        assert!(!all.contains("department"), "{all}");
    }

    #[test]
    fn points_no_stage_reads() {
        let w = warnings(
            r#"
[groups]
fit = {}
engagement = {}
[[rule]]
id = "a"
when = 'title contains "vp"'
fit = 10
engagement = 5
[[rule]]
id = "b"
when = 'title contains "cto"'
engagement = 5
[stages]
prospect = "fit >= 10"
"#,
        );
        assert_eq!(w.len(), 1, "{w:#?}");
        assert!(w[0].starts_with("9:1: rule `a`: group `engagement` gets points here (and from 1 other rule(s)), but no stage condition reads `engagement`"), "{w:#?}");
        let w = warnings(
            "[[rule]]\nid = \"a\"\nwhen = 'title contains \"vp\"'\nfit = 10\nengagement = 5\n[stages]\nprospect = \"total >= 10\"\n",
        );
        assert!(w.is_empty(), "{w:#?}");
    }

    #[test]
    fn a_stage_below_one_that_always_holds() {
        let w = warnings(
            "[[rule]]\nid = \"a\"\nwhen = 'title contains \"vp\"'\nfit = 10\nengagement = 1\n[stages]\nopportunity = \"fit >= 0\"\nprospect = \"engagement >= 1\"\n",
        );
        assert_eq!(w.len(), 1, "{w:#?}");
        assert!(
            w[0].contains("stage `prospect`: no row can reach it: the condition of `opportunity` always holds"),
            "{w:#?}"
        );
    }
}
