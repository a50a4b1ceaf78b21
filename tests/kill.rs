//! Killing a large run at random moments: SIGKILL and SIGTERM in turn,
//! many times, into one output directory.
//!
//! Two inputs, A and B, are qualified once each into directories of their
//! own: these are the only complete versions the outputs can have. Then,
//! in one output directory that starts with A's outputs, each iteration
//! runs the input the summary does not hold and kills it after a seeded
//! random delay, or, every fourth time, as soon as its first output has
//! been renamed into place. After each kill:
//! - every stage file is byte for byte its previous version or the new
//!   one, never a truncated or mixed file, and a new version is a new
//!   file (inode) renamed into place, not the old one rewritten;
//! - `summary.json` (renamed last) is A's or B's, and when it is the new
//!   one, every stage file is the new one too;
//! - SIGTERM ends the run with 143 and leaves everything as it was (or the
//!   run had finished: status 0, everything new);
//! - temporary files are left only by a SIGKILL, and the next run removes
//!   them before writing its own.
//!
//! The delays are seeded, so the moments chosen are the same on every run
//! of the test; where in the run they land depends on the machine's speed,
//! which is why the delays are fractions of a measured complete run. The
//! test prints how the runs ended (`--nocapture`).

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tempfile::tempdir;

/// Rows per input: two batches of the pipeline, and about two seconds
/// for a debug build, so that twenty kills take well under a minute.
const ROWS: usize = 20_000;
const ITERATIONS: usize = 20;
const SEED: u64 = 0x1ead_5f75;
const SUMMARY: &str = "summary.json";

/// SplitMix64: a seeded sequence, so the test needs no random crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A lead export of `rows` rows; inputs from different seeds differ in
/// every output file. Some rows are rejected (no contact, a field too
/// many), some disqualified, the rest spread over the three stages.
fn export(rows: usize, seed: u64) -> Vec<u8> {
    let titles = ["CEO", "VP Sales", "Engineer", "Student", "Head of IT", ""];
    let domains = ["acme.io", "gmail.com", "mailinator.com", "northwind.de"];
    let notes = [
        "",
        "asked for pricing",
        "\"call me, next week\"",
        "\"line one\nline two\"",
    ];
    let mut rng = Rng(seed);
    let mut prev = String::new();
    let mut s = String::with_capacity(rows * 100);
    s.push_str("email,company,title,company_size,notes,demo_requested\n");
    for i in 0..rows {
        // Independent picks from the bits of one random number.
        let r = rng.next();
        let pick = |shift: u32, n: usize| ((r >> shift) % n as u64) as usize;
        let email = if pick(0, 23) == 0 {
            String::new()
        } else if i % 7 == 6 {
            // The previous row's person again, in capitals: a duplicate.
            prev.to_uppercase()
        } else {
            format!("lead{seed}x{i}@{}", domains[pick(8, domains.len())])
        };
        prev = email.clone();
        let extra = if pick(16, 101) == 0 { ",surplus" } else { "" };
        s.push_str(&format!(
            "{email},Company {i},{},{},{},{}{extra}\n",
            titles[pick(24, titles.len())],
            pick(32, 400),
            notes[pick(44, notes.len())],
            if pick(52, 3) == 0 { "yes" } else { "no" },
        ));
    }
    s.into_bytes()
}

/// The two complete versions of every output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    A,
    B,
}

