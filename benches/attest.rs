//! `cargo bench --bench attest`: throughput and memory of `chains attest`.
//!
//! Generates a deterministic corpus of completed TaskRuns (about 18 KB of
//! YAML each: 5 steps with 20-40-line scripts, 8 params, 6 results including
//! IMAGE_URL/IMAGE_DIGEST and CHAINS-GIT_*, labels, annotations, refSource,
//! feature flags; unique uid, name, digests and times per run), then runs the
//! release binary on it and reports runs/s, CPU seconds and peak RSS, with
//! min/median/max over the repetitions.
//!
//! Options (after `--`): `--runs N` (default 10000), `--reps N` (default 3),
//! `--seed N`, `--big N` (runs for the large stream case, default 100000;
//! 0 skips it), `--only NAME` (a case name substring), `--out DIR` (where
//! `-o DIR` cases write, default `target/bench/out`; a tmpfs such as
//! `/dev/shm/chains-bench` takes the disk out of the figures).
//! It is a benchmark, not a test: nothing here asserts a time.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A small deterministic PRNG (SplitMix64): the corpus is a function of the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            write!(s, "{:016x}", self.next()).unwrap();
        }
        s.truncate(n);
        s
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

const WORDS: &[&str] = &[
    "build", "push", "image", "cache", "layer", "digest", "verify", "archive", "bundle", "deploy",
    "module", "target", "release", "config", "signal", "stream", "manifest", "registry",
    "artifact", "compile",
];

/// One completed TaskRun as `kubectl get taskrun -o yaml` prints it.
fn taskrun(rng: &mut Rng, i: usize) -> String {
    let uid = format!(
        "{}-{}-4{}-8{}-{}",
        rng.hex(8),
        rng.hex(4),
        rng.hex(3),
        rng.hex(3),
        rng.hex(12)
    );
    let name = format!("build-{i:06}-{}", rng.hex(5));
    let commit = rng.hex(40);
    let image_digest = rng.hex(64);
    let (h, m) = (rng.range(0, 23), rng.range(0, 59));
    let start = format!(
        "2026-11-{:02}T{h:02}:{m:02}:{:02}Z",
        rng.range(1, 28),
        rng.range(0, 59)
    );
    let done = format!(
        "2026-11-{:02}T{h:02}:{m:02}:{:02}Z",
        rng.range(1, 28),
        rng.range(0, 59)
    );
    let mut y = String::with_capacity(20_000);
    let _ = write!(
        y,
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  annotations:\n    pipeline.tekton.dev/release: v1.3.0\n    team.example.com/owner: platform-{}\n    team.example.com/ticket: OPS-{}\n  creationTimestamp: \"{start}\"\n  generation: 1\n  labels:\n    app.kubernetes.io/managed-by: tekton-pipelines\n    tekton.dev/task: build-and-push\n    team.example.com/service: svc-{}\n    team.example.com/env: prod\n  name: {name}\n  namespace: ci-{}\n  resourceVersion: \"{}\"\n  uid: {uid}\n",
        rng.range(1, 50),
        rng.range(1000, 9999),
        rng.range(1, 200),
        rng.range(1, 20),
        rng.range(100_000, 999_999)
    );
    y.push_str("spec:\n  params:\n");
    let params = [
        ("IMAGE", format!("registry.example.com/team/app-{}", i % 97)),
        (
            "CHAINS-GIT_URL",
            format!("https://git.example.com/org/repo-{}", i % 53),
        ),
        ("CHAINS-GIT_COMMIT", commit.clone()),
        ("DOCKERFILE", "./Dockerfile".to_string()),
        ("CONTEXT", format!("services/{}", WORDS[i % WORDS.len()])),
        ("BUILD_ARGS", format!("VERSION=1.{}.{}", i % 10, i % 7)),
        ("CACHE", "true".to_string()),
        ("PLATFORM", "linux/amd64".to_string()),
    ];
    for (k, v) in &params {
        let _ = writeln!(y, "  - name: {k}\n    value: {v}");
    }
    let _ = write!(
        y,
        "  serviceAccountName: builder\n  taskRef:\n    resolver: git\n    params:\n    - name: url\n      value: https://git.example.com/org/catalog\n    - name: revision\n      value: {}\n    - name: pathInRepo\n      value: task/build-and-push/build-and-push.yaml\n  timeout: 1h0m0s\n",
        rng.hex(40)
    );
    let _ = write!(
        y,
        "status:\n  completionTime: \"{done}\"\n  conditions:\n  - lastTransitionTime: \"{done}\"\n    message: All Steps have completed executing\n    reason: Succeeded\n    status: \"True\"\n    type: Succeeded\n  podName: {name}-pod\n  provenance:\n    featureFlags:\n      enableAPIFields: beta\n      resultExtractionMethod: termination-message\n      enableStepActions: true\n    refSource:\n      uri: git+https://git.example.com/org/catalog.git\n      digest:\n        sha1: {}\n      entryPoint: task/build-and-push/build-and-push.yaml\n  results:\n",
        rng.hex(40)
    );
    let results = [
        ("IMAGE_DIGEST", format!("sha256:{image_digest}")),
        (
            "IMAGE_URL",
            format!(
                "registry.example.com/team/app-{}:1.{}.{}",
                i % 97,
                i % 10,
                i % 7
            ),
        ),
        (
            "CHAINS-GIT_URL",
            format!("https://git.example.com/org/repo-{}", i % 53),
        ),
        ("CHAINS-GIT_COMMIT", commit),
        ("BUILD_ID", rng.hex(12)),
        (
            "TEST_SUMMARY",
            format!("{} passed, 0 failed", rng.range(100, 900)),
        ),
    ];
    for (k, v) in &results {
        // Quoted: a hex id such as 12345e678 is a float to a YAML 1.2 parser.
        let _ = writeln!(y, "  - name: {k}\n    type: string\n    value: \"{v}\"");
    }
    let _ = writeln!(y, "  startTime: \"{start}\"\n  steps:");
    let steps = ["prepare", "fetch-deps", "build", "test", "push"];
    for s in steps {
        let _ = write!(
            y,
            "  - container: step-{s}\n    imageID: registry.example.com/tools/{s}@sha256:{}\n    name: {s}\n    terminated:\n      containerID: containerd://{}\n      exitCode: 0\n      finishedAt: \"{done}\"\n      reason: Completed\n      startedAt: \"{start}\"\n",
            rng.hex(64),
            rng.hex(64)
        );
    }
    y.push_str("  taskSpec:\n    params:\n");
    for (k, _) in &params {
        let _ = writeln!(y, "    - name: {k}\n      type: string");
    }
    y.push_str("    results:\n");
    for (k, _) in &results {
        let _ = writeln!(y, "    - name: {k}\n      type: string");
    }
    y.push_str("    steps:\n");
    for s in steps {
        let _ = write!(
            y,
            "    - computeResources: {{}}\n      image: registry.example.com/tools/{s}:v2\n      name: {s}\n      script: |\n        #!/usr/bin/env bash\n        set -euo pipefail\n"
        );
        for line in 0..rng.range(20, 40) {
            let w1 = WORDS[(rng.next() % WORDS.len() as u64) as usize];
            let w2 = WORDS[(rng.next() % WORDS.len() as u64) as usize];
            let _ = writeln!(
                y,
                "        echo \"{s} {line}: {w1} the {w2} $(params.IMAGE)\" | tee -a log-{w1}"
            );
        }
    }
    y
}

