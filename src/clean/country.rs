//! Countries as written by people and exports, to ISO 3166-1 alpha-2.
//!
//! Every ISO 3166-1 country (plus Kosovo, `XK`) comes from the `celes`
//! crate: alpha-2, alpha-3, its official name and its common aliases. A
//! hand table ([`ALTERNATIVES`]) adds native and other common spellings
//! (`Deutschland`, `Allemagne`, `UK`, `UAE`, `Holland`, `Schweiz`, ...);
//! where it disagrees with `celes` it wins (`Samoa` is `WS`, not American
//! Samoa).
//!
//! Names are compared by a key: accents folded (other scripts
//! transliterated), lowercase, a leading "the" dropped, then only letters
//! and digits kept, so `U.S.A.`, `usa` and `U S A` are one key. ISO's
//! inverted forms are tried too: `Korea, Republic of` and `Bolivia
//! (Plurinational State of)` as `Republic of Korea` and `Bolivia`.
//!
//! Ambiguities, decided: `Korea` is `KR`; `Georgia` is the country `GE`;
//! `NA` is Namibia but `N/A` is no country.

use std::collections::HashMap;
use std::sync::LazyLock;

use celes::{Country, LookupTable};

use super::fold::ascii_lower;

/// Other spellings, by alpha-2. Keys go through the same folding as input.
#[rustfmt::skip]
pub const ALTERNATIVES: &[(&str, &[&str])] = &[
    ("AE", &["UAE", "U.A.E.", "Emirates", "Vereinigte Arabische Emirate"]),
    ("AT", &["Österreich", "Autriche", "Oostenrijk"]),
    ("BE", &["Belgique", "België", "Belgien", "Bélgica"]),
    ("BQ", &["Bonaire, Sint Eustatius and Saba", "Caribbean Netherlands"]),
    ("BR", &["Brasil", "Brasilien"]),
    ("CH", &["Schweiz", "Suisse", "Svizzera", "Swiss Confederation", "Helvetia"]),
    ("CN", &["People's Republic of China", "PRC", "VR China", "中国"]),
    ("CZ", &[
        "Czech Republic", "Czech Rep.", "Česko", "Česká republika", "Tschechien", "Tchéquie",
    ]),
    ("DE", &[
        "Deutschland", "Allemagne", "Alemania", "Germania", "Niemcy", "Duitsland", "Tyskland",
        "Saksa", "BRD", "Bundesrepublik Deutschland", "Federal Republic of Germany",
    ]),
    ("DK", &["Danmark", "Dänemark", "Danemark"]),
    ("DO", &["Dominican Rep."]),
    ("ES", &["España", "Espagne", "Spanien", "Spagna"]),
    ("FI", &["Suomi", "Finnland", "Finlande"]),
    ("FR", &["Frankreich", "Francia", "Frankrijk", "République française"]),
    ("GB", &[
        "UK", "U.K.", "Great Britain", "Britain", "England", "Scotland", "Wales",
        "Northern Ireland", "United Kingdom", "Großbritannien", "Royaume-Uni",
        "Vereinigtes Königreich", "Reino Unido", "Regno Unito",
    ]),
    ("GR", &["Hellas", "Ellada", "Ελλάδα", "Griechenland", "Grèce"]),
    ("HK", &["Hong Kong SAR", "Hong Kong, China", "Hong Kong SAR China", "Hong Kong S.A.R."]),
    ("HU", &["Magyarország", "Ungarn", "Hongrie"]),
    ("IE", &["Éire", "Irland", "Irlande", "Republic of Ireland"]),
    ("IT", &["Italia", "Italien", "Italie"]),
    ("JP", &["Nippon", "日本"]),
    ("KP", &["North Korea"]),
    ("KR", &["Korea", "South Korea", "Korea South", "Korea (South)", "대한민국"]),
    ("MO", &["Macao SAR", "Macau SAR", "Macao SAR China"]),
    ("MX", &["México", "Mexiko"]),
    ("NL", &["Holland", "Nederland", "Pays-Bas", "Niederlande", "Países Bajos", "Paesi Bassi"]),
    ("NO", &["Norge", "Norwegen", "Norvège"]),
    ("PL", &["Polska", "Polen", "Pologne"]),
    ("PT", &["Portugalia"]),
    ("RU", &["Russia", "Russland", "Russie", "Rusia", "Россия"]),
    ("SA", &["KSA", "Kingdom of Saudi Arabia"]),
    ("SE", &["Sverige", "Schweden", "Suède"]),
    ("SK", &["Slovensko", "Slowakei", "Slovak Republic", "Slovak Rep."]),
    ("SX", &["Sint Maarten"]),
    ("TR", &["Türkiye", "Türkei", "Turquie", "Republic of Turkey"]),
    ("TW", &["Taiwan, Province of China", "Chinese Taipei"]),
    ("UA", &["Україна", "Ukraina"]),
    ("US", &[
        "USA", "U.S.A.", "US", "U.S.", "United States", "America", "United States of America",
        "Vereinigte Staaten", "États-Unis", "Estados Unidos", "Stati Uniti",
    ]),
    ("VA", &["Vatican City State", "Holy See (Vatican City State)"]),
    ("VN", &["Viet Nam"]),
    ("WS", &["Samoa", "Independent State of Samoa"]),
];

