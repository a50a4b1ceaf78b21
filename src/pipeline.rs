//! The run: read records in batches, evaluate the batches in parallel
//! (each on the pool thread that read it), hand the results on in input
//! order to be written, by whichever pool thread finishes the batch that
//! is next. With one thread (`--jobs 1`), each batch is read, evaluated
//! and written in turn on the calling thread.
//!
//! With deduplication on, the inputs are read twice (three times with
//! `fill_empty`), unless one pass can decide it (see [`Streaming`]): the
//! first pass only reports each usable row's keys and rank to the
//! bookkeeping in `dedup`, the last one writes. Memory is
//! bounded by the batch size (in records and in bytes) times the few
//! batches in flight, plus the per-person bookkeeping; not by the input.
//! Rows are serialised by the workers into per-chunk buffers and appended
//! to the files in input order, so the output bytes are the same for any
//! number of threads.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::dedup::Decision;
use crate::dedup::{Fill, HashedMap, Index, Plan, Prior};
use crate::error::Error;
use crate::exclude::Exclusions;
use crate::input::{self, Opened, ReadOptions, Record, RecordSource, Source};
use crate::output::{Format, Layout, OutputOptions, StageFiles};
use crate::row::{
    ChunkBuffers, ChunkOut, FileCtx, History, Kept, Pass, Preset, RunCtx, Stashed, Worker,
};
use crate::rules::derive::WriteKind;
use crate::rules::Compiled;
use crate::state::{KeyUpdate, State};
use crate::summary::{DedupSummary, FileSummary, StateSummary, Summary};

/// Records per batch handed to the workers. Small enough that a batch's
/// records and output stay in the cache of the core that reads,
/// evaluates and writes them while the other core streams its own: at
/// 2,048, `--jobs 2` spent 5% more CPU on the same rows (copies, UTF-8
/// checks and parsing waiting on memory), for no gain at `--jobs 1`.
const BATCH: usize = 512;
/// Bytes of record data after which a batch is closed before it holds
/// [`BATCH`] records, so that large records do not make large batches.
const BATCH_BYTES: usize = 2 * 1024 * 1024;
/// A recycled record keeps buffers up to this size; larger ones (grown for
/// one large record) are given back.
const KEEP_BUFFER: usize = 1024 * 1024;
/// Records per output chunk within a batch.
const CHUNK: usize = 512;
/// Batches in flight per pool thread (read, being evaluated, waiting to be
/// handed on in order).
const IN_FLIGHT: usize = 3;

pub struct RunConfig<'a> {
    pub inputs: Vec<Source>,
    pub out_dir: &'a Path,
    pub jobs: usize,
    pub progress: bool,
    /// Format, sanitising, BOM, `--stdout`, `--dry-run`.
    pub output: OutputOptions,
    /// `--strict`: the first malformed row fails the run.
    pub strict: bool,
    pub read: ReadOptions,
    pub pad_short: bool,
    pub keep_long: bool,
    /// `--exclude` lists.
    pub excludes: Vec<Source>,
    /// `--state` file.
    pub state: Option<PathBuf>,
    pub only_changed: bool,
    pub allow_downgrade: bool,
    /// The run's date (`--as-of`), for the state file.
    pub as_of: jiff::civil::Date,
}

struct Batch {
    /// The batch's place in the pass, from 0.
    seq: u64,
    file: usize,
    records: Vec<Record>,
    len: usize,
    first_row: u64,
    /// Run position (across files) of the first record.
    first_global: u64,
    /// Bytes of this file read so far, at the end of the batch.
    bytes: u64,
}

/// What a finished run hands back to be committed: the stage files, then
/// the state, then the summary.
pub struct Finished {
    pub summary: Summary,
    pub files: StageFiles,
    pub state: Option<State>,
}

/// What each input gave: blank lines skipped and records read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ReadCounts {
    blank: u64,
    records: u64,
}

