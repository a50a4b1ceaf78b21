//! Rule evaluation on its own, per row: the 25 reference rules
//! (`benches/reference.toml`) against the same rules plus 225 more (250 in
//! all: title regexes, list membership, numeric thresholds, text tests,
//! dates), over a few thousand generated rows read into records up front.
//! No reading, writing or deduplication: `Compiled::evaluate` and the
//! per-row view it reads.
//!
//!     cargo bench --bench rules                # criterion, then a side-by-side summary
//!     cargo bench --bench rules -- --quick     # shorter
//!     ROWWISE=1 cargo bench --bench rules      # rows one by one, not 64 at a time
//!
//! The summary at the end times both rule sets interleaved in one loop
//! (the machine is shared, so only ratios taken side by side mean much)
//! and prints ns/row for each and their ratio; issue 8's target is
//! 250 rules < 3x the time of 25.

#[path = "../tests/reference/gen.rs"]
mod gen;
#[path = "../tests/reference/many.rs"]
mod many;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, Criterion, Throughput};
use leadsift::input::{bind, Binding, Record};
use leadsift::rules::derive::Memo;
use leadsift::rules::{compile, Compiled, Origin, RowView, Scratch, Verdict};
use many::{EXTRA, KINDS};

const ROWS: usize = 4000;
fn compiled(extra: &[usize]) -> Compiled {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/reference.toml"
    ));
    let mut rules = compile(Origin::File(path), &many::rules_text(extra))
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
    /// One memo and verdict per lane, for `evaluate_many`.
    memos: Vec<Memo>,
    verdicts: Vec<Verdict>,
    lanes: bool,
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
            memos: (0..Compiled::LANES)
                .map(|_| Memo::for_rules(&rules))
                .collect(),
            verdicts: vec![Verdict::new(rules.groups.len()); Compiled::LANES],
            lanes: std::env::var_os("ROWWISE").is_none(),
            binding,
            rules,
        }
    }

    /// Evaluates every row; returns a checksum of the totals so that
    /// nothing is optimised away.
    fn pass(&mut self, records: &[Record], mut fired: Option<&mut Vec<u64>>) -> i64 {
        let mut sum = 0;
        if self.lanes {
            for recs in records.chunks(Compiled::LANES) {
                self.memos.iter_mut().for_each(Memo::reset);
                let views: Vec<RowView> = recs
                    .iter()
                    .zip(&self.memos)
                    .map(|(rec, memo)| {
                        RowView::new(
                            rec,
                            &self.binding,
                            &self.names,
                            &self.rules.placeholders,
                            memo,
                        )
                        .expect("generated rows are UTF-8")
                    })
                    .collect();
                let out = &mut self.verdicts[..recs.len()];
                self.rules.evaluate_many(&views, &mut self.scratch, out);
                for v in out.iter() {
                    sum += v.totals.iter().sum::<i64>();
                    if let Some(f) = fired.as_deref_mut() {
                        v.fired.iter().for_each(|&i| f[i] += 1);
                    }
                }
            }
            return black_box(sum);
        }
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
