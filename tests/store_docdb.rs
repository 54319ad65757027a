//! The docdb backend through the real CLI, against real servers on
//! 127.0.0.1: moto (DynamoDB, `pip install 'moto[server]'`), read back with
//! boto3; Google's Cloud Firestore emulator (the `google-cloud-cli-firestore-
//! emulator` package, on this kind of machine), read back over its REST API;
//! MongoDB, of which no server installs here, against `tests/tools/
//! mongo_server.py` (MongoDB's documented wire protocol, BSON by pymongo),
//! read back with pymongo. Faults (5xx, refusals, hangs) against the
//! scripted fault server.
//!
//! What Chains would store is built here from the same run stored by the
//! `files` backend (Chains' payload and signature objects), encoded as the
//! Go CDK's drivers encode Chains' `SignedDocument`.

use crate::common;
use crate::common::fault::{FaultServer, Reply};
use crate::common::{Service, free_port, stderr, testdata};

use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

const UID: &str = "5d4b2f3c-8a1e-4c6b-9f0d-2e7a1b3c4d5e";
const IMAGE_KEY: &str = "3b1f6a0e2c9d";
const RUN_PREFIX: &str = "taskrun-ci-build-app-7x2kq";
const AWS_SECRET: &str = "moto-secret-key-not-for-real-use";
const FIRESTORE_JAR: &str =
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";

fn key() -> String {
    testdata("keys/p256-sec1.pem").display().to_string()
}

fn run_file() -> String {
    testdata("runs/taskrun-build.yaml").display().to_string()
}

/// The CLI, with no AWS or Google settings from the environment but `envs`.
fn chains(args: &[&str], envs: &[(&str, String)]) -> Output {
    let mut c = common::chains();
    c.args(args).stdin(Stdio::null());
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "FIRESTORE_EMULATOR_HOST",
        "MONGO_SERVER_URL",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
    ] {
        c.env_remove(var);
    }
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// moto's dummy credentials, a region, and `endpoint` when given.
pub(crate) fn aws_env(endpoint: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", "AKIAMOTOTESTING00000".to_string()),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_CONFIG_FILE", "/nonexistent".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_string()),
    ];
    if let Some(e) = endpoint {
        env.push(("AWS_REGION", "us-east-1".to_string()));
        env.push(("AWS_ENDPOINT_URL", e.to_string()));
    }
    env
}

fn config(dir: &Path, url: &str) -> String {
    let p = dir.join("chains-config.yaml");
    std::fs::write(
        &p,
        format!(
            "artifacts.taskrun.storage: docdb\nartifacts.oci.storage: docdb\nstorage.docdb.url: \"{url}\"\n"
        ),
    )
    .unwrap();
    p.display().to_string()
}

fn attest(cfg: &str, extra: &[&str], envs: &[(&str, String)]) -> Output {
    let k = key();
    let run = run_file();
    let mut args = vec!["attest", "--key", &k, "--config", cfg];
    args.extend_from_slice(extra);
    args.push(&run);
    chains(&args, envs)
}

