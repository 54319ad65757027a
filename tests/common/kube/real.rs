//! A real Kubernetes API server on 127.0.0.1 for the watch tests: etcd
//! (Debian's `etcd-server`, or `CHAINS_TEST_ETCD`) and the kube-apiserver
//! binary that `CHAINS_TEST_KUBE_APISERVER` names, started as the
//! kube-apiserver reference (kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/)
//! describes its flags:
//!
//! - serving: `--secure-port` on `--bind-address=127.0.0.1`, with
//!   `--advertise-address=127.0.0.1` (else it looks for a default route),
//!   and a self-signed certificate it writes into `--cert-dir` itself
//!   (`apiserver.crt`: the serving certificate, then its CA);
//! - authentication: `--token-auth-file`, a CSV of `token,user,uid,"groups"`
//!   with an admin in `system:masters` and the controller as the
//!   ServiceAccount user `system:serviceaccount:tekton-chains:chains-watch`
//!   (RBAC binds a ServiceAccount subject by that user name), so that
//!   deploy/controller.yaml's bindings apply to it unchanged;
//! - authorization: `--authorization-mode=RBAC` (the admin's group bypasses it);
//! - service account tokens (required since 1.20): `--service-account-issuer`,
//!   `--service-account-signing-key-file` with a P-256 key generated here
//!   (PKCS#8) and its public key in `--service-account-key-file`, and
//!   `--api-audiences`;
//! - `--service-cluster-ip-range`, and an audit log (`--audit-policy-file`,
//!   `--audit-log-path`) of the controller's requests at the Metadata level,
//!   which tells what it asked, as whom, with which User-Agent and with
//!   which answer.
//!
//! Readiness is a poll of `/readyz` (TLS, trusting the CA from the cert
//! dir) with a generous deadline. Nothing here has run against a real
//! kube-apiserver in CI (none installs there); etcd is started on its own by
//! a test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::super::{Service, free_port, root};

/// Names the kube-apiserver binary; without it the real mode is skipped.
pub const APISERVER_ENV: &str = "CHAINS_TEST_KUBE_APISERVER";
/// Names the etcd binary (default: `etcd` on PATH).
pub const ETCD_ENV: &str = "CHAINS_TEST_ETCD";
/// The controller's user: deploy/controller.yaml's ServiceAccount.
pub const CONTROLLER_USER: &str = "system:serviceaccount:tekton-chains:chains-watch";
/// How long a start may take before the test calls it hung (a loaded
/// 2-core machine starts kube-apiserver in tens of seconds).
const START_SECS: u64 = 300;

