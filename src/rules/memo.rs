//! The evaluation plan: work shared between conditions is done once per row.
//!
//! After compiling, the conditions of `[usable]`, the rules and the stages
//! are looked at together:
//!
//! - a test or a number that appears more than once (a `[define]` used by
//!   several rules, `number(company_size)` compared with five thresholds,
//!   `days_since(last_activity)` in every decaying rule) is computed on the
//!   row's first use and remembered for the row ([`Cond::Memo`],
//!   [`NumX::Memo`]);
//! - the regular expressions that read the same value are run as one set
//!   (one pass over the text answers all of them: [`Cond::MatchesIn`]),
//!   with a search cache of each worker's own;
//! - the `contains` tests of the same value search for all their words in
//!   one Aho-Corasick pass ([`Cond::ContainsIn`]).
//!
//! None of this changes what a condition means: each rewritten node answers
//! what the node it replaces would, and the traced evaluation behind
//! `explain` ignores the plan and evaluates every node as written.

use std::collections::HashMap;

use aho_corasick::AhoCorasick;

use super::eval::{Cond, Finder, NumX, TextX};
use super::set::RegexSet;
use super::Compiled;

/// The shared work of a rules file, sized for each row's memo.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Remembered conditions.
    pub conds: usize,
    /// Remembered numbers.
    pub nums: usize,
    /// Regular-expression sets, each over one value.
    pub sets: Vec<RegexSet>,
    /// Word searches, each over one value: the automaton and its words.
    pub finders: Vec<(AhoCorasick, usize)>,
    /// Which plan this is (0: none yet), so that a worker's search caches
    /// of `sets` are never used with another plan's sets.
    pub id: u64,
}

/// Rewrites the conditions of `rules` to share work (see the module).
pub fn plan(rules: &mut Compiled) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut num_counts: HashMap<String, usize> = HashMap::new();
    for_each_cond(rules, |c| count(c, &mut counts, &mut num_counts));
    let mut ids = Ids::default();
    let mut take = |c: &mut Cond| {
        let old = std::mem::replace(c, Cond::Const(false));
        *c = rewrite(old, &counts, &num_counts, &mut ids);
    };
    if let Some((c, _, _)) = &mut rules.usable {
        take(c);
    }
    for r in &mut rules.rules {
        take(&mut r.when);
    }
    for (c, _) in rules.stages.iter_mut() {
        if let Some(c) = c {
            take(c);
        }
    }
    static PLANS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let mut plan = Plan {
        conds: ids.conds.len(),
        nums: ids.nums.len(),
        id: PLANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        ..Plan::default()
    };
    group_regexes(rules, &mut plan);
    group_words(rules, &mut plan);
    rules.memo = plan;
    rules.program = super::program::Program::build(rules);
}

#[derive(Default)]
struct Ids {
    conds: HashMap<String, u32>,
    nums: HashMap<String, u32>,
}

fn for_each_cond(rules: &Compiled, mut f: impl FnMut(&Cond)) {
    if let Some((c, _, _)) = &rules.usable {
        f(c);
    }
    for r in &rules.rules {
        f(&r.when);
    }
    for (c, _) in &rules.stages {
        if let Some(c) = c {
            f(c);
        }
    }
}

fn for_each_cond_mut(rules: &mut Compiled, f: &mut impl FnMut(&mut Cond)) {
    if let Some((c, _, _)) = &mut rules.usable {
        walk_mut(c, f);
    }
    for r in &mut rules.rules {
        walk_mut(&mut r.when, f);
    }
    for (c, _) in rules.stages.iter_mut() {
        if let Some(c) = c {
            walk_mut(c, f);
        }
    }
}

/// Calls `f` on every node, parents first.
fn walk_mut(c: &mut Cond, f: &mut impl FnMut(&mut Cond)) {
    f(c);
    match c {
        Cond::And(items) | Cond::Or(items) => items.iter_mut().for_each(|i| walk_mut(i, f)),
        Cond::Not(inner) | Cond::Memo(_, inner) => walk_mut(inner, f),
        _ => {}
    }
}

