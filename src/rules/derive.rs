//! Cleaned and derived values that rules can ask for: `clean_email(email)`,
//! `phone_e164(phone)`, `seniority(title)`, `free_mail(email)`, ...
//!
//! Each distinct call in a rules file becomes one [`Derived`] entry at
//! compile time; on each row it is computed at most once, and only when a
//! condition that is evaluated reaches it, so rules that never parse a
//! phone number pay nothing for phone parsing. The normalisers themselves
//! live in [`crate::clean`].

use std::cell::OnceCell;

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
        let test = |b: bool| if b { "true".to_string() } else { String::new() };
        if x.is_empty() {
            return String::new();
        }
        match self {
            CleanFn::CleanEmail => clean::email::normalize(x),
            CleanFn::ValidEmail => test(clean::email::is_valid(x)),
            CleanFn::FreeMail => test(clean::email::is_free_mail(clean::email::domain(x))),
            CleanFn::DisposableEmail => test(clean::email::is_disposable(clean::email::domain(x))),
            CleanFn::RoleEmail => test(clean::email::is_role(x)),
            CleanFn::PhoneE164 => clean::phone::e164(x, region).unwrap_or_default(),
            CleanFn::ValidPhone => test(clean::phone::parse(x, region).is_some_and(|p| p.valid)),
            CleanFn::CountryCode => clean::country::iso2(x).unwrap_or("").to_string(),
            CleanFn::Seniority => clean::title::seniority(x).unwrap_or("").to_string(),
            CleanFn::Department => clean::title::department(x).unwrap_or("").to_string(),
            CleanFn::CompanyKey => clean::company::company_key(x),
            CleanFn::NameCase => clean::name::name_case(x),
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

/// Per-row results of the derived values, computed on first use.
#[derive(Debug, Default)]
pub struct Memo {
    cells: Vec<OnceCell<String>>,
}

impl Memo {
    pub fn new(n: usize) -> Self {
        Memo {
            cells: (0..n).map(|_| OnceCell::new()).collect(),
        }
    }

    /// Forgets the previous row's values.
    pub fn reset(&mut self) {
        for c in &mut self.cells {
            c.take();
        }
    }

    pub fn get_or(&self, i: usize, f: impl FnOnce() -> String) -> &str {
        match self.cells.get(i) {
            Some(c) => c.get_or_init(f).as_str(),
            None => "",
        }
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
