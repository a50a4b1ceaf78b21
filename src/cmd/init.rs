//! `leadsift init`: writes a starter rules file (the built-in rules of a
//! profile, with their comments and examples) and the list files it names,
//! so that it runs as written from any directory.
//!
//! Nothing is overwritten: the rules file is created only if it does not
//! exist (else exit 2), and a list file that exists is kept as it is (it is
//! the user's list).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{InitArgs, Profile};
use crate::error::{Error, EXIT_OK};
use crate::rules::diag::Reporter;
use crate::rules::{self, raw};

pub fn execute(args: InitArgs) -> Result<u8, Error> {
    let (name, source, text) = match args.profile {
        Profile::B2b => ("b2b", "rules/default.toml", rules::DEFAULT_RULES),
        Profile::TradeShow => (
            "trade-show",
            "rules/trade-show.toml",
            rules::TRADE_SHOW_RULES,
        ),
    };
    let path = &args.file;
    let shown = path.display();
    let out_err = |e: std::io::Error| Error::Output(shown.to_string(), e.to_string());
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Usage(format!(
                "{shown} already exists; leadsift init never overwrites a file: remove it, or name another file (leadsift init --profile {name} other.toml)"
            )),
            _ => out_err(e),
        })?;
    let lists = match write_lists(path, text) {
        Ok(l) => l,
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
    };
    let header = format!(
        "# Written by `leadsift init --profile {name}` (leadsift {}) from its built-in\n# {source}. Check it, run its examples, then use it:\n#   leadsift check --rules {shown}\n#   leadsift test --rules {shown}\n#   leadsift run --rules {shown} leads.csv\n\n",
        env!("CARGO_PKG_VERSION")
    );
    file.write_all(header.as_bytes())
        .and_then(|_| file.write_all(text.as_bytes()))
        .and_then(|_| file.sync_all())
        .map_err(out_err)?;
    println!("wrote {shown} ({name} rules)");
    for (list, written) in &lists {
        let what = if *written {
            "wrote"
        } else {
            "kept the existing"
        };
        println!("{what} {}", list.display());
    }
    println!("next: leadsift check --rules {shown}; leadsift test --rules {shown}");
    Ok(EXIT_OK)
}

/// Writes the list files the rules name (`{ file = "lists/x.txt" }`)
/// beside the rules file; returns each path and whether it was written
/// (`false`: it existed and was kept).
fn write_lists(rules_path: &Path, text: &str) -> Result<Vec<(PathBuf, bool)>, Error> {
    let mut rep = Reporter::new("", text);
    let raw = raw::read(text, &mut rep);
    let dir = rules_path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for l in &raw.lists {
        let Some(name) = &l.file else { continue };
        if out
            .iter()
            .any(|(p, _): &(PathBuf, bool)| p == &dir.join(&name.value))
        {
            continue;
        }
        let Some(body) = rules::builtin_list(&name.value) else {
            continue;
        };
        let p = dir.join(&name.value);
        let err = |e: std::io::Error| Error::Output(p.display().to_string(), e.to_string());
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        match OpenOptions::new().write(true).create_new(true).open(&p) {
            Ok(mut f) => {
                f.write_all(body.as_bytes()).map_err(err)?;
                out.push((p, true));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => out.push((p, false)),
            Err(e) => return Err(err(e)),
        }
    }
    Ok(out)
}
