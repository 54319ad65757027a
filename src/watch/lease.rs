//! Leader election on a coordination.k8s.io/v1 Lease, as client-go does it:
//! the holder renews `spec.renewTime`; another replica takes over when the
//! record has not changed for `leaseDurationSeconds` by its own clock (no
//! clock comparison between replicas), or at once when the holder released
//! it (empty `holderIdentity`) on shutdown.
//!
//! Safe under partitions (client-go's renew deadline): the leader leads only
//! until its last successful renewal's *start* plus the renew deadline,
//! which is shorter than the lease duration. Every renewal attempt is cut off
//! at that instant, and the [`Fence`] that workers consult before starting or
//! marking a run closes then by the clock alone, even if this task is stuck
//! on a hung API call. Another replica cannot take over before the lease
//! duration has passed since it saw our last write, which was sent after the
//! renewal started: so the old leader has stopped before the new one starts.
//!
//! Writes carry the Lease's `metadata.resourceVersion`, so a real API server
//! lets only one of two racing replicas win (409 for the other). An emulator
//! that keeps no resourceVersion cannot arbitrate; there we read the Lease
//! back after writing and only lead if it names us.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::log;
use crate::k8s::{ApiError, Kube, lease_collection, resource_version};

pub struct Elector {
    pub kube: Arc<Kube>,
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub duration: Duration,
    /// How long the leader may go without a successful renewal (shorter
    /// than `duration`).
    pub renew_deadline: Duration,
    /// Pause between attempts to acquire or renew.
    pub retry_period: Duration,
    pub fence: Arc<Fence>,
    /// How many Leases of its group this replica leads, and may lead.
    pub share: Arc<Share>,
}

/// Until when this replica may act as the leader, by the monotonic clock.
/// Workers check it before they start a run and before they mark one.
pub struct Fence {
    base: Instant,
    /// Microseconds after `base`; 0 when not leading.
    until: AtomicU64,
    /// No leader election: always open.
    always: bool,
}

impl Fence {
    pub fn closed() -> Fence {
        Fence {
            base: Instant::now(),
            until: AtomicU64::new(0),
            always: false,
        }
    }

    /// For `--no-leader-election`.
    pub fn open() -> Fence {
        Fence {
            always: true,
            ..Fence::closed()
        }
    }

    /// Whether this replica may dispatch or mark now.
    pub fn holds(&self) -> bool {
        self.always || self.deadline().is_some_and(|d| Instant::now() < d)
    }

    /// When leadership ends unless renewed (`None`: not leading, or no election).
    pub fn deadline(&self) -> Option<Instant> {
        match self.until.load(Ordering::SeqCst) {
            0 => None,
            us => Some(self.base + Duration::from_micros(us)),
        }
    }

    fn extend(&self, until: Instant) {
        let us = until.saturating_duration_since(self.base).as_micros();
        self.until.store(
            u64::try_from(us).unwrap_or(u64::MAX).max(1),
            Ordering::SeqCst,
        );
    }

    fn close(&self) {
        self.until.store(0, Ordering::SeqCst);
    }
}

/// How many buckets this replica leads and may lead (shared by its electors).
#[derive(Default)]
pub struct Share {
    led: AtomicUsize,
    /// ⌈N / replicas⌉; 0 until the replicas have been counted once.
    fair: AtomicUsize,
}

impl Share {
    /// A share for one bucket and no membership: always free to lead it.
    pub fn single() -> Share {
        Share {
            led: AtomicUsize::new(0),
            fair: AtomicUsize::new(1),
        }
    }

