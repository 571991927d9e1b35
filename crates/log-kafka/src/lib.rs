//! The Kafka [`EventLog`] backend (rdkafka), for deployments that outgrow one machine.
//!
//! **The topic is the log.** Every event is one Kafka record: its key the stream key
//! (`FORCE/CASE`, so one case's events share a partition and keep their order), its value the
//! stored bytes, its timestamp the time the ledger appended it, and its id in the header
//! [`ID_HEADER`]. Replication, leader election and durability are Kafka's: nothing here copies
//! data between Beaconport processes.
//!
//! **Producer.** Idempotence on, `acks=all`, `murmur2_random` partitioning (the Java client's, so
//! other clients place a key where Beaconport does). [`append`](EventLog::append) returns only
//! after every record's delivery report came back successful; a failed or timed-out delivery
//! fails the call (part of the batch may then be in the topic: the retry completes it, and
//! nothing is stored twice, see below).
//!
//! Two ways to use the topic: [`KafkaLog`], the log itself for a process that reads it (the
//! query role, or both roles together), described here; and [`KafkaWriter`], the stateless
//! writer of a process of the ingest role alone, which keeps no copy (see its module).
//!
//! **Each [`KafkaLog`] keeps a replica.** A consumer assigned every partition of the topic
//! copies it into a local embedded log ([`SledLog::append_replicated`]), storing its offsets in
//! the same atomic sled transaction as the events it copied. On restart it resumes from those
//! offsets: nothing skipped, nothing applied twice. The replica gives the dense positions, reads,
//! lookups by id and the tamper-evident tree of the [`EventLog`] contract; it is a cache that can
//! be thrown away and rebuilt from the topic. Partitions added to the topic are found by a periodic
//! metadata refresh and copied from their beginning. A publisher's own delivered records are
//! stored in the replica as soon as every offset before them in their partition is (without
//! waiting for the consumer to fetch them back); the consumer then skips them.
//!
//! **Retries never duplicate.** An id is first looked up in the replica: already stored with the
//! same content, it is acknowledged as a duplicate with its stored position and not produced; with
//! other content, the batch fails with a conflict and nothing is produced. A second copy that
//! still reaches the topic (a retry sent before the first copy was replicated here, or through
//! another ingest process) is skipped by every replica: an id is stored once, first copy wins,
//! and a publisher whose copy lost to different content gets a conflict.
//!
//! **The topic keeps every record, or nothing serves from it.** The topic is created here with
//! unlimited retention, never by a metadata request (`allow.auto.create.topics=false`). A topic
//! found with settings under which Kafka deletes records breaks the process that opened it (see
//! [`KafkaLog`]'s `health` and the writer's `ready`), and a reader that needs records Kafka has
//! already deleted refuses to start, or stops when it falls behind the deletions: a replica that
//! skipped them would hold part of the ledger and say it holds all of it.
//!
//! **Positions are the replica's.** Records of one key keep their order in every replica, but
//! replicas may interleave partitions differently, so a position is meaningful on the process
//! that gave it; views are built to come out the same whatever the interleaving.
//!
//! Must not depend on other backends than the embedded one (its replica) nor on gRPC.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use beaconport_log::{content_hash, now_ms, Appended, Entry, Error, EventId, EventLog, Position, Record, Result, Tree};
use beaconport_log_sled::SledLog;
use parking_lot::Mutex;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

pub mod mock;
mod writer;

pub use writer::KafkaWriter;

/// The record header that carries the event id (16 bytes).
pub const ID_HEADER: &str = "beaconport-event-id";

/// The Kafka record of an event, as the log writes it: key the stream key, value the stored
/// bytes, the id in [`ID_HEADER`], timestamp the append time `at_ms`.
pub fn kafka_record<'a>(topic: &'a str, r: &'a Record, at_ms: i64) -> FutureRecord<'a, [u8], [u8]> {
    let headers = OwnedHeaders::new().insert(Header { key: ID_HEADER, value: Some(r.id.as_bytes().as_slice()) });
    FutureRecord::to(topic).key(r.key.as_bytes()).payload(r.payload.as_ref()).timestamp(at_ms).headers(headers)
}

/// The event id a record carries in [`ID_HEADER`], if any.
fn event_id_of<M: Message>(m: &M) -> Option<EventId> {
    m.headers()
        .and_then(|h| h.iter().find(|h| h.key == ID_HEADER).and_then(|h| h.value))
        .and_then(|v| <[u8; 16]>::try_from(v).ok())
        .map(EventId::from_bytes)
}

/// How the Kafka log is reached and kept.
#[derive(Debug, Clone)]
pub struct Options {
    /// The brokers, `host:port,host:port`.
    pub bootstrap: String,
    pub topic: String,
    /// Partitions of the topic when it is created here.
    pub partitions: i32,
    /// Replication factor of the topic when it is created here.
    pub replication: i32,
    /// Create the topic if it is missing.
    pub create_topic: bool,
    /// Settings passed to librdkafka for every client (producer, replica consumer, admin):
    /// `security.protocol`, `ssl.*`, `sasl.*` and any other librdkafka property.
    pub client: BTreeMap<String, String>,
    /// How long a record may take to be delivered (librdkafka's `message.timeout.ms`): past it,
    /// the publish fails.
    pub delivery_timeout: Duration,
    /// Largest accepted event, in bytes.
    pub max_record_bytes: usize,
    /// How often the replica looks for partitions added to the topic and measures its lag.
    pub metadata_refresh: Duration,
    /// Longest the writer's consumer lets a broker hold an empty fetch (`fetch.wait.max.ms`):
    /// a publish waits for its records to be read back, and a broker that holds a fetch to its
    /// limit even when records arrive (librdkafka's mock cluster) adds up to this to each.
    pub fetch_wait: Duration,
    /// How long the producer lets a partition's records gather before it sends them
    /// (librdkafka's `linger.ms`; [`DEFAULT_LINGER`] unless set).
    pub linger: Duration,
    /// The local replica (an embedded log in its own directory).
    pub replica: beaconport_log_sled::Options,
}