/// Qualifies every input and writes the stage files; returns the summary
/// (not yet written).
pub fn run(rules: &Compiled, cfg: RunConfig) -> Result<Finished, Error> {
    let started = Instant::now();
    refuse_overwriting_inputs(&cfg.inputs, cfg.out_dir, cfg.output.format)?;
    if !cfg.output.dry_run {
        std::fs::create_dir_all(cfg.out_dir).map_err(|e| {
            Error::Output(
                cfg.out_dir.display().to_string(),
                format!("cannot create the output directory: {e}"),
            )
        })?;
    }
    // A dry run leaves the output directory alone: its copies of standard
    // input go to the system's temporary directory.
    let spool_dir = if cfg.output.dry_run {
        std::env::temp_dir()
    } else {
        cfg.out_dir.to_path_buf()
    };
    let one_pass = one_pass_dedup(rules, &cfg);
    let two_pass = rules.dedup.enabled() && !one_pass;
    if cfg.state.is_some() && !two_pass {
        return Err(Error::Usage(
            "--state remembers people by their keys, but the rules turn deduplication off ([dedup] keys = []); give keys or drop --state".into(),
        ));
    }
    // Standard input and named pipes can be read once: a run that reads
    // its inputs more than once keeps a copy.
    let mut inputs = cfg.inputs.clone();
    let mut _spools = Vec::new();
    if two_pass {
        for s in inputs.iter_mut() {
            let once = match &s.path {
                None => true,
                Some(p) => std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir()),
            };
            if once {
                let tmp = spool_once(&spool_dir, s)?;
                s.path = Some(tmp.path().to_path_buf());
                s.size = tmp.as_file().metadata().ok().map(|m| m.len());
                _spools.push(tmp);
            }
        }
    }
    let exclusions = if cfg.excludes.is_empty() {
        None
    } else {
        Some(Exclusions::load(
            cfg.excludes.clone(),
            &rules.dedup,
            &cfg.read,
        )?)
    };
    // A dry run must not create a state file: a missing one is stood in
    // for by an empty one in a temporary directory. An existing one is
    // opened as usual and never committed.
    let mut _dry_state = None;
    let mut state = match &cfg.state {
        Some(p) if cfg.output.dry_run && !p.exists() => {
            let dir = tempfile::tempdir().map_err(|e| {
                Error::Output(
                    p.display().to_string(),
                    format!("cannot make a temporary state: {e}"),
                )
            })?;
            let st = State::open(&dir.path().join("state.db"), cfg.as_of)?;
            _dry_state = Some(dir);
            Some(st)
        }
        Some(p) => Some(State::open(p, cfg.as_of)?),
        None => None,
    };
    let opened: Vec<Opened> = inputs
        .iter()
        .cloned()
        .map(|s| input::open(s, rules, &cfg.read))
        .collect::<Result<_, _>>()?;
    let (union, files) = plan(&opened, rules);
    let layout = Layout::new(union, rules, cfg.keep_long, state.is_some());
    let mut summary = Summary::new(rules, cfg.out_dir, cfg.jobs);
    for (o, f) in opened.iter().zip(&files) {
        summary.files.push(FileSummary::new(
            &o.source.name,
            &o.headers,
            rules,
            &f.binding,
            o.info.clone(),
        ));
    }
    if let Some(x) = &exclusions {
        summary.exclusions = x
            .lists
            .iter()
            .map(|l| crate::summary::ExclusionSummary {
                list: l.clone(),
                excluded_rows: 0,
            })
            .collect();
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} worker threads: {e}", cfg.jobs)))?;
    let passes = if two_pass { 2 } else { 1 };
    let bar = progress_bar(cfg.progress, &inputs, passes);
    let total: u64 = inputs.iter().map(|s| s.size.unwrap_or(0)).sum();
    let names: Vec<String> = inputs.iter().map(|s| s.name.clone()).collect();
    let sanitize = cfg.output.sanitize;
    let mut base = RunCtx::new(rules, sanitize, cfg.pad_short, cfg.keep_long);
    base.exclusions = exclusions.as_ref();
    base.format = cfg.output.format;
    if cfg.output.format == Format::Jsonl {
        base.json = (0..6).map(|i| layout.json_header(i)).collect();
    }
    let strict = cfg.strict;
    let headers: Vec<Vec<String>> = opened.iter().map(|o| o.headers.clone()).collect();
    let infos: Vec<_> = opened.iter().map(|o| o.info.clone()).collect();

    let mut readers: Vec<_> = opened.into_iter().map(|o| o.records).collect();
    let mut plan_holder = None;
    if two_pass {
        let mut index = Index::new(rules.dedup.order);
        let mut prior: HashedMap<Prior> = HashedMap::default();
        let mut merged = Vec::new();
        base.pass = Pass::Facts;
        let st = state.as_ref().map(|s| s.keys());
        let counts = drive(
            std::mem::take(&mut readers),
            &names,
            &files,
            &base,
            &pool,
            bar.as_ref(),
            0,
            None,
            |file, chunk| {
                stop_if_strict(strict, &names[file], chunk)?;
                index.warm(&chunk.facts);
                for f in &chunk.facts {
                    let c = index.observe(f, &mut merged);
                    index.note_row(f.row, c);
                    let Some(c) = c else {
                        continue;
                    };
                    let key = u64::from(c);
                    for m in &merged {
                        if let Some(p) = prior.remove(&u64::from(*m)) {
                            fold_prior(&mut prior, key, &p);
                        }
                    }
                    if let Some(st) = st {
                        for &k in f.keys.iter().filter(|&&k| k != 0) {
                            if let Some(p) = st.get(&k) {
                                let p = Prior {
                                    first_seen: p.first_seen,
                                    last_seen: p.last_seen,
                                    stage: p.last_stage,
                                    score: p.last_score,
                                };
                                fold_prior(&mut prior, key, &p);
                            }
                        }
                    }
                }
                Ok(())
            },
        )?;
        index.finish();
        let mut file_base = Vec::with_capacity(counts.len());
        let mut at = 0;
        for c in &counts {
            file_base.push(at);
            at += c.records;
        }
        summary.dedup = Some(DedupSummary::new(rules, &index));
        plan_holder = Some((
            Plan {
                index,
                prior,
                file_base,
                names: names.clone(),
                allow_downgrade: cfg.allow_downgrade,
                fills: HashedMap::default(),
            },
            counts,
        ));
        if rules.dedup.fill_empty {
            let again = reopen(&inputs, &infos, &headers, rules, &cfg.read)?;
            let mut fills: HashedMap<Fill> = HashedMap::default();
            if let Some((p, _)) = &plan_holder {
                let mut ctx = RunCtx::new(rules, sanitize, cfg.pad_short, cfg.keep_long);
                ctx.exclusions = exclusions.as_ref();
                ctx.format = base.format;
                ctx.pass = Pass::Fill;
                ctx.plan = Some(p);
                drive(
                    again,
                    &names,
                    &files,
                    &ctx,
                    &pool,
                    None,
                    0,
                    None,
                    |file, chunk| {
                        for (k, value, line) in chunk.fills.drain(..) {
                            fills.entry(k).or_insert(Fill { value, file, line });
                        }
                        Ok(())
                    },
                )?;
            }
            if let Some((p, _)) = &mut plan_holder {
                p.fills = fills;
            }
        }
        readers = reopen(&inputs, &infos, &headers, rules, &cfg.read)?;
    }
    let plan = plan_holder.as_ref().map(|(p, _)| p);
    base.pass = Pass::Write;
    base.plan = plan;
    base.history = state.as_ref().map(|_| History {
        only_changed: cfg.only_changed,
        as_of: cfg.as_of,
    });
    let mut streaming = one_pass.then(|| Streaming {
        plan: Plan {
            index: Index::one_key_first(),
            prior: HashedMap::default(),
            file_base: Vec::new(),
            names: names.clone(),
            allow_downgrade: cfg.allow_downgrade,
            fills: HashedMap::default(),
        },
        merged: Vec::new(),
        input_bytes: cfg.inputs.iter().map(|s| s.size).sum(),
    });
    let mut stage_files = StageFiles::create(cfg.out_dir, &layout, &cfg.output)?;
    let mut upserted: HashedMap<()> = HashedMap::default();
    let mut keys_written = 0u64;
    let counts = {
        let summary = &mut summary;
        let stage_files = &mut stage_files;
        let state = &mut state;
        let upserted = &mut upserted;
        let keys_written = &mut keys_written;
        let names = &names;
        drive(
            readers,
            names,
            &files,
            &base,
            &pool,
            bar.as_ref(),
            if two_pass { total } else { 0 },
            streaming.as_mut(),
            move |file, chunk| {
                stop_if_strict(strict, &names[file], chunk)?;
                let mut pieces = Vec::new();
                for i in 0..chunk.bytes.len() {
                    pieces.clear();
                    pieces.extend(chunk.pieces(i));
                    stage_files.write_pieces(i, &pieces)?;
                }
                if let Some(st) = state.as_mut() {
                    for s in &chunk.seen {
                        if upserted.insert(s.hash, ()).is_none() {
                            st.upsert(&KeyUpdate {
                                hash: s.hash,
                                kind: s.kind,
                                key: &s.key,
                                stage: s.stage,
                                score: s.score,
                                first_seen: s.first_seen,
                            })?;
                            *keys_written += 1;
                        }
                    }
                }
                summary.add(file, chunk);
                Ok(())
            },
        )?
    };
    if let Some(st) = &streaming {
        summary.dedup = Some(DedupSummary::new(rules, &st.plan.index));
    }
    if let Some((_, first)) = &plan_holder {
        if first
            .iter()
            .map(|c| c.records)
            .ne(counts.iter().map(|c| c.records))
        {
            return Err(Error::Input(
                names.join(", "),
                "an input changed while it was being read (the second pass read a different number of records); nothing was written".into(),
            ));
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(sig) = crate::interrupt::received() {
        return Err(Error::Interrupted(sig));
    }
    for (f, c) in summary.files.iter_mut().zip(&counts) {
        f.input.blank_lines = c.blank;
        if let Some(e) = f.input.late_encoding.as_ref().and_then(|l| l.get()) {
            f.input.encoding = Some(e.name().to_string());
        }
    }
    if let Some(st) = &state {
        summary.state = Some(StateSummary {
            path: cfg.state.as_ref().map_or_else(
                || st.path().display().to_string(),
                |p| p.display().to_string(),
            ),
            as_of: cfg.as_of.to_string(),
            keys_before: st.len() as u64,
            keys_written,
            only_changed: cfg.only_changed,
            allow_downgrade: cfg.allow_downgrade,
            changes: summary.changes,
        });
    }
    summary.finish();
    summary.elapsed_seconds = started.elapsed().as_secs_f64();
    Ok(Finished {
        summary,
        files: stage_files,
        state,
    })
}

/// Opens the inputs again for another pass: the same bytes read the same
/// way (an encoding settled late in the first pass is used from the start),
/// and the same header, or the run fails.
fn reopen(
    inputs: &[Source],
    infos: &[input::FileInfo],
    headers: &[Vec<String>],
    rules: &Compiled,
    read: &ReadOptions,
) -> Result<Vec<Box<dyn RecordSource>>, Error> {
    let mut readers = Vec::with_capacity(inputs.len());
    for (i, s) in inputs.iter().enumerate() {
        let mut opts = read.clone();
        if let Some(e) = infos[i].late_encoding.as_ref().and_then(|l| l.get()) {
            opts.encoding = Some(e);
        }
        let o = input::open(s.clone(), rules, &opts)?;
        if o.headers != headers[i] {
            return Err(Error::Input(
                s.name.clone(),
                "the file changed while it was being read (its header is not the same on the next pass)".into(),
            ));
        }
        readers.push(o.records);
    }
    Ok(readers)
}

fn fold_prior(prior: &mut HashedMap<Prior>, cluster: u64, p: &Prior) {
    match prior.get_mut(&cluster) {
        Some(q) => q.merge(p),
        None => {
            prior.insert(cluster, *p);
        }
    }
}

/// Copies standard input or a named pipe to a temporary file in the output
/// directory, so that a second pass can read it again (removed when the
/// run ends, or by the next run if this one is killed).
fn spool_once(dir: &Path, source: &Source) -> Result<tempfile::NamedTempFile, Error> {
    let prefix = format!("{}{}-", crate::output::TEMP_PREFIX, std::process::id());
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix("-input")
        .tempfile_in(dir)
        .map_err(|e| {
            Error::Output(
                dir.display().to_string(),
                format!("cannot create a temporary copy of {}: {e}", source.name),
            )
        })?;
    let copied = match &source.path {
        None => std::io::copy(&mut std::io::stdin().lock(), tmp.as_file_mut()),
        Some(p) => {
            std::fs::File::open(p).and_then(|mut f| std::io::copy(&mut f, tmp.as_file_mut()))
        }
    };
    copied.map_err(|e| {
        Error::Input(
            source.name.clone(),
            format!("cannot copy it for the second pass: {e}"),
        )
    })?;
    Ok(tmp)
}

/// What the pool's tasks of a pass share.
struct Tasks<'a, F> {
    files: &'a [FileCtx],
    names: &'a [String],
    workers: &'a Workers,
    run_ctx: &'a RunCtx<'a>,
    keys_ctx: &'a RunCtx<'a>,
    /// One-pass deduplication: a batch is evaluated for its keys first.
    keys_first: bool,
    /// The reading, one batch at a time, by whichever pool thread runs
    /// the read task, and its first error (or the interruption).
    reading: Mutex<(BatchReader<'a>, Option<Error>)>,
    /// What reading needs besides, under a lock of its own (the
    /// batches handed on give buffers back while one is being read).
    spare: Mutex<Spare>,
    /// Evaluated batches waiting for the ones before them.
    done: Mutex<BTreeMap<u64, Done>>,
    /// The steps taken in input order, by one thread at a time.
    ordered: Mutex<Ordered<'a, F>>,
}

/// Buffers for reading, and whether it waits for them.
struct Spare {
    /// Record buffers to read into ([`IN_FLIGHT`] per thread, and one).
    records: Vec<Vec<Record>>,
    stashes: Vec<Vec<Stashed>>,
    /// No read task is queued: it found no free buffer. The next buffer
    /// handed back queues one.
    parked: bool,
    /// The input ended or failed, or the pass stopped.
    stop: bool,
}

/// An evaluated batch: its output chunks, and with one-pass
/// deduplication its rows' verdicts.
struct Done {
    batch: Batch,
    chunks: Vec<ChunkOut>,
    stash: Option<Vec<Stashed>>,
}

/// What is done to the batches in input order: observing their keys and
/// taking their duplicates back out (one-pass deduplication), handing
/// their chunks to `consume`, the progress bar.
struct Ordered<'a, F> {
    /// The next batch to hand on.
    next: u64,
    stream: Option<&'a mut Streaming>,
    consume: F,
    progress: Progress<'a>,
    /// The first error of `consume`.
    error: Option<Error>,
}

