//! Marking runs in a cluster: the annotations Chains sets on the live
//! TaskRun or PipelineRun (`chains.tekton.dev/signed`, the tekton backend's
//! payload annotations, the transparency entry).
//!
//! Chains uses a server-side apply patch; we send a JSON merge patch of
//! `metadata.annotations`, which sets the same annotations and is what every
//! API server (and the test emulator) accepts without a field manager.

use std::path::Path;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};

use super::StoreError;
use crate::run::{RunId, RunKind};

pub struct Cluster {
    runtime: tokio::runtime::Runtime,
    client: kube::Client,
}

fn err(message: impl Into<String>) -> StoreError {
    StoreError::new("tekton", message)
}

impl Cluster {
    /// Connect with a kubeconfig file (or the in-cluster config when `None`).
    pub fn connect(kubeconfig: Option<&Path>) -> Result<Cluster, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| err(format!("cannot start the Kubernetes client runtime: {e}")))?;
        let client = runtime.block_on(async {
            let config = match kubeconfig {
                Some(p) => {
                    let kc = kube::config::Kubeconfig::read_from(p)
                        .map_err(|e| err(format!("cannot read kubeconfig {}: {e}", p.display())))?;
                    kube::Config::from_custom_kubeconfig(kc, &Default::default())
                        .await
                        .map_err(|e| err(format!("invalid kubeconfig {}: {e}", p.display())))?
                }
                None => kube::Config::incluster()
                    .map_err(|e| err(format!("no in-cluster configuration: {e}")))?,
            };
            kube::Client::try_from(config)
                .map_err(|e| err(format!("cannot create the Kubernetes client: {e}")))
        })?;
        Ok(Cluster { runtime, client })
    }

    /// Set annotations on the live run.
    pub fn annotate(
        &self,
        run: &RunId,
        annotations: &[(String, String)],
    ) -> Result<(), StoreError> {
        if run.name.is_empty() {
            return Err(err(
                "the run has no name, so it cannot be found in the cluster",
            ));
        }
        let kind = match run.kind {
            RunKind::TaskRun => "TaskRun",
            RunKind::PipelineRun => "PipelineRun",
        };
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("tekton.dev", "v1", kind));
        let ns = if run.namespace.is_empty() {
            "default"
        } else {
            &run.namespace
        };
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), ns, &resource);
        let map: serde_json::Map<String, serde_json::Value> = annotations
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let patch = serde_json::json!({"metadata": {"annotations": map}});
        let name = run.name.clone();
        self.runtime
            .block_on(async move { api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await })
            .map(|_| ())
            .map_err(|e| {
                let transient = matches!(&e, kube::Error::Api(s) if super::is_transient_status(s.code))
                    || matches!(&e, kube::Error::HyperError(_) | kube::Error::Service(_));
                let message = format!("cannot annotate {kind} {ns}/{}: {e}", run.name);
                if transient { StoreError::transient("tekton", message) } else { err(message) }
            })
    }
}
