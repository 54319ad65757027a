//! Choosing signers as Chains does: per artifact type (`artifacts.*.signer`:
//! `x509`, `kms` or `none`), from flags and the chains-config keys. Each key
//! is loaded once per process and shared by every run.

use std::collections::HashMap;
use std::path::PathBuf;

use miette::Diagnostic;

use crate::config::Config;
use crate::sign::fulcio::{self, FulcioOptions};
use crate::sign::kms::KmsOptions;
use crate::sign::{self, Password, SharedSigner, SignError, SignerOptions};

/// The signer of each artifact type; `None` when that type is disabled.
#[derive(Clone, Default)]
pub struct Signers {
    pub taskrun: Option<SharedSigner>,
    pub pipelinerun: Option<SharedSigner>,
    pub oci: Option<SharedSigner>,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SignersError {
    #[error("no signing key given")]
    #[diagnostic(
        code(chains::attest::no_key),
        help(
            "pass --key FILE|KMS-URI (or set signers.kms.kmsref with signer kms), keyless --fulcio-url with --identity-token FILE, or --unsigned for unsigned in-toto statements"
        )
    )]
    NoKey,
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sign(#[from] SignError),
    #[error("cannot read the identity token {path}")]
    #[diagnostic(code(chains::sign::token))]
    Token {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Where keys come from, apart from the config: what attest's flags name,
/// or what the controller read from its Secret.
#[derive(Clone, Default)]
pub struct SignerInputs {
    /// `--key`: a key file or KMS URI used for every enabled artifact type.
    pub key: Option<String>,
    /// A key loaded already, used for every enabled artifact type (the
    /// controller's `--key`, decrypted once for the life of the process).
    pub loaded: Option<SharedSigner>,
    /// The `x509` signer's key when not keyless (the controller's
    /// `signing-secrets`: `cosign.key` or `x509.pem`).
    pub x509: Option<SharedSigner>,
    pub password: Password,
    pub fulcio_url: Option<String>,
    pub identity_token: Option<PathBuf>,
}

/// Resolve and load signers from explicit inputs and the config.
pub fn load(args: &SignerInputs, config: &Config) -> Result<Signers, SignersError> {
    let opts = SignerOptions {
        password: args.password.clone(),
        kms: kms_options(config),
    };
    let mut cache: HashMap<String, SharedSigner> = HashMap::new();
    let mut resolve = |kind: &str| -> Result<Option<SharedSigner>, SignersError> {
        if kind == "none" {
            return Ok(None);
        }
        if let Some(s) = &args.loaded {
            return Ok(Some(s.clone()));
        }
        let keyless = args.fulcio_url.is_some()
            || args.identity_token.is_some()
            || config.flag("signers.x509.fulcio.enabled");
        if let (Some(s), "x509", None, false) = (&args.x509, kind, &args.key, keyless) {
            return Ok(Some(s.clone()));
        }
        let reference = resolve_reference(args, config, kind)?;
        if let Some(s) = cache.get(&reference) {
            return Ok(Some(s.clone()));
        }
        let signer = if reference == "fulcio" {
            let token_file = args
                .identity_token
                .clone()
                .or_else(|| {
                    config
                        .settings
                        .get("signers.x509.identity.token.file")
                        .map(PathBuf::from)
                })
                .ok_or(SignersError::NoKey)?;
            let token =
                std::fs::read_to_string(&token_file).map_err(|source| SignersError::Token {
                    path: token_file.display().to_string(),
                    source,
                })?;
            let url = args
                .fulcio_url
                .clone()
                .or_else(|| config.settings.get("signers.x509.fulcio.address").cloned())
                .unwrap_or_else(|| "https://fulcio.sigstore.dev".into());
            fulcio::load(&FulcioOptions {
                url,
                identity_token: token.trim().to_string(),
            })?
        } else {
            sign::load(&reference, &opts)?
        };
        cache.insert(reference, signer.clone());
        Ok(Some(signer))
    };
    // Chains' `Enabled()`: signer `none`, or storage set to "", disables a type.
    let kind = |a: &crate::config::ArtifactConfig| {
        if a.enabled() {
            a.signer.clone()
        } else {
            "none".to_string()
        }
    };
    Ok(Signers {
        taskrun: resolve(&kind(&config.taskrun))?,
        pipelinerun: resolve(&kind(&config.pipelinerun))?,
        oci: resolve(&kind(&config.oci))?,
    })
}

/// The key reference for a signer kind: `--key` wins; then `kms` uses
/// `signers.kms.kmsref`, `x509` uses Fulcio when enabled.
fn resolve_reference(
    args: &SignerInputs,
    config: &Config,
    kind: &str,
) -> Result<String, SignersError> {
    if let Some(k) = &args.key {
        return Ok(k.clone());
    }
    match kind {
        "kms" => config
            .settings
            .get("signers.kms.kmsref")
            .filter(|r| !r.is_empty())
            .cloned()
            .ok_or(SignersError::NoKey),
        _ => {
            let fulcio = args.fulcio_url.is_some()
                || args.identity_token.is_some()
                || config.flag("signers.x509.fulcio.enabled");
            if fulcio {
                Ok("fulcio".into())
            } else {
                Err(SignersError::NoKey)
            }
        }
    }
}

fn kms_options(config: &Config) -> KmsOptions {
    let get = |k: &str| config.settings.get(k).filter(|v| !v.is_empty()).cloned();
    KmsOptions {
        address: get("signers.kms.auth.address"),
        token: get("signers.kms.auth.token"),
        token_path: get("signers.kms.auth.token-path").map(PathBuf::from),
        oidc_path: get("signers.kms.auth.oidc.path"),
        oidc_role: get("signers.kms.auth.oidc.role"),
        oidc_token_path: get("signers.kms.auth.oidc.token-path").map(PathBuf::from),
    }
}
