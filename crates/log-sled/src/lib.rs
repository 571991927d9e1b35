//! The embedded [`EventLog`] backend, on sled.
//!
//! **Layout.** Events are stored in *blocks*: one sled entry holds a run of consecutive events
//! (about `block_bytes` of them), keyed by the position of its first event (big-endian, so sled's
//! order is log order). One entry per event would cap ingest at sled's per-entry rate (about
//! 100,000 entries/s here); blocks make the per-event cost a memcpy. Each block carries a CRC-32
//! so that damage is reported with its position rather than decoded as nonsense.
//!
//! **Group commit.** One writer thread owns all writes. Publishers send their batches over a
//! channel; the writer takes every batch waiting (up to `max_group_bytes`), checks ids, packs
//! the new events into blocks, applies them in one atomic sled batch and calls `flush()` (fsync)
//! once for the whole group, then acknowledges each publisher. Concurrent publishers share
//! flushes, and no acknowledgement precedes its fsync.
//!
//! **Idempotency index.** `event id -> (position, content hash)` for every stored event is held in
//! memory (about 50 bytes per event: 50 MB per million events) and checked by the writer before
//! positions are assigned. It is persisted as *index chunks*: one sled entry per `index_chunk`
//! consecutive positions, holding their ids, content hashes and leaf hashes packed (56 bytes per
//! event), written by a separate indexer thread off the acknowledgement path. On open, the chunks are loaded and the
//! blocks after the last chunk are scanned, so the index after a crash is never missing an
//! acknowledged id and never ahead of the blocks. A sled entry per id was tried first: sled's
//! cost per random key (over 10 µs here) capped ingest near 60,000 events/s.
//!
//! **Tamper evidence.** Each record in a block carries its leaf hash (see `beaconport_log`'s
//! `leaf_input`), computed by the writer; the Merkle tree over all leaves is held in memory
//! (about 64 bytes per event) and extended after each flush, before the new head is announced.
//! On open it is rebuilt from the index chunks and the blocks after them. The stored leaf hash
//! lets an offline verifier name the exact position whose bytes no longer match it.
//!
//! **Replicas.** A process that keeps a local copy of another log (the Kafka backend's replica
//! of its topic) appends with [`SledLog::append_replicated`]: each record keeps the time the
//! source appended it (so every replica computes the same leaf hashes), ids already stored are
//! skipped instead of failing the batch, and the replica's position in the source is stored in
//! the same atomic sled transaction as the events ([`SledLog::replicated_source`] reads it back).
//!
//! Must not depend on other backends nor on gRPC.

pub mod verify;

use std::collections::{HashMap, VecDeque};

/// A map keyed by event id, hashed with foldhash (seeded per process): the writer looks every
/// appended id up, and SipHash was a tenth of its time.
type IdMap<V> = HashMap<EventId, V, foldhash::fast::RandomState>;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use async_trait::async_trait;
use beaconport_log::merkle::Hash;
use beaconport_log::{content_hash, now_ms, Appended, Entry, Error, EventId, EventLog, Position, Record, Result};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{oneshot, watch};
use tracing::{debug, info, warn};

/// Blocks written now: each record carries its leaf hash. Version 1 blocks (without) are read.
const BLOCK_VERSION: u8 = 2;
/// Bytes per event in an index chunk: id (16), content hash (8) and leaf hash (32).
const INDEX_ENTRY: usize = 56;
/// The sled tree of index chunks (version 2: with leaf hashes; the version 1 tree is dropped).
const INDEX_TREE: &str = "index_chunks_v2";

/// How the embedded log is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory of the sled database.
    pub path: PathBuf,
    /// sled's page cache, in bytes.
    pub cache_bytes: u64,
    /// Target size of one block of events, in bytes.
    pub block_bytes: usize,
    /// Most bytes of batches committed by one flush.
    pub max_group_bytes: usize,
    /// Events per persisted chunk of the id index.
    pub index_chunk: usize,
    /// Largest accepted event, in bytes.
    pub max_record_bytes: usize,
    /// sled's log segment size (a power of two up to 16 MiB), fixed when the directory is
    /// created. sled writes any tree node larger than a quarter of a segment as a separate blob
    /// file, and a leaf holds up to 16 entries, so segments must be large for blocks to stay
    /// inline.
    pub segment_bytes: usize,
    /// Keep the tamper-evident tree. Off only to measure what it costs: without it the log
    /// serves no proofs and signs no heads.
    pub tamper_evidence: bool,
}

impl Options {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            cache_bytes: 256 << 20,
            block_bytes: 32 << 10,
            max_group_bytes: 16 << 20,
            index_chunk: 4096,
            max_record_bytes: 1 << 20,
            segment_bytes: 8 << 20,
            tamper_evidence: true,
        }
    }
}

/// Space and shape of the stored log, for operators and benchmarks.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub events: u64,
    pub blocks: u64,
    /// Bytes on disk of the whole sled database.
    pub disk_bytes: u64,
    /// Appends (batches) committed since the log was opened.
    pub appends: u64,
    /// Flushes (fsyncs) those appends took: fewer than appends when publishers shared flushes.
    pub flushes: u64,
}

struct Inner {
    db: sled::Db,
    blocks: sled::Tree,
    /// Persisted index chunks: first position (big-endian) -> packed (id, hash) per position.
    chunks: sled::Tree,
    /// Every stored id: id -> (position, content hash).
    index: RwLock<IdMap<(u64, u64)>>,
    /// Ids not yet in a persisted chunk, in position order.
    unindexed: Mutex<VecDeque<Unindexed>>,
    tree: Option<beaconport_log::Tree>,
    head: watch::Sender<Position>,
    /// A replica's position in its source log, stored with the events it copied.
    meta: sled::Tree,
    path: PathBuf,
    appends: std::sync::atomic::AtomicU64,
    flushes: std::sync::atomic::AtomicU64,
    /// Set when a flush failed: what is on disk is then unknown, so every later append fails
    /// (and the log reports it in its health).
    failed: std::sync::OnceLock<String>,
}

