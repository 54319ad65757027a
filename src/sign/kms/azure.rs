//! Azure Key Vault signer, over the Key Vault REST API (api-version 7.4).
//!
//! Key references are sigstore's: `azurekms://VAULT_HOST/KEY[/VERSION]`, e.g.
//! `azurekms://myvault.vault.azure.net/cosign`. The vault is reached at
//! `https://VAULT_HOST`; for local emulators and tests, a vault host of
//! `127.0.0.1`, `localhost` or `[::1]` (with an optional port) is reached over
//! plain `http://`. Without a version the current version is used; it is
//! pinned at load (from the key's `kid`) so every signature matches the public
//! key that was fetched.
//!
//! Requests:
//! - `GET  /keys/{name}[/{version}]?api-version=7.4` → a JSON Web Key (`EC` P-256/P-384/P-521 or `RSA`);
//! - `POST /keys/{name}/{version}/sign?api-version=7.4` with `{"alg": "ES256", "value": base64url(digest)}`;
//!   ECDSA replies are raw `r||s`, converted to ASN.1 DER (cosign's encoding);
//!   RSA keys sign with RS256 (PKCS#1 v1.5, SHA-256) whatever their size;
//! - create: `POST /keys/{name}/create?api-version=7.4` with `{"kty": "EC", "crv": "P-256", "key_ops": ["sign", "verify"]}`;
//!   an existing key is kept and its public key returned.
//!
//! Credentials, first found wins (as Azure's `DefaultAzureCredential`):
//! 1. `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET`: client credentials at
//!    `{AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token` (authority default
//!    `https://login.microsoftonline.com`, or by `AZURE_ENVIRONMENT` for the China and
//!    US Government clouds);
//! 2. workload identity: `AZURE_FEDERATED_TOKEN_FILE` + `AZURE_CLIENT_ID` + `AZURE_TENANT_ID`
//!    (the file's token is the client assertion; it is re-read at each refresh);
//! 3. managed identity: App Service's `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, else IMDS at
//!    `http://169.254.169.254` (or `AZURE_POD_IDENTITY_AUTHORITY_HOST`); `AZURE_CLIENT_ID`
//!    selects a user-assigned identity;
//! 4. when IMDS is unreachable, the Azure CLI (`az account get-access-token`).
//!
//! The token's resource is the vault's cloud (`https://vault.azure.net` unless the host is
//! in the China or US Government clouds, or a Managed HSM). Tokens are cached with their
//! expiry, shared by all threads, refreshed a minute early (or after a 401). No token,
//! secret or assertion ever appears in an error message.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::der::Encode;
use spki::der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, SequenceOf, UintRef};
use zeroize::Zeroizing;

use super::KmsOptions;
use crate::cloud::{
    TokenCache, error_chain, form, http_client, nonempty, pct, redact, send, snippet, unix_now,
};
use crate::sign::{PublicKey, SharedSigner, SignError, Signer};

const API_VERSION: &str = "7.4";
const URI_FORMAT: &str = "azurekms://VAULT_NAME.vault.azure.net/KEY[/VERSION]";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_IMDS: &str = "http://169.254.169.254";

const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A signer for an existing Key Vault key (settings from the process environment).
pub fn load(uri: &str, opts: &KmsOptions) -> Result<SharedSigner, SignError> {
    load_with_env(uri, opts, &process_env)
}

/// Create an EC P-256 signing key; an existing key is kept and its public key returned.
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
    let api = Api::new(uri, env)?;
    let bundle = api
        .get_key()
        .map_err(|e| api.fail(format!("cannot get the key: {}", e.message)))?;
    Ok(Arc::new(AzureSigner::from_bundle(api, &bundle)?))
}

