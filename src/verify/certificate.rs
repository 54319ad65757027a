//! Keyless verification: a signing certificate (Fulcio's, or any CA's) is
//! checked up to a trusted root and its identity against a policy, as
//! `cosign verify --certificate-identity[-regexp] --certificate-oidc-issuer[-regexp]`
//! does with Go's `x509.Certificate.Verify`.
//!
//! What is checked, in order:
//! 1. the leaf has the code-signing extended key usage (Fulcio always sets
//!    it; Go would also accept a leaf with no EKU at all, we do not) and no
//!    critical extension we do not interpret;
//! 2. a path leads from the leaf through intermediates (the chain presented
//!    with the certificate, and the CAs' own) to the root of a CA whose
//!    validity window in the trusted root holds the signing time. Path
//!    building and checking is rustls-webpki's ([`crate::trust::path`]):
//!    signatures, every certificate valid at that time, issuers are CAs and
//!    the leaf is not, pathLenConstraint, name constraints, EKUs. It
//!    replaced a hand-written path builder: a well-kept, fuzzed crate that
//!    was already in the tree through rustls;
//! 3. the SCTs embedded in the leaf against the trusted root's CT logs
//!    ([`crate::trust::sct`]), unless `--insecure-ignore-sct` or no CT log
//!    is trusted (the shortcut `--ca-roots` names none), which the result
//!    says ([`SctCheck`]);
//! 4. the subject alternative names and the Fulcio OIDC-issuer extension
//!    against the policy.
//!
//! The time is the caller's, and must be a trusted one: cosign checks a
//! Fulcio certificate (valid for ten minutes) at the time the transparency
//! log or a timestamp authority vouches for, not at the time of
//! verification.

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::Name;

use crate::sign::{CertificateChain, PublicKey};
use crate::trust::path::PathError;
use crate::trust::sct::SctError;
use crate::trust::{self, CertificateAuthority, TransparencyLog, TrustedRoot};

/// The most certificates accepted with a signature: far more than any real
/// PKI uses (Fulcio's is three), few enough that a hostile chain costs
/// nothing (webpki bounds its own path search too).
pub const MAX_CHAIN: usize = 10;

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
}

