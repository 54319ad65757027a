//! Command-line definitions. They also generate `completions/` and `man/`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// Signed, verifiable Tekton supply-chain provenance, without a controller.
///
/// chains turns finished Tekton TaskRuns and PipelineRuns into the SLSA /
/// in-toto provenance Tekton Chains would produce for them.
#[derive(Debug, Parser)]
#[command(
    name = "chains",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Print only errors (no warnings, summaries or progress).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say on stderr where credentials, trust and outputs come from
    /// (cosign's --verbose; -d is accepted too).
    #[arg(
        short,
        long,
        global = true,
        short_alias = 'd',
        conflicts_with = "quiet"
    )]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build provenance for exported TaskRuns and PipelineRuns.
    ///
    /// INPUT is a file, a directory (read recursively for .yaml, .yml and
    /// .json files) or `-` for standard input. Documents may be YAML or JSON,
    /// multi-document streams, or `List`s; TaskRuns and PipelineRuns of
    /// tekton.dev/v1 and tekton.dev/v1beta1 are attested, other kinds skipped.
    /// Child TaskRuns among the inputs are attached to their PipelineRun and
    /// attested themselves too.
    #[command(after_help = ATTEST_EXAMPLES)]
    Attest(Box<AttestArgs>),

    /// Generate a cosign-compatible key pair (or a key in a KMS).
    ///
    /// Writes PREFIX.key (encrypted with the password from COSIGN_PASSWORD,
    /// --password-file or a prompt; mode 0600) and PREFIX.pub. With --kms, the
    /// key is created in the KMS and only PREFIX.pub is written.
    GenerateKeyPair(GenerateKeyPairArgs),

    /// Verify attestations and signatures wherever they are stored.
    ///
    /// INPUT is a file, a directory or `-`: DSSE envelopes (JSON Lines),
    /// Sigstore bundles, runs with Chains' annotations, or Chains' stored
    /// parts (NAME.signature with NAME.payload, .cert, .chain). With --image,
    /// the signatures, attestations and bundles attached to an image in its
    /// registry are checked; with --gcs, what Chains stored in a bucket.
    /// Exit status: 0 verified, 1 rejected, 2 usage or unreadable input.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(Box<VerifyArgs>),

    /// Attest runs in a cluster as they finish: the Tekton Chains controller.
    ///
    /// Watches TaskRuns and PipelineRuns, attests each finished run once with
    /// the chains-config ConfigMap and the signing-secrets Secret of the
    /// controller's namespace, and marks it as Chains does
    /// (chains.tekton.dev/signed). Replicas elect a leader on a Lease.
    #[command(after_help = WATCH_EXAMPLES)]
    Watch(Box<WatchArgs>),

    /// Print the payload Chains stored on a run (as `tkn chain payload` did).
    ///
    /// RUN is a file or `-` holding the run (`kubectl get taskrun NAME -o
    /// yaml`, a stream or a List; --name picks one of several), or, with
    /// --kubeconfig, --context or -n, the name of a run in the cluster. The
    /// payload of the run's own attestation (annotation
    /// chains.tekton.dev/payload-<kind>-<uid>) is printed decoded.
    #[command(after_help = PAYLOAD_EXAMPLES)]
    Payload(StoredArgs),

    /// Print the signature Chains stored on a run (as `tkn chain signature` did).
    ///
    /// RUN as for `chains payload`. A DSSE envelope is printed as JSON; a
    /// raw signature as base64, as cosign writes it.
    #[command(after_help = SIGNATURE_EXAMPLES)]
    Signature(StoredArgs),

    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },
}

// Examples are kept under 78 columns, long ones continued with `\`, so that
// help wrapped to an 80-column terminal never breaks a command in two
// (`examples_survive_wrapping` checks it), and the man pages print them as
// they are.
const ATTEST_EXAMPLES: &str = "\
Examples:
  kubectl get taskrun build-x -o yaml | chains attest --unsigned -
  COSIGN_PASSWORD=... chains attest --key cosign.key runs/ \\
      --output-dir provenance/
  chains attest --key awskms:///alias/chains --format slsa/v2alpha4 run.yaml
  chains attest --unsigned pipelinerun.yaml --taskruns children/
  chains attest --unsigned -o yaml run.yaml";

const WATCH_EXAMPLES: &str = "\
Examples:
  chains watch       # in a pod: in-cluster config, all namespaces
  chains watch --kubeconfig ~/.kube/config -n ci,release \\
      --controller-namespace tekton-chains
  chains watch --context kind-ci -n ci
  chains watch --key awskms:///alias/chains --workers 16 --log-format json";

