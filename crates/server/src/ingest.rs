//! IngestService: publish a batch (unary) or a stream of batches.
//!
//! The service is served through the wire view of the API (`pb::wire`, wire-compatible with
//! `pb::api`): each event arrives as its own encoded bytes, is decoded once for validation, and
//! those very bytes are stored. Nothing is re-encoded or copied, and what the log (and later the
//! tamper-evident tree) holds is exactly what the force sent.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use beaconport_domain::{Context, FieldError};
use beaconport_log::{stream_key, EventId, EventLog, Publisher, Receipt, Record};
use beaconport_proto::pb::wire as api;
use beaconport_proto::WireBatch;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info};

use crate::error::{status, Error, Result};

/// The ingest service over an injected log, or a writer to one (see [`Publisher`]).
#[derive(Clone)]
pub struct Ingest {
    log: Arc<dyn Publisher>,
    /// Over mutual TLS: who each client certificate is, so a force system publishes only its
    /// own force's events.
    identities: Option<Arc<crate::consult::Identities>>,
    /// Most events in one batch.
    max_batch: usize,
    /// Largest request message (named when the library refuses a larger one in a stream).
    max_message_bytes: usize,
    /// Where publishes are counted (the operator endpoint's metrics).
    metrics: Option<Arc<crate::operator::Metrics>>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest").finish_non_exhaustive()
    }
}

impl Ingest {
    pub fn new(log: Arc<dyn EventLog>) -> Self {
        Self::over(beaconport_log::of_log(log))
    }

    /// The ingest service over a publisher: a log, or a writer that holds no copy of it.
    pub fn over(log: Arc<dyn Publisher>) -> Self {
        Self {
            log,
            identities: None,
            max_batch: beaconport_domain::rules::MAX_BATCH,
            max_message_bytes: crate::authorise::Limits::default().max_message_bytes,
            metrics: None,
        }
    }

    /// The same service, counting what it does in `metrics`.
    pub fn with_metrics(self, metrics: Arc<crate::operator::Metrics>) -> Self {
        Self { metrics: Some(metrics), ..self }
    }

    /// The metrics this service counts in, if any.
    pub(crate) fn metrics(&self) -> Option<&crate::operator::Metrics> {
        self.metrics.as_deref()
    }

    /// The same service refusing batches of more than `max_batch` events (RESOURCE_EXHAUSTED).
    pub fn with_max_batch(self, max_batch: usize, max_message_bytes: usize) -> Self {
        Self { max_batch: max_batch.min(beaconport_domain::rules::MAX_BATCH), max_message_bytes, ..self }
    }

    /// An ingest service that holds each force system's certificate to its own force.
    pub fn with_identities(log: Arc<dyn Publisher>, identities: Arc<crate::consult::Identities>) -> Self {
        Self { identities: Some(identities), ..Self::over(log) }
    }

    /// The one force a request's client certificate may publish for (over mutual TLS).
    fn only_force<T>(&self, request: &Request<T>) -> Option<String> {
        self.identities.as_ref()?;
        // The gate's answer; without it (never, when served) no force at all: fail closed.
        let admitted = request.extensions().get::<crate::authorise::Authenticated>();
        Some(admitted.and_then(|a| a.force.clone()).unwrap_or_default())
    }

    /// Validates a batch of encoded events and turns it into log records. All or nothing: every
    /// problem of every event is reported.
    async fn prepare(
        log: Arc<dyn Publisher>,
        raw: Vec<Bytes>,
        by_ledger: bool,
        only_force: Option<String>,
        max_batch: usize,
    ) -> Result<Vec<Record>> {
        if raw.is_empty() {
            return Err(Error::BadRequest {
                field: "events".into(),
                reason: "a batch needs at least one event".into(),
            });
        }
        if raw.len() > max_batch {
            return Err(Error::Limit(format!(
                "events: a batch holds at most {max_batch} events (limits.max_batch_events), this one {}; nothing stored",
                raw.len()
            )));
        }
        let checked = decode(&raw).await?;
        let (records, targets) = checks(checked, raw, by_ledger, only_force.as_deref())?;
        if let Some(own) = only_force {
            check_targets(&log, &own, &records, targets).await?;
        }
        Ok(records)
    }

