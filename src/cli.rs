//! The command line as clap sees it: raw values only. Turning them into a
//! validated run is each command's job (`cmd/`).

use std::num::{NonZeroU64, NonZeroUsize};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// The version and the commit it was built from (`--version`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("LEADSIFT_COMMIT"),
    ")"
);

/// The exit statuses, as `--help` shows them.
pub const EXIT_STATUS: &str = "Exit status:
  0        success
  1        a runtime failure (unreadable input, unwritable output, --strict met a malformed row)
  2        a usage or rules error
  3        --min-rows not met          4  --max-rejected exceeded
  5        --max-duplicates exceeded   6  --min-stage not met
           (gates are checked after every output and the summary are written;
           when several fail, the lowest status wins)
  130/143  interrupted by SIGINT/SIGTERM (previous outputs kept)";

#[derive(Debug, Parser)]
#[command(
    name = "leadsift",
    version = VERSION,
    about = "Qualify sales lead exports into lead, prospect and opportunity files",
    propagate_version = true
)]
#[command(
    after_help = EXIT_STATUS
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Qualify one or more CSV exports and write the stage files and a summary.
    #[command(after_help = format!("{RUN_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Run(Box<RunArgs>),
    /// Validate a rules file and show what it defines.
    #[command(
        after_help = "Examples:\n  leadsift check\n  leadsift check --rules rules/trade-show.toml"
    )]
    Check(CheckArgs),
    /// Show how rows are decided: every rule with the values it read,
    /// the totals before and after caps, the stage conditions.
    #[command(
        after_help = "Explain shows the rules' verdict on each row on its own: duplicates, --exclude lists and --state are decided by `run` over whole inputs.\n\nExit status: 0 rows shown; 1 the input cannot be read, or has no such row, or no row matches; 2 a usage or rules error.\n\nExamples:\n  leadsift explain samples/webform.csv --row 1\n  leadsift explain -r rules/trade-show.toml samples/badge-scans.csv --match email=karen.mueller@silverpath.de\n  leadsift explain --json samples/webform.csv --row 4 --row 6 | jq '.rows[].stage'"
    )]
    Explain(Box<ExplainArgs>),
    /// Run the examples of a rules file ([[example]]) and show each failure
    /// with its explanation.
    #[command(
        after_help = "Exit status: 0 every example passes (or there are none); 1 an example fails; 2 a rules error.\n\nExamples:\n  leadsift test\n  leadsift test --rules rules/trade-show.toml"
    )]
    Test(TestArgs),
    /// Write a starter rules file, with comments and examples, to edit.
    #[command(
        after_help = "The file is written only if it does not exist yet (exit 2 otherwise); list files it names (lists/competitors.txt) are written beside it unless they exist.\n\nExamples:\n  leadsift init\n  leadsift init --profile trade-show show-rules.toml"
    )]
    Init(InitArgs),
    /// Print a shell completion script on stdout.
    #[command(
        after_help = "Examples:\n  leadsift completions bash > ~/.local/share/bash-completion/completions/leadsift\n  leadsift completions zsh > ~/.zfunc/_leadsift\n  leadsift completions fish > ~/.config/fish/completions/leadsift.fish\n  leadsift completions powershell >> $PROFILE"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout.
    #[command(
        after_help = "Examples:\n  leadsift man | man -l -\n  leadsift man > /usr/local/share/man/man1/leadsift.1"
    )]
    Man,
}

