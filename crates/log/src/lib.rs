//! The ledger's log: the [`EventLog`] trait every backend implements, the types that cross it,
//! an in-memory backend ([`MemoryLog`]) and the [`conformance`] suite every backend must pass.
//!
//! The log deals in positions and bytes; it knows nothing of event kinds or validation. It must
//! not depend on any backend (sled, rdkafka) nor on gRPC.
//!
//! **Tamper evidence.** Every stored event is a leaf of a Merkle tree ([`merkle`], RFC 9162),
//! whose leaf input is [`leaf_input`]: the time the log appended it, its id, its stream key and
//! the SHA-256 of its stored bytes. A backend extends its [`Tree`] with each event it stores,
//! before the new head is announced, so the tree always covers every acknowledged event.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
pub use beaconport_domain::{EventId, Position};
use bytes::Bytes;
use tokio::sync::watch;

pub mod conformance;
pub mod head;
mod memory;
pub mod merkle;
pub mod publish;

pub use memory::MemoryLog;
pub use publish::{of_log, Publisher, Receipt, StoredEvent, TopicOffset};

/// Errors of a log backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An event id is already stored with different content. A conflict, not a retry: the
    /// publisher reused an id. Nothing of the batch was stored.
    #[error("event {id}: event_id is already stored at position {position} with different content")]
    Conflict { id: EventId, position: Position },
    /// The same, found by a process that writes to a Kafka topic without holding a copy of it:
    /// the id is already in the topic, at `at`, with different content.
    #[error("event {id}: event_id is already stored ({at}) with different content")]
    ConflictInTopic { id: EventId, at: publish::TopicOffset },
    /// One batch holds an id twice, with different content. Nothing of the batch was stored.
    #[error("event {id}: event_id appears twice in the batch with different content")]
    ConflictInBatch { id: EventId },
    /// A record is larger than the backend accepts. Nothing of the batch was stored.
    #[error("event {id}: is {size} bytes encoded, more than the {max} the log accepts")]
    TooLarge { id: EventId, size: usize, max: usize },
    /// The storage failed; the batch may or may not be stored and must be retried (retries are
    /// idempotent).
    #[error("storage failure: {0}")]
    Storage(String),
    /// Stored data does not decode: the log is damaged at this position.
    #[error("log damaged at position {position}: {reason}")]
    Corrupt { position: Position, reason: String },
    /// The log has been closed.
    #[error("the log is closed")]
    Closed,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One event to append: its id, its stream key and its stored bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: EventId,
    /// The stream key (`FORCE/CASE`): events with the same key keep their order everywhere.
    pub key: String,
    pub payload: Bytes,
}

/// The acknowledgement of one appended record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub position: Position,
    /// The id was already stored with the same content; `position` is the original one and
    /// nothing new was stored.
    pub duplicate: bool,
}

/// One stored event, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub position: Position,
    pub id: EventId,
    pub key: String,
    /// When the log appended it, milliseconds since the Unix epoch (the ledger's clock).
    pub appended_at_ms: i64,
    pub payload: Bytes,
}

/// Version byte that starts every leaf input.
pub const LEAF_FORMAT: u8 = 1;

/// The leaf input of a stored event in the tamper-evident tree, big-endian:
/// `LEAF_FORMAT | appended_at_ms (i64) | id (16) | key length (u16) | key | SHA-256(payload)`.
/// The payload enters as its digest, so that erasing personal fields later (crypto-shredding)
/// leaves every proof valid.
pub fn leaf_input(appended_at_ms: i64, id: &EventId, key: &str, payload_digest: &merkle::Hash) -> Vec<u8> {
    let key = key.as_bytes();
    let key = &key[..key.len().min(u16::MAX as usize)];
    let mut out = Vec::with_capacity(1 + 8 + 16 + 2 + key.len() + 32);
    out.push(LEAF_FORMAT);
    out.extend_from_slice(&appended_at_ms.to_be_bytes());
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&(key.len() as u16).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(payload_digest);
    out
}

/// SHA-256 of stored bytes.
pub fn payload_digest(payload: &[u8]) -> merkle::Hash {
    use sha2::Digest;
    sha2::Sha256::digest(payload).into()
}

/// The leaf hash of a stored event: `merkle::leaf_hash(&leaf_input(..))`, hashed in place.
pub fn leaf_hash(appended_at_ms: i64, id: &EventId, key: &str, payload: &[u8]) -> merkle::Hash {
    leaf_hash_of_digest(appended_at_ms, id, key, &payload_digest(payload))
}

/// The leaf hash of a stored event whose payload digest ([`payload_digest`]) is known (a backend
/// computes digests outside its single writer).
pub fn leaf_hash_of_digest(appended_at_ms: i64, id: &EventId, key: &str, digest: &merkle::Hash) -> merkle::Hash {
    use sha2::Digest;
    let key = key.as_bytes();
    let key = &key[..key.len().min(u16::MAX as usize)];
    let mut h = sha2::Sha256::new();
    h.update([0x00, LEAF_FORMAT]);
    h.update(appended_at_ms.to_be_bytes());
    h.update(id.as_bytes());
    h.update((key.len() as u16).to_be_bytes());
    h.update(key);
    h.update(digest);
    h.finalize().into()
}

#[cfg(test)]
mod leaf_tests {
    use super::*;

