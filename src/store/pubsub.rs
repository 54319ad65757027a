//! The `pubsub` backend (also named `kafka`): one Kafka message per signed
//! artifact, as Tekton Chains publishes it (`storage.pubsub.provider: kafka`,
//! `storage.pubsub.topic`, `storage.pubsub.kafka.bootstrap.servers`).
//!
//! Chains sends, through Go CDK's `kafkapubsub` (sarama), a message whose
//! value is what Chains calls the signature (the DSSE envelope JSON for an
//! attestation, the raw signature bytes for an image) and whose metadata become
//! Kafka record headers: `payload` (the signed payload, base64) and
//! `signature` (the same as the value). There is no key, so the partition is
//! the producer's choice: we pick one from the artifact's short key, which
//! spreads runs over the topic's partitions and keeps one run's re-sends
//! together. Records go uncompressed and need every in-sync replica's
//! acknowledgement (`acks=-1`): a message counts as stored only once the
//! broker answered with its offset.
//!
//! Chains' config validation accepts the storage name `kafka` while its
//! backend registers as `pubsub`, so neither reaches Kafka there; both names
//! reach this backend here.
//!
//! The `inmemory` provider of Chains publishes to an in-process topic that
//! nothing reads (it exists for Chains' own tests): a message sent there is
//! lost with the process, so it is refused here rather than claimed stored.
//!
//! The client is rskafka (pure Rust, plain TCP as Chains' minimal sarama
//! config). Its own reconnect backoff is bounded, and every call runs under
//! a deadline (30 s, or less as `--timeout` leaves) on a runtime owned by
//! the backend; a broker that refuses or
//! hangs fails the artifact with an error naming the backend and the brokers,
//! and retries follow [`with_retries_on`].

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rskafka::BackoffConfig;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;

use super::{Backend, SignedArtifact, StoreError, with_retries_on};
use crate::cloud::error_chain;
use crate::run::RunId;

const NAME: &str = "pubsub";
/// One produce call (connection, metadata and the acknowledged write).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Connecting to a bootstrap broker.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long rskafka keeps reconnecting or waiting for a topic's leader
/// before it reports the failure.
const BACKOFF_DEADLINE: Duration = Duration::from_secs(10);

/// `storage.pubsub.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PubSubOptions {
    /// `storage.pubsub.provider`: `kafka` or `inmemory`.
    pub provider: Option<String>,
    /// `storage.pubsub.topic`.
    pub topic: Option<String>,
    /// `storage.pubsub.kafka.bootstrap.servers`: `host:port`, comma-separated.
    pub bootstrap_servers: Option<String>,
}

/// Publishes signed artifacts to a Kafka topic.
pub struct PubSubBackend {
    topic: String,
    brokers: Vec<String>,
    /// The connection, made at the first store and kept.
    connection: Arc<tokio::sync::Mutex<Option<Connection>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for PubSubBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubBackend")
            .field("topic", &self.topic)
            .field("brokers", &self.brokers)
            .finish()
    }
}

impl PubSubBackend {
    /// A backend for the configured provider; makes no connection yet.
    pub fn new(opts: &PubSubOptions) -> Result<Self, StoreError> {
        match opts.provider.as_deref() {
            Some("kafka") => {}
            Some("inmemory") => {
                return Err(StoreError::new(
                    NAME,
                    "storage.pubsub.provider \"inmemory\" publishes to a topic inside the process that nothing reads (Chains has it for its own tests): nothing would be stored; use provider \"kafka\"",
                ));
            }
            Some(other) => {
                return Err(StoreError::new(
                    NAME,
                    format!("invalid storage.pubsub.provider {other:?}: use \"kafka\""),
                ));
            }
            None => {
                return Err(StoreError::new(
                    NAME,
                    "storage.pubsub.provider is not set: set it to \"kafka\" (with storage.pubsub.topic and storage.pubsub.kafka.bootstrap.servers)",
                ));
            }
        }
        let topic = opts
            .topic
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| StoreError::new(NAME, "storage.pubsub.topic is not set"))?;
        let brokers: Vec<String> = opts
            .bootstrap_servers
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if brokers.is_empty() {
            return Err(StoreError::new(
                NAME,
                "storage.pubsub.kafka.bootstrap.servers is not set (host:port of a Kafka broker)",
            ));
        }
        if let Some(bad) = brokers.iter().find(|b| !has_port(b)) {
            return Err(StoreError::new(
                NAME,
                format!("storage.pubsub.kafka.bootstrap.servers: {bad:?} is not host:port"),
            ));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("chains-kafka")
            .enable_all()
            .build()
            .map_err(|e| StoreError::new(NAME, format!("cannot start the Kafka client: {e}")))?;
        Ok(PubSubBackend {
            topic,
            brokers,
            connection: Arc::new(tokio::sync::Mutex::new(None)),
            runtime: Some(runtime),
        })
    }

