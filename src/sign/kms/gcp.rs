//! Google Cloud KMS signer, over the Cloud KMS REST API v1 (no gRPC).
//!
//! Key references are sigstore's: `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K`,
//! optionally followed by `/cryptoKeyVersions/V` (or `/versions/V`). Without a
//! version, the newest `ENABLED` version is used (the highest version number
//! among `cryptoKeyVersions.list` with `filter=state=ENABLED`), as sigstore
//! does. The version is resolved and its public key fetched once, at load.
//!
//! Requests:
//! - `GET  {base}/v1/{key}/cryptoKeyVersions?filter=state%3DENABLED` (no version given)
//! - `GET  {base}/v1/{version}/publicKey` → `{"pem", "algorithm", "pemCrc32c"}`
//! - `POST {base}/v1/{version}:asymmetricSign` with `{"digest": {"sha256": …}, "digestCrc32c"}`
//!   (`data`/`dataCrc32c` for Ed25519); CRC32C integrity fields are checked both ways.
//! - create: `GET`/`POST {base}/v1/projects/P/locations/L/keyRings[?keyRingId=R]`,
//!   `GET`/`POST {base}/v1/{ring}/cryptoKeys[?cryptoKeyId=K]` with purpose `ASYMMETRIC_SIGN`
//!   and algorithm `EC_SIGN_P256_SHA256`, then waits while the first version is
//!   `PENDING_GENERATION`. An existing key is not replaced: its public key is returned.
//!
//! `{base}` is `https://cloudkms.googleapis.com`, or `GOOGLE_KMS_ENDPOINT` when set
//! (e.g. `http://127.0.0.1:8080`, for emulators and tests).
//!
//! Credentials, first found wins (Google's application-default order):
//! 1. `GOOGLE_OAUTH_ACCESS_TOKEN`: an access token used as is (never refreshed);
//! 2. `GOOGLE_APPLICATION_CREDENTIALS`: a JSON key file, either `service_account`
//!    (an RS256 JWT signed with its private key, exchanged at its `token_uri`) or
//!    `authorized_user` (a `refresh_token` grant at its `token_uri`, default
//!    `https://oauth2.googleapis.com/token`);
//! 3. gcloud's application-default credentials file
//!    (`$CLOUDSDK_CONFIG/application_default_credentials.json`, default directory
//!    `~/.config/gcloud`, `%APPDATA%\gcloud` on Windows), same two types;
//! 4. the GCE metadata server (`GCE_METADATA_HOST`, default `metadata.google.internal`).
//!
//! Access tokens are cached with their expiry, shared by all threads, and
//! refreshed a minute before they expire (or after a 401). No token, secret,
//! assertion or private key ever appears in an error message.

use std::error::Error as StdError;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha384, Sha512};
use zeroize::{Zeroize, Zeroizing};

use super::KmsOptions;
use crate::sign::{KeyKind, PublicKey, SharedSigner, SignError, Signer};

const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const URI_FORMAT: &str = "gcpkms://projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY[/cryptoKeyVersions/VERSION]";
/// How long `create` waits for a new key's first version to be generated.
const GENERATION_WAIT: Duration = Duration::from_secs(60);

/// A signer for an existing Cloud KMS key (settings from the process environment).
pub fn load(uri: &str, opts: &KmsOptions) -> Result<SharedSigner, SignError> {
    load_with_env(uri, opts, &process_env)
}

/// Create an `EC_SIGN_P256_SHA256` key (and its key ring when missing); an
/// existing key is kept and its public key returned.
pub fn create(uri: &str, opts: &KmsOptions) -> Result<PublicKey, SignError> {
    create_with_env(uri, opts, &process_env)
}

