//! The HTTP exchange the REST storage backends (Cloud Storage, Container
//! Analysis, Archivista, Firestore) share: their client, one request under the deadline in
//! force with its whole answer read, and a request that got no answer turned
//! into a [`StoreError`] that says whether trying again may help. Each
//! backend keeps its own status handling, since what a status means differs.

use std::time::Duration;

use reqwest::blocking::RequestBuilder;

use super::StoreError;
use crate::cloud::error_chain;
use crate::cloud::google::GoogleCredentials;

/// The client of a REST backend: `connect` to connect, `request` for a
/// whole request unless the deadline in force is nearer, our user agent.
pub(crate) fn client(
    connect: Duration,
    request: Duration,
) -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .connect_timeout(connect)
        .timeout(request)
        .user_agent(concat!("chains/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up an HTTP client: {}", error_chain(&e)))
}

/// Who was asked, for messages: `{service} at {base}`.
pub(crate) struct Peer<'a> {
    pub service: &'a str,
    pub base: &'a str,
}

/// Send `req` with a timeout of `limit`, or less when the deadline in force
/// (`--timeout`) is nearer, and read the whole answer: (status, body).
pub(crate) fn exchange(req: RequestBuilder, limit: Duration) -> reqwest::Result<(u16, Vec<u8>)> {
    req.timeout(crate::deadline::cap(limit))
        .send()
        .and_then(|r| {
            let status = r.status().as_u16();
            r.bytes().map(|b| (status, b.to_vec()))
        })
}

/// The error for a request that got no answer, after `what` (where it went
/// wrong). Nobody listening, or no such host, will not change in a second: it
/// is made by `fail`; a timeout or a dropped connection may, so it is made by
/// `retry`. Without a `peer` the message names no server (`what` does).
pub(crate) fn unanswered(
    e: reqwest::Error,
    what: &str,
    peer: Option<Peer>,
    limit: Duration,
    fail: impl FnOnce(String) -> StoreError,
    retry: impl FnOnce(String) -> StoreError,
) -> StoreError {
    let timed_out = e.is_timeout();
    let transient = timed_out || !(e.is_connect() || e.is_builder());
    let message = match (peer, timed_out) {
        (Some(p), true) => format!(
            "{what}: {} at {} did not answer within {}",
            p.service,
            p.base,
            crate::deadline::ended_by(limit)
        ),
        (Some(p), false) => format!(
            "{what}: cannot reach {} at {}: {}",
            p.service,
            p.base,
            error_chain(&e.without_url())
        ),
        (None, true) => format!(
            "{what}: no answer within {}",
            crate::deadline::ended_by(limit)
        ),
        (None, false) => format!("{what}: {}", error_chain(&e.without_url())),
    };
    if transient {
        retry(message)
    } else {
        fail(message)
    }
}

/// Whether a 401 is worth one more try: the credentials can fetch a new
/// token and have not yet in this call (`refreshed`). The cached token is
/// dropped so that the next try fetches one.
pub(crate) fn retry_unauthorized(
    status: u16,
    refreshed: &mut bool,
    auth: Option<&GoogleCredentials>,
) -> bool {
    let Some(auth) = auth.filter(|a| status == 401 && !*refreshed && a.refreshable()) else {
        return false;
    };
    *refreshed = true;
    auth.invalidate();
    true
}
