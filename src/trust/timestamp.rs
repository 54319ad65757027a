//! RFC 3161 signed timestamps, as Sigstore bundles carry them
//! (`verificationMaterial.timestampVerificationData.rfc3161Timestamps[].signedTimestamp`:
//! a DER TimeStampResp, or a bare TimeStampToken), checked against the
//! trusted root's timestamp authorities the way sigstore-go does:
//!
//! 1. the response's status is granted; the token is CMS SignedData with
//!    exactly one signer, over encapsulated TSTInfo (RFC 3161 §2.4.2);
//! 2. the TSTInfo's message imprint is the hash of the signed bytes (the
//!    artifact signature);
//! 3. the signed attributes name TSTInfo as content type, hold the digest
//!    of the TSTInfo, and an ESS signing-certificate attribute (v1 or v2)
//!    whose first hash is the signing certificate's; their signature
//!    verifies with that certificate's key;
//! 4. the signing certificate (from the token, or the TSA's own leaf in the
//!    trusted root) has the time-stamping extended key usage and chains,
//!    with rustls-webpki, to the root of a timestamp authority whose
//!    validity window holds the timestamp's time, every certificate valid
//!    then.
//!
//! The parsing is the `cms` crate's (RustCrypto); TSTInfo's few fields are
//! read with `der`. Hashes and signatures are aws-lc-rs's.

use aws_lc_rs::digest;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode, Header, Reader, SliceReader, Tag};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::path::{self, EKU_TIME_STAMPING};
use super::{CertificateAuthority, TrustedRoot};
use crate::sign::PublicKey;
use crate::sign::verify::Hash;

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const OID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// A timestamp that verified: when, and by which authority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    /// TSTInfo's genTime.
    pub time: OffsetDateTime,
    /// The authority's `uri` in the trusted root.
    pub authority: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimestampError {
    #[error("the RFC 3161 timestamp is malformed: {0}")]
    Malformed(String),
    #[error("the timestamp authority did not grant the timestamp (status {0})")]
    NotGranted(u64),
    #[error("the timestamp is not over this signature: its message imprint differs")]
    WrongImprint,
    #[error("the timestamp's signature does not verify: {0}")]
    BadSignature(String),
    #[error("the timestamp's signing certificate is not trusted: {0}")]
    Untrusted(String),
    #[error("no timestamp authority in the trusted root")]
    NoAuthority,
}

/// Verify the RFC 3161 timestamp `token` (a TimeStampResp or a bare
/// TimeStampToken, DER) over `signed` (the bytes it timestamps) against the
/// timestamp authorities of `root`; the trusted time it attests is returned.
pub fn verify(
    token: &[u8],
    signed: &[u8],
    root: &TrustedRoot,
) -> Result<VerifiedTimestamp, TimestampError> {
    if root.timestamp_authorities.is_empty() {
        return Err(TimestampError::NoAuthority);
    }
    let malformed = |e: &dyn std::fmt::Display| TimestampError::Malformed(e.to_string());
    let content_info = token_content_info(token)?;
    if content_info.content_type != OID_SIGNED_DATA {
        return Err(TimestampError::Malformed(format!(
            "the token is {}, not CMS SignedData",
            content_info.content_type
        )));
    }
    let signed_data: SignedData = content_info
        .content
        .decode_as()
        .map_err(|e| malformed(&format!("SignedData: {e}")))?;
    let encap = &signed_data.encap_content_info;
    if encap.econtent_type != OID_TST_INFO {
        return Err(TimestampError::Malformed(format!(
            "the signed content is {}, not TSTInfo",
            encap.econtent_type
        )));
    }
    let tst_der = encap
        .econtent
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("no TSTInfo in the token".into()))?
        .decode_as::<OctetString>()
        .map_err(|e| malformed(&format!("TSTInfo: {e}")))?
        .into_bytes();
    let tst = TstInfo::parse(&tst_der).map_err(|e| malformed(&format!("TSTInfo: {e}")))?;

    // 2. Over these bytes.
    let imprint_hash = hash_of(&tst.imprint_algorithm)?;
    if digest::digest(imprint_hash, signed).as_ref() != tst.imprint.as_slice() {
        return Err(TimestampError::WrongImprint);
    }

    // 3. Signed by its signing certificate.
    let signers = signed_data.signer_infos.0.as_slice();
    let [signer] = signers else {
        return Err(TimestampError::Malformed(format!(
            "the token has {} signers; a timestamp has one",
            signers.len()
        )));
    };
    let embedded: Vec<Vec<u8>> = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => c.to_der().ok(),
            CertificateChoices::Other(_) => None,
        })
        .collect();

    // 4. Trusted at its time: try each authority valid then.
    let authorities: Vec<&CertificateAuthority> =
        root.timestamp_authorities_at(tst.gen_time).collect();
    if authorities.is_empty() {
        return Err(TimestampError::Untrusted(format!(
            "no timestamp authority of the trusted root is valid at the timestamp's time {}",
            show(tst.gen_time)
        )));
    }
    let mut problems = Vec::new();
    for authority in authorities {
        match verify_with_authority(signer, &tst_der, &embedded, authority, tst.gen_time) {
            Ok(()) => {
                return Ok(VerifiedTimestamp {
                    time: tst.gen_time,
                    authority: authority.uri.clone(),
                });
            }
            Err(e) => problems.push(e),
        }
    }
    // One authority's verdict is the clearest; several are listed.
    if problems.len() == 1 {
        return Err(problems.remove(0));
    }
    Err(TimestampError::Untrusted(
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    ))
}

