//! Built-in header aliases for the fields rules read, and recognising which
//! export a header row comes from.
//!
//! # Matching
//!
//! Headers and aliases are compared after [`normalise`], which
//!
//! 1. drops a leading `<Entity> - ` prefix, the way Pipedrive writes every
//!    column, for the entities Person, Contact, Lead, Deal, Organization and
//!    Organisation: `Person - Email - Work` reads as `Email - Work`. Only a
//!    dash with spaces on both sides separates an entity, so `Lead Source`
//!    and `Lead Status` keep their meaning. The prefix stays when what
//!    follows is the record's own `Name` or `Title` and the record is not a
//!    person: `Organization - Name` is a company and `Deal - Title` names a
//!    deal, not someone's name or job title;
//! 2. drops Salesforce's custom-field suffix `__c` (`Budget__c` is `Budget`);
//! 3. reads `#` as "number" (`Order #` is `Order Number`, Typeform's `#`
//!    is `Number`);
//! 4. lowercases and keeps only letters and digits, so `E-Mail`, `e_mail`
//!    and `E mail` are one name.
//!
//! A field's aliases are tried in order: the rules file's own, the field's
//! name, then [`BUILTIN`], best first. The fields in [`MULTI`] are meant
//! to read every matching column (alias order first, then left to right)
//! and take the first that is not empty on each row; every other field
//! reads the first column found. (Until [`super::bind`] learns that, MULTI
//! fields too read only their first column.)
//!
//! # Exports covered
//!
//! Salesforce (API names from Data Export and Data Loader, UI labels from
//! reports), HubSpot (labels, and internal names), Mautic (field aliases),
//! Zoho CRM (labels, report and module exports), Pipedrive (after the
//! prefix), the Eventbrite attendee report, badge scans (eventyay and
//! pretix style), Google Forms and Typeform. [`detect_profile`] names them
//! from their telltale headers.
//!
//! # Preference among several emails or phones
//!
//! - email: the plain one, then work, business and primary; then home and
//!   personal; then other, secondary and alternate.
//! - phone: the plain one, then work, business and main; then mobile and
//!   cell; then home; then other. Fax is never a phone.
//!
//! # Invariants
//!
//! No normalised alias belongs to two fields (a field's own name counts as
//! one of its aliases), and every alias normalises to a non-empty name; the
//! tests at the bottom check both. Binding headers to columns is
//! [`super::bind`]'s job; placeholder values (`-None-`, `#N/A`) are not
//! headers and are not handled here.

/// Entities Pipedrive (and similar exports) put before each column.
const ENTITIES: &[&str] = &[
    "person",
    "contact",
    "lead",
    "deal",
    "organization",
    "organisation",
];

/// Entities whose `Name` or `Title` is the record's own name; their prefix
/// stays so that it does not read as a person's name or job title.
const RECORDS: &[&str] = &["lead", "deal", "organization", "organisation"];

/// The name a header or alias is compared by: without an entity prefix or
/// a `__c` suffix, `#` read as "number", lowercase, letters and digits only.
pub fn normalise(header: &str) -> String {
    let h = header.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let h = strip_entity(h);
    let h = match h.strip_suffix("__c").or_else(|| h.strip_suffix("__C")) {
        Some(base) if !squash(base).is_empty() => base,
        _ => h,
    };
    squash(h)
}

