//! The Kubernetes edge: every call Chains makes to an API server, for
//! `chains watch` and for `attest --kubeconfig` alike, as raw requests on
//! kube's client (which brings kubeconfig, in-cluster auth and TLS). It owns
//! the paths of Tekton's runs, the one way a live run is marked (a merge
//! patch of its annotations, conditional on a resourceVersion when one is
//! known), and how Chains identifies itself: a `chains/VERSION` User-Agent
//! on every request and `fieldManager=chains` on every write, so a run's
//! managedFields name us instead of `unknown`.
//!
//! Objects stay `serde_json::Value`: a tolerant reader also copes with API
//! emulators that leave out `kind`, `uid` or `resourceVersion`. kube's typed
//! `Api` would bring nothing here: runs are Tekton's CRDs, read by the same
//! code as exported files.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::core::WatchEvent;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::annotations::SIGNED;
use crate::run::RunKind;

/// How long one request (not a watch) may take. client-go sets none; a
/// hung API server must not hold a worker or the lease loop forever.
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// Who we are to the API server.
pub const USER_AGENT: &str = concat!("chains/", env!("CARGO_PKG_VERSION"));
/// The field manager of every write.
pub const FIELD_MANAGER: &str = "chains";

/// What a metadata-only list asks for, as client-go's metadata client
/// does: `PartialObjectMetadataList`, else (a server that cannot convert)
/// plain JSON, which the caller tells apart by the list's `kind`.
const ACCEPT_METADATA_LIST: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// One page of a list, its items left unparsed.
#[derive(serde::Deserialize)]
struct Page<'a> {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: PageMeta,
    #[serde(borrow, default)]
    items: Vec<&'a serde_json::value::RawValue>,
}

#[derive(serde::Deserialize, Default)]
struct PageMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
    #[serde(default, rename = "continue")]
    continue_token: String,
}

/// Objects per list page. client-go asks for 500; a page of signed runs
/// carries Chains' payload annotations (several KB each, metadata-only or
/// not), and the page in flight is what a controller's peak memory is made
/// of. Measured with benches/watch.rs (debug build, 20,000 signed runs):
/// peak RSS 70 MiB at 500 per page, 53 MiB at 100, 41 MiB with no signed
/// runs; at 100 a 100,000-run cluster costs 1,000 list requests per relist.
const LIST_PAGE: usize = 100;

/// A listed collection.
pub struct Listed {
    /// The objects `keep` kept.
    pub items: Vec<Value>,
    pub resource_version: String,
    /// Whether every page was a `PartialObjectMetadataList` (items carry
    /// only metadata); false when not asked or the server ignored it.
    pub metadata_only: bool,
}

/// A failed API call: the HTTP status when the server answered.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: Option<u16>,
    pub message: String,
}

impl ApiError {
    pub fn new(message: impl Into<String>) -> Self {
        ApiError {
            code: None,
            message: message.into(),
        }
    }
    pub fn is(&self, code: u16) -> bool {
        self.code == Some(code)
    }

    fn from_kube(context: &str, e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => ApiError {
                code: Some(s.code),
                message: format!("{context}: {} ({})", s.message, s.code),
            },
            other => ApiError::new(format!("{context}: {other}")),
        }
    }
}

/// One change seen by a watch.
#[derive(Debug)]
pub enum Event {
    Upsert(Value),
    Delete(Value),
    /// A new resourceVersion to resume from (a bookmark).
    Progress(String),
    /// The server says our resourceVersion is too old (410 Gone): relist.
    Gone,
    Error(ApiError),
}

