//! The run's conditions as one flat program.
//!
//! After the evaluation plan (`memo`) has rewritten the conditions, the
//! `[usable]` condition and every rule's `when` are laid out, in file order,
//! as short sequences of small operations in one vector, with their leaf
//! tests (a comparison, a list lookup, a regex) in a second vector in the
//! order the program reaches them, and each rule's points, marks and flags
//! in a third. A row's evaluation walks these three arrays front to back.
//!
//! The tree of [`Cond`] nodes it replaces answers the same, node for node,
//! but its nodes live wherever the allocator put them: with a few hundred
//! rules the evaluation spent most of its time waiting for each node to
//! come from memory (perf: the loads at the top of `Eval::test`), not on
//! the tests themselves. The tree stays for the traced evaluation behind
//! `explain`, which records every node as written.
//!
//! `and` and `or` short-circuit by jumps; `not` flips the result; a
//! remembered condition jumps over its code when the row already knows it.

use super::eval::{Cond, NumX, TextX};
use super::expr::CmpOp;
use super::Compiled;

/// One operation. Every operation leaves its answer in the accumulator
/// (`acc`) the next one reads.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// The end of rule `.0`'s condition: when `acc` holds, the rule fires.
    Fire(u32),
    Const(bool),
    /// `acc` = leaf test `.0`.
    Leaf(u32),
    Not,
    /// Go to `.0` when `acc` is false (the rest of an `and`).
    JumpIfFalse(u32),
    /// Go to `.0` when `acc` is true (the rest of an `or`).
    JumpIfTrue(u32),
    /// When the row already knows remembered condition `.0`: `acc` = it,
    /// go to `.1` (past its code and its `MemoStore`).
    MemoLoad(u32, u32),
    /// The row remembers `acc` as condition `.0`.
    MemoStore(u32),
    /// Pattern `pat` of regex set `set`: answered from the row's hits once
    /// the set has run on the row, else by leaf test `leaf`.
    SetHit {
        set: u32,
        pat: u32,
        leaf: u32,
    },
    /// Word `word` of word search `group` (a `contains`): answered from
    /// the row's hits once the search has run on the row, else by leaf
    /// test `leaf`.
    WordHit {
        group: u32,
        word: u32,
        leaf: u32,
    },
    /// Field `slot` is empty.
    Empty {
        slot: u32,
    },
    /// Field `slot` is not empty (`is present`: `not` of an empty test,
    /// in one operation).
    Present {
        slot: u32,
    },
    /// Field `slot` equals (`eq`) or differs from (not `eq`) literal
    /// `texts[text]` (not empty), ignoring case; false when the field is
    /// empty.
    TextIs {
        slot: u32,
        text: u32,
        eq: bool,
    },
    /// Field `slot` starts (`start`) or ends with literal `texts[text]`,
    /// ignoring case; false when the field is empty.
    Affix {
        slot: u32,
        text: u32,
        start: bool,
    },
    /// List `bit` of list group `group`: one lookup of the row's value
    /// answers every list of the group; else leaf test `leaf`.
    ListHit {
        group: u32,
        bit: u32,
        leaf: u32,
    },
    /// Remembered number `num` compared with a literal: answered from the
    /// row's number once it is known, else by leaf test `leaf`.
    NumLit {
        num: u32,
        op: CmpOp,
        lit: f64,
        leaf: u32,
    },
}

/// What firing a rule does, when it has no decay and does not disqualify.
#[derive(Debug, Clone, Copy)]
pub struct HotRule {
    /// Its points are `points[first..first + len]`.
    pub first: u32,
    pub len: u32,
    pub marks: u8,
    /// It decays or disqualifies: firing it reads the full rule.
    pub special: bool,
}

