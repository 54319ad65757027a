//! Differential tests of the YAML fast path against the full parser: each
//! construct go-yaml writes must be accepted and read the same; anything
//! else must be declined or read the same; nothing may overflow the stack.

use super::*;

/// The full parser's value, or `None` where it refuses the text.
fn full_value(text: &str) -> Option<Value> {
    full(text).ok()
}

/// The fast path either declines or agrees with the full parser.
fn agrees(text: &str) -> bool {
    match parse(text) {
        None => false,
        Some(fast) => {
            assert_eq!(Some(&fast), full_value(text).as_ref(), "on:\n{text}");
            true
        }
    }
}

/// The fast path reads the text, and as the full parser does.
fn accepted(text: &str) -> Value {
    let fast = parse(text).unwrap_or_else(|| panic!("the fast path declined:\n{text}"));
    assert_eq!(Some(&fast), full_value(text).as_ref(), "on:\n{text}");
    fast
}

#[test]
fn reads_what_kubectl_writes() {
    let doc = "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  annotations:\n    a.b/c: \"x: y\"\n  labels: {}\n  name: t\n  generation: 1\nspec:\n  params:\n  - name: IMAGE\n    value: gcr.io/x/y\n  - name: ARGS\n    value:\n    - --flag\n    - 'it''s'\n  steps:\n  - name: build\n    script: |\n      #!/bin/sh\n      echo hi   # not a comment\n\n      exit 0\n    image: alpine\n  - script: |-\n      one\n    args: []\nstatus:\n  conditions:\n  - message: All Steps have completed executing and the quick brown fox jumps\n      over the lazy dog\n    status: \"True\"\n    ratio: 0.5\n    count: -3\n    empty:\n    nothing: null\n";
    accepted(doc);
}

