//! `chains watch` at cluster scale (issue 16): a backlog of N completed
//! PipelineRuns (default 5,000), each with two child TaskRuns, plus S runs
//! already signed (with Chains' payload annotations), all in the cluster
//! when the controllers start; during the backlog a steady stream of new
//! finished TaskRuns arrives. For 1, 2 and 3 replicas (`--buckets` equal to
//! the replicas, leader election on) it reports runs marked per second,
//! the new runs' latency from creation to `marked signed` (p50/p99, from
//! the controllers' JSON logs), the controllers' peak RSS and CPU, and the
//! API requests and bytes per marked run besides the lists, and the lists' own
//! requests and bytes (the test server's own record).
//!
//! The cluster is tests/tools/kube_rv_server.py (real resourceVersions,
//! conditional writes, PartialObjectMetadata lists), preloaded with the
//! backlog. It is a Python server on the same cores, so throughput is a
//! lower bound for the controller. `--full-lists` makes the server ignore
//! the metadata-only Accept (as an emulator would), to measure what
//! metadata-only lists save.
//!
//! cargo bench --bench watch -- --runs 5000 --signed 100000 --stream 2 --replicas 1,2,3

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Options {
    runs: usize,
    signed: usize,
    stream: f64,
    replicas: Vec<usize>,
    workers: usize,
    full_lists: bool,
}

fn options() -> Options {
    let mut o = Options {
        runs: 5000,
        signed: 0,
        stream: 2.0,
        replicas: vec![1, 2, 3],
        workers: 8,
        full_lists: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--runs" => o.runs = value().parse().expect("--runs N"),
            "--signed" => o.signed = value().parse().expect("--signed N"),
            "--stream" => o.stream = value().parse().expect("--stream RUNS_PER_SECOND"),
            "--workers" => o.workers = value().parse().expect("--workers N"),
            "--replicas" => {
                o.replicas = value()
                    .split(',')
                    .map(|r| r.parse().expect("--replicas 1,2,3"))
                    .collect()
            }
            "--full-lists" => o.full_lists = true,
            _ => {} // cargo bench passes --bench
        }
    }
    o
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.0 exchange with the test server or a controller.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let ok = out.starts_with("HTTP/1.1 2") || out.starts_with("HTTP/1.0 2");
    ok.then(|| out.split_once("\r\n\r\n").map(|x| x.1.to_string()))
        .flatten()
}

fn stamp(i: usize) -> String {
    format!(
        "2025-01-01T{:02}:{:02}:{:02}Z",
        (i / 3600) % 24,
        (i / 60) % 60,
        i % 60
    )
}

fn taskrun(ns: &str, name: &str, parent: Option<&str>, t: &str) -> Value {
    let mut labels = json!({"tekton.dev/task": "build"});
    if let Some(p) = parent {
        labels["tekton.dev/pipelineRun"] = json!(p);
    }
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": t, "labels": labels},
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

fn pipelinerun(ns: &str, name: &str, kids: &[String], t: &str) -> Value {
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": t},
        "spec": {"pipelineRef": {"name": "release"}},
        "status": {
            "conditions": [{"type": "Succeeded", "status": "True"}],
            "startTime": t, "completionTime": t,
            "pipelineSpec": {"tasks": [{"name": "fetch", "taskRef": {"name": "git"}}, {"name": "build", "taskRef": {"name": "build"}}]},
            "childReferences": kids.iter().map(|k| json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": k})).collect::<Vec<_>>()
        }
    })
}

