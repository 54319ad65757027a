//! `chains verify` end to end: what attest stores verifies, what was tampered
//! with is rejected with the failed check named, independent signers'
//! envelopes verify, and bad input fails cleanly.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::sigstore_mock::{start as sigstore_mock, unsigned_jwt as jwt};
use serde_json::{Value, json};

fn bin() -> Command {
    common::chains()
}

fn root(p: &str) -> String {
    common::root().join(p).display().to_string()
}

// Chains' own test keys, from ../shared/conformance.
const CHAINS_KEY: &str = "../shared/conformance/keys/cosign.key";
const CHAINS_PUB: &str = "../shared/conformance/keys/cosign.pub";
const CHAINS_PASSWORD: &str = "../shared/conformance/keys/cosign.password";
const X509_KEY: &str = "../shared/conformance/keys/x509.pem";
const RUN: &str = "testdata/runs/taskrun-build.yaml";
const PIPELINE: &str = "testdata/runs/pipelinerun-with-children.yaml";

fn attest(args: &[&str]) {
    let out = bin()
        .arg("attest")
        .args([
            "--key",
            &root(CHAINS_KEY),
            "--password-file",
            &root(CHAINS_PASSWORD),
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "attest failed: {}", text(&out.stderr));
}

fn verify(args: &[&str]) -> Output {
    bin()
        .arg("verify")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// `verify --output json`: the exit code and the report.
fn verify_json(args: &[&str]) -> (i32, Value) {
    let out = verify(&[args, &["--output", "json"]].concat());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), report)
}

/// The first rejection's (check, reason).
fn rejection(report: &Value) -> (String, String) {
    let r = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["verified"] == json!(false))
        .unwrap_or_else(|| panic!("nothing rejected: {report:#}"));
    (
        r["check"].as_str().unwrap().to_string(),
        r["reason"].as_str().unwrap().to_string(),
    )
}

fn assert_rejected(args: &[&str], check: &str, reason: &str) {
    let (code, report) = verify_json(args);
    assert_eq!(code, 1, "{report:#}");
    let (got_check, got_reason) = rejection(&report);
    assert_eq!(got_check, check, "{got_reason}");
    assert!(
        got_reason.contains(reason),
        "{got_reason:?} lacks {reason:?}"
    );
}

