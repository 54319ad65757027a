//! Not yet supported: signing with this KMS is being added.
use super::KmsOptions;
use crate::sign::{PublicKey, SharedSigner, SignError};

pub fn load(uri: &str, _opts: &KmsOptions) -> Result<SharedSigner, SignError> {
    Err(SignError::Kms { signer: uri.to_string(), message: "not supported by this build yet".into() })
}

pub fn create(uri: &str, _opts: &KmsOptions) -> Result<PublicKey, SignError> {
    Err(SignError::Kms { signer: uri.to_string(), message: "not supported by this build yet".into() })
}
