//! The `gcs` backend: signed artifacts as objects in a Google Cloud Storage
//! bucket (`storage.gcs.bucket`), named as Tekton Chains names them.
//!
//! For each artifact of a run, four objects under
//! `<kind>-<namespace>-<name>/<short key>` (`kind` is `taskrun` or
//! `pipelinerun`: the run's, also for the images it built):
//! - `.signature`: what Chains calls the signature: the DSSE envelope JSON for
//!   an attestation, the raw signature bytes for an image;
//! - `.payload`: the signed payload: the in-toto statement, or the simple
//!   signing payload;
//! - `.cert` and `.chain`: the signing certificate and its chain (PEM), empty
//!   when a key signed. Chains' backend means to skip them without a
//!   certificate, but always receives one (an empty string is a non-nil byte
//!   slice), so it writes them empty: so do we.
//!
//! The short key is `taskrun-<uid>` (`pipelinerun-<uid>`) for an attestation
//! and the first 12 hex digits of the digest for an image, so a TaskRun that
//! built an image leaves `taskrun-ci-build/taskrun-<uid>.payload` and
//! `taskrun-ci-build/3b1f6a0e2c9d.payload`. Objects are written in Chains'
//! order (signature, payload, cert, chain) and replace what is there.
//!
//! Uploads use the JSON API (`POST {base}/upload/storage/v1/b/{bucket}/o?uploadType=media&name=…`);
//! the CRC32C the service reports is checked against what was sent. `{base}`
//! is `https://storage.googleapis.com` with Google's application-default
//! credentials ([`crate::cloud::google`], scope `devstorage.read_write`), or
//! `STORAGE_EMULATOR_HOST` (`host:port`, meaning `http://host:port`, or a URL),
//! as Google's client libraries read it: then no credentials are sent.
//!
//! Unlike Chains, which closes its GCS writers without checking the result
//! (so a missing bucket goes unnoticed there), a failed write fails the run:
//! nothing is marked attested that is not stored. 408, 429, 5xx, timeouts and
//! dropped connections are retried per object within its deadlines
//! ([`with_retries_on`]); an unreachable service, a missing bucket, 401 and
//! 403 fail at once, and a service that keeps failing is given up on.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::http::{self, Peer};
use super::{Backend, SignedArtifact, StoreError, is_transient_status, with_retries_on};
use crate::cloud::google::{GoogleCredentials, SCOPE_DEVSTORAGE_READ_WRITE, crc32c, error_message};
use crate::cloud::{nonempty, pct};
use crate::run::RunId;

const NAME: &str = "gcs";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One request, connection to last byte; retries stay within
/// [`super::CALL_BUDGET`] and the overall `--timeout`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_BASE: &str = "https://storage.googleapis.com";
const EMULATOR_VAR: &str = "STORAGE_EMULATOR_HOST";
/// Cloud Storage: read objects (what `chains verify` asks for).
const SCOPE_DEVSTORAGE_READ_ONLY: &str = "https://www.googleapis.com/auth/devstorage.read_only";
/// The most one object read back may hold: Chains' objects are kilobytes.
pub const MAX_READ_BYTES: u64 = 32 * 1024 * 1024;
/// A listing page is at most this big (GCS pages hold up to 1000 objects).
const MAX_LIST_PAGE_BYTES: u64 = 8 * 1024 * 1024;

/// Stores signed artifacts in one GCS bucket.
pub struct GcsBackend {
    bucket: String,
    /// `https://storage.googleapis.com`, or the emulator's URL.
    base: String,
    http: reqwest::blocking::Client,
    /// None for an emulator: nothing to authenticate.
    auth: Option<GoogleCredentials>,
}

impl GcsBackend {
    /// A backend for `bucket`, with settings from the process environment.
    /// Makes no request: credentials are found here, used at the first write.
    pub fn new(bucket: &str) -> Result<Self, StoreError> {
        Self::with_env(bucket, &|name| std::env::var(name).ok())
    }

