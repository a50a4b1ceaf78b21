//! How CSV text becomes values that conditions compare.
//!
//! Every cell is text. A condition that compares it with a number reads a
//! number out of it with [`read_number`]; a condition that compares it with
//! text compares the trimmed value case-insensitively. Both readings are pure
//! functions of the cell, so the same cell always gives the same answer, and
//! both are documented in RULES.md ("How values are read").

/// Reads a number the way people write amounts and sizes in lead exports.
///
/// - Leading text and currency signs are skipped up to the first digit:
///   `$25,000`, `USD 5000`, `approx 40`, `~200`.
/// - Separators between digits: when a number has both `.` and `,`, the
///   last one is the decimal mark (`2,500.00` and `2.500,00` are 2500). A
///   lone `,` followed by other than three digits is a decimal comma (`1,5`
///   is 1.5); otherwise `,` separates thousands (`25,000`). Several `.` are
///   thousands separators (`1.234.567`); one `.` is the decimal point.
/// - In a file whose delimiter is `;` (European spreadsheets), `decimal_comma`
///   is set: a lone `.` followed by three digits separates thousands
///   (`30.000 €` is 30000), and a lone `,` followed by other than three
///   digits is the decimal mark, as everywhere.
/// - A suffix right after the number scales it: `k` (thousand), `m`/`mm`
///   (million), `b`/`bn` (billion), case-insensitive, when no other letter
///   follows (`5 months` is 5, `25k` is 25000, `1.5M` is 1500000).
/// - A range `51-200`, `10-20k` or `10k to 20k` counts as its lower bound;
///   a suffix written only on the upper bound applies to both (`10-20k` is
///   10000).
/// - A `-` right before the first digit (after optional currency) makes it
///   negative, unless it is the dash of a range.
/// - No digit at all: no number (`TBD`, `unknown`, empty).
pub fn read_number(text: &str) -> Option<f64> {
    read_number_in(text, false)
}

/// [`read_number`], for a file that writes decimal commas or not.
pub fn read_number_in(text: &str, decimal_comma: bool) -> Option<f64> {
    let b = text.as_bytes();
    // Digits alone (a count, a plain amount) spell the number, exactly:
    // fifteen digits stay under 2^53.
    if (1..=15).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')) as f64);
    }
    read_number_slowly(b, decimal_comma)
}

/// [`read_number_in`] on any text, by its rules one after another.
fn read_number_slowly(b: &[u8], decimal_comma: bool) -> Option<f64> {
    let start = b.iter().position(|c| c.is_ascii_digit())?;
    let negative =
        start > 0 && b[start - 1] == b'-' && !b[..start - 1].iter().any(|c| c.is_ascii_digit());
    let (value, end) = scan_decimal(b, start, decimal_comma);
    let (scale, after) = scan_suffix(b, end);
    let mut n = value;
    if let Some(s) = scale {
        n *= s;
    } else if let Some(s) = range_upper_scale(b, after, decimal_comma) {
        n *= s;
    }
    Some(if negative { -n } else { n })
}

/// Digits with `.` and `,` separators (see [`read_number`] for which is
/// the decimal mark). Returns the value and the index just past it.
fn scan_decimal(b: &[u8], start: usize, decimal_comma: bool) -> (f64, usize) {
    // The extent of the number: digits, and separators between digits.
    let mut end = start;
    let mut seps = Seps::default();
    while end < b.len() {
        match b[end] {
            b'0'..=b'9' => end += 1,
            c @ (b'.' | b',') if end + 1 < b.len() && b[end + 1].is_ascii_digit() => {
                seps.mixed |= seps.last.is_some_and(|l| b[l] != c);
                seps.last = Some(end);
                seps.count += 1;
                end += 1;
            }
            _ => break,
        }
    }
    let decimal = decimal_mark(b, &seps, end, decimal_comma);
    let mut value = 0.0;
    let mut scale = 0.0;
    for (i, &c) in b[start..end].iter().enumerate() {
        if Some(start + i) == decimal {
            scale = 0.1;
        } else if c.is_ascii_digit() {
            let d = f64::from(c - b'0');
            if scale > 0.0 {
                value += d * scale;
                scale /= 10.0;
            } else {
                value = value * 10.0 + d;
            }
        }
    }
    (value, end)
}

/// The separators of one number: the last, how many, whether both kinds.
#[derive(Default)]
struct Seps {
    last: Option<usize>,
    count: usize,
    mixed: bool,
}

/// Which separator, if any, is the decimal mark.
fn decimal_mark(b: &[u8], seps: &Seps, end: usize, decimal_comma: bool) -> Option<usize> {
    let last = seps.last?;
    if seps.mixed {
        return Some(last);
    }
    let single = seps.count == 1;
    let three_after = end - last - 1 == 3;
    // A lone `,` before three digits separates thousands in any file: a
    // company of `1,200` people is more likely than one of 1.2.
    let decimal = match (b[last], decimal_comma) {
        (b',', _) | (_, true) => single && !three_after,
        _ => single,
    };
    decimal.then_some(last)
}

