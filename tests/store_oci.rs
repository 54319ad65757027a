//! The `oci` storage backend against a real registry (Debian's
//! `docker-registry`, distribution 2.8) started on 127.0.0.1, checked with
//! verifiers we did not write: sigstore-rs's cosign verification for image
//! signatures, securesystemslib for DSSE envelopes.
//!
//! Needs `docker-registry` and `htpasswd` (`apt-get install docker-registry
//! apache2-utils`) and python3 with securesystemslib.

use crate::common;
use crate::common::fault::{FaultServer, Reply};

use std::net::TcpStream;
use std::path::PathBuf;

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chains::run::reference::ImageDigest;
use chains::run::{Origin, RunId, RunKind};
use chains::sign::dsse::{Envelope, IN_TOTO};
use chains::sign::local::LocalSigner;
use chains::sign::{Password, Signer, simplesigning};
use chains::store::oci::{Encoding, OciBackend, OciOptions};
use chains::store::{ArtifactKind, Backend, SignedArtifact, StoreError};
use chains::tlog::LogEntry;
use common::registry::{OCI_CONFIG, OCI_MANIFEST, Registry, sha256};
use common::{free_port, root};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const DSSE: &str = "application/vnd.dsse.envelope.v1+json";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const SLSA02: &str = "https://slsa.dev/provenance/v0.2";

// ---------------------------------------------------------------------------
// Keys and artifacts

fn cosign_key() -> &'static LocalSigner {
    static KEY: OnceLock<LocalSigner> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = common::shared("conformance/keys");
        LocalSigner::load(
            &dir.join("cosign.key"),
            &Password::File(dir.join("cosign.password")),
        )
        .unwrap()
    })
}

fn pem_key(file: &str) -> LocalSigner {
    let path = root().join("testdata/keys").join(file);
    LocalSigner::from_pem(&std::fs::read_to_string(&path).unwrap(), file).unwrap()
}

fn cosign_pub() -> PathBuf {
    common::shared("conformance/keys/cosign.pub")
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn run_id() -> RunId {
    RunId {
        kind: RunKind::TaskRun,
        namespace: "default".into(),
        name: "build".into(),
        uid: "0f7b6e0e-1111-2222-3333-444455556666".into(),
        origin: Origin {
            file: Arc::from("taskrun.yaml"),
            document: 0,
            item: None,
            line: 1,
        },
    }
}

fn image_signature(signer: &dyn Signer, image: &ImageDigest) -> SignedArtifact {
    let payload = simplesigning::payload(image);
    let signature = signer.sign(&payload).unwrap();
    SignedArtifact {
        kind: ArtifactKind::Oci,
        short_key: image.hex()[..12].to_string(),
        payload,
        signature,
        envelope: None,
        image: Some(image.clone()),
        subjects: Vec::new(),
        public_key: signer.public_key().clone(),
        certificate: None,
        tlog: None,
    }
}

fn attestation(signer: &dyn Signer, subjects: &[(String, String)]) -> SignedArtifact {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": SLSA02,
        "subject": subjects.iter().map(|(n, h)| json!({"name": n, "digest": {"sha256": h}})).collect::<Vec<_>>(),
        "predicate": {"builder": {"id": "https://tekton.dev/chains/v2"}, "buildType": "tekton.dev/v1beta1/TaskRun"},
    });
    let payload = serde_json::to_vec(&statement).unwrap();
    let envelope = Envelope::sign(signer, IN_TOTO, &payload).unwrap();
    SignedArtifact {
        kind: ArtifactKind::TaskRun,
        short_key: format!("taskrun-{}", run_id().uid),
        payload,
        signature: envelope.to_json(),
        envelope: Some(envelope),
        image: None,
        subjects: subjects.to_vec(),
        public_key: signer.public_key().clone(),
        certificate: None,
        tlog: None,
    }
}