/// The preload file: the backlog (to attest) and the signed runs (to
/// leave alone). Returns how many runs the controllers must mark.
fn cluster_file(path: &Path, o: &Options) -> usize {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut line = |plural: &str, ns: &str, object: Value| {
        let l = json!({"collection": format!("/apis/tekton.dev/v1/namespaces/{ns}/{plural}"), "object": object});
        writeln!(f, "{l}").unwrap();
    };
    for i in 0..o.runs {
        let ns = format!("team-{}", i % 10);
        let pr = format!("release-{i:05}");
        let kids = [format!("{pr}-fetch"), format!("{pr}-build")];
        for k in &kids {
            line("taskruns", &ns, taskrun(&ns, k, Some(&pr), &stamp(i)));
        }
        line("pipelineruns", &ns, pipelinerun(&ns, &pr, &kids, &stamp(i)));
    }
    // What Chains leaves on a signed run: payload, signature, state.
    let payload = "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjAuMSJ9".repeat(120);
    for i in 0..o.signed {
        let ns = format!("team-{}", i % 10);
        let name = format!("old-{i:06}");
        let mut tr = taskrun(&ns, &name, None, &stamp(i));
        tr["metadata"]["annotations"] = json!({
            "chains.tekton.dev/signed": "true",
            format!("chains.tekton.dev/payload-taskrun-{name}"): payload,
            format!("chains.tekton.dev/signature-taskrun-{name}"): "MEUCIQD".repeat(14),
        });
        line("taskruns", &ns, tr);
    }
    o.runs * 3
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

/// The test API server, preloaded, with chains-config.
fn start_server(root: &Path, data: &Path, full_lists: bool) -> (Killed, u16) {
    let port = free_port();
    let mut cmd = Command::new("python3");
    cmd.arg(root.join("tests/tools/kube_rv_server.py"))
        .arg(port.to_string())
        .arg(data)
        .stdout(Stdio::null());
    if full_lists {
        cmd.env("KUBE_RV_SERVER_FULL_LISTS", "1");
    }
    let server = Killed(cmd.spawn().expect("python3"));
    let deadline = Instant::now() + Duration::from_secs(600);
    while http(port, "GET", "/healthz", None).is_none() {
        assert!(Instant::now() < deadline, "test API server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "chains-config", "namespace": "tekton-chains"},
                    "data": {"artifacts.oci.storage": ""}});
    http(
        port,
        "POST",
        "/api/v1/namespaces/tekton-chains/configmaps",
        Some(&cm),
    )
    .expect("chains-config");
    (server, port)
}

/// A controller replica; its JSON log goes to `log`.
fn start_controller(
    root: &Path,
    kubeconfig: &Path,
    log: &Path,
    id: usize,
    replicas: usize,
    workers: usize,
) -> (Child, u16) {
    let mport = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(["watch", "--kubeconfig"])
        .arg(kubeconfig)
        .args(["--controller-namespace", "tekton-chains", "--key"])
        .arg(root.join("testdata/keys/ed25519.pem"))
        .args(["--log-format", "json", "--kube-api-qps", "0"])
        .args(["--buckets", &replicas.to_string()])
        .args(["--identity", &format!("bench-{id}")])
        .args(["--workers", &workers.to_string()])
        .args(["--metrics-address", &format!("127.0.0.1:{mport}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("chains watch");
    (child, mport)
}

/// New finished TaskRuns, `per_second`, until `stop`: name → created (Unix s).
fn stream(
    port: u16,
    per_second: f64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<HashMap<String, f64>> {
    std::thread::spawn(move || {
        let mut created = HashMap::new();
        if per_second <= 0.0 {
            return created;
        }
        let pause = Duration::from_secs_f64(1.0 / per_second);
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) {
            let now = time::OffsetDateTime::now_utc();
            let t = now
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            let name = format!("new-{i:05}");
            let tr = taskrun("stream", &name, None, &t);
            let path = "/apis/tekton.dev/v1/namespaces/stream/taskruns";
            if http(port, "POST", path, Some(&tr)).is_some() {
                created.insert(name, now.unix_timestamp_nanos() as f64 / 1e9);
            }
            i += 1;
            std::thread::sleep(pause);
        }
        created
    })
}

/// Seconds from creation to "marked signed" of the streamed runs.
fn latencies(logs: &[PathBuf], created: &HashMap<String, f64>) -> Vec<f64> {
    let mut out = Vec::new();
    for log in logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if v["msg"] != "marked signed" {
                continue;
            }
            let Some(t0) = v["name"].as_str().and_then(|n| created.get(n)) else {
                continue;
            };
            let ts = v["ts"].as_str().unwrap_or("");
            let Ok(t) =
                time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
            else {
                continue;
            };
            out.push(t.unix_timestamp_nanos() as f64 / 1e9 - t0);
        }
    }
    out.sort_by(f64::total_cmp);
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// SIGTERM and reap: (CPU seconds, peak RSS MiB).
fn stop(child: Child) -> (f64, f64) {
    let pid = child.id() as libc::pid_t;
    std::mem::forget(child);
    // SAFETY: pid is our child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 writes it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        tv(usage.ru_utime) + tv(usage.ru_stime),
        usage.ru_maxrss as f64 / 1024.0,
    )
}

/// The controllers' requests and bytes, split into the lists (the start's
/// and any relist: sized by the cluster) and the rest (sized by the work).
struct Traffic {
    list_requests: usize,
    list_bytes: u64,
    requests: usize,
    sent: u64,
    received: u64,
}

fn traffic(port: u16) -> Traffic {
    let body = http(port, "GET", "/_test/traffic", None).unwrap_or_default();
    let all: Vec<Value> = serde_json::from_str(&body).unwrap_or_default();
    let ours = all.iter().filter(|r| r["token"] == "bench");
    let (lists, rest): (Vec<&Value>, Vec<&Value>) = ours.partition(|r| {
        let line = r["line"].as_str().unwrap_or("");
        line.starts_with("GET ") && line.contains("limit=") && !line.contains("watch=true")
    });
    let sum = |v: &[&Value], k: &str| v.iter().filter_map(|r| r[k].as_u64()).sum::<u64>();
    Traffic {
        list_requests: lists.len(),
        list_bytes: sum(&lists, "sent"),
        requests: rest.len(),
        sent: sum(&rest, "received"),
        received: sum(&rest, "sent"),
    }
}

fn scenario(root: &Path, dir: &Path, data: &Path, backlog: usize, replicas: usize, o: &Options) {
    let (_server, port) = start_server(root, data, o.full_lists);
    let kc = dir.join("kubeconfig");
    std::fs::write(
        &kc,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: bench}}\ncontexts:\n- name: c\n  context: {{cluster: t, user: u, namespace: tekton-chains}}\ncurrent-context: c\n"),
    )
    .unwrap();
    let start = Instant::now();
    let mut controllers = Vec::new();
    let mut logs = Vec::new();
    for id in 0..replicas {
        let log = dir.join(format!("watch-{replicas}-{id}.log"));
        controllers.push(start_controller(root, &kc, &log, id, replicas, o.workers));
        logs.push(log);
    }
    let stopping = Arc::new(AtomicBool::new(false));
    let streamer = stream(port, o.stream, stopping.clone());
    let marked = |ports: &[u16]| -> f64 {
        ports
            .iter()
            .filter_map(|p| http(*p, "GET", "/metrics", None))
            .map(|m| {
                metric(&m, "watcher_taskrun_marked_signed_total")
                    + metric(&m, "watcher_pipelinerun_marked_signed_total")
            })
            .sum()
    };
    let ports: Vec<u16> = controllers.iter().map(|c| c.1).collect();
    let deadline = Instant::now() + Duration::from_secs(7200);
    while (marked(&ports) as usize) < backlog {
        assert!(Instant::now() < deadline, "backlog not done");
        std::thread::sleep(Duration::from_millis(200));
    }
    stopping.store(true, Ordering::SeqCst);
    let created = streamer.join().unwrap();
    while (marked(&ports) as usize) < backlog + created.len() {
        assert!(Instant::now() < deadline, "stream not done");
        std::thread::sleep(Duration::from_millis(100));
    }
    let wall = start.elapsed().as_secs_f64();
    let total = marked(&ports);
    let (cpu, rss) = controllers
        .into_iter()
        .map(|(c, _)| stop(c))
        .fold((0.0, 0.0f64), |(c, r), (c2, r2)| (c + c2, r.max(r2)));
    let t = traffic(port);
    let lat = latencies(&logs, &created);
    println!(
        "watch, {replicas} replica(s): {total} runs marked ({backlog} backlog, {} new) in {wall:.1} s: {:.0} runs/s; new-run latency p50 {:.3} s, p99 {:.3} s; peak RSS {rss:.1} MiB (largest replica), CPU {cpu:.1} s (all); lists: {} requests, {:.1} MB received; besides lists, per run {:.1} requests, {:.0} bytes sent, {:.0} bytes received",
        created.len(),
        total / wall,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        t.list_requests,
        t.list_bytes as f64 / 1e6,
        t.requests as f64 / total,
        t.sent as f64 / total,
        t.received as f64 / total,
    );
}

fn main() {
    let o = options();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cluster.jsonl");
    let backlog = cluster_file(&data, &o);
    println!(
        "cluster: {} PipelineRuns with 2 TaskRuns each to attest, {} signed runs, {} new runs/s{}",
        o.runs,
        o.signed,
        o.stream,
        if o.full_lists {
            " (server ignores metadata-only lists)"
        } else {
            ""
        }
    );
    for &r in &o.replicas {
        scenario(&root, dir.path(), &data, backlog, r.max(1), &o);
    }
}
