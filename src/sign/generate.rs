//! `generate-key-pair`: a cosign-compatible key pair on disk, or a new KMS key.

use std::path::{Path, PathBuf};

use sigstore::crypto::SigningScheme;
use zeroize::Zeroizing;

use super::{PublicKey, SignError, kms};

/// Where the files go and how.
pub struct KeyFiles {
    pub private: PathBuf,
    pub public: PathBuf,
}

impl KeyFiles {
    pub fn with_prefix(prefix: &Path) -> KeyFiles {
        let p = prefix.display().to_string();
        KeyFiles {
            private: PathBuf::from(format!("{p}.key")),
            public: PathBuf::from(format!("{p}.pub")),
        }
    }
}

/// Generate an ECDSA P-256 key, write it encrypted with `password` (cosign's
/// format, mode 0600) and its public key. Existing files are kept unless `force`.
pub fn generate_local(
    files: &KeyFiles,
    password: &[u8],
    force: bool,
) -> Result<PublicKey, SignError> {
    refuse_overwrite(&[&files.private, &files.public], force)?;
    let fail = |e: String| SignError::KeyFormat {
        path: files.private.display().to_string(),
        reason: e,
    };
    let signer = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .map_err(|e| fail(e.to_string()))?;
    let pair = signer
        .to_sigstore_keypair()
        .map_err(|e| fail(e.to_string()))?;
    let private: Zeroizing<String> = pair
        .private_key_to_encrypted_pem(password)
        .map_err(|e| fail(e.to_string()))?;
    let public =
        PublicKey::from_spki_der(&pair.public_key_to_der().map_err(|e| fail(e.to_string()))?)?;
    write_file(&files.private, private.as_bytes(), 0o600)?;
    write_file(&files.public, public.to_pem().as_bytes(), 0o644)?;
    Ok(public)
}

/// Create a key in a KMS and write its public key.
pub fn generate_kms(
    uri: &str,
    opts: &kms::KmsOptions,
    public_file: &Path,
    force: bool,
) -> Result<PublicKey, SignError> {
    refuse_overwrite(&[public_file], force)?;
    let public = kms::create(uri, opts)?;
    write_file(public_file, public.to_pem().as_bytes(), 0o644)?;
    Ok(public)
}

fn refuse_overwrite(paths: &[&Path], force: bool) -> Result<(), SignError> {
    if force {
        return Ok(());
    }
    for p in paths {
        if p.exists() {
            return Err(SignError::KeyExists {
                path: p.display().to_string(),
            });
        }
    }
    Ok(())
}

/// Write atomically with the given mode (the temporary file is created with
/// it, so a private key is never readable by others, not even briefly).
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SignError> {
    let io = |source| SignError::KeyWrite {
        path: path.display().to_string(),
        source,
    };
    let options = crate::atomic::Options { mode, sync: true };
    crate::atomic::write_with(path, bytes, options).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refusing to overwrite and failing to write are said as such, not as
    /// "cannot read key".
    #[test]
    fn overwrite_and_write_failures_say_what_happened() {
        let dir = tempfile::tempdir().unwrap();
        let files = KeyFiles::with_prefix(&dir.path().join("k"));
        std::fs::write(&files.public, "kept").unwrap();
        let e = generate_local(&files, b"pw", false).unwrap_err();
        assert!(matches!(e, SignError::KeyExists { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            format!("{} already exists", files.public.display())
        );
        assert_eq!(std::fs::read_to_string(&files.public).unwrap(), "kept");

        let files = KeyFiles::with_prefix(&dir.path().join("absent").join("k"));
        let e = generate_local(&files, b"pw", false).unwrap_err();
        assert!(matches!(e, SignError::KeyWrite { .. }), "{e}");
        assert!(e.to_string().starts_with("cannot write key"), "{e}");
    }
}
