//! [`Publisher`]: what taking a publish needs of the ledger, whether the process holds the log
//! (any [`EventLog`], through [`of_log`]) or only writes to it (the Kafka backend's stateless
//! writer, for processes of the ingest role alone).

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::{Error, EventId, EventLog, Position, Record, Result};

/// Where an event is in a Kafka topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicOffset {
    pub partition: i32,
    pub offset: i64,
}

impl std::fmt::Display for TopicOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "partition {} offset {}", self.partition, self.offset)
    }
}

/// The acknowledgement of one published record: its position in a log this process holds, or
/// where a writer put it in the topic (at least one of the two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub position: Option<Position>,
    pub topic: Option<TopicOffset>,
    /// The id was already stored with the same content: the receipt is the original's, and
    /// nothing new was stored.
    pub duplicate: bool,
}

/// A stored event, looked up by id through a [`Publisher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: EventId,
    /// The stream key (`FORCE/CASE`).
    pub key: String,
    pub payload: Bytes,
    pub position: Option<Position>,
    pub topic: Option<TopicOffset>,
}

impl StoredEvent {
    /// The error of a publish that reuses this event's id for other content.
    pub fn conflict(&self) -> Error {
        conflict(self.id, self.position, self.topic)
    }
}

/// The error of an id already stored with other content, wherever it is stored.
pub fn conflict(id: EventId, position: Option<Position>, topic: Option<TopicOffset>) -> Error {
    match (position, topic) {
        (Some(position), _) => Error::Conflict { id, position },
        (None, Some(at)) => Error::ConflictInTopic { id, at },
        (None, None) => Error::Storage(format!("event {id}: stored with other content, nowhere known")),
    }
}

/// Takes publishes: the same contract as [`EventLog::append`] (durable before `Ok`, retries
/// never stored twice, an id reused for other content refused), answered with [`Receipt`]s.
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    /// Stores a batch durably and acknowledges each record, in batch order.
    async fn publish(&self, records: Vec<Record>) -> Result<Vec<Receipt>>;

    /// The stored event with this id, if any.
    async fn stored(&self, id: EventId) -> Result<Option<StoredEvent>>;

    /// The stored events with these ids, in the order asked (`None` for an id not stored). A
    /// backend that looks events up remotely fetches them together; by default, one by one.
    async fn stored_many(&self, ids: &[EventId]) -> Result<Vec<Option<StoredEvent>>> {
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            out.push(self.stored(id).await?);
        }
        Ok(out)
    }

    /// The backend's gauges for operators, as (metric name, value).
    fn gauges(&self) -> Vec<(&'static str, i64)> {
        Vec::new()
    }

    /// `Err(why)` while the publisher cannot yet answer every publish correctly (a writer still
    /// reading the ids already in its topic).
    fn ready(&self) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// A log as a publisher: appends, and looks events up, in the log.
pub fn of_log(log: Arc<dyn EventLog>) -> Arc<dyn Publisher> {
    Arc::new(OfLog(log))
}

struct OfLog(Arc<dyn EventLog>);

#[async_trait]
impl Publisher for OfLog {
    async fn publish(&self, records: Vec<Record>) -> Result<Vec<Receipt>> {
        Ok(self
            .0
            .append(records)
            .await?
            .into_iter()
            .map(|a| Receipt { position: Some(a.position), topic: None, duplicate: a.duplicate })
            .collect())
    }

    async fn stored(&self, id: EventId) -> Result<Option<StoredEvent>> {
        Ok(self.0.get(id).await?.map(|e| StoredEvent {
            id: e.id,
            key: e.key,
            payload: e.payload,
            position: Some(e.position),
            topic: None,
        }))
    }

    fn gauges(&self) -> Vec<(&'static str, i64)> {
        self.0.gauges()
    }

    fn ready(&self) -> std::result::Result<(), String> {
        self.0.health()
    }
}
