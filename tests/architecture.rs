//! The architecture as a test: reads src/**/*.rs, builds the module import
//! graph from `crate::` and `super::` paths, and holds the rules of
//! ARCHITECTURE.md: no cycle between top-level modules or between sibling
//! submodules, no stage importing a command, no command importing another
//! command, and no function over 120 lines. A small lexer drops comments,
//! strings and `#[cfg(test)]` modules first, so only code counts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common;

/// The commands: thin compositions on top of the stages (`keys` is
/// `chains generate-key-pair` and friends).
const COMMANDS: &[&str] = &["attest", "verify", "watch", "keys", "stored"];

/// Modules that may name a command: the crate root and the binary's entry.
const ENTRY: &[&str] = &["", "main"];

const MAX_FUNCTION_LINES: usize = 120;

/// Arrows that break a rule today and are being removed by work in flight.
/// Each names the area that removes it; the lead deletes the entry at merge.
const TEMPORARY_ARROWS: &[(&str, &str)] = &[];

/// Cycles that exist today, each with the area removing it; the lead
/// deletes the entry when that work is merged.
const TEMPORARY_CYCLES: &[&str] = &[];

/// Functions over the limit today, each with the area shortening it (issue
/// #14 item 6). The lead removes each entry when that work is merged.
const TEMPORARY_LONG_FUNCTIONS: &[&str] = &[];

// ---------------------------------------------------------------------------
// Reading the source

struct Module {
    /// `sign::kms::gcp`; the crate root is "".
    path: String,
    file: PathBuf,
    /// Code without comments, string contents and `#[cfg(test)]` items.
    code: String,
}

