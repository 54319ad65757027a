//! `chains watch` with each backend behind the fault proxy
//! (tests/common/fault.rs) in front of the real server: for each fault of
//! [`WATCH_FAULTS`], a controller meets the fault on one TaskRun, then gets
//! a later PipelineRun with the fault lifted. The faulted run ends
//! `signed: failed` after its retries, never `true`; every try's error
//! names the backend and says what happened (the same words as `attest`,
//! tests/faults.rs); nothing of it is stored; each try is counted under the
//! stage's `error_type`; and the controller goes on to sign the later run.
//! Nothing here measures time: `--timeout` only ends the stalled tries, and
//! the text is what is asserted.

use super::{Api, SIGNED, Watcher, base_config, cluster, kmock, pipelinerun, taskrun, wait_until};
use crate::common;
use crate::common::fault::{Fault, FaultProxy};
use crate::common::registry::{OCI_MANIFEST, Registry};
use crate::common::testdata;
use crate::faults::{moto_create_key, said};

use serde_json::{Value, json};

/// The faults each backend meets in `watch`, one run each, in this order.
const WATCH_FAULTS: [Fault; 5] = [
    Fault::Refuse,
    Fault::Reset,
    Fault::Status(503),
    Fault::Status(401),
    Fault::Stall,
];

/// One backend under test.
struct Case<'a> {
    /// What the errors name (`gcs`, `oci`, `rekor`, the KMS key reference).
    backend: &'a str,
    /// The metric label its failures are counted under.
    error_type: &'a str,
    config: Value,
    /// Extra `watch` arguments (besides `--timeout`).
    args: Vec<String>,
    envs: Vec<(&'a str, String)>,
    /// The run to add, given its name.
    run: &'a dyn Fn(&str) -> Value,
    /// The later PipelineRun (named), which the controller must sign.
    later: &'a dyn Fn(&str) -> Value,
    /// Whether anything of the named run is stored in the backend.
    stored: &'a dyn Fn(&Api, &str) -> bool,
}

/// The run name for a fault: `f-refuse`, `f-http-503`...
fn run_name(fault: Fault) -> String {
    format!("f-{}", fault.to_string().to_lowercase().replace(' ', "-"))
}

/// Run `case` through each of [`WATCH_FAULTS`], a controller each: a
/// store backend that fails is given up on by the process for a while
/// (src/store/retry.rs), which would hide the next fault.
fn through_faults(case: &Case, proxy: &FaultProxy) {
    for fault in WATCH_FAULTS {
        one_fault(case, proxy, fault);
    }
}

