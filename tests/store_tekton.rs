//! The tekton backend (Chains' annotations written back into the run) and
//! the files backend (Chains' GCS layout on disk).

use crate::common;
use crate::common::{p256_key as key, p256_public_key as public_key};
use crate::common::{stderr, testdata};

use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

const UID: &str = "5d4b2f3c-8a1e-4c6b-9f0d-2e7a1b3c4d5e";

fn chains(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(args)
        .env_remove("COSIGN_PASSWORD")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn annotations(v: &Value) -> &serde_json::Map<String, Value> {
    v["metadata"]["annotations"]
        .as_object()
        .expect("annotations")
}

#[test]
fn writes_chains_annotations_into_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = chains(&[
        "attest",
        "--key",
        &key(),
        "--storage",
        "tekton",
        testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = dir.path().join("taskrun-ci-build-app-7x2kq.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let run: Value = serde_saphyr::from_str(&text).unwrap();
    let a = annotations(&run);
    assert_eq!(a["chains.tekton.dev/signed"], "true");
    // The original annotation is kept.
    assert_eq!(a["pipeline.tekton.dev/release"], "v1.3.0");
    // payload-<key> is the statement; signature-<key> is the DSSE envelope signing it.
    let key = format!("taskrun-{UID}");
    let payload = STANDARD
        .decode(
            a[&format!("chains.tekton.dev/payload-{key}")]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["predicateType"],
        "https://slsa.dev/provenance/v0.2"
    );
    let envelope = STANDARD
        .decode(
            a[&format!("chains.tekton.dev/signature-{key}")]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let env: Value = serde_json::from_slice(&envelope).unwrap();
    assert_eq!(
        STANDARD.decode(env["payload"].as_str().unwrap()).unwrap(),
        payload
    );
    let env_file = dir.path().join("envelope.json");
    std::fs::write(&env_file, &envelope).unwrap();
    let (ok, text) = common::dsse_verify(&env_file, &public_key(dir.path()), None);
    assert!(ok, "{text}");
    // No certificate with a plain key: Chains still writes the (empty) annotations.
    assert_eq!(a[&format!("chains.tekton.dev/cert-{key}")], "");
    // The image signature is stored under its 12-hex key too (--storage applies to oci).
    let img = a["chains.tekton.dev/payload-3b1f6a0e2c9d"]
        .as_str()
        .unwrap();
    let simple: Value = serde_json::from_slice(&STANDARD.decode(img).unwrap()).unwrap();
    assert_eq!(
        simple["critical"]["image"]["docker-manifest-digest"],
        format!("sha256:3b1f6a0e2c9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a")
    );
}

#[test]
fn json_runs_are_written_back_as_json_and_v1beta1_stays_v1beta1() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let yaml: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(testdata("runs/taskrun-v1beta1.yaml")).unwrap(),
    )
    .unwrap();
    std::fs::write(
        input.join("run.json"),
        serde_json::to_vec_pretty(&yaml).unwrap(),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = chains(&[
        "attest",
        "--key",
        &key(),
        "--storage",
        "tekton",
        input.to_str().unwrap(),
        "--output-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written: Value = serde_json::from_slice(
        &std::fs::read(out_dir.join("taskrun-ci-unit-tests-x8c1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        written["apiVersion"], "tekton.dev/v1beta1",
        "written back as it was read"
    );
    assert!(
        written["status"]["taskResults"].is_array(),
        "v1beta1 fields kept"
    );
    assert_eq!(annotations(&written)["chains.tekton.dev/signed"], "true");
}

#[test]
fn in_place_updates_single_run_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let single = dir.path().join("run.yaml");
    std::fs::copy(testdata("runs/taskrun-build.yaml"), &single).unwrap();
    let out = chains(&[
        "attest",
        "--key",
        &key(),
        "--storage",
        "tekton",
        "--in-place",
        single.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run: Value = serde_saphyr::from_str(&std::fs::read_to_string(&single).unwrap()).unwrap();
    assert_eq!(annotations(&run)["chains.tekton.dev/signed"], "true");

    // A stream file cannot be rewritten run by run: refused, file untouched.
    let stream = dir.path().join("stream.yaml");
    std::fs::copy(testdata("runs/pipelinerun-with-children.yaml"), &stream).unwrap();
    let before = std::fs::read(&stream).unwrap();
    let out = chains(&[
        "attest",
        "--key",
        &key(),
        "--storage",
        "tekton",
        "--in-place",
        stream.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--in-place needs one run per input file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&stream).unwrap(), before);
}

#[test]
fn tekton_storage_needs_somewhere_to_write() {
    let out = chains(&[
        "attest",
        "--key",
        &key(),
        "--storage",
        "tekton",
        testdata("runs/taskrun-build.yaml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--in-place"), "{}", stderr(&out));
}

#[test]
fn unsupported_backends_are_named() {
    let out = chains(&[
        "attest",
        "--key",
        &key(),
        "--storage",
        "s3",
        testdata("runs/taskrun-build.yaml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"s3\""), "{}", stderr(&out));
}

#[test]
fn files_backend_lays_out_chains_gcs_objects() {
    let dir = tempfile::tempdir().unwrap();
    let out = chains(&[
        "attest",
        "--key",
        &key(),
        "--storage",
        "files",
        testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let prefix = dir.path().join("taskrun-ci-build-app-7x2kq");
    let sig = prefix.join(format!("taskrun-{UID}.signature"));
    let payload = prefix.join(format!("taskrun-{UID}.payload"));
    let env: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    assert_eq!(
        STANDARD.decode(env["payload"].as_str().unwrap()).unwrap(),
        std::fs::read(&payload).unwrap()
    );
    let (ok, text) = common::dsse_verify(&sig, &public_key(dir.path()), None);
    assert!(ok, "{text}");
    assert!(prefix.join("3b1f6a0e2c9d.payload").exists());
    assert!(prefix.join("3b1f6a0e2c9d.signature").exists());
    // Chains writes .cert and .chain even without a certificate, empty.
    assert_eq!(
        std::fs::read(prefix.join("3b1f6a0e2c9d.cert")).unwrap(),
        b""
    );
}

#[test]
fn config_storage_keys_select_backends() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("chains-config.yaml");
    std::fs::write(
        &cfg,
        "artifacts.taskrun.storage: tekton\nartifacts.oci.storage: \"\"\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = chains(&[
        "attest",
        "--key",
        &key(),
        "--config",
        cfg.to_str().unwrap(),
        testdata("runs/taskrun-build.yaml").to_str().unwrap(),
        "--output-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(out_dir.join("taskrun-ci-build-app-7x2kq.yaml")).unwrap(),
    )
    .unwrap();
    let a = annotations(&run);
    assert!(a.contains_key(&format!("chains.tekton.dev/payload-taskrun-{UID}")));
    // artifacts.oci.storage "" disables image signing storage (and Chains' OCI artifact).
    assert!(!a.contains_key("chains.tekton.dev/payload-3b1f6a0e2c9d"));
}
