//! `dynamodb://TABLE?partition_key=FIELD[&sort_key=FIELD]`: Chains' document
//! as one DynamoDB item, written with `PutItem` (no condition: an item with
//! the same key is replaced, as the Go CDK's `Put` does).
//!
//! Values are encoded as the Go CDK's DynamoDB driver encodes them: `Signed`
//! as binary (`B`), strings as `S` except the empty string, which is `NULL`
//! (so `Cert` and `Chain` are `NULL` when a key signed), JSON numbers (Go
//! `float64`s) as `N` in Go's shortest decimal form without exponent, JSON
//! `null` as `NULL`, objects as `M` and arrays as `L`. As there, the key
//! fields are the item's own attributes: `partition_key` (and `sort_key`)
//! must name a field exactly, and one with a value (`Name`, for Chains'
//! documents): otherwise the put fails with "missing key field", before any
//! request.
//!
//! Credentials, region and endpoint come from the standard AWS chain, as for
//! the `awskms://` signer (environment, profiles, web identity, container
//! and instance roles; `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_DYNAMODB`). The URL's `region`, `endpoint` and `profile`
//! parameters (the Go CDK's) override them; `allow_scans`,
//! `consistent_read`, `revision_field` and `awssdk` are accepted and change
//! nothing for a put; the Go CDK's other AWS parameters (`fips`,
//! `dualstack`, `role`, ...) are refused as not supported rather than ignored.
//!
//! The SDK's own retries are off: the pipeline's retries
//! ([`crate::store::with_retries_on`]) apply, within the overall `--timeout`.
//! Throttling, 5xx, timeouts and dropped connections are transient; a
//! missing table, a validation error, rejected credentials and nobody
//! listening are not.

use std::collections::HashMap;
use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use super::{Collection, DocstoreUrl, FieldValue, NAME, SignedDocument, field_names};
use crate::store::StoreError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One `PutItem`, connection to last byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The Go CDK's parameters that change nothing for a put.
const INERT: &[&str] = &["allow_scans", "consistent_read", "revision_field", "awssdk"];
/// The Go CDK's AWS parameters chains does not implement.
const UNSUPPORTED: &[&str] = &[
    "hostname_immutable",
    "dualstack",
    "fips",
    "rate_limiter_capacity",
    "anonymous",
    "role",
    "request_checksum_calculation",
    "response_checksum_validation",
];

/// A DynamoDB table and the client that writes it.
pub struct DynamoCollection {
    client: aws_sdk_dynamodb::Client,
    runtime: Option<tokio::runtime::Runtime>,
    table: String,
    partition_key: String,
    sort_key: Option<String>,
    /// Where requests go, for messages.
    target: String,
}