    #[test]
    fn leaf_hash_is_the_rfc_leaf_of_the_leaf_input() {
        let id = EventId(uuid::Uuid::from_u128(42));
        let payload = b"stored bytes";
        assert_eq!(
            leaf_hash(1_700_000_000_123, &id, "GMP/GMP-1", payload),
            merkle::leaf_hash(&leaf_input(1_700_000_000_123, &id, "GMP/GMP-1", &payload_digest(payload)))
        );
    }
}

impl Entry {
    /// This event's leaf hash in the tamper-evident tree.
    pub fn leaf_hash(&self) -> merkle::Hash {
        leaf_hash(self.appended_at_ms, &self.id, &self.key, &self.payload)
    }
}

/// The tamper-evident tree over a log's events, shared by readers (proofs) and the backend's
/// writer (which extends it before announcing each new head).
#[derive(Debug, Default)]
pub struct Tree {
    inner: parking_lot::RwLock<merkle::MerkleTree>,
}

impl Tree {
    /// Leaves in the tree: the events it covers.
    pub fn size(&self) -> u64 {
        self.inner.read().len()
    }

    /// Extends the tree with the leaves of newly stored events, in position order.
    pub fn extend(&self, leaves: impl IntoIterator<Item = merkle::Hash>) {
        let mut t = self.inner.write();
        for l in leaves {
            t.push(l);
        }
    }

    pub fn leaf(&self, position: Position) -> Option<merkle::Hash> {
        self.inner.read().leaf(position.0)
    }

    /// The root of the tree of the first `size` events.
    pub fn root(&self, size: u64) -> Result<merkle::Hash, merkle::ProofError> {
        self.inner.read().root(size)
    }

    /// The audit path of the event at `position` in the tree of `size` events.
    pub fn inclusion_proof(&self, position: Position, size: u64) -> Result<Vec<merkle::Hash>, merkle::ProofError> {
        self.inner.read().inclusion_proof(position.0, size)
    }

    /// The proof that the tree of `old` events is a prefix of the tree of `new` events.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<merkle::Hash>, merkle::ProofError> {
        self.inner.read().consistency_proof(old, new)
    }
}

/// A durable, append-only, totally ordered log of events.
///
/// Contract, for every backend (checked by [`conformance`]):
/// - **Positions** are dense and monotonic: the n-th stored event has position n - 1, and
///   [`head`](EventLog::head) is the position the next new event will get.
/// - **Durability**: [`append`](EventLog::append) returns `Ok` only once every record of the
///   batch is durable (it survives a crash of the process or the machine).
/// - **Atomicity**: a batch is stored entirely or not at all.
/// - **Idempotency**: a record whose id is already stored with the same payload is not stored
///   again; its acknowledgement carries the original position and `duplicate: true`. The same id
///   with a different payload fails the whole batch with [`Error::Conflict`].
/// - **Order**: records of one batch get increasing positions in batch order; of two batches,
///   the one whose `append` returned first has the lower positions. So events with one key keep
///   their order of publication.
/// - **Reads** return stored events in position order, without gaps, and only acknowledged or
///   being-acknowledged events (never a batch that will fail).
/// - **Cancellation**: dropping an `append` future does not cancel the write: the batch may still
///   be stored (a retry is then a duplicate, never a second copy).
///
/// A distributed backend (Kafka) keeps this contract per process, with two differences it
/// documents: positions are the process's own (processes may interleave partitions differently,
/// while one key's events keep their order everywhere), and a batch that fails part-way may be
/// partly stored, which the client's retry completes without duplicates.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends a batch durably; see the trait's contract.
    async fn append(&self, records: Vec<Record>) -> Result<Vec<Appended>>;

    /// Reads up to `max` events from position `from`, in order. Fewer (or none) at the end.
    async fn read(&self, from: Position, max: usize) -> Result<Vec<Entry>>;

    /// Looks an event up by id.
    async fn get(&self, id: EventId) -> Result<Option<Entry>>;

    /// The position the next new event will get: the number of events stored.
    fn head(&self) -> Position;

    /// Watches the head: the receiver sees every new head after a successful append.
    fn subscribe(&self) -> watch::Receiver<Position>;

    /// The tamper-evident tree over the stored events; it covers at least every event before
    /// [`head`](EventLog::head). `None` only when tamper evidence was turned off (to measure
    /// what it costs).
    fn tree(&self) -> Option<&Tree>;

    /// The backend's own gauges for operators, as (metric name, value): the Kafka backend's
    /// producer queue and replica lag, say. None by default.
    fn gauges(&self) -> Vec<(&'static str, i64)> {
        Vec::new()
    }

    /// The backend's own counters for operators, as (metric name, count since the log was
    /// opened): values that only grow (the embedded log's appends and the flushes they shared).
    /// None by default.
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// `Err(why)` once the log can no longer be trusted to hold every event (a Kafka replica
    /// whose topic lost records it had not copied): operators take the node out of service.
    fn health(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Waits until the log holds at least `position + 1` events (read your own writes).
    async fn wait_for(&self, position: Position) -> Result<()> {
        let mut rx = self.subscribe();
        rx.wait_for(|h| h.0 > position.0).await.map_err(|_| Error::Closed)?;
        Ok(())
    }
}

/// The stream key of an event: force code and case reference.
pub fn stream_key(force: &str, case_ref: &str) -> String {
    let mut key = String::with_capacity(force.len() + 1 + case_ref.len());
    key.push_str(force);
    key.push('/');
    key.push_str(case_ref);
    key
}

/// A 64-bit content hash of a payload, used to tell a retry from a reused id.
pub fn content_hash(payload: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(payload)
}

/// The ledger's clock, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
