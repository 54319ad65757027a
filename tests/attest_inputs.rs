//! `chains attest` on real cluster exports: parents and children in any
//! order, Lists streamed, and every input that cannot give a result said so
//! (issue #12). Chains' realistic export in ../shared/corpus is used where
//! it is there.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    common::chains()
}

fn attest(args: &[&str]) -> Output {
    bin().arg("attest").args(args).output().unwrap()
}

fn attest_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut cmd = bin();
    cmd.arg("attest").args(args);
    common::output_with_stdin(cmd, input)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn statements(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON statement per line"))
        .collect()
}

fn runs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/runs")
        .join(name)
}

/// The example PipelineRun and its two children, as separate documents.
fn family() -> (String, String, String) {
    let text = std::fs::read_to_string(runs("pipelinerun-with-children.yaml")).unwrap();
    let docs: Vec<String> = text
        .split("\n---\n")
        .map(|d| format!("{}\n", d.trim_end()))
        .collect();
    assert_eq!(docs.len(), 3, "a PipelineRun and two TaskRuns");
    (docs[0].clone(), docs[1].clone(), docs[2].clone())
}

/// Each statement's subject run: (kind, name).
fn who(s: &Value) -> String {
    let p = &s["predicate"];
    let kind = p["buildType"].as_str().unwrap_or("").to_string();
    let name = p["invocation"]["environment"]["labels"]["tekton.dev/pipelineTask"]
        .as_str()
        .unwrap_or("pipeline");
    format!("{kind} {name}")
}

#[test]
fn parents_after_children_get_the_same_provenance_in_input_order() {
    let (pr, fetch, build) = family();
    let args = ["--unsigned", "--deep-inspection", "-"];
    let first = attest_stdin(&args, format!("{pr}---\n{fetch}---\n{build}").as_bytes());
    assert!(first.status.success(), "{}", stderr(&first));
    let first = statements(&first);
    assert_eq!(first.len(), 3);
    for (order, stream) in [
        ("children first", format!("{fetch}---\n{build}---\n{pr}")),
        ("parent between", format!("{fetch}---\n{pr}---\n{build}")),
    ] {
        let out = attest_stdin(&args, stream.as_bytes());
        assert!(out.status.success(), "{order}: {}", stderr(&out));
        let got = statements(&out);
        assert_eq!(got.len(), 3, "{order}: each run once");
        let pr_got = got
            .iter()
            .find(|s| s["predicate"]["buildType"] == "tekton.dev/v1/PipelineRun")
            .unwrap();
        assert_eq!(pr_got, &first[0], "{order}: the PipelineRun's provenance");
        let tasks = pr_got["predicate"]["buildConfig"]["tasks"]
            .as_array()
            .unwrap();
        assert_eq!(tasks.len(), 2, "{order}");
        // Output keeps input order.
        let expected: Vec<String> = match order {
            "children first" => vec![who(&first[1]), who(&first[2]), who(&first[0])],
            _ => vec![who(&first[1]), who(&first[0]), who(&first[2])],
        };
        assert_eq!(got.iter().map(who).collect::<Vec<_>>(), expected, "{order}");
    }
}

#[test]
fn children_without_their_parent_are_attested() {
    let (_, fetch, build) = family();
    let out = attest_stdin(
        &["--unsigned", "-"],
        format!("{fetch}---\n{build}").as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(statements(&out).len(), 2);
}

#[test]
fn a_pipelinerun_missing_children_is_an_error_unless_allowed() {
    let (pr, fetch, _) = family();
    let out = attest_stdin(&["--unsigned", "-"], format!("{fetch}---\n{pr}").as_bytes());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("<stdin>, document 2")
            && err.contains("release-9kd2-build")
            && !err.contains("release-9kd2-fetch,")
            && err.contains("--taskruns"),
        "{err}"
    );
    // The child that was there is still attested.
    assert_eq!(statements(&out).len(), 1);

    let out = attest_stdin(
        &["--unsigned", "--allow-missing-children", "-"],
        format!("{fetch}---\n{pr}").as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(statements(&out).len(), 2);
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));
}

#[test]
fn unfinished_runs_are_errors_unless_allowed() {
    let (_, fetch, _) = family();
    for (what, run) in [
        (
            "no conditions",
            fetch.replace("type: Succeeded", "type: Other"),
        ),
        (
            "Unknown",
            fetch.replace("status: \"True\"", "status: \"Unknown\""),
        ),
    ] {
        assert_ne!(run, fetch, "{what}: the fixture changed");
        let out = attest_stdin(&["--unsigned", "-"], run.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("<stdin>, document 1") && err.contains("has not finished"),
            "{what}: {err}"
        );
        assert!(out.stdout.is_empty());
        let out = attest_stdin(&["--unsigned", "--allow-unfinished", "-"], run.as_bytes());
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert_eq!(statements(&out).len(), 1);
        assert!(stderr(&out).contains("has not finished"), "{what}");
    }
}

