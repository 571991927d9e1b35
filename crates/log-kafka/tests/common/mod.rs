//! The conformance harness for the Kafka log: on librdkafka's mock cluster, or on the broker
//! named by `KAFKA_BOOTSTRAP`.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use beaconport_log::conformance::{record, Harness};
use beaconport_log::{Error, EventLog, Publisher, Receipt, Record, TopicOffset};
use beaconport_log_kafka::mock::Mock;
use beaconport_log_kafka::{KafkaLog, KafkaWriter, Options};
use bytes::Bytes;

/// Partitions of every test topic: more than one, so that interleaving is exercised.
pub const PARTITIONS: i32 = 3;

pub enum Cluster {
    Mock(Arc<Mock>),
    Broker(String),
}

impl Cluster {
    pub fn bootstrap(&self) -> String {
        match self {
            Cluster::Mock(m) => m.bootstrap().to_string(),
            Cluster::Broker(b) => b.clone(),
        }
    }
}

pub struct KafkaHarness {
    pub cluster: Cluster,
    pub dir: tempfile::TempDir,
    pub topic: String,
    pub replica: u32,
    pub log: Option<Arc<KafkaLog>>,
}

impl KafkaHarness {
    /// On a new mock cluster of three brokers.
    pub fn mock() -> Self {
        Self::on(Cluster::Mock(Arc::new(Mock::start(3).expect("mock cluster"))))
    }

    /// On the broker named by `KAFKA_BOOTSTRAP`.
    pub fn broker() -> Self {
        let b = std::env::var("KAFKA_BOOTSTRAP")
            .expect("KAFKA_BOOTSTRAP names the broker these tests run against (tests/kafka-broker.sh sets it)");
        Self::on(Cluster::Broker(b))
    }

    pub fn on(cluster: Cluster) -> Self {
        Self { cluster, dir: tempfile::tempdir().unwrap(), topic: String::new(), replica: 0, log: None }
    }

    pub fn options(&self) -> Options {
        let mut o = Options::new(
            self.cluster.bootstrap(),
            &self.topic,
            self.dir.path().join(format!("replica-{}", self.replica)),
        );
        o.partitions = PARTITIONS;
        o.replication = match self.cluster {
            Cluster::Mock(_) => 3,
            Cluster::Broker(_) => std::env::var("KAFKA_REPLICATION").ok().and_then(|r| r.parse().ok()).unwrap_or(1),
        };
        o.delivery_timeout = Duration::from_secs(20);
        o.metadata_refresh = Duration::from_millis(500);
        // The mock cluster holds every fetch to its limit.
        o.fetch_wait = Duration::from_millis(5);
        o.replica.cache_bytes = 16 << 20;
        o
    }

    pub async fn open(&mut self) -> Arc<KafkaLog> {
        let log = Arc::new(KafkaLog::open(self.options()).await.expect("kafka log opens"));
        self.log = Some(log.clone());
        log
    }

    pub async fn close(&mut self) {
        if let Some(log) = self.log.take() {
            log.close().await;
        }
    }

    /// A new topic (and replica directory).
    pub async fn new_topic(&mut self) {
        self.close().await;
        self.topic = format!("beaconport-test-{}", uuid::Uuid::new_v4().simple());
        self.replica += 1;
        if let Cluster::Mock(m) = &self.cluster {
            m.create_topic(&self.topic, PARTITIONS, 3).expect("mock topic");
        }
    }
}

#[async_trait]
impl Harness for KafkaHarness {
    async fn fresh(&mut self) -> Arc<dyn EventLog> {
        self.new_topic().await;
        self.open().await
    }

    async fn restart(&mut self) -> Arc<dyn EventLog> {
        self.close().await;
        self.open().await
    }
}

/// A stateless writer on the harness's topic.
/// The harness's mock cluster, for tests that inject faults (only on the mock).
pub fn mock(h: &KafkaHarness) -> Arc<Mock> {
    match &h.cluster {
        Cluster::Mock(m) => m.clone(),
        Cluster::Broker(_) => unreachable!("fault injection needs the mock cluster"),
    }
}

pub async fn writer(h: &KafkaHarness) -> Arc<KafkaWriter> {
    Arc::new(KafkaWriter::open(h.options()).await.expect("writer opens"))
}

/// Where each receipt says its event is.
pub fn places(receipts: &[Receipt]) -> Vec<TopicOffset> {
    receipts.iter().map(|r| r.topic.expect("a writer says where each event is")).collect()
}

