//! [`KafkaWriter`]: the ingest role's stateless writer.
//!
//! A process of the ingest role alone keeps nothing on disk: it validates, produces into the
//! topic (the same producer settings as [`KafkaLog`](crate::KafkaLog): idempotence, `acks=all`,
//! the Java client's partitioner) and acknowledges once every delivery report came back, with
//! each event's place in the topic (partition, offset). Kafka holds the log; the processes that
//! read it (the query role) each keep their replica.
//!
//! **Retries and reused ids.** The writer holds in memory every event id in the topic, with the
//! content hash and the place of its first copy (the copy every replica keeps: in a partition,
//! the lowest offset), read by a consumer that follows every partition from the beginning. On
//! start it reads the ids already in the topic before it takes a publish, so a retry after a
//! restart of the writer (a new producer, beyond the reach of Kafka's own idempotence) is
//! answered as a duplicate, with the original's place, and produces nothing; an id reused for
//! other content is refused with a conflict. An id not known yet is produced, and the answer
//! waits until the follower has read each partition past the new records: a copy another writer
//! put there first (a retry sent elsewhere a moment before) is then known, so the answer is
//! exact: a duplicate at the first copy's place, or a conflict if that copy holds other content.
//! The second copy stays in the topic and every replica skips it. The wait is skipped when every
//! record between the follower's position and the new ones is this writer's own (delivered, its
//! id noted): no other writer's copy can be among them, so the answer is as exact without it.
//!
//! Partitions added to the topic later are followed from the next metadata refresh
//! ([`Options::metadata_refresh`]); a publish that lands in one waits for it, within the delivery
//! timeout.
//!
//! **Lookups.** A correction's target is checked (by the ingest service, over mutual TLS) against
//! the stored event: the writer finds its place in memory and fetches that one record.
//!
//! Nothing here survives a restart, and nothing needs to: the topic is read again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use beaconport_log::{
    content_hash, now_ms, Error, EventId, Publisher, Receipt, Record, Result, StoredEvent, TopicOffset,
};
use parking_lot::{Mutex, RwLock};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::{
    deleted_records, ensure_topic, event_id_of, flush_and_stop, high_watermarks, is_offset_gone, kafka, offset_gone,
    partition_count, produce, stopped, watch_retention, Broken, Options,
};

/// Where an id's first copy is, and what it holds.
#[derive(Debug, Clone, Copy)]
struct Seen {
    hash: u64,
    at: TopicOffset,
}

type IdMap = HashMap<EventId, Seen, foldhash::fast::RandomState>;

/// The ids in the topic, as far as the writer has read it.
struct Ids {
    map: RwLock<IdMap>,
    /// Set once the follower has read every record that was in the topic when the writer
    /// opened.
    caught_up: watch::Sender<bool>,
    /// Next offset the follower will read, per partition.
    read: watch::Sender<BTreeMap<i32, i64>>,
    /// Places of this writer's own records not yet read back: the follower skips them without
    /// parsing their headers (their ids are noted at delivery).
    own: Mutex<HashSet<(i32, i64), foldhash::fast::RandomState>>,
    /// Bumped each time a publish adds its places to `own`.
    own_grew: watch::Sender<u64>,
    /// Why the writer stopped taking publishes for good (records it had to read were deleted
    /// from the topic, or may be, so it can no longer tell a retry from a new event).
    broken: Arc<Broken>,
}

impl Ids {
    /// Records a copy of `id`. The first copy is the one every replica keeps: of two copies in
    /// one partition (one stream key), the lower offset; of copies in two partitions, the one
    /// known first here (replicas may disagree on those: they interleave partitions in their
    /// own order, and such copies differ in their key, so the second is a conflict anyway).
    fn note(map: &mut IdMap, id: EventId, seen: Seen) {
        map.entry(id)
            .and_modify(|first| {
                if first.at.partition == seen.at.partition && seen.at.offset < first.at.offset {
                    *first = seen;
                }
            })
            .or_insert(seen);
    }
}

/// A batch sorted against the ids known ([`KafkaWriter::classify`]).
enum Classified {
    /// Receipts of the ids stored, first record of each id in the batch, records to produce.
    Ready(Vec<Option<Receipt>>, HashMap<EventId, usize>, Vec<usize>),
    /// Places of known ids not yet read back.
    Unconfirmed(Vec<(i32, i64)>),
}

