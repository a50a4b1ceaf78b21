//! A job title as a list of lowercase ASCII words, and a matcher that finds
//! keyword phrases in it on word boundaries.
//!
//! Keywords are written as in the tables of `title.rs`: words separated by
//! spaces (`"head of"`), where a word may end in `*` (a prefix: German
//! compounds like `vertrieb*` for `Vertriebsleiter`) or start with `*` (a
//! suffix: `*leiter`). The matcher indexes phrases by their first exact
//! word, so matching costs a hash lookup per word plus the few prefix and
//! suffix phrases.

use std::collections::HashMap;

/// Words that start the name of an employer: the title ends before them
/// (`"Head of Sales at Founders Fund"`).
const EMPLOYER_MARKERS: &[&str] = &["at", "bei", "chez"];

/// Words for an assistant: "Assistant of the CEO" works *for* the CEO.
#[rustfmt::skip]
const ASSISTANT_WORDS: &[&str] = &[
    "assistant", "assistent", "assistentin", "assistenz", "ea", "pa", "secretary", "sekretar",
    "sekretarin",
];

/// After an assistant word, these start whom they assist.
const ASSISTANT_OF: &[&str] = &["of", "der", "des", "for", "fur"];

/// The words of a lowercased, ASCII-folded title.
pub(super) struct Words<'a>(pub(super) Vec<&'a str>);

impl<'a> Words<'a> {
    pub(super) fn new(lower: &'a str) -> Self {
        Words(
            lower
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect(),
        )
    }

    /// Drops an employer clause (`at ...`) and whom an assistant or
    /// advisor serves (`to the CEO`, `of the Managing Director`, `Office
    /// of the CEO`), so those words do not rank or place the title.
    pub(super) fn without_clauses(mut self) -> Self {
        let employer = self.position_after(0, |w| EMPLOYER_MARKERS.contains(&w));
        let office = self
            .position_after(0, |w| w == "office")
            .filter(|&i| self.0.get(i + 1) == Some(&"of"));
        let to = self.position_after(0, |w| w == "to");
        let assistant = self.0.iter().position(|w| ASSISTANT_WORDS.contains(w));
        let of = assistant.and_then(|a| self.position_after(a + 1, |w| ASSISTANT_OF.contains(&w)));
        let cut = [employer, office, to, of].into_iter().flatten().min();
        if let Some(cut) = cut {
            self.0.truncate(cut);
        }
        self
    }

    /// First index from `from` on (never 0: a clause needs a title before
    /// it) whose word satisfies `f`.
    fn position_after(&self, from: usize, f: impl Fn(&str) -> bool) -> Option<usize> {
        let start = from.max(1);
        (start..self.0.len()).find(|&i| f(self.0[i]))
    }
}

#[derive(Debug)]
enum Pat {
    Exact(&'static str),
    Prefix(&'static str),
    Suffix(&'static str),
}

impl Pat {
    fn parse(word: &'static str) -> Pat {
        if let Some(p) = word.strip_suffix('*') {
            Pat::Prefix(p)
        } else if let Some(s) = word.strip_prefix('*') {
            Pat::Suffix(s)
        } else {
            Pat::Exact(word)
        }
    }

    fn matches(&self, word: &str) -> bool {
        match self {
            Pat::Exact(e) => word == *e,
            Pat::Prefix(p) => word.starts_with(p),
            Pat::Suffix(s) => word.ends_with(s),
        }
    }
}

/// One keyword phrase and the table row (label index) it belongs to.
#[derive(Debug)]
struct Phrase {
    pats: Vec<Pat>,
    label: usize,
}

impl Phrase {
    fn matches_at(&self, words: &[&str], at: usize) -> bool {
        let tail = &words[at..];
        tail.len() >= self.pats.len() && self.pats.iter().zip(tail).all(|(p, w)| p.matches(w))
    }
}

/// Finds, for a title, the first table row that has a keyword in it.
#[derive(Debug)]
pub(super) struct Matcher {
    by_first: HashMap<&'static str, Vec<Phrase>>,
    wildcard_first: Vec<Phrase>,
}

impl Matcher {
    /// `table` rows are (label, keywords); earlier rows win.
    pub(super) fn new<L>(table: &[(L, &[&'static str])]) -> Matcher {
        let mut m = Matcher {
            by_first: HashMap::new(),
            wildcard_first: Vec::new(),
        };
        for (label, (_, keywords)) in table.iter().enumerate() {
            for kw in *keywords {
                let pats: Vec<Pat> = kw.split(' ').map(Pat::parse).collect();
                match pats.first() {
                    Some(Pat::Exact(first)) => m
                        .by_first
                        .entry(first)
                        .or_default()
                        .push(Phrase { pats, label }),
                    Some(_) => m.wildcard_first.push(Phrase { pats, label }),
                    None => {}
                }
            }
        }
        m
    }

    /// The smallest row index with a phrase anywhere in `words`.
    pub(super) fn best(&self, words: &[&str]) -> Option<usize> {
        let mut best: Option<usize> = None;
        for at in 0..words.len() {
            let exact = self.by_first.get(words[at]).into_iter().flatten();
            for phrase in exact.chain(&self.wildcard_first) {
                if best.is_none_or(|b| phrase.label < b) && phrase.matches_at(words, at) {
                    best = Some(phrase.label);
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        Words::new(s).without_clauses().0
    }

    #[test]
    fn splits_on_anything_but_letters_and_digits() {
        assert_eq!(words("co-founder & cto"), ["co", "founder", "cto"]);
        assert_eq!(words("r&d lead, emea"), ["r", "d", "lead", "emea"]);
        assert_eq!(words(""), Vec::<&str>::new());
    }

    #[test]
    fn clauses_are_cut() {
        assert_eq!(words("assistant to the ceo"), ["assistant"]);
        assert_eq!(words("assistenz der geschaftsfuhrung"), ["assistenz"]);
        assert_eq!(
            words("head of sales at founders fund"),
            ["head", "of", "sales"]
        );
        assert_eq!(words("head of sales bei acme"), ["head", "of", "sales"]);
        assert_eq!(
            words("director of engineering"),
            ["director", "of", "engineering"]
        );
        assert_eq!(words("to do"), ["to", "do"]);
        assert_eq!(words("director office of the ceo"), ["director"]);
    }

    #[test]
    fn matcher_prefers_earlier_rows_and_respects_boundaries() {
        let table: &[(&str, &[&str])] = &[
            ("a", &["head of", "vertrieb*"]),
            ("b", &["lead", "*leiter"]),
        ];
        let m = Matcher::new(table);
        assert_eq!(m.best(&["team", "lead"]), Some(1));
        assert_eq!(m.best(&["leadership"]), None);
        assert_eq!(m.best(&["lead", "head", "of", "x"]), Some(0));
        assert_eq!(m.best(&["head"]), None);
        assert_eq!(m.best(&["vertriebsleiter"]), Some(0));
        assert_eq!(m.best(&["abteilungsleiter"]), Some(1));
    }
}