type Reply = oneshot::Sender<Result<Vec<Appended>>>;

struct Request {
    records: Vec<Record>,
    /// Per record, computed by the publisher's task rather than the single writer: the content
    /// hash (xxh3, to tell a retry from a reused id) and, with tamper evidence, the SHA-256 of
    /// the payload (the costly part of its leaf hash).
    hashes: Vec<u64>,
    digests: Vec<Hash>,
    /// A replica's copy: per record, when the source log appended it, and the replica's new
    /// position in the source (stored atomically with the records). Ids already stored are then
    /// skipped, whatever their content, instead of failing the request.
    replica: Option<(Vec<i64>, Vec<u8>)>,
    reply: Reply,
}

/// The sled tree of a replica's position in its source, and its one key.
const META_TREE: &str = "replica_meta";
const SOURCE_KEY: &[u8] = b"source";

/// The embedded log. Cheap to share behind an `Arc`; closing flushes and stops the writer.
pub struct SledLog {
    inner: Arc<Inner>,
    tx: Mutex<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    indexer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SledLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledLog").field("path", &self.inner.path).finish()
    }
}

fn storage(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("{context}: {e}"))
}

/// Opens sled's database at `path`. sled's I/O threads of a database closed a moment ago may
/// still hold the directory's lock: a lock refused is retried for a short while before it is
/// reported.
fn open_locked(config: &sled::Config, path: &std::path::Path) -> Result<sled::Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io)) if io.to_string().contains("lock") => {
                if std::time::Instant::now() >= deadline {
                    return Err(Error::Storage(format!(
                        "data directory {} is in use by another process (a running server?)",
                        path.display()
                    )));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(storage(&format!("opening {}", path.display()), e)),
        }
    }
}

