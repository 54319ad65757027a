//! `chains verify --local-image`: images and their signatures read from OCI
//! image layouts on disk written by code we did not write. Debian's
//! `skopeo` copies what `chains attest --storage oci` pushed to a real
//! registry (`docker-registry` on 127.0.0.1) into a layout by tag; the
//! ec-cli test image of ../shared/sigstore-vectors is a layout `cosign
//! save` wrote (cosign's `kind` annotations).
//!
//! Needs `docker-registry` and `skopeo` (`apt-get install docker-registry
//! skopeo`).

use crate::common;
use crate::common::testdata;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use chains::run::reference::ImageDigest;
use common::registry::Registry;

fn key_path() -> std::path::PathBuf {
    testdata("keys/p256-sec1.pem")
}

/// `chains attest --key p256 --storage oci` for the build TaskRun, made to
/// have built `image`; `config` is its chains-config.
fn attest(dir: &Path, image: &ImageDigest, config: Option<&str>) {
    let run = std::fs::read_to_string(testdata("runs/taskrun-build.yaml"))
        .unwrap()
        .replace("registry.example.com/team/app", &image.repository_name())
        .replace(
            "sha256:3b1f6a0e2c9d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a",
            image.digest(),
        );
    let run_file = dir.join("taskrun.yaml");
    std::fs::write(&run_file, run).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chains"));
    cmd.args(["attest", "--key"])
        .arg(key_path())
        .args(["--storage", "oci"]);
    if let Some(config) = config {
        let file = dir.join("chains-config.yaml");
        std::fs::write(&file, config).unwrap();
        cmd.arg("--config").arg(file);
    }
    let out = cmd
        .arg(&run_file)
        .env("DOCKER_CONFIG", dir)
        .env_remove("COSIGN_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chains attest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `skopeo copy docker://FROM oci:TO` from the test registry into a layout
/// (`TO` is `DIR:REF`), keeping every digest.
fn skopeo(from: &str, to: &str) {
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            "--preserve-digests",
        ])
        .arg(format!("docker://{from}"))
        .arg(format!("oci:{to}"))
        .stdin(Stdio::null())
        .output()
        .expect("skopeo runs (apt-get install skopeo)");
    assert!(
        out.status.success(),
        "skopeo copy {from} {to}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn verify(args: &[&str]) -> (Option<i32>, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_chains"))
        .arg("verify")
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!said.contains("panicked"), "{said}");
    (out.status.code(), said)
}

#[test]
fn a_layout_skopeo_copied_by_tag_verifies_as_the_registry_does() {
    let reg = Registry::start();
    let image = reg.push_image("team/app", "1.4.2", "local layout");
    let tmp = tempfile::tempdir().unwrap();
    attest(tmp.path(), &image, None);
    let layout = tmp.path().join("layout");
    let layout_s = layout.to_str().unwrap();
    let hex = image.hex();
    let repo = format!("{}/team/app", reg.host);
    for tag in [
        "1.4.2".to_string(),
        format!("sha256-{hex}.sig"),
        format!("sha256-{hex}.att"),
    ] {
        skopeo(&format!("{repo}:{tag}"), &format!("{layout_s}:{tag}"));
    }
    let key = key_path().display().to_string();
    let builder = ["--builder-id", "https://tekton.dev/chains/v2"];

    let (code, said) =
        verify(&[&["--key", &key, "--local-image", layout_s], &builder[..]].concat());
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(&format!(
            "{layout_s}:sha256-{hex}.sig layer 1: signature of image {}",
            image.digest()
        )) && said.contains(&format!(
            "{layout_s}:sha256-{hex}.att layer 1: https://slsa.dev/provenance/v0.2"
        )),
        "{said}"
    );
    // The same as from the registry.
    let (code, remote) = verify(&[
        "--key",
        &key,
        "--allow-insecure-registry",
        "--image",
        &format!("{repo}:1.4.2"),
    ]);
    assert_eq!(code, Some(0), "{remote}");
    assert!(remote.contains("2 verified, 0 rejected") && said.contains("2 verified, 0 rejected"));

    // Another builder: no attestation meets the policy.
    let (code, said) = verify(&[
        "--key",
        &key,
        "--local-image",
        layout_s,
        "--builder-id",
        "https://example.com/other",
    ]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("none of its 2"), "{said}");

    // A second image in the layout: which one must be said.
    let other = reg.push_image("team/other", "v2", "another image");
    skopeo(
        &format!("{}/team/other:v2", reg.host),
        &format!("{layout_s}:v2"),
    );
    let (code, said) = verify(&["--key", &key, "--local-image", layout_s]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("it holds 2 images (1.4.2, v2): name one as"),
        "{said}"
    );
    let (code, said) = verify(&["--key", &key, "--local-image", &format!("{layout_s}:1.4.2")]);
    assert_eq!(code, Some(0), "{said}");
    // Nothing is attached to the other: rejected, not an error.
    let (code, said) = verify(&["--key", &key, "--local-image", &format!("{layout_s}:v2")]);
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("no signatures or attestations are attached"),
        "{said}"
    );
    let (code, said) = verify(&["--key", &key, "--local-image", &format!("{layout_s}:v3")]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("no manifest is named \"v3\""), "{said}");
    drop(other);

    // An attestation edited on disk: the layout is refused, naming the blob.
    let att: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let att_digest = att["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"] == format!("sha256-{hex}.att")
        })
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(&att_digest[7..])).unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let layer_file = layout.join("blobs/sha256").join(&layer[7..]);
    let mut bytes = std::fs::read(&layer_file).unwrap();
    bytes[0] = b' ';
    std::fs::write(&layer_file, bytes).unwrap();
    let (code, said) = verify(&["--key", &key, "--local-image", &format!("{layout_s}:1.4.2")]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains(&format!("blob {layer} does not match its digest")),
        "{said}"
    );
}