/// The producer's `linger.ms` unless configured. A publish hands the producer its whole batch
/// at once, so waiting longer gathers little more and delays every acknowledgement: 2 ms
/// ingested about a quarter more than librdkafka's default of 5 on this project's machines,
/// sooner.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(2);

impl Options {
    pub fn new(
        bootstrap: impl Into<String>,
        topic: impl Into<String>,
        replica_dir: impl Into<std::path::PathBuf>,
    ) -> Self {
        Self {
            bootstrap: bootstrap.into(),
            topic: topic.into(),
            partitions: 12,
            replication: 3,
            create_topic: true,
            client: BTreeMap::new(),
            delivery_timeout: Duration::from_secs(30),
            max_record_bytes: 1 << 20,
            metadata_refresh: Duration::from_secs(5),
            fetch_wait: Duration::from_millis(100),
            linger: DEFAULT_LINGER,
            replica: beaconport_log_sled::Options::new(replica_dir),
        }
    }

    /// The producer's settings: the client settings, idempotence, `acks=all`, the Java
    /// client's partitioner, the delivery timeout. Public so that a benchmark's raw producer
    /// sends exactly as the log does.
    pub fn producer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        c.set("enable.idempotence", "true")
            .set("acks", "all")
            .set("max.in.flight.requests.per.connection", "5")
            .set("partitioner", "murmur2_random")
            .set("linger.ms", self.linger.as_millis().to_string())
            .set("message.timeout.ms", self.delivery_timeout.as_millis().to_string())
            .set("message.max.bytes", (self.max_record_bytes + 4096).to_string());
        c
    }

    fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            // A metadata request must never create the topic with the broker's defaults (one
            // partition, a week's retention): the topic is created by `ensure_topic`, with the
            // ledger's settings, or not at all.
            .set("allow.auto.create.topics", "false");
        for (k, v) in &self.client {
            c.set(k, v);
        }
        c
    }

    /// The settings of a consumer that assigns partitions itself and keeps its own offsets (a
    /// replica's copier, a writer's follower or lookups): the group, `beaconport-{role}-<uuid>`,
    /// is never joined nor committed to, it only names the client; committed records only.
    fn reader_config(&self, role: &str) -> ClientConfig {
        let mut c = self.client_config();
        c.set("group.id", format!("beaconport-{role}-{}", uuid::Uuid::new_v4()))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed");
        c
    }
}

/// Per partition of `topic`, its high watermark: the records written to it so far (blocking).
fn high_watermarks(consumer: &BaseConsumer, topic: &str) -> Result<Vec<(i32, i64)>> {
    let timeout = Duration::from_secs(10);
    let md = consumer.fetch_metadata(Some(topic), timeout).map_err(|e| kafka("reading the topic's metadata", e))?;
    let n = md.topics().iter().find(|t| t.name() == topic).map_or(0, |t| t.partitions().len() as i32);
    (0..n)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, timeout)
                .map(|w| (p, w.1))
                .map_err(|e| kafka(&format!("reading the watermarks of partition {p}"), e))
        })
        .collect()
}

/// Records ever written to `options.topic`: the sum of its partitions' high watermarks, counted
/// from offset 0 (a fresh topic's records, whatever retention has dropped since). Blocking.
pub fn records_written(options: &Options) -> Result<i64> {
    let consumer: BaseConsumer =
        options.reader_config("count").create().map_err(|e| kafka("creating a consumer to count the topic", e))?;
    Ok(high_watermarks(&consumer, &options.topic)?.iter().map(|(_, high)| high).sum())
}

/// Records `options.topic` still holds: per partition, its high watermark less its low one (what
/// retention has not deleted). Equal to [`records_written`] on a topic that keeps every record.
/// Blocking.
pub fn records_held(options: &Options) -> Result<i64> {
    let consumer: BaseConsumer =
        options.reader_config("count").create().map_err(|e| kafka("creating a consumer to count the topic", e))?;
    let mut held = 0;
    for (p, high) in high_watermarks(&consumer, &options.topic)? {
        let (low, _) = consumer
            .fetch_watermarks(&options.topic, p, Duration::from_secs(10))
            .map_err(|e| kafka(&format!("reading the watermarks of partition {p}"), e))?;
        held += high - low;
    }
    Ok(held)
}

/// Delivers what `producer` still holds (waiting up to `timeout`), then stops a task and waits
/// for it: how both the log and the writer close.
async fn flush_and_stop(
    producer: &FutureProducer,
    timeout: Duration,
    stop: &watch::Sender<bool>,
    task: &Mutex<Option<JoinHandle<()>>>,
) {
    let producer = producer.clone();
    let flushed = tokio::task::spawn_blocking(move || producer.flush(timeout)).await;
    if let Ok(Err(e)) = flushed {
        warn!(error = %e, "flushing the kafka producer at close failed");
    }
    let _ = stop.send(true);
    let task = task.lock().take();
    if let Some(task) = task {
        let _ = task.await;
    }
}

