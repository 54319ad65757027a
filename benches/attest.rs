//! `cargo bench --bench attest`: throughput and memory of `chains attest`
//! on a realistic cluster export.
//!
//! Generates a deterministic export (export.rs: PipelineRuns with all their
//! child TaskRuns, standalone TaskRuns, failed and cancelled runs, about
//! 18 KB of YAML per TaskRun) printed as kubectl prints it (kubectl.rs:
//! `-o yaml` and `-o json` styles): one file per run in each style, one
//! multi-document YAML stream, and one `kind: List` document in each style
//! (all TaskRuns first, then all PipelineRuns, as kubectl orders them).
//! Then runs the release binary on each input shape and reports runs/s,
//! CPU seconds and peak RSS, with min/median/max over the repetitions.
//!
//! Options (after `--`): `--runs N` (runs, TaskRuns and PipelineRuns
//! together, default 10000), `--big N` (runs of the large stream and List
//! cases, default 100000; 0 skips them), `--reps N` (default 3), `--seed N`,
//! `--only TEXT` (cases whose name contains it), `--out DIR` (where `--output-dir DIR`
//! cases write, default `target/bench/out`; a tmpfs such as
//! `/dev/shm/chains-bench` takes the disk out of the figures), `--wait S`
//! (seconds to wait after deleting old outputs, default 65; 0 for smoke
//! runs). It is a benchmark, not a test: nothing here asserts a time.

// In a folder of their own: files directly in benches/ would be benchmarks.
#[path = "attest/export.rs"]
mod export;
#[path = "attest/kubectl.rs"]
mod kubectl;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Args {
    runs: usize,
    reps: usize,
    seed: u64,
    big: usize,
    only: Option<String>,
    out: Option<PathBuf>,
    wait: u64,
}

