//! Sigstore's wire formats that several stages share: the bundle
//! ([`bundle`], read by verify, written by attest and the OCI store). JSON
//! read strictly where a signature depends on it is a foundation below both
//! this and `tlog` ([`crate::strict_json`]).

pub mod bundle;
