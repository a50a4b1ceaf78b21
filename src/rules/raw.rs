//! The rules file as written: TOML walked by hand into plain structs that
//! keep the position of every value.
//!
//! Walking the parsed TOML tree (rather than `serde` with
//! `deny_unknown_fields`) lets one pass report every unknown key, wrong type
//! and syntax error at once, each at its own line and column. Nothing here
//! knows what a field or a condition means; `compile` does.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diag::{suggest, Reporter};

/// A string from the rules file and the span of its TOML value.
#[derive(Debug, Clone)]
pub struct Text {
    pub value: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct RawList {
    pub name: Text,
    pub entries: Vec<Text>,
    pub file: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct RawGroup {
    pub name: Text,
    pub cap: Option<i64>,
    pub floor: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct RawRule {
    pub id: Text,
    pub span: Range<usize>,
    pub when: Option<Text>,
    /// `group = points` pairs, in file order; checked against `[groups]`
    /// by `compile`.
    pub points: Vec<(Text, i64)>,
    pub marks: Vec<Text>,
    pub disqualify: Option<Text>,
    pub note: Option<Text>,
    /// `decay = { since = "last_activity", half_life = 30 }`.
    pub decay: Option<RawDecay>,
}

/// A rule's points shrinking with the age of a date field.
#[derive(Debug, Clone)]
pub struct RawDecay {
    pub span: Range<usize>,
    pub since: Option<Text>,
    pub half_life: Option<(i64, usize)>,
}

/// The `[dates]` section: how numeric dates are read.
#[derive(Debug, Clone, Default)]
pub struct RawDates {
    /// The order for every field not named in `fields`.
    pub order: Option<Text>,
    /// Field -> order.
    pub fields: Vec<(Text, Text)>,
}

/// One axis of `[grades]`: a group and its thresholds, best first.
#[derive(Debug, Clone)]
pub struct RawAxis {
    pub span: Range<usize>,
    pub group: Option<Text>,
    /// Grade name (`A`, `1`) -> lowest total that earns it.
    pub thresholds: Vec<(Text, i64)>,
}

/// The `[grades]` section: fit letters and engagement digits.
#[derive(Debug, Clone, Default)]
pub struct RawGrades {
    pub span: Option<Range<usize>>,
    pub fit: Option<RawAxis>,
    pub engagement: Option<RawAxis>,
}

/// The `[clean]` section: how values are cleaned for rules and outputs.
#[derive(Debug, Clone, Default)]
pub struct RawClean {
    /// Replaces the built-in placeholder list when given.
    pub placeholders: Option<Vec<Text>>,
    pub phone_region: Option<Text>,
    pub write: Vec<Text>,
}

#[derive(Debug, Clone, Default)]
pub struct RawRules {
    pub name: Option<Text>,
    pub description: Option<Text>,
    pub fields: Vec<(Text, Vec<Text>)>,
    pub lists: Vec<RawList>,
    pub defines: Vec<(Text, Text)>,
    pub usable: Option<(Text, Option<Text>)>,
    pub groups: Option<Vec<RawGroup>>,
    pub rules: Vec<RawRule>,
    pub stages: Vec<(Text, Text)>,
    pub clean: RawClean,
    pub dedup: RawDedup,
    pub exclude: RawExclude,
    pub dates: RawDates,
    pub grades: RawGrades,
    pub examples: Vec<super::example::RawExample>,
}

/// The `[dedup]` section: how duplicate people are found and which record
/// is kept. Absent keys take the documented defaults.
#[derive(Debug, Clone, Default)]
pub struct RawDedup {
    pub span: Option<Range<usize>>,
    pub keys: Option<Vec<Text>>,
    pub keep: Option<Vec<Text>>,
    pub canonical_email: Option<bool>,
    pub fill_empty: Option<bool>,
}

/// The `[exclude]` section: how `--exclude` lists are matched.
#[derive(Debug, Clone, Default)]
pub struct RawExclude {
    pub by: Option<Vec<Text>>,
}

const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "fields",
    "lists",
    "define",
    "usable",
    "groups",
    "rule",
    "stages",
    "clean",
    "dedup",
    "exclude",
    "dates",
    "grades",
    "example",
];

/// Parses the TOML and walks it; problems go to `rep`.
pub fn read(text: &str, rep: &mut Reporter) -> RawRules {
    let (doc, errors) = DeTable::parse_recoverable(text);
    for e in &errors {
        let at = e.span().map_or(0, |s| s.start);
        rep.error(at, None, format!("TOML syntax: {}", e.message().trim()));
    }
    let mut raw = RawRules::default();
    for (key, value) in doc.get_ref() {
        let span = value.span();
        match key.get_ref().as_ref() {
            "version" => match value.get_ref() {
                DeValue::Integer(i) if i.as_str() == "1" => {}
                _ => rep.error(
                    span.start,
                    None,
                    "`version` must be 1, the only version of the rules format",
                ),
            },
            "name" => raw.name = string(value, rep, None),
            "description" => raw.description = string(value, rep, None),
            "fields" => raw.fields = fields(value, rep),
            "lists" => raw.lists = lists(value, rep),
            "define" => raw.defines = string_table(value, rep, "[define]"),
            "usable" => raw.usable = usable(value, rep),
            "groups" => raw.groups = Some(groups(value, rep)),
            "rule" => raw.rules = rules(value, rep),
            "stages" => raw.stages = string_table(value, rep, "[stages]"),
            "clean" => raw.clean = clean(value, rep),
            "dedup" => raw.dedup = dedup(value, rep),
            "exclude" => raw.exclude = exclude(value, rep),
            "dates" => raw.dates = dates(value, rep),
            "grades" => raw.grades = grades(value, rep),
            "example" => raw.examples = super::example::read(value, rep),
            other => unknown_key(rep, key, other, TOP_KEYS, None),
        }
    }
    raw
}

pub(super) fn unknown_key(
    rep: &mut Reporter,
    key: &Spanned<std::borrow::Cow<str>>,
    name: &str,
    known: &[&str],
    ctx: Option<&str>,
) {
    let hint = match suggest(name, known.iter().copied()) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => format!("; expected one of: {}", known.join(", ")),
    };
    rep.error(key.span().start, ctx, format!("unknown key `{name}`{hint}"));
}

pub(super) fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

pub(super) fn string(v: &Spanned<DeValue>, rep: &mut Reporter, ctx: Option<&str>) -> Option<Text> {
    match v.get_ref() {
        DeValue::String(s) => Some(Text {
            value: s.to_string(),
            span: v.span(),
        }),
        other => {
            rep.error(
                v.span().start,
                ctx,
                format!("expected a string, found {}", type_name(other)),
            );
            None
        }
    }
}

pub(super) fn integer(v: &Spanned<DeValue>, rep: &mut Reporter, ctx: Option<&str>) -> Option<i64> {
    if let DeValue::Integer(i) = v.get_ref() {
        let digits: String = i.as_str().chars().filter(|&c| c != '_').collect();
        let (sign, body) = match digits.strip_prefix('-') {
            Some(b) => (-1, b.to_string()),
            None => (1, digits.trim_start_matches('+').to_string()),
        };
        let body = body
            .trim_start_matches("0x")
            .trim_start_matches("0o")
            .trim_start_matches("0b");
        if let Ok(n) = i64::from_str_radix(body, i.radix()) {
            return Some(sign * n);
        }
    }
    rep.error(
        v.span().start,
        ctx,
        format!("expected a whole number, found {}", type_name(v.get_ref())),
    );
    None
}

pub(super) fn strings(v: &Spanned<DeValue>, rep: &mut Reporter, ctx: Option<&str>) -> Vec<Text> {
    match v.get_ref() {
        DeValue::Array(items) => items.iter().filter_map(|i| string(i, rep, ctx)).collect(),
        DeValue::String(_) => string(v, rep, ctx).into_iter().collect(),
        other => {
            rep.error(
                v.span().start,
                ctx,
                format!("expected an array of strings, found {}", type_name(other)),
            );
            Vec::new()
        }
    }
}

pub(super) fn table<'a, 'i>(
    v: &'a Spanned<DeValue<'i>>,
    rep: &mut Reporter,
    what: &str,
) -> Option<&'a DeTable<'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        other => {
            rep.error(
                v.span().start,
                None,
                format!("{what} must be a table, found {}", type_name(other)),
            );
            None
        }
    }
}

