//! People's names: name case for shouted or lowercased names, and a split
//! of a full name into first and last.
//!
//! [`name_case`] only touches a name written in one case (all caps or all
//! lowercase): a mixed-case name is how its owner or a careful person
//! wrote it (`McDonald`, `deVries`, `DiCaprio`) and is left alone beyond
//! collapsing whitespace. Rules, in order, for each word:
//!
//! - Particles ([`PARTICLES`]: van, von, der, de, la, da, di, du, del, ...)
//!   are lowercase when another word follows. A *first* word is lowercased
//!   only when the next word is a particle too (`van der Berg`, `de la
//!   Cruz`): a lone leading particle is more often a given name (`Al`,
//!   `Van`, `Di`) or a surname written alone (`Da Silva`, `De Luca`).
//!   A particle as the last word is a name (`Thanh Le`).
//! - Roman numerals II to IX after the first word are uppercase (`III`);
//!   `Jr`, `Sr`, `PhD`, `MD`, `MBA`, `Esq` get their usual case.
//! - Each part between hyphens is cased on its own (`Jean-Luc`), as is the
//!   part after a one-letter prefix and apostrophe (`O'Brien`, `D'Angelo`),
//!   and each part after a dot (`J.R.R.`).
//! - `Mc` + letters is always `McX` (`McDonald`). `Mac` is conservative:
//!   `MacX` only for the Scottish/Irish stems in [`MAC_STEMS`]
//!   (`MacDonald`, `MacLeod`, ...); anything else is plain (`Mack`,
//!   `Machado`, `Macy`, `Mackenzie`).
//! - `IJ` at the start of a Dutch word stays a pair (`IJsselstein`).
//!
//! [`split_full_name`] keeps the case it is given; call [`name_case`] on
//! the parts if wanted.

mod split;

pub use split::split_full_name;

/// Name particles: lowercase inside a name (see the module doc).
#[rustfmt::skip]
pub const PARTICLES: &[&str] = &[
    "al", "bin", "bint", "da", "das", "de", "dei", "del", "della", "den", "der", "des", "di",
    "do", "dos", "du", "ibn", "la", "las", "le", "los", "ten", "ter", "van", "von", "zu",
];

/// Stems after `Mac` that are written `MacX`. Deliberately short: a word
/// not listed is capitalised plainly, which is right for Mack, Machado,
/// Macy, Macias, Macedo and wrong only for rarer Scottish names.
#[rustfmt::skip]
pub const MAC_STEMS: &[&str] = &[
    "adam", "alister", "allister", "alpine", "arthur", "aulay", "bain", "beth", "bride", "callum",
    "cormack", "donald", "donnell", "dougall", "dowell", "duff", "ewan", "fadyen", "farlane",
    "gillivray", "gregor", "guire", "innes", "iver", "kinnon", "lachlan", "laren", "lean",
    "lellan", "lennan", "leod", "mahon", "millan", "namara", "naughton", "neil", "neill", "nicol",
    "pherson", "quarrie", "queen", "rae", "ritchie", "taggart", "tavish",
];

const ROMAN: &[&str] = &["ii", "iii", "iv", "vi", "vii", "viii", "ix"];

/// Usual spelling of suffixes, by lowercase form without dots.
const SUFFIX_CASE: &[(&str, &str)] = &[
    ("jr", "Jr"),
    ("sr", "Sr"),
    ("jnr", "Jnr"),
    ("snr", "Snr"),
    ("phd", "PhD"),
    ("md", "MD"),
    ("mba", "MBA"),
    ("esq", "Esq"),
    ("cpa", "CPA"),
    ("dds", "DDS"),
];

fn is_particle(word: &str) -> bool {
    PARTICLES.iter().any(|p| p.eq_ignore_ascii_case(word))
}

/// `word` lowercased with dots removed, for comparing with suffix lists.
fn bare(word: &str) -> String {
    word.chars()
        .filter(|&c| c != '.' && c != ',')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whitespace collapsed to single spaces and trimmed; an all-caps or
/// all-lowercase name put in name case (see the module doc).
pub fn name_case(raw: &str) -> String {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let collapsed = words.join(" ");
    let has_upper = collapsed.chars().any(char::is_uppercase);
    let has_lower = collapsed.chars().any(char::is_lowercase);
    if has_upper == has_lower {
        return collapsed; // mixed case, or no cased letters at all
    }
    let mut out = String::with_capacity(collapsed.len());
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        case_word(word, i, &words, &mut out);
    }
    out
}

fn case_word(word: &str, i: usize, words: &[&str], out: &mut String) {
    let lower = word.to_lowercase();
    let next_is_particle = words.get(i + 1).is_some_and(|w| is_particle(w));
    if is_particle(word) && i + 1 < words.len() && (i > 0 || next_is_particle) {
        out.push_str(&lower);
        return;
    }
    if i > 0 {
        let key = bare(word);
        if ROMAN.contains(&key.as_str()) {
            out.push_str(&word.to_uppercase());
            return;
        }
        let stem = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        let plain = stem.chars().all(char::is_alphanumeric);
        if let Some((_, fixed)) = SUFFIX_CASE.iter().find(|(k, _)| plain && *k == key) {
            out.push_str(fixed);
            out.push_str(&word[stem.len()..]);
            return;
        }
    }
    for (n, part) in lower.split('-').enumerate() {
        if n > 0 {
            out.push('-');
        }
        case_part(part, out);
    }
}