/// Where the program goes after an operation: an `and` or `or` whose
/// item is one operation jumps from that operation, without a jump of its
/// own (one dispatch fewer per item).
#[derive(Debug, Clone, Copy)]
pub enum Then {
    Next,
    /// Go to `.0` when `acc` is false.
    IfFalse(u32),
    /// Go to `.0` when `acc` is true.
    IfTrue(u32),
    /// The operation is all of rule `.0`'s condition: fire the rule when
    /// `acc` holds, as [`Op::Fire`] would.
    Fire(u32),
}

#[derive(Debug, Clone, Default)]
pub struct Program {
    pub ops: Vec<Op>,
    /// What follows each operation.
    pub then: Vec<Then>,
    pub leaves: Vec<Cond>,
    /// The literals of `TextIs` and `Affix`, lowercase.
    pub texts: Vec<String>,
    /// Where `[usable]` starts and ends, when there is one.
    pub usable: Option<(u32, u32)>,
    /// Where the rules' code starts and ends: each rule's condition, then
    /// its [`Op::Fire`].
    pub rules_code: (u32, u32),
    pub rules: Vec<HotRule>,
    /// (group, points) of every rule, rule after rule.
    pub points: Vec<(u32, i64)>,
    /// Lists read with the same value, looked up together.
    pub lists: Vec<ListGroup>,
    /// The remembered conditions that the stage conditions read (rows
    /// evaluated together keep the others in bits of their group).
    pub stage_memos: Vec<u32>,
}

/// The lists that test one value (a field, or the domain of a field's
/// email): each entry of any of them, with one bit per list it is in.
#[derive(Debug, Clone)]
pub struct ListGroup {
    pub slot: usize,
    /// The value is the part after the last `@` of the field.
    pub domain: bool,
    pub entries: super::value::FoldedMap,
    /// Which list each bit stands for.
    lists: Vec<usize>,
}

/// The value a list test reads, when the lists of that value can be
/// looked up together: (field slot, domain of it).
pub fn list_value(x: &TextX) -> Option<(usize, bool)> {
    match x {
        TextX::Field(s) => Some((*s, false)),
        TextX::Domain(inner) => match **inner {
            TextX::Field(s) => Some((s, true)),
            _ => None,
        },
        _ => None,
    }
}

impl Program {
    /// The program of `rules`' `[usable]` condition and rules, as planned.
    pub fn build(rules: &Compiled) -> Program {
        let mut p = Program::default();
        p.group_lists(rules);
        if let Some((c, _, _)) = &rules.usable {
            p.usable = Some(p.condition(c));
        }
        let rules_start = p.here();
        for (i, r) in rules.rules.iter().enumerate() {
            let (start, end) = p.condition(&r.when);
            if end == start + 1 {
                // A condition of one operation fires from it.
                p.then[start as usize] = Then::Fire(i as u32);
            } else {
                p.push(Op::Fire(i as u32));
            }
            let first = p.points.len() as u32;
            p.points
                .extend(r.points.iter().map(|&(g, pts)| (g as u32, pts)));
            p.rules.push(HotRule {
                first,
                len: r.points.len() as u32,
                marks: r.marks,
                special: r.decay.is_some() || r.disqualify.is_some(),
            });
        }
        p.rules_code = (rules_start, p.here());
        for c in rules.stages.iter().filter_map(|(c, _)| c.as_ref()) {
            walk(c, &mut |n| {
                if let Cond::Memo(id, _) = n {
                    if !p.stage_memos.contains(id) {
                        p.stage_memos.push(*id);
                    }
                }
            });
        }
        p
    }