const VERIFY_EXAMPLES: &str = "\
Examples:
  chains verify --key cosign.pub provenance/
  chains verify --key cosign.pub --image registry.example/app:v1 \\
      --builder-id https://tekton.dev/chains/v2
  kubectl get taskrun build-x -o json | chains verify --key cosign.pub -
  chains verify --ca-roots fulcio.pem \\
      --certificate-identity-regexp '^https://kubernetes.io/' \\
      --rekor-url https://rekor.sigstore.dev --require-tlog run.sigstore.json
  chains verify --key cosign.pub --print-provenance att.intoto.jsonl | jq .
  chains verify --key cosign.pub -o json --output-file report.json prov/";

const PAYLOAD_EXAMPLES: &str = "\
Examples:
  chains payload -n ci build-x --kubeconfig ~/.kube/config | jq .predicate
  kubectl get taskrun build-x -o yaml | chains payload -
  chains payload --kind pipelinerun -n ci release-9kd2 --context prod";

const SIGNATURE_EXAMPLES: &str = "\
Examples:
  chains signature -n ci build-x --kubeconfig ~/.kube/config
  chains signature annotated/taskrun-ci-build-x.yaml \\
      --artifact-key 3b1f6a0e2c9d";

/// Every subcommand's examples, for the test that they survive wrapping.
#[cfg(test)]
const ALL_EXAMPLES: [&str; 5] = [
    ATTEST_EXAMPLES,
    WATCH_EXAMPLES,
    VERIFY_EXAMPLES,
    PAYLOAD_EXAMPLES,
    SIGNATURE_EXAMPLES,
];

/// The kind of a run named in a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunKindArg {
    Taskrun,
    Pipelinerun,
}

#[derive(Debug, Args)]
pub struct StoredArgs {
    /// A file or `-` holding the run; with --kubeconfig, --context or -n, its name in the cluster.
    #[arg(value_name = "RUN")]
    pub run: String,

    /// Read the run from the cluster of this kubeconfig.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Read the run from the cluster of this kubeconfig context (kubectl's --context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// The run's namespace in the cluster [default: the context's].
    #[arg(short, long, value_name = "NS")]
    pub namespace: Option<String>,

    /// The kind of the run named in the cluster.
    #[arg(long, value_enum, default_value = "taskrun")]
    pub kind: RunKindArg,

    /// In a file holding several runs: the one with this name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Another artifact of the run: the KEY of its chains.tekton.dev/<part>-KEY
    /// annotations (e.g. the 12 hex digits of an image's digest) [default: <kind>-<uid>].
    #[arg(long, value_name = "KEY")]
    pub artifact_key: Option<String>,
}

impl StoredArgs {
    /// RUN names a run in a cluster, not a file.
    pub fn from_cluster(&self) -> bool {
        self.kubeconfig.is_some() || self.context.is_some() || self.namespace.is_some()
    }
}

