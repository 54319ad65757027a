//! Marking runs in a cluster: the annotations Chains sets on the live
//! TaskRun or PipelineRun (`chains.tekton.dev/signed`, the tekton backend's
//! payload annotations, the transparency entry), through the one Kubernetes
//! edge ([`crate::k8s`]) that `chains watch` marks runs with too.
//!
//! Chains uses a server-side apply patch; we send a JSON merge patch of
//! `metadata.annotations`, which sets the same annotations and is what every
//! API server (and the test emulator) accepts. A run read from a file has
//! no resourceVersion worth trusting (the export is older than the live
//! object), so this write is unconditional.

use std::path::Path;

use super::StoreError;
use crate::k8s::{Kube, RunRef};
use crate::run::RunId;

pub struct Cluster {
    runtime: tokio::runtime::Runtime,
    kube: Kube,
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
        // No request budget: attest makes one write per run.
        let kube = runtime
            .block_on(Kube::connect(kubeconfig, 0.0, 1))
            .map_err(|e| err(e.message))?;
        Ok(Cluster { runtime, kube })
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
        let target = RunRef {
            kind: run.kind,
            namespace: if run.namespace.is_empty() {
                "default"
            } else {
                &run.namespace
            },
            name: &run.name,
        };
        self.runtime
            .block_on(self.kube.mark_run(&target, annotations, ""))
            .map(|_| ())
            .map_err(|e| {
                // No status: the server was not reached or did not answer.
                let transient = e.code.is_none_or(super::is_transient_status);
                let message = format!(
                    "cannot annotate {} {}/{}: {}",
                    run.kind.as_str(),
                    target.namespace,
                    run.name,
                    e.message
                );
                if transient {
                    StoreError::transient("tekton", message)
                } else {
                    err(message)
                }
            })
    }
}
