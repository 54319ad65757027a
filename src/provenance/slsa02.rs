//! `slsa/v1` (a.k.a. `in-toto`): an in-toto v0.1 statement with a SLSA v0.2
//! predicate, as Chains' `slsa/v1` formatter builds it.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::artifacts::{self, Artifact, append};
use super::time::{parse_utc, rfc3339_nano};
use super::{Children, Options, ProvenanceError, SLSA_V02, STATEMENT_V01, pipeline_tasks};
use crate::run::{NamedValue, ParamSpec, Run, RunKind, StepState, array_at, str_at};

const REPRODUCIBLE_LABEL: &str = "chains.tekton.dev/reproducible";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

pub fn statement(
    run: &Run,
    children: &Children<'_>,
    opts: &Options,
) -> Result<Value, ProvenanceError> {
    let (subjects, materials, build_config) = match run.kind {
        RunKind::TaskRun => (
            artifacts::subjects_from_results(&run.results()),
            task_materials(run)?,
            super::object([(
                "steps",
                run.step_states().iter().map(|s| step(run, *s)).collect(),
            )]),
        ),
        RunKind::PipelineRun => (
            artifacts::subject_digests(run, children, opts.deep_inspection),
            pipeline_materials(run, children, opts.deep_inspection)?,
            pipeline_build_config(run, children),
        ),
    };
    let mut predicate = Map::new();
    predicate.insert("builder".into(), json!({"id": opts.builder_id}));
    predicate.insert("buildType".into(), Value::String(run.gvk()));
    predicate.insert(
        "invocation".into(),
        invocation(run, &run.params(), &run.param_specs()),
    );
    predicate.insert("buildConfig".into(), build_config);
    predicate.insert("metadata".into(), metadata(run));
    if !materials.is_empty() {
        predicate.insert(
            "materials".into(),
            Value::Array(materials.iter().map(Artifact::material_json).collect()),
        );
    }
    let mut stmt = Map::new();
    stmt.insert("_type".into(), Value::String(STATEMENT_V01.into()));
    stmt.insert("predicateType".into(), Value::String(SLSA_V02.into()));
    if !subjects.is_empty() {
        stmt.insert(
            "subject".into(),
            Value::Array(subjects.iter().map(Artifact::subject_json).collect()),
        );
    }
    stmt.insert("predicate".into(), Value::Object(predicate));
    Ok(Value::Object(stmt))
}

/// Chains' `attest.Invocation`: configSource from the run's refSource,
/// parameters (spec defaults overridden by run params), and an environment of
/// labels and annotations (minus kubectl's and Chains' own annotations).
pub fn invocation(run: &Run, params: &[NamedValue<'_>], specs: &[ParamSpec<'_>]) -> Value {
    let mut config_source = Map::new();
    if let Some(src) = run.ref_source() {
        if !src.uri.is_empty() {
            config_source.insert("uri".into(), Value::String(src.uri.into()));
        }
        if !src.digest.is_empty() {
            config_source.insert("digest".into(), json!(src.digest));
        }
        if !src.entry_point.is_empty() {
            config_source.insert("entryPoint".into(), Value::String(src.entry_point.into()));
        }
    }
    let mut parameters = Map::new();
    for s in specs {
        if let Some(d) = &s.default {
            parameters.insert(s.name.to_string(), d.to_json());
        }
    }
    for p in params {
        parameters.insert(p.name.to_string(), p.value.to_json());
    }
    let meta = run.meta();
    let annotations: BTreeMap<&str, &str> = meta
        .annotations()
        .into_iter()
        .filter(|(k, _)| *k != LAST_APPLIED && !k.starts_with("chains.tekton.dev/"))
        .collect();
    let labels = meta.labels();
    let mut environment = Map::new();
    if !annotations.is_empty() {
        environment.insert("annotations".into(), json!(annotations));
    }
    if !labels.is_empty() {
        environment.insert("labels".into(), json!(labels));
    }
    let mut inv = Map::new();
    inv.insert("configSource".into(), Value::Object(config_source));
    inv.insert("parameters".into(), Value::Object(parameters));
    if !environment.is_empty() {
        inv.insert("environment".into(), Value::Object(environment));
    }
    Value::Object(inv)
}