/// Lowercases, reads `#` as "number" and keeps only letters and digits.
fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '#' {
            out.push_str("number");
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `Person - Email - Work` -> `Email - Work`; anything else unchanged.
fn strip_entity(h: &str) -> &str {
    let Some((entity, rest)) = split_entity(h) else {
        return h;
    };
    let own = squash(rest);
    let record = RECORDS.iter().any(|r| entity.eq_ignore_ascii_case(r));
    if own.is_empty() || (record && (own == "name" || own == "title")) {
        return h;
    }
    rest
}

/// Splits `<Entity> - rest` at the first dash with whitespace on both
/// sides, if what comes before it is one of [`ENTITIES`].
fn split_entity(h: &str) -> Option<(&str, &str)> {
    let mut after_space = false;
    for (i, c) in h.char_indices() {
        if after_space && matches!(c, '-' | '–' | '—') {
            let rest = &h[i + c.len_utf8()..];
            if !rest.starts_with(char::is_whitespace) {
                return None;
            }
            let entity = h[..i].trim_end();
            return ENTITIES
                .iter()
                .any(|e| entity.eq_ignore_ascii_case(e))
                .then(|| (entity, rest.trim_start()));
        }
        after_space = c.is_whitespace();
    }
    None
}

/// Fields that may read several columns, taking per row the first one that
/// is not empty: exports keep work, home and mobile numbers apart.
pub const MULTI: &[&str] = &["email", "phone"];

/// Field name, then its aliases, best first. The field's own name is always
/// an alias too, tried before these. Spellings that normalise alike are
/// listed once: `Email Address` also stands for `E-mail address`,
/// `First Name` for Salesforce's `FirstName` and HubSpot's `firstname`.
pub const BUILTIN: &[(&str, &[&str])] = &[
    // Work addresses before private ones: the list is for reaching someone
    // about their company's purchase.
    (
        "email",
        &[
            "Email Address",
            "E-Mail-Adresse",
            "Work Email",
            "Business Email",
            "Email - Work",
            "Primary Email",
            "Attendee Email",
            "Contact Email",
            "Your Email",
            "Your Email Address",
            "What's your email?",
            "What's your email address?",
            "What's your work email?",
            "Mail",
            "Email - Home",
            "Home Email",
            "Personal Email",
            "Private Email",
            "Email - Other",
            "Other Email",
            "Secondary Email",
            "Alternate Email",
            "Email 2",
        ],
    ),
    (
        "first_name",
        &[
            "First Name",
            "Given Name",
            "Forename",
            "Fname",
            "Lead First Name",
            "Your First Name",
            "What's your first name?",
            "Vorname",
            "Prénom",
        ],
    ),
    (
        "last_name",
        &[
            "Last Name",
            "Surname",
            "Family Name",
            "Lname",
            "Lead Last Name",
            "Your Last Name",
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
            "Contact Person",
            "Lead Name",
            "Your Name",
            "What's your name?",
        ],
    ),
    ("salutation", &["Salutation", "Prefix", "Anrede"]),
    (
        "company",
        &[
            "Company",
            "Company Name",
            "Organization",
            "Organisation",
            "Organization Name",
            "Organisation Name",
            "Account",
            "Account Name",
            "CompanyOrAccount",
            "Associated Company",
            "Business Name",
            "Company / Organization",
            "Your Company",
            "Employer",
            "Firma",
            "Unternehmen",
        ],
    ),
    (
        "title",
        &[
            "Title",
            "Job Title",
            "Position",
            "Designation",
            "Role",
            "Job Role",
            "Job Function",
            "Your Job Title",
            "What's your role?",
        ],
    ),
    // Direct lines before mobiles, mobiles before home and other numbers.
    // Fax is deliberately absent: nobody answers a fax.
    (
        "phone",
        &[
            "Phone Number",
            "Work Phone",
            "Business Phone",
            "Phone - Work",
            "Office Phone",
            "Main Phone",
            "Direct Phone",
            "Telephone",
            "Telephone Number",
            "Tel",
            "Telefon",
            "Contact Number",
            "Your Phone Number",
            "What's your phone number?",
            "Mobile",
            "Mobile Phone",
            "Mobile Phone Number",
            "Mobile Number",
            "Phone - Mobile",
            "Cell Phone",
            "Cell",
            "Handy",
            "Home Phone",
            "Phone - Home",
            "Private Phone",
            "Phone - Other",
            "Other Phone",
            "Alternate Phone",
            "Phone 2",
        ],
    ),
    (
        "country",
        &[
            "Country",
            "Country/Region",
            "Home Country",
            "Work Country",
            "Mailing Country",
            "Billing Country",
            "Land",
        ],
    ),
    (
        "industry",
        &[
            "Industry",
            "Sector",
            "Vertical",
            "Company Industry",
            "Branche",
        ],
    ),
    (
        "company_size",
        &[
            "Company Size",
            "No. of Employees",
            "Mitarbeiter",
            "Anzahl Mitarbeiter",
            "Number of Employees",
            "NumEmployees",
            "Company Number of Employees",
            "Employees",
            "Employee Count",
            "Headcount",
        ],
    ),
    (
        "source",
        &[
            "Lead Source",
            "Source",
            "Original Source",
            "hs_analytics_source",
            "Latest Source",
            "Lead Origin",
            "Origin",
            "Channel",
            "UTM Source",
            "Referral Source",
            "How did you hear about us?",
        ],
    ),
    (
        "budget",
        &[
            "Budget",
            "Estimated Budget",
            "Budget Range",
            "Deal Value",
            "Lead Value",
            "Amount",
            "Value",
        ],
    ),
    (
        "timeline",
        &[
            "Timeline",
            "Timeframe",
            "Purchase Timeline",
            "Purchase Timeframe",
            "Buying Timeline",
            "When do you plan to buy?",
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
            "Requirements",
        ],
    ),
    (
        "notes",
        &[
            "Notes",
            "Note",
            "Notiz",
            "Bemerkung",
            "Description",
            "Comments",
            "Comment",
            "Message",
            "Remarks",
            "Additional Information",
        ],
    ),
    // Pipedrive's `Marketing status` (Subscribed, Unsubscribed) is consent,
    // not a sales stage: it is `marketing_status`.
    (
        "status",
        &[
            "Lead Status",
            "Status",
            "hs_lead_status",
            "Lifecycle Stage",
            "StageName",
            "Stage",
            "Deal Stage",
        ],
    ),
    (
        "revenue",
        &["Annual Revenue", "Revenue", "Company Annual Revenue"],
    ),
    (
        "website",
        &[
            "Website",
            "Website URL",
            "Company Website",
            "Company Domain Name",
            "Homepage",
            "URL",
            "Domain",
        ],
    ),
    (
        "city",
        &[
            "City",
            "Home City",
            "Work City",
            "Mailing City",
            "Billing City",
            "Company City",
            "Town",
            "Ort",
        ],
    ),
    (
        "state",
        &[
            "State",
            "State/Province",
            "State/Region",
            "Home State",
            "Work State",
            "Mailing State",
            "Region",
            "Province",
        ],
    ),
    (
        "postal_code",
        &[
            "Postal Code",
            "Zip/Postal Code",
            "Zip Code",
            "Zip",
            "Postcode",
            "Home Zip",
            "Work Zip",
            "Mailing Zip",
            "PLZ",
        ],
    ),
    // Salesforce's `Address` is a JSON compound of the other parts; its
    // `Street` column comes first because `Street` is the better alias.
    (
        "street",
        &[
            "Street",
            "Street Address",
            "Address Line 1",
            "Address 1",
            "Work Address 1",
            "Home Address 1",
            "Mailing Street",
            "Billing Street",
            "Address",
        ],
    ),
    (
        "created",
        &[
            "Created Date",
            "Create Date",
            "Created Time",
            "Created",
            "Created At",
            "Date Created",
            "Date Added",
            "Added Date",
            "Person created",
            "Lead created",
            "Deal created",
            "Scanned Date",
            "Timestamp",
            "Zeitstempel",
            "Order Date",
            "Submit Date (UTC)",
            "Submitted At",
        ],
    ),
    (
        "last_activity",
        &[
            "Last Activity",
            "Last Activity Date",
            "Last Activity Time",
            "Last Active",
        ],
    ),
    // Numbers only. `Rating` used to be here, but every export that has
    // one (Salesforce, Zoho, badge scans) fills it with Hot, Warm, Cold.
    ("score", &["Lead Score", "Score", "HubSpot Score", "Points"]),
    (
        "rating",
        &[
            "Rating",
            "Lead Rating",
            "Lead Quality",
            "Lead Temperature",
            "Temperature",
        ],
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
            "Number of Sessions",
            "hs_analytics_num_visits",
            "hs_analytics_num_page_views",
        ],
    ),
    // One field for every opt-out: a rule that honours one should honour
    // all. A file with several of these columns is read through the first.
    (
        "do_not_contact",
        &[
            "Do Not Contact",
            "HasOptedOutOfEmail",
            "Email Opt Out",
            "Unsubscribed from all email",
            "hs_email_optout",
            "Unsubscribed",
            "Opted Out",
            "Opt Out",
            "Do Not Email",
            "Do Not Call",
            "DNC",
        ],
    ),
    (
        "marketing_status",
        &[
            "Marketing Status",
            "Subscription Status",
            "Email Subscription Status",
        ],
    ),
    // An attendee is one row of an Eventbrite report; an order may hold
    // several, so `Attendee #` comes before `Order #`.
    (
        "id",
        &[
            "Record ID",
            "hs_object_id",
            "Lead ID",
            "Contact ID",
            "Attendee #",
            "Order #",
            "Response ID",
            "Submission ID",
            "#",
        ],
    ),
    (
        "owner",
        &[
            "Owner",
            "Lead Owner",
            "Contact Owner",
            "Record Owner",
            "OwnerId",
            "hubspot_owner_id",
            "LeadOrContactOwnerId",
            "Assigned To",
        ],
    ),
    ("tags", &["Tags", "Tag", "Labels", "Label"]),
    (
        "ticket_type",
        &[
            "Ticket Type",
            "Ticket",
            "Ticket Class",
            "Registration Type",
            "Attendee Type",
            "Badge Type",
        ],
    ),
    (
        "attendee_status",
        &[
            "Attendee Status",
            "Registration Status",
            "Attendance Status",
            "Check-in Status",
        ],
    ),
    ("converted", &["Converted", "IsConverted"]),
];

