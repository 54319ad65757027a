//! Rekor transparency log uploads, as Tekton Chains v0.29 makes them, and the
//! verification of the entries Rekor returns.
//!
//! Chains uploads an attestation (a DSSE envelope) as a `dsse` v0.0.1 entry
//! (`cosign.TLogUploadDSSEEnvelope`) and an image signature as a
//! `hashedrekord` v0.0.1 entry over the SHA-256 of the signed payload
//! (`cosign.TLogUpload`). Before an entry is used, it is checked here:
//!
//! - its UUID is the RFC 6962 leaf hash of its body (when Rekor gave one);
//! - its signed entry timestamp (SET) verifies against the log key: an
//!   ECDSA/SHA-256 (or Ed25519) signature over the RFC 8785 canonical JSON of
//!   `{body, integratedTime, logID, logIndex}`;
//! - its RFC 6962 inclusion proof leads from the leaf hash to the proof's root;
//! - the signed checkpoint, when present, is signed by the log key and names
//!   the same tree size and root;
//! - (uploads) the body records this artifact: its hashes, signature and key.
//!
//! A 409 from Rekor means the entry is already logged: it is fetched, checked
//! the same way, and returned. Transient failures (timeouts, 408, 429, 5xx)
//! are [`StoreError::transient`]; callers retry them with
//! [`with_retries`](super::with_retries).

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ArtifactKind, SignedArtifact, StoreError, is_transient_status, with_retries};
use crate::pem;
use crate::sign::{KeyKind, PublicKey};

const BACKEND: &str = "rekor";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Rekor answers with one entry; its body is small for the kinds Chains
/// uploads, but other kinds can carry whole documents.
const MAX_RESPONSE: u64 = 32 * 1024 * 1024;
const MAX_ERROR_BODY: u64 = 64 * 1024;
const ENTRIES_PATH: &str = "/api/v1/log/entries";

/// A Rekor log entry as Chains and cosign record it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The entry's ID as Rekor returned it: the 64-hex UUID (the leaf hash of
    /// the body), possibly after a 16-hex tree ID. Empty when not known.
    pub uuid: String,
    pub log_index: i64,
    pub integrated_time: i64,
    /// Hex SHA-256 of the log's public key (DER).
    pub log_id: String,
    /// Base64 canonicalized entry body.
    pub body: String,
    /// Base64 signed entry timestamp.
    pub signed_entry_timestamp: String,
    /// The proof that the entry is in the log's Merkle tree, when Rekor gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
}

/// An RFC 6962 inclusion proof, as Rekor's v1 API gives it.
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
        .expect("a bundle always serializes")
    }

    /// A Sigstore bundle v0.3 `verificationMaterial.tlogEntries[]` element, in
    /// protobuf JSON (int64 as strings, bytes as base64). `inclusionProof` is
    /// left out when the entry has none, and its `checkpoint` likewise.
    pub fn bundle_tlog_entry(&self) -> Value {
        let (kind, version) = self.kind_version();
        let hex_b64 = |h: &str| {
            hex_decode(h)
                .map(|b| STANDARD.encode(b))
                .unwrap_or_default()
        };
        let mut out = json!({
            "logIndex": self.log_index.to_string(),
            "logId": {"keyId": hex_b64(&self.log_id)},
            "kindVersion": {"kind": kind, "version": version},
            "integratedTime": self.integrated_time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": self.signed_entry_timestamp},
            "canonicalizedBody": self.body,
        });
        if let Some(p) = &self.inclusion_proof {
            let mut proof = json!({
                "logIndex": p.log_index.to_string(),
                "rootHash": hex_b64(&p.root_hash),
                "treeSize": p.tree_size.to_string(),
                "hashes": p.hashes.iter().map(|h| hex_b64(h)).collect::<Vec<_>>(),
            });
            if let Some(c) = &p.checkpoint {
                proof["checkpoint"] = json!({"envelope": c});
            }
            out["inclusionProof"] = proof;
        }
        out
    }

    /// The body's `kind` and `apiVersion` (empty when the body is not JSON).
    fn kind_version(&self) -> (String, String) {
        let body: Value = STANDARD
            .decode(&self.body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let field = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        (field("kind"), field("apiVersion"))
    }
}

/// A Rekor log: its URL, an HTTP client, and the keys its entries must verify against.
pub struct Rekor {
    url: String,
    /// `url` without any user or password, for messages.
    shown: String,
    client: reqwest::blocking::Client,
    keys: Vec<LogKey>,
}

