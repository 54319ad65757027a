//! `chains verify`: read signed artifacts back from wherever they were
//! stored, and check signatures, certificates, transparency log entries and
//! the statement against a policy.

pub mod artifact;
pub mod bundle;
pub mod certificate;
pub mod check;
pub mod evidence;
pub mod gcs;
pub mod local;
pub mod oci;
pub mod policy;
pub mod read;
pub mod source_ref;

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use miette::Diagnostic;
use rayon::prelude::*;
use serde_json::{Value, json};

use crate::cli::{OutputFormat, VerifyArgs};
use crate::run::read::InputError;
use crate::sign::PublicKey;
use crate::sink::Sink;
use crate::tlog::Rekor;
use crate::trust::{TrustedKey, TrustedRoot};
use certificate::{IdentityPolicy, Matcher, Roots};
use check::{Content, Rejection, TlogStatus, Transparency, Trust, Verified};
use evidence::Evidence;
use policy::Policy;

/// How a verification ended (the exit code follows from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything checked verified (exit 0).
    Verified,
    /// Something was rejected (exit 1).
    Rejected,
    /// An input could not be read (exit 2).
    BadInput,
}

/// What stops verification before anything is checked.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum VerifyError {
    #[error("nothing to verify")]
    #[diagnostic(
        code(chains::verify::usage),
        help(
            "give files, directories or `-`, --image REF, --local-image DIR, or --gcs gs://BUCKET/PREFIX"
        )
    )]
    NothingGiven,
    #[error("{0}")]
    #[diagnostic(code(chains::verify::usage))]
    Usage(String),
    #[error("cannot use key {reference}: {message}")]
    #[diagnostic(code(chains::verify::key))]
    Key { reference: String, message: String },
    #[error("{0}")]
    #[diagnostic(code(chains::verify::tlog))]
    Tlog(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    #[error("cannot write the report to {0}: {1}")]
    #[diagnostic(code(chains::verify::output))]
    Output(String, io::Error),
}

impl VerifyError {
    /// Usage and unreadable input are 2; a key or log that cannot be used, 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            VerifyError::NothingGiven
            | VerifyError::Usage(_)
            | VerifyError::Input(_)
            | VerifyError::Output(..) => 2,
            VerifyError::Key { .. } | VerifyError::Tlog(_) => 1,
        }
    }
}

/// One verified or rejected piece of evidence, for the report.
struct Finding {
    origin: String,
    result: Result<Verified, Rejection>,
}

/// What the reading thread hands over.
enum Batch {
    Evidence(Vec<Evidence>),
    Unreadable(InputError),
    /// An input that held nothing to verify (named).
    Empty(String),
}

/// Evidence is checked in chunks, in parallel, and reported in input order;
/// a chunk bounds memory for long JSON Lines streams.
const CHUNK: usize = 512;