/// A step attestation: the matching step of the resolved task spec (by name),
/// its script or command, args, and the image it ran.
fn step(run: &Run, state: StepState<'_>) -> Value {
    let spec = run
        .spec_steps()
        .iter()
        .find(|s| str_at(Some(s), "name") == state.name());
    step_attestation(spec, state)
}

fn step_attestation(spec: Option<&Value>, state: StepState<'_>) -> Value {
    let script = str_at(spec, "script");
    let entry_point = if script.is_empty() {
        spec.map(|s| array_at(s, "command"))
            .unwrap_or(&[])
            .iter()
            .map(|c| c.as_str().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        script.to_string()
    };
    let arguments = match spec.and_then(|s| s.get("args")).and_then(Value::as_array) {
        Some(args) if !args.is_empty() => Value::Array(
            args.iter()
                .map(|a| Value::String(a.as_str().unwrap_or("").to_string()))
                .collect(),
        ),
        // Go encodes a nil []string as null; an empty YAML list decodes to an empty slice.
        Some(_) => json!([]),
        None => Value::Null,
    };
    let image = state.image_id();
    let image = format!(
        "oci://{}",
        image.strip_prefix("docker-pullable://").unwrap_or(image)
    );
    super::object([
        ("entryPoint", Value::String(entry_point)),
        ("arguments", arguments),
        (
            "environment",
            super::object([
                ("container", Value::String(state.name().to_string())),
                ("image", Value::String(image)),
            ]),
        ),
        ("annotations", Value::Null),
    ])
}

fn metadata(run: &Run) -> Value {
    let mut m = Map::new();
    if let Some(t) = run.start_time().and_then(parse_utc) {
        m.insert("buildStartedOn".into(), Value::String(rfc3339_nano(t)));
    }
    if let Some(t) = run.completion_time().and_then(parse_utc) {
        m.insert("buildFinishedOn".into(), Value::String(rfc3339_nano(t)));
    }
    m.insert(
        "completeness".into(),
        json!({"parameters": false, "environment": false, "materials": false}),
    );
    m.insert(
        "reproducible".into(),
        Value::Bool(run.meta().label(REPRODUCIBLE_LABEL) == Some("true")),
    );
    Value::Object(m)
}

/// Chains' `TaskMaterials`: step images, sidecar images, then git and
/// `*ARTIFACT_INPUTS` hints.
pub fn task_materials(run: &Run) -> Result<Vec<Artifact>, ProvenanceError> {
    let mut mats = Vec::new();
    append(&mut mats, artifacts::image_materials(run, false)?);
    append(&mut mats, artifacts::image_materials(run, true)?);
    append(&mut mats, artifacts::task_params_and_results(run));
    Ok(mats)
}

/// Chains' `PipelineMaterials`: the pipeline's refSource, then per executed
/// child its images and refSource, then pipeline-level hints.
fn pipeline_materials(
    run: &Run,
    children: &Children<'_>,
    deep: bool,
) -> Result<Vec<Artifact>, ProvenanceError> {
    let mut mats = Vec::new();
    if let Some(src) = run.ref_source() {
        append(&mut mats, [artifacts::ref_source_artifact(&src)]);
    }
    for tr in children.executed(run) {
        append(&mut mats, artifacts::image_materials(tr, false)?);
        append(&mut mats, artifacts::image_materials(tr, true)?);
        if let Some(src) = tr.ref_source() {
            append(&mut mats, [artifacts::ref_source_artifact(&src)]);
        }
    }
    append(
        &mut mats,
        artifacts::pipeline_params_and_results(run, children, deep),
    );
    Ok(mats)
}

/// The v0.2 `buildConfig` of a PipelineRun: one entry per completed child
/// TaskRun, in pipeline order, with the tasks it ran after.
fn pipeline_build_config(run: &Run, children: &Children<'_>) -> Value {
    if run.status_spec().is_none() {
        return json!({"tasks": null});
    }
    let spec = run.status_spec().unwrap_or(&Value::Null);
    let n_tasks = array_at(spec, "tasks").len();
    let service_account = str_at(run.spec().get("taskRunTemplate"), "serviceAccountName");
    let mut tasks = Vec::new();
    let mut last = String::new();
    for (i, t) in pipeline_tasks(run).into_iter().enumerate() {
        let name = str_at(Some(t), "name");
        let trs: Vec<&Run> = children.for_task(name).collect();
        if trs.is_empty() {
            continue;
        }
        for tr in trs {
            if tr.completion_time().is_none() || tr.status_spec().is_none() {
                continue;
            }
            let Some(steps) = matched_steps(tr) else {
                continue;
            };
            let mut after: Vec<String> = array_at(t, "runAfter")
                .iter()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            for r in result_refs(t) {
                if !after.contains(&r) {
                    after.push(r);
                }
            }
            if after.is_empty() && i >= n_tasks && !last.is_empty() {
                after.push(last.clone());
            }
            let mut task = Map::new();
            if !name.is_empty() {
                task.insert("name".into(), Value::String(name.into()));
            }
            if !after.is_empty() {
                task.insert("after".into(), json!(after));
            }
            task.insert("ref".into(), task_ref(t.get("taskRef")));
            task.insert("startedOn".into(), Value::String(go_time(tr.start_time())));
            task.insert(
                "finishedOn".into(),
                Value::String(go_time(tr.completion_time())),
            );
            if !service_account.is_empty() {
                task.insert(
                    "serviceAccountName".into(),
                    Value::String(service_account.into()),
                );
            }
            let status = match tr.first_condition_status() {
                Some("False") => "Failed",
                Some("True") => "Succeeded",
                Some("Unknown") => "Running",
                _ => "",
            };
            if !status.is_empty() {
                task.insert("status".into(), Value::String(status.into()));
            }
            if !steps.is_empty() {
                task.insert("steps".into(), Value::Array(steps));
            }
            task.insert(
                "invocation".into(),
                invocation(tr, &tr.params(), &tr.param_specs()),
            );
            let results = array_at(tr.status(), "results");
            if !results.is_empty() {
                task.insert(
                    "results".into(),
                    Value::Array(results.iter().map(run_result).collect()),
                );
            }
            tasks.push(Value::Object(task));
        }
        if i < n_tasks {
            last = name.to_string();
        }
    }
    super::object([("tasks", Value::Array(tasks))])
}

/// Steps of a child, paired with the spec's steps by position; `None` when
/// they do not line up (Chains skips such a TaskRun).
fn matched_steps(tr: &Run) -> Option<Vec<Value>> {
    let spec_steps = tr.spec_steps();
    let states = tr.step_states();
    if spec_steps.len() != states.len() {
        return None;
    }
    let mut out = Vec::new();
    for (spec, state) in spec_steps.iter().zip(states) {
        if state.name().starts_with("unnamed-") && !str_at(Some(spec), "name").is_empty() {
            return None;
        }
        out.push(step_attestation(Some(spec), state));
    }
    Some(out)
}

/// A zero time when absent, as Go formats `time.Time{}`.
fn go_time(t: Option<&str>) -> String {
    t.and_then(parse_utc)
        .map(rfc3339_nano)
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string())
}

