//! Being written: Rekor transparency log uploads (API fixed below).
use serde::{Deserialize, Serialize};

/// A Rekor log entry as Chains and cosign record it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub uuid: String,
    pub log_index: i64,
    pub integrated_time: i64,
    /// Hex SHA-256 of the log's public key (DER).
    pub log_id: String,
    /// Base64 canonicalized entry body.
    pub body: String,
    /// Base64 signed entry timestamp.
    pub signed_entry_timestamp: String,
}

/// PLACEHOLDER until the real client lands.
pub struct Rekor {
    url: String,
}

impl Rekor {
    pub fn new(url: &str, _public_key_pem: Option<&str>) -> Result<Rekor, super::StoreError> {
        Ok(Rekor {
            url: url.to_string(),
        })
    }
    pub fn upload(&self, _artifact: &super::SignedArtifact) -> Result<LogEntry, super::StoreError> {
        Err(super::StoreError::new(
            "rekor",
            "not supported by this build yet",
        ))
    }
    pub fn entry_url(&self, entry: &LogEntry) -> String {
        format!(
            "{}/api/v1/log/entries?logIndex={}",
            self.url, entry.log_index
        )
    }
}
