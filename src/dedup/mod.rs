//! The same person in several rows: keys, clusters and the record kept.
//!
//! A row's keys are its normalised email, its phone in E.164 and its
//! normalised first name + last name + company, each hashed with its kind
//! (xxh3, 64 bits; see [`key_hash`]). Two rows are the same person when
//! any configured key matches; matching is transitive, so the rows of one
//! person form a cluster (a union-find over key hashes).
//!
//! The run is two passes over the input. Pass one evaluates every row and
//! feeds [`Index::observe`] in input order: it keeps, per cluster, only the
//! best row so far (its rank, position, key hashes, stage and score), so
//! memory grows with the number of distinct keys and people, never with
//! the size of the rows (besides a cluster number per row, 4 bytes). Pass
//! two evaluates the rows again and asks [`Index::decide_noted`] whether
//! each row is its cluster's survivor (working out a duplicate's keys
//! again, to name the one it shares with the kept row).

mod keys;
pub mod spec;
mod table;

pub use keys::{key_hash, KeyBuf, KeyFields};
pub use spec::{Criterion, DedupSpec, ExcludeBy, KeyKind, Order, KEY_KINDS};

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::rules::Stage;
use table::KeyTable;

/// Hasher for keys that are already hashes.
#[derive(Default)]
pub struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type HashedMap<V> = HashMap<u64, V, BuildHasherDefault<Identity>>;

/// What pass one learns of a usable row.
#[derive(Debug, Clone, Copy)]
pub struct Fact {
    /// Physical line of the record in its file.
    pub line: u64,
    /// Position in the run (0-based, across files).
    pub row: u64,
    /// Key hashes, by position in the configured key order; 0 = no key.
    pub keys: [u64; 3],
    /// Survivorship rank from the `keep` criteria: higher is better.
    pub rank: u32,
    pub stage: Stage,
    pub score: i64,
    /// Field slots (the first 64) that are empty on this row.
    pub empty: u64,
}

/// A cluster's best row so far.
#[derive(Debug, Clone, Copy)]
pub struct Best {
    pub line: u64,
    pub row: u64,
    pub rank: u32,
    /// The low 32 bits of the best row's key hashes (0 = none), to name
    /// the key a dropped row shares with it.
    pub keys: [u32; 3],
    pub stage: Stage,
    pub score: i64,
    pub empty: u64,
}

impl Best {
    /// A row as the best of its person so far.
    fn of(f: &Fact) -> Best {
        Best {
            line: f.line,
            row: f.row,
            rank: f.rank,
            keys: f.keys.map(|k| k as u32),
            stage: f.stage,
            score: f.score,
            empty: f.empty,
        }
    }
}

/// A value for an empty field of a kept row, from one of its duplicates.
#[derive(Debug, Clone)]
pub struct Fill {
    pub value: String,
    pub file: usize,
    pub line: u64,
}

/// The key of a (person, field slot) pair in [`Plan::fills`].
pub fn fill_key(cluster: u32, slot: usize) -> u64 {
    (u64::from(cluster) << 8) | slot as u64
}

/// Each cluster's best row so far.
enum Bests {
    /// Every field of it (56 bytes a cluster).
    Full(Vec<Best>),
    /// Only where it is, its line and run position (16 bytes a cluster):
    /// for deduplication by one key, the first row kept, in one pass
    /// ([`Index::one_key_first`]), where every row ranks alike (no `keep`
    /// criteria), is noted as a lead with no score and nothing empty
    /// (nothing is filled), and shares its one key with its cluster's
    /// best row. At ten million people that is 350 MB less.
    Places(Vec<[u64; 2]>),
}

impl Bests {
    fn get(&self, c: u32) -> Best {
        match self {
            Bests::Full(v) => v[c as usize],
            Bests::Places(v) => {
                let [line, row] = v[c as usize];
                Best {
                    line,
                    row,
                    rank: 0,
                    keys: [0; 3],
                    stage: Stage::Lead,
                    score: 0,
                    empty: 0,
                }
            }
        }
    }

    fn set(&mut self, c: u32, b: Best) {
        match self {
            Bests::Full(v) => v[c as usize] = b,
            Bests::Places(v) => v[c as usize] = [b.line, b.row],
        }
    }

