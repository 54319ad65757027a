//! Prometheus metrics in the text exposition format. The counters are
//! Chains' (`watcher_{taskrun,pipelinerun}_*_total`, the same names and
//! meanings), plus queue depth, leadership and per-run latency.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::run::RunKind;

/// Chains' counters for one run kind.
#[derive(Default)]
pub struct KindCounters {
    /// Artifacts signed (attestations and image signatures).
    pub sign_created: AtomicU64,
    /// Artifacts recorded in the transparency log.
    pub payload_uploaded: AtomicU64,
    /// Artifacts stored, per backend.
    pub payload_stored: AtomicU64,
    /// Runs marked `chains.tekton.dev/signed: "true"`.
    pub marked_signed: AtomicU64,
}

/// Latency buckets in seconds: from a fast local sign to a slow KMS and registry.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Picks one of a kind's counters.
type Counter = fn(&KindCounters) -> &AtomicU64;

#[derive(Default)]
pub struct Metrics {
    pub taskrun: KindCounters,
    pub pipelinerun: KindCounters,
    /// (kind, error_type) → failures, as Chains labels them.
    failures: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
}

impl Metrics {
    pub fn kind(&self, kind: RunKind) -> &KindCounters {
        match kind {
            RunKind::TaskRun => &self.taskrun,
            RunKind::PipelineRun => &self.pipelinerun,
        }
    }

    /// A signing failure (`payload_creation`, `signing`, `storage`, `tlog`, `marking`).
    pub fn failure(&self, kind: RunKind, error_type: &'static str) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        *f.entry((kind.lower(), error_type)).or_default() += 1;
    }

    /// How long one run took to attest, store and mark.
    pub fn observe(&self, kind: RunKind, took: Duration) {
        let secs = took.as_secs_f64();
        let mut l = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = l.entry(kind.lower()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The exposition; `led`: how many buckets this replica may work on
    /// now (their Leases held and renewed within the renew deadline);
    /// `pending`: runs known to want work (all this replica keeps per run).
    pub fn render(
        &self,
        queue_depth: usize,
        in_flight: usize,
        led: usize,
        pending: usize,
    ) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, Counter); 4] = [
            ("sign_created", "Total number of signed messages", |c| {
                &c.sign_created
            }),
            (
                "payload_uploaded",
                "Total number of uploaded payloads",
                |c| &c.payload_uploaded,
            ),
            ("payload_stored", "Total number of stored payloads", |c| {
                &c.payload_stored
            }),
            (
                "marked_signed",
                "Total number of objects marked as signed",
                |c| &c.marked_signed,
            ),
        ];
        for kind in [RunKind::TaskRun, RunKind::PipelineRun] {
            for (name, help, get) in counters {
                let metric = format!("watcher_{}_{name}_total", kind.lower());
                let value = get(self.kind(kind)).load(Ordering::Relaxed);
                let _ = writeln!(out, "# HELP {metric} {help} for {}s", kind.lower());
                let _ = writeln!(out, "# TYPE {metric} counter");
                let _ = writeln!(out, "{metric} {value}");
            }
        }
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for kind in ["taskrun", "pipelinerun"] {
            let metric = format!("watcher_{kind}_signing_failures_total");
            let _ = writeln!(
                out,
                "# HELP {metric} Total number of {kind} signing failures"
            );
            let _ = writeln!(out, "# TYPE {metric} counter");
            let mut any = false;
            for ((k, t), n) in failures.iter() {
                if *k == kind {
                    any = true;
                    let _ = writeln!(out, "{metric}{{error_type=\"{t}\"}} {n}");
                }
            }
            if !any {
                let _ = writeln!(out, "{metric} 0");
            }
        }
        drop(failures);
        let gauges = [
            (
                "watcher_queue_depth",
                "Runs waiting to be attested",
                queue_depth,
            ),
            ("watcher_in_flight", "Runs being attested", in_flight),
            (
                "watcher_leader",
                "1 when this replica holds a lease and renewed it within the renew deadline",
                usize::from(led > 0),
            ),
            (
                "watcher_buckets_led",
                "Buckets of runs (--buckets) whose lease this replica holds",
                led,
            ),
            (
                "watcher_pending_runs",
                "Runs known to want work (done and not yet marked)",
                pending,
            ),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        let name = "watcher_run_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time to attest, store and mark one run\n# TYPE {name} histogram"
        );
        let latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        for (kind, h) in latency.iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{kind=\"{kind}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "{name}_sum{{kind=\"{kind}\"}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{kind=\"{kind}\"}} {}", h.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_chains_counter_names() {
        let m = Metrics::default();
        m.taskrun.marked_signed.fetch_add(2, Ordering::Relaxed);
        m.failure(RunKind::PipelineRun, "storage");
        m.observe(RunKind::TaskRun, Duration::from_millis(30));
        let text = m.render(3, 1, 0, 2);
        assert!(text.contains("watcher_taskrun_marked_signed_total 2\n"));
        assert!(
            text.contains("watcher_pipelinerun_signing_failures_total{error_type=\"storage\"} 1\n")
        );
        assert!(text.contains("watcher_taskrun_signing_failures_total 0\n"));
        assert!(text.contains("watcher_queue_depth 3\n"));
        assert!(text.contains("watcher_leader 0\n"));
        assert!(text.contains("watcher_pending_runs 2\n"));
        assert!(
            text.contains("watcher_run_duration_seconds_bucket{kind=\"taskrun\",le=\"0.05\"} 1\n")
        );
        assert!(
            text.contains("watcher_run_duration_seconds_bucket{kind=\"taskrun\",le=\"0.025\"} 0\n")
        );
    }
}