/// One artifact as Chains' files layout holds it: (short key, payload, signature).
struct Stored {
    key: String,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// The same run stored by the `files` backend: what Chains' docdb document
/// is made of, for the attestation and the image.
fn chains_objects(dir: &Path) -> Vec<Stored> {
    let out_dir = dir.join("files");
    let out = chains(
        &[
            "attest",
            "--key",
            &key(),
            "--storage",
            "files",
            "--output-dir",
            out_dir.to_str().unwrap(),
            &run_file(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    [format!("taskrun-{UID}"), IMAGE_KEY.to_string()]
        .into_iter()
        .map(|key| {
            let base = out_dir.join(RUN_PREFIX).join(&key);
            let read = |ext: &str| std::fs::read(base.with_extension(ext)).unwrap();
            Stored {
                payload: read("payload"),
                signature: read("signature"),
                key,
            }
        })
        .collect()
}

/// What was stored as `Signature` (base64) is Chains' signature of the
/// same artifact: for the attestation, the envelope the files backend wrote
/// but for its signature (ECDSA signatures differ each time), verified by
/// securesystemslib; for the image, a signature over the payload, verified
/// by the `p256` crate. Returns the stored value.
fn check_signature<'a>(stored_b64: &'a str, s: &Stored, dir: &Path) -> &'a str {
    use p256::ecdsa::signature::Verifier as _;
    use p256::pkcs8::DecodePublicKey;
    let stored = STANDARD.decode(stored_b64).unwrap();
    let signer = chains::sign::local::LocalSigner::load(
        Path::new(&key()),
        &chains::sign::Password::FromEnvironment,
    )
    .unwrap();
    let pem = chains::sign::Signer::public_key(&signer).to_pem();
    if !s.key.starts_with("taskrun-") {
        let key = p256::ecdsa::VerifyingKey::from_public_key_pem(&pem).unwrap();
        let sig = p256::ecdsa::Signature::from_der(&stored).unwrap();
        key.verify(&s.payload, &sig)
            .expect("the image signature verifies over the payload");
        return stored_b64;
    }
    let ours: Value = serde_json::from_slice(&stored).unwrap();
    let files: Value = serde_json::from_slice(&s.signature).unwrap();
    assert_eq!(ours["payloadType"], files["payloadType"]);
    assert_eq!(ours["payload"], files["payload"]);
    assert_eq!(
        ours["signatures"][0]["keyid"],
        files["signatures"][0]["keyid"]
    );
    assert_eq!(
        STANDARD.decode(ours["payload"].as_str().unwrap()).unwrap(),
        s.payload
    );
    let file = dir.join("envelope.json");
    std::fs::write(&file, &stored).unwrap();
    let public = dir.join("key.pub");
    std::fs::write(&public, pem).unwrap();
    let (ok, text) = common::dsse_verify(&file, &public, None);
    assert!(ok, "securesystemslib rejected the stored envelope: {text}");
    stored_b64
}

// ------------------------------------------------------------------ DynamoDB

/// A JSON value as the Go CDK's DynamoDB driver stores it (written here
/// from its codec's rules, independently of the backend).
fn dynamo_value(v: &Value) -> Value {
    match v {
        Value::Null => json!({"NULL": true}),
        Value::Bool(b) => json!({"BOOL": b}),
        Value::Number(n) => json!({"N": format!("{}", n.as_f64().unwrap())}),
        Value::String(s) if s.is_empty() => json!({"NULL": true}),
        Value::String(s) => json!({"S": s}),
        Value::Array(a) => json!({"L": a.iter().map(dynamo_value).collect::<Vec<_>>()}),
        Value::Object(o) => {
            let m: Map<String, Value> = o
                .iter()
                .map(|(k, v)| (k.clone(), dynamo_value(v)))
                .collect();
            json!({"M": m})
        }
    }
}

/// Chains' `SignedDocument` for a key-signed artifact, as a DynamoDB item.
fn dynamo_item(s: &Stored, signature_b64: &str) -> Value {
    let object: Value = serde_json::from_slice(&s.payload).unwrap();
    json!({
        "Signed": {"B": STANDARD.encode(&s.payload)},
        "Signature": {"S": signature_b64},
        "Cert": {"NULL": true},
        "Chain": {"NULL": true},
        "Object": dynamo_value(&object),
        "Name": {"S": s.key},
    })
}

pub(crate) fn dynamodb_client(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(common::root().join("tests/tools/dynamodb_client.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "dynamodb_client.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every item of `table`, by `Name`.
pub(crate) fn scan(endpoint: &str, table: &str) -> Vec<Value> {
    let mut items: Vec<Value> =
        serde_json::from_str(&dynamodb_client(&[endpoint, "scan", table])).unwrap();
    items.sort_by_key(|i| i["Name"]["S"].as_str().unwrap_or_default().to_string());
    items
}

pub(crate) fn moto() -> (Service, String) {
    let (service, port) = common::moto();
    (service, format!("http://127.0.0.1:{port}"))
}

#[test]
fn dynamodb_items_are_chains_documents() {
    let (_moto, endpoint) = moto();
    let dir = tempfile::tempdir().unwrap();
    dynamodb_client(&[&endpoint, "create", "chains", "Name"]);
    let cfg = config(dir.path(), "dynamodb://chains?partition_key=Name");
    let out = attest(&cfg, &[], &aws_env(Some(&endpoint)));
    assert!(out.status.success(), "{}", stderr(&out));

    let items = scan(&endpoint, "chains");
    let objects = chains_objects(dir.path());
    assert_eq!(items.len(), objects.len(), "{items:?}");
    let check = |items: &[Value]| {
        for s in &objects {
            let item = items
                .iter()
                .find(|i| i["Name"]["S"] == s.key.as_str())
                .unwrap_or_else(|| panic!("no item for {}", s.key));
            let signature =
                check_signature(item["Signature"]["S"].as_str().unwrap(), s, dir.path());
            assert_eq!(item, &dynamo_item(s, signature), "{}", s.key);
        }
    };
    check(&items);

    // Again, with the region and endpoint in the URL (the Go CDK's
    // parameters) instead of the environment: the items are replaced.
    let cfg = config(
        dir.path(),
        &format!("dynamodb://chains?partition_key=Name&region=us-east-1&endpoint={endpoint}"),
    );
    let out = attest(&cfg, &[], &aws_env(None));
    assert!(out.status.success(), "{}", stderr(&out));
    let again = scan(&endpoint, "chains");
    assert_eq!(again.len(), objects.len());
    assert_ne!(again, items, "the items were replaced (new signatures)");
    check(&again);

    // No such table: DynamoDB's answer, named, and nothing claimed.
    let cfg = config(dir.path(), "dynamodb://missing?partition_key=Name");
    let out = attest(&cfg, &[], &aws_env(Some(&endpoint)));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb")
            && err.contains("table missing")
            && err.contains("ResourceNotFoundException (no such table)"),
        "{err}"
    );
    assert!(!err.contains(AWS_SECRET), "{err}");
    common::assert_no_success_claim(&out);

    // A partition key the document has not (the Go CDK matches it exactly).
    let cfg = config(dir.path(), "dynamodb://chains?partition_key=name");
    let out = attest(&cfg, &[], &aws_env(Some(&endpoint)));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb") && err.contains("missing key field \"name\""),
        "{err}"
    );
    common::assert_no_success_claim(&out);
}

/// DynamoDB's JSON error body.
fn dynamo_error(kind: &str, message: &str) -> String {
    json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message})
        .to_string()
}