/// `chains verify`.
pub fn run(args: &VerifyArgs, quiet: bool) -> Result<Outcome, VerifyError> {
    if args.inputs.is_empty()
        && args.image.is_empty()
        && args.local_image.is_empty()
        && args.gcs.is_empty()
        && args.signature.is_none()
    {
        return Err(VerifyError::NothingGiven);
    }
    if let Some(timeout) = args.timeout {
        crate::store::set_overall_timeout(timeout);
    }
    let trust = trust(args)?;
    crate::report::debug(|| {
        format!(
            "trust: {} key(s) from --key, {}, transparency log {}",
            trust.keys.len(),
            match (
                &trust.roots,
                args.trusted_root.is_some(),
                args.tuf_url.is_some()
            ) {
                (Some(_), _, _) => "certificates to --ca-roots",
                (None, true, _) => "certificates to the --trusted-root CAs",
                (None, false, true) => "certificates to the CAs of the --tuf-url root",
                (None, false, false) if args.key.is_empty() => {
                    "certificates to Sigstore's public-good root (TUF)"
                }
                (None, false, false) => "no certificate authority",
            },
            match (&trust.tlog.log, trust.tlog.online) {
                (_, true) => "looked up online (--rekor-url)",
                (Some(_), false) => "checked offline with its key",
                (None, false) => "keys not given: entries unchecked",
            }
        )
    });
    let artifact = match &args.artifact {
        Some(a) => Some(artifact::Artifact::from_arg(a).map_err(VerifyError::Usage)?),
        None => None,
    };
    let mut policy = policy(args)?;
    policy.artifact = artifact
        .as_ref()
        .map(|a| a.digests.clone())
        .unwrap_or_default();
    let mut checks = Checks {
        trust,
        policy,
        artifact,
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let mut report = Report::new(args, quiet)?;
    // Each source reports what it verified; any unreadable input is remembered.
    let mut bad_input = verify_inputs(args, &checks, &mut report)?;
    bad_input |= verify_images(args, &mut checks, &mut report);
    bad_input |= verify_detached(args, &checks, &mut report);
    bad_input |= verify_gcs(args, &checks, &mut report);
    report.finish(bad_input)
}

/// What every piece of evidence is checked against, resolved once.
struct Checks {
    trust: Trust,
    policy: Policy,
    artifact: Option<artifact::Artifact>,
    now: i64,
}

impl Checks {
    fn verify(&self, evidence: Vec<Evidence>) -> Vec<Finding> {
        verify_all(
            evidence,
            &self.trust,
            &self.policy,
            &self.artifact,
            self.now,
        )
    }
}

/// Files and streams: every piece of evidence must verify. One thread
/// reads (parsing is sequential within a stream) while the others check the
/// chunk before; the bounded channel keeps memory flat. True when an input
/// could not be read or held nothing to verify.
fn verify_inputs(
    args: &VerifyArgs,
    checks: &Checks,
    report: &mut Report,
) -> Result<bool, VerifyError> {
    let inputs = read::expand(&args.inputs)?;
    let mut bad_input = false;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
        scope.spawn(move || read_batches(&inputs, args.fail_fast, &tx));
        for batch in rx {
            match batch {
                Batch::Evidence(chunk) => report.add_all(checks.verify(chunk), true),
                Batch::Unreadable(e) => {
                    bad_input = true;
                    report.input_error(e);
                }
                Batch::Empty(name) => {
                    bad_input = true;
                    report.unreadable(&format!(
                        "{name}: nothing to verify in it (no DSSE envelope, Sigstore bundle, or run with Chains annotations)"
                    ));
                }
            }
        }
    });
    Ok(bad_input)
}

/// The reading side of [`verify_inputs`]: evidence in chunks of [`CHUNK`],
/// then each input that could not be read or held nothing.
fn read_batches(inputs: &[read::Input], fail_fast: bool, tx: &std::sync::mpsc::SyncSender<Batch>) {
    let mut batch: Vec<Evidence> = Vec::with_capacity(CHUNK);
    for input in inputs {
        let mut found = 0usize;
        let result = read::read(input, |e| {
            found += 1;
            batch.push(e);
            if batch.len() == CHUNK {
                let _ = tx.send(Batch::Evidence(std::mem::take(&mut batch)));
            }
        });
        if result.is_ok() && found == 0 {
            let _ = tx.send(Batch::Empty(input.display_name()));
            if fail_fast {
                return;
            }
        }
        if let Err(e) = result {
            let _ = tx.send(Batch::Evidence(std::mem::take(&mut batch)));
            let _ = tx.send(Batch::Unreadable(e));
            if fail_fast {
                return;
            }
        }
    }
    let _ = tx.send(Batch::Evidence(batch));
}

/// Images (`--image` from registries, `--local-image` from layouts on
/// disk): verified when at least one of what is attached passes (others
/// may be signed by other parties); each is reported. True when an image
/// could not be read.
fn verify_images(args: &VerifyArgs, checks: &mut Checks, report: &mut Report) -> bool {
    if args.image.is_empty() && args.local_image.is_empty() {
        return false;
    }
    let mut bad_input = false;
    // Registry options (credentials included) matter only for --image.
    let options = if args.image.is_empty() {
        None
    } else {
        match oci_options(args) {
            Ok(o) => Some(o),
            Err(e) => {
                report.unreadable(&e.to_string());
                bad_input = true;
                None
            }
        }
    };
    // (reference, the image's SHA-256 hex, what is attached), read lazily.
    let remote = options.iter().flat_map(|options| {
        args.image.iter().map(move |reference| {
            let fetched = oci::fetch_image(reference, options)
                .map(|i| (i.image.hex().to_string(), i.evidence))
                .map_err(|e| e.to_string());
            (reference, fetched)
        })
    });
    let local = args.local_image.iter().map(|reference| {
        let read = local::read_local_image(reference)
            .map(|i| {
                let hex = i.digest.trim_start_matches("sha256:").to_string();
                (hex, i.evidence)
            })
            .map_err(|e| e.to_string());
        (reference, read)
    });
    for (reference, read) in remote.chain(local) {
        let (hex, evidence) = match read {
            Ok(i) => i,
            Err(e) => {
                bad_input = true;
                report.unreadable(&e.to_string());
                continue;
            }
        };
        checks.policy.image = Some(policy::SubjectSpec {
            name: String::new(),
            digest: policy::DigestSpec {
                algorithm: Some("sha256".into()),
                hex,
            },
        });
        let findings = checks.verify(evidence);
        // With checks about the build, an image signature alone (which
        // says nothing about the build) does not make the image pass.
        let about_build = checks.policy.about_build();
        let passed = findings.iter().any(|f| match &f.result {
            Ok(v) => !about_build || matches!(v.content, Content::Statement { .. }),
            Err(_) => false,
        });
        report.image(reference, &findings, passed);
        report.add_all(findings, false);
        if !passed {
            report.failed += 1;
        }
        checks.policy.image = None;
    }
    bad_input
}

