//! The Sigstore bundle (protobuf-specs `dev.sigstore.bundle.v1.Bundle` in
//! protobuf JSON): the one place that reads and writes it. `attest --bundle`,
//! the OCI `sigstore-bundle` referrers and `verify` all go through here.
//!
//! Reading takes v0.1, v0.2 and v0.3 bundles (both v0.3 media type
//! spellings) apart into a [`Bundle`], refusing what the specification
//! refuses with the reason: repeated JSON keys, an unknown media type, both or
//! neither content, no verification material, an empty certificate chain,
//! an envelope with other than exactly one signature, more than one
//! transparency log entry, a v0.3 bundle with a chain instead of one
//! certificate, undecodable bytes. Rekor v2 entries and
//! timestamp-only bundles have no `integratedTime`; that is not an error.
//!
//! Writing makes v0.3 bundles in protojson's field order, with cosign's
//! public key hint (base64 SHA-256 of the key's DER).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::sign::dsse::{Envelope, EnvelopeSignature};
use crate::sign::{CertificateChain, PublicKey};
use crate::tlog::{InclusionProof, LogEntry};

/// The media type of the bundles we write.
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Bundle versions, from their media types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V01,
    V02,
    V03,
}

impl Version {
    pub fn from_media_type(media_type: &str) -> Option<Version> {
        match media_type {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => Some(Version::V01),
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => Some(Version::V02),
            "application/vnd.dev.sigstore.bundle+json;version=0.3" | MEDIA_TYPE_V03 => {
                Some(Version::V03)
            }
            _ => None,
        }
    }
}

/// Whether a JSON object claims to be a bundle: its `mediaType` is a
/// Sigstore bundle's (of a version we know or not), or it has a media type
/// and a bundle's verification material (and is refused for its media type).
pub fn looks_like_bundle(value: &Value) -> bool {
    value
        .get("mediaType")
        .and_then(Value::as_str)
        .is_some_and(|m| {
            m.starts_with("application/vnd.dev.sigstore.bundle")
                || value.get("verificationMaterial").is_some()
        })
}

/// A bundle, taken apart.
#[derive(Clone, Debug)]
pub struct Bundle {
    pub version: Version,
    pub content: Content,
    /// DER certificates, the signing one first (empty for a key).
    pub certificates: Vec<Vec<u8>>,
    /// `publicKey.hint`, for a key-signed bundle.
    pub key_hint: Option<String>,
    pub tlog_entries: Vec<LogEntry>,
    /// DER RFC 3161 timestamp responses over the signature.
    pub timestamps: Vec<Vec<u8>>,
}

/// What a bundle signs.
#[derive(Clone, Debug)]
pub enum Content {
    /// A DSSE envelope with exactly one signature.
    Envelope(Envelope),
    /// A signature over a message known by its SHA-256 digest.
    MessageSignature { sha256: Vec<u8>, signature: Vec<u8> },
}

/// Read a bundle from its bytes (repeated keys refused).
pub fn from_slice(bytes: &[u8]) -> Result<Bundle, String> {
    let value =
        crate::strict_json::value_from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    from_value(value)
}

