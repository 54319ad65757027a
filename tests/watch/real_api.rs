//! What the real-API-server mode (tests/common/kube/real.rs) is built
//! from, checked without a kube-apiserver binary: the manifests it applies
//! (deploy/'s RBAC and Tekton's CRDs) parse and say what they must, the RBAC
//! decisions used against our own server's request log match the API
//! server's rules, etcd starts with the mode's flags and stores, and a
//! kubeconfig carrying the CA from a kube-apiserver-style cert dir lets
//! `chains watch` attest over TLS (our server behind the same kind of
//! certificate).

use super::{SIGNED, Watcher, base_config, taskrun, wait_until};
use crate::common;
use crate::common::kube::rbac::{Attributes, Rbac};
use crate::common::kube::{CaIn, real, rv_server_tls, write_kubeconfig};
use crate::common::testdata;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn manifests(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(common::root().join(file)).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text)
        .unwrap_or_else(|e| panic!("{file} is not YAML: {e}"));
    docs.into_iter().filter(|d| d.is_object()).collect()
}

fn deploy_rbac(files: &[&str]) -> Rbac {
    let paths: Vec<std::path::PathBuf> = files.iter().map(|f| common::root().join(f)).collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    Rbac::for_service_account(&refs, "tekton-chains", "chains-watch")
}

/// Requests decided by deploy/'s RBAC as the API server decides them.
#[test]
fn deploy_rbac_is_decided_as_the_api_server_would() {
    let one = deploy_rbac(&["deploy/controller.yaml"]);
    let shared = deploy_rbac(&["deploy/controller.yaml", "deploy/buckets.yaml"]);
    let allows = |rbac: &Rbac, line: &str| {
        let a = Attributes::of(line).unwrap_or_else(|| panic!("not a resource request: {line}"));
        rbac.allows(&a)
    };
    let leader = [
        "GET /apis/tekton.dev/v1/taskruns?limit=100",
        "GET /apis/tekton.dev/v1/namespaces/ci/pipelineruns?watch=true&resourceVersion=5",
        "GET /apis/tekton.dev/v1/namespaces/ci/taskruns/build",
        "PATCH /apis/tekton.dev/v1/namespaces/ci/taskruns/build?fieldManager=chains",
        "GET /api/v1/namespaces/tekton-chains/configmaps?limit=100",
        "GET /api/v1/namespaces/tekton-chains/configmaps/chains-config",
        "GET /api/v1/namespaces/tekton-chains/secrets/signing-secrets",
        "POST /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases?fieldManager=chains",
        "GET /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases/chains-watch",
        "PATCH /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases/chains-watch?fieldManager=chains",
    ];
    for line in leader {
        assert!(allows(&one, line), "controller.yaml: {line}");
        assert!(allows(&shared, line), "with buckets.yaml: {line}");
    }
    let buckets = [
        "GET /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases/chains-watch-0-of-3",
        "PATCH /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases/chains-watch-member-pod-1?fieldManager=chains",
        "GET /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases?labelSelector=chains.tekton.dev%2Fwatch-group%3Dchains-watch&limit=100",
    ];
    for line in buckets {
        assert!(!allows(&one, line), "controller.yaml alone: {line}");
        assert!(allows(&shared, line), "with buckets.yaml: {line}");
    }
    let never = [
        "GET /api/v1/namespaces/tekton-chains/secrets/other",
        "GET /api/v1/namespaces/tekton-chains/secrets?limit=100",
        "GET /api/v1/namespaces/ci/configmaps/chains-config",
        "PUT /apis/tekton.dev/v1/namespaces/ci/taskruns/build",
        "DELETE /apis/tekton.dev/v1/namespaces/ci/taskruns/build",
        "PATCH /apis/tekton.dev/v1/namespaces/ci/taskruns/build/status",
        "POST /apis/tekton.dev/v1/namespaces/ci/taskruns",
        "DELETE /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases/chains-watch",
        "GET /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases?watch=true",
        "GET /apis/coordination.k8s.io/v1/namespaces/ci/leases/chains-watch",
        "GET /api/v1/namespaces/tekton-chains/pods?limit=1",
    ];
    for line in never {
        assert!(!allows(&shared, line), "granted but never needed: {line}");
    }
}

