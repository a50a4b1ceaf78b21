//! Dates as exports write them, read into a calendar date.
//!
//! Forms read (case ignored, surrounding spaces trimmed):
//!
//! - ISO 8601 with or without a time and zone: `2024-01-22`,
//!   `2024-01-22T20:36:47`, `2024-01-22 20:36`, `2024-01-22T20:36:47.000+0000`
//!   (Salesforce), `...Z`, `...+01:00`; and year first with `/` or `.`:
//!   `2024/01/22`, `2024.1.22`.
//! - A month name, English or German, full or short, day first or month
//!   first, with an optional weekday and time: `15 Apr, 2021 00:03:00`
//!   (Zoho), `15-Apr-2021`, `Apr 15, 2021 3:04 PM`, `Mon, 15 Apr 2021`,
//!   `3. März 2025`.
//! - Numeric day, month and year (`03/04/2025`, `3.4.25`, `03-04-2025`,
//!   optionally followed by a time): **only with a declared order**
//!   ([`DateOrder`]), because `03/04/2025` is the 3rd of April in Berlin and
//!   the 4th of March in Boston. Without one they are not read. Two-digit
//!   years are 2000-2069 for `00`-`69` and 1970-1999 for `70`-`99`.
//! - Unix time: 10 digits (seconds) or 13 digits (milliseconds), as APIs
//!   export them; read in UTC.
//!
//! The date is the one written: `2024-01-22T23:30:00-05:00` is the 22nd,
//! whatever the zone. A date that does not exist (`2025-02-30`) is not read.

use std::sync::LazyLock;

use jiff::civil::Date;
use regex::Regex;

/// The order of day, month and year in a numeric date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    Dmy,
    Mdy,
    Ymd,
}

impl DateOrder {
    pub fn from_name(s: &str) -> Option<DateOrder> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dmy" | "d/m/y" | "dd/mm/yyyy" => Some(DateOrder::Dmy),
            "mdy" | "m/d/y" | "mm/dd/yyyy" => Some(DateOrder::Mdy),
            "ymd" | "y/m/d" | "yyyy/mm/dd" => Some(DateOrder::Ymd),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
            DateOrder::Ymd => "ymd",
        }
    }
}

const TIME: &str = r"(?:[ T,]+\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:[.,]\d+)?)?(?:\s*[ap]\.?m\.?)?(?:\s*(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?))?)?";

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(\d{{4}})([-/.])(\d{{1,2}})([-/.])(\d{{1,2}}){TIME}$"
    ))
    .expect("ISO date pattern")
});
static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(\d{{1,4}})([-/.])(\d{{1,2}})([-/.])(\d{{1,4}}){TIME}$"
    ))
    .expect("numeric date pattern")
});
static DAY_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?:[a-z]+\.?,?\s+)?(\d{{1,2}})(?:st|nd|rd|th)?[.]?[\s-]*([a-zäéû]+)\.?[\s,.-]+(\d{{4}}){TIME}$"
    ))
    .expect("day-first date pattern")
});
static MONTH_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^(?:[a-z]+,?\s+)?([a-zäéû]+)\.?[\s-]+(\d{{1,2}})(?:st|nd|rd|th)?,?[\s-]+(\d{{4}}){TIME}$"
    ))
    .expect("month-first date pattern")
});

/// A month by its English or German name or abbreviation.
fn month(name: &str) -> Option<i8> {
    let n = name.to_lowercase();
    let m = match n.as_str() {
        "jan" | "january" | "januar" | "jän" | "jänner" => 1,
        "feb" | "february" | "februar" => 2,
        "mar" | "march" | "mär" | "märz" | "maerz" => 3,
        "apr" | "april" => 4,
        "may" | "mai" => 5,
        "jun" | "june" | "juni" => 6,
        "jul" | "july" | "juli" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" | "okt" | "oktober" => 10,
        "nov" | "november" => 11,
        "dec" | "december" | "dez" | "dezember" => 12,
        _ => return None,
    };
    Some(m)
}

fn ymd(y: i64, m: i64, d: i64) -> Option<Date> {
    let (y, m, d) = (
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    );
    Date::new(y, m, d).ok()
}

fn full_year(text: &str) -> Option<i64> {
    let y: i64 = text.parse().ok()?;
    match text.len() {
        4 => Some(y),
        2 if y < 70 => Some(2000 + y),
        2 => Some(1900 + y),
        _ => None,
    }
}

