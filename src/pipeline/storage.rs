//! Storage and transparency for each run: which backends each artifact kind
//! goes to (`--storage`, `artifacts.*.storage`), the Rekor upload before
//! them, and the annotated run Chains' `tekton` backend leaves behind.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use miette::Diagnostic;

use crate::annotations::{SIGNED, TRANSPARENCY, TRANSPARENCY_UPLOAD};
use crate::config::Config;
use crate::plan::StoragePlan;
use crate::run::{Run, RunId};
use crate::store::archivista::ArchivistaBackend;
use crate::store::cluster::Cluster;
use crate::store::docdb::DocdbBackend;
use crate::store::files::FilesBackend;
use crate::store::gcs::GcsBackend;
use crate::store::grafeas::GrafeasBackend;
use crate::store::oci::OciBackend;
use crate::store::pubsub::PubSubBackend;
use crate::store::rekor::Rekor;
use crate::store::tekton::{self, TektonBackend};
use crate::store::{
    ArtifactKind, Backend, SignedArtifact, StoreError, with_retries, with_retries_on,
};

/// Annotation Chains reads in `transparency.enabled: manual` mode.

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum StorageSetupError {
    #[error("storage backend {name:?} is not supported by chains")]
    #[diagnostic(
        code(chains::store::unsupported),
        help("supported: tekton, oci, gcs, files, docdb, pubsub (or kafka), archivista, grafeas")
    )]
    Unsupported { name: String },
    #[error("the tekton backend writes the annotated runs somewhere")]
    #[diagnostic(
        code(chains::store::tekton_output),
        help(
            "pass --output-dir DIR to write annotated copies, --in-place to update the input files, or --kubeconfig to annotate the runs in the cluster"
        )
    )]
    TektonNeedsOutput,
    #[error("the files backend writes under --output-dir DIR")]
    #[diagnostic(code(chains::store::files_output), help("pass --output-dir DIR"))]
    FilesNeedsOutput,
    #[error("storage.gcs.bucket is not set")]
    #[diagnostic(
        code(chains::store::gcs_bucket),
        help("set storage.gcs.bucket in the config file")
    )]
    GcsBucket,
    #[error("cannot read the Rekor public key {path}")]
    #[diagnostic(code(chains::store::rekor_key))]
    RekorKey {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Backend(#[from] StoreError),
}

/// Where the annotated run goes when the tekton backend is used.
#[derive(Clone, Debug)]
pub enum RunWriteBack {
    Dir(PathBuf),
    InPlace,
}

pub struct Storage {
    taskrun: Vec<Arc<dyn Backend>>,
    pipelinerun: Vec<Arc<dyn Backend>>,
    oci: Vec<Arc<dyn Backend>>,
    rekor: Option<Rekor>,
    manual_transparency: bool,
    pub write_back: Option<RunWriteBack>,
    /// With --kubeconfig: runs are marked in the cluster.
    cluster: Option<Cluster>,
}

/// What storing a run's artifacts produced.
pub struct Stored {
    /// The run with Chains' annotations, in its own syntax, when the tekton backend is used.
    pub annotated: Option<Vec<u8>>,
    /// What was stored, for whoever marks the run (the controller).
    pub receipt: Receipt,
}

/// The annotations a run gets once stored, and what it took (Chains' metrics).
#[derive(Clone, Debug, Default)]
pub struct Receipt {
    /// Chains' annotations, `chains.tekton.dev/signed: "true"` included.
    pub annotations: Vec<(String, String)>,
    /// Artifacts recorded in the transparency log.
    pub uploaded: usize,
    /// (artifact, backend) pairs stored.
    pub stored: usize,
}

/// How storage is chosen, apart from the config: the attest flags, or the
/// controller's fixed choices.
#[derive(Clone, Debug, Default)]
pub struct StorageInputs {
    /// `--storage`: backends for every artifact kind.
    pub storage: Option<String>,
    pub output: Option<PathBuf>,
    pub in_place: bool,
    pub kubeconfig: Option<PathBuf>,
    pub tlog_upload: bool,
    pub rekor_url: Option<String>,
    pub rekor_public_key: Option<PathBuf>,
    /// Registry credentials for the oci backend, before the docker config.
    pub registry: crate::store::oci::RegistryCredentials,
    /// The controller: the config's storage (defaults included) applies as in
    /// Chains, and the caller marks the live run with the [`Receipt`].
    pub controller: bool,
}

impl Storage {
    pub fn setup(args: &StorageInputs, config: &Config) -> Result<Storage, StorageSetupError> {
        let flag: Option<BTreeSet<String>> = args.storage.as_ref().map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        });
        // Without --storage, only storage keys the config file sets apply:
        // chains' default output is local (a stream or --output-dir).
        let pick = |kind: &str, configured: &BTreeSet<String>| -> BTreeSet<String> {
            match &flag {
                Some(f) => f.clone(),
                None if args.controller
                    || config
                        .explicit
                        .contains(&format!("artifacts.{kind}.storage")) =>
                {
                    configured
                        .iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect()
                }
                None => BTreeSet::new(),
            }
        };
        let wanted = [
            pick("taskrun", &config.taskrun.storage),
            pick("pipelinerun", &config.pipelinerun.storage),
            pick("oci", &config.oci.storage),
        ];
        let mut made: Vec<(String, Arc<dyn Backend>)> = Vec::new();
        let mut plan = StoragePlan::resolve(config);
        plan.oci.credentials = args.registry.clone();
        let mut backends =
            |names: &BTreeSet<String>| -> Result<Vec<Arc<dyn Backend>>, StorageSetupError> {
                let mut out = Vec::new();
                for name in names {
                    if let Some((_, b)) = made.iter().find(|(n, _)| n == name) {
                        out.push(b.clone());
                        continue;
                    }
                    let b: Arc<dyn Backend> = match name.as_str() {
                        "tekton" => Arc::new(TektonBackend),
                        "files" => match &args.output {
                            Some(dir) => Arc::new(FilesBackend::new(dir.clone())),
                            None => return Err(StorageSetupError::FilesNeedsOutput),
                        },
                        "oci" => Arc::new(OciBackend::new(plan.oci.clone())?),
                        "gcs" => {
                            let bucket = plan
                                .gcs_bucket
                                .as_ref()
                                .ok_or(StorageSetupError::GcsBucket)?;
                            Arc::new(GcsBackend::new(bucket)?)
                        }
                        "docdb" => Arc::new(DocdbBackend::new(&plan.docdb)?),
                        "pubsub" | "kafka" => Arc::new(PubSubBackend::new(&plan.pubsub)?),
                        "archivista" => Arc::new(ArchivistaBackend::new(
                            plan.archivista_url.as_deref().unwrap_or(""),
                        )?),
                        "grafeas" => Arc::new(GrafeasBackend::new(plan.grafeas.clone())?),
                        other => {
                            return Err(StorageSetupError::Unsupported {
                                name: other.to_string(),
                            });
                        }
                    };
                    made.push((name.clone(), b.clone()));
                    out.push(b);
                }
                Ok(out)
            };
        let taskrun = backends(&wanted[0])?;
        let pipelinerun = backends(&wanted[1])?;
        let oci = backends(&wanted[2])?;
        let uses_tekton = wanted.iter().any(|w| w.contains("tekton"));
        let cluster = match &args.kubeconfig {
            Some(p) => Some(Cluster::connect(Some(p))?),
            None => None,
        };
        let write_back = match (uses_tekton, args.in_place, &args.output) {
            (false, _, _) => None,
            (true, false, _) if cluster.is_some() || args.controller => None,
            (true, true, _) => Some(RunWriteBack::InPlace),
            (true, false, Some(dir)) => Some(RunWriteBack::Dir(dir.clone())),
            (true, false, None) => return Err(StorageSetupError::TektonNeedsOutput),
        };
        let transparency = args.tlog_upload || config.transparency_enabled;
        let rekor = if transparency {
            let url = args
                .rekor_url
                .clone()
                .unwrap_or_else(|| config.transparency_url.clone());
            let key = match &args.rekor_public_key {
                Some(p) => Some(std::fs::read_to_string(p).map_err(|source| {
                    StorageSetupError::RekorKey {
                        path: p.display().to_string(),
                        source,
                    }
                })?),
                None => None,
            };
            Some(Rekor::new(&url, key.as_deref())?)
        } else {
            None
        };
        Ok(Storage {
            taskrun,
            pipelinerun,
            oci,
            rekor,
            manual_transparency: config.transparency_manual && !args.tlog_upload,
            write_back,
            cluster,
        })
    }

    /// Whether storing does anything: a backend, the transparency log or a
    /// cluster to mark. Without one, attest skips building the artifacts.
    pub fn is_active(&self) -> bool {
        !(self.taskrun.is_empty()
            && self.pipelinerun.is_empty()
            && self.oci.is_empty()
            && self.rekor.is_none()
            && self.cluster.is_none())
    }

    /// Whether a backend stores artifacts of `kind`.
    pub fn stores(&self, kind: ArtifactKind) -> bool {
        !match kind {
            ArtifactKind::TaskRun => &self.taskrun,
            ArtifactKind::PipelineRun => &self.pipelinerun,
            ArtifactKind::Oci => &self.oci,
        }
        .is_empty()
    }

    /// Upload and store every artifact of a run; on success return the
    /// annotated run (for the tekton backend). Any failure stops the run:
    /// nothing is marked signed unless every backend stored every artifact.
    pub fn store(&self, run: &Run, artifacts: &mut [SignedArtifact]) -> Result<Stored, StoreError> {
        let id = RunId::of(run);
        let upload = self.rekor.is_some()
            && (!self.manual_transparency
                || run.meta().annotations().get(TRANSPARENCY_UPLOAD).copied() == Some("true"));
        let mut transparency = None;
        if let (true, Some(rekor)) = (upload, &self.rekor) {
            for a in artifacts.iter_mut() {
                let entry = with_retries_on("rekor", || rekor.upload(a))?;
                if a.kind != ArtifactKind::Oci {
                    transparency = Some(rekor.entry_url(&entry));
                }
                a.tlog = Some(entry);
            }
        }
        let mut annotations: Vec<(String, String)> = Vec::new();
        let mut tekton_used = false;
        let mut stored = 0;
        for a in artifacts.iter() {
            let backends = match a.kind {
                ArtifactKind::TaskRun => &self.taskrun,
                ArtifactKind::PipelineRun => &self.pipelinerun,
                ArtifactKind::Oci => &self.oci,
            };
            for b in backends {
                tekton_used |= b.name() == "tekton";
                annotations.extend(with_retries_on(b.name(), || b.store(&id, a))?);
                stored += 1;
            }
        }
        // Every backend stored every artifact: now the run may be marked signed.
        annotations.push((SIGNED.to_string(), "true".to_string()));
        if let Some(url) = &transparency {
            annotations.push((TRANSPARENCY.to_string(), url.clone()));
        }
        if let Some(cluster) = &self.cluster {
            with_retries(|| cluster.annotate(&id, &annotations))?;
        }
        let annotated = if tekton_used && self.write_back.is_some() {
            let mut object = run.source_object().clone();
            tekton::annotate(&mut object, &annotations);
            Some(tekton::serialize(&object, run.syntax))
        } else {
            None
        };
        let uploaded = artifacts.iter().filter(|a| a.tlog.is_some()).count();
        Ok(Stored {
            annotated,
            receipt: Receipt {
                annotations,
                uploaded,
                stored,
            },
        })
    }
}
