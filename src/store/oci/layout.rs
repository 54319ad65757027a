//! An OCI image layout on disk (image-spec `image-layout.md`): `oci-layout`,
//! `index.json` and `blobs/<algorithm>/<hex>`, as `cosign save` and
//! `skopeo copy … oci:DIR[:REF]` write it. Read only, for `chains verify
//! --local-image`.
//!
//! A layout is files anyone could have edited, so every blob read is
//! checked against its digest (and its declared size) before it is used: a
//! signature is never checked over bytes other than those the digest
//! names. What `index.json` lists is found by its annotations (OCI's
//! `org.opencontainers.image.ref.name`, cosign's `kind`, both interpreted
//! by the caller); OCI 1.1 referrers, which `cosign save` leaves in the
//! blob store without listing them in `index.json`, are found as cosign
//! finds them: by scanning the blobs for manifests whose `subject` is the
//! image.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::MAX_READ_BYTES;
use super::manifest::{Descriptor, Index, Manifest};

/// OCI's annotation naming a manifest in a layout (a tag, or a whole
/// reference ending in one).
pub(crate) const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// The `imageLayoutVersion` this reader knows.
const LAYOUT_VERSION: &str = "1.0.0";

/// A blob larger than this is not looked at as a possible referrer
/// manifest (the image spec's registries cap manifests at 4 MiB).
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// Blobs looked at in the referrer scan; a layout with more is refused
/// rather than read without bound.
const MAX_SCANNED_BLOBS: usize = 100_000;

/// An opened layout: its directory and its `index.json`.
pub(crate) struct Layout {
    dir: PathBuf,
    index: Index,
}

