//! Digests and image references, parsed the way Chains' libraries parse them:
//! `ParseDigest` (go-digest algorithms plus sha1) and go-containerregistry's
//! `name.NewDigest` (registry defaulting, `library/` namespace, validation).

/// Why a digest or reference was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("digest {0:?} is not in the form <algorithm>:<hex>")]
    DigestForm(String),
    #[error("unsupported digest algorithm in {0:?}")]
    Algorithm(String),
    #[error("digest {0:?} has the wrong length or characters for its algorithm")]
    Hex(String),
    #[error("{0}")]
    BadName(String),
}

/// Chains' `ParseDigest`: `alg:hex`, algorithm lower-cased and trimmed;
/// sha256/sha384/sha512 must be lower-case hex of the right length, sha1
/// must be 40 lower-case hex characters.
pub fn parse_digest(digest: &str) -> Result<(String, String), RefError> {
    let mut parts = digest.split(':');
    let (Some(alg), Some(hex), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(RefError::DigestForm(digest.to_string()));
    };
    let alg = alg.trim().to_ascii_lowercase();
    let hex = hex.trim();
    let len = match alg.as_str() {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        "sha1" => 40,
        _ => return Err(RefError::Algorithm(digest.to_string())),
    };
    if !is_lower_hex(hex, len) {
        return Err(RefError::Hex(digest.to_string()));
    }
    Ok((alg, hex.to_string()))
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

const DEFAULT_REGISTRY: &str = "index.docker.io";
const REPOSITORY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-./";
const TAG_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// An image pinned by digest: go-containerregistry's `name.Digest`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageDigest {
    registry: String,
    repository: String,
    /// `sha256:<hex>`
    digest: String,
}

impl ImageDigest {
    /// `name.NewDigest("repo[:tag]@sha256:hex")` with default options.
    pub fn parse(reference: &str) -> Result<Self, RefError> {
        let mut parts = reference.split('@');
        let (Some(base), Some(digest), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(RefError::BadName(format!(
                "a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: {reference}"
            )));
        };
        let Some(hex) = digest.strip_prefix("sha256:") else {
            return Err(RefError::BadName(format!(
                "unsupported digest algorithm: {digest}"
            )));
        };
        if !is_lower_hex(hex, 64) {
            return Err(RefError::Hex(digest.to_string()));
        }
        // A tag between repository and digest is dropped, as ggcr does.
        let base = match strip_tag(base) {
            Some(repo) => repo,
            None => base.to_string(),
        };
        let (registry, repository) = parse_repository(&base)?;
        Ok(ImageDigest {
            registry,
            repository,
            digest: digest.to_string(),
        })
    }

    /// `Repository.Name()`: `registry/repository`, with Docker Hub's implicit `library/`.
    pub fn repository_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository_str())
    }

    fn repository_str(&self) -> String {
        if self.registry == DEFAULT_REGISTRY && !self.repository.contains('/') {
            format!("library/{}", self.repository)
        } else {
            self.repository.clone()
        }
    }

    /// `Digest.Name()`: `registry/repository@sha256:hex`.
    pub fn name(&self) -> String {
        format!("{}@{}", self.repository_name(), self.digest)
    }

    /// `sha256:<hex>`
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The hex part of the digest.
    pub fn hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }
}

/// `name.NewTag` succeeded: the repository name without the tag.
fn strip_tag(name: &str) -> Option<String> {
    let colon = name.rfind(':')?;
    let (base, tag) = (&name[..colon], &name[colon + 1..]);
    if tag.contains('/') {
        return None;
    }
    if tag.is_empty() || tag.len() > 128 || !tag.chars().all(|c| TAG_CHARS.contains(c)) {
        return None;
    }
    let (registry, repository) = parse_repository(base).ok()?;
    let implicit = registry == DEFAULT_REGISTRY && !repository.contains('/');
    Some(if implicit {
        format!("{registry}/library/{repository}")
    } else {
        format!("{registry}/{repository}")
    })
}

