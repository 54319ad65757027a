//! The Tekton run model: a TaskRun or PipelineRun as `tekton.dev/v1`, with
//! where it came from.
//!
//! A run keeps its whole object as a JSON tree rather than typed structs:
//! provenance reads a few dozen fields, but some formats embed the complete
//! object (re-encoded the way Go would, see [`gojson`]), and unknown fields must
//! survive for that. The views here give typed, panic-free access to the fields
//! Chains reads, with Go's decoding rules (a missing field is its zero value).

pub mod gojson;
pub mod group;
pub mod lists;
pub mod read;
pub mod reference;
pub mod v1beta1;
pub mod yaml;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// The two kinds of run Chains attests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunKind {
    TaskRun,
    PipelineRun,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::TaskRun => "TaskRun",
            RunKind::PipelineRun => "PipelineRun",
        }
    }

    /// Lower-case kind, as used in Chains' storage keys (`taskrun-<uid>`).
    pub fn lower(self) -> &'static str {
        match self {
            RunKind::TaskRun => "taskrun",
            RunKind::PipelineRun => "pipelinerun",
        }
    }
}

impl fmt::Display for RunKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a run was read from, for diagnostics and for writing it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The path as given (or `<stdin>`).
    pub file: Arc<str>,
    /// 0-based index of the document in the file.
    pub document: usize,
    /// 0-based index in the `items` of a `List` document, if it came from one.
    pub item: Option<usize>,
    /// 1-based line where the document starts.
    pub line: usize,
}

/// `s` with control characters (newlines, terminal escapes) escaped as Rust
/// escapes them, for names printed in messages.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c.is_control() {
                true => c.escape_default().to_string(),
                false => c.to_string(),
            })
            .collect(),
    )
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = escape_controls(&self.file);
        write!(f, "{file}, document {}", self.document + 1)?;
        if let Some(item) = self.item {
            write!(f, ", item {}", item + 1)?;
        }
        if self.line > 1 {
            write!(f, " (line {})", self.line)?;
        }
        Ok(())
    }
}

/// The syntax a document was written in; a run is written back the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    Json,
}

/// The identity of a run, kept after the run itself is dropped (for output
/// names, storage keys and messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunId {
    pub kind: RunKind,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub origin: Origin,
}

impl RunId {
    pub fn of(run: &Run) -> Self {
        let m = run.meta();
        RunId {
            kind: run.kind,
            namespace: m.namespace().to_string(),
            name: m.name().to_string(),
            uid: m.uid().to_string(),
            origin: run.origin.clone(),
        }
    }

    /// Chains' storage key for the run's attestation: `taskrun-<uid>`.
    pub fn short_key(&self) -> String {
        format!("{}-{}", self.kind.lower(), self.uid)
    }
}

/// A TaskRun or PipelineRun in its `tekton.dev/v1` form.
#[derive(Debug)]
pub struct Run {
    pub kind: RunKind,
    /// The object, converted to `tekton.dev/v1` if it was `v1beta1`.
    pub object: Value,
    /// The apiVersion the run was read as (`tekton.dev/v1` or `tekton.dev/v1beta1`).
    pub source_api_version: String,
    /// The object as read, when it was converted (v1beta1); written back as is.
    pub original: Option<Value>,
    pub syntax: Syntax,
    pub origin: Origin,
}

impl Run {
    /// A run as the Kubernetes API's `tekton.dev/v1` endpoints serve it
    /// (the controller's watch): v1 already, its kind known from the
    /// collection, so nothing is decoded or converted.
    pub fn from_api(kind: RunKind, object: Value) -> Run {
        let m = object.get("metadata");
        let field = |k: &str| {
            m.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let file = format!("cluster {kind} {}/{}", field("namespace"), field("name"));
        Run {
            kind,
            object,
            source_api_version: "tekton.dev/v1".into(),
            original: None,
            syntax: Syntax::Json,
            origin: Origin {
                file: Arc::from(file),
                document: 0,
                item: None,
                line: 1,
            },
        }
    }

    /// The object as it was read (what is written back with annotations).
    pub fn source_object(&self) -> &Value {
        self.original.as_ref().unwrap_or(&self.object)
    }

    pub fn meta(&self) -> Meta<'_> {
        Meta(self.object.get("metadata").unwrap_or(&Value::Null))
    }

    pub fn spec(&self) -> &Value {
        self.object.get("spec").unwrap_or(&Value::Null)
    }

