//! `slsa/v2alpha3` and `slsa/v2alpha4`: an in-toto v1 statement with a SLSA
//! v1.0 predicate, as Chains builds them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::artifacts::{self, Artifact, append};
use super::artifacts::{pipeline_params_and_results, ref_source_artifact, subject_digests};
use super::time::{parse_utc, protojson};
use super::{
    BuildType, Children, Format, Options, ProvenanceError, SLSA_V1, STATEMENT_V1, pipeline_tasks,
};
use crate::run::gojson::{self, GoType};
use crate::run::{NamedValue, RefSource, Run, RunKind, str_at};

pub fn statement(
    run: &Run,
    children: &Children<'_>,
    opts: &Options,
) -> Result<Value, ProvenanceError> {
    let alpha4 = opts.format == Format::SlsaV2Alpha4;
    let subjects = match (run.kind, alpha4) {
        (RunKind::TaskRun, false) => artifacts::subjects_from_results(&run.results()),
        (RunKind::TaskRun, true) => task_subjects_v2alpha4(run),
        (RunKind::PipelineRun, false) => subject_digests(run, children, opts.deep_inspection),
        (RunKind::PipelineRun, true) => {
            let mut s = artifacts::subjects_from_build_artifacts(&run.results());
            if opts.deep_inspection {
                for tr in children.executed(run) {
                    append(&mut s, task_subjects_v2alpha4(tr));
                }
            }
            s
        }
    };
    let resolved = match run.kind {
        RunKind::TaskRun => task_dependencies(run, alpha4)?,
        RunKind::PipelineRun => pipeline_dependencies(run, children, opts, alpha4)?,
    };
    let byproducts = byproducts(run, children, opts, alpha4);

    let mut external = Map::new();
    if let Some(src) = run.remote_ref_source() {
        external.insert("buildConfigSource".into(), build_config_source(&src));
    }
    let spec_type = match run.kind {
        RunKind::TaskRun => GoType::TaskRunSpec,
        RunKind::PipelineRun => GoType::PipelineRunSpec,
    };
    external.insert(
        "runSpec".into(),
        gojson::roundtrip(spec_type, run.object.get("spec").unwrap_or(&Value::Null)),
    );

    let mut internal = Map::new();
    if let Some(ff) = run.feature_flags() {
        internal.insert(
            "tekton-pipelines-feature-flags".into(),
            gojson::roundtrip(GoType::FeatureFlags, ff),
        );
    }
    if opts.build_type == BuildType::Tekton {
        // Go encodes a nil map as null, and Chains passes the maps as they are.
        let meta = run.meta();
        internal.insert("labels".into(), nil_or_map(meta.0.get("labels")));
        internal.insert("annotations".into(), nil_or_map(meta.0.get("annotations")));
    }

    let mut build_definition = Map::new();
    build_definition.insert(
        "buildType".into(),
        Value::String(opts.build_type.uri().into()),
    );
    build_definition.insert("externalParameters".into(), Value::Object(external));
    build_definition.insert("internalParameters".into(), Value::Object(internal));
    if !resolved.is_empty() {
        build_definition.insert("resolvedDependencies".into(), Value::Array(resolved));
    }

    let mut builder = Map::new();
    if !opts.builder_id.is_empty() {
        builder.insert("id".into(), Value::String(opts.builder_id.clone()));
    }
    let mut metadata = Map::new();
    let uid = run.meta().uid();
    if !uid.is_empty() {
        metadata.insert("invocationId".into(), Value::String(uid.into()));
    }
    if let Some(t) = run.start_time().and_then(parse_utc) {
        metadata.insert("startedOn".into(), Value::String(protojson(t)));
    }
    if let Some(t) = run.completion_time().and_then(parse_utc) {
        metadata.insert("finishedOn".into(), Value::String(protojson(t)));
    }
    let mut run_details = Map::new();
    run_details.insert("builder".into(), Value::Object(builder));
    run_details.insert("metadata".into(), Value::Object(metadata));
    if !byproducts.is_empty() {
        run_details.insert("byproducts".into(), Value::Array(byproducts));
    }

    let mut stmt = Map::new();
    stmt.insert("_type".into(), Value::String(STATEMENT_V1.into()));
    if !subjects.is_empty() {
        stmt.insert(
            "subject".into(),
            Value::Array(subjects.iter().map(Artifact::subject_json).collect()),
        );
    }
    stmt.insert("predicateType".into(), Value::String(SLSA_V1.into()));
    stmt.insert(
        "predicate".into(),
        super::object([
            ("buildDefinition", Value::Object(build_definition)),
            ("runDetails", Value::Object(run_details)),
        ]),
    );
    Ok(Value::Object(stmt))
}

