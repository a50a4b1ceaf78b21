//! The keyword tables behind `title.rs`: the seniority ladder, the
//! departments, and the words that mask a keyword in context. Data only;
//! the matching rules (word boundaries, `*` prefixes and suffixes) are in
//! `words.rs`.

/// The seniority ladder, highest rung first. Rung 3 is the second
/// `c-level` row; keywords are described in `words.rs`.
#[rustfmt::skip]
pub const SENIORITY: &[(&str, &[&str])] = &[
    ("c-level", &[
        "ceo", "cto", "cfo", "coo", "cmo", "cio", "ciso", "cro", "cpo", "cdo", "cso", "cco",
        "chro", "cxo", "cao", "clo", "chief", "founder", "founders", "cofounder", "grunder",
        "grunderin", "mitgrunder", "mitgrunderin", "managing director", "managing partner",
        "geschaftsfuhr*", "geschaeftsfuehr*", "vorstand", "vorstandsvorsitzender", "vorstandsvorsitzende",
        "vorstandsmitglied", "inhaber", "inhaberin", "c level",
    ]),
    ("vp", &["vp", "svp", "evp", "avp", "vice", "vize", "vicepresident", "vizeprasident"]),
    ("c-level", &["president", "prasident", "presidente", "owner", "partner"]),
    ("director", &[
        "director", "directors", "directora", "direktor", "direktorin", "directeur", "directrice",
        "head", "leiter", "leiterin", "leitung", "*leiter", "*leiterin",
    ]),
    ("manager", &[
        "manager", "managers", "mgr", "*manager", "*managerin", "lead", "leads", "teamlead",
        "leader", "supervisor", "foreman", "vorarbeiter",
    ]),
    ("intern", &[
        "intern", "interns", "internship", "trainee", "apprentice", "apprenticeship", "student",
        "werkstudent", "werkstudentin", "praktikant", "praktikantin", "azubi", "auszubildende",
        "auszubildender", "stagiaire", "becario", "becaria",
    ]),
];

/// Owners who own a thing, not the company.
#[rustfmt::skip]
pub(super) const OWNED_THINGS: &[&str] = &[
    "account", "app", "application", "budget", "content", "control", "data", "feature",
    "platform", "process", "product", "risk", "service", "system",
];

/// Words after "lead" that make it a sales lead, not a team lead.
#[rustfmt::skip]
pub(super) const LEAD_AS_PROSPECT: &[&str] = &[
    "gen", "generation", "generator", "management", "nurture", "nurturing", "qualification",
    "routing", "scoring",
];

/// Words before "partner" that make it a role, not an owner of the firm
/// (`HR Business Partner`, `Channel Partner`).
#[rustfmt::skip]
pub(super) const PARTNER_ROLES: &[&str] = &[
    "alliance", "alliances", "business", "channel", "implementation", "integration", "referral",
    "reseller", "sales", "solution", "solutions", "strategic", "success", "technology",
];

/// `-leiter` compounds that lead a team, not a department.
#[rustfmt::skip]
pub(super) const TEAM_LEITER: &[&str] = &[
    "filialleiter", "gruppenleiter", "projektleiter", "schichtleiter", "teamleiter",
];