/// Most records the follower takes per lock of the id table.
const FOLLOW_BATCH: usize = 4096;

/// Longest run of records between the follower and a publish's own that the publish checks
/// are all its writer's (see [`KafkaWriter::only_own_before`]); past it, it waits for the
/// follower.
const OWN_GAP: i64 = 4096;

/// How long a lookup waits for the record it fetches.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The stateless writer: a producer into the topic and the ids already in it.
pub struct KafkaWriter {
    producer: FutureProducer,
    options: Options,
    ids: Arc<Ids>,
    /// Records in the topic the follower has not read yet, as last measured.
    lag: Arc<AtomicI64>,
    /// Publishes answered at delivery (every record before theirs this writer's own), once
    /// this writer's concurrent publishes noted theirs, and after the follower read their
    /// records back; and those answered without producing anything, every id in them known
    /// already (a retry, or another writer's copies read first).
    answered_at_delivery: AtomicI64,
    answered_after_own_noted: AtomicI64,
    answered_after_read_back: AtomicI64,
    answered_known: AtomicI64,
    /// Fetches single records for lookups; made on first use.
    fetcher: Arc<Mutex<Option<BaseConsumer>>>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for KafkaWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaWriter")
            .field("bootstrap", &self.options.bootstrap)
            .field("topic", &self.options.topic)
            .finish()
    }
}

impl KafkaWriter {
    /// Connects, creates the topic if it is missing (and allowed), and starts reading the ids
    /// in it. Publishes wait until the ids that were in the topic at this moment are read
    /// ([`Publisher::ready`] says when).
    pub async fn open(options: Options) -> Result<Self> {
        ensure_topic(&options).await?;
        let producer: FutureProducer =
            options.producer_config().create().map_err(|e| kafka("creating the producer", e))?;
        let ids = Arc::new(Ids {
            map: RwLock::new(IdMap::default()),
            caught_up: watch::channel(false).0,
            read: watch::channel(BTreeMap::new()).0,
            own: Mutex::new(HashSet::default()),
            own_grew: watch::channel(0).0,
            broken: Arc::new(Broken::default()),
        });
        let lag = Arc::new(AtomicI64::new(0));
        let consumer: StreamConsumer = options
            .reader_config("writer")
            // A publish waits for its own records to be read back (see the module's doc).
            .set("fetch.wait.max.ms", options.fetch_wait.as_millis().max(1).to_string())
            // A position no longer in the topic is an error, never a silent jump.
            .set("auto.offset.reset", "error")
            .create()
            .map_err(|e| kafka("creating the writer's consumer", e))?;
        let partitions = partition_count(consumer.client(), &options.topic, Duration::from_secs(10)).await?;
        // What the topic holds now: read before the first publish is taken.
        let mut target = BTreeMap::new();
        for p in 0..partitions {
            let (low, high) =
                tokio::task::block_in_place(|| consumer.fetch_watermarks(&options.topic, p, Duration::from_secs(10)))
                    .map_err(|e| kafka(&format!("reading the watermarks of partition {p}"), e))?;
            if low > 0 {
                // The ids of the deleted records are unknown: a retry of one would be stored again.
                let why = tokio::task::block_in_place(|| {
                    deleted_records(&consumer, &options.topic, partitions, &BTreeMap::new(), "writer")
                })?;
                return Err(Error::Storage(
                    why.unwrap_or_else(|| format!("kafka: partition {p} of topic {} lost records", options.topic)),
                ));
            }
            if high > low {
                target.insert(p, high);
            }
        }
        watch_retention(&options, ids.broken.clone());
        let (stop, stopped) = watch::channel(false);
        // Every partition from its first offset (the topic still starts at 0, checked above):
        // nothing before it is unread, so a publish into an empty partition need not wait for
        // the follower's first fetch to know that.
        let next: BTreeMap<i32, i64> = (0..partitions).map(|p| (p, 0)).collect();
        ids.read.send_replace(next.clone());
        let follower = Follower {
            options: options.clone(),
            ids: ids.clone(),
            lag: lag.clone(),
            next,
            own_read: Vec::new(),
            target,
            partitions,
        };
        follower.assign(&consumer)?;
        follower.check_caught_up(&consumer);
        let (partitions_tx, partitions_rx) = watch::channel(partitions);
        let watcher =
            Watcher { options: options.clone(), ids: ids.clone(), lag: lag.clone(), partitions: partitions_tx };
        let watching = tokio::spawn(watcher.run(stopped.clone()));
        let following = tokio::spawn(follower.run(consumer, stopped, partitions_rx));
        let task = tokio::spawn(async move {
            let _ = following.await;
            let _ = watching.await;
        });
        info!(bootstrap = %options.bootstrap, topic = %options.topic, partitions, "kafka writer opened (no local copy of the log)");
        Ok(Self {
            producer,
            options,
            ids,
            lag,
            answered_at_delivery: AtomicI64::new(0),
            answered_after_own_noted: AtomicI64::new(0),
            answered_after_read_back: AtomicI64::new(0),
            answered_known: AtomicI64::new(0),
            fetcher: Arc::new(Mutex::new(None)),
            stop,
            task: Mutex::new(Some(task)),
        })
    }

