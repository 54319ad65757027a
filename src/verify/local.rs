//! `--local-image PATH[:REF]` (cosign's `--local-image`): an image's
//! signatures, attestations and referrer bundles read from an OCI image
//! layout on disk instead of its registry, and checked exactly as
//! `--image`'s are.
//!
//! Two ways of laying an image and what is attached to it out are read:
//!
//! - `cosign save`'s: `index.json` marks the image (or image index), its
//!   `.sig` and its `.att` manifest with cosign's `kind` annotation, and
//!   the image's OCI 1.1 referrers (Sigstore bundles) sit in the blob store
//!   unlisted;
//! - a copy by tag (`skopeo copy docker://…:TAG oci:DIR:TAG`, the same for
//!   `:sha256-<hex>.sig` and `.att`): `index.json` names each manifest with
//!   `org.opencontainers.image.ref.name`, and the attachments by cosign's
//!   tag names.
//!
//! Both may be in one layout; what either names is read. The image is the
//! one `cosign save` marked, else the one `REF` names, else the only
//! manifest listed that is not an attachment. Every blob is checked
//! against its digest before use (the layout owner,
//! [`crate::store::oci::layout`], does that).

use std::collections::BTreeSet;
use std::path::Path;

use super::evidence::Evidence;
use super::oci::{FetchError, Kind, MAX_TOTAL_BYTES, attached, referrer_bundles};
use crate::store::oci::cosign::{
    LAYOUT_KIND_ANNOTATION, LAYOUT_KIND_ATTS, LAYOUT_KIND_IMAGE, LAYOUT_KIND_IMAGE_INDEX,
    LAYOUT_KIND_SIGS, attestation_tag_of, is_attachment_tag, signature_tag_of,
};
use crate::store::oci::layout::{Layout, REF_NAME_ANNOTATION};
use crate::store::oci::manifest::{Descriptor, Manifest};

/// An image in a layout and what was found attached to it.
#[derive(Debug)]
pub struct LocalImage {
    /// `sha256:<hex>`: the digest signatures must name.
    pub digest: String,
    /// In order: `.sig` layers, `.att` layers, referrer bundles.
    pub evidence: Vec<Evidence>,
}

/// Read the image `arg` names (`DIR`, or `DIR:REF` for the manifest the
/// layout names `REF`) and everything attached to it. A layout with
/// nothing attached gives no evidence; a layout that cannot be read, or an
/// image that cannot be chosen or is missing, is an error.
pub fn read_local_image(arg: &str) -> Result<LocalImage, FetchError> {
    let fail = |m: String| FetchError::new(arg, m);
    let (dir, ref_name) = split(arg);
    let layout = Layout::open(dir).map_err(fail)?;
    let mut reader = Reader {
        layout: &layout,
        reference: arg,
        read: 0,
    };
    let (image, by_cosign) = choose_image(&mut reader, ref_name)?;
    let Some(hex) = image.digest.strip_prefix("sha256:") else {
        return Err(fail(format!(
            "the image's digest {} is not SHA-256, which cosign's signatures name",
            image.digest
        )));
    };
    // The image itself must be there, as its digest says.
    reader.blob(&image)?;
    let place = dir.display();
    let mut evidence = Vec::new();
    for (kind, cosign_kind, tag) in [
        (Kind::Sig, LAYOUT_KIND_SIGS, signature_tag_of(hex)),
        (Kind::Att, LAYOUT_KIND_ATTS, attestation_tag_of(hex)),
    ] {
        // cosign's kinds mark the attachments of the image it marked.
        let marked = layout
            .manifests()
            .iter()
            .filter(|d| by_cosign && kind_of(d) == Some(cosign_kind));
        let mut seen = BTreeSet::new();
        for d in marked.chain(layout.by_ref_name(&tag)) {
            if !seen.insert(d.digest.clone()) {
                continue;
            }
            let raw = reader.blob(d)?;
            let from = format!("{place}:{tag}");
            evidence.extend(attached(&from, &raw, kind, arg, |l| reader.blob(l))?);
        }
    }
    let referrers = layout.referrers(&image.digest).map_err(fail)?;
    for (digest, manifest) in referrers {
        let from = format!("{place}@{digest}");
        evidence.extend(referrer_bundles(&from, &manifest, &image.digest, |l| {
            reader.blob(l)
        })?);
    }
    Ok(LocalImage {
        digest: image.digest,
        evidence,
    })
}

