//! Where the views are stored: one sled tree holding each case file as it stands and the position
//! applied, written together in one atomic batch, so a crash leaves the stored views at one
//! position or the next, never half of one.
//!
//! Keys: `c` + force + `\0` + case reference → the case file (each event as its log position and
//! its stored protobuf encoding, corrections applied); `k` + position (u64 BE) → a consultation of
//! the ledger (its stored encoding); `m/applied` → the position applied (u64 BE); `m/model-event`
//! → the stored encoding of the event whose resolution model the views adopted.
//! Persons, identifiers, places and networks are indexes over the case files, rebuilt in memory
//! on open: they are not stored twice.

use std::path::Path;

use beaconport_domain::Position;
use beaconport_proto::pb;
use prost::Message;

use crate::case::{CaseKey, Effective};
use crate::{Error, Result};
use beaconport_domain::{Body, Event};

const APPLIED: &[u8] = b"m/applied";
const MODEL_EVENT: &[u8] = b"m/model-event";

/// The stored views.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
}

/// One stored case file, decoded.
#[derive(Debug)]
pub struct StoredCase {
    pub key: CaseKey,
    pub events: Vec<Effective>,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path, cache_mb: u64) -> Result<Self> {
        // Flushed by the runner; no background flusher thread to outlive a closed store.
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_mb * 1024 * 1024)
            .flush_every_ms(None)
            .open()
            .map_err(storage)?;
        let tree = db.open_tree("views").map_err(storage)?;
        Ok(Store { db, tree })
    }

    /// The position applied by the stored views.
    pub fn applied(&self) -> Result<Position> {
        Ok(match self.tree.get(APPLIED).map_err(storage)? {
            Some(v) => Position(u64::from_be_bytes(v.as_ref().try_into().map_err(|_| corrupt("applied position"))?)),
            None => Position(0),
        })
    }

    /// Every stored case file.
    pub fn cases(&self) -> impl Iterator<Item = Result<StoredCase>> + '_ {
        self.tree.scan_prefix(b"c").map(|kv| {
            let (k, v) = kv.map_err(storage)?;
            let key = decode_key(&k[1..])?;
            Ok(StoredCase { events: decode_file(&key, &v)?, key })
        })
    }

    /// Every stored consultation, in log order: (position, stored encoding).
    pub fn consultations(&self) -> impl Iterator<Item = Result<(Position, bytes::Bytes)>> + '_ {
        self.tree.scan_prefix(b"k").map(|kv| {
            let (k, v) = kv.map_err(storage)?;
            let position = k[1..].try_into().map(u64::from_be_bytes).map_err(|_| corrupt("consultation key"))?;
            Ok((Position(position), bytes::Bytes::copy_from_slice(&v)))
        })
    }

    /// The event whose resolution model the views adopted, if they did: decoded, and as stored.
    pub fn model_event(&self) -> Result<Option<(Event, bytes::Bytes)>> {
        let Some(v) = self.tree.get(MODEL_EVENT).map_err(storage)? else { return Ok(None) };
        let bytes = bytes::Bytes::copy_from_slice(&v);
        let event = decode_model_event(&bytes).map_err(|_| corrupt("the adopted model's event"))?;
        Ok(Some((event, bytes)))
    }

    /// Stores changed case files, new consultations, the event of a newly adopted model if any,
    /// and the position applied, atomically.
    pub fn commit(
        &self,
        files: Vec<(CaseKey, Vec<u8>)>,
        consultations: Vec<(Position, bytes::Bytes)>,
        model_event: Option<&[u8]>,
        applied: Position,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (position, encoded) in consultations {
            let mut k = Vec::with_capacity(9);
            k.push(b'k');
            k.extend_from_slice(&position.0.to_be_bytes());
            batch.insert(k, encoded.as_ref());
        }
        if let Some(e) = model_event {
            batch.insert(MODEL_EVENT, e);
        }
        for (key, file) in files {
            batch.insert(case_key(&key), file);
        }
        batch.insert(APPLIED, &applied.0.to_be_bytes());
        self.tree.apply_batch(batch).map_err(storage)
    }

    /// Flushes to disk: the views survive a crash of the machine up to here.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().map(|_| ()).map_err(storage)
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