/// Next offset to copy, per partition: the replica's position in the topic.
type Offsets = BTreeMap<i32, i64>;

/// The replica's stored position: version 1, then (partition i32 LE, next offset i64 LE) pairs.
fn encode_offsets(o: &Offsets) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + o.len() * 12);
    out.push(1);
    for (p, n) in o {
        out.extend_from_slice(&p.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
    }
    out
}

fn decode_offsets(b: &[u8]) -> Result<Offsets> {
    let bad =
        || Error::Corrupt { position: Position(0), reason: "the replica's stored topic offsets do not decode".into() };
    if b.first() != Some(&1) || !(b.len() - 1).is_multiple_of(12) {
        return Err(bad());
    }
    Ok(b[1..]
        .chunks_exact(12)
        .map(|c| (i32::from_le_bytes(c[..4].try_into().expect("4")), i64::from_le_bytes(c[4..].try_into().expect("8"))))
        .collect())
}

fn kafka(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("kafka: {context}: {e}"))
}

/// The Kafka log: a producer into the topic and a local replica of it.
pub struct KafkaLog {
    producer: FutureProducer,
    store: Arc<Store>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    options: Options,
    /// Records in the topic not yet in the replica, as last measured.
    lag: Arc<AtomicI64>,
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaLog")
            .field("bootstrap", &self.options.bootstrap)
            .field("topic", &self.options.topic)
            .finish()
    }
}

impl KafkaLog {
    /// Connects, creates the topic if it is missing (and allowed), opens the local replica and
    /// starts copying the topic into it.
    pub async fn open(options: Options) -> Result<Self> {
        ensure_topic(&options).await?;
        let producer: FutureProducer =
            options.producer_config().create().map_err(|e| kafka("creating the producer", e))?;
        let replica_options = options.replica.clone();
        let replica = Arc::new(
            tokio::task::spawn_blocking(move || SledLog::open(replica_options))
                .await
                .map_err(|e| Error::Storage(format!("opening the replica: {e}")))??,
        );
        let start = match replica.replicated_source()? {
            Some(b) => decode_offsets(&b)?,
            None => Offsets::new(),
        };
        let copier_consumer = Copier::consumer_for(&options)?;
        let partitions = partition_count(copier_consumer.client(), &options.topic, Duration::from_secs(10)).await?;
        if let Some(why) = tokio::task::block_in_place(|| {
            deleted_records(&copier_consumer, &options.topic, partitions, &start, "replica")
        })? {
            return Err(Error::Storage(why));
        }
        let store = Arc::new(Store {
            log: replica,
            broken: Arc::new(Broken::default()),
            copied: watch::channel(start.clone()).0,
            progress: tokio::sync::Mutex::new(Progress { offsets: start, delivered: BTreeMap::new() }),
        });
        let (stop, stopped) = watch::channel(false);
        let lag = Arc::new(AtomicI64::new(0));
        watch_retention(&options, store.broken.clone());
        let copier = Copier { options: options.clone(), store: store.clone(), lag: lag.clone() };
        let task = tokio::spawn(copier.run(copier_consumer, stopped));
        info!(bootstrap = %options.bootstrap, topic = %options.topic, replica = %options.replica.path.display(), "kafka log opened");
        Ok(Self { producer, store, stop, task: Mutex::new(Some(task)), options, lag })
    }

    /// Delivers what the producer still holds (waiting up to the delivery timeout), stops the
    /// replica's copier and closes the replica.
    pub async fn close(&self) {
        flush_and_stop(&self.producer, self.options.delivery_timeout, &self.stop, &self.task).await;
        let replica = self.store.log.clone();
        let _ = tokio::task::spawn_blocking(move || replica.close()).await;
    }

    /// Records the producer holds that Kafka has not acknowledged yet.
    pub fn producer_queue(&self) -> i64 {
        i64::from(self.producer.in_flight_count())
    }

    /// Records in the topic the local replica has not copied yet, as last measured.
    pub fn replica_lag(&self) -> i64 {
        self.lag.load(Ordering::Relaxed)
    }

    /// The local replica.
    pub fn replica(&self) -> &SledLog {
        &self.store.log
    }

    /// Produces the records and waits for every delivery report: (partition, offset) of each.
    async fn produce(&self, records: &[&Record], at_ms: i64) -> Result<Vec<(i32, i64)>> {
        produce(&self.producer, &self.options, records, at_ms, |_| {}).await
    }

    /// Waits until the replica has copied every (partition, offset) given.
    async fn wait_copied(&self, delivered: &[(i32, i64)]) -> Result<()> {
        let mut need: BTreeMap<i32, i64> = BTreeMap::new();
        for &(p, o) in delivered {
            let e = need.entry(p).or_insert(o);
            *e = (*e).max(o);
        }
        let mut rx = self.store.copied.subscribe();
        let copied = rx.wait_for(|copied| need.iter().all(|(p, o)| copied.get(p).is_some_and(|next| next > o)));
        let waited = tokio::time::timeout(self.options.delivery_timeout, self.store.broken.unless(copied)).await;
        match waited {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Storage(format!(
                "kafka: the events were delivered but the local replica did not copy them within {:?}; the call may be retried",
                self.options.delivery_timeout
            ))),
        }
    }
}