pub(super) fn key_text(k: &Spanned<std::borrow::Cow<str>>) -> Text {
    Text {
        value: k.get_ref().to_string(),
        span: k.span(),
    }
}

fn fields(v: &Spanned<DeValue>, rep: &mut Reporter) -> Vec<(Text, Vec<Text>)> {
    let Some(t) = table(v, rep, "[fields]") else {
        return Vec::new();
    };
    t.iter()
        .map(|(k, v)| (key_text(k), strings(v, rep, Some("[fields]"))))
        .collect()
}

fn string_table(v: &Spanned<DeValue>, rep: &mut Reporter, what: &str) -> Vec<(Text, Text)> {
    let Some(t) = table(v, rep, what) else {
        return Vec::new();
    };
    t.iter()
        .filter_map(|(k, v)| Some((key_text(k), string(v, rep, Some(what))?)))
        .collect()
}

fn lists(v: &Spanned<DeValue>, rep: &mut Reporter) -> Vec<RawList> {
    let Some(t) = table(v, rep, "[lists]") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in t {
        let ctx = format!("list `{}`", k.get_ref());
        let mut list = RawList {
            name: key_text(k),
            entries: Vec::new(),
            file: None,
        };
        match v.get_ref() {
            DeValue::Table(spec) => {
                for (sk, sv) in spec {
                    match sk.get_ref().as_ref() {
                        "file" => list.file = string(sv, rep, Some(&ctx)),
                        "values" => list.entries = strings(sv, rep, Some(&ctx)),
                        other => unknown_key(rep, sk, other, &["file", "values"], Some(&ctx)),
                    }
                }
            }
            _ => list.entries = strings(v, rep, Some(&ctx)),
        }
        out.push(list);
    }
    out
}

