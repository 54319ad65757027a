//! Rekor uploads against a Rekor: the Sigstore JS team's `@sigstore/mock`
//! transparency log behind tests/tools/sigstore-mock/server.js (needs
//! `npm ci --prefix tests/tools/sigstore-mock`), which signs real SETs and
//! checkpoints and keys entries like Rekor; tiny HTTP servers in this process
//! for answers the mock never gives (forged entries, 500s); and entries that
//! the real Rekor (rekor.sigstore.dev and its staging instance) logged, for
//! inclusion proofs through large trees.

use crate::common;
use crate::common::fault::{FaultServer, Reply};

use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chains::run::reference::ImageDigest;
use chains::sign::dsse::{Envelope, IN_TOTO};
use chains::sign::fulcio::{self, FulcioOptions};
use chains::sign::local::LocalSigner;
use chains::sign::{Signer, simplesigning};
use chains::store::rekor::Rekor;
use chains::store::{ArtifactKind, SignedArtifact, StoreError, with_retries};
use chains::tlog::{InclusionProof, LogEntry};
use common::sigstore_mock::{start as mock, unsigned_jwt as jwt, url};
use common::{Service, free_port};
use p256::ecdsa::signature::Verifier;
use p256::pkcs8::DecodePublicKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// Fixtures

/// The log key, as the mock publishes it.
fn log_key(s: &Service) -> String {
    reqwest::blocking::get(format!("{}/api/v1/log/publicKey", url(s)))
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .unwrap()
}

fn testdata(p: &str) -> String {
    std::fs::read_to_string(common::root().join("testdata").join(p)).unwrap()
}

fn p256_signer() -> LocalSigner {
    LocalSigner::from_pem(&testdata("keys/p256-sec1.pem"), "p256-sec1.pem").unwrap()
}

/// A signed in-toto statement of a TaskRun, `tag` making it unique.
fn attestation(signer: &dyn Signer, tag: &str) -> SignedArtifact {
    let statement = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "gcr.io/foo/bar", "digest": {"sha256": hex(&Sha256::digest(tag))}}],
        "predicate": {"buildType": "tekton.dev/v1/TaskRun", "invocation": {"tag": tag}},
    }))
    .unwrap();
    let envelope = Envelope::sign(signer, IN_TOTO, &statement).unwrap();
    SignedArtifact {
        kind: ArtifactKind::TaskRun,
        short_key: "taskrun-0f1e2d3c".into(),
        payload: statement,
        signature: envelope.to_json(),
        envelope: Some(envelope),
        image: None,
        subjects: vec![("gcr.io/foo/bar".into(), hex(&Sha256::digest(tag)))],
        public_key: signer.public_key().clone(),
        certificate: signer.certificate().cloned(),
        tlog: None,
    }
}

/// A cosign image signature (simple signing), `tag` making the image unique.
fn image_signature(signer: &dyn Signer, tag: &str) -> SignedArtifact {
    let digest = hex(&Sha256::digest(tag));
    let image = ImageDigest::parse(&format!("gcr.io/foo/bar@sha256:{digest}")).unwrap();
    let payload = simplesigning::payload(&image);
    SignedArtifact {
        kind: ArtifactKind::Oci,
        short_key: digest[..12].to_string(),
        signature: signer.sign(&payload).unwrap(),
        payload,
        envelope: None,
        image: Some(image),
        subjects: Vec::new(),
        public_key: signer.public_key().clone(),
        certificate: signer.certificate().cloned(),
        tlog: None,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn body_json(entry: &LogEntry) -> Value {
    serde_json::from_slice(&STANDARD.decode(&entry.body).unwrap()).unwrap()
}

fn leaf_hash(data: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    hex(&h.finalize())
}

fn err_text(e: &StoreError) -> String {
    assert_eq!(e.backend, "rekor");
    e.to_string()
}

#[track_caller]
fn assert_rejected(rekor: &Rekor, entry: &LogEntry, reason: &str) {
    let e = rekor
        .verify_entry(entry)
        .expect_err("a tampered entry must not verify");
    let text = err_text(&e);
    assert!(text.contains(reason), "expected {reason:?} in: {text}");
    assert!(!e.transient, "{text}");
}

/// The entry as Rekor's v1 API writes it (`{"<id>": LogEntryAnon}`).
fn wire(entry: &LogEntry) -> Value {
    let mut verification = json!({"signedEntryTimestamp": entry.signed_entry_timestamp});
    if let Some(p) = &entry.inclusion_proof {
        verification["inclusionProof"] = json!({
            "logIndex": p.log_index,
            "treeSize": p.tree_size,
            "rootHash": p.root_hash,
            "hashes": p.hashes,
            "checkpoint": p.checkpoint,
        });
    }
    json!({entry.uuid.clone(): {
        "body": entry.body,
        "integratedTime": entry.integrated_time,
        "logID": entry.log_id,
        "logIndex": entry.log_index,
        "verification": verification,
    }})
}

type Answer = (u16, Vec<(&'static str, String)>, String);

/// The fault server answering every request with `answer(method, target)`.
fn fake(answer: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> FaultServer {
    FaultServer::start(move |req, _| {
        let (status, headers, body) = answer(&req.method, &req.target);
        headers
            .into_iter()
            .fold(Reply::new(status, body), |reply, (k, v)| reply.header(k, v))
    })
}

/// A Rekor at `fake` that trusts the mock's log key.
fn replaying(entry: &LogEntry, key: &str) -> (FaultServer, Rekor) {
    let answer = wire(entry).to_string();
    let f = fake(move |_, _| (201, Vec::new(), answer.clone()));
    let rekor = Rekor::new(&f.url(), Some(key)).unwrap();
    (f, rekor)
}

// ---------------------------------------------------------------------------
// Uploads against the mock

#[test]
fn an_attestation_is_logged_as_a_verified_dsse_entry() {
    let service = mock();
    let rekor = Rekor::new(&url(&service), None).expect("the log key is fetched");
    let signer = p256_signer();
    let artifact = attestation(&signer, "dsse");
    let entry = rekor.upload(&artifact).expect("uploaded and verified");

    // Rekor's canonical dsse body: hashes of envelope and payload, and the
    // signature with its verifier (our key, as Go writes PEM).
    let body = body_json(&entry);
    assert_eq!(body["kind"], "dsse");
    assert_eq!(body["apiVersion"], "0.0.1");
    assert_eq!(
        body["spec"]["envelopeHash"],
        json!({"algorithm": "sha256", "value": hex(&Sha256::digest(&artifact.signature))})
    );
    assert_eq!(
        body["spec"]["payloadHash"],
        json!({"algorithm": "sha256", "value": hex(&Sha256::digest(&artifact.payload))})
    );
    let envelope = artifact.envelope.as_ref().unwrap();
    assert_eq!(
        body["spec"]["signatures"],
        json!([{
            "signature": envelope.signatures[0].sig,
            "verifier": STANDARD.encode(signer.public_key().to_pem()),
        }])
    );

    // Entry ID = tree ID + leaf hash of the body; a proof and a checkpoint.
    assert_eq!(entry.uuid.len(), 80, "{}", entry.uuid);
    assert_eq!(
        entry.uuid[16..],
        leaf_hash(&STANDARD.decode(&entry.body).unwrap())
    );
    let proof = entry.inclusion_proof.as_ref().expect("an inclusion proof");
    assert!(proof.checkpoint.is_some(), "the mock signs a checkpoint");
    assert_eq!(
        entry.log_id,
        hex(&Sha256::digest(
            chains::pem::decode(&log_key(&service), &["PUBLIC KEY"]).unwrap()
        ))
    );

    // Verified again offline, with the key fetched or given.
    rekor.verify_entry(&entry).unwrap();
    Rekor::new(&url(&service), Some(&log_key(&service)))
        .unwrap()
        .verify_entry(&entry)
        .unwrap();

    // The annotation URL serves this entry.
    let at = rekor.entry_url(&entry);
    assert_eq!(
        at,
        format!(
            "{}/api/v1/log/entries?logIndex={}",
            url(&service),
            entry.log_index
        )
    );
    let served: Value = reqwest::blocking::get(&at).unwrap().json().unwrap();
    assert_eq!(served[&entry.uuid]["body"], json!(entry.body));
}

#[test]
fn an_image_signature_is_logged_as_a_verified_hashedrekord_entry() {
    let service = mock();
    let key = log_key(&service);
    let rekor = Rekor::new(&format!("{}/", url(&service)), Some(&key)).unwrap();
    let signer = p256_signer();
    let artifact = image_signature(&signer, "hashedrekord");
    let entry = rekor.upload(&artifact).expect("uploaded and verified");

    let body = body_json(&entry);
    assert_eq!(
        body,
        json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex(&Sha256::digest(&artifact.payload))}},
                "signature": {
                    "content": STANDARD.encode(&artifact.signature),
                    "publicKey": {"content": STANDARD.encode(signer.public_key().to_pem())},
                },
            },
        })
    );
    rekor.verify_entry(&entry).unwrap();
    // A trailing slash in the URL does not end up in the annotation.
    assert!(
        rekor
            .entry_url(&entry)
            .starts_with(&format!("{}/api/v1/log/entries?logIndex=", url(&service)))
    );
}

