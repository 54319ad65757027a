//! `chains watch`: the attest pipeline as an in-cluster controller.
//!
//! Informers list (metadata only) and watch TaskRuns and PipelineRuns; runs
//! that need work are kept (nothing else, see [`cache`]) and go into a
//! queue (newest first); worker threads attest them with the same
//! [`Stages`](crate::pipeline::Stages) as `chains attest` and mark them with
//! Chains' annotations. Replicas elect a leader on a Lease, or with
//! `--buckets N` one per bucket of runs ([`buckets`]); a replica works only
//! on the runs of the buckets it leads. `chains-config` is watched and the
//! stages rebuilt when it changes; keys are loaded (and decrypted) once at
//! start.

mod buckets;
mod cache;
mod http;
mod informer;
mod lease;
mod log;
mod metrics;
mod queue;
mod reconcile;
mod settings;

use crate::cli::WatchArgs;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use miette::Diagnostic;
use serde_json::Value;
use tokio::sync::watch;

use crate::config::ConfigError;
use crate::k8s::{ApiError, Kube, core_collection, run_collection};
use crate::pipeline::{SignersError, StorageSetupError};
use crate::plan::{SigningFlags, SigningPlan};
use crate::run::RunKind;
use crate::sign::SignError;
use buckets::{Buckets, Membership};
use cache::{ClusterRuns, Controller, Rebuild, RunSink};
use informer::{Change, Informer, Sink};
use lease::Share;
use metrics::Metrics;
use queue::Queue;

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

