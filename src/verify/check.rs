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
use crate::tlog::{Checked, LogEntry, Logged, Rekor, Rules, entry_records};
use crate::trust::{TrustedKey, TrustedRoot};

/// What signatures are trusted, and how transparency is handled.
pub struct Trust {
    /// `--key`: signatures by any of these keys are trusted, each within
    /// its validity window.
    pub keys: Vec<TrustedKey>,
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
    /// `--rekor-url` was given: entries known only by index are fetched,
    /// and evidence with no entry at all is looked up by its hash.
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
    /// Signed bytes of another kind (a blob, or a DSSE payload that is not
    /// an in-toto statement), or only their SHA-256 when the bytes are not
    /// at hand (a message-signature bundle without its artifact).
    Blob {
        /// The DSSE payload type, for an envelope.
        payload_type: Option<String>,
        sha256_hex: String,
        payload: Option<Vec<u8>>,
    },
}

impl Content {
    /// The verified bytes, where there are any.
    pub fn payload(&self) -> Option<&[u8]> {
        match self {
            Content::Statement { payload, .. } | Content::ImageSignature { payload, .. } => {
                Some(payload)
            }
            Content::Blob { payload, .. } => payload.as_deref(),
        }
    }
}

/// What became of transparency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlogStatus {
    /// An entry verified against the log key and records this artifact.
    Verified {
        log_index: i64,
        /// When its signed entry timestamp says it was logged (none for
        /// Rekor v2 entries, whose time comes from a signed timestamp).
        integrated_time: Option<i64>,
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
    bundled_entry(evidence, trust)?;

    // Transparency and timestamps first: a verified entry's or timestamp's
    // time is when a short-lived certificate must have been valid.
    let (entries, searched) = log_entries(evidence, &trust.tlog, &signed)?;
    let mut checked = verify_entries(evidence, &trust.tlog, &entries, searched)?;
    // Of entries found by a search, only those of this signature (with this
    // certificate) may lend it their time: the same payload may have been
    // signed and logged before, by another certificate.
    if searched && let Some(chain) = &evidence.certificate {
        checked.retain(|(e, _)| entry_records(e, &signed.logged(), &chain.certificate_pem).is_ok());
    }
    let times = signed_times(evidence, trust, &signed, &checked)?;
    log_keys_valid(&checked, &times, now)?;
    let signed_at = times.iter().map(|t| t.at).min();

    let (candidates, certified) = signers(evidence, trust, signed_at, now)?;
    let key = signing_key(&signed, &candidates, &times, now)?;
    let (signer, verifier_pem) = match certified {
        Some((signer, pem)) => (signer, pem),
        None => (format!("key {}", key.key_id()), key.to_pem()),
    };

    // Each bundled entry must record this artifact; of entries found by a
    // search, those that do count.
    let mut recorded: Vec<(&LogEntry, Checked)> = Vec::new();
    for (entry, c) in checked {
        match entry_records(entry, &signed.logged(), &verifier_pem) {
            Ok(()) => recorded.push((entry, c)),
            Err(_) if searched => {}
            Err(why) => {
                return Err(Rejection::new(
                    "tlog",
                    format!(
                        "the log entry at index {} does not record this artifact: {why}",
                        entry.log_index
                    ),
                ));
            }
        }
    }
    let tlog = tlog_status(trust, &entries, searched, &recorded)?;
    let content = signed.content(whole_statement)?;
    if let (Some(run), Content::Statement { statement, .. }) = (&evidence.run_subjects, &content) {
        matches_run(statement, run)?;
    }
    Ok(Verified {
        content,
        signer,
        tlog,
    })
}

