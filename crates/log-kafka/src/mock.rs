//! librdkafka's in-process mock cluster, driven from one thread of its own (the cluster handle
//! may not cross threads): tests start it, create topics and inject faults through [`Mock`].

use std::sync::mpsc;
use std::time::Duration;

use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

enum Command {
    CreateTopic { topic: String, partitions: i32, replication: i32 },
    BrokerDown(i32),
    BrokerUp(i32),
    Leader { topic: String, partition: i32, broker: i32 },
    RequestErrors { api: RDKafkaApiKey, errors: Vec<RDKafkaRespErr> },
    ClearRequestErrors(RDKafkaApiKey),
    RoundTrip { broker: i32, delay: Duration },
}

type Reply = mpsc::Sender<Result<(), String>>;

/// A running mock cluster; dropping it stops the cluster.
#[derive(Debug)]
pub struct Mock {
    bootstrap: String,
    tx: Option<mpsc::Sender<(Command, Reply)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mock {
    /// Starts a cluster of `brokers` brokers.
    pub fn start(brokers: i32) -> Result<Self, String> {
        let (tx, rx) = mpsc::channel::<(Command, Reply)>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("kafka-mock".into())
            .spawn(move || {
                let cluster = match MockCluster::new(brokers) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                while let Ok((command, reply)) = rx.recv() {
                    let r = match command {
                        Command::CreateTopic { topic, partitions, replication } => {
                            cluster.create_topic(&topic, partitions, replication)
                        }
                        Command::BrokerDown(b) => cluster.broker_down(b),
                        Command::BrokerUp(b) => cluster.broker_up(b),
                        Command::Leader { topic, partition, broker } => {
                            cluster.partition_leader(&topic, partition, Some(broker))
                        }
                        Command::RequestErrors { api, errors } => {
                            cluster.request_errors(api, &errors);
                            Ok(())
                        }
                        Command::ClearRequestErrors(api) => {
                            cluster.clear_request_errors(api);
                            Ok(())
                        }
                        Command::RoundTrip { broker, delay } => cluster.broker_round_trip_time(broker, delay),
                    };
                    let _ = reply.send(r.map_err(|e| e.to_string()));
                }
            })
            .map_err(|e| e.to_string())?;
        let bootstrap = ready_rx.recv().map_err(|e| e.to_string())??;
        Ok(Self { bootstrap, tx: Some(tx), thread: Some(thread) })
    }

    /// The cluster's bootstrap list.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    fn call(&self, command: Command) -> Result<(), String> {
        let (reply, rx) = mpsc::channel();
        self.tx.as_ref().ok_or("stopped")?.send((command, reply)).map_err(|e| e.to_string())?;
        rx.recv().map_err(|e| e.to_string())?
    }

    pub fn create_topic(&self, topic: &str, partitions: i32, replication: i32) -> Result<(), String> {
        self.call(Command::CreateTopic { topic: topic.into(), partitions, replication })
    }

    /// Takes a broker down: its connections are closed and it refuses new ones.
    pub fn broker_down(&self, broker: i32) -> Result<(), String> {
        self.call(Command::BrokerDown(broker))
    }

    pub fn broker_up(&self, broker: i32) -> Result<(), String> {
        self.call(Command::BrokerUp(broker))
    }

    /// Moves a partition's leadership to `broker`.
    pub fn set_leader(&self, topic: &str, partition: i32, broker: i32) -> Result<(), String> {
        self.call(Command::Leader { topic: topic.into(), partition, broker })
    }

    /// The next requests of kind `api` fail with `errors`, one each, in order.
    pub fn request_errors(&self, api: RDKafkaApiKey, errors: &[RDKafkaRespErr]) -> Result<(), String> {
        self.call(Command::RequestErrors { api, errors: errors.to_vec() })
    }

    /// Drops the errors still waiting for requests of kind `api`.
    pub fn clear_request_errors(&self, api: RDKafkaApiKey) -> Result<(), String> {
        self.call(Command::ClearRequestErrors(api))
    }

    /// Delays every answer of `broker` by `delay`.
    pub fn round_trip(&self, broker: i32, delay: Duration) -> Result<(), String> {
        self.call(Command::RoundTrip { broker, delay })
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
