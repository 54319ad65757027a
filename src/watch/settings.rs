//! The controller's settings from its namespace: the `chains-config`
//! ConfigMap and the `signing-secrets` Secret, read through the API.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::WatchError;
use super::reconcile::Policy;
use crate::config::Config;
use crate::k8s::{Kube, core_collection};
use crate::pem;
use crate::pipeline::{SignerInputs, Stages, Storage, StorageInputs, load_signers};
use crate::plan::{SigningFlags, SigningPlan};
use crate::sign::SharedSigner;
use crate::sign::local::LocalSigner;

pub const CONFIG_MAP: &str = "chains-config";
pub const SECRET: &str = "signing-secrets";

/// cosign's PEM labels for an encrypted key.
const ENCRYPTED: &[&str] = &[
    "ENCRYPTED SIGSTORE PRIVATE KEY",
    "ENCRYPTED COSIGN PRIVATE KEY",
];

/// A ConfigMap's `data` as chains-config keys.
pub fn config_from(object: &Value, source: &str) -> Result<Config, WatchError> {
    let data: BTreeMap<String, String> = object
        .get("data")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Config::from_map(&data, source)?)
}

/// chains-config, or the defaults when there is none.
pub async fn read_config(kube: &Kube, ns: &str) -> Result<Config, WatchError> {
    let path = format!("{}/{CONFIG_MAP}", core_collection(ns, "configmaps"));
    match kube.get(&path).await {
        Ok(o) => config_from(&o, &format!("configmap {ns}/{CONFIG_MAP}")),
        Err(e) if e.is(404) => Ok(Config::default()),
        Err(e) => Err(e.into()),
    }
}

/// The x509 signer's key from signing-secrets (`cosign.key` with
/// `cosign.password`, or `x509.pem`), decrypted here, once.
pub async fn read_signing_secret(
    kube: &Kube,
    ns: &str,
) -> Result<Option<SharedSigner>, WatchError> {
    let path = format!("{}/{SECRET}", core_collection(ns, "secrets"));
    let secret = match kube.get(&path).await {
        Ok(o) => o,
        Err(e) if e.is(404) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let field = |k: &str| -> Option<zeroize::Zeroizing<Vec<u8>>> {
        let b64 = secret.get("data")?.get(k)?.as_str()?;
        STANDARD
            .decode(b64.trim())
            .ok()
            .map(zeroize::Zeroizing::new)
    };
    let ns_owned = ns.to_string();
    let name = move |k: &str| format!("secret {ns_owned}/{SECRET} {k}");
    if let Some(key) = field("cosign.key").filter(|k| !k.is_empty()) {
        let text = String::from_utf8_lossy(&key).into_owned();
        let password = field("cosign.password").unwrap_or_default();
        let password = password.strip_suffix(b"\n").unwrap_or(&password).to_vec();
        let signer = tokio::task::spawn_blocking(move || match pem::decode(&text, ENCRYPTED) {
            // scrypt is deliberately slow: off the async threads.
            Some(ct) => LocalSigner::from_encrypted(&ct, &password, &name("cosign.key")),
            None => LocalSigner::from_pem(&text, &name("cosign.key")),
        })
        .await
        .map_err(|e| WatchError::Runtime(std::io::Error::other(e)))??;
        return Ok(Some(std::sync::Arc::new(signer)));
    }
    if let Some(pem) = field("x509.pem").filter(|k| !k.is_empty()) {
        let text = String::from_utf8_lossy(&pem);
        let signer = LocalSigner::from_pem(&text, &format!("secret {ns}/{SECRET} x509.pem"))?;
        return Ok(Some(std::sync::Arc::new(signer)));
    }
    Ok(None)
}

/// What the controller signs with, apart from the config: keys loaded
/// (and decrypted) once at start, and the flags a new config is resolved with.
#[derive(Clone, Default)]
pub struct Keys {
    /// `--key`, loaded with the first config's KMS options.
    pub loaded: Option<SharedSigner>,
    /// signing-secrets' key, for the `x509` signer when not keyless.
    pub x509: Option<SharedSigner>,
    pub password_file: Option<PathBuf>,
}

impl Keys {
    /// The signing plan of `config`, with these keys.
    pub fn inputs_for(&self, config: &Config) -> SignerInputs {
        let flags = SigningFlags {
            password_file: self.password_file.as_deref(),
            ..Default::default()
        };
        SignerInputs {
            plan: SigningPlan::resolve(config, flags),
            loaded: self.loaded.clone(),
            x509: self.x509.clone(),
        }
    }
}

/// The attest stages for a config: storage as Chains chooses it, signers
/// from the keys loaded at start (never decrypted again).
pub fn build(
    config: &Config,
    keys: &Keys,
    only_successful: bool,
) -> Result<(Stages, Policy), WatchError> {
    let signers = load_signers(&keys.inputs_for(config), config)?;
    let storage = Storage::setup(
        &StorageInputs {
            controller: true,
            ..Default::default()
        },
        config,
    )?;
    let policy = Policy {
        only_successful,
        taskruns_enabled: signers.taskrun.is_some(),
    };
    let opts = Stages::options_from(config);
    Ok((
        Stages::new(config.clone(), opts, None, Some(signers), Some(storage)),
        policy,
    ))
}