/// An unnamed run is placed by its origin once, not twice ("<stdin>,
/// document 1: TaskRun at <stdin>, document 1 has ...").
#[test]
fn an_unnamed_runs_error_names_its_place_once() {
    for (what, run) in [
        (
            "no status",
            "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {}\nspec: {}\n",
        ),
        (
            "unfinished",
            "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {}\nspec: {}\nstatus: {conditions: [{type: Succeeded, status: Unknown}]}\n",
        ),
    ] {
        let out = attest_stdin(&["--unsigned", "-"], run.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.matches("document 1").count(), 1, "{what}: {err}");
        assert!(err.contains("the unnamed TaskRun"), "{what}: {err}");
    }
}

#[test]
fn no_runs_at_all_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = attest(&["--unsigned", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no TaskRun or PipelineRun in"),
        "{}",
        stderr(&out)
    );

    let out = attest_stdin(&["--unsigned", "-"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("standard input"), "{}", stderr(&out));

    let other = dir.path().join("cm.yaml");
    std::fs::write(&other, "apiVersion: v1\nkind: ConfigMap\n").unwrap();
    let out = attest(&["--unsigned", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    let out = attest(&["--unsigned", dir.path().join("nope").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));
}

#[test]
fn files_with_lines_broken_by_cr_alone_are_read() {
    let (_, fetch, _) = family();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cr.yaml");
    let text = format!("# exported\n{fetch}").replace('\n', "\r");
    std::fs::write(&file, text).unwrap();
    let out = attest(&["--unsigned", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lf = attest_stdin(&["--unsigned", "-"], fetch.as_bytes());
    assert_eq!(statements(&out), statements(&lf));
}

#[test]
fn deep_nesting_fails_its_document_not_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: deep}\nstatus: {}\nspec:\n",
    );
    for depth in 1..=5000 {
        yaml.push_str(&format!("{}k{depth}:\n", " ".repeat(2 * depth)));
    }
    std::fs::write(dir.path().join("a-deep.yaml"), &yaml).unwrap();
    let json = format!(
        "{{\"kind\": \"TaskRun\", \"status\": {{}}, \"spec\": {}1{}}}",
        "{\"a\": ".repeat(5000),
        "}".repeat(5000)
    );
    std::fs::write(dir.path().join("b-deep.json"), json).unwrap();
    std::fs::copy(runs("taskrun-build.yaml"), dir.path().join("c-good.yaml")).unwrap();
    let out = attest(&["--unsigned", dir.path().to_str().unwrap()]);
    // Attested or refused with an error naming it, but never a crash that
    // takes the other runs with it.
    let code = out.status.code();
    assert!(matches!(code, Some(0 | 2)), "{code:?}: {}", stderr(&out));
    let got = statements(&out);
    assert!(
        got.iter()
            .any(|s| s["subject"].as_array().is_some_and(|a| !a.is_empty())),
        "the good run is attested"
    );
    if code == Some(2) {
        let err = stderr(&out);
        let named = ["a-deep.yaml", "b-deep.json"]
            .iter()
            .filter(|f| err.contains(*f))
            .count();
        assert_eq!(
            named + got.len(),
            3,
            "each deep file attested or named: {err}"
        );
    }
}

#[test]
fn an_unreadable_subdirectory_is_reported_and_the_rest_attested() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::copy(runs("taskrun-build.yaml"), locked.join("x.yaml")).unwrap();
    std::fs::copy(runs("taskrun-build.yaml"), dir.path().join("z.yaml")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::read_dir(&locked).is_ok();
    let out = attest(&["--unsigned", dir.path().to_str().unwrap()]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    if readable {
        eprintln!("skipping: permissions do not apply to this user (root)");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("locked"), "{}", stderr(&out));
    assert_eq!(statements(&out).len(), 1);
}

#[test]
fn file_names_are_escaped_in_messages() {
    let dir = tempfile::tempdir().unwrap();
    let name = "bad\nname\u{1b}[31m.yaml";
    std::fs::write(dir.path().join(name), "kind: TaskRun\nstatus: [\n").unwrap();
    let out = attest(&["--unsigned", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad\\nname\\u{1b}[31m.yaml"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "a raw escape reached the terminal: {err:?}"
    );
}

#[test]
fn a_fifo_is_read_once_its_writer_writes() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("runs.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping: mkfifo is not available");
        return;
    }
    let run = std::fs::read(runs("taskrun-build.yaml")).unwrap();
    let path = fifo.clone();
    // The writer blocks in open until chains opens the FIFO for reading.
    let writer = std::thread::spawn(move || std::fs::write(path, run));
    let out = attest(&["--unsigned", fifo.to_str().unwrap()]);
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(statements(&out).len(), 1);
}

/// ../shared/corpus: 30 PipelineRuns and their 120 TaskRuns as kubectl
/// prints them, one file per run and as one List.
fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !dir.join("list.yaml").is_file() {
        eprintln!("skipping: {} is absent", dir.display());
        return None;
    }
    Some(dir)
}

/// Whether an slsa/v2alpha3 statement is a PipelineRun's.
fn is_pipeline(s: &Value) -> bool {
    let spec = &s["predicate"]["buildDefinition"]["externalParameters"]["runSpec"];
    spec.get("pipelineRef")
        .or_else(|| spec.get("pipelineSpec"))
        .is_some()
}

fn sorted_lines(out: &Output) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn lists_in_json_and_yaml_give_what_one_file_per_run_gives() {
    let Some(corpus) = corpus() else { return };
    let args = |input: &Path| -> Vec<String> {
        vec![
            "--unsigned".into(),
            "--deep-inspection".into(),
            "--format".into(),
            "slsa/v2alpha3".into(),
            input.display().to_string(),
        ]
    };
    let run = |input: &Path| {
        let a = args(input);
        let out = attest(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            out.status.success(),
            "{}: {}",
            input.display(),
            stderr(&out)
        );
        out
    };
    // One file per run: PipelineRuns (pr-*) sort before their children.
    let files = run(&corpus.join("kubectl-yaml"));
    let reference = sorted_lines(&files);
    assert_eq!(reference.len(), 150);
    let pipelines = statements(&files).iter().filter(|s| is_pipeline(s)).count();
    assert_eq!(pipelines, 30, "every PipelineRun attested");
    for other in [
        corpus.join("kubectl-json"),
        corpus.join("list.yaml"),
        corpus.join("list.json"),
    ] {
        assert_eq!(sorted_lines(&run(&other)), reference, "{}", other.display());
    }
    // A List on standard input, children before parents, in input order.
    let list = std::fs::read(corpus.join("list.yaml")).unwrap();
    let a = args(Path::new("-"));
    let out = attest_stdin(&a.iter().map(String::as_str).collect::<Vec<_>>(), &list);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sorted_lines(&out), reference);
    let kinds: Vec<bool> = statements(&out).iter().map(is_pipeline).collect();
    assert!(kinds[..120].iter().all(|p| !p) && kinds[120..].iter().all(|p| *p));
}

#[test]
fn with_an_output_directory_files_are_the_same_whatever_the_order() {
    let Some(corpus) = corpus() else { return };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for (input, out) in [
        (corpus.join("kubectl-yaml"), a.path()),
        (corpus.join("list.json"), b.path()),
    ] {
        let o = attest(&[
            "--unsigned",
            input.to_str().unwrap(),
            "--output-dir",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let read = |d: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().to_string(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let (fa, fb) = (read(a.path()), read(b.path()));
    assert_eq!(fa.len(), 150);
    assert!(fa == fb, "the same files with the same bytes");
}

/// `list.yaml` with its items indented under `items:`, as tools other than
/// kubectl print a List.
fn indent_items(list: &str) -> String {
    let mut out = String::new();
    let mut in_items = false;
    for line in list.split_inclusive('\n') {
        in_items &= line.starts_with(['-', ' ', '\n']);
        if in_items && line != "\n" {
            out.push_str("  ");
        }
        out.push_str(line);
        in_items |= line == "items:\n";
    }
    out
}

#[test]
fn indented_yaml_lists_and_one_line_json_lists_stream_in_input_order() {
    let Some(corpus) = corpus() else { return };
    let attested = |input: &[u8]| {
        let out = attest_stdin(&["--unsigned", "-"], input);
        assert!(out.status.success(), "{}", stderr(&out));
        out.stdout
    };
    // kubectl's order: all TaskRuns, then the PipelineRuns they belong to.
    let yaml = std::fs::read_to_string(corpus.join("list.yaml")).unwrap();
    let reference = attested(yaml.as_bytes());
    assert_eq!(reference.iter().filter(|&&b| b == b'\n').count(), 150);
    let indented = indent_items(&yaml);
    assert_ne!(indented, yaml);
    assert!(indented.contains("\nitems:\n  - apiVersion: tekton.dev/v1\n    kind: TaskRun\n"));
    assert!(
        attested(indented.as_bytes()) == reference,
        "indented YAML List"
    );
    let mut list: Value =
        serde_json::from_slice(&std::fs::read(corpus.join("list.json")).unwrap()).unwrap();
    let one_line = format!("{list}\n");
    assert!(
        attested(one_line.as_bytes()) == reference,
        "JSON List on one line"
    );
    // Parents before their children: the same, in that order.
    list["items"].as_array_mut().unwrap().reverse();
    let pretty = serde_json::to_vec_pretty(&list).unwrap();
    let parents_first = attested(&pretty);
    assert!(parents_first != reference);
    let one_line = format!("{list}\n");
    assert!(
        attested(one_line.as_bytes()) == parents_first,
        "JSON List on one line, parents first"
    );
}
