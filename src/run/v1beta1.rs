//! Offline `tekton.dev/v1beta1` → `tekton.dev/v1` conversion of TaskRuns and PipelineRuns.
//!
//! Tekton Chains reads runs at `tekton.dev/v1`. A run that was exported at `v1beta1` therefore
//! has to be turned into the object the Tekton Pipelines conversion webhook would have handed
//! Chains. This module reproduces that conversion (the `ConvertTo` functions in
//! `pkg/apis/pipeline/v1beta1/*_conversion.go` of tektoncd/pipeline v1.15.0) directly on the
//! JSON tree, moving values instead of copying them.
//!
//! # Behaviour
//!
//! * Every struct the webhook rebuilds field by field is rebuilt here from the same list of
//!   fields: a key that the v1beta1 struct carries but the conversion does not copy disappears
//!   (e.g. `spec.managedBy`, `status.spanContext`, PipelineResources, PipelineTask
//!   `pipelineRef`/`pipelineSpec`, `status.taskRuns`/`runs` — but see below). Values of
//!   Kubernetes types that the webhook copies wholesale (pod templates, env, volumes,
//!   container states, ...) are moved untouched.
//! * Param, result and default values are normalised the way the Go `ParamValue`
//!   (un)marshaller does: strings, string arrays and string maps stay as they are, `null`
//!   becomes `""`, anything else becomes its JSON text as a string. A missing `value` of a
//!   param or run result becomes `""`; a `ParamSpec` without `type` gets `type: string`.
//! * Lists that end up empty are left out, as Go's `omitempty` would. Zero values that Go
//!   would print for non-`omitempty` fields (`podName: ""`, `computeResources: {}`, ...) are
//!   not synthesised: they carry no information and a missing key reads back as the same
//!   zero value.
//! * Values of an unexpected JSON type are passed through unchanged (where an object or list
//!   is expected) rather than guessed at; `null` is treated as absent. Nothing panics; an
//!   input that is not a JSON object is returned unchanged.
//!
//! # Annotations
//!
//! When the API server serves a v1beta1-stored run at v1, the webhook's `ConvertTo` may add
//! annotations that carry v1beta1-only data, and the conversion webhook is allowed to change
//! annotations, so a user (or Chains) reading the run at v1 sees them. They are reproduced:
//!
//! * `tekton.dev/v1beta1Resources` — TaskRun/PipelineRun `spec.resources`,
//! * `tekton.dev/v1beta1CloudEvents` — TaskRun `status.cloudEvents`,
//! * `tekton.dev/v1beta1ResourcesResult` — TaskRun `status.resourcesResult`,
//! * `tekton.dev/v1beta1ResourcesStatus` — TaskRun `status.taskSpec.resources`,
//! * `tekton.dev/v1beta1.task-deprecations` — deprecated container fields of steps and the
//!   step template (keyed by TaskRun name, or by pipeline task name inside a pipeline spec).
//!
//! Their values are the Go `encoding/json` text of the Tekton structs: fields in struct order,
//! Go's zero values for non-`omitempty` fields, Go's HTML-safe string escaping. Kubernetes
//! probe/lifecycle objects nested in the deprecation record are written in serde_json's map
//! order (sorted keys, or input order with `preserve_order`) instead of Go struct order; that
//! is the only place the annotation text can differ from the webhook's.
//!
//! # Fields of older Tekton releases
//!
//! v1.15.0's conversion silently loses three v1beta1 fields that only older clusters could
//! produce. Older webhooks converted them, and a v1beta1 object that still carries them was
//! written by such a cluster, so this module converts them the way the last webhook that knew
//! them did, rather than losing the information Chains would record:
//!
//! * `taskRef.bundle` / `pipelineRef.bundle` (webhooks up to v0.60): the ref becomes a
//!   `bundles` resolver ref with string params `bundle`, `name`, `kind` (`Task`/`Pipeline`);
//!   the ref's own `name` (and `kind` of a TaskRef) is cleared, `apiVersion` is kept.
//! * `status.provenance.configSource` (renamed in v0.47): used as `refSource` when the run has
//!   no `refSource` of its own.
//! * PipelineRun `status.taskRuns` / `status.runs` (full embedded status, webhooks v0.43–v0.44):
//!   when the run has no `childReferences`, each entry becomes a child reference
//!   (`tekton.dev/v1beta1` `TaskRun`, or `tekton.dev/v1alpha1` `Run`) with its name,
//!   `pipelineTaskName` and `whenExpressions`, TaskRuns before Runs, each sorted by name. The
//!   `tekton.dev/v1beta1TaskRuns`/`v1beta1Runs` annotations of that era are not reproduced
//!   (they duplicated whole child statuses and were dropped again by later releases).
//!
//! `serviceAccountNames` (removed from v1beta1 before v1 existed) is dropped like any other
//! unknown field.

use serde_json::{Map, Value};

type Obj = Map<String, Value>;

/// `apiVersion` of converted objects.
pub const V1_API_VERSION: &str = "tekton.dev/v1";

const RESOURCES_ANNOTATION: &str = "tekton.dev/v1beta1Resources";
const CLOUD_EVENTS_ANNOTATION: &str = "tekton.dev/v1beta1CloudEvents";
const RESOURCES_RESULT_ANNOTATION: &str = "tekton.dev/v1beta1ResourcesResult";
const RESOURCES_STATUS_ANNOTATION: &str = "tekton.dev/v1beta1ResourcesStatus";
const TASK_DEPRECATIONS_ANNOTATION: &str = "tekton.dev/v1beta1.task-deprecations";

/// Convert a `tekton.dev/v1beta1` TaskRun (as a JSON value) to its `tekton.dev/v1` form,
/// as Tekton Pipelines' own conversion webhook does.
pub fn taskrun_to_v1(v: Value) -> Value {
    let Value::Object(mut run) = v else {
        return v;
    };
    let mut metadata = take(&mut run, "metadata");
    let name = meta_name(metadata.as_ref());
    let mut deprecations = Deprecations::from_metadata(metadata.as_ref());
    let mut notes: Vec<(&'static str, String)> = Vec::new();

    let spec = take(&mut run, "spec");
    let status = take(&mut run, "status");

    if let Some(Value::Object(spec)) = &spec
        && let Some(resources) = present(spec.get("resources"))
    {
        notes.push((RESOURCES_ANNOTATION, go_json(TASKRUN_RESOURCES, resources)));
    }
    if let Some(Value::Object(status)) = &status {
        if let Some(events) = present(status.get("cloudEvents")) {
            notes.push((CLOUD_EVENTS_ANNOTATION, go_json(CLOUD_EVENTS, events)));
        }
        if let Some(results) = present(status.get("resourcesResult")) {
            notes.push((RESOURCES_RESULT_ANNOTATION, go_json(RUN_RESULTS, results)));
        }
        if let Some(Value::Object(task_spec)) = status.get("taskSpec")
            && let Some(resources) = present(task_spec.get("resources"))
        {
            notes.push((
                RESOURCES_STATUS_ANNOTATION,
                go_json(TASK_RESOURCES, resources),
            ));
        }
    }

    // Same order as the webhook: status first, then spec (matters for the deprecation record,
    // where the later writer of a key wins).
    let status = status.map(|s| obj(s, |m| taskrun_status(m, &name, &mut deprecations)));
    let spec = spec.map(|s| obj(s, |m| taskrun_spec(m, &name, &mut deprecations)));

    if let Some(text) = deprecations.into_annotation() {
        notes.push((TASK_DEPRECATIONS_ANNOTATION, text));
    }
    annotate(&mut metadata, notes);
    assemble(run, metadata, spec, status)
}

/// Convert a `tekton.dev/v1beta1` PipelineRun (as a JSON value) to its `tekton.dev/v1` form,
/// as Tekton Pipelines' own conversion webhook does.
pub fn pipelinerun_to_v1(v: Value) -> Value {
    let Value::Object(mut run) = v else {
        return v;
    };
    let mut metadata = take(&mut run, "metadata");
    let mut deprecations = Deprecations::from_metadata(metadata.as_ref());
    let mut notes: Vec<(&'static str, String)> = Vec::new();

    let spec = take(&mut run, "spec");
    let status = take(&mut run, "status");

    if let Some(Value::Object(spec)) = &spec
        && let Some(resources) = present(spec.get("resources"))
    {
        notes.push((
            RESOURCES_ANNOTATION,
            go_json(PIPELINE_RESOURCE_BINDINGS, resources),
        ));
    }

    let status = status.map(|s| obj(s, |m| pipelinerun_status(m, &mut deprecations)));
    let spec = spec.map(|s| obj(s, |m| pipelinerun_spec(m, &mut deprecations)));

    if let Some(text) = deprecations.into_annotation() {
        notes.push((TASK_DEPRECATIONS_ANNOTATION, text));
    }
    annotate(&mut metadata, notes);
    assemble(run, metadata, spec, status)
}

// ---------------------------------------------------------------------------------------------
// Small helpers over the JSON tree.

/// Remove `key` from `m`, treating `null` as absent.
fn take(m: &mut Obj, key: &str) -> Option<Value> {
    match m.remove(key) {
        None | Some(Value::Null) => None,
        v => v,
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn put(out: &mut Obj, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        out.insert(key.to_owned(), v);
    }
}

/// Move the listed keys unchanged.
fn keep(out: &mut Obj, m: &mut Obj, keys: &[&str]) {
    for key in keys {
        put(out, key, take(m, key));
    }
}

/// Move `from` to `to`.
fn rename(out: &mut Obj, m: &mut Obj, from: &str, to: &str) {
    put(out, to, take(m, from));
}

/// Apply `f` to an object; anything else passes through.
fn obj(v: Value, f: impl FnOnce(Obj) -> Obj) -> Value {
    match v {
        Value::Object(m) => Value::Object(f(m)),
        other => other,
    }
}

/// Apply `f` to every element of a list. An empty result is dropped (Go's `omitempty` on a nil
/// slice); a value that is not a list passes through.
fn list(v: Option<Value>, f: impl FnMut(Value) -> Value) -> Option<Value> {
    match v {
        Some(Value::Array(items)) => {
            let items: Vec<Value> = items.into_iter().map(f).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        other => other,
    }
}

/// [`list`] of objects converted by `f`.
fn list_of(v: Option<Value>, mut f: impl FnMut(Obj) -> Obj) -> Option<Value> {
    list(v, |item| obj(item, &mut f))
}

/// Go's `omitempty` notion of an empty value, for JSON values of unknown type.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Object(_)) => true,
    }
}

fn str_field<'a>(m: &'a Obj, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

fn meta_name(metadata: Option<&Value>) -> String {
    metadata
        .and_then(Value::as_object)
        .and_then(|m| str_field(m, "name"))
        .unwrap_or_default()
        .to_owned()
}

fn assemble(
    mut run: Obj,
    metadata: Option<Value>,
    spec: Option<Value>,
    status: Option<Value>,
) -> Value {
    let mut out = Obj::new();
    out.insert(
        "apiVersion".to_owned(),
        Value::String(V1_API_VERSION.to_owned()),
    );
    keep(&mut out, &mut run, &["kind"]);
    put(&mut out, "metadata", metadata);
    put(&mut out, "spec", spec);
    put(&mut out, "status", status);
    Value::Object(out)
}

/// Add annotations to the object's metadata (creating it when absent; a metadata value that is
/// not an object is left alone).
fn annotate(metadata: &mut Option<Value>, notes: Vec<(&'static str, String)>) {
    if notes.is_empty() {
        return;
    }
    let meta = metadata.get_or_insert_with(|| Value::Object(Obj::new()));
    let Value::Object(meta) = meta else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Obj::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Obj::new());
    }
    if let Value::Object(annotations) = annotations {
        for (key, text) in notes {
            annotations.insert(key.to_owned(), Value::String(text));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Params and results.

/// Normalise a param/result value as Go's `ParamValue` round trip does.
fn param_value(v: Value) -> Value {
    fn string_or_null(v: &Value) -> bool {
        v.is_string() || v.is_null()
    }
    fn null_to_empty(v: Value) -> Value {
        if v.is_null() {
            Value::String(String::new())
        } else {
            v
        }
    }
    match v {
        Value::String(_) => v,
        Value::Null => Value::String(String::new()),
        Value::Array(items) if items.iter().all(string_or_null) => {
            Value::Array(items.into_iter().map(null_to_empty).collect())
        }
        Value::Object(map) if map.values().all(string_or_null) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, null_to_empty(v)))
                .collect(),
        ),
        other => Value::String(other.to_string()),
    }
}

/// A value of a non-pointer `ParamValue` field: missing means `""`.
fn required_value(m: &mut Obj) -> Value {
    param_value(take(m, "value").unwrap_or(Value::Null))
}

fn param(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name"]);
    out.insert("value".to_owned(), required_value(&mut m));
    out
}

fn params(v: Option<Value>) -> Option<Value> {
    list_of(v, param)
}

fn property_specs(v: Option<Value>) -> Option<Value> {
    match v {
        Some(Value::Object(props)) => {
            let props: Obj = props
                .into_iter()
                .map(|(k, v)| {
                    let mut spec = Obj::new();
                    if let Value::Object(mut p) = v {
                        keep(&mut spec, &mut p, &["type"]);
                    }
                    (k, Value::Object(spec))
                })
                .collect();
            (!props.is_empty()).then_some(Value::Object(props))
        }
        other => other,
    }
}

fn param_spec(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name"]);
    let ty = match take(&mut m, "type") {
        Some(Value::String(s)) if s.is_empty() => Value::String("string".to_owned()),
        Some(t) => t,
        None => Value::String("string".to_owned()),
    };
    out.insert("type".to_owned(), ty);
    keep(&mut out, &mut m, &["description", "enum"]);
    put(
        &mut out,
        "properties",
        property_specs(take(&mut m, "properties")),
    );
    put(
        &mut out,
        "default",
        take(&mut m, "default").map(param_value),
    );
    out
}

/// TaskRunResult / step result: name, type, value.
fn run_result(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name", "type"]);
    out.insert("value".to_owned(), required_value(&mut m));
    out
}

fn task_result(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name", "type", "description"]);
    put(
        &mut out,
        "properties",
        property_specs(take(&mut m, "properties")),
    );
    put(&mut out, "value", take(&mut m, "value").map(param_value));
    out
}

fn pipeline_result(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name", "type", "description"]);
    out.insert("value".to_owned(), required_value(&mut m));
    out
}

fn pipelinerun_result(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name"]);
    out.insert("value".to_owned(), required_value(&mut m));
    out
}

fn when_expression(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["input", "operator", "values", "cel"]);
    out
}

