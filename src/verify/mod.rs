//! `chains verify`: read signed artifacts back from wherever they were
//! stored, and check signatures, certificates, transparency log entries and
//! the statement against a policy.

pub mod evidence;
pub mod bundle;
