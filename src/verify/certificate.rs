//! Keyless verification: a signing certificate (Fulcio's, or any CA's) is
//! checked up to a trusted root and its identity against a policy, as
//! `cosign verify --certificate-identity[-regexp] --certificate-oidc-issuer[-regexp]`
//! does with Go's `x509.Certificate.Verify`.
//!
//! What is checked, in order:
//! 1. the leaf is valid at the given time and has the code-signing extended
//!    key usage (Fulcio always sets it; Go would also accept a leaf with no
//!    EKU at all, we do not);
//! 2. a path leads from the leaf through intermediates (the chain presented
//!    with the certificate, and those given with the roots) to a trusted
//!    root. A self-signed certificate presented with the chain is never an
//!    intermediate: it is trusted only as one of the roots, byte for byte.
//!    Every issuer on the path verifies its child's signature, is valid at
//!    that time, is a CA (basicConstraints cA), has keyCertSign when it has a
//!    keyUsage, respects its pathLenConstraint and, with an extended key
//!    usage, allows code signing. A critical extension we do not interpret
//!    (name constraints among them) rejects the certificate, as Go does for
//!    extensions it does not handle;
//! 3. the subject alternative names and the Fulcio OIDC-issuer extension
//!    against the policy.
//!
//! Signatures are checked with aws-lc-rs through [`PublicKey::verify_with`].
//!
//! The time is the caller's: cosign checks a Fulcio certificate (valid for
//! ten minutes) at the time the transparency log or a timestamp authority
//! vouches for, not at the time of verification.

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use x509_cert::Certificate;
use x509_cert::der::asn1::{ContextSpecific, ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode, Encode, Header, Reader, SliceReader, TagNumber};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::sign::verify::Hash;
use crate::sign::{CertificateChain, KeyKind, PublicKey};

/// The longest path accepted, leaf and root included, and the most
/// certificates accepted with a signature: far more than any real PKI uses
/// (Fulcio's is three), few enough that a hostile chain costs nothing.
pub const MAX_CHAIN: usize = 10;

/// Candidate issuers whose signature is checked before giving up: many
/// certificates sharing a name could otherwise make path building explode.
const MAX_SIGNATURE_CHECKS: usize = 64;

/// How a certificate's identity (a subject alternative name) or OIDC issuer
/// must look.
#[derive(Clone, Debug)]
pub enum Matcher {
    /// Equal, byte for byte (`--certificate-identity`, `--certificate-oidc-issuer`).
    Exact(String),
    /// Matching anywhere in the value, like Go's `regexp.MatchString`, which
    /// cosign uses for `--certificate-identity-regexp` and
    /// `--certificate-oidc-issuer-regexp`: the expression is NOT anchored,
    /// so `example\.com` matches `evil-example.com.attacker.net`; write
    /// `^...$` to pin it. The syntax is RE2's, which Go and the `regex`
    /// crate share.
    Regexp(regex::Regex),
}

impl Matcher {
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(want) => want == value,
            Matcher::Regexp(re) => re.is_match(value),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Exact(s) => write!(f, "{s:?}"),
            Matcher::Regexp(re) => write!(f, "regexp {:?}", re.as_str()),
        }
    }
}

/// What the certificate must say about who signed. `None` checks nothing
/// (cosign insists on both for keyless verification; that is the CLI's call).
#[derive(Clone, Debug, Default)]
pub struct IdentityPolicy {
    pub identity: Option<Matcher>,
    pub issuer: Option<Matcher>,
}

/// The public key a DER certificate certifies, without checking the
/// certificate (for a certificate named as a trusted key).
pub fn public_key_of(der: &[u8]) -> Result<PublicKey, CertificateError> {
    Parsed::parse(der.to_vec(), "the certificate")?.public_key()
}

/// A parsed certificate with its DER, and where its signed part lies in it.
#[derive(Clone, Debug)]
struct Parsed {
    der: Vec<u8>,
    cert: Certificate,
    /// The TBSCertificate as it was signed: the original bytes, not a
    /// re-encoding, as Go verifies `RawTBSCertificate`.
    tbs: std::ops::Range<usize>,
}

impl Parsed {
    fn parse(der: Vec<u8>, what: &str) -> Result<Parsed, CertificateError> {
        let bad = |why: String| CertificateError::NotCertificate {
            what: what.to_string(),
            why,
        };
        let cert = Certificate::from_der(&der).map_err(|e| bad(e.to_string()))?;
        let tbs = tbs_range(&der).ok_or_else(|| bad("cannot locate the signed part".into()))?;
        // RFC 5280 4.1.1.2; Go refuses such certificates when parsing.
        if cert.signature_algorithm() != cert.tbs_certificate().signature() {
            return Err(bad(
                "the signature algorithm inside and outside the signed part differ".into(),
            ));
        }
        Ok(Parsed { der, cert, tbs })
    }

    fn tbs_der(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or_default()
    }

    /// The certified public key.
    fn public_key(&self) -> Result<PublicKey, CertificateError> {
        let spki = self
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| CertificateError::PublicKey(e.to_string()))?;
        PublicKey::from_spki_der(&spki).map_err(|e| CertificateError::PublicKey(e.to_string()))
    }

    fn subject(&self) -> &Name {
        self.cert.tbs_certificate().subject()
    }

    fn issuer(&self) -> &Name {
        self.cert.tbs_certificate().issuer()
    }

    fn self_issued(&self) -> bool {
        self.subject() == self.issuer()
    }

    fn not_before(&self) -> i64 {
        unix(self.cert.tbs_certificate().validity().not_before)
    }

    fn not_after(&self) -> i64 {
        unix(self.cert.tbs_certificate().validity().not_after)
    }
}