fn when_expressions(v: Option<Value>) -> Option<Value> {
    list_of(v, when_expression)
}

// ---------------------------------------------------------------------------------------------
// References.

/// The (legacy) bundle of a ref, when set.
fn take_bundle(m: &mut Obj) -> Option<String> {
    match take(m, "bundle") {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn bundle_resolver(out: &mut Obj, bundle: String, name: Option<Value>, kind: &str) {
    let string_param = |name: &str, value: Value| {
        let mut p = Obj::new();
        p.insert("name".to_owned(), Value::String(name.to_owned()));
        p.insert("value".to_owned(), param_value(value));
        Value::Object(p)
    };
    out.insert("resolver".to_owned(), Value::String("bundles".to_owned()));
    out.insert(
        "params".to_owned(),
        Value::Array(vec![
            string_param("bundle", Value::String(bundle)),
            string_param("name", name.unwrap_or(Value::Null)),
            string_param("kind", Value::String(kind.to_owned())),
        ]),
    );
}

fn resolver_ref(out: &mut Obj, m: &mut Obj) {
    keep(out, m, &["resolver"]);
    put(out, "params", params(take(m, "params")));
}

fn task_ref(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    match take_bundle(&mut m) {
        Some(bundle) => {
            keep(&mut out, &mut m, &["apiVersion"]);
            let name = take(&mut m, "name");
            bundle_resolver(&mut out, bundle, name, "Task");
        }
        None => {
            keep(&mut out, &mut m, &["name", "kind", "apiVersion"]);
            resolver_ref(&mut out, &mut m);
        }
    }
    out
}

fn pipeline_ref(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    match take_bundle(&mut m) {
        Some(bundle) => {
            keep(&mut out, &mut m, &["apiVersion"]);
            let name = take(&mut m, "name");
            bundle_resolver(&mut out, bundle, name, "Pipeline");
        }
        None => {
            keep(&mut out, &mut m, &["name", "apiVersion"]);
            resolver_ref(&mut out, &mut m);
        }
    }
    out
}

/// Step `ref` (StepAction reference).
fn step_ref(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name"]);
    resolver_ref(&mut out, &mut m);
    out
}

// ---------------------------------------------------------------------------------------------
// Task specs.

fn workspace_usage(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name", "mountPath"]);
    out
}

fn workspace_declaration(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(
        &mut out,
        &mut m,
        &["name", "description", "mountPath", "readOnly", "optional"],
    );
    out
}

fn output_config(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["path"]);
    out
}

fn step(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(
        &mut out,
        &mut m,
        &[
            "name",
            "displayName",
            "image",
            "command",
            "args",
            "workingDir",
            "envFrom",
            "env",
        ],
    );
    rename(&mut out, &mut m, "resources", "computeResources");
    keep(
        &mut out,
        &mut m,
        &[
            "volumeMounts",
            "volumeDevices",
            "imagePullPolicy",
            "securityContext",
            "script",
            "timeout",
        ],
    );
    put(
        &mut out,
        "workspaces",
        list_of(take(&mut m, "workspaces"), workspace_usage),
    );
    keep(&mut out, &mut m, &["onError"]);
    put(
        &mut out,
        "stdoutConfig",
        take(&mut m, "stdoutConfig").map(|v| obj(v, output_config)),
    );
    put(
        &mut out,
        "stderrConfig",
        take(&mut m, "stderrConfig").map(|v| obj(v, output_config)),
    );
    put(
        &mut out,
        "ref",
        take(&mut m, "ref").map(|v| obj(v, step_ref)),
    );
    put(&mut out, "params", params(take(&mut m, "params")));
    keep(&mut out, &mut m, &["results"]);
    put(&mut out, "when", when_expressions(take(&mut m, "when")));
    out
}

fn step_template(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(
        &mut out,
        &mut m,
        &["image", "command", "args", "workingDir", "envFrom", "env"],
    );
    rename(&mut out, &mut m, "resources", "computeResources");
    keep(
        &mut out,
        &mut m,
        &[
            "volumeMounts",
            "volumeDevices",
            "imagePullPolicy",
            "securityContext",
        ],
    );
    out
}

fn sidecar(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(
        &mut out,
        &mut m,
        &[
            "name",
            "image",
            "command",
            "args",
            "workingDir",
            "ports",
            "envFrom",
            "env",
        ],
    );
    rename(&mut out, &mut m, "resources", "computeResources");
    keep(
        &mut out,
        &mut m,
        &[
            "volumeMounts",
            "volumeDevices",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle",
            "terminationMessagePath",
            "terminationMessagePolicy",
            "imagePullPolicy",
            "securityContext",
            "stdin",
            "stdinOnce",
            "tty",
            "script",
        ],
    );
    put(
        &mut out,
        "workspaces",
        list_of(take(&mut m, "workspaces"), workspace_usage),
    );
    keep(&mut out, &mut m, &["restartPolicy"]);
    out
}

/// Convert a v1beta1 TaskSpec. `task_name` keys its entry in the deprecation record.
fn task_spec(mut m: Obj, task_name: &str, deprecations: &mut Deprecations) -> Obj {
    if let Some(record) = take_deprecated_fields(&mut m) {
        deprecations.record(task_name, record);
    }
    let mut out = Obj::new();
    put(&mut out, "steps", list_of(take(&mut m, "steps"), step));
    keep(&mut out, &mut m, &["volumes"]);
    put(
        &mut out,
        "stepTemplate",
        take(&mut m, "stepTemplate").map(|v| obj(v, step_template)),
    );
    put(
        &mut out,
        "sidecars",
        list_of(take(&mut m, "sidecars"), sidecar),
    );
    put(
        &mut out,
        "workspaces",
        list_of(take(&mut m, "workspaces"), workspace_declaration),
    );
    put(
        &mut out,
        "results",
        list_of(take(&mut m, "results"), task_result),
    );
    put(
        &mut out,
        "params",
        list_of(take(&mut m, "params"), param_spec),
    );
    keep(&mut out, &mut m, &["displayName", "description"]);
    out
}

// ---------------------------------------------------------------------------------------------
// Deprecated container fields of steps and step templates.

/// Container fields that v1beta1 steps still accept but v1 steps do not have.
const DEPRECATED_STEP_FIELDS: [&str; 10] = [
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "stdin",
    "stdinOnce",
    "tty",
];

/// The fields whose presence makes a step template count as deprecated (Tekton does not look
/// at `livenessProbe` there, although it records it).
const DEPRECATED_TEMPLATE_TRIGGERS: [&str; 10] = [
    "ports",
    "name",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "stdin",
    "stdinOnce",
    "tty",
];

/// When the task spec uses deprecated container fields, move them out into the record the
/// webhook stores in the task-deprecations annotation (one entry per step, plus the step
/// template when there is one).
fn take_deprecated_fields(spec: &mut Obj) -> Option<Obj> {
    let step_uses = |s: &Value| {
        s.as_object()
            .is_some_and(|s| DEPRECATED_STEP_FIELDS.iter().any(|k| truthy(s.get(*k))))
    };
    let steps_use = spec
        .get("steps")
        .and_then(Value::as_array)
        .is_some_and(|steps| steps.iter().any(step_uses));
    let template_uses = spec
        .get("stepTemplate")
        .and_then(Value::as_object)
        .is_some_and(|t| {
            DEPRECATED_TEMPLATE_TRIGGERS
                .iter()
                .any(|k| truthy(t.get(*k)))
        });
    if !steps_use && !template_uses {
        return None;
    }

    let move_fields = |from: &mut Obj, keys: &[&str]| {
        let mut rec = Obj::new();
        for key in keys {
            put(&mut rec, key, take(from, key));
        }
        rec
    };
    let mut record = Obj::new();
    if let Some(Value::Array(steps)) = spec.get_mut("steps") {
        let deprecated: Vec<Value> = steps
            .iter_mut()
            .map(|s| match s {
                Value::Object(s) => Value::Object(move_fields(s, &DEPRECATED_STEP_FIELDS)),
                _ => Value::Object(Obj::new()),
            })
            .collect();
        if !deprecated.is_empty() {
            record.insert("deprecatedSteps".to_owned(), Value::Array(deprecated));
        }
    }
    if let Some(Value::Object(template)) = spec.get_mut("stepTemplate") {
        let mut rec = move_fields(template, &["name"]);
        rec.extend(move_fields(template, &DEPRECATED_STEP_FIELDS));
        record.insert("deprecatedStepTemplate".to_owned(), Value::Object(rec));
    }
    Some(record)
}

/// The task-deprecations record of one object: existing entries of the annotation plus the
/// entries this conversion adds.
struct Deprecations {
    entries: Obj,
    changed: bool,
}

impl Deprecations {
    fn from_metadata(metadata: Option<&Value>) -> Self {
        let entries = metadata
            .and_then(Value::as_object)
            .and_then(|m| m.get("annotations"))
            .and_then(Value::as_object)
            .and_then(|a| str_field(a, TASK_DEPRECATIONS_ANNOTATION))
            .and_then(|text| serde_json::from_str::<Obj>(text).ok())
            .unwrap_or_default();
        Deprecations {
            entries,
            changed: false,
        }
    }

    fn record(&mut self, task_name: &str, record: Obj) {
        self.entries
            .insert(task_name.to_owned(), Value::Object(record));
        self.changed = true;
    }

    fn into_annotation(self) -> Option<String> {
        self.changed
            .then(|| go_json(TASK_DEPRECATIONS, &Value::Object(self.entries)))
    }
}

// ---------------------------------------------------------------------------------------------
// Pipeline specs.

fn pipeline_workspace_declaration(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name", "description", "optional"]);
    out
}

fn pipeline_task_workspace(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name", "workspace", "subPath"]);
    out
}

fn task_metadata(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["labels", "annotations"]);
    out
}

