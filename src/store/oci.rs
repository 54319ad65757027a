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

const BACKEND: &str = "oci";

const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const BUNDLE_V03: &str = bundle::MEDIA_TYPE_V03;
/// cosign's `CosignSignPredicateType`: marks signature bundles among referrers.
const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
const BUNDLE_PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// Go's zero `time.Time`, as `encoding/json` writes it.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

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
                self.append(target.tag(&format!("sha256-{}.sig", image.hex())), layer)
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
                    self.append(target.tag(&format!("sha256-{}.att", image.hex())), layer)?;
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
            self.block(async move { inner.append(&tag, &layer, &ctx).await })
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
            self.block(async move { inner.referrer(&write, &ctx).await })
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

    /// Credentials for `registry` from the docker config, resolved once.
    fn credentials(&self, registry: &str) -> Result<RegistryAuth, StoreError> {
        if let Some(auth) = self
            .credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry)
        {
            return Ok(auth.clone());
        }
        let auth = match &self.docker_config {
            Some(path) => docker_credentials(path, registry)?,
            None => RegistryAuth::Anonymous,
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
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the backend");
        let (tx, rx) = mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(fut.await);
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
            self.block(async move { inner.read_manifest(&registry, &reference, &ctx).await })
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
            self.block(async move { inner.read_blob(&repo, &digest, &ctx).await })
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
            self.block(async move {
                let transport = inner.transport(&repo.registry).await;
                inner.referrers_api(transport, &repo, &digest, &ctx).await
            })
        })
    }
}

fn too_big(size: impl fmt::Display) -> String {
    format!(
        "it is {size} bytes, more than the {} MiB read back for a signature, attestation or bundle",
        MAX_READ_BYTES / (1024 * 1024)
    )
}

/// A blob being read, refused past `limit` bytes (a registry may send more
/// than the descriptor says).
struct Capped {
    data: Vec<u8>,
    limit: u64,
    over: bool,
}

impl tokio::io::AsyncWrite for Capped {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if (self.data.len() + buf.len()) as u64 > self.limit {
            self.over = true;
            return std::task::Poll::Ready(Err(std::io::Error::other("blob over the size limit")));
        }
        self.data.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

impl Inner {
    async fn read_manifest(
        &self,
        registry: &str,
        reference: &Reference,
        ctx: &Ctx,
    ) -> Result<Option<ReadManifest>, StoreError> {
        let client = self.client(self.transport(registry).await);
        let accept = [
            OCI_MANIFEST,
            DOCKER_MANIFEST,
            OCI_INDEX,
            DOCKER_MANIFEST_LIST,
        ];
        match client
            .pull_manifest_raw(reference, &ctx.auth, &accept)
            .await
        {
            Ok((raw, _)) if raw.len() as u64 > MAX_READ_BYTES => {
                Err(ctx.permanent(format!("the manifest is not read: {}", too_big(raw.len()))))
            }
            Ok((raw, digest)) => Ok(Some(ReadManifest {
                raw: raw.to_vec(),
                digest,
            })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(ctx.oci(e)),
        }
    }

    async fn read_blob(&self, repo: &Repo, digest: &str, ctx: &Ctx) -> Result<Vec<u8>, StoreError> {
        let client = self.client(self.transport(&repo.registry).await);
        client.store_auth_if_needed(&repo.registry, &ctx.auth).await;
        let mut out = Capped {
            data: Vec::new(),
            limit: MAX_READ_BYTES,
            over: false,
        };
        let result = client
            .pull_blob(&repo.reference(digest), digest, &mut out)
            .await;
        match result {
            Ok(()) => Ok(out.data),
            Err(_) if out.over => Err(ctx.permanent(format!(
                "the blob is not read: {}",
                too_big(format!("over {MAX_READ_BYTES}"))
            ))),
            Err(e) => Err(ctx.oci(e)),
        }
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
// Names

/// A repository: registry host and repository path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Repo {
    pub(crate) registry: String,
    pub(crate) repository: String,
}

impl Repo {
    pub(crate) fn of(image: &ImageDigest) -> Repo {
        let name = image.repository_name();
        let (registry, repository) = name.split_once('/').unwrap_or(("", &name));
        Repo {
            registry: registry.to_string(),
            repository: repository.to_string(),
        }
    }

    fn tag(&self, tag: &str) -> Tag {
        Tag {
            repo: self.clone(),
            tag: tag.to_string(),
        }
    }

    fn reference(&self, tag_or_digest: &str) -> Reference {
        if tag_or_digest.contains(':') {
            Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                tag_or_digest.to_string(),
            )
        } else {
            Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                tag_or_digest.to_string(),
            )
        }
    }
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

#[derive(Clone, Debug)]
struct Tag {
    repo: Repo,
    tag: String,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repo, self.tag)
    }
}

