//! The habits of cosign, slsa-verifier, kubectl and tkn users: `-o` as the
//! output format, `--output-dir`, `--output-file`, and each alias named in
//! the README's table, called once.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::common::{self, stderr, stdout, testdata};

const KEY: &str = "keys/p256-sec1.pem";
const RUN: &str = "runs/taskrun-build.yaml";

fn chains(args: &[&str]) -> Output {
    common::chains()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A signed envelope of the test run in DIR/run.intoto.jsonl.
fn signed_envelope(dir: &Path) -> std::path::PathBuf {
    let out = chains(&[
        "attest",
        "--key",
        path(&testdata(KEY)),
        path(&testdata(RUN)),
        "--output-file",
        path(&dir.join("run.intoto.jsonl")),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "--output-file takes the stream");
    dir.join("run.intoto.jsonl")
}

fn verify_cmd(args: &[&str]) -> Command {
    let mut c = common::chains();
    c.arg("verify").args(args).stdin(Stdio::null());
    c
}

#[test]
fn attest_dash_o_is_the_format_and_output_dir_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let run = testdata(RUN);
    let json = chains(&["attest", "--unsigned", "-o", "json", path(&run)]);
    assert!(json.status.success(), "{}", stderr(&json));
    let statement: Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    let yaml = chains(&["attest", "--unsigned", "-o", "yaml", path(&run)]);
    assert!(yaml.status.success(), "{}", stderr(&yaml));
    assert!(stdout(&yaml).starts_with("---\n"));
    let from_yaml: Value = serde_saphyr::from_str(&stdout(&yaml)).unwrap();
    assert_eq!(from_yaml, statement, "-o yaml is the same document");

    let dir = tmp.path().join("new");
    let out = chains(&[
        "attest",
        "--unsigned",
        path(&run),
        "--output-dir",
        path(&dir),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("deprecated"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    let text = chains(&["attest", "--unsigned", "-o", "text", path(&run)]);
    assert_eq!(text.status.code(), Some(2));
    assert!(stderr(&text).contains("json"), "{}", stderr(&text));
}

#[test]
fn attest_dash_o_dir_still_writes_files_with_a_deprecation_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let run = testdata(RUN);
    // A path that does not exist yet, and an existing directory.
    for dir in [tmp.path().join("out/prov"), tmp.path().to_path_buf()] {
        let out = chains(&["attest", "--unsigned", path(&run), "-o", path(&dir)]);
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("deprecated") && err.contains(&format!("--output-dir {}", path(&dir))),
            "{err}"
        );
        assert!(stdout(&out).is_empty());
        let written = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".statement.json"));
        assert!(written, "files under {}", dir.display());
    }
    // Both spellings of the directory at once is a usage error.
    let both = chains(&[
        "attest",
        "--unsigned",
        path(&run),
        "-o",
        path(tmp.path()),
        "--output-dir",
        path(tmp.path()),
    ]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
}

#[test]
fn verify_output_formats_and_output_file() {
    let tmp = tempfile::tempdir().unwrap();
    let envelope = signed_envelope(tmp.path());
    let key = testdata(KEY);
    let base = ["--key", path(&key), path(&envelope)];
    let json = verify_cmd(&base).args(["-o", "json"]).output().unwrap();
    assert!(json.status.success(), "{}", stderr(&json));
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["verified"], true);
    let yaml = verify_cmd(&base)
        .args(["--output", "yaml"])
        .output()
        .unwrap();
    let from_yaml: Value = serde_saphyr::from_str(&stdout(&yaml)).unwrap();
    assert_eq!(from_yaml, report);
    let text = verify_cmd(&base).args(["-o", "text"]).output().unwrap();
    assert!(stdout(&text).starts_with("verified  "), "{}", stdout(&text));
    // The old name of the text format still works.
    let human = verify_cmd(&base)
        .args(["--output", "human"])
        .output()
        .unwrap();
    assert_eq!(stdout(&human), stdout(&text));

    let file = tmp.path().join("report.json");
    let out = verify_cmd(&base)
        .args(["-o", "json", "--output-file", path(&file)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["verified"], true);
}

#[test]
fn verify_report_puts_the_summary_last_and_colours_rejected_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let envelope = signed_envelope(tmp.path());
    // A second, tampered envelope: its signature no longer matches.
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&envelope).unwrap()).unwrap();
    doc["payload"] = Value::String("e30=".into());
    let bad = tmp.path().join("bad.intoto.jsonl");
    std::fs::write(&bad, doc.to_string()).unwrap();
    let key = testdata(KEY);
    let args = ["--key", path(&key), path(&envelope), path(&bad)];
    let out = verify_cmd(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 3, "{report}");
    assert!(lines[1].starts_with("REJECTED  "), "{report}");
    assert_eq!(lines[2], "1 verified, 1 rejected", "{report}");
    assert!(!report.contains('\x1b'), "no colour in a pipe: {report}");

    let forced = verify_cmd(&args)
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(
        stdout(&forced).contains("\x1b[1m\x1b[31mREJECTED\x1b[0m")
            || stdout(&forced).contains("\x1b[1;31mREJECTED\x1b[0m"),
        "{:?}",
        stdout(&forced)
    );
    let no_colour = verify_cmd(&args)
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&no_colour).contains('\x1b'));
}

