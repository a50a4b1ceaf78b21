//! The real binary on one synthetic export per vendor (`tests/exports/`):
//! each file runs with the built-in rules, every row lands in some output,
//! and the contact fields read the columns each vendor writes them under.

mod common;

use common::*;
use serde_json::Value;
use tempfile::tempdir;

/// Flip once `summary.json` lists every column a field in `MULTI` reads;
/// until then it names only the first, the one binding uses today.
const COLUMNS_ARE_LISTS: bool = true;

/// Fields that read several columns (`leadsift::input::aliases::MULTI`).
const MULTI: [&str; 2] = ["email", "phone"];

/// Fields the built-in rules do not read; a second run with [`PROBE`]
/// shows where they bind.
const PROBED: [&str; 2] = ["full_name", "id"];

/// Rules that read only the probed fields.
const PROBE: &str = r#"version = 1

[[rule]]
id = "probe"
when = "full_name is present or id is present"
fit = 1
"#;

/// Contact fields checked on every file: one a file lacks must bind to
/// nothing, so that a wrong alias cannot slip in unseen.
const CONTACT: [&str; 8] = [
    "email",
    "phone",
    "first_name",
    "last_name",
    "full_name",
    "company",
    "title",
    "id",
];

/// The headers `summary.json` says a field reads; empty when it reads none.
fn mapped(summary: &Value, field: &str) -> Vec<String> {
    match &summary["files"][0]["columns"][field] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// Runs `tests/exports/<file>` and checks the rows and the columns:
/// `want` gives, per field, the headers it reads, best first (several only
/// for the fields in [`MULTI`]).
fn check(file: &str, rows: u64, want: &[(&str, &[&str])]) {
    let path = format!("tests/exports/{file}");
    let out = tempdir().unwrap();
    let r = run(out.path(), &[&path]);
    assert_eq!(r.code(), 0, "{file}: {}", r.stderr());
    assert_accounted(&r, rows);

    let probe_dir = tempdir().unwrap();
    let rules = write(probe_dir.path(), "probe.toml", PROBE.as_bytes());
    let p = run(probe_dir.path(), &["--rules", &rules, &path]);
    assert_eq!(p.code(), 0, "{file} with the probe rules: {}", p.stderr());

    let (builtin, probe) = (r.summary(), p.summary());
    let mut wrong = Vec::new();
    for field in CONTACT {
        let summary = if PROBED.contains(&field) {
            &probe
        } else {
            &builtin
        };
        let all: &[&str] = want
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(&[], |(_, h)| *h);
        let expected = if COLUMNS_ARE_LISTS || !MULTI.contains(&field) {
            all
        } else {
            &all[..all.len().min(1)]
        };
        let got = mapped(summary, field);
        if got != expected {
            wrong.push(format!("{field}: {got:?}, expected {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "{file}:\n{}", wrong.join("\n"));
}

#[test]
fn salesforce_api_export() {
    check(
        "salesforce.csv",
        6,
        &[
            ("email", &["Email"]),
            // Never `Fax`.
            ("phone", &["Phone", "MobilePhone"]),
            ("first_name", &["FirstName"]),
            ("last_name", &["LastName"]),
            ("full_name", &["Name"]),
            ("company", &["Company"]),
            ("title", &["Title"]),
            ("id", &["Id"]),
        ],
    );
}

#[test]
fn hubspot_export() {
    check(
        "hubspot.csv",
        6,
        &[
            ("email", &["Email"]),
            ("phone", &["Phone Number", "Mobile Phone Number"]),
            ("first_name", &["First Name"]),
            ("last_name", &["Last Name"]),
            ("company", &["Associated Company"]),
            ("title", &["Job Title"]),
            ("id", &["Record ID"]),
        ],
    );
}

#[test]
fn mautic_export() {
    check(
        "mautic.csv",
        6,
        &[
            ("email", &["email"]),
            ("phone", &["phone", "mobile"]),
            ("first_name", &["firstname"]),
            ("last_name", &["lastname"]),
            ("company", &["company"]),
            // Mautic's `title` holds Mr or Mrs; the job title is `position`
            // (`aliases::PROFILE_OVERRIDES`).
            ("title", &["position"]),
            ("id", &["id"]),
        ],
    );
}

#[test]
fn zoho_report_export() {
    check(
        "zoho.csv",
        6,
        &[
            ("email", &["Email"]),
            ("phone", &["Mobile"]),
            ("last_name", &["Last Name"]),
            ("company", &["Company"]),
            ("id", &["LEADID"]),
        ],
    );
}

#[test]
fn pipedrive_persons_export() {
    check(
        "pipedrive.csv",
        6,
        &[
            (
                "email",
                &[
                    "Person - Email - Work",
                    "Person - Email - Home",
                    "Person - Email - Other",
                ],
            ),
            (
                "phone",
                &[
                    "Person - Phone - Work",
                    "Person - Phone - Mobile",
                    "Person - Phone - Home",
                    "Person - Phone - Other",
                ],
            ),
            ("first_name", &["Person - First name"]),
            ("last_name", &["Person - Last name"]),
            ("full_name", &["Person - Name"]),
            ("company", &["Person - Organization"]),
            ("title", &["Person - Job title"]),
            ("id", &["Person - ID"]),
        ],
    );
}

#[test]
fn eventbrite_attendee_report() {
    check(
        "eventbrite.csv",
        6,
        &[
            ("email", &["Email"]),
            ("phone", &["Work Phone", "Cell Phone"]),
            ("first_name", &["First Name"]),
            ("last_name", &["Last Name"]),
            ("company", &["Company"]),
            ("title", &["Job Title"]),
            // One row per attendee; an order can hold several.
            ("id", &["Attendee #"]),
        ],
    );
}

#[test]
fn badge_scan_export() {
    check(
        "badge-scan.csv",
        5,
        &[
            ("email", &["Email"]),
            ("full_name", &["Attendee Name"]),
            // No name columns: the parts of the full name stand in.
            ("first_name", &["Attendee Name (first part)"]),
            ("last_name", &["Attendee Name (last part)"]),
            ("id", &["ID"]),
        ],
    );
}

#[test]
fn google_forms_responses() {
    check(
        "google-forms.csv",
        5,
        &[
            ("email", &["Email Address"]),
            ("phone", &["Phone number"]),
            ("full_name", &["Full name"]),
            // No name columns: the parts of the full name stand in.
            ("first_name", &["Full name (first part)"]),
            ("last_name", &["Full name (last part)"]),
            ("company", &["Company"]),
            ("title", &["Job title"]),
        ],
    );
}

#[test]
fn typeform_responses() {
    check(
        "typeform.csv",
        5,
        &[
            ("email", &["Email"]),
            ("phone", &["Phone number"]),
            ("first_name", &["First name"]),
            ("last_name", &["Last name"]),
            ("company", &["Company"]),
            ("id", &["#"]),
        ],
    );
}

#[test]
fn each_fixture_is_recognised_as_its_export() {
    let cases = [
        ("salesforce.csv", "salesforce-api"),
        ("hubspot.csv", "hubspot"),
        ("mautic.csv", "mautic"),
        ("zoho.csv", "zoho"),
        ("pipedrive.csv", "pipedrive"),
        ("eventbrite.csv", "eventbrite"),
        ("badge-scan.csv", "badge-scan"),
        ("google-forms.csv", "google-forms"),
        ("typeform.csv", "typeform"),
    ];
    for (file, profile) in cases {
        let path = root().join("tests/exports").join(file);
        let mut rdr = csv::Reader::from_path(&path).unwrap();
        let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            leadsift::input::aliases::detect_profile(&headers),
            Some(profile),
            "{file}"
        );
    }
}
