//! `mongo://DATABASE/COLLECTION?id_field=FIELD`: Chains' document as one
//! MongoDB document, replaced or inserted (`replaceOne` with `upsert`, as the
//! Go CDK's `Put` does) under `{_id: <value of id_field>}`.
//!
//! As in the Go CDK's MongoDB driver the id field is found ignoring case,
//! its value becomes `_id`, and the field spelled exactly so is left out of
//! the stored document (`id_field=Name` stores `_id` and five fields).
//! `Signed` is BSON binary (generic subtype), strings stay strings (empty
//! ones too), JSON numbers (Go `float64`s) are doubles.
//!
//! The server URL is Chains': first `storage.docdb.mongo-server-url-path`
//! (a file), then `storage.docdb.mongo-server-url-dir` (the file
//! `MONGO_SERVER_URL` in it), then `storage.docdb.mongo-server-url`, then
//! the `MONGO_SERVER_URL` environment variable; a trailing newline of a file
//! is dropped. Chains watches those files to pick up rotated credentials;
//! here a file is read again before every put and a new client is made when
//! its content changed, so `chains watch` follows a rotated secret the same
//! way. The URL (which may hold a password) never appears in a message:
//! only its hosts do.
//!
//! The client is MongoDB's official driver (`mongodb`, the `sync` API).
//! It adds about forty crates (bson and its helpers); the alternative, a
//! hand-written wire client, would have had to do SCRAM authentication,
//! TLS and replica-set primary discovery by hand. `mongodb+srv://` needs the
//! driver's DNS resolver (fifteen crates more) and is refused with a clear
//! error instead. Each put runs within [`REQUEST_TIMEOUT`] and the overall
//! `--timeout`: server selection is bounded by the same deadline, and a
//! server that accepts but never answers is given up on when it passes.
//! Network errors, an unreachable server other than a refused connection,
//! and the server's retryable error codes are transient.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::ClientOptions;
use serde_json::Value;

use super::{Collection, DocdbOptions, DocstoreUrl, FieldValue, NAME, SignedDocument, field_names};
use crate::store::StoreError;

const ENV: &str = "MONGO_SERVER_URL";
/// One put, server selection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const SELECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// MongoDB's error codes for a primary stepping down, a shutdown, a network
/// blip or a write conflict: the write may succeed if tried again.
const RETRYABLE_CODES: &[i32] = &[
    6, 7, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
];

/// Where the server URL comes from, in Chains' order of preference.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ServerUrlSource {
    /// `storage.docdb.mongo-server-url-path`.
    File(PathBuf),
    /// `storage.docdb.mongo-server-url-dir`/MONGO_SERVER_URL.
    Dir(PathBuf),
    /// `storage.docdb.mongo-server-url`, or `MONGO_SERVER_URL`.
    Fixed(String, &'static str),
}

impl ServerUrlSource {
    fn choose(
        options: &DocdbOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ServerUrlSource, String> {
        if let Some(p) = &options.mongo_server_url_path {
            return Ok(ServerUrlSource::File(p.clone()));
        }
        if let Some(d) = &options.mongo_server_url_dir {
            return Ok(ServerUrlSource::Dir(d.clone()));
        }
        if let Some(u) = &options.mongo_server_url {
            return Ok(ServerUrlSource::Fixed(
                u.clone(),
                "storage.docdb.mongo-server-url",
            ));
        }
        match env(ENV).filter(|v| !v.is_empty()) {
            Some(u) => Ok(ServerUrlSource::Fixed(u, ENV)),
            None => Err(format!(
                "no MongoDB server URL: set one of storage.docdb.mongo-server-url-path, storage.docdb.mongo-server-url-dir, storage.docdb.mongo-server-url, or the {ENV} environment variable"
            )),
        }
    }

    /// The URL now (files are read each time).
    fn read(&self) -> Result<String, String> {
        let file = |path: &Path, key: &str| {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "cannot read the server URL from {} ({key}): {e}",
                    path.display()
                )
            })?;
            let url = text.strip_suffix('\n').unwrap_or(&text).to_string();
            if url.trim().is_empty() {
                return Err(format!("{} ({key}) is empty", path.display()));
            }
            Ok(url)
        };
        match self {
            ServerUrlSource::File(p) => file(p, "storage.docdb.mongo-server-url-path"),
            ServerUrlSource::Dir(d) => file(&d.join(ENV), "storage.docdb.mongo-server-url-dir"),
            ServerUrlSource::Fixed(u, _) => Ok(u.clone()),
        }
    }
}

