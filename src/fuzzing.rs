//! Entry points for the fuzz targets in `fuzz/` that reach parsers which
//! are not public: the OCI manifest, index and config types the registry
//! client reads. Every other target calls the public functions directly.
//! Not an API: hidden from the docs and free to change with the targets.

/// Read registry JSON as manifests and indexes are read,
/// and check that what one of them reads survives a write and a re-read
/// unchanged (the oci backend writes back what it read).
pub fn oci_document(bytes: &[u8]) {
    use crate::store::oci::manifest::{Index, Manifest};
    if let Ok(m) = serde_json::from_slice::<Manifest>(bytes) {
        let again: Manifest = serde_json::from_slice(&serde_json::to_vec(&m).unwrap_or_default())
            .unwrap_or_else(|e| panic!("a manifest read back differently: {e}"));
        assert_eq!(m, again, "a manifest changed on a round trip");
    }
    if let Ok(i) = serde_json::from_slice::<Index>(bytes) {
        let again: Index = serde_json::from_slice(&serde_json::to_vec(&i).unwrap_or_default())
            .unwrap_or_else(|e| panic!("an index read back differently: {e}"));
        assert_eq!(i, again, "an index changed on a round trip");
    }
}