impl std::fmt::Debug for Rekor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rekor")
            .field("url", &self.shown)
            .field(
                "log_ids",
                &self.keys.iter().map(|k| hex(&k.log_id)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Rekor {
    /// A Rekor at `url`. `public_key_pem` is the log's key (`--rekor-public-key`;
    /// several PEM `PUBLIC KEY` blocks are accepted, for a log whose key
    /// rotated); `None` fetches `GET {url}/api/v1/log/publicKey` once, which
    /// trusts whoever answers at `url`.
    pub fn new(url: &str, public_key_pem: Option<&str>) -> Result<Rekor, StoreError> {
        let url = url.trim().trim_end_matches('/').to_string();
        let shown = match reqwest::Url::parse(&url) {
            Ok(mut u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.as_str().trim_end_matches('/').to_string()
            }
            _ => {
                // A URL that does not parse may still hold a password: not shown then.
                let what = if url.contains('@') {
                    "the Rekor URL".to_string()
                } else {
                    format!("{url:?}")
                };
                return Err(StoreError::new(
                    BACKEND,
                    format!("{what} is not an http(s) URL of a Rekor server"),
                ));
            }
        };
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("chains/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                StoreError::new(
                    BACKEND,
                    format!(
                        "cannot create an HTTP client: {}",
                        crate::cloud::error_chain(&e)
                    ),
                )
            })?;
        let mut rekor = Rekor {
            url,
            shown,
            client,
            keys: Vec::new(),
        };
        let (pem, source) = match public_key_pem {
            Some(p) => (p.to_string(), "the Rekor public key given".to_string()),
            None => {
                let endpoint = format!("{}/api/v1/log/publicKey", rekor.url);
                let text = with_retries(|| rekor.get_text(&endpoint))?;
                (text, format!("the public key from {}", rekor.shown))
            }
        };
        rekor.keys = parse_log_keys(&pem)
            .map_err(|why| StoreError::new(BACKEND, format!("{source} is not usable: {why}")))?;
        Ok(rekor)
    }

    /// A log known only by its key, for checking entries offline (SETs,
    /// inclusion proofs, checkpoints) with no server to ask.
    pub fn offline(public_key_pem: &str) -> Result<Rekor, StoreError> {
        let keys = parse_log_keys(public_key_pem).map_err(|why| {
            StoreError::new(
                BACKEND,
                format!("the Rekor public key given is not usable: {why}"),
            )
        })?;
        Ok(Rekor {
            url: String::new(),
            shown: "(offline)".into(),
            client: reqwest::blocking::Client::new(),
            keys,
        })
    }

    /// The log's entry at `log_index` (`GET {url}/api/v1/log/entries?logIndex=N`),
    /// checked like any other entry before it is returned.
    pub fn entry_at(&self, log_index: i64) -> Result<LogEntry, StoreError> {
        if self.url.is_empty() {
            return Err(self.error("no Rekor URL to look the entry up at"));
        }
        let entry = self.get_entry(
            &format!("{}{ENTRIES_PATH}?logIndex={log_index}", self.url),
            &format!("has no entry at log index {log_index}"),
            None,
        )?;
        if entry.log_index != log_index {
            return Err(self.error(format!(
                "asked for log index {log_index}, Rekor answered with entry {}",
                entry.log_index
            )));
        }
        self.check(&entry, false)?;
        Ok(entry)
    }

    /// Upload `artifact` as Chains v0.29 does (a `dsse` entry for an
    /// attestation, a `hashedrekord` entry for an image signature), check the
    /// entry Rekor returns (see the module documentation) and return it. When
    /// the entry already exists (409), the logged entry is fetched, checked and
    /// returned.
    pub fn upload(&self, artifact: &SignedArtifact) -> Result<LogEntry, StoreError> {
        let proposed = proposed_entry(artifact)?;
        let endpoint = format!("{}{ENTRIES_PATH}", self.url);
        let response = self
            .client
            .post(&endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&proposed)
            .send()
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let entry = match status {
            200 | 201 => {
                let body = self.read_body(response, MAX_RESPONSE)?;
                let (_, entry) = self.parse_entries(&body, None)?;
                entry
            }
            409 => {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let body = self.read_body(response, MAX_ERROR_BODY).unwrap_or_default();
                let uuid = location
                    .as_deref()
                    .and_then(|l| l.rsplit('/').next())
                    .filter(|id| is_entry_id(id))
                    .map(str::to_string)
                    .or_else(|| uuid_in_message(&error_detail(&body)))
                    .ok_or_else(|| {
                        self.error(format!(
                            "Rekor says the entry already exists (HTTP 409) but not which it is (no Location header): {}",
                            error_detail(&body)
                        ))
                    })?;
                self.fetch(&uuid)?
            }
            _ => {
                let body = self.read_body(response, MAX_ERROR_BODY).unwrap_or_default();
                return Err(self.status_error(status, &body, "refused the entry"));
            }
        };
        self.check(&entry, true)?;
        entry_matches(&entry, artifact).map_err(|why| {
            self.error(format!(
                "Rekor returned an entry that does not record this artifact: {why}"
            ))
        })?;
        Ok(entry)
    }

    /// Verify an entry offline against the log key: its UUID (when set)
    /// against its body, its signed entry timestamp, and its inclusion proof
    /// and checkpoint when it has them (entries from cosign bundles have only
    /// the timestamp).
    pub fn verify_entry(&self, entry: &LogEntry) -> Result<(), StoreError> {
        self.check(entry, false)
    }

    /// `{url}/api/v1/log/entries?logIndex=N`: what Chains puts in the
    /// `chains.tekton.dev/transparency` annotation.
    pub fn entry_url(&self, entry: &LogEntry) -> String {
        format!("{}{ENTRIES_PATH}?logIndex={}", self.url, entry.log_index)
    }

    /// The checks of [`verify_entry`](Self::verify_entry); with `need_proof`,
    /// an entry without an inclusion proof is refused (Rekor always sends one
    /// for an entry it has just logged or is asked for).
    fn check(&self, entry: &LogEntry, need_proof: bool) -> Result<(), StoreError> {
        let body = STANDARD
            .decode(&entry.body)
            .map_err(|_| self.error("Rekor returned an entry whose body is not base64"))?;
        let leaf = leaf_hash(&body);
        if !entry.uuid.is_empty() {
            let id = entry.uuid.to_ascii_lowercase();
            if !is_entry_id(&id) || id[id.len() - 64..] != hex(&leaf) {
                return Err(self.error(format!(
                    "Rekor returned an entry whose body does not match its UUID {} (the UUID must be the body's leaf hash {})",
                    entry.uuid,
                    hex(&leaf)
                )));
            }
        }

        let key = self.key_for(&entry.log_id)?;
        let set = STANDARD
            .decode(&entry.signed_entry_timestamp)
            .map_err(|_| self.set_error("it is not base64"))?;
        let signed = serde_json_canonicalizer::to_vec(&json!({
            "body": entry.body,
            "integratedTime": entry.integrated_time,
            "logID": entry.log_id,
            "logIndex": entry.log_index,
        }))
        .map_err(|e| self.set_error(&format!("cannot canonicalize the entry: {e}")))?;
        if !key.verify(&signed, &set) {
            return Err(self.set_error("the signature is not the log's"));
        }

        let Some(proof) = &entry.inclusion_proof else {
            if need_proof {
                return Err(self.error(
                    "Rekor returned an entry without an inclusion proof; it cannot be shown to be in the log",
                ));
            }
            return Ok(());
        };
        let root = verify_inclusion(proof, &leaf).map_err(|why| {
            self.error(format!(
                "Rekor returned an entry whose inclusion proof does not verify: {why}"
            ))
        })?;
        if let Some(checkpoint) = &proof.checkpoint {
            verify_checkpoint(checkpoint, key, proof.tree_size, &root).map_err(|why| {
                self.error(format!(
                    "Rekor returned an entry whose signed checkpoint does not verify against the log key: {why}"
                ))
            })?;
        }
        Ok(())
    }

    fn key_for(&self, log_id: &str) -> Result<&LogKey, StoreError> {
        let id = hex_decode(log_id);
        self.keys
            .iter()
            .find(|k| id.as_deref() == Some(&k.log_id[..]))
            .ok_or_else(|| {
                self.set_error(&format!(
                    "the entry was logged by the log with ID {log_id}, and the log key given has ID {}",
                    self.keys
                        .iter()
                        .map(|k| hex(&k.log_id))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// GET an entry by UUID or entry ID, as cosign does after a 409.
    fn fetch(&self, id: &str) -> Result<LogEntry, StoreError> {
        self.get_entry(
            &format!("{}{ENTRIES_PATH}/{id}", self.url),
            &format!("did not return the existing entry {id}"),
            Some(id),
        )
    }

    /// GET one entry; `what` says what a 4xx means, `wanted` is the entry
    /// ID the answer must be for, when known.
    fn get_entry(
        &self,
        endpoint: &str,
        what: &str,
        wanted: Option<&str>,
    ) -> Result<LogEntry, StoreError> {
        let response = self
            .client
            .get(endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = self.read_body(response, MAX_ERROR_BODY).unwrap_or_default();
            return Err(self.status_error(status, &body, what));
        }
        let body = self.read_body(response, MAX_RESPONSE)?;
        let (_, entry) = self.parse_entries(&body, wanted)?;
        Ok(entry)
    }

    /// Rekor's `{"<entry ID>": {...}}` answer; exactly one entry, the one
    /// asked for when `wanted` is given.
    fn parse_entries(
        &self,
        body: &[u8],
        wanted: Option<&str>,
    ) -> Result<(String, LogEntry), StoreError> {
        let bad = |why: String| self.error(format!("Rekor returned an unusable answer: {why}"));
        let entries: serde_json::Map<String, Value> =
            serde_json::from_slice(body).map_err(|e| bad(format!("not a JSON object: {e}")))?;
        if entries.len() != 1 {
            return Err(bad(format!("{} entries instead of one", entries.len())));
        }
        let (id, value) = entries.into_iter().next().expect("one entry");
        if let Some(w) = wanted {
            let w = w.to_ascii_lowercase();
            let got = id.to_ascii_lowercase();
            // The UUIDs must agree; a tree ID asked for must be the one answered.
            let same = is_entry_id(&got)
                && got[got.len() - 64..] == w[w.len() - 64..]
                && (w.len() == 64 || got.len() == 64 || got == w);
            if !same {
                return Err(bad(format!("asked for entry {w}, got {id}")));
            }
        }
        let wire: WireEntry =
            serde_json::from_value(value).map_err(|e| bad(format!("entry {id}: {e}")))?;
        let verification = wire.verification.unwrap_or_default();
        let signed_entry_timestamp = verification
            .signed_entry_timestamp
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                self.error(format!(
                    "Rekor returned entry {id} without a signed entry timestamp"
                ))
            })?;
        let entry = LogEntry {
            uuid: id.clone(),
            log_index: wire.log_index,
            integrated_time: wire.integrated_time,
            log_id: wire.log_id,
            body: wire.body,
            signed_entry_timestamp,
            inclusion_proof: verification.inclusion_proof.map(|p| InclusionProof {
                log_index: p.log_index,
                tree_size: p.tree_size,
                root_hash: p.root_hash,
                hashes: p.hashes,
                checkpoint: p.checkpoint.filter(|c| !c.is_empty()),
            }),
        };
        Ok((id, entry))
    }

    fn get_text(&self, endpoint: &str) -> Result<String, StoreError> {
        let response = self
            .client
            .get(endpoint)
            .send()
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let body = self.read_body(response, MAX_ERROR_BODY)?;
        if status != 200 {
            return Err(self.status_error(status, &body, "did not return its public key"));
        }
        String::from_utf8(body).map_err(|_| self.error("Rekor's public key is not text"))
    }

    fn read_body(
        &self,
        response: reqwest::blocking::Response,
        limit: u64,
    ) -> Result<Vec<u8>, StoreError> {
        let mut body = Vec::new();
        response
            .take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| {
                StoreError::transient(
                    BACKEND,
                    format!(
                        "reading Rekor's answer ({}) failed: {}",
                        self.shown,
                        crate::cloud::error_chain(&e)
                    ),
                )
            })?;
        if body.len() as u64 > limit {
            return Err(self.error(format!("Rekor's answer is larger than {limit} bytes")));
        }
        Ok(body)
    }

    fn transport_error(&self, e: reqwest::Error) -> StoreError {
        if e.is_timeout() {
            return StoreError::transient(
                BACKEND,
                format!(
                    "Rekor ({}) did not answer within {}s",
                    self.shown,
                    REQUEST_TIMEOUT.as_secs()
                ),
            );
        }
        let connect = e.is_connect();
        let why = crate::cloud::error_chain(&e.without_url());
        if connect {
            return self.error(format!("cannot reach Rekor at {}: {why}", self.shown));
        }
        StoreError::transient(
            BACKEND,
            format!("the connection to Rekor ({}) failed: {why}", self.shown),
        )
    }

    /// `what` says what a 4xx means; other statuses are reported as such.
    fn status_error(&self, status: u16, body: &[u8], what: &str) -> StoreError {
        let detail = error_detail(body);
        let mut message = if (400..500).contains(&status) {
            format!("Rekor ({}) {what} (HTTP {status})", self.shown)
        } else {
            format!("Rekor ({}) answered HTTP {status}", self.shown)
        };
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(&detail);
        }
        if is_transient_status(status) {
            StoreError::transient(BACKEND, message)
        } else {
            StoreError::new(BACKEND, message)
        }
    }

    fn error(&self, message: impl Into<String>) -> StoreError {
        StoreError::new(BACKEND, message)
    }

    fn set_error(&self, why: &str) -> StoreError {
        self.error(format!(
            "Rekor returned an entry whose signed entry timestamp does not verify against the log key: {why}"
        ))
    }
}

#[derive(Deserialize)]
struct WireEntry {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(default)]
    verification: Option<WireVerification>,
}

