//! Retries within deadlines, and giving up on a backend that keeps failing.
//!
//! Every remote store call goes through [`with_retries`] (or
//! [`with_retries_on`], which names the backend before the first try). A
//! transient failure (a timeout, a dropped connection, 408, 429, 5xx) is
//! retried with exponential backoff, at most [`TRIES`] times, and only while
//! the call's budget ([`CALL_BUDGET`]) and the deadline in force
//! ([`crate::deadline`]: `attest --timeout`, `watch --timeout`) leave room
//! for another try as long as the longest one so far. The final error says how many tries were made
//! over how long. A backend whose calls fail after their retries
//! [`GIVE_UP_AFTER`] times in a row is given up on for [`GIVE_UP_FOR`]: calls
//! to it fail at once, saying why, so that a batch over a hung backend costs
//! a few read timeouts, not four per artifact, and `watch` tries it again
//! after a while.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::StoreError;

/// The most tries of one call.
pub const TRIES: u32 = 4;
/// How long one call (one object, one log entry) may spend in retries.
pub const CALL_BUDGET: Duration = Duration::from_secs(90);
/// Calls failing after their retries, in a row, before a backend is given up on.
pub const GIVE_UP_AFTER: u32 = 2;
/// How long a backend given up on is left alone.
pub const GIVE_UP_FOR: Duration = Duration::from_secs(300);
/// The first pause between tries; it doubles.
const FIRST_DELAY: Duration = Duration::from_millis(200);

/// Set the deadline of every remote call of this process (`--timeout`):
/// no try starts after it. Only the first call has an effect.
pub fn set_overall_timeout(timeout: Duration) {
    crate::deadline::set_overall(timeout);
}

/// How long a backend is given up on in this process: [`GIVE_UP_FOR`]
/// unless [`set_give_up_for`] said otherwise.
static GIVE_UP_WINDOW: OnceLock<Duration> = OnceLock::new();

/// Give up on failing backends for `window` instead of [`GIVE_UP_FOR`]
/// (`watch`, whose runs come back on their own retry schedule, pauses a
/// backend for about as long as that schedule). Only the first call counts.
pub fn set_give_up_for(window: Duration) {
    let _ = GIVE_UP_WINDOW.set(window);
}

fn give_up_window() -> Duration {
    GIVE_UP_WINDOW.get().copied().unwrap_or(GIVE_UP_FOR)
}

/// A backend's recent failures.
struct Health {
    in_a_row: u32,
    last: String,
    since: Instant,
}

fn health() -> &'static Mutex<HashMap<&'static str, Health>> {
    static HEALTH: OnceLock<Mutex<HashMap<&'static str, Health>>> = OnceLock::new();
    HEALTH.get_or_init(Default::default)
}

/// Why `backend` is not to be tried now, and for how much longer, if it is
/// given up on.
fn given_up(backend: &'static str) -> Option<(String, Duration)> {
    let map = health().lock().unwrap_or_else(|e| e.into_inner());
    let h = map.get(backend)?;
    let window = give_up_window();
    let left = window.checked_sub(h.since.elapsed())?;
    (h.in_a_row >= GIVE_UP_AFTER && !left.is_zero()).then(|| {
        let why = format!(
            "not tried: its last {} calls failed after their retries (last: {}); it is given up on for {}",
            h.in_a_row,
            h.last,
            crate::deadline::seconds(window)
        );
        (why, left)
    })
}

fn record(backend: &'static str, failure: Option<&str>) {
    let mut map = health().lock().unwrap_or_else(|e| e.into_inner());
    match failure {
        None => {
            map.remove(backend);
        }
        Some(message) => {
            let h = map.entry(backend).or_insert(Health {
                in_a_row: 0,
                last: String::new(),
                since: Instant::now(),
            });
            h.in_a_row += 1;
            h.last = message.to_string();
            h.since = Instant::now();
        }
    }
}

/// Whether another try fits: under [`TRIES`], and the pause plus a try as
/// long as the longest so far ends before the call's budget and the overall
/// deadline (`left`: what remains of it, if one is set).
fn another_try_fits(
    tries: u32,
    elapsed: Duration,
    delay: Duration,
    longest: Duration,
    left: Option<Duration>,
) -> bool {
    let next = delay + longest;
    tries < TRIES && elapsed + next <= CALL_BUDGET && left.is_none_or(|left| next <= left)
}

/// Run `op`, retrying transient failures within the deadlines. The error
/// returned is final (not transient): callers must not retry it again.
pub fn with_retries<T>(op: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    retry(None, op)
}

/// [`with_retries`] for a named backend: fails at once when the backend is
/// given up on.
pub fn with_retries_on<T>(
    backend: &'static str,
    op: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    retry(Some(backend), op)
}

