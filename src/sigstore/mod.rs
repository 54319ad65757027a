//! Sigstore's wire formats that several stages share: the bundle
//! ([`bundle`], read by verify, written by attest and the OCI store) and
//! JSON read strictly where a signature depends on it ([`strict_json`]).

pub mod bundle;
pub mod strict_json;