/// The built-in aliases of a field, if it is one of the built-in fields.
pub fn builtin(field: &str) -> Option<&'static [&'static str]> {
    BUILTIN.iter().find(|(f, _)| *f == field).map(|(_, a)| *a)
}

/// Where one export writes a common header for something else: profile,
/// field, and the aliases that replace the field's whole list (its own
/// name included) for that profile. Mautic's `title` holds Mr or Mrs and
/// its job title is `position`. Binding does not consult this yet; it
/// needs [`detect_profile`] first.
pub const PROFILE_OVERRIDES: &[(&str, &str, &[&str])] = &[
    ("mautic", "title", &["position"]),
    ("mautic", "salutation", &["title"]),
];

/// An export [`detect_profile`] can name, by headers only it writes.
struct Profile {
    name: &'static str,
    /// How many telltales must be present.
    min: usize,
    /// Compared exactly after trimming: letter case tells Salesforce's
    /// `AnnualRevenue` from HubSpot's `annualrevenue`, Zoho's `Record Id`
    /// from HubSpot's `Record ID`.
    telltales: &'static [&'static str],
}

/// Headers two of these exports share (`Lead Source`, `First Name`,
/// `email`) are no telltale and are left out.
const PROFILES: &[Profile] = &[
    Profile {
        name: "salesforce-api",
        min: 3,
        telltales: &[
            "IsDeleted",
            "MasterRecordId",
            "FirstName",
            "LastName",
            "PostalCode",
            "MobilePhone",
            "LeadSource",
            "AnnualRevenue",
            "NumberOfEmployees",
            "OwnerId",
            "IsConverted",
            "ConvertedDate",
            "IsUnreadByOwner",
            "CreatedDate",
            "CreatedById",
            "LastModifiedById",
            "SystemModstamp",
            "LastActivityDate",
            "HasOptedOutOfEmail",
            "DoNotCall",
            "CompanyOrAccount",
            "LeadOrContactId",
            "StageName",
        ],
    },
    Profile {
        name: "salesforce-ui",
        min: 2,
        telltales: &[
            "Lead ID",
            "State/Province",
            "Zip/Postal Code",
            "Last Activity",
            "Converted",
            "Do Not Call",
        ],
    },
    Profile {
        name: "hubspot",
        min: 2,
        telltales: &[
            "Record ID",
            "Contact owner",
            "Marketing contact status",
            "Last Activity Date",
            "Associated Company",
            "Associated Company IDs",
            "Primary Associated Company ID",
            "Lifecycle Stage",
            "Mobile Phone Number",
            "State/Region",
            "Country/Region",
            "Website URL",
            "Original Source",
            "Original Source Drill-Down 1",
            "Latest Source",
            "HubSpot Score",
            "Became a Lead Date",
            "Unsubscribed from all email",
        ],
    },
    Profile {
        name: "hubspot-internal",
        min: 2,
        telltales: &[
            "hs_object_id",
            "hs_lead_status",
            "hubspot_owner_id",
            "hs_analytics_source",
            "lifecyclestage",
            "createdate",
            "lastmodifieddate",
            "jobtitle",
            "mobilephone",
            "numemployees",
            "annualrevenue",
            "zip",
        ],
    },
    Profile {
        name: "mautic",
        min: 3,
        telltales: &[
            "position",
            "mobile",
            "points",
            "address1",
            "address2",
            "zipcode",
            "preferred_locale",
            "timezone",
            "last_active",
            "attribution_date",
            "attribution",
            "foursquare",
            "skype",
            "stage",
        ],
    },
    Profile {
        name: "zoho",
        min: 2,
        telltales: &[
            "LEADID",
            "CONVERTED",
            "Record Id",
            "Secondary Email",
            "Zip Code",
            "Skype ID",
            "Created By",
            "Modified By",
            "Created Time",
            "Modified Time",
            "Last Activity Time",
            "Converted Account",
            "Converted Contact",
            "Converted Deal",
            "Lead Conversion Time",
        ],
    },
    Profile {
        name: "eventbrite",
        min: 2,
        telltales: &[
            "Order #",
            "Order Date",
            "Quantity",
            "Price Tier",
            "Ticket Type",
            "Attendee #",
            "Order Type",
            "Total Paid",
            "Fees Paid",
            "Eventbrite Fees",
            "Eventbrite Payment Processing",
            "Attendee Status",
            "Home Address 1",
            "Barcode #",
            "Checked In",
        ],
    },
    Profile {
        name: "badge-scan",
        min: 2,
        telltales: &[
            "Exhibitor",
            "Pseudonymization ID",
            "Scanned Date",
            "Scan Time",
            "Scan Type",
            "Device Name",
            "Booth ID",
            "Booth Name",
            "Attendee Name",
        ],
    },
];

