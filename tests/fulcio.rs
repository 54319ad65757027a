//! Keyless signing against a Fulcio: the Sigstore JS team's `@sigstore/mock`
//! CA behind tests/tools/sigstore-mock/server.js (needs
//! `npm ci --prefix tests/tools/sigstore-mock`), plus canned answers from a
//! one-shot HTTP server in this process for what the mock never does.

use crate::common;
use crate::common::fault::FaultServer;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chains::pem;
use chains::sign::fulcio::{self, FulcioOptions};
use chains::sign::{KeyKind, SharedSigner};
use common::free_port;
use common::sigstore_mock::{start_with_issuers as mock, url};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha384};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

const K8S_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const K8S_SUBJECT: &str = "system:serviceaccount:tekton-chains:tekton-chains-controller";

/// A JWT with `claims` and a signature nobody checks (Fulcio would; the mock does not).
fn jwt(claims: Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.{}",
        part(&json!({"alg": "RS256", "kid": "test-key", "typ": "JWT"})),
        part(&claims),
        URL_SAFE_NO_PAD.encode(b"signature-nobody-verifies-in-this-test")
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A Kubernetes service-account token: no email claim at all.
fn k8s_token() -> String {
    jwt(json!({
        "iss": K8S_ISSUER,
        "sub": K8S_SUBJECT,
        "aud": ["sigstore"],
        "iat": now(),
        "nbf": now(),
        "exp": now() + 600,
        "kubernetes.io": {"namespace": "tekton-chains", "serviceaccount": {"name": "tekton-chains-controller"}},
    }))
}

fn load(url: &str, token: &str) -> Result<SharedSigner, chains::sign::SignError> {
    fulcio::load(&FulcioOptions {
        url: url.to_string(),
        identity_token: token.to_string(),
    })
}

fn certs(pem: &str) -> Vec<Certificate> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(i) = rest.find("-----BEGIN CERTIFICATE-----") {
        let der = pem::decode(&rest[i..], &["CERTIFICATE"]).expect("a PEM certificate");
        out.push(Certificate::from_der(&der).expect("X.509"));
        rest = &rest[i + 10..];
    }
    out
}

/// No piece of the token's payload or signature (8 characters are enough to
/// tell) may appear in `text`.
fn assert_no_token(text: &str, token: &str) {
    assert!(!text.contains(token), "the token leaked: {text}");
    for part in token.split('.').skip(1) {
        for piece in part.as_bytes().windows(8) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(
                !text.contains(piece),
                "part of the token ({piece}) leaked: {text}"
            );
        }
    }
}

#[test]
fn token_without_email_gets_a_certificate_for_the_ephemeral_key() {
    let service = mock(&[K8S_ISSUER]);
    let signer = load(&url(&service), &k8s_token()).expect("a certificate");

    assert_eq!(signer.public_key().kind(), KeyKind::EcdsaP256);
    let chain = signer
        .certificate()
        .expect("a keyless signer has a certificate");
    let leaf = certs(&chain.certificate_pem);
    assert_eq!(leaf.len(), 1, "{}", chain.certificate_pem);
    let leaf = &leaf[0];

    // The leaf certifies the signer's key ...
    let leaf_key = leaf
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap();
    assert_eq!(leaf_key, signer.public_key().spki_der());

    // ... for the token's subject (the mock puts `sub` in a URI SAN).
    let (_, san) = leaf
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .unwrap()
        .expect("a SAN");
    assert!(
        san.0.iter().any(|n| matches!(n,
            GeneralName::UniformResourceIdentifier(u) if u.as_str() == K8S_SUBJECT)),
        "{san:?}"
    );
    let describe = signer.describe();
    assert!(
        describe.contains(K8S_SUBJECT) && describe.contains(&url(&service)),
        "{describe}"
    );
}

#[test]
fn signatures_verify_with_the_certified_key() {
    let service = mock(&[]);
    let signer = load(&url(&service), &k8s_token()).unwrap();
    let chain = signer.certificate().unwrap();
    let leaf = &certs(&chain.certificate_pem)[0];
    let spki = leaf
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap();
    let verifier = VerifyingKey::from_public_key_der(&spki).unwrap();

    let message = br#"{"payloadType":"application/vnd.in-toto+json"}"#;
    let signature = signer.sign(message).unwrap();
    let sig = Signature::from_der(&signature).expect("cosign encodes ECDSA as ASN.1 DER");
    verifier
        .verify(message, &sig)
        .expect("the signature verifies");
    assert!(verifier.verify(b"another message", &sig).is_err());

    // Shared across threads, as a batch does.
    std::thread::scope(|s| {
        for i in 0..4 {
            let signer = signer.clone();
            s.spawn(move || {
                let m = format!("message {i}");
                let sig = Signature::from_der(&signer.sign(m.as_bytes()).unwrap()).unwrap();
                verifier.verify(m.as_bytes(), &sig).unwrap();
            });
        }
    });
}