fn case_key(key: &CaseKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + key.0.len() + key.1.len());
    k.push(b'c');
    k.extend_from_slice(key.0.as_bytes());
    k.push(0);
    k.extend_from_slice(key.1.as_bytes());
    k
}

fn decode_key(k: &[u8]) -> Result<CaseKey> {
    let s = std::str::from_utf8(k).map_err(|_| corrupt("case key"))?;
    let (f, c) = s.split_once('\0').ok_or_else(|| corrupt("case key"))?;
    Ok((f.to_string(), c.to_string()))
}

/// Encodes a case file: per event, its position (varint) and its protobuf encoding (length-delimited).
pub fn encode_file(events: &[Effective]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.iter().map(|e| e.encoded.len() + 12).sum());
    for e in events {
        prost::encoding::encode_varint(e.position.0, &mut out);
        prost::encoding::encode_varint(e.encoded.len() as u64, &mut out);
        out.extend_from_slice(&e.encoded);
    }
    out
}

/// The protobuf encoding of events, as the views hold their case files.
pub const CODEC: beaconport_views::case::Codec =
    beaconport_views::case::Codec { decode: decode_event, encode: encode_event };

fn decode_event(bytes: &[u8]) -> Option<beaconport_domain::Event> {
    beaconport_proto::decode_stored(pb::event::Event::decode(bytes).ok()?).ok()
}

fn encode_event(e: &beaconport_domain::Event) -> Vec<u8> {
    beaconport_proto::event_to_pb(e).encode_to_vec()
}

fn decode_file(key: &CaseKey, mut bytes: &[u8]) -> Result<Vec<Effective>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let position = prost::encoding::decode_varint(&mut bytes).map_err(|_| corrupt_case(key))?;
        let len = prost::encoding::decode_varint(&mut bytes).map_err(|_| corrupt_case(key))? as usize;
        if len > bytes.len() {
            return Err(corrupt_case(key));
        }
        let encoded = bytes::Bytes::copy_from_slice(&bytes[..len]);
        bytes = &bytes[len..];
        let id = pb::event::Event::decode(encoded.as_ref())
            .ok()
            .and_then(|e| e.event_id.parse::<uuid::Uuid>().ok())
            .ok_or_else(|| corrupt_case(key))?;
        out.push(Effective { position: Position(position), id: beaconport_domain::EventId(id), encoded });
    }
    Ok(out)
}

/// Decodes a stored resolution-model event; the error says why it is not one.
pub fn decode_model_event(bytes: &[u8]) -> std::result::Result<Event, String> {
    let event = beaconport_proto::decode_stored_bytes(bytes)?;
    match event.body {
        Body::ResolutionModelEstimated(_) => Ok(event),
        _ => Err(format!("is a {} event, not a resolution model", event.body.kind().name())),
    }
}

/// Reads a model written by [`write_model_file`] (`beaconport model export`).
pub fn read_model_file(path: &Path) -> Result<beaconport_domain::resolution::Model> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Storage(format!("views.model_file: reading {}: {e}", path.display())))?;
    let body = bytes.strip_prefix(MODEL_FILE_MAGIC).ok_or_else(|| {
        Error::Corrupt(format!("views.model_file: {} is not a Beaconport model file", path.display()))
    })?;
    match decode_model_event(body) {
        Ok(Event { body: Body::ResolutionModelEstimated(r), .. }) => Ok(r.model),
        Ok(_) => unreachable!("decode_model_event gives model events only"),
        Err(why) => Err(Error::Corrupt(format!("views.model_file: {}: {why}", path.display()))),
    }
}

/// Writes a model's stored event (as [`Store::model_event`] gives it) for [`read_model_file`].
pub fn write_model_file(path: &Path, event: &[u8]) -> Result<()> {
    let mut bytes = MODEL_FILE_MAGIC.to_vec();
    bytes.extend_from_slice(event);
    std::fs::write(path, bytes).map_err(|e| Error::Storage(format!("writing {}: {e}", path.display())))
}

/// Starts a model file.
const MODEL_FILE_MAGIC: &[u8] = b"beaconport resolution model v2\n";

fn storage(e: sled::Error) -> Error {
    Error::Storage(e.to_string())
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("stored views: {what} does not decode"))
}

fn corrupt_case(key: &CaseKey) -> Error {
    Error::Corrupt(format!("stored views: case file {}/{} does not decode", key.0, key.1))
}