#[test]
fn dynamodb_server_errors_are_retried_then_reported() {
    let server = FaultServer::start(|_, _| {
        Reply::new(
            500,
            dynamo_error("InternalServerError", "Internal server error"),
        )
        .header("Content-Type", "application/x-amz-json-1.0")
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "dynamodb://chains?partition_key=Name");
    let out = attest(&cfg, &[], &aws_env(Some(&server.url())));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb")
            && err.contains("InternalServerError: Internal server error")
            && err.contains("(tried 4 times over "),
        "{err}"
    );
    common::assert_no_success_claim(&out);
    // Four tries of the first document, each a PutItem; then the run stops.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4, "{reqs:?}");
    for r in &reqs {
        assert_eq!(r.header("x-amz-target"), Some("DynamoDB_20120810.PutItem"));
        assert!(!String::from_utf8_lossy(&r.body).contains(AWS_SECRET));
    }

    // A refusal DynamoDB means (a validation error) is not retried.
    let refusing = FaultServer::start(|_, _| {
        Reply::new(
            400,
            dynamo_error(
                "ValidationException",
                "One or more parameter values were invalid",
            ),
        )
        .header("Content-Type", "application/x-amz-json-1.0")
    });
    let out = attest(&cfg, &[], &aws_env(Some(&refusing.url())));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ValidationException: One or more parameter values were invalid"),
        "{}",
        stderr(&out)
    );
    assert_eq!(refusing.hits(), 1);
    common::assert_no_success_claim(&out);
}

