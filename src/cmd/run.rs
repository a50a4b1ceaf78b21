//! `leadsift run`: qualify inputs into the five stage files and a summary.

use std::io::{IsTerminal, Write};

use crate::cli::{LongRows, OutFormat, ProgressMode, RunArgs, ShortRows, StdoutStage};
use crate::error::{Error, EXIT_OK};
use crate::gates::Gates;
use crate::input::{Limits, ReadOptions, Source};
use crate::output::{Format, OutputOptions, DUPLICATES};
use crate::pipeline::{self, RunConfig};
use crate::rules;
use crate::rules::Stage;

pub fn execute(args: RunArgs) -> Result<u8, Error> {
    let gates = Gates::from_options(
        args.min_rows,
        args.max_rejected.as_deref(),
        args.max_duplicates.as_deref(),
        &args.min_stage,
    )?;
    let output = output_options(&args)?;
    let mut compiled = rules::load(args.rules.as_deref())?;
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
    let as_of = as_of(args.as_of.as_deref())?;
    compiled.as_of = as_of;
    if let Some(o) = args.date_order {
        compiled.date_order = Some(o.order());
    }
    if args.excludes.iter().any(|p| p.as_os_str() == "-") {
        return Err(Error::Usage(
            "--exclude reads files; standard input (`-`) is for the leads".into(),
        ));
    }
    let cfg = RunConfig {
        inputs: args.inputs.iter().map(|p| Source::new(p)).collect(),
        out_dir: &args.out,
        jobs,
        progress,
        output,
        strict: args.strict,
        read: read_options(&args)?,
        pad_short: args.short_rows == ShortRows::Pad,
        keep_long: args.long_rows == LongRows::Keep,
        excludes: args.excludes.iter().map(|p| Source::new(p)).collect(),
        state: args.state.clone(),
        only_changed: args.only_changed,
        allow_downgrade: args.allow_downgrade,
        as_of,
    };
    crate::interrupt::install()
        .map_err(|e| Error::Usage(format!("cannot catch SIGINT and SIGTERM: {e}")))?;
    let removed = if args.dry_run {
        0
    } else {
        crate::output::remove_stale_temps(&args.out)
    };
    if removed > 0 && !args.quiet {
        eprintln!(
            "leadsift: removed {removed} temporary file(s) left in {} by a run that was killed",
            args.out.display()
        );
    }
    let started = jiff::Timestamp::now();
    let inputs: Vec<String> = cfg.inputs.iter().map(|s| s.name.clone()).collect();
    let dry_run = args.dry_run;
    let pipeline::Finished {
        mut summary,
        files,
        state,
    } = pipeline::run(&compiled, cfg)?;
    if let Some(sig) = crate::interrupt::received() {
        return Err(Error::Interrupted(sig));
    }
    summary.gates = gates.check(&summary);
    summary.dry_run = dry_run;
    // Outputs first, then the state: a state saved for outputs that were
    // never written would make the next --only-changed run skip them. A
    // dry run commits only what it streamed to standard output.
    files.commit()?;
    if dry_run {
        if !args.quiet {
            summary.print();
        }
        print_json(&args, &summary)?;
        return Ok(gate_status(&summary, args.quiet));
    }
    if let Some(st) = state {
        st.commit(&crate::state::RunRecord {
            started: started.to_string(),
            as_of,
            inputs: inputs.join("\n"),
            rows: summary.rows_in,
            keys_written: summary.state.as_ref().map_or(0, |s| s.keys_written),
        })?;
    }
    summary.write(&args.out, !args.no_sync)?;
    if !args.quiet {
        summary.print();
    }
    print_json(&args, &summary)?;
    Ok(gate_status(&summary, args.quiet))
}

/// Returns the run's exit status. With `--quiet`, says each failed gate on
/// stderr (a failed gate is an error; without `--quiet` the summary shows
/// every gate).
fn gate_status(summary: &crate::summary::Summary, quiet: bool) -> u8 {
    for g in summary.gates.iter().filter(|g| !g.passed && quiet) {
        eprintln!("leadsift: {}", g.message);
    }
    crate::gates::exit_status(&summary.gates).unwrap_or(EXIT_OK)
}

