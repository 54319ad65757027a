//! The `oci` backend: signatures and attestations in OCI registries, laid out
//! the way cosign and Tekton Chains write them, so `cosign verify` and
//! `cosign verify-attestation` (and Chains' own readers) find them.
//!
//! Default (`dsse`) encoding, cosign's tag scheme:
//! - an image signature goes to `<repo>:sha256-<hex>.sig`: an OCI manifest
//!   with one `application/vnd.dev.cosign.simplesigning.v1+json` layer per
//!   signature (the layer is the signed payload, annotation
//!   `dev.cosignproject.cosign/signature` its base64 signature);
//! - an attestation goes to `<repo>:sha256-<hex>.att` of each of its image
//!   subjects: one `application/vnd.dsse.envelope.v1+json` layer per envelope.
//!
//! Storing appends a layer to what is already there (the manifest and its
//! config are read and extended as go-containerregistry's `mutate.Append`
//! does), and a layer identical to an existing one (same digest, same
//! annotations) is not added twice. Manifests and configs are serialized
//! byte for byte as Go's `encoding/json` writes go-containerregistry's types.
//!
//! `sigstore-bundle` encoding: a Sigstore bundle v0.3 stored as an OCI 1.1
//! referrer of the image (as Chains does through cosign's
//! `WriteAttestationNewBundleFormat`), listed by the registry's referrers API
//! or, when it has none, by the referrers tag (`sha256-<hex>`, an OCI index).
//!
//! `storage.oci.repository` sends `.sig`/`.att` tags to another repository
//! (cosign's `COSIGN_REPOSITORY`); existing signatures are read from that
//! repository too. Referrers always stay beside their image, as in Chains.
//!
//! Registries on this machine are reached over plain HTTP, others over HTTPS;
//! `storage.oci.repository.insecure` accepts any certificate and falls back
//! to plain HTTP, as Chains' insecure mode does.
//!
//! The parts: [`registry`] is the registry client (transport, pulls and
//! pushes, errors, credentials), [`manifest`] go-containerregistry's types
//! as Go serializes them, [`cosign`] cosign's layout on top of the client
//! (tag names, annotations, appending a layer, writing a referrer, the
//! `kind`s of `cosign save`'s layout), [`layout`] an OCI image layout on
//! disk, read for `chains verify --local-image`. This
//! file is the `Backend` and what `chains verify` reads back; the Sigstore
//! bundle bytes are made below by `signature_bundle`/`attestation_bundle`
//! (the seam for the one bundle module).
//!
//! Credentials come from docker's `config.json` (`auths`, `credHelpers`,
//! `credsStore`); registries without credentials are used anonymously.
//! Registry calls run on a runtime owned by the backend, so `store` can be
//! called from any thread, including one inside another async runtime.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use super::{ArtifactKind, Backend, SignedArtifact, StoreError, is_transient_status, with_retries};
use crate::run::RunId;
use crate::run::reference::ImageDigest;
use crate::sign::dsse::{Envelope, EnvelopeSignature};
use crate::sigstore::bundle;

pub(crate) mod cosign;
pub(crate) mod layout;
pub(crate) mod manifest;
pub(crate) mod registry;

use cosign::*;
use manifest::*;
use registry::*;
pub use registry::{RegistryCredentials, k8s_keychain};

const BACKEND: &str = "oci";

const BUNDLE_V03: &str = bundle::MEDIA_TYPE_V03;

/// `storage.oci.*` settings.
#[derive(Clone, Debug, Default)]
pub struct OciOptions {
    /// `storage.oci.repository`: store everything in this repository instead of each image's own.
    pub repository: Option<String>,
    /// `storage.oci.repository.insecure`: HTTPS without certificate checks,
    /// or plain HTTP when the registry does not speak TLS (as
    /// go-containerregistry's insecure registries). Registries on this
    /// machine (localhost, 127.0.0.0/8, ::1) are always reached over plain HTTP.
    pub insecure: bool,
    /// `storage.oci.encoding-format`: Dsse (default) or SigstoreBundle.
    pub encoding: Encoding,
    /// Credentials from flags, the environment and the Kubernetes
    /// keychain, before the docker config.
    pub credentials: RegistryCredentials,
}