/// Names the export a header row looks like: `salesforce-api`,
/// `salesforce-ui`, `hubspot`, `hubspot-internal`, `mautic`, `zoho`,
/// `pipedrive`, `eventbrite`, `badge-scan`, `google-forms` or `typeform`.
/// `None` when no export has enough telltales, or two have as many.
pub fn detect_profile(headers: &[String]) -> Option<&'static str> {
    let h: Vec<&str> = headers
        .iter()
        .map(|x| x.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}'))
        .collect();
    if let Some(p) = by_shape(&h) {
        return Some(p);
    }
    let mut best: Option<(&'static str, usize)> = None;
    let mut tied = false;
    for p in PROFILES {
        let hits = p.telltales.iter().filter(|t| h.contains(t)).count();
        if hits < p.min {
            continue;
        }
        match best {
            Some((_, b)) if hits < b => {}
            Some((_, b)) if hits == b => tied = true,
            _ => {
                best = Some((p.name, hits));
                tied = false;
            }
        }
    }
    if tied {
        return None;
    }
    best.map(|(name, _)| name)
}

/// Exports known by the shape of their header row rather than by names.
fn by_shape(h: &[&str]) -> Option<&'static str> {
    let first = h.first().copied().unwrap_or_default();
    if first == "#" && h.contains(&"Submit Date (UTC)") {
        return Some("typeform");
    }
    if first == "Timestamp" && h.iter().any(|x| x.eq_ignore_ascii_case("Email Address")) {
        return Some("google-forms");
    }
    // Pipedrive prefixes every column; a file with only a few prefixed
    // columns was put together by someone else.
    let prefixed = h.iter().filter(|x| split_entity(x).is_some()).count();
    if prefixed >= 2 && prefixed * 2 > h.len() {
        return Some("pipedrive");
    }
    None
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn owned(headers: &[&str]) -> Vec<String> {
        headers.iter().map(|s| s.to_string()).collect()
    }

    /// The columns a field reads, as the binding does it: alias by alias
    /// (own name first), each alias left to right.
    fn columns<'h>(headers: &[&'h str], field: &str) -> Vec<&'h str> {
        let mut aliases = vec![normalise(field)];
        aliases.extend(
            builtin(field)
                .unwrap_or_default()
                .iter()
                .map(|a| normalise(a)),
        );
        let mut out = Vec::new();
        for a in &aliases {
            for h in headers {
                if normalise(h) == *a && !out.contains(h) {
                    out.push(*h);
                }
            }
        }
        out
    }

    /// The one column a field that is not in [`MULTI`] reads.
    fn column<'h>(headers: &[&'h str], field: &str) -> Option<&'h str> {
        columns(headers, field).first().copied()
    }

    /// Header rows from formats.md, as the vendors write them.
    #[rustfmt::skip]
    mod headers {
        pub const SALESFORCE_API: &[&str] = &[
            "Id", "IsDeleted", "MasterRecordId", "LastName", "FirstName", "Salutation", "Name",
            "Title", "Company", "Street", "City", "State", "PostalCode", "Country", "Latitude",
            "Longitude", "GeocodeAccuracy", "Address", "Phone", "MobilePhone", "Fax", "Email",
            "Website", "PhotoUrl", "Description", "LeadSource", "Status", "Industry", "Rating",
            "AnnualRevenue", "NumberOfEmployees", "OwnerId", "IsConverted", "ConvertedDate",
            "ConvertedAccountId", "ConvertedContactId", "ConvertedOpportunityId", "IsUnreadByOwner",
            "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
            "LastActivityDate", "LastViewedDate", "LastReferencedDate", "Jigsaw", "JigsawContactId",
            "CompanyDunsNumber", "DandbCompanyId", "EmailBouncedReason", "EmailBouncedDate",
            "IndividualId",
        ];
        pub const SALESFORCE_CAMPAIGN_MEMBER: &[&str] = &[
            "Id", "IsDeleted", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded",
            "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
            "FirstRespondedDate", "Salutation", "Name", "FirstName", "LastName", "Title", "Street",
            "City", "State", "PostalCode", "Country", "Email", "Phone", "Fax", "MobilePhone",
            "Description", "DoNotCall", "HasOptedOutOfEmail", "HasOptedOutOfFax", "LeadSource",
            "CompanyOrAccount", "Type", "LeadOrContactId", "LeadOrContactOwnerId",
        ];
        pub const SALESFORCE_UI: &[&str] = &[
            "Lead ID", "First Name", "Last Name", "Salutation", "Title", "Company", "Email",
            "Phone", "Mobile", "Website", "Lead Source", "Lead Status", "Rating", "Industry",
            "Annual Revenue", "No. of Employees", "Street", "City", "State/Province",
            "Zip/Postal Code", "Country", "Lead Owner", "Create Date", "Last Activity", "Converted",
            "Email Opt Out", "Do Not Call", "Description",
        ];
        pub const HUBSPOT: &[&str] = &[
            "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Contact owner",
            "Lead Status", "Marketing contact status", "Create Date", "Last Activity Date",
            "Associated Company", "Associated Company IDs", "Primary Associated Company ID",
            "Job Title", "Mobile Phone Number", "Lifecycle Stage",
        ];
        pub const HUBSPOT_INTERNAL: &[&str] = &[
            "hs_object_id", "firstname", "lastname", "email", "phone", "mobilephone", "jobtitle",
            "company", "lifecyclestage", "hs_lead_status", "hubspot_owner_id", "createdate",
            "lastmodifieddate", "hs_analytics_source", "city", "state", "zip", "country",
            "address", "website", "industry", "numemployees", "annualrevenue",
        ];
        pub const MAUTIC: &[&str] = &[
            "id", "title", "firstname", "lastname", "company", "position", "email", "mobile",
            "phone", "points", "fax", "address1", "address2", "city", "state", "zipcode",
            "country", "preferred_locale", "timezone", "last_active", "attribution_date",
            "attribution", "website", "facebook", "foursquare", "instagram", "linkedin", "skype",
            "twitter", "stage",
        ];
        pub const ZOHO_REPORT: &[&str] = &[
            "LEADID", "Last Name", "Company", "Lead Owner", "Email", "Mobile", "Website",
            "Industry", "Lead Source", "Lead Status", "Created Time", "CONVERTED",
        ];
        pub const ZOHO_MODULE: &[&str] = &[
            "Record Id", "Lead Owner", "Salutation", "First Name", "Last Name", "Title",
            "Company", "Email", "Secondary Email", "Phone", "Mobile", "Fax", "Website",
            "Lead Source", "Lead Status", "Industry", "No. of Employees", "Annual Revenue",
            "Rating", "Email Opt Out", "Skype ID", "Twitter", "Street", "City", "State",
            "Zip Code", "Country", "Description", "Created By", "Modified By", "Created Time",
            "Modified Time", "Last Activity Time", "Converted Account", "Converted Contact",
            "Converted Deal", "Lead Conversion Time",
        ];
        pub const PIPEDRIVE: &[&str] = &[
            "Person - ID", "Person - Name", "Person - First name", "Person - Last name",
            "Person - Organization", "Person - Label", "Person - Email - Work",
            "Person - Email - Home", "Person - Email - Other", "Person - Phone - Work",
            "Person - Phone - Home", "Person - Phone - Mobile", "Person - Phone - Other",
            "Person - Owner", "Person - Marketing status", "Person - Person created",
            "Person - Update time", "Person - Open deals", "Person - Won deals",
            "Person - Lost deals", "Person - Closed deals", "Person - Visible to",
        ];
        pub const PIPEDRIVE_DEALS: &[&str] = &[
            "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Stage", "Deal - Status",
            "Deal - Pipeline", "Deal - Lost reason", "Deal - Expected close date",
            "Deal - Deal created", "Deal - Owner", "Deal - Contact person", "Deal - Organization",
            "Organization - Name", "Person - Name", "Person - Email",
        ];
        pub const EVENTBRITE: &[&str] = &[
            "Order #", "Order Date", "First Name", "Last Name", "Email", "Quantity", "Price Tier",
            "Ticket Type", "Attendee #", "Group", "Order Type", "Currency", "Total Paid",
            "Fees Paid", "Eventbrite Fees", "Eventbrite Payment Processing", "Attendee Status",
            "Home Address 1", "Home Address 2", "Home City", "Home State", "Home Zip",
            "Home Country", "Job Title", "Company", "Work Phone", "Cell Phone",
        ];
        pub const BADGE_SCAN: &[&str] = &[
            "ID", "Exhibitor", "Pseudonymization ID", "Scanned Date", "Scan Time", "Scan Type",
            "Device Name", "Booth ID", "Booth Name", "Attendee Name", "Email", "Note", "Tags",
        ];
        pub const GOOGLE_FORMS: &[&str] = &[
            "Timestamp", "Email address", "Full name", "Company name", "Job title",
            "Phone number", "Which products interest you?", "How did you hear about us?",
        ];
        pub const TYPEFORM: &[&str] = &[
            "#", "First name", "Last name", "Phone number", "Email", "Company",
            "What best describes your role?", "Response Type", "Start Date (UTC)",
            "Stage Date (UTC)", "Submit Date (UTC)", "Network ID", "Tags",
        ];
    }
    use headers::*;

    #[test]
    fn normalising_ignores_case_spaces_and_punctuation() {
        assert_eq!(normalise("E-Mail"), "email");
        assert_eq!(normalise("No. of Employees"), "noofemployees");
        assert_eq!(normalise("Country/Region"), "countryregion");
        assert_eq!(normalise(" first_name "), "firstname");
        assert_eq!(normalise("\u{feff}Id"), "id");
        assert_eq!(normalise("What's your email?"), "whatsyouremail");
    }

    #[test]
    fn a_pipedrive_entity_prefix_is_dropped() {
        assert_eq!(
            normalise("Person - Email - Work"),
            normalise("Email - Work")
        );
        assert_eq!(normalise("Person - Email - Work"), "emailwork");
        assert_eq!(normalise("person – first name"), "firstname");
        assert_eq!(normalise("Contact - Phone"), "phone");
        assert_eq!(normalise("Lead - Source"), "source");
        assert_eq!(normalise("Organisation - Address"), "address");
        assert_eq!(normalise("Person - Name"), "name");
    }

    #[test]
    fn lead_and_other_words_without_a_spaced_dash_are_kept() {
        assert_eq!(normalise("Lead Source"), "leadsource");
        assert_eq!(normalise("Lead Status"), "leadstatus");
        assert_eq!(normalise("Lead-Status"), "leadstatus");
        assert_eq!(normalise("Contact Email"), "contactemail");
        assert_eq!(normalise("Email - Work"), "emailwork");
        assert_eq!(normalise("Person - "), "person");
        assert_eq!(
            column(&["Lead Source", "Lead Status"], "source"),
            Some("Lead Source")
        );
        assert_eq!(
            column(&["Lead Source", "Lead Status"], "status"),
            Some("Lead Status")
        );
    }

    #[test]
    fn a_record_keeps_the_entity_of_its_own_name() {
        assert_eq!(normalise("Organization - Name"), "organizationname");
        assert_eq!(normalise("Deal - Title"), "dealtitle");
        assert_eq!(
            column(PIPEDRIVE_DEALS, "company"),
            Some("Deal - Organization")
        );
        assert_eq!(column(PIPEDRIVE_DEALS, "full_name"), Some("Person - Name"));
        assert_eq!(column(PIPEDRIVE_DEALS, "title"), None);
        assert_eq!(
            column(&["Organization - Name"], "company"),
            Some("Organization - Name")
        );
    }

    #[test]
    fn salesforce_custom_suffix_and_number_sign() {
        assert_eq!(normalise("Budget__c"), "budget");
        assert_eq!(normalise("Home_Phone__c"), "homephone");
        assert_eq!(normalise("__c"), "c");
        assert_eq!(normalise("Order #"), "ordernumber");
        assert_eq!(normalise("#"), "number");
    }

    #[test]
    fn no_normalised_alias_belongs_to_two_fields() {
        let mut owner: HashMap<String, &str> = HashMap::new();
        let mut clashes = Vec::new();
        for (field, aliases) in BUILTIN {
            let mut names: Vec<String> = aliases.iter().map(|a| normalise(a)).collect();
            names.push(normalise(field));
            names.sort_unstable();
            names.dedup();
            for n in names {
                if let Some(other) = owner.insert(n.clone(), field) {
                    clashes.push(format!("`{n}` in {other} and {field}"));
                }
            }
        }
        assert!(clashes.is_empty(), "{clashes:#?}");
    }

    #[test]
    fn no_field_lists_one_name_twice() {
        for (field, aliases) in BUILTIN {
            let mut seen: HashMap<String, &str> = HashMap::new();
            for a in *aliases {
                if let Some(first) = seen.insert(normalise(a), a) {
                    panic!("{field}: `{a}` normalises like `{first}`");
                }
            }
        }
    }

    #[test]
    fn every_alias_normalises_to_a_name() {
        for (field, aliases) in BUILTIN {
            assert!(!normalise(field).is_empty());
            for a in *aliases {
                assert!(!normalise(a).is_empty(), "{field}: `{a}`");
            }
        }
    }

    #[test]
    fn every_builtin_field_is_distinct() {
        let mut names: Vec<&str> = BUILTIN.iter().map(|(f, _)| *f).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BUILTIN.len());
    }

    #[test]
    fn multi_fields_and_overrides_name_builtin_fields() {
        for f in MULTI {
            assert!(builtin(f).is_some(), "{f}");
        }
        for (profile, field, _) in PROFILE_OVERRIDES {
            assert!(builtin(field).is_some(), "{field}");
            assert!(PROFILES.iter().any(|p| p.name == *profile), "{profile}");
        }
    }

    #[test]
    fn fax_is_never_a_phone() {
        for a in builtin("phone").unwrap_or_default() {
            assert!(!normalise(a).contains("fax"), "{a}");
        }
        assert!(!columns(SALESFORCE_API, "phone").contains(&"Fax"));
        assert!(!columns(MAUTIC, "phone").contains(&"fax"));
    }

    #[test]
    fn rating_is_not_a_score() {
        assert_eq!(column(SALESFORCE_API, "rating"), Some("Rating"));
        assert_eq!(column(SALESFORCE_API, "score"), None);
        assert_eq!(column(MAUTIC, "score"), Some("points"));
    }

    #[test]
    fn emails_in_order_of_preference() {
        assert_eq!(
            columns(PIPEDRIVE, "email"),
            [
                "Person - Email - Work",
                "Person - Email - Home",
                "Person - Email - Other"
            ]
        );
        assert_eq!(columns(ZOHO_MODULE, "email"), ["Email", "Secondary Email"]);
        assert_eq!(
            columns(
                &["Personal Email", "Other Email", "Business Email"],
                "email"
            ),
            ["Business Email", "Personal Email", "Other Email"]
        );
    }

    #[test]
    fn phones_in_order_of_preference() {
        assert_eq!(
            columns(PIPEDRIVE, "phone"),
            [
                "Person - Phone - Work",
                "Person - Phone - Mobile",
                "Person - Phone - Home",
                "Person - Phone - Other"
            ]
        );
        assert_eq!(columns(SALESFORCE_API, "phone"), ["Phone", "MobilePhone"]);
        assert_eq!(
            columns(HUBSPOT, "phone"),
            ["Phone Number", "Mobile Phone Number"]
        );
        assert_eq!(columns(EVENTBRITE, "phone"), ["Work Phone", "Cell Phone"]);
        assert_eq!(columns(MAUTIC, "phone"), ["phone", "mobile"]);
        assert_eq!(columns(ZOHO_MODULE, "phone"), ["Phone", "Mobile"]);
    }

    /// Each real header row maps the contact fields it has: (headers,
    /// email, first name, last name, full name, company, title, phone).
    #[test]
    fn real_header_rows_map_their_contact_fields() {
        type Want = [Option<&'static str>; 7];
        #[rustfmt::skip]
        let cases: &[(&str, &[&str], Want)] = &[
            (
                "salesforce api",
                SALESFORCE_API,
                [Some("Email"), Some("FirstName"), Some("LastName"), Some("Name"), Some("Company"), Some("Title"), Some("Phone")],
            ),
            (
                "salesforce campaign member",
                SALESFORCE_CAMPAIGN_MEMBER,
                [Some("Email"), Some("FirstName"), Some("LastName"), Some("Name"), Some("CompanyOrAccount"), Some("Title"), Some("Phone")],
            ),
            (
                "salesforce ui",
                SALESFORCE_UI,
                [Some("Email"), Some("First Name"), Some("Last Name"), None, Some("Company"), Some("Title"), Some("Phone")],
            ),
            (
                "hubspot",
                HUBSPOT,
                [Some("Email"), Some("First Name"), Some("Last Name"), None, Some("Associated Company"), Some("Job Title"), Some("Phone Number")],
            ),
            (
                "hubspot internal",
                HUBSPOT_INTERNAL,
                [Some("email"), Some("firstname"), Some("lastname"), None, Some("company"), Some("jobtitle"), Some("phone")],
            ),
            (
                // `title` is Mautic's salutation: see PROFILE_OVERRIDES.
                "mautic",
                MAUTIC,
                [Some("email"), Some("firstname"), Some("lastname"), None, Some("company"), Some("title"), Some("phone")],
            ),
            (
                "zoho report",
                ZOHO_REPORT,
                [Some("Email"), None, Some("Last Name"), None, Some("Company"), None, Some("Mobile")],
            ),
            (
                "zoho module",
                ZOHO_MODULE,
                [Some("Email"), Some("First Name"), Some("Last Name"), None, Some("Company"), Some("Title"), Some("Phone")],
            ),
            (
                "pipedrive",
                PIPEDRIVE,
                [Some("Person - Email - Work"), Some("Person - First name"), Some("Person - Last name"), Some("Person - Name"), Some("Person - Organization"), None, Some("Person - Phone - Work")],
            ),
            (
                "eventbrite",
                EVENTBRITE,
                [Some("Email"), Some("First Name"), Some("Last Name"), None, Some("Company"), Some("Job Title"), Some("Work Phone")],
            ),
            (
                "badge scan",
                BADGE_SCAN,
                [Some("Email"), None, None, Some("Attendee Name"), None, None, None],
            ),
            (
                "google forms",
                GOOGLE_FORMS,
                [Some("Email address"), None, None, Some("Full name"), Some("Company name"), Some("Job title"), Some("Phone number")],
            ),
            (
                "typeform",
                TYPEFORM,
                [Some("Email"), Some("First name"), Some("Last name"), None, Some("Company"), None, Some("Phone number")],
            ),
        ];
        let fields = [
            "email",
            "first_name",
            "last_name",
            "full_name",
            "company",
            "title",
            "phone",
        ];
        let mut wrong = Vec::new();
        for (name, headers, want) in cases {
            for (field, w) in fields.iter().zip(want) {
                let got = column(headers, field);
                if got != *w {
                    wrong.push(format!("{name}: {field} -> {got:?}, expected {w:?}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn other_fields_of_real_header_rows() {
        assert_eq!(column(SALESFORCE_API, "id"), Some("Id"));
        assert_eq!(column(SALESFORCE_API, "street"), Some("Street"));
        assert_eq!(column(SALESFORCE_API, "owner"), Some("OwnerId"));
        assert_eq!(column(SALESFORCE_API, "converted"), Some("IsConverted"));
        assert_eq!(column(SALESFORCE_API, "salutation"), Some("Salutation"));
        assert_eq!(
            column(SALESFORCE_UI, "postal_code"),
            Some("Zip/Postal Code")
        );
        assert_eq!(
            column(SALESFORCE_UI, "do_not_contact"),
            Some("Email Opt Out")
        );
        assert_eq!(column(HUBSPOT, "id"), Some("Record ID"));
        assert_eq!(column(HUBSPOT, "owner"), Some("Contact owner"));
        assert_eq!(column(HUBSPOT, "status"), Some("Lead Status"));
        assert_eq!(column(HUBSPOT_INTERNAL, "postal_code"), Some("zip"));
        assert_eq!(column(HUBSPOT_INTERNAL, "street"), Some("address"));
        assert_eq!(column(MAUTIC, "postal_code"), Some("zipcode"));
        assert_eq!(column(MAUTIC, "status"), Some("stage"));
        assert_eq!(column(ZOHO_REPORT, "id"), Some("LEADID"));
        assert_eq!(column(ZOHO_REPORT, "converted"), Some("CONVERTED"));
        assert_eq!(column(ZOHO_REPORT, "created"), Some("Created Time"));
        assert_eq!(column(PIPEDRIVE, "id"), Some("Person - ID"));
        assert_eq!(
            column(PIPEDRIVE, "created"),
            Some("Person - Person created")
        );
        assert_eq!(column(PIPEDRIVE, "tags"), Some("Person - Label"));
        assert_eq!(
            column(PIPEDRIVE, "marketing_status"),
            Some("Person - Marketing status")
        );
        assert_eq!(column(PIPEDRIVE, "status"), None);
        assert_eq!(column(EVENTBRITE, "id"), Some("Attendee #"));
        assert_eq!(column(EVENTBRITE, "ticket_type"), Some("Ticket Type"));
        assert_eq!(
            column(EVENTBRITE, "attendee_status"),
            Some("Attendee Status")
        );
        assert_eq!(column(EVENTBRITE, "street"), Some("Home Address 1"));
        assert_eq!(column(BADGE_SCAN, "created"), Some("Scanned Date"));
        assert_eq!(column(BADGE_SCAN, "tags"), Some("Tags"));
        assert_eq!(column(BADGE_SCAN, "notes"), Some("Note"));
        assert_eq!(column(GOOGLE_FORMS, "created"), Some("Timestamp"));
        assert_eq!(
            column(GOOGLE_FORMS, "source"),
            Some("How did you hear about us?")
        );
        assert_eq!(column(TYPEFORM, "id"), Some("#"));
        assert_eq!(column(TYPEFORM, "created"), Some("Submit Date (UTC)"));
    }

    #[test]
    fn each_export_is_recognised() {
        let cases: &[(&[&str], &str)] = &[
            (SALESFORCE_API, "salesforce-api"),
            (SALESFORCE_CAMPAIGN_MEMBER, "salesforce-api"),
            (SALESFORCE_UI, "salesforce-ui"),
            (HUBSPOT, "hubspot"),
            (HUBSPOT_INTERNAL, "hubspot-internal"),
            (MAUTIC, "mautic"),
            (ZOHO_REPORT, "zoho"),
            (ZOHO_MODULE, "zoho"),
            (PIPEDRIVE, "pipedrive"),
            (PIPEDRIVE_DEALS, "pipedrive"),
            (EVENTBRITE, "eventbrite"),
            (BADGE_SCAN, "badge-scan"),
            (GOOGLE_FORMS, "google-forms"),
            (TYPEFORM, "typeform"),
        ];
        for (headers, want) in cases {
            assert_eq!(detect_profile(&owned(headers)), Some(*want), "{headers:?}");
        }
        // The HubSpot default view alone, and a BOM before the first header.
        let view = &HUBSPOT[..10];
        assert_eq!(detect_profile(&owned(view)), Some("hubspot"));
        let mut bom = owned(SALESFORCE_API);
        bom[0] = format!("\u{feff}{}", bom[0]);
        assert_eq!(detect_profile(&bom), Some("salesforce-api"));
    }

    #[test]
    fn an_unknown_or_ambiguous_header_row_has_no_profile() {
        assert_eq!(detect_profile(&[]), None);
        assert_eq!(
            detect_profile(&owned(&["Email", "First Name", "Company"])),
            None
        );
        // One telltale is not enough.
        assert_eq!(
            detect_profile(&owned(&["Email", "IsDeleted", "Company"])),
            None
        );
        // As many Zoho as Salesforce UI telltales.
        let mixed = owned(&["Email", "Lead ID", "State/Province", "LEADID", "CONVERTED"]);
        assert_eq!(detect_profile(&mixed), None);
        // A couple of prefixed columns in a file of plain ones.
        let plain = owned(&["Email", "Name", "Company", "Person - Phone - Work"]);
        assert_eq!(detect_profile(&plain), None);
        // Google Forms without an email column, Typeform's `#` alone.
        assert_eq!(detect_profile(&owned(&["Timestamp", "Your name"])), None);
        assert_eq!(detect_profile(&owned(&["#", "Email"])), None);
    }
}