fn count(c: &Cond, counts: &mut HashMap<String, usize>, nums: &mut HashMap<String, usize>) {
    if let Some(k) = cond_key(c) {
        *counts.entry(k).or_default() += 1;
    }
    match c {
        Cond::And(items) | Cond::Or(items) => items.iter().for_each(|i| count(i, counts, nums)),
        Cond::Not(inner) | Cond::Memo(_, inner) => count(inner, counts, nums),
        Cond::Num(a, _, b) => {
            for n in [a, b] {
                if let Some(k) = num_key(n).filter(|_| worth_remembering(n)) {
                    *nums.entry(k).or_default() += 1;
                }
            }
        }
        _ => {}
    }
}

fn rewrite(
    c: Cond,
    counts: &HashMap<String, usize>,
    nums: &HashMap<String, usize>,
    ids: &mut Ids,
) -> Cond {
    let key = cond_key(&c).filter(|k| counts.get(k).copied().unwrap_or(0) > 1);
    let inner = match c {
        Cond::And(items) => Cond::And(
            items
                .into_iter()
                .map(|i| rewrite(i, counts, nums, ids))
                .collect(),
        ),
        Cond::Or(items) => Cond::Or(
            items
                .into_iter()
                .map(|i| rewrite(i, counts, nums, ids))
                .collect(),
        ),
        Cond::Not(inner) => Cond::Not(Box::new(rewrite(*inner, counts, nums, ids))),
        Cond::Num(a, op, b) => Cond::Num(num(a, nums, ids), op, num(b, nums, ids)),
        other => other,
    };
    match key {
        Some(k) if !matches!(inner, Cond::Const(_)) => {
            let next = ids.conds.len() as u32;
            let id = *ids.conds.entry(k).or_insert(next);
            Cond::Memo(id, Box::new(inner))
        }
        _ => inner,
    }
}

fn num(n: NumX, counts: &HashMap<String, usize>, ids: &mut Ids) -> NumX {
    let Some(k) = num_key(&n).filter(|k| counts.get(k).copied().unwrap_or(0) > 1) else {
        return n;
    };
    if !worth_remembering(&n) {
        return n;
    }
    let next = ids.nums.len() as u32;
    let id = *ids.nums.entry(k).or_insert(next);
    NumX::Memo(id, Box::new(n))
}

/// Numbers read out of a row's text (not literals, not totals).
fn worth_remembering(n: &NumX) -> bool {
    match n {
        NumX::Read(t) | NumX::Length(t) | NumX::Digits(t) | NumX::DaysSince(t, _) => {
            !matches!(t, TextX::Lit(_))
        }
        _ => false,
    }
}

/// A key that is equal for conditions that always agree on a row; `None`
/// for those that read the verdict (stage conditions), which cannot be
/// remembered before every rule has run.
fn cond_key(c: &Cond) -> Option<String> {
    Some(match c {
        Cond::Const(b) => format!("{b}"),
        Cond::And(items) | Cond::Or(items) => {
            let parts: Option<Vec<String>> = items.iter().map(cond_key).collect();
            let op = if matches!(c, Cond::And(_)) {
                "and"
            } else {
                "or"
            };
            format!("{op}({})", parts?.join(","))
        }
        Cond::Not(inner) => format!("not({})", cond_key(inner)?),
        Cond::Memo(_, inner) => return cond_key(inner),
        Cond::Num(a, op, b) => format!("num({},{op:?},{})", num_key(a)?, num_key(b)?),
        Cond::Text(a, op, b) => format!("text({},{op:?},{})", text_key(a), text_key(b)),
        Cond::Contains(t, f) | Cond::ContainsIn(t, f, _, _) => {
            format!("contains({},{})", text_key(t), finder_key(f))
        }
        Cond::StartsWith(t, p) => format!("starts({},{p:?})", text_key(t)),
        Cond::EndsWith(t, p) => format!("ends({},{p:?})", text_key(t)),
        Cond::Matches(t, re) | Cond::MatchesIn(t, re, _, _) => {
            format!("matches({},{:?})", text_key(t), re.as_str())
        }
        Cond::InList(t, l) => format!("in({},{l})", text_key(t)),
        Cond::Empty(t) => format!("empty({})", text_key(t)),
        Cond::Marked(_) => return None,
    })
}

