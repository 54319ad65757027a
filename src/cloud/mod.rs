//! What the cloud clients share: Google credentials ([`google`]), used by the
//! Cloud KMS signer and the GCS storage backend, and the HTTP helpers every
//! cloud client here uses (a bounded blocking client, an access token cache,
//! secret redaction, form and percent encoding).
//!
//! Nothing here ever puts a token, secret or private key in a message: callers
//! pass every message through [`redact`] (or a credentials' `redact`).

pub mod google;

use std::error::Error as StdError;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

/// The start of a non-JSON error body, on one line.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

/// An access token cache shared by all threads. The lock is held while a
/// token is fetched, so concurrent signers make one token request.
#[derive(Default)]
pub struct TokenCache {
    slot: Mutex<Option<(Zeroizing<String>, Option<Instant>)>>,
}

impl TokenCache {
    /// The cached token, or a new one from `fetch` (token, lifetime in seconds;
    /// no lifetime: valid until invalidated).
    pub fn get(
        &self,
        fetch: impl FnOnce() -> Result<(Zeroizing<String>, Option<u64>), String>,
    ) -> Result<Zeroizing<String>, String> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, refresh_at)) = slot.as_ref()
            && refresh_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = fetch()?;
        let refresh_at = lifetime.map(|secs| {
            // Refresh a minute early (or halfway, for short-lived tokens).
            let margin = 60.min(secs / 2);
            Instant::now() + Duration::from_secs(secs - margin)
        });
        *slot = Some((token.clone(), refresh_at));
        Ok(token)
    }

    pub fn invalidate(&self) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The cached token, for scrubbing it from messages.
    pub fn current(&self) -> Option<Zeroizing<String>> {
        self.slot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(t, _)| t.clone())
    }
}

/// Replace every occurrence of each (non-trivial) secret with `[redacted]`.
pub fn redact(mut message: String, secrets: &[String]) -> String {
    for s in secrets {
        if s.len() >= 4 && message.contains(s.as_str()) {
            message = message.replace(s.as_str(), "[redacted]");
        }
    }
    message
}

/// The HTTP client: rustls, bounded timeouts, our user agent.
pub fn http_client() -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("chains/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up an HTTP client: {}", error_chain(&e)))
}

/// Send a request; the status and body, or why there was no answer.
pub fn send(req: reqwest::blocking::RequestBuilder) -> Result<(u16, Vec<u8>), String> {
    let resp = req.send().map_err(|e| error_chain(&e))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().map_err(|e| error_chain(&e))?;
    Ok((status, bytes.to_vec()))
}

/// An error and its sources, `: `-separated, without repeats.
pub fn error_chain(e: &dyn StdError) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `application/x-www-form-urlencoded` from pairs.
pub fn form(pairs: &[(&str, &str)]) -> Zeroizing<String> {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect();
    Zeroizing::new(body.join("&"))
}

/// Percent-encode everything but RFC 3986 unreserved characters.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An environment value, with empty meaning unset.
pub fn nonempty(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(
            form(&[("a b", "x=y&z"), ("k", "~._-")]).as_str(),
            "a%20b=x%3Dy%26z&k=~._-"
        );
    }

    #[test]
    fn redacts_secrets() {
        assert_eq!(
            redact("token abcdef here".into(), &["abcdef".into()]),
            "token [redacted] here"
        );
        // Trivial "secrets" are left alone rather than shredding the message.
        assert_eq!(redact("a b".into(), &["a".into()]), "a b");
    }

    #[test]
    fn token_cache_refreshes_after_expiry() {
        let cache = TokenCache::default();
        let mut calls = 0;
        for _ in 0..3 {
            cache
                .get(|| {
                    calls += 1;
                    Ok((Zeroizing::new("t".into()), Some(3600)))
                })
                .unwrap();
        }
        assert_eq!(calls, 1);
        // A zero-lifetime token is refreshed every time.
        let cache = TokenCache::default();
        let mut calls = 0;
        for _ in 0..3 {
            cache
                .get(|| {
                    calls += 1;
                    Ok((Zeroizing::new("t".into()), Some(0)))
                })
                .unwrap();
        }
        assert_eq!(calls, 3);
        // Invalidation forces a new token.
        cache.invalidate();
        assert!(cache.current().is_none());
    }
}
