//! The trusted root through TUF (The Update Framework), as cosign,
//! sigstore-go and sigstore-python get it: Sigstore publishes
//! `trusted_root.json` as a target of its TUF repository
//! (<https://tuf-repo-cdn.sigstore.dev>), whose initial `root.json` ships
//! in this binary (sigstore-go's `pkg/tuf/repository/root.json`).
//!
//! The client workflow of the TUF specification (v1.0, §5) is followed:
//!
//! 1. the trusted root is the cached `root.json` (or the shipped one when
//!    the cache has none or an older one); `N+1.root.json` is fetched until
//!    there is none, each new root signed by a threshold of the old root's
//!    root keys *and* of its own, with version exactly N+1; the final root
//!    must not be expired, and a rotated timestamp or snapshot key discards
//!    the cached metadata of that role;
//! 2. `timestamp.json`: a threshold of the root's timestamp keys, version
//!    not below the cached one, snapshot version not below the cached one,
//!    not expired;
//! 3. `snapshot.json` (`V.snapshot.json` with consistent snapshots): length
//!    and hashes as the timestamp says, snapshot keys, version as the
//!    timestamp says, no targets metadata version going back, not expired;
//! 4. `targets.json` likewise against the snapshot, targets keys, not
//!    expired;
//! 5. the target (`trusted_root.json`): length and every known hash as the
//!    targets metadata says (fetched as `HASH.NAME` with consistent
//!    snapshots); a cached copy with the right hashes is used as is.
//!
//! Metadata is cached (written atomically) in the user's cache directory,
//! `$XDG_CACHE_HOME/chains/tuf/<repository URL, percent-encoded>/` (else
//! `~/.cache/...`), so the versions seen are the rollback baseline.
//! Every download has a deadline and a size limit. With `--offline` nothing
//! is fetched: the cached metadata must verify (signatures, versions,
//! hashes), but may be expired, as python-tuf's offline mode allows.
//! Delegated targets are not searched: Sigstore's `trusted_root.json` is a
//! top-level target.
//!
//! Why not a TUF crate: `tough` (awslabs, what sigstore-rs uses) is
//! well kept but is async-only and would add about ten crates to the tree
//! (snafu, globset, jiff, typed-path, async-recursion, dyn-clone,
//! serde_plain, pem, walkdir, tokio-util), and it has no cache-only mode
//! for `--offline`. The workflow above is a few hundred lines over
//! serde_json, OLPC canonical JSON (`olpc-cjson`, the encoding TUF signs,
//! already in the tree) and this tool's signature verification
//! ([`PublicKey::verify_with`], aws-lc-rs); no cryptography is written here.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_lc_rs::digest;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::TrustedRoot;
use crate::sign::PublicKey;
use crate::sign::verify::Hash;

/// Sigstore's public-good TUF repository.
pub const SIGSTORE_TUF_URL: &str = "https://tuf-repo-cdn.sigstore.dev";
/// Its root.json (version 14), shipped: the start of the chain of trust.
pub const SIGSTORE_TUF_ROOT: &[u8] = include_bytes!("tuf/sigstore-root.json");
/// The target holding Sigstore's trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";

// Size limits (python-tuf's defaults) and rotation bound.
const MAX_ROOT_BYTES: u64 = 512_000;
const MAX_TIMESTAMP_BYTES: u64 = 16_384;
const MAX_SNAPSHOT_BYTES: u64 = 2_000_000;
const MAX_TARGETS_BYTES: u64 = 5_000_000;
const MAX_ROOT_ROTATIONS: u64 = 256;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Where and how to get the trusted root over TUF.
#[derive(Clone, Debug)]
pub struct TufOptions {
    /// The repository's base URL (metadata at URL/, targets at URL/targets/).
    pub url: String,
    /// The initial root.json (trusted as given).
    pub initial_root: Vec<u8>,
    /// Where the metadata and targets are cached.
    pub cache_dir: PathBuf,
    /// Use the cache only.
    pub offline: bool,
}

impl TufOptions {
    /// The public-good instance, cached in the user's cache directory.
    pub fn sigstore(offline: bool) -> Result<TufOptions, TufError> {
        TufOptions::for_url(SIGSTORE_TUF_URL, SIGSTORE_TUF_ROOT.to_vec(), offline)
    }