impl Layout {
    /// Open `dir`: its `index.json` must be an image index, and its
    /// `oci-layout`, when there is one, of a version this reader knows.
    /// Errors say what is wrong, for the caller to prefix with the path.
    pub(crate) fn open(dir: &Path) -> Result<Layout, String> {
        let index_path = dir.join("index.json");
        if !index_path.is_file() {
            return Err(if dir.is_dir() {
                "no index.json in it: not an OCI image layout (as `cosign save` or `skopeo copy … oci:DIR` write one)".into()
            } else {
                "no such directory".into()
            });
        }
        let marker = dir.join("oci-layout");
        if marker.is_file() {
            let text = read_capped(&marker, 64 * 1024)?;
            let version = serde_json::from_slice::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("imageLayoutVersion")?.as_str().map(str::to_string));
            if version.as_deref() != Some(LAYOUT_VERSION) {
                return Err(format!(
                    "oci-layout does not say imageLayoutVersion {LAYOUT_VERSION:?} (found {})",
                    version.map_or_else(|| "none".to_string(), |v| format!("{v:?}"))
                ));
            }
        }
        let raw = read_capped(&index_path, MAX_MANIFEST_BYTES)?;
        let index: Index = crate::strict_json::from_slice(&raw)
            .map_err(|e| format!("index.json is not an OCI image index: {e}"))?;
        if index.schema_version != 2 {
            return Err(format!(
                "index.json has schemaVersion {}, not 2",
                index.schema_version
            ));
        }
        Ok(Layout {
            dir: dir.to_path_buf(),
            index,
        })
    }

    /// What `index.json` lists.
    pub(crate) fn manifests(&self) -> &[Descriptor] {
        &self.index.manifests
    }

    /// The manifests `index.json` lists under the ref name `name`: the
    /// annotation is the name itself, or a reference ending in `:name`.
    pub(crate) fn by_ref_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Descriptor> {
        self.index.manifests.iter().filter(move |d| {
            d.annotations.get(REF_NAME_ANNOTATION).is_some_and(|r| {
                r == name
                    || r.strip_suffix(name)
                        .is_some_and(|head| head.ends_with(':') && !head.contains('@'))
            })
        })
    }

    /// The blob `descriptor` names, at most [`MAX_READ_BYTES`], checked
    /// against its digest and (when it declares one) its size.
    pub(crate) fn blob(&self, descriptor: &Descriptor) -> Result<Vec<u8>, String> {
        let path = self.blob_path(&descriptor.digest)?;
        if !path.is_file() {
            return Err(format!(
                "blob {} is missing from the layout",
                descriptor.digest
            ));
        }
        let bytes = read_capped(&path, MAX_READ_BYTES)?;
        if descriptor.size > 0 && bytes.len() as u64 != descriptor.size as u64 {
            return Err(format!(
                "blob {} holds {} bytes, its descriptor says {}",
                descriptor.digest,
                bytes.len(),
                descriptor.size
            ));
        }
        let actual = digest_of(&descriptor.digest, &bytes);
        if actual != descriptor.digest {
            return Err(format!(
                "blob {} does not match its digest (its content hashes to {actual}): the layout was changed",
                descriptor.digest
            ));
        }
        Ok(bytes)
    }

    /// The manifests in the blob store whose `subject` is `digest` (OCI 1.1
    /// referrers), with their digests, in the order of their digests.
    /// Blobs too large to be manifests, or that are not JSON manifests, are
    /// passed over unread or unparsed.
    pub(crate) fn referrers(&self, digest: &str) -> Result<Vec<(String, Manifest)>, String> {
        let dir = self.dir.join("blobs").join("sha256");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot list {}: {e}", dir.display())),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let small = entry
                .metadata()
                .is_ok_and(|m| m.is_file() && m.len() <= MAX_MANIFEST_BYTES);
            if small && is_lower_hex(&name, 64) {
                names.push(name);
            }
            if names.len() > MAX_SCANNED_BLOBS {
                return Err(format!(
                    "{} holds more than {MAX_SCANNED_BLOBS} blobs, more than are scanned for referrers",
                    dir.display()
                ));
            }
        }
        names.sort();
        let mut found = Vec::new();
        for name in names {
            let path = dir.join(&name);
            if !starts_like_json(&path) {
                continue;
            }
            let bytes = read_capped(&path, MAX_MANIFEST_BYTES)?;
            let Ok(manifest) = serde_json::from_slice::<Manifest>(&bytes) else {
                continue;
            };
            if manifest.subject.as_ref().is_none_or(|s| s.digest != digest) {
                continue;
            }
            let blob_digest = format!("sha256:{name}");
            // The name is the digest: a blob edited in place is refused.
            if digest_of(&blob_digest, &bytes) != blob_digest {
                return Err(format!(
                    "blob {blob_digest} does not match its digest: the layout was changed"
                ));
            }
            found.push((blob_digest, manifest));
        }
        Ok(found)
    }

    /// `blobs/<algorithm>/<hex>`, for a digest of a known algorithm in its
    /// canonical form (so no digest can name a path outside the layout).
    fn blob_path(&self, digest: &str) -> Result<PathBuf, String> {
        let (algorithm, hex) = digest
            .split_once(':')
            .ok_or_else(|| format!("{digest:?} is not a digest (ALGORITHM:HEX)"))?;
        let len = match algorithm {
            "sha256" => 64,
            "sha512" => 128,
            _ => return Err(format!("digest algorithm {algorithm:?} is not supported")),
        };
        if !is_lower_hex(hex, len) {
            return Err(format!("{digest:?} is not a {algorithm} digest"));
        }
        Ok(self.dir.join("blobs").join(algorithm).join(hex))
    }
}

