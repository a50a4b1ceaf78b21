//! leadsift: qualify sales lead exports into lead, prospect, opportunity,
//! disqualified and rejected files, with a summary.
//!
//! The binary is a thin wrapper around [`main_with_args`]; everything else
//! lives here, where the tests reach it.

pub mod clean;
pub mod cli;
pub mod cmd;
pub mod dedup;
pub mod error;
pub mod exclude;
pub mod explain;
pub mod gates;
pub mod input;
pub mod interrupt;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod row;
pub mod rules;
pub mod state;
pub mod summary;
#[cfg(test)]
mod testing;

use clap::Parser;

use cli::{Cli, Command};
use error::EXIT_USAGE;

/// Parses the command line, runs the command, and returns the exit status.
/// Errors are printed here, on stderr, as `leadsift: <message>`.
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    let result = match cli.command {
        Command::Run(a) => cmd::run::execute(*a),
        Command::Check(a) => cmd::check::execute(a),
        Command::Explain(a) => cmd::explain::execute(*a),
        Command::Test(a) => cmd::test::execute(a),
        Command::Init(a) => cmd::init::execute(a),
        Command::Completions { shell } => cmd::shell::completions(shell),
        Command::Man => cmd::shell::man(),
    };
    match result {
        Ok(code) => code,
        Err(error::Error::Rules(rules::LoadError::Invalid(d))) => {
            eprintln!("{d}");
            eprintln!(
                "leadsift: {} error(s) in {}; nothing was run",
                d.errors(),
                d.origin
            );
            EXIT_USAGE
        }
        Err(e) => {
            eprintln!("leadsift: {e}");
            e.exit_code()
        }
    }
}
