//! Attaching child TaskRuns to their PipelineRun.
//!
//! In a cluster, Chains finds a PipelineRun's TaskRuns through its
//! `status.childReferences`. Offline we have whatever the user exported, so a
//! TaskRun belongs to a PipelineRun (same namespace) when any of these hold:
//! an ownerReference of kind PipelineRun with the PipelineRun's uid; the
//! `tekton.dev/pipelineRun` label names it; its childReferences name the
//! TaskRun. A TaskRun given as context (`--taskruns`) that carries none of
//! these links (Chains' test fixtures, hand-written runs) is attached when the
//! inputs hold exactly one PipelineRun.

use std::collections::{HashMap, HashSet};

use super::{Run, RunKind, array_at, str_at};

/// Children a PipelineRun lists by name: (namespace, TaskRun name).
pub fn listed_children(pipeline: &Run) -> impl Iterator<Item = (String, String)> + '_ {
    let ns = pipeline.meta().namespace();
    array_at(pipeline.status(), "childReferences")
        .iter()
        .filter(|c| matches!(str_at(Some(c), "kind"), "" | "TaskRun"))
        .map(move |c| (ns.to_string(), str_at(Some(c), "name").to_string()))
}

/// Whether a TaskRun may belong to a PipelineRun, so that it must be kept
/// until the end of a stream: it links to one (ownerReference or label), or
/// a PipelineRun already seen lists it (`listed`, from [`listed_children`]).
pub fn may_be_child(run: &Run, listed: &HashSet<(String, String)>) -> bool {
    if run.kind != RunKind::TaskRun {
        return false;
    }
    let m = run.meta();
    m.label("tekton.dev/pipelineRun").is_some()
        || m.owner_references()
            .iter()
            .any(|o| str_at(Some(o), "kind") == "PipelineRun")
        || (!m.name().is_empty()
            && listed.contains(&(m.namespace().to_string(), m.name().to_string())))
}

/// For each run index, the indices of its children (empty for TaskRuns), in input order.
pub fn children(runs: &[&Run], context_only: &[bool]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); runs.len()];
    let pipelines: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].kind == RunKind::PipelineRun)
        .collect();
    if pipelines.is_empty() {
        return out;
    }

    // Index PipelineRuns by uid, by (namespace, name), and by the children they list.
    let mut by_uid: HashMap<&str, usize> = HashMap::new();
    let mut by_name: HashMap<(&str, &str), usize> = HashMap::new();
    let mut by_child: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for &p in &pipelines {
        let m = runs[p].meta();
        if !m.uid().is_empty() {
            by_uid.insert(m.uid(), p);
        }
        if !m.name().is_empty() {
            by_name.insert((m.namespace(), m.name()), p);
        }
        for c in array_at(runs[p].status(), "childReferences") {
            let kind = str_at(Some(c), "kind");
            let name = str_at(Some(c), "name");
            if !name.is_empty() && (kind.is_empty() || kind == "TaskRun") {
                by_child.entry((m.namespace(), name)).or_default().push(p);
            }
        }
    }

    for (t, run) in runs.iter().enumerate() {
        if run.kind != RunKind::TaskRun {
            continue;
        }
        let m = run.meta();
        let mut parents: Vec<usize> = Vec::new();
        let mut linked = false;
        for o in m.owner_references() {
            if str_at(Some(o), "kind") == "PipelineRun" {
                linked = true;
                if let Some(&p) = by_uid.get(str_at(Some(o), "uid")) {
                    parents.push(p);
                }
            }
        }
        if let Some(pr_name) = m.label("tekton.dev/pipelineRun") {
            linked = true;
            if let Some(&p) = by_name.get(&(m.namespace(), pr_name)) {
                parents.push(p);
            }
        }
        if !m.name().is_empty()
            && let Some(ps) = by_child.get(&(m.namespace(), m.name()))
        {
            linked = true;
            parents.extend(ps);
        }
        if !linked && context_only[t] && pipelines.len() == 1 {
            parents.push(pipelines[0]);
        }
        parents.sort_unstable();
        parents.dedup();
        for p in parents {
            out[p].push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Origin, Syntax};
    use serde_json::{Value, json};
    use std::sync::Arc;

    fn run(kind: RunKind, object: Value) -> Run {
        Run {
            kind,
            object,
            source_api_version: "tekton.dev/v1".into(),
            original: None,
            syntax: Syntax::Json,
            origin: Origin {
                file: Arc::from("t"),
                document: 0,
                item: None,
                line: 1,
            },
        }
    }

    #[test]
    fn links_by_owner_label_and_child_reference() {
        let pr = run(
            RunKind::PipelineRun,
            json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
                   "status": {"childReferences": [{"kind": "TaskRun", "name": "c"}]}}),
        );
        let by_owner = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "a", "namespace": "ns",
                   "ownerReferences": [{"kind": "PipelineRun", "uid": "u1"}]}}),
        );
        let by_label = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "b", "namespace": "ns", "labels": {"tekton.dev/pipelineRun": "p"}}}),
        );
        let by_ref = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "c", "namespace": "ns"}}),
        );
        let other_ns = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "d", "namespace": "x", "labels": {"tekton.dev/pipelineRun": "p"}}}),
        );
        let unrelated = run(
            RunKind::TaskRun,
            json!({"metadata": {"name": "e", "namespace": "ns"}}),
        );
        let runs = [&pr, &by_owner, &by_label, &by_ref, &other_ns, &unrelated];
        let c = children(&runs, &[false; 6]);
        assert_eq!(c[0], vec![1, 2, 3]);
    }

    #[test]
    fn unlinked_context_taskruns_join_the_only_pipelinerun() {
        let pr = run(RunKind::PipelineRun, json!({"metadata": {}}));
        let tr = run(RunKind::TaskRun, json!({"metadata": {}}));
        assert_eq!(children(&[&pr, &tr], &[false, true])[0], vec![1]);
        // Not when given as a run to attest: it may well be unrelated.
        assert!(children(&[&pr, &tr], &[false, false])[0].is_empty());
    }
}
