//! The registry client under the `oci` backend: how a registry is reached
//! (HTTPS, plain HTTP on this machine, `insecure`), pulling and pushing
//! manifests and blobs with oci-client, the referrers API, bounded reads,
//! registry errors turned into messages, and docker credentials. It knows
//! nothing of cosign: [`super::cosign`] lays signatures out on top of it.

// A part of the oci backend, split out by topic: it shares the parent's imports.
use super::*;

pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub(super) const READ_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn too_big(size: impl fmt::Display) -> String {
    format!(
        "it is {size} bytes, more than the {} MiB read back for a signature, attestation or bundle",
        MAX_READ_BYTES / (1024 * 1024)
    )
}

/// A blob being read, refused past `limit` bytes (a registry may send more
/// than the descriptor says).
pub(super) struct Capped {
    pub(super) data: Vec<u8>,
    pub(super) limit: u64,
    pub(super) over: bool,
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
    pub(super) async fn read_manifest(
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

    pub(super) async fn read_blob(
        &self,
        repo: &Repo,
        digest: &str,
        ctx: &Ctx,
    ) -> Result<Vec<u8>, StoreError> {
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

    pub(super) fn tag(&self, tag: &str) -> Tag {
        Tag {
            repo: self.clone(),
            tag: tag.to_string(),
        }
    }

    pub(super) fn reference(&self, tag_or_digest: &str) -> Reference {
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
pub(super) struct Tag {
    pub(super) repo: Repo,
    pub(super) tag: String,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repo, self.tag)
    }
}

/// `name.NewRepository`: a repository without tag or digest, registry defaulted.
pub(super) fn parse_repository(name: &str) -> Result<(String, String), StoreError> {
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
// Registry I/O

pub(super) struct Inner {
    pub(super) https: Client,
    /// For `insecure` registries that speak TLS: no certificate checks.
    pub(super) https_no_verify: Client,
    pub(super) http: Client,
    /// For the referrers API probe and pings, which oci-client does not expose.
    pub(super) probe: reqwest::Client,
    pub(super) probe_no_verify: reqwest::Client,
    pub(super) insecure: bool,
    /// How each `insecure` registry answered.
    pub(super) transports: Mutex<HashMap<String, Transport>>,
}

/// How a registry is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Transport {
    Https,
    /// `insecure`: HTTPS without certificate verification.
    HttpsNoVerify,
    Http,
}

impl Transport {
    pub(super) fn scheme(self) -> &'static str {
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
    pub(super) async fn transport(&self, registry: &str) -> Transport {
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

    pub(super) fn client(&self, transport: Transport) -> &Client {
        match transport {
            Transport::Https => &self.https,
            Transport::HttpsNoVerify => &self.https_no_verify,
            Transport::Http => &self.http,
        }
    }

    pub(super) fn probe(&self, transport: Transport) -> &reqwest::Client {
        match transport {
            Transport::HttpsNoVerify => &self.probe_no_verify,
            _ => &self.probe,
        }
    }

    /// The referrers API: the listing when the registry implements it,
    /// `None` when it does not (404, 400, 406: use the referrers tag).
    pub(super) async fn referrers_api(
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
            (None, RegistryAuth::Bearer(token)) => request.bearer_auth(token),
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
    pub(super) async fn pull_manifest(
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

    pub(super) async fn pull_blob(
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
    pub(super) async fn push_blob(
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

    pub(super) async fn push_manifest(
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

/// Registries reached over plain HTTP without being told: this machine.
pub(super) fn is_local(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

pub(super) fn is_not_found(e: &OciDistributionError) -> bool {
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
pub(super) struct Ctx {
    pub(super) registry: String,
    /// "pushing registry/repo:tag".
    pub(super) what: String,
    pub(super) auth: RegistryAuth,
    pub(super) config: Option<PathBuf>,
}

impl Ctx {
    pub(super) fn permanent(&self, message: String) -> StoreError {
        StoreError::new(BACKEND, format!("{message} ({})", self.what))
    }

    /// An HTTP status from the registry, explained.
    pub(super) fn status(&self, code: u16, detail: &str) -> StoreError {
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

    pub(super) fn oci(&self, e: OciDistributionError) -> StoreError {
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

    pub(super) fn request(&self, e: &reqwest::Error) -> StoreError {
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
pub(super) fn is_tls_failure(cause: &str) -> bool {
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

pub(super) fn code_name(code: &OciErrorCode) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{code:?}"),
    }
}

/// One line, at most 300 characters.
pub(super) fn short(text: &str) -> String {
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
pub(super) fn default_docker_config() -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))?;
    Some(dir.join("config.json"))
}

/// An imagePullSecret's name and its `.dockerconfigjson` bytes.
pub type PullSecret = (String, zeroize::Zeroizing<Vec<u8>>);

/// Registry credentials given to chains itself, for every registry it
/// reaches (cosign's `--registry-username`, `--registry-password`,
/// `--registry-token`, and its `--k8s-keychain`).
#[derive(Clone, Default)]
pub struct RegistryCredentials {
    /// Basic auth for every registry.
    pub basic: Option<(String, zeroize::Zeroizing<String>)>,
    /// A bearer token for every registry.
    pub token: Option<zeroize::Zeroizing<String>>,
    /// The docker configs of a service account's imagePullSecrets, in the
    /// account's order.
    pub pull_secrets: Vec<PullSecret>,
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a secret: only which kinds are set.
        let secrets: Vec<&str> = self.pull_secrets.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("RegistryCredentials")
            .field("basic", &self.basic.as_ref().map(|(u, _)| u))
            .field("token", &self.token.is_some())
            .field("pull_secrets", &secrets)
            .finish()
    }
}

impl RegistryCredentials {
    /// The credentials these give for `registry`; `None`: ask docker's config.
    pub fn resolve(&self, registry: &str) -> Result<Option<RegistryAuth>, StoreError> {
        if let Some(token) = &self.token {
            crate::report::debug(|| {
                format!("registry {registry}: bearer token from --registry-token")
            });
            return Ok(Some(RegistryAuth::Bearer(token.to_string())));
        }
        if let Some((user, password)) = &self.basic {
            crate::report::debug(|| {
                format!(
                    "registry {registry}: user {user} from --registry-username/--registry-password"
                )
            });
            return Ok(Some(RegistryAuth::Basic(
                user.clone(),
                password.to_string(),
            )));
        }
        for (name, config) in &self.pull_secrets {
            let source = format!("imagePullSecret {name}");
            match docker_credentials_in(config, &source, registry)? {
                RegistryAuth::Anonymous => continue,
                auth => {
                    crate::report::debug(|| {
                        format!("registry {registry}: credentials from {source}")
                    });
                    return Ok(Some(auth));
                }
            }
        }
        Ok(None)
    }
}

/// The Kubernetes keychain (`--k8s-keychain`): the docker configs of the
/// imagePullSecrets of service account `account` in `namespace` (default:
/// the kubeconfig context's), from the cluster kubectl would reach.
pub fn k8s_keychain(namespace: Option<&str>, account: &str) -> Result<Vec<PullSecret>, StoreError> {
    let fail = |m: String| StoreError::new(BACKEND, format!("Kubernetes keychain: {m}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start a runtime: {e}")))?;
    let secrets = runtime.block_on(async {
        let kube = crate::k8s::Kube::infer().await?;
        let ns = namespace.unwrap_or(&kube.default_namespace).to_string();
        kube.pull_secrets(&ns, account).await
    });
    let secrets = secrets.map_err(|e| fail(e.message))?;
    Ok(secrets
        .into_iter()
        .map(|(name, config)| (name, zeroize::Zeroizing::new(config)))
        .collect())
}

/// The credentials docker would use for `registry`, from `path`.
pub(super) fn docker_credentials(
    path: &std::path::Path,
    registry: &str,
) -> Result<RegistryAuth, StoreError> {
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
    docker_credentials_in(&text, &path.display().to_string(), registry)
}

/// The credentials a docker config's `text` (from `config`, named in
/// messages) holds for `registry`.
fn docker_credentials_in(
    text: &[u8],
    config: &str,
    registry: &str,
) -> Result<RegistryAuth, StoreError> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    // Docker Hub's key is its v1 URL; other registries are keyed by host.
    let servers: &[&str] = if registry == "index.docker.io" {
        &["https://index.docker.io/v1/", "index.docker.io"]
    } else {
        &[registry]
    };
    for server in servers {
        match docker_credential::get_credential_from_reader(text, server) {
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