    fn push(&mut self, b: Best) {
        match self {
            Bests::Full(v) => v.push(b),
            Bests::Places(v) => {
                // What `get` answers for the fields it does not keep.
                debug_assert!(
                    b.rank == 0 && b.stage == Stage::Lead && b.score == 0 && b.empty == 0,
                    "a row of one-pass deduplication with more than its place: {b:?}"
                );
                v.push([b.line, b.row]);
            }
        }
    }
}

/// The clusters of a run.
pub struct Index {
    order: Order,
    keys: KeyTable,
    parent: Vec<u32>,
    best: Bests,
    /// The cluster each row joined when observed ([`NO_CLUSTER`] for rows
    /// with no key, and rows not observed), by run position, when pass one
    /// notes them ([`Index::note_row`]): pass two then finds a kept row's
    /// person without working out its keys again (4 bytes a row).
    rows: Vec<u32>,
}

/// In [`Index`]'s rows: no cluster.
const NO_CLUSTER: u32 = u32::MAX;

/// What pass two does with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The person's kept record (or a person of one row).
    Keep { cluster: Option<u32> },
    /// A duplicate of the kept row `best`: `key` is the position (in the
    /// configured order) of the key it shares with it, `None` when it is
    /// linked only through other rows of the person.
    Drop {
        cluster: u32,
        best: u64,
        key: Option<usize>,
    },
}

impl Index {
    pub fn new(order: Order) -> Index {
        Index {
            order,
            keys: KeyTable::default(),
            parent: Vec::new(),
            best: Bests::Full(Vec::new()),
            rows: Vec::new(),
        }
    }

    /// An index for deduplication by one key, the first row kept, with
    /// no `keep` criteria and nothing filled, whose rows are observed as
    /// leads with no score (one-pass deduplication): it keeps only where
    /// each cluster's first row is. [`Index::best`] then answers rank 0,
    /// a lead, score 0, nothing empty, and no key hashes, which
    /// [`Index::decide_in`] does not need: a row of the cluster shares
    /// its one key.
    pub fn one_key_first() -> Index {
        Index {
            best: Bests::Places(Vec::new()),
            ..Index::new(Order::First)
        }
    }

    /// Notes the cluster row `row` joined (what [`Index::observe`]
    /// returned), rows in input order, for [`Index::decide_noted`].
    pub fn note_row(&mut self, row: u64, cluster: Option<u32>) {
        let Ok(at) = usize::try_from(row) else {
            return;
        };
        if self.rows.len() < at {
            self.rows.resize(at, NO_CLUSTER);
        }
        if self.rows.len() == at {
            self.rows.push(cluster.unwrap_or(NO_CLUSTER));
        }
    }

    /// Whether pass one noted its rows' clusters.
    pub fn rows_noted(&self) -> bool {
        !self.rows.is_empty()
    }

    /// [`Index::decide`] from the noted cluster of row `row` (after
    /// [`Index::finish`]), without its keys: `None` when the row is a
    /// duplicate, whose keys [`Index::decide_in`] needs to name the key
    /// it shares with the kept row.
    pub fn decide_noted(&self, row: u64) -> Option<Decision> {
        let c = usize::try_from(row)
            .ok()
            .and_then(|r| self.rows.get(r))
            .copied()
            .unwrap_or(NO_CLUSTER);
        if c == NO_CLUSTER {
            return Some(Decision::Keep { cluster: None });
        }
        let root = self.parent[c as usize];
        (self.best.get(root).row == row).then_some(Decision::Keep {
            cluster: Some(root),
        })
    }

    fn find(&mut self, mut c: u32) -> u32 {
        while self.parent[c as usize] != c {
            let p = self.parent[c as usize];
            self.parent[c as usize] = self.parent[p as usize];
            c = p;
        }
        c
    }

