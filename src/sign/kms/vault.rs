//! `hashivault://KEY` signer: a HashiCorp Vault or OpenBao transit key
//! (ECDSA P-256/P-384/P-521, Ed25519, RSA PKCS#1 v1.5), over Vault's REST API.
//!
//! Address: `signers.kms.auth.address`, else `VAULT_ADDR`. Token:
//! `signers.kms.auth.token`, else the file `signers.kms.auth.token-path`,
//! else `VAULT_TOKEN`, else `~/.vault-token` (as the Vault CLI does); or a JWT
//! login (`auth/<path>/login`) when `signers.kms.auth.oidc.*` is set. The
//! transit mount is `transit` unless `TRANSIT_SECRET_ENGINE_PATH` (sigstore's
//! name; `TRANSIT_SECRETS_ENGINE_PATH` is accepted too) says otherwise.
//! `VAULT_NAMESPACE` and `VAULT_CACERT` are honoured.
//!
//! Vault hashes the message itself (`hash_algorithm`), signs with the key
//! version whose public key was loaded, and returns ECDSA signatures as ASN.1
//! DER, as cosign writes them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::KmsOptions;
use crate::sign::{KeyKind, PublicKey, SharedSigner, SignError, Signer};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_OIDC_TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

fn kms_error(uri: &str, message: String) -> SignError {
    SignError::Kms {
        signer: uri.to_string(),
        message,
    }
}

/// The key name of `hashivault://KEY` (sigstore's rule: word characters,
/// `-` and `.`, starting and ending with a word character).
fn parse_reference(uri: &str) -> Result<String, String> {
    let key = uri
        .strip_prefix("hashivault://")
        .ok_or("not a hashivault:// URI; expected hashivault://KEY")?;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = !key.is_empty()
        && key.starts_with(word)
        && key.ends_with(word)
        && key.chars().all(|c| word(c) || c == '-' || c == '.');
    if ok {
        Ok(key.to_string())
    } else {
        Err(format!(
            "invalid key name {key:?}; expected hashivault://KEY (letters, digits, _, - and .)"
        ))
    }
}

/// The lines of one Vault error message, without go-multierror's framing.
fn error_lines(text: &str) -> Vec<String> {
    // "N error(s) occurred:"
    let framing = |l: &str| {
        l.ends_with("occurred:")
            && l.split(' ')
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok())
    };
    text.lines()
        .map(|l| l.trim().trim_start_matches("* ").trim())
        .filter(|l| !l.is_empty() && !framing(l))
        .map(str::to_string)
        .collect()
}

/// A connection to Vault: address, token and transit mount.
struct Vault {
    uri: String,
    key: String,
    client: Client,
    address: String,
    mount: String,
    namespace: Option<String>,
    token: Zeroizing<String>,
}

/// Secrets that must never appear in a message, whatever a server echoes.
fn redact(mut message: String, secrets: &[&str]) -> String {
    for s in secrets {
        let s = s.trim();
        if s.len() >= 4 {
            message = message.replace(s, "[redacted]");
        }
    }
    message
}

fn read_secret(uri: &str, path: &Path, what: &str) -> Result<Zeroizing<String>, SignError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        kms_error(
            uri,
            format!("cannot read the {what} file {}: {e}", path.display()),
        )
    })?;
    let text = Zeroizing::new(text);
    let secret = Zeroizing::new(text.trim().to_string());
    if secret.is_empty() {
        return Err(kms_error(
            uri,
            format!("the {what} file {} is empty", path.display()),
        ));
    }
    Ok(secret)
}