impl SledLog {
    /// Opens (or creates) the log at `options.path`: loads the id index from its chunks and
    /// rebuilds the rest from the blocks after the last chunk.
    pub fn open(options: Options) -> Result<Self> {
        let config = sled::Config::new()
            .path(&options.path)
            .cache_capacity(options.cache_bytes)
            .segment_size(options.segment_bytes)
            .mode(sled::Mode::HighThroughput)
            // No background flusher: every group is flushed before it is acknowledged.
            .flush_every_ms(None);
        let db = open_locked(&config, &options.path)?;
        let blocks = db.open_tree("blocks").map_err(|e| storage("opening blocks", e))?;
        let chunks = db.open_tree(INDEX_TREE).map_err(|e| storage("opening index chunks", e))?;
        let meta = db.open_tree(META_TREE).map_err(|e| storage("opening the replica's source position", e))?;
        if db.tree_names().iter().any(|n| n.as_ref() == b"index_chunks") {
            // Version 1 chunks (no leaf hashes): derived data, rebuilt from the blocks.
            db.drop_tree("index_chunks").map_err(|e| storage("dropping the old id index", e))?;
        }
        let mut leaves: Vec<Hash> = Vec::new();
        let mut index = IdMap::default();
        let mut indexed_to = 0u64;
        for item in chunks.iter() {
            let (k, v) = item.map_err(|e| storage("loading the id index", e))?;
            let first = key_pos(&k)?;
            if first != indexed_to || v.len() % INDEX_ENTRY != 0 {
                // The index is derived: stop at a damaged or missing chunk and rebuild the rest
                // from the blocks, which are the truth.
                warn!(first, expected = indexed_to, "id index chunk out of sequence; rebuilding from the blocks");
                break;
            }
            for (i, e) in v.chunks_exact(INDEX_ENTRY).enumerate() {
                let id = EventId::from_bytes(e[..16].try_into().expect("16"));
                let hash = u64::from_le_bytes(e[16..24].try_into().expect("8"));
                index.insert(id, (first + i as u64, hash));
                leaves.push(e[24..].try_into().expect("32"));
            }
            indexed_to = first + (v.len() / INDEX_ENTRY) as u64;
        }
        let head = match blocks.last().map_err(|e| storage("reading last block", e))? {
            Some((k, v)) => {
                let first = key_pos(&k)?;
                let b = decode_block(first, &v)?;
                first + b.records.len() as u64
            }
            None => 0,
        };
        if indexed_to > head {
            return Err(Error::Corrupt {
                position: Position(head),
                reason: format!("the id index covers {indexed_to} events but the log holds {head}"),
            });
        }
        // The rest is rebuilt from the blocks, starting at the block holding `indexed_to`.
        let start = match blocks.range(..=indexed_to.to_be_bytes()).next_back() {
            Some(item) => item.map_err(|e| storage("scanning blocks", e))?.0.to_vec(),
            None => indexed_to.to_be_bytes().to_vec(),
        };
        let mut unindexed = VecDeque::new();
        for item in blocks.range(start..) {
            let (k, v) = item.map_err(|e| storage("scanning blocks", e))?;
            let first = key_pos(&k)?;
            for (i, r) in decode_block(first, &v)?.records.into_iter().enumerate() {
                let position = first + i as u64;
                if position >= indexed_to {
                    index.insert(r.id, (position, r.hash));
                    leaves.push(r.leaf);
                    unindexed.push_back(Unindexed { position, id: r.id, hash: r.hash, leaf: r.leaf });
                }
            }
        }
        info!(path = %options.path.display(), events = head, unindexed = unindexed.len(), "sled log opened");
        let tree = options.tamper_evidence.then(|| {
            let t = beaconport_log::Tree::default();
            t.extend(leaves);
            t
        });
        if let Some((size, root)) = read_checkpoint(&options.path)? {
            if size > head {
                return Err(Error::Corrupt {
                    position: Position(head),
                    reason: format!(
                        "the log had stored {size} events but now holds {head}: the storage engine dropped the rest \
                         (a damaged file?); run `beaconport verify` against a saved tree head and restore from a \
                         backup; nothing was written"
                    ),
                });
            }
            if let (Some(t), Some(root)) = (&tree, root) {
                if t.root(size).ok() != Some(root) {
                    return Err(Error::Corrupt {
                        position: Position(0),
                        reason: format!(
                            "the first {size} stored events no longer hash to the root checkpointed when they were \
                             stored: the log was altered; run `beaconport verify` to find where"
                        ),
                    });
                }
            }
        }
        let inner = Arc::new(Inner {
            tree,
            db,
            blocks,
            chunks,
            index: RwLock::new(index),
            unindexed: Mutex::new(unindexed),
            head: watch::channel(Position(head)).0,
            meta,
            path: options.path.clone(),
            appends: Default::default(),
            flushes: Default::default(),
            failed: Default::default(),
        });
        let (tx, rx) = mpsc::channel();
        let (nudge, nudged) = mpsc::channel();
        let indexer = Indexer { inner: inner.clone(), chunk: options.index_chunk.max(1) };
        let indexer = std::thread::Builder::new()
            .name("sled-log-indexer".into())
            .spawn(move || indexer.run(nudged))
            .map_err(|e| storage("starting indexer thread", e))?;
        let checkpointed = (std::time::Instant::now(), head);
        let writer = Writer { inner: inner.clone(), options, next: head, nudge, checkpointed };
        let handle = std::thread::Builder::new()
            .name("sled-log-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| storage("starting writer thread", e))?;
        Ok(Self {
            inner,
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            indexer: Mutex::new(Some(indexer)),
        })
    }

    /// Stops accepting appends, writes the id index and flushes; waits for the writer to finish.
    /// Appends already sent are committed first.
    pub fn close(&self) {
        self.tx.lock().take();
        // The writer drops its nudge sender when it stops, which stops the indexer after it
        // has written every remaining id.
        for (name, h) in [("writer", self.writer.lock().take()), ("indexer", self.indexer.lock().take())] {
            if let Some(h) = h {
                if h.join().is_err() {
                    warn!(thread = name, "sled log thread panicked");
                }
            }
        }
        if let Err(e) = self.inner.db.flush() {
            warn!(error = %e, "final flush of the sled log failed");
        }
    }

    /// Appends records copied from a source log (see "Replicas" above): `records` pairs each
    /// record with the time the source appended it, and `source` is the replica's new position in
    /// the source, stored in the same atomic transaction. A record whose id is already stored is
    /// skipped (its acknowledgement carries the stored position and `duplicate: true`), also when
    /// its content differs: the first copy stays, and [`lookup`](Self::lookup) tells the two apart.
    pub async fn append_replicated(&self, records: Vec<(Record, i64)>, source: Vec<u8>) -> Result<Vec<Appended>> {
        let (records, at): (Vec<Record>, Vec<i64>) = records.into_iter().unzip();
        self.send(records, Some((at, source))).await
    }

    /// Hands a request to the writer and waits for its answer. The hashes are computed here, by
    /// the publisher's task, not by the single writer.
    async fn send(&self, records: Vec<Record>, replica: Option<(Vec<i64>, Vec<u8>)>) -> Result<Vec<Appended>> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.lock().clone().ok_or(Error::Closed)?;
        let hashes = records.iter().map(|r| content_hash(&r.payload)).collect();
        let digests = if self.inner.tree.is_some() {
            records.iter().map(|r| beaconport_log::payload_digest(&r.payload)).collect()
        } else {
            Vec::new()
        };
        tx.send(Request { records, hashes, digests, replica, reply }).map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The replica's position in its source, as last stored by
    /// [`append_replicated`](Self::append_replicated); `None` before the first.
    pub fn replicated_source(&self) -> Result<Option<Vec<u8>>> {
        Ok(self
            .inner
            .meta
            .get(SOURCE_KEY)
            .map_err(|e| storage("reading the replica's source position", e))?
            .map(|v| v.to_vec()))
    }

    /// Where an id is stored and the content hash ([`content_hash`]) of what is stored there,
    /// from the in-memory index.
    pub fn lookup(&self, id: &EventId) -> Option<(Position, u64)> {
        self.inner.index.read().get(id).map(|&(p, h)| (Position(p), h))
    }

    /// Counts of events and blocks, and bytes on disk.
    pub fn stats(&self) -> Result<Stats> {
        Ok(Stats {
            events: self.head().0,
            blocks: self.inner.blocks.len() as u64,
            disk_bytes: self.inner.db.size_on_disk().map_err(|e| storage("measuring", e))?,
            appends: self.inner.appends.load(std::sync::atomic::Ordering::Relaxed),
            flushes: self.inner.flushes.load(std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Reads synchronously (the async trait methods run this on the blocking pool).
    fn read_blocking(inner: &Inner, from: Position, max: usize) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        let start = match inner.blocks.range(..=from.0.to_be_bytes()).next_back() {
            Some(item) => item.map_err(|e| storage("reading", e))?.0,
            None => return Ok(out),
        };
        for item in inner.blocks.range(start..) {
            let (k, v) = item.map_err(|e| storage("reading", e))?;
            let first = key_pos(&k)?;
            let block = decode_block(first, &v)?;
            for (i, r) in block.records.into_iter().enumerate() {
                let position = first + i as u64;
                if position < from.0 {
                    continue;
                }
                out.push(Entry {
                    position: Position(position),
                    id: r.id,
                    key: r.key,
                    appended_at_ms: block.appended_at_ms,
                    payload: r.payload,
                });
                if out.len() == max {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    fn position_of(inner: &Inner, id: &EventId) -> Result<Option<(u64, u64)>> {
        Ok(inner.index.read().get(id).copied())
    }

    /// The directory of the database.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

impl Drop for SledLog {
    fn drop(&mut self) {
        self.close();
    }
}

#[async_trait]
impl EventLog for SledLog {
    async fn append(&self, records: Vec<Record>) -> Result<Vec<Appended>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.send(records, None).await
    }

    async fn read(&self, from: Position, max: usize) -> Result<Vec<Entry>> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || Self::read_blocking(&inner, from, max))
            .await
            .map_err(|e| storage("read task", e))?
    }

    async fn get(&self, id: EventId) -> Result<Option<Entry>> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let Some((pos, _)) = Self::position_of(&inner, &id)? else { return Ok(None) };
            Ok(Self::read_blocking(&inner, Position(pos), 1)?.into_iter().next())
        })
        .await
        .map_err(|e| storage("get task", e))?
    }

    fn head(&self) -> Position {
        *self.inner.head.borrow()
    }

    fn subscribe(&self) -> watch::Receiver<Position> {
        self.inner.head.subscribe()
    }

    /// Group commit at work, counted since the log was opened: appends acknowledged, and the
    /// flushes they took (fewer than appends when concurrent publishers shared flushes).
    fn counters(&self) -> Vec<(&'static str, u64)> {
        use std::sync::atomic::Ordering::Relaxed;
        vec![("sled_appends", self.inner.appends.load(Relaxed)), ("sled_flushes", self.inner.flushes.load(Relaxed))]
    }

    fn tree(&self) -> Option<&beaconport_log::Tree> {
        self.inner.tree.as_ref()
    }

    /// A log whose write failed refuses every later append: not ready to take publishes.
    fn health(&self) -> std::result::Result<(), String> {
        match self.inner.failed.get() {
            Some(why) => Err(format!("the log refuses appends since a write failed: {why}")),
            None => Ok(()),
        }
    }
}

/// The single writer: group commit, blocks, id index.
struct Writer {
    inner: Arc<Inner>,
    options: Options,
    next: u64,
    /// Wakes the indexer when enough ids are waiting.
    nudge: mpsc::Sender<()>,
    /// When the last checkpoint was written, and the size it covered.
    checkpointed: (std::time::Instant, u64),
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Request>) {
        while let Ok(first) = rx.recv() {
            let mut bytes = request_bytes(&first);
            let mut group = vec![first];
            while bytes < self.options.max_group_bytes {
                match rx.try_recv() {
                    Ok(r) => {
                        bytes += request_bytes(&r);
                        group.push(r);
                    }
                    Err(_) => break,
                }
            }
            self.commit(group);
            if self.inner.unindexed.lock().len() >= self.options.index_chunk {
                let _ = self.nudge.send(());
            }
            if self.checkpointed.0.elapsed() >= CHECKPOINT_EVERY {
                self.checkpoint();
            }
        }
        self.checkpoint();
        debug!("sled log writer stopped");
    }

    /// Records the number of events stored (and the tree's root over them) outside sled, so
    /// that a reopen notices if sled's recovery drops stored events (it treats a damaged record
    /// as the end of its log) or if stored events no longer hash to what they did.
    fn checkpoint(&mut self) {
        if self.inner.failed.get().is_some() || self.next == self.checkpointed.1 {
            return;
        }
        let root = self.inner.tree.as_ref().and_then(|t| t.root(self.next).ok());
        match write_checkpoint(&self.inner.path, self.next, root) {
            Ok(()) => self.checkpointed = (std::time::Instant::now(), self.next),
            Err(e) => warn!(error = %e, "writing the log's checkpoint failed; retried at the next commit"),
        }
    }

    fn commit(&mut self, group: Vec<Request>) {
        if let Some(f) = self.inner.failed.get() {
            for r in group {
                let _ = r.reply.send(Err(Error::Storage(f.clone())));
            }
            return;
        }
        // Sized for the whole group up front: grown entry by entry, the maps rehashed about
        // ten times per group.
        let events: usize = group.iter().map(|r| r.records.len()).sum();
        let mut staged: IdMap<(u64, u64, Hash)> = IdMap::with_capacity_and_hasher(events, Default::default());
        let mut results: Vec<(Reply, Result<Vec<Appended>>)> = Vec::new();
        let at_ms = now_ms();
        let mut blocks = BlockBuilder::new(self.next, self.options.block_bytes, at_ms);
        let mut leaves = Vec::new();
        let mut source = None;
        {
            let index = self.inner.index.read();
            for req in group {
                let (times, from_source) = req.replica.unzip();
                let checked = self.check(&req.records, &req.hashes, &index, &staged, times.is_some());
                if checked.is_ok() && from_source.is_some() {
                    source = from_source;
                }
                match checked {
                    Ok(acks) => {
                        for (i, (r, a)) in req.records.into_iter().zip(&acks).enumerate() {
                            if !a.duplicate {
                                let h = req.hashes[i];
                                let at = times.as_ref().and_then(|t| t.get(i).copied()).unwrap_or(at_ms);
                                let leaf = match req.digests.get(i) {
                                    Some(d) => beaconport_log::leaf_hash_of_digest(at, &r.id, &r.key, d),
                                    None => [0; 32],
                                };
                                staged.insert(r.id, (a.position.0, h, leaf));
                                leaves.push(leaf);
                                blocks.push(r, h, &leaf, at);
                                self.next += 1;
                            }
                        }
                        results.push((req.reply, Ok(acks)));
                    }
                    Err(e) => results.push((req.reply, Err(e))),
                }
            }
        }
        let built = blocks.finish();
        if !built.is_empty() || source.is_some() {
            let outcome = match &source {
                None => {
                    let mut batch = sled::Batch::default();
                    for (first, bytes) in built {
                        batch.insert(&first.to_be_bytes(), bytes);
                    }
                    self.inner.blocks.apply_batch(batch)
                }
                Some(source) => {
                    use sled::Transactional as _;
                    (&self.inner.blocks, &self.inner.meta)
                        .transaction(|(b, m)| {
                            for (first, bytes) in &built {
                                b.insert(&first.to_be_bytes(), bytes.as_slice())?;
                            }
                            m.insert(SOURCE_KEY, source.as_slice())?;
                            Ok(())
                        })
                        .map_err(|e: sled::transaction::TransactionError| match e {
                            sled::transaction::TransactionError::Storage(e) => e,
                            sled::transaction::TransactionError::Abort(_) => {
                                sled::Error::Unsupported("replica transaction aborted".into())
                            }
                        })
                }
            }
            .and_then(|()| self.inner.db.flush().map(|_| ()));
            if let Err(e) = outcome {
                let msg = format!("appending to {}: {e}", self.inner.path.display());
                warn!(error = %e, "sled append failed; the log refuses further appends");
                let _ = self.inner.failed.set(msg.clone());
                for (reply, res) in results {
                    let _ = reply.send(res.and(Err(Error::Storage(msg.clone()))));
                }
                return;
            }
            {
                let mut unindexed = self.inner.unindexed.lock();
                let mut order: Vec<Unindexed> = staged
                    .iter()
                    .map(|(id, (p, h, l))| Unindexed { position: *p, id: *id, hash: *h, leaf: *l })
                    .collect();
                order.sort_unstable_by_key(|x| x.position);
                unindexed.extend(order);
                self.inner.index.write().extend(staged.into_iter().map(|(id, (p, h, _))| (id, (p, h))));
            }
            if let Some(tree) = &self.inner.tree {
                tree.extend(leaves);
            }
            self.inner.head.send_replace(Position(self.next));
            self.inner.flushes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let ok = results.iter().filter(|(_, r)| r.is_ok()).count() as u64;
            self.inner.appends.fetch_add(ok, std::sync::atomic::Ordering::Relaxed);
        }
        for (reply, res) in results {
            // A publisher that went away still had its batch stored: a retry is a duplicate.
            let _ = reply.send(res);
        }
    }

    /// Assigns positions to one request without changing anything: all or nothing.
    fn check(
        &self,
        records: &[Record],
        hashes: &[u64],
        index: &IdMap<(u64, u64)>,
        staged: &IdMap<(u64, u64, Hash)>,
        lenient: bool,
    ) -> Result<Vec<Appended>> {
        let mut local: IdMap<(u64, u64)> = IdMap::with_capacity_and_hasher(records.len(), Default::default());
        let mut next = self.next;
        let mut acks = Vec::with_capacity(records.len());
        for (r, &h) in records.iter().zip(hashes) {
            if r.payload.len() > self.options.max_record_bytes {
                return Err(Error::TooLarge { id: r.id, size: r.payload.len(), max: self.options.max_record_bytes });
            }
            let found = local
                .get(&r.id)
                .copied()
                .or_else(|| staged.get(&r.id).map(|&(p, h, _)| (p, h)))
                .or_else(|| index.get(&r.id).copied());
            match found {
                Some((position, hash)) if hash == h => {
                    acks.push(Appended { position: Position(position), duplicate: true })
                }
                Some((position, _)) if lenient => {
                    warn!(id = %r.id, position, "the source holds this id twice with different content; the first copy stays");
                    acks.push(Appended { position: Position(position), duplicate: true })
                }
                Some((position, _)) => return Err(Error::Conflict { id: r.id, position: Position(position) }),
                None => {
                    local.insert(r.id, (next, h));
                    acks.push(Appended { position: Position(next), duplicate: false });
                    next += 1;
                }
            }
        }
        Ok(acks)
    }
}

/// Persists the in-memory index as chunks of `chunk` consecutive positions, off the
/// acknowledgement path. Only full chunks are written (a chunk is never rewritten); the partial
/// tail is rebuilt from the blocks on open. Not flushed here: the blocks are the durable truth,
/// and a chunk lost in a crash is rebuilt from them.
struct Indexer {
    inner: Arc<Inner>,
    chunk: usize,
}

impl Indexer {
    fn run(self, nudged: mpsc::Receiver<()>) {
        // Ends when the writer stops (its sender is dropped), after writing every full chunk.
        loop {
            let stop = matches!(nudged.recv(), Err(mpsc::RecvError));
            while self.inner.unindexed.lock().len() >= self.chunk {
                if !self.write_chunk() {
                    break;
                }
            }
            if stop {
                return;
            }
        }
    }

    /// Writes the next full chunk; false if writing failed (the ids stay queued).
    fn write_chunk(&self) -> bool {
        let entries: Vec<Unindexed> = self.inner.unindexed.lock().iter().take(self.chunk).copied().collect();
        let Some(first) = entries.first().map(|e| e.position) else { return true };
        let mut value = Vec::with_capacity(entries.len() * INDEX_ENTRY);
        for e in &entries {
            value.extend_from_slice(e.id.as_bytes());
            value.extend_from_slice(&e.hash.to_le_bytes());
            value.extend_from_slice(&e.leaf);
        }
        match self.inner.chunks.insert(first.to_be_bytes(), value) {
            Ok(_) => {
                self.inner.unindexed.lock().drain(..entries.len());
                debug!(first, n = entries.len(), "id index chunk written");
                true
            }
            Err(e) => {
                warn!(error = %e, "writing an id index chunk failed; it stays in memory");
                false
            }
        }
    }
}

/// An id not yet in a persisted index chunk.
#[derive(Debug, Clone, Copy)]
struct Unindexed {
    position: u64,
    id: EventId,
    hash: u64,
    leaf: Hash,
}

/// How often the writer records its checkpoint (at most; only when events were added).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// The checkpoint file, beside sled's own files.
const CHECKPOINT_FILE: &str = "beaconport-checkpoint";

/// Writes the checkpoint atomically (a new file renamed over the old one, both synced).
fn write_checkpoint(dir: &Path, size: u64, root: Option<Hash>) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!("{CHECKPOINT_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    let root = root.map(|r| r.iter().map(|b| format!("{b:02x}")).collect::<String>()).unwrap_or_default();
    write!(f, "beaconport checkpoint v1\nevents {size}\nroot {root}\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(CHECKPOINT_FILE))?;
    std::fs::File::open(dir)?.sync_all()
}

/// Reads the checkpoint, if there is one: (events, root).
fn read_checkpoint(dir: &Path) -> Result<Option<(u64, Option<Hash>)>> {
    let path = dir.join(CHECKPOINT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(storage(&format!("reading {}", path.display()), e)),
    };
    let bad = || Error::Corrupt { position: Position(0), reason: format!("{} is not a checkpoint", path.display()) };
    let mut lines = text.lines();
    if lines.next() != Some("beaconport checkpoint v1") {
        return Err(bad());
    }
    let size = lines.next().and_then(|l| l.strip_prefix("events ")).and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    let root = match lines.next().and_then(|l| l.strip_prefix("root ")) {
        Some("") => None,
        Some(hex) if hex.len() == 64 => {
            let mut r = [0u8; 32];
            for (i, b) in r.iter_mut().enumerate() {
                *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
            }
            Some(r)
        }
        _ => return Err(bad()),
    };
    Ok(Some((size, root)))
}

fn request_bytes(r: &Request) -> usize {
    r.records.iter().map(|x| x.payload.len() + x.key.len() + 32).sum()
}

fn key_pos(k: &[u8]) -> Result<u64> {
    Ok(u64::from_be_bytes(
        k.try_into()
            .map_err(|_| Error::Corrupt { position: Position(0), reason: format!("block key of {} bytes", k.len()) })?,
    ))
}

/// Packs records into blocks of about `target` bytes.
struct BlockBuilder {
    target: usize,
    at_ms: i64,
    first: u64,
    count: u32,
    buf: Vec<u8>,
    done: Vec<(u64, Vec<u8>)>,
}

/// Block header: version, count (u32 LE), appended_at_ms (i64 LE); from version 2 also
/// [`BLOCK_MAGIC`] and the first position (u64 LE), so that a verifier reading the raw files can
/// find and place a block whatever the storage engine makes of its own damaged records.
const HEADER_V1: usize = 1 + 4 + 8;
const HEADER: usize = HEADER_V1 + 4 + 8;
/// Marks a version 2 block in raw files.
pub const BLOCK_MAGIC: &[u8; 4] = b"BPLB";

impl BlockBuilder {
    fn new(first: u64, target: usize, at_ms: i64) -> Self {
        let mut b = Self { target, at_ms, first, count: 0, buf: Vec::new(), done: Vec::new() };
        b.start();
        b
    }

    fn start(&mut self) {
        self.buf = Vec::with_capacity(self.target + 1024);
        self.buf.push(BLOCK_VERSION);
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        self.buf.extend_from_slice(&self.at_ms.to_le_bytes());
        self.buf.extend_from_slice(BLOCK_MAGIC);
        self.buf.extend_from_slice(&self.first.to_le_bytes());
    }

    /// Adds a record appended at `at_ms`: a block holds records of one time, so a record of
    /// another time starts a new block.
    fn push(&mut self, r: Record, hash: u64, leaf: &Hash, at_ms: i64) {
        if at_ms != self.at_ms {
            self.seal();
            self.at_ms = at_ms;
            self.buf[5..13].copy_from_slice(&at_ms.to_le_bytes());
        }
        let key = r.key.as_bytes();
        let key_len = u16::try_from(key.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(r.id.as_bytes());
        self.buf.extend_from_slice(&hash.to_le_bytes());
        self.buf.extend_from_slice(leaf);
        self.buf.extend_from_slice(&key_len.to_le_bytes());
        self.buf.extend_from_slice(&key[..key_len as usize]);
        self.buf.extend_from_slice(&(r.payload.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&r.payload);
        self.count += 1;
        if self.buf.len() >= self.target {
            self.seal();
        }
    }

    fn seal(&mut self) {
        if self.count == 0 {
            return;
        }
        self.buf[1..5].copy_from_slice(&self.count.to_le_bytes());
        let crc = crc32fast::hash(&self.buf);
        self.buf.extend_from_slice(&crc.to_le_bytes());
        let done = std::mem::take(&mut self.buf);
        self.done.push((self.first, done));
        self.first += u64::from(self.count);
        self.count = 0;
        self.start();
    }

    fn finish(mut self) -> Vec<(u64, Vec<u8>)> {
        self.seal();
        self.done
    }
}

struct StoredRecord {
    id: EventId,
    hash: u64,
    /// The leaf hash stored with the record (version 2), or computed from it (version 1).
    leaf: Hash,
    key: String,
    payload: Bytes,
}

struct Block {
    appended_at_ms: i64,
    records: Vec<StoredRecord>,
}

fn decode_block(first: u64, v: &[u8]) -> Result<Block> {
    let corrupt = |reason: String| Error::Corrupt { position: Position(first), reason };
    if v.len() < HEADER_V1 + 4 {
        return Err(corrupt(format!("block of {} bytes is too short", v.len())));
    }
    let (body, crc) = v.split_at(v.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4")) {
        return Err(corrupt("block checksum mismatch".into()));
    }
    let version = body[0];
    if version != 1 && version != BLOCK_VERSION {
        return Err(corrupt(format!("unknown block version {version}")));
    }
    let count = u32::from_le_bytes(body[1..5].try_into().expect("4")) as usize;
    let appended_at_ms = i64::from_le_bytes(body[5..13].try_into().expect("8"));
    let mut records = Vec::with_capacity(count);
    let mut at = HEADER_V1;
    if version >= 2 {
        let header = body.get(HEADER_V1..HEADER).ok_or_else(|| corrupt("block header truncated".into()))?;
        if &header[..4] != BLOCK_MAGIC || u64::from_le_bytes(header[4..].try_into().expect("8")) != first {
            return Err(corrupt("block header names another position".into()));
        }
        at = HEADER;
    }
    let take = |at: &mut usize, n: usize| -> Result<&[u8]> {
        let s = body.get(*at..*at + n).ok_or_else(|| corrupt("block truncated".into()))?;
        *at += n;
        Ok(s)
    };
    for _ in 0..count {
        let id = EventId::from_bytes(take(&mut at, 16)?.try_into().expect("16"));
        let hash = u64::from_le_bytes(take(&mut at, 8)?.try_into().expect("8"));
        let stored_leaf: Option<Hash> =
            if version >= 2 { Some(take(&mut at, 32)?.try_into().expect("32")) } else { None };
        let key_len = u16::from_le_bytes(take(&mut at, 2)?.try_into().expect("2")) as usize;
        let key =
            String::from_utf8(take(&mut at, key_len)?.to_vec()).map_err(|_| corrupt("key is not UTF-8".into()))?;
        let len = u32::from_le_bytes(take(&mut at, 4)?.try_into().expect("4")) as usize;
        let payload = Bytes::copy_from_slice(take(&mut at, len)?);
        let leaf = stored_leaf.unwrap_or_else(|| beaconport_log::leaf_hash(appended_at_ms, &id, &key, &payload));
        records.push(StoredRecord { id, hash, leaf, key, payload });
    }
    if at != body.len() {
        return Err(corrupt("trailing bytes in block".into()));
    }
    Ok(Block { appended_at_ms, records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use beaconport_log::conformance::Harness;

    struct SledHarness {
        dir: tempfile::TempDir,
        log: Option<Arc<SledLog>>,
        n: usize,
    }

    impl SledHarness {
        fn new() -> Self {
            Self { dir: tempfile::tempdir().unwrap(), log: None, n: 0 }
        }
        fn options(&self) -> Options {
            let mut o = Options::new(self.dir.path().join(format!("log{}", self.n)));
            // Small blocks and a small index interval, so tests cross block and index boundaries.
            o.block_bytes = 256;
            o.index_chunk = 16;
            o
        }
        fn close_current(&mut self) {
            if let Some(log) = self.log.take() {
                log.close();
                // Other clones (spawned tasks) may still hold it; wait until ours is the last.
                let mut log = log;
                loop {
                    match Arc::try_unwrap(log) {
                        Ok(l) => {
                            drop(l);
                            break;
                        }
                        Err(l) => {
                            log = l;
                            std::thread::sleep(std::time::Duration::from_millis(5));
                        }
                    }
                }
            }
        }
    }

    #[async_trait]
    impl Harness for SledHarness {
        async fn fresh(&mut self) -> Arc<dyn EventLog> {
            self.close_current();
            self.n += 1;
            let log = Arc::new(SledLog::open(self.options()).unwrap());
            self.log = Some(log.clone());
            log
        }
        async fn restart(&mut self) -> Arc<dyn EventLog> {
            self.close_current();
            let log = Arc::new(SledLog::open(self.options()).unwrap());
            self.log = Some(log.clone());
            log
        }
    }

    beaconport_log::conformance_tests!(SledHarness::new());

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_replica_keeps_source_times_skips_copies_and_stores_its_source_position_with_them() {
        use beaconport_log::conformance::record;
        let dir = tempfile::tempdir().unwrap();
        let a = record("GMP/1", "a");
        let b = record("GMP/1", "b");
        let mut b_other = b.clone();
        b_other.payload = Bytes::from_static(b"other content");
        {
            let log = SledLog::open(Options::new(dir.path())).unwrap();
            assert_eq!(log.replicated_source().unwrap(), None);
            let acks =
                log.append_replicated(vec![(a.clone(), 1_000), (b.clone(), 2_000)], b"s1".to_vec()).await.unwrap();
            assert_eq!(
                acks.iter().map(|x| (x.position.0, x.duplicate)).collect::<Vec<_>>(),
                vec![(0, false), (1, false)]
            );
            // A second copy (same or other content) is skipped, and the source position still moves.
            let acks = log
                .append_replicated(vec![(a.clone(), 3_000), (b_other.clone(), 3_000)], b"s2".to_vec())
                .await
                .unwrap();
            assert!(acks.iter().all(|x| x.duplicate));
            assert_eq!(log.head(), Position(2));
            assert_eq!(log.replicated_source().unwrap().as_deref(), Some(&b"s2"[..]));
            assert_eq!(log.lookup(&b.id), Some((Position(1), content_hash(&b.payload))));
            log.close();
        }
        let log = SledLog::open(Options::new(dir.path())).unwrap();
        assert_eq!(log.replicated_source().unwrap().as_deref(), Some(&b"s2"[..]));
        let all = log.read(Position(0), 10).await.unwrap();
        assert_eq!(
            all.iter().map(|e| (e.appended_at_ms, e.payload.clone())).collect::<Vec<_>>(),
            vec![(1_000, a.payload.clone()), (2_000, b.payload.clone())]
        );
        let tree = log.tree().unwrap();
        assert_eq!(tree.leaf(Position(1)), Some(all[1].leaf_hash()), "the leaf is computed with the source's time");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lost_index_chunk_is_rebuilt_from_the_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = Options::new(dir.path());
        options.index_chunk = 16;
        options.block_bytes = 256;
        let records: Vec<Record> =
            (0..100).map(|i| beaconport_log::conformance::record("K/1", &format!("event {i}"))).collect();
        {
            let log = SledLog::open(options.clone()).unwrap();
            log.append(records.clone()).await.unwrap();
            log.close();
        }
        {
            // Damage: the second chunk disappears.
            let config = sled::Config::new().path(dir.path()).segment_size(options.segment_bytes).flush_every_ms(None);
            // The log closed a moment ago: its I/O threads may still hold the lock.
            let db = open_locked(&config, dir.path()).unwrap();
            let chunks = db.open_tree(INDEX_TREE).unwrap();
            assert!(chunks.len() >= 6, "{} chunks", chunks.len());
            chunks.remove(16u64.to_be_bytes()).unwrap().expect("chunk at 16");
            db.flush().unwrap();
        }
        let log = SledLog::open(options).unwrap();
        let again = log.append(records.clone()).await.unwrap();
        assert!(again.iter().enumerate().all(|(i, a)| a.duplicate && a.position == Position(i as u64)));
        assert_eq!(log.head(), Position(100));
        assert_eq!(log.get(records[20].id).await.unwrap().unwrap().position, Position(20));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_publishers_share_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(SledLog::open(Options::new(dir.path())).unwrap());
        let tasks: Vec<_> = (0..16)
            .map(|p| {
                let log = log.clone();
                tokio::spawn(async move {
                    for b in 0..10 {
                        let recs = (0..20)
                            .map(|i| beaconport_log::conformance::record("K/1", &format!("{p}-{b}-{i}")))
                            .collect();
                        log.append(recs).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let s = log.stats().unwrap();
        assert_eq!((s.events, s.appends), (3200, 160));
        // With 16 publishers waiting on each fsync, groups form: far fewer flushes than appends.
        assert!(s.flushes < s.appends, "{} flushes for {} appends", s.flushes, s.appends);
    }

    #[test]
    fn block_round_trip_and_checksum() {
        let mut b = BlockBuilder::new(10, 64, 1234);
        let recs: Vec<Record> =
            (0..5).map(|i| beaconport_log::conformance::record("K/1", &format!("payload {i}"))).collect();
        for r in recs.clone() {
            let h = content_hash(&r.payload);
            let leaf = beaconport_log::leaf_hash(1234, &r.id, &r.key, &r.payload);
            b.push(r, h, &leaf, 1234);
        }
        let blocks = b.finish();
        assert!(blocks.len() > 1, "64-byte target splits");
        let mut all = Vec::new();
        for (first, bytes) in &blocks {
            let d = decode_block(*first, bytes).unwrap();
            assert_eq!(d.appended_at_ms, 1234);
            all.extend(d.records);
        }
        assert_eq!(all.len(), 5);
        for (a, r) in all.iter().zip(&recs) {
            assert_eq!((a.id, &a.payload), (r.id, &r.payload));
            assert_eq!(a.leaf, beaconport_log::leaf_hash(1234, &r.id, &r.key, &r.payload));
        }
        let (first, mut bytes) = blocks[0].clone();
        bytes[20] ^= 1;
        assert!(matches!(decode_block(first, &bytes), Err(Error::Corrupt { .. })));
    }

    /// Writes 2,000 events (20 flushes), returns their ids and the tree head (size, root).
    async fn signed_log(dir: &Path) -> (Vec<EventId>, u64, Hash) {
        let log = SledLog::open(Options::new(dir)).unwrap();
        let mut ids = Vec::new();
        for b in 0..20 {
            let recs: Vec<Record> = (0..100)
                .map(|i| {
                    beaconport_log::conformance::record(
                        "K/1",
                        &format!("payload-{:05}-{}", b * 100 + i, "x".repeat(80)),
                    )
                })
                .collect();
            ids.extend(recs.iter().map(|r| r.id));
            log.append(recs).await.unwrap();
        }
        let size = log.head().0;
        let root = log.tree().unwrap().root(size).unwrap();
        log.close();
        (ids, size, root)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verify_says_intact_then_names_the_position_of_a_flipped_byte() {
        let dir = tempfile::tempdir().unwrap();
        let (_, size, root) = signed_log(dir.path()).await;
        let report = verify::verify(dir.path(), size, &root).unwrap();
        assert!(report.intact(), "{report:?}");
        assert_eq!((report.events, report.root), (2000, Some(root)));
        // A head of a smaller size verifies too (the log grew since).
        let early = {
            let log = SledLog::open(Options::new(dir.path())).unwrap();
            let r = log.tree().unwrap().root(700).unwrap();
            log.close();
            r
        };
        assert!(verify::verify(dir.path(), 700, &early).unwrap().intact());
        // Another root: refused, though every record matches its own hashes.
        let mut other = root;
        other[0] ^= 1;
        assert!(!verify::verify(dir.path(), size, &other).unwrap().intact());

        for target in [1234u64, 77, 1999] {
            let damaged = tempfile::tempdir().unwrap();
            verify::copy_dir_for_tests(dir.path(), damaged.path());
            let db = damaged.path().join("db");
            let mut bytes = std::fs::read(&db).unwrap();
            let needle = format!("payload-{target:05}-");
            let at = bytes.windows(needle.len()).position(|w| w == needle.as_bytes()).expect("payload in the file");
            bytes[at + needle.len() + 3] ^= 0x01;
            std::fs::write(&db, &bytes).unwrap();
            let report = verify::verify(damaged.path(), size, &root).unwrap();
            let (position, why) = report.first_difference.clone().expect("damage found");
            assert_eq!(position, target, "{why}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_log_that_lost_or_changed_stored_events_refuses_to_open() {
        let dir = tempfile::tempdir().unwrap();
        signed_log(dir.path()).await;
        // Intact: opens, and a reopen after more appends too.
        SledLog::open(Options::new(dir.path())).unwrap().close();
        // A byte flipped inside event 1234: sled drops (or refuses) what follows the damage, and
        // the log, remembering how many events it had stored, refuses to open rather than serve
        // (and append after) a shortened history.
        let db = dir.path().join("db");
        let mut bytes = std::fs::read(&db).unwrap();
        let needle = b"payload-01234-";
        let at = bytes.windows(needle.len()).position(|w| w == needle).unwrap();
        bytes[at + needle.len() + 3] ^= 0x01;
        std::fs::write(&db, &bytes).unwrap();
        let err = SledLog::open(Options::new(dir.path())).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. } | Error::Storage(_)), "{err}");
        assert!(err.to_string().contains("2000") || err.to_string().contains("corrupt"), "{err}");
    }

    #[tokio::test]
    async fn second_open_of_a_directory_in_use_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let _a = SledLog::open(Options::new(dir.path())).unwrap();
        let err = SledLog::open(Options::new(dir.path())).unwrap_err();
        assert!(err.to_string().contains("in use"), "{err}");
    }
}
