//! `chains watch`: the attest pipeline as an in-cluster controller.
//!
//! Informers list and watch TaskRuns and PipelineRuns into a cache; runs
//! that need work go into a queue (newest first); worker threads attest
//! them with the same [`Stages`] as `chains attest` and mark them with
//! Chains' annotations. Replicas elect a leader on a Lease; only the leader
//! works. `chains-config` is watched and the stages rebuilt when it changes;
//! keys are loaded (and decrypted) once at start.

mod http;
mod informer;
mod kube;
mod lease;
mod log;
mod metrics;
mod queue;
mod reconcile;
mod settings;

use crate::cli::WatchArgs;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use miette::Diagnostic;
use serde_json::Value;
use tokio::sync::watch;

use crate::attest::{SignerInputs, SignersError, Stages, StorageSetupError};
use crate::config::ConfigError;
use crate::run::RunKind;
use crate::sign::{Password, SignError, SignerOptions};
use informer::{Change, Informer, Sink};
use kube::{ApiError, Kube};
use metrics::Metrics;
use queue::{Key, Queue};
use reconcile::Policy;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum WatchError {
    #[error("Kubernetes API: {0}")]
    #[diagnostic(code(chains::watch::api))]
    Api(#[from] ApiError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Signers(#[from] SignersError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Key(#[from] SignError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Storage(#[from] StorageSetupError),
    #[error("cannot serve metrics on {address}")]
    #[diagnostic(code(chains::watch::listen))]
    Listen {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    #[diagnostic(code(chains::watch::flags))]
    Flags(String),
    #[error("controller runtime")]
    #[diagnostic(code(chains::watch::runtime))]
    Runtime(#[source] std::io::Error),
}

/// The cache, the current config's stages, and leadership: what informers
/// feed and workers read.
struct Controller {
    runs: RwLock<HashMap<Key, Arc<Value>>>,
    current: RwLock<(Arc<Stages>, Policy)>,
    queue: Arc<Queue>,
    /// Whether (and until when) this replica leads.
    fence: Arc<lease::Fence>,
}

fn key_of(kind: RunKind, o: &Value) -> Option<Key> {
    let m = o.get("metadata")?;
    Some(Key {
        kind,
        namespace: m
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        name: m.get("name").and_then(Value::as_str)?.to_string(),
    })
}

impl Controller {
    fn policy(&self) -> Policy {
        self.current.read().unwrap_or_else(|p| p.into_inner()).1
    }

    fn consider(&self, key: Key, o: &Value) {
        if self.fence.holds() && reconcile::wants(o, &self.policy()) {
            self.queue.add(key, reconcile::priority(o));
        }
    }

    /// A TaskRun changed: its PipelineRun may have been waiting for it.
    fn wake_parent(&self, o: &Value) {
        let Some(ns) = o.pointer("/metadata/namespace").and_then(Value::as_str) else {
            return;
        };
        let parent = o
            .pointer("/metadata/labels/tekton.dev~1pipelineRun")
            .and_then(Value::as_str)
            .or_else(|| {
                o.pointer("/metadata/ownerReferences")?
                    .as_array()?
                    .iter()
                    .find(|r| r.get("kind").and_then(Value::as_str) == Some("PipelineRun"))?
                    .get("name")?
                    .as_str()
            });
        let Some(parent) = parent else { return };
        let key = Key {
            kind: RunKind::PipelineRun,
            namespace: ns.to_string(),
            name: parent.to_string(),
        };
        let cached = self
            .runs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let Some(p) = cached {
            self.consider(key, &p);
        }
    }

    fn upsert(&self, kind: RunKind, o: Value) {
        let Some(key) = key_of(kind, &o) else { return };
        let o = Arc::new(reconcile::slim(&o));
        self.runs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone(), o.clone());
        self.consider(key, &o);
        if kind == RunKind::TaskRun {
            self.wake_parent(&o);
        }
    }

    /// Queue every cached run that needs work (new leader, new config).
    fn enqueue_all(&self) {
        let all: Vec<(Key, Arc<Value>)> = self
            .runs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in all {
            self.consider(k, &v);
        }
    }
}

/// Feeds one run informer (one kind, one namespace or all) into the controller.
struct RunSink {
    kind: RunKind,
    namespace: Option<String>,
    controller: Arc<Controller>,
}

impl Sink for RunSink {
    fn keep(&self, o: Value) -> Value {
        reconcile::slim(&o)
    }

    fn apply(&self, change: Change) {
        match change {
            Change::Replace(items) => {
                // Drop what the list no longer has, in this informer's scope.
                {
                    let keep: std::collections::HashSet<Key> =
                        items.iter().filter_map(|o| key_of(self.kind, o)).collect();
                    let mut runs = self
                        .controller
                        .runs
                        .write()
                        .unwrap_or_else(|p| p.into_inner());
                    runs.retain(|k, _| {
                        k.kind != self.kind
                            || self.namespace.as_ref().is_some_and(|ns| *ns != k.namespace)
                            || keep.contains(k)
                    });
                }
                for o in items {
                    self.controller.upsert(self.kind, o);
                }
            }
            Change::Upsert(o) => self.controller.upsert(self.kind, o),
            Change::Delete(o) => {
                if let Some(k) = key_of(self.kind, &o) {
                    self.controller
                        .runs
                        .write()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&k);
                }
            }
        }
    }
}

/// Rebuilds the stages when chains-config changes.
struct ConfigSink {
    controller: Arc<Controller>,
    inputs: SignerInputs,
    only_successful: bool,
    namespace: String,
    /// The data last applied, to skip events that change nothing.
    last: std::sync::Mutex<Option<Value>>,
}

impl ConfigSink {
    fn update(&self, o: Option<&Value>) {
        let data = o
            .and_then(|o| o.get("data"))
            .cloned()
            .unwrap_or(Value::Null);
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.as_ref() == Some(&data) {
                return;
            }
            *last = Some(data.clone());
        }
        let source = format!("configmap {}/{}", self.namespace, settings::CONFIG_MAP);
        let result = settings::config_from(&serde_json::json!({ "data": data }), &source)
            .and_then(|c| settings::build(&c, &self.inputs, self.only_successful));
        match result {
            Ok((stages, policy)) => {
                *self
                    .controller
                    .current
                    .write()
                    .unwrap_or_else(|p| p.into_inner()) = (Arc::new(stages), policy);
                log::info("configuration loaded", &[("configmap", &source)]);
                self.controller.enqueue_all();
            }
            Err(e) => log::error(
                "invalid configuration; keeping the previous one",
                &[
                    ("configmap", &source),
                    ("error", &format!("{:?}", miette::Report::new(e))),
                ],
            ),
        }
    }
}

