//! Sigstore bundles (v0.1 to v0.3), taken apart into [`Evidence`].
//!
//! A bundle carries the signed content (a DSSE envelope, or a signature over
//! a message digest), the verification material (a public key hint, a
//! certificate, or a certificate chain) and transparency log entries in
//! protobuf JSON (int64 as strings, bytes as base64).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::evidence::{Evidence, Signed};
use crate::pem;
use crate::sign::CertificateChain;
use crate::sign::dsse::{Envelope, EnvelopeSignature};
use crate::store::rekor::{InclusionProof, LogEntry};

/// The media types of the bundle versions we read.
pub const MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// Whether a JSON object looks like a bundle (has a bundle media type).
pub fn is_bundle(value: &serde_json::Value) -> bool {
    value
        .get("mediaType")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|m| MEDIA_TYPES.contains(&m))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    #[serde(default)]
    verification_material: Option<Material>,
    #[serde(default)]
    dsse_envelope: Option<WireEnvelope>,
    #[serde(default)]
    message_signature: Option<MessageSignature>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    #[serde(default)]
    certificate: Option<RawBytes>,
    #[serde(default)]
    x509_certificate_chain: Option<CertChain>,
    #[serde(default)]
    tlog_entries: Vec<TlogEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct CertChain {
    #[serde(default)]
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlogEntry {
    log_index: Int64,
    log_id: LogId,
    integrated_time: Int64,
    #[serde(default)]
    inclusion_promise: Option<Promise>,
    #[serde(default)]
    inclusion_proof: Option<Proof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Promise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proof {
    log_index: Int64,
    root_hash: String,
    tree_size: Int64,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<Checkpoint>,
}

#[derive(Deserialize)]
struct Checkpoint {
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

#[derive(Deserialize)]
struct WireSignature {
    sig: String,
    #[serde(default)]
    keyid: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageSignature {
    #[serde(default)]
    message_digest: Option<MessageDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct MessageDigest {
    algorithm: String,
    digest: String,
}

/// Take a bundle apart. `payload` is the signed message for a
/// `messageSignature` bundle, when it is known (a bundle carries only its
/// digest); it must match that digest.
pub fn parse(bytes: &[u8], origin: &str) -> Result<Evidence, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    from_value(value, origin, None)
}

/// [`parse`] for an already-decoded document, with the payload of a message
/// signature when it is known.
pub fn from_value(
    value: serde_json::Value,
    origin: &str,
    payload: Option<Vec<u8>>,
) -> Result<Evidence, String> {
    if !is_bundle(&value) {
        return Err(format!(
            "not a Sigstore bundle (mediaType {})",
            value
                .get("mediaType")
                .map(|m| m.to_string())
                .unwrap_or_else(|| "missing".into())
        ));
    }
    let bundle: Bundle =
        serde_json::from_value(value).map_err(|e| format!("not a Sigstore bundle: {e}"))?;
    let b64 = |s: &str, what: &str| {
        STANDARD
            .decode(s)
            .map_err(|_| format!("{what} is not base64"))
    };
    let signed = match (bundle.dsse_envelope, bundle.message_signature) {
        (Some(env), None) => Signed::Envelope(Envelope {
            payload_type: env.payload_type,
            payload: env.payload,
            signatures: env
                .signatures
                .into_iter()
                .map(|s| EnvelopeSignature {
                    keyid: s.keyid,
                    sig: s.sig,
                })
                .collect(),
        }),
        (None, Some(msg)) => {
            let signature = b64(&msg.signature, "the message signature")?;
            let digest = match msg.message_digest {
                Some(d) if d.algorithm == "SHA2_256" => b64(&d.digest, "the message digest")?,
                Some(d) => {
                    return Err(format!(
                        "message digest algorithm {} is not supported (only SHA2_256)",
                        d.algorithm
                    ));
                }
                None => return Err("a message signature without its message digest".into()),
            };
            match payload {
                Some(p) => {
                    use sha2::Digest;
                    if sha2::Sha256::digest(&p)[..] != digest[..] {
                        Signed::Unusable(
                            "the payload beside the bundle does not have the bundle's message digest"
                                .into(),
                        )
                    } else {
                        Signed::Message {
                            payload: p,
                            signature,
                        }
                    }
                }
                None => Signed::Digest { digest, signature },
            }
        }
        (Some(_), Some(_)) => {
            return Err("both a DSSE envelope and a message signature".into());
        }
        (None, None) => return Err("no DSSE envelope and no message signature".into()),
    };
    let mut evidence = Evidence::new(origin, signed);
    let Some(material) = bundle.verification_material else {
        return Err("no verification material".into());
    };
    let mut certs: Vec<Vec<u8>> = Vec::new();
    if let Some(c) = material.certificate {
        certs.push(b64(&c.raw_bytes, "the certificate")?);
    }
    if let Some(chain) = material.x509_certificate_chain {
        for c in chain.certificates {
            certs.push(b64(&c.raw_bytes, "a chain certificate")?);
        }
    }
    if let Some((leaf, rest)) = certs.split_first() {
        evidence.certificate = Some(CertificateChain {
            certificate_pem: pem::encode("CERTIFICATE", leaf),
            chain_pem: rest.iter().map(|c| pem::encode("CERTIFICATE", c)).collect(),
        });
    }
    for entry in material.tlog_entries {
        evidence.tlog.push(
            log_entry(entry, &bundle.media_type).map_err(|why| format!("tlog entry: {why}"))?,
        );
    }
    Ok(evidence)
}

fn log_entry(e: TlogEntry, media_type: &str) -> Result<LogEntry, String> {
    let hex = |b64: &str, what: &str| -> Result<String, String> {
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| format!("{what} is not base64"))?;
        Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
    };
    let set = match e.inclusion_promise {
        Some(p) => p.signed_entry_timestamp,
        // v0.2+ bundles may rely on the inclusion proof alone; our log
        // checks need a SET, and say so when it is missing.
        None => String::new(),
    };
    let proof = match e.inclusion_proof {
        Some(p) => Some(InclusionProof {
            log_index: p.log_index.get("inclusion proof logIndex")?,
            tree_size: p.tree_size.get("treeSize")?,
            root_hash: hex(&p.root_hash, "rootHash")?,
            hashes: p
                .hashes
                .iter()
                .map(|h| hex(h, "an inclusion proof hash"))
                .collect::<Result<_, _>>()?,
            checkpoint: p.checkpoint.map(|c| c.envelope).filter(|c| !c.is_empty()),
        }),
        None if media_type != MEDIA_TYPES[0] => {
            return Err(format!(
                "{media_type} requires an inclusion proof and this entry has none"
            ));
        }
        None => None,
    };
    Ok(LogEntry {
        uuid: String::new(),
        log_index: e.log_index.get("logIndex")?,
        integrated_time: e.integrated_time.get("integratedTime")?,
        log_id: hex(&e.log_id.key_id, "logId.keyId")?,
        body: e.canonicalized_body,
        signed_entry_timestamp: set,
        inclusion_proof: proof,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dsse_bundle_with_key_hint() {
        let b = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": "k"}},
            "dsseEnvelope": {"payload": "e30=", "payloadType": "application/vnd.in-toto+json",
                             "signatures": [{"sig": "AAAA", "keyid": "k"}]}
        });
        let e = parse(b.to_string().as_bytes(), "b.json").unwrap();
        assert!(matches!(e.signed, Signed::Envelope(ref env) if env.signatures.len() == 1));
        assert!(e.certificate.is_none() && e.tlog.is_empty());
    }

    #[test]
    fn malformed_bundles_are_refused_with_a_reason() {
        for (doc, why) in [
            (json!({"mediaType": "x"}), "not a Sigstore bundle"),
            (
                json!({"mediaType": MEDIA_TYPES[3], "verificationMaterial": {}}),
                "no DSSE envelope",
            ),
            (
                json!({"mediaType": MEDIA_TYPES[3], "verificationMaterial": {},
                       "messageSignature": {"signature": "!!", "messageDigest": {"algorithm": "SHA2_256", "digest": ""}}}),
                "not base64",
            ),
            (
                json!({"mediaType": MEDIA_TYPES[3], "verificationMaterial": {"tlogEntries": [{
                    "logIndex": "1", "logId": {"keyId": "AA=="}, "integratedTime": "x",
                    "canonicalizedBody": ""}]},
                    "dsseEnvelope": {"payload": "", "payloadType": "t", "signatures": []}}),
                "requires an inclusion proof",
            ),
        ] {
            let err = parse(doc.to_string().as_bytes(), "b").unwrap_err();
            assert!(err.contains(why), "{err}");
        }
        assert!(
            parse(b"{\"mediaType\": ", "b")
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
