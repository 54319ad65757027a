//! What makes a log entry trustworthy without asking the log: the log's keys,
//! its signed entry timestamp (SET, Rekor v1), the RFC 6962 inclusion proof
//! and the signed checkpoint (a C2SP signed note) that proof ends in.
//!
//! The rules, as sigstore-go and sigstore-python apply them:
//! - an entry needs a SET or an inclusion proof (both is fine);
//! - an inclusion proof needs a checkpoint signed by the log, for the same
//!   tree size and root (sigstore-python's client rule; a proof without one
//!   shows only that the entry is in *some* tree);
//! - [`Rules::proof_required`] (bundles v0.2 and later) makes the proof
//!   mandatory; v0.1 bundles and cosign's bundle annotation may carry a SET
//!   alone;
//! - only a verified SET makes `integratedTime` a trusted signing time,
//!   and the log key must have been valid then. Rekor v2 entries have
//!   neither: their time comes from an RFC 3161 timestamp, which the trust
//!   module checks, and the key's window is returned to be checked at it.
//!
//! A log is known by its log ID: SHA-256 of the key's DER for Rekor v1, and
//! for Rekor v2 the signed-note key ID SHA-256(origin || "\n" || 0x01 ||
//! Ed25519 key), which can be computed from a PEM key once the checkpoint
//! names the origin.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::entry::{InclusionProof, LogEntry};
use super::{hex, hex_decode};
use crate::sign::{KeyKind, PublicKey};

/// One log key. Rekor signs with SHA-256 whatever the curve (it loads its
/// signer with `crypto.SHA256`); Ed25519 signs the message itself.
/// Signatures are ASN.1 DER.
pub struct LogKey {
    /// SHA-256 of the key's DER SubjectPublicKeyInfo (the Rekor v1 log ID),
    /// or the ID a trusted root gives.
    pub log_id: [u8; 32],
    verifier: LogVerifier,
    /// When the key may have been used (unix seconds), from a trusted root.
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
}

enum LogVerifier {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(Vec<u8>),
}

impl LogKey {
    /// A key from its DER SubjectPublicKeyInfo; `log_id` when a trusted root
    /// names it (else SHA-256 of the DER).
    pub fn from_spki_der(der: &[u8], log_id: Option<[u8; 32]>) -> Result<LogKey, String> {
        use p256::pkcs8::DecodePublicKey;
        let public = PublicKey::from_spki_der(der).map_err(|e| e.to_string())?;
        let verifier = match public.kind() {
            KeyKind::EcdsaP256 => LogVerifier::P256(
                p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| e.to_string())?,
            ),
            KeyKind::EcdsaP384 => LogVerifier::P384(
                p384::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| e.to_string())?,
            ),
            KeyKind::Ed25519 => {
                use spki::der::Decode;
                let info =
                    spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| e.to_string())?;
                LogVerifier::Ed25519(info.subject_public_key.raw_bytes().to_vec())
            }
            other => {
                return Err(format!(
                    "it is an {other} key; Rekor log keys are ECDSA (P-256, P-384) or Ed25519"
                ));
            }
        };
        Ok(LogKey {
            log_id: log_id.unwrap_or_else(|| Sha256::digest(der).into()),
            verifier,
            valid_from: None,
            valid_until: None,
        })
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let digest = Sha256::digest(message);
        match &self.verifier {
            LogVerifier::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
            LogVerifier::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
            LogVerifier::Ed25519(raw) => {
                aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, raw)
                    .verify(message, signature)
                    .is_ok()
            }
        }
    }

    /// The IDs this key goes by for a log named `origin` (a checkpoint's
    /// first line): its own, and for an Ed25519 key the signed-note key ID
    /// Rekor v2 uses as its log ID.
    fn ids(&self, origin: Option<&str>) -> Vec<[u8; 32]> {
        let mut ids = vec![self.log_id];
        if let (LogVerifier::Ed25519(raw), Some(origin)) = (&self.verifier, origin) {
            let mut h = Sha256::new();
            h.update(origin.as_bytes());
            h.update([b'\n', 0x01]);
            h.update(raw);
            ids.push(h.finalize().into());
        }
        ids
    }

    fn valid_at(&self, t: i64) -> bool {
        self.valid_from.is_none_or(|f| t >= f) && self.valid_until.is_none_or(|u| t <= u)
    }
}

