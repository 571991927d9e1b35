//! The projection runner: follows the log from the stored position, decodes each event, applies
//! it to the views, and stores the changed case files with the new position in one atomic batch.
//!
//! Options → [`Projector::open`] → a [`Projector`] handle that owns the task; queries read the
//! views through [`Projector::views`] and wait for a position with [`Projector::wait_for`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beaconport_domain::{reference, Position};
use beaconport_log::EventLog;
use parking_lot::RwLock;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::store::{encode_file, Store};
use crate::views::Views;
use crate::{Error, Result};
use beaconport_domain::resolution::Model;

/// Settings of the projection runner.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory of the stored views.
    pub dir: PathBuf,
    /// Most events read from the log and applied per batch (while catching up; at the log's head
    /// a batch holds what has arrived).
    pub batch: usize,
    /// How often the stored views are flushed to disk (they are always consistent; a flush
    /// bounds how much is replayed after a crash of the machine).
    pub flush_every: Duration,
    /// Longest the views run ahead of what is stored while catching up (changed case files are
    /// stored together, each once); at the log's head they are stored at once.
    pub commit_every: Duration,
    /// Mentions sharing one identifier or place beyond which it no longer links them.
    pub hub_limit: usize,
    /// sled cache, in MiB.
    pub cache_mb: u64,
    /// A model to pin (`beaconport model export` writes one): resolution uses it, never
    /// estimates another and adopts none from the log. `None`: the model is estimated from the
    /// data as it grows, written into the log, and adopted from there by every process alike.
    pub model_file: Option<PathBuf>,
    /// The force code under which the ledger records its own events (its resolution models).
    pub ledger_force: String,
}

impl Options {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Options {
            dir: dir.into(),
            batch: 10_000,
            flush_every: Duration::from_secs(1),
            commit_every: Duration::from_millis(500),
            hub_limit: crate::views::DEFAULT_HUB_LIMIT,
            cache_mb: 64,
            model_file: None,
            ledger_force: "NCA".into(),
        }
    }
}

/// Loads the stored views (or starts empty).
pub fn load(store: &Store, opts: &Options, pinned: Option<&Model>) -> Result<Views> {
    let mut views = match (pinned, store.model_event()?) {
        (Some(m), _) => Views::pinned(m.clone(), crate::store::CODEC),
        (None, Some((event, encoded))) => Views::with_adopted(&event, encoded, crate::store::CODEC)
            .ok_or_else(|| Error::Corrupt("the adopted model's event is not a model".into()))?,
        (None, None) => Views::new(Model::default(), crate::store::CODEC),
    };
    views.hub_limit = opts.hub_limit;
    views.set_loading(true);
    let mut cases: Vec<_> = store.cases().collect::<Result<_>>()?;
    // Load in the order the cases began in the log, so the views come back as they were built.
    cases.sort_by_key(|c| c.events.first().map_or(0, |e| e.position.0));
    for c in cases {
        let force = reference::force(&c.key.0).ok_or_else(|| Error::Corrupt(format!("unknown force {}", c.key.0)))?;
        views.load_case(c.key, force, c.events);
    }
    for c in store.consultations() {
        let (position, encoded) = c?;
        let event = (crate::store::CODEC.decode)(&encoded)
            .ok_or_else(|| Error::Corrupt(format!("stored consultation at position {} does not decode", position.0)))?;
        let beaconport_domain::Body::ConsultationRecorded(body) = event.body else {
            return Err(Error::Corrupt(format!("stored consultation at position {} is not one", position.0)));
        };
        views.consultations.load(beaconport_views::consultations::Consultation {
            position,
            event_id: event.id,
            at: event.recorded_at,
            body,
            encoded,
        });
    }
    views.set_loading(false);
    views.estimate_if_due();
    views.take_dirty();
    views.applied = store.applied()?;
    views.cases_applied = views.applied;
    views.refresh_networks();
    Ok(views)
}

/// A running projection.
pub struct Projector {
    views: Arc<RwLock<Views>>,
    applied: watch::Receiver<Position>,
    log: Arc<dyn EventLog>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<()>>,
    store: Store,
    history: crate::history::Cache,
    hub_limit: usize,
    /// The pinned model, also for views rebuilt as of an earlier time.
    pinned: Option<Arc<Model>>,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector").field("applied", &self.applied()).finish_non_exhaustive()
    }
}