/// A detached signature over the artifact (cosign sign-blob's). True when
/// it could not be read.
fn verify_detached(args: &VerifyArgs, checks: &Checks, report: &mut Report) -> bool {
    let Some(path) = &args.signature else {
        return false;
    };
    match detached(args, path, checks.artifact.as_ref()) {
        Ok(evidence) => {
            report.add_all(checks.verify(vec![evidence]), true);
            false
        }
        Err(e) => {
            report.input_error(e);
            true
        }
    }
}

/// GCS prefixes: like files, every artifact must verify. True when a prefix
/// could not be read.
fn verify_gcs(args: &VerifyArgs, checks: &Checks, report: &mut Report) -> bool {
    let mut bad_input = false;
    for url in &args.gcs {
        match gcs::fetch_gcs(url) {
            Ok(evidence) if evidence.is_empty() => {
                report.problem(&format!("{url}: no Chains signatures found"));
                report.failed += 1;
            }
            Ok(evidence) => report.add_all(checks.verify(evidence), true),
            Err(e) => {
                bad_input = true;
                report.unreadable(&e.to_string());
            }
        }
    }
    bad_input
}

/// `--signature` (with `--certificate`, `--certificate-chain`) over the
/// bytes of `--artifact FILE`, as Chains' stored parts of a blob.
fn detached(
    args: &VerifyArgs,
    signature: &Path,
    artifact: Option<&artifact::Artifact>,
) -> Result<Evidence, InputError> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| crate::run::read::io_error(p, e));
    let signed = read(signature)?;
    let certificate = args.certificate.as_deref().map(read).transpose()?;
    let chain = args.certificate_chain.as_deref().map(read).transpose()?;
    let origin = signature.display().to_string();
    let Some(payload) = artifact.and_then(|a| a.bytes.clone()) else {
        return Ok(Evidence::new(
            origin,
            evidence::Signed::Unusable(
                "a detached --signature needs --artifact FILE (small enough to hold), not a digest"
                    .into(),
            ),
        ));
    };
    Ok(Evidence::from_parts(
        origin,
        Some(payload),
        signed,
        certificate,
        chain,
    ))
}

fn verify_all(
    batch: Vec<Evidence>,
    trust: &Trust,
    policy: &Policy,
    artifact: &Option<artifact::Artifact>,
    now: i64,
) -> Vec<Finding> {
    // Only policy checks read the predicate; skipping it saves a good part
    // of each check (--print-payload writes the payload bytes as they are).
    let whole = policy.about_build() || policy.max_age.is_some();
    batch
        .into_par_iter()
        .map(|e| match artifact {
            Some(a) => a.supply(e),
            None => e,
        })
        .map(|e| Finding {
            result: check::check(&e, trust, now, whole)
                .and_then(|v| policy.check(&v, now).map(|()| v)),
            origin: e.origin,
        })
        .collect()
}

fn oci_options(args: &VerifyArgs) -> Result<crate::store::oci::OciOptions, VerifyError> {
    let mut credentials = crate::plan::registry_credentials(&args.registry);
    if args.registry.k8s_keychain {
        let (namespace, account) = crate::plan::service_account(&args.registry.k8s_service_account);
        credentials.pull_secrets = crate::store::oci::k8s_keychain(namespace, account)
            .map_err(|e| VerifyError::Usage(e.to_string()))?;
    }
    Ok(crate::store::oci::OciOptions {
        insecure: args.allow_insecure_registry,
        credentials,
        ..Default::default()
    })
}