/// Every PEM `PUBLIC KEY` in `pem`, as log keys.
pub fn parse_log_keys(pem: &str) -> Result<Vec<LogKey>, String> {
    let blocks = super::pem_blocks(pem, "PUBLIC KEY");
    if blocks.is_empty() {
        return Err("no PEM PUBLIC KEY in it".into());
    }
    blocks
        .iter()
        .map(|der| LogKey::from_spki_der(der, None))
        .collect()
}

/// How strict to be about one entry.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rules {
    /// Bundles v0.2 and later: the entry must carry an inclusion proof.
    pub proof_required: bool,
}

/// What a verified entry proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// `integratedTime`, when a verified SET vouches for it.
    pub integrated_time: Option<i64>,
    /// An inclusion proof to a checkpoint signed by the log verified.
    pub included: bool,
    /// The validity window (unix seconds) of the log key that verified
    /// it. With a SET it was checked at `integrated_time`; without one
    /// (Rekor v2) the caller checks it at the time a signed timestamp gives.
    pub key_valid_from: Option<i64>,
    pub key_valid_until: Option<i64>,
}

/// Check `entry` against `keys` by `rules` (see the module documentation).
pub fn verify_entry(keys: &[LogKey], entry: &LogEntry, rules: Rules) -> Result<Checked, String> {
    let body = STANDARD
        .decode(&entry.body)
        .map_err(|_| "its body is not base64".to_string())?;
    let leaf = leaf_hash(&body);
    if !entry.uuid.is_empty() {
        let id = entry.uuid.to_ascii_lowercase();
        if !super::is_entry_id(&id) || id[id.len() - 64..] != hex(&leaf) {
            return Err(format!(
                "its body does not match its UUID {} (the UUID must be the body's leaf hash {})",
                entry.uuid,
                hex(&leaf)
            ));
        }
    }
    let has_set = !entry.signed_entry_timestamp.is_empty();
    let proof = entry.inclusion_proof.as_ref();
    match (has_set, proof) {
        (false, None) => {
            return Err(
                "it has neither a signed entry timestamp nor an inclusion proof, so nothing shows it is in the log"
                    .into(),
            );
        }
        (_, None) if rules.proof_required => {
            return Err(
                "it has no inclusion proof, which is required here (bundles from v0.2 on, and entries Rekor returns, carry one)".into(),
            );
        }
        _ => {}
    }
    let origin = proof
        .and_then(|p| p.checkpoint.as_deref())
        .and_then(|c| c.lines().next());
    let key = key_for(keys, &entry.log_id, origin)?;

    let mut integrated_time = None;
    if has_set {
        verify_set(key, entry)?;
        if !key.valid_at(entry.integrated_time) {
            return Err(format!(
                "the log key {} was not valid at the entry's time {}",
                hex(&key.log_id),
                entry.integrated_time
            ));
        }
        integrated_time = Some(entry.integrated_time);
    }
    if let Some(proof) = proof {
        let root = verify_inclusion(proof, &leaf)
            .map_err(|why| format!("its inclusion proof does not verify: {why}"))?;
        let Some(checkpoint) = proof.checkpoint.as_deref() else {
            return Err(
                "its inclusion proof has no checkpoint signed by the log, so the proof's root is not shown to be the log's"
                    .into(),
            );
        };
        verify_checkpoint(checkpoint, key, &entry.log_id, proof.tree_size, &root).map_err(
            |why| format!("its signed checkpoint does not verify against the log key: {why}"),
        )?;
    }
    Ok(Checked {
        integrated_time,
        included: proof.is_some(),
        key_valid_from: key.valid_from,
        key_valid_until: key.valid_until,
    })
}