impl Projector {
    /// Opens the stored views and starts following `log` from where they stopped.
    pub async fn open(opts: Options, log: Arc<dyn EventLog>) -> Result<Projector> {
        let o = opts.clone();
        let (store, views, pinned) = tokio::task::spawn_blocking(move || -> Result<(Store, Views, _)> {
            let pinned = match &o.model_file {
                Some(path) => Some(Arc::new(crate::store::read_model_file(path)?)),
                None => None,
            };
            let store = Store::open(&o.dir, o.cache_mb)?;
            let views = load(&store, &o, pinned.as_deref())?;
            Ok((store, views, pinned))
        })
        .await
        .map_err(|e| Error::Storage(format!("loading views: {e}")))??;
        let start = views.applied;
        info!(applied = start.0, "views loaded");
        let views = Arc::new(RwLock::new(views));
        let (applied_tx, applied) = watch::channel(start);
        let (stop, stop_rx) = watch::channel(false);
        let hub_limit = opts.hub_limit;
        let ledger_force = reference::force(&opts.ledger_force)
            .ok_or_else(|| Error::Storage(format!("ledger_force: {} is not a known force code", opts.ledger_force)))?;
        // A model the loaded views estimated (one due before a crash may not have been written):
        // written before anyone can ask, so that a caller who sees the log's head waits for it.
        let awaiting = write_proposal(&log, &views, ledger_force, start).await;
        let task = tokio::spawn(run(
            opts,
            log.clone(),
            views.clone(),
            store.clone(),
            applied_tx,
            stop_rx,
            Runner { ledger_force, awaiting },
        ));
        Ok(Projector { views, applied, log, stop, task, store, history: Default::default(), hub_limit, pinned })
    }

    /// The views, for queries (hold the read lock briefly).
    pub fn views(&self) -> &Arc<RwLock<Views>> {
        &self.views
    }

    /// Every event before this position is applied.
    pub fn applied(&self) -> Position {
        *self.applied.borrow()
    }

    /// Waits until every event before `position` is applied, at most `timeout`; false on timeout.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        let mut rx = self.applied.clone();
        let reached = tokio::time::timeout(timeout, rx.wait_for(|p| *p >= position)).await;
        matches!(reached, Ok(Ok(_)))
    }

    /// Bytes the stored views take on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.store.size_on_disk()
    }

    /// Stops the runner after the batch in hand, stores what it applied and flushes.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.task.await.map_err(|e| Error::Storage(format!("projection task: {e}")))??;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.flush())
            .await
            .map_err(|e| Error::Storage(format!("flushing views: {e}")))?
    }
}

#[async_trait::async_trait]
impl beaconport_views::Live for Projector {
    fn views(&self) -> Arc<RwLock<Views>> {
        self.views.clone()
    }
    fn applied(&self) -> Position {
        Projector::applied(self)
    }
    fn head(&self) -> Position {
        self.log.head()
    }
    async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        Projector::wait_for(self, position, timeout).await
    }
    async fn as_of(&self, bound: beaconport_views::Bound) -> std::result::Result<Arc<RwLock<Views>>, String> {
        self.history.get(&self.log, bound, self.hub_limit, self.pinned.clone()).await.map_err(|e| e.to_string())
    }
}

/// A batch read from the log and decoded, ready to apply.
struct Decoded {
    last: Position,
    events: Vec<(Position, beaconport_domain::Event, Option<bytes::Bytes>)>,
    skipped: Vec<(Position, String)>,
    /// The log had no more events after this batch when it was read.
    at_head: bool,
}

/// Reads and decodes batches ahead of the one being applied (the two stages run on both cores).
async fn read_ahead(
    log: Arc<dyn EventLog>,
    mut next: Position,
    batch: usize,
    tx: tokio::sync::mpsc::Sender<Result<Decoded>>,
) {
    let mut head = log.subscribe();
    loop {
        let entries = match log.read(next, batch).await {
            Ok(e) => e,
            Err(e) => {
                let _ = tx.send(Err(Error::Log(e.to_string()))).await;
                return;
            }
        };
        if entries.is_empty() {
            if head.wait_for(|h| h.0 > next.0).await.is_err() || tx.is_closed() {
                return;
            }
            continue;
        }
        let at_head = entries.last().is_none_or(|e| e.position.next() >= log.head());
        let decoded = tokio::task::spawn_blocking(move || {
            let last = entries.last().map(|e| e.position).expect("not empty");
            let mut events = Vec::with_capacity(entries.len());
            let mut skipped = Vec::new();
            for e in entries {
                match beaconport_proto::decode_stored_bytes(&e.payload) {
                    Ok(ev) => events.push((e.position, ev, Some(e.payload))),
                    Err(why) => skipped.push((e.position, why)),
                }
            }
            Decoded { last, events, skipped, at_head }
        })
        .await;
        let Ok(decoded) = decoded else { return };
        next = decoded.last.next();
        if tx.send(Ok(decoded)).await.is_err() {
            return;
        }
    }
}

