//! The stateless writer (the ingest role alone over Kafka) on librdkafka's mock cluster: what it
//! writes, a replica reads; retries, also after the writer restarts, are answered as duplicates
//! and never stored twice; a reused id is refused; lookups fetch the stored event.

mod common;

use std::time::Duration;

use beaconport_log::Publisher;
use common::{batch, places, replica_holds_only, writer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_writer_writes_a_replica_reads_once_whatever_the_retries() {
    let mut h = common::KafkaHarness::mock();
    common::writer_round_trip(&mut h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_learns_the_ids_other_writers_wrote() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let a = writer(&h).await;
    let b = writer(&h).await;
    let records = batch(200, "shared");
    let first = a.publish(records.clone()).await.unwrap();
    // At once, through B (a client retrying elsewhere): whether or not B had read A's copies
    // when the retry came, it answers each as a duplicate at A's place (a copy B wrote before
    // it knew is a second copy, which replicas skip).
    let receipts = b.publish(records.clone()).await.unwrap();
    assert!(receipts.iter().all(|r| r.duplicate), "a retry through another writer is a duplicate");
    assert_eq!(places(&receipts), places(&first), "the first copy's places");
    // Both at once, new events: each event has one first copy, which both writers name, and
    // exactly one of them reports it as new.
    let racing = batch(200, "racing");
    let (ra, rb) = tokio::join!(a.publish(racing.clone()), b.publish(racing.clone()));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(x.topic, y.topic, "both writers name the first copy");
        assert!(x.duplicate != y.duplicate, "one writer stored it first, the other is told it is a duplicate");
    }
    let log = h.open().await;
    let n = (records.len() + racing.len()) as u64;
    replica_holds_only(log.as_ref(), n, "each event once in the replica, whatever copies the topic holds").await;
    a.close().await;
    b.close().await;
    h.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_opened_on_a_full_topic_reads_it_before_publishing() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let w = writer(&h).await;
    let records = batch(3000, "many");
    for chunk in records.chunks(500) {
        w.publish(chunk.to_vec()).await.unwrap();
    }
    w.close().await;
    let w2 = writer(&h).await;
    // Its first publish waits until the ids are read: every one is then a duplicate.
    let receipts = w2.publish(records[2500..].to_vec()).await.unwrap();
    assert!(receipts.iter().all(|r| r.duplicate));
    assert_eq!(w2.ready(), Ok(()));
    assert_eq!(w2.known_ids(), records.len());
    let gauges = w2.gauges();
    assert!(gauges.contains(&("kafka_writer_known_ids", records.len() as i64)), "{gauges:?}");
    w2.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_events_published_twice_at_once_through_one_writer_get_one_first_copy() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let w = writer(&h).await;
    let records = batch(100, "twice");
    let (x, y) = tokio::join!(w.publish(records.clone()), w.publish(records.clone()));
    let (x, y) = (x.unwrap(), y.unwrap());
    for (x, y) in x.iter().zip(&y) {
        assert_eq!(x.topic, y.topic, "both answers name the first copy");
        assert!(x.duplicate != y.duplicate, "exactly one answer says the event is new");
    }
    // And a third time, once both are answered: duplicates at the same places, nothing produced.
    let before = common::topic_records(&h);
    let z = w.publish(records.clone()).await.unwrap();
    assert!(z.iter().all(|r| r.duplicate));
    assert_eq!(places(&z), places(&x));
    assert_eq!(common::topic_records(&h), before, "a known event is not produced again");
    let log = h.open().await;
    replica_holds_only(log.as_ref(), records.len() as u64, "each event once in a replica").await;
    w.close().await;
    h.close().await;
}

/// A writer opened on a topic of many records says it is ready only once it knows every id in
/// it: readiness follows the records the writer has read, not how far its consumer has fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_is_ready_only_when_it_knows_every_id_in_the_topic() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let w = writer(&h).await;
    let records = batch(100_000, "full");
    for chunk in records.chunks(5_000) {
        w.publish(chunk.to_vec()).await.unwrap();
    }
    w.close().await;
    let w2 = writer(&h).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while w2.ready().is_err() {
        assert!(std::time::Instant::now() < deadline, "not ready after 2 minutes: {:?}", w2.ready());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(w2.known_ids(), records.len(), "ready, so every id in the topic is known");
    // The oldest records too: each is a duplicate at its first copy's place.
    let receipts = w2.publish(records[..500].to_vec()).await.unwrap();
    assert!(receipts.iter().all(|r| r.duplicate));
    w2.close().await;
    h.close().await;
}

/// Looking many events up at once (a batch of corrections, whose targets are checked): each
/// answer is the event asked for, in the order asked, across partitions and over long gaps
/// between the records wanted in one partition; an id never stored is `None`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_looks_many_events_up_at_once() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let w = writer(&h).await;
    let early = batch(300, "early");
    let filler = batch(6_000, "filler");
    let late = batch(300, "late");
    for chunk in [early.clone(), filler, late.clone()].concat().chunks(1_000) {
        w.publish(chunk.to_vec()).await.unwrap();
    }
    let never = beaconport_log::conformance::record("GMP/1", "never stored");
    let mut asked: Vec<&beaconport_log::Record> = early.iter().step_by(7).chain(late.iter().step_by(5)).collect();
    asked.insert(3, &never);
    asked.push(&early[0]);
    let ids: Vec<_> = asked.iter().map(|r| r.id).collect();
    let found = w.stored_many(&ids).await.unwrap();
    assert_eq!(found.len(), ids.len());
    for (r, f) in asked.iter().zip(&found) {
        if r.id == never.id {
            assert!(f.is_none(), "an id never stored is not found");
            continue;
        }
        let f = f.as_ref().unwrap_or_else(|| panic!("{} was stored", r.id));
        assert_eq!((f.id, &f.key, &f.payload), (r.id, &r.key, &r.payload), "the event asked for");
        assert_eq!(f.topic, w.place_of(&r.id), "at its place in the topic");
    }
    w.close().await;
    h.close().await;
}

