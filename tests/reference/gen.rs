//! A small seeded generator of messy lead rows, after the reference
//! benchmark's `gen_leads.py` (../shared/bench): the same 17 columns, the
//! same vocabularies and the same kinds of mess (invalid, padded and
//! re-cased duplicate emails, free and disposable domains, sizes such as
//! `10,000+` and `approx 40`, budgets such as `$ 25,000`, `25k`, `TBD`,
//! `€15.000` and `10-20k`, US-style dates, visits such as `3.5` and `many`,
//! notes with commas, quotes and line breaks, non-ASCII names).
//!
//! It is not byte-for-byte the Python generator (another random number
//! generator, a few rates rounded), so that the tests need nothing outside
//! this repository; the benchmark script uses the real one. Shared by
//! `tests/reference.rs` and `benches/rules.rs`.

#![allow(dead_code)]

pub const COLUMNS: [&str; 17] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "company_size",
    "industry",
    "country",
    "source",
    "budget",
    "timeline",
    "need",
    "visits",
    "demo_requested",
    "last_activity",
    "notes",
];

/// xorshift64*: small, seeded, the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `lo..=hi`.
    pub fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next_u64() as usize % xs.len()]
    }
}

#[rustfmt::skip]
const FIRST: &[&str] = &[
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra",
    "Paul", "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Kevin", "Amanda", "Brian",
    "Melissa", "George", "Laura", "Priya", "Wei", "Hiroshi", "Fatima", "Ahmed", "Olga", "Lars",
    "Ingrid", "Kwame", "José", "Zoë", "Søren", "François", "Łukasz", "Renée", "Jürgen",
    "Ana María", "Jean-Luc", "Siobhan", "Mateus",
];
#[rustfmt::skip]
const LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "O'Brien", "van der Berg", "Müller", "García",
    "Kowalski", "Dubois", "Rossi", "Tanaka", "Ivanova", "Okafor", "MacDonald", "Björk", "Haddad",
    "Schmidt", "Chen", "Patel", "Kim", "Singh", "Novak", "Larsen",
];
const ASCII_LOCAL: &[(&str, &str)] = &[
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Søren", "soren"),
    ("François", "francois"),
    ("Łukasz", "lukasz"),
    ("Renée", "renee"),
    ("Jürgen", "juergen"),
    ("Ana María", "anamaria"),
    ("Jean-Luc", "jean-luc"),
    ("O'Brien", "obrien"),
    ("van der Berg", "vanderberg"),
    ("Müller", "mueller"),
    ("García", "garcia"),
    ("Björk", "bjork"),
];
#[rustfmt::skip]
const CO_A: &[&str] = &[
    "Blue", "North", "Bright", "Iron", "Silver", "Red", "Green", "Summit", "Atlas", "Apex", "Nova",
    "Pioneer", "Harbor", "Cedar", "Granite", "Swift", "Quantum", "Vertex", "Golden", "Pacific",
    "Alpine", "Crescent", "Orbit", "Prairie", "Lumen",
];
#[rustfmt::skip]
const CO_B: &[&str] = &[
    "Rock", "Wave", "Bridge", "Stone", "Peak", "Field", "Line", "Point", "Gate", "Works", "Labs",
    "Logic", "Path", "Forge", "Leaf", "Stream", "Grid", "Sky", "Port", "Mill",
];
#[rustfmt::skip]
const CO_SUFFIX: &[&str] = &[
    "Inc.", "LLC", "Ltd", "GmbH", "Corp", "Group", "Systems", "Solutions", "Technologies",
    "Partners", "& Co", "S.A.", "B.V.", "Holdings",
];
const CO_ODD: &[&str] = &["Müller", "Søn", "Société", "Ñandú"];
#[rustfmt::skip]
const TLDS: &[&str] = &[
    "com", "com", "com", "io", "co", "net", "de", "co.uk", "fr", "nl", "ca", "com.au",
];
#[rustfmt::skip]
pub const FREE: &[&str] = &[
    "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com",
    "icloud.com", "gmx.de", "protonmail.com", "mail.com", "yandex.ru",
];
#[rustfmt::skip]
pub const DISPOSABLE: &[&str] = &[
    "mailinator.com", "guerrillamail.com", "10minutemail.com", "tempmail.com", "trashmail.com",
    "yopmail.com",
];
#[rustfmt::skip]
const JUNK_COMPANY: &[&str] = &[
    "", "n/a", "N/A", "none", "-", "test", "Self-employed", "freelance", "self",
];
#[rustfmt::skip]
pub const TITLES_DM: &[&str] = &[
    "CEO", "CEO & Founder", "Co-Founder", "Founder", "CTO", "CFO", "COO", "CIO", "CMO",
    "Chief Revenue Officer", "Chief Marketing Officer", "President", "Owner", "VP Sales",
    "VP of Marketing", "SVP Engineering", "EVP Operations", "Vice President, Sales", "Head of IT",
    "Head of Growth", "Head of Sales Ops", "Director of Marketing", "IT Director",
    "Sales Director", "Managing Director", "Director, Procurement", "vp sales", "HEAD OF IT",
    "ceo",
];
#[rustfmt::skip]
pub const TITLES_JUNIOR: &[&str] = &[
    "Marketing Intern", "Sales Intern", "Assistant to the VP", "Executive Assistant",
    "Junior Developer", "Associate Director", "Student", "Jr. Analyst", "Research Assistant",
    "Sales Associate",
];
#[rustfmt::skip]
pub const TITLES_OTHER: &[&str] = &[
    "Marketing Manager", "Sales Manager", "Software Engineer", "IT Manager", "Operations Manager",
    "Account Executive", "Business Analyst", "Procurement Manager", "Product Manager",
    "Consultant", "Developer", "Data Scientist", "Office Manager", "Team Lead", "Specialist",
    "Project Manager", "Engineer", "Analyst", "", "", "-", "n/a",
];
#[rustfmt::skip]
const SIZES: &[&str] = &[
    "1-10", "11-50", "51-200", "201-500", "501-1000", "1000+", "5000+", "10,000+", "5", "12", "35",
    "49", "50", "80", "150", "320", "1200", "2,500", "", "", "unknown", "approx 40", "~200",
];
#[rustfmt::skip]
pub const INDUSTRIES: &[&str] = &[
    "Software", "SaaS", "saas", "FinTech", "Fintech", "Healthcare", "healthcare ", "Manufacturing",
    "MANUFACTURING", "Retail", "Education", "Non-profit", "Government", "Real Estate", "Logistics",
    "Media", "Consulting", "Energy", "Hospitality", "Legal", "Insurance", "", "Other",
];
#[rustfmt::skip]
pub const COUNTRIES: &[&str] = &[
    "US", "US", "USA", "United States", "United States", "us", "UK", "United Kingdom", "Canada",
    "Germany", "germany", "France", "Netherlands", "Australia", "India", "Brazil", "Japan",
    "Spain", "Italy", "Mexico", "DE", "Sweden", "Poland", "Singapore", "South Africa", "", " US ",
    "Ireland",
];
#[rustfmt::skip]
pub const SOURCES: &[&str] = &[
    "Website", "Website", "Website", "website", "Referral", "LinkedIn", "LinkedIn", "Webinar",
    "Trade Show", "Google Ads", "Google Ads", "Partner", "Cold Outreach", "Content Download",
    "Content Download", "", "Event", "referral", "Linkedin ",
];
#[rustfmt::skip]
const BUDGETS_NUM: &[u64] = &[
    1000, 2500, 5000, 7500, 9000, 9999, 10000, 12000, 15000, 20000, 25000, 30000, 50000, 75000,
    100000, 250000,
];
const BUDGETS_ODD: &[&str] = &["TBD", "unknown", "n/a", "€15.000", "depends", "10-20k"];
#[rustfmt::skip]
const TIMELINES: &[&str] = &[
    "this quarter", "This Quarter", "this month", "Q3", "q3", "Q4", "Q1", "next year", "Next Year",
    "", "", "", "ASAP", "asap", "< 3 months", "<3 months", "3-6 months", "6-12 months", "unknown",
    "immediately", "Q3 2025", "this quarter ", "not sure",
];
#[rustfmt::skip]
const NEEDS: &[&str] = &[
    "", "", "", "CRM replacement", "Lead routing", "Reporting, dashboards", "Replace spreadsheets",
    "Data enrichment", "Sales forecasting", "n/a", "N/A", "none", "-", "Integrate with ERP",
    "Automate outreach", "Compliance (SOC 2)", "Better pipeline visibility",
];
#[rustfmt::skip]
const DEMO: &[&str] = &[
    "yes", "Yes", "YES", "y", "Y", "true", "1", "no", "No", "n", "N", "false", "0", "", "", "no",
    "no", "No", "", "no",
];
#[rustfmt::skip]
pub const NOTE_PARTS: &[&str] = &[
    "Met at booth", "Downloaded whitepaper", "Asked about pricing",
    "Requested a quote for 50 seats", "Wants a proposal by Friday", "Follow up next week",
    "Not interested right now", "Left voicemail", "Said \"call me after the holidays\"",
    "Budget approved, waiting on legal", "Using competitor, contract ends in Q4",
    "Referred by existing customer", "Interested in API access, SSO, and audit logs",
    "Pricing page visit x3", "Asked for \"enterprise\" PRICING tiers", "Bounced email last month",
    "Spoke to gatekeeper", "Needs approval from CFO", "Evaluating 3 vendors",
    "Trial user, 14 days left", "Wrong contact, forwarded to IT", "Unsubscribed from newsletter",
    "Quote sent, no reply",
];
const NOTE_SEPS: &[&str] = &[". ", "; ", "\n", ", ", " -- "];
const JUNK_PHONES: &[&str] = &["n/a", "call me", "123", "-", "none", "0"];
const JUNK_VISITS: &[&str] = &["n/a", "-", "many", "3.5"];