fn unix(t: x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Where the TBSCertificate (the first element of the outer SEQUENCE) lies in `der`.
fn tbs_range(der: &[u8]) -> Option<std::ops::Range<usize>> {
    let mut reader = SliceReader::new(der).ok()?;
    Header::decode(&mut reader).ok()?;
    let start = usize::try_from(reader.position()).ok()?;
    let tbs = reader.tlv_bytes().ok()?;
    Some(start..start.checked_add(tbs.len())?)
}

/// Trusted roots, and intermediates that may complete a path to them.
#[derive(Clone, Debug, Default)]
pub struct Roots {
    roots: Vec<Parsed>,
    intermediates: Vec<Parsed>,
}

impl Roots {
    /// Every `CERTIFICATE` in `pem` is a trust anchor (`--ca-roots`).
    pub fn from_pem(pem: &str) -> Result<Roots, CertificateError> {
        let roots = parse_all(pem, "the trusted roots", None)?;
        if roots.is_empty() {
            return Err(CertificateError::NotPem {
                what: "the trusted roots".into(),
                why: "no CERTIFICATE block".into(),
            });
        }
        Ok(Roots {
            roots,
            intermediates: Vec::new(),
        })
    }

    /// Add every `CERTIFICATE` in `pem` as an intermediate (`--ca-intermediates`):
    /// used to build a path, trusted only through a root.
    pub fn add_intermediates_pem(&mut self, pem: &str) -> Result<(), CertificateError> {
        let found = parse_all(pem, "the intermediate certificates", None)?;
        if found.is_empty() {
            return Err(CertificateError::NotPem {
                what: "the intermediate certificates".into(),
                why: "no CERTIFICATE block".into(),
            });
        }
        self.intermediates.extend(found);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// A certificate that passed [`verify`], and what it certifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCertificate {
    /// The certified key: signatures are to be checked with it.
    pub public_key: PublicKey,
    /// The subject alternative name that matched the policy (without an
    /// identity policy, the first one): an email, a URI, Fulcio's
    /// other-name username, a DNS name or an IP address, written as cosign
    /// writes them.
    pub identity: String,
    /// Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.8, or the
    /// deprecated 1.3.6.1.4.1.57264.1.1).
    pub issuer: Option<String>,
    /// Validity of the leaf, in unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("{what} is not PEM: {why}")]
    NotPem { what: String, why: String },
    #[error("{what} is not an X.509 certificate: {why}")]
    NotCertificate { what: String, why: String },
    #[error("the certificate chain has {count} certificates; at most {MAX_CHAIN} are accepted")]
    ChainTooLong { count: usize },
    #[error(
        "the chain does not lead to a trusted root: {cert} is issued by \"{issuer}\", \
         which is neither a trusted root nor an intermediate leading to one"
    )]
    Untrusted { cert: String, issuer: String },
    #[error("the signature of {cert} by its issuer \"{issuer}\" does not verify")]
    BadSignature { cert: String, issuer: String },
    #[error("{cert} is signed with {algorithm}, which is not supported")]
    UnsupportedAlgorithm { cert: String, algorithm: String },
    #[error("{cert} expired at {not_after}; it was checked at {at}")]
    Expired {
        cert: String,
        not_after: String,
        at: String,
    },
    #[error("{cert} is not yet valid at {at}: it is valid from {not_before}")]
    NotYetValid {
        cert: String,
        not_before: String,
        at: String,
    },
    #[error("{cert} signed a certificate but is not a CA (basicConstraints cA is not set)")]
    NotCa { cert: String },
    #[error("{cert} signed a certificate but its keyUsage does not allow keyCertSign")]
    NoKeyCertSign { cert: String },
    #[error("{cert} allows {max} intermediate certificate(s) below it; the path has {found}")]
    PathTooLong { cert: String, max: u8, found: usize },
    #[error("{cert} restricts its extended key usage, and not to code signing")]
    IssuerNotForCodeSigning { cert: String },
    #[error("the leaf certificate has no code-signing extended key usage")]
    NoCodeSigning,
    #[error("{cert} has a critical extension {oid} that is not supported")]
    UnsupportedCriticalExtension { cert: String, oid: String },
    #[error("gave up building a path after checking {MAX_SIGNATURE_CHECKS} candidate issuers")]
    TooManyCandidates,
    #[error("{cert} has a malformed {what}: {why}")]
    Malformed {
        cert: String,
        what: &'static str,
        why: String,
    },
    #[error("no identity in certificate: it has no subject alternative name")]
    NoIdentity,
    #[error("certificate identity {found} does not match {wanted}")]
    IdentityMismatch { found: String, wanted: String },
    #[error("certificate OIDC issuer {found} does not match {wanted}")]
    IssuerMismatch { found: String, wanted: String },
    #[error("the certified public key: {0}")]
    PublicKey(String),
}

/// Verify the leaf of `chain` up to one of `roots`, every certificate on the
/// path valid at unix time `at`, and its identity against `policy`.
pub fn verify(
    chain: &CertificateChain,
    roots: &Roots,
    policy: &IdentityPolicy,
    at: i64,
) -> Result<VerifiedCertificate, CertificateError> {
    let mut presented = parse_all(&chain.certificate_pem, "the certificate", Some(MAX_CHAIN))?;
    if presented.is_empty() {
        return Err(CertificateError::NotPem {
            what: "the certificate".into(),
            why: "no CERTIFICATE block".into(),
        });
    }
    let leaf = presented.remove(0);
    // Certificates after the leaf in its own PEM are chain too, as when a
    // whole chain is pasted into one file.
    let rest = parse_all(&chain.chain_pem, "the certificate chain", Some(MAX_CHAIN))?;
    presented.extend(rest);
    if presented.len() + 1 > MAX_CHAIN {
        return Err(CertificateError::ChainTooLong {
            count: presented.len() + 1,
        });
    }

    let leaf_name = describe(0, &leaf);
    check_time(&leaf_name, &leaf, at)?;
    check_critical(&leaf_name, &leaf)?;
    let eku = extension::<ExtendedKeyUsage>(&leaf_name, &leaf, "extended key usage")?;
    if !eku.is_some_and(|eku| eku.0.contains(&OID_CODE_SIGNING)) {
        return Err(CertificateError::NoCodeSigning);
    }

    build_path(&leaf, &presented, roots, at)?;

    let names = subject_alt_names(&leaf_name, &leaf)?;
    if names.is_empty() {
        return Err(CertificateError::NoIdentity);
    }
    let identity = match &policy.identity {
        None => names[0].clone(),
        Some(want) => names
            .iter()
            .find(|n| want.matches(n))
            .cloned()
            .ok_or_else(|| CertificateError::IdentityMismatch {
                found: names
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                wanted: want.to_string(),
            })?,
    };
    let issuer = oidc_issuer(&leaf_name, &leaf)?;
    if let Some(want) = &policy.issuer {
        match &issuer {
            Some(found) if want.matches(found) => {}
            found => {
                return Err(CertificateError::IssuerMismatch {
                    found: found.as_ref().map_or_else(
                        || "(none: the certificate has no OIDC issuer extension)".to_string(),
                        |f| format!("{f:?}"),
                    ),
                    wanted: want.to_string(),
                });
            }
        }
    }

    let public_key = leaf.public_key()?;
    Ok(VerifiedCertificate {
        public_key,
        identity,
        issuer,
        not_before: leaf.not_before(),
        not_after: leaf.not_after(),
    })
}

/// Every `CERTIFICATE` block in `text`, parsed; other PEM blocks are skipped.
fn parse_all(text: &str, what: &str, max: Option<usize>) -> Result<Vec<Parsed>, CertificateError> {
    let bad = |why: String| CertificateError::NotPem {
        what: what.to_string(),
        why,
    };
    // Counted before any decoding, so a hostile chain costs nothing.
    let count = text.matches("-----BEGIN CERTIFICATE-----").count();
    if let Some(max) = max
        && count > max
    {
        return Err(CertificateError::ChainTooLong { count });
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| bad("an unterminated BEGIN line".into()))?;
        let label = &after[..label_end];
        let body = &after[label_end + "-----".len()..];
        let end_line = format!("-----END {label}-----");
        let body_end = body
            .find(&end_line)
            .ok_or_else(|| bad(format!("no {end_line} line")))?;
        rest = &body[body_end + end_line.len()..];
        if label != "CERTIFICATE" {
            continue;
        }
        let b64: String = body[..body_end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = STANDARD
            .decode(b64)
            .map_err(|e| bad(format!("certificate {}: {e}", out.len())))?;
        let name = if out.is_empty() {
            what.to_string()
        } else {
            format!("{what} (certificate {})", out.len())
        };
        out.push(Parsed::parse(der, &name)?);
    }
    if out.is_empty() && !text.contains("-----BEGIN ") && !text.trim().is_empty() {
        return Err(bad("no PEM block".into()));
    }
    Ok(out)
}

