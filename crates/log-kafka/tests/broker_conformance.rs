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