#[derive(Default, Deserialize)]
struct WireVerification {
    #[serde(rename = "signedEntryTimestamp", default)]
    signed_entry_timestamp: Option<String>,
    #[serde(rename = "inclusionProof", default)]
    inclusion_proof: Option<WireProof>,
}

#[derive(Deserialize)]
struct WireProof {
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "treeSize")]
    tree_size: i64,
    #[serde(rename = "rootHash")]
    root_hash: String,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<String>,
}

// ---------------------------------------------------------------------------
// Proposed entries and what Rekor makes of them

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
                    "value": hex(&Sha256::digest(&artifact.payload)),
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
            let canonical = canonical_pem(&verifier).ok_or_else(|| {
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

/// What a log entry should record.
pub enum Logged<'a> {
    /// A `hashedrekord` entry: a signature over a payload with this SHA-256.
    Message {
        payload_sha256: &'a [u8],
        signature: &'a [u8],
    },
    /// A `dsse` entry. The envelope's hash is checked only when its exact
    /// bytes are known (`envelope_json`): an envelope read back from a
    /// bundle or annotation may have been re-serialized.
    Envelope {
        envelope_json: Option<&'a [u8]>,
        envelope: &'a crate::sign::dsse::Envelope,
        payload: &'a [u8],
    },
}

/// Whether the entry's body records `logged`, signed by the key or
/// certificate in `verifier_pem` (see [`entry_matches`]).
pub fn entry_records(entry: &LogEntry, logged: &Logged, verifier_pem: &str) -> Result<(), String> {
    let body: Value = STANDARD
        .decode(&entry.body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("its body is not JSON")?;
    let s = |v: &Value, path: &[&str]| -> Option<String> {
        let mut v = v;
        for p in path {
            v = v.get(p)?;
        }
        v.as_str().map(str::to_string)
    };
    let want_kind = match logged {
        Logged::Message { .. } => "hashedrekord",
        Logged::Envelope { .. } => "dsse",
    };
    let kind = s(&body, &["kind"]).unwrap_or_default();
    let version = s(&body, &["apiVersion"]).unwrap_or_default();
    if kind != want_kind || version != "0.0.1" {
        return Err(format!(
            "it is a {kind:?} {version:?} entry, not a {want_kind} 0.0.1 entry"
        ));
    }
    let ours = first_pem_der(verifier_pem).ok_or("the verifier is not PEM")?;
    let same_key = |b64: Option<String>| {
        b64.and_then(|b| STANDARD.decode(b).ok())
            .and_then(|pem| String::from_utf8(pem).ok())
            .and_then(|pem| first_pem_der(&pem))
            .is_some_and(|der| der == ours)
    };
    let spec = body.get("spec").cloned().unwrap_or(Value::Null);
    let sha256 = |field: &str, want: &[u8], what: &str| -> Result<(), String> {
        let alg = s(&spec, &[field, "algorithm"]).unwrap_or_default();
        let value = s(&spec, &[field, "value"]).unwrap_or_default();
        if alg != "sha256" || !value.eq_ignore_ascii_case(&hex(&Sha256::digest(want))) {
            return Err(format!(
                "its {what} hash is {alg}:{value}, not this artifact's"
            ));
        }
        Ok(())
    };
    match logged {
        Logged::Message {
            payload_sha256,
            signature,
        } => {
            let alg = s(&spec, &["data", "hash", "algorithm"]).unwrap_or_default();
            let value = s(&spec, &["data", "hash", "value"]).unwrap_or_default();
            if alg != "sha256" || !value.eq_ignore_ascii_case(&hex(payload_sha256)) {
                return Err(format!(
                    "it records the payload hash {alg}:{value}, not this payload's"
                ));
            }
            let sig = s(&spec, &["signature", "content"]).and_then(|b| STANDARD.decode(b).ok());
            if sig.as_deref() != Some(&signature[..]) {
                return Err("it records another signature".into());
            }
            if !same_key(s(&spec, &["signature", "publicKey", "content"])) {
                return Err("it records another public key or certificate".into());
            }
        }
        Logged::Envelope {
            envelope_json,
            envelope,
            payload,
        } => {
            if let Some(json) = envelope_json {
                sha256("envelopeHash", json, "envelope")?;
            }
            sha256("payloadHash", payload, "payload")?;
            let logged = spec
                .get("signatures")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for sig in &envelope.signatures {
                let found = logged.iter().any(|l| {
                    s(l, &["signature"]).as_deref() == Some(sig.sig.as_str())
                        && same_key(s(l, &["verifier"]))
                });
                if !found {
                    return Err(
                        "it does not record the envelope's signature with this key as its verifier"
                            .into(),
                    );
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Log keys

struct LogKey {
    /// SHA-256 of the key's DER SubjectPublicKeyInfo: the log ID.
    log_id: [u8; 32],
    verifier: LogVerifier,
}

enum LogVerifier {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(Vec<u8>),
}

impl LogKey {
    /// Rekor signs with SHA-256 whatever the curve (it loads its signer with
    /// `crypto.SHA256`); Ed25519 signs the message itself. Signatures are ASN.1 DER.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let digest = Sha256::digest(message);
        match &self.verifier {
            LogVerifier::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
            LogVerifier::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
            LogVerifier::Ed25519(raw) => {
                aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, raw)
                    .verify(message, signature)
                    .is_ok()
            }
        }
    }
}

/// Every PEM `PUBLIC KEY` in `pem`, as log keys.
fn parse_log_keys(pem: &str) -> Result<Vec<LogKey>, String> {
    use p256::pkcs8::DecodePublicKey;
    let blocks = pem_blocks(pem, "PUBLIC KEY");
    if blocks.is_empty() {
        return Err("no PEM PUBLIC KEY in it".into());
    }
    let mut keys = Vec::new();
    for der in blocks {
        let public = PublicKey::from_spki_der(&der).map_err(|e| e.to_string())?;
        let verifier = match public.kind() {
            KeyKind::EcdsaP256 => LogVerifier::P256(
                p256::ecdsa::VerifyingKey::from_public_key_der(&der).map_err(|e| e.to_string())?,
            ),
            KeyKind::EcdsaP384 => LogVerifier::P384(
                p384::ecdsa::VerifyingKey::from_public_key_der(&der).map_err(|e| e.to_string())?,
            ),
            KeyKind::Ed25519 => {
                use spki::der::Decode;
                let info =
                    spki::SubjectPublicKeyInfoRef::from_der(&der).map_err(|e| e.to_string())?;
                LogVerifier::Ed25519(info.subject_public_key.raw_bytes().to_vec())
            }
            other => {
                return Err(format!(
                    "it is an {other} key; Rekor log keys are ECDSA (P-256, P-384) or Ed25519"
                ));
            }
        };
        keys.push(LogKey {
            log_id: Sha256::digest(&der).into(),
            verifier,
        });
    }
    Ok(keys)
}

// ---------------------------------------------------------------------------
// RFC 6962 Merkle trees and checkpoints

/// RFC 6962 leaf hash: SHA-256(0x00 || leaf).
fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root an inclusion proof leads to from `leaf` (RFC 9162 §2.1.3.2, the
/// verification algorithm for RFC 6962 audit paths), or why it leads nowhere.
fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &[u8; 32],
    path: &[[u8; 32]],
) -> Result<[u8; 32], String> {
    if index >= size {
        return Err(format!(
            "leaf index {index} is not below the tree size {size}"
        ));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return Err(format!(
                "the proof has {} hashes, more than a tree of {size} needs",
                path.len()
            ));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(format!(
            "the proof has {} hashes, fewer than a tree of {size} needs",
            path.len()
        ));
    }
    Ok(r)
}

/// Check `proof` for `leaf`; returns the (verified) root hash.
fn verify_inclusion(proof: &InclusionProof, leaf: &[u8; 32]) -> Result<[u8; 32], String> {
    let index = u64::try_from(proof.log_index).map_err(|_| "negative leaf index")?;
    let size = u64::try_from(proof.tree_size).map_err(|_| "negative tree size")?;
    let hash32 = |h: &str, what: &str| -> Result<[u8; 32], String> {
        hex_decode(h)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| format!("{what} {h:?} is not a hex SHA-256 hash"))
    };
    let root = hash32(&proof.root_hash, "the root hash")?;
    let path = proof
        .hashes
        .iter()
        .map(|h| hash32(h, "the proof hash"))
        .collect::<Result<Vec<_>, _>>()?;
    let computed = root_from_inclusion_proof(index, size, leaf, &path)?;
    if computed != root {
        return Err(format!(
            "it leads from the entry's leaf hash to the root {}, not to the proof's root {}",
            hex(&computed),
            proof.root_hash
        ));
    }
    Ok(root)
}

/// A checkpoint (signed note): `origin\nsize\nbase64 root\n[other lines\n]`,
/// a blank line, then `— name base64(key hint || signature)` lines.
struct Checkpoint<'a> {
    /// The signed text, through its final newline.
    text: &'a str,
    size: u64,
    root: Vec<u8>,
    signatures: Vec<Vec<u8>>,
}

fn parse_checkpoint(note: &str) -> Result<Checkpoint<'_>, String> {
    let split = note
        .find("\n\n")
        .ok_or("it has no blank line before its signatures")?;
    let text = &note[..split + 1];
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err("it has no origin line".into());
    }
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or("its second line is not a tree size")?;
    let root = lines
        .next()
        .and_then(|l| STANDARD.decode(l).ok())
        .ok_or("its third line is not a base64 root hash")?;
    let mut signatures = Vec::new();
    for line in note[split + 2..].lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| format!("{line:?} is not a signature line"))?;
        let (_name, b64) = rest
            .rsplit_once(' ')
            .ok_or_else(|| format!("{line:?} is not a signature line"))?;
        let sig = STANDARD
            .decode(b64)
            .ok()
            .filter(|s| s.len() > 4)
            .ok_or_else(|| format!("{line:?} does not hold a signature"))?;
        signatures.push(sig);
    }
    if signatures.is_empty() {
        return Err("it has no signatures".into());
    }
    Ok(Checkpoint {
        text,
        size,
        root,
        signatures,
    })
}