/// How errors name a certificate: its position on the path (0 is the leaf)
/// and its subject.
fn describe(index: usize, cert: &Parsed) -> String {
    let subject = cert.subject().to_string();
    match (index, subject.is_empty()) {
        (0, _) => "certificate 0 (the leaf)".to_string(),
        (i, true) => format!("certificate {i}"),
        (i, false) => format!("certificate {i} (\"{subject}\")"),
    }
}

fn format_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("unix time {t}"))
}

/// Valid from notBefore to notAfter, both included, as Go checks.
fn check_time(name: &str, cert: &Parsed, at: i64) -> Result<(), CertificateError> {
    if at < cert.not_before() {
        return Err(CertificateError::NotYetValid {
            cert: name.to_string(),
            not_before: format_time(cert.not_before()),
            at: format_time(at),
        });
    }
    if at > cert.not_after() {
        return Err(CertificateError::Expired {
            cert: name.to_string(),
            not_after: format_time(cert.not_after()),
            at: format_time(at),
        });
    }
    Ok(())
}

const OID_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const OID_ANY_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
const OID_FULCIO_ISSUER_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
const OID_FULCIO_USERNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");
const OID_FULCIO_ISSUER_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");

/// Critical extensions whose meaning we apply or which restrict nothing we
/// rely on: key usage, SAN, basic constraints, EKU, key identifiers and
/// certificate policies (which, like cosign, we do not constrain).
const HANDLED_CRITICAL: [&str; 7] = [
    "2.5.29.15",
    "2.5.29.17",
    "2.5.29.19",
    "2.5.29.37",
    "2.5.29.14",
    "2.5.29.35",
    "2.5.29.32",
];

fn check_critical(name: &str, cert: &Parsed) -> Result<(), CertificateError> {
    for ext in cert
        .cert
        .tbs_certificate()
        .extensions()
        .map_or(&[][..], |v| v.as_slice())
    {
        let oid = ext.extn_id.to_string();
        if ext.critical && !HANDLED_CRITICAL.contains(&oid.as_str()) {
            return Err(CertificateError::UnsupportedCriticalExtension {
                cert: name.to_string(),
                oid,
            });
        }
    }
    Ok(())
}

fn extension<'a, T>(
    name: &str,
    cert: &'a Parsed,
    what: &'static str,
) -> Result<Option<T>, CertificateError>
where
    T: Decode<'a, Error = x509_cert::der::Error> + x509_cert::der::oid::AssociatedOid,
{
    cert.cert
        .tbs_certificate()
        .get_extension::<T>()
        .map(|found| found.map(|(_, ext)| ext))
        .map_err(|e| CertificateError::Malformed {
            cert: name.to_string(),
            what,
            why: e.to_string(),
        })
}

/// Find a path from `leaf` to a trusted root, or say why there is none.
fn build_path(
    leaf: &Parsed,
    presented: &[Parsed],
    roots: &Roots,
    at: i64,
) -> Result<(), CertificateError> {
    let mut intermediates: Vec<&Parsed> = Vec::new();
    for c in presented.iter().chain(&roots.intermediates) {
        // A self-signed certificate vouches only for itself: it is a root
        // if the caller trusts it, and then it is among `roots`.
        if !c.self_issued() && !intermediates.iter().any(|i| i.der == c.der) {
            intermediates.push(c);
        }
    }
    let mut search = PathSearch {
        roots: &roots.roots,
        intermediates,
        at,
        checks_left: MAX_SIGNATURE_CHECKS,
        specific: None,
        bad_signature: None,
        orphan: None,
    };
    let mut path = vec![leaf];
    if search.extend(&mut path) {
        return Ok(());
    }
    if let Some(e) = search.specific {
        return Err(e);
    }
    if let Some((index, cert)) = search.bad_signature {
        // Did the chain itself name an issuer that signed this certificate?
        // Then the chain is sound but anchored elsewhere; otherwise the
        // certificate was changed after signing (or the chain left out the
        // certificate that signed it).
        let anchored_elsewhere = presented.iter().any(|p| {
            p.subject() == cert.issuer() && matches!(signature(cert, index, p), Sig::Valid)
        });
        let cert_name = describe(index, cert);
        let issuer = cert.issuer().to_string();
        return Err(if anchored_elsewhere {
            CertificateError::Untrusted {
                cert: cert_name,
                issuer,
            }
        } else {
            CertificateError::BadSignature {
                cert: cert_name,
                issuer,
            }
        });
    }
    let (index, cert) = search.orphan.unwrap_or((0, leaf));
    Err(CertificateError::Untrusted {
        cert: describe(index, cert),
        issuer: cert.issuer().to_string(),
    })
}

