//! `chains attest`: read runs → provenance → sign → output. A thin
//! composition of the pipeline stages.

mod console;
mod family;
mod held;
mod output;

use std::fs;
use std::io;
use std::path::Path;

use miette::Diagnostic;
use rayon::prelude::*;

use crate::cli::AttestArgs;
use crate::config::{Config, ConfigError};
use crate::pipeline::{
    self, Attested, RunError, SignerInputs, SignersError, Stages, Storage, StorageInputs,
    StorageSetupError,
};
use crate::plan::{AttestOutput, SigningFlags, SigningPlan};
use crate::provenance::{BuildType, Format, Options};
use crate::run::group::{self, ChildStore};
use crate::run::read::{self, Decoded, Document, DocumentStream, InputError, KindHint, Source};
use crate::run::{Run, RunKind};
use console::Console;
use family::Families;
use held::{Ordered, Slot};
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
    #[error("{0}")]
    #[diagnostic(code(chains::usage))]
    Usage(String),
    #[error("cannot write to {path}")]
    #[diagnostic(code(chains::output::file))]
    OutputFile {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot create output directory {path}")]
    #[diagnostic(code(chains::output::dir))]
    OutputDir {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// The keys attest's flags and the config name, for the signer stage.
fn signer_inputs(args: &AttestArgs, config: &Config) -> SignerInputs {
    let env_token = std::env::var("SIGSTORE_ID_TOKEN").ok();
    let flags = SigningFlags {
        key: args.key.as_deref(),
        password_file: args.password_file.as_deref(),
        fulcio_url: args.fulcio_url.as_deref(),
        identity_token: args.identity_token.as_deref(),
        identity_token_file: args.identity_token_file.as_deref(),
        identity_token_env: env_token.as_deref(),
    };
    SignerInputs {
        plan: SigningPlan::resolve(config, flags),
        ..Default::default()
    }
}

/// The storage attest's flags choose, for the store stage.
fn storage_inputs(
    args: &AttestArgs,
    output: &AttestOutput,
) -> Result<StorageInputs, StorageSetupError> {
    Ok(StorageInputs {
        registry: registry_credentials(&args.registry)?,
        storage: args.storage.clone(),
        output: output.dir.clone(),
        in_place: args.in_place,
        kubeconfig: args.kubeconfig.clone(),
        tlog_upload: args.tlog_upload,
        rekor_url: args.rekor_url.clone(),
        rekor_public_key: args.rekor_public_key.clone(),
        controller: false,
    })
}

/// Registry credentials from flags and environment, and with
/// `--k8s-keychain` the service account's imagePullSecrets.
fn registry_credentials(
    args: &crate::cli::RegistryArgs,
) -> Result<crate::store::oci::RegistryCredentials, StorageSetupError> {
    let mut credentials = crate::plan::registry_credentials(args);
    if args.k8s_keychain {
        let (namespace, account) = crate::plan::service_account(&args.k8s_service_account);
        credentials.pull_secrets = crate::store::oci::k8s_keychain(namespace, account)?;
    }
    Ok(credentials)
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
            allowed: Format::described_names(),
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

/// Counts and the exit status of a batch, and where its messages go.
struct Tally {
    ok: usize,
    /// Runs whose artifact type has signer `none`.
    disabled: usize,
    failed: usize,
    skipped: usize,
    /// TaskRuns and PipelineRuns read, attested or not.
    runs: usize,
    bad_input: bool,
    other: bool,
    console: Console,
}

impl Tally {
    fn new(console: Console) -> Tally {
        Tally {
            ok: 0,
            disabled: 0,
            failed: 0,
            skipped: 0,
            runs: 0,
            bad_input: false,
            other: false,
            console,
        }
    }

    fn fail(&mut self, e: RunError) {
        self.failed += 1;
        self.bad_input |= e.is_bad_input();
        self.other |= !e.is_bad_input();
        self.console.error(e);
    }

    fn warn(&self, msg: &str) {
        self.console.warn(msg);
    }

    /// The summary line: always after failures, and with `--output-dir`.
    fn summarize(&self, output: Option<&std::path::Path>) {
        if self.failed == 0 && output.is_none() {
            return;
        }
        let ok = self.ok;
        let mut line = format!("attested {ok} run{}", if ok == 1 { "" } else { "s" });
        if self.failed > 0 {
            line.push_str(&format!(", {} failed", self.failed));
        }
        if self.skipped > 0 {
            let n = self.skipped;
            line.push_str(&format!(
                ", {n} other document{} skipped",
                if n == 1 { "" } else { "s" }
            ));
        }
        if let Some(dir) = output {
            // Say "written" only when something was.
            let verb = if ok == 0 {
                "nothing written to"
            } else {
                "written to"
            };
            line.push_str(&format!(" ({verb} {})", dir.display()));
        }
        self.console.summary(&line);
    }

    fn outcome(&self) -> Outcome {
        if self.bad_input {
            Outcome::BadInput
        } else if self.other {
            Outcome::Failed
        } else {
            Outcome::Success
        }
    }
}

/// How a batch treats runs Chains would not sign as they are.
#[derive(Clone, Copy)]
struct Allow {
    unfinished: bool,
}

pub fn run(args: &AttestArgs, quiet: bool) -> Result<Outcome, AttestError> {
    if let Some(timeout) = args.timeout {
        crate::store::set_overall_timeout(timeout);
    }
    let output = AttestOutput::resolve(
        args.output.as_deref(),
        args.output_dir.as_deref(),
        args.output_file.as_deref(),
    )
    .map_err(AttestError::Usage)?;
    let (config, base_opts, format_flag) = options(args)?;
    let (sources, input_errors) = read::expand_run_inputs(&args.inputs);
    let (context_sources, context_errors) = read::expand_run_inputs(&args.taskruns);
    let mut tally = Tally::new(Console::new(quiet));
    announce(&output, &tally);
    // Keys are loaded (and decrypted) once, before any run is read.
    let signers = if args.unsigned {
        None
    } else {
        let inputs = signer_inputs(args, &config);
        for warning in &inputs.plan.warnings {
            tally.warn(warning);
        }
        let s = pipeline::load_signers(&inputs, &config)?;
        for (kind, signer) in [("taskrun", &s.taskrun), ("pipelinerun", &s.pipelinerun)] {
            if signer.is_none() {
                tally.warn(&format!(
                    "artifacts.{kind} is disabled (signer none, or storage \"\"): {kind}s are not attested"
                ));
            }
        }
        Some(s)
    };
    if let Some(dir) = &output.dir {
        fs::create_dir_all(dir).map_err(|source| AttestError::OutputDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let storage = match &signers {
        Some(_) => Some(Storage::setup(&storage_inputs(args, &output)?, &config)?),
        None => None,
    };
    let write_back = storage.as_ref().and_then(|s| s.write_back.clone());
    let stages = Stages::new(config, base_opts, format_flag, signers, storage);
    for e in input_errors.into_iter().chain(context_errors) {
        tally.fail(e.into());
    }
    let sink = crate::sink::Sink::open(output.file.as_deref()).map_err(|source| {
        AttestError::OutputFile {
            path: output
                .file
                .as_deref()
                .unwrap_or(Path::new("-"))
                .display()
                .to_string(),
            source,
        }
    })?;
    let mut out = Output::new(&output, sink, args.bundle, write_back);
    let mut families = Families::new(args.allow_missing_children);
    for source in &context_sources {
        keep_context(source, &mut families, &mut tally);
    }
    let allow = Allow {
        unfinished: args.allow_unfinished,
    };
    let stopped = args.fail_fast && tally.failed > 0;
    if !stopped {
        tally.console.start(&sources);
        attest_stream(
            &sources,
            &stages,
            &mut families,
            &mut out,
            &mut tally,
            allow,
            args.fail_fast,
        );
    }
    tally.console.finish();
    let images_not_written = out.images_not_written;
    if let Err(e) = out.finish() {
        tally.console.error(e);
        tally.other = true;
    }
    if images_not_written > 0 {
        tally.warn(&format!(
            "{images_not_written} image signature{} made but not written: the stream carries one envelope per run; use --output-dir DIR",
            if images_not_written == 1 { "" } else { "s" }
        ));
    }
    // Nothing to attest is an error of the input, not a quiet success.
    if tally.runs == 0 && tally.failed == 0 {
        let inputs: Vec<String> = args
            .inputs
            .iter()
            .map(|p| match p.as_os_str() == "-" {
                true => "standard input".to_string(),
                false => read::escaped_path(p),
            })
            .collect();
        tally.fail(
            InputError::NoRuns {
                inputs: inputs.join(", "),
            }
            .into(),
        );
    }
    tally.summarize(output.dir.as_deref());
    Ok(tally.outcome())
}

/// Say where products go: the deprecation warnings of `-o`, and with
/// `--verbose` the stream or directory.
fn announce(output: &AttestOutput, tally: &Tally) {
    for warning in &output.warnings {
        tally.warn(warning);
    }
    crate::report::debug(|| match (&output.dir, &output.file) {
        (Some(dir), _) => format!("products: one file per run under {}", dir.display()),
        (None, Some(file)) => format!(
            "products: a {:?} stream into {}",
            output.format,
            file.display()
        ),
        (None, None) => format!(
            "products: a {} stream on standard output",
            output.format.name()
        ),
    });
}

/// Read `--taskruns` (context for PipelineRuns, not attested) into the child store.
fn keep_context(source: &Source, families: &mut Families, tally: &mut Tally) {
    for d in read_source(source, KindHint::TaskRun) {
        match d {
            Ok(Decoded::Run(run)) if run.kind == RunKind::TaskRun => {
                let bytes = ChildStore::encode(&run);
                if let Err(source) = families.store.add(&run, &bytes, true) {
                    tally.fail(spill_error(&run, source));
                }
            }
            Ok(Decoded::Run(run)) => tally.warn(&format!(
                "{}: --taskruns takes TaskRuns; ignoring this {}",
                run.origin, run.kind
            )),
            Ok(Decoded::Skipped { origin, what }) => {
                tally.skipped += 1;
                tally.warn(&format!("{origin}: skipping {what}: not a TaskRun"));
            }
            Err(e) => tally.fail(e.into()),
        }
    }
}

fn spill_error(run: &Run, source: io::Error) -> RunError {
    RunError::Write {
        origin: run.origin.to_string(),
        path: "a temporary file for child TaskRuns (TMPDIR)".into(),
        source,
    }
}

/// Stream the inputs chunk by chunk: decode and attest TaskRuns in
/// parallel, keep possible children in the child store, attest PipelineRuns
/// once their children are read, and write what is ready in input order.
/// The next chunk is read (split into documents, serial work) while the
/// current one is processed, so that no core waits for the reader; at most
/// two chunks are in memory.
fn attest_stream(
    sources: &[Source],
    stages: &Stages,
    families: &mut Families,
    out: &mut Output<'_>,
    tally: &mut Tally,
    allow: Allow,
    fail_fast: bool,
) {
    // Only stdout shows the order; --fail-fast writes strictly in order.
    let mut ordered = Ordered::new(out.to_stdout() || fail_fast);
    let reading = tally.console.reading();
    let mut docs = sources.iter().flat_map(|s| match s.open() {
        Ok(r) => {
            if let (Some(bar), Source::File(p)) = (&reading, s) {
                bar.inc(fs::metadata(p).map(|m| m.len()).unwrap_or(0));
            }
            Box::new(
                DocumentStream::new(s.display_name(), r)
                    .split_lists()
                    .whole_json_files(),
            ) as Box<dyn Iterator<Item = Result<Document, InputError>> + Send>
        }
        Err(e) => Box::new(std::iter::once(Err(e))),
    });
    let mut next = read_chunk(&mut docs);
    // Files planned for the previous chunk, written while this one is processed.
    let mut to_write: Vec<PlannedRun> = Vec::new();
    let mut stop = false;
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
                let processed: Vec<Vec<Result<Vec<DecodedRun>, InputError>>> = chunk
                    .into_par_iter()
                    .map(|d| decode_and_attest(stages, d, allow))
                    .collect();
                let processed = processed.into_iter().flatten().collect();
                sort_chunk(processed, families, &mut ordered, tally);
                for (seq, result, warning) in families.attest_ready(stages, false) {
                    if let Some(w) = warning {
                        tally.warn(&w);
                    }
                    ordered.fill(seq, result);
                }
                let planned = take_ready(&mut ordered, out, tally, fail_fast);
                hold(&mut ordered, out, tally);
                planned
            },
        );
        next = read;
        record_all(written, tally);
        (to_write, stop) = planned;
    }
    // PipelineRuns still waiting, now that every child has been seen.
    if !stop {
        for (seq, result, warning) in families.attest_ready(stages, true) {
            if let Some(w) = warning {
                tally.warn(&w);
            }
            ordered.fill(seq, result);
        }
        let (planned, _) = take_ready(&mut ordered, out, tally, fail_fast);
        to_write.extend(planned);
    }
    record_all(write_planned_runs(to_write), tally);
}

/// Put a chunk's results in their places: TaskRuns' results, possible
/// children into the child store, PipelineRuns into the waiting list.
fn sort_chunk(
    processed: Vec<Result<Vec<DecodedRun>, InputError>>,
    families: &mut Families,
    ordered: &mut Ordered,
    tally: &mut Tally,
) {
    // Runs no PipelineRun needs, dropped together after the loop: freeing a
    // run's tree is 7% of attest's CPU, too much for this serial loop.
    let mut finished: Vec<Run> = Vec::new();
    for p in processed {
        let items = match p {
            Ok(items) => items,
            Err(e) => {
                ordered.push(Slot::Done(Box::new(Err(e.into()))));
                continue;
            }
        };
        for item in items {
            if let Some(w) = &item.warning {
                tally.warn(w);
            }
            let run = match item.decoded {
                Decoded::Run(run) => *run,
                Decoded::Skipped { origin, what } => {
                    tally.skipped += 1;
                    tally.warn(&format!(
                        "{origin}: skipping {what}: not a TaskRun or PipelineRun"
                    ));
                    continue;
                }
            };
            tally.runs += 1;
            match item.result {
                Some(r) => {
                    ordered.push(Slot::Done(Box::new(r)));
                }
                None => {
                    let seq = ordered.push(Slot::Waiting);
                    families.wait(run, seq);
                    continue;
                }
            }
            if run.kind == RunKind::TaskRun {
                let kept = match item.kept {
                    Some(bytes) => Some(bytes),
                    None if families.named_by_a_parent(&run) => Some(ChildStore::encode(&run)),
                    None => None,
                };
                if let Some(bytes) = kept
                    && let Err(source) = families.store.add(&run, &bytes, false)
                {
                    tally.fail(spill_error(&run, source));
                }
            }
            finished.push(run);
        }
    }
    finished.into_par_iter().for_each(drop);
}

/// One item of a decoded document.
struct DecodedRun {
    decoded: Decoded,
    /// The result of a TaskRun, or of a run that cannot be attested;
    /// `None` for a PipelineRun that waits for its children.
    result: Option<Attested>,
    /// A TaskRun linked to a parent, as JSON for the child store.
    kept: Option<Vec<u8>>,
    warning: Option<String>,
}

/// Decode a document and attest its TaskRuns in one pass: a TaskRun's
/// statement depends on nothing else. PipelineRuns wait for their children.
/// One result per document the stream's document stands for (see
/// [`read::decode_all`]).
fn decode_and_attest(
    stages: &Stages,
    doc: Result<Document, InputError>,
    allow: Allow,
) -> Vec<Result<Vec<DecodedRun>, InputError>> {
    match doc {
        Ok(doc) => read::decode_all(doc, KindHint::Infer)
            .into_iter()
            .map(|decoded| decoded.map(|(items, text)| attest_items(stages, items, text, allow)))
            .collect(),
        Err(e) => vec![Err(e)],
    }
}

/// Attest a document's TaskRuns; `text` is its JSON text when it held one
/// object.
fn attest_items(
    stages: &Stages,
    items: Vec<Decoded>,
    mut text: Option<Vec<u8>>,
    allow: Allow,
) -> Vec<DecodedRun> {
    items
        .into_iter()
        .map(|decoded| {
            let mut item = DecodedRun {
                decoded,
                result: None,
                kept: None,
                warning: None,
            };
            let Decoded::Run(run) = &item.decoded else {
                return item;
            };
            if group::links_to_parent(run) {
                // A run read from JSON text is kept as that text rather than
                // encoded again. Counted with callgrind on ../shared/corpus
                // (kubectl's JSON, 120 children of 150 runs, slsa/v1,
                // `--unsigned -o DIR`): encoding was 29 M of 281 M
                // instructions; keeping the text (read back indented, which
                // costs more than compact JSON) brought the total to 269 M.
                item.kept = Some(text.take().unwrap_or_else(|| ChildStore::encode(run)));
            }
            if let Some(state) = run.unfinished_state() {
                let e = InputError::Unfinished {
                    origin: run.origin.clone(),
                    label: run.label_after_origin(),
                    state,
                };
                if !allow.unfinished {
                    item.result = Some(Err(e.into()));
                    return item;
                }
                item.warning = Some(format!("{e}; attested anyway (--allow-unfinished)"));
            }
            if run.kind == RunKind::TaskRun {
                item.result = Some(stages.attest(run, &[]));
            }
            item
        })
        .collect()
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
    fail_fast: bool,
) -> (Vec<PlannedRun>, bool) {
    if fail_fast {
        (Vec::new(), write_in_order(ordered, out, tally))
    } else {
        (plan_ready(ordered, out, tally), false)
    }
}

/// Take the results at the front of the queue and decide their names and
/// stdout lines, in input order. Their files are written later, by
/// [`write_planned_runs`], overlapping with the next chunk's work.
fn plan_ready(ordered: &mut Ordered, out: &mut Output<'_>, tally: &mut Tally) -> Vec<PlannedRun> {
    ordered
        .ready(out)
        .into_iter()
        .map(|r| {
            tally.console.tick();
            match r {
                Ok((_, None)) => {
                    tally.disabled += 1;
                    Ok(None)
                }
                Ok((id, prepared)) => out.place(&id, prepared).map(Some),
                Err(e) => Err(e),
            }
        })
        .collect()
}

/// Results held behind a waiting PipelineRun: prepared, and past a budget
/// moved to a temporary file (see `held`); in memory when that fails.
fn hold(ordered: &mut Ordered, out: &Output<'_>, tally: &Tally) {
    if let Err(e) = ordered.hold(out) {
        tally.warn(&format!(
            "cannot write a temporary file (TMPDIR) for results held for output order, keeping them in memory: {e}"
        ));
    }
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
fn write_in_order(ordered: &mut Ordered, out: &mut Output<'_>, tally: &mut Tally) -> bool {
    for r in ordered.ready(out) {
        tally.console.tick();
        let result = match r {
            Ok((_, None)) => {
                tally.disabled += 1;
                Ok(false)
            }
            Ok((id, prepared)) => out
                .place(&id, prepared)
                .and_then(|p| write_planned(Some(p))),
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
