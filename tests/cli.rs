//! `chains attest` end to end: inputs, outputs, diagnostics and exit codes.

use crate::common::{self, stderr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    common::chains()
}

fn runs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/runs")
        .join(name)
}

fn attest(args: &[&str]) -> Output {
    bin().arg("attest").args(args).output().unwrap()
}

fn attest_stdin(args: &[&str], input: &str) -> Output {
    let mut cmd = bin();
    cmd.arg("attest").args(args);
    common::output_with_stdin(cmd, input.as_bytes())
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each stdout line is a JSON statement"))
        .collect()
}

const TASKRUN: &str = "apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: t1, namespace: ns, uid: u1}
status:
  conditions:
  - {type: Succeeded, status: 'True'}
  results:
  - {name: IMAGE_URL, value: gcr.io/a/b}
  - {name: IMAGE_DIGEST, value: 'sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5'}
  steps:
  - {name: s, imageID: 'gcr.io/x@sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5'}
";

#[test]
fn attests_a_file_as_slsa_v02_by_default() {
    let out = attest(&["--unsigned", runs("taskrun-build.yaml").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = lines(&out);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["_type"], "https://in-toto.io/Statement/v0.1");
    assert_eq!(s[0]["predicateType"], "https://slsa.dev/provenance/v0.2");
    assert_eq!(
        s[0]["predicate"]["builder"]["id"],
        "https://tekton.dev/chains/v2"
    );
    assert_eq!(s[0]["subject"][0]["name"], "registry.example.com/team/app");
    let mats = s[0]["predicate"]["materials"].as_array().unwrap();
    assert!(
        mats.iter()
            .any(|m| m["uri"] == "git+https://github.com/example/app.git")
    );
}

#[test]
fn reads_stdin_streams_and_keeps_input_order() {
    let stream = format!(
        "{TASKRUN}---\n{}",
        TASKRUN.replace("t1", "t2").replace("u1", "u2")
    );
    let out = attest_stdin(&["--unsigned", "--format", "slsa/v2alpha3", "-"], &stream);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = lines(&out);
    assert_eq!(s.len(), 2);
    assert_eq!(
        s[0]["predicate"]["runDetails"]["metadata"]["invocationId"],
        "u1"
    );
    assert_eq!(
        s[1]["predicate"]["runDetails"]["metadata"]["invocationId"],
        "u2"
    );
}

#[test]
fn reads_lists_and_json() {
    let tr: Value = serde_saphyr::from_str(TASKRUN).unwrap();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [tr.clone(), tr]});
    let out = attest_stdin(&["--unsigned", "-"], &list.to_string());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines(&out).len(), 2);
}

