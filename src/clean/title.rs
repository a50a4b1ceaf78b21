//! Job titles: a seniority level and a department, by keywords on word
//! boundaries, case- and accent-insensitive, English and German.
//!
//! Before matching, a title loses the clause naming its employer (`at
//! Acme`, `bei Acme`, anything after `@`) and whom an assistant serves
//! (`Assistant to the CEO`, `Assistenz der Geschäftsführung`), so an
//! assistant of the CEO is not c-level.
//!
//! Seniority is the first rung of this ladder that has a keyword (see
//! [`SENIORITY`]):
//!
//! 1. `c-level`: CEO, CTO, CFO, COO, CMO, CIO, CISO, CRO, CPO, ..., Chief
//!    ..., Founder, Co-founder, Managing Director, Managing Partner,
//!    Geschäftsführer, Vorstand, Inhaber.
//! 2. `vp`: VP, SVP, EVP, AVP, Vice President (so "Senior VP" and "Vice
//!    President" are not caught by rung 3's President).
//! 3. `c-level`: President, Owner (not Product/Process/... Owner), and
//!    Partner as the *last* word (Partner, Senior Partner; not Partner
//!    Manager, HR Business Partner).
//! 4. `director`: Director, Head (of), Leiter/Leiterin and `-leiter`
//!    compounds (Vertriebsleiter), Direktor, and Chief of Staff.
//! 5. `manager`: Manager (and `-manager` compounds), Lead (not Lead
//!    Generation), Team Lead(er), Supervisor, Teamleiter, Projektleiter.
//! 6. `intern`: Intern, Trainee, Apprentice, (Working) Student,
//!    Werkstudent, Praktikant, Azubi.
//! 7. `individual`: any other title.
//!
//! Department is the first row of [`DEPARTMENTS`] with a keyword, so the
//! order breaks ties: "Product Marketing Manager" is marketing, "Sales
//! Engineer" sales, "Data Engineer" data, "Security Engineer" security.
//! Chief officers map to their field (CTO engineering, CFO finance, COO
//! operations); CEO, Founder, President, Owner and Managing Director are
//! executive.
//!
//! Empty titles and placeholders (`n/a`, `-`, `none`, `tbd`) give `None`.

mod keywords;
mod words;

use std::sync::LazyLock;

use super::fold::ascii_lower;
pub use keywords::{DEPARTMENTS, SENIORITY};
use keywords::{LEAD_AS_PROSPECT, OWNED_THINGS, PARTNER_ROLES, PLACEHOLDERS, TEAM_LEITER};
use words::{Matcher, Words};

static SENIORITY_MATCHER: LazyLock<Matcher> = LazyLock::new(|| Matcher::new(SENIORITY));
static DEPARTMENT_MATCHER: LazyLock<Matcher> = LazyLock::new(|| Matcher::new(DEPARTMENTS));

/// Seniority of a job title: `"c-level"`, `"vp"`, `"director"`,
/// `"manager"`, `"individual"` or `"intern"` (the ladder is in the module
/// doc); `None` for an empty or placeholder title.
pub fn seniority(title: &str) -> Option<&'static str> {
    with_words(title, |mut words| {
        mask_non_ranks(&mut words);
        let rung = SENIORITY_MATCHER.best(&words);
        rung.map_or("individual", |i| SENIORITY[i].0)
    })
}

/// Department of a job title by keyword (the table and its order are in
/// [`DEPARTMENTS`]); `None` when no keyword matches or the title is empty.
pub fn department(title: &str) -> Option<&'static str> {
    with_words(title, |mut words| {
        mask_common(&mut words);
        DEPARTMENT_MATCHER.best(&words).map(|i| DEPARTMENTS[i].0)
    })
    .flatten()
}

/// Runs `f` on the title's words, or gives `None` for no title.
fn with_words<T>(title: &str, f: impl FnOnce(Vec<&str>) -> T) -> Option<T> {
    let title = title.split('@').next().unwrap_or(title).trim();
    if title.is_empty() || PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(title)) {
        return None;
    }
    let lower = ascii_lower(title);
    let words = Words::new(&lower).without_clauses();
    if words.0.is_empty() {
        return None;
    }
    Some(f(words.0))
}

/// Hides words that look like rank keywords but are not, in context.
fn mask_non_ranks(words: &mut [&str]) {
    mask_common(words);
    let last = words.len().saturating_sub(1);
    for i in 0..words.len() {
        let next = words.get(i + 1).copied().unwrap_or("");
        let before = if i > 0 { words[i - 1] } else { "" };
        match words[i] {
            "partner" if i != last || PARTNER_ROLES.contains(&before) => words[i] = "",
            "chief" if next == "of" => words[i] = "head",
            "lead" if LEAD_AS_PROSPECT.contains(&next) => words[i] = "",
            w if TEAM_LEITER
                .iter()
                .any(|t| w.strip_prefix(t).is_some_and(|r| r.len() <= 2)) =>
            {
                words[i] = "teamlead"
            }
            _ => {}
        }
    }
}