/// Produces the records and waits for every delivery report: (partition, offset) of each.
/// A failed or timed-out delivery fails the call (after every report is in, naming the first
/// record in the batch's order that failed).
///
/// `delivered` is told of each successful delivery as its report comes back, (index in
/// `records`, place), the reports that arrive together in one call: a writer notes its own
/// records as they land, so that a concurrent publish whose records follow them in a partition
/// need not wait for this whole batch (see `KafkaWriter::only_own_before`).
async fn produce(
    producer: &FutureProducer,
    options: &Options,
    records: &[&Record],
    at_ms: i64,
    mut delivered: impl FnMut(&[(usize, (i32, i64))]),
) -> Result<Vec<(i32, i64)>> {
    use futures::{FutureExt as _, StreamExt as _};
    let mut pending = futures::stream::FuturesUnordered::new();
    let deadline = tokio::time::Instant::now() + options.delivery_timeout;
    for (i, r) in records.iter().enumerate() {
        let mut record = kafka_record(&options.topic, r, at_ms);
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push(delivery.map(move |d| (i, d)));
                    break;
                }
                Err((
                    rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                    back,
                )) if tokio::time::Instant::now() < deadline => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(kafka(&format!("event {}: not produced", r.id), e)),
            }
        }
    }
    let mut out = vec![(0, 0); records.len()];
    let mut failed: Option<(usize, Error)> = None;
    let mut arrived = Vec::new();
    while let Some(first) = pending.next().await {
        let mut next = Some(first);
        while let Some((i, d)) = next {
            // Every report already in, before telling of them.
            next = pending.next().now_or_never().flatten();
            let problem = match d {
                Ok(Ok(delivery)) => {
                    out[i] = (delivery.partition, delivery.offset);
                    arrived.push((i, out[i]));
                    continue;
                }
                Ok(Err((e, _))) => kafka(
                    &format!(
                        "event {}: delivery failed (the call may be retried; a retry is never stored twice)",
                        records[i].id
                    ),
                    e,
                ),
                Err(_) => kafka(&format!("event {}", records[i].id), "the producer dropped the delivery report"),
            };
            if failed.as_ref().is_none_or(|(j, _)| i < *j) {
                failed = Some((i, problem));
            }
        }
        if !arrived.is_empty() {
            delivered(&arrived);
            arrived.clear();
        }
    }
    match failed {
        Some((_, e)) => Err(e),
        None => Ok(out),
    }
}

/// Creates the topic with the configured partitions and replication if it is missing (and
/// `create_topic` allows it).
pub async fn ensure_topic(options: &Options) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        options.client_config().create().map_err(|e| kafka("creating the admin client", e))?;
    let partitions = partition_count(admin.inner(), &options.topic, Duration::from_secs(10)).await?;
    if partitions > 0 {
        debug!(topic = %options.topic, partitions, "topic exists");
        return Ok(());
    }
    if !options.create_topic {
        return Err(Error::Storage(format!("kafka: topic {} does not exist and create_topic is off", options.topic)));
    }
    let mut topic = NewTopic::new(&options.topic, options.partitions, TopicReplication::Fixed(options.replication));
    for (name, value) in KEEP_FOREVER {
        topic = topic.set(name, value);
    }
    let results = admin
        .create_topics([&topic], &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))))
        .await
        .map_err(|e| kafka(&format!("creating topic {}", options.topic), e))?;
    for r in results {
        match r {
            Ok(_) => {
                info!(topic = %options.topic, partitions = options.partitions, replication = options.replication, "topic created")
            }
            Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, e)) => return Err(kafka(&format!("creating topic {t}"), e)),
        }
    }
    Ok(())
}

/// The topic settings under which Kafka never deletes a record of the ledger: set on the topics
/// created here, and required of those found.
const KEEP_FOREVER: [(&str, &str); 3] =
    [("cleanup.policy", "delete"), ("retention.ms", "-1"), ("retention.bytes", "-1")];

/// Why a reader stopped for good, once it has (records it needed were deleted from the topic,
/// or the topic's settings let Kafka delete them): operators see it in `/readyz` and the log.
struct Broken(watch::Sender<Option<String>>);

impl Default for Broken {
    fn default() -> Self {
        Broken(watch::channel(None).0)
    }
}

impl Broken {
    /// Breaks off for good; the first reason stands.
    fn set(&self, topic: &str, why: String) {
        tracing::error!(topic, "{why}");
        self.0.send_if_modified(|w| {
            if w.is_some() {
                return false;
            }
            *w = Some(why);
            true
        });
    }

