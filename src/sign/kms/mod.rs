//! KMS signers: the key stays in the KMS, which signs a digest for us.
//!
//! URIs are the ones cosign and Tekton Chains (`signers.kms.kmsref`) use:
//! `awskms://[ENDPOINT]/ID|ALIAS|ARN`, `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]`,
//! `azurekms://VAULT/KEY`, `hashivault://KEY`. Each provider module exposes
//! `load` (a signer for an existing key) and `create` (make a new key, for
//! `generate-key-pair --kms`), and takes credentials from the sources its
//! cloud's own tools use.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod vault;

use super::{PublicKey, SharedSigner, SignError};

/// The environment variables the AWS and Vault signers read, taken once:
/// [`KmsEnv::from_process`] in production (the plan resolves it), or given
/// explicitly ([`KmsEnv::from_pairs`]), so that a test never changes the
/// environment of a multi-threaded process. Blank values count as unset.
/// Values may be secrets: `Debug` shows the names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KmsEnv {
    vars: std::collections::BTreeMap<String, String>,
}

impl KmsEnv {
    /// The variables read: AWS credentials, region and endpoint (those the
    /// SDK's default chain would otherwise read itself), and Vault's.
    pub const NAMES: &'static [&'static str] = &[
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL",
        "VAULT_ADDR",
        "VAULT_TOKEN",
        "VAULT_NAMESPACE",
        "VAULT_CACERT",
        "TRANSIT_SECRET_ENGINE_PATH",
        "TRANSIT_SECRETS_ENGINE_PATH",
        "HOME",
    ];

    /// [`KmsEnv::NAMES`] as this process has them.
    pub fn from_process() -> KmsEnv {
        KmsEnv {
            vars: Self::NAMES
                .iter()
                .filter_map(|n| Some((n.to_string(), std::env::var(n).ok()?)))
                .collect(),
        }
    }

    /// Exactly these variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> KmsEnv {
        KmsEnv {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable's value, unless unset or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

impl std::fmt::Debug for KmsEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

/// Settings from `signers.kms.auth.*` (and flags); environment variables
/// ([`KmsOptions::env`]) fill what is not set, as each provider's tools do.
#[derive(Clone, Debug, Default)]
pub struct KmsOptions {
    /// The environment the AWS and Vault signers read (empty by default:
    /// then the AWS SDK's own default chain applies).
    pub env: KmsEnv,
    /// `signers.kms.auth.address`: Vault address (else `VAULT_ADDR`).
    pub address: Option<String>,
    /// `signers.kms.auth.token`: Vault token (else `VAULT_TOKEN`).
    pub token: Option<String>,
    /// `signers.kms.auth.token-path`: file holding the Vault token.
    pub token_path: Option<std::path::PathBuf>,
    /// `signers.kms.auth.oidc.path` / `.role` / `.token-path`: Vault JWT login.
    pub oidc_path: Option<String>,
    pub oidc_role: Option<String>,
    pub oidc_token_path: Option<std::path::PathBuf>,
}

impl KmsOptions {
    /// No `signers.kms.auth.*` settings, and this process's environment.
    pub fn from_environment() -> KmsOptions {
        KmsOptions {
            env: KmsEnv::from_process(),
            ..KmsOptions::default()
        }
    }
}

/// Whether a key reference names a KMS key.
pub fn is_kms_uri(reference: &str) -> bool {
    ["awskms://", "gcpkms://", "azurekms://", "hashivault://"]
        .iter()
        .any(|s| reference.starts_with(s))
}

/// A signer for an existing KMS key. Its public key is fetched once.
pub fn load(uri: &str, opts: &KmsOptions) -> Result<SharedSigner, SignError> {
    match uri.split_once("://").map(|(s, _)| s) {
        Some("awskms") => aws::load(uri, opts),
        Some("gcpkms") => gcp::load(uri, opts),
        Some("azurekms") => azure::load(uri, opts),
        Some("hashivault") => vault::load(uri, opts),
        _ => Err(SignError::Reference {
            reference: uri.to_string(),
        }),
    }
}

/// Create a new signing key in the KMS (ECDSA P-256 where the KMS offers it)
/// and return its public key.
pub fn create(uri: &str, opts: &KmsOptions) -> Result<PublicKey, SignError> {
    match uri.split_once("://").map(|(s, _)| s) {
        Some("awskms") => aws::create(uri, opts),
        Some("gcpkms") => gcp::create(uri, opts),
        Some("azurekms") => azure::create(uri, opts),
        Some("hashivault") => vault::create(uri, opts),
        _ => Err(SignError::Reference {
            reference: uri.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_environment_is_read_and_never_shown() {
        let env = KmsEnv::from_pairs([
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t-value"),
            ("AWS_REGION", "  "),
        ]);
        assert_eq!(env.get("AWS_SECRET_ACCESS_KEY"), Some("s3cr3t-value"));
        assert_eq!(env.get("AWS_REGION"), None, "blank is unset");
        assert_eq!(env.get("VAULT_ADDR"), None);
        let shown = format!(
            "{:?}",
            KmsOptions {
                env,
                ..KmsOptions::default()
            }
        );
        assert!(shown.contains("AWS_SECRET_ACCESS_KEY"), "{shown}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
    }
}