/// The one envelope attest wrote into `dir` for the build TaskRun.
fn envelope_file(dir: &Path) -> PathBuf {
    dir.join("taskrun-ci-build-app-7x2kq.intoto.jsonl")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn write_json(p: &Path, v: &Value) -> String {
    std::fs::write(p, serde_json::to_vec(v).unwrap()).unwrap();
    p.display().to_string()
}

#[test]
fn everything_attest_writes_verifies() {
    if common::skip_without_shared("everything_attest_writes_verifies") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (plain, bundles, tekton) = (
        tmp.path().join("plain"),
        tmp.path().join("bundles"),
        tmp.path().join("tekton"),
    );
    attest(&[
        "--output-dir",
        plain.to_str().unwrap(),
        &root(RUN),
        &root(PIPELINE),
    ]);
    attest(&[
        "--bundle",
        "--output-dir",
        bundles.to_str().unwrap(),
        &root(RUN),
    ]);
    attest(&[
        "--storage",
        "tekton",
        "--output-dir",
        tekton.to_str().unwrap(),
        &root(RUN),
    ]);

    for dir in [&plain, &bundles, &tekton] {
        let (code, report) = verify_json(&["--key", &root(CHAINS_PUB), dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {report:#}", dir.display());
        assert_eq!(report["verified"], json!(true));
        assert_eq!(report["counts"]["rejected"], json!(0));
    }
    // Envelopes for the runs, the image signatures (payload + signature
    // files), bundles of both, and the annotated run with its envelope.
    let count = |dir: &Path| {
        verify_json(&["--key", &root(CHAINS_PUB), dir.to_str().unwrap()]).1["counts"]["verified"]
            .as_u64()
            .unwrap()
    };
    assert!(count(&plain) >= 4, "runs and image signatures");
    assert!(
        count(&bundles) >= 2,
        "a bundle for the run and for its image"
    );
    assert!(count(&tekton) >= 2, "the annotated run and its envelope");

    // The human report names what verified, and the policy holds.
    let out = verify(&[
        "--key",
        &root(CHAINS_PUB),
        "--predicate-type",
        "slsaprovenance",
        "--builder-id",
        "https://tekton.dev/chains/v2",
        "--source-uri",
        "https://github.com/example/app",
        "--source-digest",
        "sha1:9f2c1e4b7a8d3f6e5c0b1a2d3e4f5a6b7c8d9e0f",
        envelope_file(&plain).to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("verified  ") && stdout.contains("https://slsa.dev/provenance/v0.2"),
        "{stdout}"
    );

    // --print-payload gives the statement, ready for jq.
    let out = verify(&[
        "--key",
        &root(CHAINS_PUB),
        "--print-payload",
        envelope_file(&plain).to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let statement: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        statement["predicateType"],
        json!("https://slsa.dev/provenance/v0.2")
    );

    // A private key's public half is a key too.
    let (code, _) = verify_json(&[
        "--key",
        &root(CHAINS_KEY),
        "--password-file",
        &root(CHAINS_PASSWORD),
        plain.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
}

#[test]
fn tampering_is_rejected_with_the_check_named() {
    if common::skip_without_shared("tampering_is_rejected_with_the_check_named") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    attest(&[
        "--output-dir",
        dir.to_str().unwrap(),
        &root(RUN),
        &root(PIPELINE),
    ]);
    let good = read_json(&envelope_file(&dir));
    let other = read_json(&dir.join("pipelinerun-ci-release-9kd2.intoto.jsonl"));
    let key = root(CHAINS_PUB);
    let f = |name: &str, v: &Value| write_json(&tmp.path().join(name), v);

    // A changed payload byte.
    let mut payload = STANDARD.decode(good["payload"].as_str().unwrap()).unwrap();
    let i = payload.len() / 2;
    payload[i] ^= 0x01;
    let mut changed = good.clone();
    changed["payload"] = json!(STANDARD.encode(&payload));
    assert_rejected(
        &["--key", &key, &f("changed.json", &changed)],
        "signature",
        "no signature verifies",
    );

    // A wrong key.
    let good_file = f("good.json", &good);
    assert_rejected(
        &["--key", &root("testdata/keys/p384.pub"), &good_file],
        "signature",
        "no signature verifies",
    );

    // A signature moved from another envelope.
    let mut moved = good.clone();
    moved["signatures"] = other["signatures"].clone();
    assert_rejected(
        &["--key", &key, &f("moved.json", &moved)],
        "signature",
        "no signature verifies",
    );

    // A payloadType that differs (the signature covers it).
    let mut retyped = good.clone();
    retyped["payloadType"] = json!("application/json");
    assert_rejected(
        &["--key", &key, &f("retyped.json", &retyped)],
        "signature",
        "",
    );

    // An unsigned envelope.
    let mut unsigned = good.clone();
    unsigned["signatures"] = json!([]);
    assert_rejected(
        &["--key", &key, &f("unsigned.json", &unsigned)],
        "signature",
        "unsigned",
    );

    // Signatures that are not base64.
    let mut garbled = good.clone();
    garbled["signatures"][0]["sig"] = json!("not base64!");
    assert_rejected(
        &["--key", &key, &f("garbled.json", &garbled)],
        "signature",
        "",
    );

    // A subject digest that differs from the one asked for.
    let wrong = format!("registry.example.com/team/app@sha256:{}", "0".repeat(64));
    assert_rejected(
        &["--key", &key, "--subject", &wrong, &good_file],
        "subject",
        "not a subject",
    );

    // Policy: another builder, source, or predicate type.
    assert_rejected(
        &["--key", &key, "--builder-id", "https://other", &good_file],
        "builder-id",
        "",
    );
    assert_rejected(
        &[
            "--key",
            &key,
            "--source-uri",
            "github.com/example/other",
            &good_file,
        ],
        "source-uri",
        "github.com/example/app",
    );
    assert_rejected(
        &[
            "--key",
            &key,
            "--predicate-type",
            "slsaprovenance1",
            &good_file,
        ],
        "predicate-type",
        "",
    );

    // A stale attestation: the run finished on 2026-11-20.
    assert_rejected(
        &["--key", &key, "--max-age", "1h", &good_file],
        "max-age",
        "ago",
    );

    // One bad among good ones fails the whole verification, and says which.
    let (code, report) = verify_json(&[
        "--key",
        &key,
        &good_file,
        &tmp.path().join("moved.json").display().to_string(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(report["counts"], json!({"verified": 1, "rejected": 1}));
}

/// An envelope signed by securesystemslib with Chains' x509.pem test key.
fn sslib_envelope(dir: &Path, payload: &Value, payload_type: &str) -> PathBuf {
    let payload_file = dir.join("payload.json");
    std::fs::write(&payload_file, serde_json::to_vec(payload).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(root("tests/tools/dsse_sign.py"))
        .arg(root(X509_KEY))
        .arg(&payload_file)
        .args(["--payload-type", payload_type])
        .output()
        .unwrap();
    assert!(out.status.success(), "dsse_sign.py: {}", text(&out.stderr));
    let path = dir.join(format!("sslib-{}.json", payload_type.replace('/', "_")));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

fn statement() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "gcr.io/x/y", "digest": {"sha256": "ab".repeat(32)}}],
        "predicate": {"builder": {"id": "https://tekton.dev/chains/v2"}}
    })
}

#[test]
fn envelopes_signed_by_securesystemslib_verify() {
    if common::skip_without_shared("envelopes_signed_by_securesystemslib_verify") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let env = sslib_envelope(tmp.path(), &statement(), "application/vnd.in-toto+json");
    let (code, report) = verify_json(&[
        "--key",
        &root(X509_KEY),
        "--subject",
        &format!("gcr.io/x/y@sha256:{}", "ab".repeat(32)),
        env.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["results"][0]["predicateType"],
        json!("https://slsa.dev/provenance/v0.2")
    );

    // Correctly signed, but not an in-toto payload: its bytes verify (what
    // they are is not parsed), and it is reported as such ...
    let other = sslib_envelope(tmp.path(), &statement(), "application/json");
    let (code, report) = verify_json(&["--key", &root(X509_KEY), other.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["results"][0]["payloadType"],
        json!("application/json")
    );
    // ... but it is no statement about a build.
    assert_rejected(
        &[
            "--key",
            &root(X509_KEY),
            "--predicate-type",
            "slsaprovenance",
            other.to_str().unwrap(),
        ],
        "payload-type",
        "application/json",
    );
}

#[test]
fn chains_annotations_made_with_chains_keys_verify() {
    if common::skip_without_shared("chains_annotations_made_with_chains_keys_verify") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Annotations as Chains writes them, built by hand around an envelope
    // securesystemslib signed with Chains' x509.pem test key.
    let env = sslib_envelope(tmp.path(), &statement(), "application/vnd.in-toto+json");
    let envelope = std::fs::read(&env).unwrap();
    let payload = serde_json::to_vec(&statement()).unwrap();
    let ann = |k: &str| format!("chains.tekton.dev/{k}-taskrun-7f2d");
    let run = json!({
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": "build", "namespace": "ci", "uid": "7f2d", "annotations": {
            "chains.tekton.dev/signed": "true",
            ann("payload"): STANDARD.encode(&payload),
            ann("signature"): STANDARD.encode(envelope.trim_ascii_end()),
            ann("cert"): "",
            ann("chain"): "",
        }},
        "spec": {}, "status": {"results": [
            {"name": "IMAGE_URL", "type": "string", "value": "gcr.io/x/y"},
            {"name": "IMAGE_DIGEST", "type": "string", "value": format!("sha256:{}", "ab".repeat(32))},
        ]}
    });
    let file = write_json(&tmp.path().join("run.json"), &run);
    let (code, report) = verify_json(&["--key", &root(X509_KEY), &file]);
    assert_eq!(code, 0, "{report:#}");

    // The annotations copied onto another run (another uid) ...
    let mut copied = run.clone();
    copied["metadata"]["uid"] = json!("9e9e");
    copied["metadata"]["name"] = json!("other");
    let copied = write_json(&tmp.path().join("copied.json"), &copied);
    assert_rejected(
        &["--key", &root(X509_KEY), &copied],
        "input",
        "Chains' annotations of another run",
    );
    // ... or the run's results edited under intact annotations.
    let mut edited = run.clone();
    edited["status"]["results"][1]["value"] = json!(format!("sha256:{}", "cd".repeat(32)));
    let edited = write_json(&tmp.path().join("edited.json"), &edited);
    assert_rejected(
        &["--key", &root(X509_KEY), &edited],
        "run",
        "its results were changed",
    );

    // Chains' cosign.key, through our tekton backend, verified by cosign.pub.
    let out = tmp.path().join("out");
    attest(&[
        "--storage",
        "tekton",
        "--output-dir",
        out.to_str().unwrap(),
        &root(RUN),
    ]);
    let annotated = out.join("taskrun-ci-build-app-7x2kq.yaml");
    let (code, report) = verify_json(&["--key", &root(CHAINS_PUB), annotated.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");

    // A payload annotation that is not what the envelope signed.
    let mut swapped = run.clone();
    swapped["metadata"]["annotations"][ann("payload")] = json!(STANDARD.encode(b"{}"));
    assert_rejected(
        &[
            "--key",
            &root(X509_KEY),
            &write_json(&tmp.path().join("swapped.json"), &swapped),
        ],
        "input",
        "differs from the payload inside",
    );
    // A run that was never attested.
    let (code, report) = verify_json(&["--key", &root(CHAINS_PUB), &root(RUN)]);
    assert_eq!(code, 1);
    assert!(rejection(&report).1.contains("not attested"));
}

#[test]
fn malformed_input_fails_cleanly() {
    if common::skip_without_shared("malformed_input_fails_cleanly") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let key = root(CHAINS_PUB);
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };

    // Truncated JSON: unreadable input, exit 2, the file named.
    let truncated = write(
        "truncated.json",
        br#"{"payloadType": "application/vnd.in-toto+json", "payl"#,
    );
    let out = verify(&["--key", &key, &truncated]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("truncated.json"),
        "{}",
        text(&out.stderr)
    );

    // Deeply nested JSON: a clean error, not a stack overflow.
    let deep = write(
        "deep.json",
        &[b"[".repeat(100_000), b"]".repeat(100_000)].concat(),
    );
    let out = verify(&["--key", &key, &deep]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"));

    // A huge payload: rejected with a reason, without trouble.
    let huge = json!({
        "payloadType": "application/vnd.in-toto+json",
        "payload": STANDARD.encode(vec![b'x'; 16 << 20]),
        "signatures": [{"keyid": "", "sig": STANDARD.encode(b"nope")}],
    });
    let huge = write("huge.json", &serde_json::to_vec(&huge).unwrap());
    assert_rejected(&["--key", &key, &huge], "signature", "");

    // Bad base64 payload; not an envelope at all.
    let bad = write(
        "bad.json",
        br#"{"payloadType": "application/vnd.in-toto+json", "payload": "%%%", "signatures": [{"sig": "AA=="}]}"#,
    );
    assert_rejected(&["--key", &key, &bad], "input", "not base64");
    let other = write("other.json", br#"{"kind": "ConfigMap", "data": {}}"#);
    assert_rejected(&["--key", &key, &other], "input", "not an envelope");

    // Usage: no trust, contradicting flags, a bad duration.
    let good = write("empty.jsonl", b"");
    for args in [
        vec![good.as_str()],
        vec![
            "--key",
            &key,
            "--require-tlog",
            "--insecure-ignore-tlog",
            &good,
        ],
        vec!["--key", &key, "--max-age", "soon", &good],
        vec!["--key", &key, "--subject", "no-digest", &good],
    ] {
        let out = verify(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // An envelope that repeats its payload (the last is what serde keeps,
    // another reader may keep the first): refused, file and line named,
    // from a file and from stdin.
    let twice = write(
        "twice.json",
        b"{\"payloadType\": \"application/vnd.in-toto+json\",\n \"payload\": \"e30=\", \"payload\": \"W10=\",\n \"signatures\": [{\"sig\": \"AA==\"}]}\n",
    );
    let out = verify(&["--key", &key, &twice]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert!(
        said.contains("twice.json") && said.contains("appears twice"),
        "{said}"
    );
    let mut cmd = bin();
    cmd.args(["verify", "--key", &key, "-"]);
    let out = common::output_with_stdin(cmd, &std::fs::read(&twice).unwrap());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("appears twice"),
        "{}",
        text(&out.stderr)
    );

    // Nothing found to verify is not a success: an error naming the file.
    for (name, body) in [
        ("empty.jsonl", ""),
        ("null.json", "null"),
        ("list.json", "[]"),
        ("dashes.yaml", "---\n"),
        ("comment.yaml", "# nothing here\n"),
    ] {
        let file = write(name, body.as_bytes());
        let out = verify(&["--key", &key, &file]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(&format!("{file}: nothing to verify")),
            "{name}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn write_errors_on_stdout_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let envelope = tmp.path().join("run.intoto.jsonl");
    attest(&["--output-dir", tmp.path().to_str().unwrap(), &root(RUN)]);
    let envelope = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".intoto.jsonl"))
        .unwrap_or(envelope);
    let full = || std::fs::File::create("/dev/full").unwrap();
    for extra in [&["--print-payload"][..], &["--output", "json"], &[]] {
        let out = bin()
            .arg("verify")
            .args(["--key", &root(CHAINS_PUB)])
            .args(extra)
            .arg(&envelope)
            .stdin(Stdio::null())
            .stdout(full())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{extra:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("cannot write the report to standard output"),
            "{extra:?}: {}",
            text(&out.stderr)
        );
    }
    let out = bin()
        .args(["completions", "bash"])
        .stdout(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot write the completions"));
}

// ---------------------------------------------------------------------------
// Transparency and keyless, against the Sigstore team's mock (Rekor + Fulcio)

fn get(url: &str) -> String {
    reqwest::blocking::get(url)
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .unwrap()
}

#[test]
fn transparency_log_entries_are_checked() {
    if common::skip_without_shared("transparency_log_entries_are_checked") {
        return;
    }
    let mock = sigstore_mock();
    let url = format!("http://127.0.0.1:{}", mock.port);
    let tmp = tempfile::tempdir().unwrap();
    let log_key = tmp.path().join("rekor.pub");
    std::fs::write(&log_key, get(&format!("{url}/api/v1/log/publicKey"))).unwrap();
    let log_key = log_key.display().to_string();
    let (bundles, tekton) = (tmp.path().join("bundles"), tmp.path().join("tekton"));
    let upload = [
        "--tlog-upload",
        "--rekor-url",
        &url,
        "--rekor-public-key",
        &log_key,
    ];
    attest(
        &[
            &upload[..],
            &[
                "--bundle",
                "--output-dir",
                bundles.to_str().unwrap(),
                &root(RUN),
                &root(PIPELINE),
            ],
        ]
        .concat(),
    );
    attest(
        &[
            &upload[..],
            &[
                "--storage",
                "tekton",
                "--output-dir",
                tekton.to_str().unwrap(),
                &root(RUN),
            ],
        ]
        .concat(),
    );
    let key = root(CHAINS_PUB);
    let bundle = bundles.join("taskrun-ci-build-app-7x2kq.sigstore.json");
    let bundle_s = bundle.display().to_string();

    // Offline: the SET and inclusion proof against the log key.
    let (code, report) = verify_json(&[
        "--key",
        &key,
        "--rekor-public-key",
        &log_key,
        "--require-tlog",
        &bundle_s,
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["results"][0]["tlog"]["status"], json!("verified"));

    // Without a log key the entry is reported unchecked, and --require-tlog refuses that.
    let out = verify(&["--key", &key, &bundle_s]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("NOT checked"),
        "{}",
        text(&out.stdout)
    );
    assert_rejected(
        &["--key", &key, "--require-tlog", &bundle_s],
        "tlog",
        "--rekor-public-key",
    );
    // --insecure-ignore-tlog is said out loud.
    let out = verify(&["--key", &key, "--insecure-ignore-tlog", &bundle_s]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("NOT checked (--insecure-ignore-tlog)"));

    // A bad SET; a bad inclusion proof.
    let b = read_json(&bundle);
    let entry = "/verificationMaterial/tlogEntries/0";
    let mut bad_set = b.clone();
    let set = bad_set
        .pointer(&format!("{entry}/inclusionPromise/signedEntryTimestamp"))
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let mut raw = STANDARD.decode(set).unwrap();
    let n = raw.len() - 3;
    raw[n] ^= 1;
    *bad_set
        .pointer_mut(&format!("{entry}/inclusionPromise/signedEntryTimestamp"))
        .unwrap() = json!(STANDARD.encode(raw));
    let bad_set = write_json(&tmp.path().join("bad-set.json"), &bad_set);
    assert_rejected(
        &["--key", &key, "--rekor-public-key", &log_key, &bad_set],
        "tlog",
        "signed entry timestamp",
    );
    let mut bad_proof = b.clone();
    *bad_proof
        .pointer_mut(&format!("{entry}/inclusionProof/rootHash"))
        .unwrap() = json!(STANDARD.encode([7u8; 32]));
    let bad_proof = write_json(&tmp.path().join("bad-proof.json"), &bad_proof);
    assert_rejected(
        &["--key", &key, "--rekor-public-key", &log_key, &bad_proof],
        "tlog",
        "inclusion proof",
    );
    // An entry for another artifact: the PipelineRun's entry in the TaskRun's bundle.
    let mut swapped = b.clone();
    swapped["verificationMaterial"]["tlogEntries"] = read_json(
        &bundles.join("pipelinerun-ci-release-9kd2.sigstore.json"),
    )["verificationMaterial"]["tlogEntries"]
        .clone();
    let swapped = write_json(&tmp.path().join("swapped.json"), &swapped);
    assert_rejected(
        &["--key", &key, "--rekor-public-key", &log_key, &swapped],
        "tlog",
        "does not record this artifact",
    );

    // Online: the annotated run names its entry; it is fetched and checked.
    // (Chains' annotation names one entry, the run's; its image signature's
    // entry is searched by hash in the log's index, which holds none.)
    let annotated = tekton.join("taskrun-ci-build-app-7x2kq.yaml");
    let (code, report) = verify_json(&[
        "--key",
        &key,
        "--rekor-url",
        &url,
        annotated.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{report:#}");
    let statuses: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["tlog"]["status"])
        .collect();
    assert!(statuses.contains(&&json!("verified")), "{report:#}");
}

#[test]
fn keyless_signatures_are_checked_against_roots_and_identity() {
    if common::skip_without_shared("keyless_signatures_are_checked_against_roots_and_identity") {
        return;
    }
    let mock = sigstore_mock();
    let url = format!("http://127.0.0.1:{}", mock.port);
    let tmp = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let issuer = "https://kubernetes.default.svc.cluster.local";
    let subject =
        "https://kubernetes.io/namespaces/tekton-chains/serviceaccounts/tekton-chains-controller";
    let token = tmp.path().join("token");
    std::fs::write(
        &token,
        jwt(
            json!({"iss": issuer, "sub": subject, "aud": "sigstore", "iat": now, "exp": now + 600}),
        ),
    )
    .unwrap();
    let roots = tmp.path().join("roots.pem");
    std::fs::write(&roots, get(&format!("{url}/api/v1/rootCert"))).unwrap();
    let log_key = tmp.path().join("rekor.pub");
    std::fs::write(&log_key, get(&format!("{url}/api/v1/log/publicKey"))).unwrap();
    let out_dir = tmp.path().join("out");
    let out = bin()
        .args([
            "attest",
            "--fulcio-url",
            &url,
            "--identity-token-file",
            token.to_str().unwrap(),
        ])
        .args([
            "--tlog-upload",
            "--rekor-url",
            &url,
            "--rekor-public-key",
            log_key.to_str().unwrap(),
        ])
        .args([
            "--bundle",
            "--output-dir",
            out_dir.to_str().unwrap(),
            &root(RUN),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bundle = out_dir.join("taskrun-ci-build-app-7x2kq.sigstore.json");
    let bundle = bundle.to_str().unwrap();
    let (roots, log_key) = (roots.to_str().unwrap(), log_key.to_str().unwrap());

    // The SAN the mock puts in the certificate for this token.
    let trust = ["--ca-roots", roots, "--rekor-public-key", log_key];
    let (code, report) = verify_json(
        &[
            &trust[..],
            &[
                "--certificate-identity-regexp",
                "^https://kubernetes.io/",
                "--certificate-oidc-issuer",
                issuer,
                bundle,
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["results"][0]["signer"]
            .as_str()
            .unwrap()
            .contains("certificate for"),
        "{report:#}"
    );

    // The same trust as a Sigstore trusted root (--trusted-root): the
    // roots as one CA, the log key as a Rekor log; verifies the same. A
    // root that does not parse is a usage error naming the file.
    let pem_bodies = |path: &str, label: &str| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        text.split(&format!("-----BEGIN {label}-----"))
            .skip(1)
            .map(|b| {
                b.split("-----END")
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .collect()
            })
            .collect()
    };
    let trusted_root = |key_end: &str| {
        let certs: Vec<_> = pem_bodies(roots, "CERTIFICATE")
            .into_iter()
            .map(|b| serde_json::json!({ "rawBytes": b }))
            .collect();
        let key = pem_bodies(log_key, "PUBLIC KEY").remove(0);
        let log_id = {
            use sha2::Digest;
            STANDARD.encode(sha2::Sha256::digest(STANDARD.decode(&key).unwrap()))
        };
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": key, "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                              "validFor": {"start": "2020-01-01T00:00:00Z", "end": key_end}},
                "logId": {"keyId": log_id}
            }],
            "certificateAuthorities": [{
                "uri": url,
                "certChain": {"certificates": certs},
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            }]
        })
        .to_string()
    };
    let root_file = tmp.path().join("trusted_root.json");
    std::fs::write(&root_file, trusted_root("2999-01-01T00:00:00Z")).unwrap();
    let (code, report) = verify_json(&[
        "--trusted-root",
        root_file.to_str().unwrap(),
        "--certificate-identity-regexp",
        "^https://kubernetes.io/",
        "--certificate-oidc-issuer",
        issuer,
        bundle,
    ]);
    assert_eq!(code, 0, "{report:#}");
    let broken = tmp.path().join("broken_root.json");
    std::fs::write(&broken, "{\"mediaType\": 1}").unwrap();
    let out = verify(&[
        "--trusted-root",
        broken.to_str().unwrap(),
        "--certificate-identity-regexp",
        ".",
        bundle,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("broken_root.json"),
        "{}",
        text(&out.stderr)
    );

    // Another identity, another issuer.
    assert_rejected(
        &[
            &trust[..],
            &["--certificate-identity", "someone@example.com", bundle],
        ]
        .concat(),
        "certificate",
        "someone@example.com",
    );
    assert_rejected(
        &[
            &trust[..],
            &[
                "--certificate-identity-regexp",
                ".",
                "--certificate-oidc-issuer",
                "https://accounts.google.com",
                bundle,
            ],
        ]
        .concat(),
        "certificate",
        "accounts.google.com",
    );
    // A key where a certificate signed: no identity to match.
    let (code, _) = verify_json(&[
        "--key",
        &root(CHAINS_PUB),
        "--certificate-identity",
        subject,
        bundle,
    ]);
    assert_eq!(code, 1);
    // The signing certificate itself named as the trusted key.
    let raw = read_json(Path::new(bundle))["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap()
        .to_string();
    let cert_pem = format!("-----BEGIN CERTIFICATE-----\n{raw}\n-----END CERTIFICATE-----\n");
    let cert_file = tmp.path().join("leaf.pem");
    std::fs::write(&cert_file, cert_pem).unwrap();
    let (code, report) = verify_json(&["--key", cert_file.to_str().unwrap(), bundle]);
    assert_eq!(code, 0, "{report:#}");
    // --ca-roots without an identity is refused as a usage error.
    let out = verify(&["--ca-roots", roots, bundle]);
    assert_eq!(out.status.code(), Some(2));

    // Chains' stored parts of a keyless image signature carry no log entry,
    // so no signing time: refused offline ...
    let parts_dir = tmp.path().join("parts");
    let out = bin()
        .args([
            "attest",
            "--fulcio-url",
            &url,
            "--identity-token-file",
            token.to_str().unwrap(),
            "--tlog-upload",
            "--rekor-url",
            &url,
            "--rekor-public-key",
            log_key,
            "--output-dir",
            parts_dir.to_str().unwrap(),
            &root(RUN),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let signature = std::fs::read_dir(&parts_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "signature"))
        .expect("the image signature's parts");
    let signature = signature.to_str().unwrap();
    let identity = [
        "--certificate-identity-regexp",
        "^https://kubernetes.io/",
        "--certificate-oidc-issuer",
        issuer,
    ];
    assert_rejected(
        &[&trust[..], &identity[..], &[signature]].concat(),
        "certificate",
        "no trusted signing time",
    );
    // ... and verified with --rekor-url, which finds its entry in the log's
    // search index by the payload's hash; the entry's time is the signing time.
    let (code, report) = verify_json(
        &[
            &trust[..],
            &identity[..],
            &["--rekor-url", &url, "--require-tlog", signature],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["results"][0]["tlog"]["status"],
        json!("verified"),
        "{report:#}"
    );
}

/// A TrustedRoot JSON holding one Rekor v1 log key (PEM), valid from 2000.
fn trusted_root_with_log(url: &str, log_pem: &str) -> Value {
    let der = chains::pem::decode(log_pem, &["PUBLIC KEY"]).unwrap();
    use sha2::Digest;
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": STANDARD.encode(&der),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": "2000-01-01T00:00:00Z"},
            },
            "logId": {"keyId": STANDARD.encode(sha2::Sha256::digest(&der))},
        }],
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": [],
    })
}

#[test]
fn bundles_attest_writes_verify_with_sigstore_js() {
    let tools = common::root().join("tests/tools/sigstore-mock");
    assert!(
        tools.join("node_modules/@sigstore/verify").is_dir(),
        "@sigstore/verify is not installed: run `npm ci --prefix tests/tools/sigstore-mock`"
    );
    let mock = sigstore_mock();
    let url = format!("http://127.0.0.1:{}", mock.port);
    let tmp = tempfile::tempdir().unwrap();
    let log_pem = get(&format!("{url}/api/v1/log/publicKey"));
    let log_key = tmp.path().join("rekor.pub");
    std::fs::write(&log_key, &log_pem).unwrap();
    let trusted_root = write_json(
        &tmp.path().join("trusted_root.json"),
        &trusted_root_with_log(&url, &log_pem),
    );
    let bundles = tmp.path().join("bundles");
    attest(&[
        "--tlog-upload",
        "--rekor-url",
        &url,
        "--rekor-public-key",
        log_key.to_str().unwrap(),
        "--bundle",
        "--output-dir",
        bundles.to_str().unwrap(),
        &root(RUN),
        &root(PIPELINE),
    ]);
    // The image signatures' payloads (a message-signature bundle carries
    // only their digest), as attest writes them without --bundle.
    let plain = tmp.path().join("plain");
    attest(&[
        "--output-dir",
        plain.to_str().unwrap(),
        &root(RUN),
        &root(PIPELINE),
    ]);
    let mut written: Vec<PathBuf> = std::fs::read_dir(&bundles)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".sigstore.json"))
        .collect();
    written.sort();
    assert!(written.len() >= 2, "{written:?}");
    let root_pub = root(CHAINS_PUB);
    for bundle in &written {
        let name = bundle.file_name().unwrap().to_string_lossy().to_string();
        let artifact = name
            .strip_suffix(".sigstore.json")
            .filter(|stem| stem.contains(".image-"))
            .map(|stem| plain.join(format!("{stem}.payload")));
        // The Sigstore JS team's verifier, offline, with the trusted root.
        let out = Command::new("node")
            .arg(tools.join("verify-bundle.js"))
            .arg(bundle)
            .arg(&trusted_root)
            .arg(root(CHAINS_PUB))
            .args(&artifact)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "@sigstore/verify refused {}: {}{}",
            bundle.display(),
            text(&out.stdout),
            text(&out.stderr)
        );
        // And ours, with the same trusted root (and artifact).
        let artifact_arg = artifact.as_ref().map(|a| a.display().to_string());
        let mut args = vec![
            "--key",
            &root_pub,
            "--trusted-root",
            &trusted_root,
            "--require-tlog",
            bundle.to_str().unwrap(),
        ];
        if let Some(a) = &artifact_arg {
            args.extend(["--artifact", a]);
        }
        let (code, report) = verify_json(&args);
        assert_eq!(code, 0, "{report:#}");
    }
    // A bundle whose signature was changed is refused by both.
    let mut tampered = read_json(&written[0]);
    let sig = if tampered["dsseEnvelope"].is_object() {
        tampered
            .pointer_mut("/dsseEnvelope/signatures/0/sig")
            .unwrap()
    } else {
        tampered.pointer_mut("/messageSignature/signature").unwrap()
    };
    let mut raw = STANDARD.decode(sig.as_str().unwrap()).unwrap();
    let n = raw.len() - 2;
    raw[n] ^= 1;
    *sig = json!(STANDARD.encode(raw));
    let tampered = write_json(&tmp.path().join("tampered.json"), &tampered);
    let out = Command::new("node")
        .arg(tools.join("verify-bundle.js"))
        .arg(&tampered)
        .arg(&trusted_root)
        .arg(root(CHAINS_PUB))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let (code, _) = verify_json(&[
        "--key",
        &root(CHAINS_PUB),
        "--trusted-root",
        &trusted_root,
        &tampered,
    ]);
    assert_eq!(code, 1);
}

#[test]
fn blob_signatures_verify_against_the_artifact() {
    use chains::sign::Signer;
    let tmp = tempfile::tempdir().unwrap();
    // P-256 with SHA-256: what a bundle's SHA2_256 digest alone can verify.
    let pem = std::fs::read_to_string(common::testdata("keys/p256-sec1.pem")).unwrap();
    let signer = chains::sign::local::LocalSigner::from_pem(&pem, "p256-sec1.pem").unwrap();
    // Not JSON: a blob is verified as bytes.
    let blob = tmp.path().join("release.tar");
    std::fs::write(&blob, b"\x00\x01 not json at all").unwrap();
    let sig = tmp.path().join("release.tar.sig");
    let raw = signer.sign(&std::fs::read(&blob).unwrap()).unwrap();
    std::fs::write(&sig, STANDARD.encode(&raw)).unwrap();
    let key = tmp.path().join("p256.pub");
    std::fs::write(&key, signer.public_key().to_pem()).unwrap();
    let key = key.display().to_string();
    let (blob_s, sig_s) = (blob.display().to_string(), sig.display().to_string());
    let (code, report) =
        verify_json(&["--key", &key, "--signature", &sig_s, "--artifact", &blob_s]);
    assert_eq!(code, 0, "{report:#}");
    // Another artifact: the signature is not over it.
    let other = tmp.path().join("other.tar");
    std::fs::write(&other, b"other bytes").unwrap();
    assert_rejected(
        &[
            "--key",
            &key,
            "--signature",
            &sig_s,
            "--artifact",
            other.to_str().unwrap(),
        ],
        "signature",
        "no signature verifies",
    );
    // A message-signature bundle of the same blob, checked against the
    // file or its digest (only the digest is in the bundle).
    let digest = {
        use sha2::Digest;
        sha2::Sha256::digest(std::fs::read(&blob).unwrap())
    };
    let hint = STANDARD.encode({
        use sha2::Digest;
        sha2::Sha256::digest(
            chains::pem::decode(&std::fs::read_to_string(&key).unwrap(), &["PUBLIC KEY"]).unwrap(),
        )
    });
    let bundle = write_json(
        &tmp.path().join("release.sigstore.json"),
        &json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": hint}},
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(digest)},
                "signature": STANDARD.encode(&raw),
            },
        }),
    );
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    for artifact in [blob_s.clone(), format!("sha256:{hex}")] {
        let (code, report) = verify_json(&["--key", &key, "--artifact", &artifact, &bundle]);
        assert_eq!(code, 0, "{artifact}: {report:#}");
    }
    assert_rejected(
        &[
            "--key",
            &key,
            "--artifact",
            other.to_str().unwrap(),
            &bundle,
        ],
        "artifact",
        "it signs sha256:",
    );
}

/// A key given with a validity window (a Sigstore `PublicKey` in JSON)
/// verifies nothing without a trusted signing time unless its window holds
/// now: an envelope with no log entry is judged at the current time.
#[test]
fn a_key_window_without_a_signed_time_is_judged_now() {
    if common::skip_without_shared("a_key_window_without_a_signed_time_is_judged_now") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    attest(&["-o", out.to_str().unwrap(), &root(RUN)]);
    let pem = std::fs::read_to_string(root(CHAINS_PUB)).unwrap();
    let der = common_der(&pem);
    let key = |start: &str, end: &str, name: &str| {
        write_json(
            &tmp.path().join(name),
            &json!({"rawBytes": STANDARD.encode(&der), "validFor": {"start": start, "end": end}}),
        )
    };
    let envelope = envelope_file(&out);
    let envelope = envelope.to_str().unwrap();
    let open = key("2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "open.json");
    let (code, report) = verify_json(&["--key", &open, envelope]);
    assert_eq!(code, 0, "{report:#}");
    let past = key("2000-01-01T00:00:00Z", "2001-01-01T00:00:00Z", "past.json");
    assert_rejected(
        &["--key", &past, envelope],
        "key",
        "the current time (no trusted signing time came with it) says",
    );
    // Without an end, the window is open.
    let from = write_json(
        &tmp.path().join("from.json"),
        &json!({"rawBytes": STANDARD.encode(&der), "validFor": {"start": "2000-01-01T00:00:00Z"}}),
    );
    let (code, report) = verify_json(&["--key", &from, envelope]);
    assert_eq!(code, 0, "{report:#}");
}

/// The DER of a PEM block.
fn common_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64).unwrap()
}
