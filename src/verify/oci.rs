//! Reading an image's signatures and attestations back from its registry:
//! everything cosign, Tekton Chains and `chains attest` attach to an image.
//!
//! - `<repo>:sha256-<hex>.sig`: one layer per signature, the layer being the
//!   simple-signing payload and `dev.cosignproject.cosign/signature` its
//!   base64 signature;
//! - `<repo>:sha256-<hex>.att`: one layer per attestation, a DSSE envelope;
//! - Sigstore bundles stored as OCI 1.1 referrers, listed by the referrers
//!   API or, when the registry has none, by the referrers tag `sha256-<hex>`.
//!
//! `.sig`/`.att` layers may carry the signing certificate and chain
//! (`dev.sigstore.cosign/certificate`, `/chain`) and cosign's Rekor bundle
//! (`dev.sigstore.cosign/bundle`). Nothing is judged here: whatever cannot
//! be taken apart becomes [`Signed::Unusable`] with the reason, and the
//! checks decide.
//!
//! Registry access (transport, credentials from docker's `config.json`,
//! retries, error messages) is the `oci` storage backend's, so reading
//! behaves as writing did; `storage.oci.repository` sends the `.sig`/`.att`
//! lookups to that repository, as cosign's `COSIGN_REPOSITORY` does.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::bundle;
use super::evidence::{Evidence, Signed, certificate_chain};
use crate::run::reference::ImageDigest;
use crate::sign::dsse::Envelope;
use crate::store::StoreError;
use crate::store::oci::cosign::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING, attestation_tag, signature_tag,
};
use crate::store::oci::manifest::{Descriptor, Index, Manifest};
use crate::store::oci::registry::Repo;
use crate::store::oci::{OciBackend, OciOptions};
use crate::tlog::LogEntry;

/// Layers read from one `.sig` or `.att` manifest. cosign appends a layer per
/// signature, so real images carry a handful.
pub const MAX_LAYERS: usize = 64;
/// Referrers examined per image.
pub const MAX_REFERRERS: usize = 64;
/// Bytes read for one image in all (each blob is also capped at
/// [`crate::store::oci::MAX_READ_BYTES`]).
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

/// An image and what was found attached to it.
#[derive(Clone, Debug)]
pub struct ImageEvidence {
    /// The image, by digest (a tag is resolved once, at the start).
    pub image: ImageDigest,
    /// In order: `.sig` layers, `.att` layers, referrer bundles.
    pub evidence: Vec<Evidence>,
}

/// Why an image's signatures could not be read: the reference as given, and
/// what went wrong (never credentials).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot read {reference}: {message}")]
#[diagnostic(code(chains::verify::fetch))]
pub struct FetchError {
    /// The image reference or `gs://` URL.
    pub reference: String,
    pub message: String,
}

impl FetchError {
    pub fn new(reference: impl Into<String>, message: impl Into<String>) -> FetchError {
        FetchError {
            reference: reference.into(),
            message: message.into(),
        }
    }

    /// A storage client's error, without its backend prefix.
    pub(crate) fn store(reference: &str, e: StoreError) -> FetchError {
        FetchError::new(reference, e.message)
    }
}

/// Resolve `reference` (tag or digest) and read everything attached to it,
/// with credentials from `$DOCKER_CONFIG/config.json` (else
/// `~/.docker/config.json`). A missing `.sig`, `.att` or referrers list is
/// no evidence, not an error; a missing image, an unreachable registry or
/// refused credentials are errors.
pub fn fetch_image(reference: &str, opts: &OciOptions) -> Result<ImageEvidence, FetchError> {
    let backend = OciBackend::new(opts.clone()).map_err(|e| FetchError::store(reference, e))?;
    fetch_image_with(reference, &backend)
}

/// [`fetch_image`] through a given registry client (its docker config and
/// options).
pub fn fetch_image_with(
    reference: &str,
    backend: &OciBackend,
) -> Result<ImageEvidence, FetchError> {
    let (repo, tag_or_digest) =
        parse_reference(reference).map_err(|m| FetchError::new(reference, m))?;
    let mut reader = Reader {
        backend,
        reference,
        read: 0,
    };
    let image = reader.resolve(&repo, &tag_or_digest)?;
    let sig_repo = backend.signature_repo(&repo);
    let mut evidence = Vec::new();
    evidence.extend(reader.tagged(&sig_repo, &signature_tag(&image), Kind::Sig)?);
    evidence.extend(reader.tagged(&sig_repo, &attestation_tag(&image), Kind::Att)?);
    evidence.extend(reader.referrers(&repo, image.digest())?);
    Ok(ImageEvidence { image, evidence })
}