/// etcd with its data in `dir`, ready when `/health` says so.
pub fn etcd(dir: &Path) -> Service {
    let program = std::env::var_os(ETCD_ENV).unwrap_or_else(|| "etcd".into());
    let (client, peer) = (free_port(), free_port());
    let client_url = format!("http://127.0.0.1:{client}");
    let peer_url = format!("http://127.0.0.1:{peer}");
    let args: Vec<String> = [
        ("--name", "chains-test".to_string()),
        ("--data-dir", dir.display().to_string()),
        ("--listen-client-urls", client_url.clone()),
        ("--advertise-client-urls", client_url.clone()),
        ("--listen-peer-urls", peer_url.clone()),
        ("--initial-advertise-peer-urls", peer_url.clone()),
        ("--initial-cluster", format!("chains-test={peer_url}")),
        ("--initial-cluster-state", "new".to_string()),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={v}"))
    .collect();
    Service::start(
        "etcd",
        Path::new(&program),
        &args,
        &[],
        client,
        &format!("{client_url}/health"),
    )
}

/// A running etcd and kube-apiserver, killed on drop.
pub struct ApiServer {
    // Dropped in order: the API server before its etcd.
    apiserver: Service,
    _etcd: Service,
    pub port: u16,
    /// PEM of the CA that signed the serving certificate.
    pub ca: Vec<u8>,
    pub admin_token: String,
    pub controller_token: String,
    audit_log: PathBuf,
    _dir: tempfile::TempDir,
}

impl ApiServer {
    /// Start etcd and kube-apiserver (`binary`), then wait until it is ready.
    pub fn start(binary: &Path) -> ApiServer {
        // etcd syncs every write: on tmpfs that costs nothing.
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .unwrap();
        let etcd = etcd(&dir.path().join("etcd"));
        let nonce = format!(
            "{}{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let admin_token = format!("admin-{nonce}");
        let controller_token = format!("controller-{nonce}");
        let files = write_files(dir.path(), &admin_token, &controller_token);
        let port = free_port();
        let issuer = "https://kubernetes.default.svc.cluster.local";
        let flags: Vec<(&str, String)> = vec![
            ("--etcd-servers", format!("http://127.0.0.1:{}", etcd.port)),
            ("--bind-address", "127.0.0.1".into()),
            ("--advertise-address", "127.0.0.1".into()),
            ("--secure-port", port.to_string()),
            ("--cert-dir", files.cert_dir.display().to_string()),
            ("--service-cluster-ip-range", "10.0.0.0/24".into()),
            ("--token-auth-file", files.tokens.display().to_string()),
            ("--authorization-mode", "RBAC".into()),
            ("--service-account-issuer", issuer.into()),
            ("--api-audiences", issuer.into()),
            (
                "--service-account-key-file",
                files.sa_public.display().to_string(),
            ),
            (
                "--service-account-signing-key-file",
                files.sa_private.display().to_string(),
            ),
            (
                "--audit-policy-file",
                files.audit_policy.display().to_string(),
            ),
            ("--audit-log-path", files.audit_log.display().to_string()),
        ];
        let args: Vec<String> = flags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let log = dir.path().join("kube-apiserver.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut apiserver = Service {
            child,
            port,
            name: "kube-apiserver".into(),
        };
        let ca = wait_ready(
            &mut apiserver,
            &files.cert_dir,
            &admin_token,
            "/readyz",
            &log,
        );
        ApiServer {
            apiserver,
            _etcd: etcd,
            port,
            ca,
            admin_token,
            controller_token,
            audit_log: files.audit_log,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A client trusting only the server's CA.
    pub fn client(&self) -> reqwest::blocking::Client {
        client_trusting(&self.ca)
    }

    /// `METHOD path` as the admin, with a JSON body: (status, answer).
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        send(
            &self.client(),
            &self.url(),
            &self.admin_token,
            method,
            path,
            body,
        )
    }

    /// Each request of the controller's user so far, from the audit log,
    /// in the shape of tests/tools/kube_rv_server.py's `/_test/traffic`
    /// (`line`, `agent`, `token`, `answered`; no Accept and no byte counts,
    /// which audit events do not carry).
    pub fn traffic(&self) -> Vec<Value> {
        audit_traffic(&self.audit_log, &self.controller_token)
    }

    /// The audit log and the controller's token, for [`audit_traffic`].
    pub fn audit(&self) -> (PathBuf, String) {
        (self.audit_log.clone(), self.controller_token.clone())
    }

    /// Create every object of the multi-document YAML `file` (relative to
    /// the repository), strictly validated, as the admin; kinds in `skip`
    /// are left out.
    pub fn apply(&self, file: &str, skip: &[&str]) {
        apply(&self.client(), &self.url(), &self.admin_token, file, skip);
    }

    /// Tekton's CRDs (tests/tools/tekton-crds.yaml), once they serve.
    pub fn install_tekton_crds(&self) {
        self.apply("tests/tools/tekton-crds.yaml", &[]);
        for plural in ["taskruns", "pipelineruns"] {
            let crd = format!(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.tekton.dev"
            );
            poll(
                &format!("CRD {plural}.tekton.dev to be established"),
                || {
                    let (_, v) = self.send("GET", &crd, None);
                    v["status"]["conditions"].as_array().is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Established" && c["status"] == "True")
                    })
                },
            );
            for version in ["v1", "v1beta1"] {
                let list = format!("/apis/tekton.dev/{version}/{plural}?limit=1");
                poll(&format!("{list} to be served"), || {
                    self.send("GET", &list, None).0 == 200
                });
            }
        }
    }

    /// Wait until the controller's token may do what deploy/'s RBAC grants
    /// (the authorizer learns new bindings through its informers).
    pub fn wait_for_controller_rbac(&self, paths: &[&str]) {
        // Probes go as the controller's user, so the audit log would count
        // them as its traffic: they carry their own User-Agent, which
        // [`audit_traffic`] leaves out (an audit policy cannot match one).
        let client = reqwest::blocking::Client::builder()
            .tls_certs_only(reqwest::Certificate::from_pem_bundle(&self.ca).unwrap())
            .user_agent(PROBE_AGENT)
            .build()
            .unwrap();
        for path in paths {
            poll(&format!("RBAC to allow the controller {path}"), || {
                let (code, _) = send(
                    &client,
                    &self.url(),
                    &self.controller_token,
                    "GET",
                    path,
                    None,
                );
                code == 200 || code == 404
            });
        }
    }
}

/// The User-Agent of the test's own permission probes made with the
/// controller's token.
const PROBE_AGENT: &str = "chains-test-rbac-probe";

/// The controller's requests in an audit log (see [`ApiServer::traffic`]),
/// without the test's probes.
pub fn audit_traffic(audit_log: &Path, controller_token: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(audit_log).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for event in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        // A long request logs ResponseStarted, then ResponseComplete.
        let id = event["auditID"].as_str().unwrap_or("").to_string();
        if !seen.insert(id)
            || event["user"]["username"] != CONTROLLER_USER
            || event["userAgent"] == PROBE_AGENT
        {
            continue;
        }
        let method = match event["verb"].as_str().unwrap_or("") {
            "get" | "list" | "watch" => "GET",
            "create" => "POST",
            "patch" => "PATCH",
            "update" => "PUT",
            _ => "DELETE",
        };
        out.push(json!({
            "line": format!("{method} {}", event["requestURI"].as_str().unwrap_or("")),
            "agent": event["userAgent"],
            "token": controller_token,
            "code": event["responseStatus"]["code"],
            "answered": !event["responseStatus"].is_null(),
        }));
    }
    out
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        // Stop the API server first: etcd goes when its Service drops.
        let _ = self.apiserver.child.kill();
        let _ = self.apiserver.child.wait();
    }
}

