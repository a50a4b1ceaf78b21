//! The run: read records in batches on one thread, evaluate each batch in
//! parallel, write from one thread in input order.
//!
//! Memory is bounded by the batch size times the few batches in flight, not
//! by the input. Rows are serialised by the workers into per-chunk buffers
//! and appended by the writer in order, so the output bytes are the same for
//! any number of threads.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::error::Error;
use crate::input::{self, Opened, ReadOptions, Record, RecordSource, Source};
use crate::output::{Layout, StageFiles};
use crate::row::{ChunkOut, FileCtx, RunCtx, Worker};
use crate::rules::derive::WriteKind;
use crate::rules::Compiled;
use crate::summary::{FileSummary, Summary};

/// Records per batch handed to the workers.
const BATCH: usize = 16 * 1024;
/// Records per parallel work item within a batch.
const CHUNK: usize = 512;
/// Batches in flight between the threads.
const IN_FLIGHT: usize = 3;

pub struct RunConfig<'a> {
    pub inputs: Vec<Source>,
    pub out_dir: &'a Path,
    pub jobs: usize,
    pub progress: bool,
    pub sanitize: bool,
    pub read: ReadOptions,
    pub pad_short: bool,
    pub keep_long: bool,
}

struct Batch {
    file: usize,
    records: Vec<Record>,
    len: usize,
    first_row: u64,
    /// Bytes of this file read so far, at the end of the batch.
    bytes: u64,
}

struct Processed {
    file: usize,
    chunks: Vec<ChunkOut>,
}

