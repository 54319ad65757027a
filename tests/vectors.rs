//! The public Sigstore test vectors of ../shared/sigstore-vectors (bundles
//! v0.1-v0.3, DSSE and message signatures, Rekor v1 and v2 entries, a
//! cosign-signed OCI image layout), each verified by `chains verify` with the
//! trust material and artifact its upstream test uses, and held to the
//! outcome that test asserts (index.json). The vectors are others' data: read
//! from ../shared, never copied here; without it the test says so and
//! returns.
//!
//! The image layout's signature and attestation (rows 23, 24) are pushed to
//! a real registry on 127.0.0.1 and verified with `--image`, as ec-cli's test
//! pushes them. A vector whose outcome needs what no local stand-in can give
//! is skipped with its reason printed; one whose check is still missing here
//! is listed in PENDING with what it needs, and reported, not asserted.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use common::registry::Registry;

/// Vectors that cannot be checked offline at all, with why.
const SKIPPED: &[(&str, &str)] = &[(
    "py-a-txt-detached",
    "a detached signature whose only log evidence is the staging Rekor's entry, looked up online by the upstream test; no local stand-in can serve an entry signed by staging's log key (offline, chains checks it and refuses it for want of a signing time: asserted below)",
)];

/// Vectors whose expected outcome needs a check not in chains yet, with
/// what it needs (none today: Rekor v2 and TSA bundles verify since the
/// trust module checks RFC 3161 timestamps).
const PENDING: &[(&str, &str)] = &[];

fn vectors_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigstore-vectors");
    dir.join("index.json").is_file().then_some(dir)
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Validity windows the upstream tests give a vector's public key in code
/// (no input file carries them): (vector id, start, end).
const KEY_WINDOWS: &[(&str, &str, &str)] = &[(
    "go-public-key-validity",
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:01Z",
)];

/// The PEM key `pem` with the window `[start, end]`, as a Sigstore
/// `PublicKey` message in JSON (what `--key` takes for a key with a window).
fn key_with_window(pem: &Path, start: &str, end: &str, out: &Path) -> String {
    use base64::Engine;
    let text = std::fs::read_to_string(pem).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let json = serde_json::json!({
        "rawBytes": base64::engine::general_purpose::STANDARD.encode(der),
        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        "validFor": {"start": start, "end": end},
    });
    std::fs::write(out, json.to_string()).unwrap();
    out.display().to_string()
}

/// `chains verify` arguments for one vector (its input last).
fn args(dir: &Path, v: &Value, tmp: &Path) -> Vec<String> {
    let mut args = vec!["verify".to_string()];
    let path = |k: &str| text(v, k).map(|p| dir.join(p).display().to_string());
    if let Some(root) = path("trusted_root") {
        args.extend(["--trusted-root".into(), root]);
    }
    let id = text(v, "id").unwrap_or_default();
    if let Some(key) = path("public_key") {
        let key = match KEY_WINDOWS.iter().find(|(k, _, _)| *k == id) {
            Some((_, start, end)) => key_with_window(
                Path::new(&key),
                start,
                end,
                &tmp.join(format!("{id}.key.json")),
            ),
            None => key,
        };
        args.extend(["--key".into(), key]);
    }
    match (
        text(v, "certificate_identity"),
        text(v, "certificate_oidc_issuer"),
    ) {
        (Some(id), issuer) => {
            args.extend(["--certificate-identity".into(), id]);
            if let Some(iss) = issuer {
                args.extend(["--certificate-oidc-issuer".into(), iss]);
            }
        }
        // A keyless vector without an identity in its test: any identity,
        // so that what is checked is the bundle, not a usage error.
        (None, _) if v.get("public_key").is_none_or(Value::is_null) => {
            args.extend(["--certificate-identity-regexp".into(), ".*".into()]);
        }
        _ => {}
    }
    if let Some(bytes) = text(v, "artifact_bytes") {
        let file = tmp.join(format!("{}.artifact", text(v, "id").unwrap_or_default()));
        std::fs::write(&file, bytes).unwrap();
        args.extend(["--artifact".into(), file.display().to_string()]);
    } else if let Some(artifact) = path("artifact") {
        args.extend(["--artifact".into(), artifact]);
    } else if let Some(digest) = text(v, "artifact_digest") {
        args.extend(["--artifact".into(), digest]);
    }
    args
}

