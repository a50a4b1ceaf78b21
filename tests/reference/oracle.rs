//! The reference semantics, independently of leadsift: a direct port of
//! the reference peer `peers/stdlib_run.py` of the benchmark
//! (../shared/bench/RULES.md), one row at a time, in file order.
//!
//! Kept deliberately literal (Python's `strip(" ")`, `fullmatch`, `float`)
//! so that a difference from leadsift points at leadsift or at
//! `benches/reference.toml`, not at this port.

use std::collections::HashSet;

use regex::Regex;

/// What the reference makes of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    pub stage: &'static str,
    pub fit: i64,
    pub engagement: i64,
    pub score: i64,
}

const FREE: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "aol.com",
    "icloud.com",
    "gmx.de",
    "protonmail.com",
    "mail.com",
    "yandex.ru",
];
const DISPOSABLE: &[&str] = &[
    "mailinator.com",
    "guerrillamail.com",
    "10minutemail.com",
    "tempmail.com",
    "trashmail.com",
    "yopmail.com",
];
const INDUSTRIES: &[&str] = &["software", "saas", "fintech", "healthcare", "manufacturing"];
const COUNTRIES: &[&str] = &[
    "us",
    "usa",
    "united states",
    "uk",
    "united kingdom",
    "canada",
    "germany",
    "france",
    "netherlands",
    "australia",
];
const JUNK_COMPANY: &[&str] = &[
    "",
    "n/a",
    "na",
    "none",
    "-",
    "test",
    "self",
    "self-employed",
    "freelance",
];
const FIT_SOURCES: &[&str] = &["referral", "partner"];
const ENG_SOURCES: &[&str] = &["webinar", "event", "trade show"];
const DEMO_YES: &[&str] = &["yes", "y", "true", "1"];
const NEED_NO: &[&str] = &["", "n/a", "na", "none", "-"];
const TIMELINES: &[&str] = &[
    "this quarter",
    "this month",
    "q3",
    "q3 2025",
    "< 3 months",
    "<3 months",
    "asap",
    "immediately",
];

/// Column positions in the generated file (`gen::COLUMNS`).
const EMAIL: usize = 2;
const PHONE: usize = 3;
const COMPANY: usize = 4;
const TITLE: usize = 5;
const SIZE: usize = 6;
const INDUSTRY: usize = 7;
const COUNTRY: usize = 8;
const SOURCE: usize = 9;
const BUDGET: usize = 10;
const TIMELINE: usize = 11;
const NEED: usize = 12;
const VISITS: usize = 13;
const DEMO: usize = 14;
const LAST: usize = 15;
const NOTES: usize = 16;

pub struct Oracle {
    email: Regex,
    senior: Regex,
    junior: Regex,
    digits: Regex,
    notes: Regex,
    date: Regex,
    num: Regex,
    numk: Regex,
    visits: Regex,
    seen: HashSet<String>,
}

/// Python's `re.fullmatch(p, s)`.
fn full(p: &str) -> Regex {
    Regex::new(&format!("^(?:{p})$")).expect("regex")
}

/// Python's `s.strip(" ")`: spaces only.
fn strip(s: &str) -> &str {
    s.trim_matches(' ')
}

fn lower_strip(s: &str) -> String {
    strip(s).to_lowercase()
}

fn one_of(s: &str, set: &[&str]) -> bool {
    set.contains(&s)
}

