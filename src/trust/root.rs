//! Sigstore's `TrustedRoot` (protobuf-specs `dev.sigstore.trustroot.v1`), in
//! its protobuf-JSON form as sigstore-go, cosign and sigstore-python read it
//! (`trusted_root.json` in Sigstore's TUF repository, `cosign verify
//! --trusted-root`), media types v0.1 and v0.2.
//!
//! Each key and CA has a validity window (`validFor`): a transparency log
//! key, a CT log key, a Fulcio CA or a timestamp authority is trusted only
//! for what it signed inside its window, so every lookup here takes the time
//! the evidence was signed at (from a verified log entry or timestamp) and
//! answers only with what was valid then.
//!
//! Parsing is strict about what trust depends on (key bytes, key details,
//! certificates, times: an entry that does not parse names its place and
//! fails the whole root) and lenient about fields it does not use
//! (`subject`, `operator`, and fields newer specs add), as protobuf-JSON
//! readers are. A key whose algorithm this tool does not verify is kept and
//! reported as unsupported when a lookup reaches it, so one new key type in
//! Sigstore's public root does not make every other entry unusable.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use miette::Diagnostic;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::sign::{KeyKind, PublicKey};

/// The media types of the trusted roots this module reads.
const MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.1+json",
    "application/vnd.dev.sigstore.trustedroot+json;version=0.2",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// At most this many bytes are read from a trusted root file (the public
/// good root is about 7 KB).
const MAX_ROOT_BYTES: u64 = 16 * 1024 * 1024;

/// When a key or CA may be trusted: `start` and `end` inclusive; a missing
/// bound is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Validity {
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
}

impl Validity {
    /// No window: valid at every time (the shortcuts' keys and CAs).
    pub const ALWAYS: Validity = Validity {
        start: None,
        end: None,
    };

    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.start.is_none_or(|s| s <= at) && self.end.is_none_or(|e| at <= e)
    }
}

impl std::fmt::Display for Validity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |t: Option<OffsetDateTime>| {
            t.and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_else(|| "(open)".into())
        };
        write!(f, "{} to {}", show(self.start), show(self.end))
    }
}

/// The `keyDetails` of a log key (protobuf-specs `PublicKeyDetails`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyDetails {
    EcdsaP256Sha256,
    EcdsaP384Sha384,
    EcdsaP521Sha512,
    Ed25519,
    /// `PKIX_RSA_PKCS1V15_*` or the deprecated `PKCS1_RSA_PKCS1V5`.
    RsaPkcs1v15,
    /// `PKIX_RSA_PSS_*` or the deprecated `PKCS1_RSA_PSS`/`PKIX_RSA_PSS`.
    RsaPss,
    /// Anything else (the name as given); lookups of such a key fail.
    Other(String),
}

impl KeyDetails {
    fn parse(name: &str) -> KeyDetails {
        match name {
            "PKIX_ECDSA_P256_SHA_256" => KeyDetails::EcdsaP256Sha256,
            "PKIX_ECDSA_P384_SHA_384" => KeyDetails::EcdsaP384Sha384,
            "PKIX_ECDSA_P521_SHA_512" => KeyDetails::EcdsaP521Sha512,
            "PKIX_ED25519" => KeyDetails::Ed25519,
            n if n.starts_with("PKIX_RSA_PKCS1V15_") || n == "PKCS1_RSA_PKCS1V5" => {
                KeyDetails::RsaPkcs1v15
            }
            n if n.starts_with("PKIX_RSA_PSS") || n == "PKCS1_RSA_PSS" => KeyDetails::RsaPss,
            other => KeyDetails::Other(other.to_string()),
        }
    }

    /// The key kind these details promise, to check the key bytes against.
    fn kind(&self) -> Option<KeyKind> {
        match self {
            KeyDetails::EcdsaP256Sha256 => Some(KeyKind::EcdsaP256),
            KeyDetails::EcdsaP384Sha384 => Some(KeyKind::EcdsaP384),
            KeyDetails::EcdsaP521Sha512 => Some(KeyKind::EcdsaP521),
            KeyDetails::Ed25519 => Some(KeyKind::Ed25519),
            KeyDetails::RsaPkcs1v15 | KeyDetails::RsaPss => Some(KeyKind::Rsa),
            KeyDetails::Other(_) => None,
        }
    }
}