const RUN_EXAMPLES: &str = "Examples:
  leadsift run samples/webform.csv
  leadsift run -r rules/trade-show.toml -o out/ badge-scans.csv
  cat export.csv | leadsift run --json -q - > summary.json

  # nightly: fail (status 4) if over 5% of rows are rejected, keep state
  LEADSIFT_RULES=/etc/leadsift/b2b.toml LEADSIFT_OUT=/srv/leads/today \\
    leadsift run -q --state /srv/leads/state.db --max-rejected 5% --min-rows 100 export.csv

  # CI: check a file without writing anything
  leadsift run --dry-run --strict --max-duplicates 10% leads.csv

  # stream opportunities to another tool as JSON Lines (all files still written)
  leadsift run --stdout opportunity --out-format jsonl leads.csv | jq -r .Email";

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// CSV files to read, in order; `-` reads standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Rules file (TOML); without it the built-in rules/default.toml applies.
    #[arg(short, long, value_name = "FILE", env = "LEADSIFT_RULES")]
    pub rules: Option<PathBuf>,
    /// Output directory, created if missing.
    #[arg(
        short,
        long,
        value_name = "DIR",
        default_value = "leadsift-out",
        env = "LEADSIFT_OUT"
    )]
    pub out: PathBuf,
    /// Threads that read, evaluate and write rows [default: all cores].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Progress bar on stderr: `auto` shows it when stderr is a terminal.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto, value_name = "WHEN")]
    pub progress: ProgressMode,
    /// Print nothing on stderr but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the summary JSON on stdout.
    #[arg(long, conflicts_with = "stdout")]
    pub json: bool,
    /// Read, qualify and summarise, but write no file: no stage files, no
    /// summary files, no state (gates still set the exit status).
    #[arg(long)]
    pub dry_run: bool,
    /// Rename outputs into place without syncing them to disk first:
    /// faster on a slow disk. A failed or interrupted run still leaves the
    /// previous outputs, but a power cut or a system crash soon after the
    /// run can leave its outputs incomplete. Not with --state, which must
    /// only record outputs that are on disk.
    #[arg(long, conflicts_with = "state")]
    pub no_sync: bool,
    /// Stop at the first malformed row (status 1, nothing written) instead
    /// of rejecting it.
    #[arg(long)]
    pub strict: bool,
    /// Also stream this stage's rows to standard output, header first, as
    /// they are qualified (its file is still written).
    #[arg(long, value_enum, value_name = "STAGE")]
    pub stdout: Option<StdoutStage>,
    /// Format of the stage files and of --stdout.
    #[arg(long, value_enum, default_value_t = OutFormat::Csv, value_name = "FORMAT")]
    pub out_format: OutFormat,
    /// Start CSV and TSV files with a UTF-8 byte-order mark, so that Excel
    /// on Windows shows accents correctly.
    #[arg(long)]
    pub bom: bool,
    /// Gate: fail with status 3 when fewer rows than this were read.
    #[arg(long, value_name = "N", help_heading = "Gates")]
    pub min_rows: Option<u64>,
    /// Gate: fail with status 4 when more rows than this were rejected
    /// (a count, or a share of the rows read: `5%`).
    #[arg(long, value_name = "N|P%", help_heading = "Gates")]
    pub max_rejected: Option<String>,
    /// Gate: fail with status 5 when more rows than this were duplicates
    /// (a count, or a share of the rows read: `10%`).
    #[arg(long, value_name = "N|P%", help_heading = "Gates")]
    pub max_duplicates: Option<String>,
    /// Gate: fail with status 6 when a stage has fewer rows than this
    /// (`opportunity=1`, `prospect=2%`); repeat for several stages.
    #[arg(long, value_name = "STAGE=N|P%", help_heading = "Gates")]
    pub min_stage: Vec<String>,
    /// Write cells exactly as read, without defusing spreadsheet formulas
    /// (for machine-to-machine use).
    #[arg(long)]
    pub no_sanitize: bool,
    /// Text encoding of the inputs (`utf-8`, `windows-1252`, `utf-16le`,
    /// `latin1`, ...) [default: detected per file].
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Field delimiter of CSV inputs: `,` `;` `tab` `|` or any single
    /// character [default: detected per file].
    #[arg(short, long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Sheet of a workbook input (.xlsx, .xls, .ods) [default: the first].
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Rows with fewer fields than the header: `reject` them, or `pad` them
    /// with empty fields.
    #[arg(long, value_enum, default_value_t = ShortRows::Reject, value_name = "WHAT")]
    pub short_rows: ShortRows,
    /// Rows with more fields than the header: `reject` them, or `keep` them
    /// with the extra fields in a `leadsift_extra` column.
    #[arg(long, value_enum, default_value_t = LongRows::Reject, value_name = "WHAT")]
    pub long_rows: LongRows,
    /// A list of people or companies who must not come out as new leads
    /// (customers, do-not-contact, a CRM export): rows matching it by
    /// email, phone or email domain are disqualified. Repeat for several.
    #[arg(long = "exclude", value_name = "FILE")]
    pub excludes: Vec<PathBuf>,
    /// State file (SQLite) that remembers every person seen by earlier runs:
    /// rows are marked new, changed or unchanged, and stages never move
    /// down. Created if missing; updated only when the run succeeds.
    #[arg(long, value_name = "FILE", env = "LEADSIFT_STATE")]
    pub state: Option<PathBuf>,
    /// With --state: write only new and changed rows to the stage files
    /// (unchanged ones are counted in the summary).
    #[arg(long, requires = "state")]
    pub only_changed: bool,
    /// With --state: let a person's stage move down the ladder
    /// (opportunity > prospect > lead) instead of holding the earlier one.
    #[arg(long, requires = "state")]
    pub allow_downgrade: bool,
    /// The run's date, YYYY-MM-DD: what `days_since` and `decay` count
    /// from, and what the state file records, so a nightly run can be
    /// replayed exactly [default: today].
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// How numeric dates (`03/04/2025`) are read in fields whose order the
    /// rules' `[dates]` does not declare: day first, month first or year
    /// first [default: the rules' `[dates] order`; without one, such dates
    /// are not read].
    #[arg(long, value_enum, value_name = "ORDER")]
    pub date_order: Option<DateOrderArg>,
    /// Largest field, in bytes; a larger one rejects its row.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024)]
    pub max_field_bytes: usize,
    /// Largest record, in bytes; past it a quoted field is taken as never
    /// closed (its first line is rejected) and a line as too large.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_record_bytes: usize,
    /// Most lines one quoted field may span before it is taken as never
    /// closed.
    #[arg(long, value_name = "LINES", default_value_t = 1000)]
    pub max_quoted_lines: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StdoutStage {
    #[value(alias = "leads")]
    Lead,
    #[value(alias = "prospects")]
    Prospect,
    #[value(alias = "opportunities")]
    Opportunity,
    Disqualified,
    Rejected,
    Duplicates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DateOrderArg {
    Dmy,
    Mdy,
    Ymd,
}

impl DateOrderArg {
    pub fn order(self) -> crate::clean::date::DateOrder {
        use crate::clean::date::DateOrder;
        match self {
            DateOrderArg::Dmy => DateOrder::Dmy,
            DateOrderArg::Mdy => DateOrder::Mdy,
            DateOrderArg::Ymd => DateOrder::Ymd,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    Csv,
    Tsv,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShortRows {
    Reject,
    Pad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LongRows {
    Reject,
    Keep,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Rules file (TOML); without it the built-in rules are checked.
    #[arg(short, long, value_name = "FILE", env = "LEADSIFT_RULES")]
    pub rules: Option<PathBuf>,
    /// Fail (exit 1) when there are warnings.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The input (CSV file or workbook); `-` reads standard input.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// Rules file (TOML); without it the built-in rules/default.toml applies.
    #[arg(short, long, value_name = "FILE", env = "LEADSIFT_RULES")]
    pub rules: Option<PathBuf>,
    /// The data row numbered N, as in the outputs' leadsift_row column
    /// (1 = the first row after the header). Repeat for several.
    #[arg(
        long = "row",
        value_name = "N",
        required_unless_present = "matches",
        conflicts_with = "matches"
    )]
    pub rows: Vec<NonZeroU64>,
    /// Every row whose FIELD equals VALUE, ignoring case as `=` does;
    /// FIELD is a field the rules read (`email`) or a header of the input.
    /// Repeat: a row must match every one.
    #[arg(long = "match", value_name = "FIELD=VALUE")]
    pub matches: Vec<String>,
    /// Print the explanations as JSON (schema leadsift.explain/1).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub dates: DateArgs,
}

/// The date the rules count from, and how they read numeric dates; the
/// same options as `run`'s.
#[derive(Debug, clap::Args)]
pub struct DateArgs {
    /// The date `days_since` and `decay` count from, YYYY-MM-DD
    /// [default: today].
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// How numeric dates (`03/04/2025`) are read where the rules' `[dates]`
    /// does not say: day first, month first or year first.
    #[arg(long, value_enum, value_name = "ORDER")]
    pub date_order: Option<DateOrderArg>,
}

/// How inputs are read; the same options, with the same defaults, as `run`.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Text encoding of the input [default: detected].
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Field delimiter: `,` `;` `tab` `|` or any single character
    /// [default: detected].
    #[arg(short, long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Sheet of a workbook input [default: the first].
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Rows with fewer fields than the header: `reject` or `pad`.
    #[arg(long, value_enum, default_value_t = ShortRows::Reject, value_name = "WHAT")]
    pub short_rows: ShortRows,
    /// Rows with more fields than the header: `reject` or `keep`.
    #[arg(long, value_enum, default_value_t = LongRows::Reject, value_name = "WHAT")]
    pub long_rows: LongRows,
    /// Largest field, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024)]
    pub max_field_bytes: usize,
    /// Largest record, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_record_bytes: usize,
    /// Most lines one quoted field may span.
    #[arg(long, value_name = "LINES", default_value_t = 1000)]
    pub max_quoted_lines: u64,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Rules file (TOML); without it the built-in rules are tested.
    #[arg(short, long, value_name = "FILE", env = "LEADSIFT_RULES")]
    pub rules: Option<PathBuf>,
    #[command(flatten)]
    pub dates: DateArgs,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Which starter rules: `b2b` (the built-in default) or `trade-show`
    /// (badge scans rated by booth staff).
    #[arg(long, value_enum, default_value_t = Profile::B2b)]
    pub profile: Profile,
    /// Where to write them; never overwritten.
    #[arg(value_name = "FILE", default_value = "leadsift.toml")]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    B2b,
    TradeShow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
}
