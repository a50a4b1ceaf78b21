//! Input: opening a file (or standard input) as it comes, whatever its
//! encoding, dialect or format, and binding the fields the rules read to
//! its columns.
//!
//! Opening settles, in order: workbook or text (by extension and content;
//! any other binary file is an error naming it); the text encoding
//! ([`decode`]); the delimiter and the title lines above the header
//! ([`sniff`]); then the header row. Everything found is kept in
//! [`FileInfo`] for the summary. Records are read as bytes by
//! [`reader::CsvReader`] or [`workbook::SheetReader`]: no row, however
//! broken, stops the run; a bad row becomes a rejected row.

pub mod aliases;
pub mod bind;
pub mod decode;
pub mod reader;
pub mod record;
pub mod sniff;
pub mod workbook;

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, UTF_8};

pub use bind::{bind, Binding, Bound};
pub use reader::Limits;
pub use record::{Record, RecordSource, RejectKind, RAW_LIMIT};

use crate::error::Error;
use crate::rules::Compiled;

/// How much of a text input is looked at to settle its encoding and dialect.
const SAMPLE: usize = 64 * 1024;

/// One input as named on the command line.
#[derive(Debug, Clone)]
pub struct Source {
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    /// How outputs and messages name it.
    pub name: String,
    /// Size in bytes, when known (for the progress bar).
    pub size: Option<u64>,
}

impl Source {
    pub fn new(arg: &Path) -> Source {
        if arg.as_os_str() == "-" {
            return Source {
                path: None,
                name: "<stdin>".into(),
                size: None,
            };
        }
        let size = std::fs::metadata(arg)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        Source {
            path: Some(arg.to_path_buf()),
            name: arg.display().to_string(),
            size,
        }
    }
}

/// What the user said about reading inputs; `None` means detect.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub encoding: Option<&'static Encoding>,
    pub delimiter: Option<u8>,
    pub sheet: Option<String>,
    pub limits: Limits,
}

/// What was found about an input, for the summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileInfo {
    /// `csv`, or the workbook kind (`xlsx`, `xls`, `ods`, ...).
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// `byte-order mark`, `detected` or `option`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_source: Option<&'static str>,
    /// Whether the encoding was guessed from the content.
    pub encoding_guessed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub delimiter_guessed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_endings: Option<&'static str>,
    /// Title records above the header row, skipped.
    pub preamble_lines: u64,
    /// Line (or sheet row) of the header.
    pub header_line: u64,
    /// Blank lines skipped; filled in at the end of the run.
    pub blank_lines: u64,
    /// The export the headers look like (`salesforce-api`, `hubspot`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<&'static str>,
    /// Duplicate and empty header names.
    pub header_problems: Vec<String>,
    /// For a file whose sample was all ASCII: the encoding its first
    /// non-ASCII byte settled, once read (see [`decode::LateDetect`]).
    #[serde(skip)]
    pub late_encoding: Option<std::sync::Arc<std::sync::OnceLock<&'static Encoding>>>,
}

impl FileInfo {
    /// One line for people: `csv, windows-1252 (guessed), delimiter ;
    /// (guessed), crlf, 1 title line, 2 blank lines, hubspot export`.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.format.clone()];
        if let Some(sheet) = &self.sheet {
            parts.push(format!("sheet `{sheet}`"));
        }
        if let Some(e) = &self.encoding {
            let how = if self.encoding_guessed {
                " (guessed)"
            } else {
                ""
            };
            parts.push(format!("{e}{how}"));
        }
        if let Some(d) = &self.delimiter {
            let how = if self.delimiter_guessed {
                " (guessed)"
            } else {
                ""
            };
            parts.push(format!("delimiter {d}{how}"));
        }
        if let Some(l) = self.line_endings {
            parts.push(l.to_string());
        }
        let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        if self.preamble_lines > 0 {
            parts.push(plural(self.preamble_lines, "title line") + " skipped");
        }
        if self.blank_lines > 0 {
            parts.push(plural(self.blank_lines, "blank line"));
        }
        if let Some(p) = self.profile {
            parts.push(format!("{p} export"));
        }
        parts.join(", ")
    }
}