fn ascii_local(name: &str) -> &str {
    ASCII_LOCAL
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, a)| a)
}

/// `25000` as `25,000`.
pub fn thousands(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn companies(rng: &mut Rng, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|_| {
            let (a, b) = (rng.pick(CO_A), rng.pick(CO_B));
            let suffix = rng.pick(CO_SUFFIX);
            let style = rng.random();
            let bl = b.to_lowercase();
            let name = if style < 0.45 {
                format!("{a}{bl} {suffix}")
            } else if style < 0.75 {
                format!("{a} {b}, {suffix}")
            } else if style < 0.85 {
                format!("{a} & {b} {suffix}")
            } else if style < 0.93 {
                format!("{a}{b}")
            } else {
                format!("{a} {b} {} {suffix}", rng.pick(CO_ODD))
            };
            let dom = format!("{}{bl}.{}", a.to_lowercase(), rng.pick(TLDS));
            (name, dom)
        })
        .collect()
}

fn phone(rng: &mut Rng) -> String {
    let (area, mid, last) = (rng.int(201, 989), rng.int(200, 999), rng.int(0, 9999));
    let r = rng.random();
    match r {
        _ if r < 0.15 => String::new(),
        _ if r < 0.17 => rng.pick(JUNK_PHONES).to_string(),
        _ if r < 0.30 => format!("({area}) {mid}-{last:04}"),
        _ if r < 0.42 => format!("{area}-{mid}-{last:04}"),
        _ if r < 0.52 => format!("{area}.{mid}.{last:04}"),
        _ if r < 0.62 => format!("+1 {area} {mid} {last:04}"),
        _ if r < 0.70 => format!("{area}{mid}{last:04}"),
        _ if r < 0.76 => format!("+44 20 {} {last:04}", rng.int(7000, 8999)),
        _ if r < 0.82 => format!("+49 30 {}", rng.int(1_000_000, 9_999_999)),
        _ if r < 0.87 => format!("{area}-{mid}-{last:04} ext. {}", rng.int(1, 999)),
        _ if r < 0.92 => format!("+1-{area}-{mid}-{last:04}"),
        _ if r < 0.96 => format!("0{} {}", rng.int(100, 999), rng.int(100_000, 9_999_999)),
        _ => format!("{mid}-{last:04}"),
    }
}