/// A Rekor entry for an image signature whose SET is really signed by `log`
/// (what sigstore-rs checks when it is given the log's key).
fn tlog_entry(log: &dyn Signer, a: &SignedArtifact) -> LogEntry {
    let body = json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex(&Sha256::digest(&a.payload))}},
            "signature": {"content": STANDARD.encode(&a.signature), "publicKey": {"content": STANDARD.encode(a.public_key.to_pem())}},
        },
    });
    let body_bytes = serde_json::to_vec(&body).unwrap();
    let body = STANDARD.encode(&body_bytes);
    let log_id = hex(&Sha256::digest(log.public_key().spki_der()));
    let (log_index, integrated_time) = (42, 1_700_000_000);
    let canonical = serde_json_canonicalizer::to_vec(&json!({
        "body": body, "integratedTime": integrated_time, "logID": log_id, "logIndex": log_index,
    }))
    .unwrap();
    let set = log.sign(&canonical).unwrap();
    let mut leaf = vec![0u8];
    leaf.extend_from_slice(&body_bytes);
    LogEntry {
        uuid: hex(&Sha256::digest(&leaf)),
        log_index,
        integrated_time,
        log_id,
        body,
        signed_entry_timestamp: STANDARD.encode(set),
        inclusion_proof: None,
    }
}

fn backend(opts: OciOptions) -> OciBackend {
    OciBackend::with_docker_config(opts, None).unwrap()
}

// ---------------------------------------------------------------------------
// Verification with sigstore-rs

/// sigstore-rs's cosign verification of `image`'s `.sig` with the PEM key;
/// with `rekor`, the bundle annotations must verify against that log key.
fn cosign_verify(
    reg: &Registry,
    image: &ImageDigest,
    public_key_pem: &[u8],
    rekor: Option<&dyn Signer>,
) -> Result<Vec<sigstore::cosign::SignatureLayer>, String> {
    use sigstore::cosign::verification_constraint::{PublicKeyVerifier, VerificationConstraintVec};
    use sigstore::cosign::{ClientBuilder, CosignCapabilities, verify_constraints};
    use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = ClientConfig {
            protocol: ClientProtocol::Http,
            ..Default::default()
        };
        let mut trust = sigstore::trust::ManualTrustRoot::default();
        if let Some(log) = rekor {
            let der = log.public_key().spki_der().to_vec();
            trust.rekor_keys.insert(hex(&Sha256::digest(&der)), der);
        }
        let mut client = ClientBuilder::default()
            .with_oci_client_config(config)
            .with_trust_repository(&trust)
            .map_err(|e| format!("{e:?}"))?
            .build()
            .map_err(|e| format!("{e:?}"))?;
        let reference: OciReference = image.name().parse().map_err(|e| format!("{e:?}"))?;
        let auth = match &reg.creds {
            Some((u, p)) => Auth::Basic(u.clone(), p.clone()),
            None => Auth::Anonymous,
        };
        let layers = client
            .trusted_signature_layers(&auth, &reference)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let constraints: VerificationConstraintVec = vec![Box::new(
            PublicKeyVerifier::try_from(public_key_pem).map_err(|e| format!("{e:?}"))?,
        )];
        verify_constraints(&layers, constraints.iter()).map_err(|e| format!("{e:?}"))?;
        Ok(layers)
    })
}

fn sig_tag(image: &ImageDigest, suffix: &str) -> String {
    format!("sha256-{}.{suffix}", image.hex())
}

fn repo_of(image: &ImageDigest) -> String {
    let name = image.repository_name();
    name.split_once('/').unwrap().1.to_string()
}

fn layers(manifest: &Value) -> &Vec<Value> {
    manifest["layers"].as_array().unwrap()
}

// ---------------------------------------------------------------------------
// Tests

