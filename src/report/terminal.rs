//! The summary on stderr: what a person at a terminal reads when a run
//! ends, and what a nightly job's log keeps.
//!
//! [`render`] is pure: it fits every line into `width` columns (names cut
//! with `…`, descriptions and gate messages wrapped) and colours only when
//! told to. Whether to colour is [`colour_wanted`]'s call: when stderr is
//! a terminal and `NO_COLOR` is unset or empty (no-color.org). Without
//! colour the output is plain ASCII apart from user text and `…`, so logs
//! stay readable anywhere.
//!
//! Colours are `anstyle` styles: the crate clap already builds on, with no
//! dependencies of its own, and named styles read better than raw escape
//! codes. User text is stripped of control characters, so a file name
//! cannot send escape sequences to the terminal.

use std::ffi::OsStr;

use anstyle::{AnsiColor, Style};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{count, funnel_rows, measure, pct, sha_prefix};
use crate::summary::Summary;

/// Whether the summary on stderr is coloured.
pub fn colour_wanted(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Widest a label is, so that the numbers after it stay close.
const LABEL: usize = 61;

/// The human summary, at most `width` columns a line.
pub fn render(s: &Summary, width: usize, colour: bool) -> String {
    let w = width.max(40);
    let p = Paint(colour);
    let mut out = Vec::new();
    head(&mut out, s, w, &p);
    funnel(&mut out, s, w, &p);
    reasons(&mut out, s, w, &p);
    rules(&mut out, s, w, &p);
    gates(&mut out, s, w, &p);
    if s.dry_run {
        out.push("dry run: nothing was written".to_string());
    } else {
        let dir = clean(&s.output_dir);
        let tail = " (report: summary.html)";
        let room = w.saturating_sub("outputs in ".len() + tail.len());
        out.push(format!("outputs in {}{tail}", cut_start(&dir, room)));
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

fn head(out: &mut Vec<String>, s: &Summary, w: usize, p: &Paint) {
    let files = if s.files.len() == 1 {
        "1 file".to_string()
    } else {
        format!("{} files", count(s.files.len() as u64))
    };
    out.push(p.bold(&fit(
        &format!(
            "leadsift {}: {} rows from {files} in {:.2} s",
            s.leadsift_version,
            count(s.rows_in),
            s.elapsed_seconds
        ),
        w,
    )));
    let sha = format!(", sha256 {}", sha_prefix(&s.rules.sha256));
    let name = s
        .rules
        .name
        .as_deref()
        .map_or(String::new(), |n| format!(" ({})", clean(n)));
    let label = format!("{}{name}", clean(&s.rules.path));
    let room = w.saturating_sub("  rules ".len() + sha.len());
    out.push(format!("  rules {}{sha}", fit(&label, room)));
    for f in &s.files {
        let path = cut_start(&clean(&f.path), w.saturating_sub(4));
        let text = format!("{path}: {}", clean(&f.input.describe()));
        out.extend(wrap(&text, w, "  ", "    "));
        for problem in &f.input.header_problems {
            let warn = format!("warning: {}", clean(problem));
            for line in wrap(&warn, w, "    ", "      ") {
                out.push(p.paint(YELLOW, &line));
            }
        }
    }
}

fn funnel(out: &mut Vec<String>, s: &Summary, w: usize, p: &Paint) {
    let bar_width = w.saturating_sub(35).min(40);
    for (name, n, _, _) in funnel_rows(s) {
        let share = if s.rows_in == 0 {
            0.0
        } else {
            n as f64 / s.rows_in as f64
        };
        let len = (share * bar_width as f64).round() as usize;
        let bar = if p.0 { "█" } else { "#" }.repeat(len);
        let style = stage_style(name);
        let line = format!(
            "  {}{:>10}  {:>6}  {}",
            p.paint(style, &format!("{name:<13}")),
            count(n),
            pct(n, s.rows_in),
            p.paint(style, &bar)
        );
        out.push(line.trim_end().to_string());
    }
}

fn stage_style(stage: &str) -> Style {
    let c = match stage {
        "opportunity" => return Style::new().fg_color(Some(AnsiColor::Green.into())).bold(),
        "prospect" => AnsiColor::Cyan,
        "disqualified" => AnsiColor::Yellow,
        "rejected" => AnsiColor::Red,
        "duplicates" => AnsiColor::Magenta,
        _ => return Style::new(),
    };
    Style::new().fg_color(Some(c.into()))
}

/// A label and a number, the label cut to fit.
fn counted(label: &str, n: u64, w: usize) -> String {
    let room = w.saturating_sub(2 + 1 + 10).min(LABEL);
    format!("  {} {:>10}", pad(&clean(label), room), count(n))
}

fn reasons(out: &mut Vec<String>, s: &Summary, w: usize, p: &Paint) {
    let rejects: Vec<(&String, u64)> = s
        .rejects
        .iter()
        .map(|(k, v)| (k, v.as_u64().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    if !rejects.is_empty() {
        out.push(p.bold("rejected by reason:"));
        for (k, n) in rejects {
            let why = if k == "unusable" && !s.unusable_reason.is_empty() {
                format!("unusable: {}", s.unusable_reason)
            } else {
                k.clone()
            };
            out.push(counted(&why, n, w));
        }
    }
    let mut disq: Vec<(String, u64)> = s
        .disqualified
        .iter()
        .filter(|d| d.rows > 0)
        .map(|d| (format!("{}: {}", d.rule, d.reason), d.rows))
        .collect();
    disq.extend(
        s.exclusions
            .iter()
            .filter(|x| x.excluded_rows > 0)
            .map(|x| (format!("--exclude {}", x.list.path), x.excluded_rows)),
    );
    if !disq.is_empty() {
        out.push(p.bold("disqualified by reason:"));
        for (why, n) in disq {
            out.push(counted(&why, n, w));
        }
    }
}

fn rules(out: &mut Vec<String>, s: &Summary, w: usize, p: &Paint) {
    let mut hits: Vec<_> = s.rule_hits.iter().filter(|h| h.hits > 0).collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.hits));
    if !hits.is_empty() {
        out.push(p.bold("rules that fired most:"));
        for h in hits.iter().take(5) {
            out.push(counted(&h.id, h.hits, w));
        }
    }
    for (ids, what) in [
        (&s.coverage.never_fired, "rules that never fired"),
        (
            &s.coverage.fired_on_every_row,
            "rules that fired on every row",
        ),
    ] {
        if !ids.is_empty() {
            let list: Vec<String> = ids.iter().map(|i| clean(i)).collect();
            let text = format!("{what} (usually a mistake): {}", list.join(", "));
            for line in wrap(&text, w, "", "  ") {
                out.push(p.paint(YELLOW, &line));
            }
        }
    }
}

fn gates(out: &mut Vec<String>, s: &Summary, w: usize, p: &Paint) {
    if s.gates.is_empty() {
        return;
    }
    out.push(p.bold("gates:"));
    for g in &s.gates {
        // The message says what was measured; without one, the numbers.
        let said = if g.message.is_empty() {
            format!(
                "measured {}, limit {}",
                measure(g.actual, g.unit),
                measure(g.limit, g.unit)
            )
        } else {
            clean(&g.message)
        };
        // A message names its gate already.
        let text = if g.message.is_empty() {
            format!("{}: {said}", clean(&g.gate))
        } else {
            said
        };
        let (verdict, style) = if g.passed {
            ("passed", GREEN)
        } else {
            ("FAILED", RED.bold())
        };
        let lines = wrap(&text, w, "          ", "          ");
        for (i, line) in lines.into_iter().enumerate() {
            let body = &line[10..];
            let body = if g.passed {
                body.to_string()
            } else {
                p.paint(RED, body)
            };
            let lead = if i == 0 {
                format!("  {}  ", p.paint(style, verdict))
            } else {
                " ".repeat(10)
            };
            out.push(format!("{lead}{body}"));
        }
    }
}

const RED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const GREEN: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
const YELLOW: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));

/// Styles text when colour is on.
struct Paint(bool);

impl Paint {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.0 && !text.is_empty() {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }
}

/// User text without control characters (which could move the cursor or
/// start an escape sequence).
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

fn cols(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to `n` columns, ending in `…` when cut.
fn fit(s: &str, n: usize) -> String {
    if cols(s) <= n {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > n {
            break;
        }
        used += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` cut to `n` columns from the start, so a path keeps its file name.
fn cut_start(s: &str, n: usize) -> String {
    if cols(s) <= n {
        return s.to_string();
    }
    let mut tail = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > n {
            break;
        }
        used += cw;
        tail.push(c);
    }
    std::iter::once('…').chain(tail.into_iter().rev()).collect()
}

/// `s` cut and padded to exactly `n` columns.
fn pad(s: &str, n: usize) -> String {
    let cut = fit(s, n);
    let room = n.saturating_sub(cols(&cut));
    format!("{cut}{}", " ".repeat(room))
}

/// `text` broken at spaces into lines of at most `w` columns, the first
/// starting with `first`, the others with `rest`; a word too long for a
/// line is cut.
fn wrap(text: &str, w: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut has_word = false;
    for word in text.split(' ').filter(|x| !x.is_empty()) {
        if has_word && cols(&line) + 1 + cols(word) > w {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            has_word = false;
        }
        if has_word {
            line.push(' ');
        }
        let room = w.saturating_sub(cols(&line));
        line.push_str(&fit(word, room));
        has_word = true;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::GateResult;

    fn gate(passed: bool) -> GateResult {
        GateResult {
            gate: "--max-rejected 1%".into(),
            actual: 3.24,
            limit: 1.0,
            unit: "percent",
            passed,
            exit_status: 3,
            message: "3.2% of 1,234 rows rejected, over the limit of 1% by 2.2 points \
                      (40 rows: unusable 38, too-many-fields 2)"
                .into(),
        }
    }

    fn long_names() -> Summary {
        let mut s = crate::report::tests::sample();
        s.output_dir = format!("/very/long/{}/out", "directory-name/".repeat(8));
        s.rules.path = format!("/etc/leadsift/{}rules.toml", "nested/".repeat(12));
        s.gates.push(gate(true));
        s.gates.push(gate(false));
        s.coverage.never_fired = (1..15).map(|i| format!("rule-number-{i}")).collect();
        s
    }

    #[test]
    fn colour_follows_the_terminal_and_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }

    #[test]
    fn every_line_fits_the_width_with_or_without_colour() {
        let s = long_names();
        for width in [80, 60] {
            let plain = render(&s, width, false);
            for line in plain.lines() {
                assert!(cols(line) <= width, "{} > {width}: {line}", cols(line));
            }
            let coloured = render(&s, width, true);
            assert!(coloured.contains("\x1b["));
            let stripped = strip(&coloured);
            assert_eq!(stripped.replace('█', "#"), plain);
        }
        let plain = render(&s, 80, false);
        assert!(plain.contains("…"), "{plain}");
        assert!(!plain.contains('\x1b'));
        assert!(
            plain.contains("  FAILED  --max-rejected 1%: 3.2% of 1,234 rows"),
            "{plain}"
        );
    }

    #[test]
    fn a_failed_gate_is_red_when_coloured() {
        let mut s = crate::report::tests::sample();
        s.gates.push(gate(false));
        let out = render(&s, 80, true);
        let red_bold = RED.bold();
        assert!(
            out.contains(&format!("{red_bold}FAILED{red_bold:#}")),
            "{out:?}"
        );
    }

    #[test]
    fn control_characters_in_names_do_not_reach_the_terminal() {
        let mut s = crate::report::tests::sample();
        s.output_dir = "out\x1b[2Jdir".into();
        let out = render(&s, 80, false);
        assert!(!out.contains('\x1b'), "{out:?}");
    }

    #[test]
    fn wrapping_keeps_words_and_indents() {
        let lines = wrap("aaa bbb ccc ddd", 9, "  ", "    ");
        assert_eq!(lines, ["  aaa bbb", "    ccc", "    ddd"]);
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(cut_start("/a/b/leads.csv", 10), "…leads.csv");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(fit("日本語のファイル", 7), "日本語…");
    }

    /// `s` without ANSI escape sequences.
    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
