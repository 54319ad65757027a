//! Reading Chains' objects back from Google Cloud Storage.
//!
//! Chains (and the `gcs` storage backend) store each signed artifact of a run
//! as four objects `<kind>-<namespace>-<name>/<key>.signature`, `.payload`,
//! `.cert` and `.chain`. Given `gs://bucket/prefix`, the objects under the
//! prefix are listed, grouped by `<kind>-<namespace>-<name>/<key>`, and each
//! group becomes one [`Evidence`] (via [`Evidence::from_parts`]). Other
//! objects are ignored.
//!
//! The prefix is a plain name prefix, as GCS lists: `gs://bucket/` is the
//! whole bucket, `gs://bucket/taskrun-ci-build-app/` one run's folder.
//! Endpoint and credentials are the `gcs` backend's (`STORAGE_EMULATOR_HOST`,
//! else Google's application-default credentials), with a read-only token.

use std::collections::BTreeMap;

use super::evidence::{Evidence, Signed};
use super::oci::FetchError;
use crate::store::gcs::{GcsBackend, ListedObject};

/// Objects listed under one prefix.
pub const MAX_OBJECTS: usize = 10_000;
/// Bytes read from one prefix in all (each object is also capped at
/// [`crate::store::gcs::MAX_READ_BYTES`]).
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

/// The four objects of an artifact, by their suffix.
const PARTS: [&str; 4] = ["signature", "payload", "cert", "chain"];

/// Every Chains artifact under `url` (`gs://bucket[/prefix]`), one evidence
/// each, in name order. Endpoint and credentials come from the process
/// environment.
pub fn fetch_gcs(url: &str) -> Result<Vec<Evidence>, FetchError> {
    fetch_gcs_with_env(url, &|name| std::env::var(name).ok())
}

/// [`fetch_gcs`] with the environment given as a lookup.
#[doc(hidden)]
pub fn fetch_gcs_with_env(
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Evidence>, FetchError> {
    let (bucket, prefix) = parse_url(url).map_err(|m| FetchError::new(url, m))?;
    let client = GcsBackend::reader_with_env(bucket, env).map_err(|e| FetchError::store(url, e))?;
    let objects = client
        .list(prefix, MAX_OBJECTS)
        .map_err(|e| FetchError::store(url, e))?;
    let artifacts = group(&objects);
    let total: u64 = artifacts
        .values()
        .flat_map(|parts| parts.values())
        .map(|o| o.size)
        .sum();
    if total > MAX_TOTAL_BYTES {
        return Err(FetchError::new(
            url,
            format!(
                "its Chains objects hold {total} bytes, more than the {} MiB read at once; name a run's folder",
                MAX_TOTAL_BYTES / (1024 * 1024)
            ),
        ));
    }
    artifacts
        .iter()
        .map(|(stem, parts)| artifact(&client, stem, parts).map_err(|e| FetchError::store(url, e)))
        .collect()
}

/// `gs://bucket/prefix` → (bucket, prefix).
fn parse_url(url: &str) -> Result<(&str, &str), String> {
    let rest = url
        .strip_prefix("gs://")
        .ok_or("not a gs://bucket/prefix URL")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err("the URL names no bucket (gs://bucket/prefix)".into());
    }
    Ok((bucket, prefix))
}

/// Chains' objects grouped by artifact: stem → suffix → object.
fn group(objects: &[ListedObject]) -> BTreeMap<&str, BTreeMap<&'static str, &ListedObject>> {
    let mut out: BTreeMap<&str, BTreeMap<&'static str, &ListedObject>> = BTreeMap::new();
    for object in objects {
        let Some((stem, part)) = chains_part(&object.name) else {
            continue;
        };
        out.entry(stem).or_default().insert(part, object);
    }
    out
}

/// `<taskrun|pipelinerun>-<namespace>-<name>/<key>.<part>` → (stem, part).
fn chains_part(name: &str) -> Option<(&str, &'static str)> {
    let (stem, suffix) = name.rsplit_once('.')?;
    let part = PARTS.into_iter().find(|p| *p == suffix)?;
    let (folder, key) = stem.rsplit_once('/')?;
    let run_folder = folder
        .rsplit('/')
        .next()
        .is_some_and(|f| f.starts_with("taskrun-") || f.starts_with("pipelinerun-"));
    (run_folder && !key.is_empty()).then_some((stem, part))
}

/// One artifact's evidence from its objects.
fn artifact(
    client: &GcsBackend,
    stem: &str,
    parts: &BTreeMap<&'static str, &ListedObject>,
) -> Result<Evidence, crate::store::StoreError> {
    let origin = format!("gs://{}/{stem}", client.bucket());
    let read = |part: &str| match parts.get(part) {
        Some(o) => client.read(&o.name).map(Some),
        None => Ok(None),
    };
    let Some(signature) = read("signature")? else {
        let why = format!("{stem}.signature is missing beside the artifact's other objects");
        return Ok(Evidence::new(origin, Signed::Unusable(why)));
    };
    Ok(Evidence::from_parts(
        origin,
        read("payload")?,
        signature,
        read("cert")?,
        read("chain")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_names() {
        assert_eq!(parse_url("gs://b").unwrap(), ("b", ""));
        assert_eq!(parse_url("gs://b/taskrun-x/").unwrap(), ("b", "taskrun-x/"));
        assert!(parse_url("s3://b/x").is_err());
        assert!(parse_url("gs:///x").is_err());
        assert_eq!(
            chains_part("taskrun-ci-build/taskrun-5d4b.payload"),
            Some(("taskrun-ci-build/taskrun-5d4b", "payload"))
        );
        assert_eq!(
            chains_part("archive/pipelinerun-ci-p/3b1f6a0e2c9d.signature"),
            Some(("archive/pipelinerun-ci-p/3b1f6a0e2c9d", "signature"))
        );
        assert_eq!(chains_part("taskrun-ci-build/logs.txt"), None);
        assert_eq!(chains_part("notes.payload"), None);
        assert_eq!(chains_part("other/x.signature"), None);
    }

    #[test]
    fn objects_group_by_artifact() {
        let o = |name: &str| ListedObject {
            name: name.into(),
            size: 1,
        };
        let objects = [
            o("taskrun-ci-b/taskrun-u.signature"),
            o("taskrun-ci-b/taskrun-u.payload"),
            o("taskrun-ci-b/3b1f6a0e2c9d.chain"),
            o("taskrun-ci-b/README"),
        ];
        let groups = group(&objects);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups["taskrun-ci-b/taskrun-u"].len(), 2);
        assert!(groups["taskrun-ci-b/3b1f6a0e2c9d"].contains_key("chain"));
    }
}
