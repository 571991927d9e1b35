//! The conformance harness for the Kafka log: on librdkafka's mock cluster, or on the broker
//! named by `KAFKA_BOOTSTRAP`.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use beaconport_log::conformance::Harness;
use beaconport_log::EventLog;
use beaconport_log_kafka::mock::Mock;
use beaconport_log_kafka::{KafkaLog, Options};

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
