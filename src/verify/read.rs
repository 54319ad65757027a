//! Reading evidence from files, directories and standard input.
//!
//! A document may be a DSSE envelope (as `chains attest` and Chains' `-o`
//! write them, one per line), a Sigstore bundle, or a TaskRun/PipelineRun
//! (alone, in a stream or in a `List`) carrying Chains' annotations. Beside
//! those, a directory may hold Chains' stored parts of an artifact
//! (`<stem>.signature` with `.payload`, `.cert` and `.chain`, as in its GCS
//! layout and our `--output-dir DIR` image files).

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::bundle;
use super::evidence::{Evidence, RunSubjects, Signed};
use crate::annotations::{PREFIX, Part, SIGNED, TRANSPARENCY};
use crate::run::read::{
    DocumentStream, InputError, Source, expand_inputs_with, io_error, parse_document,
};
use crate::sign::dsse::Envelope;

/// Where evidence is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file or stdin holding documents.
    Documents(Source),
    /// Chains' stored parts: `<stem>.signature` and its siblings.
    Parts { signature: PathBuf },
}

impl Input {
    /// The input's name for messages.
    pub fn display_name(&self) -> String {
        match self {
            Input::Documents(source) => source.display_name().to_string(),
            Input::Parts { signature } => signature.display().to_string(),
        }
    }
}

/// Expand command-line inputs: `-` is stdin; a directory is walked
/// (sorted) for `.json`, `.jsonl`, `.yaml`, `.yml` and `.signature` files.
/// A `.payload` beside a `.sigstore.json` is the message a bundle signs.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<Input>, InputError> {
    let sources = expand_inputs_with(inputs, |path| {
        matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "jsonl" | "yaml" | "yml" | "signature")
        )
    })?;
    Ok(sources
        .into_iter()
        .map(|source| match source {
            Source::File(path) if path.extension().is_some_and(|e| e == "signature") => {
                Input::Parts { signature: path }
            }
            other => Input::Documents(other),
        })
        .collect())
}

/// Everything one input holds, in order. A document that cannot be parsed
/// is an [`InputError`] (the input is unreadable); a document that parses
/// but whose signed parts cannot be taken apart becomes evidence with
/// [`Signed::Unusable`] (it is rejected, with the reason).
pub fn read(input: &Input, mut each: impl FnMut(Evidence)) -> Result<(), InputError> {
    match input {
        Input::Parts { signature } => {
            each(read_parts(signature)?);
            Ok(())
        }
        Input::Documents(source) => {
            let name = source.display_name();
            let sibling_payload = match source {
                Source::File(p) => bundle_payload_path(p),
                Source::Stdin => None,
            };
            let stream = DocumentStream::new(name.clone(), open_checked(source, &name)?);
            for doc in stream {
                let (value, origin, _) = parse_document(doc?)?;
                let at = if origin.document == 0 {
                    name.to_string()
                } else {
                    format!("{name} (document {})", origin.document + 1)
                };
                classify(value, &at, sibling_payload.as_deref(), &mut each)?;
            }
            Ok(())
        }
    }
}

/// Open a document input after scanning a JSON one for objects that repeat
/// a key (see [`crate::strict_json`]): once parsed, the last value
/// would be kept silently, while another reader may keep the first. A file
/// is scanned and opened again; standard input holding JSON is read into
/// memory to be scanned (YAML is not scanned).
fn open_checked(
    source: &Source,
    name: &std::sync::Arc<str>,
) -> Result<Box<dyn std::io::BufRead + Send>, InputError> {
    use std::io::{BufRead, Read};
    let repeated = |e: serde_json::Error| InputError::Json {
        origin: crate::run::Origin {
            file: name.clone(),
            document: 0,
            item: None,
            line: e.line(),
        },
        message: format!("{e}: a signed document must say one thing"),
    };
    let mut reader = source.open()?;
    let is_json = |r: &mut Box<dyn BufRead + Send>| -> Result<bool, InputError> {
        let head = r.fill_buf().map_err(|e| io_error(Path::new(&**name), e))?;
        Ok(head
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'[')))
    };
    if !is_json(&mut reader)? {
        return Ok(reader);
    }
    match source {
        Source::File(_) => {
            crate::strict_json::check_repeated_keys(reader).map_err(repeated)?;
            source.open()
        }
        Source::Stdin => {
            let mut bytes = Vec::new();
            reader
                .read_to_end(&mut bytes)
                .map_err(|e| io_error(Path::new(&**name), e))?;
            crate::strict_json::check_repeated_keys(&bytes[..]).map_err(repeated)?;
            Ok(Box::new(std::io::Cursor::new(bytes)))
        }
    }
}

/// `x.image-<hex>.sigstore.json` → `x.image-<hex>.payload`, when it exists.
fn bundle_payload_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".sigstore.json")?;
    let payload = path.with_file_name(format!("{stem}.payload"));
    payload.is_file().then_some(payload)
}