/// An attestation on a run must be about what the run's results say it
/// built: every image its results name is a subject, and a TaskRun's
/// subjects are all among its results (edited results under intact
/// annotations fail here).
fn matches_run(statement: &Value, run: &super::evidence::RunSubjects) -> Result<(), Rejection> {
    let subjects: Vec<(String, String, String)> = statement
        .get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| {
            let name = s
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            s.get("digest")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(move |(alg, hex)| {
                    Some((
                        name.clone(),
                        alg.clone(),
                        hex.as_str()?.to_ascii_lowercase(),
                    ))
                })
        })
        .collect();
    let show = |(n, a, h): &(String, String, String)| format!("{n}@{a}:{h}");
    if let Some(missing) = run.images.iter().find(|i| !subjects.contains(i)) {
        return Err(Rejection::new(
            "run",
            format!(
                "the run's results name the image {}, which the statement does not: it is not this run's attestation, or its results were changed",
                show(missing)
            ),
        ));
    }
    if run.closed
        && let Some(extra) = subjects.iter().find(|s| !run.all.contains(s))
    {
        return Err(Rejection::new(
            "run",
            format!(
                "the statement names {}, which the run's results do not: it is not this run's attestation, or its results were changed",
                show(extra)
            ),
        ));
    }
    Ok(())
}

/// A keyless bundle carries its log entry: exactly one, as sigstore-python
/// requires of every bundle and cosign of keyless ones (more than one is
/// refused when the bundle is read). Only `--insecure-ignore-tlog` waives
/// it, as in cosign; a key-signed bundle may rest on a signed timestamp.
fn bundled_entry(evidence: &Evidence, trust: &Trust) -> Result<(), Rejection> {
    if evidence.from_bundle
        && evidence.certificate.is_some()
        && evidence.tlog.is_empty()
        && !trust.tlog.ignore
    {
        return Err(Rejection::new(
            "tlog",
            "the bundle carries no transparency log entry: a keyless bundle carries exactly one (--insecure-ignore-tlog to verify it without)",
        ));
    }
    Ok(())
}

/// Verify each entry's place in the log (SET, inclusion proof, checkpoint).
fn verify_entries<'e>(
    evidence: &Evidence,
    tlog: &Transparency,
    entries: &'e [LogEntry],
    searched: bool,
) -> Result<Vec<(&'e LogEntry, Checked)>, Rejection> {
    let mut checked = Vec::new();
    let Some(log) = tlog.log.as_ref().filter(|_| !tlog.ignore) else {
        return Ok(checked);
    };
    let rules = Rules {
        proof_required: evidence.proof_required,
    };
    for entry in entries {
        match log.verify_entry(entry, rules) {
            Ok(c) => checked.push((entry, c)),
            Err(_) if searched => {}
            Err(e) => return Err(Rejection::new("tlog", e.message)),
        }
    }
    Ok(checked)
}

/// A time someone trusted vouches the evidence was signed by.
#[derive(Clone, Copy, Debug)]
struct SignedTime {
    /// Unix seconds.
    at: i64,
    /// What vouches for it, for messages.
    by: &'static str,
    /// It is an RFC 3161 timestamp's (not a log entry's SET).
    stamped: bool,
}

/// Every trusted time the evidence was signed by: each verified SET's
/// `integratedTime` and each verified RFC 3161 timestamp.
fn signed_times(
    evidence: &Evidence,
    trust: &Trust,
    signed: &SignedParts,
    checked: &[(&LogEntry, Checked)],
) -> Result<Vec<SignedTime>, Rejection> {
    let mut times: Vec<SignedTime> = checked
        .iter()
        .filter_map(|(_, c)| c.integrated_time)
        .map(|at| SignedTime {
            at,
            by: "the log entry's integrated time",
            stamped: false,
        })
        .collect();
    // RFC 3161 timestamps over the signature, against the trusted root's
    // timestamp authorities (none given: they cannot vouch for anything).
    if !trust.root.timestamp_authorities.is_empty() {
        let signature = signed.signature_bytes();
        for token in &evidence.timestamps {
            let t = crate::trust::timestamp::verify(token, &signature, &trust.root)
                .map_err(|e| Rejection::new("timestamp", e.to_string()))?;
            times.push(SignedTime {
                at: t.time.unix_timestamp(),
                by: "the RFC 3161 timestamp",
                stamped: true,
            });
        }
    }
    Ok(times)
}