    fn better(&self, a: &Best, b: &Best) -> bool {
        match a.rank.cmp(&b.rank) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => match self.order {
                Order::First => a.row < b.row,
                Order::Last => a.row > b.row,
            },
        }
    }

    /// Takes in one usable row, in input order. Returns the clusters that
    /// were merged into the row's cluster (for callers that keep data per
    /// cluster), then the row's cluster.
    pub fn observe(&mut self, f: &Fact, merged: &mut Vec<u32>) -> Option<u32> {
        merged.clear();
        let mut present = f.keys.iter().filter(|&&k| k != 0);
        if let (Some(&k), None) = (present.next(), present.next()) {
            return Some(self.observe_one(f, k));
        }
        let mut root: Option<u32> = None;
        for &k in f.keys.iter().filter(|&&k| k != 0) {
            if let Some(c) = self.keys.get(k) {
                let r = self.find(c);
                match root {
                    None => root = Some(r),
                    Some(r0) if r0 != r => {
                        // Two people so far turn out to be one.
                        let (keep, gone) = if r0 < r { (r0, r) } else { (r, r0) };
                        self.parent[gone as usize] = keep;
                        let (bk, bg) = (self.best.get(keep), self.best.get(gone));
                        if self.better(&bg, &bk) {
                            self.best.set(keep, bg);
                        }
                        merged.push(gone);
                        root = Some(keep);
                    }
                    _ => {}
                }
            }
        }
        if f.keys.iter().all(|&k| k == 0) {
            return None;
        }
        let me = Best::of(f);
        let c = match root {
            Some(r) => {
                if self.better(&me, &self.best.get(r)) {
                    self.best.set(r, me);
                }
                r
            }
            None => {
                let c = u32::try_from(self.parent.len()).unwrap_or(u32::MAX);
                self.parent.push(c);
                self.best.push(me);
                c
            }
        };
        for &k in f.keys.iter().filter(|&&k| k != 0) {
            self.keys.get_or_insert(k, c);
        }
        Some(c)
    }

    /// [`Index::observe`] for a row with one key: nothing can merge, and
    /// the key is looked up once (a miss in a large table is most of the
    /// cost).
    fn observe_one(&mut self, f: &Fact, k: u64) -> u32 {
        let me = Best::of(f);
        let next = u32::try_from(self.parent.len()).unwrap_or(u32::MAX);
        match self.keys.get_or_insert(k, next) {
            Some(c) => {
                let r = self.find(c);
                if self.better(&me, &self.best.get(r)) {
                    self.best.set(r, me);
                }
                r
            }
            None => {
                self.parent.push(next);
                self.best.push(me);
                next
            }
        }
    }

    /// Room for `keys` distinct keys in the key table (see
    /// [`KeyTable::reserve`]).
    pub fn reserve(&mut self, keys: usize) {
        self.keys.reserve(keys);
    }

    /// Brings the table's lines of the first keys of `facts` into the
    /// cache before they are observed (see [`KeyTable::warm`]).
    pub fn warm(&self, facts: &[Fact]) {
        let first = |f: &Fact| f.keys.into_iter().find(|&k| k != 0);
        self.keys.warm(facts.iter().filter_map(first));
    }

    /// Ends pass one: every cluster points straight at its root, so that
    /// pass two can decide from many threads without changing anything.
    pub fn finish(&mut self) {
        for i in 0..self.parent.len() {
            let r = self.find(i as u32);
            self.parent[i] = r;
        }
    }

    /// The root cluster of a key hash (after [`Index::finish`]).
    pub fn cluster_of(&self, keys: &[u64; 3]) -> Option<u32> {
        keys.iter()
            .filter(|&&k| k != 0)
            .find_map(|&k| self.keys.get(k))
            .map(|c| self.parent[c as usize])
    }

    pub fn best(&self, cluster: u32) -> Best {
        self.best.get(cluster)
    }

    /// Whether row `row` with these keys is kept or dropped.
    pub fn decide(&self, row: u64, keys: &[u64; 3]) -> Decision {
        let Some(c) = self.cluster_of(keys) else {
            return Decision::Keep { cluster: None };
        };
        self.decide_in(c, row, keys)
    }

    /// [`Index::decide`] for a row whose root cluster is known.
    pub fn decide_in(&self, c: u32, row: u64, keys: &[u64; 3]) -> Decision {
        let b = self.best.get(c);
        if b.row == row {
            return Decision::Keep { cluster: Some(c) };
        }
        let key = match self.best {
            // One key: the cluster's rows all have it.
            Bests::Places(_) => (0..3).find(|&i| keys[i] != 0),
            Bests::Full(_) => (0..3).find(|&i| keys[i] != 0 && keys[i] as u32 == b.keys[i]),
        };
        Decision::Drop {
            cluster: c,
            best: b.row,
            key,
        }
    }

    /// Root clusters (people with at least one key).
    pub fn roots(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.parent.len() as u32).filter(|&i| self.parent[i as usize] == i)
    }

    pub fn people(&self) -> usize {
        self.roots().count()
    }

    pub fn distinct_keys(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(row: u64, keys: [u64; 3], rank: u32) -> Fact {
        Fact {
            line: row + 2,
            row,
            keys,
            rank,
            stage: Stage::Lead,
            score: 0,
            empty: 0,
        }
    }

    fn run(order: Order, facts: &[Fact]) -> Index {
        let mut ix = Index::new(order);
        let mut merged = Vec::new();
        for f in facts {
            ix.observe(f, &mut merged);
        }
        ix.finish();
        ix
    }

    /// Pass two's answer from the cluster each row joined in pass one is
    /// the answer from its keys, for kept rows; a duplicate is left to
    /// its keys. Random rows of up to three keys from a small pool (so
    /// that people merge), some rows without keys, some not observed.
    #[test]
    fn a_noted_row_is_decided_as_its_keys_decide_it() {
        let mut rng = crate::testing::Rng::new(7);
        for order in [Order::First, Order::Last] {
            let mut ix = Index::new(order);
            let mut merged = Vec::new();
            let mut facts = Vec::new();
            for row in 0..3000u64 {
                if rng.next().is_multiple_of(10) {
                    continue; // an unusable row: no fact
                }
                let mut key = |kind: u64| match rng.next() % 3 {
                    0 => 0,
                    _ => (kind << 40) | (1 + rng.next() % 400),
                };
                let keys = [key(1), key(2), key(3)];
                let f = fact(row, keys, (rng.next() % 4) as u32);
                let c = ix.observe(&f, &mut merged);
                ix.note_row(f.row, c);
                facts.push(f);
            }
            ix.finish();
            assert!(ix.rows_noted());
            let (mut kept, mut dropped) = (0, 0);
            for f in &facts {
                let by_keys = ix.decide(f.row, &f.keys);
                match ix.decide_noted(f.row) {
                    Some(d) => {
                        assert_eq!(d, by_keys, "row {}", f.row);
                        kept += 1;
                    }
                    None => {
                        assert!(matches!(by_keys, Decision::Drop { .. }), "row {}", f.row);
                        dropped += 1;
                    }
                }
            }
            assert!(
                kept > 100 && dropped > 100,
                "{kept} kept, {dropped} dropped"
            );
        }
    }

    /// The slim index of one-pass deduplication answers as the full one
    /// on rows of one key, first kept: the same clusters as observed, the
    /// same decisions (the key named), the same kept rows' places.
    #[test]
    fn one_key_first_answers_as_the_full_index() {
        let mut rng = crate::testing::Rng::new(11);
        let (mut full, mut slim) = (Index::new(Order::First), Index::one_key_first());
        let mut merged = Vec::new();
        let mut facts = Vec::new();
        for row in 0..5000u64 {
            let key = match rng.next() % 8 {
                0 => 0,
                _ => 1 + rng.next() % 1500,
            };
            let f = fact(row, [key, 0, 0], 0);
            let (a, b) = (full.observe(&f, &mut merged), slim.observe(&f, &mut merged));
            assert_eq!(a, b, "row {row}");
            if let Some(c) = a {
                assert_eq!(
                    full.decide_in(c, f.row, &f.keys),
                    slim.decide_in(c, f.row, &f.keys)
                );
            }
            facts.push(f);
        }
        let mut dropped = 0;
        for f in &facts {
            let d = full.decide(f.row, &f.keys);
            assert_eq!(d, slim.decide(f.row, &f.keys), "row {}", f.row);
            if let Decision::Drop { cluster, key, .. } = d {
                assert_eq!(key, Some(0));
                let (a, b) = (full.best(cluster), slim.best(cluster));
                assert_eq!((a.line, a.row, a.stage), (b.line, b.row, b.stage));
                dropped += 1;
            }
        }
        assert!(dropped > 1000, "{dropped} dropped");
        assert_eq!(full.people(), slim.people());
    }

    #[test]
    fn the_best_ranked_row_survives_then_the_first() {
        let ix = run(
            Order::First,
            &[
                fact(0, [1, 0, 0], 1),
                fact(1, [1, 0, 0], 3),
                fact(2, [1, 0, 0], 3),
            ],
        );
        assert_eq!(
            ix.decide(1, &[1, 0, 0]),
            Decision::Keep { cluster: Some(0) }
        );
        assert_eq!(
            ix.decide(0, &[1, 0, 0]),
            Decision::Drop {
                cluster: 0,
                best: 1,
                key: Some(0)
            }
        );
        let ix = run(Order::Last, &[fact(0, [1, 0, 0], 3), fact(1, [1, 0, 0], 3)]);
        assert_eq!(
            ix.decide(1, &[1, 0, 0]),
            Decision::Keep { cluster: Some(0) }
        );
    }

    #[test]
    fn a_row_sharing_two_keys_joins_two_people() {
        // a: email 1; b: phone 2; c: email 1 + phone 2 -> one person.
        let ix = run(
            Order::First,
            &[
                fact(0, [1, 0, 0], 1),
                fact(1, [0, 2, 0], 2),
                fact(2, [1, 2, 0], 1),
            ],
        );
        assert_eq!(ix.people(), 1);
        assert_eq!(
            ix.decide(1, &[0, 2, 0]),
            Decision::Keep { cluster: Some(0) }
        );
        assert_eq!(
            ix.decide(0, &[1, 0, 0]),
            Decision::Drop {
                cluster: 0,
                best: 1,
                key: None
            }
        );
        assert_eq!(
            ix.decide(2, &[1, 2, 0]),
            Decision::Drop {
                cluster: 0,
                best: 1,
                key: Some(1)
            }
        );
    }

    #[test]
    fn rows_without_keys_are_people_of_their_own() {
        let ix = run(Order::First, &[fact(0, [0, 0, 0], 1)]);
        assert_eq!(ix.decide(0, &[0, 0, 0]), Decision::Keep { cluster: None });
        assert_eq!(ix.people(), 0);
    }
}

