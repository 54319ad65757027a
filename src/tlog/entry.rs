//! Log entries and what their bodies record.
//!
//! Every entry kind in use is read: Rekor v1 `hashedrekord` 0.0.1, `dsse`
//! 0.0.1 and `intoto` 0.0.1 / 0.0.2 (Tekton Chains until v0.29 and
//! `cosign attest` upload `intoto`), and Rekor v2 `hashedrekord` and `dsse`
//! 0.0.2 (protobuf JSON: digests and keys in base64, the verifier as DER).
//! [`entry_records`] checks that the body records the artifact at hand: the
//! hashes it holds against the payload or envelope, the signature, and the
//! key or certificate. A body that repeats a JSON key is refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{first_pem_der, hex};
use crate::sign::dsse::{Envelope, pae};

/// A transparency log entry as Rekor (v1 or v2) and Sigstore bundles record it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The entry's ID as Rekor returned it: the 64-hex UUID (the leaf hash of
    /// the body), possibly after a 16-hex tree ID. Empty when not known.
    pub uuid: String,
    pub log_index: i64,
    /// Seconds since the epoch; 0 where the log gives none (Rekor v2). Only
    /// a verified signed entry timestamp makes it trusted.
    pub integrated_time: i64,
    /// Hex log ID: SHA-256 of the log's public key (DER) for Rekor v1, the
    /// signed-note key ID for Rekor v2.
    pub log_id: String,
    /// Base64 canonicalized entry body.
    pub body: String,
    /// Base64 signed entry timestamp; empty where there is none (Rekor v2,
    /// or a bundle without an inclusion promise).
    pub signed_entry_timestamp: String,
    /// The proof that the entry is in the log's Merkle tree, when Rekor gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
}

/// An RFC 6962 inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The leaf's index in the tree the proof is for (in a sharded log this is
    /// the index within the shard, not [`LogEntry::log_index`]).
    pub log_index: i64,
    pub tree_size: i64,
    /// Hex root hash of the tree of `tree_size` leaves.
    pub root_hash: String,
    /// Hex sibling hashes, from the leaf up.
    pub hashes: Vec<String>,
    /// The log's signed checkpoint (a signed note) for that tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

impl LogEntry {
    /// cosign's bundle annotation (`dev.sigstore.cosign/bundle`), field for
    /// field as cosign's `bundle.RekorBundle` marshals:
    /// `{"SignedEntryTimestamp":..,"Payload":{"body":..,"integratedTime":..,"logIndex":..,"logID":..}}`.
    pub fn cosign_bundle_json(&self) -> String {
        #[derive(Serialize)]
        struct Payload<'a> {
            body: &'a str,
            #[serde(rename = "integratedTime")]
            integrated_time: i64,
            #[serde(rename = "logIndex")]
            log_index: i64,
            #[serde(rename = "logID")]
            log_id: &'a str,
        }
        #[derive(Serialize)]
        struct Bundle<'a> {
            #[serde(rename = "SignedEntryTimestamp")]
            signed_entry_timestamp: &'a str,
            #[serde(rename = "Payload")]
            payload: Payload<'a>,
        }
        serde_json::to_string(&Bundle {
            signed_entry_timestamp: &self.signed_entry_timestamp,
            payload: Payload {
                body: &self.body,
                integrated_time: self.integrated_time,
                log_index: self.log_index,
                log_id: &self.log_id,
            },
        })
        .unwrap_or_default()
    }

    /// The body's `kind` and `apiVersion` (empty when the body is not JSON).
    pub fn kind_version(&self) -> (String, String) {
        let body = self.body_json().unwrap_or(Value::Null);
        let field = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        (field("kind"), field("apiVersion"))
    }

    /// The decoded body; a body that repeats a key is refused.
    pub fn body_json(&self) -> Result<Value, String> {
        let raw = STANDARD
            .decode(&self.body)
            .map_err(|_| "its body is not base64".to_string())?;
        crate::strict_json::value_from_slice(&raw).map_err(|e| format!("its body is not JSON: {e}"))
    }
}

/// What a log entry should record.
pub enum Logged<'a> {
    /// A signature over a payload (or a message) with this SHA-256.
    Message {
        payload_sha256: &'a [u8],
        signature: &'a [u8],
    },
    /// A DSSE envelope. Its hash is checked only when its exact bytes are
    /// known (`envelope_json`): an envelope read back from a bundle or
    /// annotation may have been re-serialized.
    Envelope {
        envelope_json: Option<&'a [u8]>,
        envelope: &'a Envelope,
        payload: &'a [u8],
    },
}

