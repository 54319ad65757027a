//! `chains payload` and `chains signature`: print the payload or the
//! signature Chains stored on a run, as `tkn chain payload` and `tkn chain
//! signature` did before they were removed from tkn. The run comes from a
//! file or standard input (`kubectl get taskrun NAME -o yaml`, a stream or
//! a `List`), or from a live cluster by name.
//!
//! The annotation read is `chains.tekton.dev/<part>-<key>` with Chains'
//! key for the run itself, `<kind>-<uid>` (`--artifact-key` picks another,
//! e.g. an image's). The payload is printed decoded (the statement or the
//! simple-signing JSON). A signature is printed decoded when it is text
//! (a DSSE envelope); a raw signature stays base64, as cosign writes its
//! `.sig` files, so nothing binary reaches a terminal.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use miette::Diagnostic;
use serde_json::Value;

use crate::annotations::Part;
use crate::cli::{RunKindArg, StoredArgs};
use crate::k8s::{self, Kube};
use crate::run::RunKind;
use crate::run::read::{DocumentStream, InputError, Source, parse_document};

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum StoredError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    #[error("{0}")]
    #[diagnostic(code(chains::stored::cluster))]
    Cluster(String),
    #[error("no TaskRun or PipelineRun in {input}{}", name.as_ref().map(|n| format!(" named {n}")).unwrap_or_default())]
    #[diagnostic(
        code(chains::stored::no_run),
        help("export the run with `kubectl get taskrun NAME -o yaml`")
    )]
    NoRun { input: String, name: Option<String> },
    #[error("{input} holds {count} runs ({names})")]
    #[diagnostic(code(chains::stored::which_run), help("choose one with --name"))]
    SeveralRuns {
        input: String,
        count: usize,
        names: String,
    },
    #[error("{run} has no annotation {annotation}")]
    #[diagnostic(code(chains::stored::missing), help("{help}"))]
    Missing {
        run: String,
        annotation: String,
        help: String,
    },
    #[error("{run}: annotation {annotation} is not base64: {reason}")]
    #[diagnostic(code(chains::stored::base64))]
    NotBase64 {
        run: String,
        annotation: String,
        reason: String,
    },
    #[error("cannot write to standard output: {0}")]
    #[diagnostic(code(chains::stored::output))]
    Output(io::Error),
}

impl StoredError {
    /// Usage and input problems are 2; a cluster or output failure, 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            StoredError::Cluster(_) | StoredError::Output(_) => 1,
            _ => 2,
        }
    }
}

/// A run found, with a name for messages.
struct FoundRun {
    value: Value,
    label: String,
}

/// `chains payload` (`Part::Payload`) or `chains signature` (`Part::Signature`).
pub fn run(args: &StoredArgs, part: Part) -> Result<(), StoredError> {
    let found = match args.from_cluster() {
        true => from_cluster(args)?,
        false => from_input(args)?,
    };
    let bytes = stored_part(&found, args.artifact_key.as_deref(), part)?;
    let mut out = io::stdout().lock();
    out.write_all(&bytes)
        .and_then(|()| match bytes.last() {
            Some(b'\n') => Ok(()),
            _ => out.write_all(b"\n"),
        })
        .and_then(|()| out.flush())
        .map_err(StoredError::Output)
}