/// The token of a TimeStampResp (status granted), or the token itself.
fn token_content_info(der: &[u8]) -> Result<ContentInfo, TimestampError> {
    let malformed = |e: &dyn std::fmt::Display| TimestampError::Malformed(e.to_string());
    let mut reader = SliceReader::new(der).map_err(|e| malformed(&e))?;
    let outer = Header::decode(&mut reader).map_err(|e| malformed(&e))?;
    if outer.tag() != Tag::Sequence {
        return Err(TimestampError::Malformed("not a DER SEQUENCE".into()));
    }
    // A ContentInfo starts with its content type; a TimeStampResp with
    // its PKIStatusInfo (a SEQUENCE).
    if Tag::peek(&reader).map_err(|e| malformed(&e))? == Tag::ObjectIdentifier {
        return ContentInfo::from_der(der).map_err(|e| malformed(&e));
    }
    let status_der = reader.tlv_bytes().map_err(|e| malformed(&e))?;
    let mut status = SliceReader::new(status_der).map_err(|e| malformed(&e))?;
    Header::decode(&mut status).map_err(|e| malformed(&e))?;
    let code = x509_cert::der::asn1::Uint::decode(&mut status)
        .map_err(|e| malformed(&format!("status: {e}")))?;
    let code = match code.as_bytes() {
        [b] => u64::from(*b),
        _ => u64::MAX,
    };
    // granted (0) or grantedWithMods (1).
    if code > 1 {
        return Err(TimestampError::NotGranted(code));
    }
    if reader.is_finished() {
        return Err(TimestampError::Malformed(
            "the response holds no timestamp token".into(),
        ));
    }
    let token = reader.tlv_bytes().map_err(|e| malformed(&e))?;
    ContentInfo::from_der(token).map_err(|e| malformed(&e))
}