fn classify(
    value: Value,
    at: &str,
    sibling_payload: Option<&Path>,
    each: &mut impl FnMut(Evidence),
) -> Result<(), InputError> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                classify(item, &format!("{at} [{i}]"), sibling_payload, each)?;
            }
            Ok(())
        }
        Value::Object(ref map) => {
            if bundle::is_bundle(&value) {
                let payload = match sibling_payload {
                    Some(p) => Some(fs::read(p).map_err(|e| io_error(p, e))?),
                    None => None,
                };
                let evidence = bundle::from_value(value, at, payload).unwrap_or_else(|why| {
                    Evidence::new(at, Signed::Unusable(format!("bundle: {why}")))
                });
                each(evidence);
                return Ok(());
            }
            if map.contains_key("payloadType") && map.contains_key("signatures") {
                let signed = match serde_json::from_value::<Envelope>(value) {
                    Ok(env) => Signed::Envelope(env),
                    Err(e) => Signed::Unusable(format!("not a DSSE envelope: {e}")),
                };
                each(Evidence::new(at, signed));
                return Ok(());
            }
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
            if kind.ends_with("List")
                && let Some(Value::Array(items)) = map.get("items")
            {
                for (i, item) in items.iter().enumerate() {
                    classify(item.clone(), &format!("{at} item {}", i + 1), None, each)?;
                }
                return Ok(());
            }
            if matches!(kind, "TaskRun" | "PipelineRun") || has_chains_annotations(&value) {
                run_annotations(&value, at, each);
                return Ok(());
            }
            each(Evidence::new(
                at,
                Signed::Unusable(format!(
                    "not an envelope, a Sigstore bundle or a run with Chains annotations{}",
                    if kind.is_empty() {
                        String::new()
                    } else {
                        format!(" (kind {kind})")
                    }
                )),
            ));
            Ok(())
        }
        other => {
            each(Evidence::new(
                at,
                Signed::Unusable(format!(
                    "a JSON {} is not an envelope, a bundle or a run",
                    match other {
                        Value::String(_) => "string",
                        Value::Number(_) => "number",
                        _ => "boolean",
                    }
                )),
            ));
            Ok(())
        }
    }
}

fn annotations(run: &Value) -> Option<&serde_json::Map<String, Value>> {
    run.get("metadata")?.get("annotations")?.as_object()
}

fn has_chains_annotations(run: &Value) -> bool {
    annotations(run).is_some_and(|a| a.keys().any(|k| k.starts_with(PREFIX)))
}