    /// Another repository, trusted from `initial_root`, cached in the user's
    /// cache directory.
    pub fn for_url(
        url: &str,
        initial_root: Vec<u8>,
        offline: bool,
    ) -> Result<TufOptions, TufError> {
        let url = url.trim().trim_end_matches('/').to_string();
        let base = user_cache_dir().ok_or_else(|| {
            TufError::Cache("no cache directory: set XDG_CACHE_HOME or HOME".into())
        })?;
        let cache_dir = base.join("chains").join("tuf").join(percent_encode(&url));
        Ok(TufOptions {
            url,
            initial_root,
            cache_dir,
            offline,
        })
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TufError {
    #[error("TUF repository {url}: cannot fetch {file}: {why}")]
    #[diagnostic(code(chains::tuf::fetch))]
    Fetch {
        url: String,
        file: String,
        why: String,
    },
    #[error("TUF repository {url}: {file} is refused: {why}")]
    #[diagnostic(code(chains::tuf::refused))]
    Refused {
        url: String,
        file: String,
        why: String,
    },
    #[error("TUF cache: {0}")]
    #[diagnostic(code(chains::tuf::cache))]
    Cache(String),
    #[error("TUF repository {url}: the target {target}: {why}")]
    #[diagnostic(code(chains::tuf::trusted_root))]
    Target {
        url: String,
        target: String,
        why: String,
    },
}

/// Sigstore's trusted root from the TUF repository of `options`.
pub fn trusted_root(options: &TufOptions) -> Result<TrustedRoot, TufError> {
    let bytes = fetch_target(options, TRUSTED_ROOT_TARGET)?;
    TrustedRoot::from_json(
        &bytes,
        &format!("{TRUSTED_ROOT_TARGET} from {}", options.url),
    )
    .map_err(|e| TufError::Target {
        url: options.url.clone(),
        target: TRUSTED_ROOT_TARGET.into(),
        why: e.to_string(),
    })
}

/// The verified bytes of target `name` (after refreshing the metadata,
/// unless offline).
pub fn fetch_target(options: &TufOptions, name: &str) -> Result<Vec<u8>, TufError> {
    let mut client = Client::new(options)?;
    client.refresh()?;
    client.target(name)
}

/// One signed metadata file: the `signed` part as received (it is what is
/// signed, canonicalized) and its signatures.
#[derive(Deserialize)]
struct Envelope {
    signed: Value,
    signatures: Vec<Signature>,
}

#[derive(Deserialize)]
struct Signature {
    keyid: String,
    sig: String,
}

#[derive(Deserialize, Clone)]
struct Key {
    keytype: String,
    scheme: String,
    keyval: KeyValue,
}

#[derive(Deserialize, Clone)]
struct KeyValue {
    public: String,
}

#[derive(Deserialize, Clone)]
struct Role {
    keyids: Vec<String>,
    threshold: u64,
}

#[derive(Deserialize, Clone)]
struct Common {
    #[serde(rename = "_type")]
    kind: String,
    spec_version: String,
    version: u64,
    expires: String,
}

#[derive(Deserialize, Clone)]
struct RootSigned {
    #[serde(flatten)]
    common: Common,
    keys: BTreeMap<String, Key>,
    roles: BTreeMap<String, Role>,
    #[serde(default)]
    consistent_snapshot: bool,
}

#[derive(Deserialize, Clone)]
struct MetaFile {
    version: u64,
    #[serde(default)]
    length: Option<u64>,
    #[serde(default)]
    hashes: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Clone)]
struct MetaSigned {
    #[serde(flatten)]
    common: Common,
    meta: BTreeMap<String, MetaFile>,
}

#[derive(Deserialize, Clone)]
struct TargetFile {
    length: u64,
    hashes: BTreeMap<String, String>,
}

#[derive(Deserialize, Clone)]
struct TargetsSigned {
    #[serde(flatten)]
    common: Common,
    targets: BTreeMap<String, TargetFile>,
}

/// The client state: the metadata trusted so far.
struct Client<'a> {
    options: &'a TufOptions,
    http: Option<reqwest::blocking::Client>,
    now: OffsetDateTime,
    root: RootSigned,
    /// The trusted root as received, for the cache.
    root_bytes: Vec<u8>,
    timestamp: Option<MetaSigned>,
    snapshot: Option<MetaSigned>,
    targets: Option<TargetsSigned>,
}

