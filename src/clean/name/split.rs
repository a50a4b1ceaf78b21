//! Splitting a full name into first and last name; see
//! [`split_full_name`]. Word lists for salutations and suffixes live here;
//! particles are shared with name casing.

use super::{bare, is_particle};

/// Salutations and academic titles dropped from the front of a full name.
/// Compared lowercase, without a final dot.
#[rustfmt::skip]
const SALUTATIONS: &[&str] = &[
    "dame", "dipl.-ing", "dott", "dr", "dr.-ing", "fr", "frau", "herr", "hr", "ing", "madame",
    "mag", "miss", "mlle", "mme", "monsieur", "mr", "mrs", "ms", "mx", "prof", "professor", "rev",
    "sig", "sig.ra", "sir", "sr", "sra", "srta",
];

/// Words after `Dr.` in German academic titles (`Dr. rer. nat.`), dropped
/// only when written with their dot.
#[rustfmt::skip]
const TITLE_CONTINUATIONS: &[&str] = &[
    "dent", "h.c", "habil", "jur", "med", "nat", "oec", "phil", "pol", "rer", "techn", "vet",
];

/// Generational suffixes: they tell people apart, so they stay with the
/// last name. Compared lowercase with dots removed.
const GENERATIONAL: &[&str] = &["ii", "iii", "iv", "jnr", "jr", "snr", "sr"];

/// Credentials after a name: dropped, they are not part of it.
#[rustfmt::skip]
const CREDENTIALS: &[&str] = &[
    "cfa", "cpa", "dds", "dmd", "esq", "jd", "llm", "mba", "md", "mph", "msc", "phd", "pmp",
];

/// Splits a full name into (first, last), keeping the case given.
///
/// - `"Lima, Ana"` (a comma with a name after it) is last, first.
/// - Salutations and titles at the front are dropped (`Mr`, `Dr.`, `Prof.
///   Dr.`, `Herr`, `Frau`, `Dr. med.`, ...).
/// - Generational suffixes (`Jr.`, `Sr.`, `II`-`IV`) stay at the end of the
///   last name, since they tell father and son apart; credentials (`PhD`,
///   `MD`, `MBA`, `Esq.`, ...) are dropped.
/// - A particle that is not the last word starts the last name (`Ludwig
///   van Beethoven` -> `van Beethoven`); otherwise the last word is the
///   last name and everything before it the first name. Two-surname names
///   without a particle (`Gabriel García Márquez`) cannot be told apart
///   from middle names and get only the final word.
/// - One word is a first name; nothing gives `("", "")`.
pub fn split_full_name(raw: &str) -> (String, String) {
    let mut segments: Vec<Vec<&str>> = raw
        .split(',')
        .map(|s| s.split_whitespace().collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let mut kept = Vec::new();
    while segments.len() > 1 && segments.last().is_some_and(|s| all_suffixes(s)) {
        if let Some(seg) = segments.pop() {
            kept.splice(0..0, seg.into_iter().filter(|w| is_generational(w)));
        }
    }
    let (first, mut last) = match segments.as_slice() {
        [] => return (String::new(), String::new()),
        [only] => split_words(only, &mut kept),
        [last, rest @ ..] => {
            let mut first: Vec<&str> = rest.concat();
            strip_front(&mut first);
            strip_back(&mut first, &mut kept);
            (first.join(" "), last.join(" "))
        }
    };
    for s in kept {
        if !last.is_empty() {
            last.push(' ');
        }
        last.push_str(s);
    }
    (first, last)
}

fn split_words<'a>(words: &[&'a str], kept: &mut Vec<&'a str>) -> (String, String) {
    let mut words = words.to_vec();
    strip_front(&mut words);
    strip_back(&mut words, kept);
    match words.len() {
        0 => (String::new(), String::new()),
        1 => (words[0].to_string(), String::new()),
        n => {
            let cut = (1..n - 1).find(|&i| is_particle(words[i])).unwrap_or(n - 1);
            (words[..cut].join(" "), words[cut..].join(" "))
        }
    }
}

