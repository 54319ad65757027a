//! The `docdb` backend: one document per signed artifact in a document
//! database, as Tekton Chains' docdb backend writes it through the Go CDK's
//! docstore (`gocloud.dev/docstore`), at `storage.docdb.url`:
//!
//! - `dynamodb://TABLE?partition_key=FIELD` ([`dynamodb`]): a DynamoDB item;
//! - `firestore://projects/P/databases/D/documents/C?name_field=FIELD`
//!   ([`firestore`]): a Firestore document;
//! - `mongo://DATABASE/COLLECTION?id_field=FIELD` ([`mongo`]): a MongoDB
//!   document, on the server at `MONGO_SERVER_URL` or Chains'
//!   `storage.docdb.mongo-server-url{,-dir,-path}`.
//!
//! The document is Chains' `SignedDocument`, whose Go field names are the
//! stored field names (it has no tags):
//!
//! | field       | value                                                        |
//! |-------------|--------------------------------------------------------------|
//! | `Signed`    | the signed payload's bytes (binary)                          |
//! | `Signature` | base64 of what Chains calls the signature (the DSSE envelope |
//! |             | JSON of an attestation, the raw signature of an image)       |
//! | `Cert`      | the signing certificate (PEM), empty with a key              |
//! | `Chain`     | its chain (PEM), empty with a key                            |
//! | `Object`    | the payload parsed as JSON (numbers are Go `float64`s)       |
//! | `Name`      | Chains' short key: `taskrun-<uid>`, `pipelinerun-<uid>`, or  |
//! |             | the first 12 hex digits of an image digest                   |
//!
//! Chains `Put`s it: a document with the same key is replaced. The key is the
//! field the URL names; Chains' documents are meant to be keyed by `Name`
//! (`partition_key=Name`, `name_field=Name`, `id_field=Name`). How each service encodes the
//! values (DynamoDB's empty strings as NULL, Firestore's numbers as doubles,
//! the key field left out of a Firestore document) follows the Go CDK's
//! drivers, so what reads Chains' documents reads ours.
//!
//! Each artifact is one request; [`super::with_retries_on`] (called by the
//! pipeline) retries what the drivers mark transient. A document counts as
//! stored only when the service acknowledged it.

pub mod dynamodb;
pub mod firestore;
pub mod mongo;

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{Backend, SignedArtifact, StoreError};
use crate::run::RunId;

const NAME: &str = "docdb";

/// `storage.docdb.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocdbOptions {
    /// `storage.docdb.url`.
    pub url: Option<String>,
    /// `storage.docdb.mongo-server-url`.
    pub mongo_server_url: Option<String>,
    /// `storage.docdb.mongo-server-url-dir`: a directory holding a file
    /// named `MONGO_SERVER_URL`.
    pub mongo_server_url_dir: Option<PathBuf>,
    /// `storage.docdb.mongo-server-url-path`: a file holding the URL.
    pub mongo_server_url_path: Option<PathBuf>,
}

/// Chains' `SignedDocument`, with its values as Chains computes them.
#[derive(Clone, Debug, PartialEq)]
pub struct SignedDocument {
    pub signed: Vec<u8>,
    pub signature: String,
    pub cert: String,
    pub chain: String,
    pub object: Value,
    pub name: String,
}