    fn get(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    /// `wait` (on a watch), unless this breaks off first: a call waiting on a reader that stopped
    /// fails at once, with the reason, rather than when its own wait times out.
    async fn unless<T, E>(&self, wait: impl std::future::Future<Output = std::result::Result<T, E>>) -> Result<()> {
        tokio::select! {
            outcome = wait => outcome.map(|_| ()).map_err(|_| Error::Closed),
            why = self.broken() => Err(Error::Storage(why)),
        }
    }

    /// Waits until broken off, and says why.
    async fn broken(&self) -> String {
        let mut rx = self.0.subscribe();
        let why = rx.wait_for(Option::is_some).await.ok().and_then(|why| why.clone());
        match why {
            Some(why) => why,
            // The sender lives in `self`: never closed while borrowed here.
            None => std::future::pending().await,
        }
    }
}

/// Watches over the topic's settings in the background, at open and then every
/// [`RETENTION_CHECK`] for as long as the reader or writer lives (a setting altered later counts
/// too): a topic under which Kafka deletes the ledger's records (a finite retention, or
/// compaction, which keeps only the last record of a case) breaks the reader or writer that
/// found it. In the background because a broker that does not describe topic settings
/// (librdkafka's mock cluster) lets the request time out; such a broker gets a warning (once),
/// and the readers still refuse a topic from which records they need were deleted
/// ([`deleted_records`]).
fn watch_retention(options: &Options, broken: Arc<Broken>) {
    let options = options.clone();
    let broken = Arc::downgrade(&broken);
    drop(tokio::spawn(async move {
        let mut warned = false;
        loop {
            let outcome = retention_deletes(&options).await;
            // The reader or writer is gone: nothing left to watch over.
            let Some(broken) = broken.upgrade() else { return };
            match outcome {
                Ok(Some(why)) => {
                    broken.set(&options.topic, why);
                    return;
                }
                Ok(None) => {}
                Err(why) if !warned => {
                    warned = true;
                    warn!(topic = %options.topic, error = %why, "cannot read the topic's retention settings; they must keep every record (retention.ms=-1, retention.bytes=-1, cleanup.policy=delete); retried every minute")
                }
                Err(why) => debug!(topic = %options.topic, error = %why, "cannot read the topic's retention settings"),
            }
            drop(broken);
            tokio::time::sleep(RETENTION_CHECK).await;
        }
    }));
}

/// How often a reader or writer checks again that its topic keeps every record.
const RETENTION_CHECK: Duration = Duration::from_secs(60);

/// Which of the topic's settings lets Kafka delete the ledger's records, if any.
async fn retention_deletes(options: &Options) -> std::result::Result<Option<String>, String> {
    use rdkafka::admin::{OwnedResourceSpecifier, ResourceSpecifier};
    let admin: AdminClient<DefaultClientContext> = options.client_config().create().map_err(|e| e.to_string())?;
    let topic = options.topic.as_str();
    let described = admin
        .describe_configs(
            [&ResourceSpecifier::Topic(topic)],
            &AdminOptions::new().request_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .map_err(|e| e.to_string())?;
    let resource = match described.into_iter().next() {
        Some(Ok(r)) if r.specifier == OwnedResourceSpecifier::Topic(topic.to_string()) => r,
        Some(Ok(_)) | None => return Err("no description of the topic came back".into()),
        Some(Err(code)) => return Err(code.to_string()),
    };
    Ok(deleting_setting(topic, |name| resource.get(name).and_then(|e| e.value.as_deref())))
}

/// Of a topic's settings (`setting(name)`: its value, if described), the first under which
/// Kafka deletes records, as the reason to refuse the topic with the fix to make.
fn deleting_setting<'a>(topic: &str, setting: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    KEEP_FOREVER.into_iter().find_map(|(name, keep)| {
        let value = setting(name)?;
        let deletes = match name {
            "cleanup.policy" => value.split(',').any(|p| p.trim() == "compact"),
            _ => value.trim() != keep,
        };
        deletes.then(|| format!(
            "kafka: topic {topic} has {name}={value}, under which Kafka deletes the ledger's records; set {name}={keep} on the topic (kafka-configs --alter --entity-type topics --entity-name {topic} --add-config {name}={keep}) and restart"
        ))
    })
}

/// Why a reader that was told its position is gone (`auto.offset.reset=error`) must stop: the
/// deleted records found from its positions `from`, or else the consumer's own error. Blocks in
/// place (the caller runs on the runtime).
fn offset_gone<C: Consumer>(
    consumer: &C,
    topic: &str,
    partitions: i32,
    from: &Offsets,
    reader: &str,
    e: &rdkafka::error::KafkaError,
) -> String {
    tokio::task::block_in_place(|| deleted_records(consumer, topic, partitions, from, reader))
        .ok()
        .flatten()
        .unwrap_or_else(|| format!("kafka: the {reader}'s position is no longer in topic {topic}: {e}"))
}

/// Why a reader cannot read `topic` from `from` (the next offset it wants, per partition;
/// partitions not named from their beginning): records there were deleted, and a reader that
/// skipped them would hold part of the ledger while saying it holds all of it. `None` when every
/// record from there on is in the topic. Blocking.
fn deleted_records<C: Consumer>(
    consumer: &C,
    topic: &str,
    partitions: i32,
    from: &Offsets,
    reader: &str,
) -> Result<Option<String>> {
    for p in 0..partitions {
        let (low, _) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .map_err(|e| kafka(&format!("reading the watermarks of partition {p}"), e))?;
        let wanted = from.get(&p).copied().unwrap_or(0);
        if low > wanted {
            return Ok(Some(format!(
                "kafka: this {reader} needs partition {p} of topic {topic} from offset {wanted}, but the partition now starts at offset {low}: records were deleted from the topic, so the {reader} cannot hold the whole ledger. The topic must keep every record (retention.ms=-1, retention.bytes=-1, cleanup.policy=delete); restore the deleted records before serving from it"
            )));
        }
    }
    Ok(None)
}

/// Whether a consumer error says the position it was to read from is no longer in the topic
/// (with `auto.offset.reset=error`).
fn is_offset_gone(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::{AutoOffsetReset, OffsetOutOfRange};
    matches!(e.rdkafka_error_code(), Some(AutoOffsetReset | OffsetOutOfRange))
}

