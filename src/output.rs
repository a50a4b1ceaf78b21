//! Output files: the column layout, spreadsheet-safe cells, and files that
//! appear whole or not at all.
//!
//! Every output is written to a temporary file in the output directory and
//! renamed over its target only after a checked flush and sync, so a run
//! that fails leaves the previous outputs as they were. `summary.json` is
//! renamed last: its presence with a new timestamp marks a complete run.

use std::borrow::Cow;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::Error;
use crate::rules::{Compiled, Stage};

/// Prefix of temporary files in the output directory.
pub const TEMP_PREFIX: &str = ".leadsift-tmp-";

/// How many times a rename over a target is tried, 200 ms apart.
const RENAME_TRIES: u32 = 5;

/// A file written under a temporary name and renamed into place on commit.
pub struct AtomicFile {
    target: PathBuf,
    out: BufWriter<NamedTempFile>,
}

impl AtomicFile {
    pub fn create(dir: &Path, name: &str) -> Result<AtomicFile, Error> {
        let target = dir.join(name);
        let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
        let suffix = format!("-{name}");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(&suffix);
        // Temporary files are private (0600) by default, and the rename
        // would keep that: outputs are made as any new file is (0666 less
        // the umask), so that a CRM import running as another user can
        // read them.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(dir).map_err(|e| {
            Error::Output(
                target.display().to_string(),
                format!("cannot create a temporary file: {e}"),
            )
        })?;
        Ok(AtomicFile {
            target,
            out: BufWriter::with_capacity(1 << 20, tmp),
        })
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.out.write_all(bytes).map_err(|e| self.error(e))
    }

    /// Flushes, syncs and renames over the target.
    pub fn commit(self) -> Result<(), Error> {
        let target = self.target.clone();
        let err = |e: std::io::Error| {
            Error::Output(target.display().to_string(), format!("cannot write: {e}"))
        };
        let mut tmp = self.out.into_inner().map_err(|e| err(e.into_error()))?;
        tmp.as_file().sync_all().map_err(err)?;
        // A target another program holds open cannot be replaced on some
        // systems: retry briefly, then fail naming it. The old file is never
        // deleted first, and the temporary one goes when `tmp` is dropped.
        let mut attempt = 1;
        loop {
            match tmp.persist(&target) {
                Ok(_) => return Ok(()),
                Err(e) if attempt == RENAME_TRIES => {
                    return Err(Error::Output(
                        target.display().to_string(),
                        format!(
                            "cannot replace it (is it open in another program?): {}",
                            e.error
                        ),
                    ))
                }
                Err(e) => {
                    tmp = e.file;
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            }
        }
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::Output(
            self.target.display().to_string(),
            format!("cannot write: {e}"),
        )
    }
}

/// Removes the temporary files that a run killed outright (SIGKILL, a power
/// cut) left in `dir`: those whose process is gone. Temporary names carry
/// the writing process's id (`.leadsift-tmp-<pid>-...`); where processes
/// cannot be looked up (no `/proc`), a file older than a day counts as
/// left behind. Returns how many were removed.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let own = std::process::id();
    let proc_fs = Path::new("/proc/self").exists();
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let stale = match pid {
            Some(p) if p == own => false,
            Some(p) if proc_fs => !Path::new("/proc").join(p.to_string()).exists(),
            _ => e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 24 * 3600),
        };
        if stale && fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Prefixes a cell that a spreadsheet would run as a formula with `'`
/// (OWASP's advice): one that starts, after leading spaces, with `=`, `+`,
/// `-`, `@`, tab, carriage return or line feed, unless the whole value is a
/// plain decimal number such as `-12.5`.
pub fn sanitize(value: &[u8]) -> Cow<'_, [u8]> {
    let first = value.iter().position(|&b| b != b' ');
    let risky = matches!(
        first.map(|i| value[i]),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n')
    );
    if !risky || is_plain_number(value) {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len() + 1);
    out.push(b'\'');
    out.extend_from_slice(value);
    Cow::Owned(out)
}