/// [`load`] with the environment given as a lookup (for tests: no process-wide state).
#[doc(hidden)]
pub fn load_with_env(
    uri: &str,
    _opts: &KmsOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SharedSigner, SignError> {
    let key = KeyRef::parse(uri)?;
    let api = Api::new(uri, env)?;
    let signer = GcpSigner::open(api, &key, false)?;
    Ok(Arc::new(signer))
}

/// [`create`] with the environment given as a lookup.
#[doc(hidden)]
pub fn create_with_env(
    uri: &str,
    _opts: &KmsOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PublicKey, SignError> {
    let key = KeyRef::parse(uri)?;
    let api = Api::new(uri, env)?;
    let fail = |e: ApiError, what: &str| api.fail(format!("{what}: {}", e.message));

    match api.get(&format!("v1/{}", key.ring())) {
        Ok(_) => {}
        Err(e) if e.status == Some(404) => {
            let path = format!(
                "v1/{}/keyRings?keyRingId={}",
                key.location(),
                pct(&key.ring_id)
            );
            match api.post(&path, &json!({})) {
                Ok(_) => {}
                // Created meanwhile by someone else: fine.
                Err(e) if e.status == Some(409) => {}
                Err(e) => return Err(fail(e, "cannot create the key ring")),
            }
        }
        Err(e) => return Err(fail(e, "cannot look up the key ring")),
    }

    match api.get(&format!("v1/{}", key.key)) {
        Ok(existing) => {
            let purpose = existing
                .get("purpose")
                .and_then(Value::as_str)
                .unwrap_or("");
            if purpose != "ASYMMETRIC_SIGN" {
                return Err(api.fail(format!(
                    "the key already exists with purpose {purpose}, not ASYMMETRIC_SIGN"
                )));
            }
        }
        Err(e) if e.status == Some(404) => {
            let path = format!(
                "v1/{}/cryptoKeys?cryptoKeyId={}",
                key.ring(),
                pct(&key.key_id)
            );
            let body = json!({
                "purpose": "ASYMMETRIC_SIGN",
                "versionTemplate": {"algorithm": "EC_SIGN_P256_SHA256"},
            });
            match api.post(&path, &body) {
                Ok(_) => {}
                Err(e) if e.status == Some(409) => {}
                Err(e) => return Err(fail(e, "cannot create the key")),
            }
        }
        Err(e) => return Err(fail(e, "cannot look up the key")),
    }

    // Asymmetric key versions start PENDING_GENERATION; wait until usable.
    let signer = GcpSigner::open(api, &key, true)?;
    Ok(signer.public)
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A parsed `gcpkms://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyRef {
    project: String,
    location: String,
    ring_id: String,
    key_id: String,
    /// `projects/P/locations/L/keyRings/R/cryptoKeys/K`.
    key: String,
    version: Option<String>,
}

impl KeyRef {
    fn parse(uri: &str) -> Result<KeyRef, SignError> {
        let bad = || SignError::Kms {
            signer: uri.to_string(),
            message: format!("invalid Cloud KMS key reference; expected {URI_FORMAT}"),
        };
        let rest = uri.strip_prefix("gcpkms://").ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split('/').collect();
        if !(parts.len() == 8 || parts.len() == 10) || parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        let labels = ["projects", "locations", "keyRings", "cryptoKeys"];
        for (i, label) in labels.iter().enumerate() {
            if parts[2 * i] != *label {
                return Err(bad());
            }
        }
        let version = if parts.len() == 10 {
            if parts[8] != "cryptoKeyVersions" && parts[8] != "versions" {
                return Err(bad());
            }
            Some(parts[9].to_string())
        } else {
            None
        };
        Ok(KeyRef {
            project: parts[1].to_string(),
            location: parts[3].to_string(),
            ring_id: parts[5].to_string(),
            key_id: parts[7].to_string(),
            key: parts[..8].join("/"),
            version,
        })
    }

    fn location(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.location)
    }

    fn ring(&self) -> String {
        format!("{}/keyRings/{}", self.location(), self.ring_id)
    }
}

/// How a Cloud KMS algorithm signs: over a digest, or over the data (Ed25519).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    Sha256,
    Sha384,
    Sha512,
    Data,
}

/// The signing algorithms we can use, with what they sign and their key kind.
fn algorithm(name: &str) -> Option<(Input, KeyKind)> {
    Some(match name {
        "EC_SIGN_P256_SHA256" => (Input::Sha256, KeyKind::EcdsaP256),
        "EC_SIGN_P384_SHA384" => (Input::Sha384, KeyKind::EcdsaP384),
        "EC_SIGN_ED25519" => (Input::Data, KeyKind::Ed25519),
        "RSA_SIGN_PKCS1_2048_SHA256"
        | "RSA_SIGN_PKCS1_3072_SHA256"
        | "RSA_SIGN_PKCS1_4096_SHA256"
        | "RSA_SIGN_PSS_2048_SHA256"
        | "RSA_SIGN_PSS_3072_SHA256"
        | "RSA_SIGN_PSS_4096_SHA256" => (Input::Sha256, KeyKind::Rsa),
        "RSA_SIGN_PKCS1_4096_SHA512" | "RSA_SIGN_PSS_4096_SHA512" => (Input::Sha512, KeyKind::Rsa),
        _ => return None,
    })
}

struct GcpSigner {
    api: Api,
    /// The full CryptoKeyVersion resource name used to sign.
    version: String,
    input: Input,
    public: PublicKey,
}

impl GcpSigner {
    /// Resolve the version, fetch its public key. With `wait`, keep polling
    /// while the key's first version is still being generated.
    fn open(api: Api, key: &KeyRef, wait: bool) -> Result<GcpSigner, SignError> {
        let deadline = Instant::now() + GENERATION_WAIT;
        let mut delay = Duration::from_millis(200);
        loop {
            match Self::try_open(&api, key) {
                Ok((version, input, public)) => {
                    return Ok(GcpSigner {
                        api,
                        version,
                        input,
                        public,
                    });
                }
                Err(e) if wait && e.pending && Instant::now() < deadline => {
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(api.fail(e.message)),
            }
        }
    }

    fn try_open(api: &Api, key: &KeyRef) -> Result<(String, Input, PublicKey), OpenError> {
        let version = match &key.version {
            Some(v) => format!("{}/cryptoKeyVersions/{v}", key.key),
            None => latest_enabled_version(api, &key.key)?,
        };
        let reply = api
            .get(&format!("v1/{version}/publicKey"))
            .map_err(|e| OpenError {
                // FAILED_PRECONDITION (400): the version is still PENDING_GENERATION.
                pending: e.status == Some(400),
                message: format!("cannot get the public key of {version}: {}", e.message),
            })?;
        let fail = |message: String| OpenError {
            pending: false,
            message,
        };
        let alg = reply.get("algorithm").and_then(Value::as_str).unwrap_or("");
        let Some((input, kind)) = algorithm(alg) else {
            return Err(fail(format!(
                "{version} has algorithm {alg:?}, which cannot sign here (supported: EC_SIGN_P256_SHA256, EC_SIGN_P384_SHA384, EC_SIGN_ED25519, RSA_SIGN_PKCS1_*, RSA_SIGN_PSS_*)"
            )));
        };
        let pem = reply.get("pem").and_then(Value::as_str).unwrap_or("");
        if let Some(crc) = reply.get("pemCrc32c").and_then(int64)
            && crc != u64::from(crc32c(pem.as_bytes()))
        {
            return Err(fail(format!(
                "the public key of {version} was corrupted in transit (pemCrc32c mismatch)"
            )));
        }
        let public = PublicKey::from_pem(pem).map_err(|e| {
            fail(format!(
                "Cloud KMS returned an unusable public key for {version}: {e}"
            ))
        })?;
        if public.kind() != kind {
            return Err(fail(format!(
                "{version}: the public key is {} but the algorithm is {alg}",
                public.kind()
            )));
        }
        Ok((version, input, public))
    }
}

/// Why a key could not be opened; `pending` when waiting may help (a new
/// key's first version is generated asynchronously).
struct OpenError {
    pending: bool,
    message: String,
}

/// The newest ENABLED version of `key` (highest version number).
fn latest_enabled_version(api: &Api, key: &str) -> Result<String, OpenError> {
    let mut best: Option<(u64, String)> = None;
    let mut page = String::new();
    loop {
        let mut path = format!("v1/{key}/cryptoKeyVersions?filter=state%3DENABLED&pageSize=100");
        if !page.is_empty() {
            path.push_str(&format!("&pageToken={}", pct(&page)));
        }
        let reply = api.get(&path).map_err(|e| OpenError {
            pending: false,
            message: format!("cannot list the versions of {key}: {}", e.message),
        })?;
        let versions = reply.get("cryptoKeyVersions").and_then(Value::as_array);
        for v in versions.into_iter().flatten() {
            if v.get("state")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "ENABLED")
            {
                continue;
            }
            let Some(name) = v.get("name").and_then(Value::as_str) else {
                continue;
            };
            let number = name
                .rsplit('/')
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            if best.as_ref().is_none_or(|(b, _)| number > *b) {
                best = Some((number, name.to_string()));
            }
        }
        match reply.get("nextPageToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => page = t.to_string(),
            _ => break,
        }
    }
    best.map(|(_, name)| name).ok_or_else(|| OpenError {
        pending: true,
        message: format!("{key} has no ENABLED key version"),
    })
}

impl Signer for GcpSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let body = match self.input {
            Input::Data => json!({
                "data": STANDARD.encode(message),
                "dataCrc32c": crc32c(message).to_string(),
            }),
            Input::Sha256 => digest_body("sha256", &Sha256::digest(message)),
            Input::Sha384 => digest_body("sha384", &Sha384::digest(message)),
            Input::Sha512 => digest_body("sha512", &Sha512::digest(message)),
        };
        let reply = self
            .api
            .post(&format!("v1/{}:asymmetricSign", self.version), &body)
            .map_err(|e| {
                self.api
                    .fail(format!("asymmetricSign failed: {}", e.message))
            })?;
        let verified = if self.input == Input::Data {
            "verifiedDataCrc32c"
        } else {
            "verifiedDigestCrc32c"
        };
        if reply.get(verified).and_then(Value::as_bool) != Some(true) {
            return Err(self.api.fail(format!(
                "asymmetricSign: the request was not verified by Cloud KMS ({verified} is not true); it may have been corrupted in transit"
            )));
        }
        let signature = reply
            .get("signature")
            .and_then(Value::as_str)
            .and_then(|s| STANDARD.decode(s).ok())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                self.api
                    .fail("asymmetricSign: the reply has no base64 signature".into())
            })?;
        if let Some(crc) = reply.get("signatureCrc32c").and_then(int64)
            && crc != u64::from(crc32c(&signature))
        {
            return Err(self.api.fail(
                "asymmetricSign: the signature was corrupted in transit (signatureCrc32c mismatch)"
                    .into(),
            ));
        }
        if let Some(name) = reply.get("name").and_then(Value::as_str)
            && name != self.version
        {
            return Err(self.api.fail(format!(
                "asymmetricSign: Cloud KMS signed with {name}, not {}",
                self.version
            )));
        }
        Ok(signature)
    }

    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn describe(&self) -> String {
        self.api.uri.clone()
    }
}

/// `{"digest": {field: base64}, "digestCrc32c": "…"}`.
fn digest_body(field: &str, digest: &[u8]) -> Value {
    json!({
        "digest": {field: STANDARD.encode(digest)},
        "digestCrc32c": crc32c(digest).to_string(),
    })
}

/// A protobuf JSON int64 (a string, or a number from lenient servers).
fn int64(v: &Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
}

/// CRC32C (Castagnoli), as Cloud KMS uses for integrity fields.
pub(super) fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A failed API call: the HTTP status when there was one, and what went wrong.
#[derive(Debug)]
struct ApiError {
    status: Option<u16>,
    message: String,
}

/// The Cloud KMS REST endpoint with its credentials.
struct Api {
    uri: String,
    base: String,
    http: reqwest::blocking::Client,
    auth: GoogleAuth,
}

impl Api {
    fn new(uri: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Api, SignError> {
        let fail = |message: String| SignError::Kms {
            signer: uri.to_string(),
            message,
        };
        let base = match nonempty(env, "GOOGLE_KMS_ENDPOINT") {
            Some(b) if b.starts_with("http://") || b.starts_with("https://") => {
                b.trim_end_matches('/').to_string()
            }
            Some(_) => {
                return Err(fail(
                    "GOOGLE_KMS_ENDPOINT must be an http:// or https:// URL".into(),
                ));
            }
            None => DEFAULT_ENDPOINT.to_string(),
        };
        let http = http_client().map_err(fail)?;
        let source = GoogleSource::from_env(env).map_err(fail)?;
        Ok(Api {
            uri: uri.to_string(),
            base,
            http,
            auth: GoogleAuth {
                source,
                cache: TokenCache::default(),
            },
        })
    }

    /// A `SignError` for this key, with any secret we hold scrubbed out.
    fn fail(&self, message: String) -> SignError {
        SignError::Kms {
            signer: self.uri.clone(),
            message: self.auth.redact(message),
        }
    }

    fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.call(reqwest::Method::GET, path, None)
    }

    fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    /// One API call: bearer token, JSON in and out, Google error JSON decoded.
    /// A 401 drops the cached token and retries once with a fresh one; 429
    /// and 5xx are retried twice with a short backoff.
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let url = format!("{}/{path}", self.base);
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            let token = self.auth.token(&self.http).map_err(|message| ApiError {
                status: None,
                message,
            })?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.as_str());
            if let Some(b) = body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.to_string());
            }
            let (status, bytes) = send(req).map_err(|e| ApiError {
                status: None,
                message: format!("cannot reach Cloud KMS at {}: {e}", self.base),
            })?;
            if (200..300).contains(&status) {
                return serde_json::from_slice(&bytes).map_err(|e| ApiError {
                    status: Some(status),
                    message: format!("Cloud KMS sent a reply that is not JSON: {e}"),
                });
            }
            if status == 401 && !refreshed && self.auth.source.refreshable() {
                refreshed = true;
                self.auth.cache.invalidate();
                continue;
            }
            if matches!(status, 429 | 500 | 502 | 503 | 504) && attempt < 2 {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(250 * 4u64.pow(attempt - 1)));
                continue;
            }
            return Err(ApiError {
                status: Some(status),
                message: self.auth.redact(google_error(status, &bytes)),
            });
        }
    }
}

/// `HTTP 403 PERMISSION_DENIED: message` from Google's error JSON (API or OAuth shape).
fn google_error(status: u16, body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let hint = match status {
        401 => " (the credentials were rejected)",
        403 => {
            " (permission denied: signing needs cloudkms.cryptoKeyVersions.useToSign and .viewPublicKey, as in roles/cloudkms.signerVerifier; a key reference without a version also needs .list, as in roles/cloudkms.viewer)"
        }
        404 => " (no such key ring, key or key version)",
        _ => "",
    };
    match v.get("error") {
        Some(Value::Object(e)) => {
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            let what = e.get("status").and_then(Value::as_str).unwrap_or("");
            format!("HTTP {status} {what}: {message}{hint}")
        }
        Some(Value::String(code)) => {
            let desc = v
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("");
            format!("HTTP {status}: {code}: {desc}{hint}")
        }
        _ => format!("HTTP {status}{hint}: {}", snippet(body)),
    }
}

/// The start of a non-JSON error body, on one line.
pub(super) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

/// Where Google access tokens come from.
enum GoogleSource {
    /// `GOOGLE_OAUTH_ACCESS_TOKEN`.
    Static(Zeroizing<String>),
    ServiceAccount {
        email: String,
        key_id: Option<String>,
        key: aws_lc_rs::signature::RsaKeyPair,
        token_uri: String,
        origin: String,
    },
    AuthorizedUser {
        client_id: String,
        client_secret: Zeroizing<String>,
        refresh_token: Zeroizing<String>,
        token_uri: String,
        origin: String,
    },
    Metadata {
        host: String,
        /// Why the other sources did not apply, for the error when this fails too.
        tried: String,
    },
}

impl GoogleSource {
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<GoogleSource, String> {
        if let Some(token) = nonempty(env, "GOOGLE_OAUTH_ACCESS_TOKEN") {
            return Ok(GoogleSource::Static(Zeroizing::new(token)));
        }
        if let Some(path) = nonempty(env, "GOOGLE_APPLICATION_CREDENTIALS") {
            let origin = format!("GOOGLE_APPLICATION_CREDENTIALS file {path}");
            let text = std::fs::read_to_string(&path)
                .map(Zeroizing::new)
                .map_err(|e| format!("cannot read the {origin}: {e}"))?;
            return GoogleSource::from_json(&text, origin);
        }
        let adc = adc_path(env);
        if let Some(path) = &adc
            && path.is_file()
        {
            let origin = format!("gcloud application-default credentials {}", path.display());
            let text = std::fs::read_to_string(path)
                .map(Zeroizing::new)
                .map_err(|e| format!("cannot read the {origin}: {e}"))?;
            return GoogleSource::from_json(&text, origin);
        }
        let host = nonempty(env, "GCE_METADATA_HOST")
            .unwrap_or_else(|| "metadata.google.internal".to_string());
        let tried = format!(
            "GOOGLE_OAUTH_ACCESS_TOKEN and GOOGLE_APPLICATION_CREDENTIALS are not set and there are no gcloud application-default credentials{}",
            adc.map(|p| format!(" at {}", p.display()))
                .unwrap_or_default()
        );
        Ok(GoogleSource::Metadata { host, tried })
    }

    /// Parse a credentials JSON file (service_account or authorized_user).
    /// Messages name fields, never their values.
    fn from_json(text: &str, origin: String) -> Result<GoogleSource, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "the {origin} is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        let field = |name: &str| -> Result<String, String> {
            v.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("the {origin} has no \"{name}\""))
        };
        let token_uri = v
            .get("token_uri")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_TOKEN_URI)
            .to_string();
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "service_account" => {
                let email = field("client_email")?;
                let pem = Zeroizing::new(field("private_key")?);
                let mut der = crate::sign::pem_block(&pem, &["PRIVATE KEY"]).ok_or_else(|| {
                    format!("the {origin} has a private_key that is not a PEM PRIVATE KEY")
                })?;
                let key = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der);
                der.zeroize();
                let key = key.map_err(|_| {
                    format!("the {origin} has a private_key that is not an RSA PKCS#8 key")
                })?;
                Ok(GoogleSource::ServiceAccount {
                    email,
                    key_id: v
                        .get("private_key_id")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    key,
                    token_uri,
                    origin,
                })
            }
            "authorized_user" => Ok(GoogleSource::AuthorizedUser {
                client_id: field("client_id")?,
                client_secret: Zeroizing::new(field("client_secret")?),
                refresh_token: Zeroizing::new(field("refresh_token")?),
                token_uri,
                origin,
            }),
            other => Err(format!(
                "the {origin} has credential type {other:?}; supported: service_account, authorized_user (or set GOOGLE_OAUTH_ACCESS_TOKEN)"
            )),
        }
    }

    fn refreshable(&self) -> bool {
        !matches!(self, GoogleSource::Static(_))
    }

    /// Get a new access token and its lifetime in seconds.
    fn fetch(
        &self,
        http: &reqwest::blocking::Client,
    ) -> Result<(Zeroizing<String>, Option<u64>), String> {
        match self {
            GoogleSource::Static(t) => Ok((t.clone(), None)),
            GoogleSource::ServiceAccount {
                email,
                key_id,
                key,
                token_uri,
                origin,
            } => {
                let assertion = service_account_jwt(email, key_id.as_deref(), key, token_uri)
                    .map_err(|e| format!("cannot sign a token request with the {origin}: {e}"))?;
                let body = form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &assertion),
                ]);
                oauth_token(http.post(token_uri), body, token_uri, origin)
            }
            GoogleSource::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
                token_uri,
                origin,
            } => {
                let body = form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                    ("refresh_token", refresh_token),
                ]);
                oauth_token(http.post(token_uri), body, token_uri, origin)
            }
            GoogleSource::Metadata { host, tried } => {
                let url = format!(
                    "http://{host}/computeMetadata/v1/instance/service-accounts/default/token"
                );
                let req = http
                    .get(&url)
                    .header("Metadata-Flavor", "Google")
                    .timeout(Duration::from_secs(5));
                let (status, bytes) = send(req).map_err(|e| {
                    format!("no Google credentials found: {tried}, and the GCE metadata server at {host} is unreachable: {e}")
                })?;
                if !(200..300).contains(&status) {
                    return Err(format!(
                        "the GCE metadata server at {host} refused a token: {}",
                        google_error(status, &bytes)
                    ));
                }
                token_reply(&bytes, &format!("the GCE metadata server at {host}"))
            }
        }
    }
}

/// POST a form to an OAuth token endpoint and read `access_token`/`expires_in`.
fn oauth_token(
    req: reqwest::blocking::RequestBuilder,
    body: Zeroizing<String>,
    token_uri: &str,
    origin: &str,
) -> Result<(Zeroizing<String>, Option<u64>), String> {
    let req = req
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body.to_string());
    let (status, bytes) =
        send(req).map_err(|e| format!("cannot reach the token endpoint {token_uri}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "the token endpoint {token_uri} refused the {origin}: {}",
            google_error(status, &bytes)
        ));
    }
    token_reply(&bytes, token_uri)
}

/// `{"access_token": …, "expires_in": N}` (N a number or a numeric string).
pub(super) fn token_reply(
    bytes: &[u8],
    from: &str,
) -> Result<(Zeroizing<String>, Option<u64>), String> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| format!("{from} sent a token reply that is not JSON"))?;
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{from} sent a token reply without access_token"))?;
    let expires = v.get("expires_in").and_then(int64);
    Ok((Zeroizing::new(token.to_string()), expires))
}

/// The RS256 JWT a service account exchanges for an access token.
fn service_account_jwt(
    email: &str,
    key_id: Option<&str>,
    key: &aws_lc_rs::signature::RsaKeyPair,
    token_uri: &str,
) -> Result<Zeroizing<String>, String> {
    let now = unix_now();
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": email,
        "scope": SCOPE,
        "aud": token_uri,
        "iat": now,
        "exp": now + 3600,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| "RSA signing failed".to_string())?;
    Ok(Zeroizing::new(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    )))
}

/// gcloud's application-default credentials file.
fn adc_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let dir = if let Some(d) = nonempty(env, "CLOUDSDK_CONFIG") {
        PathBuf::from(d)
    } else if cfg!(windows) {
        PathBuf::from(nonempty(env, "APPDATA")?).join("gcloud")
    } else {
        PathBuf::from(nonempty(env, "HOME")?)
            .join(".config")
            .join("gcloud")
    };
    Some(dir.join("application_default_credentials.json"))
}

struct GoogleAuth {
    source: GoogleSource,
    cache: TokenCache,
}

impl GoogleAuth {
    fn token(&self, http: &reqwest::blocking::Client) -> Result<Zeroizing<String>, String> {
        self.cache
            .get(|| self.source.fetch(http))
            .map_err(|m| self.redact(m))
    }

    fn redact(&self, message: String) -> String {
        let mut secrets: Vec<String> = Vec::new();
        match &self.source {
            GoogleSource::Static(t) => secrets.push(t.to_string()),
            GoogleSource::AuthorizedUser {
                client_secret,
                refresh_token,
                ..
            } => {
                secrets.push(client_secret.to_string());
                secrets.push(refresh_token.to_string());
            }
            _ => {}
        }
        if let Some(t) = self.cache.current() {
            secrets.push(t.to_string());
        }
        redact(message, &secrets)
    }
}

// ---------------------------------------------------------------------------
// Helpers shared with the Azure signer.

/// An access token cache shared by all threads. The lock is held while a
/// token is fetched, so concurrent signers make one token request.
#[derive(Default)]
pub(super) struct TokenCache {
    slot: Mutex<Option<(Zeroizing<String>, Option<Instant>)>>,
}

impl TokenCache {
    /// The cached token, or a new one from `fetch` (token, lifetime in seconds;
    /// no lifetime: valid until invalidated).
    pub(super) fn get(
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

    pub(super) fn invalidate(&self) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The cached token, for scrubbing it from messages.
    pub(super) fn current(&self) -> Option<Zeroizing<String>> {
        self.slot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(t, _)| t.clone())
    }
}

/// Replace every occurrence of each (non-trivial) secret with `[redacted]`.
pub(super) fn redact(mut message: String, secrets: &[String]) -> String {
    for s in secrets {
        if s.len() >= 4 && message.contains(s.as_str()) {
            message = message.replace(s.as_str(), "[redacted]");
        }
    }
    message
}

/// The HTTP client: rustls, bounded timeouts, our user agent.
pub(super) fn http_client() -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("chains/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up an HTTP client: {}", error_chain(&e)))
}

/// Send a request; the status and body, or why there was no answer.
pub(super) fn send(req: reqwest::blocking::RequestBuilder) -> Result<(u16, Vec<u8>), String> {
    let resp = req.send().map_err(|e| error_chain(&e))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().map_err(|e| error_chain(&e))?;
    Ok((status, bytes.to_vec()))
}

/// An error and its sources, `: `-separated, without repeats.
pub(super) fn error_chain(e: &dyn StdError) -> String {
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
pub(super) fn form(pairs: &[(&str, &str)]) -> Zeroizing<String> {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect();
    Zeroizing::new(body.join("&"))
}

/// Percent-encode everything but RFC 3986 unreserved characters.
pub(super) fn pct(s: &str) -> String {
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

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An environment value, with empty meaning unset.
pub(super) fn nonempty(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_like_sigstore() {
        let k =
            KeyRef::parse("gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k").unwrap();
        assert_eq!(k.key, "projects/p/locations/global/keyRings/r/cryptoKeys/k");
        assert_eq!(k.version, None);
        assert_eq!(k.ring(), "projects/p/locations/global/keyRings/r");
        for (uri, v) in [
            (
                "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3",
                "3",
            ),
            (
                "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/versions/12",
                "12",
            ),
        ] {
            assert_eq!(KeyRef::parse(uri).unwrap().version.as_deref(), Some(v));
        }
        for bad in [
            "gcpkms://projects/p/locations/l/keyRings/r",
            "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/",
            "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/",
            "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/keyVersions/1",
            "gcpkms://project/p/locations/l/keyRings/r/cryptoKeys/k",
            "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/versions/1/x",
        ] {
            let e = KeyRef::parse(bad).unwrap_err().to_string();
            assert!(e.contains("cryptoKeyVersions"), "{bad}: {e}");
        }
    }

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form(&[("a b", "x=y&z"), ("k", "~._-")]).as_str(),
            "a%20b=x%3Dy%26z&k=~._-"
        );
    }

    #[test]
    fn errors_are_decoded_and_redacted() {
        let body = br#"{"error":{"code":403,"message":"Permission denied on resource","status":"PERMISSION_DENIED"}}"#;
        let m = google_error(403, body);
        assert!(
            m.starts_with("HTTP 403 PERMISSION_DENIED: Permission denied on resource"),
            "{m}"
        );
        let m = google_error(
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT"}"#,
        );
        assert_eq!(m, "HTTP 400: invalid_grant: Invalid JWT");
        assert_eq!(
            redact("token abcdef here".into(), &["abcdef".into()]),
            "token [redacted] here"
        );
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
    }
}