fn verify_with_authority(
    signer: &SignerInfo,
    tst_der: &[u8],
    embedded: &[Vec<u8>],
    authority: &CertificateAuthority,
    at: OffsetDateTime,
) -> Result<(), TimestampError> {
    // The signing certificate: the one the signer identifier names, among
    // the token's certificates and the authority's own.
    let candidates = embedded.iter().chain(authority.certificates.iter());
    let signing = candidates
        .filter_map(|der| Certificate::from_der(der).ok().map(|c| (der, c)))
        .find(|(_, c)| names(&signer.sid, c))
        .ok_or_else(|| {
            TimestampError::Untrusted(format!(
                "no certificate of the token or of the authority {:?} is the signer's",
                authority.uri
            ))
        })?;
    let (signing_der, signing_cert) = signing;

    check_signed_attributes(signer, tst_der, signing_der)?;
    let key_der = signing_cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| TimestampError::Malformed(e.to_string()))?;
    let key = PublicKey::from_spki_der(&key_der)
        .map_err(|e| TimestampError::BadSignature(format!("the signing certificate's key: {e}")))?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("the signer has no signed attributes".into()))?
        .to_der()
        .map_err(|e| TimestampError::Malformed(e.to_string()))?;
    let hash = match hash_of(&signer.digest_alg)? {
        h if h == &digest::SHA256 => Hash::Sha256,
        h if h == &digest::SHA384 => Hash::Sha384,
        h if h == &digest::SHA512 => Hash::Sha512,
        _ => {
            return Err(TimestampError::BadSignature(
                "SHA-1 signatures are not accepted".into(),
            ));
        }
    };
    if !key.verify_with(hash, &attrs, signer.signature.as_bytes()) {
        return Err(TimestampError::BadSignature(
            "the signed attributes' signature does not verify with the signing certificate's key"
                .into(),
        ));
    }

    // The certificate: for time stamping, and trusted at the time.
    let eku = signing_cert
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::ExtendedKeyUsage>()
        .ok()
        .flatten()
        .map(|(_, e)| e);
    let time_stamping = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
    if !eku.is_some_and(|e| e.0.contains(&time_stamping)) {
        return Err(TimestampError::Untrusted(
            "the signing certificate lacks the time-stamping extended key usage".into(),
        ));
    }
    if authority.certificates.len() == 1 && authority.root() == Some(signing_der.as_slice()) {
        // An authority of one certificate is its own signer: trusted as
        // given, within its own validity.
        let validity = signing_cert.tbs_certificate().validity();
        let secs = at.unix_timestamp();
        let from = validity.not_before.to_unix_duration().as_secs();
        let to = validity.not_after.to_unix_duration().as_secs();
        let inside = u64::try_from(secs).is_ok_and(|s| from <= s && s <= to);
        return if inside {
            Ok(())
        } else {
            Err(TimestampError::Untrusted(format!(
                "the signing certificate is not valid at {}",
                show(at)
            )))
        };
    }
    path::verify(signing_der, embedded, &[authority], at, EKU_TIME_STAMPING)
        .map(|_| ())
        .map_err(|e| TimestampError::Untrusted(e.to_string()))
}

/// Content type TSTInfo, the TSTInfo's digest, and the ESS signing
/// certificate naming `signing_der` first.
fn check_signed_attributes(
    signer: &SignerInfo,
    tst_der: &[u8],
    signing_der: &[u8],
) -> Result<(), TimestampError> {
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| TimestampError::Malformed("the signer has no signed attributes".into()))?;
    let value = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let bad = |why: &str| TimestampError::BadSignature(why.to_string());

    let content_type = value(OID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| bad("no content-type signed attribute"))?;
    if content_type != OID_TST_INFO {
        return Err(bad("the content-type signed attribute is not TSTInfo"));
    }
    let message_digest = value(OID_MESSAGE_DIGEST)
        .and_then(|v| {
            v.decode_as::<OctetString>()
                .ok()
                .map(|o| o.as_bytes().to_vec())
        })
        .ok_or_else(|| bad("no message-digest signed attribute"))?;
    let hash = hash_of(&signer.digest_alg)?;
    if digest::digest(hash, tst_der).as_ref() != message_digest.as_slice() {
        return Err(bad(
            "the message-digest signed attribute is not the TSTInfo's digest",
        ));
    }

    // ESS: SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { hashAlgorithm
    // DEFAULT sha256, certHash, .. }, .. } or SigningCertificate { certs
    // SEQUENCE OF ESSCertID { certHash (SHA-1), .. }, .. }.
    let (value, v2) = match (
        value(OID_SIGNING_CERTIFICATE_V2),
        value(OID_SIGNING_CERTIFICATE),
    ) {
        (Some(v), _) => (v, true),
        (None, Some(v)) => (v, false),
        (None, None) => return Err(bad("no ESS signing-certificate signed attribute")),
    };
    let ess = value
        .to_der()
        .map_err(|e| TimestampError::Malformed(e.to_string()))?;
    let (algorithm, cert_hash) =
        first_ess_cert_id(&ess, v2).map_err(|e| TimestampError::Malformed(format!("ESS: {e}")))?;
    let expected = digest::digest(algorithm, signing_der);
    if expected.as_ref() != cert_hash.as_slice() {
        return Err(TimestampError::Untrusted(
            "the ESS signing-certificate attribute names another certificate".into(),
        ));
    }
    Ok(())
}

/// The hash algorithm and certificate hash of the first ESSCertID(v2).
fn first_ess_cert_id(
    der: &[u8],
    v2: bool,
) -> Result<(&'static digest::Algorithm, Vec<u8>), x509_cert::der::Error> {
    let mut r = SliceReader::new(der)?;
    Header::decode(&mut r)?; // SigningCertificate(V2)
    Header::decode(&mut r)?; // certs SEQUENCE OF
    Header::decode(&mut r)?; // the first ESSCertID(v2)
    let mut algorithm = if v2 {
        &digest::SHA256
    } else {
        &digest::SHA1_FOR_LEGACY_USE_ONLY
    };
    if v2 && Tag::peek(&r)? == Tag::Sequence {
        let alg = AlgorithmIdentifierOwned::decode(&mut r)?;
        algorithm = hash_of(&alg).map_err(|_| Tag::Sequence.value_error())?;
    }
    let hash = OctetString::decode(&mut r)?.as_bytes().to_vec();
    Ok((algorithm, hash))
}

