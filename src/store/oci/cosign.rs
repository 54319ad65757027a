//! cosign's layout in a registry, owned here for `store` and `verify`
//! alike: the `sha256-<hex>.sig` / `.att` tags, the media types of their
//! layers, the annotation names cosign writes and reads, and the writes on
//! top of the registry client (appending a layer as `mutate.Append` does,
//! writing a bundle referrer with go-containerregistry's referrers-tag
//! fallback).

// A part of the oci backend, split out by topic: it shares the parent's imports.
use super::*;

/// The layer media type of an image signature (the simple-signing payload).
pub(crate) const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer media type of an attestation (a DSSE envelope).
pub(crate) const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// cosign's `CosignSignPredicateType`: marks signature bundles among referrers.
pub(crate) const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// A signature layer's base64 signature.
pub(crate) const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The signing certificate (PEM), when keyless.
pub(crate) const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The certificate's chain (PEM).
pub(crate) const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// cosign's Rekor bundle (the log entry with its signed timestamp).
pub(crate) const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// An attestation layer's statement predicate type.
pub(crate) const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// A bundle referrer's content and predicate type.
pub(crate) const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
pub(crate) const BUNDLE_PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
pub(crate) const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// `cosign save`'s OCI layout (its `pkg/oci/layout`): `index.json` lists
/// the image (or image index), its `.sig` manifest and its `.att` manifest,
/// each marked by this annotation with one of the kinds below.
pub(crate) const LAYOUT_KIND_ANNOTATION: &str = "kind";
pub(crate) const LAYOUT_KIND_IMAGE: &str = "dev.cosignproject.cosign/image";
pub(crate) const LAYOUT_KIND_IMAGE_INDEX: &str = "dev.cosignproject.cosign/imageIndex";
pub(crate) const LAYOUT_KIND_SIGS: &str = "dev.cosignproject.cosign/sigs";
pub(crate) const LAYOUT_KIND_ATTS: &str = "dev.cosignproject.cosign/atts";

/// Whether `tag` is one cosign or the referrers fallback gives an
/// attachment of an image (`sha256-<hex>`, `sha256-<hex>.sig`, `.att`,
/// `.sbom`), not an image of its own.
pub(crate) fn is_attachment_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let hex = rest.split_once('.').map_or(rest, |(h, _)| h);
    let suffix = &rest[hex.len()..];
    hex.len() == 64
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(suffix, "" | ".sig" | ".att" | ".sbom")
}

/// The tag holding an image's signatures: `sha256-<hex>.sig`.
pub(crate) fn signature_tag(image: &ImageDigest) -> String {
    signature_tag_of(image.hex())
}

/// The tag holding an image's attestations: `sha256-<hex>.att`.
pub(crate) fn attestation_tag(image: &ImageDigest) -> String {
    attestation_tag_of(image.hex())
}

/// [`signature_tag`] of the image whose SHA-256 is `hex`.
pub(crate) fn signature_tag_of(hex: &str) -> String {
    format!("sha256-{hex}.sig")
}

/// [`attestation_tag`] of the image whose SHA-256 is `hex`.
pub(crate) fn attestation_tag_of(hex: &str) -> String {
    format!("sha256-{hex}.att")
}

// ---------------------------------------------------------------------------
// What gets written

/// A layer to append to a `.sig`/`.att` manifest.
pub(super) struct NewLayer {
    pub(super) media_type: &'static str,
    pub(super) blob: Vec<u8>,
    pub(super) annotations: BTreeMap<String, String>,
}

/// A referrer to write: the bundle, for the image `repo@digest`.
pub(super) struct ReferrerWrite {
    pub(super) repo: Repo,
    pub(super) digest: String,
    pub(super) bundle: Vec<u8>,
    pub(super) predicate_type: String,
}