/// `storage.oci.encoding-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// `dsse`: cosign's `.sig`/`.att` tags.
    #[default]
    Dsse,
    /// `sigstore-bundle`: Sigstore bundles as OCI 1.1 referrers.
    SigstoreBundle,
}

/// The `oci` storage backend.
pub struct OciBackend {
    opts: OciOptions,
    /// The parsed `storage.oci.repository`: (registry, repository).
    target_override: Option<(String, String)>,
    /// Where credentials come from; `None`: always anonymous.
    docker_config: Option<PathBuf>,
    inner: Arc<Inner>,
    runtime: Option<tokio::runtime::Runtime>,
    /// Credentials per registry, resolved once.
    credentials: Mutex<HashMap<String, RegistryAuth>>,
    /// One lock per tag written, so concurrent appends in this process do not lose layers.
    tag_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl fmt::Debug for OciBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print credentials.
        f.debug_struct("OciBackend")
            .field("opts", &self.opts)
            .field("docker_config", &self.docker_config)
            .finish()
    }
}

impl OciBackend {
    /// A backend reading credentials from `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`.
    pub fn new(opts: OciOptions) -> Result<Self, StoreError> {
        Self::with_docker_config(opts, default_docker_config())
    }

    /// A backend reading credentials from the given docker `config.json`
    /// (`None`: anonymous access only). A missing file means no credentials.
    pub fn with_docker_config(
        opts: OciOptions,
        docker_config: Option<PathBuf>,
    ) -> Result<Self, StoreError> {
        let target_override = match &opts.repository {
            Some(r) if !r.is_empty() => Some(parse_repository(r)?),
            _ => None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("chains-oci")
            .enable_all()
            .build()
            .map_err(|e| {
                StoreError::new(
                    BACKEND,
                    format!("cannot start the registry client runtime: {e}"),
                )
            })?;
        let config = |protocol| oci_client::client::ClientConfig {
            protocol,
            use_monolithic_push: true,
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            platform_resolver: None,
            ..Default::default()
        };
        let client = |protocol, no_verify: bool| {
            Client::try_from(oci_client::client::ClientConfig {
                accept_invalid_certificates: no_verify,
                ..config(protocol)
            })
            .map_err(|e| {
                StoreError::new(BACKEND, format!("cannot create the registry client: {e}"))
            })
        };
        let https = client(oci_client::client::ClientProtocol::Https, false)?;
        let https_no_verify = client(oci_client::client::ClientProtocol::Https, true)?;
        let http = client(oci_client::client::ClientProtocol::Http, false)?;
        let probe = |no_verify: bool| {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .danger_accept_invalid_certs(no_verify)
                .build()
                .map_err(|e| {
                    StoreError::new(BACKEND, format!("cannot create the HTTP client: {e}"))
                })
        };
        Ok(OciBackend {
            inner: Arc::new(Inner {
                https,
                https_no_verify,
                http,
                probe: probe(false)?,
                probe_no_verify: probe(true)?,
                insecure: opts.insecure,
                transports: Mutex::new(HashMap::new()),
            }),
            opts,
            target_override,
            docker_config,
            runtime: Some(runtime),
            credentials: Mutex::new(HashMap::new()),
            tag_locks: Mutex::new(HashMap::new()),
        })
    }

    fn store_signature(&self, a: &SignedArtifact) -> Result<(), StoreError> {
        let image = a.image.as_ref().ok_or_else(|| {
            StoreError::new(
                BACKEND,
                "an image signature without its image cannot be stored",
            )
        })?;
        let subject = Repo::of(image);
        match self.opts.encoding {
            Encoding::Dsse => {
                let mut annotations = cosign_annotations(a);
                annotations.insert(SIGNATURE_ANNOTATION.into(), STANDARD.encode(&a.signature));
                let layer = NewLayer {
                    media_type: SIMPLE_SIGNING,
                    blob: a.payload.clone(),
                    annotations,
                };
                let target = self.target_repo(&subject);
                self.append(target.tag(&signature_tag(image)), layer)
            }
            Encoding::SigstoreBundle => {
                let bundle = signature_bundle(a);
                self.referrer(subject, image.digest(), bundle, COSIGN_SIGN_PREDICATE)
            }
        }
    }

    fn store_attestation(&self, a: &SignedArtifact) -> Result<(), StoreError> {
        // Chains: no subject, nothing to upload (e.g. a git-clone TaskRun).
        if a.subjects.is_empty() {
            return Ok(());
        }
        // Chains fails on a subject that is not an image (`name.NewDigest`);
        // check them all before writing anything.
        let subjects = a
            .subjects
            .iter()
            .map(|(name, hex)| {
                let reference = format!("{name}@sha256:{hex}");
                ImageDigest::parse(&reference).map_err(|e| {
                    StoreError::new(
                        BACKEND,
                        format!(
                            "subject {reference} is not an image reference, so its attestation cannot go to a registry: {e}"
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let predicate_type = predicate_type(&a.payload);
        match self.opts.encoding {
            Encoding::Dsse => {
                let mut annotations = cosign_annotations(a);
                annotations.insert(SIGNATURE_ANNOTATION.into(), String::new());
                if !predicate_type.is_empty() {
                    annotations.insert(PREDICATE_TYPE_ANNOTATION.into(), predicate_type);
                }
                for image in &subjects {
                    let layer = NewLayer {
                        media_type: DSSE_ENVELOPE,
                        blob: a.signature.clone(),
                        annotations: annotations.clone(),
                    };
                    let target = self.target_repo(&Repo::of(image));
                    self.append(target.tag(&attestation_tag(image)), layer)?;
                }
                Ok(())
            }
            Encoding::SigstoreBundle => {
                if predicate_type.is_empty() {
                    return Err(StoreError::new(
                        BACKEND,
                        "the statement has no predicateType, which a sigstore-bundle referrer requires",
                    ));
                }
                let bundle = attestation_bundle(a)?;
                for image in &subjects {
                    self.referrer(
                        Repo::of(image),
                        image.digest(),
                        bundle.clone(),
                        &predicate_type,
                    )?;
                }
                Ok(())
            }
        }
    }

    /// Where `.sig`/`.att` tags of an image in `subject` go.
    fn target_repo(&self, subject: &Repo) -> Repo {
        match &self.target_override {
            Some((registry, repository)) => Repo {
                registry: registry.clone(),
                repository: repository.clone(),
            },
            None => subject.clone(),
        }
    }

    /// Append `layer` to the manifest at `tag` (creating it), with retries.
    fn append(&self, tag: Tag, layer: NewLayer) -> Result<(), StoreError> {
        let lock = self.tag_lock(&tag.to_string());
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let ctx = self.context(&tag.repo.registry, format!("pushing {tag}"))?;
        let layer = Arc::new(layer);
        self.retrying(|| {
            let (inner, tag, layer, ctx) =
                (self.inner.clone(), tag.clone(), layer.clone(), ctx.clone());
            self.block(ctx.clone(), async move {
                inner.append(&tag, &layer, &ctx).await
            })
        })
    }

    /// Store `bundle` as a referrer of `repo@digest`, with retries.
    fn referrer(
        &self,
        repo: Repo,
        digest: &str,
        bundle: Vec<u8>,
        predicate_type: &str,
    ) -> Result<(), StoreError> {
        let fallback = repo.tag(&digest.replace(':', "-"));
        let lock = self.tag_lock(&fallback.to_string());
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let ctx = self.context(
            &repo.registry,
            format!("pushing a Sigstore bundle referrer for {repo}@{digest}"),
        )?;
        let write = Arc::new(ReferrerWrite {
            repo,
            digest: digest.to_string(),
            bundle,
            predicate_type: predicate_type.to_string(),
        });
        self.retrying(|| {
            let (inner, write, ctx) = (self.inner.clone(), write.clone(), ctx.clone());
            self.block(
                ctx.clone(),
                async move { inner.referrer(&write, &ctx).await },
            )
        })
    }

    /// `with_retries`, then a permanent error: the retries are spent here,
    /// so a caller's own retry loop does not multiply them.
    fn retrying<T>(&self, op: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
        with_retries(op).map_err(|mut e| {
            if e.transient {
                e.transient = false;
                e.message.push_str(" (gave up after 4 attempts)");
            }
            e
        })
    }

    /// What a failure names: the registry, the operation, and whether
    /// credentials were sent.
    fn context(&self, registry: &str, what: String) -> Result<Ctx, StoreError> {
        let auth = self.credentials(registry)?;
        Ok(Ctx {
            registry: registry.to_string(),
            what,
            auth,
            config: self.docker_config.clone(),
        })
    }

    fn tag_lock(&self, key: &str) -> Arc<Mutex<()>> {
        let mut locks = self.tag_locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(key.to_string()).or_default().clone()
    }

    /// Credentials for `registry`, resolved once: `--registry-token`, else
    /// `--registry-username`/`--registry-password`, else the first
    /// imagePullSecret (Kubernetes keychain) with an entry for it, else the
    /// docker config.
    fn credentials(&self, registry: &str) -> Result<RegistryAuth, StoreError> {
        if let Some(auth) = self
            .credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry)
        {
            return Ok(auth.clone());
        }
        let auth = match self.opts.credentials.resolve(registry)? {
            Some(auth) => auth,
            None => match &self.docker_config {
                Some(path) => {
                    let auth = docker_credentials(path, registry)?;
                    crate::report::debug(|| match auth {
                        RegistryAuth::Anonymous => {
                            format!(
                                "registry {registry}: anonymous (nothing for it in {})",
                                path.display()
                            )
                        }
                        _ => format!("registry {registry}: credentials from {}", path.display()),
                    });
                    auth
                }
                None => RegistryAuth::Anonymous,
            },
        };
        self.credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(registry.to_string(), auth.clone());
        Ok(auth)
    }

    /// Drive `fut` on the backend's runtime and wait for it from this thread.
    fn block<T: Send + 'static>(
        &self,
        ctx: Ctx,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the backend");
        // oci-client's timeouts are per connection and per read: a registry
        // that trickles bytes outlasts them. The whole call ends by the
        // deadline in force (`--timeout`), read on this thread.
        let limit = crate::deadline::remaining();
        let timed_out = format!(
            "registry {} did not finish {} within {}",
            ctx.registry,
            ctx.what,
            crate::deadline::ended_by(Duration::MAX)
        );
        let (tx, rx) = mpsc::sync_channel(1);
        runtime.spawn(async move {
            let result = match limit {
                None => fut.await,
                Some(limit) => tokio::time::timeout(limit, fut)
                    .await
                    .unwrap_or_else(|_| Err(StoreError::transient(BACKEND, timed_out))),
            };
            let _ = tx.send(result);
        });
        rx.recv()
            .map_err(|_| StoreError::new(BACKEND, "the registry client task failed unexpectedly"))?
    }
}

// ---------------------------------------------------------------------------
// Reading back (`chains verify`)

/// The most one manifest or blob read back may hold. Signatures, envelopes
/// and bundles are kilobytes; anything larger is refused rather than held in
/// memory.
pub const MAX_READ_BYTES: u64 = 32 * 1024 * 1024;

/// A manifest as read back: its bytes and its digest (checked by the client).
pub(crate) struct ReadManifest {
    pub(crate) raw: Vec<u8>,
    pub(crate) digest: String,
}

impl OciBackend {
    /// The repository holding the `.sig`/`.att` tags of images in
    /// `image_repo`: `storage.oci.repository` when set, as when storing.
    pub(crate) fn signature_repo(&self, image_repo: &Repo) -> Repo {
        self.target_repo(image_repo)
    }

    /// The manifest or index at `repo` by tag or digest; `None` when the
    /// registry has nothing there (or no such repository).
    pub(crate) fn read_manifest(
        &self,
        repo: &Repo,
        tag_or_digest: &str,
    ) -> Result<Option<ReadManifest>, StoreError> {
        let sep = if tag_or_digest.contains(':') {
            '@'
        } else {
            ':'
        };
        let ctx = self.context(
            &repo.registry,
            format!("reading {repo}{sep}{tag_or_digest}"),
        )?;
        let reference = repo.reference(tag_or_digest);
        self.retrying(|| {
            let (inner, registry, reference, ctx) = (
                self.inner.clone(),
                repo.registry.clone(),
                reference.clone(),
                ctx.clone(),
            );
            self.block(ctx.clone(), async move {
                inner.read_manifest(&registry, &reference, &ctx).await
            })
        })
    }

    /// The blob `descriptor` names in `repo`, at most [`MAX_READ_BYTES`]
    /// (its declared size is checked first, then the bytes as they come).
    pub(crate) fn read_blob(
        &self,
        repo: &Repo,
        descriptor: &Descriptor,
    ) -> Result<Vec<u8>, StoreError> {
        let ctx = self.context(
            &repo.registry,
            format!("reading blob {repo}@{}", descriptor.digest),
        )?;
        if u64::try_from(descriptor.size).is_ok_and(|size| size > MAX_READ_BYTES) {
            return Err(ctx.permanent(too_big(descriptor.size)));
        }
        self.retrying(|| {
            let (inner, repo, digest, ctx) = (
                self.inner.clone(),
                repo.clone(),
                descriptor.digest.clone(),
                ctx.clone(),
            );
            self.block(ctx.clone(), async move {
                inner.read_blob(&repo, &digest, &ctx).await
            })
        })
    }

    /// The referrers of `repo@digest` from the registry's referrers API;
    /// `None` when the registry has no such API (then the referrers tag
    /// `sha256-<hex>` lists them).
    pub(crate) fn read_referrers(
        &self,
        repo: &Repo,
        digest: &str,
    ) -> Result<Option<Index>, StoreError> {
        let ctx = self.context(
            &repo.registry,
            format!("listing the referrers of {repo}@{digest}"),
        )?;
        self.retrying(|| {
            let (inner, repo, digest, ctx) = (
                self.inner.clone(),
                repo.clone(),
                digest.to_string(),
                ctx.clone(),
            );
            self.block(ctx.clone(), async move {
                let transport = inner.transport(&repo.registry).await;
                inner.referrers_api(transport, &repo, &digest, &ctx).await
            })
        })
    }
}

impl Drop for OciBackend {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Backend for OciBackend {
    fn name(&self) -> &'static str {
        "oci"
    }

    fn store(&self, _run: &RunId, a: &SignedArtifact) -> Result<Vec<(String, String)>, StoreError> {
        match a.kind {
            ArtifactKind::Oci => self.store_signature(a)?,
            ArtifactKind::TaskRun | ArtifactKind::PipelineRun => self.store_attestation(a)?,
        }
        Ok(Vec::new())
    }
}

// ---------------------------------------------------------------------------
// Sigstore bundles (written by crate::sigstore::bundle)

/// The bundle of an image signature (Chains' `makeSigBundleBytes`): the
/// simple-signing payload and its signature in a DSSE envelope.
fn signature_bundle(a: &SignedArtifact) -> Vec<u8> {
    let envelope = Envelope {
        payload: STANDARD.encode(&a.payload),
        payload_type: SIMPLE_SIGNING.to_string(),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: STANDARD.encode(&a.signature),
        }],
    };
    make_bundle(a, &envelope)
}

/// The bundle of an attestation (cosign's `MakeNewBundle`): the statement
/// with the envelope's payload type and first signature (without its keyid,
/// as cosign writes it).
fn attestation_bundle(a: &SignedArtifact) -> Result<Vec<u8>, StoreError> {
    let envelope = match &a.envelope {
        Some(e) => e.clone(),
        None => crate::strict_json::from_slice::<Envelope>(&a.signature).map_err(|e| {
            StoreError::new(
                BACKEND,
                format!("the attestation is not a DSSE envelope: {e}"),
            )
        })?,
    };
    let first = envelope
        .signatures
        .first()
        .ok_or_else(|| StoreError::new(BACKEND, "no signature in the DSSE envelope"))?;
    let sig = STANDARD.decode(&first.sig).map_err(|e| {
        StoreError::new(
            BACKEND,
            format!("the envelope's signature is not base64: {e}"),
        )
    })?;
    let bundle_envelope = Envelope {
        payload: STANDARD.encode(&a.payload),
        payload_type: envelope.payload_type.clone(),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: STANDARD.encode(sig),
        }],
    };
    Ok(make_bundle(a, &bundle_envelope))
}

fn make_bundle(a: &SignedArtifact, envelope: &Envelope) -> Vec<u8> {
    let hint = bundle::key_hint(&a.public_key);
    bundle::write_dsse(
        envelope,
        &bundle::Signer {
            key_hint: &hint,
            certificate: a.certificate.as_ref(),
        },
        a.tlog.as_ref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_signature_config_is_cosigns() {
        let mut config = ConfigFile::empty();
        config.rootfs.diff_ids.push("sha256:ab".into());
        config.history.push(History::default());
        assert_eq!(
            String::from_utf8(go_json(&config)).unwrap(),
            r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:ab"]},"config":{}}"#
        );
        // Re-reading and re-writing keeps the bytes.
        let again: ConfigFile = serde_json::from_slice(&go_json(&config)).unwrap();
        assert_eq!(go_json(&again), go_json(&config));
    }

    #[test]
    fn manifests_serialize_in_go_field_order() {
        let m = Manifest {
            schema_version: 2,
            media_type: OCI_MANIFEST.into(),
            config: Descriptor {
                media_type: OCI_EMPTY.into(),
                size: 2,
                digest: "sha256:c".into(),
                artifact_type: BUNDLE_V03.into(),
                ..Default::default()
            },
            layers: vec![Descriptor {
                media_type: SIMPLE_SIGNING.into(),
                size: 3,
                digest: "sha256:l".into(),
                annotations: BTreeMap::from([
                    ("z".to_string(), "<&>".to_string()),
                    ("a".to_string(), String::new()),
                ]),
                ..Default::default()
            }],
            subject: Some(Descriptor {
                media_type: OCI_MANIFEST.into(),
                size: 9,
                digest: "sha256:s".into(),
                ..Default::default()
            }),
            artifact_type: BUNDLE_V03.into(),
            ..Default::default()
        };
        assert_eq!(
            String::from_utf8(go_json(&m)).unwrap(),
            concat!(
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:c","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},"#,
                r#""layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":3,"digest":"sha256:l","annotations":{"a":"","z":"\u003c\u0026\u003e"}}],"#,
                r#""subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":9,"digest":"sha256:s"},"#,
                r#""artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#
            )
        );
    }

    #[test]
    fn repositories_parse_like_name_new_repository() {
        assert_eq!(
            parse_repository("registry.example/sigs").unwrap(),
            ("registry.example".into(), "sigs".into())
        );
        assert_eq!(
            parse_repository("busybox").unwrap(),
            ("index.docker.io".into(), "library/busybox".into())
        );
        assert!(parse_repository("registry.example/sigs:v1").is_err());
        assert!(parse_repository("Registry.example/UPPER").is_err());
    }

    #[test]
    fn local_registries_use_http() {
        assert!(is_local("127.0.0.1:5000"));
        assert!(is_local("localhost:5000"));
        assert!(is_local("[::1]:5000"));
        assert!(!is_local("registry.example"));
        assert!(!is_local("ghcr.io"));
    }

    #[test]
    fn manifest_media_types_are_inferred() {
        assert_eq!(manifest_media_type(br#"{"mediaType":"x"}"#), "x");
        assert_eq!(manifest_media_type(br#"{"manifests":[]}"#), OCI_INDEX);
        assert_eq!(manifest_media_type(br#"{"config":{}}"#), OCI_MANIFEST);
    }
}
