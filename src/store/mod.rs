//! Storage: where signed artifacts go, as Tekton Chains stores them.
//!
//! Each backend implements [`Backend`]; the attest pipeline calls every
//! configured backend for every signed artifact of a run, and a run counts as
//! attested only when all of them succeeded. Transparency ([`rekor`]) runs
//! before storage, because backends record its entry.

pub mod archivista;
pub mod cluster;
pub mod docdb;
pub mod files;
pub mod gcs;
pub mod grafeas;
mod http;
pub mod oci;
pub mod pubsub;
pub mod rekor;
mod retry;
pub mod tekton;

pub use retry::{CALL_BUDGET, set_give_up_for, set_overall_timeout, with_retries, with_retries_on};

use miette::Diagnostic;

use crate::run::RunId;
use crate::run::reference::ImageDigest;
use crate::sign::dsse::Envelope;
use crate::sign::{CertificateChain, PublicKey};

/// Chains' signable types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    TaskRun,
    PipelineRun,
    /// A container image signature (cosign simple signing).
    Oci,
}

/// One signed artifact of a run, with everything a backend may need.
#[derive(Clone, Debug)]
pub struct SignedArtifact {
    pub kind: ArtifactKind,
    /// Chains' short key: `taskrun-<uid>`, `pipelinerun-<uid>`, or the first
    /// 12 hex characters of an image digest.
    pub short_key: String,
    /// What was signed: the in-toto statement, or the simple-signing payload.
    pub payload: Vec<u8>,
    /// What Chains stores as "the signature": the DSSE envelope JSON for an
    /// attestation, the raw signature bytes for an image.
    pub signature: Vec<u8>,
    /// The envelope, for attestations.
    pub envelope: Option<Envelope>,
    /// The image, for image signatures.
    pub image: Option<ImageDigest>,
    /// Subjects of an attestation with sha256 digests: (name, hex).
    pub subjects: Vec<(String, String)>,
    pub public_key: PublicKey,
    pub certificate: Option<CertificateChain>,
    /// The transparency log entry, when one was made.
    pub tlog: Option<crate::tlog::LogEntry>,
}

impl SignedArtifact {
    /// Chains' PEM public key or certificate (what Rekor and bundles record).
    pub fn verifier_pem(&self) -> String {
        match &self.certificate {
            Some(c) => c.certificate_pem.clone(),
            None => self.public_key.to_pem(),
        }
    }
}

/// Chains' object names for an artifact (its GCS layout), in the order
/// Chains writes them: `<kind>-<namespace>-<name>/<key>.signature`,
/// `.payload`, `.cert` and `.chain` (the last two empty without a
/// certificate, as Chains writes them). Image signatures are stored under
/// the TaskRun that built the image.
pub fn chains_objects(run: &RunId, artifact: &SignedArtifact) -> Vec<(String, Vec<u8>)> {
    let prefix = gcs::object_prefix(run, &artifact.short_key);
    let (cert, chain) = match &artifact.certificate {
        Some(c) => (
            c.certificate_pem.clone().into_bytes(),
            c.chain_pem.clone().into_bytes(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    vec![
        (format!("{prefix}.signature"), artifact.signature.clone()),
        (format!("{prefix}.payload"), artifact.payload.clone()),
        (format!("{prefix}.cert"), cert),
        (format!("{prefix}.chain"), chain),
    ]
}

/// A storage backend.
pub trait Backend: Send + Sync {
    /// Chains' backend name (`tekton`, `oci`, `gcs`, ...).
    fn name(&self) -> &'static str;

    /// Store one signed artifact of `run`. Returns annotations to set on the
    /// run when it is marked signed (the tekton backend's payload annotations),
    /// or none.
    fn store(
        &self,
        run: &RunId,
        artifact: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError>;
}

/// A backend failure, named after the backend.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{backend}: {message}")]
#[diagnostic(code(chains::store))]
pub struct StoreError {
    pub backend: &'static str,
    pub message: String,
    /// A timeout, a 5xx or a 429: worth retrying.
    pub transient: bool,
    /// Not tried: the backend is given up on for this much longer (the
    /// circuit breaker in `retry`). `watch` defers the run for that long
    /// instead of spending one of its retries.
    pub deferred: Option<std::time::Duration>,
}

impl StoreError {
    pub fn new(backend: &'static str, message: impl Into<String>) -> Self {
        StoreError {
            backend,
            message: message.into(),
            transient: false,
            deferred: None,
        }
    }

    pub fn transient(backend: &'static str, message: impl Into<String>) -> Self {
        StoreError {
            backend,
            message: message.into(),
            transient: true,
            deferred: None,
        }
    }
}

/// Classify an HTTP status: 408, 429 and 5xx are transient.
pub fn is_transient_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}
