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
        // Every parameter is checked first, so that a failure to decrypt
        // can only mean a wrong password or a corrupt ciphertext (and so
        // that sigstore's decrypt never sees a nonce it would panic on).
        check_cosign_box(ciphertext).map_err(|reason| SignError::KeyFormat {
            path: name.to_string(),
            reason,
        })?;
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

/// The JSON inside a cosign-encrypted PEM block (go-tuf's `encrypted` format).
#[derive(serde::Deserialize)]
struct CosignBox {
    kdf: CosignKdf,
    cipher: CosignCipher,
    ciphertext: String,
}

#[derive(serde::Deserialize)]
struct CosignKdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(serde::Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u64,
    p: u64,
}

#[derive(serde::Deserialize)]
struct CosignCipher {
    name: String,
    nonce: String,
}

/// XSalsa20-Poly1305's nonce and tag sizes.
const SECRETBOX_NONCE_LEN: usize = 24;
const SECRETBOX_TAG_LEN: usize = 16;

/// Why a cosign key box is malformed or unsupported, if it is: names,
/// scrypt parameters (the two sets cosign writes; others are refused so a
/// key file cannot make us spend unbounded memory), and encodings and
/// lengths of salt, nonce and ciphertext.
fn check_cosign_box(json: &[u8]) -> Result<(), String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let doc: CosignBox = serde_json::from_slice(json)
        .map_err(|e| format!("malformed cosign key: the encrypted key's JSON is invalid ({e})"))?;
    if doc.kdf.name != kdf::NAME_SCRYPT {
        return Err(format!(
            "unsupported cosign key: key derivation {:?} (cosign uses \"scrypt\")",
            doc.kdf.name
        ));
    }
    let ScryptParams { n, r, p } = doc.kdf.params;
    let cosign_n = [kdf::SCRYPT_N_LOW, kdf::SCRYPT_N_HIGH].map(u64::from);
    if !cosign_n.contains(&n) || r != u64::from(kdf::SCRYPT_R) || p != u64::from(kdf::SCRYPT_P) {
        return Err(format!(
            "unsupported cosign key: scrypt parameters N={n}, r={r}, p={p} (cosign writes N=32768 or 65536, r=8, p=1)"
        ));
    }
    b64.decode(&doc.kdf.salt)
        .map_err(|e| format!("malformed cosign key: the scrypt salt is not base64 ({e})"))?;
    if doc.cipher.name != kdf::NAME_SECRET_BOX {
        return Err(format!(
            "unsupported cosign key: cipher {:?} (cosign uses \"nacl/secretbox\")",
            doc.cipher.name
        ));
    }
    let nonce = b64
        .decode(&doc.cipher.nonce)
        .map_err(|e| format!("malformed cosign key: the secretbox nonce is not base64 ({e})"))?;
    if nonce.len() != SECRETBOX_NONCE_LEN {
        return Err(format!(
            "malformed cosign key: the secretbox nonce is {} bytes, not {SECRETBOX_NONCE_LEN}",
            nonce.len()
        ));
    }
    let sealed = b64
        .decode(&doc.ciphertext)
        .map_err(|e| format!("malformed cosign key: the ciphertext is not base64 ({e})"))?;
    if sealed.len() < SECRETBOX_TAG_LEN {
        return Err(format!(
            "malformed cosign key: the ciphertext is {} bytes, shorter than its {SECRETBOX_TAG_LEN}-byte tag",
            sealed.len()
        ));
    }
    Ok(())
}