/// `name.NewRepository`: a repository without tag or digest, registry defaulted.
fn parse_repository(name: &str) -> Result<(String, String), StoreError> {
    let bad = |why: String| {
        StoreError::new(
            BACKEND,
            format!("storage.oci.repository {name:?} is not a repository: {why}"),
        )
    };
    if name.contains('@')
        || name
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
    {
        return Err(bad("it must not name a tag or digest".into()));
    }
    let zeros = "0".repeat(64);
    let parsed =
        ImageDigest::parse(&format!("{name}@sha256:{zeros}")).map_err(|e| bad(e.to_string()))?;
    let repo = Repo::of(&parsed);
    Ok((repo.registry, repo.repository))
}

// ---------------------------------------------------------------------------
// What gets written

/// A layer to append to a `.sig`/`.att` manifest.
struct NewLayer {
    media_type: &'static str,
    blob: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

/// A referrer to write: the bundle, for the image `repo@digest`.
struct ReferrerWrite {
    repo: Repo,
    digest: String,
    bundle: Vec<u8>,
    predicate_type: String,
}

/// cosign's `static` options: certificate and chain (both, when there is a
/// certificate) and the Rekor bundle.
fn cosign_annotations(a: &SignedArtifact) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(cert) = &a.certificate {
        out.insert(CERTIFICATE_ANNOTATION.into(), cert.certificate_pem.clone());
        out.insert(CHAIN_ANNOTATION.into(), cert.chain_pem.clone());
    }
    if let Some(entry) = &a.tlog {
        out.insert(BUNDLE_ANNOTATION.into(), entry.cosign_bundle_json());
    }
    out
}

/// The statement's `predicateType` (empty when there is none).
fn predicate_type(statement: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(statement)
        .ok()
        .and_then(|v| v.get("predicateType")?.as_str().map(str::to_string))
        .unwrap_or_default()
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
        None => {
            crate::sigstore::strict_json::from_slice::<Envelope>(&a.signature).map_err(|e| {
                StoreError::new(
                    BACKEND,
                    format!("the attestation is not a DSSE envelope: {e}"),
                )
            })?
        }
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

// ---------------------------------------------------------------------------
// go-containerregistry's types, serialized as Go serializes them

/// `v1.Descriptor`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Descriptor {
    #[serde(rename = "mediaType", default, deserialize_with = "nullable")]
    pub(crate) media_type: String,
    #[serde(default)]
    pub(crate) size: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(crate) urls: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub(crate) annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    platform: Option<Platform>,
    #[serde(
        rename = "artifactType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) artifact_type: String,
}

/// `v1.Platform`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Platform {
    #[serde(default, deserialize_with = "nullable")]
    architecture: String,
    #[serde(default, deserialize_with = "nullable")]
    os: String,
    #[serde(
        rename = "os.version",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    os_version: String,
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    os_features: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    variant: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    features: Vec<String>,
}

/// `v1.Manifest` (with cosign's top-level `artifactType`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    #[serde(rename = "schemaVersion", default)]
    pub(crate) schema_version: i64,
    #[serde(
        rename = "mediaType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) media_type: String,
    #[serde(default)]
    pub(crate) config: Descriptor,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) layers: Vec<Descriptor>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub(crate) annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<Descriptor>,
    #[serde(
        rename = "artifactType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) artifact_type: String,
}

