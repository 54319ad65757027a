//! `firestore://projects/P/databases/D/documents/COLLECTION?name_field=FIELD`:
//! Chains' document as one Firestore document, over Firestore's REST API.
//!
//! The Go CDK's Firestore driver puts a document with one `Commit` holding
//! one `update` write and no precondition (create or replace); so does this,
//! with `POST {base}/v1/projects/P/databases/D/documents:commit`, and the
//! store counts only when the reply carries the write's result. The
//! document is `COLLECTION/<value of name_field>`; as in the Go CDK the name
//! field is found ignoring case but left out of the stored fields only when
//! spelled exactly (`name_field=Name` stores five fields, `name_field=name`
//! six), and its value must be a non-empty string.
//!
//! Values are encoded as the driver encodes them: `Signed` as `bytesValue`,
//! strings as `stringValue` (empty ones too), JSON numbers (Go `float64`s)
//! as `doubleValue`, `null` as `nullValue`, objects as `mapValue`, arrays as
//! `arrayValue`.
//!
//! `{base}` is `https://firestore.googleapis.com` with Google's
//! application-default credentials ([`crate::cloud::google`], scope
//! `datastore`), or `FIRESTORE_EMULATOR_HOST` (`host:port`) over plain HTTP
//! with the emulator's `Bearer owner`, as Google's clients do. 408, 409
//! (`ABORTED`), 429, 5xx, timeouts and dropped connections are transient;
//! a 401 with refreshable credentials is retried once with a new token.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::{Collection, DocstoreUrl, FieldValue, NAME, SignedDocument, field_names};
use crate::cloud::google::{GoogleCredentials, error_message};
use crate::cloud::nonempty;
use crate::store::http::{self, Peer};
use crate::store::{StoreError, is_transient_status};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_BASE: &str = "https://firestore.googleapis.com";
const EMULATOR_VAR: &str = "FIRESTORE_EMULATOR_HOST";
/// Cloud Firestore (and Datastore) read and write.
pub const SCOPE_DATASTORE: &str = "https://www.googleapis.com/auth/datastore";

/// A Firestore collection and the client that writes it.
pub struct FirestoreCollection {
    /// `projects/P/databases/D`.
    database: String,
    /// `projects/P/databases/D/documents/COLLECTION`.
    collection: String,
    name_field: String,
    base: String,
    http: reqwest::blocking::Client,
    /// None for the emulator.
    auth: Option<GoogleCredentials>,
}

impl FirestoreCollection {
    /// Parse the URL, find credentials (no request).
    pub fn open(
        url: &DocstoreUrl,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<FirestoreCollection, StoreError> {
        let collection = format!("{}{}", url.host, url.path)
            .trim_end_matches('/')
            .to_string();
        let fail = |m: String| StoreError::new(NAME, format!("firestore://{collection}: {m}"));
        let name_field = url
            .get("name_field")
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                fail("name_field is required (Chains' documents are named by Name: ?name_field=Name)".into())
            })?
            .to_string();
        if let Some(p) = url.unknown(&["name_field", "revision_field"]) {
            return Err(fail(format!("invalid query parameter {p:?}")));
        }
        let database = database_of(&collection).ok_or_else(|| {
            fail("expected projects/PROJECT/databases/DATABASE/documents/COLLECTION".into())
        })?;
        let (base, auth) = match nonempty(env, EMULATOR_VAR) {
            Some(host) => (format!("http://{}", host.trim()), None),
            None => {
                let auth = GoogleCredentials::from_env(env, SCOPE_DATASTORE)
                    .map_err(|m| fail(format!("Google credentials: {m}")))?;
                (DEFAULT_BASE.to_string(), Some(auth))
            }
        };
        let http = http::client(CONNECT_TIMEOUT, REQUEST_TIMEOUT).map_err(fail)?;
        Ok(FirestoreCollection {
            database,
            collection,
            name_field,
            base,
            http,
            auth,
        })
    }

    fn redact(&self, message: String) -> String {
        match &self.auth {
            Some(auth) => auth.redact(message),
            None => message,
        }
    }

    /// One commit (a 401 with refreshable credentials is retried once).
    fn commit(&self, what: &str, body: &Value) -> Result<(), StoreError> {
        let url = format!("{}/v1/{}/documents:commit", self.base, self.database);
        let fail = |m: String| StoreError::new(NAME, self.redact(m));
        let retry = |m: String| StoreError::transient(NAME, self.redact(m));
        let mut refreshed = false;
        loop {
            let mut req = self.http.post(&url).json(body);
            req = match &self.auth {
                Some(auth) => {
                    let token = auth.token(&self.http).map_err(|m| {
                        fail(format!(
                            "{what}: no access token from {}: {m}",
                            auth.describe()
                        ))
                    })?;
                    req.bearer_auth(token.as_str())
                }
                None => req.bearer_auth("owner"),
            };
            let (status, reply) = match http::exchange(req, REQUEST_TIMEOUT) {
                Ok(reply) => reply,
                Err(e) => {
                    let peer = Peer {
                        service: "Firestore",
                        base: &self.base,
                    };
                    return Err(http::unanswered(
                        e,
                        what,
                        Some(peer),
                        REQUEST_TIMEOUT,
                        fail,
                        retry,
                    ));
                }
            };
            if (200..300).contains(&status) {
                return check_committed(&reply).map_err(|m| fail(format!("{what}: {m}")));
            }
            if http::retry_unauthorized(status, &mut refreshed, self.auth.as_ref()) {
                continue;
            }
            let hint = match status {
                401 => " (the credentials were rejected)",
                403 => {
                    " (permission denied: writing needs datastore.entities.create and .update, as in roles/datastore.user)"
                }
                404 => " (no such project or database)",
                _ => "",
            };
            let message = format!("{what}: {}", error_message(status, &reply, hint));
            return Err(if is_transient_status(status) || status == 409 {
                retry(message)
            } else {
                fail(message)
            });
        }
    }
}

