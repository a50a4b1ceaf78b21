//! Running the real binary on fixture files and reading what it wrote.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Every data file of a run: the five stage files, then the duplicates.
pub const STAGE_FILES: [&str; 6] = [
    "leads.csv",
    "prospects.csv",
    "opportunities.csv",
    "disqualified.csv",
    "rejected.csv",
    "duplicates.csv",
];

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Run {
    pub out: Output,
    pub dir: PathBuf,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    /// Rows of one output file as header -> value maps.
    pub fn rows(&self, file: &str) -> Vec<BTreeMap<String, String>> {
        read_rows(&self.dir.join(file))
    }
    /// The value of `column` in every row of `file`.
    pub fn column(&self, file: &str, column: &str) -> Vec<String> {
        self.rows(file)
            .into_iter()
            .map(|r| r.get(column).cloned().unwrap_or_default())
            .collect()
    }
    pub fn summary(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.dir.join("summary.json")).expect("summary.json");
        serde_json::from_str(&text).expect("summary.json is JSON")
    }
}

pub fn read_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = rdr.headers().expect("header").clone();
    rdr.records()
        .map(|r| {
            headers
                .iter()
                .map(String::from)
                .zip(r.expect("record").iter().map(String::from))
                .collect()
        })
        .collect()
}

pub fn leadsift(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leadsift"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("LEADSIFT_RULES")
        .env_remove("LEADSIFT_OUT")
        .env_remove("LEADSIFT_STATE");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn leadsift");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(bytes).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

/// `leadsift run -o <tmp> <args...>`; the temp dir lives as long as the
/// returned guard.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    run_stdin(dir, args, None)
}

pub fn run_stdin(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let d = dir.to_str().expect("utf-8 path");
    let mut all = vec!["run", "--progress", "never", "-o", d];
    all.extend_from_slice(args);
    Run {
        out: leadsift(&all, stdin),
        dir: dir.to_path_buf(),
    }
}

/// The sum of the stage counts in summary.json must equal rows_in.
pub fn assert_accounted(run: &Run, expected_rows: u64) {
    let s = run.summary();
    let stages = &s["stages"];
    let sum: u64 = [
        "lead",
        "prospect",
        "opportunity",
        "disqualified",
        "rejected",
    ]
    .iter()
    .map(|k| stages[k].as_u64().unwrap())
    .sum::<u64>()
        + s["duplicates"].as_u64().unwrap();
    assert_eq!(s["rows_in"].as_u64(), Some(expected_rows), "rows_in");
    assert_eq!(
        sum, expected_rows,
        "stage counts and duplicates add up to rows_in"
    );
    let written: usize = STAGE_FILES.iter().map(|f| run.rows(f).len()).sum();
    assert_eq!(
        written as u64, expected_rows,
        "rows written over the five stage files and duplicates.csv"
    );
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.to_str().expect("utf-8").to_string()
}

/// Names of the temporary files (`.leadsift-tmp-*`) in `dir`, sorted.
pub fn temp_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(".leadsift-tmp-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
