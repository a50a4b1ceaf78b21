//! Cleaned and derived values that rules can ask for: `clean_email(email)`,
//! `phone_e164(phone)`, `seniority(title)`, `free_mail(email)`, ...
//!
//! Each distinct call in a rules file becomes one [`Derived`] entry at
//! compile time; on each row it is computed at most once, and only when a
//! condition that is evaluated reaches it, so rules that never parse a
//! phone number pay nothing for phone parsing. The normalisers themselves
//! live in [`crate::clean`].

use std::cell::{Cell, OnceCell, RefCell};

use aho_corasick::AhoCorasick;
use regex_automata::{meta, PatternID, PatternSet};

use crate::clean;

/// A cleaning or deriving function of the rules language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CleanFn {
    CleanEmail,
    ValidEmail,
    FreeMail,
    DisposableEmail,
    RoleEmail,
    PhoneE164,
    ValidPhone,
    CountryCode,
    Seniority,
    Department,
    CompanyKey,
    NameCase,
}

impl CleanFn {
    pub const ALL: [CleanFn; 12] = [
        CleanFn::CleanEmail,
        CleanFn::ValidEmail,
        CleanFn::FreeMail,
        CleanFn::DisposableEmail,
        CleanFn::RoleEmail,
        CleanFn::PhoneE164,
        CleanFn::ValidPhone,
        CleanFn::CountryCode,
        CleanFn::Seniority,
        CleanFn::Department,
        CleanFn::CompanyKey,
        CleanFn::NameCase,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CleanFn::CleanEmail => "clean_email",
            CleanFn::ValidEmail => "valid_email",
            CleanFn::FreeMail => "free_mail",
            CleanFn::DisposableEmail => "disposable_email",
            CleanFn::RoleEmail => "role_email",
            CleanFn::PhoneE164 => "phone_e164",
            CleanFn::ValidPhone => "valid_phone",
            CleanFn::CountryCode => "country_code",
            CleanFn::Seniority => "seniority",
            CleanFn::Department => "department",
            CleanFn::CompanyKey => "company_key",
            CleanFn::NameCase => "name_case",
        }
    }

    pub fn from_name(name: &str) -> Option<CleanFn> {
        CleanFn::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The field it is usually given, for messages.
    pub fn example_field(self) -> &'static str {
        match self {
            CleanFn::PhoneE164 | CleanFn::ValidPhone => "phone",
            CleanFn::CountryCode => "country",
            CleanFn::Seniority | CleanFn::Department => "title",
            CleanFn::CompanyKey => "company",
            CleanFn::NameCase => "last_name",
            _ => "email",
        }
    }

    /// Whether the function is a test (a condition) rather than a value.
    pub fn is_test(self) -> bool {
        matches!(
            self,
            CleanFn::ValidEmail
                | CleanFn::FreeMail
                | CleanFn::DisposableEmail
                | CleanFn::RoleEmail
                | CleanFn::ValidPhone
        )
    }

    /// Whether the function reads a phone number (and so a region).
    pub fn needs_region(self) -> bool {
        matches!(self, CleanFn::PhoneE164 | CleanFn::ValidPhone)
    }

    /// Whether the function reads the cleaned email (`clean_email`) rather
    /// than the field as written: the email tests, which then share one
    /// normalisation per row.
    pub fn reads_clean_email(self) -> bool {
        matches!(
            self,
            CleanFn::ValidEmail | CleanFn::FreeMail | CleanFn::DisposableEmail | CleanFn::RoleEmail
        )
    }

    /// The value for one input; a test gives `"true"` or `""`. The email
    /// tests take the cleaned address (see [`CleanFn::reads_clean_email`]).
    pub fn apply(self, x: &str, region: Option<&str>) -> String {
        let mut out = String::new();
        self.apply_into(x, region, &mut out);
        out
    }

    /// [`CleanFn::apply`], appending to `out`: the run reuses one buffer
    /// per derived value from row to row.
    pub fn apply_into(self, x: &str, region: Option<&str>, out: &mut String) {
        if x.is_empty() {
            return;
        }
        let mut test = |b: bool| {
            if b {
                out.push_str("true");
            }
        };
        match self {
            CleanFn::CleanEmail => clean::email::normalize_into(x, out),
            CleanFn::ValidEmail => test(clean::email::is_valid(x)),
            CleanFn::FreeMail => test(clean::email::is_free_mail(clean::email::domain(x))),
            CleanFn::DisposableEmail => test(clean::email::is_disposable(clean::email::domain(x))),
            CleanFn::RoleEmail => test(clean::email::is_role(x)),
            CleanFn::PhoneE164 => out.push_str(&clean::phone::e164(x, region).unwrap_or_default()),
            CleanFn::ValidPhone => test(clean::phone::parse(x, region).is_some_and(|p| p.valid)),
            CleanFn::CountryCode => out.push_str(clean::country::iso2(x).unwrap_or("")),
            CleanFn::Seniority => out.push_str(clean::title::seniority(x).unwrap_or("")),
            CleanFn::Department => out.push_str(clean::title::department(x).unwrap_or("")),
            CleanFn::CompanyKey => out.push_str(&clean::company::company_key(x)),
            CleanFn::NameCase => out.push_str(&clean::name::name_case(x)),
        }
    }
}