/// Partitions of `topic` (0 when it does not exist), from the brokers' metadata.
async fn partition_count<C: rdkafka::ClientContext + 'static>(
    client: &rdkafka::client::Client<C>,
    topic: &str,
    timeout: Duration,
) -> Result<i32> {
    let md = tokio::task::block_in_place(|| client.fetch_metadata(Some(topic), timeout))
        .map_err(|e| kafka(&format!("reading the metadata of topic {topic}"), e))?;
    Ok(md
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| t.partitions().len() as i32)
        .unwrap_or(0))
}

/// Resolves once `stop` is set (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The replica and how far it has stored the topic, shared by the copier and this process's
/// publishers.
struct Store {
    log: Arc<SledLog>,
    progress: tokio::sync::Mutex<Progress>,
    /// `Progress::offsets`, announced after each store.
    copied: watch::Sender<Offsets>,
    /// Why the replica stopped copying for good.
    broken: Arc<Broken>,
}

struct Progress {
    /// Next offset to store, per partition: what the replica has stored.
    offsets: Offsets,
    /// Records this process delivered that the replica has not stored yet, by partition and
    /// offset, with their append time. A publisher need not wait for the copier to fetch back
    /// what it has just written: its records are stored as soon as every offset before them in
    /// their partition is (which keeps each partition, so each case, in order).
    delivered: BTreeMap<i32, BTreeMap<i64, (Record, i64)>>,
}

/// One fetched record: partition, offset, and the event it holds (`None`: not an event).
type Fetched = (i32, i64, Option<(Record, i64)>);

impl Store {
    /// Stores fetched records, and delivered ones that have become next in their partition,
    /// with the offsets after them, in one atomic append to the replica. Offsets already stored
    /// are skipped. On failure nothing changes (the copier fetches again what is missing).
    async fn store(&self, fetched: Vec<Fetched>, delivered: Vec<(i32, i64, (Record, i64))>) -> Result<()> {
        let mut progress = self.progress.lock().await;
        let mut offsets = progress.offsets.clone();
        let mut records = Vec::with_capacity(fetched.len() + delivered.len());
        for (partition, offset, record) in fetched {
            let next = offsets.entry(partition).or_insert(0);
            if offset < *next {
                continue; // fetched again after a reassignment, or stored when delivered
            }
            *next = offset + 1;
            records.extend(record);
        }
        for (partition, offset, record) in delivered {
            if offset >= offsets.get(&partition).copied().unwrap_or(0) {
                progress.delivered.entry(partition).or_default().insert(offset, record);
            }
        }
        let mut taken = Vec::new();
        for (partition, waiting) in progress.delivered.iter_mut() {
            let next = offsets.entry(*partition).or_insert(0);
            while waiting.first_key_value().is_some_and(|(o, _)| *o < *next) {
                waiting.pop_first();
            }
            while let Some(entry) = waiting.first_entry() {
                if *entry.key() != *next {
                    break;
                }
                taken.push(entry.remove());
                *next += 1;
            }
        }
        progress.delivered.retain(|_, w| !w.is_empty());
        for (partition, waiting) in &progress.delivered {
            if let Some((first, _)) = waiting.first_key_value() {
                debug!(
                    partition,
                    first,
                    next = offsets.get(partition).copied().unwrap_or(0),
                    "delivered records wait for the copier"
                );
            }
        }
        if records.is_empty() && taken.is_empty() && offsets == progress.offsets {
            return Ok(());
        }
        records.extend(taken);
        self.log.append_replicated(records, encode_offsets(&offsets)).await?;
        progress.offsets = offsets;
        self.copied.send_replace(progress.offsets.clone());
        Ok(())
    }
}

/// Copies the topic into the replica.
struct Copier {
    options: Options,
    store: Arc<Store>,
    lag: Arc<AtomicI64>,
}

/// Most records copied per replica append.
const COPY_BATCH: usize = 8192;

impl Copier {
    fn consumer_for(options: &Options) -> Result<StreamConsumer> {
        options
            .reader_config("replica")
            .set("fetch.wait.max.ms", "100")
            // A stored offset no longer in the topic is an error, never a silent jump.
            .set("auto.offset.reset", "error")
            .create()
            .map_err(|e| kafka("creating the replica's consumer", e))
    }

    /// Stops copying for good: the replica cannot hold the whole ledger.
    fn break_off(&self, why: String) {
        self.store.broken.set(&self.options.topic, why);
    }

    /// Assigns every partition the topic has now, each from the replica's stored offset (new
    /// partitions from their beginning), once it has checked that the records from there on are
    /// still in the topic ([`deleted_records`]: otherwise the replica stops, broken).
    async fn assign(&mut self, consumer: &StreamConsumer) -> Result<i32> {
        let n = partition_count(consumer.client(), &self.options.topic, Duration::from_secs(10)).await?;
        let stored = self.store.progress.lock().await.offsets.clone();
        if let Some(why) =
            tokio::task::block_in_place(|| deleted_records(consumer, &self.options.topic, n, &stored, "replica"))?
        {
            self.break_off(why.clone());
            return Err(Error::Storage(why));
        }
        let mut tpl = TopicPartitionList::new();
        for p in 0..n {
            let offset = match stored.get(&p) {
                Some(&o) => Offset::Offset(o),
                None => Offset::Beginning,
            };
            tpl.add_partition_offset(&self.options.topic, p, offset).map_err(|e| kafka("assigning partitions", e))?;
        }
        consumer.assign(&tpl).map_err(|e| kafka("assigning partitions", e))?;
        debug!(topic = %self.options.topic, partitions = n, "replica assigned");
        Ok(n)
    }