    /// Groups the lists tested on the same value (at most 64, one bit
    /// each): one lookup answers them all. A value with one list is a
    /// group of one, so its lookup too is remembered for the row and an
    /// ASCII value needs no lowercase copy.
    fn group_lists(&mut self, rules: &Compiled) {
        let mut by_value: Vec<((usize, bool), Vec<usize>)> = Vec::new();
        let mut visit = |c: &Cond| {
            if let Cond::InList(x, l) = c {
                if let Some(v) = list_value(x) {
                    match by_value.iter_mut().find(|(k, _)| *k == v) {
                        Some((_, ls)) if !ls.contains(l) => ls.push(*l),
                        Some(_) => {}
                        None => by_value.push((v, vec![*l])),
                    }
                }
            }
        };
        if let Some((c, _, _)) = &rules.usable {
            walk(c, &mut visit);
        }
        for r in &rules.rules {
            walk(&r.when, &mut visit);
        }
        for ((slot, domain), lists) in by_value {
            if lists.len() > 64 {
                continue;
            }
            let mut entries = super::value::FoldedMap::default();
            for (bit, &l) in lists.iter().enumerate() {
                for e in &rules.lists[l].set {
                    entries.add(e, 1 << bit);
                }
            }
            self.lists.push(ListGroup {
                slot,
                domain,
                entries,
                lists,
            });
        }
    }

    /// The group and bit that answer list `l` on value `x`, if grouped.
    fn list_bit(&self, x: &TextX, l: usize) -> Option<(u32, u32)> {
        let v = list_value(x)?;
        self.lists.iter().enumerate().find_map(|(g, lg)| {
            let bit = lg.lists.iter().position(|&m| m == l)?;
            ((lg.slot, lg.domain) == v).then_some((g as u32, bit as u32))
        })
    }

    /// Lays out one condition; returns where its code starts and ends.
    fn condition(&mut self, c: &Cond) -> (u32, u32) {
        let start = self.here();
        self.emit(c);
        (start, self.here())
    }

    fn text(&mut self, t: &str) -> u32 {
        self.texts.push(t.to_string());
        (self.texts.len() - 1) as u32
    }

    fn here(&self) -> u32 {
        self.ops.len() as u32
    }

    fn push(&mut self, op: Op) {
        self.ops.push(op);
        self.then.push(Then::Next);
    }

    fn leaf(&mut self, c: &Cond) -> u32 {
        self.leaves.push(c.clone());
        (self.leaves.len() - 1) as u32
    }

    fn emit(&mut self, c: &Cond) {
        match c {
            Cond::Const(b) => self.push(Op::Const(*b)),
            Cond::And(items) | Cond::Or(items) => {
                let and = matches!(c, Cond::And(_));
                if items.is_empty() {
                    self.push(Op::Const(and));
                    return;
                }
                // (index, whether the jump is the `then` of an item of one
                // operation rather than an operation of its own)
                let mut jumps = Vec::new();
                for (k, item) in items.iter().enumerate() {
                    let before = self.ops.len();
                    self.emit(item);
                    if k + 1 == items.len() {
                        break;
                    }
                    if self.ops.len() == before + 1 {
                        // Nothing inside the item jumps to its end, so the
                        // jump can ride on its one operation.
                        jumps.push((before, true));
                    } else {
                        jumps.push((self.ops.len(), false));
                        self.push(Op::JumpIfFalse(0));
                    }
                }
                let end = self.here();
                for (j, fused) in jumps {
                    match (fused, and) {
                        (true, true) => self.then[j] = Then::IfFalse(end),
                        (true, false) => self.then[j] = Then::IfTrue(end),
                        (false, true) => self.ops[j] = Op::JumpIfFalse(end),
                        (false, false) => self.ops[j] = Op::JumpIfTrue(end),
                    }
                }
            }
            Cond::Not(inner) if matches!(**inner, Cond::Empty(TextX::Field(_))) => {
                if let Cond::Empty(TextX::Field(slot)) = **inner {
                    self.push(Op::Present { slot: slot as u32 });
                }
            }
            Cond::Not(inner) => {
                self.emit(inner);
                self.push(Op::Not);
            }
            Cond::Memo(id, inner) => {
                let at = self.ops.len();
                self.push(Op::MemoLoad(*id, 0));
                self.emit(inner);
                self.push(Op::MemoStore(*id));
                self.ops[at] = Op::MemoLoad(*id, self.here());
            }
            Cond::MatchesIn(_, _, set, pat) => {
                let leaf = self.leaf(c);
                self.push(Op::SetHit {
                    set: *set,
                    pat: *pat,
                    leaf,
                });
            }
            Cond::ContainsIn(_, _, group, word) => {
                let leaf = self.leaf(c);
                self.push(Op::WordHit {
                    group: *group,
                    word: *word,
                    leaf,
                });
            }
            Cond::Empty(TextX::Field(slot)) => self.push(Op::Empty { slot: *slot as u32 }),
            // A comparison with an empty text is false.
            Cond::Text(TextX::Field(_), CmpOp::Eq | CmpOp::Ne, TextX::Lit(l)) if l.is_empty() => {
                self.push(Op::Const(false));
            }
            Cond::Text(TextX::Field(slot), op @ (CmpOp::Eq | CmpOp::Ne), TextX::Lit(l)) => {
                let text = self.text(l);
                self.push(Op::TextIs {
                    slot: *slot as u32,
                    text,
                    eq: *op == CmpOp::Eq,
                });
            }
            Cond::StartsWith(TextX::Field(slot), p) | Cond::EndsWith(TextX::Field(slot), p) => {
                let text = self.text(p);
                self.push(Op::Affix {
                    slot: *slot as u32,
                    text,
                    start: matches!(c, Cond::StartsWith(..)),
                });
            }
            Cond::InList(x, l) if self.list_bit(x, *l).is_some() => {
                let (group, bit) = self.list_bit(x, *l).unwrap_or_default();
                let leaf = self.leaf(c);
                self.push(Op::ListHit { group, bit, leaf });
            }
            Cond::Num(NumX::Memo(num, _), op, NumX::Lit(lit)) => {
                let leaf = self.leaf(c);
                self.push(Op::NumLit {
                    num: *num,
                    op: *op,
                    lit: *lit,
                    leaf,
                });
            }
            _ => {
                let leaf = self.leaf(c);
                self.push(Op::Leaf(leaf));
            }
        }
    }
}