/// An opened input whose header row has been read.
pub struct Opened {
    pub source: Source,
    pub records: Box<dyn RecordSource>,
    pub headers: Vec<String>,
    pub binding: Binding,
    pub info: FileInfo,
}

fn input_err(source: &Source, msg: impl Into<String>) -> Error {
    Error::Input(source.name.clone(), msg.into())
}

/// Opens an input, settles its format, encoding and dialect, and reads its
/// header row.
pub fn open(source: Source, rules: &Compiled, opts: &ReadOptions) -> Result<Opened, Error> {
    let mut raw: Box<dyn Read + Send> = match &source.path {
        None => Box::new(io::stdin()),
        Some(p) => {
            if p.is_dir() {
                return Err(input_err(&source, "is a directory, not a CSV file"));
            }
            let f = File::open(p).map_err(|e| input_err(&source, format!("cannot open: {e}")))?;
            Box::new(f)
        }
    };
    let mut head = vec![0; SAMPLE];
    let n = decode::read_full(&mut raw, &mut head)
        .map_err(|e| input_err(&source, format!("cannot read: {e}")))?;
    head.truncate(n);
    let complete = n < SAMPLE;
    let ext = source
        .path
        .as_deref()
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let by_ext = ext
        .as_deref()
        .is_some_and(|e| workbook::EXTENSIONS.contains(&e));
    if by_ext || workbook::has_workbook_magic(&head) {
        return open_workbook(source, head, raw, ext, opts, rules);
    }
    let (records, mut info) = open_text(&source, head, raw, complete, opts)?;
    finish(source, records, &mut info, rules).map(|(s, r, h, b)| Opened {
        source: s,
        records: r,
        headers: h,
        binding: b,
        info,
    })
}

/// Refuses what is clearly not text, with what it looks like.
fn refuse_binary(source: &Source, head: &[u8], encoding: &'static Encoding) -> Result<(), Error> {
    let kind = if head.starts_with(&[0x1F, 0x8B]) {
        "a gzip-compressed file: decompress it first (gunzip)"
    } else if head.starts_with(b"%PDF") {
        "a PDF document"
    } else if decode::looks_binary(head, encoding) {
        "binary data (it holds NUL bytes)"
    } else {
        return Ok(());
    };
    Err(input_err(
        source,
        format!("is not a CSV file or a workbook: it looks like {kind}"),
    ))
}

fn open_text(
    source: &Source,
    head: Vec<u8>,
    rest: Box<dyn Read + Send>,
    complete: bool,
    opts: &ReadOptions,
) -> Result<(Box<dyn RecordSource>, FileInfo), Error> {
    let det = decode::detect(&head, opts.encoding, complete);
    refuse_binary(source, &head, det.encoding)?;
    let body = &head[det.bom_len..];
    let all_ascii = body.is_ascii();
    let text = decode::decode_sample(body, det.encoding);
    let sample = text.as_bytes();
    let (delimiter, delimiter_guessed) = match opts.delimiter {
        Some(d) => (d, false),
        None => (sniff::delimiter(sample, complete), true),
    };
    let mut info = FileInfo {
        format: "csv".into(),
        encoding: Some(det.encoding.name().to_string()),
        encoding_source: Some(det.source.name()),
        encoding_guessed: det.source == decode::EncodingSource::Detected,
        delimiter: Some(sniff::delimiter_name(delimiter)),
        delimiter_guessed,
        line_endings: Some(sniff::line_endings(sample)),
        preamble_lines: sniff::csv_preamble(sample, delimiter, complete) as u64,
        ..FileInfo::default()
    };
    let mut after_bom = Cursor::new(head);
    after_bom.set_position(det.bom_len as u64);
    let stream: Box<dyn Read + Send> = Box::new(after_bom.chain(rest));
    let text_stream: Box<dyn Read + Send> = if det.encoding == UTF_8
        && det.source == decode::EncodingSource::Detected
        && all_ascii
        && !complete
    {
        let found = std::sync::Arc::new(std::sync::OnceLock::new());
        info.late_encoding = Some(found.clone());
        Box::new(decode::LateDetect::new(stream, found))
    } else if det.encoding == UTF_8 {
        stream
    } else {
        Box::new(decode::Transcode::new(stream, det.encoding))
    };
    let reader = reader::CsvReader::new(text_stream, delimiter, opts.limits);
    Ok((Box::new(reader), info))
}