    /// Delivers what the producer still holds (waiting up to the delivery timeout) and stops
    /// following the topic.
    pub async fn close(&self) {
        flush_and_stop(&self.producer, self.options.delivery_timeout, &self.stop, &self.task).await;
    }

    /// Where the first copy of `id` is in the topic (the copy every replica keeps), as far as
    /// the writer has read.
    pub fn place_of(&self, id: &EventId) -> Option<TopicOffset> {
        self.ids.map.read().get(id).map(|s| s.at)
    }

    /// Ids the writer knows in the topic.
    pub fn known_ids(&self) -> usize {
        self.ids.map.read().len()
    }

    /// Waits (up to the delivery timeout) until the follower has read past every (partition,
    /// offset) given.
    async fn wait_read(&self, delivered: &[(i32, i64)]) -> Result<()> {
        let need = last_per_partition(delivered);
        if read_past(&need, &self.ids.read.borrow()) {
            return Ok(());
        }
        let mut rx = self.ids.read.subscribe();
        let waited = tokio::time::timeout(
            self.options.delivery_timeout,
            self.ids.broken.unless(rx.wait_for(|r| read_past(&need, r))),
        )
        .await;
        waited.unwrap_or_else(|_| Err(self.not_read_back()))
    }

    /// The failure of a publish whose records were delivered but not read back in time.
    fn not_read_back(&self) -> Error {
        Error::Storage(format!(
            "kafka: the events were delivered but not read back within {:?} to rule out an earlier copy; the call may be retried",
            self.options.delivery_timeout
        ))
    }

