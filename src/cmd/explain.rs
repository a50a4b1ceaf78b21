//! `leadsift explain`: how the rules decide chosen rows of one input.
//!
//! The input is opened and read exactly as `run` reads it (same detection,
//! same options, same row numbers), and each chosen row goes through the
//! run's own row code with a tracing worker (see `explain`).

use std::io::Write;

use crate::cli::{DateArgs, ExplainArgs, LongRows, ShortRows};
use crate::error::{Error, EXIT_OK, EXIT_RUNTIME};
use crate::explain::{self, Document, Origin, RowExplanation, RulesRef, SCHEMA, SCOPE};
use crate::input::{self, aliases, Bound, Limits, Opened, Record, Source};
use crate::row::RunCtx;
use crate::rules::value::eq_folded;
use crate::rules::{self, derive::Memo, Compiled, RowView};

pub fn execute(args: ExplainArgs) -> Result<u8, Error> {
    let mut rules = rules::load(args.rules.as_deref())?;
    if !rules.warnings.items.is_empty() {
        eprintln!("{}", rules.warnings);
    }
    set_dates(&mut rules, &args.dates)?;
    let r = &args.read;
    let limits = Limits {
        max_field: r.max_field_bytes,
        max_record: r.max_record_bytes,
        max_quoted_lines: r.max_quoted_lines,
    };
    let (encoding, delimiter) = (r.encoding.as_deref(), r.delimiter.as_deref());
    let opts = super::run::checked_read_options(encoding, delimiter, r.sheet.clone(), limits)?;
    let wanted = parse_matches(&args.matches)?;
    let mut opened = input::open(Source::new(&args.input), &rules, &opts)?;
    let matches = resolve(&wanted, &rules, &opened)?;
    let mut rows: Vec<u64> = args.rows.iter().map(|n| n.get()).collect();
    rows.sort_unstable();
    rows.dedup();
    let run = RunCtx::new(
        &rules,
        false,
        r.short_rows == ShortRows::Pad,
        r.long_rows == LongRows::Keep,
    );
    let name = opened.source.name.clone();
    let file = explain::file_ctx(&name, &opened.headers, &opened.binding, &opened.info);
    let memo = Memo::new(0);
    let mut rec = Record::default();
    let mut n = 0u64;
    let mut found: Vec<RowExplanation> = Vec::new();
    let last = rows.last().copied();
    while last.is_none_or(|l| n < l) {
        let more = opened
            .records
            .next_record(&mut rec)
            .map_err(|e| Error::Input(name.clone(), format!("cannot read: {e}")))?;
        if !more {
            break;
        }
        n += 1;
        let chosen = if rows.is_empty() {
            matches_all(&matches, &rec, &opened, &rules, &memo)
        } else {
            rows.binary_search(&n).is_ok()
        };
        if !chosen {
            continue;
        }
        let line = rec.line;
        let decided = explain::decide(&run, &file, &mut rec, n);
        let at = Origin {
            file: &name,
            line,
            row: n,
            headers: &opened.headers,
            binding: &opened.binding,
        };
        found.push(explain::explain(&rules, &decided, &at));
    }
    let missing: Vec<String> = rows
        .iter()
        .filter(|&&r| r > n)
        .map(|r| r.to_string())
        .collect();
    print(&rules, &found, args.json)?;
    if !missing.is_empty() {
        eprintln!(
            "leadsift: {name} has {n} data row(s); no row {}",
            missing.join(", ")
        );
        return Ok(EXIT_RUNTIME);
    }
    if found.is_empty() {
        eprintln!(
            "leadsift: no row of {name} has {}",
            args.matches.join(" and ")
        );
        return Ok(EXIT_RUNTIME);
    }
    Ok(EXIT_OK)
}

/// `--as-of` and `--date-order`, as `run` applies them.
pub fn set_dates(rules: &mut Compiled, dates: &DateArgs) -> Result<(), Error> {
    rules.as_of = super::run::as_of(dates.as_of.as_deref())?;
    if let Some(o) = dates.date_order {
        rules.date_order = Some(o.order());
    }
    Ok(())
}

fn print(rules: &Compiled, rows: &[RowExplanation], json: bool) -> Result<(), Error> {
    let text = if json {
        let doc = Document {
            schema: SCHEMA,
            rules: RulesRef::new(rules),
            scope: SCOPE,
            rows,
        };
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    } else {
        let mut s = format!("rules: {}\nshown: {SCOPE}\n", rules.origin.display());
        for r in rows {
            s.push('\n');
            explain::text::row(r, &mut s);
        }
        s
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Output("<stdout>".into(), e.to_string()))
        }
        _ => Ok(()),
    }
}

/// `FIELD=VALUE` pairs, the value trimmed and lowercased.
fn parse_matches(args: &[String]) -> Result<Vec<(String, String)>, Error> {
    args.iter()
        .map(|m| match m.split_once('=') {
            Some((f, v)) if !f.trim().is_empty() => {
                Ok((f.trim().to_string(), v.trim().to_lowercase()))
            }
            _ => Err(Error::Usage(format!(
                "--match {m}: expected FIELD=VALUE, such as email=ana@acme.io"
            ))),
        })
        .collect()
}

/// Where a `--match` field is read from.
enum Target {
    Slot(usize),
    Column(usize),
}

/// Each `--match` field as a field the rules read, else a header of the
/// input.
fn resolve(
    wanted: &[(String, String)],
    rules: &Compiled,
    opened: &Opened,
) -> Result<Vec<(Target, String)>, Error> {
    let mut out = Vec::new();
    for (field, value) in wanted {
        let slot = rules
            .slots
            .iter()
            .position(|s| s.label.eq_ignore_ascii_case(field));
        let norm = aliases::normalise(field);
        let column = opened
            .headers
            .iter()
            .position(|h| h.trim() == field)
            .or_else(|| {
                opened
                    .headers
                    .iter()
                    .position(|h| aliases::normalise(h) == norm)
            });
        let target = match (slot, column) {
            (Some(s), _) => Target::Slot(s),
            (None, Some(c)) => Target::Column(c),
            (None, None) => {
                let fields: Vec<&str> = rules.slots.iter().map(|s| s.label.as_str()).collect();
                return Err(Error::Usage(format!(
                    "--match {field}=...: `{field}` is neither a field the rules read ({}) nor a column of {} ({})",
                    fields.join(", "),
                    opened.source.name,
                    opened.headers.join(", ")
                )));
            }
        };
        out.push((target, value.clone()));
    }
    Ok(out)
}

/// Whether every `--match` holds on a record, comparing the values as the
/// rules see them (trimmed, placeholders empty). An empty VALUE matches an
/// empty field. Records that cannot be read as fields match nothing.
fn matches_all(
    matches: &[(Target, String)],
    rec: &Record,
    opened: &Opened,
    rules: &Compiled,
    memo: &Memo,
) -> bool {
    if rec.problem.is_some() {
        return false;
    }
    let Some(view) = RowView::new(rec, &opened.binding, &[], &rules.placeholders, memo) else {
        return false;
    };
    matches.iter().all(|(target, want)| {
        let got = match target {
            Target::Column(c) => view.cell(*c).to_string(),
            Target::Slot(s) => match opened.binding.get(*s) {
                Some(Bound::NamePart { column, first }) => {
                    let (f, l) = crate::clean::name::split_full_name(view.cell(*column));
                    if *first {
                        f
                    } else {
                        l
                    }
                }
                _ => view.field(*s).to_string(),
            },
        };
        if want.is_empty() {
            got.is_empty()
        } else {
            eq_folded(&got, want)
        }
    })
}