    /// Count one more Lease led before trying to take it, when within the
    /// share (true then; [`Share::gave_back`] undoes it if taking fails).
    pub fn reserve(&self) -> bool {
        let fair = self.fair.load(Ordering::SeqCst);
        self.led
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < fair).then_some(n + 1)
            })
            .is_ok()
    }

    /// Set the fair share; the one before.
    pub fn set_fair(&self, fair: usize) -> usize {
        self.fair.swap(fair, Ordering::SeqCst)
    }

    pub fn took(&self) {
        self.led.fetch_add(1, Ordering::SeqCst);
    }

    /// Count off one Lease to give back, when over the share (true then:
    /// the caller releases it).
    pub fn release_one(&self) -> bool {
        let fair = self.fair.load(Ordering::SeqCst);
        fair > 0
            && self
                .led
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n > fair).then(|| n - 1)
                })
                .is_ok()
    }

    pub fn gave_back(&self) {
        let _ = self
            .led
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }
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
        format!("{}/{}", lease_collection(&self.namespace), self.name)
    }

    fn seconds(&self) -> i64 {
        // The API counts whole seconds; never 0, which would mean "expired".
        (self.duration.as_millis().div_ceil(1000) as i64).max(1)
    }

    /// Campaign and renew until `stop`; `leader` says whether we lead. On stop
    /// the lease is released so that another replica takes over at once.
    pub async fn run(self, leader: watch::Sender<bool>, mut stop: watch::Receiver<bool>) {
        let mut observed: Option<Observed> = None;
        loop {
            let leading = *leader.borrow();
            let started = Instant::now();
            // A leader's attempt may not outlive its leadership; a
            // candidate's is bounded by the renew deadline.
            let cutoff = match self.fence.deadline() {
                Some(d) if leading => d,
                _ => started + self.renew_deadline,
            };
            if leading && self.share.release_one() {
                self.give_back(&leader).await;
                continue;
            }
            // A candidate reserves its place in the share first, so that
            // its electors cannot all take a Lease at once.
            let reserved = !leading && self.share.reserve();
            let want = leading || reserved;
            let attempt =
                tokio::time::timeout_at(cutoff, self.try_acquire_or_renew(&mut observed, want))
                    .await;
            match attempt {
                Ok(Ok(true)) => {
                    self.fence.extend(started + self.renew_deadline);
                    if !leading {
                        log::info(
                            "became leader",
                            &[("lease", &self.name), ("identity", &self.identity)],
                        );
                        if !reserved {
                            self.share.took();
                        }
                        let _ = leader.send(true);
                    }
                }
                Ok(Ok(false)) => {
                    if leading {
                        log::warn("lost the lease", &[("lease", &self.name)]);
                        self.step_down(&leader);
                    }
                }
                Ok(Err(e)) => log::warn(
                    "lease update failed",
                    &[("lease", &self.name), ("error", &e.message)],
                ),
                Err(_) => log::warn(
                    "lease update got no answer in time",
                    &[("lease", &self.name)],
                ),
            }
            if reserved && !*leader.borrow() {
                self.share.gave_back();
            }
            if *leader.borrow() && !self.fence.holds() {
                log::warn(
                    "lease not renewed within the renew deadline; stopped dispatching and marking",
                    &[
                        ("lease", &self.name),
                        (
                            "renew-deadline",
                            &format!("{}ms", self.renew_deadline.as_millis()),
                        ),
                    ],
                );
                self.step_down(&leader);
            }
            // While leading, wake at the deadline at the latest.
            let mut wake = Instant::now() + self.retry_period;
            if let Some(d) = self.fence.deadline().filter(|_| *leader.borrow()) {
                wake = wake.min(d);
            }
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = stop.changed() => break,
            }
        }
        // Callers wait for in-flight work before stopping us; now let go.
        if *leader.borrow() {
            self.step_down(&leader);
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

    fn step_down(&self, leader: &watch::Sender<bool>) {
        if *leader.borrow() {
            self.share.gave_back();
        }
        self.fence.close();
        let _ = leader.send(false);
    }

    /// Lead one Lease fewer (over the fair share, already counted off):
    /// stop working on it first, then let another replica take it at once.
    /// A run of it still being attested here is not marked (the fence is
    /// closed); conditional writes settle the rare mark already on its way.
    async fn give_back(&self, leader: &watch::Sender<bool>) {
        self.fence.close();
        let _ = leader.send(false);
        match tokio::time::timeout(self.renew_deadline, self.release()).await {
            Ok(Ok(())) => log::info(
                "gave a lease back for a fair share",
                &[("lease", &self.name)],
            ),
            Ok(Err(e)) => log::warn(
                "could not release the lease",
                &[("lease", &self.name), ("error", &e.message)],
            ),
            Err(_) => log::warn(
                "lease release got no answer in time",
                &[("lease", &self.name)],
            ),
        }
    }

    /// Read the Lease; renew it when ours, or take it when free or expired
    /// and `want`. True when we hold it after this.
    async fn try_acquire_or_renew(
        &self,
        observed: &mut Option<Observed>,
        want: bool,
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
                let collection = lease_collection(&self.namespace);
                if !want {
                    return Ok(false);
                }
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
        let Some(o) = observed.as_ref() else {
            return Ok(false);
        };
        let ours = holder == self.identity;
        let expired = o.since.elapsed() >= self.duration;
        if !ours && (!want || (!holder.is_empty() && !expired)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_take_and_give_back() {
        let s = Share::default();
        assert!(!s.reserve(), "nothing before the replicas are counted");
        s.set_fair(2);
        assert!(s.reserve());
        assert!(s.reserve());
        assert!(!s.reserve() && !s.release_one());
        s.took();
        assert!(s.release_one(), "three led, two fair: one goes back");
        assert!(!s.release_one());
        let one = Share::single();
        assert!(one.reserve() && !one.reserve(), "one reservation at a time");
        one.gave_back();
        assert!(one.reserve());
    }
}
