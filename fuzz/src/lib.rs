//! What the fuzz targets share: running bytes through the real pipeline
//! (opening, sniffing, decoding, reading, binding, qualifying, writing)
//! and checking that no row was lost or counted twice.
//!
//! Each input is written to a fresh temporary directory (in `/dev/shm`
//! where there is one, so the `fsync` of every committed output costs
//! nothing) and removed again, so a long fuzz run leaves nothing behind.
//! Errors are fine (an empty file, binary data, no email or phone column);
//! panics and unbalanced counts are not.

use std::path::{Path, PathBuf};

use leadsift::input::{Limits, ReadOptions, Record, Source, RAW_LIMIT};
use leadsift::pipeline::{self, RunConfig};
use leadsift::rules::{Compiled, Stage};

/// How a fuzz input is run: the command-line options it stands for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub read: ReadOptions,
    pub sanitize: bool,
    pub pad_short: bool,
    pub keep_long: bool,
}

impl Options {
    /// `leadsift run` with no options.
    pub fn defaults() -> Options {
        Options {
            sanitize: true,
            ..Options::default()
        }
    }

    /// Options drawn from the bits of one byte: tiny size limits (so that
    /// short inputs reach the field, record and quoted-line limits), a
    /// given delimiter or encoding, `--short-rows pad`, `--long-rows keep`
    /// and `--no-sanitize`.
    pub fn from_flags(flags: u8) -> Options {
        let limits = if flags & 1 != 0 {
            Limits {
                max_field: 8,
                max_record: 32,
                max_quoted_lines: 2,
            }
        } else {
            Limits::default()
        };
        let delimiter = [None, Some(b','), Some(b';'), Some(b'\t')][usize::from(flags >> 4 & 3)];
        let encoding = [
            None,
            Some(encoding_rs::UTF_8),
            Some(encoding_rs::WINDOWS_1252),
            Some(encoding_rs::UTF_16LE),
        ][usize::from(flags >> 6)];
        Options {
            read: ReadOptions {
                encoding,
                delimiter,
                sheet: None,
                limits,
            },
            pad_short: flags & 2 != 0,
            keep_long: flags & 4 != 0,
            sanitize: flags & 8 == 0,
        }
    }
}

/// A scratch directory holding `bytes` as `input.csv`.
fn scratch_input(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("leadsift-fuzz-")
        .tempdir_in(scratch_root())
        .expect("a scratch directory");
    let input = dir.path().join("input.csv");
    std::fs::write(&input, bytes).expect("write the fuzz input");
    (dir, input)
}

/// Opens `bytes` as an input and reads every record, checking what the
/// reader promises: records start on ever later lines, a rejected record
/// has no fields and keeps at most [`RAW_LIMIT`] bytes of raw text.
pub fn read_and_check(rules: &Compiled, bytes: &[u8], opts: &Options) {
    let (_dir, input) = scratch_input(bytes);
    let Ok(mut opened) = leadsift::input::open(Source::new(&input), rules, &opts.read) else {
        return;
    };
    let mut rec = Record::default();
    let mut last = opened.info.header_line;
    while let Ok(true) = opened.records.next_record(&mut rec) {
        assert!(
            rec.line > last,
            "a record on line {} after one on line {last}",
            rec.line
        );
        last = rec.line;
        if rec.problem.is_some() {
            assert_eq!(rec.fields, 0, "a rejected record with fields");
            assert!(
                rec.raw.len() <= RAW_LIMIT,
                "raw text of {} bytes",
                rec.raw.len()
            );
        }
    }
}

fn scratch_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Runs `bytes`, as the file `input.csv`, through `leadsift run` with
/// `rules` and `opts`, and checks that every row read is in exactly one
/// output file: `rows_in` equals the sum of the stage counts and of the
/// per-file rows, and each stage file holds as many records as its count.
pub fn run_and_check(rules: &Compiled, bytes: &[u8], opts: &Options) {
    let (dir, input) = scratch_input(bytes);
    let out = dir.path().join("out");
    let cfg = RunConfig {
        inputs: vec![Source::new(&input)],
        out_dir: &out,
        jobs: 1,
        progress: false,
        sanitize: opts.sanitize,
        read: opts.read.clone(),
        pad_short: opts.pad_short,
        keep_long: opts.keep_long,
    };
    let Ok((summary, files)) = pipeline::run(rules, cfg) else {
        return;
    };
    let stages = summary.stages.total();
    assert_eq!(
        summary.rows_in, stages,
        "rows_in against the sum of the stage counts: {:?}",
        summary.stages
    );
    let per_file: u64 = summary.files.iter().map(|f| f.rows).sum();
    assert_eq!(
        summary.rows_in, per_file,
        "rows_in against the per-file rows"
    );
    files.commit().expect("commit the stage files");
    for stage in Stage::ALL {
        let path = out.join(stage.file_name());
        let written = count_records(&path);
        assert_eq!(
            written,
            summary.stages.get(stage),
            "records in {} against its count in the summary",
            stage.file_name()
        );
    }
}

/// Records in an output file, after its header; every record must read
/// back as CSV with the header's number of fields.
fn count_records(path: &Path) -> u64 {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .expect("open an output file");
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while rdr
        .read_byte_record(&mut rec)
        .unwrap_or_else(|e| panic!("{}: record {}: {e}", path.display(), n + 1))
    {
        n += 1;
    }
    n
}
