//! Sigstore bundles as [`Evidence`]. The bundle format itself is read by
//! [`crate::sigstore::bundle`]; here its parts become what every source of
//! evidence is checked as.

use sha2::{Digest, Sha256};

use super::evidence::{Evidence, Signed};
use crate::pem;
use crate::sign::CertificateChain;
use crate::sigstore::bundle::{self, Bundle, Content, Version};

pub use crate::sigstore::bundle::looks_like_bundle as is_bundle;

/// Evidence from a bundle already read as a (strictly parsed) JSON value.
/// `payload` is the signed message of a message-signature bundle when it is
/// known (a `.payload` file beside it); it must have the bundle's digest.
pub fn from_value(
    value: serde_json::Value,
    origin: &str,
    payload: Option<Vec<u8>>,
) -> Result<Evidence, String> {
    Ok(evidence(bundle::from_value(value)?, origin, payload))
}

fn evidence(b: Bundle, origin: &str, payload: Option<Vec<u8>>) -> Evidence {
    let signed = match b.content {
        Content::Envelope(env) => Signed::Envelope(env),
        Content::MessageSignature { sha256, signature } => match payload {
            Some(p) if Sha256::digest(&p)[..] != sha256[..] => Signed::Unusable(
                "the payload beside the bundle does not have the bundle's message digest".into(),
            ),
            Some(payload) => Signed::Message { payload, signature },
            None => Signed::Digest {
                digest: sha256,
                signature,
            },
        },
    };
    let mut evidence = Evidence::new(origin, signed);
    if let Some((leaf, rest)) = b.certificates.split_first() {
        evidence.certificate = Some(CertificateChain {
            certificate_pem: pem::encode("CERTIFICATE", leaf),
            chain_pem: rest.iter().map(|c| pem::encode("CERTIFICATE", c)).collect(),
        });
    }
    evidence.tlog = b.tlog_entries;
    evidence.proof_required = b.version >= Version::V02;
    evidence.from_bundle = true;
    evidence.timestamps = b.timestamps;
    evidence
}

/// Evidence from a bundle's bytes (repeated JSON keys refused).
pub fn parse(bytes: &[u8], origin: &str) -> Result<Evidence, String> {
    Ok(evidence(bundle::from_slice(bytes)?, origin, None))
}