fn open_workbook(
    source: Source,
    head: Vec<u8>,
    mut rest: Box<dyn Read + Send>,
    ext: Option<String>,
    opts: &ReadOptions,
    rules: &Compiled,
) -> Result<Opened, Error> {
    let bytes = if source.path.is_none() {
        let mut all = head;
        rest.read_to_end(&mut all)
            .map_err(|e| input_err(&source, format!("cannot read: {e}")))?;
        all
    } else {
        drop(head);
        Vec::new()
    };
    let (mut sheet, name) = workbook::open(source.path.as_deref(), bytes, opts.sheet.as_deref())
        .map_err(|e| input_err(&source, e))?;
    // Title rows above the header are found the same way as in CSV text.
    let mut shapes = Vec::new();
    let mut rec = Record::default();
    let mut peeked = Vec::new();
    while shapes.len() <= sniff::MAX_PREAMBLE + 10 {
        match sheet.next_record(&mut rec) {
            Ok(true) => {
                let non_empty = rec.iter().filter(|f| !f.trim_ascii().is_empty()).count();
                shapes.push((rec.len(), non_empty));
                peeked.push(rec.clone());
            }
            _ => break,
        }
    }
    let mut info = FileInfo {
        format: ext.unwrap_or_else(|| "xlsx".into()),
        sheet: Some(name),
        preamble_lines: sniff::preamble(&shapes) as u64,
        ..FileInfo::default()
    };
    let replay: Box<dyn RecordSource> = Box::new(Replay {
        queued: peeked.into(),
        inner: Box::new(sheet),
    });
    let (s, r, h, b) = finish(source, replay, &mut info, rules)?;
    Ok(Opened {
        source: s,
        records: r,
        headers: h,
        binding: b,
        info,
    })
}

type Finished = (Source, Box<dyn RecordSource>, Vec<String>, Binding);

/// Skips the preamble, reads the header row and binds the fields.
fn finish(
    source: Source,
    mut records: Box<dyn RecordSource>,
    info: &mut FileInfo,
    rules: &Compiled,
) -> Result<Finished, Error> {
    let mut header = Record::default();
    for _ in 0..=info.preamble_lines {
        let got = records
            .next_record(&mut header)
            .map_err(|e| input_err(&source, format!("cannot read the header row: {e}")))?;
        if !got {
            return Err(input_err(&source, "is empty: no header row"));
        }
    }
    if header.problem.is_some() {
        return Err(input_err(
            &source,
            format!(
                "line {}: the header row cannot be read: {}",
                header.line, header.message
            ),
        ));
    }
    info.header_line = header.line;
    let mut headers: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    if let Some(first) = headers.first_mut() {
        // A second byte-order mark, as some tools write after re-saving.
        *first = first.trim_start_matches('\u{feff}').to_string();
    }
    if info.format != "csv" {
        // A sheet's used range can be wider than its header row.
        while headers.len() > 1 && headers.last().is_some_and(|h| h.trim().is_empty()) {
            headers.pop();
        }
    }
    records.set_width(headers.len());
    info.header_problems = bind::header_problems(&headers);
    info.profile = aliases::detect_profile(&headers);
    let binding = bind(&headers, rules);
    bind::check_required(&binding, &headers, rules).map_err(|m| input_err(&source, m))?;
    Ok((source, records, headers, binding))
}

/// Serves records read ahead (for sniffing) before the rest.
struct Replay {
    queued: std::collections::VecDeque<Record>,
    inner: Box<dyn RecordSource>,
}

impl RecordSource for Replay {
    fn next_record(&mut self, rec: &mut Record) -> io::Result<bool> {
        match self.queued.pop_front() {
            Some(r) => {
                *rec = r;
                Ok(true)
            }
            None => self.inner.next_record(rec),
        }
    }
    fn position(&self) -> u64 {
        self.inner.position()
    }
    fn blank_lines(&self) -> u64 {
        self.inner.blank_lines()
    }
    fn set_width(&mut self, width: usize) {
        for r in &mut self.queued {
            workbook::fit_width(r, width);
        }
        self.inner.set_width(width);
    }
}