    pub fn status(&self) -> &Value {
        self.object.get("status").unwrap_or(&Value::Null)
    }

    /// `tekton.dev/v1/TaskRun`: Chains' `GetGVK()`, used as slsa v0.2 buildType.
    pub fn gvk(&self) -> String {
        format!("tekton.dev/v1/{}", self.kind)
    }

    /// A short human label: `TaskRun ns/name` (or the origin when unnamed).
    pub fn label(&self) -> String {
        let m = self.meta();
        match (m.namespace(), m.name()) {
            (ns, name) if !name.is_empty() && !ns.is_empty() => {
                format!("{} {ns}/{name}", self.kind)
            }
            (_, name) if !name.is_empty() => format!("{} {name}", self.kind),
            _ => format!("{} at {}", self.kind, self.origin),
        }
    }

    /// [`Run::label`] for messages that already start with the run's
    /// origin: an unnamed run is not placed a second time.
    pub fn label_after_origin(&self) -> String {
        let m = self.meta();
        if m.name().is_empty() {
            format!("the unnamed {}", self.kind)
        } else {
            self.label()
        }
    }

    /// `status.results` (TaskRun and PipelineRun alike in v1).
    pub fn results(&self) -> Vec<NamedValue<'_>> {
        named_values(self.status().get("results"), "value")
    }

    /// `status.provenance.refSource`, when present.
    pub fn ref_source(&self) -> Option<RefSource<'_>> {
        RefSource::from(self.status().get("provenance")?.get("refSource")?)
    }

    /// `status.provenance.featureFlags`, when present.
    pub fn feature_flags(&self) -> Option<&Value> {
        self.status()
            .get("provenance")?
            .get("featureFlags")
            .filter(|v| !v.is_null())
    }

    /// Chains' `IsRemote()`: the task/pipeline came from a resolver other than `Cluster`.
    pub fn is_remote(&self) -> bool {
        let key = match self.kind {
            RunKind::TaskRun => "taskRef",
            RunKind::PipelineRun => "pipelineRef",
        };
        let resolver = str_at(self.spec().get(key), "resolver");
        !resolver.is_empty() && resolver != "Cluster"
    }

    /// Chains' `GetRemoteProvenance()`.
    pub fn remote_ref_source(&self) -> Option<RefSource<'_>> {
        if self.is_remote() {
            self.ref_source()
        } else {
            None
        }
    }

    pub fn start_time(&self) -> Option<&str> {
        self.status().get("startTime").and_then(Value::as_str)
    }

    pub fn completion_time(&self) -> Option<&str> {
        self.status().get("completionTime").and_then(Value::as_str)
    }

    /// `spec.params` as name/value pairs.
    pub fn params(&self) -> Vec<NamedValue<'_>> {
        named_values(self.spec().get("params"), "value")
    }

    /// The resolved spec in status: `status.taskSpec` or `status.pipelineSpec`.
    pub fn status_spec(&self) -> Option<&Value> {
        let key = match self.kind {
            RunKind::TaskRun => "taskSpec",
            RunKind::PipelineRun => "pipelineSpec",
        };
        self.status().get(key).filter(|v| v.is_object())
    }

    /// Param specs of the resolved spec (for defaults).
    pub fn param_specs(&self) -> Vec<ParamSpec<'_>> {
        self.status_spec()
            .and_then(|s| s.get("params"))
            .and_then(Value::as_array)
            .map(|a| a.iter().map(ParamSpec::from).collect())
            .unwrap_or_default()
    }

    /// TaskRun `status.steps`.
    pub fn step_states(&self) -> Vec<StepState<'_>> {
        array_at(self.status(), "steps")
            .iter()
            .map(StepState)
            .collect()
    }

    /// TaskRun `status.sidecars`.
    pub fn sidecar_states(&self) -> Vec<StepState<'_>> {
        array_at(self.status(), "sidecars")
            .iter()
            .map(StepState)
            .collect()
    }

    /// Results of every step, in step order (`GetStepResults`).
    pub fn step_results(&self) -> Vec<NamedValue<'_>> {
        self.step_states()
            .iter()
            .flat_map(|s| s.results())
            .collect()
    }

    /// TaskRun `status.taskSpec.steps`.
    pub fn spec_steps(&self) -> &[Value] {
        self.status_spec()
            .map(|s| array_at(s, "steps"))
            .unwrap_or(&[])
    }

    /// The first condition's status (`True`/`False`/`Unknown`), if any.
    pub fn first_condition_status(&self) -> Option<&str> {
        array_at(self.status(), "conditions")
            .first()
            .map(|c| str_at(Some(c), "status"))
    }

    /// Chains' `IsDone()`: the `Succeeded` condition is `True` or `False`.
    /// `None` when done; otherwise what the condition says (for messages).
    pub fn unfinished_state(&self) -> Option<String> {
        let succeeded = array_at(self.status(), "conditions")
            .iter()
            .find(|c| str_at(Some(c), "type") == "Succeeded");
        match succeeded.map(|c| str_at(Some(c), "status")) {
            Some("True" | "False") => None,
            Some(other) => Some(format!("{other:?}")),
            None => Some("missing".to_string()),
        }
    }

    /// Chains' `IsSuccessful()`: the `Succeeded` condition is `True`.
    pub fn is_successful(&self) -> bool {
        array_at(self.status(), "conditions")
            .iter()
            .any(|c| str_at(Some(c), "type") == "Succeeded" && str_at(Some(c), "status") == "True")
    }

    /// Chains' `IsDone()`: the `Succeeded` condition is set and not `Unknown`.
    pub fn is_done(&self) -> bool {
        array_at(self.status(), "conditions").iter().any(|c| {
            str_at(Some(c), "type") == "Succeeded"
                && matches!(str_at(Some(c), "status"), "True" | "False")
        })
    }
}