impl Collection for FirestoreCollection {
    fn put(&self, doc: &SignedDocument) -> Result<(), StoreError> {
        let what = format!("cannot put {} in {}", doc.name, self.collection);
        let name = match doc.field_fold(&self.name_field) {
            Some((_, FieldValue::String(s))) if !s.is_empty() => s,
            Some((_, FieldValue::String(_))) | None => {
                return Err(StoreError::new(
                    NAME,
                    format!(
                        "{what}: missing document key: no value for name_field {:?} (the document's fields are {}; Chains' documents are named by Name)",
                        self.name_field,
                        field_names()
                    ),
                ));
            }
            Some((field, _)) => {
                return Err(StoreError::new(
                    NAME,
                    format!(
                        "{what}: key field {field:?} (name_field {:?}) is not a string",
                        self.name_field
                    ),
                ));
            }
        };
        let body = json!({"writes": [{"update": {
            "name": format!("{}/{name}", self.collection),
            "fields": fields(doc, &self.name_field),
        }}]});
        self.commit(&what, &body)
    }
}

/// `projects/P/databases/D` of a collection path, if it is one (the Go CDK's
/// `^(projects/[^/]+/databases/[^/]+)/documents/.+`).
fn database_of(collection: &str) -> Option<String> {
    let mut parts = collection.splitn(6, '/');
    let (Some("projects"), Some(p), Some("databases"), Some(d), Some("documents"), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (!p.is_empty() && !d.is_empty() && !rest.is_empty())
        .then(|| format!("projects/{p}/databases/{d}"))
}

/// A commit reply acknowledges the one write.
fn check_committed(reply: &[u8]) -> Result<(), String> {
    let v: Value = serde_json::from_slice(reply)
        .map_err(|e| format!("Firestore's commit reply is not JSON: {e}"))?;
    match v.get("writeResults").and_then(Value::as_array) {
        Some(results) if results.len() == 1 => Ok(()),
        _ => Err(format!(
            "Firestore's commit reply has no result for the write: {}",
            crate::cloud::snippet(reply)
        )),
    }
}

/// The document's fields as the Go CDK's driver encodes them, without the
/// field named exactly `name_field`.
pub fn fields(doc: &SignedDocument, name_field: &str) -> Value {
    let mut out = Map::new();
    for (name, value) in doc.fields() {
        if name == name_field {
            continue;
        }
        let v = match value {
            FieldValue::Bytes(b) => json!({"bytesValue": STANDARD.encode(b)}),
            FieldValue::String(s) => json!({"stringValue": s}),
            FieldValue::Json(v) => value_of(v),
        };
        out.insert(name.to_string(), v);
    }
    Value::Object(out)
}

fn value_of(v: &Value) -> Value {
    match v {
        Value::Null => json!({"nullValue": null}),
        Value::Bool(b) => json!({"booleanValue": b}),
        Value::Number(n) => json!({"doubleValue": n.as_f64()}),
        Value::String(s) => json!({"stringValue": s}),
        Value::Array(a) => {
            json!({"arrayValue": {"values": a.iter().map(value_of).collect::<Vec<_>>()}})
        }
        Value::Object(o) => {
            let fields: Map<String, Value> =
                o.iter().map(|(k, v)| (k.clone(), value_of(v))).collect();
            json!({"mapValue": {"fields": fields}})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_encoded_as_the_go_cdk_encodes_them() {
        let doc = SignedDocument {
            signed: b"{}".to_vec(),
            signature: "c2ln".into(),
            cert: String::new(),
            chain: String::new(),
            object: json!({"a": [1, "x"], "n": null, "t": false, "m": {}}),
            name: "taskrun-1".into(),
        };
        let f = fields(&doc, "Name");
        assert_eq!(
            f,
            json!({
                "Signed": {"bytesValue": "e30="},
                "Signature": {"stringValue": "c2ln"},
                "Cert": {"stringValue": ""},
                "Chain": {"stringValue": ""},
                "Object": {"mapValue": {"fields": {
                    "a": {"arrayValue": {"values": [{"doubleValue": 1.0}, {"stringValue": "x"}]}},
                    "n": {"nullValue": null},
                    "t": {"booleanValue": false},
                    "m": {"mapValue": {"fields": {}}},
                }}},
            })
        );
        // Matched ignoring case for the name, removed only when exact.
        assert_eq!(
            fields(&doc, "name")["Name"],
            json!({"stringValue": "taskrun-1"})
        );
    }

    #[test]
    fn collection_paths_are_checked() {
        assert_eq!(
            database_of("projects/p/databases/(default)/documents/c").as_deref(),
            Some("projects/p/databases/(default)")
        );
        assert_eq!(database_of("projects/p/databases/d/documents/"), None);
        assert_eq!(database_of("projects/p/documents/c"), None);
        let env = |_: &str| None;
        let open = |u: &str| match FirestoreCollection::open(&DocstoreUrl::parse(u).unwrap(), &env)
        {
            Err(e) => e.to_string(),
            Ok(_) => "ok".into(),
        };
        assert!(
            open("firestore://projects/p/databases/d/documents/c")
                .contains("name_field is required")
        );
        assert!(
            open("firestore://projects/p/databases/d/documents/c?name_field=Name&x=1")
                .contains("invalid query parameter \"x\"")
        );
        assert!(
            open("firestore://projects/p/documents/c?name_field=Name")
                .contains("expected projects/")
        );
    }
}
