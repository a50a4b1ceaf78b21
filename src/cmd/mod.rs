//! One module per subcommand; each turns parsed arguments into work and
//! returns the exit status.

pub mod check;
pub mod run;
pub mod shell;
