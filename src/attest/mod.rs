//! `chains attest`: read runs → provenance → sign → output. A thin
//! composition of the pipeline stages.

mod output;

use std::fs;
use std::io::{self, IsTerminal};

use miette::Diagnostic;
use rayon::prelude::*;

use crate::cli::AttestArgs;
use crate::config::{Config, ConfigError};
use crate::pipeline::{
    self, Attested, Product, RunError, SignerInputs, SignersError, Stages, Storage, StorageInputs,
    StorageSetupError,
};
use crate::provenance::{BuildType, Format, Options};
use crate::report::report;
use crate::run::read::{self, Decoded, Document, DocumentStream, InputError, KindHint, Source};
use crate::run::{Run, RunKind, group};
use crate::sign::Password;
use output::{Output, Planned};

/// How a command ended; `main` maps this to an exit code.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Some runs failed on bad input (exit 2).
    BadInput,
    /// Some runs failed otherwise (exit 1).
    Failed,
}

/// Errors that stop the command before any run is processed.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum AttestError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Signers(#[from] SignersError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Storage(#[from] StorageSetupError),
    #[error("cannot create output directory {path}")]
    #[diagnostic(code(chains::output::dir))]
    OutputDir {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// The keys attest's flags name, for the signer stage.
fn signer_inputs(args: &AttestArgs) -> SignerInputs {
    SignerInputs {
        key: args.key.clone(),
        loaded: None,
        x509: None,
        password: match &args.password_file {
            Some(p) => Password::File(p.clone()),
            None => Password::FromEnvironment,
        },
        fulcio_url: args.fulcio_url.clone(),
        identity_token: args.identity_token.clone(),
    }
}

/// The storage attest's flags choose, for the store stage.
fn storage_inputs(args: &AttestArgs) -> StorageInputs {
    StorageInputs {
        storage: args.storage.clone(),
        output: args.output.clone(),
        in_place: args.in_place,
        kubeconfig: args.kubeconfig.clone(),
        tlog_upload: args.tlog_upload,
        rekor_url: args.rekor_url.clone(),
        rekor_public_key: args.rekor_public_key.clone(),
        controller: false,
    }
}

/// Resolve the provenance options: config file, then flags.
pub fn options(args: &AttestArgs) -> Result<(Config, Options, Option<Format>), AttestError> {
    let config = match &args.config {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    let mut opts = Options {
        format: config.format_for(false),
        builder_id: config.builder_id.clone(),
        build_type: config.build_type,
        deep_inspection: config.deep_inspection || args.deep_inspection,
    };
    if let Some(id) = &args.builder_id {
        opts.builder_id = id.clone();
    }
    if let Some(bt) = &args.build_type {
        // clap restricts the values to the two valid URIs.
        opts.build_type = bt.parse().unwrap_or(BuildType::Slsa);
    }
    let format_flag = match &args.format {
        Some(f) => Some(f.parse().map_err(|_| ConfigError::Value {
            source_name: "--format".into(),
            key: "--format".into(),
            value: f.clone(),
            allowed: Format::NAMES.iter().map(|s| s.to_string()).collect(),
        })?),
        None => None,
    };
    Ok((config, opts, format_flag))
}

/// Documents decoded and attested together; big enough to keep every core
/// busy, small enough that memory does not grow with the input. Measured on
/// 18 KB TaskRuns: 64 ran faster than 256 (the working set stays in cache)
/// and peaked at 40 MiB instead of 110.
const CHUNK: usize = 64;

/// What the pipeline produced for one input position.
enum Slot {
    /// A PipelineRun waiting for the end of the input (its children may come later).
    Waiting,
    Done(Box<Attested>),
}

/// Results in input order: a slot per run or failed document, written out as
/// soon as everything before it is done.
struct Ordered {
    slots: std::collections::VecDeque<Slot>,
    /// Sequence number of the first slot.
    base: usize,
}

impl Ordered {
    fn push(&mut self, slot: Slot) -> usize {
        self.slots.push_back(slot);
        self.base + self.slots.len() - 1
    }

    fn fill(&mut self, seq: usize, result: Attested) {
        self.slots[seq - self.base] = Slot::Done(Box::new(result));
    }

    /// Take the finished results at the front.
    fn ready(&mut self) -> Vec<Attested> {
        let mut out = Vec::new();
        while let Some(Slot::Done(_)) = self.slots.front() {
            if let Some(Slot::Done(r)) = self.slots.pop_front() {
                out.push(*r);
            }
            self.base += 1;
        }
        out
    }
}

/// Counts and the exit status of a batch.
#[derive(Default)]
struct Tally {
    ok: usize,
    /// Runs whose artifact type has signer `none`.
    disabled: usize,
    failed: usize,
    skipped: usize,
    bad_input: bool,
    other: bool,
}

impl Tally {
    fn fail(&mut self, e: RunError) {
        self.failed += 1;
        self.bad_input |= e.is_bad_input();
        self.other |= !e.is_bad_input();
        report(e);
    }
}

pub fn run(args: &AttestArgs, quiet: bool) -> Result<Outcome, AttestError> {
    if let Some(timeout) = args.timeout {
        crate::store::set_overall_timeout(timeout);
    }
    let (config, base_opts, format_flag) = options(args)?;
    // Keys are loaded (and decrypted) once, before any run is read.
    let signers = if args.unsigned {
        None
    } else {
        let s = pipeline::load_signers(&signer_inputs(args), &config)?;
        for (kind, signer) in [("taskrun", &s.taskrun), ("pipelinerun", &s.pipelinerun)] {
            if signer.is_none() {
                warn(
                    quiet,
                    &format!(
                        "artifacts.{kind} is disabled (signer none, or storage \"\"): {kind}s are not attested"
                    ),
                );
            }
        }
        Some(s)
    };
    if let Some(dir) = &args.output {
        fs::create_dir_all(dir).map_err(|source| AttestError::OutputDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let storage = match &signers {
        Some(_) => Some(Storage::setup(&storage_inputs(args), &config)?),
        None => None,
    };
    let write_back = storage.as_ref().and_then(|s| s.write_back.clone());
    let stages = Stages::new(config, base_opts, format_flag, signers, storage);
    let sources = read::expand_inputs(&args.inputs)?;
    let context_sources = read::expand_inputs(&args.taskruns)?;
    let mut tally = Tally::default();
    let mut out = Output::new(args.output.as_deref(), args.bundle, write_back);
    let mut ordered = Ordered {
        slots: Default::default(),
        base: 0,
    };

    // Runs kept until the end of the input, for PipelineRuns: the PipelineRuns
    // themselves (with their slot), TaskRuns linked to one, and --taskruns.
    let mut kept: Vec<Run> = Vec::new();
    let mut kept_slot: Vec<Option<usize>> = Vec::new();
    let mut kept_context: Vec<bool> = Vec::new();
    let mut listed = std::collections::HashSet::new();

    for source in &context_sources {
        for d in read_source(source, KindHint::TaskRun) {
            match d {
                Ok(Decoded::Run(run)) if run.kind == RunKind::TaskRun => {
                    kept.push(*run);
                    kept_slot.push(None);
                    kept_context.push(true);
                }
                Ok(Decoded::Run(run)) => warn(
                    quiet,
                    &format!(
                        "{}: --taskruns takes TaskRuns; ignoring this {}",
                        run.origin, run.kind
                    ),
                ),
                Ok(Decoded::Skipped { origin, what }) => {
                    tally.skipped += 1;
                    warn(quiet, &format!("{origin}: skipping {what}: not a TaskRun"));
                }
                Err(e) => {
                    tally.fail(e.into());
                }
            }
        }
    }

    // Stream the inputs chunk by chunk: decode and attest TaskRuns in
    // parallel, write what is ready, keep only what PipelineRuns need. The
    // next chunk is read (split into documents, serial work) while the
    // current one is processed, so that no core waits for the reader; at most
    // two chunks are in memory.
    let progress = Progress::new(quiet);
    let mut stop = args.fail_fast && tally.failed > 0;
    let mut docs = sources.iter().flat_map(|s| match s.open() {
        Ok(r) => Box::new(DocumentStream::new(s.display_name(), r))
            as Box<dyn Iterator<Item = Result<Document, InputError>> + Send>,
        Err(e) => Box::new(std::iter::once(Err(e))),
    });
    let mut next = read_chunk(&mut docs);
    // Files planned for the previous chunk, written while this one is processed.
    let mut to_write: Vec<PlannedRun> = Vec::new();
    while !stop && !next.is_empty() {
        let chunk = std::mem::take(&mut next);
        let writing = std::mem::take(&mut to_write);
        let ((read, written), planned) = rayon::join(
            || {
                // One writer: two threads creating files in one directory
                // queue on its lock and burn more CPU than one.
                let written = write_planned_runs(writing);
                (read_chunk(&mut docs), written)
            },
            || {
                let processed: Vec<Result<Vec<DecodedRun>, InputError>> = chunk
                    .into_par_iter()
                    .map(|d| decode_and_attest(&stages, d))
                    .collect();
                // Runs no PipelineRun needs, dropped together after the loop:
                // freeing a run's tree is 7% of attest's CPU, too much for
                // this serial loop.
                let mut finished: Vec<Run> = Vec::new();
                for p in processed {
                    let items = match p {
                        Ok(items) => items,
                        Err(e) => {
                            ordered.push(Slot::Done(Box::new(Err(e.into()))));
                            continue;
                        }
                    };
                    for (item, result) in items {
                        let run = match item {
                            Decoded::Run(run) => *run,
                            Decoded::Skipped { origin, what } => {
                                tally.skipped += 1;
                                warn(
                                    quiet,
                                    &format!(
                                        "{origin}: skipping {what}: not a TaskRun or PipelineRun"
                                    ),
                                );
                                continue;
                            }
                        };
                        let seq = ordered.push(match result {
                            Some(r) => Slot::Done(Box::new(r)),
                            None => Slot::Waiting,
                        });
                        if run.kind == RunKind::PipelineRun {
                            listed.extend(group::listed_children(&run));
                        }
                        let keep =
                            run.kind == RunKind::PipelineRun || group::may_be_child(&run, &listed);
                        if keep {
                            kept_slot.push((run.kind == RunKind::PipelineRun).then_some(seq));
                            kept.push(run);
                            kept_context.push(false);
                        } else {
                            finished.push(run);
                        }
                    }
                }
                finished.into_par_iter().for_each(drop);
                take_ready(
                    &mut ordered,
                    &mut out,
                    &mut tally,
                    &progress,
                    args.fail_fast,
                )
            },
        );
        next = read;
        record_all(written, &mut tally);
        (to_write, stop) = planned;
    }

    // PipelineRuns, now that every child has been seen.
    if !stop {
        let refs: Vec<&Run> = kept.iter().collect();
        let children = group::children(&refs, &kept_context);
        let results: Vec<(usize, Attested)> = (0..kept.len())
            .into_par_iter()
            .filter_map(|i| {
                let seq = kept_slot[i]?;
                let kids: Vec<&Run> = children[i].iter().map(|&c| &kept[c]).collect();
                Some((seq, stages.attest(&kept[i], &kids)))
            })
            .collect();
        for (seq, r) in results {
            ordered.fill(seq, r);
        }
        let (planned, _) = take_ready(
            &mut ordered,
            &mut out,
            &mut tally,
            &progress,
            args.fail_fast,
        );
        to_write.extend(planned);
    }
    record_all(write_planned_runs(to_write), &mut tally);
    progress.finish();
    if let Err(e) = out.finish() {
        report(e);
        tally.other = true;
    }
    if out.images_not_written > 0 {
        warn(
            quiet,
            &format!(
                "{} image signature{} made but not written: stdout carries one envelope per run; use -o DIR",
                out.images_not_written,
                if out.images_not_written == 1 { "" } else { "s" }
            ),
        );
    }

    if !quiet && (tally.failed > 0 || args.output.is_some()) {
        let ok = tally.ok;
        let mut line = format!("attested {ok} run{}", if ok == 1 { "" } else { "s" });
        if tally.failed > 0 {
            line.push_str(&format!(", {} failed", tally.failed));
        }
        if tally.skipped > 0 {
            let n = tally.skipped;
            line.push_str(&format!(
                ", {n} other document{} skipped",
                if n == 1 { "" } else { "s" }
            ));
        }
        if let Some(dir) = &args.output {
            // Say "written" only when something was.
            let verb = if ok == 0 {
                "nothing written to"
            } else {
                "written to"
            };
            line.push_str(&format!(" ({verb} {})", dir.display()));
        }
        eprintln!("{line}");
    }
    Ok(if tally.bad_input {
        Outcome::BadInput
    } else if tally.other {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

/// A document's item, with the TaskRun's result when it is one.
type DecodedRun = (Decoded, Option<Attested>);

/// Decode a document and attest its TaskRuns in one pass: a TaskRun's
/// statement depends on nothing else. PipelineRuns wait for their children.
fn decode_and_attest(
    stages: &Stages,
    doc: Result<Document, InputError>,
) -> Result<Vec<DecodedRun>, InputError> {
    let items = doc.and_then(|doc| read::decode(doc, KindHint::Infer))?;
    Ok(items
        .into_iter()
        .map(|item| {
            let result = match &item {
                Decoded::Run(run) if run.kind == RunKind::TaskRun => Some(stages.attest(run, &[])),
                _ => None,
            };
            (item, result)
        })
        .collect())
}

/// The next chunk of documents (empty at the end of the input).
fn read_chunk(
    docs: &mut (impl Iterator<Item = Result<Document, InputError>> + Send),
) -> Vec<Result<Document, InputError>> {
    docs.by_ref().take(CHUNK).collect()
}

/// A finished run's files, named and ready to write (`None`: nothing to
/// write), or why it failed.
type PlannedRun = Result<Option<Planned>, RunError>;

/// The results at the front of the queue: planned, for their files to be
/// written later; or with `--fail-fast` written now one run at a time, so
/// that nothing after a failure is written (true when one stopped the batch).
fn take_ready(
    ordered: &mut Ordered,
    out: &mut Output<'_>,
    tally: &mut Tally,
    progress: &Progress,
    fail_fast: bool,
) -> (Vec<PlannedRun>, bool) {
    if fail_fast {
        (Vec::new(), write_in_order(ordered, out, tally, progress))
    } else {
        (plan_ready(ordered, out, tally, progress), false)
    }
}

/// Take the results at the front of the queue and decide their names and
/// stdout lines, in input order. Their files are written later, by
/// [`write_planned_runs`], overlapping with the next chunk's work.
fn plan_ready(
    ordered: &mut Ordered,
    out: &mut Output<'_>,
    tally: &mut Tally,
    progress: &Progress,
) -> Vec<PlannedRun> {
    let ready = ordered.ready();
    // Serializing is the costly part and independent per run: in parallel.
    let shared: &Output<'_> = out;
    let rendered: Vec<_> = ready
        .par_iter()
        .map(|r| {
            r.as_ref()
                .ok()
                .and_then(|(_, product)| shared.render(product))
        })
        .collect();
    ready
        .into_iter()
        .zip(rendered)
        .map(|(r, rendered)| {
            progress.tick();
            match r {
                Ok((_, Product::Disabled)) => {
                    tally.disabled += 1;
                    Ok(None)
                }
                Ok((id, product)) => out.plan(&id, &product, rendered).map(Some),
                Err(e) => Err(e),
            }
        })
        .collect()
}

/// Write planned runs, in order.
fn write_planned_runs(planned: Vec<PlannedRun>) -> Vec<Result<bool, RunError>> {
    planned
        .into_iter()
        .map(|p| p.and_then(write_planned))
        .collect()
}

/// Plan and write the results at the front of the queue one run at a time,
/// stopping at the first failure (`--fail-fast`); true when stopped.
fn write_in_order(
    ordered: &mut Ordered,
    out: &mut Output<'_>,
    tally: &mut Tally,
    progress: &Progress,
) -> bool {
    for r in ordered.ready() {
        progress.tick();
        let result = match r {
            Ok((_, Product::Disabled)) => {
                tally.disabled += 1;
                Ok(false)
            }
            Ok((id, product)) => {
                let rendered = out.render(&product);
                out.plan(&id, &product, rendered)
                    .and_then(|p| write_planned(Some(p)))
            }
            Err(e) => Err(e),
        };
        if record(result, tally) {
            return true;
        }
    }
    false
}

/// Write a run's planned files; true when there were any to write.
fn write_planned(plan: Option<Planned>) -> Result<bool, RunError> {
    match plan {
        Some(p) => p.write().map(|()| true),
        None => Ok(false),
    }
}

/// Count runs' outcomes.
fn record_all(results: Vec<Result<bool, RunError>>, tally: &mut Tally) {
    for r in results {
        record(r, tally);
    }
}

/// Count one run's outcome; true when it failed.
fn record(result: Result<bool, RunError>, tally: &mut Tally) -> bool {
    match result {
        Ok(true) => {
            tally.ok += 1;
            false
        }
        Ok(false) => false,
        Err(e) => {
            tally.fail(e);
            true
        }
    }
}

/// All documents of a (small, context) source, decoded.
fn read_source(source: &Source, hint: KindHint) -> Vec<Result<Decoded, InputError>> {
    let reader = match source.open() {
        Ok(r) => r,
        Err(e) => return vec![Err(e)],
    };
    let docs: Vec<_> = DocumentStream::new(source.display_name(), reader).collect();
    docs.into_par_iter()
        .map(|d| d.and_then(|doc| read::decode(doc, hint)))
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|r| match r {
            Ok(items) => items.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
        .collect()
}

fn warn(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("warning: {msg}");
    }
}

/// A progress counter on a terminal, nothing in CI or pipes. The total is
/// unknown while streaming, so it counts runs and shows the rate.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(quiet: bool) -> Self {
        let show = !quiet && io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Progress(show.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} runs attested ({per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        }))
    }
    fn tick(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