/// Qualifies every input and writes the stage files; returns the summary
/// (not yet written).
pub fn run(rules: &Compiled, cfg: RunConfig) -> Result<(Summary, StageFiles), Error> {
    let started = Instant::now();
    refuse_overwriting_inputs(&cfg.inputs, cfg.out_dir)?;
    let opened: Vec<Opened> = cfg
        .inputs
        .iter()
        .cloned()
        .map(|s| input::open(s, rules, &cfg.read))
        .collect::<Result<_, _>>()?;
    let (union, files) = plan(&opened, rules);
    let layout = Layout::new(union, rules, cfg.keep_long);
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
    let mut stage_files = StageFiles::create(cfg.out_dir, &layout, cfg.sanitize)?;
    let run_ctx = RunCtx::new(rules, cfg.sanitize, cfg.pad_short, cfg.keep_long);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} worker threads: {e}", cfg.jobs)))?;
    let bar = progress_bar(cfg.progress, &cfg.inputs);
    let offsets: Vec<u64> = cfg
        .inputs
        .iter()
        .scan(0, |acc, s| {
            let o = *acc;
            *acc += s.size.unwrap_or(0);
            Some(o)
        })
        .collect();

    let readers: Vec<_> = opened.into_iter().map(|o| o.records).collect();
    let names: Vec<String> = cfg.inputs.iter().map(|s| s.name.clone()).collect();
    let (batch_tx, batch_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (recycle_tx, recycle_rx) = sync_channel::<Vec<Record>>(IN_FLIGHT + 2);
    let (out_tx, out_rx) = sync_channel::<Processed>(IN_FLIGHT);

    let mut blank = Vec::new();
    std::thread::scope(|scope| -> Result<(), Error> {
        let reader = scope.spawn(move || read_all(readers, &names, batch_tx, recycle_rx));
        let blank_lines = &mut blank;
        let writer = {
            let summary = &mut summary;
            let stage_files = &mut stage_files;
            scope.spawn(move || write_all(out_rx, stage_files, summary))
        };
        let mut eval_result = Ok(());
        let mut rows_done = 0u64;
        for mut batch in batch_rx {
            if let Some(sig) = crate::interrupt::received() {
                eval_result = Err(Error::Interrupted(sig));
                break;
            }
            let file = &files[batch.file];
            let first = batch.first_row;
            let chunks: Vec<ChunkOut> = pool.install(|| {
                batch.records[..batch.len]
                    .par_chunks_mut(CHUNK)
                    .enumerate()
                    .map_init(
                        || Worker::new(rules),
                        |w, (ci, recs)| {
                            let mut out = ChunkOut::new(rules.rules.len());
                            for (k, rec) in recs.iter_mut().enumerate() {
                                w.process(
                                    &run_ctx,
                                    file,
                                    rec,
                                    first + (ci * CHUNK + k) as u64,
                                    &mut out,
                                );
                            }
                            w.drain_into(&mut out);
                            out
                        },
                    )
                    .collect()
            });
            if let Some(b) = &bar {
                rows_done += batch.len as u64;
                b.set_position(offsets[batch.file] + batch.bytes);
                b.set_message(format!("{rows_done} rows"));
            }
            let done = Processed {
                file: batch.file,
                chunks,
            };
            let _ = recycle_tx.try_send(std::mem::take(&mut batch.records));
            if out_tx.send(done).is_err() {
                eval_result = Err(Error::Output(
                    cfg.out_dir.display().to_string(),
                    "the writer stopped".into(),
                ));
                break;
            }
        }
        drop(out_tx);
        drop(recycle_tx);
        let read = reader.join().unwrap_or_else(|_| {
            Err(Error::Input(
                "input".into(),
                "the reader thread failed".into(),
            ))
        });
        let read = read.map(|b| *blank_lines = b);
        let wrote = writer.join().unwrap_or_else(|_| {
            Err(Error::Output(
                "output".into(),
                "the writer thread failed".into(),
            ))
        });
        wrote?;
        read?;
        eval_result
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(sig) = crate::interrupt::received() {
        return Err(Error::Interrupted(sig));
    }
    for (f, n) in summary.files.iter_mut().zip(blank) {
        f.input.blank_lines = n;
        if let Some(e) = f.input.late_encoding.as_ref().and_then(|l| l.get()) {
            f.input.encoding = Some(e.name().to_string());
        }
    }
    summary.elapsed_seconds = started.elapsed().as_secs_f64();
    Ok((summary, stage_files))
}

/// Reads every input in order into batches; returns the blank lines of
/// each input, or the first read error.
fn read_all(
    readers: Vec<Box<dyn RecordSource>>,
    names: &[String],
    tx: SyncSender<Batch>,
    recycle: Receiver<Vec<Record>>,
) -> Result<Vec<u64>, Error> {
    let mut blank = Vec::new();
    for (file, mut rdr) in readers.into_iter().enumerate() {
        let mut row = 1u64;
        loop {
            let mut records = recycle.try_recv().unwrap_or_default();
            records.resize_with(BATCH, Record::default);
            let mut len = 0;
            while len < BATCH {
                match rdr.next_record(&mut records[len]) {
                    Ok(true) => len += 1,
                    Ok(false) => break,
                    Err(e) => {
                        return Err(Error::Input(
                            names[file].clone(),
                            format!("cannot read: {e}"),
                        ))
                    }
                }
            }
            if len == 0 {
                break;
            }
            let batch = Batch {
                file,
                records,
                len,
                first_row: row,
                bytes: rdr.position(),
            };
            row += len as u64;
            if tx.send(batch).is_err() {
                return Ok(blank);
            }
            if len < BATCH {
                break;
            }
        }
        blank.push(rdr.blank_lines());
    }
    Ok(blank)
}

/// Appends each batch's rows to the stage files, in order, and counts.
fn write_all(
    rx: Receiver<Processed>,
    files: &mut StageFiles,
    summary: &mut Summary,
) -> Result<(), Error> {
    for p in rx {
        for c in p.chunks {
            for (i, bytes) in c.bytes.iter().enumerate() {
                if !bytes.is_empty() {
                    files.files[i].write_all(bytes)?;
                }
            }
            summary.add(p.file, &c);
        }
    }
    Ok(())
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
            FileCtx {
                name: o.source.name.clone(),
                width: o.headers.len(),
                out_to_in,
                binding: o.binding.clone(),
                name_parts: o
                    .binding
                    .iter()
                    .any(|b| matches!(b, input::Bound::NamePart { .. })),
                clean_cols: clean_columns(o, rules),
                encoding: o.info.encoding.clone().unwrap_or_else(|| "UTF-8".into()),
                decimal_comma: o.info.delimiter.as_deref() == Some(";"),
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

fn refuse_overwriting_inputs(inputs: &[Source], out_dir: &Path) -> Result<(), Error> {
    let Ok(dir) = out_dir.canonicalize() else {
        return Ok(());
    };
    for s in inputs {
        let Some(p) = &s.path else { continue };
        let Ok(p) = p.canonicalize() else { continue };
        if p.parent() == Some(dir.as_path()) {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let outputs = crate::rules::Stage::ALL.map(|s| s.file_name());
            if outputs.contains(&name) || name == "summary.json" {
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

fn progress_bar(show: bool, inputs: &[Source]) -> Option<ProgressBar> {
    if !show {
        return None;
    }
    let total: Option<u64> = inputs.iter().map(|s| s.size).sum();
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
