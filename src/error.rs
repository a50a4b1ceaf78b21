//! The one error type of a run, and the exit status each kind maps to.

use crate::rules::LoadError;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: a runtime failure (an unreadable input, an unwritable output).
pub const EXIT_RUNTIME: u8 = 1;
/// Exit status: a usage error or a broken rules file.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// The rules file cannot be read or compiled.
    #[error("{0}")]
    Rules(#[from] LoadError),
    /// An input cannot be read: the input's name, then what went wrong.
    #[error("{0}: {1}")]
    Input(String, String),
    /// An output cannot be written: the file's name, then what went wrong.
    #[error("{0}: {1}")]
    Output(String, String),
    /// SIGINT or SIGTERM arrived during the run.
    #[error("interrupted by {}: nothing was written, the previous outputs are as they were", crate::interrupt::name(*.0))]
    Interrupted(i32),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Rules(_) => EXIT_USAGE,
            Error::Input(..) | Error::Output(..) => EXIT_RUNTIME,
            Error::Interrupted(sig) => u8::try_from(128 + sig).unwrap_or(EXIT_RUNTIME),
        }
    }
}