impl Parsed {
    fn parse(der: Vec<u8>, what: &str) -> Result<Parsed, CertificateError> {
        let bad = |why: String| CertificateError::NotCertificate {
            what: what.to_string(),
            why,
        };
        let cert = Certificate::from_der(&der).map_err(|e| bad(e.to_string()))?;
        // RFC 5280 4.1.1.2; Go refuses such certificates when parsing.
        if cert.signature_algorithm() != cert.tbs_certificate().signature() {
            return Err(bad(
                "the signature algorithm inside and outside the signed part differ".into(),
            ));
        }
        Ok(Parsed { der, cert })
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

    /// basicConstraints cA.
    fn is_ca(&self) -> bool {
        self.cert
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, bc)| bc.ca)
    }

    fn subject(&self) -> &Name {
        self.cert.tbs_certificate().subject()
    }

    fn issuer(&self) -> &Name {
        self.cert.tbs_certificate().issuer()
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

/// The CAs keyless certificates are checked against, and how their SCTs are.
#[derive(Clone, Debug, Default)]
pub struct Roots {
    /// Each CA's root is a trust anchor while its window holds.
    authorities: Vec<CertificateAuthority>,
    /// The trusted root's CT logs: embedded SCTs must verify with one.
    ctlogs: Vec<TransparencyLog>,
    /// `--insecure-ignore-sct`.
    ignore_sct: bool,
}

impl Roots {
    /// Every `CERTIFICATE` in `pem` is a trust anchor (`--ca-roots`), with
    /// no validity window.
    pub fn from_pem(pem: &str) -> Result<Roots, CertificateError> {
        let roots = certificates_from_pem(pem, "the trusted roots")?;
        let trusted = TrustedRoot::from_shortcuts(&roots, &[], &[]);
        Ok(Roots {
            authorities: trusted.certificate_authorities,
            ..Roots::default()
        })
    }

    /// Add every `CERTIFICATE` in `pem` as an intermediate (`--ca-intermediates`):
    /// used to build a path, trusted only through a root.
    pub fn add_intermediates_pem(&mut self, pem: &str) -> Result<(), CertificateError> {
        let found = certificates_from_pem(pem, "the intermediate certificates")?;
        for ca in &mut self.authorities {
            let root = ca.certificates.pop();
            ca.certificates.extend(found.iter().cloned());
            ca.certificates.extend(root);
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.authorities.is_empty()
    }

    /// The Fulcio CAs (each trusted within its window) and CT logs of a
    /// trusted root.
    pub fn from_trusted_root(root: &TrustedRoot) -> Result<Roots, CertificateError> {
        Ok(Roots {
            authorities: root.certificate_authorities.clone(),
            ctlogs: root.ctlogs.clone(),
            ignore_sct: false,
        })
    }

    /// Do not check SCTs (`--insecure-ignore-sct`, as cosign).
    pub fn ignore_sct(&mut self) {
        self.ignore_sct = true;
    }
}

/// The DER of every `CERTIFICATE` in `pem`, each checked to parse; `what`
/// names the text in errors.
pub fn certificates_from_pem(pem: &str, what: &str) -> Result<Vec<Vec<u8>>, CertificateError> {
    let found = parse_all(pem, what, None)?;
    if found.is_empty() {
        return Err(CertificateError::NotPem {
            what: what.into(),
            why: "no CERTIFICATE block".into(),
        });
    }
    Ok(found.into_iter().map(|p| p.der).collect())
}

/// What was done with the certificate's embedded SCTs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SctCheck {
    /// This many SCTs verified with trusted CT logs.
    Verified(usize),
    /// Not checked, and why (`--insecure-ignore-sct`, or no CT log trusted).
    NotChecked(&'static str),
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
    pub sct: SctCheck,
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
    #[error("no trusted CA was valid at {at} (each CA of the trusted root has a validity window)")]
    NoCaAt { at: String },
    #[error("the signature of {cert} by its issuer \"{issuer}\" does not verify")]
    BadSignature { cert: String, issuer: String },
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
    #[error(
        "the leaf certificate is a CA certificate (basicConstraints cA): a CA does not sign artifacts"
    )]
    LeafIsCa,
    #[error("an issuer on the path restricts its extended key usage, and not to code signing")]
    IssuerNotForCodeSigning,
    #[error("the leaf certificate has no code-signing extended key usage")]
    NoCodeSigning,
    #[error("{cert} has a critical extension {oid} that is not supported")]
    UnsupportedCriticalExtension { cert: String, oid: String },
    #[error("no valid path to a trusted root: {0}")]
    Path(String),
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
    #[error("{0} (pass --insecure-ignore-sct to skip this check, as cosign)")]
    Sct(#[from] SctError),
}

/// Verify the leaf of `chain` up to one of `roots` valid at unix time `at`
/// (the trusted signing time: from a verified log entry or timestamp), every
/// certificate on the path valid then, its embedded SCTs, and its identity
/// against `policy`.
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
    check_critical(&leaf_name, &leaf)?;
    let eku = extension::<ExtendedKeyUsage>(&leaf_name, &leaf, "extended key usage")?;
    if !eku.is_some_and(|eku| eku.0.contains(&OID_CODE_SIGNING)) {
        return Err(CertificateError::NoCodeSigning);
    }

    let when = time::OffsetDateTime::from_unix_timestamp(at).map_err(|_| {
        CertificateError::Path(format!("the signing time {at} is not a valid time"))
    })?;
    let authorities: Vec<&CertificateAuthority> = roots.authorities.iter().collect();
    let presented_der: Vec<Vec<u8>> = presented.iter().map(|p| p.der.clone()).collect();
    let path = trust::path::verify(
        &leaf.der,
        &presented_der,
        &authorities,
        when,
        trust::path::EKU_CODE_SIGNING,
    )
    .map_err(|e| path_error(e, &leaf, &presented, roots, at))?;

    let sct = if roots.ignore_sct {
        SctCheck::NotChecked("--insecure-ignore-sct")
    } else if roots.ctlogs.is_empty() {
        SctCheck::NotChecked("no CT log is trusted (give a --trusted-root with ctlogs)")
    } else {
        let found = trust::sct::verify_embedded(&leaf.der, &path.issuer_spki, &roots.ctlogs)?;
        SctCheck::Verified(found.len())
    };

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
        sct,
    })
}