/// The trust material the flags name.
fn trust(args: &VerifyArgs) -> Result<Trust, VerifyError> {
    if args.require_tlog && args.insecure_ignore_tlog {
        return Err(VerifyError::Usage(
            "--require-tlog and --insecure-ignore-tlog contradict each other".into(),
        ));
    }
    let keys = args
        .key
        .iter()
        .map(|k| load_key(k, args))
        .collect::<Result<Vec<_>, _>>()?;
    let read_pem = |path: &Path, what: &str| {
        std::fs::read_to_string(path)
            .map_err(|e| VerifyError::Usage(format!("cannot read {what} {}: {e}", path.display())))
    };
    let root = trusted_root(args, &read_pem)?;
    let roots = if root.certificate_authorities.is_empty() {
        None
    } else {
        let mut roots = Roots::from_trusted_root(&root)
            .map_err(|e| VerifyError::Usage(format!("the trusted root: {e}")))?;
        if args.insecure_ignore_sct {
            roots.ignore_sct();
        }
        Some(roots)
    };
    let matcher = |exact: &Option<String>, re: &Option<String>, flag: &str| match (exact, re) {
        (Some(e), _) => Ok(Some(Matcher::Exact(e.clone()))),
        (None, Some(r)) => regex::Regex::new(r)
            .map(|r| Some(Matcher::Regexp(r)))
            .map_err(|e| VerifyError::Usage(format!("{flag}: {e}"))),
        (None, None) => Ok(None),
    };
    let identity = IdentityPolicy {
        identity: matcher(
            &args.certificate_identity,
            &args.certificate_identity_regexp,
            "--certificate-identity-regexp",
        )?,
        issuer: matcher(
            &args.certificate_oidc_issuer,
            &args.certificate_oidc_issuer_regexp,
            "--certificate-oidc-issuer-regexp",
        )?,
    };
    if keys.is_empty() && roots.is_none() {
        return Err(VerifyError::Usage(
            "no trust given: pass --key (a public key, a key file or a KMS URI), or --trusted-root or --ca-roots with --certificate-identity".into(),
        ));
    }
    // With --key and no identity, a trusted root is there for its logs and
    // timestamp authorities: its CAs vouch for no one.
    let roots = roots.filter(|_| identity.identity.is_some() || keys.is_empty());
    if roots.is_some() && identity.identity.is_none() {
        return Err(VerifyError::Usage(
            "a CA (--trusted-root, --ca-roots) trusts every certificate it issued: say whose with --certificate-identity or --certificate-identity-regexp".into(),
        ));
    }
    let log = if args.insecure_ignore_tlog {
        None
    } else {
        let keys = log_keys(&root)?;
        match &args.rekor_url {
            // The URL's own key is fetched only when no key is given.
            Some(url) => {
                Some(Rekor::with_url(url, keys).map_err(|e| VerifyError::Tlog(e.to_string()))?)
            }
            None if keys.is_empty() => None,
            None => Some(Rekor::with_keys(keys)),
        }
    };
    Ok(Trust {
        keys,
        root,
        roots,
        identity,
        tlog: Transparency {
            log,
            online: args.rekor_url.is_some() && !args.insecure_ignore_tlog,
            require: args.require_tlog,
            ignore: args.insecure_ignore_tlog,
        },
    })
}

/// The trusted root's Rekor logs (v1 and v2) as log keys, with their log
/// IDs and validity windows.
fn log_keys(root: &TrustedRoot) -> Result<Vec<crate::tlog::LogKey>, VerifyError> {
    let unix = |t: Option<time::OffsetDateTime>| t.map(time::OffsetDateTime::unix_timestamp);
    let mut keys = Vec::new();
    for log in &root.tlogs {
        // A key of a kind no Rekor signs with cannot verify anything.
        let Ok(public) = log.public_key() else {
            continue;
        };
        let id = <[u8; 32]>::try_from(log.log_id.as_slice()).ok();
        let Ok(mut key) = crate::tlog::LogKey::from_spki_der(public.spki_der(), id) else {
            continue;
        };
        key.valid_from = unix(log.valid_for.start);
        key.valid_until = unix(log.valid_for.end);
        keys.push(key);
    }
    if keys.is_empty() && !root.tlogs.is_empty() {
        return Err(VerifyError::Tlog(
            "none of the trusted root's transparency log keys is of a kind Rekor signs with (ECDSA P-256, P-384, Ed25519)".into(),
        ));
    }
    Ok(keys)
}