/// Read a bundle from a JSON value the caller already parsed strictly.
pub fn from_value(value: Value) -> Result<Bundle, String> {
    let media_type = value
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let version = Version::from_media_type(&media_type).ok_or_else(|| {
        format!(
            "unsupported bundle media type {media_type:?} (known: Sigstore bundle v0.1, v0.2, v0.3)"
        )
    })?;
    let wire: Wire = serde_json::from_value(value).map_err(|e| format!("malformed bundle: {e}"))?;
    let content = match (wire.dsse_envelope, wire.message_signature) {
        (Some(env), None) => Content::Envelope(envelope(env)?),
        (None, Some(msg)) => message(msg)?,
        (Some(_), Some(_)) => {
            return Err("it has both a DSSE envelope and a message signature".into());
        }
        (None, None) => return Err("it has neither a DSSE envelope nor a message signature".into()),
    };
    let material = wire
        .verification_material
        .ok_or("it has no verification material")?;
    let mut certificates = Vec::new();
    match (
        &material.certificate,
        &material.x509_certificate_chain,
        &material.public_key,
    ) {
        (Some(c), None, None) => certificates.push(b64(&c.raw_bytes, "the certificate")?),
        (None, Some(chain), None) => {
            if version >= Version::V03 {
                return Err(
                    "a v0.3 bundle carries one certificate, not an x509CertificateChain".into(),
                );
            }
            for c in &chain.certificates {
                certificates.push(b64(&c.raw_bytes, "a chain certificate")?);
            }
            if certificates.is_empty() {
                return Err("its certificate chain is empty".into());
            }
        }
        (None, None, Some(_)) => {}
        (None, None, None) => {
            return Err("its verification material has no certificate, chain or public key".into());
        }
        _ => {
            return Err(
                "its verification material has more than one of certificate, chain and public key"
                    .into(),
            );
        }
    }
    // sigstore-python's rule (its `Bundle` refuses any other count): one
    // entry, not a choice of entries of which some may not be checked.
    // None at all is judged by the verifier (a key-signed bundle may rest
    // on a signed timestamp alone).
    if material.tlog_entries.len() > 1 {
        return Err(format!(
            "it carries {} transparency log entries; a bundle carries exactly one",
            material.tlog_entries.len()
        ));
    }
    let mut tlog_entries = Vec::new();
    for (i, entry) in material.tlog_entries.into_iter().enumerate() {
        tlog_entries.push(log_entry(entry).map_err(|why| format!("tlog entry {}: {why}", i + 1))?);
    }
    let timestamps = material
        .timestamp_verification_data
        .map(|t| t.rfc3161_timestamps)
        .unwrap_or_default()
        .iter()
        .map(|t| b64(&t.signed_timestamp, "an RFC 3161 timestamp"))
        .collect::<Result<_, _>>()?;
    Ok(Bundle {
        version,
        content,
        certificates,
        key_hint: material.public_key.map(|k| k.hint),
        tlog_entries,
        timestamps,
    })
}

fn b64(s: &str, what: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(s)
        .map_err(|_| format!("{what} is not base64"))
}