/// A magnitude suffix at `i` (an optional single space allowed before it).
fn scan_suffix(b: &[u8], i: usize) -> (Option<f64>, usize) {
    let mut j = i;
    if j < b.len() && b[j] == b' ' {
        j += 1;
    }
    let word_end = b[j..]
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .map_or(b.len(), |p| j + p);
    let word = &b[j..word_end];
    let scale = if word.eq_ignore_ascii_case(b"k") {
        Some(1e3)
    } else if word.eq_ignore_ascii_case(b"m") || word.eq_ignore_ascii_case(b"mm") {
        Some(1e6)
    } else if word.eq_ignore_ascii_case(b"b") || word.eq_ignore_ascii_case(b"bn") {
        Some(1e9)
    } else {
        None
    };
    match scale {
        Some(s) => (Some(s), word_end),
        None => (None, i),
    }
}

/// When the text after the first number is a range (`-`, `–`, `to`), the
/// upper bound's suffix, if any.
fn range_upper_scale(b: &[u8], i: usize, decimal_comma: bool) -> Option<f64> {
    if i >= b.len() {
        return None;
    }
    let rest = std::str::from_utf8(&b[i..]).ok()?.trim_start();
    let rest = rest
        .strip_prefix('-')
        .or_else(|| rest.strip_prefix('–'))
        .or_else(|| rest.strip_prefix("to "))?
        .trim_start();
    let rb = rest.as_bytes();
    if !rb.first()?.is_ascii_digit() {
        return None;
    }
    let (_, end) = scan_decimal(rb, 0, decimal_comma);
    scan_suffix(rb, end).0
}

/// Trims the whitespace a cell may carry (spaces, tabs, non-breaking spaces).
pub fn trim(text: &str) -> &str {
    text.trim()
}

/// Lowercases into `buf` and returns it; ASCII text takes the fast path.
pub fn lower_into<'b>(text: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    push_lower(text, buf);
    buf.as_str()
}

/// Appends `text` lowercased to `buf`: char by char (what
/// `char::to_lowercase` gives each, so a final sigma stays `σ`), ASCII
/// text in one go and ASCII chars without the Unicode tables.
pub fn push_lower(text: &str, buf: &mut String) {
    if text.is_ascii() {
        let start = buf.len();
        buf.push_str(text);
        buf[start..].make_ascii_lowercase();
        return;
    }
    buf.reserve(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            buf.push(c.to_ascii_lowercase());
        } else {
            buf.extend(c.to_lowercase());
        }
    }
}

/// Lowercase entries (of lists), each with bits, found by a value in any
/// case: a short ASCII value is lowered a word at a time into a buffer on
/// the stack, not copied into the row's lowercase text; other values are
/// looked up by their lowercase form ([`push_lower`]).
#[derive(Debug, Clone, Default)]
pub struct FoldedMap {
    table: hashbrown::HashTable<(Box<[u8]>, u64)>,
    /// Bit `n` set: an entry is `n` bytes long (bit 63: 63 or more). An
    /// ASCII value of another length is in no entry, found without
    /// hashing (ASCII lowercasing keeps the length).
    lens: u64,
}

/// Longest value [`FoldedMap::get_ascii`] lowers on the stack.
const FOLD_MAX: usize = 64;

impl FoldedMap {
    /// Adds `bits` to the entry `lower` (a lowercase text).
    pub fn add(&mut self, lower: &str, bits: u64) {
        let k = lower.as_bytes();
        self.lens |= len_bit(k.len());
        let h = hash_bytes(k);
        match self.table.find_mut(h, |(e, _)| **e == *k) {
            Some((_, b)) => *b |= bits,
            None => {
                self.table
                    .insert_unique(h, (k.into(), bits), |(e, _)| hash_bytes(e));
            }
        }
    }

    /// The bits of `value` in any case (0: in no entry); `None` when the
    /// value is not ASCII or is long, to be looked up with
    /// [`FoldedMap::get_lower`].
    #[inline]
    pub fn get_ascii(&self, value: &str) -> Option<u64> {
        let v = value.as_bytes();
        if v.len() > FOLD_MAX {
            return None;
        }
        let mut buf = [0u8; FOLD_MAX];
        let mut high = 0u64;
        for (i, c) in v.chunks(8).enumerate() {
            let w = load_word(c);
            high |= w;
            buf[i * 8..i * 8 + 8].copy_from_slice(&lower8(w).to_le_bytes());
        }
        if high & 0x8080_8080_8080_8080 != 0 {
            return None;
        }
        if self.lens & len_bit(v.len()) == 0 {
            return Some(0);
        }
        Some(self.get_bytes(&buf[..v.len()]))
    }