fn email_local(rng: &mut Rng, first: &str, last: &str) -> String {
    let f = ascii_local(first).to_lowercase().replace(' ', "");
    let l = ascii_local(last).to_lowercase().replace([' ', '\''], "");
    let r = rng.random();
    let n = rng.int(1, 99_999);
    let f0 = f.chars().next().unwrap_or('x');
    match r {
        _ if r < 0.35 => format!("{f}.{l}{n}"),
        _ if r < 0.55 => format!("{f0}{l}{n}"),
        _ if r < 0.70 => format!("{f}_{l}{n}"),
        _ if r < 0.85 => format!("{f}{n}"),
        _ => format!("{f}.{l}+{}{n}", rng.pick(&["news", "crm", "x"])),
    }
}

fn invalid_email(rng: &mut Rng, l: &str, d: &str) -> String {
    let nodot = d.split('.').next().unwrap_or(d);
    match rng.next_u64() % 11 {
        0 => format!("{l}@"),
        1 => format!("{l}@@{d}"),
        2 => format!("{l} at {d}"),
        3 => format!("{l}.{d}"),
        4 => format!("{l}@{nodot}"),
        5 => "n/a".into(),
        6 => "none".into(),
        7 => format!("{l}@{d}."),
        8 => format!("@{d}"),
        9 => format!("{l}@ {d}"),
        _ => format!("{l}(at){d}"),
    }
}

