//! Company names to a key for matching ("is this lead's company one we
//! know?"): `"ACME GmbH"`, `"Acme"` and `"The Acme Company"` all give
//! `"acme"`. The key is for comparing, never for display.
//!
//! Steps: accents folded and lowercase (via `deunicode`, so other scripts
//! are transliterated); `&` becomes `and`; apostrophes vanish
//! (`McDonald's` -> `mcdonalds`); every other non-alphanumeric character
//! separates words; runs of one-letter words join (`S.p.A.` -> `spa`,
//! `L.L.C.` -> `llc`, `J. P. Morgan` -> `jp morgan`); a leading `the`
//! goes; then legal-form words ([`LEGAL_FORMS`], [`LEGAL_PHRASES`]) are
//! removed from the end, repeatedly (`GmbH & Co. KG`, `Pty Ltd`), with an
//! `and` they leave dangling. The first word always stays, so `"AG"` alone
//! keys as `"ag"`.
//!
//! A generic word that is also a legal form is removed too ("Golden Spa"
//! keys as "golden", like "Golden S.p.A."); the key stays consistent,
//! which is what matching needs.

use super::fold::ascii_lower;

/// One-word legal forms, as they look after folding and joining.
#[rustfmt::skip]
pub const LEGAL_FORMS: &[&str] = &[
    "ab", "ag", "aktiengesellschaft", "aps", "as", "asa", "bhd", "bv", "co", "company", "corp",
    "corporation", "doo", "eg", "ev", "eurl", "gbr", "gk", "gmbh", "haftungsbeschrankt", "ead",
    "inc", "incorporated", "kft", "kg", "kgaa", "kk", "limited", "llc", "llp", "lp", "ltd",
    "ltda", "mbh", "nv", "nyrt", "ohg", "ood", "oy", "oyj", "plc", "pte", "pty", "pvt", "sa",
    "sarl", "sas", "sasu", "se", "sl", "slu", "spa", "sro", "srl", "ug", "zrt",
];

/// Several-word legal forms, removed only as a whole.
pub const LEGAL_PHRASES: &[&[&str]] = &[
    &["sa", "de", "cv"],
    &["sab", "de", "cv"],
    &["sapi", "de", "cv"],
    &["s", "de", "rl"],
    &["sp", "zoo"],
    &["kabushiki", "kaisha"],
    &["godo", "kaisha"],
    &["private", "limited"],
    &["public", "limited", "company"],
    &["limited", "liability", "company"],
    &["limited", "partnership"],
    &["sociedad", "anonima"],
    &["societe", "anonyme"],
    &["gesellschaft", "mit", "beschrankter", "haftung"],
];

/// The matching key of a company name (see the module doc).
pub fn company_key(raw: &str) -> String {
    let folded = ascii_lower(raw);
    let mut key = Key::default();
    for c in folded.chars() {
        match c {
            '\'' | '`' => {}
            '&' => key.word("and"),
            c if c.is_ascii_alphanumeric() => key.push(c),
            _ => key.end_word(),
        }
    }
    key.end_word();
    key.drop_leading_the();
    key.strip_legal_forms();
    key.text
}

/// The key being built: words separated by single spaces, and where each
/// word starts.
#[derive(Default)]
struct Key {
    text: String,
    starts: Vec<usize>,
    in_word: bool,
    /// The last finished word was one letter (or a joined run of them).
    single_run: bool,
}

impl Key {
    fn push(&mut self, c: char) {
        if !self.in_word {
            if !self.text.is_empty() {
                self.text.push(' ');
            }
            self.starts.push(self.text.len());
            self.in_word = true;
        }
        self.text.push(c);
    }

    fn word(&mut self, w: &str) {
        self.end_word();
        w.chars().for_each(|c| self.push(c));
        self.end_word();
    }

    /// Ends the current word; a one-letter word joins a preceding run.
    fn end_word(&mut self) {
        if !self.in_word {
            return;
        }
        self.in_word = false;
        let start = self.starts.last().copied().unwrap_or(0);
        let single = self.text.len() - start == 1;
        if single && self.single_run && start > 0 {
            self.text.remove(start - 1);
            self.starts.pop();
        }
        self.single_run = single;
    }

