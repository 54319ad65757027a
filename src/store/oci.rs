//! PLACEHOLDER until the real backend lands.
use super::{Backend, SignedArtifact, StoreError};
use crate::run::RunId;

pub struct OciOptions {
    pub repository: Option<String>,
    pub insecure: bool,
    pub encoding: Encoding,
}
pub enum Encoding {
    Dsse,
    SigstoreBundle,
}
pub struct OciBackend;
impl OciBackend {
    pub fn new(_opts: OciOptions) -> Result<Self, StoreError> {
        Err(StoreError::new("oci", "not supported by this build yet"))
    }
}
impl Backend for OciBackend {
    fn name(&self) -> &'static str {
        "oci"
    }
    fn store(
        &self,
        _run: &RunId,
        _a: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Err(StoreError::new("oci", "not supported by this build yet"))
    }
}