/// `v1.IndexManifest`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Index {
    #[serde(rename = "schemaVersion", default)]
    pub(crate) schema_version: i64,
    #[serde(
        rename = "mediaType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) media_type: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) manifests: Vec<Descriptor>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub(crate) annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<Descriptor>,
    #[serde(
        rename = "artifactType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) artifact_type: String,
}

/// `v1.ConfigFile` (the execution `config` kept as JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ConfigFile {
    #[serde(default, deserialize_with = "nullable")]
    architecture: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    author: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    container: String,
    /// Go's `v1.Time` is never omitted; the zero time is written.
    #[serde(default = "zero_time", deserialize_with = "go_time")]
    created: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    docker_version: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    history: Vec<History>,
    #[serde(default, deserialize_with = "nullable")]
    os: String,
    #[serde(default)]
    rootfs: RootFs,
    #[serde(default = "empty_object")]
    config: serde_json::Value,
    #[serde(
        rename = "os.version",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    os_version: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    variant: String,
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    os_features: Vec<String>,
}

impl ConfigFile {
    /// go-containerregistry's `empty.Image` config.
    fn empty() -> ConfigFile {
        ConfigFile {
            architecture: String::new(),
            author: String::new(),
            container: String::new(),
            created: zero_time(),
            docker_version: String::new(),
            history: Vec::new(),
            os: String::new(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: Vec::new(),
            },
            config: empty_object(),
            os_version: String::new(),
            variant: String::new(),
            os_features: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct RootFs {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    kind: String,
    #[serde(default, deserialize_with = "nullable")]
    diff_ids: Vec<String>,
}

/// `v1.History`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct History {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    author: String,
    #[serde(default = "zero_time", deserialize_with = "go_time")]
    created: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    created_by: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    comment: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    empty_layer: bool,
}

impl Default for History {
    fn default() -> Self {
        History {
            author: String::new(),
            created: zero_time(),
            created_by: String::new(),
            comment: String::new(),
            empty_layer: false,
        }
    }
}

fn zero_time() -> String {
    ZERO_TIME.to_string()
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// A JSON `null` reads as the type's default, as Go's decoder does.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn go_time<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(zero_time))
}

/// Go's `json.Marshal`: compact, with `<`, `>`, `&`, U+2028 and U+2029 escaped.
fn go_json<T: Serialize>(value: &T) -> Vec<u8> {
    let text = serde_json::to_string(value).expect("these types always serialize");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

fn sha256_digest(data: &[u8]) -> String {
    let hash = Sha256::digest(data);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn is_image_config(media_type: &str) -> bool {
    matches!(media_type, OCI_CONFIG | DOCKER_CONFIG)
}

/// A manifest's media type: its `mediaType`, else what its fields say.
fn manifest_media_type(raw: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(raw) {
        Ok(Probe {
            media_type: Some(m),
            ..
        }) if !m.is_empty() => m,
        Ok(Probe {
            manifests: Some(_), ..
        }) => OCI_INDEX.to_string(),
        _ => OCI_MANIFEST.to_string(),
    }
}

fn now_rfc3339() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(format)
        .unwrap_or_else(|_| ZERO_TIME.to_string())
}

// ---------------------------------------------------------------------------
// Registry I/O

struct Inner {
    https: Client,
    /// For `insecure` registries that speak TLS: no certificate checks.
    https_no_verify: Client,
    http: Client,
    /// For the referrers API probe and pings, which oci-client does not expose.
    probe: reqwest::Client,
    probe_no_verify: reqwest::Client,
    insecure: bool,
    /// How each `insecure` registry answered.
    transports: Mutex<HashMap<String, Transport>>,
}

/// How a registry is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Https,
    /// `insecure`: HTTPS without certificate verification.
    HttpsNoVerify,
    Http,
}

impl Transport {
    fn scheme(self) -> &'static str {
        match self {
            Transport::Https | Transport::HttpsNoVerify => "https",
            Transport::Http => "http",
        }
    }
}

impl Inner {
    /// This machine: plain HTTP. Otherwise HTTPS, unless `insecure`: then, as
    /// go-containerregistry pings an insecure registry, HTTPS without
    /// certificate checks if it answers there, else plain HTTP.
    async fn transport(&self, registry: &str) -> Transport {
        if is_local(registry) {
            return Transport::Http;
        }
        if !self.insecure {
            return Transport::Https;
        }
        let known = self
            .transports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry)
            .copied();
        if let Some(t) = known {
            return t;
        }
        let answers = |client: &reqwest::Client, scheme: &str| {
            client
                .get(format!("{scheme}://{registry}/v2/"))
                .timeout(CONNECT_TIMEOUT)
                .send()
        };
        let transport = if answers(&self.probe_no_verify, "https").await.is_ok() {
            Transport::HttpsNoVerify
        } else if answers(&self.probe, "http").await.is_ok() {
            Transport::Http
        } else {
            // Not reachable now: the request that follows says why; ask again next time.
            return Transport::Http;
        };
        self.transports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(registry.to_string(), transport);
        transport
    }