/// Image signatures: cosign's exact layout, verified by sigstore-rs
/// (signature and Rekor bundle); a second signature appends a layer, storing
/// the same one again adds nothing, concurrent stores lose nothing.
#[test]
fn image_signatures_verify_with_sigstore_rs() {
    if common::skip_without_shared("image_signatures_verify_with_sigstore_rs") {
        return;
    }
    let reg = Registry::start();
    let image = reg.push_image("team/app", "latest", "signatures");
    let repo = repo_of(&image);
    let oci = backend(OciOptions::default());
    let rekor = pem_key("p256-sec1.pem");

    let mut first = image_signature(cosign_key(), &image);
    first.tlog = Some(tlog_entry(&rekor, &first));
    assert_eq!(oci.name(), "oci");
    assert!(oci.store(&run_id(), &first).unwrap().is_empty());

    // The layout, byte for byte where cosign's is fixed.
    let (_, manifest) = reg
        .manifest(&repo, &sig_tag(&image, "sig"), OCI_MANIFEST)
        .expect("the .sig tag was written");
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    assert_eq!(manifest["config"]["mediaType"], OCI_CONFIG);
    let layer = &layers(&manifest)[0];
    assert_eq!(layer["mediaType"], SIMPLE_SIGNING);
    assert_eq!(layer["digest"], sha256(&first.payload));
    assert_eq!(layer["size"], first.payload.len());
    let annotations = layer["annotations"].as_object().unwrap();
    assert_eq!(
        annotations["dev.cosignproject.cosign/signature"],
        STANDARD.encode(&first.signature)
    );
    let bundle: Value =
        serde_json::from_str(annotations["dev.sigstore.cosign/bundle"].as_str().unwrap()).unwrap();
    assert_eq!(bundle["Payload"]["logIndex"], 42);
    assert_eq!(
        reg.blob(&repo, layer["digest"].as_str().unwrap()),
        first.payload
    );
    let config = reg.blob(&repo, manifest["config"]["digest"].as_str().unwrap());
    assert_eq!(
        String::from_utf8(config).unwrap(),
        format!(
            r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{{"created":"0001-01-01T00:00:00Z"}}],"os":"","rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{}}}}"#,
            sha256(&first.payload)
        )
    );

    // sigstore-rs verifies the signature and, given the log key, the bundle.
    let cosign_pem = std::fs::read(cosign_pub()).unwrap();
    let verified = cosign_verify(&reg, &image, &cosign_pem, Some(&rekor)).unwrap();
    assert_eq!(verified.len(), 1);
    assert!(verified[0].bundle.is_some(), "the Rekor bundle verified");
    let ed25519 = std::fs::read(root().join("testdata/keys/ed25519.pub")).unwrap();
    assert!(cosign_verify(&reg, &image, &ed25519, None).is_err());

    // A second signature (another key) appends; re-storing adds nothing.
    let p384 = pem_key("p384.pem");
    let second = image_signature(&p384, &image);
    oci.store(&run_id(), &second).unwrap();
    oci.store(&run_id(), &second).unwrap();
    oci.store(&run_id(), &first).unwrap();
    let (_, manifest) = reg
        .manifest(&repo, &sig_tag(&image, "sig"), OCI_MANIFEST)
        .unwrap();
    assert_eq!(layers(&manifest).len(), 2);
    let config: Value =
        serde_json::from_slice(&reg.blob(&repo, manifest["config"]["digest"].as_str().unwrap()))
            .unwrap();
    assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
    assert_eq!(config["history"].as_array().unwrap().len(), 2);
    let p384_pem = std::fs::read(root().join("testdata/keys/p384.pub")).unwrap();
    assert_eq!(
        cosign_verify(&reg, &image, &p384_pem, None).unwrap().len(),
        2
    );
    cosign_verify(&reg, &image, &cosign_pem, None).unwrap();

    // Concurrent stores to one tag: every signature lands.
    let other = reg.push_image("team/app", "latest", "concurrent");
    let oci = Arc::new(oci);
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (oci, other) = (oci.clone(), other.clone());
            std::thread::spawn(move || {
                let a = image_signature(&pem_key("p384.pem"), &other);
                oci.store(&run_id(), &a).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (_, manifest) = reg
        .manifest(&repo, &sig_tag(&other, "sig"), OCI_MANIFEST)
        .unwrap();
    assert_eq!(layers(&manifest).len(), 3);
    assert_eq!(
        cosign_verify(&reg, &other, &p384_pem, None).unwrap().len(),
        3
    );
}

/// Attestations: one `.att` per image subject, the envelope verified by
/// securesystemslib; subjects are checked as Chains does; the repository
/// override redirects `.sig` and `.att`.
#[test]
fn attestations_verify_with_securesystemslib() {
    if common::skip_without_shared("attestations_verify_with_securesystemslib") {
        return;
    }
    let reg = Registry::start();
    let image = reg.push_image("app", "latest", "attest");
    let other_hex = hex(&Sha256::digest(b"not pushed"));
    let subjects = vec![
        (image.repository_name(), image.hex().to_string()),
        (format!("{}/other/app", reg.host), other_hex.clone()),
    ];
    let a = attestation(cosign_key(), &subjects);
    let oci = backend(OciOptions::default());
    oci.store(&run_id(), &a).unwrap();
    oci.store(&run_id(), &a).unwrap();

    let dir = tempfile::tempdir().unwrap();
    for (repo, hex) in [("app", image.hex()), ("other/app", other_hex.as_str())] {
        let (_, manifest) = reg
            .manifest(repo, &format!("sha256-{hex}.att"), OCI_MANIFEST)
            .unwrap_or_else(|| panic!("{repo}: no .att"));
        assert_eq!(layers(&manifest).len(), 1, "{repo}: stored once");
        let layer = &layers(&manifest)[0];
        assert_eq!(layer["mediaType"], DSSE);
        assert_eq!(
            layer["annotations"],
            json!({"dev.cosignproject.cosign/signature": "", "predicateType": SLSA02})
        );
        let blob = reg.blob(repo, layer["digest"].as_str().unwrap());
        assert_eq!(blob, a.signature);
        let file = dir.path().join(format!("{}.json", repo.replace('/', "-")));
        std::fs::write(&file, &blob).unwrap();
        let (ok, out) = common::dsse_verify(&file, &cosign_pub(), None);
        assert!(ok, "securesystemslib: {out}");
        assert!(out.contains(&format!("predicateType={SLSA02}")), "{out}");
    }

    // No subject: nothing to store (Chains skips the upload).
    oci.store(&run_id(), &attestation(cosign_key(), &[]))
        .unwrap();

    // A subject that is not an image fails, as in Chains (`name.NewDigest`),
    // before anything is written.
    let third = hex(&Sha256::digest(b"third"));
    let bad = attestation(
        cosign_key(),
        &[
            (format!("{}/third", reg.host), third.clone()),
            ("Release/App.TGZ".to_string(), third.clone()),
        ],
    );
    let err = oci.store(&run_id(), &bad).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "oci: subject Release/App.TGZ@sha256:{third} is not an image reference"
        )),
        "{err}"
    );
    assert!(
        reg.manifest("third", &format!("sha256-{third}.att"), OCI_MANIFEST)
            .is_none()
    );

    // storage.oci.repository: everything goes to that repository.
    let redirected = backend(OciOptions {
        repository: Some(format!("{}/signatures", reg.host)),
        ..Default::default()
    });
    redirected.store(&run_id(), &a).unwrap();
    redirected
        .store(&run_id(), &image_signature(cosign_key(), &image))
        .unwrap();
    for tag in [sig_tag(&image, "att"), sig_tag(&image, "sig")] {
        assert!(
            reg.manifest("signatures", &tag, OCI_MANIFEST).is_some(),
            "signatures:{tag}"
        );
    }
    assert!(
        reg.manifest("app", &sig_tag(&image, "sig"), OCI_MANIFEST)
            .is_none()
    );
    assert!(
        reg.manifest(
            "signatures",
            &format!("sha256-{other_hex}.att"),
            OCI_MANIFEST
        )
        .is_some()
    );
}

