//! Trust material and the checks that use it: Sigstore's `TrustedRoot`
//! (Fulcio CAs, transparency logs, CT logs, timestamp authorities, each with
//! its validity window), read from a file or from Sigstore's TUF repository,
//! and the verifications that consult it.
//!
//! Everything `chains verify` trusts is resolved once into a [`TrustedRoot`]:
//! `--trusted-root FILE` reads one as Sigstore ships it, `--tuf-url` (or,
//! for keyless verification given no roots, Sigstore's public-good
//! repository) fetches one over TUF, and the shortcuts (`--ca-roots`,
//! `--ca-intermediates`, `--rekor-public-key`) build one whose entries have
//! no validity window ([`TrustedRoot::from_shortcuts`]).
//!
//! - [`root`]: the `TrustedRoot` and its lookups by log ID and time;
//! - [`path`]: X.509 path checks (rustls-webpki) for Fulcio and TSA chains;
//! - [`sct`]: embedded SCTs against the CT logs;
//! - [`timestamp`]: RFC 3161 timestamps against the timestamp authorities;
//! - [`tuf`]: the TUF client that fetches and caches `trusted_root.json`.

pub mod path;
pub mod root;
pub mod sct;
pub mod timestamp;
pub mod tuf;

pub use root::{
    CertificateAuthority, KeyDetails, TransparencyLog, TrustError, TrustedKey, TrustedRoot,
    Validity,
};

use crate::pem;
use crate::sign::PublicKey;

/// Every PEM `PUBLIC KEY` in `pem` (a log key file may hold several, for a
/// log whose key rotated).
pub fn public_keys_from_pem(pem: &str) -> Result<Vec<PublicKey>, String> {
    const END: &str = "-----END PUBLIC KEY-----";
    let mut keys = Vec::new();
    for chunk in pem.split_inclusive(END).filter(|c| c.contains(END)) {
        let der = pem::decode(chunk, &["PUBLIC KEY"]).ok_or("a PUBLIC KEY block is not base64")?;
        keys.push(PublicKey::from_spki_der(&der).map_err(|e| e.to_string())?);
    }
    if keys.is_empty() {
        return Err("no PEM PUBLIC KEY in it".into());
    }
    Ok(keys)
}

/// ../shared/sigstore-vectors beside the repository, where tests read the
/// upstream vectors; `None` (with the reason printed) where it is absent.
#[cfg(test)]
pub(crate) fn vectors_dir() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigstore-vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} is absent", dir.display());
        None
    }
}