    fn client(&self, transport: Transport) -> &Client {
        match transport {
            Transport::Https => &self.https,
            Transport::HttpsNoVerify => &self.https_no_verify,
            Transport::Http => &self.http,
        }
    }

    fn probe(&self, transport: Transport) -> &reqwest::Client {
        match transport {
            Transport::HttpsNoVerify => &self.probe_no_verify,
            _ => &self.probe,
        }
    }

    /// Append a layer to the manifest at `tag` (mutate.Append + remote.Write).
    async fn append(&self, tag: &Tag, layer: &NewLayer, ctx: &Ctx) -> Result<(), StoreError> {
        let client = self.client(self.transport(&tag.repo.registry).await);
        client
            .store_auth_if_needed(&tag.repo.registry, &ctx.auth)
            .await;
        let reference = tag.repo.reference(&tag.tag);
        let layer_digest = sha256_digest(&layer.blob);

        let existing = self
            .pull_manifest(client, &reference, &[OCI_MANIFEST, DOCKER_MANIFEST], ctx)
            .await?;
        let (mut manifest, mut config) = match existing {
            Some(raw) => {
                let manifest: Manifest = serde_json::from_slice(&raw).map_err(|e| {
                    ctx.permanent(format!(
                        "the manifest already at {tag} is not an image manifest: {e}"
                    ))
                })?;
                let duplicate = manifest
                    .layers
                    .iter()
                    .any(|l| l.digest == layer_digest && l.annotations == layer.annotations);
                if duplicate {
                    return Ok(());
                }
                let config = if is_image_config(&manifest.config.media_type) {
                    let raw = self
                        .pull_blob(client, &reference, &manifest.config.digest, ctx)
                        .await?;
                    Some(serde_json::from_slice::<ConfigFile>(&raw).map_err(|e| {
                        ctx.permanent(format!(
                            "the config of the manifest at {tag} is not an image config: {e}"
                        ))
                    })?)
                } else {
                    None
                };
                (manifest, config)
            }
            None => (
                Manifest {
                    schema_version: 2,
                    media_type: OCI_MANIFEST.into(),
                    config: Descriptor {
                        media_type: OCI_CONFIG.into(),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                Some(ConfigFile::empty()),
            ),
        };

        manifest.layers.push(Descriptor {
            media_type: layer.media_type.into(),
            size: layer.blob.len() as i64,
            digest: layer_digest.clone(),
            annotations: layer.annotations.clone(),
            ..Default::default()
        });
        self.push_blob(client, &reference, &layer.blob, &layer_digest, ctx)
            .await?;
        if let Some(config) = config.as_mut() {
            config.rootfs.diff_ids.push(layer_digest);
            config.history.push(History::default());
            let raw = go_json(config);
            manifest.config.digest = sha256_digest(&raw);
            manifest.config.size = raw.len() as i64;
            if manifest.config.data.is_some() {
                manifest.config.data = Some(STANDARD.encode(&raw));
            }
            self.push_blob(client, &reference, &raw, &manifest.config.digest, ctx)
                .await?;
        }
        let media_type = if manifest.media_type.is_empty() {
            OCI_MANIFEST.to_string()
        } else {
            manifest.media_type.clone()
        };
        self.push_manifest(client, &reference, go_json(&manifest), &media_type, ctx)
            .await
    }

    /// Write a bundle referrer of `w.repo@w.digest` (cosign's
    /// `WriteAttestationNewBundleFormat`), and the referrers tag when the
    /// registry has no referrers API (go-containerregistry's fallback).
    async fn referrer(&self, w: &ReferrerWrite, ctx: &Ctx) -> Result<(), StoreError> {
        let transport = self.transport(&w.repo.registry).await;
        let client = self.client(transport);
        client
            .store_auth_if_needed(&w.repo.registry, &ctx.auth)
            .await;
        let subject_ref = w.repo.reference(&w.digest);
        let all = [
            OCI_MANIFEST,
            DOCKER_MANIFEST,
            OCI_INDEX,
            DOCKER_MANIFEST_LIST,
        ];
        let Some(subject_raw) = self.pull_manifest(client, &subject_ref, &all, ctx).await? else {
            return Err(ctx.permanent(format!(
                "the image {}@{} is not in the registry, and a referrer needs its subject",
                w.repo, w.digest
            )));
        };
        let subject = Descriptor {
            media_type: manifest_media_type(&subject_raw),
            size: subject_raw.len() as i64,
            digest: w.digest.clone(),
            ..Default::default()
        };

        // Existing referrers: the API when the registry has one, else the tag.
        let fallback_ref = w.repo.reference(&w.digest.replace(':', "-"));
        let native = self
            .referrers_api(transport, &w.repo, &w.digest, ctx)
            .await?;
        let fallback_index = match &native {
            Some(_) => None,
            None => match self
                .pull_manifest(client, &fallback_ref, &[OCI_INDEX], ctx)
                .await?
            {
                Some(raw) => {
                    let index: Index = serde_json::from_slice(&raw).map_err(|e| {
                        ctx.permanent(format!(
                            "the referrers tag {} is not an index: {e}",
                            fallback_tag_name(w)
                        ))
                    })?;
                    if index.schema_version != 2 || index.media_type != OCI_INDEX {
                        return Err(ctx.permanent(format!(
                            "the referrers tag {} holds something other than an OCI image index",
                            fallback_tag_name(w)
                        )));
                    }
                    Some(index)
                }
                None => None,
            },
        };

        // An identical bundle already stored: nothing to do.
        let bundle_digest = sha256_digest(&w.bundle);
        let listed = native.as_ref().or(fallback_index.as_ref());
        for desc in listed.map(|i| i.manifests.as_slice()).unwrap_or_default() {
            let r = w.repo.reference(&desc.digest);
            if let Ok(Some(raw)) = self.pull_manifest(client, &r, &[OCI_MANIFEST], ctx).await
                && let Ok(m) = serde_json::from_slice::<Manifest>(&raw)
                && m.layers.iter().any(|l| l.digest == bundle_digest)
            {
                return Ok(());
            }
        }

        let empty_config = b"{}";
        let config = Descriptor {
            media_type: OCI_EMPTY.into(),
            size: empty_config.len() as i64,
            digest: sha256_digest(empty_config),
            artifact_type: BUNDLE_V03.into(),
            ..Default::default()
        };
        self.push_blob(client, &subject_ref, empty_config, &config.digest, ctx)
            .await?;
        self.push_blob(client, &subject_ref, &w.bundle, &bundle_digest, ctx)
            .await?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: OCI_MANIFEST.into(),
            config,
            layers: vec![Descriptor {
                media_type: BUNDLE_V03.into(),
                size: w.bundle.len() as i64,
                digest: bundle_digest,
                ..Default::default()
            }],
            annotations: BTreeMap::from([
                (
                    BUNDLE_CONTENT_ANNOTATION.to_string(),
                    "dsse-envelope".to_string(),
                ),
                (
                    BUNDLE_PREDICATE_ANNOTATION.to_string(),
                    w.predicate_type.clone(),
                ),
                (CREATED_ANNOTATION.to_string(), now_rfc3339()),
            ]),
            subject: Some(subject),
            artifact_type: BUNDLE_V03.into(),
        };
        let raw = go_json(&manifest);
        let manifest_digest = sha256_digest(&raw);
        let size = raw.len() as i64;
        let by_digest = w.repo.reference(&manifest_digest);
        self.push_manifest(client, &by_digest, raw, OCI_MANIFEST, ctx)
            .await?;

        if native.is_some() {
            // The registry maintains its referrers list itself.
            return Ok(());
        }
        let mut index = fallback_index.unwrap_or_else(|| Index {
            schema_version: 2,
            media_type: OCI_INDEX.into(),
            ..Default::default()
        });
        if index.manifests.iter().any(|d| d.digest == manifest_digest) {
            return Ok(());
        }
        index.manifests.push(Descriptor {
            media_type: OCI_MANIFEST.into(),
            size,
            digest: manifest_digest,
            artifact_type: BUNDLE_V03.into(),
            ..Default::default()
        });
        index.manifests.sort_by(|a, b| a.digest.cmp(&b.digest));
        self.push_manifest(client, &fallback_ref, go_json(&index), OCI_INDEX, ctx)
            .await
    }

    /// The referrers API: the listing when the registry implements it,
    /// `None` when it does not (404, 400, 406: use the referrers tag).
    async fn referrers_api(
        &self,
        transport: Transport,
        repo: &Repo,
        digest: &str,
        ctx: &Ctx,
    ) -> Result<Option<Index>, StoreError> {
        let client = self.client(transport);
        let reference = repo.reference(digest);
        let token = client
            .auth(&reference, &ctx.auth, RegistryOperation::Pull)
            .await
            .map_err(|e| ctx.oci(e))?;
        let scheme = transport.scheme();
        let url = format!(
            "{scheme}://{}/v2/{}/referrers/{digest}",
            repo.registry, repo.repository
        );
        let mut request = self.probe(transport).get(&url).header("Accept", OCI_INDEX);
        request = match (token, &ctx.auth) {
            (Some(token), _) => request.bearer_auth(token),
            (None, RegistryAuth::Basic(user, password)) => request.basic_auth(user, Some(password)),
            _ => request,
        };
        let response = request.send().await.map_err(|e| ctx.request(&e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| ctx.request(&e))?;
        match status {
            200 => Ok(serde_json::from_slice::<Index>(&body).ok()),
            400 | 404 | 406 => Ok(None),
            code => Err(ctx.status(code, &String::from_utf8_lossy(&body))),
        }
    }

    /// A manifest's bytes, or `None` when the registry has none there.
    async fn pull_manifest(
        &self,
        client: &Client,
        reference: &Reference,
        accept: &[&str],
        ctx: &Ctx,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match client.pull_manifest_raw(reference, &ctx.auth, accept).await {
            Ok((raw, _digest)) => Ok(Some(raw.to_vec())),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(ctx.oci(e)),
        }
    }

    async fn pull_blob(
        &self,
        client: &Client,
        reference: &Reference,
        digest: &str,
        ctx: &Ctx,
    ) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        client
            .pull_blob(reference, digest, &mut out)
            .await
            .map_err(|e| ctx.oci(e))?;
        Ok(out)
    }

    /// Upload a blob unless the repository already has it.
    async fn push_blob(
        &self,
        client: &Client,
        reference: &Reference,
        data: &[u8],
        digest: &str,
        ctx: &Ctx,
    ) -> Result<(), StoreError> {
        if client
            .blob_exists(reference, digest)
            .await
            .map_err(|e| ctx.oci(e))?
        {
            return Ok(());
        }
        client
            .push_blob(reference, data.to_vec(), digest)
            .await
            .map_err(|e| ctx.oci(e))?;
        Ok(())
    }

    async fn push_manifest(
        &self,
        client: &Client,
        reference: &Reference,
        raw: Vec<u8>,
        media_type: &str,
        ctx: &Ctx,
    ) -> Result<(), StoreError> {
        let content_type = media_type
            .parse()
            .map_err(|_| ctx.permanent(format!("invalid manifest media type {media_type:?}")))?;
        client
            .push_manifest_raw(reference, raw, content_type)
            .await
            .map_err(|e| ctx.oci(e))?;
        Ok(())
    }
}

fn fallback_tag_name(w: &ReferrerWrite) -> String {
    format!("{}:{}", w.repo, w.digest.replace(':', "-"))
}

/// Registries reached over plain HTTP without being told: this machine.
fn is_local(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
                    | OciErrorCode::BlobUnknown
            )
        }),
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::RequestError(e) => e.status().is_some_and(|s| s.as_u16() == 404),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Errors