/// [`create`] with the environment given as a lookup.
#[doc(hidden)]
pub fn create_with_env(
    uri: &str,
    _opts: &KmsOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PublicKey, SignError> {
    let api = Api::new(uri, env)?;
    let bundle = match api.get_key() {
        Ok(bundle) => bundle,
        Err(e) if e.status == Some(404) && api.vault.version.is_none() => {
            let path = format!("keys/{}/create", pct(&api.vault.key));
            let body = json!({
                "kty": "EC",
                "crv": "P-256",
                "key_ops": ["sign", "verify"],
                "attributes": {"enabled": true},
                "tags": {"use": "sigstore"},
            });
            api.call(reqwest::Method::POST, &path, Some(&body))
                .map_err(|e| api.fail(format!("cannot create the key: {}", e.message)))?
        }
        Err(e) => return Err(api.fail(format!("cannot get the key: {}", e.message))),
    };
    Ok(AzureSigner::from_bundle(api, &bundle)?.public)
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A parsed `azurekms://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VaultRef {
    /// `https://HOST` (or `http://` for a loopback host).
    base: String,
    key: String,
    version: Option<String>,
    /// The token audience: the vault's cloud.
    resource: &'static str,
}

impl VaultRef {
    fn parse(uri: &str) -> Result<VaultRef, SignError> {
        let bad = || SignError::Kms {
            signer: uri.to_string(),
            message: format!("invalid Azure Key Vault key reference; expected {URI_FORMAT}"),
        };
        let rest = uri.strip_prefix("azurekms://").ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split('/').collect();
        if !(2..=3).contains(&parts.len()) || parts[0].is_empty() || parts[1].is_empty() {
            return Err(bad());
        }
        let version = match parts.get(2) {
            Some(v)
                if !v
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) =>
            {
                return Err(bad());
            }
            Some(v) if !v.is_empty() => Some(v.to_string()),
            _ => None,
        };
        let host = parts[0];
        let name = host
            .strip_prefix('[')
            .and_then(|h| h.split_once(']'))
            .map(|(h, _)| h)
            .unwrap_or_else(|| host.split(':').next().unwrap_or(host));
        let loopback = matches!(name, "127.0.0.1" | "localhost" | "::1");
        let lower = name.to_ascii_lowercase();
        let resource = if lower.ends_with(".vault.azure.cn") {
            "https://vault.azure.cn"
        } else if lower.ends_with(".vault.usgovcloudapi.net") {
            "https://vault.usgovcloudapi.net"
        } else if lower.ends_with(".managedhsm.azure.net") {
            "https://managedhsm.azure.net"
        } else {
            "https://vault.azure.net"
        };
        Ok(VaultRef {
            base: format!("{}://{host}", if loopback { "http" } else { "https" }),
            key: parts[1].to_string(),
            version,
            resource,
        })
    }
}

/// How a key signs: Key Vault's algorithm name, the digest, and for ECDSA the
/// size of `r` and `s` in the raw reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scheme {
    alg: &'static str,
    hash: Hash,
    ec_len: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

struct AzureSigner {
    api: Api,
    /// The key version that signs (from the URI, or the current one at load).
    version: String,
    scheme: Scheme,
    public: PublicKey,
}

impl AzureSigner {
    /// From a KeyBundle (`GET /keys/…` or `create`): the public key, the scheme
    /// and the version to sign with.
    fn from_bundle(api: Api, bundle: &Value) -> Result<AzureSigner, SignError> {
        let key = bundle
            .get("key")
            .ok_or_else(|| api.fail("Key Vault returned a key bundle without \"key\"".into()))?;
        if bundle
            .pointer("/attributes/enabled")
            .and_then(Value::as_bool)
            == Some(false)
        {
            return Err(api.fail("the key is disabled in Key Vault".into()));
        }
        if let Some(ops) = key.get("key_ops").and_then(Value::as_array)
            && !ops.iter().any(|o| o.as_str() == Some("sign"))
        {
            return Err(api.fail(format!(
                "the key does not permit signing (key_ops: {})",
                Value::Array(ops.clone())
            )));
        }
        let (der, scheme) = jwk_to_spki(key).map_err(|m| api.fail(m))?;
        let public = PublicKey::from_spki_der(&der).map_err(|e| api.fail(e.to_string()))?;
        let version = match &api.vault.version {
            Some(v) => v.clone(),
            None => key
                .get("kid")
                .and_then(Value::as_str)
                .and_then(|kid| kid.trim_end_matches('/').rsplit('/').next())
                .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case(&api.vault.key))
                .map(str::to_string)
                .ok_or_else(|| {
                    api.fail("Key Vault returned a key without a versioned kid".into())
                })?,
        };
        Ok(AzureSigner {
            api,
            version,
            scheme,
            public,
        })
    }
}