    /// The event stored under `id`, if any.
    pub async fn stored(&self, id: beaconport_log::EventId) -> Result<Option<beaconport_log::StoredEvent>> {
        Ok(self.log.stored(id).await?)
    }

    /// Publishes one batch: validate all, append all, acknowledge each.
    pub async fn publish_batch(&self, events: Vec<Bytes>) -> Result<api::PublishResponse> {
        self.append(events, false, None).await
    }

    /// Appends events the ledger writes itself (consultations of the ledger): validated like any
    /// event, and only these may carry the kinds no force publishes.
    pub async fn record(&self, events: Vec<Bytes>) -> Result<api::PublishResponse> {
        self.append(events, true, None).await
    }

    async fn append(
        &self,
        events: Vec<Bytes>,
        by_ledger: bool,
        only_force: Option<String>,
    ) -> Result<api::PublishResponse> {
        let records = Self::prepare(self.log.clone(), events, by_ledger, only_force, self.max_batch).await?;
        let ids: Vec<EventId> = records.iter().map(|r| r.id).collect();
        let acks = self.log.publish(records).await?;
        debug!(n_events = ids.len(), duplicates = acks.iter().filter(|a| a.duplicate).count(), "batch appended");
        Ok(response(&ids, acks))
    }
}

/// The acknowledgement of a batch: one entry per event, in batch order.
fn response(ids: &[EventId], acks: Vec<Receipt>) -> api::PublishResponse {
    api::PublishResponse {
        acks: ids
            .iter()
            .zip(acks)
            .map(|(id, a)| api::EventAck {
                event_id: id.to_hyphenated(),
                position: a.position.map(|p| p.0),
                duplicate: a.duplicate,
                topic: a.topic.map(|t| api::TopicOffset { partition: t.partition, offset: t.offset }),
            })
            .collect(),
    }
}

/// Counts an accepted batch: its events stored new, and those retried.
fn count_accepted(m: &crate::operator::Metrics, r: &api::PublishResponse) {
    let duplicates = r.acks.iter().filter(|a| a.duplicate).count() as u64;
    m.events_duplicate.inc_by(duplicates);
    m.events_stored.inc_by(r.acks.len() as u64 - duplicates);
    m.batch("accepted");
}

/// Counts one publish's outcome: events stored and retried, problems by field, latency.
fn count(m: &crate::operator::Metrics, result: &Result<api::PublishResponse>, started: std::time::Instant) {
    match result {
        Ok(r) => {
            count_accepted(m, r);
            m.publish_seconds.observe(started.elapsed().as_secs_f64());
        }
        Err(Error::Rejected(errors)) => {
            errors.iter().for_each(|e| m.rejected_field(&e.field));
            m.batch("rejected");
        }
        Err(Error::BadRequest { field, .. }) => {
            m.rejected_field(field);
            m.batch("rejected");
        }
        Err(Error::Limit(_)) => m.batch("limited"),
        Err(_) => m.batch("failed"),
    }
}

/// Counts one answer of a publish stream.
fn count_streamed(m: &crate::operator::Metrics, answer: &Result<api::publish_stream_response::Result>) {
    use api::publish_stream_response::Result as R;
    match answer {
        Ok(R::Accepted(r)) => count_accepted(m, r),
        Ok(R::Rejected(r)) => {
            r.violations.iter().for_each(|v| m.rejected_field(&v.field));
            m.batch("rejected");
        }
        Err(Error::Limit(_)) => m.batch("limited"),
        Err(_) => m.batch("failed"),
    }
}

/// Most validated batches of one stream committed by one append.
const MAX_MERGE: usize = 16;
/// Batches of one stream being validated ahead of the one being committed.
const PIPELINE: usize = 8;