/// Reads the next batch (one read task is queued or running at a time),
/// queues the read after it, evaluates the batch on this thread, whose
/// cache holds the records it has just read, and hands it on. With no
/// record buffer free it parks instead: the next batch handed on queues
/// the read again.
fn read_task<'s, 'a: 's, F>(s: &rayon::Scope<'s>, t: &'s Tasks<'a, F>)
where
    F: FnMut(usize, &mut ChunkOut) -> Result<(), Error> + Send,
{
    let (records, stash) = {
        let Ok(mut spare) = t.spare.lock() else {
            return;
        };
        if spare.stop {
            return;
        }
        let Some(records) = spare.records.pop() else {
            spare.parked = true;
            return;
        };
        let stash = t
            .keys_first
            .then(|| spare.stashes.pop().unwrap_or_default());
        (records, stash)
    };
    let mut batch = {
        let Ok(mut reading) = t.reading.lock() else {
            return;
        };
        let (batches, error) = &mut *reading;
        let next = match crate::interrupt::received() {
            Some(sig) => Err(Error::Interrupted(sig)),
            None => batches.next(records),
        };
        let batch = next.unwrap_or_else(|e| {
            *error = Some(e);
            None
        });
        let Some(batch) = batch else {
            if let Ok(mut spare) = t.spare.lock() {
                spare.stop = true;
            }
            return;
        };
        batch
    };
    s.spawn(move |s| read_task(s, t));
    let file = &t.files[batch.file];
    let done = match stash {
        None => {
            let chunks = eval_batch(t.workers, &mut batch, &mut [], t.run_ctx, file);
            Done {
                batch,
                chunks,
                stash: None,
            }
        }
        Some(mut stash) => {
            fit_stash(&mut stash, batch.len, t.run_ctx.rules);
            let chunks = eval_batch(t.workers, &mut batch, &mut stash, t.keys_ctx, file);
            Done {
                batch,
                chunks,
                stash: Some(stash),
            }
        }
    };
    hand_on(s, t, done);
}

