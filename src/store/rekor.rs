//! Rekor uploads, as Tekton Chains v0.29 makes them: an attestation (a
//! DSSE envelope) as a `dsse` v0.0.1 entry (`cosign.TLogUploadDSSEEnvelope`)
//! and an image signature as a `hashedrekord` v0.0.1 entry over the SHA-256
//! of the signed payload (`cosign.TLogUpload`). The log client and the
//! checks of what Rekor returns live in [`crate::tlog`]; here the entry is
//! proposed and what Rekor logged is checked to record this artifact: its
//! hashes, signature and key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ArtifactKind, SignedArtifact, StoreError, with_retries};
use crate::tlog::{LogEntry, Logged, Rules, TlogError, entry_records};

const BACKEND: &str = "rekor";

impl From<TlogError> for StoreError {
    fn from(e: TlogError) -> StoreError {
        if e.transient {
            StoreError::transient(BACKEND, e.message)
        } else {
            StoreError::new(BACKEND, e.message)
        }
    }
}

/// Chains' uploads to one Rekor (the log client with the rules above).
#[derive(Debug)]
pub struct Rekor {
    log: crate::tlog::Rekor,
}

impl Rekor {
    /// The Rekor at `url`, with its key (`--rekor-public-key`) or the one it
    /// serves (fetched with retries, which trusts whoever answers at `url`).
    pub fn new(url: &str, public_key_pem: Option<&str>) -> Result<Rekor, StoreError> {
        let log = with_retries(|| {
            crate::tlog::Rekor::new(url, public_key_pem).map_err(StoreError::from)
        })?;
        Ok(Rekor { log })
    }

    /// Upload `artifact` as Chains v0.29 does (see the module
    /// documentation), check the entry Rekor returns and that it records
    /// this artifact, and return it. An entry that already exists (409) is
    /// fetched and checked the same way.
    pub fn upload(&self, artifact: &SignedArtifact) -> Result<LogEntry, StoreError> {
        let proposed = proposed_entry(artifact)?;
        let entry = self.log.upload(&proposed)?;
        entry_matches(&entry, artifact).map_err(|why| {
            StoreError::new(
                BACKEND,
                format!("Rekor returned an entry that does not record this artifact: {why}"),
            )
        })?;
        Ok(entry)
    }

    /// Check an entry offline against the log key (see [`crate::tlog::proof`]).
    pub fn verify_entry(&self, entry: &LogEntry) -> Result<(), StoreError> {
        self.log
            .verify_entry(entry, Rules::default())
            .map(|_| ())
            .map_err(StoreError::from)
    }

    /// `{url}/api/v1/log/entries?logIndex=N`: what Chains puts in the
    /// `chains.tekton.dev/transparency` annotation.
    pub fn entry_url(&self, entry: &LogEntry) -> String {
        self.log.entry_url(entry)
    }
}

/// The entry Chains v0.29 proposes for `artifact`.
fn proposed_entry(artifact: &SignedArtifact) -> Result<Value, StoreError> {
    let verifier = artifact.verifier_pem();
    match artifact.kind {
        ArtifactKind::Oci => Ok(json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {
                    "algorithm": "sha256",
                    "value": crate::tlog::hex(&Sha256::digest(&artifact.payload)),
                }},
                "signature": {
                    "content": STANDARD.encode(&artifact.signature),
                    "publicKey": {"content": STANDARD.encode(verifier.as_bytes())},
                },
            },
        })),
        ArtifactKind::TaskRun | ArtifactKind::PipelineRun => {
            let bad = |why: &str| {
                StoreError::new(
                    BACKEND,
                    format!(
                        "cannot upload {}: its signature is not a DSSE envelope ({why})",
                        artifact.short_key
                    ),
                )
            };
            let envelope =
                std::str::from_utf8(&artifact.signature).map_err(|_| bad("not UTF-8"))?;
            let parsed: crate::sign::dsse::Envelope =
                serde_json::from_str(envelope).map_err(|e| bad(&e.to_string()))?;
            if parsed.signatures.is_empty() {
                return Err(bad("no signatures"));
            }
            // The Go client sends the canonical (re-encoded) PEM of the key.
            let canonical = crate::tlog::canonical_pem(&verifier).ok_or_else(|| {
                StoreError::new(
                    BACKEND,
                    format!("the verifier of {} is not PEM", artifact.short_key),
                )
            })?;
            Ok(json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {"proposedContent": {
                    "envelope": envelope,
                    "verifiers": [STANDARD.encode(canonical.as_bytes())],
                }},
            }))
        }
    }
}

/// Whether the entry's (Rekor-canonicalized) body records `artifact`:
/// `hashedrekord`: the payload's SHA-256, the signature and the key;
/// `dsse`: the envelope's and payload's SHA-256 and every envelope signature
/// with our key as its verifier.
fn entry_matches(entry: &LogEntry, artifact: &SignedArtifact) -> Result<(), String> {
    let payload_sha256 = Sha256::digest(&artifact.payload);
    let logged = match artifact.kind {
        ArtifactKind::Oci => Logged::Message {
            payload_sha256: &payload_sha256,
            signature: &artifact.signature,
        },
        _ => Logged::Envelope {
            envelope_json: Some(&artifact.signature),
            envelope: artifact
                .envelope
                .as_ref()
                .ok_or("the attestation has no envelope")?,
            payload: &artifact.payload,
        },
    };
    entry_records(entry, &logged, &artifact.verifier_pem())
}
