//! DSSE envelopes (the in-toto attestation wrapper), as Chains and cosign write them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::{SignError, Signer};

/// The payload type of in-toto statements.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// DSSE's pre-authentication encoding: what is actually signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope. Field order matches go-securesystemslib's JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Standard base64 of the payload.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: String,
    /// Standard base64 of the signature.
    pub sig: String,
}

impl Envelope {
    /// Sign `payload` with `signer`; the keyid is Chains' (the key's SSH fingerprint).
    pub fn sign(
        signer: &dyn Signer,
        payload_type: &str,
        payload: &[u8],
    ) -> Result<Envelope, SignError> {
        let sig = signer.sign(&pae(payload_type, payload))?;
        Ok(Envelope {
            payload_type: payload_type.to_string(),
            payload: base64_simd::STANDARD.encode_to_string(payload),
            signatures: vec![EnvelopeSignature {
                keyid: signer.public_key().key_id(),
                sig: STANDARD.encode(sig),
            }],
        })
    }

    /// The decoded payload.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        STANDARD.decode(&self.payload)
    }

    /// Compact JSON, byte for byte what serde_json writes for the struct.
    ///
    /// Written by hand because the payload is long (tens of KB of base64):
    /// [`crate::json::write_str`] copies it whole.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 256);
        out.extend_from_slice(b"{\"payloadType\":");
        crate::json::write_str(&mut out, &self.payload_type);
        out.extend_from_slice(b",\"payload\":");
        crate::json::write_str(&mut out, &self.payload);
        out.extend_from_slice(b",\"signatures\":[");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"keyid\":");
            crate::json::write_str(&mut out, &s.keyid);
            out.extend_from_slice(b",\"sig\":");
            crate::json::write_str(&mut out, &s.sig);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_encoded_as_the_base64_crate_encodes_them() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(4099).collect();
        for len in (0..70).chain([1023, 1024, 1025, 4096, 4099]) {
            assert_eq!(
                base64_simd::STANDARD.encode_to_string(&bytes[..len]),
                STANDARD.encode(&bytes[..len]),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn to_json_is_what_serde_json_writes() {
        for text in [
            "",
            "eyJhIjoxfQ==",
            "quote \" backslash \\ newline \n tab \t nul \0 del \x7f",
            "non-ASCII \u{e9}\u{2028}\u{1F600} </script>",
        ] {
            let envelope = Envelope {
                payload_type: format!("type {text}"),
                payload: text.to_string(),
                signatures: vec![
                    EnvelopeSignature {
                        keyid: text.to_string(),
                        sig: "MEUCIQ==".into(),
                    },
                    EnvelopeSignature {
                        keyid: String::new(),
                        sig: text.to_string(),
                    },
                ],
            };
            assert_eq!(
                String::from_utf8(envelope.to_json()).unwrap(),
                serde_json::to_string(&envelope).unwrap()
            );
        }
        let unsigned = Envelope {
            payload_type: IN_TOTO.into(),
            payload: "e30=".into(),
            signatures: Vec::new(),
        };
        assert_eq!(unsigned.to_json(), serde_json::to_vec(&unsigned).unwrap());
    }

    #[test]
    fn pae_matches_the_spec() {
        // The example from the DSSE specification's protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}