/// Appends consecutive valid batches of one stream as one append (one place in the log, one
/// flush), and splits the acknowledgements back. If the merged append is refused for one batch's
/// sake (a conflict, an oversized event), the batches are appended one by one, so that each gets
/// its own answer and a batch is still all or nothing.
/// Returns one result per batch, in order; the first error ends the list.
async fn commit_in_order(log: &Arc<dyn Publisher>, group: Vec<Vec<Record>>) -> Vec<Result<api::PublishResponse>> {
    let ids: Vec<Vec<EventId>> = group.iter().map(|b| b.iter().map(|r| r.id).collect()).collect();
    if group.len() > 1 {
        let all: Vec<Record> = group.iter().flatten().cloned().collect();
        match log.publish(all).await {
            Ok(acks) => {
                let mut acks = acks.into_iter();
                return ids.iter().map(|ids| Ok(response(ids, acks.by_ref().take(ids.len()).collect()))).collect();
            }
            // Refusals that belong to one batch: answer each batch on its own.
            Err(
                beaconport_log::Error::Conflict { .. }
                | beaconport_log::Error::ConflictInTopic { .. }
                | beaconport_log::Error::ConflictInBatch { .. }
                | beaconport_log::Error::TooLarge { .. },
            ) => {}
            Err(e) => return vec![Err(e.into())],
        }
    }
    let mut out = Vec::with_capacity(group.len());
    for (batch, ids) in group.into_iter().zip(&ids) {
        match log.publish(batch).await {
            Ok(acks) => out.push(Ok(response(ids, acks))),
            Err(e) => {
                out.push(Err(e.into()));
                break;
            }
        }
    }
    out
}

/// A correction or retraction in a batch from a force system: the event it names, which must be
/// one of that force's own case events.
struct Target {
    index: usize,
    event_id: EventId,
    field: &'static str,
    target: EventId,
}

/// Events decoded and checked between two yields of [`decode`]: about a millisecond of work on
/// this project's machines, so a batch of up to 512 events is decoded in one step and the
/// largest (10,000) yields 19 times.
const DECODE_STEP: usize = 512;

/// Decodes and checks a batch on the task that received it, yielding to the runtime's other
/// tasks every [`DECODE_STEP`] events, so that no batch holds a worker for longer than about a
/// millisecond.
///
/// Not on the blocking pool: handing a batch to a pool thread and back costs two wake-ups, and on
/// a busy machine each waited for the CPU (0.5 and 0.4 ms for a batch of 500, measured, against
/// about 1.1 ms of decoding) on every batch's way to its acknowledgement. Steps of 128 events
/// (three yields a batch of 500) lost most of that gain again.
async fn decode(raw: &[Bytes]) -> Result<Vec<Checked>> {
    let ctx = Context { now: chrono::Utc::now() };
    let mut batch = WireBatch::new(raw.len());
    for (step, chunk) in raw.chunks(DECODE_STEP).enumerate() {
        if step > 0 {
            tokio::task::yield_now().await;
        }
        for bytes in chunk {
            // Of each event only what the checks below need is kept; the decoded event goes at once.
            batch.push(bytes, &ctx, &mut Checked::of);
        }
    }
    batch.finish().map_err(Error::Rejected)
}