#[test]
fn keyless_entries_record_the_certificate() {
    let service = mock();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signer = fulcio::load(&FulcioOptions {
        url: url(&service),
        identity_token: jwt(json!({
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": "system:serviceaccount:tekton-chains:tekton-chains-controller",
            "aud": "sigstore", "iat": now, "exp": now + 600,
        })),
    })
    .unwrap();
    let cert = signer.certificate().unwrap().certificate_pem.clone();
    let cert_b64 = STANDARD.encode(&cert);

    let rekor = Rekor::new(&url(&service), None).unwrap();
    let att = rekor
        .upload(&attestation(signer.as_ref(), "keyless"))
        .unwrap();
    assert_eq!(
        body_json(&att)["spec"]["signatures"][0]["verifier"],
        json!(cert_b64)
    );
    let img = rekor
        .upload(&image_signature(signer.as_ref(), "keyless"))
        .unwrap();
    assert_eq!(
        body_json(&img)["spec"]["signature"]["publicKey"]["content"],
        json!(cert_b64)
    );
}

#[test]
fn a_duplicate_upload_returns_the_logged_entry() {
    let service = mock();
    let rekor = Rekor::new(&url(&service), None).unwrap();
    let signer = p256_signer();
    for artifact in [
        attestation(&signer, "twice"),
        image_signature(&signer, "twice"),
    ] {
        let first = rekor.upload(&artifact).unwrap();
        // The mock answers 409 + Location; the logged entry is fetched and verified.
        let again = rekor.upload(&artifact).unwrap();
        assert_eq!(again, first);
    }
    // The 409s really happened.
    let log = std::fs::read_to_string(
        std::env::temp_dir().join(format!("chains-test-sigstore-mock-{}.log", service.port)),
    )
    .unwrap();
    assert_eq!(
        log.matches("POST /api/v1/log/entries 409").count(),
        2,
        "{log}"
    );
}