impl Version {
    fn other(self) -> Version {
        match self {
            Version::A => Version::B,
            Version::B => Version::A,
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// The complete outputs of A and B: stage files as bytes, the summary as
/// JSON without what differs between any two runs (time, directory).
struct References {
    stage: [BTreeMap<&'static str, Vec<u8>>; 2],
    summary: [serde_json::Value; 2],
}

impl References {
    /// Which complete version `file` in `dir` is, if any.
    fn version_of(&self, dir: &Path, file: &str) -> Option<Version> {
        let is = |v: &Version| -> bool {
            if file == SUMMARY {
                let json = std::fs::read_to_string(dir.join(file))
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok());
                json.map(normalised).as_ref() == Some(&self.summary[v.index()])
            } else {
                std::fs::read(dir.join(file)).ok().as_ref() == Some(&self.stage[v.index()][file])
            }
        };
        [Version::A, Version::B].into_iter().find(is)
    }
}

fn inode(dir: &Path, file: &str) -> u64 {
    std::fs::metadata(dir.join(file)).expect("an output").ino()
}

fn normalised(mut summary: serde_json::Value) -> serde_json::Value {
    if let Some(o) = summary.as_object_mut() {
        o.remove("elapsed_seconds");
        o.remove("output_dir");
        o.remove("jobs");
    }
    summary
}

fn outputs() -> impl Iterator<Item = &'static str> {
    STAGE_FILES.into_iter().chain([SUMMARY])
}

fn run_args(out: &Path, input: &str, jobs: &str) -> Vec<String> {
    ["run", "--progress", "never", "--jobs", jobs, "-o"]
        .into_iter()
        .map(String::from)
        .chain([out.to_str().expect("utf-8").to_string(), input.to_string()])
        .collect()
}

/// A complete run; returns it and how long it took.
fn complete_run(out: &Path, input: &str) -> (Run, Duration) {
    let started = Instant::now();
    let args = run_args(out, input, "2");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = Run {
        out: leadsift(&args, None),
        dir: out.to_path_buf(),
    };
    let took = started.elapsed();
    assert_eq!(run.code(), 0, "{input}: {}", run.stderr());
    (run, took)
}

/// Qualifies `input` into `dir`, checks that every row is accounted for,
/// and returns the stage files and the summary.
fn reference(
    dir: &Path,
    input: &str,
) -> (BTreeMap<&'static str, Vec<u8>>, serde_json::Value, Duration) {
    let (run, took) = complete_run(dir, input);
    assert_accounted(&run, ROWS as u64);
    let stage = STAGE_FILES
        .into_iter()
        .map(|f| (f, std::fs::read(dir.join(f)).expect("reference output")))
        .collect();
    (stage, normalised(run.summary()), took)
}

/// When a run is signalled.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// This long after it started.
    After(Duration),
    /// As soon as the first output has been renamed into place, while the
    /// others are still being synced and renamed.
    Renaming,
}

/// Starts a run and signals it at `moment`: SIGKILL through the standard
/// library, SIGTERM through `kill(1)`.
fn run_and_signal(
    out: &Path,
    input: &str,
    moment: Moment,
    term: bool,
    jobs: &str,
) -> (u32, Output) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadsift"))
        .args(run_args(out, input, jobs))
        .current_dir(root())
        .env_remove("LEADSIFT_RULES")
        .env_remove("LEADSIFT_OUT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leadsift");
    let pid = child.id();
    match moment {
        Moment::After(delay) => std::thread::sleep(delay),
        Moment::Renaming => wait_for_first_rename(&mut child, out),
    }
    if term {
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
    } else {
        child.kill().expect("SIGKILL");
    }
    (pid, child.wait_with_output().expect("wait"))
}

