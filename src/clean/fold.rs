//! Folding text to lowercase ASCII for lookup keys (country names, company
//! keys, job titles).
//!
//! Accents are folded by `deunicode`, which also transliterates other
//! scripts ("Россия" -> "rossiia"). That is lossy but deterministic, which
//! is all a key needs: both sides of a comparison go through this function.
//! ASCII input, by far the common case, is only lowercased.

use std::borrow::Cow;

/// Lowercase ASCII form of `s`; borrows when `s` is already that.
pub(crate) fn ascii_lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        let mut folded = deunicode::deunicode(s);
        folded.make_ascii_lowercase();
        Cow::Owned(folded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_lowercase_borrows_when_it_can() {
        assert!(matches!(ascii_lower("acme gmbh"), Cow::Borrowed(_)));
        assert_eq!(ascii_lower("ACME GmbH"), "acme gmbh");
    }

    #[test]
    fn accents_and_ligatures_fold() {
        assert_eq!(ascii_lower("Österreich"), "osterreich");
        assert_eq!(ascii_lower("España"), "espana");
        assert_eq!(ascii_lower("Straße"), "strasse");
        assert_eq!(ascii_lower("Ørsted A/S"), "orsted a/s");
        assert_eq!(ascii_lower("Türkiye"), "turkiye");
    }
}
