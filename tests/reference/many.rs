//! The 250-rule file of the rules benchmark (`benches/rules.rs`): the 25
//! reference rules (`benches/reference.toml`) plus 225 generated ones of
//! nine kinds. Shared with `tests/reference.rs`, which checks that the
//! run's evaluation agrees with the traced one on every row.

use std::fmt::Write as _;

use super::gen;

/// Rules added to the reference's 25 (19 `[[rule]]` entries, the rest
/// `[define]`, `[usable]` and `[stages]`) to make 250.
pub const EXTRA: usize = 225;
const REFERENCE: &str = include_str!("../../benches/reference.toml");

/// Title words of the extra regex rules, in groups of three.
const TITLE_WORDS: &[&str] = &[
    "sales",
    "marketing",
    "engineering",
    "it",
    "procurement",
    "operations",
    "finance",
    "growth",
    "product",
    "data",
    "security",
    "revenue",
    "people",
    "legal",
    "analyst",
    "manager",
    "lead",
    "architect",
    "consultant",
    "developer",
    "scientist",
    "officer",
    "partner",
    "principal",
];
const NOTE_WORDS: &[&str] = &[
    "pricing",
    "quote",
    "proposal",
    "demo",
    "trial",
    "budget",
    "legal",
    "competitor",
    "renewal",
    "sso",
    "api",
    "security",
    "vendors",
    "approval",
    "contract",
    "seats",
    "enterprise",
    "voicemail",
    "unsubscribed",
    "bounced",
    "webinar",
    "whitepaper",
    "booth",
    "follow up",
];
const SUFFIXES: &[&str] = &[
    "GmbH", "Inc.", "LLC", "Ltd", "Labs", "Systems", "Partners", "Group",
];
const TLDS: &[&str] = &[
    ".de", ".io", ".fr", ".nl", ".co.uk", ".com.au", ".ca", ".net",
];

/// What each kind of extra rule tests (`i % 9` picks the kind of rule `i`).
#[allow(dead_code)] // the benchmark's, not the test's
pub const KINDS: [&str; 9] = [
    "title regex",
    "domain in list",
    "two lists",
    "size threshold",
    "notes contains",
    "ends with",
    "two numbers",
    "days_since",
    "list, present, =",
];

/// The reference rules plus the generated rules `extra` (indexes; kind
/// `i % 9`), as one rules file.
pub fn rules_text(extra: &[usize]) -> String {
    let mut lists = String::new();
    for k in 0..10 {
        let companies: Vec<String> = (0..40)
            .map(|j| format!("\"rival{k}-{j}.example\""))
            .collect();
        let _ = writeln!(lists, "competitors_{k} = [{}]", companies.join(", "));
        let countries: Vec<String> = gen::COUNTRIES
            .iter()
            .skip(k)
            .step_by(3)
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .map(|c| format!("{c:?}"))
            .collect();
        let _ = writeln!(lists, "countries_{k} = [{}]", countries.join(", "));
        let industries: Vec<String> = gen::INDUSTRIES
            .iter()
            .skip(k % 4)
            .step_by(4)
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .map(|c| format!("{c:?}"))
            .collect();
        let _ = writeln!(lists, "industries_{k} = [{}]", industries.join(", "));
    }
    let mut text = REFERENCE.replacen("[lists]\n", &format!("[lists]\n{lists}"), 1);
    for &i in extra {
        let (k, w) = (i % 10, i / 10);
        let word = |xs: &[&'static str], n: usize| xs[(w * 3 + n) % xs.len()];
        let when = match i % 9 {
            0 => format!(
                r#"title matches "(?i)\b({}|{}|{})\b""#,
                word(TITLE_WORDS, 0),
                word(TITLE_WORDS, 1),
                word(TITLE_WORDS, 2)
            ),
            1 => format!("email_domain in competitors_{k}"),
            2 => format!("country in countries_{k} and industry in industries_{k}"),
            3 => format!("number(company_size) >= {}", 10 * (w + 1) * (k + 1)),
            4 => format!(r#"notes contains "{}""#, word(NOTE_WORDS, k)),
            5 => format!(
                r#"company ends with "{}" or email ends with "{}""#,
                word(SUFFIXES, k),
                word(TLDS, k)
            ),
            6 => format!(
                "number(budget) >= {} and number(visits) >= {}",
                5000 * (k + 1),
                w % 7
            ),
            7 => format!("days_since(last_activity) <= {}", 15 * (w + 1)),
            _ => format!(
                r#"not (demo_requested in demo_yes) and timeline is present and source = "{}""#,
                word(gen::SOURCES, k).trim()
            ),
        };
        let group = if i % 2 == 0 { "fit" } else { "engagement" };
        let points = (i % 7) as i64 * 5 - 10;
        let _ = write!(
            text,
            "\n[[rule]]\nid = \"extra-{i}\"\nwhen = '{when}'\n{group} = {points}\n"
        );
    }
    text
}