impl DynamoCollection {
    /// Parse the URL and set up the client (reads credentials' sources, makes
    /// no request).
    pub fn open(url: &DocstoreUrl) -> Result<DynamoCollection, StoreError> {
        let fail = |m: String| StoreError::new(NAME, format!("dynamodb://{}: {m}", url.host));
        let partition_key = url
            .get("partition_key")
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                fail("partition_key is required (Chains' documents are keyed by Name: ?partition_key=Name)".into())
            })?
            .to_string();
        if url.host.is_empty() {
            return Err(fail("the URL's host (the table name) is empty".into()));
        }
        if !url.path.is_empty() {
            return Err(fail(format!(
                "the URL has a path ({:?}); only the table name, as its host, is allowed",
                url.path
            )));
        }
        let known: Vec<&str> = ["partition_key", "sort_key", "region", "endpoint", "profile"]
            .into_iter()
            .chain(INERT.iter().copied())
            .collect();
        if let Some(p) = url.unknown(&known) {
            return Err(fail(if UNSUPPORTED.contains(&p) {
                format!("the query parameter {p:?} is not supported by chains")
            } else {
                format!("unknown query parameter {p:?}")
            }));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("chains-dynamodb")
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the AWS client runtime: {e}")))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts(REQUEST_TIMEOUT))
            .retry_config(RetryConfig::disabled());
        if let Some(region) = url.get("region").filter(|r| !r.is_empty()) {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        if let Some(profile) = url.get("profile").filter(|p| !p.is_empty()) {
            loader = loader.profile_name(profile);
        }
        let sdk = run(&runtime, loader.load()).map_err(&fail)?;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err(fail(
                "no AWS region: set AWS_REGION (or a profile's region), or add &region=... to the URL"
                    .into(),
            ));
        };
        let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk);
        let endpoint = url.get("endpoint").filter(|e| !e.is_empty());
        if let Some(e) = endpoint {
            config = config.endpoint_url(e);
        }
        let target = match endpoint.or(sdk.endpoint_url()) {
            Some(e) => format!("table {} at {e} (region {region})", url.host),
            None => format!("table {} in DynamoDB ({region})", url.host),
        };
        Ok(DynamoCollection {
            client: aws_sdk_dynamodb::Client::from_conf(config.build()),
            runtime: Some(runtime),
            table: url.host.clone(),
            partition_key,
            sort_key: url
                .get("sort_key")
                .filter(|k| !k.is_empty())
                .map(str::to_string),
            target,
        })
    }

    /// A failed `PutItem`, explained, transient or not.
    fn explain(&self, what: &str, err: &SdkError<PutItemError, HttpResponse>) -> StoreError {
        let target = &self.target;
        let cause = crate::cloud::error_chain(err);
        let (transient, message) = match err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                let code = e.code().unwrap_or("error");
                let hint = match code {
                    "ResourceNotFoundException" => " (no such table)",
                    "AccessDeniedException" => " (the credentials may not PutItem on this table)",
                    "UnrecognizedClientException"
                    | "InvalidSignatureException"
                    | "ExpiredTokenException"
                    | "MissingAuthenticationTokenException" => {
                        " (the AWS credentials were rejected)"
                    }
                    _ => "",
                };
                let status = se.raw().status().as_u16();
                let transient = matches!(
                    code,
                    "ProvisionedThroughputExceededException"
                        | "ThrottlingException"
                        | "RequestLimitExceeded"
                        | "InternalServerError"
                        | "ServiceUnavailable"
                ) || crate::store::is_transient_status(status);
                let message = match (e.code(), e.message()) {
                    (Some(_), Some(m)) => {
                        format!("{what}: {target}: HTTP {status} {code}{hint}: {m}")
                    }
                    (Some(_), None) => format!("{what}: {target}: HTTP {status} {code}{hint}"),
                    (None, _) => {
                        format!("{what}: {target} answered HTTP {status} without an AWS error code")
                    }
                };
                (transient, message)
            }
            SdkError::DispatchFailure(df) if df.is_timeout() => (
                true,
                format!(
                    "{what}: {target} did not answer within {}",
                    crate::deadline::ended_by(REQUEST_TIMEOUT)
                ),
            ),
            SdkError::DispatchFailure(df) if df.is_io() => (
                !refused(err),
                format!("{what}: cannot reach {target}: {cause}"),
            ),
            // An answer cut short: the next try may get a whole one.
            SdkError::ResponseError(_) => (
                true,
                format!("{what}: {target}: the answer could not be read: {cause}"),
            ),
            SdkError::TimeoutError(_) => (
                true,
                format!(
                    "{what}: {target} did not answer within {}",
                    crate::deadline::ended_by(REQUEST_TIMEOUT)
                ),
            ),
            _ if cause.contains("credentials") => (
                false,
                format!(
                    "{what}: no usable AWS credentials (environment, profile, web identity, container or instance role): {cause}"
                ),
            ),
            _ => (false, format!("{what} ({target}): {cause}")),
        };
        if transient {
            StoreError::transient(NAME, message)
        } else {
            StoreError::new(NAME, message)
        }
    }
}

impl Collection for DynamoCollection {
    fn put(&self, doc: &SignedDocument) -> Result<(), StoreError> {
        let what = format!("cannot put {} in table {}", doc.name, self.table);
        let item = item(doc);
        for (key, role) in [
            (Some(&self.partition_key), "partition_key"),
            (self.sort_key.as_ref(), "sort_key"),
        ] {
            let Some(key) = key else { continue };
            if matches!(item.get(key), None | Some(AttributeValue::Null(_))) {
                return Err(StoreError::new(
                    NAME,
                    format!(
                        "{what}: missing key field {key:?} ({role}): the document's fields are {} (Chains' documents are keyed by Name)",
                        field_names()
                    ),
                ));
            }
        }
        let mut timeout = REQUEST_TIMEOUT;
        if let Some(left) = crate::deadline::remaining() {
            timeout = timeout.min(left);
        }
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .customize()
            .config_override(
                aws_sdk_dynamodb::config::Builder::default().timeout_config(timeouts(timeout)),
            );
        let rt = self.runtime.as_ref().ok_or_else(|| {
            StoreError::new(NAME, format!("{what}: the AWS client runtime is gone"))
        })?;
        match run(rt, request.send()).map_err(|m| StoreError::new(NAME, format!("{what}: {m}")))? {
            Ok(_) => Ok(()),
            Err(e) => Err(self.explain(&what, &e)),
        }
    }
}

