//! Phone numbers to E.164, through the `phonenumber` crate (a port of
//! Google's libphonenumber, with its metadata).
//!
//! A number written without a country calling code needs a default
//! region: `"030 1234567"` is Berlin only when the lead's region is `DE`.
//! Without one, such a number is not parsed at all (`None`) rather than
//! guessed. Extensions (`x123`, `ext. 5`) are accepted and left out of the
//! E.164 form, which has no place for them.
//!
//! `00` is the international prefix in most of the world, so `"0049 30
//! ..."` is read as `+49 30 ...` whatever the region; the region's own
//! international prefix works too (`011 49 ...` with region US).

use phonenumber::metadata::DATABASE;
use phonenumber::{country, Mode, PhoneNumber};

/// How many compiled regular expressions the crate keeps (it keeps 100
/// by default, in one LRU cache behind a mutex). Parsing and checking a
/// number reads a dozen or more of its region's patterns, so numbers from
/// a few dozen regions cycle through more than 100: each parse then
/// recompiled patterns, 4.5 ms a row on the reference benchmark's file
/// (numbers from many countries) against 0.17 ms with room for them all
/// (it used 416). A compiled pattern with its search caches takes about
/// 130 KB: this bounds them at about 130 MB, which only numbers from most
/// of the world's regions in one file would reach.
const PATTERN_CACHE: usize = 1024;

/// Fewer digits than this is not a phone number at all (a house number,
/// a year, a stray "12"), whatever a lenient parser makes of it.
const MIN_DIGITS: usize = 4;

/// A parsed number: its E.164 form (`+49301234567`) and whether
/// libphonenumber's metadata holds it valid (right length and prefix for
/// its region). An invalid number still has an E.164 form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub e164: String,
    pub valid: bool,
}

/// Parses `raw` with `default_region` (ISO 3166 alpha-2, any case) for
/// numbers written without a `+` or `00` country code. `None` when the text
/// is not a phone number (including fewer than four digits), or has no
/// country code and no usable region.
pub fn parse(raw: &str, default_region: Option<&str>) -> Option<Phone> {
    static WIDENED: std::sync::Once = std::sync::Once::new();
    WIDENED.call_once(|| {
        if let Ok(mut cache) = DATABASE.cache().lock() {
            cache.set_capacity(PATTERN_CACHE);
        }
    });
    let raw = raw.trim();
    if raw.bytes().filter(u8::is_ascii_digit).count() < MIN_DIGITS {
        return None;
    }
    let region = default_region.and_then(region_id);
    let number = match international_form(raw, region) {
        Some(intl) => parse_with(None, &intl).or_else(|| parse_with(region, raw)),
        None => parse_with(region, raw),
    }?;
    Some(Phone {
        e164: number.format().mode(Mode::E164).to_string(),
        valid: number.is_valid(),
    })
}

/// Just the E.164 form of [`parse`], valid or not.
pub fn e164(raw: &str, default_region: Option<&str>) -> Option<String> {
    parse(raw, default_region).map(|p| p.e164)
}

/// Parses, and refuses numbers that came out without a country code: the
/// crate returns code 0 when neither the text nor the region gave one.
fn parse_with(region: Option<country::Id>, raw: &str) -> Option<PhoneNumber> {
    phonenumber::parse(region, raw)
        .ok()
        .filter(|n| n.code().value() != 0)
}

/// `raw` written with `+` when it carries its own country code: after `+`,
/// after `00`, or after the region's international prefix (`011` in the
/// US). Such numbers are parsed without a region, because the crate would
/// otherwise strip the *region's* national prefix from them (`+49 170 ...`
/// with region US lost its `1`).
fn international_form(raw: &str, region: Option<country::Id>) -> Option<String> {
    let body = raw.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '+' && c != '(');
    if body.starts_with('+') {
        return Some(body.to_string());
    }
    let idd_len = if body.starts_with("00") {
        2
    } else {
        let meta = DATABASE.by_id(region?.as_ref())?;
        let idd = meta.international_prefix()?.find(body)?;
        if idd.start() != 0 {
            return None;
        }
        idd.end()
    };
    let rest = body[idd_len..].trim_start_matches([' ', '-', '.', '/']);
    rest.starts_with(|c: char| c.is_ascii_digit() && c != '0')
        .then(|| format!("+{rest}"))
}