impl Vault {
    fn connect(uri: &str, opts: &KmsOptions) -> Result<Vault, SignError> {
        let key = parse_reference(uri).map_err(|e| kms_error(uri, e))?;
        let address = opts
            .address
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or_else(|| opts.env.get("VAULT_ADDR").map(str::to_string))
            .ok_or_else(|| {
                kms_error(
                    uri,
                    "no Vault address: set signers.kms.auth.address or VAULT_ADDR".into(),
                )
            })?;
        let address = address.trim().trim_end_matches('/').to_string();
        if !address.starts_with("http://") && !address.starts_with("https://") {
            return Err(kms_error(
                uri,
                format!("Vault address {address:?} must start with http:// or https://"),
            ));
        }
        let mount = opts
            .env
            .get("TRANSIT_SECRET_ENGINE_PATH")
            .map(str::to_string)
            .or_else(|| {
                opts.env
                    .get("TRANSIT_SECRETS_ENGINE_PATH")
                    .map(str::to_string)
            })
            .map(|m| m.trim().trim_matches('/').to_string())
            .unwrap_or_else(|| "transit".into());

        let mut builder = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("chains/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = opts.env.get("VAULT_CACERT").map(str::to_string) {
            let pem = std::fs::read(&ca)
                .map_err(|e| kms_error(uri, format!("cannot read VAULT_CACERT {ca}: {e}")))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                kms_error(
                    uri,
                    format!("VAULT_CACERT {ca} is not PEM certificates: {e}"),
                )
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| kms_error(uri, format!("cannot build the HTTP client: {e}")))?;

        let mut vault = Vault {
            uri: uri.to_string(),
            key,
            client,
            address,
            mount,
            namespace: opts.env.get("VAULT_NAMESPACE").map(str::to_string),
            token: Zeroizing::new(String::new()),
        };
        vault.token = if opts.oidc_path.is_some() || opts.oidc_role.is_some() {
            vault.login(opts)?
        } else {
            vault.static_token(opts)?
        };
        Ok(vault)
    }

    fn static_token(&self, opts: &KmsOptions) -> Result<Zeroizing<String>, SignError> {
        let uri = &self.uri;
        if let Some(t) = opts.token.as_deref().filter(|t| !t.trim().is_empty()) {
            return Ok(Zeroizing::new(t.trim().to_string()));
        }
        if let Some(path) = &opts.token_path {
            return read_secret(uri, path, "Vault token");
        }
        if let Some(t) = opts.env.get("VAULT_TOKEN").map(str::to_string) {
            return Ok(Zeroizing::new(t.trim().to_string()));
        }
        if let Some(home) = opts.env.get("HOME").map(str::to_string) {
            let file = PathBuf::from(home).join(".vault-token");
            if file.is_file() {
                return read_secret(uri, &file, "Vault token");
            }
        }
        Err(kms_error(
            uri,
            "no Vault token: set signers.kms.auth.token or token-path, VAULT_TOKEN, or signers.kms.auth.oidc".into(),
        ))
    }