/// Returns once the run's temporary stage files, all five present at
/// some point, are fewer than five (one was renamed), or the run ended.
fn wait_for_first_rename(child: &mut Child, out: &Path) {
    let own = format!("{}{}-", leadsift::output::TEMP_PREFIX, child.id());
    let mut all_seen = false;
    loop {
        let n = temp_files(out)
            .iter()
            .filter(|n| n.starts_with(&own))
            .count();
        if n >= STAGE_FILES.len() {
            all_seen = true;
        } else if all_seen {
            return;
        }
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// How a signalled run ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// It had finished before the signal: status 0.
    Finished,
    /// SIGTERM caught: status 143.
    Interrupted,
    /// Ended by the signal itself: SIGKILL, or SIGTERM before leadsift
    /// started catching it.
    Killed,
}

fn end_of(status: ExitStatus, term: bool, stderr: &str) -> End {
    match (status.code(), status.signal(), term) {
        (Some(0), _, _) => End::Finished,
        (Some(143), _, true) => {
            assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
            End::Interrupted
        }
        (None, Some(15), true) | (None, Some(9), false) => End::Killed,
        _ => panic!(
            "unexpected end after SIG{}: {status}; stderr: {stderr}",
            if term { "TERM" } else { "KILL" }
        ),
    }
}

#[test]
fn killed_runs_leave_each_output_old_or_new_never_partial() {
    let t = tempdir().unwrap();
    let inputs = [
        write(t.path(), "a.csv", &export(ROWS, 1)),
        write(t.path(), "b.csv", &export(ROWS, 2)),
    ];
    let (stage_a, summary_a, _) = reference(&t.path().join("ref-a"), &inputs[0]);
    let (stage_b, summary_b, full) = reference(&t.path().join("ref-b"), &inputs[1]);
    for f in STAGE_FILES {
        assert_ne!(stage_a[f], stage_b[f], "{f} must differ between A and B");
    }
    let refs = References {
        stage: [stage_a, stage_b],
        summary: [summary_a, summary_b],
    };

    let out = t.path().join("out");
    complete_run(&out, &inputs[0]);
    let mut now: BTreeMap<&str, Version> = outputs().map(|f| (f, Version::A)).collect();
    let mut inodes: BTreeMap<&str, u64> = outputs().map(|f| (f, inode(&out, f))).collect();
    for f in outputs() {
        assert_eq!(refs.version_of(&out, f), Some(Version::A), "{f}: first run");
    }

    let mut rng = Rng(SEED);
    let mut ends: BTreeMap<String, usize> = BTreeMap::new();
    let mut between_renames = 0;
    let mut left_behind = 0;
    for i in 0..ITERATIONS {
        let new = now[SUMMARY].other();
        // SIGKILL and SIGTERM in turn, at a random moment of the run;
        // every fourth run is killed while its outputs are renamed, a
        // window of milliseconds that random moments rarely hit.
        let term = i % 2 == 1;
        let moment = if i % 4 == 0 {
            Moment::Renaming
        } else {
            Moment::After(full.mul_f64(rng.unit() * 1.1))
        };
        // Every third run on one thread (which reads, evaluates and
        // writes in turn), the others on two.
        let jobs = if i % 3 == 2 { "1" } else { "2" };
        let (pid, output) = run_and_signal(&out, &inputs[new.index()], moment, term, jobs);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let end = end_of(output.status, term, &stderr);
        let what = format!(
            "iteration {i}: {} at {moment:?} of a {full:?} run with --jobs {jobs}, {end:?}",
            if term { "SIGTERM" } else { "SIGKILL" }
        );

        let mut found = BTreeMap::new();
        for f in outputs() {
            let v = refs.version_of(&out, f);
            assert!(
                v == Some(now[f]) || v == Some(new),
                "{what}: {f} is neither its previous version ({:?}) nor the new one ({new:?})",
                now[f]
            );
            found.insert(f, v.expect("checked"));
            // A new version must be a new file renamed into place: one
            // rewritten in place could have been seen, or left, half done
            // by a kill a few microseconds off.
            let ino = inode(&out, f);
            if found[f] != now[f] {
                assert_ne!(ino, inodes[f], "{what}: {f} was rewritten in place");
            }
            inodes.insert(f, ino);
        }
        let all = |v: Version| found.values().all(|&x| x == v);
        match end {
            End::Finished => assert!(all(new), "{what}: a finished run left {found:?}"),
            End::Interrupted => assert!(found == now, "{what}: SIGTERM changed {found:?}"),
            End::Killed if term => {
                assert!(found == now, "{what}: an early SIGTERM changed {found:?}")
            }
            End::Killed => {}
        }
        if found[SUMMARY] == new {
            assert!(all(new), "{what}: the new summary.json beside {found:?}");
        }
        if found[SUMMARY] == now[SUMMARY] && found != now {
            between_renames += 1;
        }

        let temps = temp_files(&out);
        if end != End::Killed {
            assert!(temps.is_empty(), "{what}: temporary files {temps:?}");
        }
        let own = format!("{}{pid}-", leadsift::output::TEMP_PREFIX);
        if temps.iter().any(|n| n.starts_with(&own)) {
            // This run got as far as writing, so it first removed what the
            // runs before it left.
            let older: Vec<_> = temps.iter().filter(|n| !n.starts_with(&own)).collect();
            assert!(older.is_empty(), "{what}: not removed: {older:?}");
            left_behind = left_behind.max(temps.len());
        }
        *ends.entry(format!("{end:?}")).or_default() += 1;
        now = found;
    }

    // A run to the end after the last kill: it removes what is left and
    // brings every output to one version.
    let leftover = temp_files(&out).len();
    let last = now[SUMMARY].other();
    let (run, _) = complete_run(&out, &inputs[last.index()]);
    let stderr = run.stderr();
    assert_eq!(temp_files(&out), Vec::<String>::new());
    if leftover > 0 {
        let said = format!("removed {leftover} temporary file(s)");
        assert!(stderr.contains(&said), "{stderr}");
    }
    for f in outputs() {
        assert_eq!(refs.version_of(&out, f), Some(last), "{f}: last run");
    }
    eprintln!(
        "{ITERATIONS} kills of a {full:?} run: {ends:?}; {between_renames} killed between two renames \
         (some stage files new, the summary old); a SIGKILL left up to {left_behind} temporary files"
    );
    // The kills must have hit runs in the middle, or nothing was tested.
    assert!(ends.get("Killed").is_some_and(|&n| n > 0), "{ends:?}");
    assert!(ends.get("Interrupted").is_some_and(|&n| n > 0), "{ends:?}");
    assert!(left_behind > 0, "no SIGKILL left a temporary file");
}