    /// Waits (up to the delivery timeout) until every copy in the topic before the places
    /// delivered is known: the follower has read past them, or every record between the
    /// follower and them is this writer's own ([`KafkaWriter::only_own_before`]; a concurrent
    /// publish of this writer whose records came first may still be noting its own).
    async fn wait_known_below(&self, delivered: &[(i32, i64)]) -> Result<()> {
        let need = last_per_partition(delivered);
        if self.only_own_before(&need) {
            self.answered_at_delivery.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let mut read_rx = self.ids.read.subscribe();
        let mut own_rx = self.ids.own_grew.subscribe();
        let known = async {
            loop {
                // Subscribed before looking: a change after the look wakes the wait below.
                if read_past(&need, &read_rx.borrow_and_update()) {
                    self.answered_after_read_back.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                own_rx.borrow_and_update();
                if self.only_own_before(&need) {
                    self.answered_after_own_noted.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                tokio::select! {
                    changed = read_rx.changed() => changed?,
                    changed = own_rx.changed() => changed?,
                }
            }
        };
        let waited = tokio::time::timeout(
            self.options.delivery_timeout,
            self.ids.broken.unless::<(), tokio::sync::watch::error::RecvError>(known),
        )
        .await;
        waited.unwrap_or_else(|_| Err(self.not_read_back()))
    }

    /// Whether, in each partition of `need` (the last place delivered in each), every record
    /// from the follower's position up to that place is one this writer delivered itself (its
    /// id noted at delivery).
    /// Then no copy of those ids can sit there unknown: the map is complete below each place.
    /// The follower's position is read before the own places, and the follower takes its
    /// writer's records out of them only after it has published the position past them, so a
    /// record of this writer's counts as own until it is below the position seen, and another
    /// writer's never does: the answer errs only towards waiting. So does a partition the
    /// follower has not read yet, or a gap longer than [`OWN_GAP`] (which also keeps the
    /// follower from falling ever further behind: publishes then wait for it).
    fn only_own_before(&self, need: &BTreeMap<i32, i64>) -> bool {
        let read = self.ids.read.borrow().clone();
        let own = self.ids.own.lock();
        need.iter().all(|(p, &last)| match read.get(p) {
            None => false,
            Some(&next) if next > last => true,
            Some(&next) => last - next < OWN_GAP && (next..=last).all(|o| own.contains(&(*p, o))),
        })
    }

    /// Sorts a batch against the ids known: per record its receipt if already stored, the index
    /// of each id's first record in the batch, and the records to produce; or the places of
    /// known ids that are not yet confirmed (read back).
    fn classify(&self, records: &[Record], hashes: &[u64]) -> Result<Classified> {
        let map = self.ids.map.read();
        let read = self.ids.read.borrow();
        let mut known: Vec<Option<Receipt>> = Vec::with_capacity(records.len());
        let mut first_of: HashMap<EventId, usize> = HashMap::with_capacity(records.len());
        let mut new: Vec<usize> = Vec::new();
        let mut unconfirmed = Vec::new();
        for (i, (r, &h)) in records.iter().zip(hashes).enumerate() {
            if let Some(seen) = map.get(&r.id) {
                if read.get(&seen.at.partition).is_none_or(|next| *next <= seen.at.offset) {
                    unconfirmed.push((seen.at.partition, seen.at.offset));
                } else if seen.hash != h {
                    return Err(Error::ConflictInTopic { id: r.id, at: seen.at });
                }
                known.push(Some(Receipt { position: None, topic: Some(seen.at), duplicate: true }));
                continue;
            }
            match first_of.get(&r.id) {
                Some(&j) if hashes[j] != h => return Err(Error::ConflictInBatch { id: r.id }),
                Some(_) => {}
                None => {
                    first_of.insert(r.id, i);
                    new.push(i);
                }
            }
            known.push(None);
        }
        Ok(if unconfirmed.is_empty() {
            Classified::Ready(known, first_of, new)
        } else {
            Classified::Unconfirmed(unconfirmed)
        })
    }

    /// Waits (up to the delivery timeout) until the ids already in the topic at open are read.
    async fn wait_caught_up(&self) -> Result<()> {
        if let Some(why) = self.ids.broken.get() {
            return Err(Error::Storage(why));
        }
        if *self.ids.caught_up.borrow() {
            return Ok(());
        }
        let mut rx = self.ids.caught_up.subscribe();
        let waited = tokio::time::timeout(self.options.delivery_timeout, rx.wait_for(|c| *c)).await.map(|r| r.is_ok());
        match waited {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::Closed),
            Err(_) => Err(Error::Storage(format!(
                "kafka: the writer is still reading the ids already in topic {} ({} records to go); retry shortly",
                self.options.topic,
                self.lag.load(Ordering::Relaxed)
            ))),
        }
    }
}

#[async_trait]
impl Publisher for KafkaWriter {
    async fn publish(&self, records: Vec<Record>) -> Result<Vec<Receipt>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.wait_caught_up().await?;
        let hashes: Vec<u64> = records.iter().map(|r| content_hash(&r.payload)).collect();
        for r in &records {
            if r.payload.len() > self.options.max_record_bytes {
                return Err(Error::TooLarge { id: r.id, size: r.payload.len(), max: self.options.max_record_bytes });
            }
        }
        // An id noted but not yet read back (a publish of it still waiting, or one that timed
        // out waiting) may still lose to an earlier copy: wait until it is read, then look again.
        let (mut known, first_of, new) = loop {
            match self.classify(&records, &hashes)? {
                Classified::Ready(known, first_of, new) => break (known, first_of, new),
                Classified::Unconfirmed(places) => self.wait_read(&places).await?,
            }
        };
        if new.is_empty() {
            self.answered_known.fetch_add(1, Ordering::Relaxed);
        } else {
            let at_ms = now_ms();
            let to_send: Vec<&Record> = new.iter().map(|&i| &records[i]).collect();
            // Ours, noted as their reports come back, so that the follower need not hash them
            // when it reads them back, and so that a concurrent publish of this writer whose
            // records follow some of these in a partition waits only for those, not for this
            // whole batch.
            let delivered = produce(&self.producer, &self.options, &to_send, at_ms, |arrived| {
                let mut map = self.ids.map.write();
                for &(k, (partition, offset)) in arrived {
                    let i = new[k];
                    Ids::note(&mut map, records[i].id, Seen { hash: hashes[i], at: TopicOffset { partition, offset } });
                }
                drop(map);
                let read = self.ids.read.borrow().clone();
                let mut own = self.ids.own.lock();
                own.extend(
                    arrived.iter().map(|&(_, place)| place).filter(|(p, o)| read.get(p).is_none_or(|next| next <= o)),
                );
                drop(own);
                self.ids.own_grew.send_modify(|g| *g += 1);
            })
            .await?;
            // Another writer may have written the same id just before ours (a retry sent
            // elsewhere, not yet read here): once the follower has read each partition up to our
            // records, any earlier copy is known, and the answer is exact. No need to wait when
            // every record between the follower and ours is this writer's own: none of them can
            // be another writer's copy, and the ids of our own are noted already.
            self.wait_known_below(&delivered).await?;
            let map = self.ids.map.read();
            for (&i, &(partition, offset)) in new.iter().zip(&delivered) {
                let ours = TopicOffset { partition, offset };
                let first = map.get(&records[i].id).copied().unwrap_or(Seen { hash: hashes[i], at: ours });
                if first.hash != hashes[i] {
                    // Another copy with other content came first: it is the one every replica
                    // keeps, and ours is skipped.
                    return Err(Error::ConflictInTopic { id: records[i].id, at: first.at });
                }
                // A copy of the same event came first: ours is a second copy, which every
                // replica skips.
                let duplicate = first.at != ours;
                known[i] = Some(Receipt { position: None, topic: Some(first.at), duplicate });
            }
        }
        let mut out = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let receipt = match known[i] {
                Some(receipt) => receipt,
                // The same id earlier in the batch: acknowledged as its duplicate.
                None => {
                    let first = known[first_of[&r.id]]
                        .ok_or_else(|| Error::Storage(format!("event {}: delivered without a receipt", r.id)))?;
                    Receipt { duplicate: true, ..first }
                }
            };
            out.push(receipt);
        }
        Ok(out)
    }

