//! One module per subcommand; each turns parsed arguments into work and
//! returns the exit status.

pub mod check;
pub mod explain;
pub mod init;
pub mod run;
pub mod shell;
pub mod test;