fn hash_of(alg: &AlgorithmIdentifierOwned) -> Result<&'static digest::Algorithm, TimestampError> {
    match alg.oid {
        OID_SHA256 => Ok(&digest::SHA256),
        OID_SHA384 => Ok(&digest::SHA384),
        OID_SHA512 => Ok(&digest::SHA512),
        OID_SHA1 => Ok(&digest::SHA1_FOR_LEGACY_USE_ONLY),
        other => Err(TimestampError::Malformed(format!(
            "unsupported hash algorithm {other}"
        ))),
    }
}

/// Whether the signer identifier names this certificate.
fn names(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            is.issuer == *cert.tbs_certificate().issuer()
                && is.serial_number == *cert.tbs_certificate().serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, own)| own == *ski),
    }
}

/// The TSTInfo fields a verification needs (RFC 3161 §2.4.2): version,
/// policy, messageImprint, serialNumber, genTime; the optional rest is not
/// read.
struct TstInfo {
    imprint_algorithm: AlgorithmIdentifierOwned,
    imprint: Vec<u8>,
    gen_time: OffsetDateTime,
}

impl TstInfo {
    fn parse(der: &[u8]) -> Result<TstInfo, String> {
        let e = |e: x509_cert::der::Error| e.to_string();
        let mut r = SliceReader::new(der).map_err(e)?;
        let header = Header::decode(&mut r).map_err(e)?;
        if header.tag() != Tag::Sequence {
            return Err("not a SEQUENCE".into());
        }
        let version = x509_cert::der::asn1::Uint::decode(&mut r).map_err(e)?;
        if version.as_bytes() != [1] {
            return Err("version is not 1".into());
        }
        let _policy: ObjectIdentifier = Decode::decode(&mut r).map_err(e)?;
        Header::decode(&mut r).map_err(e)?; // messageImprint SEQUENCE
        let imprint_algorithm = AlgorithmIdentifierOwned::decode(&mut r).map_err(e)?;
        let imprint = OctetString::decode(&mut r).map_err(e)?.as_bytes().to_vec();
        x509_cert::der::asn1::Int::decode(&mut r).map_err(e)?; // serialNumber
        let time_header = Header::decode(&mut r).map_err(e)?;
        if time_header.tag() != Tag::GeneralizedTime {
            return Err("genTime is not a GeneralizedTime".into());
        }
        let raw = r.read_slice(time_header.length()).map_err(e)?;
        let gen_time = generalized_time(raw)?;
        Ok(TstInfo {
            imprint_algorithm,
            imprint,
            gen_time,
        })
    }
}

/// `YYYYMMDDHHMMSS[.f+]Z` (RFC 3161 allows fractions of a second, which
/// `der`'s GeneralizedTime does not).
fn generalized_time(raw: &[u8]) -> Result<OffsetDateTime, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "genTime is not ASCII")?;
    let bad = || format!("genTime {text:?} is not YYYYMMDDHHMMSS[.fff]Z");
    let body = text.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.len() <= 9 && !f.ends_with('0') => (w, f),
        Some(_) => return Err(bad()),
        None => (body, ""),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |range: std::ops::Range<usize>| -> Result<u32, String> {
        whole
            .get(range)
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)
    };
    let month =
        time::Month::try_from(u8::try_from(n(4..6)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(
        i32::try_from(n(0..4)?).map_err(|_| bad())?,
        month,
        u8::try_from(n(6..8)?).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let nanos: u32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().map_err(|_| bad())?
    };
    let time = time::Time::from_hms_nano(
        u8::try_from(n(8..10)?).map_err(|_| bad())?,
        u8::try_from(n(10..12)?).map_err(|_| bad())?,
        u8::try_from(n(12..14)?).map_err(|_| bad())?,
        nanos,
    )
    .map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, time).assume_utc())
}

