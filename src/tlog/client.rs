//! A Rekor v1 server over its REST API: upload an entry, fetch one by UUID
//! or log index, and search the index by artifact hash
//! (`POST /api/v1/index/retrieve`), which is how a signature stored without
//! its entry (Chains' parts after a keyless certificate expired) finds the
//! entry that gives it a trusted time.
//!
//! Every entry returned is checked ([`super::proof`]) before it is used. A
//! 409 on upload means the entry is already logged: it is fetched, checked
//! the same way, and returned. Transient failures (timeouts, 408, 429, 5xx)
//! are [`TlogError::transient`].

use std::io::Read;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::entry::{InclusionProof, LogEntry};
use super::proof::{self, Checked, LogKey, Rules, parse_log_keys};
use super::{TlogError, error_detail, hex, is_entry_id, uuid_in_message};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Rekor answers with one entry; its body is small for the kinds Chains
/// uploads, but other kinds can carry whole documents.
const MAX_RESPONSE: u64 = 32 * 1024 * 1024;
const MAX_ERROR_BODY: u64 = 64 * 1024;
const ENTRIES_PATH: &str = "/api/v1/log/entries";
const INDEX_PATH: &str = "/api/v1/index/retrieve";
/// Entries fetched for one hash at most: a hash logged more often than this
/// is someone's flood, not a signature's history.
const MAX_SEARCH_RESULTS: usize = 64;

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
    /// The client half of a Rekor at `url`, with no keys yet.
    fn new_without_keys(url: &str) -> Result<Rekor, TlogError> {
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
                return Err(TlogError::new(format!(
                    "{what} is not an http(s) URL of a Rekor server"
                )));
            }
        };
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("chains/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                TlogError::new(format!(
                    "cannot create an HTTP client: {}",
                    crate::cloud::error_chain(&e)
                ))
            })?;
        Ok(Rekor {
            url,
            shown,
            client,
            keys: Vec::new(),
        })
    }

    /// A Rekor at `url`. `public_key_pem` is the log's key (`--rekor-public-key`;
    /// several PEM `PUBLIC KEY` blocks are accepted, for a log whose key
    /// rotated); `None` fetches `GET {url}/api/v1/log/publicKey` once, which
    /// trusts whoever answers at `url`.
    pub fn new(url: &str, public_key_pem: Option<&str>) -> Result<Rekor, TlogError> {
        let mut rekor = Rekor::new_without_keys(url)?;
        let (pem, source) = match public_key_pem {
            Some(p) => (p.to_string(), "the Rekor public key given".to_string()),
            None => {
                let endpoint = format!("{}/api/v1/log/publicKey", rekor.url);
                let text = rekor.get_text(&endpoint)?;
                (text, format!("the public key from {}", rekor.shown))
            }
        };
        rekor.keys = parse_log_keys(&pem)
            .map_err(|why| TlogError::new(format!("{source} is not usable: {why}")))?;
        Ok(rekor)
    }

    /// A log known only by its key, for checking entries offline (SETs,
    /// inclusion proofs, checkpoints) with no server to ask.
    pub fn offline(public_key_pem: &str) -> Result<Rekor, TlogError> {
        let keys = parse_log_keys(public_key_pem).map_err(|why| {
            TlogError::new(format!("the Rekor public key given is not usable: {why}"))
        })?;
        Ok(Rekor::with_keys(keys))
    }

    /// A log known by keys from a trusted root, offline.
    pub fn with_keys(keys: Vec<LogKey>) -> Rekor {
        Rekor {
            url: String::new(),
            shown: "(offline)".into(),
            client: reqwest::blocking::Client::new(),
            keys,
        }
    }

    /// A Rekor at `url` whose entries verify against `keys` (a trusted
    /// root's logs); with no keys, the key it serves is fetched (see
    /// [`Rekor::new`]).
    pub fn with_url(url: &str, keys: Vec<LogKey>) -> Result<Rekor, TlogError> {
        if keys.is_empty() {
            return Rekor::new(url, None);
        }
        let mut rekor = Rekor::new_without_keys(url)?;
        rekor.keys = keys;
        Ok(rekor)
    }

    /// The log's entry at `log_index` (`GET {url}/api/v1/log/entries?logIndex=N`),
    /// checked like any other entry before it is returned.
    pub fn entry_at(&self, log_index: i64) -> Result<LogEntry, TlogError> {
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
    pub fn upload(&self, proposed: &Value) -> Result<LogEntry, TlogError> {
        let endpoint = format!("{}{ENTRIES_PATH}", self.url);
        let response = self
            .client
            .post(&endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(proposed)
            .timeout(crate::deadline::cap(REQUEST_TIMEOUT))
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
        Ok(entry)
    }

    /// Verify an entry offline against the log keys by `rules`
    /// (see [`super::proof`]).
    pub fn verify_entry(&self, entry: &LogEntry, rules: Rules) -> Result<Checked, TlogError> {
        proof::verify_entry(&self.keys, entry, rules).map_err(|why| {
            self.error(format!(
                "the log entry at index {} does not verify: {why}",
                entry.log_index
            ))
        })
    }

    /// The entries Rekor's search index holds for an artifact with this
    /// SHA-256 (`POST /api/v1/index/retrieve {"hash": "sha256:HEX"}`, then
    /// each UUID fetched and checked), oldest first.
    pub fn search_by_sha256(&self, sha256: &[u8]) -> Result<Vec<LogEntry>, TlogError> {
        if self.url.is_empty() {
            return Err(self.error("no Rekor URL to search the index at"));
        }
        let endpoint = format!("{}{INDEX_PATH}", self.url);
        let response = self
            .client
            .post(&endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&json!({"hash": format!("sha256:{}", hex(sha256))}))
            .timeout(crate::deadline::cap(REQUEST_TIMEOUT))
            .send()
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = self.read_body(response, MAX_ERROR_BODY).unwrap_or_default();
            return Err(self.status_error(status, &body, "refused the index search"));
        }
        let body = self.read_body(response, MAX_ERROR_BODY)?;
        let uuids: Vec<String> = serde_json::from_slice(&body).map_err(|e| {
            self.error(format!(
                "Rekor's index search answered with something else than a list of entry IDs: {e}"
            ))
        })?;
        let mut entries = Vec::new();
        for uuid in uuids.iter().take(MAX_SEARCH_RESULTS) {
            if !is_entry_id(uuid) {
                return Err(self.error(format!(
                    "Rekor's index search answered with {uuid:?}, which is not an entry ID"
                )));
            }
            let entry = self.fetch(uuid)?;
            self.check(&entry, false)?;
            entries.push(entry);
        }
        entries.sort_by_key(|e| e.integrated_time);
        Ok(entries)
    }

    /// `{url}/api/v1/log/entries?logIndex=N`: what Chains puts in the
    /// `chains.tekton.dev/transparency` annotation.
    pub fn entry_url(&self, entry: &LogEntry) -> String {
        format!("{}{ENTRIES_PATH}?logIndex={}", self.url, entry.log_index)
    }

    /// Check an entry Rekor returned; with `need_proof` (an entry just
    /// logged), it must come with an inclusion proof.
    fn check(&self, entry: &LogEntry, need_proof: bool) -> Result<(), TlogError> {
        proof::verify_entry(
            &self.keys,
            entry,
            Rules {
                proof_required: need_proof,
            },
        )
        .map(|_| ())
        .map_err(|why| {
            self.error(format!(
                "Rekor returned an entry that does not verify: {why}"
            ))
        })
    }

    /// GET an entry by UUID or entry ID, as cosign does after a 409.
    fn fetch(&self, id: &str) -> Result<LogEntry, TlogError> {
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
    ) -> Result<LogEntry, TlogError> {
        let response = self
            .client
            .get(endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(crate::deadline::cap(REQUEST_TIMEOUT))
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
    ) -> Result<(String, LogEntry), TlogError> {
        let bad = |why: String| self.error(format!("Rekor returned an unusable answer: {why}"));
        let entries: serde_json::Map<String, Value> =
            serde_json::from_slice(body).map_err(|e| bad(format!("not a JSON object: {e}")))?;
        if entries.len() != 1 {
            return Err(bad(format!("{} entries instead of one", entries.len())));
        }
        let Some((id, value)) = entries.into_iter().next() else {
            return Err(bad("no entry".into()));
        };
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

    fn get_text(&self, endpoint: &str) -> Result<String, TlogError> {
        let response = self
            .client
            .get(endpoint)
            .timeout(crate::deadline::cap(REQUEST_TIMEOUT))
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
    ) -> Result<Vec<u8>, TlogError> {
        let mut body = Vec::new();
        response
            .take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| {
                TlogError::transient(format!(
                    "reading Rekor's answer ({}) failed: {}",
                    self.shown,
                    crate::cloud::error_chain(&e)
                ))
            })?;
        if body.len() as u64 > limit {
            return Err(self.error(format!("Rekor's answer is larger than {limit} bytes")));
        }
        Ok(body)
    }

    fn transport_error(&self, e: reqwest::Error) -> TlogError {
        if e.is_timeout() {
            return TlogError::transient(format!(
                "Rekor ({}) did not answer within {}",
                self.shown,
                crate::deadline::ended_by(REQUEST_TIMEOUT)
            ));
        }
        let connect = e.is_connect();
        let why = crate::cloud::error_chain(&e.without_url());
        if connect {
            return self.error(format!("cannot reach Rekor at {}: {why}", self.shown));
        }
        TlogError::transient(format!(
            "the connection to Rekor ({}) failed: {why}",
            self.shown
        ))
    }

    /// `what` says what a 4xx means; other statuses are reported as such.
    fn status_error(&self, status: u16, body: &[u8], what: &str) -> TlogError {
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
        if super::is_transient_status(status) {
            TlogError::transient(message)
        } else {
            TlogError::new(message)
        }
    }

    fn error(&self, message: impl Into<String>) -> TlogError {
        TlogError::new(message)
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
