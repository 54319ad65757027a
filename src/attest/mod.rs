//! `chains attest`: read runs → provenance → sign → output. A thin
//! composition of the pipeline stages.

mod output;
mod signers;
mod storage;

pub use output::{ImageSignature, Product};
pub use signers::{SignerInputs, Signers, SignersError, load_with as signers_load};
pub use storage::{Receipt, RunWriteBack, Storage, StorageInputs, StorageSetupError};

use std::fs;
use std::io::{self, IsTerminal};

use miette::Diagnostic;
use rayon::prelude::*;

use crate::cli::AttestArgs;
use crate::config::{Config, ConfigError};
use crate::provenance::{self, BuildType, Format, Options, ProvenanceError, artifacts};
use crate::run::read::{self, Decoded, Document, DocumentStream, InputError, KindHint, Source};
use crate::run::{Run, RunId, RunKind, group};
use crate::sign::dsse::{self, Envelope};
use crate::sign::{SignError, simplesigning};
use crate::store::{ArtifactKind, SignedArtifact};
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

/// A failure of one run (or one document), reported and counted.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RunError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Provenance(#[from] ProvenanceError),
    #[error("{run}: not signed")]
    #[diagnostic(code(chains::sign::run))]
    Sign {
        run: String,
        #[source]
        source: SignError,
    },
    #[error("{run}: not stored")]
    #[diagnostic(code(chains::store::run))]
    Store {
        run: String,
        #[source]
        source: crate::store::StoreError,
    },
    #[error("{origin}: cannot write {path}")]
    #[diagnostic(code(chains::output::write))]
    Write {
        origin: String,
        path: String,
        #[source]
        source: io::Error,
    },
}

impl RunError {
    /// Bad input or provenance Chains cannot make: retrying will not help.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, RunError::Input(_) | RunError::Provenance(_))
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

/// A run's result: what was made for it, or why nothing was.
pub type Attested = Result<(RunId, Product), RunError>;

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

/// The stages a run goes through after reading (provenance → sign → store),
/// shared by all runs of a batch and by the controller.
pub struct Stages {
    config: Config,
    base: Options,
    format: Option<Format>,
    /// `None` with `--unsigned`.
    signers: Option<Signers>,
    storage: Option<storage::Storage>,
}

impl Stages {
    /// Stages from resolved parts; `format` overrides the config's per-kind format.
    pub fn new(
        config: Config,
        base: Options,
        format: Option<Format>,
        signers: Option<Signers>,
        storage: Option<Storage>,
    ) -> Stages {
        Stages {
            config,
            base,
            format,
            signers,
            storage,
        }
    }

    /// The provenance options a config gives (no flags).
    pub fn options_from(config: &Config) -> Options {
        Options {
            format: config.format_for(false),
            builder_id: config.builder_id.clone(),
            build_type: config.build_type,
            deep_inspection: config.deep_inspection,
        }
    }

