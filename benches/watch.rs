//! `chains watch` on a backlog: N completed PipelineRuns (default 5,000),
//! each with two child TaskRuns, already in the cluster when the controller
//! starts. Reports runs marked per second and the controller's peak RSS.
//!
//! The cluster is tests/tools/kube_rv_server.py (real resourceVersions and
//! conditional writes), preloaded with the backlog. It is a Python server
//! on the same two cores, so the figure is a lower bound for the
//! controller. Options after `--`: `--runs N` (PipelineRuns), `--workers N`.
//!
//! cargo bench --bench watch -- --runs 5000

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1 200")
        .then(|| out.split_once("\r\n\r\n").map(|x| x.1.to_string()))
        .flatten()
}

fn taskrun(ns: &str, name: &str, parent: &str, i: usize) -> Value {
    let t = format!(
        "2025-01-01T{:02}:{:02}:{:02}Z",
        (i / 3600) % 24,
        (i / 60) % 60,
        i % 60
    );
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": t,
                     "labels": {"tekton.dev/pipelineRun": parent, "tekton.dev/task": "build"}},
        "spec": {"taskRef": {"name": "build"}, "params": [{"name": "IMAGE", "value": "registry.example/app"}]},
        "status": {
            "conditions": [{"type": "Succeeded", "status": "True"}],
            "startTime": t, "completionTime": t, "podName": format!("{name}-pod"),
            "taskSpec": {"steps": [{"name": "build", "image": "busybox", "script": "make all\nmake test\n"}]},
            "steps": [{"name": "build", "container": "step-build",
                       "imageID": "docker.io/library/busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111"}],
            "results": [{"name": "CHAINS-GIT_COMMIT", "type": "string", "value": "9f2c1e4b7a8d3f6e5c0b1a2d3e4f5a6b7c8d9e0f"}]
        }
    })
}

fn backlog(path: &Path, runs: usize) -> usize {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut objects = 0;
    for i in 0..runs {
        let ns = format!("team-{}", i % 10);
        let pr = format!("release-{i:05}");
        let kids = [format!("{pr}-fetch"), format!("{pr}-build")];
        for k in &kids {
            let line = json!({"collection": format!("/apis/tekton.dev/v1/namespaces/{ns}/taskruns"),
                              "object": taskrun(&ns, k, &pr, i)});
            writeln!(f, "{line}").unwrap();
            objects += 1;
        }
        let t = format!(
            "2025-01-01T{:02}:{:02}:{:02}Z",
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60
        );
        let pipeline = json!({
            "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": pr, "namespace": ns, "creationTimestamp": t},
            "spec": {"pipelineRef": {"name": "release"}},
            "status": {
                "conditions": [{"type": "Succeeded", "status": "True"}],
                "startTime": t, "completionTime": t,
                "pipelineSpec": {"tasks": [{"name": "fetch", "taskRef": {"name": "git"}}, {"name": "build", "taskRef": {"name": "build"}}]},
                "childReferences": kids.iter().map(|k| json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": k})).collect::<Vec<_>>()
            }
        });
        let line = json!({"collection": format!("/apis/tekton.dev/v1/namespaces/{ns}/pipelineruns"), "object": pipeline});
        writeln!(f, "{line}").unwrap();
        objects += 1;
    }
    objects
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn metric(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn main() {
    let mut runs = 5000;
    let mut workers = 8;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--workers" => workers = it.next().and_then(|v| v.parse().ok()).expect("--workers N"),
            _ => {} // cargo bench passes --bench
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("backlog.jsonl");
    let total = backlog(&data, runs);
    let port = free_port();
    let _server = Killed(
        Command::new("python3")
            .arg(root.join("tests/tools/kube_rv_server.py"))
            .arg(port.to_string())
            .arg(&data)
            .stdout(Stdio::null())
            .spawn()
            .expect("python3"),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while get(port, "/healthz").is_none() {
        assert!(Instant::now() < deadline, "test API server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: c\n  context: {{cluster: t, user: u, namespace: tekton-chains}}\ncurrent-context: c\n"),
    )
    .unwrap();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "chains-config", "namespace": "tekton-chains"},
                    "data": {"artifacts.oci.storage": ""}});
    let body = cm.to_string();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "POST /api/v1/namespaces/tekton-chains/configmaps HTTP/1.0\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len()).unwrap();
    let _ = s.read_to_string(&mut String::new());

    let mport = free_port();
    let key = root.join("testdata/keys/ed25519.pem");
    let start = Instant::now();
    #[allow(clippy::zombie_processes)] // reaped with wait4 below
    let child = Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(["watch", "--kubeconfig"])
        .arg(&kc)
        .args(["--controller-namespace", "tekton-chains", "--key"])
        .arg(&key)
        .args([
            "--no-leader-election",
            "--log-format",
            "json",
            "--kube-api-qps",
            "0",
        ])
        .args(["--workers", &workers.to_string()])
        .args(["--metrics-address", &format!("127.0.0.1:{mport}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chains watch");
    let pid = child.id() as libc::pid_t;
    let mut marked = 0.0;
    let deadline = Instant::now() + Duration::from_secs(3600);
    while (marked as usize) < total {
        assert!(
            Instant::now() < deadline,
            "backlog not done: {marked}/{total}"
        );
        std::thread::sleep(Duration::from_millis(200));
        if let Some(m) = get(mport, "/metrics") {
            marked = metric(&m, "watcher_taskrun_marked_signed_total")
                + metric(&m, "watcher_pipelinerun_marked_signed_total");
        }
    }
    let wall = start.elapsed().as_secs_f64();
    // SAFETY: pid is our child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 writes it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    println!(
        "watch backlog: {runs} PipelineRuns + {} TaskRuns = {total} runs marked in {wall:.1} s: {:.0} runs/s; controller CPU {:.1} s, peak RSS {:.1} MiB ({workers} workers)",
        total - runs,
        total as f64 / wall,
        tv(usage.ru_utime) + tv(usage.ru_stime),
        usage.ru_maxrss as f64 / 1024.0
    );
}