fn usable(v: &Spanned<DeValue>, rep: &mut Reporter) -> Option<(Text, Option<Text>)> {
    let t = table(v, rep, "[usable]")?;
    let (mut when, mut reason) = (None, None);
    for (k, v) in t {
        match k.get_ref().as_ref() {
            "when" => when = string(v, rep, Some("[usable]")),
            "reason" => reason = string(v, rep, Some("[usable]")),
            other => unknown_key(rep, k, other, &["when", "reason"], Some("[usable]")),
        }
    }
    if when.is_none() {
        rep.error(
            v.span().start,
            Some("[usable]"),
            "missing `when`: the condition a row must meet to be usable",
        );
    }
    Some((when?, reason))
}

fn clean(v: &Spanned<DeValue>, rep: &mut Reporter) -> RawClean {
    let mut out = RawClean::default();
    let Some(t) = table(v, rep, "[clean]") else {
        return out;
    };
    let ctx = Some("[clean]");
    for (k, v) in t {
        match k.get_ref().as_ref() {
            "placeholders" => out.placeholders = Some(strings(v, rep, ctx)),
            "phone_region" => out.phone_region = string(v, rep, ctx),
            "write" => out.write = strings(v, rep, ctx),
            other => unknown_key(
                rep,
                k,
                other,
                &["placeholders", "phone_region", "write"],
                ctx,
            ),
        }
    }
    out
}

fn boolean(v: &Spanned<DeValue>, rep: &mut Reporter, ctx: Option<&str>) -> Option<bool> {
    match v.get_ref() {
        DeValue::Boolean(b) => Some(*b),
        other => {
            rep.error(
                v.span().start,
                ctx,
                format!("expected true or false, found {}", type_name(other)),
            );
            None
        }
    }
}

fn dedup(v: &Spanned<DeValue>, rep: &mut Reporter) -> RawDedup {
    let mut out = RawDedup {
        span: Some(v.span()),
        ..RawDedup::default()
    };
    let Some(t) = table(v, rep, "[dedup]") else {
        return out;
    };
    let ctx = Some("[dedup]");
    for (k, v) in t {
        match k.get_ref().as_ref() {
            "keys" => out.keys = Some(strings(v, rep, ctx)),
            "keep" => out.keep = Some(strings(v, rep, ctx)),
            "canonical_email" => out.canonical_email = boolean(v, rep, ctx),
            "fill_empty" => out.fill_empty = boolean(v, rep, ctx),
            other => unknown_key(
                rep,
                k,
                other,
                &["keys", "keep", "canonical_email", "fill_empty"],
                ctx,
            ),
        }
    }
    out
}

fn exclude(v: &Spanned<DeValue>, rep: &mut Reporter) -> RawExclude {
    let mut out = RawExclude::default();
    let Some(t) = table(v, rep, "[exclude]") else {
        return out;
    };
    for (k, v) in t {
        match k.get_ref().as_ref() {
            "by" => out.by = Some(strings(v, rep, Some("[exclude]"))),
            other => unknown_key(rep, k, other, &["by"], Some("[exclude]")),
        }
    }
    out
}

fn decay(v: &Spanned<DeValue>, rep: &mut Reporter, ctx: &str) -> Option<RawDecay> {
    let t = table(v, rep, &format!("{ctx}: `decay`"))?;
    let mut out = RawDecay {
        span: v.span(),
        since: None,
        half_life: None,
    };
    for (k, v) in t {
        match k.get_ref().as_ref() {
            "since" => out.since = string(v, rep, Some(ctx)),
            "half_life" => out.half_life = integer(v, rep, Some(ctx)).map(|n| (n, v.span().start)),
            other => unknown_key(rep, k, other, &["since", "half_life"], Some(ctx)),
        }
    }
    Some(out)
}