    /// Run `fut` on the backend's runtime under the call deadline (and the
    /// overall `--timeout`), from any thread.
    fn block<T: Send + 'static>(
        &self,
        what: String,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(runtime) = self.runtime.as_ref() else {
            return Err(StoreError::new(NAME, "the Kafka client is shut down"));
        };
        // The deadline in force is this thread's (watch's per-run one
        // included): read it here, not on the runtime's thread.
        let limit = crate::deadline::cap(CALL_TIMEOUT);
        let ended_by = crate::deadline::ended_by(CALL_TIMEOUT);
        let (tx, rx) = mpsc::sync_channel(1);
        runtime.spawn(async move {
            let result = match tokio::time::timeout(limit, fut).await {
                Ok(r) => r,
                Err(_) => Err(StoreError::transient(
                    NAME,
                    format!("{what}: no answer within {ended_by}"),
                )),
            };
            let _ = tx.send(result);
        });
        rx.recv()
            .map_err(|_| StoreError::new(NAME, "the Kafka client task failed unexpectedly"))?
    }

    fn publish(&self, artifact: &SignedArtifact) -> Result<i64, StoreError> {
        let record = message(artifact);
        let seed = artifact.short_key.clone();
        let topic = self.topic.clone();
        let brokers = self.brokers.clone();
        let slot = self.connection.clone();
        let place = format!(
            "cannot publish to topic {} on {}",
            self.topic,
            self.brokers.join(",")
        );
        let what = place.clone();
        self.block(what, async move {
            let fail = |m: String| StoreError::new(NAME, format!("{place}: {m}"));
            let writer = {
                let mut guard = slot.lock().await;
                // Taken out while in use: a failure leaves no connection,
                // so the next call connects afresh.
                let mut conn = match guard.take() {
                    Some(c) => c,
                    None => Connection::open(brokers, &topic).await.map_err(fail)?,
                };
                let writer = conn.writer(&topic, &seed).await.map_err(fail)?;
                *guard = Some(conn);
                writer
            };
            match writer
                .produce(vec![record], Compression::NoCompression)
                .await
            {
                Ok(offsets) => offsets
                    .first()
                    .copied()
                    .ok_or_else(|| fail("the broker acknowledged no offset".into())),
                Err(e) => {
                    // Reconnect next time: brokers and leaders may have moved.
                    *slot.lock().await = None;
                    Err(fail(error_chain(&e)))
                }
            }
        })
    }
}

/// A connected client, the topic's partitions and a writer per partition
/// used so far (each made with a metadata request, so kept).
struct Connection {
    client: Client,
    partitions: Vec<i32>,
    writers: HashMap<i32, Arc<PartitionClient>>,
}

impl Connection {
    async fn open(brokers: Vec<String>, topic: &str) -> Result<Connection, String> {
        reachable(&brokers).await?;
        let client = ClientBuilder::new(brokers)
            .client_id(concat!("chains/", env!("CARGO_PKG_VERSION")))
            .backoff_config(backoff())
            .build()
            .await
            .map_err(|e| error_chain(&e))?;
        // The first writer asks for the topic's metadata, which lets a
        // broker that creates topics on demand create it.
        let first = client
            .partition_client(topic.to_string(), 0, UnknownTopicHandling::Retry)
            .await
            .map_err(|e| error_chain(&e))?;
        let partitions: Vec<i32> = client
            .list_topics()
            .await
            .map_err(|e| error_chain(&e))?
            .into_iter()
            .find(|t| t.name == topic)
            .map(|t| t.partitions.into_iter().collect())
            .unwrap_or_default();
        Ok(Connection {
            client,
            partitions,
            writers: HashMap::from([(0, Arc::new(first))]),
        })
    }