/// The manifests the real mode applies: every document has a collection
/// to be created in, deploy/ binds its roles to the ServiceAccount the
/// controller's token stands for, and the CRDs are Tekton's in what the
/// API server does with runs.
#[test]
fn the_real_modes_manifests_say_what_they_must() {
    for file in [
        "deploy/controller.yaml",
        "deploy/buckets.yaml",
        "tests/tools/tekton-crds.yaml",
    ] {
        for doc in manifests(file) {
            assert!(real::collection_of(&doc).starts_with('/'), "{file}: {doc}");
        }
    }
    let user = real::CONTROLLER_USER.split(':').collect::<Vec<_>>();
    assert_eq!(
        user,
        ["system", "serviceaccount", "tekton-chains", "chains-watch"]
    );
    let crds = manifests("tests/tools/tekton-crds.yaml");
    let mut kinds = Vec::new();
    for crd in &crds {
        let spec = &crd["spec"];
        let plural = spec["names"]["plural"].as_str().unwrap();
        assert_eq!(crd["metadata"]["name"], format!("{plural}.tekton.dev"));
        assert_eq!(spec["group"], "tekton.dev");
        assert_eq!(spec["scope"], "Namespaced");
        let versions = spec["versions"].as_array().unwrap();
        let names: Vec<&str> = versions.iter().filter_map(|v| v["name"].as_str()).collect();
        assert_eq!(names, ["v1beta1", "v1"], "{plural}");
        let stored: Vec<&str> = versions
            .iter()
            .filter(|v| v["storage"] == true)
            .filter_map(|v| v["name"].as_str())
            .collect();
        assert_eq!(stored, ["v1"], "{plural}");
        for v in versions {
            assert_eq!(v["served"], true, "{plural} {}", v["name"]);
            assert_eq!(
                v["subresources"]["status"],
                json!({}),
                "{plural} {}",
                v["name"]
            );
            let schema = &v["schema"]["openAPIV3Schema"];
            assert_eq!(schema["type"], "object");
            for part in ["spec", "status"] {
                let p = &schema["properties"][part];
                assert_eq!(p["type"], "object", "{plural} {part}");
                assert_eq!(
                    p["x-kubernetes-preserve-unknown-fields"], true,
                    "{plural} {part}"
                );
            }
        }
        kinds.push(spec["names"]["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(kinds, ["TaskRun", "PipelineRun"]);
}

/// etcd (Debian's etcd-server) starts with the flags the real mode gives
/// it and stores and returns a key through its v3 JSON gateway.
#[test]
fn etcd_starts_as_the_real_mode_starts_it() {
    let program = std::env::var(real::ETCD_ENV).unwrap_or_else(|_| "etcd".into());
    if std::process::Command::new(&program)
        .arg("--version")
        .output()
        .is_err()
    {
        panic!(
            "etcd is not installed: apt-get install etcd-server (or set {})",
            real::ETCD_ENV
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let etcd = real::etcd(&dir.path().join("data"));
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let client = reqwest::blocking::Client::new();
    let base = format!("http://127.0.0.1:{}", etcd.port);
    let put = client
        .post(format!("{base}/v3/kv/put"))
        .json(&json!({"key": b64("/registry/chains-test"), "value": b64("stored")}))
        .send()
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    let got: Value = client
        .post(format!("{base}/v3/kv/range"))
        .json(&json!({"key": b64("/registry/chains-test")}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(got["kvs"][0]["value"], b64("stored"), "{got}");
}

/// Our API server behind a certificate made as kube-apiserver makes one
/// into --cert-dir (serving certificate, then CA, in apiserver.crt): the
/// CA read out of that file, in a kubeconfig as `certificate-authority`
/// (a file) or `certificate-authority-data`, lets `chains watch` attest
/// over TLS; without it the same kubeconfig is refused.
#[test]
fn a_kubeconfig_with_the_cert_dirs_ca_attests_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let cert_dir = dir.path().join("certs");
    std::fs::create_dir(&cert_dir).unwrap();
    let (server, ca) = rv_server_tls(&cert_dir);
    let bundle = std::fs::read(cert_dir.join("apiserver.crt")).unwrap();
    let count = |pem: &[u8]| {
        String::from_utf8_lossy(pem)
            .matches("-----BEGIN CERTIFICATE-----")
            .count()
    };
    assert_eq!((count(&bundle), count(&ca)), (2, 1), "the CA alone is kept");
    let base = format!("https://127.0.0.1:{}", server.port);
    let client = real::client_trusting(&ca);
    let send = |method: &str, path: &str, body: Option<&Value>| {
        real::send(&client, &base, "admin", method, path, body)
    };
    let (code, v) = send(
        "POST",
        "/api/v1/namespaces/tekton-chains/configmaps",
        Some(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "chains-config", "namespace": "tekton-chains"},
                     "data": base_config()})),
    );
    assert!(code < 300, "{code} {v}");
    // The real mode's apply, over TLS: every document goes to its collection.
    real::apply(
        &client,
        &base,
        "admin",
        "deploy/controller.yaml",
        &["ConfigMap"],
    );
    real::apply(&client, &base, "admin", "tests/tools/tekton-crds.yaml", &[]);
    for path in [
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/chains-watch",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/tekton-chains/rolebindings/chains-watch",
        "/apis/apps/v1/namespaces/tekton-chains/deployments/chains-watch",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/pipelineruns.tekton.dev",
    ] {
        assert_eq!(send("GET", path, None).0, 200, "{path}");
    }
    let signed = |name: &str| {
        let (_, o) = send(
            "GET",
            &format!("/apis/tekton.dev/v1/namespaces/ci/taskruns/{name}"),
            None,
        );
        o["metadata"]["annotations"][SIGNED] == "true"
    };
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let key = testdata("keys/ed25519.pem");
    let args = ["--key", key.to_str().unwrap(), "--namespace", "ci"];
    for (tag, how) in [
        ("ca-file", CaIn::File(ca_file)),
        ("ca-data", CaIn::Data(ca.clone())),
    ] {
        let (code, v) = send(
            "POST",
            "/apis/tekton.dev/v1/namespaces/ci/taskruns",
            Some(&taskrun("ci", tag, "True", 1)),
        );
        assert!(code < 300, "{code} {v}");
        let kc = dir.path().join(format!("kubeconfig-{tag}"));
        write_kubeconfig(&kc, &base, Some(how), "tekton-chains", tag);
        let mut w = Watcher::start(dir.path(), tag, &kc, &args, &[]);
        wait_until(
            &format!("{tag}: the run to be signed over TLS"),
            &[&w],
            || signed(tag),
        );
        w.terminate();
    }

    // The same server, without the CA: refused, nothing marked.
    let (code, v) = send(
        "POST",
        "/apis/tekton.dev/v1/namespaces/ci/taskruns",
        Some(&taskrun("ci", "no-ca", "True", 1)),
    );
    assert!(code < 300, "{code} {v}");
    let kc = dir.path().join("kubeconfig-no-ca");
    write_kubeconfig(&kc, &base, None, "tekton-chains", "no-ca");
    let mut child = common::chains()
        .args(["watch", "--kubeconfig"])
        .arg(&kc)
        .args([
            "--controller-namespace",
            "tekton-chains",
            "--metrics-address",
        ])
        .arg(format!("127.0.0.1:{}", common::free_port()))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("watch without the CA neither failed nor stopped");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    use std::io::Read;
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(!status.success(), "{err}");
    assert!(!signed("no-ca"));
    let traffic: Vec<Value> = client
        .get(format!("{base}/_test/traffic"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        traffic.iter().all(|r| r["token"] != "no-ca"),
        "a request got through without the CA"
    );
}

/// The files kube-apiserver is started with: the static tokens in the
/// `token,user,uid,"groups"` format, a P-256 service-account key pair
/// (PKCS#8 private key, SPKI public key) that python's cryptography reads
/// as one pair, and an audit policy logging the controller's requests.
#[test]
fn the_api_servers_files_are_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let files = real::write_files(dir.path(), "admin-t", "controller-t");
    let tokens = std::fs::read_to_string(&files.tokens).unwrap();
    let lines: Vec<&str> = tokens.lines().collect();
    assert_eq!(
        lines,
        [
            "admin-t,chains-test-admin,chains-test-admin,\"system:masters\"",
            &format!(
                "controller-t,{},chains-watch-uid,\"system:serviceaccounts,system:serviceaccounts:tekton-chains\"",
                real::CONTROLLER_USER
            ),
        ]
    );
    let check = r#"
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
pub = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1", key
assert key.public_key().public_numbers() == pub.public_numbers()
assert open(sys.argv[1]).read().startswith("-----BEGIN PRIVATE KEY-----")
print("ok")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", check])
        .arg(&files.sa_private)
        .arg(&files.sa_public)
        .output()
        .unwrap();
    assert_eq!(
        common::stdout(&out).trim(),
        "ok",
        "{}",
        common::stderr(&out)
    );
    let policy: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&files.audit_policy).unwrap()).unwrap();
    assert_eq!(
        policy,
        json!({"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
               "omitStages": ["RequestReceived"],
               "rules": [{"level": "Metadata", "users": [real::CONTROLLER_USER]},
                         {"level": "None"}]})
    );
    assert!(files.cert_dir.is_dir());
}

/// Audit events (audit.k8s.io/v1, as the log backend writes them, one JSON
/// object per line) become the controller's requests: one per auditID
/// (a watch logs ResponseStarted and later ResponseComplete), other users'
/// and the test's own probes left out, the verb turned back into the HTTP
/// method.
#[test]
fn audit_events_become_the_controllers_traffic() {
    let event = |id: &str, stage: &str, verb: &str, uri: &str, user: &str, code: u16| {
        json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
               "auditID": id, "stage": stage, "requestURI": uri, "verb": verb,
               "user": {"username": user, "uid": "u", "groups": ["system:authenticated"]},
               "sourceIPs": ["127.0.0.1"], "userAgent": "chains/0.1.0",
               "objectRef": {"resource": "taskruns", "namespace": "ci", "apiGroup": "tekton.dev", "apiVersion": "v1"},
               "responseStatus": {"metadata": {}, "code": code},
               "requestReceivedTimestamp": "2026-01-01T00:00:00.000000Z",
               "stageTimestamp": "2026-01-01T00:00:00.001000Z"})
        .to_string()
    };
    let ours = real::CONTROLLER_USER;
    // The test's own RBAC probe, made with the controller's token.
    let probe = event(
        "0",
        "ResponseComplete",
        "list",
        "/apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases",
        ours,
        403,
    )
    .replace("chains/0.1.0", "chains-test-rbac-probe");
    let log = [
        probe,
        event(
            "1",
            "ResponseStarted",
            "watch",
            "/apis/tekton.dev/v1/namespaces/ci/taskruns?watch=true",
            ours,
            200,
        ),
        event(
            "2",
            "ResponseComplete",
            "patch",
            "/apis/tekton.dev/v1/namespaces/ci/taskruns/b?fieldManager=chains",
            ours,
            200,
        ),
        event(
            "3",
            "ResponseComplete",
            "get",
            "/api/v1/namespaces/tekton-chains/secrets/x",
            ours,
            403,
        ),
        event(
            "4",
            "ResponseComplete",
            "create",
            "/api/v1/namespaces",
            "chains-test-admin",
            201,
        ),
        event(
            "1",
            "ResponseComplete",
            "watch",
            "/apis/tekton.dev/v1/namespaces/ci/taskruns?watch=true",
            ours,
            200,
        ),
    ]
    .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    std::fs::write(&path, log + "\n").unwrap();
    let traffic = real::audit_traffic(&path, "tok");
    let lines: Vec<&str> = traffic.iter().filter_map(|r| r["line"].as_str()).collect();
    assert_eq!(
        lines,
        [
            "GET /apis/tekton.dev/v1/namespaces/ci/taskruns?watch=true",
            "PATCH /apis/tekton.dev/v1/namespaces/ci/taskruns/b?fieldManager=chains",
            "GET /api/v1/namespaces/tekton-chains/secrets/x",
        ]
    );
    assert!(
        traffic
            .iter()
            .all(|r| r["token"] == "tok" && r["agent"] == "chains/0.1.0")
    );
    assert_eq!(traffic[2]["code"], 403);
}
