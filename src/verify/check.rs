//! The checks every piece of evidence goes through, whatever its source:
//! transparency log entries, the certificate (keyless) or key, the
//! signature, and the payload's shape. Policy comes after ([`super::policy`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::certificate::{self, IdentityPolicy, Roots};
use super::evidence::{Evidence, Signed};
use crate::sign::PublicKey;
use crate::sign::dsse::{IN_TOTO, pae};
use crate::store::rekor::{LogEntry, Logged, Rekor, entry_records};
use crate::trust::TrustedRoot;

/// What signatures are trusted, and how transparency is handled.
pub struct Trust {
    /// `--key`: signatures by any of these keys are trusted.
    pub keys: Vec<PublicKey>,
    /// `--trusted-root` and the shortcut flags, resolved into one root.
    pub root: TrustedRoot,
    /// `--ca-roots`: certificates leading to these roots are trusted, when
    /// their identity matches `identity`.
    pub roots: Option<Roots>,
    pub identity: IdentityPolicy,
    pub tlog: Transparency,
}

/// How transparency log entries are checked.
pub struct Transparency {
    /// The log's keys (`--rekor-public-key`, or fetched from `--rekor-url`):
    /// entries are checked against them.
    pub log: Option<Rekor>,
    /// `--rekor-url` was given: entries known only by index are fetched.
    pub online: bool,
    /// `--require-tlog`: evidence without a verified entry is rejected.
    pub require: bool,
    /// `--insecure-ignore-tlog`: entries are not looked at at all.
    pub ignore: bool,
}

/// A check that failed, named, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub check: &'static str,
    pub reason: String,
}

impl Rejection {
    pub fn new(check: &'static str, reason: impl Into<String>) -> Rejection {
        Rejection {
            check,
            reason: reason.into(),
        }
    }
}

/// What was verified.
#[derive(Clone, Debug)]
pub struct Verified {
    pub content: Content,
    /// Who signed: `key SHA256:...` or the certificate's identity and issuer.
    pub signer: String,
    pub tlog: TlogStatus,
}

#[derive(Clone, Debug)]
pub enum Content {
    /// An in-toto statement from a DSSE envelope.
    Statement { payload: Vec<u8>, statement: Value },
    /// A simple-signing payload: a signature over an image digest.
    ImageSignature {
        payload: Vec<u8>,
        image_digest: String,
    },
    /// A signature over a message digest whose message we do not have.
    MessageDigest { sha256_hex: String },
}

impl Content {
    /// The verified bytes, where there are any.
    pub fn payload(&self) -> Option<&[u8]> {
        match self {
            Content::Statement { payload, .. } | Content::ImageSignature { payload, .. } => {
                Some(payload)
            }
            Content::MessageDigest { .. } => None,
        }
    }
}

/// What became of transparency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlogStatus {
    /// An entry verified against the log key and records this artifact.
    Verified {
        log_index: i64,
        integrated_time: i64,
    },
    /// Entries came with the artifact but there was no log key to check
    /// them with.
    Unchecked { entries: usize },
    /// No entry came with the artifact.
    Absent,
    /// `--insecure-ignore-tlog`.
    Ignored,
}

