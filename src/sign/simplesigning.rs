//! cosign's "simple signing" payload for container images: what Chains signs
//! (raw, not in DSSE) for every image a TaskRun produced.

use crate::run::reference::ImageDigest;

/// The exact payload bytes cosign and Chains sign for an image, as Go's
/// encoding/json writes `payload.SimpleContainerImage`.
pub fn payload(image: &ImageDigest) -> Vec<u8> {
    let value = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": image.repository_name()},
            "image": {"docker-manifest-digest": image.digest()},
            "type": "cosign container image signature",
        },
        "optional": null,
    });
    // serde_json sorts keys, which here is also Go's struct order; the names
    // are registry/repository strings with no characters Go would escape.
    serde_json::to_vec(&value).expect("a JSON tree always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cosign_bytes() {
        let hex = "05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5";
        let img = ImageDigest::parse(&format!("gcr.io/foo/bar@sha256:{hex}")).unwrap();
        assert_eq!(
            String::from_utf8(payload(&img)).unwrap(),
            format!(
                "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"gcr.io/foo/bar\"}},\"image\":{{\"docker-manifest-digest\":\"sha256:{hex}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
            )
        );
    }
}