fn envelope(env: WireEnvelope) -> Result<Envelope, String> {
    if env.signatures.len() != 1 {
        return Err(format!(
            "its DSSE envelope has {} signatures; a bundle's envelope carries exactly one",
            env.signatures.len()
        ));
    }
    b64(&env.payload, "the envelope's payload")?;
    let signatures = env
        .signatures
        .into_iter()
        .map(|s| {
            b64(&s.sig, "the envelope's signature")?;
            Ok(EnvelopeSignature {
                keyid: s.keyid,
                sig: s.sig,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Envelope {
        payload_type: env.payload_type,
        payload: env.payload,
        signatures,
    })
}

fn message(msg: WireMessage) -> Result<Content, String> {
    let signature = b64(&msg.signature, "the message signature")?;
    let digest = msg
        .message_digest
        .ok_or("its message signature has no message digest")?;
    if digest.algorithm != "SHA2_256" {
        return Err(format!(
            "its message digest is {}; only SHA2_256 is supported",
            digest.algorithm
        ));
    }
    let sha256 = b64(&digest.digest, "the message digest")?;
    if sha256.len() != 32 {
        return Err(format!(
            "its SHA2_256 message digest is {} bytes, not 32",
            sha256.len()
        ));
    }
    Ok(Content::MessageSignature { sha256, signature })
}

fn log_entry(e: WireTlogEntry) -> Result<LogEntry, String> {
    let hex = |b64s: &str, what: &str| -> Result<String, String> {
        Ok(crate::tlog::hex(&b64(b64s, what)?))
    };
    let proof = match e.inclusion_proof {
        Some(p) => Some(InclusionProof {
            log_index: p.log_index.get("inclusionProof.logIndex")?,
            tree_size: p.tree_size.get("inclusionProof.treeSize")?,
            root_hash: hex(&p.root_hash, "inclusionProof.rootHash")?,
            hashes: p
                .hashes
                .iter()
                .map(|h| hex(h, "an inclusion proof hash"))
                .collect::<Result<_, _>>()?,
            checkpoint: p.checkpoint.map(|c| c.envelope).filter(|c| !c.is_empty()),
        }),
        None => None,
    };
    let entry = LogEntry {
        uuid: String::new(),
        log_index: e.log_index.get("logIndex")?,
        integrated_time: match e.integrated_time {
            Some(t) => t.get("integratedTime")?,
            None => 0,
        },
        log_id: hex(&e.log_id.key_id, "logId.keyId")?,
        body: e.canonicalized_body,
        signed_entry_timestamp: e
            .inclusion_promise
            .map(|p| p.signed_entry_timestamp)
            .unwrap_or_default(),
        inclusion_proof: proof,
    };
    b64(&entry.body, "canonicalizedBody")?;
    if let Some(kv) = e.kind_version {
        let (kind, version) = entry.kind_version();
        if kind != kv.kind || version != kv.version {
            return Err(format!(
                "its kindVersion says {} {} but its body is a {kind:?} {version:?} entry",
                kv.kind, kv.version
            ));
        }
    }
    Ok(entry)
}

// ---------------------------------------------------------------------------
// Wire types (protobuf JSON: int64 as strings, bytes as base64)

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(default)]
    verification_material: Option<WireMaterial>,
    #[serde(default)]
    dsse_envelope: Option<WireEnvelope>,
    #[serde(default)]
    message_signature: Option<WireMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMaterial {
    #[serde(default)]
    public_key: Option<WireHint>,
    #[serde(default)]
    certificate: Option<RawBytes>,
    #[serde(default)]
    x509_certificate_chain: Option<WireChain>,
    #[serde(default)]
    tlog_entries: Vec<WireTlogEntry>,
    #[serde(default)]
    timestamp_verification_data: Option<WireTimestamps>,
}

#[derive(Deserialize, Serialize)]
struct WireHint {
    #[serde(default)]
    hint: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct WireChain {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTimestamps {
    #[serde(default)]
    rfc3161_timestamps: Vec<WireTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTimestamp {
    signed_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTlogEntry {
    log_index: Int64,
    log_id: WireLogId,
    #[serde(default)]
    kind_version: Option<WireKindVersion>,
    #[serde(default)]
    integrated_time: Option<Int64>,
    #[serde(default)]
    inclusion_promise: Option<WirePromise>,
    #[serde(default)]
    inclusion_proof: Option<WireProof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct WireKindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireProof {
    log_index: Int64,
    root_hash: String,
    tree_size: Int64,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<WireCheckpoint>,
}

#[derive(Deserialize)]
struct WireCheckpoint {
    envelope: String,
}

/// protobuf JSON writes int64 as a string, but readers must accept numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum Int64 {
    Text(String),
    Number(i64),
}

impl Int64 {
    fn get(&self, what: &str) -> Result<i64, String> {
        match self {
            Int64::Number(n) => Ok(*n),
            Int64::Text(s) => s
                .parse()
                .map_err(|_| format!("{what} {s:?} is not an integer")),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEnvelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<WireSignature>,
}

#[derive(Deserialize, Serialize)]
struct WireSignature {
    sig: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    keyid: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMessage {
    #[serde(default)]
    message_digest: Option<WireDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct WireDigest {
    algorithm: String,
    digest: String,
}

// ---------------------------------------------------------------------------
// Writing

/// Who signed, for the verification material.
pub struct Signer<'a> {
    /// [`key_hint`] of the signing key, used when there is no certificate.
    pub key_hint: &'a str,
    pub certificate: Option<&'a CertificateChain>,
}

/// cosign's public key hint: base64 SHA-256 of the key's DER.
pub fn key_hint(key: &PublicKey) -> String {
    STANDARD.encode(Sha256::digest(key.spki_der()))
}

/// A v0.3 bundle around a DSSE envelope (its signatures as they are; a
/// caller storing a bundle keeps one).
pub fn write_dsse(envelope: &Envelope, signer: &Signer, tlog: Option<&LogEntry>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(rename = "mediaType")]
        media_type: &'static str,
        #[serde(rename = "verificationMaterial")]
        verification_material: Material,
        #[serde(rename = "dsseEnvelope")]
        dsse_envelope: OutEnvelope<'a>,
    }
    #[derive(Serialize)]
    struct OutEnvelope<'a> {
        payload: &'a str,
        #[serde(rename = "payloadType")]
        payload_type: &'a str,
        signatures: Vec<WireSignature>,
    }
    let out = Out {
        media_type: MEDIA_TYPE_V03,
        verification_material: material(signer, tlog),
        dsse_envelope: OutEnvelope {
            payload: &envelope.payload,
            payload_type: &envelope.payload_type,
            signatures: envelope
                .signatures
                .iter()
                .map(|s| WireSignature {
                    sig: s.sig.clone(),
                    keyid: s.keyid.clone(),
                })
                .collect(),
        },
    };
    serde_json::to_vec(&out).unwrap_or_default()
}

/// A v0.3 bundle around a raw signature over `payload` (a message
/// signature: the payload's SHA-256 and the signature).
pub fn write_message(
    payload: &[u8],
    signature: &[u8],
    signer: &Signer,
    tlog: Option<&LogEntry>,
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Out {
        #[serde(rename = "mediaType")]
        media_type: &'static str,
        #[serde(rename = "verificationMaterial")]
        verification_material: Material,
        #[serde(rename = "messageSignature")]
        message_signature: Value,
    }
    let out = Out {
        media_type: MEDIA_TYPE_V03,
        verification_material: material(signer, tlog),
        message_signature: json!({
            "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(Sha256::digest(payload))},
            "signature": STANDARD.encode(signature),
        }),
    };
    serde_json::to_vec(&out).unwrap_or_default()
}

#[derive(Serialize)]
struct Material {
    #[serde(rename = "publicKey", skip_serializing_if = "Option::is_none")]
    public_key: Option<WireHint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<RawBytes>,
    #[serde(rename = "tlogEntries", skip_serializing_if = "Vec::is_empty")]
    tlog_entries: Vec<Value>,
}

/// cosign's `MakeProtobufBundle`: the certificate when there is one, else a
/// public key hint (base64 SHA-256 of the key's DER); the log entry.
fn material(signer: &Signer, tlog: Option<&LogEntry>) -> Material {
    let certificate = signer
        .certificate
        .and_then(|c| crate::pem::decode(&c.certificate_pem, &["CERTIFICATE"]));
    let (public_key, certificate) = match certificate {
        Some(der) => (
            None,
            Some(RawBytes {
                raw_bytes: STANDARD.encode(der),
            }),
        ),
        None => (
            Some(WireHint {
                hint: signer.key_hint.to_string(),
            }),
            None,
        ),
    };
    Material {
        public_key,
        certificate,
        tlog_entries: tlog.map(tlog_entry).into_iter().collect(),
    }
}

/// A `verificationMaterial.tlogEntries[]` element in protobuf JSON.
/// `inclusionPromise` and `inclusionProof` (and its checkpoint) are left out
/// when the entry has none.
pub fn tlog_entry(entry: &LogEntry) -> Value {
    let (kind, version) = entry.kind_version();
    let hex_b64 = |h: &str| {
        crate::tlog::hex_decode(h)
            .map(|b| STANDARD.encode(b))
            .unwrap_or_default()
    };
    let mut out = json!({
        "logIndex": entry.log_index.to_string(),
        "logId": {"keyId": hex_b64(&entry.log_id)},
        "kindVersion": {"kind": kind, "version": version},
        "integratedTime": entry.integrated_time.to_string(),
        "canonicalizedBody": entry.body,
    });
    if !entry.signed_entry_timestamp.is_empty() {
        out["inclusionPromise"] = json!({"signedEntryTimestamp": entry.signed_entry_timestamp});
    }
    if let Some(p) = &entry.inclusion_proof {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Bundle, String> {
        from_slice(v.to_string().as_bytes())
    }

    #[test]
    fn a_dsse_bundle_with_a_key_hint() {
        let b = parse(json!({
            "mediaType": MEDIA_TYPE_V03,
            "verificationMaterial": {"publicKey": {"hint": "k"}},
            "dsseEnvelope": {"payload": "e30=", "payloadType": "application/vnd.in-toto+json",
                             "signatures": [{"sig": "AAAA", "keyid": "k"}]}
        }))
        .unwrap();
        assert!(matches!(b.content, Content::Envelope(ref env) if env.signatures.len() == 1));
        assert_eq!(b.key_hint.as_deref(), Some("k"));
        assert!(b.certificates.is_empty() && b.tlog_entries.is_empty());
    }

    #[test]
    fn entries_without_integrated_time_are_read() {
        let body = STANDARD.encode(br#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{}}"#);
        let b = parse(json!({
            "mediaType": MEDIA_TYPE_V03,
            "verificationMaterial": {"publicKey": {"hint": "k"}, "tlogEntries": [{
                "logIndex": "3", "logId": {"keyId": "AAAA"},
                "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
                "canonicalizedBody": body}],
                "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": "MAA="}]}},
            "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode([0u8; 32])},
                                 "signature": "AAAA"}
        }))
        .unwrap();
        assert_eq!(b.tlog_entries[0].integrated_time, 0);
        assert!(b.tlog_entries[0].signed_entry_timestamp.is_empty());
        assert_eq!(b.timestamps, vec![vec![0x30, 0]]);
    }

    #[test]
    fn malformed_bundles_are_refused_with_the_reason() {
        let env = |sigs: Value| json!({"payload": "e30=", "payloadType": "t", "signatures": sigs});
        for (doc, why) in [
            (json!({"mediaType": "x"}), "unsupported bundle media type"),
            (
                json!({"mediaType": MEDIA_TYPE_V03, "verificationMaterial": {"publicKey": {}}}),
                "neither a DSSE envelope",
            ),
            (
                json!({"mediaType": MEDIA_TYPE_V03, "verificationMaterial": {"publicKey": {}},
                       "dsseEnvelope": env(json!([{"sig": "AAAA"}, {"sig": "AAAB"}]))}),
                "2 signatures",
            ),
            (
                json!({"mediaType": MEDIA_TYPE_V03, "verificationMaterial": {"publicKey": {}},
                       "dsseEnvelope": env(json!([]))}),
                "0 signatures",
            ),
            (
                json!({"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
                       "verificationMaterial": {"x509CertificateChain": {"certificates": []}},
                       "dsseEnvelope": env(json!([{"sig": "AAAA"}]))}),
                "certificate chain is empty",
            ),
            (
                json!({"mediaType": MEDIA_TYPE_V03, "verificationMaterial": {},
                       "messageSignature": {"signature": "!!", "messageDigest": {"algorithm": "SHA2_256", "digest": ""}}}),
                "not base64",
            ),
            (
                json!({"mediaType": MEDIA_TYPE_V03, "verificationMaterial": {"publicKey": {}, "tlogEntries": [{
                    "logIndex": "1", "logId": {"keyId": "AA=="}, "integratedTime": "x",
                    "canonicalizedBody": ""}]},
                    "dsseEnvelope": env(json!([{"sig": "AAAA"}]))}),
                "integratedTime \"x\" is not an integer",
            ),
        ] {
            let err = parse(doc).unwrap_err();
            assert!(err.contains(why), "{why}: {err}");
        }
        let dup =
            br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","mediaType":"x"}"#;
        assert!(from_slice(dup).unwrap_err().contains("appears twice"));
    }

    #[test]
    fn written_bundles_read_back() {
        let pem = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/keys/p384.pub"),
        )
        .unwrap();
        let key = PublicKey::from_pem(&pem).unwrap();
        let env = Envelope {
            payload_type: "application/vnd.in-toto+json".into(),
            payload: STANDARD.encode(b"{}"),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: STANDARD.encode(b"sig"),
            }],
        };
        let hint = key_hint(&key);
        let signer = Signer {
            key_hint: &hint,
            certificate: None,
        };
        let bytes = write_dsse(&env, &signer, None);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":""#), "{text}");
        let b = from_slice(&bytes).unwrap();
        assert_eq!(
            b.key_hint.unwrap(),
            STANDARD.encode(Sha256::digest(key.spki_der()))
        );
        let bytes = write_message(b"payload", b"sig", &signer, None);
        let b = from_slice(&bytes).unwrap();
        assert!(
            matches!(b.content, Content::MessageSignature { ref sha256, .. } if sha256[..] == Sha256::digest(b"payload")[..])
        );
    }
}