/// Puts an evaluated batch with the others waiting, then, unless another
/// thread is at it, takes the in-order steps for every batch that is
/// next (the batches before it all handed on). A thread that finds the
/// steps taken by another leaves its batch to it: that one looks for
/// more after letting go, so a batch put in meanwhile is not left behind.
fn hand_on<'s, 'a: 's, F>(s: &rayon::Scope<'s>, t: &'s Tasks<'a, F>, done: Done)
where
    F: FnMut(usize, &mut ChunkOut) -> Result<(), Error> + Send,
{
    let Ok(mut waiting) = t.done.lock() else {
        return;
    };
    waiting.insert(done.batch.seq, done);
    drop(waiting);
    loop {
        let mut ord = match t.ordered.try_lock() {
            Ok(o) => o,
            Err(_) => return,
        };
        let mut restart = false;
        loop {
            let next = t.done.lock().ok().and_then(|mut d| d.remove(&ord.next));
            let Some(Done {
                batch,
                mut chunks,
                mut stash,
            }) = next
            else {
                break;
            };
            ord.next += 1;
            let ord = &mut *ord;
            if ord.error.is_none() {
                if let (Some(st), Some(stash)) = (ord.stream.as_deref_mut(), stash.as_deref_mut()) {
                    retract_batch(
                        st,
                        t.names,
                        t.workers,
                        &batch,
                        stash,
                        t.run_ctx,
                        t.files,
                        &mut chunks,
                    );
                }
                ord.progress.batch_done(&batch);
            }
            for mut c in chunks {
                if ord.error.is_none() {
                    if let Err(e) = (ord.consume)(batch.file, &mut c) {
                        ord.error = Some(e);
                    }
                }
                t.workers.give_back(c);
            }
            // Its buffers back to the reading, which goes on if it was
            // waiting for them.
            if let Ok(mut spare) = t.spare.lock() {
                spare.records.push(spend(batch));
                spare.stashes.extend(stash);
                if ord.error.is_some() {
                    spare.stop = true;
                }
                if spare.parked && !spare.stop {
                    spare.parked = false;
                    restart = true;
                }
            }
        }
        let next = ord.next;
        drop(ord);
        if restart {
            s.spawn(move |s| read_task(s, t));
        }
        let more = t.done.lock().is_ok_and(|d| d.contains_key(&next));
        if !more {
            return;
        }
    }
}

