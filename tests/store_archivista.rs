//! The archivista backend against a local server that answers as
//! Archivista's upload API does (tests/tools/archivista_server.py: no
//! Archivista server installs from the registries here), driven through the
//! real CLI; what was stored is read back and verified with securesystemslib.

use crate::common;
use crate::common::fault::{FaultServer, Reply};
use crate::common::{p256_key as key, p256_public_key as public_key};
use crate::common::{stderr, stdout, testdata};

use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;

pub(crate) fn server(args: &[&str]) -> common::Service {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    common::tool_server("archivista", "archivista_server.py", &args, "/_health")
}

pub(crate) fn stats(port: u16) -> Value {
    common::tool_stats(port)
}

fn attest(dir: &Path, config: &str, args: &[&str]) -> Output {
    let cfg = dir.join("chains-config.yaml");
    std::fs::write(&cfg, config).unwrap();
    common::chains()
        .arg("attest")
        .args(["--key", &key(), "--config", cfg.to_str().unwrap()])
        .args(args)
        .arg(testdata("runs/taskrun-build.yaml"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Exit 1 and no claim of success (common::assert_no_success_claim).
fn assert_no_success_claim(out: &Output) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    common::assert_no_success_claim(out);
}

/// The envelope is uploaded as Archivista's Go client sends it, under the
/// gitoid the server computed, and verifies.
#[test]
fn the_envelope_is_uploaded_and_acknowledged_by_its_gitoid() {
    let svc = server(&[]);
    let dir = tempfile::tempdir().unwrap();
    let public = public_key(dir.path());
    let out = attest(
        dir.path(),
        &format!(
            "artifacts.taskrun.storage: archivista\nartifacts.oci.storage: ''\nstorage.archivista.url: http://127.0.0.1:{}/\n",
            svc.port
        ),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stats(svc.port);
    assert_eq!(s["uploads"], 1, "{s}");
    let gitoid = s["stored"][0].as_str().unwrap();
    let stored = reqwest::blocking::get(format!("http://127.0.0.1:{}/download/{gitoid}", svc.port))
        .unwrap()
        .bytes()
        .unwrap();
    // The gitoid is git's own sha256 blob id of the bytes (git hash-object
    // in a sha256 repository), and what our client computes.
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(repo.path())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        git(&["init", "-q", "--object-format=sha256", "."])
            .status
            .success()
    );
    std::fs::write(repo.path().join("upload"), &stored).unwrap();
    let hashed = git(&["hash-object", "upload"]);
    assert_eq!(stdout(&hashed).trim(), gitoid, "{}", stderr(&hashed));
    assert_eq!(chains::store::archivista::gitoid_sha256(&stored), gitoid);
    // Go's json.Encoder: go-witness' field order and a trailing newline.
    let text = std::str::from_utf8(&stored).unwrap();
    assert!(
        text.starts_with("{\"payload\":\"") && text.ends_with("}]}\n"),
        "{text}"
    );
    assert!(text.contains(
        "\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{\"keyid\":"
    ));
    let envelope: Value = serde_json::from_str(text).unwrap();
    let printed: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(envelope, printed, "what was printed is what was stored");
    let file = dir.path().join("envelope.json");
    std::fs::write(&file, &stored).unwrap();
    let (ok, why) = common::dsse_verify(&file, &public, None);
    assert!(ok, "securesystemslib rejected the stored envelope: {why}");
}

/// Image signatures are not DSSE envelopes: as in Chains, they are not
/// stored, and the run fails saying why (its attestation was uploaded).
#[test]
fn an_image_signature_is_refused_with_a_reason() {
    let svc = server(&[]);
    let dir = tempfile::tempdir().unwrap();
    let out = attest(
        dir.path(),
        &format!(
            "artifacts.taskrun.storage: archivista\nartifacts.oci.storage: archivista\nstorage.archivista.url: http://127.0.0.1:{}\n",
            svc.port
        ),
        &[],
    );
    assert_no_success_claim(&out);
    assert!(
        stderr(&out).contains("archivista:") && stderr(&out).contains("not a DSSE envelope"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stats(svc.port)["uploads"], 1);
}

/// 503s are retried until the server takes the upload.
#[test]
fn server_errors_are_retried() {
    let svc = server(&["--fail-first", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let out = attest(
        dir.path(),
        &format!(
            "artifacts.taskrun.storage: archivista\nartifacts.oci.storage: ''\nstorage.archivista.url: http://127.0.0.1:{}\n",
            svc.port
        ),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stats(svc.port);
    assert_eq!(s["uploads"], 3, "{s}");
    assert_eq!(s["stored"].as_array().unwrap().len(), 1, "{s}");
}

/// Nobody listening, or a server that never answers: the run fails naming
/// the backend, within the deadline, and the tekton backend's annotated
/// copy is not written.
#[test]
fn a_refused_or_hung_server_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_port = hung.local_addr().unwrap().port();
    for (port, extra) in [(common::free_port(), "refused"), (hung_port, "hung")] {
        let outdir = dir.path().join(extra);
        let out = attest(
            dir.path(),
            &format!(
                "artifacts.taskrun.storage: tekton,archivista\nartifacts.oci.storage: ''\nstorage.archivista.url: http://127.0.0.1:{port}\n"
            ),
            &["--timeout", "3s", "--output-dir", outdir.to_str().unwrap()],
        );
        assert_no_success_claim(&out);
        assert!(
            stderr(&out).contains(&format!(
                "archivista: cannot upload to http://127.0.0.1:{port}/upload"
            )),
            "{extra}: {}",
            stderr(&out)
        );
        let marked = std::fs::read_dir(&outdir)
            .map(|d| {
                d.flatten().any(|e| {
                    std::fs::read_to_string(e.path())
                        .unwrap_or_default()
                        .contains("chains.tekton.dev/signed")
                })
            })
            .unwrap_or(false);
        assert!(!marked, "{extra}: nothing is marked signed");
    }
    drop(hung);
}

/// A server that acknowledges other bytes than were sent (its gitoid is not
/// theirs) has not stored them: retried, then the run fails saying so.
#[test]
fn a_wrong_gitoid_is_not_an_acknowledgement() {
    let server = FaultServer::start(|_, _| {
        Reply::new(200, "{\"gitoid\":\"0000\"}\n").header("Content-Type", "application/json")
    });
    let dir = tempfile::tempdir().unwrap();
    let out = attest(
        dir.path(),
        &format!(
            "artifacts.taskrun.storage: archivista\nartifacts.oci.storage: ''\nstorage.archivista.url: {}\n",
            server.url()
        ),
        &[],
    );
    assert_no_success_claim(&out);
    let err = stderr(&out);
    assert!(
        err.contains("the server stored gitoid 0000, but what was sent has gitoid "),
        "{err}"
    );
    assert!(err.contains("(tried 4 times"), "{err}");
    // Each try sent the same bytes, a DSSE envelope.
    let bodies: Vec<Vec<u8>> = server.requests().iter().map(|r| r.body.clone()).collect();
    assert_eq!(bodies.len(), 4);
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(server.requests()[0].line(), "POST /upload");
}