/// A JSON Web Key (EC or RSA, `-HSM` or not) as a DER SubjectPublicKeyInfo.
fn jwk_to_spki(key: &Value) -> Result<(Vec<u8>, Scheme), String> {
    let kty = key.get("kty").and_then(Value::as_str).unwrap_or("");
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        let text = key
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the {kty} key has no \"{name}\""))?;
        b64url(text).ok_or_else(|| format!("the {kty} key's \"{name}\" is not base64url"))
    };
    let der_err = |e: spki::der::Error| format!("cannot encode the public key: {e}");
    match kty {
        "EC" | "EC-HSM" => {
            let crv = key.get("crv").and_then(Value::as_str).unwrap_or("");
            let (curve, len, alg, hash) = match crv {
                "P-256" => (OID_P256, 32, "ES256", Hash::Sha256),
                "P-384" => (OID_P384, 48, "ES384", Hash::Sha384),
                "P-521" => (OID_P521, 66, "ES512", Hash::Sha512),
                other => {
                    return Err(format!(
                        "unsupported elliptic curve {other:?} (supported: P-256, P-384, P-521)"
                    ));
                }
            };
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() > len || y.len() > len {
                return Err(format!("the {crv} key's coordinates are too long"));
            }
            // Uncompressed point: 04 || x || y, each left-padded to the field size.
            let mut point = vec![4u8];
            for c in [&x, &y] {
                point.extend(std::iter::repeat_n(0u8, len - c.len()));
                point.extend_from_slice(c);
            }
            let info = spki::SubjectPublicKeyInfoRef {
                algorithm: spki::AlgorithmIdentifierRef {
                    oid: OID_EC,
                    parameters: Some(AnyRef::from(&curve)),
                },
                subject_public_key: BitStringRef::from_bytes(&point).map_err(der_err)?,
            };
            let scheme = Scheme {
                alg,
                hash,
                ec_len: Some(len),
            };
            Ok((info.to_der().map_err(der_err)?, scheme))
        }
        "RSA" | "RSA-HSM" => {
            let (n, e) = (bytes("n")?, bytes("e")?);
            let rsa = pkcs1::RsaPublicKey {
                modulus: UintRef::new(&n).map_err(der_err)?,
                public_exponent: UintRef::new(&e).map_err(der_err)?,
            };
            let key_der = rsa.to_der().map_err(der_err)?;
            let info = spki::SubjectPublicKeyInfoRef {
                algorithm: spki::AlgorithmIdentifierRef {
                    oid: OID_RSA,
                    parameters: Some(AnyRef::NULL),
                },
                subject_public_key: BitStringRef::from_bytes(&key_der).map_err(der_err)?,
            };
            let scheme = Scheme {
                alg: "RS256",
                hash: Hash::Sha256,
                ec_len: None,
            };
            Ok((info.to_der().map_err(der_err)?, scheme))
        }
        other => Err(format!(
            "unsupported key type {other:?} (supported: EC, EC-HSM, RSA, RSA-HSM)"
        )),
    }
}

/// Base64url, padded or not.
fn b64url(text: &str) -> Option<Vec<u8>> {
    let t = text.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(t)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

/// ECDSA `r || s` (each `len` bytes) as the ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }`.
fn raw_ecdsa_to_der(raw: &[u8], len: usize) -> Result<Vec<u8>, String> {
    if raw.len() != 2 * len {
        return Err(format!(
            "the ECDSA signature is {} bytes, expected {}",
            raw.len(),
            2 * len
        ));
    }
    let (r, s) = raw.split_at(len);
    if r.iter().all(|&b| b == 0) || s.iter().all(|&b| b == 0) {
        return Err("the ECDSA signature has a zero component".into());
    }
    let encode = || -> Result<Vec<u8>, spki::der::Error> {
        let mut seq = SequenceOf::<UintRef<'_>, 2>::new();
        seq.add(UintRef::new(r)?)?;
        seq.add(UintRef::new(s)?)?;
        seq.to_der()
    };
    encode().map_err(|e| format!("cannot encode the ECDSA signature: {e}"))
}

impl Signer for AzureSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let digest = match self.scheme.hash {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        };
        let path = format!(
            "keys/{}/{}/sign",
            pct(&self.api.vault.key),
            pct(&self.version)
        );
        let body = json!({"alg": self.scheme.alg, "value": URL_SAFE_NO_PAD.encode(&digest)});
        let reply = self
            .api
            .call(reqwest::Method::POST, &path, Some(&body))
            .map_err(|e| self.api.fail(format!("sign failed: {}", e.message)))?;
        let raw = reply
            .get("value")
            .and_then(Value::as_str)
            .and_then(b64url)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                self.api
                    .fail("sign: the reply has no base64url \"value\"".into())
            })?;
        match self.scheme.ec_len {
            Some(len) => {
                raw_ecdsa_to_der(&raw, len).map_err(|m| self.api.fail(format!("sign: {m}")))
            }
            None => Ok(raw),
        }
    }

    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn describe(&self) -> String {
        self.api.uri.clone()
    }
}