/// Nobody listening fails at once; a server that never answers fails by
/// the overall --timeout. Either way nothing is claimed stored.
#[test]
fn dynamodb_unreachable_or_hung_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "dynamodb://chains?partition_key=Name");
    let closed = free_port();
    let out = attest(
        &cfg,
        &[],
        &aws_env(Some(&format!("http://127.0.0.1:{closed}"))),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb") && err.contains("cannot reach table chains"),
        "{err}"
    );
    assert!(!err.contains("(tried "), "refused is not retried: {err}");
    common::assert_no_success_claim(&out);

    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hung.local_addr().unwrap().port();
    let out = attest(
        &cfg,
        &["--timeout", "2s"],
        &aws_env(Some(&format!("http://127.0.0.1:{port}"))),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb") && err.contains("(tried 1 time over "),
        "{err}"
    );
    common::assert_no_success_claim(&out);
    drop(hung);
}

// ----------------------------------------------------------------- Firestore

/// A JSON value as the Go CDK's Firestore driver stores it.
fn firestore_value(v: &Value) -> Value {
    match v {
        Value::Null => json!({"nullValue": null}),
        Value::Bool(b) => json!({"booleanValue": b}),
        Value::Number(n) => json!({"doubleValue": n.as_f64().unwrap()}),
        Value::String(s) => json!({"stringValue": s}),
        Value::Array(a) if a.is_empty() => json!({"arrayValue": {}}),
        Value::Array(a) => {
            json!({"arrayValue": {"values": a.iter().map(firestore_value).collect::<Vec<_>>()}})
        }
        Value::Object(o) if o.is_empty() => json!({"mapValue": {}}),
        Value::Object(o) => {
            let m: Map<String, Value> = o
                .iter()
                .map(|(k, v)| (k.clone(), firestore_value(v)))
                .collect();
            json!({"mapValue": {"fields": m}})
        }
    }
}

/// Chains' `SignedDocument`'s fields for a key-signed artifact, as a
/// Firestore document's fields, without the exactly named name field.
fn firestore_fields(s: &Stored, signature_b64: &str, name_field: &str) -> Value {
    let object: Value = serde_json::from_slice(&s.payload).unwrap();
    let mut fields = json!({
        "Signed": {"bytesValue": STANDARD.encode(&s.payload)},
        "Signature": {"stringValue": signature_b64},
        "Cert": {"stringValue": ""},
        "Chain": {"stringValue": ""},
        "Object": firestore_value(&object),
        "Name": {"stringValue": s.key},
    });
    fields.as_object_mut().unwrap().remove(name_field);
    fields
}

