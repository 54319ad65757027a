//! The `grafeas` backend: notes and occurrences in Grafeas as Container
//! Analysis serves it (`storage.grafeas.projectid`, `.noteid`, `.notehint`),
//! the ones Tekton Chains creates.
//!
//! Chains speaks gRPC to `containeranalysis.googleapis.com`; we send the same
//! messages over the Grafeas v1 REST API the service also serves (proto3
//! JSON: camelCase names, bytes as base64, empty fields left out):
//! - an image signature (simple signing): the ATTESTATION note
//!   `<noteid>-simplesigning` (`attestation.hint.humanReadableName` = the
//!   note hint), then one ATTESTATION occurrence whose `resourceUri` is the
//!   image (`repo@sha256:…`), with `attestation.serializedPayload` (the
//!   payload), `attestation.signatures[].signature` and an `envelope` of
//!   type `application/vnd.dev.cosign.simplesigning.v1+json`;
//! - a TaskRun or PipelineRun attestation: the BUILD note
//!   `<noteid>-<taskrun|pipelinerun>-intoto` (`build.builderVersion` =
//!   `tekton.dev/v1/TaskRun`), then one BUILD occurrence per subject of the
//!   statement (`resourceUri` = `name@alg:digest`, none for a run without
//!   subjects), each carrying the statement converted as Grafeas' Go utility
//!   converts it (`build.intotoStatement` with the SLSA v0.2 predicate as
//!   `slsaProvenanceZeroTwo`; a SLSA v1.0 predicate has none of its fields,
//!   so that part is empty there too) and an `envelope` of type
//!   `application/vnd.in-toto+json` whose signature is the DSSE envelope.
//!
//! As in Chains, what is stored as "the signature" in occurrences is Chains'
//! signature (the envelope JSON, or the raw image signature bytes), the key id is `signers.kms.kmsref`, and a missing `noteid` is
//! `tekton-<namespace>` (of each run here; Chains keeps the first run's).
//! A note that exists (409) is used as it is. Notes and occurrences are
//! created with `POST {base}/v1/projects/P/notes?noteId=N` and
//! `POST {base}/v1/projects/P/occurrences`, one per occurrence as Chains
//! does, with Google's application-default credentials (scope
//! `cloud-platform`, as Chains asks for). `{base}` is
//! `https://containeranalysis.googleapis.com`, or
//! `GOOGLE_CONTAINERANALYSIS_ENDPOINT` (for tests and private endpoints).
//!
//! An artifact counts as stored when every occurrence was created (2xx).
//! 408, 429, 5xx, timeouts and dropped connections are retried within the
//! deadlines ([`with_retries_on`]); refusals fail at once.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::http::{self, Peer};
use super::{
    ArtifactKind, Backend, SignedArtifact, StoreError, is_transient_status, with_retries_on,
};
use crate::cloud::google::{GoogleCredentials, SCOPE_CLOUD_PLATFORM, error_message};
use crate::cloud::{nonempty, pct};
use crate::run::RunId;

const NAME: &str = "grafeas";
const DEFAULT_BASE: &str = "https://containeranalysis.googleapis.com";
const ENDPOINT_VAR: &str = "GOOGLE_CONTAINERANALYSIS_ENDPOINT";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// cosign's simple signing media type (Chains' `types.SimpleSigningMediaType`).
const SIMPLE_SIGNING_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// in-toto's payload type (Chains' `types.IntotoPayloadType`).
const INTOTO_TYPE: &str = "application/vnd.in-toto+json";

/// `storage.grafeas.*` and the key id Chains records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrafeasOptions {
    /// `storage.grafeas.projectid`.
    pub project_id: Option<String>,
    /// `storage.grafeas.noteid`.
    pub note_id: Option<String>,
    /// `storage.grafeas.notehint`.
    pub note_hint: String,
    /// `signers.kms.kmsref` (empty without one).
    pub key_id: String,
}

/// Creates Chains' notes and occurrences in one project.
pub struct GrafeasBackend {
    opts: GrafeasOptions,
    project: String,
    base: String,
    http: reqwest::blocking::Client,
    auth: GoogleCredentials,
    /// Notes known to exist (created, or found by a 409).
    notes: Mutex<HashSet<String>>,
}

impl GrafeasBackend {
    /// A backend with credentials and endpoint from the process environment.
    /// Makes no request.
    pub fn new(opts: GrafeasOptions) -> Result<Self, StoreError> {
        Self::with_env(opts, &|name| std::env::var(name).ok())
    }