/// Basic auth with credentials from a docker config.json; wrong or missing
/// credentials fail at once with a 401 that names the registry and the tag.
#[test]
fn basic_auth_from_docker_config() {
    if common::skip_without_shared("basic_auth_from_docker_config") {
        return;
    }
    let (user, password) = ("chains", "s3cret-Pa55");
    let reg = Registry::with_auth(user, password);
    let image = reg.push_image("secure/app", "latest", "auth");
    let dir = tempfile::tempdir().unwrap();
    let config = |name: &str, secret: &str| {
        let path = dir.path().join(name);
        let auth = STANDARD.encode(format!("{user}:{secret}"));
        std::fs::write(
            &path,
            serde_json::to_vec(&json!({"auths": {reg.host.clone(): {"auth": auth}}})).unwrap(),
        )
        .unwrap();
        path
    };

    let good =
        OciBackend::with_docker_config(OciOptions::default(), Some(config("good.json", password)))
            .unwrap();
    good.store(&run_id(), &image_signature(cosign_key(), &image))
        .unwrap();
    let cosign_pem = std::fs::read(cosign_pub()).unwrap();
    cosign_verify(&reg, &image, &cosign_pem, None).unwrap();

    // Wrong password: a clear, permanent 401, nothing written, no secret shown.
    let other = reg.push_image("secure/app", "latest", "denied");
    let wrong_secret = "wrong-Pa55word";
    let wrong = OciBackend::with_docker_config(
        OciOptions::default(),
        Some(config("wrong.json", wrong_secret)),
    )
    .unwrap();
    let err: StoreError = wrong
        .store(&run_id(), &image_signature(cosign_key(), &other))
        .unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.backend, "oci");
    assert!(!err.transient);
    assert!(
        msg.starts_with(&format!(
            "oci: registry {} refused credentials (401) pushing {}/secure/app:sha256-{}.sig",
            reg.host,
            reg.host,
            other.hex()
        )),
        "{msg}"
    );
    assert!(
        !msg.contains(wrong_secret) && !msg.contains(password),
        "{msg}"
    );
    assert!(!msg.contains("(tried "), "no retries on 401: {msg}");
    assert!(
        reg.manifest("secure/app", &sig_tag(&other, "sig"), OCI_MANIFEST)
            .is_none()
    );

    // No credentials for this registry: says so.
    let anonymous = OciBackend::with_docker_config(
        OciOptions::default(),
        Some(dir.path().join("missing.json")),
    )
    .unwrap();
    let msg = anonymous
        .store(&run_id(), &image_signature(cosign_key(), &other))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!("registry {} requires credentials (401)", reg.host)),
        "{msg}"
    );
}

