//! The run's summary: counts per stage, per file, per reject kind and per
//! rule, written as `summary.json` (schema `leadsift.summary/1`, documented
//! in the README) and shown to people on stderr.

use std::io::{IsTerminal, Write};
use std::path::Path;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::exclude::ListInfo;
use crate::input::{Bound, FileInfo};
use crate::output::AtomicFile;
use crate::row::{Changes, ChunkOut, RejectKind, SourceCounts};
use crate::rules::{Compiled, Stage};

pub const SCHEMA: &str = "leadsift.summary/1";

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub lead: u64,
    pub prospect: u64,
    pub opportunity: u64,
    pub disqualified: u64,
    pub rejected: u64,
}

impl Counts {
    fn add(&mut self, stages: &[u64; 5]) {
        self.lead += stages[Stage::Lead.index()];
        self.prospect += stages[Stage::Prospect.index()];
        self.opportunity += stages[Stage::Opportunity.index()];
        self.disqualified += stages[Stage::Disqualified.index()];
        self.rejected += stages[Stage::Rejected.index()];
    }

    pub fn total(&self) -> u64 {
        self.lead + self.prospect + self.opportunity + self.disqualified + self.rejected
    }

    pub fn get(&self, s: Stage) -> u64 {
        match s {
            Stage::Lead => self.lead,
            Stage::Prospect => self.prospect,
            Stage::Opportunity => self.opportunity,
            Stage::Disqualified => self.disqualified,
            Stage::Rejected => self.rejected,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RulesInfo {
    /// The rules file's path, or `<built-in rules/default.toml>`.
    pub path: String,
    pub builtin: bool,
    pub name: Option<String>,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub rows: u64,
    pub stages: Counts,
    /// Rows dropped as duplicates of a row kept elsewhere.
    pub duplicates: u64,
    /// What was found: format, encoding, delimiter, preamble, blank lines,
    /// the export profile, header problems.
    #[serde(flatten)]
    pub input: FileInfo,
    /// Field the rules read -> the header it was found under (a list when
    /// several columns are read, the first non-empty winning).
    pub columns: serde_json::Map<String, serde_json::Value>,
    /// Fields the rules read that this file has no column for.
    pub missing_fields: Vec<String>,
    /// Headers no field of the rules reads (they are still copied to the
    /// outputs).
    pub unmapped_columns: Vec<String>,
}

impl FileSummary {
    pub fn new(
        path: &str,
        headers: &[String],
        rules: &Compiled,
        binding: &[Bound],
        input: FileInfo,
    ) -> Self {
        let mut columns = serde_json::Map::new();
        let mut missing = Vec::new();
        for (slot, b) in rules.slots.iter().zip(binding) {
            let shown: serde_json::Value = match b {
                Bound::Missing => {
                    missing.push(slot.label.clone());
                    continue;
                }
                Bound::Column(c) => headers[*c].clone().into(),
                Bound::FirstOf(cs) => cs.iter().map(|c| headers[*c].clone()).collect(),
                Bound::NamePart { column, first } => {
                    let part = if *first { "first part" } else { "last part" };
                    format!("{} ({part})", headers[*column]).into()
                }
            };
            columns.insert(slot.label.clone(), shown);
        }
        let used: Vec<usize> = binding.iter().flat_map(Bound::columns).collect();
        let unmapped = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.contains(i))
            .map(|(_, h)| h.clone())
            .collect();
        FileSummary {
            path: path.to_string(),
            rows: 0,
            stages: Counts::default(),
            duplicates: 0,
            input,
            columns,
            missing_fields: missing,
            unmapped_columns: unmapped,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleHits {
    pub id: String,
    pub hits: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Disqualification {
    pub rule: String,
    pub reason: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DedupSummary {
    pub keys: Vec<&'static str>,
    pub keep: Vec<&'static str>,
    pub canonical_email: bool,
    /// Distinct people among the usable rows that have a key.
    pub people: u64,
    pub distinct_keys: u64,
}

impl DedupSummary {
    pub fn new(rules: &Compiled, index: &crate::dedup::Index) -> Self {
        let spec = &rules.dedup;
        DedupSummary {
            keys: spec.keys.iter().map(|k| k.name()).collect(),
            keep: spec.keep_names(),
            canonical_email: spec.canonical_email,
            people: index.people() as u64,
            distinct_keys: index.distinct_keys() as u64,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ExclusionSummary {
    #[serde(flatten)]
    pub list: ListInfo,
    /// Input rows disqualified because they match this list.
    pub excluded_rows: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StateSummary {
    pub path: String,
    pub as_of: String,
    /// Keys the state remembered before this run.
    pub keys_before: u64,
    /// Keys this run recorded (new or updated).
    pub keys_written: u64,
    pub only_changed: bool,
    pub allow_downgrade: bool,
    pub changes: Changes,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub leadsift_version: &'static str,
    pub rules: RulesInfo,
    pub output_dir: String,
    /// `--dry-run`: nothing was written.
    pub dry_run: bool,
    pub jobs: usize,
    pub elapsed_seconds: f64,
    /// Every row read: the five stage counts plus `duplicates`.
    pub rows_in: u64,
    pub stages: Counts,
    /// Rows dropped as duplicates (in duplicates.csv).
    pub duplicates: u64,
    pub files: Vec<FileSummary>,
    /// How people were matched, when deduplication is on.
    pub dedup: Option<DedupSummary>,
    /// `--exclude` lists and the rows each held back.
    pub exclusions: Vec<ExclusionSummary>,
    /// `--state`: the file and how kept rows compare with the last run.
    pub state: Option<StateSummary>,
    #[serde(skip)]
    pub changes: Changes,
    /// Reject kind -> rows; every kind is listed, zero or not.
    pub rejects: serde_json::Map<String, serde_json::Value>,
    pub unusable_reason: String,
    pub disqualified: Vec<Disqualification>,
    pub rule_hits: Vec<RuleHits>,
    /// Rules that never fired, and rules that fired on every row the rules
    /// scored: both usually mean a mistake in the rules.
    pub coverage: Coverage,
    /// Rows per value of the `source` field, most rows first.
    pub sources: Vec<SourceSummary>,
    /// Total scores of the lead, prospect and opportunity rows.
    pub scores: ScoreDistribution,
    /// With `[grades]`: lead, prospect and opportunity rows by fit grade
    /// and engagement grade.
    pub grades: Option<GradeGrid>,
    /// `--min-rows`, `--max-rejected`, ...: each gate given, and whether it
    /// held.
    pub gates: Vec<GateResult>,
    #[serde(skip)]
    source_counts: SourceCounts,
    #[serde(skip)]
    score_counts: BTreeMap<i64, u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// Rows whose rules were scored and counted in `rule_hits` (kept rows
    /// that were not rejected, and not left out by `--only-changed`).
    pub rows_scored: u64,
    pub never_fired: Vec<String>,
    pub fired_on_every_row: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GradeGrid {
    pub fit_group: String,
    pub engagement_group: String,
    /// Fit grades, best first (the grid's rows).
    pub fit: Vec<String>,
    /// Engagement grades, best first (the grid's columns).
    pub engagement: Vec<String>,
    /// `rows[f][e]`: rows graded `fit[f]` and `engagement[e]`.
    pub rows: Vec<Vec<u64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceSummary {
    /// The value as first spelt (values are grouped ignoring case);
    /// `(none)` for an empty source, `(not read)` for rows that could not
    /// be read, `(other values)` for what is past the first 25.
    pub source: String,
    pub rows: u64,
    pub stages: Counts,
    pub duplicates: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScoreDistribution {
    pub rows: u64,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub mean: Option<f64>,
    /// Up to 12 equal-width ranges from `min` to `max`, both ends inclusive.
    pub buckets: Vec<ScoreBucket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreBucket {
    pub from: i64,
    pub to: i64,
    pub rows: u64,
}

/// One threshold given on the command line and how the run measured up.
#[derive(Debug, Clone, Serialize)]
pub struct GateResult {
    /// The option as given: `--max-rejected 5%`.
    pub gate: String,
    /// What was measured, in the gate's unit (rows or percent).
    pub actual: f64,
    pub limit: f64,
    /// `rows` or `percent`.
    pub unit: &'static str,
    pub passed: bool,
    /// Exit status the run ends with when this gate fails.
    pub exit_status: u8,
    /// `5.3% of 1,200 rows rejected, over the limit of 5% by 0.3 points`.
    pub message: String,
}

/// Most sources listed by name; the rest are summed.
const MAX_SOURCES: usize = 25;

impl Summary {
    pub fn new(rules: &Compiled, out_dir: &Path, jobs: usize) -> Self {
        let mut rejects = serde_json::Map::new();
        for k in RejectKind::ALL {
            rejects.insert(k.name().into(), 0.into());
        }
        Summary {
            schema: SCHEMA,
            leadsift_version: env!("CARGO_PKG_VERSION"),
            rules: RulesInfo {
                path: rules.origin.display(),
                builtin: matches!(rules.origin, crate::rules::Origin::Builtin),
                name: rules.name.clone(),
                sha256: rules.sha256.clone(),
            },
            output_dir: out_dir.display().to_string(),
            dry_run: false,
            jobs,
            elapsed_seconds: 0.0,
            rows_in: 0,
            stages: Counts::default(),
            duplicates: 0,
            files: Vec::new(),
            dedup: None,
            exclusions: Vec::new(),
            state: None,
            changes: Changes::default(),
            rejects,
            unusable_reason: rules
                .usable
                .as_ref()
                .map_or_else(String::new, |u| u.2.clone()),
            disqualified: rules
                .rules
                .iter()
                .filter_map(|r| {
                    Some(Disqualification {
                        rule: r.id.clone(),
                        reason: r.disqualify.clone()?,
                        rows: 0,
                    })
                })
                .collect(),
            rule_hits: rules
                .rules
                .iter()
                .map(|r| RuleHits {
                    id: r.id.clone(),
                    hits: 0,
                })
                .collect(),
            coverage: Coverage::default(),
            sources: Vec::new(),
            scores: ScoreDistribution::default(),
            grades: rules.grades.as_ref().map(|g| GradeGrid {
                fit_group: rules.groups[g.fit.group].name.clone(),
                engagement_group: rules.groups[g.engagement.group].name.clone(),
                fit: g.fit.names().iter().map(|s| s.to_string()).collect(),
                engagement: g.engagement.names().iter().map(|s| s.to_string()).collect(),
                rows: vec![vec![0; g.engagement.levels.len() + 1]; g.fit.levels.len() + 1],
            }),
            gates: Vec::new(),
            source_counts: SourceCounts::default(),
            score_counts: BTreeMap::new(),
        }
    }

    /// Works out what is derived from the counts: coverage, sources and
    /// the score distribution. Called once, after the last chunk.
    pub fn finish(&mut self) {
        let scored = self.coverage.rows_scored;
        self.coverage.never_fired = self
            .rule_hits
            .iter()
            .filter(|h| h.hits == 0 && scored > 0)
            .map(|h| h.id.clone())
            .collect();
        self.coverage.fired_on_every_row = self
            .rule_hits
            .iter()
            .filter(|h| h.hits == scored && scored > 1)
            .map(|h| h.id.clone())
            .collect();
        let mut rows: Vec<SourceSummary> = self
            .source_counts
            .rows
            .iter()
            .map(|(name, c)| {
                let mut stages = Counts::default();
                stages.add(&[c[0], c[1], c[2], c[3], c[4]]);
                SourceSummary {
                    source: name.clone(),
                    rows: c.iter().sum(),
                    stages,
                    duplicates: c[5],
                }
            })
            .collect();
        // Most rows first; ties in order of first appearance (stable sort).
        rows.sort_by_key(|r| std::cmp::Reverse(r.rows));
        if rows.len() > MAX_SOURCES {
            let rest = rows.split_off(MAX_SOURCES - 1);
            let mut other = SourceSummary {
                source: format!("(other values: {})", rest.len()),
                rows: 0,
                stages: Counts::default(),
                duplicates: 0,
            };
            for r in rest {
                other.rows += r.rows;
                other.duplicates += r.duplicates;
                other.stages.lead += r.stages.lead;
                other.stages.prospect += r.stages.prospect;
                other.stages.opportunity += r.stages.opportunity;
                other.stages.disqualified += r.stages.disqualified;
                other.stages.rejected += r.stages.rejected;
            }
            rows.push(other);
        }
        self.sources = rows;
        self.scores = ScoreDistribution::of(&self.score_counts);
    }

    /// Adds one chunk of processed rows from input `file`.
    pub fn add(&mut self, file: usize, c: &ChunkOut) {
        let rows: u64 = c.stages.iter().sum::<u64>() + c.duplicates;
        self.rows_in += rows;
        self.stages.add(&c.stages);
        self.duplicates += c.duplicates;
        self.changes.add(&c.changes);
        for (x, n) in self.exclusions.iter_mut().zip(&c.excluded) {
            x.excluded_rows += n;
        }
        let f = &mut self.files[file];
        f.rows += rows;
        f.stages.add(&c.stages);
        f.duplicates += c.duplicates;
        for (k, n) in RejectKind::ALL.iter().zip(c.rejects) {
            if let Some(v) = self.rejects.get_mut(k.name()) {
                *v = (v.as_u64().unwrap_or(0) + n).into();
            }
        }
        self.coverage.rows_scored += c.evaluated;
        if let Some(g) = &mut self.grades {
            for (row, counts) in g.rows.iter_mut().zip(&c.grades) {
                for (cell, n) in row.iter_mut().zip(counts) {
                    *cell += n;
                }
            }
        }
        self.source_counts.merge(&c.sources);
        for (score, n) in c.scores.iter() {
            *self.score_counts.entry(score).or_default() += n;
        }
        for (h, n) in self.rule_hits.iter_mut().zip(&c.hits) {
            h.hits += n;
        }
        for (i, n) in c.disqualified_by.iter().enumerate() {
            if *n > 0 {
                let id = &self.rule_hits[i].id;
                if let Some(e) = self.disqualified.iter_mut().find(|e| &e.rule == id) {
                    e.rows += n;
                }
            }
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Writes the reports (`summary.md`, `summary.html`) and then
    /// `summary.json`, each atomically; `summary.json` comes last, so a
    /// run that stops in between leaves the previous one.
    pub fn write(&self, dir: &Path, sync: bool) -> Result<(), crate::error::Error> {
        let written = jiff::ZonedDateTime::now()
            .strftime("%Y-%m-%d %H:%M:%S %:z")
            .to_string();
        let doc = crate::report::Doc::new(self, &written);
        let [md, html] = crate::report::FILES;
        for (name, text) in [
            (md, crate::report::markdown::render(&doc)),
            (html, crate::report::html::render(&doc)),
            ("summary.json", self.to_json() + "\n"),
        ] {
            let mut f = AtomicFile::create(dir, name)?;
            if !sync {
                f = f.without_sync();
            }
            f.write_all(text.as_bytes())?;
            f.commit()?;
        }
        Ok(())
    }

    /// The human summary for stderr, at most `width` columns a line,
    /// coloured with ANSI styles when `colour`.
    pub fn render(&self, width: usize, colour: bool) -> String {
        crate::report::terminal::render(self, width, colour)
    }

    /// Prints the human summary on stderr, coloured when stderr is a
    /// terminal and `NO_COLOR` is unset or empty.
    pub fn print(&self) {
        let stderr = std::io::stderr();
        let colour = crate::report::terminal::colour_wanted(
            stderr.is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        );
        let _ = stderr.lock().write_all(self.render(80, colour).as_bytes());
    }
}

impl ScoreDistribution {
    /// Up to 12 equal-width buckets over the scores seen.
    fn of(counts: &BTreeMap<i64, u64>) -> Self {
        let (Some((&min, _)), Some((&max, _))) =
            (counts.first_key_value(), counts.last_key_value())
        else {
            return ScoreDistribution::default();
        };
        let rows: u64 = counts.values().sum();
        let sum: f64 = counts.iter().map(|(s, n)| *s as f64 * *n as f64).sum();
        let span = (max - min + 1) as u64;
        let width = span.div_ceil(12).max(1) as i64;
        let mut buckets = Vec::new();
        let mut from = min;
        while from <= max {
            let to = (from + width - 1).min(max);
            let n = counts.range(from..=to).map(|(_, n)| n).sum();
            buckets.push(ScoreBucket { from, to, rows: n });
            from = to + 1;
        }
        ScoreDistribution {
            rows,
            min: Some(min),
            max: Some(max),
            mean: Some((sum / rows as f64 * 100.0).round() / 100.0),
            buckets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_buckets_cover_min_to_max() {
        let counts: BTreeMap<i64, u64> = [(0, 5), (10, 2), (95, 1)].into_iter().collect();
        let d = ScoreDistribution::of(&counts);
        assert_eq!(d.rows, 8);
        assert_eq!((d.min, d.max), (Some(0), Some(95)));
        assert_eq!(d.buckets.first().map(|b| b.from), Some(0));
        assert_eq!(d.buckets.last().map(|b| b.to), Some(95));
        assert_eq!(d.buckets.iter().map(|b| b.rows).sum::<u64>(), 8);
        assert!(d.buckets.len() <= 12);
        let one: BTreeMap<i64, u64> = [(7, 3)].into_iter().collect();
        let d = ScoreDistribution::of(&one);
        assert_eq!(d.buckets.len(), 1);
        assert_eq!(
            (d.buckets[0].from, d.buckets[0].to, d.buckets[0].rows),
            (7, 7, 3)
        );
        assert_eq!(ScoreDistribution::of(&BTreeMap::new()).rows, 0);
    }
}