    /// The writer of the partition `seed` picks.
    async fn writer(&mut self, topic: &str, seed: &str) -> Result<Arc<PartitionClient>, String> {
        let pick = pick_partition(seed, &self.partitions);
        if let Some(w) = self.writers.get(&pick) {
            return Ok(w.clone());
        }
        let w = Arc::new(
            self.client
                .partition_client(topic.to_string(), pick, UnknownTopicHandling::Retry)
                .await
                .map_err(|e| error_chain(&e))?,
        );
        self.writers.insert(pick, w.clone());
        Ok(w)
    }
}

/// Whether any bootstrap broker accepts a connection. rskafka keeps
/// reconnecting to a refused broker until its backoff deadline and then
/// reports it; nobody listening will not change in a second, so it is said
/// at once (not retried), naming each broker.
async fn reachable(brokers: &[String]) -> Result<(), String> {
    let mut why = Vec::new();
    for b in brokers {
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(b.as_str()))
            .await
        {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => why.push(format!("{b}: {e}")),
            Err(_) => why.push(format!(
                "{b}: no connection within {}s",
                CONNECT_TIMEOUT.as_secs()
            )),
        }
    }
    Err(format!("cannot reach a Kafka broker: {}", why.join("; ")))
}

/// rskafka's reconnect backoff, bounded (its default retries forever).
fn backoff() -> BackoffConfig {
    BackoffConfig {
        init_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
        base: 2.0,
        deadline: Some(BACKOFF_DEADLINE),
    }
}

fn has_port(broker: &str) -> bool {
    broker
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
}

/// The message Chains sends for an artifact: the signature as value,
/// `payload` (base64) and `signature` as headers, no key.
pub fn message(artifact: &SignedArtifact) -> Record {
    let headers = BTreeMap::from([
        (
            "payload".to_string(),
            STANDARD.encode(&artifact.payload).into_bytes(),
        ),
        ("signature".to_string(), artifact.signature.clone()),
    ]);
    Record {
        key: None,
        value: Some(artifact.signature.clone()),
        headers,
        timestamp: rskafka::chrono::Utc::now(),
    }
}

/// A partition for `seed` among `partitions` (FNV-1a, stable across runs);
/// partition 0 when the topic's partitions are unknown.
fn pick_partition(seed: &str, partitions: &[i32]) -> i32 {
    if partitions.is_empty() {
        return 0;
    }
    let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let index = usize::try_from(hash % partitions.len() as u64).unwrap_or(0);
    partitions.get(index).copied().unwrap_or(0)
}

impl Drop for PubSubBackend {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Backend for PubSubBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn store(
        &self,
        _run: &RunId,
        artifact: &SignedArtifact,
    ) -> Result<Vec<(String, String)>, StoreError> {
        with_retries_on(NAME, || self.publish(artifact))?;
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(provider: &str, topic: &str, servers: &str) -> PubSubOptions {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        PubSubOptions {
            provider: some(provider),
            topic: some(topic),
            bootstrap_servers: some(servers),
        }
    }

    #[test]
    fn settings_are_checked_before_any_connection() {
        let err = |o: PubSubOptions| PubSubBackend::new(&o).unwrap_err().message;
        assert!(err(opts("inmemory", "t", "")).contains("nothing would be stored"));
        assert!(err(opts("", "t", "h:1")).contains("storage.pubsub.provider is not set"));
        assert!(err(opts("kafka", "", "h:1")).contains("storage.pubsub.topic"));
        assert!(err(opts("kafka", "t", "")).contains("bootstrap.servers is not set"));
        assert!(err(opts("kafka", "t", "localhost")).contains("not host:port"));
        assert!(PubSubBackend::new(&opts("kafka", "t", "a:9092, b:9093")).is_ok());
    }

    #[test]
    fn partitions_are_picked_stably_among_those_listed() {
        assert_eq!(pick_partition("taskrun-x", &[]), 0);
        let p = pick_partition("taskrun-x", &[0, 1, 2]);
        assert!((0..3).contains(&p));
        assert_eq!(p, pick_partition("taskrun-x", &[0, 1, 2]));
    }
}