    async fn run(mut self, consumer: StreamConsumer, mut stop: watch::Receiver<bool>) {
        let mut partitions = loop {
            if self.store.broken.get().is_some() {
                return;
            }
            match self.assign(&consumer).await {
                Ok(n) => break n,
                Err(e) => {
                    warn!(error = %e, "replica cannot assign the topic's partitions yet; retrying");
                    tokio::select! {
                        _ = stopped(&mut stop) => return,
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            }
        };
        let mut refresh = tokio::time::interval(self.options.metadata_refresh);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if self.store.broken.get().is_some() {
                // Broken (a re-assignment found records deleted, or the topic's settings would
                // delete them): a replica no longer trusted copies no more, as a writer stops.
                break;
            }
            let first = tokio::select! {
                _ = stopped(&mut stop) => break,
                _ = refresh.tick() => {
                    self.measure_lag(&consumer);
                    match partition_count(consumer.client(), &self.options.topic, Duration::from_secs(10)).await {
                        Ok(n) if n > partitions => {
                            info!(topic = %self.options.topic, from = partitions, to = n, "partitions added; copying the new ones from their beginning");
                            match self.assign(&consumer).await {
                                Ok(n) => partitions = n,
                                Err(e) => warn!(error = %e, "reassigning partitions failed; retried at the next refresh"),
                            }
                        }
                        Ok(_) => {}
                        Err(e) => warn!(error = %e, "reading the topic's metadata failed"),
                    }
                    continue;
                }
                m = consumer.recv() => m,
            };
            let mut batch: Vec<OwnedMessage> = Vec::new();
            // Records already stored (this process's own, stored when delivered) are dropped as
            // they come, before they are copied out of librdkafka's buffers.
            let stored = self.store.copied.borrow().clone();
            let fresh = |m: &rdkafka::message::BorrowedMessage<'_>| {
                m.offset() >= stored.get(&m.partition()).copied().unwrap_or(0)
            };
            // A position no longer in the topic: Kafka deleted records the replica had not copied
            // yet. librdkafka reports it once, then fetches that partition no more: the copier
            // stops, once what was fetched before it is stored.
            let mut gone = None;
            match first {
                Ok(m) if fresh(&m) => batch.push(m.detach()),
                Ok(_) => {}
                Err(e) if is_offset_gone(&e) => gone = Some(e),
                Err(e) => {
                    warn!(error = %e, "replica consumer error");
                    continue;
                }
            }
            // Take what else is already fetched, without waiting.
            let mut looked = 1;
            while gone.is_none() && batch.len() < COPY_BATCH && looked < 4 * COPY_BATCH {
                looked += 1;
                match futures::FutureExt::now_or_never(consumer.recv()) {
                    Some(Ok(m)) if fresh(&m) => batch.push(m.detach()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) if is_offset_gone(&e) => {
                        gone = Some(e);
                        break;
                    }
                    Some(Err(e)) => {
                        warn!(error = %e, "replica consumer error");
                        break;
                    }
                    None => break,
                }
            }
            if !batch.is_empty() {
                if let Err(e) = self.copy(batch).await {
                    // What was fetched is not stored: go back to the stored offsets and fetch again.
                    warn!(error = %e, "copying into the replica failed; fetching again from the stored offsets");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if let Err(e) = self.assign(&consumer).await {
                        warn!(error = %e, "reassigning partitions failed");
                    }
                }
            }
            if let Some(e) = gone {
                let stored = self.store.copied.borrow().clone();
                let why = offset_gone(&consumer, &self.options.topic, partitions, &stored, "replica", &e);
                self.break_off(why);
                break;
            }
        }
        debug!("replica copier stopped");
    }

    /// Stores one fetched batch in the replica with the offsets after it, atomically.
    async fn copy(&mut self, batch: Vec<OwnedMessage>) -> Result<()> {
        let mut fetched = Vec::with_capacity(batch.len());
        for m in batch {
            let id = event_id_of(&m);
            let (Some(id), Some(key), Some(payload)) =
                (id, m.key().and_then(|k| std::str::from_utf8(k).ok()), m.payload())
            else {
                warn!(
                    partition = m.partition(),
                    offset = m.offset(),
                    "a record without an event id, key or value is not an event; skipped"
                );
                fetched.push((m.partition(), m.offset(), None));
                continue;
            };
            let at = m.timestamp().to_millis().unwrap_or_else(now_ms);
            let record = Record { id, key: key.to_string(), payload: bytes::Bytes::copy_from_slice(payload) };
            fetched.push((m.partition(), m.offset(), Some((record, at))));
        }
        self.store.store(fetched, Vec::new()).await
    }

    /// Records in the topic not yet copied: high watermarks minus the replica's offsets.
    fn measure_lag(&self, consumer: &StreamConsumer) {
        let mut lag = 0i64;
        let offsets = self.store.copied.borrow().clone();
        for p in 0..offsets.len().max(1) as i32 {
            match tokio::task::block_in_place(|| {
                consumer.fetch_watermarks(&self.options.topic, p, Duration::from_secs(2))
            }) {
                Ok((low, high)) => lag += high - offsets.get(&p).copied().unwrap_or(low).max(low),
                Err(e) => {
                    debug!(error = %e, partition = p, "reading watermarks failed");
                    return;
                }
            }
        }
        self.lag.store(lag, Ordering::Relaxed);
    }
}

