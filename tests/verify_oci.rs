//! Reading signatures, attestations and referrer bundles back from a real
//! registry (Debian's `docker-registry`, started on 127.0.0.1): what
//! `chains attest --storage oci` pushed, and what sigstore-rs's cosign client
//! pushed, comes back as evidence whose signatures verify.
//!
//! Needs `docker-registry` (`apt-get install docker-registry`).

use crate::common;
use crate::common::testdata;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chains::run::reference::ImageDigest;
use chains::run::{Origin, RunId, RunKind};
use chains::sign::dsse::pae;
use chains::sign::local::LocalSigner;
use chains::sign::{CertificateChain, Password, PublicKey, Signer, simplesigning};
use chains::store::oci::{OciBackend, OciOptions};
use chains::store::{ArtifactKind, Backend, SignedArtifact};
use chains::tlog::LogEntry;
use chains::verify::evidence::{Evidence, Signed};
use chains::verify::oci::{ImageEvidence, fetch_image, fetch_image_with};
use common::registry::Registry;
use serde_json::Value;

fn key_path() -> PathBuf {
    testdata("keys/p256-sec1.pem")
}

fn signer() -> LocalSigner {
    LocalSigner::load(&key_path(), &Password::FromEnvironment).unwrap()
}

/// `chains attest --key p256 --storage oci` for a copy of the build TaskRun
/// that built `image` (tag `1.4.2`), with `config` as its `--config`.
fn attest(dir: &Path, image: &ImageDigest, config: Option<&str>) -> Output {
    let run = std::fs::read_to_string(testdata("runs/taskrun-build.yaml"))
        .unwrap()
        .replace("registry.example.com/team/app", &image.repository_name())
        .replace(
            "sha256:3b1f6a0e2c9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a",
            image.digest(),
        );
    let run_file = dir.join("taskrun.yaml");
    std::fs::write(&run_file, run).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chains"));
    cmd.args(["attest", "--key"])
        .arg(key_path())
        .args(["--storage", "oci"]);
    if let Some(config) = config {
        let config_file = dir.join("chains-config.yaml");
        std::fs::write(&config_file, config).unwrap();
        cmd.arg("--config").arg(config_file);
    }
    cmd.arg(&run_file)
        .env("DOCKER_CONFIG", dir)
        .env_remove("COSIGN_PASSWORD")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "chains attest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Check every evidence's signature with `key` (PAE for envelopes); returns
/// (message signatures, envelopes) with their payloads.
fn verify_all(evidence: &[Evidence], key: &PublicKey) -> (Vec<Vec<u8>>, Vec<Value>) {
    let (mut messages, mut statements) = (Vec::new(), Vec::new());
    for e in evidence {
        match &e.signed {
            Signed::Message { payload, signature } => {
                assert!(
                    key.verify(payload, signature),
                    "{}: bad signature",
                    e.origin
                );
                let mut tampered = payload.clone();
                tampered.push(b' ');
                assert!(!key.verify(&tampered, signature));
                messages.push(payload.clone());
            }
            Signed::Envelope(env) => {
                let payload = env.payload_bytes().unwrap();
                assert!(!env.signatures.is_empty(), "{}", e.origin);
                for s in &env.signatures {
                    let sig = STANDARD.decode(&s.sig).unwrap();
                    assert!(
                        key.verify(&pae(&env.payload_type, &payload), &sig),
                        "{}: bad envelope signature",
                        e.origin
                    );
                }
                statements.push(serde_json::from_slice(&payload).unwrap());
            }
            other => panic!("{}: not checked here: {other:?}", e.origin),
        }
    }
    (messages, statements)
}

/// The simple-signing payload names the image's digest.
fn names_image(payload: &[u8], image: &ImageDigest) -> bool {
    let v: Value = serde_json::from_slice(payload).unwrap();
    v["critical"]["image"]["docker-manifest-digest"] == image.digest()
}

/// The statement has the image's digest among its subjects.
fn has_subject(statement: &Value, image: &ImageDigest) -> bool {
    statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["digest"]["sha256"] == image.hex())
}

fn fetch(reference: &str) -> ImageEvidence {
    fetch_image(reference, &OciOptions::default())
        .unwrap_or_else(|e| panic!("fetching {reference}: {e}"))
}