    async fn stored(&self, id: EventId) -> Result<Option<StoredEvent>> {
        Ok(self.stored_many(&[id]).await?.pop().flatten())
    }

    /// Fetches the records together: each partition's in one pass (see [`fetch_many`]).
    async fn stored_many(&self, ids: &[EventId]) -> Result<Vec<Option<StoredEvent>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.wait_caught_up().await?;
        let places: Vec<Option<TopicOffset>> = {
            let map = self.ids.map.read();
            ids.iter().map(|id| map.get(id).map(|s| s.at)).collect()
        };
        let wanted: Vec<TopicOffset> = places.iter().flatten().copied().collect();
        let fetcher = self.fetcher.clone();
        let options = self.options.clone();
        let fetched = tokio::task::spawn_blocking(move || fetch_many(&fetcher, &options, &wanted))
            .await
            .map_err(|e| Error::Storage(format!("kafka: fetching records: {e}")))??;
        ids.iter()
            .zip(places)
            .map(|(&id, at)| {
                let Some(at) = at else { return Ok(None) };
                let (key, payload) = fetched
                    .get(&at)
                    .cloned()
                    .ok_or_else(|| Error::Storage(format!("kafka: the record at {at} was not fetched")))?;
                Ok(Some(StoredEvent { id, key, payload, position: None, topic: Some(at) }))
            })
            .collect()
    }

    fn gauges(&self) -> Vec<(&'static str, i64)> {
        vec![
            ("kafka_producer_queue_records", i64::from(self.producer.in_flight_count())),
            ("kafka_writer_unread_records", self.lag.load(Ordering::Relaxed)),
            ("kafka_writer_known_ids", self.known_ids() as i64),
            ("kafka_writer_answered_at_delivery", self.answered_at_delivery.load(Ordering::Relaxed)),
            ("kafka_writer_answered_after_own_noted", self.answered_after_own_noted.load(Ordering::Relaxed)),
            ("kafka_writer_answered_after_read_back", self.answered_after_read_back.load(Ordering::Relaxed)),
            ("kafka_writer_answered_known", self.answered_known.load(Ordering::Relaxed)),
        ]
    }

    fn ready(&self) -> std::result::Result<(), String> {
        if let Some(why) = self.ids.broken.get() {
            return Err(format!("not ready: {why}"));
        }
        if *self.ids.caught_up.borrow() {
            Ok(())
        } else {
            Err(format!(
                "not ready: reading the ids already in topic {} ({} records to go)",
                self.options.topic,
                self.lag.load(Ordering::Relaxed)
            ))
        }
    }
}

