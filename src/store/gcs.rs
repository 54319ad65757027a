//! PLACEHOLDER until the real backend lands.
use super::{Backend, SignedArtifact, StoreError};
use crate::run::RunId;

pub struct GcsBackend;
impl GcsBackend {
    pub fn new(_bucket: &str) -> Result<Self, StoreError> {
        Err(StoreError::new("gcs", "not supported by this build yet"))
    }
}
impl Backend for GcsBackend {
    fn name(&self) -> &'static str {
        "gcs"
    }
    fn store(
        &self,
        _run: &RunId,
        _a: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Err(StoreError::new("gcs", "not supported by this build yet"))
    }
}
