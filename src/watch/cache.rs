//! The controller's view of the runs in the cluster, sized by the work
//! left, not by the cluster: an entry for each run that wants work (done and
//! not yet marked, or not known to be done yet after a metadata-only list),
//! the full object of some of them as the watch delivered it (so a worker
//! need not read it again), and what this replica wrote that the watch has
//! not shown back yet. A run that is marked, skipped or still running leaves
//! nothing behind: 100,000 signed runs in the cluster cost no memory here.
//!
//! Why a metadata-only *list* but a full *watch* (issue 16, measured with
//! `benches/watch.rs`): whether a run is done is in `status.conditions`,
//! which `PartialObjectMetadata` leaves out. The list is where a large
//! cluster weighs (every run, at start and after each 410 Gone); its
//! metadata says `chains.tekton.dev/signed` (and `skip`), which settles
//! almost every run of a mature cluster without its spec or status, and the
//! few unmarked ones are read in full by a worker (one GET, needed anyway to
//! attest). A metadata-only *watch* would instead cost a GET for every
//! status update of every running run (Tekton writes several per run) just
//! to learn when it is done, where the full watch event already carries the
//! object the worker needs: more requests and as many bytes. So events stay
//! full objects, each decided on arrival and dropped unless the run wants
//! work. When the server does not honour the metadata-only Accept (kmock,
//! old emulators), the list's `kind` says so, it is logged once, and full
//! listed objects are decided the same way as watch events.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::buckets::Buckets;
use super::informer::{Change, Sink};
use super::queue::{Key, Queue};
use super::reconcile::{self, Policy};
use super::settings::{self, Keys};
use super::{WatchError, log};
use crate::annotations::{RETRIES, SIGNED, SKIP};
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

/// A run that wants work.
struct Pending {
    /// Queue order (completion, else creation time).
    priority: String,
    /// A TaskRun's PipelineRun, woken when the TaskRun settles.
    parent: Option<Key>,
    /// The full object as last delivered, while there is room.
    delivered: Option<Arc<Value>>,
}