fn nil_or_map(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Null,
    }
}

/// slsa/v2alpha4 TaskRun subjects: build artifacts of each step, then of the task.
fn task_subjects_v2alpha4(run: &Run) -> Vec<Artifact> {
    let mut subjects = Vec::new();
    for step in run.step_states() {
        append(
            &mut subjects,
            artifacts::subjects_from_build_artifacts(&step.results()),
        );
    }
    append(
        &mut subjects,
        artifacts::subjects_from_build_artifacts(&run.results()),
    );
    subjects
}

/// `externalParameters.buildConfigSource` for runs from a remote resolver.
fn build_config_source(src: &RefSource<'_>) -> Value {
    // Chains takes "the first" entry of a Go map (random); we take the first by name.
    let reference = src
        .digest
        .iter()
        .next()
        .map(|(alg, hex)| format!("{alg}:{hex}"))
        .unwrap_or_default();
    json!({"ref": reference, "repository": src.uri, "path": src.entry_point})
}

/// A resolved dependency (`ResourceDescriptor`), with protojson's omissions.
struct Dependency {
    name: String,
    uri: String,
    digest: std::collections::BTreeMap<String, String>,
    content: Option<Vec<u8>>,
}

impl Dependency {
    fn from_artifact(a: Artifact, name: &str) -> Self {
        Dependency {
            name: name.to_string(),
            uri: a.name,
            digest: a.digest,
            content: None,
        }
    }

    fn named_ref(name: &str, src: &RefSource<'_>) -> Self {
        Self::from_artifact(ref_source_artifact(src), name)
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if !self.name.is_empty() {
            m.insert("name".into(), Value::String(self.name.clone()));
        }
        if !self.uri.is_empty() {
            m.insert("uri".into(), Value::String(self.uri.clone()));
        }
        if !self.digest.is_empty() {
            m.insert("digest".into(), json!(self.digest));
        }
        if let Some(c) = &self.content
            && !c.is_empty()
        {
            m.insert("content".into(), Value::String(STANDARD.encode(c)));
        }
        Value::Object(m)
    }

    /// Chains keeps these even when an equal dependency came before.
    fn always_kept(&self) -> bool {
        self.name == "task" || self.name == "pipeline" || self.name.starts_with("stepAction/")
    }
}

/// Chains' `RemoveDuplicateResolvedDependencies`: equal uri, digest and
/// content make a duplicate, whatever the name.
fn dedup(deps: Vec<Dependency>) -> Vec<Value> {
    type Key = (
        String,
        std::collections::BTreeMap<String, String>,
        Option<Vec<u8>>,
    );
    let mut seen: std::collections::HashSet<Key> = std::collections::HashSet::new();
    let mut out = Vec::new();
    for d in deps {
        let key = (
            d.uri.clone(),
            d.digest.clone(),
            d.content.clone().filter(|c| !c.is_empty()),
        );
        let new = seen.insert(key);
        if !new && !d.always_kept() {
            continue;
        }
        out.push(d.to_json());
    }
    out
}

fn materials_as(mats: Vec<Artifact>, name: &str) -> impl Iterator<Item = Dependency> + '_ {
    mats.into_iter()
        .map(move |a| Dependency::from_artifact(a, name))
}

fn remote_step_actions(run: &Run) -> Vec<Dependency> {
    run.step_states()
        .into_iter()
        .filter_map(|s| {
            let src = s.ref_source()?;
            Some(Dependency::named_ref(
                &format!("stepAction/{}", s.name()),
                &src,
            ))
        })
        .collect()
}

/// Chains' `resolveddependencies.TaskRun`.
fn task_dependencies(run: &Run, alpha4: bool) -> Result<Vec<Value>, ProvenanceError> {
    let mut deps = Vec::new();
    deps.extend(materials_as(
        artifacts::step_and_sidecar_materials(run)?,
        "",
    ));
    if alpha4 {
        deps.extend(materials_as(
            artifacts::step_action_results(run),
            "inputs/result",
        ));
        deps.extend(remote_step_actions(run));
    }
    let hints = artifacts::task_params_and_results(run);
    deps.extend(materials_as(hints.clone(), "inputs/result"));
    deps.extend(materials_as(hints, "pipelineResource"));
    let mut out = Vec::new();
    if let Some(src) = run.ref_source() {
        out.push(Dependency::named_ref("task", &src).to_json());
    }
    out.extend(dedup(deps));
    Ok(out)
}

