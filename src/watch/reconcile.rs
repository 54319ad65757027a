//! What to do with one run, with Chains' semantics, and doing it.
//!
//! A run is attested once it is done and not yet marked
//! `chains.tekton.dev/signed` `true` or `failed`. A PipelineRun waits until
//! each child TaskRun is settled (marked, or one we will never mark). A
//! failure sets `chains.tekton.dev/retries` (`0`, then counting up) and after
//! three retries marks the run `failed`, as Chains does. What users of
//! Chains asked for: `chains.tekton.dev/skip: "true"` leaves a run alone,
//! `--only-successful` leaves failed runs alone, and a run is never marked
//! signed when no backend stored anything.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::kube::{ApiError, resource_version};
use super::log;
use super::metrics::Metrics;
use super::queue::{Key, Queue};
use crate::attest::{Product, RunError, Stages};
use crate::run::read::{self, Body, Decoded, Document, KindHint};
use crate::run::{Run, RunKind};

pub const SIGNED: &str = "chains.tekton.dev/signed";
pub const RETRIES: &str = "chains.tekton.dev/retries";
/// Our opt-out (tektoncd/chains#979).
pub const SKIP: &str = "chains.tekton.dev/skip";
/// Chains' `MaxRetries`.
pub const MAX_RETRIES: i64 = 3;

/// Which runs the controller attests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    pub only_successful: bool,
    /// TaskRuns are attested (their artifact type is enabled), so a
    /// PipelineRun waits for its children to be marked.
    pub taskruns_enabled: bool,
}

fn annotation<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.pointer("/metadata/annotations")?.get(key)?.as_str()
}

fn condition(o: &Value) -> Option<&str> {
    o.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Succeeded"))?
        .get("status")?
        .as_str()
}

/// Chains' `IsDone()`.
pub fn is_done(o: &Value) -> bool {
    matches!(condition(o), Some("True" | "False"))
}

/// Chains' `Reconciled()`: marked `true` or `failed`.
pub fn is_reconciled(o: &Value) -> bool {
    matches!(annotation(o, SIGNED), Some("true" | "failed"))
}

/// Why the controller leaves a done run alone, if it does.
fn excluded(o: &Value, policy: &Policy) -> Option<&'static str> {
    if annotation(o, SKIP) == Some("true") {
        return Some("skip annotation");
    }
    if policy.only_successful && condition(o) != Some("True") {
        return Some("not successful (--only-successful)");
    }
    None
}

/// A cheap test on a cached object: is there work to do for it?
pub fn wants(o: &Value, policy: &Policy) -> bool {
    is_done(o) && !is_reconciled(o) && excluded(o, policy).is_none()
}

/// Whether a PipelineRun need not wait for this child any more.
fn settled(child: &Value, policy: &Policy) -> bool {
    is_done(child)
        && (is_reconciled(child) || !policy.taskruns_enabled || excluded(child, policy).is_some())
}

