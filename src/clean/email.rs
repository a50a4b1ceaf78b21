//! Email addresses: normalising, a practical syntax check, the domain, and
//! the three questions a lead qualifier asks of an address: is it free
//! mail (a person, not a company), disposable (throw-away), or a role
//! mailbox (a department, not a person)? Plus a dedup key.
//!
//! The free-mail and disposable lists are the files `rules/lists/
//! free_mail.txt` and `rules/lists/disposable.txt`, embedded with
//! `include_str!`: the rules engine embeds the same files, so there is one
//! source of truth. Their headers say where they come from. They become
//! hash sets once, on first use.
//!
//! Functions taking a `normalized` address expect the output of
//! [`normalize`] (trimmed, lowercase); given anything else they still
//! answer, never panic, but may say "no" where a normalised form would
//! say "yes".

use std::collections::HashSet;
use std::sync::LazyLock;

const FREE_MAIL_TXT: &str = include_str!("../../rules/lists/free_mail.txt");
const DISPOSABLE_TXT: &str = include_str!("../../rules/lists/disposable.txt");

static FREE_MAIL: LazyLock<HashSet<&'static str>> = LazyLock::new(|| domain_set(FREE_MAIL_TXT));
static DISPOSABLE: LazyLock<HashSet<&'static str>> = LazyLock::new(|| domain_set(DISPOSABLE_TXT));

/// Role mailboxes, compared with the local part's `-`, `_` and `.` removed
/// and any `+tag` dropped, so `no-reply`, `no_reply` and `no.reply` are all
/// `noreply`. English first, then common German, French and Spanish ones.
#[rustfmt::skip]
pub const ROLE_LOCAL_PARTS: &[&str] = &[
    "abuse", "accounting", "accounts", "admin", "administrator", "all", "billing", "bookings",
    "booking", "careers", "compliance", "contact", "contactus", "cs", "customercare",
    "customerservice", "customersupport", "dev", "devnull", "donotreply", "enquiries", "enquiry",
    "events", "everyone", "feedback", "finance", "hello", "help", "helpdesk", "hi", "hostmaster",
    "hr", "info", "information", "inquiries", "inquiry", "invoice", "invoices", "it", "jobs",
    "legal", "mail", "mailerdaemon", "marketing", "media", "news", "newsletter", "nobody",
    "noreply", "notifications", "office", "orders", "partners", "payments", "postmaster", "pr",
    "press", "privacy", "purchasing", "recruiting", "recruitment", "reservations", "root",
    "sales", "security", "service", "shop", "staff", "support", "sysadmin", "team", "tech",
    "webmaster", "welcome", "bewerbung", "buchhaltung", "buero", "datenschutz", "einkauf",
    "kontakt", "rechnung", "verkauf", "vertrieb", "zentrale", "accueil", "bonjour", "commercial",
    "contacto", "ventas",
];

/// Local parts are at most 64 bytes; a role name is much shorter, so a
/// squeezed local part that does not fit this buffer is not a role.
const ROLE_BUF: usize = 32;