/// Push the layout's image and one of its cosign manifests (`.sig` or
/// `.att`, by the digest `attached`) to `registry`; the image reference.
fn push_layout(registry: &Registry, layout: &Path, attached: &str, repo: &str) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let blob = |digest: &str| {
        let hex = digest.trim_start_matches("sha256:");
        std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap()
    };
    let mut image = String::new();
    for m in index["manifests"].as_array().unwrap() {
        let digest = m["digest"].as_str().unwrap();
        let kind = m["annotations"]["kind"].as_str().unwrap_or("");
        let tag = match kind {
            "dev.cosignproject.cosign/image" => {
                image = digest.to_string();
                "latest".to_string()
            }
            _ if digest.ends_with(attached) => {
                let suffix = if kind.ends_with("/sigs") {
                    "sig"
                } else {
                    "att"
                };
                format!("{}.{suffix}", image.replace(':', "-"))
            }
            _ => continue,
        };
        let bytes = blob(digest);
        let manifest: Value = serde_json::from_slice(&bytes).unwrap();
        for d in std::iter::once(&manifest["config"]).chain(manifest["layers"].as_array().unwrap())
        {
            let pushed = registry.upload_blob(repo, &blob(d["digest"].as_str().unwrap()));
            assert_eq!(pushed, d["digest"].as_str().unwrap());
        }
        let resp = registry
            .http()
            .put(format!(
                "http://{}/v2/{repo}/manifests/{tag}",
                registry.host
            ))
            .header("Content-Type", m["mediaType"].as_str().unwrap())
            .body(bytes)
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "pushing {kind} as {tag}");
    }
    format!("{}/{repo}@{image}", registry.host)
}