/// `metadata` accessors.
#[derive(Clone, Copy)]
pub struct Meta<'a>(pub &'a Value);

impl<'a> Meta<'a> {
    pub fn name(self) -> &'a str {
        str_at(Some(self.0), "name")
    }
    pub fn namespace(self) -> &'a str {
        str_at(Some(self.0), "namespace")
    }
    pub fn uid(self) -> &'a str {
        str_at(Some(self.0), "uid")
    }
    pub fn labels(self) -> BTreeMap<&'a str, &'a str> {
        string_map(self.0.get("labels"))
    }
    pub fn annotations(self) -> BTreeMap<&'a str, &'a str> {
        string_map(self.0.get("annotations"))
    }
    pub fn label(self, key: &str) -> Option<&'a str> {
        self.0.get("labels")?.get(key)?.as_str()
    }
    pub fn owner_references(self) -> &'a [Value] {
        array_at(self.0, "ownerReferences")
    }
}

/// Tekton's `ParamValue` / `ResultValue`: a string, an array of strings or an
/// object of strings, decoded with Tekton's rules (anything else becomes the
/// string of its JSON text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamValue<'a> {
    String(Cow<'a, str>),
    Array(Vec<Cow<'a, str>>),
    Object(BTreeMap<Cow<'a, str>, Cow<'a, str>>),
}

impl<'a> ParamValue<'a> {
    /// Decode as Tekton's `ParamValue.UnmarshalJSON` does.
    pub fn from_json(v: Option<&'a Value>) -> ParamValue<'a> {
        match v {
            None | Some(Value::Null) => ParamValue::String(Cow::Borrowed("")),
            Some(Value::String(s)) => ParamValue::String(Cow::Borrowed(s)),
            Some(Value::Array(items)) => {
                match items
                    .iter()
                    .map(|i| i.as_str().map(Cow::Borrowed))
                    .collect::<Option<Vec<_>>>()
                {
                    Some(a) => ParamValue::Array(a),
                    None => {
                        ParamValue::String(Cow::Owned(v.map(Value::to_string).unwrap_or_default()))
                    }
                }
            }
            Some(Value::Object(map)) => {
                let mut out = BTreeMap::new();
                for (k, val) in map {
                    match val {
                        Value::String(s) => {
                            out.insert(Cow::Borrowed(k.as_str()), Cow::Borrowed(s.as_str()));
                        }
                        // Go decodes JSON null into a string as "".
                        Value::Null => {
                            out.insert(Cow::Borrowed(k.as_str()), Cow::Borrowed(""));
                        }
                        _ => {
                            return ParamValue::String(Cow::Owned(
                                v.map(Value::to_string).unwrap_or_default(),
                            ));
                        }
                    }
                }
                ParamValue::Object(out)
            }
            Some(other) => ParamValue::String(Cow::Owned(other.to_string())),
        }
    }

    /// `StringVal`: the string, or "" for arrays and objects.
    pub fn string_val(&self) -> &str {
        match self {
            ParamValue::String(s) => s,
            _ => "",
        }
    }

    /// `ObjectVal`, when this is an object.
    pub fn object_val(&self) -> Option<&BTreeMap<Cow<'a, str>, Cow<'a, str>>> {
        match self {
            ParamValue::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An object field, "" when absent (Go map semantics).
    pub fn object_field(&self, key: &str) -> &str {
        self.object_val()
            .and_then(|m| m.get(key))
            .map(|s| s.as_ref())
            .unwrap_or("")
    }

    /// As a JSON value (for embedding in a predicate).
    pub fn to_json(&self) -> Value {
        match self {
            ParamValue::String(s) => Value::String(s.to_string()),
            ParamValue::Array(a) => {
                Value::Array(a.iter().map(|s| Value::String(s.to_string())).collect())
            }
            ParamValue::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                    .collect(),
            ),
        }
    }
}

/// A `name` + value pair: a param or a result.
#[derive(Clone, Debug)]
pub struct NamedValue<'a> {
    pub name: &'a str,
    pub value: ParamValue<'a>,
    /// The raw JSON, for places that embed the object as Go encodes it.
    pub raw: &'a Value,
}

/// `ParamSpec` fields Chains reads.
#[derive(Clone, Debug)]
pub struct ParamSpec<'a> {
    pub name: &'a str,
    pub default: Option<ParamValue<'a>>,
}

impl<'a> From<&'a Value> for ParamSpec<'a> {
    fn from(v: &'a Value) -> Self {
        ParamSpec {
            name: str_at(Some(v), "name"),
            default: v
                .get("default")
                .filter(|d| !d.is_null())
                .map(|d| ParamValue::from_json(Some(d))),
        }
    }
}

