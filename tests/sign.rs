//! Signing with local keys, checked by verifiers we did not write
//! (securesystemslib for DSSE, `cryptography` for image signatures).

use crate::common;
use crate::common::{stderr, testdata};

use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

fn chains(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chains"));
    c.args(args)
        .env_remove("COSIGN_PASSWORD")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

fn sig_verify(payload: &Path, signature: &Path, key: &Path) -> bool {
    let out = Command::new("python3")
        .arg(common::root().join("tests/tools/sig_verify.py"))
        .args([payload, signature, key])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("ModuleNotFoundError"), "{text}");
    out.status.success()
}

/// Sign the example TaskRun into `dir` with `key`, verify the envelope and the
/// image signature independently, and check that a changed byte fails.
fn sign_and_verify(key: &str, public: &Path, envs: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let run = testdata("runs/taskrun-build.yaml");
    let out = chains(
        &[
            "attest",
            "--key",
            key,
            run.to_str().unwrap(),
            "--output-dir",
            dir.path().to_str().unwrap(),
        ],
        envs,
    );
    assert!(out.status.success(), "{key}: {}", stderr(&out));
    let names = files(dir.path());
    let envelope = dir.path().join("taskrun-ci-build-app-7x2kq.intoto.jsonl");
    assert!(envelope.exists(), "{names:?}");

    let (ok, text) = common::dsse_verify(&envelope, public, None);
    assert!(ok, "{key}: securesystemslib rejected our envelope: {text}");

    // The keyid is Chains': the SSH fingerprint of the public key.
    let env: Value =
        serde_json::from_str(std::fs::read_to_string(&envelope).unwrap().trim()).unwrap();
    let pem = std::fs::read_to_string(public).unwrap();
    let expected = chains::sign::PublicKey::from_pem(&pem).unwrap().key_id();
    assert_eq!(env["signatures"][0]["keyid"], expected);

    // One changed payload byte: rejected.
    let mut payload = STANDARD.decode(env["payload"].as_str().unwrap()).unwrap();
    let i = payload.len() / 2;
    payload[i] ^= 0x01;
    let mut tampered = env.clone();
    tampered["payload"] = Value::String(STANDARD.encode(&payload));
    let bad = dir.path().join("tampered.json");
    std::fs::write(&bad, tampered.to_string()).unwrap();
    let (ok, _) = common::dsse_verify(&bad, public, None);
    assert!(!ok, "{key}: a tampered payload must not verify");

    // The image the TaskRun built is signed with cosign's simple signing payload.
    let stem = "taskrun-ci-build-app-7x2kq.image-3b1f6a0e2c9d";
    let payload_file = dir.path().join(format!("{stem}.payload"));
    let sig_file = dir.path().join(format!("{stem}.signature"));
    let simple: Value = serde_json::from_slice(&std::fs::read(&payload_file).unwrap()).unwrap();
    assert_eq!(
        simple["critical"]["identity"]["docker-reference"],
        "registry.example.com/team/app"
    );
    assert!(
        sig_verify(&payload_file, &sig_file, public),
        "{key}: image signature does not verify"
    );
    let mut flipped = std::fs::read(&payload_file).unwrap();
    flipped[10] ^= 1;
    std::fs::write(&payload_file, flipped).unwrap();
    assert!(!sig_verify(&payload_file, &sig_file, public));
}

#[test]
fn chains_cosign_test_key_signs_verifiably() {
    if common::skip_without_shared("chains_cosign_test_key_signs_verifiably") {
        return;
    }
    let keys = common::shared("conformance/keys");
    sign_and_verify(
        keys.join("cosign.key").to_str().unwrap(),
        &keys.join("cosign.pub"),
        &[("COSIGN_PASSWORD", "p")],
    );
}