/// One distinct call in the rules: the function and the field slot it
/// reads. Phone functions also read the row's country (slot), for the
/// region of numbers written without `+`; email tests read the derived
/// value `input` (the cleaned email of the same slot) instead of the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub func: CleanFn,
    pub slot: usize,
    pub country_slot: Option<usize>,
    pub input: Option<usize>,
}

/// What a row has worked out so far, kept for the rest of the row: the
/// derived values, and the shared work of the evaluation plan
/// ([`super::memo`]): remembered conditions and numbers, each field's
/// trimmed value and its lowercase, and the regular-expression sets and word
/// searches already run. Sized by [`Memo::for_rules`]; a memo made with
/// [`Memo::new`] remembers derived values only, and everything else is
/// computed every time it is asked for.
#[derive(Debug, Default)]
pub struct Memo {
    cells: Vec<OnceCell<String>>,
    /// The buffers of last row's derived values, for this row's.
    spare: Vec<RefCell<String>>,
    /// Conditions: 0 not yet known, 1 false, 2 true.
    conds: Vec<Cell<u8>>,
    nums: Vec<Cell<Option<Option<f64>>>>,
    /// Each field slot's value as a span of the row's text.
    fields: Vec<Cell<Option<(u32, u32)>>>,
    /// Each field slot's lowercase value, as a span of `lower`.
    lowered: Vec<Cell<Option<(u32, u32)>>>,
    lower: RefCell<String>,
    /// Regular-expression sets run on this row, and which patterns matched.
    sets: Vec<Cell<bool>>,
    set_hits: RefCell<Vec<PatternSet>>,
    /// Word searches run on this row, and which words were found.
    finds: Vec<Cell<bool>>,
    find_hits: RefCell<Vec<Vec<bool>>>,
    /// Each list group's bits for the row's value (see `program`).
    list_bits: Vec<Cell<Option<u64>>>,
    /// Which kinds of values the row has remembered (`KEPT_*` bits):
    /// [`Memo::reset`] clears only those. A row written from a verdict
    /// kept by an earlier pass reads a field or two, not the rest.
    kept: Cell<u8>,
}

const KEPT_CELLS: u8 = 1;
const KEPT_CONDS: u8 = 2;
const KEPT_NUMS: u8 = 4;
const KEPT_FIELDS: u8 = 8;
const KEPT_LOWERED: u8 = 16;
const KEPT_SETS: u8 = 32;
const KEPT_FINDS: u8 = 64;
const KEPT_LISTS: u8 = 128;

impl Memo {
    pub fn new(n: usize) -> Self {
        Memo {
            cells: (0..n).map(|_| OnceCell::new()).collect(),
            spare: (0..n).map(|_| RefCell::default()).collect(),
            ..Memo::default()
        }
    }

    /// A memo for every kind of shared work of `rules`.
    pub fn for_rules(rules: &super::Compiled) -> Self {
        let plan = &rules.memo;
        Memo {
            cells: (0..rules.derived.len()).map(|_| OnceCell::new()).collect(),
            spare: (0..rules.derived.len())
                .map(|_| RefCell::default())
                .collect(),
            conds: vec![Cell::new(0); plan.conds],
            nums: vec![Cell::new(None); plan.nums],
            fields: vec![Cell::new(None); rules.slots.len()],
            lowered: vec![Cell::new(None); rules.slots.len()],
            lower: RefCell::new(String::new()),
            sets: vec![Cell::new(false); plan.sets.len()],
            set_hits: RefCell::new(
                plan.sets
                    .iter()
                    .map(|s| PatternSet::new(s.pattern_len()))
                    .collect(),
            ),
            finds: vec![Cell::new(false); plan.finders.len()],
            find_hits: RefCell::new(plan.finders.iter().map(|(_, n)| vec![false; *n]).collect()),
            list_bits: vec![Cell::new(None); rules.program.lists.len()],
            kept: Cell::new(0),
        }
    }

