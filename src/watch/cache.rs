//! The controller's view of the runs in the cluster: a slim copy of every
//! run (enough to decide and order), the full object of runs still to be
//! attested as the watch delivered it (so a worker need not read it again),
//! and what this replica wrote that the watch has not shown back yet.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::informer::{Change, Sink};
use super::lease::Fence;
use super::queue::{Key, Queue};
use super::reconcile::{self, Policy};
use super::settings::{self, Keys};
use super::{WatchError, log};
use crate::config::Config;
use crate::k8s::{ApiError, Kube, Marked, RunRef};
use crate::pipeline::Stages;
use crate::run::RunKind;

/// Full objects kept for runs waiting to be attested, at most. Beyond it
/// (a backlog), workers read the run from the API instead: memory stays
/// bounded (runs are ~50 KB at most) while a steady stream of new runs
/// costs one write each and no read.
const DELIVERED_LIMIT: usize = 256;

/// What the stages are built from, kept to build them again: for a new
/// config, and before a keyless certificate runs out (Fulcio's last about
/// ten minutes; a controller runs for days).
pub struct Rebuild {
    pub config: Config,
    pub keys: Keys,
    pub only_successful: bool,
}

/// The cache, the current config's stages, and leadership: what informers
/// feed and workers read.
pub struct Controller {
    pub runs: RwLock<HashMap<Key, Arc<Value>>>,
    /// Full objects of runs that want work, as last delivered.
    delivered: Mutex<HashMap<Key, Arc<Value>>>,
    /// Annotations we wrote to a run that no delivered copy shows yet: until
    /// one does, copies may predate our write, and workers read the API.
    written: Mutex<HashMap<Key, Vec<(String, String)>>>,
    current: RwLock<(Arc<Stages>, Policy)>,
    /// Held while stages are built, so that one worker renews a certificate.
    rebuild: Mutex<Rebuild>,
    /// New stages when a signer has less than this left.
    refresh_before: Duration,
    pub queue: Arc<Queue>,
    /// Whether (and until when) this replica leads.
    pub fence: Arc<Fence>,
}