/// A server URL without its user information, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "the MongoDB server URL".to_string();
    };
    let hosts_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let hosts = &rest[..hosts_end];
    let hosts = hosts.rsplit_once('@').map_or(hosts, |(_, h)| h);
    format!("{scheme}://{hosts}")
}

/// A MongoDB collection, and the client for the server URL last read.
pub struct MongoCollection {
    database: String,
    collection: String,
    id_field: String,
    source: ServerUrlSource,
    /// (server URL, its client).
    client: Mutex<Option<(String, mongodb::sync::Client)>>,
}

impl MongoCollection {
    /// Parse the URL and find where the server URL comes from (reads and
    /// checks it now, connects at the first put).
    pub fn open(
        url: &DocstoreUrl,
        options: &DocdbOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<MongoCollection, StoreError> {
        let fail =
            |m: String| StoreError::new(NAME, format!("mongo://{}{}: {m}", url.host, url.path));
        if let Some(p) = url.unknown(&["id_field", "revision_field"]) {
            return Err(fail(format!("invalid query parameter {p:?}")));
        }
        if url.host.is_empty() {
            return Err(fail("the URL's host (the database name) is empty".into()));
        }
        let collection = url.path.trim_start_matches('/').to_string();
        if collection.is_empty() {
            return Err(fail("the URL's path (the collection name) is empty".into()));
        }
        // The Go CDK keys by `_id` when no id_field is given; Chains'
        // document has no such field, so every put would fail: say so now.
        let id_field = url.get("id_field").unwrap_or("").to_string();
        if id_field.is_empty() {
            return Err(fail(
                "id_field is required (Chains' documents are keyed by Name: ?id_field=Name)".into(),
            ));
        }
        let source = ServerUrlSource::choose(options, env).map_err(&fail)?;
        let server = source.read().map_err(&fail)?;
        check_server_url(&server).map_err(&fail)?;
        Ok(MongoCollection {
            database: url.host.clone(),
            collection,
            id_field,
            source,
            client: Mutex::new(None),
        })
    }

    /// The client for the current server URL: the one made before, unless
    /// the URL changed (a rotated secret).
    fn client(&self, what: &str) -> Result<(mongodb::sync::Client, String), StoreError> {
        let fail = |m: String| StoreError::new(NAME, format!("{what}: {m}"));
        let url = self.source.read().map_err(&fail)?;
        check_server_url(&url).map_err(&fail)?;
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((current, client)) = slot.as_ref()
            && *current == url
        {
            return Ok((client.clone(), redacted(&url)));
        }
        let shown = redacted(&url);
        let secret = password(&url);
        let scrub = |m: String| match &secret {
            Some(s) if !s.is_empty() => m.replace(s.as_str(), "****"),
            _ => m,
        };
        let mut options = ClientOptions::parse(&url).run().map_err(|e| {
            fail(scrub(format!(
                "the server URL for {shown} is not valid: {e}"
            )))
        })?;
        options.connect_timeout = Some(CONNECT_TIMEOUT);
        // A server that cannot be reached in this time is reported (the
        // driver's default waits 30 s).
        options.server_selection_timeout = Some(SELECTION_TIMEOUT);
        options.app_name = Some(concat!("chains/", env!("CARGO_PKG_VERSION")).to_string());
        let client = mongodb::sync::Client::with_options(options)
            .map_err(|e| fail(scrub(format!("cannot set up a client for {shown}: {e}"))))?;
        *slot = Some((url, client.clone()));
        Ok((client, shown))
    }
}

/// What chains can connect to.
fn check_server_url(url: &str) -> Result<(), String> {
    if url.starts_with("mongodb+srv://") {
        return Err(format!(
            "{}: mongodb+srv:// URLs (DNS seed lists) are not supported by chains; list the hosts: mongodb://host1,host2/?replicaSet=...",
            redacted(url)
        ));
    }
    if !url.starts_with("mongodb://") {
        return Err(format!(
            "the server URL {} is not a mongodb:// URL",
            redacted(url)
        ));
    }
    Ok(())
}

/// The password in a server URL, to scrub from messages.
fn password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest[..rest.find(['/', '?']).unwrap_or(rest.len())]
        .rsplit_once('@')?
        .0;
    let pw = userinfo.split_once(':')?.1;
    Some(
        percent_encoding::percent_decode_str(pw)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

impl Collection for MongoCollection {
    fn put(&self, doc: &SignedDocument) -> Result<(), StoreError> {
        let what = format!(
            "cannot put {} in {}.{}",
            doc.name, self.database, self.collection
        );
        let id = match doc.field_fold(&self.id_field) {
            Some((_, FieldValue::String(s))) if !s.is_empty() => Bson::String(s.to_string()),
            Some((_, FieldValue::Bytes(b))) if !b.is_empty() => binary(b),
            Some((_, FieldValue::Json(v))) if !v.is_null() => bson_of(v),
            _ => {
                return Err(StoreError::new(
                    NAME,
                    format!(
                        "{what}: missing document key: no value for id_field {:?} (the document's fields are {}; Chains' documents are keyed by Name)",
                        self.id_field,
                        field_names()
                    ),
                ));
            }
        };
        let mut replacement = document(doc, &self.id_field);
        replacement.insert("_id", id.clone());
        let (client, shown) = self.client(&what)?;
        let timeout = crate::deadline::cap(REQUEST_TIMEOUT);
        let coll = client
            .database(&self.database)
            .collection::<Document>(&self.collection);
        let filter = doc! {"_id": id};
        // The driver has no per-operation deadline: the put runs on its own
        // thread, and is given up on when the deadline passes.
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("chains-mongo".into())
            .spawn(move || {
                let result = coll.replace_one(filter, replacement).upsert(true).run();
                let _ = tx.send(result);
            })
            .map_err(|e| StoreError::new(NAME, format!("{what}: cannot start a thread: {e}")))?;
        let result = match rx.recv_timeout(timeout) {
            Ok(r) => r,
            Err(_) => {
                return Err(StoreError::transient(
                    NAME,
                    format!(
                        "{what}: {shown} did not answer within {}",
                        crate::deadline::ended_by(REQUEST_TIMEOUT)
                    ),
                ));
            }
        };
        match result {
            Ok(r) if r.matched_count + u64::from(r.upserted_id.is_some()) == 1 => Ok(()),
            Ok(r) => Err(StoreError::new(
                NAME,
                format!(
                    "{what}: {shown} acknowledged no write (matched {}, upserted {})",
                    r.matched_count,
                    u64::from(r.upserted_id.is_some())
                ),
            )),
            Err(e) => Err(explain(
                &what,
                &shown,
                &e,
                password(&self.source.read().unwrap_or_default()),
            )),
        }
    }
}

/// A driver error, explained, transient or not; the password scrubbed.
fn explain(
    what: &str,
    shown: &str,
    e: &mongodb::error::Error,
    secret: Option<String>,
) -> StoreError {
    let text = match &secret {
        Some(s) if !s.is_empty() => e.to_string().replace(s.as_str(), "****"),
        _ => e.to_string(),
    };
    let (transient, message) = match e.kind.as_ref() {
        ErrorKind::Command(c) => (
            RETRYABLE_CODES.contains(&c.code),
            format!(
                "{what}: {shown}: {} ({}): {}",
                c.code_name, c.code, c.message
            ),
        ),
        ErrorKind::Write(WriteFailure::WriteError(w)) => (
            RETRYABLE_CODES.contains(&w.code),
            format!("{what}: {shown}: write error {}: {}", w.code, w.message),
        ),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => (
            RETRYABLE_CODES.contains(&w.code),
            format!(
                "{what}: {shown}: write concern error {}: {}",
                w.code, w.message
            ),
        ),
        ErrorKind::Authentication { .. } => (
            false,
            format!("{what}: {shown}: authentication failed: {text}"),
        ),
        ErrorKind::ServerSelection { .. } if text.contains("Connection refused") => (
            false,
            format!(
                "{what}: cannot reach {shown}: connection refused (no server answered within {}s)",
                SELECTION_TIMEOUT.as_secs()
            ),
        ),
        ErrorKind::ServerSelection { .. } => {
            (true, format!("{what}: cannot reach {shown}: {text}"))
        }
        ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } => {
            (true, format!("{what}: {shown}: {text}"))
        }
        _ => (false, format!("{what}: {shown}: {text}")),
    };
    if transient {
        StoreError::transient(NAME, message)
    } else {
        StoreError::new(NAME, message)
    }
}

fn binary(b: &[u8]) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Generic,
        bytes: b.to_vec(),
    })
}