    #[doc(hidden)]
    pub fn with_env(
        opts: GrafeasOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StoreError> {
        let project = opts
            .project_id
            .clone()
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| {
                StoreError::new(
                    NAME,
                    "storage.grafeas.projectid is not set (the Google Cloud project of the notes)",
                )
            })?;
        let base = match nonempty(env, ENDPOINT_VAR) {
            Some(b) if b.starts_with("http://") || b.starts_with("https://") => {
                b.trim_end_matches('/').to_string()
            }
            Some(_) => {
                return Err(StoreError::new(
                    NAME,
                    format!("{ENDPOINT_VAR} must be an http:// or https:// URL"),
                ));
            }
            None => DEFAULT_BASE.to_string(),
        };
        let auth = GoogleCredentials::from_env(env, SCOPE_CLOUD_PLATFORM)
            .map_err(|m| StoreError::new(NAME, format!("Google credentials: {m}")))?;
        let http =
            http::client(CONNECT_TIMEOUT, REQUEST_TIMEOUT).map_err(|m| StoreError::new(NAME, m))?;
        Ok(GrafeasBackend {
            opts,
            project,
            base,
            http,
            auth,
            notes: Mutex::new(HashSet::new()),
        })
    }

    fn note_prefix(&self, run: &RunId) -> String {
        match &self.opts.note_id {
            Some(n) if !n.is_empty() => n.clone(),
            _ => format!("tekton-{}", run.namespace),
        }
    }

    /// Create a note unless it is known to exist; a 409 means it does.
    fn ensure_note(&self, note_id: &str, note: &Value) -> Result<(), StoreError> {
        let known = self
            .notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(note_id);
        if known {
            return Ok(());
        }
        let path = format!(
            "v1/projects/{}/notes?noteId={}",
            pct(&self.project),
            pct(note_id)
        );
        let what = format!(
            "cannot create note projects/{}/notes/{note_id}",
            self.project
        );
        // 409 ALREADY_EXISTS: the note is there (Chains goes on too).
        with_retries_on(NAME, || self.post(&path, note, &what, Some(409)))?;
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(note_id.to_string());
        Ok(())
    }

    fn create_occurrence(&self, occurrence: &Value) -> Result<(), StoreError> {
        let path = format!("v1/projects/{}/occurrences", pct(&self.project));
        let what = format!(
            "cannot create an occurrence for {} in project {}",
            occurrence["resourceUri"].as_str().unwrap_or("?"),
            self.project
        );
        with_retries_on(NAME, || self.post(&path, occurrence, &what, None)).map(|_| ())
    }

    /// One POST with a bearer token (a 401 with refreshable credentials is
    /// tried once more with a new token). An answer with status `done` counts
    /// as success, with no body.
    fn post(
        &self,
        path: &str,
        body: &Value,
        what: &str,
        done: Option<u16>,
    ) -> Result<Value, StoreError> {
        let url = format!("{}/{path}", self.base);
        let fail = |m: String| StoreError::new(NAME, self.auth.redact(m));
        let retry = |m: String| StoreError::transient(NAME, self.auth.redact(m));
        let mut refreshed = false;
        loop {
            let token = self.auth.token(&self.http).map_err(|m| {
                fail(format!(
                    "{what}: no access token from {}: {m}",
                    self.auth.describe()
                ))
            })?;
            let req = self
                .http
                .post(&url)
                .bearer_auth(token.as_str())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
            let (status, reply) = match http::exchange(req, REQUEST_TIMEOUT) {
                Ok(r) => r,
                Err(e) => {
                    let peer = Peer {
                        service: "Container Analysis",
                        base: &self.base,
                    };
                    return Err(http::unanswered(
                        e,
                        what,
                        Some(peer),
                        REQUEST_TIMEOUT,
                        fail,
                        retry,
                    ));
                }
            };
            if (200..300).contains(&status) {
                return serde_json::from_slice(&reply)
                    .map_err(|e| retry(format!("{what}: the answer is not JSON: {e}")));
            }
            if Some(status) == done {
                return Ok(Value::Null);
            }
            if http::retry_unauthorized(status, &mut refreshed, Some(&self.auth)) {
                continue;
            }
            let hint = match status {
                401 => " (the credentials were rejected)",
                403 => {
                    " (permission denied: creating notes and occurrences needs roles/containeranalysis.notes.editor and roles/containeranalysis.occurrences.editor)"
                }
                _ => "",
            };
            let message = format!("{what}: {}", error_message(status, &reply, hint));
            return Err(if is_transient_status(status) {
                retry(message)
            } else {
                fail(message)
            });
        }
    }
}

/// Chains' `GetGVK()` and `GetKindName()` of a run.
fn gvk(run: &RunId) -> (&'static str, &'static str) {
    match run.kind {
        crate::run::RunKind::TaskRun => ("tekton.dev/v1/TaskRun", "taskrun"),
        crate::run::RunKind::PipelineRun => ("tekton.dev/v1/PipelineRun", "pipelinerun"),
    }
}

