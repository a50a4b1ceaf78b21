//! The state store behind `--state FILE`: every deduplication key leadsift
//! has seen across runs, with the dates it was first and last seen and the
//! stage and score it last got.
//!
//! This module owns the file: opening and locking it, checking that it is a
//! leadsift state, loading what earlier runs left into memory, recording
//! this run's keys, and committing. It does not compute keys or their hashes
//! (the caller does; a hash must be a well-mixed 64-bit value such as xxh3,
//! because the in-memory map uses it as is) and it does not decide what to
//! record.
//!
//! Invariants:
//! - A run is one SQLite transaction, begun by [`State::open`] and ended by
//!   [`State::commit`]. Nothing on disk changes until `commit` returns `Ok`:
//!   an error, an early return, `process::exit` or SIGKILL leaves the state
//!   as the previous successful run left it. Dropping a [`State`] rolls back.
//! - The in-memory map ([`State::keys`]) is the state before this run; the
//!   upserts of this run go to the database only, never to the map.
//! - Upserts are buffered and written in hash order, a million at a time;
//!   the order of upserts of one key is kept.
//! - One run at a time: `open` takes the write lock at once
//!   (`BEGIN IMMEDIATE`) and fails at once when another run holds it.
//!
//! Journal: the default rollback journal (`journal_mode=DELETE`), with
//! `synchronous=FULL`. Before SQLite changes a page of the file it copies the
//! original into `FILE-journal` and syncs it; the commit deletes the journal.
//! A run killed midway leaves a hot journal, which the next open (by leadsift
//! or any SQLite tool) plays back, so the file returns to the last commit.
//! Keep `FILE-journal` next to the file when one is there: deleting it, or
//! copying the file without it, loses that protection. WAL would give the
//! same guarantee, but needs shared memory (no network file systems) and
//! leaves `-wal`/`-shm` files beside the state; with one writer per night its
//! concurrent readers buy nothing. Readers such as the `sqlite3` shell may
//! read during a run; the commit waits up to [`COMMIT_WAIT`] for them.
//!
//! Layout (schema `leadsift.state/1`): `meta(key, value)` holds `schema` and
//! `key_version`; `seen` has one row per key, `hash` (the key's 64-bit hash
//! stored as a signed INTEGER), `kind` (`email`, `phone`, `name`), `key` (the
//! normalised text), `first_seen`, `last_seen` (`YYYY-MM-DD`), `last_stage`,
//! `last_score`; `runs` has one row per committed run.
//!
//! Honouring an erasure request: delete the person's rows by their keys, then
//! `VACUUM` so the deleted text does not linger in free pages, while no run
//! is going:
//!
//! ```text
//! sqlite3 state.db "DELETE FROM seen WHERE kind='email' AND key='ana@acme.de'; VACUUM;"
//! ```
//!
//! (`seen` has an index on `(kind, key)`, so this is quick.) Delete the
//! person's `phone` and `name` keys the same way.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row};

use crate::error::Error;
use crate::rules::Stage;

/// The `schema` row of `meta` in every file this module writes.
const SCHEMA: &str = "leadsift.state/1";
/// The `key_version` row of `meta`: how keys are normalised and hashed. A
/// file made with another version would match none of this run's keys.
const KEY_VERSION: &str = "1";
/// How long the commit waits for readers (say a `sqlite3` shell) to let go.
pub const COMMIT_WAIT: Duration = Duration::from_secs(10);
/// Page cache for this connection, in KiB, taken as needed: about the pages
/// of 1.8 million keys. A run rewrites every page whose keys it sees again;
/// pages that do not fit are read again from the file or written out early
/// (with a journal sync each time). SQLite's default is 2 MiB.
const CACHE_KIB: i64 = 256 * 1024;
/// Upserts buffered before they are written in hash order (about 60 bytes
/// each plus the key text). Written in the order they come, at random places
/// in the table, 5 million upserts took more than twice as long (see the
/// timing test at the bottom).
const PENDING: usize = 1 << 20;

const CREATE: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE seen(
    hash INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    last_stage TEXT NOT NULL,
    last_score INTEGER NOT NULL
);
CREATE INDEX seen_kind_key ON seen(kind, key);
CREATE TABLE runs(
    id INTEGER PRIMARY KEY,
    started TEXT,
    as_of TEXT,
    inputs TEXT,
    rows INTEGER,
    keys_written INTEGER
);
INSERT INTO meta(key, value) VALUES ('schema', 'leadsift.state/1'), ('key_version', '1');
";