/// The checks of a decoded batch that depend on who publishes it, then its log records.
fn checks(
    checked: Vec<Checked>,
    raw: Vec<Bytes>,
    by_ledger: bool,
    only_force: Option<&str>,
) -> Result<(Vec<Record>, Vec<Target>)> {
    let mut targets = Vec::new();
    if let Some(own) = only_force {
        let foreign: Vec<FieldError> = checked
            .iter()
            .enumerate()
            .filter(|(_, c)| c.force != own)
            .map(|(index, c)| FieldError {
                index,
                event_id: c.id.to_string(),
                field: "force_code".into(),
                reason: if own.is_empty() {
                    format!("{} is not a force this certificate may publish for (it publishes for none)", c.force)
                } else {
                    format!("{} is another force: this certificate publishes only {own}'s events", c.force)
                },
            })
            .collect();
        if !foreign.is_empty() {
            return Err(Error::Rejected(foreign));
        }
        // A force system records its own cases; investigators' acts are theirs to record.
        let mut refused = Vec::new();
        for (index, c) in checked.iter().enumerate() {
            if let Some((field, target)) = c.target {
                targets.push(Target { index, event_id: c.id, field, target });
            }
            for (field, k) in
                [(c.kind.name(), c.kind)].into_iter().chain(c.replacement.map(|k| ("record_corrected.replacement", k)))
            {
                if k.by_investigators() {
                    refused.push(FieldError {
                        index,
                        event_id: c.id.to_string(),
                        field: field.into(),
                        reason: format!(
                            "{}an investigator's act, recorded through ReviewService.RecordReview or QueryService.DecideLink; a force system may not publish it",
                            if field == k.name() { "is ".to_string() } else { format!("is a {}: ", k.name()) }
                        ),
                    });
                }
            }
        }
        if !refused.is_empty() {
            return Err(Error::Rejected(refused));
        }
    }
    if !by_ledger {
        let refused: Vec<FieldError> = checked
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.kind.publishable())
            .map(|(index, c)| FieldError {
                index,
                event_id: c.id.to_string(),
                field: c.kind.name().into(),
                reason: "is written by the ledger itself (a record of its own queries); no force may publish it".into(),
            })
            .collect();
        if !refused.is_empty() {
            return Err(Error::Rejected(refused));
        }
    }
    let records = checked.into_iter().zip(raw).map(|(c, payload)| Record { id: c.id, key: c.key, payload }).collect();
    Ok((records, targets))
}

