//! A topic that lost records: no reader pretends to hold the ledger. librdkafka's mock cluster
//! keeps at most 5 MiB per partition and deletes the oldest records beyond that, as a broker
//! does under a finite retention; here it stands in for a topic whose retention was set wrong.
//! A fresh replica or writer refuses such a topic at open, and so does a replica resuming from
//! an offset that is gone; a running replica or writer that falls behind the deletions breaks
//! off. Each names the partition, the offsets and the settings to fix.

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
    assert_names_deleted_records(what, &err.to_string());
}

/// The reason a reader gives names the deleted records and the setting to fix.
fn assert_names_deleted_records(what: &str, msg: &str) {
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

/// Fills the topic past what the mock keeps while every fetch is refused (an injected error),
/// then lets fetches through again: a reader that had not copied the oldest records of each
/// partition finds them deleted. `still` is checked while fetches are refused.
async fn fill_while_fetches_are_refused(h: &common::KafkaHarness, still: impl Fn()) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

    let mock = common::mock(h);
    mock.request_errors(RDKafkaApiKey::Fetch, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION; 2_000])
        .unwrap();
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", mock.bootstrap())
        .set("allow.auto.create.topics", "false")
        .create()
        .unwrap();
    // 24 MiB over three partitions: the mock deletes the oldest of each.
    let records = big(1_500);
    let sends: Vec<_> = records
        .iter()
        .map(|r| {
            producer.send(
                FutureRecord::to(&h.topic).key(r.key.as_bytes()).payload(r.payload.as_ref()),
                std::time::Duration::from_secs(30),
            )
        })
        .collect();
    for s in futures::future::join_all(sends).await {
        s.expect("delivered");
    }
    still();
    mock.clear_request_errors(RDKafkaApiKey::Fetch).unwrap();
}

/// Waits until `check` reports a problem (at most a minute), and returns it.
async fn broken(what: &str, check: impl Fn() -> Result<(), String>) -> String {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Err(why) = check() {
            return why;
        }
        assert!(std::time::Instant::now() < until, "the {what} never noticed the deleted records");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A replica that falls behind the deletions while it runs (the records it has yet to copy are
/// deleted before it fetches them) breaks off: its health names the deleted records, and it
/// takes no publish as if it held the whole ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_replica_that_falls_behind_the_deletions_breaks_off() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let log = h.open().await;
    log.append(big(30)).await.expect("append");
    assert_eq!(log.health(), Ok(()));
    let copied = log.head();
    fill_while_fetches_are_refused(&h, || {
        assert_eq!(log.head(), copied, "the replica copied nothing while its fetches were refused");
    })
    .await;
    assert_names_deleted_records("a running replica", &broken("replica", || log.health()).await);
    assert!(log.head().0 < copied.0 + 1_500, "the replica holds {} records", log.head().0);
    let err = log.append(big(1)).await.expect_err("a broken replica takes no publish");
    assert!(err.to_string().contains("deleted"), "{err}");
}

/// The same for a writer, whose follower reads the topic to know every id: it is no longer
/// ready, naming the deleted records, and refuses publishes (it could not tell a retry from a
/// new event).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_writer_that_falls_behind_the_deletions_breaks_off() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let w = common::writer(&h).await;
    w.publish(big(30)).await.expect("publish");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while w.ready().is_err() {
        assert!(std::time::Instant::now() < until, "the writer never caught up: {:?}", w.ready());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    fill_while_fetches_are_refused(&h, || {}).await;
    assert_names_deleted_records("a running writer", &broken("writer", || w.ready()).await);
    let err = w.publish(big(1)).await.expect_err("a broken writer takes no publish");
    assert!(err.to_string().contains("deleted"), "{err}");
}