/// A registry that is not there: a clear error, quickly.
#[test]
fn registry_down_fails_fast() {
    if common::skip_without_shared("registry_down_fails_fast") {
        return;
    }
    let port = free_port();
    let image = ImageDigest::parse(&format!(
        "127.0.0.1:{port}/app@sha256:{}",
        hex(&Sha256::digest(b"x"))
    ))
    .unwrap();
    let err = backend(OciOptions::default())
        .store(&run_id(), &image_signature(cosign_key(), &image))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("cannot connect to registry 127.0.0.1:{port}")),
        "{msg}"
    );
    assert!(msg.contains("(tried 4 times over "), "{msg}");
    assert!(
        !err.transient,
        "retries are spent inside the backend, not multiplied by the caller's"
    );
}

/// A registry answering 500: retried, then a clear error.
#[test]
fn server_errors_are_retried_then_reported() {
    if common::skip_without_shared("server_errors_are_retried_then_reported") {
        return;
    }
    let server = FaultServer::start(|_, _| {
        Reply::new(500, "internal error: storage backend unavailable")
            .header("Content-Type", "text/plain")
    });
    let image = ImageDigest::parse(&format!(
        "127.0.0.1:{}/app@sha256:{}",
        server.port,
        hex(&Sha256::digest(b"y"))
    ))
    .unwrap();
    let msg = backend(OciOptions::default())
        .store(&run_id(), &image_signature(cosign_key(), &image))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!(
            "registry 127.0.0.1:{} answered 500 pushing 127.0.0.1:{}/app:sha256-",
            server.port, server.port
        )),
        "{msg}"
    );
    assert!(msg.contains("(tried 4 times over "), "{msg}");
    let manifest_requests = server
        .requests()
        .iter()
        .filter(|r| r.target.contains("/manifests/"))
        .count();
    assert_eq!(manifest_requests, 4);
}