#[derive(Debug)]
struct ApiError {
    status: Option<u16>,
    message: String,
}

/// A vault with its credentials.
struct Api {
    uri: String,
    vault: VaultRef,
    http: reqwest::blocking::Client,
    source: AzureSource,
    cache: TokenCache,
}

impl Api {
    fn new(uri: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Api, SignError> {
        let vault = VaultRef::parse(uri)?;
        let fail = |message: String| SignError::Kms {
            signer: uri.to_string(),
            message,
        };
        let http = http_client().map_err(fail)?;
        let source = AzureSource::from_env(env, vault.resource).map_err(fail)?;
        Ok(Api {
            uri: uri.to_string(),
            vault,
            http,
            source,
            cache: TokenCache::default(),
        })
    }

    fn fail(&self, message: String) -> SignError {
        SignError::Kms {
            signer: self.uri.clone(),
            message: self.redact(message),
        }
    }

    fn redact(&self, message: String) -> String {
        let mut secrets = self.source.secrets();
        if let Some(t) = self.cache.current() {
            secrets.push(t.to_string());
        }
        redact(message, &secrets)
    }

    fn get_key(&self) -> Result<Value, ApiError> {
        let mut path = format!("keys/{}", pct(&self.vault.key));
        if let Some(v) = &self.vault.version {
            path.push('/');
            path.push_str(&pct(v));
        }
        self.call(reqwest::Method::GET, &path, None)
    }

    /// One Key Vault call: bearer token, JSON in and out, `api-version`, Key
    /// Vault's error JSON decoded. A 401 drops the cached token and retries once;
    /// 429 and 5xx are retried twice with a short backoff.
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let url = format!("{}/{path}?api-version={API_VERSION}", self.vault.base);
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            let token = self
                .cache
                .get(|| self.source.fetch(&self.http))
                .map_err(|m| ApiError {
                    status: None,
                    message: self.redact(m),
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
                message: format!("cannot reach Key Vault at {}: {e}", self.vault.base),
            })?;
            if (200..300).contains(&status) {
                return serde_json::from_slice(&bytes).map_err(|e| ApiError {
                    status: Some(status),
                    message: format!("Key Vault sent a reply that is not JSON: {e}"),
                });
            }
            if status == 401 && !refreshed {
                refreshed = true;
                self.cache.invalidate();
                continue;
            }
            if matches!(status, 429 | 500 | 502 | 503 | 504) && attempt < 2 {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(250 * 4u64.pow(attempt - 1)));
                continue;
            }
            return Err(ApiError {
                status: Some(status),
                message: self.redact(azure_error(status, &bytes)),
            });
        }
    }
}

/// `HTTP 404 KeyNotFound: message` from Key Vault's error JSON, or the
/// `error`/`error_description` of Microsoft Entra ID and managed identity endpoints.
fn azure_error(status: u16, body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let hint = match status {
        401 => " (the credentials were rejected)",
        403 => {
            " (the identity lacks permission: signing needs keys get and sign, e.g. the Key Vault Crypto User role)"
        }
        404 => " (no such key or key version in this vault)",
        _ => "",
    };
    match v.get("error") {
        Some(Value::Object(e)) => {
            let code = e.get("code").and_then(Value::as_str).unwrap_or("");
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            format!("HTTP {status} {code}: {message}{hint}")
        }
        Some(Value::String(code)) => {
            // Entra ID descriptions run on with trace and correlation ids.
            let desc = v
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("");
            let first = desc.lines().next().unwrap_or("").trim();
            format!("HTTP {status}: {code}: {first}{hint}")
        }
        _ => format!("HTTP {status}{hint}: {}", snippet(body)),
    }
}

/// Where Azure access tokens come from.
enum AzureSource {
    ClientSecret {
        token_url: String,
        client_id: String,
        secret: Zeroizing<String>,
        scope: String,
    },
    WorkloadIdentity {
        token_url: String,
        client_id: String,
        token_file: PathBuf,
        scope: String,
    },
    AppService {
        endpoint: String,
        header: Zeroizing<String>,
        client_id: Option<String>,
        resource: &'static str,
    },
    /// IMDS, then the Azure CLI.
    Ambient {
        imds: String,
        client_id: Option<String>,
        tenant: Option<String>,
        resource: &'static str,
    },
}