struct Args {
    runs: usize,
    reps: usize,
    seed: u64,
    big: usize,
    only: Option<String>,
    out: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        runs: 10_000,
        reps: 3,
        seed: 42,
        big: 100_000,
        only: None,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let num = |it: &mut dyn Iterator<Item = String>| {
            it.next().and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        match arg.as_str() {
            "--runs" => a.runs = num(&mut it) as usize,
            "--reps" => a.reps = num(&mut it).max(1) as usize,
            "--seed" => a.seed = num(&mut it),
            "--big" => a.big = num(&mut it) as usize,
            "--only" => a.only = it.next(),
            "--out" => a.out = it.next().map(PathBuf::from),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

/// Wall seconds, CPU seconds (user+sys) and peak RSS (KiB) of one child.
struct Sample {
    wall: f64,
    user: f64,
    sys: f64,
    rss_kib: i64,
}

fn measure(cmd: &mut Command, stdin_file: Option<&Path>) -> Sample {
    if let Some(f) = stdin_file {
        cmd.stdin(std::fs::File::open(f).unwrap());
    } else {
        cmd.stdin(Stdio::null());
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    // Start from a clean page cache: the previous repetition's files are
    // written out first, so that their writeback is not charged to this one.
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    std::thread::sleep(std::time::Duration::from_millis(500));
    warm_inputs(cmd, stdin_file);
    let start = Instant::now();
    // Reaped below with wait4, which also gives this child's own rusage.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("run chains");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 writes it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "chains failed (status {status})"
    );
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Sample {
        wall,
        user: tv(usage.ru_utime),
        sys: tv(usage.ru_stime),
        rss_kib: usage.ru_maxrss,
    }
}

/// Read the command's input files (every path argument that exists, and
/// stdin's file) into the page cache. This VM gives unused page cache back
/// to its host, so without this a repetition would sometimes read its inputs
/// from disk and sometimes not; exported runs about to be attested are
/// usually just written, and so cached.
fn warm_inputs(cmd: &Command, stdin_file: Option<&Path>) {
    // Through a small buffer: a child's peak RSS (wait4's ru_maxrss) starts
    // from this process's own when it is spawned, so the bench must not
    // hold a 180 MB stream in memory.
    let read = |p: &Path| {
        if let Ok(mut f) = std::fs::File::open(p) {
            let _ = std::io::copy(&mut f, &mut std::io::sink());
        }
    };
    let args = cmd.get_args().map(Path::new);
    for path in args.chain(stdin_file) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                read(&entry.path());
            }
        } else if path.is_file() {
            read(path);
        }
    }
}

