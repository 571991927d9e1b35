//! Faults on librdkafka's mock cluster: a broker down during ingest, leadership moving, requests
//! timing out or failing. Whatever happens, every acknowledged event is in the log exactly once
//! (also for a replica built afresh from the topic), every call that could not be delivered
//! returns an error, and a client that retries a failed call never causes a duplicate. Each test
//! runs twice: publishing through a process that holds a replica ([`KafkaLog`], the roles
//! together) and through a stateless writer ([`KafkaWriter`], the ingest role alone).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use beaconport_log::conformance::record;
use beaconport_log::{EventId, EventLog, Position, Publisher, Record};
use beaconport_log_kafka::{KafkaLog, KafkaWriter, Options};
use common::{mock, KafkaHarness, PARTITIONS};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

/// What publishers saw: calls acknowledged (with their records) and calls that failed.
#[derive(Default)]
struct Outcome {
    acked: Vec<Record>,
    failures: usize,
    /// Every record ever sent, acknowledged or not.
    sent: Vec<Record>,
    /// Where a writer's acknowledgements said each event is in the topic.
    places: HashMap<EventId, beaconport_log::TopicOffset>,
}

/// `publishers` tasks each publish `batches` batches of `size` events (one case each), retrying
/// a failed call with the very same records up to `retries` times.
async fn publish(log: Arc<dyn Publisher>, publishers: usize, batches: usize, size: usize, retries: usize) -> Outcome {
    publish_paced(log, publishers, batches, size, retries, Duration::ZERO).await
}

/// [`publish`], pausing before each batch.
async fn publish_paced(
    log: Arc<dyn Publisher>,
    publishers: usize,
    batches: usize,
    size: usize,
    retries: usize,
    pause: Duration,
) -> Outcome {
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            for b in 0..batches {
                let recs: Vec<Record> =
                    (0..size).map(|i| record(&format!("GMP/case-{p}-{}", b % 4), &format!("{p}-{b}-{i}"))).collect();
                out.sent.extend(recs.iter().cloned());
                tokio::time::sleep(pause).await;
                for _attempt in 0..=retries {
                    match log.publish(recs.clone()).await {
                        Ok(acks) => {
                            assert_eq!(acks.len(), recs.len());
                            for (r, a) in recs.iter().zip(&acks) {
                                if let Some(at) = a.topic {
                                    out.places.insert(r.id, at);
                                }
                            }
                            out.acked.extend(recs.iter().cloned());
                            break;
                        }
                        Err(_) => {
                            out.failures += 1;
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                }
            }
            out
        }));
    }
    let mut all = Outcome::default();
    for t in tasks {
        let o = t.await.unwrap();
        all.places.extend(o.places);
        all.acked.extend(o.acked);
        all.sent.extend(o.sent);
        all.failures += o.failures;
    }
    all
}