/// One pass: evaluates the inputs' batches on the pool, several at a
/// time, and hands the results to `consume` in input order. A pool of
/// one thread does all of that on the calling thread instead
/// ([`drive_alone`]).
///
/// Reading is a task that reads one batch, queues the next read for
/// whichever thread is free first, and evaluates its batch where its
/// records were just read (on a thread of its own, the reader handed
/// every record to another core's cache). No batch waits for another to
/// be evaluated: evaluated batches wait until the ones before them are
/// handed on, and the thread that finishes the batch that is next takes
/// the in-order steps (see [`hand_on`]). A coordinator thread and a
/// writer thread did them before: with two threads of work on two cores
/// besides the pool's, every batch cost context switches (8,000 on 1M
/// rows), and the output crossed to another core to be written.
/// [`IN_FLIGHT`] record buffers per pool thread bound the memory: with
/// none free, reading waits until a batch is handed on. With one-pass
/// deduplication a batch is evaluated once, when read: each row is
/// written as if it were kept, and its keys are worked out. Its keys are
/// observed in input order, after every batch before it, and its
/// duplicates are then taken back out and written as duplicates
/// ([`retract_batch`]); only those rows are read again.
#[allow(clippy::too_many_arguments)]
fn drive<F>(
    readers: Vec<Box<dyn RecordSource>>,
    names: &[String],
    files: &[FileCtx],
    run_ctx: &RunCtx,
    pool: &rayon::ThreadPool,
    bar: Option<&ProgressBar>,
    progress_base: u64,
    stream: Option<&mut Streaming>,
    consume: F,
) -> Result<Vec<ReadCounts>, Error>
where
    F: FnMut(usize, &mut ChunkOut) -> Result<(), Error> + Send,
{
    let threads = pool.current_num_threads();
    let progress = Progress::new(bar, progress_base, files.len());
    if threads == 1 {
        return drive_alone(readers, names, files, run_ctx, progress, stream, consume);
    }
    let workers = Workers::new(threads);
    let keys_ctx = RunCtx {
        pass: Pass::Keys,
        ..run_ctx.clone()
    };
    let tasks = Tasks {
        files,
        names,
        workers: &workers,
        run_ctx,
        keys_ctx: &keys_ctx,
        keys_first: stream.is_some(),
        reading: Mutex::new((BatchReader::new(readers, names), None)),
        spare: Mutex::new(Spare {
            records: (0..IN_FLIGHT * threads + 1).map(|_| Vec::new()).collect(),
            stashes: Vec::new(),
            parked: false,
            stop: false,
        }),
        done: Mutex::new(BTreeMap::new()),
        ordered: Mutex::new(Ordered {
            next: 0,
            stream,
            consume,
            progress,
            error: None,
        }),
    };
    let t = &tasks;
    pool.in_place_scope(|s| s.spawn(move |s| read_task(s, t)));
    let failed = || Error::Input("input".into(), "the reading failed".into());
    let ordered = tasks.ordered.into_inner().map_err(|_| failed())?;
    if let Some(e) = ordered.error {
        return Err(e);
    }
    let (batches, error) = tasks.reading.into_inner().map_err(|_| failed())?;
    if let Some(e) = error {
        return Err(e);
    }
    if ordered.next != batches.seq {
        return Err(Error::Output(
            "output".into(),
            format!("{} of {} batches were handed on", ordered.next, batches.seq),
        ));
    }
    Ok(batches.counts)
}

/// A pass on one thread (`--jobs 1`): each batch read, evaluated and
/// handed to `consume` in turn, so that the run takes one core.
fn drive_alone<F>(
    readers: Vec<Box<dyn RecordSource>>,
    names: &[String],
    files: &[FileCtx],
    run_ctx: &RunCtx,
    mut progress: Progress,
    mut stream: Option<&mut Streaming>,
    mut consume: F,
) -> Result<Vec<ReadCounts>, Error>
where
    F: FnMut(usize, &mut ChunkOut) -> Result<(), Error>,
{
    let workers = Workers::new(1);
    let keys_ctx = RunCtx {
        pass: Pass::Keys,
        ..run_ctx.clone()
    };
    let mut batches = BatchReader::new(readers, names);
    let mut records = Vec::new();
    let mut stash = Vec::new();
    loop {
        if let Some(sig) = crate::interrupt::received() {
            return Err(Error::Interrupted(sig));
        }
        let Some(mut batch) = batches.next(std::mem::take(&mut records))? else {
            break;
        };
        let file = &files[batch.file];
        let chunks = match stream.as_deref_mut() {
            None => eval_batch(&workers, &mut batch, &mut [], run_ctx, file),
            Some(st) => {
                fit_stash(&mut stash, batch.len, run_ctx.rules);
                let mut chunks = eval_batch(&workers, &mut batch, &mut stash, &keys_ctx, file);
                retract_batch(
                    st,
                    names,
                    &workers,
                    &batch,
                    &mut stash,
                    run_ctx,
                    files,
                    &mut chunks,
                );
                chunks
            }
        };
        progress.batch_done(&batch);
        for mut c in chunks {
            consume(batch.file, &mut c)?;
            workers.give_back(c);
        }
        records = spend(batch);
    }
    Ok(batches.counts)
}