fn embedded_task(mut m: Obj, task_name: &str, deprecations: &mut Deprecations) -> Obj {
    let mut head = Obj::new();
    keep(&mut head, &mut m, &["apiVersion", "kind", "spec"]);
    put(
        &mut head,
        "metadata",
        take(&mut m, "metadata").map(|v| obj(v, task_metadata)),
    );
    let mut out = task_spec(m, task_name, deprecations);
    out.extend(head);
    out
}

fn non_empty_list(m: &Obj, key: &str) -> bool {
    m.get(key)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

fn matrix(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    put(&mut out, "params", params(take(&mut m, "params")));
    let include = list_of(take(&mut m, "include"), |mut inc| {
        let mut out = Obj::new();
        keep(&mut out, &mut inc, &["name"]);
        put(&mut out, "params", params(take(&mut inc, "params")));
        out
    });
    put(&mut out, "include", include);
    out
}

fn pipeline_task(mut m: Obj, deprecations: &mut Deprecations) -> Obj {
    let name = str_field(&m, "name").unwrap_or_default().to_owned();
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name", "displayName", "description"]);
    put(
        &mut out,
        "taskRef",
        take(&mut m, "taskRef").map(|v| obj(v, task_ref)),
    );
    let task_spec =
        take(&mut m, "taskSpec").map(|v| obj(v, |t| embedded_task(t, &name, deprecations)));
    put(&mut out, "taskSpec", task_spec);
    put(&mut out, "when", when_expressions(take(&mut m, "when")));
    keep(&mut out, &mut m, &["onError", "retries", "runAfter"]);
    put(&mut out, "params", params(take(&mut m, "params")));
    let matrix = match take(&mut m, "matrix") {
        Some(Value::Object(mx))
            if non_empty_list(&mx, "params") || non_empty_list(&mx, "include") =>
        {
            Some(Value::Object(matrix(mx)))
        }
        Some(Value::Object(_)) | None => None,
        Some(other) => Some(other),
    };
    put(&mut out, "matrix", matrix);
    put(
        &mut out,
        "workspaces",
        list_of(take(&mut m, "workspaces"), pipeline_task_workspace),
    );
    keep(&mut out, &mut m, &["timeout"]);
    out
}

fn pipeline_spec(mut m: Obj, deprecations: &mut Deprecations) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["displayName", "description"]);
    put(
        &mut out,
        "tasks",
        list_of(take(&mut m, "tasks"), |t| pipeline_task(t, deprecations)),
    );
    put(
        &mut out,
        "params",
        list_of(take(&mut m, "params"), param_spec),
    );
    put(
        &mut out,
        "workspaces",
        list_of(take(&mut m, "workspaces"), pipeline_workspace_declaration),
    );
    put(
        &mut out,
        "results",
        list_of(take(&mut m, "results"), pipeline_result),
    );
    put(
        &mut out,
        "finally",
        list_of(take(&mut m, "finally"), |t| pipeline_task(t, deprecations)),
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Run specs.

fn workspace_binding(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(
        &mut out,
        &mut m,
        &[
            "name",
            "subPath",
            "volumeClaimTemplate",
            "persistentVolumeClaim",
            "emptyDir",
            "configMap",
            "secret",
            "projected",
            "csi",
        ],
    );
    out
}

/// `stepOverrides` / `sidecarOverrides` entry → `stepSpecs` / `sidecarSpecs` entry.
fn container_override(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name"]);
    rename(&mut out, &mut m, "resources", "computeResources");
    out
}

fn debug(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    let breakpoints = take(&mut m, "breakpoints").map(|v| {
        obj(v, |mut b| {
            let mut out = Obj::new();
            keep(&mut out, &mut b, &["onFailure"]);
            match take(&mut b, "beforeSteps") {
                Some(Value::Array(steps)) if steps.is_empty() => {}
                steps => put(&mut out, "beforeSteps", steps),
            }
            out
        })
    });
    put(&mut out, "breakpoints", breakpoints);
    out
}

fn taskrun_spec(mut m: Obj, run_name: &str, deprecations: &mut Deprecations) -> Obj {
    let mut out = Obj::new();
    put(
        &mut out,
        "debug",
        take(&mut m, "debug").map(|v| obj(v, debug)),
    );
    put(&mut out, "params", params(take(&mut m, "params")));
    keep(&mut out, &mut m, &["serviceAccountName"]);
    put(
        &mut out,
        "taskRef",
        take(&mut m, "taskRef").map(|v| obj(v, task_ref)),
    );
    let spec = take(&mut m, "taskSpec").map(|v| obj(v, |t| task_spec(t, run_name, deprecations)));
    put(&mut out, "taskSpec", spec);
    keep(
        &mut out,
        &mut m,
        &[
            "status",
            "statusMessage",
            "retries",
            "timeout",
            "podTemplate",
        ],
    );
    put(
        &mut out,
        "workspaces",
        list_of(take(&mut m, "workspaces"), workspace_binding),
    );
    put(
        &mut out,
        "stepSpecs",
        list_of(take(&mut m, "stepOverrides"), container_override),
    );
    put(
        &mut out,
        "sidecarSpecs",
        list_of(take(&mut m, "sidecarOverrides"), container_override),
    );
    keep(&mut out, &mut m, &["computeResources"]);
    out
}

fn pipeline_taskrun_spec(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["pipelineTaskName"]);
    rename(
        &mut out,
        &mut m,
        "taskServiceAccountName",
        "serviceAccountName",
    );
    rename(&mut out, &mut m, "taskPodTemplate", "podTemplate");
    put(
        &mut out,
        "stepSpecs",
        list_of(take(&mut m, "stepOverrides"), container_override),
    );
    put(
        &mut out,
        "sidecarSpecs",
        list_of(take(&mut m, "sidecarOverrides"), container_override),
    );
    put(
        &mut out,
        "metadata",
        take(&mut m, "metadata").map(|v| obj(v, task_metadata)),
    );
    keep(&mut out, &mut m, &["computeResources", "timeout"]);
    out
}

fn pipelinerun_spec(mut m: Obj, deprecations: &mut Deprecations) -> Obj {
    let mut out = Obj::new();
    put(
        &mut out,
        "pipelineRef",
        take(&mut m, "pipelineRef").map(|v| obj(v, pipeline_ref)),
    );
    let spec = take(&mut m, "pipelineSpec").map(|v| obj(v, |p| pipeline_spec(p, deprecations)));
    put(&mut out, "pipelineSpec", spec);
    put(&mut out, "params", params(take(&mut m, "params")));
    keep(&mut out, &mut m, &["status"]);

    // A v1beta1 `timeout` replaces the whole `timeouts` block.
    let timeouts = match (take(&mut m, "timeout"), take(&mut m, "timeouts")) {
        (Some(timeout), _) => {
            let mut t = Obj::new();
            t.insert("pipeline".to_owned(), timeout);
            Some(Value::Object(t))
        }
        (None, timeouts) => timeouts.map(|v| {
            obj(v, |mut t| {
                let mut out = Obj::new();
                keep(&mut out, &mut t, &["pipeline", "tasks", "finally"]);
                out
            })
        }),
    };
    put(&mut out, "timeouts", timeouts);

    let mut template = Obj::new();
    keep(
        &mut template,
        &mut m,
        &["podTemplate", "serviceAccountName"],
    );
    if !template.is_empty() {
        out.insert("taskRunTemplate".to_owned(), Value::Object(template));
    }
    put(
        &mut out,
        "workspaces",
        list_of(take(&mut m, "workspaces"), workspace_binding),
    );
    put(
        &mut out,
        "taskRunSpecs",
        list_of(take(&mut m, "taskRunSpecs"), pipeline_taskrun_spec),
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Run statuses.

/// Fields of knative's `duckv1.Status`, copied as a whole.
const DUCK_STATUS: [&str; 3] = ["observedGeneration", "conditions", "annotations"];

fn ref_source(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["uri", "digest", "entryPoint"]);
    out
}

fn provenance(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    let source = take(&mut m, "refSource").or_else(|| take(&mut m, "configSource"));
    put(&mut out, "refSource", source.map(|v| obj(v, ref_source)));
    keep(&mut out, &mut m, &["featureFlags"]);
    out
}

fn step_artifact(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name"]);
    let values = list_of(take(&mut m, "values"), |mut v| {
        let mut out = Obj::new();
        keep(&mut out, &mut v, &["uri", "digest"]);
        out
    });
    put(&mut out, "values", values);
    out
}

fn step_state(mut m: Obj) -> Obj {
    let reason = m
        .get("terminated")
        .and_then(Value::as_object)
        .and_then(|t| str_field(t, "reason"))
        .filter(|r| !r.is_empty())
        .map(|r| Value::String(r.to_owned()));
    let mut out = Obj::new();
    keep(
        &mut out,
        &mut m,
        &[
            "waiting",
            "running",
            "terminated",
            "name",
            "container",
            "imageID",
        ],
    );
    put(
        &mut out,
        "results",
        list_of(take(&mut m, "results"), run_result),
    );
    put(
        &mut out,
        "provenance",
        take(&mut m, "provenance").map(|v| obj(v, provenance)),
    );
    put(&mut out, "terminationReason", reason);
    put(
        &mut out,
        "outputs",
        list_of(take(&mut m, "outputs"), step_artifact),
    );
    put(
        &mut out,
        "inputs",
        list_of(take(&mut m, "inputs"), step_artifact),
    );
    out
}

fn sidecar_state(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(
        &mut out,
        &mut m,
        &[
            "waiting",
            "running",
            "terminated",
            "name",
            "container",
            "imageID",
        ],
    );
    out
}

fn taskrun_status(mut m: Obj, run_name: &str, deprecations: &mut Deprecations) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &DUCK_STATUS);
    keep(
        &mut out,
        &mut m,
        &["podName", "startTime", "completionTime"],
    );
    put(
        &mut out,
        "steps",
        list_of(take(&mut m, "steps"), step_state),
    );
    let retries = list_of(take(&mut m, "retriesStatus"), |r| {
        taskrun_status(r, run_name, deprecations)
    });
    put(&mut out, "retriesStatus", retries);
    put(
        &mut out,
        "results",
        list_of(take(&mut m, "taskResults"), run_result),
    );
    put(
        &mut out,
        "sidecars",
        list_of(take(&mut m, "sidecars"), sidecar_state),
    );
    let spec = take(&mut m, "taskSpec").map(|v| obj(v, |t| task_spec(t, run_name, deprecations)));
    put(&mut out, "taskSpec", spec);
    put(
        &mut out,
        "provenance",
        take(&mut m, "provenance").map(|v| obj(v, provenance)),
    );
    out
}