/// What the cache keeps of a run: enough to decide and to order, not the
/// spec, the status details or Chains' (large) payload annotations. Workers
/// read full objects from the API when they attest.
pub fn slim(o: &Value) -> Value {
    let meta = o.get("metadata").cloned().unwrap_or(Value::Null);
    let pick = |v: &Value, keys: &[&str]| -> Value {
        let mut out = serde_json::Map::new();
        for k in keys {
            if let Some(x) = v.get(*k) {
                out.insert((*k).to_string(), x.clone());
            }
        }
        Value::Object(out)
    };
    let mut m = pick(
        &meta,
        &[
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "labels",
            "ownerReferences",
        ],
    );
    let kept: serde_json::Map<String, Value> = meta
        .get("annotations")
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter(|(k, _)| [SIGNED, RETRIES, SKIP].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    m["annotations"] = Value::Object(kept);
    let status = o.get("status").cloned().unwrap_or(Value::Null);
    json!({
        "metadata": m,
        "status": pick(&status, &["conditions", "completionTime", "childReferences"]),
    })
}

/// The queue priority: newest first, by completion, else creation time.
pub fn priority(o: &Value) -> String {
    o.pointer("/status/completionTime")
        .or_else(|| o.pointer("/metadata/creationTimestamp"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

#[derive(Debug)]
pub enum Decision {
    Ignore(&'static str),
    /// A PipelineRun waiting for this child TaskRun.
    Wait(String),
    Attest(Vec<Arc<Value>>),
}

/// Decide for a fresh copy of a run; `child` looks TaskRuns up by namespace and name.
pub fn decide(
    o: &Value,
    kind: RunKind,
    policy: &Policy,
    child: impl Fn(&str, &str) -> Option<Arc<Value>>,
) -> Decision {
    if !is_done(o) {
        return Decision::Ignore("not done");
    }
    if is_reconciled(o) {
        return Decision::Ignore("already marked");
    }
    if let Some(why) = excluded(o, policy) {
        return Decision::Ignore(why);
    }
    if kind == RunKind::TaskRun {
        return Decision::Attest(Vec::new());
    }
    let ns = o
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut children = Vec::new();
    let refs = o
        .pointer("/status/childReferences")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for r in refs {
        let k = r.get("kind").and_then(Value::as_str).unwrap_or("");
        let Some(name) = r.get("name").and_then(Value::as_str) else {
            continue;
        };
        if !(k.is_empty() || k == "TaskRun") {
            continue;
        }
        match child(ns, name) {
            Some(c) if settled(&c, policy) => children.push(c),
            _ => return Decision::Wait(name.to_string()),
        }
    }
    Decision::Attest(children)
}

/// The annotations a failure leaves (Chains' `HandleRetry`): the next retry
/// count, or `signed: failed` once the retries are spent. True when failed.
pub fn after_failure(o: &Value) -> (Vec<(String, String)>, bool) {
    match annotation(o, RETRIES).map(str::parse::<i64>) {
        None => (vec![(RETRIES.into(), "0".into())], false),
        Some(Ok(n)) if n < MAX_RETRIES => (vec![(RETRIES.into(), (n + 1).to_string())], false),
        _ => (vec![(SIGNED.into(), "failed".into())], true),
    }
}

/// A run object from the cluster as the attest pipeline reads runs.
pub fn to_run(o: Value) -> Option<Run> {
    let doc = Document {
        file: Arc::from("cluster"),
        index: 0,
        line: 1,
        body: Body::Json(o),
    };
    match read::decode(doc, KindHint::Infer).ok()?.pop()? {
        Decoded::Run(r) => Some(*r),
        Decoded::Skipped { .. } => None,
    }
}

/// The Kubernetes calls a worker makes (a seam for tests of the worker logic).
pub trait Runs: Send + Sync {
    /// The current object, `None` when it is gone.
    fn get(&self, key: &Key) -> Result<Option<Value>, ApiError>;
    /// Merge annotations into the run; with `version`, only into that version.
    fn annotate(
        &self,
        key: &Key,
        annotations: &[(String, String)],
        version: &str,
    ) -> Result<(), ApiError>;
}

/// Finds a cached TaskRun by namespace and name.
pub type ChildLookup = Arc<dyn Fn(&str, &str) -> Option<Arc<Value>> + Send + Sync>;

/// What a worker needs; shared by all workers.
pub struct Worker {
    pub runs: Arc<dyn Runs>,
    pub queue: Arc<Queue>,
    pub metrics: Arc<Metrics>,
    /// The stages and policy of the current config (swapped on reload).
    pub current: Arc<dyn Fn() -> (Arc<Stages>, Policy) + Send + Sync>,
    /// Cached TaskRuns, for a PipelineRun's children.
    pub child: ChildLookup,
    pub leading: Arc<dyn Fn() -> bool + Send + Sync>,
    pub retry_delay: Duration,
}

fn error_type(e: &RunError) -> &'static str {
    match e {
        RunError::Input(_) | RunError::Provenance(_) => "payload_creation",
        RunError::Sign { .. } => "signing",
        RunError::Store { source, .. } if source.backend == "rekor" => "tlog",
        RunError::Store { .. } | RunError::Write { .. } => "storage",
    }
}

/// The text of an error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl Worker {
    /// Work until the queue shuts down.
    pub fn run(&self) {
        while let Some(key) = self.queue.pop() {
            self.process(&key);
        }
    }

    fn process(&self, key: &Key) {
        let fields = |extra: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            let mut v = vec![
                ("kind", key.kind.as_str().to_string()),
                ("namespace", key.namespace.clone()),
                ("name", key.name.clone()),
            ];
            v.extend(extra.iter().map(|(k, x)| (*k, x.to_string())));
            v
        };
        let emit = |f: fn(&str, &[(&str, &str)]), msg: &str, extra: &[(&'static str, &str)]| {
            let v = fields(extra);
            let refs: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
            f(msg, &refs);
        };
        if !(self.leading)() {
            self.queue.done(key);
            return;
        }
        let started = Instant::now();
        // A fresh copy: the cache may lag behind another replica's marks.
        let object = match self.runs.get(key) {
            Ok(Some(o)) => o,
            Ok(None) => {
                self.queue.done(key);
                return;
            }
            Err(e) => {
                emit(
                    log::warn,
                    "cannot read run; trying again",
                    &[("error", &e.message)],
                );
                self.queue.retry_after(key, String::new(), self.retry_delay);
                return;
            }
        };
        let prio = priority(&object);
        let version = resource_version(&object).to_string();
        let (stages, policy) = (self.current)();
        let children = match decide(&object, key.kind, &policy, |ns, n| (self.child)(ns, n)) {
            Decision::Ignore(why) => {
                // It changed since it was queued (marked elsewhere, skipped).
                emit(log::info, "left alone", &[("reason", why)]);
                self.queue.done(key);
                return;
            }
            Decision::Wait(child) => {
                // The child's own update queues this PipelineRun again.
                emit(
                    log::info,
                    "waiting for a child TaskRun",
                    &[("child", &child)],
                );
                self.queue.done(key);
                return;
            }
            Decision::Attest(c) => c,
        };
        let Some(run) = to_run(object.clone()) else {
            emit(log::warn, "not a TaskRun or PipelineRun; ignored", &[]);
            self.queue.done(key);
            return;
        };
        // The cache holds slim copies: read each child in full.
        let mut kids: Vec<Run> = Vec::with_capacity(children.len());
        for c in &children {
            let child = Key {
                kind: RunKind::TaskRun,
                namespace: key.namespace.clone(),
                name: c
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            };
            match self.runs.get(&child) {
                Ok(Some(full)) => kids.extend(to_run(full)),
                Ok(None) => {}
                Err(e) => {
                    emit(
                        log::warn,
                        "cannot read a child TaskRun; trying again",
                        &[("error", &e.message)],
                    );
                    self.queue.retry_after(key, prio, self.retry_delay);
                    return;
                }
            }
        }
        let kid_refs: Vec<&Run> = kids.iter().collect();
        match stages.attest(&run, &kid_refs) {
            Ok((
                _,
                Product::Signed {
                    receipt: Some(receipt),
                    images,
                    ..
                },
            )) if receipt.stored > 0 => {
                let m = self.metrics.kind(key.kind);
                use std::sync::atomic::Ordering::Relaxed;
                m.sign_created.fetch_add(1 + images.len() as u64, Relaxed);
                m.payload_uploaded
                    .fetch_add(receipt.uploaded as u64, Relaxed);
                m.payload_stored.fetch_add(receipt.stored as u64, Relaxed);
                if !(self.leading)() {
                    // The lease may be another replica's by now.
                    emit(
                        log::warn,
                        "leadership lapsed while attesting; left unmarked for the leader",
                        &[],
                    );
                    self.queue.done(key);
                    return;
                }
                match self.mark(key, &receipt.annotations, &version) {
                    Ok(true) => {
                        m.marked_signed.fetch_add(1, Relaxed);
                        self.metrics.observe(key.kind, started.elapsed());
                        emit(log::info, "marked signed", &[]);
                    }
                    Ok(false) => emit(log::info, "already marked by another replica", &[]),
                    Err(e) => {
                        self.metrics.failure(key.kind, "marking");
                        emit(
                            log::warn,
                            "cannot mark run; trying again",
                            &[("error", &e.message)],
                        );
                        self.queue.retry_after(key, prio, self.retry_delay);
                        return;
                    }
                }
                self.queue.done(key);
            }
            Ok((_, Product::Signed { .. })) => {
                // Chains marks such runs signed (tektoncd/chains#858, #1796); we do not.
                emit(
                    log::warn,
                    "signed, but no storage backend is configured for it: not marked signed",
                    &[],
                );
                self.queue.done(key);
            }
            Ok(_) => {
                // Signer `none` for this kind: Chains leaves it alone too.
                self.queue.done(key);
            }
            Err(e) => {
                self.metrics.failure(key.kind, error_type(&e));
                let message = chain(&e);
                let (annotations, failed) = after_failure(&object);
                if let Err(pe) = self.runs.annotate(key, &annotations, "") {
                    emit(
                        log::warn,
                        "cannot record the failure",
                        &[("error", &pe.message)],
                    );
                }
                if failed {
                    emit(
                        log::error,
                        "attestation failed; retries spent, marked failed",
                        &[("error", &message)],
                    );
                    self.queue.done(key);
                } else {
                    let n: u32 = annotations[0].1.parse().unwrap_or(0);
                    emit(
                        log::warn,
                        "attestation failed; will retry",
                        &[("error", &message), ("retries", &annotations[0].1)],
                    );
                    let delay = self.retry_delay.saturating_mul(1 << n.min(10));
                    self.queue.retry_after(key, prio, delay);
                }
            }
        }
    }

    /// Set the signed annotations. With a resourceVersion the write is
    /// conditional; on a conflict, re-read: false when someone else marked it.
    fn mark(
        &self,
        key: &Key,
        annotations: &[(String, String)],
        version: &str,
    ) -> Result<bool, ApiError> {
        match self.runs.annotate(key, annotations, version) {
            Ok(()) => Ok(true),
            Err(e) if e.is(409) => match self.runs.get(key)? {
                Some(o) if is_reconciled(&o) => Ok(false),
                Some(o) => self
                    .runs
                    .annotate(key, annotations, resource_version(&o))
                    .map(|()| true),
                None => Ok(false),
            },
            Err(e) => Err(e),
        }
    }
}

/// The merge patch for annotations, conditional on `version` when given.
pub fn annotation_patch(annotations: &[(String, String)], version: &str) -> Value {
    let map: serde_json::Map<String, Value> = annotations
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut patch = json!({"metadata": {"annotations": map}});
    if !version.is_empty() {
        patch["metadata"]["resourceVersion"] = json!(version);
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ann: Value, status: &str) -> Value {
        json!({"metadata": {"namespace": "ns", "name": "r", "annotations": ann},
               "status": {"conditions": [{"type": "Succeeded", "status": status}],
                          "childReferences": [{"kind": "TaskRun", "name": "c"}]}})
    }

    fn policy() -> Policy {
        Policy {
            only_successful: false,
            taskruns_enabled: true,
        }
    }

    #[test]
    fn done_unmarked_runs_are_attested() {
        let none = |_: &str, _: &str| None;
        assert!(matches!(
            decide(&run(json!({}), "True"), RunKind::TaskRun, &policy(), none),
            Decision::Attest(_)
        ));
        assert!(matches!(
            decide(&run(json!({}), "False"), RunKind::TaskRun, &policy(), none),
            Decision::Attest(_)
        ));
        assert!(matches!(
            decide(
                &run(json!({}), "Unknown"),
                RunKind::TaskRun,
                &policy(),
                none
            ),
            Decision::Ignore(_)
        ));
        for v in ["true", "failed"] {
            assert!(matches!(
                decide(
                    &run(json!({SIGNED: v}), "True"),
                    RunKind::TaskRun,
                    &policy(),
                    none
                ),
                Decision::Ignore(_)
            ));
        }
        assert!(matches!(
            decide(
                &run(json!({SKIP: "true"}), "True"),
                RunKind::TaskRun,
                &policy(),
                none
            ),
            Decision::Ignore("skip annotation")
        ));
        let only = Policy {
            only_successful: true,
            ..policy()
        };
        assert!(matches!(
            decide(&run(json!({}), "False"), RunKind::TaskRun, &only, none),
            Decision::Ignore(_)
        ));
    }

    #[test]
    fn pipelineruns_wait_for_their_children() {
        let pr = run(json!({}), "True");
        let unmarked = Arc::new(run(json!({}), "True"));
        let marked = Arc::new(run(json!({SIGNED: "true"}), "True"));
        let skipped = Arc::new(run(json!({SKIP: "true"}), "True"));
        let p = policy();
        assert!(matches!(
            decide(&pr, RunKind::PipelineRun, &p, |_, _| None),
            Decision::Wait(_)
        ));
        assert!(matches!(
            decide(&pr, RunKind::PipelineRun, &p, |_, _| Some(unmarked.clone())),
            Decision::Wait(_)
        ));
        assert!(
            matches!(decide(&pr, RunKind::PipelineRun, &p, |_, _| Some(marked.clone())), Decision::Attest(c) if c.len() == 1)
        );
        assert!(matches!(
            decide(&pr, RunKind::PipelineRun, &p, |_, _| Some(skipped.clone())),
            Decision::Attest(_)
        ));
        let disabled = Policy {
            taskruns_enabled: false,
            ..p
        };
        assert!(matches!(
            decide(&pr, RunKind::PipelineRun, &disabled, |_, _| Some(
                unmarked.clone()
            )),
            Decision::Attest(_)
        ));
    }

    #[test]
    fn failures_count_retries_then_fail() {
        let step = |ann: Value| after_failure(&run(ann, "True"));
        assert_eq!(step(json!({})), (vec![(RETRIES.into(), "0".into())], false));
        assert_eq!(
            step(json!({RETRIES: "2"})),
            (vec![(RETRIES.into(), "3".into())], false)
        );
        assert_eq!(
            step(json!({RETRIES: "3"})),
            (vec![(SIGNED.into(), "failed".into())], true)
        );
        assert!(step(json!({RETRIES: "x"})).1);
    }

    #[test]
    fn newest_first_priority() {
        let o = json!({"metadata": {"creationTimestamp": "2024-01-01T00:00:00Z"},
                       "status": {"completionTime": "2024-01-02T00:00:00Z"}});
        assert_eq!(priority(&o), "2024-01-02T00:00:00Z");
    }
}