fn finder_key(f: &Finder) -> String {
    match f {
        Finder::Ascii(_, w) => format!("a{w:?}"),
        Finder::Folded(w) => format!("f{w:?}"),
    }
}

fn num_key(n: &NumX) -> Option<String> {
    Some(match n {
        NumX::Lit(x) => format!("{x:?}"),
        NumX::Read(t) => format!("read({})", text_key(t)),
        NumX::Length(t) => format!("len({})", text_key(t)),
        NumX::Digits(t) => format!("digits({})", text_key(t)),
        NumX::DaysSince(t, o) => format!("days({},{o:?})", text_key(t)),
        NumX::Memo(_, inner) => return num_key(inner),
        NumX::Group(_) | NumX::Total | NumX::MarkCount => return None,
    })
}

fn text_key(t: &TextX) -> String {
    match t {
        TextX::Field(s) => format!("f{s}"),
        TextX::Domain(inner) => format!("d({})", text_key(inner)),
        TextX::Lit(s) => format!("{s:?}"),
        TextX::Derived(i) => format!("v{i}"),
    }
}

/// Groups the regular expressions of each value into one set (a set of
/// one where a value has one): the sets search with each worker's own
/// cache ([`super::derive::Memo`]), where a shared regex would pass its
/// cache between threads through a pool.
fn group_regexes(rules: &mut Compiled, plan: &mut Plan) {
    let mut by_text: HashMap<String, Vec<String>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for_each_cond_mut(rules, &mut |c| {
        if let Cond::Matches(t, re) = c {
            let k = text_key(t);
            let pats = by_text.entry(k.clone()).or_insert_with(|| {
                order.push(k);
                Vec::new()
            });
            if !pats.iter().any(|p| p == re.as_str()) {
                pats.push(re.as_str().to_string());
            }
        }
    });
    let mut set_of: HashMap<String, u32> = HashMap::new();
    for k in order {
        let pats = &by_text[&k];
        let built = RegexSet::new(pats);
        if let Some(set) = built {
            set_of.insert(k, plan.sets.len() as u32);
            plan.sets.push(set);
        }
    }
    for_each_cond_mut(rules, &mut |c| {
        if let Cond::Matches(t, re) = c {
            let k = text_key(t);
            if let Some(&g) = set_of.get(&k) {
                let idx = by_text[&k].iter().position(|p| p == re.as_str());
                if let Some(i) = idx {
                    let old = std::mem::replace(c, Cond::Const(false));
                    if let Cond::Matches(t, re) = old {
                        *c = Cond::MatchesIn(t, re, g, i as u32);
                    }
                }
            }
        }
    });
}

