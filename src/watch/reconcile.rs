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

use super::log;
use super::metrics::Metrics;
use super::queue::{Key, Queue};
use crate::annotations::{RETRIES, SIGNED, SKIP};
pub use crate::k8s::is_reconciled;
use crate::k8s::{ApiError, Marked, resource_version};
use crate::pipeline::{Product, Receipt, RunError, Stages};
use crate::run::{Run, RunKind, group};

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
    let status = o.get("status").unwrap_or(&Value::Null);
    json!({
        "metadata": kept_metadata(o),
        "status": pick(status, &["conditions", "completionTime", "childReferences"]),
    })
}

/// Of a run (or its `PartialObjectMetadata`), only the `metadata` fields
/// the controller decides by: its name, uid, times, labels, owners and
/// Chains' state annotations; no `managedFields`, no payloads.
pub fn slim_metadata(o: &Value) -> Value {
    json!({ "metadata": kept_metadata(o) })
}

/// The fields `keys` of an object that has them, as a new object.
fn pick(v: &Value, keys: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            out.insert((*k).to_string(), x.clone());
        }
    }
    Value::Object(out)
}

fn kept_metadata(o: &Value) -> Value {
    let meta = o.get("metadata").unwrap_or(&Value::Null);
    let mut m = pick(
        meta,
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
    m
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
    /// Attest it, once a PipelineRun's listed children (namespace, name)
    /// are read and found settled.
    Attest(Vec<(String, String)>),
}

/// Decide for a run; `pending` says whether a TaskRun (namespace, name) is
/// known to want work, which a PipelineRun waits for without reading it.
/// A PipelineRun's children are the ones it lists
/// ([`group::listed_children`], as attest finds them).
pub fn decide(run: &Run, policy: &Policy, pending: impl Fn(&str, &str) -> bool) -> Decision {
    let o = &run.object;
    if !is_done(o) {
        return Decision::Ignore("not done");
    }
    if is_reconciled(o) {
        return Decision::Ignore("already marked");
    }
    if let Some(why) = excluded(o, policy) {
        return Decision::Ignore(why);
    }
    if run.kind == RunKind::TaskRun {
        return Decision::Attest(Vec::new());
    }
    let children: Vec<(String, String)> = group::listed_children(run).collect();
    if policy.taskruns_enabled
        && let Some((_, name)) = children.iter().find(|(ns, n)| pending(ns, n))
    {
        return Decision::Wait(name.clone());
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

/// The Kubernetes calls a worker makes, and the controller's copies of runs
/// (a seam for tests of the worker logic).
pub trait Runs: Send + Sync {
    /// The object the watch delivered, while nothing we wrote to the run is
    /// still unseen by the watch (else the copy may predate our write).
    fn delivered(&self, key: &Key) -> Option<Arc<Value>>;
    /// The current object from the API, `None` when it is gone.
    fn get(&self, key: &Key) -> Result<Option<Value>, ApiError>;
    /// Merge annotations into the run ([`crate::k8s::Kube::mark_run`]);
    /// with `version`, only into that version (re-read on a conflict).
    fn mark(
        &self,
        key: &Key,
        annotations: &[(String, String)],
        version: &str,
    ) -> Result<Marked, ApiError>;
    /// The run needs nothing more (left alone, or gone).
    fn settle(&self, key: &Key);
    /// Whether a run is known to want work.
    fn is_pending(&self, kind: RunKind, namespace: &str, name: &str) -> bool;
}

/// What a worker needs; shared by all workers.
pub struct Worker {
    pub runs: Arc<dyn Runs>,
    pub queue: Arc<Queue>,
    pub metrics: Arc<Metrics>,
    /// The stages and policy of the current config (swapped on reload).
    pub current: Arc<dyn Fn() -> (Arc<Stages>, Policy) + Send + Sync>,
    /// Whether this replica may work on a run now (leads its bucket).
    pub leading: Arc<dyn Fn(&Key) -> bool + Send + Sync>,
    pub retry_delay: Duration,
    /// The deadline of one run's remote calls (`--timeout`).
    pub run_timeout: Duration,
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

/// Log lines about one run: its kind, namespace and name, then the rest.
struct RunLog<'a>(&'a Key);

impl RunLog<'_> {
    fn emit(&self, f: fn(&str, &[(&str, &str)]), msg: &str, extra: &[(&str, &str)]) {
        let mut fields = vec![
            ("kind", self.0.kind.as_str()),
            ("namespace", self.0.namespace.as_str()),
            ("name", self.0.name.as_str()),
        ];
        fields.extend_from_slice(extra);
        f(msg, &fields);
    }
    fn info(&self, msg: &str, extra: &[(&str, &str)]) {
        self.emit(log::info, msg, extra);
    }
    fn warn(&self, msg: &str, extra: &[(&str, &str)]) {
        self.emit(log::warn, msg, extra);
    }
    fn error(&self, msg: &str, extra: &[(&str, &str)]) {
        self.emit(log::error, msg, extra);
    }
}

impl Worker {
    /// Work until the queue shuts down.
    pub fn run(&self) {
        while let Some(key) = self.queue.pop() {
            self.process(&key);
        }
    }

    /// One run from the queue: read, decide, attest, then mark it or record
    /// the failure. Every path ends with `done` or `retry_after` on the queue.
    fn process(&self, key: &Key) {
        let log = RunLog(key);
        if !(self.leading)(key) {
            self.queue.done(key);
            return;
        }
        let started = Instant::now();
        let Some(object) = self.read(key, &log) else {
            return;
        };
        let run = Run::from_api(key.kind, Arc::unwrap_or_clone(object));
        let prio = priority(&run.object);
        let (stages, policy) = (self.current)();
        let Some(children) = self.children(key, &run, &policy, &prio, &log) else {
            return;
        };
        let kid_refs: Vec<&Run> = children.iter().collect();
        // Every remote call of this run ends by the run's deadline, so a hung
        // backend holds this worker for that long at most.
        let attested =
            crate::deadline::within(Some(self.run_timeout), || stages.attest(&run, &kid_refs));
        match attested {
            Ok((
                _,
                Product::Signed {
                    receipt: Some(receipt),
                    images,
                    ..
                },
            )) if receipt.stored > 0 => {
                self.count_signed(key.kind, &receipt, images.len());
                self.mark_signed(key, &run, &receipt.annotations, &prio, started, &log);
            }
            Ok((_, Product::Signed { .. })) => {
                // Chains marks such runs signed (tektoncd/chains#858, #1796); we do not.
                log.warn(
                    "signed, but no storage backend is configured for it: not marked signed",
                    &[],
                );
                self.queue.done(key);
            }
            // Signer `none` for this kind: Chains leaves it alone too (a
            // config that enables it reaches it at the next list).
            Ok(_) => {
                self.runs.settle(key);
                self.queue.done(key);
            }
            Err(e) => self.record_failure(key, &run, &e, prio, &log),
        }
    }

    /// The run as the watch delivered it, or else as the API has it now.
    /// `None` when there is nothing to do (gone, or queued for a retry).
    fn read(&self, key: &Key, log: &RunLog) -> Option<Arc<Value>> {
        if let Some(o) = self.runs.delivered(key) {
            return Some(o);
        }
        match self.runs.get(key) {
            Ok(Some(o)) => Some(Arc::new(o)),
            Ok(None) => {
                self.runs.settle(key);
                self.queue.done(key);
                None
            }
            Err(e) => {
                log.warn("cannot read run; trying again", &[("error", &e.message)]);
                self.queue.retry_after(key, String::new(), self.retry_delay);
                None
            }
        }
    }

    /// Decide, and read a PipelineRun's children in full (the controller
    /// keeps none). `None` when the run is not to be attested now.
    fn children(
        &self,
        key: &Key,
        run: &Run,
        policy: &Policy,
        prio: &str,
        log: &RunLog,
    ) -> Option<Vec<Run>> {
        let pending = |ns: &str, n: &str| self.runs.is_pending(RunKind::TaskRun, ns, n);
        let listed = match decide(run, policy, pending) {
            Decision::Ignore(why) => {
                // Not done, marked elsewhere, skipped: nothing to keep.
                log.info("left alone", &[("reason", why)]);
                self.runs.settle(key);
                self.queue.done(key);
                return None;
            }
            Decision::Wait(child) => {
                // The child's settling queues this PipelineRun again.
                log.info("waiting for a child TaskRun", &[("child", &child)]);
                self.queue.done(key);
                return None;
            }
            Decision::Attest(c) => c,
        };
        let mut kids = Vec::with_capacity(listed.len());
        for (namespace, name) in listed {
            let child = Key {
                kind: RunKind::TaskRun,
                namespace,
                name,
            };
            match self.runs.get(&child) {
                Ok(Some(full)) if policy.taskruns_enabled && !settled(&full, policy) => {
                    log.info("waiting for a child TaskRun", &[("child", &child.name)]);
                    self.queue.done(key);
                    return None;
                }
                Ok(Some(full)) => kids.push(Run::from_api(RunKind::TaskRun, full)),
                Ok(None) => {}
                Err(e) => {
                    log.warn(
                        "cannot read a child TaskRun; trying again",
                        &[("error", &e.message)],
                    );
                    self.queue
                        .retry_after(key, prio.to_string(), self.retry_delay);
                    return None;
                }
            }
        }
        Some(kids)
    }

    fn count_signed(&self, kind: RunKind, receipt: &Receipt, images: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let m = self.metrics.kind(kind);
        m.sign_created.fetch_add(1 + images as u64, Relaxed);
        m.payload_uploaded
            .fetch_add(receipt.uploaded as u64, Relaxed);
        m.payload_stored.fetch_add(receipt.stored as u64, Relaxed);
    }

    /// Mark a stored run signed (one write), if this replica still leads.
    fn mark_signed(
        &self,
        key: &Key,
        run: &Run,
        annotations: &[(String, String)],
        prio: &str,
        started: Instant,
        log: &RunLog,
    ) {
        if !(self.leading)(key) {
            // The lease may be another replica's by now.
            log.warn(
                "leadership lapsed while attesting; left unmarked for the leader",
                &[],
            );
            self.queue.done(key);
            return;
        }
        match self
            .runs
            .mark(key, annotations, resource_version(&run.object))
        {
            Ok(Marked::Written) => {
                use std::sync::atomic::Ordering::Relaxed;
                self.metrics
                    .kind(key.kind)
                    .marked_signed
                    .fetch_add(1, Relaxed);
                self.metrics.observe(key.kind, started.elapsed());
                log.info("marked signed", &[]);
            }
            Ok(Marked::ByAnother) => log.info("already marked by another replica", &[]),
            Ok(Marked::Gone) => log.info("deleted before it was marked", &[]),
            Err(e) => {
                self.metrics.failure(key.kind, "marking");
                log.warn("cannot mark run; trying again", &[("error", &e.message)]);
                self.queue
                    .retry_after(key, prio.to_string(), self.retry_delay);
                return;
            }
        }
        self.queue.done(key);
    }

    /// Chains' `HandleRetry`: count the retry on the run (or mark it failed
    /// once they are spent) and try again later, doubling the delay.
    fn record_failure(&self, key: &Key, run: &Run, e: &RunError, prio: String, log: &RunLog) {
        let message = chain(e);
        // The backend was not tried (given up on after failing for other
        // runs): this run has not failed, so it keeps its retries and comes
        // back when the backend is tried again. Counting it would mark runs
        // failed for good while their backend recovers.
        if let RunError::Store { source, .. } = e
            && let Some(left) = source.deferred
        {
            log.warn(
                "storage backend given up on for now; run deferred, no retry counted",
                &[("error", &message)],
            );
            self.queue
                .retry_after(key, prio, left.max(self.retry_delay));
            return;
        }
        self.metrics.failure(key.kind, error_type(e));
        let (annotations, failed) = after_failure(&run.object);
        if let Err(pe) = self.runs.mark(key, &annotations, "") {
            log.warn("cannot record the failure", &[("error", &pe.message)]);
        }
        if failed {
            log.error(
                "attestation failed; retries spent, marked failed",
                &[("error", &message)],
            );
            self.queue.done(key);
        } else {
            let n: u32 = annotations[0].1.parse().unwrap_or(0);
            log.warn(
                "attestation failed; will retry",
                &[("error", &message), ("retries", &annotations[0].1)],
            );
            let delay = self.retry_delay.saturating_mul(1 << n.min(10));
            self.queue.retry_after(key, prio, delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ann: Value, status: &str) -> Value {
        json!({"metadata": {"namespace": "ns", "name": "r", "annotations": ann},
               "status": {"conditions": [{"type": "Succeeded", "status": status}],
                          "childReferences": [{"kind": "TaskRun", "name": "c"}]}})
    }

    /// What the cache keeps of a listed run's metadata is what it decides
    /// by: no managedFields, no payloads, and no `status` (which would make
    /// it look like a full object).
    #[test]
    fn slim_metadata_keeps_what_decisions_read() {
        let listed = json!({"kind": "PartialObjectMetadata", "metadata": {
            "name": "r", "namespace": "ns", "uid": "u", "resourceVersion": "7",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"tekton.dev/pipelineRun": "p"},
            "ownerReferences": [{"kind": "PipelineRun", "name": "p"}],
            "annotations": {SIGNED: "true", "chains.tekton.dev/payload-taskrun-r": "eyJ9",
                            "kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "managedFields": [{"manager": "controller", "fieldsV1": {"f:status": {}}}]}});
        assert_eq!(
            slim_metadata(&listed),
            json!({"metadata": {
                "name": "r", "namespace": "ns", "uid": "u",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"tekton.dev/pipelineRun": "p"},
                "ownerReferences": [{"kind": "PipelineRun", "name": "p"}],
                "annotations": {SIGNED: "true"}}})
        );
        assert_eq!(
            slim_metadata(&json!("not an object")),
            json!({"metadata": {"annotations": {}}})
        );
    }

    /// `decide` on a bare object of `kind`.
    fn decide(
        o: &Value,
        kind: RunKind,
        policy: &Policy,
        pending: impl Fn(&str, &str) -> bool,
    ) -> Decision {
        super::decide(&Run::from_api(kind, o.clone()), policy, pending)
    }

    fn policy() -> Policy {
        Policy {
            only_successful: false,
            taskruns_enabled: true,
        }
    }

    #[test]
    fn done_unmarked_runs_are_attested() {
        let none = |_: &str, _: &str| false;
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
        let p = policy();
        assert!(matches!(
            decide(&pr, RunKind::PipelineRun, &p, |_, n| n == "c"),
            Decision::Wait(c) if c == "c"
        ));
        assert!(matches!(
            decide(&pr, RunKind::PipelineRun, &p, |_, _| false),
            Decision::Attest(c) if c == [("ns".to_string(), "c".to_string())]
        ));
        let disabled = Policy {
            taskruns_enabled: false,
            ..p
        };
        assert!(matches!(
            decide(&pr, RunKind::PipelineRun, &disabled, |_, _| true),
            Decision::Attest(_)
        ));
    }

    #[test]
    fn a_child_is_settled_once_marked_or_left_alone() {
        let p = policy();
        assert!(!settled(&run(json!({}), "True"), &p));
        assert!(!settled(&run(json!({SIGNED: "true"}), "Unknown"), &p));
        assert!(settled(&run(json!({SIGNED: "true"}), "True"), &p));
        assert!(settled(&run(json!({SKIP: "true"}), "True"), &p));
        let disabled = Policy {
            taskruns_enabled: false,
            ..p
        };
        assert!(settled(&run(json!({}), "True"), &disabled));
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
