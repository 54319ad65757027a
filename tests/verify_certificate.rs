//! Keyless certificate verification against certificates issued by the
//! Sigstore JS team's Fulcio mock (`@sigstore/mock`, behind
//! tests/tools/sigstore-mock/server.js; needs
//! `npm ci --prefix tests/tools/sigstore-mock`). Each mock process makes a
//! fresh CA, so a second one is a stranger whose root has the same name.

use crate::common;

use chains::pem;
use chains::sign::fulcio::{self, FulcioOptions};
use chains::sign::{CertificateChain, SharedSigner};
use chains::verify::certificate::{
    CertificateError, IdentityPolicy, Matcher, Roots, VerifiedCertificate, verify,
};
use common::Service;
use common::sigstore_mock::{start as mock, unsigned_jwt, url};
use serde_json::json;

const K8S_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const K8S_SUBJECT: &str = "system:serviceaccount:tekton-chains:tekton-chains-controller";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A Kubernetes service-account token, as Chains' controller would present
/// (the mock checks no token signature).
fn k8s_token() -> String {
    unsigned_jwt(json!({
        "iss": K8S_ISSUER,
        "sub": K8S_SUBJECT,
        "aud": ["sigstore"],
        "iat": now(),
        "exp": now() + 600,
    }))
}

/// A keyless signer with a certificate from `service`.
fn signer(service: &Service) -> SharedSigner {
    fulcio::load(&FulcioOptions {
        url: url(service),
        identity_token: k8s_token(),
    })
    .expect("a certificate from the mock")
}

/// The CA root the mock publishes.
fn root_pem(service: &Service) -> String {
    reqwest::blocking::get(format!("{}/api/v1/rootCert", url(service)))
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .unwrap()
}

fn policy(identity: Option<Matcher>, issuer: Option<Matcher>) -> IdentityPolicy {
    IdentityPolicy { identity, issuer }
}

fn exact(s: &str) -> Option<Matcher> {
    Some(Matcher::Exact(s.to_string()))
}

fn regexp(s: &str) -> Option<Matcher> {
    Some(Matcher::Regexp(regex::Regex::new(s).unwrap()))
}

fn good(chain: &CertificateChain, roots: &Roots) -> VerifiedCertificate {
    let p = policy(exact(K8S_SUBJECT), exact(K8S_ISSUER));
    verify(chain, roots, &p, now()).expect("the mock's certificate verifies")
}

#[test]
fn a_fulcio_certificate_verifies_with_exact_and_regexp_policies() {
    let service = mock();
    let signer = signer(&service);
    let chain = signer.certificate().unwrap().clone();
    let roots = Roots::from_pem(&root_pem(&service)).unwrap();

    let v = good(&chain, &roots);
    assert_eq!(v.identity, K8S_SUBJECT);
    assert_eq!(v.issuer.as_deref(), Some(K8S_ISSUER));
    // The certified key is the signer's, and checks its signatures.
    assert_eq!(&v.public_key, signer.public_key());
    let sig = signer.sign(b"payload").unwrap();
    assert!(v.public_key.verify(b"payload", &sig));
    // Fulcio's ten minutes (the mock copies them).
    assert_eq!(v.not_after - v.not_before, 600);

    for (identity, issuer) in [
        (
            r"^system:serviceaccount:tekton-chains:",
            r"^https://kubernetes\.default\.",
        ),
        // Unanchored, as cosign's regexp.MatchString.
        ("tekton-chains-controller", "cluster"),
        (".*", ".*"),
    ] {
        let p = policy(regexp(identity), regexp(issuer));
        let v = verify(&chain, &roots, &p, now()).unwrap_or_else(|e| panic!("{identity}: {e}"));
        assert_eq!(v.identity, K8S_SUBJECT);
    }
    // No policy: the chain alone.
    verify(&chain, &roots, &policy(None, None), now()).unwrap();
    // The leaf alone, as sigstore bundles v0.3 carry it.
    let bare = CertificateChain {
        certificate_pem: chain.certificate_pem.clone(),
        chain_pem: String::new(),
    };
    good(&bare, &roots);
}