fn key_for<'k>(
    keys: &'k [LogKey],
    log_id: &str,
    origin: Option<&str>,
) -> Result<&'k LogKey, String> {
    let id = hex_decode(log_id);
    keys.iter()
        .find(|k| {
            k.ids(origin)
                .iter()
                .any(|kid| id.as_deref() == Some(&kid[..]))
        })
        .ok_or_else(|| {
            format!(
                "it was logged by the log with ID {log_id}, and no log key given has that ID (given: {})",
                keys.iter()
                    .map(|k| hex(&k.log_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The SET: the log's signature over the RFC 8785 canonical JSON of
/// `{body, integratedTime, logID, logIndex}`.
fn verify_set(key: &LogKey, entry: &LogEntry) -> Result<(), String> {
    let bad = |why: &str| {
        format!("its signed entry timestamp does not verify against the log key: {why}")
    };
    let set = STANDARD
        .decode(&entry.signed_entry_timestamp)
        .map_err(|_| bad("it is not base64"))?;
    let signed = serde_json_canonicalizer::to_vec(&json!({
        "body": entry.body,
        "integratedTime": entry.integrated_time,
        "logID": entry.log_id,
        "logIndex": entry.log_index,
    }))
    .map_err(|e| bad(&format!("cannot canonicalize the entry: {e}")))?;
    if !key.verify(&signed, &set) {
        return Err(bad("the signature is not the log's"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// RFC 6962 Merkle trees and checkpoints

/// RFC 6962 leaf hash: SHA-256(0x00 || leaf).
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root an inclusion proof leads to from `leaf` (RFC 9162 §2.1.3.2, the
/// verification algorithm for RFC 6962 audit paths), or why it leads nowhere.
fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &[u8; 32],
    path: &[[u8; 32]],
) -> Result<[u8; 32], String> {
    if index >= size {
        return Err(format!(
            "leaf index {index} is not below the tree size {size}"
        ));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return Err(format!(
                "the proof has {} hashes, more than a tree of {size} needs",
                path.len()
            ));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(format!(
            "the proof has {} hashes, fewer than a tree of {size} needs",
            path.len()
        ));
    }
    Ok(r)
}

/// Check `proof` for `leaf`; returns the (verified) root hash.
fn verify_inclusion(proof: &InclusionProof, leaf: &[u8; 32]) -> Result<[u8; 32], String> {
    let index = u64::try_from(proof.log_index).map_err(|_| "negative leaf index")?;
    let size = u64::try_from(proof.tree_size).map_err(|_| "negative tree size")?;
    let hash32 = |h: &str, what: &str| -> Result<[u8; 32], String> {
        hex_decode(h)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| format!("{what} {h:?} is not a hex SHA-256 hash"))
    };
    let root = hash32(&proof.root_hash, "the root hash")?;
    let path = proof
        .hashes
        .iter()
        .map(|h| hash32(h, "the proof hash"))
        .collect::<Result<Vec<_>, _>>()?;
    let computed = root_from_inclusion_proof(index, size, leaf, &path)?;
    if computed != root {
        return Err(format!(
            "it leads from the entry's leaf hash to the root {}, not to the proof's root {}",
            hex(&computed),
            proof.root_hash
        ));
    }
    Ok(root)
}

/// A checkpoint (signed note): `origin\nsize\nbase64 root\n[other lines\n]`,
/// a blank line, then `— name base64(key hint || signature)` lines.
struct Checkpoint<'a> {
    /// The signed text, through its final newline.
    text: &'a str,
    size: u64,
    root: Vec<u8>,
    signatures: Vec<Vec<u8>>,
}

fn parse_checkpoint(note: &str) -> Result<Checkpoint<'_>, String> {
    let split = note
        .find("\n\n")
        .ok_or("it has no blank line before its signatures")?;
    let text = &note[..split + 1];
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err("it has no origin line".into());
    }
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or("its second line is not a tree size")?;
    let root = lines
        .next()
        .and_then(|l| STANDARD.decode(l).ok())
        .ok_or("its third line is not a base64 root hash")?;
    let mut signatures = Vec::new();
    for line in note[split + 2..].lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| format!("{line:?} is not a signature line"))?;
        let (_name, b64) = rest
            .rsplit_once(' ')
            .ok_or_else(|| format!("{line:?} is not a signature line"))?;
        let sig = STANDARD
            .decode(b64)
            .ok()
            .filter(|s| s.len() > 4)
            .ok_or_else(|| format!("{line:?} does not hold a signature"))?;
        signatures.push(sig);
    }
    if signatures.is_empty() {
        return Err("it has no signatures".into());
    }
    Ok(Checkpoint {
        text,
        size,
        root,
        signatures,
    })
}

/// The checkpoint must carry a signature by `key` (its key hint is the first
/// four bytes of the log ID the entry names) over its text, for `tree_size`
/// and `root`.
fn verify_checkpoint(
    note: &str,
    key: &LogKey,
    log_id_hex: &str,
    tree_size: i64,
    root: &[u8; 32],
) -> Result<(), String> {
    let cp = parse_checkpoint(note)?;
    let id = hex_decode(log_id_hex).unwrap_or_else(|| key.log_id.to_vec());
    let hint = id.get(..4).unwrap_or(&key.log_id[..4]);
    let signed = cp
        .signatures
        .iter()
        .filter(|s| s.get(..4) == Some(hint))
        .any(|s| key.verify(cp.text.as_bytes(), s.get(4..).unwrap_or_default()));
    if !signed {
        return Err("no signature in it is the log key's".into());
    }
    if i64::try_from(cp.size).ok() != Some(tree_size) || cp.root != root[..] {
        return Err(format!(
            "it is for a tree of {} with root {}, the inclusion proof for a tree of {tree_size} with root {}",
            cp.size,
            hex(&cp.root),
            hex(root)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pem::encode as pem_encode;

    /// RFC 6962 §2.1: MTH over `leaves` by its recursive definition.
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The largest power of two smaller than `n` (n > 1).
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// RFC 6962 §2.1.1: PATH(m, D[n]) by its recursive definition.
    fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn inclusion_proofs_of_every_leaf_of_small_trees_verify() {
        for n in 1..=70usize {
            let l = leaves(n);
            let root = mth(&l);
            for m in 0..n {
                let p = path(m, &l);
                let got = root_from_inclusion_proof(m as u64, n as u64, &l[m], &p);
                assert_eq!(got, Ok(root), "leaf {m} of {n}");
            }
        }
    }

    #[test]
    fn wrong_inclusion_proofs_do_not_verify() {
        for n in 1..=40usize {
            let l = leaves(n);
            let root = mth(&l);
            for m in 0..n {
                let p = path(m, &l);
                let ok = |i: u64, s: u64, leaf: &[u8; 32], p: &[[u8; 32]]| {
                    root_from_inclusion_proof(i, s, leaf, p) == Ok(root)
                };
                // Another leaf, another index, an index outside the tree.
                // (The size alone is not bound by the path: a proof for leaf 0
                // of 3 also leads to the same root as one of 4; the signed
                // checkpoint binds the size to the root.)
                assert!(!ok(m as u64, n as u64, &leaf_hash(b"other"), &p));
                for other in 0..n {
                    if other != m {
                        assert!(
                            !ok(other as u64, n as u64, &l[m], &p),
                            "{m}->{other} of {n}"
                        );
                    }
                }
                assert!(!ok(n as u64, n as u64, &l[m], &p));
                // A hash changed, added or taken away.
                for i in 0..p.len() {
                    let mut q = p.clone();
                    q[i][7] ^= 1;
                    assert!(!ok(m as u64, n as u64, &l[m], &q));
                }
                let mut longer = p.clone();
                longer.push(root);
                assert!(!ok(m as u64, n as u64, &l[m], &longer));
                if !p.is_empty() {
                    assert!(!ok(m as u64, n as u64, &l[m], &p[..p.len() - 1]));
                }
            }
        }
    }

    #[test]
    fn the_leaf_hash_is_rfc6962s() {
        // SHA-256 of the single byte 0x00: the leaf hash of empty data.
        assert_eq!(
            hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn checkpoints_parse() {
        let note = "example.org - 42\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nTimestamp: 1\n\n\u{2014} example.org AQIDBAUG\n";
        let cp = parse_checkpoint(note).unwrap();
        assert_eq!(cp.size, 7);
        assert_eq!(cp.root, vec![0u8; 32]);
        assert_eq!(
            cp.text,
            "example.org - 42\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nTimestamp: 1\n"
        );
        assert_eq!(cp.signatures, vec![vec![1, 2, 3, 4, 5, 6]]);
        for bad in [
            "example.org\n7\nAAAA\n",
            "example.org\nseven\nAAAA\n\n\u{2014} x AQIDBAUG\n",
            "example.org\n7\nAAAA\n\n- x AQIDBAUG\n",
            "example.org\n7\nAAAA\n\n\u{2014} x AQID\n",
            "example.org\n7\nAAAA\n\n",
        ] {
            assert!(parse_checkpoint(bad).is_err(), "{bad:?}");
        }
    }

    /// A log key from its PEM, and the DER it came from.
    fn log_key(der: &[u8]) -> LogKey {
        let mut keys = parse_log_keys(&pem_encode("PUBLIC KEY", der)).unwrap();
        assert_eq!(keys.len(), 1);
        let key = keys.remove(0);
        assert_eq!(key.log_id, <[u8; 32]>::from(Sha256::digest(der)));
        key
    }

    #[test]
    fn p384_log_keys_verify_sha256_signatures() {
        use p384::ecdsa::signature::hazmat::PrehashSigner;
        use p384::pkcs8::EncodePublicKey;
        let signing = p384::ecdsa::SigningKey::from_slice(&[7u8; 48]).unwrap();
        let der = signing.verifying_key().to_public_key_der().unwrap();
        let key = log_key(der.as_bytes());
        let message = b"a log's signed text";
        let sig: p384::ecdsa::Signature = signing.sign_prehash(&Sha256::digest(message)).unwrap();
        assert!(key.verify(message, sig.to_der().as_bytes()));
        assert!(!key.verify(b"another text", sig.to_der().as_bytes()));
        // Rekor signs with SHA-256 whatever the curve: SHA-384 is not accepted.
        let sig384: p384::ecdsa::Signature = signing
            .sign_prehash(&sha2::Sha384::digest(message))
            .unwrap();
        assert!(!key.verify(message, sig384.to_der().as_bytes()));
    }

    #[test]
    fn ed25519_log_keys_verify() {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
        let pair = Ed25519KeyPair::from_seed_unchecked(&[9u8; 32]).unwrap();
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(pair.public_key().as_ref());
        let key = log_key(&der);
        let sig = pair.sign(b"checkpoint text");
        assert!(key.verify(b"checkpoint text", sig.as_ref()));
        assert!(!key.verify(b"checkpoint text!", sig.as_ref()));
    }

    #[test]
    fn checkpoints_verify_with_the_key_their_hint_names() {
        use p256::ecdsa::signature::Signer as _;
        use p256::pkcs8::EncodePublicKey;
        let signing = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
        let der = signing.verifying_key().to_public_key_der().unwrap();
        let key = log_key(der.as_bytes());
        let root = [3u8; 32];
        let text = format!("log.example - 1\n12\n{}\n", STANDARD.encode(root));
        let note = |hint: &[u8], text: &str, signed: &str| {
            let sig: p256::ecdsa::Signature = signing.sign(signed.as_bytes());
            let mut hs = hint.to_vec();
            hs.extend_from_slice(sig.to_der().as_bytes());
            format!("{text}\n\u{2014} log.example {}\n", STANDARD.encode(hs))
        };
        let good = note(&key.log_id[..4], &text, &text);
        verify_checkpoint(&good, &key, &hex(&key.log_id), 12, &root).unwrap();
        // Another size or root than the proof's.
        assert!(verify_checkpoint(&good, &key, &hex(&key.log_id), 13, &root).is_err());
        assert!(verify_checkpoint(&good, &key, &hex(&key.log_id), 12, &[4u8; 32]).is_err());
        // A signature under another key hint is not the log's.
        let hint = note(&[0, 0, 0, 0], &text, &text);
        assert!(verify_checkpoint(&hint, &key, &hex(&key.log_id), 12, &root).is_err());
        // A signature over other text.
        let other = note(&key.log_id[..4], &text, "log.example - 1\n13\n");
        assert!(verify_checkpoint(&other, &key, &hex(&key.log_id), 12, &root).is_err());
        // Another signer's line next to the log's is ignored.
        let two = format!("{good}\u{2014} witness AAAAAAAA\n");
        verify_checkpoint(&two, &key, &hex(&key.log_id), 12, &root).unwrap();
    }
}