    /// JWT login: `POST /v1/auth/<path>/login {role, jwt}`.
    fn login(&self, opts: &KmsOptions) -> Result<Zeroizing<String>, SignError> {
        let path = opts
            .oidc_path
            .as_deref()
            .map(|p| p.trim().trim_matches('/'))
            .filter(|p| !p.is_empty())
            .unwrap_or("jwt");
        let jwt_file = opts
            .oidc_token_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OIDC_TOKEN_PATH));
        let jwt = read_secret(&self.uri, &jwt_file, "OIDC token")?;
        let body = Zeroizing::new(
            json!({"role": opts.oidc_role.as_deref().unwrap_or(""), "jwt": jwt.as_str()})
                .to_string(),
        );
        let what = format!("Vault login at auth/{path}");
        let resp = self.send(
            Method::POST,
            &format!("auth/{path}/login"),
            Some(body.as_str()),
            false,
            &what,
            &[&jwt],
        )?;
        let token = resp
            .pointer("/auth/client_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                kms_error(&self.uri, format!("{what}: Vault returned no client token"))
            })?;
        Ok(Zeroizing::new(token.to_string()))
    }

    /// Send a request to `/v1/<path>` and return the JSON answer (`null` for
    /// an empty one). Messages never contain the token or the body.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        with_token: bool,
        what: &str,
        secrets: &[&str],
    ) -> Result<Value, SignError> {
        let url = format!("{}/v1/{path}", self.address);
        let mut req = self
            .client
            .request(method, &url)
            .timeout(crate::deadline::cap(REQUEST_TIMEOUT));
        if with_token {
            req = req.header("X-Vault-Token", self.token.as_str());
        }
        if let Some(ns) = &self.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(body) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let mut secrets = secrets.to_vec();
        secrets.push(self.token.as_str());
        let fail = |m: String| kms_error(&self.uri, redact(m, &secrets));
        let resp = req.send().map_err(|e| {
            let mut cause = String::new();
            let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
            while let Some(s) = src {
                cause = s.to_string();
                src = s.source();
            }
            if e.is_timeout() {
                fail(format!(
                    "{what}: Vault at {} did not answer within {}",
                    self.address,
                    crate::deadline::ended_by(REQUEST_TIMEOUT)
                ))
            } else if e.is_connect() {
                fail(format!(
                    "{what}: cannot reach Vault at {}: {cause}",
                    self.address
                ))
            } else {
                fail(format!(
                    "{what}: request to Vault at {} failed: {cause}",
                    self.address
                ))
            }
        })?;
        let status = resp.status();
        let text = resp
            .text()
            .map_err(|e| fail(format!("{what}: cannot read Vault's answer: {e}")))?;
        let json: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(_) if !status.is_success() => Value::Null,
                Err(e) => {
                    return Err(fail(format!(
                        "{what}: Vault answered with invalid JSON: {e}"
                    )));
                }
            }
        };
        if status.is_success() {
            return Ok(json);
        }
        // Vault's errors, one line each ("1 error occurred:\n\t* permission denied").
        let errors: Vec<String> = json
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .flat_map(error_lines)
                    .collect()
            })
            .unwrap_or_default();
        let detail = if errors.is_empty() {
            String::new()
        } else {
            format!(": {}", errors.join("; "))
        };
        let hint = match status.as_u16() {
            400 => "bad request",
            401 | 403 => {
                "permission denied: the Vault token is invalid or expired, or its policy does not allow this"
            }
            404 => "not found",
            429 => "rate limited by Vault",
            503 => "Vault is sealed or unavailable",
            _ => "Vault error",
        };
        Err(fail(format!(
            "{what}: HTTP {} ({hint}){detail}",
            status.as_u16()
        )))
    }

    fn keys_path(&self) -> String {
        format!("{}/keys/{}", self.mount, self.key)
    }

    /// The key's latest version and its public key.
    fn public_key(&self) -> Result<(u64, PublicKey), SignError> {
        let what = format!(
            "cannot read transit key {:?} (mount {:?})",
            self.key, self.mount
        );
        let resp = self
            .send(Method::GET, &self.keys_path(), None, true, &what, &[])
            .map_err(|e| match e {
                SignError::Kms { signer, message } if message.contains("HTTP 404 (not found)") => {
                    SignError::Kms {
                        signer,
                        message: format!(
                            "no transit key {:?} at mount {:?}: create it with generate-key-pair --kms, or check TRANSIT_SECRET_ENGINE_PATH ({})",
                            self.key,
                            self.mount,
                            message.strip_prefix(&format!("{what}: ")).unwrap_or(&message)
                        ),
                    }
                }
                other => other,
            })?;
        let fail = |m: String| kms_error(&self.uri, format!("transit key {:?}: {m}", self.key));
        let data = resp
            .get("data")
            .ok_or_else(|| fail("Vault's answer has no data".into()))?;
        let key_type = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        if data.get("supports_signing").and_then(Value::as_bool) == Some(false) {
            return Err(fail(format!("its type {key_type} cannot sign")));
        }
        let version = data
            .get("latest_version")
            .and_then(Value::as_u64)
            .ok_or_else(|| fail("Vault's answer has no latest_version".into()))?;
        let entry = data
            .get("keys")
            .and_then(|k| k.get(version.to_string()))
            .ok_or_else(|| fail(format!("Vault's answer has no version {version}")))?;
        let public = entry
            .get("public_key")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                fail(format!(
                    "its type {key_type} has no public key, so it cannot sign"
                ))
            })?;
        let key = if public.contains("-----BEGIN") {
            PublicKey::from_pem(public)
        } else {
            // Ed25519: the raw 32-byte key, base64.
            let raw = STANDARD
                .decode(public.trim())
                .map_err(|e| fail(format!("public key is neither PEM nor base64: {e}")))?;
            if raw.len() != 32 {
                return Err(fail(format!(
                    "a raw public key must be a 32-byte Ed25519 key, not {} bytes",
                    raw.len()
                )));
            }
            // SubjectPublicKeyInfo { AlgorithmIdentifier { id-Ed25519 }, BIT STRING }.
            let mut der = vec![
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            der.extend_from_slice(&raw);
            PublicKey::from_spki_der(&der)
        }
        .map_err(|e| fail(format!("unusable public key: {e}")))?;
        Ok((version, key))
    }
}