/// `--json`: the summary on stdout; a closed pipe ends it quietly.
fn print_json(args: &RunArgs, summary: &crate::summary::Summary) -> Result<(), Error> {
    if !args.json {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "{}", summary.to_json()).and_then(|_| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Output("<stdout>".into(), e.to_string()))
        }
        _ => Ok(()),
    }
}

/// Format, BOM, sanitising and `--stdout`, checked together.
fn output_options(args: &RunArgs) -> Result<OutputOptions, Error> {
    let format = match args.out_format {
        OutFormat::Csv => Format::Csv,
        OutFormat::Tsv => Format::Tsv,
        OutFormat::Jsonl => Format::Jsonl,
    };
    if args.bom && format == Format::Jsonl {
        return Err(Error::Usage(
            "--bom is for CSV and TSV files that Excel opens; JSON Lines never start with one"
                .into(),
        ));
    }
    let stdout = args.stdout.map(|s| match s {
        StdoutStage::Lead => Stage::Lead.index(),
        StdoutStage::Prospect => Stage::Prospect.index(),
        StdoutStage::Opportunity => Stage::Opportunity.index(),
        StdoutStage::Disqualified => Stage::Disqualified.index(),
        StdoutStage::Rejected => Stage::Rejected.index(),
        StdoutStage::Duplicates => DUPLICATES,
    });
    Ok(OutputOptions {
        format,
        // JSON Lines are read by programs, not spreadsheets: cells go as
        // read.
        sanitize: !args.no_sanitize && format != Format::Jsonl,
        bom: args.bom,
        stdout,
        dry_run: args.dry_run,
        no_sync: args.no_sync,
    })
}

/// `--as-of`, checked; today without it.
pub fn as_of(arg: Option<&str>) -> Result<jiff::civil::Date, Error> {
    match arg {
        Some(d) => d
            .trim()
            .parse::<jiff::civil::Date>()
            .map_err(|e| Error::Usage(format!("--as-of {d}: not a date like 2026-11-23 ({e})"))),
        None => Ok(jiff::ZonedDateTime::now().date()),
    }
}

/// `run`'s reading options.
fn read_options(args: &RunArgs) -> Result<ReadOptions, Error> {
    let limits = Limits {
        max_field: args.max_field_bytes,
        max_record: args.max_record_bytes,
        max_quoted_lines: args.max_quoted_lines,
    };
    let (encoding, delimiter) = (args.encoding.as_deref(), args.delimiter.as_deref());
    checked_read_options(encoding, delimiter, args.sheet.clone(), limits)
}

/// The largest `--max-record-bytes`.
const MAX_RECORD_LIMIT: usize = 1 << 30;

/// The reading options, checked: an unknown encoding or a delimiter that
/// cannot be one is a usage error before anything is read.
pub fn checked_read_options(
    encoding: Option<&str>,
    delimiter: Option<&str>,
    sheet: Option<String>,
    limits: Limits,
) -> Result<ReadOptions, Error> {
    let encoding = match encoding {
        None => None,
        Some(name) => Some(encoding_rs::Encoding::for_label(name.trim().as_bytes()).ok_or_else(|| {
            Error::Usage(format!(
                "--encoding {name}: unknown encoding; try utf-8, windows-1252, latin1, utf-16le, utf-16be, iso-8859-15, shift_jis"
            ))
        })?),
    };
    let delimiter = match delimiter {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(d) if d.len() == 1 && d != "\"" && d != "\n" && d != "\r" => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(Error::Usage(format!(
                "--delimiter {d:?}: give one ASCII character such as `,` `;` `|`, or `tab`"
            )))
        }
    };
    if limits.max_field == 0 || limits.max_record == 0 || limits.max_quoted_lines == 0 {
        return Err(Error::Usage(
            "--max-field-bytes, --max-record-bytes and --max-quoted-lines must be above 0".into(),
        ));
    }
    // A record's fields are spans of at most twice its bytes, held as u32.
    if limits.max_record > MAX_RECORD_LIMIT {
        return Err(Error::Usage(format!(
            "--max-record-bytes {}: the largest allowed is {MAX_RECORD_LIMIT} (1 GiB)",
            limits.max_record
        )));
    }
    Ok(ReadOptions {
        encoding,
        delimiter,
        sheet,
        limits,
    })
}
