//! Gates: thresholds a run must meet (`--min-rows`, `--max-rejected`,
//! `--max-duplicates`, `--min-stage`). They are checked after every output
//! and the summary are written, so a failed gate loses nothing: it only
//! sets the exit status, one per kind of gate, for scripts to tell apart.

use crate::error::Error;
use crate::rules::Stage;
use crate::summary::{GateResult, Summary};

pub const EXIT_MIN_ROWS: u8 = 3;
pub const EXIT_MAX_REJECTED: u8 = 4;
pub const EXIT_MAX_DUPLICATES: u8 = 5;
pub const EXIT_MIN_STAGE: u8 = 6;

/// A limit in rows or as a share of the rows read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Rows(u64),
    Percent(f64),
}

impl Limit {
    /// `120` or `5%` (`5.5 %` too).
    pub fn parse(option: &str, text: &str) -> Result<Limit, Error> {
        let t = text.trim();
        let bad = || {
            Error::Usage(format!(
                "{option} {text}: give a number of rows (`100`) or a share of the rows read (`5%`)"
            ))
        };
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| bad())?;
            if !(0.0..=100.0).contains(&v) || !v.is_finite() {
                return Err(Error::Usage(format!(
                    "{option} {text}: a share must be between 0% and 100%"
                )));
            }
            return Ok(Limit::Percent(v));
        }
        t.parse::<u64>().map(Limit::Rows).map_err(|_| bad())
    }

    fn show(self) -> String {
        match self {
            Limit::Rows(n) => n.to_string(),
            Limit::Percent(p) => format!("{}%", trim_float(p)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    MinRows,
    MaxRejected,
    MaxDuplicates,
    MinStage(Stage),
}

/// One gate from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    kind: Kind,
    limit: Limit,
}

/// The gates of a run, in the order their statuses rank.
#[derive(Debug, Clone, Default)]
pub struct Gates(Vec<Gate>);

impl Gates {
    /// Checks and collects the gate options.
    pub fn from_options(
        min_rows: Option<u64>,
        max_rejected: Option<&str>,
        max_duplicates: Option<&str>,
        min_stage: &[String],
    ) -> Result<Gates, Error> {
        let mut gates = Vec::new();
        if let Some(n) = min_rows {
            gates.push(Gate {
                kind: Kind::MinRows,
                limit: Limit::Rows(n),
            });
        }
        if let Some(t) = max_rejected {
            gates.push(Gate {
                kind: Kind::MaxRejected,
                limit: Limit::parse("--max-rejected", t)?,
            });
        }
        if let Some(t) = max_duplicates {
            gates.push(Gate {
                kind: Kind::MaxDuplicates,
                limit: Limit::parse("--max-duplicates", t)?,
            });
        }
        for spec in min_stage {
            let (name, limit) = spec.split_once('=').ok_or_else(|| {
                Error::Usage(format!(
                    "--min-stage {spec}: write STAGE=N or STAGE=P%, such as opportunity=1 or prospect=5%"
                ))
            })?;
            let name = name.trim().to_ascii_lowercase();
            let stage = Stage::from_name(&name)
                .or_else(|| Stage::ALL.into_iter().find(|s| s.file_name().trim_end_matches(".csv") == name))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--min-stage {spec}: unknown stage `{name}`; stages are lead, prospect, opportunity, disqualified, rejected"
                    ))
                })?;
            gates.push(Gate {
                kind: Kind::MinStage(stage),
                limit: Limit::parse("--min-stage", limit)?,
            });
        }
        Ok(Gates(gates))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Measures the run against every gate.
    pub fn check(&self, s: &Summary) -> Vec<GateResult> {
        self.0.iter().map(|g| g.check(s)).collect()
    }
}

/// The exit status of a run whose gates gave `results`: the lowest status
/// of a failed gate, or `None` when all held.
pub fn exit_status(results: &[GateResult]) -> Option<u8> {
    results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.exit_status)
        .min()
}

