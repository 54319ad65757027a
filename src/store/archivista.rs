//! The `archivista` backend: DSSE envelopes uploaded to an Archivista server
//! (`storage.archivista.url`), as Tekton Chains uploads them.
//!
//! Chains parses what it calls the signature as a DSSE envelope (go-witness'
//! `dsse.Envelope`) and hands it to Archivista's client, which POSTs it to
//! `{url}/upload` as `application/json`: the envelope re-encoded by Go's
//! `json.Encoder` (`payload`, `payloadType`, `signatures` of `keyid` and
//! `sig`, then a newline). Archivista answers 200 with `{"gitoid": HEX}`, the
//! gitoid (sha256, blob) of the bytes it received; anything else is an
//! error whose body is the message.
//!
//! We send the same bytes and check the gitoid the server reports against
//! our own over what we sent: a run counts as stored only when Archivista
//! acknowledged exactly these bytes. Chains only logs the gitoid (no
//! annotation records it), and so records nothing on the run here either.
//!
//! An image signature is not a DSSE envelope: Chains fails to parse it and
//! the artifact is not stored, and so it fails here, saying so. 408, 429,
//! 5xx, timeouts and dropped connections are retried within the deadlines
//! ([`with_retries_on`]); other refusals fail at once.

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::http;
use super::{Backend, SignedArtifact, StoreError, is_transient_status, with_retries_on};
use crate::cloud::snippet;
use crate::run::RunId;
use crate::sign::dsse::Envelope;

const NAME: &str = "archivista";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Uploads DSSE envelopes to one Archivista server.
pub struct ArchivistaBackend {
    /// `{url}/upload`.
    upload_url: String,
    http: reqwest::blocking::Client,
}

impl ArchivistaBackend {
    /// A backend for the server at `url`; makes no request.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::new(
                NAME,
                "storage.archivista.url is not set (the Archivista server's URL)",
            ));
        }
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| StoreError::new(NAME, format!("storage.archivista.url {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(StoreError::new(
                NAME,
                format!("storage.archivista.url {url:?} is not an http(s) URL"),
            ));
        }
        let http =
            http::client(CONNECT_TIMEOUT, REQUEST_TIMEOUT).map_err(|m| StoreError::new(NAME, m))?;
        Ok(ArchivistaBackend {
            // Go's url.JoinPath(base, "upload").
            upload_url: format!("{}/upload", url.trim_end_matches('/')),
            http,
        })
    }

    /// One upload; the gitoid Archivista acknowledged.
    fn upload(&self, body: &[u8]) -> Result<String, StoreError> {
        let place = format!("cannot upload to {}", self.upload_url);
        let req = self
            .http
            .post(&self.upload_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        let (status, reply) = match http::exchange(req, REQUEST_TIMEOUT) {
            Ok(r) => r,
            Err(e) => {
                return Err(http::unanswered(
                    e,
                    &place,
                    None,
                    REQUEST_TIMEOUT,
                    |m| StoreError::new(NAME, m),
                    |m| StoreError::transient(NAME, m),
                ));
            }
        };
        if status != 200 {
            let message = format!("{place}: HTTP {status}: {}", snippet(&reply));
            return Err(if is_transient_status(status) {
                StoreError::transient(NAME, message)
            } else {
                StoreError::new(NAME, message)
            });
        }
        let reported = serde_json::from_slice::<Value>(&reply)
            .ok()
            .and_then(|v| v.get("gitoid").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| {
                StoreError::new(
                    NAME,
                    format!("{place}: the answer has no gitoid: {}", snippet(&reply)),
                )
            })?;
        let ours = gitoid_sha256(body);
        if reported != ours {
            return Err(StoreError::transient(
                NAME,
                format!(
                    "{place}: the server stored gitoid {reported}, but what was sent has gitoid {ours}"
                ),
            ));
        }
        Ok(reported)
    }
}

/// What Archivista's Go client sends for an envelope: go-witness'
/// `dsse.Envelope` through `json.Encoder` (field order, `keyid` always
/// present, a trailing newline).
pub fn upload_body(envelope: &Envelope) -> Vec<u8> {
    // Written by hand so the field order is Go's whatever serde_json's
    // features (its maps sort keys without preserve_order).
    let mut out = format!(
        "{{\"payload\":{},\"payloadType\":{},\"signatures\":[",
        go_json_string(&envelope.payload),
        go_json_string(&envelope.payload_type)
    );
    for (i, s) in envelope.signatures.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"keyid\":{},\"sig\":{}}}",
            go_json_string(&s.keyid),
            go_json_string(&s.sig)
        ));
    }
    out.push_str("]}\n");
    out.into_bytes()
}

/// A JSON string as Go's encoder writes it: `<`, `>` and `&` escaped too.
fn go_json_string(s: &str) -> String {
    Value::from(s)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The gitoid Archivista names an upload by: sha256 over git's blob header
/// (`blob <length>\0`) and the bytes, in lowercase hex.
pub fn gitoid_sha256(data: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(format!("blob {}\0", data.len()).as_bytes());
    h.update(data);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Backend for ArchivistaBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn store(
        &self,
        _run: &RunId,
        artifact: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let Some(envelope) = &artifact.envelope else {
            return Err(StoreError::new(
                NAME,
                format!(
                    "{} is an image signature, not a DSSE envelope: Archivista stores attestations only (as in Chains, which fails to parse it); store image signatures with oci",
                    artifact.short_key
                ),
            ));
        };
        let body = upload_body(envelope);
        with_retries_on(NAME, || self.upload(&body))?;
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::dsse::EnvelopeSignature;

    #[test]
    fn the_body_is_go_witness_envelope_json() {
        let env = Envelope {
            payload_type: "application/vnd.in-toto+json".into(),
            payload: "eyJhIjoxfQ==".into(),
            signatures: vec![EnvelopeSignature {
                keyid: "SHA256:a<b".into(),
                sig: "MEUC".into(),
            }],
        };
        assert_eq!(
            String::from_utf8(upload_body(&env)).unwrap(),
            "{\"payload\":\"eyJhIjoxfQ==\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{\"keyid\":\"SHA256:a\\u003cb\",\"sig\":\"MEUC\"}]}\n"
        );
    }

    /// `git hash-object` with sha256 object format names the empty blob so.
    #[test]
    fn gitoid_is_git_blob_sha256() {
        assert_eq!(
            gitoid_sha256(b""),
            "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"
        );
    }

    #[test]
    fn the_url_is_checked() {
        assert!(ArchivistaBackend::new("").is_err());
        assert!(ArchivistaBackend::new("ftp://x").is_err());
        let b = ArchivistaBackend::new("http://127.0.0.1:8082/").unwrap();
        assert_eq!(b.upload_url, "http://127.0.0.1:8082/upload");
    }
}