fn retry<T>(
    backend: Option<&'static str>,
    mut op: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if let Some(b) = backend
        && let Some((why, left)) = given_up(b)
    {
        return Err(StoreError {
            deferred: Some(left),
            ..StoreError::new(b, why)
        });
    }
    if let (true, Some(total)) = (crate::deadline::spent(), crate::deadline::length()) {
        return Err(StoreError::new(
            backend.unwrap_or("store"),
            format!(
                "not tried: the --timeout of {} is spent",
                crate::deadline::seconds(total)
            ),
        ));
    }
    let started = Instant::now();
    let mut delay = FIRST_DELAY;
    let mut longest = Duration::ZERO;
    let mut tries = 0;
    loop {
        let began = Instant::now();
        tries += 1;
        let result = op();
        longest = longest.max(began.elapsed());
        match result {
            Ok(v) => {
                record(backend.unwrap_or_default(), None);
                return Ok(v);
            }
            Err(e)
                if e.transient
                    && another_try_fits(
                        tries,
                        started.elapsed(),
                        delay,
                        longest,
                        crate::deadline::remaining(),
                    ) =>
            {
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(mut e) => {
                if e.transient {
                    let took = started.elapsed().as_secs_f64();
                    let plural = if tries == 1 { "" } else { "s" };
                    e.message =
                        format!("{} (tried {tries} time{plural} over {took:.1}s", e.message);
                    if crate::deadline::spent() {
                        e.message.push_str("; the --timeout is spent");
                    }
                    e.message.push(')');
                    e.transient = false;
                    record(backend.unwrap_or(e.backend), Some(&e.message));
                }
                return Err(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_transient_failures_only() {
        let mut calls = 0;
        let r: Result<(), _> = with_retries(|| {
            calls += 1;
            Err(StoreError::transient("retry-test-a", "503"))
        });
        let e = r.unwrap_err();
        assert_eq!(calls, TRIES);
        assert!(!e.transient, "a spent retry is final");
        assert!(
            e.message.starts_with("503 (tried 4 times over "),
            "{}",
            e.message
        );
        let mut calls = 0;
        let r: Result<(), _> = with_retries(|| {
            calls += 1;
            Err(StoreError::new("retry-test-b", "401"))
        });
        assert_eq!(r.unwrap_err().message, "401");
        assert_eq!(calls, 1);
    }

    /// A try is only started when one as long as the longest so far still
    /// ends within the call's budget and the overall deadline.
    #[test]
    fn tries_stop_where_the_budget_ends() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        // A hung server with a 30 s read timeout: a second try fits, a third does not.
        assert!(another_try_fits(1, s(30), ms(200), s(30), None));
        assert!(!another_try_fits(2, s(60), ms(400), s(30), None));
        // Rekor's 60 s: one try only.
        assert!(!another_try_fits(1, s(60), ms(200), s(60), None));
        // Fast failures: every try, up to TRIES.
        assert!(another_try_fits(3, s(1), ms(800), ms(10), None));
        assert!(!another_try_fits(TRIES, s(1), ms(800), ms(10), None));
        // The overall deadline comes first.
        assert!(!another_try_fits(1, s(1), ms(200), s(10), Some(s(5))));
        assert!(another_try_fits(1, s(1), ms(200), s(1), Some(s(5))));
    }

    /// After GIVE_UP_AFTER calls fail after their retries, the backend is
    /// not called again; a success clears its record.
    #[test]
    fn a_backend_that_keeps_failing_is_given_up_on() {
        const B: &str = "retry-test-given-up";
        let mut calls = 0;
        for _ in 0..GIVE_UP_AFTER {
            let r: Result<(), _> = with_retries_on(B, || {
                calls += 1;
                Err(StoreError::transient(B, "connection reset"))
            });
            assert!(r.is_err());
        }
        assert_eq!(calls, GIVE_UP_AFTER * TRIES);
        let r: Result<(), _> = with_retries_on(B, || {
            calls += 1;
            Ok(())
        });
        let e = r.unwrap_err();
        assert_eq!(calls, GIVE_UP_AFTER * TRIES, "not called again");
        assert!(
            e.message.starts_with("not tried: its last 2 calls failed"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("connection reset (tried 4 times"),
            "{}",
            e.message
        );

        // Permanent failures (a 404, a 401) do not count: the backend answers.
        const C: &str = "retry-test-answers";
        for _ in 0..3 {
            let _: Result<(), _> = with_retries_on(C, || Err(StoreError::new(C, "404")));
        }
        assert!(with_retries_on(C, || Ok(())).is_ok());
    }
}
