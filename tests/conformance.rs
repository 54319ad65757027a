//! Tekton Chains conformance: every case in ../shared/conformance/cases is run
//! through the `chains` binary and compared with the statement Chains' own
//! tests assert (semantic JSON comparison, honouring each case's `compare`
//! rules), and cross-checked with the upstream `compare.py` when python3 is
//! available.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common;

/// Chains' cases are others' data: read from ../shared, never copied here.
fn root() -> PathBuf {
    common::shared("conformance")
}

fn canon(v: &Value) -> String {
    // serde_json without preserve_order sorts object keys.
    serde_json::to_string(v).unwrap()
}

fn get<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |cur, k| cur.get(k))
}

fn get_mut<'a>(doc: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.').try_fold(doc, |cur, k| cur.get_mut(k))
}

fn remove(doc: &mut Value, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (get_mut(doc, p), l),
        None => (Some(doc), path),
    };
    if let Some(Value::Object(m)) = parent {
        m.remove(last);
    }
}

fn sort_list(v: Option<&mut Value>) {
    if let Some(Value::Array(a)) = v {
        a.sort_by_key(canon);
    }
}

fn diff(exp: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (exp, got) {
        (Value::Object(e), Value::Object(g)) => {
            let keys: std::collections::BTreeSet<_> = e.keys().chain(g.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (e.get(k), g.get(k)) {
                    (Some(a), Some(b)) => diff(a, b, &p, out),
                    (Some(a), None) => out.push(format!("{p}: missing (expected {a})")),
                    (None, Some(b)) => out.push(format!("{p}: unexpected ({b})")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(e), Value::Array(g)) => {
            if e.len() != g.len() {
                out.push(format!(
                    "{path}: {} items expected, {} produced",
                    e.len(),
                    g.len()
                ));
            }
            for (i, (a, b)) in e.iter().zip(g).enumerate() {
                diff(a, b, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: expected {a}, produced {b}")),
    }
}

/// compare.py's rules, in Rust.
fn compare(case: &Value, expected: &Value, produced: &Value) -> Vec<String> {
    let spec = &case["compare"];
    let strings = |key: &str| -> Vec<String> {
        spec.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (sort, ignore) = (strings("sort"), strings("ignore"));
    let mut out = Vec::new();
    if spec["mode"] == "partial" {
        for p in strings("only") {
            let Some(e) = get(expected, &p) else {
                out.push(format!("{p}: case error, absent from expected"));
                continue;
            };
            let g = get(produced, &p);
            // An expected null accepts absent, null or [] (Go nil slice vs protojson).
            if e.is_null() && matches!(g, None | Some(Value::Null))
                || (e.is_null() && g == Some(&Value::Array(vec![])))
            {
                continue;
            }
            let Some(g) = g else {
                out.push(format!("{p}: missing in produced (expected {e})"));
                continue;
            };
            let (mut e, mut g) = (e.clone(), g.clone());
            for s in &sort {
                if s == &p {
                    sort_list(Some(&mut e));
                    sort_list(Some(&mut g));
                }
            }
            for ig in &ignore {
                if let Some(rest) = ig.strip_prefix(&format!("{p}.")) {
                    remove(&mut e, rest);
                    remove(&mut g, rest);
                }
            }
            diff(&e, &g, &p, &mut out);
        }
    } else {
        let (mut e, mut g) = (expected.clone(), produced.clone());
        remove(&mut e, "$partial");
        for s in &sort {
            sort_list(get_mut(&mut e, s));
            sort_list(get_mut(&mut g, s));
        }
        for ig in &ignore {
            remove(&mut e, ig);
            remove(&mut g, ig);
        }
        diff(&e, &g, "", &mut out);
    }
    out
}

/// The `chains attest` arguments a case describes.
fn args(case: &Value) -> Vec<String> {
    let o = &case["options"];
    let mut a = vec![
        "attest".to_string(),
        "--unsigned".into(),
        "--quiet".into(),
        // Chains' unit-test fixtures carry no conditions, and one
        // PipelineRun case lists children its test does not supply.
        "--allow-unfinished".into(),
        "--allow-missing-children".into(),
        "--format".into(),
        case["format"].as_str().unwrap().into(),
    ];
    if let Some(id) = o["builder_id"].as_str().filter(|s| !s.is_empty()) {
        a.extend(["--builder-id".into(), id.into()]);
    }
    if let Some(bt) = o["build_type"].as_str().filter(|s| !s.is_empty()) {
        a.extend(["--build-type".into(), bt.into()]);
    }
    if o["deep_inspection"] == true {
        a.push("--deep-inspection".into());
    }
    let inputs: Vec<String> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            root()
                .join("fixtures")
                .join(i.as_str().unwrap())
                .display()
                .to_string()
        })
        .collect();
    a.push(inputs[0].clone());
    if inputs.len() > 1 {
        a.push("--taskruns".into());
        a.extend(inputs[1..].iter().cloned());
    }
    a
}

fn python3() -> Option<&'static str> {
    Command::new("python3")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "python3")
}

#[test]
fn every_conformance_case_matches_chains() {
    if common::skip_without_shared("every_conformance_case_matches_chains") {
        return;
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 77,
        "conformance cases missing: {}",
        cases.len()
    );
    let scratch = tempfile::tempdir().unwrap();
    let python = python3();
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let case: Value =
            serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
        let expected: Value =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_chains"))
            .args(args(&case))
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{name}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let stdout = String::from_utf8(out.stdout).unwrap();
        let first = stdout.lines().next().unwrap_or("");
        let produced: Value = match serde_json::from_str(first) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: first line is not JSON: {e}"));
                continue;
            }
        };
        let diffs = compare(&case, &expected, &produced);
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n    {}", diffs.join("\n    ")));
            continue;
        }
        if let Some(py) = python {
            let file = scratch.path().join(format!("{name}.json"));
            std::fs::write(&file, first).unwrap();
            let cmp = Command::new(py)
                .arg(root().join("compare.py"))
                .arg(dir)
                .arg(&file)
                .output()
                .unwrap();
            if !cmp.status.success() {
                failures.push(format!(
                    "{name}: compare.py: {}",
                    String::from_utf8_lossy(&cmp.stdout)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn output_is_byte_identical_across_runs() {
    if common::skip_without_shared("output_is_byte_identical_across_runs") {
        return;
    }
    let case_dir = root().join("cases/19-v2alpha3-pipelinerun1-slsa-tekton-resolveddependencies");
    let case: Value =
        serde_json::from_slice(&std::fs::read(case_dir.join("case.json")).unwrap()).unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_chains"))
            .args(args(&case))
            .output()
            .unwrap()
            .stdout
    };
    let first = run();
    assert!(!first.is_empty());
    for _ in 0..3 {
        assert_eq!(run(), first);
    }
}

#[test]
fn comparator_catches_differences() {
    // The comparison itself must be able to fail.
    let case = serde_json::json!({"compare": {"mode": "full", "sort": [], "ignore": []}});
    let a = serde_json::json!({"x": [1, 2]});
    let b = serde_json::json!({"x": [2, 1]});
    assert!(!compare(&case, &a, &b).is_empty());
    assert!(compare(&case, &a, &a).is_empty());
}
