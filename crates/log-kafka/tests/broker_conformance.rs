//! The log conformance suite on a real Kafka-protocol broker, named by `KAFKA_BOOTSTRAP`.
//! Not part of a plain `cargo test`: `tests/kafka-broker.sh` starts a broker and runs it.

mod common;

beaconport_log::conformance_tests!(common::KafkaHarness::broker());