#[test]
fn the_chain_is_kept_and_signs_the_leaf() {
    let service = mock(&[]);
    let signer = load(&url(&service), &k8s_token()).unwrap();
    let chain = signer.certificate().unwrap();

    let above = certs(&chain.chain_pem);
    assert_eq!(
        above.len(),
        1,
        "the mock's chain is leaf + root: {}",
        chain.chain_pem
    );
    let root = &above[0];

    // It is the root Fulcio publishes ...
    let bundle: Value = reqwest::blocking::get(format!("{}/api/v2/trustBundle", url(&service)))
        .unwrap()
        .json()
        .unwrap();
    let published = bundle["chains"][0]["certificates"][0].as_str().unwrap();
    assert_eq!(
        certs(published)[0].to_der().unwrap(),
        root.to_der().unwrap()
    );

    // ... and it signed the leaf (ECDSA P-256 with SHA-384, as the mock CA does).
    let leaf = &certs(&chain.certificate_pem)[0];
    assert_eq!(
        leaf.tbs_certificate().issuer(),
        root.tbs_certificate().subject()
    );
    let root_key = VerifyingKey::from_public_key_der(
        &root
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap(),
    )
    .unwrap();
    let digest = Sha384::digest(leaf.tbs_certificate().to_der().unwrap());
    let sig = Signature::from_der(leaf.signature().raw_bytes()).unwrap();
    root_key
        .verify_prehash(&digest, &sig)
        .expect("the root signed the leaf");

    // PEM as Go writes it: 64-column lines, one block per certificate.
    for pem in [&chain.certificate_pem, &chain.chain_pem] {
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"), "{pem}");
        assert!(pem.lines().all(|l| l.len() <= 64), "{pem}");
    }
}

#[test]
fn a_verified_email_is_the_proven_subject() {
    // The server checks the proof of possession over `email` when the token has one.
    let service = mock(&[]);
    let token = jwt(json!({
        "iss": "https://accounts.example.com",
        "sub": "1234567890",
        "email": "builder@example.com",
        "email_verified": true,
        "aud": "sigstore",
        "exp": now() + 600,
    }));
    let signer = load(&url(&service), &token).expect("a certificate");
    assert!(signer.describe().contains("builder@example.com"));
}

#[test]
fn refused_tokens_are_explained_without_the_token() {
    let service = mock(&[K8S_ISSUER]);

    // An issuer this Fulcio does not trust.
    let token = jwt(json!({
        "iss": "https://untrusted.example.com",
        "sub": "someone",
        "aud": "sigstore",
        "exp": now() + 600,
    }));
    let err = load(&url(&service), &token).err().expect("refused");
    let msg = err.to_string();
    assert!(msg.starts_with("keyless signing: "), "{msg}");
    assert!(
        msg.contains("refused the certificate request (HTTP 400 Bad Request)"),
        "{msg}"
    );
    assert!(
        msg.contains("There was an error processing the identity token"),
        "{msg}"
    );
    assert!(msg.contains("https://untrusted.example.com"), "{msg}");
    assert!(msg.contains(&url(&service)), "{msg}");
    assert_no_token(&msg, &token);
    assert_no_token(&format!("{err:?}"), &token);

    // An expired token: say so.
    let token = jwt(json!({"iss": K8S_ISSUER, "sub": K8S_SUBJECT, "exp": 1_600_000_000}));
    let msg = load(&url(&service), &token).err().unwrap().to_string();
    assert!(msg.contains("expired at 2020-09-13T12:26:40Z"), "{msg}");
    assert_no_token(&msg, &token);

    // A token with neither `sub` nor a verified email never leaves the process.
    let token = jwt(json!({"iss": K8S_ISSUER, "email": "x@example.com"}));
    let msg = load(&url(&service), &token).err().unwrap().to_string();
    assert!(msg.contains("no `sub` claim"), "{msg}");
    assert_no_token(&msg, &token);

    // What the server logged: method, path, status; never the token.
    let log = std::env::temp_dir().join(format!("chains-test-sigstore-mock-{}.log", service.port));
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("POST /api/v2/signingCert 400"), "{log}");
    assert_no_token(&log, &token);
}

#[test]
fn unreachable_fulcio_is_a_clear_error() {
    let port = free_port(); // nothing listens there
    let token = k8s_token();
    let base = format!("http://127.0.0.1:{port}");
    let err = load(&base, &token).err().expect("unreachable");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("cannot reach Fulcio ({base})")),
        "{msg}"
    );
    assert!(msg.to_lowercase().contains("connect"), "{msg}");
    assert_no_token(&msg, &token);

    let msg = load("not a url", &token).err().unwrap().to_string();
    assert!(msg.contains("invalid Fulcio URL"), "{msg}");
    assert_no_token(&msg, &token);
}

/// The fault server answering every request with `status` and `body`.
fn canned(status: u16, body: impl Into<String>) -> FaultServer {
    FaultServer::always(status, body)
}

