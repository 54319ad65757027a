//! Signed certificate timestamps (RFC 6962) embedded in a Fulcio
//! certificate: the promise of a CT log that the certificate is logged,
//! checked against the trusted root's CT logs as cosign and sigstore-go do
//! (at least one SCT must verify with a CT log key valid at the SCT's time;
//! SCTs from logs the root does not know are not counted).
//!
//! An embedded SCT signs the *precertificate*: the leaf's TBSCertificate
//! without the SCT-list extension, with the issuer's key hash (RFC 6962
//! §3.2). The TBS is rebuilt with the `der` crate from the leaf's own bytes
//! (every other element kept byte for byte), the SCT list is parsed by
//! `x509-cert`'s `sct` module, and the signature is checked by aws-lc-rs
//! through [`crate::sign::PublicKey::verify_with`].

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::der::{Decode, Encode, Header, Length, Reader, SliceReader, Tag, TagNumber};
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::sct::{
    HashAlgorithm, SignatureAlgorithm, SignedCertificateTimestamp, SignedCertificateTimestampList,
};

use super::root::{TransparencyLog, key_at};
use crate::sign::verify::Hash;

/// The SCT list extension (1.3.6.1.4.1.11129.2.4.2).
const OID_SCT_LIST: x509_cert::der::asn1::ObjectIdentifier =
    x509_cert::der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// A verified SCT: which log, and when it promised to log the certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSct {
    pub log_id: Vec<u8>,
    pub timestamp: OffsetDateTime,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SctError {
    #[error("the certificate has no embedded SCT (no precertificate SCT list extension)")]
    Missing,
    #[error("the certificate's SCT list is malformed: {0}")]
    Malformed(String),
    #[error("no embedded SCT verifies with a trusted CT log: {}", .0.join("; "))]
    NoneVerified(Vec<String>),
}

/// Check the SCTs embedded in `leaf_der` (a DER certificate issued by the
/// key `issuer_spki_der`, a DER SubjectPublicKeyInfo) against `ctlogs`; the
/// ones that verify are returned (at least one, or an error).
pub fn verify_embedded(
    leaf_der: &[u8],
    issuer_spki_der: &[u8],
    ctlogs: &[TransparencyLog],
) -> Result<Vec<VerifiedSct>, SctError> {
    let malformed = |e: &dyn std::fmt::Display| SctError::Malformed(e.to_string());
    let leaf = x509_cert::Certificate::from_der(leaf_der).map_err(|e| malformed(&e))?;
    let list = leaf
        .tbs_certificate()
        .get_extension::<SignedCertificateTimestampList>()
        .map_err(|e| malformed(&e))?
        .map(|(_, list)| list)
        .ok_or(SctError::Missing)?;
    let scts = list
        .parse_timestamps()
        .map_err(|e| SctError::Malformed(format!("{e:?}")))?;
    if scts.is_empty() {
        return Err(SctError::Missing);
    }
    let tbs = precertificate_tbs(leaf_der).map_err(|e| malformed(&e))?;
    let issuer_key_hash = Sha256::digest(issuer_spki_der);

    let mut verified = Vec::new();
    let mut problems = Vec::new();
    for (i, serialized) in scts.iter().enumerate() {
        let sct = match serialized.parse_timestamp() {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("SCT {i} does not parse: {e:?}"));
                continue;
            }
        };
        match verify_one(&sct, &tbs, &issuer_key_hash, ctlogs) {
            Ok(v) => verified.push(v),
            Err(why) => problems.push(format!("SCT {i}: {why}")),
        }
    }
    if verified.is_empty() {
        return Err(SctError::NoneVerified(problems));
    }
    Ok(verified)
}

