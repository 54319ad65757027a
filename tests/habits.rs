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