#[async_trait]
impl EventLog for KafkaLog {
    async fn append(&self, records: Vec<Record>) -> Result<Vec<Appended>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.health().map_err(Error::Storage)?;
        // Before anything is produced: sizes, and ids the replica already holds.
        let hashes: Vec<u64> = records.iter().map(|r| content_hash(&r.payload)).collect();
        let mut known: Vec<bool> = Vec::with_capacity(records.len());
        let mut seen = std::collections::HashSet::new();
        for (r, &h) in records.iter().zip(&hashes) {
            if r.payload.len() > self.options.max_record_bytes {
                return Err(Error::TooLarge { id: r.id, size: r.payload.len(), max: self.options.max_record_bytes });
            }
            match self.store.log.lookup(&r.id) {
                Some((_, stored)) if stored == h => known.push(true),
                Some((position, _)) => return Err(Error::Conflict { id: r.id, position }),
                None => known.push(!seen.insert(r.id)),
            }
        }
        let new: Vec<&Record> = records.iter().zip(&known).filter(|(_, k)| !**k).map(|(r, _)| r).collect();
        if !new.is_empty() {
            let at = now_ms();
            let delivered = self.produce(&new, at).await?;
            let ours = new.iter().zip(&delivered).map(|(r, &(p, o))| (p, o, ((*r).clone(), at))).collect();
            if let Err(e) = self.store.store(Vec::new(), ours).await {
                debug!(error = %e, "storing delivered records in the replica failed; the copier fetches them");
            }
            self.wait_copied(&delivered).await?;
        }
        let mut acks = Vec::with_capacity(records.len());
        for ((r, &h), &duplicate) in records.iter().zip(&hashes).zip(&known) {
            match self.store.log.lookup(&r.id) {
                Some((position, stored)) if stored == h => acks.push(Appended { position, duplicate }),
                Some((position, _)) => return Err(Error::Conflict { id: r.id, position }),
                None => {
                    return Err(Error::Storage(format!(
                        "kafka: event {} was delivered but is not in the replica",
                        r.id
                    )))
                }
            }
        }
        Ok(acks)
    }

    async fn read(&self, from: Position, max: usize) -> Result<Vec<Entry>> {
        self.store.log.read(from, max).await
    }

    async fn get(&self, id: EventId) -> Result<Option<Entry>> {
        self.store.log.get(id).await
    }

    fn head(&self) -> Position {
        self.store.log.head()
    }

    fn subscribe(&self) -> watch::Receiver<Position> {
        self.store.log.subscribe()
    }

    fn tree(&self) -> Option<&Tree> {
        self.store.log.tree()
    }

    fn gauges(&self) -> Vec<(&'static str, i64)> {
        vec![("kafka_producer_queue_records", self.producer_queue()), ("kafka_replica_lag_records", self.replica_lag())]
    }

    fn health(&self) -> std::result::Result<(), String> {
        self.store.broken.get().map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call waiting on a reader hears at once that it broke off, and why; the first reason
    /// stands.
    #[tokio::test]
    async fn a_wait_on_a_reader_ends_when_it_breaks_off() {
        let broken = Arc::new(Broken::default());
        assert_eq!(broken.get(), None);
        let waiting = tokio::spawn({
            let broken = broken.clone();
            async move { broken.broken().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "nothing broke yet");
        broken.set("t", "first".into());
        broken.set("t", "second".into());
        let why = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("woken").unwrap();
        assert_eq!(why, "first");
        assert_eq!(broken.get().as_deref(), Some("first"));
        assert_eq!(broken.broken().await, "first", "a wait begun after the break ends at once");
    }

    /// Only settings that keep every record pass; each other one is named with its fix.
    #[test]
    fn a_topic_is_refused_for_any_setting_under_which_kafka_deletes_records() {
        let of = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        };
        assert_eq!(deleting_setting("t", of(&[])), None, "nothing described: nothing to refuse");
        const KEEP: [(&str, &str); 3] =
            [("cleanup.policy", "delete"), ("retention.ms", "-1"), ("retention.bytes", "-1")];
        assert_eq!(deleting_setting("t", of(&KEEP)), None);
        for (settings, named) in [
            (&[("retention.ms", "604800000")][..], "retention.ms=604800000"),
            (&[("retention.bytes", "1073741824")], "retention.bytes=1073741824"),
            (&[("cleanup.policy", "compact")], "cleanup.policy=compact"),
            (&[("cleanup.policy", "delete, compact")], "cleanup.policy=delete, compact"),
            (&[("cleanup.policy", "delete"), ("retention.ms", "0")], "retention.ms=0"),
        ] {
            let why =
                deleting_setting("ledger", of(settings)).unwrap_or_else(|| panic!("{settings:?} was let through"));
            assert!(why.contains(named), "{why}");
            assert!(why.contains("topic ledger"), "{why}");
            let name = named.split('=').next().unwrap();
            assert!(why.contains(&format!("--add-config {name}=")), "names the fix: {why}");
        }
        assert_eq!(deleting_setting("t", of(&[("retention.ms", " -1 ")])), None, "spaces around a value");
    }

    #[test]
    fn offsets_round_trip() {
        let o: Offsets = [(0, 5), (2, 1 << 40), (7, 0)].into_iter().collect();
        assert_eq!(decode_offsets(&encode_offsets(&o)).unwrap(), o);
        assert!(decode_offsets(&[2]).is_err());
        assert!(decode_offsets(&[1, 0, 0]).is_err());
    }
}