#[test]
fn reads_every_construct_go_yaml_writes() {
    for doc in [
        // Plain scalars folded at 80 columns, continued on deeper lines,
        // including continuations that start with an indicator.
        "k: a long plain scalar that go-yaml folded\n  over two lines\n",
        "k: a b\n  - c d\n  [x] 'q' \"r\" *s &t !u |v >w %x @y `z\n  ? q\n",
        "k:\n- one item folded\n  over lines\n- two\n",
        "k:\n- a: folded in a\n    mapping in a sequence\n  b: 2\n",
        "k: para one\n\n  para two\n",
        // Double-quoted: escapes, folding, escaped spaces and breaks.
        "k: \"\\u00e9\\n\\t\\\"\\\\ \\/ \\x41 \\U0001F600 \\0 \\a \\b \\e \\f \\v \\r\"\n",
        "k: \"\\N\\_\\L\\P\"\n",
        "k: \"a line that go-yaml folded at eighty columns because it has a\n  trailing space \"\n",
        "k: \"two  spaces folded\n  \\ where the second space is escaped\"\n",
        "k: \"a\\\n  b\"\n",
        "k: \"a b   \n  c\\\n  d  \\ \n  \n  e\\\n  \n  f\"\n",
        "k: \"first\\n\n  \\nsecond line\\n\"\n",
        "k:\n- \"in a\n  sequence\"\n- 'and\n\n  single'\n",
        "k: \"ends\" # with a comment\n",
        "k: \"\"\n",
        "k: \"a\\tb\"\n",
        // Single-quoted, folded.
        "k: 'it''s: folded\n  over   \n  lines'\n",
        "k: 'a # b'\n",
        "k: ''\n",
        "k: 'Tasks Completed: 4 (Failed: 0, Cancelled 0), Skipped: 0'\n",
        // Quoted keys.
        "\"on\": 1\n'a: b': 2\n\"\": 3\n\"123\": 4\n",
        "\"esc\\u00e9\": x\n",
        // Literal block scalars, every chomping, with indentation digits.
        "k: |\n  line\n\n  after blank\n",
        "k: |-\n  stripped\n",
        "k: |+\n  kept\n\n\nnext: 1\n",
        "k: |+\n  kept at the end\n\n",
        "k: |2-\n    indented\n   first\n",
        "k: |2\n   leading space\n  x\n",
        "k: |2+\n\n  after a leading break\n\n",
        "m:\n  k:\n  - |2-\n     x\n    z\n",
        "k:\n- |2\n   x\n  z\n",
        "m:\n- a: |2\n     x\n    z\n",
        "k: |\n  x\u{a0}\n  \u{a0}\n",
        "k: |\n  # not a comment\n  a: b\n  - c\n",
        // Empty collections, sequences at the key's column, nesting.
        "a: {}\nb: []\nc:\n  d: {}\n",
        "k:\n- a\n-\n- b: 1\n  c: 2\n",
        "k:\n  - a\n  -\n  - b: 1\n    c: 2\n",
        "list:\n- - nested\n  - second\n- - - deeper\n",
        "k:\n- a: 1\n  b:\n  - x\n  - z\n  c: 3\n- d\n",
        "k:\n-\n  a: 1\n",
        // Typing as the full parser types it.
        "a: 1\nb: -3\nc: 0\nd: -0\ne: 9223372036854775807\nf: 18446744073709551615\n",
        "a: 0.5\nb: -0.25\nc: 1e+06\nd: 1.5e-07\ne: 2024.01\nf: 3.0\ng: 1E5\n",
        "a: true\nb: false\nc: null\nd: ~\ne:\n",
        "a: 1.2.3\nb: 10.0.0.1\nc: v1.2\nd: 12:30:45\ne: 1-2\nf: -x\ng: --flag\nh: _1\n",
        "a: 2026-11-20T10:16:41Z\nb: 1h0m0s\nc: a:b\nd: a #b\ne: sha256:abc\n",
        "a: .hidden\nb: Infinity\nc: nan\nd: 1e5x\ne: 1d\nf: .\ng: .e5\n",
        "a: 0bfb9f187300d8d91146181b400ba6d7f6cd4a99\nb: 0o19\nc: 0x1G\nd: 0b12\n",
        "sha256:abc: x\n",
        "k: a\u{a0}\n",
        "k: \u{a0}a\n",
        "k: a\n...\n",
        "k: v # comment\n# a comment line\nj: w\n",
    ] {
        accepted(doc);
    }
}

#[test]
fn declines_what_the_full_parser_might_read_otherwise() {
    for scalar in [
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "n",
        "tRue",
        "TRUE",
        "Null",
        "0x1F",
        "0o17",
        "0b101",
        "017",
        "00",
        "08",
        "+1",
        "+1.5",
        "1_000",
        "1_000.5",
        ".5",
        "-.5",
        "5.",
        "5.e3",
        ".inf",
        "-.inf",
        ".nan",
        "1e+400",
        "1e",
        "0x",
        "1234e567",
        "12345678901234567890123",
        "-9223372036854775809",
    ] {
        let doc = format!("k: {scalar}\n");
        assert!(parse(&doc).is_none(), "{scalar}");
    }
    for doc in [
        "k: &a 1\n",
        "k: *a\n",
        "k: !!str 1\n",
        "<<: {a: 1}\n",
        "k: [1, 2]\n",
        "k: {a: 1}\n",
        "k: >\n  folded\n",
        "- a\n",
        "k:\tv\n",
        "k: v\r\n",
        "k: a\u{1}b\n",
        "k: a\u{7f}b\n",
        "k: a\u{85}b\n",
        "k: a\u{80}b\n",
        "k: a\u{2028}b\n",
        "\u{feff}k: a\n",
        "? complex\n: key\n",
        "k: v\nk: w\n",
        "k:\n- a: 1\n  a: 2\n",
        "\"k\n  j\": 1\n",
        "k: \"never closed\n  at all\n",
        "k: \"less\nindented\"\n",
        "k: x #y\n  z\n",
        "k: a\n  # c\n  b\n",
        "k:\n  plain on its own line\n",
        "k: |\n    \n  less indented than a leading empty line\n",
        "k: \"bad \\q escape\"\n",
        "k: \"ends\" trailing\n",
        "k: v\n...\nj: w\n",
        "%YAML 1.2\n---\nk: v\n",
    ] {
        assert!(parse(doc).is_none(), "{doc:?}");
    }
    // An escaped space before the line break is not an escaped break.
    let doc = "k: \"a\\ \n  b\"\n";
    assert!(parse(doc).is_none() || agrees(doc));
}