/// The trust of `--trusted-root` and of the shortcut flags (`--ca-roots`,
/// `--ca-intermediates`, `--rekor-public-key`), as one [`TrustedRoot`]; a
/// shortcut given with `--trusted-root` adds to it.
fn trusted_root(
    args: &VerifyArgs,
    read_pem: &dyn Fn(&Path, &str) -> Result<String, VerifyError>,
) -> Result<TrustedRoot, VerifyError> {
    let keyless_without_roots = args.ca_roots.is_none()
        && args.key.is_empty()
        && (args.certificate_identity.is_some() || args.certificate_identity_regexp.is_some());
    let mut root = match &args.trusted_root {
        Some(path) => {
            TrustedRoot::from_file(path).map_err(|e| VerifyError::Usage(e.to_string()))?
        }
        None if args.tuf_url.is_some() || keyless_without_roots => tuf_trusted_root(args)?,
        None => TrustedRoot::default(),
    };
    let certificates = |path: &Path, flag: &str| {
        certificate::certificates_from_pem(&read_pem(path, flag)?, flag)
            .map_err(|e| VerifyError::Usage(format!("{}: {e}", path.display())))
    };
    let ca_roots = match &args.ca_roots {
        Some(path) => certificates(path, "--ca-roots")?,
        None => Vec::new(),
    };
    let intermediates = match &args.ca_intermediates {
        Some(path) => certificates(path, "--ca-intermediates")?,
        None => Vec::new(),
    };
    let log_keys = match &args.rekor_public_key {
        Some(path) => {
            let pem = read_pem(path, "--rekor-public-key")?;
            // Checked the way entries will be checked with it.
            Rekor::offline(&pem).map_err(|e| VerifyError::Tlog(e.to_string()))?;
            crate::trust::public_keys_from_pem(&pem).map_err(|e| {
                VerifyError::Usage(format!("--rekor-public-key {}: {e}", path.display()))
            })?
        }
        None => Vec::new(),
    };
    root.extend(TrustedRoot::from_shortcuts(
        &ca_roots,
        &intermediates,
        &log_keys,
    ));
    Ok(root)
}

/// The trusted root of `--tuf-url` (with `--tuf-root`), or of Sigstore's
/// public-good TUF repository.
fn tuf_trusted_root(args: &VerifyArgs) -> Result<TrustedRoot, VerifyError> {
    use crate::trust::tuf::{self, TufOptions};
    let options = match (&args.tuf_url, &args.tuf_root) {
        (None, _) => TufOptions::sigstore(args.offline),
        (Some(url), Some(path)) => {
            let initial = std::fs::read(path).map_err(|e| {
                VerifyError::Usage(format!("cannot read --tuf-root {}: {e}", path.display()))
            })?;
            TufOptions::for_url(url, initial, args.offline)
        }
        (Some(url), None) if url.trim().trim_end_matches('/') == tuf::SIGSTORE_TUF_URL => {
            TufOptions::sigstore(args.offline)
        }
        (Some(_), None) => {
            return Err(VerifyError::Usage(
                "--tuf-url needs --tuf-root FILE: the repository's initial root.json, trusted as given".into(),
            ));
        }
    }
    .map_err(|e| VerifyError::Tlog(e.to_string()))?;
    tuf::trusted_root(&options).map_err(|e| VerifyError::Tlog(e.to_string()))
}

/// `--key`: a PEM public key (cosign.pub), a Sigstore `PublicKey` message
/// in JSON (a key with a validity window), a certificate, a private key
/// (its public half), or a KMS URI (its public key is fetched).
fn load_key(reference: &str, args: &VerifyArgs) -> Result<TrustedKey, VerifyError> {
    let key_error = |message: String| VerifyError::Key {
        reference: reference.to_string(),
        message,
    };
    let signer_key = || {
        let opts = crate::sign::SignerOptions {
            password: crate::plan::password(args.password_file.as_deref()),
            kms: crate::sign::kms::KmsOptions::from_environment(),
        };
        crate::sign::load(reference, &opts)
            .map(|s| TrustedKey::always(s.public_key().clone()))
            .map_err(|e| key_error(e.to_string()))
    };
    if crate::sign::kms::is_kms_uri(reference) {
        return signer_key();
    }
    let text = std::fs::read_to_string(reference).map_err(|e| key_error(e.to_string()))?;
    if text.trim_start().starts_with('{') {
        return TrustedKey::from_json(text.as_bytes()).map_err(key_error);
    }
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        return PublicKey::from_pem(&text)
            .map(TrustedKey::always)
            .map_err(|e| key_error(e.to_string()));
    }
    if let Some(der) = crate::pem::decode(&text, &["CERTIFICATE"]) {
        // The user named this certificate's key as trusted: its chain is not checked.
        return certificate::public_key_of(&der)
            .map(TrustedKey::always)
            .map_err(|e| key_error(e.to_string()));
    }
    signer_key()
}

