//! `--exclude` lists: people and companies who must not come out as new
//! leads (customers, do-not-contact lists, a CRM export).
//!
//! A list is any export leadsift can read (CSV in any encoding and
//! dialect, or a workbook) with an email, a phone or a domain column,
//! found under the usual header names. Its values are cleaned the way a
//! row's are (email lowercased and unwrapped, phone in E.164, domain
//! without scheme, `www.` or path) and kept as hashes with the list and
//! line they came from, so that a disqualified row can say exactly which
//! entry matched it.

use crate::dedup::{key_hash, DedupSpec, ExcludeBy, HashedMap};
use crate::error::Error;
use crate::input::{self, ReadOptions, Record, Source};
use crate::rules::{compile, Compiled, Origin, RowView};

/// Header names a list's domain column is found under.
const LIST_RULES: &str = r#"
version = 1
[fields]
domain = ["Domain", "Domains", "Website", "Web Site", "Company Domain", "Company Domain Name",
          "Email Domain", "Company Website", "URL", "Web"]
[usable]
when = "valid_email(email) or valid_phone(phone) or domain is present"
reason = "no valid email, no valid phone and no domain"
"#;

/// One list as read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListInfo {
    pub path: String,
    /// Data rows read.
    pub rows: u64,
    /// Entries taken from it (a row can give an email, a phone and a
    /// domain).
    pub entries: u64,
    /// Rows with nothing to match by (no valid email, phone or domain) or
    /// that could not be read; listed so that nothing is silently ignored.
    pub unused_rows: u64,
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy)]
struct Entry {
    list: u32,
    line: u64,
}

pub struct Exclusions {
    by: Vec<ExcludeBy>,
    canonical_email: bool,
    map: HashedMap<Entry>,
    pub lists: Vec<ListInfo>,
}

/// Why a row is excluded.
#[derive(Debug, Clone)]
pub struct Hit {
    pub by: ExcludeBy,
    pub list: usize,
    pub line: u64,
    pub value: String,
}

impl Hit {
    pub fn reason(&self, lists: &Exclusions) -> String {
        format!(
            "excluded: {} {} is on {} line {}",
            self.by.name(),
            self.value,
            lists.lists[self.list].path,
            self.line
        )
    }
}

/// A domain as written in a list (`https://www.Acme.com/about`) ->
/// `acme.com`.
pub fn normalize_domain(raw: &str) -> String {
    let mut d = raw.trim().to_ascii_lowercase();
    for p in ["https://", "http://"] {
        if let Some(rest) = d.strip_prefix(p) {
            d = rest.to_string();
        }
    }
    if let Some(at) = d.rfind('@') {
        d = d[at + 1..].to_string();
    }
    let end = d.find(['/', '?', '#', ':']).unwrap_or(d.len());
    d.truncate(end);
    let d = d.trim_start_matches("www.").trim_end_matches('.');
    if d.contains('.') && !d.contains(char::is_whitespace) {
        d.to_string()
    } else {
        String::new()
    }
}