/// A SEC1 `EC PRIVATE KEY` as PKCS#8, on the curve its parameters name.
/// The curve is never inferred from the scalar's length: a P-256 scalar
/// that is out of range would otherwise be read as a (padded) P-384 key.
fn sec1_to_pkcs8(der: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    use sec1::der::Decode;
    let parsed =
        sec1::EcPrivateKey::from_der(der).map_err(|e| format!("malformed EC PRIVATE KEY: {e}"))?;
    let curve = parsed
        .parameters
        .and_then(|p| p.named_curve())
        .ok_or("the EC PRIVATE KEY names no curve (its parameters are missing)")?
        .to_string();
    let invalid = |curve: &str| {
        format!(
            "invalid EC PRIVATE KEY: not a valid {curve} private key (scalar out of range, or a public key that does not match)"
        )
    };
    let pkcs8 = match curve.as_str() {
        super::OID_P256 => p256::SecretKey::from_sec1_der(der)
            .map_err(|_| invalid("P-256"))?
            .to_pkcs8_der(),
        super::OID_P384 => p384::SecretKey::from_sec1_der(der)
            .map_err(|_| invalid("P-384"))?
            .to_pkcs8_der(),
        other => {
            return Err(format!(
                "an EC PRIVATE KEY on curve {other}; chains signs with P-256 or P-384"
            ));
        }
    };
    pkcs8
        .map(|d| Zeroizing::new(d.as_bytes().to_vec()))
        .map_err(|e| e.to_string())
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

    /// One of Chains' test keys. They are others' data, read from
    /// ../shared/conformance beside the repository; `None` (after saying so)
    /// where that is absent.
    fn chains_key(name: &str) -> Option<std::path::PathBuf> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/conformance/keys")
            .join(name);
        if !path.exists() {
            eprintln!("skipped: {} is absent", path.display());
            return None;
        }
        Some(path)
    }

    #[test]
    fn loads_chains_test_keys() {
        let (Some(key), Some(password), Some(x509)) = (
            chains_key("cosign.key"),
            chains_key("cosign.password"),
            chains_key("x509.pem"),
        ) else {
            return;
        };
        let pw = Password::File(password);
        let k = LocalSigner::load(&key, &pw).unwrap();
        assert_eq!(k.public_key().kind(), KeyKind::EcdsaP256);
        // The same key as cosign.pub, whose fingerprint ssh-keygen gives.
        assert_eq!(
            k.public_key().key_id(),
            "SHA256:yYS4pD9tqWXZw5+maNJ3gWm9HyoAB0qH0ef0FkIWfYs"
        );
        let x = LocalSigner::load(&x509, &Password::FromEnvironment).unwrap();
        assert_eq!(x.public_key().kind(), KeyKind::EcdsaP256);
        assert!(!x.sign(b"m").unwrap().is_empty());
    }

    #[test]
    fn wrong_password_says_so() {
        let Some(key) = chains_key("cosign.key") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "not-p").unwrap();
        let e = LocalSigner::load(&key, &Password::File(pw)).unwrap_err();
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

    /// The conformance cosign key with its box JSON edited, written to a file.
    fn tampered_cosign_key(
        dir: &Path,
        edit: impl Fn(&mut serde_json::Value),
    ) -> Option<(std::path::PathBuf, Password)> {
        let text = std::fs::read_to_string(chains_key("cosign.key")?).unwrap();
        let json = pem::decode(&text, ENCRYPTED_LABELS).unwrap();
        let mut doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
        edit(&mut doc);
        let key = dir.join("tampered.key");
        let pem = pem::encode(
            "ENCRYPTED SIGSTORE PRIVATE KEY",
            &serde_json::to_vec(&doc).unwrap(),
        );
        std::fs::write(&key, pem).unwrap();
        Some((key, Password::File(chains_key("cosign.password")?)))
    }

    fn b64(bytes: &[u8]) -> serde_json::Value {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .into()
    }

    /// A nonce of the wrong length is a malformed key naming the file, not a
    /// panic inside the secretbox.
    #[test]
    fn cosign_key_with_a_short_nonce_is_malformed_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 23, 25] {
            let Some((key, pw)) =
                tampered_cosign_key(dir.path(), |d| d["cipher"]["nonce"] = b64(&vec![7; len]))
            else {
                return;
            };
            let e = LocalSigner::load(&key, &pw).unwrap_err();
            assert!(matches!(e, SignError::KeyFormat { .. }), "{e}");
            let text = e.to_string();
            assert!(
                text.contains(&format!("nonce is {len} bytes, not 24")),
                "{text}"
            );
            assert!(text.contains(&key.display().to_string()), "{text}");
        }
    }

    /// Bad parameters, names and encodings are told apart from a wrong password.
    #[test]
    fn cosign_key_with_bad_parameters_is_malformed_not_a_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        type Edit = fn(&mut serde_json::Value);
        let cases: [(Edit, &str); 9] = [
            (
                |d| d["kdf"]["params"]["N"] = 1.into(),
                "scrypt parameters N=1, r=8, p=1",
            ),
            (|d| d["kdf"]["params"]["N"] = 32769.into(), "N=32769"),
            (|d| d["kdf"]["params"]["r"] = 9.into(), "r=9"),
            (|d| d["kdf"]["params"]["p"] = 0.into(), "p=0"),
            (
                |d| d["kdf"]["name"] = "pbkdf2".into(),
                "key derivation \"pbkdf2\"",
            ),
            (
                |d| d["cipher"]["name"] = "aes-gcm".into(),
                "cipher \"aes-gcm\"",
            ),
            (
                |d| d["ciphertext"] = "not base64!".into(),
                "ciphertext is not base64",
            ),
            (
                |d| d["ciphertext"] = b64(&[1; 15]),
                "ciphertext is 15 bytes",
            ),
            (|d| d["kdf"]["salt"] = 5.into(), "JSON is invalid"),
        ];
        for (edit, expected) in cases {
            let Some((key, pw)) = tampered_cosign_key(dir.path(), edit) else {
                return;
            };
            let e = LocalSigner::load(&key, &pw).unwrap_err();
            assert!(matches!(e, SignError::KeyFormat { .. }), "{expected}: {e}");
            assert!(e.to_string().contains(expected), "{expected}: {e}");
        }
    }

    /// With valid parameters an authentication failure is a wrong password
    /// or a corrupt ciphertext, and the message says both.
    #[test]
    fn cosign_key_with_corrupt_ciphertext_says_password_or_corruption() {
        use base64::Engine;
        let dir = tempfile::tempdir().unwrap();
        let Some((key, pw)) = tampered_cosign_key(dir.path(), |d| {
            let engine = base64::engine::general_purpose::STANDARD;
            let mut sealed = engine.decode(d["ciphertext"].as_str().unwrap()).unwrap();
            sealed[20] ^= 1;
            d["ciphertext"] = b64(&sealed);
        }) else {
            return;
        };
        let e = LocalSigner::load(&key, &pw).unwrap_err();
        assert!(matches!(e, SignError::WrongPassword { .. }), "{e}");
        assert!(
            e.to_string().contains("or its ciphertext is corrupt"),
            "{e}"
        );
    }

    /// A P-256 SEC1 key whose scalar is the group order is invalid; it must
    /// not be read as a P-384 key (its 32 bytes fit a 48-byte scalar).
    #[test]
    fn sec1_key_is_read_on_the_curve_it_names() {
        use sec1::der::{Decode, Encode};
        // The order n of P-256.
        let n: [u8; 32] = [
            0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2,
            0xfc, 0x63, 0x25, 0x51,
        ];
        let p256_oid = sec1::der::asn1::ObjectIdentifier::new_unwrap(super::super::OID_P256);
        for public_key in [None, Some(&[4u8; 65][..])] {
            let der = sec1::EcPrivateKey {
                private_key: &n,
                parameters: Some(sec1::EcParameters::NamedCurve(p256_oid)),
                public_key,
            }
            .to_der()
            .unwrap();
            let pem = pem::encode("EC PRIVATE KEY", &der);
            let e = LocalSigner::from_pem(&pem, "bad.pem").unwrap_err();
            assert!(
                e.to_string().contains("not a valid P-256 private key"),
                "{e}"
            );
        }
        // Without parameters the curve is unknown: refused, not guessed.
        let good = pem::decode(
            &std::fs::read_to_string(testdata("keys/p256-sec1.pem")).unwrap(),
            &["EC PRIVATE KEY"],
        )
        .unwrap();
        let mut key = sec1::EcPrivateKey::from_der(&good).unwrap();
        key.parameters = None;
        let pem = pem::encode("EC PRIVATE KEY", &key.to_der().unwrap());
        let e = LocalSigner::from_pem(&pem, "noparams.pem").unwrap_err();
        assert!(e.to_string().contains("names no curve"), "{e}");
    }
}