/// Records further apart than this in one partition are reached by a new assignment rather
/// than by reading the records between them.
const FETCH_GAP: i64 = 1_000;

/// Fetches the records at `places`, by their place: key and value of each. Every partition
/// named is read at once, each from its first place on, jumping over long gaps. Blocking.
fn fetch_many(
    fetcher: &Mutex<Option<BaseConsumer>>,
    options: &Options,
    places: &[TopicOffset],
) -> Result<HashMap<TopicOffset, (String, bytes::Bytes)>> {
    let mut found = HashMap::with_capacity(places.len());
    if places.is_empty() {
        return Ok(found);
    }
    let mut guard = fetcher.lock();
    if guard.is_none() {
        let consumer: BaseConsumer = options
            .reader_config("writer-lookup")
            // An offset no longer in the topic is an error at once, not a wait.
            .set("auto.offset.reset", "error")
            .set("fetch.wait.max.ms", "10")
            .create()
            .map_err(|e| kafka("creating the writer's lookup consumer", e))?;
        *guard = Some(consumer);
    }
    let consumer = guard.as_ref().expect("made above");
    let mut wanted: BTreeMap<i32, std::collections::BTreeSet<i64>> = BTreeMap::new();
    for at in places {
        wanted.entry(at.partition).or_default().insert(at.offset);
    }
    // Each partition still wanted, from its next wanted offset.
    let assign = |wanted: &BTreeMap<i32, std::collections::BTreeSet<i64>>| -> Result<()> {
        let mut tpl = TopicPartitionList::new();
        for (&p, offsets) in wanted {
            if let Some(&first) = offsets.first() {
                tpl.add_partition_offset(&options.topic, p, Offset::Offset(first))
                    .map_err(|e| kafka("assigning a lookup", e))?;
            }
        }
        consumer.assign(&tpl).map_err(|e| kafka("assigning a lookup", e))
    };
    assign(&wanted)?;
    // A long list may take longer than one record may: the limit is on a wait without progress.
    let mut deadline = std::time::Instant::now() + FETCH_TIMEOUT;
    while !wanted.is_empty() {
        if std::time::Instant::now() >= deadline {
            let left: Vec<String> =
                wanted.iter().flat_map(|(p, o)| o.iter().map(move |o| format!("{p}:{o}"))).collect();
            return Err(Error::Storage(format!(
                "kafka: the records at {} were not fetched: nothing came for {FETCH_TIMEOUT:?}",
                left.join(", ")
            )));
        }
        let m = match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => m,
            None => continue,
            Some(Err(e)) => return Err(kafka("fetching records", e)),
        };
        let (p, o) = (m.partition(), m.offset());
        let Some(offsets) = wanted.get_mut(&p) else { continue };
        if offsets.remove(&o) {
            deadline = std::time::Instant::now() + FETCH_TIMEOUT;
            let key = m.key().and_then(|k| std::str::from_utf8(k).ok()).unwrap_or_default().to_string();
            let payload = bytes::Bytes::copy_from_slice(m.payload().unwrap_or_default());
            found.insert(TopicOffset { partition: p, offset: o }, (key, payload));
        }
        if let Some(&missing) = offsets.first().filter(|&&next| next < o) {
            return Err(Error::Storage(format!("kafka: partition {p} holds no record at offset {missing}")));
        }
        match offsets.first() {
            None => {
                wanted.remove(&p);
                assign(&wanted)?;
            }
            Some(&next) if next > o + FETCH_GAP => assign(&wanted)?,
            Some(_) => {}
        }
    }
    Ok(found)
}