/// One field's value, before a service's encoding.
#[derive(Clone, Copy, Debug)]
pub enum FieldValue<'a> {
    Bytes(&'a [u8]),
    String(&'a str),
    Json(&'a Value),
}

impl SignedDocument {
    /// The document Chains writes for `artifact`. Chains parses the payload
    /// as JSON and fails the store when it is not.
    pub fn of(artifact: &SignedArtifact) -> Result<SignedDocument, StoreError> {
        let object: Value = serde_json::from_slice(&artifact.payload).map_err(|e| {
            StoreError::new(
                NAME,
                format!(
                    "cannot store {}: its payload is not JSON ({e}), and Chains' document holds it parsed",
                    artifact.short_key
                ),
            )
        })?;
        let (cert, chain) = match &artifact.certificate {
            Some(c) => (c.certificate_pem.clone(), c.chain_pem.clone()),
            None => (String::new(), String::new()),
        };
        Ok(SignedDocument {
            signed: artifact.payload.clone(),
            signature: STANDARD.encode(&artifact.signature),
            cert,
            chain,
            object,
            name: artifact.short_key.clone(),
        })
    }

    /// The fields in the Go struct's order, under their stored names.
    pub fn fields(&self) -> [(&'static str, FieldValue<'_>); 6] {
        [
            ("Signed", FieldValue::Bytes(&self.signed)),
            ("Signature", FieldValue::String(&self.signature)),
            ("Cert", FieldValue::String(&self.cert)),
            ("Chain", FieldValue::String(&self.chain)),
            ("Object", FieldValue::Json(&self.object)),
            ("Name", FieldValue::String(&self.name)),
        ]
    }

    /// The field the docstore finds for `name`: the exact name, else one
    /// equal ignoring ASCII case (the Go CDK matches struct fields so).
    pub fn field_fold(&self, name: &str) -> Option<(&'static str, FieldValue<'_>)> {
        let fields = self.fields();
        fields
            .iter()
            .find(|(n, _)| *n == name)
            .or_else(|| fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
            .copied()
    }
}

/// The stored field names, for messages.
pub fn field_names() -> &'static str {
    "Signed, Signature, Cert, Chain, Object, Name"
}

/// A collection a document is put in.
trait Collection: Send + Sync {
    /// Put (create or replace) one document; an error names the collection.
    fn put(&self, doc: &SignedDocument) -> Result<(), StoreError>;
}

/// A parsed `storage.docdb.url`: Go's `url.Parse` fields docstore reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocstoreUrl {
    pub scheme: String,
    pub host: String,
    /// Decoded, with its leading `/` (empty when none).
    pub path: String,
    /// Decoded query parameters in order (Go keeps the first of a repeated one).
    pub query: Vec<(String, String)>,
}

impl DocstoreUrl {
    pub fn parse(text: &str) -> Result<DocstoreUrl, StoreError> {
        let bad = |why: &str| {
            StoreError::new(
                NAME,
                format!("storage.docdb.url {text:?} is not a docstore URL: {why}"),
            )
        };
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("a percent-escape is not UTF-8"))
        };
        let mut query: Vec<(String, String)> = Vec::new();
        for (k, v) in url.query_pairs() {
            if !query.iter().any(|(seen, _)| *seen == k) {
                query.push((k.into_owned(), v.into_owned()));
            }
        }
        Ok(DocstoreUrl {
            scheme: url.scheme().to_string(),
            host: decode(url.host_str().unwrap_or(""))?,
            path: decode(url.path())?,
            query,
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters not in `known`.
    pub fn unknown<'a>(&'a self, known: &[&str]) -> Option<&'a str> {
        self.query
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !known.contains(k))
    }
}

/// Stores each signed artifact as a document.
pub struct DocdbBackend {
    collection: Box<dyn Collection>,
}

impl DocdbBackend {
    /// A backend for `storage.docdb.url`, with settings from the process
    /// environment. Finds credentials; makes no request.
    pub fn new(options: &DocdbOptions) -> Result<DocdbBackend, StoreError> {
        Self::with_env(options, &|name| std::env::var(name).ok())
    }

