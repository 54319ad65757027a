//! The plan: chains-config, flags and environment resolved once into typed
//! settings that the stages take as they are (ripgrep's `HiArgs` is the
//! model: flags become stage settings in one place). Nothing downstream
//! looks a config key up by name.
//!
//! Per artifact kind (taskrun, pipelinerun, oci) the config already holds
//! the format, the signer and the backends as types ([`ArtifactConfig`]) and
//! transparency as fields of [`Config`]; what was left as strings and
//! decided in several places, which key signs and how, is resolved here
//! into a [`SigningPlan`]: the one keyless test, the one Fulcio URL, the one
//! reading of `--password-file`, and the KMS options (`signers.kms.auth.*`)
//! that every key reference is loaded with, the controller's `--key`
//! included. Backend settings (`storage.oci.*`, `storage.gcs.bucket`) are
//! typed here too ([`StoragePlan`]).
//!
//! [`ArtifactConfig`]: crate::config::ArtifactConfig

use std::path::{Path, PathBuf};

use crate::cli::RegistryArgs;
use crate::config::Config;
use crate::sign::fulcio;
use crate::sign::kms::{KmsEnv, KmsOptions};
use crate::sign::{Password, SignerOptions};
use crate::store::docdb::DocdbOptions;
use crate::store::grafeas::GrafeasOptions;
use crate::store::oci::{Encoding, OciOptions, RegistryCredentials};
use crate::store::pubsub::PubSubOptions;

/// The signing flags of a command (attest, watch); all optional.
#[derive(Clone, Copy, Debug, Default)]
pub struct SigningFlags<'a> {
    /// `--key`: a key file or KMS URI for every enabled artifact type.
    pub key: Option<&'a str>,
    pub password_file: Option<&'a Path>,
    pub fulcio_url: Option<&'a str>,
    /// `--identity-token`: the token, or (deprecated) a file naming it.
    pub identity_token: Option<&'a str>,
    pub identity_token_file: Option<&'a Path>,
    /// SIGSTORE_ID_TOKEN, as the caller read it (attest only: the
    /// controller's token is the config's file).
    pub identity_token_env: Option<&'a str>,
}

/// Where the OIDC token of keyless signing comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum IdentityToken {
    /// Read when signing starts (a projected token may be rotated).
    File(PathBuf),
    /// The token itself; never printed.
    Value(zeroize::Zeroizing<String>),
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityToken::File(p) => f.debug_tuple("File").field(p).finish(),
            IdentityToken::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

/// Keyless signing: a short-lived certificate from Fulcio for an OIDC token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyless {
    /// `--fulcio-url`, else `signers.x509.fulcio.address`, else Sigstore's.
    pub fulcio_url: String,
    /// `--identity-token`, else `--identity-token-file`, else
    /// SIGSTORE_ID_TOKEN, else `signers.x509.identity.token.file`.
    pub identity_token: Option<IdentityToken>,
}

/// How keys are found and loaded.
#[derive(Clone, Debug, Default)]
pub struct SigningPlan {
    /// `--key`: overrides the config's choice for every enabled type.
    pub key: Option<String>,
    /// `signers.kms.kmsref`: the `kms` signer's key.
    pub kmsref: Option<String>,
    /// The `x509` signer is keyless: `--fulcio-url` or `--identity-token`
    /// given, or `signers.x509.fulcio.enabled`.
    pub keyless: Option<Keyless>,
    /// The password source and the KMS options every key is loaded with.
    pub options: SignerOptions,
    /// To say once on stderr (a deprecated spelling).
    pub warnings: Vec<String>,
}

/// `--password-file`, else `COSIGN_PASSWORD` (or a prompt).
pub fn password(file: Option<&Path>) -> Password {
    match file {
        Some(p) => Password::File(p.to_path_buf()),
        None => Password::FromEnvironment,
    }
}