/// Waits until the replica holds `n` events (it follows the topic).
pub async fn replica_holds(log: &dyn EventLog, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while log.head().0 < n {
        assert!(Instant::now() < deadline, "the replica holds {} of {n} events", log.head().0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the replica holds `n` events, then checks, half a second later, that it holds no
/// more (`why`: what the extra copies in the topic were).
pub async fn replica_holds_only(log: &dyn EventLog, n: u64, why: &str) {
    replica_holds(log, n).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(log.head().0, n, "{why}");
}

/// `n` events over seven cases.
pub fn batch(n: usize, tag: &str) -> Vec<Record> {
    (0..n).map(|i| record(&format!("GMP/{}", i % 7), &format!("{tag}-{i}"))).collect()
}

/// The stateless writer, end to end: what it writes a replica reads once; retries, also after
/// the writer restarts, are duplicates at the originals' places; a reused id is refused; a
/// lookup fetches the stored event. On the mock cluster (`tests/writer.rs`) and on a real broker
/// (`tests/broker_conformance.rs`).
pub async fn writer_round_trip(h: &mut KafkaHarness) {
    h.new_topic().await;
    let w = writer(h).await;
    assert_eq!(w.ready(), Ok(()), "an empty topic has no ids to read first");
    let records = batch(300, "first");
    let receipts = w.publish(records.clone()).await.unwrap();
    assert_eq!(receipts.len(), records.len());
    assert!(receipts.iter().all(|r| r.position.is_none() && !r.duplicate), "new events, no positions");
    let at = places(&receipts);
    assert_eq!(at.iter().collect::<BTreeSet<_>>().len(), at.len(), "each event has its own place");
    for (r, a) in records.iter().zip(&at) {
        // A case keeps its order: its events in one partition, in publication order.
        let same_case: Vec<_> = records.iter().zip(&at).filter(|(o, _)| o.key == r.key).map(|(_, a)| *a).collect();
        assert!(same_case.iter().all(|o| o.partition == a.partition), "one case, one partition");
        assert!(same_case.windows(2).all(|w| w[0].offset < w[1].offset), "in publication order");
    }

    // The same batch again, through the same writer: nothing produced, the originals' places.
    let again = w.publish(records.clone()).await.unwrap();
    assert!(again.iter().all(|r| r.duplicate));
    assert_eq!(places(&again), at);

    // A restarted writer (a new producer: Kafka's own idempotence no longer covers it) reads the
    // ids in the topic before it takes a publish, and answers the retry the same way.
    w.close().await;
    let w2 = writer(h).await;
    let retried = w2.publish(records.clone()).await.unwrap();
    assert!(retried.iter().all(|r| r.duplicate), "a retry after a restart of the writer is a duplicate");
    assert_eq!(places(&retried), at);
    assert_eq!(w2.known_ids(), records.len());

    // The same id with other content: refused, with the original's place, nothing produced.
    let mut reused = records[5].clone();
    reused.payload = Bytes::from_static(b"other content");
    let fresh = record("GMP/1", "new one");
    match w2.publish(vec![fresh.clone(), reused]).await {
        Err(Error::ConflictInTopic { id, at: original }) => {
            assert_eq!(id, records[5].id);
            assert_eq!(original, at[5]);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    // The topic holds each event once: no retry produced anything.
    assert_eq!(topic_records(h), records.len() as i64, "records in the topic");
    // A replica holds each event once, as published.
    let log = h.open().await;
    replica_holds(log.as_ref(), records.len() as u64).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(log.head().0, records.len() as u64, "no second copy, nothing of the refused batch");
    for r in &records {
        let e = log.get(r.id).await.unwrap().expect("copied");
        assert_eq!((e.key.as_str(), &e.payload), (r.key.as_str(), &r.payload));
    }
    assert!(log.get(fresh.id).await.unwrap().is_none(), "a refused batch is not produced");

    // Lookups fetch the stored event from the topic.
    let found = w2.stored(records[42].id).await.unwrap().expect("stored");
    assert_eq!(
        (found.key.as_str(), &found.payload, found.topic),
        (records[42].key.as_str(), &records[42].payload, Some(at[42]))
    );
    assert_eq!(found.position, None);
    assert!(w2.stored(fresh.id).await.unwrap().is_none());
    w2.close().await;
    h.close().await;
}

/// Records written to the harness's (fresh) topic.
pub fn topic_records(h: &KafkaHarness) -> i64 {
    tokio::task::block_in_place(|| beaconport_log_kafka::records_written(&h.options()).expect("counting the topic"))
}