/// Numbers as f64 (the emulator writes `1.0` for what was sent as `1`).
fn normalise(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

pub(crate) fn firestore_emulator() -> Option<(Service, String)> {
    if !Path::new(FIRESTORE_JAR).is_file() {
        eprintln!(
            "firestore tests: skipped, the Cloud Firestore emulator ({FIRESTORE_JAR}, Debian package google-cloud-cli-firestore-emulator) is not installed"
        );
        return None;
    }
    let port = free_port();
    let service = Service::start(
        "firestore-emulator",
        Path::new("java"),
        &[
            "-Duser.language=en".into(),
            "-cp".into(),
            FIRESTORE_JAR.into(),
            "com.google.cloud.datastore.emulator.firestore.CloudFirestore".into(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ],
        &[],
        port,
        &format!("http://127.0.0.1:{port}/"),
    );
    Some((service, format!("127.0.0.1:{port}")))
}

fn firestore_get(host: &str, name: &str) -> Value {
    let r = common::fake_gcs::http()
        .get(format!("http://{host}/v1/{name}"))
        .bearer_auth("owner")
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{name}: {}", r.status());
    r.json().unwrap()
}

#[test]
fn firestore_documents_are_chains_documents() {
    let Some((_emulator, host)) = firestore_emulator() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let collection = "projects/chains-test/databases/(default)/documents/attestations";
    let cfg = config(
        dir.path(),
        &format!("firestore://{collection}?name_field=Name"),
    );
    let env = [("FIRESTORE_EMULATOR_HOST", host.clone())];
    let out = attest(&cfg, &[], &env);
    assert!(out.status.success(), "{}", stderr(&out));

    let objects = chains_objects(dir.path());
    for s in &objects {
        let doc = firestore_get(&host, &format!("{collection}/{}", s.key));
        assert_eq!(doc["name"], format!("{collection}/{}", s.key));
        let signature = check_signature(
            doc["fields"]["Signature"]["stringValue"].as_str().unwrap(),
            s,
            dir.path(),
        );
        assert!(
            normalise(&doc["fields"]) == normalise(&firestore_fields(s, signature, "Name")),
            "{}: {:#}",
            s.key,
            doc["fields"]
        );
    }

    // name_field matched ignoring case names the document, but only the
    // exactly spelled field is left out (as in the Go CDK): six fields.
    let other = "projects/chains-test/databases/(default)/documents/lowercase";
    let cfg = config(dir.path(), &format!("firestore://{other}?name_field=name"));
    let out = attest(&cfg, &[], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = &objects[0];
    let doc = firestore_get(&host, &format!("{other}/{}", s.key));
    let signature = doc["fields"]["Signature"]["stringValue"].as_str().unwrap();
    check_signature(signature, s, dir.path());
    assert!(
        normalise(&doc["fields"]) == normalise(&firestore_fields(s, signature, "name")),
        "{:#}",
        doc["fields"]
    );

    // A name field whose value is not a string is refused before any request.
    let cfg = config(
        dir.path(),
        &format!("firestore://{other}?name_field=Object"),
    );
    let out = attest(&cfg, &[], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("key field \"Object\" (name_field \"Object\") is not a string"),
        "{}",
        stderr(&out)
    );
    common::assert_no_success_claim(&out);
}

fn google_error(code: u16, status: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message, "status": status}}).to_string()
}

#[test]
fn firestore_faults_are_retried_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let collection = "projects/p/databases/(default)/documents/attestations";
    let cfg = config(
        dir.path(),
        &format!("firestore://{collection}?name_field=Name"),
    );

    let unavailable = FaultServer::start(|_, _| {
        Reply::new(
            503,
            google_error(503, "UNAVAILABLE", "The service is currently unavailable."),
        )
    });
    let env = [(
        "FIRESTORE_EMULATOR_HOST",
        format!("127.0.0.1:{}", unavailable.port),
    )];
    let out = attest(&cfg, &[], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb")
            && err.contains("HTTP 503 UNAVAILABLE: The service is currently unavailable.")
            && err.contains("(tried 4 times over "),
        "{err}"
    );
    common::assert_no_success_claim(&out);
    let reqs = unavailable.requests();
    assert_eq!(reqs.len(), 4);
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.path(),
            "/v1/projects/p/databases/(default)/documents:commit"
        );
        let body = r.json();
        assert_eq!(
            body["writes"][0]["update"]["name"],
            format!("{collection}/taskrun-{UID}")
        );
    }

    let denied = FaultServer::start(|_, _| {
        Reply::new(
            403,
            google_error(
                403,
                "PERMISSION_DENIED",
                "Missing or insufficient permissions.",
            ),
        )
    });
    let env = [(
        "FIRESTORE_EMULATOR_HOST",
        format!("127.0.0.1:{}", denied.port),
    )];
    let out = attest(&cfg, &[], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("HTTP 403 PERMISSION_DENIED: Missing or insufficient permissions."),
        "{}",
        stderr(&out)
    );
    assert_eq!(denied.hits(), 1, "a refusal is not retried");
    common::assert_no_success_claim(&out);

    // A 200 without the write's result is not taken as stored.
    let empty =
        FaultServer::start(|_, _| Reply::new(200, "{\"commitTime\": \"2026-01-01T00:00:00Z\"}"));
    let env = [(
        "FIRESTORE_EMULATOR_HOST",
        format!("127.0.0.1:{}", empty.port),
    )];
    let out = attest(&cfg, &[], &env);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no result for the write"),
        "{}",
        stderr(&out)
    );
    common::assert_no_success_claim(&out);
}