/// cosign's `static` options: certificate and chain (both, when there is a
/// certificate) and the Rekor bundle.
pub(super) fn cosign_annotations(a: &SignedArtifact) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(cert) = &a.certificate {
        out.insert(CERTIFICATE_ANNOTATION.into(), cert.certificate_pem.clone());
        out.insert(CHAIN_ANNOTATION.into(), cert.chain_pem.clone());
    }
    if let Some(entry) = &a.tlog {
        out.insert(BUNDLE_ANNOTATION.into(), entry.cosign_bundle_json());
    }
    out
}

/// The statement's `predicateType` (empty when there is none).
pub(super) fn predicate_type(statement: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(statement)
        .ok()
        .and_then(|v| v.get("predicateType")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Writes on top of the registry client

impl Inner {
    /// Append a layer to the manifest at `tag` (mutate.Append + remote.Write).
    pub(super) async fn append(
        &self,
        tag: &Tag,
        layer: &NewLayer,
        ctx: &Ctx,
    ) -> Result<(), StoreError> {
        let client = self.client(self.transport(&tag.repo.registry).await);
        client
            .store_auth_if_needed(&tag.repo.registry, &ctx.auth)
            .await;
        let reference = tag.repo.reference(&tag.tag);
        let layer_digest = sha256_digest(&layer.blob);

        let existing = self
            .pull_manifest(client, &reference, &[OCI_MANIFEST, DOCKER_MANIFEST], ctx)
            .await?;
        let (mut manifest, mut config) = match existing {
            Some(raw) => {
                let manifest: Manifest = serde_json::from_slice(&raw).map_err(|e| {
                    ctx.permanent(format!(
                        "the manifest already at {tag} is not an image manifest: {e}"
                    ))
                })?;
                let duplicate = manifest
                    .layers
                    .iter()
                    .any(|l| l.digest == layer_digest && l.annotations == layer.annotations);
                if duplicate {
                    return Ok(());
                }
                let config = if is_image_config(&manifest.config.media_type) {
                    let raw = self
                        .pull_blob(client, &reference, &manifest.config.digest, ctx)
                        .await?;
                    Some(serde_json::from_slice::<ConfigFile>(&raw).map_err(|e| {
                        ctx.permanent(format!(
                            "the config of the manifest at {tag} is not an image config: {e}"
                        ))
                    })?)
                } else {
                    None
                };
                (manifest, config)
            }
            None => (
                Manifest {
                    schema_version: 2,
                    media_type: OCI_MANIFEST.into(),
                    config: Descriptor {
                        media_type: OCI_CONFIG.into(),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                Some(ConfigFile::empty()),
            ),
        };

        manifest.layers.push(Descriptor {
            media_type: layer.media_type.into(),
            size: layer.blob.len() as i64,
            digest: layer_digest.clone(),
            annotations: layer.annotations.clone(),
            ..Default::default()
        });
        self.push_blob(client, &reference, &layer.blob, &layer_digest, ctx)
            .await?;
        if let Some(config) = config.as_mut() {
            config.rootfs.diff_ids.push(layer_digest);
            config.history.push(History::default());
            let raw = go_json(config);
            manifest.config.digest = sha256_digest(&raw);
            manifest.config.size = raw.len() as i64;
            if manifest.config.data.is_some() {
                manifest.config.data = Some(STANDARD.encode(&raw));
            }
            self.push_blob(client, &reference, &raw, &manifest.config.digest, ctx)
                .await?;
        }
        let media_type = if manifest.media_type.is_empty() {
            OCI_MANIFEST.to_string()
        } else {
            manifest.media_type.clone()
        };
        self.push_manifest(client, &reference, go_json(&manifest), &media_type, ctx)
            .await
    }

    /// Write a bundle referrer of `w.repo@w.digest` (cosign's
    /// `WriteAttestationNewBundleFormat`), and the referrers tag when the
    /// registry has no referrers API (go-containerregistry's fallback).
    pub(super) async fn referrer(&self, w: &ReferrerWrite, ctx: &Ctx) -> Result<(), StoreError> {
        let transport = self.transport(&w.repo.registry).await;
        let client = self.client(transport);
        client
            .store_auth_if_needed(&w.repo.registry, &ctx.auth)
            .await;
        let subject = self.subject_descriptor(client, w, ctx).await?;

        // Existing referrers: the API when the registry has one, else the tag.
        let native = self
            .referrers_api(transport, &w.repo, &w.digest, ctx)
            .await?;
        let fallback_index = match &native {
            Some(_) => None,
            None => self.read_referrers_tag(client, w, ctx).await?,
        };
        let bundle_digest = sha256_digest(&w.bundle);
        let listed = native.as_ref().or(fallback_index.as_ref());
        if self
            .lists_bundle(client, w, listed, &bundle_digest, ctx)
            .await
        {
            return Ok(());
        }

        let (manifest_digest, size) = self
            .push_bundle_manifest(client, w, subject, &bundle_digest, ctx)
            .await?;
        if native.is_some() {
            // The registry maintains its referrers list itself.
            return Ok(());
        }
        self.add_to_referrers_tag(client, w, fallback_index, manifest_digest, size, ctx)
            .await
    }

    /// The image the referrer refers to, as a descriptor; it must exist.
    async fn subject_descriptor(
        &self,
        client: &Client,
        w: &ReferrerWrite,
        ctx: &Ctx,
    ) -> Result<Descriptor, StoreError> {
        let all = [
            OCI_MANIFEST,
            DOCKER_MANIFEST,
            OCI_INDEX,
            DOCKER_MANIFEST_LIST,
        ];
        let subject_ref = w.repo.reference(&w.digest);
        let Some(subject_raw) = self.pull_manifest(client, &subject_ref, &all, ctx).await? else {
            return Err(ctx.permanent(format!(
                "the image {}@{} is not in the registry, and a referrer needs its subject",
                w.repo, w.digest
            )));
        };
        Ok(Descriptor {
            media_type: manifest_media_type(&subject_raw),
            size: subject_raw.len() as i64,
            digest: w.digest.clone(),
            ..Default::default()
        })
    }

    /// The referrers tag's index (`sha256-<hex>`), when there is one; it
    /// must be an OCI image index.
    async fn read_referrers_tag(
        &self,
        client: &Client,
        w: &ReferrerWrite,
        ctx: &Ctx,
    ) -> Result<Option<Index>, StoreError> {
        let fallback_ref = w.repo.reference(&w.digest.replace(':', "-"));
        let Some(raw) = self
            .pull_manifest(client, &fallback_ref, &[OCI_INDEX], ctx)
            .await?
        else {
            return Ok(None);
        };
        let index: Index = serde_json::from_slice(&raw).map_err(|e| {
            ctx.permanent(format!(
                "the referrers tag {} is not an index: {e}",
                fallback_tag_name(w)
            ))
        })?;
        if index.schema_version != 2 || index.media_type != OCI_INDEX {
            return Err(ctx.permanent(format!(
                "the referrers tag {} holds something other than an OCI image index",
                fallback_tag_name(w)
            )));
        }
        Ok(Some(index))
    }

    /// Whether a listed referrer already holds this bundle (then nothing is written).
    async fn lists_bundle(
        &self,
        client: &Client,
        w: &ReferrerWrite,
        listed: Option<&Index>,
        bundle_digest: &str,
        ctx: &Ctx,
    ) -> bool {
        for desc in listed.map(|i| i.manifests.as_slice()).unwrap_or_default() {
            let r = w.repo.reference(&desc.digest);
            if let Ok(Some(raw)) = self.pull_manifest(client, &r, &[OCI_MANIFEST], ctx).await
                && let Ok(m) = serde_json::from_slice::<Manifest>(&raw)
                && m.layers.iter().any(|l| l.digest == bundle_digest)
            {
                return true;
            }
        }
        false
    }

    /// Push the empty config, the bundle and the referrer manifest (by
    /// digest); its digest and size.
    async fn push_bundle_manifest(
        &self,
        client: &Client,
        w: &ReferrerWrite,
        subject: Descriptor,
        bundle_digest: &str,
        ctx: &Ctx,
    ) -> Result<(String, i64), StoreError> {
        let subject_ref = w.repo.reference(&w.digest);
        let empty_config = b"{}";
        let config = Descriptor {
            media_type: OCI_EMPTY.into(),
            size: empty_config.len() as i64,
            digest: sha256_digest(empty_config),
            artifact_type: BUNDLE_V03.into(),
            ..Default::default()
        };
        self.push_blob(client, &subject_ref, empty_config, &config.digest, ctx)
            .await?;
        self.push_blob(client, &subject_ref, &w.bundle, bundle_digest, ctx)
            .await?;
        let raw = go_json(&bundle_manifest(w, subject, config, bundle_digest));
        let manifest_digest = sha256_digest(&raw);
        let size = raw.len() as i64;
        let by_digest = w.repo.reference(&manifest_digest);
        self.push_manifest(client, &by_digest, raw, OCI_MANIFEST, ctx)
            .await?;
        Ok((manifest_digest, size))
    }

    /// go-containerregistry's fallback: the referrer listed in the
    /// referrers tag's index (sorted by digest), unless already there.
    async fn add_to_referrers_tag(
        &self,
        client: &Client,
        w: &ReferrerWrite,
        existing: Option<Index>,
        manifest_digest: String,
        size: i64,
        ctx: &Ctx,
    ) -> Result<(), StoreError> {
        let mut index = existing.unwrap_or_else(|| Index {
            schema_version: 2,
            media_type: OCI_INDEX.into(),
            ..Default::default()
        });
        if index.manifests.iter().any(|d| d.digest == manifest_digest) {
            return Ok(());
        }
        index.manifests.push(Descriptor {
            media_type: OCI_MANIFEST.into(),
            size,
            digest: manifest_digest,
            artifact_type: BUNDLE_V03.into(),
            ..Default::default()
        });
        index.manifests.sort_by(|a, b| a.digest.cmp(&b.digest));
        let fallback_ref = w.repo.reference(&w.digest.replace(':', "-"));
        self.push_manifest(client, &fallback_ref, go_json(&index), OCI_INDEX, ctx)
            .await
    }
}

/// The referrer manifest of a bundle: cosign's annotations, the bundle as
/// its one layer, the image as its subject.
fn bundle_manifest(
    w: &ReferrerWrite,
    subject: Descriptor,
    config: Descriptor,
    bundle_digest: &str,
) -> Manifest {
    Manifest {
        schema_version: 2,
        media_type: OCI_MANIFEST.into(),
        config,
        layers: vec![Descriptor {
            media_type: BUNDLE_V03.into(),
            size: w.bundle.len() as i64,
            digest: bundle_digest.to_string(),
            ..Default::default()
        }],
        annotations: BTreeMap::from([
            (
                BUNDLE_CONTENT_ANNOTATION.to_string(),
                "dsse-envelope".to_string(),
            ),
            (
                BUNDLE_PREDICATE_ANNOTATION.to_string(),
                w.predicate_type.clone(),
            ),
            (CREATED_ANNOTATION.to_string(), now_rfc3339()),
        ]),
        subject: Some(subject),
        artifact_type: BUNDLE_V03.into(),
    }
}

pub(super) fn fallback_tag_name(w: &ReferrerWrite) -> String {
    format!("{}:{}", w.repo, w.digest.replace(':', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_tags_are_told_from_image_tags() {
        let hex = "ab".repeat(32);
        for tag in ["", ".sig", ".att", ".sbom"] {
            assert!(is_attachment_tag(&format!("sha256-{hex}{tag}")), "{tag}");
        }
        assert!(!is_attachment_tag(&format!("sha256-{hex}.other")));
        assert!(!is_attachment_tag("sha256-abc.sig"));
        assert!(!is_attachment_tag("1.4.2"));
        assert!(!is_attachment_tag("v1.sig"));
    }
}