#[test]
fn attest_dsse_round_trip() {
    let reg = Registry::start();
    let image = reg.push_image("team/app", "1.4.2", "dsse");
    let dir = tempfile::tempdir().unwrap();
    ok(&attest(dir.path(), &image, None));

    // By tag: resolved to the digest that was signed.
    let found = fetch(&format!("{}/team/app:1.4.2", reg.host));
    assert_eq!(found.image, image);
    let sig = format!("{}/team/app:sha256-{}", reg.host, image.hex());
    let origins: Vec<&str> = found.evidence.iter().map(|e| e.origin.as_str()).collect();
    assert_eq!(
        origins,
        [format!("{sig}.sig layer 1"), format!("{sig}.att layer 1")]
    );
    let key = signer().public_key().clone();
    let (messages, statements) = verify_all(&found.evidence, &key);
    assert!(names_image(&messages[0], &image));
    assert!(has_subject(&statements[0], &image));
    assert!(
        found
            .evidence
            .iter()
            .all(|e| e.certificate.is_none() && e.tlog.is_empty())
    );

    // By digest: the same.
    let again = fetch(&image.name());
    assert_eq!(again.evidence.len(), 2);

    // Another key does not verify what was read.
    let other = LocalSigner::from_pem(
        &std::fs::read_to_string(testdata("keys/p384.pem")).unwrap(),
        "p384",
    )
    .unwrap();
    let Signed::Message { payload, signature } = &found.evidence[0].signed else {
        panic!("a message signature first")
    };
    assert!(!other.public_key().verify(payload, signature));
}

#[test]
fn attest_sigstore_bundle_round_trip() {
    let reg = Registry::start();
    let image = reg.push_image("team/app", "1.4.2", "bundles");
    let dir = tempfile::tempdir().unwrap();
    ok(&attest(
        dir.path(),
        &image,
        Some("storage.oci.encoding-format: sigstore-bundle\n"),
    ));

    // docker-registry 2.8 has no referrers API: the referrers tag lists them.
    let found = fetch(&image.name());
    assert_eq!(found.evidence.len(), 2, "{:?}", found.evidence);
    for e in &found.evidence {
        assert!(
            e.origin
                .starts_with(&format!("{}/team/app@sha256:", reg.host))
                && e.origin.ends_with("(referrer bundle)"),
            "{}",
            e.origin
        );
    }
    let key = signer().public_key().clone();
    // Chains' image-signature bundle is a message signature; the
    // attestation bundle a DSSE envelope.
    let (messages, statements) = verify_all(&found.evidence, &key);
    assert_eq!((messages.len(), statements.len()), (1, 1));
    assert!(names_image(&messages[0], &image));
    assert!(has_subject(&statements[0], &image));
}

/// Certificates and cosign's Rekor bundle annotation come back with the
/// signature they annotate.
#[test]
fn certificates_and_rekor_bundles_are_read() {
    let reg = Registry::start();
    let image = reg.push_image("app", "v1", "annotations");
    let signer = signer();
    let payload = simplesigning::payload(&image);
    let signature = signer.sign(&payload).unwrap();
    let certificate = CertificateChain {
        certificate_pem: "-----BEGIN CERTIFICATE-----\nbGVhZg==\n-----END CERTIFICATE-----\n"
            .into(),
        chain_pem: "-----BEGIN CERTIFICATE-----\ncm9vdA==\n-----END CERTIFICATE-----\n".into(),
    };
    let entry = LogEntry {
        uuid: "ab".repeat(32),
        log_index: 42,
        integrated_time: 1_700_000_000,
        log_id: "cd".repeat(32),
        body: STANDARD.encode(b"{\"kind\":\"hashedrekord\"}"),
        signed_entry_timestamp: STANDARD.encode(b"set"),
        inclusion_proof: None,
    };
    let artifact = SignedArtifact {
        kind: ArtifactKind::Oci,
        short_key: image.hex()[..12].to_string(),
        payload: payload.clone(),
        signature: signature.clone(),
        envelope: None,
        image: Some(image.clone()),
        subjects: Vec::new(),
        public_key: signer.public_key().clone(),
        certificate: Some(certificate.clone()),
        tlog: Some(entry.clone()),
    };
    let run = RunId {
        kind: RunKind::TaskRun,
        namespace: "ci".into(),
        name: "build".into(),
        uid: "u".into(),
        origin: Origin {
            file: "run.yaml".into(),
            document: 0,
            item: None,
            line: 1,
        },
    };
    let backend = OciBackend::with_docker_config(OciOptions::default(), None).unwrap();
    backend.store(&run, &artifact).unwrap();

    let found = fetch_image_with(&image.name(), &backend).unwrap();
    assert_eq!(found.evidence.len(), 1);
    let e = &found.evidence[0];
    assert!(
        matches!(&e.signed, Signed::Message { payload: p, signature: s } if *p == payload && *s == signature)
    );
    let cert = e.certificate.as_ref().expect("the certificate annotation");
    assert_eq!(cert.certificate_pem, certificate.certificate_pem);
    assert_eq!(cert.chain_pem, certificate.chain_pem);
    // cosign's bundle has no UUID and no proof: only what it carries.
    assert_eq!(
        e.tlog,
        vec![LogEntry {
            uuid: String::new(),
            ..entry
        }]
    );
}