/// `signers.kms.auth.*` (an empty value is no value), and the
/// environment the KMS signers read, taken here once.
pub fn kms_options(config: &Config) -> KmsOptions {
    let get = |k: &str| config.settings.get(k).filter(|v| !v.is_empty()).cloned();
    KmsOptions {
        env: KmsEnv::from_process(),
        address: get("signers.kms.auth.address"),
        token: get("signers.kms.auth.token"),
        token_path: get("signers.kms.auth.token-path").map(PathBuf::from),
        oidc_path: get("signers.kms.auth.oidc.path"),
        oidc_role: get("signers.kms.auth.oidc.role"),
        oidc_token_path: get("signers.kms.auth.oidc.token-path").map(PathBuf::from),
    }
}

impl SigningPlan {
    pub fn resolve(config: &Config, flags: SigningFlags<'_>) -> SigningPlan {
        let setting = |k: &str| config.settings.get(k).filter(|v| !v.is_empty()).cloned();
        let mut warnings = Vec::new();
        let token_flag = flags.identity_token.filter(|t| !t.is_empty()).map(|t| {
            // A JWT never names an existing file; a path once did here.
            if Path::new(t).is_file() {
                warnings.push(format!(
                    "--identity-token takes the token itself now (as cosign); {t} is read as a file: use --identity-token-file {t}"
                ));
                IdentityToken::File(PathBuf::from(t))
            } else {
                IdentityToken::Value(zeroize::Zeroizing::new(t.trim().to_string()))
            }
        });
        let keyless = (flags.fulcio_url.is_some()
            || token_flag.is_some()
            || flags.identity_token_file.is_some()
            || config.flag("signers.x509.fulcio.enabled"))
        .then(|| Keyless {
            fulcio_url: flags
                .fulcio_url
                .map(str::to_string)
                .or_else(|| setting("signers.x509.fulcio.address"))
                .unwrap_or_else(|| fulcio::DEFAULT_URL.to_string()),
            identity_token: token_flag
                .or_else(|| {
                    flags
                        .identity_token_file
                        .map(|p| IdentityToken::File(p.to_path_buf()))
                })
                .or_else(|| {
                    flags
                        .identity_token_env
                        .filter(|t| !t.trim().is_empty())
                        .map(|t| {
                            IdentityToken::Value(zeroize::Zeroizing::new(t.trim().to_string()))
                        })
                })
                .or_else(|| {
                    setting("signers.x509.identity.token.file")
                        .map(|p| IdentityToken::File(PathBuf::from(p)))
                }),
        });
        SigningPlan {
            warnings,
            key: flags.key.map(str::to_string),
            kmsref: setting("signers.kms.kmsref"),
            keyless,
            options: SignerOptions {
                password: password(flags.password_file),
                kms: kms_options(config),
            },
        }
    }
}

/// The storage backends' settings.
#[derive(Clone, Debug, Default)]
pub struct StoragePlan {
    /// `storage.oci.repository`, `.insecure`, `storage.oci.encoding-format`.
    pub oci: OciOptions,
    /// `storage.gcs.bucket`.
    pub gcs_bucket: Option<String>,
    /// `storage.docdb.url`, `storage.docdb.mongo-server-url{,-dir,-path}`.
    pub docdb: DocdbOptions,
    /// `storage.pubsub.*`.
    pub pubsub: PubSubOptions,
    /// `storage.archivista.url`.
    pub archivista_url: Option<String>,
    /// `storage.grafeas.*`, and the `signers.kms.kmsref` Chains records as key id.
    pub grafeas: GrafeasOptions,
}