/// Near-misses of the subset: whatever the fast path accepts, it reads
/// as the full parser does.
#[test]
fn agrees_where_it_accepts() {
    for doc in [
        "k: a\n  #c\n",
        "k: |\n  x\n y\n",
        "k:\n  - a\n - b\n",
        "k: 'a\n'\n",
        "k: \"a\n\n\n  b\"\n",
        "k: |+\n\n",
        "k: |-\n\n\n",
        "k: |\nj: 1\n",
        "k: a\n\n\n",
        "k:\n- |\n  a\n\n- b\n",
        "k: \"\\x41\\u0042\"\n",
        "k: - a\n",
        "k: -\n",
        "- - a\n",
        "k:\n  a: 1\n    b: 2\n",
        "k:\n    - a\n  - b\n",
        "a:\n  b:\n c: 1\n",
    ] {
        let _ = agrees(doc);
    }
}

/// `depth` mappings, one inside the other.
fn nested_mappings(depth: usize) -> String {
    let mut s = String::new();
    for i in 0..depth {
        s.push_str(&" ".repeat(i));
        s.push_str("k:\n");
    }
    s.push_str(&" ".repeat(depth));
    s.push_str("x: 1\n");
    s
}

#[test]
fn nesting_is_bounded_and_never_overflows_the_stack() {
    // MAX_DEPTH collections in all (the innermost holds `x`): both read it.
    accepted(&nested_mappings(MAX_DEPTH - 1));
    // One more: both refuse it, with the line where it went too deep.
    let too_deep = nested_mappings(MAX_DEPTH);
    assert!(parse(&too_deep).is_none());
    let err = full(&too_deep).unwrap_err();
    assert!(err.location().is_some(), "{err}");
    // What aborted a whole batch before (exit 134): refused, not a crash.
    for text in [
        nested_mappings(5_000),
        format!("k:\n{}x\n", "- ".repeat(5_000)),
        (0..5_000)
            .map(|i| format!("{}-\n", " ".repeat(i)))
            .collect::<String>()
            .replacen('-', "k:\n-", 1),
        format!("k: {}\n", "[".repeat(5_000)),
        format!("k: {}\n", "{a: ".repeat(5_000)),
    ] {
        assert!(parse(&text).is_none());
        assert!(from_str(&text).is_err());
    }
    // Sequences in sequences count too.
    let seqs = |n: usize| format!("k:\n{}x\n", "- ".repeat(n));
    accepted(&seqs(MAX_DEPTH - 1));
    assert!(parse(&seqs(MAX_DEPTH)).is_none());
    assert!(full(&seqs(MAX_DEPTH)).is_err());
}

#[test]
fn every_yaml_file_in_the_repository_agrees() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut read = 0;
    let mut stack = vec![root.join("testdata"), root.join("deploy")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                let text = std::fs::read_to_string(&p).unwrap();
                for doc in text.split("\n---\n") {
                    if full_value(doc).is_some_and(|v| v.is_object()) && agrees(doc) {
                        read += 1;
                    }
                }
            }
        }
    }
    assert!(
        read >= 3,
        "the fast path read only {read} repository documents"
    );
}