impl Sink for ConfigSink {
    fn apply(&self, change: Change) {
        let is_ours = |o: &Value| {
            o.pointer("/metadata/name").and_then(Value::as_str) == Some(settings::CONFIG_MAP)
        };
        match change {
            Change::Replace(items) => self.update(items.iter().find(|o| is_ours(o))),
            Change::Upsert(o) if is_ours(&o) => self.update(Some(&o)),
            Change::Delete(o) if is_ours(&o) => self.update(None),
            _ => {}
        }
    }
}

/// Runs in the cluster, through the API, from worker threads.
struct ClusterRuns {
    kube: Arc<Kube>,
    handle: tokio::runtime::Handle,
}

fn run_path(key: &Key) -> String {
    let plural = match key.kind {
        RunKind::TaskRun => "taskruns",
        RunKind::PipelineRun => "pipelineruns",
    };
    format!(
        "/apis/tekton.dev/v1/namespaces/{}/{plural}/{}",
        key.namespace, key.name
    )
}

impl reconcile::Runs for ClusterRuns {
    fn get(&self, key: &Key) -> Result<Option<Value>, ApiError> {
        match self.handle.block_on(self.kube.get(&run_path(key))) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn annotate(
        &self,
        key: &Key,
        annotations: &[(String, String)],
        version: &str,
    ) -> Result<(), ApiError> {
        let patch = reconcile::annotation_patch(annotations, version);
        self.handle
            .block_on(self.kube.merge_patch(&run_path(key), &patch))
            .map(|_| ())
    }
}

/// Run the controller until SIGTERM or SIGINT.
pub fn run(args: &WatchArgs) -> Result<(), WatchError> {
    log::init(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(WatchError::Runtime)?;
    runtime.block_on(controller(args))
}

fn identity(args: &WatchArgs) -> String {
    if let Some(id) = args.identity.as_ref().filter(|s| !s.is_empty()) {
        return id.clone();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "chains".into());
    format!("{host}-{}", std::process::id())
}

async fn controller(args: &WatchArgs) -> Result<(), WatchError> {
    let (renew_deadline, retry_period) = args.lease_timing().map_err(WatchError::Flags)?;
    let kube = Arc::new(
        Kube::connect(
            args.kubeconfig.as_deref(),
            args.kube_api_qps,
            args.kube_api_burst,
        )
        .await?,
    );
    // In a pod, kube reads the service account's namespace; with a
    // kubeconfig, it is the context's.
    let namespace = args
        .controller_namespace
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| kube.default_namespace.clone());
    let identity = identity(args);

    // Keys first, once: a controller that cannot sign must not start (and
    // never marks anything signed, tektoncd/chains#858).
    let password = match &args.password_file {
        Some(p) => Password::File(p.clone()),
        None => Password::FromEnvironment,
    };
    let mut inputs = SignerInputs {
        password: password.clone(),
        ..Default::default()
    };
    let config = settings::read_config(&kube, &namespace).await?;
    if let Some(key) = args.key.clone() {
        let opts = SignerOptions {
            password,
            kms: Default::default(),
        };
        let signer = tokio::task::spawn_blocking(move || crate::sign::load(&key, &opts))
            .await
            .map_err(|e| WatchError::Runtime(std::io::Error::other(e)))??;
        inputs.loaded = Some(signer);
    } else {
        inputs.x509 = settings::read_signing_secret(&kube, &namespace).await?;
    }
    let (stages, policy) = {
        let (c, i, o) = (config.clone(), inputs.clone(), args.only_successful);
        tokio::task::spawn_blocking(move || settings::build(&c, &i, o))
            .await
            .map_err(|e| WatchError::Runtime(std::io::Error::other(e)))??
    };

    let queue = Arc::new(Queue::default());
    let metrics = Arc::new(Metrics::default());
    let controller = Arc::new(Controller {
        runs: RwLock::new(HashMap::new()),
        current: RwLock::new((Arc::new(stages), policy)),
        queue: queue.clone(),
        fence: Arc::new(if args.no_leader_election {
            lease::Fence::open()
        } else {
            lease::Fence::closed()
        }),
    });

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut synced: Vec<Arc<AtomicBool>> = Vec::new();
    let mut tasks = Vec::new();

    // Informers: runs per kind and namespace, and chains-config.
    let scopes: Vec<Option<String>> = if args.namespace.is_empty() {
        vec![None]
    } else {
        args.namespace
            .iter()
            .filter(|n| !n.is_empty())
            .cloned()
            .map(Some)
            .collect()
    };
    for kind in [RunKind::TaskRun, RunKind::PipelineRun] {
        for ns in &scopes {
            let plural = match kind {
                RunKind::TaskRun => "taskruns",
                RunKind::PipelineRun => "pipelineruns",
            };
            let collection = match ns {
                Some(ns) => format!("/apis/tekton.dev/v1/namespaces/{ns}/{plural}"),
                None => format!("/apis/tekton.dev/v1/{plural}"),
            };
            let flag = Arc::new(AtomicBool::new(false));
            synced.push(flag.clone());
            let inf = Informer {
                kube: kube.clone(),
                collection,
                sink: Arc::new(RunSink {
                    kind,
                    namespace: ns.clone(),
                    controller: controller.clone(),
                }),
                synced: flag,
            };
            tasks.push(tokio::spawn(inf.run(stop_rx.clone())));
        }
    }
    let config_sink = Arc::new(ConfigSink {
        controller: controller.clone(),
        inputs,
        only_successful: args.only_successful,
        namespace: namespace.clone(),
        // The first list applies the config again; keys are not reloaded.
        last: std::sync::Mutex::new(None),
    });
    tasks.push(tokio::spawn(
        Informer {
            kube: kube.clone(),
            collection: format!("/api/v1/namespaces/{namespace}/configmaps"),
            sink: config_sink,
            synced: Arc::new(AtomicBool::new(false)),
        }
        .run(stop_rx.clone()),
    ));

    // /metrics, /healthz, /readyz.
    let listener = tokio::net::TcpListener::bind(&args.metrics_address)
        .await
        .map_err(|source| WatchError::Listen {
            address: args.metrics_address.clone(),
            source,
        })?;
    let handler: http::Handler = {
        let (metrics, queue, synced) = (metrics.clone(), queue.clone(), synced.clone());
        let fence = controller.fence.clone();
        Arc::new(move |path: &str| match path {
            "/metrics" => (
                200,
                "text/plain; version=0.0.4",
                metrics.render(queue.depth(), queue.in_flight(), fence.holds()),
            ),
            "/healthz" => (200, "text/plain", "ok\n".into()),
            "/readyz" if synced.iter().all(|s| s.load(Ordering::SeqCst)) => {
                (200, "text/plain", "ok\n".into())
            }
            "/readyz" => (503, "text/plain", "informers not synced\n".into()),
            _ => (404, "text/plain", "not found\n".into()),
        })
    };
    tasks.push(tokio::spawn(http::serve(
        listener,
        handler,
        stop_rx.clone(),
    )));
    log::info(
        "watching",
        &[
            (
                "namespaces",
                &if args.namespace.is_empty() {
                    "all".to_string()
                } else {
                    args.namespace.join(",")
                },
            ),
            ("controller-namespace", &namespace),
            ("identity", &identity),
            ("workers", &args.workers.to_string()),
        ],
    );

    // Leadership: the leader queues work; losing it drops what is queued.
    let (leader_tx, mut leader_rx) = watch::channel(false);
    let (lease_stop_tx, lease_stop_rx) = watch::channel(false);
    let elector = if args.no_leader_election {
        let _ = leader_tx.send(true);
        None
    } else {
        Some(tokio::spawn(
            lease::Elector {
                // Its own request budget: a worker backlog must not delay renewals.
                kube: Arc::new(kube.unlimited()),
                namespace: namespace.clone(),
                name: args.lease_name.clone(),
                identity: identity.clone(),
                duration: args.lease_duration,
                renew_deadline,
                retry_period,
                fence: controller.fence.clone(),
            }
            .run(leader_tx, lease_stop_rx),
        ))
    };
    {
        let controller = controller.clone();
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut was_leading = false;
            loop {
                let leading = *leader_rx.borrow_and_update();
                if std::mem::replace(&mut was_leading, leading) != leading {
                    if leading {
                        controller.enqueue_all();
                    } else {
                        controller.queue.clear();
                    }
                }
                tokio::select! {
                    r = leader_rx.changed() => if r.is_err() { return },
                    _ = stop.changed() => return,
                }
            }
        }));
    }

    // Workers: plain threads, because attesting blocks (signing, storage
    // clients with their own runtimes); API calls go through this runtime.
    let worker = Arc::new(reconcile::Worker {
        runs: Arc::new(ClusterRuns {
            kube: kube.clone(),
            handle: tokio::runtime::Handle::current(),
        }),
        queue: queue.clone(),
        metrics: metrics.clone(),
        current: {
            let c = controller.clone();
            Arc::new(move || c.current.read().unwrap_or_else(|p| p.into_inner()).clone())
        },
        child: {
            let c = controller.clone();
            Arc::new(move |ns: &str, name: &str| {
                let key = Key {
                    kind: RunKind::TaskRun,
                    namespace: ns.to_string(),
                    name: name.to_string(),
                };
                c.runs
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&key)
                    .cloned()
            })
        },
        leading: {
            let fence = controller.fence.clone();
            Arc::new(move || fence.holds())
        },
        retry_delay: args.retry_delay,
    });
    let mut threads = Vec::new();
    for i in 0..args.workers {
        let w = worker.clone();
        let t = std::thread::Builder::new()
            .name(format!("chains-worker-{i}"))
            .spawn(move || w.run())
            .map_err(WatchError::Runtime)?;
        threads.push(t);
    }

    wait_for_signal().await;
    log::info(
        "shutting down: finishing runs in progress",
        &[("in-flight", &queue.in_flight().to_string())],
    );
    queue.shutdown();
    let _ = tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    })
    .await;
    // Only now, with nothing in flight, let another replica lead.
    let _ = lease_stop_tx.send(true);
    if let Some(e) = elector {
        let _ = e.await;
    }
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    log::info("stopped", &[]);
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