/// Whether the entry's body records `logged`, signed by the key or
/// certificate in `verifier_pem` (its first PEM block).
pub fn entry_records(entry: &LogEntry, logged: &Logged, verifier_pem: &str) -> Result<(), String> {
    let body = entry.body_json()?;
    let ours = first_pem_der(verifier_pem).ok_or("the verifier is not PEM")?;
    let kind = text(&body, &["kind"]).unwrap_or_default();
    let version = text(&body, &["apiVersion"]).unwrap_or_default();
    let spec = body.get("spec").unwrap_or(&Value::Null);
    let check = Check { spec, ours: &ours };
    match (kind.as_str(), version.as_str(), logged) {
        (
            "hashedrekord",
            "0.0.1",
            Logged::Message {
                payload_sha256,
                signature,
            },
        ) => check.hashedrekord_v1(payload_sha256, signature),
        (
            "hashedrekord",
            "0.0.2",
            Logged::Message {
                payload_sha256,
                signature,
            },
        ) => check.hashedrekord_v2(payload_sha256, signature),
        // Rekor v2 logs a DSSE envelope's signature as a hashedrekord over
        // the SHA-256 of its pre-authentication encoding (sigstore-python).
        (
            "hashedrekord",
            "0.0.2",
            Logged::Envelope {
                envelope, payload, ..
            },
        ) => {
            let digest = Sha256::digest(pae(&envelope.payload_type, payload));
            let sig = only_signature(envelope)?;
            check.hashedrekord_v2(&digest, &sig)
        }
        (
            "dsse",
            "0.0.1",
            Logged::Envelope {
                envelope_json,
                envelope,
                payload,
            },
        ) => check.dsse_v1(*envelope_json, envelope, payload),
        (
            "dsse",
            "0.0.2",
            Logged::Envelope {
                envelope, payload, ..
            },
        ) => check.dsse_v2(envelope, payload),
        (
            "intoto",
            "0.0.1",
            Logged::Envelope {
                envelope_json,
                payload,
                ..
            },
        ) => check.intoto_v1(*envelope_json, payload),
        (
            "intoto",
            "0.0.2",
            Logged::Envelope {
                envelope, payload, ..
            },
        ) => check.intoto_v2(envelope, payload),
        (k, v, logged) => {
            let what = match logged {
                Logged::Message { .. } => {
                    "a signature over a message (hashedrekord 0.0.1 or 0.0.2)"
                }
                Logged::Envelope { .. } => {
                    "a DSSE envelope (dsse 0.0.1 or 0.0.2, intoto 0.0.1 or 0.0.2, hashedrekord 0.0.2)"
                }
            };
            Err(format!(
                "it is a {k:?} {v:?} entry, which cannot record {what}"
            ))
        }
    }
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str().map(str::to_string)
}

fn b64(v: &Value, path: &[&str]) -> Option<Vec<u8>> {
    text(v, path).and_then(|s| STANDARD.decode(s).ok())
}

/// A bundle envelope carries exactly one signature; an entry records one.
fn only_signature(envelope: &Envelope) -> Result<Vec<u8>, String> {
    match envelope.signatures.as_slice() {
        [one] => STANDARD
            .decode(&one.sig)
            .map_err(|_| "the envelope's signature is not base64".to_string()),
        more => Err(format!(
            "the envelope has {} signatures; a log entry of this kind records exactly one",
            more.len()
        )),
    }
}

/// One body's spec, checked against the artifact and our key's DER.
struct Check<'a> {
    spec: &'a Value,
    ours: &'a [u8],
}

