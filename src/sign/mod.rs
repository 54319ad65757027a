//! Signing: the [`Signer`] seam, public keys, and loading a signer from a
//! key reference (a key file, a KMS URI, or keyless Fulcio).
//!
//! Every signer produces cosign's signature encodings: ECDSA as ASN.1 DER,
//! Ed25519 raw, RSA as its scheme says. Keys are loaded (and decrypted) once
//! per process and shared by every run of a batch.

pub mod dsse;
pub mod fulcio;
pub mod generate;
pub mod kms;
pub mod local;
pub mod simplesigning;
pub mod verify;

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use miette::Diagnostic;
use sha2::{Digest, Sha256};

use crate::pem;

/// Something that signs: a local key, a KMS key, or an ephemeral keyless key.
///
/// Implementations are loaded once and shared across threads; `sign` may be
/// called concurrently. Signers that do network I/O block the calling thread.
pub trait Signer: Send + Sync {
    /// Sign a message. The signer hashes it as its scheme requires (SHA-256
    /// for P-256, SHA-384 for P-384, none for Ed25519) and returns the
    /// signature in cosign's encoding.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;

    /// The public key that verifies this signer's signatures.
    fn public_key(&self) -> &PublicKey;

    /// The certificate and its chain, for signers that have one (Fulcio).
    fn certificate(&self) -> Option<&CertificateChain> {
        None
    }

    /// What the key is, for messages (never secret material): a path or a KMS URI.
    fn describe(&self) -> String;

    /// When the signer stops being usable (a Fulcio certificate's end of
    /// validity); `None` for keys that do not expire.
    fn expires(&self) -> Option<std::time::SystemTime> {
        None
    }
}

/// A shared signer.
pub type SharedSigner = Arc<dyn Signer>;

/// The kind of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Ed25519,
    Rsa,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::EcdsaP256 => "ECDSA P-256",
            KeyKind::EcdsaP384 => "ECDSA P-384",
            KeyKind::EcdsaP521 => "ECDSA P-521",
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::Rsa => "RSA",
        })
    }
}

/// A public key as a DER SubjectPublicKeyInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    spki_der: Vec<u8>,
    kind: KeyKind,
    /// The key in SSH wire form, for the fingerprint.
    ssh_wire: Vec<u8>,
    /// The SubjectPublicKeyInfo's key bits (an EC point, a PKCS#1 RSA key,
    /// or the Ed25519 key), as signature verification takes them.
    key_bits: Vec<u8>,
}

const OID_EC: &str = "1.2.840.10045.2.1";
pub(crate) const OID_P256: &str = "1.2.840.10045.3.1.7";
pub(crate) const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";

impl PublicKey {
    /// Parse a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, SignError> {
        use spki::der::Decode;
        let bad = |why: String| SignError::PublicKey(why);
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| bad(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let key = info.subject_public_key.raw_bytes();
        let alg = info.algorithm.oid.to_string();
        let string = |out: &mut Vec<u8>, b: &[u8]| {
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        };
        let mut wire = Vec::new();
        let kind = match alg.as_str() {
            OID_EC => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<spki::ObjectIdentifier>().ok())
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                let (kind, name) = match curve.as_str() {
                    OID_P256 => (KeyKind::EcdsaP256, "nistp256"),
                    OID_P384 => (KeyKind::EcdsaP384, "nistp384"),
                    OID_P521 => (KeyKind::EcdsaP521, "nistp521"),
                    other => return Err(bad(format!("unsupported elliptic curve {other}"))),
                };
                string(&mut wire, format!("ecdsa-sha2-{name}").as_bytes());
                string(&mut wire, name.as_bytes());
                string(&mut wire, key);
                kind
            }
            OID_ED25519 => {
                string(&mut wire, b"ssh-ed25519");
                string(&mut wire, key);
                KeyKind::Ed25519
            }
            OID_RSA | OID_RSA_PSS => {
                let rsa = pkcs1::RsaPublicKey::from_der(key)
                    .map_err(|e| bad(format!("invalid RSA public key: {e}")))?;
                string(&mut wire, b"ssh-rsa");
                mpint(&mut wire, rsa.public_exponent.as_bytes());
                mpint(&mut wire, rsa.modulus.as_bytes());
                KeyKind::Rsa
            }
            other => return Err(bad(format!("unsupported key algorithm {other}"))),
        };
        Ok(PublicKey {
            spki_der: der.to_vec(),
            kind,
            ssh_wire: wire,
            key_bits: key.to_vec(),
        })
    }

    /// Parse a PEM `PUBLIC KEY`.
    pub fn from_pem(pem: &str) -> Result<PublicKey, SignError> {
        let block = pem::decode(pem, &["PUBLIC KEY"])
            .ok_or_else(|| SignError::PublicKey("no PEM PUBLIC KEY block".into()))?;
        PublicKey::from_spki_der(&block)
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// PEM `PUBLIC KEY`, as cosign writes `cosign.pub`.
    pub fn to_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki_der)
    }

    /// Chains' keyid: the SSH SHA-256 fingerprint of the key
    /// (`SHA256:` + unpadded base64 of SHA-256 over its SSH wire form).
    pub fn key_id(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(&self.ssh_wire))
        )
    }
}

/// SSH `mpint`: big-endian, minimal, with a leading zero when the top bit is set.
fn mpint(out: &mut Vec<u8>, b: &[u8]) {
    let b = {
        let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        &b[first..]
    };
    let pad = b.first().is_some_and(|&x| x & 0x80 != 0);
    let len = b.len() + usize::from(pad);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    if pad {
        out.push(0);
    }
    out.extend_from_slice(b);
}