/// An entry without a SET (Rekor v2, which has no integrated time) was
/// logged under a key trusted for a window: the key must have been valid
/// at every RFC 3161 timestamp over the signature (the time v2 entries
/// take), or, with none, now. Entries with a SET had it checked at their
/// integrated time.
fn log_keys_valid(
    checked: &[(&LogEntry, Checked)],
    times: &[SignedTime],
    now: i64,
) -> Result<(), Rejection> {
    let stamped: Vec<SignedTime> = times.iter().filter(|t| t.stamped).copied().collect();
    let at = if stamped.is_empty() {
        vec![SignedTime {
            at: now,
            by: "the current time (no RFC 3161 timestamp came with it)",
            stamped: false,
        }]
    } else {
        stamped
    };
    for (entry, c) in checked.iter().filter(|(_, c)| c.integrated_time.is_none()) {
        let window = |t: i64| {
            c.key_valid_from.is_none_or(|f| t >= f) && c.key_valid_until.is_none_or(|u| t <= u)
        };
        if let Some(t) = at.iter().find(|t| !window(t.at)) {
            let show = |b: Option<i64>| b.map_or_else(|| "(open)".to_string(), super::rfc3339);
            return Err(Rejection::new(
                "tlog",
                format!(
                    "the log key of the entry at index {} is trusted from {} to {}, and {} says {}",
                    entry.log_index,
                    show(c.key_valid_from),
                    show(c.key_valid_until),
                    t.by,
                    super::rfc3339(t.at)
                ),
            ));
        }
    }
    Ok(())
}

/// The candidate key that signed it and was valid at every trusted signing
/// time (as sigstore-go checks a long-lived key against each verified
/// timestamp); with no trusted time, a key with a window must hold it now.
fn signing_key(
    signed: &SignedParts,
    candidates: &[TrustedKey],
    times: &[SignedTime],
    now: i64,
) -> Result<PublicKey, Rejection> {
    let keys: Vec<PublicKey> = candidates.iter().map(|k| k.key.clone()).collect();
    let key = signed.verify(&keys)?;
    let outside = |k: &TrustedKey| -> Option<SignedTime> {
        let at = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).ok();
        let checked = if times.is_empty() {
            &[SignedTime {
                at: now,
                by: "the current time (no trusted signing time came with it)",
                stamped: false,
            }][..]
        } else {
            times
        };
        checked
            .iter()
            .find(|t| at(t.at).is_none_or(|a| !k.valid_for.contains(a)))
            .copied()
    };
    let signer = candidates.iter().find(|k| k.key == key);
    let Some((window, late)) = signer.and_then(|k| Some((k.valid_for, outside(k)?))) else {
        return Ok(key);
    };
    // The same key may be given again with another window.
    let valid: Vec<PublicKey> = candidates
        .iter()
        .filter(|k| outside(k).is_none())
        .map(|k| k.key.clone())
        .collect();
    if let Ok(key) = signed.verify(&valid) {
        return Ok(key);
    }
    Err(Rejection::new(
        "key",
        format!(
            "signature time outside of the key's validity window: {} says {}, and key {} is trusted only from {window}",
            late.by,
            super::rfc3339(late.at),
            key.key_id(),
        ),
    ))
}