fn is_plain_number(v: &[u8]) -> bool {
    let s = match std::str::from_utf8(v) {
        Ok(s) => s.trim(),
        Err(_) => return false,
    };
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// The columns of the output files: every input column (the union over all
/// inputs, in order of first appearance), then leadsift's own.
#[derive(Debug, Clone)]
pub struct Layout {
    pub input: Vec<String>,
    pub stage_extra: Vec<String>,
    pub rejected_extra: Vec<String>,
    pub duplicate_extra: Vec<String>,
}

/// The file dropped duplicates go to.
pub const DUPLICATES_FILE: &str = "duplicates.csv";
/// Index of the duplicates file among the run's outputs (after the five
/// stage files).
pub const DUPLICATES: usize = 5;

impl Layout {
    /// `extra`: stage files get a column for the extra fields of rows
    /// kept with `--long-rows keep`.
    /// `state`: stage files get the change since the last run.
    pub fn new(input: Vec<String>, rules: &Compiled, extra: bool, state: bool) -> Layout {
        let mut taken: std::collections::HashSet<String> = input.iter().cloned().collect();
        let mut name = |base: &str| {
            let mut n = format!("leadsift_{base}");
            let mut k = 2;
            while taken.contains(&n) {
                n = format!("leadsift_{base}_{k}");
                k += 1;
            }
            taken.insert(n.clone());
            n
        };
        let mut stage_extra = vec![name("stage")];
        for g in &rules.groups {
            stage_extra.push(name(&g.name));
        }
        for base in ["bant", "reasons", "file", "line", "row"] {
            stage_extra.push(name(base));
        }
        let n = stage_extra.len();
        let rejected_extra = vec![
            stage_extra[0].clone(),
            name("reject_kind"),
            name("reject_reason"),
            stage_extra[n - 3].clone(),
            stage_extra[n - 2].clone(),
            stage_extra[n - 1].clone(),
            name("raw"),
        ];
        let duplicate_extra = vec![
            stage_extra[0].clone(),
            name("match"),
            name("key"),
            name("kept_file"),
            name("kept_line"),
            name("kept_row"),
            stage_extra[n - 4].clone(),
            stage_extra[n - 3].clone(),
            stage_extra[n - 2].clone(),
            stage_extra[n - 1].clone(),
        ];
        if extra {
            stage_extra.push(name("extra"));
        }
        if state {
            stage_extra.push(name("change"));
            stage_extra.push(name("previous_stage"));
            stage_extra.push(name("first_seen"));
        }
        Layout {
            input,
            stage_extra,
            rejected_extra,
            duplicate_extra,
        }
    }

    /// The header of output `i`: a stage file, or [`DUPLICATES`].
    pub fn header(&self, i: usize) -> Vec<&str> {
        let extra = if i == DUPLICATES {
            &self.duplicate_extra
        } else if i == Stage::Rejected.index() {
            &self.rejected_extra
        } else {
            &self.stage_extra
        };
        self.input.iter().chain(extra).map(String::as_str).collect()
    }
}

/// The names of a run's data files: the five stage files, then
/// duplicates.csv.
pub fn output_names() -> [&'static str; 6] {
    let s = Stage::ALL.map(|s| s.file_name());
    [s[0], s[1], s[2], s[3], s[4], DUPLICATES_FILE]
}

/// The five stage files of one run and the duplicates file.
pub struct StageFiles {
    pub files: Vec<AtomicFile>,
}

impl StageFiles {
    pub fn create(dir: &Path, layout: &Layout, sanitize_cells: bool) -> Result<StageFiles, Error> {
        fs::create_dir_all(dir).map_err(|e| {
            Error::Output(
                dir.display().to_string(),
                format!("cannot create the output directory: {e}"),
            )
        })?;
        let mut files = Vec::new();
        for (i, file_name) in output_names().into_iter().enumerate() {
            let mut f = AtomicFile::create(dir, file_name)?;
            let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
            for h in layout.header(i) {
                let cell = if sanitize_cells {
                    sanitize(h.as_bytes())
                } else {
                    Cow::Borrowed(h.as_bytes())
                };
                w.write_field(cell)
                    .map_err(|e| Error::Output(file_name.into(), e.to_string()))?;
            }
            w.write_record(None::<&[u8]>)
                .map_err(|e| Error::Output(file_name.into(), e.to_string()))?;
            let bytes = w
                .into_inner()
                .map_err(|e| Error::Output(file_name.into(), e.to_string()))?;
            f.write_all(&bytes)?;
            files.push(f);
        }
        Ok(StageFiles { files })
    }

    pub fn commit(self) -> Result<(), Error> {
        for f in self.files {
            f.commit()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        String::from_utf8(sanitize(v.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn formulas_are_defused_numbers_are_not() {
        assert_eq!(s("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(s("  @SUM(A1)"), "'  @SUM(A1)");
        assert_eq!(s("+49 30 1234567"), "'+49 30 1234567");
        assert_eq!(s("-12.5"), "-12.5");
        assert_eq!(s("+12"), "+12");
        assert_eq!(s("\tx"), "'\tx");
        assert_eq!(s("Acme"), "Acme");
        assert_eq!(s(""), "");
        assert_eq!(s("-"), "'-");
    }

    #[test]
    fn sanitising_twice_changes_nothing_more() {
        for v in ["=1+1", "@x", "-", "+1 (555)", "plain"] {
            assert_eq!(s(&s(v)), s(v));
        }
    }
}
