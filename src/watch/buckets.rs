//! Work shared across replicas (`watch --buckets N`): every run falls in
//! one of N buckets by a stable hash of its namespace and name, each bucket
//! is led through its own Lease (`LEASE-I-of-N`, one [`Elector`] each), and
//! a replica attests only the runs of the buckets it leads. With N = 1 the
//! one bucket's Lease is `--lease-name` itself: one leader, as before.
//!
//! Fairness: a replica leads at most its fair share, ⌈N / replicas⌉, and
//! gives a bucket back (closing its fence first) when it leads more, so N
//! replicas each attest about 1/N. Replicas count each other through member
//! Leases (`LEASE-member-IDENTITY`, labelled with the group), renewed every
//! retry period; a member whose renewal is older than its duration by our
//! wall clock is gone. The count steers fairness only; who may attest a
//! run is decided by the bucket Leases alone (and conditional writes, the
//! last line of defence), so clock skew between replicas costs balance,
//! never safety. A dead replica's buckets are taken over within one lease
//! duration: the survivors keep reading every bucket Lease, so a stale one
//! is recognised a lease duration after its last renewal, and the dead
//! member ages out in the same time.
//!
//! The hash is FNV-1a (64 bit) of `namespace/name`: stable across
//! processes, versions and platforms, as replicas must agree on it; the
//! bucket count is in the Lease names so that replicas started with
//! different N never share a Lease.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use super::lease::{Fence, Share};
use super::log;
use super::queue::Key;
use crate::k8s::{ApiError, Kube, lease_collection};

/// This replica's fence for each bucket.
pub struct Buckets {
    fences: Vec<Arc<Fence>>,
}

impl Buckets {
    /// `n` buckets (at least one), open when there is no leader election.
    pub fn new(n: usize, open: bool) -> Buckets {
        let fence = || Arc::new(if open { Fence::open() } else { Fence::closed() });
        Buckets {
            fences: (0..n.max(1)).map(|_| fence()).collect(),
        }
    }

    pub fn count(&self) -> usize {
        self.fences.len()
    }

    /// The bucket of a run.
    pub fn of(&self, key: &Key) -> usize {
        bucket(&key.namespace, &key.name, self.count())
    }

    pub fn fence(&self, bucket: usize) -> Arc<Fence> {
        self.fences[bucket.min(self.count() - 1)].clone()
    }

    /// Whether this replica may dispatch or mark `key` now.
    pub fn holds(&self, key: &Key) -> bool {
        self.fences[self.of(key)].holds()
    }

    /// How many buckets this replica may work on now.
    pub fn led(&self) -> usize {
        self.fences.iter().filter(|f| f.holds()).count()
    }
}

/// The bucket of `namespace/name` among `n`.
pub fn bucket(namespace: &str, name: &str, n: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in namespace.bytes().chain([b'/']).chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % n.max(1) as u64) as usize
}

/// The Lease of bucket `i` of `n`.
pub fn lease_name(base: &str, i: usize, n: usize) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}-{i}-of-{n}")
    }
}

/// The label that groups member Leases.
const GROUP_LABEL: &str = "chains.tekton.dev/watch-group";

/// Keeps this replica's member Lease fresh and the fair share current.
pub struct Membership {
    pub kube: Arc<Kube>,
    pub namespace: String,
    /// The group (`--lease-name`).
    pub group: String,
    pub identity: String,
    pub buckets: usize,
    pub duration: Duration,
    pub retry_period: Duration,
    pub share: Arc<Share>,
}

/// A Lease name from an identity (DNS-1123: lowercase letters, digits, '-').
fn dns_label(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(180)
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    while out.starts_with('-') {
        out.remove(0);
    }
    if out.is_empty() {
        out.push_str("replica");
    }
    out
}

fn now_rfc3339() -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_default()
}

