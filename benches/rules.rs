//! Rule evaluation on its own, per row: the 25 reference rules
//! (`benches/reference.toml`) against the same rules plus 225 more (250 in
//! all: title regexes, list membership, numeric thresholds, text tests,
//! dates), over a few thousand generated rows read into records up front.
//! No reading, writing or deduplication: `Compiled::evaluate` and the
//! per-row view it reads.
//!
//!     cargo bench --bench rules                # criterion, then a side-by-side summary
//!     cargo bench --bench rules -- --quick     # shorter
//!
//! The summary at the end times both rule sets interleaved in one loop
//! (the machine is shared, so only ratios taken side by side mean much)
//! and prints ns/row for each and their ratio; issue 8's target is
//! 250 rules < 3x the time of 25.

#[path = "../tests/reference/gen.rs"]
mod gen;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, Criterion, Throughput};
use leadsift::input::{bind, Binding, Record};
use leadsift::rules::derive::Memo;
use leadsift::rules::{compile, Compiled, Origin, RowView, Scratch, Verdict};

const ROWS: usize = 4000;
/// Rules added to the reference's 25 (19 `[[rule]]` entries, the rest
/// `[define]`, `[usable]` and `[stages]`) to make 250.
const EXTRA: usize = 225;
const REFERENCE: &str = include_str!("reference.toml");

/// Title words of the extra regex rules, in groups of three.
const TITLE_WORDS: &[&str] = &[
    "sales",
    "marketing",
    "engineering",
    "it",
    "procurement",
    "operations",
    "finance",
    "growth",
    "product",
    "data",
    "security",
    "revenue",
    "people",
    "legal",
    "analyst",
    "manager",
    "lead",
    "architect",
    "consultant",
    "developer",
    "scientist",
    "officer",
    "partner",
    "principal",
];
const NOTE_WORDS: &[&str] = &[
    "pricing",
    "quote",
    "proposal",
    "demo",
    "trial",
    "budget",
    "legal",
    "competitor",
    "renewal",
    "sso",
    "api",
    "security",
    "vendors",
    "approval",
    "contract",
    "seats",
    "enterprise",
    "voicemail",
    "unsubscribed",
    "bounced",
    "webinar",
    "whitepaper",
    "booth",
    "follow up",
];
const SUFFIXES: &[&str] = &[
    "GmbH", "Inc.", "LLC", "Ltd", "Labs", "Systems", "Partners", "Group",
];
const TLDS: &[&str] = &[
    ".de", ".io", ".fr", ".nl", ".co.uk", ".com.au", ".ca", ".net",
];

/// What each kind of extra rule tests (`i % 9` picks the kind of rule `i`).
const KINDS: [&str; 9] = [
    "title regex",
    "domain in list",
    "two lists",
    "size threshold",
    "notes contains",
    "ends with",
    "two numbers",
    "days_since",
    "list, present, =",
];

/// The reference rules plus the generated rules `extra` (indexes; kind
/// `i % 9`), as one rules file.
fn rules_text(extra: &[usize]) -> String {
    let mut lists = String::new();
    for k in 0..10 {
        let companies: Vec<String> = (0..40)
            .map(|j| format!("\"rival{k}-{j}.example\""))
            .collect();
        let _ = writeln!(lists, "competitors_{k} = [{}]", companies.join(", "));
        let countries: Vec<String> = gen::COUNTRIES
            .iter()
            .skip(k)
            .step_by(3)
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .map(|c| format!("{c:?}"))
            .collect();
        let _ = writeln!(lists, "countries_{k} = [{}]", countries.join(", "));
        let industries: Vec<String> = gen::INDUSTRIES
            .iter()
            .skip(k % 4)
            .step_by(4)
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .map(|c| format!("{c:?}"))
            .collect();
        let _ = writeln!(lists, "industries_{k} = [{}]", industries.join(", "));
    }
    let mut text = REFERENCE.replacen("[lists]\n", &format!("[lists]\n{lists}"), 1);
    for &i in extra {
        let (k, w) = (i % 10, i / 10);
        let word = |xs: &[&'static str], n: usize| xs[(w * 3 + n) % xs.len()];
        let when = match i % 9 {
            0 => format!(
                r#"title matches "(?i)\b({}|{}|{})\b""#,
                word(TITLE_WORDS, 0),
                word(TITLE_WORDS, 1),
                word(TITLE_WORDS, 2)
            ),
            1 => format!("email_domain in competitors_{k}"),
            2 => format!("country in countries_{k} and industry in industries_{k}"),
            3 => format!("number(company_size) >= {}", 10 * (w + 1) * (k + 1)),
            4 => format!(r#"notes contains "{}""#, word(NOTE_WORDS, k)),
            5 => format!(
                r#"company ends with "{}" or email ends with "{}""#,
                word(SUFFIXES, k),
                word(TLDS, k)
            ),
            6 => format!(
                "number(budget) >= {} and number(visits) >= {}",
                5000 * (k + 1),
                w % 7
            ),
            7 => format!("days_since(last_activity) <= {}", 15 * (w + 1)),
            _ => format!(
                r#"not (demo_requested in demo_yes) and timeline is present and source = "{}""#,
                word(gen::SOURCES, k).trim()
            ),
        };
        let group = if i % 2 == 0 { "fit" } else { "engagement" };
        let points = (i % 7) as i64 * 5 - 10;
        let _ = write!(
            text,
            "\n[[rule]]\nid = \"extra-{i}\"\nwhen = '{when}'\n{group} = {points}\n"
        );
    }
    text
}

fn compiled(extra: &[usize]) -> Compiled {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/reference.toml"
    ));
    let mut rules = compile(Origin::File(path), &rules_text(extra))
        .unwrap_or_else(|d| panic!("generated rules do not compile:\n{d}"));
    rules.as_of = jiff::civil::date(2025, 8, 15);
    rules
}