fn domain_set(text: &'static str) -> HashSet<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Trimmed, lowercased, with `mailto:` (and any `?subject=...` after it)
/// and surrounding `<...>` removed. `"Ana Lima <Ana@Example.COM>"` keeps
/// only the bracketed address. Never fails: garbage in, lowercase garbage
/// out, for [`is_valid`] to judge.
pub fn normalize(raw: &str) -> String {
    let mut out = String::new();
    normalize_into(raw, &mut out);
    out
}

/// [`normalize`], appending to `out`.
pub fn normalize_into(raw: &str, out: &mut String) {
    let mut s = raw.trim();
    // The usual address, ASCII with no `<` and no `mailto:`, is its
    // lowercase: one pass a word at a time.
    if strip_prefix_ignore_case(s, "mailto:").is_none() && push_plain_lower(s, out) {
        return;
    }
    if let Some(open) = s.rfind('<') {
        if let Some(inner) = s[open + 1..].strip_suffix('>') {
            s = inner.trim();
        }
    }
    if let Some(rest) = strip_prefix_ignore_case(s, "mailto:") {
        s = rest.split('?').next().unwrap_or(rest).trim();
    }
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Appends `s` lowercased when it is ASCII without a `<`, and says so;
/// else appends nothing and returns false. The check goes eight bytes at
/// a time.
fn push_plain_lower(s: &str, out: &mut String) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = ONES * 0x80;
    // A zero byte of `w ^ LTS` is a `<` (a yes or no is exact).
    const LTS: u64 = ONES * b'<' as u64;
    let plain = |w: u64| {
        let y = w ^ LTS;
        (w & HIGHS) | (y.wrapping_sub(ONES) & !y & HIGHS) == 0
    };
    let (words, tail) = s.as_bytes().as_chunks::<8>();
    let mut last = [b' '; 8];
    last[..tail.len()].copy_from_slice(tail);
    if !plain(u64::from_le_bytes(last)) || !words.iter().all(|w| plain(u64::from_le_bytes(*w))) {
        return false;
    }
    let start = out.len();
    out.push_str(s);
    out[start..].make_ascii_lowercase();
    true
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Practical syntax check: exactly one `@`; a local part of 1 to 64 RFC
/// 5322 dot-atom characters with no leading, trailing or double dot; a
/// domain of two or more labels of letters (any script), digits and inner
/// hyphens, each 1 to 63 bytes, ending in a top-level domain of at least two
/// letters (or an `xn--` punycode one); at most 254 bytes in all. Quoted
/// local parts and IP-literal domains are rejected: real leads don't use
/// them and mail tools often can't either.
pub fn is_valid(normalized: &str) -> bool {
    let b = normalized.as_bytes();
    if b.len() > 254 {
        return false;
    }
    // The local part, up to the first `@`: local-part bytes (which `@`
    // is not), no dot after another.
    let mut dot = false;
    let mut at = None;
    for (i, &c) in b.iter().enumerate() {
        if c == b'@' {
            at = Some(i);
            break;
        }
        let is_dot = c == b'.';
        if !LOCAL_BYTES[c as usize] || (dot && is_dot) {
            return false;
        }
        dot = is_dot;
    }
    let Some(at) = at else { return false };
    // `@` is ASCII: the byte after it starts a character.
    (1..=64).contains(&at) && b[0] != b'.' && !dot && valid_domain(&normalized[at + 1..])
}

/// The bytes of a local part: ASCII letters, digits and `SPECIALS`.
const LOCAL_BYTES: [bool; 256] = {
    const SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~.";
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < SPECIALS.len() {
        t[SPECIALS[i] as usize] = true;
        i += 1;
    }
    t
};

/// An ASCII domain in one pass over its bytes, label by label at each
/// dot (the common case: about a third of the instructions of
/// [`valid_any_domain`]); a domain with other bytes goes there.
fn valid_domain(domain: &str) -> bool {
    let d = domain.as_bytes();
    let label_ok = |label: &[u8]| match (label.first(), label.last()) {
        (Some(&first), Some(&last)) => label.len() <= 63 && first != b'-' && last != b'-',
        _ => false,
    };
    let (mut labels, mut start) = (0, 0);
    for (i, &b) in d.iter().enumerate() {
        if LABEL_BYTES[b as usize] {
            continue;
        }
        if b != b'.' {
            return b >= 0x80 && valid_any_domain(domain);
        }
        if !label_ok(&d[start..i]) {
            return false;
        }
        labels += 1;
        start = i + 1;
    }
    let tld = &d[start..];
    labels >= 1
        && label_ok(tld)
        && (tld.starts_with(b"xn--") || (tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic)))
}

/// The bytes of an ASCII domain label: letters, digits and `-`.
const LABEL_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b as u8 == b'-';
        b += 1;
    }
    t
};

