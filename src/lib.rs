//! chains: Tekton Chains' provenance, offline.
//!
//! The pipeline is the architecture: [`run`] reads TaskRuns and PipelineRuns,
//! [`provenance`] turns each into an in-toto statement, [`sign`] and
//! [`store`] sign and keep it, and [`pipeline`] composes those stages for one
//! run. The commands ([`attest`], [`verify`], [`watch`]) are thin layers over
//! the pipeline and never import one another.

pub mod annotations;
pub mod atomic;
pub mod attest;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod deadline;
#[doc(hidden)]
pub mod fuzzing;
pub mod json;
pub mod k8s;
pub mod keys;
pub mod manual;
pub mod pem;
pub mod pipeline;
pub mod plan;
pub mod provenance;
pub mod report;
pub mod run;
pub mod sign;
pub mod sigstore;
pub mod sink;
pub mod store;
pub mod stored;
pub mod strict_json;
pub mod tlog;
pub mod trust;
pub mod verify;
pub mod watch;