/// Calls `f` on every node of `c`, parents first.
fn walk(c: &Cond, f: &mut impl FnMut(&Cond)) {
    f(c);
    match c {
        Cond::And(items) | Cond::Or(items) => items.iter().for_each(|i| walk(i, f)),
        Cond::Not(inner) | Cond::Memo(_, inner) => walk(inner, f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::Op;
    use crate::rules::{compile, Origin};

    #[test]
    fn shared_numbers_and_regexes_are_answered_without_their_leaf() {
        let text = r#"
version = 1
[fields]
seen = ["seen"]
size = ["size"]
[[rule]]
id = "a"
when = 'days_since(seen) <= 30'
fit = 1
[[rule]]
id = "b"
when = 'days_since(seen) <= 60 and title matches "(?i)vp"'
fit = 1
[[rule]]
id = "c"
when = 'title matches "(?i)head" or not (size >= 10)'
fit = 1
[[rule]]
id = "d"
when = 'email_domain in free or email_domain in rivals'
fit = 1
[lists]
free = ["gmail.com", "web.de"]
rivals = ["rival.example", "web.de"]
"#;
        let rules = compile(Origin::Builtin, text).unwrap_or_else(|d| panic!("{d}"));
        let ops = &rules.program.ops;
        let count = |f: fn(&Op) -> bool| ops.iter().filter(|o| f(o)).count();
        let num_lits = count(|o| matches!(o, Op::NumLit { .. }));
        let set_hits = count(|o| matches!(o, Op::SetHit { .. }));
        let list_hits = count(|o| matches!(o, Op::ListHit { .. }));
        assert_eq!((num_lits, set_hits, list_hits), (2, 2, 2), "{ops:?}");
        assert_eq!(rules.program.rules.len(), 4);
        // One lookup answers both lists: `web.de` is in both.
        let group = &rules.program.lists[0];
        assert!(group.domain);
        assert_eq!(group.entries.get_lower("web.de"), 0b11);
        assert_eq!(group.entries.get_ascii("Gmail.COM"), Some(0b01));
    }
}
