//! The reports a person reads: `summary.md` and the summary on stderr as
//! snapshots of a real run on the samples, and `summary.html` read with
//! an XML parser, checked against `summary.json`, and opened in headless
//! Chromium.
//!
//! Snapshots live in `tests/snapshots/`; after a deliberate change, review
//! them with `cargo insta review` (or rerun with `INSTA_UPDATE=always` and
//! read the diff). Timings, dates, the version and the temporary output
//! directory are replaced by placeholders.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use quick_xml::events::Event;
use tempfile::tempdir;

/// Placeholders for what changes from run to run or machine to machine.
fn redacted() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"in \d+\.\d\d s", "in [elapsed] s");
    s.add_filter(r"\*\*took:\*\* \d+\.\d\d s", "**took:** [elapsed] s");
    s.add_filter(r"\*\*written:\*\* .*", "**written:** [date]");
    s.add_filter(r"\*\*outputs:\*\* .*", "**outputs:** [out]");
    s.add_filter(r"outputs in .* \(report", "outputs in [out] (report");
    s.add_filter(
        r"leadsift \d+\.\d+\.\d+(-[0-9A-Za-z.]+)?",
        "leadsift [version]",
    );
    s.add_filter(
        r"version \d+\.\d+\.\d+(-[0-9A-Za-z.]+)?",
        "version [version]",
    );
    s
}

fn sample_run(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["-j1"];
    all.extend_from_slice(args);
    let r = run(dir, &all);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    r
}

#[test]
fn summary_md_of_the_webform_sample() {
    let t = tempdir().unwrap();
    sample_run(t.path(), &["samples/webform.csv"]);
    let md = std::fs::read_to_string(t.path().join("summary.md")).unwrap();
    redacted().bind(|| insta::assert_snapshot!("webform_summary_md", md));
}

#[test]
fn terminal_summary_of_the_samples() {
    for (name, args) in [
        ("webform_stderr", &["samples/webform.csv"][..]),
        ("messe_leads_stderr", &["samples/messe-leads.csv"][..]),
        (
            "badge_scans_stderr",
            &["-r", "rules/trade-show.toml", "samples/badge-scans.csv"][..],
        ),
    ] {
        let t = tempdir().unwrap();
        let r = sample_run(t.path(), args);
        let stderr = r.stderr();
        for line in stderr.lines() {
            assert!(
                line.chars().count() <= 80,
                "{name}: over 80 columns: {line}"
            );
        }
        // Not a terminal: no colour.
        assert!(!stderr.contains('\x1b'), "{name}: {stderr:?}");
        redacted().bind(|| insta::assert_snapshot!(name, stderr));
    }
}

/// `summary.html` as XML: its tables as rows of cell texts, and every
/// element name met.
struct Page {
    rows: Vec<Vec<String>>,
    elements: Vec<String>,
}

fn parse(html: &str) -> Page {
    let mut reader = quick_xml::Reader::from_str(html);
    reader.config_mut().check_end_names = true;
    let mut page = Page {
        rows: Vec::new(),
        elements: Vec::new(),
    };
    let mut open: Vec<String> = Vec::new();
    let mut cell: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at {}: {e}", reader.buffer_position()));
        match event {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                match name.as_str() {
                    "tr" => page.rows.push(Vec::new()),
                    "td" | "th" => cell = Some(String::new()),
                    _ => {}
                }
                page.elements.push(name.clone());
                open.push(name);
            }
            Event::Empty(e) => {
                page.elements.push(e.name().as_ref().to_owned());
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_owned();
                assert_eq!(open.pop().as_deref(), Some(name.as_str()));
                if name == "td" || name == "th" {
                    let text = cell.take().unwrap_or_default();
                    page.rows.last_mut().expect("cell in a row").push(text);
                }
            }
            Event::Text(t) => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().expect("character reference") {
                    Some(ch) => ch.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&r)
                        .unwrap_or_else(|| panic!("&{}; is not an XML entity", &*r))
                        .to_string(),
                };
                if let Some(c) = cell.as_mut() {
                    c.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "elements left open: {open:?}");
    page
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Whether some table row starts with `first` and then `n`.
fn has_row(page: &Page, first: &str, n: u64) -> bool {
    page.rows
        .iter()
        .any(|r| r.len() >= 2 && r[0].trim() == first && r[1] == grouped(n))
}