    /// Forgets the previous row's values (the kinds it kept).
    pub fn reset(&mut self) {
        let kept = std::mem::take(self.kept.get_mut());
        if kept & KEPT_CELLS != 0 {
            for (c, spare) in self.cells.iter_mut().zip(&self.spare) {
                if let Some(s) = c.take() {
                    *spare.borrow_mut() = s;
                }
            }
        }
        if kept & KEPT_CONDS != 0 {
            self.conds.iter().for_each(|c| c.set(0));
        }
        if kept & KEPT_NUMS != 0 {
            self.nums.iter().for_each(|c| c.set(None));
        }
        if kept & KEPT_FIELDS != 0 {
            self.fields.iter().for_each(|c| c.set(None));
        }
        if kept & KEPT_LOWERED != 0 {
            self.lowered.iter().for_each(|c| c.set(None));
            self.lower.get_mut().clear();
        }
        if kept & KEPT_SETS != 0 {
            self.sets.iter().for_each(|c| c.set(false));
        }
        if kept & KEPT_FINDS != 0 {
            self.finds.iter().for_each(|c| c.set(false));
        }
        if kept & KEPT_LISTS != 0 {
            self.list_bits.iter().for_each(|c| c.set(None));
        }
    }

    #[inline]
    fn keep(&self, kind: u8) {
        self.kept.set(self.kept.get() | kind);
    }

    /// Derived value `i`, written by `f` into an empty buffer on the row's
    /// first ask.
    pub fn get_or(&self, i: usize, f: impl FnOnce(&mut String)) -> &str {
        match self.cells.get(i) {
            Some(c) => c
                .get_or_init(|| {
                    self.keep(KEPT_CELLS);
                    let mut s = self.spare.get(i).map(RefCell::take).unwrap_or_default();
                    s.clear();
                    f(&mut s);
                    s
                })
                .as_str(),
            None => "",
        }
    }

    /// Condition `i`, computed by `f` on the row's first ask.
    #[inline]
    pub fn cond(&self, i: u32, f: impl FnOnce() -> bool) -> bool {
        let Some(c) = self.conds.get(i as usize) else {
            return f();
        };
        match c.get() {
            0 => {
                let v = f();
                c.set(1 + u8::from(v));
                self.keep(KEPT_CONDS);
                v
            }
            v => v == 2,
        }
    }

    /// Condition `i`, when the row knows it already.
    #[inline]
    pub fn cond_known(&self, i: u32) -> Option<bool> {
        match self.conds.get(i as usize).map(Cell::get) {
            Some(1) => Some(false),
            Some(2) => Some(true),
            _ => None,
        }
    }

    /// The row remembers condition `i` as `v` (when it keeps conditions).
    #[inline]
    pub fn cond_store(&self, i: u32, v: bool) {
        if let Some(c) = self.conds.get(i as usize) {
            c.set(1 + u8::from(v));
            self.keep(KEPT_CONDS);
        }
    }

    /// Number `i`, when the row knows it already.
    #[inline]
    pub fn num_known(&self, i: u32) -> Option<Option<f64>> {
        self.nums.get(i as usize).and_then(Cell::get)
    }

    /// Word `idx` of word search `g`, when the search has run on the row.
    #[inline]
    pub fn found_known(&self, g: u32, idx: u32) -> Option<bool> {
        let g = g as usize;
        if !self.finds.get(g).is_some_and(Cell::get) {
            return None;
        }
        Some(self.find_hits.borrow()[g][idx as usize])
    }

    /// The lists of list group `g` that hold the row's value, when looked
    /// up already.
    #[inline]
    pub fn list_bits(&self, g: u32) -> Option<u64> {
        self.list_bits.get(g as usize).and_then(Cell::get)
    }

    pub fn set_list_bits(&self, g: u32, bits: u64) {
        if let Some(c) = self.list_bits.get(g as usize) {
            c.set(Some(bits));
            self.keep(KEPT_LISTS);
        }
    }

    /// Pattern `idx` of regex set `g`, when the set has run on the row.
    #[inline]
    pub fn set_known(&self, g: u32, idx: u32) -> Option<bool> {
        let g = g as usize;
        if !self.sets.get(g).is_some_and(Cell::get) {
            return None;
        }
        Some(self.set_hits.borrow()[g].contains(PatternID::new_unchecked(idx as usize)))
    }

    /// Number `i`, computed by `f` on the row's first ask.
    #[inline]
    pub fn num(&self, i: u32, f: impl FnOnce() -> Option<f64>) -> Option<f64> {
        let Some(c) = self.nums.get(i as usize) else {
            return f();
        };
        match c.get() {
            Some(v) => v,
            None => {
                let v = f();
                c.set(Some(v));
                self.keep(KEPT_NUMS);
                v
            }
        }
    }

    /// The remembered span of field slot `slot` in the row's text.
    #[inline]
    pub fn field_span(&self, slot: usize) -> Option<(u32, u32)> {
        self.fields.get(slot).and_then(Cell::get)
    }