/// The checkpoint must carry a signature by `key` (its key hint is the first
/// four bytes of the log ID) over its text, for `tree_size` and `root`.
fn verify_checkpoint(
    note: &str,
    key: &LogKey,
    tree_size: i64,
    root: &[u8; 32],
) -> Result<(), String> {
    let cp = parse_checkpoint(note)?;
    let signed = cp
        .signatures
        .iter()
        .filter(|s| s[..4] == key.log_id[..4])
        .any(|s| key.verify(cp.text.as_bytes(), &s[4..]));
    if !signed {
        return Err("no signature in it is the log key's".into());
    }
    if i64::try_from(cp.size).ok() != Some(tree_size) || cp.root != root[..] {
        return Err(format!(
            "it is for a tree of {} with root {}, the inclusion proof for a tree of {tree_size} with root {}",
            cp.size,
            hex(&cp.root),
            hex(root)
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Small helpers

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A Rekor UUID (64 hex) or entry ID (16 hex tree ID + UUID).
fn is_entry_id(s: &str) -> bool {
    (s.len() == 64 || s.len() == 80) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The UUID in Rekor's 409 message ("... with UUID <id>").
fn uuid_in_message(message: &str) -> Option<String> {
    message
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| is_entry_id(w))
        .map(str::to_string)
}

/// Every PEM block labelled `label`, decoded.
fn pem_blocks(text: &str, label: &str) -> Vec<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let body = &rest[start + begin.len()..];
        let Some(stop) = body.find(&end) else { break };
        let b64: String = body[..stop]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Ok(der) = STANDARD.decode(b64) {
            out.push(der);
        }
        rest = &body[stop + end.len()..];
    }
    out
}

/// The DER of the first certificate, else the first public key, in `pem`.
fn first_pem_der(pem: &str) -> Option<Vec<u8>> {
    pem_blocks(pem, "CERTIFICATE")
        .into_iter()
        .next()
        .or_else(|| pem_blocks(pem, "PUBLIC KEY").into_iter().next())
}

/// Go's PEM encoding of a key or certificate(s), what Rekor's client sends
/// (`CanonicalValue`): every certificate when there are any, else the key.
fn canonical_pem(pem: &str) -> Option<String> {
    let certs = pem_blocks(pem, "CERTIFICATE");
    if !certs.is_empty() {
        return Some(
            certs
                .iter()
                .map(|d| pem::encode("CERTIFICATE", d))
                .collect(),
        );
    }
    pem_blocks(pem, "PUBLIC KEY")
        .first()
        .map(|d| pem::encode("PUBLIC KEY", d))
}

/// Rekor's error message (grpc-gateway's `{"code":..,"message":..}`, or the
/// text), on one line, shortened.
fn error_detail(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        format!("{}…", one_line.chars().take(300).collect::<String>())
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962 §2.1: MTH over `leaves` by its recursive definition.
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The largest power of two smaller than `n` (n > 1).
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// RFC 6962 §2.1.1: PATH(m, D[n]) by its recursive definition.
    fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn inclusion_proofs_of_every_leaf_of_small_trees_verify() {
        for n in 1..=70usize {
            let l = leaves(n);
            let root = mth(&l);
            for m in 0..n {
                let p = path(m, &l);
                let got = root_from_inclusion_proof(m as u64, n as u64, &l[m], &p);
                assert_eq!(got, Ok(root), "leaf {m} of {n}");
            }
        }
    }

    #[test]
    fn wrong_inclusion_proofs_do_not_verify() {
        for n in 1..=40usize {
            let l = leaves(n);
            let root = mth(&l);
            for m in 0..n {
                let p = path(m, &l);
                let ok = |i: u64, s: u64, leaf: &[u8; 32], p: &[[u8; 32]]| {
                    root_from_inclusion_proof(i, s, leaf, p) == Ok(root)
                };
                // Another leaf, another index, an index outside the tree.
                // (The size alone is not bound by the path: a proof for leaf 0
                // of 3 also leads to the same root as one of 4; the signed
                // checkpoint binds the size to the root.)
                assert!(!ok(m as u64, n as u64, &leaf_hash(b"other"), &p));
                for other in 0..n {
                    if other != m {
                        assert!(
                            !ok(other as u64, n as u64, &l[m], &p),
                            "{m}->{other} of {n}"
                        );
                    }
                }
                assert!(!ok(n as u64, n as u64, &l[m], &p));
                // A hash changed, added or taken away.
                for i in 0..p.len() {
                    let mut q = p.clone();
                    q[i][7] ^= 1;
                    assert!(!ok(m as u64, n as u64, &l[m], &q));
                }
                let mut longer = p.clone();
                longer.push(root);
                assert!(!ok(m as u64, n as u64, &l[m], &longer));
                if !p.is_empty() {
                    assert!(!ok(m as u64, n as u64, &l[m], &p[..p.len() - 1]));
                }
            }
        }
    }

    #[test]
    fn the_leaf_hash_is_rfc6962s() {
        // SHA-256 of the single byte 0x00: the leaf hash of empty data.
        assert_eq!(
            hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn checkpoints_parse() {
        let note = "example.org - 42\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nTimestamp: 1\n\n\u{2014} example.org AQIDBAUG\n";
        let cp = parse_checkpoint(note).unwrap();
        assert_eq!(cp.size, 7);
        assert_eq!(cp.root, vec![0u8; 32]);
        assert_eq!(
            cp.text,
            "example.org - 42\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nTimestamp: 1\n"
        );
        assert_eq!(cp.signatures, vec![vec![1, 2, 3, 4, 5, 6]]);
        for bad in [
            "example.org\n7\nAAAA\n",
            "example.org\nseven\nAAAA\n\n\u{2014} x AQIDBAUG\n",
            "example.org\n7\nAAAA\n\n- x AQIDBAUG\n",
            "example.org\n7\nAAAA\n\n\u{2014} x AQID\n",
            "example.org\n7\nAAAA\n\n",
        ] {
            assert!(parse_checkpoint(bad).is_err(), "{bad:?}");
        }
    }

    /// A log key from its PEM, and the DER it came from.
    fn log_key(der: &[u8]) -> LogKey {
        let mut keys = parse_log_keys(&pem::encode("PUBLIC KEY", der)).unwrap();
        assert_eq!(keys.len(), 1);
        let key = keys.remove(0);
        assert_eq!(key.log_id, <[u8; 32]>::from(Sha256::digest(der)));
        key
    }

    #[test]
    fn p384_log_keys_verify_sha256_signatures() {
        use p384::ecdsa::signature::hazmat::PrehashSigner;
        use p384::pkcs8::EncodePublicKey;
        let signing = p384::ecdsa::SigningKey::from_slice(&[7u8; 48]).unwrap();
        let der = signing.verifying_key().to_public_key_der().unwrap();
        let key = log_key(der.as_bytes());
        let message = b"a log's signed text";
        let sig: p384::ecdsa::Signature = signing.sign_prehash(&Sha256::digest(message)).unwrap();
        assert!(key.verify(message, sig.to_der().as_bytes()));
        assert!(!key.verify(b"another text", sig.to_der().as_bytes()));
        // Rekor signs with SHA-256 whatever the curve: SHA-384 is not accepted.
        let sig384: p384::ecdsa::Signature = signing
            .sign_prehash(&sha2::Sha384::digest(message))
            .unwrap();
        assert!(!key.verify(message, sig384.to_der().as_bytes()));
    }

    #[test]
    fn ed25519_log_keys_verify() {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
        let pair = Ed25519KeyPair::from_seed_unchecked(&[9u8; 32]).unwrap();
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(pair.public_key().as_ref());
        let key = log_key(&der);
        let sig = pair.sign(b"checkpoint text");
        assert!(key.verify(b"checkpoint text", sig.as_ref()));
        assert!(!key.verify(b"checkpoint text!", sig.as_ref()));
    }

    #[test]
    fn checkpoints_verify_with_the_key_their_hint_names() {
        use p256::ecdsa::signature::Signer as _;
        use p256::pkcs8::EncodePublicKey;
        let signing = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
        let der = signing.verifying_key().to_public_key_der().unwrap();
        let key = log_key(der.as_bytes());
        let root = [3u8; 32];
        let text = format!("log.example - 1\n12\n{}\n", STANDARD.encode(root));
        let note = |hint: &[u8], text: &str, signed: &str| {
            let sig: p256::ecdsa::Signature = signing.sign(signed.as_bytes());
            let mut hs = hint.to_vec();
            hs.extend_from_slice(sig.to_der().as_bytes());
            format!("{text}\n\u{2014} log.example {}\n", STANDARD.encode(hs))
        };
        let good = note(&key.log_id[..4], &text, &text);
        verify_checkpoint(&good, &key, 12, &root).unwrap();
        // Another size or root than the proof's.
        assert!(verify_checkpoint(&good, &key, 13, &root).is_err());
        assert!(verify_checkpoint(&good, &key, 12, &[4u8; 32]).is_err());
        // A signature under another key hint is not the log's.
        let hint = note(&[0, 0, 0, 0], &text, &text);
        assert!(verify_checkpoint(&hint, &key, 12, &root).is_err());
        // A signature over other text.
        let other = note(&key.log_id[..4], &text, "log.example - 1\n13\n");
        assert!(verify_checkpoint(&other, &key, 12, &root).is_err());
        // Another signer's line next to the log's is ignored.
        let two = format!("{good}\u{2014} witness AAAAAAAA\n");
        verify_checkpoint(&two, &key, 12, &root).unwrap();
    }

    #[test]
    fn entry_ids_and_hex() {
        assert!(is_entry_id(&"a".repeat(64)));
        assert!(is_entry_id(&"B".repeat(80)));
        assert!(!is_entry_id(&"a".repeat(63)));
        assert!(!is_entry_id(&format!("{}g", "a".repeat(63))));
        assert_eq!(hex_decode("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("zz"), None);
        let id = format!("{}{}", "1".repeat(16), "a".repeat(64));
        assert_eq!(
            uuid_in_message(&format!(
                "an equivalent entry already exists in the transparency log with UUID {id}"
            )),
            Some(id)
        );
    }

    #[test]
    fn pem_blocks_reads_every_block() {
        let a = pem::encode("PUBLIC KEY", b"one");
        let b = pem::encode("PUBLIC KEY", b"two");
        assert_eq!(
            pem_blocks(&format!("{a}junk\n{b}"), "PUBLIC KEY"),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
        let messy = "-----BEGIN PUBLIC KEY-----\r\nb25l\r\n-----END PUBLIC KEY-----";
        assert_eq!(canonical_pem(messy), Some(a));
    }

    #[test]
    fn error_details_are_one_short_line() {
        assert_eq!(
            error_detail(br#"{"code":400,"message":"error processing entry:\n bad"}"#),
            "error processing entry: bad"
        );
        assert_eq!(error_detail(b"plain\ttext"), "plain text");
        assert!(error_detail("x".repeat(1000).as_bytes()).chars().count() <= 301);
    }
}