#[test]
fn summary_html_is_self_contained_well_formed_and_holds_the_numbers() {
    let t = tempdir().unwrap();
    let r = sample_run(t.path(), &["samples/webform.csv", "samples/crm-export.csv"]);
    let html = std::fs::read_to_string(t.path().join("summary.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for banned in [
        "http://", "https://", "<script", "<link", "src=", "url(", "@import", "xmlns",
    ] {
        assert!(!html.contains(banned), "summary.html contains {banned}");
    }
    let page = parse(&html);
    let charts = page.elements.iter().filter(|e| *e == "svg").count();
    assert!(charts >= 5, "{charts} charts");
    assert!(page.elements.iter().filter(|e| *e == "rect").count() > 20);

    let s = r.summary();
    let n = |v: &serde_json::Value| v.as_u64().expect("a count");
    assert!(has_row(&page, "rows in", n(&s["rows_in"])));
    for stage in [
        "opportunity",
        "prospect",
        "lead",
        "disqualified",
        "rejected",
    ] {
        assert!(
            has_row(&page, stage, n(&s["stages"][stage])),
            "{stage}: {:?}",
            page.rows
        );
    }
    assert!(has_row(&page, "duplicates", n(&s["duplicates"])));
    let sources = s["sources"].as_array().unwrap();
    assert!(sources.len() > 5);
    for src in sources {
        let name = src["source"].as_str().unwrap();
        assert!(has_row(&page, name, n(&src["rows"])), "source {name}");
    }
    for f in s["files"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        assert!(has_row(&page, path, n(&f["rows"])), "file {path}");
    }

    // Written like summary.json: atomically, with the same permissions.
    let mode = |f: &str| std::fs::metadata(t.path().join(f)).unwrap().permissions();
    assert_eq!(mode("summary.html"), mode("summary.json"));
    assert_eq!(mode("summary.md"), mode("summary.json"));
    assert_eq!(temp_files(t.path()), Vec::<String>::new());
}

/// Chromium, where installed: `/usr/bin/chromium` or `chromium` on PATH.
fn chromium() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

/// Opens `summary.html` as a person would and keeps a screenshot. Skipped
/// with a note where Chromium is missing, except in CI (`CI=true`), where
/// `.ci/run` installs it and a missing Chromium is a failure.
#[test]
fn summary_html_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but Chromium is not installed (.ci/run installs the Debian package `chromium`)"
        );
        eprintln!("skipped: Chromium is not installed (apt-get install chromium)");
        return;
    };
    let t = tempdir().unwrap();
    let out = t.path().join("out");
    sample_run(&out, &["samples/webform.csv", "samples/crm-export.csv"]);
    let profile = t.path().join("profile");
    let shot = t.path().join("summary.png");
    let mut child = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,2000")
        .arg(format!("file://{}", out.join("summary.html").display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium took over 120 s to take a screenshot");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "chromium: {status}");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 2000));
    // An empty page of that size is about 11 KB; text, tables and charts
    // take many times that.
    assert!(png.len() > 50_000, "{} bytes: a blank page?", png.len());
    // Kept for a person to look at.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("summary-html.png");
    if std::fs::copy(&shot, &keep).is_ok() {
        eprintln!("screenshot: {}", keep.display());
    }
}

/// The real binary with stderr on a terminal (util-linux `script` makes
/// one): coloured, unless `NO_COLOR` is set to something.
#[test]
fn colour_on_a_terminal_unless_no_color() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let t = tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_leadsift");
    let on_terminal = |no_color: Option<&str>| {
        let out = t.path().join("out");
        let command = format!(
            "'{bin}' run -j1 --progress never -o '{}' samples/webform.csv",
            out.display()
        );
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec", &command, "/dev/null"])
            .current_dir(root())
            .env_remove("NO_COLOR")
            .env_remove("LEADSIFT_RULES")
            .env_remove("LEADSIFT_OUT");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let o = cmd.output().expect("run script");
        assert!(o.status.success(), "{o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let coloured = on_terminal(None);
    assert!(coloured.contains("\x1b[31m"), "{coloured:?}");
    assert!(coloured.contains("opportunity"), "{coloured:?}");
    assert!(on_terminal(Some("")).contains("\x1b["), "empty NO_COLOR");
    let plain = on_terminal(Some("1"));
    assert!(!plain.contains('\x1b'), "{plain:?}");
    assert!(plain.contains("opportunity"), "{plain:?}");
}
