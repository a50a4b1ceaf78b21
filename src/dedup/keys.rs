//! A row's keys: the text of each configured key kind and its hash.

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::spec::{DedupSpec, KeyKind};
use crate::rules::{Compiled, RowView};

/// The cleaning calls and fields keys are made of, registered with the
/// rules when they compile (so the rules and the keys share one cleaned
/// value per row).
#[derive(Debug, Clone, Copy)]
pub struct KeyFields {
    pub email: usize,
    pub email_valid: usize,
    pub phone: usize,
    pub phone_valid: usize,
    pub company: usize,
    pub first_name: usize,
    pub last_name: usize,
}

/// The stable hash of a key: xxh3-64 of the kind's tag byte and the text
/// (the state file stores these, so this must never change; 0 is kept
/// for "no key").
pub fn key_hash(tag: u8, text: &str) -> u64 {
    // A key of up to 126 bytes (all real ones) is hashed in one call, on
    // the stack: xxh3's one-shot and streaming forms give the same hash,
    // and the one-shot is several times quicker on short input.
    let mut buf = [0u8; 128];
    let hash = match buf.get_mut(2..2 + text.len()) {
        Some(rest) => {
            rest.copy_from_slice(text.as_bytes());
            buf[0] = tag;
            buf[1] = 0x1f;
            xxh3_64(&buf[..2 + text.len()])
        }
        None => {
            let mut h = Xxh3::new();
            h.update(&[tag, 0x1f]);
            h.update(text.as_bytes());
            h.digest()
        }
    };
    match hash {
        0 => 1,
        x => x,
    }
}

/// One row's keys, by position in the configured order. Reused per row.
#[derive(Debug, Default)]
pub struct KeyBuf {
    pub text: [String; 3],
    pub hash: [u64; 3],
}

impl KeyBuf {
    pub fn clear(&mut self) {
        for t in &mut self.text {
            t.clear();
        }
        self.hash = [0; 3];
    }

    /// Works out the keys of a row.
    pub fn compute(&mut self, rules: &Compiled, view: &RowView, spec: &DedupSpec) {
        self.clear();
        let f = &rules.key_fields;
        for (i, kind) in spec.keys.iter().enumerate().take(3) {
            let t = &mut self.text[i];
            match kind {
                KeyKind::Email => {
                    if !rules.derived_value(view, f.email_valid).is_empty() {
                        let e = rules.derived_value(view, f.email);
                        if spec.canonical_email {
                            t.push_str(&crate::clean::email::canonical(e));
                        } else {
                            t.push_str(e);
                        }
                    }
                }
                KeyKind::Phone => {
                    if !rules.derived_value(view, f.phone_valid).is_empty() {
                        t.push_str(rules.derived_value(view, f.phone));
                    }
                }
                KeyKind::NameCompany => {
                    let company = rules.derived_value(view, f.company);
                    let first = view.field(f.first_name);
                    let last = view.field(f.last_name);
                    if !company.is_empty() && !first.is_empty() && !last.is_empty() {
                        fold_name(first, t);
                        t.push(' ');
                        fold_name(last, t);
                        t.push('|');
                        t.push_str(company);
                    }
                }
            }
            if !t.is_empty() {
                self.hash[i] = key_hash(kind.tag(), t);
            }
        }
    }
}

/// A name for matching: ASCII-folded, lowercase, letters and digits only,
/// words separated by one space (`José-Luis  GARCÍA` -> `jose luis garcia`).
pub fn fold_name(name: &str, out: &mut String) {
    let folded = crate::clean::ascii_lower(name);
    let mut gap = false;
    let start = out.len();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && out.len() > start {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold() {
        let mut s = String::new();
        fold_name(" José-Luis  GARCÍA ", &mut s);
        assert_eq!(s, "jose luis garcia");
    }

    #[test]
    fn short_and_long_keys_hash_as_the_stream_does() {
        let text: String = (0..300)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        for n in 0..300 {
            let mut h = Xxh3::new();
            h.update(&[b'e', 0x1f]);
            h.update(&text.as_bytes()[..n]);
            assert_eq!(key_hash(b'e', &text[..n]), h.digest().max(1), "{n} bytes");
        }
        // Pinned: the state file keeps these hashes from run to run.
        assert_eq!(key_hash(b'e', "ana@acme.de"), 15_951_169_603_796_357_015);
    }

    #[test]
    fn kinds_do_not_meet() {
        assert_ne!(key_hash(b'e', "x"), key_hash(b'p', "x"));
        assert_eq!(key_hash(b'e', "ana@acme.de"), key_hash(b'e', "ana@acme.de"));
    }
}