/// A token bucket: `--kube-api-qps` sustained, `--kube-api-burst` at once.
struct RateLimiter {
    qps: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    fn new(qps: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        RateLimiter {
            qps: if qps > 0.0 { qps } else { f64::INFINITY },
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    async fn acquire(&self) {
        if self.qps.is_infinite() {
            return;
        }
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                s.0 = (s.0 + now.duration_since(s.1).as_secs_f64() * self.qps).min(self.burst);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.0) / self.qps)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

pub struct Kube {
    client: kube::Client,
    limiter: Arc<RateLimiter>,
    /// The namespace of the kubeconfig context or the service account.
    pub default_namespace: String,
}

impl Kube {
    /// Connect with a kubeconfig file, or the in-cluster config when `None`.
    pub async fn connect(
        kubeconfig: Option<&Path>,
        qps: f64,
        burst: u32,
    ) -> Result<Kube, ApiError> {
        Self::connect_context(kubeconfig, None, qps, burst).await
    }

    /// As [`Kube::connect`], with a kubeconfig `context` other than the
    /// current one (kubectl's `--context`); with a context and no file,
    /// the file kubectl would read (KUBECONFIG, else ~/.kube/config).
    pub async fn connect_context(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        qps: f64,
        burst: u32,
    ) -> Result<Kube, ApiError> {
        let options = kube::config::KubeConfigOptions {
            context: context.map(str::to_string),
            ..Default::default()
        };
        let config = match (kubeconfig, context) {
            (Some(p), _) => {
                let kc = kube::config::Kubeconfig::read_from(p).map_err(|e| {
                    ApiError::new(format!("cannot read kubeconfig {}: {e}", p.display()))
                })?;
                kube::Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .map_err(|e| {
                        ApiError::new(format!("invalid kubeconfig {}: {e}", p.display()))
                    })?
            }
            (None, Some(_)) => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| ApiError::new(format!("cannot use the kubeconfig: {e}")))?,
            (None, None) => kube::Config::incluster()
                .map_err(|e| ApiError::new(format!("no in-cluster configuration: {e}")))?,
        };
        Self::with_config(config, qps, burst)
    }

    /// What kubectl would connect to: KUBECONFIG, else ~/.kube/config, else
    /// the in-cluster service account.
    pub async fn infer() -> Result<Kube, ApiError> {
        let config = kube::Config::infer().await.map_err(|e| {
            ApiError::new(format!("no kubeconfig or in-cluster configuration: {e}"))
        })?;
        Self::with_config(config, 0.0, 1)
    }

    fn with_config(mut config: kube::Config, qps: f64, burst: u32) -> Result<Kube, ApiError> {
        config.headers.push((
            http::header::USER_AGENT,
            http::HeaderValue::from_static(USER_AGENT),
        ));
        let default_namespace = config.default_namespace.clone();
        let client = kube::Client::try_from(config)
            .map_err(|e| ApiError::new(format!("cannot create the Kubernetes client: {e}")))?;
        Ok(Kube {
            client,
            limiter: Arc::new(RateLimiter::new(qps, burst)),
            default_namespace,
        })
    }

    /// The same connection without the request budget (for the Lease, whose
    /// few requests must not queue behind the workers').
    pub fn unlimited(&self) -> Kube {
        Kube {
            client: self.client.clone(),
            limiter: Arc::new(RateLimiter::new(0.0, 1)),
            default_namespace: self.default_namespace.clone(),
        }
    }

    async fn call(&self, what: &str, req: http::Request<Vec<u8>>) -> Result<Value, ApiError> {
        let text = self.call_text(what, req).await?;
        serde_json::from_str(&text).map_err(|e| ApiError::new(format!("{what}: not JSON: {e}")))
    }

    async fn call_text(&self, what: &str, req: http::Request<Vec<u8>>) -> Result<String, ApiError> {
        self.limiter.acquire().await;
        tokio::time::timeout(REQUEST_DEADLINE, self.client.request_text(req))
            .await
            .map_err(|_| {
                ApiError::new(format!(
                    "{what}: no answer within {}s",
                    REQUEST_DEADLINE.as_secs()
                ))
            })?
            .map_err(|e| ApiError::from_kube(what, e))
    }

    fn request(
        method: &str,
        path: &str,
        body: Option<(&str, &Value)>,
    ) -> Result<http::Request<Vec<u8>>, ApiError> {
        Self::request_accepting(method, path, body, "application/json")
    }

    fn request_accepting(
        method: &str,
        path: &str,
        body: Option<(&str, &Value)>,
        accept: &str,
    ) -> Result<http::Request<Vec<u8>>, ApiError> {
        let mut b = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::ACCEPT, accept);
        let bytes = match body {
            Some((content_type, v)) => {
                b = b.header(http::header::CONTENT_TYPE, content_type);
                serde_json::to_vec(v).map_err(|e| ApiError::new(e.to_string()))?
            }
            None => Vec::new(),
        };
        b.body(bytes)
            .map_err(|e| ApiError::new(format!("bad request {method} {path}: {e}")))
    }

    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.call(&format!("GET {path}"), Self::request("GET", path, None)?)
            .await
    }

    /// The Kubernetes keychain: the docker configs of the imagePullSecrets
    /// a service account names, as (secret name, config JSON), in its
    /// order. Legacy `.dockercfg` secrets are wrapped as `{"auths": ...}`.
    /// A named secret that is missing is skipped, as the kubelet does.
    pub async fn pull_secrets(
        &self,
        namespace: &str,
        account: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
        let sa = self
            .get(&format!(
                "{}/{account}",
                core_collection(namespace, "serviceaccounts")
            ))
            .await?;
        let names: Vec<&str> = sa
            .get("imagePullSecrets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("name").and_then(Value::as_str))
            .collect();
        let mut configs = Vec::new();
        for name in names {
            let path = format!("{}/{name}", core_collection(namespace, "secrets"));
            let secret = match self.get(&path).await {
                Ok(s) => s,
                Err(e) if e.is(404) => continue,
                Err(e) => return Err(e),
            };
            let data = |key: &str| -> Option<Vec<u8>> {
                use base64::Engine;
                let text = secret.pointer(&format!("/data/{}", key.replace('/', "~1")))?;
                base64::engine::general_purpose::STANDARD
                    .decode(text.as_str()?)
                    .ok()
            };
            if let Some(json) = data(".dockerconfigjson") {
                configs.push((name.to_string(), json));
            } else if let Some(legacy) = data(".dockercfg") {
                let auths: Value = serde_json::from_slice(&legacy).map_err(|e| {
                    ApiError::new(format!(
                        "secret {namespace}/{name}: .dockercfg is not JSON: {e}"
                    ))
                })?;
                let wrapped = serde_json::json!({ "auths": auths });
                configs.push((name.to_string(), wrapped.to_string().into_bytes()));
            }
        }
        Ok(configs)
    }

    pub async fn create(&self, collection: &str, object: &Value) -> Result<Value, ApiError> {
        let target = with_field_manager(collection);
        let req = Self::request("POST", &target, Some(("application/json", object)))?;
        self.call(&format!("POST {collection}"), req).await
    }

    /// A JSON merge patch. When the patch carries `metadata.resourceVersion`,
    /// the API server applies it only to that version (409 otherwise).
    pub async fn merge_patch(&self, path: &str, patch: &Value) -> Result<Value, ApiError> {
        let target = with_field_manager(path);
        let req = Self::request(
            "PATCH",
            &target,
            Some(("application/merge-patch+json", patch)),
        )?;
        self.call(&format!("PATCH {path}"), req).await
    }

    /// Mark a live run: merge `annotations` into it, conditionally on
    /// `version` when one is given. On a conflict the run is read again:
    /// when someone else marked it meanwhile, that is the answer; otherwise
    /// the write is made once more on the version just read.
    pub async fn mark_run(
        &self,
        run: &RunRef<'_>,
        annotations: &[(String, String)],
        version: &str,
    ) -> Result<Marked, ApiError> {
        let path = run.path();
        match self
            .merge_patch(&path, &annotation_patch(annotations, version))
            .await
        {
            Ok(_) => return Ok(Marked::Written),
            Err(e) if e.is(409) && !version.is_empty() => {}
            Err(e) => return Err(e),
        }
        let current = match self.get(&path).await {
            Ok(o) => o,
            Err(e) if e.is(404) => return Ok(Marked::Gone),
            Err(e) => return Err(e),
        };
        if is_reconciled(&current) {
            return Ok(Marked::ByAnother);
        }
        let patch = annotation_patch(annotations, resource_version(&current));
        self.merge_patch(&path, &patch)
            .await
            .map(|_| Marked::Written)
    }

    /// Every object of a collection, page by page, and the list's
    /// resourceVersion. `keep` maps each object as its page arrives, or
    /// drops it (so a large list is never held whole). With
    /// `metadata_only`, asks for `PartialObjectMetadataList` (each item only
    /// `metadata`, as the real API server serves for any resource, CRDs
    /// included); [`Listed::metadata_only`] says whether the server did.
    pub async fn list(
        &self,
        collection: &str,
        metadata_only: bool,
        keep: &(dyn Fn(Value) -> Option<Value> + Send + Sync),
    ) -> Result<Listed, ApiError> {
        let accept = if metadata_only {
            ACCEPT_METADATA_LIST
        } else {
            "application/json"
        };
        let mut listed = Listed {
            items: Vec::new(),
            resource_version: String::new(),
            metadata_only,
        };
        let mut token = String::new();
        loop {
            let sep = if collection.contains('?') { '&' } else { '?' };
            let mut path = format!("{collection}{sep}limit={LIST_PAGE}");
            if !token.is_empty() {
                path.push_str("&continue=");
                path.push_str(&encode(&token));
            }
            let req = Self::request_accepting("GET", &path, None, accept)?;
            let what = format!("GET {path}");
            let text = self.call_text(&what, req).await?;
            // Items are parsed one at a time and sifted, so a page is never
            // held parsed whole (a page of signed runs is megabytes).
            let page: Page = serde_json::from_str(&text)
                .map_err(|e| ApiError::new(format!("{what}: not a list: {e}")))?;
            if page.kind.as_deref() != Some("PartialObjectMetadataList") {
                listed.metadata_only = false;
            }
            for raw in page.items {
                let item = serde_json::from_str(raw.get())
                    .map_err(|e| ApiError::new(format!("{what}: an item is not JSON: {e}")))?;
                if let Some(kept) = keep(item) {
                    listed.items.push(kept);
                }
            }
            // Every page of a real API server's list carries the first
            // page's snapshot version; where a server differs, the first
            // page's is kept, since a watch from it can only repeat an
            // event, never miss one.
            if listed.resource_version.is_empty() {
                listed.resource_version = page.metadata.resource_version;
            }
            token = page.metadata.continue_token;
            if token.is_empty() {
                return Ok(listed);
            }
        }
    }

    /// Watch a collection from `resource_version` (empty: from now, as the server sees it).
    pub async fn watch(
        &self,
        collection: &str,
        resource_version: &str,
    ) -> Result<impl Stream<Item = Event> + use<>, ApiError> {
        let mut path =
            format!("{collection}?watch=true&allowWatchBookmarks=true&timeoutSeconds=290");
        if !resource_version.is_empty() {
            path.push_str("&resourceVersion=");
            path.push_str(&encode(resource_version));
        }
        self.limiter.acquire().await;
        let req = Self::request("GET", &path, None)?;
        let what = format!("watch {collection}");
        let stream = self
            .client
            .request_events::<Value>(req)
            .await
            .map_err(|e| ApiError::from_kube(&what, e))?;
        Ok(
            stream.map(move |e: Result<WatchEvent<Value>, kube::Error>| match e {
                Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => Event::Upsert(o),
                Ok(WatchEvent::Deleted(o)) => Event::Delete(o),
                Ok(WatchEvent::Bookmark(b)) => Event::Progress(b.metadata.resource_version),
                Ok(WatchEvent::Error(s)) if s.code == 410 => Event::Gone,
                Ok(WatchEvent::Error(s)) => Event::Error(ApiError {
                    code: Some(s.code),
                    message: format!("{what}: {} ({})", s.message, s.code),
                }),
                Err(kube::Error::Api(s)) if s.code == 410 => Event::Gone,
                Err(e) => Event::Error(ApiError::from_kube(&what, e)),
            }),
        )
    }
}