/// The context of a registry operation, for error messages.
#[derive(Clone)]
struct Ctx {
    registry: String,
    /// "pushing registry/repo:tag".
    what: String,
    auth: RegistryAuth,
    config: Option<PathBuf>,
}

impl Ctx {
    fn permanent(&self, message: String) -> StoreError {
        StoreError::new(BACKEND, format!("{message} ({})", self.what))
    }

    /// An HTTP status from the registry, explained.
    fn status(&self, code: u16, detail: &str) -> StoreError {
        let r = &self.registry;
        let what = &self.what;
        let detail = short(detail);
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        match code {
            401 => match &self.auth {
                RegistryAuth::Anonymous => {
                    let source = match &self.config {
                        Some(p) => format!("no credentials for {r} in {}", p.display()),
                        None => "no docker config was given".to_string(),
                    };
                    StoreError::new(
                        BACKEND,
                        format!("registry {r} requires credentials (401) {what}; {source}"),
                    )
                }
                _ => StoreError::new(
                    BACKEND,
                    format!("registry {r} refused credentials (401) {what}"),
                ),
            },
            403 => StoreError::new(
                BACKEND,
                format!("registry {r} denied access (403) {what}{detail}"),
            ),
            code if is_transient_status(code) => StoreError::transient(
                BACKEND,
                format!("registry {r} answered {code} {what}{detail}"),
            ),
            code => StoreError::new(
                BACKEND,
                format!("registry {r} answered {code} {what}{detail}"),
            ),
        }
    }

