//! The condition language: tokens and a recursive-descent parser into an
//! untyped syntax tree.
//!
//! This module knows the grammar only; what names mean (fields, lists,
//! groups) is decided in `compile`. Every node keeps the byte offset where it
//! starts in the condition text, so that errors can point at it.
//!
//! ```text
//! cond      := and ("or" and)*
//! and       := unary ("and" unary)*
//! unary     := "not" unary | "(" cond ")" | predicate
//! predicate := operand ( cmp operand
//!                      | ["not"] "in" NAME
//!                      | "matches" STRING | "contains" STRING
//!                      | "starts" "with" STRING | "ends" "with" STRING
//!                      | "is" ["not"] ("empty" | "present") )?
//! operand   := NAME | `column name` | STRING | NUMBER | NAME "(" [operand ("," operand)*] ")"
//! cmp       := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//! ```

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
    Matches,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A bare name: a field, a derived value, a group, a named condition.
    Name(String, usize),
    /// A column by its header text, written in backticks.
    Column(String, usize),
    Str(String, usize),
    Num(f64, usize),
    Call(String, Vec<Operand>, usize),
}

impl Operand {
    pub fn at(&self) -> usize {
        match self {
            Operand::Name(_, a)
            | Operand::Column(_, a)
            | Operand::Str(_, a)
            | Operand::Num(_, a)
            | Operand::Call(_, _, a) => *a,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Operand, CmpOp, Operand),
    Text(Operand, TextOp, String, usize),
    In(Operand, String, usize, bool),
    Empty(Operand, bool),
    /// An operand standing alone as a condition (a named condition, `true`,
    /// or a call such as `marked(budget)`).
    Bare(Operand),
}

impl Expr {
    /// Where the node starts in its condition text (its first operand).
    pub fn at(&self) -> usize {
        match self {
            Expr::And(items) | Expr::Or(items) => items.first().map_or(0, Expr::at),
            Expr::Not(inner) => inner.at(),
            Expr::Cmp(l, _, _)
            | Expr::Text(l, _, _, _)
            | Expr::In(l, _, _, _)
            | Expr::Empty(l, _)
            | Expr::Bare(l) => l.at(),
        }
    }
}

/// The operand as it could be written: names and columns as given,
/// strings in double quotes (regular expressions keep their backslashes).
impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Name(n, _) => f.write_str(n),
            Operand::Column(c, _) => write!(f, "`{c}`"),
            Operand::Str(s, _) => write!(f, "\"{}\"", s.replace('"', "\\\"")),
            Operand::Num(n, _) => write!(f, "{n}"),
            Operand::Call(name, args, _) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// The condition as it could be written, with the parentheses its
/// structure needs (and no others): what explanations show for each part.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = |f: &mut fmt::Formatter<'_>, items: &[Expr], sep: &str, wrap_or: bool| {
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                match e {
                    Expr::Or(_) if wrap_or => write!(f, "({e})")?,
                    _ => write!(f, "{e}")?,
                }
            }
            Ok(())
        };
        match self {
            Expr::And(items) => joined(f, items, " and ", true),
            Expr::Or(items) => joined(f, items, " or ", false),
            Expr::Not(inner) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "not ({inner})"),
                _ => write!(f, "not {inner}"),
            },
            Expr::Cmp(l, op, r) => write!(f, "{l} {op} {r}"),
            Expr::Text(l, op, pat, _) => {
                let word = match op {
                    TextOp::Contains => "contains",
                    TextOp::StartsWith => "starts with",
                    TextOp::EndsWith => "ends with",
                    TextOp::Matches => "matches",
                };
                let pat = Operand::Str(pat.clone(), 0);
                write!(f, "{l} {word} {pat}")
            }
            Expr::In(l, list, _, negated) => {
                let not = if *negated { "not " } else { "" };
                write!(f, "{l} {not}in {list}")
            }
            Expr::Empty(l, present) => {
                write!(f, "{l} is {}", if *present { "present" } else { "empty" })
            }
            Expr::Bare(op) => write!(f, "{op}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Column(String),
    Str(String),
    Num(f64),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
    End,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Name(n) => format!("`{n}`"),
        Tok::Column(c) => format!("column `{c}`"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Num(n) => format!("number {n}"),
        Tok::Op(o) => format!("`{o}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::End => "the end of the condition".into(),
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, m: &str| SyntaxError {
        at,
        message: m.to_string(),
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => (out.push((Tok::LParen, i)), i += 1).1,
            b')' => (out.push((Tok::RParen, i)), i += 1).1,
            b',' => (out.push((Tok::Comma, i)), i += 1).1,
            b'=' => {
                i += if b.get(i + 1) == Some(&b'=') { 2 } else { 1 };
                out.push((Tok::Op(CmpOp::Eq), start));
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                i += 2;
                out.push((Tok::Op(CmpOp::Ne), start));
            }
            b'<' | b'>' => {
                let next = b.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    (b'<', Some(b'=')) => (CmpOp::Le, 2),
                    (b'<', Some(b'>')) => (CmpOp::Ne, 2),
                    (b'<', _) => (CmpOp::Lt, 1),
                    (_, Some(b'=')) => (CmpOp::Ge, 2),
                    _ => (CmpOp::Gt, 1),
                };
                i += len;
                out.push((Tok::Op(op), start));
            }
            b'"' | b'\'' => {
                let (s, end) = lex_string(src, i)?;
                out.push((Tok::Str(s), start));
                i = end;
            }
            b'`' => {
                let close = src[i + 1..]
                    .find('`')
                    .ok_or_else(|| err(i, "this column name has no closing backtick"))?;
                let name = &src[i + 1..i + 1 + close];
                if name.trim().is_empty() {
                    return Err(err(i, "an empty column name"));
                }
                out.push((Tok::Column(name.to_string()), start));
                i += close + 2;
            }
            b'0'..=b'9' | b'-' | b'.' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.' || b[j] == b'_') {
                    j += 1;
                }
                let text: String = src[i..j].chars().filter(|&c| c != '_').collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| err(i, &format!("`{}` is not a number", &src[i..j])))?;
                out.push((Tok::Num(n), start));
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                out.push((Tok::Name(src[i..j].to_string()), start));
                i = j;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err(i, &format!("unexpected character `{ch}`")));
            }
        }
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

