//! Binding the fields the rules read to the columns of one input.
//!
//! A field slot is bound to every header that matches one of its aliases
//! (after [`aliases::normalise`]), alias by alias in order, then left to
//! right. Most fields read the first of those columns; the fields in
//! [`aliases::MULTI`] (email, phone) read them all, and the first non-empty
//! value wins on each row. A backtick column (`` `Lead Score` ``) matches
//! its exact header text first. When a file has no first or last name
//! column but has a full name, `first_name` and `last_name` are the parts
//! of the full name.
//!
//! Duplicate header names keep both columns in the output; a field bound
//! to such a name reads the leftmost first.

use super::aliases;
use crate::rules::Compiled;

/// Where a field's value comes from in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    Missing,
    Column(usize),
    /// Several columns: the first non-empty value wins.
    FirstOf(Vec<usize>),
    /// A part of a full-name column: the first name, or the last.
    NamePart {
        column: usize,
        first: bool,
    },
}

impl Bound {
    pub fn is_missing(&self) -> bool {
        *self == Bound::Missing
    }

    /// The columns read, in order.
    pub fn columns(&self) -> Vec<usize> {
        match self {
            Bound::Missing => Vec::new(),
            Bound::Column(c) | Bound::NamePart { column: c, .. } => vec![*c],
            Bound::FirstOf(cs) => cs.clone(),
        }
    }
}

/// For each field slot of the rules, where it reads from.
pub type Binding = Vec<Bound>;

pub fn bind(headers: &[String], rules: &Compiled) -> Binding {
    let norm: Vec<String> = headers.iter().map(|h| aliases::normalise(h)).collect();
    let profile = aliases::detect_profile(headers);
    let mut binding: Binding = rules
        .slots
        .iter()
        .map(|slot| {
            if let Some(exact) = &slot.exact {
                if let Some(i) = headers.iter().position(|h| h.trim() == exact.trim()) {
                    return Bound::Column(i);
                }
            }
            let overridden = profile_aliases(profile, slot);
            let mut cols: Vec<usize> = Vec::new();
            for a in overridden.as_ref().unwrap_or(&slot.aliases) {
                for (i, h) in norm.iter().enumerate() {
                    if h == a && !cols.contains(&i) {
                        cols.push(i);
                    }
                }
            }
            match cols.len() {
                0 => Bound::Missing,
                n if n > 1 && slot.multi => Bound::FirstOf(cols),
                _ => Bound::Column(cols[0]),
            }
        })
        .collect();
    name_parts(&norm, rules, &mut binding);
    binding
}

/// An export that writes a common header for something else (Mautic's
/// `title` is the salutation, its job title is `position`) replaces the
/// field's aliases for files of that profile; the rules file's own aliases
/// still come first.
fn profile_aliases(profile: Option<&str>, slot: &crate::rules::FieldSlot) -> Option<Vec<String>> {
    let profile = profile?;
    if slot.exact.is_some() {
        return None;
    }
    let (_, _, list) = aliases::PROFILE_OVERRIDES
        .iter()
        .find(|(p, f, _)| *p == profile && *f == slot.label)?;
    let builtin: Vec<String> = aliases::builtin(&slot.label)
        .unwrap_or(&[])
        .iter()
        .map(|a| aliases::normalise(a))
        .chain(std::iter::once(aliases::normalise(&slot.label)))
        .collect();
    let mut out: Vec<String> = slot
        .aliases
        .iter()
        .filter(|a| !builtin.contains(a))
        .cloned()
        .collect();
    out.extend(list.iter().map(|a| aliases::normalise(a)));
    Some(out)
}

/// Binds missing first and last names to the parts of a full name.
fn name_parts(norm: &[String], rules: &Compiled, binding: &mut Binding) {
    // The rules' own `full_name` aliases when they read the field, else
    // the built-in ones.
    let declared = rules
        .slots
        .iter()
        .find(|s| s.label == "full_name" && s.exact.is_none());
    let aliases: Vec<String> = match declared {
        Some(slot) => slot.aliases.clone(),
        None => aliases::builtin("full_name")
            .unwrap_or(&[])
            .iter()
            .map(|a| aliases::normalise(a))
            .chain(std::iter::once("fullname".to_string()))
            .collect(),
    };
    let full = aliases
        .iter()
        .find_map(|a| norm.iter().position(|h| h == a));
    let Some(column) = full else { return };
    for (slot, bound) in rules.slots.iter().zip(binding.iter_mut()) {
        if bound.is_missing() && slot.exact.is_none() {
            match slot.label.as_str() {
                "first_name" => {
                    *bound = Bound::NamePart {
                        column,
                        first: true,
                    }
                }
                "last_name" => {
                    *bound = Bound::NamePart {
                        column,
                        first: false,
                    }
                }
                _ => {}
            }
        }
    }
}