/// What an earlier run (the state file) knew of a person: the latest of
/// what it knew of each of the person's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prior {
    pub first_seen: jiff::civil::Date,
    pub last_seen: jiff::civil::Date,
    pub stage: Stage,
    pub score: i64,
}

impl Prior {
    /// Folds what another key of the same person says into this.
    pub fn merge(&mut self, o: &Prior) {
        let first = self.first_seen.min(o.first_seen);
        if (o.last_seen, ladder(o.stage)) > (self.last_seen, ladder(self.stage)) {
            *self = *o;
        }
        self.first_seen = first;
    }
}

/// A stage's height on the ladder (lead < prospect < opportunity); 0 for
/// disqualified and rejected, which are not on it.
pub fn ladder(s: Stage) -> u32 {
    match s {
        Stage::Lead => 1,
        Stage::Prospect => 2,
        Stage::Opportunity => 3,
        Stage::Disqualified | Stage::Rejected => 0,
    }
}

/// How a kept row compares with the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    New,
    Changed,
    Unchanged,
}

impl Change {
    pub fn name(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
        }
    }
}

/// Where a person stands against the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The stage written: today's, or the earlier one when held.
    pub stage: Stage,
    pub today: Stage,
    pub held: bool,
    pub change: Change,
    pub prior: Option<Prior>,
}