/// Labels of letters (any script), digits and inner hyphens, a top-level
/// domain of letters or punycode.
fn valid_any_domain(domain: &str) -> bool {
    let (mut labels, mut rest) = (0, domain);
    let tld = loop {
        let (label, next) = match memchr::memchr(b'.', rest.as_bytes()) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if !valid_label(label) {
            return false;
        }
        labels += 1;
        match next {
            Some(n) => rest = n,
            None => break label,
        }
    };
    let tld_ok = tld.starts_with("xn--")
        || if tld.is_ascii() {
            tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
        } else {
            tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
        };
    labels >= 2 && tld_ok
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && if label.is_ascii() {
            label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        } else {
            label.chars().all(|c| c.is_alphanumeric() || c == '-')
        }
}

/// The part after the last `@`; `""` when there is none.
pub fn domain(normalized: &str) -> &str {
    normalized.rsplit_once('@').map_or("", |(_, d)| d)
}

/// True for a free-mail provider's domain (`gmail.com`, `web.de`, ...):
/// an exact match in `rules/lists/free_mail.txt`. Subdomains do not count:
/// `mail.company.com` style hosts are company mail.
pub fn is_free_mail(domain: &str) -> bool {
    with_lower(domain, |d| FREE_MAIL.contains(d))
}

/// True for a disposable-mail domain in `rules/lists/disposable.txt`, or
/// any subdomain of one (`x.mailinator.com`): throw-away services hand out
/// subdomains freely.
pub fn is_disposable(domain: &str) -> bool {
    with_lower(domain, |d| {
        let mut rest = d;
        loop {
            if DISPOSABLE.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => return false,
            }
        }
    })
}

/// Calls `f` with `s` lowercased, allocating only when `s` has capitals.
fn with_lower<T>(s: &str, f: impl FnOnce(&str) -> T) -> T {
    let s = s.trim_end_matches('.');
    if s.chars().any(char::is_uppercase) {
        f(&s.to_lowercase())
    } else {
        f(s)
    }
}

/// True when the local part names a function, not a person: see
/// [`ROLE_LOCAL_PARTS`]. `No-Reply+x@` and `no_reply@` both count.
pub fn is_role(normalized: &str) -> bool {
    let local = normalized.rsplit_once('@').map_or(normalized, |(l, _)| l);
    let local = local.split('+').next().unwrap_or(local);
    let mut buf = [0u8; ROLE_BUF];
    let mut len = 0;
    for b in local.bytes().filter(|b| !matches!(b, b'-' | b'_' | b'.')) {
        if len == ROLE_BUF {
            return false;
        }
        buf[len] = b.to_ascii_lowercase();
        len += 1;
    }
    std::str::from_utf8(&buf[..len]).is_ok_and(|s| ROLE_LOCAL_PARTS.contains(&s))
}

