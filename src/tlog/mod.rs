//! Transparency logs: Rekor v1 and v2 entries, the proofs that they are in
//! the log, and the Rekor v1 REST client. `store` uploads through it and
//! `verify` checks entries with it; neither imports the other.
//!
//! - [`entry`]: the entry as bundles and Rekor record it, and what each kind
//!   of body (hashedrekord, dsse, intoto; Rekor v2's 0.0.2) records;
//! - [`proof`]: log keys, signed entry timestamps, inclusion proofs and
//!   checkpoints;
//! - [`client`]: the REST API (upload, fetch, search by hash).

pub mod client;
pub mod entry;
pub mod proof;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

pub use client::Rekor;
pub use entry::{InclusionProof, LogEntry, Logged, entry_records};
pub use proof::{Checked, LogKey, Rules};

use crate::pem::encode as pem_encode;

/// A log that could not be used or an entry that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogError {
    pub message: String,
    /// A timeout, a 408, a 429 or a 5xx: worth retrying.
    pub transient: bool,
}

impl TlogError {
    pub fn new(message: impl Into<String>) -> TlogError {
        TlogError {
            message: message.into(),
            transient: false,
        }
    }

    pub fn transient(message: impl Into<String>) -> TlogError {
        TlogError {
            message: message.into(),
            transient: true,
        }
    }
}

impl std::fmt::Display for TlogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlogError {}

/// Statuses worth retrying.
fn is_transient_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A Rekor UUID (64 hex) or entry ID (16 hex tree ID + UUID).
pub(crate) fn is_entry_id(s: &str) -> bool {
    (s.len() == 64 || s.len() == 80) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The UUID in Rekor's 409 message ("... with UUID <id>").
pub(crate) fn uuid_in_message(message: &str) -> Option<String> {
    message
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| is_entry_id(w))
        .map(str::to_string)
}

/// Every PEM block labelled `label`, decoded.
pub(crate) fn pem_blocks(text: &str, label: &str) -> Vec<Vec<u8>> {
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
pub(crate) fn first_pem_der(pem: &str) -> Option<Vec<u8>> {
    pem_blocks(pem, "CERTIFICATE")
        .into_iter()
        .next()
        .or_else(|| pem_blocks(pem, "PUBLIC KEY").into_iter().next())
}

/// Go's PEM encoding of a key or certificate(s), what Rekor's client sends
/// (`CanonicalValue`): every certificate when there are any, else the key.
pub(crate) fn canonical_pem(pem: &str) -> Option<String> {
    let certs = pem_blocks(pem, "CERTIFICATE");
    if !certs.is_empty() {
        return Some(certs.iter().map(|d| pem_encode("CERTIFICATE", d)).collect());
    }
    pem_blocks(pem, "PUBLIC KEY")
        .first()
        .map(|d| pem_encode("PUBLIC KEY", d))
}

/// Rekor's error message (grpc-gateway's `{"code":..,"message":..}`, or the
/// text), on one line, shortened.
pub(crate) fn error_detail(body: &[u8]) -> String {
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
        let a = pem_encode("PUBLIC KEY", b"one");
        let b = pem_encode("PUBLIC KEY", b"two");
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
