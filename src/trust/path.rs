//! X.509 path building and checking for Fulcio and timestamp-authority
//! certificates, done by rustls-webpki (already in the tree through
//! rustls): signatures, validity at the given time on every certificate,
//! basicConstraints (an issuer must be a CA, the leaf must not be one),
//! pathLenConstraint, name constraints, critical extensions it does not
//! understand, and the extended key usage on every certificate that has one.
//!
//! What webpki leaves to the caller, done here: the trust anchors are the
//! roots of the CAs whose validity window (in the trusted root) holds the
//! time; a self-signed certificate presented with a chain is never an
//! intermediate (it is trusted only as a root); an anchor must itself be a
//! CA certificate (webpki trusts an anchor's key whatever the certificate
//! says).

use std::time::Duration;

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage};
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::BasicConstraints;

use super::CertificateAuthority;

/// Code signing (1.3.6.1.5.5.7.3.3), as DER OID content bytes.
pub const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// Time stamping (1.3.6.1.5.5.7.3.8).
pub const EKU_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// A path that verified: the DER SubjectPublicKeyInfo of the leaf's issuer
/// (for SCTs) and the index of the CA (in the slice given) it leads to.
#[derive(Debug)]
pub struct VerifiedPath {
    pub issuer_spki: Vec<u8>,
    pub authority: usize,
}

/// Why no path verified.
#[derive(Debug)]
pub enum PathError {
    /// No CA was valid at the time.
    NoAuthority,
    /// The time is before 1970.
    BadTime,
    /// A root with the leaf's issuer name exists but is not a CA certificate.
    RootNotCa(String),
    /// webpki's verdict.
    Webpki(webpki::Error),
}

/// Verify `leaf` through `presented` certificates and the CAs'
/// intermediates up to the root of one of `authorities` valid at `at`, for
/// the extended key usage `eku` (required where a certificate has an EKU).
pub fn verify(
    leaf: &[u8],
    presented: &[Vec<u8>],
    authorities: &[&CertificateAuthority],
    at: OffsetDateTime,
    eku: &'static [u8],
) -> Result<VerifiedPath, PathError> {
    let secs = u64::try_from(at.unix_timestamp()).map_err(|_| PathError::BadTime)?;
    let time = UnixTime::since_unix_epoch(Duration::from_secs(secs));
    let valid: Vec<(usize, &CertificateAuthority)> = authorities
        .iter()
        .enumerate()
        .filter(|(_, ca)| ca.valid_for.contains(at))
        .map(|(i, ca)| (i, *ca))
        .collect();
    if valid.is_empty() {
        return Err(PathError::NoAuthority);
    }

    let mut anchor_ders: Vec<(usize, CertificateDer<'_>)> = Vec::new();
    let mut not_ca: Vec<String> = Vec::new();
    for (i, ca) in &valid {
        let Some(root) = ca.root() else { continue };
        match is_ca(root) {
            Some(true) => anchor_ders.push((*i, CertificateDer::from(root))),
            _ => not_ca.push(subject(root)),
        }
    }
    let mut anchors: Vec<TrustAnchor<'_>> = Vec::new();
    let mut anchor_owner: Vec<usize> = Vec::new();
    for (i, der) in &anchor_ders {
        // A root webpki cannot read is no anchor; others may still verify.
        if let Ok(a) = webpki::anchor_from_trusted_cert(der) {
            anchors.push(a);
            anchor_owner.push(*i);
        }
    }

    let mut intermediates: Vec<CertificateDer<'_>> = Vec::new();
    let candidates = presented.iter().map(Vec::as_slice).chain(
        valid
            .iter()
            .flat_map(|(_, ca)| ca.intermediates().iter().map(Vec::as_slice)),
    );
    for der in candidates {
        // A self-signed certificate vouches only for itself: it is a root if
        // the caller trusts it, and then it is among the anchors.
        if self_issued(der) || intermediates.iter().any(|i| i.as_ref() == der) {
            continue;
        }
        intermediates.push(CertificateDer::from(der));
    }

    let leaf_der = CertificateDer::from(leaf);
    let end_entity = EndEntityCert::try_from(&leaf_der).map_err(PathError::Webpki)?;
    let result = end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        time,
        KeyUsage::required_if_present(eku),
        None,
        None,
    );
    let path = match result {
        Ok(p) => p,
        Err(webpki::Error::UnknownIssuer) => {
            let issuer = issuer(leaf);
            return Err(match not_ca.into_iter().find(|s| *s == issuer) {
                Some(root) => PathError::RootNotCa(root),
                None => PathError::Webpki(webpki::Error::UnknownIssuer),
            });
        }
        Err(e) => return Err(PathError::Webpki(e)),
    };
    let issuer_spki = match path.intermediate_certificates().next() {
        Some(cert) => cert.subject_public_key_info().as_ref().to_vec(),
        None => wrap_sequence(path.anchor().subject_public_key_info.as_ref()),
    };
    let anchor = path.anchor();
    let authority = anchors
        .iter()
        .position(|a| {
            a.subject == anchor.subject
                && a.subject_public_key_info == anchor.subject_public_key_info
        })
        .and_then(|i| anchor_owner.get(i).copied())
        .unwrap_or_default();
    Ok(VerifiedPath {
        issuer_spki,
        authority,
    })
}

/// A DER SEQUENCE around `content` (webpki keeps an anchor's
/// SubjectPublicKeyInfo without its outer SEQUENCE).
fn wrap_sequence(content: &[u8]) -> Vec<u8> {
    use x509_cert::der::{Encode, Header, Length, Tag};
    let mut out = Vec::with_capacity(content.len() + 4);
    if let Ok(len) = Length::try_from(content.len())
        && Header::new(Tag::Sequence, len)
            .encode_to_vec(&mut out)
            .is_ok()
    {
        out.extend_from_slice(content);
    }
    out
}

fn parsed(der: &[u8]) -> Option<Certificate> {
    Certificate::from_der(der).ok()
}

fn self_issued(der: &[u8]) -> bool {
    parsed(der).is_some_and(|c| c.tbs_certificate().subject() == c.tbs_certificate().issuer())
}

fn subject(der: &[u8]) -> String {
    parsed(der).map_or_else(String::new, |c| c.tbs_certificate().subject().to_string())
}

fn issuer(der: &[u8]) -> String {
    parsed(der).map_or_else(String::new, |c| c.tbs_certificate().issuer().to_string())
}

/// Whether the certificate says it is a CA (basicConstraints cA).
fn is_ca(der: &[u8]) -> Option<bool> {
    let cert = parsed(der)?;
    let found = cert
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .ok()?;
    Some(found.is_some_and(|(_, bc)| bc.ca))
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::NoAuthority => {
                f.write_str("no CA of the trusted root is valid at that time")
            }
            PathError::BadTime => f.write_str("the time is before 1970"),
            PathError::RootNotCa(root) => {
                write!(f, "the trusted root \"{root}\" is not a CA certificate")
            }
            PathError::Webpki(webpki::Error::UnknownIssuer) => {
                f.write_str("the certificate does not chain to the trusted root")
            }
            PathError::Webpki(e) => write!(f, "{e}"),
        }
    }
}