    /// The bits of `lower`, a lowercase text (0: in no entry).
    pub fn get_lower(&self, lower: &str) -> u64 {
        self.get_bytes(lower.as_bytes())
    }

    #[inline]
    fn get_bytes(&self, k: &[u8]) -> u64 {
        let hit = self.table.find(hash_bytes(k), |(e, _)| **e == *k);
        hit.map_or(0, |(_, b)| *b)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.len()
    }
}

/// The bit of [`FoldedMap::lens`] for a length.
#[inline]
fn len_bit(n: usize) -> u64 {
    1 << n.min(63)
}

/// The bytes of `c` (1 to 8 of them) as a little-endian word, zeros
/// above: two loads that may overlap (each byte lands where it belongs
/// either way) rather than a copy of variable length, which is a call.
#[inline]
fn load_word(c: &[u8]) -> u64 {
    let n = c.len();
    if let Ok(w) = <[u8; 8]>::try_from(c) {
        return u64::from_le_bytes(w);
    }
    if n >= 4 {
        let lo = c.first_chunk::<4>().map_or(0, |w| u32::from_le_bytes(*w));
        let hi = c.last_chunk::<4>().map_or(0, |w| u32::from_le_bytes(*w));
        return u64::from(lo) | u64::from(hi) << ((n - 4) * 8);
    }
    match c {
        [] => 0,
        [a, ..] => {
            let (b, z) = (c[n / 2], c[n - 1]);
            u64::from(*a) | u64::from(b) << (n / 2 * 8) | u64::from(z) << ((n - 1) * 8)
        }
    }
}

#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5eed_1ead).hash_one(b)
}

/// The eight ASCII bytes of `w` with `A`-`Z` lowered: a byte at or above
/// `A` gets its top bit set by adding 0x3f, one above `Z` by adding 0x25
/// (no byte carries into the next: each is under 0x80).
#[inline]
fn lower8(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let at_least_a = w.wrapping_add(ONES * 0x3f);
    let above_z = w.wrapping_add(ONES * 0x25);
    let upper = at_least_a & !above_z & (ONES * 0x80);
    w | (upper >> 2)
}

/// Case-insensitive equality of `text` with `lower`, which is already
/// lowercase.
pub fn eq_folded(text: &str, lower: &str) -> bool {
    if text.is_ascii() && lower.is_ascii() {
        text.eq_ignore_ascii_case(lower)
    } else {
        text.chars().flat_map(char::to_lowercase).eq(lower.chars())
    }
}

