//! `awskms://` signer: AWS KMS asymmetric keys (ECDSA P-256/P-384/P-521,
//! RSA PKCS#1 v1.5, Ed25519).
//!
//! References are the ones cosign accepts: `awskms://[ENDPOINT]/KEY` where
//! KEY is a key ID (`1234abcd-…`, `mrk-…`), `alias/NAME`, or a key or alias
//! ARN. A key ARN pins the region; otherwise the region, like the
//! credentials, comes from the environment (`AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`…, taken once into [`KmsEnv`] by the plan and given to
//! the SDK explicitly), else the SDK's default chain (profiles, web
//! identity, IMDS…). `AWS_ENDPOINT_URL_KMS`/`AWS_ENDPOINT_URL` are honoured
//! when the URI names no endpoint.
//!
//! Messages of 1 to 4096 bytes are sent as they are (`MessageType=RAW`,
//! KMS hashes them); others, which KMS refuses raw, are hashed here with
//! the algorithm's hash and sent as `MessageType=DIGEST`. Both give the same
//! signature over the message. ECDSA signatures come back ASN.1 DER, as
//! cosign writes them.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use sha2::Digest;

use super::{KmsEnv, KmsOptions};
use crate::sign::{PublicKey, SharedSigner, SignError, Signer};

/// The largest message KMS signs with `MessageType=RAW`.
const RAW_LIMIT: usize = 4096;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

const USAGE: &str =
    "expected awskms://[ENDPOINT]/KEY where KEY is a key ID, alias/NAME, or a key or alias ARN";

/// A parsed `awskms://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    /// `host[:port]`, empty when the URI names none.
    endpoint: String,
    /// What KMS calls the key: an ID, `alias/NAME` or an ARN.
    key_id: String,
    /// `alias/NAME` when the reference is an alias (name or ARN).
    alias: Option<String>,
    /// The region of an ARN.
    region: Option<String>,
}

impl Reference {
    fn parse(uri: &str) -> Result<Reference, String> {
        let rest = uri
            .strip_prefix("awskms://")
            .ok_or_else(|| format!("not an awskms:// URI; {USAGE}"))?;
        let (endpoint, key) = rest
            .split_once('/')
            .ok_or_else(|| format!("no key; {USAGE}"))?;
        let bad = || format!("invalid key reference {key:?}; {USAGE}");
        let mut r = Reference {
            endpoint: endpoint.to_string(),
            key_id: key.to_string(),
            alias: None,
            region: None,
        };
        if is_key_uuid(key) {
            return Ok(r);
        }
        if let Some(name) = key.strip_prefix("alias/") {
            if name.is_empty() {
                return Err(bad());
            }
            r.alias = Some(key.to_string());
            return Ok(r);
        }
        // arn:PARTITION:kms:REGION:ACCOUNT:(key/UUID|alias/NAME)
        let mut parts = key.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("kms"), Some(region), Some(account), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        let region_ok = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        if !matches!(partition, "aws" | "aws-us-gov") || !region_ok || !account_ok {
            return Err(bad());
        }
        if let Some(id) = res.strip_prefix("key/") {
            if !is_key_uuid(id) {
                return Err(bad());
            }
        } else if let Some(name) = res.strip_prefix("alias/") {
            if name.is_empty() {
                return Err(bad());
            }
            r.alias = Some(res.to_string());
        } else {
            return Err(bad());
        }
        r.region = Some(region.to_string());
        Ok(r)
    }

    /// The endpoint URL for a URI that names one: plain HTTP for the local
    /// machine (emulators), HTTPS otherwise.
    fn endpoint_url(&self) -> Option<String> {
        if self.endpoint.is_empty() {
            return None;
        }
        let host = match self.endpoint.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => self.endpoint.split(':').next().unwrap_or(""),
        };
        let scheme = if matches!(host, "127.0.0.1" | "localhost" | "::1") {
            "http"
        } else {
            "https"
        };
        Some(format!("{scheme}://{}", self.endpoint))
    }
}