    fn oci(&self, e: OciDistributionError) -> StoreError {
        match e {
            OciDistributionError::UnauthorizedError { .. } => self.status(401, ""),
            OciDistributionError::ServerError { code, message, .. } => self.status(code, &message),
            OciDistributionError::RegistryError { envelope, .. } => {
                let message = envelope
                    .errors
                    .iter()
                    .map(|e| format!("{}: {}", code_name(&e.code), e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                let code = envelope.errors.iter().find_map(|e| match e.code {
                    OciErrorCode::Unauthorized => Some(401),
                    OciErrorCode::Denied => Some(403),
                    OciErrorCode::Toomanyrequests => Some(429),
                    _ => None,
                });
                match code {
                    Some(code) => self.status(code, &message),
                    None => StoreError::new(
                        BACKEND,
                        format!(
                            "registry {} rejected the request {}: {}",
                            self.registry,
                            self.what,
                            short(&message)
                        ),
                    ),
                }
            }
            OciDistributionError::AuthenticationFailure(reason) => StoreError::new(
                BACKEND,
                format!(
                    "the token service of registry {} refused the credentials {}: {}",
                    self.registry,
                    self.what,
                    short(&reason)
                ),
            ),
            OciDistributionError::RequestError(e) => self.request(&e),
            OciDistributionError::DigestError(e) => StoreError::new(
                BACKEND,
                format!(
                    "registry {} returned content that does not match its digest {}: {e}",
                    self.registry, self.what
                ),
            ),
            other => StoreError::new(
                BACKEND,
                format!("registry {} {}: {other}", self.registry, self.what),
            ),
        }
    }

    fn request(&self, e: &reqwest::Error) -> StoreError {
        let r = &self.registry;
        let what = &self.what;
        if let Some(status) = e.status() {
            return self.status(status.as_u16(), "");
        }
        if e.is_timeout() {
            return StoreError::transient(BACKEND, format!("registry {r} timed out {what}"));
        }
        let cause = crate::cloud::error_chain(e);
        if is_tls_failure(&cause) {
            return StoreError::new(
                BACKEND,
                format!(
                    "TLS with registry {r} failed {what}: {cause}; for a plain-HTTP registry or one with a self-signed certificate, set storage.oci.repository.insecure"
                ),
            );
        }
        if e.is_connect() {
            return StoreError::transient(
                BACKEND,
                format!("cannot connect to registry {r} {what}: {cause}"),
            );
        }
        StoreError::transient(
            BACKEND,
            format!("request to registry {r} failed {what}: {cause}"),
        )
    }
}

/// A TLS handshake that cannot succeed by retrying (certificate, or no TLS at all).
fn is_tls_failure(cause: &str) -> bool {
    let cause = cause.to_ascii_lowercase();
    [
        "certificate",
        "invalidcontenttype",
        "corrupt message",
        "handshake",
    ]
    .iter()
    .any(|w| cause.contains(w))
}

fn code_name(code: &OciErrorCode) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{code:?}"),
    }
}