/// Everything pass two needs to know about pass one.
pub struct Plan {
    pub index: Index,
    /// Per root cluster, what the state file knew.
    pub prior: HashedMap<Prior>,
    /// The run position of each input file's first record.
    pub file_base: Vec<u64>,
    pub names: Vec<String>,
    pub allow_downgrade: bool,
    /// `fill_empty`: values for the kept rows' empty fields, by
    /// [`fill_key`].
    pub fills: HashedMap<Fill>,
}

impl Plan {
    /// The file index and the row within it (1-based) of a run position.
    pub fn locate(&self, global: u64) -> (usize, u64) {
        let f = self
            .file_base
            .partition_point(|&b| b <= global)
            .saturating_sub(1);
        (f, global - self.file_base[f] + 1)
    }

    /// Where a person stands: today's stage (its best row's), held at the
    /// earlier stage when it would move down the ladder.
    pub fn standing(&self, cluster: Option<u32>, today: Stage, score: i64) -> Standing {
        let prior = cluster.and_then(|c| self.prior.get(&u64::from(c)).copied());
        let Some(p) = prior else {
            return Standing {
                stage: today,
                today,
                held: false,
                change: Change::New,
                prior: None,
            };
        };
        let held = !self.allow_downgrade && ladder(today) > 0 && ladder(p.stage) > ladder(today);
        let stage = if held { p.stage } else { today };
        let change = if stage != p.stage || score != p.score {
            Change::Changed
        } else {
            Change::Unchanged
        };
        Standing {
            stage,
            today,
            held,
            change,
            prior,
        }
    }
}