impl Exclusions {
    /// Reads every list.
    pub fn load(
        sources: Vec<Source>,
        spec: &DedupSpec,
        opts: &ReadOptions,
    ) -> Result<Exclusions, Error> {
        let rules = compile(Origin::Builtin, LIST_RULES).map_err(|d| {
            Error::Usage(format!(
                "internal: the exclusion list reader does not compile: {d}"
            ))
        })?;
        let mut x = Exclusions {
            by: spec.exclude_by.clone(),
            canonical_email: spec.canonical_email,
            map: HashedMap::default(),
            lists: Vec::new(),
        };
        for (i, source) in sources.into_iter().enumerate() {
            let name = source.name.clone();
            let mut opened = input::open(source, &rules, opts)?;
            let mut info = ListInfo {
                path: name.clone(),
                rows: 0,
                entries: 0,
                unused_rows: 0,
            };
            let domain_slot = rules.slots.iter().position(|s| s.label == "domain");
            let mut rec = Record::default();
            let memo_len = rules.derived.len();
            let mut memo = crate::rules::derive::Memo::new(memo_len);
            let width = opened.headers.len();
            let by_list = x.by.clone();
            loop {
                match opened.records.next_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(Error::Input(name, format!("cannot read: {e}"))),
                }
                info.rows += 1;
                let text = std::str::from_utf8(rec.bytes()).ok();
                let Some(text) = text.filter(|_| rec.problem.is_none() && rec.len() == width)
                else {
                    info.unused_rows += 1;
                    continue;
                };
                memo.reset();
                let view = RowView {
                    text,
                    spans: rec.spans(),
                    binding: &opened.binding,
                    names: &[],
                    placeholders: &rules.placeholders,
                    memo: &memo,
                    decimal_comma: false,
                };
                let mut found = 0;
                for &by in &by_list {
                    let v = match by {
                        ExcludeBy::Email => x.email_of(&rules, &view),
                        ExcludeBy::Phone => phone_of(&rules, &view),
                        ExcludeBy::Domain => domain_slot
                            .map_or_else(String::new, |s| normalize_domain(view.field(s))),
                    };
                    if !v.is_empty() {
                        found += 1;
                        x.map.entry(key_hash(by.tag(), &v)).or_insert(Entry {
                            list: i as u32,
                            line: rec.line,
                        });
                    }
                }
                if found == 0 {
                    info.unused_rows += 1;
                }
                info.entries += found;
            }
            x.lists.push(info);
        }
        Ok(x)
    }

    fn email_of(&self, rules: &Compiled, view: &RowView) -> String {
        let f = &rules.key_fields;
        if rules.derived_value(view, f.email_valid).is_empty() {
            return String::new();
        }
        let e = rules.derived_value(view, f.email);
        if self.canonical_email {
            crate::clean::email::canonical(e)
        } else {
            e.to_string()
        }
    }

    /// The first entry a row matches, by email, phone, then domain (the
    /// row's email domain and each parent domain of it).
    pub fn check(&self, rules: &Compiled, view: &RowView) -> Option<Hit> {
        for &by in &self.by {
            let hit = |v: &str| {
                self.map.get(&key_hash(by.tag(), v)).map(|e| Hit {
                    by,
                    list: e.list as usize,
                    line: e.line,
                    value: v.to_string(),
                })
            };
            let found = match by {
                ExcludeBy::Email => {
                    let e = self.email_of(rules, view);
                    (!e.is_empty()).then(|| hit(&e)).flatten()
                }
                ExcludeBy::Phone => {
                    let p = phone_of(rules, view);
                    (!p.is_empty()).then(|| hit(&p)).flatten()
                }
                ExcludeBy::Domain => {
                    let f = &rules.key_fields;
                    if rules.derived_value(view, f.email_valid).is_empty() {
                        None
                    } else {
                        let e = rules.derived_value(view, f.email);
                        let mut d = crate::clean::email::domain(e);
                        let mut found = None;
                        while d.contains('.') {
                            if let Some(h) = hit(d) {
                                found = Some(h);
                                break;
                            }
                            d = d.split_once('.').map_or("", |(_, rest)| rest);
                        }
                        found
                    }
                }
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

fn phone_of(rules: &Compiled, view: &RowView) -> String {
    let f = &rules.key_fields;
    if rules.derived_value(view, f.phone_valid).is_empty() {
        return String::new();
    }
    rules.derived_value(view, f.phone).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_lose_scheme_www_and_path() {
        assert_eq!(normalize_domain("https://www.Acme.com/about"), "acme.com");
        assert_eq!(normalize_domain("acme.co.uk"), "acme.co.uk");
        assert_eq!(normalize_domain("@acme.io"), "acme.io");
        assert_eq!(normalize_domain("n/a"), "");
        assert_eq!(normalize_domain(""), "");
    }
}