/// Who may have signed: the certificate's key (checked at the signing
/// time), or the keys given.
#[allow(clippy::type_complexity)]
fn signers(
    evidence: &Evidence,
    trust: &Trust,
    signed_at: Option<i64>,
    now: i64,
) -> Result<(Vec<TrustedKey>, Option<(String, String)>), Rejection> {
    match (&evidence.certificate, &trust.roots) {
        (Some(chain), Some(roots)) => {
            // A short-lived certificate says nothing without a time someone
            // else vouches for; with the log ignored, it must be valid now
            // (as cosign --insecure-ignore-tlog).
            let at = match signed_at {
                Some(t) => t,
                None if trust.tlog.ignore => now,
                None => {
                    let why = if !evidence.timestamps.is_empty()
                        && trust.root.timestamp_authorities.is_empty()
                    {
                        "no trusted signing time: its RFC 3161 timestamps cannot be checked without trusted timestamp authorities (--trusted-root), and no verified log entry with a signed entry timestamp came with it"
                    } else if !evidence.tlog.is_empty() && trust.tlog.log.is_none() {
                        "no trusted signing time: its log entries cannot be checked without --rekor-public-key or --rekor-url"
                    } else {
                        "no trusted signing time: a certificate needs a verified log entry with a signed entry timestamp (inclusion promise) or a verified RFC 3161 timestamp"
                    };
                    return Err(Rejection::new("certificate", why));
                }
            };
            let cert = certificate::verify(chain, roots, &trust.identity, at)
                .map_err(|e| Rejection::new("certificate", e.to_string()))?;
            let mut signer = match &cert.issuer {
                Some(issuer) => format!("certificate for {} (issuer {issuer})", cert.identity),
                None => format!("certificate for {}", cert.identity),
            };
            if let certificate::SctCheck::NotChecked(why) = cert.sct {
                signer.push_str(&format!("; SCT not checked: {why}"));
            }
            Ok((
                vec![TrustedKey::always(cert.public_key)],
                Some((signer, chain.certificate_pem.clone())),
            ))
        }
        _ if trust.identity.identity.is_some() || trust.identity.issuer.is_some() => {
            let why = if evidence.certificate.is_none() {
                "it was signed with a key, not a certificate, so no certificate identity can match"
            } else {
                "it has a certificate, but no --ca-roots were given to check it against"
            };
            Err(Rejection::new("certificate", why))
        }
        _ if !trust.keys.is_empty() => Ok((trust.keys.clone(), None)),
        (Some(_), None) => Err(Rejection::new(
            "certificate",
            "it is signed with a certificate: pass --ca-roots (and --certificate-identity) to trust it, or --key",
        )),
        (None, _) => Err(Rejection::new(
            "signature",
            "no key to check it with: pass --key",
        )),
    }
}

/// What became of transparency, and whether `--require-tlog` is met.
fn tlog_status(
    trust: &Trust,
    entries: &[LogEntry],
    searched: bool,
    recorded: &[(&LogEntry, Checked)],
) -> Result<TlogStatus, Rejection> {
    let earliest = recorded
        .iter()
        .min_by_key(|(e, c)| (c.integrated_time.is_none(), c.integrated_time, e.log_index));
    let status = match earliest {
        _ if trust.tlog.ignore => TlogStatus::Ignored,
        Some((entry, c)) => TlogStatus::Verified {
            log_index: entry.log_index,
            integrated_time: c.integrated_time,
        },
        None if entries.is_empty() || searched => TlogStatus::Absent,
        None => TlogStatus::Unchecked {
            entries: entries.len(),
        },
    };
    if trust.tlog.require && !matches!(status, TlogStatus::Verified { .. }) {
        let why = match status {
            TlogStatus::Unchecked { .. } => {
                "--require-tlog: its log entry cannot be checked without --rekor-public-key or --rekor-url"
            }
            _ if searched => "--require-tlog: no entry in the log's index records it",
            _ => "--require-tlog: no transparency log entry came with it",
        };
        return Err(Rejection::new("tlog", why));
    }
    Ok(status)
}

