//! Examples in a rules file: `[[example]]` tables, each a row and what the
//! rules should make of it, run by `leadsift test`.
//!
//! ```toml
//! [[example]]
//! name = "VP with budget and timeline"
//! row = { email = "ana@acme.io", title = "VP Sales", budget = "$50,000" }
//! stage = "opportunity"
//! points = { fit = 40 }              # optional, per group, after caps
//! marks = ["budget", "authority"]    # optional, the exact set
//! fired = ["decision-maker"]         # optional, the exact set of rules
//! disqualify = "works for a competitor"  # optional: the reason (or rule id)
//! ```
//!
//! Here they are read and checked against the rest of the rules at compile
//! time: a row key no field reads, an unknown stage, group, mark or rule is
//! an error with its place, like any other. Running them is `cmd::test`'s.

use std::collections::HashMap;
use std::ops::Range;

use toml::de::DeValue;
use toml::Spanned;

use super::compile::{FieldSlot, Group, Rule, MARK_NAMES};
use super::diag::{suggest, Reporter};
use super::raw::{integer, key_text, string, strings, table, type_name, unknown_key, Text};
use super::Stage;
use crate::input::aliases;

/// An `[[example]]` as written.
#[derive(Debug, Clone)]
pub struct RawExample {
    pub name: Text,
    pub span: Range<usize>,
    /// Header (a field name, or a column's header text) and value.
    pub row: Vec<(Text, Text)>,
    pub stage: Option<Text>,
    pub points: Vec<(Text, i64)>,
    pub marks: Option<Vec<Text>>,
    pub fired: Option<Vec<Text>>,
    pub disqualify: Option<Text>,
}

/// An example, checked against the rules.
#[derive(Debug, Clone)]
pub struct Example {
    pub name: String,
    /// Line of its name in the rules file.
    pub line: usize,
    /// Headers and values of its one row.
    pub row: Vec<(String, String)>,
    pub stage: Stage,
    /// Expected totals after caps, by group index.
    pub points: Vec<(usize, i64)>,
    /// Expected marks (bits as in `MARK_NAMES`), when given.
    pub marks: Option<u8>,
    /// Expected rules that fire (indexes, ascending), when given.
    pub fired: Option<Vec<usize>>,
    /// The disqualifying rule expected (an index into `Compiled::rules`).
    pub disqualify: Option<usize>,
}

const KEYS: &[&str] = &[
    "name",
    "row",
    "stage",
    "points",
    "marks",
    "fired",
    "disqualify",
];

/// Reads the `[[example]]` tables.
pub fn read(v: &Spanned<DeValue>, rep: &mut Reporter) -> Vec<RawExample> {
    let DeValue::Array(items) = v.get_ref() else {
        rep.error(
            v.span().start,
            None,
            "`example` must be written as [[example]] tables",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let Some(t) = table(item, rep, "[[example]]") else {
            continue;
        };
        let name = t
            .iter()
            .find(|(k, _)| k.get_ref() == "name")
            .and_then(|(_, v)| string(v, rep, None));
        let Some(name) = name else {
            rep.error(
                item.span().start,
                Some(&format!("example #{}", n + 1)),
                "missing `name`: every example needs a name, shown when it fails",
            );
            continue;
        };
        let ctx = format!("example `{}`", name.value);
        let mut ex = RawExample {
            name,
            span: item.span(),
            row: Vec::new(),
            stage: None,
            points: Vec::new(),
            marks: None,
            fired: None,
            disqualify: None,
        };
        let mut has_row = false;
        for (k, v) in t {
            let c = Some(ctx.as_str());
            match k.get_ref().as_ref() {
                "name" => {}
                "row" => {
                    has_row = true;
                    ex.row = row(v, rep, &ctx);
                }
                "stage" => ex.stage = string(v, rep, c),
                "points" => ex.points = points(v, rep, &ctx),
                "marks" => ex.marks = Some(strings(v, rep, c)),
                "fired" => ex.fired = Some(strings(v, rep, c)),
                "disqualify" => ex.disqualify = string(v, rep, c),
                other => unknown_key(rep, k, other, KEYS, c),
            }
        }
        if !has_row {
            rep.error(
                item.span().start,
                Some(&ctx),
                "missing `row`: the row to run, such as row = { email = \"ana@acme.io\", title = \"VP Sales\" }",
            );
        }
        if ex.stage.is_none() && ex.disqualify.is_none() {
            rep.error(
                item.span().start,
                Some(&ctx),
                "missing `stage`: the stage the row should reach (lead, prospect, opportunity, disqualified or rejected)",
            );
        }
        out.push(ex);
    }
    out
}

/// The row: each value a string, or a number or boolean taken as its text.
fn row(v: &Spanned<DeValue>, rep: &mut Reporter, ctx: &str) -> Vec<(Text, Text)> {
    let Some(t) = table(v, rep, &format!("{ctx}: `row`")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in t {
        let text = match v.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(_) => match integer(v, rep, Some(ctx)) {
                Some(i) => i.to_string(),
                None => continue,
            },
            DeValue::Float(f) => f.as_str().to_string(),
            DeValue::Boolean(b) => b.to_string(),
            other => {
                rep.error(
                    v.span().start,
                    Some(ctx),
                    format!("row values are the cells' text, found {}", type_name(other)),
                );
                continue;
            }
        };
        let value = Text {
            value: text,
            span: v.span(),
        };
        out.push((key_text(k), value));
    }
    out
}

fn points(v: &Spanned<DeValue>, rep: &mut Reporter, ctx: &str) -> Vec<(Text, i64)> {
    let Some(t) = table(v, rep, &format!("{ctx}: `points`")) else {
        return Vec::new();
    };
    t.iter()
        .filter_map(|(k, v)| Some((key_text(k), integer(v, rep, Some(ctx))?)))
        .collect()
}

/// What an example is checked against.
pub struct Known<'a> {
    pub slots: &'a [FieldSlot],
    pub declared: &'a HashMap<String, Vec<String>>,
    pub groups: &'a [Group],
    pub rules: &'a [Rule],
}

