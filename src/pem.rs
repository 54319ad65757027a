//! PEM, as the Go tools write and read it: `encode` writes 64-column lines
//! with `\n` endings (what Go's encoding/pem emits, so keys, certificates and
//! Rekor verifiers match byte for byte); `decode` accepts any whitespace
//! inside a block and text around it. A foundation module: signing, cloud
//! credentials, the transparency log and verification all read PEM, and none
//! of them should import another for it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The first PEM block with one of `labels`, decoded.
pub fn decode(text: &str, labels: &[&str]) -> Option<Vec<u8>> {
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(start) = text.find(&begin) {
            let body_start = start + begin.len();
            let stop = text[body_start..].find(&end)? + body_start;
            let b64: String = text[body_start..stop]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            return STANDARD.decode(b64).ok();
        }
    }
    None
}

/// PEM-encode DER with 64-column lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
