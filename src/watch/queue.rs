//! The work queue: each run at most once in it, never handed to two workers
//! at once, newest first (a backlog of old runs never starves new ones), and
//! failed runs back after a delay.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::run::RunKind;

/// A run in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub kind: RunKind,
    pub namespace: String,
    pub name: String,
}

// The heap needs an order to break ties; RunKind has none of its own.
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.kind as u8, &self.namespace, &self.name).cmp(&(
            other.kind as u8,
            &other.namespace,
            &other.name,
        ))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// Orders ready work: the newest run first (its completion or creation
/// time, RFC 3339 in UTC, which sorts as text), then first come first served.
type Ready = (String, Reverse<u64>, Key);

#[derive(Default)]
struct Inner {
    ready: BinaryHeap<Ready>,
    /// Waiting for a retry: when, and its priority.
    delayed: Vec<(Instant, String, Key)>,
    /// In `ready` or `delayed`.
    queued: HashSet<Key>,
    processing: HashSet<Key>,
    /// Changed while being processed: queued again when done.
    dirty: HashMap<Key, String>,
    seq: u64,
    shutdown: bool,
}

#[derive(Default)]
pub struct Queue {
    inner: Mutex<Inner>,
    cv: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A worker that panicked cannot leave the sets half-updated (each
        // method finishes its updates before anything can panic).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue a run now, unless it is queued already (a pending retry keeps its delay).
    pub fn add(&self, key: Key, priority: String) {
        let mut q = self.lock();
        if q.shutdown {
            return;
        }
        if q.processing.contains(&key) {
            q.dirty.insert(key, priority);
            return;
        }
        if q.queued.insert(key.clone()) {
            q.seq += 1;
            let seq = q.seq;
            q.ready.push((priority, Reverse(seq), key));
            self.cv.notify_one();
        }
    }

    /// The next run to work on; blocks. `None` once shut down.
    pub fn pop(&self) -> Option<Key> {
        let mut q = self.lock();
        loop {
            if q.shutdown {
                return None;
            }
            let now = Instant::now();
            let mut i = 0;
            while i < q.delayed.len() {
                if q.delayed[i].0 <= now {
                    let (_, priority, key) = q.delayed.swap_remove(i);
                    q.seq += 1;
                    let seq = q.seq;
                    q.ready.push((priority, Reverse(seq), key));
                } else {
                    i += 1;
                }
            }
            if let Some((_, _, key)) = q.ready.pop() {
                q.queued.remove(&key);
                q.processing.insert(key.clone());
                return Some(key);
            }
            let next = q.delayed.iter().map(|d| d.0).min();
            q = match next {
                Some(t) => {
                    self.cv
                        .wait_timeout(q, t.saturating_duration_since(now))
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self.cv.wait(q).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }

    /// Finished with a run; if it changed meanwhile, it is queued again.
    pub fn done(&self, key: &Key) {
        let mut q = self.lock();
        q.processing.remove(key);
        if let Some(priority) = q.dirty.remove(key) {
            drop(q);
            self.add(key.clone(), priority);
        }
    }

    /// Finished with a run that failed: try it again after `delay`, whatever
    /// changed meanwhile (our own retry annotation changes it).
    pub fn retry_after(&self, key: &Key, priority: String, delay: Duration) {
        let mut q = self.lock();
        q.processing.remove(key);
        q.dirty.remove(key);
        if q.shutdown || !q.queued.insert(key.clone()) {
            return;
        }
        q.delayed
            .push((Instant::now() + delay, priority, key.clone()));
        self.cv.notify_one();
    }

    /// Forget what is queued of the runs `lost` picks (a bucket's Lease
    /// lost); runs in progress finish.
    pub fn clear_where(&self, lost: impl Fn(&Key) -> bool) {
        let mut q = self.lock();
        q.ready.retain(|(_, _, k)| !lost(k));
        q.delayed.retain(|(_, _, k)| !lost(k));
        q.queued.retain(|k| !lost(k));
        q.dirty.retain(|k, _| !lost(k));
    }

    /// Runs waiting (ready or for a retry).
    pub fn depth(&self) -> usize {
        self.lock().queued.len()
    }

    /// Runs being worked on.
    pub fn in_flight(&self) -> usize {
        self.lock().processing.len()
    }

    /// Wake every worker and hand out nothing more.
    pub fn shutdown(&self) {
        self.lock().shutdown = true;
        self.cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        Key {
            kind: RunKind::TaskRun,
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn newest_first_and_once() {
        let q = Queue::default();
        q.add(key("old"), "2024-01-01T00:00:00Z".into());
        q.add(key("new"), "2025-01-01T00:00:00Z".into());
        q.add(key("old"), "2024-01-01T00:00:00Z".into());
        assert_eq!(q.depth(), 2);
        assert_eq!(q.pop().unwrap().name, "new");
        assert_eq!(q.pop().unwrap().name, "old");
        assert_eq!(q.depth(), 0);
    }

    #[test]
    fn a_run_changed_while_processed_comes_back_once() {
        let q = Queue::default();
        q.add(key("a"), "t".into());
        let k = q.pop().unwrap();
        q.add(key("a"), "t".into());
        assert_eq!(q.depth(), 0, "not handed out twice while in progress");
        q.done(&k);
        assert_eq!(q.depth(), 1);
    }

    #[test]
    fn retries_wait_and_ignore_changes_meanwhile() {
        let q = Queue::default();
        q.add(key("a"), "t".into());
        let k = q.pop().unwrap();
        q.add(key("a"), "t".into());
        q.retry_after(&k, "t".into(), Duration::from_millis(20));
        q.add(key("a"), "t".into());
        assert_eq!(q.depth(), 1);
        // Blocks until the delay has passed, then hands it out.
        assert_eq!(q.pop().unwrap().name, "a");
    }

    #[test]
    fn clearing_some_keeps_the_others() {
        let q = Queue::default();
        q.add(key("a"), "t".into());
        q.add(key("b"), "t".into());
        q.clear_where(|k| k.name == "a");
        assert_eq!(q.depth(), 1);
        assert_eq!(q.pop().unwrap().name, "b");
    }

    #[test]
    fn shutdown_releases_waiting_workers() {
        let q = std::sync::Arc::new(Queue::default());
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.pop());
        std::thread::sleep(Duration::from_millis(10));
        q.shutdown();
        assert_eq!(t.join().unwrap(), None);
    }
}
