//! Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
//! the holder renews `spec.renewTime`; another replica takes over when the
//! record has not changed for `leaseDurationSeconds` by its own clock (no
//! clock comparison between replicas), or at once when the holder released
//! it (empty `holderIdentity`) on shutdown.
//!
//! Writes carry the Lease's `metadata.resourceVersion`, so a real API server
//! lets only one of two racing replicas win (409 for the other). An emulator
//! that keeps no resourceVersion cannot arbitrate; there we read the Lease
//! back after writing and only lead if it names us.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::kube::{ApiError, Kube, resource_version};
use super::log;

pub struct Elector {
    pub kube: Arc<Kube>,
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub duration: Duration,
}

/// The last Lease record seen, and when it last changed (our clock).
struct Observed {
    holder: String,
    renew: String,
    transitions: i64,
    since: Instant,
}

fn micro_time() -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_default()
}

impl Elector {
    fn path(&self) -> String {
        format!(
            "/apis/coordination.k8s.io/v1/namespaces/{}/leases/{}",
            self.namespace, self.name
        )
    }

    fn seconds(&self) -> i64 {
        // The API counts whole seconds; never 0, which would mean "expired".
        (self.duration.as_millis().div_ceil(1000) as i64).max(1)
    }

    /// Campaign and renew until `stop`; `leader` says whether we lead. On stop
    /// the lease is released so that another replica takes over at once.
    pub async fn run(self, leader: watch::Sender<bool>, mut stop: watch::Receiver<bool>) {
        let retry = (self.duration / 3).max(Duration::from_millis(100));
        let mut observed: Option<Observed> = None;
        let mut last_renew = Instant::now();
        loop {
            let leading = *leader.borrow();
            match self.try_acquire_or_renew(&mut observed).await {
                Ok(true) => {
                    last_renew = Instant::now();
                    if !leading {
                        log::info(
                            "became leader",
                            &[("lease", &self.name), ("identity", &self.identity)],
                        );
                        let _ = leader.send(true);
                    }
                }
                Ok(false) => {
                    if leading {
                        log::warn("lost the lease", &[("lease", &self.name)]);
                        let _ = leader.send(false);
                    }
                }
                Err(e) => {
                    log::warn(
                        "lease update failed",
                        &[("lease", &self.name), ("error", &e.message)],
                    );
                    // Stop leading before another replica may take over.
                    if leading && last_renew.elapsed() >= self.duration * 2 / 3 {
                        log::warn(
                            "lease not renewed in time; stepping down",
                            &[("lease", &self.name)],
                        );
                        let _ = leader.send(false);
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = stop.changed() => break,
            }
        }
        // Callers wait for in-flight work before stopping us; now let go.
        if *leader.borrow() {
            let _ = leader.send(false);
            if let Err(e) = self.release().await {
                log::warn(
                    "could not release the lease",
                    &[("lease", &self.name), ("error", &e.message)],
                );
            } else {
                log::info("released the lease", &[("lease", &self.name)]);
            }
        }
    }

    async fn try_acquire_or_renew(
        &self,
        observed: &mut Option<Observed>,
    ) -> Result<bool, ApiError> {
        let now = micro_time();
        let current = match self.kube.get(&self.path()).await {
            Ok(v) => v,
            Err(e) if e.is(404) => {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": {
                        "holderIdentity": self.identity,
                        "leaseDurationSeconds": self.seconds(),
                        "acquireTime": now,
                        "renewTime": now,
                        "leaseTransitions": 0,
                    },
                });
                let collection = format!(
                    "/apis/coordination.k8s.io/v1/namespaces/{}/leases",
                    self.namespace
                );
                return match self.kube.create(&collection, &lease).await {
                    Ok(_) => self.confirm().await,
                    Err(e) if e.is(409) => Ok(false),
                    Err(e) => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let spec = current.get("spec").cloned().unwrap_or(Value::Null);
        let s = |k: &str| {
            spec.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let holder = s("holderIdentity");
        let renew = s("renewTime");
        let transitions = spec
            .get("leaseTransitions")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let changed = match observed {
            Some(o) => o.holder != holder || o.renew != renew,
            None => true,
        };
        if changed {
            *observed = Some(Observed {
                holder: holder.clone(),
                renew,
                transitions,
                since: Instant::now(),
            });
        }
        let o = observed.as_ref().expect("set above");
        let ours = holder == self.identity;
        let expired = o.since.elapsed() >= self.duration;
        if !ours && !holder.is_empty() && !expired {
            return Ok(false);
        }
        let mut patch = json!({
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self.seconds(),
                "renewTime": now,
            }
        });
        if !ours {
            patch["spec"]["acquireTime"] = json!(now);
            patch["spec"]["leaseTransitions"] = json!(o.transitions + 1);
        }
        let rv = resource_version(&current);
        if !rv.is_empty() {
            patch["metadata"] = json!({"resourceVersion": rv});
        }
        match self.kube.merge_patch(&self.path(), &patch).await {
            Ok(_) if ours => Ok(true),
            Ok(_) => self.confirm().await,
            Err(e) if e.is(409) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Read the Lease back: do we hold it?
    async fn confirm(&self) -> Result<bool, ApiError> {
        let v = self.kube.get(&self.path()).await?;
        Ok(v.pointer("/spec/holderIdentity").and_then(Value::as_str) == Some(&self.identity))
    }

    async fn release(&self) -> Result<(), ApiError> {
        let current = self.kube.get(&self.path()).await?;
        if current
            .pointer("/spec/holderIdentity")
            .and_then(Value::as_str)
            != Some(&self.identity)
        {
            return Ok(());
        }
        let mut patch = json!({"spec": {"holderIdentity": "", "renewTime": micro_time(), "leaseDurationSeconds": 1}});
        let rv = resource_version(&current);
        if !rv.is_empty() {
            patch["metadata"] = json!({"resourceVersion": rv});
        }
        self.kube
            .merge_patch(&self.path(), &patch)
            .await
            .map(|_| ())
    }
}
