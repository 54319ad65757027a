//! The `tekton` backend: Chains' annotations on the run itself.
//!
//! For every signed artifact Chains sets `chains.tekton.dev/payload-<key>`,
//! `signature-<key>`, `cert-<key>` and `chain-<key>` (base64), and once every
//! artifact of the run is stored, `chains.tekton.dev/signed: "true"` (and
//! `chains.tekton.dev/transparency` with the Rekor entry URL). Offline, the
//! annotated run is written back in its own syntax; the storing itself only
//! collects annotations, so a run is never marked signed before all its
//! backends succeeded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::{Backend, SignedArtifact, StoreError};
use crate::annotations::Part;
use crate::run::{RunId, Syntax};

/// Collects Chains' payload annotations for each artifact.
pub struct TektonBackend;

impl Backend for TektonBackend {
    fn name(&self) -> &'static str {
        "tekton"
    }

    fn store(
        &self,
        _run: &RunId,
        artifact: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(payload_annotations(artifact))
    }
}

/// The four annotations Chains writes for one artifact (empty cert and
/// chain are written too, as base64 of nothing, as Chains does).
pub fn payload_annotations(artifact: &SignedArtifact) -> Vec<(String, String)> {
    let key = &artifact.short_key;
    let (cert, chain) = match &artifact.certificate {
        Some(c) => (c.certificate_pem.as_bytes(), c.chain_pem.as_bytes()),
        None => (&b""[..], &b""[..]),
    };
    vec![
        (
            Part::Payload.annotation(key),
            STANDARD.encode(&artifact.payload),
        ),
        (
            Part::Signature.annotation(key),
            STANDARD.encode(&artifact.signature),
        ),
        (Part::Cert.annotation(key), STANDARD.encode(cert)),
        (Part::Chain.annotation(key), STANDARD.encode(chain)),
    ]
}

/// Set annotations on a Kubernetes object (creating `metadata.annotations`).
pub fn annotate(object: &mut Value, annotations: &[(String, String)]) {
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let anns = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !anns.is_object() {
        *anns = Value::Object(Map::new());
    }
    if let Some(anns) = anns.as_object_mut() {
        for (k, v) in annotations {
            anns.insert(k.clone(), Value::String(v.clone()));
        }
    }
}

/// The object in the syntax it was read in.
pub fn serialize(object: &Value, syntax: Syntax) -> Vec<u8> {
    match syntax {
        Syntax::Json => {
            let mut out = serde_json::to_vec_pretty(object).expect("a JSON tree always serializes");
            out.push(b'\n');
            out
        }
        Syntax::Yaml => serde_saphyr::to_string(object)
            .map(String::into_bytes)
            .unwrap_or_else(|_| {
                serde_json::to_vec_pretty(object).expect("a JSON tree always serializes")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotations::SIGNED;

    #[test]
    fn annotates_and_round_trips() {
        let mut v = serde_json::json!({"kind": "TaskRun", "metadata": {"name": "x"}});
        annotate(&mut v, &[(SIGNED.to_string(), "true".to_string())]);
        assert_eq!(v["metadata"]["annotations"][SIGNED], "true");
        let y = serialize(&v, Syntax::Yaml);
        let back: Value = serde_saphyr::from_str(std::str::from_utf8(&y).unwrap()).unwrap();
        assert_eq!(back, v);
        let mut no_meta = serde_json::json!({"kind": "TaskRun", "metadata": null});
        annotate(&mut no_meta, &[("a".into(), "b".into())]);
        assert_eq!(no_meta["metadata"]["annotations"]["a"], "b");
    }
}