/// `DIR` when it is a directory, else `DIR:REF` split at the last `:`.
fn split(arg: &str) -> (&Path, Option<&str>) {
    let whole = Path::new(arg);
    if whole.is_dir() {
        return (whole, None);
    }
    match arg.rsplit_once(':') {
        Some((dir, name)) if !name.is_empty() && !name.contains('/') && Path::new(dir).is_dir() => {
            (Path::new(dir), Some(name))
        }
        _ => (whole, None),
    }
}

/// cosign's `kind` of a listed manifest.
fn kind_of(d: &Descriptor) -> Option<&str> {
    d.annotations
        .get(LAYOUT_KIND_ANNOTATION)
        .map(String::as_str)
}

/// The image to verify, and whether `cosign save` marked it.
fn choose_image(
    reader: &mut Reader,
    ref_name: Option<&str>,
) -> Result<(Descriptor, bool), FetchError> {
    let layout = reader.layout;
    let names = |ds: &[&Descriptor]| {
        let mut names: Vec<&str> = ds
            .iter()
            .filter_map(|d| d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        names.join(", ")
    };
    if let Some(name) = ref_name {
        let found: Vec<&Descriptor> = layout.by_ref_name(name).collect();
        return match found.as_slice() {
            [] => Err(reader.fail(format!(
                "no manifest is named {name:?} in it (its names: {})",
                names(&layout.manifests().iter().collect::<Vec<_>>())
            ))),
            [d, rest @ ..] if rest.iter().all(|r| r.digest == d.digest) => {
                Ok(((*d).clone(), false))
            }
            _ => Err(reader.fail(format!(
                "several different manifests are named {name:?} in it"
            ))),
        };
    }
    let cosign_image = layout.manifests().iter().find(|d| {
        matches!(
            kind_of(d),
            Some(LAYOUT_KIND_IMAGE | LAYOUT_KIND_IMAGE_INDEX)
        )
    });
    if let Some(d) = cosign_image {
        return Ok((d.clone(), true));
    }
    let mut images: Vec<&Descriptor> = Vec::new();
    for d in layout.manifests() {
        let attachment = matches!(kind_of(d), Some(LAYOUT_KIND_SIGS | LAYOUT_KIND_ATTS))
            || d.annotations
                .get(REF_NAME_ANNOTATION)
                .is_some_and(|r| is_attachment_tag(r.rsplit(':').next().unwrap_or(r)));
        if attachment || images.iter().any(|i| i.digest == d.digest) {
            continue;
        }
        // A referrer copied in by digest is about an image, not one.
        let raw = reader.blob(d)?;
        let referrer = serde_json::from_slice::<Manifest>(&raw).is_ok_and(|m| m.subject.is_some());
        if !referrer {
            images.push(d);
        }
    }
    match images.as_slice() {
        [d] => Ok(((*d).clone(), false)),
        [] => Err(reader.fail(
            "its index.json lists no image, only signatures, attestations or referrers".into(),
        )),
        _ => Err(reader.fail(format!(
            "it holds {} images ({}): name one as {}:REF",
            images.len(),
            names(&images),
            reader.reference
        ))),
    }
}

/// One image's reading, with its byte budget (as from a registry).
struct Reader<'a> {
    layout: &'a Layout,
    reference: &'a str,
    read: u64,
}

impl Reader<'_> {
    fn fail(&self, message: String) -> FetchError {
        FetchError::new(self.reference, message)
    }

    fn blob(&mut self, d: &Descriptor) -> Result<Vec<u8>, FetchError> {
        let blob = self.layout.blob(d).map_err(|m| self.fail(m))?;
        self.read += blob.len() as u64;
        if self.read > MAX_TOTAL_BYTES {
            return Err(self.fail(format!(
                "its signatures, attestations and bundles hold more than {} MiB, more than is read for one image",
                MAX_TOTAL_BYTES / (1024 * 1024)
            )));
        }
        Ok(blob)
    }
}