/// The occurrences' envelope: the payload and Chains' signature string.
fn envelope(artifact: &SignedArtifact, payload_type: &str, key_id: &str) -> Value {
    json!({
        "payload": STANDARD.encode(&artifact.payload),
        "payloadType": payload_type,
        "signatures": [proto_object([
            ("sig", json!(STANDARD.encode(&artifact.signature))),
            ("keyid", json!(key_id)),
        ])],
    })
}

/// A proto3 JSON object: empty strings, nulls and empty lists left out.
fn proto_object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let mut m = Map::new();
    for (k, v) in fields {
        let empty = match &v {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Bool(b) => !b,
            _ => false,
        };
        if !empty {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

/// The ATTESTATION occurrence of an image signature.
pub fn attestation_occurrence(
    artifact: &SignedArtifact,
    note_name: &str,
    key_id: &str,
) -> Option<Value> {
    let image = artifact.image.as_ref()?;
    Some(json!({
        "resourceUri": image.name(),
        "noteName": note_name,
        "attestation": {
            "serializedPayload": STANDARD.encode(&artifact.payload),
            "signatures": [proto_object([
                ("signature", json!(STANDARD.encode(&artifact.signature))),
                ("publicKeyId", json!(key_id)),
            ])],
        },
        "envelope": envelope(artifact, SIMPLE_SIGNING_TYPE, key_id),
    }))
}

/// Chains' `RetrieveAllArtifactURIs`: `name@alg:digest` for every digest of
/// every subject of the statement.
pub fn subject_uris(statement: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in statement["subject"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().unwrap_or("");
        if let Some(d) = s["digest"].as_object() {
            // Go ranges over the digest map in random order; ours is sorted.
            for (alg, v) in d {
                if let Some(v) = v.as_str() {
                    out.push(format!("{name}@{alg}:{v}"));
                }
            }
        }
    }
    out
}

/// A protobuf `Struct` field: an object, or nothing; anything else is what
/// Go's converter refuses.
fn proto_struct(v: &Value, field: &str) -> Result<Value, String> {
    match v {
        Value::Null | Value::Object(_) => Ok(v.clone()),
        _ => Err(format!("the predicate's {field} is not a JSON object")),
    }
}

/// Grafeas' `ToProto`: the statement as an `InTotoStatement` with its
/// predicate read as SLSA v0.2 (`slsaProvenanceZeroTwo`).
pub fn intoto_statement(statement: &Value) -> Result<Value, String> {
    let p = &statement["predicate"];
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let inv = &p["invocation"];
    let cs = &inv["configSource"];
    let subjects: Vec<Value> = statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            proto_object([
                ("name", json!(s(&x["name"]))),
                ("digest", x["digest"].clone()),
            ])
        })
        .collect();
    let materials: Vec<Value> = p["materials"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            proto_object([
                ("uri", json!(s(&m["uri"]))),
                ("digest", m["digest"].clone()),
            ])
        })
        .collect();
    let metadata = match &p["metadata"] {
        Value::Object(m) => {
            let c = &m.get("completeness").cloned().unwrap_or(Value::Null);
            let b = |v: &Value| json!(v.as_bool().unwrap_or(false));
            proto_object([
                (
                    "buildInvocationId",
                    json!(s(&p["metadata"]["buildInvocationId"])),
                ),
                ("buildStartedOn", p["metadata"]["buildStartedOn"].clone()),
                ("buildFinishedOn", p["metadata"]["buildFinishedOn"].clone()),
                (
                    "completeness",
                    proto_object([
                        ("parameters", b(&c["parameters"])),
                        ("environment", b(&c["environment"])),
                        ("materials", b(&c["materials"])),
                    ]),
                ),
                ("reproducible", b(&p["metadata"]["reproducible"])),
            ])
        }
        _ => Value::Null,
    };
    let zero_two = proto_object([
        (
            "builder",
            proto_object([("id", json!(s(&p["builder"]["id"])))]),
        ),
        ("buildType", json!(s(&p["buildType"]))),
        (
            "invocation",
            proto_object([
                (
                    "configSource",
                    proto_object([
                        ("uri", json!(s(&cs["uri"]))),
                        ("digest", cs["digest"].clone()),
                        ("entryPoint", json!(s(&cs["entryPoint"]))),
                    ]),
                ),
                (
                    "parameters",
                    proto_struct(&inv["parameters"], "invocation.parameters")?,
                ),
                (
                    "environment",
                    proto_struct(&inv["environment"], "invocation.environment")?,
                ),
            ]),
        ),
        (
            "buildConfig",
            proto_struct(&p["buildConfig"], "buildConfig")?,
        ),
        ("metadata", metadata),
        ("materials", json!(materials)),
    ]);
    Ok(proto_object([
        // `type`: Container Analysis' proto names it so (Grafeas' own
        // proto gives it the JSON name `_type`; parsers take both).
        ("type", json!(s(&statement["_type"]))),
        ("subject", json!(subjects)),
        ("predicateType", json!(s(&statement["predicateType"]))),
        ("slsaProvenanceZeroTwo", zero_two),
    ]))
}