/// Create every object of the multi-document YAML `file` (relative to the
/// repository) on the server at `base`, strictly validated, with `token`;
/// kinds in `skip` are left out.
pub fn apply(
    client: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    file: &str,
    skip: &[&str],
) {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    for doc in docs.iter().filter(|d| d.is_object()) {
        let kind = doc["kind"].as_str().unwrap_or("");
        if skip.contains(&kind) {
            continue;
        }
        let path = format!(
            "{}?fieldValidation=Strict&fieldManager=chains-test",
            collection_of(doc)
        );
        let (code, answer) = send(client, base, token, "POST", &path, Some(doc));
        assert!(code < 300, "{file}: creating {kind}: {code} {answer}");
    }
}

/// The collection an object is created in.
pub fn collection_of(doc: &Value) -> String {
    let api_version = doc["apiVersion"].as_str().unwrap_or("");
    let kind = doc["kind"].as_str().unwrap_or("");
    let ns = doc["metadata"]["namespace"].as_str();
    let plural = match kind {
        "Namespace" => "namespaces",
        "ServiceAccount" => "serviceaccounts",
        "ConfigMap" => "configmaps",
        "Secret" => "secrets",
        "Role" => "roles",
        "RoleBinding" => "rolebindings",
        "ClusterRole" => "clusterroles",
        "ClusterRoleBinding" => "clusterrolebindings",
        "Deployment" => "deployments",
        "CustomResourceDefinition" => "customresourcedefinitions",
        other => panic!("no collection known for kind {other}"),
    };
    let prefix = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    match ns {
        Some(ns) => format!("{prefix}/namespaces/{ns}/{plural}"),
        None => format!("{prefix}/{plural}"),
    }
}

/// The files kube-apiserver is started with.
pub struct Files {
    pub cert_dir: PathBuf,
    pub tokens: PathBuf,
    pub sa_private: PathBuf,
    pub sa_public: PathBuf,
    pub audit_policy: PathBuf,
    pub audit_log: PathBuf,
}