/// `v1.TaskRef` as Go encodes it: empty fields omitted.
fn task_ref(v: Option<&Value>) -> Value {
    let mut out = Map::new();
    let Some(v) = v else {
        return Value::Object(out);
    };
    for key in ["name", "kind", "apiVersion", "resolver"] {
        let s = str_at(Some(v), key);
        if !s.is_empty() {
            out.insert(key.into(), Value::String(s.into()));
        }
    }
    let params = array_at(v, "params");
    if !params.is_empty() {
        out.insert(
            "params".into(),
            Value::Array(
                params
                    .iter()
                    .map(|p| {
                        json!({"name": str_at(Some(p), "name"),
                               "value": crate::run::ParamValue::from_json(p.get("value")).to_json()})
                    })
                    .collect(),
            ),
        );
    }
    Value::Object(out)
}

/// `v1.RunResult` as Go encodes it.
fn run_result(r: &Value) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), Value::String(str_at(Some(r), "name").into()));
    let ty = str_at(Some(r), "type");
    if !ty.is_empty() {
        out.insert("type".into(), Value::String(ty.into()));
    }
    out.insert(
        "value".into(),
        crate::run::ParamValue::from_json(r.get("value")).to_json(),
    );
    Value::Object(out)
}

/// Pipeline tasks this task consumes results of (`$(tasks.X.results.Y)` in
/// params, matrix, when expressions and inline steps/sidecars), in the order
/// Tekton's `PipelineTaskResultRefs` finds them.
fn result_refs(t: &Value) -> Vec<String> {
    let mut strings: Vec<&str> = Vec::new();
    let mut params: Vec<&Value> = array_at(t, "params").iter().collect();
    if let Some(m) = t.get("matrix") {
        params.extend(array_at(m, "params"));
        for inc in array_at(m, "include") {
            params.extend(array_at(inc, "params"));
        }
    }
    for p in params {
        match p.get("value") {
            Some(Value::String(s)) => strings.push(s),
            Some(Value::Array(a)) => strings.extend(a.iter().filter_map(Value::as_str)),
            // Go iterates the object's map: order is random there; ours is by key.
            Some(Value::Object(o)) => strings.extend(o.values().filter_map(Value::as_str)),
            _ => {}
        }
    }
    for w in array_at(t, "when") {
        strings.push(str_at(Some(w), "input"));
        strings.push(str_at(Some(w), "cel"));
        strings.extend(array_at(w, "values").iter().filter_map(Value::as_str));
    }
    if let Some(ts) = t.get("taskSpec") {
        for c in array_at(ts, "steps").iter().chain(array_at(ts, "sidecars")) {
            for key in ["name", "image", "imagePullPolicy", "script", "workingDir"] {
                strings.push(str_at(Some(c), key));
            }
            for key in ["command", "args"] {
                strings.extend(array_at(c, key).iter().filter_map(Value::as_str));
            }
            for e in array_at(c, "env") {
                strings.push(str_at(Some(e), "value"));
                if let Some(vf) = e.get("valueFrom") {
                    for r in ["secretKeyRef", "configMapKeyRef"] {
                        if let Some(r) = vf.get(r) {
                            strings.push(str_at(Some(r), "key"));
                            strings.push(str_at(Some(r), "name"));
                        }
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for s in strings {
        for expr in substitution_expressions(s) {
            if let Some(task) = task_result_ref(expr) {
                out.push(task.to_string());
            }
        }
    }
    out
}

/// Tekton's `VariableSubstitutionRegex`: `$(a.b.c[0])`-style expressions, without `$(` `)`.
fn substitution_expressions(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(pos) = s[i..].find("$(") {
        let start = i + pos + 2;
        let mut j = start;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || matches!(bytes[j], b'_' | b'.' | b'-'))
        {
            j += 1;
        }
        let name_end = j;
        // Optional `[N]` or `[*]`.
        if j < bytes.len() && bytes[j] == b'[' {
            let k = j + 1;
            let mut m = k;
            if m < bytes.len() && bytes[m] == b'*' {
                m += 1;
            } else {
                while m < bytes.len() && bytes[m].is_ascii_digit() {
                    m += 1;
                }
            }
            if m > k && m < bytes.len() && bytes[m] == b']' {
                j = m + 1;
            }
        }
        if name_end > start && j < bytes.len() && bytes[j] == b')' {
            out.push(&s[start..j]);
            i = j + 1;
        } else {
            i = start;
        }
    }
    out
}

/// The pipeline task of a `tasks.<task>.results.<name>[.<key>]` expression.
fn task_result_ref(expr: &str) -> Option<&str> {
    let parts: Vec<&str> = expr.split('.').collect();
    let looks =
        parts.len() >= 4 && (parts[0] == "tasks" || parts[0] == "finally") && parts[2] == "results";
    (looks && (parts.len() == 4 || parts.len() == 5)).then(|| parts[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_result_references() {
        assert_eq!(
            substitution_expressions("a $(tasks.x.results.y) b $(params.p[*]) $(bad"),
            vec!["tasks.x.results.y", "params.p[*]"]
        );
        assert_eq!(task_result_ref("tasks.x.results.y"), Some("x"));
        assert_eq!(task_result_ref("tasks.x.results.y.key"), Some("x"));
        assert_eq!(task_result_ref("params.x"), None);
        let t = json!({"params": [{"name": "a", "value": "$(tasks.build.results.IMAGE)"}],
                       "when": [{"input": "$(tasks.check.results.ok)", "values": ["true"]}]});
        assert_eq!(result_refs(&t), vec!["build", "check"]);
    }
}