/// Generated rows as records, the way the reader leaves them.
fn records() -> (Vec<String>, Vec<Record>) {
    let headers = gen::COLUMNS.iter().map(|c| c.to_string()).collect();
    let records = gen::rows(ROWS, 7)
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = Record {
                line: i as u64 + 2,
                ..Record::default()
            };
            row.iter().for_each(|f| r.push_field(f.as_bytes()));
            r
        })
        .collect();
    (headers, records)
}

/// One rule set, ready to evaluate rows with the buffers a worker keeps.
struct Bench {
    rules: Compiled,
    binding: Binding,
    names: Vec<String>,
    memo: Memo,
    scratch: Scratch,
    verdict: Verdict,
}

impl Bench {
    fn new(extra: &[usize], headers: &[String]) -> Bench {
        let rules = compiled(extra);
        let binding = bind(headers, &rules);
        Bench {
            names: vec![String::new(); rules.slots.len()],
            // The memo a run's workers keep: with the evaluation plan.
            memo: Memo::for_rules(&rules),
            scratch: Scratch::default(),
            verdict: Verdict::new(rules.groups.len()),
            binding,
            rules,
        }
    }

    /// Evaluates every row; returns a checksum of the totals so that
    /// nothing is optimised away.
    fn pass(&mut self, records: &[Record], mut fired: Option<&mut Vec<u64>>) -> i64 {
        let mut sum = 0;
        for rec in records {
            self.memo.reset();
            let view = RowView::new(
                rec,
                &self.binding,
                &self.names,
                &self.rules.placeholders,
                &self.memo,
            )
            .expect("generated rows are UTF-8");
            self.rules
                .evaluate(&view, &mut self.scratch, &mut self.verdict);
            sum += self.verdict.totals.iter().sum::<i64>();
            if let Some(f) = fired.as_deref_mut() {
                self.verdict.fired.iter().for_each(|&i| f[i] += 1);
            }
        }
        black_box(sum)
    }
}

fn evaluate(c: &mut Criterion) {
    let (headers, records) = records();
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(records.len() as u64));
    let all: Vec<usize> = (0..EXTRA).collect();
    for (name, extra) in [("reference_25", &[][..]), ("reference_plus_225", &all)] {
        let mut b = Bench::new(extra, &headers);
        group.bench_function(name, |bench| bench.iter(|| b.pass(&records, None)));
    }
    group.finish();
}

criterion_group!(benches, evaluate);

/// Times rule sets in alternation, `rounds` passes each at least, and
/// returns each one's median ns/row.
fn interleaved(sets: &mut [Bench], records: &[Record], secs: f64) -> Vec<f64> {
    let mut times = vec![Vec::new(); sets.len()];
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < secs || times[0].len() < 7 {
        for (s, t) in sets.iter_mut().zip(&mut times) {
            let t0 = Instant::now();
            s.pass(records, None);
            t.push(t0.elapsed().as_nanos() as f64 / records.len() as f64);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect()
}

/// The 25 and 250 rule sets timed in alternation, then each kind of
/// extra rule on its own (25 of a kind on top of the reference), so that
/// the cost per rule of each kind shows.
fn side_by_side() {
    let (headers, records) = records();
    let all: Vec<usize> = (0..EXTRA).collect();
    let mut sets = vec![Bench::new(&[], &headers), Bench::new(&all, &headers)];
    let mut fired = vec![0; sets[1].rules.rules.len()];
    sets[1].pass(&records, Some(&mut fired));
    let live = fired.iter().filter(|&&n| n > 0).count();
    let m = interleaved(&mut sets, &records, 3.0);
    println!(
        "\nside by side, medians over {} rows ({} of the {} [[rule]] entries of the 250-rule file fire on some row):",
        records.len(),
        live,
        fired.len()
    );
    println!("  25 rules (reference)           {:8.0} ns/row", m[0]);
    println!("  250 rules (reference + {EXTRA})     {:8.0} ns/row", m[1]);
    println!(
        "  ratio 250 / 25                 {:8.2}x (issue 8 target: < 3x)",
        m[1] / m[0]
    );
    let mut sets = vec![Bench::new(&[], &headers)];
    for k in 0..KINDS.len() {
        let of_kind: Vec<usize> = (0..EXTRA).filter(|i| i % KINDS.len() == k).collect();
        sets.push(Bench::new(&of_kind, &headers));
    }
    let m = interleaved(&mut sets, &records, 4.0);
    println!("  cost per extra rule, by kind (25 rules of the kind on top of the reference):");
    for (k, kind) in KINDS.iter().enumerate() {
        println!(
            "    {kind:18} {:6.0} ns/row per rule",
            (m[k + 1] - m[0]) / (EXTRA / KINDS.len()) as f64
        );
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    side_by_side();
}