/// Chains' `resolveddependencies.PipelineRun`.
fn pipeline_dependencies(
    run: &Run,
    children: &Children<'_>,
    opts: &Options,
    alpha4: bool,
) -> Result<Vec<Value>, ProvenanceError> {
    let mut deps = Vec::new();
    if let Some(src) = run.ref_source() {
        deps.push(Dependency::named_ref("pipeline", &src));
    }
    for t in pipeline_tasks(run) {
        for tr in children.for_task(str_at(Some(t), "name")) {
            if tr.completion_time().is_none() {
                continue;
            }
            match opts.build_type {
                BuildType::Slsa => {
                    if let Some(src) = tr.ref_source() {
                        deps.push(Dependency::named_ref("pipelineTask", &src));
                    }
                }
                BuildType::Tekton => {
                    let mut d = match tr.ref_source() {
                        Some(src) => Dependency::named_ref("pipelineTask", &src),
                        None => Dependency::from_artifact(
                            Artifact {
                                name: String::new(),
                                digest: Default::default(),
                            },
                            "pipelineTask",
                        ),
                    };
                    d.content = Some(gojson::encode(GoType::TaskRun, &tr.object));
                    deps.push(d);
                }
            }
            let mats = artifacts::step_and_sidecar_materials(tr)?;
            if alpha4 {
                deps.extend(remote_step_actions(tr));
            }
            deps.extend(materials_as(mats, ""));
        }
    }
    if opts.deep_inspection && alpha4 {
        for tr in children.executed(run) {
            deps.extend(materials_as(
                artifacts::step_action_results(tr),
                "inputs/result",
            ));
        }
    }
    deps.extend(materials_as(
        pipeline_params_and_results(run, children, opts.deep_inspection),
        "inputs/result",
    ));
    Ok(dedup(deps))
}

fn byproduct(name: String, value: &NamedValue<'_>) -> Value {
    json!({
        "name": name,
        "content": STANDARD.encode(gojson::encode_any(&value.value.to_json())),
        "mediaType": "application/json",
    })
}

/// Chains' `IsBuildArtifact` with its error folded in: results it would skip.
fn is_build_artifact_or_invalid(r: &NamedValue<'_>) -> bool {
    if !r.name.ends_with("ARTIFACT_OUTPUTS") {
        return false;
    }
    match r.value.object_val() {
        None => true,
        Some(_) => r.value.object_field("isBuildArtifact") == "true",
    }
}

fn is_image_result(name: &str) -> bool {
    name.ends_with("IMAGE_URL") || name.ends_with("IMAGE_DIGEST") || name == "IMAGES"
}

/// v2alpha4: results that are neither build artifacts nor image hints.
fn results_without_build_artifacts(
    prefix: &str,
    owner: &str,
    results: &[NamedValue<'_>],
) -> Vec<Value> {
    results
        .iter()
        .filter(|r| !is_build_artifact_or_invalid(r) && !is_image_result(r.name))
        .map(|r| byproduct(format!("{prefix}/{owner}/{}", r.name), r))
        .collect()
}

fn task_byproducts_v2alpha4(run: &Run) -> Vec<Value> {
    let name = run.meta().name();
    let mut out = results_without_build_artifacts("taskRunResults", name, &run.results());
    out.extend(results_without_build_artifacts(
        "stepResults",
        name,
        &run.step_results(),
    ));
    out
}

fn byproducts(run: &Run, children: &Children<'_>, opts: &Options, alpha4: bool) -> Vec<Value> {
    let prefix = match run.kind {
        RunKind::TaskRun => "taskRunResults",
        RunKind::PipelineRun => "pipelineRunResults",
    };
    if !alpha4 {
        return run
            .results()
            .iter()
            .map(|r| byproduct(format!("{prefix}/{}", r.name), r))
            .collect();
    }
    match run.kind {
        RunKind::TaskRun => task_byproducts_v2alpha4(run),
        RunKind::PipelineRun => {
            let mut out =
                results_without_build_artifacts(prefix, run.meta().name(), &run.results());
            if opts.deep_inspection {
                for tr in children.executed(run) {
                    out.extend(task_byproducts_v2alpha4(tr));
                }
            }
            out
        }
    }
}