#[test]
fn a_refused_entry_is_a_permanent_error_with_rekors_message() {
    let service = mock();
    let rekor = Rekor::new(&url(&service), None).unwrap();
    let signer = p256_signer();
    let mut artifact = attestation(&signer, "refused");
    // Sign with one key, claim another: Rekor cannot verify the envelope.
    let other = LocalSigner::from_pem(&testdata("keys/p384.pem"), "p384.pem").unwrap();
    artifact.public_key = other.public_key().clone();
    let calls = AtomicUsize::new(0);
    let e = with_retries(|| {
        calls.fetch_add(1, Ordering::SeqCst);
        rekor.upload(&artifact)
    })
    .unwrap_err();
    let text = err_text(&e);
    assert!(!e.transient, "{text}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a 4xx is not retried");
    assert!(text.contains("refused the entry (HTTP 400)"), "{text}");
    assert!(
        text.contains("all signatures must have a key that verifies it"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// Entries that must not be used

#[test]
fn tampered_entries_are_rejected_with_the_reason() {
    let service = mock();
    let rekor = Rekor::new(&url(&service), None).unwrap();
    let signer = p256_signer();
    let good = rekor.upload(&attestation(&signer, "tamper")).unwrap();
    let other = rekor.upload(&image_signature(&signer, "tamper")).unwrap();
    rekor.verify_entry(&good).unwrap();

    const SET: &str = "signed entry timestamp does not verify against the log key";

    // The SET: another entry's, or one bit changed.
    let mut e = good.clone();
    e.signed_entry_timestamp = other.signed_entry_timestamp.clone();
    assert_rejected(&rekor, &e, SET);
    let mut e = good.clone();
    let mut set = STANDARD.decode(&e.signed_entry_timestamp).unwrap();
    let n = set.len();
    set[n - 3] ^= 1;
    e.signed_entry_timestamp = STANDARD.encode(set);
    assert_rejected(&rekor, &e, SET);
    let mut e = good.clone();
    e.signed_entry_timestamp = "not base64!".into();
    assert_rejected(&rekor, &e, SET);

    // The signed fields: time, index.
    let mut e = good.clone();
    e.integrated_time += 1;
    assert_rejected(&rekor, &e, SET);
    let mut e = good.clone();
    e.log_index += 1;
    assert_rejected(&rekor, &e, SET);

    // The body: another entry's body under this UUID ...
    let mut e = good.clone();
    e.body = other.body.clone();
    assert_rejected(&rekor, &e, "body does not match its UUID");
    // ... or without the UUID, caught by the SET (and by the proof).
    e.uuid.clear();
    assert_rejected(&rekor, &e, SET);
    // Without a SET, the inclusion proof to the signed checkpoint still
    // shows the entry is in the log (as for Rekor v2 entries); it only gives
    // no trusted time.
    let mut e = good.clone();
    e.uuid.clear();
    e.signed_entry_timestamp = String::new();
    rekor.verify_entry(&e).unwrap();
    // With neither, nothing shows it.
    e.inclusion_proof = None;
    assert_rejected(
        &rekor,
        &e,
        "neither a signed entry timestamp nor an inclusion proof",
    );

    // The inclusion proof: root, index, size, an extra hash, a bad hash.
    let proof = |f: &dyn Fn(&mut InclusionProof)| {
        let mut e = good.clone();
        f(e.inclusion_proof.as_mut().unwrap());
        e
    };
    const PROOF: &str = "inclusion proof does not verify";
    let other_root = other.inclusion_proof.as_ref().unwrap().root_hash.clone();
    assert_rejected(&rekor, &proof(&|p| p.root_hash = other_root.clone()), PROOF);
    assert_rejected(&rekor, &proof(&|p| p.log_index = 1), PROOF);
    assert_rejected(&rekor, &proof(&|p| p.tree_size = 2), PROOF);
    assert_rejected(&rekor, &proof(&|p| p.log_index = -1), PROOF);
    let extra = "ab".repeat(32);
    assert_rejected(&rekor, &proof(&|p| p.hashes.push(extra.clone())), PROOF);
    assert_rejected(
        &rekor,
        &proof(&|p| p.root_hash = "zz".into()),
        "is not a hex SHA-256 hash",
    );

    // The checkpoint: another entry's, or its text changed.
    const CHECKPOINT: &str = "signed checkpoint does not verify against the log key";
    let other_cp = other.inclusion_proof.as_ref().unwrap().checkpoint.clone();
    assert_rejected(
        &rekor,
        &proof(&|p| p.checkpoint = other_cp.clone()),
        CHECKPOINT,
    );
    assert_rejected(
        &rekor,
        &proof(&|p| {
            let cp = p.checkpoint.take().unwrap();
            let mut lines: Vec<&str> = cp.split('\n').collect();
            lines[0] = "evil.example.com - 1";
            p.checkpoint = Some(lines.join("\n"));
        }),
        CHECKPOINT,
    );
    assert_rejected(
        &rekor,
        &proof(&|p| p.checkpoint = Some("garbage".into())),
        CHECKPOINT,
    );
    // A proof without a checkpoint shows only that the entry is in some
    // tree: refused (sigstore-python's rule).
    assert_rejected(
        &rekor,
        &proof(&|p| p.checkpoint = None),
        "inclusion proof has no checkpoint",
    );
}

#[test]
fn entries_verify_only_against_the_log_key() {
    let service = mock();
    let rekor = Rekor::new(&url(&service), None).unwrap();
    let entry = rekor
        .upload(&attestation(&p256_signer(), "wrong key"))
        .unwrap();

    // Another key (a P-256 key of ours, not the log's).
    let wrong = p256_signer().public_key().to_pem();
    let other = Rekor::new(&url(&service), Some(&wrong)).unwrap();
    assert_rejected(&other, &entry, "no log key given has that ID");
    // ... even when the entry claims that key's log ID.
    let mut e = entry.clone();
    e.log_id = hex(&Sha256::digest(p256_signer().public_key().spki_der()));
    assert_rejected(
        &other,
        &e,
        "signed entry timestamp does not verify against the log key: the signature is not the log's",
    );

    // A rotated key set that includes the log key verifies.
    let both = format!("{wrong}{}", log_key(&service));
    Rekor::new(&url(&service), Some(&both))
        .unwrap()
        .verify_entry(&entry)
        .unwrap();

    // Keys that are not log keys are refused up front.
    let rsa = std::fs::read_to_string(common::root().join("testdata/keys/rsa.pub")).unwrap();
    let e = Rekor::new(&url(&service), Some(&rsa)).unwrap_err();
    assert!(err_text(&e).contains("RSA"), "{e}");
    let e = Rekor::new(&url(&service), Some("not a key")).unwrap_err();
    assert!(err_text(&e).contains("no PEM PUBLIC KEY"), "{e}");
}

#[test]
fn an_upload_never_returns_an_entry_that_does_not_verify() {
    let service = mock();
    let key = log_key(&service);
    let rekor = Rekor::new(&url(&service), None).unwrap();
    let signer = p256_signer();
    let artifact = attestation(&signer, "forged");
    let good = rekor.upload(&artifact).unwrap();

    // A Rekor that answers with a forged SET.
    let mut forged = good.clone();
    let other = rekor.upload(&image_signature(&signer, "forged")).unwrap();
    forged.signed_entry_timestamp = other.signed_entry_timestamp.clone();
    let (_f, liar) = replaying(&forged, &key);
    let e = liar.upload(&artifact).unwrap_err();
    assert!(
        err_text(&e).contains(
            "Rekor returned an entry that does not verify: its signed entry timestamp does not verify against the log key"
        ),
        "{e}"
    );
    assert!(!e.transient);

    // A Rekor that answers with a genuine entry for another artifact.
    let (_f, liar) = replaying(&other, &key);
    let e = liar.upload(&artifact).unwrap_err();
    assert!(
        err_text(&e).contains("Rekor returned an entry that does not record this artifact"),
        "{e}"
    );
    // ... or for the same statement signed again (another envelope).
    let again = rekor.upload(&attestation(&signer, "forged")).unwrap();
    let same_statement = SignedArtifact {
        signature: {
            let mut env: Envelope = serde_json::from_slice(&artifact.signature).unwrap();
            env.signatures[0].keyid = "another keyid".into();
            serde_json::to_vec(&env).unwrap()
        },
        ..artifact.clone()
    };
    let (_f, liar) = replaying(&again, &key);
    let e = liar.upload(&same_statement).unwrap_err();
    assert!(err_text(&e).contains("envelope hash"), "{e}");

    // A Rekor that sends no inclusion proof.
    let mut bare = good.clone();
    bare.inclusion_proof = None;
    let (_f, liar) = replaying(&bare, &key);
    let e = liar.upload(&artifact).unwrap_err();
    assert!(err_text(&e).contains("has no inclusion proof"), "{e}");

    // The genuine answer is accepted from the same kind of server.
    let (_f, honest) = replaying(&good, &key);
    assert_eq!(honest.upload(&artifact).unwrap(), good);
}

// ---------------------------------------------------------------------------
// Failures of the service

#[test]
fn an_unreachable_rekor_fails_fast_and_clearly() {
    let port = free_port();
    let at = format!("http://127.0.0.1:{port}");
    let e = Rekor::new(&at, None).unwrap_err();
    assert!(
        err_text(&e).contains(&format!("cannot reach Rekor at {at}")),
        "{e}"
    );
    assert!(!e.transient);

    let service = mock();
    let key = log_key(&service);
    let rekor = Rekor::new(&at, Some(&key)).unwrap();
    let e = with_retries(|| rekor.upload(&attestation(&p256_signer(), "nowhere"))).unwrap_err();
    assert!(
        err_text(&e).contains(&format!("cannot reach Rekor at {at}")),
        "{e}"
    );
    // Nobody listening is not retried (no "tried N times").
    assert!(!err_text(&e).contains("(tried "), "{e}");

    let e = Rekor::new("rekor.example.com", Some(&key)).unwrap_err();
    assert!(err_text(&e).contains("not an http(s) URL"), "{e}");

    // A password in the URL stays out of messages.
    let secret = format!("http://user:s3cret@127.0.0.1:{port}");
    let e = Rekor::new(&secret, None).unwrap_err();
    assert!(!err_text(&e).contains("s3cret"), "{e}");
    assert!(err_text(&e).contains("cannot reach Rekor"), "{e}");
}

#[test]
fn server_errors_are_retried_then_reported() {
    let service = mock();
    let key = log_key(&service);
    let f = fake(|_, _| {
        (
            500,
            Vec::new(),
            r#"{"code":500,"message":"unexpected error communicating with transparency log"}"#
                .into(),
        )
    });
    let rekor = Rekor::new(&f.url(), Some(&key)).unwrap();
    let artifact = image_signature(&p256_signer(), "500");
    let e = with_retries(|| rekor.upload(&artifact)).unwrap_err();
    let text = err_text(&e);
    // A spent retry is final (store::retry): nobody retries it again.
    assert!(!e.transient, "{text}");
    assert!(text.contains("answered HTTP 500"), "{text}");
    assert!(
        text.contains("unexpected error communicating with transparency log"),
        "{text}"
    );
    assert_eq!(f.hits(), 4, "tried four times");

    // 429 is transient too; the public key fetch is retried as well.
    let f = fake(|_, _| (429, Vec::new(), "slow down".into()));
    let e = Rekor::new(&f.url(), None).unwrap_err();
    assert!(!e.transient && err_text(&e).contains("HTTP 429"), "{e}");
    assert_eq!(f.hits(), 4);

    // A 409 without a Location or UUID is a clear error.
    let f = fake(|_, _| (409, Vec::new(), r#"{"code":409,"message":"exists"}"#.into()));
    let rekor = Rekor::new(&f.url(), Some(&key)).unwrap();
    let e = rekor.upload(&artifact).unwrap_err();
    assert!(err_text(&e).contains("HTTP 409"), "{e}");

    // Garbage instead of an entry.
    let f = fake(|_, _| (201, Vec::new(), "[]".into()));
    let rekor = Rekor::new(&f.url(), Some(&key)).unwrap();
    let e = rekor.upload(&artifact).unwrap_err();
    assert!(err_text(&e).contains("unusable answer"), "{e}");
}

#[test]
fn a_409_entry_must_be_the_one_asked_for() {
    let service = mock();
    let key = log_key(&service);
    let rekor = Rekor::new(&url(&service), None).unwrap();
    let signer = p256_signer();
    let artifact = attestation(&signer, "409");
    let entry = rekor.upload(&artifact).unwrap();
    let other = rekor.upload(&image_signature(&signer, "409")).unwrap();

    // 409 pointing at the entry, then the entry: accepted.
    let answer = wire(&entry).to_string();
    let location = format!("/api/v1/log/entries/{}", &entry.uuid[16..]);
    let f = fake(move |method, _| match method {
        "POST" => (409, vec![("Location", location.clone())], "{}".into()),
        _ => (200, Vec::new(), answer.clone()),
    });
    let via = Rekor::new(&f.url(), Some(&key)).unwrap();
    assert_eq!(via.upload(&artifact).unwrap(), entry);

    // 409 pointing at the entry, then another entry: refused.
    let answer = wire(&other).to_string();
    let location = format!("/api/v1/log/entries/{}", entry.uuid);
    let f = fake(move |method, _| match method {
        "POST" => (409, vec![("Location", location.clone())], "{}".into()),
        _ => (200, Vec::new(), answer.clone()),
    });
    let via = Rekor::new(&f.url(), Some(&key)).unwrap();
    let e = via.upload(&artifact).unwrap_err();
    assert!(err_text(&e).contains("asked for entry"), "{e}");
}

// ---------------------------------------------------------------------------
// What Chains records

#[test]
fn the_cosign_bundle_has_cosigns_fields_and_a_set_anyone_can_check() {
    let service = mock();
    let rekor = Rekor::new(&url(&service), None).unwrap();
    let entry = rekor
        .upload(&image_signature(&p256_signer(), "bundle"))
        .unwrap();
    let bundle = entry.cosign_bundle_json();
    assert_eq!(
        bundle,
        format!(
            r#"{{"SignedEntryTimestamp":"{}","Payload":{{"body":"{}","integratedTime":{},"logIndex":{},"logID":"{}"}}}}"#,
            entry.signed_entry_timestamp,
            entry.body,
            entry.integrated_time,
            entry.log_index,
            entry.log_id
        )
    );

    // cosign's check, done here with p256 directly: the SET signs the
    // canonical (sorted, compact) JSON of the payload.
    let parsed: Value = serde_json::from_str(&bundle).unwrap();
    let p = &parsed["Payload"];
    let signed = format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        p["body"].as_str().unwrap(),
        p["integratedTime"],
        p["logID"].as_str().unwrap(),
        p["logIndex"]
    );
    let key = p256::ecdsa::VerifyingKey::from_public_key_pem(&log_key(&service)).unwrap();
    let sig = p256::ecdsa::Signature::from_der(
        &STANDARD
            .decode(parsed["SignedEntryTimestamp"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    key.verify(signed.as_bytes(), &sig)
        .expect("the SET verifies independently");
}

/// A `tlogEntries[]` element of a Sigstore bundle back into an entry.
fn from_bundle(e: &Value) -> LogEntry {
    let b64_hex = |v: &Value| hex(&STANDARD.decode(v.as_str().unwrap()).unwrap());
    let int = |v: &Value| v.as_str().unwrap().parse::<i64>().unwrap();
    let p = &e["inclusionProof"];
    LogEntry {
        uuid: String::new(),
        log_index: int(&e["logIndex"]),
        integrated_time: int(&e["integratedTime"]),
        log_id: b64_hex(&e["logId"]["keyId"]),
        body: e["canonicalizedBody"].as_str().unwrap().to_string(),
        signed_entry_timestamp: e["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .unwrap()
            .to_string(),
        inclusion_proof: (!p.is_null()).then(|| InclusionProof {
            log_index: int(&p["logIndex"]),
            tree_size: int(&p["treeSize"]),
            root_hash: b64_hex(&p["rootHash"]),
            hashes: p["hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(b64_hex)
                .collect(),
            checkpoint: p["checkpoint"]["envelope"].as_str().map(str::to_string),
        }),
    }
}

#[test]
fn the_bundle_tlog_entry_is_protobuf_json() {
    let service = mock();
    let rekor = Rekor::new(&url(&service), None).unwrap();
    let entry = rekor
        .upload(&attestation(&p256_signer(), "bundle v0.3"))
        .unwrap();
    let t = chains::sigstore::bundle::tlog_entry(&entry);
    let proof = entry.inclusion_proof.as_ref().unwrap();
    assert_eq!(t["logIndex"], json!(entry.log_index.to_string()));
    assert_eq!(
        t["integratedTime"],
        json!(entry.integrated_time.to_string())
    );
    assert_eq!(
        t["kindVersion"],
        json!({"kind": "dsse", "version": "0.0.1"})
    );
    assert_eq!(
        STANDARD
            .decode(t["logId"]["keyId"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert_eq!(
        t["inclusionPromise"],
        json!({"signedEntryTimestamp": entry.signed_entry_timestamp})
    );
    assert_eq!(t["canonicalizedBody"], json!(entry.body));
    assert_eq!(
        t["inclusionProof"]["treeSize"],
        json!(proof.tree_size.to_string())
    );
    assert_eq!(
        t["inclusionProof"]["checkpoint"]["envelope"],
        json!(proof.checkpoint.clone().unwrap())
    );
    let mut back = from_bundle(&t);
    back.uuid = entry.uuid.clone();
    assert_eq!(back, entry, "nothing is lost");
}

// ---------------------------------------------------------------------------
// Entries the real Rekor logged (public data from sigstore-python's test assets
// at 27db13db: test/assets/bundle_v3.txt.sigstore, staging, with a checkpoint;
// test/assets/integration/Python-3.12.5.tgz.sigstore, production).

const STAGING_REKOR_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDODRU688UYGuy54mNUlaEBiQdTE9
nYLr0lg6RXowI/QV/RE1azBn4Eg5/2uTOMbhB1/gfcHzijzFi9Tk+g1Prg==
-----END PUBLIC KEY-----
";

const PRODUCTION_REKOR_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr
kBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==
-----END PUBLIC KEY-----
";

const STAGING_ENTRY: &str = r#"{
  "logIndex": "25915956",
  "logId": {
    "keyId": "0y8wo8MtY5wrdiIFohx7sHeI5oKDpK5vQhGHI6G+pJY="
  },
  "kindVersion": {
    "kind": "hashedrekord",
    "version": "0.0.1"
  },
  "integratedTime": "1712085549",
  "inclusionPromise": {
    "signedEntryTimestamp": "MEYCIQD2KXW1NppUhkPPzGR8NrUIyN+MzZSSqGZQO7CzvhSnYgIhAO9AHzjbsr1AHXRHmEpdPZcoFHEwwMTgfqwjoOXVMmqN"
  },
  "inclusionProof": {
    "logIndex": "25901137",
    "rootHash": "iGAoHccJIyFemFxmEftti2YC8hvPqixBi5y1EyvfF4c=",
    "treeSize": "25901138",
    "hashes": [
      "UHUr+lvxENI+G902oEsFW5ovQILgqO9mUWWxvvwHZZc=",
      "IcMBsbH3GRW8FX2CiL/ljMb45vzmENmhp5Yp/7IW998=",
      "SxC6nr0zP+a6kWb6nO2fmEtz8BYAbqEXc+dsqGLdRPM=",
      "sppZRSz/vdeLlavgvICrXHLeReMTJw98bs9HJ0I8WnE=",
      "c8lCSuBS6MzrRnt6OiyYjqhTyxUI/22gpVB7dblfDis=",
      "eJk64J6cMpIljPSX/72kH0kiIeElyypQm5vJ2gMMyHw=",
      "hbIK+jmAwQjU7Yi3iKvnfR1u7GNippk7QsRwJXIuRaw=",
      "tpHWIEB2vNU5ZmC68dj1Hh9cwQK083ozogA6zJ3cJ8A=",
      "arvuzAipUJ14nDj14OBlvkMSicjdsE9Eus3hq9Jpqdk=",
      "Edul4W41O3EfxKEEMlX2nW0+GTgCv00nGmcpwhALgVA=",
      "rBWB37+HwkTZgDv0rMtGBUoDI0UZqcgDZp48M6CaUlA="
    ],
    "checkpoint": {
      "envelope": "rekor.sigstage.dev - 8050909264565447525\n25901138\niGAoHccJIyFemFxmEftti2YC8hvPqixBi5y1EyvfF4c=\n\n\u2014 rekor.sigstage.dev 0y8wozBFAiAMJJLbnNOnmizMbVBz9/A/qnMK15BudWoZkuE+obD6CAIhAJf6A3h2iOpuhz/duEhG3fbAQG9PXln4wXPHFBT5wT1a\n"
    }
  },
  "canonicalizedBody": "eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIiwic3BlYyI6eyJkYXRhIjp7Imhhc2giOnsiYWxnb3JpdGhtIjoic2hhMjU2IiwidmFsdWUiOiI1ZTZhZTlkZTU4YzExNzdiZWE2MTViNGZjYmZiMmZkNjg4ZThjNGI1MWMyZTU2YjZhMzhlODE3ODMzZWMyNGEyIn19LCJzaWduYXR1cmUiOnsiY29udGVudCI6Ik1FVUNJRFFTSmk5YWVydFFobVQrY2UxaktOZENlNEtTY3NLR3E5ZlBtMzQyMkRCU0FpRUFoajFzeFo5Nm9ySVRzUXh5TUxJRFJKaW1wb3kxSjFNeWZsY1FWd2tremhzPSIsInB1YmxpY0tleSI6eyJjb250ZW50IjoiTFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2sxSlNVTXhSRU5EUVd4eFowRjNTVUpCWjBsVlR6TjBiRlppVEhSMlRGQndLelo2UjA5MFpYQXhVMUJyVW1sbmQwTm5XVWxMYjFwSmVtb3dSVUYzVFhjS1RucEZWazFDVFVkQk1WVkZRMmhOVFdNeWJHNWpNMUoyWTIxVmRWcEhWakpOVWpSM1NFRlpSRlpSVVVSRmVGWjZZVmRrZW1SSE9YbGFVekZ3WW01U2JBcGpiVEZzV2tkc2FHUkhWWGRJYUdOT1RXcFJkMDVFUVhsTlZHdDRUMVJCTlZkb1kwNU5hbEYzVGtSQmVVMVVhM2xQVkVFMVYycEJRVTFHYTNkRmQxbElDa3R2V2tsNmFqQkRRVkZaU1V0dldrbDZhakJFUVZGalJGRm5RVVZPWkhKbWNHZE9WVEZTYW0xNksybzJOWEp3U2xkTFl6QTRjblZMV1hrMFJsZzNibTBLYlU5dVltRjFSbHBwYlhOUldISmtlVVJUV0V0T1VuUkZXRmcwV0ROMEwwRnRkQ3RsZFhkUVJFSm9LMlZ4TjBKRGJuRlBRMEZZYTNkblowWXhUVUUwUndwQk1WVmtSSGRGUWk5M1VVVkJkMGxJWjBSQlZFSm5UbFpJVTFWRlJFUkJTMEpuWjNKQ1owVkdRbEZqUkVGNlFXUkNaMDVXU0ZFMFJVWm5VVlZIVW14Q0NtaEVNSGQyZWtGbVRHSXlaRTFYVDJkUWNuSktkVkpyZDBoM1dVUldVakJxUWtKbmQwWnZRVlZqV1ZsM2NHaFNPRmx0THpVNU9XSXdRbEp3TDFndkwzSUtZalozZDBsM1dVUldVakJTUVZGSUwwSkNhM2RHTkVWV1pESnNjMkpIYkdoaVZVSTFZak5PZWxsWVNuQlpWelIxWW0xV01FMURkMGREYVhOSFFWRlJRZ3BuTnpoM1FWRkZSVWh0YURCa1NFSjZUMms0ZGxveWJEQmhTRlpwVEcxT2RtSlRPWE5pTW1Sd1ltazVkbGxZVmpCaFJFRjFRbWR2Y2tKblJVVkJXVTh2Q2sxQlJVbENRMEZOU0cxb01HUklRbnBQYVRoMldqSnNNR0ZJVm1sTWJVNTJZbE01YzJJeVpIQmlhVGwyV1ZoV01HRkVRMEpwWjFsTFMzZFpRa0pCU0ZjS1pWRkpSVUZuVWpoQ1NHOUJaVUZDTWtGRGMzZDJUbmh2YVUxdWFUUmtaMjFMVmpVd1NEQm5OVTFhV1VNNGNIZDZlVEUxUkZGUU5ubHlTVm8yUVVGQlFncHFjVUpCVVZvMFFVRkJVVVJCUldOM1VsRkpaMlZYVlcxMGJrUXdUVVpWYkRWcmExZzNibUpOWkV4WFEzTkVSMGxRZW1SSmJFNHJWMkZhUmpCVWJXdERDa2xSUXpjck16RnpZWEZ5Um1VNVVtMWtkVlphTW1SNFdHaFZVSEpoYW14MGRWTkVTR0l4ZGxOSFQyTjFTR3BCUzBKblozRm9hMnBQVUZGUlJFRjNUbThLUVVSQ2JFRnFSVUZ1TWl0MWRVeEljMjVJT1VSaU4zcHJTV1JHTmpWWmFHbFlZbWROVFVZdkwybElZeXRDTDFGRlZFc3dTRmxXWTA5UVZFc3pjRFEyUmdwVmVsaEdSRFo0Y2tGcVFVOHlhSEpyWm1wQ1MwRk9TMnBLU25oSVZqTkdWbkowVXl0VVVqQkhRMUF3U0hwRE0wUTNRbkk1TlZSWWVtWlBOeXRxTkVSa0NqZ3ZUaTloUVhJMlNXSnpQUW90TFMwdExVVk9SQ0JEUlZKVVNVWkpRMEZVUlMwdExTMHRDZz09In19fX0="
}"#;

const PRODUCTION_ENTRY: &str = r#"{
  "logIndex": "118981923",
  "logId": {
    "keyId": "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="
  },
  "kindVersion": {
    "kind": "hashedrekord",
    "version": "0.0.1"
  },
  "integratedTime": "1722976367",
  "inclusionPromise": {
    "signedEntryTimestamp": "MEUCIFHZzeCjijPmhyFe2nM04kIAJ7MUxBZUE5/dDN2az/YYAiEApLjBB/nZJJHYoMXhg+VfKOPmRNymdDQevt390XU6xoo="
  },
  "inclusionProof": {
    "logIndex": "114818492",
    "rootHash": "IqAkWiiNkCTFxyYb94s81eNqaapA73SgxBxd06iPI04=",
    "treeSize": "114818493",
    "hashes": [
      "PMN+wGyFObrmIvP3UuG8F/K3r+S5gnVUNjTG9KRxSQI=",
      "IbBdNH70ZqaY+VA0Gox1yc/e7rTLDAr00GFLtAS1mM0=",
      "d9hP0b+P5gvyMADKIkgpYQfvzecgmGRsUAAfRXSkCvQ=",
      "0mWfN8v15Z2C5/2mwHGp1Tns3g82mm+8tcRMCmSlTkQ=",
      "N/jfjW9aFr+UzHBai8+y+VBVG5BztJO/AZcC+BxllRg=",
      "aVnjeQ4AARM1lia/y4Z6qLrK9b7yLU9GvzYjrhVNIGQ=",
      "/oczRbnX0wVoMcxf3FonUslk7JCszDsgFwdWN3hQ/PI=",
      "bJQEErUPH5I1mbnua8mOhyl0xwcbcK3SE1ktgx9zIZc=",
      "mJjriUsaYb3cYi8BAKBoYkXOb60BV9QLvVl4JkCof8s=",
      "FuqiuF+HGbxEPfTq5V1LEOD2xEkbOhSTHhh9OgesRec=",
      "gdYky8OkC3TR65e8i+N+u+FW8WwVOWv3ReiEdspNMoU=",
      "8QWire253mh3dyplsqOeYFI2Ar7vM6tDRPFjeMYLxck=",
      "uQRyyLzWiHmeVVM6L4XonE+3Lh8nQrzaUFXwRnObrjE=",
      "lvYqunhigwQrJ1cNg7lMmilqxS8D8HoDJPLndmoaKoM=",
      "1uSClB8CJleRshjxptJIRvzgY8fg8XITEtJZiU2Exwo=",
      "v7N3pwo5/dDC9hrWE31X4X+pIwTlvQXBlFvUC/xjjdc=",
      "yPZFEKyq0Jj5sObbCwB/LMHlcgQl8ux2d2IkRYWLIt8=",
      "ndmjFxe89oJp4z+fXcLQM1BmC+7Sp8m8VMkNIafNhYk=",
      "a6kLnwN4nPldqWq4OoO6Mz25ZQx1TaLMF0IbMSMVduQ=",
      "98enzMaC+x5oCMvIZQA5z8vu2apDMCFvE/935NfuPw8="
    ]
  },
  "canonicalizedBody": "eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiaGFzaGVkcmVrb3JkIiwic3BlYyI6eyJkYXRhIjp7Imhhc2giOnsiYWxnb3JpdGhtIjoic2hhMjU2IiwidmFsdWUiOiIzOGRjNGUyYzI2MWQ0OWM2NjExOTYwNjZlZGJmYjcwZmRiMTZiZTRhNzljYzgyMjBjMjI0ZGZlYjU2MzZkNDA1In19LCJzaWduYXR1cmUiOnsiY29udGVudCI6Ik1HVUNNQ1YrbnlnYlJ3RUpkRENJNk9vbCs1R0dzL2RidUdOTzdQU3dBMjl4aHBPSjArQUJRdmwxMnBHekszdXp1bEl6aGdJeEFLbWVDSFYvbUs1cGxlTi9zTHFGaWRobGE5VGFVbXNZaFp5SUJJaCs4NmVydy9GTHBQWGI1bloxOEFXTHJGUWZNQT09IiwicHVibGljS2V5Ijp7ImNvbnRlbnQiOiJMUzB0TFMxQ1JVZEpUaUJEUlZKVVNVWkpRMEZVUlMwdExTMHRDazFKU1VNMWVrTkRRVzB5WjBGM1NVSkJaMGxWU214b1JFUnhhakExWmpaVWQwbEZTMDgwV1ZWUkswcGxUVlZuZDBObldVbExiMXBKZW1vd1JVRjNUWGNLVG5wRlZrMUNUVWRCTVZWRlEyaE5UV015Ykc1ak0xSjJZMjFWZFZwSFZqSk5ValIzU0VGWlJGWlJVVVJGZUZaNllWZGtlbVJIT1hsYVV6RndZbTVTYkFwamJURnNXa2RzYUdSSFZYZElhR05PVFdwUmQwOUVRVEpOYWtGNlRXcFJNMWRvWTA1TmFsRjNUMFJCTWsxcVFUQk5hbEV6VjJwQlFVMUlXWGRGUVZsSUNrdHZXa2w2YWpCRFFWRlpSa3MwUlVWQlEwbEVXV2RCUlhsbWVFTjFUWFZUZDNKeE1qZERSSFZZVm05bk56VkZaa3c1VjJaamRWazVXakpPYlhocGEyY0taVVk0YjAxRlJ6UnRUVTRyVlV4eFprNVNMM1ZOT1N0WWVsUTFhV1JsV0ZsUVdYQXJTVGxUYWk5b1JFWjJORWMzWkdzeFdWbG5kbmxUVlhGeVdUZDFlQXBsVlZsMlZsTnJLMWt6V21sUVoyczVRVVIxTm5kUVFYcHZORWxDWW5wRFEwRlhjM2RFWjFsRVZsSXdVRUZSU0M5Q1FWRkVRV2RsUVUxQ1RVZEJNVlZrQ2twUlVVMU5RVzlIUTBOelIwRlJWVVpDZDAxRVRVSXdSMEV4VldSRVoxRlhRa0pTV0hFNE1FOVNNUzlxTVU5b1kxRnNSakF3VTB4SloycHFTMmRFUVdZS1FtZE9Wa2hUVFVWSFJFRlhaMEpVWmpBcmJsQldhVkZTYkhadGJ6SlBhMjlXWVV4SFRHaG9hMUI2UVdaQ1owNVdTRkpGUWtGbU9FVkdWRUZVWjFKR01BcGhSemwwV1ZoT1FXTkliREJoUnpsMVRHMDVlVnA2UVhCQ1oyOXlRbWRGUlVGWlR5OU5RVVZDUWtKMGIyUklVbmRqZW05MlRESkdhbGt5T1RGaWJsSjZDa3h0WkhaaU1tUnpXbE0xYW1JeU1IZExkMWxMUzNkWlFrSkJSMFIyZWtGQ1EwRlJaRVJDZEc5a1NGSjNZM3B2ZGt3eVJtcFpNamt4WW01U2VreHRaSFlLWWpKa2MxcFROV3BpTWpCM1oxbHZSME5wYzBkQlVWRkNNVzVyUTBKQlNVVm1RVkkyUVVoblFXUm5SR1JRVkVKeGVITmpVazF0VFZwSWFIbGFXbnBqUXdwdmEzQmxkVTQwT0hKbUswaHBia3RCVEhsdWRXcG5RVUZCV2tWd1dsQkpVa0ZCUVVWQmQwSklUVVZWUTBsUlJIbFlkMlprTjFodVZrbHBaRWR6UmpGdkNtRjNaV0oyV0hCV2NteExSVFY0WVVkdmVYZDVOMHRWSzFoUlNXZFhhVVp2VVZBMGVYRXdZMXB0ZFZrelFsZENVM1pxV0VNeVRFWklUM1EzTlVKblpHRUtObmRPTkRCdGQzZERaMWxKUzI5YVNYcHFNRVZCZDAxRVlVRkJkMXBSU1hkaVZYTmFUekpIYnpGWVdFcDRNekZNZEhGSE1uZEJObGM0ZVZGVlRYcHZhUXBsUlhrMllWTkdOV2c1UzJFelJ6Z3dka3B1YkVkSmRURkhkakZDWjBkVGRVRnFSVUU0U1RoUE5rNWlOM0JIY0dWcVQxTklSV0lyWlV0R1FtcElTbnB6Q2tGWmFGSmpOQ3RSWVZaVGFUSndiMk01VlUxMlp6QXhjV1pVZEZoNVJTOUljMDVuZHdvdExTMHRMVVZPUkNCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PSJ9fX19"
}"#;

#[test]
fn entries_logged_by_the_real_rekor_verify() {
    for (what, key, text, hashes) in [
        ("staging", STAGING_REKOR_KEY, STAGING_ENTRY, 11),
        ("production", PRODUCTION_REKOR_KEY, PRODUCTION_ENTRY, 20),
    ] {
        let entry = from_bundle(&serde_json::from_str(text).unwrap());
        assert_eq!(
            entry.inclusion_proof.as_ref().unwrap().hashes.len(),
            hashes,
            "{what}"
        );
        let rekor = Rekor::new("https://rekor.example.com", Some(key)).unwrap();
        if entry.inclusion_proof.as_ref().unwrap().checkpoint.is_some() {
            rekor
                .verify_entry(&entry)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        } else {
            // The production entry's proof (as its v0.1 bundle shipped it)
            // has no checkpoint: its path is checked, then it is refused.
            assert_rejected(&rekor, &entry, "inclusion proof has no checkpoint");
        }
        assert_eq!(
            chains::sigstore::bundle::tlog_entry(&entry)["kindVersion"]["kind"],
            "hashedrekord"
        );

        // One hash of the path changed, or the path taken for a neighbour.
        for i in [0, hashes / 2, hashes - 1] {
            let mut e = entry.clone();
            let h = &mut e.inclusion_proof.as_mut().unwrap().hashes[i];
            let flipped = if h.starts_with('0') { "1" } else { "0" };
            h.replace_range(0..1, flipped);
            assert_rejected(&rekor, &e, "inclusion proof does not verify");
        }
        let mut e = entry.clone();
        e.inclusion_proof.as_mut().unwrap().log_index ^= 1;
        assert_rejected(&rekor, &e, "inclusion proof does not verify");

        // Each log's key verifies only its own entries.
        let other = if what == "staging" {
            PRODUCTION_REKOR_KEY
        } else {
            STAGING_REKOR_KEY
        };
        let rekor = Rekor::new("https://rekor.example.com", Some(other)).unwrap();
        assert_rejected(&rekor, &entry, "no log key given has that ID");
    }

    // The staging checkpoint is signed by the staging key and names the proof's root.
    let entry = from_bundle(&serde_json::from_str(STAGING_ENTRY).unwrap());
    assert!(entry.inclusion_proof.as_ref().unwrap().checkpoint.is_some());
    let rekor = Rekor::new("https://rekor.example.com", Some(STAGING_REKOR_KEY)).unwrap();
    let mut e = entry.clone();
    let p = e.inclusion_proof.as_mut().unwrap();
    p.checkpoint = Some(p.checkpoint.take().unwrap().replace("25901138", "25901139"));
    assert_rejected(
        &rekor,
        &e,
        "signed checkpoint does not verify against the log key",
    );
}

#[test]
fn attest_records_the_entry_in_bundles_and_the_run() {
    let rekor = mock();
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chains"))
        .args([
            "attest",
            "--bundle",
            "--tlog-upload",
            "--storage",
            "tekton",
            "--rekor-url",
            &url(&rekor),
            "--key",
        ])
        .arg(common::root().join("testdata/keys/p256-sec1.pem"))
        .arg(common::root().join("testdata/runs/taskrun-build.yaml"))
        .arg("--output-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("taskrun-ci-build-app-7x2kq.sigstore.json")).unwrap(),
    )
    .unwrap();
    let entries = bundle["verificationMaterial"]["tlogEntries"]
        .as_array()
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["kindVersion"]["kind"], "dsse");
    let image: Value = serde_json::from_slice(
        &std::fs::read(
            dir.path()
                .join("taskrun-ci-build-app-7x2kq.image-3b1f6a0e2c9d.sigstore.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        image["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "hashedrekord"
    );
    // The annotated run records where the attestation's entry is, as Chains does.
    let run: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(dir.path().join("taskrun-ci-build-app-7x2kq.yaml")).unwrap(),
    )
    .unwrap();
    let t = run["metadata"]["annotations"]["chains.tekton.dev/transparency"]
        .as_str()
        .unwrap();
    assert!(
        t.starts_with(&format!("{}/api/v1/log/entries?logIndex=", url(&rekor))),
        "{t}"
    );
}