/// Checks every example against the rules; problems go to `rep`.
pub fn compile(raw: &[RawExample], known: &Known, rep: &mut Reporter) -> Vec<Example> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for r in raw {
        let ctx = format!("example `{}`", r.name.value);
        let before = rep.out.errors();
        let line = rep.position(r.name.span.start).0;
        if let Some(first) = seen.insert(&r.name.value, line) {
            rep.error(
                r.name.span.start,
                Some(&ctx),
                format!("duplicate example name (first used on line {first})"),
            );
        }
        for (k, _) in &r.row {
            check_header(k, known, rep, &ctx);
        }
        let disqualify = r
            .disqualify
            .as_ref()
            .and_then(|d| disqualifier(d, known, rep, &ctx));
        let stage = match (&r.stage, disqualify) {
            (Some(s), d) => {
                let stage = stage(s, rep, &ctx);
                if d.is_some() && stage.is_some_and(|s| s != Stage::Disqualified) {
                    rep.error(
                        s.span.start,
                        Some(&ctx),
                        "an example that expects `disqualify` expects stage = \"disqualified\"",
                    );
                }
                stage
            }
            (None, _) => Some(Stage::Disqualified),
        };
        let points = r
            .points
            .iter()
            .filter_map(|(g, p)| Some((group(g, known, rep, &ctx)?, *p)))
            .collect();
        let marks = r.marks.as_ref().map(|m| marks(m, rep, &ctx));
        let fired = r.fired.as_ref().map(|ids| {
            let mut f: Vec<usize> = ids
                .iter()
                .filter_map(|id| rule(id, known, rep, &ctx))
                .collect();
            f.sort_unstable();
            f.dedup();
            f
        });
        if rep.out.errors() > before {
            continue;
        }
        out.push(Example {
            name: r.name.value.clone(),
            line,
            row: r
                .row
                .iter()
                .map(|(k, v)| (k.value.clone(), v.value.clone()))
                .collect(),
            stage: stage.unwrap_or(Stage::Lead),
            points,
            marks,
            fired,
            disqualify,
        });
    }
    out
}

/// A row key must reach a field: a field the rules read (by name, alias
/// or backtick header), or a field of `[fields]` or the built-in ones (by
/// name or alias: a full name feeds first and last name).
fn check_header(k: &Text, known: &Known, rep: &mut Reporter, ctx: &str) {
    let norm = aliases::normalise(&k.value);
    let reads = known.slots.iter().any(|s| {
        s.exact
            .as_deref()
            .is_some_and(|e| e.trim() == k.value.trim())
            || s.aliases.contains(&norm)
    });
    let field = known.declared.contains_key(&k.value)
        || known.declared.values().any(|a| a.contains(&norm))
        || aliases::builtin(&k.value).is_some()
        || aliases::BUILTIN
            .iter()
            .any(|(_, a)| a.iter().any(|x| aliases::normalise(x) == norm));
    if reads || field {
        return;
    }
    let names: Vec<&str> = known
        .slots
        .iter()
        .map(|s| s.exact.as_deref().unwrap_or(&s.label))
        .collect();
    let hint = suggest(&k.value, names.iter().copied())
        .map_or(String::new(), |s| format!("did you mean `{s}`? "));
    rep.error(
        k.span.start,
        Some(ctx),
        format!(
            "row: no field of the rules reads `{}`; {hint}fields read: {}",
            k.value,
            names.join(", ")
        ),
    );
}

fn stage(s: &Text, rep: &mut Reporter, ctx: &str) -> Option<Stage> {
    let found = Stage::from_name(s.value.trim());
    if found.is_none() {
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
        let hint = suggest(&s.value, names.iter().copied())
            .map_or(String::new(), |x| format!("did you mean `{x}`? "));
        rep.error(
            s.span.start,
            Some(ctx),
            format!(
                "unknown stage `{}`; {hint}stages are {}",
                s.value,
                names.join(", ")
            ),
        );
    }
    found
}