/// A KMS key ID: a UUID (hyphens optional, as sigstore accepts), or a
/// multi-Region key ID `mrk-` + 32 hex digits.
fn is_key_uuid(s: &str) -> bool {
    let s = s.strip_prefix("mrk-").unwrap_or(s);
    let mut rest = s.as_bytes();
    for (i, len) in [8usize, 4, 4, 4, 12].into_iter().enumerate() {
        if i > 0 && rest.first() == Some(&b'-') {
            rest = &rest[1..];
        }
        if rest.len() < len || !rest[..len].iter().all(u8::is_ascii_hexdigit) {
            return false;
        }
        rest = &rest[len..];
    }
    rest.is_empty()
}

/// A KMS client and the runtime its requests run on.
struct Client {
    kms: aws_sdk_kms::Client,
    runtime: Option<tokio::runtime::Runtime>,
    /// Where requests go, for messages.
    target: String,
}

impl Client {
    fn new(uri: &str, r: &Reference, env: &KmsEnv) -> Result<Client, SignError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("chains-awskms")
            .enable_all()
            .build()
            .map_err(|e| kms_error(uri, format!("cannot start the AWS client runtime: {e}")))?;
        // The SDK's standard retries (3 attempts), with backoffs short enough
        // that a reset or a 5xx is reported as such within a short --timeout.
        let retries = aws_config::retry::RetryConfig::standard()
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(2));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retries)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            );
        // What the environment gives is given to the SDK explicitly; its
        // default chain (profiles, web identity, IMDS) fills the rest.
        let region = r.region.as_deref().or_else(|| {
            env.get("AWS_REGION")
                .or_else(|| env.get("AWS_DEFAULT_REGION"))
        });
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        if let (Some(id), Some(secret)) = (
            env.get("AWS_ACCESS_KEY_ID"),
            env.get("AWS_SECRET_ACCESS_KEY"),
        ) {
            loader = loader.credentials_provider(aws_sdk_kms::config::Credentials::new(
                id,
                secret,
                env.get("AWS_SESSION_TOKEN").map(str::to_string),
                None,
                "environment",
            ));
        }
        let sdk = run(&runtime, "AWS", loader.load()).map_err(|e| kms_error(uri, e))?;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err(kms_error(
                uri,
                "no AWS region: set AWS_REGION (or a profile's region), or use a key ARN".into(),
            ));
        };
        let mut config = aws_sdk_kms::config::Builder::from(&sdk);
        let endpoint = r.endpoint_url().or_else(|| {
            env.get("AWS_ENDPOINT_URL_KMS")
                .or_else(|| env.get("AWS_ENDPOINT_URL"))
                .map(str::to_string)
        });
        if let Some(url) = &endpoint {
            config = config.endpoint_url(url);
        }
        let target = match endpoint.as_deref().or(sdk.endpoint_url()) {
            Some(url) => format!("{url} (region {region})"),
            None => format!("AWS KMS in {region}"),
        };
        Ok(Client {
            kms: aws_sdk_kms::Client::from_conf(config.build()),
            runtime: Some(runtime),
            target,
        })
    }

    /// Run a request on the client's runtime and wait for it. Safe to call
    /// from any thread, including one inside another async runtime.
    fn run<T: Send + 'static>(
        &self,
        uri: &str,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, SignError> {
        let rt = self
            .runtime
            .as_ref()
            .expect("runtime lives as long as the client");
        run(rt, &self.target, fut).map_err(|e| kms_error(uri, e))
    }

    /// A failed request, explained.
    fn explain<E>(
        &self,
        what: &str,
        err: &SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
    ) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let target = &self.target;
        match err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                // A proxy or load balancer answers without an AWS error code.
                let Some(code) = e.code() else {
                    return format!(
                        "{what}: {target} answered HTTP {} without an AWS error code",
                        se.raw().status().as_u16()
                    );
                };
                let hint = match code {
                    "NotFoundException" => " (no such key or alias)",
                    "AccessDeniedException" => " (the credentials are not allowed to use this key)",
                    "UnrecognizedClientException"
                    | "InvalidSignatureException"
                    | "ExpiredTokenException" => " (the AWS credentials were rejected)",
                    "InvalidKeyUsageException" => " (the key's usage is not SIGN_VERIFY)",
                    "DisabledException" => " (the key is disabled)",
                    "KMSInvalidStateException" => " (the key is not usable in its current state)",
                    _ => "",
                };
                match e.message() {
                    Some(m) => format!("{what}: {code}{hint}: {m}"),
                    None => format!("{what}: {code}{hint}"),
                }
            }
            SdkError::DispatchFailure(df) if df.is_timeout() => {
                format!(
                    "{what}: {target} timed out: {}",
                    crate::cloud::error_chain(err)
                )
            }
            SdkError::DispatchFailure(df) if df.is_io() => {
                format!(
                    "{what}: cannot reach {target}: {}",
                    crate::cloud::error_chain(err)
                )
            }
            SdkError::TimeoutError(_) => format!(
                "{what}: {target} did not answer within {}s",
                OPERATION_TIMEOUT.as_secs()
            ),
            _ => {
                let cause = crate::cloud::error_chain(err);
                if cause.contains("credentials") {
                    format!(
                        "{what}: no usable AWS credentials (environment, profile, web identity, container or instance role): {cause}"
                    )
                } else {
                    format!("{what} ({target}): {cause}")
                }
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Drive `fut` on `rt` and wait for its result from this (blocking) thread.
fn run<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    target: &str,
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    // The SDK's own timeouts are per attempt and per operation; the
    // deadline in force (`--timeout`, read on this thread) ends it sooner.
    let limit = crate::deadline::remaining();
    let timed_out = format!(
        "{target} did not answer within {}",
        crate::deadline::ended_by(Duration::MAX)
    );
    let (tx, rx) = mpsc::sync_channel(1);
    rt.spawn(async move {
        let result = match limit {
            None => Ok(fut.await),
            Some(limit) => tokio::time::timeout(limit, fut)
                .await
                .map_err(|_| timed_out),
        };
        let _ = tx.send(result);
    });
    rx.recv()
        .map_err(|_| "the AWS client task failed unexpectedly".to_string())?
}