fn skipped_task(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &["name", "reason"]);
    put(
        &mut out,
        "whenExpressions",
        when_expressions(take(&mut m, "whenExpressions")),
    );
    out
}

fn child_reference(mut m: Obj) -> Obj {
    let mut out = Obj::new();
    keep(
        &mut out,
        &mut m,
        &[
            "apiVersion",
            "kind",
            "name",
            "displayName",
            "pipelineTaskName",
        ],
    );
    put(
        &mut out,
        "whenExpressions",
        when_expressions(take(&mut m, "whenExpressions")),
    );
    out
}

/// Child references for the entries of a legacy `status.taskRuns` / `status.runs` map.
fn legacy_child_references(v: Option<Value>, api_version: &str, kind: &str, out: &mut Vec<Value>) {
    let Some(Value::Object(children)) = v else {
        return;
    };
    let mut children: Vec<(String, Value)> = children.into_iter().collect();
    children.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut child) in children {
        let mut r = Obj::new();
        r.insert(
            "apiVersion".to_owned(),
            Value::String(api_version.to_owned()),
        );
        r.insert("kind".to_owned(), Value::String(kind.to_owned()));
        r.insert("name".to_owned(), Value::String(name));
        if let Value::Object(child) = &mut child {
            keep(&mut r, child, &["pipelineTaskName"]);
            put(
                &mut r,
                "whenExpressions",
                when_expressions(take(child, "whenExpressions")),
            );
        }
        out.push(Value::Object(r));
    }
}