/// `-o, --output`: the format of a report, as kubectl's and cosign's `-o`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A line per artifact and a summary (`human` is accepted too).
    #[value(alias = "human")]
    Text,
    /// One JSON document: every finding, with the failed check's name.
    Json,
    /// The JSON document as YAML.
    Yaml,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// What to verify: files, directories, or `-` for standard input.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Verify what is attached to this image in its registry (.sig, .att, referrer bundles).
    #[arg(long, value_name = "REF")]
    pub image: Vec<String>,

    /// Verify an image saved in an OCI image layout on disk, with what is
    /// attached to it (as `cosign save` or `skopeo copy … oci:DIR` write it;
    /// cosign's --local-image): DIR, or DIR:REF for the manifest the layout
    /// names REF.
    #[arg(long, value_name = "DIR[:REF]")]
    pub local_image: Vec<String>,

    /// Verify what Chains stored under gs://BUCKET/PREFIX.
    #[arg(long, value_name = "URL")]
    pub gcs: Vec<String>,

    /// The artifact the signatures must be about: a file (hashed), or its
    /// digest as sha256:HEX (or sha512:HEX). A message signature must be
    /// over it, an image signature of it, an attestation must name it as a
    /// subject.
    #[arg(long, value_name = "FILE|ALG:HEX")]
    pub artifact: Option<String>,

    /// A detached signature over --artifact FILE (base64 or raw, as
    /// `cosign sign-blob` writes it).
    #[arg(long, value_name = "FILE", requires = "artifact")]
    pub signature: Option<PathBuf>,

    /// The PEM certificate of a keyless --signature (--cert as in cosign).
    #[arg(
        long,
        visible_alias = "cert",
        value_name = "FILE",
        requires = "signature"
    )]
    pub certificate: Option<PathBuf>,

    /// The PEM chain above --certificate.
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub certificate_chain: Option<PathBuf>,

    /// Trusted key: a PEM public key (cosign.pub), a Sigstore PublicKey in
    /// JSON (rawBytes, keyDetails, validFor: trusted only for signatures a
    /// verified timestamp or log entry places in that window), a
    /// certificate, a private key file (its public half), or a KMS URI. May
    /// be repeated.
    #[arg(long, value_name = "FILE|URI")]
    pub key: Vec<String>,

    /// File holding the password of an encrypted private key given as --key.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Sigstore trusted root (trusted_root.json, as cosign and sigstore-go
    /// take it): Fulcio CAs, Rekor logs, CT logs and timestamp authorities,
    /// each trusted within its validity window.
    #[arg(long, value_name = "FILE", conflicts_with = "tuf_url")]
    pub trusted_root: Option<PathBuf>,

    /// TUF repository to get the trusted root (its trusted_root.json target)
    /// from. Without it, keyless verification given no --trusted-root or
    /// --ca-roots uses Sigstore's public-good repository
    /// (https://tuf-repo-cdn.sigstore.dev), whose root ships in chains.
    #[arg(long, value_name = "URL")]
    pub tuf_url: Option<String>,

    /// The initial root.json of the --tuf-url repository (as `cosign
    /// initialize --root`).
    #[arg(long, value_name = "FILE", requires = "tuf_url")]
    pub tuf_root: Option<PathBuf>,

    /// Use the cached TUF metadata only (verified, possibly expired); fetch nothing.
    #[arg(long)]
    pub offline: bool,

    /// Trusted root certificates (PEM) for keyless signatures.
    #[arg(long, value_name = "FILE")]
    pub ca_roots: Option<PathBuf>,

    /// Intermediate certificates (PEM) between a signing certificate and the roots.
    #[arg(long, value_name = "FILE", requires = "ca_roots")]
    pub ca_intermediates: Option<PathBuf>,

    /// The identity (email or URI SAN) the signing certificate must have.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,

    /// A regular expression the certificate identity must match (unanchored, as cosign).
    #[arg(long, value_name = "REGEXP")]
    pub certificate_identity_regexp: Option<String>,

    /// The OIDC issuer the signing certificate must name.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,

    /// A regular expression the certificate's OIDC issuer must match.
    #[arg(long, value_name = "REGEXP")]
    pub certificate_oidc_issuer_regexp: Option<String>,

    /// Do not check the signed certificate timestamps (SCTs) embedded in
    /// signing certificates against the trusted root's CT logs (as cosign).
    #[arg(long)]
    pub insecure_ignore_sct: bool,

    /// Transparency log to look entries up in, and whose key checks them.
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,

    /// The transparency log's public key (PEM): entries are checked offline with it.
    #[arg(long, value_name = "FILE")]
    pub rekor_public_key: Option<PathBuf>,

    /// Reject anything without a verified transparency log entry.
    #[arg(long)]
    pub require_tlog: bool,

    /// Do not look at transparency log entries at all (said so in the report).
    #[arg(long)]
    pub insecure_ignore_tlog: bool,

    /// The predicate type attestations must have (a URI, or cosign's short
    /// names such as slsaprovenance; --type as in cosign).
    #[arg(long, visible_alias = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,

    /// The builder id the provenance must name.
    #[arg(long, value_name = "ID")]
    pub builder_id: Option<String>,

    /// A source the provenance must list among its materials / resolvedDependencies.
    #[arg(long, value_name = "URI")]
    pub source_uri: Option<String>,

    /// The digest (ALG:HEX or HEX) that source (or any material) must have.
    #[arg(long, value_name = "DIGEST")]
    pub source_digest: Option<String>,

    /// The git tag the build must come from (slsa-verifier's flag): a
    /// source URI's @refs/tags/TAG, or the run's revision parameter.
    #[arg(long, value_name = "TAG", group = "source_ref")]
    pub source_tag: Option<String>,

    /// The git branch the build must come from (slsa-verifier's flag): a
    /// source URI's @refs/heads/BRANCH, or the run's revision parameter.
    #[arg(long, value_name = "BRANCH", group = "source_ref")]
    pub source_branch: Option<String>,

    /// A tag of this version the build must come from: v1 takes any v1.x.y,
    /// v1.2 any v1.2.y, v1.2.3 only it (slsa-verifier's flag).
    #[arg(long, value_name = "vX[.Y[.Z]]", group = "source_ref")]
    pub source_versioned_tag: Option<String>,

    /// A subject the statement must have, NAME@ALG:HEX (NAME may be empty). May be repeated.
    #[arg(long, value_name = "NAME@ALG:HEX")]
    pub subject: Vec<String>,

    /// Reject attestations older than this (e.g. 30m, 24h, 7d), by their log
    /// entry's time, else their build finish time.
    #[arg(long, value_name = "DURATION")]
    pub max_age: Option<String>,

    /// Report format (as cosign's and kubectl's -o).
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value = "text")]
    pub output: OutputFormat,

    /// Write the report (or with --print-payload, the payloads) to FILE
    /// instead of standard output; it appears complete or not at all.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// Write each verified payload (the statement) to stdout, one per line;
    /// the report goes to stderr (--print-provenance as in slsa-verifier).
    #[arg(long, visible_alias = "print-provenance", conflicts_with = "output")]
    pub print_payload: bool,

    /// Reach --image registries over plain HTTP or with unverified TLS
    /// (cosign's --allow-insecure-registry and --allow-http-registry).
    #[arg(long, visible_alias = "allow-http-registry")]
    pub allow_insecure_registry: bool,

    /// Stop at the first input that cannot be read.
    #[arg(long)]
    pub fail_fast: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Deadline for all remote calls (registries, logs, TUF, GCS), a Go
    /// duration such as 90s or 5m (cosign's --timeout).
    #[arg(long, short = 't', value_name = "DURATION", value_parser = parse_go_duration)]
    pub timeout: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// Runs to attest: files, directories, or `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Child TaskRuns used as context for PipelineRuns only (not attested).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub taskruns: Vec<PathBuf>,

    /// A chains-config ConfigMap (or a plain map of its keys); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Provenance format [default: from config, else in-toto, i.e. slsa/v1].
    /// The names are Chains': slsa/v1 is SLSA v0.2, slsa/v2alpha3 and
    /// slsa/v2alpha4 are SLSA v1.0.
    #[arg(long, value_name = "FORMAT", value_parser = FormatParser)]
    pub format: Option<String>,

    /// Builder id recorded in the provenance [default: https://tekton.dev/chains/v2].
    #[arg(long, value_name = "URI")]
    pub builder_id: Option<String>,

    /// Build type for slsa/v2alpha3 and slsa/v2alpha4.
    #[arg(long, value_name = "URI", value_parser = ["https://tekton.dev/chains/v2/slsa", "https://tekton.dev/chains/v2/slsa-tekton"])]
    pub build_type: Option<String>,

    /// Take subjects and materials of a PipelineRun from its child TaskRuns too.
    #[arg(long)]
    pub deep_inspection: bool,

    /// Write unsigned in-toto statements (no key needed).
    #[arg(long, conflicts_with_all = ["key", "fulcio_url", "identity_token", "identity_token_file", "bundle", "storage", "tlog_upload"])]
    pub unsigned: bool,

    /// Signing key: a cosign key, a PEM private key, or a KMS URI
    /// (awskms://, gcpkms://, azurekms://, hashivault://).
    #[arg(long, value_name = "FILE|URI")]
    pub key: Option<String>,

    /// File holding the key's password [default: COSIGN_PASSWORD, else a prompt on a terminal].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Keyless signing: the Fulcio URL to get a certificate from.
    #[arg(long, value_name = "URL")]
    pub fulcio_url: Option<String>,

    /// Keyless signing: the OIDC identity token itself (cosign's flag).
    /// It shows in the process list: prefer SIGSTORE_ID_TOKEN or
    /// --identity-token-file. Deprecated: a value naming an existing file
    /// is read as --identity-token-file, with a warning.
    #[arg(long, value_name = "TOKEN", conflicts_with = "identity_token_file")]
    pub identity_token: Option<String>,

    /// Keyless signing: a file holding the OIDC identity token (read when
    /// signing starts) [default: SIGSTORE_ID_TOKEN, else
    /// signers.x509.identity.token.file].
    #[arg(long, value_name = "FILE")]
    pub identity_token_file: Option<PathBuf>,

    /// Write Sigstore bundles (v0.3) instead of bare DSSE envelopes.
    #[arg(long)]
    pub bundle: bool,

    /// Storage backends for every artifact kind, comma-separated: tekton, oci, gcs, files
    /// [default: artifacts.*.storage from --config, else none (local output only)].
    #[arg(long, value_name = "LIST")]
    pub storage: Option<String>,

    /// With the tekton backend: write the annotations into the input files themselves.
    #[arg(long)]
    pub in_place: bool,

    /// Annotate the live runs in this cluster, as the Chains controller does
    /// (chains.tekton.dev/signed, and the tekton backend's annotations).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Upload to the transparency log (as transparency.enabled: true).
    #[arg(long)]
    pub tlog_upload: bool,

    /// Transparency log URL [default: transparency.url, else https://rekor.sigstore.dev].
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,

    /// The transparency log's public key (PEM) [default: fetched from the log].
    #[arg(long, value_name = "FILE")]
    pub rekor_public_key: Option<PathBuf>,

    /// Format of what goes to standard output (or --output-file): json
    /// (JSON Lines, one document per run; the default) or yaml (a YAML
    /// stream). Deprecated: a value that is not a format name is taken as
    /// --output-dir, with a warning.
    #[arg(short, long, value_name = "FORMAT")]
    pub output: Option<String>,

    /// Write one file per run (and each image signature) into DIR instead
    /// of a stream on standard output.
    #[arg(long, value_name = "DIR", conflicts_with = "output_file")]
    pub output_dir: Option<PathBuf>,

    /// Write the stream to FILE instead of standard output; it appears
    /// complete or not at all.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// Stop at the first run that fails.
    #[arg(long)]
    pub fail_fast: bool,

    /// Attest runs that have not finished (no `Succeeded` condition that is
    /// True or False), with a warning; Tekton Chains never signs them.
    #[arg(long)]
    pub allow_unfinished: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Attest a PipelineRun whose childReferences name TaskRuns missing from
    /// the inputs, from the children that are there, with a warning.
    #[arg(long)]
    pub allow_missing_children: bool,

    /// Deadline for all remote calls (cosign's --timeout), a Go duration such
    /// as 90s or 5m: no try starts after it, and requests end by it. Each
    /// call also has its own limit (90 s across its retries).
    #[arg(long, value_name = "DURATION", value_parser = parse_go_duration)]
    pub timeout: Option<std::time::Duration>,
}