/// The document the Go CDK's driver writes, without the field named exactly
/// `id_field` (the caller adds `_id`).
pub fn document(doc: &SignedDocument, id_field: &str) -> Document {
    let mut out = Document::new();
    for (name, value) in doc.fields() {
        if name == id_field {
            continue;
        }
        let v = match value {
            FieldValue::Bytes(b) => binary(b),
            FieldValue::String(s) => Bson::String(s.to_string()),
            FieldValue::Json(v) => bson_of(v),
        };
        out.insert(name, v);
    }
    out
}

fn bson_of(v: &Value) -> Bson {
    match v {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => Bson::Double(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(a) => Bson::Array(a.iter().map(bson_of).collect()),
        Value::Object(o) => {
            Bson::Document(o.iter().map(|(k, v)| (k.clone(), bson_of(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_encoded_as_the_go_cdk_encodes_them() {
        let d = SignedDocument {
            signed: b"{}".to_vec(),
            signature: "c2ln".into(),
            cert: String::new(),
            chain: String::new(),
            object: json!({"n": 1, "x": null, "a": [true]}),
            name: "taskrun-1".into(),
        };
        let m = document(&d, "Name");
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            ["Signed", "Signature", "Cert", "Chain", "Object"]
        );
        assert_eq!(m.get("Signed"), Some(&binary(b"{}")));
        assert_eq!(m.get_str("Cert").unwrap(), "");
        let o = m.get_document("Object").unwrap();
        assert_eq!(o.get("n"), Some(&Bson::Double(1.0)));
        assert_eq!(o.get("x"), Some(&Bson::Null));
        assert_eq!(o.get("a"), Some(&Bson::Array(vec![Bson::Boolean(true)])));
        // Matched ignoring case, removed only when spelled exactly.
        assert!(document(&d, "name").contains_key("Name"));
    }

    #[test]
    fn server_urls_come_from_where_chains_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("url");
        std::fs::write(&path, "mongodb://u:p%40ss@db:27017/?tls=true\n").unwrap();
        std::fs::write(dir.path().join(ENV), "mongodb://from-dir\n").unwrap();
        let env = |k: &str| (k == ENV).then(|| "mongodb://from-env".to_string());
        let none = |_: &str| None;
        let mut o = DocdbOptions {
            mongo_server_url_path: Some(path.clone()),
            mongo_server_url_dir: Some(dir.path().to_path_buf()),
            mongo_server_url: Some("mongodb://from-config".into()),
            ..Default::default()
        };
        let read = |o: &DocdbOptions, env: &dyn Fn(&str) -> Option<String>| {
            ServerUrlSource::choose(o, env).and_then(|s| s.read())
        };
        assert_eq!(
            read(&o, &env).unwrap(),
            "mongodb://u:p%40ss@db:27017/?tls=true"
        );
        o.mongo_server_url_path = None;
        assert_eq!(read(&o, &env).unwrap(), "mongodb://from-dir");
        o.mongo_server_url_dir = None;
        assert_eq!(read(&o, &env).unwrap(), "mongodb://from-config");
        o.mongo_server_url = None;
        assert_eq!(read(&o, &env).unwrap(), "mongodb://from-env");
        assert!(read(&o, &none).unwrap_err().contains("MONGO_SERVER_URL"));
        assert_eq!(
            redacted("mongodb://u:p%40ss@db:27017,db2/?tls=true"),
            "mongodb://db:27017,db2"
        );
        assert_eq!(password("mongodb://u:p%40ss@db/").as_deref(), Some("p@ss"));
        assert!(
            check_server_url("mongodb+srv://u:secret@cluster")
                .unwrap_err()
                .contains("mongodb+srv")
        );
        assert!(
            !check_server_url("mongodb+srv://u:secret@cluster")
                .unwrap_err()
                .contains("secret")
        );
    }
}