/// Departments, first match wins.
#[rustfmt::skip]
pub const DEPARTMENTS: &[(&str, &[&str])] = &[
    ("executive", &[
        "ceo", "chief executive", "founder", "founders", "cofounder", "grunder*", "mitgrunder*",
        "owner", "inhaber", "inhaberin", "president", "prasident", "managing director",
        "managing partner", "geschaftsfuhr*", "geschaeftsfuehr*", "vorstand*", "chairman",
        "chairwoman", "chairperson", "c level",
    ]),
    ("security", &["ciso", "security", "cybersecurity", "infosec", "sicherheit", "*sicherheit"]),
    ("legal", &[
        "legal", "counsel", "lawyer", "attorney", "paralegal", "compliance", "clo",
        "data protection", "datenschutz*", "dpo", "privacy", "jurist", "juristin", "justiziar",
        "justitiar", "rechtsanwalt", "rechtsanwaltin", "syndikus", "recht*",
    ]),
    ("data", &[
        "data", "analytics", "business intelligence", "bi", "machine learning", "ml", "ai",
        "artificial intelligence", "cdo",
    ]),
    ("sales", &[
        "sales", "vertrieb*", "verkauf*", "business development", "bizdev", "bdr", "sdr",
        "account executive", "account manager", "account management", "key account", "kam", "cro",
        "revenue operations", "revops", "inside sales", "presales", "pre sales", "commercial",
        "partnerships", "alliances", "channel", "ventas", "vente", "ventes", "new business",
    ]),
    ("marketing", &[
        "marketing*", "cmo", "brand", "branding", "demand generation", "demand gen",
        "lead generation", "growth", "seo", "sem", "content", "communications", "comms",
        "public relations", "pr", "social media", "events", "kommunikation", "werbung",
        "copywriter", "campaign", "campaigns", "community",
    ]),
    ("it", &[
        "it", "cio", "information technology", "sysadmin", "system administrator",
        "systems administrator", "helpdesk", "help desk", "service desk", "infrastructure",
        "network", "networks", "netzwerk*", "edv", "informatik", "informatique",
    ]),
    ("customer-success", &[
        "customer success", "client success", "customer experience", "cx", "customer service",
        "customer care", "customer support", "support", "kundenservice", "kundenbetreuung",
        "kundendienst", "onboarding",
    ]),
    ("product", &[
        "product", "products", "produkt*", "cpo", "ux", "ui", "user experience", "user research",
    ]),
    ("engineering", &[
        "engineering", "engineer", "engineers", "developer", "developers", "development",
        "software", "cto", "devops", "sre", "site reliability", "programmer", "programmierer*",
        "entwickler*", "*entwickler", "*entwicklerin", "entwicklung", "r d",
        "research and development", "qa", "quality assurance", "tester", "frontend", "backend",
        "fullstack", "full stack", "architect", "firmware", "hardware", "embedded", "ingenieur*",
        "technology",
    ]),
    ("finance", &[
        "finance", "financial", "finanz*", "cfo", "accounting", "accountant", "controller",
        "controlling", "treasury", "treasurer", "buchhaltung", "buchhalter*", "audit", "auditor",
        "tax", "steuer*", "payroll", "billing", "accounts payable", "accounts receivable", "fp a",
        "bookkeeper", "comptroller", "investor relations", "rechnungswesen",
    ]),
    ("hr", &[
        "hr", "human resources", "people", "chro", "recruiting", "recruiter", "recruitment",
        "talent", "personalabteilung", "personalleiter*", "personalreferent*", "personalwesen",
        "personalentwicklung", "personalmanagement", "personalsachbearbeiter*", "*leiter personal", "*leiterin personal", "leiter personal",
        "leiterin personal", "leitung personal", "ressources humaines", "rrhh", "benefits",
        "compensation",
    ]),
    ("procurement", &[
        "procurement", "purchasing", "purchaser", "buyer", "einkauf*", "beschaffung", "sourcing",
        "vendor management", "supplier",
    ]),
    ("operations", &[
        "operations", "ops", "coo", "logistics", "logistik", "supply chain", "facility",
        "facilities", "betrieb*", "produktion", "production", "manufacturing", "fertigung",
        "office manager", "administration", "warehouse", "fleet", "quality",
    ]),
    ("education", &[
        "teacher", "professor", "lecturer", "education", "educator", "school", "dean", "faculty",
        "lehrer*", "dozent*", "tutor", "instructor", "curriculum", "academic", "teaching",
        "trainer",
    ]),
];

/// Titles that say there is no title.
#[rustfmt::skip]
pub(super) const PLACEHOLDERS: &[&str] = &[
    "n/a", "na", "n.a.", "none", "null", "unknown", "tbd", "-", "x",
];