    pub fn set_field_span(&self, slot: usize, span: (u32, u32)) {
        if let Some(c) = self.fields.get(slot) {
            c.set(Some(span));
            self.keep(KEPT_FIELDS);
        }
    }

    /// Whether the memo keeps lowercase values of fields.
    pub fn lowers(&self, slot: usize) -> bool {
        slot < self.lowered.len()
    }

    /// `f` of the lowercase value of field slot `slot`, whose value is
    /// `value()`; lowercased on the row's first ask.
    pub fn with_lowered<'v, R>(
        &self,
        slot: usize,
        value: impl FnOnce() -> &'v str,
        f: impl FnOnce(&str) -> R,
    ) -> R {
        let (s, e) = match self.lowered[slot].get() {
            Some(span) => span,
            None => {
                let mut buf = self.lower.borrow_mut();
                let start = buf.len() as u32;
                let v = value();
                super::value::push_lower(v, &mut buf);
                let span = (start, buf.len() as u32);
                self.lowered[slot].set(Some(span));
                self.keep(KEPT_LOWERED);
                span
            }
        };
        let buf = self.lower.borrow();
        f(&buf[s as usize..e as usize])
    }

    /// Whether pattern `idx` of regular-expression set `g` matches `text`
    /// (the value the set reads); the set runs once per row.
    /// `caches` are the worker's search caches of `sets`, shared by the
    /// rows it evaluates together (a lazy DFA warms up once, not per row).
    pub fn set_match(
        &self,
        g: u32,
        idx: u32,
        text: &str,
        sets: &[super::set::RegexSet],
        caches: &mut [meta::Cache],
    ) -> Option<bool> {
        let g = g as usize;
        if g >= self.sets.len() || g >= caches.len() {
            return None;
        }
        let mut hits = self.set_hits.borrow_mut();
        if !self.sets[g].get() {
            sets[g].which(&mut caches[g], text, &mut hits[g]);
            self.sets[g].set(true);
            self.keep(KEPT_SETS);
        }
        Some(hits[g].contains(PatternID::new_unchecked(idx as usize)))
    }

    /// Whether word `idx` of word search `g` occurs in `text` (the value
    /// the search reads); the search runs once per row.
    pub fn found(
        &self,
        g: u32,
        idx: u32,
        text: &str,
        finders: &[(AhoCorasick, usize)],
    ) -> Option<bool> {
        let g = g as usize;
        if g >= self.finds.len() {
            return None;
        }
        let mut hits = self.find_hits.borrow_mut();
        if !self.finds[g].get() {
            let h = &mut hits[g];
            h.iter_mut().for_each(|x| *x = false);
            for m in finders[g].0.find_overlapping_iter(text) {
                h[m.pattern().as_usize()] = true;
            }
            self.finds[g].set(true);
            self.keep(KEPT_FINDS);
        }
        Some(hits[g][idx as usize])
    }
}

/// The region for a phone number: the row's country, else the rules'
/// `[clean] phone_region`.
pub fn region<'a>(country: &str, default: Option<&'a str>) -> Option<&'a str> {
    clean::country::iso2(country).or(default)
}

/// What `[clean] write` can put back into an output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// Trimmed and lowercased, when the address is valid.
    Email,
    /// E.164, when the number is valid.
    Phone,
    /// Whitespace collapsed; all-caps and all-lowercase names in name case.
    Name,
    /// The ISO 3166 alpha-2 code, when the country is known.
    Country,
}

/// The fields `[clean] write` accepts.
pub const WRITABLE: [&str; 6] = [
    "email",
    "phone",
    "first_name",
    "last_name",
    "full_name",
    "country",
];

impl WriteKind {
    pub fn for_field(field: &str) -> Option<WriteKind> {
        match field {
            "email" => Some(WriteKind::Email),
            "phone" => Some(WriteKind::Phone),
            "first_name" | "last_name" | "full_name" => Some(WriteKind::Name),
            "country" => Some(WriteKind::Country),
            _ => None,
        }
    }

    /// The cleaned value, or `None` to keep the value as read (it cannot
    /// be cleaned without changing its meaning).
    pub fn clean(self, raw: &str, region: Option<&str>) -> Option<String> {
        let x = raw.trim();
        if x.is_empty() {
            return None;
        }
        match self {
            WriteKind::Email => {
                let e = clean::email::normalize(x);
                clean::email::is_valid(&e).then_some(e)
            }
            WriteKind::Phone => clean::phone::parse(x, region)
                .filter(|p| p.valid)
                .map(|p| p.e164),
            WriteKind::Name => Some(clean::name::name_case(x)),
            WriteKind::Country => clean::country::iso2(x).map(str::to_string),
        }
    }
}