impl AzureSource {
    fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        resource: &'static str,
    ) -> Result<AzureSource, String> {
        let tenant = nonempty(env, "AZURE_TENANT_ID");
        let client_id = nonempty(env, "AZURE_CLIENT_ID");
        let scope = format!("{resource}/.default");
        let authority = match nonempty(env, "AZURE_AUTHORITY_HOST") {
            Some(a) if a.starts_with("https://") || a.starts_with("http://") => {
                a.trim_end_matches('/').to_string()
            }
            Some(_) => return Err("AZURE_AUTHORITY_HOST must be an https:// URL".into()),
            None => match nonempty(env, "AZURE_ENVIRONMENT").as_deref() {
                Some("AZURECHINACLOUD") => "https://login.chinacloudapi.cn".to_string(),
                Some("AZUREUSGOVERNMENT" | "AZUREUSGOVERNMENTCLOUD") => {
                    "https://login.microsoftonline.us".to_string()
                }
                _ => DEFAULT_AUTHORITY.to_string(),
            },
        };
        let token_url = |tenant: &str| format!("{authority}/{}/oauth2/v2.0/token", pct(tenant));

        if let Some(secret) = nonempty(env, "AZURE_CLIENT_SECRET") {
            let (Some(tenant), Some(client_id)) = (&tenant, &client_id) else {
                return Err(
                    "AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID or AZURE_CLIENT_ID is not"
                        .into(),
                );
            };
            return Ok(AzureSource::ClientSecret {
                token_url: token_url(tenant),
                client_id: client_id.clone(),
                secret: Zeroizing::new(secret),
                scope,
            });
        }
        if nonempty(env, "AZURE_CLIENT_CERTIFICATE_PATH").is_some()
            || nonempty(env, "AZURE_USERNAME").is_some()
        {
            return Err("Azure certificate and username/password credentials are not supported; use AZURE_CLIENT_SECRET, workload identity (AZURE_FEDERATED_TOKEN_FILE), managed identity or the Azure CLI".into());
        }
        if let Some(file) = nonempty(env, "AZURE_FEDERATED_TOKEN_FILE") {
            let (Some(tenant), Some(client_id)) = (&tenant, &client_id) else {
                return Err("AZURE_FEDERATED_TOKEN_FILE is set but AZURE_TENANT_ID or AZURE_CLIENT_ID is not".into());
            };
            return Ok(AzureSource::WorkloadIdentity {
                token_url: token_url(tenant),
                client_id: client_id.clone(),
                token_file: PathBuf::from(file),
                scope,
            });
        }
        if let (Some(endpoint), Some(header)) = (
            nonempty(env, "IDENTITY_ENDPOINT"),
            nonempty(env, "IDENTITY_HEADER"),
        ) {
            return Ok(AzureSource::AppService {
                endpoint,
                header: Zeroizing::new(header),
                client_id,
                resource,
            });
        }
        let imds = nonempty(env, "AZURE_POD_IDENTITY_AUTHORITY_HOST")
            .unwrap_or_else(|| DEFAULT_IMDS.to_string())
            .trim_end_matches('/')
            .to_string();
        Ok(AzureSource::Ambient {
            imds,
            client_id,
            tenant,
            resource,
        })
    }

    /// Secrets this source holds, to scrub from messages.
    fn secrets(&self) -> Vec<String> {
        match self {
            AzureSource::ClientSecret { secret, .. } => vec![secret.to_string()],
            AzureSource::AppService { header, .. } => vec![header.to_string()],
            AzureSource::WorkloadIdentity { token_file, .. } => std::fs::read_to_string(token_file)
                .map(|t| vec![t.trim().to_string()])
                .unwrap_or_default(),
            AzureSource::Ambient { .. } => Vec::new(),
        }
    }

    /// A new access token and its lifetime in seconds.
    fn fetch(
        &self,
        http: &reqwest::blocking::Client,
    ) -> Result<(Zeroizing<String>, Option<u64>), String> {
        match self {
            AzureSource::ClientSecret {
                token_url,
                client_id,
                secret,
                scope,
            } => {
                let body = form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                    ("scope", scope),
                ]);
                entra_token(http, token_url, body, "client secret (AZURE_CLIENT_SECRET)")
            }
            AzureSource::WorkloadIdentity {
                token_url,
                client_id,
                token_file,
                scope,
            } => {
                let assertion = std::fs::read_to_string(token_file)
                    .map(Zeroizing::new)
                    .map_err(|e| {
                        format!(
                            "cannot read AZURE_FEDERATED_TOKEN_FILE {}: {e}",
                            token_file.display()
                        )
                    })?;
                let body = form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.trim()),
                    ("scope", scope),
                ]);
                entra_token(http, token_url, body, "workload identity token")
                    .map_err(|m| redact(m, &[assertion.trim().to_string()]))
            }
            AzureSource::AppService {
                endpoint,
                header,
                client_id,
                resource,
            } => {
                let mut url = format!(
                    "{endpoint}?api-version=2019-08-01&resource={}",
                    pct(resource)
                );
                if let Some(id) = client_id {
                    url.push_str(&format!("&client_id={}", pct(id)));
                }
                let req = http
                    .get(&url)
                    .header("X-IDENTITY-HEADER", header.as_str())
                    .timeout(Duration::from_secs(10));
                let (status, bytes) = send(req).map_err(|e| {
                    format!("cannot reach the managed identity endpoint (IDENTITY_ENDPOINT) {endpoint}: {e}")
                })?;
                if !(200..300).contains(&status) {
                    return Err(format!(
                        "the managed identity endpoint {endpoint} refused a token: {}",
                        azure_error(status, &bytes)
                    ));
                }
                azure_token_reply(&bytes, "the managed identity endpoint")
            }
            AzureSource::Ambient {
                imds,
                client_id,
                tenant,
                resource,
            } => {
                let mut url = format!(
                    "{imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={}",
                    pct(resource)
                );
                if let Some(id) = client_id {
                    url.push_str(&format!("&client_id={}", pct(id)));
                }
                let req = http
                    .get(&url)
                    .header("Metadata", "true")
                    .timeout(Duration::from_secs(3));
                match send(req) {
                    Ok((status, bytes)) if (200..300).contains(&status) => {
                        azure_token_reply(&bytes, "IMDS")
                    }
                    Ok((status, bytes)) => Err(format!(
                        "the managed identity endpoint (IMDS) at {imds} refused a token: {}",
                        azure_error(status, &bytes)
                    )),
                    Err(imds_error) => az_cli_token(resource, tenant.as_deref()).map_err(|cli| {
                        format!(
                            "no Azure credentials found: AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE and IDENTITY_ENDPOINT are not set, the managed identity endpoint (IMDS) at {imds} is unreachable ({imds_error}), and {cli}"
                        )
                    }),
                }
            }
        }
    }
}