fn policy(args: &VerifyArgs) -> Result<Policy, VerifyError> {
    let usage = |flag: &str, why: String| VerifyError::Usage(format!("{flag}: {why}"));
    Ok(Policy {
        predicate_type: args.predicate_type.clone(),
        builder_id: args.builder_id.clone(),
        source_uri: args.source_uri.clone(),
        source_digest: args
            .source_digest
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| usage("--source-digest", e))?,
        source_ref: source_ref(args)?,
        subjects: args
            .subject
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| usage("--subject", e))?,
        image: None,
        max_age: args
            .max_age
            .as_deref()
            .map(policy::parse_duration)
            .transpose()
            .map_err(|e| usage("--max-age", e))?,
        artifact: Vec::new(),
    })
}

/// `--source-tag`, `--source-branch`, `--source-versioned-tag` (one at most).
fn source_ref(args: &VerifyArgs) -> Result<Option<source_ref::SourceRef>, VerifyError> {
    use source_ref::SourceRef;
    if let Some(t) = &args.source_tag {
        return Ok(Some(SourceRef::Tag(t.clone())));
    }
    if let Some(b) = &args.source_branch {
        return Ok(Some(SourceRef::Branch(b.clone())));
    }
    args.source_versioned_tag
        .as_deref()
        .map(|v| {
            v.parse()
                .map(SourceRef::VersionedTag)
                .map_err(|e| VerifyError::Usage(format!("--source-versioned-tag: {e}")))
        })
        .transpose()
}

/// Prints findings as they come: a line each (stdout, or stderr when
/// stdout carries payloads), or one JSON (or YAML) document at the end.
/// The summary comes last, after every line.
struct Report {
    format: OutputFormat,
    print_payload: bool,
    quiet: bool,
    ignore_tlog: bool,
    /// REJECTED in red: lines go to a terminal (or CLICOLOR_FORCE is set)
    /// and NO_COLOR is not set.
    colour: bool,
    out: io::BufWriter<Sink>,
    /// Inputs, images or prefixes that could not be read.
    unreadable: usize,
    /// The first failure to write to stdout: the outcome cannot be trusted
    /// by whoever reads it, so verify fails.
    write_error: Option<io::Error>,
    verified: usize,
    rejected: usize,
    /// What makes the outcome a rejection: rejected files' evidence, images
    /// with nothing that verifies, empty GCS prefixes.
    failed: usize,
    unchecked_tlog: usize,
    results: Vec<Value>,
    problems: Vec<String>,
    images: Vec<Value>,
}

impl Report {
    fn new(args: &VerifyArgs, quiet: bool) -> Result<Report, VerifyError> {
        let out_file = args.output_file.as_deref();
        let sink = Sink::open(out_file).map_err(|e| {
            let name = out_file.unwrap_or(Path::new("-")).display().to_string();
            VerifyError::Output(name, e)
        })?;
        let lines_to_terminal = match args.print_payload {
            true => io::stderr().is_terminal(),
            false => out_file.is_none() && io::stdout().is_terminal(),
        };
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
        let lines_to_terminal = lines_to_terminal || set("CLICOLOR_FORCE");
        let no_colour = set("NO_COLOR");
        Ok(Report {
            format: args.output,
            print_payload: args.print_payload,
            quiet,
            ignore_tlog: args.insecure_ignore_tlog,
            colour: lines_to_terminal && !no_colour,
            out: io::BufWriter::with_capacity(1 << 16, sink),
            unreadable: 0,
            write_error: None,
            verified: 0,
            rejected: 0,
            failed: 0,
            unchecked_tlog: 0,
            results: Vec::new(),
            problems: Vec::new(),
            images: Vec::new(),
        })
    }

    /// JSON or YAML: one document at the end instead of lines.
    fn structured(&self) -> bool {
        self.format != OutputFormat::Text
    }

    /// The REJECTED mark, red and bold where colour is wanted.
    fn rejected_mark(&self) -> String {
        let style = anstyle::Style::new()
            .bold()
            .fg_color(Some(anstyle::AnsiColor::Red.into()));
        match self.colour {
            true => format!("{style}REJECTED{style:#}"),
            false => "REJECTED".into(),
        }
    }

    fn line(&mut self, text: &str) {
        if self.print_payload {
            eprintln!("{text}");
        } else {
            let result = writeln!(self.out, "{text}");
            self.note(result);
        }
    }