/// `sigstore-bundle` encoding: OCI 1.1 referrers through the referrers tag
/// (this registry has no referrers API); the bundle's envelope verifies.
#[test]
fn sigstore_bundles_use_the_referrers_tag() {
    if common::skip_without_shared("sigstore_bundles_use_the_referrers_tag") {
        return;
    }
    let reg = Registry::start();
    let image = reg.push_image("app", "latest", "bundles");
    let (image_raw, _) = reg.manifest("app", image.digest(), OCI_MANIFEST).unwrap();
    let http = reg.http();
    let referrers = http
        .get(format!(
            "http://{}/v2/app/referrers/{}",
            reg.host,
            image.digest()
        ))
        .send()
        .unwrap();
    assert_eq!(referrers.status().as_u16(), 404, "no referrers API here");

    let oci = backend(OciOptions {
        encoding: Encoding::SigstoreBundle,
        ..Default::default()
    });
    let a = attestation(
        cosign_key(),
        &[(image.repository_name(), image.hex().to_string())],
    );
    oci.store(&run_id(), &a).unwrap();
    oci.store(&run_id(), &a).unwrap();

    let fallback = format!("sha256-{}", image.hex());
    let (_, index) = reg
        .manifest("app", &fallback, OCI_INDEX)
        .expect("referrers tag");
    assert_eq!(index["mediaType"], OCI_INDEX);
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "an identical bundle is stored once");
    assert_eq!(entries[0]["artifactType"], BUNDLE);
    assert_eq!(entries[0]["mediaType"], OCI_MANIFEST);

    let (raw, referrer) = reg
        .manifest("app", entries[0]["digest"].as_str().unwrap(), OCI_MANIFEST)
        .unwrap();
    assert_eq!(sha256(&raw), entries[0]["digest"]);
    assert_eq!(entries[0]["size"], raw.len());
    assert_eq!(referrer["artifactType"], BUNDLE);
    assert_eq!(
        referrer["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        referrer["subject"],
        json!({"mediaType": OCI_MANIFEST, "size": image_raw.len(), "digest": image.digest()})
    );
    assert_eq!(
        referrer["annotations"]["dev.sigstore.bundle.predicateType"],
        SLSA02
    );
    assert_eq!(
        referrer["annotations"]["dev.sigstore.bundle.content"],
        "dsse-envelope"
    );
    let layer = &layers(&referrer)[0];
    assert_eq!(layer["mediaType"], BUNDLE);
    let bundle_bytes = reg.blob("app", layer["digest"].as_str().unwrap());
    let bundle: Value = serde_json::from_slice(&bundle_bytes).unwrap();
    assert_eq!(bundle["mediaType"], BUNDLE);
    assert_eq!(
        bundle["verificationMaterial"]["publicKey"]["hint"],
        STANDARD.encode(Sha256::digest(cosign_key().public_key().spki_der()))
    );
    assert_eq!(bundle["dsseEnvelope"]["payloadType"], IN_TOTO);
    // Like cosign's, the bundle's signature has no keyid (protojson leaves out
    // the empty string); securesystemslib's parser insists on the field.
    let mut envelope = bundle["dsseEnvelope"].clone();
    for sig in envelope["signatures"].as_array_mut().unwrap() {
        assert!(sig.get("keyid").is_none());
        sig["keyid"] = json!("");
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&envelope).unwrap()).unwrap();
    let (ok, out) = common::dsse_verify(file.path(), &cosign_pub(), None);
    assert!(ok, "securesystemslib on the bundle's envelope: {out}");

    // No cosign tags in this mode.
    assert!(
        reg.manifest("app", &sig_tag(&image, "att"), OCI_MANIFEST)
            .is_none()
    );

    // An image signature bundle joins the index.
    oci.store(&run_id(), &image_signature(cosign_key(), &image))
        .unwrap();
    let (_, index) = reg.manifest("app", &fallback, OCI_INDEX).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let digests: Vec<&str> = entries
        .iter()
        .map(|e| e["digest"].as_str().unwrap())
        .collect();
    let mut sorted = digests.clone();
    sorted.sort();
    assert_eq!(
        digests, sorted,
        "entries sorted by digest, as go-containerregistry writes them"
    );
    let predicates: Vec<Value> = entries
        .iter()
        .map(|e| {
            let (_, m) = reg
                .manifest("app", e["digest"].as_str().unwrap(), OCI_MANIFEST)
                .unwrap();
            m["annotations"]["dev.sigstore.bundle.predicateType"].clone()
        })
        .collect();
    assert!(predicates.contains(&json!("https://sigstore.dev/cosign/sign/v1")));
    assert!(
        reg.manifest("app", &sig_tag(&image, "sig"), OCI_MANIFEST)
            .is_none()
    );
}

