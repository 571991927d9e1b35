//! The log conformance suite on a real Kafka-protocol broker, named by `KAFKA_BOOTSTRAP`.
//! Not part of a plain `cargo test`: `tests/kafka-broker.sh` starts a broker and runs it.

mod common;

beaconport_log::conformance_tests!(common::KafkaHarness::broker());

/// The ingest role's stateless writer against the broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_on_the_broker() {
    let mut h = common::KafkaHarness::broker();
    common::writer_round_trip(&mut h).await;
}

/// Partitions added to the topic while a replica runs are found and copied from their
/// beginning (the mock cluster cannot add partitions; a real broker can).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_added_later_are_copied_from_their_beginning() {
    use beaconport_log::EventLog;
    use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::producer::FutureProducer;

    let mut h = common::KafkaHarness::broker();
    h.new_topic().await;
    let log = h.open().await;
    log.append(vec![beaconport_log::conformance::record("GMP/1", "before")]).await.unwrap();
    let admin: AdminClient<DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", h.cluster.bootstrap()).create().unwrap();
    let more = NewPartitions::new(&h.topic, common::PARTITIONS as usize + 2);
    match admin.create_partitions([&more], &AdminOptions::new()).await {
        Ok(results) => {
            for r in results {
                r.unwrap();
            }
        }
        // A deviation of Tansu 0.6 from Apache Kafka: it does not implement CreatePartitions
        // (the admin client is told the broker lacks the feature). Nothing can add partitions
        // to its topics, so there is nothing for a replica to find; said, not skipped silently.
        Err(rdkafka::error::KafkaError::AdminOp(rdkafka::types::RDKafkaErrorCode::UnsupportedFeature)) => {
            eprintln!("this broker cannot add partitions (CreatePartitions unsupported): the test stops here");
            log.append(vec![beaconport_log::conformance::record("GMP/1", "after")]).await.unwrap();
            assert_eq!(log.head().0, 2);
            h.close().await;
            return;
        }
        Err(e) => panic!("adding partitions: {e}"),
    }
    // Records written straight into the new partitions, as another client's would be.
    let producer: FutureProducer = h.options().producer_config().create().unwrap();
    let new: Vec<_> =
        (0..2).map(|i| beaconport_log::conformance::record("WYP/7", &format!("new partition {i}"))).collect();
    for (i, r) in new.iter().enumerate() {
        let record = beaconport_log_kafka::kafka_record(&h.topic, r, beaconport_log::now_ms())
            .partition(common::PARTITIONS + i as i32);
        producer.send(record, std::time::Duration::from_secs(10)).await.unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while log.head().0 < 3 {
        assert!(std::time::Instant::now() < deadline, "the new partitions were not copied: head {}", log.head().0);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for r in &new {
        assert_eq!(log.get(r.id).await.unwrap().expect("copied").payload, r.payload);
    }
    assert_eq!(log.head().0, 3, "each record once");
    h.close().await;
}

/// A topic found with a finite retention (created by someone else, with the cluster's default
/// of seven days, say): Kafka would delete the ledger's records, so the replica and the writer
/// opened on it say they are broken, naming the setting, and take no publishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_with_a_finite_retention_is_refused() {
    use beaconport_log::{EventLog, Publisher};
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
    use rdkafka::client::DefaultClientContext;

    let mut h = common::KafkaHarness::broker();
    h.topic = format!("beaconport-test-{}", uuid::Uuid::new_v4().simple());
    let admin: AdminClient<DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", h.cluster.bootstrap()).create().unwrap();
    let replication = h.options().replication;
    let topic = NewTopic::new(&h.topic, common::PARTITIONS, TopicReplication::Fixed(replication))
        .set("retention.ms", "604800000");
    for r in admin.create_topics([&topic], &AdminOptions::new()).await.unwrap() {
        r.unwrap();
    }
    let described = admin.describe_configs([&ResourceSpecifier::Topic(&h.topic)], &AdminOptions::new()).await;
    let retention = described
        .ok()
        .and_then(|d| d.into_iter().next())
        .and_then(|r| r.ok())
        .and_then(|r| r.get("retention.ms").and_then(|e| e.value.clone()));
    if retention.as_deref() != Some("604800000") {
        // The broker does not describe the topic's settings as created (Tansu 0.6 keeps no
        // per-topic retention): the watch has nothing to find, and readers fall back on
        // refusing a topic that actually lost records (tests/retention.rs, on the mock).
        eprintln!("this broker describes retention.ms as {retention:?}, not as created: the test stops here");
        return;
    }
    let log = h.open().await;
    let writer = common::writer(&h).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while log.health().is_ok() || writer.ready().is_ok() {
        assert!(std::time::Instant::now() < deadline, "the finite retention went unnoticed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let why = log.health().unwrap_err();
    assert!(why.contains("retention.ms=604800000") && why.contains("retention.ms=-1"), "{why}");
    assert!(writer.ready().unwrap_err().contains("retention.ms=604800000"));
    let refused = log.append(vec![beaconport_log::conformance::record("GMP/1", "kept?")]).await;
    assert!(refused.unwrap_err().to_string().contains("retention.ms"), "no publish while broken");
    let refused = writer.publish(vec![beaconport_log::conformance::record("GMP/1", "kept?")]).await;
    assert!(refused.unwrap_err().to_string().contains("retention.ms"), "no publish while broken");
    writer.close().await;
    h.close().await;
}