/// `storage.docdb.url` unset or naming what chains does not support: a
/// clear error before anything is signed or stored.
#[test]
fn docdb_urls_are_checked_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("no-url.yaml");
    std::fs::write(&p, "artifacts.taskrun.storage: docdb\n").unwrap();
    let out = attest(p.to_str().unwrap(), &[], &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("storage.docdb.url is not set"),
        "{}",
        stderr(&out)
    );
    common::assert_no_success_claim(&out);
    // mongo:// without a server URL anywhere: Chains' message.
    let cfg = config(dir.path(), "mongo://db/coll?id_field=Name");
    let out = attest(&cfg, &[], &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("no MongoDB server URL"),
        "{}",
        stderr(&out)
    );
    common::assert_no_success_claim(&out);
}

// ------------------------------------------------------------------- MongoDB

/// A JSON value as the Go CDK's MongoDB driver stores it, as
/// `mongo_client.py` prints BSON.
fn mongo_value(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!({"$double": n.as_f64().unwrap()}),
        Value::Array(a) => Value::Array(a.iter().map(mongo_value).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), mongo_value(v))).collect())
        }
        other => other.clone(),
    }
}

/// Chains' `SignedDocument` for a key-signed artifact, keyed by `Name`.
fn mongo_document(s: &Stored, signature_b64: &str) -> Value {
    let object: Value = serde_json::from_slice(&s.payload).unwrap();
    json!({
        "_id": s.key,
        "Signed": {"$binary": STANDARD.encode(&s.payload)},
        "Signature": signature_b64,
        "Cert": "",
        "Chain": "",
        "Object": mongo_value(&object),
    })
}

pub(crate) fn mongo_server(extra: &[&str]) -> (Service, String) {
    let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let service = common::tool_server("mongo", "mongo_server.py", &args, "/");
    let port = service.port;
    (service, format!("mongodb://127.0.0.1:{port}/"))
}

/// Every document of `db.coll`, read with pymongo, by `_id`.
pub(crate) fn mongo_find(server: &str, db: &str, coll: &str) -> Vec<Value> {
    let out = Command::new("python3")
        .arg(common::root().join("tests/tools/mongo_client.py"))
        .args([server, db, coll])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "mongo_client.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut docs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    docs.sort_by_key(|d| d["_id"].as_str().unwrap_or_default().to_string());
    docs
}

fn mongo_config(dir: &Path, url: &str, server_key: &str, server: &str) -> String {
    let p = dir.join("chains-config.yaml");
    std::fs::write(
        &p,
        format!(
            "artifacts.taskrun.storage: docdb\nartifacts.oci.storage: docdb\nstorage.docdb.url: \"{url}\"\n{server_key}: \"{server}\"\n"
        ),
    )
    .unwrap();
    p.display().to_string()
}