/// The gauge `name` of a writer.
fn gauge(w: &beaconport_log_kafka::KafkaWriter, name: &str) -> i64 {
    w.gauges().into_iter().find(|(n, _)| *n == name).map_or_else(|| panic!("no gauge {name}"), |(_, v)| v)
}

/// A writer answers as soon as its records are delivered when every record before them in their
/// partitions is its own; when another writer's records precede them, it answers once its
/// follower has read those, naming the first copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_waits_for_its_follower_only_when_another_writers_records_come_first() {
    let mut h = common::KafkaHarness::mock();
    h.new_topic().await;
    let a = writer(&h).await;
    // One writer alone, its publishes apart: nothing but its own records before each.
    let mut first = Vec::new();
    for round in 0..5 {
        first.extend(a.publish(batch(50, &format!("alone-{round}"))).await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(first.iter().all(|r| !r.duplicate));
    let answered = |w: &beaconport_log_kafka::KafkaWriter| {
        (
            gauge(w, "kafka_writer_answered_at_delivery"),
            gauge(w, "kafka_writer_answered_after_own_noted"),
            gauge(w, "kafka_writer_answered_after_read_back"),
            gauge(w, "kafka_writer_answered_known"),
        )
    };
    let (at_delivery, own_noted, read_back, known) = answered(&a);
    assert_eq!((at_delivery + own_noted + read_back, known), (5, 0), "each publish answered once, by producing");
    assert!(at_delivery >= 3, "a lone writer's publishes are answered at delivery: {:?}", answered(&a));

    // B's follower holds each empty fetch for up to 2 s, so that B most likely has not read what
    // A writes now when its own copy follows; whatever it has read, its answer names A's copy.
    let mut slow = h.options();
    slow.fetch_wait = Duration::from_secs(2);
    let b = std::sync::Arc::new(beaconport_log_kafka::KafkaWriter::open(slow).await.expect("writer opens"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let records = batch(40, "both");
    let by_a = a.publish(records.clone()).await.unwrap();
    assert!(by_a.iter().all(|r| !r.duplicate));
    let by_b = b.publish(records.clone()).await.unwrap();
    assert!(by_b.iter().all(|r| r.duplicate), "B's copies come second: duplicates");
    assert_eq!(places(&by_b), places(&by_a), "B names A's copies, the first");
    // Which way B learnt of A's copies is timing: its follower may have read some of them
    // between A's answer and B's delivery, or all of them before B looked (a busy machine slows
    // B's first reading of the topic, which its first publish waits for), and then B produced
    // nothing. That it answered once, exactly, is not timing.
    let (at_delivery, own_noted, read_back, known) = answered(&b);
    assert_eq!(at_delivery + own_noted + read_back + known, 1, "B answered its one publish once: {:?}", answered(&b));
    let log = h.open().await;
    let n = (5 * 50 + records.len()) as u64;
    replica_holds_only(log.as_ref(), n, "B's second copies are skipped").await;
    a.close().await;
    b.close().await;
    h.close().await;
}