    /// Keep the first error writing to stdout.
    fn note(&mut self, result: io::Result<()>) {
        if let Err(e) = result {
            self.write_error.get_or_insert(e);
        }
    }

    /// `decisive`: a rejection here rejects the whole verification (not so
    /// for an image's attachments, which are judged together).
    fn add_all(&mut self, findings: Vec<Finding>, decisive: bool) {
        for f in findings {
            if decisive && f.result.is_err() {
                self.failed += 1;
            }
            self.add(f);
        }
    }

    fn add(&mut self, f: Finding) {
        match &f.result {
            Ok(v) => {
                self.verified += 1;
                if matches!(v.tlog, TlogStatus::Unchecked { .. }) {
                    self.unchecked_tlog += 1;
                }
                if self.print_payload
                    && let Some(p) = v.content.payload()
                {
                    let result = self
                        .out
                        .write_all(p)
                        .and_then(|()| self.out.write_all(b"\n"));
                    self.note(result);
                }
                if self.structured() {
                    self.results.push(finding_json(&f.origin, &f.result));
                } else if !self.quiet {
                    let text = format!("verified  {}: {}", f.origin, describe(v));
                    self.line(&text);
                }
            }
            Err(r) => {
                self.rejected += 1;
                if self.structured() {
                    self.results.push(finding_json(&f.origin, &f.result));
                } else {
                    let mark = self.rejected_mark();
                    let text = format!("{mark}  {}: {}: {}", f.origin, r.check, r.reason);
                    self.line(&text);
                }
            }
        }
    }

    fn image(&mut self, reference: &str, findings: &[Finding], passed: bool) {
        let mark = self.rejected_mark();
        if self.structured() {
            self.images.push(json!({
                "image": reference,
                "verified": passed,
                "artifacts": findings.len(),
            }));
        } else if findings.is_empty() {
            self.line(&format!(
                "{mark}  {reference}: no signatures or attestations are attached"
            ));
        } else if !passed {
            self.line(&format!(
                "{mark}  {reference}: none of its {} signatures and attestations verifies",
                findings.len()
            ));
        }
    }

    fn input_error(&mut self, e: InputError) {
        self.unreadable += 1;
        let text = format!("{e}");
        if self.structured() {
            self.problems.push(text);
        }
        // Lines written so far come before the error, in reading order.
        let result = self.out.flush();
        self.note(result);
        crate::report::report(e);
    }

    /// Something that could not be read (not a rejection).
    fn unreadable(&mut self, text: &str) {
        self.unreadable += 1;
        self.problem(text);
    }

    fn problem(&mut self, text: &str) {
        if self.structured() {
            self.problems.push(text.to_string());
        } else {
            let result = self.out.flush();
            self.note(result);
            eprintln!("error: {text}");
        }
    }

    fn finish(mut self, bad_input: bool) -> Result<Outcome, VerifyError> {
        let outcome = if bad_input {
            Outcome::BadInput
        } else if self.failed > 0 || self.verified == 0 {
            Outcome::Rejected
        } else {
            Outcome::Verified
        };
        if self.structured() {
            self.write_document(outcome);
        } else if !self.quiet || outcome != Outcome::Verified {
            self.write_summary();
        }
        let result = self.out.flush();
        self.note(result);
        let name = self.out.get_ref().name();
        let (sink, flushed) = match self.out.into_inner() {
            Ok(sink) => (Some(sink), Ok(())),
            Err(e) => {
                let error = io::Error::new(e.error().kind(), e.error().to_string());
                (None, Err(error))
            }
        };
        let committed = match (self.write_error, flushed, sink) {
            (Some(e), _, _) | (None, Err(e), _) => Err(e),
            (None, Ok(()), Some(sink)) => sink.commit(),
            (None, Ok(()), None) => Ok(()),
        };
        committed
            .map(|()| outcome)
            .map_err(|e| VerifyError::Output(name, e))
    }

    /// `-o json` / `-o yaml`: every finding in one document.
    fn write_document(&mut self, outcome: Outcome) {
        let doc = json!({
            "verified": outcome == Outcome::Verified,
            "counts": {"verified": self.verified, "rejected": self.rejected},
            "results": std::mem::take(&mut self.results),
            "images": std::mem::take(&mut self.images),
            "errors": std::mem::take(&mut self.problems),
        });
        let result = match self.format {
            OutputFormat::Yaml => serde_saphyr::to_string(&doc)
                .map_err(|e| io::Error::other(e.to_string()))
                .and_then(|text| self.out.write_all(text.as_bytes())),
            _ => serde_json::to_writer_pretty(&mut self.out, &doc)
                .map_err(io::Error::from)
                .and_then(|()| self.out.write_all(b"\n")),
        };
        self.note(result);
    }

