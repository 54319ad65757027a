//! The integration tests, as one binary (ripgrep's layout): each file below
//! is a module, so sigstore, kube and the AWS SDK are linked once instead of
//! once per file. Shared support (real services on 127.0.0.1, the fault
//! server, paths) lives in `common`. Run one area with a filter, e.g.
//! `cargo test --test integration store_oci::`.

mod common;

mod architecture;
mod attest_inputs;
mod cli;
mod conformance;
mod faults;
mod fulcio;
mod generated;
mod habits;
mod kms_aws_vault;
mod kms_envelopes;
mod kms_gcp_azure;
mod rekor;
mod sign;
mod store_archivista;
mod store_cluster;
mod store_docdb;
mod store_gcs;
mod store_grafeas;
mod store_oci;
mod store_pubsub;
mod store_tekton;
mod trust_sct;
mod trust_tuf;
mod vectors;
mod verify;
mod verify_certificate;
mod verify_gcs;
mod verify_local;
mod verify_oci;
mod watch;
