//! The deadline of remote calls: the process's overall `--timeout` of
//! `attest` (cosign's), and a deadline of one run on the current thread
//! (`watch --timeout`, so that a hung backend holds a worker for that long
//! at most). Clients cap each request's timeout with [`cap`] and retries
//! start no try once [`remaining`] is zero. A foundation: it imports nothing
//! of the crate, so every stage and client can ask it.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The end of a deadline and how long it was.
#[derive(Clone, Copy, Debug)]
struct Deadline {
    end: Instant,
    length: Duration,
}

impl Deadline {
    /// `length` from now. A length past what the clock can count (a
    /// `--timeout` of billions of seconds) ends as late as it can: a
    /// century, far beyond any call.
    fn from_now(length: Duration) -> Deadline {
        let now = Instant::now();
        let end = now
            .checked_add(length)
            .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
            .unwrap_or(now);
        Deadline { end, length }
    }
}

static OVERALL: OnceLock<Deadline> = OnceLock::new();

thread_local! {
    static RUN: Cell<Option<Deadline>> = const { Cell::new(None) };
}

/// Set the deadline of every remote call of this process (`attest
/// --timeout`). Only the first call has an effect.
pub fn set_overall(timeout: Duration) {
    let _ = OVERALL.set(Deadline::from_now(timeout));
}

/// Run `f` with a deadline `timeout` from now on this thread's remote calls
/// (and none when `timeout` is None), restoring the previous one after.
pub fn within<T>(timeout: Option<Duration>, f: impl FnOnce() -> T) -> T {
    let deadline = timeout.map(Deadline::from_now);
    let previous = RUN.with(|r| r.replace(deadline));
    // Restored on unwind too, so a worker thread never keeps a stale one.
    struct Restore(Option<Deadline>);
    impl Drop for Restore {
        fn drop(&mut self) {
            RUN.with(|r| r.set(self.0));
        }
    }
    let _restore = Restore(previous);
    f()
}

/// The nearest deadline in force on this thread.
fn nearest() -> Option<Deadline> {
    let run = RUN.with(Cell::get);
    match (OVERALL.get().copied(), run) {
        (Some(a), Some(b)) => Some(if a.end <= b.end { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// What is left of the nearest deadline, when one is set.
pub fn remaining() -> Option<Duration> {
    nearest().map(|d| d.end.saturating_duration_since(Instant::now()))
}

/// How long the nearest deadline was in all (for messages), when one is set.
pub fn length() -> Option<Duration> {
    nearest().map(|d| d.length)
}

/// `limit`, or less when the deadline is nearer: a request's timeout.
pub fn cap(limit: Duration) -> Duration {
    remaining().map_or(limit, |left| left.min(limit))
}

/// Whether the deadline has passed (false when none is set).
pub fn spent() -> bool {
    remaining() == Some(Duration::ZERO)
}

/// " within the --timeout of 2s", naming the deadline that ended a call
/// that took `limit` (empty when the call's own limit came first).
pub fn ended_by(limit: Duration) -> String {
    match length() {
        Some(total) if total < limit || spent() => {
            format!("the --timeout of {}", seconds(total))
        }
        _ => seconds(limit),
    }
}

/// `2s`, `1.5s`.
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{s:.1}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_deadline_applies_on_its_thread_only_and_is_restored() {
        assert_eq!(remaining(), None);
        assert_eq!(cap(Duration::from_secs(30)), Duration::from_secs(30));
        within(Some(Duration::from_secs(5)), || {
            assert!(cap(Duration::from_secs(30)) <= Duration::from_secs(5));
            assert_eq!(length(), Some(Duration::from_secs(5)));
            assert_eq!(ended_by(Duration::from_secs(30)), "the --timeout of 5s");
            assert_eq!(ended_by(Duration::from_secs(2)), "2s");
            std::thread::spawn(|| assert_eq!(remaining(), None))
                .join()
                .unwrap();
            within(None, || assert_eq!(remaining(), None));
            assert!(remaining().is_some());
        });
        assert_eq!(remaining(), None);
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn a_timeout_past_the_clock_is_far_not_a_panic() {
        // `watch --timeout 18446744073709551615s` parses to this.
        within(Some(Duration::from_secs(u64::MAX)), || {
            assert!(remaining().is_some_and(|r| r > Duration::from_secs(86_400)));
        });
    }
}