async fn run(
    opts: Options,
    log: Arc<dyn EventLog>,
    views: Arc<RwLock<Views>>,
    store: Store,
    applied_tx: watch::Sender<Position>,
    mut stop: watch::Receiver<bool>,
    Runner { ledger_force, awaiting }: Runner,
) -> Result<()> {
    let start = views.read().applied;
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let reader = tokio::spawn(read_ahead(log.clone(), start, opts.batch, tx));
    let _abort_reader = AbortOnDrop(reader);
    let mut last_flush = Instant::now();
    let mut last_commit = Instant::now();
    let mut uncommitted = false;
    // Whether the last batch reached the log's head: only then is an empty queue "caught up"
    // (otherwise the next batch is still being decoded).
    let mut at_head = true;
    // The position of a model these views wrote into the log and have not applied yet: waiters
    // are not told of positions past it until it is, so that an answer after a wait resolves
    // under the model the data called for.
    let mut awaiting_model: Option<Position> = awaiting;
    // A commit being stored while the next batch is applied (commits are stored in order: each
    // waits for the one before).
    let mut committing: Option<tokio::task::JoinHandle<Result<()>>> = None;
    loop {
        if *stop.borrow() {
            finish_commit(&mut committing).await?;
            if uncommitted {
                commit_blocking(views.clone(), store.clone(), true).await?;
            }
            return Ok(());
        }
        let next = if at_head {
            rx.try_recv()
        } else {
            tokio::select! {
                b = rx.recv() => b.ok_or(tokio::sync::mpsc::error::TryRecvError::Disconnected),
                _ = stop.changed() => continue,
            }
        };
        let batch = match next {
            Ok(b) => b?,
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => return Ok(()),
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                // Caught up: store what is pending, bring networks up to date, then wait for more.
                // (Not while a model the views wrote is on its way: it comes next, and changes them all.)
                if awaiting_model.is_none() {
                    finish_commit(&mut committing).await?;
                    if uncommitted {
                        let flush = last_flush.elapsed() >= opts.flush_every;
                        commit_blocking(views.clone(), store.clone(), flush).await?;
                        uncommitted = false;
                        last_commit = Instant::now();
                        if flush {
                            last_flush = Instant::now();
                        }
                    }
                    if views.read().networks.is_stale() {
                        let v = views.clone();
                        tokio::task::spawn_blocking(move || v.write().refresh_networks())
                            .await
                            .map_err(|e| Error::Storage(format!("networks: {e}")))?;
                    }
                    if last_flush.elapsed() >= opts.flush_every {
                        let s = store.clone();
                        tokio::task::spawn_blocking(move || s.flush())
                            .await
                            .map_err(|e| Error::Storage(e.to_string()))??;
                        last_flush = Instant::now();
                    }
                }
                tokio::select! {
                    b = rx.recv() => match b {
                        Some(b) => b?,
                        None => return Ok(()),
                    },
                    _ = stop.changed() => continue,
                }
            }
        };
        let last = batch.last;
        at_head = batch.at_head;
        let v = views.clone();
        // Changed case files are stored together every `commit_every` (a case touched by many
        // batches is written once), and whenever the views reach the log's head.
        let commit = batch.at_head || last_commit.elapsed() >= opts.commit_every;
        let flush = commit && last_flush.elapsed() >= opts.flush_every;
        // Applying is CPU work: off the async threads.
        tokio::task::spawn_blocking(move || {
            let mut w = v.write();
            for (position, why) in batch.skipped {
                // The reason may quote a stored value (a name, a date of birth): debug only.
                warn!(position = position.0, "stored event does not decode; not applied");
                tracing::debug!(position = position.0, reason = %why, "why the stored event does not decode");
                w.skipped.push((position, why));
            }
            w.apply_batch(batch.events);
            w.applied = last.next();
        })
        .await
        .map_err(|e| Error::Storage(format!("projection batch: {e}")))?;
        uncommitted = true;
        if commit {
            finish_commit(&mut committing).await?;
            // The case files changed and the position are taken together when it starts (under
            // the views' lock), so what it stores is consistent whenever the next batch applies.
            committing = Some(tokio::spawn(commit_blocking(views.clone(), store.clone(), flush)));
            uncommitted = false;
            last_commit = Instant::now();
            if flush {
                last_flush = Instant::now();
            }
        }
        debug!(applied = last.next().0, "views applied");
        awaiting_model = write_proposal(&log, &views, ledger_force, last.next()).await.or(awaiting_model);
        match awaiting_model {
            Some(p) if p >= last.next() => {}
            _ => {
                awaiting_model = None;
                applied_tx.send_replace(last.next());
            }
        }
    }
}

