//! A topic that lost records: no reader pretends to hold the ledger. librdkafka's mock cluster
//! keeps at most 5 MiB per partition and deletes the oldest records beyond that, as a broker
//! does under a finite retention; here it stands in for a topic whose retention was set wrong.
//! A fresh replica or writer refuses such a topic at open, and so does a replica resuming from
//! an offset that is gone; each names the partition, the offsets and the settings to fix.

mod common;

use beaconport_log::{EventId, EventLog, Publisher, Record};
use beaconport_log_kafka::{KafkaLog, KafkaWriter};
use bytes::Bytes;

/// `n` records of 16 KiB over seven cases.
fn big(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            id: EventId(uuid::Uuid::new_v4()),
            key: format!("GMP/{}", i % 7),
            payload: Bytes::from(vec![b'x'; 16_384]),
        })
        .collect()
}

/// Publishes `n` 16 KiB records through a writer: more than the mock keeps per partition when
/// `n` is large, so that it deletes the oldest.
async fn publish_big(h: &common::KafkaHarness, n: usize) {
    let w = common::writer(h).await;
    for chunk in big(n).chunks(100) {
        w.publish(chunk.to_vec()).await.expect("publish");
    }
    w.close().await;
}

fn assert_refused(what: &str, err: beaconport_log::Error) {
    let msg = err.to_string();
    assert!(msg.contains("records were deleted from the topic"), "{what}: {msg}");
    assert!(msg.contains("retention.ms=-1"), "{what} names the setting to fix: {msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_readers_refuse_a_topic_that_lost_its_first_records() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    // 24 MiB over three partitions: the mock deletes the oldest of each.
    publish_big(&h, 1_500).await;
    let err = KafkaLog::open(h.options()).await.expect_err("a replica of part of the ledger");
    assert_refused("a fresh replica", err);
    let err = KafkaWriter::open(h.options()).await.expect_err("a writer that cannot know every id");
    assert_refused("a fresh writer", err);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_refuses_to_resume_past_deleted_records() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let log = h.open().await;
    log.append(big(100)).await.expect("append");
    assert_eq!(log.health(), Ok(()));
    drop(log);
    h.close().await;
    // While the replica is down, the topic grows past what the mock keeps.
    publish_big(&h, 1_500).await;
    let err = KafkaLog::open(h.options()).await.expect_err("the records after the replica's offsets are gone");
    assert_refused("a resuming replica", err);
}

/// A missing topic is created by the log, with the ledger's settings, or not at all: never by a
/// metadata request, which a broker that allows it answers by creating the topic with its own
/// defaults (one partition, a week's retention). The mock cluster creates topics that way, like
/// a broker with `auto.create.topics.enable`; the log's clients do not ask it to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metadata_request_of_the_log_never_creates_its_topic() {
    use rdkafka::consumer::Consumer;
    use rdkafka::producer::Producer;

    let mut h = common::KafkaHarness::mock();
    h.topic = format!("beaconport-test-{}", uuid::Uuid::new_v4().simple());
    let timeout = std::time::Duration::from_secs(10);
    let exists = |md: &rdkafka::metadata::Metadata| {
        md.topics().iter().any(|t| t.name() == h.topic && t.error().is_none() && !t.partitions().is_empty())
    };
    // The producer the log writes with (librdkafka's producers ask for creation by default).
    let producer: rdkafka::producer::FutureProducer = h.options().producer_config().create().unwrap();
    let md = producer.client().fetch_metadata(Some(&h.topic), timeout).unwrap();
    assert!(!exists(&md), "the log's producer asked the broker to create the topic");
    let other: rdkafka::consumer::BaseConsumer =
        rdkafka::ClientConfig::new().set("bootstrap.servers", h.cluster.bootstrap()).create().unwrap();
    assert!(!exists(&other.fetch_metadata(None, timeout).unwrap()), "the topic was created behind the log's back");
    // The control: a producer with librdkafka's defaults does create it on this cluster.
    let default: rdkafka::producer::FutureProducer =
        rdkafka::ClientConfig::new().set("bootstrap.servers", h.cluster.bootstrap()).create().unwrap();
    let _ = default.client().fetch_metadata(Some(&h.topic), timeout);
    assert!(exists(&other.fetch_metadata(None, timeout).unwrap()), "the control: a default producer creates it");
}
