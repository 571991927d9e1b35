//! The bytes stored on the log for one event: the protobuf encoding of `pb::event::Event`, as
//! published. Encoding is deterministic (the schema has no map fields), so a retried publish
//! produces the same bytes, and the tamper-evident tree hashes exactly what is stored.

use prost::Message;

use crate::pb::event::Event;

/// Errors of the proto crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Stored bytes do not decode as an event: the log is damaged.
    #[error("stored event at position {position} does not decode: {source}")]
    Corrupt { position: u64, source: prost::DecodeError },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Encodes an event as stored on the log.
pub fn encode(e: &Event) -> Vec<u8> {
    e.encode_to_vec()
}

/// Decodes an event stored at `position`.
pub fn decode(position: u64, bytes: &[u8]) -> Result<Event> {
    Event::decode(bytes).map_err(|source| Error::Corrupt { position, source })
}
