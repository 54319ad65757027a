//! chains: Tekton Chains' provenance, offline.
//!
//! The pipeline is the architecture: [`run`] reads TaskRuns and PipelineRuns,
//! [`provenance`] turns each into an in-toto statement, and the commands
//! ([`attest`]) compose those stages.

pub mod atomic;
pub mod attest;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod json;
pub mod k8s;
pub mod keys;
pub mod pem;
pub mod provenance;
pub mod run;
pub mod sign;
pub mod store;
pub mod verify;
pub mod watch;
