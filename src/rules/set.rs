//! A set of regular expressions over one value, searched once per row for
//! every pattern that matches anywhere in it.
//!
//! The search goes through a fully built (dense) DFA when the set has one
//! of modest size: a table step per byte, with no per-call set-up beyond
//! the start state. The `meta` regex is the general engine behind it: it
//! answers for sets whose DFA would be too large, and for values the DFA
//! gives up on (a Unicode word boundary next to a non-ASCII byte).

use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::util::syntax;
use regex_automata::{meta, Input, MatchKind, PatternSet};

/// Largest DFA kept for a set, in bytes of transition table (a set over
/// that goes through the `meta` regex only).
const DFA_LIMIT: usize = 1 << 20;

/// The regular expressions that read one value.
#[derive(Debug, Clone)]
pub struct RegexSet {
    meta: meta::Regex,
    dfa: Option<dense::DFA<Vec<u32>>>,
}

impl RegexSet {
    /// The set of `patterns` (each one valid on its own, compiled already
    /// by the rules); `None` when they do not build together.
    pub fn new(patterns: &[String]) -> Option<RegexSet> {
        let syntax = syntax::Config::new().utf8(true);
        let meta = meta::Builder::new()
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .utf8_empty(true)
                    .nfa_size_limit(Some(10 * (1 << 20)))
                    .hybrid_cache_capacity(2 * (1 << 20)),
            )
            .syntax(syntax)
            .build_many(patterns)
            .ok()?;
        let dfa = dense::Builder::new()
            .configure(
                dense::DFA::config()
                    .match_kind(MatchKind::All)
                    .start_kind(StartKind::Unanchored)
                    .unicode_word_boundary(true)
                    .dfa_size_limit(Some(DFA_LIMIT))
                    .determinize_size_limit(Some(4 * DFA_LIMIT)),
            )
            .syntax(syntax)
            .build_many(patterns)
            .ok();
        Some(RegexSet { meta, dfa })
    }

    pub fn pattern_len(&self) -> usize {
        self.meta.pattern_len()
    }

    pub fn create_cache(&self) -> meta::Cache {
        self.meta.create_cache()
    }

    /// Puts into `hits` (cleared first) every pattern that matches
    /// somewhere in `text`.
    pub fn which(&self, cache: &mut meta::Cache, text: &str, hits: &mut PatternSet) {
        hits.clear();
        if let Some(dfa) = &self.dfa {
            if walk(dfa, text.as_bytes(), hits) {
                return;
            }
            hits.clear();
        }
        if self.meta.pattern_len() == 1 {
            // One pattern: the search may stop at its first match.
            let input = Input::new(text).earliest(true);
            if self.meta.search_half_with(cache, &input).is_some() {
                hits.insert(regex_automata::PatternID::ZERO);
            }
        } else {
            self.meta
                .which_overlapping_matches_with(cache, &Input::new(text), hits);
        }
    }
}

/// Runs `dfa` over all of `text`, adding to `hits` the patterns of every
/// match state it passes (matches show one byte late, and at the end of
/// the text after its end-of-input step); stops early once every pattern
/// is in, or in the dead state. `false` when the DFA gave up (a quit
/// byte), and `hits` means nothing.
fn walk(dfa: &dense::DFA<Vec<u32>>, text: &[u8], hits: &mut PatternSet) -> bool {
    let Ok(mut s) = dfa.start_state_forward(&Input::new(text)) else {
        return false;
    };
    for &b in text {
        s = dfa.next_state(s, b);
        if dfa.is_special_state(s) {
            if dfa.is_match_state(s) {
                for i in 0..dfa.match_len(s) {
                    hits.insert(dfa.match_pattern(s, i));
                }
                if hits.is_full() {
                    return true;
                }
            } else if dfa.is_dead_state(s) {
                return true;
            } else if dfa.is_quit_state(s) {
                return false;
            }
        }
    }
    s = dfa.next_eoi_state(s);
    if dfa.is_match_state(s) {
        for i in 0..dfa.match_len(s) {
            hits.insert(dfa.match_pattern(s, i));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the `meta` regex alone says.
    fn by_meta(set: &RegexSet, text: &str) -> Vec<usize> {
        let mut hits = PatternSet::new(set.pattern_len());
        let input = Input::new(text);
        set.meta
            .which_overlapping_matches_with(&mut set.create_cache(), &input, &mut hits);
        hits.iter().map(|p| p.as_usize()).collect()
    }

    fn by_set(set: &RegexSet, text: &str) -> Vec<usize> {
        let mut hits = PatternSet::new(set.pattern_len());
        set.which(&mut set.create_cache(), text, &mut hits);
        hits.iter().map(|p| p.as_usize()).collect()
    }

    fn pats(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    /// Every set answers as the `meta` regex does, on random texts built
    /// of pieces the patterns care about (words, word boundaries, case,
    /// non-ASCII letters next to words, digits and separators), and the
    /// sets of the reference rules and the built-in rules get a DFA.
    #[test]
    fn dfa_answers_as_the_meta_regex() {
        let sets = [
            pats(&[r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"]),
            pats(&[
                r"(?i)\b(ceo|cto|cfo|chief|founder|owner|president|vp|head|director)\b",
                r"(?i)\b(intern|assistant|associate|junior|jr|student)\b",
            ]),
            pats(&[r"^[0-9]+$"]),
            pats(&[r"^[$, ]*[0-9][0-9$, ]*(\.[$, ]*[0-9][0-9$, ]*)?([kK][$, ]*)?$"]),
            pats(&[r"(?i)^(ceo|vp)", r"(?i)(ceo|vp)$", r"ce", r"x*"]),
            pats(&[r"\bé\b", r"(?i)straße", r"\d{3}"]),
        ];
        let pieces = [
            "ceo", "CEO", "Vp", "vp", "head", "Head of", "junior", "JR", "intern", " ", "-", ".",
            "@", "a", "acme", "com", "de", "x", "é", "É", "ß", "STRASSE", "straße", "ün", "0",
            "12", "$", ",", "k", "K", ".5", "日本", "\u{212A}", "_", "%", "+",
        ];
        let mut rng = crate::testing::Rng::new(0x9e37_79b9_7f4a_7c15);
        for (k, p) in sets.iter().enumerate() {
            let set = RegexSet::new(p).unwrap();
            if k < 4 {
                assert!(set.dfa.is_some(), "set {k} has no DFA");
            }
            for _ in 0..20_000 {
                let n = (rng.next() % 7) as usize;
                let text: String = (0..n).map(|_| rng.pick(&pieces)).collect();
                assert_eq!(
                    by_set(&set, &text),
                    by_meta(&set, &text),
                    "set {k} on {text:?}"
                );
            }
            for text in ["", "ceo", "jr.", "alex@acme.de", "$25,000", "12k", "x"] {
                assert_eq!(
                    by_set(&set, text),
                    by_meta(&set, text),
                    "set {k} on {text:?}"
                );
            }
        }
    }

    /// A value with a non-ASCII letter next to a word boundary makes the
    /// DFA give up; the answer still comes, from the `meta` regex.
    #[test]
    fn unicode_word_boundaries_fall_back() {
        let set = RegexSet::new(&pats(&[r"\bceo\b"])).unwrap();
        assert!(set.dfa.is_some());
        assert_eq!(by_set(&set, "éceo"), Vec::<usize>::new());
        assert_eq!(by_set(&set, "é ceo"), vec![0]);
        assert_eq!(by_set(&set, "ceo"), vec![0]);
    }
}