/// Sigstore bundles stored as referrers (storage.oci.encoding-format
/// sigstore-bundle): skopeo copies each referrer the referrers tag lists,
/// by digest, into the layout; the bundles are found by their subject,
/// listed in index.json or not (as `cosign save` leaves them).
#[test]
fn referrer_bundles_in_a_layout_verify() {
    let reg = Registry::start();
    let image = reg.push_image("team/app", "1.4.2", "local referrers");
    let tmp = tempfile::tempdir().unwrap();
    attest(
        tmp.path(),
        &image,
        Some("storage.oci.encoding-format: sigstore-bundle\n"),
    );
    let layout = tmp.path().join("layout");
    let layout_s = layout.to_str().unwrap();
    let repo = format!("{}/team/app", reg.host);
    skopeo(&format!("{repo}:1.4.2"), &format!("{layout_s}:1.4.2"));
    let referrers_tag = format!("sha256-{}", image.hex());
    let (_, index) = reg
        .manifest(
            "team/app",
            &referrers_tag,
            "application/vnd.oci.image.index.v1+json",
        )
        .unwrap();
    let referrers = index["manifests"].as_array().unwrap();
    assert_eq!(referrers.len(), 2, "{index}");
    for (i, r) in referrers.iter().enumerate() {
        let digest = r["digest"].as_str().unwrap();
        skopeo(
            &format!("{repo}@{digest}"),
            &format!("{layout_s}:referrer-{i}"),
        );
    }
    let key = key_path().display().to_string();
    let check = || {
        let (code, said) = verify(&["--key", &key, "--local-image", layout_s]);
        assert_eq!(code, Some(0), "{said}");
        assert_eq!(said.matches("(referrer bundle)").count(), 2, "{said}");
        assert!(said.contains("2 verified, 0 rejected"), "{said}");
    };
    check();
    // Unlisted, as `cosign save` leaves referrers: found in the blobs.
    let index_file = layout.join("index.json");
    let mut listed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_file).unwrap()).unwrap();
    listed["manifests"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "1.4.2");
    std::fs::write(&index_file, serde_json::to_vec(&listed).unwrap()).unwrap();
    check();
}

/// The ec-cli test image, as `cosign save` wrote it: its signature and
/// attestation verify from the layout, keyless, against the trusted root
/// of the Sigstore stack that signed them; another identity is refused.
#[test]
fn a_layout_cosign_saved_verifies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigstore-vectors/ec-cli");
    if !dir.is_dir() {
        println!("skipped: ../shared/sigstore-vectors is absent");
        return;
    }
    let root = dir.join("tuf-recorded-trusted_root.json");
    let layout = dir.join("acceptance/image/testimage");
    let run = |identity: &str| {
        verify(&[
            "--trusted-root",
            root.to_str().unwrap(),
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            "https://kubernetes.default.svc.cluster.local",
            "--local-image",
            layout.to_str().unwrap(),
        ])
    };
    let (code, said) = run("https://kubernetes.io/namespaces/default/serviceaccounts/default");
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(".sig layer 1: signature of image sha256:08b9de4e4e320eba914f62abe2c555521336e765ae77dff1e8a261acd6723528")
            && said.contains(".att layer 1: https://slsa.dev/provenance/v0.2"),
        "{said}"
    );
    let (code, said) = run("https://kubernetes.io/namespaces/default/serviceaccounts/other");
    assert_eq!(code, Some(1), "{said}");
}

#[test]
fn what_is_not_a_layout_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key_path().display().to_string();
    let dir = tmp.path().to_str().unwrap();
    let (code, said) = verify(&["--key", &key, "--local-image", dir]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains(&format!("cannot read {dir}: no index.json in it")),
        "{said}"
    );
    let missing = tmp.path().join("absent");
    let (code, said) = verify(&["--key", &key, "--local-image", missing.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("no such directory"), "{said}");
}