/// Reads a date; `order` is how numeric day/month/year forms are read
/// (`None`: they are not read).
pub fn parse(text: &str, order: Option<DateOrder>) -> Option<Date> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let b = t.as_bytes();
    if b[0].is_ascii_digit() {
        if b.iter().all(u8::is_ascii_digit) {
            return unix(t);
        }
        // The usual shape, `2024-05-01`, read without the pattern (which
        // answers the same for it).
        if let [y0, y1, y2, y3, s1, m0, m1, s2, d0, d1] = *b {
            let n = |ds: &[u8]| {
                ds.iter().try_fold(0i64, |n, &c| {
                    c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
                })
            };
            if s1 == s2 && matches!(s1, b'-' | b'/' | b'.') {
                if let (Some(y), Some(m), Some(d)) =
                    (n(&[y0, y1, y2, y3]), n(&[m0, m1]), n(&[d0, d1]))
                {
                    return ymd(y, m, d);
                }
            }
        }
        if let Some(c) = ISO.captures(t) {
            if c[2] == c[4] {
                return ymd(c[1].parse().ok()?, c[3].parse().ok()?, c[5].parse().ok()?);
            }
            return None;
        }
        if let Some(c) = NUMERIC.captures(t) {
            if c[2] != c[4] {
                return None;
            }
            let (a, m, z) = (&c[1], &c[3], &c[5]);
            return match order? {
                DateOrder::Dmy if a.len() <= 2 => {
                    ymd(full_year(z)?, m.parse().ok()?, a.parse().ok()?)
                }
                DateOrder::Mdy if a.len() <= 2 => {
                    ymd(full_year(z)?, a.parse().ok()?, m.parse().ok()?)
                }
                DateOrder::Ymd if z.len() <= 2 => {
                    ymd(full_year(a)?, m.parse().ok()?, z.parse().ok()?)
                }
                _ => None,
            };
        }
    }
    if let Some(c) = DAY_FIRST.captures(t) {
        return ymd(c[3].parse().ok()?, month(&c[2])?.into(), c[1].parse().ok()?);
    }
    if let Some(c) = MONTH_FIRST.captures(t) {
        return ymd(c[3].parse().ok()?, month(&c[1])?.into(), c[2].parse().ok()?);
    }
    None
}