/// A transparency log (Rekor v1 or v2) or a certificate transparency log.
#[derive(Clone, Debug)]
pub struct TransparencyLog {
    /// Where the log is served (may be empty for a shortcut key).
    pub base_url: String,
    /// The log's `logId.keyId`: for Rekor v1 and CT logs the SHA-256 of the
    /// key's DER SubjectPublicKeyInfo.
    pub log_id: Vec<u8>,
    /// `checkpointKeyId.keyId` (trusted root v0.2), when given.
    pub checkpoint_key_id: Option<Vec<u8>>,
    pub key_details: KeyDetails,
    /// The key, or why it cannot be used.
    key: Result<PublicKey, String>,
    pub valid_for: Validity,
}

impl TransparencyLog {
    /// The log's key, unless this tool cannot verify with it.
    pub fn public_key(&self) -> Result<&PublicKey, TrustError> {
        self.key.as_ref().map_err(|why| TrustError::UnsupportedKey {
            log_id: STANDARD.encode(&self.log_id),
            why: why.clone(),
        })
    }
}

/// A signer's public key with the window it may be trusted in: `--key`
/// given as protobuf-specs' `PublicKey` message in its JSON form
/// (`{"rawBytes", "keyDetails", "validFor": {"start", "end"}}`), the form
/// Sigstore's trust material gives every key in. As sigstore-go's
/// `ExpiringKey`, the key verifies only what a trusted time (a verified
/// timestamp or log entry) places inside its window.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    pub key: PublicKey,
    pub valid_for: Validity,
}

impl TrustedKey {
    /// A key without a window (a PEM key, a certificate's, a KMS key).
    pub fn always(key: PublicKey) -> TrustedKey {
        TrustedKey {
            key,
            valid_for: Validity::ALWAYS,
        }
    }

    /// Parse a `PublicKey` message; errors name the field at fault.
    /// `keyDetails` may be left out (the key's own algorithm is then
    /// taken); when given, it must describe the key.
    pub fn from_json(json: &[u8]) -> Result<TrustedKey, String> {
        let raw: RawKey = serde_json::from_slice(json).map_err(|e| {
            format!("not a Sigstore PublicKey message (rawBytes, keyDetails, validFor): {e}")
        })?;
        let valid_for =
            validity(raw.valid_for.as_ref()).map_err(|(p, w)| format!("validFor{p}: {w}"))?;
        let der = match &raw.raw_bytes {
            Some(b) => bytes(b).map_err(|w| format!("rawBytes: {w}"))?,
            None => return Err("rawBytes: missing".into()),
        };
        let key = match raw.key_details.as_deref() {
            None | Some("PUBLIC_KEY_DETAILS_UNSPECIFIED") => {
                PublicKey::from_spki_der(&der).map_err(|e| format!("rawBytes: {e}"))?
            }
            Some(name) => {
                let details = KeyDetails::parse(name);
                if let KeyDetails::Other(name) = &details {
                    return Err(format!("keyDetails: {name:?} is not supported"));
                }
                let key = parse_key(&der, &details).map_err(|w| format!("rawBytes: {w}"))?;
                if Some(key.kind()) != details.kind() {
                    return Err(format!("keyDetails say {name}, the key is {}", key.kind()));
                }
                key
            }
        };
        Ok(TrustedKey { key, valid_for })
    }
}

/// A certificate authority: a Fulcio instance or a timestamp authority.
#[derive(Clone, Debug)]
pub struct CertificateAuthority {
    pub uri: String,
    /// DER certificates, from the one nearest to leaves up to the root (the
    /// last).
    pub certificates: Vec<Vec<u8>>,
    pub valid_for: Validity,
}

impl CertificateAuthority {
    /// The trust anchor: the last certificate of the chain.
    pub fn root(&self) -> Option<&[u8]> {
        self.certificates.last().map(Vec::as_slice)
    }

    /// The certificates between issued leaves and the root.
    pub fn intermediates(&self) -> &[Vec<u8>] {
        match self.certificates.split_last() {
            Some((_, rest)) => rest,
            None => &[],
        }
    }
}