impl Check<'_> {
    /// Base64 of a PEM key or certificate (v1 bodies).
    fn same_pem_key(&self, b64_pem: Option<String>) -> bool {
        b64_pem
            .and_then(|b| STANDARD.decode(b).ok())
            .and_then(|pem| String::from_utf8(pem).ok())
            .and_then(|pem| first_pem_der(&pem))
            .is_some_and(|der| der == self.ours)
    }

    /// A v2 `verifier`: `{x509Certificate|publicKey: {rawBytes}}` (DER).
    fn same_v2_key(&self, verifier: &Value) -> bool {
        ["x509Certificate", "publicKey"]
            .iter()
            .filter_map(|k| b64(verifier, &[k, "rawBytes"]))
            .any(|der| der == self.ours)
    }

    /// `{algorithm: "sha256", value: hex}` at `path` equals SHA-256 `want`.
    fn v1_hash(&self, path: &[&str], want: &[u8], what: &str) -> Result<(), String> {
        let at = |k: &str| {
            let mut p = path.to_vec();
            p.push(k);
            text(self.spec, &p).unwrap_or_default()
        };
        let (alg, value) = (at("algorithm"), at("value"));
        if alg != "sha256" || !value.eq_ignore_ascii_case(&hex(want)) {
            return Err(format!(
                "it records the {what} hash {alg}:{value}, not sha256:{}",
                hex(want)
            ));
        }
        Ok(())
    }

    /// `{algorithm: "SHA2_256", digest: base64}` at `path` equals `want`.
    fn v2_hash(&self, path: &[&str], want: &[u8], what: &str) -> Result<(), String> {
        let mut p = path.to_vec();
        p.push("algorithm");
        let alg = text(self.spec, &p).unwrap_or_default();
        p.pop();
        p.push("digest");
        let digest = b64(self.spec, &p).unwrap_or_default();
        if alg != "SHA2_256" || digest != want {
            return Err(format!(
                "it records the {what} hash {alg}:{}, not sha256:{}",
                hex(&digest),
                hex(want)
            ));
        }
        Ok(())
    }

    fn hashedrekord_v1(&self, sha256: &[u8], signature: &[u8]) -> Result<(), String> {
        self.v1_hash(&["data", "hash"], sha256, "payload")?;
        if b64(self.spec, &["signature", "content"]).as_deref() != Some(signature) {
            return Err("it records another signature".into());
        }
        if !self.same_pem_key(text(self.spec, &["signature", "publicKey", "content"])) {
            return Err("it records another public key or certificate".into());
        }
        Ok(())
    }

    fn hashedrekord_v2(&self, sha256: &[u8], signature: &[u8]) -> Result<(), String> {
        let spec = self.spec.get("hashedRekordV002").unwrap_or(&Value::Null);
        let inner = Check {
            spec,
            ours: self.ours,
        };
        inner.v2_hash(&["data"], sha256, "payload")?;
        if b64(spec, &["signature", "content"]).as_deref() != Some(signature) {
            return Err("it records another signature".into());
        }
        if !inner.same_v2_key(spec.pointer("/signature/verifier").unwrap_or(&Value::Null)) {
            return Err("it records another public key or certificate".into());
        }
        Ok(())
    }

    fn dsse_v1(
        &self,
        envelope_json: Option<&[u8]>,
        envelope: &Envelope,
        payload: &[u8],
    ) -> Result<(), String> {
        if let Some(json) = envelope_json {
            self.v1_hash(&["envelopeHash"], &Sha256::digest(json), "envelope")?;
        }
        self.v1_hash(&["payloadHash"], &Sha256::digest(payload), "payload")?;
        let logged = self.spec.get("signatures").and_then(Value::as_array);
        for sig in &envelope.signatures {
            let found = logged.into_iter().flatten().any(|l| {
                text(l, &["signature"]).as_deref() == Some(sig.sig.as_str())
                    && self.same_pem_key(text(l, &["verifier"]))
            });
            if !found {
                return Err(
                    "it does not record the envelope's signature with this key as its verifier"
                        .into(),
                );
            }
        }
        Ok(())
    }

    fn dsse_v2(&self, envelope: &Envelope, payload: &[u8]) -> Result<(), String> {
        let spec = self.spec.get("dsseV002").unwrap_or(&Value::Null);
        let inner = Check {
            spec,
            ours: self.ours,
        };
        inner.v2_hash(&["payloadHash"], &Sha256::digest(payload), "payload")?;
        let logged = spec.get("signatures").and_then(Value::as_array);
        for sig in &envelope.signatures {
            let raw = STANDARD.decode(&sig.sig).ok();
            let found = logged.into_iter().flatten().any(|l| {
                b64(l, &["content"]) == raw
                    && inner.same_v2_key(l.get("verifier").unwrap_or(&Value::Null))
            });
            if !found {
                return Err(
                    "it does not record the envelope's signature with this key as its verifier"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// intoto 0.0.1 records the envelope's and payload's hashes and the key,
    /// not the signature (the envelope hash only when its bytes are known).
    fn intoto_v1(&self, envelope_json: Option<&[u8]>, payload: &[u8]) -> Result<(), String> {
        if let Some(json) = envelope_json {
            self.v1_hash(&["content", "hash"], &Sha256::digest(json), "envelope")?;
        }
        self.v1_hash(
            &["content", "payloadHash"],
            &Sha256::digest(payload),
            "payload",
        )?;
        if !self.same_pem_key(text(self.spec, &["publicKey"])) {
            return Err("it records another public key or certificate".into());
        }
        Ok(())
    }

    /// intoto 0.0.2 records the payload's hash and the envelope's signatures
    /// (each base64 of the envelope's base64 `sig`) with their keys. Its
    /// `hash` is of Rekor's re-encoding of the envelope, which a verifier
    /// cannot reproduce, so it is not compared (as sigstore-go).
    fn intoto_v2(&self, envelope: &Envelope, payload: &[u8]) -> Result<(), String> {
        self.v1_hash(
            &["content", "payloadHash"],
            &Sha256::digest(payload),
            "payload",
        )?;
        let logged_type = text(self.spec, &["content", "envelope", "payloadType"]);
        if logged_type.as_deref() != Some(envelope.payload_type.as_str()) {
            return Err(format!(
                "it records the payload type {:?}, not {:?}",
                logged_type.unwrap_or_default(),
                envelope.payload_type
            ));
        }
        let logged = self
            .spec
            .pointer("/content/envelope/signatures")
            .and_then(Value::as_array);
        for sig in &envelope.signatures {
            let found = logged.into_iter().flatten().any(|l| {
                b64(l, &["sig"]).as_deref() == Some(sig.sig.as_bytes())
                    && self.same_pem_key(text(l, &["publicKey"]))
            });
            if !found {
                return Err("it does not record the envelope's signature with this key".into());
            }
        }
        Ok(())
    }
}