/// What the ingest checks need of one decoded, valid event.
struct Checked {
    id: EventId,
    force: &'static str,
    /// The event's stream (force and case).
    key: String,
    kind: beaconport_domain::EventKind,
    /// A correction's replacement kind.
    replacement: Option<beaconport_domain::EventKind>,
    /// The event a correction or retraction names, and the field naming it.
    target: Option<(&'static str, EventId)>,
}

impl Checked {
    fn of(d: beaconport_domain::Event) -> Self {
        let (replacement, target) = match &d.body {
            beaconport_domain::Body::RecordCorrected(c) => {
                (Some(c.replacement.kind()), Some(("record_corrected.corrected_event_id", c.corrected_event_id)))
            }
            beaconport_domain::Body::RecordRetracted(r) => {
                (None, Some(("record_retracted.retracted_event_id", r.retracted_event_id)))
            }
            _ => None.unzip(),
        };
        Self {
            id: d.id,
            force: d.force.code,
            key: stream_key(d.force.code, &d.case_ref),
            kind: d.body.kind(),
            replacement,
            target,
        }
    }
}

/// Checks that every correction or retraction a force system sends names one of its own force's
/// events that a force system published (in this batch or stored before), never another force's
/// record nor an investigator's or the ledger's.
async fn check_targets(log: &Arc<dyn Publisher>, own: &str, records: &[Record], targets: Vec<Target>) -> Result<()> {
    let prefix = format!("{own}/");
    let mut refused = Vec::new();
    // A correction or retraction targets an event of its own case (stream key): only there is
    // the target sure to come first in every replica of a partitioned log, whatever the
    // interleaving of cases.
    let other_case = |target: &EventId, key: &str| {
        format!(
            "{target} is an event of another case ({key}): a correction or retraction targets its own case's events"
        )
    };
    // Targets outside the batch are looked up together (a writer to Kafka fetches them from
    // the topic in one pass).
    let in_batch: HashMap<EventId, &Record> = records.iter().map(|r| (r.id, r)).collect();
    let outside: Vec<EventId> = targets.iter().map(|t| t.target).filter(|id| !in_batch.contains_key(id)).collect();
    let looked_up: HashMap<EventId, Option<beaconport_log::StoredEvent>> = if outside.is_empty() {
        HashMap::new()
    } else {
        let found = log.stored_many(&outside).await?;
        if found.len() != outside.len() {
            // A backend that answered for fewer ids would leave targets unchecked.
            return Err(Error::Log(beaconport_log::Error::Storage(format!(
                "looking up {} targets gave {} answers",
                outside.len(),
                found.len()
            ))));
        }
        outside.iter().copied().zip(found).collect()
    };
    for t in targets {
        let own_key = records.get(t.index).map(|r| r.key.as_str()).unwrap_or_default();
        let reason = if let Some(r) = in_batch.get(&t.target) {
            if !r.key.starts_with(&prefix) {
                Some(format!("{} is another force's event", t.target))
            } else {
                (r.key != own_key).then(|| other_case(&t.target, &r.key))
            }
        } else {
            match looked_up.get(&t.target).and_then(Option::as_ref) {
                None => None,
                Some(entry) if !entry.key.starts_with(&prefix) => {
                    Some(format!("{} is another force's event: a force corrects only its own records", t.target))
                }
                Some(entry) if entry.key != own_key => Some(other_case(&t.target, &entry.key)),
                Some(entry) => match beaconport_proto::decode_stored_bytes(&entry.payload) {
                    Ok(e) if e.body.kind().by_investigators() || !e.body.kind().publishable() => Some(format!(
                        "{} is a {} recorded by investigators or the ledger: a force system may not correct it",
                        t.target,
                        e.body.kind().name()
                    )),
                    Ok(_) => None,
                    Err(why) => Some(format!("{} cannot be read back ({why})", t.target)),
                },
            }
        };
        if let Some(reason) = reason {
            refused.push(FieldError {
                index: t.index,
                event_id: t.event_id.to_string(),
                field: t.field.into(),
                reason,
            });
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Error::Rejected(refused))
    }
}

fn rejection(errors: &[FieldError]) -> api::Rejection {
    api::Rejection {
        violations: errors
            .iter()
            .map(|f| api::FieldViolation {
                index: f.index as u32,
                event_id: f.event_id.clone(),
                field: f.field.clone(),
                reason: f.reason.clone(),
            })
            .collect(),
    }
}

type PublishStream = Pin<Box<dyn Stream<Item = Result<api::PublishStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl api::ingest_service_server::IngestService for Ingest {
    async fn publish(&self, request: Request<api::PublishRequest>) -> Result<Response<api::PublishResponse>, Status> {
        let started = std::time::Instant::now();
        let only_force = self.only_force(&request);
        let events = request.into_inner().events;
        let result = self.append(events, false, only_force).await;
        if let Some(m) = self.metrics() {
            count(m, &result, started);
        }
        match result {
            Ok(r) => Ok(Response::new(r)),
            Err(e) => {
                if let Error::Rejected(errors) = &e {
                    info!(n_errors = errors.len(), "batch rejected");
                }
                Err(status(&e))
            }
        }
    }

    type PublishStreamStream = PublishStream;

    /// Batches of one stream are validated ahead (up to `PIPELINE` at once) and committed in
    /// stream order; batches that are ready together share one append and one flush. A rejected
    /// batch is answered in-band and the stream goes on; a conflict or storage failure ends the
    /// stream with its status, after answering the batches committed before it.
    async fn publish_stream(
        &self,
        request: Request<Streaming<api::PublishRequest>>,
    ) -> Result<Response<Self::PublishStreamStream>, Status> {
        let only_force = self.only_force(&request);
        let mut incoming = request.into_inner();
        let (tx, rx) = mpsc::channel(PIPELINE * 2);
        let (vtx, mut vrx) = mpsc::channel::<tokio::task::JoinHandle<Result<Vec<Record>>>>(PIPELINE);
        let reader_tx = tx.clone();
        let (max_batch, max_message_bytes) = (self.max_batch, self.max_message_bytes);
        let prepare_log = self.log.clone();
        tokio::spawn(async move {
            while let Some(req) = incoming.next().await {
                match req {
                    Ok(r) => {
                        let prepared =
                            Ingest::prepare(prepare_log.clone(), r.events, false, only_force.clone(), max_batch);
                        if vtx.send(tokio::spawn(prepared)).await.is_err() {
                            return;
                        }
                    }
                    Err(s) => {
                        let _ = reader_tx.send(Err(crate::authorise::in_callers_terms(s, max_message_bytes))).await;
                        return;
                    }
                }
            }
        });
        let log = self.log.clone();
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let mut sequence = 0u64;
            let mut carried: Option<tokio::task::JoinHandle<Result<Vec<Record>>>> = None;
            let join = |h: tokio::task::JoinHandle<Result<Vec<Record>>>| async move {
                h.await.map_err(|e| Error::Transport(format!("validation task: {e}")))?
            };
            loop {
                let first = match carried.take() {
                    Some(h) => h,
                    None => match vrx.recv().await {
                        Some(h) => h,
                        None => return,
                    },
                };
                // This batch, and the ones behind it that are already validated.
                let mut ready = vec![join(first).await];
                while ready.len() < MAX_MERGE {
                    match vrx.try_recv() {
                        Ok(h) if h.is_finished() => ready.push(join(h).await),
                        Ok(h) => {
                            carried = Some(h);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let mut group: Vec<Vec<Record>> = Vec::new();
                let mut answers: Vec<Result<api::publish_stream_response::Result>> = Vec::new();
                let mut stop = false;
                for r in ready.into_iter().map(Some).chain([None]) {
                    match r {
                        Some(Ok(records)) => {
                            group.push(records);
                            continue;
                        }
                        Some(Err(Error::Rejected(errors))) => {
                            flush_group(&log, &mut group, &mut answers, &mut stop).await;
                            info!(n_errors = errors.len(), "batch rejected");
                            answers.push(Ok(api::publish_stream_response::Result::Rejected(rejection(&errors))));
                        }
                        Some(Err(Error::BadRequest { field, reason })) => {
                            flush_group(&log, &mut group, &mut answers, &mut stop).await;
                            answers.push(Ok(api::publish_stream_response::Result::Rejected(api::Rejection {
                                violations: vec![api::FieldViolation {
                                    index: 0,
                                    event_id: String::new(),
                                    field,
                                    reason,
                                }],
                            })));
                        }
                        Some(Err(e)) => {
                            flush_group(&log, &mut group, &mut answers, &mut stop).await;
                            answers.push(Err(e));
                        }
                        None => flush_group(&log, &mut group, &mut answers, &mut stop).await,
                    }
                    if stop {
                        break;
                    }
                }
                for a in answers {
                    if let Some(m) = &metrics {
                        count_streamed(m, &a);
                    }
                    let item = match a {
                        Ok(result) => Ok(api::PublishStreamResponse { sequence, result: Some(result) }),
                        Err(e) => {
                            let _ = tx.send(Err(status(&e))).await;
                            return;
                        }
                    };
                    if tx.send(item).await.is_err() {
                        return;
                    }
                    sequence += 1;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Commits the group of valid batches waiting before a rejected one (or the end), and records
/// their answers; sets `stop` if committing failed.
async fn flush_group(
    log: &Arc<dyn Publisher>,
    group: &mut Vec<Vec<Record>>,
    answers: &mut Vec<Result<api::publish_stream_response::Result>>,
    stop: &mut bool,
) {
    if group.is_empty() || *stop {
        return;
    }
    for r in commit_in_order(log, std::mem::take(group)).await {
        match r {
            Ok(acks) => answers.push(Ok(api::publish_stream_response::Result::Accepted(acks))),
            Err(e) => {
                answers.push(Err(e));
                *stop = true;
            }
        }
    }
}
