//! Offline verification of a data directory against a tree head saved earlier: recompute every
//! leaf from the stored bytes, rebuild the root, and name the first position that differs.
//!
//! The verifier trusts nothing it reads. It works on a copy of the directory (opening a sled
//! database writes to it, and a damaged one is "recovered" by dropping what follows the damage),
//! checks every block's positions, checksum and each record against its stored leaf hash and the
//! leaf hash the id index recorded at ingest, and when the storage engine shows fewer events than
//! the head covers, reads the raw files for the block holding the first missing position to say
//! which event's bytes were altered.

use std::path::{Path, PathBuf};

use beaconport_log::merkle::{Hash, RootBuilder};
use beaconport_log::{Error, EventId, Result};

use crate::{key_pos, Options, BLOCK_MAGIC, HEADER, HEADER_V1, INDEX_ENTRY, INDEX_TREE};

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Events the directory holds (as its storage engine reads them).
    pub events: u64,
    /// The root recomputed from the stored bytes of the first `size` events, if there are that many.
    pub root: Option<Hash>,
    /// The first position whose stored event is not what was signed, and why.
    pub first_difference: Option<(u64, String)>,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.first_difference.is_none()
    }
}

/// Verifies the log in `dir` against a tree of `size` events with root `root`.
pub fn verify(dir: &Path, size: u64, root: &Hash) -> Result<Report> {
    let copy = tempfile::tempdir().map_err(|e| Error::Storage(format!("making a working copy: {e}")))?;
    copy_dir(dir, copy.path())?;
    let options = Options::new(copy.path());
    let db = match sled::Config::new().path(copy.path()).segment_size(options.segment_bytes).flush_every_ms(None).open()
    {
        Ok(db) => db,
        Err(e) => {
            // The storage engine refuses the directory: the raw files are all there is to read.
            let found = find_in_raw_files(dir, 0)?;
            return Ok(Report {
                events: 0,
                root: None,
                first_difference: Some(found.unwrap_or((0, format!("the storage engine cannot open it: {e}")))),
            });
        }
    };
    let blocks = db.open_tree("blocks").map_err(|e| Error::Storage(e.to_string()))?;
    let chunks = db.open_tree(INDEX_TREE).map_err(|e| Error::Storage(e.to_string()))?;
    let mut indexed: Vec<Hash> = Vec::new();
    for item in chunks.iter() {
        let (k, v) = item.map_err(|e| Error::Storage(e.to_string()))?;
        if key_pos(&k)? != indexed.len() as u64 || v.len() % INDEX_ENTRY != 0 {
            break;
        }
        indexed.extend(v.chunks_exact(INDEX_ENTRY).map(|e| <Hash>::try_from(&e[24..]).expect("32")));
    }

    let mut builder = RootBuilder::new();
    let mut next = 0u64;
    let mut problem: Option<(u64, String)> = None;
    for item in blocks.iter() {
        let (k, v) = item.map_err(|e| Error::Storage(e.to_string()))?;
        let first = key_pos(&k)?;
        if first != next {
            problem.get_or_insert((next, format!("events {next} to {} are missing", first.saturating_sub(1))));
            break;
        }
        let parsed = parse_lenient(&v);
        for (i, r) in parsed.records.iter().enumerate() {
            let position = first + i as u64;
            let leaf = beaconport_log::leaf_hash(parsed.appended_at_ms, &r.id, &r.key, &r.payload);
            if problem.is_none() {
                if r.stored_leaf.is_some_and(|l| l != leaf) {
                    problem =
                        Some((position, "its stored bytes no longer match the leaf hash stored with them".into()));
                } else if indexed.get(position as usize).is_some_and(|l| *l != leaf) {
                    problem = Some((
                        position,
                        "its stored bytes match neither the leaf hash the id index recorded when it was appended"
                            .into(),
                    ));
                }
            }
            if position < size {
                builder.push(leaf);
            }
        }
        next = first + parsed.records.len() as u64;
        if let Some(why) = parsed.error {
            problem.get_or_insert((next, why));
            break;
        }
        if !parsed.checksum_ok {
            problem.get_or_insert((first, "the block's checksum or header was altered".into()));
        }
    }
    let events = next;
    if problem.is_none() && events < size {
        // The engine shows fewer events than were signed: find the damage in the raw files.
        let found = find_in_raw_files(dir, events)?;
        problem = Some(found.unwrap_or((
            events,
            format!("the log holds {events} events but the signed head covers {size}: the rest are missing"),
        )));
    }
    let recomputed = (builder.len() == size).then(|| builder.root());
    if problem.is_none() && recomputed.as_ref() != Some(root) {
        problem = Some((
            0,
            "the stored events do not hash to the signed root, yet each matches its stored hashes: history was \
             rewritten together with its hashes; compare with an earlier signed head to narrow it down"
                .into(),
        ));
    }
    Ok(Report { events, root: recomputed, first_difference: problem })
}