impl Gate {
    fn check(&self, s: &Summary) -> GateResult {
        let rows = s.rows_in;
        let (option, measured, what, at_least, status) = match &self.kind {
            Kind::MinRows => (
                "--min-rows".to_string(),
                rows,
                "rows read".to_string(),
                true,
                EXIT_MIN_ROWS,
            ),
            Kind::MaxRejected => (
                "--max-rejected".to_string(),
                s.stages.rejected,
                "rows rejected".to_string(),
                false,
                EXIT_MAX_REJECTED,
            ),
            Kind::MaxDuplicates => (
                "--max-duplicates".to_string(),
                s.duplicates,
                "duplicate rows".to_string(),
                false,
                EXIT_MAX_DUPLICATES,
            ),
            Kind::MinStage(st) => (
                "--min-stage".to_string(),
                s.stages.get(*st),
                format!("{} rows", st.name()),
                true,
                EXIT_MIN_STAGE,
            ),
        };
        let gate = match &self.kind {
            Kind::MinStage(st) => format!("{option} {}={}", st.name(), self.limit.show()),
            _ => format!("{option} {}", self.limit.show()),
        };
        let share = if rows == 0 {
            0.0
        } else {
            measured as f64 * 100.0 / rows as f64
        };
        let (actual, limit, unit) = match self.limit {
            Limit::Rows(n) => (measured as f64, n as f64, "rows"),
            Limit::Percent(p) => (round2(share), p, "percent"),
        };
        let passed = if at_least {
            actual >= limit
        } else {
            actual <= limit
        };
        let measured_text = match self.limit {
            Limit::Rows(_) => format!("{measured} {what}"),
            Limit::Percent(_) => format!(
                "{measured} {what}, {}% of {rows}",
                trim_float(round2(share))
            ),
        };
        let message = if passed {
            format!("{gate}: held ({measured_text})")
        } else {
            let by = (actual - limit).abs();
            let by = match self.limit {
                Limit::Rows(_) => format!("{} row(s)", trim_float(by)),
                Limit::Percent(_) => format!("{} percentage point(s)", trim_float(round2(by))),
            };
            let side = if at_least { "short of" } else { "over" };
            format!("{gate}: FAILED ({measured_text}: {by} {side} the limit; exit status {status})")
        };
        GateResult {
            gate,
            actual,
            limit,
            unit,
            passed,
            exit_status: status,
            message,
        }
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// `5` for 5.0, `5.25` for 5.25.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_counts_and_shares() {
        assert_eq!(Limit::parse("--x", "12").ok(), Some(Limit::Rows(12)));
        assert_eq!(Limit::parse("--x", " 5% ").ok(), Some(Limit::Percent(5.0)));
        assert_eq!(Limit::parse("--x", "2.5 %").ok(), Some(Limit::Percent(2.5)));
        for bad in ["", "-1", "abc", "101%", "5%%", "1e3"] {
            assert!(Limit::parse("--x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stage_gates_take_names_and_file_names() {
        let g = Gates::from_options(
            None,
            None,
            None,
            &["opportunities=1".into(), "Lead=5%".into()],
        );
        assert_eq!(g.map(|g| g.0.len()).ok(), Some(2));
        let e = Gates::from_options(None, None, None, &["hot=1".into()]).err();
        assert!(e.is_some_and(|e| e.to_string().contains("unknown stage `hot`")));
        assert!(Gates::from_options(None, None, None, &["opportunity".into()]).is_err());
    }

    #[test]
    fn statuses_rank_lowest_first() {
        let r = |status, passed| GateResult {
            gate: String::new(),
            actual: 0.0,
            limit: 0.0,
            unit: "rows",
            passed,
            exit_status: status,
            message: String::new(),
        };
        assert_eq!(
            exit_status(&[r(5, false), r(4, false), r(3, true)]),
            Some(4)
        );
        assert_eq!(exit_status(&[r(3, true)]), None);
    }
}