/// Unix seconds (10 digits) or milliseconds (13 digits), as a UTC date.
fn unix(t: &str) -> Option<Date> {
    let n: i64 = t.parse().ok()?;
    let secs = match t.len() {
        10 => n,
        13 => n / 1000,
        _ => return None,
    };
    let ts = jiff::Timestamp::from_second(secs).ok()?;
    Some(ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
}

/// Whole days from `date` to `as_of` (negative for a date after it).
pub fn days_between(date: Date, as_of: Date) -> i64 {
    day_number(as_of) - day_number(date)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the civil-days
/// algorithm of Howard Hinnant's `chrono`-compatible date library): the
/// difference of two is `Date::since` in days, without building a span.
fn day_number(d: Date) -> i64 {
    let (m, day) = (i64::from(d.month()), i64::from(d.day()));
    let y = i64::from(d.year()) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<String> {
        parse(s, None).map(|d| d.to_string())
    }

    fn with(s: &str, o: DateOrder) -> Option<String> {
        parse(s, Some(o)).map(|d| d.to_string())
    }

    #[test]
    fn iso_forms_with_and_without_time_and_zone() {
        for s in [
            "2024-01-22",
            " 2024-01-22 ",
            "2024-01-22T20:36:47",
            "2024-01-22T20:36:47.000+0000",
            "2024-01-22T20:36:47Z",
            "2024-01-22 20:36",
            "2024-01-22T23:30:00-05:00",
            "2024/01/22",
            "2024.1.22",
            "2024-01-22 08:15:00 UTC",
        ] {
            assert_eq!(d(s).as_deref(), Some("2024-01-22"), "{s}");
        }
    }

    #[test]
    fn month_names_either_way_round() {
        for s in [
            "15 Apr, 2021 00:03:00",
            "15 Apr 2021",
            "15-Apr-2021",
            "15th April 2021",
            "Apr 15, 2021",
            "April 15, 2021 3:04 PM",
            "Thu, 15 Apr 2021 10:00:00 +0000",
            "15. April 2021",
        ] {
            assert_eq!(d(s).as_deref(), Some("2021-04-15"), "{s}");
        }
        assert_eq!(d("3. März 2025").as_deref(), Some("2025-03-03"));
        assert_eq!(d("1 Okt 2025").as_deref(), Some("2025-10-01"));
    }

    #[test]
    fn numeric_forms_need_a_declared_order() {
        assert_eq!(d("03/04/2025"), None);
        assert_eq!(d("25/12/2025"), None, "even when only one order fits");
        assert_eq!(
            with("03/04/2025", DateOrder::Dmy).as_deref(),
            Some("2025-04-03")
        );
        assert_eq!(
            with("03/04/2025", DateOrder::Mdy).as_deref(),
            Some("2025-03-04")
        );
        assert_eq!(
            with("3.4.25", DateOrder::Dmy).as_deref(),
            Some("2025-04-03")
        );
        assert_eq!(
            with("9/8/2026 14:28:27", DateOrder::Mdy).as_deref(),
            Some("2026-09-08")
        );
        assert_eq!(
            with("31-12-99", DateOrder::Dmy).as_deref(),
            Some("1999-12-31")
        );
        assert_eq!(
            with("25/04/03", DateOrder::Ymd).as_deref(),
            Some("2025-04-03")
        );
        assert_eq!(with("13/25/2025", DateOrder::Mdy), None, "no 25th month");
        assert_eq!(with("03/04-2025", DateOrder::Dmy), None, "mixed separators");
        // Year-first with four digits needs no order.
        assert_eq!(
            with("2025/04/03", DateOrder::Mdy).as_deref(),
            Some("2025-04-03")
        );
    }

    #[test]
    fn day_counts_agree_with_jiff() {
        let as_of = jiff::civil::date(2025, 8, 15);
        let mut d = jiff::civil::date(1899, 12, 25);
        while d.year() < 2101 {
            let want = i64::from(as_of.since(d).unwrap().get_days());
            assert_eq!(days_between(d, as_of), want, "{d}");
            assert_eq!(days_between(as_of, d), -want, "{d}");
            d = d.checked_add(jiff::Span::new().days(13)).unwrap();
        }
        for (a, b) in [
            ((-400, 3, 1), (2000, 2, 29)),
            ((9999, 12, 31), (-9999, 1, 1)),
        ] {
            let (a, b) = (
                jiff::civil::date(a.0, a.1, a.2),
                jiff::civil::date(b.0, b.1, b.2),
            );
            let want = i64::from(a.since(b).unwrap().get_days());
            assert_eq!(days_between(b, a), want);
        }
    }

    #[test]
    fn the_usual_shape_reads_as_the_pattern_reads_it() {
        for s in [
            "2024-05-01",
            "2024/05/01",
            "2024.05.01",
            "2024-05/01",
            "2024-13-01",
            "2024-02-30",
            "2024-02-29",
            "2023-02-29",
            "0000-01-01",
            "2024-5-01x",
            "2024-05-0a",
            "202４-05-01",
        ] {
            let via_pattern = ISO.captures(s).and_then(|c| {
                if c[2] != c[4] {
                    return None;
                }
                ymd(c[1].parse().ok()?, c[3].parse().ok()?, c[5].parse().ok()?)
            });
            assert_eq!(parse(s, None), via_pattern, "{s:?}");
        }
    }

    #[test]
    fn unix_time_and_what_is_not_a_date() {
        assert_eq!(d("1705955807").as_deref(), Some("2024-01-22"));
        assert_eq!(d("1705955807000").as_deref(), Some("2024-01-22"));
        for s in [
            "",
            "yesterday",
            "2025-02-30",
            "2025-13-01",
            "12345",
            "Q3 2025",
            "15 Foo 2021",
            "2024-01-22 nonsense",
        ] {
            assert_eq!(d(s), None, "{s}");
        }
    }

    #[test]
    fn days_count_both_ways() {
        let a = Date::new(2025, 8, 15).unwrap();
        assert_eq!(days_between(Date::new(2025, 7, 1).unwrap(), a), 45);
        assert_eq!(days_between(a, a), 0);
        assert_eq!(days_between(Date::new(2025, 8, 20).unwrap(), a), -5);
        assert_eq!(days_between(Date::new(2024, 8, 15).unwrap(), a), 365);
    }
}
