//! Problems found in a rules file, each with its place.
//!
//! Loading a rules file never stops at the first problem: every stage
//! (TOML syntax, structure, conditions) adds what it finds here, and the
//! caller reports them all at once before any row is read.

use std::fmt;
use std::ops::Range;

/// One problem in a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    /// The rule (or section) the problem belongs to, when there is one.
    pub context: Option<String>,
    pub message: String,
    pub warning: bool,
}

/// Every problem found in one rules file.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub origin: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn errors(&self) -> usize {
        self.items.iter().filter(|d| !d.warning).count()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let kind = if d.warning { "warning: " } else { "" };
            write!(f, "{}:{}:{}: {kind}", self.origin, d.line, d.column)?;
            if let Some(c) = &d.context {
                write!(f, "{c}: ")?;
            }
            write!(f, "{}", d.message)?;
        }
        Ok(())
    }
}

/// Turns byte offsets of the rules text into lines and columns, and
/// collects diagnostics.
pub struct Reporter<'s> {
    text: &'s str,
    line_starts: Vec<usize>,
    pub out: Diagnostics,
}

impl<'s> Reporter<'s> {
    pub fn new(origin: &str, text: &'s str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Reporter {
            text,
            line_starts,
            out: Diagnostics {
                origin: origin.to_string(),
                items: Vec::new(),
            },
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, column)
    }

    pub fn error(&mut self, offset: usize, context: Option<&str>, message: impl Into<String>) {
        self.push(offset, context, message.into(), false);
    }

    pub fn warn(&mut self, offset: usize, context: Option<&str>, message: impl Into<String>) {
        self.push(offset, context, message.into(), true);
    }

    fn push(&mut self, offset: usize, context: Option<&str>, message: String, warning: bool) {
        let (line, column) = self.position(offset);
        self.out.items.push(Diagnostic {
            line,
            column,
            context: context.map(str::to_string),
            message,
            warning,
        });
    }

    /// Where the text of a string value starts, given the span of the TOML
    /// value (quotes included), and whether offsets inside it map one to
    /// one (no escapes were decoded).
    pub fn string_origin(&self, span: &Range<usize>, value: &str) -> (usize, bool) {
        let raw = self.text.get(span.clone()).unwrap_or("");
        let quote = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
            3
        } else {
            1
        };
        let mut start = span.start + quote.min(raw.len());
        let body = self
            .text
            .get(start..span.end.saturating_sub(quote))
            .unwrap_or("");
        let mut body_trimmed = body;
        if quote == 3 {
            if let Some(rest) = body
                .strip_prefix('\n')
                .or_else(|| body.strip_prefix("\r\n"))
            {
                start += body.len() - rest.len();
                body_trimmed = rest;
            }
        }
        (start, body_trimmed == value)
    }
}

/// The closest candidate within a small edit distance, for "did you mean".
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (distance(&name, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_in_characters() {
        let r = Reporter::new("r.toml", "a = 1\nbé = \"x\"\n");
        assert_eq!(r.position(0), (1, 1));
        assert_eq!(r.position(6), (2, 1));
        assert_eq!(r.position(10), (2, 4));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("titel", ["title", "email"]), Some("title"));
        assert_eq!(suggest("zzz", ["title", "email"]), None);
    }
}
