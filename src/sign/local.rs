//! Keys on disk: cosign's encrypted format (both PEM labels) and plain PEM
//! private keys (PKCS#8, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`).
//!
//! Schemes follow cosign: ECDSA P-256 with SHA-256, P-384 with SHA-384,
//! Ed25519 (pure), RSA PKCS#1 v1.5 with SHA-256. Signatures are ASN.1 DER
//! for ECDSA. Decryption (scrypt, deliberately slow) happens once per key.

use std::io::IsTerminal;
use std::path::Path;

use p256::pkcs8::EncodePrivateKey;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::signing_key::kdf;
use sigstore::crypto::{SigStoreSigner, SigningScheme};
use zeroize::Zeroizing;

use super::{KeyKind, Password, PublicKey, SignError, Signer};
use crate::pem;

const ENCRYPTED_LABELS: &[&str] = &[
    "ENCRYPTED SIGSTORE PRIVATE KEY",
    "ENCRYPTED COSIGN PRIVATE KEY",
];

/// A private key held in memory.
pub struct LocalSigner {
    signer: SigStoreSigner,
    public: PublicKey,
    path: String,
}

impl std::fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("LocalSigner")
            .field("path", &self.path)
            .field("kind", &self.public.kind())
            .finish()
    }
}

impl LocalSigner {
    /// Load a key file, asking for its password if it is encrypted.
    pub fn load(path: &Path, password: &Password) -> Result<LocalSigner, SignError> {
        let name = path.display().to_string();
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| SignError::KeyIo {
                    path: name.clone(),
                    source,
                })?,
            );
        if let Some(ciphertext) = pem::decode(&text, ENCRYPTED_LABELS) {
            let password = read_password(password, &name)?;
            return LocalSigner::from_encrypted(&ciphertext, password.as_bytes(), &name);
        }
        LocalSigner::from_pem(&text, &name)
    }

    /// A cosign-encrypted key: scrypt + NaCl secretbox around PKCS#8 DER.
    pub fn from_encrypted(
        ciphertext: &[u8],
        password: &[u8],
        name: &str,
    ) -> Result<LocalSigner, SignError> {
        // The box is JSON (kdf and cipher parameters): if that parses, a
        // decryption failure can only mean a wrong password.
        let is_box = serde_json::from_slice::<serde_json::Value>(ciphertext)
            .ok()
            .is_some_and(|v| v.get("kdf").is_some() && v.get("cipher").is_some());
        if !is_box {
            return Err(SignError::KeyFormat {
                path: name.to_string(),
                reason: "the encrypted key is not in cosign's format".into(),
            });
        }
        let der = Zeroizing::new(kdf::decrypt(ciphertext, password).map_err(|_| {
            SignError::WrongPassword {
                path: name.to_string(),
            }
        })?);
        let pair = SigStoreKeyPair::from_der(&der).map_err(|e| SignError::KeyFormat {
            path: name.to_string(),
            reason: format!("decrypted, but the key inside is not supported: {e}"),
        })?;
        LocalSigner::from_pair(pair, name)
    }

    /// An unencrypted PEM private key.
    pub fn from_pem(text: &str, name: &str) -> Result<LocalSigner, SignError> {
        let format_err = |reason: String| SignError::KeyFormat {
            path: name.to_string(),
            reason,
        };
        // SEC1 EC keys are converted to PKCS#8 first (sigstore reads PKCS#8).
        let pkcs8: Zeroizing<Vec<u8>> = if let Some(sec1) = pem::decode(text, &["EC PRIVATE KEY"]) {
            sec1_to_pkcs8(&sec1).map_err(format_err)?
        } else if text.contains("-----BEGIN PRIVATE KEY-----")
            || text.contains("-----BEGIN RSA PRIVATE KEY-----")
        {
            let pair = SigStoreKeyPair::from_pem(text.as_bytes())
                .map_err(|e| format_err(format!("unsupported private key: {e}")))?;
            return LocalSigner::from_pair(pair, name);
        } else if text.contains("-----BEGIN") {
            let label = text
                .split("-----BEGIN ")
                .nth(1)
                .and_then(|s| s.split("-----").next())
                .unwrap_or("?");
            return Err(format_err(format!(
                "a PEM {label} is not a private key chains can sign with"
            )));
        } else {
            return Err(format_err("not a PEM key".into()));
        };
        let pair = SigStoreKeyPair::from_der(&pkcs8)
            .map_err(|e| format_err(format!("unsupported private key: {e}")))?;
        LocalSigner::from_pair(pair, name)
    }

    fn from_pair(pair: SigStoreKeyPair, name: &str) -> Result<LocalSigner, SignError> {
        let format_err = |reason: String| SignError::KeyFormat {
            path: name.to_string(),
            reason,
        };
        let spki = pair
            .public_key_to_der()
            .map_err(|e| format_err(format!("cannot derive the public key: {e}")))?;
        let public = PublicKey::from_spki_der(&spki)?;
        let scheme = match public.kind() {
            KeyKind::EcdsaP256 => SigningScheme::ECDSA_P256_SHA256_ASN1,
            KeyKind::EcdsaP384 => SigningScheme::ECDSA_P384_SHA384_ASN1,
            KeyKind::EcdsaP521 => SigningScheme::ECDSA_P521_SHA512_ASN1,
            KeyKind::Ed25519 => SigningScheme::ED25519,
            KeyKind::Rsa => SigningScheme::RSA_PKCS1_SHA256(0),
        };
        let signer = pair
            .to_sigstore_signer(&scheme)
            .map_err(|e| format_err(format!("cannot sign with this key: {e}")))?;
        Ok(LocalSigner {
            signer,
            public,
            path: name.to_string(),
        })
    }

    /// Wrap an in-memory signer (a freshly generated or ephemeral key).
    pub fn from_sigstore(signer: SigStoreSigner, name: &str) -> Result<LocalSigner, SignError> {
        let pair = signer
            .to_sigstore_keypair()
            .map_err(|e| SignError::KeyFormat {
                path: name.to_string(),
                reason: e.to_string(),
            })?;
        let spki = pair.public_key_to_der().map_err(|e| SignError::KeyFormat {
            path: name.to_string(),
            reason: e.to_string(),
        })?;
        Ok(LocalSigner {
            signer,
            public: PublicKey::from_spki_der(&spki)?,
            path: name.to_string(),
        })
    }
}