#[test]
fn verify_image_on_an_unreachable_registry_reports_the_error_alone() {
    let port = common::free_port();
    let image = format!("127.0.0.1:{port}/app@sha256:{}", "a".repeat(64));
    let out = verify_cmd(&[
        "--key",
        path(&testdata(KEY)),
        "--allow-insecure-registry",
        "--timeout",
        "20s",
        "--image",
        &image,
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("error"), "{all}");
    assert!(!all.contains("0 verified, 0 rejected"), "{all}");
}

/// The build TaskRun, rewritten to have built `image`, in DIR/taskrun.yaml.
fn run_for(dir: &Path, image: &chains::run::reference::ImageDigest) -> std::path::PathBuf {
    let run = std::fs::read_to_string(testdata(RUN))
        .unwrap()
        .replace("registry.example.com/team/app", &image.repository_name())
        .replace(
            "sha256:3b1f6a0e2c9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a",
            image.digest(),
        );
    let file = dir.join("taskrun.yaml");
    std::fs::write(&file, run).unwrap();
    file
}

#[test]
fn registry_credentials_from_flags_environment_and_the_kubernetes_keychain() {
    use common::registry::Registry;
    let reg = Registry::with_auth("ci", "s3cret-pw");
    let image = reg.push_image("team/app", "1.0", "creds");
    let tmp = tempfile::tempdir().unwrap();
    // No docker config: credentials come only from chains' own sources.
    let empty_docker = tmp.path().join("docker");
    std::fs::create_dir_all(&empty_docker).unwrap();
    let run = run_for(tmp.path(), &image);
    let key = testdata(KEY);
    let with = |cmd: &mut Command| {
        cmd.env("DOCKER_CONFIG", &empty_docker)
            .env_remove("CHAINS_REGISTRY_USERNAME")
            .env_remove("CHAINS_REGISTRY_PASSWORD")
            .env_remove("CHAINS_REGISTRY_TOKEN")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
    };
    // attest --storage oci, logged in from the environment (never argv).
    let mut attest = common::chains();
    attest
        .args([
            "attest",
            "--key",
            path(&key),
            "--storage",
            "oci",
            path(&run),
        ])
        .args(["--verbose"]);
    with(&mut attest);
    let out = attest
        .env("CHAINS_REGISTRY_USERNAME", "ci")
        .env("CHAINS_REGISTRY_PASSWORD", "s3cret-pw")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("s3cret-pw"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("debug: "),
        "--verbose notes: {}",
        stderr(&out)
    );

    let verify = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = verify_cmd(&["--key", path(&key), "--image", &image.name()]);
        with(&mut cmd);
        cmd.args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let anonymous = verify(&[], &[]);
    assert_eq!(anonymous.status.code(), Some(2), "{}", stderr(&anonymous));
    assert!(stderr(&anonymous).contains("401"), "{}", stderr(&anonymous));
    let flags = verify(
        &[
            "--registry-username",
            "ci",
            "--registry-password",
            "s3cret-pw",
        ],
        &[],
    );
    assert!(flags.status.success(), "{}", stderr(&flags));
    let wrong = verify(
        &[],
        &[
            ("CHAINS_REGISTRY_USERNAME", "ci"),
            ("CHAINS_REGISTRY_PASSWORD", "no"),
        ],
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(!stderr(&wrong).contains("s3cret"), "{}", stderr(&wrong));
    // A bearer token the registry does not take (it wants basic auth): refused, and said so.
    let token = verify(&[], &[("CHAINS_REGISTRY_TOKEN", "tok-123")]);
    assert_eq!(token.status.code(), Some(2), "{}", stderr(&token));
    assert!(!stderr(&token).contains("tok-123"));

    // The Kubernetes keychain: the default service account's imagePullSecret.
    let kube = common::kube::emulator();
    let kubeconfig = common::kube::kubeconfig(tmp.path(), kube.port, "ci");
    let api = |path: &str, body: serde_json::Value| {
        let resp = reqwest::blocking::Client::new()
            .post(format!("http://127.0.0.1:{}{path}", kube.port))
            .json(&body)
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "POST {path}: {}", resp.status());
    };
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let dockerconfig =
        serde_json::json!({"auths": {reg.host.clone(): {"auth": b64("ci:s3cret-pw")}}});
    api(
        "/api/v1/namespaces/ci/secrets",
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "pull", "namespace": "ci"},
            "data": {".dockerconfigjson": b64(&dockerconfig.to_string())}}),
    );
    api(
        "/api/v1/namespaces/ci/serviceaccounts",
        serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "builder", "namespace": "ci"},
            "imagePullSecrets": [{"name": "missing"}, {"name": "pull"}]}),
    );
    let kc = kubeconfig.to_str().unwrap();
    let keychain = verify(
        &["--k8s-keychain", "--k8s-service-account", "ci/builder"],
        &[("KUBECONFIG", kc)],
    );
    assert!(keychain.status.success(), "{}", stderr(&keychain));
    let no_account = verify(
        &["--k8s-keychain", "--k8s-service-account", "nobody"],
        &[("KUBECONFIG", kc)],
    );
    assert_eq!(no_account.status.code(), Some(2));
    assert!(
        stderr(&no_account).contains("Kubernetes keychain"),
        "{}",
        stderr(&no_account)
    );
}