/// POST a client-credentials form to Microsoft Entra ID.
fn entra_token(
    http: &reqwest::blocking::Client,
    token_url: &str,
    body: Zeroizing<String>,
    what: &str,
) -> Result<(Zeroizing<String>, Option<u64>), String> {
    let req = http
        .post(token_url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body.to_string());
    let (status, bytes) =
        send(req).map_err(|e| format!("cannot reach the token endpoint {token_url}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!(
            "the token endpoint {token_url} refused the {what}: {}",
            azure_error(status, &bytes)
        ));
    }
    azure_token_reply(&bytes, token_url)
}

/// `access_token` with `expires_in` (seconds) or `expires_on` (Unix time),
/// either as a number or a numeric string (managed identity endpoints use strings).
fn azure_token_reply(bytes: &[u8], from: &str) -> Result<(Zeroizing<String>, Option<u64>), String> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| format!("{from} sent a token reply that is not JSON"))?;
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{from} sent a token reply without access_token"))?;
    let number = |name: &str| {
        v.get(name).and_then(|x| {
            x.as_u64()
                .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        })
    };
    let lifetime = number("expires_in")
        .or_else(|| number("expires_on").map(|on| on.saturating_sub(unix_now())));
    Ok((Zeroizing::new(token.to_string()), lifetime))
}