fn parse_args() -> Args {
    let mut a = Args {
        runs: 10_000,
        reps: 3,
        seed: 42,
        big: 100_000,
        only: None,
        out: None,
        wait: 65,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let num = |it: &mut dyn Iterator<Item = String>| {
            it.next().and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        match arg.as_str() {
            "--runs" => a.runs = num(&mut it).max(1) as usize,
            "--reps" => a.reps = num(&mut it).max(1) as usize,
            "--seed" => a.seed = num(&mut it),
            "--big" => a.big = num(&mut it) as usize,
            "--only" => a.only = it.next(),
            "--out" => a.out = it.next().map(PathBuf::from),
            "--wait" => a.wait = num(&mut it),
            _ => {} // cargo bench passes --bench
        }
    }
    a
}

/// Where one generated export lives.
struct Export {
    dir: PathBuf,
    yaml_dir: PathBuf,
    json_dir: PathBuf,
    stream: PathBuf,
    list_yaml: PathBuf,
    list_json: PathBuf,
}

impl Export {
    fn at(dir: PathBuf) -> Export {
        Export {
            yaml_dir: dir.join("yaml"),
            json_dir: dir.join("json"),
            stream: dir.join("stream.yaml"),
            list_yaml: dir.join("list.yaml"),
            list_json: dir.join("list.json"),
            dir,
        }
    }
}

/// Generate `runs` runs into `dir` (unless a complete export is there):
/// the stream and both Lists, and with `per_file` one YAML and one JSON
/// file per run. Written as generated, so that this process stays small
/// (a child's peak RSS starts from its parent's when it is spawned).
fn generate(dir: PathBuf, runs: usize, seed: u64, per_file: bool) -> Export {
    let export = Export::at(dir);
    let done = export.dir.join("complete");
    if done.exists() {
        return export;
    }
    eprintln!(
        "generating {runs} runs (seed {seed}) in {}",
        export.dir.display()
    );
    let _ = std::fs::remove_dir_all(&export.dir);
    std::fs::create_dir_all(&export.dir).unwrap();
    if per_file {
        std::fs::create_dir_all(&export.yaml_dir).unwrap();
        std::fs::create_dir_all(&export.json_dir).unwrap();
    }
    let create = |p: &Path| std::io::BufWriter::new(std::fs::File::create(p).unwrap());
    let mut stream = create(&export.stream);
    let mut list_yaml = create(&export.list_yaml);
    let mut list_json = create(&export.list_json);
    // kubectl lists TaskRuns before PipelineRuns: the PipelineRuns wait in
    // side files and are appended at the end.
    let side_yaml_path = export.dir.join("list-pipelineruns.yaml.part");
    let side_json_path = export.dir.join("list-pipelineruns.json.part");
    let mut side_yaml = create(&side_yaml_path);
    let mut side_json = create(&side_json_path);
    list_yaml.write_all(b"apiVersion: v1\nitems:\n").unwrap();
    list_json
        .write_all(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [")
        .unwrap();
    let (mut task_runs, mut pipeline_runs, mut bytes) = (0usize, 0usize, 0usize);
    for group in export::groups(seed, runs) {
        // The stream in creation order: a PipelineRun, then its TaskRuns.
        for object in group.pipeline_run.iter().chain(&group.task_runs) {
            let yaml = kubectl::yaml(object);
            let is_pipeline_run = object["kind"] == "PipelineRun";
            if !is_pipeline_run {
                bytes += yaml.len();
            }
            stream.write_all(b"---\n").unwrap();
            stream.write_all(yaml.as_bytes()).unwrap();
            if per_file {
                let name = format!(
                    "{}-{}",
                    if is_pipeline_run { "pr" } else { "tr" },
                    object["metadata"]["name"].as_str().unwrap()
                );
                std::fs::write(export.yaml_dir.join(format!("{name}.yaml")), &yaml).unwrap();
                std::fs::write(
                    export.json_dir.join(format!("{name}.json")),
                    kubectl::json(object),
                )
                .unwrap();
            }
            let (out_yaml, out_json, count) = if is_pipeline_run {
                (&mut side_yaml, &mut side_json, &mut pipeline_runs)
            } else {
                (&mut list_yaml, &mut list_json, &mut task_runs)
            };
            out_yaml
                .write_all(kubectl::yaml_list_item(object).as_bytes())
                .unwrap();
            let first_item = *count == 0;
            let separator: &[u8] = if first_item { b"\n" } else { b",\n" };
            out_json.write_all(separator).unwrap();
            out_json
                .write_all(kubectl::json_list_item(object).as_bytes())
                .unwrap();
            *count += 1;
        }
    }
    for mut side in [side_yaml, side_json] {
        side.flush().unwrap();
    }
    let append = |to: &mut std::io::BufWriter<std::fs::File>, from: &Path, comma: bool| {
        let mut f = std::fs::File::open(from).unwrap();
        if comma {
            // The side file's first item has no comma before it.
            to.write_all(b",").unwrap();
        }
        std::io::copy(&mut f, to).unwrap();
        std::fs::remove_file(from).unwrap();
    };
    append(&mut list_yaml, &side_yaml_path, false);
    append(
        &mut list_json,
        &side_json_path,
        task_runs > 0 && pipeline_runs > 0,
    );
    list_yaml
        .write_all(b"kind: List\nmetadata:\n  resourceVersion: \"\"\n")
        .unwrap();
    list_json
        .write_all(b"\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")
        .unwrap();
    for mut f in [stream, list_yaml, list_json] {
        f.flush().unwrap();
    }
    eprintln!(
        "{task_runs} TaskRuns ({} bytes of YAML each on average), {pipeline_runs} PipelineRuns",
        bytes / task_runs.max(1)
    );
    std::fs::write(&done, b"").unwrap();
    export
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
        "{name:<50} {runs:>6}  runs/s {r0:>6.0} {r1:>6.0} {r2:>6.0}  cpu s {u:>5.2} + {k:>5.2}  rss MiB {m0:>5.1} {m1:>5.1} {m2:>5.1}"
    );
}

fn main() {
    let args = parse_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // Cargo builds the binary with the bench (release profile).
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_chains"));
    let work = root.join("target/bench");
    // The generator's version is in the name: a changed generator makes a new export.
    let small = generate(
        work.join(format!("export-v3-{}-{}", args.runs, args.seed)),
        args.runs,
        args.seed,
        true,
    );
    let big = (args.big > 0).then(|| {
        generate(
            work.join(format!("export-v3-big-{}-{}", args.big, args.seed)),
            args.big,
            args.seed ^ 0xB16,
            false,
        )
    });
    let key = root.join("testdata/keys/p256-sec1.pem");
    // Chains' test cosign key (scrypt-encrypted), from ../shared beside the repository.
    let cosign_key = root.join("../shared/conformance/keys/cosign.key");
    let one_run = std::fs::read_dir(&small.yaml_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("tr-"))
        })
        .expect("a TaskRun in the export");
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
        // up to 4 s of system time instead of 0.6. `--wait 0` skips the
        // pause for smoke runs.
        std::thread::sleep(std::time::Duration::from_secs(args.wait));
    }
    let next_output = std::cell::Cell::new(0usize);
    let current_output = std::cell::RefCell::new(outputs.join("0"));

    println!(
        "{:<50} {:>6}  {:>20}  {:>20}  peak rss min/med/max",
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
    let no_images = small.dir.join("no-image-signatures.yaml");
    std::fs::write(&no_images, "artifacts.oci.storage: \"\"\n").unwrap();
    for format in ["slsa/v1", "slsa/v2alpha3"] {
        for (input, dir) in [("YAML", &small.yaml_dir), ("JSON", &small.json_dir)] {
            let name = format!("{format}, kubectl {input} files, -o DIR");
            run_case(&name, args.runs, &|| {
                let mut c = attest(format, &key);
                c.arg("--config").arg(&no_images);
                c.arg(dir).arg("--output-dir").arg(o());
                (c, None)
            });
        }
    }
    let mut shapes = vec![(args.runs, &small)];
    if let Some(big) = &big {
        shapes.push((args.big, big));
    }
    for (runs, export) in shapes {
        run_case("slsa/v2alpha3, YAML stream on stdin", runs, &|| {
            let mut c = attest("slsa/v2alpha3", &key);
            c.arg("-");
            (c, Some(export.stream.clone()))
        });
        for (input, list) in [("YAML", &export.list_yaml), ("JSON", &export.list_json)] {
            run_case(&format!("slsa/v2alpha3, one {input} List"), runs, &|| {
                let mut c = attest("slsa/v2alpha3", &key);
                c.arg(list);
                (c, None)
            });
        }
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
            (c, Some(small.stream.clone()))
        });
    } else {
        eprintln!(
            "cosign-key cases skipped: {} is absent",
            cosign_key.display()
        );
    }

    // verify: the envelopes of the whole export, as JSON Lines.
    let signed = small.dir.join("envelopes.jsonl");
    if selected("verify") && !signed.exists() {
        let out = std::fs::File::create(&signed).unwrap();
        let status = attest("slsa/v2alpha3", &key)
            .arg("-")
            .stdin(std::fs::File::open(&small.stream).unwrap())
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
    // Last: it runs in this process, whose memory would count in the
    // children's peak RSS.
    if selected("yaml parser") {
        parsers(&small.yaml_dir, args.reps);
        // The shared corpus of runs as kubectl printed them, where present.
        let shared = root.join("../shared/corpus/kubectl-yaml");
        if shared.is_dir() {
            parsers(&shared, args.reps);
        }
    }
}