/// slsa-verifier's and cosign's names on verify, each called once on a real
/// envelope: --type, --print-provenance, --source-branch, --source-tag,
/// --source-versioned-tag, -t, -d.
#[test]
fn verify_takes_slsa_verifier_and_cosign_names() {
    let tmp = tempfile::tempdir().unwrap();
    // The test run with a revision parameter, as git-clone pipelines pass it.
    let run = std::fs::read_to_string(testdata(RUN)).unwrap().replacen(
        "  params:\n",
        "  params:\n  - name: revision\n    value: refs/tags/v1.4.2\n",
        1,
    );
    let run_file = tmp.path().join("run.yaml");
    std::fs::write(&run_file, run).unwrap();
    let envelope = tmp.path().join("run.intoto.jsonl");
    let key = testdata(KEY);
    let out = chains(&[
        "attest",
        "--key",
        path(&key),
        path(&run_file),
        "--output-file",
        path(&envelope),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let verify = |extra: &[&str]| {
        verify_cmd(&["--key", path(&key), path(&envelope)])
            .args(extra)
            .output()
            .unwrap()
    };
    let code = |extra: &[&str]| verify(extra).status.code();
    assert_eq!(code(&["--type", "slsaprovenance02"]), Some(0));
    assert_eq!(code(&["--type", "slsaprovenance1"]), Some(1));
    assert_eq!(code(&["--source-tag", "v1.4.2"]), Some(0));
    assert_eq!(code(&["--source-branch", "v1.4.2"]), Some(1));
    assert_eq!(code(&["--source-versioned-tag", "v1.4"]), Some(0));
    assert_eq!(code(&["--source-versioned-tag", "v1.5"]), Some(1));
    assert_eq!(code(&["--source-versioned-tag", "one"]), Some(2));
    let rejected = verify(&["--source-branch", "main"]);
    assert!(
        stdout(&rejected).contains("source-ref"),
        "{}",
        stdout(&rejected)
    );
    assert!(
        stdout(&rejected).contains("tag v1.4.2"),
        "{}",
        stdout(&rejected)
    );
    assert_eq!(code(&["-t", "30s", "-d"]), Some(0));

    let printed = verify(&["--print-provenance"]);
    assert!(printed.status.success(), "{}", stderr(&printed));
    let statement: Value = serde_json::from_str(stdout(&printed).trim()).unwrap();
    assert_eq!(
        statement["predicateType"],
        "https://slsa.dev/provenance/v0.2"
    );
    assert!(stderr(&printed).contains("1 verified, 0 rejected"));
}

/// cosign's `--identity-token TOKEN`, SIGSTORE_ID_TOKEN, and
/// `--identity-token-file`; a path given to `--identity-token` (its old
/// meaning) still works, with a warning. The token is never printed.
#[test]
fn identity_token_itself_from_the_flag_the_environment_or_a_file() {
    let fulcio = common::sigstore_mock::start();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = common::sigstore_mock::unsigned_jwt(serde_json::json!({
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": "system:serviceaccount:ci:builder",
        "aud": ["sigstore"], "iat": now, "nbf": now, "exp": now + 600,
    }));
    let tmp = tempfile::tempdir().unwrap();
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let url = common::sigstore_mock::url(&fulcio);
    let sign = |extra: &[&str], env: Option<&str>| {
        let mut cmd = common::chains();
        cmd.args(["attest", "--fulcio-url", &url, path(&testdata(RUN))])
            .args(extra)
            .env_remove("SIGSTORE_ID_TOKEN")
            .stdin(Stdio::null());
        if let Some(t) = env {
            cmd.env("SIGSTORE_ID_TOKEN", t);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{extra:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains(&token), "the token leaked");
        let envelope: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert!(envelope["signatures"][0]["sig"].is_string());
        stderr(&out)
    };
    let from_flag = sign(&["--identity-token", &token], None);
    assert!(!from_flag.contains("--identity-token"), "{from_flag}");
    let from_env = sign(&[], Some(&token));
    assert!(!from_env.contains("--identity-token"), "{from_env}");
    sign(&["--identity-token-file", path(&token_file)], None);
    let deprecated = sign(&["--identity-token", path(&token_file)], None);
    assert!(
        deprecated.contains(&format!("--identity-token-file {}", path(&token_file))),
        "{deprecated}"
    );
}

/// `chains payload` and `chains signature` (tkn chain's): from an annotated
/// run in a file, on standard input, and from the cluster by name.
#[test]
fn payload_and_signature_of_a_run_from_a_file_stdin_and_the_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let key = testdata(KEY);
    let out_dir = tmp.path().join("out");
    let out = chains(&[
        "attest",
        "--key",
        path(&key),
        "--storage",
        "tekton",
        path(&testdata(RUN)),
        "--output-dir",
        path(&out_dir),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let annotated = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "yaml"))
        .expect("the annotated run");
    let envelope: Value = serde_json::from_slice(
        &std::fs::read(
            std::fs::read_dir(&out_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().ends_with(".intoto.jsonl"))
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    use base64::Engine;
    let statement: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();

    let payload = chains(&["payload", path(&annotated)]);
    assert!(payload.status.success(), "{}", stderr(&payload));
    let printed: Value = serde_json::from_slice(&payload.stdout).unwrap();
    assert_eq!(printed, statement);
    let signature = chains(&["signature", path(&annotated)]);
    assert!(signature.status.success(), "{}", stderr(&signature));
    let printed: Value = serde_json::from_slice(&signature.stdout).unwrap();
    assert_eq!(printed["signatures"], envelope["signatures"]);
    // The image's simple-signing signature stays base64, as cosign's .sig.
    let image_key = annotated_keys(&annotated)
        .into_iter()
        .find(|k| !k.starts_with("taskrun-"))
        .expect("an image key");
    let raw = chains(&["signature", path(&annotated), "--artifact-key", &image_key]);
    assert!(raw.status.success(), "{}", stderr(&raw));
    assert!(
        base64::engine::general_purpose::STANDARD
            .decode(stdout(&raw).trim())
            .is_ok()
    );

    let mut cmd = common::chains();
    cmd.args(["payload", "-"]);
    let stdin = common::output_with_stdin(cmd, &std::fs::read(&annotated).unwrap());
    assert!(stdin.status.success(), "{}", stderr(&stdin));
    assert_eq!(
        serde_json::from_slice::<Value>(&stdin.stdout).unwrap(),
        statement
    );

    // Not annotated: the error says what is missing, exit 2.
    let bare = chains(&["payload", path(&testdata(RUN))]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(
        stderr(&bare).contains("chains.tekton.dev/payload-taskrun-"),
        "{}",
        stderr(&bare)
    );

    // A live cluster: the annotated run, read by name.
    let kube = common::kube::emulator();
    let kubeconfig = common::kube::kubeconfig(tmp.path(), kube.port, "other");
    let run: Value = serde_saphyr::from_str(&std::fs::read_to_string(&annotated).unwrap()).unwrap();
    let ns = run["metadata"]["namespace"].as_str().unwrap().to_string();
    let name = run["metadata"]["name"].as_str().unwrap().to_string();
    let resp = reqwest::blocking::Client::new()
        .post(format!(
            "http://127.0.0.1:{}/apis/tekton.dev/v1/namespaces/{ns}/taskruns",
            kube.port
        ))
        .json(&run)
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let kc = path(&kubeconfig);
    let live = chains(&["payload", &name, "-n", &ns, "--kubeconfig", kc]);
    assert!(live.status.success(), "{}", stderr(&live));
    assert_eq!(
        serde_json::from_slice::<Value>(&live.stdout).unwrap(),
        statement
    );
    let live_sig = chains(&["signature", &name, "-n", &ns, "--kubeconfig", kc]);
    assert!(live_sig.status.success(), "{}", stderr(&live_sig));
    let missing = chains(&["payload", "nope", "-n", &ns, "--kubeconfig", kc]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("404") || stderr(&missing).contains("not found"),
        "{}",
        stderr(&missing)
    );
}

/// The artifact keys of a run's chains.tekton.dev/signature-KEY annotations.
fn annotated_keys(file: &Path) -> Vec<String> {
    let run: Value = serde_saphyr::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    run["metadata"]["annotations"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|k| k.strip_prefix("chains.tekton.dev/signature-"))
        .map(str::to_string)
        .collect()
}

/// bash completes option values that contain `:` although it splits words
/// there: `--build-type https://tekton.dev/chains/v2/slsa-t<TAB>`.
#[test]
fn bash_completes_values_with_colons() {
    let script = chains::cli::completion(chains::cli::Shell::Bash);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("chains.bash");
    std::fs::write(&file, script).unwrap();
    // What bash hands the function for the line, split at ':' as bash does.
    let complete = |words: &[&str]| {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let n = words.len() - 1;
        let program = format!(
            "source '{}'\nCOMP_WORDBREAKS=$' \\t\\n\"'\"'\"'><=;|&(:'\nCOMP_WORDS=({})\nCOMP_CWORD={n}\n_chains chains '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            file.display(),
            quoted.join(" "),
            words[n],
            words[n - 1],
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&program)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let after_colon = complete(&[
        "chains",
        "attest",
        "--build-type",
        "https",
        ":",
        "//tekton.dev/chains/v2/slsa-t",
    ]);
    assert_eq!(after_colon.trim(), "//tekton.dev/chains/v2/slsa-tekton");
    let at_colon = complete(&["chains", "attest", "--build-type", "https", ":"]);
    let mut got: Vec<&str> = at_colon.lines().collect();
    got.sort();
    assert_eq!(
        got,
        [
            "//tekton.dev/chains/v2/slsa",
            "//tekton.dev/chains/v2/slsa-tekton"
        ]
    );
    // Without ':' nothing changes.
    let plain = complete(&["chains", "attest", "--format", "slsa/v2alpha"]);
    let mut got: Vec<&str> = plain.lines().collect();
    got.sort();
    assert_eq!(got, ["slsa/v2alpha3", "slsa/v2alpha4"]);
}

/// The man pages answer: EXIT STATUS everywhere, EXAMPLES and ENVIRONMENT
/// where there are any, no page named that does not exist.
#[test]
fn man_pages_have_exit_status_examples_and_environment() {
    let pages = chains::cli::man_pages();
    let names: Vec<String> = pages.iter().map(|(n, _)| n.clone()).collect();
    for (name, roff) in &pages {
        let text = String::from_utf8_lossy(roff);
        assert!(text.contains(".SH \"EXIT STATUS\""), "{name}");
        assert!(
            !text.contains("EXTRA"),
            "{name}: examples belong under EXAMPLES"
        );
        // Every chains-*(1) reference is a page we ship.
        for (i, _) in text.match_indices("chains\\-") {
            let rest = &text[i + "chains\\-".len()..];
            let Some(end) = rest.find("(1)") else {
                continue;
            };
            let page = format!("chains-{}.1", rest[..end].replace("\\-", "-"));
            if !page.contains(char::is_whitespace) {
                assert!(
                    names.contains(&page),
                    "{name} names {page}, which does not exist"
                );
            }
        }
    }
    let page = |n: &str| {
        let (_, roff) = pages.iter().find(|(p, _)| p == n).unwrap();
        String::from_utf8_lossy(roff).to_string()
    };
    for n in [
        "chains-attest.1",
        "chains-verify.1",
        "chains-watch.1",
        "chains-payload.1",
    ] {
        let text = page(n);
        assert!(
            text.contains(".SH EXAMPLES") && text.contains(".SH ENVIRONMENT"),
            "{n}"
        );
    }
    assert!(page("chains-attest.1").contains("SIGSTORE_ID_TOKEN"));
    assert!(!page("chains.1").contains("chains\\-help"));
}

/// A wrong `--format` is answered with what each of Chains' names means,
/// not with the nearest name (`slsa/v1` for `slsa/v2`, which is SLSA v0.2).
#[test]
fn a_wrong_format_name_is_answered_with_the_meaning_of_each() {
    let out = chains(&[
        "attest",
        "--unsigned",
        "--format",
        "slsa/v2",
        path(&testdata(RUN)),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("slsa/v1        SLSA v0.2"), "{err}");
    assert!(err.contains("slsa/v2alpha4  SLSA v1.0"), "{err}");
    assert!(err.contains("For SLSA v1.0 use slsa/v2alpha4"), "{err}");
    assert!(!err.contains("a similar value exists"), "{err}");
}