/// Whether a member Lease was renewed within its duration (wall clock).
fn live(lease: &Value, now: time::OffsetDateTime) -> bool {
    let spec = lease.get("spec");
    let holder = spec
        .and_then(|s| s.get("holderIdentity"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let renewed = spec
        .and_then(|s| s.get("renewTime"))
        .and_then(Value::as_str)
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
    let seconds = spec
        .and_then(|s| s.get("leaseDurationSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    // A duration past the calendar (any client may write the Lease) never
    // ends: checked, since adding it would panic.
    let alive_until =
        |r: time::OffsetDateTime| r.checked_add(time::Duration::seconds(seconds.max(1)));
    !holder.is_empty() && renewed.is_some_and(|r| alive_until(r).is_none_or(|end| now < end))
}

impl Membership {
    fn name(&self) -> String {
        format!("{}-member-{}", self.group, dns_label(&self.identity))
    }

    fn seconds(&self) -> i64 {
        (self.duration.as_millis().div_ceil(1000) as i64).max(1)
    }

    /// Renew the member Lease and recount until `stop`; then mark it left.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            match self.renew_and_count().await {
                Ok(replicas) => {
                    let fair = self.buckets.div_ceil(replicas.max(1));
                    let before = self.share.set_fair(fair);
                    if before != fair {
                        log::info(
                            "fair share of buckets",
                            &[
                                ("replicas", &replicas.to_string()),
                                ("buckets", &self.buckets.to_string()),
                                ("share", &fair.to_string()),
                            ],
                        );
                    }
                }
                Err(e) => log::warn(
                    "cannot renew the member lease",
                    &[("lease", &self.name()), ("error", &e.message)],
                ),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.retry_period) => {}
                _ = stop.changed() => break,
            }
        }
        let patch = json!({"spec": {"holderIdentity": "", "renewTime": now_rfc3339()}});
        let path = format!("{}/{}", lease_collection(&self.namespace), self.name());
        if let Err(e) = self.kube.merge_patch(&path, &patch).await {
            log::warn(
                "could not leave the member lease",
                &[("lease", &self.name()), ("error", &e.message)],
            );
        }
    }

    /// Renew (or create) our member Lease; the number of live members.
    async fn renew_and_count(&self) -> Result<usize, ApiError> {
        let collection = lease_collection(&self.namespace);
        let path = format!("{collection}/{}", self.name());
        let spec = json!({
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.seconds(),
            "renewTime": now_rfc3339(),
        });
        match self.kube.merge_patch(&path, &json!({ "spec": spec })).await {
            Ok(_) => {}
            Err(e) if e.is(404) => {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.name(), "namespace": self.namespace,
                                 "labels": {GROUP_LABEL: self.group}},
                    "spec": spec,
                });
                match self.kube.create(&collection, &lease).await {
                    Ok(_) => {}
                    Err(e) if e.is(409) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        let selector = format!("{GROUP_LABEL}={}", self.group);
        let listed = self
            .kube
            .list(
                &format!(
                    "{collection}?labelSelector={}",
                    crate::k8s::encode(&selector)
                ),
                false,
                &Some,
            )
            .await?;
        let now = time::OffsetDateTime::now_utc();
        let ours = self.name();
        let others = listed
            .items
            .iter()
            .filter(|l| {
                // Servers without label selectors: filter here too.
                l.pointer("/metadata/labels")
                    .and_then(|m| m.get(GROUP_LABEL))
                    .and_then(Value::as_str)
                    == Some(self.group.as_str())
                    && l.pointer("/metadata/name").and_then(Value::as_str) != Some(&ours)
            })
            .filter(|l| live(l, now))
            .count();
        // Ours was just renewed.
        Ok(others + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(bucket("ci", "run-1", 1), 0);
        // FNV-1a of "ns/run-0" is fixed: every replica agrees.
        assert_eq!(
            bucket("ns", "run-0", 1 << 20),
            (0x9460_67bf_2fbc_7839_u64 % (1 << 20)) as usize
        );
        let mut counts = [0usize; 3];
        for i in 0..3000 {
            counts[bucket("ns", &format!("run-{i}"), 3)] += 1;
        }
        for c in counts {
            assert!((800..1200).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn lease_names_carry_the_bucket_count() {
        assert_eq!(lease_name("chains-watch", 0, 1), "chains-watch");
        assert_eq!(lease_name("chains-watch", 2, 3), "chains-watch-2-of-3");
    }

    #[test]
    fn identities_become_lease_names() {
        assert_eq!(dns_label("Pod_0.x"), "pod-0-x");
        assert_eq!(dns_label("a--"), "a");
        assert_eq!(dns_label("_"), "replica");
    }

    #[test]
    fn members_live_until_their_duration_passes() {
        let now = time::OffsetDateTime::now_utc();
        let at = |t: time::OffsetDateTime| {
            json!({"spec": {"holderIdentity": "a", "leaseDurationSeconds": 10,
                   "renewTime": t.format(&time::format_description::well_known::Rfc3339).unwrap()}})
        };
        assert!(live(&at(now - time::Duration::seconds(2)), now));
        assert!(!live(&at(now - time::Duration::seconds(20)), now));
        assert!(!live(&json!({"spec": {"holderIdentity": ""}}), now));
    }

    #[test]
    fn a_lease_duration_past_the_calendar_is_live_not_a_panic() {
        // Any Lease in the group is read: its fields are outside input.
        let now = time::OffsetDateTime::now_utc();
        let lease = json!({"spec": {"holderIdentity": "a", "leaseDurationSeconds": i64::MAX,
                           "renewTime": "2026-01-01T00:00:00Z"}});
        assert!(live(&lease, now));
    }
}