/// What people write for "no country": never a code, even where the key
/// would be one (`N/A` -> `na` is Namibia's code).
const NOT_A_COUNTRY: &[&str] = &["n/a", "n.a.", "n/a.", "-", "--", "?"];

static BY_KEY: LazyLock<HashMap<String, &'static str>> = LazyLock::new(build);

fn build() -> HashMap<String, &'static str> {
    let countries = Country::get_countries();
    let mut map = HashMap::new();
    for c in &countries {
        map.insert(c.alpha2.to_ascii_lowercase(), c.alpha2);
        map.insert(c.alpha3.to_ascii_lowercase(), c.alpha2);
        map.insert(key(c.long_name), c.alpha2);
    }
    for c in &countries {
        for alias in c.aliases.iter() {
            map.entry(key(alias)).or_insert(c.alpha2);
        }
    }
    for (code, names) in ALTERNATIVES {
        // The table's codes are checked against celes by a test; look the
        // canonical `&'static str` up so unknown codes are simply skipped.
        let Some(code) = countries.iter().find(|c| c.alpha2 == *code) else {
            continue;
        };
        for name in *names {
            map.insert(key(name), code.alpha2);
        }
    }
    map
}

/// The comparison key: folded, lowercase, leading "the" dropped, letters
/// and digits only.
fn key(name: &str) -> String {
    let folded = ascii_lower(name);
    let trimmed = folded.trim_start();
    let rest = trimmed
        .strip_prefix("the")
        .filter(|r| r.starts_with(|c: char| !c.is_ascii_alphanumeric()))
        .unwrap_or(trimmed);
    rest.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// ISO 3166-1 alpha-2 code (`"DE"`) for a code or name in any of the
/// spellings the module doc describes; `None` when nothing matches.
pub fn iso2(raw: &str) -> Option<&'static str> {
    let raw = raw.trim();
    if raw.is_empty() || NOT_A_COUNTRY.iter().any(|n| n.eq_ignore_ascii_case(raw)) {
        return None;
    }
    if let Some(code) = BY_KEY.get(&key(raw)) {
        return Some(code);
    }
    inverted_forms(raw).find_map(|form| BY_KEY.get(&key(&form)).copied())
}