#[test]
fn mongo_documents_are_chains_documents() {
    let (_mongo, server) = mongo_server(&[]);
    let dir = tempfile::tempdir().unwrap();
    // The server URL from a file, as a mounted secret (trailing newline).
    let secret = dir.path().join("secret");
    std::fs::create_dir(&secret).unwrap();
    std::fs::write(secret.join("MONGO_SERVER_URL"), format!("{server}\n")).unwrap();
    let cfg = mongo_config(
        dir.path(),
        "mongo://chains/attestations?id_field=Name",
        "storage.docdb.mongo-server-url-dir",
        secret.to_str().unwrap(),
    );
    let out = attest(&cfg, &[], &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let objects = chains_objects(dir.path());
    let check = |docs: &[Value]| {
        assert_eq!(docs.len(), objects.len(), "{docs:?}");
        for s in &objects {
            let doc = docs
                .iter()
                .find(|d| d["_id"] == s.key.as_str())
                .unwrap_or_else(|| panic!("no document for {}", s.key));
            let signature = check_signature(doc["Signature"].as_str().unwrap(), s, dir.path());
            assert_eq!(doc, &mongo_document(s, signature), "{}", s.key);
        }
    };
    let docs = mongo_find(&server, "chains", "attestations");
    check(&docs);

    // Again, the URL from MONGO_SERVER_URL: the documents are replaced.
    let cfg = config(dir.path(), "mongo://chains/attestations?id_field=Name");
    let out = attest(&cfg, &[], &[("MONGO_SERVER_URL", server.clone())]);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = mongo_find(&server, "chains", "attestations");
    assert_ne!(again, docs, "replaced, with new signatures");
    check(&again);

    // A server refusing the write: its error, named; nothing claimed.
    let (_refusing, refusing) = mongo_server(&["--fail-updates", "13:Unauthorized"]);
    let out = attest(&cfg, &[], &[("MONGO_SERVER_URL", refusing.clone())]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb")
            && err.contains("cannot put")
            && err.contains("Unauthorized (13): update refused by the test server"),
        "{err}"
    );
    assert!(!err.contains("(tried "), "a refusal is not retried: {err}");
    common::assert_no_success_claim(&out);
}

/// A server stepping down is retried; nobody listening is not; the
/// password in the server URL never shows.
#[test]
fn mongo_faults_are_retried_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "mongo://chains/attestations?id_field=Name");
    let (_down, down) = mongo_server(&["--fail-updates", "91:ShutdownInProgress"]);
    let out = attest(&cfg, &[], &[("MONGO_SERVER_URL", down)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb")
            && err.contains("ShutdownInProgress (91)")
            && err.contains("(tried 4 times over "),
        "{err}"
    );
    common::assert_no_success_claim(&out);

    let closed = free_port();
    let password = "s3cret-mongo-password";
    let out = attest(
        &cfg,
        &[],
        &[(
            "MONGO_SERVER_URL",
            format!("mongodb://chains:{password}@127.0.0.1:{closed}/?authSource=admin"),
        )],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("docdb")
            && err.contains(&format!("cannot reach mongodb://127.0.0.1:{closed}")),
        "{err}"
    );
    assert!(!err.contains(password), "the password leaked: {err}");
    assert!(!err.contains("(tried "), "refused is not retried: {err}");
    common::assert_no_success_claim(&out);
}

/// Chains re-reads `mongo-server-url-path` when the secret changes; one
/// backend here follows the file from one server to another.
#[test]
fn mongo_follows_a_rotated_server_url_file() {
    use chains::store::Backend;
    use chains::store::docdb::{DocdbBackend, DocdbOptions};
    let (_a, server_a) = mongo_server(&[]);
    let (_b, server_b) = mongo_server(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("url");
    std::fs::write(&file, format!("{server_a}\n")).unwrap();
    let backend = DocdbBackend::with_env(
        &DocdbOptions {
            url: Some("mongo://chains/rotated?id_field=Name".into()),
            mongo_server_url_path: Some(file.clone()),
            ..Default::default()
        },
        &|_| None,
    )
    .unwrap();
    let signer = chains::sign::local::LocalSigner::load(
        Path::new(&key()),
        &chains::sign::Password::FromEnvironment,
    )
    .unwrap();
    let artifact = |key: &str| chains::store::SignedArtifact {
        kind: chains::store::ArtifactKind::TaskRun,
        short_key: key.to_string(),
        payload: br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#.to_vec(),
        signature: b"{}".to_vec(),
        envelope: None,
        image: None,
        subjects: Vec::new(),
        public_key: chains::sign::Signer::public_key(&signer).clone(),
        certificate: None,
        tlog: None,
    };
    let run = chains::run::RunId {
        kind: chains::run::RunKind::TaskRun,
        namespace: "ci".into(),
        name: "r".into(),
        uid: "u".into(),
        origin: chains::run::Origin {
            file: "run.yaml".into(),
            document: 0,
            item: None,
            line: 1,
        },
    };
    backend.store(&run, &artifact("taskrun-first")).unwrap();
    std::fs::write(&file, format!("{server_b}\n")).unwrap();
    backend.store(&run, &artifact("taskrun-second")).unwrap();
    let ids = |server: &str| -> Vec<String> {
        mongo_find(server, "chains", "rotated")
            .iter()
            .map(|d| d["_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&server_a), ["taskrun-first"]);
    assert_eq!(ids(&server_b), ["taskrun-second"]);
}
