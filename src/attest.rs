//! `chains attest`: read runs → provenance → output. A thin composition of
//! the pipeline stages; signing and storage plug in between them.

use std::collections::HashSet;
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use miette::Diagnostic;
use rayon::prelude::*;
use serde_json::Value;

use crate::cli::AttestArgs;
use crate::config::{Config, ConfigError};
use crate::provenance::{self, BuildType, Format, Options, ProvenanceError};
use crate::run::read::{self, Decoded, DocumentStream, InputError, KindHint, Source};
use crate::run::{Run, RunKind, group};

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
    #[error("no signing key given")]
    #[diagnostic(
        code(chains::attest::no_key),
        help(
            "pass --unsigned to write unsigned in-toto statements; signing keys (--key) are not supported by this build yet"
        )
    )]
    NoKey,
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
    fn is_bad_input(&self) -> bool {
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

/// One entry of the batch, in input order.
enum Entry {
    Run { index: usize },
    Failed(RunError),
}

pub fn run(args: &AttestArgs, quiet: bool) -> Result<Outcome, AttestError> {
    let (config, base_opts, format_flag) = options(args)?;
    if !args.unsigned {
        return Err(AttestError::NoKey);
    }
    if let Some(dir) = &args.output {
        fs::create_dir_all(dir).map_err(|source| AttestError::OutputDir {
            path: dir.display().to_string(),
            source,
        })?;
    }

    // Read: documents are cut sequentially per source and decoded in parallel.
    let mut entries: Vec<Entry> = Vec::new();
    let mut runs: Vec<Run> = Vec::new();
    let mut context_only: Vec<bool> = Vec::new();
    let mut skipped = 0usize;
    let sources = read::expand_inputs(&args.inputs)?;
    let context_sources = read::expand_inputs(&args.taskruns)?;
    for (source, context) in sources
        .iter()
        .map(|s| (s, false))
        .chain(context_sources.iter().map(|s| (s, true)))
    {
        let hint = if context {
            KindHint::TaskRun
        } else {
            KindHint::Infer
        };
        let decoded = read_source(source, hint);
        for d in decoded {
            match d {
                Ok(Decoded::Run(run)) => {
                    if context && run.kind != RunKind::TaskRun {
                        warn(
                            quiet,
                            &format!(
                                "{}: --taskruns takes TaskRuns; ignoring this {}",
                                run.origin, run.kind
                            ),
                        );
                        continue;
                    }
                    if !context {
                        entries.push(Entry::Run { index: runs.len() });
                    }
                    runs.push(*run);
                    context_only.push(context);
                }
                Ok(Decoded::Skipped { origin, what }) => {
                    skipped += 1;
                    warn(
                        quiet,
                        &format!("{origin}: skipping {what}: not a TaskRun or PipelineRun"),
                    );
                }
                Err(e) => entries.push(Entry::Failed(e.into())),
            }
        }
    }

    // Model: attach children to their PipelineRuns.
    let refs: Vec<&Run> = runs.iter().collect();
    let children = group::children(&refs, &context_only);

    // Provenance, in parallel; results keep their input order.
    let progress = Progress::new(quiet, entries.len());
    let statements: Vec<Option<Result<Value, RunError>>> = entries
        .par_iter()
        .map(|e| match e {
            Entry::Run { index } => {
                let run = &runs[*index];
                let kids: Vec<&Run> = children[*index].iter().map(|&c| &runs[c]).collect();
                let mut opts = base_opts.clone();
                opts.format = format_flag
                    .unwrap_or_else(|| config.format_for(run.kind == RunKind::PipelineRun));
                let r = provenance::statement(run, &kids, &opts).map_err(RunError::from);
                progress.tick();
                Some(r)
            }
            Entry::Failed(_) => None,
        })
        .collect();
    progress.finish();

    // Output, in input order.
    let mut out = Output::new(args.output.as_deref());
    let (mut ok, mut failed, mut bad_input, mut other) = (0usize, 0usize, false, false);
    for (entry, statement) in entries.into_iter().zip(statements) {
        let result = match (entry, statement) {
            (Entry::Failed(e), _) => Err(e),
            (Entry::Run { index }, Some(Ok(stmt))) => out.write(&runs[index], &stmt),
            (Entry::Run { .. }, Some(Err(e))) => Err(e),
            (Entry::Run { .. }, None) => unreachable!("every run has a statement result"),
        };
        match result {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                bad_input |= e.is_bad_input();
                other |= !e.is_bad_input();
                report(e);
                if args.fail_fast {
                    break;
                }
            }
        }
    }
    if let Err(e) = out.finish() {
        report(e);
        other = true;
    }

    if !quiet && (failed > 0 || args.output.is_some()) {
        let mut line = format!("attested {ok} run{}", if ok == 1 { "" } else { "s" });
        if failed > 0 {
            line.push_str(&format!(", {failed} failed"));
        }
        if skipped > 0 {
            line.push_str(&format!(
                ", {skipped} other document{} skipped",
                if skipped == 1 { "" } else { "s" }
            ));
        }
        if let Some(dir) = &args.output {
            line.push_str(&format!(" (written to {})", dir.display()));
        }
        eprintln!("{line}");
    }
    Ok(if bad_input {
        Outcome::BadInput
    } else if other {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

/// All documents of a source, decoded (in parallel for multi-document sources).
fn read_source(source: &Source, hint: KindHint) -> Vec<Result<Decoded, InputError>> {
    let reader = match source.open() {
        Ok(r) => r,
        Err(e) => return vec![Err(e)],
    };
    let docs: Vec<_> = DocumentStream::new(source.display_name(), reader).collect();
    docs.into_par_iter()
        .map(|d| match d {
            Ok(doc) => read::decode(doc, hint),
            Err(e) => Err(e),
        })
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

/// Where statements go: JSON Lines on stdout, or one file per run.
struct Output<'a> {
    dir: Option<&'a Path>,
    stdout: io::BufWriter<io::Stdout>,
    used_names: HashSet<String>,
}

impl<'a> Output<'a> {
    fn new(dir: Option<&'a Path>) -> Self {
        Output {
            dir,
            stdout: io::BufWriter::with_capacity(1 << 16, io::stdout()),
            used_names: HashSet::new(),
        }
    }

    fn write(&mut self, run: &Run, statement: &Value) -> Result<(), RunError> {
        let bytes = provenance::to_bytes(statement);
        match self.dir {
            None => {
                let r = self
                    .stdout
                    .write_all(&bytes)
                    .and_then(|_| self.stdout.write_all(b"\n"));
                r.map_err(|source| RunError::Write {
                    origin: run.origin.to_string(),
                    path: "<stdout>".into(),
                    source,
                })
            }
            Some(dir) => {
                let name = self.file_name(run, "statement.json");
                let path = dir.join(&name);
                write_atomic(&path, &bytes).map_err(|source| RunError::Write {
                    origin: run.origin.to_string(),
                    path: path.display().to_string(),
                    source,
                })
            }
        }
    }

    /// `<kind>-<namespace>-<name>.<ext>`, made unique within the batch.
    fn file_name(&mut self, run: &Run, ext: &str) -> String {
        let m = run.meta();
        let mut base = run.kind.lower().to_string();
        for part in [m.namespace(), m.name()] {
            if !part.is_empty() {
                base.push('-');
                base.push_str(&sanitize(part));
            }
        }
        if base == run.kind.lower() {
            if !m.uid().is_empty() {
                base.push('-');
                base.push_str(&sanitize(m.uid()));
            } else {
                let stem = Path::new(&*run.origin.file)
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_else(|| "stdin".into());
                base = format!("{base}-{}-{}", sanitize(&stem), run.origin.document + 1);
                if let Some(i) = run.origin.item {
                    base.push_str(&format!("-{}", i + 1));
                }
            }
        }
        let mut name = format!("{base}.{ext}");
        let mut n = 2;
        while !self.used_names.insert(name.clone()) {
            name = format!("{base}-{n}.{ext}");
            n += 1;
        }
        name
    }

    fn finish(&mut self) -> Result<(), RunError> {
        self.stdout.flush().map_err(|source| RunError::Write {
            origin: "output".into(),
            path: "<stdout>".into(),
            source,
        })
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Write a file so that readers see either nothing or all of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A progress bar on a terminal, nothing in CI or pipes.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(quiet: bool, total: usize) -> Self {
        let show = !quiet
            && total >= 200
            && io::stderr().is_terminal()
            && std::env::var_os("CI").is_none();
        Progress(show.then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} runs {per_sec} {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
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