/// The first request `server` received: a signing-certificate request; its JSON body.
fn signing_request(server: &FaultServer) -> Value {
    let requests = server.requests();
    let first = requests.first().expect("the client sent a request");
    assert_eq!(first.line(), "POST /api/v2/signingCert");
    first.json()
}

#[test]
fn the_request_is_fulcios_v2_shape_with_a_valid_proof_of_possession() {
    let token = k8s_token();
    let server = canned(500, "{}");
    let base = server.url();
    let _ = load(&base, &token);
    let request = signing_request(&server);

    assert_eq!(request["credentials"]["oidcIdentityToken"], token.as_str());
    let key = &request["publicKeyRequest"]["publicKey"];
    assert_eq!(key["algorithm"], "ECDSA");
    let pem = key["content"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let verifier =
        VerifyingKey::from_public_key_der(&pem::decode(pem, &["PUBLIC KEY"]).unwrap()).unwrap();
    let proof = STANDARD
        .decode(
            request["publicKeyRequest"]["proofOfPossession"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let proof = Signature::from_der(&proof).unwrap();
    verifier
        .verify(K8S_SUBJECT.as_bytes(), &proof)
        .expect("the proof of possession signs `sub`");
}

#[test]
fn server_errors_and_malformed_answers_are_clear() {
    let token = k8s_token();

    // A 5xx with grpc-gateway's error body; the server echoing the token is redacted.
    let body =
        json!({"code": 13, "message": format!("error communicating with CA backend for {token}")});
    let server = canned(503, body.to_string());
    let base = server.url();
    let msg = load(&base, &token).err().unwrap().to_string();
    signing_request(&server);
    assert!(msg.contains("HTTP 503 Service Unavailable"), "{msg}");
    assert!(msg.contains("error communicating with CA backend"), "{msg}");
    assert_no_token(&msg, &token);

    // A 4xx with a plain-text body (what @sigstore/mock itself sends).
    let server = canned(400, "Invalid JWT");
    let base = server.url();
    let msg = load(&base, &token).err().unwrap().to_string();
    signing_request(&server);
    assert!(msg.contains("HTTP 400 Bad Request): Invalid JWT"), "{msg}");

    // 2xx, but not a certificate.
    let server = canned(200, r#"{"unexpected": true}"#);
    let base = server.url();
    let msg = load(&base, &token).err().unwrap().to_string();
    signing_request(&server);
    assert!(msg.contains("malformed certificate response"), "{msg}");
    assert_no_token(&msg, &token);

    // Redirects are not followed: the request carries a credential.
    let server = canned(307, String::new());
    let base = server.url();
    let msg = load(&base, &token).err().unwrap().to_string();
    signing_request(&server);
    assert!(msg.contains("HTTP 307"), "{msg}");
}

#[test]
fn a_certificate_for_another_key_is_refused() {
    // A genuine Fulcio answer, but for someone else's key.
    let service = mock(&[]);
    let other = load(&url(&service), &k8s_token()).unwrap();
    let chain = other.certificate().unwrap();
    let answer = json!({"signedCertificateDetachedSct": {"chain": {"certificates": [
        chain.certificate_pem, chain.chain_pem,
    ]}}});

    let token = k8s_token();
    let server = canned(200, answer.to_string());
    let base = server.url();
    let msg = load(&base, &token).err().unwrap().to_string();
    signing_request(&server);
    assert!(
        msg.contains(&format!(
            "is for ECDSA P-256 key {}",
            other.public_key().key_id()
        )),
        "{msg}"
    );
    assert!(msg.contains("not for the ephemeral key"), "{msg}");
    assert_no_token(&msg, &token);
}

#[test]
fn attest_signs_keyless_and_keeps_the_certificate() {
    let fulcio = mock(&[]);
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, k8s_token()).unwrap();
    let run = common::root().join("testdata/runs/taskrun-build.yaml");
    let out_dir = dir.path().join("out");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chains"))
        .args([
            "attest",
            "--bundle",
            "--fulcio-url",
            &url(&fulcio),
            "--identity-token-file",
        ])
        .arg(&token)
        .arg(&run)
        .arg("--output-dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_no_token(&err, &k8s_token());
    let bundle: Value = serde_json::from_slice(
        &std::fs::read(out_dir.join("taskrun-ci-build-app-7x2kq.sigstore.json")).unwrap(),
    )
    .unwrap();
    let raw = bundle["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap();
    assert!(!raw.is_empty(), "the bundle carries the Fulcio certificate");
    // Image signatures keep the certificate and chain too.
    let image = out_dir.join("taskrun-ci-build-app-7x2kq.image-3b1f6a0e2c9d.sigstore.json");
    let ib: Value = serde_json::from_slice(&std::fs::read(image).unwrap()).unwrap();
    assert_eq!(
        ib["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap(),
        raw
    );
}