fn key_of(kind: RunKind, o: &Value) -> Option<Key> {
    let m = o.get("metadata")?;
    Some(Key {
        kind,
        namespace: m
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        name: m.get("name").and_then(Value::as_str)?.to_string(),
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether an object carries every annotation of `written`.
fn shows(o: &Value, written: &[(String, String)]) -> bool {
    let a = o.pointer("/metadata/annotations");
    written
        .iter()
        .all(|(k, v)| a.and_then(|a| a.get(k)).and_then(Value::as_str) == Some(v))
}

impl Controller {
    /// Build the first stages (blocking: keys may be fetched).
    pub fn new(
        rebuild: Rebuild,
        refresh_before: Duration,
        queue: Arc<Queue>,
        fence: Arc<Fence>,
    ) -> Result<Self, WatchError> {
        let (stages, policy) =
            settings::build(&rebuild.config, &rebuild.keys, rebuild.only_successful)?;
        Ok(Controller {
            runs: RwLock::new(HashMap::new()),
            delivered: Mutex::new(HashMap::new()),
            written: Mutex::new(HashMap::new()),
            current: RwLock::new((Arc::new(stages), policy)),
            rebuild: Mutex::new(rebuild),
            refresh_before,
            queue,
            fence,
        })
    }

    /// Stages for a new config (blocking); the old ones stay on error.
    pub fn apply_config(&self, config: Config) -> Result<(), WatchError> {
        let mut r = lock(&self.rebuild);
        let built = settings::build(&config, &r.keys, r.only_successful)?;
        r.config = config;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = (Arc::new(built.0), built.1);
        Ok(())
    }

    fn expiring(&self, stages: &Stages) -> bool {
        stages.signers_expire().is_some_and(|t| {
            t.duration_since(SystemTime::now())
                .map_or(true, |left| left < self.refresh_before)
        })
    }

    /// The stages a worker attests a run with. When a keyless certificate
    /// is near its end, the first worker to see it builds new stages (a new
    /// certificate) while the others wait; a failure is logged and the old
    /// stages kept (signing then fails and the run is retried).
    pub fn stages(&self) -> (Arc<Stages>, Policy) {
        let current = || {
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        };
        let cur = current();
        if !self.expiring(&cur.0) {
            return cur;
        }
        let r = lock(&self.rebuild);
        let cur = current();
        if !self.expiring(&cur.0) {
            return cur;
        }
        match settings::build(&r.config, &r.keys, r.only_successful) {
            Ok((stages, policy)) => {
                let fresh = (Arc::new(stages), policy);
                let until = fresh.0.signers_expire().map(rfc3339).unwrap_or_default();
                log::info(
                    "renewed the keyless certificate",
                    &[("valid-until", &until)],
                );
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
                fresh
            }
            Err(e) => {
                log::error(
                    "cannot renew the keyless certificate; keeping the current one",
                    &[("error", &format!("{:?}", miette::Report::new(e)))],
                );
                cur
            }
        }
    }

    fn policy(&self) -> Policy {
        self.current.read().unwrap_or_else(|p| p.into_inner()).1
    }

    fn consider(&self, key: Key, o: &Value) {
        if self.fence.holds() && reconcile::wants(o, &self.policy()) {
            self.queue.add(key, reconcile::priority(o));
        }
    }

    /// A cached TaskRun by namespace and name.
    pub fn cached_taskrun(&self, namespace: &str, name: &str) -> Option<Arc<Value>> {
        let key = Key {
            kind: RunKind::TaskRun,
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        self.runs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
    }

    /// A TaskRun changed: its PipelineRun may have been waiting for it.
    fn wake_parent(&self, o: &Value) {
        let Some(ns) = o.pointer("/metadata/namespace").and_then(Value::as_str) else {
            return;
        };
        let parent = o
            .pointer("/metadata/labels/tekton.dev~1pipelineRun")
            .and_then(Value::as_str)
            .or_else(|| {
                o.pointer("/metadata/ownerReferences")?
                    .as_array()?
                    .iter()
                    .find(|r| r.get("kind").and_then(Value::as_str) == Some("PipelineRun"))?
                    .get("name")?
                    .as_str()
            });
        let Some(parent) = parent else { return };
        let key = Key {
            kind: RunKind::PipelineRun,
            namespace: ns.to_string(),
            name: parent.to_string(),
        };
        let cached = self
            .runs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let Some(p) = cached {
            self.consider(key, &p);
        }
    }

    fn upsert(&self, kind: RunKind, o: Value) {
        let Some(key) = key_of(kind, &o) else { return };
        let current = {
            let mut written = lock(&self.written);
            match written.get(&key) {
                Some(w) if shows(&o, w) => {
                    written.remove(&key);
                    true
                }
                Some(_) => false,
                None => true,
            }
        };
        let slim = Arc::new(reconcile::slim(&o));
        self.runs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone(), slim.clone());
        {
            let mut delivered = lock(&self.delivered);
            // A slim copy (from a list page past the limit) has no spec.
            let full = o.get("spec").is_some();
            if current && full && reconcile::wants(&o, &self.policy()) {
                if delivered.len() < DELIVERED_LIMIT || delivered.contains_key(&key) {
                    delivered.insert(key.clone(), Arc::new(o));
                }
            } else {
                delivered.remove(&key);
            }
        }
        self.consider(key, &slim);
        if kind == RunKind::TaskRun {
            self.wake_parent(&slim);
        }
    }

    fn forget(&self, key: &Key) {
        self.runs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
        lock(&self.delivered).remove(key);
        lock(&self.written).remove(key);
    }

    /// Queue every cached run that needs work (new leader, new config).
    pub fn enqueue_all(&self) {
        let all: Vec<(Key, Arc<Value>)> = self
            .runs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in all {
            self.consider(k, &v);
        }
    }
}

/// Feeds one run informer (one kind, one namespace or all) into the controller.
pub struct RunSink {
    pub kind: RunKind,
    pub namespace: Option<String>,
    pub controller: Arc<Controller>,
    /// Objects of the list in progress kept whole (they count against
    /// [`DELIVERED_LIMIT`] before they reach the controller).
    pub listed_whole: AtomicUsize,
}

impl RunSink {
    fn in_scope(&self, k: &Key) -> bool {
        k.kind == self.kind && self.namespace.as_ref().is_none_or(|ns| *ns == k.namespace)
    }
}

impl Sink for RunSink {
    /// A listed run: whole while it wants work and there is room, else slim.
    fn keep(&self, o: Value) -> Value {
        let held =
            lock(&self.controller.delivered).len() + self.listed_whole.load(Ordering::Relaxed);
        if held < DELIVERED_LIMIT && reconcile::wants(&o, &self.controller.policy()) {
            self.listed_whole.fetch_add(1, Ordering::Relaxed);
            o
        } else {
            reconcile::slim(&o)
        }
    }

    fn apply(&self, change: Change) {
        match change {
            Change::Replace(items) => {
                self.listed_whole.store(0, Ordering::Relaxed);
                // Drop what the list no longer has, in this informer's scope.
                let keep: HashSet<Key> =
                    items.iter().filter_map(|o| key_of(self.kind, o)).collect();
                let c = &self.controller;
                let gone = |k: &Key| self.in_scope(k) && !keep.contains(k);
                c.runs
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(|k, _| !gone(k));
                lock(&c.delivered).retain(|k, _| !gone(k));
                lock(&c.written).retain(|k, _| !gone(k));
                for o in items {
                    c.upsert(self.kind, o);
                }
            }
            Change::Upsert(o) => self.controller.upsert(self.kind, o),
            Change::Delete(o) => {
                if let Some(k) = key_of(self.kind, &o) {
                    self.controller.forget(&k);
                }
            }
        }
    }
}

/// Runs in the cluster for worker threads: the controller's copies, and
/// the API through this runtime.
pub struct ClusterRuns {
    pub kube: Arc<Kube>,
    pub handle: tokio::runtime::Handle,
    pub controller: Arc<Controller>,
}

fn run_ref(key: &Key) -> RunRef<'_> {
    RunRef {
        kind: key.kind,
        namespace: &key.namespace,
        name: &key.name,
    }
}

impl reconcile::Runs for ClusterRuns {
    fn delivered(&self, key: &Key) -> Option<Arc<Value>> {
        if lock(&self.controller.written).contains_key(key) {
            return None;
        }
        lock(&self.controller.delivered).get(key).cloned()
    }

    fn get(&self, key: &Key) -> Result<Option<Value>, ApiError> {
        match self.handle.block_on(self.kube.get(&run_ref(key).path())) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn mark(
        &self,
        key: &Key,
        annotations: &[(String, String)],
        version: &str,
    ) -> Result<Marked, ApiError> {
        let marked =
            self.handle
                .block_on(self.kube.mark_run(&run_ref(key), annotations, version))?;
        lock(&self.controller.delivered).remove(key);
        if marked == Marked::Written {
            lock(&self.controller.written).insert(key.clone(), annotations.to_vec());
        }
        Ok(marked)
    }
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