/// The progress bar of a pass: bytes read (of every input, from
/// `base`) and rows handed on.
struct Progress<'a> {
    bar: Option<&'a ProgressBar>,
    base: u64,
    offsets: Vec<u64>,
    rows: u64,
}

impl<'a> Progress<'a> {
    fn new(bar: Option<&'a ProgressBar>, base: u64, files: usize) -> Self {
        Progress {
            bar,
            base,
            offsets: vec![0; files],
            rows: 0,
        }
    }

    fn batch_done(&mut self, batch: &Batch) {
        if let Some(b) = self.bar {
            self.rows += batch.len as u64;
            self.offsets[batch.file] = batch.bytes;
            b.set_position(self.base + self.offsets.iter().sum::<u64>());
            b.set_message(format!("{} rows", self.rows));
        }
    }
}

/// A handed-on batch's records, to be read into again: buffers that one
/// large record grew are given back.
fn spend(mut batch: Batch) -> Vec<Record> {
    let mut spent = std::mem::take(&mut batch.records);
    for r in &mut spent[..batch.len] {
        if r.data.capacity() > KEEP_BUFFER {
            r.data = Vec::new();
        }
        if r.raw.capacity() > KEEP_BUFFER {
            r.raw = Vec::new();
        }
    }
    spent
}

/// The workers of a pass, kept from batch to batch: their buffers, and
/// the regex caches and lazily built automata in their memos, stay warm.
///
/// Each pool thread has a worker of its own (its slot, by
/// `rayon::current_thread_index`), so a worker stays with the thread (and
/// mostly the core) that uses it; a shared stack handed the worker one
/// thread had just returned to the other. (That made no difference this
/// machine could measure to the extra CPU `--jobs 2` spends over
/// `--jobs 1`; see BENCHMARKS.md.)
struct Workers {
    slots: Vec<Slot>,
    /// For a task that runs outside the pool or whose slot is taken.
    spare: std::sync::Mutex<Vec<Worker>>,
    /// The buffers of chunks written, for chunks to come: a chunk's
    /// output bytes were allocated on the thread that evaluated it and
    /// freed on the thread that wrote it (then a writer thread of its
    /// own; now often the other pool thread), which glibc's malloc paid for in arena
    /// locks, consolidation and fresh pages (`--jobs 2` spent twice as
    /// much CPU in malloc and free as `--jobs 1`).
    chunks: std::sync::Mutex<Vec<ChunkBuffers>>,
}

/// Most buffers [`Workers`] keeps: more than the chunks in flight.
const SPARE_CHUNKS: usize = 64;

/// One pool thread's worker, on a cache line of its own.
#[repr(align(128))]
#[derive(Default)]
struct Slot(std::sync::Mutex<Option<Worker>>);

impl Workers {
    fn new(threads: usize) -> Self {
        Workers {
            slots: (0..threads).map(|_| Slot::default()).collect(),
            spare: std::sync::Mutex::default(),
            chunks: std::sync::Mutex::default(),
        }
    }

    /// Empty buffers for a chunk, given back by one written before.
    fn spare(&self) -> ChunkBuffers {
        self.chunks
            .lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_default()
    }

    /// Keeps a written chunk's buffers for [`Workers::spare`].
    fn give_back(&self, chunk: ChunkOut) {
        let spare = chunk.into_spare();
        if let Ok(mut v) = self.chunks.lock() {
            if v.len() < SPARE_CHUNKS {
                v.push(spare);
            }
        }
    }

    fn lease(&self, run: &RunCtx) -> Lease<'_> {
        let own = rayon::current_thread_index().and_then(|i| self.slots.get(i));
        // The thread's slot, unless a task of the same thread holds it.
        let held = own.and_then(|s| s.0.try_lock().ok().map(|mut w| (s, w.take())));
        let (slot, worker) = match held {
            Some((s, w)) => (Some(s), w),
            None => (None, self.spare.lock().ok().and_then(|mut v| v.pop())),
        };
        Lease {
            worker: Some(worker.unwrap_or_else(|| Worker::new(run))),
            home: self,
            slot,
        }
    }
}

/// A worker taken from [`Workers`] for one parallel task; it goes back
/// when the task ends, to its thread's slot if it came from one.
struct Lease<'a> {
    worker: Option<Worker>,
    home: &'a Workers,
    slot: Option<&'a Slot>,
}

impl Lease<'_> {
    fn get(&mut self, run: &RunCtx) -> &mut Worker {
        self.worker.get_or_insert_with(|| Worker::new(run))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(w) = self.worker.take() else {
            return;
        };
        if let Some(Ok(mut held)) = self.slot.map(|s| s.0.lock()) {
            if held.is_none() {
                *held = Some(w);
                return;
            }
        }
        if let Ok(mut spare) = self.home.spare.lock() {
            spare.push(w);
        }
    }
}