fn modules() -> Vec<Module> {
    let src = common::root().join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let rel = file.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            Module {
                path: parts.join("::"),
                code: without_test_items(&strip(&text)),
                file,
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Source with comments removed and string/char literals emptied (`""`,
/// `' '`), keeping every newline so line numbers stay right.
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if c[i] == '\n' {
                            out.push('\n');
                        }
                        i += 1;
                    }
                }
            }
            'r' if raw_string_prefix(&c, i) && raw_string_start(&c, i + 1).is_some() => {
                let hashes = raw_string_start(&c, i + 1).unwrap_or(0);
                i += 2 + hashes;
                out.push_str("\"\"");
                while i < c.len() {
                    if c[i] == '"' && (1..=hashes).all(|h| c.get(i + h) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    if c[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            '"' => {
                i += 1;
                out.push_str("\"\"");
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        i += 1;
                    }
                    if c.get(i) == Some(&'\n') {
                        out.push('\n');
                    }
                    i += 1;
                }
                i += 1;
            }
            '\'' if c.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            }
            '\'' if c.get(i + 2) == Some(&'\'') => {
                i += 3;
                out.push_str("' '");
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

fn ident_before(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

/// An `r` that starts a raw string literal (`r"`, `r#"`, `br"`), not the end of a name.
fn raw_string_prefix(c: &[char], i: usize) -> bool {
    !ident_before(c, i) || (c[i - 1] == 'b' && !ident_before(c, i - 1))
}

/// After an `r` (or `br`): the number of `#`s if a raw string starts here.
fn raw_string_start(c: &[char], mut i: usize) -> Option<usize> {
    let mut hashes = 0;
    while c.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    (c.get(i) == Some(&'"')).then_some(hashes)
}

/// Blank out every item annotated `#[cfg(test)]` (unit tests may reach
/// anywhere), keeping newlines.
fn without_test_items(code: &str) -> String {
    let mut out = code.to_string();
    while let Some(at) = out.find("#[cfg(test)]") {
        let end = item_end(&out, at);
        let blank: String = out[at..end]
            .chars()
            .map(|ch| if ch == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(at..end, &blank);
    }
    out
}

/// The end of the item starting at `at`: its first `;` before any `{`, or
/// the `}` matching its first `{`.
fn item_end(code: &str, at: usize) -> usize {
    let bytes = code.as_bytes();
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(at + "#[cfg(test)]".len()) {
        match b {
            b';' if depth == 0 => return i + 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

// ---------------------------------------------------------------------------
// The import graph

/// Every module path a module's code names through `crate::` or `super::`.
fn named_paths(module: &Module) -> Vec<Vec<String>> {
    let code = &module.code;
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if !ident_before_str(rest, at) {
            out.extend(expand(Vec::new(), after));
        }
        rest = after;
    }
    let own: Vec<String> = module.path.split("::").map(String::from).collect();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("super::") {
        let after = &rest[at + "super::".len()..];
        if !ident_before_str(rest, at) && !rest[..at].ends_with("::") {
            let mut base = own.clone();
            base.pop();
            out.extend(expand(base, after));
        }
        rest = after;
    }
    out
}

fn ident_before_str(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// The paths named at the start of `text` (after `crate::`), expanding
/// `{a, b::{c, d}}` groups.
fn expand(prefix: Vec<String>, text: &str) -> Vec<Vec<String>> {
    let mut path = prefix;
    let mut chars = text.char_indices().peekable();
    let mut segment = String::new();
    while let Some(&(i, ch)) = chars.peek() {
        if ch.is_alphanumeric() || ch == '_' {
            segment.push(ch);
            chars.next();
        } else if text[i..].starts_with("::") {
            path.push(std::mem::take(&mut segment));
            chars.next();
            chars.next();
        } else if ch == '{' && segment.is_empty() {
            let body = &text[i + 1..];
            let close = matching_brace(body);
            return split_top_level(&body[..close])
                .into_iter()
                .flat_map(|item| expand(path.clone(), item.trim()))
                .collect();
        } else {
            break;
        }
    }
    if !segment.is_empty() {
        path.push(segment);
    }
    vec![path]
}

fn matching_brace(body: &str) -> usize {
    let mut depth = 1;
    for (i, ch) in body.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    body.len()
}

fn split_top_level(list: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0, 0, Vec::new());
    for (i, ch) in list.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// module → the modules it imports (longest known prefix of each path;
/// its own ancestors and itself excluded).
fn import_graph(modules: &[Module]) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<&str> = modules.iter().map(|m| m.path.as_str()).collect();
    let mut graph = BTreeMap::new();
    for m in modules {
        let targets: &mut BTreeSet<String> = graph.entry(m.path.clone()).or_default();
        for path in named_paths(m) {
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|p| known.contains(p.as_str()));
            if let Some(t) = target
                && t != m.path
                && !m.path.starts_with(&format!("{t}::"))
            {
                targets.insert(t);
            }
        }
    }
    graph
}

fn top(path: &str) -> &str {
    path.split("::").next().unwrap_or("")
}

/// The graph between `parent`'s direct children (all of `parent` when it
/// is ""), each child standing for its whole subtree.
fn children_graph(
    graph: &BTreeMap<String, BTreeSet<String>>,
    parent: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    let child_of = |path: &str| -> Option<String> {
        let rest = if parent.is_empty() {
            path
        } else {
            path.strip_prefix(parent)?.strip_prefix("::")?
        };
        let first = rest.split("::").next().filter(|s| !s.is_empty())?;
        Some(first.to_string())
    };
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in graph {
        let Some(a) = child_of(from) else { continue };
        for to in tos {
            if let Some(b) = child_of(to)
                && a != b
            {
                out.entry(a.clone()).or_default().insert(b);
            }
        }
    }
    out
}

/// Each cycle once, as `a → b → a`.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut found = BTreeSet::new();
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if next == start {
                    // Rotate so the smallest name leads: one report per cycle.
                    let min = path.iter().enumerate().min_by_key(|(_, p)| *p).unwrap().0;
                    let mut cycle: Vec<String> =
                        path[min..].iter().chain(&path[..min]).cloned().collect();
                    cycle.push(cycle[0].clone());
                    found.insert(cycle.join(" → "));
                } else if !path.contains(next) && next > start {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    found.into_iter().collect()
}

/// The problems no exception allows, and each exception that allows none
/// (done work: delete its entry).
fn unexpected(mut problems: Vec<String>, allowed: &[&str]) -> Vec<String> {
    let stale = allowed
        .iter()
        .filter(|a| !problems.iter().any(|p| p.contains(**a)))
        .map(|a| format!("exception {a:?} no longer needed: delete it"));
    let stale: Vec<String> = stale.collect();
    problems.retain(|p| !allowed.iter().any(|a| p.contains(a)));
    problems.extend(stale);
    problems
}

// ---------------------------------------------------------------------------
// Functions

/// `file:line name (N lines)` for every fn body over the limit.
fn long_functions(module: &Module) -> Vec<(String, usize, String)> {
    let code = &module.code;
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut search = 0;
    while let Some(found) = code[search..].find("fn ") {
        let at = search + found;
        search = at + 3;
        if ident_before_str(code, at) {
            continue;
        }
        let name: String = code[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        // The body: the first `{` before any `;` (a trait method without one has none).
        let Some(open) = code[at..].find(['{', ';']).map(|i| at + i) else {
            continue;
        };
        if bytes[open] == b';' {
            continue;
        }
        let close = open + 1 + matching_brace(&code[open + 1..]);
        let first = code[..at].matches('\n').count() + 1;
        let lines = code[open..close].matches('\n').count() + 1;
        if lines > MAX_FUNCTION_LINES {
            out.push((name, first, format!("{lines} lines")));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The rules

#[test]
fn the_graph_reads_nested_and_grouped_imports() {
    // The scanner must see what the rules are about, or they hold vacuously.
    let m = Module {
        path: "store::oci".into(),
        file: PathBuf::new(),
        code: without_test_items(&strip(
            "use crate::{pem, run::{Run, reference::ImageDigest}};\n\
             // use crate::watch;\n\
             let s = \"crate::attest\";\n\
             fn f() { super::gcs::x(); crate::sign::dsse::pae(); }\n\
             #[cfg(test)]\nmod tests { use crate::verify; }\n",
        )),
    };
    let named: BTreeSet<String> = named_paths(&m).iter().map(|p| p.join("::")).collect();
    let want: BTreeSet<String> = [
        "pem",
        "run::Run",
        "run::reference::ImageDigest",
        "store::gcs::x",
        "sign::dsse::pae",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(named, want);

    let graph: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), BTreeSet::from([b.to_string()])))
        .collect();
    assert_eq!(cycles(&graph), ["a → b → c → a"]);

    let long = Module {
        path: "x".into(),
        file: PathBuf::new(),
        code: format!("fn long() {{\n{}}}\nfn short() {{}}\n", "x;\n".repeat(130)),
    };
    assert_eq!(long_functions(&long).len(), 1);
}

#[test]
fn no_cycle_between_top_level_modules_or_sibling_submodules() {
    let modules = modules();
    let graph = import_graph(&modules);
    let mut problems = Vec::new();
    let parents: BTreeSet<String> = modules
        .iter()
        .filter_map(|m| m.path.rsplit_once("::").map(|(p, _)| p.to_string()))
        .chain([String::new()])
        .collect();
    for parent in &parents {
        for cycle in cycles(&children_graph(&graph, parent)) {
            let place = if parent.is_empty() { "crate" } else { parent };
            problems.push(format!("cycle in {place}: {cycle}"));
        }
    }
    let problems = unexpected(problems, TEMPORARY_CYCLES);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn arrows_point_down_the_pipeline() {
    let modules = modules();
    let graph = import_graph(&modules);
    let mut problems = Vec::new();
    for (from, tos) in &graph {
        if ENTRY.contains(&from.as_str()) {
            continue;
        }
        for to in tos {
            let (a, b) = (top(from), top(to));
            if a == b || !COMMANDS.contains(&b) {
                continue;
            }
            let rule = if COMMANDS.contains(&a) {
                "a command imports another command"
            } else {
                "a stage imports a command"
            };
            problems.push(format!("{from} → {to}: {rule}"));
        }
    }
    let allowed: Vec<&str> = TEMPORARY_ARROWS.iter().map(|(arrow, _)| *arrow).collect();
    let problems = unexpected(problems, &allowed);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_function_over_120_lines() {
    let root = common::root();
    let mut problems = Vec::new();
    for m in modules() {
        for (name, line, size) in long_functions(&m) {
            let file = m.file.strip_prefix(&root).unwrap_or(&m.file).display();
            problems.push(format!("{file}:{line} {}::{name} ({size})", m.path));
        }
    }
    let problems = unexpected(problems, TEMPORARY_LONG_FUNCTIONS);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