/// A detached signature and certificate (cosign sign-blob's outputs)
/// without any log evidence: its signature and certificate are checked, and
/// it is refused because nothing attests when it was made.
fn offline_detached(dir: &Path, v: &Value, cert: &str, tmp: &Path) {
    let mut args = args(dir, v, tmp);
    let signature = dir.join(text(v, "file").unwrap());
    args.extend([
        "--signature".into(),
        signature.display().to_string(),
        "--certificate".into(),
        dir.join(cert).display().to_string(),
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_chains"))
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("no trusted signing time"), "{said}");
}

#[test]
fn every_sigstore_vector_gives_its_upstream_outcome() {
    let Some(dir) = vectors_dir() else {
        println!(
            "skipped: ../shared/sigstore-vectors is absent (the public vectors are read from there)"
        );
        return;
    };
    let index: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut registry = None;
    let (mut right, mut wrong, mut pending_met) = (Vec::new(), Vec::new(), Vec::new());
    for (n, v) in index.iter().enumerate() {
        let id = text(v, "id").unwrap_or_default();
        let row = n + 1;
        if let Some((_, why)) = SKIPPED.iter().find(|(s, _)| *s == id) {
            println!("{row:2} {id}: skipped: {why}");
            if let Some(cert) = text(v, "certificate") {
                offline_detached(&dir, v, &cert, tmp.path());
            }
            continue;
        }
        let mut args = args(&dir, v, tmp.path());
        let file = text(v, "file").unwrap();
        if file.starts_with("ec-cli/acceptance/image/testimage/blobs/") {
            let registry = registry.get_or_insert_with(Registry::start);
            let layout = dir.join("ec-cli/acceptance/image/testimage");
            let attached = file.rsplit('/').next().unwrap();
            let image = push_layout(registry, &layout, attached, &format!("vector{row}"));
            // The image is the artifact: --image checks that.
            if let Some(i) = args.iter().position(|a| a == "--artifact") {
                args.drain(i..i + 2);
            }
            args.extend(["--allow-insecure-registry".into(), "--image".into(), image]);
        } else {
            args.push(dir.join(&file).display().to_string());
        }
        let out = Command::new(env!("CARGO_BIN_EXE_chains"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!said.contains("panicked"), "{id}: {said}");
        let got = match out.status.code() {
            Some(0) => "accept",
            Some(1) => "reject",
            // A usage error is no verdict on the vector.
            _ => "error",
        };
        let expected = text(v, "expect").unwrap();
        let pending = PENDING.iter().find(|(p, _)| *p == id);
        let line = said.lines().next().unwrap_or("").to_string();
        println!("{row:2} {id}: expected {expected}, got {got}: {line}");
        match (got == expected, pending) {
            (true, None) => right.push(id),
            (true, Some(_)) => pending_met.push(id),
            (false, Some((_, why))) => println!("   pending: {why}"),
            (false, None) => wrong.push(format!(
                "{row} {id}: expected {expected}, got {got}: {said}"
            )),
        }
    }
    println!(
        "{} of {} vectors as upstream expects ({} skipped, {} pending)",
        right.len() + pending_met.len(),
        index.len(),
        SKIPPED.len(),
        PENDING.len() - pending_met.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        pending_met.is_empty(),
        "these now give their upstream outcome: take them off PENDING: {pending_met:?}"
    );
}

/// sigstore-go's key validity rule on its own vector: the key verifies
/// the signature only when the bundle's RFC 3161 timestamp falls inside the
/// window its `PublicKey` JSON gives, and a malformed key is refused with
/// the field at fault.
#[test]
fn a_key_window_is_checked_against_the_signed_timestamp() {
    let Some(dir) = vectors_dir() else {
        println!("skipped: ../shared/sigstore-vectors is absent");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let go = dir.join("sigstore-go/pkg/testing/data");
    let pem = go.join("public-keys/public-key-validity.pem");
    let artifact = tmp.path().join("artifact");
    std::fs::write(&artifact, "test content").unwrap();
    let verify = |key: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_chains"))
            .args(["verify", "--trusted-root"])
            .arg(go.join("trusted-roots/public-key-validity.json"))
            .args(["--key", key, "--artifact"])
            .arg(&artifact)
            .arg(go.join("bundles/public-key-validity.sigstore.json"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), said)
    };
    let key = |start: &str, end: &str, name: &str| {
        key_with_window(&pem, start, end, &tmp.path().join(name))
    };
    // The timestamp says 2026-06-04T17:43:29Z.
    let (code, said) = verify(&key(
        "2026-06-04T00:00:00Z",
        "2026-06-05T00:00:00Z",
        "in.json",
    ));
    assert_eq!(code, Some(0), "{said}");
    let (code, said) = verify(&key(
        "2026-06-04T17:43:30Z",
        "2026-06-05T00:00:00Z",
        "late.json",
    ));
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("signature time outside of the key's validity window: the RFC 3161 timestamp says 2026-06-04T17:43:29Z"),
        "{said}"
    );
    // Given again without a window, the key verifies it.
    let (code, said) = verify(&pem.display().to_string());
    assert_eq!(code, Some(0), "{said}");

    let wrong = tmp.path().join("wrong.json");
    let text = std::fs::read_to_string(key(
        "2026-06-04T00:00:00Z",
        "2026-06-05T00:00:00Z",
        "w.json",
    ))
    .unwrap();
    std::fs::write(
        &wrong,
        text.replace("PKIX_ECDSA_P256_SHA_256", "PKIX_ED25519"),
    )
    .unwrap();
    let (code, said) = verify(&wrong.display().to_string());
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("keyDetails say PKIX_ED25519"), "{said}");
    let twice = tmp.path().join("twice.json");
    std::fs::write(
        &twice,
        text.replacen("{", r#"{"validFor":{"start":"1970-01-01T00:00:00Z"},"#, 1),
    )
    .unwrap();
    let (code, said) = verify(&twice.display().to_string());
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("duplicate field `validFor`"), "{said}");
}