/// A PEM certificate and the PEM chain above it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateChain {
    pub certificate_pem: String,
    pub chain_pem: String,
}

/// Why a key could not be loaded or a signature made. Messages name the key
/// (path or URI) and never contain secret material.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SignError {
    #[error("cannot read key {path}")]
    #[diagnostic(code(chains::sign::key_io))]
    KeyIo {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write key {path}")]
    #[diagnostic(code(chains::sign::key_write))]
    KeyWrite {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} already exists")]
    #[diagnostic(
        code(chains::sign::key_exists),
        help("pass --force to overwrite it, or choose another --output-key-prefix")
    )]
    KeyExists { path: String },
    #[error("wrong password for {path}, or its ciphertext is corrupt")]
    #[diagnostic(
        code(chains::sign::password),
        help(
            "the password comes from COSIGN_PASSWORD, --password-file, or a prompt on a terminal"
        )
    )]
    WrongPassword { path: String },
    #[error("{path} is encrypted and no password was given")]
    #[diagnostic(
        code(chains::sign::no_password),
        help("set COSIGN_PASSWORD or pass --password-file FILE")
    )]
    NoPassword { path: String },
    #[error("{path}: {reason}")]
    #[diagnostic(
        code(chains::sign::key_format),
        help(
            "supported: cosign encrypted keys (ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY) and PEM PKCS#8, SEC1 or PKCS#1 private keys (ECDSA P-256/P-384, Ed25519, RSA), or a KMS URI"
        )
    )]
    KeyFormat { path: String, reason: String },
    #[error("invalid public key: {0}")]
    #[diagnostic(code(chains::sign::public_key))]
    PublicKey(String),
    #[error("unsupported key reference {reference:?}")]
    #[diagnostic(
        code(chains::sign::reference),
        help("use a key file, or awskms://, gcpkms://, azurekms:// or hashivault:// URIs")
    )]
    Reference { reference: String },
    #[error("{signer}: {message}")]
    #[diagnostic(code(chains::sign::kms))]
    Kms { signer: String, message: String },
    #[error("signing with {signer} failed: {message}")]
    #[diagnostic(code(chains::sign::failed))]
    Failed { signer: String, message: String },
    #[error("keyless signing: {message}")]
    #[diagnostic(code(chains::sign::fulcio))]
    Fulcio { message: String },
}

/// Where a key's password comes from.
#[derive(Clone, Debug, Default)]
pub enum Password {
    /// `COSIGN_PASSWORD`, else a prompt when stdin is a terminal.
    #[default]
    FromEnvironment,
    /// A file holding the password (a trailing newline is ignored).
    File(std::path::PathBuf),
}

/// How to obtain a signer.
#[derive(Clone, Debug, Default)]
pub struct SignerOptions {
    pub password: Password,
    pub kms: kms::KmsOptions,
}

/// Load a signer from a key reference: a KMS URI or a key file.
pub fn load(reference: &str, opts: &SignerOptions) -> Result<SharedSigner, SignError> {
    if kms::is_kms_uri(reference) {
        return kms::load(reference, &opts.kms);
    }
    if reference.contains("://") {
        return Err(SignError::Reference {
            reference: reference.to_string(),
        });
    }
    Ok(Arc::new(local::LocalSigner::load(
        std::path::Path::new(reference),
        &opts.password,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from `ssh-keygen -lf` (OpenSSH) on the same keys.
    #[test]
    fn key_id_is_the_ssh_fingerprint() {
        let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/");
        // Chains' test key is others' data, read from ../shared beside the repository.
        let chains_pub = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/conformance/keys/cosign.pub"
        );
        let Ok(cosign_pub) = std::fs::read_to_string(chains_pub) else {
            eprintln!("skipped: {chains_pub} is absent");
            return;
        };
        let k = PublicKey::from_pem(&cosign_pub).unwrap();
        assert_eq!(k.kind(), KeyKind::EcdsaP256);
        assert_eq!(
            k.key_id(),
            "SHA256:yYS4pD9tqWXZw5+maNJ3gWm9HyoAB0qH0ef0FkIWfYs"
        );
        assert_eq!(PublicKey::from_pem(&k.to_pem()).unwrap(), k);
        for (file, kind, id) in [
            (
                "rsa.pub",
                KeyKind::Rsa,
                "SHA256:H12qucE4xfBPqIJfVonF1VI/EW/a0Nb8RwtPK5SZdYM",
            ),
            (
                "p384.pub",
                KeyKind::EcdsaP384,
                "SHA256:typRiMri4aOTFcQCzhB3KOYEwb5RkleEIE1V3cZlo1c",
            ),
            (
                "ed25519.pub",
                KeyKind::Ed25519,
                "SHA256:h9oO+NWIhabxFlOV/BGqd5HnTWBbwNIJMmyPg/J0W+k",
            ),
        ] {
            let pem = std::fs::read_to_string(format!("{keys}keys/{file}")).unwrap();
            let k = PublicKey::from_pem(&pem).unwrap();
            assert_eq!((k.kind(), k.key_id().as_str()), (kind, id), "{file}");
        }
    }

    #[test]
    fn mpint_pads_high_bit() {
        let mut out = Vec::new();
        mpint(&mut out, &[0x00, 0x80, 0x01]);
        assert_eq!(out, vec![0, 0, 0, 3, 0, 0x80, 0x01]);
    }
}