const UPSERT: &str = "
INSERT INTO seen(hash, kind, key, first_seen, last_seen, last_stage, last_score)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT(hash) DO UPDATE SET
    first_seen = min(seen.first_seen, excluded.first_seen),
    last_seen = excluded.last_seen,
    last_stage = excluded.last_stage,
    last_score = excluded.last_score";

/// What the state remembers of one key from earlier runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prev {
    pub first_seen: Date,
    pub last_seen: Date,
    pub last_stage: Stage,
    pub last_score: i64,
}

/// One key as this run leaves it.
pub struct KeyUpdate<'a> {
    pub hash: u64,
    /// `email`, `phone` or `name`; stored as given.
    pub kind: &'a str,
    /// The normalised key text.
    pub key: &'a str,
    pub stage: Stage,
    pub score: i64,
    /// The person's first-seen date when it is earlier than this run's date
    /// (a new key of a known person); `None` means this run's date. A key
    /// already stored keeps the earlier of its `first_seen` and this.
    pub first_seen: Option<Date>,
}

/// The row `commit` adds to `runs`.
pub struct RunRecord {
    /// When the run started, RFC 3339.
    pub started: String,
    pub as_of: Date,
    /// The input file names, joined with `\n`.
    pub inputs: String,
    pub rows: u64,
    pub keys_written: u64,
}

/// Hasher for keys that already are hashes: passes the `u64` through.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    // Never called for `u64` keys; mixes the bytes in case it ever is.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

/// The keys of earlier runs, by hash. Read-only during a run, and `Sync`, so
/// worker threads can share it.
pub type Lookup = HashMap<u64, Prev, BuildHasherDefault<KeyHasher>>;

/// An open state file: the write lock, the run's transaction, and the keys
/// earlier runs left.
pub struct State {
    conn: Connection,
    path: PathBuf,
    /// `path` as messages show it.
    name: String,
    keys: Arc<Lookup>,
    as_of: Ymd,
    pending: Pending,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("path", &self.path)
            .field("keys", &self.keys.len())
            .field("as_of", &self.as_of.as_str())
            .finish()
    }
}

impl State {
    /// Opens `path`, creating it (and its tables) when missing, takes the
    /// write lock, checks that it is a leadsift state and loads its keys.
    /// `as_of` is this run's date. A file that is refused is left unchanged.
    pub fn open(path: &Path, as_of: Date) -> Result<State, Error> {
        let name = path.display().to_string();
        let as_of = Ymd::of(as_of).ok_or_else(|| {
            Error::Output(
                name.clone(),
                format!("the run date {as_of} cannot be stored: years 0000 to 9999 only"),
            )
        })?;
        refuse_foreign(path, &name)?;
        // Not `Connection::open`: its flags read a path starting `file:` as a URI.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| fail(&name, "cannot open the state file", e))?;
        lock(&conn, &name)?;
        if is_blank(&conn, &name)? {
            conn.execute_batch(CREATE)
                .map_err(|e| fail(&name, "cannot create the state tables", e))?;
        } else {
            check_meta(&conn, &name)?;
        }
        let keys = Arc::new(load(&conn, &name)?);
        Ok(State {
            conn,
            path: path.to_path_buf(),
            name,
            keys,
            as_of,
            pending: Pending::default(),
        })
    }

    /// What earlier runs remember of the key with this hash.
    pub fn get(&self, hash: u64) -> Option<&Prev> {
        self.keys.get(&hash)
    }

    /// The keys of earlier runs; share it with threads that look keys up.
    pub fn keys(&self) -> &Lookup {
        &self.keys
    }

    /// The same map, owned, for threads that run while another one upserts
    /// (a `&State` cannot cross threads: the connection is not `Sync`).
    pub fn shared_keys(&self) -> Arc<Lookup> {
        Arc::clone(&self.keys)
    }