/// Formats a number the way outputs and messages show it: whole numbers
/// without a fraction.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_alone_read_as_the_general_way_reads_them() {
        let mut rng = crate::testing::Rng::new(3);
        for _ in 0..20_000 {
            let n = (rng.next() % 18) as usize;
            let text: String = (0..n)
                .map(|_| char::from(b'0' + (rng.next() % 10) as u8))
                .collect();
            for comma in [false, true] {
                assert_eq!(
                    read_number_in(&text, comma),
                    read_number_slowly(text.as_bytes(), comma),
                    "{text:?}"
                );
            }
        }
        assert_eq!(read_number("007"), Some(7.0));
        assert_eq!(read_number("999999999999999"), Some(999_999_999_999_999.0));
    }

    /// Every ASCII byte in every position of a word lowers as
    /// `to_ascii_lowercase` lowers it.
    #[test]
    fn words_lower_as_bytes_do() {
        for b in 0u8..128 {
            for pos in 0..8 {
                let mut w = [b'q'; 8];
                w[pos] = b;
                let mut want = w;
                want.make_ascii_lowercase();
                assert_eq!(
                    lower8(u64::from_le_bytes(w)).to_le_bytes(),
                    want,
                    "{b:#x} at {pos}"
                );
            }
        }
    }

    /// Each byte lands where a copy into a zeroed word would put it, for
    /// every length up to a word.
    #[test]
    fn words_load_as_copies_would() {
        let bytes: Vec<u8> = (1..=8).map(|i| i * 17).collect();
        for n in 0..=8 {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(load_word(&bytes[..n]), u64::from_le_bytes(w), "{n} bytes");
        }
    }

    /// A value in any case finds the entry its lowercase form finds, and
    /// nothing else: mixed case, lengths around the word size, non-ASCII
    /// entries and values, near misses.
    #[test]
    fn folded_lookups_find_what_lowercase_lookups_find() {
        let entries = [
            "gmail.com",
            "web.de",
            "united states",
            "x",
            "",
            "abcdefgh",
            "abcdefghi",
            "münchen",
            "straße",
            "self-employed",
            "q3 2025",
            "< 3 months",
        ];
        let mut map = FoldedMap::default();
        for (i, e) in entries.iter().enumerate() {
            map.add(e, 1 << i);
        }
        map.add("web.de", 1 << 20);
        assert_eq!(map.len(), entries.len());
        let mut rng = crate::testing::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut next = || rng.next();
        let mut probes: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        probes.extend(
            [
                "gmail.co",
                "gmail.comm",
                "abcdefgH",
                "ABCDEFGHI",
                "abcdefgh ",
                "MÜNCHEN",
            ]
            .map(String::from),
        );
        for _ in 0..20_000 {
            let base = probes[(next() % probes.len() as u64) as usize].clone();
            let v: String = base
                .chars()
                .map(|c| {
                    if next() % 2 == 0 {
                        c.to_uppercase().next().unwrap()
                    } else {
                        c
                    }
                })
                .collect();
            let mut lower = String::new();
            push_lower(&v, &mut lower);
            let want = map.get_lower(&lower);
            let expected = entries.iter().position(|e| *e == lower).map_or(0, |i| {
                (1u64 << i) | if lower == "web.de" { 1 << 20 } else { 0 }
            });
            assert_eq!(want, expected, "{v:?}");
            match map.get_ascii(&v) {
                Some(bits) => assert_eq!(bits, want, "{v:?}"),
                None => assert!(!v.is_ascii()),
            }
        }
        // Past the stack buffer: found through the lowercase form.
        let long = "abcdefgh".repeat(9);
        map.add(&long, 1 << 30);
        assert_eq!(map.get_ascii(&long.to_uppercase()), None);
        assert_eq!(map.get_lower(&long), 1 << 30);
    }

    fn n(s: &str) -> Option<f64> {
        read_number(s)
    }

    #[test]
    fn amounts_and_sizes() {
        assert_eq!(n("$25,000"), Some(25000.0));
        assert_eq!(n("$ 25,000"), Some(25000.0));
        assert_eq!(n("25000.00"), Some(25000.0));
        assert_eq!(n("25k"), Some(25000.0));
        assert_eq!(n("25 K"), Some(25000.0));
        assert_eq!(n("1.5M"), Some(1_500_000.0));
        assert_eq!(n("2bn"), Some(2e9));
        assert_eq!(n("10,000+"), Some(10000.0));
        assert_eq!(n("approx 40"), Some(40.0));
        assert_eq!(n("~200"), Some(200.0));
        assert_eq!(n("USD 5000"), Some(5000.0));
    }

    #[test]
    fn decimal_marks_by_position_and_by_file() {
        assert_eq!(n("2,500.00"), Some(2500.0));
        assert_eq!(n("2.500,00"), Some(2500.0));
        assert_eq!(n("1,5"), Some(1.5));
        assert_eq!(n("12,50 EUR"), Some(12.5));
        assert_eq!(n("1.234.567"), Some(1_234_567.0));
        assert_eq!(n("1,000,000"), Some(1_000_000.0));
        assert_eq!(n("€15.000"), Some(15.0));
        let eu = |s: &str| read_number_in(s, true);
        assert_eq!(eu("30.000 €"), Some(30000.0));
        assert_eq!(eu("1,5"), Some(1.5));
        assert_eq!(eu("1,200"), Some(1200.0));
        assert_eq!(eu("25.5"), Some(25.5));
        assert_eq!(eu("2.500,75"), Some(2500.75));
        assert_eq!(eu("10.000-20.000"), Some(10000.0));
    }

    #[test]
    fn ranges_count_as_lower_bound() {
        assert_eq!(n("51-200"), Some(51.0));
        assert_eq!(n("10-20k"), Some(10000.0));
        assert_eq!(n("10k-20k"), Some(10000.0));
        assert_eq!(n("10 to 20k"), Some(10000.0));
        assert_eq!(n("1000+"), Some(1000.0));
    }

    #[test]
    fn words_after_a_number_are_not_suffixes() {
        assert_eq!(n("5 months"), Some(5.0));
        assert_eq!(n("3 visits"), Some(3.0));
        assert_eq!(n("12 Mio"), Some(12.0));
    }

    #[test]
    fn signs_and_no_digits() {
        assert_eq!(n("-5"), Some(-5.0));
        assert_eq!(n("$-5"), Some(-5.0));
        assert_eq!(n("TBD"), None);
        assert_eq!(n(""), None);
        assert_eq!(n("n/a"), None);
    }

    #[test]
    fn folding() {
        assert!(eq_folded("  SaaS".trim(), "saas"));
        assert!(eq_folded("MÜNCHEN", "münchen"));
        assert!(!eq_folded("saasy", "saas"));
        let mut buf = String::new();
        assert_eq!(lower_into("Ærø", &mut buf), "ærø");
        assert_eq!(format_number(25.0), "25");
        assert_eq!(format_number(2.5), "2.5");
    }
}
