//! The TUF client against a real TUF repository made with python-tuf
//! (tests/tools/tuf_repo.py) and served on 127.0.0.1: the trusted root is
//! fetched and cached, a root rotation is followed, and expired, tampered,
//! rolled-back metadata and a target with the wrong hash are refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use chains::trust::tuf::{self, TufError, TufOptions};

use crate::common::{Service, free_port, root};

fn repo_tool(dir: &Path, args: &[&str]) {
    let out = Command::new("python3")
        .arg(root().join("tests/tools/tuf_repo.py"))
        .arg(args[0])
        .arg(dir)
        .args(&args[1..])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "tuf_repo.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn python_tuf_available() -> bool {
    Command::new("python3")
        .args(["-c", "import tuf.api.metadata, securesystemslib.signer"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The trust root published as the target: cosign's public-good one from
/// ../shared when it is there, else a minimal valid one.
fn target_file(tmp: &Path) -> (PathBuf, bool) {
    let shared =
        root().join("../shared/sigstore-vectors/cosign/pkg/cosign/testdata/trusted_root_pgi.json");
    if shared.is_file() {
        return (shared, true);
    }
    println!("../shared/sigstore-vectors is absent: publishing a minimal trusted root");
    let minimal = tmp.join("minimal_trusted_root.json");
    std::fs::write(
        &minimal,
        r#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#,
    )
    .unwrap();
    (minimal, false)
}

fn options(url: &str, repo: &Path, cache: &Path, offline: bool) -> TufOptions {
    TufOptions {
        url: url.to_string(),
        initial_root: std::fs::read(repo.join("repo/1.root.json")).unwrap(),
        cache_dir: cache.to_path_buf(),
        offline,
    }
}

fn refused(result: Result<chains::trust::TrustedRoot, TufError>, file: &str, why: &str) {
    match result {
        Err(TufError::Refused {
            file: f, why: w, ..
        }) => {
            assert_eq!(f, file, "{w}");
            assert!(w.contains(why), "{file}: {w}");
        }
        Err(e) => panic!("expected {file} refused ({why}), got: {e}"),
        Ok(_) => panic!("expected {file} refused ({why}), got a trusted root"),
    }
}

#[test]
fn a_python_tuf_repository_is_followed_and_bad_metadata_refused() {
    if !python_tuf_available() {
        println!("skipped: python-tuf (PyPI tuf) is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repository");
    let (target, real_root) = target_file(tmp.path());
    repo_tool(&repo, &["init", target.to_str().unwrap()]);
    let port = free_port();
    let _server = Service::start(
        "tuf",
        Path::new("python3"),
        &[
            root().join("tests/tools/tuf_repo.py").display().to_string(),
            "serve".into(),
            repo.display().to_string(),
            port.to_string(),
        ],
        &[],
        port,
        &format!("http://127.0.0.1:{port}/timestamp.json"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let cache = tmp.path().join("cache");
    let fresh = |name: &str| tmp.path().join(name);

    // First contact: fetched, verified, cached.
    let trusted = tuf::trusted_root(&options(&url, &repo, &cache, false)).unwrap();
    assert_eq!(!trusted.tlogs.is_empty(), real_root);
    for file in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
        "targets/trusted_root.json",
    ] {
        assert!(cache.join(file).is_file(), "{file} is cached");
    }
    // Offline: the cache alone; an empty cache is an error saying so.
    tuf::trusted_root(&options(&url, &repo, &cache, true)).unwrap();
    let e = tuf::trusted_root(&options(&url, &repo, &fresh("empty"), true)).unwrap_err();
    assert!(matches!(e, TufError::Cache(_)), "{e}");

    // A root rotation (v2, new root key, signed by the old and the new)
    // is followed, by a cached client and by one starting from v1.
    repo_tool(&repo, &["rotate-root"]);
    tuf::trusted_root(&options(&url, &repo, &cache, false)).unwrap();
    tuf::trusted_root(&options(&url, &repo, &fresh("from-v1"), false)).unwrap();
    let cached_root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cache.join("root.json")).unwrap()).unwrap();
    assert_eq!(cached_root["signed"]["version"], 2);

    // A root N+1 signed only by a new key (not by the trusted root's
    // keys) is refused, and so is a snapshot that is not the one the
    // timestamp describes.
    repo_tool(&repo, &["rotate-root-unsigned"]);
    refused(
        tuf::trusted_root(&options(&url, &repo, &cache, false)),
        "3.root.json",
        "threshold",
    );
    repo_tool(&repo, &["remove-root"]);
    repo_tool(&repo, &["tamper-snapshot"]);
    let e = tuf::trusted_root(&options(&url, &repo, &cache, false)).unwrap_err();
    assert!(
        matches!(&e, TufError::Refused { file, .. } if file.ends_with(".snapshot.json")),
        "{e}"
    );
    repo_tool(&repo, &["publish"]);

    // A timestamp changed after signing.
    repo_tool(&repo, &["bad-signature"]);
    refused(
        tuf::trusted_root(&options(&url, &repo, &cache, false)),
        "timestamp.json",
        "valid signature",
    );
    // An expired timestamp.
    repo_tool(&repo, &["expire"]);
    refused(
        tuf::trusted_root(&options(&url, &repo, &cache, false)),
        "timestamp.json",
        "expired",
    );
    repo_tool(&repo, &["publish"]);
    tuf::trusted_root(&options(&url, &repo, &cache, false)).unwrap();
    // The first timestamp served again: a rollback.
    repo_tool(&repo, &["rollback"]);
    refused(
        tuf::trusted_root(&options(&url, &repo, &cache, false)),
        "timestamp.json",
        "rollback",
    );
    repo_tool(&repo, &["publish"]);
    // The served target no longer has the hash the targets metadata gives:
    // refused where it must be downloaded, while a verified cached copy
    // still serves.
    repo_tool(&repo, &["tamper-target"]);
    let e = tuf::trusted_root(&options(&url, &repo, &fresh("tampered"), false)).unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("trusted_root.json")
            && ["larger than", "bytes, not the", "sha256"]
                .iter()
                .any(|w| message.contains(w)),
        "{message}"
    );
    tuf::trusted_root(&options(&url, &repo, &cache, false)).unwrap();
    repo_tool(&repo, &["publish"]);

    // chains verify takes its trust from the repository: cosign's
    // attestation bundle verifies with the public-good root it serves.
    if !real_root {
        return;
    }
    let bundle = root().join(
        "../shared/sigstore-vectors/cosign/pkg/cosign/testdata/oci-attestation.sigstore.json",
    );
    let verify = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_chains"))
            .args(["verify", "--tuf-url", &url, "--tuf-root"])
            .arg(repo.join("repo/1.root.json"))
            .args(["--certificate-identity", "cody@soyland.com"])
            .args([
                "--certificate-oidc-issuer",
                "https://github.com/login/oauth",
            ])
            .args(extra)
            .arg(&bundle)
            .env("XDG_CACHE_HOME", tmp.path().join("xdg"))
            .output()
            .unwrap()
    };
    let out = verify(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = verify(&["--offline"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without its initial root, another repository is not trusted.
    let out = Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(["verify", "--tuf-url", &url, "--certificate-identity", "x"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tuf-root"));
}