    /// The summary line, after every finding's line. When nothing could be
    /// checked because inputs could not be read, the errors said all there
    /// is: no "0 verified, 0 rejected" beside them.
    fn write_summary(&mut self) {
        let mut text = match (self.verified + self.rejected, self.unreadable) {
            (0, 0) => "nothing verified".to_string(),
            (0, _) => return,
            _ => format!("{} verified, {} rejected", self.verified, self.rejected),
        };
        if self.unreadable > 0 {
            let n = self.unreadable;
            text.push_str(&format!(
                ", {n} input{} not read",
                if n == 1 { "" } else { "s" }
            ));
        }
        if self.ignore_tlog {
            text.push_str("; transparency log NOT checked (--insecure-ignore-tlog)");
        } else if self.unchecked_tlog > 0 {
            text.push_str(&format!(
                "; {} log entries NOT checked (pass --rekor-public-key or --rekor-url)",
                self.unchecked_tlog
            ));
        }
        // On a terminal the summary goes to stderr (so that it shows when
        // stdout is piped), after the lines written so far.
        let to_stderr =
            self.print_payload || (io::stderr().is_terminal() && self.out.get_ref().is_stdout());
        if to_stderr {
            let result = self.out.flush();
            self.note(result);
            eprintln!("{text}");
        } else {
            let result = writeln!(self.out, "{text}");
            self.note(result);
        }
    }
}

/// One line about what verified.
fn describe(v: &Verified) -> String {
    let what = match &v.content {
        Content::Statement { statement, .. } => {
            let pt = statement
                .get("predicateType")
                .and_then(Value::as_str)
                .unwrap_or("");
            let n = statement
                .get("subject")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            format!("{pt} for {n} subject{}", if n == 1 { "" } else { "s" })
        }
        Content::ImageSignature { image_digest, .. } => {
            format!("signature of image {image_digest}")
        }
        Content::Blob {
            payload_type: Some(t),
            sha256_hex,
            ..
        } => format!("{t} payload sha256:{sha256_hex}"),
        Content::Blob { sha256_hex, .. } => format!("signature of sha256:{sha256_hex}"),
    };
    let tlog = match &v.tlog {
        TlogStatus::Verified {
            log_index,
            integrated_time: Some(t),
        } => format!(", logged at index {log_index} ({})", rfc3339(*t)),
        TlogStatus::Verified {
            log_index,
            integrated_time: None,
        } => format!(", logged at index {log_index}"),
        TlogStatus::Unchecked { .. } => ", log entry not checked".into(),
        TlogStatus::Absent | TlogStatus::Ignored => String::new(),
    };
    format!("{what}, signed by {}{tlog}", v.signer)
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// A finding as JSON: stable field names for machines.
fn finding_json(origin: &str, result: &Result<Verified, Rejection>) -> Value {
    match result {
        Ok(v) => {
            let mut out = json!({
                "origin": origin,
                "verified": true,
                "signer": v.signer,
            });
            match &v.content {
                Content::Statement { statement, .. } => {
                    out["predicateType"] = statement
                        .get("predicateType")
                        .cloned()
                        .unwrap_or(Value::Null);
                    out["subjects"] = statement.get("subject").cloned().unwrap_or(Value::Null);
                }
                Content::ImageSignature { image_digest, .. } => {
                    out["image"] = json!(image_digest);
                }
                Content::Blob {
                    payload_type,
                    sha256_hex,
                    ..
                } => {
                    out["messageDigest"] = json!(format!("sha256:{sha256_hex}"));
                    if let Some(t) = payload_type {
                        out["payloadType"] = json!(t);
                    }
                }
            }
            out["tlog"] = match &v.tlog {
                TlogStatus::Verified {
                    log_index,
                    integrated_time,
                } => {
                    json!({"status": "verified", "logIndex": log_index, "integratedTime": integrated_time})
                }
                TlogStatus::Unchecked { entries } => {
                    json!({"status": "unchecked", "entries": entries})
                }
                TlogStatus::Absent => json!({"status": "absent"}),
                TlogStatus::Ignored => json!({"status": "ignored"}),
            };
            out
        }
        Err(r) => json!({
            "origin": origin,
            "verified": false,
            "check": r.check,
            "reason": r.reason,
        }),
    }
}