/// `path` with `fieldManager=chains` among its query parameters.
fn with_field_manager(path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}fieldManager={FIELD_MANAGER}")
}

/// A TaskRun or PipelineRun in the cluster.
#[derive(Clone, Copy, Debug)]
pub struct RunRef<'a> {
    pub kind: RunKind,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl RunRef<'_> {
    pub fn path(&self) -> String {
        format!(
            "{}/{}",
            run_collection(self.kind, Some(self.namespace)),
            self.name
        )
    }
}

/// The collection of one kind of run, in a namespace or in all of them.
pub fn run_collection(kind: RunKind, namespace: Option<&str>) -> String {
    let plural = match kind {
        RunKind::TaskRun => "taskruns",
        RunKind::PipelineRun => "pipelineruns",
    };
    match namespace {
        Some(ns) => format!("/apis/tekton.dev/v1/namespaces/{ns}/{plural}"),
        None => format!("/apis/tekton.dev/v1/{plural}"),
    }
}

/// A core/v1 collection in a namespace (`configmaps`, `secrets`).
pub fn core_collection(namespace: &str, plural: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/{plural}")
}

/// The controller's Leases in a namespace.
pub fn lease_collection(namespace: &str) -> String {
    format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases")
}

/// How marking a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Marked {
    Written,
    /// Another writer marked it `signed` `true` or `failed` first.
    ByAnother,
    /// The run was deleted.
    Gone,
}