/// `RefSource`: where a task/pipeline/step action definition came from.
#[derive(Clone, Debug)]
pub struct RefSource<'a> {
    pub uri: &'a str,
    pub digest: BTreeMap<&'a str, &'a str>,
    pub entry_point: &'a str,
}

impl<'a> RefSource<'a> {
    fn from(v: &'a Value) -> Option<Self> {
        if !v.is_object() {
            return None;
        }
        Some(RefSource {
            uri: str_at(Some(v), "uri"),
            digest: string_map(v.get("digest")),
            entry_point: str_at(Some(v), "entryPoint"),
        })
    }
}

/// A `StepState` / `SidecarState` in a TaskRun's status.
#[derive(Clone, Copy, Debug)]
pub struct StepState<'a>(pub &'a Value);

impl<'a> StepState<'a> {
    pub fn name(self) -> &'a str {
        str_at(Some(self.0), "name")
    }
    pub fn image_id(self) -> &'a str {
        str_at(Some(self.0), "imageID")
    }
    pub fn results(self) -> Vec<NamedValue<'a>> {
        named_values(self.0.get("results"), "value")
    }
    /// `provenance.refSource` of a step (a remote StepAction).
    pub fn ref_source(self) -> Option<RefSource<'a>> {
        RefSource::from(self.0.get("provenance")?.get("refSource")?)
    }
}

/// A string field of an object, "" when absent or not a string (Go zero value).
pub fn str_at<'a>(v: Option<&'a Value>, key: &str) -> &'a str {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// An array field of an object, empty when absent.
pub fn array_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A `map[string]string`; non-string values are skipped.
pub fn string_map(v: Option<&Value>) -> BTreeMap<&str, &str> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
                .collect()
        })
        .unwrap_or_default()
}

/// `[{name, <value_key>}]` lists: params and results.
fn named_values<'a>(v: Option<&'a Value>, value_key: &str) -> Vec<NamedValue<'a>> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|item| NamedValue {
                    name: str_at(Some(item), "name"),
                    value: ParamValue::from_json(item.get(value_key)),
                    raw: item,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn param_value_decodes_like_tekton() {
        let s = json!("x");
        assert_eq!(ParamValue::from_json(Some(&s)).string_val(), "x");
        let n = json!(12);
        assert_eq!(ParamValue::from_json(Some(&n)).string_val(), "12");
        let mixed = json!(["a", 1]);
        assert_eq!(
            ParamValue::from_json(Some(&mixed)).string_val(),
            "[\"a\",1]"
        );
        let obj = json!({"uri": "u", "digest": "d"});
        assert_eq!(ParamValue::from_json(Some(&obj)).object_field("uri"), "u");
        assert_eq!(ParamValue::from_json(None).string_val(), "");
    }
}