    /// How many keys earlier runs left.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records one key in this run's transaction. A key seen again keeps the
    /// earlier first-seen date and takes this run's date, stage and score.
    ///
    /// Keys are buffered and written [`PENDING`] at a time in hash order, so
    /// an error writing one (a full disk, say) may come from a later call or
    /// from [`State::commit`]; the message names the key either way.
    pub fn upsert(&mut self, u: &KeyUpdate) -> Result<(), Error> {
        let first = match u.first_seen {
            Some(d) => Ymd::of(d)
                .ok_or_else(|| {
                    key_error(
                        &self.name,
                        u.kind,
                        u.key,
                        &format!("first-seen date {d} cannot be stored"),
                    )
                })?
                .min(self.as_of),
            None => self.as_of,
        };
        self.pending.push(u, first);
        if self.pending.rows.len() >= PENDING {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered upserts in the table's order (by `hash` as the
    /// signed integer SQLite stores), so that they walk the table once
    /// instead of jumping about it. The sort is stable: a key upserted twice
    /// in a run ends as its last upsert left it.
    fn flush(&mut self) -> Result<(), Error> {
        let Pending { rows, text } = &mut self.pending;
        rows.sort_by_key(|r| r.hash as i64);
        let mut stmt = self
            .conn
            .prepare_cached(UPSERT)
            .map_err(|e| fail(&self.name, "cannot prepare the key upsert", e))?;
        for r in rows.iter() {
            let (kind, key) = (&text[r.kind.0..r.kind.1], &text[r.kind.1..r.key_end]);
            stmt.execute(params![
                r.hash as i64,
                kind,
                key,
                r.first.as_str(),
                self.as_of.as_str(),
                r.stage.name(),
                r.score
            ])
            .map_err(|e| key_error(&self.name, kind, key, &format!("cannot record it: {e}")))?;
        }
        rows.clear();
        text.clear();
        Ok(())
    }

    /// Adds `run` to the `runs` table and commits. Only once this returns
    /// `Ok` has the file changed; on an error it is as it was.
    pub fn commit(mut self, run: &RunRecord) -> Result<(), Error> {
        self.flush()?;
        let unsaved = |e| {
            fail(
                &self.name,
                "cannot save the state, it is as before this run",
                e,
            )
        };
        self.conn
            .execute(
                "INSERT INTO runs(started, as_of, inputs, rows, keys_written) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    run.started,
                    run.as_of.to_string(),
                    run.inputs,
                    i64::try_from(run.rows).unwrap_or(i64::MAX),
                    i64::try_from(run.keys_written).unwrap_or(i64::MAX)
                ],
            )
            .map_err(unsaved)?;
        self.conn.execute_batch("COMMIT").map_err(unsaved)
    }
}

/// Upserts waiting for [`State::flush`]; the texts share one buffer.
#[derive(Default)]
struct Pending {
    rows: Vec<PendingRow>,
    text: String,
}

struct PendingRow {
    hash: u64,
    /// Where `kind` starts and ends in the text; `key` follows it.
    kind: (usize, usize),
    key_end: usize,
    stage: Stage,
    score: i64,
    first: Ymd,
}

impl Pending {
    fn push(&mut self, u: &KeyUpdate, first: Ymd) {
        let start = self.text.len();
        self.text.push_str(u.kind);
        let kind = (start, self.text.len());
        self.text.push_str(u.key);
        self.rows.push(PendingRow {
            hash: u.hash,
            kind,
            key_end: self.text.len(),
            stage: u.stage,
            score: u.score,
            first,
        });
    }
}

impl Drop for State {
    /// Rolls the run back unless it was committed. Closing the connection
    /// would too; saying so here does not depend on it.
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn key_error(name: &str, kind: &str, key: &str, what: &str) -> Error {
    Error::Output(name.to_string(), format!("{kind} `{key}`: {what}"))
}

fn fail(name: &str, what: &str, e: rusqlite::Error) -> Error {
    Error::Output(name.to_string(), format!("{what}: {e}"))
}

fn not_state(name: &str, why: &str) -> Error {
    Error::Usage(format!(
        "{name}: not a leadsift state file ({why}); nothing in it was changed; give --state a new file name and leadsift creates it"
    ))
}

/// Refuses a non-empty file that does not start like an SQLite database,
/// before SQLite gets to open it.
fn refuse_foreign(path: &Path, name: &str) -> Result<(), Error> {
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::Output(
                name.to_string(),
                format!("cannot read the state file: {e}"),
            ))
        }
    };
    let mut head = Vec::with_capacity(MAGIC.len());
    file.by_ref()
        .take(MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::Output(name.to_string(), format!("cannot read the state file: {e}")))?;
    if head.is_empty() || head == MAGIC {
        Ok(())
    } else {
        Err(not_state(name, "it is not an SQLite database"))
    }
}