fn verify_one(
    sct: &SignedCertificateTimestamp,
    tbs: &[u8],
    issuer_key_hash: &[u8],
    ctlogs: &[TransparencyLog],
) -> Result<VerifiedSct, String> {
    let millis = i128::from(sct.timestamp) * 1_000_000;
    let at = OffsetDateTime::from_unix_timestamp_nanos(millis)
        .map_err(|_| format!("its timestamp {} is out of range", sct.timestamp))?;
    let key = key_at(
        ctlogs,
        "certificate transparency log",
        &sct.log_id.key_id,
        at,
    )
    .map_err(|e| e.to_string())?;
    let hash = match sct.signature.algorithm.hash {
        HashAlgorithm::Sha256 => Hash::Sha256,
        HashAlgorithm::Sha384 => Hash::Sha384,
        HashAlgorithm::Sha512 => Hash::Sha512,
        ref other => return Err(format!("its hash algorithm {other:?} is not supported")),
    };
    if matches!(
        sct.signature.algorithm.signature,
        SignatureAlgorithm::Anonymous | SignatureAlgorithm::Dsa | SignatureAlgorithm::Ed448
    ) {
        return Err(format!(
            "its signature algorithm {:?} is not supported",
            sct.signature.algorithm.signature
        ));
    }
    let message = signed_data(sct, tbs, issuer_key_hash)?;
    if !key.verify_with(hash, &message, sct.signature.signature.as_slice()) {
        return Err("its signature does not verify with the CT log's key".into());
    }
    Ok(VerifiedSct {
        log_id: sct.log_id.key_id.to_vec(),
        timestamp: at,
    })
}

/// RFC 6962 §3.2 `digitally-signed struct` of a precert entry: version,
/// signature type (certificate_timestamp), timestamp, entry type
/// (precert_entry), the PreCert (issuer key hash, 24-bit length and TBS),
/// and the 16-bit-length extensions.
fn signed_data(
    sct: &SignedCertificateTimestamp,
    tbs: &[u8],
    issuer_key_hash: &[u8],
) -> Result<Vec<u8>, String> {
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|&l| l < 1 << 24)
        .ok_or("the TBS certificate is too long for an SCT")?;
    let extensions = sct.extensions.as_slice();
    let ext_len = u16::try_from(extensions.len()).map_err(|_| "SCT extensions too long")?;
    let mut out = Vec::with_capacity(tbs.len() + 64 + extensions.len());
    out.push(0); // sct_version v1
    out.push(0); // signature_type certificate_timestamp
    out.extend_from_slice(&sct.timestamp.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    out.extend_from_slice(tbs);
    out.extend_from_slice(&ext_len.to_be_bytes());
    out.extend_from_slice(extensions);
    Ok(out)
}

/// The leaf's TBSCertificate with the SCT list extension removed: every
/// other element is copied as it was encoded; only the extensions (`[3]`)
/// are re-encoded, and the lengths around them.
fn precertificate_tbs(leaf_der: &[u8]) -> Result<Vec<u8>, x509_cert::der::Error> {
    let mut outer = SliceReader::new(leaf_der)?;
    Header::decode(&mut outer)?; // Certificate SEQUENCE
    let tbs = outer.tlv_bytes()?;
    let mut reader = SliceReader::new(tbs)?;
    Header::decode(&mut reader)?; // TBSCertificate SEQUENCE
    let extensions_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(3),
    };
    let mut content = Vec::with_capacity(tbs.len());
    while !reader.is_finished() {
        let tag = Tag::peek(&reader)?;
        let element = reader.tlv_bytes()?;
        if tag != extensions_tag {
            content.extend_from_slice(element);
            continue;
        }
        let mut inner = SliceReader::new(element)?;
        Header::decode(&mut inner)?;
        let extensions = Extensions::from_der(inner.tlv_bytes()?)?;
        let kept: Extensions = extensions
            .into_iter()
            .filter(|e| e.extn_id != OID_SCT_LIST)
            .collect();
        let kept_der = kept.to_der()?;
        Header::new(extensions_tag, Length::try_from(kept_der.len())?)
            .encode_to_vec(&mut content)?;
        content.extend_from_slice(&kept_der);
    }
    let mut out = Vec::with_capacity(content.len() + 8);
    Header::new(Tag::Sequence, Length::try_from(content.len())?).encode_to_vec(&mut out)?;
    out.extend_from_slice(&content);
    Ok(out)
}