impl<'a> Client<'a> {
    fn new(options: &'a TufOptions) -> Result<Client<'a>, TufError> {
        let refused = |file: &str, why: String| TufError::Refused {
            url: options.url.clone(),
            file: file.into(),
            why,
        };
        let shipped =
            parse_root(&options.initial_root).map_err(|w| refused("the initial root.json", w))?;
        // The shipped root is trusted as given; a cached one must be newer
        // and signed by itself (it was verified when it was stored).
        let cached = read_cache(&options.cache_dir, "root.json")
            .and_then(|b| parse_root(&b).ok().map(|r| (r, b)))
            .filter(|(r, _)| r.common.version >= shipped.common.version);
        let (root, root_bytes) = cached.unwrap_or((shipped, options.initial_root.clone()));
        let http = if options.offline {
            None
        } else {
            Some(
                reqwest::blocking::Client::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .timeout(REQUEST_TIMEOUT)
                    .user_agent(concat!("chains/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| TufError::Fetch {
                        url: options.url.clone(),
                        file: String::new(),
                        why: format!("cannot create an HTTP client: {e}"),
                    })?,
            )
        };
        let mut client = Client {
            options,
            http,
            now: OffsetDateTime::now_utc(),
            root,
            root_bytes,
            timestamp: None,
            snapshot: None,
            targets: None,
        };
        client.load_cached();
        Ok(client)
    }

    fn refused(&self, file: &str, why: impl Into<String>) -> TufError {
        TufError::Refused {
            url: self.options.url.clone(),
            file: file.into(),
            why: why.into(),
        }
    }

    /// Cached timestamp, snapshot and targets that still verify with the
    /// root are the baseline for rollback checks (and, offline, the
    /// metadata used); others are ignored.
    fn load_cached(&mut self) {
        let dir = &self.options.cache_dir;
        self.timestamp = read_cache(dir, "timestamp.json").and_then(|b| {
            self.verified::<MetaSigned>(&b, "timestamp", "timestamp.json")
                .ok()
        });
        self.snapshot = read_cache(dir, "snapshot.json").and_then(|b| {
            self.verified::<MetaSigned>(&b, "snapshot", "snapshot.json")
                .ok()
        });
        self.targets = read_cache(dir, "targets.json").and_then(|b| {
            self.verified::<TargetsSigned>(&b, "targets", "targets.json")
                .ok()
        });
    }

    /// §5.3 to §5.6, or (offline) the checks of the cached chain.
    fn refresh(&mut self) -> Result<(), TufError> {
        if self.options.offline {
            return self.check_offline();
        }
        self.update_root()?;
        self.update_timestamp()?;
        self.update_snapshot()?;
        self.update_targets()
    }

    fn check_offline(&self) -> Result<(), TufError> {
        let missing = |what: &str| {
            TufError::Cache(format!(
                "--offline: no verified cached {what} for {} in {} (run once without --offline)",
                self.options.url,
                self.options.cache_dir.display()
            ))
        };
        let timestamp = self
            .timestamp
            .as_ref()
            .ok_or_else(|| missing("timestamp.json"))?;
        let snapshot = self
            .snapshot
            .as_ref()
            .ok_or_else(|| missing("snapshot.json"))?;
        let targets = self
            .targets
            .as_ref()
            .ok_or_else(|| missing("targets.json"))?;
        let expected = timestamp.meta.get("snapshot.json").map(|m| m.version);
        if expected != Some(snapshot.common.version) {
            return Err(self.refused(
                "snapshot.json",
                "the cached snapshot is not the one the cached timestamp names",
            ));
        }
        let expected = snapshot.meta.get("targets.json").map(|m| m.version);
        if expected != Some(targets.common.version) {
            return Err(self.refused(
                "targets.json",
                "the cached targets are not the ones the cached snapshot names",
            ));
        }
        Ok(())
    }

    fn update_root(&mut self) -> Result<(), TufError> {
        let old_timestamp_keys = self.role_keys("timestamp");
        let old_snapshot_keys = self.role_keys("snapshot");
        for _ in 0..MAX_ROOT_ROTATIONS {
            let next = self.root.common.version + 1;
            let file = format!("{next}.root.json");
            let Some(bytes) = self.download(&file, MAX_ROOT_BYTES, true)? else {
                break;
            };
            let envelope: Envelope = parse(&bytes).map_err(|w| self.refused(&file, w))?;
            // Signed by a threshold of the trusted root's root keys...
            self.check_signatures(&envelope, "root", &self.root)
                .map_err(|w| self.refused(&file, w))?;
            let new: RootSigned =
                typed(&envelope.signed, "root").map_err(|w| self.refused(&file, w))?;
            // ...and of its own.
            self.check_signatures(&envelope, "root", &new)
                .map_err(|w| {
                    self.refused(&file, format!("not signed by its own root keys: {w}"))
                })?;
            if new.common.version != next {
                return Err(self.refused(
                    &file,
                    format!("it says version {}, not {next}", new.common.version),
                ));
            }
            self.root = new;
            self.root_bytes = bytes;
        }
        self.check_expiry("root.json", &self.root.common.expires)?;
        self.store("root.json", &self.root_bytes)?;
        // Rotated timestamp or snapshot keys: the cached metadata of that
        // role (and what follows from it) can no longer be the baseline.
        if self.role_keys("timestamp") != old_timestamp_keys {
            self.timestamp = None;
            self.forget("timestamp.json");
        }
        if self.role_keys("snapshot") != old_snapshot_keys {
            self.snapshot = None;
            self.forget("snapshot.json");
        }
        Ok(())
    }

    fn update_timestamp(&mut self) -> Result<(), TufError> {
        let file = "timestamp.json";
        let bytes = self
            .download(file, MAX_TIMESTAMP_BYTES, false)?
            .ok_or_else(|| self.refused(file, "not found"))?;
        let new: MetaSigned = self.verified(&bytes, "timestamp", file)?;
        let snapshot_version = new
            .meta
            .get("snapshot.json")
            .map(|m| m.version)
            .ok_or_else(|| self.refused(file, "it names no snapshot.json"))?;
        if let Some(old) = &self.timestamp {
            if new.common.version < old.common.version {
                return Err(self.refused(
                    file,
                    format!(
                        "rollback: version {} is older than the trusted {}",
                        new.common.version, old.common.version
                    ),
                ));
            }
            let old_snapshot = old.meta.get("snapshot.json").map_or(0, |m| m.version);
            if snapshot_version < old_snapshot {
                return Err(self.refused(
                    file,
                    format!("rollback: snapshot version {snapshot_version} is older than the trusted {old_snapshot}"),
                ));
            }
        }
        self.check_expiry(file, &new.common.expires)?;
        self.timestamp = Some(new);
        self.store(file, &bytes)
    }

    fn update_snapshot(&mut self) -> Result<(), TufError> {
        let file = "snapshot.json";
        let meta = self
            .timestamp
            .as_ref()
            .and_then(|t| t.meta.get(file))
            .cloned()
            .ok_or_else(|| self.refused("timestamp.json", "it names no snapshot.json"))?;
        let bytes = self.fetch_meta(file, &meta, MAX_SNAPSHOT_BYTES)?;
        let new: MetaSigned = self.verified(&bytes, "snapshot", file)?;
        if new.common.version != meta.version {
            return Err(self.refused(
                file,
                format!(
                    "version {} is not the {} the timestamp names",
                    new.common.version, meta.version
                ),
            ));
        }
        if let Some(old) = &self.snapshot {
            for (name, was) in &old.meta {
                match new.meta.get(name) {
                    None => {
                        return Err(
                            self.refused(file, format!("rollback: {name} is no longer listed"))
                        );
                    }
                    Some(now) if now.version < was.version => {
                        return Err(self.refused(
                            file,
                            format!(
                                "rollback: {name} version {} is older than the trusted {}",
                                now.version, was.version
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        self.check_expiry(file, &new.common.expires)?;
        self.snapshot = Some(new);
        self.store(file, &bytes)
    }

    fn update_targets(&mut self) -> Result<(), TufError> {
        let file = "targets.json";
        let meta = self
            .snapshot
            .as_ref()
            .and_then(|s| s.meta.get(file))
            .cloned()
            .ok_or_else(|| self.refused("snapshot.json", "it names no targets.json"))?;
        let bytes = self.fetch_meta(file, &meta, MAX_TARGETS_BYTES)?;
        let new: TargetsSigned = self.verified(&bytes, "targets", file)?;
        if new.common.version != meta.version {
            return Err(self.refused(
                file,
                format!(
                    "version {} is not the {} the snapshot names",
                    new.common.version, meta.version
                ),
            ));
        }
        self.check_expiry(file, &new.common.expires)?;
        self.targets = Some(new);
        self.store(file, &bytes)
    }

    /// Snapshot or targets metadata, by version with consistent snapshots,
    /// checked against the length and hashes its referrer gives.
    fn fetch_meta(
        &self,
        file: &str,
        meta: &MetaFile,
        default_max: u64,
    ) -> Result<Vec<u8>, TufError> {
        let remote = if self.root.consistent_snapshot {
            format!("{}.{file}", meta.version)
        } else {
            file.to_string()
        };
        let max = meta.length.unwrap_or(default_max);
        let bytes = self
            .download(&remote, max, false)?
            .ok_or_else(|| self.refused(&remote, "not found"))?;
        if let Some(length) = meta.length
            && bytes.len() as u64 != length
        {
            return Err(self.refused(
                &remote,
                format!("{} bytes, not the {length} expected", bytes.len()),
            ));
        }
        if let Some(hashes) = &meta.hashes {
            check_hashes(&bytes, hashes).map_err(|w| self.refused(&remote, w))?;
        }
        Ok(bytes)
    }

    /// §5.7: the target's bytes, from the cache when they match.
    fn target(&self, name: &str) -> Result<Vec<u8>, TufError> {
        let target_error = |why: String| TufError::Target {
            url: self.options.url.clone(),
            target: name.into(),
            why,
        };
        let info = self
            .targets
            .as_ref()
            .and_then(|t| t.targets.get(name))
            .ok_or_else(|| target_error("not listed in the targets metadata".into()))?;
        let fits =
            |b: &[u8]| b.len() as u64 == info.length && check_hashes(b, &info.hashes).is_ok();
        let cache_name = format!("targets/{name}");
        if let Some(cached) = read_cache(&self.options.cache_dir, &cache_name)
            && fits(&cached)
        {
            return Ok(cached);
        }
        if self.options.offline {
            return Err(TufError::Cache(format!(
                "--offline: no cached {name} matching the targets metadata in {}",
                self.options.cache_dir.display()
            )));
        }
        let remote = match (self.root.consistent_snapshot, info.hashes.get("sha256")) {
            (true, Some(hash)) => format!("targets/{hash}.{name}"),
            (true, None) => match info.hashes.iter().next() {
                Some((_, hash)) => format!("targets/{hash}.{name}"),
                None => return Err(target_error("no hash in the targets metadata".into())),
            },
            (false, _) => format!("targets/{name}"),
        };
        let bytes = self
            .download(&remote, info.length, false)?
            .ok_or_else(|| target_error("not found in the repository".into()))?;
        if bytes.len() as u64 != info.length {
            return Err(target_error(format!(
                "{} bytes, not the {} the targets metadata gives",
                bytes.len(),
                info.length
            )));
        }
        check_hashes(&bytes, &info.hashes).map_err(target_error)?;
        self.store(&cache_name, &bytes)?;
        Ok(bytes)
    }

    /// Parse `bytes`, check the role's signatures by the trusted root, its
    /// type and spec version.
    fn verified<T: DeserializeOwned>(
        &self,
        bytes: &[u8],
        role: &str,
        file: &str,
    ) -> Result<T, TufError> {
        let envelope: Envelope = parse(bytes).map_err(|w| self.refused(file, w))?;
        self.check_signatures(&envelope, role, &self.root)
            .map_err(|w| self.refused(file, w))?;
        typed(&envelope.signed, role).map_err(|w| self.refused(file, w))
    }

    /// A threshold of `role`'s keys in `root` signed `envelope.signed`.
    fn check_signatures(
        &self,
        envelope: &Envelope,
        role: &str,
        root: &RootSigned,
    ) -> Result<(), String> {
        let spec = root
            .roles
            .get(role)
            .ok_or_else(|| format!("the root has no {role} role"))?;
        if spec.threshold == 0 {
            return Err(format!("the root gives the {role} role a threshold of 0"));
        }
        let message = canonical(&envelope.signed)?;
        let mut good: HashSet<&str> = HashSet::new();
        for signature in &envelope.signatures {
            if !spec.keyids.contains(&signature.keyid) || good.contains(signature.keyid.as_str()) {
                continue;
            }
            let Some(key) = root.keys.get(&signature.keyid) else {
                continue;
            };
            if verify_signature(key, &message, &signature.sig) {
                good.insert(&signature.keyid);
            }
        }
        if (good.len() as u64) < spec.threshold {
            return Err(format!(
                "{} valid signature(s) by {role} keys; the threshold is {}",
                good.len(),
                spec.threshold
            ));
        }
        Ok(())
    }

    fn role_keys(&self, role: &str) -> Option<(Vec<String>, u64)> {
        self.root.roles.get(role).map(|r| {
            let mut ids = r.keyids.clone();
            ids.sort();
            (ids, r.threshold)
        })
    }

    fn check_expiry(&self, file: &str, expires: &str) -> Result<(), TufError> {
        let at = OffsetDateTime::parse(expires, &Rfc3339).map_err(|e| {
            self.refused(
                file,
                format!("expires {expires:?} is not an RFC 3339 time: {e}"),
            )
        })?;
        if at <= self.now {
            return Err(self.refused(file, format!("it expired at {expires}")));
        }
        Ok(())
    }

    /// GET URL/`file`, at most `max` bytes; `Ok(None)` for 404 (and 403,
    /// which S3-like stores answer for a missing file) where `missing_ok`.
    fn download(
        &self,
        file: &str,
        max: u64,
        missing_ok: bool,
    ) -> Result<Option<Vec<u8>>, TufError> {
        let fetch_error = |why: String| TufError::Fetch {
            url: self.options.url.clone(),
            file: file.into(),
            why,
        };
        let Some(http) = &self.http else {
            return Err(fetch_error("offline".into()));
        };
        let response = http
            .get(format!("{}/{file}", self.options.url))
            .send()
            .map_err(|e| fetch_error(crate::cloud::error_chain(&e)))?;
        let status = response.status().as_u16();
        if matches!(status, 403 | 404) && missing_ok {
            return Ok(None);
        }
        if status == 404 {
            return Ok(None);
        }
        if status != 200 {
            return Err(fetch_error(format!("HTTP {status}")));
        }
        let mut bytes = Vec::new();
        response
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fetch_error(e.to_string()))?;
        if bytes.len() as u64 > max {
            return Err(self.refused(file, format!("it is larger than the {max} bytes allowed")));
        }
        Ok(Some(bytes))
    }

    fn store(&self, name: &str, bytes: &[u8]) -> Result<(), TufError> {
        let path = self.options.cache_dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| TufError::Cache(format!("cannot create {}: {e}", parent.display())))?;
        }
        crate::atomic::write(&path, bytes)
            .map_err(|e| TufError::Cache(format!("cannot write {}: {e}", path.display())))
    }

    fn forget(&self, name: &str) {
        // A file already gone is what is wanted.
        let _ = std::fs::remove_file(self.options.cache_dir.join(name));
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not TUF metadata JSON: {e}"))
}

/// The typed `signed` part of a `role` file, with its type and spec version checked.
fn typed<T: DeserializeOwned>(signed: &Value, role: &str) -> Result<T, String> {
    let common: Common =
        serde_json::from_value(signed.clone()).map_err(|e| format!("not {role} metadata: {e}"))?;
    if common.kind != role {
        return Err(format!("it is {:?} metadata, not {role}", common.kind));
    }
    if common.spec_version.split('.').next() != Some("1") {
        return Err(format!(
            "unsupported TUF spec version {:?}",
            common.spec_version
        ));
    }
    serde_json::from_value(signed.clone()).map_err(|e| format!("not {role} metadata: {e}"))
}

fn parse_root(bytes: &[u8]) -> Result<RootSigned, String> {
    let envelope: Envelope = parse(bytes)?;
    typed(&envelope.signed, "root")
}

/// OLPC canonical JSON, the bytes TUF signatures are over.
fn canonical(value: &Value) -> Result<Vec<u8>, String> {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, olpc_cjson::CanonicalFormatter::new());
    value
        .serialize(&mut serializer)
        .map_err(|e| format!("cannot canonicalize the metadata: {e}"))?;
    Ok(out)
}

/// A TUF key's signature (hex) over `message`: ecdsa (PEM key, DER
/// signature), ed25519 (hex key), rsassa-pss (PEM key).
fn verify_signature(key: &Key, message: &[u8], signature_hex: &str) -> bool {
    let Some(signature) = hex_decode(signature_hex) else {
        return false;
    };
    let public = match key.keytype.as_str() {
        "ed25519" => hex_decode(&key.keyval.public).and_then(|raw| {
            let mut spki = vec![
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            spki.extend_from_slice(&raw);
            (raw.len() == 32)
                .then(|| PublicKey::from_spki_der(&spki).ok())
                .flatten()
        }),
        "ecdsa" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "rsa" => {
            PublicKey::from_pem(&key.keyval.public).ok()
        }
        _ => None,
    };
    let Some(public) = public else {
        return false;
    };
    let hash = match key.scheme.as_str() {
        "ed25519" | "ecdsa-sha2-nistp256" | "rsassa-pss-sha256" => Hash::Sha256,
        "ecdsa-sha2-nistp384" | "rsassa-pss-sha384" => Hash::Sha384,
        "rsassa-pss-sha512" => Hash::Sha512,
        _ => return false,
    };
    public.verify_with(hash, message, &signature)
}

/// Every hash given that this client knows must match, and at least one must be known.
fn check_hashes(bytes: &[u8], hashes: &BTreeMap<String, String>) -> Result<(), String> {
    let mut checked = 0;
    for (algorithm, want) in hashes {
        let alg = match algorithm.as_str() {
            "sha256" => &digest::SHA256,
            "sha384" => &digest::SHA384,
            "sha512" => &digest::SHA512,
            _ => continue,
        };
        let got = hex(digest::digest(alg, bytes).as_ref());
        if !got.eq_ignore_ascii_case(want) {
            return Err(format!("its {algorithm} is {got}, not the {want} expected"));
        }
        checked += 1;
    }
    if checked == 0 {
        return Err("no supported hash (sha256, sha384, sha512) to check it with".into());
    }
    Ok(())
}

fn read_cache(dir: &Path, name: &str) -> Option<Vec<u8>> {
    std::fs::read(dir.join(name)).ok()
}

/// `$XDG_CACHE_HOME`, else `$HOME/.cache`.
fn user_cache_dir() -> Option<PathBuf> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    nonempty("XDG_CACHE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| nonempty("HOME").map(|h| h.join(".cache")))
}

/// A URL as one path component, as sigstore-python names its TUF cache.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped root is Sigstore's, signed by a threshold of its own
    /// root keys (ECDSA P-256 over OLPC canonical JSON).
    #[test]
    fn the_shipped_root_verifies_itself() {
        let envelope: Envelope = parse(SIGSTORE_TUF_ROOT).unwrap();
        let root = parse_root(SIGSTORE_TUF_ROOT).unwrap();
        assert!(root.consistent_snapshot);
        let options = TufOptions {
            url: SIGSTORE_TUF_URL.into(),
            initial_root: SIGSTORE_TUF_ROOT.to_vec(),
            cache_dir: std::env::temp_dir(),
            offline: true,
        };
        let client = Client {
            options: &options,
            http: None,
            now: OffsetDateTime::now_utc(),
            root: root.clone(),
            root_bytes: SIGSTORE_TUF_ROOT.to_vec(),
            timestamp: None,
            snapshot: None,
            targets: None,
        };
        client.check_signatures(&envelope, "root", &root).unwrap();
        // One changed byte of the signed part: no signature holds.
        let mut changed = envelope.signed.clone();
        changed["version"] = Value::from(root.common.version + 1);
        let forged = Envelope {
            signed: changed,
            signatures: envelope.signatures,
        };
        assert!(client.check_signatures(&forged, "root", &root).is_err());
    }

    #[test]
    fn hashes_and_hex() {
        let mut hashes = BTreeMap::new();
        hashes.insert(
            "sha256".to_string(),
            hex(digest::digest(&digest::SHA256, b"x").as_ref()),
        );
        check_hashes(b"x", &hashes).unwrap();
        assert!(check_hashes(b"y", &hashes).is_err());
        let unknown: BTreeMap<String, String> = [("md5".to_string(), "00".to_string())].into();
        assert!(check_hashes(b"x", &unknown).is_err());
        assert_eq!(hex_decode("0aff"), Some(vec![0x0a, 0xff]));
        assert_eq!(hex_decode("0g"), None);
        assert_eq!(percent_encode("https://a.b/c"), "https%3A%2F%2Fa.b%2Fc");
    }
}