/// Duplicate and empty header names, for people.
pub fn header_problems(headers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim();
        if name.is_empty() {
            out.push(format!("column {} has no header name", i + 1));
            continue;
        }
        let same: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, x)| x.trim() == name)
            .map(|(j, _)| j + 1)
            .collect();
        if same.len() > 1 && same[0] == i + 1 {
            let cols: Vec<String> = same.iter().map(|c| c.to_string()).collect();
            out.push(format!(
                "header `{name}` appears in columns {}: both are kept; a field bound to it reads column {} first",
                cols.join(", "),
                same[0]
            ));
        }
    }
    out
}

/// Fails when none of the fields the `[usable]` condition reads has a
/// column: every row would be rejected, which is a mapping problem, not a
/// data problem.
pub fn check_required(
    binding: &Binding,
    headers: &[String],
    rules: &Compiled,
) -> Result<(), String> {
    let needed = &rules.usable_slots;
    if needed.is_empty() || needed.iter().any(|&s| !binding[s].is_missing()) {
        return Ok(());
    }
    let names: Vec<&str> = needed
        .iter()
        .map(|&s| rules.slots[s].label.as_str())
        .collect();
    let shown: Vec<String> = headers.iter().map(|h| format!("`{h}`")).collect();
    let field = rules.slots[needed[0]].label.trim_matches('`');
    Err(format!(
        "no column for any field a usable row needs ({}); the headers are: {}. \
         If one of them holds the {field}, name it in the rules file:\n  [fields]\n  {field} = [\"{}\"]",
        names.join(", "),
        shown.join(", "),
        headers.first().map_or("Header Name", |h| h.as_str())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{compile, Origin};

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fields_bind_through_aliases_and_backticks() {
        let rules = compile(
            Origin::Builtin,
            "[fields]\nvisits = [\"Page Views\"]\n[[rule]]\nid = \"a\"\nwhen = 'email is present and company_size > 5 and visits > 1 and `Lead Score` > 2'\nfit = 1\n",
        )
        .unwrap();
        let h = headers(&["Lead Score", "No. of Employees", "E-Mail", "page_views"]);
        let b = bind(&h, &rules);
        let by_label = |l: &str| b[rules.slots.iter().position(|s| s.label == l).unwrap()].clone();
        assert_eq!(by_label("email"), Bound::Column(2));
        assert_eq!(by_label("company_size"), Bound::Column(1));
        assert_eq!(by_label("visits"), Bound::Column(3));
        assert_eq!(by_label("`Lead Score`"), Bound::Column(0));
    }

    #[test]
    fn several_email_columns_are_all_read_and_names_split() {
        let rules = compile(
            Origin::Builtin,
            "[[rule]]\nid = \"a\"\nwhen = 'first_name is present and last_name is present'\nfit = 1\n",
        )
        .unwrap();
        let h = headers(&["Name", "Email", "Phone", "Email"]);
        let b = bind(&h, &rules);
        let by_label = |l: &str| b[rules.slots.iter().position(|s| s.label == l).unwrap()].clone();
        assert_eq!(by_label("email"), Bound::FirstOf(vec![1, 3]));
        assert_eq!(
            by_label("first_name"),
            Bound::NamePart {
                column: 0,
                first: true
            }
        );
        assert_eq!(
            by_label("last_name"),
            Bound::NamePart {
                column: 0,
                first: false
            }
        );
    }

    #[test]
    fn header_problems_are_named() {
        let p = header_problems(&headers(&["Email", "", "Email", "Name"]));
        assert_eq!(p.len(), 2);
        assert!(p[0].contains("`Email` appears in columns 1, 3"), "{p:?}");
        assert!(p[1].contains("column 2 has no header name"), "{p:?}");
    }

    #[test]
    fn a_file_without_contact_columns_is_refused_with_the_fix() {
        let rules = compile(Origin::Builtin, "").unwrap();
        let h = headers(&["Kontakt", "Firma"]);
        let err = check_required(&bind(&h, &rules), &h, &rules).unwrap_err();
        assert!(err.contains("(email, phone)"), "{err}");
        assert!(err.contains("`Kontakt`, `Firma`"), "{err}");
        assert!(err.contains("email = [\"Kontakt\"]"), "{err}");
    }
}