/// Every `chains.tekton.dev/signature-<key>` of a run, with its
/// `payload-`, `cert-` and `chain-<key>`.
fn run_annotations(run: &Value, at: &str, each: &mut impl FnMut(Evidence)) {
    let meta = run.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = run.get("kind").and_then(Value::as_str).unwrap_or("run");
    let at = if name.is_empty() {
        at.to_string()
    } else {
        format!("{at} ({kind} {name})")
    };
    let empty = serde_json::Map::new();
    let anns = annotations(run).unwrap_or(&empty);
    let uid = meta
        .and_then(|m| m.get("uid"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let subjects = run_subjects(run, &at);
    let text = |key: &str| anns.get(key).and_then(Value::as_str);
    let tlog_index = text(TRANSPARENCY).and_then(log_index_of);
    let mut found = false;
    for (key, value) in anns {
        let Some(short) = Part::Signature.key_of(key) else {
            continue;
        };
        found = true;
        let origin = format!("{at}: {key}");
        let decode = |part: Part| -> Result<Option<Vec<u8>>, String> {
            let name = part.annotation(short);
            match text(&name) {
                None => Ok(None),
                Some(v) => STANDARD
                    .decode(v.trim())
                    .map(Some)
                    .map_err(|_| format!("{name} is not base64")),
            }
        };
        let signature = value
            .as_str()
            .ok_or_else(|| format!("{key} is not a string"))
            .and_then(|v| {
                STANDARD
                    .decode(v.trim())
                    .map_err(|_| format!("{key} is not base64"))
            });
        let parts = (|| {
            Ok::<_, String>((
                signature?,
                decode(Part::Payload)?,
                decode(Part::Cert)?,
                decode(Part::Chain)?,
            ))
        })();
        let parts = parts.and_then(|p| bound_to_run(short, kind, uid, &subjects).map(|()| p));
        let mut evidence = match parts {
            Ok((signature, payload, cert, chain)) => {
                Evidence::from_parts(origin, payload, signature, cert, chain)
            }
            Err(why) => Evidence::new(origin, Signed::Unusable(why)),
        };
        evidence.run_subjects = Some(subjects.clone());
        // Chains' transparency annotation records the attestation's entry.
        if short.starts_with("taskrun-") || short.starts_with("pipelinerun-") {
            evidence.tlog_index = tlog_index;
        }
        each(evidence);
    }
    if !found {
        let why = match text(SIGNED) {
            Some(state) => format!("the run has no Chains signatures ({SIGNED}: {state})"),
            None => "the run has no Chains signatures (it was not attested)".to_string(),
        };
        each(Evidence::new(at, Signed::Unusable(why)));
    }
}

/// What the run's results say it built, as Chains computes subjects.
fn run_subjects(run: &Value, at: &str) -> RunSubjects {
    use crate::provenance::artifacts;
    let bytes = serde_json::to_vec(run).unwrap_or_default();
    let origin = crate::run::Origin {
        file: at.into(),
        document: 0,
        item: None,
        line: 1,
    };
    let Ok(decoded) = crate::run::read::decode_kept(
        &bytes,
        origin,
        crate::run::Syntax::Json,
        crate::run::RunKind::TaskRun,
    ) else {
        return RunSubjects::default();
    };
    let results = decoded.results();
    let triples = |list: Vec<artifacts::Artifact>| {
        list.into_iter()
            .flat_map(|a| {
                a.digest
                    .into_iter()
                    .map(move |(alg, hex)| (a.name.clone(), alg, hex.to_ascii_lowercase()))
            })
            .collect::<Vec<_>>()
    };
    RunSubjects {
        all: triples(artifacts::subjects_from_results(&results)),
        images: artifacts::oci_images(&results)
            .iter()
            .map(|d| {
                (
                    d.repository_name(),
                    "sha256".to_string(),
                    d.hex().to_ascii_lowercase(),
                )
            })
            .collect(),
        closed: decoded.kind == crate::run::RunKind::TaskRun,
    }
}

/// Chains keys a run's signature annotations by what they sign:
/// `<kind>-<uid>` for the run's attestation, the image digest's first 12 hex
/// digits for an image signature. Annotations copied onto another run name
/// another uid (or an image the run did not build).
fn bound_to_run(short: &str, kind: &str, uid: &str, subjects: &RunSubjects) -> Result<(), String> {
    let own = format!("{}-", kind.to_ascii_lowercase());
    if let Some(named) = short
        .strip_prefix("taskrun-")
        .or_else(|| short.strip_prefix("pipelinerun-"))
    {
        if !short.starts_with(&own) || named != uid {
            return Err(format!(
                "the annotation signs {short}, but it sits on a {kind} with uid {uid:?}: Chains' annotations of another run"
            ));
        }
        return Ok(());
    }
    let is_image = !short.is_empty() && short.bytes().all(|b| b.is_ascii_hexdigit());
    if is_image
        && !subjects
            .images
            .iter()
            .any(|(_, _, hex)| hex.starts_with(short))
    {
        return Err(format!(
            "the annotation signs image sha256:{short}…, which is not an image this run's results name"
        ));
    }
    Ok(())
}

/// The `logIndex` of Chains' transparency annotation
/// (`https://rekor.example/api/v1/log/entries?logIndex=N`).
fn log_index_of(url: &str) -> Option<i64> {
    url.split(['?', '&'])
        .find_map(|p| p.strip_prefix("logIndex="))
        .and_then(|n| n.parse().ok())
}

/// Chains' parts of one artifact: `<stem>.signature` with `.payload`,
/// `.cert` and `.chain` beside it (the last three optional).
fn read_parts(signature: &Path) -> Result<Evidence, InputError> {
    let read = |path: &Path| fs::read(path).map_err(|e| io_error(path, e));
    let optional = |ext: &str| -> Result<Option<Vec<u8>>, InputError> {
        let path = signature.with_extension(ext);
        if path.is_file() {
            read(&path).map(Some)
        } else {
            Ok(None)
        }
    };
    let sig = read(signature)?;
    Ok(Evidence::from_parts(
        signature.display().to_string(),
        optional("payload")?,
        sig,
        optional("cert")?,
        optional("chain")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparency_annotation_index() {
        assert_eq!(
            log_index_of("https://rekor.sigstore.dev/api/v1/log/entries?logIndex=42"),
            Some(42)
        );
        assert_eq!(log_index_of("https://rekor/api/v1/log/entries/abc"), None);
    }

    #[test]
    fn runs_with_and_without_annotations() {
        let run = serde_json::json!({
            "kind": "TaskRun", "metadata": {"name": "t", "annotations": {
                "chains.tekton.dev/signed": "true",
                "chains.tekton.dev/signature-taskrun-1": "!!notbase64",
                "chains.tekton.dev/payload-taskrun-1": "e30=",
            }}
        });
        let mut got = Vec::new();
        classify(run, "f", None, &mut |e| got.push(e)).unwrap();
        assert_eq!(got.len(), 1);
        assert!(matches!(&got[0].signed, Signed::Unusable(w) if w.contains("not base64")));
        let mut got = Vec::new();
        let bare = serde_json::json!({"kind": "TaskRun", "metadata": {"name": "t"}});
        classify(bare, "f", None, &mut |e| got.push(e)).unwrap();
        assert!(matches!(&got[0].signed, Signed::Unusable(w) if w.contains("not attested")));
    }
}