/// sigstore-python's rule that a bundle carries exactly one log entry, on
/// its own bundle_v3 vector: the same bundle with its entry given twice is
/// refused as a bundle, and without it (keyless) refused for want of the
/// entry, each with that reason; as shipped it verifies.
#[test]
fn a_bundle_carries_exactly_one_log_entry() {
    let Some(dir) = vectors_dir() else {
        println!("skipped: ../shared/sigstore-vectors is absent");
        return;
    };
    let index: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let v = index
        .iter()
        .find(|v| text(v, "id").as_deref() == Some("py-bundle-v3"))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let original: Value =
        serde_json::from_slice(&std::fs::read(dir.join(text(v, "file").unwrap())).unwrap())
            .unwrap();
    let run = |bundle: &Value, name: &str| {
        let file = tmp.path().join(name);
        std::fs::write(&file, serde_json::to_vec(bundle).unwrap()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_chains"))
            .args(args(&dir, v, tmp.path()))
            .arg(&file)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        (out.status.code(), said)
    };
    let (code, said) = run(&original, "one.json");
    assert_eq!(code, Some(0), "{said}");

    let mut twice = original.clone();
    let entry = twice["verificationMaterial"]["tlogEntries"][0].clone();
    twice["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .unwrap()
        .push(entry);
    let (code, said) = run(&twice, "two.json");
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("it carries 2 transparency log entries; a bundle carries exactly one"),
        "{said}"
    );

    let mut none = original;
    none["verificationMaterial"]["tlogEntries"] = Value::Array(Vec::new());
    let (code, said) = run(&none, "none.json");
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("tlog: the bundle carries no transparency log entry: a keyless bundle carries exactly one"),
        "{said}"
    );
}

/// A Rekor v2 entry has no integrated time: its log key's validity window
/// is checked at the bundle's RFC 3161 timestamp. sigstore-python's staging
/// Rekor v2 vector verifies with the staging root as shipped, and is
/// refused with the v2 log keys' windows moved away from its timestamp, or
/// with no timestamp authority to vouch for a time (then judged now).
#[test]
fn a_rekor_v2_log_key_is_checked_at_the_signed_timestamp() {
    let Some(dir) = vectors_dir() else {
        println!("skipped: ../shared/sigstore-vectors is absent");
        return;
    };
    let index: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let v = index
        .iter()
        .find(|v| text(v, "id").as_deref() == Some("py-staging-rekor-v2"))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root_path = dir.join(text(v, "trusted_root").unwrap());
    let root: Value = serde_json::from_slice(&std::fs::read(&root_path).unwrap()).unwrap();
    let run = |root: &Value, name: &str| {
        let file = tmp.path().join(name);
        std::fs::write(&file, serde_json::to_vec(root).unwrap()).unwrap();
        let mut args = args(&dir, v, tmp.path());
        let at = args.iter().position(|a| a == "--trusted-root").unwrap();
        args[at + 1] = file.display().to_string();
        let out = Command::new(env!("CARGO_BIN_EXE_chains"))
            .args(args)
            .arg(dir.join(text(v, "file").unwrap()))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        (out.status.code(), said)
    };
    let (code, said) = run(&root, "as-shipped.json");
    assert_eq!(code, Some(0), "{said}");

    let mut moved = root.clone();
    for log in moved["tlogs"].as_array_mut().unwrap() {
        if log["publicKey"]["keyDetails"] == "PKIX_ED25519" {
            log["publicKey"]["validFor"] =
                serde_json::json!({"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"});
        }
    }
    let (code, said) = run(&moved, "moved.json");
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("tlog: the log key of the entry at index 645 is trusted from 2020-01-01T00:00:00Z to 2020-01-02T00:00:00Z, and the RFC 3161 timestamp says 2025-"),
        "{said}"
    );

    let mut no_tsa = root;
    no_tsa["timestampAuthorities"] = Value::Array(Vec::new());
    let (code, said) = run(&no_tsa, "no-tsa.json");
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("and the current time (no RFC 3161 timestamp came with it) says"),
        "{said}"
    );
}