/// Everything trusted: what `--trusted-root`, TUF or the shortcuts give.
#[derive(Clone, Debug, Default)]
pub struct TrustedRoot {
    pub certificate_authorities: Vec<CertificateAuthority>,
    pub tlogs: Vec<TransparencyLog>,
    pub ctlogs: Vec<TransparencyLog>,
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum TrustError {
    #[error("cannot read the trusted root {path}: {why}")]
    #[diagnostic(code(chains::trust::read))]
    Read { path: String, why: String },
    #[error("{origin} is not a Sigstore trusted root: {why}")]
    #[diagnostic(
        code(chains::trust::parse),
        help(
            "a trusted root is the JSON cosign and sigstore-go take as --trusted-root (trusted_root.json)"
        )
    )]
    Parse { origin: String, why: String },
    #[error("{origin}: {place}: {why}")]
    #[diagnostic(code(chains::trust::invalid))]
    Invalid {
        origin: String,
        place: String,
        why: String,
    },
    #[error("no {what} with log ID {log_id} in the trusted root")]
    #[diagnostic(code(chains::trust::unknown_log))]
    UnknownLog { what: &'static str, log_id: String },
    #[error("the {what} with log ID {log_id} is trusted for {windows}, not at {at}")]
    #[diagnostic(code(chains::trust::outside_validity))]
    OutsideValidity {
        what: &'static str,
        log_id: String,
        windows: String,
        at: String,
    },
    #[error("the log with log ID {log_id} has a key that cannot be used: {why}")]
    #[diagnostic(code(chains::trust::unsupported_key))]
    UnsupportedKey { log_id: String, why: String },
}