/// `--format`: Chains' format names, whose versions are not SLSA's. A
/// wrong name gets what each name means instead of clap's nearest name
/// (which for `slsa/v2` was `slsa/v1`, SLSA v0.2).
#[derive(Clone, Copy)]
struct FormatParser;

impl clap::builder::TypedValueParser for FormatParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let given = value.to_string_lossy();
        if crate::provenance::Format::DESCRIBED
            .iter()
            .any(|(name, _)| *name == given)
        {
            return Ok(given.into_owned());
        }
        let names: Vec<String> = crate::provenance::Format::DESCRIBED
            .iter()
            .map(|(name, meaning)| format!("  {name:<14} {meaning}"))
            .collect();
        let flag = arg.map_or("--format".to_string(), |a| a.to_string());
        let hint = match given.contains("v2") || given.contains("1.0") {
            true => "\nFor SLSA v1.0 use slsa/v2alpha4 (slsa/v1 is SLSA v0.2).",
            false => "",
        };
        let message = format!(
            "invalid value '{given}' for '{flag}'; Chains' format names are:\n{}{hint}\n",
            names.join("\n")
        );
        Err(clap::Error::raw(clap::error::ErrorKind::InvalidValue, message).with_cmd(cmd))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(crate::provenance::Format::DESCRIBED.iter().map(
            |(name, meaning)| clap::builder::PossibleValue::new(*name).help(*meaning),
        )))
    }
}