    /// [`GcsBackend::new`] with the environment given as a lookup.
    #[doc(hidden)]
    pub fn with_env(
        bucket: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StoreError> {
        match nonempty(env, EMULATOR_VAR) {
            Some(host) => Self::build(bucket, emulator_base(&host)?, None),
            None => Self::with_endpoint(bucket, DEFAULT_BASE, env),
        }
    }

    /// A backend for `bucket` at `endpoint` (an `http(s)://` URL), with
    /// Google credentials from `env`: for tests and private endpoints.
    #[doc(hidden)]
    pub fn with_endpoint(
        bucket: &str,
        endpoint: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StoreError> {
        Self::with_endpoint_scope(bucket, endpoint, env, SCOPE_DEVSTORAGE_READ_WRITE)
    }

    /// A client that only reads `bucket` (`chains verify`): the same
    /// endpoint and credentials as [`GcsBackend::with_env`], but a token
    /// scoped to reading.
    pub fn reader_with_env(
        bucket: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, StoreError> {
        match nonempty(env, EMULATOR_VAR) {
            Some(host) => Self::build(bucket, emulator_base(&host)?, None),
            None => {
                Self::with_endpoint_scope(bucket, DEFAULT_BASE, env, SCOPE_DEVSTORAGE_READ_ONLY)
            }
        }
    }

    fn with_endpoint_scope(
        bucket: &str,
        endpoint: &str,
        env: &dyn Fn(&str) -> Option<String>,
        scope: &str,
    ) -> Result<Self, StoreError> {
        let auth = GoogleCredentials::from_env(env, scope)
            .map_err(|m| StoreError::new(NAME, format!("Google credentials: {m}")))?;
        Self::build(
            bucket,
            endpoint.trim_end_matches('/').to_string(),
            Some(auth),
        )
    }

    fn build(
        bucket: &str,
        base: String,
        auth: Option<GoogleCredentials>,
    ) -> Result<Self, StoreError> {
        check_bucket_name(bucket)?;
        let http =
            http::client(CONNECT_TIMEOUT, REQUEST_TIMEOUT).map_err(|m| StoreError::new(NAME, m))?;
        Ok(GcsBackend {
            bucket: bucket.to_string(),
            base,
            http,
            auth,
        })
    }

    /// Write one object, retrying transient failures. Once retries are spent
    /// the error is final (not transient), so callers do not retry again.
    fn put(&self, name: &str, data: &[u8], content_type: &str) -> Result<(), StoreError> {
        with_retries_on(NAME, || self.upload(name, data, content_type))
    }

    /// One upload (a 401 with refreshable credentials is retried once with a
    /// new token).
    fn upload(&self, name: &str, data: &[u8], content_type: &str) -> Result<(), StoreError> {
        let url = format!(
            "{}/upload/storage/v1/b/{}/o?uploadType=media&name={}",
            self.base,
            pct(&self.bucket),
            pct(name)
        );
        let object = format!("gs://{}/{name}", self.bucket);
        let fail = |message: String| StoreError::new(NAME, self.redact(message));
        let retry = |message: String| StoreError::transient(NAME, self.redact(message));
        let mut refreshed = false;
        loop {
            let mut req = self
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(data.to_vec());
            if let Some(auth) = &self.auth {
                let token = auth.token(&self.http).map_err(|m| {
                    fail(format!(
                        "cannot write {object}: no access token from {}: {m}",
                        auth.describe()
                    ))
                })?;
                req = req.bearer_auth(token.as_str());
            }
            let (status, body) = match http::exchange(req, REQUEST_TIMEOUT) {
                Ok(reply) => reply,
                Err(e) => {
                    let peer = Peer {
                        service: "Cloud Storage",
                        base: &self.base,
                    };
                    let what = format!("cannot write {object}");
                    return Err(http::unanswered(
                        e,
                        &what,
                        Some(peer),
                        REQUEST_TIMEOUT,
                        fail,
                        retry,
                    ));
                }
            };
            if (200..300).contains(&status) {
                return self.check_stored(&object, data, &body).map_err(retry);
            }
            if http::retry_unauthorized(status, &mut refreshed, self.auth.as_ref()) {
                continue;
            }
            let detail = match status {
                404 => {
                    return Err(fail(format!(
                        "cannot write {object}: bucket {} does not exist ({})",
                        self.bucket,
                        error_message(status, &body, "")
                    )));
                }
                401 => error_message(status, &body, " (the credentials were rejected)"),
                403 => error_message(
                    status,
                    &body,
                    " (permission denied: writing needs storage.objects.create on the bucket, and storage.objects.delete to replace an object, as in roles/storage.objectUser)",
                ),
                _ => error_message(status, &body, ""),
            };
            let message = format!("cannot write {object}: {detail}");
            return Err(if is_transient_status(status) {
                retry(message)
            } else {
                fail(message)
            });
        }
    }

    /// The service's object resource: its CRC32C (when given) must be ours.
    fn check_stored(&self, object: &str, data: &[u8], body: &[u8]) -> Result<(), String> {
        let reply: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let Some(reported) = reply.get("crc32c").and_then(Value::as_str) else {
            return Ok(());
        };
        let ours = crc32c(data).to_be_bytes();
        match STANDARD.decode(reported) {
            Ok(theirs) if theirs == ours => Ok(()),
            _ => Err(format!(
                "cannot write {object}: the stored object does not match what was sent (crc32c {reported}, expected {})",
                STANDARD.encode(ours)
            )),
        }
    }

    fn redact(&self, message: String) -> String {
        match &self.auth {
            Some(auth) => auth.redact(message),
            None => message,
        }
    }
}

/// One object of a listing.
#[derive(Clone, Debug)]
pub struct ListedObject {
    pub name: String,
    /// As the service reports it (0 when it does not).
    pub size: u64,
}

// Reading back (`chains verify`).
impl GcsBackend {
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The objects whose names start with `prefix`, following pages; more
    /// than `max` is an error (saying so) rather than an unbounded list.
    pub fn list(&self, prefix: &str, max: usize) -> Result<Vec<ListedObject>, StoreError> {
        let place = format!("gs://{}/{prefix}", self.bucket);
        let mut out = Vec::new();
        let mut page = String::new();
        loop {
            let mut url = format!(
                "{}/storage/v1/b/{}/o?prefix={}",
                self.base,
                pct(&self.bucket),
                pct(prefix)
            );
            if !page.is_empty() {
                url.push_str(&format!("&pageToken={}", pct(&page)));
            }
            let body = self.get(&url, &format!("cannot list {place}"), MAX_LIST_PAGE_BYTES)?;
            let reply: Value = serde_json::from_slice(&body).map_err(|e| {
                StoreError::new(
                    NAME,
                    format!("cannot list {place}: the listing is not JSON: {e}"),
                )
            })?;
            for item in reply["items"].as_array().into_iter().flatten() {
                let Some(name) = item["name"].as_str() else {
                    continue;
                };
                if out.len() == max {
                    return Err(StoreError::new(
                        NAME,
                        format!(
                            "{place} holds more than {max} objects, more than are read at once; name a run's folder (gs://{}/taskrun-<namespace>-<name>/)",
                            self.bucket
                        ),
                    ));
                }
                out.push(ListedObject {
                    name: name.to_string(),
                    size: crate::cloud::google::int64(&item["size"]).unwrap_or(0),
                });
            }
            match reply["nextPageToken"].as_str() {
                Some(token) if !token.is_empty() && token != page => page = token.to_string(),
                _ => return Ok(out),
            }
        }
    }

    /// One object's bytes, at most [`MAX_READ_BYTES`].
    pub fn read(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let url = format!(
            "{}/storage/v1/b/{}/o/{}?alt=media",
            self.base,
            pct(&self.bucket),
            pct(name)
        );
        self.get(
            &url,
            &format!("cannot read gs://{}/{name}", self.bucket),
            MAX_READ_BYTES,
        )
    }

    /// GET `url` with retries of transient failures; `what` starts messages.
    fn get(&self, url: &str, what: &str, limit: u64) -> Result<Vec<u8>, StoreError> {
        with_retries_on(NAME, || self.get_once(url, what, limit))
    }

    /// One GET (a 401 with refreshable credentials is retried once with a
    /// new token); the body is refused past `limit` bytes.
    fn get_once(&self, url: &str, what: &str, limit: u64) -> Result<Vec<u8>, StoreError> {
        let fail = |message: String| StoreError::new(NAME, self.redact(message));
        let retry = |message: String| StoreError::transient(NAME, self.redact(message));
        let mut refreshed = false;
        loop {
            let mut req = self.http.get(url);
            req = req.timeout(crate::deadline::cap(REQUEST_TIMEOUT));
            if let Some(auth) = &self.auth {
                let token = auth.token(&self.http).map_err(|m| {
                    fail(format!(
                        "{what}: no access token from {}: {m}",
                        auth.describe()
                    ))
                })?;
                req = req.bearer_auth(token.as_str());
            }
            let response = match req.send() {
                Ok(r) => r,
                Err(e) => {
                    let peer = Peer {
                        service: "Cloud Storage",
                        base: &self.base,
                    };
                    return Err(http::unanswered(
                        e,
                        what,
                        Some(peer),
                        REQUEST_TIMEOUT,
                        fail,
                        retry,
                    ));
                }
            };
            let status = response.status().as_u16();
            if http::retry_unauthorized(status, &mut refreshed, self.auth.as_ref()) {
                continue;
            }
            let body = read_capped(response, limit).map_err(|e| match e {
                ReadFailure::TooBig => fail(format!(
                    "{what}: it is larger than {} MiB, more than is read back",
                    limit / (1024 * 1024)
                )),
                ReadFailure::Io(e) => retry(format!("{what}: the reply broke off: {e}")),
            })?;
            if (200..300).contains(&status) {
                return Ok(body);
            }
            let detail = match status {
                404 => error_message(
                    status,
                    &body,
                    &format!(" (no bucket {}, or no such object)", self.bucket),
                ),
                401 => error_message(status, &body, " (the credentials were rejected)"),
                403 => error_message(
                    status,
                    &body,
                    " (permission denied: reading needs storage.objects.list and storage.objects.get on the bucket, as in roles/storage.objectViewer)",
                ),
                _ => error_message(status, &body, ""),
            };
            let message = format!("{what}: {detail}");
            return Err(if is_transient_status(status) {
                retry(message)
            } else {
                fail(message)
            });
        }
    }
}

enum ReadFailure {
    TooBig,
    Io(std::io::Error),
}

/// A reply's body, refused past `limit` bytes (by its declared length first).
fn read_capped(response: reqwest::blocking::Response, limit: u64) -> Result<Vec<u8>, ReadFailure> {
    use std::io::Read;
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(ReadFailure::TooBig);
    }
    let mut body = Vec::new();
    response
        .take(limit + 1)
        .read_to_end(&mut body)
        .map_err(ReadFailure::Io)?;
    if body.len() as u64 > limit {
        return Err(ReadFailure::TooBig);
    }
    Ok(body)
}

impl Backend for GcsBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn store(
        &self,
        run: &RunId,
        artifact: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let signature_type = match artifact.envelope {
            Some(_) => "application/json",
            None => "application/octet-stream",
        };
        for (name, data) in super::chains_objects(run, artifact) {
            let content_type = if name.ends_with(".signature") {
                signature_type
            } else if name.ends_with(".payload") {
                "application/json"
            } else {
                "application/x-pem-file"
            };
            self.put(&name, &data, content_type)?;
        }
        Ok(Vec::new())
    }
}

/// Chains' object name prefix: `taskrun-<namespace>-<name>/<short key>`.
pub fn object_prefix(run: &RunId, short_key: &str) -> String {
    format!(
        "{}-{}-{}/{short_key}",
        run.kind.lower(),
        run.namespace,
        run.name
    )
}

/// `STORAGE_EMULATOR_HOST` as Google's clients read it: a URL, or a
/// `host[:port]` reached over plain http.
fn emulator_base(value: &str) -> Result<String, StoreError> {
    let value = value.trim().trim_end_matches('/');
    let base = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(StoreError::new(
            NAME,
            format!("{EMULATOR_VAR}={value:?} is neither host:port nor an http(s) URL"),
        ));
    }
    Ok(base)
}