// The protobuf-JSON shapes, as read. Unknown fields are ignored (protobuf
// JSON readers do); serde still rejects a repeated field.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawCa>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    timestamp_authorities: Vec<RawCa>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    hash_algorithm: Option<String>,
    public_key: RawKey,
    log_id: RawKeyId,
    #[serde(default)]
    checkpoint_key_id: Option<RawKeyId>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    #[serde(default)]
    raw_bytes: Option<String>,
    #[serde(default)]
    key_details: Option<String>,
    #[serde(default)]
    valid_for: Option<RawRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKeyId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCa {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    #[serde(default)]
    valid_for: Option<RawRange>,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

impl TrustedRoot {
    /// Read a trusted root file (`--trusted-root`).
    pub fn from_file(path: &Path) -> Result<TrustedRoot, TrustError> {
        use std::io::Read;
        let shown = path.display().to_string();
        let read_error = |e: std::io::Error| TrustError::Read {
            path: shown.clone(),
            why: e.to_string(),
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .map_err(read_error)?
            .take(MAX_ROOT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_ROOT_BYTES {
            return Err(TrustError::Read {
                path: shown,
                why: format!("it is larger than {MAX_ROOT_BYTES} bytes"),
            });
        }
        TrustedRoot::from_json(&bytes, &shown)
    }

    /// Parse a trusted root; `origin` names it in errors (a file, a URL).
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<TrustedRoot, TrustError> {
        let raw: RawRoot = serde_json::from_slice(bytes).map_err(|e| TrustError::Parse {
            origin: origin.to_string(),
            why: e.to_string(),
        })?;
        if !MEDIA_TYPES.contains(&raw.media_type.as_str()) {
            return Err(TrustError::Parse {
                origin: origin.to_string(),
                why: format!(
                    "unsupported mediaType {:?} (expected one of {})",
                    raw.media_type,
                    MEDIA_TYPES.join(", ")
                ),
            });
        }
        let invalid = |place: String, why: String| TrustError::Invalid {
            origin: origin.to_string(),
            place,
            why,
        };
        let logs = |raw: Vec<RawLog>, field: &str| {
            raw.into_iter()
                .enumerate()
                .map(|(i, l)| log(l).map_err(|(p, w)| invalid(format!("{field}[{i}]{p}"), w)))
                .collect::<Result<Vec<_>, _>>()
        };
        let cas = |raw: Vec<RawCa>, field: &str| {
            raw.into_iter()
                .enumerate()
                .map(|(i, c)| authority(c).map_err(|(p, w)| invalid(format!("{field}[{i}]{p}"), w)))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(TrustedRoot {
            tlogs: logs(raw.tlogs, "tlogs")?,
            ctlogs: logs(raw.ctlogs, "ctlogs")?,
            certificate_authorities: cas(raw.certificate_authorities, "certificateAuthorities")?,
            timestamp_authorities: cas(raw.timestamp_authorities, "timestampAuthorities")?,
        })
    }

    /// The trust the shortcut flags give: every root certificate (DER) is a
    /// CA of its own, completed by all `intermediates`, and every log key is
    /// a Rekor log (log ID the SHA-256 of its DER key); none has a window.
    pub fn from_shortcuts(
        roots: &[Vec<u8>],
        intermediates: &[Vec<u8>],
        log_keys: &[PublicKey],
    ) -> TrustedRoot {
        TrustedRoot {
            certificate_authorities: roots
                .iter()
                .map(|root| {
                    let mut certificates = intermediates.to_vec();
                    certificates.push(root.clone());
                    CertificateAuthority {
                        uri: String::new(),
                        certificates,
                        valid_for: Validity::ALWAYS,
                    }
                })
                .collect(),
            tlogs: log_keys
                .iter()
                .map(|key| TransparencyLog {
                    base_url: String::new(),
                    log_id: Sha256::digest(key.spki_der()).to_vec(),
                    checkpoint_key_id: None,
                    key_details: details_of(key.kind()),
                    key: Ok(key.clone()),
                    valid_for: Validity::ALWAYS,
                })
                .collect(),
            ctlogs: Vec::new(),
            timestamp_authorities: Vec::new(),
        }
    }

    /// Add what `other` trusts to this root (a shortcut given beside
    /// `--trusted-root`).
    pub fn extend(&mut self, other: TrustedRoot) {
        self.certificate_authorities
            .extend(other.certificate_authorities);
        self.tlogs.extend(other.tlogs);
        self.ctlogs.extend(other.ctlogs);
        self.timestamp_authorities
            .extend(other.timestamp_authorities);
    }

    /// The transparency log (Rekor) with this log ID, whatever its window.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The key of the Rekor log `log_id` that was valid at `at`.
    pub fn tlog_key(&self, log_id: &[u8], at: OffsetDateTime) -> Result<&PublicKey, TrustError> {
        key_at(&self.tlogs, "transparency log", log_id, at)
    }

    /// The Rekor logs whose key was valid at `at`.
    pub fn tlogs_at(&self, at: OffsetDateTime) -> impl Iterator<Item = &TransparencyLog> {
        self.tlogs.iter().filter(move |l| l.valid_for.contains(at))
    }

    /// The key of the certificate transparency log `log_id` that was valid at `at`.
    pub fn ct_log_key(&self, log_id: &[u8], at: OffsetDateTime) -> Result<&PublicKey, TrustError> {
        key_at(&self.ctlogs, "certificate transparency log", log_id, at)
    }

    /// The Fulcio CAs valid at `at`.
    pub fn fulcio_at(&self, at: OffsetDateTime) -> impl Iterator<Item = &CertificateAuthority> {
        self.certificate_authorities
            .iter()
            .filter(move |c| c.valid_for.contains(at))
    }

    /// The timestamp authorities valid at `at`.
    pub fn timestamp_authorities_at(
        &self,
        at: OffsetDateTime,
    ) -> impl Iterator<Item = &CertificateAuthority> {
        self.timestamp_authorities
            .iter()
            .filter(move |c| c.valid_for.contains(at))
    }

    /// Every Rekor log key of a kind Rekor signs with (ECDSA P-256/P-384,
    /// Ed25519), PEM, for the entry checks that take keys so (they do not
    /// consult windows).
    pub fn tlog_keys_pem(&self) -> String {
        self.tlogs
            .iter()
            .filter_map(|l| l.key.as_ref().ok())
            .filter(|k| {
                matches!(
                    k.kind(),
                    KeyKind::EcdsaP256 | KeyKind::EcdsaP384 | KeyKind::Ed25519
                )
            })
            .map(PublicKey::to_pem)
            .collect()
    }
}

/// The key of the log `log_id` among `logs` valid at `at` (`what` names
/// the kind of log in errors).
pub(crate) fn key_at<'a>(
    logs: &'a [TransparencyLog],
    what: &'static str,
    log_id: &[u8],
    at: OffsetDateTime,
) -> Result<&'a PublicKey, TrustError> {
    let mut found = logs.iter().filter(|l| l.log_id == log_id).peekable();
    if found.peek().is_none() {
        return Err(TrustError::UnknownLog {
            what,
            log_id: STANDARD.encode(log_id),
        });
    }
    let mut windows = Vec::new();
    for log in found {
        if log.valid_for.contains(at) {
            return log.public_key();
        }
        windows.push(log.valid_for.to_string());
    }
    Err(TrustError::OutsideValidity {
        what,
        log_id: STANDARD.encode(log_id),
        windows: windows.join(", "),
        at: at.format(&Rfc3339).unwrap_or_else(|_| at.to_string()),
    })
}

fn details_of(kind: KeyKind) -> KeyDetails {
    match kind {
        KeyKind::EcdsaP256 => KeyDetails::EcdsaP256Sha256,
        KeyKind::EcdsaP384 => KeyDetails::EcdsaP384Sha384,
        KeyKind::EcdsaP521 => KeyDetails::EcdsaP521Sha512,
        KeyKind::Ed25519 => KeyDetails::Ed25519,
        KeyKind::Rsa => KeyDetails::RsaPkcs1v15,
    }
}

/// A place inside an entry (".publicKey.rawBytes") and what is wrong there.
type Problem = (String, String);

fn log(raw: RawLog) -> Result<TransparencyLog, Problem> {
    if let Some(h) = &raw.hash_algorithm
        && h != "SHA2_256"
    {
        return Err((
            ".hashAlgorithm".into(),
            format!("{h:?} is not supported (only SHA2_256)"),
        ));
    }
    let log_id = bytes(&raw.log_id.key_id).map_err(|w| (".logId.keyId".into(), w))?;
    let checkpoint_key_id = match &raw.checkpoint_key_id {
        Some(k) => Some(bytes(&k.key_id).map_err(|w| (".checkpointKeyId.keyId".into(), w))?),
        None => None,
    };
    let valid_for = validity(raw.public_key.valid_for.as_ref())
        .map_err(|(p, w)| (format!(".publicKey.validFor{p}"), w))?;
    let details = KeyDetails::parse(raw.public_key.key_details.as_deref().unwrap_or(""));
    let der = match &raw.public_key.raw_bytes {
        Some(b) => bytes(b).map_err(|w| (".publicKey.rawBytes".into(), w))?,
        None => return Err((".publicKey.rawBytes".into(), "missing".into())),
    };
    let key = match &details {
        KeyDetails::Other(name) => Err(format!("key details {name:?} are not supported")),
        details => {
            let key = parse_key(&der, details).map_err(|w| (".publicKey.rawBytes".into(), w))?;
            if Some(key.kind()) != details.kind() {
                return Err((
                    ".publicKey".into(),
                    format!("keyDetails say {details:?}, the key is {}", key.kind()),
                ));
            }
            Ok(key)
        }
    };
    Ok(TransparencyLog {
        base_url: raw.base_url,
        log_id,
        checkpoint_key_id,
        key_details: details,
        key,
        valid_for,
    })
}

/// A key's DER: a SubjectPublicKeyInfo, or for the deprecated `PKCS1_*`
/// details a bare PKCS#1 RSAPublicKey (wrapped here into one).
fn parse_key(der: &[u8], details: &KeyDetails) -> Result<PublicKey, String> {
    match PublicKey::from_spki_der(der) {
        Ok(k) => Ok(k),
        Err(first) if matches!(details, KeyDetails::RsaPkcs1v15 | KeyDetails::RsaPss) => {
            use spki::der::{Decode, Encode};
            pkcs1::RsaPublicKey::from_der(der).map_err(|e| {
                format!("neither a SubjectPublicKeyInfo ({first}) nor a PKCS#1 key: {e}")
            })?;
            let spki = spki::SubjectPublicKeyInfoOwned {
                algorithm: spki::AlgorithmIdentifierOwned {
                    oid: spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
                    parameters: Some(spki::der::asn1::Null.into()),
                },
                subject_public_key: spki::der::asn1::BitString::from_bytes(der)
                    .map_err(|e| e.to_string())?,
            };
            let wrapped = spki.to_der().map_err(|e| e.to_string())?;
            PublicKey::from_spki_der(&wrapped).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

fn authority(raw: RawCa) -> Result<CertificateAuthority, Problem> {
    use x509_cert::der::Decode;
    if raw.cert_chain.certificates.is_empty() {
        return Err((".certChain.certificates".into(), "empty".into()));
    }
    let certificates = raw
        .cert_chain
        .certificates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let place = format!(".certChain.certificates[{i}].rawBytes");
            let der = bytes(&c.raw_bytes).map_err(|w| (place.clone(), w))?;
            x509_cert::Certificate::from_der(&der)
                .map_err(|e| (place, format!("not an X.509 certificate: {e}")))?;
            Ok(der)
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    let valid_for =
        validity(raw.valid_for.as_ref()).map_err(|(p, w)| (format!(".validFor{p}"), w))?;
    Ok(CertificateAuthority {
        uri: raw.uri,
        certificates,
        valid_for,
    })
}

fn validity(raw: Option<&RawRange>) -> Result<Validity, Problem> {
    let Some(raw) = raw else {
        return Ok(Validity::ALWAYS);
    };
    let time = |t: &Option<String>, place: &str| match t {
        None => Ok(None),
        Some(s) => OffsetDateTime::parse(s, &Rfc3339).map(Some).map_err(|e| {
            (
                place.to_string(),
                format!("{s:?} is not an RFC 3339 time: {e}"),
            )
        }),
    };
    let v = Validity {
        start: time(&raw.start, ".start")?,
        end: time(&raw.end, ".end")?,
    };
    if let (Some(s), Some(e)) = (v.start, v.end)
        && e < s
    {
        return Err((String::new(), format!("ends ({v}) before it starts")));
    }
    Ok(v)
}

/// Protobuf-JSON bytes: standard base64, or its URL-safe alphabet.
fn bytes(text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(|e| format!("not base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &Rfc3339).unwrap()
    }

    const ROOT: &str = r#"{
      "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
      "tlogs": [{
        "baseUrl": "https://log",
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
          "rawBytes": "MCowBQYDK2VwAyEAPn+AREHoBaZ7wgS1zBqpxmLSGnyhxXj4lFxSdWVB8o8=",
          "keyDetails": "PKIX_ED25519",
          "validFor": {"start": "2025-04-16T00:00:00Z", "end": "2025-09-04T00:00:00Z"}
        },
        "logId": {"keyId": "8w1amZ2S5mJIQkQmPxdMuOrL/oJkvFg9MnQXmeOCXck="}
      }]
    }"#;

    #[test]
    fn tlog_key_respects_its_window() {
        let root = TrustedRoot::from_json(ROOT.as_bytes(), "t").unwrap();
        let id = STANDARD
            .decode("8w1amZ2S5mJIQkQmPxdMuOrL/oJkvFg9MnQXmeOCXck=")
            .unwrap();
        let key = root.tlog_key(&id, at("2025-05-01T00:00:00Z")).unwrap();
        assert_eq!(key.kind(), KeyKind::Ed25519);
        let late = root.tlog_key(&id, at("2025-09-04T00:00:01Z")).unwrap_err();
        assert!(matches!(late, TrustError::OutsideValidity { .. }), "{late}");
        let unknown = root
            .tlog_key(&[0; 32], at("2025-05-01T00:00:00Z"))
            .unwrap_err();
        assert!(
            matches!(unknown, TrustError::UnknownLog { .. }),
            "{unknown}"
        );
    }

    #[test]
    fn rejects_wrong_media_type_and_mismatched_key_details() {
        let bad = ROOT.replace("version=0.1", "version=9");
        let e = TrustedRoot::from_json(bad.as_bytes(), "t").unwrap_err();
        assert!(e.to_string().contains("unsupported mediaType"), "{e}");
        let bad = ROOT.replace("PKIX_ED25519", "PKIX_ECDSA_P256_SHA_256");
        let e = TrustedRoot::from_json(bad.as_bytes(), "t").unwrap_err();
        assert!(e.to_string().contains("tlogs[0].publicKey"), "{e}");
    }

    #[test]
    fn unknown_key_details_fail_only_when_used() {
        let odd = ROOT.replace("PKIX_ED25519", "LMS_SHA256");
        let root = TrustedRoot::from_json(odd.as_bytes(), "t").unwrap();
        let id = root.tlogs[0].log_id.clone();
        let e = root.tlog_key(&id, at("2025-05-01T00:00:00Z")).unwrap_err();
        assert!(matches!(e, TrustError::UnsupportedKey { .. }), "{e}");
    }

    #[test]
    fn a_trusted_key_names_what_is_wrong_with_it() {
        let ed = "MCowBQYDK2VwAyEAPn+AREHoBaZ7wgS1zBqpxmLSGnyhxXj4lFxSdWVB8o8=";
        let key = TrustedKey::from_json(
            format!(r#"{{"rawBytes":"{ed}","keyDetails":"PKIX_ED25519","validFor":{{"start":"2025-01-01T00:00:00Z"}}}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(key.key.kind(), KeyKind::Ed25519);
        assert!(key.valid_for.contains(at("2025-01-01T00:00:00Z")));
        assert!(!key.valid_for.contains(at("2024-12-31T23:59:59Z")));
        let e = TrustedKey::from_json(br#"{"keyDetails":"PKIX_ED25519"}"#).unwrap_err();
        assert_eq!(e, "rawBytes: missing");
        let e = TrustedKey::from_json(
            format!(r#"{{"rawBytes":"{ed}","validFor":{{"start":"2025-01-02T00:00:00Z","end":"2025-01-01T00:00:00Z"}}}}"#).as_bytes(),
        )
        .unwrap_err();
        assert!(e.starts_with("validFor: ends"), "{e}");
        let e = TrustedKey::from_json(
            format!(r#"{{"rawBytes":"{ed}","keyDetails":"LMS"}}"#).as_bytes(),
        )
        .unwrap_err();
        assert!(e.contains("\"LMS\" is not supported"), "{e}");
    }

    #[test]
    fn repeated_field_is_rejected() {
        let twice = ROOT.replacen(
            "\"tlogs\"",
            "\"mediaType\": \"application/vnd.dev.sigstore.trustedroot+json;version=0.1\", \"tlogs\"",
            1,
        );
        assert!(TrustedRoot::from_json(twice.as_bytes(), "t").is_err());
    }

    /// The trust roots of the shared Sigstore vectors (../shared), read as
    /// cosign and sigstore-go read them.
    #[test]
    fn reads_the_upstream_trusted_roots() {
        let Some(dir) = crate::trust::vectors_dir() else {
            return;
        };
        let read = |p: &str| TrustedRoot::from_file(&dir.join(p)).unwrap();
        let staging = read("sigstore-python/staging-trusted_root.json");
        assert!(staging.tlogs.len() >= 2);
        // The Rekor v2 log's Ed25519 key is valid only from 2025-04-16.
        let v2 = staging
            .tlogs
            .iter()
            .find(|l| l.key_details == KeyDetails::Ed25519)
            .unwrap();
        assert!(
            staging
                .tlog_key(&v2.log_id, at("2025-05-01T00:00:00Z"))
                .is_ok()
        );
        assert!(
            staging
                .tlog_key(&v2.log_id, at("2024-05-01T00:00:00Z"))
                .is_err()
        );
        // A deprecated PKCS#1 RSA CT log key is wrapped and usable.
        assert!(
            staging
                .ctlogs
                .iter()
                .any(|l| l.key_details == KeyDetails::RsaPkcs1v15
                    && l.public_key().is_ok_and(|k| k.kind() == KeyKind::Rsa))
        );
        assert!(!staging.timestamp_authorities.is_empty());

        let pgi = read("cosign/pkg/cosign/testdata/trusted_root_pgi.json");
        assert_eq!(pgi.fulcio_at(at("2022-01-01T00:00:00Z")).count(), 1);
        assert_eq!(pgi.fulcio_at(at("2022-06-01T00:00:00Z")).count(), 2);
        assert_eq!(pgi.fulcio_at(at("2023-06-01T00:00:00Z")).count(), 1);

        let tsa_only = read("sigstore-go/pkg/testing/data/trusted-roots/public-key-validity.json");
        assert_eq!(
            tsa_only
                .timestamp_authorities_at(at("2026-06-04T12:43:29.186617431Z"))
                .count(),
            1
        );
        assert_eq!(
            tsa_only
                .timestamp_authorities_at(at("2026-06-04T12:43:29.186617430Z"))
                .count(),
            0
        );
        for p in [
            "sigstore-python/prod-trusted_root.json",
            "sigstore-go/examples/trusted-root-public-good.json",
            "sigstore-go/pkg/testing/data/trusted-roots/public-good.json",
            "sigstore-go/pkg/testing/data/trusted-roots/scaffolding.json",
            "ec-cli/tuf-recorded-trusted_root.json",
        ] {
            let root = read(p);
            assert!(!root.certificate_authorities.is_empty(), "{p}");
            assert!(root.tlogs.iter().all(|l| l.public_key().is_ok()), "{p}");
        }
    }
}
