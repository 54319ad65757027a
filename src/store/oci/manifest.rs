//! go-containerregistry's types (`v1.Descriptor`, `v1.Manifest`,
//! `v1.IndexManifest`, `v1.ConfigFile`) and the media types they carry,
//! serialized byte for byte as Go's `encoding/json` writes them, so an
//! appended `.sig`/`.att` manifest has the digest cosign would give it.

// A part of the oci backend, split out by topic: it shares the parent's imports.
use super::*;

pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub(crate) const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_MANIFEST_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// Go's zero `time.Time`, as `encoding/json` writes it.
pub(super) const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

// ---------------------------------------------------------------------------
// go-containerregistry's types, serialized as Go serializes them

/// `v1.Descriptor`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Descriptor {
    #[serde(rename = "mediaType", default, deserialize_with = "nullable")]
    pub(crate) media_type: String,
    #[serde(default)]
    pub(crate) size: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(crate) urls: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub(crate) annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) platform: Option<Platform>,
    #[serde(
        rename = "artifactType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) artifact_type: String,
}

/// `v1.Platform`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Platform {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) architecture: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) os: String,
    #[serde(
        rename = "os.version",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) os_version: String,
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) os_features: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) variant: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) features: Vec<String>,
}

/// `v1.Manifest` (with cosign's top-level `artifactType`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    #[serde(rename = "schemaVersion", default)]
    pub(crate) schema_version: i64,
    #[serde(
        rename = "mediaType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) media_type: String,
    #[serde(default)]
    pub(crate) config: Descriptor,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) layers: Vec<Descriptor>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub(crate) annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<Descriptor>,
    #[serde(
        rename = "artifactType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) artifact_type: String,
}

/// `v1.IndexManifest`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Index {
    #[serde(rename = "schemaVersion", default)]
    pub(crate) schema_version: i64,
    #[serde(
        rename = "mediaType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) media_type: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) manifests: Vec<Descriptor>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub(crate) annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<Descriptor>,
    #[serde(
        rename = "artifactType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(crate) artifact_type: String,
}

/// `v1.ConfigFile` (the execution `config` kept as JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct ConfigFile {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) architecture: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) author: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) container: String,
    /// Go's `v1.Time` is never omitted; the zero time is written.
    #[serde(default = "zero_time", deserialize_with = "go_time")]
    pub(super) created: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) docker_version: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) history: Vec<History>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) os: String,
    #[serde(default)]
    pub(super) rootfs: RootFs,
    #[serde(default = "empty_object")]
    pub(super) config: serde_json::Value,
    #[serde(
        rename = "os.version",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) os_version: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) variant: String,
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) os_features: Vec<String>,
}

impl ConfigFile {
    /// go-containerregistry's `empty.Image` config.
    pub(super) fn empty() -> ConfigFile {
        ConfigFile {
            architecture: String::new(),
            author: String::new(),
            container: String::new(),
            created: zero_time(),
            docker_version: String::new(),
            history: Vec::new(),
            os: String::new(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: Vec::new(),
            },
            config: empty_object(),
            os_version: String::new(),
            variant: String::new(),
            os_features: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct RootFs {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub(super) kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) diff_ids: Vec<String>,
}

/// `v1.History`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct History {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) author: String,
    #[serde(default = "zero_time", deserialize_with = "go_time")]
    pub(super) created: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) created_by: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub(super) comment: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) empty_layer: bool,
}

impl Default for History {
    fn default() -> Self {
        History {
            author: String::new(),
            created: zero_time(),
            created_by: String::new(),
            comment: String::new(),
            empty_layer: false,
        }
    }
}

pub(super) fn zero_time() -> String {
    ZERO_TIME.to_string()
}

pub(super) fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// A JSON `null` reads as the type's default, as Go's decoder does.
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(super) fn go_time<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(zero_time))
}

/// Go's `json.Marshal`: compact, with `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub(super) fn go_json<T: Serialize>(value: &T) -> Vec<u8> {
    let text = serde_json::to_string(value).expect("these types always serialize");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

pub(super) fn sha256_digest(data: &[u8]) -> String {
    let hash = Sha256::digest(data);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub(super) fn is_image_config(media_type: &str) -> bool {
    matches!(media_type, OCI_CONFIG | DOCKER_CONFIG)
}

/// A manifest's media type: its `mediaType`, else what its fields say.
pub(super) fn manifest_media_type(raw: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(raw) {
        Ok(Probe {
            media_type: Some(m),
            ..
        }) if !m.is_empty() => m,
        Ok(Probe {
            manifests: Some(_), ..
        }) => OCI_INDEX.to_string(),
        _ => OCI_MANIFEST.to_string(),
    }
}

pub(super) fn now_rfc3339() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(format)
        .unwrap_or_else(|_| ZERO_TIME.to_string())
}
