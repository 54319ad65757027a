//! GCP Cloud KMS and Azure Key Vault signers against local servers that answer
//! as the documented REST APIs do (tests/tools/gcpkms_server.py and
//! tests/tools/azurekv_server.py, python3 + `cryptography`), signing with keys
//! only they hold. Signatures are verified here with the RustCrypto `p256` /
//! `p384` verifiers. The environment is passed as a lookup (`*_with_env`), so
//! tests run in parallel without touching the process environment.

use crate::common;

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use chains::sign::kms::{KmsOptions, azure, gcp};
use chains::sign::{KeyKind, PublicKey, SharedSigner, SignError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

type Env = HashMap<&'static str, String>;

fn lookup(env: &Env) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| env.get(k).cloned()
}

fn opts() -> KmsOptions {
    KmsOptions::default()
}

/// Start a test server script on a free port with extra arguments.
fn server(name: &str, script: &str, args: &[String]) -> common::Service {
    common::tool_server(name, script, args, "/_health")
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

fn stat(port: u16, name: &str) -> u64 {
    common::tool_stats(port)[name].as_u64().unwrap()
}

fn revoke_tokens(port: u16) {
    let r = http()
        .post(format!("http://127.0.0.1:{port}/_revoke"))
        .send()
        .unwrap();
    assert!(r.status().is_success());
}

/// Verify a DER ECDSA signature over `message` with RustCrypto's verifiers.
fn verify(public: &PublicKey, message: &[u8], signature: &[u8]) {
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    match public.kind() {
        KeyKind::EcdsaP256 => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(public.spki_der()).unwrap();
            let sig = p256::ecdsa::Signature::from_der(signature).expect("ASN.1 DER signature");
            key.verify(message, &sig).expect("P-256 signature verifies");
        }
        KeyKind::EcdsaP384 => {
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(public.spki_der()).unwrap();
            let sig = p384::ecdsa::Signature::from_der(signature).expect("ASN.1 DER signature");
            key.verify(message, &sig).expect("P-384 signature verifies");
        }
        other => panic!("unexpected key kind {other}"),
    }
}

/// `SHA256:` + base64(SHA-256 of the SSH wire form) for a P-256 point,
/// computed here independently of the crate.
fn ssh_fingerprint_p256(point: &[u8]) -> String {
    let mut wire = Vec::new();
    for part in [&b"ecdsa-sha2-nistp256"[..], b"nistp256", point] {
        wire.extend_from_slice(&(part.len() as u32).to_be_bytes());
        wire.extend_from_slice(part);
    }
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(&wire)))
}

fn fingerprint_of_pem(pem: &str) -> String {
    use p256::pkcs8::DecodePublicKey;
    let der = chains::pem::decode(pem, &["PUBLIC KEY"]).unwrap();
    let key = p256::ecdsa::VerifyingKey::from_public_key_der(&der).unwrap();
    ssh_fingerprint_p256(key.to_encoded_point(false).as_bytes())
}

/// Sign from several threads at once and verify every signature.
fn sign_concurrently(signer: &SharedSigner, threads: usize, each: usize) {
    std::thread::scope(|s| {
        for t in 0..threads {
            let signer = signer.clone();
            s.spawn(move || {
                for i in 0..each {
                    let message = format!("payload {t}/{i}").into_bytes();
                    let sig = signer.sign(&message).expect("sign");
                    verify(signer.public_key(), &message, &sig);
                }
            });
        }
    });
}

/// The error's full text (Display and Debug), checked for what it must and
/// must not say.
fn check_error(err: SignError, uri: &str, wanted: &[&str], secrets: &[&str]) {
    let text = format!("{err} | {err:?}");
    eprintln!("{err}");
    match &err {
        SignError::Kms { signer, .. } => assert_eq!(signer, uri, "{text}"),
        other => panic!("not a KMS error: {other:?}"),
    }
    for w in wanted {
        assert!(text.contains(w), "error should mention {w:?}: {text}");
    }
    for s in secrets {
        assert!(!text.contains(s), "error leaks a secret ({s:?}): {text}");
    }
}

