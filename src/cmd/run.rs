//! `leadsift run`: qualify inputs into the five stage files and a summary.

use std::io::{IsTerminal, Write};

use crate::cli::{ProgressMode, RunArgs};
use crate::error::{Error, EXIT_OK};
use crate::input::Source;
use crate::pipeline::{self, RunConfig};
use crate::rules;

pub fn execute(args: RunArgs) -> Result<u8, Error> {
    let compiled = rules::load(args.rules.as_deref())?;
    if !args.quiet && !compiled.warnings.items.is_empty() {
        eprintln!("{}", compiled.warnings);
    }
    let stdin_count = args.inputs.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_count > 1 {
        return Err(Error::Usage(
            "standard input (`-`) can be named only once".into(),
        ));
    }
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n.get(),
    );
    let progress = match args.progress {
        ProgressMode::Always => true,
        ProgressMode::Never => false,
        ProgressMode::Auto => !args.quiet && std::io::stderr().is_terminal(),
    };
    let cfg = RunConfig {
        inputs: args.inputs.iter().map(|p| Source::new(p)).collect(),
        out_dir: &args.out,
        jobs,
        progress,
        sanitize: !args.no_sanitize,
    };
    let (summary, files) = pipeline::run(&compiled, cfg)?;
    files.commit()?;
    summary.write(&args.out)?;
    if !args.quiet {
        summary.print();
    }
    if args.json {
        let mut out = std::io::stdout().lock();
        let written = writeln!(out, "{}", summary.to_json()).and_then(|_| out.flush());
        if let Err(e) = written {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(Error::Output("<stdout>".into(), e.to_string()));
            }
        }
    }
    Ok(EXIT_OK)
}
