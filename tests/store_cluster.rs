//! `--kubeconfig`: runs are marked in the cluster as the Chains controller
//! marks them, against a Kubernetes API emulator (PyPI `kmock`).

use crate::common;
use crate::common::testdata;

use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::kube::{emulator, kubeconfig};
use serde_json::Value;

fn http(method: &str, url: &str, body: Option<&Value>) -> Value {
    let client = reqwest::blocking::Client::new();
    let mut req = client.request(method.parse().unwrap(), url);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().unwrap();
    assert!(
        resp.status().is_success(),
        "{method} {url}: {}",
        resp.status()
    );
    resp.json().unwrap()
}

fn chains(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn marks_the_live_run_signed_with_chains_annotations() {
    let kube = emulator();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), kube.port, "ci");
    let base = format!(
        "http://127.0.0.1:{}/apis/tekton.dev/v1/namespaces/ci/taskruns",
        kube.port
    );
    let run: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(testdata("runs/taskrun-build.yaml")).unwrap(),
    )
    .unwrap();
    http("POST", &base, Some(&run));

    let key = testdata("keys/ed25519.pem");
    let out = chains(&[
        "attest",
        "--key",
        key.to_str().unwrap(),
        "--storage",
        "tekton",
        "--kubeconfig",
        kc.to_str().unwrap(),
        testdata("runs/taskrun-build.yaml").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = http("GET", &format!("{base}/build-app-7x2kq"), None);
    let a = &live["metadata"]["annotations"];
    assert_eq!(a["chains.tekton.dev/signed"], "true");
    let sig = a["chains.tekton.dev/signature-taskrun-5d4b2f3c-8a1e-4c6b-9f0d-2e7a1b3c4d5e"]
        .as_str()
        .unwrap();
    let envelope = dir.path().join("envelope.json");
    std::fs::write(&envelope, STANDARD.decode(sig).unwrap()).unwrap();
    let (ok, text) = common::dsse_verify(&envelope, &testdata("keys/ed25519.pub"), None);
    assert!(ok, "{text}");
    // The statement also went to stdout, one envelope per run.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn a_run_missing_from_the_cluster_fails_and_is_not_claimed() {
    let kube = emulator();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), kube.port, "ci");
    let out = chains(&[
        "attest",
        "--key",
        testdata("keys/ed25519.pem").to_str().unwrap(),
        "--kubeconfig",
        kc.to_str().unwrap(),
        testdata("runs/taskrun-build.yaml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tekton") && err.contains("ci/build-app-7x2kq"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing is output for a run that was not stored"
    );
    assert!(!err.contains("test-token"), "{err}");
}

/// Own server (it records headers): the write names Chains as its field
/// manager and every request carries Chains' User-Agent.
#[test]
fn marks_as_chains_with_its_user_agent_and_field_manager() {
    let kube = common::kube::rv_server();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), kube.port, "ci");
    let api = format!("http://127.0.0.1:{}", kube.port);
    let run: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(testdata("runs/taskrun-build.yaml")).unwrap(),
    )
    .unwrap();
    http(
        "POST",
        &format!("{api}/apis/tekton.dev/v1/namespaces/ci/taskruns"),
        Some(&run),
    );
    let key = testdata("keys/ed25519.pem");
    let out = chains(&[
        "attest",
        "--key",
        key.to_str().unwrap(),
        "--storage",
        "tekton",
        "--kubeconfig",
        kc.to_str().unwrap(),
        testdata("runs/taskrun-build.yaml").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let traffic = http("GET", &format!("{api}/_test/traffic"), None);
    let ours: Vec<&Value> = traffic
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["token"] == "test-token")
        .collect();
    let lines: Vec<&str> = ours.iter().map(|r| r["line"].as_str().unwrap()).collect();
    assert_eq!(
        lines,
        ["PATCH /apis/tekton.dev/v1/namespaces/ci/taskruns/build-app-7x2kq?fieldManager=chains"],
        "one write"
    );
    let agent = format!("chains/{}", env!("CARGO_PKG_VERSION"));
    assert!(
        ours.iter().all(|r| r["agent"] == agent.as_str()),
        "{ours:?}"
    );
}