impl Signer for LocalSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.signer.sign(message).map_err(|e| SignError::Failed {
            signer: self.path.clone(),
            message: e.to_string(),
        })
    }

    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.path, self.public.kind())
    }
}

fn sec1_to_pkcs8(der: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
        return k
            .to_pkcs8_der()
            .map(|d| Zeroizing::new(d.as_bytes().to_vec()))
            .map_err(|e| e.to_string());
    }
    if let Ok(k) = p384::SecretKey::from_sec1_der(der) {
        return k
            .to_pkcs8_der()
            .map(|d| Zeroizing::new(d.as_bytes().to_vec()))
            .map_err(|e| e.to_string());
    }
    Err("an EC PRIVATE KEY on a curve other than P-256 or P-384".into())
}

/// The password of an encrypted key: `--password-file`, `COSIGN_PASSWORD`,
/// or a prompt when stdin is a terminal. Never from argv.
pub fn read_password(source: &Password, key: &str) -> Result<Zeroizing<String>, SignError> {
    match source {
        Password::File(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| SignError::KeyIo {
                path: p.display().to_string(),
                source,
            })?;
            Ok(Zeroizing::new(
                text.trim_end_matches(['\n', '\r']).to_string(),
            ))
        }
        Password::FromEnvironment => {
            if let Ok(p) = std::env::var("COSIGN_PASSWORD") {
                return Ok(Zeroizing::new(p));
            }
            if std::io::stdin().is_terminal() {
                return rpassword::prompt_password(format!("Enter password for {key}: "))
                    .map(Zeroizing::new)
                    .map_err(|source| SignError::KeyIo {
                        path: "/dev/tty".into(),
                        source,
                    });
            }
            Err(SignError::NoPassword {
                path: key.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(p: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(p)
    }

    #[test]
    fn loads_chains_test_keys() {
        let pw = Password::File(testdata("conformance/keys/cosign.password"));
        let k = LocalSigner::load(&testdata("conformance/keys/cosign.key"), &pw).unwrap();
        assert_eq!(k.public_key().kind(), KeyKind::EcdsaP256);
        // The same key as cosign.pub, whose fingerprint ssh-keygen gives.
        assert_eq!(
            k.public_key().key_id(),
            "SHA256:yYS4pD9tqWXZw5+maNJ3gWm9HyoAB0qH0ef0FkIWfYs"
        );
        let x = LocalSigner::load(
            &testdata("conformance/keys/x509.pem"),
            &Password::FromEnvironment,
        )
        .unwrap();
        assert_eq!(x.public_key().kind(), KeyKind::EcdsaP256);
        assert!(!x.sign(b"m").unwrap().is_empty());
    }

    #[test]
    fn wrong_password_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "not-p").unwrap();
        let e = LocalSigner::load(
            &testdata("conformance/keys/cosign.key"),
            &Password::File(pw),
        )
        .unwrap_err();
        assert!(matches!(e, SignError::WrongPassword { .. }), "{e}");
        assert!(e.to_string().contains("wrong password"));
    }

    #[test]
    fn reads_every_pem_form() {
        for (file, kind) in [
            ("keys/rsa.pem", KeyKind::Rsa),
            ("keys/ed25519.pem", KeyKind::Ed25519),
            ("keys/p384.pem", KeyKind::EcdsaP384),
            ("keys/p256-sec1.pem", KeyKind::EcdsaP256),
        ] {
            let k = LocalSigner::load(&testdata(file), &Password::FromEnvironment).unwrap();
            assert_eq!(k.public_key().kind(), kind, "{file}");
            assert!(!k.sign(b"message").unwrap().is_empty());
        }
    }

    #[test]
    fn rejects_what_is_not_a_private_key() {
        let e =
            LocalSigner::load(&testdata("keys/rsa.pub"), &Password::FromEnvironment).unwrap_err();
        assert!(e.to_string().contains("PUBLIC KEY"), "{e}");
        let e = LocalSigner::from_pem("hello", "k").unwrap_err();
        assert!(e.to_string().contains("not a PEM key"));
    }
}