struct RawRecord {
    id: EventId,
    key: String,
    payload: Vec<u8>,
    stored_leaf: Option<Hash>,
}

struct Parsed {
    appended_at_ms: i64,
    records: Vec<RawRecord>,
    checksum_ok: bool,
    /// Why parsing stopped before the block's count of records.
    error: Option<String>,
}

/// Parses a block without trusting its checksum: as many records as can be read.
fn parse_lenient(v: &[u8]) -> Parsed {
    let mut out = Parsed { appended_at_ms: 0, records: Vec::new(), checksum_ok: false, error: None };
    if v.len() < HEADER_V1 + 4 {
        out.error = Some("block too short".into());
        return out;
    }
    let (body, crc) = v.split_at(v.len() - 4);
    out.checksum_ok = crc32fast::hash(body) == u32::from_le_bytes(crc.try_into().expect("4"));
    let (records, error) = parse_records(v);
    out.appended_at_ms = i64::from_le_bytes(v[5..13].try_into().expect("8"));
    out.records = records;
    out.error = error;
    out
}

/// Reads the records of a block starting at `v[0]` (extra bytes after it are ignored).
fn parse_records(v: &[u8]) -> (Vec<RawRecord>, Option<String>) {
    let version = v[0];
    let count = u32::from_le_bytes(v[1..5].try_into().expect("4")) as usize;
    let mut at = if version >= 2 { HEADER } else { HEADER_V1 };
    let mut records = Vec::new();
    let take = |at: &mut usize, n: usize| -> Option<Vec<u8>> {
        let s = v.get(*at..*at + n)?.to_vec();
        *at += n;
        Some(s)
    };
    for _ in 0..count {
        let parsed = (|| {
            let id = EventId::from_bytes(take(&mut at, 16)?.try_into().ok()?);
            take(&mut at, 8)?;
            let stored_leaf = if version >= 2 { Some(take(&mut at, 32)?.try_into().ok()?) } else { None };
            let key_len = u16::from_le_bytes(take(&mut at, 2)?.try_into().ok()?) as usize;
            let key = String::from_utf8(take(&mut at, key_len)?).ok()?;
            let len = u32::from_le_bytes(take(&mut at, 4)?.try_into().ok()?) as usize;
            let payload = take(&mut at, len)?;
            Some(RawRecord { id, key, payload, stored_leaf })
        })();
        match parsed {
            Some(r) => records.push(r),
            None => return (records, Some("its record framing was altered (lengths or key)".into())),
        }
    }
    (records, None)
}

/// Looks through the raw files of `dir` for copies of blocks holding events from `position` on and
/// returns the first record in them whose bytes do not match its stored leaf hash (or whose
/// framing is broken).
fn find_in_raw_files(dir: &Path, position: u64) -> Result<Option<(u64, String)>> {
    let mut files = vec![dir.join("db")];
    if let Ok(blobs) = std::fs::read_dir(dir.join("blobs")) {
        files.extend(blobs.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    let mut found: Option<(u64, String)> = None;
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else { continue };
        let mut from = 0;
        while let Some(i) = find(&bytes[from..], BLOCK_MAGIC) {
            let magic_at = from + i;
            from = magic_at + 1;
            let Some(start) = magic_at.checked_sub(HEADER_V1) else { continue };
            let v = &bytes[start..];
            if v.len() < HEADER || v[0] != 2 {
                continue;
            }
            let first = u64::from_le_bytes(v[HEADER_V1 + 4..HEADER].try_into().expect("8"));
            let count = u32::from_le_bytes(v[1..5].try_into().expect("4")) as u64;
            if first + count <= position {
                continue;
            }
            let at_ms = i64::from_le_bytes(v[5..13].try_into().expect("8"));
            let (records, error) = parse_records(v);
            for (i, r) in records.iter().enumerate() {
                let leaf = beaconport_log::leaf_hash(at_ms, &r.id, &r.key, &r.payload);
                if r.stored_leaf.is_some_and(|l| l != leaf) {
                    let p = first + i as u64;
                    let why = "its stored bytes no longer match their leaf hash (found in the raw files: the storage \
                               engine drops or refuses what it cannot read)"
                        .to_string();
                    if found.as_ref().is_none_or(|(q, _)| p < *q) {
                        found = Some((p, why));
                    }
                }
            }
            if let (Some(why), None) = (error, &found) {
                found = Some((first + records.len() as u64, why));
            }
        }
    }
    Ok(found)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let io = |p: &PathBuf, e: std::io::Error| Error::Storage(format!("copying {}: {e}", p.display()));
    for entry in std::fs::read_dir(from).map_err(|e| io(&from.to_path_buf(), e))? {
        let entry = entry.map_err(|e| io(&from.to_path_buf(), e))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| io(&target, e))?;
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| io(&path, e))?;
        }
    }
    Ok(())
}

/// Copies a directory (tests that damage a copy).
#[doc(hidden)]
pub fn copy_dir_for_tests(from: &Path, to: &Path) {
    copy_dir(from, to).expect("copy");
}
