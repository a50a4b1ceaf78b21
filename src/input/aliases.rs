//! Built-in header aliases for the fields rules read, from the exports
//! people actually have (Salesforce, HubSpot, Mautic, Pipedrive, Zoho,
//! Eventbrite, badge scanners, web forms).
//!
//! Headers and aliases are compared after [`normalise`]: lowercase, with
//! everything but letters and digits removed, so `E-Mail`, `e_mail` and
//! `E mail` are one name. Within one field the first alias that a header
//! matches wins, in the order below; a rules file's own aliases come first.

/// Lowercases and keeps only letters and digits.
pub fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Field name, then its aliases, best first. The field's own name is always
/// an alias too.
pub const BUILTIN: &[(&str, &[&str])] = &[
    (
        "email",
        &[
            "Email Address",
            "E-Mail",
            "Email",
            "Work Email",
            "Business Email",
            "Attendee Email",
            "Person - Email - Work",
            "Email - Work",
            "Contact Email",
            "Primary Email",
            "Mail",
        ],
    ),
    (
        "first_name",
        &[
            "First Name",
            "FirstName",
            "Given Name",
            "Fname",
            "Person - First name",
            "Lead First Name",
            "Vorname",
        ],
    ),
    (
        "last_name",
        &[
            "Last Name",
            "LastName",
            "Surname",
            "Family Name",
            "Lname",
            "Person - Last name",
            "Lead Last Name",
            "Nachname",
        ],
    ),
    (
        "full_name",
        &[
            "Name",
            "Full Name",
            "Attendee Name",
            "Contact Name",
            "Person - Name",
            "Lead Name",
        ],
    ),
    (
        "company",
        &[
            "Company",
            "Company Name",
            "Organization",
            "Organisation",
            "Account",
            "Account Name",
            "Person - Organization",
            "CompanyOrAccount",
            "Associated Company",
            "Employer",
            "Firma",
        ],
    ),
    (
        "title",
        &[
            "Title",
            "Job Title",
            "JobTitle",
            "Position",
            "Designation",
            "Role",
            "Person - Title",
        ],
    ),
    (
        "phone",
        &[
            "Phone",
            "Phone Number",
            "Work Phone",
            "Business Phone",
            "Person - Phone - Work",
            "Telephone",
            "Tel",
            "Mobile",
            "MobilePhone",
            "Mobile Phone",
            "Mobile Phone Number",
            "Cell Phone",
            "Telefon",
        ],
    ),
    (
        "country",
        &[
            "Country",
            "Country/Region",
            "Country Region",
            "Home Country",
            "Billing Country",
            "Land",
        ],
    ),
    ("industry", &["Industry", "Sector", "Vertical", "Branche"]),
    (
        "company_size",
        &[
            "Company Size",
            "No. of Employees",
            "Number of Employees",
            "NumberOfEmployees",
            "NumEmployees",
            "Employees",
            "Headcount",
            "Employee Count",
        ],
    ),
    (
        "source",
        &[
            "Lead Source",
            "LeadSource",
            "Source",
            "Original Source",
            "hs_analytics_source",
            "Lead Origin",
            "Origin",
            "Channel",
            "Lead - Source",
        ],
    ),
    (
        "budget",
        &[
            "Budget",
            "Estimated Budget",
            "Budget Range",
            "Deal Value",
            "Lead - Value",
        ],
    ),
    (
        "timeline",
        &[
            "Timeline",
            "Timeframe",
            "Time Frame",
            "Purchase Timeline",
            "Buying Timeline",
            "When do you plan to buy",
        ],
    ),
    (
        "need",
        &[
            "Need",
            "Needs",
            "Pain Point",
            "Use Case",
            "Interest",
            "Interested In",
            "Product Interest",
        ],
    ),
    (
        "notes",
        &[
            "Notes",
            "Note",
            "Description",
            "Comments",
            "Comment",
            "Message",
            "Remarks",
        ],
    ),
    (
        "status",
        &[
            "Lead Status",
            "Status",
            "hs_lead_status",
            "Lifecycle Stage",
            "LifecycleStage",
            "StageName",
            "Person - Marketing status",
        ],
    ),
    ("revenue", &["Annual Revenue", "AnnualRevenue", "Revenue"]),
    (
        "website",
        &[
            "Website",
            "Website URL",
            "Web Site",
            "Company Website",
            "URL",
        ],
    ),
    ("city", &["City", "Home City", "Town"]),
    (
        "state",
        &[
            "State",
            "State/Province",
            "State/Region",
            "Region",
            "Province",
        ],
    ),
    (
        "created",
        &[
            "Created Date",
            "CreatedDate",
            "Create Date",
            "Created Time",
            "Created",
            "Scanned Date",
            "Timestamp",
            "Order Date",
            "Submit Date (UTC)",
        ],
    ),
    (
        "last_activity",
        &[
            "Last Activity",
            "Last Activity Date",
            "LastActivityDate",
            "Last Activity Time",
            "Last Active",
        ],
    ),
    (
        "score",
        &["Lead Score", "Score", "HubSpot Score", "Points", "Rating"],
    ),
    (
        "demo_requested",
        &[
            "Demo Requested",
            "Requested Demo",
            "Demo Request",
            "Wants Demo",
        ],
    ),
    (
        "visits",
        &[
            "Visits",
            "Page Views",
            "Number of Pageviews",
            "Website Visits",
            "Sessions",
        ],
    ),
    (
        "do_not_contact",
        &[
            "Do Not Contact",
            "DoNotCall",
            "Do Not Call",
            "HasOptedOutOfEmail",
            "Email Opt Out",
            "Unsubscribed",
            "Opted Out",
        ],
    ),
];

/// Fields bound to every matching column, the first non-empty winning.
pub const MULTI: &[&str] = &["email", "phone"];

/// The export a header row looks like, when that is clear.
pub fn detect_profile(_headers: &[String]) -> Option<&'static str> {
    None
}

/// The built-in aliases of a field, if it is one of the built-in fields.
pub fn builtin(field: &str) -> Option<&'static [&'static str]> {
    BUILTIN.iter().find(|(f, _)| *f == field).map(|(_, a)| *a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_ignores_case_spaces_and_punctuation() {
        assert_eq!(normalise("E-Mail"), "email");
        assert_eq!(normalise("No. of Employees"), "noofemployees");
        assert_eq!(normalise("Country/Region"), "countryregion");
        assert_eq!(normalise(" first_name "), "firstname");
    }

    #[test]
    fn every_builtin_field_is_distinct() {
        let mut names: Vec<&str> = BUILTIN.iter().map(|(f, _)| *f).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BUILTIN.len());
    }
}