/// A dedup key: for `gmail.com` and `googlemail.com` (one mailbox, two
/// names) the local part loses its dots and `+tag` and the domain becomes
/// `gmail.com`; every other address is returned unchanged, since other
/// providers treat dots and tags differently.
pub fn canonical(normalized: &str) -> String {
    match normalized.rsplit_once('@') {
        Some((local, "gmail.com" | "googlemail.com")) => {
            let local = local.split('+').next().unwrap_or(local);
            let mut out: String = local.chars().filter(|&c| c != '.').collect();
            out.push_str("@gmail.com");
            out
        }
        _ => normalized.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Up to `most` random `pieces` in a row.
    fn pieced(rng: &mut crate::testing::Rng, pieces: &[&str], most: u64) -> String {
        let n = rng.next() % (most + 1);
        (0..n)
            .map(|_| pieces[(rng.next() % pieces.len() as u64) as usize])
            .collect()
    }

    /// The address check as first written (the local part then the
    /// domain, each on its own, the domain label by label), for checking
    /// [`is_valid`] against.
    fn is_valid_slowly(n: &str) -> bool {
        let local_ok = |local: &[u8]| {
            let (Some(&first), Some(&last)) = (local.first(), local.last()) else {
                return false;
            };
            local.len() <= 64
                && first != b'.'
                && last != b'.'
                && local.iter().all(|&b| LOCAL_BYTES[b as usize])
                && !local.windows(2).any(|w| w == b"..")
        };
        n.len() <= 254
            && match memchr::memchr(b'@', n.as_bytes()) {
                Some(i) => local_ok(&n.as_bytes()[..i]) && valid_any_domain(&n[i + 1..]),
                None => false,
            }
    }

    #[test]
    fn the_one_pass_check_agrees_with_the_first_one() {
        let pieces = [
            "a",
            "Z",
            "0",
            ".",
            "..",
            "-",
            "@",
            "_",
            "+",
            "!",
            " ",
            "é",
            "ü",
            "xn--",
            "com",
            "de",
            "b-c",
            "@acme.com",
            "a@b.co",
            "a.b@",
            "\u{80}",
            "1",
        ];
        let mut rng = crate::testing::Rng::new(5);
        for _ in 0..50_000 {
            let s = pieced(&mut rng, &pieces, 8);
            assert_eq!(is_valid(&s), is_valid_slowly(&s), "{s:?}");
        }
        let long_label = "a".repeat(63);
        for s in [
            format!("x@{long_label}.com"),
            format!("x@{long_label}a.com"),
            format!("{}@x.com", "a".repeat(64)),
            format!("{}@x.com", "a".repeat(65)),
            format!("x@{}.com", "ab.".repeat(90)),
        ] {
            assert_eq!(is_valid(&s), is_valid_slowly(&s), "{s:?}");
        }
    }

    /// The general steps of [`normalize_into`] alone, without its fast
    /// path, for checking that path against.
    fn normalize_slowly(raw: &str) -> String {
        let mut s = raw.trim();
        if let Some(open) = s.rfind('<') {
            if let Some(inner) = s[open + 1..].strip_suffix('>') {
                s = inner.trim();
            }
        }
        if let Some(rest) = strip_prefix_ignore_case(s, "mailto:") {
            s = rest.split('?').next().unwrap_or(rest).trim();
        }
        s.to_lowercase()
    }

    #[test]
    fn the_fast_path_normalises_as_the_general_steps() {
        let pieces = [
            "a",
            "B",
            "<",
            ">",
            "@",
            ".",
            " ",
            "mailto:",
            "MailTo:",
            "?",
            "É",
            "ß",
            "\u{80}",
            "Zz",
            "x@Acme.COM",
            "Ana Lima <Ana@Example.COM>",
        ];
        let mut rng = crate::testing::Rng::new(11);
        for _ in 0..20_000 {
            let raw = pieced(&mut rng, &pieces, 7);
            assert_eq!(normalize(&raw), normalize_slowly(&raw), "{raw:?}");
        }
    }

    #[test]
    fn normalize_strips_decoration() {
        assert_eq!(normalize("  Ana.Lima@Example.COM "), "ana.lima@example.com");
        assert_eq!(normalize("mailto:Sales@Acme.io"), "sales@acme.io");
        assert_eq!(normalize("MAILTO:x@acme.io?subject=Hi"), "x@acme.io");
        assert_eq!(normalize("<jo@acme.io>"), "jo@acme.io");
        assert_eq!(normalize("Jo Doe <mailto:Jo@Acme.io>"), "jo@acme.io");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("not an email"), "not an email");
    }

    /// The one-pass check of domains answers as the general one does,
    /// over random ASCII domains of the bytes that matter.
    #[test]
    fn ascii_domains_judged_as_any_domain() {
        const BYTES: &[u8] = b"ab-.xn1Z_@ ";
        let mut rng = crate::testing::Rng::new(0x9e37_79b9_7f4a_7c15);
        let mut next = || rng.next();
        let mut agreed = [0; 2];
        for _ in 0..200_000 {
            let len = (next() % 12) as usize;
            let d: String = (0..len)
                .map(|_| BYTES[(next() % BYTES.len() as u64) as usize] as char)
                .collect();
            let fast = valid_domain(&d);
            assert_eq!(fast, valid_any_domain(&d), "{d:?}");
            agreed[usize::from(fast)] += 1;
        }
        assert!(agreed[1] > 100, "too few valid domains drawn: {agreed:?}");
        let long = format!("{}.com", "a".repeat(64));
        assert!(!valid_domain(&long));
        assert!(valid_domain(&long[1..]));
    }

    #[test]
    fn valid_addresses() {
        for ok in [
            "ana.lima@example.com",
            "j.o'neill+crm@acme.co.uk",
            "x@b.io",
            "first_last-2@sub.domain-name.de",
            "user@müller.de",
            "user@xn--mller-kva.de",
            "a!#$%&*=?^`{|}~@acme.io",
            "user@example.xn--p1ai",
        ] {
            assert!(is_valid(ok), "{ok} should be valid");
        }
    }

    #[test]
    fn invalid_addresses() {
        let long_local = format!("{}@acme.io", "a".repeat(65));
        let long_total = format!("a@{}.com", "b.".repeat(130));
        for bad in [
            "",
            "plainaddress",
            "@acme.io",
            "ana@",
            "ana@@acme.io",
            "ana@b@acme.io",
            ".ana@acme.io",
            "ana.@acme.io",
            "an..a@acme.io",
            "ana@localhost",
            "ana@acme.c",
            "ana@acme.c0m",
            "ana@-acme.io",
            "ana@acme-.io",
            "ana@acme..io",
            "ana@acme.io.",
            "ana lima@acme.io",
            "\"ana\"@acme.io",
            "ana@[192.168.0.1]",
            "ana@acme_corp.io",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert!(!is_valid(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn domain_is_after_the_last_at() {
        assert_eq!(domain("ana@acme.io"), "acme.io");
        assert_eq!(domain("a@b@acme.io"), "acme.io");
        assert_eq!(domain("no-at-sign"), "");
    }

    #[test]
    fn free_mail_from_the_shipped_list() {
        for d in [
            "gmail.com",
            "outlook.com",
            "yahoo.co.uk",
            "web.de",
            "gmx.de",
            "libero.it",
        ] {
            assert!(is_free_mail(d), "{d}");
        }
        assert!(is_free_mail("GMail.com"));
        assert!(!is_free_mail("acme.io"));
        assert!(!is_free_mail("mail.gmail.com.acme.io"));
        assert!(!is_free_mail(""));
        assert!(!is_free_mail("mailinator.com"), "disposable, not free mail");
    }

    #[test]
    fn disposable_with_subdomains() {
        assert!(is_disposable("mailinator.com"));
        assert!(is_disposable("x.mailinator.com"));
        assert!(is_disposable("a.b.yopmail.com"));
        assert!(is_disposable("spamgourmet.com"));
        assert!(!is_disposable("gmail.com"));
        assert!(!is_disposable("mailinator.com.acme.io"));
        assert!(!is_disposable("acme.io"));
        assert!(!is_disposable("com"));
        assert!(!is_disposable(""));
    }

    #[test]
    fn no_domain_is_both_free_and_disposable() {
        let both: Vec<_> = FREE_MAIL.intersection(&DISPOSABLE).collect();
        assert!(both.is_empty(), "in both lists: {both:?}");
        assert!(FREE_MAIL.len() > 1000 && DISPOSABLE.len() > 1000);
    }

    #[test]
    fn role_addresses() {
        for role in [
            "info@acme.io",
            "sales@acme.io",
            "no-reply@acme.io",
            "no_reply@acme.io",
            "noreply@acme.io",
            "do-not-reply@acme.io",
            "support+eu@acme.io",
            "web.master@acme.io",
            "postmaster@acme.io",
            "hr@acme.io",
            "kontakt@acme.de",
            "Info@Acme.io",
        ] {
            assert!(is_role(role), "{role}");
        }
        for person in [
            "ana.lima@acme.io",
            "sales.ana@acme.io",
            "information.x@acme.io",
            "",
        ] {
            assert!(!is_role(person), "{person}");
        }
        assert!(!is_role(&format!("{}@acme.io", "a".repeat(64))));
    }

    #[test]
    fn canonical_folds_gmail_only() {
        assert_eq!(canonical("j.o.doe+crm@gmail.com"), "jodoe@gmail.com");
        assert_eq!(canonical("jodoe@googlemail.com"), "jodoe@gmail.com");
        assert_eq!(canonical("j.doe+x@acme.io"), "j.doe+x@acme.io");
        assert_eq!(canonical("nonsense"), "nonsense");
    }
}
