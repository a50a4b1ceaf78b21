//! `leadsift check`: validate a rules file and show what it defines.

use crate::cli::CheckArgs;
use crate::error::{Error, EXIT_OK, EXIT_RUNTIME};
use crate::rules::{self, Compiled, Stage};

pub fn execute(args: CheckArgs) -> Result<u8, Error> {
    let compiled = rules::load(args.rules.as_deref())?;
    print!("{}", describe(&compiled));
    let warnings = compiled.warnings.items.len();
    if warnings > 0 {
        eprintln!("{}", compiled.warnings);
        if args.strict {
            eprintln!(
                "leadsift: {warnings} warning(s) in {} (--strict)",
                compiled.warnings.origin
            );
            return Ok(EXIT_RUNTIME);
        }
    }
    Ok(EXIT_OK)
}

/// What a valid rules file defines, for people.
pub fn describe(r: &Compiled) -> String {
    let mut s = format!("{}: valid\n", r.origin.display());
    if let Some(n) = &r.name {
        s.push_str(&format!("name: {n}\n"));
    }
    s.push_str(&format!("fields ({}):\n", r.slots.len()));
    for slot in &r.slots {
        let shown: Vec<&str> = slot.aliases.iter().take(6).map(String::as_str).collect();
        let more = slot.aliases.len().saturating_sub(6);
        let more = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        s.push_str(&format!(
            "  {:<18} headers: {}{more}\n",
            slot.label,
            shown.join(", ")
        ));
    }
    s.push_str(&format!("lists ({}):\n", r.lists.len()));
    for l in &r.lists {
        s.push_str(&format!("  {:<18} {} entries\n", l.name, l.set.len()));
    }
    if !r.defines.is_empty() {
        s.push_str(&format!("definitions ({}):\n", r.defines.len()));
        for (n, t) in &r.defines {
            s.push_str(&format!("  {n:<18} {t}\n"));
        }
    }
    s.push_str(&format!("groups ({}):\n", r.groups.len()));
    for g in &r.groups {
        let cap = g.cap.map_or("no cap".to_string(), |c| format!("cap {c}"));
        let floor = g.floor.map_or(String::new(), |f| format!(", floor {f}"));
        s.push_str(&format!("  {:<18} {cap}{floor}\n", g.name));
    }
    s.push_str(&format!(
        "placeholders (read as empty): {}\n",
        r.placeholders.join(", ")
    ));
    if let Some(region) = &r.phone_region {
        s.push_str(&format!("phone region without a country: {region}\n"));
    }
    if !r.clean_write.is_empty() {
        let fields: Vec<&str> = r
            .clean_write
            .iter()
            .map(|(slot, _)| r.slots[*slot].label.as_str())
            .collect();
        s.push_str(&format!(
            "cleaned values written for: {}\n",
            fields.join(", ")
        ));
    }
    match &r.usable {
        Some((_, text, reason)) => s.push_str(&format!(
            "usable when: {text}   (else rejected: {reason})\n"
        )),
        None => s.push_str("usable when: always (no [usable] section)\n"),
    }
    s.push_str(&format!("rules ({}):\n", r.rules.len()));
    for rule in &r.rules {
        let label = crate::row::rule_label(r, rule);
        s.push_str(&format!("  {label}\n      when {}\n", rule.when_text));
    }
    s.push_str("stages (checked from the top; lead is the fallback):\n");
    for st in [Stage::Opportunity, Stage::Prospect] {
        match r.stage_condition(st) {
            Some((_, text)) => s.push_str(&format!("  {:<12} {text}\n", st.name())),
            None => s.push_str(&format!(
                "  {:<12} (no condition: never reached)\n",
                st.name()
            )),
        }
    }
    s.push_str("  lead         otherwise\n");
    let d = &r.dedup;
    if d.enabled() {
        let keys: Vec<&str> = d.keys.iter().map(|k| k.name()).collect();
        s.push_str(&format!(
            "duplicates: same person by {}; kept by {}{}{}\n",
            keys.join(", "),
            d.keep_names().join(", "),
            if d.canonical_email {
                "; gmail dots and +tags ignored"
            } else {
                ""
            },
            if d.fill_empty {
                "; empty fields filled from duplicates"
            } else {
                ""
            },
        ));
    } else {
        s.push_str("duplicates: not looked for ([dedup] keys = [])\n");
    }
    let by: Vec<&str> = d.exclude_by.iter().map(|b| b.name()).collect();
    s.push_str(&format!("--exclude lists match by: {}\n", by.join(", ")));
    match r.examples.len() {
        0 => s.push_str("examples: none ([[example]] tables are run by `leadsift test`)\n"),
        n => s.push_str(&format!("examples: {n} (run them with `leadsift test`)\n")),
    }
    s
}