/// Evaluates one batch's records on the calling thread, in chunks of
/// [`CHUNK`] records, each chunk's output in input order. `stash` is
/// empty, or holds one verdict per record (see [`Worker::process_all`]).
fn eval_batch(
    workers: &Workers,
    batch: &mut Batch,
    stash: &mut [Stashed],
    run_ctx: &RunCtx,
    file: &FileCtx,
) -> Vec<ChunkOut> {
    let mut lease = workers.lease(run_ctx);
    let w = lease.get(run_ctx);
    let mut stash = (stash.len() == batch.len).then_some(stash);
    let records = &mut batch.records[..batch.len];
    let mut outs = Vec::with_capacity(records.len().div_ceil(CHUNK));
    for (ci, recs) in records.chunks_mut(CHUNK).enumerate() {
        let at = ci * CHUNK;
        let st = stash.as_deref_mut().map(|s| &mut s[at..at + recs.len()]);
        let mut out = ChunkOut::with_spare(run_ctx.rules.rules.len(), workers.spare());
        let (row, global) = (batch.first_row + at as u64, batch.first_global + at as u64);
        w.process_all(run_ctx, file, recs, row, global, &mut out, st);
        w.drain_into(run_ctx, &mut out);
        outs.push(out);
    }
    outs
}

/// One verdict slot per record of a batch of `len`, reusing `stash`'s.
fn fit_stash(stash: &mut Vec<Stashed>, len: usize, rules: &Compiled) {
    stash.truncate(len);
    let missing = len - stash.len();
    stash.extend((0..missing).map(|_| Stashed::new(rules)));
}

/// Observes a keyed batch's keys (after every batch before it), then
/// takes its duplicates out of what its keys evaluation wrote (`chunks`)
/// and writes them as duplicates, with their verdicts (in `stash`) from
/// that evaluation (see [`Worker::retract`]).
#[allow(clippy::too_many_arguments)]
fn retract_batch(
    st: &mut Streaming,
    names: &[String],
    workers: &Workers,
    batch: &Batch,
    stash: &mut [Stashed],
    run_ctx: &RunCtx,
    files: &[FileCtx],
    chunks: &mut [ChunkOut],
) {
    let preset = observe_batch(st, names, batch, chunks);
    let ctx = RunCtx {
        preset: Some(&preset),
        ..run_ctx.clone()
    };
    let mut lease = workers.lease(&ctx);
    let w = lease.get(&ctx);
    let file = &files[batch.file];
    for (ci, out) in chunks.iter_mut().enumerate() {
        let at = ci * CHUNK;
        let n = CHUNK.min(batch.len - at);
        let records = &batch.records[at..at + n];
        let (row, global) = (batch.first_row + at as u64, batch.first_global + at as u64);
        w.retract(
            &ctx,
            file,
            records,
            row,
            global,
            &mut stash[at..at + n],
            out,
        );
    }
}

/// Observes the keys of one batch, in input order, and presets the
/// batch's dropped rows for [`retract_batch`]. With one key, first
/// kept, nothing merges and a person's kept row is their first: each
/// row's decision is final as soon as it is observed, and so is what its
/// reason names of the kept row.
fn observe_batch<'n>(
    st: &mut Streaming,
    names: &'n [String],
    batch: &Batch,
    facts: &[ChunkOut],
) -> Preset<'n> {
    let first_global = batch.first_global;
    let base = &mut st.plan.file_base;
    // Files with no records take the base of the next one.
    let start = first_global - (batch.first_row - 1);
    if base.len() <= batch.file {
        base.resize(batch.file + 1, start);
    }
    base[batch.file] = start;
    let mut preset = Preset {
        dropped: Vec::new(),
        names,
    };
    // The first batch tells how long a row is: the key table is sized
    // for as many rows as the inputs hold at that length (at most
    // [`RESERVE_MAX`]), rather than doubling its way there.
    if batch.seq == 0 && batch.bytes > 0 {
        if let Some(total) = st.input_bytes {
            let rows = u128::from(total) * batch.len as u128 / u128::from(batch.bytes);
            let rows = rows.min(u128::from(RESERVE_MAX)) as usize;
            st.plan.index.reserve(rows);
        }
    }
    for c in facts {
        st.plan.index.warm(&c.facts);
    }
    for c in facts {
        for f in &c.facts {
            if let Some(cl) = st.plan.index.observe(f, &mut st.merged) {
                let d = st.plan.index.decide_in(cl, f.row, &f.keys);
                if let Decision::Drop { cluster, .. } = d {
                    preset.dropped.push((f.row, d, Kept::of(&st.plan, cluster)));
                }
            }
        }
    }
    preset
}

/// Deduplication decided batch by batch in one pass: possible when the
/// first row of a person is kept and people are matched by one key only
/// (a row then joins at most one person, and people never merge), with no
/// state and no filling.
pub struct Streaming {
    /// Grows batch by batch; its file bases are set as files begin.
    plan: Plan,
    merged: Vec<u32>,
    /// The inputs' sizes in all, when every one is known.
    input_bytes: Option<u64>,
}

/// The most keys the table is sized for ahead of time (2^24: 16 Mi keys,
/// a 256 MiB table, what ten million distinct keys need); past that it
/// grows as the keys come. An estimate thrown off by short first rows
/// costs at most that.
const RESERVE_MAX: u64 = 1 << 24;

/// Whether deduplication can be decided in one pass (see [`Streaming`]).
fn one_pass_dedup(rules: &Compiled, cfg: &RunConfig) -> bool {
    let spec = &rules.dedup;
    spec.enabled()
        && spec.keys.len() == 1
        && spec.keep.is_empty()
        && spec.order == crate::dedup::Order::First
        && !spec.fill_empty
        && cfg.state.is_none()
}

/// Reads every input in order into batches, and counts each input's
/// blank lines and records.
struct BatchReader<'a> {
    readers: Vec<Box<dyn RecordSource>>,
    names: &'a [String],
    /// The input being read, and its next record's row number.
    file: usize,
    row: u64,
    /// Run position of the next record, and the next batch's place.
    global: u64,
    seq: u64,
    counts: Vec<ReadCounts>,
}

