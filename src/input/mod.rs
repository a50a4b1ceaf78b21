//! Input: opening the files (or standard input), reading their header rows
//! and binding the fields the rules read to columns of each file.
//!
//! Records are read as bytes (`ByteRecord`) so that no row, however broken,
//! stops the run: checking UTF-8 and the field count is the pipeline's job,
//! and a bad row becomes a rejected row.

pub mod aliases;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::rules::Compiled;

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

pub type CsvReader = csv::Reader<Box<dyn Read + Send>>;

/// An opened input whose header row has been read.
pub struct Opened {
    pub source: Source,
    pub reader: CsvReader,
    pub headers: Vec<String>,
    /// For each field slot of the rules, the column it reads, if any.
    pub binding: Vec<Option<usize>>,
}

/// Opens an input and reads its header row.
pub fn open(source: Source, rules: &Compiled) -> Result<Opened, Error> {
    let raw: Box<dyn Read + Send> = match &source.path {
        None => Box::new(io::stdin()),
        Some(p) => {
            if p.is_dir() {
                return Err(Error::Input(
                    source.name.clone(),
                    "is a directory, not a CSV file".into(),
                ));
            }
            let f = File::open(p)
                .map_err(|e| Error::Input(source.name.clone(), format!("cannot open: {e}")))?;
            Box::new(f)
        }
    };
    let mut buffered = BufReader::with_capacity(1 << 20, raw);
    skip_bom(&mut buffered)
        .map_err(|e| Error::Input(source.name.clone(), format!("cannot read: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(Box::new(buffered) as Box<dyn Read + Send>);
    let mut header = csv::ByteRecord::new();
    let got = reader.read_byte_record(&mut header).map_err(|e| {
        Error::Input(
            source.name.clone(),
            format!("cannot read the header row: {e}"),
        )
    })?;
    if !got {
        return Err(Error::Input(
            source.name.clone(),
            "is empty: no header row".into(),
        ));
    }
    let headers: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let binding = bind(&headers, rules);
    Ok(Opened {
        source,
        reader,
        headers,
        binding,
    })
}

fn skip_bom<R: Read>(r: &mut BufReader<R>) -> io::Result<()> {
    let buf = r.fill_buf()?;
    if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        r.consume(3);
    }
    Ok(())
}

/// For each field slot, the column it reads: a backtick column by its exact
/// header first; then, alias by alias in order, the first header (left to
/// right) whose normalised form equals the alias.
pub fn bind(headers: &[String], rules: &Compiled) -> Vec<Option<usize>> {
    let norm: Vec<String> = headers.iter().map(|h| aliases::normalise(h)).collect();
    rules
        .slots
        .iter()
        .map(|slot| {
            if let Some(exact) = &slot.exact {
                if let Some(i) = headers.iter().position(|h| h.trim() == exact.trim()) {
                    return Some(i);
                }
            }
            slot.aliases
                .iter()
                .find_map(|a| norm.iter().position(|h| h == a))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{compile, Origin};

    #[test]
    fn fields_bind_through_aliases_and_backticks() {
        let rules = compile(
            Origin::Builtin,
            "[fields]\nvisits = [\"Page Views\"]\n[[rule]]\nid = \"a\"\nwhen = 'email is present and company_size > 5 and visits > 1 and `Lead Score` > 2'\nfit = 1\n",
        )
        .unwrap();
        let headers: Vec<String> = ["Lead Score", "No. of Employees", "E-Mail", "page_views"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let b = bind(&headers, &rules);
        let by_label = |l: &str| b[rules.slots.iter().position(|s| s.label == l).unwrap()];
        assert_eq!(by_label("email"), Some(2));
        assert_eq!(by_label("company_size"), Some(1));
        assert_eq!(by_label("visits"), Some(3));
        assert_eq!(by_label("`Lead Score`"), Some(0));
    }
}