impl Backend for GrafeasBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn store(
        &self,
        run: &RunId,
        artifact: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let prefix = self.note_prefix(run);
        let key_id = &self.opts.key_id;
        if artifact.kind == ArtifactKind::Oci {
            let note_id = format!("{prefix}-simplesigning");
            let note = json!({
                "shortDescription": "OCI Artifact Attestation Note",
                "attestation": {"hint": proto_object([
                    ("humanReadableName", json!(self.opts.note_hint)),
                ])},
            });
            self.ensure_note(&note_id, &note)?;
            let note_name = format!("projects/{}/notes/{note_id}", self.project);
            let occurrence =
                attestation_occurrence(artifact, &note_name, key_id).ok_or_else(|| {
                    StoreError::new(NAME, format!("{}: no image to attest", artifact.short_key))
                })?;
            self.create_occurrence(&occurrence)?;
            return Ok(Vec::new());
        }
        let (gvk, kind) = gvk(run);
        let note_id = format!("{prefix}-{kind}-intoto");
        let note = json!({
            "shortDescription": "Build Provenance Note for TaskRun",
            "build": {"builderVersion": gvk},
        });
        self.ensure_note(&note_id, &note)?;
        let statement: Value = serde_json::from_slice(&artifact.payload).map_err(|e| {
            StoreError::new(
                NAME,
                format!("{}: the payload is not JSON: {e}", artifact.short_key),
            )
        })?;
        let converted = intoto_statement(&statement).map_err(|m| {
            StoreError::new(
                NAME,
                format!(
                    "{}: cannot convert to Grafeas' InTotoStatement: {m}",
                    artifact.short_key
                ),
            )
        })?;
        let note_name = format!("projects/{}/notes/{note_id}", self.project);
        for uri in subject_uris(&statement) {
            self.create_occurrence(&json!({
                "resourceUri": uri,
                "noteName": note_name,
                "build": {"intotoStatement": converted},
                "envelope": envelope(artifact, INTOTO_TYPE, key_id),
            }))?;
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slsa_v02_statement_converts_as_grafeas_does() {
        let st = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"name": "reg/img", "digest": {"sha256": "ab", "sha512": "cd"}}],
            "predicate": {
                "builder": {"id": "https://tekton.dev/chains/v2"},
                "buildType": "tekton.dev/v1beta1/TaskRun",
                "invocation": {
                    "configSource": {},
                    "parameters": {"p": "v"},
                    "environment": null
                },
                "buildConfig": {"steps": []},
                "metadata": {
                    "buildStartedOn": "2024-01-01T00:00:00Z",
                    "completeness": {"parameters": false, "environment": false, "materials": false},
                    "reproducible": false
                },
                "materials": [{"uri": "git+x", "digest": {"sha1": "0a"}}]
            }
        });
        assert_eq!(
            subject_uris(&st),
            ["reg/img@sha256:ab", "reg/img@sha512:cd"]
        );
        let c = intoto_statement(&st).unwrap();
        let z = &c["slsaProvenanceZeroTwo"];
        assert_eq!(c["type"], "https://in-toto.io/Statement/v0.1");
        assert_eq!(z["builder"]["id"], "https://tekton.dev/chains/v2");
        assert_eq!(z["invocation"]["parameters"]["p"], "v");
        assert_eq!(z["invocation"]["configSource"], json!({}));
        assert!(z["invocation"].get("environment").is_none());
        assert_eq!(z["metadata"]["completeness"], json!({}));
        assert_eq!(z["materials"][0]["uri"], "git+x");
        // A SLSA v1.0 predicate has none of v0.2's fields: an empty predicate.
        let v1 = json!({"_type": "t", "subject": [], "predicate": {"buildDefinition": {}}});
        let c = intoto_statement(&v1).unwrap();
        assert_eq!(
            c["slsaProvenanceZeroTwo"],
            json!({"builder": {}, "invocation": {"configSource": {}}})
        );
        let bad = json!({"predicate": {"buildConfig": [1]}});
        assert!(intoto_statement(&bad).is_err());
    }

    #[test]
    fn a_project_is_required() {
        let env = |_: &str| Some("token".to_string());
        let e = GrafeasBackend::with_env(GrafeasOptions::default(), &env)
            .err()
            .unwrap();
        assert!(
            e.message.contains("storage.grafeas.projectid"),
            "{}",
            e.message
        );
    }
}
