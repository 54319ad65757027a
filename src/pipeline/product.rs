//! What the pipeline makes for one run: a statement, or a signed envelope
//! with its image signatures and what storage did.

use serde_json::Value;

use crate::run::Syntax;
use crate::sign::CertificateChain;
use crate::sign::dsse::Envelope;
use crate::tlog::LogEntry;

/// A signed simplesigning payload for one image.
#[derive(Debug)]
pub struct ImageSignature {
    /// `registry/repository@sha256:hex`
    pub image: String,
    /// The hex of the image digest.
    pub digest_hex: String,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub certificate: Option<CertificateChain>,
    /// cosign's hint for the signing key (`sigstore::bundle::key_hint`).
    pub key_hint: String,
    /// The transparency log entry, when one was made.
    pub tlog: Option<LogEntry>,
    /// A storage backend (the registry) holds it: nothing else need write it.
    pub stored: bool,
}

/// What the pipeline made for one run.
// One per run, moved and never copied: boxing `Signed` would only add an
// allocation per run.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Product {
    Statement(Value),
    /// The run's artifact type has signer `none` (Chains skips it).
    Disabled,
    Signed {
        envelope: Envelope,
        /// cosign's hint for the signing key (`sigstore::bundle::key_hint`).
        key_hint: Box<str>,
        certificate: Option<CertificateChain>,
        /// The attestation's transparency log entry, when one was made.
        tlog: Option<Box<LogEntry>>,
        images: Vec<ImageSignature>,
        /// The run with Chains' annotations (tekton backend), in its own syntax.
        annotated: Option<(Vec<u8>, Syntax)>,
        /// What storage did, when the run was stored.
        receipt: Option<super::Receipt>,
    },
}