/// Every file of ../shared/corpus, printed by kubectl, takes the fast path
/// and reads as the full parser reads it, and as kubectl's JSON of the
/// same object.
#[test]
fn every_kubectl_file_in_the_shared_corpus_takes_the_fast_path() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let yaml_dir = corpus.join("kubectl-yaml");
    let Ok(entries) = std::fs::read_dir(&yaml_dir) else {
        eprintln!("skipped: {} is absent", yaml_dir.display());
        return;
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no YAML in {}", yaml_dir.display());
    files.push(corpus.join("list.yaml"));
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let fast =
            parse(&text).unwrap_or_else(|| panic!("the fast path declined {}", path.display()));
        let slow = full(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(fast == slow, "{}: the parsers differ", path.display());
        // kubectl's JSON of the same object, where there is one.
        let name = path.with_extension("json");
        let json = match path.parent() {
            Some(dir) if dir == yaml_dir => {
                corpus.join("kubectl-json").join(name.file_name().unwrap())
            }
            _ => name,
        };
        if let Ok(json) = std::fs::read(&json) {
            let json: Value = serde_json::from_slice(&json).unwrap();
            assert!(fast == json, "{}: differs from its JSON", path.display());
        }
    }
    eprintln!(
        "the fast path read all {} files of {}",
        files.len(),
        corpus.display()
    );
}

/// The benchmark's kubectl-style writers (go-yaml's emitter and Go's
/// JSON), to check the fast path on everything they print.
#[allow(dead_code)]
#[path = "../../../benches/attest/kubectl.rs"]
mod kubectl;

#[allow(dead_code)]
#[path = "../../../benches/attest/export.rs"]
mod export;

/// What go-yaml prints, the fast path reads back: the value that was
/// printed, as the full parser reads it.
fn round_trip(value: &Value) {
    let text = kubectl::yaml(value);
    assert_eq!(&accepted(&text), value, "on:\n{text}");
    let json: Value = serde_json::from_str(&kubectl::json(value)).unwrap();
    assert_eq!(&json, value);
}

#[test]
fn reads_back_every_run_of_the_benchmark_export() {
    let mut runs = 0;
    for group in export::groups(7, 150) {
        for run in group.pipeline_run.iter().chain(&group.task_runs) {
            round_trip(run);
            // As an item of a List, folded at other columns.
            let list = format!(
                "apiVersion: v1\nitems:\n{}kind: List\n",
                kubectl::yaml_list_item(run)
            );
            assert_eq!(accepted(&list)["items"][0], *run);
            runs += 1;
        }
    }
    assert_eq!(runs, 150);
}

#[test]
fn reads_back_strings_of_every_style_go_yaml_chooses() {
    // Characters that steer go-yaml's choice of style, and long runs of
    // words that make it fold. (Not U+2028: go-yaml writes it raw, as a
    // line break of YAML 1.1, which YAML 1.2 parsers read as content; the
    // fast path declines it.)
    const PIECES: &[&str] = &[
        "a",
        "word",
        " ",
        "  ",
        "\n",
        "\n\n",
        ": ",
        ":",
        " #",
        "#",
        "-",
        "- ",
        "'",
        "\"",
        "\\",
        "\t",
        "é",
        "\u{a0}",
        "😀",
        "\u{85}",
        "\u{feff}",
        "\u{1}",
        "{",
        "[",
        "|",
        ">",
        "0",
        "1.5",
        "017",
        "yes",
        "null",
        "~",
        ".",
        "2026-01-02",
        "1:20",
        "0x1F",
        "&a",
        "*a",
        "!t",
        "%",
        "@",
        "`",
        "?",
        ",",
        "quick brown fox jumps over the lazy dog",
    ];
    let mut rng = export::Rng(99);
    for _ in 0..1_500 {
        let mut s = String::new();
        for _ in 0..rng.next() % 40 {
            s.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
        }
        let mut map = Map::new();
        map.insert("k".into(), Value::String(s.clone()));
        map.insert(
            "list".into(),
            Value::Array(vec![
                Value::String(s.clone()),
                Value::Array(vec![Value::String(s.clone())]),
            ]),
        );
        map.insert(
            "m".into(),
            serde_json::json!({ "deeper": { "x": s.clone() } }),
        );
        if s.chars().count() < 100 {
            map.insert(s.clone(), Value::Bool(true));
        }
        round_trip(&Value::Object(map));
    }
}