/// A positive Go duration (`300ms`, `1m30s`).
fn parse_go_duration(s: &str) -> Result<std::time::Duration, String> {
    match crate::run::gojson::parse_duration(s) {
        Some(nanos) if nanos > 0 => Ok(std::time::Duration::from_nanos(nanos.unsigned_abs())),
        Some(_) => Err("a timeout must be positive".into()),
        None => Err(format!("{s:?} is not a duration (such as 90s, 5m or 1h)")),
    }
}

/// How registries are logged in to (cosign's flags), for every registry
/// chains reaches; the docker config (`~/.docker/config.json`) comes last.
#[derive(Debug, Args, Default)]
pub struct RegistryArgs {
    /// Registry user name, with --registry-password.
    #[arg(
        long,
        value_name = "USER",
        env = "CHAINS_REGISTRY_USERNAME",
        requires = "registry_password"
    )]
    pub registry_username: Option<String>,

    /// Registry password; prefer the environment variable, which stays out
    /// of the process list.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "CHAINS_REGISTRY_PASSWORD",
        hide_env_values = true,
        requires = "registry_username"
    )]
    pub registry_password: Option<String>,

    /// A registry bearer token (e.g. from a cloud's token exchange); prefer
    /// the environment variable.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CHAINS_REGISTRY_TOKEN",
        hide_env_values = true,
        conflicts_with = "registry_username"
    )]
    pub registry_token: Option<String>,

    /// Use the Kubernetes keychain: the imagePullSecrets of
    /// --k8s-service-account, read with KUBECONFIG, ~/.kube/config or the
    /// in-cluster service account (as cosign's --k8s-keychain).
    #[arg(long)]
    pub k8s_keychain: bool,

    /// The service account whose imagePullSecrets --k8s-keychain uses, as
    /// [NAMESPACE/]NAME (namespace: the kubeconfig context's).
    #[arg(
        long,
        value_name = "[NS/]NAME",
        default_value = "default",
        requires = "k8s_keychain"
    )]
    pub k8s_service_account: String,
}

