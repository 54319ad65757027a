//! Choosing signers as Chains does: per artifact type (`artifacts.*.signer`:
//! `x509`, `kms` or `none`), from flags and the chains-config keys. Each key
//! is loaded once per process and shared by every run.

use std::collections::HashMap;

use miette::Diagnostic;

use crate::config::Config;
use crate::plan::{IdentityToken, Keyless, SigningPlan};
use crate::sign::fulcio::{self, FulcioOptions};
use crate::sign::{self, SharedSigner, SignError};

/// The signer of each artifact type; `None` when that type is disabled.
#[derive(Clone, Default)]
pub struct Signers {
    pub taskrun: Option<SharedSigner>,
    pub pipelinerun: Option<SharedSigner>,
    pub oci: Option<SharedSigner>,
}

impl Signers {
    /// When the first of these signers expires (keyless certificates).
    pub fn expires(&self) -> Option<std::time::SystemTime> {
        [&self.taskrun, &self.pipelinerun, &self.oci]
            .into_iter()
            .flatten()
            .filter_map(|s| s.expires())
            .min()
    }
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

/// Where keys come from: the [`SigningPlan`] resolved from flags and the
/// config, and keys the controller loaded already.
#[derive(Clone, Default)]
pub struct SignerInputs {
    pub plan: SigningPlan,
    /// A key loaded already, used for every enabled artifact type (the
    /// controller's `--key`, decrypted once for the life of the process).
    pub loaded: Option<SharedSigner>,
    /// The `x509` signer's key when not keyless (the controller's
    /// `signing-secrets`: `cosign.key` or `x509.pem`).
    pub x509: Option<SharedSigner>,
}

/// Load the signer of each artifact kind the config enables, each key once.
pub fn load(inputs: &SignerInputs, config: &Config) -> Result<Signers, SignersError> {
    let plan = &inputs.plan;
    let mut cache: HashMap<String, SharedSigner> = HashMap::new();
    let mut resolve = |kind: &str| -> Result<Option<SharedSigner>, SignersError> {
        if kind == "none" {
            return Ok(None);
        }
        if let Some(s) = &inputs.loaded {
            return Ok(Some(s.clone()));
        }
        if let (Some(s), "x509", None, None) = (&inputs.x509, kind, &plan.key, &plan.keyless) {
            return Ok(Some(s.clone()));
        }
        let reference = reference(plan, kind)?;
        if let Some(s) = cache.get(&reference) {
            return Ok(Some(s.clone()));
        }
        let signer = match &plan.keyless {
            Some(keyless) if reference == KEYLESS => load_keyless(keyless)?,
            _ => sign::load(&reference, &plan.options)?,
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

/// The reference [`reference`] gives for the keyless signer.
const KEYLESS: &str = "fulcio";

/// The key reference for a signer kind: `--key` wins; then `kms` uses
/// `signers.kms.kmsref`, `x509` uses Fulcio when keyless.
fn reference(plan: &SigningPlan, kind: &str) -> Result<String, SignersError> {
    if let Some(k) = &plan.key {
        return Ok(k.clone());
    }
    match kind {
        "kms" => plan.kmsref.clone().ok_or(SignersError::NoKey),
        _ if plan.keyless.is_some() => Ok(KEYLESS.into()),
        _ => Err(SignersError::NoKey),
    }
}

/// A keyless signer: the identity token read now, a certificate from Fulcio.
fn load_keyless(keyless: &Keyless) -> Result<SharedSigner, SignersError> {
    let token = match keyless.identity_token.as_ref().ok_or(SignersError::NoKey)? {
        IdentityToken::File(file) => {
            crate::report::debug(|| format!("identity token from file {}", file.display()));
            std::fs::read_to_string(file).map_err(|source| SignersError::Token {
                path: file.display().to_string(),
                source,
            })?
        }
        IdentityToken::Value(token) => token.to_string(),
    };
    Ok(fulcio::load(&FulcioOptions {
        url: keyless.fulcio_url.clone(),
        identity_token: token.trim().to_string(),
    })?)
}