/// Writes the models the views estimated, if they did, into the log, lowest level first; the
/// position of the last one if the views have yet to apply it (every event before `applied`
/// they have).
async fn write_proposal(
    log: &Arc<dyn EventLog>,
    views: &Arc<RwLock<Views>>,
    ledger_force: &'static reference::Force,
    applied: Position,
) -> Option<Position> {
    let mut estimates = views.write().take_model_proposals().into_iter();
    let mut awaiting = None;
    while let Some(estimate) = estimates.next() {
        let level = estimate.level;
        match append_model(log, estimate.clone(), ledger_force).await {
            Ok(position) => {
                info!(level, position = position.0, "resolution model estimated and written to the log");
                if position >= applied {
                    awaiting = awaiting.max(Some(position));
                }
            }
            // Tried again after the next batch, this level first (after a restart, the level
            // the mentions stand at is estimated again).
            Err(e) => {
                warn!(level, error = %e, "the resolution model estimated could not be written to the log");
                views.write().return_model_proposals(std::iter::once(estimate).chain(estimates).collect());
                break;
            }
        }
    }
    awaiting
}

/// Writes a model estimate into the log under the ledger's force code; its position (the first
/// one's, if another process wrote the same level first).
async fn append_model(
    log: &Arc<dyn EventLog>,
    estimate: beaconport_domain::ResolutionModelEstimated,
    ledger_force: &'static reference::Force,
) -> Result<Position> {
    let event = crate::views::model_event(estimate, ledger_force, chrono::Utc::now());
    let payload = beaconport_proto::stored::encode(&beaconport_proto::event_to_pb(&event));
    // What every process will read back must decode: checked before it is written.
    crate::store::decode_model_event(&payload).map_err(|why| Error::Log(format!("model event: {why}")))?;
    let record = beaconport_log::Record {
        id: beaconport_log::EventId(event.id.0),
        key: beaconport_log::stream_key(event.force.code, &event.case_ref),
        payload: payload.into(),
    };
    match log.append(vec![record]).await {
        Ok(acks) => acks.first().map(|a| a.position).ok_or_else(|| Error::Log("no acknowledgement".into())),
        // Another process wrote its estimate of this level first: that one stands, everywhere.
        Err(beaconport_log::Error::Conflict { position, .. }) => Ok(position),
        Err(e) => Err(Error::Log(e.to_string())),
    }
}

/// What the runner starts with besides the views and the log.
struct Runner {
    /// The force code of the ledger's own events.
    ledger_force: &'static reference::Force,
    /// The position of a model the views wrote and have yet to apply.
    awaiting: Option<Position>,
}

/// Aborts a task when dropped (the reader stops with the runner).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Waits for the commit being stored, if any.
async fn finish_commit(committing: &mut Option<tokio::task::JoinHandle<Result<()>>>) -> Result<()> {
    match committing.take() {
        Some(h) => h.await.map_err(|e| Error::Storage(format!("storing views: {e}")))?,
        None => Ok(()),
    }
}

/// Stores the case files changed since the last commit, a new model basis if any, and the
/// position applied, in one atomic batch; flushes if asked.
async fn commit_blocking(views: Arc<RwLock<Views>>, store: Store, flush: bool) -> Result<()> {
    tokio::task::spawn_blocking(move || -> Result<()> {
        let (files, consultations, model_event, applied) = {
            let mut w = views.write();
            let dirty = w.take_dirty();
            let files: Vec<_> =
                dirty.into_iter().filter_map(|k| w.cases.get(&k).map(|c| (k, encode_file(&c.events)))).collect();
            let consultations = w.consultations.take_unstored().into_iter().map(|c| (c.position, c.encoded)).collect();
            (files, consultations, w.take_model_event(), w.applied)
        };
        store.commit(files, consultations, model_event.as_deref(), applied)?;
        if flush {
            store.flush()?;
        }
        Ok(())
    })
    .await
    .map_err(|e| Error::Storage(format!("storing views: {e}")))?
}
