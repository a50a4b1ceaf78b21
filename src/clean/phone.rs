//! Phone numbers to E.164, through the `rlibphonenumber` crate (a
//! port of Google's libphonenumber, with its metadata).
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

use rlibphonenumber::enums::Region;
use rlibphonenumber::{PhoneNumber, PhoneNumberFormat, PHONE_NUMBER_UTIL};

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
    let raw = raw.trim();
    if raw.bytes().filter(u8::is_ascii_digit).count() < MIN_DIGITS {
        return None;
    }
    let region = default_region.and_then(region_id);
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        let slot = recent.slot(raw, region);
        if let Some((r, reg, parsed)) = slot {
            if **r == *raw && *reg == region {
                return parsed.clone();
            }
        }
        let parsed = parse_uncached(raw, region);
        *slot = Some((raw.into(), region, parsed.clone()));
        parsed
    })
}

/// The numbers parsed last on this thread (a slot each, by hash): a row
/// asks for its number up to three times (`valid_phone`, `phone_e164`,
/// the written column), a batch's rows a condition at a time, so one
/// row's asks are a few hundred parses apart at most.
struct Recent(Vec<RecentSlot>);

/// Slots of [`Recent`]: more than a batch chunk's rows.
const RECENT_SLOTS: usize = 1024;

type RecentSlot = Option<(Box<str>, Option<Region>, Option<Phone>)>;

impl Recent {
    fn slot(&mut self, raw: &str, region: Option<Region>) -> &mut RecentSlot {
        if self.0.is_empty() {
            self.0.resize(RECENT_SLOTS, None);
        }
        let mut h = xxhash_rust::xxh3::xxh3_64(raw.as_bytes());
        if let Some(r) = region {
            h ^= (r as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        &mut self.0[(h % RECENT_SLOTS as u64) as usize]
    }
}

thread_local! {
    static RECENT: std::cell::RefCell<Recent> = const { std::cell::RefCell::new(Recent(Vec::new())) };
}

fn parse_uncached(raw: &str, region: Option<Region>) -> Option<Phone> {
    let number = match international_form(raw) {
        Some(intl) => parse_with(None, &intl).or_else(|| parse_with(region, raw)),
        None => parse_with(region, raw),
    }?;
    Some(Phone {
        e164: number.format_as(PhoneNumberFormat::E164).into_owned(),
        valid: number.is_valid(),
    })
}

/// Just the E.164 form of [`parse`], valid or not.
pub fn e164(raw: &str, default_region: Option<&str>) -> Option<String> {
    parse(raw, default_region).map(|p| p.e164)
}

/// Parses, and refuses numbers that came out without a country code.
fn parse_with(region: Option<Region>, raw: &str) -> Option<PhoneNumber> {
    PHONE_NUMBER_UTIL
        .parse(raw, region)
        .ok()
        .filter(|n| n.country_code != 0)
}

/// `raw` written with `+` when it carries its own country code after `+`
/// or after `00` (the international prefix of most of the world, read as
/// such whatever the region). Such numbers are parsed without a region. A
/// region's own international prefix (`011` in the US) is
/// libphonenumber's to read.
fn international_form(raw: &str) -> Option<String> {
    let body = raw.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '+' && c != '(');
    if body.starts_with('+') {
        return Some(body.to_string());
    }
    let rest = body
        .strip_prefix("00")?
        .trim_start_matches([' ', '-', '.', '/']);
    rest.starts_with(|c: char| c.is_ascii_digit() && c != '0')
        .then(|| format!("+{rest}"))
}

/// `"de"` -> `Region::DE`; `None` for anything that is not a known region.
/// (Uppercased on the stack: this runs at every ask for a row's number.)
fn region_id(code: &str) -> Option<Region> {
    let &[a, b] = code.trim().as_bytes() else {
        return None;
    };
    let upper = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
    std::str::from_utf8(&upper).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(raw: &str, region: Option<&str>) -> Option<String> {
        e164(raw, region)
    }

    /// National numbers whose first digits are also their country's
    /// calling code keep every digit (the `phonenumber` crate read
    /// `910-506-7617` in India as `+91 5067617`).
    #[test]
    fn national_digits_that_look_like_the_country_code_are_kept() {
        let india = parse("910-506-7617", Some("IN")).unwrap();
        assert_eq!(india.e164, "+919105067617");
        assert!(india.valid);
        assert_eq!(
            e("(391) 326-6764", Some("IT")),
            Some("+393913266764".into())
        );
        assert_eq!(e("811-1913", Some("JP")), Some("+818111913".into()));
    }

    /// The same text with another region (or none) is parsed anew, not
    /// answered from the thread's recent numbers; so is other text.
    #[test]
    fn recent_numbers_are_told_apart_by_region() {
        for _ in 0..3 {
            assert_eq!(e("030 1234567", Some("DE")), Some("+49301234567".into()));
            assert_eq!(e("030 1234567", None), None);
            assert_eq!(e("030 1234567", Some("XX")), None);
            assert_eq!(e("030 1234567", Some("GB")), Some("+44301234567".into()));
            assert_eq!(e("030 1234568", Some("DE")), Some("+49301234568".into()));
        }
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