/// `storage.oci.repository.insecure` on a registry that is not this machine's
/// name: HTTPS is tried first (certificates unchecked), then plain HTTP, as
/// go-containerregistry does; without it, HTTPS only.
#[test]
fn insecure_registries_fall_back_to_http() {
    if common::skip_without_shared("insecure_registries_fall_back_to_http") {
        return;
    }
    let reg = Registry::start();
    // The same registry under a name that is not "local": an IPv4-mapped address.
    let port = reg.host.rsplit_once(':').unwrap().1;
    let mapped = format!("[::ffff:127.0.0.1]:{port}");
    if TcpStream::connect(format!("[::ffff:127.0.0.1]:{port}")).is_err() {
        eprintln!("skipped: no IPv6 here to reach {mapped}");
        return;
    }
    let pushed = reg.push_image("app", "latest", "insecure");
    let image = ImageDigest::parse(&format!("{mapped}/app@{}", pushed.digest())).unwrap();

    let err = backend(OciOptions::default())
        .store(&run_id(), &image_signature(cosign_key(), &image))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("oci: TLS with registry {mapped} failed pushing")),
        "{msg}"
    );
    assert!(msg.contains("set storage.oci.repository.insecure"), "{msg}");
    assert!(
        !msg.contains("gave up"),
        "a TLS mismatch is not retried: {msg}"
    );

    backend(OciOptions {
        insecure: true,
        ..Default::default()
    })
    .store(&run_id(), &image_signature(cosign_key(), &image))
    .unwrap();
    let cosign_pem = std::fs::read(cosign_pub()).unwrap();
    cosign_verify(&reg, &pushed, &cosign_pem, None).unwrap();
}

/// `attest --storage oci` without `-o`: the image signatures go to the
/// registry, so attest must not warn that they were "made but not written".
#[test]
fn attest_to_a_registry_without_output_does_not_call_image_signatures_unwritten() {
    let reg = Registry::start();
    let pushed = reg.push_image("app", "v1", "attest-stdout");
    let dir = tempfile::tempdir().unwrap();
    let mut run: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root().join("testdata/runs/taskrun-build.yaml")).unwrap(),
    )
    .unwrap();
    run["status"]["results"] = json!([
        {"name": "IMAGE_URL", "type": "string", "value": format!("{}/app:v1", reg.host)},
        {"name": "IMAGE_DIGEST", "type": "string", "value": pushed.digest()},
    ]);
    let file = dir.path().join("run.json");
    std::fs::write(&file, run.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(["attest", "--key"])
        .arg(root().join("testdata/keys/ed25519.pem"))
        .args(["--storage", "oci"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = common::stderr(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        reg.manifest("app", &sig_tag(&pushed, "sig"), OCI_MANIFEST)
            .is_some(),
        "the image signature was pushed"
    );
    assert!(!stderr.contains("not written"), "{stderr}");
}