/// A signer for one transit key version.
struct VaultSigner {
    vault: Vault,
    version: u64,
    public_key: PublicKey,
}

/// A signer for an existing transit key; its public key is fetched once and
/// signatures are made with that key version.
pub fn load(uri: &str, opts: &KmsOptions) -> Result<SharedSigner, SignError> {
    let vault = Vault::connect(uri, opts)?;
    let (version, public_key) = vault.public_key()?;
    Ok(Arc::new(VaultSigner {
        vault,
        version,
        public_key,
    }))
}

/// Create an ECDSA P-256 transit key (Vault leaves an existing key as it is)
/// and return its public key.
pub fn create(uri: &str, opts: &KmsOptions) -> Result<PublicKey, SignError> {
    let vault = Vault::connect(uri, opts)?;
    let what = format!(
        "cannot create transit key {:?} (mount {:?})",
        vault.key, vault.mount
    );
    let body = json!({"type": "ecdsa-p256"}).to_string();
    vault.send(
        Method::POST,
        &vault.keys_path(),
        Some(&body),
        true,
        &what,
        &[],
    )?;
    vault.public_key().map(|(_, k)| k)
}

impl Signer for VaultSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let v = &self.vault;
        let mut body = json!({
            "input": STANDARD.encode(message),
            "key_version": self.version,
        });
        let hash = match self.public_key.kind() {
            KeyKind::EcdsaP256 | KeyKind::Rsa => Some("sha2-256"),
            KeyKind::EcdsaP384 => Some("sha2-384"),
            KeyKind::EcdsaP521 => Some("sha2-512"),
            KeyKind::Ed25519 => None,
        };
        if let Some(h) = hash {
            body["hash_algorithm"] = json!(h);
        }
        if self.public_key.kind() == KeyKind::Rsa {
            body["signature_algorithm"] = json!("pkcs1v15");
        }
        let path = format!("{}/sign/{}", v.mount, v.key);
        let resp = v.send(
            Method::POST,
            &path,
            Some(&body.to_string()),
            true,
            "signing failed",
            &[],
        )?;
        let fail = |m: &str| kms_error(&v.uri, format!("signing failed: {m}"));
        let sig = resp
            .pointer("/data/signature")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("Vault's answer has no signature"))?;
        // "vault:v<N>:<base64>"
        let b64 = sig
            .strip_prefix("vault:v")
            .and_then(|r| r.split_once(':'))
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map(|(_, b)| b)
            .ok_or_else(|| fail("the signature is not in Vault's vault:vN: form"))?;
        STANDARD
            .decode(b64)
            .map_err(|_| fail("the signature is not valid base64"))
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn describe(&self) -> String {
        self.vault.uri.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_follows_sigstore() {
        assert_eq!(
            parse_reference("hashivault://my-key.v2").unwrap(),
            "my-key.v2"
        );
        assert_eq!(parse_reference("hashivault://k").unwrap(), "k");
        for bad in [
            "hashivault://",
            "hashivault://-k",
            "hashivault://k-",
            "hashivault://a/b",
            "hashivault://a b",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vault_errors_on_one_line() {
        assert_eq!(
            error_lines("1 error occurred:\n\t* permission denied\n\n"),
            ["permission denied"]
        );
        assert_eq!(
            error_lines("no handler for route"),
            ["no handler for route"]
        );
    }

    #[test]
    fn redact_hides_secrets() {
        assert_eq!(
            redact("bad token s.abcdef here".into(), &["s.abcdef"]),
            "bad token [redacted] here"
        );
    }
}