/// `registry/repository[:tag]` or `...@sha256:<hex>`, named as
/// go-containerregistry names them (Docker Hub defaults, `latest`).
fn parse_reference(reference: &str) -> Result<(Repo, String), String> {
    let bad = |e: crate::run::reference::RefError| {
        format!("not an image reference (registry/repository[:tag] or @sha256:<hex>): {e}")
    };
    if reference.contains('@') {
        let image = ImageDigest::parse(reference).map_err(bad)?;
        return Ok((Repo::of(&image), image.digest().to_string()));
    }
    // A tag follows the last ':' unless a '/' comes after it (a port).
    let (name, tag) = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "latest"),
    };
    let valid_tag = tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid_tag {
        return Err(format!("{tag:?} is not a valid tag"));
    }
    // The repository is parsed as part of a digest reference, which it is
    // about to become.
    let zeros = "0".repeat(64);
    let image = ImageDigest::parse(&format!("{name}@sha256:{zeros}")).map_err(bad)?;
    Ok((Repo::of(&image), tag.to_string()))
}

#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// `.sig`: simple-signing payloads with raw signatures.
    Sig,
    /// `.att`: DSSE envelopes.
    Att,
}

/// One image's reading, with its byte budget.
struct Reader<'a> {
    backend: &'a OciBackend,
    reference: &'a str,
    /// Blob bytes read so far.
    read: u64,
}

impl Reader<'_> {
    fn fail(&self, e: StoreError) -> FetchError {
        FetchError::store(self.reference, e)
    }

    /// The image's digest; its absence is an error.
    fn resolve(&self, repo: &Repo, tag_or_digest: &str) -> Result<ImageDigest, FetchError> {
        let manifest = self
            .backend
            .read_manifest(repo, tag_or_digest)
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| {
                FetchError::new(
                    self.reference,
                    format!("no such image in registry {}", repo.registry),
                )
            })?;
        ImageDigest::parse(&format!("{repo}@{}", manifest.digest)).map_err(|e| {
            FetchError::new(
                self.reference,
                format!("the registry gave a digest that is not sha256: {e}"),
            )
        })
    }

    /// A blob, counted against the image's budget.
    fn blob(&mut self, repo: &Repo, descriptor: &Descriptor) -> Result<Vec<u8>, FetchError> {
        let blob = self
            .backend
            .read_blob(repo, descriptor)
            .map_err(|e| self.fail(e))?;
        self.read += blob.len() as u64;
        if self.read > MAX_TOTAL_BYTES {
            return Err(FetchError::new(
                self.reference,
                format!(
                    "its signatures, attestations and bundles hold more than {} MiB, more than is read for one image",
                    MAX_TOTAL_BYTES / (1024 * 1024)
                ),
            ));
        }
        Ok(blob)
    }

    /// The layers of a `.sig` or `.att` manifest, one evidence each.
    fn tagged(&mut self, repo: &Repo, tag: &str, kind: Kind) -> Result<Vec<Evidence>, FetchError> {
        let place = format!("{repo}:{tag}");
        let Some(read) = self
            .backend
            .read_manifest(repo, tag)
            .map_err(|e| self.fail(e))?
        else {
            return Ok(Vec::new());
        };
        let reference = self.reference;
        attached(&place, &read.raw, kind, reference, |d| self.blob(repo, d))
    }

    /// Sigstore bundles among the image's referrers.
    fn referrers(&mut self, repo: &Repo, digest: &str) -> Result<Vec<Evidence>, FetchError> {
        let candidates: Vec<Descriptor> = self
            .listed_referrers(repo, digest)?
            .into_iter()
            // Registries may leave artifactType out of the listing; those
            // are looked at too.
            .filter(|d| d.artifact_type.is_empty() || is_bundle_type(&d.artifact_type))
            .collect();
        if candidates.len() > MAX_REFERRERS {
            return Err(FetchError::new(
                self.reference,
                format!(
                    "{repo}@{digest} has {} referrers that may be bundles, more than the {MAX_REFERRERS} read",
                    candidates.len()
                ),
            ));
        }
        let mut out = Vec::new();
        for descriptor in candidates {
            out.extend(self.referrer(repo, digest, &descriptor.digest)?);
        }
        Ok(out)
    }

    /// The referrers API's listing, else the referrers tag's index, else none.
    fn listed_referrers(&self, repo: &Repo, digest: &str) -> Result<Vec<Descriptor>, FetchError> {
        if let Some(index) = self
            .backend
            .read_referrers(repo, digest)
            .map_err(|e| self.fail(e))?
        {
            return Ok(index.manifests);
        }
        let tag = digest.replace(':', "-");
        let read = self
            .backend
            .read_manifest(repo, &tag)
            .map_err(|e| self.fail(e))?;
        // A tag of that name holding something else is not a referrers list.
        Ok(read
            .and_then(|r| serde_json::from_slice::<Index>(&r.raw).ok())
            .map(|i| i.manifests)
            .unwrap_or_default())
    }

    /// The bundles in one referrer manifest (none when it is not a bundle
    /// referrer of this image).
    fn referrer(
        &mut self,
        repo: &Repo,
        subject: &str,
        digest: &str,
    ) -> Result<Vec<Evidence>, FetchError> {
        let place = format!("{repo}@{digest}");
        let Some(read) = self
            .backend
            .read_manifest(repo, digest)
            .map_err(|e| self.fail(e))?
        else {
            // Listed but gone (deleted since): nothing to read.
            return Ok(Vec::new());
        };
        let Ok(manifest) = serde_json::from_slice::<Manifest>(&read.raw) else {
            return Ok(Vec::new());
        };
        referrer_bundles(&place, &manifest, subject, |d| self.blob(repo, d))
    }
}