/// The presented certificates above the leaf, followed by name (each the
/// issuer of the one before; a self-signed one ends the walk): the path as
/// the presenter meant it, to name the certificate a verdict is about.
fn walk<'a>(leaf: &'a Parsed, presented: &'a [Parsed]) -> Vec<&'a Parsed> {
    let mut path = vec![leaf];
    while path.len() <= MAX_CHAIN {
        let Some(last) = path.last() else { break };
        let next = presented.iter().find(|c| {
            c.subject() == last.issuer()
                && c.subject() != c.issuer()
                && !path.iter().any(|p| p.der == c.der)
        });
        match next {
            Some(c) => path.push(c),
            None => break,
        }
    }
    path
}

/// webpki's verdict in this module's terms. webpki does not say which
/// certificate failed: the presented path (followed by name) and the
/// leaf's own bounds tell which one it is about.
fn path_error(
    e: PathError,
    leaf: &Parsed,
    presented: &[Parsed],
    roots: &Roots,
    at: i64,
) -> CertificateError {
    let path = walk(leaf, presented);
    let leaf_name = describe(0, leaf);
    let (top_index, top) = (path.len() - 1, path[path.len() - 1]);
    let secs = |t: rustls_pki_types::UnixTime| i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    let which = |bound: i64, own: i64| {
        if bound == own {
            leaf_name.clone()
        } else {
            "a certificate above the leaf".to_string()
        }
    };
    let issuer = leaf.issuer().to_string();
    match e {
        PathError::NoAuthority => CertificateError::NoCaAt {
            at: format_time(at),
        },
        PathError::BadTime => CertificateError::Path(format!(
            "the signing time {} is before 1970",
            format_time(at)
        )),
        PathError::RootNotCa(root) => CertificateError::NotCa {
            cert: format!("the trusted root \"{root}\""),
        },
        PathError::Webpki(e) => match e {
            webpki::Error::UnknownIssuer => CertificateError::Untrusted {
                cert: describe(top_index, top),
                issuer: top.issuer().to_string(),
            },
            // The chain's own root, untrusted, shares its name with a
            // trusted one: the path leads to a stranger, not to a forgery.
            webpki::Error::InvalidSignatureForPublicKey
                if presented.iter().any(|c| {
                    c.subject() == top.issuer()
                        && c.subject() == c.issuer()
                        && !roots
                            .authorities
                            .iter()
                            .any(|ca| ca.root() == Some(c.der.as_slice()))
                }) =>
            {
                CertificateError::Untrusted {
                    cert: describe(top_index, top),
                    issuer: top.issuer().to_string(),
                }
            }
            webpki::Error::InvalidSignatureForPublicKey => CertificateError::BadSignature {
                cert: leaf_name.clone(),
                issuer,
            },
            webpki::Error::CertExpired { not_after, .. } => CertificateError::Expired {
                cert: which(secs(not_after), leaf.not_after()),
                not_after: format_time(secs(not_after)),
                at: format_time(at),
            },
            webpki::Error::CertNotValidYet { not_before, .. } => CertificateError::NotYetValid {
                cert: which(secs(not_before), leaf.not_before()),
                not_before: format_time(secs(not_before)),
                at: format_time(at),
            },
            webpki::Error::CaUsedAsEndEntity => CertificateError::LeafIsCa,
            webpki::Error::EndEntityUsedAsCa => CertificateError::NotCa {
                cert: path
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|(_, c)| !c.is_ca())
                    .map_or_else(|| "an issuer on the path".into(), |(i, c)| describe(i, c)),
            },
            webpki::Error::RequiredEkuNotFoundContext(_) => {
                CertificateError::IssuerNotForCodeSigning
            }
            webpki::Error::UnsupportedCriticalExtension => {
                CertificateError::UnsupportedCriticalExtension {
                    cert: "a certificate on the path".into(),
                    oid: "(webpki does not say which)".into(),
                }
            }
            other => CertificateError::Path(format!("{other}")),
        },
    }
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