fn kms_error(uri: &str, message: String) -> SignError {
    SignError::Kms {
        signer: uri.to_string(),
        message,
    }
}

/// How a key signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    RsaPkcs1Sha256,
    Ed25519,
}

impl Scheme {
    fn for_spec(spec: &KeySpec) -> Option<Scheme> {
        Some(match spec {
            KeySpec::EccNistP256 => Scheme::EcdsaSha256,
            KeySpec::EccNistP384 => Scheme::EcdsaSha384,
            KeySpec::EccNistP521 => Scheme::EcdsaSha512,
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => Scheme::RsaPkcs1Sha256,
            KeySpec::EccNistEdwards25519 => Scheme::Ed25519,
            _ => return None,
        })
    }

    fn algorithm(self) -> SigningAlgorithmSpec {
        match self {
            Scheme::EcdsaSha256 => SigningAlgorithmSpec::EcdsaSha256,
            Scheme::EcdsaSha384 => SigningAlgorithmSpec::EcdsaSha384,
            Scheme::EcdsaSha512 => SigningAlgorithmSpec::EcdsaSha512,
            Scheme::RsaPkcs1Sha256 => SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
            Scheme::Ed25519 => SigningAlgorithmSpec::Ed25519Sha512,
        }
    }

    /// The digest KMS expects for `MessageType=DIGEST`; `None` when the
    /// scheme has no digest form giving the same signature (Ed25519).
    fn digest(self, message: &[u8]) -> Option<Vec<u8>> {
        Some(match self {
            Scheme::EcdsaSha256 | Scheme::RsaPkcs1Sha256 => sha2::Sha256::digest(message).to_vec(),
            Scheme::EcdsaSha384 => sha2::Sha384::digest(message).to_vec(),
            Scheme::EcdsaSha512 => sha2::Sha512::digest(message).to_vec(),
            Scheme::Ed25519 => return None,
        })
    }
}