/// A quoted string; `\"`, `\'` and `\\` are the only escapes, so regular
/// expressions keep their own backslashes (`"\bvp\b"` stays as written).
fn lex_string(src: &str, start: usize) -> Result<(String, usize), SyntaxError> {
    let quote = src.as_bytes()[start] as char;
    let mut s = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        if c == quote {
            return Ok((s, start + 1 + k + 1));
        }
        if c == '\\' {
            match chars.clone().next() {
                Some((_, n)) if n == quote || n == '\\' => {
                    s.push(n);
                    chars.next();
                    continue;
                }
                _ => {}
            }
        }
        s.push(c);
    }
    Err(SyntaxError {
        at: start,
        message: "this string has no closing quote".into(),
    })
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

/// Parses one condition.
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let toks = lex(src)?;
    if toks.len() == 1 {
        return Err(SyntaxError {
            at: 0,
            message: "the condition is empty".into(),
        });
    }
    let mut p = Parser { toks, pos: 0 };
    let e = p.or()?;
    match p.peek() {
        Tok::End => Ok(e),
        t => Err(p.error(format!(
            "expected `and`, `or` or the end, found {}",
            describe(t)
        ))),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn at(&self) -> usize {
        self.toks[self.pos].1
    }
    fn bump(&mut self) -> (Tok, usize) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn error(&self, message: String) -> SyntaxError {
        SyntaxError {
            at: self.at(),
            message,
        }
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n.eq_ignore_ascii_case(kw))
    }
    fn keyword_at(&self, offset: usize, kw: &str) -> bool {
        matches!(self.toks.get(self.pos + offset), Some((Tok::Name(n), _)) if n.eq_ignore_ascii_case(kw))
    }
    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.and()?];
        while self.keyword("or") {
            self.bump();
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::And(vec![]))
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.unary()?];
        while self.keyword("and") {
            self.bump();
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::And(vec![]))
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.keyword("not") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if *self.peek() == Tok::LParen {
            self.bump();
            let e = self.or()?;
            if *self.peek() != Tok::RParen {
                return Err(self.error(format!("expected `)`, found {}", describe(self.peek()))));
            }
            self.bump();
            return Ok(e);
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, SyntaxError> {
        let lhs = self.operand()?;
        if let Tok::Op(op) = *self.peek() {
            self.bump();
            let rhs = self.operand()?;
            return Ok(Expr::Cmp(lhs, op, rhs));
        }
        if self.keyword("in") || (self.keyword("not") && self.keyword_at(1, "in")) {
            let negated = self.keyword("not");
            if negated {
                self.bump();
            }
            self.bump();
            return match self.bump() {
                (Tok::Name(list), at) => Ok(Expr::In(lhs, list, at, negated)),
                (t, at) => Err(SyntaxError {
                    at,
                    message: format!("expected a list name after `in`, found {}", describe(&t)),
                }),
            };
        }
        let text_op = if self.keyword("matches") {
            Some((TextOp::Matches, 1))
        } else if self.keyword("contains") {
            Some((TextOp::Contains, 1))
        } else if self.keyword("starts") && self.keyword_at(1, "with") {
            Some((TextOp::StartsWith, 2))
        } else if self.keyword("ends") && self.keyword_at(1, "with") {
            Some((TextOp::EndsWith, 2))
        } else {
            None
        };
        if let Some((op, words)) = text_op {
            for _ in 0..words {
                self.bump();
            }
            return match self.bump() {
                (Tok::Str(s), at) => Ok(Expr::Text(lhs, op, s, at)),
                (t, at) => Err(SyntaxError {
                    at,
                    message: format!("expected a quoted string, found {}", describe(&t)),
                }),
            };
        }
        if self.keyword("is") {
            self.bump();
            let negated = self.keyword("not");
            if negated {
                self.bump();
            }
            let present = if self.keyword("empty") {
                false
            } else if self.keyword("present") {
                true
            } else {
                return Err(self.error(format!(
                    "expected `empty` or `present` after `is`, found {}",
                    describe(self.peek())
                )));
            };
            self.bump();
            return Ok(Expr::Empty(lhs, present != negated));
        }
        Ok(Expr::Bare(lhs))
    }

    fn operand(&mut self) -> Result<Operand, SyntaxError> {
        let (tok, at) = self.bump();
        match tok {
            Tok::Str(s) => Ok(Operand::Str(s, at)),
            Tok::Num(n) => Ok(Operand::Num(n, at)),
            Tok::Column(c) => Ok(Operand::Column(c, at)),
            Tok::Name(n) if *self.peek() == Tok::LParen => {
                self.bump();
                let mut args = Vec::new();
                if *self.peek() != Tok::RParen {
                    loop {
                        args.push(self.operand()?);
                        if *self.peek() == Tok::Comma {
                            self.bump();
                        } else {
                            break;
                        }
                    }
                }
                if *self.peek() != Tok::RParen {
                    return Err(self.error(format!(
                        "expected `,` or `)`, found {}",
                        describe(self.peek())
                    )));
                }
                self.bump();
                Ok(Operand::Call(n, args, at))
            }
            Tok::Name(n) if is_reserved(&n) => Err(SyntaxError {
                at,
                message: format!("expected a value, found the keyword `{n}`"),
            }),
            Tok::Name(n) => Ok(Operand::Name(n, at)),
            t => Err(SyntaxError {
                at,
                message: format!("expected a value, found {}", describe(&t)),
            }),
        }
    }
}