/// The part's bytes as printed (see the module doc).
fn stored_part(found: &FoundRun, key: Option<&str>, part: Part) -> Result<Vec<u8>, StoredError> {
    let run = &found.value;
    let kind = run.get("kind").and_then(Value::as_str).unwrap_or("TaskRun");
    let uid = run
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("");
    let key = match key {
        Some(k) => k.to_string(),
        None => format!("{}-{uid}", kind.to_ascii_lowercase()),
    };
    let annotation = part.annotation(&key);
    let annotations = run
        .pointer("/metadata/annotations")
        .and_then(Value::as_object);
    let Some(encoded) = annotations
        .and_then(|a| a.get(&annotation))
        .and_then(Value::as_str)
    else {
        let keys: Vec<&str> = annotations
            .into_iter()
            .flat_map(|a| a.keys())
            .filter_map(|k| part.key_of(k))
            .collect();
        let help = match keys.is_empty() {
            true => "Chains has not stored it (no chains.tekton.dev annotations of this part): is the run signed yet?".to_string(),
            false => format!("the run has it for: {} (pick one with --artifact-key)", keys.join(", ")),
        };
        return Err(StoredError::Missing {
            run: found.label.clone(),
            annotation,
            help,
        });
    };
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|e| StoredError::NotBase64 {
            run: found.label.clone(),
            annotation: annotation.clone(),
            reason: e.to_string(),
        })?;
    let text = std::str::from_utf8(&decoded).is_ok_and(|t| t.trim_start().starts_with('{'));
    Ok(match (part, text) {
        (Part::Signature, false) => encoded.trim().as_bytes().to_vec(),
        _ => decoded,
    })
}

/// The one run of a file or standard input (`--name` picks among several).
fn from_input(args: &StoredArgs) -> Result<FoundRun, StoredError> {
    let source = match args.run.as_str() {
        "-" => Source::Stdin,
        path => Source::File(PathBuf::from(path)),
    };
    let input = source.display_name().to_string();
    let stream = DocumentStream::new(source.display_name(), source.open()?);
    let mut runs = Vec::new();
    for doc in stream {
        let (value, _, _) = parse_document(doc?)?;
        collect_runs(value, &mut runs);
    }
    runs.retain(|r| {
        args.name
            .as_deref()
            .is_none_or(|n| r.pointer("/metadata/name").and_then(Value::as_str) == Some(n))
    });
    let label = |v: &Value| {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("run");
        let name = v
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        format!("{kind} {name}")
    };
    match runs.len() {
        0 => Err(StoredError::NoRun {
            input,
            name: args.name.clone(),
        }),
        1 => {
            let value = runs.remove(0);
            Ok(FoundRun {
                label: format!("{} in {input}", label(&value)),
                value,
            })
        }
        count => Err(StoredError::SeveralRuns {
            input,
            count,
            names: runs.iter().map(label).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// TaskRuns and PipelineRuns, alone or as a `List`'s items.
fn collect_runs(value: Value, runs: &mut Vec<Value>) {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    if matches!(kind, "TaskRun" | "PipelineRun") {
        runs.push(value);
    } else if kind.ends_with("List")
        && let Some(Value::Array(items)) = value.get("items")
    {
        for item in items {
            collect_runs(item.clone(), runs);
        }
    }
}

/// The named run from the cluster (kubectl's `--kubeconfig`, `--context`,
/// `-n`).
fn from_cluster(args: &StoredArgs) -> Result<FoundRun, StoredError> {
    let kind = match args.kind {
        RunKindArg::Taskrun => RunKind::TaskRun,
        RunKindArg::Pipelinerun => RunKind::PipelineRun,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoredError::Cluster(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(async {
        let kube = match (&args.kubeconfig, &args.context) {
            (None, None) => Kube::infer().await,
            (kubeconfig, context) => {
                Kube::connect_context(
                    kubeconfig.as_deref().map(Path::new),
                    context.as_deref(),
                    0.0,
                    1,
                )
                .await
            }
        }
        .map_err(|e| StoredError::Cluster(e.message))?;
        let namespace = args
            .namespace
            .clone()
            .unwrap_or_else(|| kube.default_namespace.clone());
        let path = format!(
            "{}/{}",
            k8s::run_collection(kind, Some(&namespace)),
            args.run
        );
        let value = kube
            .get(&path)
            .await
            .map_err(|e| StoredError::Cluster(e.message))?;
        Ok(FoundRun {
            value,
            label: format!("{} {namespace}/{}", kind.as_str(), args.run),
        })
    })
}
