//! What verify checks: one signed thing, as read back from wherever it was
//! stored (a file, a bundle, a run's annotations, an OCI registry, GCS).
//!
//! Readers only take the stored parts apart; they never judge them. Whether a
//! signature, certificate or log entry holds is decided in one place
//! ([`super::check`]), so that every source is held to the same rules.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::sign::CertificateChain;
use crate::sign::dsse::Envelope;
use crate::tlog::LogEntry;

/// One signed artifact to verify.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// Where it was read, for messages: `file.jsonl:3`,
    /// `run.yaml: chains.tekton.dev/signature-taskrun-<uid>`,
    /// `registry/repo:sha256-<hex>.att layer 1`, `gs://bucket/object`.
    pub origin: String,
    pub signed: Signed,
    /// The signing certificate and the chain above it (keyless signing).
    pub certificate: Option<CertificateChain>,
    /// Transparency log entries that came with it (bundles, cosign's bundle
    /// annotation).
    pub tlog: Vec<LogEntry>,
    /// A log index known from elsewhere (Chains' `transparency` annotation),
    /// for an online lookup when no entry came with the artifact.
    pub tlog_index: Option<i64>,
    /// Entries must carry an inclusion proof (bundles v0.2 and later).
    pub proof_required: bool,
    /// It is a Sigstore bundle, whose log entry travels inside it.
    pub from_bundle: bool,
    /// DER RFC 3161 timestamps over the signature (bundles).
    pub timestamps: Vec<Vec<u8>>,
    /// What the run the evidence sits on says it built (annotated runs).
    pub run_subjects: Option<RunSubjects>,
}

/// The subjects a run's results name, each `(name, algorithm, hex)`.
#[derive(Clone, Debug, Default)]
pub struct RunSubjects {
    /// Every subject its results name (images, artifact URIs and outputs).
    pub all: Vec<(String, String, String)>,
    /// The images among them, which every provenance format names.
    pub images: Vec<(String, String, String)>,
    /// A TaskRun's statement names nothing else; a PipelineRun's may also
    /// name its children's (deep inspection).
    pub closed: bool,
}

/// The signed content.
#[derive(Clone, Debug)]
pub enum Signed {
    /// A DSSE envelope: an attestation.
    Envelope(Envelope),
    /// A raw signature over a payload: cosign's simple signing of an image.
    Message {
        payload: Vec<u8>,
        signature: Vec<u8>,
    },
    /// A signature over a message known only by its SHA-256 digest (a
    /// `messageSignature` bundle without its payload beside it).
    Digest { digest: Vec<u8>, signature: Vec<u8> },
    /// The parts were found but cannot be taken apart (bad base64, a
    /// signature that is not an envelope, ...): rejected with this reason.
    Unusable(String),
}

impl Evidence {
    pub fn new(origin: impl Into<String>, signed: Signed) -> Evidence {
        Evidence {
            origin: origin.into(),
            signed,
            certificate: None,
            tlog: Vec::new(),
            tlog_index: None,
            proof_required: false,
            from_bundle: false,
            timestamps: Vec::new(),
            run_subjects: None,
        }
    }

    /// Evidence from Chains' four stored parts of one artifact (GCS objects,
    /// `--output-dir DIR` files, or base64-decoded annotations): `signature` holds the
    /// DSSE envelope JSON for an attestation and the raw signature for an
    /// image; `payload` the statement or the simple-signing payload.
    ///
    /// An attestation's stored payload must be the one inside its envelope:
    /// the envelope is what is verified, and a different payload beside it
    /// would be shown to users as if it had been.
    pub fn from_parts(
        origin: impl Into<String>,
        payload: Option<Vec<u8>>,
        signature: Vec<u8>,
        certificate: Option<Vec<u8>>,
        chain: Option<Vec<u8>>,
    ) -> Evidence {
        let origin = origin.into();
        let certificate = certificate_chain(certificate, chain);
        let signed = if looks_like_json_object(&signature) {
            match crate::strict_json::from_slice::<Envelope>(&signature) {
                Ok(envelope) => match (&payload, envelope.payload_bytes()) {
                    (Some(stored), Ok(inside)) if !stored.is_empty() && *stored != inside => {
                        Signed::Unusable(
                            "the stored payload differs from the payload inside the signed envelope"
                                .into(),
                        )
                    }
                    _ => Signed::Envelope(envelope),
                },
                Err(e) => Signed::Unusable(format!("the signature is not a DSSE envelope: {e}")),
            }
        } else {
            match payload {
                Some(payload) => Signed::Message {
                    payload,
                    signature: decode_signature(&signature),
                },
                None => Signed::Unusable("a raw signature without its payload".into()),
            }
        };
        Evidence {
            certificate,
            ..Evidence::new(origin, signed)
        }
    }
}

/// A certificate and chain as stored (PEM; empty when there is none, as
/// Chains writes them for key-signed artifacts).
pub fn certificate_chain(
    certificate: Option<Vec<u8>>,
    chain: Option<Vec<u8>>,
) -> Option<CertificateChain> {
    let certificate_pem = String::from_utf8(certificate?).ok()?;
    if certificate_pem.trim().is_empty() {
        return None;
    }
    Some(CertificateChain {
        certificate_pem,
        chain_pem: chain
            .and_then(|c| String::from_utf8(c).ok())
            .unwrap_or_default(),
    })
}

fn looks_like_json_object(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// A stored signature is raw bytes (Chains' GCS objects) or base64 text
/// (cosign's `--output-signature`, our `--output-dir DIR` files). Raw DER and raw
/// Ed25519 signatures are almost never valid base64 text of the right
/// length, so text that decodes is taken as base64.
pub fn decode_signature(stored: &[u8]) -> Vec<u8> {
    let text = stored.trim_ascii();
    if !text.is_empty()
        && text
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        && let Ok(raw) = STANDARD.decode(text)
    {
        return raw;
    }
    stored.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_base64_signatures() {
        let raw = vec![0x30, 0x45, 0x02, 0x21, 0x00, 0xff, 0x10];
        assert_eq!(decode_signature(&raw), raw);
        assert_eq!(
            decode_signature(format!("{}\n", STANDARD.encode(&raw)).as_bytes()),
            raw
        );
    }

    #[test]
    fn parts_of_an_attestation_and_of_an_image_signature() {
        let env = Envelope {
            payload_type: "application/vnd.in-toto+json".into(),
            payload: STANDARD.encode(b"{}"),
            signatures: vec![],
        };
        let e = Evidence::from_parts("x", Some(b"{}".to_vec()), env.to_json(), None, None);
        assert!(matches!(e.signed, Signed::Envelope(_)));
        let e = Evidence::from_parts("x", Some(b"{\"a\":1}".to_vec()), env.to_json(), None, None);
        assert!(matches!(e.signed, Signed::Unusable(_)));
        let e = Evidence::from_parts(
            "x",
            Some(b"payload".to_vec()),
            vec![0x30, 0x01],
            Some(Vec::new()),
            Some(Vec::new()),
        );
        assert!(matches!(e.signed, Signed::Message { .. }));
        assert!(e.certificate.is_none());
    }
}