/// Off the follower's path (its calls block on the brokers): finds partitions added to the
/// topic and measures how far behind the follower is.
struct Watcher {
    options: Options,
    ids: Arc<Ids>,
    lag: Arc<AtomicI64>,
    partitions: watch::Sender<i32>,
}

impl Watcher {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let consumer: BaseConsumer = match self.options.reader_config("writer-watch").create() {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %e, "the writer cannot watch its topic's partitions and lag");
                return;
            }
        };
        let consumer = Arc::new(consumer);
        loop {
            tokio::select! {
                _ = stopped(&mut stop) => break,
                _ = tokio::time::sleep(self.options.metadata_refresh) => {}
            }
            let (c, topic) = (consumer.clone(), self.options.topic.clone());
            let looked = tokio::task::spawn_blocking(move || high_watermarks(&c, &topic)).await;
            match looked {
                Ok(Ok(highs)) => {
                    let n = highs.len() as i32;
                    if n > *self.partitions.borrow() {
                        self.partitions.send_replace(n);
                    }
                    if *self.ids.caught_up.borrow() {
                        let read = self.ids.read.borrow().clone();
                        let lag = highs.iter().map(|(p, high)| (high - read.get(p).copied().unwrap_or(0)).max(0)).sum();
                        self.lag.store(lag, Ordering::Relaxed);
                    }
                }
                Ok(Err(e)) => warn!(error = %e, topic = %self.options.topic, "watching the topic failed"),
                Err(e) => warn!(error = %e, "the writer's watch task failed"),
            }
        }
    }
}

/// The last of the places given, per partition.
fn last_per_partition(places: &[(i32, i64)]) -> BTreeMap<i32, i64> {
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    for &(p, o) in places {
        let e = last.entry(p).or_insert(o);
        *e = (*e).max(o);
    }
    last
}

/// Whether the follower's position (`read`) is past every place in `need`.
fn read_past(need: &BTreeMap<i32, i64>, read: &BTreeMap<i32, i64>) -> bool {
    need.iter().all(|(p, o)| read.get(p).is_some_and(|next| next > o))
}

/// Reads the ids of every record in the topic into the writer's table.
struct Follower {
    options: Options,
    ids: Arc<Ids>,
    lag: Arc<AtomicI64>,
    /// Next offset to read, per partition.
    next: BTreeMap<i32, i64>,
    /// The writer's own places read in the current batch.
    own_read: Vec<(i32, i64)>,
    /// The high watermarks when the writer opened: read up to them before publishing.
    target: BTreeMap<i32, i64>,
    partitions: i32,
}

impl Follower {
    /// Assigns every partition the topic has, each from where the follower is (new ones from
    /// their beginning).
    fn assign(&self, consumer: &StreamConsumer) -> Result<()> {
        let mut tpl = TopicPartitionList::new();
        for p in 0..self.partitions {
            let offset = self.next.get(&p).map_or(Offset::Beginning, |&o| Offset::Offset(o));
            tpl.add_partition_offset(&self.options.topic, p, offset).map_err(|e| kafka("assigning partitions", e))?;
        }
        consumer.assign(&tpl).map_err(|e| kafka("assigning partitions", e))
    }

    /// Stops taking publishes for good: the writer can no longer tell a retry from a new event.
    fn break_off(&self, why: String) {
        self.ids.broken.set(&self.options.topic, why);
    }