fn group(g: &Text, known: &Known, rep: &mut Reporter, ctx: &str) -> Option<usize> {
    let found = known.groups.iter().position(|x| x.name == g.value);
    if found.is_none() {
        let names: Vec<&str> = known.groups.iter().map(|g| g.name.as_str()).collect();
        let hint = suggest(&g.value, names.iter().copied())
            .map_or(String::new(), |s| format!("did you mean `{s}`? "));
        rep.error(
            g.span.start,
            Some(ctx),
            format!(
                "points: unknown group `{}`; {hint}groups are {}",
                g.value,
                names.join(", ")
            ),
        );
    }
    found
}

fn marks(names: &[Text], rep: &mut Reporter, ctx: &str) -> u8 {
    let mut bits = 0;
    for m in names {
        match MARK_NAMES.iter().position(|n| *n == m.value) {
            Some(i) => bits |= 1 << i,
            None => rep.error(
                m.span.start,
                Some(ctx),
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

fn rule(id: &Text, known: &Known, rep: &mut Reporter, ctx: &str) -> Option<usize> {
    let found = known.rules.iter().position(|r| r.id == id.value);
    if found.is_none() {
        let hint = suggest(&id.value, known.rules.iter().map(|r| r.id.as_str()))
            .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
        rep.error(
            id.span.start,
            Some(ctx),
            format!("fired: no rule has the id `{}`{hint}", id.value),
        );
    }
    found
}

/// The disqualifying rule an expected `disqualify` names, by its reason or
/// its id.
fn disqualifier(d: &Text, known: &Known, rep: &mut Reporter, ctx: &str) -> Option<usize> {
    let found = known.rules.iter().position(|r| {
        r.disqualify
            .as_deref()
            .is_some_and(|reason| reason == d.value || r.id == d.value)
    });
    if found.is_none() {
        let list: Vec<String> = known
            .rules
            .iter()
            .filter_map(|r| Some(format!("\"{}\" (rule `{}`)", r.disqualify.as_ref()?, r.id)))
            .collect();
        let list = if list.is_empty() {
            "none does".to_string()
        } else {
            list.join(", ")
        };
        rep.error(
            d.span.start,
            Some(ctx),
            format!(
                "disqualify: no rule disqualifies with `{}`; the disqualifying rules: {list}",
                d.value
            ),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use crate::rules::{compile, Origin, Stage};

    const RULES: &str = r#"
[groups]
fit = { cap = 50 }

[[rule]]
id = "vp"
when = 'title contains "vp"'
fit = 30
marks = ["authority"]

[[rule]]
id = "rival"
when = 'email ends with "@rival.io"'
disqualify = "works for a rival"

[stages]
prospect = "fit >= 30"
"#;

    #[test]
    fn examples_are_checked_against_the_rules() {
        let text = format!(
            "{RULES}{}",
            r#"
[[example]]
name = "a vp"
row = { email = "a@b.io", title = "VP Sales", company_size = 250, "Email Address" = "x" }
stage = "prospect"
points = { fit = 30 }
marks = ["authority"]
fired = ["vp"]

[[example]]
name = "a rival"
row = { email = "x@rival.io" }
disqualify = "rival"
"#
        );
        let c = compile(Origin::Builtin, &text).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(c.examples.len(), 2);
        let a = &c.examples[0];
        assert_eq!(a.stage, Stage::Prospect);
        assert_eq!(a.points, [(0, 30)]);
        assert_eq!(a.marks, Some(0b10));
        assert_eq!(a.fired, Some(vec![0]));
        assert_eq!(a.row[2], ("company_size".into(), "250".into()));
        let b = &c.examples[1];
        assert_eq!((b.stage, b.disqualify), (Stage::Disqualified, Some(1)));
    }

    #[test]
    fn example_errors_have_places() {
        let text = format!(
            "{RULES}{}",
            r#"
[[example]]
name = "bad"
row = { titel = "VP" }
stage = "opportunty"
points = { fitt = 1 }
marks = ["budgte"]
fired = ["vpp"]
disqualify = "nope"

[[example]]
row = {}
"#
        );
        let d = compile(Origin::Builtin, &text).unwrap_err().to_string();
        for want in [
            "example `bad`: row: no field of the rules reads `titel`; did you mean `title`?",
            "example `bad`: unknown stage `opportunty`; did you mean `opportunity`?",
            "example `bad`: points: unknown group `fitt`; did you mean `fit`?",
            "example `bad`: unknown mark `budgte`",
            "example `bad`: fired: no rule has the id `vpp`; did you mean `vp`?",
            "example `bad`: disqualify: no rule disqualifies with `nope`; the disqualifying rules: \"works for a rival\" (rule `rival`)",
            "example #2: missing `name`",
        ] {
            assert!(d.contains(want), "missing {want:?} in\n{d}");
        }
        assert!(
            d.contains("<built-in rules/default.toml>:21:9: example `bad`: row"),
            "{d}"
        );
    }
}