impl Oracle {
    pub fn new() -> Oracle {
        Oracle {
            email: full(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
            senior: Regex::new(
                r"(?i)\b(ceo|cto|cfo|coo|cio|cmo|cro|chief|founder|owner|president|vp|svp|evp|head|director)\b",
            )
            .expect("regex"),
            junior: Regex::new(r"(?i)\b(intern|assistant|associate|junior|jr|student)\b")
                .expect("regex"),
            digits: Regex::new(r"[0-9]+").expect("regex"),
            notes: Regex::new(r"(?i)pricing|quote|proposal").expect("regex"),
            date: full(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
            num: full(r"[0-9]+(\.[0-9]+)?"),
            numk: full(r"[0-9]+(\.[0-9]+)?k"),
            visits: full(r"[0-9]+"),
            seen: HashSet::new(),
        }
    }

    fn budget_value(&self, s: &str) -> Option<f64> {
        let b = s.replace(['$', ',', ' '], "").to_lowercase();
        if self.num.is_match(&b) {
            return b.parse().ok();
        }
        if self.numk.is_match(&b) {
            return b[..b.len() - 1].parse::<f64>().ok().map(|v| v * 1000.0);
        }
        None
    }

    /// The next row of the file, in order (duplicates depend on the rows
    /// before it).
    pub fn row(&mut self, row: &[String]) -> Expect {
        let email = strip(&row[EMAIL]);
        let email_valid = self.email.is_match(email);
        let (mut disposable, mut business) = (false, false);
        let mut rejected = false;
        if email_valid {
            let key = email.to_lowercase();
            let domain = &key[key.find('@').map_or(0, |i| i + 1)..];
            let free = one_of(domain, FREE);
            disposable = one_of(domain, DISPOSABLE);
            business = !free && !disposable;
            if !self.seen.insert(key.clone()) {
                rejected = true;
            }
        }
        let nd = row[PHONE].bytes().filter(u8::is_ascii_digit).count();
        let phone_valid = (7..=15).contains(&nd);
        if !email_valid && !phone_valid {
            rejected = true;
        }

        let title = &row[TITLE];
        let senior = self.senior.is_match(title);
        let junior = self.junior.is_match(title);
        let authority = senior && !junior;
        let source = lower_strip(&row[SOURCE]);

        let mut fit = 0;
        fit += if authority { 25 } else { 0 };
        fit -= if junior { 10 } else { 0 };
        let size = row[SIZE].replace(',', "");
        if let Some(m) = self.digits.find(&size) {
            // Compare as digits: `int()` in Python has no overflow.
            let d = m.as_str().trim_start_matches('0');
            if d.len() > 2 || d.parse::<u32>().is_ok_and(|n| n >= 50) {
                fit += 15;
            }
        }
        fit += if one_of(&lower_strip(&row[INDUSTRY]), INDUSTRIES) {
            15
        } else {
            0
        };
        fit += if one_of(&lower_strip(&row[COUNTRY]), COUNTRIES) {
            10
        } else {
            0
        };
        fit += if business { 10 } else { 0 };
        fit -= if disposable { 50 } else { 0 };
        fit -= if one_of(&lower_strip(&row[COMPANY]), JUNK_COMPANY) {
            10
        } else {
            0
        };
        fit += if one_of(&source, FIT_SOURCES) { 5 } else { 0 };

        let mut eng = 0;
        let v = strip(&row[VISITS]);
        let visits: u64 = if self.visits.is_match(v) {
            v.parse().unwrap_or(u64::MAX)
        } else {
            0
        };
        eng += if visits >= 3 { 10 } else { 0 };
        eng += if visits >= 10 { 10 } else { 0 };
        eng += if one_of(&lower_strip(&row[DEMO]), DEMO_YES) {
            20
        } else {
            0
        };
        eng += if self.notes.is_match(&row[NOTES]) {
            15
        } else {
            0
        };
        let la = strip(&row[LAST]);
        eng += if self.date.is_match(la) && la >= "2025-07-01" {
            10
        } else {
            0
        };
        eng += if one_of(&source, ENG_SOURCES) { 5 } else { 0 };

        let budget_ok = self
            .budget_value(&row[BUDGET])
            .is_some_and(|b| b >= 10000.0);
        let bant = i64::from(budget_ok)
            + i64::from(authority)
            + i64::from(!one_of(&lower_strip(&row[NEED]), NEED_NO))
            + i64::from(one_of(&lower_strip(&row[TIMELINE]), TIMELINES));
        let score = fit + eng + 5 * bant;

        let stage = if rejected {
            "rejected"
        } else if bant == 4 && fit >= 40 {
            "opportunity"
        } else if fit >= 40 && eng >= 10 {
            "prospect"
        } else {
            "lead"
        };
        Expect {
            stage,
            fit,
            engagement: eng,
            score,
        }
    }
}