const OID_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
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
    use crate::sign::KeyKind;

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

    /// "O=chains test, CN=ca-leaf test root": CA, signs CALEAF (openssl, 2026-12-06 to 2046-12-01).
    const CALEAF_ROOT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIByjCCAW+gAwIBAgIUBAMffukL0TCKx/ELFFx0YJjyoPwwCgYIKoZIzj0EAwIw\n\
MjEUMBIGA1UECgwLY2hhaW5zIHRlc3QxGjAYBgNVBAMMEWNhLWxlYWYgdGVzdCBy\n\
b290MB4XDTI2MTIwNjExNTIyM1oXDTQ2MTIwMTExNTIyM1owMjEUMBIGA1UECgwL\n\
Y2hhaW5zIHRlc3QxGjAYBgNVBAMMEWNhLWxlYWYgdGVzdCByb290MFkwEwYHKoZI\n\
zj0CAQYIKoZIzj0DAQcDQgAEq3S0Kehqb7AjEt4ZTEPZnuwf4G0FiqpAXJtIhyWN\n\
a8jR4C46CavTN2GqtVeQD0goJhl/Ic+HeeW5Q6QwjmBFq6NjMGEwHQYDVR0OBBYE\n\
FEmPVckk4lYZIBqecrbzykrOqy3uMB8GA1UdIwQYMBaAFEmPVckk4lYZIBqecrbz\n\
ykrOqy3uMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMAoGCCqGSM49\n\
BAMCA0kAMEYCIQDWplqkJ220/UqzdZYL/aTX26hlJ+GWyS5Ek2H3h9o5gQIhAPDS\n\
2vur+VOagI9dS73LfZmOEF6PzvmThwO6Mxe5lW6C\n\
-----END CERTIFICATE-----\n\
";

    /// "CN=a CA as leaf": basicConstraints cA, codeSigning, email ca@example.com.
    const CALEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIB9TCCAZygAwIBAgIUXV/bfyMA/GMuvAumI6UyadNQLIowCgYIKoZIzj0EAwIw\n\
