//! Qualification rules: the TOML model (`raw`), the condition language
//! (`expr`), the compiled form (`compile`) and evaluation of one row
//! (`eval`).
//!
//! A rules file is read and compiled once, before any row is read: names
//! are resolved to field slots, regular expressions are built, lists become
//! hash sets. Every problem is reported at once. Evaluation is then a pure
//! function of one row and the compiled rules.

mod compile;
pub mod derive;
pub mod diag;
mod eval;
pub mod example;
pub mod expr;
mod lint;
pub mod memo;
mod program;
pub mod raw;
mod set;
pub mod trace;
pub mod value;

use std::path::{Path, PathBuf};

pub use compile::{
    compile, Axis, Compiled, Decay, FieldSlot, Grades, Group, ListDef, Rule, MARK_NAMES,
};
pub use diag::{Diagnostic, Diagnostics};
pub use eval::{decayed_points, Outcome, RowView, Scratch, Verdict};

/// The built-in default rules, compiled into the binary.
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.toml");
/// The trade-show rules, which `leadsift init --profile trade-show` writes.
pub const TRADE_SHOW_RULES: &str = include_str!("../../rules/trade-show.toml");

/// List files shipped in `rules/lists/`, so that the built-in rules need
/// nothing on disk.
const BUILTIN_LISTS: &[(&str, &str)] = &[
    (
        "lists/free_mail.txt",
        include_str!("../../rules/lists/free_mail.txt"),
    ),
    (
        "lists/disposable.txt",
        include_str!("../../rules/lists/disposable.txt"),
    ),
    (
        "lists/competitors.txt",
        include_str!("../../rules/lists/competitors.txt"),
    ),
];

/// The text of a list file shipped in `rules/lists/`, by the name the
/// shipped rules give it (`lists/competitors.txt`).
pub fn builtin_list(name: &str) -> Option<&'static str> {
    BUILTIN_LISTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

/// Where a rules text came from: a file, or the built-in default.
#[derive(Debug, Clone)]
pub enum Origin {
    Builtin,
    File(PathBuf),
}

impl Origin {
    pub fn display(&self) -> String {
        match self {
            Origin::Builtin => "<built-in rules/default.toml>".to_string(),
            Origin::File(p) => p.display().to_string(),
        }
    }

    /// Reads a list file named in the rules, relative to the rules file.
    pub fn read_list(&self, name: &str) -> Result<String, String> {
        match self {
            Origin::Builtin => builtin_list(name)
                .map(str::to_string)
                .ok_or_else(|| format!("the built-in rules have no list file `{name}`")),
            Origin::File(p) => {
                let path = p.parent().unwrap_or(Path::new(".")).join(name);
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read list file {}: {e}", path.display()))
            }
        }
    }
}

/// Loads rules from a file, or the built-in default when `path` is `None`.
/// `Err` carries every problem found; warnings ride along in `Ok`.
pub fn load(path: Option<&Path>) -> Result<Compiled, LoadError> {
    let (origin, text) = match path {
        None => (Origin::Builtin, DEFAULT_RULES.to_string()),
        Some(p) => {
            let text = std::fs::read(p).map_err(|e| LoadError::Io(p.to_path_buf(), e))?;
            let text = String::from_utf8(text).map_err(|_| LoadError::NotUtf8(p.to_path_buf()))?;
            (Origin::File(p.to_path_buf()), text)
        }
    };
    compile(origin, &text).map_err(LoadError::Invalid)
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read rules file {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: the rules file is not UTF-8 text")]
    NotUtf8(PathBuf),
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// The five files every row can end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Lead,
    Prospect,
    Opportunity,
    Disqualified,
    Rejected,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Lead,
        Stage::Prospect,
        Stage::Opportunity,
        Stage::Disqualified,
        Stage::Rejected,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Lead => "lead",
            Stage::Prospect => "prospect",
            Stage::Opportunity => "opportunity",
            Stage::Disqualified => "disqualified",
            Stage::Rejected => "rejected",
        }
    }

    /// The stage named `name` (as [`Stage::name`] spells it), if any.
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Stage::Lead => "leads.csv",
            Stage::Prospect => "prospects.csv",
            Stage::Opportunity => "opportunities.csv",
            Stage::Disqualified => "disqualified.csv",
            Stage::Rejected => "rejected.csv",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}