/// The layers of a `.sig` or `.att` manifest (`raw`, read from `place`),
/// one evidence each, whatever the image came from; `blob` reads a layer.
pub(super) fn attached(
    place: &str,
    raw: &[u8],
    kind: Kind,
    reference: &str,
    mut blob: impl FnMut(&Descriptor) -> Result<Vec<u8>, FetchError>,
) -> Result<Vec<Evidence>, FetchError> {
    let manifest = match serde_json::from_slice::<Manifest>(raw) {
        Ok(m) => m,
        Err(e) => {
            let why = format!("not an image manifest: {e}");
            return Ok(vec![Evidence::new(place, Signed::Unusable(why))]);
        }
    };
    if manifest.layers.len() > MAX_LAYERS {
        return Err(FetchError::new(
            reference,
            format!(
                "{place} has {} layers, more than the {MAX_LAYERS} read",
                manifest.layers.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(manifest.layers.len());
    for (i, layer) in manifest.layers.iter().enumerate() {
        let origin = format!("{place} layer {}", i + 1);
        let blob = blob(layer)?;
        let evidence = match kind {
            Kind::Sig => signature_layer(origin, blob, &layer.annotations),
            Kind::Att => attestation_layer(origin, &blob, &layer.annotations),
        };
        out.push(evidence);
    }
    Ok(out)
}

/// The bundles in one referrer manifest (read from `place`); none when it
/// is not a bundle referrer of the image `subject`.
pub(super) fn referrer_bundles(
    place: &str,
    manifest: &Manifest,
    subject: &str,
    mut blob: impl FnMut(&Descriptor) -> Result<Vec<u8>, FetchError>,
) -> Result<Vec<Evidence>, FetchError> {
    let artifact_type = if manifest.artifact_type.is_empty() {
        &manifest.config.media_type
    } else {
        &manifest.artifact_type
    };
    // A stale referrers tag may list another image's referrers.
    let about_this_image = manifest
        .subject
        .as_ref()
        .is_some_and(|s| s.digest == subject);
    if !is_bundle_type(artifact_type) || !about_this_image {
        return Ok(Vec::new());
    }
    let layers: Vec<&Descriptor> = manifest
        .layers
        .iter()
        .filter(|l| is_bundle_type(&l.media_type))
        .take(MAX_LAYERS)
        .collect();
    let mut out = Vec::with_capacity(layers.len());
    for layer in layers {
        let origin = format!("{place} (referrer bundle)");
        let blob = blob(layer)?;
        out.push(match bundle::parse(&blob, &origin) {
            Ok(evidence) => chains_signature_bundle(evidence),
            Err(why) => Evidence::new(origin, Signed::Unusable(why)),
        });
    }
    Ok(out)
}

fn is_bundle_type(media_type: &str) -> bool {
    crate::sigstore::bundle::Version::from_media_type(media_type).is_some()
}

/// A `.sig` layer: the payload, its base64 signature annotation.
fn signature_layer(
    origin: String,
    payload: Vec<u8>,
    annotations: &BTreeMap<String, String>,
) -> Evidence {
    let signed = match annotations.get(SIGNATURE_ANNOTATION) {
        None => Signed::Unusable(format!(
            "the layer has no {SIGNATURE_ANNOTATION} annotation"
        )),
        Some(text) => match STANDARD.decode(text.trim()) {
            Ok(signature) if signature.is_empty() => {
                Signed::Unusable(format!("the {SIGNATURE_ANNOTATION} annotation is empty"))
            }
            Ok(signature) => Signed::Message { payload, signature },
            Err(e) => Signed::Unusable(format!(
                "the {SIGNATURE_ANNOTATION} annotation is not base64: {e}"
            )),
        },
    };
    with_cosign_annotations(Evidence::new(origin, signed), annotations)
}

/// An `.att` layer: a DSSE envelope.
fn attestation_layer(
    origin: String,
    blob: &[u8],
    annotations: &BTreeMap<String, String>,
) -> Evidence {
    let signed = match crate::strict_json::from_slice::<Envelope>(blob) {
        Ok(envelope) => Signed::Envelope(envelope),
        Err(e) => Signed::Unusable(format!("the layer is not a DSSE envelope: {e}")),
    };
    with_cosign_annotations(Evidence::new(origin, signed), annotations)
}

/// The certificate, chain and Rekor bundle cosign annotates a layer with.
/// A Rekor bundle that cannot be read makes the layer unusable, as it makes
/// `cosign verify` fail: dropping it would hide a broken log entry.
fn with_cosign_annotations(mut e: Evidence, annotations: &BTreeMap<String, String>) -> Evidence {
    let text = |key: &str| annotations.get(key).map(|v| v.clone().into_bytes());
    e.certificate = certificate_chain(text(CERTIFICATE_ANNOTATION), text(CHAIN_ANNOTATION));
    if let Some(json) = annotations.get(BUNDLE_ANNOTATION) {
        match rekor_bundle(json) {
            Ok(entry) => e.tlog.push(entry),
            Err(why) => e.signed = Signed::Unusable(why),
        }
    }
    e
}

/// cosign's `bundle.RekorBundle`.
#[derive(Deserialize)]
struct RekorBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: RekorPayload,
}

#[derive(Deserialize)]
struct RekorPayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// The log entry in a `dev.sigstore.cosign/bundle` annotation. It carries
/// no UUID and no inclusion proof, only the SET.
fn rekor_bundle(json: &str) -> Result<LogEntry, String> {
    let b: RekorBundle = crate::strict_json::from_slice(json.as_bytes()).map_err(|e| {
        format!("the {BUNDLE_ANNOTATION} annotation is not cosign's Rekor bundle: {e}")
    })?;
    Ok(LogEntry {
        uuid: String::new(),
        log_index: b.payload.log_index,
        integrated_time: b.payload.integrated_time,
        log_id: b.payload.log_id,
        body: b.payload.body,
        signed_entry_timestamp: b.signed_entry_timestamp,
        inclusion_proof: None,
    })
}

/// Chains stores an image signature as a bundle whose "DSSE envelope" holds
/// the simple-signing payload and the raw signature over that payload (its
/// `makeSigBundleBytes`), not a signature over DSSE's PAE: it is a message
/// signature and is checked as one.
fn chains_signature_bundle(mut e: Evidence) -> Evidence {
    let Signed::Envelope(envelope) = &e.signed else {
        return e;
    };
    if envelope.payload_type != SIMPLE_SIGNING || envelope.signatures.len() != 1 {
        return e;
    }
    if let (Ok(payload), Ok(signature)) = (
        envelope.payload_bytes(),
        STANDARD.decode(&envelope.signatures[0].sig),
    ) {
        e.signed = Signed::Message { payload, signature };
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_go_containerregistry() {
        let (repo, tag) = parse_reference("127.0.0.1:5000/team/app").unwrap();
        assert_eq!(
            (repo.to_string(), tag.as_str()),
            ("127.0.0.1:5000/team/app".into(), "latest")
        );
        let (repo, tag) = parse_reference("busybox:1.36").unwrap();
        assert_eq!(
            (repo.to_string(), tag.as_str()),
            ("index.docker.io/library/busybox".into(), "1.36")
        );
        let digest = format!("sha256:{}", "ab".repeat(32));
        let (repo, d) = parse_reference(&format!("ghcr.io/o/r:v1@{digest}")).unwrap();
        assert_eq!((repo.to_string(), d), ("ghcr.io/o/r".into(), digest));
        assert!(parse_reference("ghcr.io/o/r:-bad").is_err());
        assert!(parse_reference("ghcr.io/o/r@sha256:12").is_err());
        assert!(parse_reference("UPPER/case").is_err());
    }

    #[test]
    fn layers_are_taken_apart() {
        let entry = LogEntry {
            uuid: String::new(),
            log_index: 7,
            integrated_time: 1_700_000_000,
            log_id: "ab".into(),
            body: "Ym9keQ==".into(),
            signed_entry_timestamp: "c2V0".into(),
            inclusion_proof: None,
        };
        let annotations = BTreeMap::from([
            (SIGNATURE_ANNOTATION.to_string(), STANDARD.encode([1, 2, 3])),
            (BUNDLE_ANNOTATION.to_string(), entry.cosign_bundle_json()),
            (CERTIFICATE_ANNOTATION.to_string(), String::new()),
        ]);
        let e = signature_layer("o".into(), b"payload".to_vec(), &annotations);
        assert!(
            matches!(&e.signed, Signed::Message { payload, signature } if payload == b"payload" && signature == &[1, 2, 3])
        );
        assert_eq!(e.tlog, vec![entry]);
        assert!(e.certificate.is_none(), "an empty certificate is none");

        let bad = BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), "%%".to_string())]);
        let e = signature_layer("o".into(), Vec::new(), &bad);
        assert!(matches!(&e.signed, Signed::Unusable(m) if m.contains("not base64")));
        let e = signature_layer("o".into(), Vec::new(), &BTreeMap::new());
        assert!(matches!(&e.signed, Signed::Unusable(m) if m.contains("no dev.cosignproject")));

        let broken = BTreeMap::from([(BUNDLE_ANNOTATION.to_string(), "{".to_string())]);
        let e = attestation_layer(
            "o".into(),
            br#"{"payload":"","payloadType":"t","signatures":[]}"#,
            &broken,
        );
        assert!(matches!(&e.signed, Signed::Unusable(m) if m.contains("Rekor bundle")));
        let e = attestation_layer("o".into(), b"not json", &BTreeMap::new());
        assert!(matches!(&e.signed, Signed::Unusable(m) if m.contains("not a DSSE envelope")));
    }

    #[test]
    fn chains_signature_bundles_are_message_signatures() {
        let envelope = Envelope {
            payload_type: SIMPLE_SIGNING.into(),
            payload: STANDARD.encode(b"{}"),
            signatures: vec![crate::sign::dsse::EnvelopeSignature {
                keyid: String::new(),
                sig: STANDARD.encode([9, 9]),
            }],
        };
        let e = chains_signature_bundle(Evidence::new("o", Signed::Envelope(envelope.clone())));
        assert!(
            matches!(&e.signed, Signed::Message { payload, signature } if payload == b"{}" && signature == &[9, 9])
        );
        let statement = Envelope {
            payload_type: "application/vnd.in-toto+json".into(),
            ..envelope
        };
        let e = chains_signature_bundle(Evidence::new("o", Signed::Envelope(statement)));
        assert!(matches!(e.signed, Signed::Envelope(_)));
    }
}