/// Rebuilds the stages when chains-config changes.
struct ConfigSink {
    controller: Arc<Controller>,
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
        // Building may block (a keyless certificate, storage clients).
        let result = tokio::task::block_in_place(|| {
            settings::config_from(&serde_json::json!({ "data": data }), &source)
                .and_then(|c| self.controller.apply_config(c))
        });
        match result {
            Ok(()) => {
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
        Kube::connect_context(
            args.kubeconfig.as_deref(),
            args.context.as_deref(),
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
    let rebuild = load_signing(&kube, &namespace, args).await?;
    let queue = Arc::new(Queue::default());
    let metrics = Arc::new(Metrics::default());
    let n_buckets = if args.no_leader_election {
        1
    } else {
        usize::from(args.buckets)
    };
    let buckets = Arc::new(Buckets::new(n_buckets, args.no_leader_election));
    let (q, refresh, b) = (queue.clone(), args.keyless_refresh_before, buckets.clone());
    let controller = tokio::task::spawn_blocking(move || Controller::new(rebuild, refresh, q, b))
        .await
        .map_err(|e| WatchError::Runtime(std::io::Error::other(e)))??;
    let controller = Arc::new(controller);

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let synced = start_informers(&kube, &controller, args, &namespace, &stop_rx, &mut tasks);
    let health = Health {
        metrics: metrics.clone(),
        controller: controller.clone(),
        synced,
    };
    tasks.push(tokio::spawn(
        serve_health(args, health, stop_rx.clone()).await?,
    ));
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

    // Leadership, per bucket: leading queues its work; losing it drops
    // what is queued of it.
    let (lease_stop_tx, lease_stop_rx) = watch::channel(false);
    let electors = start_electors(
        &kube,
        &controller,
        args,
        (&namespace, &identity),
        (renew_deadline, retry_period),
        (&lease_stop_rx, &stop_rx),
        &mut tasks,
    );
    let threads = start_workers(&kube, &controller, &metrics, args)?;

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
    for e in electors {
        let _ = e.await;
    }
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    log::info("stopped", &[]);
    Ok(())
}

/// The first config and the keys (`--key` with the config's KMS options,
/// or signing-secrets), loaded and decrypted once.
async fn load_signing(
    kube: &Kube,
    namespace: &str,
    args: &WatchArgs,
) -> Result<Rebuild, WatchError> {
    let config = settings::read_config(kube, namespace).await?;
    let mut keys = settings::Keys {
        password_file: args.password_file.clone(),
        ..Default::default()
    };
    if let Some(key) = args.key.clone() {
        let plan = SigningPlan::resolve(
            &config,
            SigningFlags {
                key: Some(&key),
                password_file: args.password_file.as_deref(),
                ..Default::default()
            },
        );
        let signer = tokio::task::spawn_blocking(move || crate::sign::load(&key, &plan.options))
            .await
            .map_err(|e| WatchError::Runtime(std::io::Error::other(e)))??;
        keys.loaded = Some(signer);
    } else {
        keys.x509 = settings::read_signing_secret(kube, namespace).await?;
    }
    Ok(Rebuild {
        config,
        keys,
        only_successful: args.only_successful,
    })
}

/// Informers for runs (per kind and namespace) and for chains-config; the
/// run informers' flags say when their first list is in.
fn start_informers(
    kube: &Arc<Kube>,
    controller: &Arc<Controller>,
    args: &WatchArgs,
    namespace: &str,
    stop: &watch::Receiver<bool>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Vec<Arc<AtomicBool>> {
    let mut synced = Vec::new();
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
            let flag = Arc::new(AtomicBool::new(false));
            synced.push(flag.clone());
            let inf = Informer {
                kube: kube.clone(),
                collection: run_collection(kind, ns.as_deref()),
                sink: Arc::new(RunSink {
                    kind,
                    namespace: ns.clone(),
                    controller: controller.clone(),
                    listed_whole: Default::default(),
                }),
                synced: flag,
                metadata_list: true,
            };
            tasks.push(tokio::spawn(inf.run(stop.clone())));
        }
    }
    let config_sink = Arc::new(ConfigSink {
        controller: controller.clone(),
        namespace: namespace.to_string(),
        // The first list applies the config again; keys are not reloaded.
        last: std::sync::Mutex::new(None),
    });
    tasks.push(tokio::spawn(
        Informer {
            kube: kube.clone(),
            collection: core_collection(namespace, "configmaps"),
            sink: config_sink,
            synced: Arc::new(AtomicBool::new(false)),
            metadata_list: false,
        }
        .run(stop.clone()),
    ));
    synced
}

/// What /metrics, /healthz and /readyz report.
struct Health {
    metrics: Arc<Metrics>,
    controller: Arc<Controller>,
    synced: Vec<Arc<AtomicBool>>,
}

/// Bind the metrics address (failing the start when it is taken) and
/// return the server to spawn.
async fn serve_health(
    args: &WatchArgs,
    health: Health,
    stop: watch::Receiver<bool>,
) -> Result<impl std::future::Future<Output = ()> + use<>, WatchError> {
    let listener = tokio::net::TcpListener::bind(&args.metrics_address)
        .await
        .map_err(|source| WatchError::Listen {
            address: args.metrics_address.clone(),
            source,
        })?;
    let handler: http::Handler = Arc::new(move |path: &str| {
        let queue = &health.controller.queue;
        match path {
            "/metrics" => (
                200,
                "text/plain; version=0.0.4",
                health.metrics.render(
                    queue.depth(),
                    queue.in_flight(),
                    health.controller.buckets.led(),
                    health.controller.pending(),
                ),
            ),
            "/healthz" => (200, "text/plain", "ok\n".into()),
            "/readyz" if health.synced.iter().all(|s| s.load(Ordering::SeqCst)) => {
                (200, "text/plain", "ok\n".into())
            }
            "/readyz" => (503, "text/plain", "informers not synced\n".into()),
            _ => (404, "text/plain", "not found\n".into()),
        }
    });
    Ok(http::serve(listener, handler, stop))
}

/// One elector per bucket (and, with several buckets, the member Lease
/// that counts replicas for a fair share); none without leader election.
#[allow(clippy::too_many_arguments)]
fn start_electors(
    kube: &Arc<Kube>,
    controller: &Arc<Controller>,
    args: &WatchArgs,
    (namespace, identity): (&str, &str),
    (renew_deadline, retry_period): (std::time::Duration, std::time::Duration),
    (lease_stop, stop): (&watch::Receiver<bool>, &watch::Receiver<bool>),
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    if args.no_leader_election {
        return Vec::new();
    }
    // Its own request budget: a worker backlog must not delay renewals.
    let lease_kube = Arc::new(kube.unlimited());
    let n = controller.buckets.count();
    let share = Arc::new(if n == 1 {
        Share::single()
    } else {
        Share::default()
    });
    let mut electors = Vec::new();
    if n > 1 {
        let member = Membership {
            kube: lease_kube.clone(),
            namespace: namespace.to_string(),
            group: args.lease_name.clone(),
            identity: identity.to_string(),
            buckets: n,
            duration: args.lease_duration,
            retry_period,
            share: share.clone(),
        };
        electors.push(tokio::spawn(member.run(lease_stop.clone())));
    }
    for i in 0..n {
        let (leader_tx, leader_rx) = watch::channel(false);
        let elector = lease::Elector {
            kube: lease_kube.clone(),
            namespace: namespace.to_string(),
            name: buckets::lease_name(&args.lease_name, i, n),
            identity: identity.to_string(),
            duration: args.lease_duration,
            renew_deadline,
            retry_period,
            fence: controller.buckets.fence(i),
            share: share.clone(),
        };
        electors.push(tokio::spawn(elector.run(leader_tx, lease_stop.clone())));
        let follow = follow_leadership(controller.clone(), i, leader_rx, stop.clone());
        tasks.push(tokio::spawn(follow));
    }
    electors
}

/// Leading a bucket queues every pending run of it; losing it drops what
/// is queued of it (runs in flight finish or stop at the fence).
async fn follow_leadership(
    controller: Arc<Controller>,
    bucket: usize,
    mut leader: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
) {
    let mut was_leading = false;
    let buckets = controller.buckets.clone();
    let ours = move |k: &queue::Key| buckets.of(k) == bucket;
    loop {
        let leading = *leader.borrow_and_update();
        if std::mem::replace(&mut was_leading, leading) != leading {
            if leading {
                controller.enqueue_where(&ours);
            } else {
                controller.queue.clear_where(&ours);
            }
        }
        tokio::select! {
            r = leader.changed() => if r.is_err() { return },
            _ = stop.changed() => return,
        }
    }
}

/// Worker threads: plain threads, because attesting blocks (signing,
/// storage clients with their own runtimes); API calls go through this
/// runtime.
fn start_workers(
    kube: &Arc<Kube>,
    controller: &Arc<Controller>,
    metrics: &Arc<Metrics>,
    args: &WatchArgs,
) -> Result<Vec<std::thread::JoinHandle<()>>, WatchError> {
    // A backend that keeps failing is paused for about one run's retry
    // schedule (the delays double over the retries), not attest's five
    // minutes: runs deferred meanwhile come back when it is tried again.
    crate::store::set_give_up_for(args.retry_delay.saturating_mul(1 << reconcile::MAX_RETRIES));
    let worker = Arc::new(reconcile::Worker {
        runs: Arc::new(ClusterRuns {
            kube: kube.clone(),
            handle: tokio::runtime::Handle::current(),
            controller: controller.clone(),
        }),
        queue: controller.queue.clone(),
        metrics: metrics.clone(),
        current: {
            let c = controller.clone();
            Arc::new(move || c.stages())
        },
        leading: {
            let buckets = controller.buckets.clone();
            Arc::new(move |k: &queue::Key| buckets.holds(k))
        },
        retry_delay: args.retry_delay,
        run_timeout: args.timeout,
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
    Ok(threads)
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