fn show(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    /// The first timestamp of a bundle, and the signature bytes it is over
    /// (a message signature's, or the DSSE envelope's first).
    fn token_and_signature(bundle: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
        let token = json["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            [0]["signedTimestamp"]
            .as_str()
            .unwrap();
        let signature = json["messageSignature"]["signature"]
            .as_str()
            .or(json["dsseEnvelope"]["signatures"][0]["sig"].as_str())
            .unwrap();
        (
            STANDARD.decode(token).unwrap(),
            STANDARD.decode(signature).unwrap(),
        )
    }

    fn time(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    const CASES: &[(&str, &str, &str)] = &[
        (
            "sigstore-go/pkg/testing/data/bundles/public-key-validity.sigstore.json",
            "sigstore-go/pkg/testing/data/trusted-roots/public-key-validity.json",
            "2026-06-04T17:43:29Z",
        ),
        (
            "sigstore-python/assets/staging-rekor-v2.txt.sigstore.json",
            "sigstore-python/staging-trusted_root.json",
            "",
        ),
        (
            "sigstore-python/assets/a.dsse.staging-rekor-v2.txt.sigstore.json",
            "sigstore-python/staging-trusted_root.json",
            "",
        ),
    ];

    #[test]
    fn upstream_timestamps_verify_against_their_authorities() {
        let Some(dir) = crate::trust::vectors_dir() else {
            return;
        };
        for (bundle, root, expected) in CASES {
            let (token, signature) = token_and_signature(&dir.join(bundle));
            let root = TrustedRoot::from_file(&dir.join(root)).unwrap();
            let v = verify(&token, &signature, &root).unwrap_or_else(|e| panic!("{bundle}: {e}"));
            if !expected.is_empty() {
                assert_eq!(v.time, time(expected), "{bundle}");
            }
            assert!(!v.authority.is_empty());
        }
    }

    #[test]
    fn wrong_bytes_tampered_tokens_and_closed_windows_are_refused() {
        let Some(dir) = crate::trust::vectors_dir() else {
            return;
        };
        let (bundle, root, _) = CASES[0];
        let (token, signature) = token_and_signature(&dir.join(bundle));
        let root = TrustedRoot::from_file(&dir.join(root)).unwrap();

        // Another signature.
        let e = verify(&token, b"another signature", &root).unwrap_err();
        assert_eq!(e, TimestampError::WrongImprint);

        // The TSA's signature changed (its last byte sits at the end).
        let mut tampered = token.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let e = verify(&tampered, &signature, &root).unwrap_err();
        assert!(matches!(e, TimestampError::BadSignature(_)), "{e}");

        // The genTime changed (20260604174329Z -> ...28Z): the message
        // digest of the TSTInfo no longer matches.
        let at = token
            .windows(15)
            .position(|w| w == b"20260604174329Z")
            .unwrap();
        let mut moved = token.clone();
        moved[at + 13] = b'8';
        let e = verify(&moved, &signature, &root).unwrap_err();
        assert!(e.to_string().contains("message-digest"), "{e}");

        // The timestamp falls outside the authority's validity window.
        let mut closed = root.clone();
        closed.timestamp_authorities[0].valid_for.end = Some(time("2026-06-04T13:00:00Z"));
        let e = verify(&token, &signature, &closed).unwrap_err();
        assert!(e.to_string().contains("no timestamp authority"), "{e}");

        // A root without authorities, or with another authority.
        let e = verify(&token, &signature, &TrustedRoot::default()).unwrap_err();
        assert_eq!(e, TimestampError::NoAuthority);
        let staging =
            TrustedRoot::from_file(&dir.join("sigstore-python/staging-trusted_root.json")).unwrap();
        let mut other = root.clone();
        other.timestamp_authorities = staging.timestamp_authorities.clone();
        for a in &mut other.timestamp_authorities {
            a.valid_for = crate::trust::Validity::ALWAYS;
        }
        let e = verify(&token, &signature, &other).unwrap_err();
        assert!(matches!(e, TimestampError::Untrusted(_)), "{e}");

        // Not DER at all.
        let e = verify(b"\x30\x03\x02\x01", &signature, &root).unwrap_err();
        assert!(matches!(e, TimestampError::Malformed(_)), "{e}");
    }

    #[test]
    fn generalized_times_with_fractions() {
        assert_eq!(
            generalized_time(b"20260604174329.25Z").unwrap(),
            time("2026-06-04T17:43:29.25Z")
        );
        for bad in [
            &b"2026060417432Z"[..],
            b"20260604174329",
            b"20260604174329.Z",
            b"20261304174329Z",
        ] {
            assert!(generalized_time(bad).is_err());
        }
    }
}