/// The YAML parsers alone, in this process, on a folder of kubectl YAML: the
/// fast path (chains::run::yaml::parse) against the full parser, in MB/s,
/// and how many files the fast path took.
fn parsers(dir: &Path, reps: usize) {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        if chains::run::yaml::parse(&text).is_some() {
            files.push(text);
        } else {
            eprintln!("the fast path declined {}", path.display());
        }
    }
    let taken = files.len();
    let bytes: usize = files.iter().map(String::len).sum();
    let time = |parse: &dyn Fn(&str) -> bool| {
        let mut rates: Vec<f64> = (0..reps)
            .map(|_| {
                let start = Instant::now();
                for text in &files {
                    assert!(parse(text));
                }
                bytes as f64 / 1e6 / start.elapsed().as_secs_f64()
            })
            .collect();
        stats(&mut rates)
    };
    let (f0, f1, f2) = time(&|t| chains::run::yaml::parse(t).is_some());
    let (s0, s1, s2) = time(&|t| chains::run::yaml::full(t).is_ok());
    println!(
        "yaml parser, {}: {taken} files taken by the fast path ({:.1} MB), MB/s min/med/max: fast path {f0:.0} {f1:.0} {f2:.0}, full parser {s0:.0} {s1:.0} {s2:.0}",
        dir.display(),
        bytes as f64 / 1e6
    );
}