/// A depth-first search for a path to a root, remembering the most telling
/// reason each dead end gave.
struct PathSearch<'a> {
    roots: &'a [Parsed],
    intermediates: Vec<&'a Parsed>,
    at: i64,
    checks_left: usize,
    /// The first issuer that signed but may not issue (expired, not a CA, ...).
    specific: Option<CertificateError>,
    /// The first certificate that no candidate issuer's signature verified.
    bad_signature: Option<(usize, &'a Parsed)>,
    /// The first certificate for which no candidate issuer exists at all.
    orphan: Option<(usize, &'a Parsed)>,
}

impl<'a> PathSearch<'a> {
    /// Extend `path` (never empty) up to a root; true when done.
    fn extend(&mut self, path: &mut Vec<&'a Parsed>) -> bool {
        let Some(&current) = path.last() else {
            return false;
        };
        let mut named = false;
        for root in self.roots {
            // The leaf as its own root would certify nothing.
            if root.subject() != current.issuer() || root.der == path[0].der {
                continue;
            }
            named = true;
            if self.accept(path, root) {
                path.push(root);
                return true;
            }
        }
        // Room for one more intermediate and a root above it.
        if path.len() + 2 <= MAX_CHAIN {
            for i in 0..self.intermediates.len() {
                let next = self.intermediates[i];
                if next.subject() != current.issuer() || path.iter().any(|p| p.der == next.der) {
                    continue;
                }
                named = true;
                if self.accept(path, next) {
                    path.push(next);
                    if self.extend(path) {
                        return true;
                    }
                    path.pop();
                }
            }
        }
        if !named && self.orphan.is_none() {
            self.orphan = Some((path.len() - 1, current));
        }
        false
    }

    /// Whether `issuer` signed the last certificate of `path` and may have.
    fn accept(&mut self, path: &[&'a Parsed], issuer: &'a Parsed) -> bool {
        let Some(&child) = path.last() else {
            return false;
        };
        let child_index = path.len() - 1;
        if self.checks_left == 0 {
            self.specific
                .get_or_insert(CertificateError::TooManyCandidates);
            return false;
        }
        self.checks_left -= 1;
        match signature(child, child_index, issuer) {
            Sig::Valid => {}
            Sig::Invalid => {
                self.bad_signature.get_or_insert((child_index, child));
                return false;
            }
            Sig::Unsupported(e) => {
                self.specific.get_or_insert(e);
                return false;
            }
        }
        // Intermediates between the leaf and this issuer.
        match fit_to_issue(issuer, path.len(), path.len() - 1, self.at) {
            Ok(()) => true,
            Err(e) => {
                self.specific.get_or_insert(e);
                false
            }
        }
    }
}

/// Whether `cert`, at position `index` on the path with `below`
/// intermediates under it, may issue certificates.
fn fit_to_issue(
    cert: &Parsed,
    index: usize,
    below: usize,
    at: i64,
) -> Result<(), CertificateError> {
    let name = describe(index, cert);
    check_time(&name, cert, at)?;
    check_critical(&name, cert)?;
    let constraints = extension::<BasicConstraints>(&name, cert, "basic constraints")?;
    let Some(constraints) = constraints.filter(|c| c.ca) else {
        return Err(CertificateError::NotCa { cert: name });
    };
    if let Some(max) = constraints.path_len_constraint
        && below > usize::from(max)
    {
        return Err(CertificateError::PathTooLong {
            cert: name,
            max,
            found: below,
        });
    }
    if let Some(usage) = extension::<KeyUsage>(&name, cert, "key usage")?
        && !usage.key_cert_sign()
    {
        return Err(CertificateError::NoKeyCertSign { cert: name });
    }
    // As Go: an issuer's EKU, when present, limits what it may certify.
    if let Some(eku) = extension::<ExtendedKeyUsage>(&name, cert, "extended key usage")?
        && !eku.0.contains(&OID_CODE_SIGNING)
        && !eku.0.contains(&OID_ANY_EKU)
    {
        return Err(CertificateError::IssuerNotForCodeSigning { cert: name });
    }
    Ok(())
}

enum Sig {
    Valid,
    Invalid,
    Unsupported(CertificateError),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Ecdsa,
    Rsa,
    Ed25519,
}

/// Whether `issuer`'s key verifies `child`'s signature (`child` at `index`).
fn signature(child: &Parsed, index: usize, issuer: &Parsed) -> Sig {
    let alg = child.cert.signature_algorithm();
    let unsupported = |algorithm: String| {
        Sig::Unsupported(CertificateError::UnsupportedAlgorithm {
            cert: describe(index, child),
            algorithm,
        })
    };
    let Some((family, hash)) = algorithm(alg) else {
        return unsupported(alg.oid.to_string());
    };
    let Ok(key) = issuer.public_key() else {
        // A key we cannot use verifies nothing; the issuer may be a stranger
        // with the same name.
        return Sig::Invalid;
    };
    let key_family = match key.kind() {
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 | KeyKind::EcdsaP521 => Family::Ecdsa,
        KeyKind::Rsa => Family::Rsa,
        KeyKind::Ed25519 => Family::Ed25519,
    };
    let Some(sig) = child.cert.signature().as_bytes() else {
        return Sig::Invalid;
    };
    if key_family == family && key.verify_with(hash, child.tbs_der(), sig) {
        Sig::Valid
    } else {
        Sig::Invalid
    }
}

const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// The signature algorithms Go's x509 verifies, but SHA-1 ones.
fn algorithm(alg: &AlgorithmIdentifierOwned) -> Option<(Family, Hash)> {
    Some(match alg.oid.to_string().as_str() {
        "1.2.840.10045.4.3.2" => (Family::Ecdsa, Hash::Sha256),
        "1.2.840.10045.4.3.3" => (Family::Ecdsa, Hash::Sha384),
        "1.2.840.10045.4.3.4" => (Family::Ecdsa, Hash::Sha512),
        "1.2.840.113549.1.1.11" => (Family::Rsa, Hash::Sha256),
        "1.2.840.113549.1.1.12" => (Family::Rsa, Hash::Sha384),
        "1.2.840.113549.1.1.13" => (Family::Rsa, Hash::Sha512),
        "1.3.101.112" => (Family::Ed25519, Hash::Sha512),
        // RSASSA-PSS: the hash is in the parameters; aws-lc-rs checks MGF1
        // with the same hash and a salt as long as the digest, which is what
        // Go accepts too.
        "1.2.840.113549.1.1.10" => (Family::Rsa, pss_hash(alg)?),
        _ => return None,
    })
}

/// The hashAlgorithm of RSASSA-PSS-params (its default, SHA-1, is refused).
fn pss_hash(alg: &AlgorithmIdentifierOwned) -> Option<Hash> {
    let params = alg.parameters.as_ref()?;
    let mut reader = SliceReader::new(params.value()).ok()?;
    let hash =
        ContextSpecific::<AlgorithmIdentifierOwned>::decode_explicit(&mut reader, TagNumber(0))
            .ok()??;
    match hash.value.oid {
        o if o == OID_SHA256 => Some(Hash::Sha256),
        o if o == OID_SHA384 => Some(Hash::Sha384),
        o if o == OID_SHA512 => Some(Hash::Sha512),
        _ => None,
    }
}

/// The subject alternative names, in the order and form cosign lists them
/// (DNS names, emails, IP addresses, URIs, then Fulcio's other-name username).
fn subject_alt_names(name: &str, cert: &Parsed) -> Result<Vec<String>, CertificateError> {
    let Some(san) = extension::<SubjectAltName>(name, cert, "subject alternative name")? else {
        return Ok(Vec::new());
    };
    let (mut dns, mut email, mut ip, mut uri, mut other) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for general in san.0 {
        match general {
            GeneralName::DnsName(s) => dns.push(s.to_string()),
            GeneralName::Rfc822Name(s) => email.push(s.to_string()),
            GeneralName::UniformResourceIdentifier(s) => uri.push(s.to_string()),
            GeneralName::IpAddress(bytes) => {
                let b = bytes.as_bytes();
                let addr = <[u8; 4]>::try_from(b)
                    .map(IpAddr::from)
                    .or_else(|_| <[u8; 16]>::try_from(b).map(IpAddr::from));
                if let Ok(addr) = addr {
                    ip.push(addr.to_string());
                }
            }
            GeneralName::OtherName(o) if o.type_id == OID_FULCIO_USERNAME => {
                let value =
                    Utf8StringRef::try_from(&o.value).map_err(|e| CertificateError::Malformed {
                        cert: name.to_string(),
                        what: "Fulcio username (other name)",
                        why: e.to_string(),
                    })?;
                other.push(value.to_string());
            }
            _ => {}
        }
    }
    Ok([dns, email, ip, uri, other].concat())
}

/// Fulcio's OIDC issuer: the DER UTF8String extension, else the deprecated
/// one holding the raw string.
fn oidc_issuer(name: &str, cert: &Parsed) -> Result<Option<String>, CertificateError> {
    let exts = cert
        .cert
        .tbs_certificate()
        .extensions()
        .map_or(&[][..], |v| v.as_slice());
    if let Some(ext) = exts.iter().find(|e| e.extn_id == OID_FULCIO_ISSUER_V2) {
        let value = Utf8StringRef::from_der(ext.extn_value.as_bytes()).map_err(|e| {
            CertificateError::Malformed {
                cert: name.to_string(),
                what: "OIDC issuer extension (1.3.6.1.4.1.57264.1.8)",
                why: e.to_string(),
            }
        })?;
        return Ok(Some(value.to_string()));
    }
    Ok(exts
        .iter()
        .find(|e| e.extn_id == OID_FULCIO_ISSUER_V1)
        .map(|e| String::from_utf8_lossy(e.extn_value.as_bytes()).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A small PKI made with openssl for these tests (see the comment on each
    // certificate): a P-256 root signs an Ed25519 intermediate with
    // ecdsa-with-SHA512, which signs P-384 leaves; an RSA root signs an RSA
    // leaf with RSASSA-PSS. Valid 2026-11-22 to 2036-11-19 at least.

    /// "O=chains test, CN=test root": CA, keyCertSign.
    const ROOT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBmDCCAT6gAwIBAgIUHtbe7ggdQX1txs22KIPgC/Hg8uowCgYIKoZIzj0EAwIw\n\
KjEUMBIGA1UECgwLY2hhaW5zIHRlc3QxEjAQBgNVBAMMCXRlc3Qgcm9vdDAeFw0y\n\
NjExMjIwNzQyNTBaFw00NjExMTcwNzQyNTBaMCoxFDASBgNVBAoMC2NoYWlucyB0\n\
ZXN0MRIwEAYDVQQDDAl0ZXN0IHJvb3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n\
AAQObG1DC8u1Uil/FsjI6ipHFLCPOetg2ebLJ9JsRHqCbragRBHuZGlv9AMTg39l\n\
F9ewlSPnh48/Avns8ve781/ao0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB\n\
/wQEAwIBBjAdBgNVHQ4EFgQU7e6CBm3r0ul2PcscdFgipTz291MwCgYIKoZIzj0E\n\
AwIDSAAwRQIgIlsd1mPW5bQsR0zjSlsbbLwEpMWjbFQ9dQQGgdOv5m8CIQDxmdLo\n\
bahD+6cry/RDxZuyciJJtcyGB6lTmDEmd0XXXg==\n\
-----END CERTIFICATE-----\n";
    /// "O=chains test, CN=test intermediate": CA with pathlen 0, EKU code signing.
    const INTER: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBqzCCAVCgAwIBAgIURTAjujS6Bq49Cyg3MleLWqhYEJYwCgYIKoZIzj0EAwQw\n\
KjEUMBIGA1UECgwLY2hhaW5zIHRlc3QxEjAQBgNVBAMMCXRlc3Qgcm9vdDAeFw0y\n\
NjExMjIwNzQyNTBaFw00NjAxMjEwNzQyNTBaMDIxFDASBgNVBAoMC2NoYWlucyB0\n\
ZXN0MRowGAYDVQQDDBF0ZXN0IGludGVybWVkaWF0ZTAqMAUGAytlcAMhAOdWx/gP\n\
gzK94ZVX7UpxEyRqvYW2j8ZxEoWMujJ17+A3o3sweTASBgNVHRMBAf8ECDAGAQH/\n\
AgEAMA4GA1UdDwEB/wQEAwIBBjATBgNVHSUEDDAKBggrBgEFBQcDAzAdBgNVHQ4E\n\
FgQUzRryyh+OqSt3dqsEWFeJ+pL3knIwHwYDVR0jBBgwFoAU7e6CBm3r0ul2Pcsc\n\
dFgipTz291MwCgYIKoZIzj0EAwQDSQAwRgIhAO9LqT44zrvEzCiDHzIhJ/CNsPDB\n\
gmjomNxPC3h9w9BNAiEAmQrvTgJSPsnt/vdscKjXSZybpKuY/Lpelq0IQfpt/N8=\n\
-----END CERTIFICATE-----\n";
    /// SAN email builder@example.com and Fulcio username builder-other; issuer
    /// extensions https://issuer.example (v2) and https://legacy.example (v1).
    const LEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIICSTCCAfugAwIBAgIURzI6aARYZc1rObTrGT4wceeZ6SQwBQYDK2VwMDIxFDAS\n\
BgNVBAoMC2NoYWlucyB0ZXN0MRowGAYDVQQDDBF0ZXN0IGludGVybWVkaWF0ZTAe\n\
Fw0yNjExMjIwNzQyNTBaFw0zNjExMTkwNzQyNTBaMAAwdjAQBgcqhkjOPQIBBgUr\n\
gQQAIgNiAASSk1orGAGornJuahsem6bG8FdbIi6olGEBNxRyqJH/4I6xTGNyk76m\n\
tjnCAVsdQj+R0po9hBhUFjaF+O2HO0Dz3sCWEp+0giobTwdICCDVd1i/5kyb/+cN\n\
VKJRZ3UauA2jggEHMIIBAzAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAT\n\
BgNVHSUEDDAKBggrBgEFBQcDAzBABgNVHREBAf8ENjA0gRNidWlsZGVyQGV4YW1w\n\
bGUuY29toB0GCisGAQQBg78wAQegDwwNYnVpbGRlci1vdGhlcjAkBgorBgEEAYO/\n\
MAEBBBZodHRwczovL2xlZ2FjeS5leGFtcGxlMCYGCisGAQQBg78wAQgEGAwWaHR0\n\
cHM6Ly9pc3N1ZXIuZXhhbXBsZTAdBgNVHQ4EFgQUW2FSfHjvvdVkFZKNoQVpn+6m\n\
+/UwHwYDVR0jBBgwFoAUzRryyh+OqSt3dqsEWFeJ+pL3knIwBQYDK2VwA0EAS/9T\n\
2Lu+nNpXnNJB7Dx1LMkMq5ohjmO6DE2wgQSXJkZFrg8HN+2Q6xL+fBXOPid8M5Vl\n\
oraD9atu/naQfnhqAw==\n\
-----END CERTIFICATE-----\n";
    /// As LEAF, without an extended key usage.
    const NOEKU: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIB3zCCAZGgAwIBAgIURzI6aARYZc1rObTrGT4wceeZ6SUwBQYDK2VwMDIxFDAS\n\
BgNVBAoMC2NoYWlucyB0ZXN0MRowGAYDVQQDDBF0ZXN0IGludGVybWVkaWF0ZTAe\n\
Fw0yNjExMjIwNzQyNTBaFw0zNjExMTkwNzQyNTBaMAAwdjAQBgcqhkjOPQIBBgUr\n\
gQQAIgNiAASSk1orGAGornJuahsem6bG8FdbIi6olGEBNxRyqJH/4I6xTGNyk76m\n\
tjnCAVsdQj+R0po9hBhUFjaF+O2HO0Dz3sCWEp+0giobTwdICCDVd1i/5kyb/+cN\n\
VKJRZ3UauA2jgZ4wgZswDgYDVR0PAQH/BAQDAgeAMCEGA1UdEQEB/wQXMBWBE2J1\n\
aWxkZXJAZXhhbXBsZS5jb20wJgYKKwYBBAGDvzABCAQYDBZodHRwczovL2lzc3Vl\n\
ci5leGFtcGxlMB0GA1UdDgQWBBRbYVJ8eO+91WQVko2hBWmf7qb79TAfBgNVHSME\n\
GDAWgBTNGvLKH46pK3d2qwRYV4n6kveScjAFBgMrZXADQQBzArlfkMbE5Qqtlb4e\n\
pBwMYypugn/LG26r6sqGwHzX/oxWD61wJagqqCgHtGAvzWocex5BnR/Ns3mIHmSS\n\
5/cP\n\
-----END CERTIFICATE-----\n";
    /// As LEAF, with a critical extension 1.2.3.4 nobody knows.
    const CRIT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIByjCCAXygAwIBAgIURzI6aARYZc1rObTrGT4wceeZ6SYwBQYDK2VwMDIxFDAS\n\
BgNVBAoMC2NoYWlucyB0ZXN0MRowGAYDVQQDDBF0ZXN0IGludGVybWVkaWF0ZTAe\n\
Fw0yNjExMjIwNzQyNTBaFw0zNjExMTkwNzQyNTBaMAAwdjAQBgcqhkjOPQIBBgUr\n\
gQQAIgNiAASSk1orGAGornJuahsem6bG8FdbIi6olGEBNxRyqJH/4I6xTGNyk76m\n\
tjnCAVsdQj+R0po9hBhUFjaF+O2HO0Dz3sCWEp+0giobTwdICCDVd1i/5kyb/+cN\n\
VKJRZ3UauA2jgYkwgYYwEwYDVR0lBAwwCgYIKwYBBQUHAwMwIQYDVR0RAQH/BBcw\n\
FYETYnVpbGRlckBleGFtcGxlLmNvbTAMBgMqAwQBAf8EAgUAMB0GA1UdDgQWBBRb\n\
YVJ8eO+91WQVko2hBWmf7qb79TAfBgNVHSMEGDAWgBTNGvLKH46pK3d2qwRYV4n6\n\
kveScjAFBgMrZXADQQBEkeXXdqF6OM12c4bvt2g/Tw33aqIvKUqWsqUvS05fYiS5\n\
FUPcCyx00YHvegcxv9n3FKfkV2CWa/3TLamB3MwN\n\
-----END CERTIFICATE-----\n";
    /// "CN=child", signed by LEAF's key (which is not a CA).
    const CHILD: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBqjCCATCgAwIBAgIUT/JAnv3RhJmv3eABh8tZ259RYMAwCgYIKoZIzj0EAwMw\n\
ADAeFw0yNjExMjIwNzQyNTBaFw0zNjExMTkwNzQyNTBaMBAxDjAMBgNVBAMMBWNo\n\
aWxkMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEy4N2J1LVgFoctJQpsYD6GDZ9\n\
vPPwDYJY8IXfhThUXMbAwlmohEEZ/5o2W/WZsWY8MGO9EAhn+/Sy7zgRgTmnt6N4\n\
MHYwEwYDVR0lBAwwCgYIKwYBBQUHAwMwHwYDVR0RAQH/BBUwE4ERY2hpbGRAZXhh\n\
bXBsZS5jb20wHQYDVR0OBBYEFM/Mra0wQwKOwg5yfo4lpjZ3FQ0IMB8GA1UdIwQY\n\
MBaAFFthUnx4773VZBWSjaEFaZ/upvv1MAoGCCqGSM49BAMDA2gAMGUCMB5YuUk8\n\
Z5UiCOV3W2kTJrwdM+ox6xCP+7lGVmus1lvoICKZlkVWsHYPuDAriScl3QIxAP1z\n\
D2SGebmCdlKz8mxpYtylw0t7G4iS4Q3kTnrqtEaXXPp+AmSlnyN9QPHCN2NteQ==\n\
-----END CERTIFICATE-----\n";
    /// "CN=rsa root": RSA 2048, CA.
    const RSAROOT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIC9jCCAd6gAwIBAgIUWIBEQJsh9qAJksB1WjO5jkRizkcwDQYJKoZIhvcNAQEL\n\
BQAwEzERMA8GA1UEAwwIcnNhIHJvb3QwHhcNMjYxMTIyMDc0MjUxWhcNNDYxMTE3\n\
MDc0MjUxWjATMREwDwYDVQQDDAhyc2Egcm9vdDCCASIwDQYJKoZIhvcNAQEBBQAD\n\
ggEPADCCAQoCggEBAKZ1Fg4gko6qnyhtKlC8lk78KPJ4wm6/ZCeWLgfaSpnnvU3Y\n\
P22jcWx4wvFPIs+k6fN/kwgO8je9QLsPGe5EFQB1sbO+S2URpdFDWHiGPuEPOVog\n\
CwV1feW1jkZu+IZ7QoYZYwKml/OU3d8MFxqTGki/IWHOOP7XYQL9qTQ9r4EVgfpv\n\
x1DTu8XpG7CnPZFg4/PmSWvrFUIPJYsPy7i6eDG7DQQZUCNcTFLqpnwhoDbj0ISM\n\
FsBHfyW/N5DONuion9kxhxl0FB7tGiP8hyeQcW9kn/MNUlDXk64avSJyKBXHtpkX\n\
vJJ12x4wZcjlFpJA9Hn4zAixHk/lfGkmI4oBMEcCAwEAAaNCMEAwDwYDVR0TAQH/\n\
BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFD5Cg+iU9WgTTqEh2gC7\n\
1X0sD5LrMA0GCSqGSIb3DQEBCwUAA4IBAQBvMOYg0HK5u0hEz1N5IVrkHF6E4F2Q\n\
n8u80sqjsyutl0ZJi669msoOiQb5286cBvZMMOJ7eVMjRjjKmWenYYVG4/K3IP8Z\n\
GsVSoriQZ3//EB8ELFWX4Sg2eqUx5o+5oNh7mQbFDX5MJm9BJb95A5e9QdpQaMQq\n\
LPap+nNz3dL50r9Cs7iCQyDJa2YmDckhcMzGrveABqzxyojbGSRt7ZiLR6UAXvj7\n\
u3JZNF1Tbu4wnE4yR4N8v/CC6lR8HwVsArwuyz2ZMy2vGBuCnGBBhJrmRYvqlN03\n\
l/3hsMwpQziXzwcgU3vwwHM9mHp7wxE+Co0wy9T2sMAcFI11yYY7vpmB\n\
-----END CERTIFICATE-----\n";
    /// Signed with RSASSA-PSS/SHA-256; SAN URI
    /// https://github.com/org/repo/.github/workflows/build.yml@refs/heads/main,
    /// only the deprecated issuer extension (https://token.actions.githubusercontent.com).
    const RSALEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIID9DCCAqigAwIBAgIUZ28Z5xLA4ZoMgQbzOGarj4gGpwgwQQYJKoZIhvcNAQEK\n\
MDSgDzANBglghkgBZQMEAgEFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgEF\n\
AKIDAgEgMBMxETAPBgNVBAMMCHJzYSByb290MB4XDTI2MTEyMjA3NDI1MVoXDTM2\n\
MTExOTA3NDI1MVowADCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAKZc\n\
ykjQeG8OEEkFRoYOFfnN7Hz/4YMYd5W7PgkHkmlubN8zDr/2z7Y4pqymvzt2afsF\n\
AMXXjFGMMVxvaU57KEOgVBN3NiMX76Hf5EixLkB1ehoFqP//iUQos42bdjKiYVZx\n\
I893fPUOh4AwbFcTB8pTe/P64/9+0vjG0A9T7z51jZWOIXJEeV9GvZ4xjySqYbMV\n\
XU5KOxZLBYoLxbR6ZRJrsFsftEFIFJEh2ty3BDlIFG6c3t7lvRsPna+UB0GHq51v\n\
gm7HaPjpx1McfycIG55jDHaa/gj2Fb3tqeeAr8w/MmVEVXFx2OR//c/awcKHhCAd\n\
Kqk6MQr40DSyVkVzl/cCAwEAAaOB6jCB5zATBgNVHSUEDDAKBggrBgEFBQcDAzBV\n\
BgNVHREBAf8ESzBJhkdodHRwczovL2dpdGh1Yi5jb20vb3JnL3JlcG8vLmdpdGh1\n\
Yi93b3JrZmxvd3MvYnVpbGQueW1sQHJlZnMvaGVhZHMvbWFpbjA5BgorBgEEAYO/\n\
MAEBBCtodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29t\n\
MB0GA1UdDgQWBBQpmkMnlVFRJ3AJgT7eKbmkKbqSyTAfBgNVHSMEGDAWgBQ+QoPo\n\
lPVoE06hIdoAu9V9LA+S6zBBBgkqhkiG9w0BAQowNKAPMA0GCWCGSAFlAwQCAQUA\n\
oRwwGgYJKoZIhvcNAQEIMA0GCWCGSAFlAwQCAQUAogMCASADggEBAA2p7Gmm+5ah\n\
r5wlvYPAlqFLWDYlucjIila1LnAHf8yd3sjyxgR8rcv3hbHyGhPydhxID0iAB+zj\n\
jqDlOgsv1Oem+QSNwYLvxR8QTwBFNKdEfN7PEEb73h9I0QiPsAoDdTMFKSLslc4N\n\
anM7jBWJM57XOTjetYmUuZBf0cmMPiCwkVJNV2xDfQ9d9AI0qqONtAY0HZawBzdD\n\
ZFxipJWsRw1JIX8VNW2e2p/8tHPFyV+qHqya0wEp4G3rmmH5NdPJ6AJvzIcA8euE\n\
Sn8ZQsootuXr/p2ZdYzg+Y3B/ndBnXwNM8LCPRPM/emxPKMA2Hy3jRnWmA2jooQI\n\
7zOof0xy4lI=\n\
-----END CERTIFICATE-----\n";

    /// Inside every test certificate's validity.
    const AT: i64 = 1_795_333_370 + 86_400;

    fn chain(cert: &str, above: &[&str]) -> CertificateChain {
        CertificateChain {
            certificate_pem: cert.to_string(),
            chain_pem: above.concat(),
        }
    }

    fn exact(s: &str) -> Option<Matcher> {
        Some(Matcher::Exact(s.to_string()))
    }

    fn regexp(s: &str) -> Option<Matcher> {
        Some(Matcher::Regexp(regex::Regex::new(s).unwrap()))
    }

    fn any() -> IdentityPolicy {
        IdentityPolicy::default()
    }

    fn der(pem: &str) -> Vec<u8> {
        crate::pem::decode(pem, &["CERTIFICATE"]).unwrap()
    }

    #[test]
    fn a_chain_through_an_intermediate_verifies() {
        let roots = Roots::from_pem(ROOT).unwrap();
        let policy = IdentityPolicy {
            identity: exact("builder@example.com"),
            issuer: exact("https://issuer.example"),
        };
        let v = verify(&chain(LEAF, &[INTER, ROOT]), &roots, &policy, AT).unwrap();
        assert_eq!(v.identity, "builder@example.com");
        // The v2 extension wins over the deprecated one.
        assert_eq!(v.issuer.as_deref(), Some("https://issuer.example"));
        assert_eq!(v.public_key.kind(), KeyKind::EcdsaP384);
        assert!(v.not_before <= AT && AT <= v.not_after);
        let leaf = Certificate::from_der(&der(LEAF)).unwrap();
        let spki = leaf
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        assert_eq!(v.public_key.spki_der(), spki);

        // Fulcio's other-name username is an identity too.
        let policy = IdentityPolicy {
            identity: exact("builder-other"),
            issuer: None,
        };
        let v = verify(&chain(LEAF, &[INTER]), &roots, &policy, AT).unwrap();
        assert_eq!(v.identity, "builder-other");

        // The intermediate may come with the roots instead of the chain, or
        // follow the leaf in its own PEM.
        let mut with_inter = Roots::from_pem(ROOT).unwrap();
        with_inter.add_intermediates_pem(INTER).unwrap();
        verify(&chain(LEAF, &[]), &with_inter, &any(), AT).unwrap();
        verify(&chain(&format!("{LEAF}{INTER}"), &[]), &roots, &any(), AT).unwrap();
    }

    #[test]
    fn rsa_pss_and_the_deprecated_issuer_extension() {
        let roots = Roots::from_pem(RSAROOT).unwrap();
        let policy = IdentityPolicy {
            identity: regexp(r"github\.com/org/"),
            issuer: exact("https://token.actions.githubusercontent.com"),
        };
        let v = verify(&chain(RSALEAF, &[]), &roots, &policy, AT).unwrap();
        assert_eq!(
            v.identity,
            "https://github.com/org/repo/.github/workflows/build.yml@refs/heads/main"
        );
        assert_eq!(v.public_key.kind(), KeyKind::Rsa);

        // Unanchored, as Go's MatchString: anchoring is the user's job.
        let policy = IdentityPolicy {
            identity: regexp(r"^github\.com/org/"),
            issuer: None,
        };
        let err = verify(&chain(RSALEAF, &[]), &roots, &policy, AT).unwrap_err();
        assert!(
            matches!(err, CertificateError::IdentityMismatch { .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "certificate identity \"https://github.com/org/repo/.github/workflows/build.yml@refs/heads/main\" \
             does not match regexp \"^github\\\\.com/org/\""
        );
    }

    #[test]
    fn identity_and_issuer_mismatches_are_named() {
        let roots = Roots::from_pem(ROOT).unwrap();
        let c = chain(LEAF, &[INTER, ROOT]);
        let policy = IdentityPolicy {
            identity: exact("someone@example.com"),
            issuer: exact("https://issuer.example"),
        };
        let err = verify(&c, &roots, &policy, AT).unwrap_err().to_string();
        assert_eq!(
            err,
            "certificate identity \"builder@example.com\", \"builder-other\" does not match \"someone@example.com\""
        );
        let policy = IdentityPolicy {
            identity: None,
            issuer: exact("https://legacy.example"),
        };
        let err = verify(&c, &roots, &policy, AT).unwrap_err().to_string();
        assert_eq!(
            err,
            "certificate OIDC issuer \"https://issuer.example\" does not match \"https://legacy.example\""
        );
        let policy = IdentityPolicy {
            identity: None,
            issuer: regexp("issuer"),
        };
        verify(&c, &roots, &policy, AT).unwrap();
    }

    #[test]
    fn validity_is_checked_at_the_given_time() {
        let roots = Roots::from_pem(ROOT).unwrap();
        let c = chain(LEAF, &[INTER]);
        let v = verify(&c, &roots, &any(), AT).unwrap();
        verify(&c, &roots, &any(), v.not_before).unwrap();
        verify(&c, &roots, &any(), v.not_after).unwrap();
        let err = verify(&c, &roots, &any(), v.not_after + 1).unwrap_err();
        assert!(matches!(err, CertificateError::Expired { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("certificate 0 (the leaf) expired at 2036-11-"),
            "{err}"
        );
        let err = verify(&c, &roots, &any(), v.not_before - 1).unwrap_err();
        assert!(matches!(err, CertificateError::NotYetValid { .. }), "{err}");
        // Times no certificate format can hold are just invalid.
        for at in [i64::MIN, i64::MAX] {
            assert!(verify(&c, &roots, &any(), at).is_err());
        }
    }

    #[test]
    fn paths_that_do_not_reach_a_trusted_root_are_refused() {
        // No intermediate anywhere.
        let roots = Roots::from_pem(ROOT).unwrap();
        let err = verify(&chain(LEAF, &[]), &roots, &any(), AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the chain does not lead to a trusted root: certificate 0 (the leaf) is issued by \
             \"CN=test intermediate,O=chains test\", which is neither a trusted root nor an \
             intermediate leading to one"
        );

        // The chain's own root is not trusted just for being there.
        let other = Roots::from_pem(RSAROOT).unwrap();
        let err = verify(&chain(LEAF, &[INTER, ROOT]), &other, &any(), AT).unwrap_err();
        assert!(matches!(err, CertificateError::Untrusted { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("certificate 1 (\"CN=test intermediate,O=chains test\")"),
            "{err}"
        );

        // Trusting the intermediate itself is enough (it is an anchor).
        let inter = Roots::from_pem(INTER).unwrap();
        verify(&chain(LEAF, &[]), &inter, &any(), AT).unwrap();
    }

    #[test]
    fn issuers_must_be_fit_to_issue() {
        // CHILD is signed by LEAF, which is no CA.
        let roots = Roots::from_pem(ROOT).unwrap();
        let err = verify(&chain(CHILD, &[LEAF, INTER]), &roots, &any(), AT).unwrap_err();
        assert!(matches!(err, CertificateError::NotCa { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "certificate 1 signed a certificate but is not a CA (basicConstraints cA is not set)"
        );
        // Even as a trusted root.
        let leaf_root = Roots::from_pem(LEAF).unwrap();
        let err = verify(&chain(CHILD, &[]), &leaf_root, &any(), AT).unwrap_err();
        assert!(matches!(err, CertificateError::NotCa { .. }), "{err}");
    }

    #[test]
    fn the_leaf_must_be_for_code_signing_and_fully_understood() {
        let roots = Roots::from_pem(ROOT).unwrap();
        let err = verify(&chain(NOEKU, &[INTER]), &roots, &any(), AT).unwrap_err();
        assert!(matches!(err, CertificateError::NoCodeSigning), "{err}");
        let err = verify(&chain(CRIT, &[INTER]), &roots, &any(), AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "certificate 0 (the leaf) has a critical extension 1.2.3.4 that is not supported"
        );
    }

    #[test]
    fn a_changed_certificate_does_not_verify() {
        let roots = Roots::from_pem(ROOT).unwrap();
        let mut bytes = der(LEAF);
        let at = bytes.windows(11).position(|w| w == b"example.com").unwrap();
        bytes[at] ^= 0x20; // "Example.com": still a valid certificate
        let changed = crate::pem::encode("CERTIFICATE", &bytes);
        let err = verify(&chain(&changed, &[INTER, ROOT]), &roots, &any(), AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the signature of certificate 0 (the leaf) by its issuer \
             \"CN=test intermediate,O=chains test\" does not verify"
        );

        // A changed signature, likewise.
        let mut bytes = der(LEAF);
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let changed = crate::pem::encode("CERTIFICATE", &bytes);
        let err = verify(&chain(&changed, &[INTER]), &roots, &any(), AT).unwrap_err();
        assert!(
            matches!(err, CertificateError::BadSignature { .. }),
            "{err}"
        );
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        let roots = Roots::from_pem(ROOT).unwrap();
        let cases = [
            ("", "the certificate is not PEM: no CERTIFICATE block"),
            ("hello", "the certificate is not PEM: no PEM block"),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA",
                "the certificate is not PEM: no -----END CERTIFICATE----- line",
            ),
            (
                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                "the certificate is not PEM: certificate 0: Invalid symbol 33, offset 0.",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                "the certificate is not PEM: no CERTIFICATE block",
            ),
        ];
        for (pem, want) in cases {
            let err = verify(&chain(pem, &[]), &roots, &any(), AT).unwrap_err();
            assert_eq!(err.to_string(), want, "{pem:?}");
        }
        let err = verify(
            &chain(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                &[],
            ),
            &roots,
            &any(),
            AT,
        )
        .unwrap_err();
        assert!(
            matches!(err, CertificateError::NotCertificate { .. }),
            "{err}"
        );

        assert!(Roots::from_pem("").is_err());
        assert!(Roots::from_pem("-----BEGIN X-----\n-----END X-----\n").is_err());
        assert!(Roots::default().is_empty());
        assert!(!roots.is_empty());
        assert!(roots.clone().add_intermediates_pem("junk").is_err());

        // Every truncation and every flipped byte of the leaf: an error or,
        // where the change is outside what is signed, a verified chain.
        let good = der(LEAF);
        for len in 0..good.len() {
            let pem = crate::pem::encode("CERTIFICATE", &good[..len]);
            assert!(verify(&chain(&pem, &[INTER]), &roots, &any(), AT).is_err());
        }
        for i in 0..good.len() {
            let mut bytes = good.clone();
            bytes[i] ^= 0x41;
            let pem = crate::pem::encode("CERTIFICATE", &bytes);
            let _ = verify(&chain(&pem, &[INTER]), &roots, &any(), AT);
        }
    }

    #[test]
    fn long_chains_are_refused_before_any_work() {
        let roots = Roots::from_pem(ROOT).unwrap();
        let many = vec![INTER; MAX_CHAIN];
        let err = verify(&chain(LEAF, &many), &roots, &any(), AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the certificate chain has 11 certificates; at most 10 are accepted"
        );
        // Not even a certificate's worth of garbage is decoded past the limit.
        let junk = "-----BEGIN CERTIFICATE-----\n!\n-----END CERTIFICATE-----\n".repeat(1000);
        let err = verify(&chain(LEAF, &[&junk]), &roots, &any(), AT).unwrap_err();
        assert!(
            matches!(err, CertificateError::ChainTooLong { count: 1000 }),
            "{err}"
        );
        // Duplicates within the limit are harmless.
        let some = vec![INTER; MAX_CHAIN - 1];
        verify(&chain(LEAF, &some), &roots, &any(), AT).unwrap();
    }

    #[test]
    fn matchers() {
        assert!(Matcher::Exact("a@b".into()).matches("a@b"));
        assert!(!Matcher::Exact("a@b".into()).matches("a@b "));
        let re = Matcher::Regexp(regex::Regex::new(r"@example\.com").unwrap());
        assert!(re.matches("me@example.com"));
        assert!(re.matches("me@example.com.evil.net"));
        assert!(!re.matches("me@example.org"));
        assert_eq!(Matcher::Exact("x".into()).to_string(), "\"x\"");
        assert_eq!(re.to_string(), "regexp \"@example\\\\.com\"");
    }
}