/// Sets the connection up and takes the write lock, failing at once when
/// another run holds it.
fn lock(conn: &Connection, name: &str) -> Result<(), Error> {
    let setup = |e| fail(name, "cannot set the state file up", e);
    conn.busy_timeout(Duration::ZERO).map_err(setup)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(setup)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(setup)?;
    match conn.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {}
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => {
            return Err(Error::Output(
                name.to_string(),
                "locked: another leadsift run is using this state file; wait for it to end, or give this run another --state file"
                    .to_string(),
            ))
        }
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            return Err(not_state(name, "it is not an SQLite database"))
        }
        Err(e) => return Err(fail(name, "cannot lock the state file", e)),
    }
    // Holding the lock now; the commit may have to wait for readers.
    conn.busy_timeout(COMMIT_WAIT).map_err(setup)
}

/// Whether the database has no tables at all: a new file, or an empty one
/// (left by a first run that failed), which gets the tables.
fn is_blank(conn: &Connection, name: &str) -> Result<bool, Error> {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n == 0)
    .map_err(|e| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => not_state(name, "it is not an SQLite database"),
        _ => fail(name, "cannot read the state file", e),
    })
}

fn check_meta(conn: &Connection, name: &str) -> Result<(), Error> {
    let meta = |key: &str| {
        conn.query_row(
            "SELECT CAST(value AS TEXT) FROM meta WHERE key = ?1",
            [key],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()
        .map(Option::flatten)
        .map_err(|e| {
            not_state(
                name,
                &format!("an SQLite database without leadsift's `meta` table: {e}"),
            )
        })
    };
    match meta("schema")?.as_deref() {
        Some(SCHEMA) => {}
        Some(other) => {
            return Err(not_state(
                name,
                &format!("its schema is `{other}`; this leadsift reads `{SCHEMA}`"),
            ))
        }
        None => {
            return Err(not_state(
                name,
                "an SQLite database whose `meta` table has no `schema` row",
            ))
        }
    }
    match meta("key_version")?.as_deref() {
        Some(KEY_VERSION) => Ok(()),
        v => Err(not_state(
            name,
            &format!(
                "its keys were made by key version {}; this leadsift makes version {KEY_VERSION} and would match none of them",
                v.unwrap_or("(none)")
            ),
        )),
    }
}

/// Reads every `seen` row into the map; a row that does not parse refuses
/// the file, naming the row.
fn load(conn: &Connection, name: &str) -> Result<Lookup, Error> {
    let read = |e| fail(name, "cannot read the keys", e);
    let count: i64 = conn
        .query_row("SELECT count(*) FROM seen", [], |r| r.get(0))
        .map_err(read)?;
    let mut keys =
        Lookup::with_capacity_and_hasher(usize::try_from(count).unwrap_or(0), Default::default());
    let mut stmt = conn
        .prepare("SELECT hash, first_seen, last_seen, last_stage, last_score FROM seen")
        .map_err(read)?;
    let mut rows = stmt.query([]).map_err(read)?;
    while let Some(row) = rows.next().map_err(read)? {
        let hash: i64 = row.get(0).map_err(read)?;
        match prev(row) {
            Ok(p) => keys.insert(hash as u64, p),
            Err(why) => return Err(bad_row(conn, name, hash, &why)),
        };
    }
    Ok(keys)
}

fn prev(row: &Row) -> Result<Prev, String> {
    let date = |i: usize, what: &str| {
        let s = text(row, i, what)?;
        parse_ymd(s).ok_or_else(|| format!("{what} `{s}` is not a YYYY-MM-DD date"))
    };
    let stage = text(row, 3, "last_stage")?;
    Ok(Prev {
        first_seen: date(1, "first_seen")?,
        last_seen: date(2, "last_seen")?,
        last_stage: Stage::from_name(stage)
            .ok_or_else(|| format!("last_stage `{stage}` is not a stage"))?,
        last_score: row
            .get(4)
            .map_err(|_| "last_score is not an integer".to_string())?,
    })
}

fn text<'r>(row: &'r Row, i: usize, what: &str) -> Result<&'r str, String> {
    row.get_ref(i)
        .ok()
        .and_then(|v| v.as_str().ok())
        .ok_or_else(|| format!("{what} is not text"))
}