/// A differently cased spelling of `email` (when it has letters).
fn recase(rng: &mut Rng, email: &str) -> String {
    let (local, dom) = email.split_once('@').unwrap_or((email, ""));
    let r = rng.random();
    let out = if r < 0.4 {
        email.to_uppercase()
    } else if r < 0.7 {
        let parts: Vec<String> = local
            .split('.')
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
            })
            .collect();
        format!("{}@{dom}", parts.join("."))
    } else {
        format!("{local}@{}", dom.to_uppercase())
    };
    if out == email {
        email.to_uppercase()
    } else {
        out
    }
}

fn note(rng: &mut Rng) -> String {
    let r = rng.random();
    if r < 0.40 {
        return String::new();
    }
    let k = if r < 0.75 {
        1
    } else if r < 0.93 {
        2
    } else {
        3
    };
    let parts: Vec<&str> = (0..k).map(|_| rng.pick(NOTE_PARTS)).collect();
    let sep = rng.pick(NOTE_SEPS);
    parts.join(sep)
}

fn budget(rng: &mut Rng) -> String {
    let r = rng.random();
    if r < 0.22 {
        return String::new();
    }
    if r < 0.25 {
        return rng.pick(BUDGETS_ODD).to_string();
    }
    let v = BUDGETS_NUM[rng.next_u64() as usize % BUDGETS_NUM.len()];
    let r = rng.random();
    match r {
        _ if r < 0.35 => format!("${}", thousands(v)),
        _ if r < 0.65 => v.to_string(),
        _ if r < 0.80 && v.is_multiple_of(1000) => format!("{}k", v / 1000),
        _ if r < 0.80 => v.to_string(),
        _ if r < 0.90 => format!("{v}.00"),
        _ => format!("$ {}", thousands(v)),
    }
}