/// ISO's inverted names, read the natural way: `"Korea, Republic of"` ->
/// `"Republic of Korea"`; `"Iran (Islamic Republic of)"` -> `"Islamic
/// Republic of Iran"` and `"Iran"`.
fn inverted_forms(raw: &str) -> impl Iterator<Item = String> + '_ {
    let comma = raw
        .split_once(',')
        .map(|(head, tail)| format!("{tail} {head}"));
    let paren = raw.split_once(['(', '[']).map(|(head, tail)| {
        let inner = tail.split([')', ']']).next().unwrap_or("");
        [format!("{inner} {head}"), head.to_string()]
    });
    comma.into_iter().chain(paren.into_iter().flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&str, &str)]) {
        for (raw, want) in cases {
            assert_eq!(iso2(raw), Some(*want), "{raw:?}");
        }
    }

    #[test]
    fn codes() {
        check(&[
            ("DE", "DE"),
            ("de", "DE"),
            ("DEU", "DE"),
            ("deu", "DE"),
            (" us ", "US"),
        ]);
        check(&[("GBR", "GB"), ("CHE", "CH"), ("NA", "NA"), ("XK", "XK")]);
    }

    #[test]
    fn english_and_native_names() {
        check(&[
            ("Germany", "DE"),
            ("Deutschland", "DE"),
            ("Allemagne", "DE"),
            ("United States", "US"),
            ("USA", "US"),
            ("U.S.A.", "US"),
            ("US", "US"),
            ("United States of America", "US"),
            ("United Kingdom", "GB"),
            ("UK", "GB"),
            ("Great Britain", "GB"),
            ("England", "GB"),
            ("Scotland", "GB"),
            ("Wales", "GB"),
            ("Holland", "NL"),
            ("The Netherlands", "NL"),
            ("the netherlands", "NL"),
            ("Nederland", "NL"),
            ("España", "ES"),
            ("ESPANA", "ES"),
            ("Österreich", "AT"),
            ("Osterreich", "AT"),
            ("Schweiz", "CH"),
            ("Suisse", "CH"),
            ("Switzerland", "CH"),
            ("Czechia", "CZ"),
            ("Czech Republic", "CZ"),
            ("Czech Rep.", "CZ"),
            ("Hong Kong SAR China", "HK"),
            ("South Korea", "KR"),
            ("Korea, Republic of", "KR"),
            ("Türkiye", "TR"),
            ("Turkey", "TR"),
            ("UAE", "AE"),
            ("United Arab Emirates", "AE"),
            ("Samoa", "WS"),
            ("American Samoa", "AS"),
            ("Россия", "RU"),
            ("Côte d'Ivoire", "CI"),
            ("Ivory Coast", "CI"),
        ]);
    }

    #[test]
    fn iso_inverted_short_names() {
        check(&[
            ("Bolivia (Plurinational State of)", "BO"),
            ("Iran, Islamic Republic of", "IR"),
            ("Korea (the Democratic People's Republic of)", "KP"),
            ("Congo, The Democratic Republic of the", "CD"),
            ("Congo", "CG"),
            ("Tanzania, United Republic of", "TZ"),
            ("Moldova, Republic of", "MD"),
            ("Virgin Islands (British)", "VG"),
            ("Virgin Islands (U.S.)", "VI"),
            ("Saint Helena, Ascension and Tristan da Cunha", "SH"),
            ("Bonaire, Sint Eustatius and Saba", "BQ"),
            ("Sint Maarten (Dutch part)", "SX"),
            ("Falkland Islands (Malvinas)", "FK"),
            ("Micronesia (Federated States of)", "FM"),
            ("Lao People's Democratic Republic", "LA"),
            ("Viet Nam", "VN"),
            ("Taiwan, Province of China", "TW"),
            ("Åland Islands", "AX"),
            ("Curaçao", "CW"),
            ("Réunion", "RE"),
            ("Timor-Leste", "TL"),
            ("Guinea-Bissau", "GW"),
        ]);
    }

    #[test]
    fn not_countries() {
        for raw in [
            "", "  ", "N/A", "n/a", "-", "Europe", "EU", "Atlantis", "XX", "the",
        ] {
            assert_eq!(iso2(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn every_celes_country_round_trips() {
        for c in Country::get_countries() {
            assert_eq!(iso2(c.alpha2), Some(c.alpha2));
            assert_eq!(iso2(c.alpha3), Some(c.alpha2), "{}", c.alpha3);
            assert_eq!(iso2(c.long_name), Some(c.alpha2), "{}", c.long_name);
            for alias in c.aliases.iter().filter(|a| **a != "Samoa") {
                assert_eq!(iso2(alias), Some(c.alpha2), "{alias}");
            }
        }
    }

    #[test]
    fn alternatives_name_real_codes() {
        let countries = Country::get_countries();
        for (code, _) in ALTERNATIVES {
            assert!(countries.iter().any(|c| c.alpha2 == *code), "{code}");
        }
    }
}