fn stats(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn report(name: &str, runs: usize, samples: &[Sample]) {
    let mut rate: Vec<f64> = samples.iter().map(|s| runs as f64 / s.wall).collect();
    let mut user: Vec<f64> = samples.iter().map(|s| s.user).collect();
    let mut sys: Vec<f64> = samples.iter().map(|s| s.sys).collect();
    let mut rss: Vec<f64> = samples.iter().map(|s| s.rss_kib as f64 / 1024.0).collect();
    let (r0, r1, r2) = stats(&mut rate);
    let (_, u, _) = stats(&mut user);
    let (_, k, _) = stats(&mut sys);
    let (m0, m1, m2) = stats(&mut rss);
    println!(
        "{name:<46} {runs:>6}  runs/s {r0:>6.0} {r1:>6.0} {r2:>6.0}  cpu s {u:>5.2} + {k:>5.2}  rss MiB {m0:>5.1} {m1:>5.1} {m2:>5.1}"
    );
}

fn main() {
    let args = parse_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // Cargo builds the binary with the bench (release profile).
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_chains"));
    let work = root.join("target/bench");
    // The generator's version is in the name: a changed generator makes a new corpus.
    let corpus = work.join(format!("corpus-v2-{}-{}", args.runs, args.seed));
    let key = root.join("testdata/keys/p256-sec1.pem");
    // Chains' test cosign key (scrypt-encrypted), from ../shared beside the repository.
    let cosign_key = root.join("../shared/conformance/keys/cosign.key");

    // Corpus: one YAML file per run, one JSON file per run, and one stream.
    let yaml_dir = corpus.join("yaml");
    let json_dir = corpus.join("json");
    let stream = corpus.join("stream.yaml");
    if !stream.exists() {
        eprintln!(
            "generating {} runs (seed {}) in {}",
            args.runs,
            args.seed,
            corpus.display()
        );
        std::fs::create_dir_all(&yaml_dir).unwrap();
        std::fs::create_dir_all(&json_dir).unwrap();
        let mut rng = Rng(args.seed);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&stream).unwrap());
        let mut bytes = 0usize;
        for i in 0..args.runs {
            let y = taskrun(&mut rng, i);
            bytes += y.len();
            std::fs::write(yaml_dir.join(format!("run-{i:06}.yaml")), &y).unwrap();
            let v: serde_json::Value = serde_saphyr::from_str(&y).unwrap();
            std::fs::write(
                json_dir.join(format!("run-{i:06}.json")),
                serde_json::to_vec(&v).unwrap(),
            )
            .unwrap();
            out.write_all(b"---\n").unwrap();
            out.write_all(y.as_bytes()).unwrap();
        }
        out.flush().unwrap();
        eprintln!("average run: {} bytes of YAML", bytes / args.runs.max(1));
    }
    let big_stream = work.join(format!("stream-v2-{}-{}.yaml", args.big, args.seed));
    if args.big > 0 && !big_stream.exists() {
        eprintln!("generating a stream of {} runs", args.big);
        let mut rng = Rng(args.seed ^ 0xB16);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&big_stream).unwrap());
        for i in 0..args.big {
            out.write_all(b"---\n").unwrap();
            out.write_all(taskrun(&mut rng, i).as_bytes()).unwrap();
        }
        out.flush().unwrap();
    }
    let one_run = yaml_dir.join("run-000000.yaml");
    // Every repetition writes into a new directory, and nothing is deleted
    // while measuring: on this machine's ext4, deleting 30,000 files keeps
    // the kernel busy for seconds and tripled the system time of the next
    // run. Old outputs are deleted once, before a pause.
    let outputs = args.out.clone().unwrap_or_else(|| work.join("out"));
    if outputs.exists() {
        let _ = std::fs::remove_dir_all(&outputs);
        // SAFETY: sync(2) takes no arguments and cannot fail.
        unsafe { libc::sync() };
        // ext4 without a journal (this machine's) avoids reusing an inode
        // freed in the last 60 seconds (5 minutes while its inode block is
        // dirty, hence the sync) and reads the inode tables to skip them:
        // right after this deletion, creating the files of 10,000 runs cost
        // up to 4 s of system time instead of 0.6.
        std::thread::sleep(std::time::Duration::from_secs(65));
    }
    let next_output = std::cell::Cell::new(0usize);
    let current_output = std::cell::RefCell::new(outputs.join("0"));

    println!(
        "{:<46} {:>6}  {:>20}  {:>20}  peak rss min/med/max",
        "case", "runs", "runs/s min/med/max", "cpu user + sys"
    );
    let selected = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
    let run_case = |name: &str, runs: usize, build: &dyn Fn() -> (Command, Option<PathBuf>)| {
        if !selected(name) {
            return;
        }
        let samples: Vec<Sample> = (0..args.reps)
            .map(|_| {
                next_output.set(next_output.get() + 1);
                *current_output.borrow_mut() = outputs.join(next_output.get().to_string());
                let (mut cmd, stdin) = build();
                measure(&mut cmd, stdin.as_deref())
            })
            .collect();
        report(name, runs, &samples);
    };
    let attest = |format: &str, key: &Path| {
        let mut c = Command::new(&bin);
        c.args(["attest", "-q", "--format", format, "--key"])
            .arg(key)
            .env("COSIGN_PASSWORD", "p");
        c
    };
    let o = || current_output.borrow().clone();
    // The "one file per run": Chains' artifacts.oci.storage "" turns
    // off image signing, which otherwise adds a .payload and a .signature
    // per image (three files per run with Chains' defaults).
    let no_images = corpus.join("no-image-signatures.yaml");
    std::fs::write(&no_images, "artifacts.oci.storage: \"\"\n").unwrap();
    for one_file in [false, true] {
        for (format, input, dir) in [
            ("slsa/v2alpha3", "YAML", &yaml_dir),
            ("slsa/v1", "YAML", &yaml_dir),
            ("slsa/v2alpha3", "JSON", &json_dir),
        ] {
            let files = if one_file {
                "1 file/run"
            } else {
                "3 files/run"
            };
            let name = format!("{format}, {input} files, -o DIR, {files}");
            run_case(&name, args.runs, &|| {
                let mut c = attest(format, &key);
                if one_file {
                    c.arg("--config").arg(&no_images);
                }
                c.arg(dir).arg("-o").arg(o());
                (c, None)
            });
        }
    }
    run_case(
        "slsa/v2alpha3, P-256, YAML stream on stdin",
        args.runs,
        &|| {
            let mut c = attest("slsa/v2alpha3", &key);
            c.arg("-");
            (c, Some(stream.clone()))
        },
    );
    if args.big > 0 {
        run_case(
            "slsa/v2alpha3, P-256, big YAML stream on stdin",
            args.big,
            &|| {
                let mut c = attest("slsa/v2alpha3", &key);
                c.arg("-");
                (c, Some(big_stream.clone()))
            },
        );
    }
    run_case("one run, one process, PEM key", 1, &|| {
        let mut c = attest("slsa/v2alpha3", &key);
        c.arg(&one_run);
        (c, None)
    });
    if cosign_key.exists() {
        run_case("one run, one process, cosign key (scrypt)", 1, &|| {
            let mut c = attest("slsa/v2alpha3", &cosign_key);
            c.arg(&one_run);
            (c, None)
        });
        run_case("slsa/v2alpha3, cosign key, YAML stream", args.runs, &|| {
            let mut c = attest("slsa/v2alpha3", &cosign_key);
            c.arg("-");
            (c, Some(stream.clone()))
        });
    } else {
        eprintln!(
            "cosign-key cases skipped: {} is absent",
            cosign_key.display()
        );
    }

    // verify: the envelopes of the whole corpus, as JSON Lines.
    let signed = corpus.join("envelopes.jsonl");
    if selected("verify") && !signed.exists() {
        let out = std::fs::File::create(&signed).unwrap();
        let status = attest("slsa/v2alpha3", &key)
            .arg("-")
            .stdin(std::fs::File::open(&stream).unwrap())
            .stdout(out)
            .status()
            .unwrap();
        assert!(status.success(), "attest for the verify corpus failed");
    }
    run_case("verify, P-256, envelopes as JSON Lines", args.runs, &|| {
        let mut c = Command::new(&bin);
        c.args(["verify", "-q", "--key"]).arg(&key).arg(&signed);
        (c, None)
    });
}