/// A `Product Owner` owns a product and a `Vice President` is no
/// president: hide `owner` and `president` there.
fn mask_common(words: &mut [&str]) {
    for i in 1..words.len() {
        let before = words[i - 1];
        let owned = words[i] == "owner" && OWNED_THINGS.contains(&before);
        let vice =
            matches!(words[i], "president" | "prasident") && matches!(before, "vice" | "vize");
        if owned || vice {
            words[i] = "";
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_seniority(level: &str, titles: &[&str]) {
        for t in titles {
            assert_eq!(seniority(t), Some(level), "{t:?}");
        }
    }

    fn check_department(dept: &str, titles: &[&str]) {
        for t in titles {
            assert_eq!(department(t), Some(dept), "{t:?}");
        }
    }

    #[test]
    fn c_level() {
        check_seniority(
            "c-level",
            &[
                "CEO",
                "Chief Executive Officer",
                "CTO & Co-Founder",
                "cfo",
                "Chief Revenue Officer",
                "Founder",
                "Cofounder",
                "Owner",
                "President",
                "President & CEO",
                "Managing Director",
                "Geschäftsführer",
                "Geschäftsführerin",
                "Geschaeftsfuehrer",
                "Inhaber",
                "Managing Partner",
                "Partner",
                "Senior Partner",
                "CISO",
                "Vorstand",
                "Head of Sales and Founder",
                "Geschäftsführender Gesellschafter",
            ],
        );
    }

    #[test]
    fn vp() {
        check_seniority(
            "vp",
            &[
                "VP Sales",
                "Senior VP",
                "SVP, Marketing",
                "EVP",
                "Vice President",
                "Vice-President of Engineering",
                "Senior Vice President Operations",
                "Vizepräsident Vertrieb",
            ],
        );
    }

    #[test]
    fn director_and_manager() {
        check_seniority(
            "director",
            &[
                "Director of Engineering",
                "Head of Sales",
                "Sales Director",
                "Executive Director",
                "Leiter Vertrieb",
                "Vertriebsleiter",
                "Abteilungsleiterin Einkauf",
                "Art Director",
                "Assistant Director",
                "Chief of Staff",
                "Director, Office of the CEO",
            ],
        );
        check_seniority(
            "manager",
            &[
                "Engineering Manager",
                "Product Manager",
                "Team Lead",
                "Tech Lead",
                "Supervisor",
                "Teamleiter IT",
                "Projektleiterin",
                "Key-Account-Manager",
                "Produktmanagerin",
                "Partner Manager",
                "Lead Engineer",
                "Team Leader",
            ],
        );
    }

    #[test]
    fn intern_and_individual() {
        check_seniority(
            "intern",
            &[
                "Intern",
                "Marketing Intern",
                "Trainee",
                "Working Student",
                "Werkstudent Marketing",
                "Praktikantin",
                "Apprentice Electrician",
            ],
        );
        check_seniority(
            "individual",
            &[
                "Software Engineer",
                "Analyst",
                "Specialist",
                "Consultant",
                "Associate",
                "Assistant to the CEO",
                "Executive Assistant to the Managing Director",
                "Assistenz der Geschäftsführung",
                "Product Owner",
                "Lead Generation Specialist",
                "Account Executive",
                "Internal Auditor",
                "Partner, Tax",
                "HR Business Partner",
            ],
        );
    }

    #[test]
    fn no_title() {
        for t in ["", "   ", "n/a", "N/A", "-", "none", "...", "@acme"] {
            assert_eq!(seniority(t), None, "{t:?}");
            assert_eq!(department(t), None, "{t:?}");
        }
    }

    /// Titles by the department they must get.
    #[rustfmt::skip]
    const DEPARTMENT_CASES: &[(&str, &[&str])] = &[
        ("executive", &[
            "CEO", "Founder", "Co-Founder & CEO", "Owner", "Managing Director", "Geschäftsführer",
            "President",
        ]),
        ("engineering", &[
            "CTO", "Software Engineer", "Director of Engineering", "Engineering Manager",
            "Backend Developer", "Softwareentwicklerin", "R&D Lead",
        ]),
        ("finance", &["CFO", "Head of Finance", "Controller", "Buchhalterin"]),
        ("sales", &[
            "VP Sales", "Vertriebsleiter", "Account Executive", "Business Development Rep",
            "Sales Engineer", "Leiter Vertrieb",
        ]),
        ("marketing", &[
            "CMO", "Product Marketing Manager", "Marketing Intern", "Head of Growth",
            "Marketingleiterin",
        ]),
        ("data", &["Data Engineer", "Data Scientist", "BI Analyst"]),
        ("security", &["CISO", "Security Engineer", "Head of IT Security"]),
        ("it", &["CIO", "IT Manager", "Leiter IT", "System Administrator"]),
        ("hr", &[
            "HR Business Partner", "Head of People", "Recruiter", "Personalleiterin",
            "Leiter Personal", "Abteilungsleiter Personal",
        ]),
        ("procurement", &["Einkäufer", "Leiter Einkauf", "Purchasing Manager"]),
        ("operations", &["COO", "Operations Manager", "Head of Logistics"]),
        ("legal", &["General Counsel", "Datenschutzbeauftragter"]),
        ("product", &["Product Owner", "Product Manager", "UX Researcher"]),
        ("customer-success", &["Customer Success Manager", "Support Agent"]),
        ("education", &["Teacher", "Professor of Physics"]),
    ];

    #[test]
    fn departments() {
        for (dept, titles) in DEPARTMENT_CASES {
            check_department(dept, titles);
        }
    }

    #[test]
    fn no_department() {
        for t in [
            "Consultant",
            "Vice President",
            "Assistant",
            "Personal Assistant",
            "Partner",
        ] {
            assert_eq!(department(t), None, "{t:?}");
        }
    }
}