    /// Attest one run with its child TaskRuns (for a PipelineRun).
    pub fn attest(&self, run: &Run, children: &[&Run]) -> Attested {
        let mut opts = self.base.clone();
        opts.format = self
            .format
            .unwrap_or_else(|| self.config.format_for(run.kind == RunKind::PipelineRun));
        let statement = provenance::statement(run, children, &opts)?;
        let Some(signers) = &self.signers else {
            return Ok((RunId::of(run), Product::Statement(statement)));
        };
        let signer = match run.kind {
            RunKind::TaskRun => &signers.taskrun,
            RunKind::PipelineRun => &signers.pipelinerun,
        };
        let Some(signer) = signer else {
            return Ok((RunId::of(run), Product::Disabled));
        };
        let sign_err = |source| RunError::Sign {
            run: run.label(),
            source,
        };
        let payload = provenance::to_bytes(&statement);
        let envelope =
            Envelope::sign(signer.as_ref(), dsse::IN_TOTO, &payload).map_err(sign_err)?;
        // Chains signs the images a TaskRun built (type hinting), raw, with the OCI signer.
        let mut images = Vec::new();
        if let (RunKind::TaskRun, Some(oci)) = (run.kind, &signers.oci) {
            for image in artifacts::oci_images(&run.results()) {
                let payload = simplesigning::payload(&image);
                let signature = oci.sign(&payload).map_err(sign_err)?;
                images.push((
                    ImageSignature {
                        image: image.name(),
                        digest_hex: image.hex().to_string(),
                        payload,
                        signature,
                        certificate: oci.certificate().cloned(),
                        key_hint: crate::sigstore::bundle::key_hint(oci.public_key()),
                        tlog: None,
                    },
                    image,
                ));
            }
        }
        let id = RunId::of(run);
        let mut annotated = None;
        let mut receipt = None;
        let mut tlog = None;
        // What the backends take (copies of the payload and envelope): built
        // only when something will store it.
        if let Some(storage) = self.storage.as_ref().filter(|s| s.is_active()) {
            let mut stored_artifacts = vec![SignedArtifact {
                kind: match run.kind {
                    RunKind::TaskRun => ArtifactKind::TaskRun,
                    RunKind::PipelineRun => ArtifactKind::PipelineRun,
                },
                short_key: id.short_key(),
                signature: envelope.to_json(),
                payload,
                envelope: Some(envelope.clone()),
                image: None,
                subjects: provenance::subjects(&statement)
                    .into_iter()
                    .filter(|(_, alg, _)| alg == "sha256")
                    .map(|(name, _, hex)| (name, hex))
                    .collect(),
                public_key: signer.public_key().clone(),
                certificate: signer.certificate().cloned(),
                tlog: None,
            }];
            // Images are signed (so `images` is not empty) only with an OCI signer.
            if let Some(oci) = &signers.oci {
                for (sig, image) in &images {
                    stored_artifacts.push(SignedArtifact {
                        kind: ArtifactKind::Oci,
                        short_key: image.hex()[..12].to_string(),
                        payload: sig.payload.clone(),
                        signature: sig.signature.clone(),
                        envelope: None,
                        subjects: Vec::new(),
                        image: Some(image.clone()),
                        public_key: oci.public_key().clone(),
                        certificate: sig.certificate.clone(),
                        tlog: None,
                    });
                }
            }
            let stored = storage
                .store(run, &mut stored_artifacts)
                .map_err(|source| RunError::Store {
                    run: run.label(),
                    source,
                })?;
            annotated = stored.annotated.map(|bytes| (bytes, run.syntax));
            receipt = Some(stored.receipt);
            // Images follow the attestation in the artifacts, in the same order.
            for ((sig, _), a) in images.iter_mut().zip(stored_artifacts.iter().skip(1)) {
                sig.tlog = a.tlog.clone();
            }
            tlog = stored_artifacts[0].tlog.take().map(Box::new);
        }
        let images = images.into_iter().map(|(sig, _)| sig).collect();
        Ok((
            id,
            Product::Signed {
                envelope,
                key_hint: crate::sigstore::bundle::key_hint(signer.public_key()).into(),
                certificate: signer.certificate().cloned(),
                tlog,
                images,
                annotated,
                receipt,
            },
        ))
    }
}

pub fn run(args: &AttestArgs, quiet: bool) -> Result<Outcome, AttestError> {
    let (config, base_opts, format_flag) = options(args)?;
    // Keys are loaded (and decrypted) once, before any run is read.
    let signers = if args.unsigned {
        None
    } else {
        let s = signers::load(args, &config)?;
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
        Some(_) => Some(storage::Storage::setup(args, &config)?),
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
            line.push_str(&format!(" (written to {})", dir.display()));
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

/// Print a diagnostic to stderr with miette's handler.
pub fn report(e: impl Diagnostic + Send + Sync + 'static) {
    eprintln!("{:?}", miette::Report::new(e));
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