#[test]
fn password_file_works_too() {
    if common::skip_without_shared("password_file_works_too") {
        return;
    }
    let keys = common::shared("conformance/keys");
    let out = chains(
        &[
            "attest",
            "-q",
            "--key",
            keys.join("cosign.key").to_str().unwrap(),
            "--password-file",
            keys.join("cosign.password").to_str().unwrap(),
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["payloadType"], "application/vnd.in-toto+json");
}

#[test]
fn chains_x509_test_key_signs_verifiably() {
    if common::skip_without_shared("chains_x509_test_key_signs_verifiably") {
        return;
    }
    // x509.pem is PKCS#8; its public half is derived for the check.
    let dir = tempfile::tempdir().unwrap();
    let key = common::shared("conformance/keys/x509.pem");
    let signer =
        chains::sign::local::LocalSigner::load(&key, &chains::sign::Password::FromEnvironment)
            .unwrap();
    let public = dir.path().join("x509.pub");
    std::fs::write(&public, chains::sign::Signer::public_key(&signer).to_pem()).unwrap();
    sign_and_verify(key.to_str().unwrap(), &public, &[]);
}

#[test]
fn every_pem_key_type_signs_verifiably() {
    for (key, public) in [
        ("keys/rsa.pem", "keys/rsa.pub"),
        ("keys/ed25519.pem", "keys/ed25519.pub"),
        ("keys/p384.pem", "keys/p384.pub"),
    ] {
        sign_and_verify(testdata(key).to_str().unwrap(), &testdata(public), &[]);
    }
}

#[test]
fn wrong_password_fails_cleanly() {
    if common::skip_without_shared("wrong_password_fails_cleanly") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = chains(
        &[
            "attest",
            "--key",
            common::shared("conformance/keys/cosign.key")
                .to_str()
                .unwrap(),
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
            "--output-dir",
            dir.path().to_str().unwrap(),
        ],
        &[("COSIGN_PASSWORD", "hunter2-wrong")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("wrong password"), "{err}");
    assert!(!err.contains("Unsupported key type"), "{err}");
    assert!(
        !err.contains("hunter2-wrong"),
        "the password must never be printed: {err}"
    );
    assert!(files(dir.path()).is_empty(), "nothing written");
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_password_without_a_terminal_says_how_to_give_one() {
    if common::skip_without_shared("missing_password_without_a_terminal_says_how_to_give_one") {
        return;
    }
    let out = chains(
        &[
            "attest",
            "--key",
            common::shared("conformance/keys/cosign.key")
                .to_str()
                .unwrap(),
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("COSIGN_PASSWORD"), "{}", stderr(&out));
}

#[test]
fn missing_or_unsupported_keys_fail_with_exit_1() {
    let run = testdata("runs/taskrun-build.yaml");
    let out = chains(
        &[
            "attest",
            "--key",
            "/nonexistent/cosign.key",
            run.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/cosign.key"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());

    let out = chains(
        &[
            "attest",
            "--key",
            testdata("keys/rsa.pub").to_str().unwrap(),
            run.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a private key"),
        "{}",
        stderr(&out)
    );

    let out = chains(
        &[
            "attest",
            "--key",
            "ftp://example/key",
            run.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unsupported key reference"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_key_names_every_way_to_give_one() {
    let out = chains(
        &[
            "attest",
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for option in [
        "--key",
        "--fulcio-url",
        "--identity-token",
        "--unsigned",
        "signers.kms.kmsref",
    ] {
        assert!(err.contains(option), "{option} missing from: {err}");
    }
}

#[test]
fn stdout_carries_one_envelope_per_run_in_order() {
    let out = chains(
        &[
            "attest",
            "--key",
            testdata("keys/ed25519.pem").to_str().unwrap(),
            testdata("runs").to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert!(
        lines
            .iter()
            .all(|e| e["payloadType"] == "application/vnd.in-toto+json")
    );
    assert!(
        stderr(&out).contains("image signature"),
        "images without -o are reported: {}",
        stderr(&out)
    );
}

#[test]
fn bundles_carry_the_envelope_and_key_hint() {
    let dir = tempfile::tempdir().unwrap();
    let key = testdata("keys/p384.pem");
    let out = chains(
        &[
            "attest",
            "--bundle",
            "--key",
            key.to_str().unwrap(),
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
            "--output-dir",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let path = dir.path().join("taskrun-ci-build-app-7x2kq.sigstore.json");
    let b: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    // cosign's hint (base64 SHA-256 of the key's DER), not Chains' keyid.
    let public = std::fs::read_to_string(testdata("keys/p384.pub")).unwrap();
    let public = chains::sign::PublicKey::from_pem(&public).unwrap();
    assert_eq!(
        b["verificationMaterial"]["publicKey"]["hint"],
        chains::sigstore::bundle::key_hint(&public)
    );

    let (ok, text) = common::dsse_verify(&path, &testdata("keys/p384.pub"), None);
    assert!(ok, "{text}");
    let image = dir
        .path()
        .join("taskrun-ci-build-app-7x2kq.image-3b1f6a0e2c9d.sigstore.json");
    let ib: Value = serde_json::from_slice(&std::fs::read(image).unwrap()).unwrap();
    assert_eq!(
        ib["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_256"
    );
}

#[test]
fn generate_key_pair_writes_a_usable_private_key_readable_only_by_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("mykey");
    let gen_args = [
        "generate-key-pair",
        "--output-key-prefix",
        prefix.to_str().unwrap(),
    ];
    let out = chains(&gen_args, &[("COSIGN_PASSWORD", "s3cret")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("s3cret"));
    let key = dir.path().join("mykey.key");
    let public = dir.path().join("mykey.pub");
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.contains("ENCRYPTED SIGSTORE PRIVATE KEY"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Refuses to overwrite, unless --force.
    let again = chains(&gen_args, &[("COSIGN_PASSWORD", "other")]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        text,
        "the key was not touched"
    );

    sign_and_verify(
        key.to_str().unwrap(),
        &public,
        &[("COSIGN_PASSWORD", "s3cret")],
    );

    let forced = chains(
        &[&gen_args[..], &["--force"]].concat(),
        &[("COSIGN_PASSWORD", "other")],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_ne!(std::fs::read_to_string(&key).unwrap(), text);
}

#[test]
fn disabled_signer_skips_that_artifact_type() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "artifacts.pipelinerun.signer: none\n").unwrap();
    let out = chains(
        &[
            "attest",
            "--config",
            cfg.to_str().unwrap(),
            "--key",
            testdata("keys/ed25519.pem").to_str().unwrap(),
            testdata("runs/pipelinerun-with-children.yaml")
                .to_str()
                .unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        2,
        "only the two TaskRuns"
    );
    assert!(
        stderr(&out).contains("artifacts.pipelinerun is disabled"),
        "{}",
        stderr(&out)
    );
}