/// `az account get-access-token` (a developer's `az login`).
fn az_cli_token(
    resource: &str,
    tenant: Option<&str>,
) -> Result<(Zeroizing<String>, Option<u64>), String> {
    let mut cmd = std::process::Command::new(if cfg!(windows) { "az.cmd" } else { "az" });
    cmd.args([
        "account",
        "get-access-token",
        "--output",
        "json",
        "--resource",
        resource,
    ]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.stdin(std::process::Stdio::null());
    let out = cmd
        .output()
        .map_err(|e| format!("the Azure CLI (az) cannot be run: {}", error_chain(&e)))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(format!(
            "the Azure CLI gave no token (try `az login`): {first}"
        ));
    }
    let v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| "the Azure CLI printed a token reply that is not JSON".to_string())?;
    let token = v
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("the Azure CLI printed no accessToken")?;
    let lifetime = v
        .get("expires_on")
        .and_then(|x| {
            x.as_u64()
                .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        })
        .map(|on| on.saturating_sub(unix_now()))
        .or(Some(300));
    Ok((Zeroizing::new(token.to_string()), lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_like_sigstore() {
        let v = VaultRef::parse("azurekms://myvault.vault.azure.net/cosign").unwrap();
        assert_eq!(v.base, "https://myvault.vault.azure.net");
        assert_eq!((v.key.as_str(), v.version.as_deref()), ("cosign", None));
        assert_eq!(v.resource, "https://vault.azure.net");
        let v = VaultRef::parse("azurekms://v.vault.azure.cn/k/0123abcd").unwrap();
        assert_eq!(v.version.as_deref(), Some("0123abcd"));
        assert_eq!(v.resource, "https://vault.azure.cn");
        let v = VaultRef::parse("azurekms://127.0.0.1:8443/k/").unwrap();
        assert_eq!(
            (v.base.as_str(), v.version),
            ("http://127.0.0.1:8443", None)
        );
        assert_eq!(
            VaultRef::parse("azurekms://[::1]:80/k").unwrap().base,
            "http://[::1]:80"
        );
        assert!(
            VaultRef::parse("azurekms://localhost.evil.com/k")
                .unwrap()
                .base
                .starts_with("https://")
        );
        for bad in [
            "azurekms://vault",
            "azurekms://vault/",
            "azurekms:///key",
            "azurekms://vault/key/Version",
            "azurekms://vault/key/v/extra",
        ] {
            assert!(VaultRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn raw_signatures_become_der() {
        // r = 1 (left-padded), s with the top bit set (needs a 0x00 pad).
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[32] = 0x80;
        let der = raw_ecdsa_to_der(&raw, 32).unwrap();
        let mut want = vec![0x30, 3 + 35, 0x02, 1, 1, 0x02, 33, 0];
        want.push(0x80);
        want.extend(std::iter::repeat_n(0, 31));
        assert_eq!(der, want);
        assert!(raw_ecdsa_to_der(&raw[..63], 32).is_err());
        assert!(raw_ecdsa_to_der(&[0u8; 64], 32).is_err());
    }

    #[test]
    fn der_encoding_matches_the_ecdsa_crates() {
        for i in 0u32..300 {
            let mut raw = Sha256::digest(i.to_be_bytes()).to_vec();
            raw.extend_from_slice(&Sha256::digest((i + 1000).to_be_bytes()));
            // Exercise leading zeros and high bits in r and s.
            match i % 4 {
                1 => raw[0] = 0,
                2 => raw[32..34].copy_from_slice(&[0, 0]),
                3 => raw[32] |= 0x80,
                _ => {}
            }
            let want = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
            assert_eq!(raw_ecdsa_to_der(&raw, 32).unwrap(), want.as_bytes(), "{i}");
            let mut raw384 = Sha384::digest(i.to_be_bytes()).to_vec();
            raw384.extend_from_slice(&Sha384::digest((i + 7).to_be_bytes()));
            raw384[0] &= 0x7f;
            let want = p384::ecdsa::Signature::from_slice(&raw384)
                .unwrap()
                .to_der();
            assert_eq!(
                raw_ecdsa_to_der(&raw384, 48).unwrap(),
                want.as_bytes(),
                "{i}"
            );
        }
    }

    #[test]
    fn errors_are_decoded() {
        let m = azure_error(
            404,
            br#"{"error":{"code":"KeyNotFound","message":"A key with (name/id) k was not found in this key vault."}}"#,
        );
        assert!(
            m.starts_with("HTTP 404 KeyNotFound: A key with (name/id) k was not found"),
            "{m}"
        );
        let m = azure_error(
            401,
            b"{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided.\\r\\nTrace ID: x\"}",
        );
        assert!(
            m.starts_with(
                "HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided. ("
            ),
            "{m}"
        );
    }
}