/// `"de"` -> `Id::DE`; `None` for anything that is not a known region.
fn region_id(code: &str) -> Option<country::Id> {
    let code = code.trim();
    if code.len() != 2 || !code.is_ascii() {
        return None;
    }
    code.to_ascii_uppercase().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(raw: &str, region: Option<&str>) -> Option<String> {
        e164(raw, region)
    }

    /// The crate's pattern cache has room for the patterns of numbers
    /// from many regions once a number has been parsed (with 100, a file
    /// of numbers from a few dozen countries recompiles patterns at every
    /// number).
    #[test]
    fn pattern_cache_widened() {
        let numbers = [
            "+1 415 555 2671",
            "+44 20 7946 0958",
            "+49 30 1234567",
            "+33 1 42 68 53 00",
            "+34 912 345 678",
            "+39 06 1234 5678",
            "+31 20 123 4567",
            "+46 8 123 456 78",
            "+61 2 9876 5432",
            "+81 3-1234-5678",
            "+91 98765 43210",
            "+55 11 91234-5678",
            "+52 55 1234 5678",
            "+27 21 123 4567",
            "+48 22 123 45 67",
            "+41 44 123 45 67",
        ];
        for n in numbers {
            assert!(parse(n, None).is_some(), "{n}");
        }
        let cache = DATABASE.cache();
        let cache = cache.lock().unwrap();
        assert_eq!(cache.capacity(), PATTERN_CACHE);
        assert!(cache.len() > 100, "{} patterns for 16 regions", cache.len());
    }

    #[test]
    fn international_forms() {
        let berlin = Some("+49301234567".to_string());
        assert_eq!(e("+49 30 1234567", None), berlin);
        assert_eq!(e("+49 (0)30 1234567", None), berlin);
        assert_eq!(e("0049 30 1234567", Some("DE")), berlin);
        assert_eq!(e("0049 30 1234567", None), berlin);
        assert_eq!(e("0049 30 1234567", Some("US")), berlin);
        assert_eq!(e("+49 30 1234567", Some("US")), berlin);
        assert_eq!(e("+44 20 7946 0958", None), Some("+442079460958".into()));
        assert_eq!(e("tel:+49-30-1234567", None), berlin);
        assert_eq!(e("Tel.: +49 30 1234567", Some("US")), berlin);
    }

    #[test]
    fn a_country_code_wins_over_the_region() {
        let mobile = Some("+491701234567".to_string());
        assert_eq!(e("+49 170 1234567", Some("US")), mobile);
        assert_eq!(e("011 49 170 1234567", Some("US")), mobile);
        assert_eq!(e("0049 170 1234567", Some("US")), mobile);
        assert_eq!(
            e("+44 (0) 20 7946 0958", Some("US")),
            Some("+442079460958".into())
        );
        assert_eq!(
            e("+33 1 42 68 53 00", Some("DE")),
            Some("+33142685300".into())
        );
        assert_eq!(
            e("+1 (415) 555-2671", Some("DE")),
            Some("+14155552671".into())
        );
    }

    #[test]
    fn national_forms_need_a_region() {
        assert_eq!(e("030 1234567", Some("DE")), Some("+49301234567".into()));
        assert_eq!(e("030 1234567", Some("de")), Some("+49301234567".into()));
        assert_eq!(e("(850) 644-4200", Some("US")), Some("+18506444200".into()));
        assert_eq!(e("850.644.4200", Some("US")), Some("+18506444200".into()));
        assert_eq!(e("030 1234567", None), None);
        assert_eq!(e("030 1234567", Some("XX")), None);
        assert_eq!(e("030 1234567", Some("Germany")), None);
    }

    #[test]
    fn extensions_are_dropped_from_e164() {
        for raw in [
            "(850) 644-4200 x123",
            "850-644-4200 ext. 5",
            "+1 850 644 4200 ext 77",
        ] {
            assert_eq!(e(raw, Some("US")), Some("+18506444200".into()), "{raw}");
        }
    }

    #[test]
    fn validity_is_libphonenumbers() {
        let p = parse("(850) 644-4200", Some("US")).unwrap();
        assert!(p.valid);
        let p = parse("+49 30 1234567", None).unwrap();
        assert!(p.valid);
        let bad = parse("+1 555 0100", None);
        assert!(bad.is_none_or(|p| !p.valid));
    }

    #[test]
    fn not_a_number() {
        for raw in [
            "", "   ", "n/a", "call me", "-", "x", "+", "12", "123", "2 4 6",
        ] {
            assert_eq!(parse(raw, Some("DE")), None, "{raw:?}");
        }
    }

    /// The crate has had panics on odd input; none may reach our callers.
    #[test]
    fn garbage_never_panics() {
        let alphabet: Vec<char> = "00123456789 +()-x#:*./extEXT".chars().collect();
        let mut rng = crate::testing::Rng::new(0x9e37_79b9_7f4a_7c15);
        for i in 0..1500 {
            let len = (i % 23) + 1;
            let s: String = (0..len)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect();
            let region = ["DE", "US", "CH", "GB", "IN", "BR"][i % 6];
            let _ = parse(&s, Some(region));
            let _ = parse(&s, None);
        }
    }
}