    /// [`DocdbBackend::new`] with the environment given as a lookup.
    #[doc(hidden)]
    pub fn with_env(
        options: &DocdbOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<DocdbBackend, StoreError> {
        let Some(text) = options.url.as_deref().filter(|u| !u.is_empty()) else {
            return Err(StoreError::new(
                NAME,
                "storage.docdb.url is not set: set it to dynamodb://TABLE?partition_key=Name, firestore://projects/P/databases/D/documents/C?name_field=Name or mongo://DATABASE/COLLECTION?id_field=Name",
            ));
        };
        let url = DocstoreUrl::parse(text)?;
        let collection: Box<dyn Collection> = match url.scheme.as_str() {
            "dynamodb" => Box::new(dynamodb::DynamoCollection::open(&url)?),
            "firestore" => Box::new(firestore::FirestoreCollection::open(&url, env)?),
            "mongo" => Box::new(mongo::MongoCollection::open(&url, options, env)?),
            other => {
                return Err(StoreError::new(
                    NAME,
                    format!(
                        "storage.docdb.url {text:?}: unknown scheme {other:?}; chains supports dynamodb://, firestore:// and mongo://"
                    ),
                ));
            }
        };
        Ok(DocdbBackend { collection })
    }
}

impl Backend for DocdbBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn store(
        &self,
        _run: &RunId,
        artifact: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let doc = SignedDocument::of(artifact)?;
        self.collection.put(&doc)?;
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::{CertificateChain, PublicKey};
    use crate::store::ArtifactKind;

    pub(super) fn artifact(payload: &str, certificate: Option<CertificateChain>) -> SignedArtifact {
        SignedArtifact {
            kind: ArtifactKind::TaskRun,
            short_key: "taskrun-1234".into(),
            payload: payload.as_bytes().to_vec(),
            signature: b"{\"payloadType\":\"x\"}".to_vec(),
            envelope: None,
            image: None,
            subjects: Vec::new(),
            public_key: PublicKey::from_pem(include_str!("../../../testdata/keys/p384.pub"))
                .unwrap(),
            certificate,
            tlog: None,
        }
    }

    #[test]
    fn the_document_is_chains_signed_document() {
        let a = artifact(r#"{"_type":"x","n":1}"#, None);
        let d = SignedDocument::of(&a).unwrap();
        assert_eq!(d.signed, a.payload);
        assert_eq!(d.signature, STANDARD.encode(&a.signature));
        assert_eq!(d.object, serde_json::json!({"_type": "x", "n": 1}));
        assert_eq!(d.name, "taskrun-1234");
        assert_eq!((d.cert.as_str(), d.chain.as_str()), ("", ""));
        let c = SignedDocument::of(&artifact(
            "{}",
            Some(CertificateChain {
                certificate_pem: "CERT".into(),
                chain_pem: "CHAIN".into(),
            }),
        ))
        .unwrap();
        assert_eq!((c.cert.as_str(), c.chain.as_str()), ("CERT", "CHAIN"));
        let err = SignedDocument::of(&artifact("not json", None)).unwrap_err();
        assert!(err.message.contains("payload is not JSON"), "{err}");
        assert_eq!(d.field_fold("name").unwrap().0, "Name");
        assert_eq!(d.field_fold("Object").unwrap().0, "Object");
        assert!(d.field_fold("id").is_none());
    }

    #[test]
    fn urls_parse_as_go_parses_them() {
        let u = DocstoreUrl::parse(
            "dynamodb://MyTable?partition_key=Name&region=eu-west-1&partition_key=x",
        )
        .unwrap();
        assert_eq!(u.scheme, "dynamodb");
        assert_eq!(u.host, "MyTable");
        assert_eq!(u.path, "");
        assert_eq!(u.get("partition_key"), Some("Name"));
        assert_eq!(u.unknown(&["partition_key"]), Some("region"));
        let f = DocstoreUrl::parse(
            "firestore://projects/p/databases/(default)/documents/chains%20docs?name_field=Name",
        )
        .unwrap();
        assert_eq!(f.host, "projects");
        assert_eq!(f.path, "/p/databases/(default)/documents/chains docs");
        assert!(DocstoreUrl::parse("no scheme").is_err());
    }

    #[test]
    fn missing_or_unsupported_urls_are_refused() {
        let env = |_: &str| None;
        let with = |url: &str| DocdbOptions {
            url: Some(url.into()),
            ..Default::default()
        };
        let msg = |o: &DocdbOptions| match DocdbBackend::with_env(o, &env) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted"),
        };
        assert!(msg(&DocdbOptions::default()).contains("storage.docdb.url is not set"));
        assert!(msg(&with("mongo://db/coll?id_field=Name")).contains("MONGO_SERVER_URL"));
        assert!(msg(&with("mem://coll/Name")).contains("unknown scheme \"mem\""));
        assert!(msg(&with("s3://b")).starts_with("docdb: "));
    }
}