/// Every acknowledged record is in `log` exactly once with its content, and nothing is there
/// that was never sent.
async fn assert_exactly_once(log: &dyn EventLog, outcome: &Outcome) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let want: HashSet<EventId> = outcome.acked.iter().map(|r| r.id).collect();
    loop {
        let all = log.read(Position(0), 1_000_000).await.unwrap();
        let ids: HashSet<EventId> = all.iter().map(|e| e.id).collect();
        if want.is_subset(&ids) || Instant::now() > deadline {
            assert_eq!(ids.len(), all.len(), "an id is stored twice");
            let sent: HashMap<EventId, &Record> = outcome.sent.iter().map(|r| (r.id, r)).collect();
            for e in &all {
                let r = sent.get(&e.id).expect("only what was sent is stored");
                assert_eq!((&e.key, &e.payload), (&r.key, &r.payload));
            }
            let missing = want.difference(&ids).count();
            assert_eq!(missing, 0, "{missing} acknowledged events are missing");
            for (i, e) in all.iter().enumerate() {
                assert_eq!(e.position, Position(i as u64));
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Who publishes: a process that holds a replica, or a stateless writer.
#[derive(Debug, Clone, Copy)]
enum Side {
    Replica,
    Writer,
}

/// The publishing side, opened.
struct Opened {
    publisher: Arc<dyn Publisher>,
    log: Option<Arc<KafkaLog>>,
    writer: Option<Arc<KafkaWriter>>,
}

impl Opened {
    async fn open(side: Side, options: Options) -> Self {
        match side {
            Side::Replica => {
                let log = Arc::new(KafkaLog::open(options).await.unwrap());
                Self { publisher: beaconport_log::of_log(log.clone()), log: Some(log), writer: None }
            }
            Side::Writer => {
                let w = Arc::new(KafkaWriter::open(options).await.unwrap());
                Self { publisher: w.clone(), log: None, writer: Some(w) }
            }
        }
    }

    async fn close(&self) {
        if let Some(l) = &self.log {
            l.close().await;
        }
        if let Some(w) = &self.writer {
            w.close().await;
        }
    }
}

/// The log as seen by the publishing process (if it holds one) and by a replica built afresh
/// from the topic.
async fn check_everywhere(h: &mut KafkaHarness, publishing: &Opened, outcome: &Outcome) {
    if let Some(log) = &publishing.log {
        assert_exactly_once(log.as_ref(), outcome).await;
    }
    if publishing.writer.is_some() {
        // Each acknowledgement named the copy every replica keeps: the first in the topic, as
        // a writer opened afresh reads it.
        let fresh = KafkaWriter::open(h.options()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while fresh.ready().is_err() {
            assert!(Instant::now() < deadline, "the fresh writer never read the topic");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!outcome.acked.is_empty());
        for r in &outcome.acked {
            let told = outcome.places.get(&r.id).expect("a writer's acknowledgement names a place");
            assert_eq!(fresh.place_of(&r.id).as_ref(), Some(told), "event {}: not the first copy", r.id);
        }
        fresh.close().await;
    }
    h.replica += 1;
    let fresh = KafkaLog::open(h.options()).await.unwrap();
    assert_exactly_once(&fresh, outcome).await;
    fresh.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_down_during_ingest_loses_nothing_acknowledged_and_retries_do_not_duplicate() {
    broker_down_during_ingest(Side::Replica).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_down_during_ingest_through_a_writer_loses_nothing_and_duplicates_nothing() {
    broker_down_during_ingest(Side::Writer).await;
}

async fn broker_down_during_ingest(side: Side) {
    let mut h = KafkaHarness::mock();
    h.new_topic().await;
    let m = mock(&h);
    // Broker 1 leads every partition, so that its outage stops every write.
    for p in 0..PARTITIONS {
        m.set_leader(&h.topic, p, 1).unwrap();
    }
    let mut o = h.options();
    // Shorter than the outage: calls made during it fail.
    o.delivery_timeout = Duration::from_secs(2);
    let publishing = Opened::open(side, o).await;
    let warm_up = record("GMP/warm-up", "before the outage");
    let warm_place = publishing.publisher.publish(vec![warm_up.clone()]).await.unwrap()[0].topic;
    m.broker_down(1).unwrap();
    let faults = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(4)).await;
        m.broker_up(1).unwrap();
    });
    // Publishing starts during the outage and goes on after it (20 batches a publisher, 100 ms
    // apart, each retried until it gets through).
    let mut outcome = publish_paced(publishing.publisher.clone(), 4, 20, 20, 40, Duration::from_millis(100)).await;
    faults.await.unwrap();
    assert!(outcome.failures > 0, "the outage failed no call: the test did not test it");
    assert_eq!(outcome.acked.len(), outcome.sent.len(), "every batch got through once the broker was back");
    if let Some(at) = warm_place {
        outcome.places.insert(warm_up.id, at);
    }
    outcome.acked.push(warm_up.clone());
    outcome.sent.push(warm_up);
    check_everywhere(&mut h, &publishing, &outcome).await;
    publishing.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_moving_during_ingest_loses_and_duplicates_nothing() {
    leadership_moving(Side::Replica).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_moving_during_ingest_through_a_writer_loses_and_duplicates_nothing() {
    leadership_moving(Side::Writer).await;
}

async fn leadership_moving(side: Side) {
    let mut h = KafkaHarness::mock();
    h.new_topic().await;
    let publishing = Opened::open(side, h.options()).await;
    let m = mock(&h);
    let topic = h.topic.clone();
    let faults = tokio::spawn(async move {
        for round in 0..6 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            for p in 0..PARTITIONS {
                m.set_leader(&topic, p, 1 + (p + round) % 3).unwrap();
            }
        }
    });
    let outcome = publish(publishing.publisher.clone(), 4, 30, 20, 5).await;
    faults.await.unwrap();
    assert_eq!(outcome.acked.len(), outcome.sent.len());
    check_everywhere(&mut h, &publishing, &outcome).await;
    publishing.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_requests_timing_out_or_failing_are_retried_without_duplicates() {
    requests_timing_out_or_failing(Side::Replica).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_requests_timing_out_or_failing_through_a_writer_are_retried_without_duplicates() {
    requests_timing_out_or_failing(Side::Writer).await;
}

async fn requests_timing_out_or_failing(side: Side) {
    let mut h = KafkaHarness::mock();
    h.new_topic().await;
    let mut o = h.options();
    o.client.insert("request.timeout.ms".into(), "500".into());
    let publishing = Opened::open(side, o).await;
    let m = mock(&h);
    // Answers slower than the request timeout (the broker may still have written what it was
    // sent: the idempotent producer's retry must not write it twice), then errors on produce.
    m.round_trip(1, Duration::from_millis(800)).unwrap();
    m.request_errors(
        RDKafkaApiKey::Produce,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        ],
    )
    .unwrap();
    let slow_until = {
        let m = mock(&h);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            m.round_trip(1, Duration::ZERO).unwrap();
        })
    };
    let outcome = publish(publishing.publisher.clone(), 4, 20, 20, 10).await;
    slow_until.await.unwrap();
    assert_eq!(outcome.acked.len(), outcome.sent.len());
    check_everywhere(&mut h, &publishing, &outcome).await;
    publishing.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_cannot_be_delivered_fails_within_the_delivery_timeout() {
    undeliverable(Side::Replica).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_through_a_writer_that_cannot_be_delivered_fails_within_the_delivery_timeout() {
    undeliverable(Side::Writer).await;
}

async fn undeliverable(side: Side) {
    let mut h = KafkaHarness::mock();
    h.new_topic().await;
    let mut o = h.options();
    o.delivery_timeout = Duration::from_secs(2);
    let publishing = Opened::open(side, o).await;
    let log = publishing.publisher.clone();
    let m = mock(&h);
    for b in 1..=3 {
        m.broker_down(b).unwrap();
    }
    let recs: Vec<Record> = (0..10).map(|i| record("GMP/1", &format!("r{i}"))).collect();
    let started = Instant::now();
    let err = log.publish(recs.clone()).await.unwrap_err();
    // Within the delivery timeout and its checks, far short of librdkafka's default (5 minutes);
    // the margin is for a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(err.to_string().contains("kafka"), "{err}");
    for b in 1..=3 {
        m.broker_up(b).unwrap();
    }
    // The client's retry succeeds, and the log holds each event once.
    let acks = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match log.publish(recs.clone()).await {
                Ok(a) => break a,
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    })
    .await
    .expect("the retry succeeds once the brokers are back");
    assert_eq!(acks.len(), 10);
    let places = recs.iter().zip(&acks).filter_map(|(r, a)| a.topic.map(|at| (r.id, at))).collect();
    let outcome = Outcome { acked: recs.clone(), failures: 1, sent: recs, places };
    check_everywhere(&mut h, &publishing, &outcome).await;
    publishing.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_batch_retried_through_two_ingest_processes_is_stored_once() {
    let mut h = KafkaHarness::mock();
    let a = h.fresh_kafka().await;
    h.replica += 1;
    let b = Arc::new(KafkaLog::open(h.options()).await.unwrap());
    let mut sent = Vec::new();
    for round in 0..20 {
        let recs: Vec<Record> = (0..25).map(|i| record(&format!("WYP/{}", i % 5), &format!("{round}-{i}"))).collect();
        sent.extend(recs.iter().cloned());
        // Both processes publish the same batch at once (a client that timed out on one and
        // retried on the other).
        let (x, y) = tokio::join!(a.append(recs.clone()), b.append(recs.clone()));
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.len(), 25);
        assert_eq!(y.len(), 25);
    }
    let outcome = Outcome { acked: sent.clone(), failures: 0, sent, places: HashMap::new() };
    assert_exactly_once(a.as_ref(), &outcome).await;
    assert_exactly_once(b.as_ref(), &outcome).await;
    let publishing = Opened { publisher: beaconport_log::of_log(a.clone()), log: Some(a.clone()), writer: None };
    check_everywhere(&mut h, &publishing, &outcome).await;
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_batch_retried_through_two_writers_is_stored_once() {
    let mut h = KafkaHarness::mock();
    h.new_topic().await;
    let a = Opened::open(Side::Writer, h.options()).await;
    let b = Opened::open(Side::Writer, h.options()).await;
    let mut sent = Vec::new();
    let mut places = HashMap::new();
    for round in 0..20 {
        let recs: Vec<Record> = (0..25).map(|i| record(&format!("WYP/{}", i % 5), &format!("{round}-{i}"))).collect();
        sent.extend(recs.iter().cloned());
        let (x, y) = tokio::join!(a.publisher.publish(recs.clone()), b.publisher.publish(recs.clone()));
        let (x, y) = (x.unwrap(), y.unwrap());
        for ((r, x), y) in recs.iter().zip(&x).zip(&y) {
            assert_eq!(x.topic, y.topic, "both name the copy every replica keeps");
            assert!(x.duplicate != y.duplicate, "one stored it, the other was told it is a duplicate");
            places.insert(r.id, x.topic.expect("a place"));
        }
    }
    let outcome = Outcome { acked: sent.clone(), failures: 0, sent, places };
    check_everywhere(&mut h, &a, &outcome).await;
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_restarted_mid_stream_resumes_without_skipping_or_applying_twice() {
    let mut h = KafkaHarness::mock();
    h.new_topic().await;
    // The ingest role alone: a stateless writer.
    let writer = Opened::open(Side::Writer, h.options()).await;
    // A second process, restarted while the first keeps publishing.
    h.replica += 1;
    let reader_options = h.options();
    let mut reader = KafkaLog::open(reader_options.clone()).await.unwrap();
    let publishing = tokio::spawn(publish(writer.publisher.clone(), 3, 40, 10, 0));
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        reader.close().await;
        drop(reader);
        reader = KafkaLog::open(reader_options.clone()).await.unwrap();
    }
    let outcome = publishing.await.unwrap();
    assert_eq!(outcome.acked.len(), 1200);
    assert_exactly_once(&reader, &outcome).await;
    assert_eq!(reader.head(), Position(1200));
    reader.close().await;
    writer.close().await;
}

impl KafkaHarness {
    async fn fresh_kafka(&mut self) -> Arc<KafkaLog> {
        self.new_topic().await;
        self.open().await
    }
}