fn last_activity(rng: &mut Rng) -> String {
    let r = rng.random();
    if r < 0.07 {
        return String::new();
    }
    // A day from 2024-01-01 to 2025-08-15.
    let d = rng.int(0, 592);
    let (y, mut rem) = if d < 366 { (2024, d) } else { (2025, d - 366) };
    let feb = if y == 2024 { 29 } else { 28 };
    let mdays = [31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut m = 0;
    while rem >= mdays[m] {
        rem -= mdays[m];
        m += 1;
    }
    if r < 0.15 {
        // US style: the rules ignore it.
        return format!("{:02}/{:02}/{y}", m + 1, rem + 1);
    }
    format!("{y}-{:02}-{:02}", m + 1, rem + 1)
}

fn visits(rng: &mut Rng) -> String {
    let r = rng.random();
    if r < 0.02 {
        return String::new();
    }
    if r < 0.03 {
        return rng.pick(JUNK_VISITS).to_string();
    }
    // Exponential with mean 4, as `expovariate(1/4)`.
    let v = (-(1.0 - rng.random()).ln() * 4.0) as u64;
    v.to_string()
}

/// `rows` data rows (without the header), in the order of `COLUMNS`.
pub fn rows(rows: usize, seed: u64) -> Vec<Vec<String>> {
    let mut rng = Rng::new(seed);
    let companies = companies(&mut rng, 2000);
    // Earlier rows with a valid-looking email: (first, last, email, company, title).
    let mut recent: Vec<[String; 5]> = Vec::new();
    let mut out = Vec::with_capacity(rows);
    for _ in 0..rows {
        let (first, last, email, company, title);
        if !recent.is_empty() && rng.random() < 0.05 {
            // The same person again: same email, other case.
            let i = rng.next_u64() as usize % recent.len();
            let [f, l, e, c, t] = recent[i].clone();
            (first, last, company, title) = (f, l, c, t);
            email = recase(&mut rng, &e);
        } else {
            let first0 = rng.pick(FIRST);
            last = rng.pick(LAST).to_string();
            let r = rng.random();
            first = if r < 0.02 {
                first0.to_uppercase()
            } else if r < 0.04 {
                first0.to_lowercase()
            } else {
                first0.to_string()
            };
            let (name, cdom) = &companies[rng.next_u64() as usize % companies.len()];
            company = if rng.random() < 0.02 {
                rng.pick(JUNK_COMPANY).to_string()
            } else {
                name.clone()
            };
            let t = rng.random();
            title = rng
                .pick(if t < 0.33 {
                    TITLES_DM
                } else if t < 0.45 {
                    TITLES_JUNIOR
                } else {
                    TITLES_OTHER
                })
                .to_string();
            let loc = email_local(&mut rng, first0, &last);
            let d = rng.random();
            let dom = if d < 0.20 {
                rng.pick(FREE).to_string()
            } else if d < 0.21 {
                rng.pick(DISPOSABLE).to_string()
            } else {
                cdom.clone()
            };
            let e = rng.random();
            email = if e < 0.03 {
                String::new()
            } else if e < 0.04 {
                invalid_email(&mut rng, &loc, &dom)
            } else {
                let mut em = format!("{loc}@{dom}");
                if rng.random() < 0.08 {
                    em = recase(&mut rng, &em);
                }
                if rng.random() < 0.01 {
                    em = format!("{}{em}{}", rng.pick(&[" ", "  "]), rng.pick(&["", " "]));
                }
                let entry = [
                    first.clone(),
                    last.clone(),
                    em.clone(),
                    company.clone(),
                    title.clone(),
                ];
                recent.push(entry);
                em
            };
        }
        out.push(vec![
            first,
            last,
            email,
            phone(&mut rng),
            company,
            title,
            rng.pick(SIZES).to_string(),
            rng.pick(INDUSTRIES).to_string(),
            rng.pick(COUNTRIES).to_string(),
            rng.pick(SOURCES).to_string(),
            budget(&mut rng),
            rng.pick(TIMELINES).to_string(),
            rng.pick(NEEDS).to_string(),
            visits(&mut rng),
            rng.pick(DEMO).to_string(),
            last_activity(&mut rng),
            note(&mut rng),
        ]);
    }
    out
}

/// The rows as a CSV file with its header (RFC 4180, `\n` line ends).
pub fn to_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(COLUMNS).expect("header");
    for r in rows {
        w.write_record(r).expect("row");
    }
    w.into_inner().expect("flush")
}
