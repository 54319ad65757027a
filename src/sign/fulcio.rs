//! Not yet supported: keyless signing is being added.
use crate::sign::{SharedSigner, SignError};
pub struct FulcioOptions {
    pub url: String,
    pub identity_token: String,
}
pub fn load(_opts: &FulcioOptions) -> Result<SharedSigner, SignError> {
    Err(SignError::Fulcio { message: "not supported by this build yet".into() })
}
