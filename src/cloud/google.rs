//! Google application-default credentials and access tokens, shared by the
//! Cloud KMS signer and the GCS storage backend; each asks for its own OAuth
//! scope (a service account's token is minted for that scope).
//!
//! Sources, first found wins (Google's application-default order):
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
//! Finding the source reads files but makes no request; the first token is
//! fetched when first needed. Tokens are cached with their expiry, shared by
//! all threads, and refreshed a minute before they expire (or after
//! [`GoogleCredentials::invalidate`], on a 401). No token, secret, assertion or
//! private key ever appears in a message.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use zeroize::{Zeroize, Zeroizing};

use super::{TokenCache, form, nonempty, redact, send, snippet, unix_now};

const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// Every Google Cloud API.
pub const SCOPE_CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Cloud KMS only.
pub const SCOPE_CLOUDKMS: &str = "https://www.googleapis.com/auth/cloudkms";
/// Cloud Storage: read and write objects.
pub const SCOPE_DEVSTORAGE_READ_WRITE: &str =
    "https://www.googleapis.com/auth/devstorage.read_write";

/// Google credentials for one OAuth scope, with their token cache.
pub struct GoogleCredentials {
    source: GoogleSource,
    cache: TokenCache,
    scope: String,
}

impl GoogleCredentials {
    /// Find the application-default credentials (`env` looks up environment
    /// variables; empty values count as unset). Errors name the source and
    /// fields, never their values.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        scope: &str,
    ) -> Result<GoogleCredentials, String> {
        Ok(GoogleCredentials {
            source: GoogleSource::from_env(env)?,
            cache: TokenCache::default(),
            scope: scope.to_string(),
        })
    }

    /// A valid access token: the cached one, or a new one.
    pub fn token(&self, http: &reqwest::blocking::Client) -> Result<Zeroizing<String>, String> {
        self.cache
            .get(|| self.source.fetch(http, &self.scope))
            .map_err(|m| self.redact(m))
    }

    /// Whether a rejected token can be replaced by a new one (not so for
    /// `GOOGLE_OAUTH_ACCESS_TOKEN`).
    pub fn refreshable(&self) -> bool {
        self.source.refreshable()
    }

    /// Drop the cached token (after a 401), so the next call fetches a new one.
    pub fn invalidate(&self) {
        self.cache.invalidate();
    }

    /// Where the credentials come from, for messages.
    pub fn describe(&self) -> String {
        match &self.source {
            GoogleSource::Static(_) => "GOOGLE_OAUTH_ACCESS_TOKEN".to_string(),
            GoogleSource::ServiceAccount { origin, .. }
            | GoogleSource::AuthorizedUser { origin, .. } => origin.clone(),
            GoogleSource::Metadata { host, .. } => format!("the GCE metadata server at {host}"),
        }
    }

    /// `message` with every secret these credentials hold scrubbed out.
    pub fn redact(&self, message: String) -> String {
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

/// `HTTP 403 PERMISSION_DENIED: message{hint}` from Google's error JSON (API
/// shape `{"error": {"code", "message", "status"}}` or OAuth shape
/// `{"error": code, "error_description"}`), else the start of the body.
pub fn error_message(status: u16, body: &[u8], hint: &str) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match v.get("error") {
        Some(Value::Object(e)) => {
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            match e.get("status").and_then(Value::as_str).unwrap_or("") {
                "" => format!("HTTP {status}: {message}{hint}"),
                what => format!("HTTP {status} {what}: {message}{hint}"),
            }
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

/// What a token endpoint's refusal means.
fn token_hint(status: u16) -> &'static str {
    match status {
        401 => " (the credentials were rejected)",
        _ => "",
    }
}

/// A protobuf JSON int64 (a string, or a number from lenient servers).
pub fn int64(v: &Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
}

/// CRC32C (Castagnoli), as Cloud KMS and Cloud Storage use for integrity.
pub fn crc32c(data: &[u8]) -> u32 {
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
                let mut der = crate::pem::decode(&pem, &["PRIVATE KEY"]).ok_or_else(|| {
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
        scope: &str,
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
                let assertion =
                    service_account_jwt(email, key_id.as_deref(), key, token_uri, scope).map_err(
                        |e| format!("cannot sign a token request with the {origin}: {e}"),
                    )?;
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
                        error_message(status, &bytes, token_hint(status))
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
            error_message(status, &bytes, token_hint(status))
        ));
    }
    token_reply(&bytes, token_uri)
}

/// `{"access_token": …, "expires_in": N}` (N a number or a numeric string).
fn token_reply(bytes: &[u8], from: &str) -> Result<(Zeroizing<String>, Option<u64>), String> {
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
    scope: &str,
) -> Result<Zeroizing<String>, String> {
    let now = unix_now();
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": email,
        "scope": scope,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn errors_are_decoded() {
        let body = br#"{"error":{"code":403,"message":"Permission denied on resource","status":"PERMISSION_DENIED"}}"#;
        assert_eq!(
            error_message(403, body, " (hint)"),
            "HTTP 403 PERMISSION_DENIED: Permission denied on resource (hint)"
        );
        assert_eq!(
            error_message(
                400,
                br#"{"error":"invalid_grant","error_description":"Invalid JWT"}"#,
                ""
            ),
            "HTTP 400: invalid_grant: Invalid JWT"
        );
        // fake-gcs-server's shape: no status name.
        assert_eq!(
            error_message(404, br#"{"error":{"code":404,"message":"Not Found"}}"#, ""),
            "HTTP 404: Not Found"
        );
        assert_eq!(
            error_message(502, b"<html>\n bad   gateway </html>", ""),
            "HTTP 502: <html> bad gateway </html>"
        );
    }

    #[test]
    fn the_scope_is_the_callers() {
        let env = |name: &str| {
            (name == "GOOGLE_OAUTH_ACCESS_TOKEN").then(|| "ya29.static-token".to_string())
        };
        let creds = GoogleCredentials::from_env(&env, SCOPE_DEVSTORAGE_READ_WRITE).unwrap();
        assert_eq!(creds.scope, SCOPE_DEVSTORAGE_READ_WRITE);
        assert!(!creds.refreshable());
        assert_eq!(creds.describe(), "GOOGLE_OAUTH_ACCESS_TOKEN");
        assert_eq!(
            creds.redact("bearer ya29.static-token".into()),
            "bearer [redacted]"
        );
    }

    #[test]
    fn metadata_server_is_the_last_resort() {
        let env = |name: &str| match name {
            "HOME" => Some("/nonexistent-home".to_string()),
            "GCE_METADATA_HOST" => Some("127.0.0.1:9".to_string()),
            _ => None,
        };
        let creds = GoogleCredentials::from_env(&env, SCOPE_CLOUD_PLATFORM).unwrap();
        assert!(creds.refreshable());
        assert_eq!(creds.describe(), "the GCE metadata server at 127.0.0.1:9");
    }
}