/// A signer for one KMS key.
struct AwsKmsSigner {
    uri: String,
    key_id: String,
    client: Client,
    scheme: Scheme,
    public_key: PublicKey,
}

/// The key's public key and how it signs, checked to be a signing key.
struct KeyInfo {
    public_key: PublicKey,
    scheme: Scheme,
}

fn fetch_key(uri: &str, client: &Client, key_id: &str) -> Result<KeyInfo, SignError> {
    let req = client.kms.get_public_key().key_id(key_id).send();
    let out = client
        .run(uri, req)?
        .map_err(|e| kms_error(uri, client.explain("cannot get the public key", &e)))?;
    let usage = out.key_usage();
    if usage != Some(&KeyUsageType::SignVerify) {
        let usage = usage.map_or("unknown", |u| u.as_str());
        return Err(kms_error(
            uri,
            format!("key usage is {usage}, not SIGN_VERIFY: it cannot sign"),
        ));
    }
    // KeySpec, or its deprecated twin CustomerMasterKeySpec (same values),
    // which is all some emulators (moto) return.
    #[allow(deprecated)]
    let legacy_spec = out
        .customer_master_key_spec()
        .map(|s| KeySpec::from(s.as_str()));
    let spec = out
        .key_spec()
        .cloned()
        .or(legacy_spec)
        .ok_or_else(|| kms_error(uri, "KMS did not say what kind of key this is".into()))?;
    let spec = &spec;
    let scheme = Scheme::for_spec(spec).ok_or_else(|| {
        kms_error(
            uri,
            format!(
                "unsupported key spec {}: use ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_NIST_EDWARDS25519 or RSA_2048/3072/4096",
                spec.as_str()
            ),
        )
    })?;
    let offered = out.signing_algorithms();
    if !offered.is_empty() && !offered.contains(&scheme.algorithm()) {
        return Err(kms_error(
            uri,
            format!("the key does not offer {}", scheme.algorithm().as_str()),
        ));
    }
    let der = out
        .public_key()
        .ok_or_else(|| kms_error(uri, "KMS returned no public key".into()))?;
    let public_key = PublicKey::from_spki_der(der.as_ref())
        .map_err(|e| kms_error(uri, format!("KMS returned an unusable public key: {e}")))?;
    Ok(KeyInfo { public_key, scheme })
}

/// A signer for an existing key; its public key is fetched once.
pub fn load(uri: &str, opts: &KmsOptions) -> Result<SharedSigner, SignError> {
    let r = Reference::parse(uri).map_err(|e| kms_error(uri, e))?;
    let client = Client::new(uri, &r, &opts.env)?;
    let info = fetch_key(uri, &client, &r.key_id)?;
    Ok(std::sync::Arc::new(AwsKmsSigner {
        uri: uri.to_string(),
        key_id: r.key_id,
        client,
        scheme: info.scheme,
        public_key: info.public_key,
    }))
}

/// Create an ECDSA P-256 signing key under the URI's alias. As cosign does,
/// an alias that already names a signing key is reused.
pub fn create(uri: &str, opts: &KmsOptions) -> Result<PublicKey, SignError> {
    let r = Reference::parse(uri).map_err(|e| kms_error(uri, e))?;
    let Some(alias) = r.alias.clone() else {
        return Err(kms_error(
            uri,
            "creating a key needs an alias (awskms:///alias/NAME): KMS chooses key IDs itself"
                .into(),
        ));
    };
    let client = Client::new(uri, &r, &opts.env)?;

    // Look for an existing key first.
    let req = client.kms.get_public_key().key_id(&r.key_id).send();
    match client.run(uri, req)? {
        Ok(_) => return fetch_key(uri, &client, &r.key_id).map(|k| k.public_key),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) => {}
        Err(e) => {
            return Err(kms_error(
                uri,
                client.explain("cannot look up the alias", &e),
            ));
        }
    }

    let req = client
        .kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .description("Created by chains generate-key-pair")
        .send();
    let created = client
        .run(uri, req)?
        .map_err(|e| kms_error(uri, client.explain("cannot create the key", &e)))?;
    let key_id = created
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .ok_or_else(|| kms_error(uri, "KMS created a key but did not return its ID".into()))?;

    let req = client
        .kms
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&key_id)
        .send();
    if let Err(e) = client.run(uri, req)? {
        let message = client.explain(
            &format!("created key {key_id} but cannot create {alias}"),
            &e,
        );
        // Do not leave an unreachable key behind (best effort).
        let req = client
            .kms
            .schedule_key_deletion()
            .key_id(&key_id)
            .pending_window_in_days(7)
            .send();
        let _ = client.run(uri, req);
        return Err(kms_error(uri, message));
    }
    fetch_key(uri, &client, &key_id).map(|k| k.public_key)
}