/// A controller (started with the fault lifted, so that it loads its key
/// and the log's) meets `fault` on one run, then signs a later run.
fn one_fault(case: &Case, proxy: &FaultProxy, fault: Fault) {
    let what = format!("{} x {fault}", case.backend);
    let (_kube, api, dir, kc) = cluster(kmock());
    api.config(case.config.clone());
    let mut args: Vec<&str> = vec!["--timeout", "10s"];
    args.extend(case.args.iter().map(String::as_str));
    let tag: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    proxy.set_fault(Fault::Pass);
    let mut w = Watcher::start(dir.path(), &tag, &kc, &args, &case.envs);
    // Started (its key loaded) and configured (the log's key read).
    wait_until(&format!("{what}: configured"), &[&w], || {
        !w.lines("watching").is_empty() && !w.lines("configuration loaded").is_empty()
    });
    let name = run_name(fault);
    let hits = proxy.faulted().len();
    proxy.set_fault(fault);
    api.add_run(&(case.run)(&name));
    wait_until(&format!("{what}: the run marked failed"), &[&w], || {
        api.annotation("taskruns", "ci", &name, SIGNED).is_some()
    });
    let a = &api.taskrun("ci", &name)["metadata"]["annotations"];
    assert_eq!(a[SIGNED], "failed", "{what}: {a}");
    assert_eq!(a["chains.tekton.dev/retries"], "3", "{what}: {a}");
    // Only the outcome and the retry count: no payload, signature,
    // certificate or transparency annotation.
    let ours: Vec<&String> = a
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("chains.tekton.dev/"))
        .collect();
    assert!(
        ours.iter()
            .all(|k| *k == SIGNED || *k == "chains.tekton.dev/retries"),
        "{what}: {a}"
    );
    let errors: Vec<String> = w
        .lines("attestation failed; will retry")
        .into_iter()
        .chain(w.lines("attestation failed; retries spent, marked failed"))
        .filter(|l| l["name"] == name.as_str())
        .map(|l| l["error"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(errors.len(), 5, "{what}: a try, three retries, a last try");
    for e in &errors {
        eprintln!("--- watch {what}: {e}");
        let lower = e.to_lowercase();
        assert!(e.contains(case.backend), "{what}: backend not named: {e}");
        assert!(
            said(fault).iter().any(|s| lower.contains(s)),
            "{what}: none of {:?} in: {e}",
            said(fault)
        );
    }
    if fault != Fault::Refuse {
        assert!(proxy.faulted().len() > hits, "{what}: never hit");
    }
    assert!(!(case.stored)(&api, &name), "{what}: stored");
    assert_eq!(
        w.metric(&format!(
            "watcher_taskrun_signing_failures_total{{error_type=\"{}\"}}",
            case.error_type
        )),
        errors.len() as f64,
        "{what}: each failed try counted"
    );
    // The controller goes on: a later run is signed with the fault lifted.
    // Where it needs the backend that was given up on meanwhile, it is
    // deferred until the backend is tried again, not failed.
    proxy.set_fault(Fault::Pass);
    api.add_run(&(case.later)("later"));
    wait_until(&format!("{what}: the later run marked"), &[&w], || {
        api.annotation("pipelineruns", "ci", "later", SIGNED)
            .is_some()
    });
    let outcome = api.annotation("pipelineruns", "ci", "later", SIGNED);
    eprintln!("--- watch {what}: the later run: {outcome:?}");
    assert_eq!(
        outcome.as_deref(),
        Some("true"),
        "{what}: the controller did not go on; log:\n{}",
        w.log()
    );
    assert_eq!(w.metric("watcher_taskrun_marked_signed_total"), 0.0);
    w.terminate();
}

fn key_args() -> Vec<String> {
    vec![
        "--key".into(),
        testdata("keys/ed25519.pem").display().to_string(),
    ]
}

/// The later run: a PipelineRun, stored in its own annotations.
fn later(name: &str) -> Value {
    pipelinerun("ci", name, &[])
}

fn plain_run(name: &str) -> Value {
    taskrun("ci", name, "True", 1)
}

/// Whether the run's annotations hold a signature (the tekton backend).
fn annotated(api: &Api, name: &str) -> bool {
    let a = &api.taskrun("ci", name)["metadata"]["annotations"];
    a.as_object().is_some_and(|o| {
        o.keys()
            .any(|k| k.starts_with("chains.tekton.dev/signature-"))
    })
}

#[test]
fn gcs_faults_fail_runs_clearly_and_the_controller_recovers() {
    let gcs = common::fake_gcs::start();
    common::fake_gcs::create_bucket(gcs.port, "attestations");
    let proxy = FaultProxy::start(gcs.port, Fault::Pass);
    let mut config = base_config();
    config["artifacts.pipelinerun.storage"] = json!("tekton");
    config["artifacts.taskrun.storage"] = json!("gcs");
    config["storage.gcs.bucket"] = json!("attestations");
    let port = gcs.port;
    let stored = move |_: &Api, name: &str| {
        let listing: Value = common::fake_gcs::http()
            .get(format!(
                "http://127.0.0.1:{port}/storage/v1/b/attestations/o"
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let names: Vec<&str> = listing["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|o| o["name"].as_str())
            .collect();
        // A reset answer comes after the object was written: it is there,
        // claimed nowhere (the run is marked failed, not signed).
        names.iter().any(|n| n.contains(name)) && name != run_name(Fault::Reset)
    };
    through_faults(
        &Case {
            backend: "gcs",
            error_type: "storage",
            config,
            args: key_args(),
            envs: vec![("STORAGE_EMULATOR_HOST", proxy.host())],
            run: &plain_run,
            later: &later,
            stored: &stored,
        },
        &proxy,
    );
}

#[test]
fn oci_faults_fail_runs_clearly_and_the_controller_recovers() {
    let reg = Registry::start();
    let proxy = FaultProxy::start(port_of(&reg.host), Fault::Pass);
    let mut config = base_config();
    config["artifacts.pipelinerun.storage"] = json!("tekton");
    config["artifacts.taskrun.storage"] = json!("oci");
    config["artifacts.oci.storage"] = json!("oci");
    // An image of its own for each run, so what is stored is the run's.
    let images = std::sync::Mutex::new(std::collections::HashMap::<String, String>::new());
    let host = proxy.host();
    let run = |name: &str| {
        let image = reg.push_image(name, "v1", name);
        let mut r = taskrun("ci", name, "True", 1);
        r["status"]["results"] = json!([
            {"name": "IMAGE_URL", "type": "string", "value": format!("{host}/{name}:v1")},
            {"name": "IMAGE_DIGEST", "type": "string", "value": image.digest()},
        ]);
        images
            .lock()
            .unwrap()
            .insert(name.to_string(), image.hex().to_string());
        r
    };
    let stored = |_: &Api, name: &str| {
        let hex = images.lock().unwrap()[name].clone();
        ["sig", "att"].iter().any(|suffix| {
            reg.manifest(name, &format!("sha256-{hex}.{suffix}"), OCI_MANIFEST)
                .is_some()
        })
    };
    through_faults(
        &Case {
            backend: "oci",
            error_type: "storage",
            config,
            args: key_args(),
            envs: vec![],
            run: &run,
            later: &later,
            stored: &stored,
        },
        &proxy,
    );
}

#[test]
fn rekor_faults_fail_runs_clearly_and_the_controller_recovers() {
    let rekor = common::sigstore_mock::start();
    // Reading the log key passes; the uploads are faulted.
    let proxy = FaultProxy::start_when(rekor.port, Fault::Pass, |head| {
        head.starts_with("POST /api/v1/log/entries")
    });
    let mut config = base_config();
    config["artifacts.pipelinerun.storage"] = json!("tekton");
    config["artifacts.taskrun.storage"] = json!("tekton");
    config["transparency.enabled"] = json!("true");
    config["transparency.url"] = json!(proxy.url());
    through_faults(
        &Case {
            backend: "rekor",
            error_type: "tlog",
            config,
            args: key_args(),
            envs: vec![],
            run: &plain_run,
            later: &later,
            stored: &annotated,
        },
        &proxy,
    );
}

#[test]
fn aws_kms_faults_fail_runs_clearly_and_the_controller_recovers() {
    let (_moto, port) = common::moto();
    moto_create_key(port, "chains-watch-faults");
    // Loading the key passes; signing is faulted.
    let proxy =
        FaultProxy::start_when(port, Fault::Pass, |head| head.contains("TrentService.Sign"));
    let mut config = base_config();
    config["artifacts.pipelinerun.storage"] = json!("tekton");
    config["artifacts.taskrun.storage"] = json!("tekton");
    through_faults(
        &Case {
            backend: "awskms:///alias/chains-watch-faults",
            error_type: "signing",
            config,
            args: vec!["--key".into(), "awskms:///alias/chains-watch-faults".into()],
            envs: vec![
                ("AWS_ACCESS_KEY_ID", "AKIAMOTOTESTING00000".into()),
                ("AWS_SECRET_ACCESS_KEY", "moto-secret".into()),
                ("AWS_REGION", "us-east-1".into()),
                ("AWS_EC2_METADATA_DISABLED", "true".into()),
                ("AWS_ENDPOINT_URL", proxy.url()),
            ],
            run: &plain_run,
            later: &later,
            stored: &annotated,
        },
        &proxy,
    );
}

fn port_of(host: &str) -> u16 {
    host.rsplit(':').next().unwrap().parse().unwrap()
}
