//! `[dedup]` and `[exclude]` as compiled: what the rules file may say.

/// A kind of key that identifies a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// The cleaned email address (lowercase, `mailto:` and brackets gone),
    /// when it is valid.
    Email,
    /// The phone number in E.164, when it is a valid number.
    Phone,
    /// Folded first name + last name + company without its legal form.
    NameCompany,
}

/// The key kinds, in the default order.
pub const KEY_KINDS: [KeyKind; 3] = [KeyKind::Email, KeyKind::Phone, KeyKind::NameCompany];

impl KeyKind {
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Email => "email",
            KeyKind::Phone => "phone",
            KeyKind::NameCompany => "name_company",
        }
    }

    pub fn from_name(s: &str) -> Option<KeyKind> {
        KEY_KINDS.into_iter().find(|k| k.name() == s)
    }

    /// The byte hashed before a key's text, so that keys of different
    /// kinds never meet.
    pub fn tag(self) -> u8 {
        match self {
            KeyKind::Email => b'e',
            KeyKind::Phone => b'p',
            KeyKind::NameCompany => b'n',
        }
    }
}

/// A survivorship criterion before the tie-break on input order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// A disqualified record wins: a disqualification (opt-out, competitor,
    /// existing customer) is about the person.
    Disqualified,
    /// The highest stage: opportunity, prospect, lead.
    Stage,
    /// The most non-empty fields the rules read.
    Complete,
}

impl Criterion {
    pub fn name(self) -> &'static str {
        match self {
            Criterion::Disqualified => "disqualified",
            Criterion::Stage => "stage",
            Criterion::Complete => "complete",
        }
    }
}

/// The last tie-break: earliest or latest in input order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    First,
    Last,
}

/// Names `keep` accepts.
pub const KEEP_NAMES: [&str; 5] = ["disqualified", "stage", "complete", "first", "last"];

/// What an `--exclude` list is matched by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExcludeBy {
    Email,
    Phone,
    /// The row's email domain against the list's domains.
    Domain,
}

impl ExcludeBy {
    pub const ALL: [ExcludeBy; 3] = [ExcludeBy::Email, ExcludeBy::Phone, ExcludeBy::Domain];

    pub fn name(self) -> &'static str {
        match self {
            ExcludeBy::Email => "email",
            ExcludeBy::Phone => "phone",
            ExcludeBy::Domain => "domain",
        }
    }

    pub fn tag(self) -> u8 {
        match self {
            ExcludeBy::Email => b'e',
            ExcludeBy::Phone => b'p',
            ExcludeBy::Domain => b'd',
        }
    }
}

/// The compiled `[dedup]` and `[exclude]` sections.
#[derive(Debug, Clone)]
pub struct DedupSpec {
    /// Key kinds in the configured order; empty turns deduplication off.
    pub keys: Vec<KeyKind>,
    pub keep: Vec<Criterion>,
    pub order: Order,
    /// gmail.com / googlemail.com addresses lose dots and `+tags`.
    pub canonical_email: bool,
    pub fill_empty: bool,
    pub exclude_by: Vec<ExcludeBy>,
}

impl Default for DedupSpec {
    fn default() -> Self {
        DedupSpec {
            keys: KEY_KINDS.to_vec(),
            keep: vec![
                Criterion::Disqualified,
                Criterion::Stage,
                Criterion::Complete,
            ],
            order: Order::First,
            canonical_email: false,
            fill_empty: false,
            exclude_by: ExcludeBy::ALL.to_vec(),
        }
    }
}

impl DedupSpec {
    pub fn enabled(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The `keep` list as written, for the summary.
    pub fn keep_names(&self) -> Vec<&'static str> {
        let mut v: Vec<&str> = self.keep.iter().map(|c| c.name()).collect();
        v.push(match self.order {
            Order::First => "first",
            Order::Last => "last",
        });
        v
    }

    /// A row's rank: each criterion in order, most significant first.
    pub fn rank(&self, disqualified: bool, stage_level: u32, complete: u32) -> u32 {
        let mut r = 0u32;
        for c in &self.keep {
            r = match c {
                Criterion::Disqualified => (r << 1) | u32::from(disqualified),
                Criterion::Stage => (r << 2) | stage_level.min(3),
                Criterion::Complete => (r << 8) | complete.min(255),
            };
        }
        r
    }
}