#[derive(Debug, Args)]
pub struct GenerateKeyPairArgs {
    /// File name prefix for the key pair.
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: PathBuf,

    /// Create the key in this KMS instead (awskms://, gcpkms://, azurekms://, hashivault://).
    #[arg(long, value_name = "URI")]
    pub kms: Option<String>,

    /// File holding the password to encrypt the private key with.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// Shells we generate completions for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    #[value(name = "powershell")]
    PowerShell,
    Elvish,
}

impl Shell {
    pub const ALL: [Shell; 5] = [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ];

    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::PowerShell => clap_complete::Shell::PowerShell,
            Shell::Elvish => clap_complete::Shell::Elvish,
        }
    }

    /// The file name the completion script is checked in as.
    pub fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "chains.bash",
            Shell::Zsh => "_chains",
            Shell::Fish => "chains.fish",
            Shell::PowerShell => "_chains.ps1",
            Shell::Elvish => "chains.elv",
        }
    }
}

/// The clap command tree.
pub fn command() -> clap::Command {
    Cli::command()
}

/// A completion script.
pub fn completion(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell.generator(), &mut command(), "chains", &mut out);
    match shell {
        Shell::Bash => bash_with_colons(&out),
        _ => out,
    }
}

/// bash splits words at `:` (it is in COMP_WORDBREAKS), so a value such as
/// `https://tekton.dev/chains/v2/slsa` or `awskms:///alias/k` reaches
/// clap's completion function in pieces, after its option is no longer
/// `prev`. The generated function is renamed and called by a wrapper that
/// joins the pieces back, then leaves in each candidate only what bash
/// replaces (the text after the last `:`), as bash-completion's
/// `__ltrim_colon_completions` does, without needing that package.
fn bash_with_colons(generated: &[u8]) -> Vec<u8> {
    const WRAPPER: &str = r#"
# Values with ':' (URLs, KMS URIs): bash splits words there; join them back.
_chains() {
    local cur="$2" prev="$3" i="$COMP_CWORD"
    if [[ "$COMP_WORDBREAKS" == *:* ]]; then
        cur="${COMP_WORDS[i]}"
        while (( i > 1 )) && [[ "${COMP_WORDS[i]}" == ":" || "${COMP_WORDS[i-1]}" == ":" ]]; do
            i=$((i - 1))
            cur="${COMP_WORDS[i]}${cur}"
        done
        prev="${COMP_WORDS[i-1]}"
    fi
    _chains_clap "$1" "$cur" "$prev"
    if [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
        local keep="${cur%"${cur##*:}"}" k
        for k in "${!COMPREPLY[@]}"; do
            COMPREPLY[k]="${COMPREPLY[k]#"$keep"}"
        done
    fi
}
"#;
    let text = String::from_utf8_lossy(generated);
    let Some(end) = text.find("\nif [[ \"${BASH_VERSINFO[0]}\" -eq 4") else {
        return generated.to_vec();
    };
    let (function, registration) = text.split_at(end);
    let function = function.replacen("_chains() {", "_chains_clap() {", 1);
    format!("{function}{WRAPPER}{registration}").into_bytes()
}

/// Man pages: (file name, roff) for `chains` and each subcommand. clap's
/// sections, then EXAMPLES, EXIT STATUS and ENVIRONMENT
/// ([`crate::manual`]) where clap would write its EXTRA section. The
/// `help` subcommand is left out: it has no page of its own.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let cmd = command().disable_help_subcommand(true);
    let mut pages = Vec::new();
    let mut render = |name: String, short: &str, c: clap::Command| {
        let after_help = c.get_after_help().map(|h| h.to_string());
        let has_version = c.get_version().is_some();
        let man = clap_mangen::Man::new(c.clone());
        let mut out = Vec::new();
        let rendered = (|| -> std::io::Result<()> {
            man.render_title(&mut out)?;
            man.render_name_section(&mut out)?;
            man.render_synopsis_section(&mut out)?;
            man.render_description_section(&mut out)?;
            if c.get_arguments().any(|a| !a.is_hide_set()) {
                man.render_options_section(&mut out)?;
            }
            if c.has_subcommands() {
                man.render_subcommands_section(&mut out)?;
            }
            out.extend_from_slice(crate::manual::sections(short, after_help.as_deref()).as_bytes());
            match has_version {
                true => man.render_version_section(&mut out),
                false => Ok(()),
            }
        })();
        rendered.expect("rendering to memory cannot fail");
        pages.push((format!("{name}.1"), out));
    };
    for sub in cmd.get_subcommands() {
        let short = sub.get_name().to_string();
        let name = format!("chains-{short}");
        render(name.clone(), &short, sub.clone().name(name));
    }
    render("chains".into(), "", cmd.clone());
    pages
}

// ---------------------------------------------------------------------------
// `chains watch`

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Kubeconfig to connect with [default: the in-cluster service account].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Watch only these namespaces, comma-separated [default: all namespaces].
    #[arg(short, long, value_name = "NS,...", value_delimiter = ',')]
    pub namespace: Vec<String>,

    /// The kubeconfig context to use (kubectl's --context) [default: the current one].
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Namespace holding chains-config, signing-secrets and the Lease
    /// [default: POD_NAMESPACE, else the service account's or the kubeconfig context's].
    #[arg(long, value_name = "NS", env = "POD_NAMESPACE")]
    pub controller_namespace: Option<String>,

    /// Signing key (cosign key, PEM key or KMS URI) for every artifact type,
    /// instead of the signing-secrets Secret.
    #[arg(long, value_name = "FILE|URI")]
    pub key: Option<String>,

    /// File holding --key's password [default: COSIGN_PASSWORD].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Runs attested at the same time.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,

    /// Sustained requests per second to the Kubernetes API.
    #[arg(long, value_name = "QPS", default_value_t = 50.0)]
    pub kube_api_qps: f64,

    /// Requests allowed in a burst above --kube-api-qps.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub kube_api_burst: u32,

    /// Attest only runs that succeeded (failed runs are left unmarked).
    #[arg(long)]
    pub only_successful: bool,

    /// Do not elect a leader: process runs even if another replica does.
    #[arg(long)]
    pub no_leader_election: bool,

    /// The coordination.k8s.io Lease replicas elect a leader with (with
    /// --buckets N above 1: NAME-I-of-N for bucket I, and NAME-member-ID
    /// for each replica).
    #[arg(long, value_name = "NAME", default_value = "chains-watch")]
    pub lease_name: String,

    /// Share the work across replicas: runs are hashed into N buckets, each
    /// led through its own Lease, and each replica leads up to its fair
    /// share of them (1: one leader does all the work).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub buckets: u16,

    /// How long a Lease holds without renewal (e.g. 15s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,

    /// How long the leader keeps working without a successful renewal; must
    /// be shorter than --lease-duration [default: 2/3 of --lease-duration,
    /// client-go's 10s for 15s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lease_renew_deadline: Option<Duration>,

    /// With keyless signing, request a new Fulcio certificate when the
    /// current one has less than this left (Fulcio's last 10 minutes).
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = parse_duration)]
    pub keyless_refresh_before: Duration,

    /// This replica's identity in the Lease [default: POD_NAME, else host name and pid].
    #[arg(long, value_name = "ID", env = "POD_NAME")]
    pub identity: Option<String>,

    /// Serve /metrics, /healthz and /readyz here.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_address: String,

    /// First delay before a failed run is tried again (doubling per retry).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub retry_delay: Duration,

    /// Deadline for the remote calls of one run (signing, Rekor, storage):
    /// a hung backend fails that run by then and frees its worker for
    /// other runs; the run is retried like any failure.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_positive_duration)]
    pub timeout: Duration,

    /// Log lines as text or as JSON objects (one per line).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