    fn words(&self) -> impl Iterator<Item = &str> {
        let ends = self.starts.iter().skip(1).map(|s| s - 1);
        let ends = ends.chain(std::iter::once(self.text.len()));
        self.starts.iter().zip(ends).map(|(&s, e)| &self.text[s..e])
    }

    fn drop_leading_the(&mut self) {
        if self.starts.len() > 1 && self.words().next() == Some("the") {
            let cut = self.starts[1];
            self.text.drain(..cut);
            self.starts.remove(0);
            self.starts.iter_mut().for_each(|s| *s -= cut);
        }
    }

    /// Removes the last `n` words.
    fn pop_words(&mut self, n: usize) {
        let keep = self.starts.len() - n;
        self.text.truncate(self.starts[keep].saturating_sub(1));
        self.starts.truncate(keep);
    }

    fn strip_legal_forms(&mut self) {
        let mut stripped = false;
        loop {
            let words: Vec<&str> = self.words().collect();
            let n = words.len();
            let last = words.last().copied().unwrap_or("");
            let phrase = LEGAL_PHRASES
                .iter()
                .find(|p| p.len() < n && words.ends_with(p))
                .map(|p| p.len());
            let drop = match phrase {
                Some(len) => len,
                None if n > 1 && LEGAL_FORMS.contains(&last) => 1,
                None if n > 1 && stripped && last == "and" => 1,
                None => return,
            };
            self.pop_words(drop);
            stripped = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(cases: &[(&str, &str)]) {
        for (raw, want) in cases {
            assert_eq!(company_key(raw), *want, "{raw:?}");
        }
    }

    #[test]
    fn legal_forms_go() {
        same(&[
            ("ACME GmbH", "acme"),
            ("Acme", "acme"),
            ("Acme Holdings, Inc.", "acme holdings"),
            ("Acme Inc", "acme"),
            ("Acme Incorporated", "acme"),
            ("Acme, L.L.C.", "acme"),
            ("Acme LLC", "acme"),
            ("Acme Ltd.", "acme"),
            ("Acme Limited", "acme"),
            ("Acme Corp.", "acme"),
            ("Acme Corporation", "acme"),
            ("Acme & Co.", "acme"),
            ("Acme GmbH & Co. KG", "acme"),
            ("Acme SE", "acme"),
            ("Acme UG (haftungsbeschränkt)", "acme"),
            ("Acme S.A.", "acme"),
            ("Acme SA", "acme"),
            ("Acme S.L.", "acme"),
            ("Acme S.r.l.", "acme"),
            ("Acme S.p.A.", "acme"),
            ("Acme B.V.", "acme"),
            ("Acme N.V.", "acme"),
            ("Acme Oy", "acme"),
            ("Acme AB", "acme"),
            ("Acme A/S", "acme"),
            ("Acme ApS", "acme"),
            ("Acme Pty Ltd", "acme"),
            ("Acme PLC", "acme"),
            ("Acme LLP", "acme"),
            ("Acme SARL", "acme"),
            ("Acme SAS", "acme"),
            ("Acme K.K.", "acme"),
            ("Acme Private Limited", "acme"),
            ("Acme S.A. de C.V.", "acme"),
            ("Grupo Bimbo, S.A.B. de C.V.", "grupo bimbo"),
            ("Acme Sp. z o.o.", "acme"),
            ("Acme s.r.o.", "acme"),
        ]);
    }

    #[test]
    fn the_accents_ampersands_punctuation() {
        same(&[
            ("The Coca-Cola Company", "coca cola"),
            ("the acme group", "acme group"),
            ("Société Générale S.A.", "societe generale"),
            ("Müller & Söhne GmbH", "muller and sohne"),
            ("AT&T Inc.", "at and t"),
            ("Procter & Gamble Co", "procter and gamble"),
            ("McDonald's Corporation", "mcdonalds"),
            ("J. P. Morgan Chase & Co.", "jp morgan chase"),
            ("JP Morgan Chase", "jp morgan chase"),
            ("  ACME   (Deutschland)  GmbH ", "acme deutschland"),
            ("3M Company", "3m"),
        ]);
    }

    #[test]
    fn never_empties_a_name() {
        same(&[
            ("AG", "ag"),
            ("The Company", "company"),
            ("Inc. Ltd.", "inc"),
            ("The", "the"),
            ("", ""),
            ("---", ""),
            ("Smith and", "smith and"),
        ]);
    }
}