MjEUMBIGA1UECgwLY2hhaW5zIHRlc3QxGjAYBgNVBAMMEWNhLWxlYWYgdGVzdCBy\n\
b290MB4XDTI2MTIwNjExNTIyM1oXDTQ2MTIwMTExNTIyM1owLTEUMBIGA1UECgwL\n\
Y2hhaW5zIHRlc3QxFTATBgNVBAMMDGEgQ0EgYXMgbGVhZjBZMBMGByqGSM49AgEG\n\
CCqGSM49AwEHA0IABGgGfs0in+9pUkq0BnU2AImBvREkMYjJ8N57Q+I3wB/Qt9vZ\n\
ppPxycYxdsee7Wjtdm09j/QkZTSBORVE+TLVEW2jgZQwgZEwDwYDVR0TAQH/BAUw\n\
AwEB/zAOBgNVHQ8BAf8EBAMCAoQwEwYDVR0lBAwwCgYIKwYBBQUHAwMwGQYDVR0R\n\
BBIwEIEOY2FAZXhhbXBsZS5jb20wHQYDVR0OBBYEFIjh2gy5fdJtlBhqY1XN13s2\n\
iBImMB8GA1UdIwQYMBaAFEmPVckk4lYZIBqecrbzykrOqy3uMAoGCCqGSM49BAMC\n\
A0cAMEQCICVv3pJGEopC0OvCRUcTuy6Aqrwzvho/JfWUyJf08fzBAiAk1nitBJSx\n\
g/HUrGDv6yLA80rOwi2FtFbklJmdXu/d0w==\n\
-----END CERTIFICATE-----\n\
";

    /// Upstream Fulcio certificates (../shared/sigstore-vectors) verify
    /// with their trusted root at their log entry's time, SCT included,
    /// and not when no CA of the root is valid then.
    #[test]
    fn upstream_fulcio_certificates_verify_at_their_signing_time() {
        let Some(dir) = crate::trust::vectors_dir() else {
            return;
        };
        for (bundle, root, identity) in [
            (
                "cosign/pkg/cosign/testdata/oci-attestation.sigstore.json",
                "cosign/pkg/cosign/testdata/trusted_root_pgi.json",
                "cody@soyland.com",
            ),
            (
                "sigstore-go/examples/bundle-provenance.json",
                "sigstore-go/examples/trusted-root-public-good.json",
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
            ),
            (
                "sigstore-python/assets/bundle_v3.txt.sigstore",
                "sigstore-python/staging-trusted_root.json",
                "william@yossarian.net",
            ),
        ] {
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join(bundle)).unwrap()).unwrap();
            let material = &json["verificationMaterial"];
            let ders: Vec<String> = match material["certificate"]["rawBytes"].as_str() {
                Some(one) => vec![one.to_string()],
                None => material["x509CertificateChain"]["certificates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["rawBytes"].as_str().unwrap().to_string())
                    .collect(),
            };
            let pem = |b64: &str| crate::pem::encode("CERTIFICATE", &STANDARD.decode(b64).unwrap());
            let presented = CertificateChain {
                certificate_pem: pem(&ders[0]),
                chain_pem: ders[1..].iter().map(|d| pem(d)).collect(),
            };
            let at: i64 = material["tlogEntries"][0]["integratedTime"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let trusted = TrustedRoot::from_file(&dir.join(root)).unwrap();
            let roots = Roots::from_trusted_root(&trusted).unwrap();
            let v = verify(
                &presented,
                &roots,
                &IdentityPolicy {
                    identity: exact(identity),
                    issuer: None,
                },
                at,
            )
            .unwrap_or_else(|e| panic!("{bundle}: {e}"));
            assert!(matches!(v.sct, SctCheck::Verified(n) if n >= 1), "{bundle}");
            // Ten minutes later the certificate has expired.
            let err = verify(&presented, &roots, &any(), at + 3600).unwrap_err();
            assert!(matches!(err, CertificateError::Expired { .. }), "{err}");
            // Before any CA of the root was valid.
            let err = verify(&presented, &roots, &any(), 1_000_000_000).unwrap_err();
            assert!(matches!(err, CertificateError::NoCaAt { .. }), "{err}");
            // --insecure-ignore-sct.
            let mut no_sct = roots.clone();
            no_sct.ignore_sct();
            let v = verify(&presented, &no_sct, &any(), at).unwrap();
            assert_eq!(v.sct, SctCheck::NotChecked("--insecure-ignore-sct"));
        }
    }

    #[test]
    fn a_ca_certificate_is_no_leaf() {
        let roots = Roots::from_pem(CALEAF_ROOT).unwrap();
        let at = 1_800_000_000; // 2027
        let err = verify(&chain(CALEAF, &[]), &roots, &any(), at).unwrap_err();
        assert!(matches!(err, CertificateError::LeafIsCa), "{err}");
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