/// GCS bucket naming rules, checked up front for a clear message.
fn check_bucket_name(bucket: &str) -> Result<(), StoreError> {
    let invalid = |why: &str| {
        StoreError::new(
            NAME,
            format!("storage.gcs.bucket {bucket:?} is not a valid bucket name: {why}"),
        )
    };
    if let Some(rest) = bucket.strip_prefix("gs://") {
        return Err(invalid(&format!(
            "give the bucket's name ({:?}), not a gs:// URL",
            rest.split('/').next().unwrap_or("")
        )));
    }
    if !(3..=222).contains(&bucket.len()) {
        return Err(invalid("it must be 3 to 63 characters (222 with dots)"));
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(invalid(
            "only lower-case letters, digits, '-', '_' and '.' are allowed",
        ));
    }
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !alnum(bucket.bytes().next()) || !alnum(bucket.bytes().last()) {
        return Err(invalid("it must start and end with a letter or digit"));
    }
    if bucket
        .split('.')
        .any(|part| part.is_empty() || part.len() > 63)
    {
        return Err(invalid(
            "each dot-separated part must be 1 to 63 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Origin, RunKind};

    fn run(kind: RunKind) -> RunId {
        RunId {
            kind,
            namespace: "ci".into(),
            name: "build-app-7x2kq".into(),
            uid: "5d4b".into(),
            origin: Origin {
                file: "run.yaml".into(),
                document: 0,
                item: None,
                line: 1,
            },
        }
    }

    #[test]
    fn names_objects_as_chains() {
        let tr = run(RunKind::TaskRun);
        assert_eq!(
            object_prefix(&tr, &tr.short_key()),
            "taskrun-ci-build-app-7x2kq/taskrun-5d4b"
        );
        assert_eq!(
            object_prefix(&tr, "3b1f6a0e2c9d"),
            "taskrun-ci-build-app-7x2kq/3b1f6a0e2c9d"
        );
        let pr = run(RunKind::PipelineRun);
        assert_eq!(
            object_prefix(&pr, &pr.short_key()),
            "pipelinerun-ci-build-app-7x2kq/pipelinerun-5d4b"
        );
    }

    #[test]
    fn reads_the_emulator_convention() {
        assert_eq!(
            emulator_base("127.0.0.1:4443").unwrap(),
            "http://127.0.0.1:4443"
        );
        assert_eq!(
            emulator_base("https://gcs.local:8443/").unwrap(),
            "https://gcs.local:8443"
        );
        assert!(emulator_base("ftp://x").is_err());
        let env = |name: &str| (name == EMULATOR_VAR).then(|| "localhost:1".to_string());
        let b = GcsBackend::with_env("bucket", &env).unwrap();
        assert_eq!(b.base, "http://localhost:1");
        assert!(b.auth.is_none());
    }

    #[test]
    fn checks_bucket_names() {
        for ok in ["abc", "my-bucket_1", "a.b.c", "0ab"] {
            check_bucket_name(ok).unwrap();
        }
        for (bad, why) in [
            ("gs://b/x", "not a gs:// URL"),
            ("ab", "3 to 63"),
            ("My-Bucket", "lower-case"),
            ("-abc", "start and end"),
            ("a..b", "dot-separated"),
            ("a/b", "lower-case"),
        ] {
            let e = check_bucket_name(bad).unwrap_err().to_string();
            assert!(e.starts_with("gcs: ") && e.contains(why), "{bad}: {e}");
        }
    }
}