/// `name.NewRepository`: split off a registry when the first component looks
/// like a host (`localhost`, or contains `.` or `:`).
fn parse_repository(name: &str) -> Result<(String, String), RefError> {
    if name.is_empty() {
        return Err(RefError::BadName(
            "a repository name must be specified".into(),
        ));
    }
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest)) if first == "localhost" || first.contains(['.', ':']) => (first, rest),
        _ => ("", name),
    };
    let count = repo.chars().count();
    if !(1..=255).contains(&count) {
        return Err(RefError::BadName(format!(
            "repository must be between 1 and 255 characters in length: {repo}"
        )));
    }
    if !repo.chars().all(|c| REPOSITORY_CHARS.contains(c)) {
        return Err(RefError::BadName(format!(
            "repository can only contain the characters `{REPOSITORY_CHARS}`: {repo}"
        )));
    }
    check_registry(registry)?;
    let registry = match registry {
        "" | "docker.io" => DEFAULT_REGISTRY,
        r => r,
    };
    Ok((registry.to_string(), repo.to_string()))
}

/// Registries must be URI authorities (Go: `url.Parse("//"+name).Host == name`).
fn check_registry(registry: &str) -> Result<(), RefError> {
    let ok = registry.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~' | ':' | '[' | ']' | '%')
    });
    if ok {
        Ok(())
    } else {
        Err(RefError::BadName(format!(
            "registries must be valid RFC 3986 URI authorities: {registry}"
        )))
    }
}

/// An image reference from a step or sidecar status (`imageID`), split the
/// way Chains splits it: exactly one `@`, exactly one `:` after it, and a
/// `docker-pullable://` prefix removed. Returns (`oci://uri`, algorithm, hex).
pub fn split_image_id(image_id: &str) -> Result<(String, String, String), String> {
    let mut at = image_id.split('@');
    let (Some(uri), Some(digest), None) = (at.next(), at.next(), at.next()) else {
        return Err(format!("expected imageID {image_id} to be separable by @"));
    };
    let mut colon = digest.split(':');
    let (Some(alg), Some(hex), None) = (colon.next(), colon.next(), colon.next()) else {
        return Err(format!(
            "expected imageID {image_id} to be separable by @ and :"
        ));
    };
    let uri = uri.strip_prefix("docker-pullable://").unwrap_or(uri);
    Ok((format!("oci://{uri}"), alg.to_string(), hex.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5";

    #[test]
    fn docker_hub_names_get_registry_and_library() {
        let d = ImageDigest::parse(&format!("registry/myimage@sha256:{HEX}")).unwrap();
        assert_eq!(d.repository_name(), "index.docker.io/registry/myimage");
        let d = ImageDigest::parse(&format!("busybox@sha256:{HEX}")).unwrap();
        assert_eq!(d.repository_name(), "index.docker.io/library/busybox");
        let d = ImageDigest::parse(&format!("docker.io/busybox:1.0@sha256:{HEX}")).unwrap();
        assert_eq!(d.repository_name(), "index.docker.io/library/busybox");
    }

    #[test]
    fn registries_are_kept() {
        let d = ImageDigest::parse(&format!("gcr.io/foo/bar:v1@sha256:{HEX}")).unwrap();
        assert_eq!(d.name(), format!("gcr.io/foo/bar@sha256:{HEX}"));
        let d = ImageDigest::parse(&format!("localhost:5000/x@sha256:{HEX}")).unwrap();
        assert_eq!(d.repository_name(), "localhost:5000/x");
    }

    #[test]
    fn bad_references_are_rejected() {
        assert!(ImageDigest::parse("gcr.io/foo").is_err());
        assert!(ImageDigest::parse(&format!("gcr.io/Foo@sha256:{HEX}")).is_err());
        assert!(ImageDigest::parse("gcr.io/foo@sha256:abc").is_err());
        assert!(ImageDigest::parse(&format!("gcr.io/foo@sha512:{HEX}")).is_err());
    }

    #[test]
    fn digests_follow_go_digest() {
        assert_eq!(
            parse_digest(&format!(" SHA256 :{HEX} ")).unwrap(),
            ("sha256".to_string(), HEX.to_string())
        );
        assert!(parse_digest("sha256:abc").is_err());
        assert!(parse_digest("md5:abc").is_err());
        assert!(parse_digest(&format!("sha1:{}", &HEX[..40])).is_ok());
        assert!(parse_digest("sha256").is_err());
    }

    #[test]
    fn image_ids_split_like_chains() {
        let (uri, alg, hex) =
            split_image_id(&format!("docker-pullable://gcr.io/a/b@sha256:{HEX}")).unwrap();
        assert_eq!(
            (uri.as_str(), alg.as_str(), hex.as_str()),
            ("oci://gcr.io/a/b", "sha256", HEX)
        );
        assert!(split_image_id("gcr.io/a/b:latest").is_err());
    }
}