fn bad_row(conn: &Connection, name: &str, hash: i64, why: &str) -> Error {
    let who = conn
        .query_row("SELECT kind, key FROM seen WHERE hash = ?1", [hash], |r| {
            Ok(format!(
                "{} `{}`",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        })
        .unwrap_or_else(|_| format!("hash {hash}"));
    Error::Output(
        name.to_string(),
        format!("the row for {who} in table `seen` is damaged: {why}; fix or delete that row (hash = {hash})"),
    )
}

/// A date as `YYYY-MM-DD`, without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ymd([u8; 10]);

impl Ymd {
    /// `None` for years outside 0000 to 9999, which would not sort as text.
    fn of(d: Date) -> Option<Ymd> {
        let year = u16::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
        let mut b = *b"0000-00-00";
        put_digits(&mut b[0..4], year);
        put_digits(&mut b[5..7], d.month().unsigned_abs().into());
        put_digits(&mut b[8..10], d.day().unsigned_abs().into());
        Some(Ymd(b))
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

fn put_digits(out: &mut [u8], mut v: u16) {
    for c in out.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn parse_ymd(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0i16, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i16::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn update<'a>(hash: u64, key: &'a str, stage: Stage, score: i64) -> KeyUpdate<'a> {
        KeyUpdate {
            hash,
            kind: "email",
            key,
            stage,
            score,
            first_seen: None,
        }
    }

    fn record(as_of: Date) -> RunRecord {
        RunRecord {
            started: "2024-01-10T02:00:00+01:00".to_string(),
            as_of,
            inputs: "a.csv\nb.csv".to_string(),
            rows: 3,
            keys_written: 2,
        }
    }

    /// One committed run on `as_of` that writes `updates`.
    fn run(path: &Path, as_of: &str, updates: &[KeyUpdate]) {
        let mut s = State::open(path, day(as_of)).unwrap();
        for u in updates {
            s.upsert(u).unwrap();
        }
        s.commit(&record(day(as_of))).unwrap();
    }

    fn prev(first: &str, last: &str, stage: Stage, score: i64) -> Prev {
        Prev {
            first_seen: day(first),
            last_seen: day(last),
            last_stage: stage,
            last_score: score,
        }
    }

    fn refusal(r: Result<State, Error>) -> Error {
        r.expect_err("the state file should have been refused")
    }

    #[test]
    fn stage_names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::from_name(s.name()), Some(s));
        }
        assert_eq!(Stage::from_name("Lead"), None);
        assert_eq!(Stage::from_name(""), None);
    }

    #[test]
    fn dates_round_trip_as_text() {
        for d in ["0001-01-01", "2024-02-29", "9999-12-31"] {
            assert_eq!(Ymd::of(day(d)).unwrap().as_str(), d);
            assert_eq!(parse_ymd(d), Some(day(d)));
        }
        for bad in [
            "2024-02-30",
            "2024-2-01",
            "2024-01-01T00:00",
            "20240101",
            "2024-0a-01",
            "+024-01-01",
        ] {
            assert_eq!(parse_ymd(bad), None, "{bad}");
        }
        assert_eq!(Ymd::of(Date::new(-1, 1, 1).unwrap()), None);
    }

    #[test]
    fn committed_keys_are_there_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let s = State::open(&path, day("2024-01-10")).unwrap();
        assert!(s.is_empty());
        assert_eq!(s.path(), path);
        drop(s);
        run(
            &path,
            "2024-01-10",
            &[
                update(1, "ana@acme.de", Stage::Prospect, 40),
                update(u64::MAX, "bo@acme.de", Stage::Lead, -5),
            ],
        );
        let s = State::open(&path, day("2024-01-11")).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.get(1),
            Some(&prev("2024-01-10", "2024-01-10", Stage::Prospect, 40))
        );
        assert_eq!(
            s.keys().get(&u64::MAX),
            Some(&prev("2024-01-10", "2024-01-10", Stage::Lead, -5))
        );
        assert_eq!(s.get(2), None);
        let runs: (String, String, i64, i64) = s
            .conn
            .query_row(
                "SELECT as_of, inputs, rows, keys_written FROM runs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            runs,
            ("2024-01-10".to_string(), "a.csv\nb.csv".to_string(), 3, 2)
        );
    }

    #[test]
    fn first_seen_is_the_earliest_date_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        run(
            &path,
            "2024-01-10",
            &[update(1, "ana@acme.de", Stage::Lead, 10)],
        );
        let known_person = KeyUpdate {
            first_seen: Some(day("2024-01-05")),
            ..update(2, "+4930123456", Stage::Opportunity, 90)
        };
        run(
            &path,
            "2024-02-01",
            &[update(1, "ana@acme.de", Stage::Prospect, 50), known_person],
        );
        let s = State::open(&path, day("2024-03-01")).unwrap();
        assert_eq!(
            s.get(1),
            Some(&prev("2024-01-10", "2024-02-01", Stage::Prospect, 50))
        );
        assert_eq!(
            s.get(2),
            Some(&prev("2024-01-05", "2024-02-01", Stage::Opportunity, 90))
        );
        drop(s);
        run(
            &path,
            "2024-03-01",
            &[
                KeyUpdate {
                    first_seen: Some(day("2023-12-24")),
                    ..update(1, "ana@acme.de", Stage::Lead, 1)
                },
                KeyUpdate {
                    first_seen: Some(day("2024-02-20")),
                    ..update(2, "+4930123456", Stage::Lead, 2)
                },
                // A first-seen date after the run's date is taken as the run's.
                KeyUpdate {
                    first_seen: Some(day("2024-04-01")),
                    ..update(3, "cy@acme.de", Stage::Lead, 3)
                },
            ],
        );
        let s = State::open(&path, day("2024-03-02")).unwrap();
        assert_eq!(
            s.get(1),
            Some(&prev("2023-12-24", "2024-03-01", Stage::Lead, 1))
        );
        assert_eq!(
            s.get(2),
            Some(&prev("2024-01-05", "2024-03-01", Stage::Lead, 2))
        );
        assert_eq!(
            s.get(3),
            Some(&prev("2024-03-01", "2024-03-01", Stage::Lead, 3))
        );
    }

    #[test]
    fn a_key_upserted_twice_in_a_run_ends_as_the_last_upsert_left_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut s = State::open(&path, day("2024-01-10")).unwrap();
        s.upsert(&update(u64::MAX, "ana@acme.de", Stage::Lead, 1))
            .unwrap();
        s.upsert(&update(1, "bo@acme.de", Stage::Lead, 1)).unwrap();
        s.upsert(&update(u64::MAX, "ana@acme.de", Stage::Opportunity, 2))
            .unwrap();
        s.flush().unwrap();
        s.upsert(&update(1, "bo@acme.de", Stage::Prospect, 3))
            .unwrap();
        s.upsert(&KeyUpdate {
            first_seen: Some(day("2024-01-01")),
            ..update(1, "bo@acme.de", Stage::Rejected, 4)
        })
        .unwrap();
        s.commit(&record(day("2024-01-10"))).unwrap();
        let s = State::open(&path, day("2024-01-11")).unwrap();
        assert_eq!(
            s.get(u64::MAX),
            Some(&prev("2024-01-10", "2024-01-10", Stage::Opportunity, 2))
        );
        assert_eq!(
            s.get(1),
            Some(&prev("2024-01-01", "2024-01-10", Stage::Rejected, 4))
        );
    }

    #[test]
    fn dropping_without_commit_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        run(
            &path,
            "2024-01-10",
            &[update(1, "ana@acme.de", Stage::Lead, 10)],
        );
        let before = std::fs::read(&path).unwrap();
        let mut s = State::open(&path, day("2024-01-11")).unwrap();
        s.upsert(&update(1, "ana@acme.de", Stage::Rejected, 0))
            .unwrap();
        let mut key = String::new();
        for i in 2..5000u64 {
            key.clear();
            key.push_str(&format!("p{i}@acme.de"));
            s.upsert(&update(i, &key, Stage::Prospect, 1)).unwrap();
        }
        s.flush().unwrap();
        drop(s);
        assert!(std::fs::read(&path).unwrap() == before, "the file changed");
        let s = State::open(&path, day("2024-01-12")).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            s.get(1),
            Some(&prev("2024-01-10", "2024-01-10", Stage::Lead, 10))
        );
    }

    /// Run by `sigkill_midway_leaves_the_last_commit` in a child process.
    #[test]
    #[ignore = "helper: runs only as a child of sigkill_midway_leaves_the_last_commit"]
    #[cfg(unix)]
    fn sigkill_child() {
        let Some(path) = std::env::var_os("LEADSIFT_TEST_KILL_STATE") else {
            return;
        };
        let mut s = State::open(Path::new(&path), day("2024-01-11")).unwrap();
        // A tiny cache, so SQLite writes pages into the file before the kill.
        s.conn.pragma_update(None, "cache_size", 10).unwrap();
        s.upsert(&update(1, "ana@acme.de", Stage::Rejected, 0))
            .unwrap();
        for i in 2..20_000u64 {
            let hash = xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes());
            s.upsert(&update(hash, &format!("p{i}@acme.de"), Stage::Lead, 1))
                .unwrap();
        }
        s.flush().unwrap();
        signal_hook::low_level::raise(signal_hook::consts::SIGKILL).unwrap();
    }

    #[test]
    #[cfg(unix)]
    fn sigkill_midway_leaves_the_last_commit() {
        use std::os::unix::process::ExitStatusExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        run(
            &path,
            "2024-01-10",
            &[update(1, "ana@acme.de", Stage::Lead, 10)],
        );
        let before = std::fs::read(&path).unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "state::tests::sigkill_child",
                "--exact",
                "--ignored",
                "--test-threads=1",
            ])
            .env("LEADSIFT_TEST_KILL_STATE", &path)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(
            status.signal(),
            Some(signal_hook::consts::SIGKILL),
            "{status}"
        );
        let mut journal = path.clone().into_os_string();
        journal.push("-journal");
        assert!(
            Path::new(&journal).exists(),
            "no hot journal: the child wrote nothing"
        );
        assert!(
            std::fs::read(&path).unwrap() != before,
            "the child did not touch the file"
        );
        let s = State::open(&path, day("2024-01-12")).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            s.get(1),
            Some(&prev("2024-01-10", "2024-01-10", Stage::Lead, 10))
        );
        drop(s);
        assert!(
            std::fs::read(&path).unwrap() == before,
            "the file was not restored"
        );
    }

    #[test]
    fn a_second_run_fails_at_once_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let first = State::open(&path, day("2024-01-10")).unwrap();
        let started = std::time::Instant::now();
        let e = refusal(State::open(&path, day("2024-01-10")));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "it waited for the lock"
        );
        assert!(matches!(e, Error::Output(..)), "{e:?}");
        let text = e.to_string();
        assert!(text.starts_with(&path.display().to_string()), "{text}");
        assert!(text.contains("another leadsift run is using"), "{text}");
        drop(first);
        State::open(&path, day("2024-01-10")).unwrap();
    }

    /// `open` refuses the file at `path`, with a message naming it and
    /// saying `why`, and leaves it as it was.
    fn refused(path: &Path, why: &str) {
        let before = std::fs::read(path).unwrap();
        let e = refusal(State::open(path, day("2024-01-10")));
        assert!(matches!(e, Error::Usage(_)), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{}: not a leadsift state file", path.display())),
            "{text}"
        );
        assert!(text.contains(why), "{text}");
        assert!(std::fs::read(path).unwrap() == before, "the file changed");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "files were added: {names:?}");
    }

    #[test]
    fn a_csv_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leads.csv");
        std::fs::write(&path, "email,name\nana@acme.de,Ana\n").unwrap();
        refused(&path, "not an SQLite database");
        std::fs::write(&path, "x").unwrap();
        refused(&path, "not an SQLite database");
    }

    #[test]
    fn sqlite_files_of_others_are_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t(a); INSERT INTO t VALUES (1);")
            .unwrap();
        refused(&path, "without leadsift's `meta` table");
        conn.execute_batch("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);")
            .unwrap();
        refused(&path, "no `schema` row");
        conn.execute_batch("INSERT INTO meta VALUES ('schema', 'leadsift.state/2');")
            .unwrap();
        refused(&path, "its schema is `leadsift.state/2`");
        conn.execute_batch("UPDATE meta SET value = 'leadsift.state/1'; INSERT INTO meta VALUES ('key_version', 2);")
            .unwrap();
        refused(&path, "key version 2");
    }

    #[test]
    fn an_empty_file_becomes_a_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        std::fs::write(&path, "").unwrap();
        run(
            &path,
            "2024-01-10",
            &[update(7, "ana@acme.de", Stage::Lead, 1)],
        );
        assert_eq!(State::open(&path, day("2024-01-11")).unwrap().len(), 1);
    }

    #[test]
    fn a_damaged_row_refuses_the_file_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        for (n, (set, why)) in [
            ("last_stage = 'hot'", "last_stage `hot` is not a stage"),
            (
                "last_seen = '2024-13-01'",
                "last_seen `2024-13-01` is not a YYYY-MM-DD date",
            ),
            ("first_seen = x'00'", "first_seen is not text"),
            ("last_score = 'high'", "last_score is not an integer"),
        ]
        .into_iter()
        .enumerate()
        {
            let path = dir.path().join(format!("state{n}.db"));
            run(
                &path,
                "2024-01-10",
                &[update(7, "ana@acme.de", Stage::Lead, 1)],
            );
            Connection::open(&path)
                .unwrap()
                .execute_batch(&format!("UPDATE seen SET {set};"))
                .unwrap();
            let e = refusal(State::open(&path, day("2024-01-11")));
            let text = e.to_string();
            assert!(matches!(e, Error::Output(..)), "{e:?}");
            assert!(text.contains("row for email `ana@acme.de`"), "{text}");
            assert!(text.contains(why), "{text}");
        }
    }

    #[test]
    fn ten_thousand_keys_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let key = |i: u64| format!("p{i}@acme.de");
        let hash = |i: u64| xxhash_rust::xxh3::xxh3_64(key(i).as_bytes());
        let stage = |i: u64| Stage::ALL[(i % 5) as usize];
        let mut s = State::open(&path, day("2024-01-10")).unwrap();
        for i in 0..10_000 {
            s.upsert(&update(hash(i), &key(i), stage(i), i as i64 - 5000))
                .unwrap();
        }
        s.commit(&record(day("2024-01-10"))).unwrap();
        let s = State::open(&path, day("2024-01-11")).unwrap();
        assert_eq!(s.len(), 10_000);
        let shared = s.shared_keys();
        std::thread::scope(|scope| {
            for part in 0..2u64 {
                let shared = &shared;
                scope.spawn(move || {
                    for i in (part..10_000).step_by(2) {
                        let want = prev("2024-01-10", "2024-01-10", stage(i), i as i64 - 5000);
                        assert_eq!(shared.get(&hash(i)), Some(&want), "key {i}");
                    }
                });
            }
        });
    }

    /// Timings, printed, for 5 million keys (or `LEADSIFT_TIMING_KEYS`):
    /// `cargo test --release --lib state::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing, not a test: run by hand in release mode"]
    fn timing() {
        use std::time::Instant;
        let n: u64 = std::env::var("LEADSIFT_TIMING_KEYS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5_000_000);
        // CPU time of this thread, which does all the work: on a shared
        // machine wall time says little.
        let cpu = || {
            let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
            Duration::from_nanos(
                s.split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
            )
        };
        let timed = |what: &str, f: &mut dyn FnMut()| {
            let (t, c) = (Instant::now(), cpu());
            f();
            println!("{what}: {:.2?} wall, {:.2?} cpu", t.elapsed(), cpu() - c);
        };
        // Key texts in no particular order, as in real inputs, so both the
        // table (by hash) and the index (by text) take random inserts.
        let key = |i: u64| {
            format!(
                "p{:016x}@example.com",
                xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        for (run, as_of) in ["2024-01-10", "2024-01-11"].into_iter().enumerate() {
            let mut s = None;
            timed(&format!("run {run}: open"), &mut || {
                s = Some(State::open(&path, day(as_of)).unwrap())
            });
            let mut s = s.unwrap();
            println!("run {run}: {} keys loaded", s.len());
            timed(&format!("run {run}: {n} upserts"), &mut || {
                for i in 0..n {
                    let k = key(i);
                    let hash = xxhash_rust::xxh3::xxh3_64(k.as_bytes());
                    s.upsert(&update(hash, &k, Stage::Lead, i as i64)).unwrap();
                }
            });
            let mut s = Some(s);
            timed(&format!("run {run}: commit"), &mut || {
                s.take().unwrap().commit(&record(day(as_of))).unwrap()
            });
        }
        let size = std::fs::metadata(&path).unwrap().len();
        println!("file: {} MB", size / 1_000_000);
    }
}