fn expect_err<T>(r: Result<T, SignError>) -> SignError {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------
// Google Cloud KMS

/// A new RSA service-account key: (PKCS#8 PEM private key, SPKI PEM public key).
fn rsa_key() -> (String, String) {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::KeyPair as _;
    let kp = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let private: Pkcs8V1Der = kp.as_der().unwrap();
    let public: PublicKeyX509Der = kp.public_key().as_der().unwrap();
    (
        chains::pem::encode("PRIVATE KEY", private.as_ref()),
        chains::pem::encode("PUBLIC KEY", public.as_ref()),
    )
}

const GCP_KEY: &str = "projects/proj/locations/global/keyRings/ring/cryptoKeys/key";
const ADMIN_TOKEN: &str = "admin-static-token";

fn gcp_admin(port: u16, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = http()
        .request(method, format!("http://127.0.0.1:{port}/v1/{path}"))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().unwrap()
}

fn wait_enabled(port: u16, version: &str) {
    for _ in 0..100 {
        let v = gcp_admin(port, reqwest::Method::GET, version, None);
        if v["state"] == "ENABLED" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{version} never became ENABLED");
}

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn gcp_service_account_create_load_sign_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (private_pem, public_pem) = rsa_key();
    let public_path = dir.path().join("sa.pub");
    std::fs::write(&public_path, &public_pem).unwrap();
    let svc = server(
        "gcpkms-sa",
        "gcpkms_server.py",
        &[
            "--sa-email".into(),
            "signer@proj.iam.gserviceaccount.com".into(),
            "--sa-public-key".into(),
            public_path.display().to_string(),
            "--sa-key-id".into(),
            "key-id-1".into(),
            "--static-token".into(),
            ADMIN_TOKEN.into(),
        ],
    );
    let port = svc.port;
    let sa = write_json(
        dir.path(),
        "sa.json",
        &json!({
            "type": "service_account",
            "project_id": "proj",
            "private_key_id": "key-id-1",
            "private_key": private_pem,
            "client_email": "signer@proj.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": format!("http://127.0.0.1:{port}/token"),
        }),
    );
    let env: Env = HashMap::from([
        ("GOOGLE_KMS_ENDPOINT", format!("http://127.0.0.1:{port}")),
        ("GOOGLE_APPLICATION_CREDENTIALS", sa),
        ("HOME", dir.path().display().to_string()),
    ]);
    let env = lookup(&env);
    let uri = format!("gcpkms://{GCP_KEY}");

    // create: key ring + key, waits out PENDING_GENERATION; again: same key.
    let created = gcp::create_with_env(&uri, &opts(), &env).unwrap();
    assert_eq!(created.kind(), KeyKind::EcdsaP256);
    let again = gcp::create_with_env(&uri, &opts(), &env).unwrap();
    assert_eq!(again, created);

    let signer = gcp::load_with_env(&uri, &opts(), &env).unwrap();
    assert_eq!(signer.public_key(), &created);
    assert_eq!(signer.describe(), uri);
    // keyid = the SSH fingerprint of the key Cloud KMS reports (fetched here directly).
    let reply = gcp_admin(
        port,
        reqwest::Method::GET,
        &format!("{GCP_KEY}/cryptoKeyVersions/1/publicKey"),
        None,
    );
    assert_eq!(reply["algorithm"], "EC_SIGN_P256_SHA256");
    assert_eq!(
        created.key_id(),
        fingerprint_of_pem(reply["pem"].as_str().unwrap())
    );

    // Many concurrent signs, one token.
    let tokens = stat(port, "token_requests");
    let signs = stat(port, "sign_requests");
    sign_concurrently(&signer, 8, 5);
    assert_eq!(stat(port, "token_requests"), tokens, "the token is cached");
    assert_eq!(stat(port, "sign_requests"), signs + 40);

    // A revoked token (401) is replaced once, transparently.
    revoke_tokens(port);
    let sig = signer.sign(b"after revocation").unwrap();
    verify(signer.public_key(), b"after revocation", &sig);
    assert_eq!(stat(port, "token_requests"), tokens + 1);

    // A new version: without a version the newest ENABLED one signs; a
    // version in the URI (either spelling) pins it.
    let v2 = gcp_admin(
        port,
        reqwest::Method::POST,
        &format!("{GCP_KEY}/cryptoKeyVersions"),
        Some(json!({})),
    );
    let v2_name = v2["name"].as_str().unwrap().to_string();
    assert!(v2_name.ends_with("/cryptoKeyVersions/2"));
    wait_enabled(port, &v2_name);
    let latest = gcp::load_with_env(&uri, &opts(), &env).unwrap();
    assert_ne!(latest.public_key(), &created);
    let sig = latest.sign(b"v2").unwrap();
    verify(latest.public_key(), b"v2", &sig);
    for pinned in [
        format!("{uri}/cryptoKeyVersions/1"),
        format!("{uri}/versions/1"),
    ] {
        let s = gcp::load_with_env(&pinned, &opts(), &env).unwrap();
        assert_eq!(s.public_key(), &created, "{pinned}");
        let sig = s.sign(b"v1").unwrap();
        verify(&created, b"v1", &sig);
    }
    // Disabled versions are skipped.
    gcp_admin(
        port,
        reqwest::Method::PATCH,
        &format!("{v2_name}?updateMask=state"),
        Some(json!({"state": "DISABLED"})),
    );
    let s = gcp::load_with_env(&uri, &opts(), &env).unwrap();
    assert_eq!(s.public_key(), &created);
    let e = expect_err(gcp::load_with_env(
        &format!("{uri}/cryptoKeyVersions/2"),
        &opts(),
        &env,
    ));
    check_error(
        e,
        &format!("{uri}/cryptoKeyVersions/2"),
        &["FAILED_PRECONDITION", "DISABLED"],
        &[],
    );
}

#[test]
fn gcp_other_credential_sources() {
    let dir = tempfile::tempdir().unwrap();
    let svc = server(
        "gcpkms-creds",
        "gcpkms_server.py",
        &[
            "--client-id".into(),
            "client-1.apps.googleusercontent.com".into(),
            "--client-secret".into(),
            "cs-SECRET-1".into(),
            "--refresh-token".into(),
            "rt-SECRET-1".into(),
            "--static-token".into(),
            ADMIN_TOKEN.into(),
        ],
    );
    let port = svc.port;
    let endpoint = format!("http://127.0.0.1:{port}");
    let uri = format!("gcpkms://{GCP_KEY}");
    // A direct access token (GOOGLE_OAUTH_ACCESS_TOKEN) creates the key.
    let env: Env = HashMap::from([
        ("GOOGLE_KMS_ENDPOINT", endpoint.clone()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.to_string()),
    ]);
    let created = gcp::create_with_env(&uri, &opts(), &lookup(&env)).unwrap();

    let user = json!({
        "type": "authorized_user",
        "client_id": "client-1.apps.googleusercontent.com",
        "client_secret": "cs-SECRET-1",
        "refresh_token": "rt-SECRET-1",
        "token_uri": format!("{endpoint}/token"),
    });
    let user_file = write_json(dir.path(), "user.json", &user);
    let gcloud = dir.path().join("gcloud");
    std::fs::create_dir_all(&gcloud).unwrap();
    write_json(&gcloud, "application_default_credentials.json", &user);
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".config/gcloud")).unwrap();
    write_json(
        &home.join(".config/gcloud"),
        "application_default_credentials.json",
        &user,
    );
    let empty_home = dir.path().join("empty");
    std::fs::create_dir_all(&empty_home).unwrap();

    let cases: Vec<(&str, Env)> = vec![
        (
            "GOOGLE_OAUTH_ACCESS_TOKEN",
            HashMap::from([("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.to_string())]),
        ),
        (
            "GOOGLE_APPLICATION_CREDENTIALS authorized_user",
            HashMap::from([("GOOGLE_APPLICATION_CREDENTIALS", user_file.clone())]),
        ),
        (
            "CLOUDSDK_CONFIG ADC",
            HashMap::from([("CLOUDSDK_CONFIG", gcloud.display().to_string())]),
        ),
        (
            "~/.config/gcloud ADC",
            HashMap::from([("HOME", home.display().to_string())]),
        ),
        (
            "GCE metadata server",
            HashMap::from([
                ("HOME", empty_home.display().to_string()),
                ("GCE_METADATA_HOST", format!("127.0.0.1:{port}")),
            ]),
        ),
    ];
    for (what, mut env) in cases {
        env.insert("GOOGLE_KMS_ENDPOINT", endpoint.clone());
        let metadata = stat(port, "metadata_requests");
        let signer = gcp::load_with_env(&uri, &opts(), &lookup(&env))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(signer.public_key(), &created, "{what}");
        let sig = signer.sign(what.as_bytes()).unwrap();
        verify(&created, what.as_bytes(), &sig);
        let used_metadata = stat(port, "metadata_requests") > metadata;
        assert_eq!(used_metadata, what == "GCE metadata server", "{what}");
    }
}

/// Verify with aws-lc-rs (RSA and Ed25519 keys, which RustCrypto's EC crates do not cover).
fn verify_aws_lc(
    alg: &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
    public: &PublicKey,
    message: &[u8],
    signature: &[u8],
) {
    use spki::der::Decode;
    let info = spki::SubjectPublicKeyInfoRef::from_der(public.spki_der()).unwrap();
    let key =
        aws_lc_rs::signature::UnparsedPublicKey::new(alg, info.subject_public_key.raw_bytes());
    key.verify(message, signature).expect("signature verifies");
}

#[test]
fn gcp_key_algorithms() {
    use aws_lc_rs::signature as alg;
    let svc = server(
        "gcpkms-algs",
        "gcpkms_server.py",
        &["--static-token".into(), ADMIN_TOKEN.into()],
    );
    let port = svc.port;
    let env: Env = HashMap::from([
        ("GOOGLE_KMS_ENDPOINT", format!("http://127.0.0.1:{port}")),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.to_string()),
    ]);
    let env = lookup(&env);
    let ring = "projects/proj/locations/global/keyRings/algs";
    gcp_admin(
        port,
        reqwest::Method::POST,
        "projects/proj/locations/global/keyRings?keyRingId=algs",
        Some(json!({})),
    );
    type Check = Box<dyn Fn(&PublicKey, &[u8], &[u8])>;
    let cases: Vec<(&str, KeyKind, Check)> = vec![
        (
            "EC_SIGN_P384_SHA384",
            KeyKind::EcdsaP384,
            Box::new(|k: &PublicKey, m: &[u8], s: &[u8]| verify(k, m, s)),
        ),
        (
            "RSA_SIGN_PKCS1_2048_SHA256",
            KeyKind::Rsa,
            Box::new(|k: &PublicKey, m: &[u8], s: &[u8]| {
                verify_aws_lc(&alg::RSA_PKCS1_2048_8192_SHA256, k, m, s)
            }),
        ),
        (
            "RSA_SIGN_PSS_2048_SHA256",
            KeyKind::Rsa,
            Box::new(|k: &PublicKey, m: &[u8], s: &[u8]| {
                verify_aws_lc(&alg::RSA_PSS_2048_8192_SHA256, k, m, s)
            }),
        ),
        (
            "RSA_SIGN_PKCS1_4096_SHA512",
            KeyKind::Rsa,
            Box::new(|k: &PublicKey, m: &[u8], s: &[u8]| {
                verify_aws_lc(&alg::RSA_PKCS1_2048_8192_SHA512, k, m, s)
            }),
        ),
        (
            "EC_SIGN_ED25519",
            KeyKind::Ed25519,
            Box::new(|k: &PublicKey, m: &[u8], s: &[u8]| verify_aws_lc(&alg::ED25519, k, m, s)),
        ),
    ];
    for (algorithm, kind, check) in cases {
        let id = algorithm.to_ascii_lowercase().replace('_', "-");
        gcp_admin(
            port,
            reqwest::Method::POST,
            &format!("{ring}/cryptoKeys?cryptoKeyId={id}"),
            Some(
                json!({"purpose": "ASYMMETRIC_SIGN", "versionTemplate": {"algorithm": algorithm}}),
            ),
        );
        wait_enabled(port, &format!("{ring}/cryptoKeys/{id}/cryptoKeyVersions/1"));
        let uri = format!("gcpkms://{ring}/cryptoKeys/{id}");
        let signer = gcp::load_with_env(&uri, &opts(), &env).unwrap();
        assert_eq!(signer.public_key().kind(), kind, "{algorithm}");
        let sig = signer.sign(algorithm.as_bytes()).unwrap();
        check(signer.public_key(), algorithm.as_bytes(), &sig);
    }

    // An algorithm we cannot produce cosign signatures for is refused clearly.
    gcp_admin(
        port,
        reqwest::Method::POST,
        &format!("{ring}/cryptoKeys?cryptoKeyId=k1"),
        Some(
            json!({"purpose": "ASYMMETRIC_SIGN", "versionTemplate": {"algorithm": "EC_SIGN_SECP256K1_SHA256"}}),
        ),
    );
    wait_enabled(port, &format!("{ring}/cryptoKeys/k1/cryptoKeyVersions/1"));
    let uri = format!("gcpkms://{ring}/cryptoKeys/k1");
    check_error(
        expect_err(gcp::load_with_env(&uri, &opts(), &env)),
        &uri,
        &[
            "EC_SIGN_SECP256K1_SHA256",
            "cannot sign here",
            "supported: EC_SIGN_P256_SHA256",
        ],
        &[ADMIN_TOKEN],
    );
}

#[test]
fn gcp_errors_are_clear_and_never_leak_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (_, good_public) = rsa_key();
    let (wrong_private, _) = rsa_key();
    let public_path = dir.path().join("sa.pub");
    std::fs::write(&public_path, &good_public).unwrap();
    let svc = server(
        "gcpkms-errors",
        "gcpkms_server.py",
        &[
            "--sa-email".into(),
            "signer@proj.iam.gserviceaccount.com".into(),
            "--sa-public-key".into(),
            public_path.display().to_string(),
            "--client-id".into(),
            "client-1".into(),
            "--client-secret".into(),
            "cs-SECRET-1".into(),
            "--refresh-token".into(),
            "rt-SECRET-1".into(),
            "--static-token".into(),
            ADMIN_TOKEN.into(),
            "--deny-project".into(),
            "locked".into(),
            "--deny-sign-project".into(),
            "signless".into(),
        ],
    );
    let port = svc.port;
    let endpoint = format!("http://127.0.0.1:{port}");
    let uri = format!("gcpkms://{GCP_KEY}");
    let admin: Env = HashMap::from([
        ("GOOGLE_KMS_ENDPOINT", endpoint.clone()),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.to_string()),
    ]);
    gcp::create_with_env(&uri, &opts(), &lookup(&admin)).unwrap();

    // A key line of the wrong private key: must never be echoed.
    let key_line = wrong_private.lines().nth(3).unwrap().to_string();
    let sa_wrong = write_json(
        dir.path(),
        "sa-wrong.json",
        &json!({
            "type": "service_account",
            "private_key": wrong_private,
            "client_email": "signer@proj.iam.gserviceaccount.com",
            "token_uri": format!("{endpoint}/token"),
        }),
    );
    let user = |secret: &str, refresh: &str| {
        json!({
            "type": "authorized_user",
            "client_id": "client-1",
            "client_secret": secret,
            "refresh_token": refresh,
            "token_uri": format!("{endpoint}/token"),
        })
    };
    let bad_secret = write_json(
        dir.path(),
        "u1.json",
        &user("cs-WRONG-SECRET", "rt-SECRET-1"),
    );
    let bad_refresh = write_json(
        dir.path(),
        "u2.json",
        &user("cs-SECRET-1", "rt-WRONG-SECRET"),
    );
    let external = write_json(
        dir.path(),
        "ext.json",
        &json!({"type": "external_account", "audience": "x"}),
    );
    let unreachable = format!("http://127.0.0.1:{}", common::free_port());
    let empty_home = dir.path().join("empty");
    std::fs::create_dir_all(&empty_home).unwrap();
    let secrets = [
        ADMIN_TOKEN,
        "cs-SECRET-1",
        "rt-SECRET-1",
        "cs-WRONG-SECRET",
        "rt-WRONG-SECRET",
        "ya29.bogus-SECRET",
        key_line.as_str(),
        "eyJ", // a JWT (assertion) would start so
        "PRIVATE KEY",
    ];

    let with = |pairs: &[(&'static str, String)]| -> Env {
        let mut env: Env = HashMap::from([
            ("GOOGLE_KMS_ENDPOINT", endpoint.clone()),
            ("HOME", empty_home.display().to_string()),
        ]);
        env.extend(pairs.iter().cloned());
        env
    };
    let cases: Vec<(String, Env, Vec<&str>)> = vec![
        (
            uri.clone(),
            with(&[("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.bogus-SECRET".into())]),
            vec![
                "HTTP 401 UNAUTHENTICATED",
                "invalid authentication credentials",
            ],
        ),
        (
            uri.clone(),
            with(&[("GOOGLE_APPLICATION_CREDENTIALS", sa_wrong)]),
            vec!["token endpoint", "invalid_grant", "Invalid JWT Signature"],
        ),
        (
            uri.clone(),
            with(&[("GOOGLE_APPLICATION_CREDENTIALS", bad_secret)]),
            vec!["HTTP 401", "invalid_client"],
        ),
        (
            uri.clone(),
            with(&[("GOOGLE_APPLICATION_CREDENTIALS", bad_refresh)]),
            vec!["invalid_grant", "expired or revoked"],
        ),
        (
            uri.clone(),
            with(&[("GOOGLE_APPLICATION_CREDENTIALS", external)]),
            vec![
                "external_account",
                "supported: service_account, authorized_user",
            ],
        ),
        (
            uri.clone(),
            with(&[(
                "GOOGLE_APPLICATION_CREDENTIALS",
                dir.path().join("missing.json").display().to_string(),
            )]),
            vec!["cannot read the GOOGLE_APPLICATION_CREDENTIALS file"],
        ),
        (
            "gcpkms://projects/locked/locations/global/keyRings/ring/cryptoKeys/key".into(),
            with(&[("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.into())]),
            vec!["HTTP 403 PERMISSION_DENIED", "Permission 'cloudkms."],
        ),
        (
            format!("gcpkms://{GCP_KEY}-missing"),
            with(&[("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.into())]),
            vec!["HTTP 404 NOT_FOUND", "not found"],
        ),
        (
            format!("{uri}/cryptoKeyVersions/9"),
            with(&[("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.into())]),
            vec!["HTTP 404 NOT_FOUND", "CryptoKeyVersion"],
        ),
        (
            uri.clone(),
            {
                let mut e = with(&[("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.into())]);
                e.insert("GOOGLE_KMS_ENDPOINT", unreachable.clone());
                e
            },
            vec!["cannot reach Cloud KMS at http://127.0.0.1:"],
        ),
        (
            uri.clone(),
            with(&[(
                "GCE_METADATA_HOST",
                unreachable.trim_start_matches("http://").to_string(),
            )]),
            vec![
                "no Google credentials found",
                "GOOGLE_APPLICATION_CREDENTIALS",
                "metadata server",
            ],
        ),
        (
            "gcpkms://projects/p/locations/l/keyRings/r".into(),
            with(&[]),
            vec!["expected gcpkms://projects/PROJECT/locations/"],
        ),
    ];
    for (uri, env, wanted) in cases {
        let err = expect_err(gcp::load_with_env(&uri, &opts(), &lookup(&env)));
        check_error(err, &uri, &wanted, &secrets);
    }
    // create reports the same way.
    let err = expect_err(gcp::create_with_env(
        "gcpkms://projects/locked/locations/global/keyRings/ring/cryptoKeys/key",
        &opts(),
        &lookup(&with(&[("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.into())])),
    ));
    check_error(
        err,
        "gcpkms://projects/locked/locations/global/keyRings/ring/cryptoKeys/key",
        &["key ring", "HTTP 403 PERMISSION_DENIED"],
        &secrets,
    );

    // Failures at signing time: permission denied, then the service gone.
    let admin_env = with(&[("GOOGLE_OAUTH_ACCESS_TOKEN", ADMIN_TOKEN.into())]);
    let signless = "gcpkms://projects/signless/locations/global/keyRings/ring/cryptoKeys/key";
    gcp::create_with_env(signless, &opts(), &lookup(&admin_env)).unwrap();
    let signer = gcp::load_with_env(signless, &opts(), &lookup(&admin_env)).unwrap();
    check_error(
        expect_err(signer.sign(b"x")),
        signless,
        &[
            "asymmetricSign failed: HTTP 403 PERMISSION_DENIED",
            "cloudkms.cryptoKeyVersions.useToSign",
        ],
        &secrets,
    );
    let signer = gcp::load_with_env(&uri, &opts(), &lookup(&admin_env)).unwrap();
    drop(svc);
    check_error(
        expect_err(signer.sign(b"x")),
        &uri,
        &["asymmetricSign failed: cannot reach Cloud KMS"],
        &secrets,
    );
}

// ---------------------------------------------------------------------------
// Azure Key Vault

const TENANT: &str = "tenant-1";
const CLIENT_ID: &str = "client-1";
const CLIENT_SECRET: &str = "cs-SECRET-azure";

fn azure_server(name: &str, extra: &[&str]) -> common::Service {
    let mut args: Vec<String> = [
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    server(name, "azurekv_server.py", &args)
}

fn azure_env(port: u16) -> Env {
    HashMap::from([
        ("AZURE_AUTHORITY_HOST", format!("http://127.0.0.1:{port}")),
        ("AZURE_TENANT_ID", TENANT.to_string()),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_string()),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET.to_string()),
    ])
}

/// Call the vault directly (token by client credentials), for checks and setup.
fn azure_direct(port: u16, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let token: Value = http()
        .post(format!(
            "http://127.0.0.1:{port}/{TENANT}/oauth2/v2.0/token"
        ))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&scope=https%3A%2F%2Fvault.azure.net%2F.default"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut req = http()
        .request(
            method,
            format!("http://127.0.0.1:{port}/{path}?api-version=7.4"),
        )
        .bearer_auth(token["access_token"].as_str().unwrap());
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().unwrap()
}

fn jwk_fingerprint(bundle: &Value) -> String {
    let mut point = vec![4u8];
    for c in ["x", "y"] {
        point.extend(
            URL_SAFE_NO_PAD
                .decode(bundle["key"][c].as_str().unwrap())
                .unwrap(),
        );
    }
    ssh_fingerprint_p256(&point)
}

#[test]
fn azure_client_credentials_create_load_sign_verify() {
    let svc = azure_server("azurekv-sp", &[]);
    let port = svc.port;
    let env = azure_env(port);
    let env = lookup(&env);
    let uri = format!("azurekms://127.0.0.1:{port}/cosign");

    let created = azure::create_with_env(&uri, &opts(), &env).unwrap();
    assert_eq!(created.kind(), KeyKind::EcdsaP256);
    assert_eq!(
        azure::create_with_env(&uri, &opts(), &env).unwrap(),
        created
    );

    let signer = azure::load_with_env(&uri, &opts(), &env).unwrap();
    assert_eq!(signer.public_key(), &created);
    assert_eq!(signer.describe(), uri);
    let bundle = azure_direct(port, reqwest::Method::GET, "keys/cosign", None);
    assert_eq!(bundle["key"]["crv"], "P-256");
    assert_eq!(created.key_id(), jwk_fingerprint(&bundle));
    let v1 = bundle["key"]["kid"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    let tokens = stat(port, "token_requests");
    let signs = stat(port, "sign_requests");
    sign_concurrently(&signer, 8, 5);
    assert_eq!(stat(port, "token_requests"), tokens, "the token is cached");
    assert_eq!(stat(port, "sign_requests"), signs + 40);

    revoke_tokens(port);
    let sig = signer.sign(b"after revocation").unwrap();
    verify(&created, b"after revocation", &sig);
    assert_eq!(stat(port, "token_requests"), tokens + 1);

    // A new version: the loaded signer keeps its version; a new load uses
    // the new one; the old version can be pinned in the URI.
    azure_direct(
        port,
        reqwest::Method::POST,
        "keys/cosign/create",
        Some(json!({"kty": "EC", "crv": "P-256"})),
    );
    let sig = signer.sign(b"pinned at load").unwrap();
    verify(&created, b"pinned at load", &sig);
    let latest = azure::load_with_env(&uri, &opts(), &env).unwrap();
    assert_ne!(latest.public_key(), &created);
    let sig = latest.sign(b"v2").unwrap();
    verify(latest.public_key(), b"v2", &sig);
    let pinned_uri = format!("{uri}/{v1}");
    let pinned = azure::load_with_env(&pinned_uri, &opts(), &env).unwrap();
    assert_eq!(pinned.public_key(), &created);
    verify(&created, b"v1", &pinned.sign(b"v1").unwrap());

    // P-384 keys sign with ES384 over SHA-384.
    azure_direct(
        port,
        reqwest::Method::POST,
        "keys/big/create",
        Some(json!({"kty": "EC", "crv": "P-384"})),
    );
    let big =
        azure::load_with_env(&format!("azurekms://127.0.0.1:{port}/big"), &opts(), &env).unwrap();
    assert_eq!(big.public_key().kind(), KeyKind::EcdsaP384);
    verify(big.public_key(), b"p384", &big.sign(b"p384").unwrap());

    // P-521 (ES512, 66-byte r and s) and RSA (RS256) keys.
    use aws_lc_rs::signature as alg;
    for (name, body, kind, check) in [
        (
            "p521",
            json!({"kty": "EC", "crv": "P-521"}),
            KeyKind::EcdsaP521,
            &alg::ECDSA_P521_SHA512_ASN1
                as &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
        ),
        (
            "rsa",
            json!({"kty": "RSA", "key_size": 3072}),
            KeyKind::Rsa,
            &alg::RSA_PKCS1_2048_8192_SHA256,
        ),
    ] {
        azure_direct(
            port,
            reqwest::Method::POST,
            &format!("keys/{name}/create"),
            Some(body),
        );
        let s = azure::load_with_env(
            &format!("azurekms://127.0.0.1:{port}/{name}"),
            &opts(),
            &env,
        )
        .unwrap();
        assert_eq!(s.public_key().kind(), kind, "{name}");
        for i in 0..20 {
            let m = format!("{name} {i}");
            verify_aws_lc(
                check,
                s.public_key(),
                m.as_bytes(),
                &s.sign(m.as_bytes()).unwrap(),
            );
        }
    }
}

#[test]
fn azure_other_credential_sources() {
    let dir = tempfile::tempdir().unwrap();
    let svc = azure_server(
        "azurekv-creds",
        &[
            "--federated-token",
            "fed-SECRET-token",
            "--identity-header",
            "hdr-SECRET",
        ],
    );
    let port = svc.port;
    let uri = format!("azurekms://localhost:{port}/cosign");
    let created = azure::create_with_env(&uri, &opts(), &lookup(&azure_env(port))).unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "fed-SECRET-token\n").unwrap();

    let cases: Vec<(&str, Env)> = vec![
        (
            "workload identity",
            HashMap::from([
                ("AZURE_AUTHORITY_HOST", format!("http://127.0.0.1:{port}")),
                ("AZURE_TENANT_ID", TENANT.to_string()),
                ("AZURE_CLIENT_ID", CLIENT_ID.to_string()),
                (
                    "AZURE_FEDERATED_TOKEN_FILE",
                    token_file.display().to_string(),
                ),
            ]),
        ),
        (
            "App Service managed identity",
            HashMap::from([
                (
                    "IDENTITY_ENDPOINT",
                    format!("http://127.0.0.1:{port}/msi/token"),
                ),
                ("IDENTITY_HEADER", "hdr-SECRET".to_string()),
            ]),
        ),
        (
            "IMDS managed identity",
            HashMap::from([(
                "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                format!("http://127.0.0.1:{port}"),
            )]),
        ),
    ];
    for (what, env) in cases {
        let signer = azure::load_with_env(&uri, &opts(), &lookup(&env))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(signer.public_key(), &created, "{what}");
        verify(
            &created,
            what.as_bytes(),
            &signer.sign(what.as_bytes()).unwrap(),
        );
    }
}

#[test]
fn azure_errors_are_clear_and_never_leak_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let svc = azure_server(
        "azurekv-errors",
        &[
            "--federated-token",
            "fed-SECRET-token",
            "--identity-header",
            "hdr-SECRET",
            "--deny-key",
            "locked",
            "--deny-sign",
            "nosign",
        ],
    );
    let port = svc.port;
    let base = format!("azurekms://127.0.0.1:{port}");
    let uri = format!("{base}/cosign");
    azure::create_with_env(&uri, &opts(), &lookup(&azure_env(port))).unwrap();
    let wrong_token_file = dir.path().join("token");
    std::fs::write(&wrong_token_file, "fed-WRONG-SECRET").unwrap();
    let unreachable = common::free_port();
    let secrets = [
        CLIENT_SECRET,
        "cs-WRONG-SECRET",
        "fed-SECRET-token",
        "fed-WRONG-SECRET",
        "hdr-SECRET",
        "hdr-WRONG-SECRET",
        "eyJ0eXAi", // the test server's access tokens start so
        "Trace ID",
    ];
    let with = |pairs: &[(&'static str, String)]| -> Env {
        let mut env = azure_env(port);
        env.extend(pairs.iter().cloned());
        env
    };
    let without_secret = |pairs: &[(&'static str, String)]| -> Env {
        let mut env: Env = pairs.iter().cloned().collect();
        env.insert("AZURE_AUTHORITY_HOST", format!("http://127.0.0.1:{port}"));
        env
    };
    let cases: Vec<(String, Env, Vec<&str>)> = vec![
        (
            uri.clone(),
            with(&[("AZURE_CLIENT_SECRET", "cs-WRONG-SECRET".into())]),
            vec!["HTTP 401: invalid_client: AADSTS7000215", "token endpoint"],
        ),
        (
            uri.clone(),
            with(&[("AZURE_TENANT_ID", "other-tenant".into())]),
            vec!["AADSTS90002"],
        ),
        (
            uri.clone(),
            without_secret(&[
                ("AZURE_TENANT_ID", TENANT.into()),
                ("AZURE_CLIENT_ID", CLIENT_ID.into()),
                (
                    "AZURE_FEDERATED_TOKEN_FILE",
                    wrong_token_file.display().to_string(),
                ),
            ]),
            vec!["invalid_client", "AADSTS700211"],
        ),
        (
            uri.clone(),
            without_secret(&[
                (
                    "IDENTITY_ENDPOINT",
                    format!("http://127.0.0.1:{port}/msi/token"),
                ),
                ("IDENTITY_HEADER", "hdr-WRONG-SECRET".into()),
            ]),
            vec!["managed identity endpoint", "HTTP 401"],
        ),
        (
            format!("{base}/locked"),
            with(&[]),
            vec!["HTTP 403 Forbidden", "does not have keys get permission"],
        ),
        (
            format!("{base}/missing"),
            with(&[]),
            vec!["HTTP 404 KeyNotFound", "missing was not found"],
        ),
        (
            format!("{uri}/0123456789abcdef"),
            with(&[]),
            vec!["HTTP 404 KeyNotFound"],
        ),
        (
            format!("azurekms://127.0.0.1:{unreachable}/cosign"),
            with(&[]),
            vec!["cannot reach Key Vault at http://127.0.0.1:"],
        ),
        (
            uri.clone(),
            with(&[(
                "AZURE_AUTHORITY_HOST",
                format!("http://127.0.0.1:{unreachable}"),
            )]),
            vec!["cannot reach the token endpoint"],
        ),
        (
            uri.clone(),
            without_secret(&[("AZURE_CLIENT_SECRET", CLIENT_SECRET.into())]),
            vec!["AZURE_TENANT_ID"],
        ),
        (
            format!("{base}/cosign/UPPER"),
            with(&[]),
            vec!["expected azurekms://VAULT_NAME.vault.azure.net/KEY"],
        ),
    ];
    for (uri, env, wanted) in cases {
        let err = expect_err(azure::load_with_env(&uri, &opts(), &lookup(&env)));
        check_error(err, &uri, &wanted, &secrets);
    }
    let err = expect_err(azure::create_with_env(
        &format!("{base}/locked"),
        &opts(),
        &lookup(&with(&[])),
    ));
    check_error(
        err,
        &format!("{base}/locked"),
        &["HTTP 403 Forbidden"],
        &secrets,
    );

    // Failures at signing time: permission denied, then the vault gone.
    let nosign = format!("{base}/nosign");
    azure::create_with_env(&nosign, &opts(), &lookup(&with(&[]))).unwrap();
    let signer = azure::load_with_env(&nosign, &opts(), &lookup(&with(&[]))).unwrap();
    check_error(
        expect_err(signer.sign(b"x")),
        &nosign,
        &[
            "sign failed: HTTP 403 Forbidden",
            "does not have keys sign permission",
        ],
        &secrets,
    );
    let signer = azure::load_with_env(&uri, &opts(), &lookup(&with(&[]))).unwrap();
    drop(svc);
    check_error(
        expect_err(signer.sign(b"x")),
        &uri,
        &["sign failed: cannot reach Key Vault"],
        &secrets,
    );
}