fn dates(v: &Spanned<DeValue>, rep: &mut Reporter) -> RawDates {
    let mut out = RawDates::default();
    let Some(t) = table(v, rep, "[dates]") else {
        return out;
    };
    for (k, v) in t {
        match k.get_ref().as_ref() {
            "order" => out.order = string(v, rep, Some("[dates]")),
            "fields" => out.fields = string_table(v, rep, "[dates] fields"),
            other => unknown_key(rep, k, other, &["order", "fields"], Some("[dates]")),
        }
    }
    out
}

fn grades(v: &Spanned<DeValue>, rep: &mut Reporter) -> RawGrades {
    let mut out = RawGrades {
        span: Some(v.span()),
        ..RawGrades::default()
    };
    let Some(t) = table(v, rep, "[grades]") else {
        return out;
    };
    for (k, v) in t {
        let name = k.get_ref().to_string();
        let ctx = format!("[grades] {name}");
        let axis = match name.as_str() {
            "fit" | "engagement" => {
                let Some(spec) = table(v, rep, &ctx) else {
                    continue;
                };
                let mut a = RawAxis {
                    span: v.span(),
                    group: None,
                    thresholds: Vec::new(),
                };
                for (sk, sv) in spec {
                    if sk.get_ref() == "group" {
                        a.group = string(sv, rep, Some(&ctx));
                    } else if let Some(n) = integer(sv, rep, Some(&ctx)) {
                        a.thresholds.push((key_text(sk), n));
                    }
                }
                a
            }
            other => {
                unknown_key(rep, k, other, &["fit", "engagement"], Some("[grades]"));
                continue;
            }
        };
        if name == "fit" {
            out.fit = Some(axis);
        } else {
            out.engagement = Some(axis);
        }
    }
    out
}

fn groups(v: &Spanned<DeValue>, rep: &mut Reporter) -> Vec<RawGroup> {
    let Some(t) = table(v, rep, "[groups]") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in t {
        let ctx = format!("group `{}`", k.get_ref());
        let mut g = RawGroup {
            name: key_text(k),
            cap: None,
            floor: None,
        };
        if let Some(spec) = table(v, rep, &ctx) {
            for (sk, sv) in spec {
                match sk.get_ref().as_ref() {
                    "cap" => g.cap = integer(sv, rep, Some(&ctx)),
                    "floor" => g.floor = integer(sv, rep, Some(&ctx)),
                    other => unknown_key(rep, sk, other, &["cap", "floor"], Some(&ctx)),
                }
            }
        }
        out.push(g);
    }
    out
}

fn rules(v: &Spanned<DeValue>, rep: &mut Reporter) -> Vec<RawRule> {
    let DeValue::Array(items) = v.get_ref() else {
        rep.error(
            v.span().start,
            None,
            "`rule` must be written as [[rule]] tables",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let Some(t) = table(item, rep, "[[rule]]") else {
            continue;
        };
        let id = t
            .iter()
            .find(|(k, _)| k.get_ref() == "id")
            .and_then(|(_, v)| string(v, rep, None));
        let Some(id) = id else {
            rep.error(
                item.span().start,
                Some(&format!("rule #{}", n + 1)),
                "missing `id`: every rule needs a unique id",
            );
            continue;
        };
        let ctx = format!("rule `{}`", id.value);
        let mut rule = RawRule {
            id,
            span: item.span(),
            when: None,
            points: Vec::new(),
            marks: Vec::new(),
            disqualify: None,
            note: None,
            decay: None,
        };
        for (k, v) in t {
            match k.get_ref().as_ref() {
                "id" => {}
                "when" => rule.when = string(v, rep, Some(&ctx)),
                "marks" => rule.marks = strings(v, rep, Some(&ctx)),
                "disqualify" => rule.disqualify = string(v, rep, Some(&ctx)),
                "note" => rule.note = string(v, rep, Some(&ctx)),
                "decay" => rule.decay = decay(v, rep, &ctx),
                // Any other key names a score group; `compile` checks it.
                _ => match v.get_ref() {
                    DeValue::Integer(_) => {
                        if let Some(p) = integer(v, rep, Some(&ctx)) {
                            rule.points.push((key_text(k), p));
                        }
                    }
                    _ => unknown_key(
                        rep,
                        k,
                        k.get_ref(),
                        &[
                            "id",
                            "when",
                            "marks",
                            "disqualify",
                            "note",
                            "decay",
                            "<group> = <points>",
                        ],
                        Some(&ctx),
                    ),
                },
            }
        }
        if rule.when.is_none() {
            rep.error(
                item.span().start,
                Some(&ctx),
                "missing `when`: the condition under which the rule fires",
            );
        }
        out.push(rule);
    }
    out
}