fn pipelinerun_status(mut m: Obj, deprecations: &mut Deprecations) -> Obj {
    let mut out = Obj::new();
    keep(&mut out, &mut m, &DUCK_STATUS);
    keep(&mut out, &mut m, &["startTime", "completionTime"]);
    put(
        &mut out,
        "results",
        list_of(take(&mut m, "pipelineResults"), pipelinerun_result),
    );
    let spec = take(&mut m, "pipelineSpec").map(|v| obj(v, |p| pipeline_spec(p, deprecations)));
    put(&mut out, "pipelineSpec", spec);
    put(
        &mut out,
        "skippedTasks",
        list_of(take(&mut m, "skippedTasks"), skipped_task),
    );
    let mut children = list_of(take(&mut m, "childReferences"), child_reference);
    if children.is_none() {
        let mut legacy = Vec::new();
        legacy_child_references(
            take(&mut m, "taskRuns"),
            "tekton.dev/v1beta1",
            "TaskRun",
            &mut legacy,
        );
        legacy_child_references(
            take(&mut m, "runs"),
            "tekton.dev/v1alpha1",
            "Run",
            &mut legacy,
        );
        children = (!legacy.is_empty()).then_some(Value::Array(legacy));
    }
    put(&mut out, "childReferences", children);
    keep(&mut out, &mut m, &["finallyStartTime"]);
    put(
        &mut out,
        "provenance",
        take(&mut m, "provenance").map(|v| obj(v, provenance)),
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Go `encoding/json` output of the structs stored in annotations.

/// Shape of a Go value, enough to print it the way `encoding/json` does.
#[derive(Clone, Copy)]
enum Go {
    /// `string`: zero value `""`.
    Str,
    /// `bool`: zero value `false`.
    Bool,
    /// An integer: zero value `0`.
    Int,
    /// Tekton's `ResultType`, an integer read from a number or a name.
    ResultType,
    /// Anything else, printed as it is: zero value `null`.
    Any,
    /// A struct value (never omitted, zero value prints every field's zero value).
    Struct(&'static [Field]),
    /// A pointer: zero value `null`.
    Ptr(&'static Go),
    /// A slice: zero value `null`.
    List(&'static Go),
    /// A map with string keys, printed in sorted key order: zero value `null`.
    Map(&'static Go),
}

/// A struct field: JSON key, shape, `omitempty`.
type Field = (&'static str, Go, bool);

const OMIT: bool = true;
const KEEP: bool = false;

const CONTAINER_PORT: Go = Go::Struct(&[
    ("name", Go::Str, OMIT),
    ("hostPort", Go::Int, OMIT),
    ("containerPort", Go::Int, KEEP),
    ("protocol", Go::Str, OMIT),
    ("hostIP", Go::Str, OMIT),
]);

/// `corev1.ResourceRequirements` that is never set in the records: prints as `{}`.
const EMPTY_STRUCT: Go = Go::Struct(&[]);

/// A v1beta1 `Step` holding only its deprecated fields.
const DEPRECATED_STEP: Go = Go::Struct(&[
    ("name", Go::Str, KEEP),
    ("ports", Go::List(&CONTAINER_PORT), OMIT),
    ("resources", EMPTY_STRUCT, OMIT),
    ("livenessProbe", Go::Any, OMIT),
    ("readinessProbe", Go::Any, OMIT),
    ("startupProbe", Go::Any, OMIT),
    ("lifecycle", Go::Any, OMIT),
    ("terminationMessagePath", Go::Str, OMIT),
    ("terminationMessagePolicy", Go::Str, OMIT),
    ("stdin", Go::Bool, OMIT),
    ("stdinOnce", Go::Bool, OMIT),
    ("tty", Go::Bool, OMIT),
]);

/// A v1beta1 `StepTemplate` holding only its deprecated fields.
const DEPRECATED_STEP_TEMPLATE: Go = Go::Struct(&[
    ("name", Go::Str, OMIT),
    ("ports", Go::List(&CONTAINER_PORT), OMIT),
    ("resources", EMPTY_STRUCT, OMIT),
    ("livenessProbe", Go::Any, OMIT),
    ("readinessProbe", Go::Any, OMIT),
    ("startupProbe", Go::Any, OMIT),
    ("lifecycle", Go::Any, OMIT),
    ("terminationMessagePath", Go::Str, OMIT),
    ("terminationMessagePolicy", Go::Str, OMIT),
    ("stdin", Go::Bool, OMIT),
    ("stdinOnce", Go::Bool, OMIT),
    ("tty", Go::Bool, OMIT),
]);

const TASK_DEPRECATION: Go = Go::Struct(&[
    ("deprecatedSteps", Go::List(&DEPRECATED_STEP), OMIT),
    (
        "deprecatedStepTemplate",
        Go::Ptr(&DEPRECATED_STEP_TEMPLATE),
        OMIT,
    ),
]);

const TASK_DEPRECATIONS: Go = Go::Map(&TASK_DEPRECATION);

const RESOURCE_REF: Go = Go::Struct(&[("name", Go::Str, OMIT), ("apiVersion", Go::Str, OMIT)]);

const RESOURCE_PARAM: Go = Go::Struct(&[("name", Go::Str, KEEP), ("value", Go::Str, KEEP)]);

const SECRET_PARAM: Go = Go::Struct(&[
    ("fieldName", Go::Str, KEEP),
    ("secretKey", Go::Str, KEEP),
    ("secretName", Go::Str, KEEP),
]);

const RESOURCE_SPEC: Go = Go::Struct(&[
    ("description", Go::Str, OMIT),
    ("type", Go::Str, KEEP),
    ("params", Go::List(&RESOURCE_PARAM), KEEP),
    ("secrets", Go::List(&SECRET_PARAM), OMIT),
]);

const PIPELINE_RESOURCE_BINDING: Go = Go::Struct(&[
    ("name", Go::Str, OMIT),
    ("resourceRef", Go::Ptr(&RESOURCE_REF), OMIT),
    ("resourceSpec", Go::Ptr(&RESOURCE_SPEC), OMIT),
]);

const PIPELINE_RESOURCE_BINDINGS: Go = Go::List(&PIPELINE_RESOURCE_BINDING);

const TASK_RESOURCE_BINDING: Go = Go::Struct(&[
    ("name", Go::Str, OMIT),
    ("resourceRef", Go::Ptr(&RESOURCE_REF), OMIT),
    ("resourceSpec", Go::Ptr(&RESOURCE_SPEC), OMIT),
    ("paths", Go::List(&Go::Str), OMIT),
]);

const TASKRUN_RESOURCES: Go = Go::Struct(&[
    ("inputs", Go::List(&TASK_RESOURCE_BINDING), OMIT),
    ("outputs", Go::List(&TASK_RESOURCE_BINDING), OMIT),
]);

const RESOURCE_DECLARATION: Go = Go::Struct(&[
    ("name", Go::Str, KEEP),
    ("type", Go::Str, KEEP),
    ("description", Go::Str, OMIT),
    ("targetPath", Go::Str, OMIT),
    ("optional", Go::Bool, OMIT),
]);

const TASK_RESOURCES: Go = Go::Struct(&[
    ("inputs", Go::List(&RESOURCE_DECLARATION), OMIT),
    ("outputs", Go::List(&RESOURCE_DECLARATION), OMIT),
]);

const RUN_RESULT: Go = Go::Struct(&[
    ("key", Go::Str, KEEP),
    ("value", Go::Str, KEEP),
    ("resourceName", Go::Str, OMIT),
    ("type", Go::ResultType, OMIT),
]);

const RUN_RESULTS: Go = Go::List(&RUN_RESULT);

const CLOUD_EVENT_STATE: Go = Go::Struct(&[
    ("condition", Go::Str, OMIT),
    ("sentAt", Go::Any, OMIT),
    ("message", Go::Str, KEEP),
    ("retryCount", Go::Int, KEEP),
]);

const CLOUD_EVENT: Go = Go::Struct(&[
    ("target", Go::Str, OMIT),
    ("status", CLOUD_EVENT_STATE, OMIT),
]);

const CLOUD_EVENTS: Go = Go::List(&CLOUD_EVENT);

/// Print `v`, a value of shape `shape`, as Go's `json.Marshal` would.
fn go_json(shape: Go, v: &Value) -> String {
    let mut out = String::new();
    go_write(&mut out, shape, Some(v));
    out
}

fn result_type_code(name: &str) -> u32 {
    match name {
        "TaskRunResult" => 1,
        "InternalTektonResult" => 3,
        "StepResult" => 4,
        "StepArtifactsResult" => 5,
        "TaskRunArtifactsResult" => 6,
        _ => 10,
    }
}

/// Whether Go's `omitempty` leaves the field out.
fn go_is_empty(shape: Go, v: Option<&Value>) -> bool {
    match (shape, present(v)) {
        (Go::Struct(_), _) => false,
        (_, None) => true,
        (Go::ResultType, Some(Value::String(_))) => false,
        (_, Some(Value::Object(m))) => matches!(shape, Go::Map(_)) && m.is_empty(),
        (_, v) => !truthy(v),
    }
}

fn go_write(out: &mut String, shape: Go, v: Option<&Value>) {
    match (shape, present(v)) {
        (Go::Str, None) => out.push_str("\"\""),
        (Go::Bool, None) => out.push_str("false"),
        (Go::Int | Go::ResultType, None) => out.push('0'),
        (Go::Any | Go::Ptr(_) | Go::List(_) | Go::Map(_), None) => out.push_str("null"),
        (Go::Struct(fields), None) => go_write_struct(out, fields, None),
        (Go::Struct(fields), Some(Value::Object(m))) => go_write_struct(out, fields, Some(m)),
        (Go::Ptr(inner), Some(v)) => go_write(out, *inner, Some(v)),
        (Go::List(inner), Some(Value::Array(items))) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_write(out, *inner, Some(item));
            }
            out.push(']');
        }
        (Go::Map(inner), Some(Value::Object(m))) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(out, key);
                out.push(':');
                go_write(out, *inner, m.get(key));
            }
            out.push('}');
        }
        (Go::ResultType, Some(Value::String(name))) => {
            out.push_str(&result_type_code(name).to_string());
        }
        (_, Some(v)) => go_write_any(out, v),
    }
}

fn go_write_struct(out: &mut String, fields: &[Field], m: Option<&Obj>) {
    out.push('{');
    let mut first = true;
    for &(key, shape, omitempty) in fields {
        let v = m.and_then(|m| m.get(key));
        if omitempty && go_is_empty(shape, v) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        go_string(out, key);
        out.push(':');
        go_write(out, shape, v);
    }
    out.push('}');
}

fn go_write_any(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => go_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_write_any(out, item);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (key, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(out, key);
                out.push(':');
                go_write_any(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string escaped like Go's `encoding/json` (HTML-safe: `<`, `>`, `&`, U+2028 and
/// U+2029 as `\u` escapes).
fn go_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                let code = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(HEX[((code >> shift) & 0xf) as usize]));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tr(spec: Value, status: Value) -> Value {
        taskrun_to_v1(json!({
            "apiVersion": "tekton.dev/v1beta1",
            "kind": "TaskRun",
            "metadata": {"name": "run", "namespace": "ns"},
            "spec": spec,
            "status": status,
        }))
    }

    fn pr(spec: Value, status: Value) -> Value {
        pipelinerun_to_v1(json!({
            "apiVersion": "tekton.dev/v1beta1",
            "kind": "PipelineRun",
            "metadata": {"name": "prun", "namespace": "ns"},
            "spec": spec,
            "status": status,
        }))
    }

    fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
        v["metadata"]["annotations"][key].as_str()
    }

    #[test]
    fn top_level_and_metadata() {
        let meta = json!({
            "name": "run", "namespace": "ns", "uid": "u-1",
            "labels": {"a": "b"}, "annotations": {"c": "d"},
            "ownerReferences": [{"kind": "PipelineRun", "name": "p", "uid": "u-0"}],
        });
        let out = taskrun_to_v1(json!({
            "apiVersion": "tekton.dev/v1beta1", "kind": "TaskRun",
            "metadata": meta.clone(), "spec": {}, "extra": 1,
        }));
        assert_eq!(
            out,
            json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "metadata": meta, "spec": {}})
        );
        let out =
            pipelinerun_to_v1(json!({"apiVersion": "tekton.dev/v1beta1", "kind": "PipelineRun"}));
        assert_eq!(
            out,
            json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun"})
        );
    }

    #[test]
    fn params_are_normalised() {
        let out = tr(
            json!({"params": [
                {"name": "s", "value": "x"},
                {"name": "a", "value": ["x", null]},
                {"name": "o", "value": {"k": "v"}},
                {"name": "missing"},
                {"name": "n", "value": 42},
                {"name": "nested", "value": ["x", 1]},
                {"name": "deep", "value": {"k": {"x": "y"}}},
            ]}),
            json!(null),
        );
        assert_eq!(
            out["spec"]["params"],
            json!([
                {"name": "s", "value": "x"},
                {"name": "a", "value": ["x", ""]},
                {"name": "o", "value": {"k": "v"}},
                {"name": "missing", "value": ""},
                {"name": "n", "value": "42"},
                {"name": "nested", "value": "[\"x\",1]"},
                {"name": "deep", "value": "{\"k\":{\"x\":\"y\"}}"},
            ])
        );
        assert!(out.get("status").is_none());
        // An empty list is left out, as with Go's omitempty.
        assert!(
            tr(json!({"params": []}), json!(null))["spec"]
                .get("params")
                .is_none()
        );
    }

    #[test]
    fn task_ref_plain_and_resolver() {
        let out = tr(
            json!({"taskRef": {
                "name": "t", "kind": "ClusterTask", "apiVersion": "v", "junk": 1,
                "resolver": "git", "params": [{"name": "url", "value": "https://x"}],
            }}),
            json!(null),
        );
        assert_eq!(
            out["spec"]["taskRef"],
            json!({
                "name": "t", "kind": "ClusterTask", "apiVersion": "v",
                "resolver": "git", "params": [{"name": "url", "value": "https://x"}],
            })
        );
    }

    #[test]
    fn task_ref_bundle_becomes_bundles_resolver() {
        let out = tr(
            json!({"taskRef": {"name": "build", "kind": "Task", "bundle": "reg.io/b@sha256:1"}}),
            json!(null),
        );
        assert_eq!(
            out["spec"]["taskRef"],
            json!({"resolver": "bundles", "params": [
                {"name": "bundle", "value": "reg.io/b@sha256:1"},
                {"name": "name", "value": "build"},
                {"name": "kind", "value": "Task"},
            ]})
        );
        // An empty bundle is no bundle.
        let out = tr(
            json!({"taskRef": {"name": "build", "bundle": ""}}),
            json!(null),
        );
        assert_eq!(out["spec"]["taskRef"], json!({"name": "build"}));
    }

    #[test]
    fn pipeline_ref_bundle_becomes_bundles_resolver() {
        let out = pr(
            json!({"pipelineRef": {"name": "p", "apiVersion": "x", "bundle": "reg.io/p:1"}}),
            json!(null),
        );
        assert_eq!(
            out["spec"]["pipelineRef"],
            json!({"apiVersion": "x", "resolver": "bundles", "params": [
                {"name": "bundle", "value": "reg.io/p:1"},
                {"name": "name", "value": "p"},
                {"name": "kind", "value": "Pipeline"},
            ]})
        );
        let out = pr(
            json!({"pipelineRef": {"name": "p", "kind": "Pipeline"}}),
            json!(null),
        );
        assert_eq!(out["spec"]["pipelineRef"], json!({"name": "p"}));
    }

    #[test]
    fn task_spec_conversion() {
        let out = tr(
            json!({"taskSpec": {
                "resources": {"inputs": [{"name": "src", "type": "git"}]},
                "params": [
                    {"name": "p"},
                    {"name": "a", "type": "array", "default": ["x"]},
                    {"name": "o", "type": "object", "properties": {"k": {"type": "string", "x": 1}},
                     "default": {"k": "v"}, "description": "d", "enum": ["1"]},
                    {"name": "e", "type": ""},
                ],
                "results": [
                    {"name": "r", "description": "d"},
                    {"name": "ra", "type": "array"},
                    {"name": "ro", "type": "object", "properties": {"url": {"type": "string"}}},
                    {"name": "rv", "value": "$(steps.s.results.x)"},
                ],
                "steps": [{
                    "name": "s", "image": "alpine", "script": "echo", "args": ["a"],
                    "resources": {"limits": {"cpu": "1"}},
                    "workspaces": [{"name": "w", "mountPath": "/w", "x": 1}],
                    "onError": "continue", "stdoutConfig": {"path": "/o"},
                    "ref": {"name": "action"},
                    "params": [{"name": "p", "value": "v"}],
                    "results": [{"name": "sr"}],
                    "when": [{"input": "a", "operator": "in", "values": ["a"]}],
                }],
                "stepTemplate": {"image": "base", "env": [{"name": "A", "value": "1"}],
                                 "resources": {"requests": {"memory": "1Gi"}}},
                "sidecars": [{"name": "sc", "image": "redis", "resources": {"limits": {"cpu": "2"}},
                              "ports": [{"containerPort": 6379}], "restartPolicy": "Always"}],
                "workspaces": [{"name": "w", "readOnly": true, "bogus": 1}],
                "volumes": [{"name": "v", "emptyDir": {}}],
                "displayName": "D", "description": "desc",
            }}),
            json!(null),
        );
        assert_eq!(
            out["spec"]["taskSpec"],
            json!({
                "params": [
                    {"name": "p", "type": "string"},
                    {"name": "a", "type": "array", "default": ["x"]},
                    {"name": "o", "type": "object", "properties": {"k": {"type": "string"}},
                     "default": {"k": "v"}, "description": "d", "enum": ["1"]},
                    {"name": "e", "type": "string"},
                ],
                "results": [
                    {"name": "r", "description": "d"},
                    {"name": "ra", "type": "array"},
                    {"name": "ro", "type": "object", "properties": {"url": {"type": "string"}}},
                    {"name": "rv", "value": "$(steps.s.results.x)"},
                ],
                "steps": [{
                    "name": "s", "image": "alpine", "script": "echo", "args": ["a"],
                    "computeResources": {"limits": {"cpu": "1"}},
                    "workspaces": [{"name": "w", "mountPath": "/w"}],
                    "onError": "continue", "stdoutConfig": {"path": "/o"},
                    "ref": {"name": "action"},
                    "params": [{"name": "p", "value": "v"}],
                    "results": [{"name": "sr"}],
                    "when": [{"input": "a", "operator": "in", "values": ["a"]}],
                }],
                "stepTemplate": {"image": "base", "env": [{"name": "A", "value": "1"}],
                                 "computeResources": {"requests": {"memory": "1Gi"}}},
                "sidecars": [{"name": "sc", "image": "redis", "computeResources": {"limits": {"cpu": "2"}},
                              "ports": [{"containerPort": 6379}], "restartPolicy": "Always"}],
                "workspaces": [{"name": "w", "readOnly": true}],
                "volumes": [{"name": "v", "emptyDir": {}}],
                "displayName": "D", "description": "desc",
            })
        );
        // spec.taskSpec.resources is dropped without an annotation (only spec.resources and
        // status.taskSpec.resources are carried).
        assert!(out["metadata"].get("annotations").is_none());
    }

    #[test]
    fn deprecated_step_fields_go_to_annotation() {
        let out = tr(
            json!({"taskSpec": {
                "steps": [
                    {"name": "a", "image": "i", "tty": true,
                     "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    {"name": "b", "image": "i", "stdin": false},
                ],
                "stepTemplate": {"name": "tmpl", "image": "base", "terminationMessagePath": "/t<x>"},
            }}),
            json!(null),
        );
        assert_eq!(
            out["spec"]["taskSpec"],
            json!({"steps": [{"name": "a", "image": "i"}, {"name": "b", "image": "i"}],
                   "stepTemplate": {"image": "base"}})
        );
        assert_eq!(
            annotation(&out, TASK_DEPRECATIONS_ANNOTATION).unwrap(),
            concat!(
                r#"{"run":{"deprecatedSteps":["#,
                r#"{"name":"","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{},"tty":true},"#,
                r#"{"name":"","resources":{}}],"#,
                r#""deprecatedStepTemplate":{"name":"tmpl","resources":{},"terminationMessagePath":"/t\u003cx\u003e"}}}"#
            )
        );
        // Only livenessProbe on the template does not count as deprecated usage.
        let out = tr(
            json!({"taskSpec": {"steps": [{"name": "a"}], "stepTemplate": {"livenessProbe": {}}}}),
            json!(null),
        );
        assert!(out["metadata"].get("annotations").is_none());
        assert_eq!(
            out["spec"]["taskSpec"],
            json!({"steps": [{"name": "a"}], "stepTemplate": {}})
        );
    }

    #[test]
    fn deprecations_in_pipeline_tasks_are_keyed_by_task_name() {
        let out = pipelinerun_to_v1(json!({
            "apiVersion": "tekton.dev/v1beta1", "kind": "PipelineRun",
            "metadata": {"name": "prun", "annotations": {
                TASK_DEPRECATIONS_ANNOTATION: r#"{"old":{"deprecatedSteps":[{"stdin":true}]}}"#,
            }},
            "spec": {"pipelineSpec": {
                "tasks": [{"name": "t1", "taskSpec": {"steps": [{"name": "s", "stdinOnce": true}]}}],
                "finally": [{"name": "f1", "taskSpec": {"steps": [{"name": "s"}]}}],
            }},
        }));
        assert_eq!(
            annotation(&out, TASK_DEPRECATIONS_ANNOTATION).unwrap(),
            concat!(
                r#"{"old":{"deprecatedSteps":[{"name":"","resources":{},"stdin":true}]},"#,
                r#""t1":{"deprecatedSteps":[{"name":"","resources":{},"stdinOnce":true}]}}"#
            )
        );
    }

    #[test]
    fn taskrun_spec_fields() {
        let out = tr(
            json!({
                "serviceAccountName": "sa", "status": "TaskRunCancelled", "statusMessage": "m",
                "retries": 2, "timeout": "1h0m0s", "podTemplate": {"nodeSelector": {"a": "b"}},
                "workspaces": [{"name": "w", "emptyDir": {}, "subPath": "x", "bogus": 1}],
                "stepOverrides": [{"name": "s", "resources": {"limits": {"cpu": "1"}}}],
                "sidecarOverrides": [{"name": "c", "resources": {"requests": {"cpu": "2"}}}],
                "computeResources": {"limits": {"memory": "1Gi"}},
                "debug": {"breakpoints": {"onFailure": "enabled", "beforeSteps": []}},
                "resources": {"inputs": [{"name": "src", "resourceRef": {"name": "git"}, "paths": ["/p"]}]},
                "managedBy": "someone",
            }),
            json!(null),
        );
        assert_eq!(
            out["spec"],
            json!({
                "serviceAccountName": "sa", "status": "TaskRunCancelled", "statusMessage": "m",
                "retries": 2, "timeout": "1h0m0s", "podTemplate": {"nodeSelector": {"a": "b"}},
                "workspaces": [{"name": "w", "emptyDir": {}, "subPath": "x"}],
                "stepSpecs": [{"name": "s", "computeResources": {"limits": {"cpu": "1"}}}],
                "sidecarSpecs": [{"name": "c", "computeResources": {"requests": {"cpu": "2"}}}],
                "computeResources": {"limits": {"memory": "1Gi"}},
                "debug": {"breakpoints": {"onFailure": "enabled"}},
            })
        );
        assert_eq!(
            annotation(&out, RESOURCES_ANNOTATION).unwrap(),
            r#"{"inputs":[{"name":"src","resourceRef":{"name":"git"},"paths":["/p"]}]}"#
        );
    }

    #[test]
    fn taskrun_status_fields() {
        let out = tr(
            json!({}),
            json!({
                "observedGeneration": 1,
                "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                "annotations": {"x": "y"},
                "podName": "pod", "startTime": "2024-01-01T00:00:00Z",
                "completionTime": "2024-01-01T00:01:00Z",
                "taskResults": [{"name": "digest", "type": "string", "value": "sha256:1"},
                                {"name": "arr", "type": "array", "value": ["a"]}],
                "steps": [{
                    "name": "build", "container": "step-build", "imageID": "docker.io/x@sha256:2",
                    "terminated": {"exitCode": 0, "reason": "Completed", "message": "m"},
                    "results": [{"name": "sr", "value": "v"}],
                    "provenance": {"configSource": {"uri": "u"}},
                    "outputs": [{"name": "image", "values": [{"uri": "oci://x", "digest": {"sha256": "3"}}]}],
                }],
                "sidecars": [{"name": "sc", "container": "sidecar-sc", "imageID": "i",
                              "running": {"startedAt": "t"}, "bogus": 1}],
                "provenance": {
                    "configSource": {"uri": "git+https://x", "digest": {"sha1": "a"}, "entryPoint": "t.yaml"},
                    "featureFlags": {"EnableAPIFields": "beta"},
                },
                "cloudEvents": [{"target": "http://sink", "status": {"condition": "Sent", "retryCount": 1}}],
                "resourcesResult": [{"key": "digest", "value": "x", "type": "TaskRunResult"},
                                    {"key": "k", "value": "v", "resourceName": "r", "type": 3}],
                "spanContext": {"traceparent": "x"},
            }),
        );
        assert_eq!(
            out["status"],
            json!({
                "observedGeneration": 1,
                "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                "annotations": {"x": "y"},
                "podName": "pod", "startTime": "2024-01-01T00:00:00Z",
                "completionTime": "2024-01-01T00:01:00Z",
                "results": [{"name": "digest", "type": "string", "value": "sha256:1"},
                            {"name": "arr", "type": "array", "value": ["a"]}],
                "steps": [{
                    "name": "build", "container": "step-build", "imageID": "docker.io/x@sha256:2",
                    "terminated": {"exitCode": 0, "reason": "Completed", "message": "m"},
                    "terminationReason": "Completed",
                    "results": [{"name": "sr", "value": "v"}],
                    "provenance": {"refSource": {"uri": "u"}},
                    "outputs": [{"name": "image", "values": [{"uri": "oci://x", "digest": {"sha256": "3"}}]}],
                }],
                "sidecars": [{"name": "sc", "container": "sidecar-sc", "imageID": "i",
                              "running": {"startedAt": "t"}}],
                "provenance": {
                    "refSource": {"uri": "git+https://x", "digest": {"sha1": "a"}, "entryPoint": "t.yaml"},
                    "featureFlags": {"EnableAPIFields": "beta"},
                },
            })
        );
        assert_eq!(
            annotation(&out, CLOUD_EVENTS_ANNOTATION).unwrap(),
            r#"[{"target":"http://sink","status":{"condition":"Sent","message":"","retryCount":1}}]"#
        );
        assert_eq!(
            annotation(&out, RESOURCES_RESULT_ANNOTATION).unwrap(),
            r#"[{"key":"digest","value":"x","type":1},{"key":"k","value":"v","resourceName":"r","type":3}]"#
        );
    }

    #[test]
    fn ref_source_wins_over_config_source() {
        let out = tr(
            json!({}),
            json!({"provenance": {"configSource": {"uri": "old"}, "refSource": {"uri": "new", "x": 1}}}),
        );
        assert_eq!(
            out["status"]["provenance"],
            json!({"refSource": {"uri": "new"}})
        );
    }

    #[test]
    fn status_task_spec_and_retries() {
        let out = tr(
            json!({}),
            json!({
                "taskSpec": {
                    "resources": {"inputs": [{"name": "src", "type": "git", "targetPath": "s"}]},
                    "steps": [{"name": "s", "image": "i", "resources": {}}],
                },
                "retriesStatus": [{"podName": "p0", "taskResults": [{"name": "r", "value": "1"}],
                                   "cloudEvents": []}],
            }),
        );
        assert_eq!(
            out["status"],
            json!({
                "taskSpec": {"steps": [{"name": "s", "image": "i", "computeResources": {}}]},
                "retriesStatus": [{"podName": "p0", "results": [{"name": "r", "value": "1"}]}],
            })
        );
        assert_eq!(
            annotation(&out, RESOURCES_STATUS_ANNOTATION).unwrap(),
            r#"{"inputs":[{"name":"src","type":"git","targetPath":"s"}]}"#
        );
        assert!(annotation(&out, CLOUD_EVENTS_ANNOTATION).is_none());
    }

    #[test]
    fn pipelinerun_service_account_pod_template_timeout() {
        let out = pr(
            json!({
                "serviceAccountName": "sa", "podTemplate": {"securityContext": {"runAsUser": 1}},
                "timeout": "1h0m0s", "timeouts": {"tasks": "30m0s"}, "status": "Cancelled",
                "serviceAccountNames": [{"taskName": "t", "serviceAccountName": "x"}],
                "managedBy": "x",
            }),
            json!(null),
        );
        assert_eq!(
            out["spec"],
            json!({
                "taskRunTemplate": {"serviceAccountName": "sa",
                                    "podTemplate": {"securityContext": {"runAsUser": 1}}},
                "timeouts": {"pipeline": "1h0m0s"}, "status": "Cancelled",
            })
        );
        let out = pr(
            json!({"timeouts": {"pipeline": "2h", "tasks": "1h", "finally": "30m", "x": 1}}),
            json!(null),
        );
        assert_eq!(
            out["spec"],
            json!({"timeouts": {"pipeline": "2h", "tasks": "1h", "finally": "30m"}})
        );
    }

    #[test]
    fn pipelinerun_task_run_specs_and_workspaces() {
        let out = pr(
            json!({
                "taskRunSpecs": [{
                    "pipelineTaskName": "build", "taskServiceAccountName": "sa",
                    "taskPodTemplate": {"nodeSelector": {"a": "b"}},
                    "stepOverrides": [{"name": "s", "resources": {"limits": {"cpu": "1"}}}],
                    "sidecarOverrides": [{"name": "c", "resources": {}}],
                    "metadata": {"labels": {"l": "1"}, "annotations": {"a": "2"}},
                    "computeResources": {"limits": {"cpu": "2"}}, "timeout": "5m",
                }],
                "workspaces": [{"name": "w", "volumeClaimTemplate": {"spec": {}}}],
                "resources": [{"name": "src", "resourceSpec": {"type": "git", "params": [{"name": "url", "value": "u"}]}}],
            }),
            json!(null),
        );
        assert_eq!(
            out["spec"],
            json!({
                "taskRunSpecs": [{
                    "pipelineTaskName": "build", "serviceAccountName": "sa",
                    "podTemplate": {"nodeSelector": {"a": "b"}},
                    "stepSpecs": [{"name": "s", "computeResources": {"limits": {"cpu": "1"}}}],
                    "sidecarSpecs": [{"name": "c", "computeResources": {}}],
                    "metadata": {"labels": {"l": "1"}, "annotations": {"a": "2"}},
                    "computeResources": {"limits": {"cpu": "2"}}, "timeout": "5m",
                }],
                "workspaces": [{"name": "w", "volumeClaimTemplate": {"spec": {}}}],
            })
        );
        assert_eq!(
            annotation(&out, RESOURCES_ANNOTATION).unwrap(),
            r#"[{"name":"src","resourceSpec":{"type":"git","params":[{"name":"url","value":"u"}]}}]"#
        );
    }

    #[test]
    fn pipeline_spec_conversion() {
        let out = pr(
            json!({"pipelineSpec": {
                "displayName": "P", "description": "d",
                "resources": [{"name": "src", "type": "git"}],
                "params": [{"name": "p"}],
                "workspaces": [{"name": "w", "optional": true, "mountPath": "/x"}],
                "results": [{"name": "r", "description": "", "value": "$(tasks.t.results.x)"}],
                "tasks": [
                    {"name": "t", "taskRef": {"name": "build", "bundle": "b:1"},
                     "params": [{"name": "p", "value": "$(params.p)"}],
                     "when": [{"input": "x", "operator": "in", "values": ["x"]}],
                     "runAfter": ["a"], "retries": 1, "timeout": "1m", "onError": "continue",
                     "workspaces": [{"name": "w", "workspace": "w", "subPath": "s"}],
                     "resources": {"inputs": [{"name": "src", "resource": "src"}]},
                     "matrix": {"params": [{"name": "m", "value": ["1", "2"]}],
                                "include": [{"name": "i", "params": [{"name": "x", "value": "y"}]}]}},
                    {"name": "e", "taskSpec": {
                        "apiVersion": "example.dev/v1", "kind": "Custom", "spec": {"any": 1},
                        "metadata": {"labels": {"l": "v"}},
                        "steps": [{"name": "s", "image": "i", "resources": {"limits": {"cpu": "1"}}}],
                        "params": [{"name": "q"}],
                     }, "matrix": {"params": []}},
                    {"name": "pip", "pipelineRef": {"name": "child"}},
                ],
                "finally": [{"name": "f", "taskRef": {"name": "cleanup"}}],
            }}),
            json!(null),
        );
        assert_eq!(
            out["spec"]["pipelineSpec"],
            json!({
                "displayName": "P", "description": "d",
                "params": [{"name": "p", "type": "string"}],
                "workspaces": [{"name": "w", "optional": true}],
                "results": [{"name": "r", "description": "", "value": "$(tasks.t.results.x)"}],
                "tasks": [
                    {"name": "t", "taskRef": {"resolver": "bundles", "params": [
                        {"name": "bundle", "value": "b:1"}, {"name": "name", "value": "build"},
                        {"name": "kind", "value": "Task"}]},
                     "params": [{"name": "p", "value": "$(params.p)"}],
                     "when": [{"input": "x", "operator": "in", "values": ["x"]}],
                     "runAfter": ["a"], "retries": 1, "timeout": "1m", "onError": "continue",
                     "workspaces": [{"name": "w", "workspace": "w", "subPath": "s"}],
                     "matrix": {"params": [{"name": "m", "value": ["1", "2"]}],
                                "include": [{"name": "i", "params": [{"name": "x", "value": "y"}]}]}},
                    {"name": "e", "taskSpec": {
                        "apiVersion": "example.dev/v1", "kind": "Custom", "spec": {"any": 1},
                        "metadata": {"labels": {"l": "v"}},
                        "steps": [{"name": "s", "image": "i", "computeResources": {"limits": {"cpu": "1"}}}],
                        "params": [{"name": "q", "type": "string"}],
                    }},
                    {"name": "pip"},
                ],
                "finally": [{"name": "f", "taskRef": {"name": "cleanup"}}],
            })
        );
    }

    #[test]
    fn pipelinerun_status_fields() {
        let out = pr(
            json!({}),
            json!({
                "conditions": [{"type": "Succeeded", "status": "True"}],
                "startTime": "s", "completionTime": "c", "finallyStartTime": "f",
                "pipelineResults": [{"name": "r", "value": "v"}, {"name": "a", "value": ["1"]}],
                "pipelineSpec": {"tasks": [{"name": "t", "taskRef": {"name": "x"}}]},
                "skippedTasks": [{"name": "s", "reason": "When Expressions evaluated to false",
                                  "whenExpressions": [{"input": "a", "operator": "notin", "values": ["a"]}]}],
                "childReferences": [{"apiVersion": "tekton.dev/v1beta1", "kind": "TaskRun",
                                     "name": "prun-t", "pipelineTaskName": "t", "displayName": "T"}],
                "taskRuns": {"prun-t": {"pipelineTaskName": "t"}},
                "provenance": {"refSource": {"uri": "u"}, "featureFlags": {"a": 1}},
                "spanContext": {"x": "y"},
            }),
        );
        assert_eq!(
            out["status"],
            json!({
                "conditions": [{"type": "Succeeded", "status": "True"}],
                "startTime": "s", "completionTime": "c", "finallyStartTime": "f",
                "results": [{"name": "r", "value": "v"}, {"name": "a", "value": ["1"]}],
                "pipelineSpec": {"tasks": [{"name": "t", "taskRef": {"name": "x"}}]},
                "skippedTasks": [{"name": "s", "reason": "When Expressions evaluated to false",
                                  "whenExpressions": [{"input": "a", "operator": "notin", "values": ["a"]}]}],
                "childReferences": [{"apiVersion": "tekton.dev/v1beta1", "kind": "TaskRun",
                                     "name": "prun-t", "pipelineTaskName": "t", "displayName": "T"}],
                "provenance": {"refSource": {"uri": "u"}, "featureFlags": {"a": 1}},
            })
        );
    }

    #[test]
    fn legacy_embedded_child_statuses_become_child_references() {
        let out = pr(
            json!({}),
            json!({
                "taskRuns": {
                    "prun-b": {"pipelineTaskName": "b", "status": {"podName": "x"}},
                    "prun-a": {"pipelineTaskName": "a",
                               "whenExpressions": [{"input": "1", "operator": "in", "values": ["1"]}]},
                },
                "runs": {"prun-c": {"pipelineTaskName": "c"}},
            }),
        );
        assert_eq!(
            out["status"],
            json!({"childReferences": [
                {"apiVersion": "tekton.dev/v1beta1", "kind": "TaskRun", "name": "prun-a",
                 "pipelineTaskName": "a",
                 "whenExpressions": [{"input": "1", "operator": "in", "values": ["1"]}]},
                {"apiVersion": "tekton.dev/v1beta1", "kind": "TaskRun", "name": "prun-b",
                 "pipelineTaskName": "b"},
                {"apiVersion": "tekton.dev/v1alpha1", "kind": "Run", "name": "prun-c",
                 "pipelineTaskName": "c"},
            ]})
        );
    }

    #[test]
    fn full_taskrun() {
        let input = json!({
            "apiVersion": "tekton.dev/v1beta1",
            "kind": "TaskRun",
            "metadata": {
                "name": "build-run", "namespace": "default", "uid": "abc-123",
                "labels": {"tekton.dev/task": "build"},
                "annotations": {"chains.tekton.dev/signed": "true"},
            },
            "spec": {
                "params": [{"name": "IMAGE", "value": "reg.io/app"}],
                "serviceAccountName": "default",
                "taskRef": {"name": "build", "kind": "Task"},
                "timeout": "1h0m0s",
            },
            "status": {
                "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded",
                                "lastTransitionTime": "2024-05-01T10:01:00Z"}],
                "podName": "build-run-pod",
                "startTime": "2024-05-01T10:00:00Z",
                "completionTime": "2024-05-01T10:01:00Z",
                "steps": [{"name": "build", "container": "step-build",
                           "imageID": "docker.io/library/golang@sha256:aa",
                           "terminated": {"exitCode": 0, "reason": "Completed",
                                          "startedAt": "2024-05-01T10:00:05Z",
                                          "finishedAt": "2024-05-01T10:00:59Z",
                                          "containerID": "containerd://1"}}],
                "taskResults": [
                    {"name": "IMAGE_DIGEST", "type": "string", "value": "sha256:bb"},
                    {"name": "IMAGE_URL", "type": "string", "value": "reg.io/app"},
                ],
                "taskSpec": {
                    "params": [{"name": "IMAGE", "type": "string"}],
                    "results": [{"name": "IMAGE_DIGEST"}, {"name": "IMAGE_URL"}],
                    "steps": [{"name": "build", "image": "golang", "script": "go build",
                               "resources": {"requests": {"cpu": "500m"}}}],
                },
                "provenance": {
                    "configSource": {"uri": "git+https://github.com/o/r.git",
                                     "digest": {"sha1": "cafe"}, "entryPoint": "build.yaml"},
                    "featureFlags": {"RunningInEnvWithInjectedSidecars": true,
                                     "EnableAPIFields": "beta"},
                },
            },
        });
        let expected = json!({
            "apiVersion": "tekton.dev/v1",
            "kind": "TaskRun",
            "metadata": {
                "name": "build-run", "namespace": "default", "uid": "abc-123",
                "labels": {"tekton.dev/task": "build"},
                "annotations": {"chains.tekton.dev/signed": "true"},
            },
            "spec": {
                "params": [{"name": "IMAGE", "value": "reg.io/app"}],
                "serviceAccountName": "default",
                "taskRef": {"name": "build", "kind": "Task"},
                "timeout": "1h0m0s",
            },
            "status": {
                "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded",
                                "lastTransitionTime": "2024-05-01T10:01:00Z"}],
                "podName": "build-run-pod",
                "startTime": "2024-05-01T10:00:00Z",
                "completionTime": "2024-05-01T10:01:00Z",
                "steps": [{"name": "build", "container": "step-build",
                           "imageID": "docker.io/library/golang@sha256:aa",
                           "terminated": {"exitCode": 0, "reason": "Completed",
                                          "startedAt": "2024-05-01T10:00:05Z",
                                          "finishedAt": "2024-05-01T10:00:59Z",
                                          "containerID": "containerd://1"},
                           "terminationReason": "Completed"}],
                "results": [
                    {"name": "IMAGE_DIGEST", "type": "string", "value": "sha256:bb"},
                    {"name": "IMAGE_URL", "type": "string", "value": "reg.io/app"},
                ],
                "taskSpec": {
                    "params": [{"name": "IMAGE", "type": "string"}],
                    "results": [{"name": "IMAGE_DIGEST"}, {"name": "IMAGE_URL"}],
                    "steps": [{"name": "build", "image": "golang", "script": "go build",
                               "computeResources": {"requests": {"cpu": "500m"}}}],
                },
                "provenance": {
                    "refSource": {"uri": "git+https://github.com/o/r.git",
                                  "digest": {"sha1": "cafe"}, "entryPoint": "build.yaml"},
                    "featureFlags": {"RunningInEnvWithInjectedSidecars": true,
                                     "EnableAPIFields": "beta"},
                },
            },
        });
        assert_eq!(taskrun_to_v1(input), expected);
    }

    #[test]
    fn full_pipelinerun() {
        let input = json!({
            "apiVersion": "tekton.dev/v1beta1",
            "kind": "PipelineRun",
            "metadata": {"name": "ci-run", "namespace": "default", "uid": "p-1",
                         "labels": {"tekton.dev/pipeline": "ci"}},
            "spec": {
                "pipelineRef": {"name": "ci"},
                "params": [{"name": "revision", "value": "main"}],
                "serviceAccountName": "builder",
                "podTemplate": {"nodeSelector": {"kubernetes.io/os": "linux"}},
                "timeout": "2h0m0s",
                "workspaces": [{"name": "source", "persistentVolumeClaim": {"claimName": "src"}}],
            },
            "status": {
                "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                "startTime": "2024-05-01T10:00:00Z",
                "completionTime": "2024-05-01T10:10:00Z",
                "pipelineResults": [{"name": "IMAGE_DIGEST", "value": "sha256:bb"}],
                "pipelineSpec": {
                    "params": [{"name": "revision", "type": "string"}],
                    "results": [{"name": "IMAGE_DIGEST", "description": "",
                                 "value": "$(tasks.build.results.IMAGE_DIGEST)"}],
                    "tasks": [{"name": "build", "taskRef": {"name": "build", "kind": "Task"},
                               "params": [{"name": "rev", "value": "$(params.revision)"}]}],
                },
                "childReferences": [{"apiVersion": "tekton.dev/v1beta1", "kind": "TaskRun",
                                     "name": "ci-run-build", "pipelineTaskName": "build"}],
                "provenance": {"refSource": {"uri": "git+https://x", "digest": {"sha1": "1"}}},
            },
        });
        let expected = json!({
            "apiVersion": "tekton.dev/v1",
            "kind": "PipelineRun",
            "metadata": {"name": "ci-run", "namespace": "default", "uid": "p-1",
                         "labels": {"tekton.dev/pipeline": "ci"}},
            "spec": {
                "pipelineRef": {"name": "ci"},
                "params": [{"name": "revision", "value": "main"}],
                "taskRunTemplate": {"serviceAccountName": "builder",
                                    "podTemplate": {"nodeSelector": {"kubernetes.io/os": "linux"}}},
                "timeouts": {"pipeline": "2h0m0s"},
                "workspaces": [{"name": "source", "persistentVolumeClaim": {"claimName": "src"}}],
            },
            "status": {
                "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                "startTime": "2024-05-01T10:00:00Z",
                "completionTime": "2024-05-01T10:10:00Z",
                "results": [{"name": "IMAGE_DIGEST", "value": "sha256:bb"}],
                "pipelineSpec": {
                    "params": [{"name": "revision", "type": "string"}],
                    "results": [{"name": "IMAGE_DIGEST", "description": "",
                                 "value": "$(tasks.build.results.IMAGE_DIGEST)"}],
                    "tasks": [{"name": "build", "taskRef": {"name": "build", "kind": "Task"},
                               "params": [{"name": "rev", "value": "$(params.revision)"}]}],
                },
                "childReferences": [{"apiVersion": "tekton.dev/v1beta1", "kind": "TaskRun",
                                     "name": "ci-run-build", "pipelineTaskName": "build"}],
                "provenance": {"refSource": {"uri": "git+https://x", "digest": {"sha1": "1"}}},
            },
        });
        assert_eq!(pipelinerun_to_v1(input), expected);
    }

    #[test]
    fn go_string_escaping() {
        let mut s = String::new();
        go_string(&mut s, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}<>&\u{2028}\u{2029}é");
        assert_eq!(
            s,
            r#""a\"b\\c\n\r\t\b\f\u0001\u003c\u003e\u0026\u2028\u2029é""#
        );
    }

    #[test]
    fn non_objects_pass_through() {
        for v in [
            json!(null),
            json!(1),
            json!("x"),
            json!([1, 2]),
            json!(true),
        ] {
            assert_eq!(taskrun_to_v1(v.clone()), v);
            assert_eq!(pipelinerun_to_v1(v.clone()), v);
        }
        // Wrong-typed fields are passed through rather than interpreted.
        let out = tr(
            json!({"params": "x", "taskRef": 3, "taskSpec": {"steps": {"a": 1}}}),
            json!([]),
        );
        assert_eq!(
            out["spec"],
            json!({"params": "x", "taskRef": 3, "taskSpec": {"steps": {"a": 1}}})
        );
        assert_eq!(out["status"], json!([]));
        // Metadata that is not an object is left alone even when annotations would be added.
        let out = taskrun_to_v1(json!({"metadata": 5, "spec": {"resources": {}}}));
        assert_eq!(out["metadata"], json!(5));
        // Annotations that are not an object are replaced when one has to be added.
        let out = taskrun_to_v1(json!({"metadata": {"annotations": 5}, "spec": {"resources": {}}}));
        assert_eq!(
            out["metadata"]["annotations"],
            json!({RESOURCES_ANNOTATION: "{}"})
        );
        // An unreadable deprecation annotation is replaced.
        let out = taskrun_to_v1(json!({
            "metadata": {"annotations": {TASK_DEPRECATIONS_ANNOTATION: "{not json"}},
            "spec": {"taskSpec": {"steps": [{"tty": true}]}},
        }));
        assert_eq!(
            annotation(&out, TASK_DEPRECATIONS_ANNOTATION).unwrap(),
            r#"{"":{"deprecatedSteps":[{"name":"","resources":{},"tty":true}]}}"#
        );
    }

    /// Every node of a rich run replaced in turn by values of every JSON type: no panic.
    #[test]
    fn garbage_never_panics() {
        fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            out.push(prefix.clone());
            match v {
                Value::Object(m) => {
                    for (k, child) in m {
                        prefix.push(k.clone());
                        paths(child, prefix, out);
                        prefix.pop();
                    }
                }
                Value::Array(a) => {
                    for (i, child) in a.iter().enumerate() {
                        prefix.push(i.to_string());
                        paths(child, prefix, out);
                        prefix.pop();
                    }
                }
                _ => {}
            }
        }
        fn replace(v: &mut Value, path: &[String], with: Value) {
            let mut node = v;
            for key in path {
                node = match node {
                    Value::Object(m) => m.get_mut(key).unwrap(),
                    Value::Array(a) => &mut a[key.parse::<usize>().unwrap()],
                    _ => unreachable!(),
                };
            }
            *node = with;
        }
        let step = json!({"name": "s", "image": "i", "tty": true, "ports": [{"containerPort": 1}],
                          "resources": {"limits": {"cpu": "1"}}, "when": [{"input": "a"}],
                          "params": [{"name": "p", "value": "v"}], "ref": {"name": "r"}});
        let task_spec = json!({"steps": [step], "stepTemplate": {"name": "n", "stdin": true},
                               "params": [{"name": "p", "default": "d", "properties": {"k": {"type": "string"}}}],
                               "results": [{"name": "r", "properties": {"k": {}}, "value": "v"}],
                               "sidecars": [{"name": "s", "workspaces": [{"name": "w"}]}],
                               "resources": {"inputs": [{"name": "i", "type": "git"}]}});
        let taskrun = json!({
            "kind": "TaskRun",
            "metadata": {"name": "n", "annotations": {TASK_DEPRECATIONS_ANNOTATION: "{}"}},
            "spec": {"params": [{"name": "p", "value": ["a"]}], "taskRef": {"name": "t", "bundle": "b"},
                     "taskSpec": task_spec.clone(), "debug": {"breakpoints": {"beforeSteps": ["a"]}},
                     "stepOverrides": [{"name": "s", "resources": {}}],
                     "resources": {"inputs": [{"name": "r", "resourceSpec": {"params": [{"name": "a"}]}}]}},
            "status": {"steps": [{"terminated": {"reason": "r"}, "results": [{"name": "x"}],
                                  "provenance": {"configSource": {"uri": "u"}},
                                  "outputs": [{"name": "o", "values": [{"uri": "u"}]}]}],
                       "taskResults": [{"name": "r", "value": "v"}],
                       "retriesStatus": [{"taskSpec": task_spec.clone()}],
                       "taskSpec": task_spec.clone(),
                       "cloudEvents": [{"target": "t", "status": {"sentAt": "x"}}],
                       "resourcesResult": [{"key": "k", "type": "StepResult"}],
                       "provenance": {"refSource": {"uri": "u"}}},
        });
        let pipeline_task = json!({"name": "t", "taskRef": {"name": "x", "bundle": "b"},
                                   "taskSpec": task_spec, "when": [{"input": "a"}],
                                   "matrix": {"params": [{"name": "m", "value": ["1"]}],
                                              "include": [{"name": "i", "params": [{"name": "p"}]}]},
                                   "workspaces": [{"name": "w"}]});
        let pipeline_spec = json!({"tasks": [pipeline_task.clone()], "finally": [pipeline_task],
                                   "params": [{"name": "p"}], "results": [{"name": "r"}],
                                   "workspaces": [{"name": "w"}]});
        let pipelinerun = json!({
            "kind": "PipelineRun",
            "metadata": {"name": "n"},
            "spec": {"pipelineRef": {"name": "p", "bundle": "b"}, "pipelineSpec": pipeline_spec.clone(),
                     "timeout": "1h", "timeouts": {"tasks": "1h"}, "serviceAccountName": "sa",
                     "taskRunSpecs": [{"pipelineTaskName": "t", "stepOverrides": [{"name": "s"}],
                                       "metadata": {"labels": {}}}],
                     "resources": [{"name": "r"}]},
            "status": {"pipelineSpec": pipeline_spec, "pipelineResults": [{"name": "r"}],
                       "skippedTasks": [{"name": "s", "whenExpressions": [{"input": "a"}]}],
                       "childReferences": [{"name": "c", "whenExpressions": [{"input": "a"}]}],
                       "taskRuns": {"c": {"whenExpressions": [{"input": "a"}]}},
                       "runs": {"r": 5},
                       "provenance": {"configSource": {"uri": "u"}}},
        });
        let replacements = [
            json!(null),
            json!(0),
            json!(-1.5),
            json!("x"),
            json!(""),
            json!(true),
            json!([]),
            json!([null, 1, {}]),
            json!({}),
            json!({"a": [1]}),
        ];
        let mut runs = 0;
        for (base, convert) in [
            (taskrun, taskrun_to_v1 as fn(Value) -> Value),
            (pipelinerun, pipelinerun_to_v1 as fn(Value) -> Value),
        ] {
            let mut all = Vec::new();
            paths(&base, &mut Vec::new(), &mut all);
            for path in &all {
                for r in &replacements {
                    let mut v = base.clone();
                    replace(&mut v, path, r.clone());
                    let out = convert(v);
                    if out.is_object() {
                        assert_eq!(out["apiVersion"], json!(V1_API_VERSION));
                    }
                    runs += 1;
                }
            }
        }
        assert!(runs > 1000, "{runs}");
    }
}