impl StoragePlan {
    pub fn resolve(config: &Config) -> StoragePlan {
        let setting = |k: &str| config.settings.get(k).filter(|v| !v.is_empty()).cloned();
        StoragePlan {
            oci: OciOptions {
                repository: setting("storage.oci.repository"),
                insecure: config.flag("storage.oci.repository.insecure"),
                encoding: match setting("storage.oci.encoding-format").as_deref() {
                    Some("sigstore-bundle") => Encoding::SigstoreBundle,
                    _ => Encoding::Dsse,
                },
                credentials: RegistryCredentials::default(),
            },
            gcs_bucket: setting("storage.gcs.bucket"),
            docdb: DocdbOptions {
                url: setting("storage.docdb.url"),
                mongo_server_url: setting("storage.docdb.mongo-server-url"),
                mongo_server_url_dir: setting("storage.docdb.mongo-server-url-dir")
                    .map(PathBuf::from),
                mongo_server_url_path: setting("storage.docdb.mongo-server-url-path")
                    .map(PathBuf::from),
            },
            pubsub: PubSubOptions {
                provider: setting("storage.pubsub.provider"),
                topic: setting("storage.pubsub.topic"),
                bootstrap_servers: setting("storage.pubsub.kafka.bootstrap.servers"),
            },
            archivista_url: setting("storage.archivista.url"),
            grafeas: GrafeasOptions {
                project_id: setting("storage.grafeas.projectid"),
                note_id: setting("storage.grafeas.noteid"),
                note_hint: config
                    .settings
                    .get("storage.grafeas.notehint")
                    .cloned()
                    .unwrap_or_default(),
                key_id: setting("signers.kms.kmsref").unwrap_or_default(),
            },
        }
    }
}

/// `--registry-username`/`--registry-password`, `--registry-token` (each
/// also from CHAINS_REGISTRY_*); the Kubernetes keychain's secrets are read
/// by [`crate::store::oci::k8s_keychain`].
pub fn registry_credentials(args: &RegistryArgs) -> RegistryCredentials {
    use zeroize::Zeroizing;
    let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    RegistryCredentials {
        basic: nonempty(&args.registry_username)
            .zip(nonempty(&args.registry_password).map(Zeroizing::new)),
        token: nonempty(&args.registry_token).map(Zeroizing::new),
        pull_secrets: Vec::new(),
    }
}

/// `--k8s-service-account [NS/]NAME`: (namespace, name).
pub fn service_account(spec: &str) -> (Option<&str>, &str) {
    match spec.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, spec),
    }
}

/// What attest writes to its stream (standard output or `--output-file`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamFormat {
    /// JSON Lines: one document per line.
    #[default]
    Json,
    /// A YAML stream: one `---` document per run.
    Yaml,
}

impl StreamFormat {
    /// The `-o` name.
    pub fn name(self) -> &'static str {
        match self {
            StreamFormat::Json => "json",
            StreamFormat::Yaml => "yaml",
        }
    }
}

/// Where attest's products go: `-o, --output FORMAT`, `--output-dir DIR`,
/// `--output-file FILE`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttestOutput {
    pub format: StreamFormat,
    /// One file per run here instead of the stream.
    pub dir: Option<PathBuf>,
    /// The stream goes to this file instead of standard output.
    pub file: Option<PathBuf>,
    /// Said once on stderr (the deprecated `-o DIR`).
    pub warnings: Vec<String>,
}