/// Chains' `Reconciled()`: marked `true` or `failed`.
pub fn is_reconciled(o: &Value) -> bool {
    matches!(
        o.pointer("/metadata/annotations")
            .and_then(|a| a.get(SIGNED))
            .and_then(Value::as_str),
        Some("true" | "failed")
    )
}

/// The merge patch for annotations, conditional on `version` when given.
pub fn annotation_patch(annotations: &[(String, String)], version: &str) -> Value {
    let map: serde_json::Map<String, Value> = annotations
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut patch = serde_json::json!({"metadata": {"annotations": map}});
    if !version.is_empty() {
        patch["metadata"]["resourceVersion"] = Value::String(version.to_string());
    }
    patch
}

/// Percent-encode a query value (resource versions and continue tokens are
/// opaque strings).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The resourceVersion of an object ("" when the server sets none).
pub fn resource_version(o: &Value) -> &str {
    o.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_name_their_field_manager() {
        assert_eq!(
            super::with_field_manager("/api/v1/x"),
            "/api/v1/x?fieldManager=chains"
        );
        assert_eq!(
            super::with_field_manager("/api/v1/x?a=b"),
            "/api/v1/x?a=b&fieldManager=chains"
        );
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(super::encode("a b/c=1"), "a%20b%2Fc%3D1");
        assert_eq!(super::encode("123"), "123");
    }
}
