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

/// Settings from `signers.kms.auth.*` (and flags); environment variables
/// fill what is not set, as each provider's tools do.
#[derive(Clone, Debug, Default)]
pub struct KmsOptions {
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