impl Drop for DynamoCollection {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn timeouts(request: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(request))
        .operation_attempt_timeout(request)
        .operation_timeout(request)
        .build()
}

/// Whether a dispatch failure is a refused connection (nobody listening:
/// retrying in a second will not help).
fn refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Drive `fut` on `rt` and wait for its result from this (blocking) thread,
/// which may be inside another runtime.
fn run<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| "the AWS client task failed unexpectedly".to_string())
}

/// The item the Go CDK's driver writes for `doc`.
pub fn item(doc: &SignedDocument) -> HashMap<String, AttributeValue> {
    doc.fields()
        .into_iter()
        .map(|(name, value)| {
            let av = match value {
                FieldValue::Bytes(b) => AttributeValue::B(Blob::new(b)),
                FieldValue::String(s) => string(s),
                FieldValue::Json(v) => attribute(v),
            };
            (name.to_string(), av)
        })
        .collect()
}

/// The empty string is NULL, as the Go CDK stores it.
fn string(s: &str) -> AttributeValue {
    if s.is_empty() {
        AttributeValue::Null(true)
    } else {
        AttributeValue::S(s.to_string())
    }
}

fn attribute(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(go_float(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => string(s),
        Value::Array(a) => AttributeValue::L(a.iter().map(attribute).collect()),
        Value::Object(o) => {
            AttributeValue::M(o.iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
        }
    }
}

/// Go's `strconv.FormatFloat(x, 'f', -1, 64)`: the shortest decimal that
/// reads back as `x`, never in exponent form (Rust's `Display` for `f64`).
pub fn go_float(x: f64) -> String {
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_are_encoded_as_the_go_cdk_encodes_them() {
        let doc = SignedDocument {
            signed: b"{}".to_vec(),
            signature: "c2ln".into(),
            cert: String::new(),
            chain: String::new(),
            object: json!({"a": [1, 2.5, 1e21, -0.0000001], "e": "", "n": null, "t": true, "m": {}}),
            name: "taskrun-1".into(),
        };
        let item = item(&doc);
        assert_eq!(item["Signed"], AttributeValue::B(Blob::new(b"{}")));
        assert_eq!(item["Signature"], AttributeValue::S("c2ln".into()));
        assert_eq!(item["Cert"], AttributeValue::Null(true));
        assert_eq!(item["Chain"], AttributeValue::Null(true));
        assert_eq!(item["Name"], AttributeValue::S("taskrun-1".into()));
        let AttributeValue::M(object) = &item["Object"] else {
            panic!("Object is not a map: {:?}", item["Object"]);
        };
        assert_eq!(
            object["a"],
            AttributeValue::L(vec![
                AttributeValue::N("1".into()),
                AttributeValue::N("2.5".into()),
                AttributeValue::N("1000000000000000000000".into()),
                AttributeValue::N("-0.0000001".into()),
            ])
        );
        assert_eq!(object["e"], AttributeValue::Null(true));
        assert_eq!(object["n"], AttributeValue::Null(true));
        assert_eq!(object["t"], AttributeValue::Bool(true));
        assert_eq!(object["m"], AttributeValue::M(HashMap::new()));
    }

    #[test]
    fn urls_are_checked_as_the_go_cdk_checks_them() {
        let open = |u: &str| match DynamoCollection::open(&DocstoreUrl::parse(u).unwrap()) {
            Err(e) => e.to_string(),
            Ok(_) => "ok".into(),
        };
        assert!(open("dynamodb://t").contains("partition_key is required"));
        assert!(open("dynamodb://t/x?partition_key=Name").contains("has a path"));
        assert!(open("dynamodb://t?partition_key=Name&fips=true").contains("not supported"));
        assert!(
            open("dynamodb://t?partition_key=Name&colour=red")
                .contains("unknown query parameter \"colour\"")
        );
    }
}
