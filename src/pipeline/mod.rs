//! The pipeline every command stands on: a run that has been read goes
//! through provenance → sign → store here. [`Stages`] holds what a batch or
//! the controller resolved once (config, provenance options, signers,
//! backends) and attests one run at a time; `attest`, `watch` and `verify`
//! are thin commands over this module and the stage modules (`run`,
//! `provenance`, `sign`, `store`), and never import one another.

mod product;
mod signers;
mod storage;

pub use product::{ImageSignature, Product};
pub use signers::{SignerInputs, Signers, SignersError, load as load_signers};
pub use storage::{Receipt, RunWriteBack, Storage, StorageInputs, StorageSetupError, Stored};

use std::io;

use miette::Diagnostic;

use crate::config::Config;
use crate::provenance::{self, Format, Options, ProvenanceError, artifacts};
use crate::run::read::InputError;
use crate::run::{Run, RunId, RunKind};
use crate::sign::dsse::{self, Envelope};
use crate::sign::{SignError, simplesigning};
use crate::store::{ArtifactKind, SignedArtifact};

/// A failure of one run (or one document), reported and counted.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RunError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Provenance(#[from] ProvenanceError),
    #[error("{run}: not signed")]
    #[diagnostic(code(chains::sign::run))]
    Sign {
        run: String,
        #[source]
        source: SignError,
    },
    #[error("{run}: not stored")]
    #[diagnostic(code(chains::store::run))]
    Store {
        run: String,
        #[source]
        source: crate::store::StoreError,
    },
    #[error("{origin}: cannot write {path}")]
    #[diagnostic(code(chains::output::write))]
    Write {
        origin: String,
        path: String,
        #[source]
        source: io::Error,
    },
}

impl RunError {
    /// Bad input or provenance Chains cannot make: retrying will not help.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, RunError::Input(_) | RunError::Provenance(_))
    }
}

/// A run's result: what was made for it, or why nothing was.
pub type Attested = Result<(RunId, Product), RunError>;

/// The stages a run goes through after reading (provenance → sign → store),
/// shared by all runs of a batch and by the controller.
pub struct Stages {
    config: Config,
    base: Options,
    format: Option<Format>,
    /// `None` with `--unsigned`.
    signers: Option<Signers>,
    storage: Option<Storage>,
}

impl Stages {
    /// When a signer of these stages expires (a keyless certificate): the
    /// controller builds new stages before then.
    pub fn signers_expire(&self) -> Option<std::time::SystemTime> {
        self.signers.as_ref().and_then(Signers::expires)
    }

    /// Stages from resolved parts; `format` overrides the config's per-kind format.
    pub fn new(
        config: Config,
        base: Options,
        format: Option<Format>,
        signers: Option<Signers>,
        storage: Option<Storage>,
    ) -> Stages {
        Stages {
            config,
            base,
            format,
            signers,
            storage,
        }
    }

    /// The provenance options a config gives (no flags).
    pub fn options_from(config: &Config) -> Options {
        Options {
            format: config.format_for(false),
            builder_id: config.builder_id.clone(),
            build_type: config.build_type,
            deep_inspection: config.deep_inspection,
        }
    }

    /// Attest one run with its child TaskRuns (for a PipelineRun).
    pub fn attest(&self, run: &Run, children: &[&Run]) -> Attested {
        let mut opts = self.base.clone();
        opts.format = self
            .format
            .unwrap_or_else(|| self.config.format_for(run.kind == RunKind::PipelineRun));
        let statement = provenance::statement(run, children, &opts)?;
        let Some(signers) = &self.signers else {
            return Ok((RunId::of(run), Product::Statement(statement)));
        };
        let signer = match run.kind {
            RunKind::TaskRun => &signers.taskrun,
            RunKind::PipelineRun => &signers.pipelinerun,
        };
        let Some(signer) = signer else {
            return Ok((RunId::of(run), Product::Disabled));
        };
        let sign_err = |source| RunError::Sign {
            run: run.label(),
            source,
        };
        let payload = provenance::to_bytes(&statement);
        let envelope =
            Envelope::sign(signer.as_ref(), dsse::IN_TOTO, &payload).map_err(sign_err)?;
        // Chains signs the images a TaskRun built (type hinting), raw, with the OCI signer.
        let mut images = Vec::new();
        if let (RunKind::TaskRun, Some(oci)) = (run.kind, &signers.oci) {
            for image in artifacts::oci_images(&run.results()) {
                let payload = simplesigning::payload(&image);
                let signature = oci.sign(&payload).map_err(sign_err)?;
                images.push((
                    ImageSignature {
                        image: image.name(),
                        digest_hex: image.hex().to_string(),
                        payload,
                        signature,
                        certificate: oci.certificate().cloned(),
                        key_hint: crate::sigstore::bundle::key_hint(oci.public_key()),
                        tlog: None,
                        stored: false,
                    },
                    image,
                ));
            }
        }
        let id = RunId::of(run);
        let mut annotated = None;
        let mut receipt = None;
        let mut tlog = None;
        // What the backends take (copies of the payload and envelope): built
        // only when something will store it.
        if let Some(storage) = self.storage.as_ref().filter(|s| s.is_active()) {
            let mut stored_artifacts = vec![SignedArtifact {
                kind: match run.kind {
                    RunKind::TaskRun => ArtifactKind::TaskRun,
                    RunKind::PipelineRun => ArtifactKind::PipelineRun,
                },
                short_key: id.short_key(),
                signature: envelope.to_json(),
                payload,
                envelope: Some(envelope.clone()),
                image: None,
                subjects: provenance::subjects(&statement)
                    .into_iter()
                    .filter(|(_, alg, _)| alg == "sha256")
                    .map(|(name, _, hex)| (name, hex))
                    .collect(),
                public_key: signer.public_key().clone(),
                certificate: signer.certificate().cloned(),
                tlog: None,
            }];
            // Images are signed (so `images` is not empty) only with an OCI signer.
            if let Some(oci) = &signers.oci {
                for (sig, image) in &images {
                    stored_artifacts.push(SignedArtifact {
                        kind: ArtifactKind::Oci,
                        short_key: image.hex()[..12].to_string(),
                        payload: sig.payload.clone(),
                        signature: sig.signature.clone(),
                        envelope: None,
                        subjects: Vec::new(),
                        image: Some(image.clone()),
                        public_key: oci.public_key().clone(),
                        certificate: sig.certificate.clone(),
                        tlog: None,
                    });
                }
            }
            let stored = storage
                .store(run, &mut stored_artifacts)
                .map_err(|source| RunError::Store {
                    run: run.label(),
                    source,
                })?;
            annotated = stored.annotated.map(|bytes| (bytes, run.syntax));
            receipt = Some(stored.receipt);
            // Images follow the attestation in the artifacts, in the same order.
            let images_stored = storage.stores(ArtifactKind::Oci);
            for ((sig, _), a) in images.iter_mut().zip(stored_artifacts.iter().skip(1)) {
                sig.tlog = a.tlog.clone();
                sig.stored = images_stored;
            }
            tlog = stored_artifacts[0].tlog.take().map(Box::new);
        }
        let images = images.into_iter().map(|(sig, _)| sig).collect();
        Ok((
            id,
            Product::Signed {
                envelope,
                key_hint: crate::sigstore::bundle::key_hint(signer.public_key()).into(),
                certificate: signer.certificate().cloned(),
                tlog,
                images,
                annotated,
                receipt,
            },
        ))
    }
}
