//! Embedded SCTs through `chains verify`: cosign's attestation bundle
//! (../shared/sigstore-vectors) verifies with its public-good trusted root;
//! when the root's CT logs cannot vouch for the certificate's SCT it is
//! rejected, unless `--insecure-ignore-sct` (cosign's flag) skips the check.

use std::process::Command;

use crate::common::root;

#[test]
fn embedded_scts_are_checked_unless_ignored() {
    let dir = root().join("../shared/sigstore-vectors/cosign/pkg/cosign/testdata");
    if !dir.is_dir() {
        println!("skipped: {} is absent", dir.display());
        return;
    }
    let bundle = dir.join("oci-attestation.sigstore.json");
    let verify = |trusted_root: &std::path::Path, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chains"))
            .arg("verify")
            .arg("--trusted-root")
            .arg(trusted_root)
            .args(["--certificate-identity", "cody@soyland.com"])
            .args([
                "--certificate-oidc-issuer",
                "https://github.com/login/oauth",
            ])
            .args(extra)
            .arg(&bundle)
            .output()
            .unwrap()
    };
    let good = dir.join("trusted_root_pgi.json");
    let out = verify(&good, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same root, but its CT logs' windows closed before the SCT.
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    for log in json["ctlogs"].as_array_mut().unwrap() {
        log["publicKey"]["validFor"] =
            serde_json::json!({"start": "2021-03-14T00:00:00Z", "end": "2021-03-14T00:00:01Z"});
    }
    let tmp = tempfile::tempdir().unwrap();
    let closed = tmp.path().join("closed_ctlogs.json");
    std::fs::write(&closed, json.to_string()).unwrap();
    let out = verify(&closed, &[]);
    assert_eq!(out.status.code(), Some(1));
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(report.contains("SCT"), "{report}");
    assert!(report.contains("--insecure-ignore-sct"), "{report}");

    let out = verify(&closed, &["--insecure-ignore-sct"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(report.contains("SCT not checked"), "{report}");
}
