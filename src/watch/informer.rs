//! List-then-watch for one collection, as client-go's reflector does: list
//! (page by page), then watch from the list's resourceVersion, resume from
//! the last version seen when a watch ends, relist on 410 Gone, and back off
//! (doubling, capped) while the server cannot be reached.
//!
//! Why not `kube_runtime::watcher`, which does list-then-watch, relist on
//! 410 and backoff too: it is not in our tree (kube is built without its
//! `runtime` feature, which brings its own backoff, broadcast and JSON-patch
//! crates), and it would bypass what this loop shares with the workers:
//! requests go through [`Kube`]'s token bucket (`--kube-api-qps`) and
//! deadlines, objects stay `serde_json::Value` for the run reader, a run list
//! asks for metadata only (`PartialObjectMetadataList`), and each listed
//! page is sifted as it arrives (`Sink::keep` drops settled runs), so a
//! large list is never held whole. This file is 170 lines; the newest-first queue, the
//! Lease and the controller's cache, which kube-runtime lacks, stay ours
//! either way.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::watch;

use super::log;
use crate::k8s::{Event, Kube, resource_version};

/// What an informer tells its owner.
pub enum Change {
    /// The complete set after a (re)list: anything else is gone.
    Replace(Vec<Value>),
    Upsert(Value),
    Delete(Value),
}

/// Receives an informer's changes (the controller's cache and queue).
pub trait Sink: Send + Sync {
    fn apply(&self, change: Change);

    /// What of a listed object to keep, if anything (all of it by default).
    fn keep(&self, o: Value) -> Option<Value> {
        Some(o)
    }
}

pub struct Informer {
    pub kube: Arc<Kube>,
    /// The collection's path, e.g. `/apis/tekton.dev/v1/namespaces/ci/taskruns`.
    pub collection: String,
    pub sink: Arc<dyn Sink>,
    /// Set once the first list has been delivered (for /readyz).
    pub synced: Arc<AtomicBool>,
    /// List metadata only (`PartialObjectMetadataList`); watches stay full.
    pub metadata_list: bool,
}

const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Informer {
    /// Run until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = MIN_BACKOFF;
        // Empty: list first.
        let mut version: Option<String> = None;
        let mut told_full = false;
        while !*stop.borrow() {
            let rv = match &version {
                Some(v) => v.clone(),
                None => match self
                    .kube
                    .list(&self.collection, self.metadata_list, &|o| self.sink.keep(o))
                    .await
                {
                    Ok(listed) => {
                        if self.metadata_list && !listed.metadata_only && !told_full {
                            told_full = true;
                            log::info(
                                "the API server ignored the metadata-only list (no PartialObjectMetadataList); listing full objects",
                                &[("collection", &self.collection)],
                            );
                        }
                        let rv = listed.resource_version;
                        self.sink.apply(Change::Replace(listed.items));
                        self.synced.store(true, Ordering::SeqCst);
                        backoff = MIN_BACKOFF;
                        version = Some(rv.clone());
                        rv
                    }
                    Err(e) => {
                        log::warn(
                            "list failed; retrying",
                            &[("collection", &self.collection), ("error", &e.message)],
                        );
                        if sleep_or_stop(&mut stop, &mut backoff).await {
                            return;
                        }
                        continue;
                    }
                },
            };
            let mut stream = match self.kube.watch(&self.collection, &rv).await {
                Ok(s) => Box::pin(s),
                Err(e) if e.is(410) => {
                    log::info(
                        "resourceVersion expired; relisting",
                        &[("collection", &self.collection)],
                    );
                    version = None;
                    continue;
                }
                Err(e) => {
                    log::warn(
                        "watch failed; retrying",
                        &[("collection", &self.collection), ("error", &e.message)],
                    );
                    if sleep_or_stop(&mut stop, &mut backoff).await {
                        return;
                    }
                    continue;
                }
            };
            loop {
                let event = tokio::select! {
                    e = stream.next() => e,
                    _ = stop.changed() => return,
                };
                let Some(event) = event else {
                    // The server ended the watch (timeout): resume where we were.
                    break;
                };
                backoff = MIN_BACKOFF;
                match event {
                    Event::Upsert(o) => {
                        remember(&mut version, &o);
                        self.sink.apply(Change::Upsert(o));
                    }
                    Event::Delete(o) => {
                        remember(&mut version, &o);
                        self.sink.apply(Change::Delete(o));
                    }
                    Event::Progress(rv) => {
                        if !rv.is_empty() {
                            version = Some(rv);
                        }
                    }
                    Event::Gone => {
                        log::info(
                            "watch expired (410 Gone); relisting",
                            &[("collection", &self.collection)],
                        );
                        version = None;
                        break;
                    }
                    Event::Error(e) => {
                        log::warn(
                            "watch error; reconnecting",
                            &[("collection", &self.collection), ("error", &e.message)],
                        );
                        if sleep_or_stop(&mut stop, &mut backoff).await {
                            return;
                        }
                        break;
                    }
                }
            }
        }
    }
}

/// Keep the newest resourceVersion seen (servers that set none leave the
/// list's version in place).
fn remember(version: &mut Option<String>, o: &Value) {
    let rv = resource_version(o);
    if !rv.is_empty() {
        *version = Some(rv.to_string());
    }
}

/// Sleep for the backoff (doubling it); true when asked to stop meanwhile.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, backoff: &mut Duration) -> bool {
    let d = *backoff;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    tokio::select! {
        _ = tokio::time::sleep(d) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}