/// Run every check on one piece of evidence. `now` is unix seconds.
/// With `whole_statement` false, only a statement's `_type`, `predicateType`
/// and `subject` are decoded (what the report shows and subject checks
/// need); the predicate is checked for well-formed JSON but not kept.
pub fn check(
    evidence: &Evidence,
    trust: &Trust,
    now: i64,
    whole_statement: bool,
) -> Result<Verified, Rejection> {
    let signed = parts(&evidence.signed)?;

    // Transparency first: a verified entry's time is when a short-lived
    // certificate must have been valid.
    let entries = log_entries(evidence, &trust.tlog)?;
    let mut tlog = if trust.tlog.ignore {
        TlogStatus::Ignored
    } else if entries.is_empty() {
        TlogStatus::Absent
    } else {
        TlogStatus::Unchecked {
            entries: entries.len(),
        }
    };
    let mut checked: Vec<&LogEntry> = Vec::new();
    if !trust.tlog.ignore
        && let Some(log) = &trust.tlog.log
    {
        for entry in &entries {
            log.verify_entry(entry)
                .map_err(|e| Rejection::new("tlog", e.message))?;
            checked.push(entry);
        }
    }
    let signed_at = checked.iter().map(|e| e.integrated_time).min();

    // Who may have signed: the certificate's key, or the keys given.
    let (candidates, certified) = match (&evidence.certificate, &trust.roots) {
        (Some(chain), Some(roots)) => {
            let cert = certificate::verify(chain, roots, &trust.identity, signed_at.unwrap_or(now))
                .map_err(|e| Rejection::new("certificate", e.to_string()))?;
            let mut signer = match &cert.issuer {
                Some(issuer) => format!("certificate for {} (issuer {issuer})", cert.identity),
                None => format!("certificate for {}", cert.identity),
            };
            if let certificate::SctCheck::NotChecked(why) = cert.sct {
                signer.push_str(&format!("; SCT not checked: {why}"));
            }
            (
                vec![cert.public_key],
                Some((signer, chain.certificate_pem.clone())),
            )
        }
        _ if trust.identity.identity.is_some() || trust.identity.issuer.is_some() => {
            let why = if evidence.certificate.is_none() {
                "it was signed with a key, not a certificate, so no certificate identity can match"
            } else {
                "it has a certificate, but no --ca-roots were given to check it against"
            };
            return Err(Rejection::new("certificate", why));
        }
        _ if !trust.keys.is_empty() => (trust.keys.clone(), None),
        (Some(_), None) => {
            return Err(Rejection::new(
                "certificate",
                "it is signed with a certificate: pass --ca-roots (and --certificate-identity) to trust it, or --key",
            ));
        }
        (None, _) => {
            return Err(Rejection::new(
                "signature",
                "no key to check it with: pass --key",
            ));
        }
    };

    let key = signed.verify(&candidates)?;
    let (signer, verifier_pem) = match certified {
        Some((signer, pem)) => (signer, pem),
        None => (format!("key {}", key.key_id()), key.to_pem()),
    };

    for entry in &checked {
        entry_records(entry, &signed.logged(), &verifier_pem).map_err(|why| {
            Rejection::new(
                "tlog",
                format!(
                    "the log entry at index {} does not record this artifact: {why}",
                    entry.log_index
                ),
            )
        })?;
    }
    if let Some(entry) = checked.iter().min_by_key(|e| e.integrated_time) {
        tlog = TlogStatus::Verified {
            log_index: entry.log_index,
            integrated_time: entry.integrated_time,
        };
    }
    if trust.tlog.require && !matches!(tlog, TlogStatus::Verified { .. }) {
        let why = match tlog {
            TlogStatus::Unchecked { .. } => {
                "--require-tlog: its log entry cannot be checked without --rekor-public-key or --rekor-url"
            }
            _ => "--require-tlog: no transparency log entry came with it",
        };
        return Err(Rejection::new("tlog", why));
    }

    Ok(Verified {
        content: signed.content(whole_statement)?,
        signer,
        tlog,
    })
}

/// The entries that came with the evidence, or the one its log index names
/// (fetched when online).
fn log_entries(evidence: &Evidence, tlog: &Transparency) -> Result<Vec<LogEntry>, Rejection> {
    if tlog.ignore || !evidence.tlog.is_empty() {
        return Ok(evidence.tlog.clone());
    }
    match (evidence.tlog_index, &tlog.log) {
        (Some(index), Some(log)) if tlog.online => log
            .entry_at(index)
            .map(|e| vec![e])
            .map_err(|e| Rejection::new("tlog", e.message)),
        _ => Ok(Vec::new()),
    }
}

/// A statement without its predicate (which is skipped, not built).
#[derive(serde::Deserialize)]
struct StatementHead {
    #[serde(rename = "_type", default)]
    type_: Value,
    #[serde(rename = "predicateType", default)]
    predicate_type: Value,
    #[serde(default)]
    subject: Value,
}

impl StatementHead {
    fn into_value(self) -> Value {
        let mut map = serde_json::Map::new();
        for (k, v) in [
            ("_type", self.type_),
            ("predicateType", self.predicate_type),
            ("subject", self.subject),
        ] {
            if !v.is_null() {
                map.insert(k.to_string(), v);
            }
        }
        Value::Object(map)
    }
}

/// The signed content, taken apart for checking.
enum SignedParts<'a> {
    Envelope {
        envelope: &'a crate::sign::dsse::Envelope,
        payload: Vec<u8>,
    },
    Message {
        payload: &'a [u8],
        signature: &'a [u8],
        sha256: [u8; 32],
    },
    Digest {
        digest: &'a [u8],
        signature: &'a [u8],
    },
}

/// Take the signed content apart; what cannot be is rejected.
fn parts(signed: &Signed) -> Result<SignedParts<'_>, Rejection> {
    match signed {
        Signed::Unusable(why) => Err(Rejection::new("input", why.clone())),
        Signed::Envelope(envelope) => {
            let payload = envelope
                .payload_bytes()
                .map_err(|_| Rejection::new("input", "the envelope's payload is not base64"))?;
            if envelope.signatures.is_empty() {
                return Err(Rejection::new("signature", "the envelope is unsigned"));
            }
            Ok(SignedParts::Envelope { envelope, payload })
        }
        Signed::Message { payload, signature } => Ok(SignedParts::Message {
            payload,
            signature,
            sha256: Sha256::digest(payload).into(),
        }),
        Signed::Digest { digest, signature } => Ok(SignedParts::Digest { digest, signature }),
    }
}