/// Whether the certificate carries an SCT list at all.
pub fn has_embedded_scts(leaf_der: &[u8]) -> bool {
    x509_cert::Certificate::from_der(leaf_der)
        .ok()
        .and_then(|c| {
            c.tbs_certificate()
                .get_extension::<SignedCertificateTimestampList>()
                .ok()
                .flatten()
        })
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::TrustedRoot;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    /// The leaf of a bundle (v0.1 chain or v0.3 certificate) and the SPKI
    /// of its issuer, found among the root's CA certificates by name.
    fn leaf_and_issuer(bundle: &str, root: &TrustedRoot) -> (Vec<u8>, Vec<u8>) {
        let json: serde_json::Value = serde_json::from_str(bundle).unwrap();
        let material = &json["verificationMaterial"];
        let raw = material["certificate"]["rawBytes"]
            .as_str()
            .or(material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
            .unwrap();
        let leaf = STANDARD.decode(raw).unwrap();
        let cert = x509_cert::Certificate::from_der(&leaf).unwrap();
        let issuer = root
            .certificate_authorities
            .iter()
            .flat_map(|ca| ca.certificates.iter())
            .map(|der| x509_cert::Certificate::from_der(der).unwrap())
            .find(|c| c.tbs_certificate().subject() == cert.tbs_certificate().issuer())
            .unwrap();
        let spki = issuer
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        (leaf, spki)
    }

    const CASES: &[(&str, &str)] = &[
        (
            "cosign/pkg/cosign/testdata/oci-attestation.sigstore.json",
            "cosign/pkg/cosign/testdata/trusted_root_pgi.json",
        ),
        (
            "sigstore-python/assets/bundle_v3.txt.sigstore",
            "sigstore-python/staging-trusted_root.json",
        ),
        (
            "sigstore-go/pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
            "sigstore-go/pkg/testing/data/trusted-roots/public-good.json",
        ),
        (
            "sigstore-python/assets/staging-rekor-v2.txt.sigstore.json",
            "sigstore-python/staging-trusted_root.json",
        ),
    ];

    #[test]
    fn upstream_fulcio_certificates_carry_valid_scts() {
        let Some(dir) = crate::trust::vectors_dir() else {
            return;
        };
        for (bundle, root) in CASES {
            let root = TrustedRoot::from_file(&dir.join(root)).unwrap();
            let bundle = std::fs::read_to_string(dir.join(bundle)).unwrap();
            let (leaf, issuer) = leaf_and_issuer(&bundle, &root);
            assert!(has_embedded_scts(&leaf));
            let found = verify_embedded(&leaf, &issuer, &root.ctlogs).unwrap();
            assert!(!found.is_empty());
        }
    }

    #[test]
    fn tampered_or_untrusted_scts_are_refused() {
        let Some(dir) = crate::trust::vectors_dir() else {
            return;
        };
        let (bundle, root) = CASES[0];
        let root = TrustedRoot::from_file(&dir.join(root)).unwrap();
        let bundle = std::fs::read_to_string(dir.join(bundle)).unwrap();
        let (leaf, issuer) = leaf_and_issuer(&bundle, &root);

        // No CT log trusted.
        let e = verify_embedded(&leaf, &issuer, &[]).unwrap_err();
        assert!(matches!(e, SctError::NoneVerified(_)), "{e}");
        // Another issuer key: the precertificate hash differs.
        let other = root.certificate_authorities[0].certificates[0].clone();
        let other = x509_cert::Certificate::from_der(&other)
            .unwrap()
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        let e = verify_embedded(&leaf, &other, &root.ctlogs).unwrap_err();
        assert!(e.to_string().contains("does not verify"), "{e}");
        // One byte of the SCT's timestamp changed (the list sits in the
        // leaf as an OCTET STRING; its bytes start with the list lengths,
        // version 0 and the 32-byte log ID).
        let log_id = &root.ctlogs[1].log_id;
        let at = leaf
            .windows(log_id.len())
            .position(|w| w == log_id.as_slice())
            .expect("the SCT names the 2022 CT log");
        let mut tampered = leaf.clone();
        tampered[at + 32 + 7] ^= 1;
        let e = verify_embedded(&tampered, &issuer, &root.ctlogs).unwrap_err();
        assert!(e.to_string().contains("does not verify"), "{e}");
        // The SCT is outside its log's validity window when the log's
        // window is moved.
        let mut moved = root.ctlogs.clone();
        for log in &mut moved {
            log.valid_for.end = log.valid_for.start;
        }
        let e = verify_embedded(&leaf, &issuer, &moved).unwrap_err();
        assert!(e.to_string().contains("is trusted for"), "{e}");
        // A certificate without SCTs.
        let e = verify_embedded(
            &root.certificate_authorities[0].certificates[0],
            &issuer,
            &root.ctlogs,
        )
        .unwrap_err();
        assert_eq!(e, SctError::Missing);
    }
}