/// What informers feed and workers read: the runs that want work, the
/// current config's stages, and the buckets this replica leads.
pub struct Controller {
    pending: Mutex<HashMap<Key, Pending>>,
    /// How many `pending` entries hold a delivered object.
    delivered: AtomicUsize,
    /// Chains' state annotations we wrote to a run that no delivered copy
    /// shows yet: until one does, copies may predate our write, and workers
    /// read the API.
    written: Mutex<HashMap<Key, Vec<(String, String)>>>,
    current: RwLock<(Arc<Stages>, Policy)>,
    /// Held while stages are built, so that one worker renews a certificate.
    rebuild: Mutex<Rebuild>,
    /// New stages when a signer has less than this left.
    refresh_before: Duration,
    pub queue: Arc<Queue>,
    /// Which runs (by bucket) this replica may work on, and until when.
    pub buckets: Arc<Buckets>,
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

/// A TaskRun's PipelineRun, by label or owner reference.
fn parent_of(kind: RunKind, o: &Value) -> Option<Key> {
    if kind != RunKind::TaskRun {
        return None;
    }
    let ns = o.pointer("/metadata/namespace").and_then(Value::as_str)?;
    let name = o
        .pointer("/metadata/labels/tekton.dev~1pipelineRun")
        .and_then(Value::as_str)
        .or_else(|| {
            o.pointer("/metadata/ownerReferences")?
                .as_array()?
                .iter()
                .find(|r| r.get("kind").and_then(Value::as_str) == Some("PipelineRun"))?
                .get("name")?
                .as_str()
        })?;
    Some(Key {
        kind: RunKind::PipelineRun,
        namespace: ns.to_string(),
        name: name.to_string(),
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

/// Whether metadata alone says a run needs nothing (marked, or skipped).
fn settled_by_metadata(o: &Value) -> bool {
    let skip = o
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SKIP))
        .and_then(Value::as_str)
        == Some("true");
    reconcile::is_reconciled(o) || skip
}

impl Controller {
    /// Build the first stages (blocking: keys may be fetched).
    pub fn new(
        rebuild: Rebuild,
        refresh_before: Duration,
        queue: Arc<Queue>,
        buckets: Arc<Buckets>,
    ) -> Result<Self, WatchError> {
        let (stages, policy) =
            settings::build(&rebuild.config, &rebuild.keys, rebuild.only_successful)?;
        Ok(Controller {
            pending: Mutex::new(HashMap::new()),
            delivered: AtomicUsize::new(0),
            written: Mutex::new(HashMap::new()),
            current: RwLock::new((Arc::new(stages), policy)),
            rebuild: Mutex::new(rebuild),
            refresh_before,
            queue,
            buckets,
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

    /// Whether runs of `kind` are attested at all (TaskRuns need not be:
    /// `artifacts.taskrun.signer: none`). Runs that are not leave nothing
    /// here; a config that enables them reaches them at the next list.
    fn signs(&self, kind: RunKind) -> bool {
        kind != RunKind::TaskRun || self.policy().taskruns_enabled
    }

    /// Queue a pending run when this replica leads its bucket.
    fn consider(&self, key: Key, priority: String) {
        if self.buckets.holds(&key) {
            self.queue.add(key, priority);
        }
    }

    /// Whether a run is known to want work (a PipelineRun waits for such a
    /// child without reading it).
    pub fn is_pending(&self, kind: RunKind, namespace: &str, name: &str) -> bool {
        let key = Key {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        lock(&self.pending).contains_key(&key)
    }

    /// A TaskRun settled: its PipelineRun may have been waiting for it.
    fn wake(&self, parent: Option<Key>) {
        let Some(parent) = parent else { return };
        let priority = lock(&self.pending).get(&parent).map(|p| p.priority.clone());
        if let Some(priority) = priority {
            self.consider(parent, priority);
        }
    }

    /// Add or update a pending run; `full`, the object to keep if there is room.
    fn want(&self, key: &Key, priority: String, parent: Option<Key>, full: Option<Value>) {
        let mut pending = lock(&self.pending);
        let entry = pending.entry(key.clone()).or_insert(Pending {
            priority: String::new(),
            parent: None,
            delivered: None,
        });
        entry.priority = priority;
        entry.parent = parent;
        let had = entry.delivered.take().is_some();
        let room = had || self.delivered.load(Ordering::Relaxed) < DELIVERED_LIMIT;
        entry.delivered = full.filter(|_| room).map(Arc::new);
        match (had, entry.delivered.is_some()) {
            (false, true) => self.delivered.fetch_add(1, Ordering::Relaxed),
            (true, false) => self.delivered.fetch_sub(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    /// A run needs nothing more from us: forget it, and wake its parent.
    pub fn settle(&self, key: &Key) {
        let parent = self.remove(key).and_then(|p| p.parent);
        self.wake(parent);
    }

    fn remove(&self, key: &Key) -> Option<Pending> {
        let p = lock(&self.pending).remove(key);
        if p.as_ref().is_some_and(|p| p.delivered.is_some()) {
            self.delivered.fetch_sub(1, Ordering::Relaxed);
        }
        p
    }

    /// A full object (a watch event, or a list the server sent whole):
    /// pending while it wants work, else forgotten.
    fn observe(&self, kind: RunKind, o: Value) {
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
        if reconcile::wants(&o, &self.policy()) && self.signs(kind) {
            let priority = reconcile::priority(&o);
            let parent = parent_of(kind, &o);
            // A slim copy (from a list past the limit) has no spec.
            let full = (current && o.get("spec").is_some()).then_some(o);
            self.want(&key, priority.clone(), parent, full);
            self.consider(key, priority);
        } else if reconcile::is_done(&o) {
            // Marked (by anyone) or excluded: settled for its parent too.
            let parent = self.remove(&key).and_then(|p| p.parent);
            self.wake(parent.or_else(|| parent_of(kind, &o)));
        } else {
            // Running (or reset): its completion event will bring it back.
            self.remove(&key);
        }
    }

    /// A metadata-only listed run, not marked: a worker reads it in full to
    /// learn whether it is done.
    fn candidate(&self, kind: RunKind, o: &Value) {
        let Some(key) = key_of(kind, o) else { return };
        let priority = reconcile::priority(o);
        self.want(&key, priority.clone(), parent_of(kind, o), None);
        self.consider(key, priority);
    }

    fn forget(&self, key: &Key) {
        self.settle(key);
        lock(&self.written).remove(key);
    }

    /// Queue every pending run of the buckets `led` picks (a new config:
    /// all; a bucket's Lease won: that bucket's).
    pub fn enqueue_where(&self, led: impl Fn(&Key) -> bool) {
        let all: Vec<(Key, String)> = lock(&self.pending)
            .iter()
            .filter(|(k, _)| led(k))
            .map(|(k, p)| (k.clone(), p.priority.clone()))
            .collect();
        for (k, priority) in all {
            self.consider(k, priority);
        }
    }

    /// Queue every pending run (new config).
    pub fn enqueue_all(&self) {
        self.enqueue_where(|_| true);
    }

    /// How many runs want work (for /metrics).
    pub fn pending(&self) -> usize {
        lock(&self.pending).len()
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
    /// A listed run: dropped when its metadata settles it; a metadata-only
    /// item kept as it is (small); a full one (a server that ignored the
    /// metadata-only Accept) decided at once: whole while it wants work and
    /// there is room, slim while it wants work, else dropped.
    fn keep(&self, o: Value) -> Option<Value> {
        if settled_by_metadata(&o) || !self.controller.signs(self.kind) {
            return None;
        }
        if o.get("status").is_none() && o.get("spec").is_none() {
            // Kept until the whole list is read: only what a candidate
            // needs, since a real API server's metadata carries
            // managedFields (kilobytes per run, fields of spec and status).
            return Some(reconcile::slim_metadata(&o));
        }
        if !reconcile::wants(&o, &self.controller.policy()) {
            return None;
        }
        let held = self.controller.delivered.load(Ordering::Relaxed)
            + self.listed_whole.load(Ordering::Relaxed);
        if held < DELIVERED_LIMIT {
            self.listed_whole.fetch_add(1, Ordering::Relaxed);
            Some(o)
        } else {
            Some(reconcile::slim(&o))
        }
    }

    fn apply(&self, change: Change) {
        let c = &self.controller;
        match change {
            Change::Replace(items) => {
                self.listed_whole.store(0, Ordering::Relaxed);
                // Drop what the list no longer has (or has settled), in
                // this informer's scope.
                let keep: HashSet<Key> =
                    items.iter().filter_map(|o| key_of(self.kind, o)).collect();
                let gone: Vec<Key> = lock(&c.pending)
                    .keys()
                    .filter(|k| self.in_scope(k) && !keep.contains(k))
                    .cloned()
                    .collect();
                for k in &gone {
                    c.settle(k);
                }
                lock(&c.written).retain(|k, _| !self.in_scope(k) || keep.contains(k));
                for o in items {
                    if o.get("status").is_none() && o.get("spec").is_none() {
                        c.candidate(self.kind, &o);
                    } else {
                        c.observe(self.kind, o);
                    }
                }
                if self.kind == RunKind::TaskRun {
                    // Children marked while the watch was down: their
                    // PipelineRuns may go ahead.
                    c.enqueue_where(|k| k.kind == RunKind::PipelineRun);
                }
            }
            Change::Upsert(o) => c.observe(self.kind, o),
            Change::Delete(o) => {
                if let Some(k) = key_of(self.kind, &o) {
                    c.forget(&k);
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
        lock(&self.controller.pending)
            .get(key)
            .and_then(|p| p.delivered.clone())
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
        if marked == Marked::Written {
            // Only Chains' state annotations: enough to recognise a copy
            // that shows our write, without keeping payloads.
            let state: Vec<(String, String)> = annotations
                .iter()
                .filter(|(k, _)| k == SIGNED || k == RETRIES)
                .cloned()
                .collect();
            lock(&self.controller.written).insert(key.clone(), state);
        }
        match annotations.iter().find(|(k, _)| k == SIGNED) {
            // Marked (or gone): nothing more to do for it.
            Some(_) => self.controller.settle(key),
            // A retry counted: the copy we hold predates it.
            None if marked == Marked::Written => {
                if let Some(p) = lock(&self.controller.pending).get_mut(key)
                    && p.delivered.take().is_some()
                {
                    self.controller.delivered.fetch_sub(1, Ordering::Relaxed);
                }
            }
            None => self.controller.settle(key),
        }
        Ok(marked)
    }

    fn settle(&self, key: &Key) {
        self.controller.settle(key);
    }

    fn is_pending(&self, kind: RunKind, namespace: &str, name: &str) -> bool {
        self.controller.is_pending(kind, namespace, name)
    }
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
