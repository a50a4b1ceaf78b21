//! Contact normalisers: pure functions that turn the messy text of one
//! lead field (an email address, a phone number, a person's name, a
//! country, a job title, a company name) into a canonical value or a label.
//!
//! This module owns only the per-value logic. It does not know about rows,
//! headers or rules: the caller picks the field and decides what to do
//! with the result. Every function is total over any `&str` (no panics, no
//! I/O) and cheap enough to run per row on millions of rows: tables, sets
//! and lists are built once, on first use, behind `LazyLock`.
//!
//! - [`email`]: syntax check, domain, free-mail / disposable / role tests,
//!   dedup key. The two domain lists are `rules/lists/*.txt`, embedded.
//! - [`phone`]: E.164 through `rlibphonenumber` (a port of libphonenumber).
//! - [`name`]: name case and first/last split.
//! - [`country`]: ISO 3166-1 alpha-2 from codes and names in many spellings.
//! - [`title`]: seniority and department from a job title.
//! - [`company`]: a matching key for company names.
//! - [`date`]: dates in the forms exports write them.

pub mod company;
pub mod country;
pub mod date;
pub mod email;
mod fold;

pub(crate) use fold::ascii_lower;
pub mod name;
pub mod phone;
pub mod title;