impl<'a> BatchReader<'a> {
    fn new(readers: Vec<Box<dyn RecordSource>>, names: &'a [String]) -> Self {
        BatchReader {
            readers,
            names,
            file: 0,
            row: 1,
            global: 0,
            seq: 0,
            counts: Vec::new(),
        }
    }

    /// The next batch, read into `records` (a spent batch's, or empty);
    /// `None` after the last input's last record.
    fn next(&mut self, mut records: Vec<Record>) -> Result<Option<Batch>, Error> {
        while let Some(rdr) = self.readers.get_mut(self.file) {
            records.resize_with(BATCH, Record::default);
            let mut len = 0;
            let mut held = 0;
            while len < BATCH && held < BATCH_BYTES {
                match rdr.next_record(&mut records[len]) {
                    Ok(true) => {
                        held += records[len].data_len + records[len].raw.len();
                        len += 1;
                    }
                    Ok(false) => break,
                    Err(e) => {
                        return Err(Error::Input(
                            self.names[self.file].clone(),
                            format!("cannot read: {e}"),
                        ))
                    }
                }
            }
            if len == 0 {
                self.end_file();
                continue;
            }
            let batch = Batch {
                seq: self.seq,
                file: self.file,
                records,
                len,
                first_row: self.row,
                first_global: self.global,
                bytes: rdr.position(),
            };
            self.row += len as u64;
            self.global += len as u64;
            self.seq += 1;
            // A batch cut short by neither limit ends its input.
            if len < BATCH && held < BATCH_BYTES {
                self.end_file();
            }
            return Ok(Some(batch));
        }
        Ok(None)
    }

    fn end_file(&mut self) {
        let blank = self.readers[self.file].blank_lines();
        self.counts.push(ReadCounts {
            blank,
            records: self.row - 1,
        });
        self.file += 1;
        self.row = 1;
    }
}

/// The output columns (union of the inputs' headers, by header text and
/// occurrence, in order of first appearance) and each file's mapping.
fn plan(opened: &[Opened], rules: &Compiled) -> (Vec<String>, Vec<FileCtx>) {
    let mut union: Vec<String> = Vec::new();
    let mut index: HashMap<(String, usize), usize> = HashMap::new();
    let mut maps = Vec::new();
    for o in opened {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut in_to_out = Vec::new();
        for h in &o.headers {
            let k = seen.entry(h.as_str()).or_insert(0);
            *k += 1;
            let key = (h.clone(), *k);
            let out = *index.entry(key).or_insert_with(|| {
                union.push(h.clone());
                union.len() - 1
            });
            in_to_out.push(out);
        }
        maps.push(in_to_out);
    }
    let files = opened
        .iter()
        .zip(maps)
        .map(|(o, in_to_out)| {
            let mut out_to_in = vec![None; union.len()];
            for (i, &out) in in_to_out.iter().enumerate() {
                out_to_in[out] = Some(i);
            }
            let same_columns = out_to_in.len() == o.headers.len()
                && out_to_in.iter().enumerate().all(|(k, c)| *c == Some(k));
            FileCtx {
                name: o.source.name.clone(),
                width: o.headers.len(),
                out_to_in,
                same_columns,
                binding: o.binding.clone(),
                name_parts: o
                    .binding
                    .iter()
                    .any(|b| matches!(b, input::Bound::NamePart { .. })),
                clean_cols: clean_columns(o, rules),
                encoding: o.info.encoding.clone().unwrap_or_else(|| "UTF-8".into()),
                decimal_comma: o.info.delimiter.as_deref() == Some(";"),
                name_plain: crate::output::plain_cell(o.source.name.as_bytes()),
            }
        })
        .collect();
    (union, files)
}

/// For each column of an input, the cleaning `[clean] write` asks for: the
/// columns a written field is bound to (all of them for email and phone).
fn clean_columns(o: &Opened, rules: &Compiled) -> Vec<Option<WriteKind>> {
    let mut cols = vec![None; o.headers.len()];
    for &(slot, kind) in &rules.clean_write {
        if let Some(b) = o.binding.get(slot) {
            if matches!(b, input::Bound::NamePart { .. }) {
                continue;
            }
            for c in b.columns() {
                cols[c] = Some(kind);
            }
        }
    }
    cols
}

/// `--strict`: fails the run at the chunk's first malformed row.
fn stop_if_strict(strict: bool, name: &str, chunk: &ChunkOut) -> Result<(), Error> {
    match &chunk.first_malformed {
        Some((line, reason)) if strict => Err(Error::Input(
            format!("{name}:{line}"),
            format!("{reason} (--strict stops at the first malformed row; nothing was written)"),
        )),
        _ => Ok(()),
    }
}

fn refuse_overwriting_inputs(
    inputs: &[Source],
    out_dir: &Path,
    format: Format,
) -> Result<(), Error> {
    let Ok(dir) = out_dir.canonicalize() else {
        return Ok(());
    };
    for s in inputs {
        let Some(p) = &s.path else { continue };
        let Ok(p) = p.canonicalize() else { continue };
        if p.parent() == Some(dir.as_path()) {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let outputs = crate::output::output_names(format);
            let reports = crate::report::FILES;
            if outputs.iter().any(|o| o == name)
                || name == "summary.json"
                || reports.contains(&name)
            {
                return Err(Error::Usage(format!(
                    "{}: this input is one of the output files in {}; choose another output directory with --out",
                    s.name,
                    out_dir.display()
                )));
            }
        }
    }
    Ok(())
}

fn progress_bar(show: bool, inputs: &[Source], passes: u64) -> Option<ProgressBar> {
    if !show {
        return None;
    }
    let total: Option<u64> = inputs.iter().map(|s| s.size.map(|n| n * passes)).sum();
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::no_length(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