/// One line, at most 300 characters.
fn short(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 300 {
        let cut: String = line.chars().take(300).collect();
        format!("{cut}…")
    } else {
        line
    }
}

// ---------------------------------------------------------------------------
// Credentials

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn default_docker_config() -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))?;
    Some(dir.join("config.json"))
}

/// The credentials docker would use for `registry`, from `path`.
fn docker_credentials(path: &std::path::Path, registry: &str) -> Result<RegistryAuth, StoreError> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RegistryAuth::Anonymous),
        Err(e) => {
            return Err(StoreError::new(
                BACKEND,
                format!("cannot read docker config {}: {e}", path.display()),
            ));
        }
    };
    // Docker Hub's key is its v1 URL; other registries are keyed by host.
    let servers: &[&str] = if registry == "index.docker.io" {
        &["https://index.docker.io/v1/", "index.docker.io"]
    } else {
        &[registry]
    };
    let config = path.display();
    for server in servers {
        match docker_credential::get_credential_from_reader(&text[..], server) {
            Ok(DockerCredential::UsernamePassword(user, password)) => {
                return Ok(RegistryAuth::Basic(user, password));
            }
            Ok(DockerCredential::IdentityToken(_)) => {
                return Err(StoreError::new(
                    BACKEND,
                    format!(
                        "{config} holds an identity token for {registry}; only username/password credentials are supported (docker login -u USER)"
                    ),
                ));
            }
            Err(E::NoCredentialConfigured) => continue,
            Err(E::HelperFailure {
                helper,
                stdout,
                stderr,
            }) => {
                // Helpers answer "credentials not found" for unknown registries.
                if format!("{stdout}{stderr}")
                    .to_lowercase()
                    .contains("credentials not found")
                {
                    continue;
                }
                return Err(StoreError::new(
                    BACKEND,
                    format!(
                        "credential helper {helper} (from {config}) failed for {registry}: {}",
                        short(&stderr)
                    ),
                ));
            }
            Err(E::HelperCommunicationError) => {
                return Err(StoreError::new(
                    BACKEND,
                    format!(
                        "cannot run the credential helper {config} names for {registry} (is docker-credential-* on PATH?)"
                    ),
                ));
            }
            Err(E::ConfigReadError) => {
                return Err(StoreError::new(
                    BACKEND,
                    format!("docker config {config} is not valid JSON"),
                ));
            }
            Err(e) => {
                return Err(StoreError::new(
                    BACKEND,
                    format!("credentials for {registry} in {config}: {e}"),
                ));
            }
        }
    }
    Ok(RegistryAuth::Anonymous)
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