#[test]
fn attaches_children_and_attests_them_too() {
    let out = attest(&[
        "--unsigned",
        "--deep-inspection",
        runs("pipelinerun-with-children.yaml").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = lines(&out);
    assert_eq!(s.len(), 3, "the PipelineRun and both TaskRuns");
    let pr = &s[0];
    assert_eq!(pr["predicate"]["buildType"], "tekton.dev/v1/PipelineRun");
    let tasks = pr["predicate"]["buildConfig"]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        tasks[1]["after"],
        serde_json::json!(["fetch"]),
        "result reference orders build after fetch"
    );
    // Deep inspection picks up the child's git hint.
    let mats = pr["predicate"]["materials"].as_array().unwrap();
    assert!(
        mats.iter()
            .any(|m| m["uri"] == "git+https://github.com/example/app.git")
    );
}

#[test]
fn taskruns_flag_gives_context_only() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(runs("pipelinerun-with-children.yaml")).unwrap();
    let mut docs = text.split("\n---\n");
    let pr = dir.path().join("pr.yaml");
    std::fs::write(&pr, docs.next().unwrap()).unwrap();
    let kids = dir.path().join("kids");
    std::fs::create_dir(&kids).unwrap();
    for (i, d) in docs.enumerate() {
        std::fs::write(kids.join(format!("{i}.yaml")), d).unwrap();
    }
    let out = attest(&[
        "--unsigned",
        pr.to_str().unwrap(),
        "--taskruns",
        kids.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = lines(&out);
    assert_eq!(
        s.len(),
        1,
        "children given with --taskruns are not attested"
    );
    assert_eq!(
        s[0]["predicate"]["buildConfig"]["tasks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn converts_v1beta1() {
    let out = attest(&[
        "--unsigned",
        "--format",
        "slsa/v2alpha3",
        runs("taskrun-v1beta1.yaml").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = &lines(&out)[0];
    assert_eq!(
        s["subject"][0]["name"],
        "gs://artifacts.example.com/lib/coverage.out"
    );
    let deps = s["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    assert_eq!(
        deps[0]["name"], "task",
        "v1beta1 configSource becomes refSource"
    );
    assert_eq!(deps[0]["uri"], "git+https://github.com/example/catalog.git");
    assert_eq!(
        s["predicate"]["buildDefinition"]["externalParameters"]["runSpec"]["serviceAccountName"],
        "tester"
    );
}

#[test]
fn writes_one_file_per_run_with_output_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = attest(&[
        "--unsigned",
        runs("").to_str().unwrap(),
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert!(
        names.contains(&"taskrun-ci-build-app-7x2kq.statement.json".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"pipelinerun-ci-release-9kd2.statement.json".to_string()),
        "{names:?}"
    );
    assert_eq!(names.len(), 5, "{names:?}");
    for n in names {
        let v: Value = serde_json::from_slice(&std::fs::read(dir.path().join(n)).unwrap()).unwrap();
        assert!(v["predicateType"].is_string());
    }
}

#[test]
fn other_kinds_are_skipped_with_a_warning() {
    let input = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n---\n{TASKRUN}");
    let out = attest_stdin(&["--unsigned", "-"], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines(&out).len(), 1);
    assert!(
        stderr(&out).contains("skipping v1 ConfigMap"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn yaml_syntax_error_names_file_document_line_and_column() {
    let input = format!("{TASKRUN}---\nkind: TaskRun\nstatus: {{steps: [\n");
    let out = attest_stdin(&["--unsigned", "-"], &input);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("<stdin>, document 2"), "{err}");
    assert!(err.contains("invalid YAML"), "{err}");
    assert!(err.contains("line ") && err.contains("column "), "{err}");
    // The good run is still attested, and a summary counts the failure.
    assert_eq!(lines(&out).len(), 1);
    assert!(err.contains("attested 1 run, 1 failed"), "{err}");
}

#[test]
fn json_syntax_error_is_reported_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.json");
    std::fs::write(&f, "{\"kind\": \"TaskRun\",\n \"status\": {,}}").unwrap();
    let out = attest(&["--unsigned", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.json, document 1"), "{err}");
    assert!(
        err.contains("invalid JSON") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn not_a_document_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("notes.txt");
    std::fs::write(&f, "just some words\n").unwrap();
    let out = attest(&["--unsigned", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a Kubernetes object"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn run_without_status_is_rejected() {
    let out = attest_stdin(
        &["--unsigned", "-"],
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: x}\nspec: {}\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("TaskRun x has no status"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unparseable_image_id_fails_the_run_and_names_the_step() {
    let input = TASKRUN.replace(
        "'gcr.io/x@sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5'",
        "gcr.io/x:latest",
    );
    let out = attest_stdin(&["--unsigned", "-"], &input);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("step \"s\"") && err.contains("gcr.io/x:latest"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no statement for a failed run");
}

/// The closing line does not claim files were written when none were.
#[test]
fn a_batch_that_wrote_nothing_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = TASKRUN.replace(
        "'gcr.io/x@sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5'",
        "gcr.io/x:latest",
    );
    let dir_arg = dir.path().to_str().unwrap();
    let out = attest_stdin(&["--unsigned", "--output-dir", dir_arg, "-"], &input);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let expected = format!("attested 0 runs, 1 failed (nothing written to {dir_arg})");
    assert!(err.contains(&expected), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn fail_fast_stops_at_the_first_failure() {
    let bad = "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: x}\n";
    let input = format!("{bad}---\n{TASKRUN}");
    let out = attest_stdin(&["--unsigned", "--fail-fast", "-"], &input);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = attest_stdin(&["--unsigned", "-"], &input);
    assert_eq!(lines(&out).len(), 1);
}

#[test]
fn unknown_format_is_a_usage_error() {
    let out = attest(&[
        "--unsigned",
        "--format",
        "slsa/v9",
        runs("taskrun-build.yaml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("slsa/v2alpha4"),
        "lists the valid formats: {}",
        stderr(&out)
    );
}

#[test]
fn signing_without_a_key_fails_and_names_the_options() {
    let out = attest(&[runs("taskrun-build.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--unsigned") && err.contains("--key"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_input_is_an_error() {
    let out = attest(&["--unsigned", "/nonexistent/run.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/run.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_file_sets_format_and_flags_override() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("chains-config.yaml");
    std::fs::write(
        &cfg,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: chains-config, namespace: tekton-chains}\ndata:\n  artifacts.taskrun.format: slsa/v2alpha4\n  builder.id: https://ci.example.com/builder\n",
    )
    .unwrap();
    let tr = runs("taskrun-build.yaml");
    let out = attest(&[
        "--unsigned",
        "--config",
        cfg.to_str().unwrap(),
        tr.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = &lines(&out)[0];
    assert_eq!(s["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(
        s["predicate"]["runDetails"]["builder"]["id"],
        "https://ci.example.com/builder"
    );
    let out = attest(&[
        "--unsigned",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "in-toto",
        tr.to_str().unwrap(),
    ]);
    assert_eq!(
        lines(&out)[0]["predicateType"],
        "https://slsa.dev/provenance/v0.2"
    );
}

#[test]
fn invalid_config_value_names_the_allowed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "artifacts.taskrun.signer: gpg\n").unwrap();
    let out = attest(&[
        "--unsigned",
        "--config",
        cfg.to_str().unwrap(),
        runs("taskrun-build.yaml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("artifacts.taskrun.signer") && err.contains("x509, kms, none"),
        "{err}"
    );
}

#[test]
fn streams_across_chunks_in_input_order() {
    // A PipelineRun first, hundreds of standalone TaskRuns, then its children:
    // the PipelineRun waits for the end, everything stays in input order.
    let text = std::fs::read_to_string(runs("pipelinerun-with-children.yaml")).unwrap();
    let mut docs = text.split("\n---\n");
    let pr = docs.next().unwrap().to_string();
    let kids: Vec<String> = docs.map(String::from).collect();
    let mut stream = vec![pr];
    for i in 0..600 {
        stream.push(
            TASKRUN
                .replace("name: t1", &format!("name: t{i}"))
                .replace("uid: u1", &format!("uid: u{i}")),
        );
    }
    stream.extend(kids);
    let out = attest_stdin(
        &["--unsigned", "--format", "slsa/v2alpha3", "-"],
        &stream.join("\n---\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = lines(&out);
    assert_eq!(s.len(), 603);
    let id = |i: usize| s[i]["predicate"]["runDetails"]["metadata"]["invocationId"].clone();
    assert_eq!(
        id(0),
        "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "the PipelineRun keeps its place"
    );
    let deps = s[0]["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    assert!(
        deps.iter()
            .any(|d| d["uri"] == "oci://ghcr.io/tektoncd/git-init"),
        "children after the chunk boundary are attached: {deps:?}"
    );
    for i in 0..600 {
        assert_eq!(id(i + 1), format!("u{i}"));
    }
    assert_eq!(id(601), "1a2b3c4d-0000-4000-8000-000000000001");
}

#[test]
fn output_dir_across_chunks_writes_every_good_run_or_stops_with_fail_fast() {
    // 200 runs with a broken one at position 100: past the first chunks, so
    // that files of earlier chunks are being written while later ones are
    // processed.
    let bad = "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: broken}\n";
    let stream: Vec<String> = (0..200)
        .map(|i| {
            if i == 100 {
                bad.to_string()
            } else {
                TASKRUN
                    .replace("name: t1", &format!("name: t{i:03}"))
                    .replace("uid: u1", &format!("uid: u{i}"))
            }
        })
        .collect();
    let input = stream.join("\n---\n");
    let written = |fail_fast: bool| {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--unsigned",
            "-",
            "--output-dir",
            dir.path().to_str().unwrap(),
        ];
        if fail_fast {
            args.push("--fail-fast");
        }
        let out = attest_stdin(&args, &input);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("broken"), "{}", stderr(&out));
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    };
    let all = written(false);
    assert_eq!(all.len(), 199, "every good run is written");
    assert!(all.iter().any(|n| n.contains("-t199.")), "{all:?}");
    let stopped = written(true);
    assert_eq!(
        stopped.len(),
        100,
        "the runs before the failure, nothing after"
    );
    assert!(stopped.last().unwrap().contains("-t099."), "{stopped:?}");
}