/// Drops salutations, and `Dr.` continuations like `med.`, from the front.
fn strip_front(words: &mut Vec<&str>) {
    let mut n = 0;
    while let Some(w) = words.get(n) {
        let key = w.trim_end_matches('.').to_lowercase();
        let continuation = n > 0 && w.ends_with('.') && words.len() - n > 1;
        if SALUTATIONS.contains(&key.as_str())
            || (continuation && TITLE_CONTINUATIONS.contains(&key.as_str()))
        {
            n += 1;
        } else {
            break;
        }
    }
    words.drain(..n);
}

/// Moves suffixes off the end: generational ones into `kept` (in order),
/// credentials away. Never strips the first word.
fn strip_back<'a>(words: &mut Vec<&'a str>, kept: &mut Vec<&'a str>) {
    while words.len() > 1 && words.last().is_some_and(|w| is_suffix(w)) {
        if let Some(w) = words.pop() {
            if is_generational(w) {
                kept.insert(0, w);
            }
        }
    }
}

fn is_generational(word: &str) -> bool {
    GENERATIONAL.contains(&bare(word).as_str())
}

fn is_suffix(word: &str) -> bool {
    let key = bare(word);
    GENERATIONAL.contains(&key.as_str()) || CREDENTIALS.contains(&key.as_str())
}

fn all_suffixes(words: &[&str]) -> bool {
    words.iter().all(|w| is_suffix(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(raw: &str) -> (String, String) {
        split_full_name(raw)
    }

    fn pair(first: &str, last: &str) -> (String, String) {
        (first.to_string(), last.to_string())
    }
    #[test]
    fn split_plain_and_comma_forms() {
        assert_eq!(split("Ana Lima"), pair("Ana", "Lima"));
        assert_eq!(split("Lima, Ana"), pair("Ana", "Lima"));
        assert_eq!(split("  Lima ,  Ana  Maria "), pair("Ana Maria", "Lima"));
        assert_eq!(
            split("John Ronald Reuel Tolkien"),
            pair("John Ronald Reuel", "Tolkien")
        );
        assert_eq!(split("Cher"), pair("Cher", ""));
        assert_eq!(split(""), pair("", ""));
        assert_eq!(split(" , "), pair("", ""));
    }

    #[test]
    fn split_drops_salutations() {
        assert_eq!(split("Mr. John Smith"), pair("John", "Smith"));
        assert_eq!(split("Prof. Dr. Anna Schmidt"), pair("Anna", "Schmidt"));
        assert_eq!(split("Herr Jürgen Müller"), pair("Jürgen", "Müller"));
        assert_eq!(split("Frau Dr. med. Eva Braun"), pair("Eva", "Braun"));
        assert_eq!(split("Dr. Nat Turner"), pair("Nat", "Turner"));
        assert_eq!(split("Schmidt, Dr. Anna"), pair("Anna", "Schmidt"));
        assert_eq!(split("MRS JANE DOE"), pair("JANE", "DOE"));
        assert_eq!(split("Mr."), pair("", ""));
    }

    #[test]
    fn split_suffixes() {
        assert_eq!(split("John Smith Jr."), pair("John", "Smith Jr."));
        assert_eq!(split("John Smith, Jr."), pair("John", "Smith Jr."));
        assert_eq!(split("Smith, John, Jr."), pair("John", "Smith Jr."));
        assert_eq!(split("Smith, John Jr."), pair("John", "Smith Jr."));
        assert_eq!(split("Henry Ford III"), pair("Henry", "Ford III"));
        assert_eq!(split("Ana Lima, PhD"), pair("Ana", "Lima"));
        assert_eq!(split("Ana Lima MBA, CPA"), pair("Ana", "Lima"));
        assert_eq!(split("Dr. Ana Lima Ph.D."), pair("Ana", "Lima"));
    }

    #[test]
    fn split_particles_join_the_last_name() {
        assert_eq!(
            split("Ludwig van Beethoven"),
            pair("Ludwig", "van Beethoven")
        );
        assert_eq!(split("Maria de la Cruz"), pair("Maria", "de la Cruz"));
        assert_eq!(split("Jan van der Berg"), pair("Jan", "van der Berg"));
        assert_eq!(
            split("van Beethoven, Ludwig"),
            pair("Ludwig", "van Beethoven")
        );
        assert_eq!(split("Thanh Le"), pair("Thanh", "Le"));
        assert_eq!(split("Al Gore"), pair("Al", "Gore"));
    }
}