impl WatchArgs {
    /// The renew deadline and the pause between lease attempts, checked
    /// against the lease duration (client-go's 15s/10s/2s by default).
    pub fn lease_timing(&self) -> Result<(Duration, Duration), String> {
        let duration = self.lease_duration;
        let deadline = self.lease_renew_deadline.unwrap_or(duration * 2 / 3);
        if deadline.is_zero() || deadline >= duration {
            return Err(format!(
                "--lease-renew-deadline ({}ms) must be above 0 and below --lease-duration ({}ms)",
                deadline.as_millis(),
                duration.as_millis()
            ));
        }
        let retry = (duration * 2 / 15)
            .max(Duration::from_millis(50))
            .min(deadline / 2);
        Ok((deadline, retry))
    }
}

/// A duration (as [`parse_duration`]) that is not zero.
fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err("a timeout must be positive".into()),
        d => Ok(d),
    }
}

/// `500ms`, `15s`, `2m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 500ms, 15s or 2m"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (ms, s or m)")),
    };
    // Go's limit (Chains and Kubernetes take no longer), and far from
    // where adding it to the clock would overflow.
    if d > Duration::from_nanos(i64::MAX.unsigned_abs()) {
        return Err(format!(
            "{s:?} is longer than a duration can be (292 years)"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// Each alias from cosign, slsa-verifier and kubectl, once: it lands
    /// in the option it stands for (their behaviour is tested under
    /// tests/habits.rs and each option's own tests).
    #[test]
    fn aliases_of_other_tools() {
        let Command::Verify(v) = parse(&[
            "chains",
            "verify",
            "--type",
            "slsaprovenance",
            "--cert",
            "c.pem",
            "--signature",
            "s",
            "--artifact",
            "a",
            "--certificate-chain",
            "ch.pem",
            "--print-provenance",
            "-t",
            "5m",
            "--source-tag",
            "v1",
            "--allow-http-registry",
        ])
        .command
        else {
            panic!("verify")
        };
        assert_eq!(v.predicate_type.as_deref(), Some("slsaprovenance"));
        assert_eq!(
            v.certificate.as_deref(),
            Some(std::path::Path::new("c.pem"))
        );
        assert!(v.certificate_chain.is_some() && v.print_payload);
        assert_eq!(v.timeout, Some(Duration::from_secs(300)));
        assert_eq!(v.source_tag.as_deref(), Some("v1"));
        assert!(v.allow_insecure_registry);
        let cli = parse(&["chains", "-d", "verify", "-o", "yaml", "x"]);
        assert!(cli.verbose);
        let Command::Verify(v) = cli.command else {
            panic!("verify")
        };
        assert_eq!(v.output, OutputFormat::Yaml);
        assert!(parse(&["chains", "verify", "--verbose", "x"]).verbose);
        assert!(Cli::try_parse_from(["chains", "-q", "-v", "verify", "x"]).is_err());
        let Command::Watch(w) =
            parse(&["chains", "watch", "-n", "a,b", "--context", "kind-ci"]).command
        else {
            panic!("watch")
        };
        assert_eq!(w.namespace, ["a", "b"]);
        assert_eq!(w.context.as_deref(), Some("kind-ci"));
        let Command::Attest(a) = parse(&[
            "chains",
            "attest",
            "--registry-token",
            "t",
            "--k8s-keychain",
            "--timeout",
            "90s",
            "r",
        ])
        .command
        else {
            panic!("attest")
        };
        assert_eq!(a.registry.registry_token.as_deref(), Some("t"));
        assert!(a.registry.k8s_keychain);
        // A password without a user name is refused, not ignored.
        assert!(
            Cli::try_parse_from(["chains", "attest", "--registry-password", "p", "r"]).is_err()
        );
    }

    /// `-h` and `--help` on an 80-column terminal show each example line
    /// whole, as written.
    #[test]
    fn examples_survive_wrapping() {
        for examples in ALL_EXAMPLES {
            for line in crate::manual::examples(examples) {
                assert!(line.len() <= 78, "too long for 80 columns: {line:?}");
            }
        }
        for sub in ["attest", "verify", "watch", "payload", "signature"] {
            let mut cmd = command().term_width(80);
            let sub_cmd = cmd.find_subcommand_mut(sub).unwrap();
            let examples = sub_cmd.get_after_help().unwrap().to_string();
            for help in [sub_cmd.render_help(), sub_cmd.render_long_help()] {
                let help = help.to_string();
                for line in crate::manual::examples(&examples) {
                    assert!(help.contains(line), "{sub}: {line:?} not whole in:\n{help}");
                }
            }
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("18446744073709551615m").is_err());
        assert!(parse_duration("18446744073709551615s").is_err());
    }

    /// `watch --timeout` bounds each run's remote calls: 5m unless given,
    /// and never zero (every call would fail untried).
    #[test]
    fn watch_timeout_defaults_to_five_minutes_and_refuses_zero() {
        let timeout = |extra: &[&str]| {
            let args = [&["chains", "watch"][..], extra].concat();
            match Cli::try_parse_from(args).map(|c| c.command) {
                Ok(Command::Watch(w)) => Ok(w.timeout),
                Ok(_) => panic!("watch"),
                Err(e) => Err(e.to_string()),
            }
        };
        assert_eq!(timeout(&[]), Ok(Duration::from_secs(300)));
        assert_eq!(timeout(&["--timeout", "30s"]), Ok(Duration::from_secs(30)));
        let zero = timeout(&["--timeout", "0s"]).unwrap_err();
        assert!(zero.contains("a timeout must be positive"), "{zero}");
    }
}
