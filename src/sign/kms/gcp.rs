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
//! Credentials are Google's application-default ones, from
//! [`crate::cloud::google`] (shared with the GCS storage backend), asked for
//! the `cloud-platform` scope: `GOOGLE_OAUTH_ACCESS_TOKEN`,
//! `GOOGLE_APPLICATION_CREDENTIALS` (service account or authorized user),
//! gcloud's application-default credentials, then the GCE metadata server.
//! Tokens are cached and refreshed before they expire (or after a 401). No
//! token, secret, assertion or private key ever appears in an error message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::KmsOptions;
use crate::cloud::google::{GoogleCredentials, SCOPE_CLOUD_PLATFORM, crc32c, error_message, int64};
use crate::cloud::{http_client, nonempty, pct, send};
use crate::sign::{KeyKind, PublicKey, SharedSigner, SignError, Signer};

const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com";
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
    auth: GoogleCredentials,
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
        // cloud-platform, as before the credentials were shared (it covers
        // Cloud KMS; what a token may do is still up to IAM).
        let auth = GoogleCredentials::from_env(env, SCOPE_CLOUD_PLATFORM).map_err(fail)?;
        Ok(Api {
            uri: uri.to_string(),
            base,
            http,
            auth,
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
            if status == 401 && !refreshed && self.auth.refreshable() {
                refreshed = true;
                self.auth.invalidate();
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

/// `HTTP 403 PERMISSION_DENIED: message` from Google's error JSON, with what
/// the status means for Cloud KMS.
fn google_error(status: u16, body: &[u8]) -> String {
    let hint = match status {
        401 => " (the credentials were rejected)",
        403 => {
            " (permission denied: signing needs cloudkms.cryptoKeyVersions.useToSign and .viewPublicKey, as in roles/cloudkms.signerVerifier; a key reference without a version also needs .list, as in roles/cloudkms.viewer)"
        }
        404 => " (no such key ring, key or key version)",
        _ => "",
    };
    error_message(status, body, hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::redact;

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
}
