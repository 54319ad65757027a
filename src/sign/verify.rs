//! Checking a signature against a public key, with the hashes cosign,
//! Chains and sigstore-go sign with.
//!
//! cosign and Chains load every ECDSA verifier with SHA-256; sigstore-go (and
//! this tool, for P-384) hash with the curve's own hash. Both are accepted for
//! P-384 and P-521: each is a sound signature by the key over the message.
//! RSA keys are accepted with PKCS#1 v1.5 or PSS padding over SHA-256, as
//! cosign verifies them.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

use super::{KeyKind, PublicKey};

/// A hash a signature may have been made over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl PublicKey {
    /// Whether `signature` (in cosign's encoding: ASN.1 DER for ECDSA, raw for
    /// Ed25519 and RSA) is this key's signature over `message`, under any
    /// hash the tools that sign with this kind of key use.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let hashes: &[Hash] = match self.kind() {
            KeyKind::EcdsaP256 | KeyKind::Rsa | KeyKind::Ed25519 => &[Hash::Sha256],
            KeyKind::EcdsaP384 => &[Hash::Sha384, Hash::Sha256],
            KeyKind::EcdsaP521 => &[Hash::Sha512, Hash::Sha256],
        };
        hashes
            .iter()
            .any(|&h| self.verify_with(h, message, signature))
    }

    /// Whether `signature` is this key's ECDSA signature over a message whose
    /// SHA-256 is `digest` (a bundle's `messageSignature` without the
    /// message). Only ECDSA signs a bare digest; other keys answer false.
    pub fn verify_prehashed_sha256(&self, digest: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        use p256::pkcs8::DecodePublicKey;
        match self.kind() {
            KeyKind::EcdsaP256 => {
                let (Ok(key), Ok(sig)) = (
                    p256::ecdsa::VerifyingKey::from_public_key_der(self.spki_der()),
                    p256::ecdsa::Signature::from_der(signature),
                ) else {
                    return false;
                };
                key.verify_prehash(digest, &sig).is_ok()
            }
            KeyKind::EcdsaP384 => {
                let (Ok(key), Ok(sig)) = (
                    p384::ecdsa::VerifyingKey::from_public_key_der(self.spki_der()),
                    p384::ecdsa::Signature::from_der(signature),
                ) else {
                    return false;
                };
                key.verify_prehash(digest, &sig).is_ok()
            }
            _ => false,
        }
    }

    /// Whether `signature` is this key's signature over `message` hashed with
    /// `hash` (ignored for Ed25519, which hashes by its own rules). For
    /// certificates, whose signature algorithm names the hash.
    pub fn verify_with(&self, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        let algorithms: &[&'static dyn VerificationAlgorithm] = match (self.kind(), hash) {
            (KeyKind::Ed25519, _) => &[&signature::ED25519],
            (KeyKind::EcdsaP256, Hash::Sha256) => &[&signature::ECDSA_P256_SHA256_ASN1],
            (KeyKind::EcdsaP256, Hash::Sha384) => &[&signature::ECDSA_P256_SHA384_ASN1],
            (KeyKind::EcdsaP256, Hash::Sha512) => &[&signature::ECDSA_P256_SHA512_ASN1],
            (KeyKind::EcdsaP384, Hash::Sha256) => &[&signature::ECDSA_P384_SHA256_ASN1],
            (KeyKind::EcdsaP384, Hash::Sha384) => &[&signature::ECDSA_P384_SHA384_ASN1],
            (KeyKind::EcdsaP384, Hash::Sha512) => &[&signature::ECDSA_P384_SHA512_ASN1],
            (KeyKind::EcdsaP521, Hash::Sha256) => &[&signature::ECDSA_P521_SHA256_ASN1],
            (KeyKind::EcdsaP521, Hash::Sha384) => &[&signature::ECDSA_P521_SHA384_ASN1],
            (KeyKind::EcdsaP521, Hash::Sha512) => &[&signature::ECDSA_P521_SHA512_ASN1],
            (KeyKind::Rsa, Hash::Sha256) => &[
                &signature::RSA_PKCS1_2048_8192_SHA256,
                &signature::RSA_PSS_2048_8192_SHA256,
            ],
            (KeyKind::Rsa, Hash::Sha384) => &[
                &signature::RSA_PKCS1_2048_8192_SHA384,
                &signature::RSA_PSS_2048_8192_SHA384,
            ],
            (KeyKind::Rsa, Hash::Sha512) => &[
                &signature::RSA_PKCS1_2048_8192_SHA512,
                &signature::RSA_PSS_2048_8192_SHA512,
            ],
        };
        algorithms.iter().any(|alg| {
            UnparsedPublicKey::new(*alg, &self.key_bits)
                .verify(message, signature)
                .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::sign::local::LocalSigner;
    use crate::sign::{Password, Signer};

    /// Every local key kind signs with the scheme verify accepts, and a
    /// changed message or signature is refused.
    #[test]
    fn local_signatures_verify() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "pem") {
                continue;
            }
            let Ok(signer) = LocalSigner::load(&path, &Password::FromEnvironment) else {
                continue;
            };
            let sig = signer.sign(b"message").unwrap();
            let key = signer.public_key();
            assert!(key.verify(b"message", &sig), "{}", path.display());
            assert!(!key.verify(b"messagE", &sig), "{}", path.display());
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(!key.verify(b"message", &bad), "{}", path.display());
            seen += 1;
        }
        assert!(
            seen >= 4,
            "only {seen} unencrypted test keys found in {dir}"
        );
    }
}
