//! `--artifact FILE` or `--artifact ALG:HEX`: what a signature must be about.
//!
//! A file is hashed (SHA-256 and SHA-512, the digests statements name); its
//! bytes are kept when small enough, so that a message-signature bundle
//! (which carries only the message's digest) is verified over the bytes
//! themselves, as any key type needs. The comparison with what was verified
//! is the policy's ([`super::policy::Policy::artifact`]).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256, Sha512};

use super::evidence::{Evidence, Signed};
use super::policy::DigestSpec;

/// Artifacts up to this size are kept in memory to verify message
/// signatures over their bytes; larger ones are known by their digests.
const KEEP_BYTES: u64 = 64 * 1024 * 1024;

/// The artifact given.
pub struct Artifact {
    pub digests: Vec<DigestSpec>,
    /// The file's bytes, when it was a file and small enough.
    pub bytes: Option<Vec<u8>>,
    sha256: Option<Vec<u8>>,
}

impl Artifact {
    /// `ALG:HEX` (sha256, sha384 or sha512), else a file to hash.
    pub fn from_arg(arg: &str) -> Result<Artifact, String> {
        if let Some((alg, _)) = arg.split_once(':')
            && matches!(alg, "sha256" | "sha384" | "sha512")
            && !Path::new(arg).exists()
        {
            let spec: DigestSpec = arg.parse().map_err(|e| format!("--artifact: {e}"))?;
            let len = match alg {
                "sha256" => 64,
                "sha384" => 96,
                _ => 128,
            };
            if spec.hex.len() != len {
                return Err(format!(
                    "--artifact {arg}: a {alg} digest has {len} hex digits, not {}",
                    spec.hex.len()
                ));
            }
            let sha256 = (alg == "sha256")
                .then(|| crate::tlog::hex_decode(&spec.hex))
                .flatten();
            return Ok(Artifact {
                digests: vec![spec],
                bytes: None,
                sha256,
            });
        }
        Self::from_file(Path::new(arg))
    }

    fn from_file(path: &Path) -> Result<Artifact, String> {
        let cannot = |e: std::io::Error| format!("--artifact: cannot read {}: {e}", path.display());
        let mut file = std::fs::File::open(path).map_err(cannot)?;
        let size = file.metadata().map_err(cannot)?.len();
        let mut bytes = (size <= KEEP_BYTES).then(|| Vec::with_capacity(size as usize));
        let (mut s256, mut s512) = (Sha256::new(), Sha512::new());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(cannot)?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            s256.update(chunk);
            s512.update(chunk);
            if let Some(b) = bytes.as_mut() {
                if b.len() as u64 + n as u64 > KEEP_BYTES {
                    // The file grew while read: known by digest only.
                    bytes = None;
                } else {
                    b.extend_from_slice(chunk);
                }
            }
        }
        let sha256 = s256.finalize().to_vec();
        let hex = |d: &[u8]| crate::tlog::hex(d);
        Ok(Artifact {
            digests: vec![
                DigestSpec {
                    algorithm: Some("sha256".into()),
                    hex: hex(&sha256),
                },
                DigestSpec {
                    algorithm: Some("sha512".into()),
                    hex: hex(&s512.finalize()),
                },
            ],
            bytes,
            sha256: Some(sha256),
        })
    }

    /// A message signature known only by its digest is over the artifact's
    /// bytes when the digests agree: verify it over them. (When they do
    /// not, the policy rejects it, naming both.)
    pub fn supply(&self, mut evidence: Evidence) -> Evidence {
        if let (Signed::Digest { digest, signature }, Some(bytes), Some(sha256)) =
            (&evidence.signed, &self.bytes, &self.sha256)
            && digest == sha256
        {
            evidence.signed = Signed::Message {
                payload: bytes.clone(),
                signature: signature.clone(),
            };
        }
        evidence
    }
}