/// Groups the ASCII `contains` words of each value into one automaton,
/// where a value has two or more different ones.
fn group_words(rules: &mut Compiled, plan: &mut Plan) {
    let mut by_text: HashMap<String, Vec<String>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for_each_cond_mut(rules, &mut |c| {
        if let Cond::Contains(t, Finder::Ascii(_, w)) = c {
            let k = text_key(t);
            let words = by_text.entry(k.clone()).or_insert_with(|| {
                order.push(k);
                Vec::new()
            });
            if !words.contains(w) {
                words.push(w.clone());
            }
        }
    });
    let mut group_of: HashMap<String, u32> = HashMap::new();
    for k in order {
        let words = &by_text[&k];
        if words.len() < 2 {
            continue;
        }
        if let Ok(ac) = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(words)
        {
            group_of.insert(k, plan.finders.len() as u32);
            plan.finders.push((ac, words.len()));
        }
    }
    for_each_cond_mut(rules, &mut |c| {
        if let Cond::Contains(t, Finder::Ascii(_, w)) = c {
            let k = text_key(t);
            if let Some(&g) = group_of.get(&k) {
                if let Some(i) = by_text[&k].iter().position(|x| x == w) {
                    let old = std::mem::replace(c, Cond::Const(false));
                    if let Cond::Contains(t, f) = old {
                        *c = Cond::ContainsIn(t, f, g, i as u32);
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::input::{bind, Record};
    use crate::rules::derive::Memo;
    use crate::rules::trace::Trace;
    use crate::rules::{compile, Origin, RowView, Scratch, Verdict};

    /// Repeated defines, several regexes and a lone one on a value,
    /// `contains` words sharing a search, lists, repeated numbers and dates.
    const RULES: &str = r#"
version = 1
[fields]
size = ["size"]
seen = ["seen"]
[lists]
free = ["gmail.com", "web.de"]
[define]
valid = 'email matches "^[^@ ]+@[^@ ]+\.[a-z]{2,}$"'
senior = 'title matches "(?i)\b(vp|head|chief)\b"'
junior = 'title matches "(?i)\b(intern|junior)\b"'
[usable]
when = "valid or phone is present"
[groups]
fit = {}
[[rule]]
id = "senior"
when = "senior and not junior"
fit = 20
[[rule]]
id = "junior"
when = "junior"
fit = -10
[[rule]]
id = "free"
when = "valid and email_domain in free"
fit = -5
[[rule]]
id = "big"
when = "number(size) >= 50"
fit = 10
[[rule]]
id = "huge"
when = "number(size) >= 500 and not (notes contains \"churn\")"
fit = 10
[[rule]]
id = "pricing"
when = 'notes contains "pricing" or notes contains "quote"'
fit = 5
[[rule]]
id = "fresh"
when = "days_since(seen) <= 30"
fit = 5
[[rule]]
id = "stale"
when = "days_since(seen) > 365"
fit = -5
[stages]
prospect = "fit >= 20"
"#;

    #[test]
    fn the_plan_answers_what_each_condition_as_written_does() {
        let rules = compile(Origin::Builtin, RULES).unwrap_or_else(|d| panic!("{d}"));
        let plan = &rules.memo;
        assert!(plan.conds > 0, "repeated defines are remembered");
        assert!(!plan.sets.is_empty() && !plan.finders.is_empty());
        let headers: Vec<String> = ["email", "phone", "title", "size", "notes", "seen"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        let binding = bind(&headers, &rules);
        let rows: &[[&str; 6]] = &[
            [
                "ana@gmail.com",
                "",
                "VP Sales",
                "51-200",
                "asked for PRICING",
                "2026-11-20",
            ],
            [
                "bo@acme.io",
                "",
                "Junior VP",
                "1,000",
                "churn risk; quote",
                "2020-01-01",
            ],
            ["not an email", "+49 30 1", "Head of Data", "", "", ""],
            ["", "", "intern", "10", "Quote", "yesterday"],
            ["x@web.de", "", "", "5000", "pricing, quote", "2026-11-28"],
            ["", "", "", "", "", ""],
        ];
        // One memo for every row, as a worker keeps it.
        let mut memo = Memo::for_rules(&rules);
        let groups = rules.groups.len();
        let mut fired = std::collections::BTreeSet::new();
        for row in rows {
            let mut rec = Record::default();
            for v in row {
                rec.push_field(v.as_bytes());
            }
            memo.reset();
            let mut planned = Verdict::new(groups);
            let view = RowView::new(&rec, &binding, &[], &rules.placeholders, &memo).unwrap();
            rules.evaluate(&view, &mut Scratch::default(), &mut planned);
            let plain = Memo::new(rules.derived.len());
            let view = RowView::new(&rec, &binding, &[], &rules.placeholders, &plain).unwrap();
            let mut traced = Verdict::new(groups);
            let mut t = Trace::default();
            rules.evaluate_traced(&view, &mut Scratch::default(), &mut traced, &mut t);
            assert_eq!(format!("{planned:?}"), format!("{traced:?}"), "row {row:?}");
            fired.extend(planned.fired.iter().copied());
        }
        // The rows exercise (nearly) every rule, so the comparison covers them.
        assert!(fired.len() >= 7, "rules fired on some row: {fired:?}");
    }
}
