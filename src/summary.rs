//! The run's summary: counts per stage, per file, per reject kind and per
//! rule, written as `summary.json` (schema `leadsift.summary/1`, documented
//! in the README) and shown to people on stderr.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::exclude::ListInfo;
use crate::input::{Bound, FileInfo};
use crate::output::AtomicFile;
use crate::row::{Changes, ChunkOut, RejectKind};
use crate::rules::{Compiled, Stage};

pub const SCHEMA: &str = "leadsift.summary/1";

/// Pads or cuts `s` to exactly `width` characters, so columns line up.
fn fit(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        format!("{s}{}", " ".repeat(width - n))
    } else {
        let cut: String = s.chars().take(width - 1).collect();
        format!("{cut}…")
    }
}

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
}

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
        }
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

    /// Writes `summary.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), crate::error::Error> {
        let mut f = AtomicFile::create(dir, "summary.json")?;
        f.write_all(self.to_json().as_bytes())?;
        f.write_all(b"\n")?;
        f.commit()
    }

    /// The human summary for stderr.
    pub fn render(&self, width: usize) -> String {
        let mut s = String::new();
        let files = if self.files.len() == 1 {
            "1 file".to_string()
        } else {
            format!("{} files", self.files.len())
        };
        s.push_str(&format!(
            "leadsift: {} rows from {files} in {:.2} s, rules {}\n",
            self.rows_in, self.elapsed_seconds, self.rules.path
        ));
        for f in &self.files {
            s.push_str(&format!("  {}: {}\n", f.path, f.input.describe()));
            for p in &f.input.header_problems {
                s.push_str(&format!("    warning: {p}\n"));
            }
        }
        let total = self.rows_in.max(1) as f64;
        let bar_width = width.saturating_sub(34).clamp(10, 40);
        for st in [
            Stage::Opportunity,
            Stage::Prospect,
            Stage::Lead,
            Stage::Disqualified,
            Stage::Rejected,
        ] {
            let n = self.stages.get(st);
            let share = n as f64 / total;
            let bar = "#".repeat((share * bar_width as f64).round() as usize);
            s.push_str(&format!(
                "  {:<13}{:>9} {:>5.1}%  {bar}\n",
                st.name(),
                n,
                share * 100.0
            ));
        }
        let rejects: Vec<(&String, u64)> = self
            .rejects
            .iter()
            .map(|(k, v)| (k, v.as_u64().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect();
        if !rejects.is_empty() {
            s.push_str("rejected by reason:\n");
            for (k, n) in rejects {
                let why = if k == "unusable" {
                    format!("unusable ({})", self.unusable_reason)
                } else {
                    k.clone()
                };
                s.push_str(&format!("  {} {n:>9}\n", fit(&why, 44)));
            }
        }
        let disq: Vec<&Disqualification> =
            self.disqualified.iter().filter(|d| d.rows > 0).collect();
        if !disq.is_empty() {
            s.push_str("disqualified by rule:\n");
            for d in disq {
                let label = format!("{} ({})", d.rule, d.reason);
                s.push_str(&format!("  {} {:>9}\n", fit(&label, 44), d.rows));
            }
        }
        let mut hits: Vec<&RuleHits> = self.rule_hits.iter().filter(|h| h.hits > 0).collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.hits));
        if !hits.is_empty() {
            s.push_str("rules that fired most:\n");
            for h in hits.iter().take(5) {
                s.push_str(&format!("  {} {:>9}\n", fit(&h.id, 44), h.hits));
            }
        }
        s.push_str(&format!("outputs in {}\n", self.output_dir));
        s
    }

    /// Prints the human summary on stderr.
    pub fn print(&self) {
        let _ = std::io::stderr().write_all(self.render(80).as_bytes());
    }
}