/// The entries that came with the evidence, or the one its log index names
/// (fetched when online), or, online with nothing else to go by, those the
/// log's index holds for its hash (the second value is then true).
fn log_entries(
    evidence: &Evidence,
    tlog: &Transparency,
    signed: &SignedParts,
) -> Result<(Vec<LogEntry>, bool), Rejection> {
    if tlog.ignore || !evidence.tlog.is_empty() {
        return Ok((evidence.tlog.clone(), false));
    }
    let Some(log) = tlog.log.as_ref().filter(|_| tlog.online) else {
        return Ok((Vec::new(), false));
    };
    let fetched = match evidence.tlog_index {
        Some(index) => log.entry_at(index).map(|e| (vec![e], false)),
        None => log
            .search_by_sha256(&signed.indexed_sha256())
            .map(|found| (found, true)),
    };
    fetched.map_err(|e| Rejection::new("tlog", e.message))
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

    /// The signature bytes an RFC 3161 timestamp stamps (a bundle's
    /// envelope has exactly one).
    fn signature_bytes(&self) -> Vec<u8> {
        match self {
            SignedParts::Envelope { envelope, .. } => envelope
                .signatures
                .first()
                .and_then(|s| STANDARD.decode(&s.sig).ok())
                .unwrap_or_default(),
            SignedParts::Message { signature, .. } | SignedParts::Digest { signature, .. } => {
                signature.to_vec()
            }
        }
    }

    /// The SHA-256 Rekor's index holds the entry under: the signed
    /// payload's (hashedrekord's data, dsse's and intoto's payload hash).
    fn indexed_sha256(&self) -> Vec<u8> {
        match self {
            SignedParts::Envelope { payload, .. } => Sha256::digest(payload).to_vec(),
            SignedParts::Message { sha256, .. } => sha256.to_vec(),
            SignedParts::Digest { digest, .. } => digest.to_vec(),
        }
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

    /// The verified content. Only now, with the signature verified over the
    /// bytes, is the payload parsed: an in-toto statement must be one, a
    /// simple-signing payload names an image, anything else is a blob.
    fn content(self, whole_statement: bool) -> Result<Content, Rejection> {
        let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        match self {
            SignedParts::Envelope { envelope, payload } if envelope.payload_type == IN_TOTO => {
                statement(payload, whole_statement)
            }
            SignedParts::Envelope { envelope, payload } => Ok(Content::Blob {
                payload_type: Some(envelope.payload_type.clone()),
                sha256_hex: hex(&Sha256::digest(&payload)),
                payload: Some(payload),
            }),
            SignedParts::Message {
                payload, sha256, ..
            } => {
                let digest = serde_json::from_slice::<Value>(payload)
                    .ok()
                    .and_then(|doc| {
                        doc.pointer("/critical/image/docker-manifest-digest")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    });
                Ok(match digest {
                    Some(image_digest) => Content::ImageSignature {
                        payload: payload.to_vec(),
                        image_digest,
                    },
                    None => Content::Blob {
                        payload_type: None,
                        sha256_hex: hex(&sha256),
                        payload: Some(payload.to_vec()),
                    },
                })
            }
            SignedParts::Digest { digest, .. } => Ok(Content::Blob {
                payload_type: None,
                sha256_hex: hex(digest),
                payload: None,
            }),
        }
    }
}

/// An in-toto statement's verified payload, which must be one.
fn statement(payload: Vec<u8>, whole_statement: bool) -> Result<Content, Rejection> {
    let not_json =
        |e: serde_json::Error| Rejection::new("payload", format!("the payload is not JSON: {e}"));
    let statement: Value = if whole_statement {
        crate::strict_json::value_from_slice(&payload).map_err(not_json)?
    } else {
        // serde's derived reader refuses a repeated `_type`, `predicateType`
        // or `subject`, and the predicate is skipped unread (the cost of a
        // strict reading of it, which nothing here looks at, is saved).
        serde_json::from_slice::<StatementHead>(&payload)
            .map_err(not_json)?
            .into_value()
    };
    // Chains writes `"subject": null` for a run without subjects (a nil Go
    // slice), so only its type is checked.
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
