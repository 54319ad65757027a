//! Provenance: a run (with its child TaskRuns) in, an in-toto statement out,
//! in the formats Tekton Chains offers.
//!
//! Statements are built as JSON trees with sorted keys, so the same run always
//! gives the same bytes. Field shapes follow what Chains emits after its
//! protobuf round trip: empty repeated fields are absent, empty messages are
//! `{}`, and Go nils inside the predicate stay `null`.

pub mod artifacts;
mod slsa02;
mod slsa1;
mod time;

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::run::{Origin, Run, RunKind};

pub const DEFAULT_BUILDER_ID: &str = "https://tekton.dev/chains/v2";
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// A provenance format, by its `artifacts.*.format` name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `slsa/v1` (alias `in-toto`): in-toto v0.1 statement, SLSA v0.2 predicate.
    SlsaV1,
    /// `slsa/v2alpha3`: in-toto v1 statement, SLSA v1.0 predicate.
    SlsaV2Alpha3,
    /// `slsa/v2alpha4`: as v2alpha3, plus StepAction results, build-artifact subjects.
    SlsaV2Alpha4,
}

impl Format {
    pub const NAMES: &'static [&'static str] =
        &["in-toto", "slsa/v1", "slsa/v2alpha3", "slsa/v2alpha4"];

    /// Each name with what it means: Chains' names do not follow SLSA's
    /// versions (`slsa/v1` is SLSA v0.2), so every message listing them says.
    pub const DESCRIBED: [(&'static str, &'static str); 4] = [
        ("in-toto", "SLSA v0.2 provenance (the same as slsa/v1)"),
        ("slsa/v1", "SLSA v0.2 provenance, in-toto Statement v0.1"),
        (
            "slsa/v2alpha3",
            "SLSA v1.0 provenance, in-toto Statement v1",
        ),
        (
            "slsa/v2alpha4",
            "SLSA v1.0 provenance, with StepAction results and build-artifact subjects",
        ),
    ];

    /// `name (meaning)` for each name, for lists of allowed values.
    pub fn described_names() -> Vec<String> {
        Self::DESCRIBED
            .iter()
            .map(|(name, meaning)| format!("{name} ({meaning})"))
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::SlsaV1 => "slsa/v1",
            Format::SlsaV2Alpha3 => "slsa/v2alpha3",
            Format::SlsaV2Alpha4 => "slsa/v2alpha4",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "in-toto" | "slsa/v1" => Ok(Format::SlsaV1),
            "slsa/v2alpha3" => Ok(Format::SlsaV2Alpha3),
            "slsa/v2alpha4" => Ok(Format::SlsaV2Alpha4),
            other => Err(format!(
                "unknown format {other:?}; expected one of {}",
                Format::described_names().join(", ")
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `builddefinition.buildtype`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildType {
    Slsa,
    Tekton,
}

impl BuildType {
    pub const SLSA: &'static str = "https://tekton.dev/chains/v2/slsa";
    pub const TEKTON: &'static str = "https://tekton.dev/chains/v2/slsa-tekton";

    pub fn uri(self) -> &'static str {
        match self {
            BuildType::Slsa => Self::SLSA,
            BuildType::Tekton => Self::TEKTON,
        }
    }
}

impl FromStr for BuildType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            Self::SLSA => Ok(BuildType::Slsa),
            Self::TEKTON => Ok(BuildType::Tekton),
            other => Err(format!(
                "unsupported build type {other:?}; expected {} or {}",
                Self::SLSA,
                Self::TEKTON
            )),
        }
    }
}

/// What shapes a statement besides the run itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub format: Format,
    pub builder_id: String,
    pub build_type: BuildType,
    pub deep_inspection: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: Format::SlsaV1,
            builder_id: DEFAULT_BUILDER_ID.to_string(),
            build_type: BuildType::Slsa,
            deep_inspection: false,
        }
    }
}

/// Why no statement could be made for a run.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProvenanceError {
    #[error("{origin}: {run}: {container} {name:?} has an image ID chains cannot parse: {reason}")]
    #[diagnostic(
        code(chains::provenance::image_id),
        help(
            "Tekton Chains fails the whole run here too: step and sidecar images must be pinned as <image>@<algorithm>:<digest>"
        )
    )]
    ImageId {
        run: String,
        origin: Box<Origin>,
        container: &'static str,
        name: String,
        reason: String,
    },
}

/// A PipelineRun's child TaskRuns, as Chains sees them.
pub struct Children<'a> {
    pub runs: &'a [&'a Run],
}

impl<'a> Children<'a> {
    /// Chains' `GetTaskRunsFromTask`: children labelled with this pipeline task.
    pub fn for_task(&self, task: &str) -> impl Iterator<Item = &'a Run> + '_ {
        let task = task.to_string();
        self.runs
            .iter()
            .copied()
            .filter(move |tr| tr.meta().label("tekton.dev/pipelineTask") == Some(task.as_str()))
    }

    /// Children of the pipeline's tasks then finally tasks that completed
    /// (Chains' `GetExecutedTasks`).
    pub fn executed(&self, pipeline: &'a Run) -> Vec<&'a Run> {
        pipeline_tasks(pipeline)
            .iter()
            .flat_map(|t| {
                self.for_task(crate::run::str_at(Some(t), "name"))
                    .collect::<Vec<_>>()
            })
            .filter(|tr| tr.completion_time().is_some())
            .collect()
    }
}

/// `status.pipelineSpec` tasks followed by finally tasks.
pub fn pipeline_tasks(pipeline: &Run) -> Vec<&Value> {
    match pipeline.status_spec() {
        Some(spec) => crate::run::array_at(spec, "tasks")
            .iter()
            .chain(crate::run::array_at(spec, "finally"))
            .collect(),
        None => Vec::new(),
    }
}

/// Build the statement for one run.
pub fn statement(run: &Run, children: &[&Run], opts: &Options) -> Result<Value, ProvenanceError> {
    let children = Children { runs: children };
    let kids = match run.kind {
        RunKind::TaskRun => Children { runs: &[] },
        RunKind::PipelineRun => children,
    };
    match opts.format {
        Format::SlsaV1 => slsa02::statement(run, &kids, opts),
        Format::SlsaV2Alpha3 | Format::SlsaV2Alpha4 => slsa1::statement(run, &kids, opts),
    }
}

/// The subjects a statement names (for storage keys and OCI attestations).
pub fn subjects(statement: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for s in statement
        .get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = crate::run::str_at(Some(s), "name");
        if let Some(d) = s.get("digest").and_then(Value::as_object) {
            for (alg, hex) in d {
                out.push((
                    name.to_string(),
                    alg.clone(),
                    hex.as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    out
}

/// A JSON object from its fields, moved in. `serde_json::json!` copies
/// every interpolated value through the serializer, which for a statement's
/// big parts (the run spec, step scripts) was a deep copy of each.
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Serialize a statement the one way we always do: compact, keys sorted
/// (serde_json's bytes, see [`crate::json`]).
pub fn to_bytes(statement: &Value) -> Vec<u8> {
    crate::json::to_vec(statement)
}