    /// Announces that the records present at open are read, once they are (by the offsets
    /// read, or the consumer's position past gaps such as compacted records).
    fn check_caught_up(&self, consumer: &StreamConsumer) {
        if *self.ids.caught_up.borrow() {
            return;
        }
        let position = consumer.position().ok();
        let at = |p: i32| {
            let read = self.next.get(&p).copied().unwrap_or(0);
            let fetched = position
                .as_ref()
                .and_then(|tpl| tpl.find_partition(&self.options.topic, p))
                .and_then(|e| match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                })
                .unwrap_or(0);
            read.max(fetched)
        };
        let behind: i64 = self.target.iter().map(|(&p, &high)| (high - at(p)).max(0)).sum();
        self.lag.store(behind, Ordering::Relaxed);
        if behind == 0 {
            let n = self.ids.map.read().len();
            info!(topic = %self.options.topic, ids = n, "kafka writer has read the ids already in the topic; taking publishes");
            self.ids.caught_up.send_replace(true);
        }
    }

    fn take(&mut self, batch: &mut Vec<(EventId, Seen)>, m: &rdkafka::message::BorrowedMessage<'_>) {
        let (p, o) = (m.partition(), m.offset());
        self.next.insert(p, o + 1);
        if self.ids.own.lock().contains(&(p, o)) {
            // Taken out of the own places once the position past it is published: until then a
            // publish still counts it as its writer's (see `KafkaWriter::only_own_before`).
            self.own_read.push((p, o));
            return;
        }
        let Some(id) = event_id_of(m) else {
            warn!(partition = p, offset = o, "a record without an event id is not an event; skipped");
            return;
        };
        // Most records are known already (this writer's own): no hashing for them.
        if self.ids.map.read().get(&id).is_some_and(|s| s.at.partition != p || s.at.offset <= o) {
            return;
        }
        let hash = content_hash(m.payload().unwrap_or_default());
        batch.push((id, Seen { hash, at: TopicOffset { partition: p, offset: o } }));
    }

    async fn run(
        mut self,
        consumer: StreamConsumer,
        mut stop: watch::Receiver<bool>,
        mut partitions: watch::Receiver<i32>,
    ) {
        let mut refresh = tokio::time::interval(self.options.metadata_refresh.min(Duration::from_millis(500)));
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let first = tokio::select! {
                _ = stopped(&mut stop) => break,
                _ = refresh.tick() => {
                    self.check_caught_up(&consumer);
                    // Own places read back before they were recorded (a rare race): gone.
                    self.ids.own.lock().retain(|(p, o)| self.next.get(p).is_none_or(|next| next <= o));
                    continue;
                }
                changed = partitions.changed() => {
                    let n = *partitions.borrow_and_update();
                    if changed.is_ok() && n > self.partitions {
                        info!(topic = %self.options.topic, from = self.partitions, to = n, "partitions added; reading the new ones from their beginning");
                        let held = tokio::task::block_in_place(|| {
                            deleted_records(&consumer, &self.options.topic, n, &self.next, "writer")
                        });
                        if let Ok(Some(why)) = held {
                            self.break_off(why);
                            break;
                        }
                        self.partitions = n;
                        if let Err(e) = self.assign(&consumer) {
                            warn!(error = %e, "reassigning partitions failed");
                        }
                    }
                    continue;
                }
                m = consumer.recv() => m,
            };
            let mut batch = Vec::new();
            // A position no longer in the topic: Kafka deleted records the writer had not read
            // yet. librdkafka reports it once, then fetches that partition no more: the follower
            // stops, once the ids read before it are noted.
            let mut gone = None;
            match first {
                Ok(m) => self.take(&mut batch, &m),
                Err(e) if is_offset_gone(&e) => gone = Some(e),
                Err(e) => {
                    warn!(error = %e, "writer consumer error");
                    continue;
                }
            }
            // Take what else is already fetched, without waiting.
            for _ in 1..FOLLOW_BATCH {
                if gone.is_some() {
                    break;
                }
                match futures::FutureExt::now_or_never(consumer.recv()) {
                    Some(Ok(m)) => self.take(&mut batch, &m),
                    Some(Err(e)) if is_offset_gone(&e) => {
                        gone = Some(e);
                        break;
                    }
                    Some(Err(e)) => {
                        warn!(error = %e, "writer consumer error");
                        break;
                    }
                    None => break,
                }
            }
            {
                let mut map = self.ids.map.write();
                for (id, seen) in batch {
                    Ids::note(&mut map, id, seen);
                }
            }
            self.ids.read.send_replace(self.next.clone());
            if !self.own_read.is_empty() {
                let mut own = self.ids.own.lock();
                for place in self.own_read.drain(..) {
                    own.remove(&place);
                }
            }
            if let Some(e) = gone {
                let why = offset_gone(&consumer, &self.options.topic, self.partitions, &self.next, "writer", &e);
                self.break_off(why);
                break;
            }
            self.check_caught_up(&consumer);
        }
        debug!("kafka writer's follower stopped");
    }
}