/// A signature pushed by sigstore-rs's cosign client (an implementation we
/// did not write) is read and verifies.
#[test]
fn signatures_pushed_by_sigstore_rs_are_read() {
    use sigstore::cosign::constraint::{Constraint, PrivateKeySigner};
    use sigstore::cosign::{ClientBuilder, CosignCapabilities, SignatureLayer};
    use sigstore::crypto::SigningScheme;
    use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};

    let reg = Registry::start();
    let image = reg.push_image("interop/app", "latest", "sigstore-rs");
    let signer = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .unwrap();
    let public_pem = signer
        .to_sigstore_keypair()
        .unwrap()
        .public_key_to_pem()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut client = ClientBuilder::default()
            .with_oci_client_config(ClientConfig {
                protocol: ClientProtocol::Http,
                ..Default::default()
            })
            .build()
            .unwrap();
        let image_ref: OciReference = image.name().parse().unwrap();
        let mut layer = SignatureLayer::new_unsigned(&image_ref, image.digest()).unwrap();
        assert!(
            PrivateKeySigner::new_with_signer(signer)
                .add_constraint(&mut layer)
                .unwrap()
        );
        let target: OciReference = format!("{}/interop/app:sha256-{}.sig", reg.host, image.hex())
            .parse()
            .unwrap();
        client
            .push_signature(None, &Auth::Anonymous, &target, vec![layer])
            .await
            .unwrap();
    });

    let found = fetch(&format!("{}/interop/app", reg.host));
    assert_eq!(found.image, image);
    assert_eq!(found.evidence.len(), 1);
    let key = PublicKey::from_pem(&public_pem).unwrap();
    let (messages, _) = verify_all(&found.evidence, &key);
    assert!(names_image(&messages[0], &image));
}

#[test]
fn missing_images_fail_and_unsigned_images_have_no_evidence() {
    let reg = Registry::start();
    let image = reg.push_image("plain/app", "latest", "unsigned");
    let found = fetch(&format!("{}/plain/app:latest", reg.host));
    assert_eq!(found.image, image);
    assert!(found.evidence.is_empty());

    for missing in [
        format!("{}/plain/app:nope", reg.host),
        format!("{}/no/such/repo:latest", reg.host),
        format!("{}/plain/app@sha256:{}", reg.host, "0".repeat(64)),
    ] {
        let e = fetch_image(&missing, &OciOptions::default()).unwrap_err();
        let m = e.to_string();
        assert!(
            m.starts_with(&format!("cannot read {missing}: no such image")),
            "{m}"
        );
    }

    // Nobody listening: an error naming the registry, quickly.
    let port = common::free_port();
    let down = format!("127.0.0.1:{port}/app:latest");
    let m = fetch_image(&down, &OciOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        m.contains(&down) && m.contains(&format!("127.0.0.1:{port}")),
        "{m}"
    );

    let m = fetch_image("not a reference", &OciOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("not a valid tag") || m.contains("not an image reference"),
        "{m}"
    );
}

/// `chains verify --image`: the image verifies with the signing key, and
/// the policy is held to its attestation, not only to its signature.
#[test]
fn chains_verify_checks_an_image_end_to_end() {
    let reg = Registry::start();
    let image = reg.push_image("team/app", "1.4.2", "cli");
    let dir = tempfile::tempdir().unwrap();
    ok(&attest(dir.path(), &image, None));
    let verify = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chains"))
            .arg("verify")
            .arg("--key")
            .arg(key_path())
            .args(["--image", &format!("{}/team/app:1.4.2", reg.host)])
            .args(args)
            .env("DOCKER_CONFIG", dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = verify(&["--builder-id", "https://tekton.dev/chains/v2"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(".sig layer 1") && stdout.contains(".att layer 1"),
        "{stdout}"
    );

    // Another builder: the signature still verifies, but no attestation
    // meets the policy, so the image does not.
    let out = verify(&["--builder-id", "https://example.com/other-builder"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("builder-id") && stdout.contains("none of its 2"),
        "{stdout}"
    );

    // Another key: nothing verifies.
    let out = Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(["verify", "--key"])
        .arg(testdata("keys/p384.pub"))
        .args(["--image", &image.name()])
        .env("DOCKER_CONFIG", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    // An image that is not there is unreadable input.
    let out = verify(&["--image", &format!("{}/team/missing:1", reg.host)]);
    assert_eq!(out.status.code(), Some(2));
}
