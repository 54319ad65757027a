//! The `files` backend: Chains' GCS layout in a local directory (`--output-dir DIR`),
//! for archives and air-gapped hand-offs. Each object is written atomically.

use std::path::PathBuf;

use super::{Backend, SignedArtifact, StoreError, chains_objects};
use crate::run::RunId;

pub struct FilesBackend {
    dir: PathBuf,
}

impl FilesBackend {
    pub fn new(dir: PathBuf) -> FilesBackend {
        FilesBackend { dir }
    }
}

impl Backend for FilesBackend {
    fn name(&self) -> &'static str {
        "files"
    }

    fn store(
        &self,
        run: &RunId,
        artifact: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        for (name, bytes) in chains_objects(run, artifact) {
            let path = self.dir.join(&name);
            let fail = |e: std::io::Error| {
                StoreError::new("files", format!("cannot write {}: {e}", path.display()))
            };
            let parent = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(parent).map_err(fail)?;
            crate::atomic::write(&path, &bytes).map_err(fail)?;
        }
        Ok(Vec::new())
    }
}