/// The static tokens, the service-account key pair and the audit policy.
pub fn write_files(dir: &Path, admin_token: &str, controller_token: &str) -> Files {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
    let files = Files {
        cert_dir: dir.join("certs"),
        tokens: dir.join("tokens.csv"),
        sa_private: dir.join("sa.key"),
        sa_public: dir.join("sa.pub"),
        audit_policy: dir.join("audit-policy.yaml"),
        audit_log: dir.join("audit.log"),
    };
    std::fs::create_dir_all(&files.cert_dir).unwrap();
    std::fs::write(
        &files.tokens,
        format!(
            "{admin_token},chains-test-admin,chains-test-admin,\"system:masters\"\n\
             {controller_token},{CONTROLLER_USER},chains-watch-uid,\"system:serviceaccounts,system:serviceaccounts:tekton-chains\"\n"
        ),
    )
    .unwrap();
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let private = key.to_pkcs8v1().unwrap();
    let public = key.public_key().as_der().unwrap();
    std::fs::write(&files.sa_private, pem("PRIVATE KEY", private.as_ref())).unwrap();
    std::fs::write(&files.sa_public, pem("PUBLIC KEY", public.as_ref())).unwrap();
    std::fs::write(
        &files.audit_policy,
        format!(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n\
             - level: Metadata\n  users: [\"{CONTROLLER_USER}\"]\n- level: None\n"
        ),
    )
    .unwrap();
    files
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The CA certificates in a PEM bundle such as the `apiserver.crt`
/// kube-apiserver writes into --cert-dir (serving certificate, then the
/// CA that signed it): the self-signed ones, as PEM; the whole bundle
/// when none is (a chain to some other root).
pub fn ca_of(bundle: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    use x509_cert::der::Decode;
    let text = std::str::from_utf8(bundle).ok()?;
    let mut blocks = Vec::new();
    for chunk in text.split("-----BEGIN CERTIFICATE-----").skip(1) {
        let body = chunk.split("-----END CERTIFICATE-----").next()?;
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        let cert = x509_cert::Certificate::from_der(&der).ok()?;
        blocks.push((cert, der));
    }
    if blocks.is_empty() {
        return None;
    }
    let roots: String = blocks
        .iter()
        .filter(|(c, _)| c.tbs_certificate().subject() == c.tbs_certificate().issuer())
        .map(|(_, der)| pem("CERTIFICATE", der))
        .collect();
    Some(if roots.is_empty() {
        bundle.to_vec()
    } else {
        roots.into_bytes()
    })
}

/// A blocking client that trusts only `ca` (PEM, one or more certificates).
pub fn client_trusting(ca: &[u8]) -> reqwest::blocking::Client {
    let certs = reqwest::Certificate::from_pem_bundle(ca).unwrap();
    reqwest::blocking::Client::builder()
        .tls_certs_only(certs)
        .build()
        .unwrap()
}

/// `METHOD base+path` with a bearer token and an optional JSON body (a
/// merge patch for PATCH): (status, answer).
pub fn send(
    client: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = client
        .request(method.parse().unwrap(), format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        let ct = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        req = req.header("content-type", ct).body(b.to_string());
    }
    match req.send() {
        Ok(resp) => {
            let code = resp.status().as_u16();
            (code, resp.json().unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// Poll until `cond` holds; the deadline only guards against a hang.
fn poll(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(START_SECS);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Wait until a server has written its certificate into `cert_dir` (as
/// kube-apiserver does) and `ready` answers 200 over TLS, trusting only the
/// CA found there; that CA.
pub fn wait_ready(
    apiserver: &mut Service,
    cert_dir: &Path,
    admin: &str,
    ready: &str,
    log: &Path,
) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(START_SECS);
    let url = format!("https://127.0.0.1:{}", apiserver.port);
    loop {
        if let Ok(Some(status)) = apiserver.child.try_wait() {
            panic!(
                "{} exited with {status}; log:\n{}",
                apiserver.name,
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        let ca = std::fs::read(cert_dir.join("apiserver.crt"))
            .ok()
            .and_then(|b| ca_of(&b));
        if let Some(ca) = ca {
            let (code, _) = send(&client_trusting(&ca), &url, admin, "GET", ready, None);
            if code == 200 {
                return ca;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} not ready within {START_SECS}s; log:\n{}",
            apiserver.name,
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
