//! The log conformance suite on librdkafka's in-process mock cluster.

mod common;

beaconport_log::conformance_tests!(common::KafkaHarness::mock());