#[test]
fn another_identity_or_issuer_is_rejected_by_name() {
    let service = mock();
    let chain = signer(&service).certificate().unwrap().clone();
    let roots = Roots::from_pem(&root_pem(&service)).unwrap();

    let cases = [
        (
            policy(
                exact("system:serviceaccount:default:default"),
                exact(K8S_ISSUER),
            ),
            format!(
                "certificate identity \"{K8S_SUBJECT}\" does not match \
                 \"system:serviceaccount:default:default\""
            ),
        ),
        (
            // Anchored, the regexp must match from the start.
            policy(regexp("^tekton-chains-controller"), None),
            format!(
                "certificate identity \"{K8S_SUBJECT}\" does not match \
                 regexp \"^tekton-chains-controller\""
            ),
        ),
        (
            policy(
                exact(K8S_SUBJECT),
                exact("https://token.actions.githubusercontent.com"),
            ),
            format!(
                "certificate OIDC issuer \"{K8S_ISSUER}\" does not match \
                 \"https://token.actions.githubusercontent.com\""
            ),
        ),
        (
            policy(None, regexp(r"^https://accounts\.google\.com$")),
            format!(
                "certificate OIDC issuer \"{K8S_ISSUER}\" does not match \
                 regexp \"^https://accounts\\\\.google\\\\.com$\""
            ),
        ),
    ];
    for (p, want) in cases {
        let err = verify(&chain, &roots, &p, now()).unwrap_err();
        assert!(
            matches!(
                err,
                CertificateError::IdentityMismatch { .. } | CertificateError::IssuerMismatch { .. }
            ),
            "{err:?}"
        );
        assert_eq!(err.to_string(), want);
    }
}

#[test]
fn another_fulcio_root_is_not_trusted() {
    let a = mock();
    let b = mock();
    let chain = signer(&a).certificate().unwrap().clone();
    let (root_a, root_b) = (root_pem(&a), root_pem(&b));
    // Every mock makes its own CA, under the same name.
    assert_ne!(
        pem::decode(&root_a, &["CERTIFICATE"]),
        pem::decode(&root_b, &["CERTIFICATE"])
    );

    // The chain carries A's root; only B's is trusted.
    let only_b = Roots::from_pem(&root_b).unwrap();
    let err = verify(&chain, &only_b, &IdentityPolicy::default(), now()).unwrap_err();
    assert!(matches!(err, CertificateError::Untrusted { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the chain does not lead to a trusted root: certificate 0 (the leaf) is issued by \
         \"O=sigstore.mock,CN=sigstore\", which is neither a trusted root nor an intermediate \
         leading to one"
    );

    // Without the chain, nothing says whether the leaf or the root is the
    // stranger: B's root just does not verify it.
    let bare = CertificateChain {
        certificate_pem: chain.certificate_pem.clone(),
        chain_pem: String::new(),
    };
    let err = verify(&bare, &only_b, &IdentityPolicy::default(), now()).unwrap_err();
    assert!(
        err.to_string().contains("O=sigstore.mock,CN=sigstore"),
        "{err}"
    );

    // Trusting both roots (same name, different keys) finds the right one.
    let both = Roots::from_pem(&format!("{root_b}{root_a}")).unwrap();
    good(&chain, &both);
    good(&bare, &both);
}

#[test]
fn outside_its_validity_or_changed_the_certificate_is_rejected() {
    let service = mock();
    let chain = signer(&service).certificate().unwrap().clone();
    let roots = Roots::from_pem(&root_pem(&service)).unwrap();
    let v = good(&chain, &roots);
    let p = IdentityPolicy::default();

    // The bounds are included, as Go's x509 includes them.
    verify(&chain, &roots, &p, v.not_before).unwrap();
    verify(&chain, &roots, &p, v.not_after).unwrap();
    let err = verify(&chain, &roots, &p, v.not_after + 1).unwrap_err();
    assert!(matches!(err, CertificateError::Expired { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("certificate 0 (the leaf) expired at "),
        "{err}"
    );
    let err = verify(&chain, &roots, &p, v.not_before - 1).unwrap_err();
    assert!(
        matches!(err, CertificateError::NotYetValid { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("certificate 0 (the leaf) is not yet valid at "),
        "{err}"
    );

    // One byte of the signed part changed: the subject, still a
    // well-formed certificate, now claims another service account.
    let mut der = pem::decode(&chain.certificate_pem, &["CERTIFICATE"]).unwrap();
    let at = der
        .windows(K8S_SUBJECT.len())
        .position(|w| w == K8S_SUBJECT.as_bytes())
        .expect("the subject is in the certificate");
    der[at + "system:serviceaccount:".len()] ^= 0x01; // "tekton" -> "uekton"
    let tampered = CertificateChain {
        certificate_pem: pem::encode("CERTIFICATE", &der),
        chain_pem: chain.chain_pem.clone(),
    };
    let err = verify(&tampered, &roots, &p, now()).unwrap_err();
    assert!(
        matches!(err, CertificateError::BadSignature { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the signature of certificate 0 (the leaf) by its issuer \
         \"O=sigstore.mock,CN=sigstore\" does not verify"
    );
}