impl SignedParts<'_> {
    /// The first candidate key that signed it.
    fn verify(&self, candidates: &[PublicKey]) -> Result<PublicKey, Rejection> {
        let found = match self {
            SignedParts::Envelope { envelope, payload } => {
                let message = pae(&envelope.payload_type, payload);
                let sigs: Vec<Vec<u8>> = envelope
                    .signatures
                    .iter()
                    .filter_map(|s| STANDARD.decode(&s.sig).ok())
                    .collect();
                candidates
                    .iter()
                    .find(|k| sigs.iter().any(|s| k.verify(&message, s)))
            }
            SignedParts::Message {
                payload, signature, ..
            } => candidates.iter().find(|k| k.verify(payload, signature)),
            SignedParts::Digest { digest, signature } => candidates
                .iter()
                .find(|k| k.verify_prehashed_sha256(digest, signature)),
        };
        found.cloned().ok_or_else(|| {
            let keys: Vec<String> = candidates.iter().map(|k| k.key_id()).collect();
            let mut why = format!(
                "no signature verifies with {} {}",
                if keys.len() == 1 { "key" } else { "any of the keys" },
                keys.join(", ")
            );
            if let SignedParts::Envelope { envelope, .. } = self {
                let ids: Vec<&str> = envelope
                    .signatures
                    .iter()
                    .map(|s| s.keyid.as_str())
                    .filter(|k| !k.is_empty())
                    .collect();
                if !ids.is_empty() && !ids.iter().any(|id| keys.iter().any(|k| k == id)) {
                    why.push_str(&format!(" (the envelope names key {})", ids.join(", ")));
                }
            }
            if let SignedParts::Digest { .. } = self
                && candidates.iter().all(|k| {
                    !matches!(
                        k.kind(),
                        crate::sign::KeyKind::EcdsaP256 | crate::sign::KeyKind::EcdsaP384
                    )
                })
            {
                why.push_str(
                    " (only its digest is known, and only ECDSA signatures can be checked over a digest; put the signed payload beside the bundle)",
                );
            }
            Rejection::new("signature", why)
        })
    }

    /// What a transparency log entry for it records.
    fn logged(&self) -> Logged<'_> {
        match self {
            SignedParts::Envelope { envelope, payload } => Logged::Envelope {
                envelope_json: None,
                envelope,
                payload,
            },
            SignedParts::Message {
                sha256, signature, ..
            } => Logged::Message {
                payload_sha256: sha256,
                signature,
            },
            SignedParts::Digest { digest, signature } => Logged::Message {
                payload_sha256: digest,
                signature,
            },
        }
    }

    /// The verified content, which must be what its type says.
    fn content(self, whole_statement: bool) -> Result<Content, Rejection> {
        match self {
            SignedParts::Envelope { envelope, payload } => {
                if envelope.payload_type != IN_TOTO {
                    return Err(Rejection::new(
                        "payload-type",
                        format!(
                            "the payload type is {:?}, not {IN_TOTO}",
                            envelope.payload_type
                        ),
                    ));
                }
                let not_json = |e: serde_json::Error| {
                    Rejection::new("payload", format!("the payload is not JSON: {e}"))
                };
                let statement: Value = if whole_statement {
                    serde_json::from_slice(&payload).map_err(not_json)?
                } else {
                    serde_json::from_slice::<StatementHead>(&payload)
                        .map_err(not_json)?
                        .into_value()
                };
                // Chains writes `"subject": null` for a run without subjects
                // (a nil Go slice), so only its type is checked.
                let is_statement = statement.get("_type").and_then(Value::as_str).is_some()
                    && statement
                        .get("subject")
                        .is_none_or(|s| s.is_array() || s.is_null())
                    && statement
                        .get("predicateType")
                        .and_then(Value::as_str)
                        .is_some();
                if !is_statement {
                    return Err(Rejection::new(
                        "payload",
                        "the payload is not an in-toto statement (_type, subject, predicateType)",
                    ));
                }
                Ok(Content::Statement { payload, statement })
            }
            SignedParts::Message { payload, .. } => {
                let doc: Value = serde_json::from_slice(payload).map_err(|e| {
                    Rejection::new("payload", format!("the signed payload is not JSON: {e}"))
                })?;
                let digest = doc
                    .pointer("/critical/image/docker-manifest-digest")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        Rejection::new(
                            "payload",
                            "the signed payload is not a simple-signing payload (no critical.image.docker-manifest-digest)",
                        )
                    })?;
                Ok(Content::ImageSignature {
                    payload: payload.to_vec(),
                    image_digest: digest.to_string(),
                })
            }
            SignedParts::Digest { digest, .. } => Ok(Content::MessageDigest {
                sha256_hex: digest.iter().map(|b| format!("{b:02x}")).collect(),
            }),
        }
    }
}