impl AttestOutput {
    /// `-o` was attest's output directory before it became the format, as
    /// it is in kubectl and cosign. The rule for the deprecation period: a
    /// format name (json, yaml, and text, which attest refuses) is always
    /// the format; any other value is the directory, with a warning naming
    /// `--output-dir`, so that scripts keep working and say why they should
    /// change. A directory that happens to be called `json` or `yaml` needs
    /// `--output-dir` (a warning says so when one exists).
    pub fn resolve(
        output: Option<&str>,
        output_dir: Option<&Path>,
        output_file: Option<&Path>,
    ) -> Result<AttestOutput, String> {
        let mut plan = AttestOutput {
            dir: output_dir.map(Path::to_path_buf),
            file: output_file.map(Path::to_path_buf),
            ..Default::default()
        };
        match output {
            None => {}
            Some("json") => plan.format = StreamFormat::Json,
            Some("yaml") => plan.format = StreamFormat::Yaml,
            Some(name @ ("text" | "human")) => {
                return Err(format!(
                    "-o {name}: attest writes provenance documents; -o takes json (JSON Lines, the default) or yaml (write files with --output-dir DIR)"
                ));
            }
            Some(dir) => {
                if plan.dir.is_some() {
                    return Err(format!(
                        "-o {dir}: -o is the output format (json or yaml); the output directory is --output-dir, given already"
                    ));
                }
                if plan.file.is_some() {
                    return Err(format!(
                        "-o {dir}: -o is the output format (json or yaml); --output-file writes the stream, --output-dir writes files, not both"
                    ));
                }
                plan.warnings.push(format!(
                    "-o DIR is deprecated: -o is the output format (json or yaml) as in kubectl and cosign; use --output-dir {dir}"
                ));
                plan.dir = Some(PathBuf::from(dir));
            }
        }
        if let Some(name) = output.filter(|o| matches!(*o, "json" | "yaml"))
            && Path::new(name).is_dir()
            && plan.dir.is_none()
        {
            plan.warnings.push(format!(
                "-o {name} is the output format now; the directory ./{name} is not written to (use --output-dir {name})"
            ));
        }
        if plan.dir.is_some() && output.is_some_and(|o| o == "yaml") {
            return Err(
                "-o yaml formats the stream; --output-dir writes each run's own files".into(),
            );
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let data: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_map(&data, "test").unwrap()
    }

    #[test]
    fn keyless_from_flags_or_config_with_one_fulcio_url() {
        let none = SigningPlan::resolve(&config(&[]), SigningFlags::default());
        assert_eq!(none.keyless, None);
        let enabled = SigningPlan::resolve(
            &config(&[("signers.x509.fulcio.enabled", "true")]),
            SigningFlags::default(),
        );
        assert_eq!(
            enabled.keyless.unwrap().fulcio_url,
            "https://fulcio.sigstore.dev"
        );
        let flagged = SigningPlan::resolve(
            &config(&[
                ("signers.x509.fulcio.address", "http://config"),
                ("signers.x509.identity.token.file", "/config/token"),
            ]),
            SigningFlags {
                fulcio_url: Some("http://flag"),
                ..Default::default()
            },
        );
        assert_eq!(
            flagged.keyless,
            Some(Keyless {
                fulcio_url: "http://flag".into(),
                identity_token: Some(IdentityToken::File("/config/token".into())),
            })
        );
    }

    #[test]
    fn dash_o_is_a_format_or_a_deprecated_directory() {
        let plan = AttestOutput::resolve(Some("yaml"), None, None).unwrap();
        assert_eq!((plan.format, plan.dir), (StreamFormat::Yaml, None));
        assert!(plan.warnings.is_empty());
        let plan = AttestOutput::resolve(Some("out/prov"), None, None).unwrap();
        assert_eq!(plan.dir.as_deref(), Some(Path::new("out/prov")));
        assert!(plan.warnings[0].contains("--output-dir out/prov"));
        let plan = AttestOutput::resolve(None, Some(Path::new("d")), None).unwrap();
        assert_eq!(plan.dir.as_deref(), Some(Path::new("d")));
        assert!(plan.warnings.is_empty());
        assert!(AttestOutput::resolve(Some("text"), None, None).is_err());
        assert!(AttestOutput::resolve(Some("x"), Some(Path::new("d")), None).is_err());
        assert!(AttestOutput::resolve(Some("x"), None, Some(Path::new("f"))).is_err());
        assert!(AttestOutput::resolve(Some("yaml"), Some(Path::new("d")), None).is_err());
    }

    #[test]
    fn every_key_is_loaded_with_the_configs_kms_options() {
        let plan = SigningPlan::resolve(
            &config(&[
                ("signers.kms.auth.address", "http://vault:8200"),
                ("signers.kms.auth.token", "t"),
                ("signers.kms.kmsref", "hashivault://k"),
            ]),
            SigningFlags {
                key: Some("hashivault://other"),
                password_file: Some(Path::new("/pw")),
                ..Default::default()
            },
        );
        assert_eq!(plan.key.as_deref(), Some("hashivault://other"));
        assert_eq!(plan.kmsref.as_deref(), Some("hashivault://k"));
        assert_eq!(
            plan.options.kms.address.as_deref(),
            Some("http://vault:8200")
        );
        assert_eq!(plan.options.kms.token.as_deref(), Some("t"));
        assert!(matches!(plan.options.password, Password::File(ref p) if p == Path::new("/pw")));
    }
}
