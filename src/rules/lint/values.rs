//! The values an operand can take, as the static checks see them: the
//! interval of a number (a group's total, a count, a constant) and the
//! closed set of values of a cleaning function (`seniority`, `department`,
//! `phone_e164`, `country_code`).

use crate::clean::title::{DEPARTMENTS, SENIORITY};
use crate::rules::derive::CleanFn;
use crate::rules::expr::CmpOp;

/// The numbers an operand can be.
#[derive(Debug, Clone, Copy)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
    /// It may give no number (then every comparison fails).
    pub maybe_none: bool,
    /// It never gives a number.
    pub never: bool,
}

impl Interval {
    pub const ANY: Interval = Interval {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
        maybe_none: true,
        never: false,
    };

    pub fn exact(x: f64) -> Interval {
        Interval::between(x, x)
    }

    pub fn between(lo: f64, hi: f64) -> Interval {
        Interval {
            lo,
            hi,
            maybe_none: false,
            never: false,
        }
    }

    pub fn is_exact(&self) -> bool {
        self.lo == self.hi && !self.maybe_none
    }
}

/// Whether `x op y` holds for some values of the intervals.
pub fn possible(op: CmpOp, x: &Interval, y: &Interval) -> bool {
    match op {
        CmpOp::Ge => x.hi >= y.lo,
        CmpOp::Gt => x.hi > y.lo,
        CmpOp::Le => x.lo <= y.hi,
        CmpOp::Lt => x.lo < y.hi,
        CmpOp::Eq => x.lo <= y.hi && y.lo <= x.hi,
        CmpOp::Ne => !(x.is_exact() && y.is_exact() && x.lo == y.lo),
    }
}

pub fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Ge => CmpOp::Lt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
    }
}

/// The values a cleaning function can give, where they are a closed set.
pub enum Domain {
    /// One of these (lowercase).
    Finite(Vec<&'static str>),
    /// `+` and digits.
    E164,
    /// An ISO 3166 alpha-2 code.
    CountryCode,
}

impl Domain {
    pub fn of(f: CleanFn) -> Option<Domain> {
        let mut names: Vec<&'static str> = match f {
            CleanFn::Seniority => SENIORITY.iter().map(|(n, _)| *n).collect(),
            CleanFn::Department => DEPARTMENTS.iter().map(|(n, _)| *n).collect(),
            CleanFn::PhoneE164 => return Some(Domain::E164),
            CleanFn::CountryCode => return Some(Domain::CountryCode),
            _ => return None,
        };
        if f == CleanFn::Seniority {
            names.push("individual");
        }
        names.sort_unstable();
        names.dedup();
        Some(Domain::Finite(names))
    }

    /// Whether some value of the set passes the test. `E164` values vary
    /// only in their digits, so a test passes some value when its text
    /// fits that form; a regular expression and a country code pattern
    /// are not looked into.
    pub fn allows(&self, p: &Probe) -> bool {
        match self {
            Domain::Finite(names) => names.iter().any(|v| p.passes(v)),
            Domain::E164 => {
                let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
                match p {
                    Probe::Is(v) => is_e164(v),
                    Probe::Starts(x) => x.is_empty() || x.strip_prefix('+').is_some_and(digits),
                    Probe::Ends(x) | Probe::Contains(x) => digits(x) || is_e164(x),
                    Probe::Matches(_) => true,
                }
            }
            Domain::CountryCode => match p {
                Probe::Is(v) => {
                    v.len() == 2
                        && crate::clean::country::iso2(v).is_some_and(|c| c.eq_ignore_ascii_case(v))
                }
                _ => true,
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Domain::Finite(names) => format!("one of {}", names.join(", ")),
            Domain::E164 => "a number in E.164 form (+ and digits, such as +4930123456)".into(),
            Domain::CountryCode => "an ISO 3166 code such as de or us".into(),
        }
    }
}

/// A test on text, as the lint looks at it.
pub enum Probe<'a> {
    Is(&'a str),
    Starts(&'a str),
    Ends(&'a str),
    Contains(&'a str),
    Matches(&'a regex::Regex),
}

impl Probe<'_> {
    fn passes(&self, v: &str) -> bool {
        match self {
            Probe::Is(x) => v == *x,
            Probe::Starts(x) => v.starts_with(x),
            Probe::Ends(x) => v.ends_with(x),
            Probe::Contains(x) => v.contains(x),
            Probe::Matches(re) => re.is_match(v),
        }
    }
}

fn is_e164(v: &str) -> bool {
    v.strip_prefix('+')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}