/// `ALGORITHM:HEX` of `bytes`, in the algorithm `like` names (SHA-256
/// unless it says sha512).
fn digest_of(like: &str, bytes: &[u8]) -> String {
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    if like.starts_with("sha512:") {
        format!("sha512:{}", hex(&sha2::Sha512::digest(bytes)))
    } else {
        format!("sha256:{}", hex(&Sha256::digest(bytes)))
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether the file's first non-blank byte opens a JSON object (layers,
/// mostly gzip, are passed over after one small read).
fn starts_like_json(path: &Path) -> bool {
    let mut head = [0u8; 64];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) else {
        return false;
    };
    head.get(..n)
        .and_then(|h| h.iter().find(|b| !b.is_ascii_whitespace()))
        == Some(&b'{')
}

/// A file's bytes, refused when larger than `max`.
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let shown = || path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", shown()))?;
    if bytes.len() as u64 > max {
        return Err(format!("{} is larger than {max} bytes", shown()));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layout in `dir` with `blobs` and an index listing `listed`.
    fn layout(dir: &Path, blobs: &[&[u8]], listed: &str) {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        for b in blobs {
            let d = digest_of("sha256:", b);
            std::fs::write(dir.join("blobs/sha256").join(&d[7..]), b).unwrap();
        }
        std::fs::write(
            dir.join("index.json"),
            format!(r#"{{"schemaVersion":2,"manifests":[{listed}]}}"#),
        )
        .unwrap();
    }

    fn descriptor(bytes: &[u8], ref_name: &str) -> String {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"annotations":{{"{REF_NAME_ANNOTATION}":"{ref_name}"}}}}"#,
            digest_of("sha256:", bytes),
            bytes.len()
        )
    }

    #[test]
    fn blobs_are_checked_against_their_digests() {
        let tmp = tempfile::tempdir().unwrap();
        let image = br#"{"schemaVersion":2,"layers":[]}"#;
        layout(tmp.path(), &[image], &descriptor(image, "v1"));
        let l = Layout::open(tmp.path()).unwrap();
        let d = l.by_ref_name("v1").next().unwrap().clone();
        assert_eq!(l.blob(&d).unwrap(), image);
        assert!(l.by_ref_name("registry.example/app:v1").next().is_none());

        // Edited in place: refused, with what happened.
        std::fs::write(tmp.path().join("blobs/sha256").join(&d.digest[7..]), b"{}").unwrap();
        let e = l.blob(&d).unwrap_err();
        assert!(e.contains("holds 2 bytes"), "{e}");
        let e = l
            .blob(&Descriptor {
                size: 0,
                ..d.clone()
            })
            .unwrap_err();
        assert!(e.contains("does not match its digest"), "{e}");
        // A digest cannot name a path outside the layout.
        let e = l
            .blob(&Descriptor {
                digest: "sha256:../../etc/passwd".into(),
                ..d
            })
            .unwrap_err();
        assert!(e.contains("is not a sha256 digest"), "{e}");
    }

    #[test]
    fn referrers_are_found_by_subject() {
        let tmp = tempfile::tempdir().unwrap();
        let image = br#"{"schemaVersion":2,"layers":[]}"#;
        let subject = digest_of("sha256:", image);
        let referrer = format!(
            r#"{{"schemaVersion":2,"subject":{{"digest":"{subject}","size":{}}},"layers":[]}}"#,
            image.len()
        );
        let other = br#"{"schemaVersion":2,"subject":{"digest":"sha256:00"},"layers":[]}"#;
        layout(
            tmp.path(),
            &[image, referrer.as_bytes(), other, b"\x1f\x8b gzip"],
            &descriptor(image, "v1"),
        );
        let l = Layout::open(tmp.path()).unwrap();
        let found = l.referrers(&subject).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, digest_of("sha256:", referrer.as_bytes()));
    }

    #[test]
    fn what_is_not_a_layout_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let e = Layout::open(tmp.path()).err().unwrap();
        assert!(e.contains("no index.json"), "{e}");
        let e = Layout::open(&tmp.path().join("absent")).err().unwrap();
        assert_eq!(e, "no such directory");
        layout(tmp.path(), &[], "");
        std::fs::write(
            tmp.path().join("oci-layout"),
            r#"{"imageLayoutVersion":"2"}"#,
        )
        .unwrap();
        let e = Layout::open(tmp.path()).err().unwrap();
        assert!(e.contains("imageLayoutVersion"), "{e}");
        std::fs::remove_file(tmp.path().join("oci-layout")).unwrap();
        std::fs::write(
            tmp.path().join("index.json"),
            r#"{"schemaVersion":2,"schemaVersion":2}"#,
        )
        .unwrap();
        let e = Layout::open(tmp.path()).err().unwrap();
        assert!(e.contains("not an OCI image index"), "{e}");
    }
}