impl Signer for AwsKmsSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        // RAW takes 1 to 4096 bytes; anything else goes as its digest.
        let (payload, kind) = if (1..=RAW_LIMIT).contains(&message.len()) {
            (message.to_vec(), MessageType::Raw)
        } else {
            let digest = self.scheme.digest(message).ok_or_else(|| SignError::Failed {
                signer: self.uri.clone(),
                message: format!(
                    "AWS KMS signs Ed25519 messages of at most {RAW_LIMIT} bytes; this one is {} bytes",
                    message.len()
                ),
            })?;
            (digest, MessageType::Digest)
        };
        let req = self
            .client
            .kms
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(payload))
            .message_type(kind)
            .signing_algorithm(self.scheme.algorithm())
            .send();
        let out = self
            .client
            .run(&self.uri, req)?
            .map_err(|e| kms_error(&self.uri, self.client.explain("signing failed", &e)))?;
        out.signature()
            .map(|s| s.as_ref().to_vec())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| kms_error(&self.uri, "KMS returned no signature".into()))
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn describe(&self) -> String {
        self.uri.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn parses_cosign_reference_forms() {
        let r = Reference::parse(&format!("awskms:///{ID}")).unwrap();
        assert_eq!((r.endpoint.as_str(), r.key_id.as_str()), ("", ID));
        assert_eq!((r.alias, r.region), (None, None));
        assert!(Reference::parse("awskms:///mrk-1234abcd12ab34cd56ef1234567890ab").is_ok());
        assert!(Reference::parse("awskms:///1234abcd12ab34cd56ef1234567890ab").is_ok());

        let r = Reference::parse("awskms://localhost:4566/alias/ExampleAlias").unwrap();
        assert_eq!(r.endpoint, "localhost:4566");
        assert_eq!(r.alias.as_deref(), Some("alias/ExampleAlias"));
        assert_eq!(r.endpoint_url().as_deref(), Some("http://localhost:4566"));

        let arn = format!("arn:aws:kms:us-east-2:111122223333:key/{ID}");
        let r = Reference::parse(&format!("awskms://kms.example.com/{arn}")).unwrap();
        assert_eq!(r.key_id, arn);
        assert_eq!(r.region.as_deref(), Some("us-east-2"));
        assert_eq!(r.endpoint_url().as_deref(), Some("https://kms.example.com"));

        let arn = "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/Name";
        let r = Reference::parse(&format!("awskms:///{arn}")).unwrap();
        assert_eq!(
            (r.key_id.as_str(), r.alias.as_deref()),
            (arn, Some("alias/Name"))
        );
        assert_eq!(r.region.as_deref(), Some("us-gov-west-1"));
        assert_eq!(r.endpoint_url(), None);
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "awskms://",
            "awskms:///",
            "awskms://alias/foo",
            "awskms:///alias/",
            "awskms:///not-a-key",
            "awskms:///1234abcd-12ab-34cd-56ef-1234567890",
            "awskms:///arn:aws:kms:us-east-2:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "awskms:///arn:aws:s3:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "awskms:///arn:aws:kms:us-east-2:111122223333:bucket/x",
        ] {
            let err = Reference::parse(bad).unwrap_err();
            assert!(err.contains("awskms://[ENDPOINT]/KEY"), "{bad}: {err}");
        }
    }
}
