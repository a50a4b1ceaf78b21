//! `leadsift completions SHELL` and `leadsift man`: generated from the clap
//! definitions, so they never fall behind the options.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, EXIT_OK};

/// Writes `bytes` on stdout; a reader that closed the pipe ends it quietly.
fn emit(bytes: &[u8]) -> Result<u8, Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Output("<stdout>".into(), e.to_string()))
        }
        _ => Ok(EXIT_OK),
    }
}

pub fn completions(shell: clap_complete::Shell) -> Result<u8, Error> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "leadsift", &mut buf);
    emit(&buf)
}

/// The manual page: the top command, then a section per subcommand with
/// its synopsis, description, options and examples as subsections.
pub fn man() -> Result<u8, Error> {
    let cmd = Cli::command();
    let err = |e: std::io::Error| Error::Output("<stdout>".into(), e.to_string());
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(err)?;
    for sub in cmd.get_subcommands() {
        let name = format!("leadsift {}", sub.get_name());
        let man = clap_mangen::Man::new(sub.clone().name(name.clone()));
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part).map_err(err)?;
        man.render_description_section(&mut part).map_err(err)?;
        man.render_options_section(&mut part).map_err(err)?;
        man.render_extra_section(&mut part).map_err(err)?;
        let part = String::from_utf8_lossy(&part).replace("\n.SH ", "\n.SS ");
        let part = part
            .strip_prefix(".SH ")
            .map_or(part.clone(), |p| format!(".SS {p}"));
        buf.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        buf.extend_from_slice(part.as_bytes());
    }
    emit(&buf)
}