fn is_reserved(n: &str) -> bool {
    ["and", "or", "not", "in", "matches", "contains", "is"]
        .iter()
        .any(|k| n.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_parentheses() {
        let e = parse("a = 1 or b = 2 and not c is empty").unwrap();
        let Expr::Or(items) = e else { panic!("{e:?}") };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1], Expr::And(v) if matches!(v[1], Expr::Not(_))));
        let e = parse("(a = 1 or b = 2) and c > 3").unwrap();
        assert!(matches!(e, Expr::And(_)));
    }

    #[test]
    fn predicates() {
        assert!(
            matches!(parse("title matches \"(?i)\\bvp\\b\"").unwrap(), Expr::Text(_, TextOp::Matches, ref s, _) if s == "(?i)\\bvp\\b")
        );
        assert!(
            matches!(parse("email_domain not in free_mail").unwrap(), Expr::In(_, ref l, _, true) if l == "free_mail")
        );
        assert!(matches!(
            parse("title starts with 'head'").unwrap(),
            Expr::Text(_, TextOp::StartsWith, _, _)
        ));
        assert!(matches!(
            parse("phone is not empty").unwrap(),
            Expr::Empty(_, true)
        ));
        assert!(matches!(
            parse("phone is empty").unwrap(),
            Expr::Empty(_, false)
        ));
        assert!(
            matches!(parse("`No. of Employees` >= 50").unwrap(), Expr::Cmp(Operand::Column(ref c, 0), CmpOp::Ge, Operand::Num(n, _)) if c == "No. of Employees" && n == 50.0)
        );
        assert!(
            matches!(parse("marked(budget, need)").unwrap(), Expr::Bare(Operand::Call(ref f, ref a, 0)) if f == "marked" && a.len() == 2)
        );
        assert!(
            matches!(parse("fit >= -10").unwrap(), Expr::Cmp(_, CmpOp::Ge, Operand::Num(n, _)) if n == -10.0)
        );
    }

    #[test]
    fn conditions_print_as_they_could_be_written() {
        for src in [
            "a = 1 or b = \"x\" and not c is empty",
            "(a = 1 or b = 2) and c > 3",
            "not (a in l or b not in l)",
            "seniority(title) in leaders and `No. of Employees` >= 50",
            "title matches \"(?i)\\bvp\\b\" or notes contains \"say \\\"hi\\\"\"",
            "marked(budget, need) and email is present and x starts with \"a\"",
        ] {
            let e = parse(src).unwrap();
            assert_eq!(
                strip(parse(&e.to_string()).unwrap()),
                strip(e.clone()),
                "{src} -> {e}"
            );
        }
        assert_eq!(
            parse("not(a=1)and(b='x'or c)").unwrap().to_string(),
            "not a = 1 and (b = \"x\" or c)"
        );
    }

    /// The same tree with every offset zeroed, to compare structure only.
    fn strip(e: Expr) -> Expr {
        fn op(o: Operand) -> Operand {
            match o {
                Operand::Name(n, _) => Operand::Name(n, 0),
                Operand::Column(c, _) => Operand::Column(c, 0),
                Operand::Str(s, _) => Operand::Str(s, 0),
                Operand::Num(n, _) => Operand::Num(n, 0),
                Operand::Call(f, a, _) => Operand::Call(f, a.into_iter().map(op).collect(), 0),
            }
        }
        match e {
            Expr::And(v) => Expr::And(v.into_iter().map(strip).collect()),
            Expr::Or(v) => Expr::Or(v.into_iter().map(strip).collect()),
            Expr::Not(i) => Expr::Not(Box::new(strip(*i))),
            Expr::Cmp(l, o, r) => Expr::Cmp(op(l), o, op(r)),
            Expr::Text(l, o, s, _) => Expr::Text(op(l), o, s, 0),
            Expr::In(l, n, _, neg) => Expr::In(op(l), n, 0, neg),
            Expr::Empty(l, p) => Expr::Empty(op(l), p),
            Expr::Bare(l) => Expr::Bare(op(l)),
        }
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let e = parse("fit >= ").unwrap_err();
        assert_eq!(e.at, 7);
        let e = parse("title matches vp").unwrap_err();
        assert_eq!(
            (e.at, e.message.as_str()),
            (14, "expected a quoted string, found `vp`")
        );
        let e = parse("a = 1 b = 2").unwrap_err();
        assert_eq!(e.at, 6);
        assert!(parse("a = \"x")
            .unwrap_err()
            .message
            .contains("no closing quote"));
        assert!(parse("(a = 1")
            .unwrap_err()
            .message
            .contains("expected `)`"));
        assert!(parse("a = 1 and")
            .unwrap_err()
            .message
            .contains("expected a value"));
        assert!(parse("   ").unwrap_err().message.contains("empty"));
    }
}