/// One hyphen-free part: `o'brien` -> `O'Brien`, `mcdonald` -> `McDonald`.
fn case_part(part: &str, out: &mut String) {
    let apostrophe = part.find(['\'', '\u{2019}']);
    if let Some(at) = apostrophe.filter(|&at| part[..at].chars().count() == 1) {
        let mark_len = part[at..].chars().next().map_or(1, char::len_utf8);
        capitalise(&part[..at], out);
        out.push_str(&part[at..at + mark_len]);
        case_core(&part[at + mark_len..], out);
    } else {
        case_core(part, out);
    }
}

fn case_core(s: &str, out: &mut String) {
    let letters_after = |prefix: &str| {
        s.strip_prefix(prefix)
            .filter(|rest| rest.chars().count() >= 2 && rest.chars().all(char::is_alphabetic))
    };
    if let Some(rest) = letters_after("mc") {
        out.push_str("Mc");
        capitalise(rest, out);
    } else if let Some(rest) = letters_after("mac").filter(|r| MAC_STEMS.contains(r)) {
        out.push_str("Mac");
        capitalise(rest, out);
    } else if let Some(rest) = s.strip_prefix("ij").filter(|r| !r.is_empty()) {
        out.push_str("IJ");
        out.push_str(rest);
    } else {
        for (n, seg) in s.split('.').enumerate() {
            if n > 0 {
                out.push('.');
            }
            capitalise(seg, out);
        }
    }
}

/// First character uppercase, the rest as given (already lowercase).
fn capitalise(s: &str, out: &mut String) {
    let mut chars = s.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shouted_and_lowercase_names_get_name_case() {
        assert_eq!(name_case("JOHN SMITH"), "John Smith");
        assert_eq!(name_case("  john   smith "), "John Smith");
        assert_eq!(name_case("mcdonald"), "McDonald");
        assert_eq!(name_case("MACDONALD"), "MacDonald");
        assert_eq!(name_case("o'brien"), "O'Brien");
        assert_eq!(name_case("jean-luc"), "Jean-Luc");
        assert_eq!(name_case("ANNE-MARIE O'NEILL"), "Anne-Marie O'Neill");
        assert_eq!(name_case("d’angelo"), "D’Angelo");
        assert_eq!(name_case("J.R.R. TOLKIEN"), "J.R.R. Tolkien");
        assert_eq!(
            name_case("JÜRGEN MÜLLER-LÜDENSCHEIDT"),
            "Jürgen Müller-Lüdenscheidt"
        );
        assert_eq!(name_case("ÉLODIE ÇELIK"), "Élodie Çelik");
        assert_eq!(name_case("IJSSELSTEIN"), "IJsselstein");
    }

    #[test]
    fn mac_rule_is_conservative() {
        for (raw, want) in [
            ("MACK", "Mack"),
            ("MACHADO", "Machado"),
            ("MACY", "Macy"),
            ("macias", "Macias"),
            ("MACKENZIE", "Mackenzie"),
            ("macleod", "MacLeod"),
            ("MACGREGOR", "MacGregor"),
            ("MC", "Mc"),
        ] {
            assert_eq!(name_case(raw), want, "{raw}");
        }
    }

    #[test]
    fn particles() {
        assert_eq!(name_case("VAN DER BERG"), "van der Berg");
        assert_eq!(name_case("de la cruz"), "de la Cruz");
        assert_eq!(name_case("LUDWIG VAN BEETHOVEN"), "Ludwig van Beethoven");
        assert_eq!(name_case("maria de los santos"), "Maria de los Santos");
        assert_eq!(name_case("AL GORE"), "Al Gore");
        assert_eq!(name_case("DA SILVA"), "Da Silva");
        assert_eq!(name_case("THANH LE"), "Thanh Le");
    }

    #[test]
    fn numerals_and_suffixes() {
        assert_eq!(name_case("john smith iii"), "John Smith III");
        assert_eq!(name_case("JOHN SMITH JR."), "John Smith Jr.");
        assert_eq!(name_case("JOHN SMITH, JR."), "John Smith, Jr.");
        assert_eq!(name_case("ana lima phd"), "Ana Lima PhD");
        assert_eq!(name_case("ANA LIMA PH.D."), "Ana Lima Ph.D.");
        assert_eq!(name_case("VI NGUYEN"), "Vi Nguyen");
    }

    #[test]
    fn mixed_case_is_left_alone() {
        assert_eq!(name_case("John Smith Jr."), "John Smith Jr.");
        assert_eq!(name_case("McDONALD"), "McDONALD");
        assert_eq!(name_case("DiCaprio"), "DiCaprio");
        assert_eq!(name_case("danah boyd Smith"), "danah boyd Smith");
        assert_eq!(name_case("  Ana \t Lima "), "Ana Lima");
        assert_eq!(name_case("李小龙"), "李小龙");
        assert_eq!(name_case(""), "");
    }
}
